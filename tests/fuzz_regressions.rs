//! Every input with which a fuzz target of `fuzz/` (issue 7) found a bug, run through the same
//! public function as the target, asserting a clean result or a clean error. Inputs too odd to
//! inline are in `fixtures/hostile/fuzz/`, named after the target and the bug.

use std::io::{BufRead, BufReader};
use std::path::Path;

use migrate::plan::text::{
    CHARS_PER_URL, MentionStyle, TextOptions, min_limit, note_text, split, status_length,
    tweet_text,
};
use migrate::source::handle::{Domain, DomainError, Handle};
use migrate::source::mastodon_csv::{CsvError, Entry, ListKind, ReadOptions, read, write_csv};
use migrate::source::twitter::Manifest;
use migrate::source::twitter::model::{NoteEntry, TweetEntry};
use migrate::source::twitter::ytd::{Position, Shape, YtdReader};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/hostile/fuzz")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the `ytd` target compares: the shape, the elements and the error, as text.
type Split = (Option<Shape>, Vec<Vec<u8>>, Option<String>);

fn split_ytd(reader: impl BufRead) -> Split {
    let (mut ytd, shape) = match YtdReader::open(reader) {
        Ok(x) => x,
        Err(e) => return (None, Vec::new(), Some(e.to_string())),
    };
    let mut elements = Vec::new();
    loop {
        match ytd.next_element() {
            Ok(Some((_, bytes))) => elements.push(bytes.to_vec()),
            Ok(None) => return (Some(shape), elements, None),
            Err(e) => return (Some(shape), elements, Some(e.to_string())),
        }
    }
}

/// `ytd`: a UTF-8 byte-order mark read through a one-byte buffer was not recognised, and the
/// file was refused as "not a Twitter archive data file" (a zip entry may be inflated in reads
/// of any size).
#[test]
fn ytd_bom_split_across_reads() {
    let data = fixture("ytd-bom-split-across-reads.js");
    let (&capacity, input) = data.split_first().expect("a selector byte");
    assert!(
        input.starts_with(b"\xEF\xBB\xBF"),
        "the input starts with a BOM"
    );
    let whole = split_ytd(input);
    let chunked = split_ytd(BufReader::with_capacity(
        usize::from(capacity % 64) + 1,
        input,
    ));
    assert_eq!(whole.0, Some(Shape::Array), "{:?}", whole.2);
    assert_eq!(whole, chunked, "the buffer size changed what was read");
}

/// `manifest`: a raw line break inside a string was reported at "column 0" of the next line;
/// positions are 1-based, and the break is the last character of its own line.
#[test]
fn manifest_newline_in_string() {
    let data = fixture("manifest-newline-in-string.js");
    let (mut ytd, shape) = YtdReader::open(&data[..]).expect("the prefix reads");
    assert_eq!(shape, Shape::Object);
    let (at, bytes) = ytd.read_object().expect("the object is closed");
    let err = YtdReader::<&[u8]>::decode::<Manifest>(at, bytes).expect_err("malformed");
    assert!(err.syntax, "{}", err.message);
    assert!(err.at.column >= 1, "column 0: {:?}", err.at);
    // The position is the raw line break itself: the end of its line in the file.
    let text = String::from_utf8_lossy(&data);
    let line = text
        .split('\n')
        .nth(err.at.line as usize - 1)
        .expect("the line exists");
    assert_eq!(
        err.at,
        Position {
            line: err.at.line,
            column: line.chars().count() as u64 + 1
        },
        "{}",
        err.message
    );
}

/// `mastodon_csv`: a quote left open at the end of a file swallowed the rows after it into one
/// cell, silently, and the row came out at line 0. It is a file error naming the quote's line.
#[test]
fn mastodon_csv_quote_open_at_the_end() {
    let data = fixture("csv-row-error-line-zero.bin");
    // The target's first byte picks the options; 0 is "detect everything".
    assert_eq!(data[0], 0);
    let error = read(&data[1..], &ReadOptions::default()).expect_err("an unclosed quote");
    assert!(
        matches!(error, CsvError::UnclosedQuote { line: 1 }),
        "{error:?}"
    );
    assert!(error.hint().is_some());
}

