//! A small builder for synthetic Twitter/X archives, shared by the integration tests and by
//! `examples/make_fixtures.rs` (which includes this file with `#[path]`).
//!
//! Everything here is made up: the accounts, texts and ids only imitate the *shape* of real
//! archives (see `../shared/FORMATS.md` §1), never their content.
//!
//! Pieces:
//! - [`J`], an ordered JSON value, printed in the two styles X used: [`Style::Compact`] (the
//!   2019–2021 Jackson default: `[ {`, `}, {`, arrays inline `[ "0", "12" ]`) and
//!   [`Style::Multiline`] (2022+: every array element on its own line).
//! - [`ytd`] and [`thar_config`], the `window.YTD.<name>.partN = ` / `window.__THAR_CONFIG = `
//!   wrappers.
//! - [`Tweet`], [`Media`], [`LongPost`] (a truncated tweet plus its `note-tweet.js` note),
//!   [`Manifest`], [`account`], [`graph`], [`likes`], [`profile_with`], [`Dm`] and
//!   [`direct_messages`]: the records of an archive.
//! - [`modern_archive`]: a complete small 2022+ archive in one call.
//! - [`Archive`]: a list of `(path, bytes)` written as a deterministic zip (fixed timestamps and
//!   permissions) or as a folder; [`raw_zip`] / [`raw_zip_entries`] write a zip byte by byte (for
//!   entry names a well-behaved writer would refuse), [`deflate_bomb`] makes a 1,000:1 deflate
//!   stream without compressing anything, and [`patch_declared_size`] makes a zip lie about an
//!   entry's size.
#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};

// ------------------------------------------------------------------------------------------------
// JSON with key order, printed like X's Jackson serializer
// ------------------------------------------------------------------------------------------------

/// A JSON value that keeps the order of object keys (real archives have a stable, odd order).
#[derive(Clone, Debug, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

/// A JSON string.
pub fn s(text: impl Into<String>) -> J {
    J::Str(text.into())
}

/// A JSON object from `(key, value)` pairs, in that order.
pub fn obj<K: Into<String>>(pairs: impl IntoIterator<Item = (K, J)>) -> J {
    J::Obj(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// A JSON array.
pub fn arr(items: impl IntoIterator<Item = J>) -> J {
    J::Arr(items.into_iter().collect())
}

/// A JSON array of strings (X writes every number as a string: indices, sizes, counts).
pub fn str_arr<T: ToString>(items: impl IntoIterator<Item = T>) -> J {
    J::Arr(items.into_iter().map(|x| J::Str(x.to_string())).collect())
}

impl J {
    /// Adds or replaces a key of an object (no-op on other values).
    pub fn set(&mut self, key: &str, value: J) {
        if let J::Obj(pairs) = self {
            if let Some(slot) = pairs.iter_mut().find(|(k, _)| k == key) {
                slot.1 = value;
            } else {
                pairs.push((key.to_string(), value));
            }
        }
    }

    /// Removes a key of an object.
    pub fn remove(&mut self, key: &str) {
        if let J::Obj(pairs) = self {
            pairs.retain(|(k, _)| k != key);
        }
    }
}

/// The two printing styles of X archives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// 2019–2021 (and every `manifest.js`): objects one key per line, arrays inline:
    /// `[ {`, `}, {`, `} ]`, `[ "0", "12" ]`.
    Compact,
    /// 2022+: arrays one element per line too (`[`, `  {`, `  },`, `]`).
    Multiline,
}

/// Prints `value` as X does, indenting by two spaces.
pub fn render(value: &J, style: Style) -> String {
    let mut out = String::new();
    write_value(&mut out, value, style, 0);
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_value(out: &mut String, value: &J, style: Style, level: usize) {
    match value {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Str(text) => out.push_str(&serde_json::to_string(text).expect("a string serializes")),
        J::Obj(pairs) if pairs.is_empty() => out.push_str("{ }"),
        J::Obj(pairs) => {
            out.push('{');
            for (i, (key, v)) in pairs.iter().enumerate() {
                out.push('\n');
                indent(out, level + 1);
                out.push_str(&serde_json::to_string(key).expect("a string serializes"));
                out.push_str(" : ");
                write_value(out, v, style, level + 1);
                if i + 1 < pairs.len() {
                    out.push(',');
                }
            }
            out.push('\n');
            indent(out, level);
            out.push('}');
        }
        J::Arr(items) if items.is_empty() => out.push_str("[ ]"),
        J::Arr(items) => match style {
            // Jackson's default printer: arrays stay on one line, objects inside them keep the
            // indentation of the enclosing object.
            Style::Compact => {
                out.push_str("[ ");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_value(out, item, style, level);
                }
                out.push_str(" ]");
            }
            Style::Multiline => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push('\n');
                    indent(out, level + 1);
                    write_value(out, item, style, level + 1);
                    if i + 1 < items.len() {
                        out.push(',');
                    }
                }
                out.push('\n');
                indent(out, level);
                out.push(']');
            }
        },
    }
}

/// A data file: `window.YTD.<global> = [ … ]`, no trailing newline (as X writes it).
/// `global` is e.g. `tweets.part0`. Empty arrays print as `[ ]`.
pub fn ytd(global: &str, entries: Vec<J>, style: Style) -> String {
    format!("window.YTD.{global} = {}", render(&J::Arr(entries), style))
}

/// `manifest.js`: `window.__THAR_CONFIG = { … }` (always the compact style).
pub fn thar_config(config: &J) -> String {
    format!("window.__THAR_CONFIG = {}", render(config, Style::Compact))
}

// ------------------------------------------------------------------------------------------------
// Ids, dates and text
// ------------------------------------------------------------------------------------------------

/// Twitter's snowflake epoch (2010-11-04T01:42:54.657Z) in milliseconds.
const TWEPOCH_MS: i64 = 1_288_834_974_657;

/// Parses an RFC 3339 instant (`2023-01-05T10:00:00Z`). Panics on a typo: fixtures are code.
pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("bad fixture date {rfc3339:?}: {e}"))
        .with_timezone(&Utc)
}

/// A snowflake id for something created at `when` plus `ms` milliseconds, with sequence `seq`:
/// real ids grow with time, so sorting by id and by date agree.
pub fn snowflake(when: &str, ms: i64, seq: u64) -> String {
    let millis = at(when).timestamp_millis() + ms;
    let id = (((millis - TWEPOCH_MS) as u64) << 22) | (5 << 17) | (3 << 12) | (seq & 0xfff);
    id.to_string()
}

/// `Fri Feb 20 09:10:58 +0000 2026`, the `created_at` format of tweets.
pub fn twitter_date(when: DateTime<Utc>) -> String {
    when.format("%a %b %d %H:%M:%S +0000 %Y").to_string()
}

