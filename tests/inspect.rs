//! `edgeshim serve --inspect`: the JSON API with its exact statuses and messages, the live
//! log's attribution of host calls to requests in each isolation mode, and the page itself
//! in a real browser (Debian's headless chromium, driven through chromedriver): what it
//! writes, the app reads back byte for byte.
//!
//! A browser test that fails saves a screenshot under the target folder and prints its path.
//! Without chromium and chromedriver the browser tests fail under CI (`.ci/run` installs
//! them) and are skipped, saying so, elsewhere.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use edgeshim::ServeOptions;
use edgeshim_store::ManualClock;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use support::{fixture, request, HttpResponse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long the browser and the live log get to show what a test waits for.
const DEADLINE: Duration = Duration::from_secs(20);

/// The fixture app (it answers `GET /KEY` with the bytes of KEY in store `notes`) with the
/// inspection page, on free loopback ports.
async fn serve(reuse_instances: bool) -> edgeshim::RunningServer {
    let mut options = ServeOptions::new(fixture("inspect/index.js"));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.inspect = Some("127.0.0.1:0".parse().unwrap());
    options.pool = support::pool(2, reuse_instances);
    edgeshim::start(options).await.expect("the fixture starts")
}

fn page(server: &edgeshim::RunningServer) -> SocketAddr {
    server.inspect_addr().expect("--inspect is on")
}

async fn api(
    server: &edgeshim::RunningServer,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, Value) {
    let response = request(page(server), method, path, &[], body.as_bytes()).await;
    let value = serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {}", response.text()));
    (response.status, value)
}

async fn app_get(server: &edgeshim::RunningServer, key: &str) -> HttpResponse {
    request(server.addr(), "GET", &format!("/{key}"), &[], b"").await
}

// --- The JSON API ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_reads_and_writes_the_stores_the_app_uses() {
    let server = serve(false).await;
    let (status, stores) = api(&server, "GET", "/api/stores", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        stores,
        json!({"stores": [{"name": "empty", "entries": 0}, {"name": "notes", "entries": 3}]})
    );

    let (status, entry) = api(&server, "GET", "/api/entry?store=notes&key=greeting", "").await;
    assert_eq!(status, 200);
    assert_eq!(entry["value_base64"], "aGVsbG8=");
    assert_eq!(entry["kind"], "text");
    assert_eq!(entry["metadata"], "seed-meta");
    assert_eq!(entry["ttl_ms"], Value::Null);
    assert!(entry["generation"].as_u64().unwrap() > 0);
    let (_, config) = api(&server, "GET", "/api/entry?store=notes&key=config.json", "").await;
    assert_eq!(config["kind"], "json");

    // Written with a TTL, in bytes that are not text: the app reads exactly those bytes.
    let bytes = [0u8, 0xFF, 0x10, b'x'];
    let (status, written) = api(
        &server,
        "PUT",
        "/api/entry?store=notes&key=bin%2Fone",
        r#"{"value_base64": "AP8QeA==", "metadata": "m", "ttl": 60}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(written["kind"], "binary");
    assert_eq!(written["metadata"], "m");
    let ttl = written["ttl_ms"].as_u64().unwrap();
    assert!((59_000..=60_000).contains(&ttl), "{ttl}");
    let read = app_get(&server, "bin%2Fone").await;
    assert_eq!((read.status, read.body.as_slice()), (200, &bytes[..]));

    // An image is told by its magic bytes.
    let (_, png) = api(
        &server,
        "PUT",
        "/api/entry?store=notes&key=pixel.png",
        r#"{"value_base64": "iVBORw0KGgoAAAANSUhEUg=="}"#,
    )
    .await;
    assert_eq!(
        (&png["kind"], &png["mime"]),
        (&json!("image"), &json!("image/png"))
    );

    let (status, deleted) = api(&server, "DELETE", "/api/entry?store=notes&key=doomed", "").await;
    assert_eq!((status, deleted), (200, json!({})));
    assert_eq!(app_get(&server, "doomed").await.status, 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_lists_keys_in_pages_and_by_prefix() {
    let server = serve(false).await;
    let (status, first) = api(&server, "GET", "/api/keys?store=notes&limit=2", "").await;
    assert_eq!(status, 200);
    assert_eq!(first["keys"], json!(["config.json", "doomed"]));
    let cursor = first["cursor"].as_str().unwrap().to_owned();
    let next = format!(
        "/api/keys?store=notes&limit=2&cursor={}",
        url_escape(&cursor)
    );
    let (_, second) = api(&server, "GET", &next, "").await;
    assert_eq!(second, json!({"keys": ["greeting"], "cursor": null}));
    let (_, prefixed) = api(&server, "GET", "/api/keys?store=notes&prefix=do", "").await;
    assert_eq!(prefixed, json!({"keys": ["doomed"], "cursor": null}));
    // An empty prefix is no prefix.
    let (_, all) = api(&server, "GET", "/api/keys?store=notes&prefix=", "").await;
    assert_eq!(all["keys"].as_array().unwrap().len(), 3);
    server.stop().await;
}

fn url_escape(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_have_exact_statuses_and_messages() {
    let server = serve(false).await;
    let empty_key = format!(
        "key \"\": {}",
        edgeshim_engine::check_kv_key("").unwrap_err()
    );
    let cases: &[(&str, &str, &str, u16, &str)] = &[
        (
            "GET",
            "/api/entry?store=nope&key=k",
            "",
            404,
            r#"no KV store named "nope" (stores: empty, notes)"#,
        ),
        (
            "GET",
            "/api/entry?store=notes&key=missing",
            "",
            404,
            r#"key "missing" is not in store "notes""#,
        ),
        (
            "GET",
            "/api/entry?store=notes&key=a%2F..%2Fb",
            "",
            400,
            r#"key "a/../b": Invalid argument."#,
        ),
        ("GET", "/api/entry?store=notes&key=", "", 400, &empty_key),
        (
            "GET",
            "/api/entry?store=notes",
            "",
            400,
            "the key parameter is missing",
        ),
        (
            "DELETE",
            "/api/entry?store=notes&key=missing",
            "",
            404,
            r#"key "missing" is not in store "notes""#,
        ),
        (
            "PUT",
            "/api/entry?store=notes&key=greeting",
            r#"{"value": "x", "add": true}"#,
            409,
            r#"key "greeting" already exists in store "notes""#,
        ),
        (
            "PUT",
            "/api/entry?store=notes&key=k",
            r#"{"metadata": "m"}"#,
            400,
            "give the value as either value (text) or value_base64",
        ),
        (
            "PUT",
            "/api/entry?store=notes&key=k",
            r#"{"value": "x", "ttl": -1}"#,
            400,
            "ttl -1 is not a number of seconds above 0",
        ),
        (
            "GET",
            "/api/keys?store=notes&limit=0",
            "",
            400,
            r#"limit "0" is not a number of keys from 1 to 1000"#,
        ),
        (
            "GET",
            "/api/keys?store=notes&cursor=%25%25",
            "",
            400,
            "the cursor is not one a listing of this store returned",
        ),
        (
            "POST",
            "/api/entry?store=notes&key=k",
            "",
            405,
            "POST is not allowed on /api/entry",
        ),
        (
            "DELETE",
            "/api/stores",
            "",
            405,
            "DELETE is not allowed on /api/stores",
        ),
        ("GET", "/nope", "", 404, "nothing at /nope"),
    ];
    for (method, path, body, status, message) in cases {
        let (got, error) = api(&server, method, path, body).await;
        assert_eq!(
            (got, error),
            (*status, json!({"error": message})),
            "{method} {path}"
        );
    }
    let (status, error) = api(&server, "PUT", "/api/entry?store=notes&key=k", "{").await;
    assert_eq!(status, 400);
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .starts_with("the body is not a write: "),
        "{error}"
    );
    // A name other than loopback's (DNS rebinding) is refused.
    let foreign = foreign_host(page(&server)).await;
    assert_eq!(foreign.status, 403);
    assert_eq!(
        foreign.text(),
        json!({"error": "this page answers only requests to 127.0.0.1, [::1] or localhost, \
                         not to \"evil.example\" (it edits the app's data)"})
        .to_string()
    );
    // The page's files are served.
    let html = request(page(&server), "GET", "/", &[], b"").await;
    assert_eq!(html.status, 200);
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_listens_on_loopback_only() {
    let mut options = ServeOptions::new(fixture("inspect/index.js"));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.inspect = Some("0.0.0.0:0".parse().unwrap());
    let error = edgeshim::start(options).await.unwrap_err().to_string();
    assert_eq!(
        error,
        "--inspect=0.0.0.0:0: not a loopback address; the page edits the app's data without \
         any login, so it listens on 127.0.0.1 or [::1] only"
    );
}

/// `GET /api/stores` with the `Host` a DNS-rebinding page would send.
async fn foreign_host(page: SocketAddr) -> HttpResponse {
    let mut stream = tokio::net::TcpStream::connect(page).await.unwrap();
    let head = "GET /api/stores HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    HttpResponse {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

// --- The edge caches ---

/// The fixture on `clock`, its requests served by `pops` edge locations.
async fn serve_on(clock: Arc<ManualClock>, pops: usize) -> edgeshim::RunningServer {
    let mut options = ServeOptions::new(fixture("inspect/index.js"));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.inspect = Some("127.0.0.1:0".parse().unwrap());
    options.pool = support::pool(1, false);
    options.pops = pops;
    options.clock = clock;
    edgeshim::start(options).await.expect("the fixture starts")
}

fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ))
}

/// `GET /cache/KEY` of the app: its `x-cache` and body.
async fn app_cached(server: &edgeshim::RunningServer, key: &str, pop: &str) -> (String, String) {
    let response = request(
        server.addr(),
        "GET",
        &format!("/cache/{key}"),
        &[("x-edgeshim-pop", pop)],
        b"",
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text());
    (
        response.header("x-cache").unwrap_or_default().to_owned(),
        response.text(),
    )
}

async fn purge(server: &edgeshim::RunningServer, body: &str) -> (u16, Value) {
    let response = request(
        page(server),
        "POST",
        "/api/cache/purge",
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
    .await;
    (
        response.status,
        serde_json::from_slice(&response.body).unwrap(),
    )
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_lists_reads_and_purges_what_the_app_cached() {
    let clock = manual_clock();
    let server = serve_on(clock.clone(), 1).await;
    for key in ["page/a", "page/b", "other"] {
        assert_eq!(app_cached(&server, key, "0").await.0, "MISS");
    }
    assert_eq!(
        app_cached(&server, "page/a", "0").await,
        ("HIT 1".to_owned(), "cached page/a".to_owned())
    );
    clock.advance(Duration::from_secs(3));

    let (status, caches) = api(&server, "GET", "/api/caches", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        caches,
        json!({"caches": [{"location": 0, "name": "pop-0", "keys": 3, "bytes": 38}]})
    );

    // In byte order, a page at a time, by prefix; each object with its lifetime.
    let listed = |key: &str, hits: u64| {
        json!({
            "key": key, "key_hex": hex(key), "key_is_text": true, "pending": false,
            "variants": [{
                "vary": [], "length": 7 + key.len(),
                "max_age_ms": 60_000, "age_ms": 3_000, "ttl_ms": 57_000,
                "stale_while_revalidate_ms": 5_000, "stale_if_error_ms": 0,
                "surrogate_keys": ["inspect", format!("key-{key}")],
                "user_metadata": "from the app",
                "hits": hits, "stale": false, "usable": true,
            }],
        })
    };
    let (status, first) = api(&server, "GET", "/api/cache/keys?prefix=page%2F&limit=1", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        first,
        json!({"keys": [listed("page/a", 1)], "cursor": hex("page/a")})
    );
    let next = format!(
        "/api/cache/keys?prefix=page%2F&limit=1&cursor={}",
        hex("page/a")
    );
    let (_, second) = api(&server, "GET", &next, "").await;
    assert_eq!(
        second,
        json!({"keys": [listed("page/b", 0)], "cursor": null})
    );
    let (_, all) = api(&server, "GET", "/api/cache/keys?location=0", "").await;
    assert_eq!(
        all,
        json!({"keys": [listed("other", 0), listed("page/a", 1), listed("page/b", 0)], "cursor": null})
    );

    // One object: its body too, with its kind; by text key or by hex.
    let (status, object) = api(&server, "GET", "/api/cache/object?key=page%2Fa", "").await;
    assert_eq!(status, 200);
    let mut expected = listed("page/a", 1);
    let variant = &mut expected["variants"][0];
    variant["body_base64"] = json!("Y2FjaGVkIHBhZ2UvYQ==");
    variant["body_truncated"] = json!(false);
    variant["kind"] = json!("text");
    variant["mime"] = Value::Null;
    assert_eq!(object, expected);
    let by_hex = format!("/api/cache/object?key_hex={}", hex("page/a"));
    assert_eq!(api(&server, "GET", &by_hex, "").await, (200, expected));

    // A soft purge: stale, no time left, still served.
    assert_eq!(
        purge(&server, r#"{"surrogate_key": "key-page/a", "soft": true}"#).await,
        (200, json!({"purged": 1}))
    );
    let (_, soft) = api(&server, "GET", "/api/cache/object?key=page%2Fa", "").await;
    assert_eq!(
        (
            &soft["variants"][0]["stale"],
            &soft["variants"][0]["ttl_ms"]
        ),
        (&json!(true), &json!(0))
    );
    assert_eq!(app_cached(&server, "page/a", "0").await.0, "HIT 2");

    // A hard purge of the tag every object has: the cache is empty, and the app misses.
    assert_eq!(
        purge(&server, r#"{"surrogate_key": "inspect"}"#).await,
        (200, json!({"purged": 3}))
    );
    assert_eq!(
        api(&server, "GET", "/api/cache/keys", "").await,
        (200, json!({"keys": [], "cursor": null}))
    );
    assert_eq!(app_cached(&server, "page/a", "0").await.0, "MISS");

    // One key dropped.
    assert_eq!(
        api(&server, "DELETE", "/api/cache/object?key=page%2Fa", "").await,
        (200, json!({"removed": 1}))
    );
    assert_eq!(app_cached(&server, "page/a", "0").await.0, "MISS");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_shows_each_edge_locations_cache() {
    let server = serve_on(manual_clock(), 2).await;
    assert_eq!(app_cached(&server, "here", "1").await.0, "MISS");
    let (_, caches) = api(&server, "GET", "/api/caches", "").await;
    assert_eq!(
        caches,
        json!({"caches": [
            {"location": 0, "name": "pop-0", "keys": 0, "bytes": 0},
            {"location": 1, "name": "pop-1", "keys": 1, "bytes": 11},
        ]})
    );
    let (_, there) = api(&server, "GET", "/api/cache/keys?location=1", "").await;
    assert_eq!(there["keys"][0]["key"], "here");
    let (_, elsewhere) = api(&server, "GET", "/api/cache/keys?location=0", "").await;
    assert_eq!(elsewhere, json!({"keys": [], "cursor": null}));
    // A purge reaches the location it names only, as the app's own purge does.
    let response = request(
        page(&server),
        "POST",
        "/api/cache/purge?location=0",
        &[("content-type", "application/json; charset=utf-8")],
        br#"{"surrogate_key": "inspect"}"#,
    )
    .await;
    assert_eq!(
        (response.status, response.text()),
        (200, r#"{"purged":0}"#.to_owned())
    );
    assert_eq!(app_cached(&server, "here", "1").await.0, "HIT 1");
    let (status, error) = api(&server, "GET", "/api/cache/keys?location=2", "").await;
    assert_eq!(
        (status, error),
        (
            404,
            json!({"error": "no edge location \"2\": there are 2, 0 to 1 (--pops)"})
        )
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_api_errors_have_exact_statuses_and_messages() {
    let server = serve_on(manual_clock(), 1).await;
    let cases: &[(&str, &str, u16, &str)] = &[
        (
            "GET",
            "/api/cache/keys?location=1",
            404,
            "no edge location \"1\": there is one, 0 (--pops sets how many)",
        ),
        (
            "GET",
            "/api/cache/keys?location=x",
            404,
            "no edge location \"x\": there is one, 0 (--pops sets how many)",
        ),
        (
            "GET",
            "/api/cache/keys?cursor=zz",
            400,
            "the cursor is not one a listing of this cache returned",
        ),
        (
            "GET",
            "/api/cache/keys?limit=1001",
            400,
            r#"limit "1001" is not a number of keys from 1 to 1000"#,
        ),
        (
            "GET",
            "/api/cache/object?key=missing",
            404,
            r#"key "missing" is not in the cache of pop-0"#,
        ),
        (
            "DELETE",
            "/api/cache/object?key_hex=00ff",
            404,
            r#"key "00ff" is not in the cache of pop-0"#,
        ),
        (
            "GET",
            "/api/cache/object",
            400,
            "give the key as either key (text) or key_hex",
        ),
        (
            "GET",
            "/api/cache/object?key_hex=0g",
            400,
            r#"key_hex "0g" is not hexadecimal bytes"#,
        ),
        (
            "GET",
            "/api/cache/purge",
            405,
            "GET is not allowed on /api/cache/purge",
        ),
        (
            "PUT",
            "/api/cache/object?key=k",
            405,
            "PUT is not allowed on /api/cache/object",
        ),
        (
            "POST",
            "/api/caches",
            405,
            "POST is not allowed on /api/caches",
        ),
    ];
    for (method, path, status, message) in cases {
        let (got, error) = api(&server, method, path, "").await;
        assert_eq!(
            (got, error),
            (*status, json!({"error": message})),
            "{method} {path}"
        );
    }
    // A purge is JSON, which a page of another origin cannot send without a preflight.
    let (status, error) = api(
        &server,
        "POST",
        "/api/cache/purge",
        r#"{"surrogate_key": "inspect"}"#,
    )
    .await;
    assert_eq!(
        (status, error),
        (
            415,
            json!({"error": "send the body as JSON (content-type: application/json)"})
        )
    );
    assert_eq!(
        purge(&server, r#"{"surrogate_key": ""}"#).await,
        (400, json!({"error": "give the surrogate key to purge"}))
    );
    let (status, error) = purge(&server, r#"{"soft": true}"#).await;
    assert_eq!(status, 400);
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .starts_with("the body is not a purge: missing field `surrogate_key`"),
        "{error}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_cache_outlives_a_watch_reload() {
    let project = tempfile::tempdir().unwrap();
    for file in ["index.js", "fastly.toml"] {
        std::fs::copy(
            fixture(&format!("inspect/{file}")),
            project.path().join(file),
        )
        .unwrap();
    }
    let entry = project.path().join("index.js");
    let mut options = ServeOptions::new(&entry);
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.inspect = Some("127.0.0.1:0".parse().unwrap());
    options.pool = support::pool(1, false);
    options.watch = true;
    let server = edgeshim::start(options).await.expect("the fixture starts");
    assert_eq!(app_cached(&server, "old", "0").await.0, "MISS");
    let (_, before) = api(&server, "GET", "/api/cache/keys", "").await;
    assert_eq!(before["keys"][0]["key"], "old");

    let source = std::fs::read_to_string(&entry).unwrap();
    std::fs::write(
        &entry,
        source.replace("`cached ${key}`", "`cached v2 ${key}`"),
    )
    .unwrap();
    // Until the new version answers (a fresh key each time: the cache outlives versions).
    let deadline = Instant::now() + DEADLINE;
    let mut tries = 0;
    let new_key = loop {
        tries += 1;
        let key = format!("new{tries}");
        if app_cached(&server, &key, "0").await.1 == format!("cached v2 {key}") {
            break key;
        }
        assert!(Instant::now() < deadline, "the app never reloaded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (_, after) = api(&server, "GET", "/api/cache/keys", "").await;
    let keys: Vec<&Value> = after["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["key"])
        .collect();
    // The cache is the platform's, not the version's: what the old version cached is there
    // for the new one, as on Compute after a deploy.
    assert_eq!(keys.last(), Some(&&json!("old")), "{after}");
    assert!(keys.contains(&&json!(new_key)), "{after}");
    let (outcome, body) = app_cached(&server, "old", "0").await;
    assert_eq!((outcome.as_str(), body.as_str()), ("HIT 1", "cached old"));
    server.stop().await;
}

// --- The live log ---

/// The live log's stream, read until it holds every one of `wanted`; returns what it read.
async fn log_until(
    page: SocketAddr,
    wanted: &[&str],
    during: impl std::future::Future<Output = ()>,
) -> String {
    let mut stream = tokio::net::TcpStream::connect(page).await.unwrap();
    let head = format!("GET /api/log HTTP/1.1\r\nHost: {page}\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    // Subscribed once the response head is in: the events `during` causes are sent live.
    while !String::from_utf8_lossy(&seen).contains("text/event-stream") {
        let read = tokio::time::timeout(DEADLINE, stream.read(&mut buffer))
            .await
            .unwrap()
            .unwrap();
        assert!(read > 0, "the log stream ended");
        seen.extend_from_slice(&buffer[..read]);
    }
    during.await;
    let deadline = Instant::now() + DEADLINE;
    loop {
        let text = String::from_utf8_lossy(&seen).into_owned();
        if wanted.iter().all(|w| text.contains(w)) {
            return text;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let read = tokio::time::timeout(left, stream.read(&mut buffer))
            .await
            .unwrap_or_else(|_| panic!("the log never showed {wanted:?}; it showed:\n{text}"))
            .unwrap();
        assert!(read > 0, "the log stream ended; it showed:\n{text}");
        seen.extend_from_slice(&buffer[..read]);
    }
}

async fn live_log_attributes_each_call_to_its_request(reuse_instances: bool) {
    let server = serve(reuse_instances).await;
    let requests = async {
        assert_eq!(app_get(&server, "greeting").await.body, b"hello");
        assert_eq!(app_get(&server, "absent").await.status, 404);
    };
    let log = log_until(
        page(&server),
        &[
            r#""key":"greeting","outcome":"found, 5 bytes""#,
            r#""key":"absent","outcome":"not found""#,
            r#""type":"done","request""#,
        ],
        requests,
    )
    .await;
    let events: Vec<Value> = log
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).unwrap())
        .collect();
    let id_of = |path: &str| {
        events
            .iter()
            .find(|e| e["type"] == "request" && e["path"] == path)
            .unwrap_or_else(|| panic!("no request {path} in {events:?}"))["id"]
            .clone()
    };
    let (greeting, absent) = (id_of("/greeting"), id_of("/absent"));
    assert_ne!(greeting, absent);
    let call_of = |key: &str| {
        events
            .iter()
            .find(|e| e["type"] == "call" && e["call"]["key"] == key)
            .unwrap_or_else(|| panic!("no call for {key} in {events:?}"))
    };
    let call = call_of("greeting");
    assert_eq!(call["request"], greeting);
    assert_eq!(
        (
            &call["call"]["kind"],
            &call["call"]["op"],
            &call["call"]["target"]
        ),
        (&json!("kv"), &json!("lookup"), &json!("notes"))
    );
    assert_eq!(call_of("absent")["request"], absent);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_log_attributes_calls_in_snapshot_copies() {
    live_log_attributes_each_call_to_its_request(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_log_attributes_calls_in_reused_instances() {
    live_log_attributes_each_call_to_its_request(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_log_names_the_edge_location_and_the_page_writes_through_every_one() {
    let mut options = ServeOptions::new(fixture("inspect/index.js"));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.inspect = Some("127.0.0.1:0".parse().unwrap());
    options.pool = support::pool(1, false);
    options.pops = 2;
    let server = edgeshim::start(options).await.expect("the fixture starts");
    let (status, _) = api(
        &server,
        "PUT",
        "/api/entry?store=notes&key=greeting",
        r#"{"value": "from the page"}"#,
    )
    .await;
    assert_eq!(status, 200);
    let app = server.addr();
    let requests = async {
        for pop in ["0", "1"] {
            let read = request(app, "GET", "/greeting", &[("x-edgeshim-pop", pop)], b"").await;
            assert_eq!(read.body, b"from the page", "pop {pop}");
        }
    };
    let log = log_until(
        page(&server),
        &[r#""pop":0"#, r#""pop":1"#, r#""type":"done""#],
        requests,
    )
    .await;
    assert!(
        log.contains(r#""method":"GET","path":"/greeting","pop":1"#),
        "{log}"
    );
    server.stop().await;
}

// --- The page in a browser ---

/// chromedriver on a free loopback port, and a headless chromium session through it.
struct Browser {
    client: Client,
    driver: Child,
    /// For the screenshot's name.
    test: &'static str,
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

impl Browser {
    /// `None` (with a note) only when chromium is missing and `EDGESHIM_SKIP_BROWSER_TESTS`
    /// is set: a missing browser fails the test otherwise, so that no run passes unseen.
    async fn start(test: &'static str) -> Option<Self> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|path| !std::path::Path::new(path).exists())
            .collect();
        if !missing.is_empty() {
            let message = format!(
                "{test}: {} missing; install Debian's browser with \
                 `apt-get install -y chromium chromium-driver` (.ci/run does)",
                missing.join(" and ")
            );
            if std::env::var_os("EDGESHIM_SKIP_BROWSER_TESTS").is_none() {
                panic!("{message}; or set EDGESHIM_SKIP_BROWSER_TESTS=1 to skip the browser tests");
            }
            eprintln!("SKIPPED {message}");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .args([
                format!("--port={port}"),
                "--allowed-ips=127.0.0.1".to_owned(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1000"],
            }),
        );
        let webdriver = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + DEADLINE;
        // chromedriver takes a moment to listen: retry until it answers.
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{test}: no browser session through chromedriver: {e}"),
            }
        };
        Some(Self {
            client,
            driver,
            test,
        })
    }

    /// Ends the session; on `failure`, saves a screenshot first and fails with its path.
    async fn finish(mut self, outcome: Result<(), String>) {
        let screenshot = match &outcome {
            Ok(()) => None,
            Err(_) => Some(self.screenshot().await),
        };
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        if let Err(failure) = outcome {
            panic!(
                "{}: {failure}\nscreenshot: {}",
                self.test,
                screenshot.unwrap_or_default()
            );
        }
    }

    async fn screenshot(&self) -> String {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("inspect-screenshots");
        let path = dir.join(format!("{}.png", self.test));
        match self.client.screenshot().await {
            Ok(png) => {
                match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, png)) {
                    Ok(()) => path.display().to_string(),
                    Err(e) => format!("(not saved: {e})"),
                }
            }
            Err(e) => format!("(not taken: {e})"),
        }
    }

    /// The value of the JS expression `expression` on the page.
    async fn eval(&self, expression: &str) -> Result<Value, String> {
        self.client
            .execute(&format!("return {expression};"), vec![])
            .await
            .map_err(|e| format!("evaluating {expression}: {e}"))
    }

    /// Waits until `expression` is `true` on the page.
    async fn until(&self, expression: &str) -> Result<(), String> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if self.eval(expression).await? == Value::Bool(true) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("never true: {expression}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn click(&self, css: &str) -> Result<(), String> {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .map_err(|e| format!("finding {css}: {e}"))?;
        element
            .click()
            .await
            .map_err(|e| format!("clicking {css}: {e}"))
    }

    /// Replaces what the field `css` holds with `text`, typed.
    async fn type_into(&self, css: &str, text: &str) -> Result<(), String> {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .map_err(|e| format!("finding {css}: {e}"))?;
        element
            .clear()
            .await
            .map_err(|e| format!("clearing {css}: {e}"))?;
        element
            .send_keys(text)
            .await
            .map_err(|e| format!("typing into {css}: {e}"))
    }
}

/// A JS string literal of `text`.
fn js(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

fn text_of(css: &str) -> String {
    format!("(document.querySelector({})?.textContent ?? null)", js(css))
}

fn key_button(key: &str) -> String {
    format!("#keys button[data-key={}]", js(key))
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_edits_a_value_that_the_app_reads_back() {
    let Some(browser) = Browser::start("browser_edits_a_value_that_the_app_reads_back").await
    else {
        return;
    };
    let server = serve(false).await;
    let outcome = async {
        let b = &browser;
        b.client
            .goto(&format!("http://{}/?store=notes", page(&server)))
            .await
            .map_err(|e| e.to_string())?;
        b.until(&format!("document.querySelector({}) !== null", js(&key_button("greeting"))))
            .await?;
        b.click(&key_button("greeting")).await?;
        b.until(&format!("{} === 'hello'", text_of("#value"))).await?;
        b.until(&format!("{} === 'seed-meta'", text_of("#entry-metadata"))).await?;

        let edited = "edited on the page: ünïcødé ✓";
        b.click("#edit").await?;
        b.type_into("#edit-value", edited).await?;
        b.click("#save").await?;
        b.until(&format!("{} === {}", text_of("#value"), js(edited))).await?;
        let read = app_get(&server, "greeting").await;
        check(read.status == 200 && read.body == edited.as_bytes(), || {
            format!("the app read {} {:?}", read.status, read.text())
        })?;

        // The live log shows that request with its KV lookup.
        let call = format!(
            "kv lookup notes greeting → found, {} bytes",
            edited.len()
        );
        b.until(&format!(
            "Array.from(document.querySelectorAll('#log tr.request[data-path=\"/greeting\"] + tr li.call'))\
             .some((li) => li.textContent.startsWith({}))",
            js(&call)
        ))
        .await?;
        b.until(
            "document.querySelector('#log tr.request[data-path=\"/greeting\"]').children[3].textContent === '200'",
        )
        .await
    }
    .await;
    browser.finish(outcome).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_adds_deletes_searches_and_pages() {
    let Some(browser) = Browser::start("browser_adds_deletes_searches_and_pages").await else {
        return;
    };
    let server = serve(false).await;
    let outcome = async {
        let b = &browser;
        let keys = "Array.from(document.querySelectorAll('#keys button.key'), (k) => k.dataset.key).join(',')";
        // Two keys a page.
        b.client
            .goto(&format!("http://{}/?store=notes&limit=2", page(&server)))
            .await
            .map_err(|e| e.to_string())?;
        b.until(&format!("{keys} === 'config.json,doomed'")).await?;
        b.until("!document.querySelector('#more').hidden").await?;
        b.click("#more").await?;
        b.until(&format!("{keys} === 'config.json,doomed,greeting'")).await?;
        b.until("document.querySelector('#more').hidden").await?;

        // JSON is shown pretty-printed.
        b.click(&key_button("config.json")).await?;
        b.until(&format!(
            "{} === {}",
            text_of("#value"),
            js("{\n  \"theme\": \"dark\",\n  \"sizes\": [\n    1,\n    2\n  ]\n}")
        ))
        .await?;

        // Prefix search.
        b.type_into("#prefix", "do").await?;
        b.client
            .find(Locator::Css("#prefix"))
            .await
            .map_err(|e| e.to_string())?
            .send_keys("\u{E007}")
            .await
            .map_err(|e| e.to_string())?;
        b.until(&format!("{keys} === 'doomed'")).await?;

        // Delete, after confirming.
        b.click(&key_button("doomed")).await?;
        b.until(&format!("{} === 'doomed'", text_of("#entry-key"))).await?;
        b.click("#delete").await?;
        b.until("!document.querySelector('#confirm').hidden").await?;
        b.click("#confirm-delete").await?;
        b.until(&format!("{keys} === ''")).await?;
        let gone = app_get(&server, "doomed").await;
        check(gone.status == 404, || format!("the app still reads doomed: {}", gone.status))?;

        // Add, with metadata and a TTL.
        b.type_into("#prefix", "").await?;
        b.click("#search button").await?;
        b.until(&format!("{keys} === 'config.json,greeting'")).await?;
        b.click("#new").await?;
        b.type_into("#edit-key", "added/one").await?;
        b.type_into("#edit-value", "fresh value").await?;
        b.type_into("#edit-metadata", "added-meta").await?;
        b.type_into("#edit-ttl", "120").await?;
        b.click("#save").await?;
        b.until(&format!("{} === 'fresh value'", text_of("#value"))).await?;
        b.until(&format!("{} === 'added-meta'", text_of("#entry-metadata"))).await?;
        b.until(&format!("/^1\\d\\d\\.\\d s$/.test({})", text_of("#entry-ttl"))).await?;
        let added = app_get(&server, "added%2Fone").await;
        check(added.body == b"fresh value", || format!("the app read {:?}", added.text()))?;

        // Adding a key that exists is refused, and the page says why.
        b.click("#new").await?;
        b.type_into("#edit-key", "greeting").await?;
        b.type_into("#edit-value", "clash").await?;
        b.click("#save").await?;
        b.until(&format!(
            "{} === {}",
            text_of("#error"),
            js("key \"greeting\" already exists in store \"notes\"")
        ))
        .await?;
        b.until("!document.querySelector('#error').hidden").await?;
        let kept = app_get(&server, "greeting").await;
        check(kept.body == b"hello", || format!("the app read {:?}", kept.text()))?;

        // An image is previewed.
        let (status, _) = api(
            &server,
            "PUT",
            "/api/entry?store=notes&key=pixel.png",
            r#"{"value_base64": "iVBORw0KGgoAAAANSUhEUg=="}"#,
        )
        .await;
        check(status == 200, || format!("PUT pixel.png: {status}"))?;
        b.click("#cancel").await?;
        b.click("#search button").await?;
        // Past the first page of two.
        b.until("!document.querySelector('#more').hidden").await?;
        b.click("#more").await?;
        b.until(&format!("document.querySelector({}) !== null", js(&key_button("pixel.png"))))
            .await?;
        b.click(&key_button("pixel.png")).await?;
        b.until("document.querySelector('img#value')?.src.startsWith('data:image/png;base64,iVBOR') === true")
            .await
    }
    .await;
    browser.finish(outcome).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_shows_a_cached_object_and_a_purge_removes_it() {
    let Some(browser) =
        Browser::start("browser_shows_a_cached_object_and_a_purge_removes_it").await
    else {
        return;
    };
    let server = serve(false).await;
    let outcome = async {
        let b = &browser;
        let cached = |expected: &'static str| {
            let server = &server;
            async move {
                let (x_cache, body) = app_cached(server, "page/a", "0").await;
                check(x_cache == expected && body == "cached page/a", || {
                    format!("the app answered {x_cache} {body:?}, not {expected}")
                })
            }
        };
        cached("MISS").await?;
        cached("HIT 1").await?;

        // From a store to the cache, through the picker.
        b.client
            .goto(&format!("http://{}/?store=notes", page(&server)))
            .await
            .map_err(|e| e.to_string())?;
        b.until(&format!(
            "document.querySelector({}) !== null",
            js(&key_button("greeting"))
        ))
        .await?;
        b.client
            .find(Locator::Css("#store"))
            .await
            .map_err(|e| e.to_string())?
            .select_by_value("cache:0")
            .await
            .map_err(|e| e.to_string())?;
        let object = key_button("page/a");
        b.until(&format!("document.querySelector({}) !== null", js(&object)))
            .await?;
        b.until(&format!(
            "{}.includes('1 hit · tags inspect key-page/a')",
            text_of(&format!("{object} .summary"))
        ))
        .await?;
        b.until(
            "document.querySelector('#new').hidden && !document.querySelector('#purge').hidden",
        )
        .await?;

        // The object, with its body.
        b.click(&object).await?;
        b.until(&format!("{} === 'cached page/a'", text_of("#cache-body-0")))
            .await?;
        let fact = |name: &str| text_of(&format!("#cache-variants dd[data-fact={}]", js(name)));
        b.until(&format!(
            "{} === 'inspect key-page/a'",
            fact("surrogate-keys")
        ))
        .await?;
        b.until(&format!("{} === '1'", fact("hits"))).await?;
        b.until(&format!("{} === '60.0 s'", fact("max-age")))
            .await?;
        b.until(&format!("{} === 'fresh'", fact("state"))).await?;

        // A soft purge leaves it, stale; a hard one removes it.
        b.type_into("#purge-key", "inspect").await?;
        b.click("#purge-soft").await?;
        b.click("#purge button").await?;
        b.until(&format!(
            "{} === {}",
            text_of("#purge-result"),
            js("Soft-purged 1 object tagged \"inspect\" at pop-0.")
        ))
        .await?;
        b.until(&format!(
            "{} === 'stale (served while revalidated)'",
            fact("state")
        ))
        .await?;
        b.click("#purge-soft").await?;
        b.click("#purge button").await?;
        b.until(&format!(
            "{} === {}",
            text_of("#purge-result"),
            js("Purged 1 object tagged \"inspect\" at pop-0.")
        ))
        .await?;
        b.until(&format!("document.querySelector({}) === null", js(&object)))
            .await?;
        b.until("document.querySelector('#cache-object').hidden")
            .await?;
        cached("MISS").await
    }
    .await;
    browser.finish(outcome).await;
    server.stop().await;
}
