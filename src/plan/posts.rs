//! What `migrate import archive.zip --dry-run` reports: which tweets become posts, how many
//! statuses that makes once long texts are split to the server's limit, how many media files,
//! what is skipped and why, and how long the server's rate limits make it take. Nothing is sent.
//!
//! Three streaming passes over the archive keep memory small: candidates (a few bytes per
//! tweet) for the selection, the full texts of the long tweets that were selected, then each
//! selected tweet's text, split as it will be posted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use crate::source::twitter::model::{Note, NoteCore, NoteUrl};
use crate::source::twitter::{Archive, ArchiveError, Id, MediaKind, TweetSource};

use super::choices::AltText;
use super::select::{Candidate, Selection, SkipReason, select};
use super::text::{DateNote, TextOptions, date_note, note_text, split, tweet_text, tweet_url};

/// Everything that shapes the posts: which tweets, how their text is written, the server's
/// limits, and the user's files.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub selection: Selection,
    pub text: TextOptions,
    pub date_note: DateNote,
    pub limits: Limits,
    /// Descriptions for media (`--alt-text`).
    pub alt_text: AltText,
    /// Post the text only (`--no-media`).
    pub no_media: bool,
}

/// The server's limits that shape the posts (Mastodon's defaults unless the server says).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_characters: usize,
    pub characters_reserved_per_url: usize,
    pub max_media_attachments: usize,
    /// Statuses per 3 hours, media uploads per 30 minutes.
    pub statuses_per_3h: u64,
    pub media_per_30min: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_characters: 500,
            characters_reserved_per_url: 23,
            max_media_attachments: 4,
            statuses_per_3h: 300,
            media_per_30min: 30,
        }
    }
}

/// One media file of a post, as the archive holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DraftMedia {
    /// The file, relative to the archive's `data/` folder.
    pub file: String,
    /// `photo`, `video` or `animated_gif`.
    pub kind: String,
    /// The alt text, from `--alt-text` (the archive holds none).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
}

/// A tweet as it will be posted: its text parts (a chain when split), its media grouped by
/// status (the first group goes with the first part; later groups are follow-up replies), and
/// what it replies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Draft {
    pub tweet: Id,
    /// Its place in the posting order (oldest first).
    pub order: u64,
    /// The posted tweet this one replies to.
    pub reply_to: Option<Id>,
    /// Why a self-reply is posted on its own.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub orphan: Option<String>,
    pub parts: Vec<String>,
    pub media: Vec<Vec<DraftMedia>>,
    /// Media the archive lacks, reported: their kinds.
    pub missing: Vec<String>,
    /// The files of `missing`, in its order (relative to the archive's `data/` folder; empty
    /// where the tweet does not say which file it was).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub missing_files: Vec<String>,
    pub language: Option<String>,
    /// The original tweet's address, for reports.
    pub url: String,
    /// When the tweet was posted: servers that can backdate create the post at this time.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Draft {
    /// How many statuses the tweet becomes: its text parts, then one follow-up per further
    /// media group.
    pub fn status_count(&self) -> usize {
        self.parts.len().max(1) + self.media.len().saturating_sub(1)
    }

    /// The text of the `index`-th status of the chain (see [`Draft::status_count`]).
    pub fn status_text(&self, index: usize) -> String {
        let parts = self.parts.len().max(1);
        if index < parts {
            return self.parts.get(index).cloned().unwrap_or_default();
        }
        followup_text(index - parts + 2, self.media.len())
    }

    /// The media group the `index`-th status carries, if any: the first group goes with the
    /// first part, each later group is a follow-up of its own.
    pub fn status_media(&self, index: usize) -> Option<usize> {
        let parts = self.parts.len().max(1);
        let group = match index {
            0 => 0,
            i if i >= parts => i - parts + 1,
            _ => return None,
        };
        (group < self.media.len()).then_some(group)
    }
}

/// The text of a follow-up that carries the `group`-th of `groups` media groups (1-based):
/// short, and says where it belongs.
pub fn followup_text(group: usize, groups: usize) -> String {
    format!("(media {group}/{groups})")
}

/// The dry run's figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DryRun {
    /// Tweets read (after dropping older versions of edited tweets and deleted tweets).
    pub tweets: u64,
    /// Tweets that become posts.
    pub tweets_posted: u64,
    /// Statuses to create: split parts and media follow-ups included.
    pub statuses: u64,
    /// Tweets whose text is split into a chain.
    pub split_tweets: u64,
    /// Tweets posted with their full `note-tweet.js` text.
    pub long_tweets: u64,
    pub media: u64,
    /// Media whose file is not in the archive: the post goes without them.
    pub media_missing: u64,
    /// Media left out by `--no-media`.
    pub media_left_out: u64,
    /// Media with a description from `--alt-text`.
    pub media_described: u64,
    /// Self-replies posted on their own (their parent is not posted).
    pub orphans: u64,
    pub skipped: BTreeMap<String, u64>,
    /// Hours the server's limits make the import take, at least.
    pub hours: f64,
}

