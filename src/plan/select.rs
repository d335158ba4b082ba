//! Which tweets of an archive become posts, in which order, replying to which: the selection
//! of `migrate import archive.zip`, pure and independent of how posts are sent.
//!
//! Rules (from the issue that specifies the archive import):
//! - by default originals, self-threads and quotes are posted; retweets and replies to other
//!   people are skipped and counted, unless `include_retweets` / `include_replies`;
//! - a self-thread that starts with a reply to someone else belongs to that reply: it is
//!   skipped with it, and comes in with `include_replies`;
//! - user filters (dates, ids, likes, a limit) apply to each tweet;
//! - a self-reply whose parent is not posted — absent from the archive, filtered out, skipped —
//!   becomes a top-level post, and says why;
//! - posts go oldest first (parents always before their replies, since a reply is newer).
//!
//! Memory: one small [`Candidate`] per tweet; no text.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::source::twitter::{Class, Id, Tweet, classify, is_quote, parse_created_at};

/// What the selection needs to know of a tweet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: Id,
    pub created_at: DateTime<Utc>,
    pub class: Class,
    /// The tweet replied to, for replies.
    pub parent: Option<Id>,
    pub likes: u64,
    pub quote: bool,
}

impl Candidate {
    /// The candidate for a tweet of the archive; `None` when its date cannot be read (the
    /// reader reports that as a problem).
    pub fn of(tweet: &Tweet, account: Option<Id>) -> Option<Candidate> {
        Some(Candidate {
            id: tweet.id_str,
            created_at: parse_created_at(&tweet.created_at)?.with_timezone(&Utc),
            class: classify(tweet, account),
            parent: tweet.in_reply_to_status_id_str,
            likes: tweet.favorite_count.map_or(0, |n| n.0),
            quote: is_quote(tweet),
        })
    }
}

/// The user's filters and inclusions.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub include_retweets: bool,
    pub include_replies: bool,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only these tweets (`--ids FILE`).
    pub only: Option<HashSet<Id>>,
    /// Never these (`--exclude-ids FILE`).
    pub exclude: HashSet<Id>,
    pub min_likes: Option<u64>,
    /// At most this many tweets, the oldest selected first.
    pub limit: Option<usize>,
}

/// Why a tweet is not posted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SkipReason {
    Retweet,
    ReplyToOthers,
    /// Part of a thread that starts with a reply to someone else.
    ThreadOfAReply {
        root: Id,
    },
    BeforeSince,
    AfterUntil,
    NotInIds,
    Excluded,
    FewLikes {
        likes: u64,
    },
    OverLimit,
}

impl SkipReason {
    pub fn text(&self) -> String {
        match self {
            SkipReason::Retweet => "a retweet (--include-retweets posts them)".into(),
            SkipReason::ReplyToOthers => {
                "a reply to someone else (--include-replies posts them)".into()
            }
            SkipReason::ThreadOfAReply { root } => format!(
                "part of a thread that starts with a reply to someone else (tweet {root}; --include-replies posts it)"
            ),
            SkipReason::BeforeSince => "older than --since".into(),
            SkipReason::AfterUntil => "newer than --until".into(),
            SkipReason::NotInIds => "not in --ids".into(),
            SkipReason::Excluded => "in --exclude-ids".into(),
            SkipReason::FewLikes { likes } => format!("{likes} likes, under --min-likes"),
            SkipReason::OverLimit => "past --limit".into(),
        }
    }
}

/// A tweet to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub id: Id,
    /// The posted tweet this one replies to (its status id comes from the journal).
    pub reply_to: Option<Id>,
    /// When a self-reply is posted top-level: why.
    pub orphan: Option<String>,
}

/// The selection's result: posts oldest first, and every other tweet with its reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub posts: Vec<Planned>,
    pub skipped: Vec<(Id, SkipReason)>,
}

