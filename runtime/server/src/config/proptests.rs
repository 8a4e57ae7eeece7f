//! Property tests of the `fastly.toml` parser on generated input (issue 14): any text, and
//! any `[local_server]` tree built from the names Viceroy reads with values of every TOML
//! type, is either read or refused with a message naming the file; nothing panics. Bounded
//! case counts keep them in CI's time; proptest keeps a failing case in
//! `proptest-regressions/` and replays it first from then on.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use proptest::prelude::*;

use super::{ConfigError, FastlyToml};

/// The names Viceroy's `[local_server]` tables and their entries use, and a few others.
const NAMES: [&str; 28] = [
    "kv_stores",
    "object_stores",
    "object_store",
    "config_stores",
    "dictionaries",
    "secret_stores",
    "backends",
    "geolocation",
    "acls",
    "device_detection",
    "user_agents",
    "key",
    "data",
    "file",
    "path",
    "metadata",
    "format",
    "contents",
    "url",
    "override_host",
    "use_default_addresses",
    "addresses",
    "client_ip",
    "json",
    "inline-toml",
    "env",
    "x",
    "",
];

/// Seed file names, relative to the parse's base folder (which holds `seed.json` and
/// `notjson.txt`), or missing.
const FILES: [&str; 6] = [
    "seed.json",
    "notjson.txt",
    "missing.json",
    "",
    ".",
    "/nonexistent/x.json",
];

fn leaf() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        "\\PC{0,12}".prop_map(toml::Value::String),
        proptest::sample::select(&FILES[..]).prop_map(|f| toml::Value::String(f.to_owned())),
        any::<i64>().prop_map(toml::Value::Integer),
        any::<bool>().prop_map(toml::Value::Boolean),
        (-1e6f64..1e6).prop_map(toml::Value::Float),
    ]
}

fn value() -> impl Strategy<Value = toml::Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(toml::Value::Array),
            proptest::collection::btree_map(
                proptest::sample::select(&NAMES[..]).prop_map(str::to_owned),
                inner,
                0..5
            )
            .prop_map(|map| toml::Value::Table(map.into_iter().collect())),
        ]
    })
}

fn check(result: Result<FastlyToml, ConfigError>, path: &Path) -> Result<(), TestCaseError> {
    if let Err(error) = result {
        let message = error.to_string();
        prop_assert!(
            message.contains(&path.display().to_string()),
            "the message does not name the file: {message}"
        );
    }
    Ok(())
}

fn base() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("seed.json"),
        r#"{"a": "b", "c": {"data": "d"}}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("notjson.txt"), "not json").unwrap();
    dir
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_is_read_or_refused_naming_the_file(text in "\\PC{0,200}") {
        let dir = base();
        let path = dir.path().join("fastly.toml");
        check(FastlyToml::parse(&text, &path, dir.path()), &path)?;
    }

    #[test]
    fn any_local_server_tree_is_read_or_refused_naming_the_file(
        tables in proptest::collection::btree_map(
            proptest::sample::select(&NAMES[..11]).prop_map(str::to_owned),
            value(),
            0..4,
        ),
    ) {
        let dir = base();
        let path = dir.path().join("fastly.toml");
        let mut local_server = toml::Table::new();
        local_server.extend(tables);
        let mut doc = toml::Table::new();
        doc.insert("manifest_version".to_owned(), toml::Value::Integer(3));
        doc.insert("local_server".to_owned(), toml::Value::Table(local_server));
        let text = toml::to_string(&doc).unwrap();
        check(FastlyToml::parse(&text, &path, dir.path()), &path)?;
    }
}
