//! `migrate import archive.zip` with the user's choices and the server's peculiarities, against
//! the fake server: `--ids`/`--exclude-ids`, `--mention-map`, `--alt-text`, `--no-media`,
//! media over the size limits, media follow-ups, a rerun with other options, reconciliation of
//! a status whose answer was lost over an hour ago, GoToSocial's backdating, bad choice files.

#[path = "support/archive.rs"]
mod archive;
#[path = "support/fake/mod.rs"]
mod fake;
#[path = "support/cli.rs"]
mod support_cli;

use std::time::Duration;

use archive::{Media, Owner, Social, Tweet, User, modern_archive};
use fake::{EndpointClass, FakeConfig, FakeServer, FaultKind, FaultPlan, FaultRule, RateLimits};
use support_cli::{Env, assert_code, stderr, stdout};

const ME: Owner = Owner {
    id: "1500000000000000001",
    username: "ana_tides",
    display_name: "Ana",
    email: "ana@example.com",
    created_at: "2015-03-01T10:00:00.000Z",
};

const JACK: User = User {
    id: "12",
    screen_name: "jack",
    name: "Jack",
};

/// The tweets of the small archive, oldest first.
struct Tweets {
    mention: Tweet,
    photos: Tweet,
    reply: Tweet,
    plain: Tweet,
    video: Tweet,
}

fn tweets() -> Tweets {
    let mention = Tweet::new("2021-05-01T09:00:00Z", 0)
        .text("Lunch with ")
        .mention(JACK)
        .text(" at the harbour");
    let photos = Tweet::new("2021-05-02T09:00:00Z", 0)
        .text("Two crabs")
        .media(Media::photo("AaaaPhotoOne111"))
        .media(Media::photo("BbbbPhotoTwo222"));
    let reply = Tweet::new("2021-05-03T09:00:00Z", 0)
        .text("and the dessert was great")
        .reply_to(Some(&mention.id), ME.id, ME.username);
    let plain = Tweet::new("2021-05-04T09:00:00Z", 0).text("Low tide at six");
    let video = Tweet::new("2021-05-05T09:00:00Z", 0)
        .text("Waves")
        .media(Media::video("CcccVideoBest33", ["low1", "low2"]));
    Tweets {
        mention,
        photos,
        reply,
        plain,
        video,
    }
}

fn write_archive(env: &Env, t: &Tweets) {
    let all = vec![
        t.video.clone(),
        t.plain.clone(),
        t.reply.clone(),
        t.photos.clone(),
        t.mention.clone(),
    ];
    let social = Social {
        following: &[],
        follower: &[],
        block: &[],
        mute: &[],
    };
    modern_archive(&ME, "2024-01-01T00:00:00.000Z", &[all], social)
        .write_zip(&env.path("ana.zip"))
        .unwrap();
}

fn start(f: impl FnOnce(&mut FakeConfig)) -> (FakeServer, String) {
    let mut config = FakeConfig {
        rate_limits: RateLimits::disabled(),
        media_processing: fake::MediaProcessing::AfterPolls(1),
        ..FakeConfig::default()
    };
    config.rate_limits.per_token = Some(fake::Limit::new(100_000, 300));
    f(&mut config);
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write");
    (server, token)
}

