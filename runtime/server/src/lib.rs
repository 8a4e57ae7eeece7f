//! edgeshim: run Fastly Compute JavaScript apps locally, with a faithful `fastly:kv-store`.
//!
//! This crate is the outside of the program: the command line ([`cli`]), `fastly.toml`
//! ([`config`]), the stores it opens and seeds ([`KvBackend`]), and the HTTP server
//! ([`http`]). The JavaScript work is done by `edgeshim-engine`; the data lives behind
//! `edgeshim-store`'s trait.
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
pub mod inspect;
pub mod kv_cli;
pub mod project;
mod scenario;
pub mod testing;
pub mod watch;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use edgeshim_engine::{BootError, Pool, PoolConfig, PoolError};
use edgeshim_store::{
    Bytes, Clock, Insert, KvStore, MemoryStore, OpenError, Propagation, RedisConnectError,
    RedisStore, SqliteStore, StoreError, Stores, SystemClock, DATABASE_FILE,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::{ConfigError, FastlyToml};

/// Everything `edgeshim serve` needs to start.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The entry module; empty: the entry of the Compute project in the working directory
    /// ([`project::find_entry`]).
    pub app: PathBuf,
    /// `-C`: the fastly.toml to use; `None` looks beside the app, then in the working directory.
    pub config: Option<PathBuf>,
    pub addr: SocketAddr,
    pub pool: PoolConfig,
    /// Where the KV stores keep their data.
    pub kv: KvBackend,
    /// `--env`: variables `fastly:env` returns, in order (a later one wins).
    pub env: Vec<(String, String)>,
    /// `--strict`: compatibility warnings fail their request with a 500.
    pub strict: bool,
    /// `--enable-http-cache`: run the app as js-compute builds it with that flag (the guest
    /// HTTP cache: `CacheOverride` hooks, `Response` cache accessors). Also on when the
    /// project's package.json build script passes the flag.
    pub enable_http_cache: bool,
    /// `--pops`: simulated edge locations over the one KV backend (1: no simulation).
    pub pops: usize,
    /// `--kv-propagation`: how long a KV write takes to reach the other locations.
    pub kv_propagation: Duration,
    /// Bytes of bodies each location's edge cache holds before evicting (`--cache-size`).
    pub cache_bytes: u64,
    /// `--watch`: reload the app when its files or fastly.toml change ([`watch`]).
    pub watch: bool,
    /// `--max-request-body`: larger request bodies are refused with 413 (`None`: no limit,
    /// as on Compute).
    pub max_request_body: Option<u64>,
    /// The platform's time: KV TTLs, edge caches, rate counters, KV propagation. The wall
    /// clock, except in `edgeshim test`, whose scenarios move it forward.
    pub clock: Arc<dyn Clock>,
    /// Under `edgeshim test`: honour its scenario requests (stopping a request midway).
    pub scenario: bool,
    /// `--inspect`: serve the inspection page ([`inspect`]) on this loopback address.
    pub inspect: Option<SocketAddr>,
}

/// Viceroy's default address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:7676";

/// The command line's default state folder, relative to the working directory.
pub const DEFAULT_STATE_DIR: &str = ".edgeshim";

impl ServeOptions {
    /// Options for serving `app` on Viceroy's address, with in-memory stores.
    ///
    /// In-memory is the default here, for embedding and tests: starting a server this way
    /// leaves no files behind. The command line defaults to [`KvBackend::Sqlite`] in
    /// [`DEFAULT_STATE_DIR`] instead (see [`cli::ServeArgs`]).
    pub fn new(app: impl Into<PathBuf>) -> Self {
        Self {
            app: app.into(),
            config: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 7676)),
            pool: PoolConfig::default(),
            kv: KvBackend::Memory,
            env: Vec::new(),
            strict: false,
            enable_http_cache: false,
            pops: 1,
            kv_propagation: Duration::ZERO,
            cache_bytes: edgeshim_store::cache::DEFAULT_CAPACITY,
            watch: false,
            max_request_body: None,
            clock: Arc::new(SystemClock),
            scenario: false,
            inspect: None,
        }
    }
}

/// Where the KV stores declared in fastly.toml keep their data.
///
/// Whatever the backend, every start resets each seeded key to its seed; with
/// [`KvBackend::Sqlite`] and [`KvBackend::Redis`] every other key is kept from earlier runs
/// (and from the other servers sharing the backend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvBackend {
    /// In process memory, lost at exit: every start begins from the seeds alone, as
    /// Viceroy's stores do (`--ephemeral`).
    Memory,
    /// A SQLite database, [`DATABASE_FILE`], in `state_dir` (created if missing; relative
    /// to the working directory): durable across restarts and kills, and shareable by
    /// several servers at once.
    Sqlite { state_dir: PathBuf },
    /// A Redis server (`redis://[[user]:password@]HOST[:PORT][/DB]`), shared by every
    /// server pointed at it (`--kv-backend`): each store is a [`RedisStore`] there.
    Redis { url: String },
}

