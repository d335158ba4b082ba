//! Statuses, media and bookmarks (MASTODON.md §2.4, §3.9, §3.9a): idempotency keys kept per
//! account for an hour, the statuses family limit, Mastodon's length count, asynchronous
//! media processing (202, then 206 until ready), scheduled statuses.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::super::config::MediaProcessing;
use super::super::entities;
use super::super::ratelimit::Family;
use super::super::request::{HResult, Resp, not_found, unprocessable};
use super::super::state::{
    Bookmark, IdempotentEntity, Media, MediaKind, ScheduledStatus, State, Status,
};
use super::super::text::status_length;
use super::{Ctx, limit_param, link_header};

const VISIBILITIES: &[&str] = &["public", "unlisted", "private", "direct"];

const IMAGE_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/heic",
    "image/heif",
    "image/webp",
    "image/avif",
];
const VIDEO_TYPES: &[&str] = &["video/webm", "video/mp4", "video/quicktime", "video/ogg"];
const AUDIO_TYPES: &[&str] = &[
    "audio/wave",
    "audio/wav",
    "audio/x-wav",
    "audio/ogg",
    "audio/vorbis",
    "audio/mpeg",
    "audio/mp3",
    "audio/webm",
    "audio/flac",
    "audio/aac",
    "audio/m4a",
    "audio/x-m4a",
    "audio/mp4",
    "audio/3gpp",
];

pub fn supported_mime_types() -> Vec<&'static str> {
    IMAGE_TYPES
        .iter()
        .chain(VIDEO_TYPES)
        .chain(AUDIO_TYPES)
        .copied()
        .collect()
}

pub const DESCRIPTION_LIMIT: usize = 1_500;

fn status_url(st: &State, account_id: &str, id: &str) -> String {
    let username = st
        .account(account_id)
        .map(|a| a.username.clone())
        .unwrap_or_default();
    format!("https://{}/@{username}/{id}", st.config.home_host)
}

/// Publishes scheduled statuses that are due (Mastodon's scheduler, run lazily).
pub fn publish_due(st: &mut State, now: DateTime<Utc>) {
    let due: Vec<usize> = st
        .scheduled_statuses
        .iter()
        .enumerate()
        .filter(|(_, s)| s.published_status_id.is_none() && s.scheduled_at <= now)
        .map(|(i, _)| i)
        .collect();
    for i in due {
        let s = st.scheduled_statuses[i].clone();
        let id = st.snowflake(s.scheduled_at);
        let url = status_url(st, &s.account_id, &id);
        let in_reply_to_account_id = s
            .in_reply_to_id
            .as_ref()
            .and_then(|r| st.statuses.iter().find(|x| &x.id == r))
            .map(|x| x.account_id.clone());
        st.statuses.push(Status {
            id: id.clone(),
            account_id: s.account_id.clone(),
            text: s.text.clone(),
            spoiler_text: s.spoiler_text.clone(),
            sensitive: s.sensitive,
            visibility: s.visibility.clone(),
            language: s.language.clone(),
            in_reply_to_id: s.in_reply_to_id.clone(),
            in_reply_to_account_id,
            media_ids: s.media_ids.clone(),
            idempotency_key: s.idempotency_key.clone(),
            created_at: s.scheduled_at,
            scheduled_at: Some(s.scheduled_at),
            deleted: false,
            url,
        });
        for m in st.media.iter_mut().filter(|m| s.media_ids.contains(&m.id)) {
            m.status_id = Some(id.clone());
        }
        st.scheduled_statuses[i].published_status_id = Some(id);
    }
}

/// Whether processing has finished; a poll counts towards `AfterPolls`.
fn refresh_media(st: &mut State, index: usize, now: DateTime<Utc>, poll: bool) -> bool {
    let processing = st.config.media_processing;
    let m = &mut st.media[index];
    if m.processed {
        return true;
    }
    match processing {
        MediaProcessing::AfterPolls(n) => {
            if poll {
                m.polls += 1;
                if m.polls > n {
                    m.processed = true;
                }
            }
        }
        MediaProcessing::AfterTime(t) => {
            let elapsed = (now - m.created_at).to_std().unwrap_or_default();
            if elapsed >= t {
                m.processed = true;
            }
        }
    }
    m.processed
}

