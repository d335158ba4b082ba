//! Mastodon's CSV exports, read and written (`src/source/mastodon_csv.rs`).
//!
//! Three sources of files:
//! - `fixtures/csv/`: small files written for these tests (see the README there); every count
//!   below is read off the file, with the line numbers in comments;
//! - Mastodon's own spec fixtures (AGPL, in `../shared/samples/mastodon/csv-fixtures_mastodon-spec`),
//!   read in place when that folder is present and never copied;
//! - generated rows: the property test writes random valid rows of each kind and reads them back.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use migrate::source::handle::Handle;
use migrate::source::mastodon_csv::{
    Block, Bookmark, CsvError, CsvFile, CsvReader, DetectedBy, DomainBlock, Entry, Follow,
    ListKind, ListMember, Mute, ReadOptions, RowReason, read, write_csv,
};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/csv")
        .join(name)
}

/// Reads a file the way the CLI will: with its name, for detection.
fn try_read_path(path: &Path, kind: Option<ListKind>) -> Result<CsvFile, CsvError> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_name().and_then(|n| n.to_str());
    read(
        file,
        &ReadOptions {
            kind,
            file_name: name,
        },
    )
}

fn read_fixture(name: &str) -> CsvFile {
    try_read_path(&fixture(name), None).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn handle(text: &str) -> Handle {
    Handle::parse(text).unwrap()
}

fn lines(file: &CsvFile) -> (Vec<u64>, Vec<u64>) {
    (
        file.rows.iter().map(|r| r.line).collect(),
        file.errors.iter().map(|e| e.line).collect(),
    )
}

fn follows(file: &CsvFile) -> Vec<&Follow> {
    file.rows
        .iter()
        .map(|row| match &row.entry {
            Entry::Follow(f) => f,
            other => panic!("not a follow: {other:?}"),
        })
        .collect()
}

fn langs(codes: &[&str]) -> Option<Vec<String>> {
    Some(codes.iter().map(|c| c.to_string()).collect())
}

// ------------------------------------------------------------------------------------------------
// The project's fixtures
// ------------------------------------------------------------------------------------------------

#[test]
fn following_export_with_every_quirk() {
    let file = read_fixture("following_accounts.csv");
    assert_eq!(
        (file.kind, file.detected_by, file.has_header),
        (ListKind::Follows, DetectedBy::Header, true)
    );
    // 1 header, 4 blank, 7 `dave` (no host), 8 `bad_host` (underscore), 10 `english`.
    assert_eq!(lines(&file), (vec![2, 3, 5, 6, 9], vec![7, 8, 10]));
    let f = follows(&file);
    assert_eq!(f[0].handle.to_string(), "alice@example.com");
    assert_eq!(
        (f[0].reblogs, f[0].notify, &f[0].languages),
        (Some(true), Some(false), &None)
    );
    // One leading `@` stripped; the quoted "en, fr" split and trimmed.
    assert_eq!(f[1].handle.to_string(), "bob@example.org");
    assert_eq!((f[1].reblogs, f[1].notify), (Some(false), Some(true)));
    assert_eq!(f[1].languages, langs(&["en", "fr"]));
    // `TRUE` and `0` as Rails casts them.
    assert_eq!((f[2].reblogs, f[2].notify), (Some(true), Some(false)));
    // IDN host kept in Unicode; empty cells are "not stated".
    assert_eq!(f[3].handle.to_string(), "nare@թութ.հայ");
    assert_eq!(
        (f[3].reblogs, f[3].notify, &f[3].languages),
        (None, None, &None)
    );
    // `no` and `off` are false; empty language items dropped, codes lowercased.
    assert_eq!((f[4].reblogs, f[4].notify), (Some(false), Some(false)));
    assert_eq!(f[4].languages, langs(&["en", "pt"]));

    let reasons: Vec<_> = file.errors.iter().map(|e| &e.reason).collect();
    assert!(matches!(
        reasons[0],
        RowReason::Handle(migrate::source::handle::HandleError::NoHost { .. })
    ));
    assert!(matches!(
        reasons[1],
        RowReason::Handle(migrate::source::handle::HandleError::BadDomain(_))
    ));
    assert_eq!(reasons[2], &RowReason::Language("english".into()));
    assert_eq!(file.errors[0].text, "dave,true,false,");
}

#[test]
fn legacy_two_column_following() {
    let file = read_fixture("follows_legacy.csv");
    assert_eq!(
        (file.kind, file.detected_by),
        (ListKind::Follows, DetectedBy::Header)
    );
    assert_eq!(lines(&file), (vec![2, 3], vec![]));
    let f = follows(&file);
    assert_eq!(
        (f[0].reblogs, f[0].notify, &f[0].languages),
        (Some(true), None, &None)
    );
    assert_eq!(f[1].reblogs, Some(false));
}

#[test]
fn unknown_columns_are_ignored_and_known_ones_found_anywhere() {
    let file = read_fixture("follows_extra_columns.csv");
    assert_eq!(file.kind, ListKind::Follows);
    let f = follows(&file);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].reblogs, f[0].notify), (Some(false), None));
    assert_eq!(f[0].languages, langs(&["en", "de"]));
}

