//! Simulated edge locations over one store: eventual consistency you can test.
//!
//! On the platform, a KV write goes to the central store at once, but the other edge
//! locations (POPs) may keep serving the previous value from their caches for a while (up to
//! about 60 seconds). [`Propagation`] models that over any [`KvStore`] (the backend): it
//! hands out one view per location ([`Propagation::location`]), and
//!
//! - every write (put in any mode, delete) is applied to the backend at once, so its checks
//!   (`add`, `ifGenerationMatch`, `delete` of an absent key) are decided centrally, against
//!   the latest value, as on the platform;
//! - the location that wrote sees the result at once;
//! - every other location keeps seeing the previous value, in lookups and in listings, until
//!   the propagation window has passed since the write (measured on the injected [`Clock`],
//!   so tests can use a [`ManualClock`](crate::ManualClock)).
//!
//! Writes become visible elsewhere in the order they were made: a location sees, for each
//! key, the result of the latest write that has reached it (its own writes reach it at
//! once), or the value from before all writes still in flight.
//!
//! It is a simulation within one process: writes through other processes sharing the
//! backend are seen at once, and a stale value is served as it was (its TTL is not applied
//! again). Operations of all locations are serialized by one lock.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;

use crate::rules::Page;
use crate::{Clock, Entry, Insert, KvStore, ListPage, ListRequest, StoreError};

/// Keys fetched from the backend per page when a listing has to be corrected.
const BACKEND_PAGE: u64 = 1000;

/// One backend shared by several simulated locations; see the [module docs](self).
pub struct Propagation {
    backend: Arc<dyn KvStore>,
    clock: Arc<dyn Clock>,
    window: Duration,
    locations: usize,
    /// Keys with writes that have not reached every location yet.
    pending: Mutex<BTreeMap<String, History>>,
}

/// A key's writes still in flight.
struct History {
    /// The value before the oldest write in flight (what locations it has not reached see).
    base: Option<Entry>,
    /// Writes in the order they were made.
    writes: Vec<Write>,
}

struct Write {
    at: SystemTime,
    origin: usize,
    /// The backend's entry right after the write.
    after: Option<Entry>,
}

impl History {
    /// What location `location` sees at `now`, given how long writes take to reach it.
    fn view(&self, location: usize, now: SystemTime, window: Duration) -> Option<&Entry> {
        self.writes
            .iter()
            .rev()
            .find(|w| w.origin == location || reached_all(w.at, now, window))
            .map_or(self.base.as_ref(), |w| w.after.as_ref())
    }
}

/// Whether a write made at `at` has reached every location by `now`.
fn reached_all(at: SystemTime, now: SystemTime, window: Duration) -> bool {
    at.checked_add(window).is_none_or(|visible| visible <= now)
}

impl Propagation {
    /// `locations` locations (at least 1) over `backend`, where a write takes `window` to
    /// reach the locations other than its own.
    #[must_use]
    pub fn new(
        backend: Arc<dyn KvStore>,
        locations: usize,
        window: Duration,
        clock: Arc<dyn Clock>,
    ) -> Arc<Self> {
        Arc::new(Self {
            backend,
            clock,
            window,
            locations: locations.max(1),
            pending: Mutex::new(BTreeMap::new()),
        })
    }

    /// Number of locations.
    #[must_use]
    pub fn locations(&self) -> usize {
        self.locations
    }

    /// The store as location `index` sees it (taken modulo [`Propagation::locations`]).
    #[must_use]
    pub fn location(self: &Arc<Self>, index: usize) -> Arc<dyn KvStore> {
        Arc::new(LocationView {
            shared: self.clone(),
            location: index % self.locations,
        })
    }

    /// Forgets writes that have reached every location.
    fn prune(&self, pending: &mut BTreeMap<String, History>, now: SystemTime) {
        pending.retain(|_, history| {
            let reached = history
                .writes
                .iter()
                .take_while(|w| reached_all(w.at, now, self.window))
                .count();
            if let Some(last) = history.writes.drain(..reached).last() {
                history.base = last.after;
            }
            !history.writes.is_empty()
        });
    }

    /// Applies `write` to the backend for `location`, remembering the value from before it
    /// for the other locations.
    fn write(
        &self,
        location: usize,
        key: &str,
        write: impl FnOnce(&dyn KvStore) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        if self.window.is_zero() || self.locations == 1 {
            return write(&*self.backend);
        }
        let now = self.clock.now();
        let mut pending = self.pending.lock();
        self.prune(&mut pending, now);
        let before = match pending.get(key) {
            Some(_) => None,
            None => Some(self.backend.lookup(key)?),
        };
        write(&*self.backend)?;
        let Ok(after) = self.backend.lookup(key) else {
            // The write happened but its result is unknown: no stale view of this key.
            pending.remove(key);
            return Ok(());
        };
        let history = pending.entry(key.to_owned()).or_insert_with(|| History {
            base: before.flatten(),
            writes: Vec::new(),
        });
        history.writes.push(Write {
            at: now,
            origin: location,
            after,
        });
        Ok(())
    }

