//! `edgeshim test` as a user runs it on `fixtures/test-runner`: a passing suite (js-compute's
//! tests.json format, with edgeshim's `body_json` and `body_regex`) exits 0 with a one-line
//! summary; planted regressions exit 1 naming each test and what differed; TAP and JUnit
//! reports for CI; stores start from their seeds in each file.

#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Command, Output};

use support::fixture;

fn test(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgeshim"))
        .arg("test")
        .args(args)
        .args(["--cpu-limit", "0"])
        .current_dir(fixture("test-runner"))
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The report without its timing.
fn untimed(report: &str) -> String {
    let cut = report.rfind(" in ").unwrap();
    report[..cut].to_owned()
}

#[test]
fn a_passing_suite_exits_zero_with_a_summary() {
    let output = test(&["--app", "index.js", "tests.json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        untimed(&stdout(&output)),
        "ok 5 passed, 0 failed, 1 skipped"
    );
}

#[test]
fn regressions_fail_naming_the_test_and_the_difference() {
    // broken.json runs against a fresh server: note `a` was never written there.
    let output = test(&["--app", "index.js", "tests.json", "broken.json"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        untimed(&stdout(&output)),
        "FAIL GET /notes/welcome (broken.json)\n     \
         body: expected \"goodbye\", got \"hello\"\n\
         FAIL GET /notes/a (broken.json)\n     \
         status: expected 200, got 404 (body \"not found\")\n     \
         body: expected \"first\", got \"not found\"\n\
         FAIL GET / (broken.json)\n     \
         header x-a: expected [\"2\"], got [\"1\"]\n     \
         body: expected JSON holding {\"service\":\"todos\"}, got {\"service\":\"notes\",\"time\":TIME}\n\
         FAILED 5 passed, 3 failed, 1 skipped"
            .replace(
                "TIME",
                stdout(&output)
                    .split("\"time\":")
                    .nth(1)
                    .and_then(|rest| rest.split('}').next())
                    .unwrap()
            )
    );
}

#[test]
fn tap_and_junit_reports_for_ci() {
    let output = test(&["--app", "index.js", "--format", "tap", "broken.json"]);
    assert_eq!(output.status.code(), Some(1));
    let tap = stdout(&output);
    assert!(
        tap.starts_with("TAP version 13\n1..3\nnot ok 1 - GET /notes/welcome\n"),
        "{tap}"
    );
    assert!(tap.contains("not ok 2 - GET /notes/a\n"), "{tap}");
    let dir = support::process::TempDir::new("junit");
    let report = dir.path().join("report.xml");
    let output = test(&[
        "--app",
        "index.js",
        "--format",
        "junit",
        "-o",
        report.to_str().unwrap(),
        "tests.json",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(
        xml.contains("<testsuite name=\"edgeshim test\" tests=\"6\" failures=\"0\" skipped=\"1\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase classname=\"tests.json\" name=\"GET /only-on-compute\""),
        "{xml}"
    );
    assert!(
        xml.contains("<skipped message=\"for compute only\"/>"),
        "{xml}"
    );
}

#[test]
fn a_test_file_that_does_not_parse_is_named() {
    let dir = support::process::TempDir::new("bad-tests");
    let file = dir.path().join("tests.json");
    std::fs::write(
        &file,
        "{\"GET /\": {\"downstream_response\": {\"status\": \"x\"}}}",
    )
    .unwrap();
    let output = test(&["--app", "index.js", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!(
            "error: {}: not a tests.json file: GET /: status must be a number, found \"x\"\n",
            file.display()
        )
    );
}

/// `--update` records what the app answered into the file (a snapshot); what it cannot
/// record (a header expectation, a JSON subset) still fails, then and on the next run.
#[test]
fn update_records_the_answers_and_keeps_the_checks_it_cannot_record() {
    let dir = support::process::TempDir::new("update");
    let file = dir.path().join("broken.json");
    std::fs::copy(fixture("test-runner/broken.json"), &file).unwrap();
    let file = file.to_str().unwrap();
    let output = test(&["--app", "index.js", "--update", file]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let report = untimed(&stdout(&output));
    assert!(
        report.starts_with(&format!(
            "UPDATED GET /notes/welcome ({file})\nUPDATED GET /notes/a ({file})\n\
             FAIL GET / ({file})\n     header x-a: expected [\"2\"], got [\"1\"]\n"
        )),
        "{report}"
    );
    assert!(
        report.ends_with("FAILED 2 passed, 1 failed, 0 skipped"),
        "{report}"
    );
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(
        recorded["GET /notes/welcome"]["downstream_response"],
        serde_json::json!({ "status": 200, "body": "hello" })
    );
    assert_eq!(
        recorded["GET /notes/a"]["downstream_response"],
        serde_json::json!({ "status": 404, "body": "not found" })
    );
    // A body checked by a JSON subset keeps its check; the header expectation stays too.
    assert_eq!(
        recorded["GET /"]["downstream_response"]["body_json"],
        serde_json::json!({ "service": "todos" })
    );
    let again = test(&["--app", "index.js", file]);
    // `body_json` and the header cannot be recorded: still failing, and said so.
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stdout(&again).starts_with("FAIL GET / ("),
        "{}",
        stdout(&again)
    );
}

/// JS test files: `describe`/`it`/`test` with `assert`, calling the app through `app()`;
/// beside a tests.json, each file on servers of its own.
#[test]
fn js_test_files_call_the_app_and_report_each_test() {
    let output = test(&["--app", "index.js", "notes.test.js", "tests.json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        untimed(&stdout(&output)),
        "ok 8 passed, 0 failed, 1 skipped"
    );
    let output = test(&["--app", "index.js", "--format", "tap", "broken.test.js"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "TAP version 13\n1..2\nnot ok 1 - expects the wrong text\n  ---\n  \
         file: \"broken.test.js\"\n  problems:\n    \
         - \"AssertionError: expected \\\"goodbye\\\", got \\\"hello\\\"\"\n  ...\n\
         not ok 2 - throws\n  ---\n  file: \"broken.test.js\"\n  problems:\n    \
         - \"TypeError: boom\"\n  ...\n"
    );
}

/// The scenario API of JS test files: the clock ends KV and cache TTLs, stores are seeded and
/// read beside the app, calls that cannot work say why, and a location sees another's write
/// once the propagation delay has passed on the moved clock.
#[test]
fn js_test_files_drive_the_emulator_with_the_scenario_api() {
    let output = test(&["--app", "index.js", "--format", "tap", "scenario.test.js"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        stdout(&output),
        "TAP version 13\n1..5\nok 1 - the clock > ends a KV entry's TTL\n\
         ok 2 - the clock > ends a cache entry's TTL\n\
         ok 3 - the stores > are seeded and read beside the app\n\
         ok 4 - the stores > say what is wrong with a call\n\
         ok 5 - a request stopped midway > keeps what it wrote before it was stopped, and nothing after\n"
    );
    let locations = |delay: &str| {
        test(&[
            "--app",
            "index.js",
            "--pops",
            "2",
            "--kv-propagation",
            delay,
            "locations.test.js",
        ])
    };
    let output = locations("60000");
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        untimed(&stdout(&output)),
        "ok 1 passed, 0 failed, 0 skipped"
    );
    // Without the delay's end the other location still misses the write.
    let output = locations("120000");
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("expected \"written at pop 0\", got \"not found\""),
        "{}",
        stdout(&output)
    );
}