/// `POST /api/v1/statuses`.
pub fn create(ctx: &mut Ctx) -> HResult {
    let me = ctx.user(&["write", "write:statuses"])?;
    let result = create_inner(ctx, &me);
    let family = Family::statuses(ctx.st).headers(ctx.st, &me, ctx.now);
    let mut resp = match result {
        Ok(r) | Err(r) => r,
    };
    resp.family = family;
    if resp.status.is_success() {
        Ok(resp)
    } else {
        Err(resp)
    }
}

fn create_inner(ctx: &mut Ctx, me: &str) -> HResult {
    let now = ctx.now;
    let p = ctx.req.params.clone();
    let key = ctx
        .req
        .header("idempotency-key")
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    let ttl = chrono::Duration::from_std(ctx.st.config.idempotency_ttl).expect("ttl");
    if let Some(key) = &key {
        let slot = (me.to_string(), key.clone());
        match ctx.st.idempotency.get(&slot).cloned() {
            Some((_, stored)) if stored + ttl <= now => {
                ctx.st.idempotency.remove(&slot);
            }
            Some((IdempotentEntity::Status(id), _)) => {
                let s = ctx
                    .st
                    .statuses
                    .iter()
                    .find(|s| s.id == id && !s.deleted)
                    .ok_or_else(not_found)?
                    .clone();
                return Ok(Resp::ok(entities::status(ctx.st, &s, Some(me), false)));
            }
            Some((IdempotentEntity::Scheduled(id), _)) => {
                let s = ctx
                    .st
                    .scheduled_statuses
                    .iter()
                    .find(|s| s.id == id)
                    .ok_or_else(not_found)?
                    .clone();
                return Ok(Resp::ok(entities::scheduled(ctx.st, &s)));
            }
            None => {}
        }
    }

    let in_reply_to = match p.present("in_reply_to_id") {
        Some(id) => Some(
            ctx.st
                .statuses
                .iter()
                .find(|s| s.id == id && !s.deleted)
                .cloned()
                .ok_or_else(|| {
                    Resp::error(
                        StatusCode::NOT_FOUND,
                        "The post you are trying to reply to does not appear to exist.",
                    )
                })?,
        ),
        None => None,
    };

    let max_media = ctx.st.config.max_media_attachments;
    let asked: Vec<String> = p.all("media_ids").iter().map(|s| s.to_string()).collect();
    if asked.len() > max_media {
        return Err(unprocessable(&format!(
            "Cannot attach more than {max_media} files"
        )));
    }
    // Only this account's unattached media count; others are silently ignored.
    let media_indexes: Vec<usize> = asked
        .iter()
        .filter_map(|id| {
            ctx.st
                .media
                .iter()
                .position(|m| &m.id == id && m.account_id == me && m.status_id.is_none())
        })
        .collect();
    for &i in &media_indexes {
        if !refresh_media(ctx.st, i, now, false) {
            return Err(unprocessable(
                "Cannot attach files that have not finished processing. Try again in a moment!",
            ));
        }
    }
    if media_indexes.len() > 1
        && media_indexes
            .iter()
            .any(|&i| ctx.st.media[i].kind != MediaKind::Image)
    {
        return Err(unprocessable(
            "Cannot attach a video to a post that already contains images",
        ));
    }
    let media_ids: Vec<String> = media_indexes
        .iter()
        .map(|&i| ctx.st.media[i].id.clone())
        .collect();

    let text = p.get("status").unwrap_or_default().to_string();
    let spoiler_text = p.get("spoiler_text").unwrap_or_default().to_string();
    if text.trim().is_empty() && media_ids.is_empty() {
        return Err(unprocessable("Validation failed: Text can't be blank"));
    }
    let max = ctx.st.config.max_characters;
    let per_url = ctx.st.config.characters_reserved_per_url;
    if status_length(&text, &spoiler_text, per_url) > max {
        return Err(unprocessable(&format!(
            "Validation failed: Text character limit of {max} exceeded"
        )));
    }
    let visibility = p.present("visibility").unwrap_or("public").to_string();
    if !VISIBILITIES.contains(&visibility.as_str()) {
        return Err(unprocessable(
            "Validation failed: Visibility is not included in the list",
        ));
    }
    let language = p
        .present("language")
        .filter(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase()))
        .map(str::to_string);
    let sensitive = p.bool("sensitive", false) || !spoiler_text.is_empty();

    let asked_at = match p.present("scheduled_at") {
        Some(v) => Some(
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| unprocessable("Validation failed: Scheduled at is invalid"))?,
        ),
        None => None,
    };
    // GoToSocial 0.18+: a past `scheduled_at` backdates the status (its import feature), for
    // top-level posts and replies to oneself, without mentions of others, after the epoch.
    // Mastodon posts at once instead (`scheduled_in_the_past?`).
    let backdated = asked_at.filter(|t| *t <= now && ctx.st.config.is_gotosocial());
    if let Some(at) = backdated {
        if at.timestamp() <= 0 {
            return Err(unprocessable(
                "backfilled statuses must be dated after the Unix epoch",
            ));
        }
        if in_reply_to.as_ref().is_some_and(|s| s.account_id != me) {
            return Err(unprocessable(
                "backfilled statuses may only reply to your own statuses",
            ));
        }
        let own = ctx
            .st
            .account(me)
            .map(|a| a.username.to_ascii_lowercase())
            .unwrap_or_default();
        let home = ctx.st.config.home_host.to_ascii_lowercase();
        if let Some(other) = super::super::text::mentions(&text)
            .into_iter()
            .find(|(user, host)| {
                !(user.eq_ignore_ascii_case(&own)
                    && host
                        .as_deref()
                        .is_none_or(|h| h.eq_ignore_ascii_case(&home)))
            })
        {
            return Err(unprocessable(&format!(
                "backfilled statuses may not mention other accounts (@{})",
                other.0
            )));
        }
    }
    let scheduled_at = asked_at.filter(|t| *t > now);
    if let Some(at) = scheduled_at {
        if at <= now + chrono::Duration::minutes(5) {
            return Err(unprocessable(
                "Validation failed: Scheduled at The scheduled date must be in the future",
            ));
        }
        let id = ctx.st.serial().to_string();
        let scheduled = ScheduledStatus {
            id: id.clone(),
            account_id: me.to_string(),
            scheduled_at: at,
            text,
            spoiler_text,
            sensitive,
            visibility,
            language,
            in_reply_to_id: in_reply_to.map(|s| s.id),
            media_ids,
            idempotency_key: key.clone(),
            published_status_id: None,
        };
        let body = entities::scheduled(ctx.st, &scheduled);
        ctx.st.scheduled_statuses.push(scheduled);
        if let Some(key) = key {
            ctx.st.idempotency.insert(
                (me.to_string(), key),
                (IdempotentEntity::Scheduled(id), now),
            );
        }
        return Ok(Resp::ok(body));
    }

    if !Family::statuses(ctx.st).record(ctx.st, me, now) {
        ctx.st.note_rate_limited("statuses");
        return Err(Resp::error(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
        ));
    }
    let created_at = backdated.unwrap_or(now);
    let id = match backdated {
        Some(at) => ctx.st.backdated_id(at),
        None => ctx.st.snowflake(now),
    };
    let url = status_url(ctx.st, me, &id);
    let status = Status {
        id: id.clone(),
        account_id: me.to_string(),
        text,
        spoiler_text,
        sensitive,
        visibility,
        language,
        in_reply_to_id: in_reply_to.as_ref().map(|s| s.id.clone()),
        in_reply_to_account_id: in_reply_to.map(|s| s.account_id),
        media_ids: media_ids.clone(),
        idempotency_key: key.clone(),
        created_at,
        scheduled_at: backdated,
        deleted: false,
        url,
    };
    for m in ctx
        .st
        .media
        .iter_mut()
        .filter(|m| media_ids.contains(&m.id))
    {
        m.status_id = Some(id.clone());
    }
    ctx.st.statuses.push(status.clone());
    if let Some(key) = key {
        ctx.st
            .idempotency
            .insert((me.to_string(), key), (IdempotentEntity::Status(id), now));
    }
    Ok(Resp::ok(entities::status(ctx.st, &status, Some(me), false)))
}

