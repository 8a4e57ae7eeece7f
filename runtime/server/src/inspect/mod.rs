//! `edgeshim serve --inspect`: a page, on its own loopback port, that shows and edits the KV
//! stores the app server uses, shows and purges its edge caches, and shows its requests live
//! with the calls each made.
//!
//! The page is one static HTML file with its script and style (`page.*`, embedded: no
//! build step, nothing from the network). It talks to a small JSON API here:
//!
//! | Call | Answer |
//! |------|--------|
//! | `GET /api/stores` | `{"stores": [{"name", "entries"}]}` |
//! | `GET /api/keys?store&prefix&cursor&limit` | one page of keys: `{"keys", "cursor"}` |
//! | `GET /api/entry?store&key` | the entry: value (base64 and its kind), metadata, generation, TTL left |
//! | `PUT /api/entry?store&key` | writes `{"value" or "value_base64", "metadata", "ttl", "add"}`; answers the entry |
//! | `DELETE /api/entry?store&key` | deletes the key |
//! | `GET /api/log` | server-sent events of requests and their calls ([`activity`]) |
//! | `GET /api/caches` | each edge location's cache: `{"caches": [{"location", "name", "keys", "bytes"}]}` |
//! | `GET /api/cache/keys?location&prefix&cursor&limit` | one page of cached keys with their objects: `{"keys", "cursor"}` |
//! | `GET /api/cache/object?location&key` (or `key_hex`) | one key's objects, each with its body's first 64 KiB (base64 and its kind) |
//! | `DELETE /api/cache/object?location&key` (or `key_hex`) | drops the key's objects: `{"removed"}` |
//! | `POST /api/cache/purge?location` | `{"surrogate_key", "soft"}`, as `purgeSurrogateKey` does there: `{"purged"}` |
//!
//! Keys pass the runtime's checks with its messages (those of `edgeshim kv`). An error
//! answers `{"error": "…"}` with the status [`ApiError::status`] gives. The caches are those
//! of the app version serving now (`--watch` gives each version fresh ones); `location` is
//! `0` unless given.
//!
//! The page edits data without any login, so it listens on loopback only, answers only
//! requests addressed to a loopback name (a web page elsewhere cannot reach it through DNS
//! rebinding), and writes only with PUT, DELETE and a POST of JSON, which a page of another
//! origin cannot send here without a CORS preflight that is never granted.

pub(crate) mod activity;

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use edgeshim_store::cache::{self, Cache, CacheOp, CachedKey, CachedObject, Wait};
use edgeshim_store::{Clock, Insert, InsertMode, KvStore, ListRequest, StoreError, Stores};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;

pub(crate) use activity::{Activity, ObservedHost};

use crate::http::CurrentPool;

/// `--inspect` without an address: the port after the app server's default one.
pub const DEFAULT_INSPECT_ADDR: &str = "127.0.0.1:7677";

const PAGE_HTML: &str = include_str!("page.html");
const PAGE_JS: &str = include_str!("page.js");
const PAGE_CSS: &str = include_str!("page.css");

/// Keys a listing page holds unless asked otherwise, and at most.
const DEFAULT_PAGE: u64 = 50;
const MAX_PAGE: u64 = 1000;

/// Bytes of each cached body an object's answer carries.
const CACHE_PREVIEW: usize = 64 * 1024;

/// Largest request body: a KV value's limit (25 MB) in base64, with room for the rest.
const MAX_BODY: usize = 40 * 1024 * 1024;

/// Why an API call failed. Every message says what was wrong; the page shows it as is.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("no KV store named {name:?} (stores: {known})")]
    NoStore { name: String, known: String },
    #[error("{0}")]
    Key(String),
    #[error("key {key:?} is not in store {store:?}")]
    NotFound { store: String, key: String },
    #[error("key {key:?} already exists in store {store:?}")]
    Exists { store: String, key: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("the store failed: {0}")]
    Store(String),
    #[error("nothing at {0}")]
    NoRoute(String),
    #[error("{method} is not allowed on {path}")]
    Method { method: Method, path: String },
    #[error(
        "this page answers only requests to 127.0.0.1, [::1] or localhost, not to {0:?} \
         (it edits the app's data)"
    )]
    ForeignHost(String),
    #[error("no edge location {given:?}: there {}", locations_text(*.count))]
    NoLocation { given: String, count: usize },
    #[error("key {key:?} is not in the cache of pop-{location}")]
    NotCached { key: String, location: usize },
    #[error("send the body as JSON (content-type: application/json)")]
    NotJson,
    #[error("the server is stopping")]
    Stopping,
}

