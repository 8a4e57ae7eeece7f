//! `edgeshim test`: runs an app's declarative HTTP tests against a fresh server and says, at a
//! glance and for CI, what passed.
//!
//! A test file is js-compute-runtime's integration `tests.json` format
//! (`integration-tests/js-compute/fixtures/*/tests.json`), so the platform's own fixture
//! suites run unmodified: an object whose keys (`"GET /path"`) name the tests, in order, each
//! with an optional `downstream_request` (`method`, `pathname`, `headers`, `body`) and
//! `downstream_response` (`status`, default 200; `headers` as pairs or an object, a list
//! value meaning repeated headers; `body` as a string, a list of chunks or of bytes;
//! `body_prefix`, `body_suffix`). Tests marked `skip`, for other `environments` than
//! `viceroy`, or needing `features` are skipped, saying why. edgeshim adds `body_regex` (the
//! body must match) and `body_json` (the body is JSON holding at least these members).
//!
//! A JS test file (`*.test.js`, `.mjs`, `.ts`) declares tests with `describe`/`it`/`test`
//! and checks with `assert` (`ok`, `equal`, `strictEqual`, `notStrictEqual`,
//! `deepStrictEqual`, `match`, `rejects`), calling the app with `app(path, init)`, a
//! `fetch` to its server. It runs inside edgeshim too, as an app of its own whose one
//! request runs the tests in order, so it has the platform's APIs and nothing more, plus
//! `scenario` ([`crate::scenario`]): move the platform's clock, seed and read the app's
//! stores, pick the edge location of `app()` calls; and `app(path, { killAfter })` stops a
//! request midway, as if its instance died.
//!
//! The server is edgeshim's own, started in this process: stores in memory, seeded from
//! `fastly.toml`, `--strict` on (a compatibility warning fails its request). Tests run one
//! after the other, in file order, against one server per file; files run at once.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Args, ValueEnum};
use http_body_util::{BodyExt, Full};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use edgeshim_store::OffsetClock;

use crate::scenario::Scenario;
use crate::{KvBackend, ServeOptions};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Test files: js-compute's tests.json format, or JS test files (`*.test.js`, `.mjs`,
    /// `.ts`). Default: tests.json in the working directory.
    pub files: Vec<PathBuf>,
    /// The app to test. Default: the Compute project in the working directory.
    #[arg(long)]
    pub app: Option<PathBuf>,
    /// The fastly.toml to read [local_server] from. Default: beside the app, then in the
    /// working directory.
    #[arg(short = 'C', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// How to report.
    #[arg(long, value_enum, default_value_t = Format::Pretty)]
    pub format: Format,
    /// Write the report there instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Run the app as `js-compute-runtime --enable-http-cache` builds it (as `edgeshim
    /// serve --enable-http-cache`).
    #[arg(long)]
    pub enable_http_cache: bool,
    /// Let compatibility warnings pass (as `edgeshim serve` without `--strict`).
    #[arg(long)]
    pub no_strict: bool,
    /// CPU time a request may use, in milliseconds, as `edgeshim serve --cpu-limit`; 0 for
    /// no limit.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pub cpu_limit: u64,
    /// Record what the app answers as each test's expected status and body (a snapshot),
    /// rewriting the test files; a test checked with `body_json` or `body_regex` keeps them.
    #[arg(long)]
    pub update: bool,
    /// A variable for `fastly:env`, as `edgeshim serve --env`. Repeatable.
    #[arg(long = "env", value_name = "NAME[=VALUE]", value_parser = crate::cli::parse_env_var)]
    pub env: Vec<(String, String)>,
    /// Simulated edge locations, as `edgeshim serve --pops`; a request picks one with the
    /// `x-edgeshim-pop` header (JS tests: `scenario.pop(n)`).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub pops: u16,
    /// With --pops: how long a KV write takes to reach the other locations, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0, requires = "pops")]
    pub kv_propagation: u64,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a person: failures with what differed, then a summary line.
    Pretty,
    /// Test Anything Protocol, version 13.
    Tap,
    /// JUnit XML, for CI systems.
    Junit,
}

