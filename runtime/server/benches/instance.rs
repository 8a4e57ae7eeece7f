//! `cargo bench -p edgeshim --bench instance`: the instance model's figures (issue 8), measured
//! with wrk, the external load generator users measure with.
//!
//! Apps: the put() doc example (1 KB), a Hono + zod app from npm (`fixtures/app-hono`, 165 KB
//! bundled; `npm ci --prefix fixtures/app-hono` first), and a generated 1 MB app. Modes: the
//! default (a fresh copy of the snapshot per request) and `--reuse-instances`. For each it
//! prints requests/s, p50/p99 latency (c=10), and CPU per request: the CPU time of the whole
//! server process tree (server, snapshot process and its reaped copies) over the run, divided
//! by the requests served. Runs are interleaved and repeated; figures are medians.
//!
//! The official toolchain runs side by side when `viceroy` is on PATH (`cargo install viceroy
//! --locked`): each app is compiled with js-compute 3.46 (installed by npm into
//! `target/bench-official` on first use, or `JS_COMPUTE` naming its CLI) and served by Viceroy
//! with the app's `fastly.toml`, in the same rounds; ratios are then edgeshim over Viceroy as
//! measured. Without it the ratios use the figures measured on this machine class (issue 8),
//! labelled as reference.
//!
//! Environment: `BENCH_SECONDS` (per run, default 5), `BENCH_ROUNDS` (default 3),
//! `BENCH_CONNECTIONS` (default 10).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// js-compute 3.46 on Viceroy 0.22, wrk c=10, on this machine class (issue 8's table).
const REFERENCE_PUT_DOC_RPS: f64 = 760.0;
const REFERENCE_NPM_APP_RPS: f64 = 147.0;

struct App {
    name: &'static str,
    path: PathBuf,
    route: &'static str,
    reference_rps: Option<f64>,
    /// The default mode's target over the official toolchain.
    target: f64,
}

/// The official toolchain: Viceroy, and js-compute's CLI to compile each app for it.
struct Official {
    viceroy: PathBuf,
    js_compute: PathBuf,
    out: PathBuf,
}

