//! Property tests on generated input (issue 14): listing pages over any key set, prefix and
//! page size give every matching key once, in byte order, on both durable and in-memory
//! backends; no cursor, key or insert a client can send makes a store panic. Bounded case
//! counts keep them in CI's time; a failing case is kept by proptest in
//! `proptest-regressions/` and replayed first from then on.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;

use crate::*;

/// Keys drawn from characters that stress byte order: ASCII, a control character, DEL,
/// two- three- and four-byte UTF-8, and the prefix-sensitive `/` and `.`.
fn key() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('a'),
            Just('b'),
            Just('/'),
            Just('.'),
            Just('\u{1}'),
            Just('\u{7f}'),
            Just('é'),
            Just('\u{ffff}'),
            Just('😀'),
        ],
        1..6,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// Every key `list` gives page after page (`limit` keys each) under `prefix`.
fn all_pages(store: &dyn KvStore, prefix: &str, limit: u64) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor = None;
    // Bounded: each page holds at least one key, and there are at most as many as inserted.
    for _ in 0..1000 {
        let page = store
            .list(&ListRequest {
                prefix: Some(prefix.to_owned()),
                limit: Some(limit),
                cursor,
            })
            .unwrap();
        keys.extend(page.keys);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return keys,
        }
    }
    panic!("listing never ended: {keys:?}");
}

fn check_listing(store: &dyn KvStore, keys: &BTreeSet<String>, prefix: &str, limit: u64) {
    for key in keys {
        store.insert(key, Insert::default()).unwrap();
    }
    // BTreeSet<String> iterates in byte order, the platform's listing order.
    let expected: Vec<String> = keys
        .iter()
        .filter(|k| k.starts_with(prefix))
        .cloned()
        .collect();
    assert_eq!(all_pages(store, prefix, limit), expected);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pages_list_every_matching_key_once_in_byte_order_in_memory(
        keys in proptest::collection::btree_set(key(), 0..40),
        prefix in prop_oneof![Just(String::new()), key()],
        limit in 1u64..7,
    ) {
        let store = MemoryStore::new(Arc::new(SystemClock));
        check_listing(&store, &keys, &prefix, limit);
    }

    #[test]
    fn no_cursor_makes_a_store_panic(cursor in ".*", prefix in ".{0,8}") {
        let store = MemoryStore::new(Arc::new(SystemClock));
        store.insert("a", Insert::default()).unwrap();
        let listed = store.list(&ListRequest {
            prefix: Some(prefix),
            limit: Some(1),
            cursor: Some(cursor),
        });
        prop_assert!(matches!(listed, Ok(_) | Err(StoreError::BadRequest)), "{listed:?}");
    }

    #[test]
    fn a_key_the_host_accepts_round_trips(key in "\\PC{0,12}|.{0,3}") {
        let store = HostChecked::new(Arc::new(MemoryStore::new(Arc::new(SystemClock))));
        let value = Bytes::from(key.clone().into_bytes());
        match check_host_key(&key) {
            Ok(()) => {
                store.insert(&key, Insert { value: value.clone(), ..Insert::default() }).unwrap();
                prop_assert_eq!(store.lookup(&key).unwrap().map(|e| e.value), Some(value));
            }
            Err(e) => {
                prop_assert_eq!(&e, &StoreError::InvalidArgument);
                prop_assert_eq!(store.insert(&key, Insert::default()), Err(e));
            }
        }
    }
}

proptest! {
    // A database file per case: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pages_list_every_matching_key_once_in_byte_order_in_sqlite(
        keys in proptest::collection::btree_set(key(), 0..40),
        prefix in prop_oneof![Just(String::new()), key()],
        limit in 1u64..7,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_in(dir.path(), "s", Arc::new(SystemClock)).unwrap();
        check_listing(&store, &keys, &prefix, limit);
    }
}
