//! `fastly:kv-store` conformance: `fixtures/kv-conformance` holds one route per rule of the
//! contract (`shared/reference/kv-store.md`), each answering 200 only when its assertions
//! hold. This test asks the app for its routes (`GET /`), requests every one, and fails
//! naming each route that did not pass, with what differed. It also checks `--strict`.
//!
//! Every route must pass: there is no expectations file of known failures. A rule that
//! edgeshim deliberately does not follow is documented in `docs/kv-conformance.md` and its
//! route asserts what edgeshim does instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use edgeshim::ServeOptions;
use serde_json::Value;
use support::{fixture, Server};

/// What the conformance routes that read a request body expect to find in it.
const REQUEST_BODY: &[u8] = b"conformance request body";

/// Starts `fixtures/<dir>` in process on a free port, with `--env` variables and `--strict`.
async fn start(dir: &str, env: &[(&str, &str)], strict: bool) -> Server {
    let mut options = ServeOptions::new(fixture(&format!("{dir}/index.js")));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.pool = support::pool(2, false);
    options.env = env
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    options.strict = strict;
    let running = edgeshim::start(options).await.expect("the fixture starts");
    Server { running }
}

/// Every section of the contract has at least one route.
const SECTIONS: &[&str] = &[
    "/module/",
    "/this/",
    "/arguments/",
    "/constructor/",
    "/key/",
    "/put/",
    "/get/",
    "/delete/",
    "/list/",
    "/entry/",
    "/env/",
    "/experimental/",
];

/// Both sides of every boundary the contract names.
const BOUNDARIES: &[&str] = &[
    "/constructor/name-255-bytes",
    "/constructor/name-256-bytes",
    "/key/1024-bytes",
    "/key/1025-bytes",
    "/put/ttl-0",
    "/put/ttl-4294967295",
    "/put/ttl-4294967296",
    "/put/value-30mib",
    "/put/value-30mib-plus-1",
    "/put/metadata-1000-bytes",
    "/put/metadata-1001-bytes",
    "/list/default-limit-1000",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_conformance_route_passes() {
    let server = start(
        "kv-conformance",
        &[("EDGESHIM_CONFORMANCE", "configured")],
        false,
    )
    .await;
    let index = server.get("/").await;
    assert_eq!(index.status, 200, "GET /: {}", index.text());
    let routes: Vec<String> = serde_json::from_slice::<Value>(&index.body)
        .unwrap()
        .as_array()
        .expect("GET / answers a JSON array of routes")
        .iter()
        .map(|r| r.as_str().expect("routes are strings").to_owned())
        .collect();

    for section in SECTIONS {
        assert!(
            routes.iter().any(|r| r.starts_with(section)),
            "no route checks {section}"
        );
    }
    for boundary in BOUNDARIES {
        assert!(routes.iter().any(|r| r == boundary), "no route {boundary}");
    }

    let mut failures = Vec::new();
    for route in &routes {
        let response = server.post(route, REQUEST_BODY).await;
        if response.status != 200 {
            failures.push(format!(
                "{route} ({}): {}",
                response.status,
                String::from_utf8_lossy(&response.body).trim_end()
            ));
        }
    }
    server.stop().await;
    assert!(
        failures.is_empty(),
        "{} of {} conformance route(s) failed:\n{}",
        failures.len(),
        routes.len(),
        failures.join("\n")
    );
}

/// Snippets for `fixtures/kv-probe`, each relying on behaviour the docs and production
/// disagree on, with the warning it raises. Each catches its own error: `--strict` must fail
/// the request anyway.
const DISPUTED: &[(&str, &str)] = &[
    (
        "try { store.list() } catch (e) {} return 1",
        "KVStore.list() called without options",
    ),
    (
        "return store.put('k', 'v', { mode: 'upsert' }).then(() => 1)",
        "KVStore.put mode 'upsert' is not one of overwrite, add, append, prepend",
    ),
    (
        "return store.put('k', 'v', { metadata: 'm'.repeat(1001) }).then(() => 1)",
        "KVStore.put metadata is 1001 bytes",
    ),
    (
        "return store.put('k', new ReadableStream()).catch(() => 1)",
        "KVStore.put was given a ReadableStream the app made",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_turns_compatibility_warnings_into_500s() {
    let strict = start("kv-probe", &[], true).await;
    for (code, warning) in DISPUTED {
        let response = strict.post("/", code.as_bytes()).await;
        let body = response.text();
        assert_eq!(response.status, 500, "{code}: {body}");
        assert!(
            body.starts_with("edgeshim: --strict: ") && body.contains(warning),
            "{code}: {body}"
        );
        // The next request is not failed by the last one's warning.
        let next = strict.post("/", b"return 1").await;
        assert_eq!(next.status, 200, "after {code}: {}", next.text());
    }
    strict.stop().await;

    let lenient = start("kv-probe", &[], false).await;
    for (code, _) in DISPUTED {
        let response = lenient.post("/", code.as_bytes()).await;
        assert_eq!(response.status, 200, "{code}: {}", response.text());
    }
    lenient.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_and_experimental_modules() {
    let server = start(
        "kv-probe",
        &[("GREETING", "hello"), ("FASTLY_POP", "LHR")],
        false,
    )
    .await;
    let cases = [
        (
            "return import('fastly:env').then(({ env }) => [env('GREETING'), env('FASTLY_POP'), env('FASTLY_HOSTNAME'), env('NOPE') === undefined, env.name, env.length])",
            serde_json::json!(["hello", "LHR", "localhost", true, "get", 1]),
        ),
        (
            "return import('fastly:env').then(({ env }) => env('FASTLY_TRACE_ID').length)",
            serde_json::json!(32),
        ),
        (
            "return import('fastly:experimental').then((m) => [Object.keys(m), m.sdkVersion])",
            serde_json::json!([
                [
                    "allowDynamicBackends",
                    "enableDebugLogging",
                    "includeBytes",
                    "mapAndLogError",
                    "mapError",
                    "sdkVersion",
                    "setBaseURL",
                    "setDefaultBackend",
                    "setReusableSandboxOptions"
                ],
                "3.46.0"
            ]),
        ),
        (
            "return import('fastly:env').then((m) => Object.keys(m))",
            serde_json::json!(["env"]),
        ),
    ];
    let mut failures = Vec::new();
    for (code, expected) in cases {
        let response = server.post("/", code.as_bytes()).await;
        let actual: Value = serde_json::from_slice(&response.body).unwrap();
        let expected = serde_json::json!({ "outcome": "resolved", "value": expected });
        if actual != expected {
            failures.push(format!(
                "{code}\n  expected {expected}\n  actual   {actual}"
            ));
        }
    }
    // Two requests get two trace ids.
    let trace = "return import('fastly:env').then(({ env }) => env('FASTLY_TRACE_ID'))";
    let first = server.post("/", trace.as_bytes()).await.text();
    let second = server.post("/", trace.as_bytes()).await.text();
    assert_ne!(first, second, "FASTLY_TRACE_ID is per request");
    // An unknown fastly: module still fails, naming it.
    let unknown = server
        .post(
            "/",
            b"return import('fastly:nope').then(() => 'loaded', (e) => e.message)",
        )
        .await;
    let text = unknown.text();
    assert!(
        text.contains("fastly:nope")
            && text.contains("fastly:kv-store, fastly:env, fastly:experimental"),
        "{text}"
    );
    server.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
