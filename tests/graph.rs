//! Moving a social graph through the real binary against the fake server: `migrate resolve`
//! for every WebFinger behaviour, and `migrate import` of Mastodon's CSV exports — decoys,
//! moved and locked accounts, what is already followed, the follow limit, rate windows with
//! time scaled, and runs killed at random points.

#[path = "support/fake/mod.rs"]
mod fake;
#[path = "support/cli.rs"]
mod support_cli;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use fake::{FakeConfig, FakeServer, Limit, RemoteAccountSpec, WebfingerBehavior};
use support_cli::{Env, assert_code, read_csv, stderr, stdout};

/// The accounts alice follows (or has requested) on the fake, by acct.
fn followed(server: &FakeServer) -> Vec<String> {
    let st = server.state();
    let alice = st.account_id("alice").unwrap();
    st.follows
        .iter()
        .filter(|f| f.account_id == alice)
        .map(|f| {
            st.accounts
                .iter()
                .find(|a| a.id == f.target_id)
                .map(|a| a.acct.clone())
                .unwrap_or_default()
        })
        .collect()
}

fn follow_requests(server: &FakeServer) -> u64 {
    server
        .state()
        .counters
        .requests
        .iter()
        .filter(|(k, _)| k.starts_with("POST") && k.ends_with("/follow"))
        .map(|(_, v)| *v)
        .sum()
}

#[test]
fn resolve_gives_every_webfinger_behaviour_its_outcome() {
    let config = FakeConfig::default()
        .webfinger_host("mastodon.example", WebfingerBehavior::Mastodon)
        .webfinger_host("pleroma.example", WebfingerBehavior::Pleroma)
        .webfinger_host("misskey.example", WebfingerBehavior::Misskey)
        .webfinger_host("lemmy.example", WebfingerBehavior::Lemmy)
        .webfinger_host(
            "split.example",
            WebfingerBehavior::SplitDomain {
                web_host: "social.split.example".into(),
            },
        )
        .webfinger_host(
            "old.example",
            WebfingerBehavior::Canonicalizes {
                to: "new.example".into(),
            },
        )
        .webfinger_host("new.example", WebfingerBehavior::Mastodon)
        .webfinger_host("missing.example", WebfingerBehavior::NotFound)
        .webfinger_host("gone.example", WebfingerBehavior::Gone)
        .webfinger_host(
            "hostmeta.example",
            WebfingerBehavior::HostMetaFallback {
                lrdd_path: "/wf".into(),
            },
        )
        .webfinger_host("junk.example", WebfingerBehavior::InvalidJson)
        .webfinger_host("huge.example", WebfingerBehavior::Huge { bytes: 5_000_000 })
        .webfinger_host("loop.example", WebfingerBehavior::RedirectLoop)
        .webfinger_host("plain.example", WebfingerBehavior::RedirectToHttp)
        .webfinger_host("unserved.example", WebfingerBehavior::Unserved);
    let server = FakeServer::start(config);
    for acct in [
        "ana@mastodon.example",
        "pat@pleroma.example",
        "miko@misskey.example",
        "lem@lemmy.example",
        "sam@split.example",
        "oli@new.example",
        "hm@hostmeta.example",
        "j@junk.example",
        "h@huge.example",
        "l@loop.example",
        "p@plain.example",
    ] {
        server.add_remote_account(acct, false, false, None);
    }
    let env = Env::new();
    let input = env.path("handles.txt");
    std::fs::write(
        &input,
        "ana@mastodon.example\n@pat@pleroma.example\nmiko@misskey.example\nlem@lemmy.example\n\
         sam@split.example\noli@old.example\nnobody@missing.example\nx@gone.example\n\
         hm@hostmeta.example\nj@junk.example\nh@huge.example\nl@loop.example\np@plain.example\n\
         u@unserved.example\nANA@mastodon.example\n",
    )
    .unwrap();
    let o = env.run(&server, &["resolve", "handles.txt", "--json"]);
    assert_code(&o, 0);
    let summary: serde_json::Value =
        serde_json::from_str(stdout(&o).lines().last().unwrap()).unwrap();
    assert_eq!(summary["rows"], 15);
    let report = read_csv(&env.path("handles.resolve-report.csv"));
    let by_handle: HashMap<String, &HashMap<String, String>> = report
        .iter()
        .map(|r| (r["handle"].to_lowercase(), r))
        .collect();
    let outcome = |h: &str| by_handle[&h.to_lowercase()]["outcome"].clone();
    let canonical = |h: &str| by_handle[&h.to_lowercase()]["canonical_handle"].clone();
    let actor = |h: &str| by_handle[&h.to_lowercase()]["actor_url"].clone();
    assert_eq!(outcome("ana@mastodon.example"), "found");
    assert_eq!(outcome("pat@pleroma.example"), "found");
    assert_eq!(outcome("miko@misskey.example"), "found");
    assert!(
        !actor("miko@misskey.example").ends_with("/miko"),
        "opaque id kept"
    );
    assert_eq!(outcome("lem@lemmy.example"), "found");
    assert!(
        actor("lem@lemmy.example").contains("/u/"),
        "{}",
        actor("lem@lemmy.example")
    );
    assert_eq!(outcome("sam@split.example"), "found");
    assert_eq!(canonical("sam@split.example"), "sam@split.example");
    assert!(actor("sam@split.example").contains("social.split.example"));
    assert_eq!(outcome("oli@old.example"), "found");
    assert_eq!(canonical("oli@old.example"), "oli@new.example");
    assert_eq!(outcome("nobody@missing.example"), "not_found");
    assert_eq!(outcome("x@gone.example"), "gone");
    assert_eq!(outcome("hm@hostmeta.example"), "found");
    assert_eq!(outcome("j@junk.example"), "invalid_answer");
    assert_eq!(outcome("h@huge.example"), "invalid_answer");
    assert_eq!(outcome("l@loop.example"), "invalid_answer");
    assert_eq!(outcome("p@plain.example"), "invalid_answer");
    assert_eq!(outcome("u@unserved.example"), "host_unreachable");
    // The clean file: canonical handles, found ones only, the duplicate spelling of ana once.
    let resolved = std::fs::read_to_string(env.path("handles.resolved.csv")).unwrap();
    let lines: Vec<&str> = resolved.lines().collect();
    assert_eq!(
        lines[0],
        "Account address,Show boosts,Notify on new posts,Languages"
    );
    assert!(lines.contains(&"oli@new.example,,,"), "{resolved}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.to_lowercase().starts_with("ana@"))
            .count(),
        1,
        "{resolved}"
    );
    assert!(!resolved.contains("gone.example") && !resolved.contains("missing.example"));
    // A second run answers from the journal's cache without asking the hosts again.
    let asked = |s: &FakeServer| -> u64 {
        s.state()
            .counters
            .requests
            .iter()
            .filter(|(k, _)| k.contains("/.well-known/webfinger"))
            .map(|(_, v)| *v)
            .sum()
    };
    let before = asked(&server);
    let o = env.run(&server, &["resolve", "handles.txt", "--json"]);
    assert_code(&o, 0);
    let after = asked(&server);
    // Only the unreachable host (a transient outcome, never cached) is asked again, and it is
    // not served at all.
    assert_eq!(after, before, "cached answers are reused");
}