/// `text_split`: a link glued to CJK text (`https://example.coo文章でし。`) has a non-ASCII
/// top-level label, and checking it for `xn--` sliced inside a character: a panic counting or
/// splitting any tweet like it.
#[test]
fn text_split_link_glued_to_cjk() {
    let sentence = "The quick brown fox jumps over the lazy dog near the river bank today. \
                    See https://example.com/a/very/long/path and 日本語の文章でし。 ";
    let text = format!(
        "{}See https://example.coo文章でし。 and https://例え.テスト です",
        sentence.repeat(12)
    );
    let note = Some("Originally posted on Twitter on 2021-03-04.");
    // Not a link Mastodon would make (its last label is not ASCII): one per character.
    assert_eq!(
        status_length("https://example.coo文章でし。", CHARS_PER_URL),
        24
    );
    let max = min_limit(note, CHARS_PER_URL) + 300;
    let parts = split(&text, note, max, CHARS_PER_URL);
    assert!(parts.len() > 1);
    for p in &parts {
        assert!(status_length(p, CHARS_PER_URL) <= max, "{p}");
    }
    assert!(parts.last().unwrap().contains("https://例え.テスト です"));
}

/// `tweet_text`: with profile links, a mapped mention followed by `.` and another mention was
/// judged by the dot alone, and the link written after the dot lengthened its domain:
/// `@real@fedi.example.https://twitter.com/a_b` mentions `real@fedi.example.https`.
#[test]
fn tweet_text_mapped_mention_before_a_dot_and_a_mention() {
    let raw = "@@@Mapped.@a_b https://t.co/LiNk000002 @averyveryverylongname";
    let opts = TextOptions {
        mention_style: MentionStyle::ProfileLink,
        mention_map: [(
            "mapped".to_owned(),
            Handle::parse("real@fedi.example").expect("a handle"),
        )]
        .into_iter()
        .collect(),
        ..TextOptions::default()
    };
    let tweet = serde_json::json!({ "tweet": {
        "id_str": "1500000000000000001",
        "created_at": "Thu Mar 04 10:00:00 +0000 2021",
        "full_text": raw,
        "entities": { "urls": [{ "url": "https://t.co/LiNk000002",
            "expanded_url": "https://blog.example/p/1", "indices": ["0", "2"] }] },
    }})
    .to_string();
    let TweetEntry(tweet) = serde_json::from_str(&tweet).expect("a tweet");
    let note = serde_json::json!({ "noteTweet": {
        "noteTweetId": "1500000000000000002",
        "createdAt": "2021-03-04T10:00:00.000Z",
        "core": { "text": raw, "urls": [] },
    }})
    .to_string();
    let NoteEntry { note } = serde_json::from_str(&note).expect("a note");
    for out in [tweet_text(&tweet, &opts), note_text(&note.core, &opts)] {
        // Whatever is written for `@Mapped`, nothing glued after it may extend its domain.
        assert!(
            !out.text.contains("fedi.example.h") && !out.text.contains("fedi.example.＠"),
            "{:?}",
            out.text
        );
        assert!(
            out.text.contains("https://twitter.com/a_b"),
            "{:?}",
            out.text
        );
    }
}

/// `mastodon_csv`: a list title that began with a byte-order mark (one in the middle of the
/// file) kept it, so that written back and read again the title changed: `\u{feff}Account
/// asddres` became `Account asddres`, another list for Mastodon.
#[test]
fn mastodon_csv_list_title_with_a_bom() {
    let data = fixture("csv-list-title-bom.bin");
    // The target's first byte, 33: read as lists, named `export/lists.csv`.
    assert_eq!(data[0], 33);
    let options = ReadOptions {
        kind: Some(ListKind::Lists),
        file_name: Some("export/lists.csv"),
    };
    let file = read(&data[1..], &options).expect("readable");
    assert!(!file.rows.is_empty());
    for row in &file.rows {
        let Entry::ListMember(m) = &row.entry else {
            panic!("{row:?}");
        };
        assert!(!m.list.contains('\u{feff}'), "{:?}", m.list);
    }
    let mut written = Vec::new();
    write_csv(ListKind::Lists, &file.rows, &mut written).expect("written");
    let back = read(
        &written[..],
        &ReadOptions {
            kind: Some(ListKind::Lists),
            file_name: None,
        },
    )
    .expect("read back");
    let before: Vec<_> = file.rows.iter().map(|r| &r.entry).collect();
    let after: Vec<_> = back.rows.iter().map(|r| &r.entry).collect();
    assert_eq!(before, after);
}

