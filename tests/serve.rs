//! The server end to end over real sockets on 127.0.0.1: the put() reference example,
//! isolation modes, and what a request gets when the app fails.

#![allow(clippy::unwrap_used)]

mod support;

use support::{fixture, serve, shared_reference};

#[test]
fn put_doc_fixture_is_the_reference_example_byte_for_byte() {
    let fixture = std::fs::read(fixture("kv-put-doc/index.js")).unwrap();
    let reference = std::fs::read(shared_reference("put-doc-example.js")).unwrap();
    assert_eq!(fixture, reference);
}

#[test]
fn damaged_fixture_is_the_damaged_reference_copy() {
    let fixture = std::fs::read(fixture("kv-put-doc-damaged/index.js")).unwrap();
    let reference = std::fs::read(shared_reference("put-doc-example-as-in-seed.js")).unwrap();
    assert_eq!(fixture, reference);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_doc_example_answers_world() {
    let server = serve("kv-put-doc", false, 2).await;
    for _ in 0..3 {
        let response = server.get("/").await;
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"world");
        assert_eq!(
            response.header("content-type"),
            Some("text/plain;charset=UTF-8")
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_instance_per_request_by_default() {
    let server = support::serve_defaults("counter").await;
    for _ in 0..5 {
        let response = server.get("/").await;
        assert_eq!((response.status, response.text()), (200, "1".to_owned()));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_instances_keep_module_state() {
    let server = serve("counter", true, 1).await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(server.get("/").await.text());
    }
    assert_eq!(seen, ["1", "2", "3", "4"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_answer_500_and_the_server_keeps_serving() {
    let server = serve("errors", false, 1).await;
    let cases = [
        ("/throw", "edgeshim: uncaught exception in the fetch event handler: TypeError: handler exploded"),
        ("/reject", "edgeshim: the promise given to respondWith() was rejected: RangeError: promise exploded"),
        (
            "/no-respond",
            "edgeshim: the fetch event handler returned without calling event.respondWith(); call it synchronously in the handler, with a Response or a Promise of one",
        ),
        ("/late", "edgeshim: the fetch event handler returned without calling event.respondWith(); call it synchronously in the handler, with a Response or a Promise of one"),
        ("/not-a-response", "edgeshim: respondWith() was given object [object Object], not a Response"),
    ];
    for (path, message) in cases {
        let response = server.get(path).await;
        assert_eq!(response.status, 500, "{path}");
        let body = response.text();
        assert_eq!(body.lines().next().unwrap(), message, "{path}");
        let next = server.get("/").await;
        assert_eq!(
            (next.status, next.text()),
            (200, "ok".to_owned()),
            "after {path}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn respond_with_twice_throws_the_platform_error() {
    let server = serve("errors", false, 1).await;
    let response = server.get("/twice").await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.text(),
        "Error: FetchEvent#respondWith can't be called twice on the same event"
    );
    server.stop().await;
}

/// Polls `/read?key=KEY` until the value is `done` (the waitUntil work ran), bounded.
async fn wait_for_done(server: &support::Server, key: &str) {
    for _ in 0..200 {
        if server.get(&format!("/read?key={key}")).await.text() == "done" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the waitUntil work for {key} never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_until_work_runs_after_the_response() {
    let server = serve("errors", false, 2).await;
    let response = server.get("/wait-until").await;
    assert_eq!(
        (response.status, response.text()),
        (200, "responded first".to_owned())
    );
    wait_for_done(&server, "wait-until").await;

    let response = server.get("/wait-until-late").await;
    assert_eq!(response.text(), "responded");
    wait_for_done(&server, "wait-until-late").await;
    server.stop().await;
}
