//! `migrate discover` (issue 6) through the real binary against the fake server: a synthetic
//! archive that hides fediverse accounts in every place the command reads — tweets (text and
//! expanded links), a long tweet's note, likes, the profile, direct messages — next to decoys
//! that must not count (e-mail addresses, handles in links' query strings, a handle cut by a
//! link, a deleted tweet), verified through WebFinger on hosts of every kind.

#[path = "support/archive.rs"]
mod archive;
#[path = "support/fake/mod.rs"]
mod fake;
#[path = "support/cli.rs"]
mod support_cli;

use std::collections::BTreeSet;

use archive::{
    Dm, Graph, LongPost, Owner, Seg, Social, Style, Tweet, User, direct_messages, graph, likes,
    modern_archive, profile_with, ytd,
};
use fake::{FakeConfig, FakeServer, LocalAccountSpec, WebfingerBehavior};
use migrate::source::handle::Domain;
use support_cli::{Env, assert_code, read_csv, stderr, stdout};

const OWNER: Owner = Owner {
    id: "900",
    username: "migrant",
    display_name: "Mi Grant",
    email: "migrant@mail.example",
    created_at: "2012-03-04T05:06:07.000Z",
};
const ANA: User = User {
    id: "1001",
    screen_name: "ana",
    name: "Ana",
};
const CAROL: User = User {
    id: "1002",
    screen_name: "carol",
    name: "Carol",
};
const DAVE: User = User {
    id: "1003",
    screen_name: "dave",
    name: "Dave",
};
/// Sends a direct message; followed on Twitter.
const PAL_ID: &str = "1004";

/// The Armenian IDN host of one account.
const IDN_HOST: &str = "թութ.հայ";

fn idn_ascii() -> String {
    Domain::parse(IDN_HOST).unwrap().ascii().to_string()
}

/// The tweets: each hides candidates (or decoys) in one way.
fn tweets() -> (Vec<Tweet>, Tweet, LongPost) {
    let t = |seq: u64| Tweet::new("2022-11-10T10:00:00Z", seq);
    let tweets = vec![
        // A retweet: the author's own announcement, tied to @ana by the same name.
        t(1).text("RT ")
            .mention(ANA)
            .text(": I'm now @ana@mastodon.example, see you there!"),
        // A reply to @carol (not followed) with a profile link behind t.co.
        t(2).reply_to(Some("1590000000000000000"), CAROL.id, CAROL.screen_name)
            .mention(CAROL)
            .text(" found your new home: ")
            .link("https://pleroma.example/users/pat"),
        // Dots and dashes in user names, trailing punctuation.
        t(3).text("Say hi to @bob.smith@mastodon.example and @ca-t@mastodon.example."),
        // Twitter turned the domain of a handle into a t.co link; @dave is the only mention.
        t(4).mention(DAVE)
            .text(" is now @lin@")
            .link("http://mastodon.example"),
        // Decoys: e-mail addresses (of accounts that exist), handles in a query string, and a
        // handle cut by a link to a page.
        t(5).text("Write to ana@mastodon.example or bob.smith@mail.example. Share: ")
            .link("https://share.example/intent?text=@eve@mastodon.example&u=https://mastodon.example/@eve")
            .text(" and @mal@")
            .link("https://news.example/story/1"),
        // An IDN host, a Lemmy user link, a Bluesky profile (bridged).
        t(6).text(&format!("Armenian friends: @nare@{IDN_HOST} and Lemmy: "))
            .link("https://lemmy.example/u/lem")
            .text(" and Bluesky: ")
            .link("https://bsky.app/profile/alice.bsky.social"),
        // One account under two addresses; accounts that do not verify.
        t(7).text(
            "moved: @oli@old.example (now @oli@new.example). Gone quiet: @ghost@missing.example \
             @x@down.example @nobody@mastodon.example",
        ),
        // The user's own accounts: the target, and the one named like the Twitter account.
        t(8).text("my new account: @newme@social.example, the old one @migrant@mastodon.example"),
    ];
    let long = LongPost {
        segments: vec![
            Seg::Text(
                "A long post about leaving this site, written when the character limit grew. \
                 It goes on for a while about why, and about what comes next, and about the \
                 people who made this place worth it for so many years, all of them. Then \
                 CUT-HERE and after the cut it names @nora@mastodon.example and links ",
            ),
            Seg::Link("https://mastodon.example/@noel"),
            Seg::Text(" for everyone who asked."),
        ],
        cut_after: "CUT-HERE",
    };
    let long_tweet = long.truncated_into(t(9));
    (tweets, long_tweet, long)
}

