//! Everything the fake server knows, readable by tests through `FakeServer::state()` (a clone).
//! Ids are strings as in the API; accounts are referred to by id.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::config::FakeConfig;
use super::rng::SplitMix;

#[derive(Clone, Debug)]
pub struct App {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub client_id: String,
    pub client_secret: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct AuthCode {
    pub code: String,
    pub client_id: String,
    pub account_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub code_challenge: Option<String>,
    pub used: bool,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub id: u64,
    pub token: String,
    pub client_id: String,
    /// None for a client-credentials (app-only) token.
    pub account_id: Option<String>,
    pub scopes: Vec<String>,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    pub username: String,
    /// None for a local account.
    pub domain: Option<String>,
    /// `username` for local accounts, `username@domain` for remote ones.
    pub acct: String,
    pub display_name: String,
    pub locked: bool,
    pub bot: bool,
    pub group: bool,
    pub discoverable: Option<bool>,
    /// acct of the account this one moved to.
    pub moved_to: Option<String>,
    pub suspended: bool,
    pub followers_count: u64,
    pub created_at: DateTime<Utc>,
    /// A look-alike the fake invented to make search results fuzzy.
    pub decoy: bool,
    /// When the home server last checked a remote account through WebFinger; a resolve
    /// re-checks it after a day.
    pub last_webfingered_at: Option<DateTime<Utc>>,
    pub uri: String,
    pub url: String,
}

impl Account {
    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }
}

