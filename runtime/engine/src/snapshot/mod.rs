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

mod huge_pages;
mod logs;
mod os;
pub(crate) use os::thread_cpu_time;
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
use protocol::{Down, FrameBody, ProcessConfig, Status, Up, CONFIG_ENV};

use crate::host_call::{Host, HostCall, HostReply};
use crate::instance::{App, BootError, HandleError, IncomingRequest};
use crate::limits::{Limit, Limits};
use crate::web::body_stream::{BodyChunks, Chunk, HostBody};
use crate::web::response::ResponseParts;
use edgeshim_store::cache::{CacheOp, CacheReply};

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

/// How much a reused instance's thread may let the process's heap grow before it collects.
const REUSED_GROWTH: usize = 32 << 20;

thread_local! {
    /// The process's live bytes after this thread's last collection.
    static COLLECTED_AT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// After a request in a reused instance (`--reuse-instances`): when the heap has grown by
/// more than [`REUSED_GROWTH`] since this thread last collected, collects this thread's
/// garbage and gives free memory back to the OS. Boa counts only its small objects toward
/// its own collections, so the strings and buffers of a large body a request read (often
/// hundreds of MB) would otherwise stay, request after request: measured, 5 uploads of
/// 200 MB read with `text()` left the server at 1 GB.
pub(crate) fn collect_after_reused_request() {
    let live = os::live_bytes();
    if live > COLLECTED_AT.get().saturating_add(REUSED_GROWTH) {
        boa_gc::force_collect();
        os::trim_heap();
        COLLECTED_AT.set(os::live_bytes());
    }
}

/// Makes socket folder names unique within the process.
static POOLS: AtomicU64 = AtomicU64::new(1);

/// A copy that has connected and waits for its request.
struct ReadyCopy {
    pid: u32,
    /// CPU time the copy had used when it said hello (not the request's).
    cpu: Duration,
    stream: UnixStream,
}

/// The server side: the snapshot process, its ready copies and the ones serving requests.
pub(crate) struct SnapshotPool {
    /// The snapshot process's stdin: one byte, one fork. Replaced when it is restarted.
    control: Arc<Mutex<Option<ChildStdin>>>,
    /// Its pid, for stopping it.
    pid: Arc<std::sync::atomic::AtomicU32>,
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

/// Removes the socket folders of servers that were killed before they could.
fn remove_stale_socket_dirs(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("edgeshim-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !os::is_alive(pid) && entry.path().join("copies.sock").exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A private folder for the socket copies connect to.
fn socket_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::temp_dir();
    remove_stale_socket_dirs(&base);
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
        let (process, control) = match spawn_process(program, &config) {
            Ok(spawned) => spawned,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&socket_dir);
                return Err(e);
            }
        };
        let (ready_tx, ready_rx) = async_channel::unbounded();
        let acceptor = runtime.spawn(accept_copies(listener, ready_tx, app.host()));
        let control = Arc::new(Mutex::new(Some(control)));
        let pid = Arc::new(std::sync::atomic::AtomicU32::new(process.id()));
        let stopping = Arc::new(AtomicBool::new(false));
        let supervisor = Supervisor {
            program: program.to_owned(),
            config,
            control: control.clone(),
            pid: pid.clone(),
            stopping: stopping.clone(),
            ready: ready.max(1),
        };
        std::thread::Builder::new()
            .name("edgeshim-snapshot".into())
            .spawn(move || supervisor.run(process))
            .map_err(|e| setup("cannot start the snapshot supervisor", &e))?;
        let pool = Self {
            control,
            pid,
            ready: ready_rx,
            live: Arc::default(),
            host: app.host(),
            limits,
            socket_dir,
            stopping,
            acceptor,
        };
        fork(&pool.control, ready.max(1));
        Ok(pool)
    }

    /// Asks the snapshot process for `count` more copies.
    fn fork(&self, count: usize) {
        fork(&self.control, count);
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
        let ReadyCopy { pid, cpu, stream } = copy;
        self.live.lock().insert(pid);
        let (reader, writer) = stream.into_split();
        let writer = Arc::new(tokio::sync::Mutex::new(writer));
        let IncomingRequest {
            method,
            url,
            headers,
            body,
            pop,
            client,
            kill_after,
            host,
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
            client,
            limits: self.limits,
        };
        let sent = protocol::write(&mut *writer.lock().await, &down).await;
        if let Err(e) = sent {
            self.live.lock().remove(&pid);
            return Err(HandleError::Crashed(format!(
                "the copy did not take the request: {e}"
            )));
        }
        let (head_tx, head_rx) = oneshot::channel();
        let copy = Copy {
            pid,
            cpu_before: cpu,
            limits: self.limits,
            kill_after,
        };
        let sends = Sends::default();
        if let Some(chunks) = streamed {
            // Sent over only when the copy reads it: passed on unread, it never leaves here.
            sends.hold(protocol::UPLOAD, HostBody::Stream(chunks));
        }
        let host = host.unwrap_or_else(|| self.host.clone());
        let served = serve_copy(copy, reader, writer, host, head_tx, sends);
        let live = self.live.clone();
        tokio::spawn(
            async move {
                served.await;
                live.lock().remove(&pid);
            }
            .in_current_span(),
        );
        head_rx.await.unwrap_or_else(|_| {
            Err(HandleError::Crashed(
                "the copy's connection ended without an answer".into(),
            ))
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
        os::kill(self.pid.load(Ordering::Relaxed));
        self.acceptor.abort();
        self.ready.close();
        for pid in self.live.lock().drain() {
            os::kill(pid);
        }
        let _ = std::fs::remove_dir_all(&self.socket_dir);
    }
}

impl Drop for SnapshotPool {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Asks the snapshot process behind `control` for `count` more copies.
fn fork(control: &Mutex<Option<ChildStdin>>, count: usize) {
    let mut control = control.lock();
    let Some(pipe) = control.as_mut() else {
        return;
    };
    if let Err(e) = pipe.write_all(&vec![b'f'; count]) {
        // The supervisor starts a new one.
        tracing::debug!("the snapshot process is gone ({e})");
        *control = None;
    }
}

/// Starts the snapshot process and waits until the app's top level has run.
fn spawn_process(program: &Path, config: &str) -> Result<(Child, ChildStdin), BootError> {
    let mut process = Command::new(program)
        .arg(SNAPSHOT_PROCESS_ARG)
        .env(CONFIG_ENV, config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| BootError::Setup(format!("cannot start {}: {e}", program.display())))?;
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
    match (failure, control) {
        (None, Some(control)) => Ok((process, control)),
        (failure, _) => {
            let _ = process.kill();
            let _ = process.wait();
            Err(failure.unwrap_or_else(|| BootError::Setup("no control pipe".into())))
        }
    }
}

/// Restarts the snapshot process when it ends while the server runs (the OOM killer, a
/// stray signal), so that requests keep being served.
struct Supervisor {
    program: PathBuf,
    config: String,
    control: Arc<Mutex<Option<ChildStdin>>>,
    pid: Arc<std::sync::atomic::AtomicU32>,
    stopping: Arc<AtomicBool>,
    ready: usize,
}

/// How long to wait before starting the snapshot process again after a failed restart.
const RESTART_BACKOFF: Duration = Duration::from_secs(1);

impl Supervisor {
    fn run(self, mut process: Child) {
        loop {
            let status = process.wait();
            if self.stopping.load(Ordering::Relaxed) {
                return;
            }
            match status {
                Ok(status) => {
                    tracing::error!("the snapshot process ended ({status}); starting it again")
                }
                Err(e) => tracing::error!("lost the snapshot process ({e}); starting it again"),
            }
            *self.control.lock() = None;
            loop {
                if self.stopping.load(Ordering::Relaxed) {
                    return;
                }
                match spawn_process(&self.program, &self.config) {
                    Ok((restarted, control)) => {
                        self.pid.store(restarted.id(), Ordering::Relaxed);
                        *self.control.lock() = Some(control);
                        fork(&self.control, self.ready);
                        process = restarted;
                        break;
                    }
                    Err(e) => {
                        tracing::error!("restarting the snapshot process failed: {e}");
                        std::thread::sleep(RESTART_BACKOFF);
                    }
                }
            }
        }
    }
}

/// Accepts copies as they connect and queues them as ready; a copy's second connection, for
/// its blocking host calls, is served on its own.
async fn accept_copies(
    listener: UnixListener,
    ready: async_channel::Sender<ReadyCopy>,
    host: Arc<dyn Host>,
) {
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
            Ok(Some(Up::Hello { pid, cpu })) => {
                if ready.send(ReadyCopy { pid, cpu, stream }).await.is_err() {
                    return;
                }
            }
            Ok(Some(Up::BlockingCalls)) => {
                tokio::spawn(serve_blocking_calls(stream, host.clone()));
            }
            other => tracing::warn!("a copy did not introduce itself: {other:?}"),
        }
    }
}

/// The cache obligations one copy holds, as the server sees its calls go by. A copy that
/// ends normally cancels its own (`fastly::cache::host::end_request`); one that crashed or
/// was stopped at a limit cannot, so what it still holds is cancelled here when it is gone,
/// and the requests waiting for those keys go on at once instead of after the lease.
#[derive(Debug, Clone, Default)]
struct HeldObligations(Arc<parking_lot::Mutex<std::collections::BTreeSet<(usize, u64)>>>);

impl HeldObligations {
    /// Answers `call` through `host`, keeping track of the obligation it gives or ends.
    async fn call(&self, host: &Arc<dyn Host>, call: HostCall) -> HostReply {
        let (pop, ends) = match &call {
            HostCall::Cache { pop, op } => (
                *pop,
                match op {
                    CacheOp::TransactionInsert { transaction, .. }
                    | CacheOp::TransactionUpdate { transaction, .. }
                    | CacheOp::TransactionCancel { transaction } => Some(*transaction),
                    _ => None,
                },
            ),
            _ => (0, None),
        };
        let reply = host.call(call).await;
        let mut held = self.0.lock();
        if let Some(ended) = ends {
            held.remove(&(pop, ended));
        }
        if let HostReply::Cache(Ok(CacheReply::Lookup(lookup))) = &reply {
            if let Some(transaction) = lookup.transaction {
                held.insert((pop, transaction));
            }
        }
        reply
    }

    /// Cancels whatever is still held: the copy is gone.
    async fn release(&self, host: &Arc<dyn Host>) {
        let held = std::mem::take(&mut *self.0.lock());
        for (pop, transaction) in held {
            tracing::debug!("cancelling cache transaction {transaction} of a copy that ended");
            let cancel = HostCall::Cache {
                pop,
                op: CacheOp::TransactionCancel { transaction },
            };
            drop(host.call(cancel).await);
        }
    }
}

/// Answers a copy's blocking host calls, one at a time (its JS thread waits for each), until
/// it closes the connection. A cache transaction may wait here for another copy's insert.
async fn serve_blocking_calls(mut stream: UnixStream, host: Arc<dyn Host>) {
    let held = HeldObligations::default();
    while let Ok(Some(Up::Call { id, call })) = protocol::read::<Up>(&mut stream).await {
        let reply = Down::Reply {
            id,
            reply: held.call(&host, call).await,
        };
        if protocol::write(&mut stream, &reply).await.is_err() {
            break;
        }
    }
    held.release(&host).await;
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

/// The copy serving one request.
struct Copy {
    pid: u32,
    cpu_before: Duration,
    limits: Limits,
    /// When to stop it as if it died (`IncomingRequest::kill_after`).
    kill_after: Option<Duration>,
}

/// Resolves when the copy goes over its wall-clock or CPU limit. CPU time is read only once
/// it could have run out (a copy runs one thread, so it uses at most as much CPU as time
/// passes): a request that ends sooner costs nothing here.
async fn over_limit(copy: &Copy) -> Limit {
    let started = tokio::time::Instant::now();
    loop {
        let elapsed = started.elapsed();
        if let Some(kill) = copy.kill_after.filter(|kill| elapsed >= *kill) {
            return Limit::Killed(kill);
        }
        if elapsed >= copy.limits.wall {
            return Limit::Wall(copy.limits.wall);
        }
        let mut next = copy.limits.wall - elapsed;
        if let Some(kill) = copy.kill_after {
            next = next.min(kill - elapsed);
        }
        if let Some(cpu) = copy.limits.cpu {
            let used = if elapsed >= cpu {
                os::cpu_time_of(copy.pid).map(|t| t.saturating_sub(copy.cpu_before))
            } else {
                None
            };
            match used {
                Some(used) if used >= cpu => return Limit::Cpu(cpu),
                Some(used) => next = next.min(cpu - used),
                None => next = next.min(cpu.saturating_sub(elapsed)),
            }
        }
        tokio::time::sleep(next.max(Duration::from_millis(1))).await;
    }
}

/// Reads the copy's frames until it is done: the response head (handed to `head`), body
/// chunks, host calls (answered by `host`) and limit reports; stops the copy when it goes
/// over a limit.
async fn serve_copy(
    copy: Copy,
    mut reader: tokio::net::unix::OwnedReadHalf,
    writer: Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
    host: Arc<dyn Host>,
    head: Head,
    mut sends: Sends,
) {
    let mut head = Some(head);
    let mut body: Option<mpsc::Sender<Chunk>> = None;
    let held = HeldObligations::default();
    let answer = |head: &mut Option<Head>, result| {
        if let Some(head) = head.take() {
            let _ = head.send(result);
        }
    };
    let watch = over_limit(&copy);
    tokio::pin!(watch);
    loop {
        let read = tokio::select! {
            read = protocol::read::<Up>(&mut reader) => read,
            limit = &mut watch => {
                os::kill(copy.pid);
                report_limit(HandleError::Limit { limit, at: None }, &mut head, &mut body).await;
                break;
            }
        };
        let frame = match read {
            Ok(Some(frame)) => frame,
            Ok(None) | Err(_) => {
                // The copy ended without saying it was done: it crashed (or was killed).
                let why = "the copy of the app exited unexpectedly (a crash in the engine?)";
                answer(&mut head, Err(HandleError::Crashed(why.into())));
                if let Some(body) = body.take() {
                    let _ = body.send(Chunk::Error(why.into())).await;
                }
                break;
            }
        };
        match frame {
            Up::Head {
                status,
                headers,
                body: frame_body,
            } => {
                let body = match frame_body {
                    FrameBody::Full(bytes) => HostBody::Full(bytes),
                    FrameBody::Frames => {
                        let (sender, chunks) = BodyChunks::channel();
                        body = Some(sender);
                        HostBody::Stream(chunks)
                    }
                    FrameBody::Held(id) => sends.take_held(id),
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
                let (host, held, writer) = (host.clone(), held.clone(), writer.clone());
                tokio::spawn(async move {
                    let reply = Down::Reply {
                        id,
                        reply: held.call(&host, call).await,
                    };
                    // Answered after the copy was gone: nobody takes up what it was given.
                    if protocol::write(&mut *writer.lock().await, &reply)
                        .await
                        .is_err()
                    {
                        held.release(&host).await;
                    }
                });
            }
            Up::Send { id, request, body } => {
                sends.start(id, request, body, &host, &writer);
            }
            Up::SendBody { id, chunk } => sends.upload(id, chunk).await,
            Up::Ack { id } => sends.ack(id),
            Up::Pull { id } => sends.pull(id, &writer),
            Up::Limit { limit, at } => {
                report_limit(HandleError::Limit { limit, at }, &mut head, &mut body).await;
                break;
            }
            Up::Done => {
                answer(
                    &mut head,
                    Err(HandleError::Crashed(
                        "the copy finished without answering".into(),
                    )),
                );
                break;
            }
            Up::EndpointLog { endpoint, message } => host.log(&endpoint, &message),
            Up::Log {
                level,
                target,
                message,
            } => logs::emit(level, &target, &message),
            Up::Hello { .. } | Up::BlockingCalls => {}
        }
    }
    sends.close();
    held.release(&host).await;
}

/// The backend requests of one copy in flight, and the bodies the server holds for it (its
/// upload, backend responses) until it reads them or passes them on.
#[derive(Default)]
struct Sends {
    uploads: std::collections::HashMap<u64, mpsc::Sender<Chunk>>,
    windows: Arc<Mutex<std::collections::HashMap<u64, Arc<tokio::sync::Semaphore>>>>,
    held: Arc<Mutex<std::collections::HashMap<u64, HostBody>>>,
}

impl Sends {
    fn hold(&self, id: u64, body: HostBody) {
        self.held.lock().insert(id, body);
    }

    /// A held body, for passing on. One that is gone (taken already) is a cut-off body.
    fn take_held(&self, id: u64) -> HostBody {
        self.held.lock().remove(&id).unwrap_or_else(|| {
            let (sender, chunks) = BodyChunks::channel();
            let _ = sender.try_send(Chunk::Error("the body was already used".into()));
            HostBody::Stream(chunks)
        })
    }

    /// Sends the copy's backend request `id`; its response head goes to the copy, its body
    /// is held for it.
    fn start(
        &mut self,
        id: u64,
        request: crate::host_call::BackendRequest,
        frame_body: FrameBody,
        host: &Arc<dyn Host>,
        writer: &Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
    ) {
        let body = match frame_body {
            FrameBody::Full(bytes) => HostBody::Full(bytes),
            FrameBody::Frames => {
                let (sender, chunks) = BodyChunks::channel();
                self.uploads.insert(id, sender);
                HostBody::Stream(chunks)
            }
            FrameBody::Held(held) => self.take_held(held),
        };
        let sent = host.send(request, body);
        let writer = writer.clone();
        let held = self.held.clone();
        tokio::spawn(
            async move {
                let result = match sent.await {
                    Ok(response) => {
                        held.lock().insert(id, response.body);
                        Ok(response.head)
                    }
                    Err(e) => Err(e),
                };
                let down = Down::Sent { id, result };
                let _ = protocol::write(&mut *writer.lock().await, &down).await;
            }
            .in_current_span(),
        );
    }

    /// The copy reads held body `id`: send it over (a backend response within its window).
    fn pull(&self, id: u64, writer: &Arc<tokio::sync::Mutex<OwnedWriteHalf>>) {
        let Some(body) = self.held.lock().remove(&id) else {
            return;
        };
        let writer = writer.clone();
        if id == protocol::UPLOAD {
            let chunks = match body {
                HostBody::Stream(chunks) => chunks,
                HostBody::Full(_) => return,
            };
            tokio::spawn(forward_upload(chunks, writer).in_current_span());
            return;
        }
        let window = Arc::new(tokio::sync::Semaphore::new(protocol::SEND_WINDOW));
        self.windows.lock().insert(id, window.clone());
        let windows = self.windows.clone();
        tokio::spawn(
            async move {
                forward_sent_body(id, body, &window, &writer).await;
                windows.lock().remove(&id);
            }
            .in_current_span(),
        );
    }

    /// One chunk of the upload of request `id`; waits while the backend is behind.
    async fn upload(&mut self, id: u64, chunk: Chunk) {
        let last = !matches!(chunk, Chunk::Data(_));
        if let Some(sender) = self.uploads.get(&id) {
            if sender.send(chunk).await.is_err() {
                self.uploads.remove(&id);
            }
        }
        if last {
            self.uploads.remove(&id);
        }
    }

    fn ack(&self, id: u64) {
        if let Some(window) = self.windows.lock().get(&id) {
            window.add_permits(1);
        }
    }

    /// The copy is gone: response bodies still waiting for room stop, held ones are dropped.
    fn close(&self) {
        for window in self.windows.lock().values() {
            window.close();
        }
        self.held.lock().clear();
    }
}

/// Sends a backend response body to the copy, at most [`protocol::SEND_WINDOW`] chunks
/// ahead of what it took.
async fn forward_sent_body(
    id: u64,
    body: HostBody,
    window: &tokio::sync::Semaphore,
    writer: &tokio::sync::Mutex<OwnedWriteHalf>,
) {
    let mut chunks = match body {
        HostBody::Full(bytes) => {
            let frames = [Chunk::Data(bytes), Chunk::End];
            for chunk in frames {
                let _ =
                    protocol::write(&mut *writer.lock().await, &Down::SentBody { id, chunk }).await;
            }
            return;
        }
        HostBody::Stream(chunks) => chunks,
    };
    loop {
        let chunk = chunks
            .recv()
            .await
            .unwrap_or_else(|| Chunk::Error("the backend's response was cut off".into()));
        let last = !matches!(chunk, Chunk::Data(_));
        match window.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_) => return,
        }
        let down = Down::SentBody { id, chunk };
        if protocol::write(&mut *writer.lock().await, &down)
            .await
            .is_err()
            || last
        {
            return;
        }
    }
}

/// A limit ended the copy: the answer, if none was given yet; else the cut body and a log line.
async fn report_limit(
    error: HandleError,
    head: &mut Option<Head>,
    body: &mut Option<mpsc::Sender<Chunk>>,
) {
    if let Some(head) = head.take() {
        let _ = head.send(Err(error));
        return;
    }
    // Answered already: the limit cuts the body or ends the waitUntil work.
    tracing::error!("{error}");
    if let Some(body) = body.take() {
        let _ = body.send(Chunk::Error(error.to_string())).await;
    }
}
