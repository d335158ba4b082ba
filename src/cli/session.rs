//! What commands that talk to a server share: the HTTP client from the global options, the
//! target account (`--to`, a single stored account, or `--server` with `--token`), and the
//! mapping of network errors to user errors — above all the 401 that asks for a new login.

use std::net::SocketAddr;

use url::Url;

use crate::net::http::{Http, HttpConfig, HttpError};
use crate::net::mastodon::Mastodon;
use crate::run::tokens::{StoredAccount, TokenError, TokenStore, state_dir};

use super::{CliError, GlobalArgs, exit};

pub fn http(global: &GlobalArgs) -> Result<Http, CliError> {
    let config = HttpConfig {
        ca_certs: global.ca_cert.iter().cloned().collect(),
        resolve: global
            .resolve
            .iter()
            .map(|r| (r.host.clone(), SocketAddr::new(r.addr, r.port)))
            .collect(),
        ..HttpConfig::default()
    };
    let mut http = Http::new(&config).map_err(|e| CliError::new(exit::USAGE, e))?;
    // Handles on the user's own servers are looked up as the server itself is reached, even
    // where it lives on a private network (remote hosts must be public: `Http::for_remote_hosts`).
    for host in own_hosts(global) {
        http = http.trusting(&host);
    }
    Ok(http)
}

/// The hosts of the user's own servers: `--server`, the domain of `--to`, and every stored
/// account's server and domain.
fn own_hosts(global: &GlobalArgs) -> Vec<String> {
    let domain = |account: &str| {
        account
            .trim_start_matches('@')
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
    };
    let mut hosts: Vec<String> = global.to.as_deref().and_then(domain).into_iter().collect();
    let accounts = store(global)
        .ok()
        .and_then(|s| s.list().ok())
        .unwrap_or_default();
    for a in accounts.into_iter().flatten() {
        hosts.extend(domain(&a.account));
        if let Ok(url) = Url::parse(&a.server)
            && let Some(h) = url.host_str()
        {
            hosts.push(h.to_string());
        }
    }
    if let Some(url) = global.server.as_deref().and_then(|s| server_url(s).ok())
        && let Some(h) = url.host_str()
    {
        hosts.push(h.to_string());
    }
    hosts
}

pub fn store(global: &GlobalArgs) -> Result<TokenStore, CliError> {
    let dir = state_dir(global.state_dir.as_deref()).map_err(|e| CliError::new(exit::USAGE, e))?;
    Ok(TokenStore::new(&dir))
}

/// `social.example`, `https://social.example/`, `http://127.0.0.1:3000` → the base URL.
pub fn server_url(input: &str) -> Result<Url, CliError> {
    let input = input.trim();
    let with_scheme = if input.contains("://") {
        input.to_string()
    } else {
        // `@user@host` or `user@host` given where a server is expected: take the host.
        let host = input.rsplit('@').next().unwrap_or(input);
        format!("https://{host}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| {
        CliError::new(
            exit::USAGE,
            anyhow::Error::new(e).context(format!("`{input}` is not a server address")),
        )
    })?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(CliError::new(
            exit::USAGE,
            anyhow::anyhow!("`{input}` is not a server address"),
        ));
    }
    if !crate::net::http::url_allowed(&url) {
        return Err(CliError::new(
            exit::USAGE,
            anyhow::anyhow!(
                "`{input}` uses plain http://, which is only allowed for loopback addresses"
            ),
        )
        .with_hint(Some("use https://".into())));
    }
    url.set_path("/");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// The account the command acts for.
pub enum Target {
    Stored(StoredAccount),
    /// `--server` with `--token`: used as given, never stored.
    Explicit {
        server: Url,
        token: String,
    },
}

impl Target {
    pub fn client(&self, http: Http) -> Result<Mastodon, CliError> {
        Ok(match self {
            Target::Stored(a) => {
                Mastodon::new(http, server_url(&a.server)?, Some(a.token().to_string()))
            }
            Target::Explicit { server, token } => {
                Mastodon::new(http, server.clone(), Some(token.clone()))
            }
        })
    }

    /// How the account is named in messages and in the login hint.
    pub fn describe(&self) -> String {
        match self {
            Target::Stored(a) => a.account.clone(),
            Target::Explicit { server, .. } => {
                format!(
                    "{} (from --server/--token)",
                    server.host_str().unwrap_or("")
                )
            }
        }
    }

    pub fn login_hint(&self) -> String {
        match self {
            Target::Stored(a) => format!(
                "run `migrate login {}`",
                Url::parse(&a.server)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_else(|| a.server.clone())
            ),
            Target::Explicit { server, .. } => format!(
                "check MIGRATE_TOKEN / --token, or run `migrate login {}`",
                server.host_str().unwrap_or("")
            ),
        }
    }
}

