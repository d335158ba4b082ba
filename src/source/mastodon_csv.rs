//! Mastodon's six CSV exports (follows, blocks, mutes, domain blocks, lists, bookmarks), read as
//! Mastodon's own importer reads them and written as its exporter writes them
//! (MASTODON.md §1.1–1.2, FORMATS.md §2.2).
//!
//! Reading ([`CsvReader`], or [`read`] for the whole file):
//! - The header row is optional. Only the first cell decides, against Mastodon's known first
//!   headers (`Account address`, `#domain`, `#uri`, `List name`; trimmed and, unlike Mastodon,
//!   case-insensitive). Without a header the columns are Mastodon's defaults: the account only
//!   for follows, blocks and mutes (so the extra columns of a header-less follow file are dropped,
//!   exactly as Mastodon drops them), `List name,Account address` for lists. Unknown columns are
//!   ignored; a header that lacks a column the kind needs is a file error, as in Mastodon.
//! - The kind is, in order of precedence: the caller's override; the header; the content (a
//!   second column holding an account → lists, status links → bookmarks, bare domains → domain
//!   blocks); Mastodon's file-name prefixes, which tell follows, blocks and mutes apart when the
//!   content cannot; and finally follows, the commonest file and the meaning of a plain list of
//!   accounts. [`CsvReader::likely_mismatched`] reports an override that contradicts the file
//!   (Mastodon's `likely_mismatched?`: importing follows as blocks is mastodon#20123).
//! - Cells are trimmed; an account loses one leading `@` and may also be written `acct:…` or as
//!   a profile link ([`Handle::parse`]); booleans read as Rails casts them, except that `no` is
//!   false as well; languages are split on commas. A UTF-8 BOM is stripped (Mastodon itself
//!   chokes on it), blank lines and rows of empty cells are skipped.
//! - A row that cannot be read is a [`RowError`] with its 1-based line number, beside the good
//!   rows; reading goes on. A file that cannot be read at all — empty, UTF-16, not UTF-8, not
//!   text, an unclosed quote, an incompatible header — is a [`CsvError`].
//!
//! Bounds: the input is streamed. A physical line keeps at most [`MAX_LINE`] bytes (the rest is
//! dropped and the row reported as too long), and one record may not span more than
//! [`MAX_RECORD`] bytes, which only an unclosed quote produces; so memory stays small whatever
//! the file holds.
//!
//! Writing ([`write_csv`]): Mastodon's export formats byte for byte — a header for follows and
//! mutes only, `\n` line ends (Ruby's `CSV.generate` default), quotes only where needed, never a
//! BOM. An option that was not stated ([`None`]) is written as an empty cell, which Mastodon
//! reads as "leave the default".

use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use serde::{Serialize, Serializer};
use url::Url;

use super::handle::{Domain, DomainError, Handle, HandleError};

/// The longest physical line kept, in bytes; the rest of a longer line is dropped and its row
/// reported as a [`RowError`].
pub const MAX_LINE: usize = 64 * 1024;

/// The most bytes one record may span. Only a quote that never closes makes a record this long
/// (lines are already capped), and then nothing after it can be read: a [`CsvError`].
pub const MAX_RECORD: usize = 1024 * 1024;

/// A [`RowError`]'s text is cut to this many characters.
pub const ROW_TEXT_LIMIT: usize = 200;

/// How many data rows are looked at to recognise the kind from the content.
const SNIFF_ROWS: usize = 32;

/// `Form::Import::KNOWN_FIRST_HEADERS`: a first cell equal to one of these makes a header row.
const KNOWN_FIRST_HEADERS: [&str; 4] = ["Account address", "#domain", "#uri", "List name"];

const FOLLOWS_HEADER: [&str; 4] = [
    "Account address",
    "Show boosts",
    "Notify on new posts",
    "Languages",
];
const MUTES_HEADER: [&str; 2] = ["Account address", "Hide notifications"];
const LISTS_HEADER: [&str; 2] = ["List name", "Account address"];

// ------------------------------------------------------------------------------------------------
// Kinds
// ------------------------------------------------------------------------------------------------

/// Which of Mastodon's lists a CSV file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    Follows,
    Blocks,
    Mutes,
    DomainBlocks,
    Lists,
    Bookmarks,
}

impl ListKind {
    pub const ALL: [ListKind; 6] = [
        ListKind::Follows,
        ListKind::Blocks,
        ListKind::Mutes,
        ListKind::DomainBlocks,
        ListKind::Lists,
        ListKind::Bookmarks,
    ];

    /// Mastodon's name for the import type (`BulkImport#type`).
    pub fn mastodon_type(self) -> &'static str {
        match self {
            ListKind::Follows => "following",
            ListKind::Blocks => "blocking",
            ListKind::Mutes => "muting",
            ListKind::DomainBlocks => "domain_blocking",
            ListKind::Lists => "lists",
            ListKind::Bookmarks => "bookmarks",
        }
    }

    /// The name Mastodon gives the export download.
    pub fn export_file_name(self) -> &'static str {
        match self {
            ListKind::Follows => "following_accounts.csv",
            ListKind::Blocks => "blocked_accounts.csv",
            ListKind::Mutes => "muted_accounts.csv",
            ListKind::DomainBlocks => "blocked_domains.csv",
            ListKind::Lists => "lists.csv",
            ListKind::Bookmarks => "bookmarks.csv",
        }
    }

    /// The header row Mastodon's export writes, if any.
    pub fn header(self) -> Option<&'static [&'static str]> {
        match self {
            ListKind::Follows => Some(&FOLLOWS_HEADER),
            ListKind::Mutes => Some(&MUTES_HEADER),
            _ => None,
        }
    }

    /// The kind Mastodon guesses from an upload's file name (`Form::Import#guessed_type`): the
    /// prefixes of its own download names and of the short names its docs use.
    pub fn from_file_name(name: &str) -> Option<ListKind> {
        let base = name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(name)
            .to_lowercase();
        const PREFIXES: [(&str, ListKind); 11] = [
            ("mutes", ListKind::Mutes),
            ("muted_accounts", ListKind::Mutes),
            ("follows", ListKind::Follows),
            ("following_accounts", ListKind::Follows),
            ("blocks", ListKind::Blocks),
            ("blocked_accounts", ListKind::Blocks),
            ("domain_blocks", ListKind::DomainBlocks),
            ("blocked_domains", ListKind::DomainBlocks),
            ("bookmarks", ListKind::Bookmarks),
            ("lists", ListKind::Lists),
            // Not one of Mastodon's, but unambiguous and what people name such files.
            ("following", ListKind::Follows),
        ];
        PREFIXES
            .iter()
            .find(|(prefix, _)| base.starts_with(prefix))
            .map(|&(_, kind)| kind)
    }

    /// Whether the rows name accounts only (follows, blocks, mutes): these three cannot be told
    /// apart by their content when there is no header.
    fn is_account_list(self) -> bool {
        matches!(self, ListKind::Follows | ListKind::Blocks | ListKind::Mutes)
    }

    /// `Form::Import#default_csv_headers`: the columns a header must have, and the columns of a
    /// header-less file, in order.
    fn required_columns(self) -> &'static [Column] {
        match self {
            ListKind::Follows | ListKind::Blocks | ListKind::Mutes => &[Column::Account],
            ListKind::DomainBlocks => &[Column::Domain],
            ListKind::Bookmarks => &[Column::Uri],
            ListKind::Lists => &[Column::ListName, Column::Account],
        }
    }
}

impl fmt::Display for ListKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ListKind::Follows => "follows",
            ListKind::Blocks => "blocks",
            ListKind::Mutes => "mutes",
            ListKind::DomainBlocks => "domain blocks",
            ListKind::Lists => "lists",
            ListKind::Bookmarks => "bookmarks",
        })
    }
}

