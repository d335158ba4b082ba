//! What a fake server is told to be: its host names, limits, clock speed, faults and the
//! behaviour of each remote WebFinger host. Every default is Mastodon's (see
//! `../shared/MASTODON.md` §2–§4); tests change only what they exercise.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// One throttle: at most `limit` requests per `period` (of the fake's scaled clock), in
/// windows aligned to the epoch as rack-attack and Mastodon's `RateLimiter` align them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub limit: u64,
    pub period: Duration,
}

impl Limit {
    pub const fn new(limit: u64, period_secs: u64) -> Limit {
        Limit {
            limit,
            period: Duration::from_secs(period_secs),
        }
    }
}

/// The throttles of MASTODON.md §2.1 and the per-account families of §2.2. `None` disables
/// one (for throughput benchmarks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// `throttle_unauthenticated_api`: requests under `/api` without a known token, per IP.
    pub unauthenticated: Option<Limit>,
    /// `throttle_per_token_api`: every `/api` request, per access token.
    pub per_token: Option<Limit>,
    /// `throttle_authenticated_api`: every `/api` request, per user.
    pub per_user: Option<Limit>,
    /// `throttle_api_media`: `POST /api/v2/media`, per user.
    pub media: Option<Limit>,
    /// `throttle_authenticated_paging`: requests carrying `max_id`, `min_id`, `since_id` or
    /// `page`, per user.
    pub paging: Option<Limit>,
    /// `throttle_api_delete`: `DELETE /api/v1/statuses/:id`, per user.
    pub deletes: Option<Limit>,
    /// The `statuses` family: statuses created through `POST /api/v1/statuses`, per account.
    pub statuses: Option<Limit>,
    /// The `follows` family: follows and follow requests created, per account; the window is
    /// the (scaled) UTC day.
    pub follows: Option<Limit>,
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits {
            unauthenticated: Some(Limit::new(300, 5 * 60)),
            per_token: Some(Limit::new(300, 5 * 60)),
            per_user: Some(Limit::new(1_500, 5 * 60)),
            media: Some(Limit::new(30, 30 * 60)),
            paging: Some(Limit::new(300, 15 * 60)),
            deletes: Some(Limit::new(30, 30 * 60)),
            statuses: Some(Limit::new(300, 3 * 60 * 60)),
            follows: Some(Limit::new(400, 24 * 60 * 60)),
        }
    }
}

impl RateLimits {
    /// No throttle at all.
    pub fn disabled() -> RateLimits {
        RateLimits {
            unauthenticated: None,
            per_token: None,
            per_user: None,
            media: None,
            paging: None,
            deletes: None,
            statuses: None,
            follows: None,
        }
    }
}

/// When an asynchronously processed upload (video, GIF, audio) becomes ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaProcessing {
    /// The first `n` polls of `GET /api/v1/media/:id` answer 206, the next one 200.
    AfterPolls(u32),
    /// Ready once this much scaled time has passed since the upload.
    AfterTime(Duration),
}

/// Which requests a fault rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointClass {
    /// Everything under `/api/v1/statuses` (posting, deleting, bookmarking, reading).
    Statuses,
    /// `POST /api/v2/media` and `GET|PUT /api/v1/media/:id`.
    Media,
    /// `POST /api/v1/accounts/:id/follow` and `/unfollow`.
    Follows,
    /// Any request to the home server.
    Any,
    /// Requests to the home server whose path starts with this.
    PathPrefix(String),
}

