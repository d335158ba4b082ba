//! Where a Twitter/X archive hides fediverse accounts (issue 6): the candidates of
//! `migrate discover`, with where each was found and who on Twitter it belongs to.
//!
//! `following.js` holds numeric ids only, so no archive names the fediverse accounts of the
//! people followed (FORMATS.md §1.9). What it does hold is what the user wrote and liked, and
//! people announced their moves there. [`discover`] reads, in this order: the profile (bio and
//! website), the tweets (`tweets.js` and its parts, community tweets; not the recently deleted
//! ones) with their links expanded, the long tweets of `note-tweet.js`, `like.js`, and — only
//! when asked, since they are private — the direct messages. Each text goes through the
//! [`scan`] scanner.
//!
//! Each distinct handle becomes one [`Candidate`] that keeps its first occurrence (file, item,
//! a short snippet), how often it was seen, and the Twitter account the archive associates it
//! with, best first: a mention with the same user name, the author of a retweet, the account
//! replied to, the only account mentioned, the sender of a direct message. Whether the user
//! followed that account comes from `following.js`, through the ids mentions and replies carry.
//!
//! Handles that are the user's own are marked, not dropped: those in the profile, and those
//! whose user name is the archive owner's Twitter user name (people announce their own moves).
//!
//! Memory grows with the number of distinct candidates (and of long tweets), never with the
//! size of the archive's texts. Nothing here touches the network; verification is the caller's.

mod scan;

use std::collections::{HashMap, HashSet};

use serde::Serialize;

pub use scan::{Form, Found, expand_links, from_url, scan, snippet};

use crate::source::handle::Handle;
use crate::source::twitter::dms::DmFile;
use crate::source::twitter::model::{Id, Tweet};
use crate::source::twitter::{
    Archive, ArchiveError, Relation, TweetSource, likes, parse_created_at,
};

/// Where in the archive a candidate was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    ProfileBio,
    ProfileWebsite,
    Tweet,
    /// A long tweet's full text (`note-tweet.js`).
    LongTweet,
    Like,
    DirectMessage,
    GroupMessage,
}

impl Place {
    pub fn as_str(self) -> &'static str {
        match self {
            Place::ProfileBio => "profile_bio",
            Place::ProfileWebsite => "profile_website",
            Place::Tweet => "tweet",
            Place::LongTweet => "long_tweet",
            Place::Like => "like",
            Place::DirectMessage => "direct_message",
            Place::GroupMessage => "group_message",
        }
    }
}

/// How the archive ties a candidate to a Twitter account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The only account mentioned in the tweet.
    Mentioned,
    /// The sender of the direct message.
    MessageSender,
    /// The account the tweet replies to.
    RepliedTo,
    /// The author of the retweeted tweet.
    Retweeted,
    /// A mention with the same user name in the same tweet.
    SameName,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Mentioned => "mentioned",
            Via::MessageSender => "message_sender",
            Via::RepliedTo => "replied_to",
            Via::Retweeted => "retweeted",
            Via::SameName => "same_name",
        }
    }
}

/// The Twitter account a candidate is associated with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TwitterLink {
    pub screen_name: Option<String>,
    pub user_id: Option<u64>,
    pub via: Via,
    /// Whether the user followed it on Twitter; `None` when unknown (no id, or no
    /// `following.js`).
    pub followed: Option<bool>,
}

impl TwitterLink {
    /// Followed accounts first, then the stronger association.
    fn rank(&self) -> (bool, Via) {
        (self.followed == Some(true), self.via)
    }
}

/// Why a candidate is the user's own account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Own {
    /// It is in the user's profile (bio or website).
    Profile,
    /// Its user name is the archive owner's Twitter user name.
    TwitterName,
}

/// One occurrence of a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    pub place: Place,
    /// The archive file, as shown in messages (`data/tweets.js`).
    pub file: String,
    /// The tweet, liked tweet or message id, when there is one.
    pub item: Option<String>,
    /// A one-line excerpt around the candidate.
    pub context: String,
    pub form: Form,
}

