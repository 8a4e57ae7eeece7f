//! `fastly:image-optimizer` as js-compute 3.46 has it (`runtime/fastly/builtins/
//! image-optimizer.{cpp,h}`): `optionsToQueryString`'s checks, messages and query strings
//! case by case (`fixtures/image-optimizer/cases.js` against `expected.json`), the order it
//! reads options in, and requests made with `imageOptimizerOptions`: the Request constructor
//! throws the same TypeErrors, `fetch` rejects with them, and a valid request passes the
//! image through unchanged, with one warning per call site naming the query string
//! Fastly's image service would get.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::origin::Origin;
use support::process::ServerProcess;
use support::{fixture, request, serve};

const ARGUMENT_COUNT: &str =
    "optionsToQueryString: At least 1 argument required, but only 0 passed";
const MISSING_REGION: &str = "Request: imageOptimizerOptions must contain region";
const BAD_WIDTH: &str =
    "imageOptimizerOptions: width must must be an integer pixel value or a string percentage value";
const BAD_QUALITY: &str = "imageOptimizerOptions: quality must must be n integer between 0 and 100";

/// The query string of the fixture's `OPTIONS`, in the platform's parameter order.
const FETCH_QUERY: &str = "region=us_east&bg-color=fff&format=png&width=200";

fn type_error(message: &str) -> Value {
    json!({ "error": "TypeError", "message": message })
}

async fn json_at(addr: std::net::SocketAddr, path: &str) -> Value {
    let response = request(addr, "GET", path, &[], b"").await;
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("{path}: not JSON: {}", response.text()))
}

/// The origin's `/big?bytes=1000`: what the app must get back untouched.
fn the_image() -> Vec<u8> {
    (0..1000u32).map(|i| (i % 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_to_query_string_gives_the_platforms_query_or_error_for_every_case() {
    let server = serve("image-optimizer", false, 1).await;
    let got = json_at(server.addr(), "/cases").await;
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("image-optimizer/expected.json")).unwrap(),
    )
    .unwrap();
    let (got, expected) = (got.as_object().unwrap(), expected.as_object().unwrap());
    let mut failures = Vec::new();
    for (name, want) in expected {
        match got.get(name) {
            Some(value) if value == want => {}
            other => failures.push(format!("{name}: expected {want}, got {other:?}")),
        }
    }
    for name in got.keys().filter(|name| !expected.contains_key(*name)) {
        failures.push(format!("{name}: a case without an expected outcome"));
    }
    assert!(
        failures.is_empty(),
        "{} of {} case(s) differ:\n{}",
        failures.len(),
        expected.len(),
        failures.join("\n")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_are_read_in_the_platforms_order() {
    let server = serve("image-optimizer", false, 1).await;
    assert_eq!(
        json_at(server.addr(), "/reads").await,
        json!({
            "none": type_error(ARGUMENT_COUNT),
            "query": "region=asia&crop=1.000000%3A2.000000&width=5",
            // ImageOptimizerOptions::create's reads, the unused one included.
            "read": ["region", "preserve_query_string_on_origin_request", "auto", "bgColor", "blur",
                     "brightness", "bw", "canvas", "contrast", "crop", "disable", "dpr", "enable",
                     "fit", "format", "frame", "height", "level", "metadata", "optimize", "orient",
                     "pad", "precrop", "profile", "quality", "resizeFilter", "saturation",
                     "sharpen", "trim", "trimColor", "viewbox", "width"],
            "fn": ["optionsToQueryString", 1],
        })
    );
    // The Request constructor checks `init.imageOptimizerOptions` with the same messages.
    assert_eq!(
        json_at(server.addr(), "/request").await,
        json!({
            "missingRegion": type_error(MISSING_REGION),
            "badWidth": type_error(BAD_WIDTH),
            "clone": "https://example.com/a.png",
            "undefinedIsNone": "https://example.com/",
            "inputBodyKept": false,
        })
    );
    server.stop().await;
}

/// Waits until the server's log has `needle` (logs arrive on a thread), then returns it.
fn log_with(server: &ServerProcess, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = server.log();
        if log.contains(needle) || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_with_options_passes_the_image_through_and_warns_once_per_call_site() {
    let origin = Origin::start().await;
    let port = origin.addr.port();
    // The binary in Compute's instance model: each request in a fresh copy of the app.
    let server = ServerProcess::start(&fixture("image-optimizer/index.js"), None, &[]);
    for _ in 0..2 {
        let response = request(server.addr, "GET", &format!("/fetch?port={port}"), &[], b"").await;
        assert_eq!(response.status, 200);
        assert_eq!(response.body, the_image(), "the image comes back unchanged");
    }
    let warning = format!(
        "fetch(http://127.0.0.1:{port}/big?bytes=1000) with imageOptimizerOptions: edgeshim has \
         no image service and returns the backend's image unchanged; on Compute, Fastly's image \
         service fetches it and transforms it with '{FETCH_QUERY}'"
    );
    let log = log_with(&server, &warning);
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(&warning)).collect();
    assert_eq!(
        lines.len(),
        1,
        "one warning for two calls from one line:\n{log}"
    );
    assert!(
        lines[0].contains("image-optimizer/index.js:"),
        "the warning names the call site: {}",
        lines[0]
    );

    // Invalid options reject fetch's promise with the platform's TypeError; nothing is sent.
    let sent = origin.requests.load(Ordering::SeqCst);
    assert_eq!(
        json_at(server.addr, &format!("/fetch-invalid?port={port}")).await,
        json!({ "isPromise": true, "rejected": type_error(BAD_QUALITY) })
    );
    assert_eq!(origin.requests.load(Ordering::SeqCst), sent);

    // A Request made with options and given to fetch loses them, as in js-compute's fetch.
    let response = request(
        server.addr,
        "GET",
        &format!("/dropped?port={port}"),
        &[],
        b"",
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, the_image());
    let dropped = "fetch() was given a Request made with imageOptimizerOptions";
    let log = log_with(&server, dropped);
    assert_eq!(log.matches(dropped).count(), 1, "{log}");
    assert_eq!(
        log.matches("with imageOptimizerOptions: edgeshim has no image service")
            .count(),
        1,
        "no pass-through warning for options that were dropped:\n{log}"
    );
}
