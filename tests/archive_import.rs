//! `migrate import archive.zip` against the fake server: posts in order, threads as replies,
//! media attached, unlisted by default — and exactly once when responses are lost and when the
//! run is killed and started again.

#[path = "support/fake/mod.rs"]
mod fake;
#[path = "support/cli.rs"]
mod support_cli;

use std::collections::HashSet;
use std::time::Duration;

use fake::{EndpointClass, FakeConfig, FakeServer, FaultKind, FaultPlan, FaultRule, RateLimits};
use support_cli::{Env, assert_code, stdout};

/// The plan's figures from the dry run of the same archive (no server).
fn planned(env: &Env, server: &FakeServer) -> serde_json::Value {
    let o = env.run(
        server,
        &["import", "sample-archive.zip", "--dry-run", "--json"],
    );
    assert_code(&o, 0);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    v["plan"].clone()
}

fn setup(faults: FaultPlan) -> (FakeServer, Env, String) {
    let config = FakeConfig {
        rate_limits: RateLimits::disabled(),
        media_processing: fake::MediaProcessing::AfterPolls(1),
        faults,
        ..FakeConfig::default()
    };
    let mut config = config;
    // Headers on every answer, as on a real server; limits far above what the test needs.
    config.rate_limits.per_token = Some(fake::Limit::new(100_000, 300));
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write");
    let env = Env::new();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sample-archive.zip"),
        env.path("sample-archive.zip"),
    )
    .unwrap();
    (server, env, token)
}

fn import(env: &Env, server: &FakeServer, token: &str) -> std::process::Output {
    env.command(server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", token)
        .args(["import", "sample-archive.zip", "--json"])
        .output()
        .unwrap()
}

/// Checks the server's statuses against the plan: each planned status exactly once, replies
/// chained to posted statuses, unlisted.
fn check_exactly_once(server: &FakeServer, plan: &serde_json::Value) {
    let st = server.state();
    let statuses: Vec<_> = st.statuses.iter().filter(|s| !s.deleted).collect();
    assert_eq!(
        statuses.len() as u64,
        plan["statuses"].as_u64().unwrap(),
        "every planned status exactly once"
    );
    let keys: HashSet<_> = statuses
        .iter()
        .filter_map(|s| s.idempotency_key.clone())
        .collect();
    assert_eq!(keys.len(), statuses.len(), "one status per key");
    let ids: HashSet<&str> = statuses.iter().map(|s| s.id.as_str()).collect();
    for s in &statuses {
        assert_eq!(s.visibility, "unlisted");
        if let Some(parent) = &s.in_reply_to_id {
            assert!(
                ids.contains(parent.as_str()),
                "a reply answers a posted status"
            );
        }
    }
}

#[test]
fn posts_the_sample_in_order_with_threads_and_media() {
    let (server, env, token) = setup(FaultPlan::default());
    let plan = planned(&env, &server);
    let o = import(&env, &server, &token);
    assert_code(&o, 0);
    check_exactly_once(&server, &plan);
    let st = server.state();
    // Oldest first: creation order follows the original dates, so ids increase.
    let replies = st
        .statuses
        .iter()
        .filter(|s| s.in_reply_to_id.is_some())
        .count();
    assert!(replies >= 8, "threads are posted as replies ({replies})");
    let with_media = st
        .statuses
        .iter()
        .filter(|s| !s.media_ids.is_empty())
        .count();
    assert!(with_media >= 1);
    assert_eq!(
        st.media.len() as u64,
        plan["media"].as_u64().unwrap(),
        "each media file uploaded once"
    );
    // The report maps every tweet to its statuses.
    let report = std::fs::read_to_string(env.path("sample-archive.import-report.csv")).unwrap();
    assert_eq!(
        report.lines().count() as u64 - 1,
        plan["tweets_posted"].as_u64().unwrap()
    );
    assert!(
        report.lines().skip(1).all(|l| l.contains(",done,")),
        "{report}"
    );
    // Running it again posts nothing more.
    let before = st.statuses.len();
    let o = import(&env, &server, &token);
    assert_code(&o, 0);
    assert_eq!(server.state().statuses.len(), before);
}

#[test]
fn lost_responses_do_not_double_posts() {
    // 20% of status and media requests are processed but their answers lost.
    let faults = FaultPlan::new(42)
        .rule(FaultRule::new(
            EndpointClass::Statuses,
            FaultKind::LostResponse,
            0.2,
        ))
        .rule(FaultRule::new(
            EndpointClass::Media,
            FaultKind::LostResponse,
            0.2,
        ));
    let (server, env, token) = setup(faults);
    let plan = planned(&env, &server);
    // Transient failures can leave items for the next run: run until complete.
    for _ in 0..5 {
        let o = import(&env, &server, &token);
        assert_code(&o, 0);
        let last = stdout(&o).lines().last().unwrap_or_default().to_string();
        if last.contains("\"completed\":true") {
            break;
        }
    }
    check_exactly_once(&server, &plan);
    let lost = server.state().counters.faults.clone();
    eprintln!("faults injected: {lost:?}");
}

#[test]
fn killed_and_rerun_posts_each_status_exactly_once() {
    let faults = FaultPlan::new(5).rule(FaultRule::new(
        EndpointClass::Statuses,
        FaultKind::Latency(Duration::from_millis(40)),
        1.0,
    ));
    let (server, env, token) = setup(faults);
    let plan = planned(&env, &server);
    let mut kills = 0;
    let delays = [150u64, 260, 90, 400, 220, 330, 120, 500, 280, 180, 350, 240];
    for d in delays.iter().cycle().take(40) {
        let mut child = env
            .command(&server)
            .env("MIGRATE_SERVER", "social.example")
            .env("MIGRATE_TOKEN", &token)
            .args(["import", "sample-archive.zip"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*d));
        match child.try_wait().unwrap() {
            Some(_) => break,
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    let o = import(&env, &server, &token);
    assert_code(&o, 0);
    assert!(kills >= 5, "{kills} kills");
    check_exactly_once(&server, &plan);
    eprintln!("{kills} kills survived");
}
