//! What Viceroy emulates locally, each over a fixture app of its own served over HTTP:
//! `[local_server.secret_stores]` (`fastly:secret-store`), `[local_server.geolocation]`
//! (`fastly:geolocation`, `event.client.geo`), `[local_server.acls]` (`fastly:acl`),
//! `[local_server.device_detection]` (`fastly:device`), log endpoints (`fastly:logger`,
//! on stdout as Viceroy writes them) and `fastly:compute`. Messages are js-compute 3.46's
//! (`error_numbers.msg` and the builtins' sources), verbatim.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use support::{fixture, json_of, pool, repo, serve_from_repo, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_stores_answer_from_data_files_env_and_json() {
    // Read when the config is, as Viceroy reads it.
    std::env::set_var("EDGESHIM_FIXTURE_SECRET", "from the environment");
    let server = serve_from_repo("secret-store/index.js").await;
    let entry = |text: &str, bytes: &[u8]| json!({"value": {"isEntry": true, "plaintext": text, "rawBytes": bytes}});
    for (path, expected) in [
        ("/get?store=api&key=token", entry("s3cr3t", b"s3cr3t")),
        (
            "/get?store=api&key=binary.key",
            json!({"value": {"isEntry": true, "plaintext": {"name": "TypeError", "message": "malformed UTF-8 character sequence at offset 2"}, "rawBytes": [0, 1, 0xfe, 0xff]}}),
        ),
        (
            "/get?store=api&key=from-env",
            entry("from the environment", b"from the environment"),
        ),
        ("/get?store=api&key=absent", json!({"value": null})),
        ("/get?store=more&key=region", entry("eu-west", b"eu-west")),
        (
            "/get?store=more&key=unicode",
            entry("h\u{e9}llo", "h\u{e9}llo".as_bytes()),
        ),
        ("/from-bytes", json!({"plaintext": "hi", "isEntry": true})),
        ("/rejects", json!({"threw": false, "isPromise": true})),
    ] {
        assert_eq!(json_of(&server, path).await, expected, "{path}");
    }
    let type_error = |message: &str| json!({"name": "TypeError", "message": message});
    assert_eq!(
        json_of(&server, "/errors").await,
        json!([
            type_error("SecretStore constructor: name can not be an empty string"),
            type_error("SecretStore constructor: name can not be more than 255 characters"),
            type_error("SecretStore constructor: name can contain only ascii alphanumeric characters, underscores, dashes, and ascii whitespace"),
            type_error("SecretStore constructor: No SecretStore named 'missing' exists"),
            type_error("SecretStore key can not be an empty string"),
            type_error("SecretStore key can not be more than 255 characters"),
            type_error("SecretStore key can contain only ascii alphanumeric characters, underscores, dashes, and ascii whitespace"),
            type_error("Method 'get' called on receiver that's not an instance of SecretStore"),
            {"name": "Error", "message": "SecretStoreEntry can't be instantiated directly"},
            type_error("SecretStore.fromBytes: bytes must be an ArrayBuffer or ArrayBufferView object"),
            type_error("Method 'plaintext' called on receiver that's not an instance of SecretStoreEntry"),
        ])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn geolocation_answers_configured_addresses_then_viceroys_loopback_data() {
    let server = serve_from_repo("geolocation/index.js").await;
    // Viceroy's data for loopback addresses, in its key order.
    let loopback = json!({
        "area_code": 415, "as_name": "Fastly, Inc", "as_number": 54113,
        "city": "San Francisco", "conn_speed": "broadband", "conn_type": "wired",
        "continent": "NA", "country_code": "US", "country_code3": "USA",
        "country_name": "United States of America", "latitude": 37.77869,
        "longitude": -122.39557, "metro_code": 0, "postal_code": "94107",
        "proxy_description": "?", "proxy_type": "?", "region": "CA", "utc_offset": -700
    });
    for (path, expected) in [
        (
            "/lookup?ip=203.0.113.7",
            json!({"value": {"as_name": "Example Networks", "as_number": 64500, "city": "Berlin",
                             "country_code": "DE", "is_proxy": false, "latitude": 52.52}}),
        ),
        (
            "/lookup?ip=2001:db8:0:0::1",
            json!({"value": {"city": "Lisbon"}}),
        ),
        ("/lookup?ip=127.0.0.1", json!({"value": loopback})),
        ("/lookup?ip=::1", json!({"value": loopback})),
        ("/lookup?ip=198.51.100.1", json!({"value": null})),
        ("/client", json!({"address": "127.0.0.1", "geo": loopback})),
    ] {
        assert_eq!(json_of(&server, path).await, expected, "{path}");
    }
    // Key order is the data's own.
    let body = server.get("/lookup?ip=127.0.0.1").await.text();
    assert!(
        body.starts_with(r#"{"value":{"area_code":415,"as_name""#),
        "{body}"
    );
    let error = |message: &str| json!({"name": "Error", "message": message});
    assert_eq!(
        json_of(&server, "/errors").await,
        json!([
            {"name": "TypeError", "message": "fastly.getGeolocationForIpAddress: At least 1 argument required, but only 0 passed"},
            error("Invalid address passed to fastly.getGeolocationForIpAddress"),
            error("Invalid address passed to fastly.getGeolocationForIpAddress"),
        ])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acls_answer_the_longest_matching_prefix() {
    let server = serve_from_repo("acl/index.js").await;
    for (path, expected) in [
        ("/lookup?ip=123.123.123.123", json!({"value": null})),
        ("/lookup?ip=100.99.100.100", json!({"value": null})),
        (
            "/lookup?ip=2a04:4b80:1234:5678:9abc:def0:1234:5678",
            json!({"value": null}),
        ),
        (
            "/lookup?ip=100.100.1.1",
            json!({"value": {"prefix": "100.100.0.0/16", "action": "BLOCK"}}),
        ),
        (
            "/lookup?ip=100.100.100.100",
            json!({"value": {"prefix": "100.100.100.0/24", "action": "ALLOW"}}),
        ),
        (
            "/lookup?acl=edge&ip=2a03:4b80:5c1d:e8f7:92a3:b45c:61d8:7e9f",
            json!({"value": {"prefix": "2a03:4b80::/32", "action": "ALLOW"}}),
        ),
    ] {
        assert_eq!(json_of(&server, path).await, expected, "{path}");
    }
    let type_error = |message: &str| json!({"name": "TypeError", "message": message});
    let error = |message: &str| json!({"name": "Error", "message": message});
    assert_eq!(
        json_of(&server, "/errors").await,
        json!([
            type_error("Acl builtin can't be instantiated directly"),
            type_error("Acl builtin can't be instantiated directly"),
            type_error("Acl open: At least 1 argument required, but only 0 passed"),
            type_error("Acl open: name must be a string"),
            type_error("Acl open: name can not be an empty string"),
            type_error("Acl open: name can not be more than 254 characters"),
            type_error("Acl open: \"foo\" acl not found"),
            type_error("lookup: At least 1 argument required, but only 0 passed"),
            error("Invalid address passed to acl.lookup"),
            error("Invalid address passed to acl.lookup"),
            error("Invalid address passed to acl.lookup"),
            type_error("Method 'lookup' called on receiver that's not an instance of Acl"),
            {"value": true},
        ])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_detection_reads_the_user_agents_device() {
    let server = serve_from_repo("device-detection/index.js").await;
    let iphone =
        "/lookup?ua=Mozilla%2F5.0%20(iPhone%3B%20CPU%20iPhone%20OS%2017_0%20like%20Mac%20OS%20X)";
    let fields = json!({
        "name": "iPhone", "brand": "Apple", "model": "iPhone", "hardwareType": "Mobile Phone",
        "isDesktop": false, "isGameConsole": null, "isMediaPlayer": null, "isMobile": true,
        "isSmartTV": null, "isTablet": null, "isTouchscreen": true, "isBot": null,
    });
    assert_eq!(
        json_of(&server, iphone).await,
        json!({"value": {"tag": "[object Device]", "fields": fields, "json": fields}})
    );
    // An entry without a device object: names are null, flags false; toJSON is null.
    assert_eq!(
        json_of(&server, "/lookup?ua=NoDevice%2F1.0").await,
        json!({"value": {"tag": "[object Device]", "fields": {
            "name": null, "brand": null, "model": null, "hardwareType": null,
            "isDesktop": false, "isGameConsole": false, "isMediaPlayer": false,
            "isMobile": false, "isSmartTV": false, "isTablet": false,
            "isTouchscreen": false, "isBot": false,
        }, "json": null}})
    );
    assert_eq!(
        json_of(&server, "/lookup?ua=curl%2F8.0").await,
        json!({"value": null})
    );
    assert_eq!(
        json_of(&server, "/errors").await,
        json!([
            {"name": "TypeError", "message": "Device builtin can't be instantiated directly"},
            {"name": "TypeError", "message": "Device.lookup: At least 1 argument required, but only 0 passed"},
            {"name": "Error", "message": "Device.lookup: useragent parameter can not be an empty string"},
        ])
    );
    server.stop().await;
}

/// Every export of the 22 `fastly:*` modules of js-compute 3.46
/// (`shared/reference/js-compute-3.46-surface/modules-js-compute-3.46.json`), sorted.
fn reference_module_exports() -> Value {
    json!({"acl": ["Acl"], "backend": ["Backend", "enforceExplicitBackends", "setDefaultBackend", "setDefaultDynamicBackendConfig"], "body": ["FastlyBody"], "cache-override": ["CacheOverride"], "config-store": ["ConfigStore"], "dictionary": ["Dictionary"], "device": ["Device"], "edge-rate-limiter": ["EdgeRateLimiter", "PenaltyBox", "RateCounter"], "env": ["env"], "experimental": ["allowDynamicBackends", "enableDebugLogging", "includeBytes", "mapAndLogError", "mapError", "sdkVersion", "setBaseURL", "setDefaultBackend", "setReusableSandboxOptions"], "fanout": ["createFanoutHandoff"], "websocket": ["createWebsocketHandoff"], "geolocation": ["getGeolocationForIpAddress"], "logger": ["Logger", "configureConsole"], "kv-store": ["KVStore"], "secret-store": ["SecretStore", "SecretStoreEntry"], "cache": ["CacheEntry", "CacheState", "CoreCache", "PendingTransaction", "SimpleCache", "SimpleCacheEntry", "TransactionCacheEntry"], "compute": ["purgeSurrogateKey", "vCpuTime"], "html-rewriter": ["HTMLRewritingStream"], "image-optimizer": ["Auto", "BWAlgorithm", "CropMode", "Disable", "Enable", "Fit", "Format", "Metadata", "Optimize", "Orient", "Profile", "Region", "ResizeFilter", "optionsToQueryString"], "shielding": ["Shield"], "security": ["inspect"]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fastly_module_imports_with_the_platforms_exports() {
    let server = serve_from_repo("platform-modules/index.js").await;
    assert_eq!(
        json_of(&server, "/modules").await,
        reference_module_exports()
    );
    let error = |message: &str| json!({"name": "Error", "message": message});
    let type_error = |message: &str| json!({"name": "TypeError", "message": message});
    assert_eq!(
        json_of(&server, "/cache-override").await,
        json!({
            "pass": {"mode": "pass", "ttl": "undefined", "tag": "[object CacheOverride]"},
            "override": {"mode": "override", "ttl": 300, "swr": 60, "staleWhileRevalidate": 60,
                         "surrogateKey": "123", "pci": true},
            "fromObject": {"mode": "override", "ttl": 10, "swr": 5},
            "errors": [
                type_error("CacheOverride constructor: At least 1 argument required, but only 0 passed"),
                type_error("CacheOverride constructor: 'mode' has to be \"none\", \"pass\", or \"override\", but got \"cache\""),
                error("Creating a CacheOverride object with mode \"override\" requires an init object for the override parameters as the second argument"),
                type_error("CacheOverride: ttl must be a non-negative integer"),
                error("CacheOverride: beforeSend must be a function"),
                error("Can't set a TTL on CacheOverride object whose mode isn't \"override\""),
                type_error("Method 'mode get' called on receiver that's not an instance of CacheOverride"),
            ],
            "globalIsExport": true,
        })
    );
    assert_eq!(
        json_of(&server, "/body").await,
        json!({
            "reads": ["hel", "lo ", "world", "!", 0], "drained": 0,
            "errors": [
                error("FastlyBody.read: The `chunkSize` argument has to be a positive integer."),
                error("FastlyBody.concat: The `destination` argument is not an instance of FastlyBody."),
            ],
        })
    );
    assert_eq!(
        json_of(&server, "/rate-limiting").await,
        json!({
            // Counted: one request of delta 1 is 0.1 per second over 10 seconds.
            "checkRate": false, "lookupRate": 0.1, "lookupCount": 1, "has": false,
            "errors": [
                error("PenaltyBox constructor: name parameter can not be an empty string."),
                error("EdgeRateLimiter constructor: rateCounter parameter must be an instance of RateCounter"),
                error("checkRate: window parameter must be either: 1, 10, or 60"),
                error("add: timeToLive parameter is an invalid value, only numbers from 1 to 60 can be used for timeToLive values."),
                error("lookupCount: duration parameter must be either: 10, 20, 30, 40, 50, or 60"),
            ],
        })
    );
    let advice = "Run the app with Viceroy, or deploy it, to exercise this path.";
    assert_eq!(
        json_of(&server, "/not-emulated").await,
        json!([
            error(&format!("Shield is not emulated by edgeshim: on Compute, a Shield names a shield POP and gives the backends that route requests through it. {advice}")),
            error(&format!("createFanoutHandoff is not emulated by edgeshim: on Compute, the client's connection is handed to Fanout, which holds it open and talks to the backend (backend 'fanout'). {advice}")),
            error("createFanoutHandoff: request parameter must be an instance of Request"),
            error("createWebsocketHandoff: Backend parameter can not be an empty string"),
        ])
    );
    let base = json_of(&server, "/base-url").await;
    let origin = format!("http://{}", server.running.addr());
    assert_eq!(
        base,
        json!({
            "before": format!("{origin}/relative?q=1"),
            "after": "https://origin.example/app/relative",
            "invalid": error("Invalid value assigned to fastly.baseURL, must be an instance of URL, null, or undefined"),
            "mapped": ["(Raw error) - build with --enable-stack-traces for mapped stack information.", "TypeError: boom"],
        })
    );
    // The base set in one request is gone in the next, which starts from the snapshot.
    assert_eq!(json_of(&server, "/base-url").await, base);
    assert_eq!(
        json_of(&server, "/image-optimizer").await,
        json!({"webp": "webp", "orient": "8"})
    );
    server.stop().await;
}

/// Edge rate limiting counts across requests (each in its own copy of the app): ten checks
/// of one entry in ten seconds are 1 per second, at the limit; the eleventh is over it and
/// puts the entry in the penalty box, where the next finds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_counters_and_penalty_boxes_count_across_requests() {
    let server = serve_from_repo("platform-modules/index.js").await;
    for n in 1..=10 {
        assert_eq!(
            json_of(&server, "/check-rate").await,
            json!({ "limited": false, "count": n, "boxed": false }),
            "check {n}"
        );
    }
    for n in 11..=12 {
        assert_eq!(
            json_of(&server, "/check-rate").await,
            json!({ "limited": true, "count": n, "boxed": true }),
            "check {n}"
        );
    }
    server.stop().await;
}

#[test]
fn a_bad_secret_store_stops_the_start_naming_the_file_store_and_fix() {
    let text = "[[local_server.secret_stores.api]]\nkey = \"k\"\ndata = \"v\"\nenv = \"E\"\n";
    let error = edgeshim::config::FastlyToml::parse(text, "fastly.toml".as_ref(), ".".as_ref())
        .expect_err("two sources");
    assert_eq!(
        error.to_string(),
        "fastly.toml: invalid configuration for secret store 'api' in \
         [local_server.secret_stores]: More than one of `file`, `data`, or `env` keys for the \
         object `k` are set. Only one can be used."
    );
}

/// `edgeshim serve APP` as a user runs it, its stdout and stderr read line by line.
struct Served {
    child: std::process::Child,
    addr: std::net::SocketAddr,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Served {
    fn start(app: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_edgeshim"))
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .args(["serve", fixture(app).to_str().unwrap()])
            .args(["--addr", "127.0.0.1:0", "--workers", "1", "--ephemeral"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines_of(child.stdout.take().unwrap());
        let stderr = lines_of(child.stderr.take().unwrap());
        let mut served = Self {
            child,
            addr: "127.0.0.1:0".parse().unwrap(),
            stdout,
            stderr,
        };
        let start = served.next_log_line_containing("serving");
        served.addr = start
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
        served
    }

    /// The next line of the log (stderr) that contains `needle`, waiting at most 10 s.
    fn next_log_line_containing(&mut self, needle: &str) -> String {
        loop {
            match self.stderr.recv_timeout(Duration::from_secs(10)) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!("no log line containing {needle:?}: {e}"),
            }
        }
    }

    /// The next `count` lines of stdout.
    fn stdout_lines(&mut self, count: usize) -> Vec<String> {
        (0..count)
            .map(|_| {
                self.stdout
                    .recv_timeout(Duration::from_secs(10))
                    .expect("a stdout line")
            })
            .collect()
    }

    fn get(&self, path: &str) -> Value {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let response = runtime.block_on(support::request(self.addr, "GET", path, &[], b""));
        assert_eq!(response.status, 200, "{path}: {}", response.text());
        serde_json::from_slice(&response.body).unwrap()
    }
}

#[test]
fn logger_lines_reach_stdout_as_viceroy_writes_them() {
    let mut served = Served::start("logger/index.js");
    assert_eq!(served.get("/log"), json!("logged"));
    // The empty message is skipped; a trailing newline dropped, inner ones escaped.
    assert_eq!(
        served.stdout_lines(3),
        [
            "my_endpoint :: first",
            r"my_endpoint :: two\nlines",
            "my_endpoint :: 42"
        ]
    );
    let error = |message: &str| json!({"name": "Error", "message": message});
    assert_eq!(
        served.get("/errors"),
        json!([
            {"value": "Logger"},
            error("log: Invalid argument.\n"),
            error("log: Invalid argument.\n"),
            error("configureConsole requires an options object as its argument"),
            error("prefixing option must be a boolean"),
            error("stderr option must be a boolean"),
            error("compute_purge_surrogate_key: Invalid argument.\n"),
            {"value": null},
            {"value": null},
        ])
    );
}

#[test]
fn configure_console_prefixes_lines_for_the_request_that_set_it() {
    let mut served = Served::start("logger/index.js");
    assert_eq!(served.get("/prefixed"), json!("ok"));
    let line = served.next_log_line_containing("with a prefix");
    assert!(line.contains("Log: with a prefix"), "{line}");
    let line = served.next_log_line_containing("careful");
    assert!(line.contains("Warn: careful"), "{line}");
    // The next request starts from the snapshot, where the option was never set.
    assert_eq!(served.get("/plain"), json!("ok"));
    let line = served.next_log_line_containing("without a prefix");
    assert!(!line.contains("Log: "), "{line}");
}

#[test]
fn v_cpu_time_counts_each_requests_own_cpu_time() {
    let served = Served::start("logger/index.js");
    for _ in 0..2 {
        let result = served.get("/cpu");
        assert_eq!(result["reached"], json!(true), "{result}");
        assert_eq!(result["integer"], json!(true), "{result}");
        // A fresh account: the previous request's 25 ms are not counted.
        assert!(result["start"].as_u64().unwrap() < 25, "{result}");
    }
}

/// `fixtures/platform-probe` answers as the official toolchain answered it (js-compute 3.46 on
/// Viceroy 0.22, recorded in `viceroy-answers.json` with the server's address replaced by
/// `ADDRESS`), but for the differences docs/platform-conformance.md lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_answers_as_js_compute_on_viceroy_did() {
    std::env::set_current_dir(repo()).unwrap();
    let mut options = edgeshim::ServeOptions::new(fixture("platform-probe/src/index.js"));
    options.config = Some(repo().join("fixtures/platform-probe/fastly.toml"));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.pool = pool(1, false);
    let server = Server {
        running: edgeshim::start(options).await.expect("the probe starts"),
    };
    let body = server.get("/").await.text();
    let addr = server.running.addr().to_string();
    server.stop().await;
    let ours: Value = serde_json::from_str(&body.replace(&addr, "ADDRESS")).unwrap();
    let theirs: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("fixtures/platform-probe/viceroy-answers.json"))
            .unwrap(),
    )
    .unwrap();
    // Deliberately different: edgeshim counts rates (Viceroy answers 0 and false).
    let known = ["erl"];
    let theirs = theirs.as_object().unwrap();
    let mut differing = Vec::new();
    for (key, expected) in theirs {
        if !known.contains(&key.as_str()) && ours.get(key) != Some(expected) {
            differing.push(format!(
                "{key}: ours {:?}, Viceroy {expected}",
                ours.get(key)
            ));
        }
    }
    assert!(differing.is_empty(), "{}", differing.join("\n"));
    assert_eq!(ours.as_object().unwrap().len(), theirs.len());
}