fn import(env: &Env, server: &FakeServer, token: &str, extra: &[&str]) -> std::process::Output {
    env.command(server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", token)
        .args(["import", "ana.zip", "--json"])
        .args(extra)
        .output()
        .unwrap()
}

fn note(t: &Tweet) -> String {
    format!(
        "Originally posted on Twitter on {}: https://twitter.com/{}/status/{}",
        t.created_at.format("%Y-%m-%d"),
        ME.username,
        t.id
    )
}

/// The live statuses, oldest first.
fn statuses(server: &FakeServer) -> Vec<fake::Status> {
    let mut list: Vec<_> = server
        .state()
        .statuses
        .into_iter()
        .filter(|s| !s.deleted)
        .collect();
    list.sort_by_key(|s| s.id.parse::<i64>().unwrap());
    list
}

fn report(env: &Env) -> String {
    std::fs::read_to_string(env.path("ana.import-report.csv")).unwrap()
}

#[test]
fn ids_exclusions_mentions_and_alt_text() {
    let env = Env::new();
    let t = tweets();
    write_archive(&env, &t);
    let (server, token) = start(|_| {});
    // Only three tweets, one of them excluded again; the thread's parent is among them.
    std::fs::write(
        env.path("ids.txt"),
        format!(
            "tweet_id\n{}\nhttps://x.com/{}/status/{}\n{}\n",
            t.mention.id, ME.username, t.reply.id, t.photos.id
        ),
    )
    .unwrap();
    std::fs::write(env.path("exclude.txt"), format!("{}\n", t.plain.id)).unwrap();
    std::fs::write(
        env.path("mentions.csv"),
        "twitter,fediverse\n@Jack,@jack@remote.example\n",
    )
    .unwrap();
    let photo_one = t.photos.media[0].file_name(&t.photos.id);
    std::fs::write(
        env.path("alt.csv"),
        format!("{photo_one},\"A crab, sideways\"\n"),
    )
    .unwrap();
    let o = import(
        &env,
        &server,
        &token,
        &[
            "--ids",
            "ids.txt",
            "--exclude-ids",
            "exclude.txt",
            "--mention-map",
            "mentions.csv",
            "--alt-text",
            "alt.csv",
            "--preview",
            "preview.html",
        ],
    );
    assert_code(&o, 0);
    // The preview shows the three posts as sent: the real mention, the alt text, the thread,
    // at this server's limit; the rest of the archive is listed as not selected.
    let page = std::fs::read_to_string(env.path("preview.html")).expect("a preview");
    assert_eq!(page.matches("<article class=\"post").count(), 3, "{page}");
    for t in [&t.mention, &t.photos, &t.reply] {
        assert!(page.contains(&format!("id=\"tweet-{}\"", t.id)), "{page}");
    }
    assert!(page.contains("A crab, sideways"), "{page}");
    assert!(page.contains("@jack@remote.example"), "{page}");
    assert!(page.contains(&format!("href=\"#tweet-{}\"", t.mention.id)));
    assert!(page.contains(" / 500</span>"));
    let plain_row = format!(">{}</a></td><td>", t.plain.id);
    let row = &page[page.find(&plain_row).expect("the excluded tweet is listed")..];
    assert!(
        row.starts_with(&format!("{plain_row}not in --ids"))
            || row.starts_with(&format!("{plain_row}in --exclude-ids")),
        "{row}"
    );
    assert!(stdout(&o).contains("preview.html"));
    let list = statuses(&server);
    let texts: Vec<&str> = list.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            format!(
                "Lunch with @jack@remote.example at the harbour\n\n{}",
                note(&t.mention)
            ),
            format!("Two crabs\n\n{}", note(&t.photos)),
            format!("and the dessert was great\n\n{}", note(&t.reply)),
        ],
        "only the listed tweets, oldest first, with the mapped mention real"
    );
    assert_eq!(list[2].in_reply_to_id.as_deref(), Some(list[0].id.as_str()));
    let st = server.state();
    let media: Vec<_> = list[1]
        .media_ids
        .iter()
        .map(|id| st.media.iter().find(|m| &m.id == id).unwrap().clone())
        .collect();
    assert_eq!(media.len(), 2);
    assert_eq!(media[0].description.as_deref(), Some("A crab, sideways"));
    assert_eq!(media[1].description, None);
    let report = report(&env);
    assert_eq!(report.lines().count(), 4, "{report}");
}

