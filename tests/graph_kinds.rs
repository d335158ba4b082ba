//! `migrate import` of every kind of Mastodon CSV export through the real binary against the
//! fake server: blocks, mutes, domain blocks, lists and bookmarks reach the server's state, with
//! their reports and re-importable failure files; and the run's options — `--dry-run`,
//! `--no-wait` with `migrate status`, `--web-import`, `--json` and `-o DIR`.

#[path = "support/fake/mod.rs"]
mod fake;
#[path = "support/cli.rs"]
mod support_cli;

use std::collections::{HashMap, HashSet};
use std::process::Output;
use std::time::Duration;

use fake::{FakeConfig, FakeServer, Limit, RemoteAccountSpec, State, WebfingerBehavior};
use support_cli::{Env, assert_code, read_csv, stderr, stdout};

type Report = Vec<HashMap<String, String>>;

/// The report row of input line `line`.
fn row(report: &Report, line: u64) -> &HashMap<String, String> {
    report
        .iter()
        .find(|r| r["line"] == line.to_string())
        .unwrap_or_else(|| panic!("line {line} in {report:?}"))
}

/// The (outcome, reason) of input line `line`.
fn outcome(report: &Report, line: u64) -> (String, String) {
    let r = row(report, line);
    (r["outcome"].clone(), r["reason"].clone())
}

/// Runs the binary as alice (a token for `social.example`).
fn migrate(env: &Env, server: &FakeServer, token: &str, args: &[&str]) -> Output {
    env.command(server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", token)
        .args(args)
        .output()
        .unwrap()
}

fn alice(st: &State) -> String {
    st.account_id("alice").unwrap()
}

fn acct(st: &State, id: &str) -> String {
    st.account(id)
        .map(|a| a.acct.clone())
        .unwrap_or_else(|| format!("<unknown id {id}>"))
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The accounts alice follows or has requested, by acct, in the order followed.
fn followed(st: &State) -> Vec<String> {
    let me = alice(st);
    st.follows_by(&me)
        .iter()
        .map(|f| acct(st, &f.target_id))
        .collect()
}

/// POST requests the home server received (every change the client asked for).
fn posts(st: &State) -> u64 {
    st.counters
        .requests
        .iter()
        .filter(|(k, _)| k.starts_with("POST /"))
        .map(|(_, v)| *v)
        .sum()
}

/// `POST` to the home server's API as the token's user (test setup).
fn api_post(
    server: &FakeServer,
    token: &str,
    path: &str,
    form: &[(&str, &str)],
) -> serde_json::Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let resp = server
            .client()
            .post(server.home_url(path))
            .bearer_auth(token)
            .form(form)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    })
}

fn lookup_id(server: &FakeServer, acct: &str) -> String {
    server.state().account_id(acct).unwrap()
}

/// The JSON summary event (the last line of standard output under `--json`).
fn summary(o: &Output) -> serde_json::Value {
    let out = stdout(o);
    let last = out.lines().last().expect("a line on standard output");
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(v["event"], "summary", "{out}");
    v
}

