//! Shared by the integration tests: fixture paths, an in-process server on 127.0.0.1:0,
//! and a minimal HTTP/1.1 client that returns exact status, headers and body bytes.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod kv_durable;
pub mod origin;
pub mod process;

use std::net::SocketAddr;
use std::path::PathBuf;

use edgeshim::{RunningServer, ServeOptions};
use edgeshim_engine::{Limits, PoolConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A path under `fixtures/`.
pub fn fixture(path: &str) -> PathBuf {
    repo().join("fixtures").join(path)
}

/// A path under the shared reference folder laid beside the repository.
pub fn shared_reference(name: &str) -> PathBuf {
    repo().join("../shared/reference").join(name)
}

pub struct Server {
    pub running: RunningServer,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.running.addr()
    }

    pub async fn get(&self, path: &str) -> HttpResponse {
        request(self.addr(), "GET", path, &[], b"").await
    }

    pub async fn post(&self, path: &str, body: &[u8]) -> HttpResponse {
        request(self.addr(), "POST", path, &[], body).await
    }

    pub async fn stop(self) {
        self.running.stop().await;
    }
}

/// Starts `fixtures/<dir>/index.js` with its fastly.toml (if any) on a free loopback port.
pub async fn serve(dir: &str, reuse_instances: bool, workers: usize) -> Server {
    let mut options = ServeOptions::new(fixture(&format!("{dir}/index.js")));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.pool = pool(workers, reuse_instances);
    let running = edgeshim::start(options).await.expect("the fixture starts");
    Server { running }
}

/// Starts `fixtures/<dir>/index.js` with in-process instances, a fresh one per request (the
/// mode without a snapshot process).
pub async fn serve_in_process(dir: &str, workers: usize) -> Server {
    let mut options = ServeOptions::new(fixture(&format!("{dir}/index.js")));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.pool = PoolConfig {
        workers,
        ..PoolConfig::default()
    };
    let running = edgeshim::start(options).await.expect("the fixture starts");
    Server { running }
}

/// The pool the `edgeshim` command runs: Compute's instance model (a snapshot process
/// started from the binary, a fresh copy per request) unless `reuse_instances`.
pub fn pool(workers: usize, reuse_instances: bool) -> PoolConfig {
    PoolConfig {
        workers,
        reuse_instances,
        snapshot_program: Some(env!("CARGO_BIN_EXE_edgeshim").into()),
        limits: test_limits(),
        ..PoolConfig::default()
    }
}

/// Compute's limits, but CPU time for an unoptimized build: the tests run a debug `edgeshim`,
/// 20 to 50 times slower than a release build (the conformance app's 30 MiB KV values take
/// seconds of CPU there).
pub fn test_limits() -> Limits {
    Limits {
        cpu: Some(std::time::Duration::from_secs(10)),
        ..Limits::default()
    }
}

/// Starts the fixture `app` (two workers, Compute's instance model) from the repository root:
/// files named in a fixture's fastly.toml are relative to the working directory, as Viceroy
/// has them, and the fixtures name them from the root. Also: its JSON answer to `path`.
pub async fn serve_from_repo(app: &str) -> Server {
    std::env::set_current_dir(repo()).unwrap();
    let mut options = ServeOptions::new(fixture(app));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.pool = pool(2, false);
    let running = edgeshim::start(options).await.expect("the fixture starts");
    Server { running }
}

/// The JSON body of `server`'s answer to `GET path`.
pub async fn json_of(server: &Server, path: &str) -> serde_json::Value {
    serde_json::from_slice(&server.get(path).await.body).unwrap()
}

/// Starts `fixtures/<dir>/index.js` with every option at its default but the address.
pub async fn serve_defaults(dir: &str) -> Server {
    let mut options = ServeOptions::new(fixture(&format!("{dir}/index.js")));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.pool.snapshot_program = Some(env!("CARGO_BIN_EXE_edgeshim").into());
    options.pool.limits = test_limits();
    let running = edgeshim::start(options).await.expect("the fixture starts");
    Server { running }
}

#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request on a fresh connection (`Connection: close`), read to the end.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Like [`request`], but a connection that fails or closes before a whole response head
/// (a server being killed) is an error instead of a panic.
pub async fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect(addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    if !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the connection closed before a whole response head",
        ));
    }
    Ok(parse_response(&raw))
}

/// Serves the fixture `app` (in-process, `pool(2, reuse)`) with its backend `origin` at
/// `origin`, through a fastly.toml in a temporary folder (kept alive by the returned guard).
pub async fn serve_fronting(
    app: &str,
    origin: &origin::Origin,
    reuse: bool,
) -> (Server, process::TempDir) {
    let (options, dir) = fronting_options(app, origin, reuse);
    let running = edgeshim::start(options).await.expect("the fixture starts");
    (Server { running }, dir)
}

/// [`serve_fronting`]'s options, for a test to change before it starts the server.
pub fn fronting_options(
    app: &str,
    origin: &origin::Origin,
    reuse: bool,
) -> (ServeOptions, process::TempDir) {
    let dir = process::TempDir::new("fronting");
    let config = dir.path().join("fastly.toml");
    std::fs::write(
        &config,
        format!(
            "[local_server.backends.origin]\nurl = \"http://{}\"\n",
            origin.addr
        ),
    )
    .unwrap();
    let mut options = ServeOptions::new(fixture(app));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.config = Some(config);
    options.pool = pool(2, reuse);
    (options, dir)
}
