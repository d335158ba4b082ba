//! The Mastodon client API: one short function per endpoint, entities with serde.
//!
//! Entities are tolerant: every field but the id has a default, unknown fields are ignored, so
//! that Pleroma, Akkoma, GoToSocial and Misskey-family servers, which answer with fewer or other
//! fields, still decode. Requests never send `null` fields (it breaks Pleroma): optional
//! parameters are left out instead. Each function's doc names the endpoint; see
//! docs.joinmastodon.org/methods/ for the contract and MASTODON.md for what servers really do.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use url::Url;

use super::http::{Body, Cap, Http, HttpError, Links, MultipartSpec, RateLimit, Request, Response};

/// The scopes `migrate` asks for: what it does, nothing more.
pub const SCOPES: &str = "read:accounts read:follows read:search read:statuses write:follows \
                          write:blocks write:mutes write:lists write:bookmarks write:statuses \
                          write:media";

/// The out-of-band redirect: the server shows the code for the user to paste.
pub const OOB_REDIRECT: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Relationships asked per request (the API's usual page size).
pub const RELATIONSHIP_BATCH: usize = 40;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Application {
    #[serde(default, deserialize_with = "id_string_opt")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Token {
    pub access_token: String,
    #[serde(default)]
    pub token_type: String,
    #[serde(default)]
    pub scope: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Account {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    pub username: String,
    /// `user` for local accounts, `user@domain` for remote ones.
    pub acct: String,
    pub display_name: String,
    pub locked: bool,
    pub bot: bool,
    pub url: Option<String>,
    pub uri: Option<String>,
    /// Set when the account moved; the new account.
    pub moved: Option<Box<Account>>,
    pub followers_count: u64,
    pub following_count: u64,
    pub statuses_count: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Relationship {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub languages: Option<Vec<String>>,
    pub followed_by: bool,
    pub blocking: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub requested: bool,
    pub domain_blocking: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SearchResults {
    pub accounts: Vec<Account>,
    pub statuses: Vec<Status>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct List {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct MediaAttachment {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// `None` while a video or GIF is still processing.
    pub url: Option<String>,
    pub preview_url: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Status {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    pub uri: String,
    pub url: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub content: String,
    pub visibility: String,
    pub language: Option<String>,
    #[serde(deserialize_with = "id_string_opt")]
    pub in_reply_to_id: Option<String>,
    pub media_attachments: Vec<MediaAttachment>,
    pub spoiler_text: String,
}

/// `GET /api/v1/statuses/:id/source`: a status's text as written, before rendering.
#[derive(Debug, Clone, Deserialize)]
pub struct StatusSource {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(default)]
    pub text: String,
}

/// What `POST /api/v1/statuses` answers: a status, or a scheduled status with `scheduled_at`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Posted {
    Scheduled(ScheduledStatus),
    Status(Box<Status>),
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScheduledStatus {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    pub scheduled_at: DateTime<Utc>,
    pub params: serde_json::Value,
}

/// The parameters of a new status. `None` fields are not sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewStatus {
    pub status: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spoiler_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// Options of a follow. `None` fields are not sent (the server keeps its defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FollowOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reblogs: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
}

/// The server's limits and software, from `/api/v2/instance` (or v1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceInfo {
    pub domain: String,
    pub title: String,
    pub version: String,
    pub max_characters: usize,
    pub max_media_attachments: usize,
    pub characters_reserved_per_url: usize,
    pub image_size_limit: Option<u64>,
    pub video_size_limit: Option<u64>,
    pub description_limit: Option<usize>,
    pub supported_mime_types: Vec<String>,
}

impl InstanceInfo {
    /// Decodes a v2 or v1 instance answer (`/api/v2/instance`, `/api/v1/instance`).
    pub fn from_json(body: &[u8]) -> Result<InstanceInfo, serde_json::Error> {
        serde_json::from_slice::<RawInstance>(body).map(RawInstance::into_info)
    }
}

impl Default for InstanceInfo {
    /// Mastodon's defaults, used before the server is asked.
    fn default() -> Self {
        InstanceInfo {
            domain: String::new(),
            title: String::new(),
            version: String::new(),
            max_characters: 500,
            max_media_attachments: 4,
            characters_reserved_per_url: 23,
            image_size_limit: Some(16 * 1024 * 1024),
            video_size_limit: Some(99 * 1024 * 1024),
            description_limit: Some(1500),
            supported_mime_types: Vec::new(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawInstance {
    domain: Option<String>,
    /// GoToSocial with a split domain: the domain in handles, beside the host.
    account_domain: Option<String>,
    uri: Option<String>,
    title: String,
    version: String,
    configuration: RawConfiguration,
    /// Pleroma and Akkoma (v1).
    max_toot_chars: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawConfiguration {
    statuses: RawStatuses,
    media_attachments: RawMedia,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawStatuses {
    max_characters: Option<usize>,
    max_media_attachments: Option<usize>,
    characters_reserved_per_url: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawMedia {
    supported_mime_types: Vec<String>,
    image_size_limit: Option<u64>,
    video_size_limit: Option<u64>,
    description_limit: Option<usize>,
}

impl RawInstance {
    fn into_info(self) -> InstanceInfo {
        let d = InstanceInfo::default();
        let c = self.configuration;
        // v1 `uri` is a bare host on Mastodon but a URL on Pleroma, Akkoma and GoToSocial.
        let host_of = |s: String| match Url::parse(&s) {
            Ok(u) if u.host_str().is_some() => {
                let host = u.host_str().unwrap_or_default().to_string();
                match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                }
            }
            _ => s,
        };
        InstanceInfo {
            domain: self
                .account_domain
                .or(self.domain)
                .or(self.uri)
                .map(host_of)
                .unwrap_or_default(),
            title: self.title,
            version: self.version,
            max_characters: c
                .statuses
                .max_characters
                .or(self.max_toot_chars)
                .unwrap_or(d.max_characters),
            max_media_attachments: c
                .statuses
                .max_media_attachments
                .unwrap_or(d.max_media_attachments),
            characters_reserved_per_url: c
                .statuses
                .characters_reserved_per_url
                .unwrap_or(d.characters_reserved_per_url),
            image_size_limit: c.media_attachments.image_size_limit.or(d.image_size_limit),
            video_size_limit: c.media_attachments.video_size_limit.or(d.video_size_limit),
            description_limit: c
                .media_attachments
                .description_limit
                .or(d.description_limit),
            supported_mime_types: c.media_attachments.supported_mime_types,
        }
    }
}

/// The server software, for features that depend on it (backdating on GoToSocial, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Software {
    Mastodon,
    GoToSocial,
    Pleroma,
    Akkoma,
    /// Misskey, Sharkey, Firefish, Iceshrimp, …
    MisskeyFamily,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerSoftware {
    pub software: Software,
    /// The raw software name (NodeInfo's `software.name`, or guessed from the version string).
    pub name: String,
    pub version: String,
}

/// Guesses the software from NodeInfo's `software.name`, else the instance `version` string
/// (Pleroma and Akkoma write `2.7.2 (compatible; Pleroma 2.5.0)`).
pub fn detect_software(nodeinfo_name: Option<&str>, version: &str) -> ServerSoftware {
    let classify = |name: &str| match name.to_ascii_lowercase().as_str() {
        "mastodon" | "hometown" | "glitch-soc" | "glitchsoc" => Software::Mastodon,
        "gotosocial" => Software::GoToSocial,
        "pleroma" => Software::Pleroma,
        "akkoma" => Software::Akkoma,
        "misskey" | "sharkey" | "firefish" | "calckey" | "iceshrimp" | "foundkey"
        | "cherrypick" | "catodon" => Software::MisskeyFamily,
        _ => Software::Other,
    };
    if let Some(name) = nodeinfo_name {
        return ServerSoftware {
            software: classify(name),
            name: name.to_string(),
            version: version.to_string(),
        };
    }
    // `4.3.1`, `2.7.2 (compatible; Pleroma 2.5.0)`, `3.5.3 (compatible; Akkoma 3.10.4)`.
    if let Some(inner) = version
        .split_once("(compatible; ")
        .and_then(|(_, r)| r.split_once(')'))
        .map(|(i, _)| i)
    {
        let (name, ver) = inner.split_once(' ').unwrap_or((inner, ""));
        return ServerSoftware {
            software: classify(name),
            name: name.to_string(),
            version: ver.to_string(),
        };
    }
    let software = if version.contains("git") && version.to_lowercase().contains("gotosocial") {
        Software::GoToSocial
    } else if version.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        Software::Mastodon
    } else {
        Software::Other
    };
    ServerSoftware {
        software,
        name: format!("{software:?}").to_lowercase(),
        version: version.to_string(),
    }
}

/// How long [`Mastodon::wait_for_media`] waits for a video to be processed.
pub const MEDIA_WAIT: Duration = Duration::from_secs(300);

/// A client for one server, with an optional user token.
#[derive(Clone)]
pub struct Mastodon {
    http: Http,
    base: Url,
    token: Option<String>,
    /// The rate-limit headers of the last answer, for the rate gates.
    last_rate_limit: std::sync::Arc<std::sync::Mutex<Option<RateLimit>>>,
}

impl std::fmt::Debug for Mastodon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mastodon")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// One page of a paginated list, with the link to the next.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Url>,
    pub rate_limit: Option<RateLimit>,
}

impl Mastodon {
    pub fn new(http: Http, base: Url, token: Option<String>) -> Mastodon {
        if let Some(t) = &token {
            crate::redact::remember(t);
        }
        Mastodon {
            http,
            base,
            token,
            last_rate_limit: Default::default(),
        }
    }

    /// Takes the rate-limit headers of the last answer (each answer's are taken once).
    pub fn take_rate_limit(&self) -> Option<RateLimit> {
        self.last_rate_limit.lock().ok()?.take()
    }

    fn note_rate_limit(&self, r: &Result<Response, HttpError>) {
        let rl = match r {
            Ok(resp) => resp.rate_limit,
            Err(HttpError::RateLimited { rate_limit, .. }) => *rate_limit,
            Err(_) => None,
        };
        if let (Some(rl), Ok(mut last)) = (rl, self.last_rate_limit.lock()) {
            *last = Some(rl);
        }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("endpoint paths are valid")
    }

    async fn send(&self, method: Method, url: Url, body: Body) -> Result<Response, HttpError> {
        let r = self
            .http
            .send(Request {
                method,
                url,
                token: self.token.as_deref(),
                body,
                idempotency_key: None,
                cap: Cap::Json,
            })
            .await;
        self.note_rate_limit(&r);
        r
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, url: Url) -> Result<T, HttpError> {
        self.send(Method::GET, url, Body::None).await?.json()
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: Body,
    ) -> Result<T, HttpError> {
        self.send(Method::POST, self.url(path), body).await?.json()
    }

    fn with_query(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.url(path);
        url.query_pairs_mut().extend_pairs(query);
        url
    }

    async fn page<T: serde::de::DeserializeOwned>(&self, url: Url) -> Result<Page<T>, HttpError> {
        let response = self.send(Method::GET, url, Body::None).await?;
        let Links { next, .. } = response.links.clone();
        Ok(Page {
            items: response.json()?,
            next,
            rate_limit: response.rate_limit,
        })
    }

    /// `POST /api/v1/apps`: registers `migrate` with one redirect URI.
    pub async fn register_app(&self, redirect_uri: &str) -> Result<Application, HttpError> {
        let body = Body::Form(vec![
            ("client_name".into(), "migrate".into()),
            ("redirect_uris".into(), redirect_uri.into()),
            ("scopes".into(), SCOPES.into()),
        ]);
        let app: Application = self.post("/api/v1/apps", body).await?;
        crate::redact::remember(&app.client_secret);
        Ok(app)
    }

    /// The `GET /oauth/authorize` URL the user opens, with PKCE (S256) and `state`.
    pub fn authorize_url(
        &self,
        app: &Application,
        redirect_uri: &str,
        state: &str,
        code_challenge: &str,
    ) -> Url {
        self.with_query(
            "/oauth/authorize",
            &[
                ("response_type", "code"),
                ("client_id", &app.client_id),
                ("redirect_uri", redirect_uri),
                ("scope", SCOPES),
                ("state", state),
                ("code_challenge", code_challenge),
                ("code_challenge_method", "S256"),
            ],
        )
    }

    /// `POST /oauth/token` with an authorization code and the PKCE verifier.
    pub async fn token_from_code(
        &self,
        app: &Application,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Token, HttpError> {
        let body = Body::Form(vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.into()),
            ("client_id".into(), app.client_id.clone()),
            ("client_secret".into(), app.client_secret.clone()),
            ("redirect_uri".into(), redirect_uri.into()),
            ("code_verifier".into(), code_verifier.into()),
            ("scope".into(), SCOPES.into()),
        ]);
        crate::redact::remember(code);
        let token: Token = self.post("/oauth/token", body).await?;
        crate::redact::remember(&token.access_token);
        Ok(token)
    }

    /// `POST /oauth/revoke`.
    pub async fn revoke(
        &self,
        client_id: &str,
        client_secret: &str,
        token: &str,
    ) -> Result<(), HttpError> {
        let body = Body::Form(vec![
            ("client_id".into(), client_id.into()),
            ("client_secret".into(), client_secret.into()),
            ("token".into(), token.into()),
        ]);
        self.send(Method::POST, self.url("/oauth/revoke"), body)
            .await
            .map(drop)
    }

    /// `GET /api/v1/accounts/verify_credentials`: whose token this is.
    pub async fn verify_credentials(&self) -> Result<Account, HttpError> {
        self.get(self.url("/api/v1/accounts/verify_credentials"))
            .await
    }

    /// `GET /api/v2/instance`, falling back to `/api/v1/instance` on servers without v2.
    pub async fn instance(&self) -> Result<InstanceInfo, HttpError> {
        match self.get::<RawInstance>(self.url("/api/v2/instance")).await {
            Ok(raw) => Ok(raw.into_info()),
            Err(HttpError::NotFound { .. }) | Err(HttpError::Status { .. }) => Ok(self
                .get::<RawInstance>(self.url("/api/v1/instance"))
                .await?
                .into_info()),
            Err(e) => Err(e),
        }
    }

    /// The server software: NodeInfo (`/.well-known/nodeinfo`), else the instance version.
    pub async fn software(&self, instance: &InstanceInfo) -> ServerSoftware {
        let nodeinfo = async {
            let index: serde_json::Value = self
                .http
                .send(Request::get(self.url("/.well-known/nodeinfo")).cap(Cap::Discovery))
                .await
                .ok()?
                .json()
                .ok()?;
            let href = index
                .get("links")?
                .as_array()?
                .iter()
                .filter_map(|l| l.get("href")?.as_str())
                .next_back()?;
            let url = Url::parse(href).ok()?;
            // NodeInfo must come from the same server.
            if url.host_str() != self.base.host_str() {
                return None;
            }
            let info: serde_json::Value = self
                .http
                .send(Request::get(url).cap(Cap::Discovery))
                .await
                .ok()?
                .json()
                .ok()?;
            let software = info.get("software")?;
            Some((
                software.get("name")?.as_str()?.to_string(),
                software
                    .get("version")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string(),
            ))
        }
        .await;
        match nodeinfo {
            Some((name, version)) => detect_software(Some(&name), &version),
            None => detect_software(None, &instance.version),
        }
    }

    /// `GET /api/v1/accounts/lookup?acct=`: only accounts the server already knows.
    pub async fn lookup(&self, acct: &str) -> Result<Account, HttpError> {
        self.get(self.with_query("/api/v1/accounts/lookup", &[("acct", acct)]))
            .await
    }

    /// `GET /api/v2/search?resolve=true&type=accounts`: the server runs WebFinger. Results are
    /// fuzzy; [`exact_account`] picks the one asked for.
    pub async fn search_accounts(
        &self,
        query: &str,
        resolve: bool,
    ) -> Result<Vec<Account>, HttpError> {
        let r: SearchResults = self
            .get(self.with_query(
                "/api/v2/search",
                &[
                    ("q", query),
                    ("type", "accounts"),
                    ("resolve", if resolve { "true" } else { "false" }),
                    ("limit", "5"),
                ],
            ))
            .await?;
        Ok(r.accounts)
    }

    /// `GET /api/v2/search?resolve=true&type=statuses`: a status by its URI or URL.
    pub async fn search_status(&self, uri: &str) -> Result<Vec<Status>, HttpError> {
        let r: SearchResults = self
            .get(self.with_query(
                "/api/v2/search",
                &[("q", uri), ("type", "statuses"), ("resolve", "true")],
            ))
            .await?;
        Ok(r.statuses)
    }

    /// `GET /api/v1/accounts/:id`.
    pub async fn account(&self, id: &str) -> Result<Account, HttpError> {
        self.get(self.url(&format!("/api/v1/accounts/{}", seg(id))))
            .await
    }

    /// `POST /api/v1/accounts/:id/follow`. The answer is optimistic (MASTODON.md §3.6).
    pub async fn follow(
        &self,
        id: &str,
        options: &FollowOptions,
    ) -> Result<Relationship, HttpError> {
        let body = Body::Json(serde_json::to_value(options).expect("serializable"));
        self.post(&format!("/api/v1/accounts/{}/follow", seg(id)), body)
            .await
    }

    /// `POST /api/v1/accounts/:id/unfollow`.
    pub async fn unfollow(&self, id: &str) -> Result<Relationship, HttpError> {
        self.post(
            &format!("/api/v1/accounts/{}/unfollow", seg(id)),
            Body::None,
        )
        .await
    }

    /// `GET /api/v1/accounts/relationships?id[]=…`, in batches of [`RELATIONSHIP_BATCH`].
    pub async fn relationships(&self, ids: &[String]) -> Result<Vec<Relationship>, HttpError> {
        let mut out = Vec::with_capacity(ids.len());
        for batch in ids.chunks(RELATIONSHIP_BATCH) {
            let mut url = self.url("/api/v1/accounts/relationships");
            {
                let mut q = url.query_pairs_mut();
                for id in batch {
                    q.append_pair("id[]", id);
                }
            }
            out.extend(self.get::<Vec<Relationship>>(url).await?);
        }
        Ok(out)
    }

    /// `GET /api/v1/accounts/:id/following`: one page; follow `next` for the rest.
    pub async fn following_page(
        &self,
        account_id: &str,
        next: Option<Url>,
    ) -> Result<Page<Account>, HttpError> {
        let url = next.unwrap_or_else(|| {
            self.with_query(
                &format!("/api/v1/accounts/{}/following", seg(account_id)),
                &[("limit", "80")],
            )
        });
        self.page(url).await
    }

    /// Every account `account_id` follows, through `Link` pagination.
    pub async fn following_all(&self, account_id: &str) -> Result<Vec<Account>, HttpError> {
        let mut all = Vec::new();
        let mut next = None;
        loop {
            let page = self.following_page(account_id, next).await?;
            let empty = page.items.is_empty();
            all.extend(page.items);
            match page.next {
                Some(url) if !empty => next = Some(url),
                _ => return Ok(all),
            }
        }
    }

    /// `POST /api/v1/accounts/:id/block`.
    pub async fn block(&self, id: &str) -> Result<Relationship, HttpError> {
        self.post(&format!("/api/v1/accounts/{}/block", seg(id)), Body::None)
            .await
    }

    /// `POST /api/v1/accounts/:id/mute` with `notifications`.
    pub async fn mute(&self, id: &str, notifications: bool) -> Result<Relationship, HttpError> {
        let body = Body::Json(serde_json::json!({ "notifications": notifications }));
        self.post(&format!("/api/v1/accounts/{}/mute", seg(id)), body)
            .await
    }

    /// `POST /api/v1/domain_blocks`.
    pub async fn block_domain(&self, domain: &str) -> Result<(), HttpError> {
        let body = Body::Form(vec![("domain".into(), domain.into())]);
        self.send(Method::POST, self.url("/api/v1/domain_blocks"), body)
            .await
            .map(drop)
    }

    /// `GET /api/v1/lists`.
    pub async fn lists(&self) -> Result<Vec<List>, HttpError> {
        self.get(self.url("/api/v1/lists")).await
    }

    /// `POST /api/v1/lists`.
    pub async fn create_list(&self, title: &str) -> Result<List, HttpError> {
        let body = Body::Form(vec![("title".into(), title.into())]);
        self.post("/api/v1/lists", body).await
    }

    /// `POST /api/v1/lists/:id/accounts`: members must be followed first.
    pub async fn add_to_list(
        &self,
        list_id: &str,
        account_ids: &[String],
    ) -> Result<(), HttpError> {
        let body = Body::Form(
            account_ids
                .iter()
                .map(|id| ("account_ids[]".to_string(), id.clone()))
                .collect(),
        );
        self.send(
            Method::POST,
            self.url(&format!("/api/v1/lists/{}/accounts", seg(list_id))),
            body,
        )
        .await
        .map(drop)
    }

    /// `POST /api/v1/statuses/:id/bookmark`.
    pub async fn bookmark(&self, status_id: &str) -> Result<Status, HttpError> {
        self.post(
            &format!("/api/v1/statuses/{}/bookmark", seg(status_id)),
            Body::None,
        )
        .await
    }

    /// `POST /api/v2/media`: 200 with a URL (images), or 202 while processing (video, GIF).
    pub async fn upload_media(
        &self,
        file_name: &str,
        mime: &str,
        bytes: Vec<u8>,
        description: Option<&str>,
    ) -> Result<MediaAttachment, HttpError> {
        let spec = MultipartSpec {
            file_field: "file".into(),
            file_name: file_name.into(),
            mime: mime.into(),
            bytes,
            text: description
                .map(|d| vec![("description".to_string(), d.to_string())])
                .unwrap_or_default(),
        };
        self.post("/api/v2/media", Body::Multipart(spec)).await
    }

    /// `GET /api/v1/media/:id`: 206 while processing, 200 when ready.
    pub async fn media(&self, id: &str) -> Result<(bool, MediaAttachment), HttpError> {
        let r = self
            .send(
                Method::GET,
                self.url(&format!("/api/v1/media/{}", seg(id))),
                Body::None,
            )
            .await?;
        let media: MediaAttachment = r.json()?;
        let ready = r.status.as_u16() != 206 && media.url.is_some();
        Ok((ready, media))
    }

    /// Polls `GET /api/v1/media/:id` until the media is processed, waiting longer between
    /// polls (0.5 s doubling to 8 s), at most `max_wait`.
    pub async fn wait_for_media(
        &self,
        id: &str,
        max_wait: Duration,
    ) -> Result<MediaAttachment, MediaWaitError> {
        let started = std::time::Instant::now();
        let mut delay = Duration::from_millis(500);
        let mut failures = 0;
        loop {
            // A poll is harmless to repeat: a failed one is tried again, a few times.
            match self.media(id).await {
                Ok((true, media)) => return Ok(media),
                Ok((false, _)) => failures = 0,
                Err(e) if e.is_transient() && failures < 4 => failures += 1,
                Err(e) => return Err(MediaWaitError::Http(e)),
            }
            if started.elapsed() + delay > max_wait {
                return Err(MediaWaitError::TimedOut {
                    id: id.to_string(),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(8));
        }
    }

    /// `POST /api/v1/statuses` with an `Idempotency-Key`: a replay within the key's hour
    /// answers with the status first created.
    pub async fn post_status(
        &self,
        status: &NewStatus,
        idempotency_key: &str,
    ) -> Result<Posted, HttpError> {
        let body = Body::Json(serde_json::to_value(status).expect("serializable"));
        let r = self
            .http
            .send(Request {
                method: Method::POST,
                url: self.url("/api/v1/statuses"),
                token: self.token.as_deref(),
                body,
                idempotency_key: Some(idempotency_key),
                cap: Cap::Json,
            })
            .await;
        self.note_rate_limit(&r);
        r?.json()
    }

    /// `GET /api/v1/statuses/:id`.
    pub async fn status(&self, id: &str) -> Result<Status, HttpError> {
        self.get(self.url(&format!("/api/v1/statuses/{}", seg(id))))
            .await
    }

    /// `GET /api/v1/statuses/:id/source`: the text as it was posted (Mastodon 3.5+).
    pub async fn status_source(&self, id: &str) -> Result<StatusSource, HttpError> {
        self.get(self.url(&format!("/api/v1/statuses/{}/source", seg(id))))
            .await
    }

    /// `GET /api/v1/accounts/:id/statuses`: one page, newest first; `next` for older ones.
    pub async fn account_statuses_page(
        &self,
        account_id: &str,
        next: Option<Url>,
    ) -> Result<Page<Status>, HttpError> {
        let url = next.unwrap_or_else(|| {
            self.with_query(
                &format!("/api/v1/accounts/{}/statuses", seg(account_id)),
                &[("limit", "40")],
            )
        });
        self.page(url).await
    }

    /// `DELETE /api/v1/statuses/:id`.
    pub async fn delete_status(&self, id: &str) -> Result<(), HttpError> {
        self.send(
            Method::DELETE,
            self.url(&format!("/api/v1/statuses/{}", seg(id))),
            Body::None,
        )
        .await
        .map(drop)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaWaitError {
    #[error(transparent)]
    Http(HttpError),
    #[error("media {id} was still processing after {} s", waited.as_secs())]
    TimedOut { id: String, waited: Duration },
}

/// The account of `results` whose `acct` is `wanted` (case-insensitive; a local account's
/// `acct` has no domain, so `user@home` matches `user` when `home` is the server's domain).
/// Fuzzy search puts decoys first: never take the first result blindly.
pub fn exact_account<'a>(
    results: &'a [Account],
    wanted: &str,
    home_domain: &str,
) -> Option<&'a Account> {
    let wanted = wanted.trim_start_matches('@').to_lowercase();
    results.iter().find(|a| {
        let acct = a.acct.to_lowercase();
        acct == wanted
            || (!acct.contains('@') && format!("{acct}@{}", home_domain.to_lowercase()) == wanted)
    })
}

/// A path segment with anything but safe id characters percent-encoded.
fn seg(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

/// Ids are strings in Mastodon's API; some servers send numbers.
fn id_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(id_string_opt(d)?.unwrap_or_default())
}

fn id_string_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IdRepr {
        S(String),
        U(u64),
        I(i64),
    }
    Ok(Option::<IdRepr>::deserialize(d)?.map(|r| match r {
        IdRepr::S(s) => s,
        IdRepr::U(u) => u.to_string(),
        IdRepr::I(i) => i.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_detection() {
        assert_eq!(detect_software(None, "4.3.1").software, Software::Mastodon);
        let p = detect_software(None, "2.7.2 (compatible; Pleroma 2.5.0)");
        assert_eq!(
            (p.software, p.version.as_str()),
            (Software::Pleroma, "2.5.0")
        );
        assert_eq!(
            detect_software(None, "3.5.3 (compatible; Akkoma 3.10.4)").software,
            Software::Akkoma
        );
        assert_eq!(
            detect_software(Some("gotosocial"), "0.17.0").software,
            Software::GoToSocial
        );
        assert_eq!(
            detect_software(Some("sharkey"), "2024.9").software,
            Software::MisskeyFamily
        );
        assert_eq!(
            detect_software(Some("lemmy"), "0.19").software,
            Software::Other
        );
    }

    #[test]
    fn tolerant_entities() {
        // GoToSocial-style: numeric-looking ids as strings, missing counts; Misskey: opaque ids.
        let a: Account =
            serde_json::from_str(r#"{"id":"01HX","acct":"a@b.example","extra":1}"#).unwrap();
        assert_eq!(a.id, "01HX");
        assert_eq!(a.followers_count, 0);
        let a: Account = serde_json::from_str(r#"{"id":123,"acct":"x"}"#).unwrap();
        assert_eq!(a.id, "123");
        let r: Relationship = serde_json::from_str(r#"{"id":"1","following":true}"#).unwrap();
        assert!(r.following && !r.requested);
        let i: RawInstance =
            serde_json::from_str(r#"{"uri":"p.example","version":"2.7.2 (compatible; Pleroma 2.5.0)","max_toot_chars":5000}"#)
                .unwrap();
        assert_eq!(i.into_info().max_characters, 5000);
    }

    #[test]
    fn no_null_fields_are_sent() {
        let v = serde_json::to_value(FollowOptions {
            reblogs: Some(false),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(v, serde_json::json!({"reblogs": false}));
        let v = serde_json::to_value(NewStatus {
            status: "hi".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(v, serde_json::json!({"status": "hi"}));
    }

    #[test]
    fn exact_match_skips_decoys() {
        let accounts: Vec<Account> = serde_json::from_str(
            r#"[{"id":"1","acct":"ana@mastodon.example.net"},{"id":"2","acct":"anabel@mastodon.example"},{"id":"3","acct":"Ana@Mastodon.example"}]"#,
        )
        .unwrap();
        assert_eq!(
            exact_account(&accounts, "@ana@mastodon.example", "home.example")
                .map(|a| a.id.as_str()),
            Some("3")
        );
        let local: Vec<Account> = serde_json::from_str(r#"[{"id":"9","acct":"bob"}]"#).unwrap();
        assert_eq!(
            exact_account(&local, "bob@home.example", "home.example").map(|a| a.id.as_str()),
            Some("9")
        );
        assert!(exact_account(&local, "bob@else.example", "home.example").is_none());
    }
}
