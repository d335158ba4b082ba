//! Remote hosts: what they answer to WebFinger and host-meta (one behaviour per host, see
//! `WebfingerBehavior`), and how the home server's `ResolveAccountService` fares against them
//! when a search asks it to resolve (MASTODON.md §4.3): up to three redirects, host-meta on
//! 404, 410 = gone, a subject in another domain is confirmed by a second lookup.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::config::WebfingerBehavior;
use super::request::{BodyStream, Req, Resp};
use super::state::{Account, RemoteAccount, State};

const JRD: &str = "application/jrd+json; charset=utf-8";
const AS_PROFILE: &str = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// The behaviour of `host`, or None when it is not served.
pub fn behavior_for(st: &State, host: &str) -> Option<WebfingerBehavior> {
    let host = host.to_ascii_lowercase();
    if let Some(b) = st.config.webfinger_hosts.get(&host) {
        return (*b != WebfingerBehavior::Unserved).then(|| b.clone());
    }
    for b in st.config.webfinger_hosts.iter() {
        if let (account_domain, WebfingerBehavior::SplitDomain { web_host }) = b {
            if web_host.eq_ignore_ascii_case(&host) {
                return Some(WebfingerBehavior::WebDomain {
                    account_domain: account_domain.clone(),
                });
            }
        }
    }
    let implied = st.config.extra_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host))
        || st.remote_accounts.iter().any(|a| domain_of(&a.acct).eq_ignore_ascii_case(&host))
        || st.config.webfinger_hosts.values().any(|b| {
            matches!(b, WebfingerBehavior::Canonicalizes { to } if to.eq_ignore_ascii_case(&host))
        });
    implied.then_some(WebfingerBehavior::Mastodon)
}

/// Every host name the server answers for (and puts in its certificate).
pub fn served_hosts(st: &State) -> BTreeSet<String> {
    let mut candidates: BTreeSet<String> = BTreeSet::new();
    candidates.extend(st.config.webfinger_hosts.keys().cloned());
    for b in st.config.webfinger_hosts.values() {
        match b {
            WebfingerBehavior::SplitDomain { web_host } => {
                candidates.insert(web_host.clone());
            }
            WebfingerBehavior::Canonicalizes { to } => {
                candidates.insert(to.clone());
            }
            _ => {}
        }
    }
    candidates.extend(st.config.extra_hosts.iter().cloned());
    candidates.extend(
        st.remote_accounts
            .iter()
            .map(|a| domain_of(&a.acct).to_string()),
    );
    let mut served: BTreeSet<String> = candidates
        .into_iter()
        .map(|h| h.to_ascii_lowercase())
        .filter(|h| behavior_for(st, h).is_some())
        .collect();
    served.insert(st.config.home_host.to_ascii_lowercase());
    served
}

pub fn domain_of(acct: &str) -> &str {
    acct.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

fn user_of(acct: &str) -> &str {
    acct.trim_start_matches('@')
        .split_once('@')
        .map(|(u, _)| u)
        .unwrap_or(acct)
}

fn remote<'a>(st: &'a State, user: &str, domain: &str) -> Option<&'a RemoteAccount> {
    st.remote_accounts.iter().find(|a| {
        user_of(&a.acct).eq_ignore_ascii_case(user)
            && domain_of(&a.acct).eq_ignore_ascii_case(domain)
    })
}

/// `acct:user@host`, `user@host`, `https://host/@user`, `https://host/users/user`.
pub fn parse_resource(resource: &str) -> Option<(String, String)> {
    let r = resource.trim();
    if let Some(rest) = r
        .strip_prefix("https://")
        .or_else(|| r.strip_prefix("http://"))
    {
        let (host, path) = rest.split_once('/')?;
        let user = path
            .strip_prefix('@')
            .or_else(|| path.strip_prefix("users/"))
            .or_else(|| path.strip_prefix("u/"))?;
        let user = user.trim_end_matches('/');
        return (!user.is_empty() && !user.contains('/'))
            .then(|| (user.to_string(), host.to_ascii_lowercase()));
    }
    let r = r.strip_prefix("acct:").unwrap_or(r).trim_start_matches('@');
    let (user, host) = r.split_once('@')?;
    (!user.is_empty() && !host.is_empty() && !host.contains('@'))
        .then(|| (user.to_string(), host.to_ascii_lowercase()))
}

