//! The listener: TLS with SNI, HTTP/1.1 per connection, dispatch on the Host header to the home
//! server or a remote host, and the fault injector. A fault that loses the response (or drops
//! the connection before processing) closes the connection without writing anything, which
//! the client sees as a connection closed before the response.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart};
use axum::http::{HeaderMap, Method, Request, Response, StatusCode, header};
use chrono::{DateTime, Utc};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio_rustls::TlsAcceptor;

use super::api::{self, Bearer, Ctx};
use super::clock::Clock;
use super::config::{EndpointClass, FaultKind};
use super::ratelimit::{self, Caller};
use super::request::{BodyStream, Params, Part, RateHeaders, Req, Resp, not_found};
use super::state::State;
use super::webfinger;

/// Largest request body accepted (Mastodon's video limit plus room for the multipart frame).
const MAX_BODY: usize = 110 * 1024 * 1024;

pub struct Shared {
    pub state: Mutex<State>,
    pub clock: Clock,
    pub served: Arc<RwLock<BTreeSet<String>>>,
    /// Connections accepted so far (for `ConnectionFault`).
    pub connections: AtomicU64,
}

impl Shared {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panicking handler must not take every later test request down with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub async fn run(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                if let Ok((tcp, _)) = accepted {
                    tokio::spawn(connection(tcp, acceptor.clone(), shared.clone()));
                }
            }
        }
    }
}

/// What a connection carries along its requests.
struct Conn {
    sni: Option<String>,
    kill: Arc<Notify>,
    /// The fault this connection meets on its first request (a `ConnectionFault`).
    fault: Mutex<Option<FaultKind>>,
    requests: AtomicU64,
    max_requests: Option<u64>,
}

async fn connection(tcp: TcpStream, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    let _ = tcp.set_nodelay(true);
    // An unserved SNI name gets no certificate: the handshake fails here.
    let Ok(tls) = acceptor.accept(tcp).await else {
        return;
    };
    let sni = tls
        .get_ref()
        .1
        .server_name()
        .map(|s| s.to_ascii_lowercase());
    let n = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
    let (fault, max_requests) = {
        let st = shared.lock();
        let fault = st
            .config
            .connection_fault
            .as_ref()
            .filter(|f| f.every > 0 && n % f.every == 0)
            .map(|f| f.kind.clone());
        (fault, st.config.requests_per_connection)
    };
    let kill = Arc::new(Notify::new());
    let conn = Arc::new(Conn {
        sni,
        kill: kill.clone(),
        fault: Mutex::new(fault),
        requests: AtomicU64::new(0),
        max_requests,
    });
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = shared.clone();
        let conn = conn.clone();
        async move { handle(shared, conn, req).await }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(tls), service);
    tokio::select! {
        _ = conn => {}
        // Dropping the connection future closes the socket without a response.
        _ = kill.notified() => {}
    }
}

async fn handle(
    shared: Arc<Shared>,
    conn: Arc<Conn>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let n = conn.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let fault = conn.fault.lock().unwrap_or_else(|e| e.into_inner()).take();
    let answer = match fault {
        Some(FaultKind::DropBeforeProcessing) => None,
        Some(FaultKind::LostResponse) => {
            let _ = process(&shared, conn.sni.as_deref(), req).await;
            None
        }
        _ => process(&shared, conn.sni.as_deref(), req).await,
    };
    if fault.is_some() {
        shared.lock().counters.faults.dropped_connections += 1;
    }
    match answer.filter(|_| fault.is_none()) {
        Some(resp) => {
            let mut http = resp.into_http();
            if conn.max_requests.is_some_and(|max| n >= max) {
                // hyper closes the connection after an answer that says so.
                http.headers_mut().insert(
                    header::CONNECTION,
                    header::HeaderValue::from_static("close"),
                );
            }
            Ok(http)
        }
        None => {
            conn.kill.notify_one();
            std::future::pending().await
        }
    }
}

/// `/api/v1/accounts/123/follow` -> `/api/v1/accounts/:id/follow`.
fn pattern(path: &str) -> String {
    let p: Vec<&str> = path
        .trim_end_matches('/')
        .split('/')
        .map(|s| {
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
                ":id"
            } else {
                s
            }
        })
        .collect();
    let joined = p.join("/");
    if joined.is_empty() {
        "/".to_string()
    } else {
        joined
    }
}

