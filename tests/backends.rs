//! `fetch()` to backends against origin servers these tests start on loopback: static
//! backends from fastly.toml, dynamic ones, streaming both ways, each timeout, refused
//! connections, unknown names, the self-loop, Compute's 32-request limit, TLS with a
//! generated CA, and `fastly:backend`'s `Backend`. Messages are js-compute 3.46's
//! (`runtime/fastly/host-api/error_numbers.msg`, `FastlySendError::message`), verbatim.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::origin::{Origin, Tls};
use support::process::{ServerProcess, TempDir};
use support::{fixture, pool, request, Server};

/// Serves `fixtures/backends` with a fastly.toml whose backend `origin` is `url` (and
/// `extra` lines), in Compute's instance model unless `reuse`.
async fn serve_with(url: &str, extra: &str, reuse: bool) -> (Server, TempDir) {
    let dir = TempDir::new("backends");
    let config = dir.path().join("fastly.toml");
    std::fs::write(
        &config,
        format!("[local_server.backends.origin]\nurl = \"{url}\"\n{extra}"),
    )
    .unwrap();
    let mut options = edgeshim::ServeOptions::new(fixture("backends/index.js"));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.config = Some(config);
    options.pool = pool(2, reuse);
    let running = edgeshim::start(options).await.expect("the fixture starts");
    (Server { running }, dir)
}

async fn json_of(server: &Server, path: &str) -> (u16, Value) {
    let response = server.get(path).await;
    let value = serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("{path}: not JSON: {}", response.text()));
    (response.status, value)
}

