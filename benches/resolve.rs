//! Benchmark of the social-graph path, through the release binary against the fake server:
//!
//! 1. `migrate resolve` on 5,000 handles over 500 hosts, each WebFinger answer delayed 50 ms:
//!    wall time against the lower bound the concurrency limits set — the larger of
//!    total / global limit and the busiest host's count / per-host limit, times the latency.
//!    Target: within 1.3× of it.
//! 2. `migrate import` of 1,000 new follows (time scaled so rate windows pass quickly):
//!    requests sent to the target server per new follow. Target: at most 2.1 — met for accounts
//!    the server has seen (lookup + follow, plus `relationships` 40 at a time before and after);
//!    an account new to the server costs one more, the resolving search after the lookup's
//!    404, which the protocol gives no way around. Both are reported.
//! 3. `migrate import FILE --dry-run --json` of a 100,000-line handles file: wall time, rows/s,
//!    exit code and the child's own peak RSS (`VmHWM`, sampled by `support::run_measured`), in
//!    two cases. (a) Every line names one of two accounts, in seven spellings (as
//!    `tests/hostile_inputs.rs::a_handles_file_with_100000_duplicates`): two WebFinger lookups,
//!    the rest duplicates. Target: peak ≤ 32 MiB (was 114 MiB, now about 14). (b) 100,000
//!    distinct accounts the server does not know, each a WebFinger lookup that ends in 404.
//!    Target: peak ≤ 160 MiB (was 406 MiB, now about 103). The targets are for 100,000 rows.
//!
//! Run with `cargo bench --bench resolve`. `MIGRATE_BENCH_HANDLES` and `MIGRATE_BENCH_HOSTS`
//! change the sizes of part 1, `MIGRATE_BENCH_FOLLOWS` that of part 2 and
//! `MIGRATE_BENCH_IMPORT_ROWS` that of part 3 (0 skips it).

mod support;

#[path = "../tests/support/fake/mod.rs"]
mod fake;

use std::process::Command;
use std::time::{Duration, Instant};

use fake::{FakeConfig, FakeServer, RemoteAccountSpec, WebfingerBehavior};
use support::run_measured;

const GLOBAL: usize = 16;
const PER_HOST: usize = 2;
const LATENCY: Duration = Duration::from_millis(50);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn command(server: &FakeServer, state: &std::path::Path, work: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_migrate"));
    let resolve: Vec<String> = server
        .hosts()
        .iter()
        .map(|h| server.resolve_arg(h))
        .collect();
    cmd.env_clear()
        .env("MIGRATE_HOME", state)
        .env("MIGRATE_CA_CERT", server.ca_pem_path())
        .env("MIGRATE_NO_PROGRESS", "1")
        .env("MIGRATE_RESOLVE", resolve.join(","))
        .current_dir(work);
    cmd
}

fn resolve_bench() -> (f64, f64) {
    let handles = env_usize("MIGRATE_BENCH_HANDLES", 5_000);
    let hosts = env_usize("MIGRATE_BENCH_HOSTS", 500);
    let mut config = FakeConfig::default();
    for h in 0..hosts {
        config = config.webfinger_host(
            &format!("b{h}.example"),
            WebfingerBehavior::Slow { delay: LATENCY },
        );
    }
    let server = FakeServer::start(config);
    let mut list = String::new();
    let mut per_host = vec![0usize; hosts];
    for i in 0..handles {
        let h = i % hosts;
        per_host[h] += 1;
        let acct = format!("r{i}@b{h}.example");
        server.add_remote_account(&acct, false, false, None);
        list.push_str(&acct);
        list.push('\n');
    }
    let state = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("handles.txt"), list).unwrap();
    let busiest = *per_host.iter().max().unwrap();
    let bound_batches = (handles as f64 / GLOBAL as f64).max(busiest as f64 / PER_HOST as f64);
    let bound = bound_batches * LATENCY.as_secs_f64();
    let started = Instant::now();
    let out = command(&server, state.path(), work.path())
        .args([
            "resolve",
            "handles.txt",
            "--json",
            "--concurrency",
            &GLOBAL.to_string(),
            "--per-host",
            &PER_HOST.to_string(),
        ])
        .output()
        .unwrap();
    let took = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(
        summary["outcomes"]["found"], handles,
        "every handle resolves: {summary}"
    );
    println!(
        "resolve: {handles} handles over {hosts} hosts, {} ms latency, limits {GLOBAL} global / {PER_HOST} per host",
        LATENCY.as_millis()
    );
    println!(
        "  wall {took:.2} s; lower bound {bound:.2} s (max({handles}/{GLOBAL}, {busiest}/{PER_HOST}) x {} ms); ratio {:.2} (target <= 1.30); {:.0} handles/s",
        LATENCY.as_millis(),
        took / bound,
        handles as f64 / took
    );
    (took, bound)
}

