//! JSON entities in Mastodon's shapes (Account, CredentialAccount, Relationship, Status,
//! MediaAttachment, List, ScheduledStatus, Application), built from the fake's state.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::state::{Account, List, Media, MediaKind, ScheduledStatus, State, Status};

pub fn iso_ms(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn iso_day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT00:00:00.000Z").to_string()
}

pub fn account(st: &State, a: &Account) -> Value {
    account_depth(st, a, 0)
}

fn account_depth(st: &State, a: &Account, depth: u8) -> Value {
    let home = &st.config.home_host;
    let missing_avatar = format!("https://{home}/avatars/original/missing.png");
    let missing_header = format!("https://{home}/headers/original/missing.png");
    let last_status = st
        .statuses
        .iter()
        .filter(|s| s.account_id == a.id && !s.deleted)
        .map(|s| s.created_at)
        .max();
    let mut v = json!({
        "id": a.id,
        "username": a.username,
        "acct": a.acct,
        "display_name": a.display_name,
        "locked": a.locked,
        "bot": a.bot,
        "discoverable": a.discoverable,
        "indexable": false,
        "group": a.group,
        "created_at": iso_day(a.created_at),
        "note": "",
        "url": a.url,
        "uri": a.uri,
        "avatar": missing_avatar,
        "avatar_static": missing_avatar,
        "header": missing_header,
        "header_static": missing_header,
        "followers_count": st.followers_count(a),
        "following_count": st.following_count(&a.id),
        "statuses_count": st.statuses_count(&a.id),
        "last_status_at": last_status.map(|t| t.format("%Y-%m-%d").to_string()),
        "hide_collections": null,
        "noindex": false,
        "emojis": [],
        "roles": [],
        "fields": [],
    });
    if let Some(moved) = &a.moved_to {
        if let Some(target) = st.account_by_acct(moved).filter(|_| depth == 0) {
            v["moved"] = account_depth(st, target, depth + 1);
        }
    }
    if a.suspended {
        // Suspended accounts are rendered blanked, with the flag set.
        v["suspended"] = json!(true);
        v["display_name"] = json!("");
        v["locked"] = json!(false);
        v["followers_count"] = json!(0);
        v["following_count"] = json!(0);
        v["statuses_count"] = json!(0);
    }
    v
}

pub fn credential_account(st: &State, a: &Account) -> Value {
    let mut v = account(st, a);
    let follow_requests = st
        .follows
        .iter()
        .filter(|f| f.target_id == a.id && f.pending)
        .count();
    v["source"] = json!({
        "privacy": "public",
        "sensitive": false,
        "language": null,
        "note": "",
        "fields": [],
        "follow_requests_count": follow_requests,
        "hide_collections": null,
        "discoverable": a.discoverable,
        "indexable": false,
        "attribution_domains": [],
    });
    v["role"] = json!({
        "id": "-99",
        "name": "",
        "permissions": "65536",
        "color": "",
        "highlighted": false,
    });
    v
}

