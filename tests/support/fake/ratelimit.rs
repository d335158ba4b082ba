//! Mastodon's throttles (MASTODON.md §2): rack-attack's request throttles, checked before the
//! request reaches the API, and the per-account `RateLimiter` families (follows, statuses),
//! checked when a follow or status is created. All windows are fixed and aligned to the
//! epoch of the fake clock; a reset is `now + (period - now % period)` with now's fraction kept.

use chrono::{DateTime, Utc};

use super::config::Limit;
use super::request::{RateHeaders, Req, Resp};
use super::state::State;

/// One throttle's reading for this request.
#[derive(Clone, Debug)]
pub struct Throttle {
    pub name: &'static str,
    pub limit: u64,
    pub count: u64,
    pub period_secs: i64,
}

impl Throttle {
    pub fn headers(&self, now: DateTime<Utc>) -> RateHeaders {
        RateHeaders {
            limit: self.limit,
            remaining: self.limit.saturating_sub(self.count),
            reset: reset_at(now, self.period_secs),
        }
    }
}

pub fn reset_at(now: DateTime<Utc>, period_secs: i64) -> String {
    let secs = now.timestamp();
    let until = period_secs - secs.rem_euclid(period_secs);
    let reset = now + chrono::Duration::seconds(until);
    reset.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn window(now: DateTime<Utc>, period_secs: i64) -> i64 {
    now.timestamp().div_euclid(period_secs)
}

fn period_secs(limit: &Limit) -> i64 {
    (limit.period.as_secs() as i64).max(1)
}

/// Who a request is, for rack-attack.
pub struct Caller {
    pub token_id: Option<u64>,
    pub user_id: Option<String>,
}

/// Counts the request against every rack-attack throttle it falls under, in rack-attack's
/// order. `Err` is the throttle that refused it (later throttles are not counted then, as
/// rack-attack stops at the first match).
pub fn rack(
    state: &mut State,
    req: &Req,
    caller: &Caller,
    now: DateTime<Utc>,
) -> Result<Vec<Throttle>, Throttle> {
    let limits = state.config.rate_limits.clone();
    let path = req.path.trim_end_matches('/').to_ascii_lowercase();
    let is_post = req.method == axum::http::Method::POST;
    let is_delete = req.method == axum::http::Method::DELETE;
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let media_upload = is_post
        && segs.len() == 3
        && segs[0] == "api"
        && segs[2] == "media"
        && segs[1].starts_with('v')
        && segs[1][1..].chars().all(|c| c.is_ascii_digit());
    let delete = (is_delete && segs.len() == 4 && segs[..3] == ["api", "v1", "statuses"])
        || (is_post
            && segs.len() == 5
            && segs[..3] == ["api", "v1", "statuses"]
            && segs[4] == "unreblog");
    let paging = ["page", "min_id", "max_id", "since_id"]
        .iter()
        .any(|k| req.params.has(k));

    let mut checks: Vec<(&'static str, Limit, String)> = Vec::new();
    let user = caller.user_id.clone();
    if let (Some(l), None) = (limits.unauthenticated, &user) {
        checks.push(("unauthenticated", l, "ip".into()));
    }
    if let (Some(l), Some(t)) = (limits.per_token, caller.token_id) {
        checks.push(("per_token", l, t.to_string()));
    }
    if let (Some(l), Some(u)) = (limits.per_user, &user) {
        checks.push(("per_user", l, u.clone()));
    }
    if let (Some(l), Some(u), true) = (limits.media, &user, media_upload) {
        checks.push(("media", l, u.clone()));
    }
    if let (Some(l), true) = (limits.paging, paging) {
        checks.push(("paging", l, user.clone().unwrap_or_else(|| "ip".into())));
    }
    if let (Some(l), Some(u), true) = (limits.deletes, &user, delete) {
        checks.push(("deletes", l, u.clone()));
    }

    let mut out = Vec::new();
    for (name, limit, discriminator) in checks {
        let period = period_secs(&limit);
        let key = (name.to_string(), discriminator, window(now, period));
        let count = state.windows.entry(key).or_insert(0);
        *count += 1;
        let throttle = Throttle {
            name,
            limit: limit.limit,
            count: *count,
            period_secs: period,
        };
        if throttle.count > throttle.limit {
            return Err(throttle);
        }
        out.push(throttle);
    }
    Ok(out)
}

/// The headers of the throttle closest to exhaustion (`min_by { limit - count }`).
pub fn closest(throttles: &[Throttle], now: DateTime<Utc>) -> Option<RateHeaders> {
    throttles
        .iter()
        .min_by_key(|t| t.limit as i64 - t.count as i64)
        .map(|t| t.headers(now))
}

pub fn apply_headers(resp: &mut Resp, headers: &RateHeaders) {
    resp.set_header("X-RateLimit-Limit", headers.limit.to_string());
    resp.set_header("X-RateLimit-Remaining", headers.remaining.to_string());
    resp.set_header("X-RateLimit-Reset", headers.reset.clone());
}

/// `override_rate_limit_headers`: the family's headers replace rack-attack's unless
/// rack-attack's remaining count is lower.
pub fn merge_family(resp: &mut Resp) {
    let Some(family) = resp.family.take() else {
        return;
    };
    let rack_remaining = resp
        .get_header("X-RateLimit-Remaining")
        .and_then(|v| v.parse::<u64>().ok());
    if rack_remaining.is_none_or(|r| family.remaining <= r) {
        apply_headers(resp, &family);
    }
}

/// A per-account `RateLimiter` family (`follows` or `statuses`).
pub struct Family {
    pub name: &'static str,
    limit: Option<Limit>,
}

impl Family {
    pub fn follows(state: &State) -> Family {
        Family {
            name: "follows",
            limit: state.config.rate_limits.follows,
        }
    }

    pub fn statuses(state: &State) -> Family {
        Family {
            name: "statuses",
            limit: state.config.rate_limits.statuses,
        }
    }

    fn key(&self, limit: &Limit, account_id: &str, now: DateTime<Utc>) -> (String, String, i64) {
        (
            self.name.to_string(),
            account_id.to_string(),
            window(now, period_secs(limit)),
        )
    }

    /// `RateLimiter#record!`: refuses when the window's count has reached the limit,
    /// otherwise counts one more.
    pub fn record(&self, state: &mut State, account_id: &str, now: DateTime<Utc>) -> bool {
        let Some(limit) = self.limit else {
            return true;
        };
        let count = state
            .windows
            .entry(self.key(&limit, account_id, now))
            .or_insert(0);
        if *count >= limit.limit {
            return false;
        }
        *count += 1;
        true
    }

    /// `RateLimiter#to_headers`.
    pub fn headers(
        &self,
        state: &State,
        account_id: &str,
        now: DateTime<Utc>,
    ) -> Option<RateHeaders> {
        let limit = self.limit?;
        let count = state
            .windows
            .get(&self.key(&limit, account_id, now))
            .copied()
            .unwrap_or(0);
        Some(RateHeaders {
            limit: limit.limit,
            remaining: limit.limit.saturating_sub(count),
            reset: reset_at(now, period_secs(&limit)),
        })
    }
}
