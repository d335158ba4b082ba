//! Splitting a text into a thread (`split`), with the invariants of the property tests in
//! `src/plan/text.rs` checked through the public API only:
//!
//! - at least one part; one part is the whole text (then the note after a blank line);
//! - every part is within `max` (`status_length`), whenever `max >= min_limit(note)`;
//! - otherwise parts are `chunk (i/n)` in order, the note on the first; the chunks, trimmed and
//!   non-empty, give back the trimmed text with only whitespace (or nothing) between them;
//! - a word that is one link, and any word that fits a part with the widest marker and the
//!   note, lies inside one chunk (no link or word split).
//!
//! Whether a word is one link is told by counting it with two link weights: a word made of a
//! single link counts exactly the weight, whatever it is.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use migrate::plan::text::{CHARS_PER_URL, min_limit, split, status_length};

const NOTES: [&str; 3] = [
    "Originally posted on Twitter on 2021-03-04.",
    "Originally posted on Twitter on 2021-03-04: https://twitter.com/someone/status/1234567890123456789",
    "(1/2) trailing note with a marker-like start",
];

#[derive(Debug, Arbitrary)]
struct Input {
    text: String,
    note: u8,
    extra: u16,
    per_url: bool,
}

/// A part without its marker and (on the first part) the note: `(chunk, index, total)`.
fn strip<'a>(part: &'a str, note: Option<&str>, first: bool) -> (&'a str, usize, usize) {
    let body = match note {
        Some(n) if first => part
            .strip_suffix(&format!("\n\n{n}"))
            .unwrap_or_else(|| panic!("the first part lacks the note: {part:?}")),
        _ => part,
    };
    let body = body
        .strip_suffix(')')
        .unwrap_or_else(|| panic!("no marker: {part:?}"));
    let open = body
        .rfind(" (")
        .unwrap_or_else(|| panic!("no marker: {part:?}"));
    let (i, n) = body[open + 2..]
        .split_once('/')
        .unwrap_or_else(|| panic!("no marker: {part:?}"));
    (
        &body[..open],
        i.parse().expect("a part number"),
        n.parse().expect("a part count"),
    )
}

/// Byte spans of the whitespace-separated words of `text`.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

fuzz_target!(|input: Input| {
    let per_url = if input.per_url { CHARS_PER_URL } else { 31 };
    let note = match input.note % 4 {
        0 => None,
        n => Some(NOTES[usize::from(n) - 1]),
    };
    let floor = min_limit(note, per_url);
    let max = floor + usize::from(input.extra % 1000);
    let text = input.text.as_str();
    let parts = split(text, note, max, per_url);
    assert!(!parts.is_empty());
    for p in &parts {
        let n = status_length(p, per_url);
        assert!(n <= max, "a part of {n} over {max}: {p:?}");
    }
    let trimmed = text.trim();
    if parts.len() == 1 {
        let whole = match note {
            None => trimmed.to_owned(),
            Some(n) if trimmed.is_empty() => n.to_owned(),
            Some(n) => format!("{trimmed}\n\n{n}"),
        };
        assert_eq!(parts[0], whole);
        return;
    }
    let mut ranges = Vec::new();
    let mut at = 0;
    for (k, p) in parts.iter().enumerate() {
        let (chunk, i, n) = strip(p, note, k == 0);
        assert_eq!((i, n), (k + 1, parts.len()), "{p:?}");
        assert!(!chunk.is_empty() && chunk.trim() == chunk, "{chunk:?}");
        assert!(
            trimmed[at..].starts_with(chunk),
            "part {i} is not what follows: {chunk:?}"
        );
        ranges.push((at, at + chunk.len()));
        at += chunk.len();
        at += trimmed[at..].len() - trimmed[at..].trim_start().len();
    }
    assert_eq!(at, trimmed.len(), "text lost after the last part");

    let overhead = floor - per_url;
    let within_one = |s: usize, e: usize| ranges.iter().any(|&(a, b)| a <= s && e <= b);
    for (s, e) in words(trimmed) {
        let word = &trimmed[s..e];
        let one_link = status_length(word, per_url) == per_url
            && status_length(word, per_url + 7) == per_url + 7;
        if one_link {
            assert!(within_one(s, e), "a link was cut: {word:?}");
        }
        if status_length(word, per_url) + overhead <= max {
            assert!(within_one(s, e), "a word that fits was cut: {word:?}");
        }
    }
});
