//! `cargo bench -p edgeshim --bench startup`: how long a project with 300 modules in
//! node_modules takes from `edgeshim serve` to its first response (issue 9: under 300 ms).
//! The project is generated: an app importing a package whose 300 ES modules import each
//! other in a chain. Each round starts the release binary afresh and times, from the spawn,
//! the first successful `GET /` on the loopback. Printed: median, fastest, slowest of
//! `BENCH_ROUNDS` (default 10), beside a one-module app.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::median;

fn generate(dir: &Path, modules: usize) -> PathBuf {
    let lib = dir.join("node_modules/big/lib");
    std::fs::create_dir_all(&lib).unwrap();
    for i in 0..modules {
        let next = if i + 1 < modules {
            format!("import {{ v{} }} from './m{}.js';\n", i + 1, i + 1)
        } else {
            String::new()
        };
        let value = if i + 1 < modules {
            format!("v{}", i + 1)
        } else {
            "0".to_owned()
        };
        std::fs::write(
            lib.join(format!("m{i}.js")),
            format!(
                "{next}export const v{i} = {i} + {value};\nexport function f{i}(x) {{ return x * {i}; }}\n"
            ),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("node_modules/big/package.json"),
        r#"{ "name": "big", "version": "1.0.0", "exports": { ".": "./lib/m0.js" } }"#,
    )
    .unwrap();
    let app = dir.join("app.js");
    std::fs::write(
        &app,
        "import { v0 } from \"big\";\naddEventListener(\"fetch\", (e) => e.respondWith(new Response(String(v0))));\n",
    )
    .unwrap();
    app
}

/// Milliseconds from spawning `edgeshim serve app` to its first answer to `GET /`.
fn first_response(binary: &Path, app: &Path) -> f64 {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args([
            "serve",
            "--ephemeral",
            "--addr",
            &format!("127.0.0.1:{port}"),
        ])
        .arg(app)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = started + Duration::from_secs(30);
    let took = loop {
        assert!(Instant::now() < deadline, "no answer within 30 s");
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut raw = String::new();
            if stream.read_to_string(&mut raw).is_ok() && raw.starts_with("HTTP/1.1 200") {
                break started.elapsed().as_secs_f64() * 1000.0;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let _ = child.kill();
    let _ = child.wait();
    took
}

fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_edgeshim"));
    let root = std::env::temp_dir().join(format!("edgeshim-startup-bench-{}", std::process::id()));
    println!("startup benchmark: spawn to first response, {rounds} rounds");
    for (name, modules) in [("1 module", 1), ("300 modules in node_modules", 300)] {
        let dir = root.join(modules.to_string());
        let app = generate(&dir, modules);
        let mut times: Vec<f64> = (0..rounds).map(|_| first_response(&binary, &app)).collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{name:<30} median {:>7.1} ms   fastest {:>7.1} ms   slowest {:>7.1} ms",
            median(times.clone()),
            times[0],
            times[times.len() - 1]
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}