/// Why the tests could not run (their failures are in the report, not here).
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a tests.json file: {message}", path.display())]
    Format { path: PathBuf, message: String },
    #[error("the app did not start: {0}")]
    Start(#[from] crate::StartError),
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the scenario control server did not start: {source}")]
    Control { source: std::io::Error },
}

/// One test: a request and what its response must be.
#[derive(Debug, Clone, PartialEq)]
struct Case {
    name: String,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: u16,
    expect_headers: Vec<(String, Vec<String>)>,
    expect_body: Vec<BodyCheck>,
    skip: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum BodyCheck {
    Exact(Vec<u8>),
    Prefix(Vec<u8>),
    Suffix(Vec<u8>),
    Regex(String),
    JsonSubset(Value),
}

impl Case {
    /// `GET path`, expecting 200 and nothing else.
    fn get(path: &str) -> Self {
        Self {
            name: format!("GET {path}"),
            method: "GET".to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            status: 200,
            expect_headers: Vec::new(),
            expect_body: Vec::new(),
            skip: None,
        }
    }
}

/// A JSON object's members in file order (serde_json's maps sort them).
struct Ordered(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object whose keys name the tests")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    entries.push((key, value));
                }
                Ok(Ordered(entries))
            }
        }
        de.deserialize_map(V)
    }
}

/// Bytes of a body given as a string, a list of chunk strings or a list of byte values.
fn body_bytes(value: &Value) -> Result<Vec<u8>, String> {
    match value {
        Value::String(text) => Ok(text.clone().into_bytes()),
        Value::Array(items) if items.iter().all(Value::is_u64) => items
            .iter()
            .map(|b| {
                b.as_u64()
                    .and_then(|b| u8::try_from(b).ok())
                    .ok_or_else(|| format!("{b} is not a byte"))
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .map(|chunk| {
                chunk
                    .as_str()
                    .map(str::as_bytes)
                    .ok_or_else(|| format!("a body chunk must be a string, found {chunk}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|chunks| chunks.concat()),
        other => Err(format!("a body must be a string or a list, found {other}")),
    }
}

/// Headers given as `[name, value]` pairs, a flat `[name, value]`, or an object; a list
/// value is repeated headers.
fn header_list(value: &Value) -> Result<Vec<(String, Vec<String>)>, String> {
    let values = |v: &Value| -> Result<Vec<String>, String> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or("a header value must be a string")
                })
                .collect::<Result<_, _>>()
                .map_err(str::to_owned),
            other => Err(format!("a header value must be a string, found {other}")),
        }
    };
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(name, v)| Ok((name.clone(), values(v)?)))
            .collect(),
        Value::Array(items) if items.len() == 2 && items.iter().all(Value::is_string) => {
            Ok(vec![(
                items[0].as_str().unwrap_or_default().to_owned(),
                values(&items[1])?,
            )])
        }
        Value::Array(items) => items
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(name), v]) => Ok((name.clone(), values(v)?)),
                _ => Err(format!("a header must be [name, value], found {pair}")),
            })
            .collect(),
        other => Err(format!(
            "headers must be a list or an object, found {other}"
        )),
    }
}

