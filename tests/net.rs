//! The network core against the fake server over real TLS: login both ways, stored tokens,
//! `accounts` and `logout`, trust (`--ca-cert`), size caps, rate-limit headers, every error
//! kind, `Link` pagination and async media. Commands run through the real binary; the client's
//! endpoint functions are called directly where no command uses them yet.

#[path = "support/fake/mod.rs"]
mod fake;
#[path = "support/cli.rs"]
mod support_cli;

use std::net::SocketAddr;
use std::time::Duration;

use fake::{
    EndpointClass, FakeConfig, FakeServer, FaultKind, FaultPlan, FaultRule, Limit, MediaProcessing,
    WebfingerBehavior,
};
use migrate::net::http::{Http, HttpConfig, HttpError, NetworkKind};
use migrate::net::mastodon::{Mastodon, NewStatus, Posted};
use migrate::net::webfinger::{Outcome, Resolver, ResolverConfig};
use support_cli::{
    Env, Running, assert_code, login, oob_code, rt, stderr, stdout, stored_token_file, url_in,
};

fn http_for(server: &FakeServer) -> Http {
    Http::new(&HttpConfig {
        ca_certs: vec![server.ca_pem_path().to_path_buf()],
        resolve: server
            .hosts()
            .into_iter()
            .map(|h| (h, server.addr()))
            .collect(),
        ..HttpConfig::default()
    })
    .expect("client")
}

fn client(server: &FakeServer, token: Option<String>) -> Mastodon {
    Mastodon::new(
        http_for(server),
        url::Url::parse("https://social.example/").unwrap(),
        token,
    )
}

#[test]
fn login_with_the_loopback_redirect_stores_a_private_token() {
    let server = FakeServer::start(FakeConfig::default());
    server.set_logged_in_user("alice");
    let env = Env::new();
    let mut cmd = env.command(&server);
    cmd.args(["login", "social.example"]);
    let mut running = Running::spawn(cmd);
    let line = running.wait_for("/oauth/authorize", Duration::from_secs(20));
    let authorize = url_in(&line);
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "{authorize}"
    );
    assert!(
        authorize.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "{authorize}"
    );
    // The browser: the server redirects to the loopback listener with the code.
    let rt = rt();
    let location = rt.block_on(async {
        let r = server.client().get(&authorize).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 302, "{:?}", r.text().await);
        r.headers()["location"].to_str().unwrap().to_string()
    });
    assert!(location.starts_with("http://127.0.0.1:"), "{location}");
    rt.block_on(async {
        let r = reqwest::get(&location).await.unwrap();
        assert!(r.status().is_success());
    });
    let (code, out, err) = running.finish();
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("Logged in as @alice@social.example"), "{out}");
    // The token is on disk, private, and the server knows it as alice's, with our scopes.
    let path = stored_token_file(&env);
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let token = stored["token"].as_str().unwrap().to_string();
    let state = server.state();
    let t = state
        .tokens
        .iter()
        .find(|t| t.token == token)
        .expect("issued");
    assert!(!t.revoked);
    assert!(t.scopes.iter().any(|s| s == "write:follows"));
    assert!(!t.scopes.iter().any(|s| s == "write" || s == "read"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(mode(env.state_dir()), 0o700);
    }
    // The token never appears in what the binary printed.
    assert!(!out.contains(&token) && !err.contains(&token));
}

#[test]
fn login_out_of_band_reads_the_code_from_standard_input() {
    let server = FakeServer::start(FakeConfig::default());
    server.set_logged_in_user("alice");
    let env = Env::new();
    let mut cmd = env.command(&server);
    cmd.args(["login", "https://social.example", "--no-browser"]);
    let mut running = Running::spawn(cmd);
    let line = running.wait_for("/oauth/authorize", Duration::from_secs(20));
    let authorize = url_in(&line);
    assert!(
        authorize.contains("urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob"),
        "{authorize}"
    );
    let code = oob_code(&server, &authorize);
    running.write_stdin(&format!("{code}\n"));
    let (status, out, err) = running.finish();
    assert_eq!(status, Some(0), "{out}\n{err}");
    assert!(stored_token_file(&env).exists());
    assert!(!err.contains(&code) || err.contains("paste"), "{err}");
}

