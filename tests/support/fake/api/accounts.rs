//! Accounts, search, follows and the other relationships (MASTODON.md §1.6, §3.3–§3.8).

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::super::entities;
use super::super::ratelimit::Family;
use super::super::request::{HResult, Req, Resp, not_found, unprocessable};
use super::super::state::{Account, Block, DomainBlock, Follow, List, Mute, State};
use super::super::webfinger;
use super::{Ctx, limit_param, link_header};

const FOLLOW_SCOPES: &[&str] = &["follow", "write", "write:follows"];

pub fn verify_credentials(ctx: &mut Ctx) -> HResult {
    let me = ctx.user(&["read", "read:accounts", "profile"])?;
    let account = ctx.st.account(&me).ok_or_else(not_found)?;
    Ok(Resp::ok(entities::credential_account(ctx.st, account)))
}

pub fn show(ctx: &mut Ctx, id: &str) -> HResult {
    ctx.optional(&["read", "read:accounts"])?;
    let account = ctx.st.account(id).ok_or_else(not_found)?;
    Ok(Resp::ok(entities::account(ctx.st, account)))
}

/// `GET /api/v1/accounts/lookup`: only accounts already in the database, never WebFinger.
pub fn lookup(ctx: &mut Ctx) -> HResult {
    ctx.optional(&["read", "read:accounts"])?;
    let acct = ctx.req.params.present("acct").ok_or_else(not_found)?;
    let account = ctx.st.account_by_acct(acct).ok_or_else(not_found)?;
    Ok(Resp::ok(entities::account(ctx.st, account)))
}

/// What a search query names: an account handle, a URL, or words.
enum Query {
    Handle {
        user: String,
        domain: Option<String>,
    },
    Url(String),
    Words(String),
}

fn parse_query(q: &str) -> Query {
    let q = q.trim();
    if q.starts_with("https://") || q.starts_with("http://") {
        return Query::Url(q.to_string());
    }
    let bare = q.trim_start_matches('@');
    let valid =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || "_.-".contains(c));
    match bare.split_once('@') {
        Some((u, d)) if valid(u) && valid(d) && d.contains('.') => Query::Handle {
            user: u.to_string(),
            domain: Some(d.to_ascii_lowercase()),
        },
        None if valid(bare) && q.starts_with('@') => Query::Handle {
            user: bare.to_string(),
            domain: None,
        },
        _ => Query::Words(q.to_string()),
    }
}

/// Real time a search waits for a slow remote host's WebFinger (asked before the state is
/// locked, so that other requests go on meanwhile).
pub fn search_delay(st: &State, req: &Req) -> Option<Duration> {
    if req.path.trim_end_matches('/') != "/api/v2/search" || !req.params.bool("resolve", false) {
        return None;
    }
    let (user, domain) = match parse_query(req.params.get("q")?) {
        Query::Handle {
            user,
            domain: Some(domain),
        } => (user, domain),
        Query::Url(url) => webfinger::parse_resource(&url)?,
        _ => return None,
    };
    if st.account_by_acct(&format!("{user}@{domain}")).is_some() {
        return None;
    }
    webfinger::delay_for(st, &domain)
}

/// Look-alikes for `user@domain`: the same username on other hosts, and longer usernames
/// starting with it on the same host.
fn ensure_decoys(ctx: &mut Ctx, user: &str, domain: &str) {
    let n = ctx.st.config.search_decoys;
    let home = domain.eq_ignore_ascii_case(&ctx.st.config.home_host);
    for i in 0..n {
        let mirror = match i / 2 {
            0 => "mirror.example".to_string(),
            k => format!("mirror{}.example", k + 1),
        };
        let suffix = ["archive", "bot", "news", "alt"][(i / 2) % 4];
        // Look-alikes are remote accounts, so none is put on the home domain.
        let acct = match (i % 2, home) {
            (0, _) => format!("{user}@{mirror}"),
            (_, false) => format!("{user}_{suffix}@{domain}"),
            (_, true) => format!("{user}_{suffix}@{mirror}"),
        };
        if ctx.st.account_by_acct(&acct).is_some() {
            continue;
        }
        let (du, dd) = acct.split_once('@').expect("acct");
        let id = ctx.st.snowflake(ctx.now);
        ctx.st.accounts.push(Account {
            id,
            username: du.to_string(),
            domain: Some(dd.to_string()),
            acct: acct.clone(),
            display_name: format!("Not {user}"),
            locked: false,
            bot: false,
            group: false,
            discoverable: Some(true),
            moved_to: None,
            suspended: false,
            followers_count: 3,
            created_at: ctx.now,
            decoy: true,
            last_webfingered_at: None,
            uri: format!("https://{dd}/users/{du}"),
            url: format!("https://{dd}/@{du}"),
        });
    }
}

