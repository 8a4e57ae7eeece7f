//! Operations per second of each backend, without HTTP or JS: sequential puts, appends and
//! gets, then puts from several threads at once.
//!
//! ```sh
//! cargo run --release -p edgeshim-store --example store_throughput [OPS]
//! EDGESHIM_BENCH_REDIS=redis://127.0.0.1:6379/ cargo run --release -p edgeshim-store \
//!     --example store_throughput [OPS]
//! ```
//!
//! The SQLite store is opened in a fresh folder under the system's temporary folder; every
//! put is a committed transaction, as the server makes it. With `EDGESHIM_BENCH_REDIS` set,
//! a Redis store at that URL is measured too, under a key prefix of its own that is deleted
//! afterwards.

use std::sync::Arc;
use std::time::Instant;

use edgeshim_store::{
    Bytes, Insert, InsertMode, KvStore, MemoryStore, RedisStore, SqliteStore, StoreError,
    SystemClock,
};

fn rate(ops: usize, started: Instant) -> String {
    format!("{:>9.0}/s", ops as f64 / started.elapsed().as_secs_f64())
}

fn run(name: &str, store: &Arc<dyn KvStore>, ops: usize) -> Result<(), StoreError> {
    let value = Bytes::from(vec![b'v'; 100]);
    let put = |mode| Insert {
        value: value.clone(),
        mode,
        ..Insert::default()
    };

    let started = Instant::now();
    for i in 0..ops {
        store.insert(&format!("key{i}"), put(InsertMode::Overwrite))?;
    }
    let puts = rate(ops, started);

    let started = Instant::now();
    for i in 0..ops {
        store.lookup(&format!("key{i}"))?;
    }
    let gets = rate(ops, started);

    // Appends to one key: each rewrites the growing value, so keep the count modest.
    let appends = ops.min(2_000);
    let started = Instant::now();
    for _ in 0..appends {
        store.insert("log", put(InsertMode::Append))?;
    }
    let appended = rate(appends, started);

    let threads = 4;
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let store = store.clone();
            let value = value.clone();
            std::thread::spawn(move || -> Result<(), StoreError> {
                for i in 0..ops / threads {
                    let insert = Insert {
                        value: value.clone(),
                        ..Insert::default()
                    };
                    store.insert(&format!("t{t}-{i}"), insert)?;
                }
                Ok(())
            })
        })
        .collect();
    for handle in handles {
        handle
            .join()
            .map_err(|_| StoreError::InternalError("a thread panicked".into()))??;
    }
    let parallel = rate(ops / threads * threads, started);

    eprintln!(
        "{name:<8} put {puts}  get {gets}  append {appended}  put x{threads} threads {parallel}"
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ops = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(20_000);
    let memory: Arc<dyn KvStore> = Arc::new(MemoryStore::new(Arc::new(SystemClock)));
    run("memory", &memory, ops)?;

    let dir = std::env::temp_dir().join(format!("edgeshim-throughput-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let sqlite: Arc<dyn KvStore> =
        Arc::new(SqliteStore::open_in(&dir, "bench", Arc::new(SystemClock))?);
    let result = run("sqlite", &sqlite, ops);
    drop(sqlite);
    std::fs::remove_dir_all(&dir)?;
    result?;

    if let Some(url) = std::env::var_os("EDGESHIM_BENCH_REDIS") {
        let url = url
            .into_string()
            .map_err(|_| "EDGESHIM_BENCH_REDIS is not UTF-8")?;
        let prefix = format!("edgeshim-throughput-{}:", std::process::id());
        let redis: Arc<dyn KvStore> = Arc::new(RedisStore::connect_with_prefix(
            &url,
            &prefix,
            "bench",
            Arc::new(SystemClock),
        )?);
        let result = run("redis", &redis, ops);
        remove_keys(&url, &prefix)?;
        result?;
    }
    Ok(())
}

/// Deletes every Redis key starting with `prefix`.
fn remove_keys(url: &str, prefix: &str) -> redis::RedisResult<()> {
    let mut conn = redis::Client::open(url)?.get_connection()?;
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut conn)?;
    for chunk in keys.chunks(1000) {
        redis::cmd("DEL").arg(chunk).query::<()>(&mut conn)?;
    }
    Ok(())
}
