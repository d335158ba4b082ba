//! The one funnel every request goes through.
//!
//! [`Http`] applies, for every call: the trusted roots (`--ca-cert` on top of the system's),
//! pinned hosts (`--resolve`), the refusal of `http://` except on loopback (and redirects: at
//! most [`MAX_REDIRECTS`], never from `https:` to anything else), timeouts, a response-size cap
//! per kind of call ([`Cap`]; error bodies are only skimmed for their message), the user
//! agent, the bearer token and an `Idempotency-Key`. It reads the rate-limit headers of
//! every answer ([`RateLimit`]) and the `Link` header ([`Links`]), and maps failures to
//! [`HttpError`]s a caller can branch on — including whether a request that failed in flight
//! may have been processed by the server, which is what exactly-once posting hinges on.
//!
//! Tokens are only ever placed in the `Authorization` header; no error or `Debug` output of
//! this module contains one.
//!
//! Requests to remote hosts (WebFinger, host-meta: [`Http::for_remote_hosts`]) reach public
//! addresses only, as Mastodon's own lookups do: a host name that resolves only to this machine,
//! a private network, link-local (cloud metadata) or reserved addresses, and a redirect to such
//! an address, are refused — a remote server cannot turn migrate against the services around
//! it. Hosts pinned with `--resolve` are the user's choice and are exempt. The target server is
//! the user's own choice too, and may live on a private network.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

/// Redirects followed per request, never to `http:` (except within loopback).
pub const MAX_REDIRECTS: usize = 3;

/// The most read of an error answer's body (for its `error` message).
const ERROR_BODY_CAP: usize = 64 * 1024;

/// What kind of answer is expected, which decides how large it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// Mastodon API answers: a page of 80 accounts is ~200 KB.
    Json,
    /// WebFinger and host-meta documents: a few KB in practice.
    WebFinger,
    /// NodeInfo and other discovery documents.
    Discovery,
}

impl Cap {
    pub fn bytes(self) -> usize {
        match self {
            Cap::Json => 8 * 1024 * 1024,
            Cap::WebFinger => 64 * 1024,
            Cap::Discovery => 256 * 1024,
        }
    }
}

/// How the client is set up; from the global options.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// PEM files with extra trusted roots.
    pub ca_certs: Vec<PathBuf>,
    /// Host name → address (a port of 0 means the scheme's default).
    pub resolve: Vec<(String, SocketAddr)>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            ca_certs: Vec::new(),
            resolve: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// The rate-limit headers of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u64,
    pub remaining: u64,
    pub reset: Option<DateTime<Utc>>,
}

/// The `rel="next"` and `rel="prev"` targets of a `Link` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    pub next: Option<Url>,
    pub prev: Option<Url>,
}

/// A successful answer, body read (within its cap).
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub url: Url,
    pub rate_limit: Option<RateLimit>,
    pub links: Links,
    pub body: Vec<u8>,
}

impl Response {
    /// Decodes the body as JSON; an undecodable body is [`HttpError::Garbled`].
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| HttpError::Garbled {
            url: redact(&self.url),
            status: self.status.as_u16(),
            message: format!("the answer is not the expected JSON: {e}"),
        })
    }
}

