//! The home server: routing, authentication (Doorkeeper's rules as Mastodon's controllers
//! apply them) and the handlers, one module per area.

mod accounts;
mod instance;
mod oauth;
mod statuses;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Utc};

use super::request::{HResult, Req, Resp};
use super::state::State;

pub use accounts::search_delay;
pub use statuses::publish_due;

/// The bearer token a request carries, as Doorkeeper finds it.
#[derive(Clone, Copy, Debug)]
pub enum Bearer {
    None,
    /// A token string the server never issued (Doorkeeper finds no record).
    Unknown,
    /// An index into `State::tokens` (possibly revoked).
    Token(usize),
}

pub fn bearer(st: &State, req: &Req) -> Bearer {
    let from_header = req.header("authorization").and_then(|h| {
        let (scheme, value) = h.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| value.trim())
    });
    let Some(value) = from_header.or_else(|| req.params.present("access_token")) else {
        return Bearer::None;
    };
    match st.tokens.iter().position(|t| t.token == value) {
        Some(i) => Bearer::Token(i),
        None => Bearer::Unknown,
    }
}

pub struct Ctx<'a> {
    pub st: &'a mut State,
    pub req: &'a Req,
    pub now: DateTime<Utc>,
    pub bearer: Bearer,
}

/// An accepted token.
#[derive(Clone, Debug)]
pub struct Auth {
    pub token_index: usize,
    pub account_id: Option<String>,
}

impl Ctx<'_> {
    /// `doorkeeper_authorize!(*scopes)`: a valid token holding one of `scopes`.
    pub fn require(&self, scopes: &[&str]) -> Result<Auth, Resp> {
        match self.bearer {
            Bearer::None | Bearer::Unknown => Err(Resp::error(
                StatusCode::UNAUTHORIZED,
                "The access token is invalid",
            )),
            Bearer::Token(i) => {
                let t = &self.st.tokens[i];
                if t.revoked {
                    return Err(Resp::error(
                        StatusCode::UNAUTHORIZED,
                        "The access token was revoked",
                    ));
                }
                if !scopes.iter().any(|s| t.scopes.iter().any(|ts| ts == s)) {
                    return Err(Resp::error(
                        StatusCode::FORBIDDEN,
                        "This action is outside the authorized scopes",
                    ));
                }
                Ok(Auth {
                    token_index: i,
                    account_id: t.account_id.clone(),
                })
            }
        }
    }

    /// `authorize_if_got_token!(*scopes)`: no token (or one Doorkeeper does not find) is
    /// anonymous; a found token must be valid and hold a scope.
    pub fn optional(&self, scopes: &[&str]) -> Result<Option<Auth>, Resp> {
        match self.bearer {
            Bearer::None | Bearer::Unknown => Ok(None),
            Bearer::Token(_) => self.require(scopes).map(Some),
        }
    }

    /// `doorkeeper_authorize!` then `require_user!`: the token's account id.
    pub fn user(&self, scopes: &[&str]) -> Result<String, Resp> {
        self.require(scopes)?.account_id.ok_or_else(|| {
            Resp::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "This method requires an authenticated user",
            )
        })
    }
}

