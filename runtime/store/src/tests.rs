//! Behaviour of the store layer against the KV contract, with an injected clock.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::*;

/// 2023-11-14T22:13:20Z: an arbitrary, realistic start time.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn micros(t: SystemTime) -> u64 {
    u64::try_from(t.duration_since(UNIX_EPOCH).unwrap().as_micros()).unwrap()
}

/// Opens a fresh, empty store of the backend under test, following the given clock.
type Open<'a> = &'a dyn Fn(Arc<dyn Clock>) -> Arc<dyn KvStore>;

/// A store as the engine gets it: from the registry, so with the host-side checks.
fn checked_store(open: Open<'_>) -> (Arc<ManualClock>, Arc<dyn KvStore>) {
    let clock = Arc::new(ManualClock::new(t0()));
    let mut stores = Stores::new();
    stores.insert("s", open(clock.clone()));
    (clock, stores.get("s").unwrap())
}

/// A bare backend, without the host-side checks.
fn raw_store(open: Open<'_>) -> (Arc<ManualClock>, Arc<dyn KvStore>) {
    let clock = Arc::new(ManualClock::new(t0()));
    (clock.clone(), open(clock))
}

fn ins(value: &str) -> Insert {
    Insert {
        value: Bytes::copy_from_slice(value.as_bytes()),
        ..Insert::default()
    }
}

fn with_mode(value: &str, mode: InsertMode) -> Insert {
    Insert { mode, ..ins(value) }
}

fn with_ttl(value: &str, ttl: Duration) -> Insert {
    Insert {
        ttl: Some(ttl),
        ..ins(value)
    }
}

fn with_meta(value: &str, metadata: &str) -> Insert {
    Insert {
        metadata: Some(Bytes::copy_from_slice(metadata.as_bytes())),
        ..ins(value)
    }
}

fn with_gen(value: &str, generation: u64) -> Insert {
    Insert {
        if_generation_match: Some(generation),
        ..ins(value)
    }
}

fn value(store: &dyn KvStore, key: &str) -> Option<String> {
    store
        .lookup(key)
        .unwrap()
        .map(|e| String::from_utf8(e.value.to_vec()).unwrap())
}

fn generation(store: &dyn KvStore, key: &str) -> u64 {
    store.lookup(key).unwrap().unwrap().generation
}

fn list(
    store: &dyn KvStore,
    prefix: Option<&str>,
    limit: Option<u64>,
    cursor: Option<&str>,
) -> ListPage {
    store
        .list(&ListRequest {
            prefix: prefix.map(str::to_owned),
            limit,
            cursor: cursor.map(str::to_owned),
        })
        .unwrap()
}

fn keys(page: &ListPage) -> Vec<&str> {
    page.keys.iter().map(String::as_str).collect()
}

fn b64(key: &str) -> String {
    STANDARD.encode(key)
}

// ---------------------------------------------------------------------------------------
// Errors

#[test]
fn error_texts_are_the_platform_reasons() {
    let cases = [
        (StoreError::BadRequest, "Bad request."),
        (StoreError::NotFound, "Not found."),
        (StoreError::PreconditionFailed, "Precondition failed."),
        (StoreError::PayloadTooLarge, "Payload too large."),
        (
            StoreError::InternalError("disk on fire".into()),
            "Internal error.",
        ),
        (StoreError::TooManyRequests, "Too many requests."),
        (StoreError::InvalidArgument, "Invalid argument."),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
        assert_eq!(error.reason(), text);
    }
    assert_eq!(REASON_BAD_REQUEST, "Bad request.");
    assert_eq!(REASON_NOT_FOUND, "Not found.");
    assert_eq!(REASON_PRECONDITION_FAILED, "Precondition failed.");
    assert_eq!(REASON_PAYLOAD_TOO_LARGE, "Payload too large.");
    assert_eq!(REASON_INTERNAL_ERROR, "Internal error.");
    assert_eq!(REASON_TOO_MANY_REQUESTS, "Too many requests.");
    assert_eq!(REASON_INVALID_ARGUMENT, "Invalid argument.");
}

#[test]
fn internal_error_detail_stays_out_of_display_but_in_debug() {
    let error = StoreError::InternalError("disk on fire".into());
    assert!(!error.to_string().contains("disk"));
    assert!(format!("{error:?}").contains("disk on fire"));
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<MemoryStore>();
    assert_send_sync::<SqliteStore>();
    assert_send_sync::<RedisStore>();
    assert_send_sync::<HostChecked>();
    assert_send_sync::<Stores>();
    assert_send_sync::<StoreError>();
    assert_send_sync::<Arc<dyn KvStore>>();
    assert_send_sync::<ManualClock>();
}

// ---------------------------------------------------------------------------------------
// Host-side checks

const REFUSED_KEYS: &[&str] = &[
    ".well-known/acme-challenge",
    ".well-known/acme-challenge/",
    ".well-known/acme-challenge/token",
    ".well-known/acme-challengeX",
    "./a",
    "a/./b",
    "a./b",
    "../a",
    "a/../b",
    "a/..",
    "a/.",
    "/.",
    "/..",
    "\u{0}",
    "\u{1}",
    "\t",
    "\n",
    "\u{1f}",
    " ",
];

const ALLOWED_KEYS: &[&str] = &[
    "*",
    "[",
    "]",
    "a.b",
    "..a",
    "a..",
    ".a",
    ".",
    "..",
    "a/.b",
    "a/..b",
    "a/b.",
    "/",
    "a/",
    ".well-known",
    ".well-known/acme",
    "x.well-known/acme-challenge",
    ".well-known/ACME-challenge",
    "!",
    "\u{7f}",
    "é",
    "  ",
    " a",
    "a ",
    "\u{0}\u{0}",
];

