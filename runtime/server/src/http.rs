//! The HTTP front: hyper (HTTP/1.1) in, plain requests to the JS pool, plain responses out.
//!
//! This module knows nothing of JS values; the engine's [`Pool`] does the JS work. It adds
//! the access log line and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use edgeshim_engine::{
    BodyChunks, Chunk, HandleError, Host, HostBody, IncomingRequest, Pool, ResponseParts,
};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Incoming;
use hyper::body::{Body as _, Frame};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tracing::Instrument;

/// The pool requests go to, replaced while serving when the app is reloaded (`--watch`): a
/// request keeps the pool it started on until it ends.
#[derive(Debug)]
pub struct CurrentPool(parking_lot::RwLock<Arc<Pool>>);

impl CurrentPool {
    pub fn new(pool: Pool) -> Self {
        Self(parking_lot::RwLock::new(Arc::new(pool)))
    }

    /// The pool new requests go to.
    pub fn get(&self) -> Arc<Pool> {
        self.0.read().clone()
    }

    /// Sends new requests to `pool`; returns the one they went to.
    pub fn replace(&self, pool: Pool) -> Arc<Pool> {
        std::mem::replace(&mut *self.0.write(), Arc::new(pool))
    }
}

/// What answers requests: the JS pool, or (for the benchmark's ceiling) a fixed answer from
/// Rust through the same server stack.
#[derive(Debug, Clone)]
pub enum Handler {
    /// The app, served by the simulated edge locations `Locations`, its requests taken in
    /// as `Intake` says.
    App(Arc<CurrentPool>, Arc<Locations>, Intake),
    /// Answers every request `200` with this body, without running JS.
    Static(Bytes),
}

/// How the app's requests are taken in.
#[derive(Debug, Clone, Default)]
pub struct Intake {
    /// Larger request bodies are refused with 413 (`--max-request-body`).
    pub max_request_body: Option<u64>,
    /// Under `edgeshim test`: [`KILL_AFTER_HEADER`] asks to stop a request midway, and is
    /// taken off before the app sees it. Elsewhere it is an ordinary header.
    pub scenario: bool,
    /// `--inspect`: each request, with the host calls it makes, is reported here.
    pub(crate) activity: Option<Arc<crate::inspect::Activity>>,
}

/// The request header with which `edgeshim test`'s harness asks to stop a request that many
/// milliseconds after it starts (`app(path, { killAfter })`).
pub const KILL_AFTER_HEADER: &str = "x-edgeshim-kill-after-ms";

/// The request header that picks the simulated edge location serving a request (`--pops`):
/// its index `0`..`N-1` or its name `pop-0`..`pop-N-1`.
pub const POP_HEADER: &str = "x-edgeshim-pop";

/// The simulated edge locations (`--pops`) requests are spread over.
#[derive(Debug)]
pub struct Locations {
    count: usize,
    next: AtomicU64,
}

impl Locations {
    /// `count` locations (at least 1).
    pub fn new(count: usize) -> Self {
        Self {
            count: count.max(1),
            next: AtomicU64::new(0),
        }
    }

    /// Number of locations.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The location serving a request with `header` (the value of [`POP_HEADER`], if any):
    /// the one it names, else the next in round robin.
    ///
    /// # Errors
    /// A header that names no location; the message says which values are accepted.
    pub fn pick(&self, header: Option<&str>) -> Result<usize, String> {
        if self.count == 1 {
            return Ok(0);
        }
        let Some(header) = header else {
            let next = self.next.fetch_add(1, Ordering::Relaxed);
            // The remainder is below `count`, a usize.
            return Ok(usize::try_from(next % self.count as u64).unwrap_or(0));
        };
        let trimmed = header.trim();
        let number = trimmed.strip_prefix("pop-").unwrap_or(trimmed);
        match number.parse::<usize>() {
            Ok(pop) if pop < self.count => Ok(pop),
            _ => Err(format!(
                "{POP_HEADER}: {header:?} names no edge location; use 0 to {last} or pop-0 to                  pop-{last} (--pops {count})",
                last = self.count - 1,
                count = self.count
            )),
        }
    }
}

/// How long open connections get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The body type the server sends: complete, or streamed from the engine.
type Body = BoxBody<Bytes, std::io::Error>;

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// Chunks from the engine. The body ends cleanly only at `Chunk::End`; an error, or a
/// channel closed without it, cuts the connection so the client sees a failed transfer.
fn streamed(chunks: BodyChunks) -> Body {
    let frames = futures_util::stream::unfold(Some(chunks), |chunks| async move {
        let mut chunks = chunks?;
        let cut = |why: &str| std::io::Error::other(format!("the response body failed: {why}"));
        match chunks.recv().await {
            Some(Chunk::Data(bytes)) => Some((Ok(Frame::data(bytes)), Some(chunks))),
            Some(Chunk::End) => None,
            Some(Chunk::Error(message)) => Some((Err(cut(&message)), None)),
            None => Some((Err(cut("the stream was cut off")), None)),
        }
    });
    StreamBody::new(frames).boxed()
}