/// A distinct handle found in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub handle: Handle,
    /// Where it was first seen.
    pub first: Occurrence,
    pub occurrences: u64,
    /// The best association over all occurrences.
    pub twitter: Option<TwitterLink>,
    pub own: Option<Own>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Read the direct messages too.
    pub include_dms: bool,
}

/// What was read, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Read {
    pub tweets: u64,
    pub long_tweets: u64,
    /// `None`: the archive has no `like.js`.
    pub likes: Option<u64>,
    pub profile: bool,
    /// Messages read; `None` when not read.
    pub direct_messages: Option<u64>,
    /// Whether the archive has direct messages (read or not).
    pub has_direct_messages: bool,
    /// Accounts in `following.js`; `None` when the file is absent.
    pub following: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// In the order first found.
    pub candidates: Vec<Candidate>,
    pub read: Read,
}

/// Reads the archive and collects its candidates (see the module doc).
pub fn discover(archive: &mut Archive, options: &Options) -> Result<Discovery, ArchiveError> {
    let owner = archive
        .account()
        .map(|a| Owner {
            id: Some(a.account_id.0),
            name: a.username.clone(),
        })
        .unwrap_or_default();
    let following = archive.relation_ids(Relation::Following)?;
    let mut c = Collector {
        read: Read {
            following: following.as_ref().map(|f| f.len() as u64),
            ..Read::default()
        },
        known: Known { owner, following },
        candidates: Vec::new(),
        index: HashMap::new(),
    };

    if let Some(profile) = archive.profile().cloned() {
        c.read.profile = true;
        let file = archive.display_name("profile.js");
        let d = &profile.description;
        for (place, text) in [
            (Place::ProfileBio, d.bio.as_deref()),
            (Place::ProfileWebsite, d.website.as_deref()),
        ] {
            let text = html_escape::decode_html_entities(text.unwrap_or_default());
            c.record(place, &file, None, &text, |_, _| None);
        }
    }

    // Long tweets are joined to their tweets while those are read, so that a handle in a note
    // gets its tweet's id and Twitter context.
    let mut notes = archive.read_notes()?;
    let mut joined: HashMap<Id, (Id, TweetContext)> = HashMap::new();
    let files: Vec<_> = archive
        .tweet_files()
        .iter()
        .filter(|f| f.source != TweetSource::Deleted)
        .cloned()
        .collect();
    for file in &files {
        let display = archive.display_name(&file.name);
        archive.for_each_tweet(file, |tweet| {
            c.read.tweets += 1;
            let text = expand_links(
                &tweet.full_text,
                true,
                tweet
                    .entities
                    .urls
                    .iter()
                    .map(|u| (u.url.as_ref(), u.expanded_url.as_deref())),
            );
            let id = tweet.id_str.to_string();
            // The context is built only for tweets that hold candidates (or a long text).
            c.record(Place::Tweet, &display, Some(id), &text, |h, known| {
                TweetContext::of(tweet).link(h, known)
            });
            if let Some(second) = parse_created_at(&tweet.created_at).map(|t| t.timestamp())
                && notes.has_second(second)
                && let Some(note) = notes.join(tweet.id_str, second, &tweet.full_text)
            {
                joined.insert(note, (tweet.id_str, TweetContext::of(tweet)));
            }
        })?;
    }

    let notes_file = archive.display_name("note-tweet.js");
    archive.for_each_note(|note| {
        c.read.long_tweets += 1;
        let text = expand_links(
            &note.core.text,
            false,
            note.core
                .urls
                .iter()
                .map(|u| (u.short_url.as_ref(), Some(u.expanded_url.as_ref()))),
        );
        let (item, context) = match joined.get(&note.note_tweet_id) {
            Some((tweet, context)) => (tweet.to_string(), Some(context)),
            None => (note.note_tweet_id.to_string(), None),
        };
        c.record(
            Place::LongTweet,
            &notes_file,
            Some(item),
            &text,
            |h, known| context.and_then(|ctx| ctx.link(h, known)),
        );
    })?;

    let likes_file = archive.display_name(likes::FILE);
    let mut liked = 0u64;
    let has_likes = archive.for_each_like(|like| {
        liked += 1;
        let id = like.tweet_id.to_string();
        if let Some(text) = &like.full_text {
            let text = html_escape::decode_html_entities(text);
            c.record(Place::Like, &likes_file, Some(id.clone()), &text, |_, _| {
                None
            });
        }
        if let Some(url) = &like.expanded_url {
            c.record(Place::Like, &likes_file, Some(id), url, |_, _| None);
        }
    })?;
    c.read.likes = has_likes.then_some(liked);

    c.read.has_direct_messages = [DmFile::Direct, DmFile::Group]
        .iter()
        .any(|&f| archive.has_conversations(f));
    if options.include_dms {
        let mut messages = 0u64;
        for (which, place) in [
            (DmFile::Direct, Place::DirectMessage),
            (DmFile::Group, Place::GroupMessage),
        ] {
            let file = archive.display_name(which.file());
            archive.for_each_conversation(which, |conversation| {
                let sent = conversation
                    .messages
                    .iter()
                    .filter_map(|e| e.message_create.as_ref());
                for m in sent {
                    messages += 1;
                    let text = expand_links(
                        &m.text,
                        true,
                        m.urls
                            .iter()
                            .map(|u| (u.url.as_ref(), u.expanded.as_deref())),
                    );
                    let sender = m.sender_id.map(|id| id.0);
                    let item = m.id.map(|i| i.to_string());
                    c.record(place, &file, item, &text, |_, known| {
                        known.sender_link(sender)
                    });
                }
            })?;
        }
        c.read.direct_messages = Some(messages);
    }

    Ok(Discovery {
        candidates: c.candidates,
        read: c.read,
    })
}

