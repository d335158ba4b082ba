//! App registration and OAuth 2 (Doorkeeper as Mastodon configures it, MASTODON.md §3.2):
//! confidential clients only, exact redirect URI matching, PKCE with S256 only, single-use
//! codes that expire after ten minutes, tokens that never expire.

use axum::http::StatusCode;
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::super::request::{HResult, Params, Resp, unprocessable};
use super::super::state::{App, AuthCode, Token};
use super::Ctx;

pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

const SCOPES: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
];

fn known_scope(s: &str) -> bool {
    SCOPES.contains(&s) || s.starts_with("admin:")
}

fn split_scopes(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn app_json(app: &App, with_secret: bool) -> serde_json::Value {
    let mut v = json!({
        "id": app.id,
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes,
        "redirect_uri": app.redirect_uris.join("\n"),
        "redirect_uris": app.redirect_uris,
        "vapid_key": "BAhxXyHfAoMqrZECjRI56F5QrE4ynVlkZFMdKSpTIsWRNoWUVgut-Bnz2xsMSwiN4AF0b4I7ixF24OwiicOJivw=",
    });
    if with_secret {
        v["client_id"] = json!(app.client_id);
        v["client_secret"] = json!(app.client_secret);
        v["client_secret_expires_at"] = json!(0);
    }
    v
}

/// `POST /api/v1/apps`.
pub fn create_app(ctx: &mut Ctx) -> HResult {
    let p = &ctx.req.params;
    let name = p
        .present("client_name")
        .ok_or_else(|| unprocessable("Validation failed: Application name can't be blank"))?
        .to_string();
    let redirect_uris: Vec<String> = p
        .all("redirect_uris")
        .iter()
        .flat_map(|v| v.split_whitespace())
        .map(str::to_string)
        .collect();
    if redirect_uris.is_empty() {
        return Err(unprocessable(
            "Validation failed: Redirect URI can't be blank",
        ));
    }
    for uri in &redirect_uris {
        let ok = uri == OOB
            || url::Url::parse(uri).is_ok_and(|u| u.fragment().is_none() && u.has_host());
        if !ok {
            return Err(unprocessable(
                "Validation failed: Redirect URI must be an absolute URI.",
            ));
        }
    }
    let scopes = split_scopes(p.present("scopes").unwrap_or("read"));
    if scopes.is_empty() || !scopes.iter().all(|s| known_scope(s)) {
        return Err(unprocessable(
            "Validation failed: Scopes doesn't match configured on the server.",
        ));
    }
    let website = p.present("website").map(str::to_string);
    let id = ctx.st.serial().to_string();
    let app = App {
        id,
        name,
        website,
        redirect_uris,
        scopes,
        client_id: ctx.st.secret(43),
        client_secret: ctx.st.secret(43),
        created_at: ctx.now,
    };
    let body = app_json(&app, true);
    ctx.st.apps.push(app);
    Ok(Resp::ok(body))
}

/// `GET /api/v1/apps/verify_credentials`.
pub fn verify_app(ctx: &mut Ctx) -> HResult {
    let scopes: Vec<&str> = SCOPES.to_vec();
    let auth = ctx.require(&scopes)?;
    let client_id = ctx.st.tokens[auth.token_index].client_id.clone();
    let app = ctx
        .st
        .apps
        .iter()
        .find(|a| a.client_id == client_id)
        .ok_or_else(|| Resp::error(StatusCode::UNAUTHORIZED, "The access token is invalid"))?;
    Ok(Resp::ok(app_json(app, false)))
}

fn html_page(status: StatusCode, title: &str, body: &str) -> Resp {
    Resp::text(
        status,
        "text/html; charset=utf-8",
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} - Mastodon</title></head>\n<body class=\"modal-layout\"><div class=\"form-container\">{body}</div></body></html>\n"
        ),
    )
}