fn parse_case(name: &str, spec: &Value) -> Result<Case, String> {
    let (method, path) = name
        .split_once(' ')
        .ok_or("a test name is \"METHOD /path\"")?;
    let request = spec.get("downstream_request");
    let response = spec.get("downstream_response");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let mut case = Case {
        name: name.to_owned(),
        method: text(request.and_then(|r| r.get("method"))).unwrap_or_else(|| method.to_owned()),
        ..Case::get(
            &text(request.and_then(|r| r.get("pathname"))).unwrap_or_else(|| path.to_owned()),
        )
    };
    if let Some(request) = request {
        if let Some(headers) = request.get("headers") {
            case.headers = header_list(headers)?
                .into_iter()
                .flat_map(|(n, vs)| vs.into_iter().map(move |v| (n.clone(), v)))
                .collect();
        }
        if let Some(body) = request.get("body") {
            case.body = body_bytes(body)?;
        }
    }
    if let Some(response) = response {
        if let Some(status) = response.get("status") {
            case.status = status
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .ok_or_else(|| format!("status must be a number, found {status}"))?;
        }
        if let Some(headers) = response.get("headers") {
            // Pairs of one name make one expectation of repeated headers, as js-compute's
            // compare-headers.js combines them.
            for (name, values) in header_list(headers)? {
                match case
                    .expect_headers
                    .iter_mut()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                {
                    Some((_, all)) => all.extend(values),
                    None => case.expect_headers.push((name, values)),
                }
            }
        }
        for (field, make) in [
            ("body", BodyCheck::Exact as fn(Vec<u8>) -> BodyCheck),
            ("body_prefix", BodyCheck::Prefix),
            ("body_suffix", BodyCheck::Suffix),
        ] {
            if let Some(body) = response.get(field) {
                case.expect_body.push(make(body_bytes(body)?));
            }
        }
        if let Some(pattern) = response.get("body_regex") {
            let pattern = pattern.as_str().ok_or("body_regex must be a string")?;
            regex_lite::Regex::new(pattern).map_err(|e| format!("body_regex: {e}"))?;
            case.expect_body.push(BodyCheck::Regex(pattern.to_owned()));
        }
        if let Some(json) = response.get("body_json") {
            case.expect_body.push(BodyCheck::JsonSubset(json.clone()));
        }
    }
    let environments: Vec<&str> = spec
        .get("environments")
        .and_then(Value::as_array)
        .map(|e| e.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let features: Vec<&str> = spec
        .get("features")
        .and_then(Value::as_array)
        .map(|e| e.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if spec.get("skip").is_some_and(|s| s != &Value::Bool(false)) {
        case.skip = Some("marked skip".to_owned());
    } else if !environments.is_empty() && !environments.contains(&"viceroy") {
        case.skip = Some(format!("for {} only", environments.join(", ")));
    } else if !features.is_empty() {
        case.skip = Some(format!("needs {}", features.join(", ")));
    }
    Ok(case)
}

/// A test file: its tests, and each one's JSON as written (for `--update`).
struct Suite {
    file: PathBuf,
    cases: Vec<Case>,
    specs: Vec<(String, Value)>,
}

fn parse_file(path: &Path) -> Result<Suite, TestError> {
    let text = std::fs::read_to_string(path).map_err(|source| TestError::Read {
        path: path.to_owned(),
        source,
    })?;
    let format = |message: String| TestError::Format {
        path: path.to_owned(),
        message,
    };
    let Ordered(specs) = serde_json::from_str(&text).map_err(|e| format(e.to_string()))?;
    let cases = specs
        .iter()
        .map(|(name, spec)| parse_case(name, spec).map_err(|m| format(format!("{name}: {m}"))))
        .collect::<Result<_, _>>()?;
    Ok(Suite {
        file: path.to_owned(),
        cases,
        specs,
    })
}

/// `spec` expecting what `seen` answered: its status, and its body unless a pattern or JSON
/// subset checks the body.
fn recorded(spec: &Value, seen: &Seen) -> Value {
    let mut spec = match spec {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    let mut response = match spec.remove("downstream_response") {
        Some(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    response.insert("status".to_owned(), Value::from(seen.status));
    if !response.contains_key("body_json") && !response.contains_key("body_regex") {
        response.remove("body_prefix");
        response.remove("body_suffix");
        let body = match std::str::from_utf8(&seen.body) {
            Ok(text) => Value::from(text),
            Err(_) => Value::from(seen.body.to_vec()),
        };
        response.insert("body".to_owned(), body);
    }
    spec.insert("downstream_response".to_owned(), Value::Object(response));
    Value::Object(spec)
}

/// Writes `specs` back in their order.
fn write_suite(path: &Path, specs: &[(String, Value)]) -> Result<(), TestError> {
    let mut text = String::from("{\n");
    for (i, (name, spec)) in specs.iter().enumerate() {
        let value = serde_json::to_string_pretty(spec)
            .unwrap_or_default()
            .replace('\n', "\n  ");
        let comma = if i + 1 < specs.len() { "," } else { "" };
        let _ = writeln!(text, "  {}: {value}{comma}", Value::from(name.as_str()));
    }
    text.push_str("}\n");
    std::fs::write(path, text).map_err(|source| TestError::Write {
        path: path.to_owned(),
        source,
    })
}

/// A response as the test saw it.
struct Seen {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

async fn send(addr: std::net::SocketAddr, case: &Case) -> Result<Seen, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot connect to the server: {e}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let mut request = http::Request::builder()
        .method(case.method.as_str())
        .uri(case.path.as_str())
        .header("host", addr.to_string());
    for (name, value) in &case.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(Full::new(Bytes::from(case.body.clone())))
        .map_err(|e| format!("the request cannot be made: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("the server did not answer: {e}"))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("the response body failed: {e}"))?
        .to_bytes();
    Ok(Seen {
        status,
        headers,
        body,
    })
}

fn shown(bytes: &[u8]) -> String {
    const MAX: usize = 400;
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > MAX {
        format!(
            "{:?}… ({} bytes)",
            text.chars().take(MAX).collect::<String>(),
            bytes.len()
        )
    } else {
        format!("{text:?}")
    }
}

/// Whether `actual` holds every member of `expected` (arrays element by element).
fn json_subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| json_subset(v, av))),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| json_subset(e, a))
        }
        _ => expected == actual,
    }
}

/// What differs between `case`'s expectations and `seen`, one line each.
fn differences(case: &Case, seen: &Seen) -> Vec<String> {
    let mut problems = Vec::new();
    if seen.status != case.status {
        problems.push(format!(
            "status: expected {}, got {} (body {})",
            case.status,
            seen.status,
            shown(&seen.body)
        ));
    }
    for (name, expected) in &case.expect_headers {
        let got: Vec<&str> = seen
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        if got != expected.iter().map(String::as_str).collect::<Vec<_>>() {
            problems.push(format!("header {name}: expected {expected:?}, got {got:?}"));
        }
    }
    for check in &case.expect_body {
        let body = &seen.body[..];
        let problem = match check {
            BodyCheck::Exact(e) => (body != &e[..])
                .then(|| format!("body: expected {}, got {}", shown(e), shown(body))),
            BodyCheck::Prefix(e) => (!body.starts_with(e)).then(|| {
                format!(
                    "body: expected to start with {}, got {}",
                    shown(e),
                    shown(body)
                )
            }),
            BodyCheck::Suffix(e) => (!body.ends_with(e)).then(|| {
                format!(
                    "body: expected to end with {}, got {}",
                    shown(e),
                    shown(body)
                )
            }),
            BodyCheck::Regex(pattern) => {
                let text = String::from_utf8_lossy(body);
                let matches = regex_lite::Regex::new(pattern).is_ok_and(|r| r.is_match(&text));
                (!matches)
                    .then(|| format!("body: expected to match /{pattern}/, got {}", shown(body)))
            }
            BodyCheck::JsonSubset(e) => match serde_json::from_slice::<Value>(body) {
                Ok(actual) if json_subset(e, &actual) => None,
                Ok(actual) => Some(format!("body: expected JSON holding {e}, got {actual}")),
                Err(err) => Some(format!("body: expected JSON ({err}), got {}", shown(body))),
            },
        };
        problems.extend(problem);
    }
    problems
}

/// How one test ended.
#[derive(Debug)]
enum Outcome {
    Passed,
    /// Failed, and `--update` recorded what the app answered.
    Updated,
    Failed(Vec<String>),
    Skipped(String),
}

struct Ran {
    file: PathBuf,
    name: String,
    outcome: Outcome,
    took: Duration,
}

/// Runs the tests of `suite`, in order, on a server of their own: what each saw, and how
/// each ended.
/// The app's server for one test file: fresh stores from the seeds, `--strict` unless
/// `--no-strict`.
fn app_options(args: &TestArgs, snapshot_program: Option<&PathBuf>) -> ServeOptions {
    let mut options = ServeOptions::new(args.app.clone().unwrap_or_default());
    options.addr = ([127, 0, 0, 1], 0).into();
    options.config.clone_from(&args.config);
    options.kv = KvBackend::Memory;
    options.strict = !args.no_strict;
    options.enable_http_cache = args.enable_http_cache;
    options.env.clone_from(&args.env);
    options.pool.limits.cpu = (args.cpu_limit > 0).then(|| Duration::from_millis(args.cpu_limit));
    options.pool.snapshot_program = snapshot_program.cloned();
    options.pops = usize::from(args.pops);
    options.kv_propagation = Duration::from_millis(args.kv_propagation);
    options
}

async fn run_suite(
    suite: Suite,
    args: &TestArgs,
    snapshot_program: Option<&PathBuf>,
) -> Result<(Suite, Vec<Option<Seen>>, Vec<Ran>), TestError> {
    // A fresh server per file: its stores start from the seeds.
    let server = crate::start(app_options(args, snapshot_program)).await?;
    let mut seen_all = Vec::new();
    let mut results = Vec::new();
    for case in &suite.cases {
        let at = Instant::now();
        let (outcome, seen) = match &case.skip {
            Some(why) => (Outcome::Skipped(why.clone()), None),
            None => match send(server.addr(), case).await {
                Ok(seen) => match differences(case, &seen) {
                    problems if problems.is_empty() => (Outcome::Passed, Some(seen)),
                    problems => (Outcome::Failed(problems), Some(seen)),
                },
                Err(why) => (Outcome::Failed(vec![why]), None),
            },
        };
        results.push(Ran {
            file: suite.file.clone(),
            name: case.name.clone(),
            outcome,
            took: at.elapsed(),
        });
        seen_all.push(seen);
    }
    server.stop().await;
    Ok((suite, seen_all, results))
}

/// Whether `file` is a JS test file (`*.test.js` and the like) rather than a tests.json.
fn is_script(file: &Path) -> bool {
    file.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "js" | "mjs" | "ts" | "mts"))
}