/// The archive owner.
#[derive(Debug, Clone, Default)]
struct Owner {
    id: Option<u64>,
    /// The Twitter user name (`account.js`).
    name: String,
}

impl Owner {
    fn is(&self, screen_name: Option<&str>, id: Option<u64>) -> bool {
        (id.is_some() && id == self.id)
            || screen_name.is_some_and(|s| !s.is_empty() && s.eq_ignore_ascii_case(&self.name))
    }
}

/// What associations are computed against.
struct Known {
    owner: Owner,
    following: Option<HashSet<u64>>,
}

impl Known {
    fn link(&self, screen_name: Option<&str>, id: Option<u64>, via: Via) -> TwitterLink {
        TwitterLink {
            screen_name: screen_name.map(str::to_string),
            user_id: id,
            via,
            followed: match (&self.following, id) {
                (Some(f), Some(id)) => Some(f.contains(&id)),
                _ => None,
            },
        }
    }

    /// A direct message ties its handles to its sender, unless the user sent it.
    fn sender_link(&self, sender: Option<u64>) -> Option<TwitterLink> {
        let sender = sender.filter(|&s| s != 0 && !self.owner.is(None, Some(s)))?;
        Some(self.link(None, Some(sender), Via::MessageSender))
    }
}

/// The Twitter accounts a tweet names: mentions (with their ids when known) and the reply.
#[derive(Debug, Clone, Default)]
struct TweetContext {
    mentions: Vec<(String, Option<u64>)>,
    reply: Option<(Option<String>, Option<u64>)>,
    retweet: bool,
}

impl TweetContext {
    fn of(tweet: &Tweet<'_>) -> TweetContext {
        // Twitter writes -1 for the ids of suspended or renamed accounts (read as 0 here).
        let id = |n: Option<u64>| n.filter(|&n| n != 0);
        let reply = (tweet.in_reply_to_user_id_str.is_some()
            || tweet.in_reply_to_screen_name.is_some())
        .then(|| {
            (
                tweet.in_reply_to_screen_name.as_deref().map(str::to_string),
                id(tweet.in_reply_to_user_id_str.map(|i| i.0)),
            )
        });
        TweetContext {
            mentions: tweet
                .entities
                .user_mentions
                .iter()
                .map(|m| (m.screen_name.to_string(), id(m.id_str.map(|n| n.0))))
                .collect(),
            reply,
            retweet: tweet.full_text.starts_with("RT @"),
        }
    }

