//! The archive reader on whole zip bytes: `inspect` (container, bomb checks, manifest, account,
//! every tweet file, notes, relations), then `discover` (likes, profile, direct messages, the
//! scan for fediverse addresses) and the text of every tweet.
//!
//! The readers take a path, so each input is written to a file first (in a directory of its
//! own, in `/dev/shm` when it exists, to keep the disk out of the loop).

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use migrate::plan::text::{TextOptions, tweet_text};
use migrate::source::discover::{Options, discover};
use migrate::source::twitter::{Archive, inspect::inspect};

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let dir = DIR.get_or_init(|| {
            if shm.is_dir() {
                tempfile::tempdir_in(shm).expect("tempdir")
            } else {
                tempfile::tempdir().expect("tempdir")
            }
        });
        dir.path().join("input.zip")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(path, data).expect("write the input");
    let _ = inspect(path);
    let Ok(mut archive) = Archive::open(path) else {
        return;
    };
    let _ = discover(&mut archive, &Options { include_dms: true });
    let opts = TextOptions::default();
    for file in archive.tweet_files().to_vec() {
        let _ = archive.for_each_tweet(&file, |tweet| {
            let _ = tweet_text(tweet, &opts);
        });
    }
});