fn locations_text(count: usize) -> String {
    match count {
        1 => "is one, 0 (--pops sets how many)".to_owned(),
        n => format!("are {n}, 0 to {} (--pops)", n - 1),
    }
}

impl ApiError {
    /// The one place errors become statuses.
    fn status(&self) -> StatusCode {
        match self {
            Self::NoStore { .. }
            | Self::NotFound { .. }
            | Self::NoRoute(_)
            | Self::NoLocation { .. }
            | Self::NotCached { .. } => StatusCode::NOT_FOUND,
            Self::Key(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Exists { .. } => StatusCode::CONFLICT,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Method { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::ForeignHost(_) => StatusCode::FORBIDDEN,
            Self::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Stopping => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn store(error: StoreError) -> Self {
        match error {
            // The detail is hidden from apps, not from the person at the page.
            StoreError::InternalError(detail) => Self::Store(detail),
            other => Self::Store(other.to_string()),
        }
    }
}

/// What the API reaches: the app server's stores (as every location sees them once writes
/// have propagated) and clock, its live log, and the app version serving now (for its edge
/// caches).
#[derive(Debug, Clone)]
struct Inspector {
    stores: Stores,
    clock: Arc<dyn Clock>,
    activity: Arc<Activity>,
    /// Weak: the server alone ends the pool, waiting for its workers, when it stops.
    pool: Weak<CurrentPool>,
}

/// A running inspection page; stopped when dropped.
#[derive(Debug)]
pub(crate) struct InspectServer {
    addr: SocketAddr,
    activity: Arc<Activity>,
    task: tokio::task::JoinHandle<()>,
}

impl InspectServer {
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The live log the app server reports its requests to.
    pub(crate) fn activity(&self) -> Arc<Activity> {
        self.activity.clone()
    }
}

impl Drop for InspectServer {
    fn drop(&mut self) {
        self.task.abort();
        // Open pages' event streams end with it.
        self.activity.close();
    }
}

/// Why the page did not start.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(
        "--inspect={0}: not a loopback address; the page edits the app's data without any \
         login, so it listens on 127.0.0.1 or [::1] only"
    )]
    NotLoopback(SocketAddr),
    #[error(
        "--inspect: cannot listen on {addr}: {source} (is another server using it? pick \
         another with --inspect=ADDR)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Starts the page on `addr` (loopback only) for `stores` and the edge caches of the app
/// `pool` serves.
pub(crate) async fn start(
    addr: SocketAddr,
    stores: Stores,
    clock: Arc<dyn Clock>,
    pool: &Arc<CurrentPool>,
) -> Result<InspectServer, InspectError> {
    if !addr.ip().is_loopback() {
        return Err(InspectError::NotLoopback(addr));
    }
    let bind = |source| InspectError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(bind)?;
    let addr = listener.local_addr().map_err(bind)?;
    let activity = Arc::new(Activity::new());
    let inspector = Inspector {
        stores,
        clock,
        activity: activity.clone(),
        pool: Arc::downgrade(pool),
    };
    let task = tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("--inspect: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let inspector = inspector.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let inspector = inspector.clone();
                    async move { Ok::<_, std::convert::Infallible>(answer(&inspector, request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(InspectServer {
        addr,
        activity,
        task,
    })
}

type Body = BoxBody<Bytes, std::io::Error>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

fn respond(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    headers.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    response
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    respond(status, "application/json", full(value.to_string()))
}

async fn answer(inspector: &Inspector, request: Request<Incoming>) -> Response<Body> {
    match route(inspector, request).await {
        Ok(response) => response,
        Err(error) => json_response(error.status(), &json!({ "error": error.to_string() })),
    }
}

/// Whether `host` (a `Host` header) names this machine's loopback interface.
fn loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

/// The query's parameters.
fn query(request: &Request<Incoming>) -> Vec<(String, String)> {
    request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, ApiError> {
    param(params, name)
        .ok_or_else(|| ApiError::BadRequest(format!("the {name} parameter is missing")))
}

async fn route(
    inspector: &Inspector,
    request: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let host = request
        .headers()
        .get(hyper::header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .unwrap_or_default();
    if !loopback_host(&host) {
        return Err(ApiError::ForeignHost(host));
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let params = query(&request);
    let wrong_method = || ApiError::Method {
        method: method.clone(),
        path: path.clone(),
    };
    match path.as_str() {
        "/" | "/index.html" if method == Method::GET => Ok(respond(
            StatusCode::OK,
            "text/html; charset=utf-8",
            full(PAGE_HTML),
        )),
        "/page.js" if method == Method::GET => Ok(respond(
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            full(PAGE_JS),
        )),
        "/page.css" if method == Method::GET => Ok(respond(
            StatusCode::OK,
            "text/css; charset=utf-8",
            full(PAGE_CSS),
        )),
        "/api/log" if method == Method::GET => log_stream(inspector),
        "/api/stores" | "/api/keys" | "/api/entry" => {
            let inspector = inspector.clone();
            let body = match method {
                Method::PUT => read_body(request).await?,
                Method::GET | Method::DELETE => Bytes::new(),
                _ => return Err(wrong_method()),
            };
            if method != Method::GET && path != "/api/entry" {
                return Err(wrong_method());
            }
            // Store calls may block (SQLite's busy wait, Redis): off the reactor.
            let value = tokio::task::spawn_blocking(move || {
                api(&inspector, &method, &path, &params, &body)
            })
            .await
            .map_err(|e| ApiError::Store(format!("the call failed: {e}")))??;
            Ok(json_response(StatusCode::OK, &value))
        }
        "/api/caches" | "/api/cache/keys" | "/api/cache/object" | "/api/cache/purge" => {
            let allowed = match path.as_str() {
                "/api/cache/object" => method == Method::GET || method == Method::DELETE,
                "/api/cache/purge" => method == Method::POST,
                _ => method == Method::GET,
            };
            if !allowed {
                return Err(wrong_method());
            }
            let body = if method == Method::POST {
                // A page of another origin may POST a form or text here without a preflight,
                // but not JSON.
                let json = request
                    .headers()
                    .get(hyper::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(';').next())
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
                if !json {
                    return Err(ApiError::NotJson);
                }
                read_body(request).await?
            } else {
                Bytes::new()
            };
            let inspector = inspector.clone();
            // Off the reactor: the last handle on an old app version may end here, and that
            // waits for its workers.
            let value = tokio::task::spawn_blocking(move || {
                cache_api(&inspector, &method, &path, &params, &body)
            })
            .await
            .map_err(|e| ApiError::Store(format!("the call failed: {e}")))??;
            Ok(json_response(StatusCode::OK, &value))
        }
        "/" | "/index.html" | "/page.js" | "/page.css" | "/api/log" => Err(wrong_method()),
        _ => Err(ApiError::NoRoute(path)),
    }
}

async fn read_body(request: Request<Incoming>) -> Result<Bytes, ApiError> {
    Limited::new(request.into_body(), MAX_BODY)
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .map_err(|e| ApiError::BadRequest(format!("cannot read the request body: {e}")))
}

fn api(
    inspector: &Inspector,
    method: &Method,
    path: &str,
    params: &[(String, String)],
    body: &[u8],
) -> Result<Value, ApiError> {
    if path == "/api/stores" {
        let stores: Vec<Value> = inspector
            .stores
            .names()
            .map(|name| {
                let entries = inspector.stores.get(name).map_or(0, |s| s.len());
                json!({ "name": name, "entries": entries })
            })
            .collect();
        return Ok(json!({ "stores": stores }));
    }
    let name = required(params, "store")?;
    let store = inspector.store(name)?;
    if path == "/api/keys" {
        return keys(store.as_ref(), params);
    }
    let key = required(params, "key")?;
    check_key(key)?;
    let not_found = || ApiError::NotFound {
        store: name.to_owned(),
        key: key.to_owned(),
    };
    match *method {
        Method::GET => {
            let entry = store
                .lookup(key)
                .map_err(ApiError::store)?
                .ok_or_else(not_found)?;
            Ok(inspector.entry_json(name, key, &entry))
        }
        Method::DELETE => match store.delete(key) {
            Ok(()) => Ok(json!({})),
            Err(StoreError::NotFound) => Err(not_found()),
            Err(e) => Err(ApiError::store(e)),
        },
        _ => {
            let write: Write = serde_json::from_slice(body)
                .map_err(|e| ApiError::BadRequest(format!("the body is not a write: {e}")))?;
            let add = write.add;
            match store.insert(key, write.insert()?) {
                Ok(()) => {}
                Err(StoreError::PreconditionFailed) if add => {
                    return Err(ApiError::Exists {
                        store: name.to_owned(),
                        key: key.to_owned(),
                    })
                }
                Err(e) => return Err(ApiError::store(e)),
            }
            // Read back: the page shows what the app will now read (an entry written with
            // a TTL of under a millisecond may already be gone).
            let entry = store
                .lookup(key)
                .map_err(ApiError::store)?
                .ok_or_else(not_found)?;
            Ok(inspector.entry_json(name, key, &entry))
        }
    }
}

impl Inspector {
    fn store(&self, name: &str) -> Result<Arc<dyn KvStore>, ApiError> {
        self.stores.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.stores.names().collect();
            ApiError::NoStore {
                name: name.to_owned(),
                known: if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                },
            }
        })
    }

    fn entry_json(&self, store: &str, key: &str, entry: &edgeshim_store::Entry) -> Value {
        let now = self.clock.now();
        let ttl_ms = entry.expires_at.map(|at| {
            u64::try_from(at.duration_since(now).unwrap_or_default().as_millis())
                .unwrap_or(u64::MAX)
        });
        let (kind, mime) = kind_of(&entry.value);
        json!({
            "store": store,
            "key": key,
            "size": entry.value.len(),
            "kind": kind,
            "mime": mime,
            "value_base64": STANDARD.encode(&entry.value),
            "metadata": entry.metadata.as_ref().map(|m| String::from_utf8_lossy(m)),
            "generation": entry.generation,
            "ttl_ms": ttl_ms,
            "expires_at": entry.expires_at.map(millis),
        })
    }
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The runtime's key checks and messages (`edgeshim kv`'s).
fn check_key(key: &str) -> Result<(), ApiError> {
    crate::kv_cli::checked(key).map_err(|e| ApiError::Key(e.to_string()))
}

/// The `limit` parameter of a listing.
fn page_limit(params: &[(String, String)]) -> Result<u64, ApiError> {
    match param(params, "limit") {
        None | Some("") => Ok(DEFAULT_PAGE),
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "limit {text:?} is not a number of keys from 1 to {MAX_PAGE}"
                ))
            }),
    }
}

fn keys(store: &dyn KvStore, params: &[(String, String)]) -> Result<Value, ApiError> {
    let limit = page_limit(params)?;
    // An empty prefix or cursor is none (the platform refuses empty ones).
    let given = |name| {
        param(params, name)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let page = store
        .list(&ListRequest {
            prefix: given("prefix"),
            limit: Some(limit),
            cursor: given("cursor"),
        })
        .map_err(|e| match e {
            StoreError::BadRequest => ApiError::BadRequest(
                "the cursor is not one a listing of this store returned".to_owned(),
            ),
            other => ApiError::store(other),
        })?;
    Ok(json!({ "keys": page.keys, "cursor": page.cursor }))
}

/// A `PUT /api/entry` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Write {
    /// The value as text…
    #[serde(default)]
    value: Option<String>,
    /// …or as base64, for bytes that are not text.
    #[serde(default)]
    value_base64: Option<String>,
    /// `None` or empty: no metadata (the platform refuses empty metadata).
    #[serde(default)]
    metadata: Option<String>,
    /// Seconds to live; `None`: until overwritten or deleted.
    #[serde(default)]
    ttl: Option<f64>,
    /// Only if the key is absent (a new entry): an existing key is a conflict.
    #[serde(default)]
    add: bool,
}

impl Write {
    fn insert(self) -> Result<Insert, ApiError> {
        let value = match (self.value, self.value_base64) {
            (Some(text), None) => Bytes::from(text),
            (None, Some(encoded)) => Bytes::from(STANDARD.decode(encoded.trim()).map_err(|e| {
                ApiError::BadRequest(format!("value_base64 is not standard base64: {e}"))
            })?),
            _ => {
                return Err(ApiError::BadRequest(
                    "give the value as either value (text) or value_base64".to_owned(),
                ))
            }
        };
        let ttl = self
            .ttl
            .map(|seconds| {
                Duration::try_from_secs_f64(seconds)
                    .ok()
                    .filter(|ttl| !ttl.is_zero())
                    .ok_or_else(|| {
                        ApiError::BadRequest(format!(
                            "ttl {seconds} is not a number of seconds above 0"
                        ))
                    })
            })
            .transpose()?;
        Ok(Insert {
            value,
            metadata: self.metadata.filter(|m| !m.is_empty()).map(Bytes::from),
            ttl,
            mode: if self.add {
                InsertMode::Add
            } else {
                InsertMode::Overwrite
            },
            if_generation_match: None,
        })
    }
}

/// What a value looks like, for showing it: `image` (with its type, by its magic bytes),
/// `json` (an object or array), `text` (UTF-8) or `binary`.
fn kind_of(value: &[u8]) -> (&'static str, Option<&'static str>) {
    let image = if value.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if value.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if value.starts_with(b"GIF87a") || value.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if value.len() >= 12 && value.starts_with(b"RIFF") && &value[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    };
    if image.is_some() {
        return ("image", image);
    }
    let Ok(text) = std::str::from_utf8(value) else {
        return ("binary", None);
    };
    let structured = matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['));
    if structured && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        ("json", None)
    } else {
        ("text", None)
    }
}

/// The `/api/cache…` calls, on the caches of the app version serving now.
fn cache_api(
    inspector: &Inspector,
    method: &Method,
    path: &str,
    params: &[(String, String)],
    body: &[u8],
) -> Result<Value, ApiError> {
    let caches = inspector
        .pool
        .upgrade()
        .ok_or(ApiError::Stopping)?
        .get()
        .app()
        .edge_caches();
    if path == "/api/caches" {
        let caches: Vec<Value> = caches
            .iter()
            .enumerate()
            .map(|(location, cache)| {
                let usage = cache.usage();
                json!({
                    "location": location,
                    "name": format!("pop-{location}"),
                    "keys": usage.keys,
                    "bytes": usage.bytes,
                })
            })
            .collect();
        return Ok(json!({ "caches": caches }));
    }
    let (location, cache) = match param(params, "location") {
        None | Some("") => (0, caches.first()),
        Some(text) => text
            .parse::<usize>()
            .map_or((0, None), |n| (n, caches.get(n))),
    };
    let cache: &Cache = cache.ok_or_else(|| ApiError::NoLocation {
        given: param(params, "location").unwrap_or("0").to_owned(),
        count: caches.len(),
    })?;
    match path {
        "/api/cache/keys" => cached_keys(cache, params),
        "/api/cache/purge" => {
            let purge: Purge = serde_json::from_slice(body)
                .map_err(|e| ApiError::BadRequest(format!("the body is not a purge: {e}")))?;
            if purge.surrogate_key.is_empty() {
                return Err(ApiError::BadRequest(
                    "give the surrogate key to purge".to_owned(),
                ));
            }
            let op = CacheOp::Purge {
                surrogate_key: purge.surrogate_key,
                soft: purge.soft,
            };
            match cache.run(op, Wait::Never) {
                Ok(cache::CacheReply::Purged(purged)) => Ok(json!({ "purged": purged })),
                Ok(other) => Err(ApiError::Store(format!("a purge answered {other:?}"))),
                Err(e) => Err(ApiError::Store(e.to_string())),
            }
        }
        _ => {
            let key = cache_key(params)?;
            let not_cached = || ApiError::NotCached {
                key: shown_key(&key),
                location,
            };
            if *method == Method::DELETE {
                return match cache.remove(&key) {
                    0 => Err(not_cached()),
                    removed => Ok(json!({ "removed": removed })),
                };
            }
            let found = cache.object(&key, CACHE_PREVIEW).ok_or_else(not_cached)?;
            Ok(cached_key_json(&found, true))
        }
    }
}

/// A `POST /api/cache/purge` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Purge {
    surrogate_key: String,
    /// Stale instead of gone (`purgeSurrogateKey(key, true)`).
    #[serde(default)]
    soft: bool,
}

/// The `key` (text) or `key_hex` parameter: cache keys are bytes.
fn cache_key(params: &[(String, String)]) -> Result<Bytes, ApiError> {
    match (param(params, "key"), param(params, "key_hex")) {
        (Some(text), None) => Ok(Bytes::from(text.to_owned())),
        (None, Some(encoded)) => from_hex(encoded).map(Bytes::from).ok_or_else(|| {
            ApiError::BadRequest(format!("key_hex {encoded:?} is not hexadecimal bytes"))
        }),
        _ => Err(ApiError::BadRequest(
            "give the key as either key (text) or key_hex".to_owned(),
        )),
    }
}

fn cached_keys(cache: &Cache, params: &[(String, String)]) -> Result<Value, ApiError> {
    let limit = page_limit(params)?;
    let cursor = match param(params, "cursor") {
        None | Some("") => None,
        Some(text) => Some(from_hex(text).map(Bytes::from).ok_or_else(|| {
            ApiError::BadRequest(
                "the cursor is not one a listing of this cache returned".to_owned(),
            )
        })?),
    };
    let listing = cache.list(&cache::ListRequest {
        prefix: Bytes::from(param(params, "prefix").unwrap_or("").to_owned()),
        cursor,
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    });
    let keys: Vec<Value> = listing
        .keys
        .iter()
        .map(|k| cached_key_json(k, false))
        .collect();
    Ok(json!({ "keys": keys, "cursor": listing.cursor.map(|c| to_hex(&c)) }))
}

/// A key as text when it is UTF-8, else as hex.
fn shown_key(key: &[u8]) -> String {
    std::str::from_utf8(key).map_or_else(|_| to_hex(key), str::to_owned)
}

fn cached_key_json(found: &CachedKey, with_body: bool) -> Value {
    let variants: Vec<Value> = found
        .variants
        .iter()
        .map(|object| cached_object_json(object, with_body))
        .collect();
    json!({
        "key": shown_key(&found.key),
        "key_hex": to_hex(&found.key),
        "key_is_text": std::str::from_utf8(&found.key).is_ok(),
        "pending": found.pending,
        "variants": variants,
    })
}

fn cached_object_json(object: &CachedObject, with_body: bool) -> Value {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let vary: Vec<Value> = object
        .vary
        .iter()
        .map(|(header, value)| json!({ "header": header, "value": value }))
        .collect();
    let mut value = json!({
        "vary": vary,
        "length": object.length,
        "max_age_ms": ms(object.max_age),
        "age_ms": ms(object.age),
        "ttl_ms": ms(object.ttl),
        "stale_while_revalidate_ms": ms(object.stale_while_revalidate),
        "stale_if_error_ms": ms(object.stale_if_error),
        "surrogate_keys": object.surrogate_keys,
        "user_metadata": (!object.user_metadata.is_empty())
            .then(|| String::from_utf8_lossy(&object.user_metadata)),
        "hits": object.hits,
        "stale": object.stale,
        "usable": object.usable,
    });
    if with_body {
        let (kind, mime) = kind_of(&object.body);
        value["body_base64"] = json!(STANDARD.encode(&object.body));
        value["body_truncated"] = json!((object.body.len() as u64) < object.length);
        value["kind"] = json!(kind);
        value["mime"] = json!(mime);
    }
    value
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| {
            text.get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

/// The live log as server-sent events: the requests the ring holds, then each new event.
fn log_stream(inspector: &Inspector) -> Result<Response<Body>, ApiError> {
    let (past, receiver) = inspector
        .activity
        .subscribe()
        .ok_or_else(|| ApiError::NoRoute("/api/log (the server is stopping)".to_owned()))?;
    let past = futures_util::stream::iter(past.into_iter().map(|event| Ok(sse(&event))));
    let live = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let event = match receiver.recv().await {
            Ok(event) => sse(&event),
            // The page read too slowly: tell it, and go on with what comes next.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                sse(&json!({ "type": "missed", "count": missed }).to_string())
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(event), receiver))
    });
    let body = BodyExt::boxed(StreamBody::new(futures_util::StreamExt::chain(past, live)));
    Ok(respond(StatusCode::OK, "text/event-stream", body))
}

