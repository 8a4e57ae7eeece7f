//! Compute's instance model on Unix: the app's top level runs once, in a snapshot process,
//! and every request runs in a fresh copy of it (a fork), as every request on Compute starts
//! from the build's Wizer snapshot.
//!
//! Boa can neither snapshot a heap (boa-dev/boa#1372) nor share compiled code between
//! contexts (boa-dev/boa#2626), so a per-request copy made inside Boa would re-run the whole
//! app; a fork copies the evaluated state in a time that does not grow with the app's code.
//! Copies are forked ahead of requests, so the request path only hands one its request.
//!
//! The server keeps the stores and every host service; a copy reaches them with
//! [`HostCall`](crate::host_call::HostCall)s over its socket ([`protocol`]). A copy that
//! goes over a limit ([`crate::limits`]) is stopped without slowing any other request.

mod logs;
mod os;
mod process;
mod protocol;

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

pub use os::CountingAllocator;
use protocol::{Down, ProcessConfig, Status, Up, CONFIG_ENV};

use crate::host_call::Host;
use crate::instance::{App, BootError, HandleError, IncomingRequest};
use crate::limits::{Limit, Limits};
use crate::web::body_stream::{Chunk, HostBody, CHANNEL_CHUNKS};
use crate::web::response::ResponseParts;

/// The first argument that makes the `edgeshim` program a snapshot process.
pub const SNAPSHOT_PROCESS_ARG: &str = "__snapshot-process";

/// Runs this process as the snapshot process (the program was started with
/// [`SNAPSHOT_PROCESS_ARG`]). Call it first thing in `main`, before any thread exists.
pub fn run_snapshot_process() -> ExitCode {
    process::main()
}

/// Collects garbage when the heap nears its limit (in a copy; never elsewhere).
pub(crate) fn collect_under_pressure() {
    if os::under_pressure() {
        boa_gc::force_collect();
        os::collected();
    }
}

/// How long a copy may outlive its wall-clock limit before the server kills it (its own
/// watchdog normally stops it first).
const KILL_GRACE: Duration = Duration::from_secs(2);

/// Makes socket folder names unique within the process.
static POOLS: AtomicU64 = AtomicU64::new(1);

/// A copy that has connected and waits for its request.
struct ReadyCopy {
    pid: u32,
    stream: UnixStream,
}

/// The server side: the snapshot process, its ready copies and the ones serving requests.
pub(crate) struct SnapshotPool {
    control: Mutex<Option<ChildStdin>>,
    process: Mutex<Child>,
    ready: async_channel::Receiver<ReadyCopy>,
    /// Copies serving a request, by pid (killed at shutdown).
    live: Arc<Mutex<HashSet<u32>>>,
    host: Arc<dyn Host>,
    limits: Limits,
    socket_dir: PathBuf,
    stopping: Arc<AtomicBool>,
    acceptor: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for SnapshotPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotPool").finish_non_exhaustive()
    }
}

/// A private folder for the socket copies connect to.
fn socket_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::temp_dir();
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "edgeshim-{}-{}-{attempt}",
            std::process::id(),
            POOLS.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "cannot create a private socket folder",
    ))
}

