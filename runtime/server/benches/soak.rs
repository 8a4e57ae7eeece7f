//! `cargo bench -p edgeshim --bench soak`: a long run of mixed traffic against each KV backend
//! (issue 14): KV reads, writes and listings, bodies streamed through the app, app errors, a
//! client that sends and reads slowly; every `BENCH_SOAK_WINDOW` seconds it prints requests,
//! unexpected errors, p50/p99 latency and the resident memory of the server and its snapshot
//! process (the processes that last; each request's copy ends with it).
//!
//! Pass means: no unexpected error (an app error is expected to answer 500, nothing else
//! is), no lost acknowledged write (each writer owns its keys and checks every read of them,
//! and all of them at the end, against the last write the server acknowledged), and no RSS
//! growth trend (the last quarter's mean within 10% or 8 MiB of the second quarter's).
//!
//! Backends: SQLite (a fresh state folder), in memory (also with `--reuse-instances`, whose
//! instances keep their heap between requests), and Redis when `redis-server` is installed
//! (started on a free loopback port, with an append-only file): Redis is stopped from 40% to
//! 60% of its run; KV calls then answer 500 (`Internal error.`), which is expected until 2 s
//! after it is back, and every other request must go on being answered. A write that fails
//! may or may not have taken effect, as on the platform: a read may give either value. Environment: `BENCH_SOAK_SECONDS` per backend
//! (default 600), `BENCH_SOAK_WINDOW` (default 30), `BENCH_SOAK_WORKERS` (default 8).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use parking_lot::Mutex;
use support::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// Keys each writer owns.
const KEYS_PER_WRITER: usize = 40;
/// Size of a streamed body.
const STREAM_BYTES: usize = 256 * 1024;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator: the same traffic every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The store's outage, for the Redis run: KV calls answered 500 while it is down, and for a
/// moment after it is back (connections are remade), are expected; any other error is not.
#[derive(Default)]
struct Outage {
    /// 0: no outage; 1: the store is down; 2: it is back since `since`.
    state: std::sync::atomic::AtomicU8,
    since: Mutex<Option<Instant>>,
}

impl Outage {
    fn set(&self, down: bool) {
        self.state.store(if down { 1 } else { 2 }, Ordering::SeqCst);
        *self.since.lock() = Some(Instant::now());
    }

    fn excuses(&self) -> bool {
        match self.state.load(Ordering::SeqCst) {
            1 => true,
            2 => self
                .since
                .lock()
                .is_some_and(|since| since.elapsed() < Duration::from_secs(2)),
            _ => false,
        }
    }
}

/// What happened in one window.
#[derive(Default)]
struct Window {
    latencies_us: Vec<u64>,
    errors: Vec<String>,
}

#[derive(Default)]
struct Totals {
    window: Window,
    requests: u64,
    errors: u64,
    lost_writes: u64,
    first_errors: Vec<String>,
    /// KV calls that failed while the store was down (expected: `Internal error.`, a 500).
    outage_errors: u64,
}

/// Prefix of the errors of KV routes answered 500 (what a store outage gives).
const KV_500: &str = "kv 500";

impl Totals {
    fn record(&mut self, took: Duration, outcome: Result<(), String>, outage: &Outage) {
        self.requests += 1;
        self.window
            .latencies_us
            .push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
        if let Err(error) = &outcome {
            if error.starts_with(KV_500) && outage.excuses() {
                self.outage_errors += 1;
                return;
            }
        }
        if let Err(error) = outcome {
            self.errors += 1;
            if error.starts_with("lost write") {
                self.lost_writes += 1;
            }
            if self.first_errors.len() < 10 {
                self.first_errors.push(error.clone());
            }
            self.window.errors.push(error);
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank] as f64 / 1000.0
}

async fn call(
    client: &HttpClient,
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Bytes,
) -> Result<(u16, Bytes), String> {
    let request = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .body(Full::new(body))
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(30), client.request(request))
        .await
        .map_err(|_| format!("{method} {path}: no answer in 30 s"))?
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let status = response.status().as_u16();
    let body = tokio::time::timeout(Duration::from_secs(30), response.into_body().collect())
        .await
        .map_err(|_| format!("{method} {path}: body not done in 30 s"))?
        .map_err(|e| format!("{method} {path}: body: {e}"))?
        .to_bytes();
    Ok((status, body))
}