fn error_page(description: &str) -> Resp {
    html_page(
        StatusCode::BAD_REQUEST,
        "An error has occurred",
        &format!(
            "<div class=\"form-container\"><h2>An error has occurred</h2><pre>{description}</pre></div>"
        ),
    )
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", ser.finish())
}

fn redirect_matches(registered: &str, given: &str, loopback_any_port: bool) -> bool {
    if registered == given {
        return true;
    }
    if !loopback_any_port {
        return false;
    }
    // RFC 8252 §7.3: a loopback IP redirect may use any port.
    let (Ok(mut a), Ok(mut b)) = (url::Url::parse(registered), url::Url::parse(given)) else {
        return false;
    };
    let loopback = |u: &url::Url| {
        matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
    };
    if !(loopback(&a) && loopback(&b)) {
        return false;
    }
    let _ = a.set_port(None);
    let _ = b.set_port(None);
    a == b
}

/// `GET /oauth/authorize`: with a logged-in user, approves at once.
pub fn authorize(ctx: &mut Ctx) -> HResult {
    let p = ctx.req.query.clone();
    let Some(app) = p
        .get("client_id")
        .and_then(|id| ctx.st.apps.iter().find(|a| a.client_id == id))
        .cloned()
    else {
        return Ok(error_page(
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
        ));
    };
    let loopback_any_port = ctx.st.config.loopback_any_port;
    let Some(redirect_uri) = p.present("redirect_uri").filter(|given| {
        app.redirect_uris
            .iter()
            .any(|r| redirect_matches(r, given, loopback_any_port))
    }) else {
        return Ok(error_page("The redirect uri included is not valid."));
    };
    let state = p.get("state");
    let fail = |error: &str, description: &str| -> HResult {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = state {
            pairs.push(("state", s));
        }
        Ok(Resp::redirect(
            StatusCode::FOUND,
            &with_query(redirect_uri, &pairs),
        ))
    };
    if p.get("response_type") != Some("code") {
        return fail(
            "unsupported_response_type",
            "The authorization server does not support this response type.",
        );
    }
    let scopes = split_scopes(p.present("scope").unwrap_or("read"));
    if scopes.is_empty() || !scopes.iter().all(|s| app.scopes.contains(s)) {
        return fail(
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed.",
        );
    }
    let challenge = p.present("code_challenge").map(str::to_string);
    if challenge.is_some() && p.get("code_challenge_method") != Some("S256") {
        return fail("invalid_request", "The code challenge method must be S256.");
    }
    let Some(user) = ctx
        .st
        .config
        .logged_in_user
        .clone()
        .and_then(|u| ctx.st.account_id(&u))
    else {
        return Ok(Resp::redirect(
            StatusCode::FOUND,
            &ctx.req.self_url("/auth/sign_in"),
        ));
    };
    let code = ctx.st.secret(43);
    ctx.st.auth_codes.push(AuthCode {
        code: code.clone(),
        client_id: app.client_id.clone(),
        account_id: user,
        redirect_uri: redirect_uri.to_string(),
        scopes,
        code_challenge: challenge,
        used: false,
        expires_at: ctx.now + chrono::Duration::minutes(10),
    });
    if redirect_uri == OOB {
        let location = with_query(
            &ctx.req.self_url("/oauth/authorize/native"),
            &[("code", &code)],
        );
        return Ok(Resp::redirect(StatusCode::FOUND, &location));
    }
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    Ok(Resp::redirect(
        StatusCode::FOUND,
        &with_query(redirect_uri, &pairs),
    ))
}

/// `GET /oauth/authorize/native?code=…`: the page that shows an out-of-band code.
pub fn native(ctx: &mut Ctx) -> HResult {
    let code = ctx.req.query.get("code").unwrap_or_default();
    let escaped: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.~".contains(*c))
        .collect();
    Ok(html_page(
        StatusCode::OK,
        "Authorization code",
        &format!(
            "<h1>Copy this authorization code and paste it to the application.</h1>\n<code id=\"code\">{escaped}</code>\n<input class=\"oauth-code\" readonly type=\"text\" value=\"{escaped}\">"
        ),
    ))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Resp {
    Resp::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
    .header("Cache-Control", "no-store")
}

fn invalid_client() -> Resp {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
    )
}

