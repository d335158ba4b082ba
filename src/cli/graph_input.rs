//! What `resolve` and `import` share for Mastodon CSV exports: reading the file (with a clear
//! error for an unusable one), turning rows into operations, where reports go, and the
//! resolver built from the global options.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::net::http::Http;
use crate::net::webfinger::{Resolver, ResolverConfig};
use crate::plan::graph::{GraphItem, Op};
use crate::source::handle::Handle;
use crate::source::mastodon_csv::{self, CsvFile, Entry, ListKind, ReadOptions, Row};

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

/// A CSV input, read.
pub struct CsvInput {
    pub path: PathBuf,
    pub file: CsvFile,
    /// SHA-256 of the file's bytes: with the account and kind, the run's identity.
    pub fingerprint: String,
}

/// The largest CSV accepted (Mastodon's own limit is 20 MB).
const MAX_CSV: u64 = 64 * 1024 * 1024;

pub fn read_csv(path: &Path, kind: Option<TypeArg>) -> Result<CsvInput, CliError> {
    let io = |e: std::io::Error| {
        CliError::new(
            exit::USAGE,
            anyhow::Error::new(e).context(format!("could not read `{}`", path.display())),
        )
    };
    let meta = std::fs::metadata(path).map_err(io)?;
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
    let bytes = std::fs::read(path).map_err(io)?;
    let fingerprint: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let name = path.file_name().and_then(|n| n.to_str());
    let file = mastodon_csv::read(
        &bytes[..],
        &ReadOptions {
            kind: kind.map(Into::into),
            file_name: name,
        },
    )
    .map_err(|e| {
        let hint = e.hint();
        CliError::new(
            exit::USAGE,
            anyhow::Error::new(e).context(format!("could not read `{}`", path.display())),
        )
        .with_hint(hint)
    })?;
    Ok(CsvInput {
        path: path.to_path_buf(),
        file,
        fingerprint,
    })
}

/// One operation per row.
pub fn items(file: &CsvFile) -> Vec<GraphItem> {
    file.rows
        .iter()
        .map(|row| GraphItem::new(row.line, items_from_row(row)))
        .collect()
}

/// The operation a row asks for.
pub fn items_from_row(row: &Row) -> Op {
    match &row.entry {
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
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            CliError::new(
                exit::FAILED,
                anyhow::Error::new(e).context(format!("could not create `{}`", parent.display())),
            )
        })?;
    }
    std::fs::write(path, bytes).map_err(|e| {
        CliError::new(
            exit::FAILED,
            anyhow::Error::new(e).context(format!("could not write `{}`", path.display())),
        )
    })
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
