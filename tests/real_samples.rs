//! `migrate inspect --json` on the real Twitter/X archives kept in `../shared/samples/twitter/`.
//!
//! The samples are real people's data, so nothing of their content lives in this project: the
//! test reads them from the shared folder at run time (and skips when it is absent), builds the
//! archive in a temporary directory (as a zip with `data/` at its root and as an extracted
//! folder, both with placeholder media files made from the set's `MEDIA_LISTING.tsv`), runs the
//! real binary, and compares its figures with figures computed independently of the reader.
//!
//! The expected counts and instants below come from `tests/support/sample_oracle.py`
//! (run `python3 tests/support/sample_oracle.py`; `--verbose` lists the tweet ids behind each
//! figure). Account id, username, display name and `generated_at` are not copied here: the test
//! reads them from the sample's `account.js` and `manifest.js` at run time.
//!
//! Definitions (also implemented by the oracle):
//! - `tweets.total`: entries of tweets.js/tweet.js (+ part files) and community-tweet.js, minus
//!   edited versions (an entry whose id is not the last of its `editTweetIds`, from
//!   `edit_info.initial` or `edit_info.edit.editControlInitial`) and minus ids listed in
//!   deleted-tweets.js. `edited_versions_dropped` counts the former; `deleted_excluded` is the
//!   number of distinct ids in deleted-tweets.js.
//! - classes partition the total: `retweets` (`full_text` starts with `RT @`), `self_replies`
//!   (`in_reply_to_user_id` is the account id), `replies` (in reply to another user id),
//!   `original` (the rest).
//! - `quotes`: tweets with an `entities.urls[].expanded_url` that is a twitter.com/x.com status URL.
//! - `long`: tweets joined to a note of note-tweet.js by the FORMATS.md §1.6 rule.
//! - `community`: tweets from community-tweet.js.
//! - `threads`: connected groups of two or more kept tweets linked by self-replies whose parent
//!   is kept; `count` and `longest` (size of the largest group).
//! - `media`: `extended_entities.media` items of kept tweets by type; `missing` = expected file
//!   (FORMATS.md §1.8) not present in the archive.
//! - `dates`: first and last `created_at` of kept tweets, compared as instants.
//! - `graph`: entries of following.js, follower.js, block.js, mute.js (absent file = 0).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/samples/twitter");

/// Expected figures of one full sample set.
struct Expected {
    set: &'static str,
    /// `(JSON pointer into the inspect output, expected count)`.
    counts: &'static [(&'static str, u64)],
    first: &'static str,
    last: &'static str,
}

// Figures computed by tests/support/sample_oracle.py from the sample files.
const MILAHU: Expected = Expected {
    set: "x-archive-2026-03_milahu104",
    counts: &[
        ("/tweets/total", 108),
        ("/tweets/original", 1),
        ("/tweets/self_replies", 13),
        ("/tweets/replies", 60),
        ("/tweets/retweets", 34),
        ("/tweets/quotes", 3),
        ("/tweets/long", 0),
        ("/tweets/edited_versions_dropped", 0),
        ("/tweets/deleted_excluded", 10),
        ("/tweets/community", 3),
        ("/threads/count", 5),
        ("/threads/longest", 5),
        ("/media/photo", 19),
        ("/media/video", 3),
        ("/media/animated_gif", 1),
        ("/media/missing", 0),
        ("/graph/following", 167),
        ("/graph/followers", 61),
        ("/graph/blocks", 40),
        ("/graph/mutes", 2),
    ],
    first: "2025-10-07T06:11:18Z",
    last: "2026-03-06T13:02:05Z",
};

// Figures computed by tests/support/sample_oracle.py from the sample files.
const ALROCAR: Expected = Expected {
    set: "x-archive-2024-11_alrocar",
    counts: &[
        ("/tweets/total", 82),
        ("/tweets/original", 31),
        ("/tweets/self_replies", 37),
        ("/tweets/replies", 10),
        ("/tweets/retweets", 4),
        ("/tweets/quotes", 5),
        ("/tweets/long", 41),
        ("/tweets/edited_versions_dropped", 5),
        ("/tweets/deleted_excluded", 0),
        ("/tweets/community", 0),
        ("/threads/count", 14),
        ("/threads/longest", 5),
        ("/media/photo", 52),
        ("/media/video", 8),
        ("/media/animated_gif", 6),
        ("/media/missing", 0),
        ("/graph/following", 0),
        ("/graph/followers", 0),
        ("/graph/blocks", 0),
        ("/graph/mutes", 0),
    ],
    first: "2023-10-13T14:58:50Z",
    last: "2024-11-09T12:14:18Z",
};

