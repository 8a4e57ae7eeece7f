//! The Redis KV backend end to end, through the real binary: two servers started with
//! `--kv-backend redis://…` share one store (a value written through one is read through the
//! other, concurrent appends through both are neither lost nor doubled, and of racing `add`s
//! exactly one wins), and a backend that cannot be reached stops the start with a message
//! naming its URL. The app is `fixtures/kv-durable`.
//!
//! The tests start their own `redis-server` (loopback, a free port, no persistence). Without
//! it installed they are skipped with a note, unless `CI` is set: there they must run.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::fixture;
use support::kv_durable::{add_race, get, put, APP};
use support::process::{self, ServerProcess, TempDir};

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether `redis-server` can be run; outside CI, says so when it cannot.
fn redis_installed() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "redis-server is not installed, and CI is set: these tests must run in CI"
        );
        let _ = writeln!(
            std::io::stderr(),
            "note: skipping the Redis server tests: redis-server is not installed \
             (apt-get install redis-server); in CI they run"
        );
    }
    found
}

/// A `redis-server` child on a free loopback port, killed when dropped.
struct Redis {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Redis {
    fn start() -> Option<Self> {
        if !redis_installed() {
            return None;
        }
        for _ in 0..5 {
            let dir = TempDir::new("redis");
            let port = free_port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if child.try_wait().unwrap().is_some() {
                    break; // the port was taken meanwhile: try another
                }
                if ping(port) {
                    return Some(Self {
                        child,
                        port,
                        _dir: dir,
                    });
                }
                assert!(Instant::now() < deadline, "redis-server did not start");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        panic!("redis-server did not start on any port");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a Redis server answers `PING` on the port.
fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

/// The binary serving the fixture app with two workers.
fn start(args: &[&str]) -> ServerProcess {
    let mut all = vec!["--workers", "2"];
    all.extend_from_slice(args);
    ServerProcess::start(&fixture(APP), None, &all)
}

fn failing_start(args: &[&str]) -> String {
    process::failing_start(&fixture(APP), None, args)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn two_servers_share_one_redis_store() {
    const WRITERS: usize = 6;
    const APPENDS: usize = 15;
    const RACERS: usize = 8;
    let Some(redis) = Redis::start() else {
        return;
    };
    let url = redis.url();
    let one = start(&["--kv-backend", &url]);
    let two = start(&["--kv-backend", &url]);
    for server in [&one, &two] {
        let expected = format!("kv: redis {url}, stores: data (2 entries)");
        assert!(
            server.start_line.contains(&expected),
            "{}",
            server.start_line
        );
    }
    let servers = [one.addr, two.addr];
    let rt = runtime();
    rt.block_on(async {
        // Seeds are there, through either server.
        for addr in servers {
            let seeded = get(addr, "seeded").await;
            assert_eq!(seeded.text(), "from fastly.toml");
            assert_eq!(seeded.header("x-metadata"), Some("seed-meta"));
        }
        // Written through one, read through the other, both ways.
        assert_eq!(
            put(servers[0], "shared", "overwrite", "from one")
                .await
                .status,
            200
        );
        assert_eq!(get(servers[1], "shared").await.text(), "from one");
        assert_eq!(
            put(servers[1], "shared", "overwrite", "from two")
                .await
                .status,
            200
        );
        assert_eq!(get(servers[0], "shared").await.text(), "from two");

        // Concurrent appends through both servers: none lost, none doubled.
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let addr = servers[w % servers.len()];
                tokio::spawn(async move {
                    for i in 0..APPENDS {
                        let response = put(addr, "log", "append", &format!("<{w}.{i}>")).await;
                        assert_eq!(
                            (response.status, response.text()),
                            (200, "ok".to_owned()),
                            "append <{w}.{i}>"
                        );
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        for addr in servers {
            let log = get(addr, "log").await.text();
            for w in 0..WRITERS {
                for i in 0..APPENDS {
                    let token = format!("<{w}.{i}>");
                    assert_eq!(log.matches(&token).count(), 1, "{token} in {log}");
                }
            }
            assert_eq!(log.matches('<').count(), WRITERS * APPENDS, "{log}");
        }

        // Racing adds across both servers: exactly one wins.
        for round in 0..3 {
            add_race(&servers, &format!("race-{round}"), RACERS).await;
        }
        // The seeded key changed by the app...
        assert_eq!(
            put(servers[0], "seeded", "overwrite", "changed")
                .await
                .status,
            200
        );
    });
    drop(one);

    // ...is reset by the next start; other keys are kept.
    let three = start(&["--kv-backend", &url]);
    rt.block_on(async {
        assert_eq!(get(three.addr, "seeded").await.text(), "from fastly.toml");
        assert_eq!(get(three.addr, "shared").await.text(), "from two");
        assert_eq!(get(two.addr, "seeded").await.text(), "from fastly.toml");
    });
    assert!(!two.log().contains("ERROR"), "{}", two.log());
}

#[test]
fn an_unreachable_or_malformed_backend_stops_the_start_naming_its_url() {
    // Nothing listens on this port.
    let url = format!("redis://127.0.0.1:{}", free_port());
    let stderr = failing_start(&["--kv-backend", &url]);
    assert!(
        stderr.contains(&format!("cannot connect to the Redis KV backend at {url}")),
        "{stderr}"
    );

    // The password never shows.
    let secret = format!("redis://user:hunter2@127.0.0.1:{}/0", free_port());
    let stderr = failing_start(&["--kv-backend", &secret]);
    assert!(stderr.contains("redis://user:***@127.0.0.1:"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");

    // Not a Redis URL at all.
    let stderr = failing_start(&["--kv-backend", "http://127.0.0.1:6379"]);
    assert!(stderr.contains("http://127.0.0.1:6379"), "{stderr}");
    let stderr = failing_start(&["--kv-backend", "redis://[::1"]);
    assert!(stderr.contains("redis://[::1"), "{stderr}");

    // Conflicting flags.
    let stderr = failing_start(&["--kv-backend", &url, "--ephemeral"]);
    assert!(stderr.contains("--ephemeral"), "{stderr}");
    let stderr = failing_start(&["--kv-backend", &url, "--state-dir", "x"]);
    assert!(stderr.contains("--state-dir"), "{stderr}");
}