#[test]
fn blocks_reach_the_server_and_the_failures_file_imports_again() {
    let server = FakeServer::start(
        FakeConfig::default()
            .remote(RemoteAccountSpec::new("ana@far.example"))
            .remote(RemoteAccountSpec::new("bo@far.example").known()),
    );
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    std::fs::write(
        env.path("blocked_accounts.csv"),
        "ana@far.example\n@bo@far.example\nnobody@far.example\nANA@far.example\nalice@social.example\n",
    )
    .unwrap();
    let o = migrate(&env, &server, &token, &["import", "blocked_accounts.csv"]);
    assert_code(&o, 0);
    let st = server.state();
    let me = alice(&st);
    let blocked: Vec<String> = st
        .blocks
        .iter()
        .filter(|b| b.account_id == me)
        .map(|b| acct(&st, &b.target_id))
        .collect();
    // The exact accounts (never a search decoy), each once; never alice herself.
    assert_eq!(sorted(blocked), ["ana@far.example", "bo@far.example"]);
    assert_eq!(
        st.counters.requests_to("POST /api/v1/accounts/:id/block"),
        2
    );
    assert!(followed(&st).is_empty(), "blocking follows no one");

    let report = read_csv(&env.path("blocked_accounts.import-report.csv"));
    assert_eq!(report.len(), 5, "{report:?}");
    assert_eq!(row(&report, 1)["action"], "block");
    assert_eq!(outcome(&report, 1).0, "done");
    assert_eq!(row(&report, 2)["canonical_handle"], "bo@far.example");
    assert_eq!(outcome(&report, 2).0, "done");
    assert_eq!(
        outcome(&report, 3),
        ("failed".into(), "no such account".into())
    );
    assert_eq!(outcome(&report, 4).0, "skipped");
    assert!(
        outcome(&report, 4).1.contains("duplicate of line 1"),
        "{report:?}"
    );
    assert_eq!(
        outcome(&report, 5),
        ("skipped".into(), "your own account".into())
    );
    // The failures file is Mastodon's blocks export: no header, one account per line.
    let failures_path = env.path("blocked_accounts.failures.csv");
    let failures = std::fs::read_to_string(&failures_path).unwrap();
    assert_eq!(failures, "nobody@far.example\n");

    // Once the account exists, the failures file is imported as it is (a fresh journal, so no
    // cached WebFinger answer stands in the way).
    server.add_remote_account("nobody@far.example", false, false, None);
    let env2 = Env::new();
    std::fs::copy(&failures_path, env2.path("blocked_accounts.failures.csv")).unwrap();
    let o = migrate(
        &env2,
        &server,
        &token,
        &["import", "blocked_accounts.failures.csv"],
    );
    assert_code(&o, 0);
    let st = server.state();
    assert!(
        st.blocks
            .iter()
            .any(|b| b.account_id == me && acct(&st, &b.target_id) == "nobody@far.example"),
        "{}",
        stderr(&o)
    );
    let report = read_csv(&env2.path("blocked_accounts.failures.import-report.csv"));
    assert_eq!(report.len(), 1);
    assert_eq!(row(&report, 1)["action"], "block");
    assert_eq!(outcome(&report, 1).0, "done");
}

#[test]
fn mutes_carry_the_notifications_flag() {
    let server = FakeServer::start(
        FakeConfig::default()
            .remote(RemoteAccountSpec::new("ana@far.example"))
            .remote(RemoteAccountSpec::new("bo@far.example").known())
            .remote(RemoteAccountSpec::new("cy@far.example")),
    );
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    std::fs::write(
        env.path("muted_accounts.csv"),
        "Account address,Hide notifications\n\
         ana@far.example,true\n\
         bo@far.example,false\n\
         cy@far.example,\n\
         nobody@far.example,false\n",
    )
    .unwrap();
    let o = migrate(&env, &server, &token, &["import", "muted_accounts.csv"]);
    assert_code(&o, 0);
    let st = server.state();
    let me = alice(&st);
    let mutes: HashMap<String, bool> = st
        .mutes
        .iter()
        .filter(|m| m.account_id == me)
        .map(|m| (acct(&st, &m.target_id), m.notifications))
        .collect();
    let expected: HashMap<String, bool> = [
        ("ana@far.example".to_string(), true),
        ("bo@far.example".to_string(), false),
        // An empty cell leaves Mastodon's default: notifications muted too.
        ("cy@far.example".to_string(), true),
    ]
    .into();
    assert_eq!(mutes, expected);
    assert!(st.mutes.iter().all(|m| m.expires_at.is_none()));
    assert!(st.blocks.is_empty() && st.follows.is_empty());

    let report = read_csv(&env.path("muted_accounts.import-report.csv"));
    for line in [2, 3, 4] {
        assert_eq!(outcome(&report, line).0, "done", "{report:?}");
        assert_eq!(row(&report, line)["action"], "mute");
    }
    assert_eq!(
        outcome(&report, 5),
        ("failed".into(), "no such account".into())
    );
    // Mastodon's mutes export has a header; the flag is kept as given.
    let failures = std::fs::read_to_string(env.path("muted_accounts.failures.csv")).unwrap();
    assert_eq!(
        failures,
        "Account address,Hide notifications\nnobody@far.example,false\n"
    );
}

