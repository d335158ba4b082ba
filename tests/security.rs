//! What `SECURITY.md` promises, proved on the real binary against the fake server:
//!
//! - a token never appears in anything `migrate` writes — stdout, stderr (at the most verbose
//!   level, in JSON and in errors), reports, previews, the journal, caches — nor in a panic
//!   message;
//! - a stored token is 0600 in a 0700 folder, and refused if others can read it (tested in
//!   `tests/net.rs`: `group_readable_token_files_are_refused`);
//! - plain `http://` is refused except for loopback;
//! - direct messages and the other private files of an archive never end up in posts.

#[path = "support/archive.rs"]
mod archive;
#[path = "support/fake/mod.rs"]
mod fake;
#[path = "support/cli.rs"]
mod support_cli;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use archive::{Dm, Media, Owner, Social, Style, Tweet, direct_messages, modern_archive};
use fake::{
    EndpointClass, FakeConfig, FakeServer, FaultKind, FaultPlan, FaultRule, RateLimits,
    RemoteAccountSpec,
};
use support_cli::{Env, assert_code, login, stderr, stdout, stored_token_file};

const ME: Owner = Owner {
    id: "1500000000000000001",
    username: "ana_tides",
    display_name: "Ana",
    email: "ana.private.mail@example.com",
    created_at: "2015-03-01T10:00:00.000Z",
};

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The secrets to look for: each whole, and its first 12 characters (a token cut short in a
/// message is still a leak).
fn needles(secrets: &[&str]) -> Vec<Vec<u8>> {
    secrets
        .iter()
        .flat_map(|s| [s.as_bytes().to_vec(), s.as_bytes()[..12].to_vec()])
        .collect()
}

fn tweets() -> Vec<Tweet> {
    let first = Tweet::new("2021-05-01T09:00:00Z", 0).text("Low tide at dawn, pools full of life");
    let second = Tweet::new("2021-05-01T09:05:00Z", 0)
        .text("and a crab waved at me")
        .reply_to(Some(&first.id), ME.id, ME.username);
    let photo = Tweet::new("2021-06-01T09:00:00Z", 0)
        .text("Two anemones")
        .media(Media::photo("3_AAAAphoto01"));
    vec![first, second, photo]
}

#[test]
fn no_token_in_any_byte_written() {
    let mut config = FakeConfig {
        rate_limits: RateLimits::disabled(),
        media_processing: fake::MediaProcessing::AfterPolls(1),
        remote_accepts_immediately: true,
        ..FakeConfig::default()
    };
    config.rate_limits.per_token = Some(fake::Limit::new(100_000, 300));
    config
        .remote_accounts
        .push(RemoteAccountSpec::new("bo@remote.example").known());
    config
        .remote_accounts
        .push(RemoteAccountSpec::new("cy@remote.example"));
    let server = FakeServer::start(config);
    // Answers lost after the post was made, and server errors: the retry and recovery paths,
    // with their messages, run too.
    server.set_fault_plan(
        FaultPlan::new(7)
            .rule(FaultRule::new(EndpointClass::Statuses, FaultKind::LostResponse, 0.5).max(1))
            .rule(FaultRule::new(EndpointClass::Any, FaultKind::Unavailable, 0.2).max(2)),
    );
    let env = Env::new();
    modern_archive(
        &ME,
        "2024-01-01T00:00:00.000Z",
        &[tweets()],
        Social {
            following: &[],
            follower: &[],
            block: &[],
            mute: &[],
        },
    )
    .write_zip(&env.path("ana.zip"))
    .unwrap();
    std::fs::write(
        env.path("follows.csv"),
        "Account address,Show boosts\nbo@remote.example,true\ncy@remote.example,false\nnobody@remote.example,true\n",
    )
    .unwrap();

    // A stored token (logged in), a token in the environment, one on the command line, and
    // one the server rejects.
    let stored = login(&server, &env);
    let account: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stored_token_file(&env)).unwrap()).unwrap();
    let client_secret = account["client_secret"].as_str().unwrap().to_string();
    let from_env = server.issue_token("alice", "read write follow");
    let on_args = server.issue_token("alice", "read write follow");
    let rejected = "tok-rejected-9d1f0c7e2b4a6d8f0e2c4a6b8d0f2e4c";

    let mut outputs: Vec<(String, Output)> = Vec::new();
    let mut run = |what: &str, cmd: &mut Command| {
        let o = cmd.output().expect("the binary runs");
        outputs.push((what.to_string(), o));
    };
    run(
        "accounts",
        env.command(&server).args(["-vv", "accounts", "--json"]),
    );
    run(
        "import archive (stored account)",
        env.command(&server)
            .args(["-vv", "import", "ana.zip", "--preview", "preview.html"]),
    );
    run(
        "import archive again, --json",
        env.command(&server)
            .args(["-vv", "--json", "import", "ana.zip"]),
    );
    run("status", env.command(&server).args(["-vv", "status"]));
    run(
        "import follows (token in the environment)",
        env.command(&server)
            .env("MIGRATE_SERVER", "social.example")
            .env("MIGRATE_TOKEN", &from_env)
            .args(["-vv", "import", "follows.csv", "--web-import", "web.csv"]),
    );
    run(
        "resolve",
        env.command(&server).env("MIGRATE_TOKEN", &from_env).args([
            "-vv",
            "resolve",
            "follows.csv",
        ]),
    );
    run(
        "accounts (token as an argument)",
        env.command(&server).args([
            "-vv",
            "accounts",
            "--server",
            "social.example",
            "--token",
            &on_args,
        ]),
    );
    run(
        "import follows with a rejected token",
        env.command(&server).args([
            "-vv",
            "--json",
            "import",
            "follows.csv",
            "--server",
            "social.example",
            "--token",
            rejected,
        ]),
    );
    run("logout", env.command(&server).args(["-vv", "logout"]));

    // The runs did what they should (so that the paths above were really taken).
    let code = |what: &str| {
        outputs
            .iter()
            .find(|(w, _)| w == what)
            .and_then(|(_, o)| o.status.code())
    };
    let show = |what: &str| {
        let o = &outputs.iter().find(|(w, _)| w == what).unwrap().1;
        format!("{what}:\n{}\n{}", stdout(o), stderr(o))
    };
    assert_eq!(
        code("import archive (stored account)"),
        Some(0),
        "{}",
        show("import archive (stored account)")
    );
    assert_eq!(code("import follows (token in the environment)"), Some(0));
    assert_eq!(code("logout"), Some(0));
    assert_ne!(code("import follows with a rejected token"), Some(0));
    let st = server.state();
    assert_eq!(st.statuses.iter().filter(|s| !s.deleted).count(), 3);
    assert!(st.tokens.iter().any(|t| t.token == stored && t.revoked));
    assert!(st.counters.faults.total() > 0, "faults injected");

    let secrets = [
        stored.as_str(),
        client_secret.as_str(),
        from_env.as_str(),
        on_args.as_str(),
        rejected,
    ];
    let needles = needles(&secrets);
    for (what, o) in &outputs {
        for n in &needles {
            assert!(
                !contains(&o.stdout, n) && !contains(&o.stderr, n),
                "{what} printed a secret:\n{}\n{}",
                stdout(o),
                stderr(o)
            );
        }
    }
    // Every file left behind: journal (and its WAL), caches, reports, preview, web-import list.
    let written: Vec<PathBuf> = files_under(env.state_dir())
        .into_iter()
        .chain(files_under(env.work.path()))
        .collect();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "ana.import-report.csv",
        "ana.import-report.json",
        "preview.html",
        "follows.import-report.csv",
        "web.csv",
        "follows.resolved.csv",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }
    assert!(
        names.iter().any(|n| n.starts_with("journal")),
        "the journal is among the files scanned: {names:?}"
    );
    for path in &written {
        let bytes = std::fs::read(path).unwrap();
        for n in &needles {
            assert!(
                !contains(&bytes, n),
                "{} holds a secret (after logout, no file should)",
                path.display()
            );
        }
    }
}