/// `known`: whether the target server has seen the accounts already (then `accounts/lookup`
/// finds them; otherwise a resolving search follows the lookup's 404 — one more request).
fn follow_bench(known: bool) -> f64 {
    let n = env_usize("MIGRATE_BENCH_FOLLOWS", 1_000);
    // A simulated day lasts 10 s: the 400-per-day follow window passes quickly, and every
    // answer carries Mastodon's rate-limit headers, as a real server's do.
    let mut config = FakeConfig {
        time_scale: 86_400.0 / 10.0,
        wall_clock_resets: true,
        remote_accepts_immediately: true,
        ..FakeConfig::default()
    };
    for i in 0..n {
        let spec = RemoteAccountSpec::new(&format!("f{i}@g{}.example", i % 100));
        config
            .remote_accounts
            .push(if known { spec.known() } else { spec });
    }
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write follow");
    let state = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let list: String = (0..n)
        .map(|i| format!("f{i}@g{}.example\n", i % 100))
        .collect();
    std::fs::write(work.path().join("follows.csv"), list).unwrap();
    let started = Instant::now();
    let out = command(&server, state.path(), work.path())
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["import", "follows.csv", "--json"])
        .output()
        .unwrap();
    let took = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = server.state();
    let follows = st.follows.len();
    assert_eq!(follows, n, "every account followed");
    // Requests to the home server (keys `METHOD /path`); WebFinger hosts are `METHOD host/…`.
    let home: u64 = st
        .counters
        .requests
        .iter()
        .filter(|(k, _)| k.split_once(' ').is_some_and(|(_, p)| p.starts_with('/')))
        .map(|(_, v)| *v)
        .sum();
    let per_follow = home as f64 / follows as f64;
    println!(
        "import: {n} new follows of accounts {} in {took:.1} s (rate windows included): {home} requests to the target, {per_follow:.3} per new follow; 429s: {}",
        if known {
            "the server has seen"
        } else {
            "new to the server"
        },
        st.counters.rate_limited
    );
    per_follow
}

/// The two cases of part 3, with their peak-RSS targets (MiB) at 100,000 rows.
#[derive(Clone, Copy)]
enum Rows {
    /// Two accounts in seven spellings: two lookups, the rest duplicates.
    Duplicates,
    /// Distinct accounts unknown to the server: one failed lookup each.
    Unknown,
}

impl Rows {
    fn target_mib(self) -> f64 {
        match self {
            Rows::Duplicates => 32.0,
            Rows::Unknown => 160.0,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Rows::Duplicates => "duplicates",
            Rows::Unknown => "unknown",
        }
    }
}

/// The same spellings as `tests/hostile_inputs.rs::a_handles_file_with_100000_duplicates`.
const SPELLINGS: [&str; 7] = [
    "ana@far.example",
    "@ana@far.example",
    "ANA@FAR.EXAMPLE",
    "acct:ana@far.example",
    "https://far.example/@ana",
    "bo@far.example",
    " @Bo@far.example ",
];