#[test]
fn domain_blocks_send_idn_domains_in_ascii_and_duplicates_once() {
    let server = FakeServer::start(FakeConfig::default());
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    std::fs::write(
        env.path("blocked_domains.csv"),
        "spam.example\n\
         bücher.example\n\
         xn--bcher-kva.example\n\
         SPAM.example\n\
         evil.example.\n\
         https://bad.example/path\n",
    )
    .unwrap();
    let o = migrate(&env, &server, &token, &["import", "blocked_domains.csv"]);
    assert_code(&o, 0);
    let st = server.state();
    let me = alice(&st);
    let domains: Vec<String> = st
        .domain_blocks
        .iter()
        .filter(|b| b.account_id == me)
        .map(|b| b.domain.clone())
        .collect();
    // Mastodon keeps a domain block in its ASCII (punycode) form, as the client sends it.
    assert_eq!(
        sorted(domains),
        ["evil.example", "spam.example", "xn--bcher-kva.example"]
    );
    assert_eq!(st.counters.requests_to("POST /api/v1/domain_blocks"), 3);

    let report = read_csv(&env.path("blocked_domains.import-report.csv"));
    assert_eq!(report.len(), 6, "{report:?}");
    for line in [1, 2, 5] {
        assert_eq!(outcome(&report, line).0, "done", "{report:?}");
        assert_eq!(row(&report, line)["action"], "domain block");
    }
    assert_eq!(row(&report, 2)["input"], "bücher.example");
    assert_eq!(outcome(&report, 3).0, "skipped");
    assert!(
        outcome(&report, 3).1.contains("duplicate of line 2"),
        "{report:?}"
    );
    assert_eq!(outcome(&report, 4).0, "skipped");
    assert!(
        outcome(&report, 4).1.contains("duplicate of line 1"),
        "{report:?}"
    );
    assert_eq!(outcome(&report, 6).0, "failed");
    assert!(
        outcome(&report, 6).1.contains("unreadable row"),
        "{report:?}"
    );
    // Nothing the server refused: the unreadable row cannot be written in the format.
    let failures = std::fs::read_to_string(env.path("blocked_domains.failures.csv")).unwrap();
    assert_eq!(failures, "");

    // Importing the file again sends nothing new.
    let before = posts(&server.state());
    let o = migrate(&env, &server, &token, &["import", "blocked_domains.csv"]);
    assert_code(&o, 0);
    let st = server.state();
    assert_eq!(posts(&st), before);
    assert_eq!(st.domain_blocks.len(), 3);
}

fn lists_server() -> FakeServer {
    FakeServer::start(
        FakeConfig::default()
            .remote(RemoteAccountSpec::new("ana@far.example"))
            .remote(RemoteAccountSpec::new("bo@far.example").known())
            .remote(RemoteAccountSpec::new("cy@far.example"))
            .remote(RemoteAccountSpec::new("locked@far.example").locked()),
    )
}

/// alice's lists on the fake: title → (id, members by acct).
fn lists_of(st: &State) -> HashMap<String, (String, HashSet<String>)> {
    let me = alice(st);
    let mut out = HashMap::new();
    for l in st.lists.iter().filter(|l| l.account_id == me) {
        let members = l.members.iter().map(|m| acct(st, m)).collect();
        let previous = out.insert(l.title.clone(), (l.id.clone(), members));
        assert!(previous.is_none(), "two lists titled {:?}", l.title);
    }
    out
}

