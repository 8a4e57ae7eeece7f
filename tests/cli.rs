//! The `edgeshim` binary as a user runs it: start-up errors, the start-up log line, serving,
//! and shutting down on SIGTERM.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::fixture;

fn edgeshim() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_edgeshim"));
    command.env("NO_COLOR", "1").env_remove("RUST_LOG");
    command
}

/// Runs `edgeshim serve ARGS` expecting it to fail at start; returns its stderr.
fn failing_start(args: &[&str]) -> String {
    let output = edgeshim()
        .arg("serve")
        .args(args)
        .args(["--addr", "127.0.0.1:0", "--ephemeral"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success(), "it should not start");
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn syntax_error_names_file_line_and_column() {
    let app = fixture("kv-put-doc-damaged/index.js");
    let stderr = failing_start(&[app.to_str().unwrap()]);
    let canonical = app.canonicalize().unwrap();
    let expected = format!(
        "{}:14:68: SyntaxError: abrupt end: the file ended inside a block, call or string; \
         a closing '}}', ')' or quote is probably missing",
        canonical.display()
    );
    assert!(stderr.contains(&expected), "stderr was:\n{stderr}");
    assert!(
        stderr
            .contains("14 | addEventListener(\"fetch\", (event) => event.respondWith(app(event)))"),
        "the offending line is shown; stderr was:\n{stderr}"
    );
    assert!(!stderr.contains("serving"), "it must not listen");
}

#[test]
fn syntax_error_in_an_imported_file_names_that_file() {
    let app = fixture("import-syntax-error/index.js");
    let stderr = failing_start(&[app.to_str().unwrap()]);
    let imported = fixture("import-syntax-error/lib/greet.js")
        .canonicalize()
        .unwrap();
    assert!(
        stderr.contains(&format!("{}:2:19: SyntaxError: ", imported.display())),
        "stderr was:\n{stderr}"
    );
    assert!(
        stderr.contains("2 |   return \"hello\" +;"),
        "stderr was:\n{stderr}"
    );
}

#[test]
fn unknown_fastly_module_is_named() {
    let app = fixture("unknown-module/index.js");
    let stderr = failing_start(&[app.to_str().unwrap()]);
    assert!(
        stderr.contains("Unknown built-in module 'fastly:nope' imported from"),
        "stderr was:\n{stderr}"
    );
    assert!(
        stderr.contains("edgeshim provides: fastly:kv-store"),
        "stderr was:\n{stderr}"
    );
}

#[test]
fn missing_app_is_reported() {
    let stderr = failing_start(&["does-not-exist.js"]);
    assert!(
        stderr.contains("cannot read the app does-not-exist.js: No such file or directory"),
        "stderr was:\n{stderr}"
    );
}

#[test]
fn bad_seed_stops_the_start_naming_store_and_entry() {
    let dir = std::env::temp_dir().join(format!("edgeshim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("fastly.toml");
    std::fs::write(
        &config,
        "[local_server.kv_stores]\nfiles = [{ key = \"ok\", data = \"1\" }, { key = \"..\", data = \"2\" }]\n",
    )
    .unwrap();
    let app = fixture("kv-put-doc/index.js");
    let stderr = failing_start(&[app.to_str().unwrap(), "-C", config.to_str().unwrap()]);
    assert!(
        stderr.contains("store \"files\", entry at index 1 (key \"..\")"),
        "stderr was:\n{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn serves_logs_and_stops_on_sigterm() {
    let (mut child, addr, start_line, mut lines) = spawn_server(&fixture("kv-put-doc/index.js"));
    assert!(
        start_line.contains("stores: files (0 entries)"),
        "{start_line}"
    );
    assert!(
        start_line.contains("each request in a fresh copy of it (Compute's model), 1 worker"),
        "{start_line}"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let response = runtime.block_on(support::request(addr, "GET", "/hello?x=1", &[], b""));
    assert_eq!(
        (response.status, response.body.as_slice()),
        (200, &b"world"[..])
    );

    let access = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|l| l.contains("edgeshim::access"))
        .unwrap();
    assert!(access.contains("GET /hello 200 "), "{access}");
    assert!(access.ends_with("ms"), "{access}");

    // Keep reading the log so that what the server says while stopping is seen.
    let rest =
        std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let rest = rest.join().unwrap();
            assert!(
                status.success(),
                "graceful shutdown exits 0, got {status}; log:\n{rest}"
            );
            assert!(rest.contains("INFO edgeshim: stopped"), "log:\n{rest}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

type LogLines = std::io::Lines<BufReader<std::process::ChildStderr>>;

/// Starts `app` on a free port with one worker; returns the child, its address, the
/// start-up log line and the rest of its stderr.
/// A server process that is killed when the test ends, passing or failing, so that a
/// failed test never leaves a server holding the test runner's output open.
struct KillOnDrop(std::process::Child);

impl std::ops::Deref for KillOnDrop {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_server(app: &std::path::Path) -> (KillOnDrop, std::net::SocketAddr, String, LogLines) {
    let child = edgeshim()
        .args([
            "serve",
            app.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
            "--workers",
            "1",
            "--ephemeral",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let start_line = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|l| l.contains("serving"))
        .expect("a start-up line");
    let addr = start_line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    (child, addr, start_line, lines)
}

#[test]
fn errors_and_console_output_reach_the_log() {
    let (mut child, addr, _, mut lines) = spawn_server(&fixture("errors/index.js"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let thrown = runtime.block_on(support::request(addr, "GET", "/throw", &[], b""));
    assert_eq!(thrown.status, 500);
    let logged = runtime.block_on(support::request(addr, "GET", "/log", &[], b""));
    assert_eq!(logged.text(), "logged");
    child.kill().unwrap();
    child.wait().unwrap();
    let log: Vec<String> = lines.by_ref().map(Result::unwrap).collect();
    let log = log.join("\n");
    let app = fixture("errors/index.js").canonicalize().unwrap();
    for expected in [
        "ERROR request{id=1 method=GET path=\"/throw\"}: edgeshim::http: uncaught exception in the fetch event handler: TypeError: handler exploded".to_owned(),
        format!("    at <main> ({}:7:13)", app.display()),
        "INFO request{id=2 method=GET path=\"/log\"}: edgeshim::console: plain log {\n    answer: 42\n}".to_owned(),
        "WARN request{id=2 method=GET path=\"/log\"}: edgeshim::console: a warning".to_owned(),
        "ERROR request{id=2 method=GET path=\"/log\"}: edgeshim::console: an error".to_owned(),
    ] {
        assert!(log.contains(&expected), "missing {expected:?} in:\n{log}");
    }
}