/// `2024-03-12T10:27:58.000Z`, the ISO format of notes and account files.
pub fn iso_millis(when: DateTime<Utc>) -> String {
    when.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// HTML-escapes the way `full_text` is stored: only `&`, `<` and `>`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// A deterministic t.co code (10 characters) derived from `seed`.
pub fn tco(seed: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // FNV-1a, then base-62 digits.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut code = String::from("https://t.co/");
    for _ in 0..10 {
        code.push(ALPHABET[(hash % 62) as usize] as char);
        hash = (hash / 62) ^ hash.rotate_left(17);
    }
    code
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

// ------------------------------------------------------------------------------------------------
// Users, media, tweets
// ------------------------------------------------------------------------------------------------

/// Someone mentioned, replied to or retweeted.
#[derive(Clone, Copy, Debug)]
pub struct User {
    pub id: &'static str,
    pub screen_name: &'static str,
    pub name: &'static str,
}

/// The three media types of `extended_entities`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Photo,
    Video,
    AnimatedGif,
}

/// One medium of a tweet.
#[derive(Clone, Debug)]
pub struct Media {
    pub kind: MediaKind,
    /// The media id: a snowflake a few seconds older than the tweet, set by [`Tweet::media`].
    pub media_id: String,
    /// Photo and GIF: the media key (`Fm3kQ2aXoAE1xYz`). Video: the name of the best mp4 variant.
    pub key: String,
    /// Video only: names of the lower-bitrate mp4 variants.
    pub other_variants: Vec<String>,
    /// `source_status_id` and the author of that status (media of a retweet).
    pub source: Option<(String, User)>,
}

impl Media {
    pub fn photo(key: &str) -> Media {
        Media {
            kind: MediaKind::Photo,
            media_id: String::new(),
            key: key.into(),
            other_variants: Vec::new(),
            source: None,
        }
    }

    pub fn gif(key: &str) -> Media {
        Media {
            kind: MediaKind::AnimatedGif,
            ..Media::photo(key)
        }
    }

    /// A video whose best (highest-bitrate) mp4 is `best`; `lower` are two lower bitrates.
    pub fn video(best: &str, lower: [&str; 2]) -> Media {
        Media {
            kind: MediaKind::Video,
            other_variants: lower.iter().map(|x| x.to_string()).collect(),
            ..Media::photo(best)
        }
    }

    /// Marks the medium as belonging to another account's tweet (media of a retweet).
    pub fn retweeted_from(mut self, status_id: &str, author: User) -> Media {
        self.source = Some((status_id.into(), author));
        self
    }

    /// The file name in the media folder (FORMATS §1.8): `<tweet id>-<basename>`.
    pub fn file_name(&self, tweet_id: &str) -> String {
        match self.kind {
            MediaKind::Photo => format!("{tweet_id}-{}.jpg", self.key),
            MediaKind::AnimatedGif | MediaKind::Video => format!("{tweet_id}-{}.mp4", self.key),
        }
    }

    /// Placeholder bytes for the file (a tiny JPEG or MP4 header, not a real picture).
    pub fn placeholder(&self) -> Vec<u8> {
        match self.kind {
            MediaKind::Photo => placeholder_jpeg(),
            _ => placeholder_mp4(),
        }
    }

    fn json(
        &self,
        tweet_id: &str,
        owner: &str,
        tco: &str,
        indices: (usize, usize),
        index: usize,
    ) -> J {
        let (kind, path, thumb) = match self.kind {
            MediaKind::Photo => (
                "photo",
                "photo",
                format!("https://pbs.twimg.com/media/{}.jpg", self.key),
            ),
            MediaKind::AnimatedGif => (
                "animated_gif",
                "photo",
                format!("https://pbs.twimg.com/tweet_video_thumb/{}.jpg", self.key),
            ),
            MediaKind::Video => (
                "video",
                "video",
                format!(
                    "https://pbs.twimg.com/ext_tw_video_thumb/{}/pu/img/{}.jpg",
                    self.media_id,
                    &self.key[..self.key.len().min(8)]
                ),
            ),
        };
        let (status_owner, status_id) = match &self.source {
            Some((id, author)) => (author.screen_name, id.as_str()),
            None => (owner, tweet_id),
        };
        let mut pairs = vec![
            (
                "expanded_url",
                s(format!(
                    "https://twitter.com/{status_owner}/status/{status_id}/{path}/{index}"
                )),
            ),
            ("indices", str_arr([indices.0, indices.1])),
            ("url", s(tco)),
            ("media_url", s(thumb.replacen("https://", "http://", 1))),
            ("id_str", s(&self.media_id)),
        ];
        if let Some((status, user)) = &self.source {
            pairs.push(("source_status_id", s(status)));
            pairs.push(("source_user_id", s(user.id)));
        }
        match self.kind {
            MediaKind::Photo => {}
            MediaKind::AnimatedGif => pairs.push((
                "video_info",
                obj([
                    ("aspect_ratio", str_arr(["1", "1"])),
                    (
                        "variants",
                        arr([obj([
                            ("bitrate", s("0")),
                            ("content_type", s("video/mp4")),
                            (
                                "url",
                                s(format!(
                                    "https://video.twimg.com/tweet_video/{}.mp4",
                                    self.key
                                )),
                            ),
                        ])]),
                    ),
                ]),
            )),
            MediaKind::Video => {
                // Unordered, as in real archives, with bitrates that sort wrongly as strings
                // ("832000" > "2176000") and an m3u8 entry without bitrate.
                let base = format!("https://video.twimg.com/ext_tw_video/{}/pu", self.media_id);
                let mp4 = |bitrate: &str, size: &str, name: &str| {
                    obj([
                        ("bitrate", s(bitrate)),
                        ("content_type", s("video/mp4")),
                        (
                            "url",
                            s(format!("{base}/vid/avc1/{size}/{name}.mp4?tag=12")),
                        ),
                    ])
                };
                let variants = vec![
                    mp4("832000", "640x360", &self.other_variants[0]),
                    obj([
                        ("content_type", s("application/x-mpegURL")),
                        (
                            "url",
                            s(format!("{base}/pl/{}.m3u8?tag=12", self.other_variants[1])),
                        ),
                    ]),
                    mp4("2176000", "1280x720", &self.key),
                    mp4("256000", "480x270", &self.other_variants[1]),
                ];
                pairs.push((
                    "video_info",
                    obj([
                        ("aspect_ratio", str_arr(["16", "9"])),
                        ("duration_millis", s("14640")),
                        ("variants", J::Arr(variants)),
                    ]),
                ));
                pairs.push((
                    "additional_media_info",
                    obj([("monetizable", J::Bool(false))]),
                ));
            }
        }
        pairs.push(("id", s(&self.media_id)));
        pairs.push(("media_url_https", s(thumb)));
        if let Some((status, user)) = &self.source {
            pairs.push(("source_user_id_str", s(user.id)));
            pairs.push(("source_status_id_str", s(status)));
        }
        let size =
            |w: &str, h: &str, resize: &str| obj([("w", s(w)), ("h", s(h)), ("resize", s(resize))]);
        pairs.push((
            "sizes",
            obj([
                ("small", size("680", "510", "fit")),
                ("thumb", size("150", "150", "crop")),
                ("medium", size("1200", "900", "fit")),
                ("large", size("1600", "1200", "fit")),
            ]),
        ));
        pairs.push(("type", s(kind)));
        pairs.push(("display_url", s(format!("pic.twitter.com/{}", &tco[13..]))));
        obj(pairs)
    }
}

/// A tiny stand-in for a JPEG file (start/end of image markers around a comment).
pub fn placeholder_jpeg() -> Vec<u8> {
    let mut bytes = vec![0xff, 0xd8, 0xff, 0xfe, 0x00, 0x13];
    bytes.extend_from_slice(b"fixture placeholder");
    bytes.extend_from_slice(&[0xff, 0xd9]);
    bytes
}

/// A tiny stand-in for an MP4 file (an `ftyp` box only).
pub fn placeholder_mp4() -> Vec<u8> {
    let mut bytes = vec![0x00, 0x00, 0x00, 0x18];
    bytes.extend_from_slice(b"ftypisom\0\0\x02\0isommp41");
    bytes
}

/// `edit_info` of a tweet.
#[derive(Clone, Debug)]
pub enum EditInfo {
    /// No `edit_info` at all (before late 2022).
    Absent,
    /// `{"initial":{"editTweetIds":[…]}}`: an unedited tweet lists only itself; the first version
    /// of an edited tweet lists every version.
    Initial(Vec<String>),
    /// `{"edit":{"initialTweetId", "editControlInitial":{"editTweetIds":[…]}}}`: a later version.
    Edit { initial: String, ids: Vec<String> },
}

/// The reply fields of a tweet.
#[derive(Clone, Debug)]
pub struct Reply {
    /// `in_reply_to_status_id(_str)`; `None` for a "mention reply" that has only a user id.
    pub status_id: Option<String>,
    pub user_id: String,
    /// `in_reply_to_screen_name`; old tweets may lack it.
    pub screen_name: Option<String>,
}

/// One tweet entry, built piece by piece so that entity indices are right by construction.
#[derive(Clone, Debug)]
pub struct Tweet {
    pub id: String,
    pub created_at: DateTime<Utc>,
    /// The HTML-escaped `full_text` built so far, without the trailing media link.
    pub text: String,
    pub lang: String,
    pub source: &'static str,
    pub mentions: Vec<(User, usize, usize)>,
    /// `(t.co, expanded, display, start, end)`.
    pub urls: Vec<(String, String, String, usize, usize)>,
    pub hashtags: Vec<(String, usize, usize)>,
    pub media: Vec<Media>,
    pub reply: Option<Reply>,
    pub edit: EditInfo,
    /// `community_id` for community-tweet.js entries.
    pub community: Option<String>,
    /// `deleted_at` for deleted-tweets.js entries.
    pub deleted_at: Option<DateTime<Utc>>,
    /// 2019-era `"coordinates" : null, "geo" : null, "place" : null`.
    pub legacy_geo: bool,
    pub favorite_count: u32,
    pub retweet_count: u32,
}

pub const WEB_APP: &str =
    "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>";
pub const IPHONE: &str =
    "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>";
pub const ANDROID: &str =
    "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>";

impl Tweet {
    /// A tweet created at `when` (RFC 3339) with a snowflake id of that instant (`seq` separates
    /// tweets of the same second). Unedited, as 2022+ archives print it (`edit_info.initial`
    /// listing only itself); call [`Tweet::no_edit_info`] for older generations.
    pub fn new(when: &str, seq: u64) -> Tweet {
        let id = snowflake(when, 123 + seq as i64, seq);
        Tweet {
            edit: EditInfo::Initial(vec![id.clone()]),
            id,
            created_at: at(when),
            text: String::new(),
            lang: "en".into(),
            source: WEB_APP,
            mentions: Vec::new(),
            urls: Vec::new(),
            hashtags: Vec::new(),
            media: Vec::new(),
            reply: None,
            community: None,
            deleted_at: None,
            legacy_geo: false,
            favorite_count: 0,
            retweet_count: 0,
        }
    }

    fn len(&self) -> usize {
        chars(&self.text)
    }

    /// Appends plain text (given unescaped; stored escaped).
    pub fn text(mut self, text: &str) -> Tweet {
        self.text.push_str(&escape(text));
        self
    }

    /// Appends `@screen_name` and its `user_mentions` entry.
    pub fn mention(mut self, user: User) -> Tweet {
        let start = self.len();
        self.text.push('@');
        self.text.push_str(user.screen_name);
        self.mentions.push((user, start, self.len()));
        self
    }

    /// Appends `#tag` and its `hashtags` entry.
    pub fn hashtag(mut self, tag: &str) -> Tweet {
        let start = self.len();
        self.text.push('#');
        self.text.push_str(tag);
        self.hashtags.push((tag.into(), start, self.len()));
        self
    }

    /// Appends a t.co link to `expanded` and its `urls` entry.
    pub fn link(mut self, expanded: &str) -> Tweet {
        let short = tco(&format!("{}#{}#{expanded}", self.id, self.urls.len()));
        let display = display_url(expanded);
        let start = self.len();
        self.text.push_str(&short);
        self.urls
            .push((short, expanded.into(), display, start, self.len()));
        self
    }

    /// Adds a medium (its shared t.co link is appended to the text when printed). Its id is a
    /// snowflake of a few seconds before the tweet (uploads come first).
    pub fn media(mut self, mut media: Media) -> Tweet {
        let uploaded = iso_millis(self.created_at - Duration::seconds(7));
        media.media_id = snowflake(
            &uploaded,
            400 + self.media.len() as i64,
            self.media.len() as u64,
        );
        self.media.push(media);
        self
    }

    /// Makes this a reply to `status` (or a mention reply without status id) of `user`.
    pub fn reply_to(mut self, status: Option<&str>, user_id: &str, screen_name: &str) -> Tweet {
        self.reply = Some(Reply {
            status_id: status.map(str::to_string),
            user_id: user_id.into(),
            screen_name: Some(screen_name.into()),
        });
        self
    }

    /// Drops `in_reply_to_screen_name` (old tweets may lack it).
    pub fn without_screen_name(mut self) -> Tweet {
        if let Some(reply) = &mut self.reply {
            reply.screen_name = None;
        }
        self
    }

    pub fn lang(mut self, lang: &str) -> Tweet {
        self.lang = lang.into();
        self
    }

    pub fn source(mut self, source: &'static str) -> Tweet {
        self.source = source;
        self
    }

    pub fn counts(mut self, favorites: u32, retweets: u32) -> Tweet {
        self.favorite_count = favorites;
        self.retweet_count = retweets;
        self
    }

    pub fn edit(mut self, edit: EditInfo) -> Tweet {
        self.edit = edit;
        self
    }

    /// For archives made before `edit_info` existed (before late 2022).
    pub fn no_edit_info(self) -> Tweet {
        self.edit(EditInfo::Absent)
    }

    /// The 2019-era null `coordinates`, `geo`, `place` keys.
    pub fn legacy_geo(mut self) -> Tweet {
        self.legacy_geo = true;
        self
    }

    pub fn community(mut self, community_id: &str) -> Tweet {
        self.community = Some(community_id.into());
        self
    }

    pub fn deleted_at(mut self, when: &str) -> Tweet {
        self.deleted_at = Some(at(when));
        self
    }

    /// The t.co link shared by all media of the tweet.
    pub fn media_tco(&self) -> String {
        tco(&format!("{}#media", self.id))
    }

    /// The full escaped text, with the media link when there is media.
    pub fn full_text(&self) -> String {
        if self.media.is_empty() {
            self.text.clone()
        } else if self.text.is_empty() {
            self.media_tco()
        } else {
            format!("{} {}", self.text, self.media_tco())
        }
    }

    /// The media file names of this tweet (`<id>-<basename>`).
    pub fn media_files(&self) -> Vec<String> {
        self.media.iter().map(|m| m.file_name(&self.id)).collect()
    }

    /// The tweet object (without the `{"tweet": …}` wrapper). `owner` is the account's screen
    /// name (used in media `expanded_url`s).
    pub fn json(&self, owner: &str) -> J {
        let full_text = self.full_text();
        let media_range = (
            chars(&full_text) - if self.media.is_empty() { 0 } else { 23 },
            chars(&full_text),
        );
        let media_tco = self.media_tco();
        let media: Vec<J> = self
            .media
            .iter()
            .enumerate()
            .map(|(i, m)| m.json(&self.id, owner, &media_tco, media_range, i + 1))
            .collect();

        let mut entities = vec![
            (
                "hashtags",
                arr(self
                    .hashtags
                    .iter()
                    .map(|(tag, a, b)| obj([("text", s(tag)), ("indices", str_arr([a, b]))]))),
            ),
            ("symbols", arr([])),
            (
                "user_mentions",
                arr(self.mentions.iter().map(|(user, a, b)| {
                    obj([
                        ("name", s(user.name)),
                        ("screen_name", s(user.screen_name)),
                        ("indices", str_arr([a, b])),
                        ("id_str", s(user.id)),
                        ("id", s(user.id)),
                    ])
                })),
            ),
            (
                "urls",
                arr(self.urls.iter().map(|(short, expanded, display, a, b)| {
                    obj([
                        ("url", s(short)),
                        ("expanded_url", s(expanded)),
                        ("display_url", s(display)),
                        ("indices", str_arr([a, b])),
                    ])
                })),
            ),
        ];
        if let Some(first) = media.first() {
            // entities.media holds only the first medium, and always says "photo".
            let mut first = first.clone();
            first.set("type", s("photo"));
            first.remove("video_info");
            first.remove("additional_media_info");
            entities.push(("media", arr([first])));
        }

        let mut pairs: Vec<(&str, J)> = Vec::new();
        match &self.edit {
            EditInfo::Absent => {}
            EditInfo::Initial(ids) => pairs.push((
                "edit_info",
                obj([(
                    "initial",
                    obj([
                        ("editTweetIds", str_arr(ids)),
                        (
                            "editableUntil",
                            s(iso_millis(self.created_at + Duration::hours(1))),
                        ),
                        ("editsRemaining", s((6 - ids.len()).to_string())),
                        (
                            "isEditEligible",
                            J::Bool(ids.len() > 1 || self.media.is_empty()),
                        ),
                    ]),
                )]),
            )),
            EditInfo::Edit { initial, ids } => pairs.push((
                "edit_info",
                obj([(
                    "edit",
                    obj([
                        ("initialTweetId", s(initial)),
                        (
                            "editControlInitial",
                            obj([
                                ("editTweetIds", str_arr(ids)),
                                (
                                    "editableUntil",
                                    s(iso_millis(self.created_at + Duration::minutes(30))),
                                ),
                                ("editsRemaining", s((6 - ids.len()).to_string())),
                                ("isEditEligible", J::Bool(true)),
                            ]),
                        ),
                    ]),
                )]),
            )),
        }
        pairs.push(("retweeted", J::Bool(false)));
        pairs.push(("source", s(self.source)));
        pairs.push(("entities", obj(entities)));
        pairs.push(("display_text_range", str_arr([0, chars(&full_text)])));
        pairs.push(("favorite_count", s(self.favorite_count.to_string())));
        if let Some(Reply {
            status_id: Some(status),
            ..
        }) = &self.reply
        {
            pairs.push(("in_reply_to_status_id_str", s(status)));
        }
        pairs.push(("id_str", s(&self.id)));
        if self.community.is_some() {
            pairs.push(("scopes", obj([("followers", J::Bool(false))])));
        }
        if let Some(reply) = &self.reply {
            pairs.push(("in_reply_to_user_id", s(&reply.user_id)));
        }
        pairs.push(("truncated", J::Bool(false)));
        pairs.push(("retweet_count", s(self.retweet_count.to_string())));
        pairs.push(("id", s(&self.id)));
        if let Some(Reply {
            status_id: Some(status),
            ..
        }) = &self.reply
        {
            pairs.push(("in_reply_to_status_id", s(status)));
        }
        if let Some(community) = &self.community {
            pairs.push(("community_id", s(community)));
            pairs.push(("community_id_str", s(community)));
        }
        if !self.urls.is_empty() || !self.media.is_empty() {
            pairs.push(("possibly_sensitive", J::Bool(false)));
        }
        if self.legacy_geo {
            pairs.push(("coordinates", J::Null));
            pairs.push(("geo", J::Null));
            pairs.push(("place", J::Null));
        }
        pairs.push(("created_at", s(twitter_date(self.created_at))));
        pairs.push(("favorited", J::Bool(false)));
        pairs.push(("full_text", s(full_text)));
        pairs.push(("lang", s(&self.lang)));
        if let Some(reply) = &self.reply {
            if let Some(name) = &reply.screen_name {
                pairs.push(("in_reply_to_screen_name", s(name)));
            }
            pairs.push(("in_reply_to_user_id_str", s(&reply.user_id)));
        }
        if !media.is_empty() {
            pairs.push(("extended_entities", obj([("media", J::Arr(media))])));
        }
        if let Some(deleted) = self.deleted_at {
            pairs.push(("deleted_at", s(twitter_date(deleted))));
        }
        obj(pairs)
    }

    /// The entry as it sits in the array: wrapped (`{"tweet": …}`, late 2019 on) or bare (2019).
    pub fn entry(&self, owner: &str, wrapped: bool) -> J {
        if wrapped {
            obj([("tweet", self.json(owner))])
        } else {
            self.json(owner)
        }
    }
}

/// `display_url` as X shortens it: no scheme, cut to 26 characters plus `…`.
pub fn display_url(expanded: &str) -> String {
    let bare = expanded
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("www.");
    if chars(bare) > 26 {
        format!("{}…", bare.chars().take(26).collect::<String>())
    } else {
        bare.to_string()
    }
}

// ------------------------------------------------------------------------------------------------
// Long tweets: a truncated tweets.js entry plus its note-tweet.js note
// ------------------------------------------------------------------------------------------------

/// A piece of a long post.
#[derive(Clone, Debug)]
pub enum Seg {
    Text(&'static str),
    /// A link, with its expanded URL.
    Link(&'static str),
}

/// A long post (more than 280 characters): the note holds the full text, the tweet a truncated
/// copy (about 270 characters plus `…`) with its own, different t.co codes and, for replies, the
/// leading `@mention` the note omits.
pub struct LongPost {
    pub segments: Vec<Seg>,
    /// The tweet keeps the note text up to and including the first occurrence of this marker
    /// (which must be inside a `Text` segment).
    pub cut_after: &'static str,
}

impl LongPost {
    /// The note's full text (not HTML-escaped) and its `core.urls`.
    fn note_text(&self, note_id: &str) -> (String, Vec<J>) {
        let mut text = String::new();
        let mut urls = Vec::new();
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Seg::Text(t) => text.push_str(t),
                Seg::Link(expanded) => {
                    let short = tco(&format!("note#{note_id}#{i}"));
                    let from = chars(&text);
                    text.push_str(&short);
                    urls.push(obj([
                        ("expandedUrl", s(*expanded)),
                        ("toIndex", s(chars(&text).to_string())),
                        ("shortUrl", s(short)),
                        ("displayUrl", s(display_url(expanded))),
                        ("fromIndex", s(from.to_string())),
                    ]));
                }
            }
        }
        (text, urls)
    }

    /// Appends the truncated text to `tweet` (which may already hold leading mentions), then `…`.
    pub fn truncated_into(&self, mut tweet: Tweet) -> Tweet {
        let mut done = false;
        for seg in &self.segments {
            match seg {
                Seg::Text(t) => {
                    if let Some(pos) = t.find(self.cut_after) {
                        tweet = tweet.text(&t[..pos + self.cut_after.len()]);
                        done = true;
                        break;
                    }
                    tweet = tweet.text(t);
                }
                Seg::Link(expanded) => tweet = tweet.link(expanded),
            }
        }
        assert!(done, "cut marker {:?} not found", self.cut_after);
        tweet.text("…")
    }

    /// The `{"noteTweet": …}` entry, created in the same second as `tweet`, with an id a few
    /// milliseconds older (there is no id link between the two).
    pub fn note(&self, tweet: &Tweet, seq: u64) -> J {
        let created = iso_millis(tweet.created_at.with_nanosecond_zero());
        let note_id = snowflake(&created, 60 + seq as i64, seq);
        let (text, urls) = self.note_text(&note_id);
        obj([(
            "noteTweet",
            obj([
                ("noteTweetId", s(&note_id)),
                ("updatedAt", s(&created)),
                (
                    "lifecycle",
                    obj([
                        ("value", s("1")),
                        ("name", s("Active")),
                        ("originalName", s("Active")),
                        ("annotations", obj::<&str>([])),
                    ]),
                ),
                ("createdAt", s(&created)),
                (
                    "core",
                    obj([
                        ("styletags", arr([])),
                        ("urls", J::Arr(urls)),
                        ("text", s(text)),
                        ("mentions", arr([])),
                        ("cashtags", arr([])),
                        ("hashtags", arr([])),
                    ]),
                ),
            ]),
        )])
    }

    /// A note with no tweet at all (its tweet was deleted), created at `when`.
    pub fn orphan_note(&self, when: &str, seq: u64) -> J {
        self.note(&Tweet::new(when, 900 + seq), seq)
    }
}

trait ZeroNanos {
    fn with_nanosecond_zero(self) -> Self;
}

impl ZeroNanos for DateTime<Utc> {
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).expect("0 ns is valid")
    }
}