#[test]
fn lists_are_created_or_reused_and_members_followed_first() {
    let server = lists_server();
    let token = server.issue_token("alice", "read write follow");
    let friends = api_post(&server, &token, "/api/v1/lists", &[("title", "Friends")]);
    let friends_id = friends["id"].as_str().unwrap().to_string();
    let env = Env::new();
    std::fs::write(
        env.path("lists.csv"),
        "Friends,ana@far.example\n\
         Friends,bo@far.example\n\
         News,cy@far.example\n\
         News,locked@far.example\n\
         News,nobody@far.example\n",
    )
    .unwrap();
    let o = migrate(&env, &server, &token, &["import", "lists.csv"]);
    assert_code(&o, 0);
    let st = server.state();
    let lists = lists_of(&st);
    assert_eq!(lists.len(), 2, "{lists:?}");
    // The existing list is reused, the missing one created once.
    assert_eq!(lists["Friends"].0, friends_id);
    assert_eq!(st.counters.requests_to("POST /api/v1/lists"), 2);
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
    assert_eq!(
        lists["Friends"].1,
        set(&["ana@far.example", "bo@far.example"])
    );
    // The locked account only has a follow request: it is not in the list.
    assert_eq!(lists["News"].1, set(&["cy@far.example"]));
    // Every member was followed (the locked one requested) before being added.
    let f = followed(&st);
    assert_eq!(
        sorted(f),
        [
            "ana@far.example",
            "bo@far.example",
            "cy@far.example",
            "locked@far.example"
        ]
    );
    let locked = lookup_id(&server, "locked@far.example");
    assert!(
        st.follows
            .iter()
            .any(|f| f.target_id == locked && f.pending),
        "a follow request to the locked account"
    );

    let report = read_csv(&env.path("lists.import-report.csv"));
    for line in [1, 2, 3] {
        assert_eq!(outcome(&report, line).0, "done", "{report:?}");
        assert_eq!(row(&report, line)["action"], "add to list");
    }
    assert_eq!(row(&report, 1)["input"], "Friends: ana@far.example");
    let (state, reason) = outcome(&report, 4);
    assert_eq!(state, "failed");
    assert!(reason.contains("approves followers"), "{reason}");
    assert_eq!(
        outcome(&report, 5),
        ("failed".into(), "no such account".into())
    );
    // Re-importable: Mastodon's lists export, no header.
    let failures = std::fs::read_to_string(env.path("lists.failures.csv")).unwrap();
    assert_eq!(
        failures,
        "News,locked@far.example\nNews,nobody@far.example\n"
    );
}

#[test]
fn a_list_member_already_in_the_list_is_not_a_failure() {
    let server = lists_server();
    let token = server.issue_token("alice", "read write follow");
    // alice already follows bo and has him in "Friends".
    let friends = api_post(&server, &token, "/api/v1/lists", &[("title", "Friends")]);
    let friends_id = friends["id"].as_str().unwrap().to_string();
    let bo = lookup_id(&server, "bo@far.example");
    api_post(
        &server,
        &token,
        &format!("/api/v1/accounts/{bo}/follow"),
        &[],
    );
    api_post(
        &server,
        &token,
        &format!("/api/v1/lists/{friends_id}/accounts"),
        &[("account_ids[]", &bo)],
    );
    let env = Env::new();
    std::fs::write(
        env.path("lists.csv"),
        "Friends,bo@far.example\nFriends,ana@far.example\n",
    )
    .unwrap();
    let o = migrate(&env, &server, &token, &["import", "lists.csv"]);
    assert_code(&o, 0);
    let st = server.state();
    let lists = lists_of(&st);
    assert_eq!(lists.len(), 1);
    assert_eq!(lists["Friends"].1.len(), 2, "{lists:?}");
    let report = read_csv(&env.path("lists.import-report.csv"));
    assert_eq!(outcome(&report, 2).0, "done", "{report:?}");
    // bo is where the file wants him: done (or skipped), not a failure to re-import.
    let (state, reason) = outcome(&report, 1);
    assert_ne!(state, "failed", "{reason}");
    let failures = std::fs::read_to_string(env.path("lists.failures.csv")).unwrap();
    assert_eq!(failures, "");
}