    /// The Twitter account this tweet ties `handle` to (see the module doc for the order).
    fn link(&self, handle: &Handle, known: &Known) -> Option<TwitterLink> {
        let others: Vec<&(String, Option<u64>)> = self
            .mentions
            .iter()
            .filter(|(name, id)| !known.owner.is(Some(name), *id))
            .collect();
        if let Some((name, id)) = others
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(handle.username()))
        {
            return Some(known.link(Some(name), *id, Via::SameName));
        }
        if self.retweet
            && let Some((name, id)) = self.mentions.first()
            && !known.owner.is(Some(name), *id)
        {
            return Some(known.link(Some(name), *id, Via::Retweeted));
        }
        if let Some((name, id)) = &self.reply
            && !known.owner.is(name.as_deref(), *id)
        {
            // The screen name from the mentions when the reply itself lacks it (old tweets).
            let name = name.clone().or_else(|| {
                self.mentions
                    .iter()
                    .find(|(_, m)| m.is_some() && m == id)
                    .map(|(n, _)| n.clone())
            });
            return Some(known.link(name.as_deref(), *id, Via::RepliedTo));
        }
        match others.as_slice() {
            [(name, id)] => Some(known.link(Some(name), *id, Via::Mentioned)),
            _ => None,
        }
    }
}

/// Candidates as they are found.
struct Collector {
    read: Read,
    known: Known,
    candidates: Vec<Candidate>,
    index: HashMap<Handle, usize>,
}

