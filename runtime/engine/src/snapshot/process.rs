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
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

use super::os::{self, Forked};
use super::protocol::{self, Down, ProcessConfig, Status, Up, CONFIG_ENV};
use crate::host_call::{Host, HostCall, HostFuture, HostReply};
use crate::instance::{App, BootError, HandleError, IncomingRequest, Instance};
use crate::limits::{Limit, Limits};
use crate::web::body_stream::{Chunk, HostBody, CHANNEL_CHUNKS};

/// Exit status of a copy stopped by a limit.
const EXIT_LIMIT: i32 = 3;

/// The copy's connection to the server: frames are written whole under this lock, by the JS
/// thread, the socket reader or the watchdog.
static LINK: OnceLock<Mutex<UnixStream>> = OnceLock::new();
/// The heap-limit frame, encoded ahead: past the limit nothing may allocate.
static HEAP_FRAME: OnceLock<Vec<u8>> = OnceLock::new();
/// Host calls waiting for their reply, by id.
static PENDING: OnceLock<Mutex<HashMap<u64, oneshot::Sender<HostReply>>>> = OnceLock::new();

fn send(message: &Up) -> bool {
    let Ok(frame) = protocol::encode(message) else {
        return false;
    };
    send_raw(&frame)
}

fn send_raw(frame: &[u8]) -> bool {
    use std::io::Write;
    let Some(link) = LINK.get() else {
        return false;
    };
    let mut stream = link
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    stream.write_all(frame).is_ok()
}

/// Reports `limit` to the server and ends the copy.
fn stop_at(limit: Limit) -> ! {
    send(&Up::Limit { limit, at: None });
    os::exit_now(EXIT_LIMIT)
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
    fn call(&self, call: HostCall) -> HostFuture {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        let pending = PENDING.get_or_init(Mutex::default);
        pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id, reply);
        let sent = send(&Up::Call { id, call });
        Box::pin(async move {
            let lost = || {
                HostReply::Kv(Err(edgeshim_store::StoreError::InternalError(
                    "the server did not answer the host call".into(),
                )))
            };
            if !sent {
                return lost();
            }
            answer.await.unwrap_or_else(|_| lost())
        })
    }
}

/// Runs the snapshot process.
pub(super) fn main() -> ExitCode {
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
    // One byte from the server: fork one copy. End of input: the server is gone.
    let mut stdin = std::io::stdin().lock();
    let mut command = [0u8; 64];
    loop {
        os::reap_children();
        let n = match stdin.read(&mut command) {
            Ok(0) | Err(_) => return ExitCode::SUCCESS,
            Ok(n) => n,
        };
        for _ in 0..n {
            match os::fork() {
                Ok(Forked::Parent) => {}
                Ok(Forked::Child) => copy_main(&mut instance, &config),
                Err(e) => tracing::error!("cannot fork a copy of the app: {e}"),
            }
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
    let mut instance = local.block_on(&runtime, Instance::boot(&app))?;
    // The built-ins written in JS (streams, …) are part of the snapshot, as js-compute's are,
    // so no request pays for evaluating them.
    let libraries: Vec<&'static str> = crate::js_lib::LIBRARIES.iter().map(|l| l.name).collect();
    instance.preload(&libraries);
    Ok(instance)
}

/// A copy: serves one request and exits.
fn copy_main(instance: &mut Instance, config: &ProcessConfig) -> ! {
    os::detach_stdio();
    // Math.random draws from a per-thread generator the fork copied: reseed it, or every
    // copy would draw the same numbers. (crypto.getRandomValues asks the OS each time.)
    if rand::rng().reseed().is_err() {
        tracing::warn!("cannot reseed Math.random's generator");
    }
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
    }) {
        os::exit_now(0);
    }
    // Waits, as a ready copy, for the request.
    let request = match protocol::read_blocking::<Down>(&mut reader) {
        Ok(Some(Down::Request {
            method,
            url,
            headers,
            body,
            pop,
            limits,
        })) => (method, url, headers, body, pop, limits),
        _ => os::exit_now(0),
    };
    let (method, url, headers, body, pop, limits) = request;
    let started = Instant::now();
    let cpu_at_start = os::process_cpu_time();
    watch(limits, started, cpu_at_start);
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
            let (sender, chunks) = mpsc::channel(CHANNEL_CHUNKS);
            (HostBody::Stream(chunks), Some(sender))
        }
    };
    read_down(reader, sender);
    let request = IncomingRequest {
        method,
        url,
        headers,
        body,
        pop,
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
    let max = tracing::level_filters::LevelFilter::current();
    let forward = super::logs::Forward(send).with_filter(tracing_subscriber::filter::filter_fn(
        move |meta| meta.target().starts_with("edgeshim") && *meta.level() <= max,
    ));
    let _logs = tracing::subscriber::set_default(tracing_subscriber::registry().with(forward));
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let (pumped_tx, pumped) = oneshot::channel::<()>();
        let mut pumped_tx = Some(pumped_tx);
        instance
            .handle(request, |result| match result {
                Ok(parts) => match parts.body {
                    HostBody::Full(bytes) => {
                        send(&Up::Head {
                            status: parts.status,
                            headers: parts.headers,
                            body: Some(bytes),
                        });
                    }
                    HostBody::Stream(mut chunks) => {
                        send(&Up::Head {
                            status: parts.status,
                            headers: parts.headers,
                            body: None,
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
fn read_down(mut reader: UnixStream, mut body: Option<mpsc::Sender<Chunk>>) {
    let spawned = std::thread::Builder::new()
        .name("edgeshim-copy-reader".into())
        .spawn(move || loop {
            match protocol::read_blocking::<Down>(&mut reader) {
                Ok(Some(Down::Body(chunk))) => {
                    // An upload the app let go is dropped.
                    if let Some(sender) = &body {
                        if sender.blocking_send(chunk).is_err() {
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
                Ok(Some(Down::Request { .. })) => {}
                // The server closed the connection: nobody wants this request any more.
                Ok(None) | Err(_) => os::exit_now(0),
            }
        });
    if spawned.is_err() {
        os::exit_now(1);
    }
}

/// Ends the copy when the request goes over its CPU or wall-clock limit. CPU time is
/// checked when it could first have run out, so an idle request costs one wake-up at most.
fn watch(limits: Limits, started: Instant, cpu_at_start: Duration) {
    let spawned = std::thread::Builder::new()
        .name("edgeshim-copy-watchdog".into())
        .spawn(move || loop {
            let elapsed = started.elapsed();
            if elapsed >= limits.wall {
                stop_at(Limit::Wall(limits.wall));
            }
            let mut next = limits.wall - elapsed;
            if let Some(cpu) = limits.cpu {
                let used = os::process_cpu_time().saturating_sub(cpu_at_start);
                if used >= cpu {
                    stop_at(Limit::Cpu(cpu));
                }
                next = next.min(cpu - used);
            }
            std::thread::sleep(next.max(Duration::from_millis(1)));
        });
    if spawned.is_err() {
        tracing::warn!("cannot start the limits watchdog; this request runs without limits");
    }
}