#[test]
fn bom_and_crlf() {
    let file = read_fixture("follows_bom_crlf.csv");
    assert!(file.has_header, "the BOM must not hide the header");
    assert_eq!(file.kind, ListKind::Follows);
    // 1 header, 2 alice, 3 blank, 4 bob.
    assert_eq!(lines(&file), (vec![2, 4], vec![]));
    assert_eq!(follows(&file)[1].languages, langs(&["en", "fr"]));
}

#[test]
fn plain_list_of_handles_in_every_form() {
    let file = read_fixture("handles.txt");
    assert_eq!(
        (file.kind, file.detected_by, file.has_header),
        (ListKind::Follows, DetectedBy::Default, false)
    );
    // 3 blank, 8 has spaces, 9 a link with a query.
    assert_eq!(lines(&file), (vec![1, 2, 4, 5, 6, 7], vec![8, 9]));
    let handles: Vec<String> = follows(&file)
        .iter()
        .map(|f| f.handle.to_string())
        .collect();
    assert_eq!(
        handles,
        [
            "alice@example.com",
            "bob@example.org",
            "carol@mastodon.social",
            "dave@mastodon.social",
            "erin@example.com",
            "frank@example.net",
        ]
    );
    // The same file, declared as blocks.
    let file = try_read_path(&fixture("handles.txt"), Some(ListKind::Blocks)).unwrap();
    assert_eq!(
        (file.kind, file.detected_by),
        (ListKind::Blocks, DetectedBy::Override)
    );
    assert_eq!(file.likely_mismatched, None);
    assert!(file.rows.iter().all(|r| matches!(r.entry, Entry::Block(_))));
}

#[test]
fn blocks_are_told_by_the_file_name() {
    let file = read_fixture("blocked_accounts.csv");
    assert_eq!(
        (file.kind, file.detected_by),
        (ListKind::Blocks, DetectedBy::FileName)
    );
    let expected = [
        Entry::Block(Block {
            handle: handle("spammer@spam.example"),
        }),
        Entry::Block(Block {
            handle: handle("troll@example.com"),
        }),
    ];
    let entries: Vec<_> = file.rows.iter().map(|r| r.entry.clone()).collect();
    assert_eq!(entries, expected);
}

