//! What `resolve` and `import` share for Mastodon CSV exports: reading the file (with a clear
//! error for an unusable one), turning rows into operations, where reports go, and the
//! resolver built from the global options.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::net::http::Http;
use crate::net::webfinger::{Resolver, ResolverConfig};
use crate::plan::graph::Op;
use crate::source::handle::Handle;
use crate::source::mastodon_csv::{
    self, CsvError, CsvFile, CsvReader, Entry, ListKind, ReadOptions, Row, RowError,
};

use super::{CliError, exit};

/// `--type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TypeArg {
    Follows,
    Blocks,
    Mutes,
    DomainBlocks,
    Lists,
    Bookmarks,
}

impl From<TypeArg> for ListKind {
    fn from(t: TypeArg) -> ListKind {
        match t {
            TypeArg::Follows => ListKind::Follows,
            TypeArg::Blocks => ListKind::Blocks,
            TypeArg::Mutes => ListKind::Mutes,
            TypeArg::DomainBlocks => ListKind::DomainBlocks,
            TypeArg::Lists => ListKind::Lists,
            TypeArg::Bookmarks => ListKind::Bookmarks,
        }
    }
}

/// A CSV input, read whole (for `resolve`).
pub struct CsvInput {
    pub file: CsvFile,
}

/// A CSV input read for `import`: its rows, kept as [`Rows`], and its fingerprint.
pub struct GraphInput {
    pub path: PathBuf,
    pub kind: ListKind,
    pub rows: Rows,
    /// The rows that could not be read, in file order.
    pub errors: Vec<RowError>,
    /// SHA-256 of the file's bytes: with the account and kind, the run's identity.
    pub fingerprint: String,
}

/// Every row of a file, compactly: each distinct entry once, with the line it first appears on,
/// and every row as its line and which entry it has.
///
/// A list of handles may name a few accounts over and over (the hostile-inputs test has 100,000
/// lines and two accounts): a repeated row then costs a line number and an index, not an entry,
/// an operation, a payload and a report line of its own. Rows share an entry only when they ask
/// for exactly the same operation, spelled the same way, so every row still reads as written.
#[derive(Debug, Default)]
pub struct Rows {
    /// Distinct entries in the order they first appear, with the line where they do.
    entries: Vec<(u64, Entry)>,
    /// Every row in file order: its line and its index in `entries`.
    rows: Vec<(u64, usize)>,
}

impl Rows {
    /// Collects `rows` (in file order).
    fn new(rows: impl IntoIterator<Item = Row>) -> Rows {
        let mut compact = Rows::default();
        // Keyed by the operation's JSON: equal exactly when the operations are.
        let mut index: HashMap<String, usize> = HashMap::new();
        for row in rows {
            let identity = serde_json::to_string(&op_of(&row.entry)).expect("serializable");
            let next = compact.entries.len();
            let at = *index.entry(identity).or_insert(next);
            if at == next {
                compact.entries.push((row.line, row.entry));
            }
            compact.rows.push((row.line, at));
        }
        compact
    }

    /// The distinct entries, in the order they first appear, each with its first line.
    pub fn entries(&self) -> impl Iterator<Item = (u64, &Entry)> {
        self.entries.iter().map(|(line, entry)| (*line, entry))
    }

    /// Every row in file order: its line and the index of its entry in [`Rows::entries`].
    pub fn rows(&self) -> impl Iterator<Item = (u64, usize)> + '_ {
        self.rows.iter().copied()
    }

    /// The entry at `index` of [`Rows::entries`].
    pub fn entry(&self, index: usize) -> &Entry {
        &self.entries[index].1
    }
}

/// The largest CSV accepted (Mastodon's own limit is 20 MB).
const MAX_CSV: u64 = 64 * 1024 * 1024;

/// Reads `path` whole.
pub fn read_csv(path: &Path, kind: Option<TypeArg>) -> Result<CsvInput, CliError> {
    let name = path.file_name().and_then(|n| n.to_str());
    let file = mastodon_csv::read(
        open(path)?,
        &ReadOptions {
            kind: kind.map(Into::into),
            file_name: name,
        },
    )
    .map_err(|e| unreadable(path, e))?;
    Ok(CsvInput { file })
}

