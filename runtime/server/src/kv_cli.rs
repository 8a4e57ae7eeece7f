//! `edgeshim kv`: read and write the KV stores a server keeps, from the command line: the
//! state folder's SQLite database (what `edgeshim serve` uses by default) or a Redis server.
//! Keys pass the same checks, with the same messages, as `fastly:kv-store` applies; `export`
//! and `import` use Viceroy's JSON seed format (`{"key": "data"}` or
//! `{"key": {"data": "…", "metadata": "…"}}`), the one `fastly.toml` reads with
//! `{ file = "…", format = "json" }`.
//!
//! A server running on the same stores sees a write at once (SQLite and Redis are shared by
//! every process that opens them).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use edgeshim_store::{
    Bytes, Insert, KvStore, ListRequest, RedisStore, SqliteStore, SystemClock, DATABASE_FILE,
};

use crate::config::FastlyToml;

#[derive(Debug, Args)]
pub struct KvArgs {
    /// The state folder whose stores to use (as `edgeshim serve --state-dir`).
    #[arg(long, value_name = "DIR", default_value = crate::DEFAULT_STATE_DIR, global = true)]
    pub state_dir: PathBuf,
    /// The Redis server whose stores to use instead (as `edgeshim serve --kv-backend`).
    #[arg(long, value_name = "URL", value_parser = crate::cli::parse_redis_url, global = true)]
    pub kv_backend: Option<String>,
    #[command(subcommand)]
    pub command: KvCommand,
}

#[derive(Debug, Subcommand)]
pub enum KvCommand {
    /// Print the keys of STORE, one per line, in key order.
    List {
        store: String,
        /// Only keys starting with this.
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Write the value of KEY to standard output (its metadata with --metadata).
    Get {
        store: String,
        key: String,
        #[arg(long)]
        metadata: bool,
    },
    /// Write KEY: VALUE, else the contents of --file, else standard input.
    Put {
        store: String,
        key: String,
        value: Option<String>,
        #[arg(long, value_name = "PATH", conflicts_with = "value")]
        file: Option<PathBuf>,
        #[arg(long)]
        metadata: Option<String>,
        /// Seconds until the entry expires.
        #[arg(long, value_name = "SECONDS")]
        ttl: Option<u64>,
    },
    /// Delete KEY (deleting an absent key is not an error, as in the runtime).
    Delete { store: String, key: String },
    /// Write every entry of STORE as Viceroy's JSON seed format.
    Export {
        store: String,
        /// Where to write (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write the entries of FILE (Viceroy's JSON seed format) into STORE.
    Import { store: String, file: PathBuf },
}

/// Why an `edgeshim kv` command failed; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum KvCliError {
    #[error(
        "no state folder at {0} (edgeshim serve creates it on its first start; give the one \
         it uses with --state-dir)"
    )]
    NoStateFolder(PathBuf),
    #[error("{0}")]
    Open(String),
    #[error("key {key:?}: {message}")]
    Key { key: String, message: String },
    #[error("key {0:?} is not in store {1:?}")]
    NotFound(String, String),
    #[error("key {0:?} has no metadata")]
    NoMetadata(String),
    #[error("the store failed: {0}")]
    Store(#[from] edgeshim_store::StoreError),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error(
        "key {0:?} holds bytes that are not UTF-8, which Viceroy's JSON seed format cannot \
         hold (read it with `edgeshim kv get`)"
    )]
    NotText(String),
    #[error("{0}")]
    Import(String),
}

fn open(args: &KvArgs, store: &str) -> Result<Arc<dyn KvStore>, KvCliError> {
    let clock = Arc::new(SystemClock);
    if let Some(url) = &args.kv_backend {
        return RedisStore::connect(url, store, clock)
            .map(|s| Arc::new(s) as Arc<dyn KvStore>)
            .map_err(|e| KvCliError::Open(e.to_string()));
    }
    if !args.state_dir.join(DATABASE_FILE).is_file() {
        return Err(KvCliError::NoStateFolder(args.state_dir.clone()));
    }
    SqliteStore::open_in(&args.state_dir, store, clock)
        .map(|s| Arc::new(s) as Arc<dyn KvStore>)
        .map_err(|e| KvCliError::Open(e.to_string()))
}

pub(crate) fn checked(key: &str) -> Result<(), KvCliError> {
    edgeshim_engine::check_kv_key(key)
        .and_then(|()| edgeshim_store::check_host_key(key).map_err(|e| e.to_string()))
        .map_err(|message| KvCliError::Key {
            key: key.to_owned(),
            message,
        })
}