/// `GET /api/v1/statuses/:id/source`: the text as posted, for its author.
pub fn source(ctx: &mut Ctx, id: &str) -> HResult {
    let me = ctx.user(&["read", "read:statuses"])?;
    let s = ctx
        .st
        .statuses
        .iter()
        .find(|s| s.id == id && !s.deleted && s.account_id == me)
        .ok_or_else(not_found)?;
    Ok(Resp::ok(json!({
        "id": s.id,
        "text": s.text,
        "spoiler_text": s.spoiler_text,
    })))
}

fn visible_status(st: &State, id: &str, viewer: Option<&str>) -> Option<Status> {
    st.statuses
        .iter()
        .find(|s| s.id == id && !s.deleted)
        .filter(|s| {
            matches!(s.visibility.as_str(), "public" | "unlisted")
                || viewer == Some(s.account_id.as_str())
        })
        .cloned()
}

pub fn show(ctx: &mut Ctx, id: &str) -> HResult {
    let auth = ctx.optional(&["read", "read:statuses"])?;
    let viewer = auth.and_then(|a| a.account_id);
    // A recorded Mastodon 4.6 answers `{"error":"Not Found"}` here.
    let s = visible_status(ctx.st, id, viewer.as_deref())
        .ok_or_else(|| Resp::error(StatusCode::NOT_FOUND, "Not Found"))?;
    Ok(Resp::ok(entities::status(
        ctx.st,
        &s,
        viewer.as_deref(),
        false,
    )))
}

