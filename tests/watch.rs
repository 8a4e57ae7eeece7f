//! `edgeshim serve --watch` as a user runs it: saving the app reloads it (new requests run
//! the new code, a request already running finishes on the old), KV data stays across
//! reloads, and a version with a syntax error is reported with its file, line and the line
//! itself while the last good version keeps serving.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::process::{ServerProcess, TempDir};
use support::request;

/// An app whose answer names its version `version`; `/slow` answers after 1.5 s, `/put`
/// and `/get` write and read a KV key.
fn app(version: &str) -> String {
    format!(
        r#"import {{ KVStore }} from "fastly:kv-store";
const VERSION = "{version}";
addEventListener("fetch", (event) => event.respondWith(handle(event.request)));
async function handle(request) {{
  const path = new URL(request.url).pathname;
  const store = new KVStore("notes");
  if (path === "/slow") {{
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return new Response(`slow ${{VERSION}}`);
  }}
  if (path === "/put") {{
    await store.put("k", `written by ${{VERSION}}`);
    return new Response("ok");
  }}
  if (path === "/get") {{
    const entry = await store.get("k");
    return new Response(entry ? await entry.text() : "none");
  }}
  return new Response(VERSION);
}}
"#
    )
}

/// Polls `GET path` until it answers `expected` (bounded), returning how long that took.
fn until_answer(runtime: &tokio::runtime::Runtime, server: &ServerProcess, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = runtime
            .block_on(request(server.addr, "GET", "/", &[], b""))
            .text();
        if got == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still {got:?}, not {expected:?}; log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn save(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn saving_reloads_the_app_and_a_broken_version_leaves_the_last_good_one_serving() {
    let dir = TempDir::new("watch");
    let entry = dir.path().join("app.js");
    save(&entry, &app("v1"));
    std::fs::write(
        dir.path().join("fastly.toml"),
        "[local_server.kv_stores]\nnotes = []\n",
    )
    .unwrap();
    let server = ServerProcess::start(&entry, Some(dir.path()), &["--watch"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let get = |path: &str| {
        runtime
            .block_on(request(server.addr, "GET", path, &[], b""))
            .text()
    };
    assert_eq!(get("/"), "v1");
    assert_eq!(get("/put"), "ok");

    // A request running on v1 while v2 is saved finishes on v1.
    let slow = runtime.spawn(request(server.addr, "GET", "/slow", &[], b""));
    std::thread::sleep(Duration::from_millis(100));
    save(&entry, &app("v2"));
    until_answer(&runtime, &server, "v2");
    assert_eq!(runtime.block_on(slow).unwrap().text(), "slow v1");
    assert_eq!(get("/get"), "written by v1", "the KV data stays");

    // A syntax error: reported, and v2 keeps serving.
    save(
        &entry,
        &app("v3").replace(
            "return new Response(VERSION);",
            "return new Response(VERSION;",
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server.log().contains("does not load") {
        assert!(
            Instant::now() < deadline,
            "no report; log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = server.log();
    let canonical = entry.canonicalize().unwrap();
    assert!(
        log.contains(&format!(
            "{}:19:30: SyntaxError: expected one of ',' or ')', got ';' in argument list",
            canonical.display()
        )),
        "the file and line: {log}"
    );
    assert!(
        log.contains("return new Response(VERSION;"),
        "the line itself: {log}"
    );
    assert_eq!(get("/"), "v2");

    // Fixed: served again.
    save(&entry, &app("v4"));
    until_answer(&runtime, &server, "v4");
}
