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
    // A request that keeps failing after its retries stops the run (exit 3) rather than post
    // out of order: run until complete.
    let mut runs = 0;
    loop {
        runs += 1;
        let o = import(&env, &server, &token);
        let last = stdout(&o).lines().last().unwrap_or_default().to_string();
        if o.status.code() == Some(0) && last.contains("\"completed\":true") {
            break;
        }
        assert_code(&o, 3);
        assert!(runs < 10, "{runs} runs");
    }
    check_exactly_once(&server, &plan);
    check_sample(&server);
    let lost = server.state().counters.faults.clone();
    eprintln!("faults injected: {lost:?}");
}

#[test]
fn a_short_outage_is_ridden_out_and_announced() {
    // The server answers 503 to the first four status requests (a restart, a load spike):
    // the run retries with growing waits, says so, and completes in one go.
    let faults = FaultPlan::new(9)
        .rule(FaultRule::new(EndpointClass::Statuses, FaultKind::Unavailable, 1.0).max(4));
    let (server, env, token) = setup(faults);
    let plan = planned(&env, &server);
    let o = import(&env, &server, &token);
    assert_code(&o, 0);
    assert_eq!(server.state().counters.faults.unavailable, 4);
    let out = stdout(&o);
    let announced: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("trying again in"))
        .collect();
    assert_eq!(
        announced.len(),
        2,
        "the failed tries 3 and 4 are announced:\n{out}"
    );
    assert!(announced[0].contains("503"), "{}", announced[0]);
    assert!(announced[1].contains("(try 5 of 8)"), "{}", announced[1]);
    check_exactly_once(&server, &plan);
}