#[test]
fn check_host_key_refuses_each_form() {
    for key in REFUSED_KEYS {
        assert_eq!(
            check_host_key(key),
            Err(StoreError::InvalidArgument),
            "{key:?}"
        );
    }
}

#[test]
fn check_host_key_allows_near_misses() {
    for key in ALLOWED_KEYS {
        assert_eq!(check_host_key(key), Ok(()), "{key:?}");
    }
}

fn checked_store_refuses_bad_keys_on_lookup_insert_delete(open: Open<'_>) {
    let (_, store) = checked_store(open);
    for key in REFUSED_KEYS {
        assert_eq!(
            store.lookup(key),
            Err(StoreError::InvalidArgument),
            "{key:?}"
        );
        assert_eq!(
            store.insert(key, ins("v")),
            Err(StoreError::InvalidArgument),
            "{key:?}"
        );
        // InvalidArgument, not NotFound: the check comes before the store is consulted.
        assert_eq!(
            store.delete(key),
            Err(StoreError::InvalidArgument),
            "{key:?}"
        );
    }
    assert_eq!(store.len(), 0);
}

fn checked_store_accepts_allowed_keys(open: Open<'_>) {
    let (_, store) = checked_store(open);
    for key in ALLOWED_KEYS {
        store.insert(key, ins(key)).unwrap();
        assert_eq!(value(&*store, key).as_deref(), Some(*key));
    }
    assert_eq!(store.len(), ALLOWED_KEYS.len());
    for key in ALLOWED_KEYS {
        store.delete(key).unwrap();
    }
    assert!(store.is_empty());
}

fn checked_store_refuses_empty_metadata(open: Open<'_>) {
    let (_, store) = checked_store(open);
    let empty = Insert {
        metadata: Some(Bytes::new()),
        ..ins("v")
    };
    assert_eq!(store.insert("k", empty), Err(StoreError::InvalidArgument));
    assert_eq!(store.lookup("k"), Ok(None));
    store.insert("k", with_meta("v", "m")).unwrap();
    store.insert("k", ins("v")).unwrap();
}

fn checked_store_refuses_empty_prefix_and_cursor(open: Open<'_>) {
    let (_, store) = checked_store(open);
    let empty_prefix = ListRequest {
        prefix: Some(String::new()),
        ..ListRequest::default()
    };
    let empty_cursor = ListRequest {
        cursor: Some(String::new()),
        ..ListRequest::default()
    };
    assert_eq!(store.list(&empty_prefix), Err(StoreError::InvalidArgument));
    assert_eq!(store.list(&empty_cursor), Err(StoreError::InvalidArgument));
    assert_eq!(check_host_list(&ListRequest::default()), Ok(()));
}

fn bare_backend_leaves_host_checks_to_the_wrapper(open: Open<'_>) {
    let (_, store) = raw_store(open);
    store.insert("a/../b", ins("v")).unwrap();
    assert_eq!(value(&*store, "a/../b").as_deref(), Some("v"));
    let wrapped = HostChecked::new(store.clone());
    assert_eq!(wrapped.lookup("a/../b"), Err(StoreError::InvalidArgument));
    assert_eq!(wrapped.len(), 1);
}

// ---------------------------------------------------------------------------------------
// Lookup, delete

fn lookup_missing_is_none(open: Open<'_>) {
    let (_, store) = checked_store(open);
    assert_eq!(store.lookup("nope"), Ok(None));
}

fn lookup_returns_value_metadata_generation(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", with_meta("hello", "meta")).unwrap();
    let entry = store.lookup("k").unwrap().unwrap();
    assert_eq!(entry.value, Bytes::from_static(b"hello"));
    assert_eq!(entry.metadata, Some(Bytes::from_static(b"meta")));
    assert!(entry.generation >= micros(t0()));
}

fn binary_values_round_trip(open: Open<'_>) {
    let (_, store) = checked_store(open);
    let bytes = Bytes::from_static(&[0, 255, 128, 10, 13, 0]);
    let insert = Insert {
        value: bytes.clone(),
        metadata: Some(Bytes::from_static(&[0xff, 0])),
        ..Insert::default()
    };
    store.insert("bin", insert).unwrap();
    let entry = store.lookup("bin").unwrap().unwrap();
    assert_eq!(entry.value, bytes);
    assert_eq!(entry.metadata, Some(Bytes::from_static(&[0xff, 0])));
}

fn empty_value_is_stored(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", ins("")).unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some(""));
}

fn delete_removes_and_missing_is_not_found(open: Open<'_>) {
    let (_, store) = checked_store(open);
    assert_eq!(store.delete("k"), Err(StoreError::NotFound));
    store.insert("k", ins("v")).unwrap();
    assert_eq!(store.delete("k"), Ok(()));
    assert_eq!(store.lookup("k"), Ok(None));
    assert_eq!(store.delete("k"), Err(StoreError::NotFound));
}

// ---------------------------------------------------------------------------------------
// Modes and record rebuilding

fn overwrite_replaces_value_and_metadata(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", with_meta("one", "m1")).unwrap();
    store.insert("k", with_meta("two", "m2")).unwrap();
    let entry = store.lookup("k").unwrap().unwrap();
    assert_eq!(entry.value, Bytes::from_static(b"two"));
    assert_eq!(entry.metadata, Some(Bytes::from_static(b"m2")));
}

fn overwrite_is_the_default_mode(open: Open<'_>) {
    assert_eq!(InsertMode::default(), InsertMode::Overwrite);
    let (_, store) = checked_store(open);
    store
        .insert("k", with_mode("one", InsertMode::Overwrite))
        .unwrap();
    store.insert("k", ins("two")).unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("two"));
}