    fn lookup(&self, location: usize, key: &str) -> Result<Option<Entry>, StoreError> {
        let now = self.clock.now();
        let mut pending = self.pending.lock();
        self.prune(&mut pending, now);
        match pending.get(key) {
            Some(history) => Ok(history.view(location, now, self.window).cloned()),
            None => self.backend.lookup(key),
        }
    }

    fn list(&self, location: usize, req: &ListRequest) -> Result<ListPage, StoreError> {
        let now = self.clock.now();
        let mut pending = self.pending.lock();
        self.prune(&mut pending, now);
        let prefix = req.prefix.clone().unwrap_or_default();
        let in_flight: Vec<(&String, &History)> = pending
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(&prefix))
            .collect();
        if in_flight.is_empty() {
            return self.backend.list(req);
        }
        let page = Page::new(req)?;
        // The whole listing as the backend has it, corrected for this location.
        let mut keys = BTreeSet::new();
        let mut cursor = None;
        loop {
            let backend_page = self.backend.list(&ListRequest {
                prefix: req.prefix.clone(),
                limit: Some(BACKEND_PAGE),
                cursor,
            })?;
            keys.extend(backend_page.keys);
            cursor = backend_page.cursor;
            if cursor.is_none() {
                break;
            }
        }
        for (key, history) in in_flight {
            if history.view(location, now, self.window).is_some() {
                keys.insert(key.clone());
            } else {
                keys.remove(key);
            }
        }
        let mut listed: Vec<String> = keys
            .range::<String, _>((page.start.clone(), Bound::Unbounded))
            .take(page.limit.saturating_add(1))
            .cloned()
            .collect();
        let more = listed.len() > page.limit;
        listed.truncate(page.limit);
        let cursor = Page::cursor(&listed, more);
        Ok(ListPage {
            keys: listed,
            cursor,
        })
    }
}

impl std::fmt::Debug for Propagation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Propagation")
            .field("locations", &self.locations)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

/// One location's view of a [`Propagation`].
struct LocationView {
    shared: Arc<Propagation>,
    location: usize,
}

impl KvStore for LocationView {
    fn lookup(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        self.shared.lookup(self.location, key)
    }

    fn insert(&self, key: &str, insert: Insert) -> Result<(), StoreError> {
        self.shared
            .write(self.location, key, |backend| backend.insert(key, insert))
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.shared
            .write(self.location, key, |backend| backend.delete(key))
    }

    fn list(&self, req: &ListRequest) -> Result<ListPage, StoreError> {
        self.shared.list(self.location, req)
    }