/// Why a network failure happened, as far as the client can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkKind {
    /// No connection was made (refused, DNS, TLS handshake): nothing reached the server.
    Connect,
    /// No answer in time.
    Timeout,
    /// The connection broke while sending or receiving.
    Reset,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("`{url}` refused the token (401): {message}")]
    Unauthorized { url: String, message: String },
    #[error("`{url}` refused the action (403): {message}")]
    Forbidden { url: String, message: String },
    #[error("`{url}` was not found (404): {message}")]
    NotFound { url: String, message: String },
    #[error("`{url}` is gone (410): {message}")]
    Gone { url: String, message: String },
    #[error("`{url}` refused the request (422): {message}")]
    Unprocessable { url: String, message: String },
    #[error("`{url}` is rate limited (429){}", reset_text(.rate_limit))]
    RateLimited {
        url: String,
        rate_limit: Option<RateLimit>,
    },
    #[error("`{url}` had a server error ({status}): {message}")]
    Server {
        url: String,
        status: u16,
        message: String,
    },
    #[error("`{url}` answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("could not reach `{url}` ({}){}", kind_text(*.kind), if *.maybe_processed { "; the server may have processed the request" } else { "" })]
    Network {
        url: String,
        kind: NetworkKind,
        /// Whether the request may have reached the server and been acted on.
        maybe_processed: bool,
        #[source]
        source: reqwest::Error,
    },
    #[error("the answer from `{url}` is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("the answer from `{url}` is invalid: {message}")]
    Invalid { url: String, message: String },
    /// A remote host's name (or a redirect) led to an address that is not public.
    #[error(
        "refused `{url}`: {address} is on this machine or a private network, which is never contacted for a remote server"
    )]
    NotPublic {
        url: String,
        /// The address, after the name that led to it (`localhost (127.0.0.1)`) where a
        /// name did.
        address: String,
    },
    /// A success status whose body cannot be read (a proxy's HTML page, a truncated answer):
    /// the request may or may not have been acted on.
    #[error("the answer from `{url}` ({status}) could not be read: {message}")]
    Garbled {
        url: String,
        status: u16,
        message: String,
    },
    #[error("`{url}` uses plain http://, which is only allowed for loopback addresses")]
    Insecure { url: String },
    #[error("could not set up HTTPS")]
    Setup {
        #[source]
        source: anyhow::Error,
    },
}

fn reset_text(r: &Option<RateLimit>) -> String {
    match r.and_then(|r| r.reset) {
        Some(reset) => format!(" until {}", reset.to_rfc3339()),
        None => String::new(),
    }
}

fn kind_text(kind: NetworkKind) -> &'static str {
    match kind {
        NetworkKind::Connect => "connection failed",
        NetworkKind::Timeout => "timed out",
        NetworkKind::Reset => "connection broken",
    }
}