#[test]
fn a_lost_answer_to_adding_a_list_member_is_not_a_failure() {
    // The server adds ana to the list, then the connection drops before the answer: the
    // client cannot tell, sends again, and the server says she is in the list already.
    let server = lists_server();
    server.set_fault_plan(fake::FaultPlan::new(1).rule(fake::FaultRule::nth(
        fake::EndpointClass::PathPrefix("/api/v1/lists/".into()),
        fake::FaultKind::LostResponse,
        1,
    )));
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    std::fs::write(env.path("lists.csv"), "Friends,ana@far.example\n").unwrap();
    let o = migrate(&env, &server, &token, &["import", "lists.csv"]);
    assert_code(&o, 0);
    let st = server.state();
    assert_eq!(
        st.counters.faults.lost_response, 1,
        "the fault was injected"
    );
    let lists = lists_of(&st);
    assert_eq!(
        lists["Friends"].1,
        HashSet::from(["ana@far.example".to_string()])
    );
    let report = read_csv(&env.path("lists.import-report.csv"));
    let (state, reason) = outcome(&report, 1);
    assert_eq!(state, "done", "{reason}");
}

#[test]
fn bookmarks_are_found_through_search_and_bookmarked() {
    let server =
        FakeServer::start(FakeConfig::default().remote(RemoteAccountSpec::new("ana@far.example")));
    server.add_remote_status("ana@far.example", "https://far.example/@ana/1001", "one");
    server.add_remote_status("ana@far.example", "https://far.example/@ana/1002", "two");
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    std::fs::write(
        env.path("bookmarks.csv"),
        "https://far.example/@ana/1001\n\
         https://far.example/@ana/1002\n\
         https://far.example/@ana/9999\n\
         https://far.example/@ana/1001\n",
    )
    .unwrap();
    let o = migrate(&env, &server, &token, &["import", "bookmarks.csv"]);
    assert_code(&o, 0);
    let st = server.state();
    let me = alice(&st);
    let marked: Vec<String> = st
        .bookmarks
        .iter()
        .filter(|b| b.account_id == me)
        .map(|b| {
            st.statuses
                .iter()
                .find(|s| s.id == b.status_id)
                .map(|s| s.url.clone())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        sorted(marked),
        [
            "https://far.example/@ana/1001",
            "https://far.example/@ana/1002"
        ]
    );
    assert_eq!(
        st.counters
            .requests_to("POST /api/v1/statuses/:id/bookmark"),
        2
    );
    let report = read_csv(&env.path("bookmarks.import-report.csv"));
    assert_eq!(report.len(), 4);
    for line in [1, 2] {
        assert_eq!(outcome(&report, line).0, "done", "{report:?}");
        assert_eq!(row(&report, line)["action"], "bookmark");
    }
    assert_eq!(
        outcome(&report, 3),
        (
            "failed".into(),
            "the target server could not find this post".into()
        )
    );
    assert_eq!(outcome(&report, 4).0, "skipped");
    assert!(
        outcome(&report, 4).1.contains("duplicate of line 1"),
        "{report:?}"
    );
    let failures = std::fs::read_to_string(env.path("bookmarks.failures.csv")).unwrap();
    assert_eq!(failures, "https://far.example/@ana/9999\n");
}

#[test]
fn dry_run_changes_nothing_and_reports_the_plan() {
    let server = FakeServer::start(
        FakeConfig::default()
            .remote(RemoteAccountSpec::new("ana@far.example"))
            .remote(RemoteAccountSpec::new("bo@far.example").known())
            .remote(RemoteAccountSpec::new("cy@far.example")),
    );
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    std::fs::write(
        env.path("following_accounts.csv"),
        "ana@far.example\nbo@far.example\ncy@far.example\n",
    )
    .unwrap();
    let accounts_before = server.state().accounts.len();
    let o = migrate(
        &env,
        &server,
        &token,
        &["import", "following_accounts.csv", "--dry-run"],
    );
    assert_code(&o, 0);
    let st = server.state();
    assert_eq!(posts(&st), 0, "{:?}", st.counters.requests);
    assert!(st.follows.is_empty() && st.blocks.is_empty() && st.lists.is_empty());
    // Not even a resolving search: the server learns no account.
    assert_eq!(st.accounts.len(), accounts_before);
    let err = stderr(&o);
    assert!(
        err.contains("plan: 3 following to carry out"),
        "the plan on stderr: {err}"
    );
    assert!(err.contains("3 new follows fit in today's budget"), "{err}");
    let report = read_csv(&env.path("following_accounts.import-report.csv"));
    assert_eq!(report.len(), 3);
    for line in [1, 2, 3] {
        assert_eq!(outcome(&report, line).0, "pending", "{report:?}");
        assert_eq!(row(&report, line)["action"], "follow");
    }
    assert_eq!(
        std::fs::read_to_string(env.path("following_accounts.failures.csv")).unwrap(),
        "Account address,Show boosts,Notify on new posts,Languages\n"
    );

    // The real run afterwards does everything the dry run planned.
    let o = migrate(&env, &server, &token, &["import", "following_accounts.csv"]);
    assert_code(&o, 0);
    assert_eq!(
        sorted(followed(&server.state())),
        ["ana@far.example", "bo@far.example", "cy@far.example"]
    );
    let report = read_csv(&env.path("following_accounts.import-report.csv"));
    assert!(report.iter().all(|r| r["outcome"] == "done"), "{report:?}");
}

#[test]
fn no_wait_stops_at_the_follows_window_and_the_same_command_finishes_later() {
    // One fake day lasts 3 real seconds and starts when the server does; the client, on the
    // wall clock, is sent wall-clock resets.
    let mut config = FakeConfig {
        time_scale: 86_400.0 / 3.0,
        wall_clock_resets: true,
        remote_accepts_immediately: true,
        start_time: Some(
            chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
        ),
        ..FakeConfig::default()
    };
    config.rate_limits.follows = Some(Limit::new(2, 86_400));
    let accounts: Vec<String> = (0..4).map(|i| format!("w{i}@wait.example")).collect();
    for a in &accounts {
        config
            .remote_accounts
            .push(RemoteAccountSpec::new(a).known());
    }
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    std::fs::write(env.path("follows.csv"), accounts.join("\n")).unwrap();
    let args = ["import", "follows.csv", "--no-wait"];

    let o = migrate(&env, &server, &token, &args);
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(err.contains("rate window, which reopens at"), "{err}");
    assert!(err.contains("run the same command again"), "{err}");
    assert_eq!(followed(&server.state()).len(), 2);
    let report = read_csv(&env.path("follows.import-report.csv"));
    let states: Vec<&str> = report.iter().map(|r| r["outcome"].as_str()).collect();
    assert_eq!(states, ["done", "done", "pending", "pending"]);

    // `status` lists the run: two done, two pending, waiting for the follows window.
    let o = env.run(&server, &["status"]);
    assert_code(&o, 0);
    let text = stdout(&o);
    assert!(text.contains("follows.csv"), "{text}");
    assert!(
        text.contains("4 items: 2 done, 2 pending, 0 failed, 0 skipped"),
        "{text}"
    );
    assert!(text.contains("waiting: follows"), "{text}");
    let o = env.run(&server, &["status", "--json"]);
    assert_code(&o, 0);
    let runs: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["done"], 2);
    assert_eq!(
        runs[0]["pending"].as_u64().unwrap() + runs[0]["sending"].as_u64().unwrap(),
        2
    );
    let waiting = runs[0]["waiting_for"]
        .as_str()
        .expect("waiting_for")
        .to_string();
    let until = waiting
        .rsplit(' ')
        .next()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .unwrap_or_else(|| panic!("an instant at the end of {waiting:?}"))
        .with_timezone(&chrono::Utc);
    let ahead = (until - chrono::Utc::now()).to_std().unwrap_or_default();
    assert!(
        ahead <= Duration::from_secs(4),
        "the window reopens within a scaled day: {waiting}"
    );

    // Later: the window has reopened (on the wall clock the client keeps, and past it on the
    // fake's clock too). The same command finishes.
    std::thread::sleep(ahead + Duration::from_millis(200));
    server.advance(Duration::from_secs(3_600));
    let o = migrate(&env, &server, &token, &args);
    assert_code(&o, 0);
    let st = server.state();
    let f = followed(&st);
    assert_eq!(
        sorted(f),
        sorted(accounts.clone()),
        "every account followed"
    );
    assert_eq!(
        st.counters.requests_to("POST /api/v1/accounts/:id/follow"),
        4,
        "each once"
    );
    assert_eq!(
        st.counters.rate_limited_by.get("follows"),
        None,
        "never a 429"
    );
    let report = read_csv(&env.path("follows.import-report.csv"));
    assert!(report.iter().all(|r| r["outcome"] == "done"), "{report:?}");
    let o = env.run(&server, &["status"]);
    let text = stdout(&o);
    assert!(text.contains("4 items: 4 done, 0 pending"), "{text}");
    assert!(text.contains("complete"), "{text}");
}