/// The globals a JS test file sees (`describe`, `it`/`test`, `assert`, `app`), and the
/// harness that imports it and runs its tests in one request (`fetch` is request-only on
/// Compute). `app(path, init)` fetches the app under test (a dynamic backend to its server).
const SCRIPT_GLOBALS: &str = r#"import { env } from "fastly:env";
import { CacheOverride } from "fastly:cache-override";
const tests = [];
const scope = [];
globalThis.describe = (name, body) => { scope.push(name); try { body(); } finally { scope.pop(); } };
globalThis.it = globalThis.test = (name, body) => { tests.push({ name: [...scope, name].join(" > "), body }); };
let pop;
// The harness's own fetches pass its readthrough cache: every call reaches the app.
globalThis.app = (path, { killAfter, ...init } = {}) => {
  const headers = new Headers(init.headers);
  if (pop !== undefined && !headers.has("x-edgeshim-pop")) headers.set("x-edgeshim-pop", String(pop));
  if (killAfter !== undefined) headers.set("x-edgeshim-kill-after-ms", String(killAfter));
  return fetch(new URL(path, env("EDGESHIM_TEST_APP")).href, { cacheOverride: new CacheOverride("pass"), ...init, headers });
};
async function control(path, body) {
  const response = await fetch(new URL(path, env("EDGESHIM_TEST_CONTROL")).href, { method: "POST", body: JSON.stringify(body) });
  const value = await response.json();
  if (!response.ok) throw new Error(`scenario: ${value.error}`);
  return value;
}
globalThis.scenario = {
  advanceClock: async (ms) => (await control("/clock/advance", { ms })).now,
  kv: (store) => ({
    put: async (key, value, options = {}) => { await control("/kv", { op: "put", store, key, value: String(value), metadata: options.metadata, ttl: options.ttl }); },
    get: (key) => control("/kv", { op: "get", store, key }),
    delete: async (key) => { await control("/kv", { op: "delete", store, key }); },
    list: async (prefix) => (await control("/kv", { op: "list", store, prefix })).keys,
  }),
  pop: (n) => { pop = n; },
};
export function resetScenario() { pop = undefined; }
function fail(message, actual, expected) {
  const error = new Error(message ?? `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  error.name = "AssertionError";
  throw error;
}
function same(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => same(a[k], b[k]));
}
const assert = (value, message) => { if (!value) fail(message ?? `expected a truthy value, got ${JSON.stringify(value)}`); };
assert.ok = assert;
assert.equal = (a, b, message) => { if (a != b) fail(message, a, b); };
assert.strictEqual = (a, b, message) => { if (!Object.is(a, b)) fail(message, a, b); };
assert.notStrictEqual = (a, b, message) => { if (Object.is(a, b)) fail(message ?? `expected anything but ${JSON.stringify(b)}`); };
assert.deepStrictEqual = (a, b, message) => { if (!same(a, b)) fail(message, a, b); };
assert.match = (text, pattern, message) => { if (!pattern.test(text)) fail(message ?? `expected ${JSON.stringify(text)} to match ${pattern}`); };
assert.rejects = async (promise, message) => {
  try { await (typeof promise === "function" ? promise() : promise); } catch { return; }
  fail(message ?? "expected a rejection");
};
globalThis.assert = assert;
export { tests };
"#;

/// Runs the JS test file `script`: the app on one server, the harness importing the file on
/// another, one request to it.
async fn run_script(
    script: &Path,
    args: &TestArgs,
    snapshot_program: Option<&PathBuf>,
) -> Result<Vec<Ran>, TestError> {
    let started = Instant::now();
    let given = script.to_owned();
    let script = std::path::absolute(script).map_err(|source| TestError::Read {
        path: script.to_owned(),
        source,
    })?;
    if !script.is_file() {
        return Err(TestError::Read {
            path: script,
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    let clock = Arc::new(OffsetClock::default());
    let mut app_options = app_options(args, snapshot_program);
    app_options.clock = clock.clone();
    app_options.scenario = true;
    let app = crate::start(app_options).await?;
    let control = crate::scenario::start(Scenario {
        clock,
        stores: app.stores().clone(),
    })
    .await
    .map_err(|source| TestError::Control { source })?;
    let dir = std::env::temp_dir().join(format!(
        "edgeshim-test-{}-{}",
        std::process::id(),
        SCRIPTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let written = |path: PathBuf, text: String| {
        std::fs::write(&path, text).map_err(|source| TestError::Write { path, source })
    };
    std::fs::create_dir_all(&dir).map_err(|source| TestError::Write {
        path: dir.clone(),
        source,
    })?;
    written(dir.join("globals.mjs"), SCRIPT_GLOBALS.to_owned())?;
    let harness = dir.join("harness.mjs");
    written(
        harness.clone(),
        format!(
            "import {{ tests, resetScenario }} from \"./globals.mjs\";\nimport {};\n\
             addEventListener(\"fetch\", (event) => event.respondWith((async () => {{\n\
               const results = [];\n\
               for (const {{ name, body }} of tests) {{\n\
                 resetScenario();\n\
                 const started = Date.now();\n\
                 try {{ await body(); results.push({{ name, ok: true, ms: Date.now() - started }}); }}\n\
                 catch (e) {{ results.push({{ name, ok: false, ms: Date.now() - started, message: `${{e && e.name}}: ${{e && e.message}}` }}); }}\n\
               }}\n\
               return Response.json(results);\n\
             }})()));\n",
            Value::from(script.to_string_lossy().as_ref())
        ),
    )?;
    let mut options = ServeOptions::new(harness);
    options.addr = ([127, 0, 0, 1], 0).into();
    options.kv = KvBackend::Memory;
    options.env = vec![
        (
            "EDGESHIM_TEST_APP".to_owned(),
            format!("http://{}/", app.addr()),
        ),
        (
            "EDGESHIM_TEST_CONTROL".to_owned(),
            format!("http://{}/", control.addr()),
        ),
    ];
    // The tests run in one request: no CPU limit on it.
    options.pool.limits.cpu = None;
    options.pool.snapshot_program = snapshot_program.cloned();
    let outcome = match crate::start(options).await {
        Ok(harness) => {
            let case = Case::get("/");
            let seen = send(harness.addr(), &case).await;
            harness.stop().await;
            seen
        }
        Err(e) => Err(format!("the test file does not load: {e}")),
    };
    app.stop().await;
    drop(control);
    let _ = std::fs::remove_dir_all(&dir);
    let file = given.clone();
    let whole = |problem: String| {
        vec![Ran {
            file: file.clone(),
            name: "(the test file)".to_owned(),
            outcome: Outcome::Failed(vec![problem]),
            took: started.elapsed(),
        }]
    };
    let seen = match outcome {
        Ok(seen) => seen,
        Err(problem) => return Ok(whole(problem)),
    };
    let Ok(Value::Array(reports)) = serde_json::from_slice::<Value>(&seen.body) else {
        return Ok(whole(format!(
            "the tests did not run: {} {}",
            seen.status,
            shown(&seen.body)
        )));
    };
    Ok(reports
        .iter()
        .map(|report| Ran {
            file: given.clone(),
            name: report["name"].as_str().unwrap_or("?").to_owned(),
            outcome: if report["ok"] == Value::Bool(true) {
                Outcome::Passed
            } else {
                Outcome::Failed(vec![report["message"].as_str().unwrap_or("?").to_owned()])
            },
            took: Duration::from_millis(report["ms"].as_u64().unwrap_or(0)),
        })
        .collect())
}

/// Numbers the harness folders of one process.
static SCRIPTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs `args`; returns whether every test passed (or was skipped).
///
/// # Errors
/// A test file that cannot be read, an app that does not start, a report that cannot be
/// written.
pub async fn run(
    args: TestArgs,
    snapshot_program: Option<PathBuf>,
    out: &mut dyn std::io::Write,
) -> Result<bool, TestError> {
    let started = Instant::now();
    let files = if args.files.is_empty() {
        vec![PathBuf::from("tests.json")]
    } else {
        args.files.clone()
    };
    let (scripts, files): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|f| is_script(f));
    let suites = files
        .iter()
        .map(|file| parse_file(file))
        .collect::<Result<Vec<_>, _>>()?;
    let script_runs = futures_util::future::join_all(
        scripts
            .iter()
            .map(|script| run_script(script, &args, snapshot_program.as_ref())),
    );
    // Each file on a server of its own, all at once.
    let runs = futures_util::future::join_all(
        suites
            .into_iter()
            .map(|suite| run_suite(suite, &args, snapshot_program.as_ref())),
    )
    .await;
    let mut results = Vec::new();
    for run in script_runs.await {
        results.extend(run?);
    }
    for run in runs {
        let (suite, seen, outcomes) = run?;
        if args.update {
            let specs: Vec<(String, Value)> = suite
                .specs
                .iter()
                .zip(&seen)
                .map(|((name, spec), seen)| {
                    let spec = seen
                        .as_ref()
                        .map_or_else(|| spec.clone(), |s| recorded(spec, s));
                    (name.clone(), spec)
                })
                .collect();
            write_suite(&suite.file, &specs)?;
            // What the recorded file still says differs (a header, a JSON subset, a
            // pattern: those are not recorded) stays a failure.
            for ((mut result, seen), (name, spec)) in outcomes.into_iter().zip(&seen).zip(&specs) {
                if let (Outcome::Failed(_), Some(seen)) = (&result.outcome, seen) {
                    let problems = parse_case(name, spec)
                        .map(|case| differences(&case, seen))
                        .unwrap_or_default();
                    result.outcome = if problems.is_empty() {
                        Outcome::Updated
                    } else {
                        Outcome::Failed(problems)
                    };
                }
                results.push(result);
            }
            continue;
        }
        results.extend(outcomes);
    }
    let report = match args.format {
        Format::Pretty => pretty(&results, started.elapsed()),
        Format::Tap => tap(&results),
        Format::Junit => junit(&results, started.elapsed()),
    };
    match &args.output {
        Some(path) => std::fs::write(path, report).map_err(|source| TestError::Write {
            path: path.clone(),
            source,
        })?,
        None => out
            .write_all(report.as_bytes())
            .map_err(|source| TestError::Write {
                path: PathBuf::from("standard output"),
                source,
            })?,
    }
    Ok(!results
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Failed(_))))
}

fn counts(results: &[Ran]) -> (usize, usize, usize) {
    results
        .iter()
        .fold((0, 0, 0), |(p, f, s), r| match r.outcome {
            Outcome::Passed | Outcome::Updated => (p + 1, f, s),
            Outcome::Failed(_) => (p, f + 1, s),
            Outcome::Skipped(_) => (p, f, s + 1),
        })
}

fn pretty(results: &[Ran], took: Duration) -> String {
    let mut text = String::new();
    for r in results {
        match &r.outcome {
            Outcome::Failed(problems) => {
                let _ = writeln!(text, "FAIL {} ({})", r.name, r.file.display());
                for problem in problems {
                    let _ = writeln!(text, "     {problem}");
                }
            }
            Outcome::Updated => {
                let _ = writeln!(text, "UPDATED {} ({})", r.name, r.file.display());
            }
            Outcome::Passed | Outcome::Skipped(_) => {}
        }
    }
    let (passed, failed, skipped) = counts(results);
    let _ = writeln!(
        text,
        "{} {passed} passed, {failed} failed, {skipped} skipped in {:.0} ms",
        if failed == 0 { "ok" } else { "FAILED" },
        took.as_secs_f64() * 1000.0
    );
    text
}

fn tap(results: &[Ran]) -> String {
    let mut text = format!("TAP version 13\n1..{}\n", results.len());
    for (i, r) in results.iter().enumerate() {
        let n = i + 1;
        let _ = match &r.outcome {
            Outcome::Passed => writeln!(text, "ok {n} - {}", r.name),
            Outcome::Updated => writeln!(text, "ok {n} - {} # updated (--update)", r.name),
            Outcome::Skipped(why) => writeln!(text, "ok {n} - {} # SKIP {why}", r.name),
            Outcome::Failed(problems) => {
                let _ = writeln!(text, "not ok {n} - {}", r.name);
                let _ = writeln!(
                    text,
                    "  ---\n  file: {:?}\n  problems:",
                    r.file.display().to_string()
                );
                for problem in problems {
                    let _ = writeln!(text, "    - {:?}", problem);
                }
                writeln!(text, "  ...")
            }
        };
    }
    text
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn junit(results: &[Ran], took: Duration) -> String {
    let (_, failed, skipped) = counts(results);
    let mut text = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"edgeshim test\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\" time=\"{:.3}\">\n",
        results.len(),
        took.as_secs_f64()
    );
    for r in results {
        let _ = write!(
            text,
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            xml(&r.file.display().to_string()),
            xml(&r.name),
            r.took.as_secs_f64()
        );
        let _ = match &r.outcome {
            Outcome::Passed | Outcome::Updated => writeln!(text, "/>"),
            Outcome::Skipped(why) => {
                writeln!(
                    text,
                    ">\n    <skipped message=\"{}\"/>\n  </testcase>",
                    xml(why)
                )
            }
            Outcome::Failed(problems) => writeln!(
                text,
                ">\n    <failure message=\"{}\">{}</failure>\n  </testcase>",
                xml(problems.first().map_or("", String::as_str)),
                xml(&problems.join("\n"))
            ),
        };
    }
    text.push_str("</testsuite>\n");
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn js_computes_format_reads_as_its_runner_reads_it() {
        let spec: Value = serde_json::json!({
            "environments": ["viceroy", "compute"],
            "downstream_request": {
                "method": "POST", "pathname": "/tee",
                "headers": ["Content-Type", "application/json"], "body": "hello"
            },
            "downstream_response": {
                "status": 201, "headers": [["a", "1"], ["a", "2"]], "body": ["he", "llo"]
            }
        });
        let case = parse_case("POST /tee", &spec).unwrap();
        assert_eq!(
            case.headers,
            [("Content-Type".to_owned(), "application/json".to_owned())]
        );
        assert_eq!(case.body, b"hello");
        assert_eq!(case.status, 201);
        assert_eq!(
            case.expect_headers,
            [("a".to_owned(), vec!["1".to_owned(), "2".to_owned()])]
        );
        assert_eq!(case.expect_body, [BodyCheck::Exact(b"hello".to_vec())]);
        assert_eq!(case.skip, None);
        let compute_only = parse_case("GET /x", &serde_json::json!({"environments": ["compute"]}));
        assert_eq!(
            compute_only.unwrap().skip.as_deref(),
            Some("for compute only")
        );
        let bytes = parse_case(
            "GET /b",
            &serde_json::json!({"downstream_response": {"body": [104, 105]}}),
        );
        assert_eq!(
            bytes.unwrap().expect_body,
            [BodyCheck::Exact(b"hi".to_vec())]
        );
        assert!(parse_case("nospace", &Value::Null).is_err());
    }

    #[test]
    fn json_subsets() {
        let actual = serde_json::json!({"a": 1, "b": {"c": [1, 2], "d": 3}});
        assert!(json_subset(
            &serde_json::json!({"b": {"c": [1, 2]}}),
            &actual
        ));
        assert!(!json_subset(&serde_json::json!({"b": {"c": [1]}}), &actual));
        assert!(!json_subset(&serde_json::json!({"e": null}), &actual));
    }
}
