//! What only the Redis backend has: the key layout, several handles (as several servers) on
//! one Redis, records that Redis itself drops, outages, and connect errors. Everything else
//! it does is checked by the shared suite in `tests.rs`.
//!
//! Each test skips (with a message) when `redis-server` is missing outside CI; see
//! `test_redis.rs`.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::redis::Commands as _;

use crate::test_redis::{fresh_prefix, shared, RedisServer};
use crate::*;

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn ins(value: &str, mode: InsertMode) -> Insert {
    Insert {
        value: Bytes::copy_from_slice(value.as_bytes()),
        mode,
        ..Insert::default()
    }
}

fn text(store: &dyn KvStore, key: &str) -> Option<String> {
    store
        .lookup(key)
        .unwrap()
        .map(|e| String::from_utf8(e.value.to_vec()).unwrap())
}

/// A plain connection, to look behind the backend's back.
fn raw(url: &str) -> ::redis::Connection {
    ::redis::Client::open(url)
        .unwrap()
        .get_connection()
        .unwrap()
}

/// The Redis keys under `prefix`, sorted.
fn raw_keys(url: &str, prefix: &str) -> BTreeSet<Vec<u8>> {
    let mut conn = raw(url);
    let keys: Vec<Vec<u8>> = conn.keys(format!("{prefix}*")).unwrap();
    keys.into_iter().collect()
}

/// A fresh store "s" on the shared server, under its own prefix.
fn fresh(clock: &Arc<ManualClock>) -> Option<(String, String, RedisStore)> {
    let url = shared()?.url();
    let prefix = fresh_prefix();
    let store = RedisStore::connect_with_prefix(&url, &prefix, "s", clock.clone()).unwrap();
    Some((url, prefix, store))
}