#[test]
fn web_import_holds_the_verified_follows_with_canonical_handles() {
    let config = FakeConfig {
        remote_accepts_immediately: true,
        ..FakeConfig::default()
    }
    .webfinger_host(
        "old.example",
        WebfingerBehavior::Canonicalizes {
            to: "new.example".into(),
        },
    )
    .webfinger_host("new.example", WebfingerBehavior::Mastodon)
    .remote(RemoteAccountSpec::new("oli@new.example"))
    .remote(RemoteAccountSpec::new("pia@new.example").known())
    .remote(RemoteAccountSpec::new("moved@new.example").moved_to("home@new.example"));
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    std::fs::write(
        env.path("following_accounts.csv"),
        "Account address,Show boosts,Notify on new posts,Languages\n\
         oli@old.example,false,true,en\n\
         pia@new.example,,,\n\
         nobody@old.example,,,\n\
         moved@new.example,,,\n",
    )
    .unwrap();
    let o = migrate(
        &env,
        &server,
        &token,
        &[
            "import",
            "following_accounts.csv",
            "--web-import",
            "for-mastodon.csv",
        ],
    );
    assert_code(&o, 0);
    let web = std::fs::read_to_string(env.path("for-mastodon.csv")).unwrap();
    assert_eq!(
        web,
        "Account address,Show boosts,Notify on new posts,Languages\n\
         oli@new.example,false,true,en\n\
         pia@new.example,,,\n",
        "the verified follows, canonical, options kept; not the failed ones"
    );
    // The run itself followed them too, by their canonical handles.
    assert_eq!(
        sorted(followed(&server.state())),
        ["oli@new.example", "pia@new.example"]
    );
    let report = read_csv(&env.path("following_accounts.import-report.csv"));
    assert_eq!(row(&report, 2)["canonical_handle"], "oli@new.example");
    assert_eq!(outcome(&report, 4).0, "failed");
    assert_eq!(outcome(&report, 5).0, "failed");
}

