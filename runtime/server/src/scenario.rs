//! The scenario API of `edgeshim test`'s JS test files: what only an emulator can do, on the
//! app server under test. A loopback control server, started beside each test file's app
//! server, that the test harness (never the app) calls with `fetch`:
//!
//! - `POST /clock/advance` `{"ms": N}`: moves the platform's clock ([`OffsetClock`]) ahead, so
//!   KV TTLs, edge-cache windows, rate-counter windows and KV propagation end without waiting;
//!   answers `{"now": <ms since the epoch>}`;
//! - `POST /kv` `{"op": "put"|"get"|"delete"|"list", "store", "key", "value", "metadata",
//!   "ttl" (s), "prefix"}`: seeds and reads the app's KV stores directly, with the runtime's
//!   key rules and messages (`edgeshim kv`'s).
//!
//! An error answers 400 `{"error": "..."}`, which the harness throws as an `Error`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use edgeshim_store::{Insert, OffsetClock, Stores};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// What the control server reaches: the app server's clock and stores.
#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    pub(crate) clock: Arc<OffsetClock>,
    pub(crate) stores: Stores,
}

/// A running control server; stopped when dropped.
#[derive(Debug)]
pub(crate) struct ControlServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl ControlServer {
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the control server of `scenario` on a free loopback port.
pub(crate) async fn start(scenario: Scenario) -> std::io::Result<ControlServer> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let scenario = scenario.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let scenario = scenario.clone();
                    async move { Ok::<_, std::convert::Infallible>(answer(&scenario, request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(ControlServer { addr, task })
}

/// A `/kv` call.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KvCall {
    op: String,
    store: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    metadata: Option<String>,
    /// Seconds.
    #[serde(default)]
    ttl: Option<f64>,
    #[serde(default)]
    prefix: Option<String>,
}

/// A `/clock/advance` call.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    ms: f64,
}

async fn answer(scenario: &Scenario, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => return reply(StatusCode::BAD_REQUEST, &json!({ "error": e.to_string() })),
    };
    let scenario = scenario.clone();
    // Store calls may block (SQLite, Redis): off the reactor.
    let result = tokio::task::spawn_blocking(move || match path.as_str() {
        "/clock/advance" => advance(&scenario, &body),
        "/kv" => kv(&scenario, &body),
        other => Err(format!("no scenario call {other}")),
    })
    .await
    .unwrap_or_else(|e| Err(format!("the scenario call failed: {e}")));
    match result {
        Ok(value) => reply(StatusCode::OK, &value),
        Err(error) => reply(StatusCode::BAD_REQUEST, &json!({ "error": error })),
    }
}

fn reply(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response
}

fn advance(scenario: &Scenario, body: &[u8]) -> Result<Value, String> {
    let call: Advance = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let by = Duration::try_from_secs_f64(call.ms / 1000.0).map_err(|_| {
        format!(
            "advanceClock: {} is not a number of milliseconds >= 0",
            call.ms
        )
    })?;
    scenario.clock.advance(by);
    Ok(json!({ "now": millis(edgeshim_store::Clock::now(scenario.clock.as_ref())) }))
}

fn millis(time: SystemTime) -> u128 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

fn kv(scenario: &Scenario, body: &[u8]) -> Result<Value, String> {
    let call: KvCall = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let store = scenario.stores.get(&call.store).ok_or_else(|| {
        let names: Vec<&str> = scenario.stores.names().collect();
        format!(
            "no KV store named {:?} in fastly.toml (stores: {})",
            call.store,
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        )
    })?;
    let key = || {
        let key = call
            .key
            .clone()
            .ok_or_else(|| format!("kv {}: a key is needed", call.op))?;
        crate::kv_cli::checked(&key).map_err(|e| e.to_string())?;
        Ok::<_, String>(key)
    };
    match call.op.as_str() {
        "put" => {
            let ttl = call
                .ttl
                .map(|s| {
                    Duration::try_from_secs_f64(s)
                        .map_err(|_| format!("kv put: ttl {s} is not a number of seconds >= 0"))
                })
                .transpose()?;
            let insert = Insert {
                value: Bytes::from(call.value.clone().unwrap_or_default()),
                metadata: call.metadata.clone().map(Bytes::from),
                ttl,
                ..Insert::default()
            };
            store.insert(&key()?, insert).map_err(|e| e.to_string())?;
            Ok(Value::Null)
        }
        "get" => Ok(match store.lookup(&key()?).map_err(|e| e.to_string())? {
            None => Value::Null,
            Some(entry) => json!({
                "value": String::from_utf8_lossy(&entry.value),
                "metadata": entry.metadata.map(|m| String::from_utf8_lossy(&m).into_owned()),
            }),
        }),
        "delete" => {
            store.delete(&key()?).map_err(|e| e.to_string())?;
            Ok(Value::Null)
        }
        "list" => {
            let keys = crate::kv_cli::keys(store.as_ref(), call.prefix.clone())
                .map_err(|e| e.to_string())?;
            Ok(json!({ "keys": keys }))
        }
        other => Err(format!(
            "kv: no operation {other:?} (put, get, delete, list)"
        )),
    }
}
