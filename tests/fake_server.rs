//! Self-tests of the fake Mastodon server (tests/support/fake): they talk to it over real TLS
//! with reqwest, trusting the test CA, and check that it behaves as `../shared/MASTODON.md` says
//! Mastodon does. If one of these fails, the fake is wrong, not the client.

#[path = "support/fake/mod.rs"]
mod fake;

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use fake::*;

struct T {
    server: FakeServer,
    client: Client,
    token: String,
}

fn setup(config: FakeConfig) -> T {
    let server = FakeServer::start(config);
    let client = server.client();
    let token = server.issue_token("alice", "read write follow");
    T {
        server,
        client,
        token,
    }
}

impl T {
    fn url(&self, path: &str) -> String {
        self.server.home_url(path)
    }

    async fn get(&self, path: &str) -> Response {
        self.get_as(path, &self.token).await
    }

    async fn get_as(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.post_as(path, form, &self.token).await
    }

    async fn post_as(&self, path: &str, form: &[(&str, &str)], token: &str) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn status(&self, text: &str, key: Option<&str>) -> Response {
        let mut req = self
            .client
            .post(self.url("/api/v1/statuses"))
            .bearer_auth(&self.token)
            .form(&[("status", text), ("visibility", "unlisted")]);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        req.send().await.unwrap()
    }

