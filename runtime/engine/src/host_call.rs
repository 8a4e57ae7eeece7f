//! The host-call boundary: every service the app reaches outside JavaScript is one
//! [`HostCall`] out and one [`HostReply`] back (KV), or one [`BackendRequest`] out and one
//! [`BackendResponse`] back, with bodies streaming both ways ([`Host::send`], `fetch()`).
//!
//! Calls are asynchronous and plain data: the JS thread starts one and keeps running its
//! event loop; whoever implements [`Host`] (the server's [`LocalHost`], or the connection a
//! snapshot copy has to the server) does the waiting elsewhere. Nothing here knows Boa.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use edgeshim_store::{Entry, Insert, KvStore, ListPage, ListRequest, StoreError, Stores};
use serde::{Deserialize, Serialize};

use crate::origin::Origins;
use crate::web::body_stream::HostBody;

/// One request to the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum HostCall {
    /// An operation on the KV store `store`, as edge location `pop` sees it.
    Kv { store: String, pop: usize, op: KvOp },
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
}

/// A backend's response head; its body arrives with it as a [`HostBody`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackendHead {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The address the response came from.
    pub remote: Option<SocketAddr>,
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

/// The host in this process: the KV stores declared in fastly.toml and the backends. Store
/// calls block (SQLite waits up to its busy timeout, Redis for the network), so each runs on
/// tokio's blocking pool, never on the thread that runs JavaScript.
#[derive(Debug, Clone)]
pub struct LocalHost {
    stores: Stores,
    /// Each simulated edge location's view of `stores` (`--pops`); empty: `stores` everywhere.
    locations: Vec<Stores>,
    origins: Arc<Origins>,
}

impl LocalHost {
    pub fn new(stores: Stores, locations: Vec<Stores>) -> Self {
        Self {
            stores,
            locations,
            origins: Arc::default(),
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

    fn send(&self, request: BackendRequest, body: HostBody) -> SendFuture {
        let origins = self.origins.clone();
        Box::pin(async move { origins.send(request, body).await })
    }

    fn call(&self, call: HostCall) -> HostFuture {
        let HostCall::Kv { store, pop, op } = call;
        let Some(found) = self.store(&store, pop) else {
            // The binding checks names against the same configuration first.
            return Box::pin(std::future::ready(HostReply::Kv(Err(
                StoreError::InternalError(format!("no KV store named '{store}'")),
            ))));
        };
        Box::pin(async move {
            let done = tokio::task::spawn_blocking(move || run_kv(found.as_ref(), op)).await;
            HostReply::Kv(done.unwrap_or_else(|e| {
                Err(StoreError::InternalError(format!(
                    "the store call failed: {e}"
                )))
            }))
        })
    }
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
        let host = LocalHost::new(stores, Vec::new());
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
