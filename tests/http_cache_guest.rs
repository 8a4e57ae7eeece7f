//! The guest HTTP cache of an app built with `--enable-http-cache`, over HTTP
//! (`fixtures/http-cache-guest` in front of an origin this test starts), against the contract
//! in `docs/http-cache-guest-api.md` (js-compute-runtime's `fetch.cpp`, its http-cache
//! integration tests): hooks run on misses and never on hits, `afterSend`'s answer decides
//! what is stored, candidate responses carry the suggested options and take overrides, the
//! transform changes what is stored, `x-cache` tells the lookup, and the time windows follow
//! the platform's clock, which the test moves (no sleeping).

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use edgeshim_store::OffsetClock;
use serde_json::{json, Value};
use support::origin::Origin;
use support::process::TempDir;
use support::{fronting_options, Server};

struct Guest {
    server: Server,
    clock: Arc<OffsetClock>,
    _dir: TempDir,
}

async fn serve(origin: &Origin, reuse: bool) -> Guest {
    let (mut options, dir) = fronting_options("http-cache-guest/index.js", origin, reuse);
    let clock = Arc::new(OffsetClock::default());
    options.enable_http_cache = true;
    options.clock = clock.clone();
    let running = edgeshim::start(options).await.expect("the fixture starts");
    Guest {
        server: Server { running },
        clock,
        _dir: dir,
    }
}

impl Guest {
    /// `/go` of the origin path `path` with the hook scenario `hook`.
    async fn go(&self, path: &str, hook: &str) -> Value {
        self.go_with(path, hook, "").await
    }

    async fn go_with(&self, path: &str, hook: &str, extra: &str) -> Value {
        let path: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        let response = self
            .server
            .get(&format!("/go?path={path}&hook={hook}{extra}"))
            .await;
        assert_eq!(response.status, 200, "{}", response.text());
        serde_json::from_str(&response.text()).unwrap()
    }

    fn advance(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }
}

