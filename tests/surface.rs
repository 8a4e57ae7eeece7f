//! The platform surface, compared with js-compute 3.46's: `fixtures/surface/dump-app.js` (the
//! app that dumped the reference on the official toolchain, unmodified) is served by edgeshim,
//! and its two documents are compared, key by key and in key order, with the checked-in
//! reference (`runtime/engine/surface/*-js-compute-3.46.json`, which the engine also conforms
//! to at start: `runtime/engine/src/surface.rs`). Every difference must be listed in
//! `fixtures/surface/expected-differences.txt` (a pattern, `*` matching anything, and the
//! reason); the test fails on drift either way: a new difference, or a listed one that is gone.

#![allow(clippy::unwrap_used)]

mod support;

use serde::de::{Deserializer, MapAccess, Visitor};
use support::{fixture, pool, repo, Server};

/// A JSON document with its keys in document order (serde_json's maps sort them).
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Leaf(String),
    Map(Vec<(String, Node)>),
}

impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an object")
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Leaf(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Node>()? {
                    entries.push((k, v));
                }
                Ok(Node::Map(entries))
            }
        }
        de.deserialize_any(V)
    }
}

fn parse(text: &str) -> Vec<(String, Node)> {
    match serde_json::from_str::<Node>(text).unwrap() {
        Node::Map(entries) => entries,
        Node::Leaf(_) => panic!("not an object"),
    }
}

/// One line per difference: `path: missing`, `path: extra`, `path: <ours> (Compute: <its>)`,
/// `path: key order <ours> (Compute: <its>)`.
fn differences(
    reference: &[(String, Node)],
    ours: &[(String, Node)],
    path: &str,
    out: &mut Vec<String>,
) {
    let find = |entries: &[(String, Node)], key: &str| {
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    for (key, theirs) in reference {
        match (theirs, find(ours, key)) {
            (_, None) => out.push(format!("{path}{key}: missing")),
            (Node::Map(theirs), Some(Node::Map(mine))) => {
                differences(theirs, &mine, &format!("{path}{key}."), out)
            }
            (theirs, Some(mine)) if *theirs != mine => {
                let show = |n: &Node| match n {
                    Node::Leaf(s) => s.clone(),
                    Node::Map(_) => "object".to_owned(),
                };
                out.push(format!(
                    "{path}{key}: {} (Compute: {})",
                    show(&mine),
                    show(theirs)
                ));
            }
            _ => {}
        }
    }
    for (key, _) in ours {
        if find(reference, key).is_none() {
            out.push(format!("{path}{key}: extra"));
        }
    }
    // Key order matters for property maps (all leaves), among the keys both have.
    if reference.iter().all(|(_, v)| matches!(v, Node::Leaf(_))) {
        let common = |a: &[(String, Node)], b: &[(String, Node)]| {
            a.iter()
                .filter(|(k, _)| b.iter().any(|(k2, _)| k2 == k))
                .map(|(k, _)| k.clone())
                .collect::<Vec<_>>()
        };
        let theirs = common(reference, ours);
        let mine = common(ours, reference);
        if theirs != mine {
            out.push(format!(
                "{}: key order {} (Compute: {})",
                path.trim_end_matches('.'),
                mine.join(","),
                theirs.join(",")
            ));
        }
    }
}

/// `*` matches any run of characters.
fn matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_surface_is_js_compute_3_46s_but_for_the_listed_differences() {
    std::env::set_current_dir(repo()).unwrap();
    let mut options = edgeshim::ServeOptions::new(fixture("surface/dump-app.js"));
    options.addr = "127.0.0.1:0".parse().unwrap();
    // The test limits: walking every global takes a while in a debug build.
    options.pool = pool(1, false);
    let server = Server {
        running: edgeshim::start(options).await.expect("the dump app starts"),
    };
    let globals = server.get("/").await.text();
    let modules = server.get("/modules").await.text();
    server.stop().await;

    let read = |name: &str| std::fs::read_to_string(repo().join(name)).unwrap();
    let mut found = Vec::new();
    differences(
        &parse(&read("runtime/engine/surface/globals-js-compute-3.46.json")),
        &parse(&globals),
        "global.",
        &mut found,
    );
    differences(
        &parse(&read("runtime/engine/surface/modules-js-compute-3.46.json")),
        &parse(&modules),
        "module.",
        &mut found,
    );

    let expected: Vec<(String, String)> = read("fixtures/surface/expected-differences.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (pattern, reason) = l
                .split_once(" # ")
                .unwrap_or_else(|| panic!("no reason: {l}"));
            assert!(!reason.trim().is_empty(), "no reason: {l}");
            (pattern.trim().to_owned(), reason.trim().to_owned())
        })
        .collect();
    let unexpected: Vec<&String> = found
        .iter()
        .filter(|d| !expected.iter().any(|(p, _)| matches(p, d)))
        .collect();
    let gone: Vec<&String> = expected
        .iter()
        .filter(|(p, _)| !found.iter().any(|d| matches(p, d)))
        .map(|(p, _)| p)
        .collect();
    assert!(
        unexpected.is_empty() && gone.is_empty(),
        "{} differences not in fixtures/surface/expected-differences.txt:\n{}\n\n{} listed differences are gone:\n{}",
        unexpected.len(),
        unexpected.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
        gone.len(),
        gone.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
    );
}

#[test]
fn patterns_match_as_globs() {
    assert!(matches(
        "global.*: key order *",
        "global.Foo.own: key order a,b (Compute: b,a)"
    ));
    assert!(matches("global.X: missing", "global.X: missing"));
    assert!(!matches("global.X: missing", "global.XY: missing"));
    assert!(!matches(
        "global.*.proto.clone: extra",
        "global.Response.own.clone: extra"
    ));
}