fn add_creates_absent_key(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", with_mode("v", InsertMode::Add)).unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("v"));
}

fn add_on_existing_key_fails_and_changes_nothing(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", with_meta("first", "m")).unwrap();
    let before = store.lookup("k").unwrap().unwrap();
    assert_eq!(
        store.insert("k", with_mode("second", InsertMode::Add)),
        Err(StoreError::PreconditionFailed)
    );
    assert_eq!(store.lookup("k").unwrap().unwrap(), before);
}

fn add_after_expiry_succeeds(open: Open<'_>) {
    let (clock, store) = checked_store(open);
    store
        .insert("k", with_ttl("old", Duration::from_secs(5)))
        .unwrap();
    clock.advance(Duration::from_secs(5));
    store
        .insert("k", with_mode("new", InsertMode::Add))
        .unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("new"));
}

fn add_after_delete_succeeds(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", ins("old")).unwrap();
    store.delete("k").unwrap();
    store
        .insert("k", with_mode("new", InsertMode::Add))
        .unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("new"));
}

fn append_joins_after_and_creates_absent_key(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store
        .insert("k", with_mode("a", InsertMode::Append))
        .unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("a"));
    store
        .insert("k", with_mode("b", InsertMode::Append))
        .unwrap();
    store
        .insert("k", with_mode("cd", InsertMode::Append))
        .unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("abcd"));
}

fn prepend_joins_before_and_creates_absent_key(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store
        .insert("k", with_mode("a", InsertMode::Prepend))
        .unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("a"));
    store
        .insert("k", with_mode("b", InsertMode::Prepend))
        .unwrap();
    store
        .insert("k", with_mode("cd", InsertMode::Prepend))
        .unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("cdba"));
}

fn append_and_prepend_mix(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", ins("mid")).unwrap();
    store
        .insert("k", with_mode("<", InsertMode::Prepend))
        .unwrap();
    store
        .insert("k", with_mode(">", InsertMode::Append))
        .unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("<mid>"));
}

fn append_and_prepend_of_empty_bytes_keep_value_but_rebuild_record(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", with_meta("v", "m")).unwrap();
    let g0 = generation(&*store, "k");
    store
        .insert("k", with_mode("", InsertMode::Append))
        .unwrap();
    let after_append = store.lookup("k").unwrap().unwrap();
    assert_eq!(after_append.value, Bytes::from_static(b"v"));
    assert_eq!(after_append.metadata, None);
    assert!(after_append.generation > g0);
    store
        .insert("k", with_mode("", InsertMode::Prepend))
        .unwrap();
    assert!(generation(&*store, "k") > after_append.generation);
    assert_eq!(value(&*store, "k").as_deref(), Some("v"));
}

fn append_onto_expired_key_starts_afresh(open: Open<'_>) {
    let (clock, store) = checked_store(open);
    store
        .insert("k", with_ttl("old", Duration::from_secs(1)))
        .unwrap();
    clock.advance(Duration::from_secs(1));
    store
        .insert("k", with_mode("new", InsertMode::Append))
        .unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("new"));
    store
        .insert("p", with_ttl("old", Duration::from_secs(1)))
        .unwrap();
    clock.advance(Duration::from_secs(2));
    store
        .insert("p", with_mode("new", InsertMode::Prepend))
        .unwrap();
    assert_eq!(value(&*store, "p").as_deref(), Some("new"));
}

fn every_write_sets_metadata_exactly(open: Open<'_>) {
    let (_, store) = checked_store(open);
    let meta = |store: &dyn KvStore| store.lookup("k").unwrap().unwrap().metadata;
    store.insert("k", with_meta("v", "m1")).unwrap();
    assert_eq!(meta(&*store), Some(Bytes::from_static(b"m1")));
    // Overwrite without metadata clears it.
    store.insert("k", ins("v")).unwrap();
    assert_eq!(meta(&*store), None);
    // Append with metadata sets it; append without clears it.
    store
        .insert(
            "k",
            Insert {
                mode: InsertMode::Append,
                ..with_meta("w", "m2")
            },
        )
        .unwrap();
    assert_eq!(meta(&*store), Some(Bytes::from_static(b"m2")));
    store
        .insert("k", with_mode("x", InsertMode::Append))
        .unwrap();
    assert_eq!(meta(&*store), None);
    // Prepend likewise.
    store
        .insert(
            "k",
            Insert {
                mode: InsertMode::Prepend,
                ..with_meta("u", "m3")
            },
        )
        .unwrap();
    assert_eq!(meta(&*store), Some(Bytes::from_static(b"m3")));
    store
        .insert("k", with_mode("t", InsertMode::Prepend))
        .unwrap();
    assert_eq!(meta(&*store), None);
    assert_eq!(value(&*store, "k").as_deref(), Some("tuvwx"));
}

fn every_write_sets_ttl_exactly(open: Open<'_>) {
    let (clock, store) = checked_store(open);
    // A TTL'd entry appended to without a TTL no longer expires.
    store
        .insert("k", with_ttl("a", Duration::from_secs(10)))
        .unwrap();
    store
        .insert("k", with_mode("b", InsertMode::Append))
        .unwrap();
    clock.advance(Duration::from_secs(3600));
    assert_eq!(value(&*store, "k").as_deref(), Some("ab"));
    // An entry without TTL gets the TTL of the append.
    store
        .insert(
            "k",
            Insert {
                mode: InsertMode::Append,
                ..with_ttl("c", Duration::from_secs(5))
            },
        )
        .unwrap();
    clock.advance(Duration::from_secs(4));
    assert_eq!(value(&*store, "k").as_deref(), Some("abc"));
    clock.advance(Duration::from_secs(1));
    assert_eq!(value(&*store, "k"), None);
}

