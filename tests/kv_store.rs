//! `fastly:kv-store` rules, each checked through a real server: the snippet runs inside
//! request handling in `fixtures/kv-probe`, which reports whether it threw synchronously,
//! returned a promise that rejected or resolved, or returned a plain value, with the
//! error's exact class and message. Expectations come from `shared/reference/kv-store.md`.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::{serve, Server};

async fn probe(server: &Server, code: &str) -> Value {
    let response = server.post("/", code.as_bytes()).await;
    assert_eq!(
        response.status,
        200,
        "probe failed for {code}: {}",
        response.text()
    );
    serde_json::from_slice(&response.body).unwrap()
}

fn threw(class: &str, message: &str) -> Value {
    json!({ "outcome": "threw", "class": class, "message": message })
}

fn rejected(class: &str, message: &str) -> Value {
    json!({ "outcome": "rejected", "class": class, "message": message })
}

fn resolved(value: Value) -> Value {
    json!({ "outcome": "resolved", "value": value })
}

fn resolved_undefined() -> Value {
    json!({ "outcome": "resolved", "undefined": true })
}

fn returned(value: Value) -> Value {
    json!({ "outcome": "returned", "value": value })
}

/// Runs every case against one server and reports all mismatches at once.
async fn check(cases: &[(&str, Value)]) {
    let server = serve("kv-probe", false, 2).await;
    let mut failures = Vec::new();
    for (code, expected) in cases {
        let actual = probe(&server, code).await;
        if &actual != expected {
            failures.push(format!(
                "{code}\n  expected {expected}\n  actual   {actual}"
            ));
        }
    }
    server.stop().await;
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const TE: &str = "TypeError";
const RE: &str = "RangeError";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constructor_rules_in_order() {
    let server = serve("kv-probe", false, 1).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&server.get("/init-error").await.body).unwrap(),
        json!({
            "outcome": "threw",
            "class": TE,
            "message": "The KVStore builtin can only be used during request handling, not during initialization",
        })
    );
    server.stop().await;

    check(&[
        (
            "return KVStore('files')",
            threw(
                TE,
                "calling a builtin KVStore constructor without new is forbidden",
            ),
        ),
        (
            "return new KVStore()",
            threw(
                TE,
                "KVStore constructor: At least 1 argument required, but only 0 passed",
            ),
        ),
        (
            "return new KVStore({ toString() { throw new RangeError('from toString') } })",
            threw(RE, "from toString"),
        ),
        (
            "return new KVStore(Symbol('x'))",
            threw(TE, "can't convert symbol to string"),
        ),
        (
            "return new KVStore('')",
            threw(TE, "KVStore constructor: name can not be an empty string"),
        ),
        (
            "return new KVStore('a'.repeat(256))",
            threw(
                TE,
                "KVStore constructor: name can not be more than 255 characters",
            ),
        ),
        (
            "return new KVStore('é'.repeat(128))",
            threw(
                TE,
                "KVStore constructor: name can not be more than 255 characters",
            ),
        ),
        (
            "return new KVStore('a'.repeat(255))",
            threw(
                TE,
                &format!(
                    "KVStore constructor: No KVStore named '{}' exists",
                    "a".repeat(255)
                ),
            ),
        ),
        (
            "return new KVStore('a\\u0001')",
            threw(
                TE,
                "KVStore constructor: name can not contain control characters (\\u0000-\\u001F)",
            ),
        ),
        (
            "return new KVStore('a\\u007f')",
            threw(
                TE,
                "KVStore constructor: name can not contain control characters (\\u0000-\\u001F)",
            ),
        ),
        (
            "return new KVStore('missing')",
            threw(TE, "KVStore constructor: No KVStore named 'missing' exists"),
        ),
        (
            "return typeof new KVStore('other')",
            returned(json!("object")),
        ),
        (
            "return new KVStore('files') instanceof KVStore",
            returned(json!(true)),
        ),
        // The module export and the global are one constructor.
        (
            "return KVStore === globalThis.KVStore",
            returned(json!(true)),
        ),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_and_argument_checks_are_synchronous() {
    check(&[
        (
            "return KVStore.prototype.put.call({}, 'k', 'v')",
            threw(
                TE,
                "Method 'put' called on receiver that's not an instance of KVStore",
            ),
        ),
        (
            "return KVStore.prototype.get.call(Object.create(KVStore.prototype), 'k')",
            threw(
                TE,
                "Method 'get' called on receiver that's not an instance of KVStore",
            ),
        ),
        (
            "return KVStore.prototype.delete.call(undefined, 'k')",
            threw(
                TE,
                "Method 'delete' called on receiver that's not an instance of KVStore",
            ),
        ),
        // The receiver is checked before the argument count.
        (
            "return KVStore.prototype.put.call({})",
            threw(
                TE,
                "Method 'put' called on receiver that's not an instance of KVStore",
            ),
        ),
        (
            "return store.put()",
            threw(TE, "put: At least 2 arguments required, but only 0 passed"),
        ),
        (
            "return store.put('k')",
            threw(TE, "put: At least 2 arguments required, but only 1 passed"),
        ),
        (
            "return store.get()",
            threw(TE, "get: At least 1 argument required, but only 0 passed"),
        ),
        (
            "return new KVStoreEntry()",
            threw("Error", "KVStoreEntry can't be instantiated directly"),
        ),
        (
            "return KVStoreEntry()",
            threw("Error", "KVStoreEntry can't be instantiated directly"),
        ),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rules_throw_for_put_and_reject_for_get() {
    let key_cases: &[(&str, &str)] = &[
        ("''", "KVStore key can not be an empty string"),
        (
            "'a'.repeat(1025)",
            "KVStore key can not be more than 1024 characters",
        ),
        (
            "'é'.repeat(513)",
            "KVStore key can not be more than 1024 characters",
        ),
        ("'a#b'", "KVStore key can not contain # character"),
        ("'a;b'", "KVStore key can not contain ; character"),
        ("'a?b'", "KVStore key can not contain ? character"),
        ("'a^b'", "KVStore key can not contain ^ character"),
        ("'a|b'", "KVStore key can not contain | character"),
        ("'a\\nb'", "KVStore key can not contain newline character"),
        (
            "'a\\rb'",
            "KVStore key can not contain carriage return character",
        ),
        ("'a\\u0000b|c#'", "KVStore key can not contain | character"),
        (
            "'.well-known/acme-challenge/x'",
            "KVStore key can not start with .well-known/acme-challenge/",
        ),
        ("'.'", "KVStore key can not be '.' or '..'"),
        ("'..'", "KVStore key can not be '.' or '..'"),
    ];
    let mut cases = Vec::new();
    for (key, message) in key_cases {
        cases.push((format!("return store.put({key}, 'v')"), threw(TE, message)));
        cases.push((format!("return store.get({key})"), rejected(TE, message)));
    }
    cases.push((
        "return store.put(Symbol('k'), 'v')".into(),
        threw(TE, "can't convert symbol to string"),
    ));
    cases.push((
        "return store.get(Symbol('k'))".into(),
        rejected(TE, "can't convert symbol to string"),
    ));
    cases.push((
        "return store.put({ toString() { throw new SyntaxError('key toString') } }, 'v')".into(),
        threw("SyntaxError", "key toString"),
    ));
    cases.push((
        "return store.get({ toString() { throw new SyntaxError('key toString') } })".into(),
        rejected("SyntaxError", "key toString"),
    ));
    // Boundaries that pass.
    cases.push((
        "return store.put('😀'.repeat(256), 'v')".into(),
        resolved_undefined(),
    ));
    cases.push((
        "return store.put('a'.repeat(1024), 'v')".into(),
        resolved_undefined(),
    ));
    cases.push((
        "return store.put(42, 'v').then(() => store.get('42')).then((e) => e.text())".into(),
        resolved(json!("v")),
    ));
    // Host-side checks: a plain Error with a trailing newline, as a rejection.
    cases.push((
        "return store.put('a/../b', 'v')".into(),
        rejected("Error", "put: Invalid argument.\n"),
    ));
    cases.push((
        "return store.get('.well-known/acme-challenge')".into(),
        rejected("Error", "get: Invalid argument.\n"),
    ));
    cases.push((
        "return store.put(' ', 'v')".into(),
        rejected("Error", "put: Invalid argument.\n"),
    ));
    let cases: Vec<(&str, Value)> = cases.iter().map(|(c, v)| (c.as_str(), v.clone())).collect();
    check(&cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_values_and_get_round_trip() {
    check(&[
        ("return store.put('k', 'v')", resolved_undefined()),
        ("return store.put('k', 'hello').then(() => store.get('k')).then((e) => e.text())", resolved(json!("hello"))),
        ("return store.put('k', undefined).then(() => store.get('k')).then((e) => e.text())", resolved(json!("undefined"))),
        ("return store.put('k', {}).then(() => store.get('k')).then((e) => e.text())", resolved(json!("[object Object]"))),
        ("return store.put('k', 12.5).then(() => store.get('k')).then((e) => e.text())", resolved(json!("12.5"))),
        ("return store.put('k', new Uint8Array([0, 255, 7]).buffer).then(() => store.get('k')).then((e) => e.arrayBuffer())", json!({"outcome": "resolved", "arraybuffer": [0, 255, 7]})),
        ("return store.put('k', new Uint8Array([1, 2, 3, 4]).subarray(1, 3)).then(() => store.get('k')).then((e) => e.arrayBuffer())", json!({"outcome": "resolved", "arraybuffer": [2, 3]})),
        ("return store.put('k', new DataView(new Uint8Array([9, 8, 7]).buffer, 1)).then(() => store.get('k')).then((e) => e.arrayBuffer())", json!({"outcome": "resolved", "arraybuffer": [8, 7]})),
        ("return store.put('k', new Float64Array([1])).then(() => store.get('k')).then((e) => e.arrayBuffer())", json!({"outcome": "resolved", "arraybuffer": [0, 0, 0, 0, 0, 0, 240, 63]})),
        ("return store.put('k', '\\ud800').then(() => store.get('k')).then((e) => e.arrayBuffer())", json!({"outcome": "resolved", "arraybuffer": [239, 191, 189]})),
        ("return store.put('k', new URLSearchParams('a=b&c=d e')).then(() => store.get('k')).then((e) => e.text())", resolved(json!("a=b&c=d+e"))),
        ("return store.put('k', new URLSearchParams()).then(() => store.get('k')).then((e) => e.text())", resolved(json!(""))),
        ("return store.put('k', Symbol('v'))", threw(TE, "can't convert symbol to string")),
        ("return store.put('k', { toString() { throw new URIError('value toString') } })", threw("URIError", "value toString")),
        ("return store.put('k', 'x'.repeat(31457281))", rejected(TE, "KVStore value can not be more than 30 Megabytes in size")),
        ("return store.put('k', new Uint8Array(31457280)).then(() => store.get('k')).then(async (e) => (await e.arrayBuffer()).byteLength)", resolved(json!(31457280))),
        ("return store.get('absent')", resolved(Value::Null)),
        ("return store.get('seeded').then((e) => e.text())", resolved(json!("from fastly.toml"))),
        ("return store.get('seeded').then((e) => e.metadataText())", resolved(json!("seed-meta"))),
        ("return store.get('plain').then((e) => e.metadata())", resolved(Value::Null)),
        ("return store.get('plain').then((e) => e instanceof KVStoreEntry)", resolved(json!(true))),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_options() {
    check(&[
        // ttl: synchronous RangeErrors, 0 expires at once, null becomes 0.
        ("return store.put('t', 'v', { ttl: NaN })", threw(RE, "KVStore.put: ttl is not a valid number")),
        ("return store.put('t', 'v', { ttl: 'x' })", threw(RE, "KVStore.put: ttl is not a valid number")),
        ("return store.put('t', 'v', { ttl: -1 })", threw(RE, "KVStore.put: ttl can not be a negative number")),
        ("return store.put('t', 'v', { ttl: 4294967296 })", threw(RE, "KVStore.put: ttl is above the maximum of 4294967296")),
        ("return store.put('t', 'v', { ttl: Infinity })", threw(RE, "KVStore.put: ttl is above the maximum of 4294967296")),
        ("return store.put('t', 'v', { ttl: 4294967295 }).then(() => store.get('t')).then((e) => e.text())", resolved(json!("v"))),
        ("return store.put('t', 'v', { ttl: 0 }).then(() => store.get('t'))", resolved(Value::Null)),
        ("return store.put('t', 'v', { ttl: null }).then(() => store.get('t'))", resolved(Value::Null)),
        ("return store.put('t', 'v', { ttl: 60 }).then(() => store.get('t')).then((e) => e.text())", resolved(json!("v"))),
        // Options are read in the order ttl, gen, metadata, mode; a throwing getter is synchronous.
        (
            "const seen = []; const o = {}; for (const k of ['mode', 'metadata', 'gen', 'ttl']) Object.defineProperty(o, k, { get() { seen.push(k); return undefined } }); \
             return store.put('o', 'v', o).then(() => seen.join())",
            resolved(json!("ttl,gen,metadata,mode")),
        ),
        ("return store.put('o', 'v', { get gen() { throw new EvalError('gen getter') } })", threw("EvalError", "gen getter")),
        // Non-object options are ignored.
        ("return store.put('o', 'v', 'ttl').then(() => store.get('o')).then((e) => e.text())", resolved(json!("v"))),
        ("return store.put('o', 'v', null).then(() => store.get('o')).then((e) => e.text())", resolved(json!("v"))),
        // gen: checked as a rejection.
        ("return store.put('g', 'v', { gen: 0 })", rejected(TE, "KVStore.insert: gen must be an integer")),
        // A bad gen rejects at once: later getters and the value's ToString never run.
        (
            "return store.put('g', { toString() { throw new Error('value read') } }, { gen: 'x', get metadata() { throw new Error('metadata read') } })",
            rejected(TE, "KVStore.insert: gen must be an integer"),
        ),
        ("return store.put('g', 'v', { gen: '2' })", rejected(TE, "KVStore.insert: gen must be an integer")),
        ("return store.put('g', 'v', { gen: true })", rejected(TE, "KVStore.insert: gen must be an integer")),
        ("return store.put('fresh-gen', 'v', { gen: 5 }).then(() => store.get('fresh-gen')).then((e) => e.text())", resolved(json!("v"))),
        ("return store.put('g', 'v').then(() => store.put('g', 'w', { gen: 1.5 }))", rejected(TE, "KVStore insert: Precondition failed.")),
        ("return store.put('g', 'v').then(() => store.put('g', 'w', { gen: NaN }))", rejected(TE, "KVStore insert: Precondition failed.")),
        // metadata: strings and bytes; anything else rejects; empty is the host's refusal.
        ("return store.put('m', 'v', { metadata: 'meta' }).then(() => store.get('m')).then((e) => e.metadataText())", resolved(json!("meta"))),
        ("return store.put('m', 'v', { metadata: new Uint8Array([1, 2]) }).then(() => store.get('m')).then((e) => e.metadata())", json!({"outcome": "resolved", "uint8array": [1, 2]})),
        ("return store.put('m', 'v', { metadata: null })", rejected(TE, "KVStore.put metadata: bytes must be an ArrayBuffer or ArrayBufferView object")),
        ("return store.put('m', 'v', { metadata: 5 })", rejected(TE, "KVStore.put metadata: bytes must be an ArrayBuffer or ArrayBufferView object")),
        ("return store.put('m', 'v', { metadata: new String('x') })", rejected(TE, "KVStore.put metadata: bytes must be an ArrayBuffer or ArrayBufferView object")),
        ("return store.put('m', 'v', { metadata: {} })", rejected(TE, "KVStore.put metadata: bytes must be an ArrayBuffer or ArrayBufferView object")),
        ("return store.put('m', 'v', { metadata: '' })", rejected("Error", "put: Invalid argument.\n")),
        // Every write rebuilds the record: no metadata clears it.
        ("return store.put('m', 'v', { metadata: 'x' }).then(() => store.put('m', 'w')).then(() => store.get('m')).then((e) => e.metadataText())", resolved(Value::Null)),
        // mode
        ("return store.put('a', 'v').then(() => store.put('a', 'w', { mode: 'add' }))", rejected(TE, "KVStore insert: Precondition failed.")),
        ("return store.put('new-add', 'v', { mode: 'add' }).then(() => store.get('new-add')).then((e) => e.text())", resolved(json!("v"))),
        ("return store.put('p', 'b').then(() => store.put('p', 'c', { mode: 'append' })).then(() => store.put('p', 'a', { mode: 'prepend' })).then(() => store.get('p')).then((e) => e.text())", resolved(json!("abc"))),
        ("return store.put('new-append', 'x', { mode: 'append' }).then(() => store.get('new-append')).then((e) => e.text())", resolved(json!("x"))),
        ("return store.put('u', 'v').then(() => store.put('u', 'w', { mode: 'ADD' })).then(() => store.get('u')).then((e) => e.text())", resolved(json!("w"))),
        ("return store.put('u', 'v', { mode: { toString() { throw new TypeError('mode toString') } } })", threw(TE, "mode toString")),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries() {
    check(&[
        ("return store.get('seeded').then((e) => { const before = e.bodyUsed; return e.text().then(() => [before, e.bodyUsed]) })", resolved(json!([false, true]))),
        ("return store.get('seeded').then((e) => e.text().then(() => e.text()))", rejected("Error", "Body has already been consumed")),
        // Boa's own JSON.parse message.
        ("return store.get('seeded').then((e) => e.json())", rejected("SyntaxError", "JSON.parse: unexpected keyword at line 1 column 1 of the JSON data")),
        ("return store.put('j', '{\"a\":[1]}').then(() => store.get('j')).then((e) => e.json())", resolved(json!({"a": [1]}))),
        ("return store.put('bad', new Uint8Array([104, 105, 255])).then(() => store.get('bad')).then((e) => e.text())", rejected(TE, "malformed UTF-8 character sequence at offset 2")),
        // metadataText() and metadata() are synchronous: they throw, they do not reject.
        ("return store.put('bad', 'v', { metadata: new Uint8Array([0xc3]) }).then(() => store.get('bad')).then((e) => { try { e.metadataText(); return 'no throw' } catch (err) { return `threw ${err.constructor.name}: ${err.message}` } })", resolved(json!("threw TypeError: malformed UTF-8 character sequence at offset 0"))),
        // Strict UTF-8 keeps a BOM and counts offsets from the first byte.
        ("return store.put('bom', new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0xff])).then(() => store.get('bom')).then((e) => e.text())", rejected(TE, "malformed UTF-8 character sequence at offset 4")),
        ("return store.put('bom', new Uint8Array([0xef, 0xbb, 0xbf, 0x61])).then(() => store.get('bom')).then((e) => e.text()).then((t) => [...t].map((c) => c.charCodeAt(0)))", resolved(json!([0xfeff, 0x61]))),
        ("return store.get('seeded').then((e) => e.metadata() === e.metadata())", resolved(json!(true))),
        ("return KVStoreEntry.prototype.text.call({})", threw(TE, "Method 'text' called on receiver that's not an instance of KVStoreEntry")),
        ("return KVStoreEntry.prototype.metadata.call(store)", threw(TE, "Method 'metadata' called on receiver that's not an instance of KVStoreEntry")),
        ("return Object.getOwnPropertyDescriptor(KVStoreEntry.prototype, 'bodyUsed').get.call({})", threw(TE, "Method 'bodyUsed' called on receiver that's not an instance of KVStoreEntry")),
        ("return store.get('seeded').then((e) => typeof e.metadata().then)", resolved(json!("undefined"))),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prototype_shapes() {
    let keys = "(o) => Reflect.ownKeys(o).map((k) => { const d = Object.getOwnPropertyDescriptor(o, k); \
                return `${String(k)}:${'value' in d ? typeof d.value : 'accessor'}:${d.writable ? 'w' : '-'}${d.enumerable ? 'e' : '-'}${d.configurable ? 'c' : '-'}`; }).join(' ')";
    check(&[
        (
            &format!("return ({keys})(KVStore.prototype)"),
            returned(json!("constructor:function:w-c delete:function:wec get:function:wec put:function:wec list:function:wec")),
        ),
        (
            &format!("return ({keys})(KVStoreEntry.prototype)"),
            returned(json!("constructor:function:w-c body:accessor:-ec bodyUsed:accessor:-ec arrayBuffer:function:wec json:function:wec text:function:wec metadata:function:wec metadataText:function:wec")),
        ),
        (
            "return ['delete', 'get', 'put', 'list'].map((m) => `${KVStore.prototype[m].name}/${KVStore.prototype[m].length}`).join()",
            returned(json!("delete/1,get/1,put/1,list/1")),
        ),
        // The class is the platform's; the text is Boa's ("KVStore.prototype.put is not a
        // constructor" in SpiderMonkey).
        ("return new KVStore.prototype.put()", threw(TE, "not a constructor")),
        ("return `${KVStore.name}/${KVStore.length} ${KVStoreEntry.name}/${KVStoreEntry.length}`", returned(json!("KVStore/1 KVStoreEntry/0"))),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_checks_in_order() {
    check(&[
        ("return KVStore.prototype.list.call({})", threw(TE, "Method 'list' called on receiver that's not an instance of KVStore")),
        ("return KVStore.prototype.list.call(Object.create(KVStore.prototype), {})", threw(TE, "Method 'list' called on receiver that's not an instance of KVStore")),
        // Production throws (the docs call options optional).
        ("return store.list()", threw(TE, "KVStore.list: options must be an object")),
        ("return store.list(undefined)", threw(TE, "KVStore.list: options must be an object")),
        ("return store.list(null)", threw(TE, "KVStore.list: options must be an object")),
        ("return store.list('prefix')", threw(TE, "KVStore.list: options must be an object")),
        ("return store.list({ cursor: 5, limit: 'x', prefix: 1, noSync: 1 })", threw(TE, "KVStore.list: cursor must be a string")),
        ("return store.list({ limit: 'x', prefix: 1, noSync: 1 })", threw(TE, "KVStore.list: limit must be an integer")),
        ("return store.list({ limit: 5.5 })", threw(TE, "KVStore.list: limit must be an integer")),
        ("return store.list({ limit: NaN })", threw(TE, "KVStore.list: limit must be an integer")),
        ("return store.list({ limit: '5' })", threw(TE, "KVStore.list: limit must be an integer")),
        ("return store.list({ prefix: 1, noSync: 1 })", threw(TE, "KVStore.list: prefix must be a string")),
        ("return store.list({ noSync: 1 })", threw(TE, "KVStore.list: noSync must be a boolean")),
        ("return store.list({ noSync: 'true' })", threw(TE, "KVStore.list: noSync must be a boolean")),
        // Options are read in the order cursor, limit, prefix, noSync; getters propagate.
        (
            "const seen = []; const o = {}; for (const k of ['noSync', 'prefix', 'limit', 'cursor']) Object.defineProperty(o, k, { get() { seen.push(k); return undefined } }); \
             return store.list(o).then(() => seen.join())",
            resolved(json!("cursor,limit,prefix,noSync")),
        ),
        ("return store.list({ get prefix() { throw new EvalError('prefix getter') } })", threw("EvalError", "prefix getter")),
        // The host refuses empty strings synchronously, with a plain Error.
        ("return store.list({ cursor: '' })", threw("Error", "list: Invalid argument.\n")),
        ("return store.list({ prefix: '' })", threw("Error", "list: Invalid argument.\n")),
        ("return store.list({ cursor: 'boooo' })", rejected(TE, "KVStore list: Bad request.")),
        ("return store.list({ cursor: '////' })", rejected(TE, "KVStore list: Bad request.")),
        // null and undefined skip every check.
        ("return store.list({ cursor: null, limit: null, prefix: null, noSync: null }).then((r) => r.list)", resolved(json!(["plain", "seeded"]))),
        ("return store.list({ noSync: true }).then((r) => r.list)", resolved(json!(["plain", "seeded"]))),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages() {
    // Snippets are function bodies: `async` ones run in an async arrow.
    let fill = "return (async () => { for (const k of ['o/b', 'o/a', 'o/é', 'o/Z', 'o/~', 'o/a0', 'p/x']) await store.put(k, 'v');";
    check(&[
        // A new plain object, properties in the order list, cursor.
        (
            "return store.list({}).then((r) => [Object.keys(r), Object.getPrototypeOf(r) === Object.prototype, Array.isArray(r.list), 'cursor' in r, r.cursor === undefined])",
            resolved(json!([["list", "cursor"], true, true, true, true])),
        ),
        ("return Promise.all([store.list({}), store.list({})]).then(([a, b]) => a !== b && a.list !== b.list)", resolved(json!(true))),
        (
            &format!("{fill} return (await store.list({{ prefix: 'o/' }})).list }})()"),
            resolved(json!(["o/Z", "o/a", "o/a0", "o/b", "o/~", "o/é"])),
        ),
        (
            &format!("{fill} const first = await store.list({{ prefix: 'o/', limit: 2 }}); \
                      const second = await store.list({{ prefix: 'o/', limit: 2, cursor: first.cursor }}); \
                      const third = await store.list({{ prefix: 'o/', limit: 2, cursor: second.cursor }}); \
                      return [first, second, third.list, third.cursor === undefined, first.cursor === btoa('o/a')] }})()"),
            resolved(json!([
                { "list": ["o/Z", "o/a"], "cursor": "by9h" },
                { "list": ["o/a0", "o/b"], "cursor": "by9i" },
                ["o/~", "o/é"],
                true,
                true,
            ])),
        ),
        // Exactly the limit left: no cursor.
        (&format!("{fill} const r = await store.list({{ prefix: 'o/', limit: 6 }}); return [r.list.length, r.cursor] }})()"), resolved(json!([6, null]))),
        (&format!("{fill} return (await store.list({{ limit: -1 }})).list.length }})()"), resolved(json!(9))),
        (&format!("{fill} return (await store.list({{ prefix: 'o/', limit: 0 }})).list.length }})()"), resolved(json!(6))),
        // The default limit is 1000.
        (
            "return (async () => { for (let i = 0; i < 1001; i++) await store.put('d/' + String(i).padStart(4, '0'), 'v'); \
             const r = await store.list({ prefix: 'd/' }); return [r.list.length, r.cursor === btoa('d/0999'), (await store.list({ prefix: 'd/', cursor: r.cursor })).list] })()",
            resolved(json!([1000, true, ["d/1000"]])),
        ),
        // Expired entries are not listed.
        ("return store.put('x/gone', 'v', { ttl: 0 }).then(() => store.list({ prefix: 'x/' })).then((r) => r.list)", resolved(json!([]))),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_rules() {
    check(&[
        ("return store.delete()", threw(TE, "delete: At least 1 argument required, but only 0 passed")),
        ("return store.delete('')", rejected(TE, "KVStore key can not be an empty string")),
        ("return store.delete('a#b')", rejected(TE, "KVStore key can not contain # character")),
        ("return store.delete('a/../b')", rejected("Error", "delete: Invalid argument.\n")),
        // Production rejects a missing key (Viceroy resolves).
        ("return store.delete('absent')", rejected(TE, "KVStore delete: Not found.")),
        ("return store.put('d', 'v').then(() => store.delete('d'))", resolved_undefined()),
        ("return store.put('d', 'v').then(() => store.delete('d')).then(() => store.get('d'))", resolved(Value::Null)),
        ("return store.put('d', 'v').then(() => store.delete('d')).then(() => store.delete('d'))", rejected(TE, "KVStore delete: Not found.")),
        ("return store.put('d', 'v', { ttl: 0 }).then(() => store.delete('d'))", rejected(TE, "KVStore delete: Not found.")),
        ("return store.delete(42).catch((e) => e.message)", resolved(json!("KVStore delete: Not found."))),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_bodies() {
    const LOCKED: &str =
        "Can't use a ReadableStream that's locked or has ever been read from or canceled";
    check(&[
        ("return store.get('seeded').then((e) => e.body === e.body && e.body instanceof ReadableStream)", resolved(json!(true))),
        ("return store.get('seeded').then((e) => { e.body; return e.bodyUsed })", resolved(json!(false))),
        ("return store.get('seeded').then(async (e) => [await new Response(e.body).text(), e.bodyUsed])", resolved(json!(["from fastly.toml", true]))),
        ("return store.get('seeded').then(async (e) => { const r = e.body.getReader(); await r.read(); return e.bodyUsed })", resolved(json!(true))),
        ("return store.get('seeded').then((e) => { e.body.getReader(); return e.text() })", rejected(TE, LOCKED)),
        ("return store.get('seeded').then((e) => { e.body.getReader(); return e.json() })", rejected(TE, LOCKED)),
        ("return store.get('seeded').then((e) => { e.body.getReader(); return e.arrayBuffer() })", rejected(TE, LOCKED)),
        ("return store.get('seeded').then((e) => { e.body.cancel(); return e.text() })", rejected(TE, LOCKED)),
        // Taken but untouched, the body still reads.
        ("return store.get('seeded').then((e) => { e.body; return e.text() })", resolved(json!("from fastly.toml"))),
        // After text(), body is a stream that was read.
        ("return store.get('seeded').then((e) => e.text().then(() => [e.body.locked, e.bodyUsed, e.body === e.body]))", resolved(json!([true, true, true]))),
        ("return store.get('seeded').then((e) => { e.body; return e.text().then(() => e.bodyUsed) })", resolved(json!(true))),
        ("return store.get('seeded').then((e) => { e.body; return e.text().then(() => e.text()) })", rejected("Error", "Body has already been consumed")),
        ("return store.get('seeded').then((e) => e.arrayBuffer().then(() => e.json()))", rejected("Error", "Body has already been consumed")),
        ("return store.put('bad', new Uint8Array([104, 105, 255])).then(() => store.get('bad')).then((e) => { e.body; return e.text() })", rejected(TE, "malformed UTF-8 character sequence at offset 2")),
        ("return store.put('j', '[1]').then(() => store.get('j')).then((e) => { e.body; return e.json() })", resolved(json!([1]))),
        ("return Object.getOwnPropertyDescriptor(KVStoreEntry.prototype, 'body').get.call({})", threw(TE, "Method 'body' called on receiver that's not an instance of KVStoreEntry")),
        ("const d = Object.getOwnPropertyDescriptor(KVStoreEntry.prototype, 'body'); return [d.set, d.get.name, d.get.length]", returned(json!([null, "get body", 0]))),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_streams() {
    const LOCKED: &str =
        "Can't use a ReadableStream that's locked or has ever been read from or canceled";
    const CONTENT: &str =
        "Content-provided streams are not yet supported for streaming into KVStore";
    check(&[
        ("const s = new ReadableStream(); s.getReader(); return store.put('s', s)", rejected(TE, LOCKED)),
        ("const s = new ReadableStream(); s.cancel(); return store.put('s', s)", rejected(TE, LOCKED)),
        ("const b = new Response('x').body; b.getReader(); return store.put('s', b)", rejected(TE, LOCKED)),
        ("return store.put('s', new ReadableStream())", rejected(TE, CONTENT)),
        ("return store.put('s', new ReadableStream({ start(c) { c.enqueue(new Uint8Array([1])); c.close() } }))", rejected(TE, CONTENT)),
        ("return store.put('s', new Response(new ReadableStream()).body)", rejected(TE, CONTENT)),
        // A refused stream is left alone.
        ("const s = new ReadableStream(); return store.put('s', s).catch(() => s.locked)", resolved(json!(false))),
        // Host streams are read and stored.
        ("return store.put('s', new Response('streamed').body).then(() => store.get('s')).then((e) => e.text())", resolved(json!("streamed"))),
        ("return store.put('s', new Response('streamed').body)", resolved_undefined()),
        ("return store.put('s', new Response('').body).then(() => store.get('s')).then((e) => e.text())", resolved(json!(""))),
        ("return store.put('s', new Request('http://x/', { method: 'POST', body: 'req' }).body).then(() => store.get('s')).then((e) => e.text())", resolved(json!("req"))),
        ("return store.get('seeded').then((e) => store.put('copy', e.body)).then(() => store.get('copy')).then((e) => e.text())", resolved(json!("from fastly.toml"))),
        ("return store.put('sa', new Response('v').body, { metadata: 'm', mode: 'append' }).then(() => store.put('sa', new Response('w').body, { mode: 'append' })).then(() => store.get('sa')).then(async (e) => [await e.text(), e.metadataText()])", resolved(json!(["vw", null]))),
        ("return store.put('s', new Response('v').body, { metadata: 5 })", rejected(TE, "KVStore.put metadata: bytes must be an ArrayBuffer or ArrayBufferView object")),
        ("return store.put('s', 'v').then(() => store.put('s', new Response('w').body, { mode: 'add' }))", rejected(TE, "KVStore insert: Precondition failed.")),
        ("return store.put('big', new Response(new Uint8Array(31457281)).body)", rejected(TE, "KVStore value can not be more than 30 Megabytes in size")),
        ("return store.put('big', new Response(new Uint8Array(31457280)).body).then(() => store.get('big')).then(async (e) => (await e.arrayBuffer()).byteLength)", resolved(json!(31457280))),
    ])
    .await;
}
