//! Protocol errors answered as a careful HTTP server (and Viceroy) answers them: a request
//! body whose chunked framing is broken is the client's error (400, logged as such, whatever
//! the app made of it); `CONNECT` is not served (the connection closes unanswered, as
//! Viceroy 0.22 closes it, checked by hand).

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::serve;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the server writes back to `raw` before closing (bounded).
async fn exchange(addr: std::net::SocketAddr, raw: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A server that refuses a request may close before all of it was written.
    let _ = stream.write_all(raw).await;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 65536];
    let read = async {
        // Until the server closes (or resets the connection after answering).
        while let Ok(n) = stream.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("the server closes the connection");
    String::from_utf8_lossy(&answer).into_owned()
}

fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_chunked_framing_is_a_400_and_connect_is_not_served() {
    let server = serve("protocol", false, 2).await;
    let addr = server.addr();
    let good = exchange(
        addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
          5\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert!(good.starts_with("HTTP/1.1 200 OK\r\n"), "{good}");
    assert_eq!(body(&good), "read 5 bytes");

    let broken = exchange(
        addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
          zz\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert!(
        broken.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{broken}"
    );
    assert_eq!(
        body(&broken),
        "edgeshim: the request body is malformed: error reading a body from connection\n"
    );

    let connect = exchange(
        addr,
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    )
    .await;
    assert_eq!(connect, "", "no answer, as Viceroy gives none");
    server.stop().await;
}

/// `--max-request-body`: a body declared larger is refused before the app runs; a chunked
/// body that grows past it is refused whatever the app made of it; one at the limit passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_past_the_limit_are_refused_with_413() {
    let mut options = edgeshim::ServeOptions::new(support::fixture("protocol/index.js"));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.pool = support::pool(2, false);
    options.max_request_body = Some(10);
    let server = support::Server {
        running: edgeshim::start(options).await.unwrap(),
    };
    let addr = server.addr();
    let declared = exchange(
        addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world",
    )
    .await;
    assert!(
        declared.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{declared}"
    );
    let refused = "edgeshim: the request body is larger than 10 bytes (--max-request-body)\n";
    assert_eq!(body(&declared), refused);
    let chunked = exchange(
        addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
          6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n",
    )
    .await;
    assert!(
        chunked.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{chunked}"
    );
    assert_eq!(body(&chunked), refused);
    let at_limit = exchange(
        addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhelloworld",
    )
    .await;
    assert_eq!(body(&at_limit), "read 10 bytes");
    server.stop().await;
}

/// Request line and header limits answer as Viceroy 0.22's (both hyper's defaults; checked
/// side by side by hand): 100 headers pass, 101 get 431; a 70 KB request target gets 414; a
/// 600 KB header 431; a request line that is not HTTP 400. (The largest single header each
/// accepts differs by ~16 KB: about 491 KB here, 507 KB on Viceroy's older hyper.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_line_and_header_limits_answer_as_viceroy() {
    let server = serve("protocol", false, 2).await;
    let addr = server.addr();
    let headers = |count: usize| {
        let mut raw = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..count - 1 {
            raw.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
        }
        raw.extend_from_slice(b"Connection: close\r\n\r\n");
        raw
    };
    let status = |answer: String| answer.lines().next().unwrap_or_default().to_owned();
    assert_eq!(
        status(exchange(addr, &headers(100)).await),
        "HTTP/1.1 200 OK"
    );
    assert_eq!(
        status(exchange(addr, &headers(101)).await),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    let mut long_target = b"GET /".to_vec();
    long_target.extend(std::iter::repeat_n(b'a', 70_000));
    long_target.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(
        status(exchange(addr, &long_target).await),
        "HTTP/1.1 414 URI Too Long"
    );
    let mut big_header = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    big_header.extend(std::iter::repeat_n(b'b', 600_000));
    big_header.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    assert_eq!(
        status(exchange(addr, &big_header).await),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    assert_eq!(
        status(exchange(addr, b"GARBAGE\r\n\r\n").await),
        "HTTP/1.1 400 Bad Request"
    );
    server.stop().await;
}

/// Resident memory of process `pid`, in KiB (Linux's /proc).
#[cfg(target_os = "linux")]
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap()
}

/// Sends one request with `body` and returns the response's body (the connection closes).
#[cfg(target_os = "linux")]
fn post_blocking(addr: std::net::SocketAddr, body: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    self::body(&answer).to_owned()
}

/// Issue 14: bodies an app reads whole are released when the request ends. After three 64 MiB
/// uploads read with `text()`, the server's resident memory is back within 20% of what it
/// was before them, in the default mode (the copy that read the body is gone) and with
/// `--reuse-instances` (the instance collects once its heap has grown), where it used to grow
/// by the body's size per request, and stay.
#[cfg(target_os = "linux")]
#[test]
fn bodies_read_whole_are_released_when_the_request_ends() {
    use support::process::ServerProcess;
    let app = support::fixture("protocol/index.js");
    let upload = vec![b'a'; 64 << 20];
    for args in [&[][..], &["--reuse-instances", "--workers", "1"][..]] {
        let mut args = args.to_vec();
        args.extend(["--cpu-limit", "0"]);
        let server = ServerProcess::start(&app, None, &args);
        assert_eq!(post_blocking(server.addr, b"warm"), "read 4 bytes");
        let idle = rss_kib(server.pid());
        for _ in 0..3 {
            assert_eq!(post_blocking(server.addr, &upload), "read 67108864 bytes");
        }
        assert_eq!(post_blocking(server.addr, b"after"), "read 5 bytes");
        let after = rss_kib(server.pid());
        assert!(
            after <= idle * 6 / 5,
            "{args:?}: {after} KiB resident after the uploads, {idle} KiB before"
        );
    }
}

/// `edgeshim test`'s kill header means nothing to `edgeshim serve`: the app gets it as sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_runners_kill_header_is_an_ordinary_header_when_serving() {
    let server = serve("protocol", false, 2).await;
    let answer = exchange(
        server.addr(),
        b"GET / HTTP/1.1\r\nHost: x\r\nx-edgeshim-kill-after-ms: 5\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert_eq!(body(&answer), "kill header: 5");
    server.stop().await;
}