impl std::fmt::Display for KvBackend {
    /// How the start-up log names it: `in memory (--ephemeral)` or `sqlite DIR/kv.sqlite3`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Memory => f.write_str("in memory (--ephemeral)"),
            Self::Sqlite { state_dir } => {
                write!(f, "sqlite {}", state_dir.join(DATABASE_FILE).display())
            }
            Self::Redis { url } => write!(f, "redis {}", redact_url(url)),
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
    #[error("{0}")]
    NoApp(String),
    #[error(
        "cannot create the state folder {}: {source} (choose another with --state-dir DIR, \
         or keep KV data in memory with --ephemeral)",
        path.display()
    )]
    StateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{0} (choose another folder with --state-dir DIR, or keep KV data in memory with \
         --ephemeral)"
    )]
    KvOpen(#[from] OpenError),
    #[error("{0} (is a Redis server listening there? check --kv-backend)")]
    KvRedis(#[from] RedisConnectError),
    #[error("store '{store}': cannot seed key '{key}': {detail}")]
    Seed {
        store: String,
        key: String,
        detail: String,
    },
    #[error("{0}")]
    Inspect(#[from] inspect::InspectError),
    #[error("--watch: cannot watch {}: {source}", path.display())]
    Watch {
        path: PathBuf,
        source: notify::Error,
    },
}

pub(crate) fn boot_message(error: &PoolError) -> String {
    match error {
        PoolError::Boot(BootError::Syntax { message }) => message.clone(),
        other => other.to_string(),
    }
}

/// How long requests in flight get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// What a state folder holds a `.gitignore` for, so that it never shows in `git status`.
const STATE_DIR_GITIGNORE: &str = "# Local KV data of edgeshim; see --state-dir.\n*\n";

/// Opens the stores declared in the config on `backend`, each seeded with its entries.
///
/// A seeded key is reset to its seed at every start (value and metadata, no TTL, a new
/// generation); keys not in the seeds are left as they are. The state folder is created
/// only when there is a store to keep in it.
fn open_stores(
    backend: &KvBackend,
    config: &FastlyToml,
    clock: &Arc<dyn Clock>,
) -> Result<Stores, StartError> {
    let mut stores = Stores::new();
    if let (KvBackend::Sqlite { state_dir }, false) = (backend, config.kv_stores.is_empty()) {
        create_state_dir(state_dir)?;
    }
    if let (KvBackend::Redis { url }, true) = (backend, config.kv_stores.is_empty()) {
        // No store to open: still refuse to start on a backend that cannot be reached.
        RedisStore::connect(url, "", clock.clone())?;
    }
    for seed in &config.kv_stores {
        let store: Arc<dyn KvStore> = match backend {
            KvBackend::Memory => Arc::new(MemoryStore::new(clock.clone())),
            KvBackend::Sqlite { state_dir } => {
                Arc::new(SqliteStore::open_in(state_dir, &seed.name, clock.clone())?)
            }
            KvBackend::Redis { url } => {
                Arc::new(RedisStore::connect(url, &seed.name, clock.clone())?)
            }
        };
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
            store
                .insert(&entry.key, insert)
                .map_err(|e| StartError::Seed {
                    store: seed.name.clone(),
                    key: entry.key.clone(),
                    detail: match e {
                        StoreError::InternalError(detail) => detail,
                        other => other.to_string(),
                    },
                })?;
        }
        stores.insert(seed.name.clone(), store);
    }
    Ok(stores)
}

/// Each simulated edge location's view of `stores`: none when there is one location (every
/// request uses `stores`), else a [`Propagation`] per store where writes take `propagation`
/// to reach the other locations.
fn locations(
    stores: &Stores,
    pops: usize,
    propagation: Duration,
    clock: &Arc<dyn Clock>,
) -> Vec<Stores> {
    if pops <= 1 {
        return Vec::new();
    }
    let mut locations = vec![Stores::new(); pops];
    for name in stores.names() {
        let Some(store) = stores.get(name) else {
            continue;
        };
        let shared = Propagation::new(store, pops, propagation, clock.clone());
        for (pop, location) in locations.iter_mut().enumerate() {
            location.insert(name, shared.location(pop));
        }
    }
    locations
}

/// `url` with the password of its `user:password@` part replaced by `***`, for logs.
fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let Some((user, _)) = rest[..at].split_once(':') else {
        return url.to_owned();
    };
    format!("{}{user}:***{}", &url[..scheme_end], &rest[at..])
}