/// Every key of `store` starting with `prefix`, all pages.
pub(crate) fn keys(store: &dyn KvStore, prefix: Option<String>) -> Result<Vec<String>, KvCliError> {
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list(&ListRequest {
            prefix: prefix.clone(),
            limit: Some(1000),
            cursor,
        })?;
        keys.extend(page.keys);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(keys),
        }
    }
}

/// Runs `args`, writing what it prints to `out` and reading standard input from `input`.
///
/// # Errors
/// What went wrong, in words a person can act on.
pub fn run(args: &KvArgs, out: &mut dyn Write, input: &mut dyn Read) -> Result<(), KvCliError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |e| KvCliError::Io(path, e)
    };
    let stdout = Path::new("standard output");
    match &args.command {
        KvCommand::List { store, prefix } => {
            for key in keys(open(args, store)?.as_ref(), prefix.clone())? {
                writeln!(out, "{key}").map_err(io(stdout))?;
            }
        }
        KvCommand::Get {
            store,
            key,
            metadata,
        } => {
            checked(key)?;
            let entry = open(args, store)?
                .lookup(key)?
                .ok_or_else(|| KvCliError::NotFound(key.clone(), store.clone()))?;
            let bytes = if *metadata {
                entry
                    .metadata
                    .ok_or_else(|| KvCliError::NoMetadata(key.clone()))?
            } else {
                entry.value
            };
            out.write_all(&bytes).map_err(io(stdout))?;
        }
        KvCommand::Put {
            store,
            key,
            value,
            file,
            metadata,
            ttl,
        } => {
            checked(key)?;
            let value = match (value, file) {
                (Some(value), _) => value.clone().into_bytes(),
                (None, Some(file)) => std::fs::read(file).map_err(io(file))?,
                (None, None) => {
                    let mut bytes = Vec::new();
                    input
                        .read_to_end(&mut bytes)
                        .map_err(io(Path::new("standard input")))?;
                    bytes
                }
            };
            open(args, store)?.insert(
                key,
                Insert {
                    value: Bytes::from(value),
                    metadata: metadata.clone().map(Bytes::from),
                    ttl: ttl.map(Duration::from_secs),
                    ..Insert::default()
                },
            )?;
        }
        KvCommand::Delete { store, key } => {
            checked(key)?;
            open(args, store)?.delete(key)?;
        }
        KvCommand::Export { store, output } => {
            let kv = open(args, store)?;
            let mut entries = serde_json::Map::new();
            for key in keys(kv.as_ref(), None)? {
                // Gone (expired, deleted) since it was listed: not exported.
                let Some(entry) = kv.lookup(&key)? else {
                    continue;
                };
                let data = String::from_utf8(entry.value.to_vec())
                    .map_err(|_| KvCliError::NotText(key.clone()))?;
                let value = match entry.metadata {
                    None => serde_json::Value::String(data),
                    Some(metadata) => serde_json::json!({
                        "data": data,
                        "metadata": String::from_utf8(metadata.to_vec())
                            .map_err(|_| KvCliError::NotText(key.clone()))?,
                    }),
                };
                entries.insert(key, value);
            }
            let mut text = serde_json::to_string_pretty(&serde_json::Value::Object(entries))
                .unwrap_or_default();
            text.push('\n');
            match output {
                Some(path) => std::fs::write(path, text).map_err(io(path))?,
                None => out.write_all(text.as_bytes()).map_err(io(stdout))?,
            }
        }
        KvCommand::Import { store, file } => {
            // Read as fastly.toml reads a JSON seed file: the same checks and messages.
            let file = std::path::absolute(file).map_err(io(file))?;
            let toml = format!(
                "[local_server.kv_stores]\n{} = {{ file = {}, format = \"json\" }}\n",
                toml_string(store),
                toml_string(&file.to_string_lossy())
            );
            let base = file.parent().unwrap_or(Path::new("/"));
            let config = FastlyToml::parse(&toml, &file, base)
                .map_err(|e| KvCliError::Import(e.to_string()))?;
            let kv = open(args, store)?;
            let mut written = 0;
            for seed in config.kv_stores.iter().flat_map(|s| &s.entries) {
                checked(&seed.key)?;
                kv.insert(
                    &seed.key,
                    Insert {
                        value: Bytes::from(seed.value.clone()),
                        metadata: seed.metadata.clone().map(Bytes::from),
                        ..Insert::default()
                    },
                )?;
                written += 1;
            }
            writeln!(out, "imported {written} entries into {store}").map_err(io(stdout))?;
        }
    }
    Ok(())
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}