fn expect(
    what: &str,
    got: Result<(u16, Bytes), String>,
    status: u16,
    body: Option<&[u8]>,
) -> Result<(), String> {
    let (got_status, got_body) = got?;
    if got_status != status {
        return Err(format!(
            "{what}: status {got_status}, expected {status}: {}",
            String::from_utf8_lossy(&got_body[..got_body.len().min(200)])
        ));
    }
    match body {
        Some(want) if got_body != want => Err(format!(
            "{what}: body of {} bytes differs from the {} expected",
            got_body.len(),
            want.len()
        )),
        _ => Ok(()),
    }
}

/// One writer/reader: owns keys `w{id}-k*`, and checks each read of them against its last
/// acknowledged write.
async fn worker(
    id: usize,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    totals: Arc<Mutex<Totals>>,
    outage: Arc<Outage>,
) -> HashMap<String, Vec<Option<String>>> {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (id as u64 + 1));
    // What a read of each key may give: the last value the server acknowledged (`None`:
    // never written), and the values of writes that failed since (a write that fails may or
    // may not have taken effect, as on the platform).
    let mut acked: HashMap<String, Vec<Option<String>>> = (0..KEYS_PER_WRITER)
        .map(|k| (format!("w{id}-k{k}"), vec![None]))
        .collect();
    let stream_body = Bytes::from(
        (0..STREAM_BYTES)
            .map(|i| b'a' + (i % 26) as u8)
            .collect::<Vec<u8>>(),
    );
    let mut sequence = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("w{id}-k{}", rng.below(KEYS_PER_WRITER as u64));
        let started = Instant::now();
        let outcome = match rng.below(100) {
            0..=39 => {
                let got = call(&client, addr, "GET", &format!("/kv/{key}"), Bytes::new()).await;
                match got {
                    Err(e) => Err(e),
                    Ok((500, _)) => Err(format!("{KV_500}: GET {key}")),
                    Ok((status, body)) if readable(&acked[&key], status, &body) => Ok(()),
                    Ok((status, body)) => Err(format!(
                        "lost write: GET {key} gave {status} {:?}, acceptable: {:?}",
                        String::from_utf8_lossy(&body),
                        acked[&key]
                    )),
                }
            }
            40..=64 => {
                sequence += 1;
                let value = format!("{key}#{sequence}");
                let got = call(
                    &client,
                    addr,
                    "PUT",
                    &format!("/kv/{key}"),
                    Bytes::from(value.clone()),
                )
                .await;
                let result = match got {
                    Ok((500, _)) => Err(format!("{KV_500}: PUT {key}")),
                    got => expect("PUT", got, 201, Some(b"stored")),
                };
                match result {
                    Ok(()) => {
                        acked.insert(key, vec![Some(value)]);
                    }
                    Err(_) => acked.entry(key).or_default().push(Some(value)),
                }
                result
            }
            65..=74 => {
                let got = call(
                    &client,
                    addr,
                    "GET",
                    &format!("/list?prefix=w{id}-"),
                    Bytes::new(),
                )
                .await;
                got.and_then(|(status, body)| {
                    if status == 500 {
                        return Err(format!("{KV_500}: list"));
                    }
                    let page: serde_json::Value = serde_json::from_slice(&body)
                        .map_err(|e| format!("list: {status} not JSON: {e}"))?;
                    let listed = page["list"].as_array().map_or(0, Vec::len);
                    // Keys whose last acknowledged write holds a value.
                    let written = acked
                        .values()
                        .filter(|v| v.first().is_some_and(Option::is_some))
                        .count();
                    if status == 200 && listed >= written.min(50) {
                        Ok(())
                    } else {
                        Err(format!(
                            "lost write: list gave {status} with {listed} keys, {written} written"
                        ))
                    }
                })
            }
            75..=84 => expect(
                "echo",
                call(&client, addr, "POST", "/echo", stream_body.clone()).await,
                200,
                Some(&stream_body),
            ),
            85..=89 => {
                // An app error: answered 500, the server goes on.
                let got = call(&client, addr, "GET", "/boom", Bytes::new()).await;
                got.and_then(|(status, _)| {
                    if status == 500 {
                        Ok(())
                    } else {
                        Err(format!("boom: status {status}, expected 500"))
                    }
                })
            }
            _ => expect(
                "hello",
                call(&client, addr, "GET", "/", Bytes::new()).await,
                200,
                Some(b"hello"),
            ),
        };
        totals.lock().record(started.elapsed(), outcome, &outage);
    }
    acked
}