/// The name is not one of the kinds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a list kind; use one of follows, blocks, mutes, domain-blocks, lists, bookmarks"
)]
pub struct UnknownKind(pub String);

impl FromStr for ListKind {
    type Err = UnknownKind;

    /// Our names (`follows`, `domain-blocks`, …) and Mastodon's (`following`, `domain_blocking`, …).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Ok(match name.as_str() {
            "follows" | "following" | "follow" => ListKind::Follows,
            "blocks" | "blocking" | "block" => ListKind::Blocks,
            "mutes" | "muting" | "mute" => ListKind::Mutes,
            "domain_blocks" | "domain_blocking" | "domain_block" => ListKind::DomainBlocks,
            "lists" | "list" => ListKind::Lists,
            "bookmarks" | "bookmark" => ListKind::Bookmarks,
            _ => return Err(UnknownKind(s.to_owned())),
        })
    }
}

/// What decided a file's [`ListKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectedBy {
    /// The caller said so.
    Override,
    /// The header row.
    Header,
    /// The shape of the first rows.
    Content,
    /// Mastodon's file-name prefixes.
    FileName,
    /// Nothing told: a list of accounts is read as follows.
    Default,
}

/// How to read a file.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions<'a> {
    /// Read the file as this kind, whatever it looks like.
    pub kind: Option<ListKind>,
    /// The file's name (a path is fine: only the last component counts), for detection.
    pub file_name: Option<&'a str>,
}

// ------------------------------------------------------------------------------------------------
// Rows
// ------------------------------------------------------------------------------------------------

/// A row of a follows file (`following_accounts.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    pub handle: Handle,
    /// `Show boosts`; `None`: not stated (Mastodon's default is true).
    pub reblogs: Option<bool>,
    /// `Notify on new posts`; `None`: not stated (Mastodon's default is false).
    pub notify: Option<bool>,
    /// `Languages`, lowercased codes; `None`: all languages.
    pub languages: Option<Vec<String>>,
}

/// A row of a blocks file (`blocked_accounts.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub handle: Handle,
}

/// A row of a mutes file (`muted_accounts.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mute {
    pub handle: Handle,
    /// `Hide notifications`; `None`: not stated (Mastodon's default is true).
    pub hide_notifications: Option<bool>,
}

/// A row of a domain-blocks file (`blocked_domains.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainBlock {
    pub domain: Domain,
}

/// A row of a lists file (`lists.csv`): one member of one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMember {
    /// The list's title, trimmed, never empty.
    pub list: String,
    pub handle: Handle,
}

/// A row of a bookmarks file (`bookmarks.csv`): a status's ActivityPub id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bookmark {
    /// An `http`/`https` URL.
    pub uri: Url,
}

/// One row's content, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Follow(Follow),
    Block(Block),
    Mute(Mute),
    DomainBlock(DomainBlock),
    ListMember(ListMember),
    Bookmark(Bookmark),
}

impl Entry {
    pub fn kind(&self) -> ListKind {
        match self {
            Entry::Follow(_) => ListKind::Follows,
            Entry::Block(_) => ListKind::Blocks,
            Entry::Mute(_) => ListKind::Mutes,
            Entry::DomainBlock(_) => ListKind::DomainBlocks,
            Entry::ListMember(_) => ListKind::Lists,
            Entry::Bookmark(_) => ListKind::Bookmarks,
        }
    }

    /// The account the row is about, for the kinds that name one.
    pub fn handle(&self) -> Option<&Handle> {
        match self {
            Entry::Follow(Follow { handle, .. })
            | Entry::Block(Block { handle })
            | Entry::Mute(Mute { handle, .. })
            | Entry::ListMember(ListMember { handle, .. }) => Some(handle),
            Entry::DomainBlock(_) | Entry::Bookmark(_) => None,
        }
    }
}

impl AsRef<Entry> for Entry {
    fn as_ref(&self) -> &Entry {
        self
    }
}

/// A row that was read, with the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line number in the file.
    pub line: u64,
    pub entry: Entry,
}

impl AsRef<Entry> for Row {
    fn as_ref(&self) -> &Entry {
        &self.entry
    }
}

/// A row that could not be read; the rest of the file still is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("line {line}: {reason} (in `{text}`)")]
pub struct RowError {
    /// 1-based line number in the file.
    pub line: u64,
    /// The row as read (cells joined with commas), cut to [`ROW_TEXT_LIMIT`] characters.
    pub text: String,
    #[serde(serialize_with = "as_display")]
    pub reason: RowReason,
}

/// Why a row could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowReason {
    #[error("the line is longer than {} KiB", MAX_LINE / 1024)]
    LineTooLong,
    #[error("no account address")]
    MissingAccount,
    #[error("no list name")]
    MissingListName,
    #[error("no status link")]
    MissingUri,
    #[error("{0}")]
    Handle(#[from] HandleError),
    #[error("{0}")]
    Domain(#[from] DomainError),
    #[error("`{uri}` is not a status link: {reason}")]
    BadUri { uri: String, reason: &'static str },
    #[error("`{0}` is not a language code (ISO 639, like `en`)")]
    Language(String),
}

fn as_display<T: fmt::Display, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

// ------------------------------------------------------------------------------------------------
// File errors
// ------------------------------------------------------------------------------------------------

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("could not read the file")]
    Io(#[source] io::Error),
    #[error("the file is empty")]
    Empty,
    #[error("the file is in {encoding}, not UTF-8")]
    Encoding { encoding: &'static str },
    #[error(
        "line {line} is not UTF-8 (byte 0x{byte:02X}): the file is probably in Latin-1 or \
         Windows-1252"
    )]
    NotUtf8 { line: u64, byte: u8 },
    #[error("this is not a CSV file: it looks like {looks_like}")]
    NotText { looks_like: &'static str },
    #[error("the header has no `{missing}` column, which a {kind} file needs")]
    IncompatibleHeader {
        kind: ListKind,
        missing: &'static str,
    },
    #[error("a quoted field that starts at line {line} never ends")]
    UnclosedQuote { line: u64 },
}

impl CsvError {
    /// What the user can do, when there is something.
    pub fn hint(&self) -> Option<String> {
        match self {
            CsvError::Empty => Some("export the list again from your server".into()),
            CsvError::Encoding { .. } | CsvError::NotUtf8 { .. } => Some(
                "save the file as UTF-8: in Excel choose \"CSV UTF-8\", in LibreOffice the \
                 character set \"Unicode (UTF-8)\""
                    .into(),
            ),
            CsvError::NotText { .. } => Some(
                "pass the `.csv` file Mastodon exported; a spreadsheet must first be saved as \
                 \"CSV UTF-8\""
                    .into(),
            ),
            CsvError::IncompatibleHeader { .. } => Some(
                "the header belongs to another kind of list: leave the kind out to detect it, \
                 or pick the kind that matches the file"
                    .into(),
            ),
            CsvError::UnclosedQuote { .. } => Some(
                "a cell that starts with `\"` must end with `\"`; check that line for a stray \
                 quote"
                    .into(),
            ),
            CsvError::Io(_) => None,
        }
    }
}

/// A [`write_csv`] failure.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("could not write the CSV file")]
    Io(#[source] io::Error),
    #[error("a {found} row cannot go in a {expected} file")]
    KindMismatch { expected: ListKind, found: ListKind },
}

impl From<csv::Error> for WriteError {
    fn from(error: csv::Error) -> Self {
        match error.into_kind() {
            csv::ErrorKind::Io(io) => WriteError::Io(io),
            other => WriteError::Io(io::Error::other(format!("{other:?}"))),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The byte stream: sniffing and bounds
// ------------------------------------------------------------------------------------------------

/// The error [`Bounded`] raises when one record grows past [`MAX_RECORD`].
#[derive(Debug)]
struct RecordTooLong;

impl fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a record is longer than {MAX_RECORD} bytes")
    }
}

impl std::error::Error for RecordTooLong {}

/// The error [`Bounded`] raises at the end of the input inside a quoted field: the csv crate
/// would hand out the rest of the file as one cell and the rows in it would be lost silently.
#[derive(Debug)]
struct QuoteOpenAtEnd {
    /// The line of the opening quote.
    line: u64,
}

impl fmt::Display for QuoteOpenAtEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the quote opened at line {} never closes", self.line)
    }
}