impl HttpError {
    /// Whether trying again later may succeed (5xx, network, rate limit, a garbled answer).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            HttpError::Server { .. }
                | HttpError::Network { .. }
                | HttpError::RateLimited { .. }
                | HttpError::Garbled { .. }
        )
    }

    /// Whether the request may have been acted on although no answer says so: the connection
    /// failed after it was sent, a gateway answered 502/504 for a server that may have done
    /// the work, or a success came with a body that cannot be read.
    pub fn maybe_processed(&self) -> bool {
        match self {
            HttpError::Network {
                maybe_processed, ..
            } => *maybe_processed,
            HttpError::Server { status, .. } => matches!(*status, 502 | 504),
            HttpError::Garbled { .. } => true,
            _ => false,
        }
    }

    /// The server's own message, when it gave one.
    pub fn server_message(&self) -> Option<&str> {
        match self {
            HttpError::Unauthorized { message, .. }
            | HttpError::Forbidden { message, .. }
            | HttpError::NotFound { message, .. }
            | HttpError::Gone { message, .. }
            | HttpError::Unprocessable { message, .. }
            | HttpError::Server { message, .. }
            | HttpError::Status { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// A request body.
#[derive(Debug)]
pub enum Body {
    None,
    /// `application/x-www-form-urlencoded`; repeated keys (`id[]`) allowed.
    Form(Vec<(String, String)>),
    Json(serde_json::Value),
    /// A file upload; the parts are built by the caller.
    Multipart(MultipartSpec),
}

/// The parts of a multipart upload (kept plain so the request can be rebuilt for retries).
#[derive(Debug, Clone)]
pub struct MultipartSpec {
    pub file_field: String,
    pub file_name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
    pub text: Vec<(String, String)>,
}

/// One request through the funnel.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: Method,
    pub url: Url,
    pub token: Option<&'a str>,
    pub body: Body,
    pub idempotency_key: Option<&'a str>,
    pub cap: Cap,
}

impl<'a> Request<'a> {
    pub fn get(url: Url) -> Self {
        Request {
            method: Method::GET,
            url,
            token: None,
            body: Body::None,
            idempotency_key: None,
            cap: Cap::Json,
        }
    }

    pub fn post(url: Url, body: Body) -> Self {
        Request {
            method: Method::POST,
            url,
            token: None,
            body,
            idempotency_key: None,
            cap: Cap::Json,
        }
    }

    pub fn token(mut self, token: Option<&'a str>) -> Self {
        self.token = token;
        self
    }

    pub fn cap(mut self, cap: Cap) -> Self {
        self.cap = cap;
        self
    }

    pub fn idempotency_key(mut self, key: &'a str) -> Self {
        self.idempotency_key = Some(key);
        self
    }
}

/// The HTTP client. Cheap to clone.
#[derive(Clone)]
pub struct Http {
    /// For the target server, which the user named.
    client: reqwest::Client,
    /// For remote hosts: public addresses only (see the module doc).
    public: reqwest::Client,
    /// Whether this handle sends through `public`.
    remote: bool,
    /// Hosts a remote handle still reaches through `client`: the user's own server (see
    /// [`Http::trusting`]).
    trusted: Arc<Vec<String>>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Http")
    }
}

pub fn user_agent() -> String {
    format!("migrate/{}", env!("CARGO_PKG_VERSION"))
}

impl Http {
    pub fn new(config: &HttpConfig) -> Result<Http, HttpError> {
        // One crypto provider for the process; a second install is a harmless no-op error.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(Http {
            client: Self::client(config, false)?,
            public: Self::client(config, true)?,
            remote: false,
            trusted: Arc::new(Vec::new()),
        })
    }

    /// The same client for requests to remote hosts: they reach public addresses only (see the
    /// module doc).
    pub fn for_remote_hosts(&self) -> Http {
        Http {
            remote: true,
            ..self.clone()
        }
    }

    /// Requests to `host` (the user's own server, which may live on a private network and be
    /// found through local DNS) are sent as the target's are, even from a remote handle.
    pub fn trusting(mut self, host: &str) -> Http {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if !self.trusted.contains(&host) {
            Arc::make_mut(&mut self.trusted).push(host);
        }
        self
    }

    fn trusts(&self, url: &Url) -> bool {
        url.host_str()
            .is_some_and(|h| self.trusted.iter().any(|t| t == h.trim_end_matches('.')))
    }

    fn client(config: &HttpConfig, public_only: bool) -> Result<reqwest::Client, HttpError> {
        let setup = |source: anyhow::Error| HttpError::Setup { source };
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                let not_public =
                    ip_literal(attempt.url()).filter(|ip| public_only && !is_public(*ip));
                if attempt.previous().len() > MAX_REDIRECTS {
                    attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
                } else if !redirect_allowed(attempt.url(), attempt.previous()) {
                    let to = redact(attempt.url());
                    attempt.error(format!("refused a redirect to `{to}`: not https"))
                } else if let Some(address) = not_public {
                    attempt.error(NotPublic {
                        name: None,
                        address,
                    })
                } else {
                    attempt.follow()
                }
            }))
            .https_only(false);
        if public_only {
            // Pinned hosts (`--resolve`, below) are answered before this resolver is asked.
            builder = builder.dns_resolver(PublicOnly {
                proxies: proxy_hosts(),
            });
        }
        for path in &config.ca_certs {
            let pem = std::fs::read(path).map_err(|e| {
                setup(anyhow::Error::new(e).context(format!(
                    "could not read the CA certificate `{}`",
                    path.display()
                )))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                setup(
                    anyhow::Error::new(e)
                        .context(format!("`{}` is not a PEM certificate", path.display())),
                )
            })?;
            if certs.is_empty() {
                return Err(setup(anyhow::anyhow!(
                    "`{}` holds no PEM certificate",
                    path.display()
                )));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        for (host, addr) in &config.resolve {
            builder = builder.resolve(host, *addr);
        }
        builder.build().map_err(|e| setup(e.into()))
    }

    /// Sends one request and reads its answer (see the module doc). A status outside 2xx is
    /// an error, with the server's `error` / `error_description` as its message.
    pub async fn send(&self, req: Request<'_>) -> Result<Response, HttpError> {
        if !url_allowed(&req.url) {
            return Err(HttpError::Insecure {
                url: redact(&req.url),
            });
        }
        let shown = redact(&req.url);
        let client = if self.remote && !self.trusts(&req.url) {
            if let Some(address) = ip_literal(&req.url).filter(|ip| !is_public(*ip)) {
                return Err(HttpError::NotPublic {
                    url: shown,
                    address: address.to_string(),
                });
            }
            &self.public
        } else {
            &self.client
        };
        let mut builder = client
            .request(req.method.clone(), req.url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = req.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                HttpError::Invalid {
                    url: shown.clone(),
                    message: "the token contains characters a header cannot carry".into(),
                }
            })?;
            value.set_sensitive(true);
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
        }
        if let Some(key) = req.idempotency_key {
            builder = builder.header("Idempotency-Key", key);
        }
        builder = match req.body {
            Body::None => builder,
            Body::Form(pairs) => builder.form(&pairs),
            Body::Json(v) => builder.json(&v),
            Body::Multipart(spec) => {
                let part = reqwest::multipart::Part::bytes(spec.bytes)
                    .file_name(spec.file_name)
                    .mime_str(&spec.mime)
                    .map_err(|e| HttpError::Invalid {
                        url: shown.clone(),
                        message: format!("bad media type: {e}"),
                    })?;
                let mut form = reqwest::multipart::Form::new().part(spec.file_field, part);
                for (k, v) in spec.text {
                    form = form.text(k, v);
                }
                builder.multipart(form)
            }
        };
        let response = builder
            .send()
            .await
            .map_err(|e| network_error(&shown, e, true))?;
        let status = response.status();
        let url = response.url().clone();
        let rate_limit = parse_rate_limit(response.headers());
        let links = response
            .headers()
            .get_all(reqwest::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .fold(Links::default(), |mut acc, v| {
                let l = parse_link_header(v, &url);
                acc.next = acc.next.or(l.next);
                acc.prev = acc.prev.or(l.prev);
                acc
            });
        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            // A redirect the policy never saw: reqwest only follows `http(s):` targets.
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| url.join(l).ok());
            return Err(HttpError::Invalid {
                url: shown,
                message: match to {
                    Some(to) => format!("refused a redirect to `{}`: not https", redact(&to)),
                    None => format!("answered {status} without a usable Location"),
                },
            });
        }
        let body = if status.is_success() {
            read_capped(response, req.cap.bytes(), &shown).await?
        } else {
            // An error's body is read only for its message: a little of it, and never at the
            // cost of the error itself, which its status tells.
            read_capped(response, ERROR_BODY_CAP, &shown)
                .await
                .unwrap_or_default()
        };
        if status.is_success() {
            return Ok(Response {
                status,
                url,
                rate_limit,
                links,
                body,
            });
        }
        let message = server_message(&body).unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("no message")
                .to_string()
        });
        let url = shown;
        Err(match status.as_u16() {
            401 => HttpError::Unauthorized { url, message },
            403 => HttpError::Forbidden { url, message },
            404 => HttpError::NotFound { url, message },
            410 => HttpError::Gone { url, message },
            422 => HttpError::Unprocessable { url, message },
            429 => HttpError::RateLimited { url, rate_limit },
            s @ 500..=599 => HttpError::Server {
                url,
                status: s,
                message,
            },
            s => HttpError::Status {
                url,
                status: s,
                message,
            },
        })
    }
}