// ------------------------------------------------------------------------------------------------
// Account, graph, manifest and other small files
// ------------------------------------------------------------------------------------------------

/// The archive owner.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    pub id: &'static str,
    pub username: &'static str,
    pub display_name: &'static str,
    pub email: &'static str,
    pub created_at: &'static str,
}

/// `account.js` (`phone` only in 2019-era archives).
pub fn account(owner: &Owner, phone: Option<&str>, style: Style) -> String {
    let mut pairs = Vec::new();
    if let Some(phone) = phone {
        pairs.push(("phoneNumber", s(phone)));
    }
    pairs.extend([
        ("email", s(owner.email)),
        ("createdVia", s("web")),
        ("username", s(owner.username)),
        ("accountId", s(owner.id)),
        ("createdAt", s(owner.created_at)),
        ("accountDisplayName", s(owner.display_name)),
    ]);
    ytd("account.part0", vec![obj([("account", obj(pairs))])], style)
}

/// `profile.js` with a t.co website, as X exports it.
pub fn profile(owner: &Owner, bio: &str, style: Style) -> String {
    profile_with(owner, bio, &tco(&format!("{}#website", owner.id)), style)
}

/// Which social graph file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Graph {
    Following,
    Follower,
    Block,
    Mute,
}

impl Graph {
    /// The file name under `data/`.
    pub fn file(self) -> &'static str {
        match self {
            Graph::Following => "following.js",
            Graph::Follower => "follower.js",
            Graph::Block => "block.js",
            Graph::Mute => "mute.js",
        }
    }

    fn global(self) -> &'static str {
        match self {
            Graph::Following => "following.part0",
            Graph::Follower => "follower.part0",
            Graph::Block => "block.part0",
            Graph::Mute => "mute.part0",
        }
    }

    /// The entry key: note `blocking` and `muting`.
    fn key(self) -> &'static str {
        match self {
            Graph::Following => "following",
            Graph::Follower => "follower",
            Graph::Block => "blocking",
            Graph::Mute => "muting",
        }
    }
}