impl std::error::Error for QuoteOpenAtEnd {}

/// Where the csv crate's parser stands with respect to quotes (csv_core's states for the
/// default dialect, folded to the four that matter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// At the start of a field: a `"` opens a quoted field.
    FieldStart,
    /// In a field that did not start with a quote: a `"` is an ordinary byte.
    Unquoted,
    Quoted,
    /// Just after a `"` in a quoted field: another `"` is an escaped quote, else it closed.
    QuoteInQuoted,
}

impl Quoting {
    fn next(self, byte: u8) -> Quoting {
        match (self, byte) {
            (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
            (Quoting::Quoted, _) => Quoting::Quoted,
            (Quoting::FieldStart | Quoting::QuoteInQuoted, b'"') => Quoting::Quoted,
            (_, b',' | b'\n' | b'\r') => Quoting::FieldStart,
            _ => Quoting::Unquoted,
        }
    }
}

/// The input as the CSV parser sees it: the sniffed prefix (BOM removed) and then the rest,
/// with every physical line cut to [`MAX_LINE`] bytes. It remembers which lines it cut, so that
/// their rows are reported rather than read half, and where the line breaks are, so that rows
/// get their true line numbers.
///
/// A line break is `\n`, `\r\n` or a lone `\r` (old Mac exports), as the csv crate reads them.
/// The csv crate's own line count knows only `\n`, and dates a record from where its previous
/// read stopped, before any blank lines: not good enough for "line 7: …".
struct Bounded<R> {
    inner: R,
    prefix: Vec<u8>,
    prefix_pos: usize,
    /// The line of the next byte.
    line: u64,
    /// Bytes so far on the current line.
    line_len: usize,
    skipping: bool,
    prev_cr: bool,
    cut_lines: BTreeSet<u64>,
    /// Bytes handed out so far.
    delivered: u64,
    /// Offsets (in the bytes handed out) of the line breaks not yet behind a finished record.
    breaks: VecDeque<u64>,
    /// How many line breaks are behind the finished records.
    breaks_behind: u64,
    /// Bytes handed out since the reader last finished a record.
    since_record: usize,
    /// The quoting state after the bytes handed out, and the line of the last opening quote.
    quoting: Quoting,
    quote_line: u64,
}

impl<R: Read> Bounded<R> {
    fn fill(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.prefix_pos < self.prefix.len() {
            let n = buf.len().min(self.prefix.len() - self.prefix_pos);
            buf[..n].copy_from_slice(&self.prefix[self.prefix_pos..self.prefix_pos + n]);
            self.prefix_pos += n;
            return Ok(n);
        }
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.since_record > MAX_RECORD {
            return Err(io::Error::other(RecordTooLong));
        }
        loop {
            let n = self.fill(buf)?;
            if n == 0 {
                if self.quoting == Quoting::Quoted {
                    return Err(io::Error::other(QuoteOpenAtEnd {
                        line: self.quote_line,
                    }));
                }
                return Ok(0);
            }
            // Filter in place: keep line breaks and the first MAX_LINE bytes of each line.
            let mut kept = 0;
            for i in 0..n {
                let byte = buf[i];
                let after_cr = std::mem::replace(&mut self.prev_cr, byte == b'\r');
                if byte == b'\n' || byte == b'\r' {
                    // The `\n` of a `\r\n` is the same break as its `\r`.
                    if !(byte == b'\n' && after_cr) {
                        self.line += 1;
                        self.breaks.push_back(self.delivered + kept as u64);
                    }
                    self.line_len = 0;
                    self.skipping = false;
                } else if self.skipping {
                    continue;
                } else if self.line_len == MAX_LINE {
                    self.skipping = true;
                    self.cut_lines.insert(self.line);
                    continue;
                } else {
                    self.line_len += 1;
                }
                let quoting = self.quoting.next(byte);
                if quoting == Quoting::Quoted && self.quoting != Quoting::Quoted {
                    self.quote_line = self.line;
                }
                self.quoting = quoting;
                buf[kept] = byte;
                kept += 1;
            }
            // Returning 0 would mean the end of the input: read on while everything was cut.
            if kept > 0 {
                self.delivered += kept as u64;
                self.since_record += kept;
                return Ok(kept);
            }
        }
    }
}

/// Reads the first bytes to recognise what is not a UTF-8 text file, and strips a UTF-8 BOM.
fn sniff<R: Read>(mut inner: R) -> Result<Bounded<R>, CsvError> {
    const SNIFF: usize = 512;
    let mut prefix = Vec::with_capacity(SNIFF);
    let mut chunk = [0u8; SNIFF];
    while prefix.len() < SNIFF {
        match inner.read(&mut chunk[..SNIFF - prefix.len()]) {
            Ok(0) => break,
            Ok(n) => prefix.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CsvError::Io(e)),
        }
    }
    // The longer BOMs first: UTF-32LE's starts with UTF-16LE's.
    let boms: [(&[u8], &str); 4] = [
        (&[0x00, 0x00, 0xFE, 0xFF], "UTF-32 (big-endian)"),
        (&[0xFF, 0xFE, 0x00, 0x00], "UTF-32 (little-endian)"),
        (&[0xFE, 0xFF], "UTF-16 (big-endian)"),
        (&[0xFF, 0xFE], "UTF-16 (little-endian)"),
    ];
    for (bom, encoding) in boms {
        if prefix.starts_with(bom) {
            return Err(CsvError::Encoding { encoding });
        }
    }
    let start = if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let head = &prefix[start..];
    if head.starts_with(b"PK\x03\x04") {
        return Err(CsvError::NotText {
            looks_like: "a zip archive (an .xlsx spreadsheet?)",
        });
    }
    if head.contains(&0) {
        return Err(match utf16_without_bom(head) {
            Some(encoding) => CsvError::Encoding { encoding },
            None => CsvError::NotText {
                looks_like: "a binary file (it holds NUL bytes)",
            },
        });
    }
    Ok(Bounded {
        inner,
        prefix,
        prefix_pos: start,
        line: 1,
        line_len: 0,
        skipping: false,
        prev_cr: false,
        cut_lines: BTreeSet::new(),
        delivered: 0,
        breaks: VecDeque::new(),
        breaks_behind: 0,
        since_record: 0,
        quoting: Quoting::FieldStart,
        quote_line: 1,
    })
}

/// UTF-16 text of mostly ASCII characters has a NUL in every other byte.
fn utf16_without_bom(head: &[u8]) -> Option<&'static str> {
    let pairs = head.len() / 2;
    if pairs < 2 {
        return None;
    }
    let count = |nul_first: bool| {
        head.chunks_exact(2)
            .filter(|pair| (pair[0] == 0) == nul_first && (pair[1] == 0) != nul_first)
            .count()
    };
    // Most pairs one way round: the odd non-ASCII character or line break may not be.
    if count(false) * 4 >= pairs * 3 {
        Some("UTF-16 (little-endian, without BOM)")
    } else if count(true) * 4 >= pairs * 3 {
        Some("UTF-16 (big-endian, without BOM)")
    } else {
        None
    }
}

// ------------------------------------------------------------------------------------------------
// Records
// ------------------------------------------------------------------------------------------------

