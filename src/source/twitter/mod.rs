//! The Twitter/X archive reader: every generation from 2019 to now (FORMATS.md §1).
//!
//! [`Archive::open`] finds `data/` in a zip or folder, reads `manifest.js` (when present),
//! `account.js` and `profile.js`, and lists the tweet files — from the manifest and by globbing,
//! since a manifest may list files the user no longer has and miss parts a tool added.
//! [`Archive::for_each_tweet`] then streams one file's tweets, one entry at a time.
//!
//! Errors: unreadable containers and malformed JSON are [`ArchiveError`]s (the input is
//! unusable); an entry of an unexpected shape, a missing media file or a listed-but-absent file
//! is a [`Problem`], recorded and reported while reading goes on.

mod classify;
mod container;
pub mod dms;
mod error;
pub mod inspect;
pub mod likes;
pub mod model;
mod notes;
mod relations;
pub mod ytd;

use std::path::Path;

use serde::Serialize;

pub use classify::{
    Class, MediaKind, classify, is_quote, media_file_name, parse_created_at, status_id_of_url,
};
pub use container::{Container, MAX_ENTRY, MAX_RATIO, name_hash};
pub use error::ArchiveError;
pub use model::{Account, Id, Manifest, Profile, Tweet};
pub use notes::NoteIndex;

use model::{AccountEntry, ProfileEntry, TweetEntry};
use ytd::{Shape, YtdReader};

/// Files besides the tweets that migrate reads, whose absence is worth a problem.
const OTHER_FILES_READ: [&str; 8] = [
    "account.js",
    "profile.js",
    "following.js",
    "follower.js",
    "block.js",
    "mute.js",
    "note-tweet.js",
    "like.js",
];

/// At most this many problems are kept with their text; the rest are only counted.
pub const MAX_PROBLEMS: usize = 1000;

/// Something wrong in the archive that does not stop it from being read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file it is in, as named in the archive (`data/tweets.js`).
    pub file: String,
    pub message: String,
}

/// Which file a tweet comes from; it decides the media folder and how the tweet counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TweetSource {
    /// `tweets.js`, `tweet.js` and their parts.
    Tweets,
    /// `community-tweet.js`: tweets posted to a community, not in `tweets.js`.
    Community,
    /// `deleted-tweets.js`: deleted in the last days; excluded.
    Deleted,
}

/// One file of tweets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TweetFile {
    /// Relative to `data/`.
    pub name: String,
    pub source: TweetSource,
    /// The folder (relative to `data/`) where this file's media live.
    pub media_dir: String,
}

/// The social-graph files, which hold numeric account ids only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Following,
    Follower,
    Block,
    Mute,
}

impl Relation {
    pub fn file(self) -> &'static str {
        match self {
            Relation::Following => "following.js",
            Relation::Follower => "follower.js",
            Relation::Block => "block.js",
            Relation::Mute => "mute.js",
        }
    }

    /// The key around each entry. Note `blocking` and `muting`, not `block` and `mute`.
    pub fn key(self) -> &'static str {
        match self {
            Relation::Following => "following",
            Relation::Follower => "follower",
            Relation::Block => "blocking",
            Relation::Mute => "muting",
        }
    }
}

/// An opened archive. See the module doc.
pub struct Archive {
    container: Container,
    manifest: Option<Manifest>,
    account: Option<Account>,
    profile: Option<Profile>,
    tweet_files: Vec<TweetFile>,
    problems: Vec<Problem>,
    problems_dropped: u64,
    json_bytes: u64,
}

impl Archive {
    pub fn open(path: &Path) -> Result<Archive, ArchiveError> {
        let container = Container::open(path)?;
        let mut archive = Archive {
            container,
            manifest: None,
            account: None,
            profile: None,
            tweet_files: Vec::new(),
            problems: Vec::new(),
            problems_dropped: 0,
            json_bytes: 0,
        };
        archive.read_manifest()?;
        archive.read_account()?;
        archive.read_profile()?;
        archive.list_tweet_files();
        Ok(archive)
    }

    pub fn path(&self) -> &Path {
        self.container.path()
    }

    pub fn container(&self) -> &Container {
        &self.container
    }

