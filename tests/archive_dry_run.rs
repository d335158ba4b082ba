//! `migrate import archive.zip --dry-run`: the plan of the posts, without any server. Figures
//! for `fixtures/sample-archive.zip` are derived from its description in `fixtures/README.md`.

use std::process::Command;

fn migrate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .env_clear()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn plan(args: &[&str]) -> serde_json::Value {
    let mut all = vec![
        "import",
        "fixtures/sample-archive.zip",
        "--dry-run",
        "--json",
    ];
    all.extend_from_slice(args);
    let o = migrate(&all);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let line: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(line["event"], "summary");
    assert_eq!(line["dry_run"], true);
    line["plan"].clone()
}

#[test]
fn default_selection_of_the_sample() {
    let p = plan(&[]);
    // 40 tweets = 20 original + 11 self-replies + 7 replies + 2 retweets.
    assert_eq!(p["tweets"], 40);
    // Posted: the 20 originals and 10 self-replies; the 11th self-reply continues a reply to
    // @musselbed, so it goes with that reply.
    assert_eq!(p["tweets_posted"], 30);
    assert_eq!(p["skipped"]["a reply to someone else"], 7);
    assert_eq!(p["skipped"]["a retweet"], 2);
    assert_eq!(
        p["skipped"]["part of a thread that starts with a reply to someone else"],
        1
    );
    // Two self-replies answer tweets that are not there (an unknown id, the deleted D1).
    assert_eq!(p["orphans"], 2);
    // Of the 3 long tweets, one is a reply (skipped): 2 carry their note text.
    assert_eq!(p["long_tweets"], 2);
    // Every part fits the limit; a long text becomes a chain.
    assert!(p["statuses"].as_u64().unwrap() >= 30);
    assert!(p["split_tweets"].as_u64().unwrap() >= 1);
    // The one missing media file belongs to a posted tweet.
    assert_eq!(p["media_missing"], 1);
}

#[test]
fn inclusions_and_filters_change_the_plan() {
    let p = plan(&["--include-replies", "--include-retweets"]);
    assert_eq!(p["tweets_posted"], 40);
    assert_eq!(p["orphans"], 2);
    let p = plan(&["--limit", "5"]);
    assert_eq!(p["tweets_posted"], 5);
    assert_eq!(p["skipped"]["past --limit"], 25);
    let p = plan(&["--since", "2030-01-01"]);
    assert_eq!(p["tweets_posted"], 0);
    assert_eq!(p["statuses"], 0);
}

#[test]
fn posting_needs_an_account_but_the_dry_run_does_not() {
    let state = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["import", "fixtures/sample-archive.zip"])
        .env_clear()
        .env("MIGRATE_HOME", state.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no account is logged in"), "{err}");
    assert!(err.contains("migrate login"), "{err}");
}

#[test]
fn the_human_plan_says_nothing_was_sent() {
    let o = migrate(&["import", "fixtures/sample-archive.zip", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("30 to post as"), "{out}");
    assert!(out.contains("Nothing was sent."), "{out}");
}

/// The markup of one tweet's `<article>`.
fn article<'a>(html: &'a str, tweet: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"tweet-{tweet}\""))
        .unwrap_or_else(|| panic!("no article for tweet {tweet}"));
    let start = html[..at].rfind("<article").unwrap();
    let end = start + html[start..].find("</article>").unwrap();
    &html[start..end]
}

#[test]
fn the_preview_page_shows_every_post_and_every_skip() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("sample preview.html");
    let o = migrate(&[
        "import",
        "fixtures/sample-archive.zip",
        "--dry-run",
        "--preview",
        page.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("Preview: "));
    let html = std::fs::read_to_string(&page).expect("the page is written");
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..40]);
    assert!(html.trim_end().ends_with("</html>"));
    // Self-contained and inert: no script, no stylesheet or image fetched from anywhere.
    assert!(!html.contains("<script"));
    assert!(!html.contains("<link"));
    assert!(!html.contains("src=\"http"));
    // One article per posted tweet (30), ten skipped rows with their reasons.
    assert_eq!(html.matches("<article class=\"post").count(), 30);
    let skipped = &html[html.find("id=\"skipped\"").expect("a skipped section")..];
    let rows = skipped.matches("<tr><td>").count();
    assert_eq!(rows, 10, "{skipped}");
    assert_eq!(
        skipped
            .matches("a reply to someone else (--include-replies posts them)")
            .count(),
        7
    );
    assert_eq!(skipped.matches("a retweet (--include-retweets").count(), 2);
    // Every status's count is within the limit; the split tweet's two parts are marked.
    let counts: Vec<u64> = html
        .split("title=\"characters, as the server counts them\">")
        .skip(1)
        .map(|s| s.split(" / ").next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(counts.len(), 31, "one count per status");
    assert!(counts.iter().all(|&c| 0 < c && c <= 500), "{counts:?}");
    assert_eq!(html.matches(">part 1/2<").count(), 1);
    assert_eq!(html.matches(">part 2/2<").count(), 1);
    // The photos come from the archive, embedded; the missing one is named on its post.
    assert!(html.contains("src=\"data:image/jpeg;base64,"));
    let sunset = article(
        &html,
        html.split("id=\"tweet-")
            .find(|a| a.contains("Sunset over the outer reef"))
            .and_then(|a| a.split('"').next())
            .expect("the sunset tweet is posted"),
    );
    assert!(
        sunset.contains("<p class=\"note missing\">Not in the archive, posted without: 1 photo"),
        "{sunset}"
    );
    // Threads are grouped. Text is decoded once and escaped once: the long note that says
    // "&amp; instead of &" literally (its tweet has `&amp;amp;`) shows those characters.
    assert!(html.contains("class=\"thread\""));
    assert!(html.contains("notes say &amp;amp; instead of &amp;: blame the archive"));
}

#[test]
fn the_preview_is_refused_where_it_cannot_be_written() {
    let o = migrate(&[
        "import",
        "fixtures/sample-archive.zip",
        "--dry-run",
        "--preview",
        // A folder cannot be made inside a file.
        "fixtures/sample-archive.zip/preview.html",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("fixtures/sample-archive.zip"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