pub fn delete(ctx: &mut Ctx, id: &str) -> HResult {
    let me = ctx.user(&["write", "write:statuses"])?;
    let index = ctx
        .st
        .statuses
        .iter()
        .position(|s| s.id == id && !s.deleted)
        .ok_or_else(not_found)?;
    if ctx.st.statuses[index].account_id != me {
        return Err(Resp::error(
            StatusCode::FORBIDDEN,
            "This action is not allowed",
        ));
    }
    let body = entities::status(ctx.st, &ctx.st.statuses[index].clone(), Some(&me), true);
    ctx.st.statuses[index].deleted = true;
    Ok(Resp::ok(body))
}

pub fn bookmark(ctx: &mut Ctx, id: &str, on: bool) -> HResult {
    let me = ctx.user(&["write", "write:bookmarks"])?;
    let s = visible_status(ctx.st, id, Some(&me)).ok_or_else(not_found)?;
    ctx.st
        .bookmarks
        .retain(|b| !(b.account_id == me && b.status_id == s.id));
    if on {
        let bid = ctx.st.serial();
        ctx.st.bookmarks.push(Bookmark {
            account_id: me.clone(),
            status_id: s.id.clone(),
            id: bid,
        });
    }
    Ok(Resp::ok(entities::status(ctx.st, &s, Some(&me), false)))
}

pub fn bookmarks(ctx: &mut Ctx) -> HResult {
    let me = ctx.user(&["read", "read:bookmarks"])?;
    let limit = limit_param(ctx.req, 20, 40);
    let p = &ctx.req.params;
    let max_id = p.present("max_id").and_then(|v| v.parse::<u64>().ok());
    let min_id = p
        .present("min_id")
        .or_else(|| p.present("since_id"))
        .and_then(|v| v.parse::<u64>().ok());
    let mut marks: Vec<&Bookmark> = ctx
        .st
        .bookmarks
        .iter()
        .filter(|b| b.account_id == me)
        .filter(|b| max_id.is_none_or(|m| b.id < m))
        .filter(|b| min_id.is_none_or(|m| b.id > m))
        .collect();
    marks.sort_by_key(|b| std::cmp::Reverse(b.id));
    marks.truncate(limit);
    let page: Vec<(u64, String)> = marks.iter().map(|b| (b.id, b.status_id.clone())).collect();
    let body: Vec<Value> = page
        .iter()
        .filter_map(|(_, sid)| visible_status(ctx.st, sid, Some(&me)))
        .map(|s| entities::status(ctx.st, &s, Some(&me), false))
        .collect();
    let mut resp = Resp::ok(Value::Array(body));
    if let Some(link) = link_header(
        ctx.req,
        limit,
        page.len(),
        page.last().map(|(id, _)| id.to_string()),
        page.first().map(|(id, _)| id.to_string()),
        "min_id",
    ) {
        resp = resp.header("Link", &link);
    }
    Ok(resp)
}

