//! The in-memory backend: a `BTreeMap` behind one mutex.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;

use crate::{
    Clock, Entry, Insert, InsertMode, KvStore, ListPage, ListRequest, StoreError,
    DEFAULT_LIST_LIMIT, MAX_GENERATION,
};

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
        self.expires_at.is_none_or(|at| now < at)
    }
}

impl State {
    /// A generation above every earlier one and at least the current time in microseconds.
    ///
    /// Seeding from the clock keeps generations unlike small counters (an app cannot guess
    /// `1`) and keeps them increasing across restarts; microseconds since 1970 stay below
    /// 2^53 until the year 2255.
    fn next_generation(&mut self, now: SystemTime) -> Result<u64, StoreError> {
        let generation = self.last_generation.saturating_add(1).max(micros(now));
        if generation > MAX_GENERATION {
            return Err(StoreError::InternalError(
                "generation would exceed 2^53 - 1".to_owned(),
            ));
        }
        self.last_generation = generation;
        Ok(generation)
    }
}

/// Microseconds since the UNIX epoch; 0 for earlier times.
fn micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn concat(first: &Bytes, second: &Bytes) -> Bytes {
    // Cloning `Bytes` is a reference count bump; copy only when both sides have bytes.
    if first.is_empty() {
        return second.clone();
    }
    if second.is_empty() {
        return first.clone();
    }
    let mut joined = BytesMut::with_capacity(first.len() + second.len());
    joined.extend_from_slice(first);
    joined.extend_from_slice(second);
    joined.freeze()
}

/// The key a listing cursor stands for.
fn decode_cursor(cursor: &str) -> Result<String, StoreError> {
    let bytes = STANDARD
        .decode(cursor)
        .map_err(|_| StoreError::BadRequest)?;
    String::from_utf8(bytes).map_err(|_| StoreError::BadRequest)
}

impl MemoryStore {
    /// An empty store whose TTLs and generations follow `clock`.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let last_generation = micros(clock.now()).min(MAX_GENERATION);
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
        let existing = state.records.get(key).filter(|r| r.is_live(now));
        if let (Some(record), Some(expected)) = (existing, insert.if_generation_match) {
            if record.generation != expected {
                return Err(StoreError::PreconditionFailed);
            }
        }
        let value = match (insert.mode, existing) {
            (InsertMode::Add, Some(_)) => return Err(StoreError::PreconditionFailed),
            (InsertMode::Append, Some(record)) => concat(&record.value, &insert.value),
            (InsertMode::Prepend, Some(record)) => concat(&insert.value, &record.value),
            _ => insert.value,
        };
        let generation = state.next_generation(now)?;
        // A TTL too large for `SystemTime` means "never" in practice.
        let expires_at = insert.ttl.and_then(|ttl| now.checked_add(ttl));
        state.records.insert(
            key.to_owned(),
            Record {
                value,
                metadata: insert.metadata,
                generation,
                expires_at,
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
        let after = req.cursor.as_deref().map(decode_cursor).transpose()?;
        let prefix = req.prefix.as_deref().unwrap_or("");
        // A limit of 0 would make a page that can never advance; take it as "unset".
        let limit = match req.limit {
            None | Some(0) => DEFAULT_LIST_LIMIT,
            Some(n) => n,
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);

        // Keys starting with `prefix` are contiguous in byte order, beginning at `prefix`
        // itself; start at whichever of prefix and cursor comes later.
        let start = match after.as_deref() {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };

        let now = self.clock.now();
        let mut state = self.state.lock();
        let mut keys = Vec::new();
        let mut expired = Vec::new();
        let mut more = false;
        for (key, record) in state
            .records
            .range::<str, _>((start, Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
        {
            if !record.is_live(now) {
                expired.push(key.clone());
            } else if keys.len() == limit {
                more = true;
                break;
            } else {
                keys.push(key.clone());
            }
        }
        for key in &expired {
            state.records.remove(key);
        }

        let cursor = if more {
            keys.last().map(|last| STANDARD.encode(last))
        } else {
            None
        };
        Ok(ListPage { keys, cursor })
    }

    fn len(&self) -> usize {
        let now = self.clock.now();
        let mut state = self.state.lock();
        state.records.retain(|_, record| record.is_live(now));
        state.records.len()
    }
}
