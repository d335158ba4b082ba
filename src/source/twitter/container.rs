//! Where the archive's files live: the `.zip` as downloaded, or the folder it was extracted to.
//!
//! Both are addressed by names relative to the archive's `data/` folder, which may sit at any
//! depth (people re-zip the extracted folder with an extra top folder). Nothing is ever written
//! to disk, and entry names are only compared, never used as paths; still, a zip with an
//! unsafe name (`..`, absolute, NUL) is refused, since X never makes one.
//!
//! Reading a zip entry is guarded against decompression bombs: an entry whose declared size is
//! implausible for its compressed size, or above [`MAX_ENTRY`], is refused before reading, and
//! a stream that yields more than it declared is cut off with an error.

use std::collections::HashSet;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use zip::ZipArchive;

use super::error::ArchiveError;

/// The largest entry read from a zip. X splits tweets at about 100 MB per part.
pub const MAX_ENTRY: u64 = 2 * 1024 * 1024 * 1024;

/// The largest expansion ratio accepted for entries over [`RATIO_FLOOR`] bytes. Pretty-printed
/// archive JSON deflates about 5–15×; a bomb reaches 1000×.
pub const MAX_RATIO: u64 = 200;
const RATIO_FLOOR: u64 = 16 * 1024 * 1024;

/// How deep below the given folder `data/` is looked for.
const MAX_DEPTH: usize = 4;

const READ_BUFFER: usize = 256 * 1024;

/// Files whose presence marks the archive's `data/` folder.
const MARKERS: [&str; 4] = ["manifest.js", "account.js", "tweets.js", "tweet.js"];

pub struct Container {
    /// The path the user gave, for messages.
    path: PathBuf,
    kind: Kind,
}

enum Kind {
    Zip {
        zip: ZipArchive<BufReader<File>>,
        /// Entry-name prefix of `data/`, e.g. `data/` or `twitter-2024-11-16/data/`.
        data: String,
    },
    Dir {
        data: PathBuf,
    },
}

impl Container {
    pub fn open(path: &Path) -> Result<Container, ArchiveError> {
        let meta = std::fs::metadata(path).map_err(|source| ArchiveError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.is_dir() {
            return Self::open_dir(path);
        }
        let io_err = |source| ArchiveError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io_err)?;
        let mut magic = [0u8; 4];
        let n = read_up_to(&mut file, &mut magic).map_err(io_err)?;
        // A zip starts with a local header, or (empty zip) the end-of-central-directory record.
        if n < 4 || !(magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06") {
            return Err(ArchiveError::NotZip {
                path: path.to_path_buf(),
            });
        }
        let file = File::open(path).map_err(io_err)?;
        let zip = ZipArchive::new(BufReader::new(file)).map_err(|source| ArchiveError::BadZip {
            path: path.to_path_buf(),
            source,
        })?;
        let mut data: Option<String> = None;
        let mut classic = false;
        for i in 0..zip.len() {
            let entry = zip
                .by_index_data(i)
                .map_err(|source| ArchiveError::BadZip {
                    path: path.to_path_buf(),
                    source,
                })?;
            let raw = entry.name_raw();
            let name = String::from_utf8_lossy(raw);
            if raw.contains(&0) || entry.enclosed_name().is_none() || has_parent_component(&name) {
                return Err(ArchiveError::UnsafeName {
                    path: path.to_path_buf(),
                    name: name.replace('\0', "\\0"),
                });
            }
            if let Some(prefix) = data_prefix(&name)
                && data.as_ref().is_none_or(|d| prefix.len() < d.len())
            {
                data = Some(prefix.to_string());
            }
            classic |= is_classic(&name);
        }
        match data {
            Some(data) => Ok(Container {
                path: path.to_path_buf(),
                kind: Kind::Zip { zip, data },
            }),
            None if classic => Err(ArchiveError::Classic {
                path: path.to_path_buf(),
            }),
            None => Err(ArchiveError::NoData {
                path: path.to_path_buf(),
            }),
        }
    }

