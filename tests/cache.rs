//! `fastly:cache` over HTTP (`fixtures/cache`), in Compute's instance model: the Core Cache's
//! lookups, inserts, transactions, ranges and purges, SimpleCache, every checked argument's
//! message (js-compute 3.46's `cache-core.cpp` and `cache-simple.cpp`, verbatim), and request
//! collapsing: 50 concurrent `getOrSet`s of one key load it once. The time windows (TTL,
//! stale-while-revalidate, soft purge) are tested on a manual clock beside the cache
//! (`runtime/store/src/cache/tests.rs`). Last, `fixtures/app-edge-site`: an origin-fronting
//! site that caches pages and rewrites their HTML as it streams out.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::origin::Origin;
use support::process::TempDir;
use support::{fronting_options, serve_fronting, Server};

/// Serves `fixtures/cache` with its backend `origin` at `origin`.
async fn serve(origin: &Origin, reuse: bool) -> (Server, TempDir) {
    serve_fronting("cache/index.js", origin, reuse).await
}

async fn json_of(server: &Server, path: &str) -> Value {
    let response = server.get(path).await;
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    serde_json::from_slice(&response.body).unwrap()
}

fn described(found: bool, must: bool, hits: Value, max_age: Value, length: Value) -> Value {
    json!({
        "state": { "found": found, "usable": found, "stale": false, "mustInsertOrUpdate": must },
        "hits": hits, "maxAge": max_age, "length": length,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_cache_lookups_inserts_transactions_and_purges() {
    let origin = Origin::start().await;
    let (server, _dir) = serve(&origin, false).await;
    assert_eq!(
        json_of(&server, "/core?key=a").await,
        json!({
            "before": null,
            // Not visible while its body is written; visible once closed.
            "whileWriting": null,
            "entry": described(true, false, json!(1), json!(60000), json!(11)),
            "isCacheEntry": true,
            "age": true,
            "swr": 10000,
            "userMetadata": "meta",
            "body": "hello world",
            "range": "wor",
            "suffix": "world",
            "invalidRange": "hello world",
        })
    );
    // The object outlives its request: the next one finds it before inserting again; the
    // insert replaces it with a new object, whose lookup is its first hit.
    let again = json_of(&server, "/core?key=a").await;
    assert_eq!(again["before"], json!({}));
    assert_eq!(again["entry"]["hits"], 1);

    let invalid_handle =
        "insert: Invalid handle. Thrown when a request, response, dictionary, or body handle is not valid.\n";
    assert_eq!(
        json_of(&server, "/transaction?key=t").await,
        json!({
            "first": described(false, true, Value::Null, Value::Null, Value::Null),
            "isTransaction": true,
            "streamedBack": "fresh",
            "again": described(true, false, json!(1), json!(1000), json!(5)),
            "english": described(false, true, Value::Null, Value::Null, Value::Null),
            "insertTwice": { "name": "Error", "message": invalid_handle },
        })
    );
    assert_eq!(
        json_of(&server, "/purge?key=p").await,
        json!({ "before": true, "after": null })
    );
    assert_eq!(
        json_of(&server, "/simple?key=s").await,
        json!({ "before": null, "value": "cached s", "bodyUsed": true, "afterPurge": null })
    );
    server.stop().await;
}

/// With --reuse-instances a transaction never waits (it would block the thread the obliged
/// request runs on): the same scenarios give the same answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_instances_answer_the_same_without_waiting() {
    let origin = Origin::start().await;
    let (server, _dir) = serve(&origin, true).await;
    let core = json_of(&server, "/core?key=r").await;
    assert_eq!(
        core["entry"],
        described(true, false, json!(1), json!(60000), json!(11))
    );
    assert_eq!(core["body"], "hello world");
    let transaction = json_of(&server, "/transaction?key=r2").await;
    assert_eq!(transaction["streamedBack"], "fresh");
    assert_eq!(transaction["again"]["state"]["found"], true);
    // A key obliged to a request that never finishes does not hold up another here.
    assert_eq!(
        json_of(&server, "/oblige?key=o").await,
        json!({ "must": true })
    );
    assert_eq!(
        json_of(&server, "/oblige?key=o").await,
        json!({ "must": true })
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_checked_argument_fails_with_the_platforms_class_and_message() {
    let origin = Origin::start().await;
    let (server, _dir) = serve(&origin, false).await;
    let error = |message: &str| json!({ "name": "Error", "message": message });
    let type_error = |message: &str| json!({ "name": "TypeError", "message": message });
    let expected = json!([
        type_error("CoreCache.lookup: At least 1 argument required, but only 0 passed"),
        error("CoreCache.lookup: key can not be an empty string"),
        error("CoreCache.lookup: key is too long, the maximum allowed length is 8135."),
        error("options argument must be an object"),
        error("Failed to construct Headers object. If defined, the first argument must be either a [ ['name', 'value'], ... ] sequence, or a { 'name' : 'value', ... } record."),
        error("maxAge is required"),
        error("maxAge field is an invalid value, only positive numbers can be used for maxAge values."),
        error("initialAge field is an invalid value, only positive numbers can be used for initialAge values."),
        error("staleWhileRevalidate field is an invalid value, only positive numbers can be used for staleWhileRevalidate values."),
        error("maxAge can not be greater than 2^63."),
        error("length field is an invalid value, only positive numbers can be used for length values."),
        error("options argument must be an object"),
        type_error("CacheEntry builtin can't be instantiated directly"),
        type_error("Method 'state' called on receiver that's not an instance of CacheEntry"),
        error("maxAge: A `None` error. This status code is used to indicate when an optional value did not exist, as opposed to an empty value.\n"),
        error("TransactionCacheEntry.update: entry does not exist or is not updatable"),
        error("state: Invalid handle. Thrown when a request, response, dictionary, or body handle is not valid.\n"),
        error("end field is before the start field"),
        error("cancel: Invalid handle. Thrown when a request, response, dictionary, or body handle is not valid.\n"),
        error("SimpleCache.get: key can not be an empty string"),
        error("SimpleCache.set: TTL parameter is an invalid value, only positive numbers can be used for TTL values."),
        type_error("Content-provided streams are not yet supported for streaming into SimpleCache"),
        error("SimpleCache.purge: scope field of options parameter must be either 'pop', or 'global'."),
        error("SimpleCache.purge: options parameter is not an object."),
        type_error("SimpleCache.getOrSet: At least 2 arguments required, but only 1 passed"),
    ]);
    assert_eq!(json_of(&server, "/errors").await, expected);
    // The transactions those requests left open were cancelled when they ended: the same
    // lookups again are obliged at once instead of waiting for them.
    assert_eq!(json_of(&server, "/errors").await, expected);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_transactions_resolve_in_the_background_and_time_out() {
    let origin = Origin::start().await;
    let (server, _dir) = serve(&origin, false).await;
    assert_eq!(
        json_of(&server, "/pending?key=p").await,
        json!({
            "obliged": true,
            "settled": true,
            "second": { "name": "Error", "message": "PendingTransaction.wait: wait() has already been called on this PendingTransaction" },
            "timedOut": { "name": "Error", "message": "Timed out waiting for the cache transaction lookup to resolve" },
            "stillPending": true,
        })
    );
    server.stop().await;
}

/// A request stopped at its CPU limit while it holds a key's obligation cannot cancel it: the
/// server does when the copy is gone, so the request waiting for the key is obliged in turn
/// at once, not after the obligation's two-minute lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_obligation_of_a_request_stopped_at_a_limit_passes_on() {
    let origin = Origin::start().await;
    let (mut options, _dir) = fronting_options("cache/index.js", &origin, false);
    options.pool.limits.cpu = Some(std::time::Duration::from_millis(300));
    let server = Server {
        running: edgeshim::start(options).await.expect("the fixture starts"),
    };
    let addr = server.addr();
    let spinner = tokio::spawn(async move {
        support::request(addr, "GET", "/oblige-and-spin?key=k", &[], b"").await
    });
    // Bounded: the spinner says when it holds the obligation.
    let mut held = false;
    for _ in 0..200 {
        if json_of(&server, "/held?key=k").await == json!(true) {
            held = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(held, "the spinning request never took the obligation");
    let started = std::time::Instant::now();
    assert_eq!(
        json_of(&server, "/oblige?key=k").await,
        json!({ "must": true })
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "waited {:?}: the obligation lapsed with its lease instead of passing on",
        started.elapsed()
    );
    assert_eq!(spinner.await.unwrap().status, 500);
    server.stop().await;
}

/// 50 requests for one key at once, each in its own copy of the app: the loader (slow, it
/// fetches from the origin) runs once, and every request gets its value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_get_or_sets_load_once() {
    let origin = Origin::start().await;
    let (server, _dir) = serve(&origin, false).await;
    let addr = server.addr();
    let requests: Vec<_> = (0..50)
        .map(|_| {
            tokio::spawn(async move {
                let response =
                    support::request(addr, "GET", "/get-or-set?key=collapse", &[], b"").await;
                assert_eq!(response.status, 200, "{}", response.text());
                serde_json::from_slice::<Value>(&response.body).unwrap()
            })
        })
        .collect();
    let mut loaded = 0;
    for request in requests {
        let answer = request.await.unwrap();
        assert_eq!(answer["value"], "/echo/collapse");
        loaded += usize::from(answer["loaded"] == true);
    }
    assert_eq!(loaded, 1, "exactly one request ran the loader");
    assert_eq!(
        origin.requests.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the origin was asked once"
    );
    server.stop().await;
}

/// `fixtures/app-edge-site` in front of an origin this test starts: the first request of a
/// page asks the origin, the next is served from the edge cache, both rewritten the same way;
/// after a purge the origin is asked again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_fronting_site_caches_pages_and_rewrites_them() {
    let origin = Origin::start().await;
    let (server, _dir) = serve_fronting("app-edge-site/index.js", &origin, false).await;
    let rewritten = "<!doctype html><html><head><title>home</title></head><body>\
        <header>Served at the edge</header><h1>home</h1><a href=\"/about\">About</a>\
        <p>Text &amp; more</p></body></html>";
    let asked = || origin.requests.load(std::sync::atomic::Ordering::SeqCst);
    for (round, cache) in [(1, "MISS"), (2, "HIT"), (3, "HIT")] {
        let response = server.get("/home").await;
        assert_eq!(response.status, 200, "{}", response.text());
        assert_eq!(response.header("x-cache"), Some(cache), "request {round}");
        assert_eq!(response.text(), rewritten, "request {round}");
    }
    assert_eq!(asked(), 1, "the origin was asked once for three requests");
    assert_eq!(server.get("/purge?path=/home").await.text(), "purged\n");
    let response = server.get("/home").await;
    assert_eq!(response.header("x-cache"), Some("MISS"));
    assert_eq!(response.text(), rewritten);
    assert_eq!(asked(), 2);
    server.stop().await;
}