fn owned_core(core: &NoteCore<'_>) -> NoteCore<'static> {
    NoteCore {
        text: core.text.clone().into_owned().into(),
        urls: core
            .urls
            .iter()
            .map(|u| NoteUrl {
                short_url: u.short_url.clone().into_owned().into(),
                expanded_url: u.expanded_url.clone().into_owned().into(),
            })
            .collect(),
    }
}

/// Plans the import of the archive at `path` (see the module doc), without keeping the drafts.
pub fn dry_run(path: &Path, options: &PlanOptions) -> Result<DryRun, ArchiveError> {
    plan_posts(path, options, |_| {}, |_, _| {})
}

/// Plans the import and hands each post's [`Draft`] to `on_draft` (in archive order; their
/// `order` field gives the posting order), and each skipped tweet with its reason to
/// `on_skip` (oldest first).
pub fn plan_posts(
    path: &Path,
    options: &PlanOptions,
    mut on_draft: impl FnMut(Draft),
    mut on_skip: impl FnMut(Id, &SkipReason),
) -> Result<DryRun, ArchiveError> {
    let PlanOptions {
        selection,
        text,
        date_note: notes_mode,
        limits,
        alt_text,
        no_media,
    } = options;
    let notes_mode = *notes_mode;
    let mut archive = Archive::open(path)?;
    let account = archive.account().map(|a| a.account_id);
    let screen_name = archive
        .account()
        .map(|a| a.username.clone())
        .unwrap_or_else(|| "i".into());
    let mut notes = archive.read_notes()?;
    let files = archive.tweet_files().to_vec();

    // Pass 1: candidates.
    let mut deleted: HashSet<u64> = HashSet::new();
    let mut candidates = Vec::new();
    let mut long: HashMap<Id, Id> = HashMap::new();
    for file in &files {
        if file.source == TweetSource::Deleted {
            archive.for_each_tweet(file, |t| {
                deleted.insert(t.id_str.0);
            })?;
            continue;
        }
        archive.for_each_tweet(file, |t| {
            if deleted.contains(&t.id_str.0) {
                return;
            }
            if t.edit_info
                .as_ref()
                .and_then(|e| e.latest_version())
                .is_some_and(|latest| latest != t.id_str)
            {
                return;
            }
            if let Some(c) = Candidate::of(t, account) {
                let second = c.created_at.timestamp();
                if notes.has_second(second)
                    && let Some(note) = notes.join(t.id_str, second, &t.full_text)
                {
                    long.insert(t.id_str, note);
                }
                candidates.push(c);
            }
        })?;
    }
    // Duplicates (the same id twice) are posted once.
    let mut seen = HashSet::new();
    candidates.retain(|c| seen.insert(c.id));
    drop(seen);
    let mut report = DryRun {
        tweets: candidates.len() as u64,
        ..DryRun::default()
    };
    let plan = select(candidates, selection);
    for (id, reason) in &plan.skipped {
        on_skip(*id, reason);
        let key = reason.text();
        let key = key.split(" (").next().unwrap_or(&key).to_string();
        *report.skipped.entry(key).or_default() += 1;
    }
    report.orphans = plan.posts.iter().filter(|p| p.orphan.is_some()).count() as u64;
    report.tweets_posted = plan.posts.len() as u64;
    let posted: HashMap<Id, (u64, Option<Id>, Option<String>)> = plan
        .posts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (p.id, (i as u64, p.reply_to, p.orphan)))
        .collect();

    // Pass 2: the full texts of the long tweets that are posted.
    let wanted_notes: HashMap<Id, Id> = long
        .iter()
        .filter(|(tweet, _)| posted.contains_key(tweet))
        .map(|(tweet, note)| (*note, *tweet))
        .collect();
    let mut note_texts: HashMap<Id, NoteCore<'static>> = HashMap::new();
    if !wanted_notes.is_empty() {
        archive.for_each_note(|n: &Note<'_>| {
            if let Some(tweet) = wanted_notes.get(&n.note_tweet_id) {
                note_texts.insert(*tweet, owned_core(&n.core));
            }
        })?;
    }

    // Pass 3: each posted tweet's text, split as it will be posted, and its media.
    let media_present: HashMap<String, HashSet<u64>> = files
        .iter()
        .map(|f| {
            (
                f.media_dir.clone(),
                archive.container().file_name_hashes(&f.media_dir),
            )
        })
        .collect();
    for file in &files {
        if file.source == TweetSource::Deleted {
            continue;
        }
        let present = &media_present[&file.media_dir];
        let media_dir = file.media_dir.clone();
        archive.for_each_tweet(file, |t| {
            let Some((order, reply_to, orphan)) = posted.get(&t.id_str) else {
                return;
            };
            let options = TextOptions {
                drop_reply_mentions: t.in_reply_to_user_id_str.is_some()
                    && t.in_reply_to_user_id_str == account,
                ..text.clone()
            };
            let body = match note_texts.get(&t.id_str) {
                Some(core) => {
                    report.long_tweets += 1;
                    note_text(core, &options).text
                }
                None => tweet_text(t, &options).text,
            };
            let created_at = crate::source::twitter::parse_created_at(&t.created_at)
                .map(|at| at.with_timezone(&chrono::Utc));
            let note = created_at
                .and_then(|at| date_note(at, &tweet_url(&screen_name, t.id_str), notes_mode));
            let texts = split(
                &body,
                note.as_deref(),
                limits.max_characters,
                limits.characters_reserved_per_url,
            );
            let parts = texts.len().max(1) as u64;
            if parts > 1 {
                report.split_tweets += 1;
            }
            // Media: at most `max_media_attachments` per status, and a video or GIF never
            // with anything else; the rest go into follow-up replies.
            let mut images = 0u64;
            let mut videos = 0u64;
            let mut image_files = Vec::new();
            let mut video_files = Vec::new();
            let mut missing = Vec::new();
            let mut missing_files = Vec::new();
            for m in t.extended_entities.iter().flat_map(|e| e.media.iter()) {
                let Some(kind) = MediaKind::of(m) else {
                    continue;
                };
                if *no_media {
                    report.media_left_out += 1;
                    continue;
                }
                let file = crate::source::twitter::media_file_name(t.id_str, m);
                let here = file
                    .as_ref()
                    .is_some_and(|f| present.contains(&crate::source::twitter::name_hash(f)));
                if !here {
                    report.media_missing += 1;
                    missing.push(kind.as_str().to_string());
                    missing_files
                        .push(file.map(|f| format!("{media_dir}/{f}")).unwrap_or_default());
                    continue;
                }
                let Some(file) = file else { continue };
                report.media += 1;
                let file = format!("{media_dir}/{file}");
                let description = alt_text.of(t.id_str, &file).map(str::to_string);
                if description.is_some() {
                    report.media_described += 1;
                }
                let item = DraftMedia {
                    file,
                    kind: kind.as_str().to_string(),
                    description,
                };
                match kind {
                    MediaKind::Photo => {
                        images += 1;
                        image_files.push(item);
                    }
                    MediaKind::Video | MediaKind::AnimatedGif => {
                        videos += 1;
                        video_files.push(item);
                    }
                }
            }
            let per = limits.max_media_attachments.max(1) as u64;
            // The first status carries the images (or the first video); the rest follow.
            let media_statuses = if videos > 0 {
                videos + images.div_ceil(per)
            } else {
                images.div_ceil(per)
            };
            let extra = media_statuses.saturating_sub(1);
            report.statuses += parts + extra;
            // Groups: images `per` at a time first, then each video or GIF on its own.
            let mut groups: Vec<Vec<DraftMedia>> = image_files
                .chunks(per as usize)
                .map(<[DraftMedia]>::to_vec)
                .collect();
            groups.extend(video_files.into_iter().map(|v| vec![v]));
            on_draft(Draft {
                tweet: t.id_str,
                order: *order,
                reply_to: *reply_to,
                orphan: orphan.clone(),
                parts: if texts.is_empty() {
                    vec![String::new()]
                } else {
                    texts
                },
                media: groups,
                missing,
                missing_files,
                language: crate::plan::text::language(t.lang.as_deref()),
                url: tweet_url(&screen_name, t.id_str),
                created_at,
            });
        })?;
    }
    report.hours = hours(report.statuses, report.media, limits);
    Ok(report)
}

/// How long the limits make `statuses` posts and `media` uploads take: every window after the
/// first is waited for (3 h for posts, 30 min for uploads), and the per-token API limit (300
/// requests per 5 min: a post, an upload and a poll per medium) bounds the pace within them.
pub fn hours(statuses: u64, media: u64, limits: &Limits) -> f64 {
    let windows = |n: u64, per: u64| n.div_ceil(per.max(1)).saturating_sub(1) as f64;
    let status_hours = windows(statuses, limits.statuses_per_3h) * 3.0;
    let media_hours = windows(media, limits.media_per_30min) * 0.5;
    let api_hours = (statuses + 2 * media) as f64 / 300.0 * (5.0 / 60.0);
    status_hours.max(media_hours).max(api_hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_at_the_limits() {
        let l = Limits::default();
        // Within the first windows: the API pace only.
        assert!((hours(31, 6, &l) - 43.0 / 300.0 * 5.0 / 60.0).abs() < 1e-9);
        // 1,842 posts: six more 3-hour windows.
        assert_eq!(hours(1842, 0, &l), 18.0);
        // 611 uploads: twenty more half-hour windows.
        assert_eq!(hours(10, 611, &l), 10.0);
    }
}
