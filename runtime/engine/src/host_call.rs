//! The host-call boundary: every service the app reaches outside JavaScript is one
//! [`HostCall`] out and one [`HostReply`] back (KV, the cache), or one [`BackendRequest`] out
//! and one [`BackendResponse`] back, with bodies streaming both ways ([`Host::send`],
//! `fetch()`).
//!
//! Calls are plain data. Most are asynchronous: the JS thread starts one and keeps running its
//! event loop; whoever implements [`Host`] (the server's [`LocalHost`], or the connection a
//! snapshot copy has to the server) does the waiting elsewhere. The platform's synchronous
//! APIs (`CoreCache.lookup`, `SimpleCache.get`) use [`Host::call_blocking`], which holds the JS
//! thread as Compute holds the instance. Nothing here knows Boa.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use edgeshim_store::cache::{Cache, CacheError, CacheOp, CacheReply, Wait};
use edgeshim_store::rate::{RateError, RateLimits, RateOp, RateReply};
use edgeshim_store::{Clock, Entry, Insert, KvStore, ListPage, ListRequest, StoreError, Stores};
use serde::{Deserialize, Serialize};

use crate::http_cache::CachePolicy;
use crate::origin::Origins;
use crate::web::body_stream::HostBody;

/// One request to the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum HostCall {
    /// An operation on the KV store `store`, as edge location `pop` sees it.
    Kv { store: String, pop: usize, op: KvOp },
    /// An operation on the cache of edge location `pop`.
    Cache { pop: usize, op: CacheOp },
    /// An operation on the rate counters and penalty boxes of edge location `pop`.
    Rate { pop: usize, op: RateOp },
}

impl HostCall {
    /// The reply for this call when the host could not be reached (`why`).
    pub fn unanswered(&self, why: &str) -> HostReply {
        match self {
            Self::Kv { .. } => HostReply::Kv(Err(StoreError::InternalError(why.to_owned()))),
            Self::Cache { .. } => HostReply::Cache(Err(CacheError::Unreachable(why.to_owned()))),
            Self::Rate { .. } => HostReply::Rate(Err(RateError::Unreachable(why.to_owned()))),
        }
    }
}

/// A KV store operation (the platform's `kv_store` host calls).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum KvOp {
    Lookup { key: String },
    Insert { key: String, insert: Insert },
    Delete { key: String },
    List { request: ListRequest },
}

/// The host's answer to one [`HostCall`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum HostReply {
    Kv(Result<KvReply, StoreError>),
    Cache(Result<CacheReply, CacheError>),
    Rate(Result<RateReply, RateError>),
}

/// What a successful [`KvOp`] returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum KvReply {
    Entry(Option<Entry>),
    Done,
    Page(ListPage),
}

/// A reply in flight; `Send`, so it may be awaited on another thread or process.
pub type HostFuture = Pin<Box<dyn Future<Output = HostReply> + Send>>;

/// A backend as the host needs it to send a request there: a static one of fastly.toml or
/// one the app made with `new Backend()`, in plain data. Requests to equal specs share
/// connections.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BackendSpec {
    pub name: String,
    /// Host name or IP address to connect to.
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// Prepended to every request's path (a static backend's `url` path, as Viceroy does).
    pub path_prefix: String,
    /// The `Host` header sent instead of the URL's.
    pub override_host: Option<String>,
    /// The name the origin's certificate must have (default: `host`).
    pub cert_host: Option<String>,
    /// The name sent as SNI (default: the certificate name); `use_sni: false` sends none.
    pub sni_host: Option<String>,
    pub use_sni: bool,
    /// Extra trust roots (PEM), besides the system's.
    pub ca_certificate: Option<String>,
    /// HTTP/2 without TLS negotiation (`grpc = true`).
    pub http2_only: bool,
    pub connect_timeout: Duration,
    pub first_byte_timeout: Duration,
    pub between_bytes_timeout: Duration,
}

/// A request to a backend: what `fetch()` sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackendRequest {
    pub backend: BackendSpec,
    pub method: String,
    /// The URL the app asked for; its path and query are sent, its host is the `Host`
    /// header unless the backend overrides it.
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// `fastly.decompressGzip`: a gzip response arrives decoded, without its
    /// `Content-Encoding` and `Content-Length`.
    pub decompress_gzip: bool,
    /// How the readthrough cache treats it ([`crate::http_cache`]).
    pub cache: CachePolicy,
}

