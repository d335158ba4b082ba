//! `migrate login`, `migrate logout`, `migrate accounts`.
//!
//! Login is OAuth 2 authorization code with PKCE (S256) and a checked `state`: by default the
//! browser is sent back to a listener on 127.0.0.1 at an ephemeral port registered exactly for
//! this login; with `--no-browser` the server shows the code and the user pastes it. The token
//! is verified, then stored (0600) under `user@server`. Nothing here prints a token.

use std::io::{BufRead, Write};
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use crate::net::http::HttpError;
use crate::net::mastodon::{Mastodon, OOB_REDIRECT, SCOPES};
use crate::net::oauth::{Callback, LoopbackListener, Pkce, random_token};
use crate::run::tokens::StoredAccount;

use super::session::{self, Target, net_error, network_hint, token_error};
use super::{CliError, GlobalArgs, exit, write_stdout};

/// How long the loopback listener waits for the browser.
const LOGIN_WAIT: Duration = Duration::from_secs(600);

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server to log in to: `mastodon.social`, or a URL
    pub server: String,

    /// Print the authorization URL and read the code from standard input, instead of opening
    /// a browser and listening on 127.0.0.1 for the redirect
    #[arg(long)]
    pub no_browser: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The account to log out (`user@server`); the only stored account by default
    pub account: Option<String>,
}

#[derive(Debug, Args)]
pub struct AccountsArgs {}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(exit::FAILED, e))
}

fn server_error(e: HttpError, server: &url::Url) -> CliError {
    let hint = network_hint(&e);
    CliError::new(
        exit::FAILED,
        anyhow::Error::new(e).context(format!(
            "could not log in to `{}`",
            server.host_str().unwrap_or("")
        )),
    )
    .with_hint(hint)
}

pub fn login(global: &GlobalArgs, args: LoginArgs) -> Result<u8, CliError> {
    let server = session::server_url(&args.server)?;
    let http = session::http(global)?;
    let store = session::store(global)?;
    let client = Mastodon::new(http.clone(), server.clone(), None);
    let rt = runtime()?;
    rt.block_on(async {
        let pkce = Pkce::new();
        let state = random_token(24);
        let (app, code, redirect_uri) = if args.no_browser {
            let app = client
                .register_app(OOB_REDIRECT)
                .await
                .map_err(|e| server_error(e, &server))?;
            let url = client.authorize_url(&app, OOB_REDIRECT, &state, &pkce.challenge);
            eprintln!("Open this address in a browser, log in, and authorize migrate:\n\n  {url}\n");
            eprint!("Then paste the code the server shows: ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| CliError::new(exit::FAILED, e))?;
            let code = line.trim().to_string();
            if code.is_empty() {
                return Err(CliError::new(exit::USAGE, anyhow::anyhow!("no code was entered"))
                    .with_hint(Some("run `migrate login` again and paste the code".into())));
            }
            (app, code, OOB_REDIRECT.to_string())
        } else {
            let listener = LoopbackListener::bind()
                .await
                .map_err(|e| CliError::new(exit::FAILED, e))?;
            let redirect_uri = listener.redirect_uri();
            let app = client
                .register_app(&redirect_uri)
                .await
                .map_err(|e| server_error(e, &server))?;
            let url = client.authorize_url(&app, &redirect_uri, &state, &pkce.challenge);
            eprintln!(
                "Opening your browser to authorize migrate. If it does not open, visit:\n\n  {url}\n"
            );
            open_browser(url.as_str());
            eprintln!("Waiting for the authorization (Ctrl-C to stop)…");
            let callback = tokio::time::timeout(LOGIN_WAIT, listener.receive())
                .await
                .map_err(|_| {
                    CliError::new(exit::STOPPED, anyhow::anyhow!("no authorization arrived within {} minutes", LOGIN_WAIT.as_secs() / 60))
                        .with_hint(Some("run `migrate login` again, or use --no-browser".into()))
                })?
                .map_err(|e| CliError::new(exit::FAILED, e))?;
            match callback {
                Callback::Code { code, state: got } => {
                    if got != state {
                        return Err(CliError::new(
                            exit::FAILED,
                            anyhow::anyhow!("the authorization answer carried the wrong `state`; it was not used"),
                        )
                        .with_hint(Some("run `migrate login` again; if this repeats, something else is answering on your machine".into())));
                    }
                    (app, code, redirect_uri)
                }
                Callback::Denied { error, description } => {
                    return Err(CliError::new(
                        exit::FAILED,
                        anyhow::anyhow!(
                            "the server did not authorize migrate: {}",
                            description.unwrap_or(error)
                        ),
                    ));
                }
            }
        };
        let token = client
            .token_from_code(&app, &code, &redirect_uri, &pkce.verifier)
            .await
            .map_err(|e| server_error(e, &server))?;
        let authed = Mastodon::new(http, server.clone(), Some(token.access_token.clone()));
        let me = authed
            .verify_credentials()
            .await
            .map_err(|e| server_error(e, &server))?;
        let domain = match authed.instance().await {
            Ok(i) if !i.domain.is_empty() => i.domain,
            _ => server.host_str().unwrap_or_default().to_string(),
        };
        let account = format!("{}@{}", me.username, domain);
        let stored = StoredAccount::new(
            account.clone(),
            server.as_str().trim_end_matches('/').to_string(),
            me.id.clone(),
            token.access_token,
            app.client_id,
            app.client_secret,
            if token.scope.is_empty() { SCOPES.to_string() } else { token.scope },
        );
        let path = store.save(&stored).map_err(|e| token_error(e, None))?;
        if global.json {
            let line = serde_json::json!({"event": "logged_in", "account": account, "server": stored.server, "account_id": stored.account_id});
            write_stdout(&format!("{line}\n"))?;
        } else if !global.quiet {
            write_stdout(&format!(
                "Logged in as @{account}. The token is stored in {}.\n",
                path.display()
            ))?;
        }
        Ok(exit::OK)
    })
}

/// Opens the URL in the user's browser: `$BROWSER`, else the platform's opener. Failure is
/// fine: the URL was printed.
fn open_browser(url: &str) {
    let spawn = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
    };
    if let Ok(browser) = std::env::var("BROWSER")
        && !browser.trim().is_empty()
    {
        if browser.trim() == "none" {
            return;
        }
        if spawn(browser.trim(), &[url]) {
            return;
        }
    }
    if cfg!(target_os = "macos") {
        spawn("open", &[url]);
    } else if cfg!(windows) {
        spawn("cmd", &["/C", "start", "", url]);
    } else {
        spawn("xdg-open", &[url]);
    }
}

