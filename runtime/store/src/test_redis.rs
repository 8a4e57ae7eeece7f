//! Redis servers that the tests start themselves: `redis-server` on a free loopback port,
//! without persistence, in a temporary folder.
//!
//! Each server runs under a small `sh` watchdog that holds the read end of a pipe whose write
//! end only this test process has: when the process ends, however it ends, the watchdog
//! stops the server. So the server shared by a whole test run ([`shared`]) never outlives it.
//!
//! Without `redis-server` installed the Redis tests are skipped with a message, unless the
//! environment variable `CI` is set: there they must run (`.ci/run` installs the server).
#![allow(clippy::unwrap_used)]

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::{Clock, KvStore, RedisStore};

/// Starts `redis-server` (args: port, folder, whether to delete the folder at the end),
/// stops it when standard input closes, and exits when the server exits (for instance
/// because the port was taken).
const WATCHDOG: &str = r#"
exec 3<&0
mkdir -p "$2"
redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$2" --logfile "$2/redis.log" 3<&- </dev/null &
pid=$!
{ read _ignored <&3; kill "$pid" 2>/dev/null; } &
reader=$!
wait "$pid"
kill "$reader" 2>/dev/null
if [ "$3" = cleanup ]; then rm -rf "$2"; fi
"#;

/// A `redis-server` child of the tests.
pub(crate) struct RedisServer {
    port: u16,
    dir: PathBuf,
    /// Removed when the server is dropped (private servers only).
    _temp: Option<tempfile::TempDir>,
    cleanup: bool,
    watchdog: Option<(Child, ChildStdin)>,
}

impl RedisServer {
    /// A new server of its own on a free port; `None` (after saying why) when `redis-server`
    /// is missing outside CI.
    pub(crate) fn start() -> Option<Self> {
        if !installed() {
            return None;
        }
        let temp = tempfile::Builder::new()
            .prefix("edgeshim-redis-")
            .tempdir()
            .unwrap();
        let mut server = Self {
            port: 0,
            dir: temp.path().to_owned(),
            _temp: Some(temp),
            cleanup: false,
            watchdog: None,
        };
        server.launch_anywhere();
        Some(server)
    }

    /// `redis://127.0.0.1:<port>/`
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops the server and waits for it to exit; its data is lost.
    pub(crate) fn stop(&mut self) {
        if let Some((mut child, stdin)) = self.watchdog.take() {
            drop(stdin);
            child.wait().unwrap();
        }
    }

    /// Starts the server again, on the same port.
    pub(crate) fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Starts the server on a free port, trying another when the port is taken meanwhile.
    fn launch_anywhere(&mut self) {
        for _ in 0..5 {
            self.port = free_port();
            if self.try_launch().is_ok() {
                return;
            }
        }
        self.launch();
    }

    fn launch(&mut self) {
        if let Err(error) = self.try_launch() {
            panic!(
                "redis-server on port {} did not start: {error}\n{}",
                self.port,
                log(&self.dir)
            );
        }
    }

    fn try_launch(&mut self) -> Result<(), String> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(self.port.to_string())
            .arg(&self.dir)
            .arg(if self.cleanup { "cleanup" } else { "keep" })
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        self.watchdog = Some((child, stdin));
        self.wait_ready()
    }

    /// Waits until our server answers on the port: one in our folder, not another test's
    /// server that took the port first.
    fn wait_ready(&mut self) -> Result<(), String> {
        let client = ::redis::Client::open(self.url()).unwrap();
        let ours = std::fs::canonicalize(&self.dir).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some((child, _)) = &mut self.watchdog {
                if child.try_wait().unwrap().is_some() {
                    self.watchdog = None;
                    return Err("redis-server exited".to_owned());
                }
            }
            let dir = client
                .get_connection_with_timeout(Duration::from_secs(1))
                .and_then(|mut conn| {
                    ::redis::cmd("CONFIG")
                        .arg("GET")
                        .arg("dir")
                        .query::<(String, String)>(&mut conn)
                });
            match dir {
                Ok((_, dir)) if Path::new(&dir) == ours => return Ok(()),
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                Ok((_, dir)) => {
                    self.stop();
                    return Err(format!("another server answers, in {dir}"));
                }
                Err(error) => {
                    self.stop();
                    return Err(error.to_string());
                }
            }
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn log(dir: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(dir.join("redis.log")) {
        let _ = file.read_to_string(&mut text);
    }
    text
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether `redis-server` can be run; outside CI, says so when it cannot.
fn installed() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is not installed, and CI is set: the Redis tests must run in CI \
                 (.ci/run installs it with apt-get install redis-server)"
            );
            // Straight to the stream, past the test harness's capture of `eprintln!`, so
            // that the skip shows in a normal run.
            let _ = writeln!(
                std::io::stderr(),
                "note: skipping the Redis backend tests: redis-server is not installed \
                 (apt-get install redis-server); in CI they run"
            );
        }
        found
    })
}

/// The server the whole test run shares; tests keep apart through their key prefixes
/// ([`fresh_prefix`]).
pub(crate) fn shared() -> Option<&'static RedisServer> {
    static SHARED: OnceLock<Option<RedisServer>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            if !installed() {
                return None;
            }
            // Never dropped: the watchdog stops the server and removes the folder when the
            // test process ends.
            let dir = tempfile::Builder::new()
                .prefix("edgeshim-redis-")
                .tempdir()
                .unwrap()
                .keep();
            let mut server = RedisServer {
                port: 0,
                dir,
                _temp: None,
                cleanup: true,
                watchdog: None,
            };
            server.launch_anywhere();
            Some(server)
        })
        .as_ref()
}

/// A key prefix no other test of this run uses.
pub(crate) fn fresh_prefix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("test{}:", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Opens store "s" under a fresh prefix of the shared server; every call opens another
/// handle on that same store. `None` when Redis tests are skipped.
pub(crate) fn opener() -> Option<impl Fn(Arc<dyn Clock>) -> Arc<dyn KvStore>> {
    let url = shared()?.url();
    let prefix = fresh_prefix();
    Some(move |clock| -> Arc<dyn KvStore> {
        Arc::new(RedisStore::connect_with_prefix(&url, &prefix, "s", clock).unwrap())
    })
}
