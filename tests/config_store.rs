//! `fastly:config-store` and `fastly:dictionary` over `fixtures/config-store` (its fastly.toml
//! declares an inline store and a JSON one, as Viceroy reads them). Messages are
//! js-compute 3.46's (`error_numbers.msg`), verbatim.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::{fixture, pool, repo, Server};

async fn serve() -> Server {
    // The JSON store's file is relative to the working directory, as Viceroy has it; the
    // tests run in the server crate, so the config names it from the repository root.
    std::env::set_current_dir(repo()).unwrap();
    let mut options = edgeshim::ServeOptions::new(fixture("config-store/index.js"));
    options.addr = "127.0.0.1:0".parse().unwrap();
    options.pool = pool(2, false);
    let running = edgeshim::start(options).await.expect("the fixture starts");
    Server { running }
}

async fn json_of(server: &Server, path: &str) -> Value {
    serde_json::from_slice(&server.get(path).await.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_answer_from_fastly_toml_and_refuse_bad_names_and_keys() {
    let server = serve().await;
    for (path, expected) in [
        (
            "/get?store=settings&key=greeting",
            json!({"value": "hello"}),
        ),
        (
            "/get?store=settings&key=feature%20flag",
            json!({"value": "on"}),
        ),
        ("/get?store=settings&key=absent", json!({"value": null})),
        (
            "/get?store=from_json&key=region",
            json!({"value": "eu-west"}),
        ),
        ("/get?store=from_json&key=empty", json!({"value": ""})),
        (
            "/dictionary?store=settings&key=greeting",
            json!({"value": "hello"}),
        ),
    ] {
        assert_eq!(json_of(&server, path).await, expected, "{path}");
    }
    let type_error = |message: &str| json!({"name": "TypeError", "message": message});
    assert_eq!(
        json_of(&server, "/errors").await,
        json!([
            type_error("ConfigStore constructor: name must start with an ascii alpabetical character"),
            type_error("ConfigStore constructor: name must start with an ascii alpabetical character"),
            type_error("ConfigStore constructor: name can contain only ascii alphanumeric characters, underscores, and ascii whitespace"),
            type_error("ConfigStore constructor: name can not be more than 255 characters"),
            type_error("ConfigStore constructor: No ConfigStore named 'missing' exists"),
            type_error("ConfigStore key can not be an empty string"),
            type_error("ConfigStore key can not be more than 255 characters"),
            type_error("Dictionary constructor: No Dictionary named 'nope' exists"),
            type_error("Method 'get' called on receiver that's not an instance of ConfigStore"),
        ])
    );
    server.stop().await;
}