/// The whole archive: tweets, a note, a deleted tweet, likes, the profile, DMs, following.js.
fn fixture() -> archive::Archive {
    let (mut tweets, long_tweet, long) = tweets();
    let note = long.note(&long_tweet, 1);
    tweets.push(long_tweet);
    let following = [ANA.id, DAVE.id, PAL_ID];
    let mut a = modern_archive(
        &OWNER,
        "2024-11-16T10:00:00.000Z",
        &[tweets],
        Social {
            following: &following,
            ..Social::default()
        },
    );
    let style = Style::Multiline;
    a.add(
        "data/note-tweet.js",
        ytd("note_tweet.part0", vec![note], style),
    );
    let deleted = Tweet::new("2024-11-15T10:00:00Z", 1)
        .text("@deleted@mastodon.example")
        .deleted_at("2024-11-15T12:00:00Z");
    a.add(
        "data/deleted-tweets.js",
        ytd(
            "deleted_tweets.part0",
            vec![deleted.entry(OWNER.username, true)],
            style,
        ),
    );
    a.add(
        "data/like.js",
        likes(
            &[
                (
                    "1500",
                    Some("I'm @lia@pleroma.example now — or mail lia2@pleroma.example"),
                ),
                ("1501", None),
                ("1502", Some("follow me: mastodon.example/@fay & say hi")),
            ],
            style,
        ),
    );
    a.add(
        "data/profile.js",
        profile_with(
            &OWNER,
            "Moving to the fediverse: @me@home.example · mail: me@mail.example",
            "https://home.example/@me",
            style,
        ),
    );
    a.add(
        "data/direct-messages.js",
        direct_messages(
            &[(
                "900-1004",
                vec![
                    Dm::new("2022-11-12T09:00:00Z", 1, PAL_ID, Some(OWNER.id))
                        .text("my new place is @dmpal@mastodon.example"),
                    Dm::new("2022-11-12T09:01:00Z", 2, OWNER.id, Some(PAL_ID))
                        .text("great, mine is in my bio"),
                ],
            )],
            false,
            style,
        ),
    );
    a.add(
        "data/direct-messages-group.js",
        direct_messages(
            &[(
                "1650000000000000000",
                vec![
                    Dm::new("2022-11-13T09:00:00Z", 3, "1005", None)
                        .text("our server: ")
                        .link("https://mastodon.example/@grp"),
                ],
            )],
            true,
            style,
        ),
    );
    a
}

/// The fake: every host of the fixture, with the accounts that exist (decoys included, so that
/// a decoy taken for a candidate would verify and show).
fn server() -> FakeServer {
    let idn = idn_ascii();
    let config = FakeConfig::default()
        .webfinger_host("pleroma.example", WebfingerBehavior::Pleroma)
        .webfinger_host("lemmy.example", WebfingerBehavior::Lemmy)
        .webfinger_host(
            "old.example",
            WebfingerBehavior::Canonicalizes {
                to: "new.example".into(),
            },
        )
        .webfinger_host("missing.example", WebfingerBehavior::NotFound)
        .webfinger_host("down.example", WebfingerBehavior::Unserved);
    let server = FakeServer::start(config);
    server.add_local_account_with(LocalAccountSpec::new("newme"));
    for acct in [
        "ana@mastodon.example",
        "bob.smith@mastodon.example",
        "ca-t@mastodon.example",
        "lin@mastodon.example",
        "nora@mastodon.example",
        "noel@mastodon.example",
        "fay@mastodon.example",
        "dmpal@mastodon.example",
        "grp@mastodon.example",
        "migrant@mastodon.example",
        "deleted@mastodon.example",
        "eve@mastodon.example",
        "mal@mastodon.example",
        "pat@pleroma.example",
        "lia@pleroma.example",
        "lia2@pleroma.example",
        "lem@lemmy.example",
        "alice.bsky.social@bsky.brid.gy",
        "oli@new.example",
        "me@home.example",
        &format!("nare@{idn}"),
    ] {
        server.add_remote_account(acct, false, false, None);
    }
    server
}