fn network_error(message: &str) -> Value {
    json!({ "name": "NetworkError", "message": message, "ctor": "DOMException" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_backend_gets_the_request_and_the_app_its_response() {
    let origin = Origin::start().await;
    for reuse in [false, true] {
        let (server, _dir) = serve_with(&format!("http://{}", origin.addr), "", reuse).await;
        let (status, value) = json_of(&server, "/static").await;
        assert_eq!(status, 200, "{value}");
        let body: Value = serde_json::from_str(value["body"].as_str().unwrap()).unwrap();
        // The URL's host is the Host header; its path and query go to the backend; the
        // request carries edgeshim's hop in CDN-Loop.
        assert_eq!(
            body,
            json!({"method": "GET", "path": "/echo?x=1", "host": "example.com", "cdnLoop": "edgeshim", "length": 0,
                   "cookie": null, "forwardedHost": null, "cacheKey": null, "version": "HTTP/1.1"})
        );
        assert_eq!(value["backend"], "origin");
        assert_eq!(value["ip"], "127.0.0.1");
        assert_eq!(value["port"], origin.addr.port());
        assert_eq!(value["url"], "http://example.com/echo?x=1");
        let (_, object) = json_of(&server, "/static-object").await;
        assert_eq!(object["backend"], "origin", "{object}");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_backend_fetch_makes_a_dynamic_one_until_the_app_enforces_explicit_ones() {
    let origin = Origin::start().await;
    let (server, _dir) = serve_with(&format!("http://{}", origin.addr), "", false).await;
    let port = origin.addr.port();
    let (status, value) = json_of(&server, &format!("/dynamic?port={port}")).await;
    assert_eq!(status, 200, "{value}");
    assert_eq!(value["backend"], format!("127.0.0.1:{port}"));
    let body: Value = serde_json::from_str(value["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["host"], format!("127.0.0.1:{port}"));

    let (status, value) = json_of(&server, &format!("/explicit?port={port}")).await;
    assert_eq!(status, 500);
    assert_eq!(
        value,
        json!({
            "name": "Error",
            "message": format!("No backend specified for request with url http://127.0.0.1:{port}/echo. Must provide a `backend` property on the `init` object passed to either `new Request()` or `fetch`"),
            "ctor": "Error",
        })
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_backends_and_refused_connections_fail_with_the_platforms_errors() {
    let origin = Origin::start().await;
    let (server, _dir) = serve_with(&format!("http://{}", origin.addr), "", false).await;
    let (status, value) = json_of(&server, "/unknown").await;
    assert_eq!(status, 500);
    assert_eq!(
        value,
        json!({"name": "TypeError", "message": "Requested backend named 'nope' does not exist", "ctor": "TypeError"})
    );
    // A port nothing listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (status, value) = json_of(&server, &format!("/refused?port={port}")).await;
    assert_eq!(status, 500);
    assert_eq!(value, network_error("Connection refused"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_timeout_fails_as_the_platform_reports_it() {
    let origin = Origin::start().await;
    let (server, _dir) = serve_with(&format!("http://{}", origin.addr), "", false).await;
    let target = origin.addr.to_string();
    // No head within firstByteTimeout.
    let started = std::time::Instant::now();
    let (status, value) = json_of(
        &server,
        &format!("/timeout?target={target}&kind=firstByteTimeout&path=/slow-head"),
    )
    .await;
    assert_eq!(
        (status, value),
        (500, network_error("HTTP response timeout"))
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    // The body stops for longer than betweenBytesTimeout: reading it fails.
    let (status, value) = json_of(
        &server,
        &format!("/timeout?target={target}&kind=betweenBytesTimeout&path=/stall"),
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(
        value,
        json!({"name": "TypeError", "message": "the body could not be read: HTTP response timeout", "ctor": "TypeError"})
    );
    // A listener whose accept queue is full takes no more connections: connecting times out.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let full = socket.listen(0).unwrap();
    let address = full.local_addr().unwrap();
    let mut queued = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(stream)) = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            tokio::net::TcpStream::connect(address),
        )
        .await
        {
            queued.push(stream);
        }
    }
    let (status, value) = json_of(
        &server,
        &format!("/timeout?target={address}&kind=connectTimeout&path=/"),
    )
    .await;
    assert_eq!((status, value), (500, network_error("Connection timeout")));
    drop((full, queued));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_33rd_backend_request_of_a_client_request_is_refused() {
    let origin = Origin::start().await;
    let (server, _dir) = serve_with(&format!("http://{}", origin.addr), "", false).await;
    let (_, value) = json_of(&server, "/many").await;
    assert_eq!(
        value,
        json!({"done": 32, "error": {"name": "Error", "message": "Too many backend requests: a request may make at most 32 (Compute's limit on backend requests per client request)", "ctor": "Error"}})
    );
    assert_eq!(
        origin.requests.load(std::sync::atomic::Ordering::SeqCst),
        32
    );
    // The next client request has its own 32.
    let (_, again) = json_of(&server, "/many").await;
    assert_eq!(again["done"], 32);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_pointing_at_the_server_itself_stops_after_a_few_hops() {
    let origin = Origin::start().await;
    let (server, _dir) = serve_with(&format!("http://{}", origin.addr), "", false).await;
    let port = server.addr().port();
    let response = server.get(&format!("/loop?port={port}")).await;
    // Three hops answer with the error of the fourth, passed back up.
    assert_eq!(response.status, 500);
    let value: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(
        value,
        json!({"name": "Error", "message": format!("Loop detected: the request to backend '127.0.0.1:{port}' has already passed through edgeshim 3 times (CDN-Loop); a backend pointing at this server makes every request fetch itself again"), "ctor": "Error"})
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_stream_both_ways_unchanged() {
    let origin = Origin::start().await;
    for reuse in [false, true] {
        let (server, _dir) = serve_with(&format!("http://{}", origin.addr), "", reuse).await;
        let upload: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
        let sum: u64 = upload.iter().map(|b| u64::from(*b)).sum();
        let response = request(server.addr(), "POST", "/proxy", &[], &upload).await;
        assert_eq!(response.status, 200);
        // The app copies the origin's headers, whose Content-Length the host drops as an
        // app's framing header; the body passed on keeps its known length all the same.
        let length = response.body.len().to_string();
        assert_eq!(response.header("content-length"), Some(length.as_str()));
        assert_eq!(response.header("transfer-encoding"), None);
        let value: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(value, json!({"length": 3_000_000, "sum": sum}));

        let response = server.get("/download?bytes=2000000").await;
        assert_eq!(response.status, 200);
        let expected: Vec<u8> = (0..2_000_000usize).map(|i| (i % 251) as u8).collect();
        assert!(response.body == expected, "the download differs");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_reach_the_app_as_they_are() {
    let origin = Origin::start().await;
    let (server, _dir) = serve_with(&format!("http://{}", origin.addr), "", false).await;
    for path in [
        "/redirect",
        "/redirect?mode=manual",
        "/redirect?mode=follow",
    ] {
        let (_, value) = json_of(&server, path).await;
        assert_eq!(
            value,
            json!({"status": 302, "location": "/echo", "redirected": false}),
            "{path}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_address_is_the_connections() {
    let origin = Origin::start().await;
    let (server, _dir) = serve_with(&format!("http://{}", origin.addr), "", false).await;
    let (_, value) = json_of(&server, "/client").await;
    assert_eq!(value, json!({"address": "127.0.0.1"}));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_objects_report_their_settings_and_refuse_bad_ones() {
    let origin = Origin::start().await;
    let (server, _dir) = serve_with(&format!("http://{}", origin.addr), "", false).await;
    let target = origin.addr.to_string();
    let (status, value) = json_of(&server, &format!("/backend?target={target}")).await;
    assert_eq!(status, 200, "{value}");
    let port = origin.addr.port();
    assert_eq!(
        value["made"],
        json!({"name": "made", "isDynamic": true, "target": "127.0.0.1", "hostOverride": "example.org", "port": port,
               "connectTimeout": 1500, "firstByteTimeout": 15000, "betweenBytesTimeout": 10000, "isSSL": false,
               "string": "made", "health": "unknown"})
    );
    assert_eq!(
        value["fixed"],
        json!({"name": "origin", "isDynamic": false, "target": "127.0.0.1", "port": port,
               "connectTimeout": 1000, "firstByteTimeout": 15000, "betweenBytesTimeout": 10000, "isSSL": false,
               "string": "origin", "health": "unknown"})
    );
    assert_eq!(value["exists"], json!([true, true, false]));
    assert_eq!(value["echo"]["host"], "example.org");

    let (_, errors) = json_of(&server, "/backend-errors").await;
    let expected = [
        (
            "TypeError",
            "Backend constructor: At least 1 argument required, but only 0 passed",
        ),
        (
            "TypeError",
            "Backend constructor: configuration parameter must be an Object",
        ),
        (
            "TypeError",
            "Backend constructor: name can not be null or undefined",
        ),
        (
            "TypeError",
            "Backend constructor: name can not be an empty string",
        ),
        (
            "TypeError",
            "Backend constructor: name can not be more than 254 characters",
        ),
        (
            "TypeError",
            "Backend constructor: target can not be null or undefined",
        ),
        (
            "TypeError",
            "Backend constructor: target can not be an empty string",
        ),
        (
            "TypeError",
            "Backend constructor: target does not contain a valid IPv4, IPv6, or hostname address",
        ),
        (
            "RangeError",
            "Backend constructor: connectTimeout can not be a negative number",
        ),
        (
            "RangeError",
            "Backend constructor: firstByteTimeout is not a valid number",
        ),
        (
            "RangeError",
            "Backend constructor: betweenBytesTimeout is above the maximum of 4294967296",
        ),
        (
            "RangeError",
            "Backend constructor: tlsMinVersion must be either 1, 1.1, 1.2, or 1.3",
        ),
        (
            "RangeError",
            "Backend constructor: tlsMinVersion must be less than or equal to tlsMaxVersion",
        ),
        (
            "TypeError",
            "Backend constructor: hostOverride can not be an empty string",
        ),
        (
            "Error",
            "Backend.fromName: backend named 'nope' does not exist",
        ),
        (
            "Error",
            "Backend.health: backend named 'nope' does not exist",
        ),
        (
            "Error",
            "Backend constructor: a backend named 'origin' already exists",
        ),
    ];
    let expected: Vec<Value> = expected
        .iter()
        .map(|(name, message)| json!({"name": name, "message": message, "ctor": name}))
        .collect();
    assert_eq!(errors, Value::Array(expected));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_backends_trust_the_configured_ca_and_nothing_else_and_speak_http2() {
    let tls = Tls::generate();
    let origin = Origin::start_tls(&tls).await;
    let dir = TempDir::new("tls-ca");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &tls.ca_pem).unwrap();
    let url = format!("https://localhost:{}", origin.addr.port());
    let trusted = format!(
        "ca_certificate = {{ file = {:?} }}\n",
        ca.display().to_string()
    );
    let (server, _config) = serve_with(&url, &trusted, false).await;
    let (status, value) = json_of(&server, "/static").await;
    assert_eq!(status, 200, "{value}");
    let body: Value = serde_json::from_str(value["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["path"], "/echo?x=1");
    // ALPN picked HTTP/2; the Host header became its :authority.
    assert_eq!(body["version"], "HTTP/2.0");
    assert_eq!(body["host"], "example.com", "{body}");
    server.stop().await;

    let (server, _config) = serve_with(&url, "", false).await;
    let (status, value) = json_of(&server, "/static").await;
    assert_eq!(
        (status, value),
        (500, network_error("TLS certificate error"))
    );
    server.stop().await;
}

#[test]
fn a_bad_backend_in_fastly_toml_stops_the_start_naming_it() {
    let dir = TempDir::new("bad-backend");
    std::fs::write(
        dir.path().join("fastly.toml"),
        "[local_server.backends.origin]\nurl = \"http://127.0.0.1:1\"\noverride_hots = \"x\"\n",
    )
    .unwrap();
    let app = fixture("backends/index.js");
    let message = support::process::failing_start(&app, Some(dir.path()), &["-C", "fastly.toml"]);
    assert!(
        message.contains("fastly.toml: invalid configuration for backend 'origin' in [local_server.backends]: unrecognized key 'override_hots' (the keys are url, override_host, cert_host, use_sni, grpc, ca_certificate, first_byte_timeout_ms, between_bytes_timeout_ms, health)"),
        "{message}"
    );
}

/// A 256 MB upload proxied to an origin holds only a few chunks in the server at a time.
#[cfg(target_os = "linux")]
#[test]
fn a_large_upload_streams_through_in_bounded_memory() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let origin = runtime.block_on(Origin::start());
    let dir = TempDir::new("big-upload");
    std::fs::write(
        dir.path().join("fastly.toml"),
        format!(
            "[local_server.backends.origin]\nurl = \"http://{}\"\n",
            origin.addr
        ),
    )
    .unwrap();
    let server = ServerProcess::start(
        &fixture("backends/index.js"),
        Some(dir.path()),
        &["-C", "fastly.toml"],
    );
    let total: u64 = 256 * 1024 * 1024;
    let response = runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let head = format!(
            "POST /proxy HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {total}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![7u8; 1024 * 1024];
        for _ in 0..256 {
            stream.write_all(&chunk).await.unwrap();
        }
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        String::from_utf8_lossy(&raw).into_owned()
    });
    assert!(
        response.ends_with(&format!("{{\"length\":{total},\"sum\":{}}}", total * 7)),
        "{response}"
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(peak_kb < 64 * 1024, "the server peaked at {peak_kb} KB");
}

/// Starts `fixtures/app-proxy` with its two backends at `primary` and `secondary`.
async fn serve_proxy(primary: &str, secondary: &str) -> (Server, TempDir) {
    let dir = TempDir::new("app-proxy");
    let config = dir.path().join("fastly.toml");
    std::fs::write(
        &config,
        format!(
            "[local_server.backends.primary]\nurl = \"{primary}\"\n\
             [local_server.backends.secondary]\nurl = \"{secondary}\"\n"
        ),
    )
    .unwrap();
    let mut options = edgeshim::ServeOptions::new(fixture("app-proxy/index.js"));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.config = Some(config);
    options.pool = pool(2, false);
    let running = edgeshim::start(options).await.expect("the proxy starts");
    (Server { running }, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_app_rewrites_headers_keys_the_cache_and_fails_over() {
    let (primary, secondary) = (Origin::start().await, Origin::start().await);
    let (server, _dir) = serve_proxy(
        &format!("http://{}", primary.addr),
        &format!("http://{}", secondary.addr),
    )
    .await;
    let path = "/echo/item?b=2&utm_source=x&a=1";
    let response = request(server.addr(), "GET", path, &[("cookie", "session=1")], b"").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-served-by"), Some("primary"));
    assert_eq!(response.header("x-failover"), None);
    let seen: Value = serde_json::from_slice(&response.body).unwrap();
    let host = server.addr().to_string();
    assert_eq!(
        seen,
        json!({"method": "GET", "path": path, "host": host, "cdnLoop": "edgeshim", "length": 0,
               "cookie": null, "forwardedHost": host, "cacheKey": "/echo/item?a=1&b=2", "version": "HTTP/1.1"})
    );
    // A 5xx from primary: secondary answers (also 5xx here, and it is the last one).
    let response = server.get("/fail").await;
    assert_eq!(response.status, 503);
    assert_eq!(response.header("x-served-by"), Some("secondary"));
    assert_eq!(response.header("x-failover"), Some("primary: 503"));
    assert_eq!(response.header("server"), None);
    assert_eq!(response.text(), "down");
    server.stop().await;

    // Primary unreachable: secondary serves, and says why.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (server, _dir) = serve_proxy(&dead, &format!("http://{}", secondary.addr)).await;
    let response = server.get("/echo").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-served-by"), Some("secondary"));
    assert_eq!(
        response.header("x-failover"),
        Some("primary: Connection refused")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_switches_choose_where_fetch_goes() {
    let origin = Origin::start().await;
    let (server, _dir) = serve_with(&format!("http://{}", origin.addr), "", false).await;
    for path in ["/request-backend", "/default-backend"] {
        let (status, value) = json_of(&server, path).await;
        assert_eq!(
            (status, &value["backend"]),
            (200, &json!("origin")),
            "{path}: {value}"
        );
    }
    let port = origin.addr.port();
    let (status, value) = json_of(&server, &format!("/no-dynamic?port={port}")).await;
    assert_eq!(status, 500);
    assert_eq!(
        value["message"],
        format!("No backend specified for request with url http://127.0.0.1:{port}/echo. Must provide a `backend` property on the `init` object passed to either `new Request()` or `fetch`")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decompress_gzip_decodes_a_gzip_response_and_drops_its_framing_headers() {
    let origin = Origin::start().await;
    let (server, _dir) = serve_with(&format!("http://{}", origin.addr), "", false).await;
    let (_, decoded) = json_of(&server, "/gzip?decode").await;
    assert_eq!(
        decoded,
        json!({"encoding": null, "length": null, "text": "hello gzip"})
    );
    let (_, raw) = json_of(&server, "/gzip").await;
    assert_eq!(raw["encoding"], "gzip");
    assert_eq!(raw["text"], true, "{raw}");
    server.stop().await;
}

#[test]
fn fetch_and_backends_are_refused_while_the_top_level_runs() {
    let dir = TempDir::new("init-fetch");
    for (code, what) in [
        ("fetch('http://127.0.0.1:1/');", "fetch"),
        (
            "import { Backend } from 'fastly:backend'; new Backend({ name: 'b', target: 'h' });",
            "The Backend builtin",
        ),
    ] {
        let app = dir.path().join("app.js");
        std::fs::write(
            &app,
            format!(
                "{code}\naddEventListener('fetch', (e) => e.respondWith(new Response('x')));\n"
            ),
        )
        .unwrap();
        let message = support::process::failing_start(&app, Some(dir.path()), &[]);
        let expected =
            format!("{what} can only be used during request handling, not during initialization");
        assert!(message.contains(&expected), "{message}");
    }
}
