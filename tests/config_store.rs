//! `fastly:config-store` and `fastly:dictionary` over `fixtures/config-store` (its fastly.toml
//! declares an inline store and a JSON one, as Viceroy reads them). Messages are
//! js-compute 3.46's (`error_numbers.msg`), verbatim.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{json_of, serve_from_repo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_answer_from_fastly_toml_and_refuse_bad_names_and_keys() {
    let server = serve_from_repo("config-store/index.js").await;
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

/// "Maximum number of dictionary lookups: 32 per execution": the 33rd `get` of a request
/// fails with the host's limit error, as js-compute reports it; the next request starts anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_33rd_lookup_of_a_request_fails_with_the_limit_error() {
    let server = serve_from_repo("config-store/index.js").await;
    let expected = json!({
        "ok": 32,
        "last": {
            "name": "Error",
            "message": "get: Limit exceeded error. This error will be thrown when an attempt to allocate a resource has exceeded the maximum number of resources permitted. For example, creating too many response handles.\n",
        },
    });
    assert_eq!(json_of(&server, "/limit").await, expected);
    assert_eq!(json_of(&server, "/limit").await, expected);
    server.stop().await;
}