fn summary(out: &str) -> serde_json::Value {
    let line = out
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no output:\n{out}"));
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(
        v["event"], "summary",
        "the last event is the summary: {line}"
    );
    assert_eq!(line.matches("\"event\"").count(), 1, "one tag: {line}");
    v
}

/// The accounts to follow (canonical), those from direct messages included.
const TO_FOLLOW: [&str; 15] = [
    "alice.bsky.social@bsky.brid.gy",
    "ana@mastodon.example",
    "bob.smith@mastodon.example",
    "ca-t@mastodon.example",
    "dmpal@mastodon.example",
    "fay@mastodon.example",
    "grp@mastodon.example",
    "lem@lemmy.example",
    "lia@pleroma.example",
    "lin@mastodon.example",
    "nare@թութ.հայ",
    "noel@mastodon.example",
    "nora@mastodon.example",
    "oli@new.example",
    "pat@pleroma.example",
];

fn to_follow(with_dms: bool) -> BTreeSet<&'static str> {
    TO_FOLLOW
        .iter()
        .copied()
        .filter(|h| with_dms || !["dmpal@mastodon.example", "grp@mastodon.example"].contains(h))
        .collect()
}

#[test]
fn discover_finds_verifies_and_writes_a_follow_list() {
    let server = server();
    let env = Env::new();
    fixture().write_zip(&env.path("archive.zip")).unwrap();
    let args = [
        "discover",
        "archive.zip",
        "--include-dms",
        "--to",
        "newme@social.example",
    ];
    let o = env.run(&server, &[&args[..], &["--json"]].concat());
    assert_code(&o, 0);

    // The follow list: Mastodon's following export, verified canonical handles, each once.
    let discovered = std::fs::read_to_string(env.path("archive.discovered.csv")).unwrap();
    let mut lines = discovered.lines();
    assert_eq!(
        lines.next(),
        Some("Account address,Show boosts,Notify on new posts,Languages")
    );
    let listed: Vec<&str> = lines
        .map(|l| l.strip_suffix(",true,false,").expect("Mastodon's defaults"))
        .collect();
    assert_eq!(
        listed.iter().copied().collect::<BTreeSet<_>>(),
        to_follow(true),
        "{discovered}"
    );
    assert_eq!(listed.len(), to_follow(true).len(), "each account once");

    // The report: every candidate, with its place, Twitter context and verdict.
    let report = read_csv(&env.path("archive.discover-report.csv"));
    let row = |h: &str| {
        report
            .iter()
            .find(|r| r["handle"] == h)
            .unwrap_or_else(|| panic!("{h} not in the report: {report:#?}"))
    };
    let handles: BTreeSet<&str> = report.iter().map(|r| r["handle"].as_str()).collect();
    assert_eq!(report.len(), 22, "{handles:#?}");
    // Decoys never become candidates: e-mail addresses, handles in a query string, a handle
    // cut by a link, a deleted tweet.
    for h in &handles {
        for decoy in [
            "eve@", "mal@", "lia2@", "deleted@", "@mail.", "@news.", "@share.", "https", "t.co",
        ] {
            assert!(!h.contains(decoy), "decoy {h} in {handles:#?}");
        }
    }

    let ana = row("ana@mastodon.example");
    assert_eq!(ana["decision"], "follow");
    assert_eq!(ana["found_in"], "tweet");
    assert_eq!(ana["file"], "data/tweets.js");
    assert_eq!(ana["written_as"], "handle");
    assert_eq!(ana["twitter_account"], "@ana");
    assert_eq!(ana["twitter_user_id"], ANA.id);
    assert_eq!(ana["twitter_link"], "same_name");
    assert_eq!(ana["followed_on_twitter"], "yes");
    assert_eq!(ana["webfinger"], "found");
    assert!(
        ana["context"].contains("I'm now @ana@mastodon.example"),
        "{ana:?}"
    );
    assert!(ana["actor_url"].starts_with("https://mastodon.example/"));

    let pat = row("pat@pleroma.example");
    assert_eq!(
        (pat["written_as"].as_str(), pat["twitter_link"].as_str()),
        ("profile_url", "replied_to")
    );
    assert_eq!(
        (
            pat["twitter_account"].as_str(),
            pat["followed_on_twitter"].as_str()
        ),
        ("@carol", "no")
    );
    assert!(
        pat["context"].contains("https://pleroma.example/users/pat"),
        "{pat:?}"
    );

    let lin = row("lin@mastodon.example");
    assert_eq!(lin["decision"], "follow", "the linked domain is rejoined");
    assert_eq!(
        (
            lin["twitter_account"].as_str(),
            lin["twitter_link"].as_str(),
            lin["followed_on_twitter"].as_str()
        ),
        ("@dave", "mentioned", "yes")
    );
    for h in ["bob.smith@mastodon.example", "ca-t@mastodon.example"] {
        assert_eq!(row(h)["decision"], "follow");
        assert_eq!(row(h)["twitter_link"], "");
    }
    let nare = row(&format!("nare@{IDN_HOST}"));
    assert_eq!(nare["decision"], "follow");
    assert_eq!(row("lem@lemmy.example")["written_as"], "profile_url");
    assert_eq!(
        row("alice.bsky.social@bsky.brid.gy")["written_as"],
        "bluesky_profile"
    );

    // One account under two addresses: listed once, canonical.
    assert_eq!(row("oli@new.example")["decision"], "follow");
    let old = row("oli@old.example");
    assert_eq!(old["decision"], "duplicate");
    assert_eq!(old["canonical_handle"], "oli@new.example");

    // Not verified, each with its reason.
    assert_eq!(row("ghost@missing.example")["webfinger"], "not_found");
    assert_eq!(row("nobody@mastodon.example")["webfinger"], "not_found");
    let down = row("x@down.example");
    assert_eq!(down["webfinger"], "host_unreachable");
    assert_eq!(down["decision"], "not_verified");
    assert!(!down["reason"].is_empty());

    // The long tweet's note: its handles, tied to the tweet's id.
    let nora = row("nora@mastodon.example");
    assert_eq!(nora["found_in"], "long_tweet");
    assert_eq!(nora["file"], "data/note-tweet.js");
    let (_, long_tweet, _) = tweets();
    assert_eq!(nora["item_id"], long_tweet.id);
    assert_eq!(row("noel@mastodon.example")["written_as"], "profile_url");

    // Likes: text handles and a link without scheme; no Twitter account to tie them to.
    let lia = row("lia@pleroma.example");
    assert_eq!(
        (lia["found_in"].as_str(), lia["item_id"].as_str()),
        ("like", "1500")
    );
    assert_eq!(lia["twitter_account"], "");
    assert_eq!(row("fay@mastodon.example")["written_as"], "profile_url");

    // Direct messages: tied to their sender, followed on Twitter.
    let pal = row("dmpal@mastodon.example");
    assert_eq!(pal["found_in"], "direct_message");
    assert_eq!(pal["file"], "data/direct-messages.js");
    assert_eq!(
        (
            pal["twitter_user_id"].as_str(),
            pal["twitter_link"].as_str(),
            pal["followed_on_twitter"].as_str()
        ),
        (PAL_ID, "message_sender", "yes")
    );
    assert_eq!(row("grp@mastodon.example")["found_in"], "group_message");

    // The user's own accounts: found, reported, not followed.
    let me = row("me@home.example");
    assert_eq!(me["decision"], "own_account");
    assert_eq!(me["found_in"], "profile_bio");
    assert_eq!(me["occurrences"], "2", "bio and website");
    assert_eq!(row("newme@social.example")["decision"], "own_account");
    assert_eq!(
        row("newme@social.example")["reason"],
        "an account migrate acts for"
    );
    assert_eq!(
        row("migrant@mastodon.example")["reason"],
        "named like your Twitter account"
    );

    // The JSON events: one item per candidate, then the summary.
    let out = stdout(&o);
    let items = out
        .lines()
        .filter(|l| l.contains("\"event\":\"item\""))
        .count();
    assert_eq!(items, 22);
    let s = summary(&out);
    assert_eq!(s["candidates"], 22);
    assert_eq!(s["verified"], 19, "{s}");
    assert_eq!(s["to_follow"], 15);
    assert_eq!(s["servers"], 6, "{s}");
    assert_eq!(s["followed_on_twitter"], 3, "ana, lin (dave), dmpal");
    assert_eq!(s["own_accounts"], 3);
    assert_eq!(s["duplicates"], 1);
    assert_eq!(s["not_verified"]["not_found"], 2);
    assert_eq!(s["not_verified"]["host_unreachable"], 1);
    assert_eq!(s["unreachable_hosts"], serde_json::json!(["down.example"]));
    assert_eq!(s["read"]["tweets"], 9);
    assert_eq!(s["read"]["long_tweets"], 1);
    assert_eq!(s["read"]["likes"], 3);
    assert_eq!(s["read"]["direct_messages"], 3);
    assert_eq!(s["read"]["following"], 3);
    assert_eq!(s["from_cache"], 0);

    // Again: definite answers come from the journal's cache; the dead host is asked again.
    let o = env.run(&server, &args);
    assert_code(&o, 0);
    let text = stdout(&o);
    assert!(
        text.contains(
            "22 candidate accounts found, 19 verified through WebFinger (21 from the cache)"
        ),
        "{text}"
    );
    assert!(
        text.contains("15 to follow, on 6 servers (3 of them you followed on Twitter)"),
        "{text}"
    );
    assert!(text.contains("did not answer: down.example"), "{text}");
    assert!(text.contains("migrate import"), "{text}");
}