/// Whether a read answered `status` and `body` is one of the `acceptable` values.
fn readable(acceptable: &[Option<String>], status: u16, body: &[u8]) -> bool {
    acceptable.iter().any(|value| match value {
        None => status == 404,
        Some(value) => status == 200 && body == value.as_bytes(),
    })
}

/// A client that sends its request and reads the answer a few bytes at a time.
async fn slow_client(
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    totals: Arc<Mutex<Totals>>,
    outage: Arc<Outage>,
) {
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let outcome = async {
            let mut stream = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| format!("slow client: connect: {e}"))?;
            let request = b"GET /hello HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n";
            for chunk in request.chunks(4) {
                stream
                    .write_all(chunk)
                    .await
                    .map_err(|e| format!("slow client: write: {e}"))?;
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            let mut answer = Vec::new();
            let mut buffer = [0u8; 8];
            loop {
                let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buffer))
                    .await
                    .map_err(|_| "slow client: no answer in 30 s".to_owned())?
                    .map_err(|e| format!("slow client: read: {e}"))?;
                if n == 0 {
                    break;
                }
                answer.extend_from_slice(&buffer[..n]);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let text = String::from_utf8_lossy(&answer);
            if text.starts_with("HTTP/1.1 200") && text.ends_with("hello") {
                Ok(())
            } else {
                Err(format!("slow client: {text:?}"))
            }
        }
        .await;
        totals.lock().record(started.elapsed(), outcome, &outage);
    }
}

/// `redis-server` on a loopback port, its data in an append-only file that is written before
/// each write is acknowledged and read back when it starts again.
struct Redis {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Redis {
    /// On a free port; `None` if `redis-server` is not installed.
    fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = tempfile::tempdir().ok()?;
        let child = Self::spawn(port, dir.path())?;
        Some(Self { child, port, dir })
    }

    fn spawn(port: u16, dir: &Path) -> Option<Child> {
        let mut child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(child);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        None
    }