/// A non-blank record: its first line and its cells, or the row error of a cut line.
struct RawRecord {
    line: u64,
    cells: Result<Vec<String>, RowError>,
}

/// The CSV layer: records out of the bounded stream, checked for UTF-8 and cut lines.
struct Records<R> {
    csv: csv::Reader<Bounded<R>>,
    record: csv::ByteRecord,
    /// The line after the last record, where an unclosed quote would start.
    next_line: u64,
}

impl<R: Read> Records<R> {
    fn new(input: Bounded<R>) -> Self {
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        Records {
            csv,
            record: csv::ByteRecord::new(),
            next_line: 1,
        }
    }

    /// The next record that has a non-blank cell, or `None` at the end of the file.
    fn next_raw(&mut self) -> Result<Option<RawRecord>, CsvError> {
        loop {
            match self.csv.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(error) => return Err(self.file_error(error)),
            }
            let end = self.csv.position().byte();
            let input = self.csv.get_mut();
            input.since_record = 0;
            // The record's last byte is its terminator (`\n`, the `\r` of `\r\n`, a lone `\r`)
            // or, at the end of the file, content: the breaks before it end the lines above the
            // record's last line.
            while input.breaks.front().is_some_and(|&at| at + 1 < end) {
                input.breaks.pop_front();
                input.breaks_behind += 1;
            }
            let last = 1 + input.breaks_behind;
            let inside: u64 = self.record.iter().map(line_breaks).sum();
            let line = last.saturating_sub(inside);
            self.next_line = last + 1;

            let was_cut = input.cut_lines.range(line..=last).next().is_some();
            input.cut_lines = input.cut_lines.split_off(&(last + 1));
            if was_cut {
                let cells: Vec<String> = self
                    .record
                    .iter()
                    .map(|cell| String::from_utf8_lossy(cell).into_owned())
                    .collect();
                return Ok(Some(RawRecord {
                    line,
                    cells: Err(row_error(line, &cells, RowReason::LineTooLong)),
                }));
            }

            let mut cells = Vec::with_capacity(self.record.len());
            let mut breaks_before = 0;
            for cell in &self.record {
                match std::str::from_utf8(cell) {
                    Ok(text) => cells.push(text.to_owned()),
                    Err(error) => {
                        let valid = &cell[..error.valid_up_to()];
                        return Err(CsvError::NotUtf8 {
                            line: line + breaks_before + line_breaks(valid),
                            byte: cell[error.valid_up_to()],
                        });
                    }
                }
                breaks_before += line_breaks(cell);
            }
            // Ruby's `skip_blanks` skips empty lines; a line of spaces or bare commas is no row
            // either, and Mastodon would only turn it into a failed import.
            if cells.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            return Ok(Some(RawRecord {
                line,
                cells: Ok(cells),
            }));
        }
    }

    fn file_error(&self, error: csv::Error) -> CsvError {
        let line = self.next_line;
        match error.into_kind() {
            csv::ErrorKind::Io(io) => {
                if io.get_ref().is_some_and(|e| e.is::<RecordTooLong>()) {
                    CsvError::UnclosedQuote { line }
                } else if let Some(open) = io
                    .get_ref()
                    .and_then(|e| e.downcast_ref::<QuoteOpenAtEnd>())
                {
                    CsvError::UnclosedQuote { line: open.line }
                } else {
                    CsvError::Io(io)
                }
            }
            // Byte records with flexible lengths raise nothing else; keep the detail if one does.
            other => CsvError::Io(io::Error::other(format!("{other:?}"))),
        }
    }
}

/// Line breaks in a cell, counted as [`Bounded`] counts them.
fn line_breaks(cell: &[u8]) -> u64 {
    let mut count = 0;
    let mut after_cr = false;
    for &byte in cell {
        if byte == b'\r' || (byte == b'\n' && !after_cr) {
            count += 1;
        }
        after_cr = byte == b'\r';
    }
    count
}

fn row_error(line: u64, cells: &[String], reason: RowReason) -> RowError {
    RowError {
        line,
        text: row_text(cells),
        reason,
    }
}

/// The cells joined back into a CSV line (quoted where needed), cut to [`ROW_TEXT_LIMIT`].
fn row_text(cells: &[String]) -> String {
    let mut text = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            text.push('"');
            text.push_str(&cell.replace('"', "\"\""));
            text.push('"');
        } else {
            text.push_str(cell);
        }
    }
    match text.char_indices().nth(ROW_TEXT_LIMIT) {
        Some((cut, _)) => {
            text.truncate(cut);
            text.push('…');
            text
        }
        None => text,
    }
}

// ------------------------------------------------------------------------------------------------
// Columns and detection
// ------------------------------------------------------------------------------------------------

/// The columns Mastodon knows (`Form::Import::ATTRIBUTE_BY_HEADER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Account,
    ShowBoosts,
    Notify,
    Languages,
    HideNotifications,
    Domain,
    Uri,
    ListName,
}

impl Column {
    const ALL: [Column; 8] = [
        Column::Account,
        Column::ShowBoosts,
        Column::Notify,
        Column::Languages,
        Column::HideNotifications,
        Column::Domain,
        Column::Uri,
        Column::ListName,
    ];

    fn header(self) -> &'static str {
        match self {
            Column::Account => "Account address",
            Column::ShowBoosts => "Show boosts",
            Column::Notify => "Notify on new posts",
            Column::Languages => "Languages",
            Column::HideNotifications => "Hide notifications",
            Column::Domain => "#domain",
            Column::Uri => "#uri",
            Column::ListName => "List name",
        }
    }

    fn from_header(cell: &str) -> Option<Column> {
        let cell = cell.trim();
        Column::ALL
            .into_iter()
            .find(|column| column.header().eq_ignore_ascii_case(cell))
    }
}

/// Where each known column is in the file.
#[derive(Debug, Clone, Default)]
struct Columns([Option<usize>; 8]);

impl Columns {
    fn from_header(cells: &[String]) -> Columns {
        let mut columns = Columns::default();
        for (index, cell) in cells.iter().enumerate() {
            if let Some(column) = Column::from_header(cell) {
                // A repeated header: the first one wins, as in Ruby's `CSV::Row#to_h`.
                columns.0[column as usize].get_or_insert(index);
            }
        }
        columns
    }

    fn headerless(kind: ListKind) -> Columns {
        let mut columns = Columns::default();
        for (index, &column) in kind.required_columns().iter().enumerate() {
            columns.0[column as usize] = Some(index);
        }
        columns
    }

    fn get(&self, column: Column) -> Option<usize> {
        self.0[column as usize]
    }

    fn has(&self, column: Column) -> bool {
        self.get(column).is_some()
    }
}

fn is_known_first_header(cell: &str) -> bool {
    let cell = cell.trim();
    KNOWN_FIRST_HEADERS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(cell))
}

/// What a header row says about the kind.
enum HeaderSays {
    Kind(ListKind),
    /// `Account address` without a column that tells follows from mutes: one of the three.
    Accounts,
}

/// `Form::Import#guessed_type`, header part, and the first header cell.
fn kind_from_header(columns: &Columns, first: &str) -> HeaderSays {
    match Column::from_header(first) {
        Some(Column::Domain) => HeaderSays::Kind(ListKind::DomainBlocks),
        Some(Column::Uri) => HeaderSays::Kind(ListKind::Bookmarks),
        Some(Column::ListName) => HeaderSays::Kind(ListKind::Lists),
        _ if columns.has(Column::HideNotifications) => HeaderSays::Kind(ListKind::Mutes),
        _ if columns.has(Column::ShowBoosts)
            || columns.has(Column::Notify)
            || columns.has(Column::Languages) =>
        {
            HeaderSays::Kind(ListKind::Follows)
        }
        _ => HeaderSays::Accounts,
    }
}