#[test]
fn a_panic_message_never_shows_a_token() {
    const TOKEN: &str = "tok-panic-5b7d9f1a3c5e7a9b1d3f5a7c9e1b3d5f";
    if std::env::var_os("MIGRATE_TEST_PANIC_CHILD").is_some() {
        // The child: the binary's panic hook, a token the way the binary takes one, then a
        // panic whose message carries it (as an `expect` on a request's error might).
        migrate::redact::install_panic_hook();
        let secret: migrate::cli::Secret = TOKEN.parse().unwrap();
        panic!("request failed: Authorization: Bearer {}", secret.expose());
    }
    let o = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_panic_message_never_shows_a_token",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MIGRATE_TEST_PANIC_CHILD", "1")
        .output()
        .unwrap();
    assert!(!o.status.success(), "the child panicked");
    let err = stderr(&o);
    assert!(err.contains("internal error (a bug)"), "{err}");
    assert!(err.contains("Authorization: Bearer ***"), "{err}");
    assert!(!err.contains(TOKEN) && !stdout(&o).contains(TOKEN), "{err}");
}

#[test]
fn plain_http_is_refused_except_on_loopback() {
    let env = Env::new();
    std::fs::write(env.path("f.csv"), "a@b.example\n").unwrap();
    let run = |server: &str| {
        Command::new(env!("CARGO_BIN_EXE_migrate"))
            .env_clear()
            .env("MIGRATE_HOME", env.state_dir())
            .env("MIGRATE_TOKEN", "tok-http-test-0123456789abcdef")
            .current_dir(env.work.path())
            .args(["accounts", "--server", server])
            .output()
            .unwrap()
    };
    for remote in [
        "http://social.example",
        "http://10.0.0.1:3000",
        "http://[2001:db8::1]/",
    ] {
        let o = run(remote);
        assert_code(&o, 2);
        assert!(
            stderr(&o).contains("plain http://, which is only allowed for loopback"),
            "{remote}: {}",
            stderr(&o)
        );
    }
    // Loopback is allowed: the request is made (and fails, as nothing listens there).
    let port = FakeServer::closed_port();
    for local in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        format!("http://[::1]:{port}"),
    ] {
        let o = run(&local);
        assert_ne!(o.status.code(), Some(0), "{local}");
        assert!(
            !stderr(&o).contains("only allowed for loopback"),
            "{local}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
}

#[test]
fn private_files_of_the_archive_never_end_up_in_posts() {
    const DM_TEXT: &str = "our secret meeting place is the old pier";
    let env = Env::new();
    let t = tweets();
    let photo = t[2].clone();
    let photo_file = photo.media_files()[0].clone();
    let mut a = modern_archive(
        &ME,
        "2024-01-01T00:00:00.000Z",
        &[t],
        Social {
            following: &[],
            follower: &[],
            block: &[],
            mute: &[],
        },
    );
    // The photo is missing from `tweets_media/`, but a file of the same name is among the
    // direct messages' media: it must not stand in.
    a.remove(&format!("data/tweets_media/{photo_file}"));
    a.add(
        &format!("data/direct_messages_media/{photo_file}"),
        archive::placeholder_jpeg(),
    );
    a.add(
        "data/direct-messages.js",
        direct_messages(
            &[(
                "900-1500000000000000001",
                vec![
                    Dm::new("2021-05-01T09:01:00Z", 1, "900", Some(ME.id))
                        .text(DM_TEXT)
                        .link("https://mastodon.example/@pal"),
                ],
            )],
            false,
            Style::Multiline,
        ),
    );
    a.add(
        "data/direct-messages-group.js",
        direct_messages(
            &[(
                "1650000000000000000",
                vec![Dm::new("2021-05-02T09:00:00Z", 2, "901", None).text(DM_TEXT)],
            )],
            true,
            Style::Multiline,
        ),
    );
    a.write_zip(&env.path("ana.zip")).unwrap();

    let mut config = FakeConfig {
        rate_limits: RateLimits::disabled(),
        media_processing: fake::MediaProcessing::AfterPolls(1),
        ..FakeConfig::default()
    };
    config.rate_limits.per_token = Some(fake::Limit::new(100_000, 300));
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write");
    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args([
            "import",
            "ana.zip",
            "--include-replies",
            "--include-retweets",
            "--preview",
            "preview.html",
        ])
        .output()
        .unwrap();
    assert_code(&o, 0);
    let st = server.state();
    let live: Vec<_> = st.statuses.iter().filter(|s| !s.deleted).collect();
    assert_eq!(live.len(), 3);
    for s in &live {
        assert!(!s.text.contains("secret meeting"), "{}", s.text);
        assert!(!s.text.contains("mastodon.example/@pal"), "{}", s.text);
        assert!(!s.text.contains(ME.email), "{}", s.text);
    }
    // The photo's post went without it: nothing was uploaded from the messages' media.
    assert!(st.media.is_empty(), "{:?}", st.media.len());
    let post = live
        .iter()
        .find(|s| s.text.starts_with("Two anemones"))
        .unwrap();
    assert!(post.media_ids.is_empty());
    for file in [
        "preview.html",
        "ana.import-report.csv",
        "ana.import-report.json",
    ] {
        let text = std::fs::read_to_string(env.path(file)).unwrap();
        assert!(!text.contains("secret meeting"), "{file}");
        assert!(!text.contains(ME.email), "{file}");
    }
    let report = std::fs::read_to_string(env.path("ana.import-report.csv")).unwrap();
    let row = report
        .lines()
        .find(|l| l.starts_with(&photo.id))
        .expect("the photo's tweet is reported");
    assert!(
        row.ends_with(&format!(
            "the photo data/tweets_media/{photo_file} is missing from the archive"
        )),
        "the missing photo is reported by its file: {report}"
    );
}
