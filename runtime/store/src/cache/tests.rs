#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::*;
use crate::clock::ManualClock;

const S: Duration = Duration::from_secs(1);

fn cache() -> (Arc<ManualClock>, Cache) {
    let clock = Arc::new(ManualClock::new(SystemTime::UNIX_EPOCH + 1000 * S));
    let cache = Cache::new(clock.clone(), DEFAULT_CAPACITY);
    (clock, cache)
}

fn options(max_age: u64, swr: u64) -> WriteOptions {
    WriteOptions {
        max_age: S * u32::try_from(max_age).unwrap(),
        stale_while_revalidate: S * u32::try_from(swr).unwrap(),
        ..WriteOptions::default()
    }
}

fn lookup(cache: &Cache, key: &'static str) -> Lookup {
    let CacheReply::Lookup(found) = cache
        .run(
            CacheOp::Lookup {
                key: Bytes::from_static(key.as_bytes()),
                headers: Vec::new(),
            },
            Wait::Collapse,
        )
        .unwrap()
    else {
        panic!("not a lookup answer");
    };
    found
}

fn transaction(cache: &Cache, key: &'static str, headers: Headers) -> Lookup {
    let CacheReply::Lookup(found) = cache
        .run(
            CacheOp::TransactionLookup {
                key: Bytes::from_static(key.as_bytes()),
                headers,
            },
            Wait::Collapse,
        )
        .unwrap()
    else {
        panic!("not a lookup answer");
    };
    found
}

fn insert(cache: &Cache, key: &'static str, options: WriteOptions, body: &'static str) {
    cache
        .run(
            CacheOp::Insert {
                key: Bytes::from_static(key.as_bytes()),
                headers: Vec::new(),
                options,
                body: Bytes::from_static(body.as_bytes()),
            },
            Wait::Collapse,
        )
        .unwrap();
}

fn state(found: bool, usable: bool, stale: bool, must: bool) -> LookupState {
    LookupState {
        found,
        usable,
        stale,
        must_insert_or_update: must,
    }
}

#[test]
fn a_miss_then_a_hit_with_age_and_hits() {
    let (clock, cache) = cache();
    assert_eq!(lookup(&cache, "k"), Lookup::default());
    insert(
        &cache,
        "k",
        WriteOptions {
            initial_age: 2 * S,
            user_metadata: Bytes::from_static(b"meta"),
            ..options(60, 0)
        },
        "body",
    );
    clock.advance(3 * S);
    let hit = lookup(&cache, "k");
    assert_eq!(hit.state, state(true, true, false, false));
    let found = hit.found.unwrap();
    assert_eq!(found.body, Bytes::from_static(b"body"));
    assert_eq!(found.age, 5 * S);
    assert_eq!(found.hits, 1);
    assert_eq!(found.length, 4);
    assert_eq!(found.user_metadata, Bytes::from_static(b"meta"));
    assert_eq!(lookup(&cache, "k").found.unwrap().hits, 2);
}

#[test]
fn ttl_then_stale_while_revalidate_then_gone() {
    let (clock, cache) = cache();
    insert(&cache, "k", options(10, 5), "v");
    clock.advance(9 * S);
    assert_eq!(lookup(&cache, "k").state, state(true, true, false, false));
    clock.advance(S);
    // At max age: stale, still served within the window.
    assert_eq!(lookup(&cache, "k").state, state(true, true, true, false));
    clock.advance(4 * S);
    assert_eq!(lookup(&cache, "k").state, state(true, true, true, false));
    clock.advance(S);
    assert_eq!(lookup(&cache, "k"), Lookup::default());
}