/// What a header-less row looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Accounts,
    ListRows,
    Domains,
    Statuses,
}

fn shape_of(cells: &[String]) -> Option<Shape> {
    let first = cells.first().map_or("", |c| c.trim());
    let second = cells.get(1).map_or("", |c| c.trim());
    if !first.is_empty() && !second.is_empty() && Handle::parse(second).is_ok() {
        return Some(Shape::ListRows);
    }
    if Handle::parse(first).is_ok() {
        return Some(Shape::Accounts);
    }
    if parse_status_uri(first).is_ok() {
        return Some(Shape::Statuses);
    }
    // A dot is required: a lone word is more likely a local user name than a domain.
    if first.contains('.') && Domain::parse(first).is_ok() {
        return Some(Shape::Domains);
    }
    None
}

/// The commonest shape among the rows; ties go to the earlier shape in [`Shape`].
fn vote(records: &VecDeque<RawRecord>) -> Option<Shape> {
    let mut counts = [0usize; 4];
    for record in records {
        if let Some(shape) = record.cells.as_deref().ok().and_then(shape_of) {
            counts[shape as usize] += 1;
        }
    }
    let best = *counts.iter().max()?;
    if best == 0 {
        return None;
    }
    let index = counts.iter().position(|&c| c == best)?;
    Some(
        [
            Shape::Accounts,
            Shape::ListRows,
            Shape::Domains,
            Shape::Statuses,
        ][index],
    )
}

/// Header, then content, then file name, then follows.
fn detect(
    header: Option<HeaderSays>,
    content: Option<Shape>,
    file_name: Option<&str>,
) -> (ListKind, DetectedBy) {
    let by_name = file_name.and_then(ListKind::from_file_name);
    let shape = match header {
        Some(HeaderSays::Kind(kind)) => return (kind, DetectedBy::Header),
        Some(HeaderSays::Accounts) => Some(Shape::Accounts),
        None => content,
    };
    match shape {
        Some(Shape::ListRows) => (ListKind::Lists, DetectedBy::Content),
        Some(Shape::Domains) => (ListKind::DomainBlocks, DetectedBy::Content),
        Some(Shape::Statuses) => (ListKind::Bookmarks, DetectedBy::Content),
        Some(Shape::Accounts) => match by_name {
            Some(kind) if kind.is_account_list() => (kind, DetectedBy::FileName),
            _ => (ListKind::Follows, DetectedBy::Default),
        },
        None => match by_name {
            Some(kind) => (kind, DetectedBy::FileName),
            None => (ListKind::Follows, DetectedBy::Default),
        },
    }
}

// ------------------------------------------------------------------------------------------------
// The reader
// ------------------------------------------------------------------------------------------------

/// A streaming reader of one Mastodon CSV file.
///
/// [`CsvReader::new`] reads the header (if any) and a few rows to settle the kind; iterating
/// then yields every row in file order: `Ok(Ok(row))`, `Ok(Err(row_error))` for a row that
/// could not be read, or, once, `Err(file_error)` after which the iteration ends.
pub struct CsvReader<R> {
    records: Records<R>,
    kind: ListKind,
    detected_by: DetectedBy,
    likely_mismatched: Option<ListKind>,
    has_header: bool,
    columns: Columns,
    pending: VecDeque<RawRecord>,
    done: bool,
}

impl<R: Read> CsvReader<R> {
    /// Opens `input`: checks the encoding, reads the header, settles the kind.
    pub fn new(input: R, options: &ReadOptions<'_>) -> Result<CsvReader<R>, CsvError> {
        let mut records = Records::new(sniff(input)?);
        let first = records.next_raw()?.ok_or(CsvError::Empty)?;
        let header = match &first.cells {
            Ok(cells) if is_known_first_header(&cells[0]) => Some(cells.clone()),
            _ => None,
        };
        let mut pending = VecDeque::new();
        let (header_says, header_columns) = match header {
            Some(cells) => {
                let columns = Columns::from_header(&cells);
                (Some(kind_from_header(&columns, &cells[0])), Some(columns))
            }
            None => {
                pending.push_back(first);
                (None, None)
            }
        };
        let content = if header_says.is_none() {
            while pending.len() < SNIFF_ROWS {
                match records.next_raw()? {
                    Some(record) => pending.push_back(record),
                    None => break,
                }
            }
            vote(&pending)
        } else {
            None
        };
        let (guessed, guessed_by) = detect(header_says, content, options.file_name);
        let (kind, detected_by, likely_mismatched) = match options.kind {
            Some(kind) => {
                let mismatch =
                    (guessed_by != DetectedBy::Default && guessed != kind).then_some(guessed);
                (kind, DetectedBy::Override, mismatch)
            }
            None => (guessed, guessed_by, None),
        };
        let has_header = header_columns.is_some();
        let columns = match header_columns {
            Some(columns) => {
                if let Some(missing) = kind
                    .required_columns()
                    .iter()
                    .find(|&&column| !columns.has(column))
                {
                    return Err(CsvError::IncompatibleHeader {
                        kind,
                        missing: missing.header(),
                    });
                }
                columns
            }
            None => Columns::headerless(kind),
        };
        Ok(CsvReader {
            records,
            kind,
            detected_by,
            likely_mismatched,
            has_header,
            columns,
            pending,
            done: false,
        })
    }

    /// The kind the rows are read as.
    pub fn kind(&self) -> ListKind {
        self.kind
    }

    /// What decided [`CsvReader::kind`].
    pub fn detected_by(&self) -> DetectedBy {
        self.detected_by
    }

    /// Whether the file starts with a header row.
    pub fn has_header(&self) -> bool {
        self.has_header
    }

    /// When the kind was given but the file's header, content or name says otherwise: what
    /// they say. Worth a warning (importing follows as blocks is mastodon#20123).
    pub fn likely_mismatched(&self) -> Option<ListKind> {
        self.likely_mismatched
    }

    fn convert(&self, record: RawRecord) -> Result<Row, RowError> {
        let cells = record.cells?;
        let line = record.line;
        self.entry(&cells)
            .map(|entry| Row { line, entry })
            .map_err(|reason| row_error(line, &cells, reason))
    }

    fn entry(&self, cells: &[String]) -> Result<Entry, RowReason> {
        // A byte-order mark inside the file (two exports joined with `cat`, one saved by Excel)
        // is no content either: a list title must not keep it, or it names another list.
        let cell = |column: Column| {
            self.columns
                .get(column)
                .and_then(|index| cells.get(index))
                .map_or("", |text| {
                    text.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
                })
        };
        let account = || match cell(Column::Account) {
            "" => Err(RowReason::MissingAccount),
            text => Ok(Handle::parse(text)?),
        };
        Ok(match self.kind {
            ListKind::Follows => Entry::Follow(Follow {
                handle: account()?,
                reblogs: boolean(cell(Column::ShowBoosts)),
                notify: boolean(cell(Column::Notify)),
                languages: languages(cell(Column::Languages))?,
            }),
            ListKind::Blocks => Entry::Block(Block { handle: account()? }),
            ListKind::Mutes => Entry::Mute(Mute {
                handle: account()?,
                hide_notifications: boolean(cell(Column::HideNotifications)),
            }),
            ListKind::DomainBlocks => Entry::DomainBlock(DomainBlock {
                domain: Domain::parse(cell(Column::Domain))?,
            }),
            ListKind::Lists => {
                let list = match cell(Column::ListName) {
                    "" => return Err(RowReason::MissingListName),
                    name => name.to_owned(),
                };
                Entry::ListMember(ListMember {
                    list,
                    handle: account()?,
                })
            }
            ListKind::Bookmarks => Entry::Bookmark(Bookmark {
                uri: match cell(Column::Uri) {
                    "" => return Err(RowReason::MissingUri),
                    text => parse_status_uri(text)?,
                },
            }),
        })
    }
}