/// `GET /api/v2/search`. Account results are fuzzy: look-alikes come before the exact match.
pub fn search(ctx: &mut Ctx) -> HResult {
    let auth = ctx.optional(&["read", "read:search"])?;
    let user_id = auth.and_then(|a| a.account_id);
    let p = ctx.req.params.clone();
    let q = p.present("q").ok_or_else(|| {
        Resp::error(
            StatusCode::BAD_REQUEST,
            "param is missing or the value is empty: q",
        )
    })?;
    let resolve = p.bool("resolve", false);
    let offset = p.usize("offset").unwrap_or(0);
    if (resolve || offset > 0) && user_id.is_none() {
        return Err(Resp::error(
            StatusCode::UNAUTHORIZED,
            "Search queries that resolve remote resources are not supported without authentication",
        ));
    }
    let limit = limit_param(ctx.req, 20, 40);
    let kind = p.get("type");
    let want = |k: &str| kind.is_none_or(|t| t == k);
    let mut accounts: Vec<Value> = Vec::new();
    let mut statuses: Vec<Value> = Vec::new();
    let query = parse_query(q);
    if want("accounts") {
        let ids = search_accounts(ctx, &query, resolve);
        accounts = ids
            .iter()
            .skip(offset)
            .take(limit)
            .filter_map(|id| ctx.st.account(id))
            .map(|a| entities::account(ctx.st, a))
            .collect();
    }
    if want("statuses") {
        if let Query::Url(url) = &query {
            if let Some(id) = find_status_by_url(ctx, url, resolve) {
                let s = ctx
                    .st
                    .statuses
                    .iter()
                    .find(|s| s.id == id)
                    .expect("status")
                    .clone();
                statuses.push(entities::status(ctx.st, &s, user_id.as_deref(), false));
            }
        }
    }
    Ok(Resp::ok(json!({
        "accounts": accounts,
        "statuses": statuses,
        "hashtags": [],
    })))
}

fn search_accounts(ctx: &mut Ctx, query: &Query, resolve: bool) -> Vec<String> {
    match query {
        Query::Url(url) => {
            let Some((user, domain)) = webfinger::parse_resource(url) else {
                return Vec::new();
            };
            let found = if resolve {
                webfinger::resolve_account(ctx.st, &user, &domain, ctx.now)
            } else {
                ctx.st.account_id(&format!("{user}@{domain}"))
            };
            found.into_iter().collect()
        }
        Query::Handle { user, domain } => {
            let exact = match domain {
                Some(d) if resolve => webfinger::resolve_account(ctx.st, user, d, ctx.now),
                Some(d) => ctx.st.account_id(&format!("{user}@{d}")),
                None => ctx.st.account_id(user),
            };
            if let Some(d) = domain {
                ensure_decoys(ctx, user, d);
            }
            fuzzy(ctx.st, user, exact)
        }
        Query::Words(words) => {
            let first = words.split_whitespace().next().unwrap_or_default();
            let exact = ctx.st.account_id(first);
            fuzzy(ctx.st, first, exact)
        }
    }
}

