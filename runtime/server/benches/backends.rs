//! `cargo bench -p edgeshim --bench backends`: what a proxied request costs (issue 10). An
//! origin in this process answers `hello`; wrk (c=1, one thread) measures it directly, then
//! through `fixtures/app-proxy` (a reverse proxy: header rewrite, cache key, failover) on
//! edgeshim in both modes and, when `viceroy` is on PATH, on the official toolchain
//! (js-compute 3.46 on Viceroy) in the same rounds. Printed: median p50 latency of each, and
//! the latency each proxy adds over the direct request. Target: edgeshim's added latency
//! within 0.2 ms of Viceroy's (or of nothing, when Viceroy is not installed).
//!
//! Environment: `BENCH_SECONDS` (per run, default 5), `BENCH_ROUNDS` (default 3).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod support;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{median, wrk, wrk_at, Official, Server};

/// An origin answering `hello` on a free loopback port, on its own runtime thread.
fn start_origin() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_request| async {
                        Ok::<_, Infallible>(hyper::Response::new(http_body_util::Full::new(
                            bytes::Bytes::from_static(b"hello"),
                        )))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    addr
}

fn main() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let (seconds, rounds) = (env("BENCH_SECONDS", 5), env("BENCH_ROUNDS", 3));
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("wrk is not installed (apt-get install wrk): nothing measured");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let origin = start_origin();
    let dir = root.join("target/bench-backends");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("fastly.toml");
    std::fs::write(
        &config,
        format!(
            "[local_server.backends.primary]\nurl = \"http://{origin}\"\n\
             [local_server.backends.secondary]\nurl = \"http://{origin}\"\n"
        ),
    )
    .unwrap();
    let app = root.join("fixtures/app-proxy/index.js");
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_edgeshim"));
    let config_arg = config.to_string_lossy().into_owned();
    let mut servers: Vec<(&str, Server)> = vec![
        (
            "edgeshim default",
            Server::edgeshim(&binary, &app, &["-C", &config_arg]),
        ),
        (
            "edgeshim reuse",
            Server::edgeshim(&binary, &app, &["-C", &config_arg, "--reuse-instances"]),
        ),
    ];
    match Official::find(&root).and_then(|o| {
        let wasm = o.compile("app-proxy", &app)?;
        Ok(Server::viceroy(&o.viceroy, &wasm, Some(&config)))
    }) {
        Ok(viceroy) => servers.push(("viceroy", viceroy)),
        Err(why) => println!("official toolchain: not measured ({why})"),
    }
    println!(
        "backend benchmark: wrk -t1 -c1, {rounds} round(s) x {seconds} s, medians of p50 latency"
    );
    let mut direct = Vec::new();
    let mut proxied: Vec<Vec<f64>> = vec![Vec::new(); servers.len()];
    for _ in 0..rounds {
        direct.push(wrk_at(origin, "/hello", 1, seconds, || 0.0).p50_ms);
        for (i, (_, server)) in servers.iter().enumerate() {
            proxied[i].push(wrk(server, "/hello", 1, seconds).p50_ms);
        }
    }
    let direct = median(direct);
    println!("{:<18} p50 {direct:>6.3} ms", "direct to origin");
    let mut added = Vec::new();
    for ((name, _), runs) in servers.iter().zip(proxied) {
        let p50 = median(runs);
        println!(
            "{name:<18} p50 {p50:>6.3} ms  adds {:>6.3} ms",
            p50 - direct
        );
        added.push((*name, p50 - direct));
    }
    let viceroy = added.iter().find(|(n, _)| *n == "viceroy").map(|(_, a)| *a);
    for (name, ours) in added.iter().filter(|(n, _)| n.starts_with("edgeshim")) {
        let (baseline, label) = viceroy.map_or((0.0, "nothing"), |v| (v, "Viceroy's"));
        println!(
            "{name:<18} adds {:+.3} ms over {label} added latency, target within 0.2 ms: {}",
            ours - baseline,
            if ours - baseline <= 0.2 {
                "PASS"
            } else {
                "FAIL"
            }
        );
    }
}
