//! `edgeshim kv` as a user runs it, beside a running server on the same state folder: what
//! it writes the app reads at once, and what the app's store holds it lists, exports and
//! imports (Viceroy's JSON seed format); keys are checked with the runtime's messages.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use support::fixture;
use support::process::{ServerProcess, TempDir};

/// `edgeshim kv ARGS` in `dir`, with `input` on standard input.
fn kv(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgeshim"))
        .arg("kv")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// stdout of a command that must succeed.
fn ok(dir: &Path, args: &[&str]) -> String {
    let output = kv(dir, args, b"");
    assert!(
        output.status.success(),
        "edgeshim kv {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// stderr of a command that must fail.
fn failing(dir: &Path, args: &[&str]) -> String {
    let output = kv(dir, args, b"");
    assert!(!output.status.success(), "edgeshim kv {args:?} should fail");
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn kv_writes_what_a_running_server_reads_and_exports_what_it_holds() {
    let dir = TempDir::new("kv-cli");
    let root = dir.path();
    assert_eq!(
        failing(root, &["list", "notes"]),
        "error: no state folder at .edgeshim (edgeshim serve creates it on its first start; \
         give the one it uses with --state-dir)\n"
    );
    std::fs::write(
        root.join("fastly.toml"),
        "[local_server.kv_stores]\nnotes = [{ key = \"seeded\", data = \"from the seed\" }]\n",
    )
    .unwrap();
    let server = ServerProcess::start(&fixture("kv-cli/index.js"), Some(root), &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let read = |key: &str| {
        runtime
            .block_on(support::request(
                server.addr,
                "GET",
                &format!("/{key}"),
                &[],
                b"",
            ))
            .text()
    };

    assert_eq!(
        ok(
            root,
            &[
                "put",
                "notes",
                "hello",
                "hi there",
                "--metadata",
                "{\"v\":1}"
            ]
        ),
        ""
    );
    assert_eq!(
        read("hello"),
        "hi there | {\"v\":1}",
        "the server reads it at once"
    );
    let piped = kv(root, &["put", "notes", "piped"], b"from stdin");
    assert!(piped.status.success());
    std::fs::write(root.join("value.txt"), "from a file").unwrap();
    ok(root, &["put", "notes", "filed", "--file", "value.txt"]);
    assert_eq!(read("piped"), "from stdin | no metadata");
    assert_eq!(read("filed"), "from a file | no metadata");
    assert_eq!(
        ok(root, &["list", "notes"]),
        "filed\nhello\npiped\nseeded\n"
    );
    assert_eq!(ok(root, &["list", "notes", "--prefix", "h"]), "hello\n");
    assert_eq!(ok(root, &["get", "notes", "hello"]), "hi there");
    assert_eq!(
        ok(root, &["get", "notes", "hello", "--metadata"]),
        "{\"v\":1}"
    );

    // The runtime's key rules and messages.
    assert_eq!(
        failing(root, &["put", "notes", "a#b", "x"]),
        "error: key \"a#b\": KVStore key can not contain # character\n"
    );
    assert_eq!(
        failing(root, &["get", "notes", "nope"]),
        "error: key \"nope\" is not in store \"notes\"\n"
    );

    // Export in Viceroy's JSON seed format; import it into another store.
    let exported = ok(root, &["export", "notes"]);
    let value: serde_json::Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "filed": "from a file",
            "hello": { "data": "hi there", "metadata": "{\"v\":1}" },
            "piped": "from stdin",
            "seeded": "from the seed",
        })
    );
    std::fs::write(root.join("export.json"), &exported).unwrap();
    assert_eq!(
        ok(root, &["import", "copy", "export.json"]),
        "imported 4 entries into copy\n"
    );
    assert_eq!(
        ok(root, &["get", "copy", "hello", "--metadata"]),
        "{\"v\":1}"
    );
    std::fs::write(root.join("bad.json"), "{\"k\": 5}").unwrap();
    let refused = failing(root, &["import", "copy", "bad.json"]);
    assert!(refused.starts_with("error: "), "{refused}");
    assert!(refused.contains("bad.json"), "{refused}");

    ok(root, &["delete", "notes", "hello"]);
    assert_eq!(read("hello"), "none");
    drop(server);
}
