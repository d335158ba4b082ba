//! WebFinger (RFC 7033): is `user@host` a real ActivityPub account, and what is its canonical
//! handle and actor URL?
//!
//! Done client-side, before the target server is touched, so dead and non-existent accounts
//! cost none of its rate limit. The rules follow what Mastodon itself does (MASTODON.md §4):
//! HTTPS only, at most 3 redirects and never to `http:` (both enforced by the HTTP funnel),
//! host-meta's LRDD template on a 404, 410 = gone, a small size cap and a short timeout. The
//! `self` link must have an ActivityPub media type; with several, the one typed `Person` (or
//! `Service`) wins, else the last, as in Mastodon. A subject in another domain is adopted as
//! the canonical handle only after one confirming lookup there agrees.
//!
//! [`Resolver`] bounds concurrency globally and per host, and backs off a host that fails
//! rather than failing every handle on it at once; a host that keeps failing is reported as
//! unreachable, not retried forever.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use url::Url;

use super::http::{Cap, Http, HttpError, NetworkKind, Request};
use crate::source::handle::Domain;

/// The media types of an ActivityPub actor document.
const AP_JSON: &str = "application/activity+json";
const AP_LD: &str = "application/ld+json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Found,
    NotFound,
    Gone,
    HostUnreachable,
    TimedOut,
    InvalidAnswer,
    NotActivityPub,
    /// The host (or a redirect) led to this machine or a private network: refused.
    PrivateAddress,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Found => "found",
            Outcome::NotFound => "not_found",
            Outcome::Gone => "gone",
            Outcome::HostUnreachable => "host_unreachable",
            Outcome::TimedOut => "timed_out",
            Outcome::InvalidAnswer => "invalid_answer",
            Outcome::NotActivityPub => "not_activitypub",
            Outcome::PrivateAddress => "private_address",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Some(match s {
            "found" => Outcome::Found,
            "not_found" => Outcome::NotFound,
            "gone" => Outcome::Gone,
            "host_unreachable" => Outcome::HostUnreachable,
            "timed_out" => Outcome::TimedOut,
            "invalid_answer" => Outcome::InvalidAnswer,
            "not_activitypub" => Outcome::NotActivityPub,
            "private_address" => Outcome::PrivateAddress,
            _ => return None,
        })
    }

    /// Whether asking again later may give another answer.
    pub fn is_transient(self) -> bool {
        matches!(self, Outcome::HostUnreachable | Outcome::TimedOut)
    }

    /// Whether the answer is the host's, to keep for later runs. A refused private address
    /// is this machine's setting (`--resolve`, a proxy, DNS), not the host's: not kept.
    pub fn is_cacheable(self) -> bool {
        !self.is_transient() && self != Outcome::PrivateAddress
    }
}

/// The answer for one handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// The handle as asked (`user@host`).
    pub handle: String,
    pub outcome: Outcome,
    /// The canonical handle (`user@domain`, the subject's spelling) when found.
    pub canonical: Option<String>,
    pub actor: Option<String>,
    /// Why, in words, for reports.
    pub reason: String,
}

impl Resolution {
    fn found(handle: &str, canonical: String, actor: String) -> Resolution {
        let reason = if canonical.eq_ignore_ascii_case(handle) {
            "found".to_string()
        } else {
            format!("found as {canonical}")
        };
        Resolution {
            handle: handle.to_string(),
            outcome: Outcome::Found,
            canonical: Some(canonical),
            actor: Some(actor),
            reason,
        }
    }

    fn failed(handle: &str, outcome: Outcome, reason: impl Into<String>) -> Resolution {
        Resolution {
            handle: handle.to_string(),
            outcome,
            canonical: None,
            actor: None,
            reason: reason.into(),
        }
    }
}

