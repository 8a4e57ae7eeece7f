//! `cargo bench -p edgeshim --bench memory`: a 100 MiB request body streamed through a
//! `TransformStream` and back, measuring the server's RSS against its idle RSS.
//!
//! The server (release binary, `fixtures/streaming`, route `/transform`) must keep its peak
//! RSS under idle + 64 MiB: bodies flow through bounded channels and stream queues, never
//! whole. Loopback only. Set `BENCH_MEMORY_MB` to change the body size.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

/// Resident memory of `pid` and every process below it (the snapshot process and the copy
/// serving the request, in the default mode), in KiB.
fn tree_rss_kb(pid: u32) -> u64 {
    let children: u64 = support::children(pid).into_iter().map(tree_rss_kb).sum();
    status_field(pid, "VmRSS:") + children
}

/// Counts the payload bytes of a chunked HTTP/1.1 response without keeping them.
fn read_chunked_response(stream: &mut TcpStream) -> (String, u64) {
    let mut reader = BufReader::with_capacity(1 << 16, stream);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut chunked = false;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        chunked |= line
            .to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked");
    }
    assert!(chunked, "the response is streamed (chunked): {status}");
    let mut total = 0u64;
    let mut sink = vec![0u8; 1 << 16];
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).unwrap();
        let size = u64::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return (status.trim().to_owned(), total);
        }
        let mut left = size;
        while left > 0 {
            let n = reader
                .read(&mut sink[..left.min(1 << 16) as usize])
                .unwrap();
            assert!(n > 0, "connection closed mid-body");
            left -= n as u64;
        }
        total += size;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf).unwrap();
    }
}

fn main() {
    let mib: u64 = std::env::var("BENCH_MEMORY_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let app = root.join("fixtures/streaming/index.js");
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgeshim"))
        .args([
            "serve",
            app.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
            "--ephemeral",
            "--workers",
            "2",
            // Streaming 100 MiB through JS takes seconds of CPU: this measures memory.
            "--cpu-limit",
            "0",
        ])
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn,edgeshim=info,edgeshim::access=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    let pid = server.0.id();
    let mut lines = BufReader::new(stderr).lines();
    let line = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|l| l.contains("serving"))
        .unwrap();
    std::thread::spawn(move || lines.for_each(drop));
    let addr: SocketAddr = line
        .split("http://")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // Warm up: load the streams libraries once, then measure idle.
    let mut warm = TcpStream::connect(addr).unwrap();
    warm.write_all(b"POST /transform HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 70000\r\n\r\n").unwrap();
    warm.write_all(&vec![b'x'; 70_000]).unwrap();
    assert_eq!(read_chunked_response(&mut warm).1, 70_000);
    std::thread::sleep(Duration::from_millis(500));
    let idle_kb = status_field(pid, "VmRSS:");
    let idle_tree_kb = tree_rss_kb(pid);

    let total = mib * 1024 * 1024;
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let started = Instant::now();
    let sender = std::thread::spawn(move || {
        write!(writer, "POST /transform HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {total}\r\n\r\n").unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0u64;
        while sent < total {
            let n = chunk.len().min((total - sent) as usize);
            writer.write_all(&chunk[..n]).unwrap();
            sent += n as u64;
        }
    });
    let sampler_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = sampler_stop.clone();
    let sampler = std::thread::spawn(move || {
        let (mut peak, mut tree_peak) = (0, 0);
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            peak = peak.max(status_field(pid, "VmRSS:"));
            tree_peak = tree_peak.max(tree_rss_kb(pid));
            std::thread::sleep(Duration::from_millis(20));
        }
        (peak, tree_peak)
    });
    let (status, received) = read_chunked_response(&mut stream);
    let elapsed = started.elapsed();
    sender.join().unwrap();
    sampler_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (sampled_peak_kb, tree_peak_kb) = sampler.join().unwrap();
    let hwm_kb = status_field(pid, "VmHWM:");
    let peak_kb = sampled_peak_kb.max(hwm_kb);

    let mb = |kb: u64| kb as f64 / 1024.0;
    println!("edgeshim memory benchmark: {mib} MiB through a TransformStream (/transform)");
    println!(
        "  response: {status}, {received} bytes in {:.2} s ({:.0} MiB/s)",
        elapsed.as_secs_f64(),
        mib as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  RSS idle {:.1} MiB, peak {:.1} MiB (VmHWM {:.1}), growth {:.1} MiB",
        mb(idle_kb),
        mb(peak_kb),
        mb(hwm_kb),
        mb(peak_kb.saturating_sub(idle_kb))
    );
    println!(
        "  with the snapshot process and its copies: RSS idle {:.1} MiB, peak {:.1} MiB, growth \
         {:.1} MiB (shared pages counted in each process)",
        mb(idle_tree_kb),
        mb(tree_peak_kb),
        mb(tree_peak_kb.saturating_sub(idle_tree_kb))
    );
    assert_eq!(received, total, "every byte came back");
    let limit_kb = 64 * 1024;
    let verdict = if peak_kb.saturating_sub(idle_kb) < limit_kb {
        "PASS"
    } else {
        "FAIL"
    };
    println!("  {verdict}  peak RSS under idle + 64 MiB");
}