// Figures computed by tests/support/sample_oracle.py from the sample files.
const LUMENINFERIUS: Expected = Expected {
    set: "gdpr-archive-2020-04_lumeninferius",
    counts: &[
        ("/tweets/total", 22),
        ("/tweets/original", 13),
        ("/tweets/self_replies", 0),
        ("/tweets/replies", 9),
        ("/tweets/retweets", 0),
        ("/tweets/quotes", 0),
        ("/tweets/long", 0),
        ("/tweets/edited_versions_dropped", 0),
        ("/tweets/deleted_excluded", 0),
        ("/tweets/community", 0),
        ("/threads/count", 0),
        ("/threads/longest", 0),
        ("/media/photo", 0),
        ("/media/video", 5),
        ("/media/animated_gif", 8),
        ("/media/missing", 0),
        ("/graph/following", 14),
        ("/graph/followers", 30),
        ("/graph/blocks", 0),
        ("/graph/mutes", 2),
    ],
    first: "2019-09-13T09:04:15Z",
    last: "2020-01-25T18:01:09Z",
};

// Figures computed by tests/support/sample_oracle.py from the sample files.
const TWITTER_TO_SQLITE_GRAPH: &[(&str, u64)] = &[
    ("/graph/following", 2),
    ("/graph/followers", 2),
    ("/graph/blocks", 0),
    ("/graph/mutes", 0),
];

#[test]
fn milahu104_x_archive_2026() {
    check_full_set(&MILAHU);
}

#[test]
fn alrocar_x_archive_2024() {
    check_full_set(&ALROCAR);
}

#[test]
fn lumeninferius_gdpr_archive_2020() {
    check_full_set(&LUMENINFERIUS);
}

