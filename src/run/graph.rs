//! Recreating a social graph in the target account: follows, blocks, mutes, domain blocks,
//! list members and bookmarks, resumable and paced.
//!
//! Phases, each recorded in the journal so a rerun continues where the last run stopped:
//! 1. **resolve** every handle through WebFinger (cached a week in the journal), giving each
//!    item its canonical handle or a failure with its reason;
//! 2. **plan**: skip duplicates by canonical handle, the account itself and accounts already
//!    followed or requested; check the follow limit; say what will happen and how long the
//!    daily follow budget makes it take;
//! 3. **apply** each item on the target server: `accounts/lookup`, then on 404 a resolving
//!    search taking only the exact `acct` match (never a fuzzy decoy), then the action, each
//!    request waiting on the rate gates first;
//! 4. **confirm** optimistic follows through `relationships`.
//!
//! An item is marked `sending` before its action and settled after the answer. Follows,
//! blocks and mutes are idempotent on the server, so an item found `sending` after a crash is
//! simply sent again; the journal keeps reports and `status` exact.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::net::http::HttpError;
use crate::net::mastodon::{Account, FollowOptions, Mastodon, exact_account};
use crate::net::webfinger::{Outcome, Resolution, Resolver};
use crate::plan::graph::{GraphItem, Op, follow_limit, skips};
use crate::source::handle::{Domain, Handle};

use super::events::{Event, Level, Sink};
use super::gate::Family;
use super::journal::{CachedLookup, Item, ItemState, Journal, JournalError};
use super::pacer::{PaceError, Pacer, Waits};

/// How the run behaves.
#[derive(Debug, Clone, Default)]
pub struct GraphOptions {
    /// Stop at the first exhausted rate window instead of waiting (exit code 3).
    pub no_wait: bool,
    /// Resolve and plan only; change nothing on the target.
    pub dry_run: bool,
    /// Follow the new account of a moved one instead of reporting it.
    pub follow_moved: bool,
}

/// Why a run ended before its end.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("stopped: the {family} rate window is exhausted until {until}")]
    RateWindow {
        family: String,
        until: DateTime<Utc>,
    },
    #[error(transparent)]
    Unauthorized(HttpError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("the target server failed")]
    Server(#[source] HttpError),
}

/// The end of a run: counts by outcome and by reason.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GraphSummary {
    pub total: u64,
    pub done: u64,
    pub skipped: u64,
    pub failed: u64,
    pub pending: u64,
    pub skipped_by_reason: HashMap<String, u64>,
    pub failed_by_reason: HashMap<String, u64>,
    /// Requests sent to the target server during this run.
    pub target_requests: u64,
    /// New follows sent during this run.
    pub follows_sent: u64,
}

/// The run's context.
pub struct GraphRun<'a> {
    pub client: &'a Mastodon,
    pub resolver: &'a Resolver,
    pub journal: &'a mut Journal,
    pub pacer: Pacer<'a>,
    pub sink: &'a mut dyn Sink,
    pub options: GraphOptions,
    pub run_id: i64,
    /// The account, `user@domain`.
    pub account: String,
    pub me: Account,
    /// The target server's domain, to read local `acct`s.
    pub home_domain: String,
    pub follows_sent: u64,
}

fn payload(item: &GraphItem) -> String {
    serde_json::to_string(item).expect("serializable")
}

fn decode(item: &Item) -> Option<GraphItem> {
    serde_json::from_str(&item.payload).ok()
}

/// The reason text kept for a server's refusal.
fn refusal(e: &HttpError) -> String {
    match e {
        HttpError::Forbidden { message, .. } => format!("refused by the server: {message}"),
        HttpError::NotFound { .. } => "the target server cannot find this account".into(),
        HttpError::Gone { .. } => "the account is gone".into(),
        HttpError::Unprocessable { message, .. } => format!("refused by the server: {message}"),
        other => other.to_string(),
    }
}

