//! The `edgeshim` binary as a separate process: started on a free loopback port with its
//! log drained on a thread, killed when dropped; and temporary folders for state.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A fresh folder under the system's temporary folder, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "edgeshim-test-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn serve_command(app: &Path, cwd: Option<&Path>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_edgeshim"));
    command.arg("serve");
    // An empty APP: none on the command line (the project in `cwd` is served).
    if !app.as_os_str().is_empty() {
        command.arg(app);
    }
    command.args(["--addr", "127.0.0.1:0"]).args(args);
    if !args.contains(&"--cpu-limit") {
        // The tests run a debug build, far slower than the release build Compute's 50 ms of
        // CPU per request is meant for (see `support::test_limits`).
        command.args(["--cpu-limit", "10000"]);
    }
    command
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    command
}

/// `edgeshim serve APP --addr 127.0.0.1:0 ARGS`, listening; killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    pub start_line: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts the server (in `cwd`, when given) and waits until it listens.
    pub fn start(app: &Path, cwd: Option<&Path>, args: &[&str]) -> Self {
        let mut child = serve_command(app, cwd, args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut early = Vec::new();
        let start_line = loop {
            match lines.next() {
                Some(line) => {
                    let line = line.unwrap();
                    if line.contains("serving") {
                        break line;
                    }
                    early.push(line);
                }
                None => panic!("the server did not start; its log:\n{}", early.join("\n")),
            }
        };
        let addr = start_line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
        // Keep draining the log, so that the server never blocks on a full pipe.
        let log = Arc::new(Mutex::new(early));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            addr,
            start_line,
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL (no shutdown code runs) and waits for it.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM and waits for the process to exit; returns how long that took.
    pub fn terminate(mut self) -> (std::process::ExitStatus, std::time::Duration) {
        let started = std::time::Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = started + std::time::Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, started.elapsed());
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still running 30 s after SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Everything the server logged so far, one line each.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `edgeshim serve APP ARGS` expecting it to fail before listening; returns its stderr.
pub fn failing_start(app: &Path, cwd: Option<&Path>, args: &[&str]) -> String {
    let output = serve_command(app, cwd, args)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success(), "it should not start:\n{stderr}");
    assert!(!stderr.contains("serving"), "{stderr}");
    stderr
}