/// Accounts whose username starts with `prefix`, the exact match last.
/// Accounts whose username starts with `prefix`: `search_decoys` look-alikes (the same
/// username first), then the exact match, then the other look-alikes. Mastodon ranks the
/// exact match first; the fake puts it after a few look-alikes so that a client that takes
/// `accounts[0]` fails, while `limit=search_decoys+1` or more still finds it.
fn fuzzy(st: &State, prefix: &str, exact: Option<String>) -> Vec<String> {
    let prefix = prefix.to_lowercase();
    let mut others: Vec<&Account> = st
        .accounts
        .iter()
        .filter(|a| !a.suspended && Some(&a.id) != exact.as_ref())
        .filter(|a| a.username.to_lowercase().starts_with(&prefix))
        .collect();
    // Stable: same username first, then longer ones, each in database order.
    others.sort_by_key(|a| a.username.to_lowercase() != prefix);
    let mut ids: Vec<String> = others.iter().map(|a| a.id.clone()).collect();
    let at = st.config.search_decoys.min(ids.len());
    if let Some(exact) = exact {
        ids.insert(at, exact);
    }
    ids
}

fn find_status_by_url(ctx: &mut Ctx, url: &str, resolve: bool) -> Option<String> {
    if let Some(s) = ctx.st.statuses.iter().find(|s| s.url == url && !s.deleted) {
        return Some(s.id.clone());
    }
    if !resolve {
        return None;
    }
    let remote = ctx
        .st
        .remote_statuses
        .iter()
        .find(|r| r.url == url)?
        .clone();
    let (user, domain) = remote.author_acct.split_once('@')?;
    let author = webfinger::resolve_account(ctx.st, user, domain, ctx.now)?;
    let id = ctx.st.snowflake(ctx.now);
    ctx.st.statuses.push(super::super::state::Status {
        id: id.clone(),
        account_id: author,
        text: remote.text.clone(),
        spoiler_text: String::new(),
        sensitive: false,
        visibility: "public".into(),
        language: None,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        media_ids: Vec::new(),
        idempotency_key: None,
        created_at: ctx.now,
        scheduled_at: None,
        deleted: false,
        url: remote.url.clone(),
    });
    Some(id)
}

fn target(ctx: &Ctx, id: &str) -> Result<Account, Resp> {
    ctx.st
        .account(id)
        .filter(|a| !a.suspended)
        .cloned()
        .ok_or_else(not_found)
}

fn relationship_resp(ctx: &Ctx, me: &str, target: &Account) -> Resp {
    Resp::ok(entities::relationship(ctx.st, me, target))
}