impl Official {
    /// Viceroy from PATH and js-compute 3.46 (installed on first use), or why not.
    fn find(root: &Path) -> Result<Self, String> {
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

    /// `app` compiled to wasm (again only when the source is newer), or why not.
    fn compile(&self, app: &App) -> Result<PathBuf, String> {
        let name: String = app
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let wasm = self.out.join(format!("{name}.wasm"));
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        if modified(&wasm).is_some() && modified(&wasm) >= modified(&app.path) {
            return Ok(wasm);
        }
        let output = Command::new(&self.js_compute)
            .arg(&app.path)
            .arg(&wasm)
            .output()
            .map_err(|e| format!("{}: {e}", self.js_compute.display()))?;
        if !output.status.success() {
            return Err(format!(
                "js-compute could not compile {}: {}",
                app.path.display(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(wasm)
    }
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn edgeshim(binary: &Path, app: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(binary)
            .arg("serve")
            .arg(app)
            .args(["--addr", "127.0.0.1:0", "--ephemeral"])
            .args(extra)
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
    fn viceroy(viceroy: &Path, wasm: &Path, config: Option<&Path>) -> Self {
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

    /// CPU seconds used so far by the server and every process below it (reaped children
    /// included, through their parents' cutime/cstime).
    fn tree_cpu(&self) -> f64 {
        fn cpu(pid: u32) -> f64 {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return 0.0;
            };
            let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
            let ticks: f64 = fields[11..15]
                .iter()
                .map(|f| f.parse::<f64>().unwrap())
                .sum();
            let children = support::children(pid).into_iter().map(cpu).sum::<f64>();
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

struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_ms: f64,
}

fn parse_latency(value: &str) -> f64 {
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

fn wrk(server: &Server, route: &str, connections: usize, seconds: u64) -> Run {
    let url = format!("http://{}{route}", server.addr);
    // Warm-up, not measured.
    Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), "-d1s", &url])
        .output()
        .unwrap();
    let cpu_before = server.tree_cpu();
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            &url,
        ])
        .output()
        .unwrap();
    let cpu = server.tree_cpu() - cpu_before;
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

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A 1 MB app: many functions and data tables, like a large bundle; the same bytes each time.
fn large_app(dir: &Path) -> PathBuf {
    let mut text =
        String::from("// Generated by benches/instance.rs: about 1 MB of functions and tables.\n");
    let mut i = 0;
    while text.len() < 1_000_000 {
        let terms: Vec<String> = (0..20).map(|k| (i * 7 + k).to_string()).collect();
        text.push_str(&format!(
            "function helper{i}(a, b) {{ const t = [{}]; return t.reduce((x, y) => x + y * a, b) + {i}; }}\n\
             const table{i} = {{ id: {i}, name: 'entry-{i}', tags: ['a{i}', 'b{i}'], weight: {i}.5 }};\n",
            terms.join(", ")
        ));
        i += 1;
    }
    text.push_str(
        "addEventListener('fetch', (event) => event.respondWith(new Response('world')));\n",
    );
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("large-app.js");
    std::fs::write(&path, text).unwrap();
    path
}

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let connections: usize = std::env::var("BENCH_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("wrk is not installed (apt-get install wrk): nothing measured");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_edgeshim"));
    let mut apps = vec![App {
        name: "put() doc example, 1 KB",
        path: root.join("fixtures/kv-put-doc/index.js"),
        route: "/",
        reference_rps: Some(REFERENCE_PUT_DOC_RPS),
        target: 3.0,
    }];
    if root.join("fixtures/app-hono/node_modules/hono").is_dir() {
        apps.push(App {
            name: "Hono + zod app, 165 KB",
            path: root.join("fixtures/app-hono/src/index.js"),
            route: "/greet/edge?lang=fr",
            reference_rps: Some(REFERENCE_NPM_APP_RPS),
            target: 2.0,
        });
    } else {
        println!("(skipping the npm app: run `npm ci --prefix fixtures/app-hono` first)");
    }
    apps.push(App {
        name: "generated app, 1 MB",
        path: large_app(&root.join("target/bench-instance")),
        route: "/",
        reference_rps: None,
        target: 0.0,
    });
    let official = Official::find(&root);
    println!(
        "instance-model benchmark: wrk -t2 -c{connections}, {rounds} round(s) x {seconds} s, \
         medians; {} CPU(s) shared by wrk and the servers",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    match &official {
        Ok(official) => println!(
            "official toolchain: measured side by side ({} and {})",
            official.viceroy.display(),
            official.js_compute.display()
        ),
        Err(why) => println!(
            "official toolchain: not measured ({why}); ratios use the reference figures of \
             issue 8 (js-compute 3.46 on Viceroy 0.22, this machine class)"
        ),
    }
    println!();
    let modes: [(&str, &[&str]); 3] = [
        ("default", &[]),
        ("reuse", &["--reuse-instances"]),
        (VICEROY, &[]),
    ];
    let mut table = Vec::new();
    for app in &apps {
        for (mode, flags) in modes {
            let server = if mode == VICEROY {
                let Ok(official) = &official else { continue };
                match official.compile(app) {
                    Ok(wasm) => {
                        let config = app.path.parent().unwrap().join("fastly.toml");
                        let config = config.is_file().then_some(config);
                        Server::viceroy(&official.viceroy, &wasm, config.as_deref())
                    }
                    Err(why) => {
                        println!("{:<26} {mode:<8} not measured: {why}", app.name);
                        continue;
                    }
                }
            } else {
                Server::edgeshim(&binary, &app.path, flags)
            };
            // Rounds alternate apps' modes only within an app: a server stays up for its rounds.
            let runs: Vec<Run> = (0..rounds)
                .map(|_| wrk(&server, app.route, connections, seconds))
                .collect();
            let row = (
                app,
                mode,
                median(runs.iter().map(|r| r.rps).collect()),
                median(runs.iter().map(|r| r.p50_ms).collect()),
                median(runs.iter().map(|r| r.p99_ms).collect()),
                median(runs.iter().map(|r| r.cpu_ms).collect()),
            );
            println!(
                "{:<26} {:<8} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  CPU {:>6.3} ms/req",
                app.name, mode, row.2, row.3, row.4, row.5
            );
            table.push(row);
        }
    }
    println!();
    let find = |name: &str, mode: &str| {
        table
            .iter()
            .find(|row| row.0.name == name && row.1 == mode)
            .map(|row| (row.2, row.5))
    };
    let p99 = |name: &str, mode: &str| {
        table
            .iter()
            .find(|row| row.0.name == name && row.1 == mode)
            .map(|row| row.4)
    };
    for app in &apps {
        let (baseline, label) = match (find(app.name, VICEROY), app.reference_rps) {
            (Some((rps, _)), _) => (rps, "Viceroy, measured"),
            (None, Some(reference)) => (reference, "the reference"),
            (None, None) => continue,
        };
        for (mode, target) in [("default", app.target), ("reuse", 20.0)] {
            if target == 0.0 {
                continue;
            }
            if let Some((rps, _)) = find(app.name, mode) {
                let ratio = rps / baseline;
                println!(
                    "{:<26} {mode:<8} {ratio:>5.1}x {label} ({baseline:.0} req/s), target {target}x: {}",
                    app.name,
                    if ratio >= target { "PASS" } else { "FAIL" }
                );
            }
            if let (Some(ours), Some(theirs)) = (p99(app.name, mode), p99(app.name, VICEROY)) {
                println!(
                    "{:<26} {mode:<8} p99 {ours:.2} ms vs Viceroy's {theirs:.2} ms, target no worse: {}",
                    app.name,
                    if ours <= theirs { "PASS" } else { "FAIL" }
                );
            }
        }
    }
    if let (Some((_, small)), Some((_, large))) = (
        find("put() doc example, 1 KB", "default"),
        find("generated app, 1 MB", "default"),
    ) {
        let ratio = large / small;
        println!(
            "CPU per request, 1 MB app / 1 KB app (default mode): {ratio:.2}x, target <= 1.5x: {}",
            if ratio <= 1.5 { "PASS" } else { "FAIL" }
        );
    }
}

/// The mode label of the official toolchain's rows.
const VICEROY: &str = "viceroy";

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}