/// Routes a request to the home server. Paths may end with `/`, as Rails allows.
pub fn dispatch(ctx: &mut Ctx) -> HResult {
    let segs: Vec<String> = ctx.req.segments().iter().map(|s| s.to_string()).collect();
    let s: Vec<&str> = segs.iter().map(|s| s.as_str()).collect();
    let m = ctx.req.method.clone();
    let get = m == Method::GET;
    let post = m == Method::POST;
    let delete = m == Method::DELETE;
    let put = m == Method::PUT;
    match s.as_slice() {
        // OAuth and discovery.
        ["api", "v1", "apps"] if post => oauth::create_app(ctx),
        ["api", "v1", "apps", "verify_credentials"] if get => oauth::verify_app(ctx),
        ["oauth", "authorize"] if get => oauth::authorize(ctx),
        ["oauth", "authorize", "native"] if get => oauth::native(ctx),
        ["oauth", "token"] if post => oauth::token(ctx),
        ["oauth", "revoke"] if post => oauth::revoke(ctx),
        [".well-known", "oauth-authorization-server"] if get => instance::oauth_metadata(ctx),
        [".well-known", "nodeinfo"] if get => instance::nodeinfo_links(ctx),
        ["nodeinfo", "2.0"] if get => instance::nodeinfo(ctx),
        [".well-known", "webfinger"] if get => instance::webfinger(ctx),
        [".well-known", "host-meta"] if get => instance::host_meta(ctx),
        ["api", "v1", "instance"] if get => instance::v1(ctx),
        ["api", "v2", "instance"] if get => instance::v2(ctx),

        // Accounts and relationships.
        ["api", "v1", "accounts", "verify_credentials"] if get => accounts::verify_credentials(ctx),
        ["api", "v1", "accounts", "lookup"] if get => accounts::lookup(ctx),
        ["api", "v1", "accounts", "relationships"] if get => accounts::relationships(ctx),
        ["api", "v2", "search"] if get => accounts::search(ctx),
        ["api", "v1", "accounts", id] if get => accounts::show(ctx, id),
        ["api", "v1", "accounts", id, "follow"] if post => accounts::follow(ctx, id),
        ["api", "v1", "accounts", id, "unfollow"] if post => accounts::unfollow(ctx, id),
        ["api", "v1", "accounts", id, "block"] if post => accounts::block(ctx, id, true),
        ["api", "v1", "accounts", id, "unblock"] if post => accounts::block(ctx, id, false),
        ["api", "v1", "accounts", id, "mute"] if post => accounts::mute(ctx, id, true),
        ["api", "v1", "accounts", id, "unmute"] if post => accounts::mute(ctx, id, false),
        ["api", "v1", "accounts", id, "following"] if get => accounts::following(ctx, id),
        ["api", "v1", "accounts", id, "statuses"] if get => statuses::account_statuses(ctx, id),
        ["api", "v1", "domain_blocks"] if get => accounts::domain_blocks(ctx),
        ["api", "v1", "domain_blocks"] if post => accounts::domain_block(ctx, true),
        ["api", "v1", "domain_blocks"] if delete => accounts::domain_block(ctx, false),
        ["api", "v1", "lists"] if get => accounts::lists(ctx),
        ["api", "v1", "lists"] if post => accounts::create_list(ctx),
        ["api", "v1", "lists", id] if get => accounts::show_list(ctx, id),
        ["api", "v1", "lists", id] if delete => accounts::delete_list(ctx, id),
        ["api", "v1", "lists", id, "accounts"] if get => accounts::list_accounts(ctx, id),
        ["api", "v1", "lists", id, "accounts"] if post => accounts::add_to_list(ctx, id, true),
        ["api", "v1", "lists", id, "accounts"] if delete => accounts::add_to_list(ctx, id, false),

        // Statuses and media.
        ["api", "v1", "statuses"] if post => statuses::create(ctx),
        ["api", "v1", "statuses", id] if get => statuses::show(ctx, id),
        ["api", "v1", "statuses", id] if delete => statuses::delete(ctx, id),
        ["api", "v1", "statuses", id, "source"] if get => statuses::source(ctx, id),
        ["api", "v1", "statuses", id, "bookmark"] if post => statuses::bookmark(ctx, id, true),
        ["api", "v1", "statuses", id, "unbookmark"] if post => statuses::bookmark(ctx, id, false),
        ["api", "v1", "bookmarks"] if get => statuses::bookmarks(ctx),
        ["api", "v1", "scheduled_statuses"] if get => statuses::scheduled_list(ctx),
        ["api", "v1", "scheduled_statuses", id] if get => statuses::scheduled_show(ctx, id),
        ["api", "v2", "media"] if post => statuses::upload(ctx),
        ["api", "v1", "media", id] if get => statuses::media_show(ctx, id),
        ["api", "v1", "media", id] if put => statuses::media_update(ctx, id),
        _ => Err(route_not_found()),
    }
}

fn route_not_found() -> Resp {
    Resp::error(StatusCode::NOT_FOUND, "Not Found")
}

/// `Link` header for a page: `next` (older, `max_id`) when the page is full, `prev` (newer,
/// `min_id` or `since_id`) when it is not empty, as Mastodon's `insert_pagination_headers`.
pub fn link_header(
    req: &Req,
    limit: usize,
    returned: usize,
    oldest: Option<String>,
    newest: Option<String>,
    prev_key: &str,
) -> Option<String> {
    let base = req.path.trim_end_matches('/');
    let mut links = Vec::new();
    let extra: Vec<(String, String)> = req
        .query
        .0
        .iter()
        .filter(|(k, _)| !["max_id", "min_id", "since_id", "limit"].contains(&k.as_str()))
        .cloned()
        .collect();
    let url = |key: &str, value: &str| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &extra {
            ser.append_pair(k, v);
        }
        if req.query.has("limit") {
            ser.append_pair("limit", &limit.to_string());
        }
        ser.append_pair(key, value);
        req.self_url(&format!("{base}?{}", ser.finish()))
    };
    if returned == limit {
        if let Some(oldest) = oldest {
            links.push(format!("<{}>; rel=\"next\"", url("max_id", &oldest)));
        }
    }
    if let Some(newest) = newest {
        links.push(format!("<{}>; rel=\"prev\"", url(prev_key, &newest)));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

/// Mastodon's `limit_param`: default, capped at max.
pub fn limit_param(req: &Req, default: usize, max: usize) -> usize {
    req.params.usize("limit").unwrap_or(default).clamp(1, max)
}