/// Reads `path` for `import`, one row at a time, hashing it as it goes.
pub fn read_graph(path: &Path, kind: Option<TypeArg>) -> Result<GraphInput, CliError> {
    let mut input = Fingerprinted {
        inner: open(path)?,
        hash: Sha256::new(),
    };
    let name = path.file_name().and_then(|n| n.to_str());
    let mut reader = CsvReader::new(
        &mut input,
        &ReadOptions {
            kind: kind.map(Into::into),
            file_name: name,
        },
    )
    .map_err(|e| unreadable(path, e))?;
    let kind = reader.kind();
    let mut errors = Vec::new();
    let mut failure = None;
    let rows = Rows::new(reader.by_ref().filter_map(|item| match item {
        Ok(Ok(row)) => Some(row),
        Ok(Err(error)) => {
            errors.push(error);
            None
        }
        Err(e) => {
            failure = Some(e);
            None
        }
    }));
    drop(reader);
    if let Some(e) = failure {
        return Err(unreadable(path, e));
    }
    Ok(GraphInput {
        path: path.to_path_buf(),
        kind,
        rows,
        errors,
        fingerprint: input.fingerprint().map_err(read_error(path))?,
    })
}

/// The operation an entry asks for.
pub fn op_of(entry: &Entry) -> Op {
    match entry {
        Entry::Follow(f) => Op::Follow {
            handle: f.handle.to_string(),
            reblogs: f.reblogs,
            notify: f.notify,
            languages: f.languages.clone(),
        },
        Entry::Block(b) => Op::Block {
            handle: b.handle.to_string(),
        },
        Entry::Mute(m) => Op::Mute {
            handle: m.handle.to_string(),
            notifications: m.hide_notifications,
        },
        Entry::DomainBlock(d) => Op::DomainBlock {
            domain: d.domain.to_string(),
        },
        Entry::ListMember(l) => Op::ListMember {
            list: l.list.clone(),
            handle: l.handle.to_string(),
        },
        Entry::Bookmark(b) => Op::Bookmark {
            uri: b.uri.to_string(),
        },
    }
}

/// The input file, opened, if it can be a CSV file.
fn open(path: &Path) -> Result<BufReader<File>, CliError> {
    let meta = std::fs::metadata(path).map_err(read_error(path))?;
    if meta.is_dir() {
        return Err(CliError::new(
            exit::USAGE,
            anyhow::anyhow!("`{}` is a folder, not a CSV file", path.display()),
        ));
    }
    if meta.len() > MAX_CSV {
        return Err(CliError::new(
            exit::USAGE,
            anyhow::anyhow!(
                "`{}` is {} MB; a Mastodon export is at most 20 MB",
                path.display(),
                meta.len() / 1_000_000
            ),
        ));
    }
    let file = File::open(path).map_err(read_error(path))?;
    Ok(BufReader::new(file))
}

fn read_error(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |e| {
        CliError::new(
            exit::USAGE,
            anyhow::Error::new(e).context(format!("could not read `{}`", path.display())),
        )
    }
}

fn unreadable(path: &Path, e: CsvError) -> CliError {
    let hint = e.hint();
    CliError::new(
        exit::USAGE,
        anyhow::Error::new(e).context(format!("could not read `{}`", path.display())),
    )
    .with_hint(hint)
}

/// A reader that hashes what passes through it, so that the file is read once and never held
/// whole (a CSV may be 64 MB).
struct Fingerprinted<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Fingerprinted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

impl<R: Read> Fingerprinted<R> {
    /// SHA-256 of every byte of the input, in hex: what the reader left unread is read first.
    fn fingerprint(mut self) -> std::io::Result<String> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok(self
            .hash
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect())
    }
}