/// `GET /api/v1/accounts/:id/statuses`, newest first, paginated with `Link`.
pub fn account_statuses(ctx: &mut Ctx, id: &str) -> HResult {
    let auth = ctx.optional(&["read", "read:statuses"])?;
    let viewer = auth.and_then(|a| a.account_id);
    ctx.st.account(id).ok_or_else(not_found)?;
    let limit = limit_param(ctx.req, 20, 40);
    let p = &ctx.req.params;
    let num = |k: &str| p.present(k).and_then(|v| v.parse::<i64>().ok());
    let (max_id, since_id, min_id) = (num("max_id"), num("since_id"), num("min_id"));
    let exclude_replies = p.bool("exclude_replies", false);
    let mut list: Vec<&Status> = ctx
        .st
        .statuses
        .iter()
        .filter(|s| s.account_id == id && !s.deleted)
        .filter(|s| {
            matches!(s.visibility.as_str(), "public" | "unlisted") || viewer.as_deref() == Some(id)
        })
        .filter(|s| !exclude_replies || s.in_reply_to_id.is_none())
        .filter(|s| {
            let n: i64 = s.id.parse().unwrap_or(0);
            max_id.is_none_or(|m| n < m)
                && since_id.is_none_or(|m| n > m)
                && min_id.is_none_or(|m| n > m)
        })
        .collect();
    list.sort_by_key(|s| std::cmp::Reverse(s.id.parse::<i64>().unwrap_or(0)));
    if min_id.is_some() {
        let n = list.len();
        list = list.split_off(n.saturating_sub(limit));
    }
    list.truncate(limit);
    let page: Vec<Status> = list.into_iter().cloned().collect();
    let body: Vec<Value> = page
        .iter()
        .map(|s| entities::status(ctx.st, s, viewer.as_deref(), false))
        .collect();
    let mut resp = Resp::ok(Value::Array(body));
    if let Some(link) = link_header(
        ctx.req,
        limit,
        page.len(),
        page.last().map(|s| s.id.clone()),
        page.first().map(|s| s.id.clone()),
        "min_id",
    ) {
        resp = resp.header("Link", &link);
    }
    Ok(resp)
}

pub fn scheduled_list(ctx: &mut Ctx) -> HResult {
    let me = ctx.user(&["read", "read:statuses"])?;
    let list: Vec<Value> = ctx
        .st
        .scheduled_statuses
        .iter()
        .filter(|s| s.account_id == me && s.published_status_id.is_none())
        .map(|s| entities::scheduled(ctx.st, s))
        .collect();
    Ok(Resp::ok(Value::Array(list)))
}

pub fn scheduled_show(ctx: &mut Ctx, id: &str) -> HResult {
    let me = ctx.user(&["read", "read:statuses"])?;
    let s = ctx
        .st
        .scheduled_statuses
        .iter()
        .find(|s| s.id == id && s.account_id == me && s.published_status_id.is_none())
        .ok_or_else(not_found)?;
    Ok(Resp::ok(entities::scheduled(ctx.st, s)))
}

fn guess_mime(file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "avif" => "image/avif",
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        _ => "application/octet-stream",
    }
}

