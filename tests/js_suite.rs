//! Runs every JS suite in `tests/js/` (WPT-style, see `tests/js/harness.js`) through the
//! engine, without a socket, and fails naming each failing test.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::sync::Arc;

use edgeshim_engine::{App, IncomingRequest, Pool, PoolConfig};
use edgeshim_store::{MemoryStore, Stores, SystemClock};

fn run_suite(path: &Path) -> (Vec<String>, Vec<String>) {
    let mut stores = Stores::new();
    stores.insert("test", Arc::new(MemoryStore::new(Arc::new(SystemClock))));
    let app = App::new(path, stores).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let config = PoolConfig {
        workers: 1,
        ..PoolConfig::default()
    };
    let pool = Pool::start(app, &config).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let response = runtime
        .block_on(pool.handle(IncomingRequest {
            method: "GET".into(),
            url: "http://localhost/".into(),
            headers: vec![],
            body: Default::default(),
            pop: 0,
            client: None,
            kill_after: None,
            host: None,
        }))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let edgeshim_engine::HostBody::Full(body) = response.body else {
        panic!(
            "{}: the harness answers with a complete body",
            path.display()
        );
    };
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let passed = report["passed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    let failed = report["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}: {}",
                f["name"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    (passed, failed)
}

#[test]
fn js_suites() {
    let dir = support::repo().join("tests/js");
    let mut suites: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "js") && !p.ends_with("harness.js"))
        .collect();
    suites.sort();
    // `JS_SUITE=url.js` runs one suite while working on it.
    if let Ok(only) = std::env::var("JS_SUITE") {
        suites.retain(|p| p.file_name().is_some_and(|n| n.to_string_lossy() == only));
    }
    assert!(!suites.is_empty(), "no suites in {}", dir.display());
    let mut failures = Vec::new();
    let mut total = 0;
    for suite in &suites {
        let (passed, failed) = run_suite(suite);
        let name = suite.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !passed.is_empty() || !failed.is_empty(),
            "{name} declared no tests"
        );
        total += passed.len() + failed.len();
        failures.extend(failed.into_iter().map(|f| format!("{name}: {f}")));
    }
    assert!(
        failures.is_empty(),
        "{} of {total} JS tests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