/// What an injected fault does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// 503 `{"error": "..."}` before anything is processed.
    Unavailable,
    /// The connection is closed after the request was read, before anything is processed.
    DropBeforeProcessing,
    /// The request is processed (state changes, budgets are spent), then the connection is
    /// closed without an HTTP response: the case that makes naive clients post twice.
    LostResponse,
    /// The answer is delayed by this much real time (not scaled).
    Latency(Duration),
    /// The request is processed at once, then the answer is held back this much real time: a
    /// client that gives up or dies meanwhile never learns what was done.
    Stall(Duration),
    /// 200 with an HTML body instead of JSON (a proxy's or CDN's page). With `processed`, the
    /// request was acted on first and only its answer is garbled.
    Unparsable { processed: bool },
    /// An answer with this status whose body is huge, nothing processed: `length` bytes with a
    /// declared `Content-Length`, or with `None` an endless chunked body sent as fast as the
    /// client reads it.
    HugeBody { status: u16, length: Option<usize> },
    /// 429 before anything is processed, whose `X-RateLimit-Reset` is this instant (long past
    /// or years ahead), with `Limit` 300 and `Remaining` 0.
    RateLimitedUntil(DateTime<Utc>),
    /// The request is processed and answered normally, then the status the answer names (its
    /// `id`) vanishes (deleted by a moderator, lost by the server): later requests for it get
    /// 404. Only for answers that are a status.
    Vanish,
    /// 404 `{"error":"Record not found"}` before anything is processed: the server denies what
    /// the request names (a status it gave out earlier, an account).
    Deny,
}

/// A fault on whole connections rather than requests: every `every`-th connection (over all
/// hosts, counting from 1 once its TLS handshake is done) is closed without an answer on its
/// first request — before processing it with `DropBeforeProcessing`, after with any other
/// `kind` (`LostResponse`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionFault {
    pub every: u64,
    pub kind: FaultKind,
}

/// One fault rule. Each rule draws from its own random stream seeded from the plan's seed and
/// the rule's position, so a given sequence of requests always meets the same faults.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    pub class: EndpointClass,
    pub kind: FaultKind,
    /// Chance per matching request, 0.0..=1.0.
    pub probability: f64,
    /// The first `skip` matching requests are never faulted.
    pub skip: u64,
    /// At most this many injections (None: unbounded).
    pub max: Option<u64>,
}

impl FaultRule {
    pub fn new(class: EndpointClass, kind: FaultKind, probability: f64) -> FaultRule {
        FaultRule {
            class,
            kind,
            probability,
            skip: 0,
            max: None,
        }
    }

    /// Exactly the `n`-th matching request (1-based) gets the fault.
    pub fn nth(class: EndpointClass, kind: FaultKind, n: u64) -> FaultRule {
        FaultRule {
            class,
            kind,
            probability: 1.0,
            skip: n.saturating_sub(1),
            max: Some(1),
        }
    }

    pub fn skip(mut self, n: u64) -> FaultRule {
        self.skip = n;
        self
    }

    pub fn max(mut self, n: u64) -> FaultRule {
        self.max = Some(n);
        self
    }
}

/// Faults for the home server, deterministic from `seed`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultPlan {
    pub seed: u64,
    pub rules: Vec<FaultRule>,
}

impl FaultPlan {
    pub fn new(seed: u64) -> FaultPlan {
        FaultPlan {
            seed,
            rules: Vec::new(),
        }
    }

    pub fn rule(mut self, rule: FaultRule) -> FaultPlan {
        self.rules.push(rule);
        self
    }
}