#[derive(Clone, Debug)]
pub struct Follow {
    /// The internal Follow/FollowRequest id (used by `/following` pagination).
    pub id: u64,
    pub account_id: String,
    pub target_id: String,
    pub reblogs: bool,
    pub notify: bool,
    pub languages: Option<Vec<String>>,
    /// A FollowRequest still waiting for the target's Accept.
    pub pending: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Block {
    pub account_id: String,
    pub target_id: String,
}

#[derive(Clone, Debug)]
pub struct Mute {
    pub account_id: String,
    pub target_id: String,
    pub notifications: bool,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct DomainBlock {
    pub account_id: String,
    pub domain: String,
}

#[derive(Clone, Debug)]
pub struct List {
    pub id: String,
    pub account_id: String,
    pub title: String,
    pub replies_policy: String,
    pub exclusive: bool,
    pub members: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Bookmark {
    pub account_id: String,
    pub status_id: String,
    pub id: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Gifv,
    Video,
    Audio,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Gifv => "gifv",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Media {
    pub id: String,
    pub account_id: String,
    pub kind: MediaKind,
    pub mime: String,
    pub file_name: String,
    pub description: Option<String>,
    pub focus: Option<String>,
    pub size: usize,
    /// False while asynchronous processing runs (202 then 206 from `GET /api/v1/media/:id`).
    pub processed: bool,
    pub polls: u32,
    pub created_at: DateTime<Utc>,
    /// The status it is attached to.
    pub status_id: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Status {
    pub id: String,
    pub account_id: String,
    pub text: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub visibility: String,
    pub language: Option<String>,
    pub in_reply_to_id: Option<String>,
    pub in_reply_to_account_id: Option<String>,
    pub media_ids: Vec<String>,
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Set when this status was published from a scheduled status.
    pub scheduled_at: Option<DateTime<Utc>>,
    pub deleted: bool,
    /// The canonical URL (for remote statuses, the one search resolves).
    pub url: String,
}

#[derive(Clone, Debug)]
pub struct ScheduledStatus {
    pub id: String,
    pub account_id: String,
    pub scheduled_at: DateTime<Utc>,
    pub text: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub visibility: String,
    pub language: Option<String>,
    pub in_reply_to_id: Option<String>,
    pub media_ids: Vec<String>,
    pub idempotency_key: Option<String>,
    /// The status it became once due.
    pub published_status_id: Option<String>,
}

/// An account that exists on a remote host (answered by WebFinger there).
#[derive(Clone, Debug)]
pub struct RemoteAccount {
    pub acct: String,
    pub locked: bool,
    pub moved_to: Option<String>,
    pub display_name: String,
    pub bot: bool,
    pub discoverable: Option<bool>,
}

/// A status that exists on a remote host; search with `resolve=true` and its URL makes the
/// home server know it.
#[derive(Clone, Debug)]
pub struct RemoteStatus {
    pub url: String,
    pub author_acct: String,
    pub text: String,
}

#[derive(Clone, Debug, Default)]
pub struct FaultCounters {
    pub unavailable: u64,
    pub dropped_before: u64,
    pub lost_response: u64,
    pub latency: u64,
    pub stalled: u64,
    pub unparsable: u64,
    pub huge_body: u64,
    pub rate_limited: u64,
    pub vanished: u64,
    pub denied: u64,
    /// Connections closed by a [`ConnectionFault`](super::ConnectionFault).
    pub dropped_connections: u64,
}

impl FaultCounters {
    pub fn total(&self) -> u64 {
        self.unavailable
            + self.dropped_before
            + self.lost_response
            + self.latency
            + self.stalled
            + self.unparsable
            + self.huge_body
            + self.rate_limited
            + self.vanished
            + self.denied
            + self.dropped_connections
    }
}

#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// Requests received, by `"METHOD /path/with/:id"` for the home server and
    /// `"METHOD host/path"` for other hosts.
    pub requests: BTreeMap<String, u64>,
    /// 429 responses sent.
    pub rate_limited: u64,
    /// 429 responses by throttle name (`per_token`, `follows`, `statuses`, `media`, ...).
    pub rate_limited_by: BTreeMap<String, u64>,
    pub faults: FaultCounters,
}

impl Counters {
    pub fn requests_to(&self, key: &str) -> u64 {
        self.requests.get(key).copied().unwrap_or(0)
    }
}

/// What an `Idempotency-Key` points at.
#[derive(Clone, Debug)]
pub(super) enum IdempotentEntity {
    Status(String),
    Scheduled(String),
}

#[derive(Clone, Debug)]
pub(super) struct FaultRuleState {
    pub rng: SplitMix,
    pub matched: u64,
    pub injected: u64,
}

/// The whole server state. Tests get clones of it; the fake mutates it under one lock.
#[derive(Clone, Debug)]
pub struct State {
    pub config: FakeConfig,
    pub apps: Vec<App>,
    pub auth_codes: Vec<AuthCode>,
    pub tokens: Vec<Token>,
    /// Accounts in the home server's database: local ones and the remote ones it has seen.
    pub accounts: Vec<Account>,
    pub follows: Vec<Follow>,
    pub blocks: Vec<Block>,
    pub mutes: Vec<Mute>,
    pub domain_blocks: Vec<DomainBlock>,
    pub lists: Vec<List>,
    pub bookmarks: Vec<Bookmark>,
    pub media: Vec<Media>,
    pub statuses: Vec<Status>,
    pub scheduled_statuses: Vec<ScheduledStatus>,
    /// Accounts that exist out in the fediverse (what remote WebFinger answers for).
    pub remote_accounts: Vec<RemoteAccount>,
    pub remote_statuses: Vec<RemoteStatus>,
    pub counters: Counters,
    pub(super) idempotency: HashMap<(String, String), (IdempotentEntity, DateTime<Utc>)>,
    pub(super) windows: HashMap<(String, String, i64), u64>,
    pub(super) fault_rules: Vec<FaultRuleState>,
    pub(super) rng: SplitMix,
    pub(super) last_snowflake: i64,
    pub(super) next_serial: u64,
}

impl State {
    pub(super) fn new(config: FakeConfig) -> State {
        let seed = config.faults.seed;
        let mut state = State {
            config,
            apps: Vec::new(),
            auth_codes: Vec::new(),
            tokens: Vec::new(),
            accounts: Vec::new(),
            follows: Vec::new(),
            blocks: Vec::new(),
            mutes: Vec::new(),
            domain_blocks: Vec::new(),
            lists: Vec::new(),
            bookmarks: Vec::new(),
            media: Vec::new(),
            statuses: Vec::new(),
            scheduled_statuses: Vec::new(),
            remote_accounts: Vec::new(),
            remote_statuses: Vec::new(),
            counters: Counters::default(),
            idempotency: HashMap::new(),
            windows: HashMap::new(),
            fault_rules: Vec::new(),
            rng: SplitMix::new(seed ^ 0x005e_ed0f_fa4e),
            last_snowflake: 0,
            next_serial: 1,
        };
        state.reset_fault_rules();
        state
    }

    pub(super) fn reset_fault_rules(&mut self) {
        let seed = self.config.faults.seed;
        self.fault_rules = (0..self.config.faults.rules.len())
            .map(|i| FaultRuleState {
                rng: SplitMix::new(seed.wrapping_add((i as u64 + 1).wrapping_mul(0x9E37_79B9))),
                matched: 0,
                injected: 0,
            })
            .collect();
    }

    /// A Mastodon-style id: milliseconds since the epoch shifted left 16 bits, made unique.
    pub(super) fn snowflake(&mut self, now: DateTime<Utc>) -> String {
        let candidate = now.timestamp_millis() << 16;
        self.last_snowflake = candidate.max(self.last_snowflake + 1);
        self.last_snowflake.to_string()
    }

    /// The id of a status backdated to `at` (GoToSocial's ULIDs carry the time): ordered
    /// by that time among the others, and unique.
    pub(super) fn backdated_id(&mut self, at: DateTime<Utc>) -> String {
        let mut candidate = at.timestamp_millis() << 16;
        while self.statuses.iter().any(|s| s.id == candidate.to_string()) {
            candidate += 1;
        }
        candidate.to_string()
    }

    /// A small sequential id (lists, apps, follows, scheduled statuses, tokens).
    pub(super) fn serial(&mut self) -> u64 {
        let n = self.next_serial;
        self.next_serial += 1;
        n
    }

    /// A random URL-safe secret.
    pub(super) fn secret(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..len)
            .map(|_| ALPHABET[(self.rng.next_u64() % ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// The account with this acct (`user` for local, `user@domain`), case-insensitively; the
    /// home host's own domain is accepted for local accounts.
    pub fn account_by_acct(&self, acct: &str) -> Option<&Account> {
        let acct = acct.trim_start_matches('@');
        let (user, domain) = match acct.split_once('@') {
            Some((u, d)) => (u, Some(d)),
            None => (acct, None),
        };
        let local = match domain {
            None => true,
            Some(d) => d.eq_ignore_ascii_case(&self.config.home_host),
        };
        self.accounts.iter().find(|a| {
            a.username.eq_ignore_ascii_case(user)
                && match (&a.domain, local) {
                    (None, true) => true,
                    (Some(ad), false) => ad.eq_ignore_ascii_case(domain.unwrap_or_default()),
                    _ => false,
                }
        })
    }

    /// The id of the account with this acct, if the server knows it.
    pub fn account_id(&self, acct: &str) -> Option<String> {
        self.account_by_acct(acct).map(|a| a.id.clone())
    }

    /// Follows and follow requests made by `account_id`.
    pub fn follows_by(&self, account_id: &str) -> Vec<&Follow> {
        self.follows
            .iter()
            .filter(|f| f.account_id == account_id)
            .collect()
    }

    /// Statuses of `account_id` that are not deleted.
    pub fn statuses_by(&self, account_id: &str) -> Vec<&Status> {
        self.statuses
            .iter()
            .filter(|s| s.account_id == account_id && !s.deleted)
            .collect()
    }

    pub(super) fn note_rate_limited(&mut self, throttle: &str) {
        self.counters.rate_limited += 1;
        *self
            .counters
            .rate_limited_by
            .entry(throttle.to_string())
            .or_insert(0) += 1;
    }

    pub(super) fn following_count(&self, account_id: &str) -> u64 {
        self.follows
            .iter()
            .filter(|f| f.account_id == account_id && !f.pending)
            .count() as u64
    }

    pub(super) fn followers_count(&self, account: &Account) -> u64 {
        account.followers_count
            + self
                .follows
                .iter()
                .filter(|f| f.target_id == account.id && !f.pending)
                .count() as u64
    }

    pub(super) fn statuses_count(&self, account_id: &str) -> u64 {
        self.statuses
            .iter()
            .filter(|s| s.account_id == account_id && !s.deleted)
            .count() as u64
    }
}
