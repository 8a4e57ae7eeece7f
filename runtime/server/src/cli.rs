//! The command line, shaped like Viceroy's (`viceroy serve -C fastly.toml --addr … app`) so
//! that Fastly users feel at home.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use edgeshim_engine::PoolConfig;

use crate::{KvBackend, ServeOptions};

#[derive(Debug, Parser)]
#[command(
    name = "edgeshim",
    version,
    about = "Run Fastly Compute JavaScript apps locally"
)]
pub struct Cli {
    /// More log output (-v debug, -vv trace). RUST_LOG, when set, takes precedence.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve an app over HTTP, as `fastly compute serve` does.
    Serve(ServeArgs),
    /// Read and write the KV stores of a state folder or Redis server: list, get, put,
    /// delete, export, import.
    Kv(crate::kv_cli::KvArgs),
    /// Run the app's tests (js-compute's tests.json format, or JS test files) against a
    /// fresh server.
    Test(crate::testing::TestArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The app's entry module (an ES module that calls addEventListener("fetch", …)).
    /// Default: the entry of the Compute project in the working directory (the input of
    /// package.json's `js-compute-runtime` build script, else src/index.js).
    pub app: Option<PathBuf>,
    /// The fastly.toml to read [local_server] from. Default: fastly.toml beside the app,
    /// then in the working directory.
    #[arg(short = 'C', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The address to listen on.
    #[arg(long, default_value = crate::DEFAULT_ADDR)]
    pub addr: SocketAddr,
    /// Threads running JavaScript. Default: one per CPU core.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: Option<u16>,
    /// Serve many requests from each instance instead of a fresh copy of the app's snapshot
    /// per request. Faster, but module-level state survives between requests, which Compute
    /// never does, and only the stack limit is enforced.
    #[arg(long)]
    pub reuse_instances: bool,
    /// CPU time a request may use, in milliseconds (Compute's default: 50); 0 for no limit.
    /// A request over it ends with a 500 that says so.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pub cpu_limit: u64,
    /// Keep KV data in memory only: every start begins from the fastly.toml seeds alone,
    /// as Viceroy does. Default: durable stores in the state folder.
    #[arg(long, conflicts_with = "state_dir")]
    pub ephemeral: bool,
    /// The folder for durable KV data (a SQLite database, kv.sqlite3), created if missing;
    /// several servers may share one. Seeded keys are reset to their seed at every start,
    /// other keys are kept.
    #[arg(long, value_name = "DIR", default_value = crate::DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,
    /// Keep KV data in a Redis server instead, redis://[[USER]:PASSWORD@]HOST[:PORT][/DB],
    /// shared by every server pointed at it. Seeded keys are reset to their seed at every
    /// start, other keys are kept.
    #[arg(
        long,
        value_name = "URL",
        value_parser = parse_redis_url,
        conflicts_with_all = ["ephemeral", "state_dir"]
    )]
    pub kv_backend: Option<String>,
    /// An environment variable for `fastly:env`: NAME=VALUE, or NAME to pass the server's own
    /// value. Repeatable. These take precedence over the FASTLY_* variables the server defines.
    #[arg(long = "env", value_name = "NAME[=VALUE]", value_parser = parse_env_var)]
    pub env: Vec<(String, String)>,
    /// Simulate N edge locations (POPs) over the one KV backend, to see eventual consistency:
    /// a request is served by the location its x-edgeshim-pop header names (0..N-1 or
    /// pop-0..pop-N-1), else by the next in turn. Default: 1 (strongly consistent).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub pops: u16,
    /// With --pops: how long a KV write takes to reach the other locations, in milliseconds;
    /// until then they keep reading (and listing) the previous value. The writing location
    /// sees it at once.
    #[arg(long, value_name = "MS", default_value_t = 0, requires = "pops")]
    pub kv_propagation: u64,
    /// Fail a request (500) where the app relies on behaviour that Fastly's docs and its
    /// production runtime disagree on, instead of logging a warning.
    #[arg(long)]
    pub strict: bool,
    /// Run the app as `js-compute-runtime --enable-http-cache` builds it: `fetch()` runs the
    /// guest HTTP cache (CacheOverride beforeSend/afterSend hooks, Response cache
    /// accessors). On by itself when package.json's build script passes the flag.
    #[arg(long)]
    pub enable_http_cache: bool,
    /// Reload the app when a file of its project (or fastly.toml) changes: new requests run
    /// the new code, running ones finish on the old, KV data stays, and a version that does
    /// not load is reported while the last good one keeps serving.
    #[arg(long)]
    pub watch: bool,
    /// Refuse request bodies larger than this many bytes with 413 (Compute sets no limit).
    #[arg(long, value_name = "BYTES")]
    pub max_request_body: Option<u64>,
    /// Memory for each location's edge cache (`fastly:cache`), in MiB: past it, the least
    /// recently used objects are evicted.
    #[arg(long, value_name = "MIB", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub cache_size: u64,
    /// Serve the inspection page on ADDR (loopback only; default 127.0.0.1:7677): the KV
    /// stores' keys and values, to read and edit, each edge location's cache, to read and
    /// purge, and the requests live with the KV, cache and backend calls each makes.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, require_equals = true,
          default_missing_value = crate::inspect::DEFAULT_INSPECT_ADDR)]
    pub inspect: Option<SocketAddr>,
}

