//! Realistic Compute apps (`fixtures/app-*`) exercised over HTTP, as their authors would:
//! a JSON API over KV, an HTML page rendered from KV, form handling, a redirect service.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::{request, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_api_over_kv() {
    let server = serve("app-json-api", false, 2).await;
    let addr = server.addr();
    let json_header = [("content-type", "application/json")];

    let created = request(
        addr,
        "POST",
        "/items",
        &json_header,
        br#"{"name":"lamp","tags":["home"]}"#,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let item: Value = serde_json::from_slice(&created.body).unwrap();
    let id = item["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID");
    assert_eq!(
        created.header("location"),
        Some(format!("/items/{id}").as_str())
    );
    assert_eq!(item, json!({"id": id, "name": "lamp", "tags": ["home"]}));

    let second = request(addr, "POST", "/items", &json_header, br#"{"name":"desk"}"#).await;
    assert_eq!(second.status, 201);

    let one = server.get(&format!("/items/{id}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.header("content-type"), Some("application/json"));
    assert_eq!(serde_json::from_slice::<Value>(&one.body).unwrap(), item);

    let all: Value = serde_json::from_slice(&server.get("/items").await.body).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    let tagged: Value = serde_json::from_slice(&server.get("/items?tag=home").await.body).unwrap();
    assert_eq!(tagged, json!([item]));

    let bad = request(addr, "POST", "/items", &json_header, b"{not json").await;
    assert_eq!(
        (bad.status, bad.text()),
        (400, r#"{"error":"the body is not JSON"}"#.to_owned())
    );
    let invalid = request(addr, "POST", "/items", &json_header, br#"{"name":""}"#).await;
    assert_eq!(invalid.status, 422);

    let deleted = request(addr, "DELETE", &format!("/items/{id}"), &[], b"").await;
    assert_eq!((deleted.status, deleted.body.len()), (204, 0));
    assert_eq!(server.get(&format!("/items/{id}")).await.status, 404);
    let all: Value = serde_json::from_slice(&server.get("/items").await.body).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(request(addr, "PUT", "/items", &[], b"").await.status, 405);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_page_from_kv_with_etag() {
    let server = serve("app-html", false, 2).await;
    let page = server.get("/").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        page.text(),
        "<!doctype html><title>Tom &amp; Jerry &lt;3</title><h1>Tom &amp; Jerry &lt;3</h1>\
         <ul><li>&lt;script&gt;alert(1)&lt;/script&gt;</li><li>plain</li></ul>"
    );
    let etag = page.header("etag").unwrap().to_owned();
    assert_eq!(etag.len(), 18, "a quoted 16-hex-digit tag: {etag}");

    let cached = request(server.addr(), "GET", "/", &[("if-none-match", &etag)], b"").await;
    assert_eq!((cached.status, cached.body.len()), (304, 0));
    assert_eq!(cached.header("etag"), Some(etag.as_str()));
    assert_eq!(server.get("/missing").await.status, 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_post_redirects_and_stores() {
    let server = serve("app-form", false, 2).await;
    let addr = server.addr();
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let posted = request(
        addr,
        "POST",
        "/signup",
        &form,
        b"email=ada%40example.com&topic=rust&topic=edge",
    )
    .await;
    assert_eq!(posted.status, 303);
    let location = posted.header("location").unwrap().to_owned();
    assert_eq!(location, "/thanks?email=ada%40example.com");

    let thanks = server.get(&location).await;
    assert_eq!(
        thanks.text(),
        "<!doctype html><p>thanks ada@example.com: rust, edge</p>"
    );

    let again = request(addr, "POST", "/signup", &form, b"email=ada%40example.com").await;
    assert_eq!(
        (again.status, again.text()),
        (409, "<!doctype html><p>already signed up</p>".to_owned())
    );
    let invalid = request(addr, "POST", "/signup", &form, b"email=nope").await;
    assert_eq!(invalid.status, 400);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_service() {
    let server = serve("app-redirects", false, 2).await;
    let docs = server.get("/docs").await;
    assert_eq!(docs.status, 301);
    assert_eq!(
        docs.header("location"),
        Some("https://www.fastly.com/documentation/")
    );
    let sale = server.get("/sale?utm=mail&x=a%20b").await;
    assert_eq!(sale.status, 302);
    assert_eq!(
        sale.header("location"),
        Some("https://shop.example.com/offers?src=short&utm=mail&x=a+b")
    );
    let unknown = server.get("/nope").await;
    assert_eq!(
        (unknown.status, unknown.text()),
        (404, "unknown short link\n".to_owned())
    );
    server.stop().await;
}