// ---------------------------------------------------------------------------------------
// Generations

fn generations_are_time_based_safe_integers(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", ins("v")).unwrap();
    let g = generation(&*store, "k");
    assert!(g >= micros(t0()), "{g}");
    assert!(g <= MAX_GENERATION);
    assert_eq!(MAX_GENERATION, 9_007_199_254_740_991);
}

fn generation_changes_on_every_write_kind(open: Open<'_>) {
    let (_, store) = checked_store(open);
    let mut seen = vec![];
    store.insert("k", ins("a")).unwrap();
    seen.push(generation(&*store, "k"));
    for mode in [
        InsertMode::Overwrite,
        InsertMode::Append,
        InsertMode::Prepend,
        InsertMode::Overwrite,
    ] {
        store.insert("k", with_mode("x", mode)).unwrap();
        seen.push(generation(&*store, "k"));
    }
    store.delete("k").unwrap();
    store.insert("k", with_mode("x", InsertMode::Add)).unwrap();
    seen.push(generation(&*store, "k"));
    // The clock never moved, yet every generation is new and larger.
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
}

fn reads_do_not_change_generation(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", ins("v")).unwrap();
    let g = generation(&*store, "k");
    list(&*store, None, None, None);
    assert_eq!(generation(&*store, "k"), g);
}

fn generations_follow_the_clock_and_never_go_back(open: Open<'_>) {
    let (clock, store) = checked_store(open);
    store.insert("a", ins("v")).unwrap();
    let first = generation(&*store, "a");
    let later = t0() + Duration::from_secs(3600);
    clock.set(later);
    store.insert("b", ins("v")).unwrap();
    let second = generation(&*store, "b");
    assert_eq!(second, micros(later));
    // A clock set back does not make generations repeat or shrink.
    clock.set(t0());
    store.insert("a", ins("w")).unwrap();
    let third = generation(&*store, "a");
    assert!(first < second && second < third, "{first} {second} {third}");
    assert_eq!(third, second + 1);
}

fn generation_past_safe_integer_range_is_an_internal_error(open: Open<'_>) {
    let (clock, store) = checked_store(open);
    // Year 2300: microseconds since 1970 exceed 2^53.
    clock.set(UNIX_EPOCH + Duration::from_secs(10_413_792_000));
    let result = store.insert("k", ins("v"));
    assert!(
        matches!(result, Err(StoreError::InternalError(_))),
        "{result:?}"
    );
    assert_eq!(store.lookup("k"), Ok(None));
}

fn generation_match_allows_write_and_changes_generation(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", ins("one")).unwrap();
    let g = generation(&*store, "k");
    store.insert("k", with_gen("two", g)).unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("two"));
    let g2 = generation(&*store, "k");
    assert_ne!(g2, g);
    // The old generation no longer matches.
    assert_eq!(
        store.insert("k", with_gen("three", g)),
        Err(StoreError::PreconditionFailed)
    );
    assert_eq!(value(&*store, "k").as_deref(), Some("two"));
    assert_eq!(generation(&*store, "k"), g2);
}

fn generation_mismatch_fails_for_every_mode(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", ins("v")).unwrap();
    let g = generation(&*store, "k");
    for mode in [
        InsertMode::Overwrite,
        InsertMode::Append,
        InsertMode::Prepend,
    ] {
        let insert = Insert {
            mode,
            ..with_gen("x", g + 1)
        };
        assert_eq!(
            store.insert("k", insert),
            Err(StoreError::PreconditionFailed),
            "{mode:?}"
        );
    }
    assert_eq!(value(&*store, "k").as_deref(), Some("v"));
    let append = Insert {
        mode: InsertMode::Append,
        ..with_gen("x", g)
    };
    store.insert("k", append).unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("vx"));
}

fn generation_match_is_ignored_for_missing_or_expired_key(open: Open<'_>) {
    let (clock, store) = checked_store(open);
    store.insert("missing", with_gen("v", 12345)).unwrap();
    assert_eq!(value(&*store, "missing").as_deref(), Some("v"));
    store
        .insert("k", with_ttl("old", Duration::from_secs(1)))
        .unwrap();
    clock.advance(Duration::from_secs(1));
    store.insert("k", with_gen("new", 1)).unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("new"));
}

fn add_with_matching_generation_still_fails_on_existing_key(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", ins("v")).unwrap();
    let g = generation(&*store, "k");
    let add = Insert {
        mode: InsertMode::Add,
        ..with_gen("x", g)
    };
    assert_eq!(store.insert("k", add), Err(StoreError::PreconditionFailed));
}

// ---------------------------------------------------------------------------------------
// TTL

fn zero_ttl_expires_at_once(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", with_ttl("v", Duration::ZERO)).unwrap();
    assert_eq!(store.lookup("k"), Ok(None));
    assert_eq!(list(&*store, None, None, None).keys, Vec::<String>::new());
    assert_eq!(store.len(), 0);
    assert_eq!(store.delete("k"), Err(StoreError::NotFound));
    store.insert("k", with_ttl("v", Duration::ZERO)).unwrap();
    store.insert("k", with_mode("w", InsertMode::Add)).unwrap();
    assert_eq!(value(&*store, "k").as_deref(), Some("w"));
}

fn zero_ttl_overwrite_removes_existing_value(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("k", ins("v")).unwrap();
    store.insert("k", with_ttl("w", Duration::ZERO)).unwrap();
    assert_eq!(store.lookup("k"), Ok(None));
}

