//! Operations per second of each backend, without HTTP or JS: sequential puts, appends and
//! gets, then puts from several threads at once.
//!
//! ```sh
//! cargo run --release -p edgeshim-store --example store_throughput [OPS]
//! EDGESHIM_BENCH_REDIS=redis://127.0.0.1:6379/ cargo run --release -p edgeshim-store \
//!     --example store_throughput [OPS]
//! ```
//!
//! Beside each durable backend it runs the same puts and gets directly on SQLite (same
//! durability settings) and on Redis (plain SET/GET), and prints the ratios. Without
//! `EDGESHIM_BENCH_REDIS` it starts its own `redis-server` on a free loopback port when one is
//! installed.
//!
//! The SQLite store is opened in a fresh folder under the system's temporary folder; every
//! put is a committed transaction, as the server makes it. With `EDGESHIM_BENCH_REDIS` set,
//! a Redis store at that URL is measured too, under a key prefix of its own that is deleted
//! afterwards.

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use edgeshim_store::{
    Bytes, Insert, InsertMode, KvStore, MemoryStore, RedisStore, SqliteStore, StoreError,
    SystemClock,
};

fn per_second(ops: usize, started: Instant) -> f64 {
    ops as f64 / started.elapsed().as_secs_f64()
}

/// Operations per second of one backend.
struct Rates {
    put: f64,
    get: f64,
    append: f64,
    parallel_put: f64,
}

fn run(store: &Arc<dyn KvStore>, ops: usize) -> Result<Rates, StoreError> {
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
    let puts = per_second(ops, started);

    let started = Instant::now();
    for i in 0..ops {
        store.lookup(&format!("key{i}"))?;
    }
    let gets = per_second(ops, started);

    // Appends to one key: each rewrites the growing value, so keep the count modest.
    let appends = ops.min(2_000);
    let started = Instant::now();
    for _ in 0..appends {
        store.insert("log", put(InsertMode::Append))?;
    }
    let appended = per_second(appends, started);

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
    let parallel = per_second(ops / threads * threads, started);
    Ok(Rates {
        put: puts,
        get: gets,
        append: appended,
        parallel_put: parallel,
    })
}

/// The same puts and gets done directly on SQLite, with the backend's durability settings
/// (WAL, synchronous=NORMAL, one committed transaction per put): the ceiling.
fn sqlite_ceiling(path: &std::path::Path, ops: usize) -> rusqlite::Result<(f64, f64)> {
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch("CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")?;
    let value = vec![b'v'; 100];
    let started = Instant::now();
    for i in 0..ops {
        conn.execute(
            "INSERT OR REPLACE INTO kv (k, v) VALUES (?1, ?2)",
            rusqlite::params![format!("key{i}").into_bytes(), value],
        )?;
    }
    let put = per_second(ops, started);
    let started = Instant::now();
    let mut select = conn.prepare("SELECT v FROM kv WHERE k = ?1")?;
    for i in 0..ops {
        let _: Vec<u8> = select.query_row([format!("key{i}").into_bytes()], |r| r.get(0))?;
    }
    Ok((put, per_second(ops, started)))
}

/// The same puts and gets done directly on Redis with plain SET and GET: the ceiling.
fn redis_ceiling(url: &str, prefix: &str, ops: usize) -> redis::RedisResult<(f64, f64)> {
    let mut conn = redis::Client::open(url)?.get_connection()?;
    let value = vec![b'v'; 100];
    let started = Instant::now();
    for i in 0..ops {
        redis::cmd("SET")
            .arg(format!("{prefix}raw{i}"))
            .arg(&value)
            .query::<()>(&mut conn)?;
    }
    let put = per_second(ops, started);
    let started = Instant::now();
    for i in 0..ops {
        let _: Vec<u8> = redis::cmd("GET")
            .arg(format!("{prefix}raw{i}"))
            .query(&mut conn)?;
    }
    Ok((put, per_second(ops, started)))
}

fn print_row(name: &str, rates: &Rates, ceiling: Option<(f64, f64)>) {
    let ratio = |ours: f64, raw: f64| format!("{:>5.2}x", ours / raw);
    let (put_ratio, get_ratio) = ceiling.map_or(("    -".into(), "    -".into()), |(p, g)| {
        (ratio(rates.put, p), ratio(rates.get, g))
    });
    println!(
        "{name:<8} {:>10.0} {:>10.0} {:>10.0} {:>12.0}   {put_ratio:>8} {get_ratio:>8}",
        rates.put, rates.get, rates.append, rates.parallel_put
    );
    if let Some((put, get)) = ceiling {
        println!("{:<8} {put:>10.0} {get:>10.0}", format!("  raw"));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ops = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(20_000);
    println!(
        "edgeshim store throughput: {ops} operations of 100-byte values, one thread unless noted"
    );
    println!("(ratios: the backend's rate over the same operation done directly, the ceiling)");
    println!(
        "{:<8} {:>10} {:>10} {:>10} {:>12}   {:>8} {:>8}",
        "backend", "put/s", "get/s", "append/s", "put/s x4thr", "put/raw", "get/raw"
    );
    let memory: Arc<dyn KvStore> = Arc::new(MemoryStore::new(Arc::new(SystemClock)));
    print_row("memory", &run(&memory, ops)?, None);

    let dir = std::env::temp_dir().join(format!("edgeshim-throughput-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let sqlite: Arc<dyn KvStore> =
        Arc::new(SqliteStore::open_in(&dir, "bench", Arc::new(SystemClock))?);
    let rates = run(&sqlite, ops);
    drop(sqlite);
    let ceiling = sqlite_ceiling(&dir.join("raw.sqlite3"), ops);
    std::fs::remove_dir_all(&dir)?;
    print_row("sqlite", &rates?, Some(ceiling?));

    // A Redis given by URL, else one started here on a free loopback port when installed.
    let started_server = match std::env::var("EDGESHIM_BENCH_REDIS") {
        Ok(_) => None,
        Err(_) => start_redis(),
    };
    let url = match (&started_server, std::env::var("EDGESHIM_BENCH_REDIS")) {
        (_, Ok(url)) => Some(url),
        (Some((_, port)), Err(_)) => Some(format!("redis://127.0.0.1:{port}/")),
        (None, Err(_)) => None,
    };
    if let Some(url) = url {
        let prefix = format!("edgeshim-throughput-{}:", std::process::id());
        let redis: Arc<dyn KvStore> = Arc::new(RedisStore::connect_with_prefix(
            &url,
            &prefix,
            "bench",
            Arc::new(SystemClock),
        )?);
        let rates = run(&redis, ops);
        let ceiling = redis_ceiling(&url, &prefix, ops);
        remove_keys(&url, &prefix)?;
        print_row("redis", &rates?, Some(ceiling?));
    } else {
        println!("redis    (skipped: no redis-server installed and EDGESHIM_BENCH_REDIS unset)");
    }
    if let Some((mut child, _)) = started_server {
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(())
}

/// Starts `redis-server` without persistence on a free loopback port, if it is installed.
fn start_redis() -> Option<(std::process::Child, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((child, port));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
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