#[test]
fn twitter_to_sqlite_fixtures_graph() {
    let Some(samples) = samples_dir() else { return };
    let set_dir = samples.join("twitter-to-sqlite-fixtures");
    let files: Vec<(String, PathBuf)> = ["account.js", "follower.js", "following.js"]
        .iter()
        .map(|name| (format!("data/{name}"), set_dir.join(name)))
        .collect();
    let account = expected_account(&set_dir.join("account.js"));

    let tmp = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    for form in [Form::Zip, Form::Folder] {
        let archive = build_archive(tmp.path(), "twitter-to-sqlite-fixtures", form, &files, &[]);
        let label = format!("twitter-to-sqlite-fixtures ({form:?})");
        let Some(out) = inspect(&archive, &label, &mut failures) else {
            continue;
        };
        check_counts(&out, TWITTER_TO_SQLITE_GRAPH, &label, &mut failures);
        check_strings(&out, &account, &label, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[derive(Clone, Copy, Debug)]
enum Form {
    Zip,
    Folder,
}

/// The shared samples folder, or `None` (after saying so) when this checkout has none.
fn samples_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(SAMPLES);
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: real samples not found at {}", dir.display());
        None
    }
}

fn check_full_set(expected: &Expected) {
    let Some(samples) = samples_dir() else { return };
    let set_dir = samples.join(expected.set);
    let data_dir = set_dir.join("data");

    let mut files = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(&data_dir)
        .expect("read sample data/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name");
        files.push((format!("data/{name}"), path));
    }
    let media = media_listing(&set_dir.join("MEDIA_LISTING.tsv"));

    let account = expected_account(&data_dir.join("account.js"));
    let manifest = load_js(&data_dir.join("manifest.js"));
    let generated = manifest["archiveInfo"]["generationDate"]
        .as_str()
        .expect("manifest generationDate")
        .to_owned();

    let tmp = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    for form in [Form::Zip, Form::Folder] {
        let archive = build_archive(tmp.path(), expected.set, form, &files, &media);
        let label = format!("{} ({form:?})", expected.set);
        let Some(out) = inspect(&archive, &label, &mut failures) else {
            continue;
        };
        check_counts(&out, expected.counts, &label, &mut failures);
        check_strings(&out, &account, &label, &mut failures);
        check_instant(&out, "/generated_at", &generated, &label, &mut failures);
        check_instant(&out, "/dates/first", expected.first, &label, &mut failures);
        check_instant(&out, "/dates/last", expected.last, &label, &mut failures);
        check_problems_shape(&out, &label, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Parse a `window.YTD.<name>.partN = [...]` or `window.__THAR_CONFIG = {...}` file.
fn load_js(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = text.find('=').expect("`=` after the window.* prefix") + 1;
    let body = text[start..].trim().trim_end_matches(';');
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(JSON pointer, expected string)` for the account, read from the sample's account.js.
fn expected_account(path: &Path) -> Vec<(&'static str, String)> {
    let entries = load_js(path);
    let account = &entries[0]["account"];
    let field = |key: &str| {
        account[key]
            .as_str()
            .unwrap_or_else(|| panic!("account.js: no {key}"))
            .to_owned()
    };
    vec![
        ("/account/id", field("accountId")),
        ("/account/username", field("username")),
        ("/account/display_name", field("accountDisplayName")),
    ]
}

/// Archive paths (`data/...`) listed in a set's MEDIA_LISTING.tsv.
fn media_listing(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (_size, media_path) = line.split_once('\t').expect("size<TAB>path");
            assert!(
                media_path.starts_with("data/") && !media_path.contains(".."),
                "unexpected media path in listing"
            );
            media_path.to_owned()
        })
        .collect()
}

const PLACEHOLDER_MEDIA: &[u8] = b"placeholder media (content irrelevant)";

/// Write the archive in `form` under `root`; returns the path to give to `inspect`.
fn build_archive(
    root: &Path,
    set: &str,
    form: Form,
    files: &[(String, PathBuf)],
    media: &[String],
) -> PathBuf {
    match form {
        Form::Folder => {
            let dir = root.join(format!("{set}-folder"));
            for (name, source) in files {
                let target = dir.join(name);
                fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
                fs::copy(source, &target).expect("copy sample file");
            }
            for name in media {
                let target = dir.join(name);
                fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
                fs::write(&target, PLACEHOLDER_MEDIA).expect("write placeholder");
            }
            dir
        }
        Form::Zip => {
            let path = root.join(format!("{set}.zip"));
            let file = fs::File::create(&path).expect("create zip");
            let mut zip = ZipWriter::new(file);
            let options =
                SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            let mut dirs: Vec<String> = files
                .iter()
                .map(|(name, _)| name.as_str())
                .chain(media.iter().map(String::as_str))
                .filter_map(|name| name.rsplit_once('/').map(|(dir, _)| format!("{dir}/")))
                .collect();
            dirs.sort();
            dirs.dedup();
            for dir in dirs {
                zip.add_directory(dir, options).expect("zip dir");
            }
            for (name, source) in files {
                zip.start_file(name.as_str(), options).expect("zip entry");
                zip.write_all(&fs::read(source).expect("read sample file"))
                    .expect("zip write");
            }
            for name in media {
                zip.start_file(name.as_str(), options).expect("zip entry");
                zip.write_all(PLACEHOLDER_MEDIA).expect("zip write");
            }
            zip.finish().expect("finish zip");
            path
        }
    }
}

/// Run `migrate inspect --json <archive>` and parse its output.
fn inspect(archive: &Path, label: &str, failures: &mut Vec<String>) -> Option<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["inspect", "--json"])
        .arg(archive)
        .output()
        .expect("run migrate");
    if !output.status.success() {
        failures.push(format!(
            "{label}: `migrate inspect --json` exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
        return None;
    }
    match serde_json::from_slice(&output.stdout) {
        Ok(value) => Some(value),
        Err(e) => {
            failures.push(format!("{label}: stdout is not JSON: {e}"));
            None
        }
    }
}

fn check_counts(out: &Value, expected: &[(&str, u64)], label: &str, failures: &mut Vec<String>) {
    for &(pointer, want) in expected {
        let got = out.pointer(pointer);
        if got.and_then(Value::as_u64) != Some(want) {
            failures.push(format!("{label}: {pointer}: expected {want}, got {got:?}"));
        }
    }
}

fn check_strings(
    out: &Value,
    expected: &[(&str, String)],
    label: &str,
    failures: &mut Vec<String>,
) {
    for (pointer, want) in expected {
        let got = out.pointer(pointer);
        if got.and_then(Value::as_str) != Some(want.as_str()) {
            failures.push(format!(
                "{label}: {pointer}: expected {want:?}, got {got:?}"
            ));
        }
    }
}

/// Compare an RFC 3339 string printed by the binary with `want` as instants.
fn check_instant(out: &Value, pointer: &str, want: &str, label: &str, failures: &mut Vec<String>) {
    let want_at = parse_instant(want).expect("expected instant is RFC 3339");
    let got = out.pointer(pointer);
    let got_at = got.and_then(Value::as_str).and_then(parse_instant);
    if got_at != Some(want_at) {
        failures.push(format!("{label}: {pointer}: expected {want}, got {got:?}"));
    }
}

fn parse_instant(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

/// `problems` is not pinned to values (the definitions say nothing about them), only to its
/// documented shape: an array of `{file, message}`, `file` possibly null for archive-wide ones.
fn check_problems_shape(out: &Value, label: &str, failures: &mut Vec<String>) {
    let ok = out
        .pointer("/problems")
        .and_then(Value::as_array)
        .is_some_and(|problems| {
            problems
                .iter()
                .all(|p| (p["file"].is_string() || p["file"].is_null()) && p["message"].is_string())
        });
    if !ok {
        failures.push(format!(
            "{label}: /problems is not an array of {{file, message}} strings"
        ));
    }
}