fn ttl_expires_exactly_at_deadline(open: Open<'_>) {
    let (clock, store) = checked_store(open);
    store
        .insert("k", with_ttl("v", Duration::from_secs(10)))
        .unwrap();
    clock.advance(Duration::from_millis(9_999));
    assert_eq!(value(&*store, "k").as_deref(), Some("v"));
    assert_eq!(store.len(), 1);
    clock.advance(Duration::from_millis(1));
    assert_eq!(store.lookup("k"), Ok(None));
    assert_eq!(store.len(), 0);
}

/// The inspection page shows the TTL left: a lookup says when the entry expires.
fn lookup_reports_the_expiry(open: Open<'_>) {
    let (_clock, store) = checked_store(open);
    store
        .insert("k", with_ttl("v", Duration::from_secs(10)))
        .unwrap();
    store.insert("forever", ins("v")).unwrap();
    let expires = store.lookup("k").unwrap().unwrap().expires_at.unwrap();
    // Backends keep µs (Redis) or ns (SQLite): within a millisecond of the deadline.
    let deadline = t0() + Duration::from_secs(10);
    let off = expires
        .duration_since(deadline)
        .or_else(|e| Ok::<_, ()>(e.duration()))
        .unwrap();
    assert!(off < Duration::from_millis(1), "{expires:?}");
    assert_eq!(store.lookup("forever").unwrap().unwrap().expires_at, None);
}

fn expired_key_is_absent_for_list_len_and_delete(open: Open<'_>) {
    let (clock, store) = checked_store(open);
    store.insert("a", ins("v")).unwrap();
    store
        .insert("b", with_ttl("v", Duration::from_secs(1)))
        .unwrap();
    store.insert("c", ins("v")).unwrap();
    assert_eq!(store.len(), 3);
    clock.advance(Duration::from_secs(1));
    assert_eq!(keys(&list(&*store, None, None, None)), ["a", "c"]);
    assert_eq!(store.len(), 2);
    assert_eq!(store.delete("b"), Err(StoreError::NotFound));
}

fn huge_ttl_never_expires_and_does_not_panic(open: Open<'_>) {
    let (clock, store) = checked_store(open);
    store.insert("k", with_ttl("v", Duration::MAX)).unwrap();
    clock.advance(Duration::from_secs(100 * 365 * 24 * 3600));
    assert_eq!(value(&*store, "k").as_deref(), Some("v"));
}

#[test]
fn manual_clock_moves_only_when_told() {
    let clock = ManualClock::new(t0());
    assert_eq!(clock.now(), t0());
    clock.advance(Duration::from_secs(2));
    assert_eq!(clock.now(), t0() + Duration::from_secs(2));
    clock.set(UNIX_EPOCH);
    assert_eq!(clock.now(), UNIX_EPOCH);
    let before = SystemTime::now();
    assert!(SystemClock.now() >= before);
}

// ---------------------------------------------------------------------------------------
// List

fn list_empty_store(open: Open<'_>) {
    let (_, store) = checked_store(open);
    let page = list(&*store, None, None, None);
    assert_eq!(
        page,
        ListPage {
            keys: vec![],
            cursor: None
        }
    );
}

fn list_orders_keys_by_utf8_bytes(open: Open<'_>) {
    let (_, store) = checked_store(open);
    // In UTF-16 order U+1F600 (a surrogate pair, 0xD83D...) would sort before U+FF5E;
    // in byte order (F0.. vs EF..) it sorts after.
    let shuffled = [
        "😀", "z", "～", "é", "a", "中", "Z", "\u{7f}", "ä", "aa", "a!",
    ];
    for key in shuffled {
        store.insert(key, ins("v")).unwrap();
    }
    assert_eq!(
        keys(&list(&*store, None, None, None)),
        ["Z", "a", "a!", "aa", "z", "\u{7f}", "ä", "é", "中", "～", "😀"]
    );
}

fn list_filters_by_prefix(open: Open<'_>) {
    let (_, store) = checked_store(open);
    for key in ["a", "a.", "a/", "a/b", "a/c/d", "a0", "b/a", "A/b"] {
        store.insert(key, ins("v")).unwrap();
    }
    assert_eq!(
        keys(&list(&*store, Some("a/"), None, None)),
        ["a/", "a/b", "a/c/d"]
    );
    assert_eq!(
        keys(&list(&*store, Some("a"), None, None)),
        ["a", "a.", "a/", "a/b", "a/c/d", "a0"]
    );
    assert_eq!(
        keys(&list(&*store, Some("c"), None, None)),
        Vec::<&str>::new()
    );
    assert_eq!(
        keys(&list(&*store, Some("a/c/d/e"), None, None)),
        Vec::<&str>::new()
    );
}

fn list_prefix_with_multibyte_characters(open: Open<'_>) {
    let (_, store) = checked_store(open);
    for key in ["é1", "é2", "ê", "e", "éé"] {
        store.insert(key, ins("v")).unwrap();
    }
    assert_eq!(
        keys(&list(&*store, Some("é"), None, None)),
        ["é1", "é2", "éé"]
    );
}

fn list_limit_and_cursor_value(open: Open<'_>) {
    let (_, store) = checked_store(open);
    for key in ["a", "b", "c", "d", "e"] {
        store.insert(key, ins("v")).unwrap();
    }
    let page = list(&*store, None, Some(2), None);
    assert_eq!(keys(&page), ["a", "b"]);
    assert_eq!(page.cursor.as_deref(), Some("Yg=="));
    // Exactly as many keys as the limit: nothing remains, so no cursor.
    let page = list(&*store, None, Some(5), None);
    assert_eq!(keys(&page).len(), 5);
    assert_eq!(page.cursor, None);
    let page = list(&*store, None, Some(u64::MAX), None);
    assert_eq!(keys(&page).len(), 5);
    assert_eq!(page.cursor, None);
}