#[test]
fn a_stale_object_obliges_exactly_one_transaction_to_revalidate() {
    let (clock, cache) = cache();
    insert(&cache, "k", options(10, 30), "old");
    clock.advance(11 * S);
    let first = transaction(&cache, "k", Vec::new());
    assert_eq!(first.state, state(true, true, true, true));
    let second = transaction(&cache, "k", Vec::new());
    assert_eq!(second.state, state(true, true, true, false));
    assert_eq!(second.found.unwrap().body, Bytes::from_static(b"old"));
    // The update freshens the object, body kept, age from zero.
    cache
        .run(
            CacheOp::TransactionUpdate {
                transaction: first.transaction.unwrap(),
                options: options(10, 30),
            },
            Wait::Collapse,
        )
        .unwrap();
    let fresh = lookup(&cache, "k");
    assert_eq!(fresh.state, state(true, true, false, false));
    assert_eq!(fresh.found.as_ref().unwrap().age, Duration::ZERO);
    assert_eq!(fresh.found.unwrap().body, Bytes::from_static(b"old"));
    // Finished: the obligation is gone.
    assert_eq!(
        cache.run(
            CacheOp::TransactionCancel {
                transaction: first.transaction.unwrap()
            },
            Wait::Collapse
        ),
        Ok(CacheReply::Done)
    );
    assert_eq!(
        cache.run(
            CacheOp::TransactionUpdate {
                transaction: first.transaction.unwrap(),
                options: options(1, 0),
            },
            Wait::Collapse
        ),
        Err(CacheError::NotObliged)
    );
}