/// How one remote host answers `/.well-known/webfinger` and `/.well-known/host-meta`
/// (MASTODON.md §4.2–§4.5). Accounts exist on a host when registered with
/// `FakeServer::add_remote_account` (or `FakeConfig::remote_accounts`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebfingerBehavior {
    /// Mastodon's JRD: subject, aliases, profile-page, one `self` (activity+json), subscribe
    /// template, avatar.
    Mastodon,
    /// Pleroma/Akkoma: two `self` links (activity+json and ld+json with the AS profile).
    Pleroma,
    /// Misskey: the `self` href is an opaque id (`/users/9abc…`), no aliases.
    Misskey,
    /// Lemmy: a Person and a Group `self` link for the same name (the Group last).
    Lemmy,
    /// This host is an account domain whose WebFinger 301-redirects to `web_host`, which
    /// answers with the subject in this (the account) domain.
    SplitDomain { web_host: String },
    /// The web host of a split domain: answers for `user@<this>` and `user@account_domain`
    /// with subject `acct:user@account_domain`. Added automatically for `SplitDomain`.
    WebDomain { account_domain: String },
    /// Asking `a@<this>` returns subject `a@<to>` (accounts live at `to`, which must be
    /// served too and confirms the subject).
    Canonicalizes { to: String },
    /// 404 for everything.
    NotFound,
    /// 410 for everything (suspended / gone).
    Gone,
    /// WebFinger 404, but host-meta lists an LRDD template on `lrdd_path` that works.
    HostMetaFallback { lrdd_path: String },
    /// 200 with a body that is not JSON.
    InvalidJson,
    /// 200 with a valid JRD padded to `bytes` bytes.
    Huge { bytes: usize },
    /// Mastodon's JRD after this much real (not scaled) delay.
    Slow { delay: Duration },
    /// Redirects to itself forever (with a growing `hop` parameter).
    RedirectLoop,
    /// 301 to the same URL over `http://`.
    RedirectToHttp,
    /// Not served: the name is not in the certificate and the TLS handshake is refused.
    Unserved,
    /// 200 with the start of a JRD and then a body that never ends: `chunk` bytes of padding
    /// every `every` (real time), without `Content-Length`. A slow drip (`every` large) never
    /// finishes within a timeout; a flood (`every` zero) never ends within a size cap.
    Endless { chunk: usize, every: Duration },
    /// 302 to this `Location`, a target Mastodon never follows (`ftp:`, `file:`, `http:`).
    RedirectTo { location: String },
    /// Asking `a@<this>` (an account registered at this host) answers subject `a@<domain>`, a
    /// domain this host does not speak for, with the actor on this host. Whether `domain`
    /// confirms it is up to how `domain` is served.
    ClaimsSubject { domain: String },
    /// Subject `a@<this>` as asked, but the `self` link (and profile) on `actor_host`, which
    /// does not confirm it: Mastodon's check that the actor's WebFinger loops back fails.
    ForeignActor { actor_host: String },
}

/// A local account of the home server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalAccountSpec {
    pub username: String,
    pub display_name: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: Option<bool>,
    pub followers_count: u64,
}

impl LocalAccountSpec {
    pub fn new(username: &str) -> LocalAccountSpec {
        LocalAccountSpec {
            username: username.to_string(),
            display_name: String::new(),
            locked: false,
            bot: false,
            discoverable: None,
            followers_count: 0,
        }
    }
}

/// An account on a remote host (exists for WebFinger and search+resolve).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteAccountSpec {
    /// `user@host`, the canonical handle (host = the account domain).
    pub acct: String,
    /// The home server already has it in its database (lookup finds it).
    pub known_to_server: bool,
    pub locked: bool,
    /// `user@host` of the account it moved to.
    pub moved_to: Option<String>,
    pub display_name: String,
    pub bot: bool,
    pub discoverable: Option<bool>,
}

impl RemoteAccountSpec {
    pub fn new(acct: &str) -> RemoteAccountSpec {
        RemoteAccountSpec {
            acct: acct.to_string(),
            known_to_server: false,
            locked: false,
            moved_to: None,
            display_name: String::new(),
            bot: false,
            discoverable: Some(true),
        }
    }

    pub fn known(mut self) -> RemoteAccountSpec {
        self.known_to_server = true;
        self
    }

    pub fn locked(mut self) -> RemoteAccountSpec {
        self.locked = true;
        self
    }

    pub fn moved_to(mut self, acct: &str) -> RemoteAccountSpec {
        self.moved_to = Some(acct.to_string());
        self
    }
}