/// A JSON Resource Descriptor, as far as it matters here.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Jrd {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub aliases: Vec<serde_json::Value>,
    #[serde(default)]
    pub links: Vec<JrdLink>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct JrdLink {
    #[serde(default)]
    pub rel: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub href: Option<String>,
    #[serde(default)]
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Whether a link's media type is an ActivityPub actor's (parameters compared loosely).
pub fn is_activitypub_type(kind: &str) -> bool {
    let mut parts = kind.split(';').map(str::trim);
    let base = parts.next().unwrap_or("").to_ascii_lowercase();
    if base == AP_JSON {
        return true;
    }
    base == AP_LD
        && parts.any(|p| {
            p.to_ascii_lowercase().starts_with("profile=")
                && p.contains("https://www.w3.org/ns/activitystreams")
        })
}

/// The `self` link to use: an ActivityPub type; with several, `Person`/`Service`, else the last.
pub fn self_link(jrd: &Jrd) -> Option<&JrdLink> {
    let candidates: Vec<&JrdLink> = jrd
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("self"))
        .filter(|l| l.kind.as_deref().is_some_and(is_activitypub_type))
        .filter(|l| l.href.as_deref().is_some_and(|h| Url::parse(h).is_ok()))
        .collect();
    let typed = |l: &&JrdLink| {
        l.properties
            .as_ref()
            .and_then(|p| p.get("https://www.w3.org/ns/activitystreams#type"))
            .and_then(|t| t.as_str())
            .is_some_and(|t| t == "Person" || t == "Service")
    };
    candidates
        .iter()
        .rev()
        .find(|l| typed(l))
        .or_else(|| candidates.last())
        .copied()
}

/// A `self` link's address as a URL writes it: what a server sent is never shown or stored
/// raw (control characters percent-encoded, tabs and line breaks dropped, the host in ASCII).
pub fn actor_url(link: &JrdLink) -> Option<String> {
    Some(Url::parse(link.href.as_deref()?).ok()?.to_string())
}

/// `acct:User@Host` / `User@Host` → (`User`, `host`), the host in its ASCII (punycode) form.
///
/// A server writes the subject, so it is read strictly: the host must be a domain name
/// (`Domain::parse`: no control characters, spaces, ports or addresses, which the URL parser
/// would otherwise drop or read as another host), and the user name has no control characters.
pub fn parse_subject(subject: &str) -> Option<(String, String)> {
    let s = subject.trim();
    let s = s.strip_prefix("acct:").unwrap_or(s);
    let s = s.strip_prefix('@').unwrap_or(s);
    let (user, host) = s.rsplit_once('@')?;
    if user.is_empty()
        || user.contains(['@', '/'])
        || user
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_format(c))
        // `Domain::parse` trims what a person may paste around a domain; a subject gets none.
        || host.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    let host = Domain::parse(host).ok()?;
    Some((user.to_string(), host.ascii().to_string()))
}

/// Invisible characters that reorder or hide text (Unicode's format characters a name has no
/// use for): a name that shows other than it reads is refused.
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

/// Extracts the LRDD template from a host-meta XRD document.
pub fn lrdd_template(xrd: &str) -> Option<String> {
    // A small scan instead of an XML parser: host-meta is one `<Link rel="lrdd" template=…>`.
    let mut rest = xrd;
    while let Some(i) = rest.find("<Link") {
        let tag_end = rest[i..].find('>')? + i;
        let tag = &rest[i..tag_end];
        rest = &rest[tag_end..];
        let attr = |name: &str| -> Option<String> {
            for quote in ['"', '\''] {
                let pat = format!("{name}={quote}");
                if let Some(p) = tag.find(&pat) {
                    let v = &tag[p + pat.len()..];
                    return v.find(quote).map(|e| v[..e].to_string());
                }
            }
            None
        };
        if attr("rel").as_deref() == Some("lrdd")
            && let Some(t) = attr("template")
            && t.contains("{uri}")
        {
            return Some(t.replace("&amp;", "&"));
        }
    }
    None
}

/// How the resolver behaves.
/// Lookups a caller starts at once, in order, starting the next as one ends: well above the
/// resolver's own limits (which decide what is in flight), and few enough that 100,000 handles
/// do not each hold a waiting task (about 3 KB each: 300 MB in all).
pub const LOOKUPS_IN_FLIGHT: usize = 512;