    fn open_dir(path: &Path) -> Result<Container, ArchiveError> {
        let mut classic = false;
        let found = find_data_dir(path, 0, &mut classic).map_err(|source| ArchiveError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        match found {
            Some(data) => Ok(Container {
                path: path.to_path_buf(),
                kind: Kind::Dir { data },
            }),
            None if classic => Err(ArchiveError::Classic {
                path: path.to_path_buf(),
            }),
            None => Err(ArchiveError::NoData {
                path: path.to_path_buf(),
            }),
        }
    }

    /// The path the user gave.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the archive is a folder (as opposed to a zip).
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir { .. })
    }

    /// Names (relative to `data/`) of the files directly in `data/`.
    pub fn data_files(&self) -> Vec<String> {
        match &self.kind {
            Kind::Zip { zip, data } => zip
                .file_names()
                .filter_map(|n| n.ok())
                .filter_map(|n| {
                    let rest = n.strip_prefix(data.as_str())?;
                    (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_string())
                })
                .collect(),
            Kind::Dir { data } => std::fs::read_dir(data)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().into_string().ok())
                .collect(),
        }
    }

    /// Whether `data/<rel>` exists as a file.
    pub fn exists(&self, rel: &str) -> bool {
        match &self.kind {
            Kind::Zip { zip, data } => zip.index_for_name(&format!("{data}{rel}")).is_some(),
            Kind::Dir { data } => data.join(rel).is_file(),
        }
    }

    /// Whether `data/<rel>/` exists as a folder (in a zip: holds at least one entry).
    pub fn dir_exists(&self, rel: &str) -> bool {
        match &self.kind {
            Kind::Zip { zip, data } => {
                let prefix = format!("{data}{rel}/");
                zip.file_names()
                    .filter_map(|n| n.ok())
                    .any(|n| n.starts_with(&prefix))
            }
            Kind::Dir { data } => data.join(rel).is_dir(),
        }
    }

    /// The set of file names in `data/<dir>/`, hashed (see [`name_hash`]) so that an archive
    /// with a hundred thousand media files costs a few MB, not tens.
    pub fn file_name_hashes(&self, dir: &str) -> HashSet<u64> {
        match &self.kind {
            Kind::Zip { zip, data } => {
                let prefix = format!("{data}{dir}/");
                zip.file_names()
                    .filter_map(|n| n.ok())
                    .filter_map(|n| {
                        let rest = n.strip_prefix(&prefix)?;
                        (!rest.is_empty() && !rest.contains('/')).then(|| name_hash(rest))
                    })
                    .collect()
            }
            Kind::Dir { data } => std::fs::read_dir(data.join(dir))
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .map(|n| name_hash(&n))
                .collect(),
        }
    }

    /// Opens `data/<rel>` for streaming.
    pub fn open_file(&mut self, rel: &str) -> Result<Box<dyn BufRead + Send + '_>, ArchiveError> {
        match &mut self.kind {
            Kind::Dir { data } => {
                let full = data.join(rel);
                let file = File::open(&full).map_err(|source| ArchiveError::Io {
                    path: full.clone(),
                    source,
                })?;
                Ok(Box::new(BufReader::with_capacity(READ_BUFFER, file)))
            }
            Kind::Zip { zip, data } => {
                let name = format!("{data}{rel}");
                let bad = |source| ArchiveError::BadZip {
                    path: self.path.clone(),
                    source,
                };
                let index = zip
                    .index_for_name(&name)
                    .ok_or(zip::result::ZipError::FileNotFound)
                    .map_err(bad)?;
                let (size, compressed) = {
                    let entry = zip.by_index_data(index).map_err(bad)?;
                    (entry.size(), entry.compressed_size())
                };
                if size > MAX_ENTRY || (size > RATIO_FLOOR && size / compressed.max(1) > MAX_RATIO)
                {
                    return Err(ArchiveError::Bomb {
                        path: self.path.clone(),
                        entry: name,
                        size,
                        compressed,
                    });
                }
                let file = zip.by_index(index).map_err(|source| ArchiveError::BadZip {
                    path: self.path.clone(),
                    source,
                })?;
                Ok(Box::new(BufReader::with_capacity(
                    READ_BUFFER,
                    Capped {
                        inner: file,
                        left: size,
                    },
                )))
            }
        }
    }

    /// `data/<rel>`: how a file is named in messages and reports, the same for a zip (whatever
    /// folder holds `data/` in it) and for the extracted folder; the archive's own path is
    /// given beside it where it matters.
    pub fn display_name(&self, rel: &str) -> String {
        format!("data/{rel}")
    }
}

/// The hash under which [`Container::file_name_hashes`] stores a name.
pub fn name_hash(name: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    h.finish()
}

/// A reader that refuses to yield more than the entry declared: the zip's own size fields are
/// what the bomb check trusted, so the stream is held to them.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One more byte means the entry lied about its size.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the entry expands beyond its declared size",
                )),
            };
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn has_parent_component(name: &str) -> bool {
    name.starts_with('/') || name.starts_with('\\') || name.split(['/', '\\']).any(|c| c == "..")
}

/// For an entry like `x/data/manifest.js`, the prefix `x/data/`.
fn data_prefix(name: &str) -> Option<&str> {
    let (dir, file) = name.rsplit_once('/')?;
    if !MARKERS.contains(&file) {
        return None;
    }
    if dir == "data" || dir.ends_with("/data") {
        Some(&name[..dir.len() + 1])
    } else {
        None
    }
}

/// The classic (Grailbird) archive: `tweets.csv` and `data/js/tweets/YYYY_MM.js`.
fn is_classic(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    file == "tweets.csv" || name.contains("data/js/tweets/")
}

fn find_data_dir(dir: &Path, depth: usize, classic: &mut bool) -> io::Result<Option<PathBuf>> {
    // The user may point at `data/` itself.
    if depth == 0 && dir.file_name().is_some_and(|n| n == "data") && has_marker(dir) {
        return Ok(Some(dir.to_path_buf()));
    }
    let data = dir.join("data");
    if data.is_dir() && has_marker(&data) {
        return Ok(Some(data));
    }
    if dir.join("tweets.csv").is_file() || dir.join("data/js/tweets").is_dir() {
        *classic = true;
    }
    if depth >= MAX_DEPTH {
        return Ok(None);
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        if let Some(found) = find_data_dir(&sub, depth + 1, classic)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

fn has_marker(dir: &Path) -> bool {
    MARKERS.iter().any(|m| dir.join(m).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_prefix_at_any_depth() {
        assert_eq!(data_prefix("data/manifest.js"), Some("data/"));
        assert_eq!(data_prefix("top/data/tweets.js"), Some("top/data/"));
        assert_eq!(data_prefix("top/data/tweets_media/a.jpg"), None);
        assert_eq!(data_prefix("database/tweets.js"), None);
        assert_eq!(data_prefix("manifest.js"), None);
    }

    #[test]
    fn unsafe_names() {
        assert!(has_parent_component("../etc/passwd"));
        assert!(has_parent_component("/etc/passwd"));
        assert!(has_parent_component("data/../../x"));
        assert!(!has_parent_component("data/tweets.js"));
    }

    #[test]
    fn capped_reader_refuses_extra_bytes() {
        let mut r = Capped {
            inner: &b"abcdef"[..],
            left: 3,
        };
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let mut r = Capped {
            inner: &b"abc"[..],
            left: 3,
        };
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abc");
    }
}