impl SnapshotPool {
    /// Starts the snapshot process (`program` run with [`SNAPSHOT_PROCESS_ARG`]), waits for
    /// its top level to run, and forks the first `ready` copies.
    pub(crate) fn start(
        program: &Path,
        app: &App,
        limits: Limits,
        ready: usize,
    ) -> Result<Self, BootError> {
        let setup =
            |what: &str, e: &dyn std::fmt::Display| BootError::Setup(format!("{what}: {e}"));
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| setup("the snapshot pool needs a tokio runtime", &e))?;
        let socket_dir = socket_dir().map_err(|e| setup("cannot create the socket folder", &e))?;
        let socket = socket_dir.join("copies.sock");
        let listener = {
            let _guard = runtime.enter();
            UnixListener::bind(&socket).map_err(|e| setup("cannot listen for copies", &e))?
        };
        let config = ProcessConfig {
            app: app.path().to_owned(),
            store_names: app.store_names().to_vec(),
            settings: app.settings().clone(),
            socket,
        };
        let config = serde_json::to_string(&config).map_err(|e| setup("config", &e))?;
        let mut process = Command::new(program)
            .arg(SNAPSHOT_PROCESS_ARG)
            .env(CONFIG_ENV, config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| setup(&format!("cannot start {}", program.display()), &e))?;
        let control = process.stdin.take();
        let status = process.stdout.take().map(|stdout| {
            let mut line = String::new();
            let mut reader = std::io::BufReader::new(stdout);
            reader.read_line(&mut line).map(|_| line)
        });
        let failure = match status {
            Some(Ok(line)) => match serde_json::from_str::<Status>(&line) {
                Ok(Status::Ready) => None,
                Ok(Status::Failed(e)) => Some(e),
                Err(_) => Some(BootError::Setup(
                    "the snapshot process ended before the app was loaded".into(),
                )),
            },
            _ => Some(BootError::Setup(
                "the snapshot process gave no status".into(),
            )),
        };
        if let Some(e) = failure {
            let _ = process.kill();
            let _ = process.wait();
            let _ = std::fs::remove_dir_all(&socket_dir);
            return Err(e);
        }
        let (ready_tx, ready_rx) = async_channel::unbounded();
        let acceptor = runtime.spawn(accept_copies(listener, ready_tx));
        let pool = Self {
            control: Mutex::new(control),
            process: Mutex::new(process),
            ready: ready_rx,
            live: Arc::default(),
            host: app.host(),
            limits,
            socket_dir,
            stopping: Arc::default(),
            acceptor,
        };
        pool.fork(ready.max(1));
        Ok(pool)
    }

    /// Asks the snapshot process for `count` more copies.
    fn fork(&self, count: usize) {
        let mut control = self.control.lock();
        let Some(pipe) = control.as_mut() else {
            return;
        };
        if let Err(e) = pipe.write_all(&vec![b'f'; count]) {
            tracing::error!("the snapshot process is gone ({e}); requests will fail");
            *control = None;
        }
    }

    /// Serves `request` in a fresh copy of the snapshot.
    pub(crate) async fn handle(
        &self,
        request: IncomingRequest,
    ) -> Result<ResponseParts, HandleError> {
        let gone = || HandleError::Crashed("the snapshot process has stopped".into());
        if self.stopping.load(Ordering::Relaxed) {
            return Err(HandleError::Crashed("the server is shutting down".into()));
        }
        let copy = self.ready.recv().await.map_err(|_| gone())?;
        self.fork(1);
        let ReadyCopy { pid, stream } = copy;
        self.live.lock().insert(pid);
        let (reader, writer) = stream.into_split();
        let writer = Arc::new(tokio::sync::Mutex::new(writer));
        let IncomingRequest {
            method,
            url,
            headers,
            body,
            pop,
        } = request;
        let (inline, streamed) = match body {
            HostBody::Full(bytes) => (Some(bytes), None),
            HostBody::Stream(chunks) => (None, Some(chunks)),
        };
        let down = Down::Request {
            method,
            url,
            headers,
            body: inline,
            pop,
            limits: self.limits,
        };
        let sent = protocol::write(&mut *writer.lock().await, &down).await;
        if let Err(e) = sent {
            self.live.lock().remove(&pid);
            return Err(HandleError::Crashed(format!(
                "the copy did not take the request: {e}"
            )));
        }
        if let Some(chunks) = streamed {
            tokio::spawn(forward_upload(chunks, writer.clone()).in_current_span());
        }
        let (head_tx, head_rx) = oneshot::channel();
        let served = serve_copy(reader, writer, self.host.clone(), head_tx);
        let live = self.live.clone();
        let wall = self.limits.wall;
        tokio::spawn(
            async move {
                if tokio::time::timeout(wall + KILL_GRACE, served)
                    .await
                    .is_err()
                {
                    tracing::error!("{}; killed it", Limit::Wall(wall));
                    os::kill(pid);
                }
                live.lock().remove(&pid);
            }
            .in_current_span(),
        );
        head_rx.await.unwrap_or_else(|_| {
            Err(HandleError::Limit {
                limit: Limit::Wall(wall),
                at: None,
            })
        })
    }

    /// Kills, after `grace`, every copy still serving a request, so that shutdown never waits
    /// for a handler that does not end.
    pub(crate) fn abort_after(&self, grace: Duration) {
        self.stopping.store(true, Ordering::Relaxed);
        let live = self.live.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let pids: Vec<u32> = live.lock().drain().collect();
            if !pids.is_empty() {
                tracing::warn!("stopping {} request(s) still running", pids.len());
            }
            for pid in pids {
                os::kill(pid);
            }
        });
    }

    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        // Closing the control pipe ends the snapshot process; ready copies see their socket
        // close and end too.
        *self.control.lock() = None;
        self.acceptor.abort();
        self.ready.close();
        for pid in self.live.lock().drain() {
            os::kill(pid);
        }
        let mut process = self.process.lock();
        let _ = process.kill();
        let _ = process.wait();
        let _ = std::fs::remove_dir_all(&self.socket_dir);
    }
}