#[derive(Debug, Clone)]
pub struct ResolverConfig {
    /// Lookups in flight at once, over all hosts.
    pub global: usize,
    /// Lookups in flight at once on one host.
    pub per_host: usize,
    /// Time for one WebFinger request.
    pub timeout: Duration,
    /// Tries for a handle whose host fails (connect, timeout, 5xx), with backoff between.
    pub attempts: u32,
    /// The first backoff; doubled per failure.
    pub backoff: Duration,
    /// Consecutive failures after which a host is given up for this run.
    pub host_failures: u32,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        ResolverConfig {
            global: 16,
            per_host: 2,
            timeout: Duration::from_secs(10),
            attempts: 3,
            backoff: Duration::from_secs(1),
            host_failures: 4,
        }
    }
}

#[derive(Default)]
struct HostState {
    consecutive_failures: u32,
    /// Not before this instant (backoff).
    retry_at: Option<tokio::time::Instant>,
    dead: Option<(Outcome, String)>,
    /// The host's host-meta LRDD template, once it answered (`None` inside: it has none);
    /// lookups at once wait for the one asking.
    lrdd: Arc<tokio::sync::OnceCell<Option<String>>>,
}

/// Resolves handles with bounded concurrency; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Resolver {
    http: Http,
    config: ResolverConfig,
    global: Arc<Semaphore>,
    hosts: Arc<Mutex<HashMap<String, Host>>>,
}

/// A host's concurrency limit and health.
type Host = (Arc<Semaphore>, HostState);

/// What one attempt gave: an answer, or a failure of the host (to back off and retry).
enum Attempt {
    Done(Resolution),
    HostFailed(Outcome, String),
}

