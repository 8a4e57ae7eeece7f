//! Where requests run. Three modes:
//!
//! - snapshot (the default on Unix, [`crate::snapshot`]): the app's top level runs once and
//!   every request runs in a fresh copy of that state, as on Compute;
//! - fresh instances (elsewhere, or without a snapshot program): worker threads build a new
//!   instance per request, re-running the top level each time, ahead of the request;
//! - `reuse_instances`: one instance per worker thread serves many requests: fastest, but
//!   state leaks between requests, which Compute never does.
//!
//! Worker threads each run a current-thread tokio runtime; only plain Rust data (requests,
//! responses) crosses threads.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{oneshot, Semaphore};
use tracing::Instrument;

use crate::instance::{App, BootError, HandleError, IncomingRequest, Instance};
use crate::limits::Limits;
use crate::web::response::ResponseParts;

/// How the pool runs the app.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Worker threads running JS.
    pub workers: usize,
    /// Serve many requests per instance (not Compute-faithful).
    pub reuse_instances: bool,
    /// Requests one worker runs at once in fresh-instance mode (each in its own instance).
    pub max_concurrent_per_worker: usize,
    /// Compute's per-request limits (CPU, wall clock and heap are enforced in snapshot mode).
    pub limits: Limits,
    /// The program that runs the snapshot process: one whose `main` calls
    /// [`crate::run_snapshot_process`] when its first argument is
    /// [`crate::SNAPSHOT_PROCESS_ARG`] (the `edgeshim` binary). `None`, or a platform other
    /// than Unix: fresh in-process instances instead.
    pub snapshot_program: Option<PathBuf>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            reuse_instances: false,
            max_concurrent_per_worker: 32,
            limits: Limits::default(),
            snapshot_program: None,
        }
    }
}

/// Why the pool did not start.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error(transparent)]
    Boot(#[from] BootError),
    #[error("cannot start a JS worker thread: {0}")]
    Thread(#[from] std::io::Error),
    #[error("a JS worker stopped while starting")]
    WorkerLost,
}

type Reply = oneshot::Sender<Result<ResponseParts, HandleError>>;

struct Job {
    request: IncomingRequest,
    reply: Reply,
    span: tracing::Span,
}

/// A running pool. Dropping it (or [`Pool::shutdown`]) lets in-flight requests finish.
pub struct Pool {
    inner: Inner,
    app: App,
}

enum Inner {
    Workers(Workers),
    #[cfg(unix)]
    Snapshot(crate::snapshot::SnapshotPool),
}

/// Copies kept forked ahead of requests, per worker.
#[cfg(unix)]
const READY_COPIES_PER_WORKER: usize = 4;

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("mode", &self.mode())
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// Starts the pool; the app's top level has run (at least once) before this returns, so
    /// an app that does not parse or throws at top level fails here, before any request.
    ///
    /// # Errors
    /// The app failed to boot, or a thread or process could not be started.
    pub fn start(app: App, config: &PoolConfig) -> Result<Self, PoolError> {
        #[cfg(unix)]
        if let (false, Some(program)) = (config.reuse_instances, &config.snapshot_program) {
            let ready = config.workers.max(1) * READY_COPIES_PER_WORKER;
            let pool = crate::snapshot::SnapshotPool::start(program, &app, config.limits, ready)?;
            return Ok(Self {
                inner: Inner::Snapshot(pool),
                app,
            });
        }
        let workers = Workers::start(app.clone(), config)?;
        Ok(Self {
            inner: Inner::Workers(workers),
            app,
        })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// How requests run, for the start-up line.
    pub fn mode(&self) -> &'static str {
        match &self.inner {
            Inner::Workers(w) if w.reuse => {
                "instances reused (fast; state leaks between requests, which Compute never does)"
            }
            Inner::Workers(_) => "a fresh instance per request (the top level re-runs for each)",
            #[cfg(unix)]
            Inner::Snapshot(_) => {
                "top level run once, each request in a fresh copy of it (Compute's model)"
            }
        }
    }

    /// Runs the app for one request. JS logs go to the caller's current tracing span, so
    /// `console.*` lines carry the request they belong to.
    ///
    /// # Errors
    /// The app gave no response; the error says why.
    pub async fn handle(&self, request: IncomingRequest) -> Result<ResponseParts, HandleError> {
        match &self.inner {
            Inner::Workers(workers) => workers.handle(request).await,
            #[cfg(unix)]
            Inner::Snapshot(snapshot) => snapshot.handle(request).await,
        }
    }

    /// Shutting down: requests still running after `grace` are stopped (snapshot mode; an
    /// in-process instance cannot be interrupted).
    pub fn abort_after(&self, grace: std::time::Duration) {
        match &self.inner {
            Inner::Workers(_) => {}
            #[cfg(unix)]
            Inner::Snapshot(snapshot) => snapshot.abort_after(grace),
        }
        let _ = grace;
    }

    /// Stops taking requests and waits for the ones in flight.
    pub fn shutdown(self) {
        drop(self);
    }
}