#[test]
fn the_key_layout_is_as_documented() {
    let clock = Arc::new(ManualClock::new(t0()));
    let Some((url, p, store)) = fresh(&clock) else {
        return;
    };
    assert_eq!(store.key_prefix(), p);
    assert_eq!(store.store(), "s");
    assert_eq!(store.url(), url);
    store
        .insert(
            "a/b",
            Insert {
                metadata: Some(Bytes::from_static(b"m")),
                ttl: Some(Duration::from_secs(60)),
                ..ins("v", InsertMode::Overwrite)
            },
        )
        .unwrap();
    store.insert("c", ins("w", InsertMode::Overwrite)).unwrap();
    let generation = store.lookup("a/b").unwrap().unwrap().generation;
    let expected: BTreeSet<Vec<u8>> = [
        format!("{p}gen"),
        format!("{p}{{s}}:keys"),
        format!("{p}{{s}}:expiry"),
        format!("{p}{{s}}:v:a/b"),
        format!("{p}{{s}}:v:c"),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect();
    assert_eq!(raw_keys(&url, &p), expected);

    let mut conn = raw(&url);
    let record: std::collections::HashMap<String, Vec<u8>> =
        conn.hgetall(format!("{p}{{s}}:v:a/b")).unwrap();
    let expires = t0() + Duration::from_secs(60);
    let expires_us = expires.duration_since(UNIX_EPOCH).unwrap().as_micros();
    assert_eq!(record["value"], b"v");
    assert_eq!(record["metadata"], b"m");
    assert_eq!(record["gen"], generation.to_string().as_bytes());
    assert_eq!(record["expires"], expires_us.to_string().as_bytes());
    assert_eq!(record.len(), 4);
    let plain: Vec<String> = conn.hkeys(format!("{p}{{s}}:v:c")).unwrap();
    assert_eq!(
        plain.iter().collect::<BTreeSet<_>>(),
        [&"gen".to_owned(), &"value".to_owned()].into()
    );
    // Redis keeps the record for its TTL (on its own clock), and the other one for ever.
    let pttl: i64 = conn.pttl(format!("{p}{{s}}:v:a/b")).unwrap();
    assert!(pttl > 59_000 && pttl <= 60_000, "{pttl}");
    let pttl: i64 = conn.pttl(format!("{p}{{s}}:v:c")).unwrap();
    assert_eq!(pttl, -1);
    let keys: Vec<(String, f64)> = conn
        .zrange_withscores(format!("{p}{{s}}:keys"), 0, -1)
        .unwrap();
    assert_eq!(keys, [("a/b".to_owned(), 0.0), ("c".to_owned(), 0.0)]);
    let expiry: Vec<(String, u64)> = conn
        .zrange_withscores(format!("{p}{{s}}:expiry"), 0, -1)
        .unwrap();
    assert_eq!(
        expiry,
        [("a/b".to_owned(), u64::try_from(expires_us).unwrap())]
    );
    let counter: u64 = conn.get(format!("{p}gen")).unwrap();
    assert!(counter >= generation);

    // Overwriting without a TTL makes the record permanent everywhere.
    store
        .insert("a/b", ins("v2", InsertMode::Overwrite))
        .unwrap();
    let pttl: i64 = conn.pttl(format!("{p}{{s}}:v:a/b")).unwrap();
    assert_eq!(pttl, -1);
    let expiring: u64 = conn.zcard(format!("{p}{{s}}:expiry")).unwrap();
    assert_eq!(expiring, 0);

    store.delete("a/b").unwrap();
    store.delete("c").unwrap();
    assert_eq!(raw_keys(&url, &p), [format!("{p}gen").into_bytes()].into());
}

#[test]
fn stores_and_prefixes_are_separate_with_one_counter_per_prefix() {
    let clock = Arc::new(ManualClock::new(t0()));
    let Some(server) = shared() else { return };
    let url = server.url();
    let (p, q) = (fresh_prefix(), fresh_prefix());
    let connect = |prefix: &str, store: &str| {
        RedisStore::connect_with_prefix(&url, prefix, store, clock.clone()).unwrap()
    };
    let a = connect(&p, "a");
    let b = connect(&p, "b");
    let other = connect(&q, "a");
    // A store name with the characters the layout escapes.
    let odd = connect(&p, "x}:v:{%");
    a.insert("k", ins("in a", InsertMode::Overwrite)).unwrap();
    a.insert("only-a", ins("x", InsertMode::Overwrite)).unwrap();
    b.insert("k", ins("in b", InsertMode::Overwrite)).unwrap();
    odd.insert("k", ins("odd", InsertMode::Overwrite)).unwrap();
    assert_eq!(text(&a, "k").as_deref(), Some("in a"));
    assert_eq!(text(&b, "k").as_deref(), Some("in b"));
    assert_eq!(text(&odd, "k").as_deref(), Some("odd"));
    assert_eq!(other.lookup("k").unwrap(), None);
    assert_eq!(b.lookup("only-a").unwrap(), None);
    assert_eq!((a.len(), b.len(), other.len(), odd.len()), (2, 1, 0, 1));
    assert_eq!(b.list(&ListRequest::default()).unwrap().keys, ["k"]);
    assert_eq!(b.delete("only-a"), Err(StoreError::NotFound));
    assert_eq!(
        b.insert("k", ins("x", InsertMode::Add)),
        Err(StoreError::PreconditionFailed)
    );
    other.insert("k", ins("x", InsertMode::Add)).unwrap();
    assert!(raw_keys(&url, &p).contains(format!("{p}{{x%7D:v:%7B%25}}:v:k").as_bytes()));

    // One generation counter per prefix: no two records under it share a generation,
    // although the clock never moves.
    let generations: HashSet<u64> = [(&a, "k"), (&a, "only-a"), (&b, "k"), (&odd, "k")]
        .iter()
        .map(|(store, key)| store.lookup(key).unwrap().unwrap().generation)
        .collect();
    assert_eq!(generations.len(), 4);
    // The other prefix counts on its own: its first record starts at the clock.
    let first = other.lookup("k").unwrap().unwrap().generation;
    assert_eq!(first, 1_700_000_000_000_000);
}

/// Two stores on one server, as two edgeshim servers sharing one Redis have: every append
/// of every thread lands exactly once, and of racing adds exactly one wins.
#[test]
fn two_stores_on_one_server_lose_no_append_and_let_one_add_win() {
    const THREADS: usize = 8;
    const APPENDS: usize = 100;
    let clock = Arc::new(ManualClock::new(t0()));
    let Some(server) = shared() else { return };
    let url = server.url();
    let prefix = fresh_prefix();
    let open = || -> Arc<dyn KvStore> {
        Arc::new(RedisStore::connect_with_prefix(&url, &prefix, "s", clock.clone()).unwrap())
    };
    let handles = [open(), open()];

    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = handles[t % 2].clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                for i in 0..APPENDS {
                    let mode = if i % 2 == 0 {
                        InsertMode::Append
                    } else {
                        InsertMode::Prepend
                    };
                    store
                        .insert("log", ins(&format!("<{t}.{i}>"), mode))
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let log = text(&*handles[0], "log").unwrap();
    crate::tests::assert_each_token_once(&log, THREADS, APPENDS);

    crate::tests::race_adds_across(&handles, THREADS, 20);
}

/// A record Redis dropped by itself (its TTL ran out on Redis's clock) is absent, and its
/// key leaves the listing index when a listing or a count meets it.
#[test]
fn records_dropped_by_redis_are_absent_and_leave_the_index() {
    let clock = Arc::new(ManualClock::new(t0()));
    let Some((url, p, store)) = fresh(&clock) else {
        return;
    };
    for key in ["a", "b", "c", "d"] {
        store
            .insert(
                key,
                Insert {
                    ttl: Some(Duration::from_secs(3600)),
                    ..ins("v", InsertMode::Overwrite)
                },
            )
            .unwrap();
    }
    let mut conn = raw(&url);
    // As if Redis's clock ran ahead of the injected one.
    let () = conn.del(format!("{p}{{s}}:v:b")).unwrap();
    let () = conn.del(format!("{p}{{s}}:v:d")).unwrap();
    assert_eq!(store.lookup("b").unwrap(), None);
    assert_eq!(store.delete("b"), Err(StoreError::NotFound));
    let page = store
        .list(&ListRequest {
            limit: Some(2),
            ..ListRequest::default()
        })
        .unwrap();
    assert_eq!(page.keys, ["a", "c"]);
    assert_eq!(page.cursor, None);
    assert_eq!(store.len(), 2);
    let index: Vec<String> = conn.zrange(format!("{p}{{s}}:keys"), 0, -1).unwrap();
    assert_eq!(index, ["a", "c"]);
    let expiring: Vec<String> = conn.zrange(format!("{p}{{s}}:expiry"), 0, -1).unwrap();
    assert_eq!(expiring, ["a", "c"]);
    store.insert("d", ins("new", InsertMode::Add)).unwrap();
    assert_eq!(text(&store, "d").as_deref(), Some("new"));
}

/// Records past their deadline by the injected clock are deleted by later writes, a few
/// per write, even if nobody lists the store.
#[test]
fn expired_records_are_swept_by_writes() {
    let clock = Arc::new(ManualClock::new(t0()));
    let Some((url, p, store)) = fresh(&clock) else {
        return;
    };
    for i in 0..40 {
        let insert = Insert {
            ttl: Some(Duration::from_secs(1)),
            ..ins("v", InsertMode::Overwrite)
        };
        store.insert(&format!("t{i:02}"), insert).unwrap();
    }
    store
        .insert(
            "later",
            Insert {
                ttl: Some(Duration::from_secs(100)),
                ..ins("v", InsertMode::Overwrite)
            },
        )
        .unwrap();
    clock.advance(Duration::from_secs(1));
    assert_eq!(raw_keys(&url, &p).len(), 44);
    for _ in 0..3 {
        store.insert("k", ins("v", InsertMode::Overwrite)).unwrap();
    }
    let left = raw_keys(&url, &p);
    let expected: BTreeSet<Vec<u8>> = [
        format!("{p}gen"),
        format!("{p}{{s}}:keys"),
        format!("{p}{{s}}:expiry"),
        format!("{p}{{s}}:v:later"),
        format!("{p}{{s}}:v:k"),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect();
    assert_eq!(left, expected);
    assert_eq!(store.len(), 2);
}

/// `len` walks the index in batches; it counts exactly across them.
#[test]
fn len_counts_across_batches() {
    let clock = Arc::new(ManualClock::new(t0()));
    let Some((url, p, store)) = fresh(&clock) else {
        return;
    };
    let mut conn = raw(&url);
    // Fill the index quickly, as a script would, then add a few real records and orphans.
    let keys: Vec<(u8, String)> = (0..2500).map(|i| (0, format!("k{i:05}"))).collect();
    for chunk in keys.chunks(500) {
        let () = conn.zadd_multiple(format!("{p}{{s}}:keys"), chunk).unwrap();
    }
    for i in (0..2500).step_by(7) {
        let () = conn
            .hset_multiple(
                format!("{p}{{s}}:v:k{i:05}"),
                &[("value", "v"), ("gen", "1")],
            )
            .unwrap();
    }
    assert_eq!(store.len(), 2500_usize.div_ceil(7));
    let index: usize = conn.zcard(format!("{p}{{s}}:keys")).unwrap();
    assert_eq!(index, 2500_usize.div_ceil(7), "orphans left the index");
}

/// While Redis is down every call fails with `Internal error.` (the detail names the
/// server); when it is back, calls work again without reopening the store.
#[test]
fn an_outage_fails_calls_with_internal_error_and_the_store_recovers() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let url = server.url();
    let store = Arc::new(RedisStore::connect(&url, "s", Arc::new(SystemClock)).unwrap());
    store.insert("k", ins("v", InsertMode::Overwrite)).unwrap();
    // Several idle connections in the pool, as after concurrent requests.
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let store = store.clone();
            thread::spawn(move || {
                store
                    .insert(&format!("t{i}"), ins("v", InsertMode::Overwrite))
                    .unwrap();
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }

    server.stop();
    let internal = |result: Result<(), StoreError>| match result {
        Err(StoreError::InternalError(detail)) => {
            assert!(detail.contains(&url), "{detail}");
        }
        other => panic!("expected an internal error, got {other:?}"),
    };
    for _ in 0..3 {
        internal(store.lookup("k").map(|_| ()));
        internal(store.insert("k", ins("w", InsertMode::Overwrite)));
        internal(store.insert("k", ins("w", InsertMode::Append)));
        internal(store.delete("k"));
        internal(store.list(&ListRequest::default()).map(|_| ()));
        assert_eq!(store.len(), 0);
    }
    assert_eq!(
        StoreError::InternalError(String::new()).to_string(),
        "Internal error."
    );

    server.restart();
    // The server lost its data (no persistence); the store works again at once.
    assert_eq!(store.lookup("k"), Ok(None));
    store.insert("k", ins("back", InsertMode::Add)).unwrap();
    store.insert("k", ins("!", InsertMode::Append)).unwrap();
    assert_eq!(text(&*store, "k").as_deref(), Some("back!"));
    assert_eq!(store.list(&ListRequest::default()).unwrap().keys, ["k"]);
    assert_eq!(store.len(), 1);

    // A restart that no call noticed: idle connections are stale, yet the next calls work
    // (stale connections are detected; reads are retried on a new one).
    thread::sleep(Duration::from_millis(1100));
    server.restart();
    store.insert("k2", ins("v", InsertMode::Overwrite)).unwrap();
    assert_eq!(text(&*store, "k2").as_deref(), Some("v"));
    server.restart();
    assert_eq!(store.lookup("k2"), Ok(None));
    assert_eq!(store.delete("k2"), Err(StoreError::NotFound));
}

#[test]
fn connect_errors_name_the_url() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let url = server.url();
    server.stop();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let error = RedisStore::connect(&url, "s", clock.clone()).unwrap_err();
    assert_eq!(error.url, url);
    assert!(
        error.to_string().starts_with(&format!(
            "cannot connect to the Redis KV backend at {url}: "
        )),
        "{error}"
    );

    let error = RedisStore::connect("http://example.invalid/", "s", clock.clone()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot connect to the Redis KV backend at http://example.invalid/: "),
        "{error}"
    );

    // The password stays out of messages.
    let secret = url.replace("redis://", "redis://user:hunter2@");
    let error = RedisStore::connect(&secret, "s", clock).unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert!(error.to_string().contains("user:***@127.0.0.1"), "{error}");
}
