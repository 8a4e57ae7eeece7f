//! The durable KV backend end to end, through HTTP and the real binary: acknowledged writes
//! survive SIGKILL and restart, seeds are reset at every start while other keys are kept,
//! and concurrent writers, from many workers or many servers sharing a state folder, lose
//! or double no append and let exactly one `add` win. The app is `fixtures/kv-durable`.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;

use std::net::SocketAddr;
use std::path::Path;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edgeshim::{KvBackend, ServeOptions};
use support::kv_durable::{add_race, get, put, APP};
use support::process::{self, ServerProcess, TempDir};
use support::{fixture, request, try_request, Server};

/// The binary serving the fixture app with two workers, in `cwd`.
fn start(cwd: &Path, args: &[&str]) -> ServerProcess {
    let mut all = vec!["--workers", "2"];
    all.extend_from_slice(args);
    ServerProcess::start(&fixture(APP), Some(cwd), &all)
}

fn failing_start(cwd: &Path, args: &[&str]) -> String {
    process::failing_start(&fixture(APP), Some(cwd), args)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Asserts that `log` holds every token of every writer exactly once and nothing else.
fn assert_each_token_once(log: &str, writers: usize, appends: usize) {
    for w in 0..writers {
        for i in 0..appends {
            let token = format!("<{w}.{i}>");
            assert_eq!(log.matches(&token).count(), 1, "{token} in {log}");
        }
    }
    assert_eq!(log.matches('<').count(), writers * appends, "{log}");
}

/// `writers` client tasks each append `appends` unique tokens to `key`, spreading their
/// requests over `servers`.
async fn append_concurrently(servers: &[SocketAddr], key: &str, writers: usize, appends: usize) {
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let addr = servers[w % servers.len()];
            let key = key.to_owned();
            tokio::spawn(async move {
                for i in 0..appends {
                    let response = put(addr, &key, "append", &format!("<{w}.{i}>")).await;
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
}

#[test]
fn acknowledged_writes_survive_sigkill_and_seeds_are_reset_at_every_start() {
    const WRITERS: usize = 4;
    const PUTS: usize = 25;
    let dir = TempDir::new("crash");
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();
    let rt = runtime();

    let first = start(dir.path(), &["--state-dir", state_arg]);
    let expected = format!("kv: sqlite {}/kv.sqlite3, ", state.display());
    assert!(first.start_line.contains(&expected), "{}", first.start_line);
    assert!(
        first.start_line.contains("stores: data (2 entries)"),
        "{}",
        first.start_line
    );
    let addr = first.addr;
    rt.block_on(async {
        let seeded = get(addr, "seeded").await;
        assert_eq!(seeded.text(), "from fastly.toml");
        assert_eq!(seeded.header("x-metadata"), Some("seed-meta"));
        // Change a seeded key; write others concurrently, each acknowledged before the kill.
        let changed = put(addr, "seeded", "overwrite", "changed by the app").await;
        assert_eq!(changed.status, 200);
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                tokio::spawn(async move {
                    for i in 0..PUTS {
                        let response =
                            put(addr, &format!("k{w}-{i}"), "add", &format!("v{w}-{i}")).await;
                        assert_eq!((response.status, response.text()), (200, "ok".to_owned()));
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    // Right after the last acknowledgement, without any shutdown: the commits are in the
    // write-ahead log, not yet checkpointed into the database file.
    let log = first.log();
    first.kill();
    let wal = std::fs::metadata(state.join("kv.sqlite3-wal")).unwrap();
    assert!(wal.len() > 0, "the WAL holds the writes; log:\n{log}");

    let second = start(dir.path(), &["--state-dir", state_arg]);
    let expected_count = format!("stores: data ({} entries)", WRITERS * PUTS + 2);
    assert!(
        second.start_line.contains(&expected_count),
        "{}",
        second.start_line
    );
    let addr = second.addr;
    rt.block_on(async {
        for w in 0..WRITERS {
            for i in 0..PUTS {
                let response = get(addr, &format!("k{w}-{i}")).await;
                assert_eq!(
                    (response.status, response.text()),
                    (200, format!("v{w}-{i}")),
                    "k{w}-{i} after the kill"
                );
            }
        }
        // The seed is back; the other seeded key was never changed.
        let seeded = get(addr, "seeded").await;
        assert_eq!(seeded.text(), "from fastly.toml");
        assert_eq!(seeded.header("x-metadata"), Some("seed-meta"));
        assert_eq!(get(addr, "seeded-plain").await.text(), "plain seed");
        // A key the app deletes stays deleted across a restart.
        let deleted = request(addr, "DELETE", "/kv/k0-0", &[], b"").await;
        assert_eq!((deleted.status, deleted.text()), (200, "ok".to_owned()));
    });
    second.kill();

    let third = start(dir.path(), &["--state-dir", state_arg]);
    assert!(
        third
            .start_line
            .contains(&format!("stores: data ({} entries)", WRITERS * PUTS + 1)),
        "{}",
        third.start_line
    );
    let addr = third.addr;
    rt.block_on(async {
        assert_eq!(get(addr, "k0-0").await.status, 404);
        assert_eq!(get(addr, "k3-24").await.text(), "v3-24");
    });
    drop(third);

    // --ephemeral ignores the state folder: Viceroy's fresh store on every run.
    let ephemeral = start(dir.path(), &["--ephemeral"]);
    assert!(
        ephemeral
            .start_line
            .contains("kv: in memory (--ephemeral), stores: data (2 entries)"),
        "{}",
        ephemeral.start_line
    );
    let addr = ephemeral.addr;
    rt.block_on(async {
        assert_eq!(get(addr, "k3-24").await.status, 404);
        assert_eq!(get(addr, "seeded").await.text(), "from fastly.toml");
    });
    assert!(!dir.path().join(".edgeshim").exists());
}

/// Writers keep writing while the server is killed: every write that was acknowledged is
/// there after the restart, with its value.
#[test]
fn writes_acknowledged_up_to_a_kill_in_mid_traffic_are_kept() {
    const WRITERS: usize = 6;
    let dir = TempDir::new("mid-traffic");
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();
    let rt = runtime();

    let server = start(dir.path(), &["--state-dir", state_arg]);
    let addr = server.addr;
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let acknowledged = acknowledged.clone();
            rt.spawn(async move {
                // Bounded: the kill ends the loop long before this.
                for i in 0..2_000 {
                    let key = format!("w{w}-{i}");
                    let path = format!("/kv/{key}");
                    match try_request(addr, "POST", &path, key.as_bytes()).await {
                        Ok(response) if response.status == 200 => {
                            acknowledged.lock().unwrap().push(key);
                        }
                        Ok(response) => panic!("{key}: {} {}", response.status, response.text()),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 150 {
        assert!(
            Instant::now() < deadline,
            "too slow; log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill();
    let acknowledged: BTreeSet<String> = {
        for task in tasks {
            rt.block_on(task).unwrap();
        }
        acknowledged.lock().unwrap().iter().cloned().collect()
    };

    let restarted = start(dir.path(), &["--state-dir", state_arg]);
    let addr = restarted.addr;
    rt.block_on(async {
        let mut missing = Vec::new();
        for key in &acknowledged {
            let response = get(addr, key).await;
            if (response.status, response.text()) != (200, key.clone()) {
                missing.push(key.clone());
            }
        }
        assert!(
            missing.is_empty(),
            "lost after the kill: {missing:?} of {}",
            acknowledged.len()
        );
    });
}

/// Many workers of one server on the default (SQLite) backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_and_adds_through_one_server() {
    const WRITERS: usize = 8;
    const APPENDS: usize = 50;
    let dir = TempDir::new("one-server");
    let mut options = ServeOptions::new(fixture(APP));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.pool = support::pool(4, false);
    options.kv = KvBackend::Sqlite {
        state_dir: dir.path().join("state"),
    };
    let server = Server {
        running: edgeshim::start(options).await.unwrap(),
    };
    let addr = server.addr();

    append_concurrently(&[addr], "log", WRITERS, APPENDS).await;
    assert_each_token_once(&get(addr, "log").await.text(), WRITERS, APPENDS);
    for round in 0..5 {
        add_race(&[addr], &format!("race{round}"), 20).await;
    }
    server.stop().await;
    assert!(dir.path().join("state/kv.sqlite3").is_file());
}

/// Two server processes sharing one state folder, as two terminals running the same app.
#[test]
fn concurrent_appends_and_adds_through_two_servers_sharing_a_state_folder() {
    const WRITERS: usize = 8;
    const APPENDS: usize = 40;
    let dir = TempDir::new("two-servers");
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();
    let one = start(dir.path(), &["--state-dir", state_arg]);
    let two = start(dir.path(), &["--state-dir", state_arg]);
    let servers = [one.addr, two.addr];
    runtime().block_on(async {
        append_concurrently(&servers, "log", WRITERS, APPENDS).await;
        let from_one = get(one.addr, "log").await.text();
        assert_each_token_once(&from_one, WRITERS, APPENDS);
        assert_eq!(get(two.addr, "log").await.text(), from_one);
        for round in 0..5 {
            add_race(&servers, &format!("race{round}"), 20).await;
        }
    });
}

#[test]
fn the_state_folder_defaults_to_dot_edgeshim_in_the_working_directory() {
    let dir = TempDir::new("default-dir");
    let server = start(dir.path(), &[]);
    assert!(
        server
            .start_line
            .contains("kv: sqlite .edgeshim/kv.sqlite3, stores: data (2 entries)"),
        "{}",
        server.start_line
    );
    let addr = server.addr;
    runtime().block_on(async {
        assert_eq!(put(addr, "k", "overwrite", "v").await.status, 200);
    });
    drop(server);
    assert!(dir.path().join(".edgeshim/kv.sqlite3").is_file());
    // The folder ignores itself, so that it never shows in `git status`.
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".edgeshim/.gitignore")).unwrap(),
        "# Local KV data of edgeshim; see --state-dir.\n*\n"
    );
}

#[test]
fn unusable_state_folders_are_reported_by_path() {
    let dir = TempDir::new("bad-dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();

    let below_file = file.join("state");
    let stderr = failing_start(dir.path(), &["--state-dir", below_file.to_str().unwrap()]);
    assert!(
        stderr.contains(&format!(
            "cannot create the state folder {}: ",
            below_file.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--ephemeral"), "{stderr}");

    let not_a_database = dir.path().join("garbage");
    std::fs::create_dir_all(&not_a_database).unwrap();
    std::fs::write(not_a_database.join("kv.sqlite3"), vec![b'x'; 4096]).unwrap();
    let stderr = failing_start(
        dir.path(),
        &["--state-dir", not_a_database.to_str().unwrap()],
    );
    assert!(
        stderr.contains(&format!(
            "cannot open the KV database {}/kv.sqlite3: file is not a database",
            not_a_database.display()
        )),
        "{stderr}"
    );

    let stderr = failing_start(dir.path(), &["--ephemeral", "--state-dir", "x"]);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