#[test]
fn no_media_follow_ups_and_the_size_limits() {
    let env = Env::new();
    let t = tweets();
    write_archive(&env, &t);
    // One attachment per status: the two photos become a status and a follow-up reply.
    let (server, token) = start(|c| c.max_media_attachments = 1);
    let o = import(&env, &server, &token, &["--ids", "ids.txt"]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("ids.txt"), "{}", stderr(&o));
    std::fs::write(env.path("ids.txt"), format!("{}\n", t.photos.id)).unwrap();
    let o = import(&env, &server, &token, &["--ids", "ids.txt"]);
    assert_code(&o, 0);
    let list = statuses(&server);
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].media_ids.len(), 1);
    assert_eq!(list[1].media_ids.len(), 1);
    assert_eq!(list[1].text, "(media 2/2)");
    assert_eq!(list[1].in_reply_to_id.as_deref(), Some(list[0].id.as_str()));

    // Text only: nothing uploaded.
    let env = Env::new();
    write_archive(&env, &t);
    let (server, token) = start(|_| {});
    let o = import(&env, &server, &token, &["--no-media"]);
    assert_code(&o, 0);
    assert!(server.state().media.is_empty());
    assert_eq!(statuses(&server).len(), 5, "{}", stdout(&o));

    // Files over the server's limits are skipped and reported; the posts go without them.
    let env = Env::new();
    write_archive(&env, &t);
    let (server, token) = start(|c| {
        c.image_size_limit = 10;
        c.video_size_limit = 10;
    });
    let o = import(&env, &server, &token, &[]);
    assert_code(&o, 0);
    let list = statuses(&server);
    assert_eq!(list.len(), 5);
    assert!(list.iter().all(|s| s.media_ids.is_empty()));
    assert!(
        server.state().media.is_empty(),
        "nothing over the limit is sent"
    );
    let report = report(&env);
    let photos_row = report
        .lines()
        .find(|l| l.starts_with(&t.photos.id))
        .unwrap();
    assert!(photos_row.contains(",done,"), "{photos_row}");
    assert_eq!(
        photos_row.matches("over the server's size limit").count(),
        2,
        "{photos_row}"
    );
}

#[test]
fn a_rerun_with_other_options_adds_and_leaves_out_without_doubling() {
    let env = Env::new();
    let t = tweets();
    write_archive(&env, &t);
    let (server, token) = start(|_| {});
    let o = import(&env, &server, &token, &["--limit", "2"]);
    assert_code(&o, 0);
    assert_eq!(statuses(&server).len(), 2);
    // A wider rerun posts the rest; what was posted is not posted again.
    let o = import(&env, &server, &token, &["--no-media"]);
    assert_code(&o, 0);
    let list = statuses(&server);
    assert_eq!(
        list.len(),
        5,
        "the reply, the plain tweet and the video are added"
    );
    let again = import(&env, &server, &token, &[]);
    assert_code(&again, 0);
    assert_eq!(statuses(&server).len(), 5);
    // A narrower rerun leaves out nothing already posted.
    let o = import(&env, &server, &token, &["--limit", "1"]);
    assert_code(&o, 0);
    assert_eq!(statuses(&server).len(), 5);
}

#[test]
fn bad_choice_files_are_refused_with_the_line() {
    let env = Env::new();
    let t = tweets();
    write_archive(&env, &t);
    let (server, token) = start(|_| {});
    std::fs::write(env.path("ids.txt"), "123\nnot-an-id\n").unwrap();
    std::fs::write(
        env.path("map.csv"),
        "jack,@jack@a.example\njack,@jack@b.example\n",
    )
    .unwrap();
    std::fs::write(env.path("alt.csv"), [0xff, 0xfe, b'a', 0]).unwrap();
    for (flag, file, needle) in [
        ("--ids", "ids.txt", "line 2"),
        ("--exclude-ids", "ids.txt", "line 2"),
        ("--mention-map", "map.csv", "mapped twice"),
        ("--alt-text", "alt.csv", "not UTF-8"),
        ("--alt-text", "absent.csv", "could not read"),
    ] {
        for dry in [true, false] {
            let mut args = vec![flag, file];
            if dry {
                args.push("--dry-run");
            }
            let o = import(&env, &server, &token, &args);
            assert_code(&o, 2);
            let err = stderr(&o);
            assert!(err.contains(needle) && err.contains(file), "{flag}: {err}");
        }
    }
    assert!(statuses(&server).is_empty(), "nothing was posted");
}