/// `mastodon_csv`: `xn--xn--xn--81e.com` was accepted as a blocked domain, and its Unicode form,
/// which the written CSV holds (as Mastodon's exports do), did not read back. It is refused.
#[test]
fn mastodon_csv_domain_whose_unicode_form_does_not_read_back() {
    let data = fixture("csv-domain-punycode-round-trip.bin");
    assert_eq!(data[0], 0);
    let file = read(&data[1..], &ReadOptions::default()).expect("readable");
    assert_eq!(file.kind, ListKind::DomainBlocks);
    assert!(
        file.errors
            .iter()
            .any(|e| e.text.contains("xn--xn--xn--81e")),
        "{:?}",
        file.errors
    );
    let mut written = Vec::new();
    write_csv(file.kind, &file.rows, &mut written).expect("written");
    let back = read(
        &written[..],
        &ReadOptions {
            kind: Some(file.kind),
            file_name: None,
        },
    )
    .expect("read back");
    assert!(back.errors.is_empty(), "{:?}", back.errors);
    let before: Vec<_> = file.rows.iter().map(|r| &r.entry).collect();
    let after: Vec<_> = back.rows.iter().map(|r| &r.entry).collect();
    assert_eq!(before, after);
}

/// `mastodon_csv` (its handle check): `3212\u{feff}987654` passed as a domain, the BOM hiding a
/// number until UTS 46 dropped it; its display form, `3212987654`, was then refused as an IP
/// address. Every line of the input that parses must parse again from its display form.
#[test]
fn handle_check_hidden_ip_address() {
    let data = fixture("handle-hidden-ip-address.bin");
    let text = String::from_utf8(data[1..].to_vec()).expect("UTF-8");
    assert!(text.contains("3212\u{feff}987654"));
    assert!(matches!(
        Domain::parse("3212\u{feff}987654"),
        Err(DomainError::IpAddress { .. })
    ));
    for line in text.lines() {
        if let Ok(d) = Domain::parse(line) {
            assert_eq!(Domain::parse(d.as_str()).as_ref(), Ok(&d), "{line:?}");
        }
        if let Ok(h) = Handle::parse(line) {
            assert_eq!(Handle::parse(&h.to_string()).as_ref(), Ok(&h), "{line:?}");
        }
    }
}

#[test]
fn webfinger_subject_whose_host_ends_in_a_hex_number() {
    // The `webfinger` target: a subject host `lemmy.0X0e1…` passed `Domain::parse`, but a URL
    // reads a host whose last label is `0x…` as an IPv4 address (and refuses this one). Such a
    // host is no domain: the subject is refused, and `127.0x1` is refused as the address it is.
    let input = fixture("webfinger-hex-last-label.bin");
    let body = &input[..input.iter().position(|&b| b == 0).unwrap_or(input.len())];
    let text = String::from_utf8_lossy(body);
    assert_eq!(migrate::net::webfinger::parse_subject(&text), None);
    assert_eq!(
        migrate::net::webfinger::parse_subject("acct:lem@lemmy.0X0e184467440737051630c"),
        None
    );
    assert!(matches!(
        Domain::parse("127.0x1"),
        Err(DomainError::IpAddress { .. })
    ));
    assert_eq!(
        migrate::net::webfinger::parse_subject("acct:lem@lemmy.example"),
        Some(("lem".into(), "lemmy.example".into()))
    );
}