/// The relationship of `me` to `target` as stored.
pub fn relationship(st: &State, me: &str, target: &Account) -> Value {
    let mine = st
        .follows
        .iter()
        .find(|f| f.account_id == me && f.target_id == target.id);
    let theirs = st
        .follows
        .iter()
        .find(|f| f.account_id == target.id && f.target_id == me);
    let mute = st
        .mutes
        .iter()
        .find(|m| m.account_id == me && m.target_id == target.id);
    let domain_blocking = target.domain.as_ref().is_some_and(|d| {
        st.domain_blocks
            .iter()
            .any(|b| b.account_id == me && b.domain.eq_ignore_ascii_case(d))
    });
    json!({
        "id": target.id,
        "following": mine.is_some_and(|f| !f.pending),
        "showing_reblogs": mine.is_some_and(|f| f.reblogs),
        "notifying": mine.is_some_and(|f| f.notify),
        "languages": mine.and_then(|f| f.languages.clone()),
        "followed_by": theirs.is_some_and(|f| !f.pending),
        "blocking": st.blocks.iter().any(|b| b.account_id == me && b.target_id == target.id),
        "blocked_by": st.blocks.iter().any(|b| b.account_id == target.id && b.target_id == me),
        "muting": mute.is_some(),
        "muting_notifications": mute.is_some_and(|m| m.notifications),
        "muting_expires_at": mute.and_then(|m| m.expires_at).map(iso_ms),
        "requested": mine.is_some_and(|f| f.pending),
        "requested_by": theirs.is_some_and(|f| f.pending),
        "domain_blocking": domain_blocking,
        "endorsed": false,
        "note": "",
    })
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text to Mastodon's HTML: paragraphs on blank lines, `<br />` on single newlines.
pub fn text_to_html(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n");
    normalized
        .split("\n\n")
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", html_escape(p).replace('\n', "<br />")))
        .collect()
}

fn media_url(st: &State, m: &Media, style: &str, ext: &str) -> String {
    let digits = m.id.chars().collect::<Vec<_>>();
    let path = digits
        .chunks(3)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("/");
    format!(
        "https://{}/system/media_attachments/files/{path}/{style}/{}.{ext}",
        st.config.home_host, m.id
    )
}

pub fn media(st: &State, m: &Media) -> Value {
    let ext = m
        .file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_else(|| "bin".into());
    let url = m.processed.then(|| media_url(st, m, "original", &ext));
    let original = match m.kind {
        MediaKind::Image => json!({"width": 600, "height": 400, "size": "600x400", "aspect": 1.5}),
        MediaKind::Audio => json!({"duration": 7.3, "bitrate": 128000}),
        _ => {
            json!({"width": 640, "height": 360, "frame_rate": "30/1", "duration": 7.3, "bitrate": 2187124})
        }
    };
    let mut meta = json!({
        "original": original,
        "small": {"width": 400, "height": 225, "size": "400x225", "aspect": 1.7777777777777777},
    });
    if let Some(focus) = &m.focus {
        let mut xy = focus
            .split(',')
            .map(|s| s.trim().parse::<f64>().unwrap_or(0.0));
        meta["focus"] = json!({"x": xy.next().unwrap_or(0.0), "y": xy.next().unwrap_or(0.0)});
    }
    json!({
        "id": m.id,
        "type": m.kind.as_str(),
        "url": url,
        "preview_url": media_url(st, m, "small", "png"),
        "remote_url": null,
        "preview_remote_url": null,
        "text_url": null,
        "meta": meta,
        "description": m.description,
        "blurhash": "UGC~-#M{0JfkNFofR%M{IURj%Mt7E0oM%MR*",
    })
}

/// A Status. `source` renders `text` instead of `content` (the shape of a DELETE answer).
pub fn status(st: &State, s: &Status, viewer: Option<&str>, source: bool) -> Value {
    let author = st.account(&s.account_id).expect("status author exists");
    let media: Vec<Value> = s
        .media_ids
        .iter()
        .filter_map(|id| st.media.iter().find(|m| &m.id == id))
        .map(|m| media(st, m))
        .collect();
    let bookmarked = viewer.is_some_and(|me| {
        st.bookmarks
            .iter()
            .any(|b| b.account_id == me && b.status_id == s.id)
    });
    let replies = st
        .statuses
        .iter()
        .filter(|r| !r.deleted && r.in_reply_to_id.as_deref() == Some(s.id.as_str()))
        .count();
    let uri = if author.is_local() {
        format!(
            "https://{}/users/{}/statuses/{}",
            st.config.home_host, author.username, s.id
        )
    } else {
        s.url.clone()
    };
    let mut v = json!({
        "id": s.id,
        "created_at": iso_ms(s.created_at),
        "in_reply_to_id": s.in_reply_to_id,
        "in_reply_to_account_id": s.in_reply_to_account_id,
        "sensitive": s.sensitive,
        "spoiler_text": s.spoiler_text,
        "visibility": s.visibility,
        "language": s.language,
        "uri": uri,
        "url": s.url,
        "replies_count": replies,
        "reblogs_count": 0,
        "favourites_count": 0,
        "quotes_count": 0,
        "edited_at": null,
        "favourited": false,
        "reblogged": false,
        "muted": false,
        "bookmarked": bookmarked,
        "pinned": false,
        "filtered": [],
        "reblog": null,
        "application": {"name": "migrate", "website": null},
        "account": account(st, author),
        "media_attachments": media,
        "mentions": [],
        "tags": [],
        "emojis": [],
        "quote": null,
        "card": null,
        "poll": null,
    });
    if source {
        v["text"] = json!(s.text);
    } else {
        v["content"] = json!(text_to_html(&s.text));
    }
    v
}

pub fn scheduled(st: &State, s: &ScheduledStatus) -> Value {
    let media: Vec<Value> = s
        .media_ids
        .iter()
        .filter_map(|id| st.media.iter().find(|m| &m.id == id))
        .map(|m| media(st, m))
        .collect();
    json!({
        "id": s.id,
        "scheduled_at": iso_ms(s.scheduled_at),
        "params": {
            "text": s.text,
            "media_ids": if s.media_ids.is_empty() { Value::Null } else { json!(s.media_ids) },
            "sensitive": s.sensitive,
            "spoiler_text": if s.spoiler_text.is_empty() { Value::Null } else { json!(s.spoiler_text) },
            "visibility": s.visibility,
            "language": s.language,
            "scheduled_at": null,
            "poll": null,
            "idempotency": s.idempotency_key,
            "with_rate_limit": false,
            "in_reply_to_id": s.in_reply_to_id,
            "application_id": 1,
        },
        "media_attachments": media,
    })
}

pub fn list(l: &List) -> Value {
    json!({
        "id": l.id,
        "title": l.title,
        "replies_policy": l.replies_policy,
        "exclusive": l.exclusive,
    })
}
