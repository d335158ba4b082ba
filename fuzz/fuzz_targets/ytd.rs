//! The `window.YTD` prefix and the streaming element splitter ([`YtdReader`]), with every
//! element decoded as a tweet, a note, an account and a relation, as the archive reader does.
//!
//! Besides not panicking: the splitter must hand out the same elements and the same error
//! whatever the size of its input buffer (the first byte picks a capacity from 1 to 64 bytes,
//! compared with the whole input in one buffer), since a zip entry arrives in arbitrary chunks.

#![no_main]

use std::io::BufReader;

use libfuzzer_sys::fuzz_target;
use migrate::plan::text::{TextOptions, note_text, tweet_text};
use migrate::source::twitter::model::{AccountEntry, NoteEntry, TweetEntry};
use migrate::source::twitter::ytd::{Shape, YtdReader};

/// Everything the reader says about one input: the shape, each element with its position, and
/// the error that ended it, as text.
type Split = (Option<Shape>, Vec<(String, Vec<u8>)>, Option<String>);

fn split(reader: impl std::io::BufRead) -> Split {
    let (mut ytd, shape) = match YtdReader::open(reader) {
        Ok(x) => x,
        Err(e) => return (None, Vec::new(), Some(e.to_string())),
    };
    let mut elements = Vec::new();
    let end = match shape {
        Shape::Object => match ytd.read_object() {
            Ok((at, bytes)) => {
                elements.push((at.to_string(), bytes.to_vec()));
                None
            }
            Err(e) => Some(e.to_string()),
        },
        Shape::Array => loop {
            match ytd.next_element() {
                Ok(Some((at, bytes))) => elements.push((at.to_string(), bytes.to_vec())),
                Ok(None) => break None,
                Err(e) => break Some(e.to_string()),
            }
        },
    };
    (Some(shape), elements, end)
}

fuzz_target!(|data: &[u8]| {
    let Some((&cap, input)) = data.split_first() else {
        return;
    };
    let whole = split(input);
    let chunked = split(BufReader::with_capacity(usize::from(cap % 64) + 1, input));
    assert_eq!(whole, chunked, "the buffer size changed what was read");

    let opts = TextOptions::default();
    for (_, bytes) in &whole.1 {
        let at = migrate::source::twitter::ytd::Position { line: 1, column: 1 };
        if let Ok(TweetEntry(tweet)) = YtdReader::<&[u8]>::decode::<TweetEntry>(at, bytes) {
            let _ = tweet_text(&tweet, &opts);
            let _ = migrate::source::twitter::classify(&tweet, None);
        }
        if let Ok(NoteEntry { note }) = YtdReader::<&[u8]>::decode::<NoteEntry>(at, bytes) {
            let _ = note_text(&note.core, &opts);
            let _ = migrate::source::twitter::parse_created_at(&note.created_at);
        }
        let _ = YtdReader::<&[u8]>::decode::<AccountEntry>(at, bytes);
        let _ = YtdReader::<&[u8]>::decode::<serde_json::Map<String, serde_json::Value>>(at, bytes);
    }
});