#[test]
fn web_import_names_each_account_once_and_never_the_account_itself() {
    let config = FakeConfig {
        remote_accepts_immediately: true,
        ..FakeConfig::default()
    }
    .webfinger_host(
        "old.example",
        WebfingerBehavior::Canonicalizes {
            to: "new.example".into(),
        },
    )
    .webfinger_host("new.example", WebfingerBehavior::Mastodon)
    .remote(RemoteAccountSpec::new("oli@new.example"));
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    // Two spellings of oli (one through the old domain) and alice herself.
    std::fs::write(
        env.path("following_accounts.csv"),
        "oli@old.example\nOli@new.example\nalice@social.example\n",
    )
    .unwrap();
    let o = migrate(
        &env,
        &server,
        &token,
        &[
            "import",
            "following_accounts.csv",
            "--web-import",
            "web.csv",
        ],
    );
    assert_code(&o, 0);
    let report = read_csv(&env.path("following_accounts.import-report.csv"));
    assert_eq!(outcome(&report, 2).0, "skipped", "{report:?}");
    assert_eq!(outcome(&report, 3).0, "skipped", "{report:?}");
    let web = std::fs::read_to_string(env.path("web.csv")).unwrap();
    assert_eq!(
        web, "Account address,Show boosts,Notify on new posts,Languages\noli@new.example,,,\n",
        "the duplicate spelling and the account itself are not follows to make"
    );
}