fn list_cursor_is_padded_standard_base64_of_last_key(open: Open<'_>) {
    let (_, store) = checked_store(open);
    for key in ["ab?/é", "ab?/éz", "zz"] {
        store.insert(key, ins("v")).unwrap();
    }
    let page = list(&*store, None, Some(1), None);
    assert_eq!(page.cursor, Some(b64("ab?/é")));
    // Standard alphabet ('+' and '/'), with padding.
    assert_eq!(page.cursor.as_deref(), Some("YWI/L8Op"));
    let page = list(&*store, None, Some(2), None);
    assert_eq!(page.cursor.as_deref(), Some("YWI/L8Opeg=="));
}

fn list_default_limit_is_1000_and_zero_means_default(open: Open<'_>) {
    let (_, store) = checked_store(open);
    for i in 0..1001 {
        store.insert(&format!("k{i:04}"), ins("v")).unwrap();
    }
    let page = list(&*store, None, None, None);
    assert_eq!(page.keys.len(), 1000);
    assert_eq!(page.keys.last().map(String::as_str), Some("k0999"));
    assert_eq!(page.cursor, Some(b64("k0999")));
    let next = list(&*store, None, None, page.cursor.as_deref());
    assert_eq!(keys(&next), ["k1000"]);
    assert_eq!(next.cursor, None);
    assert_eq!(list(&*store, None, Some(0), None), page);
    assert_eq!(DEFAULT_LIST_LIMIT, 1000);
}

fn list_paging_round_trip(open: Open<'_>) {
    let (_, store) = checked_store(open);
    let all = ["a", "b", "c", "d", "é", "中", "😀"];
    for key in all.iter().rev() {
        store.insert(key, ins("v")).unwrap();
    }
    let mut collected = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = vec![];
    loop {
        let page = list(&*store, None, Some(3), cursor.as_deref());
        pages.push(page.keys.len());
        collected.extend(page.keys);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, [3, 3, 1]);
    assert_eq!(collected, all);
}

fn list_paging_with_prefix(open: Open<'_>) {
    let (_, store) = checked_store(open);
    for key in ["p/1", "p/2", "p/3", "q/1", "o/1"] {
        store.insert(key, ins("v")).unwrap();
    }
    let first = list(&*store, Some("p/"), Some(2), None);
    assert_eq!(keys(&first), ["p/1", "p/2"]);
    let second = list(&*store, Some("p/"), Some(2), first.cursor.as_deref());
    assert_eq!(keys(&second), ["p/3"]);
    assert_eq!(second.cursor, None);
}

fn list_cursor_is_strictly_after_any_key(open: Open<'_>) {
    let (_, store) = checked_store(open);
    for key in ["a", "b", "c"] {
        store.insert(key, ins("v")).unwrap();
    }
    // The cursor's key need not exist.
    assert_eq!(
        keys(&list(&*store, None, None, Some(&b64("ab")))),
        ["b", "c"]
    );
    assert_eq!(keys(&list(&*store, None, None, Some(&b64("b")))), ["c"]);
    assert_eq!(
        keys(&list(&*store, None, None, Some(&b64("c")))),
        Vec::<&str>::new()
    );
    assert_eq!(
        keys(&list(&*store, None, None, Some(&b64("zzz")))),
        Vec::<&str>::new()
    );
}

fn list_cursor_outside_prefix_range(open: Open<'_>) {
    let (_, store) = checked_store(open);
    for key in ["a", "p/1", "p/2", "z"] {
        store.insert(key, ins("v")).unwrap();
    }
    // A cursor before the prefix block lists the block from its start.
    assert_eq!(
        keys(&list(&*store, Some("p/"), None, Some(&b64("a")))),
        ["p/1", "p/2"]
    );
    // A cursor after it lists nothing.
    assert_eq!(
        keys(&list(&*store, Some("p/"), None, Some(&b64("q")))),
        Vec::<&str>::new()
    );
}

fn list_bad_cursor_is_bad_request(open: Open<'_>) {
    let (_, store) = checked_store(open);
    store.insert("a", ins("v")).unwrap();
    for cursor in ["!!!", "YQ", "Y", "a b", "YWI_L8Op", "YQ==YQ==", "\u{e9}"] {
        let req = ListRequest {
            cursor: Some(cursor.to_owned()),
            ..ListRequest::default()
        };
        assert_eq!(store.list(&req), Err(StoreError::BadRequest), "{cursor:?}");
    }
    // Valid base64, but of bytes that are not UTF-8.
    let req = ListRequest {
        cursor: Some(STANDARD.encode([0xff, 0xfe])),
        ..ListRequest::default()
    };
    assert_eq!(store.list(&req), Err(StoreError::BadRequest));
}

fn list_expired_keys_neither_fill_the_page_nor_make_a_cursor(open: Open<'_>) {
    let (clock, store) = checked_store(open);
    store.insert("a", ins("v")).unwrap();
    store
        .insert("b", with_ttl("v", Duration::from_secs(1)))
        .unwrap();
    store.insert("c", ins("v")).unwrap();
    store
        .insert("d", with_ttl("v", Duration::from_secs(1)))
        .unwrap();
    clock.advance(Duration::from_secs(1));
    let page = list(&*store, None, Some(2), None);
    assert_eq!(keys(&page), ["a", "c"]);
    assert_eq!(page.cursor, None);
}