fn plain(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(full(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn to_hyper(parts: ResponseParts) -> Response<Body> {
    // A streamed body of known length (a backend's, passed on) is framed with it, as the
    // host frames it on Compute; the app's own framing headers are already dealt with.
    let known_length = match &parts.body {
        HostBody::Stream(chunks) => chunks.length(),
        HostBody::Full(_) => None,
    };
    let body = match parts.body {
        HostBody::Full(bytes) => full(bytes),
        HostBody::Stream(chunks) => streamed(chunks),
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(parts.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    for (name, value) in parts.headers {
        match (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => tracing::warn!("dropping a response header that is not valid HTTP: {name}"),
        }
    }
    if let Some(length) = known_length {
        if !headers.contains_key(hyper::header::CONTENT_LENGTH)
            && !headers.contains_key(hyper::header::TRANSFER_ENCODING)
        {
            headers.insert(hyper::header::CONTENT_LENGTH, length.into());
        }
    }
    response
}

/// Bodies up to this size (by `Content-Length`) are read whole before the app runs; larger
/// or unsized ones reach the app as a stream while they arrive.
const BUFFERED_BODY_LIMIT: u64 = 64 * 1024;

/// How much of an upload the app did not read is still read and dropped, to keep the
/// connection usable.
const DISCARD_LIMIT: usize = 1024 * 1024;

/// Set when a streamed request body turns out to be the client's fault (bad chunked framing,
/// cut short: 400; past `--max-request-body`: 413), answered so whatever the app made of it.
type BodyFault = Arc<std::sync::OnceLock<(StatusCode, String)>>;

fn malformed(e: &hyper::Error) -> (StatusCode, String) {
    (
        StatusCode::BAD_REQUEST,
        format!("the request body is malformed: {e}"),
    )
}

fn too_large(limit: u64) -> (StatusCode, String) {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than {limit} bytes (--max-request-body)"),
    )
}

async fn request_body(
    headers: &http::HeaderMap,
    body: Incoming,
    fault: &BodyFault,
    limit: Option<u64>,
) -> Result<HostBody, (StatusCode, String)> {
    let length = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let (Some(length), Some(limit)) = (length, limit) {
        if length > limit {
            return Err(too_large(limit));
        }
    }
    if matches!(length, Some(n) if n <= BUFFERED_BODY_LIMIT) || body.is_end_stream() {
        return Ok(HostBody::Full(
            body.collect().await.map_err(|e| malformed(&e))?.to_bytes(),
        ));
    }
    let (sender, chunks) = BodyChunks::channel();
    let chunks = chunks.with_length(length);
    let fault = fault.clone();
    tokio::spawn(async move {
        let mut body = body;
        let mut abandoned = false;
        let mut discarded = 0usize;
        let mut received = 0u64;
        while let Some(frame) = body.frame().await {
            let data = match frame {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_) => continue, // trailers
                },
                Err(e) => {
                    let _ = fault.set(malformed(&e));
                    let _ = sender.send(Chunk::Error(e.to_string())).await;
                    return;
                }
            };
            received += data.len() as u64;
            if let Some(limit) = limit.filter(|&limit| received > limit) {
                let refused = too_large(limit);
                let _ = sender.send(Chunk::Error(refused.1.clone())).await;
                let _ = fault.set(refused);
                return;
            }
            if abandoned {
                // The app let the body go: read on (within a bound) so that the connection
                // can serve its next request; past the bound, let hyper close it.
                discarded += data.len();
                if discarded > DISCARD_LIMIT {
                    return;
                }
            } else if sender.send(Chunk::Data(data)).await.is_err() {
                abandoned = true;
            }
        }
        let _ = sender.send(Chunk::End).await;
    });
    Ok(HostBody::Stream(chunks))
}

async fn incoming(
    request: Request<Incoming>,
    conn: Conn,
    pop: usize,
    fault: &BodyFault,
    intake: &Intake,
    observed: Option<Arc<dyn Host>>,
) -> Result<IncomingRequest, (StatusCode, String)> {
    let local = conn.local;
    let (mut parts, body) = request.into_parts();
    // Only under `edgeshim test`; elsewhere the header is the app's, untouched.
    let kill = if intake.scenario {
        parts.headers.remove(KILL_AFTER_HEADER)
    } else {
        None
    };
    let kill_after = kill
        .map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|ms| ms.parse::<u64>().ok())
                .map(Duration::from_millis)
                .ok_or_else(|| {
                    (
                        StatusCode::BAD_REQUEST,
                        format!("{KILL_AFTER_HEADER}: {value:?} is not a number of milliseconds"),
                    )
                })
        })
        .transpose()?;
    let body = request_body(&parts.headers, body, fault, intake.max_request_body).await?;
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| local.to_string(), str::to_owned);
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    Ok(IncomingRequest {
        method: parts.method.as_str().to_owned(),
        url: format!("http://{host}{path}"),
        headers,
        body,
        pop,
        client: Some(conn.remote),
        kill_after,
        host: observed,
    })
}