impl Resolver {
    /// Lookups go through `http`'s client for remote hosts: public addresses only, unless
    /// pinned with `--resolve`.
    pub fn new(http: Http, config: ResolverConfig) -> Resolver {
        Resolver {
            global: Arc::new(Semaphore::new(config.global.max(1))),
            http: http.for_remote_hosts(),
            config,
            hosts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Lookups at `host` (the user's own server, which may live on a private network) are
    /// made as requests to the target server are: see [`Http::trusting`].
    pub fn trust_host(mut self, host: &str) -> Resolver {
        self.http = self.http.trusting(host);
        self
    }

    fn host_semaphore(&self, host: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().expect("not poisoned");
        hosts
            .entry(host.to_string())
            .or_insert_with(|| {
                (
                    Arc::new(Semaphore::new(self.config.per_host.max(1))),
                    HostState::default(),
                )
            })
            .0
            .clone()
    }

    fn host_state<T>(&self, host: &str, f: impl FnOnce(&mut HostState) -> T) -> T {
        let mut hosts = self.hosts.lock().expect("not poisoned");
        let entry = hosts.entry(host.to_string()).or_insert_with(|| {
            (
                Arc::new(Semaphore::new(self.config.per_host.max(1))),
                HostState::default(),
            )
        });
        f(&mut entry.1)
    }

    /// Resolves `user@host` (see the module doc).
    pub async fn resolve(&self, user: &str, host: &str) -> Resolution {
        let handle = format!("{user}@{host}");
        let host = host.to_ascii_lowercase();
        let attempts = self.config.attempts.max(1);
        let mut attempt = 0;
        loop {
            // Give up at once on a host already known dead in this run.
            if let Some((outcome, reason)) = self.host_state(&host, |s| s.dead.clone()) {
                return Resolution::failed(&handle, outcome, reason);
            }
            if let Some(at) = self.host_state(&host, |s| s.retry_at) {
                tokio::time::sleep_until(at).await;
            }
            let host_sem = self.host_semaphore(&host);
            let _g = self.global.acquire().await.expect("never closed");
            let _h = host_sem.acquire().await.expect("never closed");
            // Checked again with the permits held: while this lookup waited for its turn, the
            // host may have failed (and be backing off) or been given up. Otherwise every
            // handle queued on a host that never answers would still spend a full timeout on
            // it, one after the other.
            let (dead, backoff) = self.host_state(&host, |s| {
                let backoff = s.retry_at.filter(|at| *at > tokio::time::Instant::now());
                (s.dead.clone(), backoff)
            });
            if let Some((outcome, reason)) = dead {
                return Resolution::failed(&handle, outcome, reason);
            }
            if backoff.is_some() {
                // The permits are released, and the top of the loop waits.
                continue;
            }
            attempt += 1;
            match self.attempt(&handle, user, &host).await {
                Attempt::Done(r) => {
                    self.host_state(&host, |s| {
                        s.consecutive_failures = 0;
                        s.retry_at = None;
                    });
                    return r;
                }
                Attempt::HostFailed(outcome, reason) => {
                    // Recorded before the permits are released, for the lookups queued behind.
                    let give_up = self.host_state(&host, |s| {
                        s.consecutive_failures += 1;
                        let exp = s.consecutive_failures.min(6) - 1;
                        s.retry_at =
                            Some(tokio::time::Instant::now() + self.config.backoff * 2u32.pow(exp));
                        if s.consecutive_failures >= self.config.host_failures {
                            s.dead = Some((outcome, reason.clone()));
                            true
                        } else {
                            false
                        }
                    });
                    if give_up || attempt >= attempts {
                        return Resolution::failed(&handle, outcome, reason);
                    }
                }
            }
        }
    }

    async fn attempt(&self, handle: &str, user: &str, host: &str) -> Attempt {
        let resource = format!("acct:{user}@{host}");
        let jrd = match self.finger(host, &resource).await {
            Ok(jrd) => jrd,
            Err(f) => return f.into_attempt(handle),
        };
        let Some(subject) = jrd.subject.as_deref().and_then(parse_subject) else {
            return Attempt::Done(Resolution::failed(
                handle,
                Outcome::InvalidAnswer,
                "the WebFinger answer has no valid subject",
            ));
        };
        let Some(link) = self_link(&jrd) else {
            return Attempt::Done(Resolution::failed(
                handle,
                Outcome::NotActivityPub,
                "the WebFinger answer has no ActivityPub actor link",
            ));
        };
        let actor = actor_url(link).expect("self_link checks href");
        if !actor.starts_with("https://") && !is_loopback_url(&actor) {
            return Attempt::Done(Resolution::failed(
                handle,
                Outcome::InvalidAnswer,
                format!("the actor `{actor}` is not https"),
            ));
        }
        let (s_user, s_host) = subject;
        if s_user.eq_ignore_ascii_case(user) && s_host.eq_ignore_ascii_case(host) {
            return Attempt::Done(Resolution::found(
                handle,
                format!("{s_user}@{s_host}"),
                actor,
            ));
        }
        // The subject names another account: adopt it only if its own domain agrees (one
        // confirming lookup, as Mastodon does; a second disagreement is refused).
        let confirm = match self
            .finger(&s_host, &format!("acct:{s_user}@{s_host}"))
            .await
        {
            Ok(jrd) => jrd,
            Err(f) => {
                return Attempt::Done(Resolution::failed(
                    handle,
                    Outcome::InvalidAnswer,
                    format!(
                        "the answer names {s_user}@{s_host}, which could not be confirmed: {}",
                        f.reason()
                    ),
                ));
            }
        };
        let confirmed = confirm
            .subject
            .as_deref()
            .and_then(parse_subject)
            .is_some_and(|(u, h)| u.eq_ignore_ascii_case(&s_user) && h == s_host);
        let confirmed_actor = self_link(&confirm).and_then(actor_url);
        match (confirmed, confirmed_actor) {
            (true, Some(actor2)) if actor2 == actor => Attempt::Done(Resolution::found(
                handle,
                format!("{s_user}@{s_host}"),
                actor2,
            )),
            (true, Some(actor2)) => Attempt::Done(Resolution::failed(
                handle,
                Outcome::InvalidAnswer,
                format!(
                    "{host} and {s_host} name different actors for {s_user}@{s_host} (`{actor}`, `{actor2}`)"
                ),
            )),
            _ => Attempt::Done(Resolution::failed(
                handle,
                Outcome::InvalidAnswer,
                format!("{host} names {s_user}@{s_host}, but {s_host} does not confirm it"),
            )),
        }
    }

    /// One WebFinger lookup, with the host-meta fallback on 404.
    async fn finger(&self, host: &str, resource: &str) -> Result<Jrd, Failure> {
        let url = webfinger_url(host, resource)
            .ok_or(Failure::Invalid(format!("`{host}` is not a host name")))?;
        match self.get(url.clone()).await {
            Ok(body) => parse_jrd(&body),
            Err(HttpError::NotFound { .. }) => {
                // host-meta may point at WebFinger elsewhere.
                let Some(template) = self.lrdd(host).await? else {
                    return Err(Failure::NotFound);
                };
                let encoded: String =
                    url::form_urlencoded::byte_serialize(resource.as_bytes()).collect();
                let moved = Url::parse(&template.replace("{uri}", &encoded))
                    .map_err(|_| Failure::Invalid("host-meta has an invalid template".into()))?;
                // Mastodon's template names the lookup just made: its answer is the same 404.
                if moved == url {
                    return Err(Failure::NotFound);
                }
                match self.get(moved).await {
                    Ok(body) => parse_jrd(&body),
                    Err(e) => Err(Failure::from_http(e)),
                }
            }
            Err(e) => Err(Failure::from_http(e)),
        }
    }

    /// The host's LRDD template from its host-meta, asked for once per host and run (a list
    /// of unknown accounts on one host costs one lookup each, not three).
    async fn lrdd(&self, host: &str) -> Result<Option<String>, Failure> {
        let cell = self.host_state(host, |s| s.lrdd.clone());
        let meta = Url::parse(&format!("https://{host}/.well-known/host-meta"))
            .map_err(|_| Failure::NotFound)?;
        let asked = cell
            .get_or_try_init(|| async {
                match self.get(meta).await {
                    Ok(body) => Ok(lrdd_template(&String::from_utf8_lossy(&body))),
                    Err(HttpError::NotFound { .. } | HttpError::Gone { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await;
        match asked {
            Ok(template) => Ok(template.clone()),
            // Not the host's answer, but this machine's refusal: not kept.
            Err(e @ HttpError::NotPublic { .. }) => Err(Failure::from_http(e)),
            // A passing failure is not the host's answer either: asked again next time.
            Err(_) => Ok(None),
        }
    }

    async fn get(&self, url: Url) -> Result<Vec<u8>, HttpError> {
        let request = Request::get(url).cap(Cap::WebFinger);
        match tokio::time::timeout(self.config.timeout, self.http.send(request)).await {
            Ok(r) => r.map(|r| r.body),
            Err(_) => Err(HttpError::Invalid {
                url: String::new(),
                message: TIMEOUT_MARK.into(),
            }),
        }
    }
}

const TIMEOUT_MARK: &str = "\u{0}timeout";

fn is_loopback_url(s: &str) -> bool {
    Url::parse(s).is_ok_and(|u| super::http::url_allowed(&u))
}

/// `https://host/.well-known/webfinger?resource=…`, refusing anything that is not a host name.
pub fn webfinger_url(host: &str, resource: &str) -> Option<Url> {
    // The URL parser drops tabs and line breaks and reads `/`, `?`, `#`, `@` and `\\` as the
    // end of the host: any of them would send the lookup somewhere else.
    if host.is_empty()
        || host.contains(['/', '?', '#', '@', '\\'])
        || host.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    let mut url = Url::parse(&format!("https://{host}/.well-known/webfinger")).ok()?;
    url.host_str()?;
    url.query_pairs_mut().append_pair("resource", resource);
    Some(url)
}

fn parse_jrd(body: &[u8]) -> Result<Jrd, Failure> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Failure::Invalid("the WebFinger answer is empty".into()));
    }
    serde_json::from_slice(body)
        .map_err(|e| Failure::Invalid(format!("the WebFinger answer is not valid JSON: {e}")))
}

/// Why a lookup failed.
enum Failure {
    NotFound,
    Gone,
    Invalid(String),
    /// Refused: the lookup led to a private address.
    NotPublic(String),
    /// The host failed (retry later): connect, timeout, 5xx, 429.
    Host(Outcome, String),
}

impl Failure {
    fn from_http(e: HttpError) -> Failure {
        match e {
            HttpError::NotFound { .. } => Failure::NotFound,
            HttpError::Gone { .. } => Failure::Gone,
            HttpError::Invalid { message, .. } if message == TIMEOUT_MARK => {
                Failure::Host(Outcome::TimedOut, "the host did not answer in time".into())
            }
            HttpError::Network {
                kind: NetworkKind::Timeout,
                ..
            } => Failure::Host(Outcome::TimedOut, "the host did not answer in time".into()),
            HttpError::Network { source, .. } => Failure::Host(
                Outcome::HostUnreachable,
                format!("the host could not be reached: {}", error_chain(&source)),
            ),
            HttpError::Server { status, .. } => Failure::Host(
                Outcome::HostUnreachable,
                format!("the host answered {status}"),
            ),
            HttpError::RateLimited { .. } => Failure::Host(
                Outcome::HostUnreachable,
                "the host rate-limited the lookup".into(),
            ),
            HttpError::TooLarge { limit, .. } => {
                Failure::Invalid(format!("the WebFinger answer is larger than {limit} bytes"))
            }
            HttpError::Insecure { .. } => Failure::Invalid("the host redirected to http://".into()),
            e @ HttpError::NotPublic { .. } => Failure::NotPublic(e.to_string()),
            other => Failure::Invalid(other.to_string()),
        }
    }

    fn reason(&self) -> String {
        match self {
            Failure::NotFound => "no such account".into(),
            Failure::Gone => "the account is gone (suspended or deleted)".into(),
            Failure::Invalid(r) | Failure::NotPublic(r) | Failure::Host(_, r) => r.clone(),
        }
    }

    fn into_attempt(self, handle: &str) -> Attempt {
        match self {
            Failure::NotFound => Attempt::Done(Resolution::failed(
                handle,
                Outcome::NotFound,
                "no such account",
            )),
            Failure::Gone => Attempt::Done(Resolution::failed(
                handle,
                Outcome::Gone,
                "the account is gone (suspended or deleted)",
            )),
            Failure::Invalid(r) => {
                Attempt::Done(Resolution::failed(handle, Outcome::InvalidAnswer, r))
            }
            Failure::NotPublic(r) => {
                Attempt::Done(Resolution::failed(handle, Outcome::PrivateAddress, r))
            }
            Failure::Host(o, r) => Attempt::HostFailed(o, r),
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !parts.contains(&s) {
            parts.push(s);
        }
        cur = c.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jrd(s: &str) -> Jrd {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn activitypub_types() {
        assert!(is_activitypub_type("application/activity+json"));
        assert!(is_activitypub_type(
            r#"application/ld+json; profile="https://www.w3.org/ns/activitystreams""#
        ));
        assert!(!is_activitypub_type("application/ld+json"));
        assert!(!is_activitypub_type("text/html"));
    }

    #[test]
    fn self_link_choice() {
        // Pleroma: two AP links, same href; Mastodon-like: one.
        let p = jrd(r#"{"subject":"acct:a@p.example","links":[
            {"rel":"self","type":"application/activity+json","href":"https://p.example/users/a"},
            {"rel":"self","type":"application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"","href":"https://p.example/users/a"}]}"#);
        assert_eq!(
            self_link(&p).unwrap().href.as_deref(),
            Some("https://p.example/users/a")
        );
        // Lemmy: Person and Group, Group last: the Person wins.
        let l = jrd(r#"{"subject":"acct:x@l.example","links":[
            {"rel":"self","type":"application/activity+json","href":"https://l.example/u/x","properties":{"https://www.w3.org/ns/activitystreams#type":"Person"}},
            {"rel":"self","type":"application/activity+json","href":"https://l.example/c/x","properties":{"https://www.w3.org/ns/activitystreams#type":"Group"}}]}"#);
        assert_eq!(
            self_link(&l).unwrap().href.as_deref(),
            Some("https://l.example/u/x")
        );
        // No AP type at all.
        let h = jrd(
            r#"{"subject":"acct:x@h.example","links":[{"rel":"self","type":"text/html","href":"https://h.example/x"}]}"#,
        );
        assert!(self_link(&h).is_none());
        // Several untyped AP links: the last, as Mastodon.
        let two = jrd(
            r#"{"links":[{"rel":"self","type":"application/activity+json","href":"https://a.example/1"},{"rel":"self","type":"application/activity+json","href":"https://a.example/2"}]}"#,
        );
        assert_eq!(
            self_link(&two).unwrap().href.as_deref(),
            Some("https://a.example/2")
        );
    }

    #[test]
    fn subjects() {
        assert_eq!(
            parse_subject("acct:Gargron@Mastodon.Social"),
            Some(("Gargron".into(), "mastodon.social".into()))
        );
        assert_eq!(
            parse_subject("patak.cat@bsky.brid.gy"),
            Some(("patak.cat".into(), "bsky.brid.gy".into()))
        );
        assert_eq!(parse_subject("https://x.example/@a"), None);
        assert_eq!(parse_subject("acct:@x.example"), None);
        // IDN subjects are compared in their ASCII form, as lookups are made.
        assert_eq!(
            parse_subject("acct:a@Bücher.example"),
            Some(("a".into(), "xn--bcher-kva.example".into()))
        );
    }

    /// Found by the webfinger fuzz target: the URL parser drops tabs and line breaks, so a
    /// subject `a@evil\n.example` named the host `evil.example`, and escape sequences reached
    /// printed messages.
    #[test]
    fn subjects_with_control_characters_or_odd_hosts_are_refused() {
        for subject in [
            "acct:x@a\nb.example",
            "acct:x@a\tb.example",
            "acct:x@a\rb.example",
            "acct:x@evil.example\u{1b}[2J",
            "acct:x\u{1b}[31m@a.example",
            "acct:x\ny@a.example",
            "acct:x y@a.example",
            "acct:x@a.example:8443",
            "acct:x@127.0.0.1",
            "acct:x@[::1]",
            "acct:x@a..example",
            "acct:x@a_b.example",
            "acct:x@a.example\u{0}",
            "acct:x\u{202e}elpmaxe@a.example",
            "acct:x\u{200b}@a.example",
        ] {
            assert_eq!(parse_subject(subject), None, "{subject:?}");
        }
    }

    /// An actor's address is kept as a URL writes it: a server's escape sequence reaches no
    /// report or terminal.
    #[test]
    fn actor_addresses_are_normalised() {
        let link = |href: &str| JrdLink {
            href: Some(href.into()),
            ..JrdLink::default()
        };
        assert_eq!(
            actor_url(&link("https://evil.example/a\u{1b}[2J\u{7}/b")).as_deref(),
            Some("https://evil.example/a%1B[2J%07/b")
        );
        assert_eq!(
            actor_url(&link("https://B\u{fc}cher.example/users/a")).as_deref(),
            Some("https://xn--bcher-kva.example/users/a")
        );
        assert_eq!(actor_url(&link("not a url")), None);
    }

    #[test]
    fn host_meta_templates() {
        let xrd = r#"<?xml version="1.0" encoding="UTF-8"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
  <Link rel="lrdd" type="application/jrd+json" template="https://redirected.example/.well-known/webfinger?resource={uri}"/>
</XRD>"#;
        assert_eq!(
            lrdd_template(xrd).as_deref(),
            Some("https://redirected.example/.well-known/webfinger?resource={uri}")
        );
        assert_eq!(lrdd_template("<XRD></XRD>"), None);
        assert_eq!(lrdd_template("<html><body>hi"), None);
    }

    #[test]
    fn webfinger_urls_refuse_odd_hosts() {
        assert_eq!(
            webfinger_url("social.example", "acct:a@social.example")
                .unwrap()
                .as_str(),
            "https://social.example/.well-known/webfinger?resource=acct%3Aa%40social.example"
        );
        assert!(webfinger_url("evil.example/path", "x").is_none());
        assert!(webfinger_url("a@b", "x").is_none());
        assert!(webfinger_url("", "x").is_none());
        // The URL parser would drop these and look up another host (or none).
        for host in [
            "\t",
            "evil.example\t",
            "a\nb.example",
            "a\r.example",
            "a b",
            "a\u{7f}b",
        ] {
            assert!(webfinger_url(host, "x").is_none(), "{host:?}");
        }
    }
}
