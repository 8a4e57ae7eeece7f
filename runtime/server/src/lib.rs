//! edgeshim: run Fastly Compute JavaScript apps locally, with a faithful `fastly:kv-store`.
//!
//! This crate is the outside of the program: the command line ([`cli`]), `fastly.toml`
//! ([`config`]), the stores it seeds, and the HTTP server ([`http`]). The JavaScript work is
//! done by `edgeshim-engine`; the data lives behind `edgeshim-store`'s trait.
//!
//! ```no_run
//! # async fn demo() -> Result<(), edgeshim::StartError> {
//! let options = edgeshim::ServeOptions::new("fixtures/kv-put-doc/index.js");
//! let server = edgeshim::start(options).await?;
//! println!("listening on http://{}", server.addr());
//! server.stop().await;
//! # Ok(()) }
//! ```

pub mod cli;
pub mod config;
pub mod http;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use edgeshim_engine::{App, BootError, Pool, PoolConfig, PoolError};
use edgeshim_store::{Bytes, Insert, KvStore, MemoryStore, Stores, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::{ConfigError, FastlyToml};

/// Everything `edgeshim serve` needs to start.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub app: PathBuf,
    /// `-C`: the fastly.toml to use; `None` looks beside the app, then in the working directory.
    pub config: Option<PathBuf>,
    pub addr: SocketAddr,
    pub pool: PoolConfig,
}

/// Viceroy's default address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:7676";

impl ServeOptions {
    pub fn new(app: impl Into<PathBuf>) -> Self {
        Self {
            app: app.into(),
            config: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 7676)),
            pool: PoolConfig::default(),
        }
    }
}

/// Why the server did not start. Each message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{}", boot_message(.0))]
    App(#[from] PoolError),
    #[error(
        "cannot listen on {addr}: {source} (is another server using it? pick another with --addr)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot determine the working directory: {0}")]
    Cwd(std::io::Error),
}

fn boot_message(error: &PoolError) -> String {
    match error {
        PoolError::Boot(BootError::Syntax { message }) => message.clone(),
        other => other.to_string(),
    }
}

/// Builds the in-memory stores declared in the config, seeded with their entries.
fn seed_stores(config: &FastlyToml) -> Stores {
    let mut stores = Stores::new();
    for seed in &config.kv_stores {
        let store = Arc::new(MemoryStore::new(Arc::new(SystemClock)));
        for entry in &seed.entries {
            let insert = Insert {
                value: Bytes::from(entry.value.clone()),
                // An empty seed metadata means none: the platform never stores empty metadata.
                metadata: entry
                    .metadata
                    .clone()
                    .filter(|m| !m.is_empty())
                    .map(Bytes::from),
                ..Insert::default()
            };
            if let Err(e) = store.insert(&entry.key, insert) {
                tracing::warn!(
                    "store '{}': seeding key '{}' failed: {e}",
                    seed.name,
                    entry.key
                );
            }
        }
        stores.insert(seed.name.clone(), store);
    }
    stores
}

/// Reads the config that applies to `options` (explicit, beside the app, or in `cwd`).
///
/// # Errors
/// The config exists but is malformed.
pub fn load_config(options: &ServeOptions, cwd: &Path) -> Result<FastlyToml, ConfigError> {
    let path = options
        .config
        .clone()
        .or_else(|| config::find_config(&options.app, cwd));
    match path {
        Some(path) => FastlyToml::load(&path, cwd),
        None => Ok(FastlyToml::default()),
    }
}

/// A server that is listening.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets open requests finish, and waits until the server has stopped.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait().await;
    }

    /// Waits until the server stops (after [`RunningServer::stop`] or an accept failure).
    pub async fn wait(&mut self) {
        match (&mut self.task).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("the server stopped: {e}"),
            Err(e) => tracing::error!("the server task failed: {e}"),
        }
    }

    /// A handle that stops the server when sent to (for signal handling).
    pub fn stopper(&mut self) -> Option<oneshot::Sender<()>> {
        self.stop.take()
    }
}

/// Loads the config and the app, starts the JS workers and listens.
///
/// # Errors
/// A bad config, an app that does not load, or an address that cannot be bound.
pub async fn start(options: ServeOptions) -> Result<RunningServer, StartError> {
    let started = SystemTime::now();
    let cwd = std::env::current_dir().map_err(StartError::Cwd)?;
    let config = load_config(&options, &cwd)?;
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let stores = seed_stores(&config);
    let store_summary: Vec<String> = stores
        .names()
        .map(|name| {
            let count = stores.get(name).map_or(0, |s| s.len());
            format!(
                "{name} ({count} {})",
                if count == 1 { "entry" } else { "entries" }
            )
        })
        .collect();

    let app = App::new(&options.app, stores).map_err(PoolError::from)?;
    let app_path = app.path().to_owned();
    let pool_config = options.pool.clone();
    // Booting runs JS on the worker threads; keep it off the async reactor.
    let pool = tokio::task::spawn_blocking(move || Pool::start(app, &pool_config))
        .await
        .map_err(|_| StartError::App(PoolError::WorkerLost))??;

    let listener = TcpListener::bind(options.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: options.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: options.addr,
        source,
    })?;
    let workers = options.pool.workers;
    tracing::info!(
        "serving {} on http://{addr} in {:.1} ms: {}, {workers} worker{}, {}, stores: {}",
        app_path.display(),
        started.elapsed().unwrap_or_default().as_secs_f64() * 1000.0,
        if options.pool.reuse_instances {
            "instances reused (not Compute-faithful)"
        } else {
            "a fresh instance per request"
        },
        if workers == 1 { "" } else { "s" },
        if config.path.as_os_str().is_empty() {
            "no fastly.toml".to_owned()
        } else {
            format!("config {}", config.path.display())
        },
        if store_summary.is_empty() {
            "none".to_owned()
        } else {
            store_summary.join(", ")
        },
    );

    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let pool = Arc::new(pool);
    let task = tokio::spawn(async move {
        let result = http::serve(listener, http::Handler::App(pool.clone()), async {
            let _ = stop_rx.await;
        })
        .await;
        // Let the workers finish their waitUntil work, off the reactor.
        let _ = tokio::task::spawn_blocking(move || drop(pool)).await;
        result
    });
    Ok(RunningServer {
        addr,
        stop: Some(stop_tx),
        task,
    })
}