    /// For reading media files (`open_file`).
    pub fn container_mut(&mut self) -> &mut Container {
        &mut self.container
    }

    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// The account, from `account.js`, else from the manifest's `userInfo`.
    pub fn account(&self) -> Option<&Account> {
        self.account.as_ref()
    }

    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    /// The archive's generation date, from the manifest.
    pub fn generated_at(&self) -> Option<&str> {
        self.manifest
            .as_ref()?
            .archive_info
            .as_ref()?
            .generation_date
            .as_deref()
    }

    /// Tweet files in reading order: deleted tweets first (so they can be excluded), then the
    /// parts of `tweets.js` by part number, then community tweets.
    pub fn tweet_files(&self) -> &[TweetFile] {
        &self.tweet_files
    }

    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Problems found beyond [`MAX_PROBLEMS`], counted but not kept.
    pub fn problems_dropped(&self) -> u64 {
        self.problems_dropped
    }

    pub fn problem(&mut self, file: impl Into<String>, message: impl Into<String>) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                file: file.into(),
                message: message.into(),
            });
        } else {
            self.problems_dropped += 1;
        }
    }

    /// Bytes of entry JSON read so far (uncompressed, without the file prefixes).
    pub fn json_bytes(&self) -> u64 {
        self.json_bytes
    }

    /// The name of `data/<rel>` as shown in messages.
    pub fn display_name(&self, rel: &str) -> String {
        self.container.display_name(rel)
    }

    fn read_manifest(&mut self) -> Result<(), ArchiveError> {
        if !self.container.exists("manifest.js") {
            return Ok(());
        }
        let file = self.display_name("manifest.js");
        let path = self.container.path().to_path_buf();
        let reader = self.container.open_file("manifest.js")?;
        let wrap = |source| ArchiveError::File {
            path: path.clone(),
            file: file.clone(),
            source,
        };
        let (mut ytd, shape) = YtdReader::open(reader).map_err(wrap)?;
        let (at, bytes) = match shape {
            Shape::Object => ytd.read_object().map_err(wrap)?,
            Shape::Array => {
                return Err(wrap(ytd::YtdError::Syntax {
                    what: "expected the manifest object `window.__THAR_CONFIG = {…}`".into(),
                    at: ytd.element_position(),
                }));
            }
        };
        match YtdReader::<&[u8]>::decode::<Manifest>(at, bytes) {
            Ok(m) => {
                drop(ytd);
                self.manifest = Some(m);
            }
            Err(e) if e.syntax => {
                return Err(ArchiveError::Json {
                    path,
                    file,
                    at: e.at,
                    message: e.message,
                });
            }
            Err(e) => {
                drop(ytd);
                self.problem(
                    file,
                    format!(
                        "the manifest was not understood ({}); files are found by name instead",
                        e.message
                    ),
                );
            }
        }
        Ok(())
    }

    fn read_account(&mut self) -> Result<(), ArchiveError> {
        let mut found: Option<Account> = None;
        if self.container.exists("account.js") {
            self.for_each_entry("account.js", |entry: AccountEntry| {
                found.get_or_insert(entry.account);
            })?;
        }
        if found.is_none()
            && let Some(user) = self.manifest.as_ref().and_then(|m| m.user_info.as_ref())
            && let Some(id) = user.account_id
        {
            found = Some(Account {
                account_id: id,
                username: user.user_name.clone().unwrap_or_default(),
                account_display_name: user.display_name.clone(),
                created_at: None,
            });
        }
        if found.is_none() {
            let file = self.display_name("account.js");
            self.problem(
                file,
                "no account found (account.js is missing): replies to the account's own tweets \
                 cannot be told from replies to others",
            );
        }
        // The manifest knows the display name when account.js does not.
        if let Some(account) = found.as_mut()
            && account.account_display_name.is_none()
        {
            account.account_display_name = self
                .manifest
                .as_ref()
                .and_then(|m| m.user_info.as_ref())
                .and_then(|u| u.display_name.clone());
        }
        self.account = found;
        Ok(())
    }

    fn read_profile(&mut self) -> Result<(), ArchiveError> {
        if !self.container.exists("profile.js") {
            return Ok(());
        }
        let mut found = None;
        self.for_each_entry("profile.js", |entry: ProfileEntry| {
            found.get_or_insert(entry.profile);
        })?;
        self.profile = found;
        Ok(())
    }

    fn list_tweet_files(&mut self) {
        let present = self.container.data_files();
        let mut listed: Vec<(String, Option<String>, Option<u64>)> = Vec::new();
        if let Some(manifest) = &self.manifest {
            for key in ["tweet", "tweets", "communityTweet", "deletedTweets"] {
                if let Some(t) = manifest.data_types.get(key) {
                    for f in &t.files {
                        listed.push((
                            f.file_name.clone(),
                            t.media_directory.clone(),
                            f.count.map(|c| c.0),
                        ));
                    }
                }
            }
        }
        let mut files: Vec<(u32, TweetFile)> = Vec::new();
        let mut missing = Vec::new();
        for (file_name, media_dir, count) in &listed {
            let rel = file_name.strip_prefix("data/").unwrap_or(file_name);
            if !present.iter().any(|p| p == rel) {
                // A file listed with a count of "0" may well be absent; one with tweets in it
                // means tweets are missing.
                if count.is_none_or(|c| c > 0) {
                    missing.push((rel.to_string(), *count));
                }
                continue;
            }
            if let Some((order, source)) = tweet_file_kind(rel) {
                let media_dir = media_dir
                    .as_deref()
                    .map(|d| d.strip_prefix("data/").unwrap_or(d).trim_end_matches('/'))
                    .map(str::to_string);
                files.push((order, self.tweet_file(rel, source, media_dir)));
            }
        }
        for name in &present {
            if files.iter().any(|(_, f)| &f.name == name) {
                continue;
            }
            if let Some((order, source)) = tweet_file_kind(name) {
                files.push((order, self.tweet_file(name, source, None)));
            }
        }
        files.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
        self.tweet_files = files.into_iter().map(|(_, f)| f).collect();
        for (rel, count) in missing {
            if tweet_file_kind(&rel).is_some() {
                let file = self.display_name(&rel);
                let count = count
                    .map(|c| format!(" with {c} tweets"))
                    .unwrap_or_default();
                self.problem(
                    file,
                    format!(
                        "listed in manifest.js{count} but missing from the archive; its tweets \
                         cannot be read"
                    ),
                );
            }
        }
        // Other files migrate reads: absent while the manifest counts entries in them means
        // the user's copy lost them (an edited or partly extracted archive).
        let mut lost = Vec::new();
        if let Some(manifest) = &self.manifest {
            for t in manifest.data_types.values() {
                for f in &t.files {
                    let rel = f.file_name.strip_prefix("data/").unwrap_or(&f.file_name);
                    if OTHER_FILES_READ.contains(&rel)
                        && f.count.is_some_and(|c| c.0 > 0)
                        && !present.iter().any(|p| p == rel)
                    {
                        lost.push((rel.to_string(), f.count.map_or(0, |c| c.0)));
                    }
                }
            }
        }
        for (rel, count) in lost {
            let file = self.display_name(&rel);
            self.problem(
                file,
                format!("listed in manifest.js with {count} entries but missing from the archive"),
            );
        }
        if !self
            .tweet_files
            .iter()
            .any(|f| f.source == TweetSource::Tweets)
        {
            let file = self.display_name("tweets.js");
            self.problem(
                file,
                "the archive holds no tweets file (tweets.js or tweet.js)",
            );
        }
    }

    fn tweet_file(&self, name: &str, source: TweetSource, media_dir: Option<String>) -> TweetFile {
        let media_dir = media_dir.unwrap_or_else(|| match source {
            TweetSource::Community => "community_tweet_media".into(),
            TweetSource::Deleted => "deleted_tweets_media".into(),
            // Before 2022 the folder was `tweet_media`; prefer whichever exists.
            TweetSource::Tweets => {
                if self.container.dir_exists("tweets_media") {
                    "tweets_media".into()
                } else if self.container.dir_exists("tweet_media") || !name.starts_with("tweets") {
                    "tweet_media".into()
                } else {
                    "tweets_media".into()
                }
            }
        });
        TweetFile {
            name: name.to_string(),
            source,
            media_dir,
        }
    }

    /// Streams the tweets of `file`, calling `f` for each. An entry that is well-formed JSON but
    /// not a tweet is recorded as a problem and skipped; malformed JSON ends with an error.
    pub fn for_each_tweet(
        &mut self,
        file: &TweetFile,
        mut f: impl FnMut(&Tweet),
    ) -> Result<(), ArchiveError> {
        let display = self.display_name(&file.name);
        self.stream(&file.name, |at, bytes, problems_out| {
            if let Some(TweetEntry(tweet)) = decode_or_skip(&display, at, bytes, problems_out)? {
                f(&tweet);
            }
            Ok(())
        })
    }

    /// Counts the entries of a social-graph file; `None` when the file is absent.
    pub fn count_relations(&mut self, relation: Relation) -> Result<Option<u64>, ArchiveError> {
        if !self.container.exists(relation.file()) {
            return Ok(None);
        }
        let mut count = 0u64;
        let key = relation.key();
        self.for_each_entry(
            relation.file(),
            |entry: serde_json::Map<String, serde_json::Value>| {
                if entry.contains_key(key) {
                    count += 1;
                }
            },
        )?;
        Ok(Some(count))
    }

    /// Streams the notes of `note-tweet.js` into a [`NoteIndex`].
    pub fn read_notes(&mut self) -> Result<NoteIndex, ArchiveError> {
        let mut index = NoteIndex::default();
        if !self.container.exists("note-tweet.js") {
            return Ok(index);
        }
        let display = self.display_name("note-tweet.js");
        let mut bad_dates = Vec::new();
        self.stream("note-tweet.js", |at, bytes, problems| {
            let Some(model::NoteEntry { note }) = decode_or_skip(&display, at, bytes, problems)?
            else {
                return Ok(());
            };
            match parse_created_at(&note.created_at) {
                Some(at) => index.add(note.note_tweet_id, at.timestamp(), &note.core.text),
                None => bad_dates.push(note.note_tweet_id),
            }
            Ok(())
        })?;
        for id in bad_dates {
            self.problem(
                display.clone(),
                format!("note {id} has an unreadable createdAt and cannot be joined"),
            );
        }
        Ok(index)
    }

    /// Streams the notes of `note-tweet.js` (long tweets' full texts), one at a time.
    pub fn for_each_note(
        &mut self,
        mut f: impl FnMut(&model::Note<'_>),
    ) -> Result<(), ArchiveError> {
        if !self.container.exists("note-tweet.js") {
            return Ok(());
        }
        let display = self.display_name("note-tweet.js");
        self.stream("note-tweet.js", |at, bytes, problems| {
            if let Some(model::NoteEntry { note }) = decode_or_skip(&display, at, bytes, problems)?
            {
                f(&note);
            }
            Ok(())
        })
    }

    /// Streams the entries of a `window.YTD` file decoded as `T`; entries of another shape are
    /// problems.
    fn for_each_entry<T: serde::de::DeserializeOwned>(
        &mut self,
        rel: &str,
        mut f: impl FnMut(T),
    ) -> Result<(), ArchiveError> {
        let display = self.display_name(rel);
        self.stream(rel, |at, bytes, problems_out| {
            if let Some(v) = decode_or_skip(&display, at, bytes, problems_out)? {
                f(v);
            }
            Ok(())
        })
    }

    /// The shared loop: open, skip the prefix, hand out elements, map errors to the file.
    fn stream(
        &mut self,
        rel: &str,
        mut each: impl FnMut(ytd::Position, &[u8], &mut Vec<Problem>) -> Result<(), ytd::DecodeError>,
    ) -> Result<(), ArchiveError> {
        let file = self.display_name(rel);
        let path = self.container.path().to_path_buf();
        let mut problems = Vec::new();
        let mut bytes_read = 0u64;
        // Two stages on two threads: one inflates the zip entry and splits it into entries,
        // the other decodes them. Inflating is about a third of the work, so this pipeline
        // takes it off the decoding thread's path. Batches are bounded (about 1 MB in flight).
        let container = &mut self.container;
        let result = std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Batch, ArchiveError>>(2);
            let (path2, file2) = (path.clone(), file.clone());
            scope.spawn(move || {
                let mut split = || -> Result<(), ArchiveError> {
                    let wrap = |source| ArchiveError::File {
                        path: path2.clone(),
                        file: file2.clone(),
                        source,
                    };
                    let reader = container.open_file(rel)?;
                    let (mut ytd, shape) = YtdReader::open(reader).map_err(wrap)?;
                    if shape != Shape::Array {
                        return Err(wrap(ytd::YtdError::Syntax {
                            what: "expected a `window.YTD.… = [ … ]` array".into(),
                            at: ytd.element_position(),
                        }));
                    }
                    let mut batch = Batch::new();
                    while let Some((at, bytes)) = ytd.next_element().map_err(wrap)? {
                        batch.push(at, bytes);
                        if batch.data.len() >= BATCH_BYTES
                            && tx
                                .send(Ok(std::mem::replace(&mut batch, Batch::new())))
                                .is_err()
                        {
                            // The decoding side stopped (an error): nothing more to do.
                            return Ok(());
                        }
                    }
                    let _ = tx.send(Ok(batch));
                    Ok(())
                };
                if let Err(e) = split() {
                    let _ = tx.send(Err(e));
                }
            });
            for batch in rx {
                let batch = batch?;
                for (at, start, end) in &batch.items {
                    let bytes = &batch.data[*start..*end];
                    bytes_read += bytes.len() as u64;
                    if let Err(e) = each(*at, bytes, &mut problems) {
                        return Err(ArchiveError::Json {
                            path: path.clone(),
                            file: file.clone(),
                            at: e.at,
                            message: e.message,
                        });
                    }
                }
            }
            Ok(())
        });
        self.json_bytes += bytes_read;
        for p in problems {
            self.problem(p.file, p.message);
        }
        result
    }
}