/// Selects and orders the posts (see the module doc).
pub fn select(mut tweets: Vec<Candidate>, s: &Selection) -> Plan {
    // Oldest first; ties by id, which is chronological for snowflakes.
    tweets.sort_by_key(|t| (t.created_at, t.id));
    let by_id: HashMap<Id, usize> = tweets.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    // The root of each self-reply chain: follow parents while they are present self-replies.
    let root_class = |t: &Candidate| -> (Id, Class) {
        let mut cur = t;
        let mut hops = 0;
        while cur.class == Class::SelfReply
            && let Some(p) = cur.parent.and_then(|p| by_id.get(&p))
        {
            cur = &tweets[*p];
            hops += 1;
            if hops > tweets.len() {
                break; // a cycle in hostile data
            }
        }
        (cur.id, cur.class)
    };
    let mut plan = Plan::default();
    let mut posted: HashSet<Id> = HashSet::new();
    for t in &tweets {
        let reason = match t.class {
            Class::Retweet if !s.include_retweets => Some(SkipReason::Retweet),
            Class::Reply if !s.include_replies => Some(SkipReason::ReplyToOthers),
            Class::SelfReply if !s.include_replies => match root_class(t) {
                (root, Class::Reply) => Some(SkipReason::ThreadOfAReply { root }),
                _ => None,
            },
            _ => None,
        }
        .or_else(|| filter(t, s));
        if let Some(r) = reason {
            plan.skipped.push((t.id, r));
            continue;
        }
        if s.limit.is_some_and(|l| plan.posts.len() >= l) {
            plan.skipped.push((t.id, SkipReason::OverLimit));
            continue;
        }
        let (reply_to, orphan) = match (t.class, t.parent) {
            (Class::SelfReply, Some(p)) if posted.contains(&p) => (Some(p), None),
            (Class::SelfReply, Some(p)) if by_id.contains_key(&p) => (
                None,
                Some(format!(
                    "posted on its own: the tweet it replies to ({p}) is not posted"
                )),
            ),
            (Class::SelfReply, Some(p)) => (
                None,
                Some(format!(
                    "posted on its own: the tweet it replies to ({p}) is not in the archive"
                )),
            ),
            _ => (None, None),
        };
        posted.insert(t.id);
        plan.posts.push(Planned {
            id: t.id,
            reply_to,
            orphan,
        });
    }
    plan
}