/// following.js / follower.js / block.js / mute.js with `ids`; `user_link` is absent before 2020.
pub fn graph(kind: Graph, ids: &[&str], user_link: bool, style: Style) -> String {
    let entries = ids
        .iter()
        .map(|id| {
            let mut inner = vec![("accountId", s(*id))];
            if user_link {
                inner.push((
                    "userLink",
                    s(format!("https://twitter.com/intent/user?user_id={id}")),
                ));
            }
            obj([(kind.key(), obj(inner))])
        })
        .collect();
    ytd(kind.global(), entries, style)
}

/// `like.js`; an entry with `None` text lacks `fullText` (it happens).
pub fn likes(items: &[(&str, Option<&str>)], style: Style) -> String {
    let entries = items
        .iter()
        .map(|(id, text)| {
            let mut inner = vec![("tweetId", s(*id))];
            if let Some(text) = text {
                inner.push(("fullText", s(escape(text))));
            }
            inner.push((
                "expandedUrl",
                s(format!("https://twitter.com/i/web/status/{id}")),
            ));
            obj([("like", obj(inner))])
        })
        .collect();
    ytd("like.part0", entries, style)
}

/// `profile.js` with the given bio and website, written as given (X writes a t.co link as the
/// website; a plain link is what a hand-edited or tool-made archive may hold).
pub fn profile_with(owner: &Owner, bio: &str, website: &str, style: Style) -> String {
    ytd(
        "profile.part0",
        vec![obj([(
            "profile",
            obj([
                (
                    "description",
                    obj([
                        ("bio", s(bio)),
                        ("website", s(website)),
                        ("location", s("")),
                    ]),
                ),
                (
                    "avatarMediaUrl",
                    s(format!(
                        "https://pbs.twimg.com/profile_images/{}/avatar.jpg",
                        owner.id
                    )),
                ),
            ]),
        )])],
        style,
    )
}