async fn build_req(
    method: Method,
    path: String,
    raw_query: String,
    host: String,
    headers: HeaderMap,
    body: Bytes,
) -> Req {
    let query = Params::parse_urlencoded(raw_query.as_bytes());
    let mut params = query.clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut bad_json = false;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        params.extend(Params::parse_urlencoded(&body));
    } else if content_type.starts_with("application/json") {
        if !body.is_empty() {
            match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(v) => params.extend(Params::from_json(&v)),
                Err(_) => bad_json = true,
            }
        }
    } else if content_type.starts_with("multipart/form-data") {
        let raw = headers
            .get(header::CONTENT_TYPE)
            .cloned()
            .expect("content type");
        let request = Request::builder()
            .method(Method::POST)
            .header(header::CONTENT_TYPE, raw)
            .body(Body::from(body))
            .expect("request");
        if let Ok(mut multipart) = Multipart::from_request(request, &()).await {
            while let Ok(Some(field)) = multipart.next_field().await {
                let name = field.name().unwrap_or_default().to_string();
                let file_name = field.file_name().map(str::to_string);
                let content_type = field.content_type().map(str::to_string);
                let Ok(data) = field.bytes().await else {
                    break;
                };
                if file_name.is_none() {
                    let key = name.strip_suffix("[]").unwrap_or(&name).to_string();
                    params
                        .0
                        .push((key, String::from_utf8_lossy(&data).into_owned()));
                }
                parts.push(Part {
                    name,
                    file_name,
                    content_type,
                    data,
                });
            }
        }
    }
    Req {
        method,
        path,
        host,
        query,
        raw_query,
        params,
        headers,
        parts,
        bad_json,
    }
}

async fn process(shared: &Shared, sni: Option<&str>, req: Request<Incoming>) -> Option<Resp> {
    let (parts, body) = req.into_parts();
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .or_else(|| sni.map(str::to_string))
        .unwrap_or_default();
    let host_name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map(|(h, _)| h)
        .unwrap_or(&host)
        .to_ascii_lowercase();
    let body = match axum::body::to_bytes(Body::new(body), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return Some(Resp::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request entity too large",
            ));
        }
    };
    let req = build_req(
        parts.method,
        parts.uri.path().to_string(),
        parts.uri.query().unwrap_or_default().to_string(),
        host,
        parts.headers,
        body,
    )
    .await;
    let home = shared.lock().config.home_host.to_ascii_lowercase();
    if host_name == home {
        process_home(shared, req).await
    } else {
        Some(process_remote(shared, &host_name, req).await)
    }
}

fn class_matches(class: &EndpointClass, req: &Req) -> bool {
    let path = req.path.trim_end_matches('/');
    match class {
        EndpointClass::Any => true,
        EndpointClass::Statuses => path.starts_with("/api/v1/statuses"),
        EndpointClass::Media => path == "/api/v2/media" || path.starts_with("/api/v1/media"),
        EndpointClass::Follows => {
            let s = req.segments();
            req.method == Method::POST
                && s.len() == 5
                && s[..3] == ["api", "v1", "accounts"]
                && (s[4] == "follow" || s[4] == "unfollow")
        }
        EndpointClass::PathPrefix(prefix) => path.starts_with(prefix.as_str()),
    }
}

/// Draws every matching rule (so that each rule's stream only depends on the requests it
/// matches); latencies add up, the first other fault wins.
fn decide_faults(st: &mut State, req: &Req) -> (Duration, Option<FaultKind>) {
    let rules = st.config.faults.rules.clone();
    if st.fault_rules.len() != rules.len() {
        st.reset_fault_rules();
    }
    let mut latency = Duration::ZERO;
    let mut chosen = None;
    for (i, rule) in rules.iter().enumerate() {
        if !class_matches(&rule.class, req) {
            continue;
        }
        let rs = &mut st.fault_rules[i];
        rs.matched += 1;
        let draw = rs.rng.next_f64();
        let eligible = rs.matched > rule.skip
            && rule.max.is_none_or(|m| rs.injected < m)
            && draw < rule.probability;
        if !eligible {
            continue;
        }
        match &rule.kind {
            FaultKind::Latency(d) => {
                rs.injected += 1;
                latency += *d;
                st.counters.faults.latency += 1;
            }
            kind if chosen.is_none() => {
                rs.injected += 1;
                match kind {
                    FaultKind::Unavailable => st.counters.faults.unavailable += 1,
                    FaultKind::DropBeforeProcessing => st.counters.faults.dropped_before += 1,
                    FaultKind::LostResponse => st.counters.faults.lost_response += 1,
                    FaultKind::Stall(_) => st.counters.faults.stalled += 1,
                    FaultKind::Unparsable { .. } => st.counters.faults.unparsable += 1,
                    FaultKind::HugeBody { .. } => st.counters.faults.huge_body += 1,
                    FaultKind::RateLimitedUntil(_) => st.counters.faults.rate_limited += 1,
                    FaultKind::Vanish => st.counters.faults.vanished += 1,
                    FaultKind::Deny => st.counters.faults.denied += 1,
                    FaultKind::Latency(_) => {}
                }
                chosen = Some(kind.clone());
            }
            _ => {}
        }
    }
    (latency, chosen)
}