fn invalid_grant() -> Resp {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
    )
}

/// The client authenticated by HTTP Basic or by `client_id` + `client_secret` parameters.
fn client(ctx: &Ctx, p: &Params) -> Option<App> {
    let basic = ctx.req.header("authorization").and_then(|h| {
        let (scheme, value) = h.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        Some((decode(id), decode(secret)))
    });
    let (id, secret) = basic.or_else(|| {
        Some((
            p.get("client_id")?.to_string(),
            p.get("client_secret")?.to_string(),
        ))
    })?;
    ctx.st
        .apps
        .iter()
        .find(|a| a.client_id == id && a.client_secret == secret)
        .cloned()
}

fn issue(ctx: &mut Ctx, client_id: &str, account_id: Option<String>, scopes: Vec<String>) -> Resp {
    let token = ctx.st.secret(43);
    let id = ctx.st.serial();
    let scope = scopes.join(" ");
    ctx.st.tokens.push(Token {
        id,
        token: token.clone(),
        client_id: client_id.to_string(),
        account_id,
        scopes,
        revoked: false,
        created_at: ctx.now,
    });
    Resp::ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "scope": scope,
        "created_at": ctx.now.timestamp(),
    }))
    .header("Cache-Control", "no-store")
    .header("Pragma", "no-cache")
}

/// `POST /oauth/token`.
pub fn token(ctx: &mut Ctx) -> HResult {
    let p = ctx.req.params.clone();
    let Some(grant_type) = p.present("grant_type") else {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: grant_type.",
        ));
    };
    match grant_type {
        "authorization_code" => {
            let app = client(ctx, &p).ok_or_else(invalid_client)?;
            let Some(code) = p.present("code") else {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Missing required parameter: code.",
                ));
            };
            let now = ctx.now;
            let index = ctx
                .st
                .auth_codes
                .iter()
                .position(|c| {
                    c.code == code && !c.used && c.expires_at > now && c.client_id == app.client_id
                })
                .ok_or_else(invalid_grant)?;
            let grant = ctx.st.auth_codes[index].clone();
            if p.get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
                return Err(invalid_grant());
            }
            if let Some(challenge) = &grant.code_challenge {
                let verifier = p.present("code_verifier").ok_or_else(invalid_grant)?;
                let digest = Sha256::digest(verifier.as_bytes());
                let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
                if &computed != challenge {
                    return Err(invalid_grant());
                }
            }
            ctx.st.auth_codes[index].used = true;
            Ok(issue(
                ctx,
                &app.client_id,
                Some(grant.account_id),
                grant.scopes,
            ))
        }
        "client_credentials" => {
            let app = client(ctx, &p).ok_or_else(invalid_client)?;
            let scopes = split_scopes(p.present("scope").unwrap_or("read"));
            if scopes.is_empty() || !scopes.iter().all(|s| app.scopes.contains(s)) {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "The requested scope is invalid, unknown, or malformed.",
                ));
            }
            Ok(issue(ctx, &app.client_id, None, scopes))
        }
        _ => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        )),
    }
}

/// `POST /oauth/revoke` (RFC 7009): 200 `{}` for unknown tokens too.
pub fn revoke(ctx: &mut Ctx) -> HResult {
    let p = ctx.req.params.clone();
    let app = client(ctx, &p).ok_or_else(invalid_client)?;
    let Some(value) = p.present("token") else {
        return Ok(Resp::ok(json!({})));
    };
    let Some(t) = ctx.st.tokens.iter_mut().find(|t| t.token == value) else {
        return Ok(Resp::ok(json!({})));
    };
    if t.client_id != app.client_id {
        return Err(oauth_error(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            "You are not authorized to revoke this token",
        ));
    }
    t.revoked = true;
    Ok(Resp::ok(json!({})))
}