#[test]
fn a_status_whose_answer_was_lost_over_an_hour_ago_is_found_not_doubled() {
    let env = Env::new();
    let t = tweets();
    write_archive(&env, &t);
    // The third status is created, then its answer hangs: the client is killed meanwhile.
    let faults = FaultPlan::new(1).rule(FaultRule::nth(
        EndpointClass::Statuses,
        FaultKind::Stall(Duration::from_secs(60)),
        3,
    ));
    let (server, token) = start(|c| c.faults = faults);
    let mut child = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["import", "ana.zip", "--no-media"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while server.state().counters.faults.stalled == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "no stall");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(statuses(&server).len(), 3, "the third status exists");
    // Two hours pass: the server forgets the key, and the journal's attempt is that old.
    server.advance(Duration::from_secs(2 * 3600));
    let db = rusqlite::Connection::open(env.state_dir().join("journal.sqlite3")).unwrap();
    let past = (chrono::Utc::now() - chrono::Duration::hours(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let sending = db
        .execute(
            "UPDATE items SET sent_at = ?1 WHERE state = 'sending'",
            [&past],
        )
        .unwrap();
    assert_eq!(sending, 1, "one tweet was left in flight");
    drop(db);
    let o = import(&env, &server, &token, &["--no-media"]);
    assert_code(&o, 0);
    let list = statuses(&server);
    assert_eq!(list.len(), 5, "every tweet once: {:#?}", list);
    let texts: std::collections::HashSet<_> = list.iter().map(|s| s.text.clone()).collect();
    assert_eq!(texts.len(), 5);
    assert!(
        server
            .state()
            .counters
            .requests
            .keys()
            .any(|k| k.ends_with("/source")),
        "the lost status was looked for"
    );
    let report = report(&env);
    assert_eq!(report.matches(",done,").count(), 5, "{report}");
}

#[test]
fn gotosocial_backdates_each_post_to_its_tweet() {
    let env = Env::new();
    let t = tweets();
    write_archive(&env, &t);
    let (server, token) = start(|c| *c = c.clone().gotosocial());
    std::fs::write(env.path("mentions.csv"), "jack,@jack@remote.example\n").unwrap();
    let o = import(&env, &server, &token, &["--mention-map", "mentions.csv"]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("can backdate") && stdout(&o).contains("--mention-map is not used"),
        "{}",
        stdout(&o)
    );
    let list = statuses(&server);
    assert_eq!(list.len(), 5);
    for (s, tweet) in list
        .iter()
        .zip([&t.mention, &t.photos, &t.reply, &t.plain, &t.video])
    {
        assert_eq!(s.created_at, tweet.created_at, "{}", s.text);
        assert!(s.text.contains(&tweet.id));
    }
    assert!(
        list[0].text.starts_with("Lunch with ＠jack at"),
        "no one is mentioned in a backdated post: {}",
        list[0].text
    );
    assert_eq!(list[2].in_reply_to_id.as_deref(), Some(list[0].id.as_str()));

    // `--no-backdate`: posted now, and mentions are real again.
    let env = Env::new();
    write_archive(&env, &t);
    let (server, token) = start(|c| *c = c.clone().gotosocial());
    std::fs::write(env.path("mentions.csv"), "jack,@jack@remote.example\n").unwrap();
    let o = import(
        &env,
        &server,
        &token,
        &["--no-backdate", "--mention-map", "mentions.csv"],
    );
    assert_code(&o, 0);
    let list = statuses(&server);
    let now = server.now();
    assert!(list.iter().all(|s| (now - s.created_at).num_minutes() < 5));
    assert!(list[0].text.contains("@jack@remote.example"));
}

#[test]
fn a_thousand_posts_keep_to_300_per_3_hours_without_a_429_after_the_first_window() {
    // Three simulated hours last five real seconds; Mastodon's limits run on that clock: 300
    // statuses per 3 h per account, 300 requests per 5 min per token. Posting outpaces 300
    // per window from 60 posts a second: a debug build on a loaded machine still does (with
    // two seconds, a starved client never met the limit and had nothing to wait for).
    let env = Env::new();
    let start = archive::at("2019-06-01T00:00:00Z");
    let tweets: Vec<Tweet> = (0..1000)
        .rev()
        .map(|i| {
            let when = (start + chrono::Duration::hours(i)).to_rfc3339();
            Tweet::new(&when, 0).text(&format!("Tide log entry number {i}"))
        })
        .collect();
    let social = Social {
        following: &[],
        follower: &[],
        block: &[],
        mute: &[],
    };
    modern_archive(&ME, "2024-01-01T00:00:00.000Z", &[tweets], social)
        .write_zip(&env.path("ana.zip"))
        .unwrap();
    let config = FakeConfig {
        time_scale: 3.0 * 3600.0 / 5.0,
        wall_clock_resets: true,
        ..FakeConfig::default()
    };
    assert_eq!(
        config.rate_limits.statuses,
        Some(fake::Limit::new(300, 3 * 3600))
    );
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write");
    let started = std::time::Instant::now();
    let o = import(&env, &server, &token, &[]);
    assert_code(&o, 0);
    let list = statuses(&server);
    assert_eq!(list.len(), 1000, "every tweet posted");
    let texts: std::collections::HashSet<_> = list.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts.len(), 1000, "none twice");
    let st = server.state();
    let statuses_429 = st
        .counters
        .rate_limited_by
        .get("statuses")
        .copied()
        .unwrap_or(0);
    assert!(statuses_429 <= 1, "{:?}", st.counters.rate_limited_by);
    // The posts fell into at least four 3-hour windows, at most 300 in each.
    let mut per_window: std::collections::HashMap<i64, u64> = Default::default();
    for s in &list {
        *per_window
            .entry(s.created_at.timestamp() / (3 * 3600))
            .or_default() += 1;
    }
    assert!(per_window.len() >= 4, "{per_window:?}");
    assert!(per_window.values().all(|&n| n <= 300), "{per_window:?}");
    // Four windows: at least two whole ones passed.
    assert!(
        started.elapsed() >= Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // The wait was announced with its reason.
    assert!(
        stdout(&o).contains("\"event\":\"waiting\""),
        "no wait announced"
    );
}

#[test]
fn polls_for_processed_media_are_paced_like_any_request() {
    // A video the server takes four polls to process, under a per-token budget of one request
    // per 5 minutes (which last a second here): polling unpaced would run into 429s; paced, the
    // run waits for each window instead, and the post goes with its video.
    let env = Env::new();
    let t = tweets();
    modern_archive(
        &ME,
        "2024-01-01T00:00:00.000Z",
        &[vec![t.video.clone()]],
        Social {
            following: &[],
            follower: &[],
            block: &[],
            mute: &[],
        },
    )
    .write_zip(&env.path("ana.zip"))
    .unwrap();
    let (server, token) = start(|c| {
        c.time_scale = 300.0;
        c.wall_clock_resets = true;
        c.media_processing = fake::MediaProcessing::AfterPolls(4);
        c.rate_limits.per_token = Some(fake::Limit::new(1, 300));
    });
    let o = import(&env, &server, &token, &[]);
    assert_code(&o, 0);
    let st = server.state();
    // Learning the one-request window costs a 429 each to the three first kinds of request:
    // the server's instance information (read before the run's gates exist, and asked again),
    // the upload (whose headers are taken for the media family's) and the first poll. Every
    // poll after that waits for its window: of the six polls, five are answered.
    assert!(
        st.counters.rate_limited <= 3,
        "{:?} {:?}\n{}",
        st.counters.rate_limited_by,
        st.counters.requests,
        stdout(&o)
    );
    assert!(st.counters.requests_to("GET /api/v1/media/:id") <= 6);
    let list = statuses(&server);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].media_ids.len(), 1);
    assert!(
        stdout(&o).contains("\"event\":\"waiting\""),
        "{}",
        stdout(&o)
    );
}