impl Collector {
    /// Scans `text` and records what it holds. `link` gives a handle's Twitter association.
    fn record(
        &mut self,
        place: Place,
        file: &str,
        item: Option<String>,
        text: &str,
        link: impl Fn(&Handle, &Known) -> Option<TwitterLink>,
    ) {
        let found = scan(text);
        if found.is_empty() {
            return;
        }
        for f in found {
            let twitter = link(&f.handle, &self.known);
            let own = match place {
                Place::ProfileBio | Place::ProfileWebsite => Some(Own::Profile),
                _ if !self.known.owner.name.is_empty()
                    && f.handle
                        .username()
                        .eq_ignore_ascii_case(&self.known.owner.name) =>
                {
                    Some(Own::TwitterName)
                }
                _ => None,
            };
            match self.index.get(&f.handle) {
                Some(&i) => {
                    let c = &mut self.candidates[i];
                    c.occurrences += 1;
                    if let Some(t) = twitter
                        && c.twitter.as_ref().is_none_or(|old| t.rank() > old.rank())
                    {
                        c.twitter = Some(t);
                    }
                    if own == Some(Own::Profile) || c.own.is_none() {
                        c.own = own.or(c.own);
                    }
                }
                None => {
                    self.index.insert(f.handle.clone(), self.candidates.len());
                    self.candidates.push(Candidate {
                        first: Occurrence {
                            place,
                            file: file.to_string(),
                            item: item.clone(),
                            context: snippet(text, f.span.clone()),
                            form: f.form,
                        },
                        handle: f.handle,
                        occurrences: 1,
                        twitter,
                        own,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(following: &[u64]) -> Known {
        Known {
            owner: Owner {
                id: Some(1),
                name: "me_on_twitter".into(),
            },
            following: Some(following.iter().copied().collect()),
        }
    }

    fn ctx(mentions: &[(&str, u64)], reply: Option<(&str, u64)>, retweet: bool) -> TweetContext {
        TweetContext {
            mentions: mentions
                .iter()
                .map(|(n, i)| (n.to_string(), (*i != 0).then_some(*i)))
                .collect(),
            reply: reply.map(|(n, i)| (Some(n.to_string()), Some(i))),
            retweet,
        }
    }

    fn h(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    #[test]
    fn the_strongest_association_wins() {
        let k = known(&[20]);
        // A mention with the same user name beats the reply.
        let t = ctx(&[("bob", 10), ("Ana", 20)], Some(("bob", 10)), false);
        let l = t.link(&h("ana@x.example"), &k).unwrap();
        assert_eq!(
            (l.via, l.user_id, l.followed),
            (Via::SameName, Some(20), Some(true))
        );
        assert_eq!(l.screen_name.as_deref(), Some("Ana"));
        // The retweeted author.
        let t = ctx(&[("carol", 30), ("dan", 40)], None, true);
        let l = t.link(&h("zed@x.example"), &k).unwrap();
        assert_eq!(
            (l.via, l.user_id, l.followed),
            (Via::Retweeted, Some(30), Some(false))
        );
        // The account replied to.
        let t = ctx(&[("bob", 10), ("dan", 40)], Some(("bob", 10)), false);
        assert_eq!(t.link(&h("zed@x.example"), &k).unwrap().via, Via::RepliedTo);
        // The only other account mentioned; the owner does not count.
        let t = ctx(&[("me_on_twitter", 1), ("dan", 40)], None, false);
        let l = t.link(&h("zed@x.example"), &k).unwrap();
        assert_eq!(
            (l.via, l.screen_name.as_deref()),
            (Via::Mentioned, Some("dan"))
        );
        // Two mentions and nothing else: no telling.
        let t = ctx(&[("bob", 10), ("dan", 40)], None, false);
        assert!(t.link(&h("zed@x.example"), &k).is_none());
        // A reply to oneself (a thread) ties nothing.
        let t = ctx(&[], Some(("me_on_twitter", 1)), false);
        assert!(t.link(&h("zed@x.example"), &k).is_none());
        // Unknown ids (-1 in the archive) leave `followed` unknown.
        let t = ctx(&[("gone", 0)], None, false);
        let l = t.link(&h("gone@x.example"), &k).unwrap();
        assert_eq!((l.user_id, l.followed), (None, None));
        // Without following.js nothing is known to be followed.
        let k = Known {
            following: None,
            ..known(&[])
        };
        let t = ctx(&[("ana", 20)], None, false);
        assert_eq!(t.link(&h("ana@x.example"), &k).unwrap().followed, None);
    }

    #[test]
    fn direct_messages_tie_to_their_sender_unless_the_user_sent_them() {
        let k = known(&[50]);
        let l = k.sender_link(Some(50)).unwrap();
        assert_eq!((l.via, l.followed), (Via::MessageSender, Some(true)));
        assert!(k.sender_link(Some(1)).is_none());
        assert!(k.sender_link(None).is_none());
    }

    #[test]
    fn candidates_merge_and_keep_the_best_association() {
        let mut c = Collector {
            read: Read::default(),
            known: known(&[20]),
            candidates: Vec::new(),
            index: HashMap::new(),
        };
        let weak = |_: &Handle, k: &Known| Some(k.link(Some("x"), Some(9), Via::Mentioned));
        let strong = |_: &Handle, k: &Known| Some(k.link(Some("ana"), Some(20), Via::Mentioned));
        c.record(
            Place::Tweet,
            "data/tweets.js",
            Some("1".into()),
            "hi @ana@x.example",
            weak,
        );
        c.record(
            Place::Like,
            "data/like.js",
            Some("2".into()),
            "https://x.example/@ana",
            strong,
        );
        c.record(
            Place::Tweet,
            "data/tweets.js",
            Some("3".into()),
            "@ANA@X.example",
            weak,
        );
        c.record(
            Place::Tweet,
            "data/tweets.js",
            None,
            "@me_on_twitter@y.example",
            |_, _| None,
        );
        c.record(
            Place::ProfileBio,
            "data/profile.js",
            None,
            "me: @bio@z.example",
            |_, _| None,
        );
        c.record(
            Place::Tweet,
            "data/tweets.js",
            None,
            "@bio@z.example",
            |_, _| None,
        );
        assert_eq!(c.candidates.len(), 3);
        let ana = &c.candidates[0];
        assert_eq!(ana.occurrences, 3);
        assert_eq!(ana.first.item.as_deref(), Some("1"));
        assert_eq!(ana.first.form, Form::Handle);
        assert_eq!(
            ana.twitter.as_ref().unwrap().user_id,
            Some(20),
            "followed wins"
        );
        assert_eq!(ana.own, None);
        assert_eq!(c.candidates[1].own, Some(Own::TwitterName));
        assert_eq!(c.candidates[2].own, Some(Own::Profile));
    }
}