/// A backend's response head; its body arrives with it as a [`HostBody`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackendHead {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The address the response came from.
    pub remote: Option<SocketAddr>,
    /// What the readthrough cache did (`None`: it was not asked).
    pub cache: Option<CacheOutcome>,
}

/// What the readthrough cache did for one backend request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheOutcome {
    /// Served from the cache, fresh.
    Hit,
    /// Served from the cache, stale (inside its stale-while-revalidate or stale-if-error window).
    Stale,
    /// Not in the cache: from the origin, and stored if cacheable.
    Miss,
    /// Not looked up (`pass`, a method other than GET/HEAD, hit-for-pass): from the origin.
    Pass,
}

impl std::fmt::Display for CacheOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Hit => "HIT",
            Self::Stale => "STALE",
            Self::Miss => "MISS",
            Self::Pass => "PASS",
        })
    }
}

/// A backend's response.
#[derive(Debug)]
pub struct BackendResponse {
    pub head: BackendHead,
    pub body: HostBody,
}

/// Why a request to a backend failed (Compute's `send_error_detail` kinds that can happen
/// locally). The JS side turns each into the platform's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum SendError {
    #[error("DNS lookup of {0} failed")]
    DnsError(String),
    #[error("connection refused by {0}")]
    ConnectionRefused(String),
    #[error("connecting to {0} timed out")]
    ConnectionTimeout(String),
    #[error("no response head within the first-byte timeout")]
    FirstByteTimeout,
    #[error("TLS handshake failed: {0}")]
    TlsError(String),
    #[error("the connection failed: {0}")]
    ConnectionFailure(String),
    #[error("the origin's response is not valid HTTP: {0}")]
    InvalidResponse(String),
    #[error("the request to the backend could not be made: {0}")]
    InvalidRequest(String),
}

/// A backend response in flight.
pub type SendFuture = Pin<Box<dyn Future<Output = Result<BackendResponse, SendError>> + Send>>;

/// Whatever answers host calls.
pub trait Host: Send + Sync + std::fmt::Debug {
    fn call(&self, call: HostCall) -> HostFuture;
    /// Answers `call` before returning, for the platform's synchronous APIs. It may block
    /// the calling thread, but must never wait for another request that could be running on
    /// that same thread.
    fn call_blocking(&self, call: HostCall) -> HostReply;
    /// Sends `request` with `body` to its backend; the response body streams back.
    fn send(&self, request: BackendRequest, body: HostBody) -> SendFuture;
    /// Writes `message` to the log endpoint `endpoint` (`Logger.log`); fire and forget, as
    /// the platform's log API is infallible once the endpoint is open.
    fn log(&self, endpoint: &str, message: &[u8]);
}

/// A log endpoint's line as Viceroy writes it: `endpoint :: message`, one trailing newline
/// dropped, inner newlines escaped as `\n`; `None` for an empty message, which Viceroy
/// skips.
pub fn log_entry(endpoint: &str, message: &[u8]) -> Option<Vec<u8>> {
    let message = message.strip_suffix(b"\n").unwrap_or(message);
    if message.is_empty() {
        return None;
    }
    let mut line = Vec::with_capacity(endpoint.len() + message.len() + 5);
    line.extend_from_slice(endpoint.as_bytes());
    line.extend_from_slice(b" :: ");
    for &byte in message {
        if byte == b'\n' {
            line.extend_from_slice(b"\\n");
        } else {
            line.push(byte);
        }
    }
    line.push(b'\n');
    Some(line)
}

/// Each simulated edge location's cache and rate counters: state of the platform, not of an
/// app version, so a server keeps one across `--watch` reloads (a new version deployed on
/// Compute finds what the previous one cached and counted).
#[derive(Debug, Clone)]
pub struct Edge {
    /// One cache per edge location (at least one).
    caches: Arc<[Arc<Cache>]>,
    /// One set of rate counters and penalty boxes per edge location (at least one).
    rates: Arc<[Arc<RateLimits>]>,
}

impl Edge {
    /// `locations` (at least one) caches of `cache_bytes` each and rate counters, on `clock`.
    pub fn new(locations: usize, cache_bytes: u64, clock: &Arc<dyn Clock>) -> Self {
        Self {
            caches: (0..locations.max(1))
                .map(|_| Arc::new(Cache::new(clock.clone(), cache_bytes)))
                .collect(),
            rates: (0..locations.max(1))
                .map(|_| Arc::new(RateLimits::new(clock.clone())))
                .collect(),
        }
    }
}