fn list_prefix_ending_in_a_high_byte_and_keys_with_nul(open: Open<'_>) {
    let (_, store) = checked_store(open);
    // "😀" is F0 9F 98 80 and "😁" is F0 9F 98 81: the first key past the "😀" block.
    for key in [
        "😁",
        "😀x",
        "😀",
        "a\u{0}",
        "a",
        "a\u{0}\u{0}",
        "\u{0}\u{0}",
        "a\u{1}",
    ] {
        store.insert(key, ins("v")).unwrap();
    }
    assert_eq!(keys(&list(&*store, Some("😀"), None, None)), ["😀", "😀x"]);
    assert_eq!(
        keys(&list(&*store, Some("a"), None, None)),
        ["a", "a\u{0}", "a\u{0}\u{0}", "a\u{1}"]
    );
    assert_eq!(
        keys(&list(&*store, Some("a\u{0}"), None, None)),
        ["a\u{0}", "a\u{0}\u{0}"]
    );
    assert_eq!(
        keys(&list(&*store, None, Some(2), None)),
        ["\u{0}\u{0}", "a"]
    );
    assert_eq!(value(&*store, "a\u{0}").as_deref(), Some("v"));
    assert_eq!(store.lookup("a\u{0}\u{2}"), Ok(None));
}

// ---------------------------------------------------------------------------------------
// Limits

/// The platform's largest key (1024 bytes), a value at the JS limit (30 MiB) and metadata
/// at the platform limit (2000 bytes) are stored and listed like any other.
fn limits_largest_key_value_and_metadata_round_trip(open: Open<'_>) {
    let (_, store) = checked_store(open);
    let key = "😀".repeat(256);
    assert_eq!(key.len(), 1024);
    let value = Bytes::from(vec![0xa5; 30 * 1024 * 1024]);
    let metadata = Bytes::from(vec![b'm'; 2000]);
    let insert = Insert {
        value: value.clone(),
        metadata: Some(metadata.clone()),
        ..Insert::default()
    };
    store.insert(&key, insert).unwrap();
    let entry = store.lookup(&key).unwrap().unwrap();
    assert_eq!(entry.value.len(), value.len());
    assert!(entry.value == value);
    assert_eq!(entry.metadata, Some(metadata));
    let page = list(&*store, Some("😀"), Some(1), None);
    assert_eq!(page.keys, std::slice::from_ref(&key));
    assert_eq!(page.cursor, None);
    store
        .insert(&key, with_mode("!", InsertMode::Append))
        .unwrap();
    let entry = store.lookup(&key).unwrap().unwrap();
    assert_eq!(entry.value.len(), value.len() + 1);
    assert_eq!(entry.value.last(), Some(&b'!'));
    store.delete(&key).unwrap();
    assert!(store.is_empty());
}

// ---------------------------------------------------------------------------------------
// Registry

#[test]
fn stores_registry() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(t0()));
    let mut stores = Stores::default();
    assert!(stores.is_empty());
    assert_eq!(stores.len(), 0);
    stores.insert("zeta", Arc::new(MemoryStore::new(clock.clone())));
    stores.insert(
        String::from("alpha"),
        Arc::new(MemoryStore::new(clock.clone())),
    );
    assert!(!stores.is_empty());
    assert_eq!(stores.len(), 2);
    assert_eq!(stores.names().collect::<Vec<_>>(), ["alpha", "zeta"]);
    assert!(stores.get("missing").is_none());
    assert_eq!(format!("{stores:?}"), r#"{"alpha", "zeta"}"#);

    let alpha = stores.get("alpha").unwrap();
    alpha.insert("k", ins("v")).unwrap();
    // A clone shares the same stores.
    let copy = stores.clone();
    assert_eq!(
        value(&*copy.get("alpha").unwrap(), "k").as_deref(),
        Some("v")
    );
    assert_eq!(copy.get("zeta").unwrap().lookup("k"), Ok(None));

    // Replacing a name swaps the store.
    stores.insert("alpha", Arc::new(MemoryStore::new(clock)));
    assert_eq!(stores.get("alpha").unwrap().lookup("k"), Ok(None));
    assert_eq!(stores.len(), 2);
    assert_eq!(
        value(&*copy.get("alpha").unwrap(), "k").as_deref(),
        Some("v")
    );
}

// ---------------------------------------------------------------------------------------
// Concurrency

const THREADS: usize = 8;

fn concurrent_appends_are_never_lost(open: Open<'_>) {
    const APPENDS: usize = 250;
    let (_, store) = checked_store(open);
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let byte = char::from(b'a' + u8::try_from(t).unwrap()).to_string();
                barrier.wait();
                for _ in 0..APPENDS {
                    store
                        .insert("log", with_mode(&byte, InsertMode::Append))
                        .unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let value = store.lookup("log").unwrap().unwrap().value;
    assert_eq!(value.len(), THREADS * APPENDS);
    for t in 0..THREADS {
        let byte = b'a' + u8::try_from(t).unwrap();
        assert_eq!(value.iter().filter(|&&b| b == byte).count(), APPENDS);
    }
}

fn concurrent_adds_have_exactly_one_winner(open: Open<'_>) {
    let (_, store) = checked_store(open);
    for round in 0..50 {
        let key = format!("race{round}");
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (store, barrier, key) = (store.clone(), barrier.clone(), key.clone());
                thread::spawn(move || {
                    barrier.wait();
                    (
                        t,
                        store.insert(&key, with_mode(&t.to_string(), InsertMode::Add)),
                    )
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners: Vec<usize> = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        assert!(results
            .iter()
            .all(|(_, r)| r.is_ok() || *r == Err(StoreError::PreconditionFailed)));
        assert_eq!(value(&*store, &key), Some(winners[0].to_string()));
    }
}

fn concurrent_writes_get_distinct_generations(open: Open<'_>) {
    let (_, store) = checked_store(open);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            thread::spawn(move || {
                let key = format!("k{t}");
                (0..100)
                    .map(|_| {
                        store.insert(&key, ins("v")).unwrap();
                        generation(&*store, &key)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let count = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), count);
}

// ---------------------------------------------------------------------------------------
// The suite, once per backend

fn memory(clock: Arc<dyn Clock>) -> Arc<dyn KvStore> {
    Arc::new(MemoryStore::new(clock))
}

/// Opens store "s" in a database file in `dir`; every call opens another handle on it.
fn sqlite(dir: &std::path::Path) -> impl Fn(Arc<dyn Clock>) -> Arc<dyn KvStore> + '_ {
    move |clock| Arc::new(SqliteStore::open_in(dir, "s", clock).unwrap())
}

/// Runs each named test, unchanged, against every backend.
macro_rules! backend_suite {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[test]
                fn $name() {
                    super::$name(&super::memory);
                }
            )*
        }

        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    super::$name(&super::sqlite(dir.path()));
                }
            )*
        }

        /// On the Redis server the test run starts (see `test_redis.rs`); skipped with a
        /// message when `redis-server` is missing outside CI.
        mod redis {
            $(
                #[test]
                fn $name() {
                    if let Some(open) = crate::test_redis::opener() {
                        super::$name(&open);
                    }
                }
            )*
        }
    };
}