/// `POST /api/v2/media`: images are processed at once (200 with a URL); video, GIF and audio
/// answer 202 with `url: null` and become ready later.
pub fn upload(ctx: &mut Ctx) -> HResult {
    let me = ctx.user(&["write", "write:media"])?;
    let file = ctx
        .req
        .part("file")
        .filter(|f| !f.data.is_empty())
        .cloned()
        .ok_or_else(|| unprocessable("Validation failed: File can't be blank"))?;
    let file_name = file.file_name.clone().unwrap_or_else(|| "file".into());
    let mime = file
        .content_type
        .clone()
        .filter(|c| c != "application/octet-stream")
        .unwrap_or_else(|| guess_mime(&file_name).to_string())
        .to_ascii_lowercase();
    let mime = mime
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let kind = if mime == "image/gif" {
        MediaKind::Gifv
    } else if IMAGE_TYPES.contains(&mime.as_str()) {
        MediaKind::Image
    } else if VIDEO_TYPES.contains(&mime.as_str()) {
        MediaKind::Video
    } else if AUDIO_TYPES.contains(&mime.as_str()) {
        MediaKind::Audio
    } else {
        return Err(unprocessable(
            "Validation failed: File content type is invalid, File file type is not allowed",
        ));
    };
    let size_limit = if kind == MediaKind::Image {
        ctx.st.config.image_size_limit
    } else {
        ctx.st.config.video_size_limit
    };
    if file.data.len() > size_limit {
        return Err(unprocessable(&format!(
            "Validation failed: File file size must be less than {size_limit} Bytes"
        )));
    }
    let description = ctx.req.params.get("description").map(str::to_string);
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > DESCRIPTION_LIMIT)
    {
        return Err(unprocessable(&format!(
            "Validation failed: Description is too long (maximum is {DESCRIPTION_LIMIT} characters)"
        )));
    }
    let id = ctx.st.snowflake(ctx.now);
    let media = Media {
        id,
        account_id: me,
        kind,
        mime,
        file_name,
        description: description.filter(|d| !d.is_empty()),
        focus: ctx.req.params.present("focus").map(str::to_string),
        size: file.data.len(),
        processed: kind == MediaKind::Image,
        polls: 0,
        created_at: ctx.now,
        status_id: None,
    };
    let status = if media.processed {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let body = entities::media(ctx.st, &media);
    ctx.st.media.push(media);
    Ok(Resp::json(status, &body))
}

fn my_media(ctx: &Ctx, me: &str, id: &str) -> Result<usize, Resp> {
    ctx.st
        .media
        .iter()
        .position(|m| m.id == id && m.account_id == me)
        .ok_or_else(not_found)
}

/// `GET /api/v1/media/:id`: 206 while processing, 200 when ready.
pub fn media_show(ctx: &mut Ctx, id: &str) -> HResult {
    let me = ctx.user(&["write", "write:media"])?;
    let index = my_media(ctx, &me, id)?;
    let ready = refresh_media(ctx.st, index, ctx.now, true);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::PARTIAL_CONTENT
    };
    Ok(Resp::json(
        status,
        &entities::media(ctx.st, &ctx.st.media[index]),
    ))
}

/// `PUT /api/v1/media/:id`: description and focus.
pub fn media_update(ctx: &mut Ctx, id: &str) -> HResult {
    let me = ctx.user(&["write", "write:media"])?;
    let index = my_media(ctx, &me, id)?;
    if let Some(d) = ctx.req.params.get("description") {
        if d.chars().count() > DESCRIPTION_LIMIT {
            return Err(unprocessable(&format!(
                "Validation failed: Description is too long (maximum is {DESCRIPTION_LIMIT} characters)"
            )));
        }
        ctx.st.media[index].description = (!d.is_empty()).then(|| d.to_string());
    }
    if let Some(f) = ctx.req.params.present("focus") {
        ctx.st.media[index].focus = Some(f.to_string());
    }
    let ready = refresh_media(ctx.st, index, ctx.now, false);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::PARTIAL_CONTENT
    };
    Ok(Resp::json(
        status,
        &entities::media(ctx.st, &ctx.st.media[index]),
    ))
}

/// Used by the instance entity.
pub fn media_configuration(config: &super::super::config::FakeConfig) -> Value {
    json!({
        "supported_mime_types": supported_mime_types(),
        "description_limit": DESCRIPTION_LIMIT,
        "image_size_limit": config.image_size_limit,
        "image_matrix_limit": 33177600,
        "video_size_limit": config.video_size_limit,
        "video_frame_rate_limit": 120,
        "video_matrix_limit": 8294400,
    })
}
