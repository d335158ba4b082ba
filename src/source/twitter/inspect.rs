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
    // One compact record per kept entry: the id, and its class and counts packed in 16 bits
    // (see `Packed`). Duplicates are found after reading, by sorting; this keeps memory at
    // ~10 bytes per tweet where a hash set would take twice that.
    let capacity = expected.min(50_000_000) as usize;
    let mut ids: Vec<u64> = Vec::with_capacity(capacity);
    let mut packed: Vec<u16> = Vec::with_capacity(capacity);
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
            let mut p = Packed {
                class: classify(t, account_id),
                community,
                ..Packed::default()
            };
            if p.class == Class::SelfReply
                && let Some(parent) = t.in_reply_to_status_id_str
            {
                self_replies.push((id.0, parent.0));
            }
            p.quote = is_quote(t);
            match parse_created_at(&t.created_at) {
                Some(at) => {
                    let at = at.with_timezone(&Utc);
                    first = Some(first.map_or(at, |f| f.min(at)));
                    last = Some(last.map_or(at, |l| l.max(at)));
                    let second = at.timestamp();
                    p.long =
                        notes.has_second(second) && notes.join(id, second, &t.full_text).is_some();
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
                    MediaKind::Photo => p.photos += 1,
                    MediaKind::Video => p.videos += 1,
                    MediaKind::AnimatedGif => p.gifs += 1,
                }
                match media_file_name(id, m) {
                    Some(name) if present.contains(&name_hash(&name)) => {}
                    Some(name) => {
                        p.missing += 1;
                        problems.push(
                            &display,
                            format!(
                                "tweet {id}: {} file `{media_dir}/{name}` is missing",
                                kind.as_str()
                            ),
                        );
                    }
                    None => {
                        p.missing += 1;
                        problems.push(
                            &display,
                            format!("tweet {id}: {} has no file name", kind.as_str()),
                        );
                    }
                }
            }
            ids.push(id.0);
            packed.push(p.pack());
        })?;
    }
    counts.deleted_excluded = deleted.len() as u64;
    drop(deleted);
    let tweet_bytes = archive.json_bytes() - bytes_before;

    // Duplicates: the first occurrence of an id is kept (sort a permutation, stable by index).
    let mut order: Vec<u32> = (0..ids.len() as u32).collect();
    order.sort_unstable_by_key(|&i| (ids[i as usize], i));
    let mut duplicate_ids = Vec::new();
    for pair in order.windows(2) {
        if ids[pair[0] as usize] == ids[pair[1] as usize] {
            packed[pair[1] as usize] |= Packed::DUPLICATE;
            duplicate_ids.push(ids[pair[1] as usize]);
        }
    }
    drop(order);
    for &bits in &packed {
        if bits & Packed::DUPLICATE != 0 {
            counts.duplicates += 1;
            continue;
        }
        let p = Packed::unpack(bits);
        counts.total += 1;
        match p.class {
            Class::Original => counts.original += 1,
            Class::SelfReply => counts.self_replies += 1,
            Class::Reply => counts.replies += 1,
            Class::Retweet => counts.retweets += 1,
        }
        counts.quotes += u64::from(p.quote);
        counts.long += u64::from(p.long);
        counts.community += u64::from(p.community);
        media.photo += u64::from(p.photos);
        media.video += u64::from(p.videos);
        media.animated_gif += u64::from(p.gifs);
        media.missing += u64::from(p.missing);
    }
    drop(packed);
    duplicate_ids.dedup();
    for id in duplicate_ids {
        let file = archive.display_name("tweets.js");
        problems.push(
            &file,
            format!("tweet {id} appears more than once; kept once"),
        );
    }
    // From here on, `ids` is the sorted set of kept ids.
    ids.sort_unstable();
    ids.dedup();
    ids.shrink_to_fit();
    let present = |id: u64| ids.binary_search(&id).is_ok();

    for (version, latest) in superseded {
        if !present(latest) {
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
    drop(notes);
    let threads = threads(&mut self_replies, &ids);
    drop(ids);

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

/// A kept tweet's class and counts in 16 bits: class (2), quote, long, community, photos (3),
/// videos (2), GIFs (2), missing files (3), and a duplicate mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed {
    class: Class,
    quote: bool,
    long: bool,
    community: bool,
    photos: u8,
    videos: u8,
    gifs: u8,
    missing: u8,
}

impl Default for Packed {
    fn default() -> Self {
        Packed {
            class: Class::Original,
            quote: false,
            long: false,
            community: false,
            photos: 0,
            videos: 0,
            gifs: 0,
            missing: 0,
        }
    }
}

impl Packed {
    const DUPLICATE: u16 = 1 << 15;

    fn pack(self) -> u16 {
        let class = match self.class {
            Class::Original => 0,
            Class::SelfReply => 1,
            Class::Reply => 2,
            Class::Retweet => 3,
        };
        // Twitter allows 4 media per tweet; the fields saturate rather than wrap on odd input.
        class
            | u16::from(self.quote) << 2
            | u16::from(self.long) << 3
            | u16::from(self.community) << 4
            | u16::from(self.photos.min(7)) << 5
            | u16::from(self.videos.min(3)) << 8
            | u16::from(self.gifs.min(3)) << 10
            | u16::from(self.missing.min(7)) << 12
    }

    fn unpack(bits: u16) -> Packed {
        Packed {
            class: match bits & 3 {
                0 => Class::Original,
                1 => Class::SelfReply,
                2 => Class::Reply,
                _ => Class::Retweet,
            },
            quote: bits & (1 << 2) != 0,
            long: bits & (1 << 3) != 0,
            community: bits & (1 << 4) != 0,
            photos: ((bits >> 5) & 7) as u8,
            videos: ((bits >> 8) & 3) as u8,
            gifs: ((bits >> 10) & 3) as u8,
            missing: ((bits >> 12) & 7) as u8,
        }
    }
}

/// Groups tweets connected by self-replies whose parent is present (`present` is sorted), by
/// union-find over the tweets that take part in an edge.
fn threads(edges: &mut Vec<(u64, u64)>, present: &[u64]) -> Threads {
    edges.retain(|&(child, parent)| child != parent && present.binary_search(&parent).is_ok());
    let mut nodes: Vec<u64> = edges.iter().flat_map(|&(c, p)| [c, p]).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let index = |id: u64| nodes.binary_search(&id).expect("every endpoint is a node") as u32;
    let mut parent: Vec<u32> = (0..nodes.len() as u32).collect();
    fn find(parent: &mut [u32], x: u32) -> u32 {
        let mut root = x;
        while parent[root as usize] != root {
            root = parent[root as usize];
        }
        // Path compression keeps long threads cheap.
        let mut cur = x;
        while parent[cur as usize] != root {
            let next = parent[cur as usize];
            parent[cur as usize] = root;
            cur = next;
        }
        root
    }
    for &(c, p) in edges.iter() {
        let a = find(&mut parent, index(c));
        let b = find(&mut parent, index(p));
        if a != b {
            parent[a as usize] = b;
        }
    }
    let mut sizes: HashMap<u32, u64> = HashMap::new();
    for i in 0..parent.len() as u32 {
        let root = find(&mut parent, i);
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
        let present = [1, 2, 3, 4, 10, 11, 20];
        // 1 <- 2 <- 3, 2 <- 4 (a branch), 10 <- 11, 20 replies to an absent 19.
        let mut edges = vec![(2, 1), (3, 2), (4, 2), (11, 10), (20, 19)];
        let t = threads(&mut edges, &present);
        assert_eq!(t.count, 2);
        assert_eq!(t.longest, 4);
        let t = threads(&mut Vec::new(), &present);
        assert_eq!((t.count, t.longest), (0, 0));
    }

    #[test]
    fn packing_round_trips() {
        let p = Packed {
            class: Class::Retweet,
            quote: true,
            long: false,
            community: true,
            photos: 4,
            videos: 1,
            gifs: 1,
            missing: 3,
        };
        assert_eq!(Packed::unpack(p.pack()), p);
        assert_eq!(p.pack() & Packed::DUPLICATE, 0);
        assert_eq!(Packed::unpack(Packed::default().pack()), Packed::default());
    }

    #[test]
    fn id_display_is_exact() {
        assert_eq!(Id(18446744073709551615).to_string(), "18446744073709551615");
    }
}