    async fn upload(&self, name: &str, mime: &str, size: usize) -> Response {
        let part = reqwest::multipart::Part::bytes(vec![7u8; size])
            .file_name(name.to_string())
            .mime_str(mime)
            .unwrap();
        let form = reqwest::multipart::Form::new()
            .part("file", part)
            .text("description", "a test file");
        self.client
            .post(self.url("/api/v2/media"))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    fn id(&self, acct: &str) -> String {
        self.server.state().account_id(acct).unwrap()
    }
}

async fn json(r: Response) -> Value {
    r.json().await.unwrap()
}

fn header(r: &Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// `2026-07-02T12:35:00.000000Z`: ISO-8601, six fractional digits, `Z`.
fn parse_reset(value: &str) -> DateTime<Utc> {
    assert_eq!(value.len(), 27, "reset `{value}`");
    assert_eq!(&value[19..20], ".", "reset `{value}`");
    assert!(value.ends_with('Z'), "reset `{value}`");
    assert!(value[20..26].chars().all(|c| c.is_ascii_digit()));
    DateTime::parse_from_rfc3339(value)
        .unwrap()
        .with_timezone(&Utc)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn limits(f: impl FnOnce(&mut RateLimits)) -> RateLimits {
    let mut l = RateLimits::default();
    f(&mut l);
    l
}

// ----------------------------------------------------------------------------------------
// Discovery, TLS, hosts

#[tokio::test]
async fn instance_discovery_and_rate_headers() {
    let t = setup(FakeConfig::default());
    let r = t
        .client
        .get(t.url("/api/v2/instance"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-ratelimit-limit"), "300");
    assert_eq!(header(&r, "x-ratelimit-remaining"), "299");
    parse_reset(&header(&r, "x-ratelimit-reset"));
    let v = json(r).await;
    assert_eq!(v["version"], "4.5.0");
    assert_eq!(v["configuration"]["statuses"]["max_characters"], 500);
    assert_eq!(v["configuration"]["statuses"]["max_media_attachments"], 4);
    assert_eq!(
        v["configuration"]["statuses"]["characters_reserved_per_url"],
        23
    );
    let mimes = v["configuration"]["media_attachments"]["supported_mime_types"]
        .as_array()
        .unwrap();
    assert!(mimes.contains(&json!("video/mp4")));

    let v1 = json(
        t.client
            .get(t.url("/api/v1/instance/"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v1["uri"], "social.example");
    assert_eq!(v1["configuration"]["statuses"]["max_characters"], 500);

    let links = json(
        t.client
            .get(t.url("/.well-known/nodeinfo"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let href = links["links"][0]["href"].as_str().unwrap();
    assert_eq!(href, "https://social.example/nodeinfo/2.0");
    let ni = t.client.get(t.url("/nodeinfo/2.0")).send().await.unwrap();
    assert!(
        ni.headers().get("x-ratelimit-limit").is_none(),
        "not under /api"
    );
    let ni = json(ni).await;
    assert_eq!(ni["software"]["name"], "mastodon");

    let meta = json(
        t.client
            .get(t.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
}

#[tokio::test]
async fn default_port_urls_work_with_resolve() {
    let server = FakeServer::start(FakeConfig::default());
    let client = server.client();
    // https://social.example/… with the name resolved to the fake's port, as --resolve does.
    let r = client
        .get(server.url_default_port("social.example", "/api/v1/accounts/1/following"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(json(r).await["error"], "Record not found");
    let me = server.state().account_id("alice").unwrap();
    server.add_local_account("bob");
    let token = server.issue_token("alice", "read write");
    let bob = server.state().account_id("bob").unwrap();
    client
        .post(server.url_default_port("social.example", &format!("/api/v1/accounts/{bob}/follow")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let r = client
        .get(server.url_default_port(
            "social.example",
            &format!("/api/v1/accounts/{me}/following?limit=1"),
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    // Links name the host as the client addressed it: here without a port.
    assert!(header(&r, "link").starts_with("<https://social.example/api/v1/"));
    let r = client
        .get(server.url(
            "social.example",
            &format!("/api/v1/accounts/{me}/following?limit=1"),
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let port_prefix = format!("<https://social.example:{}/api/v1/", server.port());
    assert!(header(&r, "link").starts_with(&port_prefix));
    assert_eq!(
        server.resolve_arg("social.example"),
        format!("social.example:{}:127.0.0.1", server.port())
    );
    assert!(
        std::fs::read_to_string(server.ca_pem_path())
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    // A client that does not trust the test CA is refused.
    let untrusting = Client::builder()
        .resolve("social.example", server.addr())
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(server.url("social.example", "/api/v1/instance"))
            .send()
            .await
            .is_err()
    );
}

// ----------------------------------------------------------------------------------------
// OAuth

fn pkce() -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_string();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

async fn register(t: &T, redirect: Value) -> Value {
    let r = t
        .client
        .post(t.url("/api/v1/apps"))
        .json(&json!({
            "client_name": "migrate",
            "redirect_uris": redirect,
            "scopes": "read write follow",
            "website": "https://example.org",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    json(r).await
}

fn query_of(location: &str) -> Vec<(String, String)> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

fn param(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

#[tokio::test]
async fn oauth_loopback_flow_with_pkce_and_revoke() {
    let t = setup(FakeConfig::default());
    let redirect = "http://127.0.0.1:4321/callback";
    let app = register(&t, json!([redirect])).await;
    assert_eq!(app["redirect_uris"], json!([redirect]));
    let client_id = app["client_id"].as_str().unwrap().to_string();
    let secret = app["client_secret"].as_str().unwrap().to_string();
    let (verifier, challenge) = pkce();
    let authorize = |redirect_uri: &str, scope: &str| {
        t.client
            .get(t.url("/oauth/authorize"))
            .query(&[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", redirect_uri),
                ("scope", scope),
                ("state", "xyz"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .send()
    };

    // Nobody logged in: the sign-in page.
    let r = authorize(redirect, "read write").await.unwrap();
    assert_eq!(r.status(), 302);
    assert!(header(&r, "location").ends_with("/auth/sign_in"));

    t.server.set_logged_in_user("alice");
    // The redirect URI must match exactly (another port is another URI).
    let r = authorize("http://127.0.0.1:9999/callback", "read write")
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Scopes beyond the app's are refused, back at the redirect URI.
    let r = authorize(redirect, "read admin:read").await.unwrap();
    assert_eq!(r.status(), 302);
    let q = query_of(&header(&r, "location"));
    assert_eq!(param(&q, "error").as_deref(), Some("invalid_scope"));
    assert_eq!(param(&q, "state").as_deref(), Some("xyz"));

    let r = authorize(redirect, "read write follow").await.unwrap();
    assert_eq!(r.status(), 302);
    let location = header(&r, "location");
    assert!(location.starts_with(redirect));
    let q = query_of(&location);
    assert_eq!(param(&q, "state").as_deref(), Some("xyz"));
    let code = param(&q, "code").unwrap();

    let exchange = |verifier: &str| {
        t.client
            .post(t.url("/oauth/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", &client_id),
                ("client_secret", &secret),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
            ])
            .send()
    };
    let r = exchange("wrong-verifier-wrong-verifier-wrong-verifier")
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(json(r).await["error"], "invalid_grant");
    let r = exchange(&verifier).await.unwrap();
    assert_eq!(r.status(), 200);
    let tok = json(r).await;
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["scope"], "read write follow");
    assert!(tok["created_at"].is_i64());
    let access = tok["access_token"].as_str().unwrap().to_string();
    // Codes are single-use.
    let r = exchange(&verifier).await.unwrap();
    assert_eq!(json(r).await["error"], "invalid_grant");

    let me = json(
        t.get_as("/api/v1/accounts/verify_credentials", &access)
            .await,
    )
    .await;
    assert_eq!(me["acct"], "alice");
    assert!(me["source"].is_object());

    let r = t
        .client
        .post(t.url("/oauth/revoke"))
        .form(&[
            ("client_id", client_id.as_str()),
            ("client_secret", secret.as_str()),
            ("token", access.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await, json!({}));
    let r = t
        .get_as("/api/v1/accounts/verify_credentials", &access)
        .await;
    assert_eq!(r.status(), 401);
    assert!(
        t.server
            .state()
            .tokens
            .iter()
            .any(|x| x.token == access && x.revoked)
    );
}

#[tokio::test]
async fn oauth_out_of_band_shows_the_code() {
    let t = setup(FakeConfig::default());
    t.server.set_logged_in_user("alice");
    let app = register(&t, json!("urn:ietf:wg:oauth:2.0:oob")).await;
    let client_id = app["client_id"].as_str().unwrap();
    let r = t
        .client
        .get(t.url("/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
            ("scope", "read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let page = t
        .client
        .get(header(&r, "location"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("<code id=\"code\">").unwrap() + "<code id=\"code\">".len();
    let code = &page[start..start + page[start..].find("</code>").unwrap()];
    let r = t
        .client
        .post(t.url("/oauth/token"))
        .basic_auth(client_id, app["client_secret"].as_str())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["scope"], "read");
}

#[tokio::test]
async fn tokens_and_scopes_are_checked() {
    let t = setup(FakeConfig::default());
    let bob = t.server.add_local_account("bob");
    let path = format!("/api/v1/accounts/{bob}/follow");

    let r = t.client.post(t.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(json(r).await["error"], "The access token is invalid");
    let r = t.post_as(&path, &[], "not-a-token").await;
    assert_eq!(r.status(), 401);

    let read_only = t.server.issue_token("alice", "read");
    let r = t.post_as(&path, &[], &read_only).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        json(r).await["error"],
        "This action is outside the authorized scopes"
    );
    let granular = t.server.issue_token("alice", "write:follows");
    assert_eq!(t.post_as(&path, &[], &granular).await.status(), 200);

    // An app-only token has no user.
    let app = register(&t, json!("urn:ietf:wg:oauth:2.0:oob")).await;
    let r = t
        .client
        .post(t.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app["client_id"].as_str().unwrap()),
            ("client_secret", app["client_secret"].as_str().unwrap()),
            ("scope", "read"),
        ])
        .send()
        .await
        .unwrap();
    let app_token = json(r).await["access_token"].as_str().unwrap().to_string();
    let r = t
        .get_as("/api/v1/accounts/verify_credentials", &app_token)
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        json(r).await["error"],
        "This method requires an authenticated user"
    );
}

// ----------------------------------------------------------------------------------------
// Rate limits

#[tokio::test]
async fn rack_attack_throttles_answer_429_with_headers() {
    // (throttle, config, the request that counts, expected limit header)
    let cases: Vec<(&str, RateLimits)> = vec![
        (
            "per_token",
            limits(|l| l.per_token = Some(Limit::new(3, 300))),
        ),
        (
            "per_user",
            limits(|l| l.per_user = Some(Limit::new(3, 300))),
        ),
        (
            "unauthenticated",
            limits(|l| l.unauthenticated = Some(Limit::new(3, 300))),
        ),
        ("paging", limits(|l| l.paging = Some(Limit::new(3, 900)))),
        ("media", limits(|l| l.media = Some(Limit::new(3, 1800)))),
        ("deletes", limits(|l| l.deletes = Some(Limit::new(3, 1800)))),
    ];
    for (name, rate_limits) in cases {
        let t = setup(FakeConfig {
            rate_limits,
            ..FakeConfig::default()
        });
        let mut to_delete = Vec::new();
        if name == "deletes" {
            for i in 0..4 {
                let s = json(t.status(&format!("post {i}"), None).await).await;
                to_delete.push(s["id"].as_str().unwrap().to_string());
            }
        }
        let mut last = None;
        for i in 0..4 {
            let r = match name {
                "unauthenticated" => t
                    .client
                    .get(t.url("/api/v1/instance"))
                    .send()
                    .await
                    .unwrap(),
                "paging" => t.get("/api/v1/bookmarks?max_id=99999").await,
                "media" => t.upload("a.png", "image/png", 10).await,
                "deletes" => t
                    .client
                    .delete(t.url(&format!("/api/v1/statuses/{}", to_delete.get(i).unwrap())))
                    .bearer_auth(&t.token)
                    .send()
                    .await
                    .unwrap(),
                _ => t.get("/api/v1/accounts/verify_credentials").await,
            };
            if i < 3 {
                assert!(
                    r.status().is_success(),
                    "{name} request {i}: {}",
                    r.status()
                );
                assert_eq!(header(&r, "x-ratelimit-limit"), "3", "{name}");
                assert_eq!(
                    header(&r, "x-ratelimit-remaining"),
                    (2 - i).to_string(),
                    "{name}"
                );
            }
            last = Some(r);
        }
        let r = last.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{name}");
        assert_eq!(header(&r, "x-ratelimit-limit"), "3", "{name}");
        assert_eq!(header(&r, "x-ratelimit-remaining"), "0", "{name}");
        assert!(
            r.headers().get("retry-after").is_none(),
            "{name}: no Retry-After"
        );
        let reset = parse_reset(&header(&r, "x-ratelimit-reset"));
        assert!(reset > t.server.now(), "{name}");
        assert_eq!(json(r).await, json!({"error": "Too many requests"}));
        let st = t.server.state();
        assert_eq!(st.counters.rate_limited, 1, "{name}");
        assert_eq!(st.counters.rate_limited_by[name], 1, "{name}");
    }
}

#[tokio::test]
async fn reset_is_the_window_end_with_the_request_fraction() {
    let start = at("2026-07-02T12:33:20.250Z");
    let t = setup(FakeConfig {
        start_time: Some(start),
        time_scale: 1e-6, // the clock all but stands still
        ..FakeConfig::default()
    });
    let r = t.get("/api/v1/accounts/verify_credentials").await;
    let reset = header(&r, "x-ratelimit-reset");
    // 5-minute windows aligned to the epoch: 12:35:00, keeping the request's fraction.
    assert!(reset.starts_with("2026-07-02T12:35:00.2"), "{reset}");
}

#[tokio::test]
async fn statuses_family_limit_and_headers() {
    let t = setup(FakeConfig {
        start_time: Some(at("2026-07-02T13:10:00Z")),
        rate_limits: limits(|l| l.statuses = Some(Limit::new(2, 3 * 3600))),
        ..FakeConfig::default()
    });
    for i in 0..2 {
        let r = t.status(&format!("post {i}"), None).await;
        assert_eq!(r.status(), 200);
        // The family is closer to exhaustion than the per-token throttle.
        assert_eq!(header(&r, "x-ratelimit-limit"), "2");
        assert_eq!(header(&r, "x-ratelimit-remaining"), (1 - i).to_string());
        assert!(header(&r, "x-ratelimit-reset").starts_with("2026-07-02T15:00:00."));
    }
    let r = t.status("one too many", None).await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-limit"), "2");
    assert_eq!(header(&r, "x-ratelimit-remaining"), "0");
    assert!(header(&r, "x-ratelimit-reset").starts_with("2026-07-02T15:00:00."));
    assert!(r.headers().get("retry-after").is_none());
    assert_eq!(t.server.state().statuses.len(), 2);
    assert_eq!(t.server.state().counters.rate_limited_by["statuses"], 1);
    // Other requests are not affected.
    assert_eq!(
        t.get("/api/v1/accounts/verify_credentials").await.status(),
        200
    );
}

#[tokio::test]
async fn follows_family_resets_at_utc_midnight_and_refollows_are_free() {
    let t = setup(FakeConfig {
        start_time: Some(at("2026-07-02T23:59:00Z")),
        rate_limits: limits(|l| l.follows = Some(Limit::new(2, 24 * 3600))),
        ..FakeConfig::default()
    });
    let ids: Vec<String> = ["b1", "b2", "b3"]
        .iter()
        .map(|u| t.server.add_local_account(u))
        .collect();
    for (i, id) in ids[..2].iter().enumerate() {
        let r = t.post(&format!("/api/v1/accounts/{id}/follow"), &[]).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "x-ratelimit-limit"), "2");
        assert_eq!(header(&r, "x-ratelimit-remaining"), (1 - i).to_string());
    }
    let r = t
        .post(&format!("/api/v1/accounts/{}/follow", ids[2]), &[])
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-limit"), "2");
    assert_eq!(header(&r, "x-ratelimit-remaining"), "0");
    let reset = parse_reset(&header(&r, "x-ratelimit-reset"));
    assert_eq!(
        reset.date_naive(),
        at("2026-07-03T00:00:00Z").date_naive(),
        "the window ends at 00:00 UTC"
    );
    assert!(header(&r, "x-ratelimit-reset").starts_with("2026-07-03T00:00:00."));
    // Following an account already followed only updates options: no budget needed.
    let r = t
        .post(
            &format!("/api/v1/accounts/{}/follow", ids[0]),
            &[("notify", "true")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["notifying"], true);
    // After midnight the budget is back.
    t.server.advance(Duration::from_secs(61));
    let r = t
        .post(&format!("/api/v1/accounts/{}/follow", ids[2]), &[])
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn follow_headers_are_the_closest_throttle() {
    // Default numbers: after one request the per-token throttle (299 left) is closer to
    // exhaustion than the follows family (399 left), so a follow shows 300 as Mastodon does.
    let t = setup(FakeConfig::default());
    let bob = t.server.add_local_account("bob");
    let r = t.post(&format!("/api/v1/accounts/{bob}/follow"), &[]).await;
    assert_eq!(header(&r, "x-ratelimit-limit"), "300");
    assert_eq!(header(&r, "x-ratelimit-remaining"), "299");
    // Without rack-attack limits, the follows family shows.
    let t = setup(FakeConfig {
        rate_limits: RateLimits {
            follows: Some(Limit::new(400, 86_400)),
            ..RateLimits::disabled()
        },
        ..FakeConfig::default()
    });
    let bob = t.server.add_local_account("bob");
    let r = t.post(&format!("/api/v1/accounts/{bob}/follow"), &[]).await;
    assert_eq!(header(&r, "x-ratelimit-limit"), "400");
    assert_eq!(header(&r, "x-ratelimit-remaining"), "399");
    // With every limit disabled there are no headers at all.
    let t = setup(FakeConfig {
        rate_limits: RateLimits::disabled(),
        ..FakeConfig::default()
    });
    let r = t.get("/api/v1/accounts/verify_credentials").await;
    assert!(r.headers().get("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn time_scale_makes_three_hours_pass_quickly() {
    // 10 fake hours per real second; the clock starts at a 3-hour window boundary, so the
    // first window lasts 0.3 s of real time.
    let t = setup(FakeConfig {
        time_scale: 36_000.0,
        start_time: Some(at("2026-07-02T12:00:00Z")),
        rate_limits: limits(|l| l.statuses = Some(Limit::new(1, 3 * 3600))),
        ..FakeConfig::default()
    });
    let before = t.server.now();
    let r = t.status("first", None).await;
    assert_eq!(r.status(), 200);
    let r = t.status("second", None).await;
    assert_eq!(r.status(), 429);
    let reset = parse_reset(&header(&r, "x-ratelimit-reset"));
    assert!(reset - before <= chrono::Duration::hours(3) + chrono::Duration::seconds(60));
    // The reset is a fake-clock instant; wait for it in real time.
    let wait = (reset - t.server.now()).to_std().unwrap_or_default();
    tokio::time::sleep(t.server.real_duration(wait) + Duration::from_millis(20)).await;
    assert!(t.server.now() >= reset);
    assert_eq!(t.status("third", None).await.status(), 200);
    assert!(t.server.now() - before >= chrono::Duration::hours(1));
}

// ----------------------------------------------------------------------------------------
// Accounts, follows, search

#[tokio::test]
async fn follow_is_optimistic_but_relationships_tell_the_truth() {
    let t = setup(FakeConfig::default());
    let carol = t
        .server
        .add_remote_account("carol@remote.example", true, false, None)
        .unwrap();
    let locked = t
        .server
        .add_remote_account("lock@remote.example", true, true, None)
        .unwrap();
    let moved = t
        .server
        .add_remote_account("old@remote.example", true, false, Some("new@other.example"))
        .unwrap();
    let me = t.id("alice");

    let r = t
        .client
        .post(t.url(&format!("/api/v1/accounts/{carol}/follow")))
        .bearer_auth(&t.token)
        .json(&json!({"reblogs": false, "languages": ["en", "de"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rel = json(r).await;
    assert_eq!(rel["following"], true);
    assert_eq!(rel["requested"], false);
    assert_eq!(rel["showing_reblogs"], false);
    assert_eq!(rel["languages"], json!(["en", "de"]));

    let r = t
        .post(&format!("/api/v1/accounts/{locked}/follow"), &[])
        .await;
    let rel = json(r).await;
    assert_eq!(rel["following"], false);
    assert_eq!(rel["requested"], true);

    let r = t
        .get(&format!(
            "/api/v1/accounts/relationships?id[]={locked}&id[]=999&id[]={carol}"
        ))
        .await;
    let rels = json(r).await;
    assert_eq!(
        rels.as_array().unwrap().len(),
        2,
        "unknown ids are left out"
    );
    assert_eq!(rels[0]["id"], locked.as_str(), "in the order asked");
    assert_eq!(rels[1]["id"], carol.as_str());
    assert_eq!(rels[1]["following"], false);
    assert_eq!(
        rels[1]["requested"], true,
        "the remote has not accepted yet"
    );
    let st = t.server.state();
    let f = st.follows.iter().find(|f| f.target_id == carol).unwrap();
    assert!(f.pending && !f.reblogs);
    assert_eq!(f.account_id, me);
    // /following lists accepted follows only.
    let list = json(t.get(&format!("/api/v1/accounts/{me}/following")).await).await;
    assert_eq!(list.as_array().unwrap().len(), 0);

    assert_eq!(t.server.accept_pending_follows(), 1);
    let rels = json(
        t.get(&format!("/api/v1/accounts/relationships?id={carol}"))
            .await,
    )
    .await;
    assert_eq!(rels[0]["following"], true);
    assert_eq!(rels[0]["requested"], false);

    let r = t
        .post(&format!("/api/v1/accounts/{moved}/follow"), &[])
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(json(r).await["error"], "This action is not allowed");
    let r = t.post(&format!("/api/v1/accounts/{me}/follow"), &[]).await;
    assert_eq!(r.status(), 403);
    let r = t.post("/api/v1/accounts/424242/follow", &[]).await;
    assert_eq!(r.status(), 404);
    let old = json(t.get(&format!("/api/v1/accounts/{moved}")).await).await;
    assert_eq!(old["moved"]["acct"], "new@other.example");
}

#[tokio::test]
async fn remote_accepting_immediately_and_the_follow_limit() {
    let mut alice = LocalAccountSpec::new("alice");
    alice.followers_count = 1;
    let t = setup(FakeConfig {
        remote_accepts_immediately: true,
        follow_limit: 2,
        local_accounts: vec![alice],
        ..FakeConfig::default()
    });
    let ids: Vec<String> = (0..3)
        .map(|i| {
            t.server
                .add_remote_account(&format!("u{i}@remote.example"), true, false, None)
                .unwrap()
        })
        .collect();
    for id in &ids[..2] {
        assert_eq!(
            t.post(&format!("/api/v1/accounts/{id}/follow"), &[])
                .await
                .status(),
            200
        );
    }
    let rels = json(
        t.get(&format!("/api/v1/accounts/relationships?id[]={}", ids[0]))
            .await,
    )
    .await;
    assert_eq!(rels[0]["following"], true);
    let r = t
        .post(&format!("/api/v1/accounts/{}/follow", ids[2]), &[])
        .await;
    assert_eq!(r.status(), 422);
    // Past MAX_FOLLOWS_THRESHOLD the limit is followers × 1.1 (here 1).
    assert_eq!(
        json(r).await["error"],
        "Validation failed: You can't follow more than 1 people"
    );
}

#[tokio::test]
async fn following_is_paginated_through_link_headers() {
    let t = setup(FakeConfig::default());
    let me = t.id("alice");
    for i in 0..5 {
        let id = t.server.add_local_account(&format!("friend{i}"));
        t.post(&format!("/api/v1/accounts/{id}/follow"), &[]).await;
    }
    let mut url = t.url(&format!("/api/v1/accounts/{me}/following?limit=2"));
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let r = t
            .client
            .get(&url)
            .bearer_auth(&t.token)
            .send()
            .await
            .unwrap();
        let link = header(&r, "link");
        let page = json(r).await;
        pages += 1;
        for a in page.as_array().unwrap() {
            seen.push(a["acct"].as_str().unwrap().to_string());
        }
        if !page.as_array().unwrap().is_empty() {
            assert!(link.contains("rel=\"prev\""), "{link}");
        }
        let next = link
            .split(", ")
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l[1..l.find('>').unwrap()].to_string());
        match next {
            Some(n) => {
                assert!(n.contains("max_id=") && n.contains("limit=2"), "{n}");
                url = n.replace("https://social.example/", &t.url("/"));
            }
            None => break,
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        ["friend0", "friend1", "friend2", "friend3", "friend4"]
    );
    assert_eq!(pages, 3);
    // The ids in max_id are follow ids, not account ids.
    let st = t.server.state();
    assert!(
        st.follows
            .iter()
            .all(|f| st.account(&f.id.to_string()).is_none())
    );
}

#[tokio::test]
async fn lookup_only_knows_what_the_server_has_seen() {
    let t = setup(FakeConfig::default());
    t.server
        .add_remote_account("dave@remote.example", false, false, None);
    let r = t
        .get("/api/v1/accounts/lookup?acct=dave@remote.example")
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(json(r).await, json!({"error": "Record not found"}));
    // Search without resolve does not learn it either.
    let v = json(
        t.get("/api/v2/search?q=dave@remote.example&type=accounts")
            .await,
    )
    .await;
    assert!(
        v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["acct"] != "dave@remote.example")
    );
    assert_eq!(
        t.get("/api/v1/accounts/lookup?acct=dave@remote.example")
            .await
            .status(),
        404
    );
    // Resolve without a user token is refused.
    let r = t
        .client
        .get(t.url("/api/v2/search?q=dave@remote.example&resolve=true&type=accounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        json(r).await["error"],
        "Search queries that resolve remote resources are not supported without authentication"
    );
    let v = json(
        t.get("/api/v2/search?q=%40dave@remote.example&resolve=true&type=accounts&limit=5")
            .await,
    )
    .await;
    let accts: Vec<&str> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["acct"].as_str().unwrap())
        .collect();
    // Fuzzy: look-alikes first, the exact match last.
    assert!(accts.len() >= 3, "{accts:?}");
    assert_eq!(*accts.last().unwrap(), "dave@remote.example");
    assert_ne!(accts[0], "dave@remote.example");
    assert!(accts.contains(&"dave@mirror.example"), "{accts:?}");
    assert!(accts.iter().any(|a| a.starts_with("dave_")), "{accts:?}");
    // limit=1 gets a look-alike, never blindly the right one.
    let v = json(
        t.get("/api/v2/search?q=dave@remote.example&resolve=true&type=accounts&limit=1")
            .await,
    )
    .await;
    assert_ne!(v["accounts"][0]["acct"], "dave@remote.example");
    // Now it is known.
    let r = t
        .get("/api/v1/accounts/lookup?acct=dave@remote.example")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["acct"], "dave@remote.example");
    // Local accounts: with or without the home domain.
    for acct in ["alice", "alice@social.example", "@alice"] {
        let r = t.get(&format!("/api/v1/accounts/lookup?acct={acct}")).await;
        assert_eq!(r.status(), 200, "{acct}");
    }
}

#[tokio::test]
async fn resolve_follows_webfinger_rules() {
    let config = FakeConfig::default()
        .webfinger_host(
            "old.example",
            WebfingerBehavior::Canonicalizes {
                to: "new.example".into(),
            },
        )
        .webfinger_host(
            "example.com",
            WebfingerBehavior::SplitDomain {
                web_host: "mastodon.example.com".into(),
            },
        )
        .webfinger_host("gone.example", WebfingerBehavior::Gone)
        .webfinger_host("lemmy.example", WebfingerBehavior::Lemmy)
        .remote(RemoteAccountSpec::new("ann@new.example"))
        .remote(RemoteAccountSpec::new("sam@example.com"))
        .remote(RemoteAccountSpec::new("gus@gone.example").known())
        .remote(RemoteAccountSpec::new("rust@lemmy.example"));
    let t = setup(FakeConfig {
        search_decoys: 0,
        ..config
    });
    let search = |q: &str| {
        let q = q.to_string();
        let t = &t;
        async move {
            let v = json(
                t.client
                    .get(t.url("/api/v2/search"))
                    .query(&[("q", q.as_str()), ("resolve", "true"), ("type", "accounts")])
                    .bearer_auth(&t.token)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            v["accounts"].as_array().unwrap().clone()
        }
    };
    let a = search("ann@old.example").await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["acct"], "ann@new.example", "stored under the subject");
    let a = search("sam@mastodon.example.com").await;
    assert_eq!(a[0]["acct"], "sam@example.com");
    assert_eq!(a[0]["url"], "https://mastodon.example.com/@sam");
    let a = search("rust@lemmy.example").await;
    assert_eq!(a[0]["group"], true, "Mastodon keeps the last self link");
    // A known account is not checked again within a day; after that a 410 suspends it.
    assert_eq!(search("gus@gone.example").await.len(), 1);
    t.server.advance(Duration::from_secs(25 * 3600));
    assert!(search("gus@gone.example").await.is_empty());
    let st = t.server.state();
    assert!(st.account_by_acct("gus@gone.example").unwrap().suspended);
    let r = t.get("/api/v1/accounts/lookup?acct=gus@gone.example").await;
    assert_eq!(json(r).await["suspended"], true);
    assert!(search("nobody@new.example").await.is_empty());
    assert!(search("x@unserved.example").await.is_empty());
}

#[tokio::test]
async fn blocks_mutes_domain_blocks_lists_bookmarks() {
    let t = setup(FakeConfig::default());
    let bob = t.server.add_local_account("bob");
    let eve = t
        .server
        .add_remote_account("eve@remote.example", true, false, None)
        .unwrap();
    let rel = json(t.post(&format!("/api/v1/accounts/{bob}/block"), &[]).await).await;
    assert_eq!(rel["blocking"], true);
    assert_eq!(
        t.post(&format!("/api/v1/accounts/{bob}/follow"), &[])
            .await
            .status(),
        403
    );
    let rel = json(
        t.post(
            &format!("/api/v1/accounts/{eve}/mute"),
            &[("notifications", "false")],
        )
        .await,
    )
    .await;
    assert_eq!(rel["muting"], true);
    assert_eq!(rel["muting_notifications"], false);
    let r = t
        .post("/api/v1/domain_blocks", &[("domain", "spam.example")])
        .await;
    assert_eq!(json(r).await, json!({}));
    let st = t.server.state();
    assert_eq!(st.blocks.len(), 1);
    assert!(!st.mutes[0].notifications);
    assert_eq!(st.domain_blocks[0].domain, "spam.example");

    let list = json(t.post("/api/v1/lists", &[("title", "Friends")]).await).await;
    assert_eq!(list["replies_policy"], "list");
    let list_id = list["id"].as_str().unwrap();
    let path = format!("/api/v1/lists/{list_id}/accounts");
    let r = t.post(&path, &[("account_ids[]", eve.as_str())]).await;
    assert_eq!(r.status(), 422, "not followed yet");
    t.post(&format!("/api/v1/accounts/{eve}/follow"), &[]).await;
    let r = t.post(&path, &[("account_ids[]", eve.as_str())]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(t.server.state().lists[0].members, vec![eve.clone()]);

    let s = json(t.status("bookmark me", None).await).await;
    let sid = s["id"].as_str().unwrap();
    let b = json(
        t.post(&format!("/api/v1/statuses/{sid}/bookmark"), &[])
            .await,
    )
    .await;
    assert_eq!(b["bookmarked"], true);
    assert_eq!(t.server.state().bookmarks.len(), 1);
    // A remote status becomes known through search by URL, then can be bookmarked.
    let url = "https://remote.example/@eve/110";
    t.server
        .add_remote_status("eve@remote.example", url, "remote post");
    let v = json(
        t.get(&format!(
            "/api/v2/search?q={url}&type=statuses&resolve=true"
        ))
        .await,
    )
    .await;
    assert_eq!(v["statuses"][0]["url"], url);
    assert_eq!(v["statuses"][0]["account"]["acct"], "eve@remote.example");
    let remote_id = v["statuses"][0]["id"].as_str().unwrap();
    let r = t
        .post(&format!("/api/v1/statuses/{remote_id}/bookmark"), &[])
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(t.server.state().bookmarks.len(), 2);
    assert_eq!(
        t.post("/api/v1/statuses/1/bookmark", &[]).await.status(),
        404
    );
}

// ----------------------------------------------------------------------------------------
// Statuses and media

#[tokio::test]
async fn async_media_202_then_206_until_processed() {
    let t = setup(FakeConfig {
        media_processing: MediaProcessing::AfterPolls(2),
        ..FakeConfig::default()
    });
    let r = t.upload("cat.png", "image/png", 100).await;
    assert_eq!(r.status(), 200);
    let image = json(r).await;
    assert_eq!(image["type"], "image");
    assert!(image["url"].is_string());

    let r = t.upload("clip.mp4", "video/mp4", 1000).await;
    assert_eq!(r.status(), 202);
    let video = json(r).await;
    assert_eq!(video["type"], "video");
    assert!(video["url"].is_null());
    let vid = video["id"].as_str().unwrap().to_string();

    let r = t
        .client
        .post(t.url("/api/v1/statuses"))
        .bearer_auth(&t.token)
        .form(&[("status", "look"), ("media_ids[]", vid.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        json(r).await["error"],
        "Cannot attach files that have not finished processing. Try again in a moment!"
    );
    for _ in 0..2 {
        let r = t.get(&format!("/api/v1/media/{vid}")).await;
        assert_eq!(r.status(), 206);
        assert!(json(r).await["url"].is_null());
    }
    let r = t.get(&format!("/api/v1/media/{vid}")).await;
    assert_eq!(r.status(), 200);
    assert!(json(r).await["url"].is_string());
    let r = t
        .client
        .post(t.url("/api/v1/statuses"))
        .bearer_auth(&t.token)
        .json(&json!({"status": "look", "media_ids": [vid]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s = json(r).await;
    assert_eq!(s["media_attachments"][0]["id"], vid.as_str());
    let st = t.server.state();
    let m = st.media.iter().find(|m| m.id == vid).unwrap();
    assert_eq!(m.kind, MediaKind::Video);
    assert_eq!(m.size, 1000);
    assert_eq!(m.description.as_deref(), Some("a test file"));
    assert_eq!(m.status_id.as_deref(), s["id"].as_str());

    let gif = json(t.upload("a.gif", "image/gif", 10).await).await;
    assert_eq!(gif["type"], "gifv");
    assert!(gif["url"].is_null());
}

#[tokio::test]
async fn media_processing_by_time() {
    let t = setup(FakeConfig {
        media_processing: MediaProcessing::AfterTime(Duration::from_secs(30)),
        ..FakeConfig::default()
    });
    let vid = json(t.upload("clip.webm", "video/webm", 10).await).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(t.get(&format!("/api/v1/media/{vid}")).await.status(), 206);
    t.server.advance(Duration::from_secs(31));
    assert_eq!(t.get(&format!("/api/v1/media/{vid}")).await.status(), 200);
}

#[tokio::test]
async fn idempotency_key_replays_within_the_hour() {
    let t = setup(FakeConfig::default());
    let r = t.status("hello", Some("key-1")).await;
    assert_eq!(r.status(), 200);
    let first = json(r).await;
    let r = t.status("hello", Some("key-1")).await;
    assert_eq!(r.status(), 200);
    let replay = json(r).await;
    assert_eq!(replay["id"], first["id"]);
    assert_eq!(replay["created_at"], first["created_at"]);
    let st = t.server.state();
    assert_eq!(st.statuses.len(), 1);
    assert_eq!(st.statuses[0].idempotency_key.as_deref(), Some("key-1"));

    // Keys are per account.
    let bob = t.server.add_local_account("bob");
    let bob_token = t.server.issue_token("bob", "write");
    let r = t
        .client
        .post(t.url("/api/v1/statuses"))
        .bearer_auth(&bob_token)
        .header("Idempotency-Key", "key-1")
        .form(&[("status", "hello")])
        .send()
        .await
        .unwrap();
    let other = json(r).await;
    assert_ne!(other["id"], first["id"]);
    assert_eq!(other["account"]["id"], bob.as_str());

    // After an hour (of fake time) the key is forgotten.
    t.server.advance(Duration::from_secs(3_601));
    let again = json(t.status("hello", Some("key-1")).await).await;
    assert_ne!(again["id"], first["id"]);
    assert_eq!(t.server.state().statuses_by(&t.id("alice")).len(), 2);
}

#[tokio::test]
async fn idempotency_under_a_fast_clock() {
    let t = setup(FakeConfig {
        time_scale: 7_200.0, // an hour lasts half a second
        ..FakeConfig::default()
    });
    let first = json(t.status("hi", Some("k")).await).await;
    let replay = json(t.status("hi", Some("k")).await).await;
    assert_eq!(first["id"], replay["id"]);
    tokio::time::sleep(Duration::from_millis(550)).await;
    let second = json(t.status("hi", Some("k")).await).await;
    assert_ne!(first["id"], second["id"]);
}

#[tokio::test]
async fn character_limit_is_counted_as_mastodon_counts() {
    let t = setup(FakeConfig::default());
    let ok = "a".repeat(500);
    assert_eq!(t.status(&ok, None).await.status(), 200);
    let r = t.status(&"a".repeat(501), None).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        json(r).await,
        json!({"error": "Validation failed: Text character limit of 500 exceeded"})
    );
    // A URL counts 23 whatever its length.
    let url = format!("https://example.org/{}", "p".repeat(200));
    assert_eq!(
        t.status(&format!("{} {url}", "b".repeat(476)), None)
            .await
            .status(),
        200
    );
    assert_eq!(
        t.status(&format!("{} {url}", "b".repeat(477)), None)
            .await
            .status(),
        422
    );
    // A remote mention counts as @user.
    let mention = "@someone@a.very.long.domain.example";
    let text = format!("{mention} {}", "c".repeat(500 - "@someone ".len()));
    assert_eq!(t.status(&text, None).await.status(), 200);
    // Characters, not bytes.
    assert_eq!(t.status(&"é".repeat(500), None).await.status(), 200);
    // The content warning counts too.
    let r = t
        .post(
            "/api/v1/statuses",
            &[("status", &"d".repeat(495)), ("spoiler_text", "123456")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        status_length("see https://x.org/abc and @a@b.example", "", 23),
        34
    );
}

#[tokio::test]
async fn statuses_replies_delete_and_pagination() {
    let t = setup(FakeConfig::default());
    let me = t.id("alice");
    let root = json(t.status("root", None).await).await;
    let rid = root["id"].as_str().unwrap();
    let reply = json(
        t.post(
            "/api/v1/statuses",
            &[
                ("status", "reply"),
                ("in_reply_to_id", rid),
                ("language", "de"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(reply["in_reply_to_id"], rid);
    assert_eq!(reply["in_reply_to_account_id"], me.as_str());
    assert_eq!(reply["language"], "de");
    assert_eq!(reply["content"], "<p>reply</p>");
    let r = t
        .post(
            "/api/v1/statuses",
            &[("status", "x"), ("in_reply_to_id", "12345")],
        )
        .await;
    assert_eq!(r.status(), 404);

    for i in 0..3 {
        t.status(&format!("more {i}"), None).await;
    }
    let r = t
        .get(&format!("/api/v1/accounts/{me}/statuses?limit=2"))
        .await;
    let link = header(&r, "link");
    assert!(
        link.contains("max_id=") && link.contains("rel=\"next\""),
        "{link}"
    );
    assert_eq!(json(r).await.as_array().unwrap().len(), 2);

    let r = t
        .client
        .delete(t.url(&format!("/api/v1/statuses/{rid}")))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["text"], "root");
    let r = t.get(&format!("/api/v1/statuses/{rid}")).await;
    assert_eq!(r.status(), 404);
    assert_eq!(t.get("/api/v1/statuses/0").await.status(), 404);
}

#[tokio::test]
async fn scheduled_statuses_are_published_when_due() {
    let t = setup(FakeConfig {
        start_time: Some(Utc.with_ymd_and_hms(2026, 7, 2, 12, 0, 0).unwrap()),
        ..FakeConfig::default()
    });
    let r = t
        .post(
            "/api/v1/statuses",
            &[
                ("status", "later"),
                ("scheduled_at", "2026-07-02T13:00:00Z"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let s = json(r).await;
    assert_eq!(s["scheduled_at"], "2026-07-02T13:00:00.000Z");
    assert_eq!(s["params"]["text"], "later");
    let r = t
        .post(
            "/api/v1/statuses",
            &[
                ("status", "too soon"),
                ("scheduled_at", "2026-07-02T12:02:00Z"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    t.server.advance(Duration::from_secs(3_700));
    let list = json(t.get("/api/v1/scheduled_statuses").await).await;
    assert_eq!(list, json!([]));
    let st = t.server.state();
    assert_eq!(st.statuses.len(), 1);
    assert_eq!(
        st.statuses[0].scheduled_at,
        Some(at("2026-07-02T13:00:00Z"))
    );
}

// ----------------------------------------------------------------------------------------
// Faults

#[tokio::test]
async fn fault_unavailable_and_drop_change_nothing() {
    let t = setup(FakeConfig::default());
    t.server.set_fault_plan(
        FaultPlan::new(1)
            .rule(FaultRule::nth(
                EndpointClass::Statuses,
                FaultKind::Unavailable,
                1,
            ))
            .rule(FaultRule::nth(
                EndpointClass::Statuses,
                FaultKind::DropBeforeProcessing,
                2,
            )),
    );
    let r = t.status("one", None).await;
    assert_eq!(r.status(), 503);
    assert!(json(r).await["error"].is_string());
    let err = t
        .client
        .post(t.url("/api/v1/statuses"))
        .bearer_auth(&t.token)
        .form(&[("status", "two")])
        .send()
        .await;
    assert!(err.is_err(), "the connection was dropped");
    assert!(t.server.state().statuses.is_empty());
    assert_eq!(t.status("three", None).await.status(), 200);
    let st = t.server.state();
    assert_eq!(st.statuses.len(), 1);
    assert_eq!(st.counters.faults.unavailable, 1);
    assert_eq!(st.counters.faults.dropped_before, 1);
    // Other endpoints are not affected by a statuses rule.
    assert_eq!(
        t.get("/api/v1/accounts/verify_credentials").await.status(),
        200
    );
}

#[tokio::test]
async fn fault_lost_response_after_processing() {
    let t = setup(FakeConfig::default());
    t.server
        .set_fault_plan(FaultPlan::new(7).rule(FaultRule::nth(
            EndpointClass::Statuses,
            FaultKind::LostResponse,
            1,
        )));
    let sent = t
        .client
        .post(t.url("/api/v1/statuses"))
        .bearer_auth(&t.token)
        .header("Idempotency-Key", "item-42")
        .form(&[("status", "exactly once")])
        .send()
        .await;
    assert!(sent.is_err(), "the client sees an error");
    let st = t.server.state();
    assert_eq!(st.statuses.len(), 1, "but the status was created");
    assert_eq!(st.counters.faults.lost_response, 1);
    let id = st.statuses[0].id.clone();
    // The same key on retry returns the same status: still one.
    let r = t.status("exactly once", Some("item-42")).await;
    assert_eq!(json(r).await["id"], id.as_str());
    assert_eq!(t.server.state().statuses.len(), 1);

    // Follows: the state changes although the answer is lost.
    let bob = t.server.add_local_account("bob");
    t.server
        .set_fault_plan(FaultPlan::new(7).rule(FaultRule::nth(
            EndpointClass::Follows,
            FaultKind::LostResponse,
            1,
        )));
    let r = t
        .client
        .post(t.url(&format!("/api/v1/accounts/{bob}/follow")))
        .bearer_auth(&t.token)
        .send()
        .await;
    assert!(r.is_err());
    assert_eq!(t.server.state().follows.len(), 1);
}

#[tokio::test]
async fn fault_latency_and_media_class() {
    let t = setup(FakeConfig::default());
    t.server
        .set_fault_plan(FaultPlan::new(3).rule(FaultRule::new(
            EndpointClass::Media,
            FaultKind::Latency(Duration::from_millis(300)),
            1.0,
        )));
    let started = Instant::now();
    assert_eq!(t.upload("a.png", "image/png", 10).await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    t.get("/api/v1/accounts/verify_credentials").await;
    assert!(started.elapsed() < Duration::from_millis(300));
    assert_eq!(t.server.state().counters.faults.latency, 1);
}

#[tokio::test]
async fn faults_are_deterministic_from_the_seed() {
    async fn outcomes(seed: u64) -> Vec<u16> {
        let t = setup(FakeConfig {
            rate_limits: RateLimits::disabled(),
            faults: FaultPlan::new(seed).rule(FaultRule::new(
                EndpointClass::Any,
                FaultKind::Unavailable,
                0.5,
            )),
            ..FakeConfig::default()
        });
        let mut out = Vec::new();
        for _ in 0..16 {
            out.push(
                t.get("/api/v1/accounts/verify_credentials")
                    .await
                    .status()
                    .as_u16(),
            );
        }
        out
    }
    let a = outcomes(11).await;
    assert_eq!(a, outcomes(11).await);
    assert!(a.contains(&503) && a.contains(&200), "{a:?}");
    assert_ne!(a, outcomes(12).await);
}

// ----------------------------------------------------------------------------------------
// Remote WebFinger hosts

fn webfinger_config() -> FakeConfig {
    FakeConfig::default()
        .webfinger_host("masto.example", WebfingerBehavior::Mastodon)
        .webfinger_host("pleroma.example", WebfingerBehavior::Pleroma)
        .webfinger_host("misskey.example", WebfingerBehavior::Misskey)
        .webfinger_host("lemmy.example", WebfingerBehavior::Lemmy)
        .webfinger_host(
            "example.com",
            WebfingerBehavior::SplitDomain {
                web_host: "mastodon.example.com".into(),
            },
        )
        .webfinger_host(
            "old.example",
            WebfingerBehavior::Canonicalizes {
                to: "new.example".into(),
            },
        )
        .webfinger_host("missing.example", WebfingerBehavior::NotFound)
        .webfinger_host("gone.example", WebfingerBehavior::Gone)
        .webfinger_host(
            "hostmeta.example",
            WebfingerBehavior::HostMetaFallback {
                lrdd_path: "/fediverse/webfinger".into(),
            },
        )
        .webfinger_host("broken.example", WebfingerBehavior::InvalidJson)
        .webfinger_host(
            "huge.example",
            WebfingerBehavior::Huge {
                bytes: 5 * 1024 * 1024,
            },
        )
        .webfinger_host(
            "slow.example",
            WebfingerBehavior::Slow {
                delay: Duration::from_millis(400),
            },
        )
        .webfinger_host("loop.example", WebfingerBehavior::RedirectLoop)
        .webfinger_host("plain.example", WebfingerBehavior::RedirectToHttp)
        .webfinger_host("unserved.example", WebfingerBehavior::Unserved)
        .remote(RemoteAccountSpec::new("Gargron@masto.example"))
        .remote(RemoteAccountSpec::new("karolat@pleroma.example"))
        .remote(RemoteAccountSpec::new("syuilo@misskey.example"))
        .remote(RemoteAccountSpec::new("rust@lemmy.example"))
        .remote(RemoteAccountSpec::new("alice@example.com"))
        .remote(RemoteAccountSpec::new("a@new.example"))
        .remote(RemoteAccountSpec::new("hm@hostmeta.example"))
        .remote(RemoteAccountSpec::new("x@huge.example"))
        .remote(RemoteAccountSpec::new("s@slow.example"))
}

async fn finger(server: &FakeServer, client: &Client, host: &str, resource: &str) -> Response {
    client
        .get(server.url(host, "/.well-known/webfinger"))
        .query(&[("resource", resource)])
        .send()
        .await
        .unwrap()
}

fn self_links(jrd: &Value) -> Vec<Value> {
    jrd["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == "self")
        .cloned()
        .collect()
}

#[tokio::test]
async fn webfinger_software_variants() {
    let server = FakeServer::start(webfinger_config());
    let c = server.client();

    let r = finger(&server, &c, "masto.example", "acct:gargron@masto.example").await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("application/jrd+json"));
    let jrd = json(r).await;
    assert_eq!(
        jrd["subject"], "acct:Gargron@masto.example",
        "the stored case"
    );
    assert_eq!(
        jrd["aliases"],
        json!([
            "https://masto.example/@Gargron",
            "https://masto.example/users/Gargron"
        ])
    );
    let selfs = self_links(&jrd);
    assert_eq!(selfs.len(), 1);
    assert_eq!(selfs[0]["type"], "application/activity+json");
    assert!(jrd["links"].as_array().unwrap().iter().any(|l| {
        l["template"]
            .as_str()
            .is_some_and(|t| t.contains("authorize_interaction?uri={uri}"))
    }));
    // Unknown account, missing resource.
    assert_eq!(
        finger(&server, &c, "masto.example", "acct:nobody@masto.example")
            .await
            .status(),
        404
    );
    let r = c
        .get(server.url("masto.example", "/.well-known/webfinger"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Profile URLs are accepted as resources.
    assert_eq!(
        finger(
            &server,
            &c,
            "masto.example",
            "https://masto.example/@Gargron"
        )
        .await
        .status(),
        200
    );

    let jrd = json(
        finger(
            &server,
            &c,
            "pleroma.example",
            "acct:karolat@pleroma.example",
        )
        .await,
    )
    .await;
    let types: Vec<String> = self_links(&jrd)
        .iter()
        .map(|l| l["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "application/activity+json",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
        ]
    );

    let jrd = json(
        finger(
            &server,
            &c,
            "misskey.example",
            "acct:syuilo@misskey.example",
        )
        .await,
    )
    .await;
    let href = self_links(&jrd)[0]["href"].as_str().unwrap().to_string();
    assert!(href.starts_with("https://misskey.example/users/9"));
    assert!(!href.contains("syuilo"), "opaque id: {href}");
    assert!(jrd.get("aliases").is_none());

    let jrd = json(finger(&server, &c, "lemmy.example", "acct:rust@lemmy.example").await).await;
    let kinds: Vec<String> = self_links(&jrd)
        .iter()
        .map(|l| l["properties"]["https://www.w3.org/ns/activitystreams#type"].to_string())
        .collect();
    assert_eq!(kinds, ["\"Person\"", "\"Group\""]);
}

#[tokio::test]
async fn webfinger_split_domain_and_subject_redirects() {
    let server = FakeServer::start(webfinger_config());
    let c = server.client();

    let r = finger(&server, &c, "example.com", "acct:alice@example.com").await;
    assert_eq!(r.status(), 301);
    let location = header(&r, "location");
    assert!(location.starts_with("https://mastodon.example.com/.well-known/webfinger?"));
    let location = location.replace(
        "https://mastodon.example.com/",
        &server.url("mastodon.example.com", "/"),
    );
    let jrd = json(c.get(location).send().await.unwrap()).await;
    assert_eq!(jrd["subject"], "acct:alice@example.com");
    assert_eq!(
        self_links(&jrd)[0]["href"],
        "https://mastodon.example.com/users/alice"
    );
    // The web host also answers for its own domain, with the account domain as subject.
    let jrd = json(
        finger(
            &server,
            &c,
            "mastodon.example.com",
            "acct:alice@mastodon.example.com",
        )
        .await,
    )
    .await;
    assert_eq!(jrd["subject"], "acct:alice@example.com");

    // A subject in another domain; the confirming lookup agrees.
    let jrd = json(finger(&server, &c, "old.example", "acct:a@old.example").await).await;
    assert_eq!(jrd["subject"], "acct:a@new.example");
    let jrd = json(finger(&server, &c, "new.example", "acct:a@new.example").await).await;
    assert_eq!(jrd["subject"], "acct:a@new.example");
}

#[tokio::test]
async fn webfinger_failures() {
    let server = FakeServer::start(webfinger_config());
    let c = server.client();

    assert_eq!(
        finger(&server, &c, "missing.example", "acct:a@missing.example")
            .await
            .status(),
        404
    );
    assert_eq!(
        finger(&server, &c, "gone.example", "acct:a@gone.example")
            .await
            .status(),
        410
    );

    // host-meta fallback: webfinger 404, host-meta names another path that works.
    assert_eq!(
        finger(&server, &c, "hostmeta.example", "acct:hm@hostmeta.example")
            .await
            .status(),
        404
    );
    let xrd = c
        .get(server.url("hostmeta.example", "/.well-known/host-meta"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let template = "https://hostmeta.example/fediverse/webfinger?resource={uri}";
    assert!(xrd.contains(&format!("template=\"{template}\"")), "{xrd}");
    let url = template
        .replace("{uri}", "acct%3Ahm%40hostmeta.example")
        .replace(
            "https://hostmeta.example/",
            &server.url("hostmeta.example", "/"),
        );
    let jrd = json(c.get(url).send().await.unwrap()).await;
    assert_eq!(jrd["subject"], "acct:hm@hostmeta.example");

    let r = finger(&server, &c, "broken.example", "acct:a@broken.example").await;
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).is_err());

    let r = finger(&server, &c, "huge.example", "acct:x@huge.example").await;
    let body = r.bytes().await.unwrap();
    assert!(body.len() >= 5 * 1024 * 1024 - 1024 && body.len() <= 5 * 1024 * 1024);
    let jrd: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(jrd["subject"], "acct:x@huge.example");

    let started = Instant::now();
    let r = finger(&server, &c, "slow.example", "acct:s@slow.example").await;
    assert_eq!(r.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(400));

    let r = finger(&server, &c, "loop.example", "acct:a@loop.example").await;
    assert_eq!(r.status(), 302);
    let next = header(&r, "location");
    assert!(next.starts_with("https://loop.example/.well-known/webfinger?"));
    let r = c
        .get(next.replace("https://loop.example/", &server.url("loop.example", "/")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302, "and again, forever");
    assert!(header(&r, "location").contains("hop=2"));

    let r = finger(&server, &c, "plain.example", "acct:a@plain.example").await;
    assert_eq!(r.status(), 301);
    assert!(header(&r, "location").starts_with("http://plain.example/"));

    // A host that is not served: the TLS handshake is refused.
    let unserved = Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(server.ca_pem().as_bytes()).unwrap())
        .resolve("unserved.example", server.addr())
        .build()
        .unwrap();
    let err = unserved
        .get(server.url(
            "unserved.example",
            "/.well-known/webfinger?resource=acct:a@unserved.example",
        ))
        .send()
        .await;
    assert!(err.is_err());
    assert!(!server.hosts().contains(&"unserved.example".to_string()));
    // A closed port: connection refused.
    let port = FakeServer::closed_port();
    let err = c
        .get(format!(
            "https://masto.example:{port}/.well-known/webfinger"
        ))
        .send()
        .await;
    assert!(err.is_err());

    let st = server.state();
    assert!(
        st.counters
            .requests_to("GET gone.example/.well-known/webfinger")
            == 1
    );
}

#[tokio::test]
async fn hosts_added_later_are_served() {
    let server = FakeServer::start(FakeConfig::default());
    server.add_remote_account("zoe@later.example", false, false, None);
    assert!(server.hosts().contains(&"later.example".to_string()));
    let c = server.client();
    let jrd = json(finger(&server, &c, "later.example", "acct:zoe@later.example").await).await;
    assert_eq!(jrd["subject"], "acct:zoe@later.example");
}
