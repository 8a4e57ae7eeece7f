//! Compute's instance model, end to end (`fixtures/instance-model`): the app's top level runs
//! once and every request runs in a fresh copy of that state; a request over one of Compute's
//! limits ends with a 500 that names it while other requests keep being answered; a KV call
//! waiting on the store never holds up another request; SIGTERM is prompt whatever runs.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use edgeshim::{KvBackend, ServeOptions};
use edgeshim_engine::{Limits, PoolConfig};
use serde_json::Value;
use support::process::{ServerProcess, TempDir};
use support::{fixture, request, HttpResponse, Server};

const APP: &str = "instance-model/index.js";

async fn start(pool: PoolConfig, kv: KvBackend) -> Server {
    let mut options = ServeOptions::new(fixture(APP));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.pool = pool;
    options.kv = kv;
    Server {
        running: edgeshim::start(options).await.expect("the fixture starts"),
    }
}

async fn get(server: &Server, path: &str) -> HttpResponse {
    request(server.addr(), "GET", path, &[], b"").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_level_runs_once_and_every_request_gets_a_fresh_copy_of_it() {
    let server = start(support::pool(2, false), KvBackend::Memory).await;
    let addr = server.addr();
    let requests: Vec<_> = (0..20)
        .map(|_| tokio::spawn(async move { request(addr, "GET", "/", &[], b"").await }))
        .collect();
    let mut seen = Vec::new();
    for response in requests {
        let response = response.await.unwrap();
        assert_eq!(response.status, 200, "{}", response.text());
        seen.push(serde_json::from_slice::<Value>(&response.body).unwrap());
    }
    // Another round after the first has changed globals, prototypes and module state.
    let later: Value = serde_json::from_slice(&get(&server, "/").await.body).unwrap();
    seen.push(later);

    let boot = &seen[0]["boot"];
    let boot_bytes = &seen[0]["bootBytes"];
    assert!(boot.as_f64().is_some_and(|b| (0.0..1.0).contains(&b)));
    for each in &seen {
        // The snapshot's values, identical everywhere.
        assert_eq!(&each["boot"], boot);
        assert_eq!(&each["bootBytes"], boot_bytes);
        // Nothing an earlier request changed.
        assert_eq!(each["count"], 1, "{each}");
        assert_eq!(each["leakedGlobal"], Value::Null, "{each}");
        assert_eq!(each["leakedPrototype"], Value::Null, "{each}");
    }
    // Fresh randomness in every request.
    let randoms: HashSet<String> = seen.iter().map(|s| s["random"].to_string()).collect();
    let bytes: HashSet<String> = seen.iter().map(|s| s["randomBytes"].to_string()).collect();
    assert_eq!((randoms.len(), bytes.len()), (21, 21));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_instances_keep_state_and_say_so() {
    let server = start(support::pool(1, true), KvBackend::Memory).await;
    let first: Value = serde_json::from_slice(&get(&server, "/").await.body).unwrap();
    let second: Value = serde_json::from_slice(&get(&server, "/").await.body).unwrap();
    assert_eq!((&first["count"], &second["count"]), (&1.into(), &2.into()));
    assert_eq!(
        second["leakedGlobal"],
        Value::from("global from an earlier request")
    );
    server.stop().await;
}

/// Median of how long `/fast` takes, asked `times` times in a row.
async fn median_fast(server: &Server, times: usize) -> Duration {
    let mut took = Vec::new();
    for _ in 0..times {
        let started = Instant::now();
        let fast = get(server, "/fast").await;
        took.push(started.elapsed());
        assert_eq!((fast.status, fast.text().as_str()), (200, "fast"));
    }
    took.sort();
    took[times / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_a_limit_gets_its_error_while_others_are_answered() {
    let limits = Limits {
        cpu: Some(Duration::from_millis(2000)),
        wall: Duration::from_secs(5),
        // Small enough that the memory-hungry route's first 64 MiB buffer is over it: filling
        // 256 MB takes seconds of CPU in a debug build.
        heap: 32 * 1024 * 1024,
    };
    let server = start(
        PoolConfig {
            limits,
            ..support::pool(2, false)
        },
        KvBackend::Memory,
    )
    .await;
    // What an ordinary request takes on this machine, before anything runs beside it.
    let baseline = median_fast(&server, 5).await;
    let addr = server.addr();
    let over = |path: &'static str| {
        tokio::spawn(async move {
            let started = Instant::now();
            (
                request(addr, "GET", path, &[], b"").await,
                started.elapsed(),
            )
        })
    };
    let looping = over("/loop");
    let hungry = over("/memory");
    let recursing = over("/recurse");
    let waiting = over("/wait?ms=60000");
    // Meanwhile an ordinary route is answered about as fast as before (a blocked worker would
    // hold it for seconds); relative to this machine's own baseline, not a fixed speed.
    let fast = median_fast(&server, 7).await;
    assert!(
        fast < baseline * 3 + Duration::from_millis(200),
        "{fast:?} (baseline {baseline:?})"
    );

    let (response, took) = looping.await.unwrap();
    assert_eq!(response.status, 500);
    assert_eq!(
        response.text(),
        "edgeshim: the request used more than its 2000 ms of CPU time (Compute's limit; change \
         it with --cpu-limit MS, 0 for none)\n"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");

    let (response, _) = hungry.await.unwrap();
    assert_eq!(response.status, 500);
    assert_eq!(
        response.text(),
        "edgeshim: the app used more than 64 MB of heap memory (Compute's limit is 32 MB; \
         edgeshim allows 2 times that, as Boa's values take more room than SpiderMonkey's)\n"
    );

    let (response, _) = recursing.await.unwrap();
    assert_eq!(response.status, 500);
    assert_eq!(
        response.text(),
        "edgeshim: too much recursion: more than 10000 nested calls (Compute's stack is 1 MB); \
         JavaScript cannot catch this one in edgeshim yet\n"
    );

    let (response, took) = waiting.await.unwrap();
    assert_eq!(response.status, 500);
    assert_eq!(
        response.text(),
        "edgeshim: the request was still running after 5 s of wall-clock time (Compute's \
         limit)\n"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");

    // The server is whole afterwards.
    let after = median_fast(&server, 3).await;
    assert!(
        after < baseline * 3 + Duration::from_millis(200),
        "{after:?} (baseline {baseline:?})"
    );
    server.stop().await;
}

/// Holds the KV database's write lock, as another server in the middle of a write would.
fn hold_write_lock(state_dir: &std::path::Path) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(state_dir.join("kv.sqlite3")).unwrap();
    connection.execute_batch("BEGIN EXCLUSIVE").unwrap();
    connection
}

async fn kv_wait_does_not_delay_others(pool: PoolConfig) {
    let dir = TempDir::new("instance-model-lock");
    let state_dir = dir.path().join("state");
    let server = start(
        pool,
        KvBackend::Sqlite {
            state_dir: state_dir.clone(),
        },
    )
    .await;
    let baseline = median_fast(&server, 5).await;
    let lock = hold_write_lock(&state_dir);
    let addr = server.addr();
    let blocked = tokio::spawn(async move { request(addr, "GET", "/kv-put", &[], b"").await });
    // Let the put reach the store and wait on its lock.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !blocked.is_finished(),
        "the put should be waiting on the lock"
    );
    // Answered about as fast as before; a JS thread stuck on the lock would hold these requests
    // until the lock goes (seconds later, below).
    let fast = median_fast(&server, 5).await;
    assert!(
        fast < baseline * 3 + Duration::from_millis(200),
        "{fast:?} (baseline {baseline:?})"
    );
    drop(lock);
    let stored = blocked.await.unwrap();
    assert_eq!((stored.status, stored.text().as_str()), (200, "stored"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kv_call_waiting_on_a_held_sqlite_lock_does_not_delay_another_request() {
    kv_wait_does_not_delay_others(support::pool(1, false)).await;
}

/// The same with in-process instances on one JS thread: the store waits on another thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kv_call_waiting_on_a_lock_leaves_the_js_thread_free() {
    kv_wait_does_not_delay_others(PoolConfig {
        workers: 1,
        ..PoolConfig::default()
    })
    .await;
}

#[test]
fn sigterm_stops_the_server_in_under_a_second_with_loops_running() {
    let server = ServerProcess::start(&fixture(APP), None, &["--ephemeral", "--cpu-limit", "0"]);
    assert!(
        server
            .start_line
            .contains("each request in a fresh copy of it (Compute's model)"),
        "{}",
        server.start_line
    );
    assert!(server
        .start_line
        .contains("limits: no CPU, 120 s wall, 128 MB heap"));
    let addr = server.addr;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let loops: Vec<_> = (0..2)
        .map(|_| runtime.spawn(async move { request(addr, "GET", "/loop", &[], b"").await }))
        .collect();
    // Both loops are running when the signal comes.
    std::thread::sleep(Duration::from_millis(300));
    let (status, took) = server.terminate();
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    for looping in loops {
        let response = runtime.block_on(looping).unwrap();
        assert_eq!(response.status, 500);
    }
}

/// A terminal's Ctrl-C, `timeout` or a supervisor signals the whole process group: the
/// snapshot process and its copies leave stopping to the server (which lets open requests
/// finish) instead of dying first and being restarted as a crash.
#[test]
fn a_stop_signal_to_the_whole_process_group_is_a_clean_stop() {
    let server = ServerProcess::start(&fixture(APP), None, &["--ephemeral"]);
    let snapshot = children(server.pid());
    assert_eq!(snapshot.len(), 1, "{snapshot:?}");
    let mut group = snapshot.clone();
    group.extend(children(snapshot[0]));
    for pid in &group {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let ignored = status
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:"))
            .map(|mask| u64::from_str_radix(mask.trim(), 16).unwrap())
            .unwrap();
        for signal in [libc_signal::SIGINT, libc_signal::SIGTERM] {
            assert_ne!(
                ignored & (1 << (signal - 1)),
                0,
                "{pid} heeds signal {signal}"
            );
        }
    }
    let sent = std::process::Command::new("kill")
        .arg("-TERM")
        .args(group.iter().map(u32::to_string))
        .status()
        .unwrap();
    assert!(sent.success());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let response = runtime.block_on(request(server.addr, "GET", "/", &[], b""));
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(children(server.pid()), snapshot);
    let log_before_stop = server.log();
    let (status, _) = server.terminate();
    assert!(status.success(), "{status}");
    assert!(
        !log_before_stop.contains("snapshot process ended"),
        "{log_before_stop}"
    );
}

/// Signal numbers on Linux.
mod libc_signal {
    pub const SIGINT: u32 = 2;
    pub const SIGTERM: u32 = 15;
}

/// The processes `pid` started.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn a_killed_snapshot_process_is_started_again() {
    let server = ServerProcess::start(&fixture(APP), None, &["--ephemeral"]);
    let snapshot = children(server.pid())
        .into_iter()
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmd| cmd.contains("__snapshot-process"))
        })
        .expect("the snapshot process");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &snapshot.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // More requests than copies were ready when it died: later ones need the new process.
    for _ in 0..12 {
        let response = runtime
            .block_on(async {
                let answered = request(server.addr, "GET", "/fast", &[], b"");
                tokio::time::timeout(Duration::from_secs(20), answered).await
            })
            .expect("answered after the restart");
        assert_eq!((response.status, response.text().as_str()), (200, "fast"));
    }
    let log = server.log();
    assert!(
        log.contains("the snapshot process ended (signal: 9 (SIGKILL)); starting it again"),
        "{log}"
    );
}

/// The globals written in JS read by the same code in request after request, in every
/// instance mode: a reused instance's second request once got another global for
/// `TransformStream` (`SimpleCacheEntry builtin can't be instantiated directly`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn globals_written_in_js_stay_themselves_in_every_mode() {
    let expected = r#"[["object",2,"x"],["object",2,"x"]]"#;
    for reuse in [false, true] {
        let server = support::serve("js-lib-globals", reuse, 1).await;
        for _ in 0..3 {
            let response = get(&server, "/").await;
            assert_eq!(response.text(), expected, "reuse: {reuse}");
        }
        server.stop().await;
    }
    let server = support::serve_in_process("js-lib-globals", 1).await;
    for _ in 0..3 {
        assert_eq!(get(&server, "/").await.text(), expected, "in process");
    }
    server.stop().await;
}