fn sse(event: &str) -> Frame<Bytes> {
    Frame::data(Bytes::from(format!("data: {event}\n\n")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values_are_shown_by_kind() {
        assert_eq!(
            kind_of(b"\x89PNG\r\n\x1a\nrest"),
            ("image", Some("image/png"))
        );
        assert_eq!(kind_of(b"\xFF\xD8\xFF\xE0"), ("image", Some("image/jpeg")));
        assert_eq!(kind_of(b"GIF89a.."), ("image", Some("image/gif")));
        assert_eq!(
            kind_of(b"RIFF\0\0\0\0WEBPVP8 "),
            ("image", Some("image/webp"))
        );
        assert_eq!(kind_of(br#" {"a": [1, 2]}"#), ("json", None));
        assert_eq!(kind_of(b"[1, 2"), ("text", None));
        assert_eq!(kind_of(b"42"), ("text", None));
        assert_eq!(kind_of(b""), ("text", None));
        assert_eq!(kind_of(b"\xC3\x28"), ("binary", None));
    }

    #[test]
    fn cache_keys_travel_as_hex() {
        assert_eq!(to_hex(b"\x00\xffa"), "00ff61");
        assert_eq!(from_hex("00FF61"), Some(b"\x00\xffa".to_vec()));
        assert_eq!(from_hex(""), Some(Vec::new()));
        assert_eq!(from_hex("0"), None);
        assert_eq!(from_hex("zz"), None);
        // Not a char boundary: refused, not a panic.
        assert_eq!(from_hex("aéb"), None);
        assert_eq!(shown_key(b"page/a"), "page/a");
        assert_eq!(shown_key(b"\xc3\x28"), "c328");
    }

    #[test]
    fn only_loopback_names_are_answered() {
        for host in ["127.0.0.1:7677", "localhost:1", "[::1]:80", "localhost"] {
            assert!(loopback_host(host), "{host}");
        }
        for host in ["evil.example:7677", "127.0.0.1.evil.example", "", "[::2]:1"] {
            assert!(!loopback_host(host), "{host}");
        }
    }

    #[test]
    fn writes_need_exactly_one_value_and_a_positive_ttl() {
        let write = |body: &str| {
            serde_json::from_str::<Write>(body)
                .map_err(|e| e.to_string())
                .and_then(|w| w.insert().map_err(|e| e.to_string()))
        };
        let insert = write(r#"{"value": "v", "metadata": "", "ttl": 1.5}"#).unwrap();
        assert_eq!(insert.value, "v");
        assert_eq!(insert.metadata, None);
        assert_eq!(insert.ttl, Some(Duration::from_millis(1500)));
        assert_eq!(
            write(r#"{"value_base64": "AAE="}"#).unwrap().value,
            &[0u8, 1][..]
        );
        assert_eq!(
            write(r#"{"value": "a", "value_base64": "AA=="}"#).unwrap_err(),
            "give the value as either value (text) or value_base64"
        );
        assert_eq!(
            write(r#"{"value": "a", "ttl": 0}"#).unwrap_err(),
            "ttl 0 is not a number of seconds above 0"
        );
        assert!(write(r#"{"value_base64": "%%"}"#)
            .unwrap_err()
            .starts_with("value_base64 is not standard base64"));
    }
}