/// Entries handed from the splitting thread to the decoding one.
const BATCH_BYTES: usize = 256 * 1024;

struct Batch {
    data: Vec<u8>,
    items: Vec<(ytd::Position, usize, usize)>,
}

impl Batch {
    /// Sized once, so that batches do not grow by doubling (which would keep twice the bytes
    /// in flight).
    fn new() -> Batch {
        Batch {
            data: Vec::with_capacity(BATCH_BYTES + 16 * 1024),
            items: Vec::with_capacity(256),
        }
    }

    fn push(&mut self, at: ytd::Position, bytes: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(bytes);
        self.items.push((at, start, self.data.len()));
    }
}

/// Decodes one entry. Malformed JSON is an error for the whole file; well-formed JSON of an
/// unexpected shape is a problem, and the entry is skipped.
fn decode_or_skip<'a, T: serde::Deserialize<'a>>(
    display: &str,
    at: ytd::Position,
    bytes: &'a [u8],
    problems: &mut Vec<Problem>,
) -> Result<Option<T>, ytd::DecodeError> {
    match YtdReader::<&[u8]>::decode::<T>(at, bytes) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.syntax => Err(e),
        Err(e) => {
            problems.push(Problem {
                file: display.to_string(),
                message: format!("entry at {} skipped: {}", e.at, e.message),
            });
            Ok(None)
        }
    }
}