fn filter(t: &Candidate, s: &Selection) -> Option<SkipReason> {
    if s.exclude.contains(&t.id) {
        return Some(SkipReason::Excluded);
    }
    if let Some(only) = &s.only
        && !only.contains(&t.id)
    {
        return Some(SkipReason::NotInIds);
    }
    if s.since.is_some_and(|d| t.created_at < d) {
        return Some(SkipReason::BeforeSince);
    }
    if s.until.is_some_and(|d| t.created_at > d) {
        return Some(SkipReason::AfterUntil);
    }
    if s.min_likes.is_some_and(|m| t.likes < m) {
        return Some(SkipReason::FewLikes { likes: t.likes });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 1, day, 12, 0, 0).unwrap()
    }

    fn c(id: u64, day: u32, class: Class, parent: Option<u64>) -> Candidate {
        Candidate {
            id: Id(id),
            created_at: at(day),
            class,
            parent: parent.map(Id),
            likes: id % 10,
            quote: false,
        }
    }

    fn ids(plan: &Plan) -> Vec<u64> {
        plan.posts.iter().map(|p| p.id.0).collect()
    }

    #[test]
    fn default_selection_oldest_first_with_threads() {
        let tweets = vec![
            c(30, 3, Class::SelfReply, Some(20)),
            c(10, 1, Class::Original, None),
            c(20, 2, Class::SelfReply, Some(10)),
            c(40, 4, Class::Retweet, None),
            c(50, 5, Class::Reply, Some(999)),
            c(60, 6, Class::SelfReply, Some(50)), // a thread under a reply to someone else
            c(70, 7, Class::SelfReply, Some(5)),  // parent absent from the archive
        ];
        let plan = select(tweets, &Selection::default());
        assert_eq!(ids(&plan), [10, 20, 30, 70]);
        assert_eq!(plan.posts[1].reply_to, Some(Id(10)));
        assert_eq!(plan.posts[2].reply_to, Some(Id(20)));
        assert!(
            plan.posts[3]
                .orphan
                .as_deref()
                .unwrap()
                .contains("not in the archive")
        );
        let reasons: HashMap<u64, SkipReason> =
            plan.skipped.iter().map(|(i, r)| (i.0, r.clone())).collect();
        assert_eq!(reasons[&40], SkipReason::Retweet);
        assert_eq!(reasons[&50], SkipReason::ReplyToOthers);
        assert_eq!(reasons[&60], SkipReason::ThreadOfAReply { root: Id(50) });
    }

    #[test]
    fn include_replies_brings_the_thread_under_a_reply() {
        let tweets = vec![
            c(50, 5, Class::Reply, Some(999)),
            c(60, 6, Class::SelfReply, Some(50)),
        ];
        let plan = select(
            tweets,
            &Selection {
                include_replies: true,
                ..Selection::default()
            },
        );
        assert_eq!(ids(&plan), [50, 60]);
        assert_eq!(plan.posts[1].reply_to, Some(Id(50)));
    }

    #[test]
    fn a_filtered_parent_makes_an_orphan_that_says_why() {
        let tweets = vec![
            c(10, 1, Class::Original, None),
            c(20, 2, Class::SelfReply, Some(10)),
        ];
        let plan = select(
            tweets,
            &Selection {
                since: Some(at(2)),
                ..Selection::default()
            },
        );
        assert_eq!(ids(&plan), [20]);
        assert!(
            plan.posts[0]
                .orphan
                .as_deref()
                .unwrap()
                .contains("is not posted")
        );
        assert_eq!(plan.skipped, vec![(Id(10), SkipReason::BeforeSince)]);
    }

    #[test]
    fn filters_and_limit() {
        let tweets: Vec<Candidate> = (1..=9)
            .map(|d| c(d as u64, d, Class::Original, None))
            .collect();
        let plan = select(
            tweets.clone(),
            &Selection {
                min_likes: Some(3),
                limit: Some(3),
                exclude: [Id(4)].into(),
                ..Selection::default()
            },
        );
        assert_eq!(ids(&plan), [3, 5, 6]);
        let over = plan
            .skipped
            .iter()
            .filter(|(_, r)| *r == SkipReason::OverLimit)
            .count();
        assert_eq!(over, 3);
        let plan = select(
            tweets,
            &Selection {
                only: Some([Id(2), Id(8)].into()),
                until: Some(at(7)),
                ..Selection::default()
            },
        );
        assert_eq!(ids(&plan), [2]);
    }

    #[test]
    fn candidates_from_archive_entries() {
        let t: crate::source::twitter::model::TweetEntry = serde_json::from_str(
            r#"{"tweet":{"id_str":"20","created_at":"Mon Jan 02 12:00:00 +0000 2023","full_text":"@me more","in_reply_to_status_id_str":"10","in_reply_to_user_id_str":"7","favorite_count":"3"}}"#,
        )
        .unwrap();
        let c = Candidate::of(&t.0, Some(Id(7))).unwrap();
        assert_eq!(c.class, Class::SelfReply);
        assert_eq!((c.parent, c.likes, c.created_at), (Some(Id(10)), 3, at(2)));
    }

    #[test]
    fn a_cycle_in_hostile_data_does_not_hang() {
        let tweets = vec![
            c(1, 1, Class::SelfReply, Some(2)),
            c(2, 2, Class::SelfReply, Some(1)),
        ];
        let plan = select(tweets, &Selection::default());
        assert_eq!(plan.posts.len(), 2);
    }
}