#[test]
fn direct_messages_are_read_only_when_asked() {
    let server = server();
    let env = Env::new();
    fixture().write_zip(&env.path("archive.zip")).unwrap();
    let out_dir = env.path("out");
    let o = env.run(
        &server,
        &["discover", "archive.zip", "-o", out_dir.to_str().unwrap()],
    );
    assert_code(&o, 0);
    let text = stdout(&o);
    assert!(
        text.contains("not the direct messages (--include-dms reads them)"),
        "{text}"
    );
    let discovered = std::fs::read_to_string(out_dir.join("archive.discovered.csv")).unwrap();
    let report = std::fs::read_to_string(out_dir.join("archive.discover-report.csv")).unwrap();
    for h in ["dmpal@", "grp@"] {
        assert!(!discovered.contains(h) && !report.contains(h), "{h}");
    }
    // Without `--to`, the account named in the tweets is just another candidate to follow;
    // the profile's and the Twitter name's are still the user's own.
    let expected: BTreeSet<String> = to_follow(false)
        .into_iter()
        .map(str::to_string)
        .chain(["newme@social.example".to_string()])
        .collect();
    let listed: BTreeSet<String> = discovered
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(listed, expected);
    assert!(
        !env.path("archive.discovered.csv").exists(),
        "written to -o only"
    );
}

