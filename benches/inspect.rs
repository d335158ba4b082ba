//! End-to-end benchmark of `migrate inspect --json` on synthetic X archives.
//!
//! ```text
//! cargo bench --bench inspect
//! MIGRATE_BENCH_SIZES=100000 cargo bench --bench inspect
//! ```
//!
//! For each size (default 100,000 and 1,000,000 tweets) it generates an archive with
//! `examples/gen_archive.rs` (cached in `target/bench-data/`, keyed by the generator's
//! parameters and version), runs the release binary as a child process several times (best of
//! `MIGRATE_BENCH_RUNS`, default 3 below 1M tweets and 2 from 1M), measures wall time and the
//! child's peak RSS (`wait4` → `ru_maxrss`), checks every figure of the child's JSON against what
//! the generator wrote, and prints a table with the targets: ≥ 150 MB/s of tweet JSON and a peak
//! RSS under 64 MiB at 1M tweets. A wrong figure or a failed run makes the bench exit with 1
//! after the table (MB = 10^6 bytes, MiB = 2^20).

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::gen_archive::{Counts, Params};
use support::{Run, archive, data_dir, run_measured};

const TARGET_MB_S: f64 = 150.0;
const TARGET_RSS_MIB: f64 = 64.0;
const RSS_TARGET_AT: u64 = 1_000_000;

fn bench_params(tweets: u64) -> Params {
    Params {
        tweets,
        seed: 20_260_306,
        part_size_mb: 100,
        media_fraction: 0.05,
        // A few edited tweets and missing media files, to check those figures too.
        edit_fraction: 0.003,
        missing_media_fraction: 0.02,
        level: 6,
    }
}

/// Runs `migrate inspect --json <zip>`.
fn run_inspect(zip: &Path) -> Run {
    run_measured(
        Command::new(env!("CARGO_BIN_EXE_migrate"))
            .arg("inspect")
            .arg("--json")
            .arg(zip),
    )
}

/// Every figure of the reader's JSON that the generator knows, as (path, expected).
fn expected_figures(c: &Counts) -> Vec<(&'static str, Value)> {
    vec![
        ("/account/id", c.account_id.clone().into()),
        ("/account/username", c.username.clone().into()),
        ("/account/display_name", c.display_name.clone().into()),
        ("/generated_at", c.generated_at.clone().into()),
        ("/tweets/total", c.total.into()),
        ("/tweets/original", c.original.into()),
        ("/tweets/self_replies", c.self_replies.into()),
        ("/tweets/replies", c.replies.into()),
        ("/tweets/retweets", c.retweets.into()),
        ("/tweets/quotes", c.quotes.into()),
        ("/tweets/long", c.long.into()),
        (
            "/tweets/edited_versions_dropped",
            c.edited_versions_dropped.into(),
        ),
        ("/tweets/deleted_excluded", 0.into()),
        ("/tweets/community", 0.into()),
        ("/threads/count", c.threads.into()),
        ("/threads/longest", c.longest_thread.into()),
        ("/media/photo", c.media.photo.into()),
        ("/media/video", c.media.video.into()),
        ("/media/animated_gif", c.media.animated_gif.into()),
        ("/media/missing", c.media.missing.into()),
        ("/dates/first", c.first.clone().into()),
        ("/dates/last", c.last.clone().into()),
        ("/graph/following", c.following.into()),
        ("/graph/followers", c.followers.into()),
        ("/graph/blocks", c.blocks.into()),
        ("/graph/mutes", c.mutes.into()),
    ]
}

/// Equal, allowing ids as numbers or strings and timestamps in any RFC 3339 spelling (or a
/// bare date for the date fields).
fn same(path: &str, got: &Value, want: &Value) -> bool {
    if got == want {
        return true;
    }
    match (got, want) {
        (Value::String(g), Value::Number(w)) | (Value::Number(w), Value::String(g)) => {
            *g == w.to_string()
        }
        (Value::String(g), Value::String(w))
            if path.starts_with("/dates") || path == "/generated_at" =>
        {
            let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
            match (parse(g), parse(w)) {
                (Some(a), Some(b)) => a == b,
                _ => path.starts_with("/dates") && g.len() == 10 && w.starts_with(g.as_str()),
            }
        }
        _ => false,
    }
}

fn check(c: &Counts, out: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    for (path, want) in expected_figures(c) {
        match out.pointer(path) {
            None => bad.push(format!("{path}: missing, expected {want}")),
            Some(got) if !same(path, got, &want) => {
                bad.push(format!("{path}: reader says {got}, generator wrote {want}"))
            }
            Some(_) => {}
        }
    }
    bad
}