    fn len(&self) -> usize {
        self.shared.backend.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::UNIX_EPOCH;

    use bytes::Bytes;

    use super::*;
    use crate::{InsertMode, ManualClock, MemoryStore};

    const WINDOW: Duration = Duration::from_millis(300);

    fn setup(locations: usize) -> (Arc<ManualClock>, Arc<Propagation>) {
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        ));
        let backend = Arc::new(MemoryStore::new(clock.clone()));
        (
            clock.clone(),
            Propagation::new(backend, locations, WINDOW, clock),
        )
    }

    fn put(store: &Arc<dyn KvStore>, key: &str, value: &str, mode: InsertMode) {
        store
            .insert(
                key,
                Insert {
                    value: Bytes::from(value.to_owned()),
                    mode,
                    ..Insert::default()
                },
            )
            .unwrap();
    }

    fn value(store: &Arc<dyn KvStore>, key: &str) -> Option<String> {
        store
            .lookup(key)
            .unwrap()
            .map(|e| String::from_utf8(e.value.to_vec()).unwrap())
    }

    fn keys(store: &Arc<dyn KvStore>, req: &ListRequest) -> Vec<String> {
        store.list(req).unwrap().keys
    }

    #[test]
    fn other_locations_see_a_write_only_after_the_window() {
        let (clock, kv) = setup(3);
        let (zero, one, two) = (kv.location(0), kv.location(1), kv.location(2));
        put(&zero, "k", "v1", InsertMode::Overwrite);
        // Own location at once; the others still see the key absent.
        assert_eq!(value(&zero, "k").as_deref(), Some("v1"));
        assert_eq!(value(&one, "k"), None);
        assert_eq!(value(&two, "k"), None);
        clock.advance(WINDOW - Duration::from_millis(1));
        assert_eq!(value(&one, "k"), None);
        clock.advance(Duration::from_millis(1));
        assert_eq!(value(&one, "k").as_deref(), Some("v1"));
        assert_eq!(value(&two, "k").as_deref(), Some("v1"));

        // An overwrite: the previous value, not absence, until the window has passed.
        put(&one, "k", "v2", InsertMode::Overwrite);
        assert_eq!(value(&one, "k").as_deref(), Some("v2"));
        assert_eq!(value(&zero, "k").as_deref(), Some("v1"));
        clock.advance(WINDOW);
        assert_eq!(value(&zero, "k").as_deref(), Some("v2"));

        // A delete too.
        zero.delete("k").unwrap();
        assert_eq!(value(&zero, "k"), None);
        assert_eq!(value(&two, "k").as_deref(), Some("v2"));
        clock.advance(WINDOW);
        assert_eq!(value(&two, "k"), None);
        assert!(kv.pending.lock().is_empty());
    }

    #[test]
    fn writes_are_checked_centrally_and_reach_others_in_order() {
        let (clock, kv) = setup(2);
        let (zero, one) = (kv.location(0), kv.location(1));
        put(&zero, "log", "a", InsertMode::Append);
        clock.advance(Duration::from_millis(100));
        // Location 1 does not see "a" yet, but its append lands after it in the backend.
        assert_eq!(value(&one, "log"), None);
        put(&one, "log", "b", InsertMode::Append);
        assert_eq!(value(&one, "log").as_deref(), Some("ab"));
        assert_eq!(value(&zero, "log").as_deref(), Some("a"));
        // `add` is refused although this location still sees the key absent.
        put(&zero, "once", "first", InsertMode::Add);
        let refused = one.insert(
            "once",
            Insert {
                value: Bytes::from_static(b"second"),
                mode: InsertMode::Add,
                ..Insert::default()
            },
        );
        assert_eq!(refused, Err(StoreError::PreconditionFailed));
        assert_eq!(value(&one, "once"), None);
        // The first write reaches location 1 before the second reaches location 0.
        clock.advance(Duration::from_millis(200));
        assert_eq!(value(&zero, "log").as_deref(), Some("a"));
        clock.advance(Duration::from_millis(100));
        assert_eq!(value(&zero, "log").as_deref(), Some("ab"));
        assert_eq!(value(&one, "once").as_deref(), Some("first"));
    }

    #[test]
    fn listings_elsewhere_are_stale_within_the_window() {
        let (clock, kv) = setup(2);
        let (zero, one) = (kv.location(0), kv.location(1));
        for key in ["p/a", "p/c", "q/x"] {
            put(&zero, key, "v", InsertMode::Overwrite);
        }
        clock.advance(WINDOW);
        put(&zero, "p/b", "v", InsertMode::Overwrite);
        zero.delete("p/c").unwrap();
        let all = ListRequest::default();
        assert_eq!(keys(&zero, &all), ["p/a", "p/b", "q/x"]);
        assert_eq!(keys(&one, &all), ["p/a", "p/c", "q/x"]);
        let prefixed = ListRequest {
            prefix: Some("p/".to_owned()),
            limit: Some(1),
            cursor: None,
        };
        let first = one.list(&prefixed).unwrap();
        assert_eq!(first.keys, ["p/a"]);
        let second = one
            .list(&ListRequest {
                cursor: first.cursor,
                ..prefixed.clone()
            })
            .unwrap();
        assert_eq!((second.keys, second.cursor), (vec!["p/c".to_owned()], None));
        clock.advance(WINDOW);
        assert_eq!(keys(&one, &all), ["p/a", "p/b", "q/x"]);
        assert!(kv.pending.lock().is_empty());
    }

    #[test]
    fn one_location_or_no_window_is_strongly_consistent() {
        let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(1)));
        let backend: Arc<dyn KvStore> = Arc::new(MemoryStore::new(clock.clone()));
        let kv = Propagation::new(backend.clone(), 2, Duration::ZERO, clock.clone());
        put(&kv.location(0), "k", "v", InsertMode::Overwrite);
        assert_eq!(value(&kv.location(1), "k").as_deref(), Some("v"));
        let single = Propagation::new(backend, 1, WINDOW, clock);
        put(&single.location(0), "k", "w", InsertMode::Overwrite);
        // Location indices wrap around.
        assert_eq!(value(&single.location(5), "k").as_deref(), Some("w"));
    }
}