/// Whether a file in `data/` holds tweets, with its reading order and source.
fn tweet_file_kind(name: &str) -> Option<(u32, TweetSource)> {
    let stem = name.strip_suffix(".js")?;
    match stem {
        "deleted-tweets" | "deleted-tweet" => return Some((0, TweetSource::Deleted)),
        "community-tweet" | "community-tweets" => return Some((u32::MAX, TweetSource::Community)),
        "tweet" | "tweets" => return Some((1, TweetSource::Tweets)),
        _ => {}
    }
    let part = stem
        .strip_prefix("tweets-part")
        .or_else(|| stem.strip_prefix("tweet-part"))?;
    let n: u32 = part.parse().ok()?;
    Some((n.saturating_add(1).min(u32::MAX - 1), TweetSource::Tweets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tweet_file_names() {
        assert_eq!(tweet_file_kind("tweets.js"), Some((1, TweetSource::Tweets)));
        assert_eq!(tweet_file_kind("tweet.js"), Some((1, TweetSource::Tweets)));
        assert_eq!(
            tweet_file_kind("tweets-part2.js"),
            Some((3, TweetSource::Tweets))
        );
        assert_eq!(
            tweet_file_kind("tweet-part10.js"),
            Some((11, TweetSource::Tweets))
        );
        assert_eq!(
            tweet_file_kind("community-tweet.js"),
            Some((u32::MAX, TweetSource::Community))
        );
        assert_eq!(
            tweet_file_kind("deleted-tweets.js"),
            Some((0, TweetSource::Deleted))
        );
        assert_eq!(tweet_file_kind("tweet-headers.js"), None);
        assert_eq!(tweet_file_kind("note-tweet.js"), None);
        assert_eq!(tweet_file_kind("tweets-partX.js"), None);
    }
}