/// Picks the target: `--server` + `--token`, else `--to`, else the only stored account.
pub fn target(global: &GlobalArgs) -> Result<Target, CliError> {
    if let Some(server) = &global.server {
        let Some(token) = &global.token else {
            return Err(
                CliError::new(exit::USAGE, anyhow::anyhow!("--server needs a token")).with_hint(
                    Some("set MIGRATE_TOKEN (or pass --token), or run `migrate login`".into()),
                ),
            );
        };
        return Ok(Target::Explicit {
            server: server_url(server)?,
            token: token.expose().to_string(),
        });
    }
    let store = store(global)?;
    if let Some(to) = &global.to {
        let wanted = to.trim_start_matches('@');
        return store
            .load(wanted)
            .map(Target::Stored)
            .map_err(|e| token_error(e, Some(wanted)));
    }
    let accounts: Vec<StoredAccount> = store
        .list()
        .map_err(|e| token_error(e, None))?
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| token_error(e, None))?;
    match accounts.len() {
        1 => Ok(Target::Stored(accounts.into_iter().next().expect("one"))),
        0 => Err(
            CliError::new(exit::USAGE, anyhow::anyhow!("no account is logged in")).with_hint(Some(
                "run `migrate login <server>`, or pass --server with MIGRATE_TOKEN".into(),
            )),
        ),
        _ => Err(CliError::new(
            exit::USAGE,
            anyhow::anyhow!(
                "{} accounts are logged in: {}",
                accounts.len(),
                accounts
                    .iter()
                    .map(|a| a.account.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .with_hint(Some("pick one with --to user@server".into()))),
    }
}

pub fn token_error(e: TokenError, account: Option<&str>) -> CliError {
    let hint = match &e {
        TokenError::TooOpen { path, .. } => Some(format!(
            "run `chmod 600 {}` if only you can read it, or `migrate logout` and log in again",
            path.display()
        )),
        TokenError::NotFound(_) => Some(
            account
                .map(|a| {
                    format!(
                        "run `migrate accounts` to list them, or `migrate login {}`",
                        a.rsplit('@').next().unwrap_or(a)
                    )
                })
                .unwrap_or_else(|| "run `migrate accounts` to list them".into()),
        ),
        TokenError::NoStateDir => Some("pass --state-dir or set MIGRATE_HOME".into()),
        _ => None,
    };
    CliError::new(exit::USAGE, e).with_hint(hint)
}

/// Maps a network error while acting for `target`: a 401 becomes "the token was rejected".
pub fn net_error(e: HttpError, target: &Target) -> CliError {
    match e {
        HttpError::Unauthorized { .. } => CliError::new(
            exit::FAILED,
            anyhow::Error::new(e)
                .context(format!("the token for {} was rejected", target.describe())),
        )
        .with_hint(Some(target.login_hint())),
        HttpError::Setup { .. } => CliError::new(exit::USAGE, e),
        other => {
            let hint = network_hint(&other);
            CliError::new(exit::FAILED, other).with_hint(hint)
        }
    }
}

/// A hint for errors that have a usual cause.
pub fn network_hint(e: &HttpError) -> Option<String> {
    match e {
        HttpError::Network { source, .. } => {
            let text = format!("{:#}", anyhow::Error::msg(source.to_string()));
            let chain = {
                let mut s = String::new();
                let mut cur: Option<&dyn std::error::Error> = Some(source);
                while let Some(c) = cur {
                    s.push_str(&c.to_string());
                    s.push(' ');
                    cur = c.source();
                }
                s
            };
            if chain.contains("certificate")
                || chain.contains("UnknownIssuer")
                || text.contains("certificate")
            {
                Some("the server's certificate is not trusted; for a private CA pass its certificate with --ca-cert".into())
            } else {
                Some(
                    "check the server address and your connection, then run the command again"
                        .into(),
                )
            }
        }
        HttpError::Insecure { .. } => Some("use https://".into()),
        _ => None,
    }
}

/// Calls `f` again after a transient failure (a server error, a network failure, a 429: then
/// after the window's reset, at most a minute later), up to five tries with growing waits. For
/// the calls a command makes before its run's rate gates exist (they are keyed by the account
/// those calls name).
pub async fn with_retries<T, F, Fut>(mut f: F) -> Result<T, HttpError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, HttpError>>,
{
    let mut delay = std::time::Duration::from_secs(1);
    let mut tries = 0;
    loop {
        tries += 1;
        match f().await {
            Err(e) if e.is_transient() && tries < 5 => {
                let wait = match &e {
                    HttpError::RateLimited {
                        rate_limit: Some(rl),
                        ..
                    } => rl
                        .reset
                        .and_then(|r| (r - chrono::Utc::now()).to_std().ok())
                        .unwrap_or(delay),
                    _ => delay,
                };
                tokio::time::sleep(wait.min(std::time::Duration::from_secs(60))).await;
                delay *= 2;
            }
            other => return other,
        }
    }
}