#[test]
fn a_wrong_code_fails_cleanly_and_stores_nothing() {
    let server = FakeServer::start(FakeConfig::default());
    server.set_logged_in_user("alice");
    let env = Env::new();
    let mut cmd = env.command(&server);
    cmd.args(["login", "social.example", "--no-browser"]);
    let mut running = Running::spawn(cmd);
    running.wait_for("/oauth/authorize", Duration::from_secs(20));
    running.write_stdin("not-the-code\n");
    let (status, out, err) = running.finish();
    assert_eq!(status, Some(1), "{out}\n{err}");
    assert!(
        err.contains("error: could not log in to `social.example`"),
        "{err}"
    );
    assert!(!stored_token_file(&env).exists());
}

#[test]
fn accounts_lists_and_logout_revokes_on_the_server() {
    let server = FakeServer::start(FakeConfig::default());
    let env = Env::new();
    let token = login(&server, &env);
    let o = env.run(&server, &["accounts"]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("@alice@social.example"),
        "{}",
        stdout(&o)
    );
    let o = env.run(&server, &["accounts", "--json"]);
    assert_code(&o, 0);
    let line: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(line["account"], "alice@social.example");
    assert!(!stdout(&o).contains(&token));

    let o = env.run(&server, &["logout"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("revoked"), "{}", stdout(&o));
    let state = server.state();
    assert!(
        state
            .tokens
            .iter()
            .find(|t| t.token == token)
            .unwrap()
            .revoked
    );
    assert!(!stored_token_file(&env).exists());
    let o = env.run(&server, &["accounts"]);
    assert!(stdout(&o).contains("No accounts"), "{}", stdout(&o));
}

#[test]
fn accounts_with_server_and_token_verifies_without_storing() {
    let server = FakeServer::start(FakeConfig::default());
    let token = server.issue_token("alice", "read:accounts");
    let env = Env::new();
    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .arg("accounts")
        .output()
        .unwrap();
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("@alice@social.example"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains(&token) && !stderr(&o).contains(&token));
    assert!(!env.state_dir().join("accounts").exists());
}

#[test]
fn a_rejected_token_says_so_with_a_login_hint() {
    let server = FakeServer::start(FakeConfig::default());
    let env = Env::new();
    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", "tok-not-valid-anywhere")
        .arg("accounts")
        .output()
        .unwrap();
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(
        err.starts_with("error: the token for social.example"),
        "{err}"
    );
    assert!(err.contains("was rejected"), "{err}");
    assert!(
        err.contains("hint: ") && err.contains("migrate login social.example"),
        "{err}"
    );
    assert!(!err.contains("tok-not-valid-anywhere"), "{err}");
}

#[test]
fn group_readable_token_files_are_refused() {
    let server = FakeServer::start(FakeConfig::default());
    let env = Env::new();
    login(&server, &env);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            stored_token_file(&env),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let o = env.run(&server, &["import", "missing.csv"]);
        // The CSV is read first; make one so the token is what fails.
        assert_code(&o, 2);
        std::fs::write(env.path("f.csv"), "a@b.example\n").unwrap();
        let o = env.run(&server, &["import", "f.csv", "--dry-run"]);
        assert_code(&o, 2);
        assert!(
            stderr(&o).contains("readable by other users"),
            "{}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("chmod 600"), "{}", stderr(&o));
    }
}

#[test]
fn an_unknown_ca_is_refused_and_ca_cert_makes_it_work() {
    let server = FakeServer::start(FakeConfig::default());
    let token = server.issue_token("alice", "read:accounts");
    let env = Env::new();
    let o = env
        .command(&server)
        .env_remove("MIGRATE_CA_CERT")
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .arg("accounts")
        .output()
        .unwrap();
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains("could not reach `https://social.example/"),
        "{err}"
    );
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(err.contains("--ca-cert"), "{err}");
    let o = env
        .command(&server)
        .env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .arg("accounts")
        .output()
        .unwrap();
    assert_code(&o, 0);
}

