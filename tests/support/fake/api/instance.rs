//! Server discovery (MASTODON.md §3.1): the instance entities, NodeInfo, the OAuth server
//! metadata, and WebFinger for the home server's own accounts.

use axum::http::StatusCode;
use serde_json::json;

use super::super::request::{HResult, Resp};
use super::super::webfinger::parse_resource;
use super::Ctx;
use super::statuses::media_configuration;

pub fn v2(ctx: &mut Ctx) -> HResult {
    let c = &ctx.st.config;
    let host = &c.home_host;
    let users = ctx.st.accounts.iter().filter(|a| a.is_local()).count();
    Ok(Resp::ok(json!({
        "domain": host,
        "title": "Fake Mastodon",
        "version": c.version,
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "A fake Mastodon server for migrate's tests.",
        "usage": {"users": {"active_month": users}},
        "thumbnail": {"url": format!("https://{host}/packs/media/images/preview.png")},
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {
                "streaming": format!("wss://{host}"),
                "status": null,
                "about": format!("https://{host}/about"),
                "privacy_policy": format!("https://{host}/privacy-policy"),
                "terms_of_service": null,
            },
            "vapid": {"public_key": "BAhxXyHfAoMqrZECjRI56F5QrE4ynVlkZFMdKSpTIsWRNoWUVgut-Bnz2xsMSwiN4AF0b4I7ixF24OwiicOJivw="},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {
                "max_characters": c.max_characters,
                "max_media_attachments": c.max_media_attachments,
                "characters_reserved_per_url": c.characters_reserved_per_url,
            },
            "media_attachments": media_configuration(c),
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2629746,
            },
            "translation": {"enabled": false},
        },
        "registrations": {"enabled": true, "approval_required": false, "message": null},
        "api_versions": {"mastodon": 6},
        "contact": {"email": format!("admin@{host}"), "account": null},
        "rules": [],
    })))
}

pub fn v1(ctx: &mut Ctx) -> HResult {
    let c = &ctx.st.config;
    let host = &c.home_host;
    let users = ctx.st.accounts.iter().filter(|a| a.is_local()).count();
    let statuses = ctx.st.statuses.iter().filter(|s| !s.deleted).count();
    Ok(Resp::ok(json!({
        "uri": host,
        "title": "Fake Mastodon",
        "short_description": "",
        "description": "A fake Mastodon server for migrate's tests.",
        "email": format!("admin@{host}"),
        "version": c.version,
        "urls": {"streaming_api": format!("wss://{host}")},
        "stats": {"user_count": users, "status_count": statuses, "domain_count": 1},
        "thumbnail": format!("https://{host}/packs/media/images/preview.png"),
        "languages": ["en"],
        "registrations": true,
        "approval_required": false,
        "invites_enabled": true,
        "configuration": {
            "accounts": {"max_featured_tags": 10},
            "statuses": {
                "max_characters": c.max_characters,
                "max_media_attachments": c.max_media_attachments,
                "characters_reserved_per_url": c.characters_reserved_per_url,
            },
            "media_attachments": media_configuration(c),
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2629746,
            },
        },
        "contact_account": null,
        "rules": [],
    })))
}

pub fn nodeinfo_links(ctx: &mut Ctx) -> HResult {
    let host = &ctx.st.config.home_host;
    Ok(Resp::ok(json!({
        "links": [{
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
            "href": format!("https://{host}/nodeinfo/2.0"),
        }]
    })))
}

pub fn nodeinfo(ctx: &mut Ctx) -> HResult {
    let users = ctx.st.accounts.iter().filter(|a| a.is_local()).count();
    let posts = ctx
        .st
        .statuses
        .iter()
        .filter(|s| !s.deleted && ctx.st.account(&s.account_id).is_some_and(|a| a.is_local()))
        .count();
    let body = json!({
        "version": "2.0",
        "software": {"name": ctx.st.config.software, "version": ctx.st.config.version},
        "protocols": ["activitypub"],
        "services": {"outbound": [], "inbound": []},
        "usage": {
            "users": {"total": users, "activeMonth": users, "activeHalfyear": users},
            "localPosts": posts,
        },
        "openRegistrations": true,
        "metadata": {"nodeName": "Fake Mastodon", "nodeDescription": ""},
    });
    let mut resp = Resp::json(StatusCode::OK, &body);
    resp.set_header(
        "Content-Type",
        "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.0#\"".into(),
    );
    Ok(resp)
}

/// RFC 8414 metadata (Mastodon 4.3+).
pub fn oauth_metadata(ctx: &mut Ctx) -> HResult {
    let host = &ctx.st.config.home_host;
    Ok(Resp::ok(json!({
        "issuer": format!("https://{host}/"),
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": format!("https://{host}/oauth/authorize"),
        "token_endpoint": format!("https://{host}/oauth/token"),
        "app_registration_endpoint": format!("https://{host}/api/v1/apps"),
        "revocation_endpoint": format!("https://{host}/oauth/revoke"),
        "userinfo_endpoint": format!("https://{host}/oauth/userinfo"),
        "scopes_supported": ["read", "write", "follow", "push", "profile",
            "read:accounts", "read:follows", "read:search", "read:statuses",
            "write:follows", "write:statuses", "write:media", "write:blocks", "write:mutes",
            "write:lists", "write:bookmarks"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    })))
}

/// WebFinger for local accounts.
pub fn webfinger(ctx: &mut Ctx) -> HResult {
    let host = ctx.st.config.home_host.clone();
    let Some((user, domain)) = ctx.req.query.get("resource").and_then(parse_resource) else {
        return Ok(Resp::new(StatusCode::BAD_REQUEST));
    };
    let account = ctx
        .st
        .accounts
        .iter()
        .find(|a| a.is_local() && a.username.eq_ignore_ascii_case(&user))
        .filter(|_| domain.eq_ignore_ascii_case(&host));
    let Some(a) = account else {
        return Ok(Resp::new(StatusCode::NOT_FOUND));
    };
    let body = json!({
        "subject": format!("acct:{}@{host}", a.username),
        "aliases": [a.url, a.uri],
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": a.url},
            {"rel": "self", "type": "application/activity+json", "href": a.uri},
            {"rel": "http://ostatus.org/schema/1.0/subscribe",
             "template": format!("https://{host}/authorize_interaction?uri={{uri}}")},
        ],
    });
    Ok(Resp::text(
        StatusCode::OK,
        "application/jrd+json; charset=utf-8",
        serde_json::to_vec(&body).expect("json"),
    )
    .header("Cache-Control", "max-age=259200, public"))
}

pub fn host_meta(ctx: &mut Ctx) -> HResult {
    let host = &ctx.st.config.home_host;
    Ok(Resp::text(
        StatusCode::OK,
        "application/xrd+xml; charset=utf-8",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Link rel=\"lrdd\" template=\"https://{host}/.well-known/webfinger?resource={{uri}}\"/>\n</XRD>\n"
        ),
    ))
}
