//! The readthrough HTTP cache of `fetch()` over HTTP (`fixtures/readthrough` in front of an
//! origin this test starts), as a js-compute 3.46 app built without `--enable-http-cache`
//! gets it: cacheable responses are stored by their headers and served from the cache with
//! their `Age`; `CacheOverride` (`pass`, `ttl`, `surrogateKey`) and `setCacheKey` change what
//! is stored and where; `Vary` keeps variants apart; uncacheable answers are not stored;
//! `purgeSurrogateKey` purges (soft: the stale object is served while it is refetched);
//! concurrent misses reach the origin once; the hooks and Response cache accessors behave
//! as the default build's. The freshness rules and time windows are tested beside the code
//! (`runtime/engine/src/http_cache.rs`, on the cache's own clock).

#![allow(clippy::unwrap_used)]

mod support;

use support::origin::Origin;
use support::process::TempDir;
use support::{request, serve_fronting, HttpResponse, Server};

async fn serve(origin: &Origin, reuse: bool) -> (Server, TempDir) {
    serve_fronting("readthrough/index.js", origin, reuse).await
}

/// `/fetch` of the origin path `path` (query characters escaped) with `extra` parameters.
async fn fetch(server: &Server, path: &str, extra: &str) -> HttpResponse {
    let path: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    server.get(&format!("/fetch?path={path}{extra}")).await
}