#[test]
fn the_follow_list_is_what_import_takes() {
    let server = server();
    let env = Env::new();
    fixture().write_zip(&env.path("archive.zip")).unwrap();
    let token = server.issue_token("newme", "read write follow");
    // The target from `--server` and its token: asked who it is, and left out.
    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["discover", "archive.zip"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    let report = read_csv(&env.path("archive.discover-report.csv"));
    let newme = report
        .iter()
        .find(|r| r["handle"] == "newme@social.example")
        .unwrap();
    assert_eq!(newme["decision"], "own_account", "{newme:?}");

    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["import", "archive.discovered.csv", "--json"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    let st = server.state();
    let me = st.account_id("newme").unwrap();
    let followed: BTreeSet<String> = st
        .follows
        .iter()
        .filter(|f| f.account_id == me)
        .filter_map(|f| st.accounts.iter().find(|a| a.id == f.target_id))
        .map(|a| {
            // IDN accounts are stored under the punycode domain.
            Domain::parse(a.acct.rsplit('@').next().unwrap())
                .map(|d| format!("{}@{d}", a.acct.rsplit_once('@').unwrap().0))
                .unwrap_or_else(|_| a.acct.clone())
        })
        .collect();
    let expected: BTreeSet<String> = to_follow(false).into_iter().map(str::to_string).collect();
    assert_eq!(followed, expected);
}

#[test]
fn an_archive_without_likes_or_profile_is_read_and_says_so() {
    let server = server();
    let env = Env::new();
    let (tweets, _, _) = tweets();
    let a = modern_archive(
        &OWNER,
        "2024-11-16T10:00:00.000Z",
        &[tweets[..1].to_vec()],
        Social::default(),
    );
    a.write_zip(&env.path("small.zip")).unwrap();
    let o = env.run(&server, &["discover", "small.zip"]);
    assert_code(&o, 0);
    let text = stdout(&o);
    assert!(text.contains("no like.js"), "{text}");
    assert!(text.contains("no profile.js"), "{text}");
    assert!(text.contains("no direct messages"), "{text}");
    assert!(
        text.contains("1 candidate account found, 1 verified"),
        "{text}"
    );
    let report = read_csv(&env.path("small.discover-report.csv"));
    assert_eq!(report.len(), 1);
    assert_eq!(report[0]["handle"], "ana@mastodon.example");
    // following.js is empty: nobody was followed, which is known.
    assert_eq!(report[0]["followed_on_twitter"], "no");

    // Without following.js, whether an account was followed is unknown.
    let mut a = a;
    a.remove("data/following.js");
    a.write_zip(&env.path("nofollowing.zip")).unwrap();
    let o = env.run(&server, &["discover", "nofollowing.zip", "--json"]);
    assert_code(&o, 0);
    assert!(summary(&stdout(&o))["read"]["following"].is_null());
    let report = read_csv(&env.path("nofollowing.discover-report.csv"));
    assert_eq!(report[0]["followed_on_twitter"], "");
}

#[test]
fn bad_input_is_a_clear_error() {
    let server = server();
    let env = Env::new();
    let broken_like = "window.YTD.like.part0 = [ {\n  \"like\" : {\n    \"tweetId\" : \"1\",\n    \"fullText\" : \"x\"\n  ]\n} ]";
    let mut a = fixture();
    a.add("data/like.js", broken_like);
    a.write_zip(&env.path("badlikes.zip")).unwrap();
    let o = env.run(&server, &["discover", "badlikes.zip"]);
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("error: ") && err.contains("data/like.js"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
    assert!(!env.path("badlikes.discovered.csv").exists());

    // Broken direct messages stop the run only when they are read.
    let mut a = fixture();
    a.add(
        "data/direct-messages.js",
        "window.YTD.direct_messages.part0 = [ { \"dmConversation\" : { ",
    );
    a.write_zip(&env.path("baddms.zip")).unwrap();
    assert_code(&env.run(&server, &["discover", "baddms.zip"]), 0);
    let o = env.run(&server, &["discover", "baddms.zip", "--include-dms"]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("data/direct-messages.js"),
        "{}",
        stderr(&o)
    );

    // An entry of another shape is skipped with a warning, not fatal.
    let mut a = fixture();
    a.add(
        "data/like.js",
        "window.YTD.like.part0 = [ { \"like\" : { \"fullText\" : \"no id @q@mastodon.example\" } }, { \"like\" : { \"tweetId\" : \"7\", \"fullText\" : \"@lia@pleroma.example\" } } ]",
    );
    a.write_zip(&env.path("oddlike.zip")).unwrap();
    let o = env.run(&server, &["discover", "oddlike.zip"]);
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("warning: data/like.js: entry at"),
        "{}",
        stderr(&o)
    );
    let report = std::fs::read_to_string(env.path("oddlike.discover-report.csv")).unwrap();
    assert!(report.contains("lia@pleroma.example") && !report.contains("q@mastodon"));

    // Not an archive at all, and no such file.
    std::fs::write(
        env.path("notes.txt"),
        "just some text @ana@mastodon.example",
    )
    .unwrap();
    let o = env.run(&server, &["discover", "notes.txt"]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("hint: "), "{}", stderr(&o));
    let o = env.run(&server, &["discover", "missing.zip"]);
    assert_code(&o, 2);
    assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
}

#[test]
fn a_graph_file_with_odd_entries_still_gives_the_followed_ids() {
    // following.js with an entry lacking accountId (skipped) and the 2019 form without userLink.
    let server = server();
    let env = Env::new();
    let (tweets, _, _) = tweets();
    let mut a = modern_archive(
        &OWNER,
        "2024-11-16T10:00:00.000Z",
        &[tweets[..1].to_vec()],
        Social::default(),
    );
    let good = graph(Graph::Following, &[ANA.id], false, Style::Compact);
    a.add(
        "data/following.js",
        good.replacen("[ {", "[ { \"following\" : { } }, {", 1),
    );
    a.write_zip(&env.path("odd.zip")).unwrap();
    let o = env.run(&server, &["discover", "odd.zip"]);
    assert_code(&o, 0);
    let report = read_csv(&env.path("odd.discover-report.csv"));
    assert_eq!(report[0]["followed_on_twitter"], "yes", "{report:?}");
}