#[test]
fn plain_http_is_refused_except_for_loopback() {
    let server = FakeServer::start(FakeConfig::default());
    let env = Env::new();
    let o = env.run(&server, &["login", "http://social.example"]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("plain http://"), "{}", stderr(&o));
    let http = http_for(&server);
    let err = rt()
        .block_on(http.send(migrate::net::http::Request::get(
            url::Url::parse("http://social.example/api/v1/instance").unwrap(),
        )))
        .unwrap_err();
    assert!(matches!(err, HttpError::Insecure { .. }), "{err}");
}

#[test]
fn rate_limit_headers_and_a_429_are_read() {
    let mut config = FakeConfig::default();
    config.rate_limits.per_token = Some(Limit::new(3, 300));
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read");
    let c = client(&server, Some(token));
    let rt = rt();
    let alice = server.with_state(|st| st.account_id("alice").unwrap());
    let (first, second) = rt.block_on(async {
        let a = c.following_page(&alice, None).await;
        let b = c.following_page(&alice, None).await;
        (a, b)
    });
    let a = first.unwrap().rate_limit.expect("headers on every answer");
    let b = second.unwrap().rate_limit.unwrap();
    assert_eq!(a.limit, 3);
    assert_eq!(a.remaining, 2);
    assert_eq!(b.remaining, 1);
    assert!(a.reset.unwrap() > chrono::Utc::now() - chrono::Duration::seconds(5));
    let third = rt.block_on(c.following_page(&alice, None)).unwrap();
    assert_eq!(third.rate_limit.unwrap().remaining, 0);
    match rt.block_on(c.following_page(&alice, None)) {
        Err(HttpError::RateLimited { rate_limit, .. }) => {
            let rl = rate_limit.expect("a 429 carries the headers");
            assert_eq!(rl.remaining, 0);
            assert!(rl.reset.is_some());
        }
        other => panic!("expected a 429, got {other:?}"),
    }
    assert_eq!(server.state().counters.rate_limited, 1);
}

