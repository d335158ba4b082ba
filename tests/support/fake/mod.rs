//! A fake Mastodon server and fake remote WebFinger hosts, in-process, over real TLS.
//!
//! It models Mastodon as `../shared/MASTODON.md` describes, not what is convenient for a
//! client: rack-attack throttles and the follows/statuses families with their headers,
//! optimistic follow answers, fuzzy search, lookup that never does WebFinger, asynchronous
//! media, idempotency keys, Mastodon's length count, OAuth with PKCE, and faults injected from a
//! seed (including a request processed whose response is lost). Hostile servers too: answers
//! that are garbled, huge or endless, rate-limit resets long past or years ahead, statuses that
//! vanish after their id was given out, dropped connections, and WebFinger hosts that drip,
//! flood, redirect anywhere, claim other domains' accounts or point at actors elsewhere.
//!
//! ```ignore
//! let server = FakeServer::start(FakeConfig::default());
//! let token = server.issue_token("alice", "read write follow");
//! // migrate --server https://social.example --resolve <server.resolve_arg("social.example")>
//! //         --ca-cert <server.ca_pem_path()> --token <token> …
//! ```
//!
//! Many host names share one port; the Host header (and SNI) picks the home server or a remote
//! host. A host that is not served is refused during the TLS handshake; for a closed port use
//! `FakeServer::closed_port()`. Time runs at `time_scale` times real time; `advance` jumps it.
//! Real-time waits (slow hosts, injected latency) are not scaled.

#![allow(dead_code, unused_imports)]

mod api;
mod clock;
mod config;
mod entities;
mod ratelimit;
mod request;
mod rng;
mod server;
mod state;
mod text;
mod tls;
mod webfinger;

pub use config::{
    ConnectionFault, EndpointClass, FakeConfig, FaultKind, FaultPlan, FaultRule, Limit,
    LocalAccountSpec, MediaProcessing, RateLimits, RemoteAccountSpec, WebfingerBehavior,
};
pub use state::{
    Account, App, AuthCode, Block, Bookmark, Counters, DomainBlock, FaultCounters, Follow, List,
    Media, MediaKind, Mute, RemoteAccount, RemoteStatus, ScheduledStatus, State, Status, Token,
};
pub use text::status_length;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use clock::Clock;
use server::Shared;

/// A running fake server; stops when dropped.
pub struct FakeServer {
    shared: Arc<Shared>,
    port: u16,
    ca_pem: String,
    ca_file: tempfile::NamedTempFile,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("port", &self.port)
            .finish()
    }
}

fn add_local(st: &mut State, spec: &LocalAccountSpec, now: DateTime<Utc>) -> String {
    if let Some(id) = st
        .accounts
        .iter()
        .find(|a| a.is_local() && a.username.eq_ignore_ascii_case(&spec.username))
        .map(|a| a.id.clone())
    {
        return id;
    }
    let id = st.snowflake(now);
    let home = st.config.home_host.clone();
    st.accounts.push(Account {
        id: id.clone(),
        username: spec.username.clone(),
        domain: None,
        acct: spec.username.clone(),
        display_name: spec.display_name.clone(),
        locked: spec.locked,
        bot: spec.bot,
        group: false,
        discoverable: spec.discoverable,
        moved_to: None,
        suspended: false,
        followers_count: spec.followers_count,
        created_at: now,
        decoy: false,
        last_webfingered_at: None,
        uri: format!("https://{home}/users/{}", spec.username),
        url: format!("https://{home}/@{}", spec.username),
    });
    id
}

fn remote_from_spec(spec: &RemoteAccountSpec) -> RemoteAccount {
    RemoteAccount {
        acct: spec.acct.trim_start_matches('@').to_string(),
        locked: spec.locked,
        moved_to: spec.moved_to.clone(),
        display_name: spec.display_name.clone(),
        bot: spec.bot,
        discoverable: spec.discoverable,
    }
}

fn add_remote(st: &mut State, spec: &RemoteAccountSpec, now: DateTime<Utc>) -> Option<String> {
    let remote = remote_from_spec(spec);
    assert!(
        remote.acct.contains('@'),
        "a remote account is user@host, got `{}`",
        remote.acct
    );
    st.remote_accounts
        .retain(|a| !a.acct.eq_ignore_ascii_case(&remote.acct));
    st.remote_accounts.push(remote.clone());
    if let Some(target) = &remote.moved_to {
        if !st
            .remote_accounts
            .iter()
            .any(|a| a.acct.eq_ignore_ascii_case(target))
        {
            st.remote_accounts
                .push(remote_from_spec(&RemoteAccountSpec::new(target)));
        }
    }
    spec.known_to_server
        .then(|| webfinger::learn_remote(st, &remote, false, now))
}