/// Worker threads running in-process instances.
struct Workers {
    reuse: bool,
    sender: async_channel::Sender<Job>,
    workers: Vec<JoinHandle<()>>,
    /// Disconnects when every worker thread has ended.
    finished: parking_lot::Mutex<std::sync::mpsc::Receiver<()>>,
}

/// How long shutting down waits for the workers' in-flight requests and `waitUntil` work.
const SHUTDOWN_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Workers {
    /// Starts the workers; each builds its first instance before this returns.
    fn start(app: App, config: &PoolConfig) -> Result<Self, PoolError> {
        let (sender, receiver) = async_channel::unbounded::<Job>();
        let mut workers = Vec::new();
        let mut ready = Vec::new();
        let (finished_tx, finished) = std::sync::mpsc::channel::<()>();
        for index in 0..config.workers.max(1) {
            let finished_tx = finished_tx.clone();
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            let receiver = receiver.clone();
            let app = app.clone();
            let config = config.clone();
            let handle = std::thread::Builder::new()
                .name(format!("edgeshim-js-{index}"))
                // Deeply recursive JS needs more than the default 2 MiB.
                .stack_size(16 * 1024 * 1024)
                .spawn(move || {
                    worker_main(&app, &config, &receiver, &ready_tx);
                    drop(finished_tx);
                })?;
            workers.push(handle);
            ready.push(ready_rx);
        }
        for ready_rx in ready {
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    sender.close();
                    return Err(e.into());
                }
                Err(_) => {
                    sender.close();
                    return Err(PoolError::WorkerLost);
                }
            }
        }
        drop(finished_tx);
        Ok(Self {
            reuse: config.reuse_instances,
            sender,
            workers,
            finished: parking_lot::Mutex::new(finished),
        })
    }

    async fn handle(&self, request: IncomingRequest) -> Result<ResponseParts, HandleError> {
        let span = tracing::Span::current();
        let (reply, response) = oneshot::channel();
        let job = Job {
            request,
            reply,
            span,
        };
        if self.sender.send(job).await.is_err() {
            return Err(HandleError::Boot(BootError::Setup(
                "the JS workers have stopped".into(),
            )));
        }
        response.await.unwrap_or_else(|_| {
            Err(HandleError::Boot(BootError::Setup(
                "a JS worker stopped".into(),
            )))
        })
    }

    fn stop(&mut self) {
        self.sender.close();
        if self.workers.is_empty() {
            return;
        }
        // Every worker drops its end when it exits; a timeout means some are still busy.
        let outcome = self.finished.lock().recv_timeout(SHUTDOWN_LIMIT);
        match outcome {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                tracing::warn!("JS work still running after {SHUTDOWN_LIMIT:?}; leaving it behind");
                self.workers.clear();
            }
            Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                for worker in self.workers.drain(..) {
                    if worker.join().is_err() {
                        tracing::error!("a JS worker panicked");
                    }
                }
            }
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop();
    }
}

fn worker_main(
    app: &App,
    config: &PoolConfig,
    jobs: &async_channel::Receiver<Job>,
    ready: &std::sync::mpsc::Sender<Result<(), BootError>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(BootError::Setup(e.to_string())));
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let first = Instance::boot(app).await;
        let first = match first {
            Ok(instance) => {
                let _ = ready.send(Ok(()));
                instance
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        if config.reuse_instances {
            serve_reused(first, jobs).await;
        } else {
            serve_fresh(app, first, jobs, config.max_concurrent_per_worker).await;
        }
    });
    // Let spawned request tasks finish (waitUntil work) before the thread ends.
    runtime.block_on(local);
}

async fn serve_reused(mut instance: Instance, jobs: &async_channel::Receiver<Job>) {
    while let Ok(job) = jobs.recv().await {
        let Job {
            request,
            reply,
            span,
        } = job;
        instance
            .handle(request, |result| {
                let _ = reply.send(result);
            })
            .instrument(span)
            .await;
        #[cfg(unix)]
        crate::snapshot::collect_after_reused_request();
    }
}

async fn serve_fresh(
    app: &App,
    first: Instance,
    jobs: &async_channel::Receiver<Job>,
    max_concurrent: usize,
) {
    let limit = Arc::new(Semaphore::new(max_concurrent.max(1)));
    let mut next: Result<Instance, BootError> = Ok(first);
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            break;
        };
        let Ok(job) = jobs.recv().await else {
            break;
        };
        let Job {
            request,
            reply,
            span,
        } = job;
        let instance = std::mem::replace(&mut next, Err(BootError::EvaluationStalled));
        tokio::task::spawn_local(
            async move {
                match instance {
                    Ok(mut instance) => {
                        instance
                            .handle(request, |result| {
                                let _ = reply.send(result);
                            })
                            .await;
                        drop(instance);
                    }
                    Err(e) => {
                        let _ = reply.send(Err(HandleError::Boot(e)));
                    }
                }
                drop(permit);
            }
            .instrument(span),
        );
        // Let the request run to its first wait before building the next instance.
        tokio::task::yield_now().await;
        next = Instance::boot(app).await;
        if let Err(e) = &next {
            tracing::error!("building the next instance failed: {e}");
        }
    }
}