/// `NAME=VALUE`, or `NAME` with the value from this process's environment.
///
/// # Errors
/// An empty name, or a bare `NAME` that is not set here.
pub fn parse_env_var(arg: &str) -> Result<(String, String), String> {
    let (name, value) = match arg.split_once('=') {
        Some((name, value)) => (name, Some(value.to_owned())),
        None => (arg, None),
    };
    if name.is_empty() {
        return Err("expected NAME=VALUE or NAME, with a non-empty NAME".to_owned());
    }
    let value = match value {
        Some(value) => value,
        None => std::env::var(name).map_err(|_| {
            format!("{name} is not set in this environment; give a value with --env {name}=VALUE")
        })?,
    };
    Ok((name.to_owned(), value))
}

/// A `redis://` URL (checked further when connecting).
///
/// # Errors
/// Another scheme.
pub fn parse_redis_url(arg: &str) -> Result<String, String> {
    if arg.starts_with("redis://") || arg.starts_with("redis+unix://") {
        Ok(arg.to_owned())
    } else {
        Err(format!(
            "{arg:?} is not a Redis URL: expected redis://HOST[:PORT][/DB]"
        ))
    }
}

impl ServeArgs {
    pub fn into_options(self) -> ServeOptions {
        let mut pool = PoolConfig {
            reuse_instances: self.reuse_instances,
            ..PoolConfig::default()
        };
        pool.limits.cpu =
            (self.cpu_limit > 0).then(|| std::time::Duration::from_millis(self.cpu_limit));
        if let Some(workers) = self.workers {
            pool.workers = usize::from(workers);
        }
        ServeOptions {
            app: self.app.unwrap_or_default(),
            config: self.config,
            addr: self.addr,
            pool,
            env: self.env,
            strict: self.strict,
            enable_http_cache: self.enable_http_cache,
            watch: self.watch,
            max_request_body: self.max_request_body,
            pops: usize::from(self.pops),
            kv_propagation: std::time::Duration::from_millis(self.kv_propagation),
            cache_bytes: self.cache_size * 1024 * 1024,
            kv: if let Some(url) = self.kv_backend {
                KvBackend::Redis { url }
            } else if self.ephemeral {
                KvBackend::Memory
            } else {
                KvBackend::Sqlite {
                    state_dir: self.state_dir,
                }
            },
            clock: std::sync::Arc::new(edgeshim_store::SystemClock),
            scenario: false,
            inspect: self.inspect,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use super::*;

    #[test]
    fn env_flags_take_a_value_or_inherit_one() {
        assert_eq!(
            parse_env_var("LOG_LEVEL=debug=yes"),
            Ok(("LOG_LEVEL".to_owned(), "debug=yes".to_owned()))
        );
        assert_eq!(
            parse_env_var("EMPTY="),
            Ok(("EMPTY".to_owned(), String::new()))
        );
        assert!(parse_env_var("=x").is_err());
        let path = std::env::var("PATH").unwrap();
        assert_eq!(parse_env_var("PATH"), Ok(("PATH".to_owned(), path)));
        let missing = parse_env_var("EDGESHIM_SURELY_UNSET_VARIABLE").unwrap_err();
        assert!(
            missing.contains("--env EDGESHIM_SURELY_UNSET_VARIABLE=VALUE"),
            "{missing}"
        );
    }

    #[test]
    fn serve_flags_reach_the_options() {
        let cli = Cli::try_parse_from([
            "edgeshim",
            "serve",
            "app.js",
            "--env",
            "A=1",
            "--env",
            "B=2",
            "--strict",
            "--cache-size",
            "8",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve");
        };
        let options = args.into_options();
        assert!(options.strict);
        assert_eq!(options.cache_bytes, 8 * 1024 * 1024);
        assert!(Cli::try_parse_from(["edgeshim", "serve", "--cache-size", "0"]).is_err());
        assert_eq!(
            options.env,
            [
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), "2".to_owned())
            ]
        );
    }

    #[test]
    fn kv_backend_and_pops_flags_reach_the_options() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(["edgeshim", "serve", "app.js"].iter().chain(args)).map(|cli| {
                let Command::Serve(args) = cli.command else {
                    panic!("not serve");
                };
                args.into_options()
            })
        };
        let options = parse(&["--kv-backend", "redis://127.0.0.1:6379/2"]).unwrap();
        assert_eq!(
            options.kv,
            KvBackend::Redis {
                url: "redis://127.0.0.1:6379/2".to_owned()
            }
        );
        assert_eq!((options.pops, options.kv_propagation), (1, Duration::ZERO));
        assert!(parse(&["--kv-backend", "redis://h", "--ephemeral"]).is_err());
        assert!(parse(&["--kv-backend", "redis://h", "--state-dir", "d"]).is_err());
        let refused = parse(&["--kv-backend", "http://h"])
            .unwrap_err()
            .to_string();
        assert!(refused.contains("http://h"), "{refused}");

        let options = parse(&["--pops", "3", "--kv-propagation", "250"]).unwrap();
        assert_eq!(
            (options.pops, options.kv_propagation),
            (3, Duration::from_millis(250))
        );
        assert!(parse(&["--pops", "0"]).is_err());
    }

    #[test]
    fn inspect_takes_an_optional_address() {
        let parse = |args: &[&str]| {
            let cli = Cli::try_parse_from(["edgeshim", "serve"].iter().chain(args)).unwrap();
            let Command::Serve(args) = cli.command else {
                panic!("not serve");
            };
            args.into_options()
        };
        assert_eq!(parse(&["app.js"]).inspect, None);
        // Bare, it takes no value: the app after it stays the app.
        let options = parse(&["--inspect", "app.js"]);
        assert_eq!(options.inspect, Some("127.0.0.1:7677".parse().unwrap()));
        assert_eq!(options.app, std::path::Path::new("app.js"));
        let options = parse(&["--inspect=127.0.0.1:9000", "app.js"]);
        assert_eq!(options.inspect, Some("127.0.0.1:9000".parse().unwrap()));
    }
}