fn seen(response: &HttpResponse) -> (u16, String) {
    (response.status, response.text())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cacheable_responses_are_stored_and_served_with_their_age() {
    let origin = Origin::start().await;
    let (server, _dir) = serve(&origin, false).await;
    let path = "/cacheable/stored?cc=max-age=600";
    let first = fetch(&server, path, "").await;
    assert_eq!(seen(&first), (200, "stored #1".into()));
    assert_eq!(
        first.header("x-age"),
        Some("none"),
        "from the origin: no Age"
    );
    for _ in 0..3 {
        let again = fetch(&server, path, "").await;
        assert_eq!(seen(&again), (200, "stored #1".into()), "from the cache");
        assert_eq!(again.header("x-age"), Some("0"));
    }
    // A default build's Response carries no cache state.
    assert_eq!(first.header("x-cached"), Some("undefined"));
    // HEAD is answered from the stored GET, without a body.
    assert_eq!(
        seen(&fetch(&server, path, "&method=HEAD").await),
        (200, String::new())
    );
    // Another URL is another object; a 404 is cacheable too, a 503 is not.
    assert_eq!(
        seen(&fetch(&server, "/cacheable/stored?cc=max-age=60", "").await),
        (200, "stored #2".into())
    );
    let missing = "/cacheable/missing?status=404";
    assert_eq!(
        seen(&fetch(&server, missing, "").await),
        (404, "missing #1".into())
    );
    assert_eq!(
        seen(&fetch(&server, missing, "").await),
        (404, "missing #1".into())
    );
    let failing = "/cacheable/failing?status=503&cc=max-age=60";
    assert_eq!(
        seen(&fetch(&server, failing, "").await),
        (503, "failing #1".into())
    );
    assert_eq!(
        seen(&fetch(&server, failing, "").await),
        (503, "failing #2".into())
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_forbids_storing_and_what_pass_does() {
    let origin = Origin::start().await;
    let (server, _dir) = serve(&origin, false).await;
    for (name, query) in [
        ("private", "cc=private,max-age=60"),
        ("nostore", "cc=no-store"),
        ("cookie", "cc=max-age=60&cookie=session%3D1"),
        ("star", "vary=*"),
    ] {
        let path = format!("/cacheable/{name}?{query}");
        for n in 1..=3 {
            assert_eq!(
                seen(&fetch(&server, &path, "").await),
                (200, format!("{name} #{n}")),
                "{query}: never stored"
            );
        }
    }
    // `pass` neither reads nor writes the cache; `none` leaves the headers in charge.
    let path = "/cacheable/passed?cc=max-age=600";
    assert_eq!(
        seen(&fetch(&server, path, "&override=pass").await).1,
        "passed #1"
    );
    assert_eq!(
        seen(&fetch(&server, path, "&override=pass").await).1,
        "passed #2"
    );
    assert_eq!(
        seen(&fetch(&server, path, "&override=none").await).1,
        "passed #3"
    );
    assert_eq!(
        seen(&fetch(&server, path, "&override=none").await).1,
        "passed #3"
    );
    assert_eq!(
        seen(&fetch(&server, path, "&override=pass").await).1,
        "passed #4"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_cache_keys_and_overrides() {
    let origin = Origin::start().await;
    let (server, _dir) = serve(&origin, false).await;
    // Vary: one object per value of the header it names.
    let path = "/cacheable/varied?cc=max-age=600&vary=x-lang";
    let addr = server.addr();
    let escaped: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    let in_lang = |lang: &'static str| {
        let target = format!("/fetch?path={escaped}");
        async move {
            request(addr, "GET", &target, &[("x-lang", lang)], b"")
                .await
                .text()
        }
    };
    assert_eq!(in_lang("fr").await, "varied #1 (fr)");
    assert_eq!(in_lang("de").await, "varied #2 (de)");
    assert_eq!(in_lang("fr").await, "varied #1 (fr)");
    assert_eq!(in_lang("de").await, "varied #2 (de)");

    // setCacheKey: the header js-compute adds (the key's SHA-256 in upper-case hex), and
    // two URLs with one key share one object.
    let keyed = fetch(
        &server,
        "/cacheable/keyed-a?cc=max-age=600",
        "&cacheKey=shared",
    )
    .await;
    assert_eq!(seen(&keyed).1, "keyed-a #1");
    assert_eq!(
        keyed.header("x-cache-key"),
        Some("A4D26868017C0CCFFE2EFE50944EF4211834660CCA834C6E9F86DEC6A88246FA"),
        "sha256(\"shared\")"
    );
    let other = fetch(
        &server,
        "/cacheable/keyed-b?cc=max-age=600",
        "&cacheKey=shared",
    )
    .await;
    assert_eq!(
        seen(&other).1,
        "keyed-a #1",
        "the same key, the same object"
    );

    // An override's TTL stores what the headers would not keep long, under its surrogate key.
    let short = "/cacheable/overridden?cc=max-age=0";
    assert_eq!(seen(&fetch(&server, short, "").await).1, "overridden #1");
    assert_eq!(
        seen(&fetch(&server, short, "").await).1,
        "overridden #2",
        "max-age=0: stale at once"
    );
    assert_eq!(
        seen(&fetch(&server, short, "&override=ttl").await).1,
        "overridden #3"
    );
    assert_eq!(
        seen(&fetch(&server, short, "&override=ttl").await).1,
        "overridden #3"
    );
    assert_eq!(server.get("/purge?key=forced").await.text(), "purged\n");
    assert_eq!(
        seen(&fetch(&server, short, "&override=ttl").await).1,
        "overridden #4"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purging_by_surrogate_key_hard_and_soft() {
    let origin = Origin::start().await;
    let (server, _dir) = serve(&origin, false).await;
    let path = "/cacheable/purged?cc=max-age=600,stale-while-revalidate=600&sk=news%20front";
    assert_eq!(seen(&fetch(&server, path, "").await).1, "purged #1");
    assert_eq!(seen(&fetch(&server, path, "").await).1, "purged #1");
    // Hard: gone; the next request asks the origin.
    assert_eq!(server.get("/purge?key=front").await.text(), "purged\n");
    assert_eq!(seen(&fetch(&server, path, "").await).1, "purged #2");
    // Soft: stale, served once more while it is refetched in the background.
    assert_eq!(server.get("/purge?key=news&soft").await.text(), "purged\n");
    assert_eq!(seen(&fetch(&server, path, "").await).1, "purged #2");
    // The refetch runs in the background: looked for until it lands (bounded).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut refreshed = seen(&fetch(&server, path, "").await).1;
    while refreshed == "purged #2" && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        refreshed = seen(&fetch(&server, path, "").await).1;
    }
    assert_eq!(refreshed, "purged #3", "the background refetch replaced it");
    assert_eq!(seen(&fetch(&server, path, "").await).1, "purged #3");
    server.stop().await;
}

/// 50 concurrent requests for one uncached URL whose origin is slow: one reaches the origin,
/// the others wait for its response (request collapsing) or find it stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_reach_the_origin_once() {
    let origin = Origin::start().await;
    for reuse in [false, true] {
        let (server, _dir) = serve(&origin, reuse).await;
        let path = format!("/cacheable/collapsed-{reuse}?cc=max-age=600&delay=300");
        let escaped: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        let target = format!("/fetch?path={escaped}");
        let addr = server.addr();
        let answers = futures_util::future::join_all(
            (0..50).map(|_| request(addr, "GET", &target, &[], b"")),
        )
        .await;
        for answer in &answers {
            assert_eq!(seen(answer), (200, format!("collapsed-{reuse} #1")));
        }
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_and_accessors_are_the_default_builds() {
    let origin = Origin::start().await;
    let (server, _dir) = serve(&origin, false).await;
    let hooked = fetch(
        &server,
        "/cacheable/hooked?cc=max-age=60",
        "&override=hooks",
    )
    .await;
    assert_eq!(
        seen(&hooked),
        (
            500,
            "Error: HTTP caching API is not enabled for JavaScript; enable it with the \
             --enable-http-cache flag to the js-compute build command, or contact support for help"
                .into()
        )
    );
    let accessors: serde_json::Value = serde_json::from_slice(
        &server
            .get("/accessors?path=/cacheable/accessed%3Fcc%3Dmax-age%3D60")
            .await
            .body,
    )
    .unwrap();
    let undefined = "undefined";
    assert_eq!(
        accessors,
        serde_json::json!({
            "cached": undefined, "stale": undefined, "ttl": undefined, "age": undefined,
            "swr": undefined, "vary": undefined, "surrogateKeys": undefined,
            "pci": undefined, "maskedError": undefined,
            "setTtl": "TypeError: Response set: ttl must be set only on unsent cache transaction responses",
        })
    );
    server.stop().await;
}
