//! `cargo bench -p edgeshim --bench cache`: what a cache hit costs next to a KV get (issue
//! 12). `fixtures/cache-bench` answers the same 1 KiB value from a KV store (`/kv`) and from
//! the edge cache (`/cache`); wrk (c=1, one thread) measures both on edgeshim and, when
//! `viceroy` is on PATH, on the official toolchain (js-compute 3.46 on Viceroy) in the same
//! rounds. Printed: median p50 latency of each route, and the cache hit's ratio to the KV get.
//!
//! Environment: `BENCH_SECONDS` (per run, default 5), `BENCH_ROUNDS` (default 3).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{median, wrk, Official, Server};

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
    let app = root.join("fixtures/cache-bench/index.js");
    let config = root.join("fixtures/cache-bench/fastly.toml");
    let config_arg = config.to_string_lossy().into_owned();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_edgeshim"));
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
        let wasm = o.compile("cache-bench", &app)?;
        Ok(Server::viceroy(&o.viceroy, &wasm, Some(&config)))
    }) {
        Ok(viceroy) => servers.push(("viceroy", viceroy)),
        Err(why) => println!("official toolchain: not measured ({why})"),
    }
    println!(
        "cache benchmark: wrk -t1 -c1, {rounds} round(s) x {seconds} s, medians of p50 latency"
    );
    let routes = ["/kv", "/cache"];
    let mut runs: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); routes.len()]; servers.len()];
    for _ in 0..rounds {
        for (s, (_, server)) in servers.iter().enumerate() {
            for (r, route) in routes.iter().enumerate() {
                runs[s][r].push(wrk(server, route, 1, seconds).p50_ms);
            }
        }
    }
    for ((name, _), runs) in servers.iter().zip(runs) {
        let kv = median(runs[0].clone());
        let cache = median(runs[1].clone());
        println!(
            "{name:<18} KV get p50 {kv:>6.3} ms   cache hit p50 {cache:>6.3} ms   cache/KV {:.2}x",
            cache / kv
        );
    }
}