/// The entry of `item` with its handle replaced by `canonical` (for re-importable output).
pub fn entry_with_handle(entry: &Entry, canonical: Option<&str>) -> Entry {
    let Some(h) = canonical.and_then(|c| Handle::parse(c).ok()) else {
        return entry.clone();
    };
    match entry.clone() {
        Entry::Follow(mut f) => {
            f.handle = h;
            Entry::Follow(f)
        }
        Entry::Block(mut b) => {
            b.handle = h;
            Entry::Block(b)
        }
        Entry::Mute(mut m) => {
            m.handle = h;
            Entry::Mute(m)
        }
        Entry::ListMember(mut l) => {
            l.handle = h;
            Entry::ListMember(l)
        }
        other => other,
    }
}

/// `<dir>/<name>.<suffix>`: next to the input, or in `-o DIR`; `<name>` is the input's file
/// name without its extension.
pub fn output_path(input: &Path, out_dir: Option<&Path>, suffix: &str) -> PathBuf {
    let stem = input
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("input");
    let dir = out_dir
        .map(Path::to_path_buf)
        .or_else(|| input.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    dir.join(format!("{stem}.{suffix}"))
}

/// Writes a report file, creating `-o DIR` when needed.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    create_parent(path)?;
    std::fs::write(path, bytes).map_err(|e| write_error(path, e))
}

/// Creates a report file to be written as it is made, creating `-o DIR` when needed. Whoever
/// writes it flushes it, to see the errors that dropping it would hide.
pub fn create_file(path: &Path) -> Result<BufWriter<File>, CliError> {
    create_parent(path)?;
    File::create(path)
        .map(BufWriter::new)
        .map_err(|e| write_error(path, e))
}

fn create_parent(path: &Path) -> Result<(), CliError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|e| {
                CliError::new(
                    exit::FAILED,
                    anyhow::Error::new(e)
                        .context(format!("could not create `{}`", parent.display())),
                )
            })
        }
        _ => Ok(()),
    }
}

/// A report file that could not be written.
pub fn write_error<E>(path: &Path, e: E) -> CliError
where
    E: std::error::Error + Send + Sync + 'static,
{
    CliError::new(
        exit::FAILED,
        anyhow::Error::new(e).context(format!("could not write `{}`", path.display())),
    )
}

pub fn resolver(http: Http, global_limit: usize, per_host: usize) -> Resolver {
    Resolver::new(
        http,
        ResolverConfig {
            global: global_limit,
            per_host,
            ..ResolverConfig::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> GraphInput {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("handles.txt");
        std::fs::write(&path, text).unwrap();
        read_graph(&path, None).unwrap_or_else(|e| panic!("{:#}", e.error))
    }

    #[test]
    fn rows_share_an_entry_only_when_they_ask_for_the_same_thing_spelled_the_same() {
        let input = read(
            "Account address,Show boosts\n\
             ana@far.example,true\n\
             @ana@far.example,true\n\
             ANA@far.example,true\n\
             ana@far.example,false\n\
             not an address,true\n\
             ana@far.example,true\n",
        );
        let entries: Vec<(u64, String)> = input
            .rows
            .entries()
            .map(|(line, e)| (line, serde_json::to_string(&op_of(e)).unwrap()))
            .collect();
        let follow = |handle: &str, reblogs: bool| {
            format!(r#"{{"op":"follow","handle":"{handle}","reblogs":{reblogs}}}"#)
        };
        assert_eq!(
            entries,
            [
                (2, follow("ana@far.example", true)),
                (4, follow("ANA@far.example", true)),
                (5, follow("ana@far.example", false)),
            ]
        );
        let rows: Vec<(u64, usize)> = input.rows.rows().collect();
        assert_eq!(rows, [(2, 0), (3, 0), (4, 1), (5, 2), (7, 0)]);
        assert_eq!(input.errors.len(), 1);
        assert_eq!(input.errors[0].line, 6);
    }

    #[test]
    fn the_fingerprint_is_the_files_sha256_however_it_is_read() {
        // A run is found again by it: it must not change with how the file is read.
        let text = "ana@far.example\n".repeat(10_000);
        let input = read(&text);
        let expected: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(input.fingerprint, expected);
    }
}