fn import_server() -> FakeServer {
    let config = FakeConfig::default()
        .remote(RemoteAccountSpec::new("ana@far.example"))
        .remote(RemoteAccountSpec::new("bo@far.example").known())
        .remote(RemoteAccountSpec::new("locked@far.example").locked())
        .remote(RemoteAccountSpec::new("moved@far.example").moved_to("newhome@far.example"))
        .remote(RemoteAccountSpec::new("newhome@far.example"))
        .remote(RemoteAccountSpec::new("already@far.example").known());
    FakeServer::start(config)
}

#[test]
fn import_follows_with_decoys_moved_locked_and_already_followed() {
    let server = import_server();
    let token = server.issue_token("alice", "read write follow");
    // alice already follows `already`.
    let env = Env::new();
    assert!(follow_directly(&server, &token, "already@far.example"));
    let csv_text = "\u{feff}Account address,Show boosts,Notify on new posts,Languages\n\
        ana@far.example,false,true,\"en, fr\"\n\
        \n\
        @bo@far.example,true,false,\n\
        locked@far.example,,,\n\
        moved@far.example,,,\n\
        already@far.example,,,\n\
        alice@social.example,,,\n\
        ANA@far.example,,,\n\
        not a handle,,,\n\
        nobody@far.example,,,\n";
    std::fs::write(env.path("following_accounts.csv"), csv_text).unwrap();
    let follows_before = follow_requests(&server);
    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["import", "following_accounts.csv", "--json"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    let summary: serde_json::Value = serde_json::from_str(
        stdout(&o)
            .lines()
            .rev()
            .find(|l| l.contains("\"summary\""))
            .expect("a summary event"),
    )
    .unwrap();
    assert_eq!(summary["completed"], true, "{summary}");
    // Follows: ana (options kept), bo, locked (requested). Not: moved, already, self, the
    // duplicate spelling of ana, the unreadable row, nobody.
    let f = followed(&server);
    let set: HashSet<&str> = f.iter().map(String::as_str).collect();
    assert_eq!(f.len(), set.len(), "no account followed twice: {f:?}");
    for a in [
        "ana@far.example",
        "bo@far.example",
        "locked@far.example",
        "already@far.example",
    ] {
        assert!(set.contains(a), "{a} in {f:?}");
    }
    assert!(!set.contains("moved@far.example") && !set.contains("newhome@far.example"));
    // Only the three new ones cost a follow request: `already` cost none.
    assert_eq!(follow_requests(&server) - follows_before, 3);
    let st = server.state();
    let ana = st.account_by_acct("ana@far.example").unwrap().id.clone();
    let fa = st.follows.iter().find(|f| f.target_id == ana).unwrap();
    assert!(!fa.reblogs && fa.notify);
    assert_eq!(
        fa.languages.as_deref(),
        Some(&["en".to_string(), "fr".to_string()][..])
    );
    // Never a decoy: every followed account is one of the handles asked for.
    for a in &f {
        assert!(a.ends_with("@far.example"), "{a}");
    }
    // Reports.
    let report = read_csv(&env.path("following_accounts.import-report.csv"));
    let outcome = |line: &str| {
        report
            .iter()
            .find(|r| r["line"] == line)
            .map(|r| (r["outcome"].clone(), r["reason"].clone()))
            .unwrap_or_else(|| panic!("line {line} in {report:?}"))
    };
    assert_eq!(outcome("2").0, "done");
    assert_eq!(outcome("5").0, "done");
    assert!(outcome("5").1.contains("requested"), "{:?}", outcome("5"));
    assert_eq!(outcome("6").0, "failed");
    assert!(
        outcome("6").1.contains("moved to newhome@far.example"),
        "{:?}",
        outcome("6")
    );
    // alice's earlier follow of `already` waits for the remote Accept: a pending request,
    // which the following list does not show but relationships does.
    assert_eq!(
        outcome("7"),
        (
            "skipped".into(),
            "already requested (waiting for approval)".into()
        )
    );
    assert_eq!(outcome("8"), ("skipped".into(), "your own account".into()));
    assert_eq!(outcome("9").0, "skipped");
    assert!(
        outcome("9").1.contains("duplicate of line 2"),
        "{:?}",
        outcome("9")
    );
    assert_eq!(outcome("10").0, "failed");
    assert!(
        outcome("10").1.contains("unreadable row"),
        "{:?}",
        outcome("10")
    );
    assert_eq!(outcome("11").0, "failed");
    assert_eq!(outcome("11").1, "no such account");
    // The failures file is Mastodon's following format, re-importable.
    let failures = std::fs::read_to_string(env.path("following_accounts.failures.csv")).unwrap();
    let flines: Vec<&str> = failures.lines().collect();
    assert_eq!(
        flines[0],
        "Account address,Show boosts,Notify on new posts,Languages"
    );
    assert!(flines.contains(&"moved@far.example,,,"), "{failures}");
    assert!(flines.contains(&"nobody@far.example,,,"), "{failures}");

    // With --follow-moved the moved account's new home is followed instead.
    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["import", "following_accounts.csv", "--follow-moved"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    // The earlier run's failure stands (it is settled in the journal); a fresh file follows.
    std::fs::write(env.path("moved.csv"), "moved@far.example\n").unwrap();
    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["import", "moved.csv", "--type", "follows", "--follow-moved"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    assert!(
        followed(&server).contains(&"newhome@far.example".to_string()),
        "{}",
        stderr(&o)
    );
}

/// Follows `acct` as alice through the API directly (test setup).
fn follow_directly(server: &FakeServer, token: &str, acct: &str) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = server.client();
        let a: serde_json::Value = c
            .get(server.home_url(&format!("/api/v1/accounts/lookup?acct={acct}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = a["id"].as_str().unwrap().to_string();
        c.post(server.home_url(&format!("/api/v1/accounts/{id}/follow")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    })
}

#[test]
fn the_follow_limit_stops_follows_and_reports_them() {
    let mut config = FakeConfig {
        follow_limit: 2,
        remote_accepts_immediately: true,
        ..FakeConfig::default()
    };
    for i in 0..5 {
        config
            .remote_accounts
            .push(RemoteAccountSpec::new(&format!("p{i}@limit.example")).known());
    }
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    let list: String = (0..5).map(|i| format!("p{i}@limit.example\n")).collect();
    std::fs::write(env.path("follows.csv"), list).unwrap();
    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["import", "follows.csv"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    assert_eq!(followed(&server).len(), 2);
    let report = read_csv(&env.path("follows.import-report.csv"));
    let limited = report
        .iter()
        .filter(|r| r["reason"].contains("follow limit"))
        .count();
    assert_eq!(limited, 3, "{report:?}");
}

#[test]
fn a_thousand_follows_over_three_simulated_days_without_a_429_after_the_first_window() {
    // One simulated day lasts 4 real seconds; Mastodon's limits (300 requests per 5 min per
    // token, 400 follows per day) run on that clock.
    let mut config = FakeConfig {
        time_scale: 86_400.0 / 4.0,
        wall_clock_resets: true,
        remote_accepts_immediately: true,
        ..FakeConfig::default()
    };
    assert_eq!(config.rate_limits.follows, Some(Limit::new(400, 86_400)));
    for i in 0..1000 {
        config
            .remote_accounts
            .push(RemoteAccountSpec::new(&format!("u{i}@h{}.example", i % 50)).known());
    }
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    let list: String = (0..1000)
        .map(|i| format!("u{i}@h{}.example\n", i % 50))
        .collect();
    std::fs::write(env.path("follows.csv"), list).unwrap();
    let started = std::time::Instant::now();
    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["import", "follows.csv", "--json"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    let f = followed(&server);
    let set: HashSet<&String> = f.iter().collect();
    assert_eq!(f.len(), 1000, "every account followed");
    assert_eq!(set.len(), 1000, "none twice");
    let st = server.state();
    // At most one 429: the first window may be hit before the client has learned it.
    let follows_429 = st
        .counters
        .rate_limited_by
        .get("follows")
        .copied()
        .unwrap_or(0);
    assert!(follows_429 <= 1, "{:?}", st.counters.rate_limited_by);
    // It took at least two window resets (400 + 400 + 200).
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // The follows fell on at least three (simulated) UTC days, at most 400 a day: the client
    // kept to the daily window rather than to its own timing (which varies with load).
    let mut per_day: HashMap<chrono::NaiveDate, u64> = HashMap::new();
    for f in &st.follows {
        *per_day.entry(f.created_at.date_naive()).or_default() += 1;
    }
    assert!(per_day.len() >= 3, "{per_day:?}");
    assert!(per_day.values().all(|&n| n <= 400), "{per_day:?}");
}

#[test]
fn killed_at_random_points_and_rerun_follows_each_account_exactly_once() {
    // Latency on follows stretches the run so that kills land in every phase.
    let mut config = FakeConfig {
        remote_accepts_immediately: true,
        faults: fake::FaultPlan::new(7).rule(fake::FaultRule::new(
            fake::EndpointClass::Follows,
            fake::FaultKind::Latency(Duration::from_millis(20)),
            1.0,
        )),
        ..FakeConfig::default()
    };
    config.rate_limits = fake::RateLimits::disabled();
    config.rate_limits.per_token = Some(Limit::new(100_000, 300));
    let n = 300;
    for i in 0..n {
        config.remote_accounts.push(RemoteAccountSpec::new(&format!(
            "k{i}@kill{}.example",
            i % 10
        )));
    }
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    let list: String = (0..n)
        .map(|i| format!("k{i}@kill{}.example\n", i % 10))
        .collect();
    std::fs::write(env.path("follows.csv"), list).unwrap();
    // A deterministic sequence of kill delays (xorshift).
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut kills = 0;
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs < 200, "the import never completed");
        let mut child = env
            .command(&server)
            .env("MIGRATE_SERVER", "social.example")
            .env("MIGRATE_TOKEN", &token)
            .args(["import", "follows.csv", "--json"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Later kills come later: on a loaded machine a run may do little in 440 ms, and the
        // import must still end (each run keeps what it did).
        let delay = Duration::from_millis(40 + next() % 400 + 20 * runs);
        std::thread::sleep(delay);
        match child.try_wait().unwrap() {
            Some(status) => {
                assert_eq!(status.code(), Some(0));
                if kills >= 20 {
                    break;
                }
                // Finished before the kill: start over with a new file to keep killing? No:
                // the run is complete; rerunning is a no-op. Count it and stop once enough
                // kills have happened.
                break;
            }
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    // One last clean run settles everything.
    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["import", "follows.csv", "--json"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    assert!(
        kills >= 20,
        "only {kills} kills landed before the import finished"
    );
    let f = followed(&server);
    let set: HashSet<&String> = f.iter().collect();
    assert_eq!(f.len(), n, "{kills} kills: every account followed");
    assert_eq!(set.len(), n, "none twice");
    let report = read_csv(&env.path("follows.import-report.csv"));
    assert_eq!(report.len(), n);
    assert!(
        report.iter().all(|r| r["outcome"] == "done"),
        "{:?}",
        report
            .iter()
            .filter(|r| r["outcome"] != "done")
            .collect::<Vec<_>>()
    );
    let summary: serde_json::Value = serde_json::from_str(
        stdout(&o)
            .lines()
            .rev()
            .find(|l| l.contains("\"summary\""))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(summary["done"], n as u64);
    assert_eq!(summary["pending"], 0);
    eprintln!("{kills} kills in {runs} runs");
}

#[test]
fn two_thousand_handles_over_two_hundred_hosts_some_dead_and_slow() {
    let mut config = FakeConfig::default();
    for h in 0..200 {
        let host = format!("n{h}.example");
        let behavior = match h % 20 {
            0 => WebfingerBehavior::Unserved,
            1 => WebfingerBehavior::Slow {
                delay: Duration::from_millis(300),
            },
            2 => WebfingerBehavior::Gone,
            _ => WebfingerBehavior::Mastodon,
        };
        config = config.webfinger_host(&host, behavior);
    }
    let server = FakeServer::start(config);
    let mut list = String::new();
    for i in 0..2000 {
        let h = i % 200;
        let acct = format!("m{i}@n{h}.example");
        if h % 20 >= 3 || h % 20 == 1 {
            server.add_remote_account(&acct, false, false, None);
        }
        list.push_str(&acct);
        list.push('\n');
    }
    let env = Env::new();
    std::fs::write(env.path("many.csv"), list).unwrap();
    let started = std::time::Instant::now();
    let o = env.run(&server, &["resolve", "many.csv", "--json"]);
    let took = started.elapsed();
    assert_code(&o, 0);
    let summary: serde_json::Value =
        serde_json::from_str(stdout(&o).lines().last().unwrap()).unwrap();
    let outcomes = &summary["outcomes"];
    // 10 unserved hosts × 10, 10 gone hosts × 10, the rest found (slow hosts included).
    assert_eq!(outcomes["host_unreachable"], 100, "{summary}");
    assert_eq!(outcomes["gone"], 100, "{summary}");
    assert_eq!(outcomes["found"], 1800, "{summary}");
    // The concurrency limits hold: never more than 2 lookups in flight on one host. The slow
    // hosts (10 handles each at 300 ms, 2 at a time) bound the time from below at 1.5 s.
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    assert!(took < Duration::from_secs(60), "{took:?}");
    // Dead hosts are given up after a few tries, not asked once per handle forever.
    let st = server.state();
    let slow_requests: u64 = st
        .counters
        .requests
        .iter()
        .filter(|(k, _)| k.contains("n1.example/.well-known/webfinger"))
        .map(|(_, v)| *v)
        .sum();
    assert_eq!(slow_requests, 10, "one request per handle on a slow host");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_with_exit_3_and_the_rerun_finishes_exactly_once() {
    let mut config = FakeConfig {
        remote_accepts_immediately: true,
        faults: fake::FaultPlan::new(11).rule(fake::FaultRule::new(
            fake::EndpointClass::Follows,
            fake::FaultKind::Latency(Duration::from_millis(50)),
            1.0,
        )),
        ..FakeConfig::default()
    };
    for i in 0..40 {
        config
            .remote_accounts
            .push(RemoteAccountSpec::new(&format!("c{i}@intr.example")).known());
    }
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    let list: String = (0..40).map(|i| format!("c{i}@intr.example\n")).collect();
    std::fs::write(env.path("follows.csv"), list).unwrap();
    let child = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["import", "follows.csv"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Let it get into the follows (40 × 50 ms), then interrupt it like a user would.
    std::thread::sleep(Duration::from_millis(900));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    assert_code(&o, 3);
    assert!(stderr(&o).contains("stopped by Ctrl-C"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("run the same command again"),
        "{}",
        stderr(&o)
    );
    let partial = followed(&server).len();
    assert!(partial < 40, "interrupted before the end ({partial})");
    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["import", "follows.csv"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    let f = followed(&server);
    let set: HashSet<&String> = f.iter().collect();
    assert_eq!((f.len(), set.len()), (40, 40));
}