#[test]
fn json_lines_end_with_a_summary_counted_by_reason() {
    let server = FakeServer::start(
        FakeConfig::default()
            .remote(RemoteAccountSpec::new("ana@far.example"))
            .remote(RemoteAccountSpec::new("bo@far.example").known())
            .remote(RemoteAccountSpec::new("moved@far.example").moved_to("home@far.example")),
    );
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    std::fs::write(
        env.path("follows.csv"),
        "ana@far.example\n\
         bo@far.example\n\
         ANA@far.example\n\
         alice@social.example\n\
         nobody@far.example\n\
         moved@far.example\n\
         not a handle\n",
    )
    .unwrap();
    let o = migrate(&env, &server, &token, &["import", "follows.csv", "--json"]);
    assert_code(&o, 0);
    let out = stdout(&o);
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}"));
            assert!(v.is_object(), "{l}");
            assert!(v["event"].is_string(), "an `event` field: {l}");
            v
        })
        .collect();
    let kinds: HashSet<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for k in ["phase", "progress", "item", "note", "summary"] {
        assert!(kinds.contains(k), "{k} in {kinds:?}");
    }
    assert_eq!(events.iter().filter(|e| e["event"] == "summary").count(), 1);
    let s = summary(&o);
    // The summary counts the rows the report lists, each once.
    let report = read_csv(&env.path("follows.import-report.csv"));
    assert_eq!(report.len(), 7);
    let counted: u64 = ["done", "skipped", "failed", "pending"]
        .iter()
        .map(|k| s[*k].as_u64().unwrap())
        .sum();
    assert_eq!(
        counted,
        report.len() as u64,
        "summary {s}\nreport {report:?}"
    );
    assert_eq!(s["kind"], "follows");
    assert_eq!(s["dry_run"], false);
    assert_eq!(s["completed"], true);
    assert_eq!(s["done"], 2, "{s}");
    assert_eq!(s["skipped"], 2, "{s}");
    assert_eq!(s["failed"], 3, "{s}");
    assert_eq!(s["pending"], 0, "{s}");
    assert_eq!(
        s["skipped_by_reason"],
        serde_json::json!({"duplicate": 1, "your own account": 1}),
        "{s}"
    );
    assert_eq!(
        s["failed_by_reason"],
        serde_json::json!({"not found": 1, "moved": 1, "unreadable row": 1}),
        "{s}"
    );
    assert_eq!(s["follows_sent"], 2, "{s}");
    // No human summary on stderr under --json.
    assert!(!stderr(&o).contains("Reports:"), "{}", stderr(&o));
}

#[test]
fn output_dir_receives_the_reports() {
    let server = FakeServer::start(
        FakeConfig::default().remote(RemoteAccountSpec::new("ana@far.example").known()),
    );
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    std::fs::write(
        env.path("blocked_accounts.csv"),
        "ana@far.example\nnobody@far.example\n",
    )
    .unwrap();
    let o = migrate(
        &env,
        &server,
        &token,
        &["import", "blocked_accounts.csv", "-o", "out/reports"],
    );
    assert_code(&o, 0);
    let dir = env.path("out/reports");
    let report = read_csv(&dir.join("blocked_accounts.import-report.csv"));
    assert_eq!(outcome(&report, 1).0, "done");
    assert_eq!(outcome(&report, 2).0, "failed");
    assert_eq!(
        std::fs::read_to_string(dir.join("blocked_accounts.failures.csv")).unwrap(),
        "nobody@far.example\n"
    );
    assert!(!env.path("blocked_accounts.import-report.csv").exists());
    assert!(!env.path("blocked_accounts.failures.csv").exists());
    let err = stderr(&o);
    assert!(
        err.contains("out/reports/blocked_accounts.import-report.csv"),
        "{err}"
    );
    assert_eq!(server.state().blocks.len(), 1);
}
