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
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The app's entry module (an ES module that calls addEventListener("fetch", …)).
    pub app: PathBuf,
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
    /// Serve many requests from each instance instead of a fresh instance per request.
    /// Faster, but module-level state survives between requests, which Compute never does.
    #[arg(long)]
    pub reuse_instances: bool,
    /// Keep KV data in memory only: every start begins from the fastly.toml seeds alone,
    /// as Viceroy does. Default: durable stores in the state folder.
    #[arg(long, conflicts_with = "state_dir")]
    pub ephemeral: bool,
    /// The folder for durable KV data (a SQLite database, kv.sqlite3), created if missing;
    /// several servers may share one. Seeded keys are reset to their seed at every start,
    /// other keys are kept.
    #[arg(long, value_name = "DIR", default_value = crate::DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,
}

impl ServeArgs {
    pub fn into_options(self) -> ServeOptions {
        let mut pool = PoolConfig {
            reuse_instances: self.reuse_instances,
            ..PoolConfig::default()
        };
        if let Some(workers) = self.workers {
            pool.workers = usize::from(workers);
        }
        ServeOptions {
            app: self.app,
            config: self.config,
            addr: self.addr,
            pool,
            kv: if self.ephemeral {
                KvBackend::Memory
            } else {
                KvBackend::Sqlite {
                    state_dir: self.state_dir,
                }
            },
        }
    }
}