#[test]
fn each_error_kind_is_typed() {
    let mut config = FakeConfig::default();
    config.remote_accounts.push(
        fake::RemoteAccountSpec::new("gone@moved.example")
            .known()
            .moved_to("new@moved.example"),
    );
    config
        .remote_accounts
        .push(fake::RemoteAccountSpec::new("new@moved.example").known());
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write follow");
    let c = client(&server, Some(token));
    let rt = rt();
    // 401: a bad token.
    let bad = client(&server, Some("nope".into()));
    assert!(matches!(
        rt.block_on(bad.verify_credentials()),
        Err(HttpError::Unauthorized { .. })
    ));
    // 404: lookup of an account the server never saw, with the server's message.
    match rt.block_on(c.lookup("nobody@nowhere.example")) {
        Err(HttpError::NotFound { message, .. }) => assert_eq!(message, "Record not found"),
        other => panic!("{other:?}"),
    }
    // 403: following a moved account.
    let moved = rt.block_on(c.lookup("gone@moved.example")).unwrap();
    assert!(moved.moved.is_some());
    assert!(matches!(
        rt.block_on(c.follow(&moved.id, &Default::default())),
        Err(HttpError::Forbidden { .. })
    ));
    // 422: a status over the character limit, with the server's message.
    let long = NewStatus {
        status: "x".repeat(501),
        ..Default::default()
    };
    match rt.block_on(c.post_status(&long, "k-long")) {
        Err(HttpError::Unprocessable { message, .. }) => {
            assert!(message.contains("character limit"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // 5xx before processing.
    server.set_fault_plan(FaultPlan::new(1).rule(FaultRule::nth(
        EndpointClass::Any,
        FaultKind::Unavailable,
        1,
    )));
    assert!(matches!(
        rt.block_on(c.verify_credentials()),
        Err(HttpError::Server { status: 503, .. })
    ));
    // A response lost after processing: a network error that may have been processed.
    server.set_fault_plan(FaultPlan::new(2).rule(FaultRule::nth(
        EndpointClass::Statuses,
        FaultKind::LostResponse,
        1,
    )));
    let short = NewStatus {
        status: "hello".into(),
        ..Default::default()
    };
    match rt.block_on(c.post_status(&short, "k-lost")) {
        Err(HttpError::Network {
            maybe_processed, ..
        }) => assert!(maybe_processed),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.state().statuses.len(), 1, "processed although lost");
    // The same key replays the status, not a second one.
    server.set_fault_plan(FaultPlan::new(3));
    let again = rt.block_on(c.post_status(&short, "k-lost")).unwrap();
    assert!(matches!(again, Posted::Status(_)));
    assert_eq!(server.state().statuses.len(), 1);
    // Connection refused: nothing reached a server.
    let closed = Http::new(&HttpConfig {
        resolve: vec![(
            "social.example".into(),
            SocketAddr::from(([127, 0, 0, 1], FakeServer::closed_port())),
        )],
        ..HttpConfig::default()
    })
    .unwrap();
    let c2 = Mastodon::new(
        closed,
        url::Url::parse("https://social.example/").unwrap(),
        None,
    );
    match rt.block_on(c2.verify_credentials()) {
        Err(HttpError::Network {
            kind,
            maybe_processed,
            ..
        }) => {
            assert_eq!(kind, NetworkKind::Connect);
            assert!(!maybe_processed);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn size_caps_and_invalid_answers() {
    let config = FakeConfig::default()
        .webfinger_host("huge.example", WebfingerBehavior::Huge { bytes: 5_000_000 })
        .webfinger_host("junk.example", WebfingerBehavior::InvalidJson)
        .webfinger_host("loop.example", WebfingerBehavior::RedirectLoop)
        .webfinger_host("plain.example", WebfingerBehavior::RedirectToHttp);
    let server = FakeServer::start(config);
    for host in [
        "huge.example",
        "junk.example",
        "loop.example",
        "plain.example",
    ] {
        server.add_remote_account(&format!("a@{host}"), false, false, None);
    }
    let resolver = Resolver::new(http_for(&server), ResolverConfig::default());
    let rt = rt();
    let huge = rt.block_on(resolver.resolve("a", "huge.example"));
    assert_eq!(huge.outcome, Outcome::InvalidAnswer);
    assert!(huge.reason.contains("larger than"), "{}", huge.reason);
    let junk = rt.block_on(resolver.resolve("a", "junk.example"));
    assert_eq!(junk.outcome, Outcome::InvalidAnswer);
    assert!(junk.reason.contains("not valid JSON"), "{}", junk.reason);
    let looped = rt.block_on(resolver.resolve("a", "loop.example"));
    assert_eq!(looped.outcome, Outcome::InvalidAnswer);
    assert!(looped.reason.contains("redirects"), "{}", looped.reason);
    let plain = rt.block_on(resolver.resolve("a", "plain.example"));
    assert_eq!(plain.outcome, Outcome::InvalidAnswer);
    assert!(plain.reason.contains("not https"), "{}", plain.reason);
}

#[test]
fn link_pagination_over_several_pages() {
    let mut config = FakeConfig {
        rate_limits: fake::RateLimits::disabled(),
        ..FakeConfig::default()
    };
    for i in 0..200 {
        config
            .remote_accounts
            .push(fake::RemoteAccountSpec::new(&format!("f{i}@far.example")).known());
    }
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write follow");
    let c = client(&server, Some(token));
    let rt = rt();
    let me = rt.block_on(c.verify_credentials()).unwrap();
    // alice follows all 200, and the remote servers accept.
    for i in 0..200 {
        let a = rt.block_on(c.lookup(&format!("f{i}@far.example"))).unwrap();
        rt.block_on(c.follow(&a.id, &Default::default())).unwrap();
    }
    server.accept_pending_follows();
    let first = rt.block_on(c.following_page(&me.id, None)).unwrap();
    assert_eq!(first.items.len(), 80);
    assert!(first.next.is_some());
    let all = rt.block_on(c.following_all(&me.id)).unwrap();
    assert_eq!(all.len(), 200);
    let distinct: std::collections::HashSet<_> = all.iter().map(|a| a.acct.clone()).collect();
    assert_eq!(distinct.len(), 200);
    // 200 / 80 = 3 pages for `following_all`.
    let pages = server
        .state()
        .counters
        .requests
        .iter()
        .filter(|(k, _)| k.contains("/following"))
        .map(|(_, v)| *v)
        .sum::<u64>();
    assert_eq!(pages, 1 + 3);
}

#[test]
fn video_is_processed_asynchronously_and_polled() {
    let config = FakeConfig {
        media_processing: MediaProcessing::AfterPolls(2),
        ..FakeConfig::default()
    };
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "write read");
    let c = client(&server, Some(token));
    let rt = rt();
    let uploaded = rt
        .block_on(c.upload_media("clip.mp4", "video/mp4", vec![0u8; 2048], Some("a clip")))
        .unwrap();
    assert!(uploaded.url.is_none(), "202: still processing");
    // Posting with unready media is refused.
    let early = NewStatus {
        status: "with video".into(),
        media_ids: vec![uploaded.id.clone()],
        ..Default::default()
    };
    assert!(matches!(
        rt.block_on(c.post_status(&early, "k-early")),
        Err(HttpError::Unprocessable { .. })
    ));
    let ready = rt
        .block_on(c.wait_for_media(&uploaded.id, Duration::from_secs(30)))
        .unwrap();
    assert!(ready.url.is_some());
    assert_eq!(ready.description.as_deref(), Some("a clip"));
    let posted = rt.block_on(c.post_status(&early, "k-ready")).unwrap();
    match posted {
        Posted::Status(s) => assert_eq!(s.media_attachments.len(), 1),
        other => panic!("{other:?}"),
    }
    let images = rt
        .block_on(c.upload_media("p.png", "image/png", vec![0u8; 64], None))
        .unwrap();
    assert!(images.url.is_some(), "images are processed at once");
}

#[test]
fn instance_and_software_detection() {
    let server = FakeServer::start(FakeConfig::default());
    let c = client(&server, None);
    let rt = rt();
    let info = rt.block_on(c.instance()).unwrap();
    assert_eq!(info.domain, "social.example");
    assert_eq!(info.max_characters, 500);
    assert_eq!(info.characters_reserved_per_url, 23);
    let sw = rt.block_on(c.software(&info));
    assert_eq!(sw.software, migrate::net::mastodon::Software::Mastodon);
}

#[test]
fn to_picks_among_several_stored_accounts() {
    let server = FakeServer::start(FakeConfig::default());
    server.add_local_account("bob");
    let env = Env::new();
    login(&server, &env);
    server.set_logged_in_user("bob");
    let mut cmd = env.command(&server);
    cmd.args(["login", "social.example", "--no-browser"]);
    let mut running = Running::spawn(cmd);
    let authorize = url_in(&running.wait_for("/oauth/authorize", Duration::from_secs(20)));
    let code = oob_code(&server, &authorize);
    running.write_stdin(&format!("{code}\n"));
    let (status, out, err) = running.finish();
    assert_eq!(status, Some(0), "{out}\n{err}");
    std::fs::write(env.path("f.csv"), "nobody@nowhere.example\n").unwrap();
    // Two accounts and no --to: a usage error naming both.
    let o = env.run(&server, &["import", "f.csv", "--dry-run"]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("alice@social.example") && stderr(&o).contains("bob@social.example"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--to"), "{}", stderr(&o));
    // --to picks one; the run acts as that account.
    let o = env.run(
        &server,
        &[
            "--to",
            "bob@social.example",
            "import",
            "f.csv",
            "--dry-run",
            "--json",
        ],
    );
    assert_code(&o, 0);
    let summary = stdout(&o)
        .lines()
        .rev()
        .find(|l| l.contains("\"summary\""))
        .unwrap()
        .to_string();
    assert!(
        summary.contains("\"account\":\"bob@social.example\""),
        "{summary}"
    );
    // An unknown --to is a clear error with a hint.
    let o = env.run(
        &server,
        &["--to", "carol@social.example", "import", "f.csv"],
    );
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("no stored account `carol@social.example`"),
        "{}",
        stderr(&o)
    );
}