#[test]
fn fifty_concurrent_transactions_collapse_into_one_insert() {
    let (_clock, cache) = cache();
    let cache = Arc::new(cache);
    let loads = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(std::sync::Barrier::new(50));
    let threads: Vec<_> = (0..50)
        .map(|_| {
            let (cache, loads, barrier) = (cache.clone(), loads.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let found = transaction(&cache, "k", Vec::new());
                if let Some(id) = found.transaction {
                    assert!(found.found.is_none());
                    loads.fetch_add(1, Ordering::SeqCst);
                    // The loader takes a while: the others must be waiting, not loading.
                    std::thread::sleep(Duration::from_millis(50));
                    cache
                        .run(
                            CacheOp::TransactionInsert {
                                transaction: id,
                                options: options(60, 0),
                                body: Bytes::from_static(b"loaded"),
                                stream_back: false,
                            },
                            Wait::Collapse,
                        )
                        .unwrap();
                    return Bytes::from_static(b"loaded");
                }
                found.found.unwrap().body
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), Bytes::from_static(b"loaded"));
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert_eq!(lookup(&cache, "k").found.unwrap().hits, 50);
}

#[test]
fn a_cancel_obliges_the_next_waiter_and_never_waiting_obliges_at_once() {
    let (_clock, cache) = cache();
    let cache = Arc::new(cache);
    let first = transaction(&cache, "k", Vec::new());
    assert_eq!(first.state, state(false, false, false, true));
    // Without waiting, a second transaction is obliged too (no collapse).
    let CacheReply::Lookup(eager) = cache
        .run(
            CacheOp::TransactionLookup {
                key: Bytes::from_static(b"k"),
                headers: Vec::new(),
            },
            Wait::Never,
        )
        .unwrap()
    else {
        panic!()
    };
    assert!(eager.state.must_insert_or_update);
    let waiter = {
        let cache = cache.clone();
        std::thread::spawn(move || transaction(&cache, "k", Vec::new()))
    };
    std::thread::sleep(Duration::from_millis(20));
    cache
        .run(
            CacheOp::TransactionCancel {
                transaction: first.transaction.unwrap(),
            },
            Wait::Collapse,
        )
        .unwrap();
    let next = waiter.join().unwrap();
    assert_eq!(next.state, state(false, false, false, true));
}

#[test]
fn an_abandoned_obligation_lapses_after_its_lease() {
    let clock = Arc::new(ManualClock::new(SystemTime::UNIX_EPOCH));
    let cache = Cache::with_lease(clock, DEFAULT_CAPACITY, Duration::from_millis(30));
    let first = transaction(&cache, "k", Vec::new());
    assert!(first.state.must_insert_or_update);
    // Nobody inserts: the next transaction waits out the lease and is obliged.
    let next = transaction(&cache, "k", Vec::new());
    assert!(next.state.must_insert_or_update);
    assert_ne!(next.transaction, first.transaction);
}

#[test]
fn vary_selects_variants_by_request_headers() {
    let (_clock, cache) = cache();
    let en = vec![("Accept-Language".to_owned(), "en".to_owned())];
    let fr = vec![("accept-language".to_owned(), "fr".to_owned())];
    for (headers, body) in [(&en, "hello"), (&fr, "bonjour")] {
        cache
            .run(
                CacheOp::Insert {
                    key: Bytes::from_static(b"k"),
                    headers: headers.clone(),
                    options: WriteOptions {
                        vary: vec!["accept-language".into()],
                        ..options(60, 0)
                    },
                    body: Bytes::from_static(body.as_bytes()),
                },
                Wait::Collapse,
            )
            .unwrap();
    }
    let body = |headers: &Headers| {
        transaction(&cache, "k", headers.clone())
            .found
            .map(|f| f.body)
    };
    assert_eq!(body(&en), Some(Bytes::from_static(b"hello")));
    assert_eq!(body(&fr), Some(Bytes::from_static(b"bonjour")));
    // No header: no variant matches; this transaction must insert.
    assert_eq!(body(&Vec::new()), None);
}

#[test]
fn purges_by_surrogate_key_hard_and_soft() {
    let (clock, cache) = cache();
    let tagged = |keys: &[&str]| WriteOptions {
        surrogate_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        ..options(60, 10)
    };
    insert(&cache, "a", tagged(&["blog", "a"]), "A");
    insert(&cache, "b", tagged(&["blog"]), "B");
    insert(&cache, "c", tagged(&["other"]), "C");
    let purge = |key: &str, soft| {
        cache
            .run(
                CacheOp::Purge {
                    surrogate_key: key.into(),
                    soft,
                },
                Wait::Collapse,
            )
            .unwrap()
    };
    assert_eq!(purge("a", false), CacheReply::Purged(1));
    assert_eq!(lookup(&cache, "a"), Lookup::default());
    assert_eq!(purge("blog", true), CacheReply::Purged(1));
    assert_eq!(lookup(&cache, "c").state, state(true, true, false, false));
    // Soft: stale at once (never fresh again), usable until max age plus its
    // stale-while-revalidate window, then gone (Viceroy's rule).
    assert_eq!(lookup(&cache, "b").state, state(true, true, true, false));
    clock.advance(69 * S);
    assert_eq!(lookup(&cache, "b").state, state(true, true, true, false));
    clock.advance(S);
    assert_eq!(lookup(&cache, "b"), Lookup::default());
}

#[test]
fn over_capacity_the_least_recently_used_go_first() {
    let clock = Arc::new(ManualClock::new(SystemTime::UNIX_EPOCH));
    let cache = Cache::new(clock, 10);
    insert(&cache, "a", options(60, 0), "aaaa");
    insert(&cache, "b", options(60, 0), "bbbb");
    lookup(&cache, "a");
    insert(&cache, "c", options(60, 0), "cccc");
    assert!(lookup(&cache, "a").state.found);
    assert_eq!(lookup(&cache, "b"), Lookup::default());
    assert!(lookup(&cache, "c").state.found);
    // An object larger than the whole cache is not kept.
    insert(&cache, "big", options(60, 0), "0123456789ab");
    assert_eq!(lookup(&cache, "big"), Lookup::default());
}

/// Many objects and many more uses than the recency index keeps: eviction still takes the
/// least recently used first, and the size stays within the cap.
#[test]
fn eviction_follows_use_order_across_many_uses() {
    let clock = Arc::new(ManualClock::new(SystemTime::UNIX_EPOCH));
    let cache = Cache::new(clock, 40);
    let keys: Vec<&'static str> = (0..10)
        .map(|i| &*Box::leak(format!("k{i}").into_boxed_str()))
        .collect();
    for key in &keys {
        insert(&cache, key, options(60, 0), "xxxx");
    }
    // Thousands of uses, k0 used last of all: k1 is now the least recently used.
    for round in 0..300 {
        for key in keys.iter().skip(1).chain(std::iter::once(&keys[0])) {
            assert!(lookup(&cache, key).state.found, "round {round}: {key}");
        }
    }
    insert(&cache, "new", options(60, 0), "nnnn");
    assert_eq!(
        lookup(&cache, "k1"),
        Lookup::default(),
        "the least recently used went"
    );
    for key in keys.iter().filter(|k| **k != "k1") {
        assert!(lookup(&cache, key).state.found, "{key} stays");
    }
    assert!(lookup(&cache, "new").state.found);
    assert!(cache.state.lock().bytes <= 40);
}

#[test]
fn keys_with_nothing_stored_or_obliged_leave_no_state() {
    let (clock, cache) = cache();
    for key in ["a", "b", "c"] {
        let found = transaction(&cache, key, Vec::new());
        cache
            .run(
                CacheOp::TransactionCancel {
                    transaction: found.transaction.unwrap(),
                },
                Wait::Collapse,
            )
            .unwrap();
    }
    assert_eq!(cache.keys(), 0);
    insert(&cache, "d", options(1, 0), "v");
    assert_eq!(cache.keys(), 1);
    clock.advance(S);
    assert_eq!(lookup(&cache, "d"), Lookup::default());
    assert_eq!(cache.keys(), 0);
}

#[test]
fn an_update_with_another_vary_selects_by_the_new_rule() {
    let (clock, cache) = cache();
    let en = vec![("x-lang".to_owned(), "en".to_owned())];
    let found = transaction(&cache, "k", en.clone());
    cache
        .run(
            CacheOp::TransactionInsert {
                transaction: found.transaction.unwrap(),
                options: options(1, 60),
                body: Bytes::from_static(b"v"),
                stream_back: false,
            },
            Wait::Collapse,
        )
        .unwrap();
    clock.advance(2 * S);
    let stale = transaction(&cache, "k", en.clone());
    assert!(stale.state.must_insert_or_update);
    cache
        .run(
            CacheOp::TransactionUpdate {
                transaction: stale.transaction.unwrap(),
                options: WriteOptions {
                    vary: vec!["x-lang".into()],
                    ..options(60, 0)
                },
            },
            Wait::Collapse,
        )
        .unwrap();
    assert!(transaction(&cache, "k", en).state.found);
    let fr = vec![("x-lang".to_owned(), "fr".to_owned())];
    assert!(!transaction(&cache, "k", fr).state.found);
}

// --- Inspection: listing, one object, removal ---

fn list(cache: &Cache, prefix: &'static str, cursor: Option<Bytes>, limit: usize) -> Listing {
    cache.list(&ListRequest {
        prefix: Bytes::from_static(prefix.as_bytes()),
        cursor,
        limit,
    })
}

fn names(listing: &Listing) -> Vec<&[u8]> {
    listing.keys.iter().map(|k| k.key.as_ref()).collect()
}

#[test]
fn a_listing_shows_each_objects_lifetime_exactly_without_touching_it() {
    let (clock, cache) = cache();
    insert(
        &cache,
        "page/a",
        WriteOptions {
            initial_age: 2 * S,
            stale_if_error: 30 * S,
            surrogate_keys: vec!["pages".into(), "a".into()],
            user_metadata: Bytes::from_static(b"meta"),
            ..options(60, 10)
        },
        "hello",
    );
    lookup(&cache, "page/a");
    clock.advance(3 * S);
    let listing = list(&cache, "", None, 10);
    assert_eq!(listing.cursor, None);
    assert_eq!(
        listing.keys,
        vec![CachedKey {
            key: Bytes::from_static(b"page/a"),
            pending: false,
            variants: vec![CachedObject {
                vary: Vec::new(),
                length: 5,
                max_age: 60 * S,
                age: 5 * S,
                ttl: 55 * S,
                stale_while_revalidate: 10 * S,
                stale_if_error: 30 * S,
                surrogate_keys: vec!["pages".into(), "a".into()],
                user_metadata: Bytes::from_static(b"meta"),
                hits: 1,
                stale: false,
                usable: true,
                body: Bytes::new(),
            }],
        }]
    );
    // Listing and reading are no lookups: the hits stay at one.
    let object = cache.object(b"page/a", 3).unwrap();
    assert_eq!(object.variants[0].body, Bytes::from_static(b"hel"));
    assert_eq!(object.variants[0].hits, 1);
    assert_eq!(
        cache.object(b"page/a", 100).unwrap().variants[0].body,
        "hello"
    );
    assert_eq!(lookup(&cache, "page/a").found.unwrap().hits, 2);

    // Stale at max age, unusable past stale-while-revalidate, kept for stale-if-error,
    // then gone.
    clock.advance(55 * S);
    let stale = &cache.object(b"page/a", 0).unwrap().variants[0];
    assert_eq!(
        (stale.ttl, stale.stale, stale.usable),
        (Duration::ZERO, true, true)
    );
    clock.advance(10 * S);
    let kept = &cache.object(b"page/a", 0).unwrap().variants[0];
    assert_eq!((kept.age, kept.stale, kept.usable), (70 * S, true, false));
    clock.advance(20 * S);
    assert_eq!(cache.object(b"page/a", 0), None);
    assert_eq!(list(&cache, "", None, 10), Listing::default());
}

#[test]
fn a_listing_pages_in_byte_order_and_filters_by_prefix() {
    let (_clock, cache) = cache();
    for key in ["b/2", "a/1", "b/1", "c", "b/3"] {
        insert(&cache, key, options(60, 0), "x");
    }
    let first = list(&cache, "b/", None, 2);
    assert_eq!(names(&first), [&b"b/1"[..], b"b/2"]);
    assert_eq!(first.cursor, Some(Bytes::from_static(b"b/2")));
    let second = list(&cache, "b/", first.cursor, 2);
    assert_eq!(names(&second), [&b"b/3"[..]]);
    assert_eq!(second.cursor, None);
    // A page that ends exactly at the last key says so.
    let all = list(&cache, "", None, 5);
    assert_eq!(names(&all), [&b"a/1"[..], b"b/1", b"b/2", b"b/3", b"c"]);
    assert_eq!(all.cursor, None);
    assert_eq!(cache.usage(), Usage { keys: 5, bytes: 5 });
}

#[test]
fn a_listing_shows_variants_purges_and_pending_obligations() {
    let (_clock, cache) = cache();
    for (lang, body) in [("en", "hello"), ("fr", "bonjour")] {
        cache
            .run(
                CacheOp::Insert {
                    key: Bytes::from_static(b"k"),
                    headers: vec![("accept-language".to_owned(), lang.to_owned())],
                    options: WriteOptions {
                        vary: vec!["accept-language".into()],
                        surrogate_keys: vec!["greetings".into()],
                        ..options(60, 10)
                    },
                    body: Bytes::from_static(body.as_bytes()),
                },
                Wait::Collapse,
            )
            .unwrap();
    }
    let k = cache.object(b"k", 0).unwrap();
    let vary: Vec<_> = k.variants.iter().map(|v| v.vary.clone()).collect();
    assert_eq!(
        vary,
        [
            vec![("accept-language".to_owned(), Some("en".to_owned()))],
            vec![("accept-language".to_owned(), Some("fr".to_owned()))],
        ]
    );
    assert_eq!(cache.usage(), Usage { keys: 1, bytes: 12 });

    // A soft purge leaves the objects, stale with no time to live.
    cache
        .run(
            CacheOp::Purge {
                surrogate_key: "greetings".into(),
                soft: true,
            },
            Wait::Never,
        )
        .unwrap();
    let purged = cache.object(b"k", 0).unwrap();
    assert!(purged
        .variants
        .iter()
        .all(|v| v.stale && v.usable && v.ttl == Duration::ZERO));

    // A key a transaction is obliged to insert is listed, pending, before it has objects.
    let miss = transaction(&cache, "p", Vec::new());
    assert!(miss.state.must_insert_or_update);
    assert_eq!(
        cache.object(b"p", 0),
        Some(CachedKey {
            key: Bytes::from_static(b"p"),
            pending: true,
            variants: Vec::new(),
        })
    );
    assert_eq!(names(&list(&cache, "", None, 10)), [&b"k"[..], b"p"]);
    assert_eq!(cache.usage(), Usage { keys: 1, bytes: 12 });

    // Removing a key drops its objects and their bytes; its obligation stays.
    assert_eq!(cache.remove(b"k"), 2);
    assert_eq!(cache.remove(b"k"), 0);
    assert_eq!(cache.remove(b"p"), 0);
    assert_eq!(cache.usage(), Usage::default());
    assert_eq!(names(&list(&cache, "", None, 10)), [&b"p"[..]]);
    assert_eq!(lookup(&cache, "k"), Lookup::default());
}
