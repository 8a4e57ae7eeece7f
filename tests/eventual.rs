//! Simulated edge locations (`--pops 2 --kv-propagation 300`) over one store, in process:
//! a write is read back at once through the location that made it, while the other location
//! keeps reading (and listing) the previous value until the propagation window has passed.
//! The location is picked with the `x-edgeshim-pop` header. The app is `fixtures/kv-eventual`.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use edgeshim::ServeOptions;
use support::{fixture, request, HttpResponse};

const PROPAGATION: Duration = Duration::from_millis(300);

async fn start(pops: usize) -> edgeshim::RunningServer {
    let mut options = ServeOptions::new(fixture("kv-eventual/index.js"));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.pool = support::pool(2, false);
    options.pops = pops;
    options.kv_propagation = PROPAGATION;
    edgeshim::start(options).await.unwrap()
}

async fn get(addr: SocketAddr, pop: &str, path: &str) -> HttpResponse {
    request(addr, "GET", path, &[("x-edgeshim-pop", pop)], b"").await
}

async fn put(addr: SocketAddr, pop: &str, key: &str, value: &str) -> HttpResponse {
    let path = format!("/kv/{key}");
    request(
        addr,
        "POST",
        &path,
        &[("x-edgeshim-pop", pop)],
        value.as_bytes(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_reaches_the_other_location_after_the_propagation_window() {
    let server = start(2).await;
    let addr = server.addr();

    // A new key: absent elsewhere until the window has passed.
    let written = Instant::now();
    assert_eq!(put(addr, "0", "k", "v1").await.text(), "ok");
    let own = get(addr, "0", "/kv/k").await;
    let other = get(addr, "pop-1", "/kv/k").await;
    // The stale read must have happened inside the window for the check to mean anything.
    let stale_checked_in_window = written.elapsed() < PROPAGATION;
    assert_eq!((own.status, own.text()), (200, "v1".to_owned()));
    if stale_checked_in_window {
        assert_eq!((other.status, other.text()), (404, "absent".to_owned()));
        let listed = get(addr, "1", "/list").await.text();
        if written.elapsed() < PROPAGATION {
            assert_eq!(listed, "seeded");
        }
    }
    tokio::time::sleep(PROPAGATION + Duration::from_millis(100)).await;
    assert_eq!(get(addr, "1", "/kv/k").await.text(), "v1");
    assert_eq!(get(addr, "1", "/list").await.text(), "k\nseeded");

    // An overwrite through location 1: location 0 keeps the old value for a while.
    let written = Instant::now();
    assert_eq!(put(addr, "pop-1", "k", "v2").await.text(), "ok");
    assert_eq!(get(addr, "1", "/kv/k").await.text(), "v2");
    let other = get(addr, "0", "/kv/k").await.text();
    if written.elapsed() < PROPAGATION {
        assert_eq!(other, "v1");
    }
    tokio::time::sleep(PROPAGATION + Duration::from_millis(100)).await;
    assert_eq!(get(addr, "0", "/kv/k").await.text(), "v2");

    // A header naming no location is refused.
    let refused = get(addr, "pop-2", "/kv/k").await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.text().contains("x-edgeshim-pop"),
        "{}",
        refused.text()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_header_requests_take_turns_and_one_location_is_strong() {
    let server = start(2).await;
    let addr = server.addr();
    // Round robin: of two reads right after a write, one is served by the location that did
    // not write, so some read inside the window is stale.
    let written = Instant::now();
    assert_eq!(put(addr, "0", "rr", "v").await.text(), "ok");
    let mut statuses = Vec::new();
    for _ in 0..2 {
        statuses.push(request(addr, "GET", "/kv/rr", &[], b"").await.status);
    }
    if written.elapsed() < PROPAGATION {
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 404]);
    }
    server.stop().await;

    // The default: one location, every read fresh at once, the header ignored.
    let server = start(1).await;
    let addr = server.addr();
    assert_eq!(put(addr, "0", "k", "v").await.text(), "ok");
    assert_eq!(get(addr, "1", "/kv/k").await.text(), "v");
    assert_eq!(request(addr, "GET", "/kv/k", &[], b"").await.text(), "v");
    server.stop().await;
}