/// Whether a remote request must wait first (the `Slow` behaviour), in real time.
pub fn delay_for(st: &State, host: &str) -> Option<std::time::Duration> {
    match behavior_for(st, host) {
        Some(WebfingerBehavior::Slow { delay }) => Some(delay),
        _ => None,
    }
}

/// Answers a request to a remote host.
pub fn serve(st: &State, host: &str, behavior: &WebfingerBehavior, req: &Req) -> Resp {
    let path = req.path.as_str();
    match path {
        "/.well-known/webfinger" => webfinger(st, host, behavior, req),
        "/.well-known/host-meta" => host_meta(host, behavior, req),
        _ => match behavior {
            WebfingerBehavior::HostMetaFallback { lrdd_path } if lrdd_path == path => {
                jrd_response(st, host, &WebfingerBehavior::Mastodon, req)
            }
            _ => Resp::new(StatusCode::NOT_FOUND),
        },
    }
}

fn webfinger(st: &State, host: &str, behavior: &WebfingerBehavior, req: &Req) -> Resp {
    use WebfingerBehavior as B;
    let cached = |r: Resp| r.header("Cache-Control", "max-age=180, public");
    match behavior {
        B::NotFound | B::HostMetaFallback { .. } => cached(Resp::new(StatusCode::NOT_FOUND)),
        B::Gone => cached(Resp::new(StatusCode::GONE)),
        B::SplitDomain { web_host } => Resp::redirect(
            StatusCode::MOVED_PERMANENTLY,
            &format!("https://{web_host}/.well-known/webfinger?{}", req.raw_query),
        )
        .header("Access-Control-Allow-Origin", "*"),
        B::RedirectLoop => {
            let hop = req.query.usize("hop").unwrap_or(0) + 1;
            let resource = req.query.get("resource").unwrap_or_default();
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("resource", resource)
                .append_pair("hop", &hop.to_string())
                .finish();
            Resp::redirect(
                StatusCode::FOUND,
                &format!("https://{host}/.well-known/webfinger?{query}"),
            )
        }
        B::RedirectToHttp => Resp::redirect(
            StatusCode::MOVED_PERMANENTLY,
            &format!("http://{host}/.well-known/webfinger?{}", req.raw_query),
        ),
        B::InvalidJson => Resp::text(
            StatusCode::OK,
            JRD,
            format!(
                "{{\"subject\":\"acct:{}\",\"links\":[{{\"rel\":\"self\",<html>oops",
                req.query.get("resource").unwrap_or_default()
            ),
        ),
        B::RedirectTo { location } => Resp::redirect(StatusCode::FOUND, location),
        B::Endless { chunk, every } => {
            let resource = req.query.get("resource").unwrap_or_default();
            let prefix = json!({ "subject": resource }).to_string();
            // The object is never closed: `{"subject":"…","padding":"xxxx…` forever.
            let prefix = format!("{},\"padding\":\"", prefix.trim_end_matches('}'));
            Resp::streamed(
                StatusCode::OK,
                JRD,
                BodyStream {
                    prefix: prefix.into(),
                    chunk: vec![b'x'; (*chunk).max(1)].into(),
                    every: *every,
                    total: None,
                },
            )
        }
        _ => jrd_response(st, host, behavior, req),
    }
}

