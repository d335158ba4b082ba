//! Rate gates: one per limit family, waited on *before* a request is sent, so that a 429 is
//! the exception.
//!
//! Each gate is seeded with Mastodon's documented limits (MASTODON.md §2) and then learns from
//! the `X-RateLimit-*` headers of every answer. Mastodon's headers describe whichever throttle
//! is closest to exhaustion, so an answer to a follow may describe the follows family (400 per
//! UTC day) or the per-token API throttle (300 per 5 minutes): [`Gates::observe`] tells them
//! apart by the limit and the distance to the reset. A 429 (which carries no `Retry-After` on
//! Mastodon) closes the gate until its reset.
//!
//! Time comes from a [`Clock`], so tests can run days of limits in milliseconds.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};

use crate::net::http::RateLimit;

/// The source of "now".
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The limit families `migrate` paces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Every `/api` request: 300 per 5 minutes per token.
    Api,
    /// New follows: 400 per UTC day per account.
    Follows,
    /// New statuses: 300 per 3 hours per account.
    Statuses,
    /// Media uploads: 30 per 30 minutes per account.
    Media,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Api => "api",
            Family::Follows => "follows",
            Family::Statuses => "statuses",
            Family::Media => "media",
        }
    }

    pub fn from_name(s: &str) -> Option<Family> {
        Some(match s {
            "api" => Family::Api,
            "follows" => Family::Follows,
            "statuses" => Family::Statuses,
            "media" => Family::Media,
            _ => return None,
        })
    }

    /// Mastodon's default (limit, period).
    pub fn default_limit(self) -> (u64, Duration) {
        match self {
            Family::Api => (300, Duration::minutes(5)),
            Family::Follows => (400, Duration::days(1)),
            Family::Statuses => (300, Duration::hours(3)),
            Family::Media => (30, Duration::minutes(30)),
        }
    }

    /// A human description: "400 follows per day".
    pub fn describe(self, limit: u64) -> String {
        match self {
            Family::Api => format!("{limit} requests per 5 min"),
            Family::Follows => format!("{limit} follows per day (reset at 00:00 UTC)"),
            Family::Statuses => format!("{limit} posts per 3 h"),
            Family::Media => format!("{limit} uploads per 30 min"),
        }
    }
}

/// One family's window as last known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: u64,
    pub remaining: u64,
    pub reset: DateTime<Utc>,
    /// Whether the numbers came from the server (as opposed to the seed).
    pub learned: bool,
}

/// What to do before a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Go,
    /// A family is exhausted until `until`.
    Wait {
        family: Family,
        until: DateTime<Utc>,
    },
}

pub struct Gates {
    clock: Arc<dyn Clock>,
    windows: HashMap<Family, Window>,
    /// The period of each family as the server's successive resets show it (a server may run
    /// other periods than Mastodon's defaults).
    periods: HashMap<Family, Duration>,
}