impl FakeServer {
    /// Starts the server on 127.0.0.1 with a fresh test CA.
    pub fn start(config: FakeConfig) -> FakeServer {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let clock = Clock::new(
            config.start_time.unwrap_or_else(Utc::now),
            config.time_scale,
        );
        let mut state = State::new(config);
        let now = clock.now();
        for spec in state.config.local_accounts.clone() {
            add_local(&mut state, &spec, now);
        }
        for spec in state.config.remote_accounts.clone() {
            add_remote(&mut state, &spec, now);
        }
        let served = Arc::new(RwLock::new(webfinger::served_hosts(&state)));
        let ca = tls::TestCa::generate();
        let ca_pem = ca.cert_pem.clone();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let resolver = tls::CertResolver::new(ca, provider, served.clone());
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls::server_config(resolver)));
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            clock,
            served,
            connections: std::sync::atomic::AtomicU64::new(0),
        });

        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fake-server".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("fake server runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind 127.0.0.1:0");
                    let port = listener.local_addr().expect("local addr").port();
                    port_tx.send(port).expect("report port");
                    server::run(listener, acceptor, thread_shared, shutdown_rx).await;
                });
                rt.shutdown_timeout(Duration::from_millis(500));
            })
            .expect("spawn fake server thread");
        let port = port_rx.recv().expect("fake server started");

        let mut ca_file = tempfile::Builder::new()
            .prefix("fake-mastodon-ca-")
            .suffix(".pem")
            .tempfile()
            .expect("temp file for the CA");
        std::io::Write::write_all(&mut ca_file, ca_pem.as_bytes()).expect("write CA PEM");
        FakeServer {
            shared,
            port,
            ca_pem,
            ca_file,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The test CA's certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The test CA's certificate in a temporary file (for `--ca-cert`).
    pub fn ca_pem_path(&self) -> &Path {
        self.ca_file.path()
    }

    pub fn home_host(&self) -> String {
        self.shared.lock().config.home_host.clone()
    }

    /// `host:PORT:127.0.0.1`, the value of `--resolve` for `host`.
    pub fn resolve_arg(&self, host: &str) -> String {
        format!("{host}:{}:127.0.0.1", self.port)
    }

    /// Every host name served now (home first).
    pub fn hosts(&self) -> Vec<String> {
        let home = self.home_host();
        let mut hosts = vec![home.clone()];
        hosts.extend(
            self.shared
                .served
                .read()
                .unwrap()
                .iter()
                .filter(|h| **h != home)
                .cloned(),
        );
        hosts
    }

    /// `https://social.example:PORT` (the home server with an explicit port).
    pub fn base_url(&self) -> String {
        format!("https://{}:{}", self.home_host(), self.port)
    }

    /// `https://host:PORT/path`.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.port)
    }

    /// `https://host/path` (no port: pair it with `--resolve host:PORT:127.0.0.1`).
    pub fn url_default_port(&self, host: &str, path: &str) -> String {
        format!("https://{host}{path}")
    }

    pub fn home_url(&self, path: &str) -> String {
        self.url(&self.home_host(), path)
    }

    /// A port on 127.0.0.1 where nothing listens (for "connection refused" cases).
    pub fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    }

    /// A reqwest client that trusts the test CA, resolves every served host name to this
    /// server, and does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).expect("CA PEM"),
            )
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10));
        for host in self.hosts() {
            builder = builder.resolve(&host, self.addr());
        }
        builder.build().expect("reqwest client")
    }

    /// A snapshot of everything the server knows.
    pub fn state(&self) -> State {
        self.shared.lock().clone()
    }

    /// Reads or changes the state directly (test setup).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let r = f(&mut self.shared.lock());
        self.sync_hosts();
        r
    }

    pub fn update_config(&self, f: impl FnOnce(&mut FakeConfig)) {
        self.with_state(|st| f(&mut st.config));
    }

    fn sync_hosts(&self) {
        let hosts = webfinger::served_hosts(&self.shared.lock());
        *self.shared.served.write().unwrap() = hosts;
    }

    /// The fake clock's reading.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// Jumps the fake clock forward.
    pub fn advance(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// How long `fake` fake time lasts in real time.
    pub fn real_duration(&self, fake: Duration) -> Duration {
        self.shared.clock.real_duration(fake)
    }

    pub fn add_local_account(&self, username: &str) -> String {
        self.add_local_account_with(LocalAccountSpec::new(username))
    }

    pub fn add_local_account_with(&self, spec: LocalAccountSpec) -> String {
        let now = self.now();
        self.with_state(|st| add_local(st, &spec, now))
    }

    /// An account on a remote host (the host is served as Mastodon unless configured
    /// otherwise). Returns its id on the home server when `known_to_server`.
    pub fn add_remote_account(
        &self,
        acct: &str,
        known_to_server: bool,
        locked: bool,
        moved_to: Option<&str>,
    ) -> Option<String> {
        let mut spec = RemoteAccountSpec::new(acct);
        spec.known_to_server = known_to_server;
        spec.locked = locked;
        spec.moved_to = moved_to.map(str::to_string);
        self.add_remote(spec)
    }

    pub fn add_remote(&self, spec: RemoteAccountSpec) -> Option<String> {
        let now = self.now();
        self.with_state(|st| add_remote(st, &spec, now))
    }

    /// A status on a remote host that search (`type=statuses`, `resolve=true`) finds by URL.
    pub fn add_remote_status(&self, author_acct: &str, url: &str, text: &str) {
        self.with_state(|st| {
            st.remote_statuses.push(RemoteStatus {
                url: url.to_string(),
                author_acct: author_acct.to_string(),
                text: text.to_string(),
            })
        });
    }

    pub fn set_webfinger_host(&self, host: &str, behavior: WebfingerBehavior) {
        self.update_config(|c| {
            c.webfinger_hosts
                .insert(host.to_ascii_lowercase(), behavior);
        });
    }

    /// A user token for a local account (an app "migrate tests" is created for it).
    pub fn issue_token(&self, acct: &str, scopes: &str) -> String {
        let now = self.now();
        self.with_state(|st| {
            let account_id = st
                .account_id(acct)
                .unwrap_or_else(|| panic!("no local account `{acct}`"));
            let client_id = match st.apps.iter().find(|a| a.name == "migrate tests") {
                Some(app) => app.client_id.clone(),
                None => {
                    let app = App {
                        id: st.serial().to_string(),
                        name: "migrate tests".into(),
                        website: None,
                        redirect_uris: vec!["urn:ietf:wg:oauth:2.0:oob".into()],
                        scopes: vec!["read".into(), "write".into(), "follow".into()],
                        client_id: st.secret(43),
                        client_secret: st.secret(43),
                        created_at: now,
                    };
                    let id = app.client_id.clone();
                    st.apps.push(app);
                    id
                }
            };
            let token = st.secret(43);
            let id = st.serial();
            st.tokens.push(Token {
                id,
                token: token.clone(),
                client_id,
                account_id: Some(account_id),
                scopes: scopes.split_whitespace().map(str::to_string).collect(),
                revoked: false,
                created_at: now,
            });
            token
        })
    }

    /// Replaces the fault plan (its random streams restart from the seed).
    pub fn set_fault_plan(&self, plan: FaultPlan) {
        self.with_state(|st| {
            st.config.faults = plan;
            st.reset_fault_rules();
        });
    }

    /// The local user the browser is "logged in" as for `/oauth/authorize`.
    pub fn set_logged_in_user(&self, acct: &str) {
        self.update_config(|c| c.logged_in_user = Some(acct.to_string()));
    }

    pub fn log_out(&self) {
        self.update_config(|c| c.logged_in_user = None);
    }

    /// Remote hosts send their Accept: every pending follow of an unlocked remote account
    /// becomes a follow. Returns how many.
    pub fn accept_pending_follows(&self) -> usize {
        self.with_state(|st| {
            let unlocked: Vec<String> = st
                .accounts
                .iter()
                .filter(|a| !a.locked)
                .map(|a| a.id.clone())
                .collect();
            let mut n = 0;
            for f in st.follows.iter_mut() {
                if f.pending && unlocked.contains(&f.target_id) {
                    f.pending = false;
                    n += 1;
                }
            }
            n
        })
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