/// The host in this process: the KV stores declared in fastly.toml and the backends. Store
/// calls block (SQLite waits up to its busy timeout, Redis for the network), so each runs on
/// tokio's blocking pool, never on the thread that runs JavaScript.
#[derive(Debug, Clone)]
pub struct LocalHost {
    stores: Stores,
    /// Each simulated edge location's view of `stores` (`--pops`); empty: `stores` everywhere.
    locations: Vec<Stores>,
    edge: Edge,
    origins: Arc<Origins>,
}

impl LocalHost {
    /// The host of `stores`, seen from each edge location through `locations` (empty: one
    /// location), with `edge`'s caches and rate counters (one per location).
    pub fn new(stores: Stores, locations: Vec<Stores>, edge: Edge) -> Self {
        Self {
            stores,
            locations,
            edge,
            origins: Arc::default(),
        }
    }

    /// Its edge caches, one per location in location order.
    pub(crate) fn caches(&self) -> Arc<[Arc<Cache>]> {
        self.edge.caches.clone()
    }

    fn cache(&self, pop: usize) -> Arc<Cache> {
        let caches = &self.edge.caches;
        caches[pop % caches.len()].clone()
    }

    fn rate(&self, pop: usize, op: RateOp) -> HostReply {
        let rates = &self.edge.rates;
        HostReply::Rate(Ok(rates[pop % rates.len()].run(op)))
    }

    /// The store `store` of location `pop` with `op`, or the reply for a store that is not
    /// configured (the binding checks names against the same configuration first).
    fn kv_call(
        &self,
        store: &str,
        pop: usize,
        op: KvOp,
    ) -> Result<(Arc<dyn KvStore>, KvOp), Box<HostReply>> {
        match self.store(store, pop) {
            Some(found) => Ok((found, op)),
            None => Err(Box::new(HostReply::Kv(Err(StoreError::InternalError(
                format!("no KV store named '{store}'"),
            ))))),
        }
    }

    fn store(&self, name: &str, pop: usize) -> Option<Arc<dyn KvStore>> {
        match self.locations.len() {
            0 => self.stores.get(name),
            n => self.locations[pop % n].get(name),
        }
    }
}

/// Runs `op` on `store`, blocking.
fn run_kv(store: &dyn KvStore, op: KvOp) -> Result<KvReply, StoreError> {
    match op {
        KvOp::Lookup { key } => store.lookup(&key).map(KvReply::Entry),
        KvOp::Insert { key, insert } => store.insert(&key, insert).map(|()| KvReply::Done),
        KvOp::Delete { key } => store.delete(&key).map(|()| KvReply::Done),
        KvOp::List { request } => store.list(&request).map(KvReply::Page),
    }
}

impl Host for LocalHost {
    /// Log endpoints write to stdout, as Viceroy's do (the server's own log is on stderr).
    fn log(&self, endpoint: &str, message: &[u8]) {
        use std::io::Write as _;
        if let Some(line) = log_entry(endpoint, message) {
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout.write_all(&line).and_then(|()| stdout.flush()) {
                tracing::error!("cannot write to log endpoint {endpoint}: {e}");
            }
        }
    }

    /// Through the readthrough cache of the request's edge location.
    fn send(&self, request: BackendRequest, body: HostBody) -> SendFuture {
        let origins = self.origins.clone();
        let policy = request.cache.clone();
        let cache = self.cache(policy.pop);
        Box::pin(crate::http_cache::send(
            cache, origins, request, body, policy,
        ))
    }

    fn call(&self, call: HostCall) -> HostFuture {
        match call {
            HostCall::Kv { store, pop, op } => {
                let (found, op) = match self.kv_call(&store, pop, op) {
                    Ok(found) => found,
                    Err(reply) => return Box::pin(std::future::ready(*reply)),
                };
                Box::pin(async move {
                    let done =
                        tokio::task::spawn_blocking(move || run_kv(found.as_ref(), op)).await;
                    HostReply::Kv(done.unwrap_or_else(|e| {
                        Err(StoreError::InternalError(format!(
                            "the store call failed: {e}"
                        )))
                    }))
                })
            }
            // A transaction lookup may wait for another request's insert: on the blocking
            // pool, where waiting holds no request's thread.
            HostCall::Cache { pop, op } => {
                let cache = self.cache(pop);
                Box::pin(async move {
                    let done = tokio::task::spawn_blocking(move || {
                        run_cache(&cache, pop, op, Wait::Collapse)
                    })
                    .await;
                    HostReply::Cache(done.unwrap_or_else(|e| {
                        Err(CacheError::Unreachable(format!(
                            "the cache call failed: {e}"
                        )))
                    }))
                })
            }
            // In memory, under a lock held for a few instructions: answered at once.
            HostCall::Rate { pop, op } => Box::pin(std::future::ready(self.rate(pop, op))),
        }
    }

