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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_body_read_whole_without_js_streams() {
    let server = serve("streaming", false, 2).await;
    let body = "z".repeat(1_000_000);
    let response = request(server.addr(), "POST", "/read-text", &[], body.as_bytes()).await;
    assert_eq!(
        response.text(),
        r#"{"length":1000000,"streamsLoaded":false}"#
    );
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