/// `POST /api/v1/accounts/:id/follow`. The answer for an unlocked target is optimistic
/// (`following: true`) even while the stored follow is a request waiting for the remote
/// Accept; only `relationships` tells the truth.
pub fn follow(ctx: &mut Ctx, id: &str) -> HResult {
    let me = ctx.user(FOLLOW_SCOPES)?;
    let result = follow_inner(ctx, &me, id);
    let family = Family::follows(ctx.st).headers(ctx.st, &me, ctx.now);
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

fn follow_inner(ctx: &mut Ctx, me: &str, id: &str) -> HResult {
    let target = target(ctx, id)?;
    if target.id == me {
        return Err(Resp::error(
            StatusCode::FORBIDDEN,
            "Following your own account is not allowed",
        ));
    }
    let blocked = ctx.st.blocks.iter().any(|b| {
        (b.account_id == me && b.target_id == target.id)
            || (b.account_id == target.id && b.target_id == me)
    });
    let domain_blocked = target.domain.as_ref().is_some_and(|d| {
        ctx.st
            .domain_blocks
            .iter()
            .any(|b| b.account_id == me && b.domain.eq_ignore_ascii_case(d))
    });
    if blocked || domain_blocked || target.moved_to.is_some() {
        return Err(Resp::error(
            StatusCode::FORBIDDEN,
            "This action is not allowed",
        ));
    }
    let p = ctx.req.params.clone();
    let reblogs = p.has("reblogs").then(|| p.bool("reblogs", true));
    let notify = p.has("notify").then(|| p.bool("notify", false));
    let languages: Option<Vec<String>> = p.has("languages").then(|| {
        p.all("languages")
            .into_iter()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    });
    let existing = ctx
        .st
        .follows
        .iter()
        .position(|f| f.account_id == me && f.target_id == target.id);
    let index = match existing {
        // Already following or requested: only the options change, no budget is spent.
        Some(i) => {
            let f = &mut ctx.st.follows[i];
            if let Some(r) = reblogs {
                f.reblogs = r;
            }
            if let Some(n) = notify {
                f.notify = n;
            }
            if let Some(l) = languages {
                f.languages = (!l.is_empty()).then_some(l);
            }
            i
        }
        None => {
            let following = ctx.st.following_count(me);
            let me_account = ctx.st.account(me).expect("token account exists");
            let threshold = ctx.st.config.follow_limit;
            let limit = if following < threshold {
                threshold
            } else {
                (ctx.st.followers_count(me_account) as f64 * ctx.st.config.follow_ratio) as u64
            };
            if following >= limit {
                return Err(unprocessable(&format!(
                    "Validation failed: You can't follow more than {limit} people"
                )));
            }
            if !Family::follows(ctx.st).record(ctx.st, me, ctx.now) {
                ctx.st.note_rate_limited("follows");
                return Err(Resp::error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many requests",
                ));
            }
            let pending =
                target.locked || (!target.is_local() && !ctx.st.config.remote_accepts_immediately);
            let follow_id = ctx.st.serial() + 100_000;
            ctx.st.follows.push(Follow {
                id: follow_id,
                account_id: me.to_string(),
                target_id: target.id.clone(),
                reblogs: reblogs.unwrap_or(true),
                notify: notify.unwrap_or(false),
                languages: languages.filter(|l| !l.is_empty()),
                pending,
                created_at: ctx.now,
            });
            ctx.st.follows.len() - 1
        }
    };
    let mut rel = entities::relationship(ctx.st, me, &target);
    if !target.locked {
        let f = &ctx.st.follows[index];
        rel["following"] = json!(true);
        rel["requested"] = json!(false);
        rel["showing_reblogs"] = json!(f.reblogs);
        rel["notifying"] = json!(f.notify);
        rel["languages"] = json!(f.languages);
    }
    Ok(Resp::ok(rel))
}

pub fn unfollow(ctx: &mut Ctx, id: &str) -> HResult {
    let me = ctx.user(FOLLOW_SCOPES)?;
    let target = target(ctx, id)?;
    ctx.st
        .follows
        .retain(|f| !(f.account_id == me && f.target_id == target.id));
    Ok(relationship_resp(ctx, &me, &target))
}

pub fn block(ctx: &mut Ctx, id: &str, on: bool) -> HResult {
    let me = ctx.user(&["follow", "write", "write:blocks"])?;
    let target = target(ctx, id)?;
    ctx.st
        .blocks
        .retain(|b| !(b.account_id == me && b.target_id == target.id));
    if on {
        ctx.st.blocks.push(Block {
            account_id: me.clone(),
            target_id: target.id.clone(),
        });
        ctx.st.follows.retain(|f| {
            !((f.account_id == me && f.target_id == target.id)
                || (f.account_id == target.id && f.target_id == me))
        });
    }
    Ok(relationship_resp(ctx, &me, &target))
}

pub fn mute(ctx: &mut Ctx, id: &str, on: bool) -> HResult {
    let me = ctx.user(&["follow", "write", "write:mutes"])?;
    let target = target(ctx, id)?;
    ctx.st
        .mutes
        .retain(|m| !(m.account_id == me && m.target_id == target.id));
    if on {
        let notifications = ctx.req.params.bool("notifications", true);
        let duration = ctx.req.params.usize("duration").unwrap_or(0);
        ctx.st.mutes.push(Mute {
            account_id: me.clone(),
            target_id: target.id.clone(),
            notifications,
            expires_at: (duration > 0)
                .then(|| ctx.now + chrono::Duration::seconds(duration as i64)),
        });
    }
    Ok(relationship_resp(ctx, &me, &target))
}

