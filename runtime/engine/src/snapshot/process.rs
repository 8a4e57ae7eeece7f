//! The snapshot process and its copies.
//!
//! The server starts this program again (by exec, so it has no threads) with
//! [`SNAPSHOT_PROCESS_ARG`](super::SNAPSHOT_PROCESS_ARG). It loads the app and runs its top
//! level once, as js-compute's build does (a Wizer snapshot), prints [`Status`] on stdout,
//! then forks one copy per byte the server writes on its stdin. A copy connects to the
//! server's socket, serves exactly one request from the snapshot's state, and exits: nothing
//! a request changes reaches any other.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{mpsc, oneshot};

use super::os::{self, Forked};
use super::protocol::{self, Down, FrameBody, ProcessConfig, Status, Up, CONFIG_ENV, UPLOAD};
use crate::host_call::{
    BackendHead, BackendRequest, BackendResponse, Host, HostCall, HostFuture, HostReply, SendError,
    SendFuture,
};
use crate::instance::{App, BootError, HandleError, IncomingRequest, Instance};
use crate::limits::Limit;
use crate::web::body_stream::{BodyChunks, Chunk, HostBody};

/// Exit status of a copy stopped by a limit.
const EXIT_LIMIT: i32 = 3;

/// The copy's connection to the server: frames are written whole under this lock, by the JS
/// thread, the socket reader or the watchdog.
static LINK: OnceLock<Mutex<UnixStream>> = OnceLock::new();
/// The heap-limit frame, encoded ahead: past the limit nothing may allocate.
static HEAP_FRAME: OnceLock<Vec<u8>> = OnceLock::new();
/// Where the server listens, for the blocking-call connection.
static SOCKET: OnceLock<std::path::PathBuf> = OnceLock::new();
/// The connection for blocking host calls, opened at the first.
static BLOCKING_LINK: Mutex<Option<UnixStream>> = Mutex::new(None);
/// Host calls waiting for their reply, by id.
static PENDING: OnceLock<Mutex<HashMap<u64, oneshot::Sender<HostReply>>>> = OnceLock::new();
/// Backend requests waiting for their response head, by id.
static SENDING: OnceLock<Mutex<HashMap<u64, HeadSender>>> = OnceLock::new();
type HeadSender = oneshot::Sender<Result<BackendHead, SendError>>;
/// Backend response bodies arriving, by id: the socket reader hands chunks to a task that
/// feeds the app's channel and acknowledges each, so the reader itself never waits.
static SENT_BODIES: OnceLock<Mutex<HashMap<u64, mpsc::UnboundedSender<Chunk>>>> = OnceLock::new();