impl Drop for SnapshotPool {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Accepts copies as they connect and queues them as ready.
async fn accept_copies(listener: UnixListener, ready: async_channel::Sender<ReadyCopy>) {
    loop {
        let (mut stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("accepting a copy failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match protocol::read::<Up>(&mut stream).await {
            Ok(Some(Up::Hello { pid })) => {
                if ready.send(ReadyCopy { pid, stream }).await.is_err() {
                    return;
                }
            }
            other => tracing::warn!("a copy did not introduce itself: {other:?}"),
        }
    }
}

/// Sends a streamed upload to the copy.
async fn forward_upload(
    mut chunks: crate::web::body_stream::BodyChunks,
    writer: Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
) {
    loop {
        let chunk = chunks
            .recv()
            .await
            .unwrap_or_else(|| Chunk::Error("the upload was cut off".into()));
        let last = !matches!(chunk, Chunk::Data(_));
        if protocol::write(&mut *writer.lock().await, &Down::Body(chunk))
            .await
            .is_err()
            || last
        {
            return;
        }
    }
}

type Head = oneshot::Sender<Result<ResponseParts, HandleError>>;

/// Reads the copy's frames until it is done: the response head (handed to `head`), body
/// chunks, host calls (answered by `host`) and limit reports.
async fn serve_copy(
    mut reader: tokio::net::unix::OwnedReadHalf,
    writer: Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
    host: Arc<dyn Host>,
    head: Head,
) {
    let mut head = Some(head);
    let mut body: Option<mpsc::Sender<Chunk>> = None;
    let answer = |head: &mut Option<Head>, result| {
        if let Some(head) = head.take() {
            let _ = head.send(result);
        }
    };
    loop {
        let frame = match protocol::read::<Up>(&mut reader).await {
            Ok(Some(frame)) => frame,
            Ok(None) | Err(_) => {
                // The copy ended without saying it was done: it crashed (or was killed).
                let why = "the copy of the app exited unexpectedly (a crash in the engine?)";
                answer(&mut head, Err(HandleError::Crashed(why.into())));
                if let Some(body) = body.take() {
                    let _ = body.send(Chunk::Error(why.into())).await;
                }
                return;
            }
        };
        match frame {
            Up::Head {
                status,
                headers,
                body: inline,
            } => {
                let body = match inline {
                    Some(bytes) => HostBody::Full(bytes),
                    None => {
                        let (sender, chunks) = mpsc::channel(CHANNEL_CHUNKS);
                        body = Some(sender);
                        HostBody::Stream(chunks)
                    }
                };
                answer(
                    &mut head,
                    Ok(ResponseParts {
                        status,
                        headers,
                        body,
                    }),
                );
            }
            Up::Body(chunk) => {
                let last = !matches!(chunk, Chunk::Data(_));
                if let Some(sender) = &body {
                    // A client that went away: the rest of the body is dropped.
                    if sender.send(chunk).await.is_err() {
                        body = None;
                    }
                }
                if last {
                    body = None;
                }
            }
            Up::Failed(error) => answer(&mut head, Err(error)),
            Up::Call { id, call } => {
                let reply = host.call(call);
                let writer = writer.clone();
                tokio::spawn(async move {
                    let reply = Down::Reply {
                        id,
                        reply: reply.await,
                    };
                    let _ = protocol::write(&mut *writer.lock().await, &reply).await;
                });
            }
            Up::Limit { limit, at } => {
                let error = HandleError::Limit { limit, at };
                if head.is_some() {
                    answer(&mut head, Err(error));
                } else {
                    // Answered already: the limit cuts the body or ends the waitUntil work.
                    tracing::error!("{error}");
                    if let Some(body) = body.take() {
                        let _ = body.send(Chunk::Error(error.to_string())).await;
                    }
                }
                return;
            }
            Up::Done => {
                answer(
                    &mut head,
                    Err(HandleError::Crashed(
                        "the copy finished without answering".into(),
                    )),
                );
                return;
            }
            Up::Log {
                level,
                target,
                message,
            } => logs::emit(level, &target, &message),
            Up::Hello { .. } => {}
        }
    }
}
