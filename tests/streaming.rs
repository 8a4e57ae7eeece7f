//! Streaming bodies over a real socket: request bodies reach JS while they arrive, a
//! `ReadableStream` response is sent chunk by chunk (chunked encoding), and large bodies pass
//! through a `TransformStream` pipeline.

#![allow(clippy::unwrap_used)]

mod support;

use support::{request, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_body_through_a_transform_stream() {
    let server = serve("streaming", false, 2).await;
    // Over the buffering limit, so the body reaches the app as a host stream.
    let body = "abc ".repeat(40_000);
    let response = request(server.addr(), "POST", "/upper", &[], body.as_bytes()).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(response.text(), body.to_uppercase());

    let small = request(server.addr(), "POST", "/upper", &[], b"small body").await;
    assert_eq!(small.text(), "SMALL BODY");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_body_passed_through_unchanged() {
    let server = serve("streaming", false, 2).await;
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let response = request(server.addr(), "POST", "/echo", &[], &body).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, body);
    server.stop().await;
}

/// Sends `head` and `body`, then reads the raw response to EOF.
async fn raw_exchange(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may answer (and stop reading) before the whole upload is sent.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    raw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_response_stream_is_a_failed_transfer() {
    let server = serve("streaming", false, 2).await;
    let raw = raw_exchange(
        server.addr(),
        "GET /never-ends HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
    )
    .await;
    let text = String::from_utf8_lossy(&raw);
    // The connection is cut: whatever hyper had flushed arrives, but never the final chunk
    // that would make the body look complete.
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 200 OK"),
        "{text}"
    );
    assert!(
        !text.ends_with("0\r\n\r\n"),
        "it must not look complete: {text}"
    );
    // The server is fine afterwards.
    assert_eq!(server.get("/generate?chunks=1").await.text(), "chunk 0\n");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unread_upload_does_not_wedge_the_server() {
    let server = serve("streaming", false, 1).await;
    let body = vec![b'u'; 5 * 1024 * 1024];
    let head = format!(
        "POST /ignore HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let started = std::time::Instant::now();
    let raw = raw_exchange(server.addr(), &head, &body).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    assert!(text.ends_with("ignored"), "{text}");
    for _ in 0..3 {
        assert_eq!(server.get("/generate?chunks=1").await.text(), "chunk 0\n");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // Shutting down does not wait for the abandoned upload.
    let stopping = std::time::Instant::now();
    server.stop().await;
    assert!(
        stopping.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        stopping.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_body_read_whole_in_process() {
    let server = support::serve_in_process("streaming", 2).await;
    let body = "z".repeat(1_000_000);
    let response = request(server.addr(), "POST", "/read-text", &[], body.as_bytes()).await;
    assert_eq!(response.text(), r#"{"length":1000000}"#);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_stream_is_sent_in_chunks() {
    let server = serve("streaming", false, 2).await;
    let response = server.get("/generate?chunks=4").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(response.header("content-type"), Some("text/plain"));
    assert_eq!(response.text(), "chunk 0\nchunk 1\nchunk 2\nchunk 3\n");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_generated_body() {
    let server = serve("streaming", true, 1).await;
    let response = server.get("/zeros?mb=8").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len(), 8 * 1024 * 1024);
    assert!(response.body.iter().all(|&b| b == 0));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_body_counted_as_it_streams() {
    let server = serve("streaming", false, 2).await;
    let body: Vec<u8> = (0..2_000_000u32).map(|i| (i % 7) as u8).collect();
    let response = request(server.addr(), "POST", "/count", &[], &body).await;
    let stats: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(stats["bytes"], 2_000_000);
    // It arrived in pieces, not as one buffered body.
    assert!(stats["chunks"].as_u64().unwrap() > 1, "{stats}");
    server.stop().await;
}
