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
//! The ratios use the official toolchain's figures measured on this machine class (js-compute
//! 3.46 on Viceroy 0.22, issue 8), labelled as reference: running Viceroy side by side is not
//! automated yet (it needs its wasm builds of each app).
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
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(binary: &Path, app: &Path, extra: &[&str]) -> Self {
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
    }];
    if root.join("fixtures/app-hono/node_modules/hono").is_dir() {
        apps.push(App {
            name: "Hono + zod app, 165 KB",
            path: root.join("fixtures/app-hono/src/index.js"),
            route: "/greet/edge?lang=fr",
            reference_rps: Some(REFERENCE_NPM_APP_RPS),
        });
    } else {
        println!("(skipping the npm app: run `npm ci --prefix fixtures/app-hono` first)");
    }
    apps.push(App {
        name: "generated app, 1 MB",
        path: large_app(&root.join("target/bench-instance")),
        route: "/",
        reference_rps: None,
    });
    let official = which("viceroy").is_some();
    println!(
        "instance-model benchmark: wrk -t2 -c{connections}, {rounds} round(s) x {seconds} s, \
         medians; {} CPU(s) shared by wrk and the servers",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "official toolchain: {}",
        if official {
            "viceroy is on PATH, but running it side by side is not automated yet; ratios use \
             the reference figures of issue 8"
        } else {
            "not installed (viceroy not on PATH); ratios use the reference figures of issue 8 \
             (js-compute 3.46 on Viceroy 0.22, this machine class), not measured here"
        }
    );
    println!();
    let modes: [(&str, &[&str]); 2] = [("default", &[]), ("reuse", &["--reuse-instances"])];
    let mut table = Vec::new();
    for app in &apps {
        for (mode, flags) in modes {
            let server = Server::start(&binary, &app.path, flags);
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
    for app in &apps {
        let Some(reference) = app.reference_rps else {
            continue;
        };
        for (mode, target) in [
            (
                "default",
                if app.reference_rps == Some(REFERENCE_PUT_DOC_RPS) {
                    3.0
                } else {
                    2.0
                },
            ),
            ("reuse", 20.0),
        ] {
            if let Some((rps, _)) = find(app.name, mode) {
                let ratio = rps / reference;
                println!(
                    "{:<26} {mode:<8} {ratio:>5.1}x the reference ({reference:.0} req/s), target {target}x: {}",
                    app.name,
                    if ratio >= target { "PASS" } else { "FAIL" }
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

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}