/// One direct message, built like a [`Tweet`]: text, then links (t.co in the text, the target
/// in `urls`).
#[derive(Clone, Debug)]
pub struct Dm {
    pub id: String,
    pub sender: String,
    /// `None` in group conversations.
    pub recipient: Option<String>,
    pub created_at: DateTime<Utc>,
    pub text: String,
    /// `(t.co, expanded)`.
    pub urls: Vec<(String, String)>,
}

impl Dm {
    /// A message sent at `when` by `sender` to `recipient` (`None`: to a group).
    pub fn new(when: &str, seq: u64, sender: &str, recipient: Option<&str>) -> Dm {
        Dm {
            id: snowflake(when, 321 + seq as i64, seq),
            sender: sender.into(),
            recipient: recipient.map(str::to_string),
            created_at: at(when),
            text: String::new(),
            urls: Vec::new(),
        }
    }

    /// Appends text, stored as given.
    pub fn text(mut self, text: &str) -> Dm {
        self.text.push_str(text);
        self
    }

    /// Appends a t.co link to `expanded`.
    pub fn link(mut self, expanded: &str) -> Dm {
        let short = tco(&format!("dm#{}#{}", self.id, self.urls.len()));
        self.text.push_str(&short);
        self.urls.push((short, expanded.into()));
        self
    }

