//! The journal: what has been sent, what was confirmed, and why anything was not carried.
//!
//! SQLite in WAL mode in the state directory. A *run* is keyed by (target account, input
//! fingerprint, kind), so the same command run again finds its run and resumes it. Each item
//! has a stable key derived from its source (a canonical handle; a tweet id and part number)
//! and moves `pending → sending → done | failed | skipped`. The move to `sending` is committed
//! before the request leaves and the move to `done`/`failed` after the answer, so a crash or a
//! kill -9 at any instant leaves every item either untouched, known to be in flight (to be
//! replayed with its idempotency key or reconciled), or settled.
//!
//! The journal also caches WebFinger answers (a week) and keeps the rate gates' last known
//! state, so a rerun neither repeats remote lookups nor forgets how much of the day's follow
//! budget is spent.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// How long a WebFinger answer is trusted.
pub const CACHE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("could not open the journal `{}`", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("could not create the state directory `{}`", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the journal failed")]
    Sql(#[from] rusqlite::Error),
}

/// The state of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Pending,
    /// The request may be in flight: committed before sending.
    Sending,
    Done,
    Failed,
    Skipped,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Sending => "sending",
            ItemState::Done => "done",
            ItemState::Failed => "failed",
            ItemState::Skipped => "skipped",
        }
    }

    fn parse(s: &str) -> ItemState {
        match s {
            "sending" => ItemState::Sending,
            "done" => ItemState::Done,
            "failed" => ItemState::Failed,
            "skipped" => ItemState::Skipped,
            _ => ItemState::Pending,
        }
    }
}

/// One journalled item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub key: String,
    pub seq: i64,
    pub state: ItemState,
    pub payload: String,
    pub reason: Option<String>,
    pub remote_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub attempts: i64,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A run as listed by `migrate status`.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub id: i64,
    pub account: String,
    pub kind: String,
    pub input: String,
    pub created_at: String,
    pub updated_at: String,
    pub pending: u64,
    pub sending: u64,
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
    /// What the run waits for, when it stopped on a limit (`follows window until …`).
    pub waiting_for: Option<String>,
}

/// A cached WebFinger answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedLookup {
    pub outcome: String,
    pub canonical: Option<String>,
    pub actor: Option<String>,
    pub reason: Option<String>,
    pub fetched_at: DateTime<Utc>,
}

impl CachedLookup {
    /// The answer `r`, to keep.
    pub fn of(r: &crate::net::webfinger::Resolution) -> CachedLookup {
        CachedLookup {
            outcome: r.outcome.as_str().into(),
            canonical: r.canonical.clone(),
            actor: r.actor.clone(),
            reason: Some(r.reason.clone()),
            fetched_at: Utc::now(),
        }
    }

    /// The kept answer for `handle`, if it is one a later run may reuse.
    pub fn resolution(self, handle: &str) -> Option<crate::net::webfinger::Resolution> {
        let outcome = crate::net::webfinger::Outcome::parse(&self.outcome)?;
        outcome
            .is_cacheable()
            .then(|| crate::net::webfinger::Resolution {
                handle: handle.to_string(),
                outcome,
                canonical: self.canonical,
                actor: self.actor,
                reason: self.reason.unwrap_or_default(),
            })
    }
}

/// A rate gate's last known state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateRecord {
    pub limit: u64,
    pub remaining: u64,
    pub reset: DateTime<Utc>,
}

pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    kind TEXT NOT NULL,
    input TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    waiting_for TEXT,
    UNIQUE (account, fingerprint, kind)
);
CREATE TABLE IF NOT EXISTS items (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT,
    remote_id TEXT,
    idempotency_key TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX IF NOT EXISTS items_by_state ON items (run_id, state, seq);
CREATE TABLE IF NOT EXISTS webfinger_cache (
    handle TEXT PRIMARY KEY,
    outcome TEXT NOT NULL,
    canonical TEXT,
    actor TEXT,
    reason TEXT,
    fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS gates (
    account TEXT NOT NULL,
    family TEXT NOT NULL,
    lim INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    reset TEXT NOT NULL,
    PRIMARY KEY (account, family)
);
";

fn item_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    Ok(Item {
        key: r.get(0)?,
        seq: r.get(1)?,
        state: ItemState::parse(&r.get::<_, String>(2)?),
        payload: r.get(3)?,
        reason: r.get(4)?,
        remote_id: r.get(5)?,
        idempotency_key: r.get(6)?,
        attempts: r.get(7)?,
        sent_at: r
            .get::<_, Option<String>>(8)?
            .as_deref()
            .and_then(parse_time),
    })
}

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

impl Journal {
    /// Opens (creating) `<state dir>/journal.sqlite3`.
    pub fn open(state_dir: &Path) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(state_dir).map_err(|source| JournalError::Dir {
            path: state_dir.to_path_buf(),
            source,
        })?;
        let path = state_dir.join("journal.sqlite3");
        Self::open_file(&path)
    }

    pub fn open_file(path: &Path) -> Result<Journal, JournalError> {
        let open = |source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        };
        // The journal names accounts and holds what was posted: private like the tokens, from
        // its first byte (SQLite gives its -wal and -shm files the database file's mode).
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path);
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        let conn = Connection::open(path).map_err(open)?;
        // First, so that two processes opening a new journal at once wait for each other
        // (switching to WAL takes a lock) rather than fail with "database is locked".
        conn.busy_timeout(Duration::from_secs(10)).map_err(open)?;
        // WAL keeps readers (`migrate status`) from blocking a running import; `FULL` sync makes
        // each committed transition survive power loss, which exactly-once depends on.
        // Two connections switching a new file to WAL at once can deadlock on its lock; SQLite
        // then fails one at once, without its busy handler: it is asked again.
        let mut tries = 0;
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Ok(()) => break,
                Err(e)
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                        && tries < 200 =>
                {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(5 + tries % 20));
                }
                Err(e) => return Err(open(e)),
            }
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open)?;
        conn.execute_batch(SCHEMA).map_err(open)?;
        Ok(Journal {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Finds the run for (account, fingerprint, kind), or starts it. Returns its id and whether
    /// it already existed.
    pub fn run(
        &self,
        account: &str,
        fingerprint: &str,
        kind: &str,
        input: &str,
    ) -> Result<(i64, bool), JournalError> {
        let existing: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM runs WHERE account = ?1 AND fingerprint = ?2 AND kind = ?3",
                params![account, fingerprint, kind],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            self.conn.execute(
                "UPDATE runs SET updated_at = ?2, input = ?3 WHERE id = ?1",
                params![id, now_text(), input],
            )?;
            return Ok((id, true));
        }
        let now = now_text();
        self.conn.execute(
            "INSERT INTO runs (account, fingerprint, kind, input, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![account, fingerprint, kind, input, now],
        )?;
        Ok((self.conn.last_insert_rowid(), false))
    }

    /// Adds items (key, seq, payload) that are not there yet (a rerun keeps the states of
    /// known keys), as they come: the caller need not hold them all.
    pub fn add_items<K, P>(
        &mut self,
        run: i64,
        items: impl IntoIterator<Item = (K, i64, P)>,
    ) -> Result<usize, JournalError>
    where
        K: AsRef<str>,
        P: AsRef<str>,
    {
        let tx = self.conn.transaction()?;
        let mut added = 0;
        {
            let now = now_text();
            let mut stmt = tx.prepare(
                "INSERT OR IGNORE INTO items (run_id, key, seq, state, payload, updated_at)
                 VALUES (?1, ?2, ?3, 'pending', ?4, ?5)",
            )?;
            for (key, seq, payload) in items {
                added += stmt.execute(params![run, key.as_ref(), seq, payload.as_ref(), now])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// Adds a plan's items (as [`Journal::add_items`]) and brings back those an earlier plan of
    /// the same run had dropped (`skipped` and never sent), with their new payload. Items in
    /// any other state keep theirs: what was started is finished as it was started.
    pub fn plan_items<'a>(
        &mut self,
        run: i64,
        items: impl IntoIterator<Item = (&'a str, i64, &'a str)>,
    ) -> Result<usize, JournalError> {
        let tx = self.conn.transaction()?;
        let mut changed = 0;
        {
            let now = now_text();
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO items (run_id, key, seq, state, payload, updated_at)
                 VALUES (?1, ?2, ?3, 'pending', ?4, ?5)",
            )?;
            let mut revive = tx.prepare_cached(
                "UPDATE items SET state = 'pending', seq = ?3, payload = ?4, reason = NULL,
                     updated_at = ?5
                 WHERE run_id = ?1 AND key = ?2 AND state = 'skipped' AND attempts = 0",
            )?;
            for (key, seq, payload) in items {
                let added = insert.execute(params![run, key, seq, payload, now])?;
                changed += if added > 0 {
                    added
                } else {
                    revive.execute(params![run, key, seq, payload, now])?
                };
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Marks `skipped` (with `reason`) the items of a run that were never sent and are not in
    /// `keep`: a rerun with other options that leave them out. Returns how many.
    pub fn drop_unplanned(
        &mut self,
        run: i64,
        keep: &dyn Fn(&str) -> bool,
        reason: &str,
    ) -> Result<usize, JournalError> {
        let keys: Vec<String> = {
            let mut stmt = self.conn.prepare(
                "SELECT key FROM items WHERE run_id = ?1 AND state = 'pending' AND attempts = 0",
            )?;
            stmt.query_map(params![run], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?
        };
        let tx = self.conn.transaction()?;
        let mut dropped = 0;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE items SET state = 'skipped', reason = ?3, updated_at = ?4
                 WHERE run_id = ?1 AND key = ?2",
            )?;
            let now = now_text();
            for key in keys.iter().filter(|k| !keep(k)) {
                dropped += stmt.execute(params![run, key, reason, now])?;
            }
        }
        tx.commit()?;
        Ok(dropped)
    }

    /// Items of a run in `seq` order, optionally only those in `state`.
    pub fn items(&self, run: i64, state: Option<ItemState>) -> Result<Vec<Item>, JournalError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, seq, state, payload, reason, remote_id, idempotency_key, attempts, sent_at
             FROM items WHERE run_id = ?1 AND (?2 IS NULL OR state = ?2) ORDER BY seq, key",
        )?;
        let rows = stmt.query_map(params![run, state.map(ItemState::as_str)], item_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One item, by key.
    pub fn item(&self, run: i64, key: &str) -> Result<Option<Item>, JournalError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, seq, state, payload, reason, remote_id, idempotency_key, attempts, sent_at
             FROM items WHERE run_id = ?1 AND key = ?2",
        )?;
        Ok(stmt.query_row(params![run, key], item_row).optional()?)
    }

    /// Commits `sending` before the request leaves (with the idempotency key it will carry).
    pub fn mark_sending(
        &self,
        run: i64,
        key: &str,
        idempotency_key: Option<&str>,
    ) -> Result<(), JournalError> {
        let now = now_text();
        self.conn.execute(
            "UPDATE items SET state = 'sending', attempts = attempts + 1,
                 idempotency_key = COALESCE(?3, idempotency_key), sent_at = ?4, updated_at = ?4
             WHERE run_id = ?1 AND key = ?2",
            params![run, key, idempotency_key, now],
        )?;
        Ok(())
    }

    /// Commits the confirmed outcome.
    pub fn mark_done(
        &self,
        run: i64,
        key: &str,
        remote_id: Option<&str>,
        note: Option<&str>,
    ) -> Result<(), JournalError> {
        self.settle(run, key, ItemState::Done, note, remote_id)
    }

    pub fn mark_failed(&self, run: i64, key: &str, reason: &str) -> Result<(), JournalError> {
        self.settle(run, key, ItemState::Failed, Some(reason), None)
    }

    pub fn mark_skipped(&self, run: i64, key: &str, reason: &str) -> Result<(), JournalError> {
        self.settle(run, key, ItemState::Skipped, Some(reason), None)
    }

    /// Runs `write` in one transaction: its changes are committed, and synced to disk, together
    /// (one sync for many lookups' answers instead of one or two each). Only for writes whose
    /// loss in a crash costs a repeat, never a doubled action: answers of lookups, not sends.
    pub fn batch<T>(
        &self,
        write: impl FnOnce(&Self) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match write(self) {
            Ok(v) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Puts an item back to `pending` (a transient failure, to be tried again).
    pub fn mark_pending(&self, run: i64, key: &str, reason: &str) -> Result<(), JournalError> {
        self.settle(run, key, ItemState::Pending, Some(reason), None)
    }

    fn settle(
        &self,
        run: i64,
        key: &str,
        state: ItemState,
        reason: Option<&str>,
        remote_id: Option<&str>,
    ) -> Result<(), JournalError> {
        self.conn.execute(
            "UPDATE items SET state = ?3, reason = ?4, remote_id = COALESCE(?5, remote_id),
                 updated_at = ?6
             WHERE run_id = ?1 AND key = ?2",
            params![run, key, state.as_str(), reason, remote_id, now_text()],
        )?;
        Ok(())
    }

    /// Replaces an item's payload (e.g. a resolved account id added to a follow).
    pub fn set_payload(&self, run: i64, key: &str, payload: &str) -> Result<(), JournalError> {
        self.conn.execute(
            "UPDATE items SET payload = ?3, updated_at = ?4 WHERE run_id = ?1 AND key = ?2",
            params![run, key, payload, now_text()],
        )?;
        Ok(())
    }

    /// Records what the run waits for (a rate window), or clears it.
    pub fn set_waiting(&self, run: i64, waiting_for: Option<&str>) -> Result<(), JournalError> {
        self.conn.execute(
            "UPDATE runs SET waiting_for = ?2, updated_at = ?3 WHERE id = ?1",
            params![run, waiting_for, now_text()],
        )?;
        Ok(())
    }

    /// Every run with its counts, newest first.
    pub fn runs(&self) -> Result<Vec<RunSummary>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.account, r.kind, r.input, r.created_at, r.updated_at, r.waiting_for,
                    COALESCE(SUM(i.state = 'pending'), 0), COALESCE(SUM(i.state = 'sending'), 0),
                    COALESCE(SUM(i.state = 'done'), 0), COALESCE(SUM(i.state = 'failed'), 0),
                    COALESCE(SUM(i.state = 'skipped'), 0)
             FROM runs r LEFT JOIN items i ON i.run_id = r.id
             GROUP BY r.id ORDER BY r.updated_at DESC, r.id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RunSummary {
                id: r.get(0)?,
                account: r.get(1)?,
                kind: r.get(2)?,
                input: r.get(3)?,
                created_at: r.get(4)?,
                updated_at: r.get(5)?,
                waiting_for: r.get(6)?,
                pending: r.get::<_, i64>(7)? as u64,
                sending: r.get::<_, i64>(8)? as u64,
                done: r.get::<_, i64>(9)? as u64,
                failed: r.get::<_, i64>(10)? as u64,
                skipped: r.get::<_, i64>(11)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A cached WebFinger answer younger than [`CACHE_TTL`].
    pub fn cached_lookup(&self, handle: &str) -> Result<Option<CachedLookup>, JournalError> {
        let row = self
            .conn
            .query_row(
                "SELECT outcome, canonical, actor, reason, fetched_at FROM webfinger_cache
                 WHERE handle = ?1",
                params![handle.to_lowercase()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        Ok(row.and_then(|(outcome, canonical, actor, reason, at)| {
            let fetched_at = parse_time(&at)?;
            let age = Utc::now().signed_duration_since(fetched_at);
            (age.to_std().is_ok_and(|a| a < CACHE_TTL)).then_some(CachedLookup {
                outcome,
                canonical,
                actor,
                reason,
                fetched_at,
            })
        }))
    }

    pub fn cache_lookup(&self, handle: &str, answer: &CachedLookup) -> Result<(), JournalError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO webfinger_cache (handle, outcome, canonical, actor, reason, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                handle.to_lowercase(),
                answer.outcome,
                answer.canonical,
                answer.actor,
                answer.reason,
                answer
                    .fetched_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            ],
        )?;
        Ok(())
    }

    pub fn gate(&self, account: &str, family: &str) -> Result<Option<GateRecord>, JournalError> {
        let row = self
            .conn
            .query_row(
                "SELECT lim, remaining, reset FROM gates WHERE account = ?1 AND family = ?2",
                params![account, family],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        Ok(row.and_then(|(limit, remaining, reset)| {
            Some(GateRecord {
                limit: limit.max(0) as u64,
                remaining: remaining.max(0) as u64,
                reset: parse_time(&reset)?,
            })
        }))
    }

    pub fn save_gate(
        &self,
        account: &str,
        family: &str,
        gate: &GateRecord,
    ) -> Result<(), JournalError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO gates (account, family, lim, remaining, reset)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                account,
                family,
                gate.limit as i64,
                gate.remaining as i64,
                gate.reset
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            ],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DurationRound;

    #[test]
    fn a_batch_is_written_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let answer = |outcome: &str| CachedLookup {
            outcome: outcome.into(),
            canonical: None,
            actor: None,
            reason: None,
            fetched_at: Utc::now(),
        };
        j.batch(|j| {
            j.cache_lookup("a@x.example", &answer("not_found"))?;
            j.cache_lookup("b@x.example", &answer("gone"))
        })
        .unwrap();
        assert!(j.cached_lookup("a@x.example").unwrap().is_some());
        assert!(j.cached_lookup("b@x.example").unwrap().is_some());
        let failed: Result<(), JournalError> = j.batch(|j| {
            j.cache_lookup("c@x.example", &answer("not_found"))?;
            j.conn.execute_batch("SELECT * FROM no_such_table")?;
            Ok(())
        });
        assert!(failed.is_err());
        assert!(
            j.cached_lookup("c@x.example").unwrap().is_none(),
            "rolled back"
        );
        // And the journal takes writes again.
        j.cache_lookup("d@x.example", &answer("gone")).unwrap();
        assert!(j.cached_lookup("d@x.example").unwrap().is_some());
    }

    /// Found by the chaos soak: two processes creating a new journal at the same instant, one
    /// failed with "database is locked" (its pragmas ran before its busy timeout was set).
    #[test]
    fn processes_creating_a_journal_at_once_wait_for_each_other() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let start = std::sync::Barrier::new(8);
            std::thread::scope(|s| {
                let opened: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            start.wait();
                            Journal::open(dir.path()).map(|_| ())
                        })
                    })
                    .collect();
                for o in opened {
                    o.join().unwrap().expect("every opener succeeds");
                }
            });
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                for f in [
                    "journal.sqlite3",
                    "journal.sqlite3-wal",
                    "journal.sqlite3-shm",
                ] {
                    let p = dir.path().join(f);
                    if let Ok(m) = std::fs::metadata(&p) {
                        assert_eq!(m.permissions().mode() & 0o777, 0o600, "{f}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_new_plan_adds_revives_and_drops_only_unsent_items() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        let (run, _) = j.run("a@s.example", "fp", "posts", "a.zip").unwrap();
        let first = [
            ("t:1", 1, "v1"),
            ("t:2", 2, "v1"),
            ("t:3", 3, "v1"),
            ("t:4", 4, "v1"),
        ];
        assert_eq!(j.plan_items(run, first).unwrap(), 4);
        j.mark_sending(run, "t:1", Some("k1")).unwrap();
        j.mark_done(run, "t:1", Some("s1"), None).unwrap();
        j.mark_sending(run, "t:2", Some("k2")).unwrap(); // in flight when the run stopped
        // A rerun whose options leave out 1, 2 and 3: only 3 (never sent) is dropped.
        let keep = |k: &str| k == "t:4";
        assert_eq!(j.drop_unplanned(run, &keep, "not selected").unwrap(), 1);
        let state = |j: &Journal, k: &str| j.item(run, k).unwrap().unwrap();
        assert_eq!(state(&j, "t:1").state, ItemState::Done);
        assert_eq!(state(&j, "t:2").state, ItemState::Sending);
        assert_eq!(state(&j, "t:3").state, ItemState::Skipped);
        assert_eq!(state(&j, "t:3").reason.as_deref(), Some("not selected"));
        // A later plan that selects everything again: 3 comes back with its new payload, the
        // others keep theirs, 5 is new.
        let again = [
            ("t:1", 1, "v2"),
            ("t:2", 2, "v2"),
            ("t:3", 3, "v2"),
            ("t:5", 5, "v2"),
        ];
        assert_eq!(j.plan_items(run, again).unwrap(), 2);
        assert_eq!(state(&j, "t:3").state, ItemState::Pending);
        assert_eq!(state(&j, "t:3").payload, "v2");
        assert_eq!(state(&j, "t:1").payload, "v1");
        assert_eq!(state(&j, "t:2").payload, "v1");
        assert_eq!(state(&j, "t:5").payload, "v2");
        assert!(j.item(run, "t:9").unwrap().is_none());
    }

    #[test]
    fn runs_resume_and_items_keep_their_states() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        let (run, existed) = j.run("a@s.example", "fp1", "follows", "in.csv").unwrap();
        assert!(!existed);
        assert_eq!(
            j.add_items(run, [("x@h", 1, "{}"), ("y@h", 2, "{}")])
                .unwrap(),
            2
        );
        j.mark_sending(run, "x@h", None).unwrap();
        j.mark_done(run, "x@h", Some("42"), None).unwrap();
        j.mark_sending(run, "y@h", Some("key-y")).unwrap();
        drop(j);
        // A second process opens the same journal: the run and its states are there.
        let mut j = Journal::open(dir.path()).unwrap();
        let (again, existed) = j.run("a@s.example", "fp1", "follows", "in.csv").unwrap();
        assert_eq!((again, existed), (run, true));
        assert_eq!(
            j.add_items(run, [("x@h", 1, "{}"), ("z@h", 3, "{}")])
                .unwrap(),
            1
        );
        let items = j.items(run, None).unwrap();
        let states: Vec<(&str, ItemState)> =
            items.iter().map(|i| (i.key.as_str(), i.state)).collect();
        assert_eq!(
            states,
            [
                ("x@h", ItemState::Done),
                ("y@h", ItemState::Sending),
                ("z@h", ItemState::Pending)
            ]
        );
        assert_eq!(items[0].remote_id.as_deref(), Some("42"));
        assert_eq!(items[1].idempotency_key.as_deref(), Some("key-y"));
        assert_eq!(items[1].attempts, 1);
        let runs = j.runs().unwrap();
        assert_eq!((runs[0].done, runs[0].sending, runs[0].pending), (1, 1, 1));
    }

    #[test]
    fn lookups_are_cached_for_a_week() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let fresh = CachedLookup {
            outcome: "found".into(),
            canonical: Some("a@b.example".into()),
            actor: Some("https://b.example/users/a".into()),
            reason: None,
            // Stored with microseconds.
            fetched_at: Utc::now()
                .duration_trunc(chrono::Duration::microseconds(1))
                .unwrap(),
        };
        j.cache_lookup("A@B.example", &fresh).unwrap();
        assert_eq!(j.cached_lookup("a@b.example").unwrap(), Some(fresh.clone()));
        let stale = CachedLookup {
            fetched_at: Utc::now() - chrono::Duration::days(8),
            ..fresh
        };
        j.cache_lookup("a@b.example", &stale).unwrap();
        assert_eq!(j.cached_lookup("a@b.example").unwrap(), None);
    }

    #[test]
    fn gates_persist() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let g = GateRecord {
            limit: 400,
            remaining: 12,
            reset: Utc::now(),
        };
        j.save_gate("a@s", "follows", &g).unwrap();
        let got = j.gate("a@s", "follows").unwrap().unwrap();
        assert_eq!((got.limit, got.remaining), (400, 12));
        assert!(j.gate("a@s", "statuses").unwrap().is_none());
    }
}