fn host_meta(host: &str, behavior: &WebfingerBehavior, req: &Req) -> Resp {
    use WebfingerBehavior as B;
    let template_path = match behavior {
        B::NotFound => return Resp::new(StatusCode::NOT_FOUND),
        B::Gone => return Resp::new(StatusCode::GONE),
        B::SplitDomain { web_host } => {
            let q = if req.raw_query.is_empty() {
                String::new()
            } else {
                format!("?{}", req.raw_query)
            };
            return Resp::redirect(
                StatusCode::MOVED_PERMANENTLY,
                &format!("https://{web_host}/.well-known/host-meta{q}"),
            );
        }
        B::HostMetaFallback { lrdd_path } => lrdd_path.clone(),
        _ => "/.well-known/webfinger".to_string(),
    };
    let xrd = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Link rel=\"lrdd\" type=\"application/jrd+json\" template=\"https://{host}{template_path}?resource={{uri}}\"/>\n</XRD>\n"
    );
    Resp::text(StatusCode::OK, "application/xrd+xml; charset=utf-8", xrd)
}

/// The domain accounts asked at `host` live in, and the host their actors are on.
fn domains(host: &str, behavior: &WebfingerBehavior) -> (String, String) {
    match behavior {
        WebfingerBehavior::WebDomain { account_domain } => (account_domain.clone(), host.into()),
        WebfingerBehavior::Canonicalizes { to } => (to.clone(), to.clone()),
        WebfingerBehavior::ForeignActor { actor_host } => (host.to_string(), actor_host.clone()),
        _ => (host.to_string(), host.to_string()),
    }
}

fn jrd_response(st: &State, host: &str, behavior: &WebfingerBehavior, req: &Req) -> Resp {
    let Some(resource) = req.query.present("resource") else {
        return Resp::new(StatusCode::BAD_REQUEST);
    };
    let Some((user, asked_domain)) = parse_resource(resource) else {
        return Resp::new(StatusCode::BAD_REQUEST);
    };
    let (account_domain, actor_host) = domains(host, behavior);
    let domain_ok = asked_domain.eq_ignore_ascii_case(host)
        || asked_domain.eq_ignore_ascii_case(&account_domain);
    let Some(account) = remote(st, &user, &account_domain).filter(|_| domain_ok) else {
        return Resp::new(StatusCode::NOT_FOUND).header("Cache-Control", "max-age=180, public");
    };
    let mut doc = jrd(account, &actor_host, behavior);
    if let WebfingerBehavior::ClaimsSubject { domain } = behavior {
        doc["subject"] = json!(format!("acct:{}@{domain}", user_of(&account.acct)));
    }
    if let WebfingerBehavior::Huge { bytes } = behavior {
        let current = serde_json::to_vec(&doc).expect("json").len();
        let pad = bytes.saturating_sub(current + 64);
        doc["properties"] = json!({ "https://example.org/ns/padding": "x".repeat(pad) });
    }
    let cache = match behavior {
        WebfingerBehavior::Misskey => "public, max-age=180",
        _ => "max-age=259200, public",
    };
    Resp::text(
        StatusCode::OK,
        JRD,
        serde_json::to_vec(&doc).expect("serializable"),
    )
    .header("Cache-Control", cache)
    .header("Access-Control-Allow-Origin", "*")
    .header("Vary", "Accept")
}