impl Gates {
    pub fn new(clock: Arc<dyn Clock>) -> Gates {
        Gates {
            clock,
            windows: HashMap::new(),
            periods: HashMap::new(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The seed for a family: full, resetting at the end of the current aligned period
    /// (Mastodon's windows are aligned to the epoch, so the follows day ends at 00:00 UTC).
    fn seed(&self, family: Family) -> Window {
        let (limit, period) = family.default_limit();
        let now = self.now();
        let start = now
            .duration_trunc(period)
            .unwrap_or_else(|_| Utc.timestamp_opt(0, 0).unwrap());
        Window {
            limit,
            remaining: limit,
            reset: start + period,
            learned: false,
        }
    }

    /// The current window of `family`, renewed when its reset has passed.
    pub fn window(&mut self, family: Family) -> Window {
        let now = self.now();
        let w = match self.windows.get(&family) {
            Some(w) if w.reset > now => *w,
            Some(w) if w.learned => {
                // The learned window is over: the server renews it to its full limit. Its next
                // reset is a guess (one period on) until the next answer's headers say.
                let period = self.period(family);
                let mut reset = w.reset;
                while reset <= now {
                    reset += period;
                }
                Window {
                    limit: w.limit,
                    remaining: w.limit,
                    reset,
                    learned: false,
                }
            }
            _ => self.seed(family),
        };
        self.windows.insert(family, w);
        w
    }

    /// The family's period: learned from the server's resets, else Mastodon's default.
    fn period(&self, family: Family) -> Duration {
        self.periods
            .get(&family)
            .copied()
            .unwrap_or_else(|| family.default_limit().1)
    }

    /// Restores a window saved in the journal, when it still applies.
    pub fn restore(&mut self, family: Family, limit: u64, remaining: u64, reset: DateTime<Utc>) {
        if reset > self.now() {
            self.windows.insert(
                family,
                Window {
                    limit,
                    remaining: remaining.min(limit),
                    reset,
                    learned: true,
                },
            );
        }
    }

    /// Whether a request counting against `families` may go now.
    pub fn check(&mut self, families: &[Family]) -> Decision {
        let mut wait: Option<(Family, DateTime<Utc>)> = None;
        for &f in families {
            let w = self.window(f);
            if w.remaining == 0 && wait.is_none_or(|(_, until)| w.reset > until) {
                wait = Some((f, w.reset));
            }
        }
        match wait {
            Some((family, until)) => Decision::Wait { family, until },
            None => Decision::Go,
        }
    }

    /// Counts a request against `families` (before its answer arrives, so concurrent requests
    /// cannot overshoot).
    pub fn take(&mut self, families: &[Family]) {
        for &f in families {
            let mut w = self.window(f);
            w.remaining = w.remaining.saturating_sub(1);
            self.windows.insert(f, w);
        }
    }

    /// Learns from an answer's headers to a request of `family` (`Api` for plain calls).
    pub fn observe(&mut self, family: Family, rl: &RateLimit) {
        let now = self.now();
        let Some(reset) = rl.reset else {
            return;
        };
        // Mastodon's headers describe the throttle closest to exhaustion: the request's own
        // family, or the API throttle every request counts against. A limit and a reset that
        // fit only the API throttle are its; when they fit both (Mastodon: 300 posts per 3 h
        // and 300 requests per 5 min, in the last minutes of the posts' window — or any time
        // on a server whose clock runs fast), both windows learn them. That is safe either
        // way: the one they do not describe is bounded by numbers no larger than its own and a
        // reset no later than the true one's, so it never waits past the window that binds.
        let (_, api_period) = Family::Api.default_limit();
        let api_limit = self.window(Family::Api).limit;
        let api_like = rl.limit == api_limit && reset - now <= api_period + Duration::seconds(5);
        let own_like = family != Family::Api && self.window(family).limit == rl.limit;
        if api_like {
            self.learn(Family::Api, rl, reset, now);
            if own_like {
                self.learn(family, rl, reset, now);
            }
            return;
        }
        self.learn(family, rl, reset, now);
        // Every other throttle the request counted against — the API throttle, always — has
        // at least as much left. Without this, a window learned long ago would be counted down
        // locally to zero while the answers only spoke of another family.
        if family != Family::Api {
            let mut api = self.window(Family::Api);
            let floor = rl.remaining.min(api.limit);
            if api.remaining < floor {
                api.remaining = floor;
                self.windows.insert(Family::Api, api);
            }
        }
    }

    /// Sets `target`'s window from headers whose reset is `reset`.
    fn learn(&mut self, target: Family, rl: &RateLimit, reset: DateTime<Utc>, now: DateTime<Utc>) {
        let (_, period) = target.default_limit();
        // A reset already past (a slow answer, a skewed clock) means the window reopens now: a
        // second from now, so that a hostile server cannot make us retry in a hot loop. One
        // absurdly far ahead is bounded by the family's own period.
        let reset = if reset <= now {
            now + Duration::seconds(1)
        } else if reset - now > period + Duration::minutes(1) {
            let own = self.window(target).reset;
            own.min(now + period)
        } else {
            reset
        };
        // Two successive resets a period apart tell the period.
        if let Some(old) = self.windows.get(&target)
            && old.learned
            && reset > old.reset
        {
            let step = reset - old.reset;
            if step > Duration::zero() && step <= period {
                self.periods.insert(target, step);
            }
        }
        self.windows.insert(
            target,
            Window {
                limit: rl.limit,
                remaining: rl.remaining.min(rl.limit),
                reset,
                learned: true,
            },
        );
    }

    /// A 429 for a request of `family`: that family (or the API throttle, as the headers say)
    /// is closed until the reset.
    pub fn exhausted(&mut self, family: Family, rl: Option<&RateLimit>) {
        if let Some(rl) = rl {
            self.observe(family, rl);
        }
        let target = match rl {
            Some(rl) => {
                let api = self.window(Family::Api);
                if family != Family::Api && rl.remaining == 0 && api.remaining == 0 && api.learned {
                    Family::Api
                } else {
                    family
                }
            }
            None => family,
        };
        let mut w = self.window(target);
        w.remaining = 0;
        self.windows.insert(target, w);
    }

    /// The windows known, for saving in the journal.
    pub fn snapshot(&self) -> Vec<(Family, Window)> {
        self.windows.iter().map(|(f, w)| (*f, *w)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct TestClock(Mutex<DateTime<Utc>>);
    impl Clock for TestClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }
    impl TestClock {
        fn advance(&self, d: Duration) {
            *self.0.lock().unwrap() += d;
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn seeded_follow_window_ends_at_utc_midnight() {
        let clock = Arc::new(TestClock(Mutex::new(at("2026-11-26T14:00:00Z"))));
        let mut g = Gates::new(clock.clone());
        let w = g.window(Family::Follows);
        assert_eq!((w.limit, w.remaining), (400, 400));
        assert_eq!(w.reset, at("2026-11-27T00:00:00Z"));
    }

    #[test]
    fn waits_when_exhausted_and_reopens_after_reset() {
        let clock = Arc::new(TestClock(Mutex::new(at("2026-11-26T14:00:00Z"))));
        let mut g = Gates::new(clock.clone());
        g.observe(
            Family::Follows,
            &RateLimit {
                limit: 400,
                remaining: 1,
                reset: Some(at("2026-11-27T00:00:00Z")),
            },
        );
        assert_eq!(g.check(&[Family::Api, Family::Follows]), Decision::Go);
        g.take(&[Family::Api, Family::Follows]);
        assert_eq!(
            g.check(&[Family::Api, Family::Follows]),
            Decision::Wait {
                family: Family::Follows,
                until: at("2026-11-27T00:00:00Z")
            }
        );
        clock.advance(Duration::hours(10));
        assert_eq!(g.check(&[Family::Follows]), Decision::Go);
        assert_eq!(g.window(Family::Follows).remaining, 400);
    }

    #[test]
    fn api_headers_on_a_follow_answer_update_the_api_gate() {
        let clock = Arc::new(TestClock(Mutex::new(at("2026-11-26T14:00:00Z"))));
        let mut g = Gates::new(clock);
        g.observe(
            Family::Follows,
            &RateLimit {
                limit: 300,
                remaining: 3,
                reset: Some(at("2026-11-26T14:05:00Z")),
            },
        );
        assert_eq!(g.window(Family::Api).remaining, 3);
        assert_eq!(g.window(Family::Follows).remaining, 400);
    }

    #[test]
    fn headers_of_another_family_bound_the_api_window_from_below() {
        let clock = Arc::new(TestClock(Mutex::new(at("2026-11-26T14:00:00Z"))));
        let mut g = Gates::new(clock);
        g.observe(
            Family::Api,
            &RateLimit {
                limit: 300,
                remaining: 2,
                reset: Some(at("2026-11-26T14:05:00Z")),
            },
        );
        g.take(&[Family::Api]);
        g.take(&[Family::Api]);
        assert_eq!(g.window(Family::Api).remaining, 0);
        // The follows family is the closest to exhaustion at 150 left: the API has at least 150.
        g.observe(
            Family::Follows,
            &RateLimit {
                limit: 400,
                remaining: 150,
                reset: Some(at("2026-11-27T00:00:00Z")),
            },
        );
        assert_eq!(g.window(Family::Api).remaining, 150);
        assert_eq!(g.check(&[Family::Api, Family::Follows]), Decision::Go);
    }

    #[test]
    fn headers_that_fit_both_the_family_and_the_api_teach_both() {
        let clock = Arc::new(TestClock(Mutex::new(at("2026-11-26T14:57:00Z"))));
        let mut g = Gates::new(clock);
        for _ in 0..10 {
            g.take(&[Family::Api, Family::Statuses]);
        }
        // Three minutes before the posts' window ends, 300 with a near reset fits both.
        g.observe(
            Family::Statuses,
            &RateLimit {
                limit: 300,
                remaining: 0,
                reset: Some(at("2026-11-26T15:00:00Z")),
            },
        );
        for f in [Family::Api, Family::Statuses] {
            let w = g.window(f);
            assert_eq!(
                (w.remaining, w.reset),
                (0, at("2026-11-26T15:00:00Z")),
                "{f:?}"
            );
        }
        // A limit only the API throttle has teaches the API window alone.
        g.observe(
            Family::Media,
            &RateLimit {
                limit: 300,
                remaining: 7,
                reset: Some(at("2026-11-26T15:00:00Z")),
            },
        );
        assert_eq!(g.window(Family::Api).remaining, 7);
        assert_eq!(g.window(Family::Media).remaining, 30);
    }

    #[test]
    fn implausible_resets_are_bounded() {
        let clock = Arc::new(TestClock(Mutex::new(at("2026-11-26T14:00:00Z"))));
        let mut g = Gates::new(clock);
        // Years ahead: the wait is bounded by the family's own period.
        g.exhausted(
            Family::Statuses,
            Some(&RateLimit {
                limit: 300,
                remaining: 0,
                reset: Some(at("2031-01-01T00:00:00Z")),
            }),
        );
        match g.check(&[Family::Statuses]) {
            Decision::Wait { until, .. } => assert!(until <= at("2026-11-26T15:00:00Z")),
            Decision::Go => panic!("should wait"),
        }
        // In the past: the window reopens a second from now (never a hot loop, never a day).
        let clock = Arc::new(TestClock(Mutex::new(at("2026-11-26T14:00:00Z"))));
        let mut g = Gates::new(clock);
        g.exhausted(
            Family::Media,
            Some(&RateLimit {
                limit: 30,
                remaining: 0,
                reset: Some(at("2020-01-01T00:00:00Z")),
            }),
        );
        assert_eq!(
            g.check(&[Family::Media]),
            Decision::Wait {
                family: Family::Media,
                until: at("2026-11-26T14:00:01Z")
            }
        );
    }
}