#[derive(Serialize)]
struct AccountLine {
    account: String,
    server: String,
    account_id: String,
    stored_at: String,
    problem: Option<String>,
}

pub fn accounts(global: &GlobalArgs, _args: AccountsArgs) -> Result<u8, CliError> {
    // With --server/--token: say whose the token is, without storing it.
    if global.server.is_some() || global.token.is_some() {
        let target = session::target(global)?;
        let client = target.client(session::http(global)?)?;
        let rt = runtime()?;
        let me = rt
            .block_on(client.verify_credentials())
            .map_err(|e| net_error(e, &target))?;
        let host = client.base().host_str().unwrap_or_default().to_string();
        if global.json {
            let line = serde_json::json!({"account": format!("{}@{}", me.username, host), "account_id": me.id, "server": client.base().as_str().trim_end_matches('/'), "stored": false});
            write_stdout(&format!("{line}\n"))?;
        } else {
            write_stdout(&format!(
                "The token belongs to @{}@{host} (id {}). It was not stored.\n",
                me.username, me.id
            ))?;
        }
        return Ok(exit::OK);
    }
    let store = session::store(global)?;
    let lines: Vec<AccountLine> = store
        .list()
        .map_err(|e| token_error(e, None))?
        .into_iter()
        .map(|r| match r {
            Ok(a) => AccountLine {
                account: a.account.clone(),
                server: a.server.clone(),
                account_id: a.account_id.clone(),
                stored_at: a.created_at.clone(),
                problem: None,
            },
            Err(e) => AccountLine {
                account: String::new(),
                server: String::new(),
                account_id: String::new(),
                stored_at: String::new(),
                problem: Some(e.to_string()),
            },
        })
        .collect();
    if global.json {
        let mut out = String::new();
        for l in &lines {
            out.push_str(&serde_json::to_string(l).expect("serializable"));
            out.push('\n');
        }
        write_stdout(&out)?;
    } else if lines.is_empty() {
        write_stdout("No accounts are logged in. Run `migrate login <server>`.\n")?;
    } else {
        let mut out = String::new();
        for l in &lines {
            match &l.problem {
                None => out.push_str(&format!(
                    "@{:<40} {}  (since {})\n",
                    l.account, l.server, l.stored_at
                )),
                Some(p) => out.push_str(&format!("(unusable) {p}\n")),
            }
        }
        write_stdout(&out)?;
    }
    Ok(exit::OK)
}

pub fn logout(global: &GlobalArgs, args: LogoutArgs) -> Result<u8, CliError> {
    let store = session::store(global)?;
    let account = match args.account.or_else(|| global.to.clone()) {
        Some(a) => store
            .load(a.trim_start_matches('@'))
            .map_err(|e| token_error(e, Some(&a)))?,
        None => match session::target(global)? {
            Target::Stored(a) => a,
            Target::Explicit { .. } => {
                return Err(CliError::new(
                    exit::USAGE,
                    anyhow::anyhow!(
                        "logout forgets a stored account; --server/--token are not stored"
                    ),
                ));
            }
        },
    };
    let server = session::server_url(&account.server)?;
    let client = Mastodon::new(session::http(global)?, server, None);
    let rt = runtime()?;
    let revoked =
        rt.block_on(client.revoke(&account.client_id, account.client_secret(), account.token()));
    store
        .delete(&account.account)
        .map_err(|e| token_error(e, Some(&account.account)))?;
    match revoked {
        Ok(()) => {
            if global.json {
                let line = serde_json::json!({"event": "logged_out", "account": account.account, "revoked": true});
                write_stdout(&format!("{line}\n"))?;
            } else if !global.quiet {
                write_stdout(&format!(
                    "Logged out @{}: the token was revoked on the server and deleted here.\n",
                    account.account
                ))?;
            }
            Ok(exit::OK)
        }
        Err(e) => Err(CliError::new(
            exit::FAILED,
            anyhow::Error::new(e).context(format!(
                "the token of @{} was deleted here, but the server did not confirm revoking it",
                account.account
            )),
        )
        .with_hint(Some(
            "revoke it in the server's web interface: Preferences → Account → Authorized apps"
                .into(),
        ))),
    }
}
