//! `cargo bench -p edgeshim --bench cache`: what a cache hit costs next to a KV get (issue
//! 12). `fixtures/cache-bench` answers the same 1 KiB value from a KV store (`/kv`), from the
//! edge cache (`/cache`), and from a loopback origin this bench starts, fetched through the
//! readthrough cache (`/fetch`, a hit after the first) and past it (`/pass`, an origin round
//! trip each time); wrk (c=1, one thread) measures each on edgeshim and, when `viceroy` is on
//! PATH, on the official toolchain (js-compute 3.46 on Viceroy, which has no readthrough
//! cache: its `/fetch` goes to the origin) in the same rounds. Printed: median p50 latency of
//! each route, the cache hit's ratio to the KV get, and the readthrough hit's to the pass.
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
    // The fixture's fastly.toml, plus the backend `origin` at this bench's origin.
    let origin = start_origin();
    let config = std::env::temp_dir().join(format!("cache-bench-{}.toml", std::process::id()));
    let fixture_config =
        std::fs::read_to_string(root.join("fixtures/cache-bench/fastly.toml")).unwrap();
    std::fs::write(
        &config,
        format!("{fixture_config}\n[local_server.backends.origin]\nurl = \"http://{origin}\"\n"),
    )
    .unwrap();
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
    let routes = ["/kv", "/cache", "/fetch", "/pass"];
    let mut runs: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); routes.len()]; servers.len()];
    for _ in 0..rounds {
        for (s, (_, server)) in servers.iter().enumerate() {
            for (r, route) in routes.iter().enumerate() {
                runs[s][r].push(wrk(server, route, 1, seconds).p50_ms);
            }
        }
    }
    for ((name, _), runs) in servers.iter().zip(runs) {
        let [kv, cache, fetch, pass] = [0, 1, 2, 3].map(|r| median(runs[r].clone()));
        println!(
            "{name:<18} KV get p50 {kv:>6.3} ms   cache hit p50 {cache:>6.3} ms   cache/KV {:.2}x",
            cache / kv
        );
        println!(
            "{:<18} fetch (readthrough) p50 {fetch:>6.3} ms   pass p50 {pass:>6.3} ms   fetch/pass {:.2}x",
            "",
            fetch / pass
        );
    }
    let _ = std::fs::remove_file(&config);
}

/// A loopback origin answering every request with 1 KiB and `Cache-Control: max-age=3600`,
/// keeping connections alive; one thread per connection, for the bench's lifetime.
fn start_origin() -> std::net::SocketAddr {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let body = "x".repeat(1024);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncache-control: max-age=3600\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let mut writer = match stream.try_clone() {
                    Ok(writer) => writer,
                    Err(_) => return,
                };
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                loop {
                    // One request head (these requests have no body), then the answer.
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => {
                            if writer.write_all(answer.as_bytes()).is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                    }
                }
            });
        }
    });
    addr
}