#[test]
fn mutes() {
    let file = read_fixture("muted_accounts.csv");
    assert_eq!(
        (file.kind, file.detected_by),
        (ListKind::Mutes, DetectedBy::Header)
    );
    let hide: Vec<_> = file
        .rows
        .iter()
        .map(|r| match &r.entry {
            Entry::Mute(Mute {
                hide_notifications, ..
            }) => *hide_notifications,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(hide, [Some(true), Some(false), None]);
    assert_eq!(lines(&file), (vec![2, 3, 4], vec![]));
}

#[test]
fn domain_blocks() {
    let file = read_fixture("blocked_domains.csv");
    assert_eq!(
        (file.kind, file.detected_by),
        (ListKind::DomainBlocks, DetectedBy::Content)
    );
    // 3 blank, 6 has an underscore.
    assert_eq!(lines(&file), (vec![1, 2, 4, 5], vec![6]));
    let domains: Vec<String> = file
        .rows
        .iter()
        .map(|r| match &r.entry {
            Entry::DomainBlock(DomainBlock { domain }) => domain.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        domains[..3],
        ["spam.example", "bad.example.com", "թութ.հայ"]
    );
    // A punycode domain is shown decoded (here the Cyrillic look-alike of apple.com).
    assert!(!domains[3].is_ascii(), "{}", domains[3]);
}

#[test]
fn bookmarks() {
    let file = read_fixture("bookmarks.csv");
    assert_eq!(
        (file.kind, file.detected_by),
        (ListKind::Bookmarks, DetectedBy::Content)
    );
    assert_eq!(lines(&file), (vec![1, 2, 3], vec![4]));
    let Entry::Bookmark(Bookmark { uri }) = &file.rows[0].entry else {
        panic!()
    };
    assert_eq!(
        uri.as_str(),
        "https://mastodon.social/@Gargron/109876543210987654"
    );
    assert!(matches!(file.errors[0].reason, RowReason::BadUri { .. }));
}

#[test]
fn lists() {
    let file = read_fixture("lists.csv");
    assert_eq!(file.kind, ListKind::Lists);
    // 4 has no account, 5 no list name.
    assert_eq!(lines(&file), (vec![1, 2, 3, 6], vec![4, 5]));
    let members: Vec<(String, String)> = file
        .rows
        .iter()
        .map(|r| match &r.entry {
            Entry::ListMember(ListMember { list, handle }) => (list.clone(), handle.to_string()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        members,
        [
            ("Friends".to_string(), "alice@example.com".to_string()),
            ("Friends".into(), "bob@example.org".into()),
            ("Work, and more".into(), "carol@example.com".into()),
            ("Quote \"this\"".into(), "erin@example.com".into()),
        ]
    );
    assert_eq!(file.errors[0].reason, RowReason::MissingAccount);
    assert_eq!(file.errors[1].reason, RowReason::MissingListName);
}

#[test]
fn unreadable_files() {
    let error = |name: &str| try_read_path(&fixture(name), None).unwrap_err();
    let utf16 = error("utf16le.csv");
    assert!(
        matches!(
            utf16,
            CsvError::Encoding {
                encoding: "UTF-16 (little-endian)"
            }
        ),
        "{utf16:?}"
    );
    assert_eq!(
        utf16.to_string(),
        "the file is in UTF-16 (little-endian), not UTF-8"
    );
    assert!(utf16.hint().unwrap().contains("UTF-8"));
    assert!(matches!(
        error("latin1.csv"),
        CsvError::NotUtf8 {
            line: 2,
            byte: 0xE9
        }
    ));
    assert!(matches!(error("empty.csv"), CsvError::Empty));
}

#[test]
fn an_override_that_contradicts_the_header_is_reported() {
    let file = try_read_path(&fixture("following_accounts.csv"), Some(ListKind::Blocks)).unwrap();
    assert_eq!(file.kind, ListKind::Blocks);
    assert_eq!(file.likely_mismatched, Some(ListKind::Follows));
    let error = try_read_path(&fixture("muted_accounts.csv"), Some(ListKind::Lists)).unwrap_err();
    assert!(matches!(
        error,
        CsvError::IncompatibleHeader {
            kind: ListKind::Lists,
            missing: "List name"
        }
    ));
}

// ------------------------------------------------------------------------------------------------
// Streaming and bounds
// ------------------------------------------------------------------------------------------------

/// An endless-looking input made on the fly: `rows` copies of `row`, then `tail`.
struct Generated {
    row: Vec<u8>,
    rows: usize,
    tail: Vec<u8>,
    at: usize,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let body = self.row.len() * self.rows;
        let total = body + self.tail.len();
        let mut n = 0;
        while n < buf.len() && self.at < total {
            buf[n] = if self.at < body {
                self.row[self.at % self.row.len()]
            } else {
                self.tail[self.at - body]
            };
            n += 1;
            self.at += 1;
        }
        Ok(n)
    }
}

#[test]
fn a_20_mb_line_is_one_row_error() {
    let input = Generated {
        row: b"x".to_vec(),
        rows: 20 * 1024 * 1024,
        tail: b"\nalice@example.com\n".to_vec(),
        at: 0,
    };
    let file = read(input, &ReadOptions::default()).unwrap();
    assert_eq!(lines(&file), (vec![2], vec![1]));
    assert_eq!(file.errors[0].reason, RowReason::LineTooLong);
    assert!(file.errors[0].text.chars().count() <= 201);
    assert!(file.errors[0].text.starts_with("xxx"));
}

#[test]
fn rows_stream_in_file_order() {
    let rows = 20_000;
    let input = Generated {
        row: b"someone@example.com,true,false,\"en, de\"\n".to_vec(),
        rows,
        tail: Vec::new(),
        at: 0,
    };
    let reader = CsvReader::new(
        input,
        &ReadOptions {
            kind: Some(ListKind::Follows),
            file_name: None,
        },
    )
    .unwrap();
    let mut count = 0u64;
    for item in reader {
        let row = item.unwrap().unwrap();
        count += 1;
        assert_eq!(row.line, count);
    }
    assert_eq!(count, rows as u64);
}

// ------------------------------------------------------------------------------------------------
// Mastodon's own fixtures (AGPL: read in place, never copied)
// ------------------------------------------------------------------------------------------------

const MASTODON_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/samples/mastodon/csv-fixtures_mastodon-spec"
);

/// What one of Mastodon's fixtures must read as. In these files a header is exactly what
/// decides the kind, so `has_header == (by == Header)`.
struct Expect {
    file: &'static str,
    kind: ListKind,
    by: DetectedBy,
    rows: &'static [u64],
    errors: &'static [u64],
}

impl Expect {
    fn new(
        file: &'static str,
        kind: ListKind,
        by: DetectedBy,
        rows: &'static [u64],
        errors: &'static [u64],
    ) -> Self {
        Expect {
            file,
            kind,
            by,
            rows,
            errors,
        }
    }
}

#[test]
fn mastodon_spec_fixtures() {
    let dir = Path::new(MASTODON_SPEC);
    if !dir.is_dir() {
        eprintln!("skipped: {MASTODON_SPEC} is not there");
        return;
    }
    use DetectedBy::{Content, Default, Header};
    use ListKind::{Bookmarks, Follows, Lists, Mutes};
    // Derived by reading each file; lines are 1-based.
    let expected = [
        // Header, blank lines 2 and 4, `"en,fr"` on line 5.
        Expect::new("following_accounts.csv", Follows, Header, &[3, 5], &[]),
        // No header: a plain list of accounts, blank line 2.
        Expect::new("imports.txt", Follows, Default, &[1, 3], &[]),
        Expect::new("lists.csv", Lists, Content, &[1, 2, 3], &[]),
        Expect::new("muted_accounts.csv", Mutes, Header, &[3, 5], &[]),
        // Legacy 2-column header; line 2 is `bob`, a local account without a host, which a
        // client outside that server cannot name. Line 4 is blank.
        Expect::new("new-following-imports.txt", Follows, Header, &[3], &[2]),
        Expect::new("new-mute-imports.txt", Mutes, Header, &[3], &[2]),
        Expect::new(
            "bookmark-imports.txt",
            Bookmarks,
            Content,
            &[1, 2, 3, 4],
            &[],
        ),
        // `@nare@թութ.հայ`: a leading `@` and an IDN host.
        Expect::new("utf8-followers.txt", Follows, Default, &[1], &[]),
    ];
    for e in expected {
        let name = e.file;
        let file =
            try_read_path(&dir.join(name), None).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!((file.kind, file.detected_by), (e.kind, e.by), "{name}");
        assert_eq!(file.has_header, e.by == Header, "{name}");
        assert_eq!(lines(&file), (e.rows.to_vec(), e.errors.to_vec()), "{name}");
    }

    let file = try_read_path(&dir.join("following_accounts.csv"), None).unwrap();
    let f = follows(&file);
    assert_eq!(
        (f[0].reblogs, f[0].notify, &f[0].languages),
        (Some(true), Some(false), &None)
    );
    assert_eq!((f[1].reblogs, f[1].notify), (Some(true), Some(true)));
    assert_eq!(f[1].languages, langs(&["en", "fr"]));

    let file = try_read_path(&dir.join("new-following-imports.txt"), None).unwrap();
    assert_eq!(follows(&file)[0].reblogs, Some(false));

    let file = try_read_path(&dir.join("utf8-followers.txt"), None).unwrap();
    assert_eq!(follows(&file)[0].handle.to_string(), "nare@թութ.հայ");

    // imports.txt is what Mastodon's specs import as blocks and mutes too.
    for kind in [ListKind::Blocks, ListKind::Mutes] {
        let file = try_read_path(&dir.join("imports.txt"), Some(kind)).unwrap();
        assert_eq!(
            (file.kind, file.rows.len(), file.errors.len()),
            (kind, 2, 0)
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Round trip
// ------------------------------------------------------------------------------------------------

fn label() -> impl Strategy<Value = String> {
    // `xn--` starts a punycode label, which random letters rarely spell correctly.
    "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?".prop_filter("not punycode", |l| !l.starts_with("xn--"))
}

fn domain_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (prop::collection::vec(label(), 1..3), "[a-z]{2,6}")
            .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join("."))),
        1 => prop::sample::select(vec!["թութ.հայ", "bücher.example", "例え.jp", "xn--80ak6aa92e.com"])
            .prop_map(str::to_owned),
    ]
}

fn handle_strategy() -> impl Strategy<Value = Handle> {
    (
        "[A-Za-z0-9_]([A-Za-z0-9_.-]{0,12}[A-Za-z0-9_])?",
        domain_text(),
        prop::option::weighted(0.1, 1u16..),
    )
        .prop_map(|(user, domain, port)| {
            let text = match port {
                Some(port) => format!("{user}@{domain}:{port}"),
                None => format!("{user}@{domain}"),
            };
            Handle::parse(&text).unwrap()
        })
}

fn entry_strategy(kind: ListKind) -> BoxedStrategy<Entry> {
    match kind {
        ListKind::Follows => (
            handle_strategy(),
            any::<Option<bool>>(),
            any::<Option<bool>>(),
            prop::option::of(prop::collection::vec("[a-z]{2,3}", 1..4)),
        )
            .prop_map(|(handle, reblogs, notify, languages)| {
                Entry::Follow(Follow {
                    handle,
                    reblogs,
                    notify,
                    languages,
                })
            })
            .boxed(),
        ListKind::Blocks => handle_strategy()
            .prop_map(|handle| Entry::Block(Block { handle }))
            .boxed(),
        ListKind::Mutes => (handle_strategy(), any::<Option<bool>>())
            .prop_map(|(handle, hide_notifications)| {
                Entry::Mute(Mute {
                    handle,
                    hide_notifications,
                })
            })
            .boxed(),
        ListKind::DomainBlocks => domain_text()
            .prop_map(|d| {
                Entry::DomainBlock(DomainBlock {
                    domain: d.parse().unwrap(),
                })
            })
            .boxed(),
        ListKind::Lists => (
            // Any printable title, commas, quotes and header look-alikes included.
            prop_oneof![
                8 => "\\PC{1,24}",
                1 => Just("List name".to_string()),
                1 => Just("Account address".to_string()),
            ]
            .prop_filter_map("blank title", |t| {
                let t = t.trim();
                (!t.is_empty()).then(|| t.to_owned())
            }),
            handle_strategy(),
        )
            .prop_map(|(list, handle)| Entry::ListMember(ListMember { list, handle }))
            .boxed(),
        ListKind::Bookmarks => (
            domain_text(),
            "[a-z0-9_]{1,10}",
            "[0-9]{1,18}",
            any::<bool>(),
        )
            .prop_map(|(domain, user, id, mastodon)| {
                let uri = if mastodon {
                    format!("https://{domain}/users/{user}/statuses/{id}")
                } else {
                    format!("https://{domain}/notes/{user}{id}")
                };
                Entry::Bookmark(Bookmark {
                    uri: uri.parse().unwrap(),
                })
            })
            .boxed(),
    }
}

fn kind_and_entries() -> impl Strategy<Value = (ListKind, Vec<Entry>)> {
    prop::sample::select(ListKind::ALL.to_vec()).prop_flat_map(|kind| {
        (
            Just(kind),
            prop::collection::vec(entry_strategy(kind), 1..20),
        )
    })
}

/// What a row shows to people: equal handles may differ in case, which must survive too.
fn shown(entry: &Entry) -> String {
    format!(
        "{entry:?} {}",
        entry.handle().map(Handle::to_string).unwrap_or_default()
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn write_then_read_gives_the_same_rows((kind, entries) in kind_and_entries()) {
        let mut bytes = Vec::new();
        write_csv(kind, &entries, &mut bytes).unwrap();
        prop_assert!(!bytes.starts_with(b"\xEF\xBB\xBF"));
        prop_assert!(!bytes.contains(&b'\r') || kind == ListKind::Lists);

        // Read back as the declared kind.
        let file = read(bytes.as_slice(), &ReadOptions { kind: Some(kind), file_name: None }).unwrap();
        prop_assert_eq!(&file.errors, &vec![]);
        let read_back: Vec<Entry> = file.rows.iter().map(|r| r.entry.clone()).collect();
        prop_assert_eq!(&read_back, &entries);
        prop_assert_eq!(
            read_back.iter().map(shown).collect::<Vec<_>>(),
            entries.iter().map(shown).collect::<Vec<_>>()
        );
        prop_assert!(file.rows.windows(2).all(|w| w[0].line < w[1].line));
        prop_assert_eq!(file.likely_mismatched, None);

        // And detected, with Mastodon's file name where the content cannot tell.
        let file = read(
            bytes.as_slice(),
            &ReadOptions { kind: None, file_name: Some(kind.export_file_name()) },
        )
        .unwrap();
        prop_assert_eq!(file.kind, kind);
        prop_assert_eq!(file.rows.len(), entries.len());
    }
}