async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
    shown: &str,
) -> Result<Vec<u8>, HttpError> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(HttpError::TooLarge {
            url: shown.to_string(),
            limit: cap,
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| network_error(shown, e, true))?
    {
        if body.len() + chunk.len() > cap {
            return Err(HttpError::TooLarge {
                url: shown.to_string(),
                limit: cap,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn network_error(url: &str, e: reqwest::Error, sent: bool) -> HttpError {
    // Refused by the redirect policy or the resolver of the remote client.
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if let Some(refused) = c.downcast_ref::<NotPublic>() {
            return HttpError::NotPublic {
                url: url.to_string(),
                address: refused.shown(),
            };
        }
        cause = c.source();
    }
    let kind = if e.is_connect() {
        NetworkKind::Connect
    } else if e.is_timeout() {
        NetworkKind::Timeout
    } else {
        NetworkKind::Reset
    };
    if e.is_redirect() {
        return HttpError::Invalid {
            url: url.to_string(),
            message: std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string()),
        };
    }
    HttpError::Network {
        url: url.to_string(),
        kind,
        // A failed connection never reached the server; anything later may have.
        maybe_processed: sent && kind != NetworkKind::Connect,
        source: e.without_url(),
    }
}

/// An address the remote client refused (see the module doc).
#[derive(Debug, thiserror::Error)]
#[error("{} is on this machine or a private network", self.shown())]
struct NotPublic {
    /// The host name that resolved to it (a redirect may have named it, not the request).
    name: Option<String>,
    address: IpAddr,
}

impl NotPublic {
    fn shown(&self) -> String {
        match &self.name {
            Some(name) => format!("`{name}` ({})", self.address),
            None => self.address.to_string(),
        }
    }
}

/// Resolves host names with the system's resolver, keeping public addresses only — except for
/// the proxy's own host, which the user configured (through a proxy, the destination's name is
/// resolved by the proxy, and keeping it off private networks is the proxy's job).
struct PublicOnly {
    proxies: Vec<String>,
}

/// The hosts of the proxies reqwest takes from the environment.
fn proxy_hosts() -> Vec<String> {
    [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .filter_map(|var| std::env::var(var).ok())
    .filter_map(|value| {
        let value = value.trim();
        // reqwest reads `host:port` without a scheme as `http://host:port`.
        let with_scheme = if value.contains("://") {
            value.to_string()
        } else {
            format!("http://{value}")
        };
        Url::parse(&with_scheme)
            .ok()?
            .host_str()
            .map(str::to_ascii_lowercase)
    })
    .collect()
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let proxy = self.proxies.iter().any(|p| p.eq_ignore_ascii_case(&host));
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if proxy {
                return Ok(Box::new(all.into_iter()) as reqwest::dns::Addrs);
            }
            let public: Vec<SocketAddr> =
                all.iter().copied().filter(|a| is_public(a.ip())).collect();
            match (public.is_empty(), all.first()) {
                (true, Some(first)) => Err(Box::new(NotPublic {
                    name: Some(host),
                    address: first.ip(),
                }) as _),
                _ => Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

/// The address a URL names as its host, if it names one rather than a host name.
fn ip_literal(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// Whether `ip` is on the public internet: not unspecified, this machine, a private or shared
/// (CGNAT) network, link-local (where cloud metadata services answer), documentation,
/// benchmarking, reserved, broadcast, multicast, or a tunnel or translation range that can
/// lead anywhere (Teredo, ORCHID, local-use NAT64, SRv6) — Mastodon's `PrivateAddressCheck`
/// list, with IANA's special-purpose registries. IPv4 addresses inside IPv6 (mapped,
/// compatible, the well-known NAT64 prefix, 6to4) are judged as the IPv4 address they carry,
/// where Mastodon refuses those prefixes whole: IPv6-only networks reach public servers
/// through them.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 192 && b == 88 && c == 99)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            let low_v4 = || {
                let o = v6.octets();
                IpAddr::V4(std::net::Ipv4Addr::new(o[12], o[13], o[14], o[15]))
            };
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            // IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d).
            if seg[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified()
                || seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
            {
                return is_public(low_v4());
            }
            // 6to4: 2002:AABB:CCDD::/48 carries a.b.c.d.
            if seg[0] == 0x2002 {
                let [a, b] = seg[1].to_be_bytes();
                let [c, d] = seg[2].to_be_bytes();
                return is_public(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)));
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                // Site-local (deprecated).
                || (seg[0] & 0xffc0) == 0xfec0
                // Local-use NAT64 (RFC 8215): maps to whatever the local network chooses.
                || (seg[0] == 0x64 && seg[1] == 0xff9b && seg[2] == 1)
                // Discard-only.
                || seg[..4] == [0x100, 0, 0, 0]
                // The IETF protocol block 2001::/23: Teredo (2001::/32), ORCHID and ORCHIDv2
                // (2001:10::/28, 2001:20::/28) and the rest.
                || (seg[0] == 0x2001 && seg[1] < 0x200)
                // Documentation (2001:db8::/32, 3fff::/20).
                || (seg[0] == 0x2001 && seg[1] == 0x0db8)
                || (seg[0] == 0x3fff && seg[1] < 0x1000)
                // SRv6 segment identifiers (5f00::/16), not globally reachable.
                || seg[0] == 0x5f00)
        }
    }
}

/// `http://` is allowed only for loopback hosts.
pub fn url_allowed(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        },
        _ => false,
    }
}

