//! Request, Response and Headers through a real server (`fixtures/web-basics`): exact status,
//! headers and body bytes.

#![allow(clippy::unwrap_used)]

mod support;

use support::{request, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_responses() {
    let server = serve("web-basics", false, 2).await;
    let addr = server.addr();

    let echo = request(
        addr,
        "POST",
        "/echo?q=1",
        &[("content-type", "text/plain"), ("x-custom", "yes")],
        "héllo".as_bytes(),
    )
    .await;
    assert_eq!(echo.status, 200);
    assert_eq!(echo.header("content-type"), Some("application/json"));
    let echoed: serde_json::Value = serde_json::from_slice(&echo.body).unwrap();
    assert_eq!(
        echoed,
        serde_json::json!({
            "method": "POST",
            "url": format!("http://{addr}/echo?q=1"),
            "contentType": "text/plain",
            "custom": "yes",
            "body": "héllo",
            "bodyUsed": true,
        })
    );

    let json = request(addr, "PUT", "/json-body", &[], br#"{"a":[1,true,null]}"#).await;
    assert_eq!(json.text(), r#"{"a":[1,true,null]}"#);

    let bytes_in = request(addr, "POST", "/bytes-in", &[], &[0, 200, 255]).await;
    assert_eq!(bytes_in.text(), "0,200,255");

    let bytes_out = server.get("/bytes-out").await;
    assert_eq!(bytes_out.body, [0, 1, 2, 253, 254, 255]);
    assert_eq!(bytes_out.header("content-type"), None);

    let status = server.get("/status").await;
    assert_eq!(status.status, 201);
    assert_eq!(status.header("x-one"), Some("1"));
    assert_eq!(status.header("x-two"), Some("2"));
    assert_eq!(
        status.header("content-type"),
        Some("text/plain;charset=UTF-8")
    );
    assert_eq!(status.text(), "created");

    let json = server.get("/json").await;
    assert_eq!(json.status, 202);
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert_eq!(json.header("x-extra"), Some("yes"));
    assert_eq!(json.text(), r#"{"hello":"world","n":[1,2]}"#);

    let redirect = server.get("/redirect").await;
    assert_eq!(redirect.status, 301);
    assert_eq!(
        redirect.header("location"),
        Some("https://example.com/elsewhere")
    );
    assert!(redirect.body.is_empty());

    let headers = server.get("/headers").await;
    assert_eq!(
        headers.text(),
        "a=1, 3; b=2; c=padded; set-cookie=x=1; set-cookie=y=2 | has(a)=true | get(zzz)=null"
    );

    let errors = server.get("/errors").await;
    assert_eq!(
        errors.text(),
        [
            "RangeError: Response constructor: Invalid response status code. The status provided (99) is outside the range [200, 599].",
            "TypeError: Response constructor: Response body is given with a null body status.",
            "RangeError: Response.redirect: Invalid redirect status code.",
            "TypeError: Invalid header name: 'bad name'",
            "TypeError: Method 'text' called on receiver that's not an instance of Response",
        ]
        .join("\n")
    );

    assert_eq!(server.get("/nope").await.status, 404);
    server.stop().await;
}

/// An app's framing headers: dropped by default (the server frames the body), used with
/// `setManualFramingHeaders(true)` when valid, dropped with a warning when not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framing_headers_are_the_hosts_unless_the_app_frames_manually() {
    let server = serve("framing", false, 2).await;
    for path in ["/automatic", "/manual", "/invalid"] {
        let response = server.get(path).await;
        assert_eq!(
            (response.status, response.text().as_str()),
            (200, "hello"),
            "{path}"
        );
        assert_eq!(response.header("content-length"), Some("5"), "{path}");
        assert_eq!(response.header("transfer-encoding"), None, "{path}");
    }
    server.stop().await;
}