impl<R: Read> Iterator for CsvReader<R> {
    type Item = Result<Result<Row, RowError>, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let record = match self.pending.pop_front() {
            Some(record) => record,
            None => match self.records.next_raw() {
                Ok(Some(record)) => record,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            },
        };
        Some(Ok(self.convert(record)))
    }
}

/// A whole file, read.
#[derive(Debug)]
pub struct CsvFile {
    pub kind: ListKind,
    pub detected_by: DetectedBy,
    pub has_header: bool,
    /// See [`CsvReader::likely_mismatched`].
    pub likely_mismatched: Option<ListKind>,
    /// The rows read, in file order.
    pub rows: Vec<Row>,
    /// The rows that could not be read, in file order.
    pub errors: Vec<RowError>,
}

/// Reads a whole file: [`CsvReader`] with its rows collected.
pub fn read<R: Read>(input: R, options: &ReadOptions<'_>) -> Result<CsvFile, CsvError> {
    let mut reader = CsvReader::new(input, options)?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for item in &mut reader {
        match item? {
            Ok(row) => rows.push(row),
            Err(error) => errors.push(error),
        }
    }
    Ok(CsvFile {
        kind: reader.kind,
        detected_by: reader.detected_by,
        has_header: reader.has_header,
        likely_mismatched: reader.likely_mismatched,
        rows,
        errors,
    })
}

// ------------------------------------------------------------------------------------------------
// Cells
// ------------------------------------------------------------------------------------------------

/// `ActiveModel::Type::Boolean#cast` of the downcased cell: empty is "not stated", a false
/// value is false, anything else is true. Rails' false values are `false 0 f off`; `no` is added
/// because whoever writes it means false (Rails would read true).
fn boolean(cell: &str) -> Option<bool> {
    if cell.is_empty() {
        return None;
    }
    let value = cell.to_lowercase();
    Some(!matches!(
        value.as_str(),
        "false" | "0" | "f" | "off" | "no"
    ))
}

/// `field.split(',').map(&:strip).presence`, with empty items dropped and each code checked
/// and lowercased (Mastodon's language keys are lowercase; `EN` would be refused there).
fn languages(cell: &str) -> Result<Option<Vec<String>>, RowReason> {
    let mut codes = Vec::new();
    for code in cell.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        if !is_language_code(code) {
            return Err(RowReason::Language(code.to_owned()));
        }
        codes.push(code.to_ascii_lowercase());
    }
    Ok((!codes.is_empty()).then_some(codes))
}