/// A redirect goes to `https:`, or to plain `http:` on loopback only from a chain that was
/// there all along: a remote server can neither downgrade a request nor send it, in clear, to
/// a service on this machine.
fn redirect_allowed(to: &Url, previous: &[Url]) -> bool {
    to.scheme() == "https"
        || (url_allowed(to)
            && previous
                .iter()
                .all(|u| u.scheme() == "http" && url_allowed(u)))
}

/// A URL as shown in messages: without its query, which may carry codes or tokens.
pub fn redact(url: &Url) -> String {
    let mut u = url.clone();
    let had_query = u.query().is_some();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_password(None);
    if had_query {
        format!("{u}?…")
    } else {
        u.to_string()
    }
}

/// `{"error": "..."}` and `{"error_description": "..."}` (OAuth), preferring the description.
pub fn server_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let pick = |k: &str| v.get(k).and_then(|m| m.as_str()).map(str::to_string);
    pick("error_description")
        .or_else(|| pick("error"))
        .map(|m| m.chars().take(500).collect())
}

/// Reads `X-RateLimit-Limit`, `-Remaining` and `-Reset` (names are case-insensitive in
/// `HeaderMap`); the reset is ISO-8601 (Mastodon, with microseconds) or epoch seconds.
pub fn parse_rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    let num = |name: &str| -> Option<u64> {
        headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| v as u64)
    };
    let limit = num("x-ratelimit-limit")?;
    let remaining = num("x-ratelimit-remaining").unwrap_or(0);
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_reset);
    Some(RateLimit {
        limit,
        remaining,
        reset,
    })
}