async fn process_home(shared: &Shared, req: Req) -> Option<Resp> {
    let (latency, fault) = {
        let mut st = shared.lock();
        let key = format!("{} {}", req.method, pattern(&req.path));
        *st.counters.requests.entry(key).or_insert(0) += 1;
        decide_faults(&mut st, &req)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Some(FaultKind::Unavailable) => {
            return Some(Resp::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
            ));
        }
        Some(FaultKind::DropBeforeProcessing) => return None,
        Some(FaultKind::Unparsable { processed: false }) => return Some(garbled()),
        Some(FaultKind::HugeBody { status, length }) => {
            let status = StatusCode::from_u16(status).expect("a valid status");
            // `{"error":"` and then padding that never closes the string.
            return Some(Resp::streamed(
                status,
                "application/json; charset=utf-8",
                BodyStream {
                    prefix: Bytes::from_static(b"{\"error\":\""),
                    chunk: Bytes::from(vec![b'x'; 64 * 1024]),
                    every: Duration::ZERO,
                    total: length,
                },
            ));
        }
        Some(FaultKind::RateLimitedUntil(reset)) => {
            let mut resp = Resp::error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
            ratelimit::apply_headers(
                &mut resp,
                &RateHeaders {
                    limit: 300,
                    remaining: 0,
                    reset: reset.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                },
            );
            return Some(resp);
        }
        Some(FaultKind::Deny) => return Some(not_found()),
        _ => {}
    }
    let delay = api::search_delay(&shared.lock(), &req);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let (mut resp, wall) = {
        let mut st = shared.lock();
        let now = shared.clock.now();
        (answer_home(&mut st, &req, now), st.config.wall_clock_resets)
    };
    if wall {
        to_wall_clock(&mut resp, &shared.clock);
    }
    match fault {
        Some(FaultKind::LostResponse) => return None,
        Some(FaultKind::Stall(d)) => tokio::time::sleep(d).await,
        Some(FaultKind::Unparsable { processed: true }) => return Some(garbled()),
        Some(FaultKind::Vanish) => {
            let id = serde_json::from_slice::<serde_json::Value>(&resp.body)
                .ok()
                .and_then(|v| v.get("id")?.as_str().map(str::to_string));
            let mut st = shared.lock();
            if let Some(s) = id.and_then(|id| st.statuses.iter_mut().find(|s| s.id == id)) {
                s.deleted = true;
            }
        }
        _ => {}
    }
    Some(resp)
}

/// What a proxy in front of a broken server answers: 200, and a page that is not JSON.
fn garbled() -> Resp {
    Resp::text(
        StatusCode::OK,
        "text/html; charset=utf-8",
        "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>",
    )
}

/// The client is another process on the wall clock: a reset instant on the scaled clock is
/// sent as the wall-clock instant when it falls due (`now + (reset - fake now) / scale`), so a
/// client that waits until the header's reset waits exactly as long as the scaled window asks.
/// With `time_scale` 1 and no `advance`, this changes nothing.
fn to_wall_clock(resp: &mut Resp, clock: &Clock) {
    let Some(reset) = resp
        .get_header("X-RateLimit-Reset")
        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
    else {
        return;
    };
    let ahead = reset.with_timezone(&Utc) - clock.now();
    let real_ahead = chrono::Duration::nanoseconds(
        (ahead.num_nanoseconds().unwrap_or(i64::MAX) as f64 / clock.scale()) as i64,
    );
    let wall = Utc::now() + real_ahead;
    resp.set_header(
        "X-RateLimit-Reset",
        wall.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
    );
}

fn answer_home(st: &mut State, req: &Req, now: DateTime<Utc>) -> Resp {
    api::publish_due(st, now);
    let bearer = api::bearer(st, req);
    let is_api = req.path.starts_with("/api/");
    let mut throttles = Vec::new();
    if is_api {
        let caller = match bearer {
            Bearer::Token(i) => Caller {
                token_id: Some(st.tokens[i].id),
                user_id: st.tokens[i].account_id.clone(),
            },
            _ => Caller {
                token_id: None,
                user_id: None,
            },
        };
        match ratelimit::rack(st, req, &caller, now) {
            Ok(t) => throttles = t,
            Err(tripped) => {
                st.note_rate_limited(tripped.name);
                let mut resp = Resp::error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
                let mut headers = tripped.headers(now);
                headers.remaining = 0;
                ratelimit::apply_headers(&mut resp, &headers);
                return resp;
            }
        }
    }
    let mut resp = if req.bad_json {
        Resp::error(
            StatusCode::BAD_REQUEST,
            "Error occurred while parsing request parameters",
        )
    } else {
        let mut ctx = Ctx {
            st,
            req,
            now,
            bearer,
        };
        match api::dispatch(&mut ctx) {
            Ok(r) | Err(r) => r,
        }
    };
    if is_api {
        if let Some(h) = ratelimit::closest(&throttles, now) {
            ratelimit::apply_headers(&mut resp, &h);
        }
        ratelimit::merge_family(&mut resp);
        resp.set_header("Cache-Control", "private, no-store".into());
        resp.set_header("Vary", "Authorization, Origin".into());
    }
    resp
}

async fn process_remote(shared: &Shared, host: &str, req: Req) -> Resp {
    let (behavior, delay) = {
        let mut st = shared.lock();
        let key = format!("{} {}{}", req.method, host, req.path);
        *st.counters.requests.entry(key).or_insert(0) += 1;
        (
            webfinger::behavior_for(&st, host),
            webfinger::delay_for(&st, host),
        )
    };
    let Some(behavior) = behavior else {
        return Resp::text(
            StatusCode::MISDIRECTED_REQUEST,
            "text/plain",
            "misdirected request",
        );
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let st = shared.lock();
    webfinger::serve(&st, host, &behavior, &req)
}
