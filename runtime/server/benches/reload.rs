//! `cargo bench -p edgeshim --bench reload`: from saving the app to the first response of the
//! new version (issue 13: under 100 ms). `edgeshim serve --watch` serves a small app; each
//! round saves a new version and polls `GET /` on the loopback (a fresh connection each
//! time, 1 ms apart) until it answers with it. Beside it, when `viceroy` is on PATH, the
//! official path for the same edit: js-compute 3.46 compiles the app, Viceroy starts on the
//! wasm, and the first response arrives (what `fastly compute serve --watch` does on a save).
//! Printed: median, fastest and slowest of each, and their ratio.
//!
//! Environment: `BENCH_ROUNDS` (edgeshim saves, default 20), `BENCH_OFFICIAL_ROUNDS`
//! (default 3).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{median, Official, Server};

fn app(version: usize) -> String {
    format!(
        "// A small app for the reload benchmark.\n\
         addEventListener(\"fetch\", (event) => event.respondWith(new Response(\"version {version}\")));\n"
    )
}

/// The body of `GET /`, or `None` while nothing answers.
fn body(addr: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    raw.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())
}

/// Polls until `addr` answers `expected` (at most 30 s); the time from `since`.
fn first_answer(addr: SocketAddr, expected: &str, since: Instant) -> f64 {
    let deadline = since + Duration::from_secs(30);
    while Instant::now() < deadline {
        if body(addr).as_deref() == Some(expected) {
            return since.elapsed().as_secs_f64() * 1000.0;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("no answer {expected:?} within 30 s");
}

fn summary(name: &str, times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    let middle = median(times.to_vec());
    println!(
        "{name:<40} median {middle:>9.1} ms   fastest {:>9.1} ms   slowest {:>9.1} ms   ({} saves)",
        times[0],
        times[times.len() - 1],
        times.len()
    );
    middle
}

fn main() {
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("edgeshim-reload-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let entry = dir.join("app.js");
    std::fs::write(&entry, app(0)).unwrap();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_edgeshim"));
    let server = Server::edgeshim(&binary, &entry, &["--watch"]);
    first_answer(server.addr, "version 0", Instant::now());
    let mut edgeshim = Vec::new();
    for version in 1..=env("BENCH_ROUNDS", 20) {
        // Apart, so that each save is a reload of its own.
        std::thread::sleep(Duration::from_millis(150));
        let saved = Instant::now();
        std::fs::write(&entry, app(version)).unwrap();
        edgeshim.push(first_answer(
            server.addr,
            &format!("version {version}"),
            saved,
        ));
    }
    drop(server);
    println!("reload benchmark: save to the first response of the new version");
    let ours = summary("edgeshim serve --watch", &mut edgeshim);
    match Official::find(&root) {
        Ok(official) => {
            let mut times = Vec::new();
            for version in 1..=env("BENCH_OFFICIAL_ROUNDS", 3) {
                let saved = Instant::now();
                std::fs::write(&entry, app(version)).unwrap();
                let wasm = match official.compile(&format!("reload-{version}"), &entry) {
                    Ok(wasm) => wasm,
                    Err(why) => {
                        println!("official toolchain: not measured ({why})");
                        break;
                    }
                };
                let viceroy = Server::viceroy(&official.viceroy, &wasm, None);
                times.push(first_answer(
                    viceroy.addr,
                    &format!("version {version}"),
                    saved,
                ));
            }
            if !times.is_empty() {
                let theirs = summary("js-compute 3.46 build + Viceroy start", &mut times);
                println!("official / edgeshim: {:.0}x", theirs / ours);
            }
        }
        Err(why) => println!("official toolchain: not measured ({why})"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