fn jrd(account: &RemoteAccount, actor_host: &str, behavior: &WebfingerBehavior) -> Value {
    let user = user_of(&account.acct);
    let subject = format!("acct:{}", account.acct);
    let profile = format!("https://{actor_host}/@{user}");
    let actor = format!("https://{actor_host}/users/{user}");
    match behavior {
        WebfingerBehavior::Pleroma => json!({
            "aliases": [actor],
            "links": [
                {"href": actor, "rel": "http://webfinger.net/rel/profile-page", "type": "text/html"},
                {"href": actor, "rel": "self", "type": "application/activity+json"},
                {"href": actor, "rel": "self", "type": AS_PROFILE},
                {"rel": "http://ostatus.org/schema/1.0/subscribe",
                 "template": format!("https://{actor_host}/ostatus_subscribe?acct={{uri}}")},
            ],
            "subject": subject,
        }),
        WebfingerBehavior::Misskey => {
            let opaque = opaque_id(&account.acct);
            json!({
                "subject": subject,
                "links": [
                    {"rel": "self", "type": "application/activity+json",
                     "href": format!("https://{actor_host}/users/{opaque}")},
                    {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
                     "href": profile},
                    {"rel": "http://ostatus.org/schema/1.0/subscribe",
                     "template": format!("https://{actor_host}/authorize-follow?acct={{uri}}")},
                ],
            })
        }
        WebfingerBehavior::Lemmy => json!({
            "subject": subject,
            "links": [
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
                 "href": format!("https://{actor_host}/u/{user}"), "template": null},
                {"rel": "self", "type": "application/activity+json",
                 "href": format!("https://{actor_host}/u/{user}"), "template": null,
                 "properties": {"https://www.w3.org/ns/activitystreams#type": "Person"}},
                {"rel": "http://ostatus.org/schema/1.0/subscribe", "type": null, "href": null,
                 "template": format!("https://{actor_host}/activitypub/externalInteraction?uri={{uri}}")},
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
                 "href": format!("https://{actor_host}/c/{user}"), "template": null},
                {"rel": "self", "type": "application/activity+json",
                 "href": format!("https://{actor_host}/c/{user}"), "template": null,
                 "properties": {"https://www.w3.org/ns/activitystreams#type": "Group"}},
            ],
        }),
        _ => json!({
            "subject": subject,
            "aliases": [profile, actor],
            "links": [
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile},
                {"rel": "self", "type": "application/activity+json", "href": actor},
                {"rel": "http://ostatus.org/schema/1.0/subscribe",
                 "template": format!("https://{actor_host}/authorize_interaction?uri={{uri}}")},
                {"rel": "http://webfinger.net/rel/avatar", "type": "image/png",
                 "href": format!("https://{actor_host}/avatars/original/missing.png")},
            ],
        }),
    }
}

/// A Misskey-style opaque id derived from the handle.
fn opaque_id(acct: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in acct.to_ascii_lowercase().bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    format!("9{:x}", h % 0x00ff_ffff_ffff)
}

/// The subject Mastodon's WebFinger client gets for `acct:user@host`, or why not.
#[derive(Debug)]
enum Finger {
    Subject {
        user: String,
        domain: String,
        group: bool,
    },
    Gone,
    Failed,
}

fn finger(st: &State, user: &str, host: &str) -> Finger {
    use WebfingerBehavior as B;
    let Some(behavior) = behavior_for(st, host) else {
        return Finger::Failed;
    };
    let (account_domain, group) = match &behavior {
        B::NotFound
        | B::InvalidJson
        | B::RedirectLoop
        | B::RedirectToHttp
        // Mastodon reads at most 1 MB of a WebFinger answer.
        | B::Huge { .. }
        // Mastodon's WebFinger client times out, and caps what it reads.
        | B::Endless { .. }
        // The tests only give targets Mastodon refuses to follow.
        | B::RedirectTo { .. }
        // The actor's host does not answer for it: `check_webfinger!` fails.
        | B::ForeignActor { .. }
        | B::Unserved => return Finger::Failed,
        // The subject's domain decides: `resolve_account` asks it to confirm.
        B::ClaimsSubject { domain } => {
            return match remote(st, user, host) {
                Some(a) => Finger::Subject {
                    user: user_of(&a.acct).to_string(),
                    domain: domain.clone(),
                    group: false,
                },
                None => Finger::Failed,
            };
        }
        B::Gone => return Finger::Gone,
        // The account domain redirects to the web host, which answers in the account domain.
        B::SplitDomain { .. } => (host.to_string(), false),
        B::WebDomain { account_domain } => (account_domain.clone(), false),
        B::Canonicalizes { to } => (to.clone(), false),
        // Mastodon keeps the last `self` link: Lemmy lists the Group last.
        B::Lemmy => (host.to_string(), true),
        B::Mastodon | B::Pleroma | B::Misskey | B::Slow { .. } | B::HostMetaFallback { .. } => {
            (host.to_string(), false)
        }
    };
    match remote(st, user, &account_domain) {
        Some(a) => Finger::Subject {
            user: user_of(&a.acct).to_string(),
            domain: domain_of(&a.acct).to_string(),
            group,
        },
        None => Finger::Failed,
    }
}