/// Why a request gets no answer at all (its connection is closed).
#[derive(Debug)]
struct NotServed;

impl std::fmt::Display for NotServed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not served")
    }
}

impl std::error::Error for NotServed {}

/// The two ends of the connection a request came on.
#[derive(Debug, Clone, Copy)]
struct Conn {
    local: SocketAddr,
    remote: SocketAddr,
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// Serves one request inside a `request{id method path}` span that every log line of the
/// request, the app's `console.*` included, carries.
async fn answer(handler: Handler, request: Request<Incoming>, conn: Conn) -> Response<Body> {
    let id = REQUEST_IDS.fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!(
        "request",
        id,
        method = %request.method(),
        path = request.uri().path(),
    );
    answer_in_span(handler, request, conn, id)
        .instrument(span)
        .await
}

async fn answer_in_span(
    handler: Handler,
    request: Request<Incoming>,
    conn: Conn,
    id: u64,
) -> Response<Body> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut served_by = None;
    let mut activity = None;
    let response = match handler {
        Handler::Static(body) => Response::new(full(body)),
        Handler::App(pool, locations, intake) => match locations.pick(
            request
                .headers()
                .get(POP_HEADER)
                .map(|v| v.to_str().unwrap_or("(not text)")),
        ) {
            Err(message) => plain(StatusCode::BAD_REQUEST, format!("edgeshim: {message}\n")),
            Ok(pop) => {
                if locations.count() > 1 {
                    served_by = Some(pop);
                }
                let pool = pool.get();
                // Seen by the inspection page: the request, and its calls through a host
                // that records them as this request's.
                let host = intake.activity.as_ref().map(|observed| {
                    let shown = request.uri().path_and_query().map_or("/", |p| p.as_str());
                    observed.begin(id, method.as_str(), shown, served_by);
                    activity = Some(observed.clone());
                    Arc::new(crate::inspect::ObservedHost::new(
                        pool.app().host(),
                        observed.clone(),
                        id,
                    )) as Arc<dyn Host>
                });
                answer_app(&pool, request, conn, pop, &intake, host).await
            }
        },
    };
    let pop = served_by.map_or_else(String::new, |pop| format!(" pop-{pop}"));
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "edgeshim::access",
        "{method} {path} {} {ms:.2}ms{pop}",
        response.status().as_u16(),
    );
    if let Some(activity) = activity {
        activity.done(id, response.status().as_u16(), ms);
    }
    response
}

/// The app's answer to `request`, served by edge location `pop`.
async fn answer_app(
    pool: &Pool,
    request: Request<Incoming>,
    conn: Conn,
    pop: usize,
    intake: &Intake,
    host: Option<Arc<dyn Host>>,
) -> Response<Body> {
    let fault = BodyFault::default();
    let answered = match incoming(request, conn, pop, &fault, intake, host).await {
        Err((status, why)) => {
            tracing::warn!(target: "edgeshim::access", "client error: {why}");
            return plain(status, format!("edgeshim: {why}\n"));
        }
        Ok(request) => match pool.handle(request).await {
            Ok(parts) => to_hyper(parts),
            Err(error) => {
                match &error {
                    HandleError::NoResponse
                    | HandleError::NoListener
                    | HandleError::NeverSettled => {
                        tracing::warn!("{error}");
                    }
                    // Asked for by the test: nothing went wrong.
                    HandleError::Limit {
                        limit: edgeshim_engine::Limit::Killed(_),
                        ..
                    } => tracing::info!("{error}"),
                    _ => tracing::error!("{error}"),
                }
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("edgeshim: {error}\n"),
                )
            }
        },
    };
    // A body whose framing broke while the app read it is the client's error, not the
    // app's: whatever the app answered to it is replaced.
    match fault.get() {
        Some((status, why)) => {
            tracing::warn!(
                target: "edgeshim::access",
                "client error: {why}; the app's answer is replaced by a {}",
                status.as_u16()
            );
            plain(*status, format!("edgeshim: {why}\n"))
        }
        None => answered,
    }
}

/// Serves `listener` until `shutdown` completes, then lets open connections finish.
///
/// # Errors
/// Accepting connections failed for good.
pub async fn serve(
    listener: TcpListener,
    handler: Handler,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new());
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, do not spin.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let handler = handler.clone();
                let conn = Conn { local, remote };
                let service = service_fn(move |request: Request<Incoming>| {
                    let handler = handler.clone();
                    async move {
                        // As Viceroy: a CONNECT is not served; the connection closes
                        // without an answer.
                        if request.method() == hyper::Method::CONNECT {
                            tracing::warn!(
                                target: "edgeshim::access",
                                "CONNECT {} refused: Compute does not serve CONNECT",
                                request.uri()
                            );
                            return Err(NotServed);
                        }
                        Ok::<_, NotServed>(answer(handler, request, conn).await)
                    }
                });
                let connection = builder.serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!("connection ended with an error: {e}");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: waiting for open requests to finish");
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after {DRAIN_TIMEOUT:?}; closing them");
    }
    Ok(())
}
