//! Sending a request at the server's pace: wait on the rate gates first (or stop under
//! `--no-wait`), learn from the answer's headers, close a gate on a 429, and retry transient
//! failures with backoff. Shared by every run that talks to the target server.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::net::http::{HttpError, RateLimit};
use crate::net::mastodon::Mastodon;

use super::events::{Event, Level, Sink};
use super::gate::{Decision, Family, Gates};
use super::journal::{GateRecord, Journal, JournalError};

/// Why a paced request did not get an answer.
#[derive(Debug)]
pub enum PaceError {
    /// A window is exhausted and `--no-wait` says stop (or 429s kept coming).
    Window {
        family: Family,
        until: DateTime<Utc>,
    },
    Http(HttpError),
    Journal(JournalError),
    /// A retry would leave after the caller's deadline (see [`Pacer::call_until`]); the last
    /// attempt's answer was lost.
    Expired(HttpError),
}

/// Tries per request for transient failures (5xx, network) and for 429s. Between transient
/// failures the wait doubles from half a second up to [`MAX_BACKOFF`]: eight tries span about a
/// minute, long enough for a server to restart or a load spike to pass, short enough that a
/// server that is down stops the run (exit 3, resumable) instead of hanging it.
const TRANSIENT_TRIES: u32 = 8;
const RATE_LIMITED_TRIES: u32 = 6;
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// From this failed try on, each retry is announced (the first ones pass unremarked).
const ANNOUNCE_FROM: u32 = 3;

/// The pacing state of a run, and what it reports waits to.
pub struct Pacer<'a> {
    pub client: &'a Mastodon,
    pub gates: &'a mut Gates,
    pub no_wait: bool,
    /// Requests sent to the target server.
    pub requests: u64,
}

/// Where a run records that it waits: the journal (for `migrate status`) and the user.
pub struct Waits<'a> {
    pub journal: &'a Journal,
    pub sink: &'a mut dyn Sink,
    pub run_id: i64,
    pub account: &'a str,
}

impl Pacer<'_> {
    /// Saves the windows learned from the server, so a rerun knows the budget spent.
    pub fn save(&self, journal: &Journal, account: &str) -> Result<(), JournalError> {
        for (family, w) in self.gates.snapshot() {
            if w.learned {
                journal.save_gate(
                    account,
                    family.name(),
                    &GateRecord {
                        limit: w.limit,
                        remaining: w.remaining,
                        reset: w.reset,
                    },
                )?;
            }
        }
        Ok(())
    }

    /// Waits on the gates for `families`, then counts the request against them.
    async fn pace(&mut self, families: &[Family], waits: &mut Waits<'_>) -> Result<(), PaceError> {
        loop {
            match self.gates.check(families) {
                Decision::Go => {
                    self.gates.take(families);
                    return Ok(());
                }
                Decision::Wait { family, until } => {
                    let limit = self.gates.window(family).limit;
                    let what = format!("{} until {}", family.describe(limit), until.to_rfc3339());
                    waits
                        .journal
                        .set_waiting(waits.run_id, Some(&what))
                        .map_err(PaceError::Journal)?;
                    self.save(waits.journal, waits.account)
                        .map_err(PaceError::Journal)?;
                    if self.no_wait {
                        return Err(PaceError::Window { family, until });
                    }
                    // Sleep a second at a time, telling the user each time: a countdown.
                    loop {
                        waits.sink.emit(Event::Waiting {
                            family: family.name().into(),
                            until,
                            description: family.describe(limit),
                        });
                        let left = (until - self.gates.now()).to_std().unwrap_or_default();
                        if left.is_zero() {
                            break;
                        }
                        tokio::time::sleep(left.min(Duration::from_secs(1))).await;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    waits
                        .journal
                        .set_waiting(waits.run_id, None)
                        .map_err(PaceError::Journal)?;
                }
            }
        }
    }

    /// Sends one request counting against `families` (the last one names the answer's
    /// headers), at the server's pace (see the module doc).
    pub async fn call<T, F, Fut>(
        &mut self,
        families: &[Family],
        waits: &mut Waits<'_>,
        f: F,
    ) -> Result<T, PaceError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, HttpError>>,
    {
        self.call_until(families, waits, None, f).await
    }

    /// As [`Pacer::call`], but a retry is not sent after `deadline` (when waits on the gates
    /// make it that late): [`PaceError::Expired`] instead. For requests whose replay is safe
    /// only for a while, such as a status whose idempotency key the server keeps for an hour.
    pub async fn call_until<T, F, Fut>(
        &mut self,
        families: &[Family],
        waits: &mut Waits<'_>,
        deadline: Option<std::time::Instant>,
        mut f: F,
    ) -> Result<T, PaceError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, HttpError>>,
    {
        let mut last: Option<HttpError> = None;
        let primary = *families.last().unwrap_or(&Family::Api);
        let mut delay = Duration::from_millis(500);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.pace(families, waits).await?;
            if let (Some(deadline), Some(e)) = (deadline, last.take())
                && std::time::Instant::now() > deadline
            {
                return Err(PaceError::Expired(e));
            }
            self.requests += 1;
            let _ = self.client.take_rate_limit();
            let result = f().await;
            let headers: Option<RateLimit> = self.client.take_rate_limit();
            match result {
                Ok(v) => {
                    if let Some(rl) = headers {
                        self.gates.observe(primary, &rl);
                    }
                    return Ok(v);
                }
                Err(HttpError::RateLimited { rate_limit, .. }) => {
                    // Refused before anything was done: a replay is always safe.
                    self.gates.exhausted(primary, rate_limit.as_ref());
                    if self.no_wait || attempt >= RATE_LIMITED_TRIES {
                        // The gate's reset, bounded as the gates bound a server's claims (a
                        // reset in the past or years ahead), not the header's raw one.
                        let until = match self.gates.check(families) {
                            Decision::Wait { until, .. } => until,
                            Decision::Go => self.gates.now(),
                        };
                        return Err(PaceError::Window {
                            family: primary,
                            until,
                        });
                    }
                }
                Err(e) if e.is_transient() && attempt < TRANSIENT_TRIES => {
                    if attempt >= ANNOUNCE_FROM {
                        waits.sink.emit(Event::Note {
                            level: Level::Warning,
                            text: format!(
                                "{e}; trying again in {} s (try {} of {TRANSIENT_TRIES})",
                                delay.as_secs_f64().ceil(),
                                attempt + 1
                            ),
                        });
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_BACKOFF);
                    last = Some(e);
                }
                Err(e) => return Err(PaceError::Http(e)),
            }
        }
    }
}