/// `ResolveAccountService`: finds or learns `user@domain` through WebFinger. Returns the id of
/// the (now known) account.
pub fn resolve_account(
    st: &mut State,
    user: &str,
    domain: &str,
    now: DateTime<Utc>,
) -> Option<String> {
    if domain.eq_ignore_ascii_case(&st.config.home_host) {
        return st.account_id(user);
    }
    let known = st
        .accounts
        .iter()
        .position(|a| a.acct.eq_ignore_ascii_case(&format!("{user}@{domain}")));
    if let Some(i) = known {
        let a = &st.accounts[i];
        let fresh = a
            .last_webfingered_at
            .is_some_and(|t| now - t < chrono::Duration::days(1));
        if a.suspended || a.decoy || fresh {
            return (!a.suspended).then(|| a.id.clone());
        }
    }
    let (user, domain, group) = match finger(st, user, domain) {
        Finger::Subject {
            user: su,
            domain: sd,
            group,
        } => {
            if su.eq_ignore_ascii_case(user) && sd.eq_ignore_ascii_case(domain) {
                (su, sd, group)
            } else {
                // A subject elsewhere is a redirect: the second lookup must agree.
                match finger(st, &su, &sd) {
                    Finger::Subject {
                        user: u2,
                        domain: d2,
                        group,
                    } if u2 == su && d2 == sd => (su, sd, group),
                    _ => return None,
                }
            }
        }
        Finger::Gone => {
            // A 410 suspends the cached account.
            if let Some(i) = known {
                st.accounts[i].suspended = true;
            }
            return None;
        }
        // Other errors keep whatever the database had.
        Finger::Failed => return known.map(|i| st.accounts[i].id.clone()),
    };
    if let Some(i) = st
        .accounts
        .iter()
        .position(|a| a.acct.eq_ignore_ascii_case(&format!("{user}@{domain}")))
    {
        st.accounts[i].last_webfingered_at = Some(now);
        return Some(st.accounts[i].id.clone());
    }
    let spec = remote(st, &user, &domain)?.clone();
    let id = learn_remote(st, &spec, group, now);
    Some(id)
}

/// Adds a remote account to the home server's database (and the account it moved to).
pub fn learn_remote(
    st: &mut State,
    spec: &RemoteAccount,
    group: bool,
    now: DateTime<Utc>,
) -> String {
    if let Some(existing) = st.account_id(&spec.acct) {
        return existing;
    }
    if let Some(target) = &spec.moved_to {
        if st.account_by_acct(target).is_none() {
            let target_spec = remote(st, user_of(target), domain_of(target))
                .cloned()
                .unwrap_or_else(|| RemoteAccount {
                    acct: target.clone(),
                    locked: false,
                    moved_to: None,
                    display_name: String::new(),
                    bot: false,
                    discoverable: Some(true),
                });
            learn_remote(st, &target_spec, false, now);
        }
    }
    let user = user_of(&spec.acct).to_string();
    let domain = domain_of(&spec.acct).to_string();
    let actor_host = actor_host_for(st, &domain);
    let id = st.snowflake(now);
    st.accounts.push(Account {
        id: id.clone(),
        username: user.clone(),
        domain: Some(domain),
        acct: spec.acct.clone(),
        display_name: spec.display_name.clone(),
        locked: spec.locked,
        bot: spec.bot,
        group,
        discoverable: spec.discoverable,
        moved_to: spec.moved_to.clone(),
        suspended: false,
        followers_count: 0,
        created_at: now,
        decoy: false,
        last_webfingered_at: Some(now),
        uri: format!("https://{actor_host}/users/{user}"),
        url: format!("https://{actor_host}/@{user}"),
    });
    id
}

/// Where the actors of an account domain live (the web host of a split domain).
fn actor_host_for(st: &State, domain: &str) -> String {
    match st.config.webfinger_hosts.get(&domain.to_ascii_lowercase()) {
        Some(WebfingerBehavior::SplitDomain { web_host }) => web_host.clone(),
        _ => domain.to_string(),
    }
}