impl GraphRun<'_> {
    /// The items still to settle (pending, or sent by an interrupted run), decoded.
    fn open_items(&self) -> Result<Vec<(Item, GraphItem)>, GraphError> {
        Ok(self
            .journal
            .items(self.run_id, None)?
            .into_iter()
            .filter(|i| matches!(i.state, ItemState::Pending | ItemState::Sending))
            .filter_map(|i| decode(&i).map(|g| (i, g)))
            .collect())
    }

    fn save_gates(&mut self) -> Result<(), GraphError> {
        Ok(self.pacer.save(self.journal, &self.account)?)
    }

    /// Sends one request at the server's pace (see [`Pacer::call`]); a window that stops the
    /// run comes back as a 429 carrying its reset.
    async fn call<T, F, Fut>(&mut self, families: &[Family], f: F) -> Result<T, HttpError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, HttpError>>,
    {
        let mut waits = Waits {
            journal: self.journal,
            sink: &mut *self.sink,
            run_id: self.run_id,
            account: &self.account,
        };
        match self.pacer.call(families, &mut waits, f).await {
            Ok(v) => Ok(v),
            Err(PaceError::Http(e) | PaceError::Expired(e)) => Err(e),
            Err(PaceError::Window { until, .. }) => Err(HttpError::RateLimited {
                url: String::new(),
                rate_limit: Some(crate::net::http::RateLimit {
                    limit: 0,
                    remaining: 0,
                    reset: Some(until),
                }),
            }),
            Err(PaceError::Journal(e)) => Err(HttpError::Invalid {
                url: String::new(),
                message: e.to_string(),
            }),
        }
    }

    /// Phase 1: WebFinger every handle not resolved yet (the journal caches answers a week).
    pub async fn resolve(&mut self, concurrency_note: bool) -> Result<(), GraphError> {
        // The items are consumed, not kept beside their decoded copies for the whole phase.
        let todo: Vec<(String, GraphItem)> = self
            .journal
            .items(self.run_id, None)?
            .into_iter()
            .filter(|i| matches!(i.state, ItemState::Pending | ItemState::Sending))
            .filter_map(|i| decode(&i).map(|g| (i.key, g)))
            .filter(|(_, g)| g.op.handle().is_some() && g.canonical.is_none())
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        let total = todo.len() as u64;
        self.sink.emit(Event::Phase {
            phase: "resolve".into(),
            total,
        });
        if concurrency_note {
            self.sink.emit(Event::Note {
                level: Level::Info,
                text: format!("resolving {total} handles through WebFinger"),
            });
        }
        // Cached answers first; the rest concurrently within the resolver's limits.
        let mut results: Vec<(String, GraphItem, Resolution)> = Vec::new();
        let mut to_ask = Vec::new();
        for (key, g) in todo {
            let handle = g.op.handle().expect("filtered").to_string();
            let cached = self.journal.cached_lookup(&handle)?;
            match cached.and_then(|c| c.resolution(&handle)) {
                Some(r) => results.push((key, g, r)),
                None => to_ask.push((key, g, handle)),
            }
        }
        // Started in order, a bounded number at a time (see `crate::net::webfinger::LOOKUPS_IN_FLIGHT`).
        let mut set = tokio::task::JoinSet::new();
        let mut to_ask = to_ask.into_iter();
        let resolver = self.resolver.clone();
        let spawn = |set: &mut tokio::task::JoinSet<_>,
                     (key, g, handle): (String, GraphItem, String)| {
            let resolver = resolver.clone();
            set.spawn(async move {
                let r = match Handle::parse(&handle) {
                    Ok(h) => resolver.resolve(h.username(), &h.ascii_host()).await,
                    Err(e) => Resolution {
                        handle: handle.clone(),
                        outcome: Outcome::InvalidAnswer,
                        canonical: None,
                        actor: None,
                        reason: e.to_string(),
                    },
                };
                (key, g, r)
            });
        };
        for job in to_ask
            .by_ref()
            .take(crate::net::webfinger::LOOKUPS_IN_FLIGHT)
        {
            spawn(&mut set, job);
        }
        let mut done = results.len() as u64;
        self.sink.emit(Event::Progress {
            phase: "resolve".into(),
            done,
            total,
        });
        // Each answer: found (the payload gains the account), passing (left pending, asked
        // again next run) or final (failed, reported).
        let run_id = self.run_id;
        let settle = |j: &Journal,
                      key: String,
                      mut g: GraphItem,
                      r: Resolution|
         -> Result<Option<Event>, JournalError> {
            if r.outcome == Outcome::Found {
                g.canonical = r.canonical.clone();
                g.actor = r.actor.clone();
                j.set_payload(run_id, &key, &payload(&g))?;
            } else if r.outcome.is_transient() {
                j.mark_pending(run_id, &key, &r.reason)?;
            } else {
                j.mark_failed(run_id, &key, &r.reason)?;
                return Ok(Some(Event::Item {
                    key,
                    outcome: "failed".into(),
                    reason: Some(r.reason),
                }));
            }
            Ok(None)
        };
        let events = self.journal.batch(|j| {
            results
                .into_iter()
                .filter_map(|(key, g, r)| settle(j, key, g, r).transpose())
                .collect::<Result<Vec<_>, _>>()
        })?;
        for e in events {
            self.sink.emit(e);
        }
        // Answers that are in are written together (one sync), then the next is awaited.
        while let Some(first) = set.join_next().await {
            let mut answers = vec![first];
            while answers.len() < 256
                && let Some(more) = set.try_join_next()
            {
                answers.push(more);
            }
            for _ in 0..answers.len() {
                if let Some(job) = to_ask.next() {
                    spawn(&mut set, job);
                }
            }
            done += answers.len() as u64;
            let events = self.journal.batch(|j| {
                let mut events = Vec::new();
                for (key, g, r) in answers.into_iter().flatten() {
                    if r.outcome.is_cacheable() {
                        j.cache_lookup(g.op.handle().unwrap_or_default(), &CachedLookup::of(&r))?;
                    }
                    events.extend(settle(j, key, g, r)?);
                }
                Ok(events)
            })?;
            for e in events {
                self.sink.emit(e);
            }
            self.sink.emit(Event::Progress {
                phase: "resolve".into(),
                done,
                total,
            });
        }
        Ok(())
    }

    /// The accounts followed now (canonical handles, lowercase), through Link pagination.
    async fn current_follows(&mut self) -> Result<HashSet<String>, GraphError> {
        let mut set = HashSet::new();
        let mut next = None;
        loop {
            let client = self.client.clone();
            let id = self.me.id.clone();
            let n = next.clone();
            let page = self
                .call(&[Family::Api], || {
                    let client = client.clone();
                    let id = id.clone();
                    let n = n.clone();
                    async move { client.following_page(&id, n).await }
                })
                .await
                .map_err(|e| self.fatal(e))?;
            let empty = page.items.is_empty();
            for a in page.items {
                set.insert(self.full_acct(&a.acct));
            }
            match page.next {
                Some(url) if !empty => next = Some(url),
                _ => return Ok(set),
            }
        }
    }

    fn full_acct(&self, acct: &str) -> String {
        let acct = acct.to_lowercase();
        if acct.contains('@') {
            acct
        } else {
            format!("{acct}@{}", self.home_domain.to_lowercase())
        }
    }

    fn fatal(&self, e: HttpError) -> GraphError {
        match e {
            HttpError::Unauthorized { .. } => GraphError::Unauthorized(e),
            HttpError::RateLimited { rate_limit, .. } => GraphError::RateWindow {
                family: "api".into(),
                until: rate_limit.and_then(|r| r.reset).unwrap_or_else(Utc::now),
            },
            other => GraphError::Server(other),
        }
    }

    /// Phase 2: skip duplicates, yourself and what is already followed; check the follow limit;
    /// tell the plan. Returns how many follows remain to send.
    pub async fn plan(&mut self) -> Result<u64, GraphError> {
        let items = self.journal.items(self.run_id, None)?;
        let following = if items
            .iter()
            .filter(|i| i.state == ItemState::Pending || i.state == ItemState::Sending)
            .filter_map(decode)
            .any(|g| matches!(g.op, Op::Follow { .. }))
        {
            self.current_follows().await?
        } else {
            HashSet::new()
        };
        let open: Vec<(Item, GraphItem)> = items
            .into_iter()
            .filter(|i| matches!(i.state, ItemState::Pending | ItemState::Sending))
            .filter_map(|i| decode(&i).map(|g| (i, g)))
            .collect();
        // Only resolved items (or ones without a handle) can be planned.
        let ready: Vec<&(Item, GraphItem)> = open
            .iter()
            .filter(|(_, g)| g.op.handle().is_none() || g.canonical.is_some())
            .collect();
        let keys: Vec<(u64, &Op, String)> = ready
            .iter()
            .map(|(_, g)| {
                let c = g.canonical.clone().unwrap_or_else(|| g.op.key());
                (g.line, &g.op, c)
            })
            .collect();
        let refs: Vec<(u64, &Op, &str)> =
            keys.iter().map(|(l, o, c)| (*l, *o, c.as_str())).collect();
        let me = self.full_acct(&self.me.acct);
        // Lines already done count as "seen" for duplicates: rows of earlier runs are settled.
        let decisions = skips(&refs, &me, &following);
        let mut follows = 0u64;
        let mut skipped: std::collections::BTreeMap<String, u64> = Default::default();
        for ((item, g), skip) in ready.iter().zip(decisions) {
            if let Some(s) = &skip
                && !(matches!(s, crate::plan::graph::Skip::AlreadyFollowed)
                    && item.state == ItemState::Sending)
            {
                *skipped.entry(reason_class(&s.reason())).or_default() += 1;
            }
            match skip {
                // A follow sent by an earlier run that was stopped before its answer was
                // recorded: the server has it, so it is done, not skipped.
                Some(crate::plan::graph::Skip::AlreadyFollowed)
                    if item.state == ItemState::Sending =>
                {
                    self.journal.mark_done(
                        self.run_id,
                        &item.key,
                        g.account_id.as_deref(),
                        Some("followed (confirmed after an interruption)"),
                    )?;
                }
                Some(s) => {
                    self.journal
                        .mark_skipped(self.run_id, &item.key, &s.reason())?;
                }
                None => {
                    if item.key.starts_with("follow:") {
                        follows += 1;
                    }
                }
            }
        }
        if !skipped.is_empty() {
            let parts: Vec<String> = skipped.iter().map(|(r, n)| format!("{n} {r}")).collect();
            self.sink.emit(Event::Note {
                level: Level::Info,
                text: format!(
                    "skipping {}: {}",
                    skipped.values().sum::<u64>(),
                    parts.join(", ")
                ),
            });
        }
        let limit = follow_limit(self.me.following_count, self.me.followers_count);
        let room = limit.saturating_sub(self.me.following_count);
        if follows > room {
            self.sink.emit(Event::Note {
                level: Level::Warning,
                text: format!(
                    "the server allows {limit} follows for this account ({} now): only {room} of the {follows} new follows can be made; the rest will be reported",
                    self.me.following_count
                ),
            });
        }
        Ok(follows.min(room))
    }

    /// Finds the account on the target: lookup, then a resolving search (exact match only).
    async fn find_account(&mut self, canonical: &str) -> Result<Option<Account>, HttpError> {
        let client = self.client.clone();
        let acct = canonical.to_string();
        let found = self
            .call(&[Family::Api], || {
                let client = client.clone();
                let acct = acct.clone();
                async move {
                    match client.lookup(&acct).await {
                        Ok(a) => Ok(Some(a)),
                        Err(HttpError::NotFound { .. }) => Ok(None),
                        Err(e) => Err(e),
                    }
                }
            })
            .await?;
        if found.is_some() {
            return Ok(found);
        }
        let home = self.home_domain.clone();
        let results = self
            .call(&[Family::Api], || {
                let client = client.clone();
                let acct = acct.clone();
                async move {
                    match client.search_accounts(&acct, true).await {
                        Ok(r) => Ok(r),
                        Err(HttpError::NotFound { .. }) => Ok(Vec::new()),
                        Err(e) => Err(e),
                    }
                }
            })
            .await?;
        Ok(exact_account(&results, canonical, &home).cloned())
    }

    /// Finds every open item's account on the target (ids kept in the journal), then asks
    /// `relationships` 40 at a time and skips follows that already exist or are requested —
    /// pending requests are not in the following list, so this is the only way to see them.
    pub async fn locate(&mut self) -> Result<(), GraphError> {
        if self.options.dry_run {
            return Ok(());
        }
        let items: Vec<(Item, GraphItem)> = self
            .open_items()?
            .into_iter()
            .filter(|(_, g)| g.op.handle().is_some() && g.canonical.is_some())
            .collect();
        let todo: Vec<&(Item, GraphItem)> = items
            .iter()
            .filter(|(_, g)| g.account_id.is_none())
            .collect();
        if !todo.is_empty() {
            let total = todo.len() as u64;
            self.sink.emit(Event::Phase {
                phase: "locate".into(),
                total,
            });
            for (n, (item, g)) in todo.into_iter().enumerate() {
                let mut g = g.clone();
                let canonical = g.canonical.clone().expect("filtered");
                match self.find_account(&canonical).await {
                    Ok(Some(a)) => {
                        g.account_id = Some(a.id.clone());
                        if let Some(m) = &a.moved {
                            g.moved_to = Some(self.full_acct(&m.acct));
                        }
                        self.journal
                            .set_payload(self.run_id, &item.key, &payload(&g))?;
                    }
                    Ok(None) => {
                        self.journal.mark_failed(
                            self.run_id,
                            &item.key,
                            "the target server could not find this account",
                        )?;
                    }
                    Err(e) if e.is_transient() => {
                        if let HttpError::RateLimited { .. } = e {
                            return Err(self.fatal(e));
                        }
                        self.journal
                            .mark_pending(self.run_id, &item.key, &e.to_string())?;
                    }
                    Err(e @ HttpError::Unauthorized { .. }) => {
                        return Err(GraphError::Unauthorized(e));
                    }
                    Err(e) => {
                        self.journal
                            .mark_failed(self.run_id, &item.key, &refusal(&e))?;
                    }
                }
                self.sink.emit(Event::Progress {
                    phase: "locate".into(),
                    done: n as u64 + 1,
                    total,
                });
            }
        }
        // Follows that exist already, or wait for approval, cost no request.
        let follows: Vec<(Item, GraphItem)> = self
            .open_items()?
            .into_iter()
            .filter(|(_, g)| matches!(g.op, Op::Follow { .. }) && g.account_id.is_some())
            .collect();
        let client = self.client.clone();
        for batch in follows.chunks(crate::net::mastodon::RELATIONSHIP_BATCH) {
            let ids: Vec<String> = batch
                .iter()
                .filter_map(|(_, g)| g.account_id.clone())
                .collect();
            let rels = self
                .call(&[Family::Api], || {
                    let client = client.clone();
                    let ids = ids.clone();
                    async move { client.relationships(&ids).await }
                })
                .await
                .map_err(|e| self.fatal(e))?;
            let by_id: HashMap<&str, _> = rels.iter().map(|r| (r.id.as_str(), r)).collect();
            for (item, g) in batch {
                let rel = by_id.get(g.account_id.as_deref().unwrap_or_default());
                if item.state == ItemState::Sending {
                    // Sent by an interrupted run: what the server shows is its outcome.
                    match rel {
                        Some(r) if r.following || r.requested => {
                            let note = if r.following {
                                "followed (confirmed after an interruption)"
                            } else {
                                "requested (confirmed after an interruption)"
                            };
                            self.journal.mark_done(
                                self.run_id,
                                &item.key,
                                g.account_id.as_deref(),
                                Some(note),
                            )?;
                        }
                        // Not there: the request never arrived; it is sent again.
                        _ => self
                            .journal
                            .mark_pending(self.run_id, &item.key, "resent")?,
                    }
                    continue;
                }
                match rel {
                    Some(r) if r.following => {
                        self.journal
                            .mark_skipped(self.run_id, &item.key, "already followed")?;
                    }
                    Some(r) if r.requested => {
                        self.journal.mark_skipped(
                            self.run_id,
                            &item.key,
                            "already requested (waiting for approval)",
                        )?;
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Phase 3: carry out every open item, in input order.
    pub async fn apply(&mut self) -> Result<(), GraphError> {
        let items: Vec<(Item, GraphItem)> = self
            .open_items()?
            .into_iter()
            .filter(|(_, g)| g.op.handle().is_none() || g.canonical.is_some())
            .collect();
        let total = items.len() as u64;
        if total == 0 {
            return Ok(());
        }
        self.sink.emit(Event::Phase {
            phase: "apply".into(),
            total,
        });
        let mut lists: Option<HashMap<String, String>> = None;
        let mut follow_limit_hit: Option<String> = None;
        for (n, (item, mut g)) in items.into_iter().enumerate() {
            let key = item.key.clone();
            if self.options.dry_run {
                continue;
            }
            if let (Some(reason), Op::Follow { .. } | Op::ListMember { .. }) =
                (&follow_limit_hit, &g.op)
            {
                self.journal.mark_failed(self.run_id, &key, reason)?;
                continue;
            }
            let outcome = match self.apply_one(&key, &mut g, &mut lists).await {
                Ok(v) => Ok(v),
                Err(StepError::Journal(e)) => return Err(e.into()),
                Err(StepError::Http(e)) => Err(e),
            };
            match outcome {
                Ok(Some(note)) => {
                    self.sink.emit(Event::Item {
                        key: key.clone(),
                        outcome: "done".into(),
                        reason: Some(note),
                    });
                }
                Ok(None) => {}
                Err(e @ HttpError::Unauthorized { .. }) => {
                    self.journal
                        .mark_pending(self.run_id, &key, "stopped: token rejected")?;
                    return Err(GraphError::Unauthorized(e));
                }
                Err(HttpError::RateLimited { rate_limit, .. }) => {
                    self.journal
                        .mark_pending(self.run_id, &key, "waiting for the rate window")?;
                    self.save_gates()?;
                    let until = rate_limit.and_then(|r| r.reset).unwrap_or_else(Utc::now);
                    let family = if key.starts_with("follow:") {
                        "follows"
                    } else {
                        "api"
                    };
                    self.journal.set_waiting(
                        self.run_id,
                        Some(&format!(
                            "{family} rate window until {}",
                            until.to_rfc3339()
                        )),
                    )?;
                    return Err(GraphError::RateWindow {
                        family: family.into(),
                        until,
                    });
                }
                Err(e) if e.is_transient() => {
                    // Still failing after retries: leave it for the next run — as sent when
                    // the server may have acted on it, so that the next run looks at the
                    // account's relationships before counting it as done or sending it again.
                    if !e.maybe_processed() {
                        self.journal
                            .mark_pending(self.run_id, &key, &e.to_string())?;
                    }
                    self.sink.emit(Event::Note {
                        level: Level::Warning,
                        text: format!("{key}: {e}; it will be tried again on the next run"),
                    });
                }
                Err(HttpError::Unprocessable { message, .. })
                    if matches!(g.op, Op::Follow { .. })
                        && message.to_lowercase().contains("follow") =>
                {
                    let reason = format!("the server's follow limit is reached: {message}");
                    self.journal.mark_failed(self.run_id, &key, &reason)?;
                    follow_limit_hit = Some(reason);
                }
                Err(e) => {
                    let reason = refusal(&e);
                    self.journal.mark_failed(self.run_id, &key, &reason)?;
                    self.sink.emit(Event::Item {
                        key: key.clone(),
                        outcome: "failed".into(),
                        reason: Some(reason),
                    });
                }
            }
            self.sink.emit(Event::Progress {
                phase: "apply".into(),
                done: n as u64 + 1,
                total,
            });
        }
        self.save_gates()?;
        Ok(())
    }

    /// One item. `Ok(Some(note))` when done with a note, `Ok(None)` when settled otherwise.
    async fn apply_one(
        &mut self,
        key: &str,
        g: &mut GraphItem,
        lists: &mut Option<HashMap<String, String>>,
    ) -> Result<Option<String>, StepError> {
        let client = self.client.clone();
        // Find the account on the target (once; the id is kept in the payload).
        if g.op.handle().is_some() && g.account_id.is_none() {
            let canonical = g.canonical.clone().expect("resolved");
            match self.find_account(&canonical).await? {
                Some(a) => {
                    g.account_id = Some(a.id.clone());
                    if let Some(m) = &a.moved {
                        g.moved_to = Some(self.full_acct(&m.acct));
                    }
                    self.journal.set_payload(self.run_id, key, &payload(g))?;
                }
                None => {
                    self.journal.mark_failed(
                        self.run_id,
                        key,
                        "the target server could not find this account",
                    )?;
                    return Ok(None);
                }
            }
        }
        if let (Some(moved), Op::Follow { .. }) = (g.moved_to.clone(), &g.op) {
            if !self.options.follow_moved {
                self.journal.mark_failed(
                    self.run_id,
                    key,
                    &format!("the account moved to {moved} (use --follow-moved to follow it)"),
                )?;
                return Ok(None);
            }
            // Follow the new account instead.
            match self.find_account(&moved).await? {
                Some(a) => {
                    g.account_id = Some(a.id);
                    g.canonical = Some(moved.clone());
                    g.moved_to = None;
                    self.journal.set_payload(self.run_id, key, &payload(g))?;
                }
                None => {
                    self.journal.mark_failed(
                        self.run_id,
                        key,
                        &format!(
                            "the account moved to {moved}, which the target server cannot find"
                        ),
                    )?;
                    return Ok(None);
                }
            }
        }
        let id = g.account_id.clone().unwrap_or_default();
        self.journal.mark_sending(self.run_id, key, None)?;
        let note = match g.op.clone() {
            Op::Follow {
                reblogs,
                notify,
                languages,
                ..
            } => {
                let options = FollowOptions {
                    reblogs,
                    notify,
                    languages,
                };
                let rel = self
                    .call(&[Family::Api, Family::Follows], || {
                        let client = client.clone();
                        let id = id.clone();
                        let options = options.clone();
                        async move { client.follow(&id, &options).await }
                    })
                    .await?;
                self.follows_sent += 1;
                if rel.requested {
                    "requested (the account approves followers)".to_string()
                } else {
                    g.unconfirmed = true;
                    self.journal.set_payload(self.run_id, key, &payload(g))?;
                    "followed".to_string()
                }
            }
            Op::Block { .. } => {
                self.call(&[Family::Api], || {
                    let client = client.clone();
                    let id = id.clone();
                    async move { client.block(&id).await }
                })
                .await?;
                "blocked".into()
            }
            Op::Mute { notifications, .. } => {
                let n = notifications.unwrap_or(true);
                self.call(&[Family::Api], || {
                    let client = client.clone();
                    let id = id.clone();
                    async move { client.mute(&id, n).await }
                })
                .await?;
                "muted".into()
            }
            Op::DomainBlock { domain } => {
                let domain = Domain::parse(&domain)
                    .map(|d| d.ascii().to_string())
                    .unwrap_or(domain);
                self.call(&[Family::Api], || {
                    let client = client.clone();
                    let domain = domain.clone();
                    async move { client.block_domain(&domain).await }
                })
                .await?;
                "domain blocked".into()
            }
            Op::ListMember { list, .. } => {
                if lists.is_none() {
                    let existing = self
                        .call(&[Family::Api], || {
                            let client = client.clone();
                            async move { client.lists().await }
                        })
                        .await?;
                    *lists = Some(existing.into_iter().map(|l| (l.title, l.id)).collect());
                }
                let known = lists.as_ref().and_then(|m| m.get(&list).cloned());
                let list_id = match known {
                    Some(id) => id,
                    None => {
                        let created = self
                            .call(&[Family::Api], || {
                                let client = client.clone();
                                let list = list.clone();
                                async move { client.create_list(&list).await }
                            })
                            .await?;
                        lists
                            .get_or_insert_with(HashMap::new)
                            .insert(list.clone(), created.id.clone());
                        created.id
                    }
                };
                // Mastodon only lists accounts that are followed: follow first (idempotent).
                let rel = self
                    .call(&[Family::Api, Family::Follows], || {
                        let client = client.clone();
                        let id = id.clone();
                        async move { client.follow(&id, &FollowOptions::default()).await }
                    })
                    .await?;
                if rel.requested && !rel.following {
                    self.journal.mark_failed(
                        self.run_id,
                        key,
                        "the account approves followers: it can join the list once it accepts",
                    )?;
                    return Ok(None);
                }
                let added = self
                    .call(&[Family::Api], || {
                        let client = client.clone();
                        let list_id = list_id.clone();
                        let id = id.clone();
                        async move { client.add_to_list(&list_id, &[id]).await }
                    })
                    .await;
                match added {
                    Ok(()) => format!("added to list {list}"),
                    // Adding a member twice is refused (422 "has already been taken"): after a
                    // lost answer or an interrupted run, that means it is done. We send no
                    // Accept-Language, so the server's message is in English.
                    Err(HttpError::Unprocessable { message, .. })
                        if message.to_lowercase().contains("already been taken") =>
                    {
                        format!("already in list {list}")
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Op::Bookmark { uri } => {
                let found = self
                    .call(&[Family::Api], || {
                        let client = client.clone();
                        let uri = uri.clone();
                        async move { client.search_status(&uri).await }
                    })
                    .await?;
                let Some(status) = found
                    .into_iter()
                    .find(|s| s.uri == uri || s.url.as_deref() == Some(uri.as_str()))
                else {
                    self.journal.mark_failed(
                        self.run_id,
                        key,
                        "the target server could not find this post",
                    )?;
                    return Ok(None);
                };
                self.call(&[Family::Api], || {
                    let client = client.clone();
                    let id = status.id.clone();
                    async move { client.bookmark(&id).await }
                })
                .await?;
                "bookmarked".into()
            }
        };
        self.journal
            .mark_done(self.run_id, key, g.account_id.as_deref(), Some(&note))?;
        Ok(Some(note))
    }

    /// Phase 4: confirm optimistic follows (`following: true` for a remote account is a
    /// request still in flight) through `relationships`, 40 at a time.
    pub async fn confirm(&mut self) -> Result<(), GraphError> {
        if self.options.dry_run {
            return Ok(());
        }
        let items: Vec<(Item, GraphItem)> = self
            .journal
            .items(self.run_id, Some(ItemState::Done))?
            .into_iter()
            .filter_map(|i| decode(&i).map(|g| (i, g)))
            .filter(|(_, g)| g.unconfirmed && g.account_id.is_some())
            .collect();
        for batch in items.chunks(crate::net::mastodon::RELATIONSHIP_BATCH) {
            let ids: Vec<String> = batch
                .iter()
                .filter_map(|(_, g)| g.account_id.clone())
                .collect();
            let client = self.client.clone();
            let rels = self
                .call(&[Family::Api], || {
                    let client = client.clone();
                    let ids = ids.clone();
                    async move { client.relationships(&ids).await }
                })
                .await
                .map_err(|e| self.fatal(e))?;
            let by_id: HashMap<&str, _> = rels.iter().map(|r| (r.id.as_str(), r)).collect();
            for (item, g) in batch {
                let id = g.account_id.as_deref().unwrap_or_default();
                let note = match by_id.get(id) {
                    Some(r) if r.following => "followed (confirmed)",
                    Some(r) if r.requested => "requested (waiting for the other server)",
                    Some(_) => {
                        self.journal.mark_failed(
                            self.run_id,
                            &item.key,
                            "the follow did not take: the server shows no follow or request",
                        )?;
                        continue;
                    }
                    None => "followed (the server did not report the relationship)",
                };
                let mut g = g.clone();
                g.unconfirmed = false;
                self.journal
                    .set_payload(self.run_id, &item.key, &payload(&g))?;
                self.journal.mark_done(
                    self.run_id,
                    &item.key,
                    g.account_id.as_deref(),
                    Some(note),
                )?;
            }
        }
        Ok(())
    }

    /// Counts for the summary.
    pub fn summary(&self) -> Result<GraphSummary, GraphError> {
        let mut s = GraphSummary {
            target_requests: self.pacer.requests,
            follows_sent: self.follows_sent,
            ..Default::default()
        };
        for i in self.journal.items(self.run_id, None)? {
            s.total += 1;
            let reason = i.reason.clone().unwrap_or_default();
            match i.state {
                ItemState::Done => s.done += 1,
                ItemState::Skipped => {
                    s.skipped += 1;
                    *s.skipped_by_reason
                        .entry(reason_class(&reason))
                        .or_default() += 1;
                }
                ItemState::Failed => {
                    s.failed += 1;
                    *s.failed_by_reason.entry(reason_class(&reason)).or_default() += 1;
                }
                ItemState::Pending | ItemState::Sending => s.pending += 1,
            }
        }
        Ok(s)
    }
}

/// A step's failure: the server's (reported per item) or the journal's (fatal).
enum StepError {
    Http(HttpError),
    Journal(JournalError),
}

impl From<HttpError> for StepError {
    fn from(e: HttpError) -> Self {
        StepError::Http(e)
    }
}

impl From<JournalError> for StepError {
    fn from(e: JournalError) -> Self {
        StepError::Journal(e)
    }
}

/// Groups reasons for the summary: "duplicate of line 3" and "duplicate of line 9" are one.
pub fn reason_class(reason: &str) -> String {
    let r = reason.to_lowercase();
    for (needle, class) in [
        ("duplicate", "duplicate"),
        ("already followed", "already followed"),
        ("already requested", "already requested"),
        ("your own account", "your own account"),
        ("moved to", "moved"),
        ("no such account", "not found"),
        ("could not find", "not found on the target server"),
        ("gone", "gone"),
        ("could not be reached", "host unreachable"),
        ("did not answer in time", "timed out"),
        ("no activitypub", "not an ActivityPub account"),
        ("follow limit", "follow limit"),
        ("refused by the server", "refused by the server"),
    ] {
        if r.contains(needle) {
            return class.to_string();
        }
    }
    if r.contains("webfinger") || r.contains("confirm") || r.contains("invalid") {
        return "invalid WebFinger answer".into();
    }
    reason.chars().take(60).collect()
}