/// Part 3: `migrate import FILE --dry-run --json` on `n` rows; returns the child's peak RSS
/// in MiB.
fn import_rows_bench(rows: Rows, n: usize) -> f64 {
    // As `far_server()` in `tests/hostile_inputs.rs`: `far.example` knows ana and bo only.
    let server = FakeServer::start(
        FakeConfig::default()
            .remote(RemoteAccountSpec::new("ana@far.example"))
            .remote(RemoteAccountSpec::new("bo@far.example")),
    );
    let token = server.issue_token("alice", "read write follow");
    let mut text = String::new();
    for i in 0..n {
        match rows {
            Rows::Duplicates => text.push_str(SPELLINGS[i % SPELLINGS.len()]),
            Rows::Unknown => text.push_str(&format!("u{i}@far.example")),
        }
        text.push('\n');
    }
    let state = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("handles.txt"), text).unwrap();
    let r = run_measured(
        command(&server, state.path(), work.path())
            .env("MIGRATE_SERVER", "social.example")
            .env("MIGRATE_TOKEN", &token)
            .args(["import", "handles.txt", "--dry-run", "--json"]),
    );
    let peak = r.peak_rss_mib();
    let target = rows.target_mib();
    // Requests to `far.example` (keys `METHOD host/path`): WebFinger, and host-meta after a 404.
    let requests = server.state().counters.requests;
    let far = |prefix: &str| -> u64 {
        requests
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| *v)
            .sum()
    };
    let lookups = far("GET far.example/.well-known/webfinger");
    println!(
        "import --dry-run: {n} rows, {}",
        match rows {
            Rows::Duplicates => "two accounts in 7 spellings",
            Rows::Unknown => "distinct accounts unknown to the server (WebFinger 404 each)",
        }
    );
    println!(
        "  wall {:.2} s (CPU {:.2} s); peak RSS {peak:.1} MiB (target <= {target:.0}; {}); {:.0} rows/s; exit {}; {} requests to far.example",
        r.secs,
        r.cpu_secs,
        if peak <= target { "ok" } else { "HIGH" },
        n as f64 / r.secs,
        r.exit.map_or("none (killed)".into(), |c| c.to_string()),
        far("GET far.example/")
    );
    assert_eq!(r.exit, Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    let summary = r.summary().expect("a JSON summary on the last line");
    assert_eq!(summary["total"], n, "every row counted: {summary}");
    match rows {
        Rows::Duplicates => {
            let accounts = usize::from(n > 0) + usize::from(n > 5);
            let duplicates: u64 = summary["skipped_by_reason"]
                .as_object()
                .expect("skipped_by_reason")
                .iter()
                .filter(|(k, _)| k.contains("duplicate"))
                .map(|(_, v)| v.as_u64().unwrap_or(0))
                .sum();
            assert_eq!(summary["failed"], 0, "{summary}");
            assert_eq!(duplicates as usize, n - accounts, "{summary}");
            assert_eq!(lookups as usize, accounts, "one lookup per account");
        }
        Rows::Unknown => {
            assert_eq!(
                summary["failed_by_reason"]["not found"], n,
                "every lookup fails as not found: {summary}"
            );
            // One WebFinger request a row; host-meta once for the host (its template names
            // the same endpoint, which is not asked twice).
            assert_eq!(lookups as usize, n, "one lookup per row");
            assert_eq!(far("GET far.example/.well-known/host-meta"), 1);
        }
    }
    peak
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let (took, bound) = resolve_bench();
    let per_follow = follow_bench(true);
    let per_follow_new = follow_bench(false);
    let import_rows = env_usize("MIGRATE_BENCH_IMPORT_ROWS", 100_000);
    let peaks: Vec<(Rows, f64)> = if import_rows == 0 {
        println!("import --dry-run: skipped (MIGRATE_BENCH_IMPORT_ROWS=0)");
        Vec::new()
    } else {
        [Rows::Duplicates, Rows::Unknown]
            .into_iter()
            .map(|rows| (rows, import_rows_bench(rows, import_rows)))
            .collect()
    };
    println!();
    println!(
        "summary: resolve ratio {:.2} ({}); requests per new follow {:.3} for accounts the server knows ({}; target <= 2.1), {:.3} for accounts it must first fetch (lookup 404 + resolving search + follow)",
        took / bound,
        if took / bound <= 1.3 { "ok" } else { "SLOW" },
        per_follow,
        if per_follow <= 2.1 { "ok" } else { "HIGH" },
        per_follow_new
    );
    if !peaks.is_empty() {
        let figures: Vec<String> = peaks
            .iter()
            .map(|&(rows, peak)| {
                format!(
                    "{} {peak:.1} MiB ({}; target <= {:.0})",
                    rows.label(),
                    if peak <= rows.target_mib() {
                        "ok"
                    } else {
                        "HIGH"
                    },
                    rows.target_mib()
                )
            })
            .collect();
        println!(
            "         import --dry-run peak RSS at {import_rows} rows: {}",
            figures.join(", ")
        );
    }
}
