//! A client for `fixtures/kv-durable` (GET and POST on `/kv/{key}`), shared by the tests
//! that run it on several backends and servers.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{request, HttpResponse};

/// The fixture app, relative to `fixtures/`.
pub const APP: &str = "kv-durable/index.js";

/// What the app answers when a `put` is refused as the platform refuses it.
pub const PRECONDITION_FAILED: &str = "TypeError: KVStore insert: Precondition failed.";

pub async fn get(addr: SocketAddr, key: &str) -> HttpResponse {
    request(addr, "GET", &format!("/kv/{key}"), &[], b"").await
}

pub async fn put(addr: SocketAddr, key: &str, mode: &str, value: &str) -> HttpResponse {
    let path = format!("/kv/{key}?mode={mode}");
    request(addr, "POST", &path, &[], value.as_bytes()).await
}

/// `racers` concurrent `add`s of `key`, spread over `servers`: exactly one is written, the
/// others fail with the platform's precondition error, and every server reads the winner.
pub async fn add_race(servers: &[SocketAddr], key: &str, racers: usize) {
    let barrier = Arc::new(tokio::sync::Barrier::new(racers));
    let tasks: Vec<_> = (0..racers)
        .map(|r| {
            let addr = servers[r % servers.len()];
            let (key, barrier) = (key.to_owned(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let response = put(addr, &key, "add", &format!("racer {r}")).await;
                (r, response.status, response.text())
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (r, status, body) = task.await.unwrap();
        match status {
            200 => winners.push(r),
            412 => assert_eq!(body, PRECONDITION_FAILED, "racer {r}"),
            other => panic!("racer {r}: unexpected {other}: {body}"),
        }
    }
    assert_eq!(winners.len(), 1, "{key}: winners {winners:?}");
    for &addr in servers {
        assert_eq!(get(addr, key).await.text(), format!("racer {}", winners[0]));
    }
}
