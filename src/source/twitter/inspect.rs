//! `migrate inspect`: what an archive holds, read in one streaming pass, without any network.
//!
//! Memory grows with the number of tweets only by a set of their ids (for duplicates, thread
//! parents and edits) and the self-reply edges; never with the size of their text.
//!
//! Definitions (the issue that introduced `inspect` fixes them): `tweets.total` counts the
//! tweets left after dropping older versions of edited tweets and deleted tweets, community
//! tweets included; the classes of [`Class`] partition it; `quotes` and `long` count tweets
//! inside those classes that link to a status URL and that were joined to a note. A thread is a
//! group of at least two tweets connected by self-replies whose parent is present.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::{
    Archive, ArchiveError, Class, MAX_PROBLEMS, MediaKind, Problem, Relation, TweetSource,
    classify, is_quote, media_file_name, name_hash, parse_created_at,
};

#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub account: AccountSummary,
    /// From `manifest.js`; absent in archives without a manifest.
    pub generated_at: Option<String>,
    pub tweets: TweetCounts,
    pub threads: Threads,
    pub media: MediaCounts,
    pub dates: Dates,
    pub graph: Graph,
    pub problems: Vec<Problem>,
    /// Problems found beyond the ones listed (the list is capped at [`MAX_PROBLEMS`]).
    pub problems_not_listed: u64,
    /// The tweet files read, in order, relative to `data/`.
    pub files: Vec<String>,
    /// Bytes of tweet JSON read (uncompressed), for throughput figures.
    pub tweet_bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AccountSummary {
    /// A string: account ids exceed what JSON numbers carry exactly in most readers.
    pub id: Option<String>,
    pub username: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TweetCounts {
    pub total: u64,
    pub original: u64,
    pub self_replies: u64,
    pub replies: u64,
    pub retweets: u64,
    pub quotes: u64,
    pub long: u64,
    pub edited_versions_dropped: u64,
    pub deleted_excluded: u64,
    pub community: u64,
    /// Entries whose id appeared earlier (e.g. the same part twice), skipped.
    pub duplicates: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Threads {
    pub count: u64,
    pub longest: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MediaCounts {
    pub photo: u64,
    pub video: u64,
    pub animated_gif: u64,
    pub missing: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Dates {
    pub first: Option<String>,
    pub last: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Graph {
    pub following: u64,
    pub followers: u64,
    pub blocks: u64,
    pub mutes: u64,
}

/// Problems found while inspecting, capped like the archive's own.
#[derive(Default)]
struct Problems {
    list: Vec<Problem>,
    dropped: u64,
}

impl Problems {
    fn push(&mut self, file: &str, message: String) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem {
                file: file.to_string(),
                message,
            });
        } else {
            self.dropped += 1;
        }
    }
}

/// Reads the archive at `path` and summarises it.
pub fn inspect(path: &Path) -> Result<Inspection, ArchiveError> {
    let mut archive = Archive::open(path)?;
    let account_id = archive.account().map(|a| a.account_id);
    let mut notes = archive.read_notes()?;
    let mut problems = Problems::default();
    let mut counts = TweetCounts::default();
    let mut media = MediaCounts::default();

    // Expected tweet count, from the manifest, to size the id set once.
    let expected: u64 = archive
        .manifest()
        .map(|m| {
            m.data_types
                .iter()
                .filter(|(k, _)| matches!(k.as_str(), "tweet" | "tweets" | "communityTweet"))
                .flat_map(|(_, t)| t.files.iter())
                .filter_map(|f| f.count.map(|c| c.0))
                .sum()
        })
        .unwrap_or(0);
    let mut seen: HashSet<u64> = HashSet::with_capacity(expected.min(20_000_000) as usize);
    let mut deleted: HashSet<u64> = HashSet::new();
    let mut self_replies: Vec<(u64, u64)> = Vec::new();
    // Older versions dropped: (version, latest), checked once every file is read.
    let mut superseded: Vec<(u64, u64)> = Vec::new();
    let mut first: Option<DateTime<Utc>> = None;
    let mut last: Option<DateTime<Utc>> = None;
    let mut media_dirs: HashMap<String, HashSet<u64>> = HashMap::new();

    let files = archive.tweet_files().to_vec();
    let bytes_before = archive.json_bytes();
    for file in &files {
        let display = archive.display_name(&file.name);
        if file.source == TweetSource::Deleted {
            archive.for_each_tweet(file, |t| {
                deleted.insert(t.id_str.0);
            })?;
            continue;
        }
        let present = media_dirs
            .entry(file.media_dir.clone())
            .or_insert_with(|| archive.container().file_name_hashes(&file.media_dir));
        let present = &*present;
        let media_dir = &file.media_dir;
        let community = file.source == TweetSource::Community;
        archive.for_each_tweet(file, |t| {
            let id = t.id_str;
            if deleted.contains(&id.0) {
                return;
            }
            if let Some(latest) = t.edit_info.as_ref().and_then(|e| e.latest_version())
                && latest != id
            {
                counts.edited_versions_dropped += 1;
                superseded.push((id.0, latest.0));
                return;
            }
            if !seen.insert(id.0) {
                counts.duplicates += 1;
                problems.push(
                    &display,
                    format!("tweet {id} appears more than once; kept once"),
                );
                return;
            }
            counts.total += 1;
            if community {
                counts.community += 1;
            }
            match classify(t, account_id) {
                Class::Original => counts.original += 1,
                Class::SelfReply => {
                    counts.self_replies += 1;
                    if let Some(parent) = t.in_reply_to_status_id_str {
                        self_replies.push((id.0, parent.0));
                    }
                }
                Class::Reply => counts.replies += 1,
                Class::Retweet => counts.retweets += 1,
            }
            if is_quote(t) {
                counts.quotes += 1;
            }
            match parse_created_at(&t.created_at) {
                Some(at) => {
                    let at = at.with_timezone(&Utc);
                    first = Some(first.map_or(at, |f| f.min(at)));
                    last = Some(last.map_or(at, |l| l.max(at)));
                    let second = at.timestamp();
                    if notes.has_second(second) && notes.join(id, second, &t.full_text).is_some() {
                        counts.long += 1;
                    }
                }
                None => problems.push(
                    &display,
                    format!("tweet {id} has an unreadable date `{}`", t.created_at),
                ),
            }
            for m in t.extended_entities.iter().flat_map(|e| e.media.iter()) {
                let Some(kind) = MediaKind::of(m) else {
                    problems.push(
                        &display,
                        format!("tweet {id} has a medium of unknown type `{}`", m.kind),
                    );
                    continue;
                };
                match kind {
                    MediaKind::Photo => media.photo += 1,
                    MediaKind::Video => media.video += 1,
                    MediaKind::AnimatedGif => media.animated_gif += 1,
                }
                match media_file_name(id, m) {
                    Some(name) if present.contains(&name_hash(&name)) => {}
                    Some(name) => {
                        media.missing += 1;
                        problems.push(
                            &display,
                            format!(
                                "tweet {id}: {} file `{media_dir}/{name}` is missing",
                                kind.as_str()
                            ),
                        );
                    }
                    None => {
                        media.missing += 1;
                        problems.push(
                            &display,
                            format!("tweet {id}: {} has no file name", kind.as_str()),
                        );
                    }
                }
            }
        })?;
    }
    counts.deleted_excluded = deleted.len() as u64;
    let tweet_bytes = archive.json_bytes() - bytes_before;

    for (version, latest) in superseded {
        if !seen.contains(&latest) {
            let file = archive.display_name("tweets.js");
            problems.push(
                &file,
                format!(
                    "tweet {version} is an older version of {latest}, which is not in the \
                     archive; the older version was dropped"
                ),
            );
        }
    }
    let note_file = archive.display_name("note-tweet.js");
    for note in notes.unjoined() {
        problems.push(
            &note_file,
            format!("long tweet note {note} matches no tweet in the archive"),
        );
    }
    let threads = threads(&self_replies, &seen);
    drop(seen);

    let mut graph = Graph::default();
    for relation in [
        Relation::Following,
        Relation::Follower,
        Relation::Block,
        Relation::Mute,
    ] {
        let n = archive.count_relations(relation)?.unwrap_or(0);
        match relation {
            Relation::Following => graph.following = n,
            Relation::Follower => graph.followers = n,
            Relation::Block => graph.blocks = n,
            Relation::Mute => graph.mutes = n,
        }
    }

    let account = archive
        .account()
        .map(|a| AccountSummary {
            id: Some(a.account_id.to_string()),
            username: Some(a.username.clone()).filter(|u| !u.is_empty()),
            display_name: a.account_display_name.clone(),
        })
        .unwrap_or_default();
    let mut all_problems: Vec<Problem> = archive.problems().to_vec();
    let mut dropped = archive.problems_dropped() + problems.dropped;
    for p in problems.list {
        if all_problems.len() < MAX_PROBLEMS {
            all_problems.push(p);
        } else {
            dropped += 1;
        }
    }
    let rfc3339 = |d: DateTime<Utc>| d.to_rfc3339_opts(SecondsFormat::Secs, true);
    Ok(Inspection {
        account,
        generated_at: archive.generated_at().map(str::to_string),
        tweets: counts,
        threads,
        media,
        dates: Dates {
            first: first.map(rfc3339),
            last: last.map(rfc3339),
        },
        graph,
        problems: all_problems,
        problems_not_listed: dropped,
        files: files.iter().map(|f| f.name.clone()).collect(),
        tweet_bytes,
    })
}

/// Groups tweets connected by self-replies whose parent is present (union-find over the edges).
fn threads(edges: &[(u64, u64)], present: &HashSet<u64>) -> Threads {
    let mut parent: HashMap<u64, u64> = HashMap::new();
    fn find(parent: &mut HashMap<u64, u64>, x: u64) -> u64 {
        let mut root = x;
        while let Some(&p) = parent.get(&root) {
            if p == root {
                break;
            }
            root = p;
        }
        // Path compression keeps long threads cheap.
        let mut cur = x;
        while cur != root {
            let next = parent[&cur];
            parent.insert(cur, root);
            cur = next;
        }
        root
    }
    for &(child, par) in edges {
        if child == par || !present.contains(&par) {
            continue;
        }
        parent.entry(child).or_insert(child);
        parent.entry(par).or_insert(par);
        let a = find(&mut parent, child);
        let b = find(&mut parent, par);
        if a != b {
            parent.insert(a, b);
        }
    }
    let nodes: Vec<u64> = parent.keys().copied().collect();
    let mut sizes: HashMap<u64, u64> = HashMap::new();
    for n in nodes {
        let root = find(&mut parent, n);
        *sizes.entry(root).or_default() += 1;
    }
    Threads {
        count: sizes.len() as u64,
        longest: sizes.values().copied().max().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Id;
    use super::*;

    #[test]
    fn threads_need_present_parents() {
        let present: HashSet<u64> = [1, 2, 3, 4, 10, 11, 20].into_iter().collect();
        // 1 <- 2 <- 3, 2 <- 4 (a branch), 10 <- 11, 20 replies to an absent 19.
        let edges = [(2, 1), (3, 2), (4, 2), (11, 10), (20, 19)];
        let t = threads(&edges, &present);
        assert_eq!(t.count, 2);
        assert_eq!(t.longest, 4);
        let t = threads(&[], &present);
        assert_eq!((t.count, t.longest), (0, 0));
    }

    #[test]
    fn id_display_is_exact() {
        assert_eq!(Id(18446744073709551615).to_string(), "18446744073709551615");
    }
}