/// `GET /api/v1/accounts/relationships`: in the order asked, unknown ids left out.
pub fn relationships(ctx: &mut Ctx) -> HResult {
    let me = ctx.user(&["read", "read:follows"])?;
    let with_suspended = ctx.req.params.bool("with_suspended", false);
    let rels: Vec<Value> = ctx
        .req
        .params
        .all("id")
        .iter()
        .filter_map(|id| ctx.st.account(id))
        .filter(|a| with_suspended || !a.suspended)
        .map(|a| entities::relationship(ctx.st, &me, a))
        .collect();
    Ok(Resp::ok(Value::Array(rels)))
}

/// `GET /api/v1/accounts/:id/following`: accepted follows only, newest first, paginated by
/// internal follow ids through `Link`.
pub fn following(ctx: &mut Ctx, id: &str) -> HResult {
    ctx.optional(&["read", "read:accounts"])?;
    let account = ctx.st.account(id).ok_or_else(not_found)?.clone();
    let limit = limit_param(ctx.req, 40, 80);
    let p = &ctx.req.params;
    let max_id = p.present("max_id").and_then(|v| v.parse::<u64>().ok());
    let since_id = p.present("since_id").and_then(|v| v.parse::<u64>().ok());
    let min_id = p.present("min_id").and_then(|v| v.parse::<u64>().ok());
    let mut follows: Vec<&Follow> = ctx
        .st
        .follows
        .iter()
        .filter(|f| f.account_id == account.id && !f.pending)
        .filter(|f| max_id.is_none_or(|m| f.id < m))
        .filter(|f| since_id.is_none_or(|s| f.id > s))
        .filter(|f| min_id.is_none_or(|s| f.id > s))
        .collect();
    follows.sort_by_key(|f| std::cmp::Reverse(f.id));
    if min_id.is_some() {
        // min_id pages upwards: the oldest ones after min_id, still shown newest first.
        let n = follows.len();
        follows = follows.split_off(n.saturating_sub(limit));
    }
    follows.truncate(limit);
    let page: Vec<(u64, String)> = follows
        .iter()
        .map(|f| (f.id, f.target_id.clone()))
        .collect();
    let body: Vec<Value> = page
        .iter()
        .filter_map(|(_, t)| ctx.st.account(t))
        .map(|a| entities::account(ctx.st, a))
        .collect();
    let mut resp = Resp::ok(Value::Array(body));
    if let Some(link) = link_header(
        ctx.req,
        limit,
        page.len(),
        page.last().map(|(id, _)| id.to_string()),
        page.first().map(|(id, _)| id.to_string()),
        "since_id",
    ) {
        resp = resp.header("Link", &link);
    }
    Ok(resp)
}

pub fn domain_blocks(ctx: &mut Ctx) -> HResult {
    let me = ctx.user(&["follow", "read", "read:blocks"])?;
    let domains: Vec<&str> = ctx
        .st
        .domain_blocks
        .iter()
        .filter(|b| b.account_id == me)
        .map(|b| b.domain.as_str())
        .collect();
    Ok(Resp::ok(json!(domains)))
}

pub fn domain_block(ctx: &mut Ctx, on: bool) -> HResult {
    let me = ctx.user(&["follow", "write", "write:blocks"])?;
    let domain = ctx
        .req
        .params
        .present("domain")
        .ok_or_else(|| unprocessable("Validation failed: Domain can't be blank"))?
        .trim()
        .to_ascii_lowercase();
    if domain.contains('/') || domain.contains('@') || !domain.contains('.') {
        return Err(unprocessable(
            "Validation failed: Domain is not a valid domain",
        ));
    }
    ctx.st
        .domain_blocks
        .retain(|b| !(b.account_id == me && b.domain == domain));
    if on {
        ctx.st.domain_blocks.push(DomainBlock {
            account_id: me.clone(),
            domain: domain.clone(),
        });
        // AfterBlockDomainFromAccountService: follows to and from that domain end.
        let on_domain: Vec<String> = ctx
            .st
            .accounts
            .iter()
            .filter(|a| a.domain.as_deref() == Some(domain.as_str()))
            .map(|a| a.id.clone())
            .collect();
        ctx.st.follows.retain(|f| {
            !((f.account_id == me && on_domain.contains(&f.target_id))
                || (f.target_id == me && on_domain.contains(&f.account_id)))
        });
    }
    Ok(Resp::ok(json!({})))
}