    fn json(&self) -> J {
        let mut pairs = Vec::new();
        if let Some(r) = &self.recipient {
            pairs.push(("recipientId", s(r)));
        }
        pairs.extend([
            ("reactions", arr([])),
            (
                "urls",
                arr(self.urls.iter().map(|(short, expanded)| {
                    obj([
                        ("url", s(short)),
                        ("expanded", s(expanded)),
                        ("display", s(display_url(expanded))),
                    ])
                })),
            ),
            ("text", s(&self.text)),
            ("mediaUrls", arr([])),
            ("senderId", s(&self.sender)),
            ("id", s(&self.id)),
            ("createdAt", s(iso_millis(self.created_at))),
            ("editHistory", arr([])),
        ]);
        obj([("messageCreate", obj(pairs))])
    }
}

/// `direct-messages.js` (`group` false) or `direct-messages-group.js`: conversations of
/// `(conversationId, messages)`. Group conversations open with a `joinConversation` event.
pub fn direct_messages(conversations: &[(&str, Vec<Dm>)], group: bool, style: Style) -> String {
    let entries = conversations
        .iter()
        .map(|(id, messages)| {
            let mut events: Vec<J> = Vec::new();
            if group && let Some(first) = messages.first() {
                events.push(obj([(
                    "joinConversation",
                    obj([
                        ("initiatingUserId", s(&first.sender)),
                        ("participantsSnapshot", str_arr([&first.sender])),
                        ("createdAt", s(iso_millis(first.created_at))),
                    ]),
                )]));
            }
            events.extend(messages.iter().map(Dm::json));
            obj([(
                "dmConversation",
                obj([("conversationId", s(*id)), ("messages", J::Arr(events))]),
            )])
        })
        .collect();
    let global = if group {
        "direct_messages_group.part0"
    } else {
        "direct_messages.part0"
    };
    ytd(global, entries, style)
}

/// `tweet-headers.js`: ids and dates only (not tweets; a reader must not count them).
pub fn tweet_headers(tweets: &[&Tweet], owner: &Owner, style: Style) -> String {
    let entries = tweets
        .iter()
        .map(|t| {
            obj([(
                "tweet",
                obj([
                    ("tweet_id", s(&t.id)),
                    ("user_id", s(owner.id)),
                    ("created_at", s(twitter_date(t.created_at))),
                ]),
            )])
        })
        .collect();
    ytd("tweet_headers.part0", entries, style)
}

/// One data type of `manifest.js`.
pub struct DataType {
    pub key: &'static str,
    pub media_directory: Option<&'static str>,
    /// `(fileName, globalName, count)`.
    pub files: Vec<(String, String, usize)>,
}

impl DataType {
    /// A data type with one file `data/<file>` of `count` entries; the global name is derived
    /// from the file name (`note-tweet.js` → `YTD.note_tweet.part0`).
    pub fn one(key: &'static str, file: &str, count: usize) -> DataType {
        DataType {
            key,
            media_directory: None,
            files: vec![file_entry(file, 0, count)],
        }
    }

    /// A media-only data type (`tweetsMedia`: just a `mediaDirectory`).
    pub fn media(key: &'static str, dir: &'static str) -> DataType {
        DataType {
            key,
            media_directory: Some(dir),
            files: Vec::new(),
        }
    }

    pub fn with_media(mut self, dir: &'static str) -> DataType {
        self.media_directory = Some(dir);
        self
    }
}

/// A manifest `files` entry: `data/<file>`, `YTD.<snake name>.part<part>`, `count`.
pub fn file_entry(file: &str, part: usize, count: usize) -> (String, String, usize) {
    let stem = file.trim_end_matches(".js");
    let stem = match stem.rfind("-part") {
        Some(pos) if stem[pos + 5..].chars().all(|c| c.is_ascii_digit()) => &stem[..pos],
        _ => stem,
    };
    (
        format!("data/{file}"),
        format!("YTD.{}.part{part}", stem.replace('-', "_")),
        count,
    )
}

/// `manifest.js`.
pub struct Manifest {
    pub owner: Owner,
    pub generation_date: &'static str,
    pub size_bytes: u64,
    pub data_types: Vec<DataType>,
}

impl Manifest {
    pub fn render(&self) -> String {
        let data_types = self.data_types.iter().map(|dt| {
            let mut pairs = Vec::new();
            if let Some(dir) = dt.media_directory {
                pairs.push(("mediaDirectory", s(dir)));
            }
            if !dt.files.is_empty() {
                pairs.push((
                    "files",
                    arr(dt.files.iter().map(|(file, global, count)| {
                        obj([
                            ("fileName", s(file)),
                            ("globalName", s(global)),
                            ("count", s(count.to_string())),
                        ])
                    })),
                ));
            }
            (dt.key, obj(pairs))
        });
        thar_config(&obj([
            (
                "userInfo",
                obj([
                    ("accountId", s(self.owner.id)),
                    ("userName", s(self.owner.username)),
                    ("displayName", s(self.owner.display_name)),
                ]),
            ),
            (
                "archiveInfo",
                obj([
                    ("sizeBytes", s(self.size_bytes.to_string())),
                    ("generationDate", s(self.generation_date)),
                    ("isPartialArchive", J::Bool(false)),
                    ("maxPartSizeBytes", s("53687091200")),
                ]),
            ),
            (
                "readmeInfo",
                obj([
                    ("fileName", s("data/README.txt")),
                    ("directory", s("data/")),
                    ("name", s("README.txt")),
                ]),
            ),
            ("dataTypes", obj(data_types)),
        ]))
    }
}

/// The stub offline viewer page at the archive root.
pub const VIEWER_HTML: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Your archive</title></head><body><noscript>Synthetic fixture: the real viewer is a large \
JavaScript app.</noscript><script src=\"assets/js/ondemand.s.js\"></script></body></html>\n";

// ------------------------------------------------------------------------------------------------
// Archives on disk: deterministic zips and folders
// ------------------------------------------------------------------------------------------------

/// The files of an archive, in order. A path ending in `/` is a directory entry.
#[derive(Clone, Debug, Default)]
pub struct Archive {
    pub entries: Vec<(String, Vec<u8>)>,
}

impl Archive {
    pub fn new() -> Archive {
        Archive::default()
    }

    /// Adds (or replaces) a file.
    pub fn add(&mut self, path: &str, bytes: impl Into<Vec<u8>>) -> &mut Archive {
        let bytes = bytes.into();
        if let Some(slot) = self.entries.iter_mut().find(|(p, _)| p == path) {
            slot.1 = bytes;
        } else {
            self.entries.push((path.to_string(), bytes));
        }
        self
    }

    /// Adds a directory entry (`path` without the trailing slash).
    pub fn dir(&mut self, path: &str) -> &mut Archive {
        self.add(&format!("{}/", path.trim_end_matches('/')), Vec::new())
    }