fn sizes() -> Vec<u64> {
    match std::env::var("MIGRATE_BENCH_SIZES") {
        Ok(s) => s
            .split(',')
            .map(|x| {
                x.trim()
                    .replace('_', "")
                    .parse()
                    .expect("MIGRATE_BENCH_SIZES: comma-separated tweet counts")
            })
            .collect(),
        Err(_) => vec![100_000, 1_000_000],
    }
}

struct Row {
    tweets: u64,
    json_bytes: u64,
    zip_bytes: u64,
    best_secs: f64,
    best_cpu: f64,
    runs: usize,
    peak_rss_mib: f64,
}

fn main() {
    let data_dir = data_dir();
    let runs_override: Option<usize> = std::env::var("MIGRATE_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok());
    let mut rows = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for n in sizes() {
        let p = bench_params(n);
        let (zip, counts) = archive(&data_dir, &p);
        let runs = runs_override
            .unwrap_or(if n >= 1_000_000 { 2 } else { 3 })
            .max(1);
        let mut best = f64::INFINITY;
        let mut best_cpu = 0.0;
        let mut peak = 0u64;
        for i in 0..runs {
            let r = run_inspect(&zip);
            eprintln!(
                "  {n} tweets, run {}: {:.3} s wall, {:.3} s CPU, peak RSS {:.1} MiB",
                i + 1,
                r.secs,
                r.cpu_secs,
                r.max_rss_kib as f64 / 1024.0
            );
            if r.secs < best {
                best = r.secs;
                best_cpu = r.cpu_secs;
            }
            peak = peak.max(r.max_rss_kib);
            if r.exit != Some(0) {
                failures.push(format!(
                    "{n} tweets: migrate exited with {:?}\n{}",
                    r.exit,
                    String::from_utf8_lossy(&r.stderr)
                ));
                break;
            }
            // Check the output of the first run only: the runs are identical.
            if i == 0 {
                match serde_json::from_slice::<Value>(&r.stdout) {
                    Ok(v) => {
                        for m in check(&counts, &v) {
                            failures.push(format!("{n} tweets: {m}"));
                        }
                        if let Some(problems) = v.get("problems").and_then(Value::as_array)
                            && !problems.is_empty()
                        {
                            eprintln!("  the reader reported {} problem(s):", problems.len());
                            for pr in problems.iter().take(5) {
                                eprintln!("    {pr}");
                            }
                        }
                    }
                    Err(e) => failures.push(format!(
                        "{n} tweets: stdout is not one JSON object ({e}):\n{}",
                        String::from_utf8_lossy(&r.stdout)
                    )),
                }
            }
        }
        rows.push(Row {
            tweets: n,
            json_bytes: counts.tweet_json_bytes,
            zip_bytes: counts.zip_bytes,
            best_secs: best,
            best_cpu,
            runs,
            peak_rss_mib: peak as f64 / 1024.0,
        });
    }

    println!();
    println!(
        "{:>9} {:>9} {:>8} {:>9} {:>7} {:>11} {:>8} {:>9}  targets (≥ {TARGET_MB_S} MB/s; < {TARGET_RSS_MIB} MiB at {RSS_TARGET_AT})",
        "tweets", "JSON MB", "zip MB", "best s", "CPU s", "tweets/s", "MB/s", "RSS MiB"
    );
    for r in &rows {
        let mb = r.json_bytes as f64 / 1e6;
        let mb_s = mb / r.best_secs;
        let speed = if mb_s >= TARGET_MB_S { "ok" } else { "SLOW" };
        let rss = if r.tweets < RSS_TARGET_AT {
            "n/a"
        } else if r.peak_rss_mib < TARGET_RSS_MIB {
            "ok"
        } else {
            "OVER"
        };
        println!(
            "{:>9} {:>9.1} {:>8.1} {:>9.3} {:>7.2} {:>11.0} {:>8.1} {:>9.1}  speed {speed}, memory {rss} (best of {})",
            r.tweets,
            mb,
            r.zip_bytes as f64 / 1e6,
            r.best_secs,
            r.best_cpu,
            r.tweets as f64 / r.best_secs,
            mb_s,
            r.peak_rss_mib,
            r.runs
        );
    }
    if !failures.is_empty() {
        eprintln!("\nFAILED: the reader's figures differ from the generated archive:");
        for f in &failures {
            eprintln!("  {f}");
        }
        std::process::exit(1);
    }
}