fn lock<T>(map: &'static OnceLock<Mutex<T>>) -> std::sync::MutexGuard<'static, T>
where
    T: Default,
{
    map.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn send(message: &Up) -> bool {
    let Ok(frame) = protocol::encode(message) else {
        return false;
    };
    send_raw(&frame)
}

/// Writes a whole frame. The socket is non-blocking (tokio reads it), so a full send buffer
/// is waited out here: the copy has nothing else to do until the server reads.
fn send_raw(frame: &[u8]) -> bool {
    use std::io::Write;
    let Some(link) = LINK.get() else {
        return false;
    };
    let mut stream = link
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut rest = frame;
    while !rest.is_empty() {
        match stream.write(rest) {
            Ok(0) => return false,
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if !os::wait_writable(&*stream) {
                    return false;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

fn heap_exceeded() -> ! {
    if let Some(frame) = HEAP_FRAME.get() {
        send_raw(frame);
    }
    os::exit_now(EXIT_LIMIT)
}

/// Host calls from a copy: sent to the server, answered on the socket.
#[derive(Debug, Default)]
struct RemoteHost {
    next: AtomicU64,
}

impl Host for RemoteHost {
    fn log(&self, endpoint: &str, message: &[u8]) {
        send(&Up::EndpointLog {
            endpoint: endpoint.to_owned(),
            message: message.to_vec(),
        });
    }

    /// Over a connection of its own, written and read by this (the JS) thread: the main one
    /// is read by a task of the runtime this thread is blocked in.
    fn call_blocking(&self, call: HostCall) -> HostReply {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let lost = call_lost(&call);
        let mut link = BLOCKING_LINK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if link.is_none() {
            *link = connect_blocking_link();
        }
        let Some(stream) = link.as_mut() else {
            return lost;
        };
        if protocol::write_blocking(stream, &Up::Call { id, call }).is_err() {
            *link = None;
            return lost;
        }
        match protocol::read_blocking::<Down>(stream) {
            Ok(Some(Down::Reply {
                id: answered,
                reply,
            })) if answered == id => reply,
            _ => {
                *link = None;
                lost
            }
        }
    }

    fn call(&self, call: HostCall) -> HostFuture {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        let pending = PENDING.get_or_init(Mutex::default);
        pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id, reply);
        let lost = call_lost(&call);
        let sent = send(&Up::Call { id, call });
        Box::pin(async move {
            if !sent {
                return lost;
            }
            answer.await.unwrap_or(lost)
        })
    }

    fn send(&self, request: BackendRequest, body: HostBody) -> SendFuture {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (head_tx, head) = oneshot::channel();
        lock(&SENDING).insert(id, head_tx);
        // The response body: socket reader -> (unbounded, at most SEND_WINDOW) -> this
        // forwarder -> the app's bounded channel; each chunk forwarded is acknowledged.
        let (arrived_tx, mut arrived) = mpsc::unbounded_channel::<Chunk>();
        lock(&SENT_BODIES).insert(id, arrived_tx);
        let (chunks_tx, chunks) = BodyChunks::remote(id, move || {
            send(&Up::Pull { id });
        });
        tokio::spawn(async move {
            while let Some(chunk) = arrived.recv().await {
                let last = !matches!(chunk, Chunk::Data(_));
                if chunks_tx.send(chunk).await.is_err() || last {
                    break;
                }
                send(&Up::Ack { id });
            }
            lock(&SENT_BODIES).remove(&id);
        });
        let (frame_body, streamed) = frame_body(body);
        let sent = send(&Up::Send {
            id,
            request,
            body: frame_body,
        });
        if let (true, Some(mut upload)) = (sent, streamed) {
            tokio::spawn(async move {
                loop {
                    let chunk = upload
                        .recv()
                        .await
                        .unwrap_or_else(|| Chunk::Error("the request body was cut off".into()));
                    let last = !matches!(chunk, Chunk::Data(_));
                    if !send(&Up::SendBody { id, chunk }) || last {
                        break;
                    }
                }
            });
        }
        Box::pin(async move {
            let lost = || SendError::ConnectionFailure("the server did not answer".into());
            if !sent {
                return Err(lost());
            }
            let head = head.await.unwrap_or_else(|_| Err(lost()))?;
            Ok(BackendResponse {
                head,
                body: HostBody::Stream(chunks),
            })
        })
    }
}

/// How much a copy may allocate before Boa collects garbage.
const COPY_GC_HEADROOM: usize = 32 * 1024 * 1024;

/// Raises Boa's collection threshold before any copy is forked. A collection in a copy marks
/// the whole snapshot heap, writing to (so copying) every page of it: measured, one costs a
/// request ~2.5 ms, and Boa's threshold after boot is low enough that ordinary requests
/// cross it. Boa raises its threshold only after a collection that leaves the heap above 70%
/// of it, and never lowers it: so a ballast is allocated past the headroom (collected while
/// alive), then dropped and collected. The heap limit still forces collections in copies
/// (`collect_under_pressure`).
fn raise_collection_threshold() {
    const CHUNK: usize = 64 * 1024;
    // Inline arrays: Boa counts a value's own size, not what it points to.
    let ballast: Vec<boa_gc::Gc<[u8; CHUNK]>> = (0..COPY_GC_HEADROOM / CHUNK)
        .map(|_| boa_gc::Gc::new([0u8; CHUNK]))
        .collect();
    drop(ballast);
    boa_gc::force_collect();
}

/// Opens the connection for blocking host calls.
fn connect_blocking_link() -> Option<UnixStream> {
    let mut stream = UnixStream::connect(SOCKET.get()?).ok()?;
    protocol::write_blocking(&mut stream, &Up::BlockingCalls).ok()?;
    Some(stream)
}

/// The reply to `call` when the server did not answer it.
fn call_lost(call: &HostCall) -> HostReply {
    call.unanswered("the server did not answer the host call")
}

/// How `body` travels in a frame, and the chunks to send after it as frames, if any. A
/// body the server holds that nothing read goes back by its id.
fn frame_body(body: HostBody) -> (FrameBody, Option<BodyChunks>) {
    match body {
        HostBody::Full(bytes) => (FrameBody::Full(bytes), None),
        HostBody::Stream(chunks) => match chunks.unread_remote() {
            Some(id) => (FrameBody::Held(id), None),
            None => (FrameBody::Frames, Some(chunks)),
        },
    }
}

/// Runs the snapshot process.
pub(super) fn main() -> ExitCode {
    super::os::ignore_stop_signals();
    // rand picks its ChaCha implementation with cpuid on first use, which is slow in a VM:
    // do it once here rather than in every copy.
    let _: u64 = rand::random();
    let config: ProcessConfig = match std::env::var(CONFIG_ENV)
        .map_err(|e| e.to_string())
        .and_then(|json| serde_json::from_str(&json).map_err(|e| e.to_string()))
    {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("the snapshot process needs {CONFIG_ENV}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let booted = boot(&config);
    let status = match &booted {
        Ok(_) => Status::Ready,
        Err(e) => Status::Failed(e.clone()),
    };
    let line = serde_json::to_string(&status).unwrap_or_default();
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return ExitCode::FAILURE;
        }
    }
    let Ok(mut instance) = booted else {
        return ExitCode::FAILURE;
    };
    // Give free memory back, so that copies reuse zero pages rather than copy dirty ones.
    // (Collecting garbage here was measured too: it leaves Boa's collection threshold low,
    // so copies collect, which writes to every page of the heap: 30% more page faults.)
    os::trim_heap();
    // One byte from the server: fork one copy. End of input: the server is gone.
    let mut stdin = std::io::stdin().lock();
    let mut command = [0u8; 64];
    let mut on_huge_pages = false;
    loop {
        os::reap_children();
        let n = match stdin.read(&mut command) {
            Ok(0) | Err(_) => return ExitCode::SUCCESS,
            Ok(n) => n,
        };
        for _ in 0..n {
            match os::fork() {
                Ok(Forked::Parent) => {}
                Ok(Forked::Child) => {
                    os::start_copy_heap();
                    copy_main(&mut instance, &config)
                }
                Err(e) => tracing::error!("cannot fork a copy of the app: {e}"),
            }
        }
        // After the first copies, not before: moving memory onto huge pages takes ~20 ms,
        // which the first response (after a start or a reload on save) should not wait for.
        if !on_huge_pages {
            on_huge_pages = true;
            let backed = super::huge_pages::back_snapshot();
            tracing::debug!(
                code_mib = backed.code >> 20,
                heap_mib = backed.heap >> 20,
                "snapshot memory on huge pages"
            );
        }
    }
}

/// Loads the app and runs its top level, on a runtime that is gone before the first fork.
fn boot(config: &ProcessConfig) -> Result<Instance, BootError> {
    let host: Arc<dyn Host> = Arc::new(RemoteHost::default());
    let app = App::with_host(&config.app, config.store_names.clone(), host)?
        .with_settings(config.settings.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| BootError::Setup(e.to_string()))?;
    let local = tokio::task::LocalSet::new();
    let instance = local.block_on(&runtime, Instance::boot(&app))?;
    raise_collection_threshold();
    Ok(instance)
}

/// A copy: serves one request and exits. It runs one thread only: the server watches its
/// CPU and wall-clock time (and kills it when over), and the copy itself its heap.
fn copy_main(instance: &mut Instance, config: &ProcessConfig) -> ! {
    os::detach_stdio();
    // Math.random draws from a per-thread generator the fork copied: reseed it, or every
    // copy would draw the same numbers. (crypto.getRandomValues asks the OS each time.)
    if rand::rng().reseed().is_err() {
        tracing::warn!("cannot reseed Math.random's generator");
    }
    let _ = SOCKET.set(config.socket.clone());
    let stream = match UnixStream::connect(&config.socket) {
        Ok(stream) => stream,
        // The server is gone or stopping.
        Err(_) => os::exit_now(0),
    };
    let Ok(mut reader) = stream.try_clone() else {
        os::exit_now(1)
    };
    let _ = LINK.set(Mutex::new(stream));
    if !send(&Up::Hello {
        pid: std::process::id(),
        cpu: os::process_cpu_time(),
    }) {
        os::exit_now(0);
    }
    // The blocking-call connection is made now, while the copy waits, not when the request's
    // first synchronous call (a cache lookup, a rate check) would pay for it.
    *BLOCKING_LINK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = connect_blocking_link();
    // Waits, as a ready copy, for the request.
    let request = match protocol::read_blocking::<Down>(&mut reader) {
        Ok(Some(Down::Request {
            method,
            url,
            headers,
            body,
            pop,
            client,
            limits,
        })) => (method, url, headers, body, pop, client, limits),
        _ => os::exit_now(0),
    };
    let (method, url, headers, body, pop, client, limits) = request;
    if let Ok(frame) = protocol::encode(&Up::Limit {
        limit: Limit::Heap(limits.heap),
        at: None,
    }) {
        let _ = HEAP_FRAME.set(frame);
        os::limit_heap(limits.heap * crate::limits::HEAP_HEADROOM, heap_exceeded);
    }

    let (body, sender) = match body {
        Some(bytes) => (HostBody::Full(bytes), None),
        None => {
            let (sender, chunks) = BodyChunks::remote(UPLOAD, || {
                send(&Up::Pull { id: UPLOAD });
            });
            (HostBody::Stream(chunks), Some(sender))
        }
    };
    let request = IncomingRequest {
        method,
        url,
        headers,
        body,
        pop,
        client,
        kill_after: None,
        host: None,
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        send(&Up::Failed(HandleError::Crashed(
            "cannot start an async runtime".into(),
        )));
        os::exit_now(1)
    };
    // This thread's log lines go to the server, which writes them in the request's span.
    let _logs = tracing::subscriber::set_default(super::logs::Forward {
        send,
        max: tracing::level_filters::LevelFilter::current(),
    });
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let reader = reader
            .set_nonblocking(true)
            .and_then(|()| tokio::net::UnixStream::from_std(reader));
        match reader {
            Ok(reader) => drop(tokio::task::spawn_local(read_down(reader, sender))),
            Err(_) => os::exit_now(1),
        }
        let (pumped_tx, pumped) = oneshot::channel::<()>();
        let mut pumped_tx = Some(pumped_tx);
        instance
            .handle(request, |result| match result {
                Ok(parts) => match frame_body(parts.body) {
                    (body, None) => {
                        send(&Up::Head {
                            status: parts.status,
                            headers: parts.headers,
                            body,
                        });
                    }
                    (body, Some(mut chunks)) => {
                        send(&Up::Head {
                            status: parts.status,
                            headers: parts.headers,
                            body,
                        });
                        let done = pumped_tx.take();
                        tokio::task::spawn_local(async move {
                            loop {
                                let chunk = chunks.recv().await.unwrap_or_else(|| {
                                    Chunk::Error("the stream was cut off".into())
                                });
                                let last = !matches!(chunk, Chunk::Data(_));
                                if !send(&Up::Body(chunk)) || last {
                                    break;
                                }
                            }
                            drop(done);
                        });
                    }
                },
                Err(error) => {
                    send(&Up::Failed(error));
                }
            })
            .await;
        if pumped_tx.is_none() {
            let _ = pumped.await;
        }
    });
    send(&Up::Done);
    os::exit_now(0)
}

/// Reads the server's frames after the request: body chunks and host-call replies. The
/// server closing the socket ends the copy.
async fn read_down(mut reader: tokio::net::UnixStream, mut body: Option<mpsc::Sender<Chunk>>) {
    loop {
        match protocol::read::<Down>(&mut reader).await {
            Ok(Some(Down::Body(chunk))) => {
                // An upload the app let go is dropped.
                if let Some(sender) = &body {
                    if sender.send(chunk).await.is_err() {
                        body = None;
                    }
                }
            }
            Ok(Some(Down::Reply { id, reply })) => {
                let waiting = PENDING
                    .get_or_init(Mutex::default)
                    .lock()
                    .map_or(None, |mut p| p.remove(&id));
                if let Some(waiting) = waiting {
                    let _ = waiting.send(reply);
                }
            }
            Ok(Some(Down::Sent { id, result })) => {
                if let Some(waiting) = lock(&SENDING).remove(&id) {
                    let _ = waiting.send(result);
                }
            }
            Ok(Some(Down::SentBody { id, chunk })) => {
                if let Some(forward) = lock(&SENT_BODIES).get(&id) {
                    let _ = forward.send(chunk);
                }
            }
            Ok(Some(Down::Request { .. })) => {}
            // The server closed the connection: nobody wants this request any more.
            Ok(None) | Err(_) => os::exit_now(0),
        }
    }
}
