//! Shared by the benchmarks: servers under test (edgeshim, and the official toolchain:
//! js-compute 3.46 compiling for Viceroy), wrk runs and their figures, and the process tree of
//! a server (it starts a snapshot process, which forks a copy per request), read from /proc.

#![allow(dead_code, clippy::unwrap_used, clippy::print_stdout)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The processes `pid` started (Linux; none elsewhere).
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The official toolchain: Viceroy, and js-compute's CLI to compile each app for it.
pub struct Official {
    pub viceroy: PathBuf,
    pub js_compute: PathBuf,
    out: PathBuf,
}

impl Official {
    /// Viceroy from PATH and js-compute 3.46 (installed on first use), or why not.
    pub fn find(root: &Path) -> Result<Self, String> {
        let viceroy =
            which("viceroy").ok_or("viceroy is not on PATH (cargo install viceroy --locked)")?;
        let out = root.join("target/bench-official");
        let js_compute = match std::env::var_os("JS_COMPUTE") {
            Some(cli) => PathBuf::from(cli),
            None => {
                let cli = out.join("node_modules/.bin/js-compute-runtime");
                if !cli.is_file() {
                    println!(
                        "installing @fastly/js-compute@3.46.0 into {}",
                        out.display()
                    );
                    std::fs::create_dir_all(&out).unwrap();
                    let status = Command::new("npm")
                        .args(["install", "--no-audit", "--no-fund", "--prefix"])
                        .arg(&out)
                        .arg("@fastly/js-compute@3.46.0")
                        .status()
                        .map_err(|e| format!("npm: {e}"))?;
                    if !status.success() {
                        return Err(format!(
                            "npm install @fastly/js-compute@3.46.0 failed: {status}"
                        ));
                    }
                }
                cli
            }
        };
        Ok(Self {
            viceroy,
            js_compute,
            out,
        })
    }

    /// The app at `path` compiled to wasm (again only when the source is newer), or why not.
    pub fn compile(&self, name: &str, path: &Path) -> Result<PathBuf, String> {
        let name: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let wasm = self.out.join(format!("{name}.wasm"));
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        if modified(&wasm).is_some() && modified(&wasm) >= modified(path) {
            return Ok(wasm);
        }
        let output = Command::new(&self.js_compute)
            .arg(path)
            .arg(&wasm)
            .output()
            .map_err(|e| format!("{}: {e}", self.js_compute.display()))?;
        if !output.status.success() {
            return Err(format!(
                "js-compute could not compile {}: {}",
                path.display(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(wasm)
    }
}

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    pub fn edgeshim(binary: &Path, app: &Path, extra: &[&str]) -> Self {
        Self::edgeshim_with_env(binary, app, extra, &[])
    }

    /// [`Server::edgeshim`] with environment variables set for the server.
    pub fn edgeshim_with_env(
        binary: &Path,
        app: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        Self::edgeshim_on(binary, app, &["--ephemeral"], extra, env)
    }

    /// [`Server::edgeshim_with_env`] with the KV backend's flags (`--ephemeral`,
    /// `--state-dir DIR`, `--kv-backend URL`).
    pub fn edgeshim_on(
        binary: &Path,
        app: &Path,
        backend: &[&str],
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let mut child = Command::new(binary)
            .arg("serve")
            .arg(app)
            .args(["--addr", "127.0.0.1:0"])
            .args(backend)
            .args(extra)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn,edgeshim=info,edgeshim::access=warn")
            .env("NO_COLOR", "1")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server stopped before listening")
                .unwrap();
            if let Some(rest) = line.split("http://").nth(1) {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Self { child, addr }
    }

    /// Viceroy serving `wasm` with `config`, on a free loopback port, once it accepts.
    pub fn viceroy(viceroy: &Path, wasm: &Path, config: Option<&Path>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut command = Command::new(viceroy);
        command
            .arg("serve")
            .args(["--addr", &addr.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(config) = config {
            command.arg("-C").arg(config);
        }
        let child = command.arg(wasm).spawn().unwrap();
        let server = Self { child, addr };
        // Viceroy compiles the wasm before it listens: up to a minute for a large app.
        for _ in 0..600 {
            if std::net::TcpStream::connect(addr).is_ok() {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("viceroy did not listen on {addr} within 60 s");
    }

    /// Resident memory of the processes that live as long as the server, in KiB (Linux):
    /// the server and its snapshot process, not the copies that serve one request each (they
    /// share the snapshot's pages, so adding their RSS would count those many times).
    pub fn lasting_rss_kib(&self) -> u64 {
        fn rss(pid: u32) -> u64 {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|status| {
                    status
                        .lines()
                        .find_map(|l| l.strip_prefix("VmRSS:"))
                        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
                })
                .unwrap_or(0)
        }
        let pid = self.child.id();
        rss(pid) + children(pid).into_iter().map(rss).sum::<u64>()
    }

    /// CPU seconds used so far by the server and every process below it (reaped children
    /// included, through their parents' cutime/cstime).
    pub fn tree_cpu(&self) -> f64 {
        fn cpu(pid: u32) -> f64 {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return 0.0;
            };
            let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
            let ticks: f64 = fields[11..15]
                .iter()
                .map(|f| f.parse::<f64>().unwrap())
                .sum();
            let children = children(pid).into_iter().map(cpu).sum::<f64>();
            ticks / 100.0 + children
        }
        cpu(self.child.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Run {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub cpu_ms: f64,
}

pub fn parse_latency(value: &str) -> f64 {
    let value = value.trim();
    let (number, scale) = if let Some(n) = value.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = value.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (value, 1.0)
    };
    number.parse::<f64>().unwrap_or(f64::NAN) * scale
}

pub fn wrk(server: &Server, route: &str, connections: usize, seconds: u64) -> Run {
    wrk_at(server.addr, route, connections, seconds, || {
        server.tree_cpu()
    })
}

/// wrk against `addr` (two threads, one for c=1); `cpu` reads the CPU
/// seconds of what serves it, for CPU per request.
pub fn wrk_at(
    addr: SocketAddr,
    route: &str,
    connections: usize,
    seconds: u64,
    cpu: impl Fn() -> f64,
) -> Run {
    let threads = format!("-t{}", connections.clamp(1, 2));
    let url = format!("http://{addr}{route}");
    // Warm-up, not measured.
    Command::new("wrk")
        .args([&threads, &format!("-c{connections}"), "-d1s", &url])
        .output()
        .unwrap();
    let cpu_before = cpu();
    let output = Command::new("wrk")
        .args([
            &threads,
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            &url,
        ])
        .output()
        .unwrap();
    let cpu = cpu() - cpu_before;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut run = Run {
        rps: 0.0,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        cpu_ms: f64::NAN,
    };
    let mut requests = 0.0;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            run.rps = rest.trim().parse().unwrap_or(0.0);
        } else if let Some(rest) = line.strip_prefix("50%") {
            run.p50_ms = parse_latency(rest);
        } else if let Some(rest) = line.strip_prefix("99%") {
            run.p99_ms = parse_latency(rest);
        } else if line.contains("requests in") {
            requests = line
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap_or(0.0);
        } else if line.starts_with("Non-2xx") || line.starts_with("Socket errors") {
            println!("    wrk: {line}");
        }
    }
    if requests > 0.0 {
        run.cpu_ms = cpu * 1000.0 / requests;
    }
    run
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}