    /// In this process the caller is a worker thread that may run other requests (among
    /// them the one a transaction would wait for), so cache transactions never wait here:
    /// each is obliged at once (no request collapsing in in-process modes).
    fn call_blocking(&self, call: HostCall) -> HostReply {
        match call {
            HostCall::Kv { store, pop, op } => match self.kv_call(&store, pop, op) {
                Ok((found, op)) => HostReply::Kv(run_kv(found.as_ref(), op)),
                Err(reply) => *reply,
            },
            HostCall::Cache { pop, op } => {
                HostReply::Cache(run_cache(&self.cache(pop), pop, op, Wait::Never))
            }
            HostCall::Rate { pop, op } => self.rate(pop, op),
        }
    }
}

/// Runs `op` on `cache`, logging each lookup's outcome (`-v`).
fn run_cache(cache: &Cache, pop: usize, op: CacheOp, wait: Wait) -> Result<CacheReply, CacheError> {
    let described = match &op {
        CacheOp::Lookup { key, .. } | CacheOp::TransactionLookup { key, .. } if tracing::enabled!(target: "edgeshim::cache", tracing::Level::DEBUG) => {
            Some(String::from_utf8_lossy(key).into_owned())
        }
        _ => None,
    };
    let reply = cache.run(op, wait);
    if let (Some(key), Ok(CacheReply::Lookup(lookup))) = (described, &reply) {
        let outcome = match (lookup.state.found, lookup.state.stale) {
            (false, _) => "MISS",
            (true, true) => "STALE",
            (true, false) => "HIT",
        };
        tracing::debug!(target: "edgeshim::cache", pop, key, "{outcome}");
    }
    reply
}

/// The host an instance reaches, as context data.
#[derive(Debug, Clone)]
pub(crate) struct HostHandle(pub Arc<dyn Host>);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use edgeshim_store::{MemoryStore, SystemClock};

    #[test]
    fn log_entries_are_viceroys_lines() {
        assert_eq!(
            log_entry("my_endpoint", b"hello\n").as_deref(),
            Some(&b"my_endpoint :: hello\n"[..])
        );
        assert_eq!(
            log_entry("e", b"two\nlines\n\n").as_deref(),
            Some(&b"e :: two\\nlines\\n\n"[..])
        );
        assert_eq!(log_entry("e", b"\n"), None);
        assert_eq!(log_entry("e", b""), None);
    }

    #[tokio::test]
    async fn store_calls_reach_the_store_of_the_location() {
        let mut stores = Stores::new();
        stores.insert("s", Arc::new(MemoryStore::new(Arc::new(SystemClock))));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let host = LocalHost::new(
            stores,
            Vec::new(),
            Edge::new(1, edgeshim_store::cache::DEFAULT_CAPACITY, &clock),
        );
        let put = HostCall::Kv {
            store: "s".into(),
            pop: 0,
            op: KvOp::Insert {
                key: "k".into(),
                insert: Insert {
                    value: "v".into(),
                    ..Insert::default()
                },
            },
        };
        assert!(matches!(
            host.call(put).await,
            HostReply::Kv(Ok(KvReply::Done))
        ));
        let get = HostCall::Kv {
            store: "s".into(),
            pop: 0,
            op: KvOp::Lookup { key: "k".into() },
        };
        let HostReply::Kv(Ok(KvReply::Entry(Some(entry)))) = host.call(get).await else {
            panic!("no entry");
        };
        assert_eq!(entry.value, "v");
        let missing = HostCall::Kv {
            store: "nope".into(),
            pop: 0,
            op: KvOp::Delete { key: "k".into() },
        };
        assert!(matches!(
            host.call(missing).await,
            HostReply::Kv(Err(StoreError::InternalError(_)))
        ));
    }
}