fn pick(report: &Value, fields: &[&str]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|f| ((*f).to_owned(), report[*f].clone()))
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_send_runs_on_a_miss_and_never_on_a_hit() {
    let origin = Origin::start().await;
    let guest = serve(&origin, false).await;
    let path = "/cacheable/observed?cc=max-age=600";
    let miss = guest.go(path, "observe").await;
    assert_eq!(miss["calls"], json!(["afterSend"]));
    // The candidate: the suggested options, no body while the hook runs.
    assert_eq!(
        miss["candidate"],
        json!({ "cached": false, "stale": false, "ttl": 600, "age": 0, "swr": 0,
                "staleIfError": 0, "vary": [], "surrogateKeys": [], "pci": false, "body": null,
                "staleIfErrorAvailable": false })
    );
    // Stored: a new response read back from the cache, the candidate's options moved to it.
    assert_eq!(
        pick(
            &miss,
            &[
                "status",
                "body",
                "cached",
                "stale",
                "ttl",
                "age",
                "xCache",
                "xCacheHits",
                "sameAsCandidate"
            ]
        ),
        json!({ "status": 200, "body": "observed #1", "cached": false, "stale": false, "ttl": 600,
                "age": 0, "xCache": "MISS", "xCacheHits": "0", "sameAsCandidate": false })
    );
    assert_eq!(miss["candidateAfter"]["ttl"], "undefined");
    assert_eq!(miss["candidateAfter"]["cached"], false);

    guest.advance(1500);
    let hit = guest.go(path, "observe").await;
    assert_eq!(hit["calls"], json!([]), "no hook on a hit");
    assert_eq!(
        pick(&hit, &["body", "cached", "stale", "xCache", "xCacheHits"]),
        json!({ "body": "observed #1", "cached": true, "stale": false, "xCache": "HIT", "xCacheHits": "1" })
    );
    // Ages are fractional seconds: the 1.5 s the clock moved, plus the test's own time.
    let age = hit["age"].as_f64().unwrap();
    assert!((1.5..2.5).contains(&age), "age {age}");
    assert!(
        (hit["ttl"].as_f64().unwrap() - (600.0 - age)).abs() < 1e-6,
        "{hit}"
    );
    // A fetch without a CacheOverride reads the same cache; `pass` goes around it.
    let plain = guest.go(path, "none").await;
    assert_eq!(
        (plain["body"].as_str(), plain["cached"].as_bool()),
        (Some("observed #1"), Some(true))
    );
    let passed = guest.go(path, "pass").await;
    assert_eq!(
        pick(&passed, &["body", "cached", "ttl", "xCache"]),
        json!({ "body": "observed #2", "cached": "undefined", "ttl": "undefined", "xCache": null })
    );
    guest.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_after_send_returns_decides_what_is_stored() {
    let origin = Origin::start().await;
    let guest = serve(&origin, false).await;
    // `cache: false`: the candidate itself is the answer, and nothing is stored.
    let path = "/cacheable/kept-out?cc=max-age=600";
    for n in 1..=2 {
        let report = guest.go(path, "cache-false").await;
        assert_eq!(
            pick(
                &report,
                &[
                    "calls",
                    "body",
                    "sameAsCandidate",
                    "cached",
                    "ttl",
                    "xCache"
                ]
            ),
            json!({ "calls": ["afterSend"], "body": format!("kept-out #{n}"), "sameAsCandidate": true,
                    "cached": false, "ttl": 600, "xCache": "MISS" })
        );
    }
    // `cache: true` stores even what the headers forbid, with the hook's header changes.
    let path = "/cacheable/forced";
    let first = guest.go(path, "cache-true").await;
    assert_eq!(
        pick(&first, &["calls", "body", "hooked", "xCache"]),
        json!({ "calls": ["afterSend"], "body": "forced #1", "hooked": "yes", "xCache": "MISS" })
    );
    let again = guest.go(path, "cache-true").await;
    assert_eq!(
        pick(&again, &["calls", "body", "hooked", "cached", "xCache"]),
        json!({ "calls": [], "body": "forced #1", "hooked": "yes", "cached": true, "xCache": "HIT" })
    );
    // `cache: 'uncacheable'` (hit-for-pass): never stored, the hooks run every time.
    let path = "/cacheable/passing?cc=max-age=600";
    for n in 1..=2 {
        let report = guest.go(path, "uncacheable").await;
        assert_eq!(
            pick(&report, &["calls", "body", "xCache"]),
            json!({ "calls": ["afterSend"], "body": format!("passing #{n}"), "xCache": "MISS" })
        );
    }
    // Left to the suggestion, an uncacheable answer is not stored either.
    let path = "/cacheable/private?cc=private";
    for n in 1..=2 {
        assert_eq!(
            guest.go(path, "observe").await["body"],
            format!("private #{n}")
        );
    }
    guest.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_take_overrides_and_before_send_changes_the_request() {
    let origin = Origin::start().await;
    let guest = serve(&origin, false).await;
    let report = guest.go("/cacheable/mutated?cc=max-age=60", "mutate").await;
    assert_eq!(
        pick(
            &report,
            &[
                "status",
                "custom",
                "ttl",
                "swr",
                "pci",
                "surrogateKeys",
                "vary",
                "cached"
            ]
        ),
        json!({ "status": 201, "custom": "test", "ttl": 4000, "swr": 400, "pci": true,
                "surrogateKeys": ["key1", "key2"], "vary": ["Accept", "User-Agent"], "cached": false })
    );
    // A CacheOverride's own values are overrides too.
    let report = guest
        .go(
            "/cacheable/overridden?cc=max-age=60&sk=origin-key",
            "override-ttl",
        )
        .await;
    assert_eq!(
        pick(&report, &["ttl", "swr", "surrogateKeys"]),
        json!({ "ttl": 300, "swr": 30, "surrogateKeys": ["a", "b"] })
    );
    // A header set in beforeSend reaches the origin (which echoes x-lang).
    let report = guest
        .go("/cacheable/before?cc=no-store", "before-send")
        .await;
    assert_eq!(
        pick(&report, &["calls", "body"]),
        json!({ "calls": ["beforeSend"], "body": "before #1 (set in beforeSend)" })
    );
    guest.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platforms_errors_reject_fetch() {
    let origin = Origin::start().await;
    let guest = serve(&origin, true).await;
    let unsent = "must be set only on unsent cache transaction responses";
    for (hook, error) in [
        ("before-throw", "Error: before send error".to_owned()),
        ("before-reject", "Error: before send reject".to_owned()),
        ("after-throw", "Error: after send error".to_owned()),
        ("set-status", "RangeError: Response constructor: Invalid response status code. The status provided (0) is outside the range [200, 599].".to_owned()),
        ("set-status-range", "RangeError: Response constructor: Invalid response status code. The status provided (700) is outside the range [200, 599].".to_owned()),
        ("set-ttl", "TypeError: Response set: ttl must be a number greater than or equal to zero".to_owned()),
        ("set-ttl-negative", "TypeError: Response set: ttl must be a number greater than or equal to zero".to_owned()),
        ("set-swr", "TypeError: Response set: staleWhileRevalidate must be a number greater than or equal to zero".to_owned()),
        ("set-sie", "TypeError: Response set: staleIfError must be a number greater than or equal to zero".to_owned()),
        ("set-vary", "TypeError: Response set: vary must be an Array".to_owned()),
        ("set-vary-items", "TypeError: Response set: vary must contain only strings".to_owned()),
        ("set-keys", "TypeError: Response set: surrogateKeys must be an Array".to_owned()),
        ("set-keys-items", "TypeError: Response set: surrogateKeys must contain only strings".to_owned()),
        ("set-pci", "TypeError: Response set: pci must be a boolean".to_owned()),
        ("return-number", "TypeError: Request cache hook: afterSend() must return either undefined or an object".to_owned()),
        ("return-string-cache", "TypeError: Request cache hook: afterSend() must return a 'cache' property value 'uncacheable' when set to a string".to_owned()),
        ("return-null-cache", "TypeError: Request cache hook: afterSend() must return a 'cache' property as either a string or boolean".to_owned()),
        ("return-transform", "TypeError: Request cache hook: afterSend() must return a 'bodyTransformFn' property that is a function".to_owned()),
        ("transform-error", "Error: Transform failed".to_owned()),
        ("transform-string", "Error: transformBodyFn did not return a valid array buffer or promise for an array buffer".to_owned()),
    ] {
        let report = guest.go(&format!("/cacheable/errors-{hook}?cc=max-age=60"), hook).await;
        assert_eq!(report["error"], error, "{hook}: {report}");
    }
    // Outside a candidate the default build's accessors stay: undefined, and setters throw.
    let outside: Value = serde_json::from_str(&guest.server.get("/outside").await.text()).unwrap();
    assert_eq!(outside["ttl"], "undefined");
    assert_eq!(
        outside["setTtl"],
        format!("TypeError: Response set: ttl {unsent}")
    );
    // A failed afterSend stores nothing: the next request of the key misses.
    let report = guest
        .go("/cacheable/errors-after-throw?cc=max-age=60", "observe")
        .await;
    assert_eq!(report["xCache"], "MISS");
    guest.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_transform_changes_what_is_stored() {
    let origin = Origin::start().await;
    let guest = serve(&origin, false).await;
    let path = "/cacheable/shout?cc=max-age=60";
    let first = guest.go(path, "transform").await;
    // The transformed response: no cache state of its own, no x-cache (production's values).
    assert_eq!(
        pick(&first, &["body", "cached", "stale", "ttl", "xCache"]),
        json!({ "body": "SHOUT #1", "cached": "undefined", "stale": "undefined", "ttl": 60, "xCache": null })
    );
    let hit = guest.go(path, "none").await;
    assert_eq!(
        pick(&hit, &["body", "cached", "xCache"]),
        json!({ "body": "SHOUT #1", "cached": true, "xCache": "HIT" })
    );
    let reversed = guest
        .go("/cacheable/backwards?cc=max-age=60", "transform-async")
        .await;
    assert_eq!(reversed["body"], "1# sdrawkcab");
    guest.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshness_and_stale_while_revalidate_follow_the_platforms_clock() {
    let origin = Origin::start().await;
    let guest = serve(&origin, false).await;
    // max-age=2, set by afterSend: a hit at 0.5 s, a miss (and the hook again) after 2 s.
    let path = "/cacheable/expiring";
    let first = guest.go(path, "max-age-2").await;
    assert_eq!(
        pick(&first, &["ttl", "xCache"]),
        json!({ "ttl": 2, "xCache": "MISS" })
    );
    guest.advance(500);
    let hit = guest.go(path, "max-age-2").await;
    assert_eq!(
        pick(&hit, &["calls", "cached", "body"]),
        json!({ "calls": [], "cached": true, "body": "expiring #1" })
    );
    let age = hit["age"].as_f64().unwrap();
    assert!((0.5..1.5).contains(&age), "age {age}");
    guest.advance(2000);
    let expired = guest.go(path, "max-age-2").await;
    assert_eq!(
        pick(&expired, &["calls", "cached", "age", "body"]),
        json!({ "calls": ["afterSend"], "cached": false, "age": 0, "body": "expiring #2" })
    );

    // ttl 1 s, swr 2 s: at 1.5 s the stale object answers at once, revalidated behind it.
    let path = "/cacheable/revalidated?cc=max-age=600";
    let first = guest.go(path, "ttl-1-swr-2").await;
    assert_eq!(
        pick(&first, &["ttl", "swr", "cached"]),
        json!({ "ttl": 1, "swr": 2, "cached": false })
    );
    guest.advance(1500);
    let stale = guest.go(path, "ttl-1-swr-2").await;
    assert_eq!(
        pick(&stale, &["calls", "cached", "stale", "body", "xCache"]),
        json!({ "calls": [], "cached": true, "stale": true, "body": "revalidated #1", "xCache": "HIT" })
    );
    // The revalidation finished with that request (its instance waited for it).
    guest.advance(1500);
    let fresh = guest.go(path, "ttl-1-swr-2").await;
    assert_eq!(
        pick(&fresh, &["calls", "cached", "stale", "body"]),
        json!({ "calls": [], "cached": true, "stale": false, "body": "revalidated #2" })
    );
    guest.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_methods_are_sent_as_they_are() {
    let origin = Origin::start().await;
    let guest = serve(&origin, false).await;
    for n in 1..=2 {
        let report = guest
            .go_with("/cacheable/posted?cc=max-age=60", "observe", "&method=POST")
            .await;
        assert_eq!(
            pick(
                &report,
                &[
                    "calls",
                    "body",
                    "cached",
                    "stale",
                    "ttl",
                    "xCache",
                    "xCacheHits"
                ]
            ),
            json!({ "calls": [], "body": format!("posted #{n}"), "cached": false, "stale": false,
                    "ttl": "undefined", "xCache": "MISS", "xCacheHits": "0" })
        );
    }
    guest.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_of_one_key_reach_the_origin_once() {
    let origin = Origin::start().await;
    let guest = serve(&origin, false).await;
    let path = "/cacheable/collapsed?cc=max-age=60&delay=300";
    let requests = (0..8).map(|_| guest.go(path, "observe"));
    let reports = futures_util::future::join_all(requests).await;
    let bodies: Vec<&str> = reports
        .iter()
        .map(|r| r["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["collapsed #1"; 8], "{reports:?}");
    let hooked = reports
        .iter()
        .filter(|r| r["calls"] == json!(["afterSend"]))
        .count();
    assert_eq!(
        hooked, 1,
        "one leader ran the hooks; the rest waited for its object"
    );
    guest.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_if_error_object_answers_for_a_failing_hook() {
    let origin = Origin::start().await;
    let guest = serve(&origin, false).await;
    let path = "/cacheable/fallback?cc=max-age=1,stale-if-error=60";
    let first = guest.go(path, "observe").await;
    assert_eq!(
        pick(&first, &["body", "staleIfError", "maskedError"]),
        json!({ "body": "fallback #1", "staleIfError": 60, "maskedError": "undefined" })
    );
    // Past max-age, inside stale-if-error: the candidate knows a fallback exists, and a
    // failing hook is answered by the stale object, its error kept in maskedError.
    guest.advance(2000);
    let refetched = guest.go(path, "observe").await;
    assert_eq!(refetched["candidate"]["staleIfErrorAvailable"], true);
    assert_eq!(refetched["body"], "fallback #2");
    guest.advance(2000);
    let masked = guest.go(path, "after-throw").await;
    assert_eq!(
        pick(
            &masked,
            &["body", "cached", "stale", "maskedError", "xCache"]
        ),
        json!({ "body": "fallback #2", "cached": true, "stale": true,
                "maskedError": "Error: after send error", "xCache": "HIT" })
    );
    // Without a fallback the error rejects fetch().
    let failed = guest
        .go("/cacheable/no-fallback?cc=max-age=60", "after-throw")
        .await;
    assert_eq!(failed["error"], "Error: after send error");
    guest.server.stop().await;
}