    /// Removes a file.
    pub fn remove(&mut self, path: &str) -> &mut Archive {
        self.entries.retain(|(p, _)| p != path);
        self
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, b)| b.as_slice())
    }

    pub fn contains(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// The same files under `prefix/` (an archive re-zipped with an extra top folder).
    pub fn under(&self, prefix: &str) -> Archive {
        let prefix = prefix.trim_end_matches('/');
        let mut out = Archive::new();
        out.dir(prefix);
        for (path, bytes) in &self.entries {
            out.add(&format!("{prefix}/{path}"), bytes.clone());
        }
        out
    }

    /// The zip bytes: deflated, fixed timestamp (2024-07-03 12:34:56) and permissions, Unix
    /// host, so that the same archive always gives the same bytes.
    pub fn zip_bytes(&self) -> Vec<u8> {
        let time = zip::DateTime::from_date_and_time(2024, 7, 3, 12, 34, 56).expect("valid date");
        let file_options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(time)
            .unix_permissions(0o644)
            .system(zip::System::Unix);
        let dir_options = file_options.unix_permissions(0o755);
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (path, bytes) in &self.entries {
            if path.ends_with('/') {
                writer
                    .add_directory(path.as_str(), dir_options)
                    .expect("zip directory");
            } else {
                writer
                    .start_file(path.as_str(), file_options)
                    .expect("zip entry");
                writer.write_all(bytes).expect("zip write");
            }
        }
        writer.finish().expect("zip finish").into_inner()
    }

    /// Writes the zip to `path`.
    pub fn write_zip(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.zip_bytes())
    }

    /// Writes the files as a folder tree under `root` (an "extracted" archive).
    pub fn write_dir(&self, root: &Path) -> std::io::Result<()> {
        for (path, bytes) in &self.entries {
            let target = root.join(path.trim_end_matches('/'));
            if path.ends_with('/') {
                std::fs::create_dir_all(&target)?;
            } else {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&target, bytes)?;
            }
        }
        Ok(())
    }
}

/// CRC-32 (IEEE), table-driven, fed in pieces (the bomb below is fed 200 MiB).
#[derive(Clone)]
pub struct Crc32 {
    table: [u32; 256],
    crc: u32,
}

impl Crc32 {
    pub fn new() -> Crc32 {
        let mut table = [0u32; 256];
        for (n, slot) in table.iter_mut().enumerate() {
            let mut c = n as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    (c >> 1) ^ 0xedb8_8320
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        Crc32 { table, crc: !0 }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.push(byte);
        }
    }

    fn push(&mut self, byte: u8) {
        self.crc = self.table[((self.crc ^ u32::from(byte)) & 0xff) as usize] ^ (self.crc >> 8);
    }

    /// Feeds `byte` `count` times.
    pub fn repeat(&mut self, byte: u8, count: u64) {
        for _ in 0..count {
            self.push(byte);
        }
    }

    pub fn value(&self) -> u32 {
        !self.crc
    }
}

impl Default for Crc32 {
    fn default() -> Crc32 {
        Crc32::new()
    }
}

/// CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(bytes);
    crc.value()
}

/// One entry of a hand-made zip.
pub struct RawEntry<'a> {
    /// The name, byte for byte (no check at all).
    pub name: &'a [u8],
    /// 0 = stored, 8 = deflated.
    pub method: u16,
    /// The bytes as stored in the zip (compressed when `method` is 8).
    pub data: &'a [u8],
    pub crc: u32,
    pub uncompressed_size: u32,
}

impl<'a> RawEntry<'a> {
    /// A stored (uncompressed) entry.
    pub fn stored(name: &'a [u8], data: &'a [u8]) -> RawEntry<'a> {
        RawEntry {
            name,
            method: 0,
            data,
            crc: crc32(data),
            uncompressed_size: data.len() as u32,
        }
    }
}

/// A zip written byte by byte, every entry stored (not compressed), names taken verbatim: for
/// names no careful writer would produce (`../x`, `/abs/x`).
pub fn raw_zip(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
    let entries: Vec<RawEntry<'_>> = entries
        .iter()
        .map(|(name, data)| RawEntry::stored(name, data))
        .collect();
    raw_zip_entries(&entries)
}

/// A zip written byte by byte from [`RawEntry`]s (no data descriptors, no zip64).
pub fn raw_zip_entries(entries: &[RawEntry<'_>]) -> Vec<u8> {
    // DOS time 12:34:56, date 2024-07-03.
    let dos_time: u16 = (12 << 11) | (34 << 5) | (56 / 2);
    let dos_date: u16 = ((2024 - 1980) << 9) | (7 << 5) | 3;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = out.len() as u32;
        let compressed = entry.data.len() as u32;
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&entry.method.to_le_bytes());
        out.extend_from_slice(&dos_time.to_le_bytes());
        out.extend_from_slice(&dos_date.to_le_bytes());
        out.extend_from_slice(&entry.crc.to_le_bytes());
        out.extend_from_slice(&compressed.to_le_bytes());
        out.extend_from_slice(&entry.uncompressed_size.to_le_bytes());
        out.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // extra length
        out.extend_from_slice(entry.name);
        out.extend_from_slice(entry.data);
        // Central directory header.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by Unix, 2.0
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&entry.method.to_le_bytes());
        central.extend_from_slice(&dos_time.to_le_bytes());
        central.extend_from_slice(&dos_date.to_le_bytes());
        central.extend_from_slice(&entry.crc.to_le_bytes());
        central.extend_from_slice(&compressed.to_le_bytes());
        central.extend_from_slice(&entry.uncompressed_size.to_le_bytes());
        central.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&(0o100644u32 << 16).to_le_bytes()); // external: regular file
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(entry.name);
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A deflate bit stream: values go in least significant bit first, Huffman codes most
/// significant bit first (RFC 1951 §3.1.1).
struct Bits {
    out: Vec<u8>,
    acc: u64,
    used: u32,
}

impl Bits {
    fn put(&mut self, value: u64, count: u32) {
        self.acc |= value << self.used;
        self.used += count;
        while self.used >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.used -= 8;
        }
    }

    fn code(&mut self, code: u32, len: u32) {
        for i in (0..len).rev() {
            self.put(u64::from((code >> i) & 1), 1);
        }
    }

    fn align(&mut self) {
        if self.used > 0 {
            self.put(0, 8 - self.used);
        }
    }

    fn stored_block(&mut self, last: bool, bytes: &[u8]) {
        self.put(u64::from(last), 1);
        self.put(0, 2);
        self.align();
        let len = bytes.len() as u16;
        self.put(u64::from(len), 16);
        self.put(u64::from(!len), 16);
        for &b in bytes {
            self.put(u64::from(b), 8);
        }
    }
}

