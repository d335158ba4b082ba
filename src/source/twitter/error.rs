//! Why an archive could not be read. Each variant names its subject (the archive, the file in
//! it, the position) and, through [`ArchiveError::hint`], what the user can do about it.

use std::path::PathBuf;

use super::ytd::{Position, YtdError};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("could not read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is neither a zip file nor a folder", path.display())]
    NotZip { path: PathBuf },
    #[error("could not read the zip `{}`", path.display())]
    BadZip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("`{}` holds no `data/` folder of a Twitter/X archive", path.display())]
    NoData { path: PathBuf },
    #[error("`{}` is a pre-2019 Twitter archive (with `tweets.csv`), which migrate cannot read", path.display())]
    Classic { path: PathBuf },
    #[error("the zip `{}` contains an entry with an unsafe name: `{name}`", path.display())]
    UnsafeName { path: PathBuf, name: String },
    #[error(
        "`{entry}` in `{}` claims to expand to {size} bytes from {compressed} (a zip bomb?)",
        path.display()
    )]
    Bomb {
        path: PathBuf,
        entry: String,
        size: u64,
        compressed: u64,
    },
    #[error("could not read `{file}` in `{}`", path.display())]
    File {
        path: PathBuf,
        file: String,
        #[source]
        source: YtdError,
    },
    #[error("malformed JSON in `{file}` in `{}` at {at}: {message}", path.display())]
    Json {
        path: PathBuf,
        file: String,
        at: Position,
        message: String,
    },
}

impl ArchiveError {
    /// What the user can do, when there is something.
    pub fn hint(&self) -> Option<String> {
        match self {
            ArchiveError::NotZip { .. } => Some(
                "pass the archive `.zip` as downloaded from X, or the folder it extracts to".into(),
            ),
            ArchiveError::BadZip { .. } => Some(
                "the zip looks damaged or truncated; download the archive again, or extract it \
                 and pass the folder"
                    .into(),
            ),
            ArchiveError::NoData { .. } => Some(
                "pass the archive from X's Settings → Your account → Download an archive of your \
                 data; it has `data/tweets.js` and `data/manifest.js`"
                    .into(),
            ),
            ArchiveError::Classic { .. } => Some(
                "request the current archive instead: on X, Settings → Your account → Download \
                 an archive of your data (the \"Your archive\" zip with a `data/` folder)"
                    .into(),
            ),
            ArchiveError::UnsafeName { .. } | ArchiveError::Bomb { .. } => {
                Some("this zip was not made by X; use the archive as X delivered it".into())
            }
            ArchiveError::File {
                source: YtdError::Syntax { .. },
                ..
            }
            | ArchiveError::Json { .. } => Some(
                "the file looks truncated or edited; download the archive again (or restore the \
                 file from the original zip)"
                    .into(),
            ),
            ArchiveError::File {
                source: YtdError::NotData { .. },
                ..
            } => Some("restore this file from the original archive zip".into()),
            _ => None,
        }
    }
}
