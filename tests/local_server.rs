//! The `[local_server]` sections Viceroy emulates, each over a fixture app of its own served
//! over HTTP: `secret_stores` (`fastly:secret-store`). Messages are js-compute 3.46's
//! (`error_numbers.msg` and the builtins' sources), verbatim.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::{fixture, pool, repo, Server};

async fn serve(app: &str) -> Server {
    // Files named in fastly.toml are relative to the working directory, as Viceroy has them;
    // the fixtures' configs name them from the repository root.
    std::env::set_current_dir(repo()).unwrap();
    let mut options = edgeshim::ServeOptions::new(fixture(app));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.pool = pool(2, false);
    let running = edgeshim::start(options).await.expect("the fixture starts");
    Server { running }
}

async fn json_of(server: &Server, path: &str) -> Value {
    serde_json::from_slice(&server.get(path).await.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_stores_answer_from_data_files_env_and_json() {
    // Read when the config is, as Viceroy reads it.
    std::env::set_var("EDGESHIM_FIXTURE_SECRET", "from the environment");
    let server = serve("secret-store/index.js").await;
    let entry = |text: &str, bytes: &[u8]| json!({"value": {"isEntry": true, "plaintext": text, "rawBytes": bytes}});
    for (path, expected) in [
        ("/get?store=api&key=token", entry("s3cr3t", b"s3cr3t")),
        (
            "/get?store=api&key=binary.key",
            entry("\u{0}\u{1}\u{fffd}\u{fffd}", &[0, 1, 0xfe, 0xff]),
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