    /// Stops it as an operator would (SIGTERM: it finishes its file and exits).
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.child = Self::spawn(self.port, self.dir.path()).expect("redis starts again");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Soaks `server` for `seconds`; prints each window and the verdict. Returns whether it passed.
/// With `redis`, Redis is stopped from 40% to 60% of the run.
fn soak(
    name: &str,
    server: &Server,
    seconds: u64,
    window: u64,
    workers: usize,
    redis: Option<&mut Redis>,
) -> bool {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let totals = Arc::new(Mutex::new(Totals::default()));
    let outage = Arc::new(Outage::default());
    println!(
        "\n{name}: {seconds} s, {workers} writers/readers and 1 slow client{}",
        if redis.is_some() {
            ", Redis stopped from 40% to 60% of the run"
        } else {
            ""
        }
    );
    println!(
        "{:>6} {:>9} {:>7} {:>9} {:>9} {:>10}",
        "time", "requests", "errors", "p50 ms", "p99 ms", "RSS MiB"
    );
    let mut rss_samples = Vec::new();
    let acked = std::thread::scope(|scope| {
        if let Some(redis) = redis {
            let outage = outage.clone();
            scope.spawn(move || {
                std::thread::sleep(Duration::from_secs(seconds) * 2 / 5);
                outage.set(true);
                redis.stop();
                std::thread::sleep(Duration::from_secs(seconds) / 5);
                redis.restart();
                outage.set(false);
            });
        }
        runtime.block_on(async {
            let tasks: Vec<_> = (0..workers)
                .map(|id| {
                    tokio::spawn(worker(
                        id,
                        addr,
                        stop.clone(),
                        totals.clone(),
                        outage.clone(),
                    ))
                })
                .collect();
            let slow = tokio::spawn(slow_client(
                addr,
                stop.clone(),
                totals.clone(),
                outage.clone(),
            ));
            let started = Instant::now();
            let mut last_requests = 0;
            while started.elapsed() < Duration::from_secs(seconds) {
                let left = Duration::from_secs(seconds).saturating_sub(started.elapsed());
                tokio::time::sleep(left.min(Duration::from_secs(window))).await;
                let mut latencies;
                let (requests, errors);
                {
                    let mut totals = totals.lock();
                    let window = std::mem::take(&mut totals.window);
                    latencies = window.latencies_us;
                    requests = totals.requests - last_requests;
                    last_requests = totals.requests;
                    errors = window.errors.len();
                }
                latencies.sort_unstable();
                let rss = server.lasting_rss_kib();
                rss_samples.push(rss);
                println!(
                    "{:>5}s {:>9} {:>7} {:>9.2} {:>9.2} {:>10.1}",
                    started.elapsed().as_secs(),
                    requests,
                    errors,
                    percentile(&latencies, 0.5),
                    percentile(&latencies, 0.99),
                    rss as f64 / 1024.0
                );
            }
            stop.store(true, Ordering::Relaxed);
            let _ = slow.await;
            let mut acked = HashMap::new();
            for task in tasks {
                acked.extend(task.await.unwrap());
            }
            acked
        })
    });
    // Every key read back once the traffic stopped: the last acknowledged write, or nothing.
    let lost: Vec<String> = runtime.block_on(async {
        let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
        let mut lost = Vec::new();
        for (key, acceptable) in &acked {
            let got = call(&client, addr, "GET", &format!("/kv/{key}"), Bytes::new()).await;
            let fine = matches!(&got, Ok((status, body)) if readable(acceptable, *status, body));
            if !fine {
                lost.push(format!("{key}: {got:?}, acceptable {acceptable:?}"));
            }
        }
        lost
    });
    let totals = totals.lock();
    let unexpected = totals.errors;
    let quarter = rss_samples.len() / 4;
    let mean = |s: &[u64]| s.iter().sum::<u64>() as f64 / s.len().max(1) as f64;
    let (second, last) = if quarter > 0 {
        (
            mean(&rss_samples[quarter..2 * quarter]),
            mean(&rss_samples[rss_samples.len() - quarter..]),
        )
    } else {
        (
            mean(&rss_samples[..1.min(rss_samples.len())]),
            mean(&rss_samples[rss_samples.len().saturating_sub(1)..]),
        )
    };
    let growth_kib = last - second;
    let no_trend = growth_kib <= (second * 0.10).max(8.0 * 1024.0);
    let passed = unexpected == 0 && lost.is_empty() && no_trend;
    println!(
        "{name}: {} requests, {unexpected} unexpected errors ({} lost writes during the run), \
         {} KV calls refused while the store was down, {} of {} keys wrong at the end; RSS \
         {:.1} -> {:.1} MiB (second quarter -> last quarter): {}",
        totals.requests,
        totals.lost_writes,
        totals.outage_errors,
        lost.len(),
        acked.len(),
        second / 1024.0,
        last / 1024.0,
        if passed { "PASS" } else { "FAIL" }
    );
    for error in totals.first_errors.iter().chain(lost.iter().take(10)) {
        println!("  {error}");
    }
    passed
}

fn main() {
    let seconds = env_or("BENCH_SOAK_SECONDS", 600);
    let window = env_or("BENCH_SOAK_WINDOW", 30).max(1);
    let workers = usize::try_from(env_or("BENCH_SOAK_WORKERS", 8)).unwrap_or(8);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_edgeshim"));
    let app = root.join("fixtures/soak/index.js");
    println!(
        "soak: mixed traffic (40% KV reads, 25% writes, 10% lists, 10% 256 KiB bodies streamed \
         through, 5% app errors, 10% small) for {seconds} s per backend, windows of {window} s"
    );
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().display().to_string();
    let mut results = Vec::new();
    let server = Server::edgeshim_on(&binary, &app, &["--state-dir", &state_dir], &[], &[]);
    results.push((
        "sqlite",
        soak("sqlite", &server, seconds, window, workers, None),
    ));
    drop(server);
    let server = Server::edgeshim_on(&binary, &app, &["--ephemeral"], &[], &[]);
    results.push((
        "memory",
        soak("memory", &server, seconds, window, workers, None),
    ));
    drop(server);
    // The in-process instances too, which keep their heap from request to request.
    let reuse = ["--reuse-instances"];
    let server = Server::edgeshim_on(&binary, &app, &["--ephemeral"], &reuse, &[]);
    let name = "memory, --reuse-instances";
    results.push((name, soak(name, &server, seconds, window, workers, None)));
    drop(server);
    match Redis::start() {
        Some(mut redis) => {
            let url = format!("redis://127.0.0.1:{}", redis.port);
            let server = Server::edgeshim_on(&binary, &app, &["--kv-backend", &url], &[], &[]);
            let name = "redis";
            let passed = soak(name, &server, seconds, window, workers, Some(&mut redis));
            results.push((name, passed));
            drop(server);
        }
        None => println!("\nredis: not measured (redis-server is not installed)"),
    }
    println!();
    for (backend, passed) in &results {
        println!("{backend:<26} {}", if *passed { "PASS" } else { "FAIL" });
    }
}
