//! `cargo bench -p edgeshim --bench html_rewriter`: HTMLRewritingStream's throughput, end to
//! end (request body -> rewriter -> response body) through a release server
//! (`fixtures/html-rewriter`, route `/stream`), and the server's memory meanwhile.
//!
//! Three handler loads over the same page, against an identity `TransformStream` baseline:
//! no handler (lol_html and the streams alone), sparse (`h1`: one element in 1000, one
//! JS-thread round trip each), dense (`p`: nearly every element). Loopback only. Set
//! `BENCH_HTML_MB` to change the page size (default 50).

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

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

fn tree_rss_kb(pid: u32) -> u64 {
    rss_kb(pid)
        + support::children(pid)
            .into_iter()
            .map(tree_rss_kb)
            .sum::<u64>()
}

/// `bytes` of HTML: paragraphs with a link each, an `<h1>` every 1000th; and its element count.
fn page(bytes: usize) -> (Vec<u8>, usize, usize) {
    let mut page = Vec::with_capacity(bytes + 64);
    page.extend_from_slice(b"<!DOCTYPE html><html><head><title>T</title></head><body>");
    let (mut i, mut h1) = (0usize, 0usize);
    while page.len() < bytes {
        if i % 1000 == 0 {
            page.extend_from_slice(format!("<h1>Title {i}</h1>\n").as_bytes());
            h1 += 1;
        } else {
            page.extend_from_slice(
                format!("<p class=\"c{}\">Paragraph {i} of the page, <a href=\"/x/{i}\">a link</a>.</p>\n", i % 7)
                    .as_bytes(),
            );
        }
        i += 1;
    }
    page.extend_from_slice(b"</body></html>");
    (page, i - h1, h1)
}

/// POSTs `body` to `path`; the response's payload size (chunked encoding decoded).
fn exchange(addr: SocketAddr, path: &str, body: &[u8]) -> u64 {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let body = body.to_vec();
    let sender = std::thread::spawn(move || {
        writer.write_all(head.as_bytes()).unwrap();
        for chunk in body.chunks(64 * 1024) {
            writer.write_all(chunk).unwrap();
        }
    });
    let mut reader = BufReader::with_capacity(1 << 16, stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains(" 200 "), "{line}");
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
    }
    let (mut total, mut sink) = (0u64, vec![0u8; 1 << 16]);
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let size = u64::from_str_radix(line.trim(), 16).unwrap();
        if size == 0 {
            break;
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
        reader.read_exact(&mut sink[..2]).unwrap();
    }
    sender.join().unwrap();
    total
}

fn main() {
    let mb: usize = std::env::var("BENCH_HTML_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let app = root.join("fixtures/html-rewriter/index.js");
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgeshim"))
        .args([
            "serve",
            app.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
            "--ephemeral",
        ])
        .args(["--workers", "1", "--cpu-limit", "0"])
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

    let (body, paragraphs, headings) = page(mb << 20);
    let size_mb = body.len() as f64 / 1e6;
    exchange(addr, "/stream", &body[..1 << 20]);
    std::thread::sleep(Duration::from_millis(300));
    let idle_kb = tree_rss_kb(pid);
    println!(
        "HTMLRewritingStream throughput: a {size_mb:.1} MB page ({paragraphs} <p>, {headings} <h1>), \
         release server, 1 worker"
    );
    println!(
        "{:<34} {:>8} {:>10} {:>14} {:>16}",
        "route", "seconds", "MB/s", "handler calls", "peak growth MiB"
    );
    let runs = [
        ("/identity", "identity TransformStream", 0),
        ("/stream?selector=", "rewriter, no handler", 0),
        ("/stream", "rewriter, h1 handler (sparse)", headings),
        (
            "/stream?selector=p",
            "rewriter, p handler (dense)",
            paragraphs,
        ),
    ];
    for (path, label, calls) in runs {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampling = stop.clone();
        let sampler = std::thread::spawn(move || {
            let mut peak = 0;
            while !sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = tree_rss_kb(pid).max(peak);
                std::thread::sleep(Duration::from_millis(10));
            }
            peak
        });
        let started = Instant::now();
        let received = exchange(addr, path, &body);
        let seconds = started.elapsed().as_secs_f64();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let peak_kb = sampler.join().unwrap();
        assert!(
            received >= body.len() as u64,
            "{path}: {received} bytes back"
        );
        println!(
            "{label:<34} {seconds:>8.2} {:>10.1} {calls:>14} {:>16.1}",
            size_mb / seconds,
            peak_kb.saturating_sub(idle_kb) as f64 / 1024.0
        );
    }
}