#[test]
fn killed_and_rerun_posts_each_status_exactly_once() {
    let faults = FaultPlan::new(5).rule(FaultRule::new(
        EndpointClass::Statuses,
        FaultKind::Latency(Duration::from_millis(120)),
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
    assert!(kills >= 20, "{kills} kills");
    check_exactly_once(&server, &plan);
    check_sample(&server);
    eprintln!("{kills} kills survived");
}

/// Every status the sample archive becomes, in order: (the earlier status it replies to, its
/// language, its media kinds, its text). Checked by hand against the fixture's tweets
/// (`examples/make_fixtures.rs`): threads as reply chains (a branch included), the long note
/// tweet in full and the longer one split in two, a quote with its link, the CJK tweet in
/// Japanese with its hashtag, escaped entities decoded once, mentions that notify no one, the
/// GIF and the video as video, the retweet, the replies to others and the deleted tweets left
/// out.
const SAMPLE_STATUSES: &[(Option<usize>, &str, &[&str], &str)] = &[
    (
        None,
        "en",
        &[],
        "Hello! This account logs what I find in the tide pools around the bay, one low tide at a time.\n\nOriginally posted on Twitter on 2022-11-20: https://twitter.com/tidepool_notes/status/1594242893731213312",
    ),
    (
        None,
        "en",
        &[],
        "Thread: a low-tide walk, minute by minute 🧵\n\nOriginally posted on Twitter on 2022-12-03: https://twitter.com/tidepool_notes/status/1599070957065613312",
    ),
    (
        Some(1),
        "en",
        &[],
        "16:02 — the first anemones, closed up tight like green gumdrops.\n\nOriginally posted on Twitter on 2022-12-03: https://twitter.com/tidepool_notes/status/1599071460382093312",
    ),
    (
        Some(2),
        "en",
        &[],
        "16:05 — a hermit crab trading shells. The new one is clearly too big.\n\nOriginally posted on Twitter on 2022-12-03: https://twitter.com/tidepool_notes/status/1599072215356813312",
    ),
    (
        Some(3),
        "en",
        &[],
        "16:09 — sculpin! Perfectly still, perfectly camouflaged.\n\nOriginally posted on Twitter on 2022-12-03: https://twitter.com/tidepool_notes/status/1599073221989773312",
    ),
    (
        Some(4),
        "en",
        &[],
        "16:15 — tide's turning, time to head back. Thanks for walking along 👣\n\nOriginally posted on Twitter on 2022-12-03: https://twitter.com/tidepool_notes/status/1599074731939213312",
    ),
    (
        None,
        "ja",
        &[],
        "潮だまりで小さなカニを見つけた 🦀🌊 #tidepools\n\nOriginally posted on Twitter on 2023-01-05: https://twitter.com/tidepool_notes/status/1610939159664013312",
    ),
    (
        None,
        "en",
        &[],
        "Pool rules: look & don't touch, put rocks back <3, and photos > souvenirs.\n\nOriginally posted on Twitter on 2023-01-14: https://twitter.com/tidepool_notes/status/1614193100707213312",
    ),
    (
        None,
        "en",
        &["Image", "Image"],
        "Two sea stars, one rock ⭐⭐\n\nOriginally posted on Twitter on 2023-02-11: https://twitter.com/tidepool_notes/status/1624377709680013312",
    ),
    (
        None,
        "en",
        &[],
        "The best explainer on why tide tables differ from town to town 👇 https://twitter.com/musselbed/status/1636001122334455667\n\nOriginally posted on Twitter on 2023-03-15: https://twitter.com/tidepool_notes/status/1635961790125453312",
    ),
    (
        None,
        "en",
        &[],
        "＠anemone_ana you were right about the nudibranchs at the north end!\n\nOriginally posted on Twitter on 2023-04-02: https://twitter.com/tidepool_notes/status/1642432930108813312",
    ),
    (
        None,
        "en",
        &["Video"],
        "Waves filling the pool at the turn of the tide 🎥\n\nOriginally posted on Twitter on 2023-04-22: https://twitter.com/tidepool_notes/status/1649851815024013312",
    ),
    (
        None,
        "en",
        &[],
        "Update on the mystery egg case: it is from a swell shark!\n\nOriginally posted on Twitter on 2023-05-06: https://twitter.com/tidepool_notes/status/1654788091401613312",
    ),
    (
        None,
        "en",
        &[],
        "Please RT ＠hermit_crab_club: beach clean-up on Saturday at 9, bring gloves & a bucket.\n\nOriginally posted on Twitter on 2023-06-01: https://twitter.com/tidepool_notes/status/1664240374896013312",
    ),
    (
        None,
        "en",
        &[],
        "Low tide at 06:12 this morning, −0.4 m. Three things I saw 🧵\n\nOriginally posted on Twitter on 2023-07-08: https://twitter.com/tidepool_notes/status/1677565678704013312",
    ),
    (
        Some(14),
        "en",
        &[],
        "1. A gumboot chiton the size of my shoe.\n\nOriginally posted on Twitter on 2023-07-08: https://twitter.com/tidepool_notes/status/1677565930362253312",
    ),
    (
        Some(14),
        "en",
        &[],
        "2. An octopus den (nobody home).\n\nOriginally posted on Twitter on 2023-07-08: https://twitter.com/tidepool_notes/status/1677566182020493312",
    ),
    (
        Some(15),
        "en",
        &[],
        "…and the chiton was still there an hour later.\n\nOriginally posted on Twitter on 2023-07-08: https://twitter.com/tidepool_notes/status/1677568195286413312",
    ),
    (
        None,
        "en",
        &["Video"],
        "When the wave hits just right\n\nOriginally posted on Twitter on 2023-08-01: https://twitter.com/tidepool_notes/status/1686376233686413312",
    ),
    (
        None,
        "en",
        &[],
        "Sunset over the outer reef 🌅\n\nOriginally posted on Twitter on 2023-08-14: https://twitter.com/tidepool_notes/status/1691164031702413312",
    ),
    (
        None,
        "en",
        &["Image"],
        "Community photo challenge: my entry is this tiny decorator crab 🦀\n\nOriginally posted on Twitter on 2023-09-15: https://twitter.com/tidepool_notes/status/1702713886627213312",
    ),
    (
        None,
        "en",
        &[],
        "Good news for the colony 🎉 https://twitter.com/harborseal_hq/status/1714000000000000002?s=20\n\nOriginally posted on Twitter on 2023-10-20: https://twitter.com/tidepool_notes/status/1715462893065613312",
    ),
    (
        None,
        "en",
        &[],
        "Follow Kai for kelp facts: https://twitter.com/kelpforest_kai and read the survey report: https://example.com/reports/status/12345\n\nOriginally posted on Twitter on 2023-11-01: https://twitter.com/tidepool_notes/status/1719625320355213312",
    ),
    (
        None,
        "en",
        &["Image"],
        "Found a sea lemon nudibranch!\n\nOriginally posted on Twitter on 2023-11-20: https://twitter.com/tidepool_notes/status/1726571842753933312",
    ),
    (
        None,
        "en",
        &[],
        "December tide table is up: lowest tide on the 14th at 05:40\n\nOriginally posted on Twitter on 2023-12-05: https://twitter.com/tidepool_notes/status/1732084919817613312",
    ),
    (
        None,
        "en",
        &[],
        "(the photo above is from the east cove, not the south pools)\n\nOriginally posted on Twitter on 2024-01-10: https://twitter.com/tidepool_notes/status/1745023928227213312",
    ),
    (
        None,
        "en",
        &[],
        "Why does one beach have two low tides? Tide tables are computed for a reference station, & our harbour gauge sits 6 km north of the pools. The shape of the bay matters > anything: a narrow inlet delays the water by 20–40 minutes. Charts: https://example.org/tides/why-two-low-tides\n\nSo if the table says 06:12, plan for 06:40 at the south pools, and bring a watch rather than a phone: phones and tide pools do not mix.\n\nOriginally posted on Twitter on 2024-03-12: https://twitter.com/tidepool_notes/status/1767497755645325312",
    ),
    (
        Some(26),
        "en",
        &[],
        "Part two, about the pools themselves (and to whoever asked why my exported notes say &amp; instead of &: blame the archive). The south pools are the deepest, so they hold water longest and stay coolest on hot afternoons. That is why the anemones there stay open at noon while the ones on the north ledge close up by ten. (1/2)\n\nOriginally posted on Twitter on 2024-03-12: https://twitter.com/tidepool_notes/status/1767497755649519617",
    ),
    (
        Some(27),
        "en",
        &[],
        "If you only have an hour, spend it in the south, move slowly, and let your eyes adjust to the glare before you decide a pool is empty. It almost never is. (2/2)",
    ),
    (
        None,
        "en",
        &[],
        "Short and sweet: low tide at 9.\n\nOriginally posted on Twitter on 2024-04-20: https://twitter.com/tidepool_notes/status/1781608744867213312",
    ),
    (
        None,
        "en",
        &[],
        "That's a wrap for the season — thanks for reading! 🌊\n\nOriginally posted on Twitter on 2024-06-30: https://twitter.com/tidepool_notes/status/1807530843821453312",
    ),
];

#[test]
fn the_sample_becomes_exactly_the_expected_statuses() {
    let (server, env, token) = setup(FaultPlan::default());
    let o = import(&env, &server, &token);
    assert_code(&o, 0);
    check_sample(&server);
}

/// The server holds exactly [`SAMPLE_STATUSES`].
fn check_sample(server: &FakeServer) {
    let st = server.state();
    let mut statuses: Vec<_> = st.statuses.iter().filter(|s| !s.deleted).collect();
    statuses.sort_by_key(|s| s.id.parse::<i64>().unwrap());
    assert_eq!(statuses.len(), SAMPLE_STATUSES.len());
    for (i, (s, (reply, lang, media, text))) in statuses.iter().zip(SAMPLE_STATUSES).enumerate() {
        assert_eq!(s.text, *text, "status {i}");
        assert_eq!(
            s.in_reply_to_id.as_deref(),
            reply.map(|r| statuses[r].id.as_str()),
            "status {i} replies to the right status"
        );
        assert_eq!(s.language.as_deref(), Some(*lang), "status {i}");
        assert_eq!(s.visibility, "unlisted", "status {i}");
        let kinds: Vec<String> = s
            .media_ids
            .iter()
            .map(|id| format!("{:?}", st.media.iter().find(|m| &m.id == id).unwrap().kind))
            .collect();
        assert_eq!(kinds, *media, "status {i}");
    }
}