/// Everything a fake server is started with. `FakeConfig::default()` is a Mastodon 4.5 server
/// at `social.example` with one local user `alice`, real-time clock and no faults.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// The home Mastodon server's host name.
    pub home_host: String,
    /// Local accounts created at start.
    pub local_accounts: Vec<LocalAccountSpec>,
    /// Remote accounts created at start (their hosts are served as Mastodon unless
    /// `webfinger_hosts` says otherwise).
    pub remote_accounts: Vec<RemoteAccountSpec>,
    /// Behaviour per remote host name.
    pub webfinger_hosts: BTreeMap<String, WebfingerBehavior>,
    /// More names to put in the certificate and serve (answered like `Mastodon` remotes).
    pub extra_hosts: Vec<String>,
    /// Fake seconds per real second: 10_800.0 makes three hours last one second.
    pub time_scale: f64,
    /// The fake clock's reading at start (None: the real current time).
    pub start_time: Option<DateTime<Utc>>,
    pub rate_limits: RateLimits,
    /// `MAX_FOLLOWS_THRESHOLD`.
    pub follow_limit: u64,
    /// `MAX_FOLLOWS_RATIO`.
    pub follow_ratio: f64,
    /// Remote hosts send `Accept` at once: follows of unlocked remote accounts are accepted
    /// immediately instead of staying requested.
    pub remote_accepts_immediately: bool,
    pub media_processing: MediaProcessing,
    /// How long an `Idempotency-Key` is remembered (scaled).
    pub idempotency_ttl: Duration,
    /// `configuration.statuses.max_characters`.
    pub max_characters: usize,
    pub max_media_attachments: usize,
    pub characters_reserved_per_url: usize,
    /// Look-alike accounts a search for `user@domain` creates and ranks before the exact
    /// match (0: none, and the exact match comes first).
    pub search_decoys: usize,
    /// Accept any port on loopback redirect URIs (RFC 8252 §7.3). Off: exact match.
    pub loopback_any_port: bool,
    pub faults: FaultPlan,
    /// The user "logged in" in the browser for `/oauth/authorize` (a local username).
    pub logged_in_user: Option<String>,
    pub version: String,
    /// NodeInfo's `software.name`: `mastodon`, or `gotosocial` for GoToSocial's behaviours (a
    /// past `scheduled_at` backdates the status, under its rules for such posts).
    pub software: String,
    /// `configuration.media_attachments.image_size_limit` / `video_size_limit`, enforced.
    pub image_size_limit: usize,
    pub video_size_limit: usize,
    /// Send `X-RateLimit-Reset` as the wall-clock instant when the scaled window ends (for a
    /// client in another process, on the real clock), instead of the scaled clock's instant.
    pub wall_clock_resets: bool,
    /// Faults on whole connections (see [`ConnectionFault`]).
    pub connection_fault: Option<ConnectionFault>,
    /// Each connection serves at most this many requests, the last answer carrying
    /// `Connection: close` (nginx's `keepalive_requests`). None: unlimited.
    pub requests_per_connection: Option<u64>,
}

impl Default for FakeConfig {
    fn default() -> FakeConfig {
        FakeConfig {
            home_host: "social.example".to_string(),
            local_accounts: vec![LocalAccountSpec::new("alice")],
            remote_accounts: Vec::new(),
            webfinger_hosts: BTreeMap::new(),
            extra_hosts: Vec::new(),
            time_scale: 1.0,
            start_time: None,
            rate_limits: RateLimits::default(),
            follow_limit: 7_500,
            follow_ratio: 1.1,
            remote_accepts_immediately: false,
            media_processing: MediaProcessing::AfterPolls(2),
            idempotency_ttl: Duration::from_secs(3_600),
            max_characters: 500,
            max_media_attachments: 4,
            characters_reserved_per_url: 23,
            search_decoys: 2,
            loopback_any_port: false,
            faults: FaultPlan::default(),
            logged_in_user: None,
            version: "4.5.0".to_string(),
            software: "mastodon".to_string(),
            image_size_limit: 16 * 1024 * 1024,
            video_size_limit: 99 * 1024 * 1024,
            wall_clock_resets: false,
            connection_fault: None,
            requests_per_connection: None,
        }
    }
}

impl FakeConfig {
    pub fn webfinger_host(mut self, host: &str, behavior: WebfingerBehavior) -> FakeConfig {
        self.webfinger_hosts
            .insert(host.to_ascii_lowercase(), behavior);
        self
    }

    pub fn remote(mut self, spec: RemoteAccountSpec) -> FakeConfig {
        self.remote_accounts.push(spec);
        self
    }

    /// A GoToSocial server (0.18: backdating through a past `scheduled_at`), with its default
    /// 5,000-character limit and 6 attachments.
    pub fn gotosocial(mut self) -> FakeConfig {
        self.software = "gotosocial".to_string();
        self.version = "0.18.3+git-fake".to_string();
        self.max_characters = 5_000;
        self.max_media_attachments = 6;
        self
    }

    pub fn is_gotosocial(&self) -> bool {
        self.software == "gotosocial"
    }
}