fn my_list<'a>(st: &'a State, me: &str, id: &str) -> Result<&'a List, Resp> {
    st.lists
        .iter()
        .find(|l| l.id == id && l.account_id == me)
        .ok_or_else(not_found)
}

pub fn lists(ctx: &mut Ctx) -> HResult {
    let me = ctx.user(&["read", "read:lists"])?;
    let lists: Vec<Value> = ctx
        .st
        .lists
        .iter()
        .filter(|l| l.account_id == me)
        .map(entities::list)
        .collect();
    Ok(Resp::ok(Value::Array(lists)))
}

pub fn create_list(ctx: &mut Ctx) -> HResult {
    let me = ctx.user(&["write", "write:lists"])?;
    let p = ctx.req.params.clone();
    let title = p
        .present("title")
        .ok_or_else(|| unprocessable("Validation failed: Title can't be blank"))?;
    let replies_policy = p.present("replies_policy").unwrap_or("list");
    if !["followed", "list", "none"].contains(&replies_policy) {
        return Err(unprocessable(&format!(
            "'{replies_policy}' is not a valid replies_policy"
        )));
    }
    let list = List {
        id: ctx.st.serial().to_string(),
        account_id: me,
        title: title.to_string(),
        replies_policy: replies_policy.to_string(),
        exclusive: p.bool("exclusive", false),
        members: Vec::new(),
    };
    let body = entities::list(&list);
    ctx.st.lists.push(list);
    Ok(Resp::ok(body))
}

pub fn show_list(ctx: &mut Ctx, id: &str) -> HResult {
    let me = ctx.user(&["read", "read:lists"])?;
    Ok(Resp::ok(entities::list(my_list(ctx.st, &me, id)?)))
}

pub fn delete_list(ctx: &mut Ctx, id: &str) -> HResult {
    let me = ctx.user(&["write", "write:lists"])?;
    my_list(ctx.st, &me, id)?;
    ctx.st.lists.retain(|l| l.id != id);
    Ok(Resp::ok(json!({})))
}

pub fn list_accounts(ctx: &mut Ctx, id: &str) -> HResult {
    let me = ctx.user(&["read", "read:lists"])?;
    let list = my_list(ctx.st, &me, id)?;
    let accounts: Vec<Value> = list
        .members
        .iter()
        .filter_map(|m| ctx.st.account(m))
        .map(|a| entities::account(ctx.st, a))
        .collect();
    Ok(Resp::ok(Value::Array(accounts)))
}

/// `POST|DELETE /api/v1/lists/:id/accounts`. Adding needs a follow (or follow request) of
/// the account, as `ListAccount` validates.
pub fn add_to_list(ctx: &mut Ctx, id: &str, add: bool) -> HResult {
    let me = ctx.user(&["write", "write:lists"])?;
    my_list(ctx.st, &me, id)?;
    let ids: Vec<String> = ctx
        .req
        .params
        .all("account_ids")
        .iter()
        .map(|s| s.to_string())
        .collect();
    if add {
        for account_id in &ids {
            ctx.st.account(account_id).ok_or_else(not_found)?;
            let followed = account_id == &me
                || ctx
                    .st
                    .follows
                    .iter()
                    .any(|f| f.account_id == me && &f.target_id == account_id);
            if !followed {
                return Err(unprocessable(
                    "Validation failed: Account follow relationship missing",
                ));
            }
            let list = ctx.st.lists.iter().find(|l| l.id == id).expect("list");
            if list.members.contains(account_id) {
                return Err(unprocessable(
                    "Validation failed: Account has already been taken",
                ));
            }
        }
        let list = ctx.st.lists.iter_mut().find(|l| l.id == id).expect("list");
        list.members.extend(ids);
    } else {
        let list = ctx.st.lists.iter_mut().find(|l| l.id == id).expect("list");
        list.members.retain(|m| !ids.contains(m));
    }
    Ok(Resp::ok(json!({})))
}