/// A reset time: ISO-8601 / RFC 3339, or Unix seconds (some servers send seconds *from now*
/// when the number is small; values below ~2001 are taken that way).
pub fn parse_reset(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(secs) = s.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return None;
        }
        if secs < 1_000_000_000.0 {
            return Some(Utc::now() + chrono::Duration::milliseconds((secs * 1000.0) as i64));
        }
        return Utc.timestamp_opt(secs as i64, 0).single();
    }
    None
}

/// Parses `<url>; rel="next", <url>; rel="prev"`; relative URLs resolve against `base`.
pub fn parse_link_header(value: &str, base: &Url) -> Links {
    let mut links = Links::default();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let target = &rest[start + 1..start + end];
        let after = &rest[start + end + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let params = &after[..params_end];
        rest = &after[params_end..];
        for param in params.split(';') {
            let Some((k, v)) = param.split_once('=') else {
                continue;
            };
            if !k.trim().eq_ignore_ascii_case("rel") {
                continue;
            }
            let rels = v.trim().trim_matches(',').trim().trim_matches('"');
            for rel in rels.split_whitespace() {
                let Ok(url) = base.join(target.trim()) else {
                    continue;
                };
                match rel {
                    "next" if links.next.is_none() => links.next = Some(url.clone()),
                    "prev" | "previous" if links.prev.is_none() => links.prev = Some(url.clone()),
                    _ => {}
                }
            }
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A remote handle never reaches this machine, by name or address; the user's own server
    /// (`trusting`) is reached as the target is. The port is closed: what differs is whether
    /// a connection was tried.
    #[tokio::test]
    async fn remote_requests_reach_public_addresses_only_but_the_own_server() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let http = Http::new(&HttpConfig::default()).unwrap();
        let remote = http.for_remote_hosts();
        for url in [
            format!("https://localhost:{port}/"),
            format!("https://127.0.0.1:{port}/"),
            format!("https://[::ffff:7f00:1]:{port}/"),
            format!("https://2130706433:{port}/"),
        ] {
            let err = remote
                .send(Request::get(Url::parse(&url).unwrap()))
                .await
                .unwrap_err();
            assert!(matches!(err, HttpError::NotPublic { .. }), "{url}: {err}");
        }
        let own = http.clone().trusting("localhost").for_remote_hosts();
        let url = Url::parse(&format!("https://localhost:{port}/")).unwrap();
        let err = own.send(Request::get(url.clone())).await.unwrap_err();
        assert!(
            matches!(
                err,
                HttpError::Network {
                    kind: NetworkKind::Connect,
                    ..
                }
            ),
            "{err}"
        );
        // The client for the target is not limited.
        let err = http.send(Request::get(url)).await.unwrap_err();
        assert!(matches!(err, HttpError::Network { .. }), "{err}");
    }

    #[test]
    fn public_addresses() {
        let public = [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "2a01:4f8::1",
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:1.1.1.1",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ];
        let not_public = [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.8.8.8",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.1",
            "203.0.113.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a9fe:a9fe",
            "2001::1",
            "2001:10::1",
            "2001:20::1",
            "3fff::1",
            "3fff:fff::1",
            "5f00::1",
            "192.88.99.1",
            "2002:c0a8:0101::1",
            "100::1",
        ];
        for ip in public {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
        for ip in not_public {
            assert!(!is_public(ip.parse().unwrap()), "{ip} is not public");
        }
    }

    #[test]
    fn loopback_only_for_http() {
        let ok = |s: &str| url_allowed(&Url::parse(s).unwrap());
        assert!(ok("https://social.example/api"));
        assert!(ok("http://127.0.0.1:8080/"));
        assert!(ok("http://127.5.5.5/"));
        assert!(ok("http://[::1]:3000/"));
        assert!(ok("http://localhost:3000/"));
        assert!(!ok("http://social.example/"));
        assert!(!ok("http://10.0.0.1/"));
        assert!(!ok("ftp://social.example/"));
    }

    #[test]
    fn redirects_never_leave_https_for_plain_http() {
        let u = |s: &str| Url::parse(s).unwrap();
        let remote = [u("https://social.example/.well-known/webfinger")];
        assert!(redirect_allowed(
            &u("https://web.social.example/x"),
            &remote
        ));
        assert!(!redirect_allowed(&u("http://127.0.0.1:6379/"), &remote));
        assert!(!redirect_allowed(&u("http://localhost/"), &remote));
        assert!(!redirect_allowed(&u("ftp://social.example/"), &remote));
        assert!(!redirect_allowed(&u("file:///etc/passwd"), &remote));
        // A local development server may redirect within itself.
        let local = [u("http://127.0.0.1:3000/api/v1/instance")];
        assert!(redirect_allowed(
            &u("http://127.0.0.1:3000/api/v2/instance"),
            &local
        ));
        assert!(!redirect_allowed(&u("http://social.example/"), &local));
    }

    #[test]
    fn rate_limit_headers_in_both_formats_and_any_case() {
        let mut h = HeaderMap::new();
        h.insert("X-RateLimit-Limit", "300".parse().unwrap());
        h.insert("x-ratelimit-remaining", "299".parse().unwrap());
        h.insert(
            "X-RATELIMIT-RESET",
            "2026-07-02T12:35:00.123456Z".parse().unwrap(),
        );
        let r = parse_rate_limit(&h).unwrap();
        assert_eq!((r.limit, r.remaining), (300, 299));
        assert_eq!(
            r.reset.unwrap().to_rfc3339(),
            "2026-07-02T12:35:00.123456+00:00"
        );
        h.insert("x-ratelimit-reset", "1783000000".parse().unwrap());
        let r = parse_rate_limit(&h).unwrap();
        assert_eq!(r.reset.unwrap().timestamp(), 1783000000);
        h.insert("x-ratelimit-reset", "30".parse().unwrap());
        let r = parse_rate_limit(&h).unwrap();
        let secs = (r.reset.unwrap() - Utc::now()).num_seconds();
        assert!((28..=30).contains(&secs), "{secs}");
        assert_eq!(parse_reset("garbage"), None);
        assert!(parse_rate_limit(&HeaderMap::new()).is_none());
    }

    #[test]
    fn link_headers() {
        let base = Url::parse("https://social.example/api/v1/accounts/1/following").unwrap();
        let l = parse_link_header(
            r#"<https://social.example/api/v1/accounts/1/following?limit=2&max_id=7628164>; rel="next", <https://social.example/api/v1/accounts/1/following?limit=2&since_id=7628165>; rel="prev""#,
            &base,
        );
        assert_eq!(
            l.next.unwrap().as_str(),
            "https://social.example/api/v1/accounts/1/following?limit=2&max_id=7628164"
        );
        assert!(l.prev.unwrap().as_str().ends_with("since_id=7628165"));
        let l = parse_link_header("</x?max_id=5>; rel=next", &base);
        assert_eq!(
            l.next.unwrap().as_str(),
            "https://social.example/x?max_id=5"
        );
        assert_eq!(parse_link_header("garbage", &base), Links::default());
    }

    #[test]
    fn server_messages() {
        assert_eq!(
            server_message(br#"{"error":"invalid_grant","error_description":"The provided authorization grant is invalid"}"#).as_deref(),
            Some("The provided authorization grant is invalid")
        );
        assert_eq!(
            server_message(br#"{"error":"Record not found"}"#).as_deref(),
            Some("Record not found")
        );
        assert_eq!(server_message(b"<html>"), None);
    }

    #[test]
    fn redaction_drops_queries() {
        let u = Url::parse("https://s.example/oauth/token?code=secret").unwrap();
        assert_eq!(redact(&u), "https://s.example/oauth/token?…");
    }
}
