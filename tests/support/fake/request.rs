//! Requests as the handlers see them (parameters merged from the query and the body the way
//! Rails merges them) and responses as they build them.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

/// Request parameters. Rails array keys (`id[]`) are stored without the brackets, so `all("id")`
/// sees both `id[]=1&id[]=2` and `id=1`.
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse_urlencoded(input: &[u8]) -> Params {
        Params(
            url::form_urlencoded::parse(input)
                .map(|(k, v)| (normalize_key(&k), v.into_owned()))
                .collect(),
        )
    }

    /// A JSON object's members; arrays become repeated keys, nested objects are ignored
    /// except one level deep (`{"poll": {"options": …}}` is not needed by anything here).
    pub fn from_json(value: &Value) -> Params {
        let mut out = Vec::new();
        if let Value::Object(map) = value {
            for (k, v) in map {
                let key = normalize_key(k);
                match v {
                    Value::Array(items) => {
                        for item in items {
                            if let Some(s) = scalar(item) {
                                out.push((key.clone(), s));
                            }
                        }
                    }
                    other => {
                        if let Some(s) = scalar(other) {
                            out.push((key, s));
                        }
                    }
                }
            }
        }
        Params(out)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value if present and not empty.
    pub fn present(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    pub fn extend(&mut self, other: Params) {
        self.0.extend(other.0);
    }

    /// Rails' `ActiveModel::Type::Boolean` cast; `default` when absent or empty.
    pub fn bool(&self, key: &str, default: bool) -> bool {
        match self.get(key) {
            None | Some("") => default,
            Some(v) => !matches!(
                v,
                "0" | "f" | "F" | "false" | "FALSE" | "False" | "off" | "OFF" | "Off"
            ),
        }
    }

    pub fn usize(&self, key: &str) -> Option<usize> {
        self.present(key).and_then(|v| v.parse().ok())
    }
}

fn normalize_key(k: &str) -> String {
    k.strip_suffix("[]").unwrap_or(k).to_string()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One part of a multipart body.
#[derive(Clone, Debug)]
pub struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

#[derive(Debug)]
pub struct Req {
    pub method: Method,
    pub path: String,
    /// The Host header as sent (with a port when the client put one).
    pub host: String,
    pub query: Params,
    /// The query string as sent (without `?`).
    pub raw_query: String,
    /// Query and body parameters together.
    pub params: Params,
    pub headers: HeaderMap,
    pub parts: Vec<Part>,
    /// The body was JSON but did not parse.
    pub bad_json: bool,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn segments(&self) -> Vec<&str> {
        self.path
            .trim_end_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect()
    }

    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }

    /// An absolute URL on the host the client addressed (for `Link` and `Location`).
    pub fn self_url(&self, path_and_query: &str) -> String {
        format!("https://{}{}", self.host, path_and_query)
    }
}

/// The X-RateLimit-* trio of one throttle.
#[derive(Clone, Debug)]
pub struct RateHeaders {
    pub limit: u64,
    pub remaining: u64,
    pub reset: String,
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// A per-account family's headers (follows, statuses), merged after the action as
    /// Mastodon's `override_rate_limit_headers` does.
    pub family: Option<RateHeaders>,
    /// A body produced as it is sent (hostile hosts: endless, dripping, huge), instead of
    /// `body`.
    pub stream: Option<Box<BodyStream>>,
}

/// A streamed body: `prefix`, then `chunk` every `every` (real time) until `total` bytes in
/// all (None: forever). With a `total`, the size is declared (`Content-Length`).
#[derive(Clone, Debug)]
pub struct BodyStream {
    pub prefix: Bytes,
    pub chunk: Bytes,
    pub every: std::time::Duration,
    pub total: Option<usize>,
}

/// [`BodyStream`] as a hyper body.
struct Streaming {
    spec: BodyStream,
    sent: usize,
    sleep: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl hyper::body::Body for Streaming {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        use std::task::Poll;
        let this = &mut *self;
        let left = this.spec.total.map(|t| t.saturating_sub(this.sent));
        if left == Some(0) {
            return Poll::Ready(None);
        }
        let mut data = if this.sent == 0 && !this.spec.prefix.is_empty() {
            this.spec.prefix.clone()
        } else {
            if !this.spec.every.is_zero() {
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(this.spec.every)));
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.sleep = None;
            }
            this.spec.chunk.clone()
        };
        if let Some(left) = left {
            data.truncate(left);
        }
        this.sent += data.len();
        Poll::Ready(Some(Ok(hyper::body::Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.spec.total.is_some_and(|t| self.sent >= t)
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self.spec.total {
            Some(t) => hyper::body::SizeHint::with_exact(t as u64),
            None => hyper::body::SizeHint::default(),
        }
    }
}

impl Resp {
    pub fn new(status: StatusCode) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            family: None,
            stream: None,
        }
    }

    pub fn json(status: StatusCode, value: &Value) -> Resp {
        let mut r = Resp::new(status);
        r.body = Bytes::from(serde_json::to_vec(value).expect("serializable"));
        r.header("Content-Type", "application/json; charset=utf-8")
    }

    pub fn ok(value: Value) -> Resp {
        Resp::json(StatusCode::OK, &value)
    }

    /// Mastodon's error shape, `{"error": "..."}`.
    pub fn error(status: StatusCode, message: &str) -> Resp {
        Resp::json(status, &serde_json::json!({ "error": message }))
    }

    pub fn text(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Resp {
        let mut r = Resp::new(status);
        r.body = body.into();
        r.header("Content-Type", content_type)
    }

    /// An answer whose body is streamed (see [`BodyStream`]).
    pub fn streamed(status: StatusCode, content_type: &str, stream: BodyStream) -> Resp {
        let mut r = Resp::new(status);
        r.stream = Some(Box::new(stream));
        r.header("Content-Type", content_type)
    }

    pub fn redirect(status: StatusCode, location: &str) -> Resp {
        Resp::new(status).header("Location", location)
    }

    pub fn header(mut self, name: &str, value: &str) -> Resp {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn set_header(&mut self, name: &str, value: String) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value));
    }

    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn into_http(self) -> axum::http::Response<Body> {
        let mut builder = axum::http::Response::builder().status(self.status);
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let body = match self.stream {
            Some(spec) => Body::new(Streaming {
                spec: *spec,
                sent: 0,
                sleep: None,
            }),
            None => Body::from(self.body),
        };
        builder.body(body).expect("valid response")
    }
}

/// Handlers return `Err` for early error responses so that `?` reads naturally.
pub type HResult = Result<Resp, Resp>;

pub fn not_found() -> Resp {
    Resp::error(StatusCode::NOT_FOUND, "Record not found")
}

pub fn unprocessable(message: &str) -> Resp {
    Resp::error(StatusCode::UNPROCESSABLE_ENTITY, message)
}
