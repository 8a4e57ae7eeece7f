//! The in-memory backend: a `BTreeMap` behind one mutex.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use parking_lot::Mutex;

use crate::rules::{self, Existing, Page};
use crate::{Clock, Entry, Insert, KvStore, ListPage, ListRequest, StoreError, MAX_GENERATION};

/// A store held in process memory, lost at exit.
///
/// One mutex guards the whole map, which makes every operation atomic (an `append` can
/// never lose a concurrent one, and of racing `add`s exactly one wins). Expired entries are
/// treated as absent everywhere and purged lazily when an operation meets them.
///
/// It does not apply the host-side key checks itself; see [`HostChecked`](crate::HostChecked).
pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

struct State {
    records: BTreeMap<String, Record>,
    /// The last generation handed out, for any key of this store.
    last_generation: u64,
}

struct Record {
    value: Bytes,
    metadata: Option<Bytes>,
    generation: u64,
    /// `None`: never expires.
    expires_at: Option<SystemTime>,
}

impl Record {
    fn is_live(&self, now: SystemTime) -> bool {
        rules::is_live(self.expires_at, now)
    }
}

impl MemoryStore {
    /// An empty store whose TTLs and generations follow `clock`.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let last_generation = rules::micros(clock.now()).min(MAX_GENERATION);
        Self {
            clock,
            state: Mutex::new(State {
                records: BTreeMap::new(),
                last_generation,
            }),
        }
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("records", &self.state.lock().records.len())
            .finish_non_exhaustive()
    }
}

impl KvStore for MemoryStore {
    fn lookup(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let now = self.clock.now();
        let mut state = self.state.lock();
        match state.records.get(key) {
            Some(record) if record.is_live(now) => Ok(Some(Entry {
                value: record.value.clone(),
                metadata: record.metadata.clone(),
                generation: record.generation,
                expires_at: record.expires_at,
            })),
            Some(_) => {
                state.records.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    fn insert(&self, key: &str, insert: Insert) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut state = self.state.lock();
        let existing = state
            .records
            .get(key)
            .filter(|r| r.is_live(now))
            .map(|r| Existing {
                generation: r.generation,
                value: r.value.clone(),
            });
        let value = rules::merged_value(&insert, existing.as_ref())?;
        let generation = rules::next_generation(state.last_generation, now)?;
        state.last_generation = generation;
        state.records.insert(
            key.to_owned(),
            Record {
                value,
                metadata: insert.metadata,
                generation,
                expires_at: rules::expires_at(now, insert.ttl),
            },
        );
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let now = self.clock.now();
        match self.state.lock().records.remove(key) {
            Some(record) if record.is_live(now) => Ok(()),
            _ => Err(StoreError::NotFound),
        }
    }

    fn list(&self, req: &ListRequest) -> Result<ListPage, StoreError> {
        let page = Page::new(req)?;
        let start = match &page.start {
            Bound::Included(key) => Bound::Included(key.as_str()),
            Bound::Excluded(key) => Bound::Excluded(key.as_str()),
            Bound::Unbounded => Bound::Unbounded,
        };

        let now = self.clock.now();
        let mut state = self.state.lock();
        let mut keys = Vec::new();
        let mut expired = Vec::new();
        let mut more = false;
        for (key, record) in state
            .records
            .range::<str, _>((start, Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(&page.prefix))
        {
            if !record.is_live(now) {
                expired.push(key.clone());
            } else if keys.len() == page.limit {
                more = true;
                break;
            } else {
                keys.push(key.clone());
            }
        }
        for key in &expired {
            state.records.remove(key);
        }

        let cursor = Page::cursor(&keys, more);
        Ok(ListPage { keys, cursor })
    }

    fn len(&self) -> usize {
        let now = self.clock.now();
        let mut state = self.state.lock();
        state.records.retain(|_, record| record.is_live(now));
        state.records.len()
    }
}