/// Creates the state folder if missing, with a `.gitignore` that ignores all of it.
fn create_state_dir(path: &Path) -> Result<(), StartError> {
    if path.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(path).map_err(|source| StartError::StateDir {
        path: path.to_owned(),
        source,
    })?;
    if let Err(e) = std::fs::write(path.join(".gitignore"), STATE_DIR_GITIGNORE) {
        tracing::warn!("cannot write {}: {e}", path.join(".gitignore").display());
    }
    Ok(())
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
    /// The KV stores it serves (as every location sees them once writes have propagated).
    stores: Stores,
    /// `--inspect`: the inspection page, stopped with the server.
    inspect: Option<inspect::InspectServer>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the inspection page listens (`--inspect`).
    pub fn inspect_addr(&self) -> Option<SocketAddr> {
        self.inspect.as_ref().map(inspect::InspectServer::addr)
    }

    /// The KV stores it serves, for `edgeshim test`'s scenarios.
    pub(crate) fn stores(&self) -> &Stores {
        &self.stores
    }

    /// Stops accepting, lets open requests finish, and waits until the server has stopped.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait().await;
        self.inspect.take();
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
pub async fn start(mut options: ServeOptions) -> Result<RunningServer, StartError> {
    let started = SystemTime::now();
    let cwd = std::env::current_dir().map_err(StartError::Cwd)?;
    if options.app.as_os_str().is_empty() {
        options.app = project::find_entry(&cwd).map_err(StartError::NoApp)?;
    }
    if !options.enable_http_cache && project::build_enables_http_cache(&options.app, &cwd) {
        tracing::info!(
            "the build script in package.json passes --enable-http-cache: fetch() runs the guest HTTP cache"
        );
        options.enable_http_cache = true;
    }
    let config = load_config(&options, &cwd)?;
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    // Opening and seeding may wait for another server's write lock; keep it off the reactor.
    let kv = options.kv.clone();
    let clock = options.clock.clone();
    let opened =
        tokio::task::spawn_blocking(move || open_stores(&kv, &config, &clock).map(|s| (s, config)))
            .await;
    let pops = options.pops.max(1);
    let (stores, config) = match opened {
        Ok(opened) => opened?,
        // A panic while opening is a bug: let it surface as one.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
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

    let locations = locations(&stores, pops, options.kv_propagation, &options.clock);
    let built = watch::Build {
        app: options.app.clone(),
        stores: stores.clone(),
        locations,
        edge: edgeshim_engine::Edge::new(pops, options.cache_bytes, &options.clock),
        options: options.clone(),
    };
    let app = built.app(&config)?;
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
    let limits = &options.pool.limits;
    tracing::info!(
        "serving {} on http://{addr} in {:.1} ms: {}, {workers} worker{}, limits: {} CPU, \
         {} s wall, {} MB heap, {}, kv: {}{}, stores: {}",
        app_path.display(),
        started.elapsed().unwrap_or_default().as_secs_f64() * 1000.0,
        pool.mode(),
        if workers == 1 { "" } else { "s" },
        limits
            .cpu
            .map_or_else(|| "no".to_owned(), |cpu| format!("{} ms", cpu.as_millis())),
        limits.wall.as_secs(),
        limits.heap / (1024 * 1024),
        if config.path.as_os_str().is_empty() {
            "no fastly.toml".to_owned()
        } else {
            format!("config {}", config.path.display())
        },
        options.kv,
        if pops > 1 {
            format!(
                ", {pops} edge locations (kv propagation {} ms)",
                options.kv_propagation.as_millis()
            )
        } else {
            String::new()
        },
        if store_summary.is_empty() {
            "none".to_owned()
        } else {
            store_summary.join(", ")
        },
    );

    let pool = Arc::new(http::CurrentPool::new(pool));
    let inspect = match options.inspect {
        Some(addr) => {
            let page = inspect::start(addr, stores.clone(), options.clock.clone(), &pool).await?;
            tracing::info!("inspection page on http://{}/", page.addr());
            Some(page)
        }
        None => None,
    };
    let activity = inspect.as_ref().map(inspect::InspectServer::activity);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let max_request_body = options.max_request_body;
    let scenario = options.scenario;
    let watcher = if options.watch {
        Some(watch::start(built, config, pool.clone())?)
    } else {
        None
    };
    let task = tokio::spawn(async move {
        let stopping = pool.clone();
        let result = http::serve(
            listener,
            http::Handler::App(
                pool.clone(),
                Arc::new(http::Locations::new(pops)),
                http::Intake {
                    max_request_body,
                    scenario,
                    activity,
                },
            ),
            async move {
                let _ = stop_rx.await;
                // Requests still running soon after the signal are stopped, so that shutdown
                // stays prompt even with a handler that never ends.
                stopping.get().abort_after(SHUTDOWN_GRACE);
            },
        )
        .await;
        drop(watcher);
        // Let the workers finish their waitUntil work, off the reactor.
        let _ = tokio::task::spawn_blocking(move || drop(pool)).await;
        result
    });
    Ok(RunningServer {
        addr,
        stores,
        inspect,
        stop: Some(stop_tx),
        task,
    })
}
