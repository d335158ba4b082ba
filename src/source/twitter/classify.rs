//! What kind of tweet an entry is, and which archive file holds each of its media.
//!
//! The archive marks none of this directly (FORMATS.md §1.5): retweets are known only by their
//! `RT @` prefix, quotes only by a status URL among the links, self-replies by the reply's user
//! id being the account's own, and media files by a naming rule (§1.8).

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::model::{Id, Media, Tweet};

/// The class of a tweet. The classes partition an archive's tweets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Neither a reply nor a retweet (quotes are originals with a status link).
    Original,
    /// A reply to one of the account's own tweets: part of a thread.
    SelfReply,
    /// A reply to someone else (or a leading mention with a user id but no status id).
    Reply,
    /// `RT @user: …`, which is all the archive keeps of a retweet.
    Retweet,
}

pub fn classify(tweet: &Tweet, account: Option<Id>) -> Class {
    if tweet.full_text.starts_with("RT @") {
        return Class::Retweet;
    }
    match tweet.in_reply_to_user_id_str {
        Some(user) if Some(user) == account => Class::SelfReply,
        Some(_) => Class::Reply,
        // A status id without a user id: the user was deleted; still a reply to someone.
        None if tweet.in_reply_to_status_id_str.is_some() => Class::Reply,
        None => Class::Original,
    }
}

/// Whether the tweet links to a tweet (a quote, as the archive shows one).
pub fn is_quote(tweet: &Tweet) -> bool {
    tweet
        .entities
        .urls
        .iter()
        .filter_map(|u| u.expanded_url.as_deref())
        .any(|u| status_id_of_url(u).is_some())
}

/// The tweet id of a status URL: `https://twitter.com/<user>/status/<id>`, `x.com`,
/// `mobile.twitter.com`, `/i/web/status/<id>`, with or without a trailing path or query.
pub fn status_id_of_url(url: &str) -> Option<Id> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/')?;
    let host = host.to_ascii_lowercase();
    let host = host
        .strip_prefix("www.")
        .or_else(|| host.strip_prefix("mobile."))
        .unwrap_or(&host);
    if host != "twitter.com" && host != "x.com" {
        return None;
    }
    let mut parts = path.split(['/', '?', '#']);
    let _user = parts.next()?;
    let status = parts.next()?;
    if status != "status" && status != "statuses" {
        // `/i/web/status/<id>`
        if status != "web" || parts.next()? != "status" {
            return None;
        }
    }
    let id = parts.next()?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok().map(Id)
}

/// Parses `created_at` (`Fri Feb 20 09:10:58 +0000 2026`), or the ISO form some tools write.
pub fn parse_created_at(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_str(s, "%a %b %d %H:%M:%S %z %Y")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
}

/// The kind of a media item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Photo,
    Video,
    AnimatedGif,
}

impl MediaKind {
    pub fn of(media: &Media) -> Option<MediaKind> {
        match media.kind.as_ref() {
            "photo" => Some(MediaKind::Photo),
            "video" => Some(MediaKind::Video),
            "animated_gif" => Some(MediaKind::AnimatedGif),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Photo => "photo",
            MediaKind::Video => "video",
            MediaKind::AnimatedGif => "animated_gif",
        }
    }
}

/// The archive's file name for a media item of tweet `tweet_id` (FORMATS.md §1.8):
/// `<tweet id>-<basename of media_url_https>` for photos; for videos and GIFs (stored as MP4),
/// `<tweet id>-<basename of the highest-bitrate video/mp4 variant, without its query>`.
pub fn media_file_name(tweet_id: Id, media: &Media) -> Option<String> {
    let url = match MediaKind::of(media)? {
        MediaKind::Photo => media
            .media_url_https
            .as_deref()
            .or(media.media_url.as_deref())?,
        MediaKind::Video | MediaKind::AnimatedGif => {
            let info = media.video_info.as_ref()?;
            info.variants
                .iter()
                .filter(|v| v.content_type == "video/mp4")
                // `max_by_key` keeps the last of equal keys; the first listed is as good.
                .rev()
                .max_by_key(|v| v.bitrate.map(|b| b.0).unwrap_or(0))?
                .url
                .as_ref()
        }
    };
    let path = url.split(['?', '#']).next()?;
    let base = path.rsplit('/').next()?;
    if base.is_empty() || base.contains('\\') {
        return None;
    }
    Some(format!("{tweet_id}-{base}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_urls() {
        assert_eq!(
            status_id_of_url("https://twitter.com/jack/status/20"),
            Some(Id(20))
        );
        assert_eq!(
            status_id_of_url("https://x.com/a_b/status/1776702010894504077?s=20"),
            Some(Id(1776702010894504077))
        );
        assert_eq!(
            status_id_of_url("https://mobile.twitter.com/x/status/5/photo/1"),
            Some(Id(5))
        );
        assert_eq!(
            status_id_of_url("https://twitter.com/i/web/status/7"),
            Some(Id(7))
        );
        assert_eq!(status_id_of_url("https://twitter.com/jack"), None);
        assert_eq!(status_id_of_url("https://example.com/a/status/5"), None);
        assert_eq!(status_id_of_url("https://twitter.com/a/status/abc"), None);
    }

    #[test]
    fn created_at_formats() {
        let d = parse_created_at("Fri Feb 20 09:10:58 +0000 2026").unwrap();
        assert_eq!(d.to_rfc3339(), "2026-02-20T09:10:58+00:00");
        assert!(parse_created_at("2026-02-20T09:10:58.000Z").is_some());
        assert!(parse_created_at("yesterday").is_none());
    }

    #[test]
    fn media_names_follow_the_archive_rule() {
        let photo: Media = serde_json::from_str(
            r#"{"type":"photo","media_url_https":"https://pbs.twimg.com/media/DygxfPAWkAAEDfL.jpg"}"#,
        )
        .unwrap();
        assert_eq!(
            media_file_name(Id(1), &photo).as_deref(),
            Some("1-DygxfPAWkAAEDfL.jpg")
        );
        let video: Media = serde_json::from_str(
            r#"{"type":"video","video_info":{"variants":[
                {"bitrate":"832000","content_type":"video/mp4","url":"https://v/vid/640x360/low.mp4?tag=1"},
                {"content_type":"application/x-mpegURL","url":"https://v/pl/list.m3u8?tag=1"},
                {"bitrate":"2176000","content_type":"video/mp4","url":"https://v/vid/1280x720/best.mp4?tag=14"}]}}"#,
        )
        .unwrap();
        assert_eq!(
            media_file_name(Id(2), &video).as_deref(),
            Some("2-best.mp4")
        );
        let gif: Media = serde_json::from_str(
            r#"{"type":"animated_gif","video_info":{"variants":[{"bitrate":"0","content_type":"video/mp4","url":"https://video.twimg.com/tweet_video/GbzV.mp4"}]}}"#,
        )
        .unwrap();
        assert_eq!(media_file_name(Id(3), &gif).as_deref(), Some("3-GbzV.mp4"));
    }
}