/// An ISO 639-1 or 639-3 code, optionally with BCP 47 subtags (`en`, `ast`, `zh-TW`).
fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn parse_status_uri(text: &str) -> Result<Url, RowReason> {
    let bad = |reason| RowReason::BadUri {
        uri: text.to_owned(),
        reason,
    };
    let url = Url::parse(text).map_err(|_| bad("it is not a link"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("it is not an http(s) link"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    Ok(url)
}

// ------------------------------------------------------------------------------------------------
// Writing
// ------------------------------------------------------------------------------------------------

/// Writes `rows` as Mastodon's export of `kind` (see the module doc for the format).
///
/// Every row must be of `kind`; a row of another kind stops the writing with
/// [`WriteError::KindMismatch`], after the rows before it were written. A lists file whose first
/// list is named like a header (`List name`, `Account address`, …) gets the `List name,Account
/// address` header, or Mastodon would take that first row for one.
pub fn write_csv<W, I>(kind: ListKind, rows: I, writer: W) -> Result<(), WriteError>
where
    W: Write,
    I: IntoIterator,
    I::Item: AsRef<Entry>,
{
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(writer);
    if let Some(header) = kind.header() {
        out.write_record(header)?;
    }
    let mut first = true;
    for item in rows {
        let entry = item.as_ref();
        if entry.kind() != kind {
            return Err(WriteError::KindMismatch {
                expected: kind,
                found: entry.kind(),
            });
        }
        match entry {
            Entry::Follow(follow) => out.write_record([
                follow.handle.to_string().as_str(),
                boolean_cell(follow.reblogs),
                boolean_cell(follow.notify),
                follow
                    .languages
                    .as_deref()
                    .unwrap_or_default()
                    .join(", ")
                    .as_str(),
            ])?,
            Entry::Block(block) => out.write_record([block.handle.to_string()])?,
            Entry::Mute(mute) => out.write_record([
                mute.handle.to_string().as_str(),
                boolean_cell(mute.hide_notifications),
            ])?,
            Entry::DomainBlock(block) => out.write_record([block.domain.as_str()])?,
            Entry::ListMember(member) => {
                if first && is_known_first_header(&member.list) {
                    out.write_record(LISTS_HEADER)?;
                }
                out.write_record([member.list.as_str(), member.handle.to_string().as_str()])?;
            }
            Entry::Bookmark(bookmark) => out.write_record([bookmark.uri.as_str()])?,
        }
        first = false;
    }
    out.flush().map_err(WriteError::Io)
}

fn boolean_cell(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str, options: ReadOptions<'_>) -> CsvFile {
        read(text.as_bytes(), &options).unwrap_or_else(|e| panic!("{e}"))
    }

    fn auto(text: &str) -> CsvFile {
        read_str(text, ReadOptions::default())
    }

    fn follow(row: &Row) -> &Follow {
        match &row.entry {
            Entry::Follow(follow) => follow,
            other => panic!("not a follow: {other:?}"),
        }
    }

    #[test]
    fn booleans_as_rails_casts_them() {
        for (cell, expected) in [
            ("", None),
            ("false", Some(false)),
            ("FALSE", Some(false)),
            ("False", Some(false)),
            ("0", Some(false)),
            ("f", Some(false)),
            ("F", Some(false)),
            ("off", Some(false)),
            ("OFF", Some(false)),
            ("no", Some(false)),
            ("true", Some(true)),
            ("1", Some(true)),
            ("yes", Some(true)),
            ("whatever", Some(true)),
        ] {
            assert_eq!(boolean(cell), expected, "{cell:?}");
        }
    }

    #[test]
    fn languages_split_trimmed_checked() {
        assert_eq!(languages(""), Ok(None));
        assert_eq!(languages(" , "), Ok(None));
        assert_eq!(
            languages("en, FR ,de"),
            Ok(Some(vec!["en".into(), "fr".into(), "de".into()]))
        );
        assert_eq!(languages("zh-TW"), Ok(Some(vec!["zh-tw".into()])));
        assert_eq!(
            languages("en, English"),
            Err(RowReason::Language("English".into()))
        );
    }

    #[test]
    fn header_decides_the_kind() {
        let file = auto("Account address,Hide notifications\na@x.org,true\n");
        assert_eq!(
            (file.kind, file.detected_by),
            (ListKind::Mutes, DetectedBy::Header)
        );
        assert!(file.has_header);
        let file = auto("Account address,Languages\na@x.org,en\n");
        assert_eq!(file.kind, ListKind::Follows);
        let file = auto("#domain\nexample.com\n");
        assert_eq!(file.kind, ListKind::DomainBlocks);
        let file = auto("#uri\nhttps://x.org/notes/1\n");
        assert_eq!(file.kind, ListKind::Bookmarks);
        let file = auto("List name,Account address\nfriends,a@x.org\n");
        assert_eq!(file.kind, ListKind::Lists);
        // Case and spaces are forgiven; Mastodon would not.
        let file = auto(" account ADDRESS ,show boosts\na@x.org,false\n");
        assert_eq!((file.kind, file.has_header), (ListKind::Follows, true));
        assert_eq!(follow(&file.rows[0]).reblogs, Some(false));
    }

    #[test]
    fn a_bare_account_header_leaves_it_to_the_file_name() {
        let text = "Account address\na@x.org\n";
        assert_eq!(
            (auto(text).kind, auto(text).detected_by),
            (ListKind::Follows, DetectedBy::Default)
        );
        let file = read_str(
            text,
            ReadOptions {
                kind: None,
                file_name: Some("exports/blocked_accounts_failures.csv"),
            },
        );
        assert_eq!(
            (file.kind, file.detected_by),
            (ListKind::Blocks, DetectedBy::FileName)
        );
    }

    #[test]
    fn content_decides_without_a_header() {
        let file = auto("Friends,a@x.org\nWork,b@y.org\n");
        assert_eq!(
            (file.kind, file.detected_by),
            (ListKind::Lists, DetectedBy::Content)
        );
        let file = auto("example.com\nEXAMPLE.org\n");
        assert_eq!(file.kind, ListKind::DomainBlocks);
        assert_eq!(file.rows.len(), 2);
        let file = auto("https://x.org/@a/1\nhttps://y.org/notes/abc\n");
        assert_eq!(file.kind, ListKind::Bookmarks);
        let file = auto("a@x.org\nb@y.org\n");
        assert_eq!(
            (file.kind, file.detected_by),
            (ListKind::Follows, DetectedBy::Default)
        );
        // Content beats a misleading name; the name only tells account lists apart.
        let file = read_str(
            "example.com\n",
            ReadOptions {
                kind: None,
                file_name: Some("blocks.csv"),
            },
        );
        assert_eq!(file.kind, ListKind::DomainBlocks);
        // One bad first row does not mislead the vote.
        let file = auto("nonsense\na@x.org\nb@x.org\n");
        assert_eq!(file.kind, ListKind::Follows);
        assert_eq!((file.rows.len(), file.errors.len()), (2, 1));
    }

    #[test]
    fn file_name_prefixes() {
        for (name, kind) in [
            ("following_accounts.csv", Some(ListKind::Follows)),
            ("follows.csv", Some(ListKind::Follows)),
            ("Following_Accounts (1).csv", Some(ListKind::Follows)),
            ("blocked_accounts.csv", Some(ListKind::Blocks)),
            ("blocks.csv", Some(ListKind::Blocks)),
            ("muted_accounts.csv", Some(ListKind::Mutes)),
            ("mutes.csv", Some(ListKind::Mutes)),
            ("blocked_domains.csv", Some(ListKind::DomainBlocks)),
            ("domain_blocks.csv", Some(ListKind::DomainBlocks)),
            ("bookmarks.csv", Some(ListKind::Bookmarks)),
            ("lists.csv", Some(ListKind::Lists)),
            ("C:\\Users\\me\\Downloads\\lists.csv", Some(ListKind::Lists)),
            ("imports.txt", None),
            ("my_blocks.csv", None),
        ] {
            assert_eq!(ListKind::from_file_name(name), kind, "{name}");
        }
    }

    #[test]
    fn override_wins_and_reports_a_mismatch() {
        let text =
            "Account address,Show boosts,Notify on new posts,Languages\na@x.org,true,false,\n";
        let file = read_str(
            text,
            ReadOptions {
                kind: Some(ListKind::Blocks),
                file_name: None,
            },
        );
        assert_eq!(
            (file.kind, file.detected_by),
            (ListKind::Blocks, DetectedBy::Override)
        );
        assert_eq!(file.likely_mismatched, Some(ListKind::Follows));
        assert!(matches!(file.rows[0].entry, Entry::Block(_)));
        // Nothing contradicts a plain list of accounts read as mutes.
        let file = read_str(
            "a@x.org\n",
            ReadOptions {
                kind: Some(ListKind::Mutes),
                file_name: None,
            },
        );
        assert_eq!(file.likely_mismatched, None);
    }

    #[test]
    fn incompatible_header_is_a_file_error() {
        let error = read(
            "Account address,Show boosts\na@x.org,true\n".as_bytes(),
            &ReadOptions {
                kind: Some(ListKind::DomainBlocks),
                file_name: None,
            },
        )
        .unwrap_err();
        assert!(matches!(
            error,
            CsvError::IncompatibleHeader {
                kind: ListKind::DomainBlocks,
                missing: "#domain"
            }
        ));
        assert!(error.hint().is_some());
    }

    #[test]
    fn headerless_follows_keep_only_the_account_like_mastodon() {
        let file = auto("a@x.org,false,true,en\n");
        let f = follow(&file.rows[0]);
        assert_eq!((f.reblogs, f.notify, &f.languages), (None, None, &None));
    }

    #[test]
    fn row_errors_carry_line_and_text() {
        let file = auto("a@x.org\n\nbob\n   \n,,\nc@y.org\n");
        assert_eq!(file.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 6]);
        assert_eq!(file.errors.len(), 1);
        let error = &file.errors[0];
        assert_eq!((error.line, error.text.as_str()), (3, "bob"));
        assert!(matches!(
            error.reason,
            RowReason::Handle(HandleError::NoHost { .. })
        ));
        assert_eq!(
            error.to_string(),
            "line 3: `bob` has no server: write it as `bob@server.example` (in `bob`)"
        );
    }

    #[test]
    fn row_text_is_cut() {
        let long = "x".repeat(500);
        let text = row_text(&[long, "b,c".into()]);
        assert_eq!(text.chars().count(), ROW_TEXT_LIMIT + 1);
        assert!(text.ends_with('…'));
        assert_eq!(
            row_text(&["a".into(), "b,\"c\"".into()]),
            "a,\"b,\"\"c\"\"\""
        );
    }

    #[test]
    fn line_numbers_count_quoted_line_breaks() {
        let file = auto("\"Two\nlines\",a@x.org\nOne,b@x.org\n");
        assert_eq!(file.kind, ListKind::Lists);
        assert_eq!(file.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn too_long_lines_are_row_errors() {
        let mut text = String::from("a@x.org\n");
        text.push_str(&"y".repeat(MAX_LINE + 10));
        text.push_str("@x.org\nb@x.org\n");
        text.push_str(&"z".repeat(3 * MAX_LINE));
        let file = auto(&text);
        assert_eq!(file.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(
            file.errors.iter().map(|e| e.line).collect::<Vec<_>>(),
            [2, 4]
        );
        assert!(
            file.errors
                .iter()
                .all(|e| e.reason == RowReason::LineTooLong)
        );
        assert!(file.errors[0].text.chars().count() <= ROW_TEXT_LIMIT + 1);
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_read() {
        let user = "u".repeat(MAX_LINE - "@x.org".len());
        let file = auto(&format!("{user}@x.org\n"));
        assert_eq!((file.rows.len(), file.errors.len()), (1, 0));
    }

    #[test]
    fn an_unclosed_quote_is_a_file_error() {
        let mut text = String::from("a@x.org\n\"b@x.org\n");
        for _ in 0..(2 * MAX_RECORD / 100) {
            text.push_str(&"c".repeat(99));
            text.push('\n');
        }
        let error = read(text.as_bytes(), &ReadOptions::default()).unwrap_err();
        assert!(
            matches!(error, CsvError::UnclosedQuote { line: 2 }),
            "{error:?}"
        );
    }

    #[test]
    fn an_unclosed_quote_at_the_end_is_a_file_error_too() {
        // Found by the `mastodon_csv` fuzz target: a quote that never closed swallowed the rest
        // of a short file into one cell (the rows in it lost without a word), and the row was
        // reported at line 0.
        let text = "alice@x.org,\"\nbob@y.org\ncarol@z.org\n";
        let error = read(text.as_bytes(), &ReadOptions::default()).unwrap_err();
        assert!(
            matches!(error, CsvError::UnclosedQuote { line: 1 }),
            "{error:?}"
        );
        let text = "a@x.org\r\nb@x.org,x\"y\r\n\"c@x.org\r\nd@x.org";
        let error = read(text.as_bytes(), &ReadOptions::default()).unwrap_err();
        assert!(
            matches!(error, CsvError::UnclosedQuote { line: 3 }),
            "{error:?}"
        );
        // Closed quotes, escaped quotes and a quote inside an unquoted cell are fine.
        let file = auto("\"a@x.org\",\"say \"\"hi\"\"\"\nb@x.org,x\"y\n\"c@x.org\"");
        assert_eq!((file.rows.len(), file.errors.len()), (3, 0), "{file:?}");
    }

    #[test]
    fn a_byte_order_mark_inside_the_file_is_trimmed_from_cells() {
        // Found by the `mastodon_csv` fuzz target: a list title kept a BOM that started its
        // line, and written back and read again it lost it (a file's leading BOM is dropped).
        let text = "Friends,a@x.org\n\u{feff}Friends,b@x.org\n\u{feff}Work \u{feff},c@x.org\n";
        let file = read(
            text.as_bytes(),
            &ReadOptions {
                kind: Some(ListKind::Lists),
                file_name: None,
            },
        )
        .unwrap();
        let lists: Vec<&str> = file
            .rows
            .iter()
            .map(|r| match &r.entry {
                Entry::ListMember(m) => m.list.as_str(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(lists, ["Friends", "Friends", "Work"]);
    }

    #[test]
    fn encodings() {
        let err = |bytes: &[u8]| read(bytes, &ReadOptions::default()).unwrap_err();
        assert!(matches!(err(b""), CsvError::Empty));
        assert!(matches!(err(b"\xEF\xBB\xBF"), CsvError::Empty));
        assert!(matches!(err(b"\n\r\n\n"), CsvError::Empty));
        assert!(matches!(
            err(b"\xFF\xFEa\0@\0"),
            CsvError::Encoding {
                encoding: "UTF-16 (little-endian)"
            }
        ));
        assert!(matches!(
            err(b"\xFE\xFF\0a\0@"),
            CsvError::Encoding {
                encoding: "UTF-16 (big-endian)"
            }
        ));
        assert!(matches!(
            err(b"\xFF\xFE\0\0a\0\0\0"),
            CsvError::Encoding {
                encoding: "UTF-32 (little-endian)"
            }
        ));
        assert!(matches!(
            err(b"a\0@\0x\0.\0o\0r\0g\0\n\0"),
            CsvError::Encoding {
                encoding: "UTF-16 (little-endian, without BOM)"
            }
        ));
        assert!(matches!(
            err(b"PK\x03\x04\x14\0\0\0"),
            CsvError::NotText { .. }
        ));
        assert!(matches!(
            err(b"a@x.org\nb@x.org\nJos\xE9@x.org\n"),
            CsvError::NotUtf8 {
                line: 3,
                byte: 0xE9
            }
        ));
    }

    #[test]
    fn bom_and_crlf() {
        let file =
            auto("\u{FEFF}Account address,Show boosts\r\na@x.org,false\r\n\r\nb@x.org,true\r\n");
        assert!(file.has_header);
        assert_eq!(file.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(follow(&file.rows[0]).reblogs, Some(false));
    }

    #[test]
    fn every_kind_of_line_break_counts() {
        // Old Mac exports end lines with a lone `\r`.
        let file = auto("a@x.org\r\rb@x.org\rbob\r");
        assert_eq!(file.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(file.errors[0].line, 4);
        // Line breaks inside quotes, of every kind, before later rows.
        let file = auto("\"A\r\nB\rC\nD\",a@x.org\r\n\nOne,b@x.org\nTwo,bob\n");
        assert_eq!(file.kind, ListKind::Lists);
        assert_eq!(file.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 6]);
        assert_eq!(file.errors[0].line, 7);
        // The last row without a line end.
        let file = auto("a@x.org\n\nb@x.org");
        assert_eq!(file.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn a_header_only_file_has_no_rows() {
        let file = auto("Account address,Hide notifications\n");
        assert_eq!((file.kind, file.rows.len()), (ListKind::Mutes, 0));
    }

    #[test]
    fn writes_mastodons_formats() {
        let handle = |s: &str| Handle::parse(s).unwrap();
        let mut out = Vec::new();
        let follows = [
            Entry::Follow(Follow {
                handle: handle("@Alice@Example.com"),
                reblogs: Some(true),
                notify: Some(false),
                languages: None,
            }),
            Entry::Follow(Follow {
                // Given in punycode, written in Unicode as Mastodon exports it.
                handle: handle(&handle("nare@թութ.հայ").ascii()),
                reblogs: Some(false),
                notify: Some(true),
                languages: Some(vec!["en".into(), "fr".into()]),
            }),
            Entry::Follow(Follow {
                handle: handle("c@x.org"),
                reblogs: None,
                notify: None,
                languages: Some(vec!["de".into()]),
            }),
        ];
        write_csv(ListKind::Follows, &follows, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Account address,Show boosts,Notify on new posts,Languages\n\
             Alice@example.com,true,false,\n\
             nare@թութ.հայ,false,true,\"en, fr\"\n\
             c@x.org,,,de\n"
        );

        let mut out = Vec::new();
        let mutes = [Entry::Mute(Mute {
            handle: handle("a@x.org"),
            hide_notifications: Some(true),
        })];
        write_csv(ListKind::Mutes, mutes, &mut out).unwrap();
        assert_eq!(out, b"Account address,Hide notifications\na@x.org,true\n");

        let mut out = Vec::new();
        let blocks = [Entry::Block(Block {
            handle: handle("a@x.org"),
        })];
        write_csv(ListKind::Blocks, blocks, &mut out).unwrap();
        assert_eq!(out, b"a@x.org\n");

        let mut out = Vec::new();
        let lists = [Entry::ListMember(ListMember {
            list: "Friends, close".into(),
            handle: handle("a@x.org"),
        })];
        write_csv(ListKind::Lists, lists, &mut out).unwrap();
        assert_eq!(out, b"\"Friends, close\",a@x.org\n");

        let mut out = Vec::new();
        write_csv(ListKind::Follows, Vec::<Entry>::new(), &mut out).unwrap();
        assert_eq!(
            out,
            b"Account address,Show boosts,Notify on new posts,Languages\n"
        );
        let mut out = Vec::new();
        write_csv(ListKind::Blocks, Vec::<Entry>::new(), &mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn a_list_named_like_a_header_gets_the_header() {
        let member = |list: &str| {
            Entry::ListMember(ListMember {
                list: list.into(),
                handle: Handle::parse("a@x.org").unwrap(),
            })
        };
        let mut out = Vec::new();
        write_csv(
            ListKind::Lists,
            [member("List name"), member("Other")],
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out,
            b"List name,Account address\nList name,a@x.org\nOther,a@x.org\n"
        );
        let file = auto(std::str::from_utf8(&out).unwrap());
        assert_eq!(file.kind, ListKind::Lists);
        assert_eq!(file.rows.len(), 2);
    }

    #[test]
    fn writing_another_kind_is_refused() {
        let block = Entry::Block(Block {
            handle: Handle::parse("a@x.org").unwrap(),
        });
        let error = write_csv(ListKind::Mutes, [block], Vec::new()).unwrap_err();
        assert!(matches!(
            error,
            WriteError::KindMismatch {
                expected: ListKind::Mutes,
                found: ListKind::Blocks
            }
        ));
    }

    #[test]
    fn kind_names() {
        for kind in ListKind::ALL {
            assert_eq!(kind.mastodon_type().parse::<ListKind>(), Ok(kind));
            assert_eq!(kind.to_string().parse::<ListKind>(), Ok(kind));
            assert_eq!(
                ListKind::from_file_name(kind.export_file_name()),
                Some(kind)
            );
        }
        assert!("friends".parse::<ListKind>().is_err());
    }
}