/// A deflate bomb: the raw deflate stream of `prefix` + `count` × `byte` + `suffix`, with its
/// CRC-32 and size. The run is one dynamic-Huffman block whose codes are 1 bit for "length 258"
/// and 1 bit for "distance 1", so every 258 bytes cost 2 bits: about 1,000:1, deflate's limit.
/// `prefix` and `suffix` (each under 64 KiB) are stored blocks.
pub fn deflate_bomb(prefix: &[u8], byte: u8, count: u64, suffix: &[u8]) -> (Vec<u8>, u32, u64) {
    assert!(count >= 1 && prefix.len() < 65536 && suffix.len() < 65536);
    let mut bits = Bits {
        out: Vec::new(),
        acc: 0,
        used: 0,
    };
    if !prefix.is_empty() {
        bits.stored_block(false, prefix);
    }
    // Dynamic block header: 286 literal/length codes, 2 distance codes, 18 code-length codes.
    bits.put(u64::from(suffix.is_empty()), 1);
    bits.put(2, 2);
    bits.put(286 - 257, 5);
    bits.put(2 - 1, 5);
    bits.put(18 - 4, 4);
    // Code-length alphabet: 2 → "00", 17 → "01", 18 → "10" (length 2); 0 → "110", 1 → "111".
    let cl_len = |sym: usize| match sym {
        2 | 17 | 18 => 2,
        0 | 1 => 3,
        _ => 0,
    };
    let cl_code = |sym: u32| -> (u32, u32) {
        match sym {
            2 => (0b00, 2),
            17 => (0b01, 2),
            18 => (0b10, 2),
            0 => (0b110, 3),
            _ => (0b111, 3),
        }
    };
    const ORDER: [usize; 18] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
    for sym in ORDER {
        bits.put(cl_len(sym), 3);
    }
    // Literal/length lengths: `byte` 2, end-of-block 2, 285 (length 258) 1; distances: 1, 1.
    let mut lengths = [0u32; 288];
    lengths[usize::from(byte)] = 2;
    lengths[256] = 2;
    lengths[285] = 1;
    lengths[286] = 1;
    lengths[287] = 1;
    let mut i = 0;
    while i < lengths.len() {
        if lengths[i] != 0 {
            let (code, len) = cl_code(lengths[i]);
            bits.code(code, len);
            i += 1;
            continue;
        }
        let mut run = lengths[i..].iter().take_while(|&&l| l == 0).count();
        i += run;
        while run >= 11 {
            let n = run.min(138);
            let (code, len) = cl_code(18);
            bits.code(code, len);
            bits.put((n - 11) as u64, 7);
            run -= n;
        }
        if run >= 3 {
            let (code, len) = cl_code(17);
            bits.code(code, len);
            bits.put((run - 3) as u64, 3);
            run = 0;
        }
        for _ in 0..run {
            let (code, len) = cl_code(0);
            bits.code(code, len);
        }
    }
    // Data: one literal, then (length 258, distance 1) pairs, then literals for the rest.
    // Codes: 285 → "0"; `byte` → "10"; end of block → "11"; distance 0 → "0".
    bits.code(0b10, 2);
    let rest = count - 1;
    for _ in 0..rest / 258 {
        bits.code(0b0, 1);
        bits.code(0b0, 1);
    }
    for _ in 0..rest % 258 {
        bits.code(0b10, 2);
    }
    bits.code(0b11, 2);
    if !suffix.is_empty() {
        bits.stored_block(true, suffix);
    }
    bits.align();

    let mut crc = Crc32::new();
    crc.update(prefix);
    crc.repeat(byte, count);
    crc.update(suffix);
    let size = prefix.len() as u64 + count + suffix.len() as u64;
    (bits.out, crc.value(), size)
}

/// Rewrites the declared uncompressed size of entry `name` (in both its local header and its
/// central directory record) of a zip written without data descriptors or zip64 records.
/// Returns false when the entry is not found.
pub fn patch_declared_size(zip: &mut [u8], name: &str, size: u32) -> bool {
    let u16_at = |z: &[u8], at: usize| u16::from_le_bytes([z[at], z[at + 1]]) as usize;
    let u32_at =
        |z: &[u8], at: usize| u32::from_le_bytes([z[at], z[at + 1], z[at + 2], z[at + 3]]) as usize;
    let Some(eocd) = (0..=zip.len().saturating_sub(22))
        .rev()
        .find(|&i| zip[i..i + 4] == 0x0605_4b50u32.to_le_bytes())
    else {
        return false;
    };
    let count = u16_at(zip, eocd + 10);
    let mut at = u32_at(zip, eocd + 16);
    for _ in 0..count {
        let name_len = u16_at(zip, at + 28);
        let extra_len = u16_at(zip, at + 30);
        let comment_len = u16_at(zip, at + 32);
        let local = u32_at(zip, at + 42);
        if &zip[at + 46..at + 46 + name_len] == name.as_bytes() {
            zip[at + 24..at + 28].copy_from_slice(&size.to_le_bytes());
            zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
            return true;
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    false
}

// ------------------------------------------------------------------------------------------------
// A whole modern (2022+) archive in one call
// ------------------------------------------------------------------------------------------------

/// The social graph of an archive: following, follower, block, mute ids.
#[derive(Clone, Copy, Debug, Default)]
pub struct Social<'a> {
    pub following: &'a [&'a str],
    pub follower: &'a [&'a str],
    pub block: &'a [&'a str],
    pub mute: &'a [&'a str],
}

/// A plain 2022+ archive: the viewer page, `data/manifest.js`, `account.js`, `tweets.js` plus
/// `tweets-part<N>.js` for each further part, the four graph files (with `userLink`) and a
/// placeholder file in `tweets_media/` for every medium. Multi-line printing, wrapped entries.
pub fn modern_archive(
    owner: &Owner,
    generation_date: &'static str,
    parts: &[Vec<Tweet>],
    social: Social<'_>,
) -> Archive {
    let style = Style::Multiline;
    let mut archive = Archive::new();
    archive.add("Your archive.html", VIEWER_HTML);
    let mut tweet_files = Vec::new();
    let mut data_files = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        let file = if n == 0 {
            "tweets.js".to_string()
        } else {
            format!("tweets-part{n}.js")
        };
        let entries = part.iter().map(|t| t.entry(owner.username, true)).collect();
        data_files.push((
            format!("data/{file}"),
            ytd(&format!("tweets.part{n}"), entries, style),
        ));
        tweet_files.push(file_entry(&file, n, part.len()));
    }
    let manifest = Manifest {
        owner: *owner,
        generation_date,
        size_bytes: 123_456,
        data_types: vec![
            DataType::one("account", "account.js", 1),
            DataType::one("block", "block.js", social.block.len()),
            DataType::one("follower", "follower.js", social.follower.len()),
            DataType::one("following", "following.js", social.following.len()),
            DataType::one("mute", "mute.js", social.mute.len()),
            DataType {
                key: "tweets",
                media_directory: Some("data/tweets_media"),
                files: tweet_files,
            },
            DataType::media("tweetsMedia", "data/tweets_media"),
        ],
    };
    archive.add("data/manifest.js", manifest.render());
    archive.add("data/account.js", account(owner, None, style));
    for (path, text) in data_files {
        archive.add(&path, text);
    }
    for (kind, ids) in [
        (Graph::Following, social.following),
        (Graph::Follower, social.follower),
        (Graph::Block, social.block),
        (Graph::Mute, social.mute),
    ] {
        archive.add(
            &format!("data/{}", kind.file()),
            graph(kind, ids, true, style),
        );
    }
    for tweet in parts.iter().flatten() {
        for medium in &tweet.media {
            archive.add(
                &format!("data/tweets_media/{}", medium.file_name(&tweet.id)),
                medium.placeholder(),
            );
        }
    }
    archive
}
