//! `manifest.js`: the `window.__THAR_CONFIG = { … }` object read with [`YtdReader::read_object`]
//! and decoded as a [`Manifest`], as `Archive::open` reads it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use migrate::source::twitter::Manifest;
use migrate::source::twitter::ytd::{Shape, YtdReader};

fuzz_target!(|data: &[u8]| {
    let Ok((mut ytd, shape)) = YtdReader::open(data) else {
        return;
    };
    if shape != Shape::Object {
        return;
    }
    let Ok((at, bytes)) = ytd.read_object() else {
        return;
    };
    match YtdReader::<&[u8]>::decode::<Manifest>(at, bytes) {
        Ok(manifest) => {
            // What `Archive::open` then looks at.
            for t in manifest.data_types.values() {
                for f in &t.files {
                    let _ = f.file_name.strip_prefix("data/");
                    let _ = f.count.map(|c| c.0);
                }
            }
        }
        Err(e) => {
            // Positions are 1-based and never before the object's start.
            assert!(e.at.line >= at.line && e.at.column >= 1, "{e:?} at {at:?}");
        }
    }
});