backend_suite!(
    checked_store_refuses_bad_keys_on_lookup_insert_delete,
    checked_store_accepts_allowed_keys,
    checked_store_refuses_empty_metadata,
    checked_store_refuses_empty_prefix_and_cursor,
    bare_backend_leaves_host_checks_to_the_wrapper,
    lookup_missing_is_none,
    lookup_returns_value_metadata_generation,
    binary_values_round_trip,
    empty_value_is_stored,
    delete_removes_and_missing_is_not_found,
    overwrite_replaces_value_and_metadata,
    overwrite_is_the_default_mode,
    add_creates_absent_key,
    add_on_existing_key_fails_and_changes_nothing,
    add_after_expiry_succeeds,
    add_after_delete_succeeds,
    append_joins_after_and_creates_absent_key,
    prepend_joins_before_and_creates_absent_key,
    append_and_prepend_mix,
    append_and_prepend_of_empty_bytes_keep_value_but_rebuild_record,
    append_onto_expired_key_starts_afresh,
    every_write_sets_metadata_exactly,
    every_write_sets_ttl_exactly,
    generations_are_time_based_safe_integers,
    generation_changes_on_every_write_kind,
    reads_do_not_change_generation,
    generations_follow_the_clock_and_never_go_back,
    generation_past_safe_integer_range_is_an_internal_error,
    generation_match_allows_write_and_changes_generation,
    generation_mismatch_fails_for_every_mode,
    generation_match_is_ignored_for_missing_or_expired_key,
    add_with_matching_generation_still_fails_on_existing_key,
    zero_ttl_expires_at_once,
    zero_ttl_overwrite_removes_existing_value,
    ttl_expires_exactly_at_deadline,
    lookup_reports_the_expiry,
    expired_key_is_absent_for_list_len_and_delete,
    huge_ttl_never_expires_and_does_not_panic,
    list_empty_store,
    list_orders_keys_by_utf8_bytes,
    list_filters_by_prefix,
    list_prefix_with_multibyte_characters,
    list_limit_and_cursor_value,
    list_cursor_is_padded_standard_base64_of_last_key,
    list_default_limit_is_1000_and_zero_means_default,
    list_paging_round_trip,
    list_paging_with_prefix,
    list_cursor_is_strictly_after_any_key,
    list_cursor_outside_prefix_range,
    list_bad_cursor_is_bad_request,
    list_expired_keys_neither_fill_the_page_nor_make_a_cursor,
    list_prefix_ending_in_a_high_byte_and_keys_with_nul,
    limits_largest_key_value_and_metadata_round_trip,
    concurrent_appends_are_never_lost,
    concurrent_adds_have_exactly_one_winner,
    concurrent_writes_get_distinct_generations,
);

/// `threads` writers, alternating between the two handles, race to `add` the same key,
/// `rounds` times: exactly one wins each time and the others see `PreconditionFailed`.
pub(crate) fn race_adds_across(handles: &[Arc<dyn KvStore>; 2], threads: usize, rounds: usize) {
    for round in 0..rounds {
        let key = format!("race{round}");
        let barrier = Arc::new(Barrier::new(threads));
        let racers: Vec<_> = (0..threads)
            .map(|t| {
                let (store, barrier, key) = (handles[t % 2].clone(), barrier.clone(), key.clone());
                thread::spawn(move || {
                    barrier.wait();
                    let insert = Insert {
                        value: Bytes::from(t.to_string()),
                        mode: InsertMode::Add,
                        ..Insert::default()
                    };
                    store.insert(&key, insert)
                })
            })
            .collect();
        let results: Vec<_> = racers.into_iter().map(|t| t.join().unwrap()).collect();
        let winners: Vec<usize> = (0..threads).filter(|&t| results[t].is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        assert!(results
            .iter()
            .all(|r| r.is_ok() || *r == Err(StoreError::PreconditionFailed)));
        let stored = handles[1].lookup(&key).unwrap().map(|e| e.value);
        assert_eq!(stored, Some(Bytes::from(winners[0].to_string())));
    }
}

/// Every `<t.i>` token of `threads` × `per_thread` writers is in `log` exactly once.
pub(crate) fn assert_each_token_once(log: &str, threads: usize, per_thread: usize) {
    for t in 0..threads {
        for i in 0..per_thread {
            assert_eq!(log.matches(&format!("<{t}.{i}>")).count(), 1, "<{t}.{i}>");
        }
    }
    assert_eq!(log.matches('<').count(), threads * per_thread);
}
