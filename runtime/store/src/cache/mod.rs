//! The edge cache behind `fastly:cache`: one per simulated edge location, in memory, with
//! Compute's object lifetimes (max age, stale-while-revalidate, initial age), variants by
//! `vary`, surrogate-key purges (hard and soft), hit counts, and request collapsing:
//! while one transaction is obliged to insert a key, the others' transaction lookups wait
//! for it.
//!
//! It follows Fastly's Core Cache model
//! (<https://www.fastly.com/documentation/guides/concepts/edge-state/cache/#core-cache-api>,
//! <https://js-compute-reference-docs.edgecompute.app/docs/fastly:cache/CoreCache/>) and
//! Viceroy's implementation of it. Object ages come from an injected [`Clock`], so tests move
//! time instead of sleeping; waits and leases use real time.
//!
//! Bodies are stored whole, once their writer closes them: a lookup never sees an object
//! being written (Compute streams it to readers as it arrives).

mod listing;
mod types;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use parking_lot::{Condvar, Mutex};

use crate::clock::Clock;
pub use listing::{CachedKey, CachedObject, ListRequest, Listing, Usage};
pub use types::{
    CacheError, CacheOp, CacheReply, Found, Headers, Lookup, LookupState, WriteOptions,
};

/// Whether a transaction lookup may wait for another transaction's insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait, as Compute does: the caller blocks until the obliged transaction inserts,
    /// updates or cancels (request collapsing).
    Collapse,
    /// Never wait: the caller is obliged too. For a caller that would block the thread the
    /// obliged transaction runs on (in-process instances serving several requests).
    Never,
    /// Answer at once if no wait is needed, else fail with [`CacheError::WouldWait`]: for an
    /// async caller that waits elsewhere only when it must.
    Try,
}

/// How long an obligation holds the key when its transaction neither inserts nor cancels
/// (its request crashed): Compute's longest request.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

/// The default size cap: objects past it are evicted, least recently used first.
pub const DEFAULT_CAPACITY: u64 = 256 * 1024 * 1024;

/// One edge location's cache.
pub struct Cache {
    state: Mutex<State>,
    /// Signalled when an obligation ends (insert, update, cancel).
    changed: Condvar,
    clock: Arc<dyn Clock>,
    capacity: u64,
    lease: Duration,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("capacity", &self.capacity)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    keys: HashMap<Bytes, Slot>,
    obligations: HashMap<u64, Obligation>,
    next_transaction: u64,
    /// Bytes of every stored body.
    bytes: u64,
    /// Advances on every use, for least-recently-used eviction.
    tick: u64,
    /// The key of the object used at each tick, oldest first: eviction takes the oldest
    /// entry whose object still has that tick (entries of objects used again since, or
    /// gone, are skipped), instead of scanning every object.
    recency: std::collections::BTreeMap<u64, Bytes>,
    /// `recency` was cleared past its bound and misses objects: rebuild before evicting.
    recency_partial: bool,
}

impl State {
    /// Records that an object of `key` was used at `tick` (its `used`).
    fn touched(&mut self, tick: u64, key: &Bytes) {
        let keys = self.keys.len();
        Self::record(
            &mut self.recency,
            &mut self.recency_partial,
            keys,
            tick,
            key,
        );
    }

    fn record(
        recency: &mut std::collections::BTreeMap<u64, Bytes>,
        partial: &mut bool,
        keys: usize,
        tick: u64,
        key: &Bytes,
    ) {
        recency.insert(tick, key.clone());
        // Entries outlive their use; past a bound they are dropped and rebuilt from the
        // objects at the next eviction (at most once every few uses per object, so
        // amortised constant).
        if recency.len() > 8 * keys.max(16) {
            recency.clear();
            *partial = true;
        }
    }
}

#[derive(Default)]
struct Slot {
    variants: Vec<Object>,
    /// The transaction obliged to insert this key, which other transactions wait for.
    pending: Option<u64>,
}

struct Object {
    /// The request's values of the `vary` headers when it was written, in `options.vary`
    /// order.
    varied: Vec<Option<String>>,
    options: WriteOptions,
    body: Bytes,
    written: SystemTime,
    hits: u64,
    /// A soft purge made it stale (never fresh again); it stays usable for the rest of its
    /// stale-while-revalidate window, as Viceroy keeps it.
    soft_purged: bool,
    used: u64,
}

struct Obligation {
    key: Bytes,
    headers: Headers,
    until: Instant,
}

/// The value of header `name` (ASCII case-insensitive) in `headers`, values of repeated
/// headers joined as HTTP does.
fn header_value(headers: &Headers, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

impl Object {
    fn age(&self, now: SystemTime) -> Duration {
        self.options.initial_age + now.duration_since(self.written).unwrap_or_default()
    }

    fn stale(&self, now: SystemTime) -> bool {
        self.soft_purged || self.age(now) >= self.options.max_age
    }

    /// Past its stale-while-revalidate window: no longer served (but kept for its
    /// stale-if-error window, for a readthrough request whose origin fails).
    fn unusable(&self, now: SystemTime) -> bool {
        self.age(now) >= self.options.max_age + self.options.stale_while_revalidate
    }

    /// Past both windows: gone.
    fn expired(&self, now: SystemTime) -> bool {
        let window = self
            .options
            .stale_while_revalidate
            .max(self.options.stale_if_error);
        self.age(now) >= self.options.max_age + window
    }

    fn selected_by(&self, headers: &Headers) -> bool {
        self.options
            .vary
            .iter()
            .zip(&self.varied)
            .all(|(name, value)| header_value(headers, name) == *value)
    }

    fn found(&self, now: SystemTime) -> Found {
        Found {
            body: self.body.clone(),
            length: self.options.length.unwrap_or(self.body.len() as u64),
            max_age: self.options.max_age,
            stale_while_revalidate: self.options.stale_while_revalidate,
            age: self.age(now),
            hits: self.hits,
            user_metadata: self.options.user_metadata.clone(),
        }
    }
}

impl Slot {
    /// Drops expired variants; returns the bytes freed.
    fn sweep(&mut self, now: SystemTime) -> u64 {
        let mut freed = 0;
        self.variants.retain(|object| {
            let keep = !object.expired(now);
            if !keep {
                freed += object.body.len() as u64;
            }
            keep
        });
        freed
    }

    /// Nothing stored and nobody obliged: the slot can go.
    fn is_empty(&self) -> bool {
        self.variants.is_empty() && self.pending.is_none()
    }

    fn variant(&mut self, headers: &Headers) -> Option<&mut Object> {
        self.variants
            .iter_mut()
            .find(|object| object.selected_by(headers))
    }
}

impl Cache {
    /// A cache whose objects age by `clock`, holding at most `capacity` bytes of bodies.
    pub fn new(clock: Arc<dyn Clock>, capacity: u64) -> Self {
        Self::with_lease(clock, capacity, DEFAULT_LEASE)
    }

    /// As [`Cache::new`], with obligations lapsing after `lease`.
    pub fn with_lease(clock: Arc<dyn Clock>, capacity: u64, lease: Duration) -> Self {
        Self {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            clock,
            capacity,
            lease,
        }
    }

    /// The time on this cache's clock.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// The size cap: bytes of bodies past it are evicted.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Runs `op`; a transaction lookup may block the calling thread (see [`Wait`]).
    pub fn run(&self, op: CacheOp, wait: Wait) -> Result<CacheReply, CacheError> {
        match op {
            CacheOp::Lookup { key, headers } => Ok(CacheReply::Lookup(self.lookup(&key, &headers))),
            CacheOp::Insert {
                key,
                headers,
                options,
                body,
            } => {
                self.insert(key, &headers, options, body);
                Ok(CacheReply::Written(None))
            }
            CacheOp::TransactionLookup { key, headers } => self
                .transaction_lookup(key, headers, wait)
                .map(CacheReply::Lookup),
            CacheOp::TransactionInsert {
                transaction,
                options,
                body,
                stream_back,
            } => self
                .transaction_insert(transaction, options, body, stream_back)
                .map(CacheReply::Written),
            CacheOp::TransactionUpdate {
                transaction,
                options,
            } => self
                .transaction_update(transaction, options)
                .map(|()| CacheReply::Done),
            CacheOp::TransactionCancel { transaction } => {
                self.cancel(transaction);
                Ok(CacheReply::Done)
            }
            CacheOp::Purge {
                surrogate_key,
                soft,
            } => Ok(CacheReply::Purged(self.purge(&surrogate_key, soft))),
        }
    }

    fn lookup(&self, key: &Bytes, headers: &Headers) -> Lookup {
        let now = self.clock.now();
        let mut state = self.state.lock();
        let State {
            keys,
            bytes,
            tick,
            recency,
            recency_partial,
            ..
        } = &mut *state;
        let live = keys.len();
        let Some(slot) = keys.get_mut(key) else {
            return Lookup::default();
        };
        *bytes -= slot.sweep(now);
        if slot.is_empty() {
            keys.remove(key);
            return Lookup::default();
        }
        let Some(object) = slot.variant(headers).filter(|o| !o.unusable(now)) else {
            return Lookup::default();
        };
        *tick += 1;
        object.used = *tick;
        object.hits += 1;
        State::record(recency, recency_partial, live, *tick, key);
        Lookup {
            state: LookupState {
                found: true,
                usable: true,
                stale: object.stale(now),
                must_insert_or_update: false,
            },
            found: Some(object.found(now)),
            transaction: None,
        }
    }

    fn transaction_lookup(
        &self,
        key: Bytes,
        headers: Headers,
        wait: Wait,
    ) -> Result<Lookup, CacheError> {
        let mut state = self.state.lock();
        loop {
            let now = self.clock.now();
            let State {
                keys,
                obligations,
                next_transaction,
                bytes,
                tick,
                recency,
                recency_partial,
            } = &mut *state;
            let live = keys.len();
            let slot = keys.entry(key.clone()).or_default();
            *bytes -= slot.sweep(now);
            // An obligation whose request vanished without inserting or cancelling lapses.
            if let Some(pending) = slot.pending {
                if obligations
                    .get(&pending)
                    .is_none_or(|o| o.until <= Instant::now())
                {
                    obligations.remove(&pending);
                    slot.pending = None;
                }
            }
            let free = slot.pending.is_none();
            let mut oblige = |slot: &mut Slot| {
                *next_transaction += 1;
                let id = *next_transaction;
                obligations.insert(
                    id,
                    Obligation {
                        key: key.clone(),
                        headers: headers.clone(),
                        until: Instant::now() + self.lease,
                    },
                );
                if slot.pending.is_none() {
                    slot.pending = Some(id);
                }
                id
            };
            // An object kept only for its stale-if-error window is not served, but told of.
            let fallback = slot
                .variant(&headers)
                .filter(|o| o.unusable(now))
                .map(|o| o.found(now));
            if let Some(object) = slot.variant(&headers).filter(|o| !o.unusable(now)) {
                *tick += 1;
                object.used = *tick;
                object.hits += 1;
                State::record(recency, recency_partial, live, *tick, &key);
                let stale = object.stale(now);
                let found = object.found(now);
                // A stale object is served while exactly one transaction revalidates it.
                let transaction = (stale && free).then(|| oblige(slot));
                return Ok(Lookup {
                    state: LookupState {
                        found: true,
                        usable: true,
                        stale,
                        must_insert_or_update: transaction.is_some(),
                    },
                    found: Some(found),
                    transaction,
                });
            }
            if free || wait == Wait::Never {
                let transaction = oblige(slot);
                return Ok(Lookup {
                    state: LookupState {
                        found: fallback.is_some(),
                        must_insert_or_update: true,
                        ..LookupState::default()
                    },
                    found: fallback,
                    transaction: Some(transaction),
                });
            }
            if wait == Wait::Try {
                return Err(CacheError::WouldWait);
            }
            // Collapse: wait for the obliged transaction (or its lease) to end.
            let until = slot
                .pending
                .and_then(|pending| obligations.get(&pending))
                .map_or_else(Instant::now, |o| o.until);
            // Woken or not, the loop looks again: an insert answers, a cancel or a lapsed
            // lease obliges this transaction.
            self.changed.wait_until(&mut state, until);
        }
    }

    /// Ends obligation `transaction`, waking the transactions waiting for its key.
    fn release(&self, state: &mut State, transaction: u64) -> Option<Obligation> {
        let obligation = state.obligations.remove(&transaction)?;
        if let Some(slot) = state.keys.get_mut(&obligation.key) {
            if slot.pending == Some(transaction) {
                slot.pending = None;
            }
            if slot.is_empty() {
                state.keys.remove(&obligation.key);
            }
        }
        self.changed.notify_all();
        Some(obligation)
    }

    fn insert(&self, key: Bytes, headers: &Headers, options: WriteOptions, body: Bytes) {
        let mut state = self.state.lock();
        self.store(&mut state, key, headers, options, body);
    }

    /// Stores an object, replacing the variant the same headers select, then evicts the
    /// least recently used objects while over capacity.
    fn store(
        &self,
        state: &mut State,
        key: Bytes,
        headers: &Headers,
        options: WriteOptions,
        body: Bytes,
    ) -> Option<Found> {
        let now = self.clock.now();
        state.tick += 1;
        let varied = options
            .vary
            .iter()
            .map(|name| header_value(headers, name))
            .collect();
        let object = Object {
            varied,
            options,
            body,
            written: now,
            hits: 0,
            soft_purged: false,
            used: state.tick,
        };
        let found = object.found(now);
        let size = object.body.len() as u64;
        let slot = state.keys.entry(key.clone()).or_default();
        // The new object replaces every variant the same request would select.
        let mut freed = 0;
        slot.variants.retain(|old| {
            let same = old.options.vary == object.options.vary && old.varied == object.varied;
            if same {
                freed += old.body.len() as u64;
            }
            !same
        });
        slot.variants.push(object);
        state.bytes = state.bytes - freed + size;
        let tick = state.tick;
        state.touched(tick, &key);
        self.evict(state, &key);
        Some(found)
    }

    /// Evicts least recently used objects while over capacity; `newest`'s objects last.
    fn evict(&self, state: &mut State, newest: &Bytes) {
        if state.bytes > self.capacity && state.recency_partial {
            // Exactly one entry per object, from the objects' own ticks.
            let entries: std::collections::BTreeMap<u64, Bytes> = state
                .keys
                .iter()
                .flat_map(|(key, slot)| slot.variants.iter().map(|o| (o.used, key.clone())))
                .collect();
            state.recency = entries;
            state.recency_partial = false;
        }
        let mut spared = Vec::new();
        while state.bytes > self.capacity {
            let Some((tick, key)) = state.recency.pop_first() else {
                break;
            };
            if key == *newest {
                spared.push((tick, key));
                continue;
            }
            let Some(slot) = state.keys.get_mut(&key) else {
                continue;
            };
            // An entry whose object was used again since (or is gone) is stale: skipped.
            let Some(index) = slot.variants.iter().position(|o| o.used == tick) else {
                continue;
            };
            let object = slot.variants.remove(index);
            state.bytes -= object.body.len() as u64;
            if slot.variants.is_empty() && slot.pending.is_none() {
                state.keys.remove(&key);
            }
        }
        // The newest key's own objects go last, oldest first.
        for (tick, key) in spared {
            if state.bytes <= self.capacity {
                state.recency.insert(tick, key);
                continue;
            }
            if let Some(slot) = state.keys.get_mut(&key) {
                if let Some(index) = slot.variants.iter().position(|o| o.used == tick) {
                    let object = slot.variants.remove(index);
                    state.bytes -= object.body.len() as u64;
                    if slot.variants.is_empty() && slot.pending.is_none() {
                        state.keys.remove(&key);
                    }
                }
            }
        }
    }

    fn transaction_insert(
        &self,
        transaction: u64,
        options: WriteOptions,
        body: Bytes,
        stream_back: bool,
    ) -> Result<Option<Found>, CacheError> {
        let mut state = self.state.lock();
        let obligation = self
            .release(&mut state, transaction)
            .ok_or(CacheError::NotObliged)?;
        let found = self.store(
            &mut state,
            obligation.key,
            &obligation.headers,
            options,
            body,
        );
        Ok(found.filter(|_| stream_back))
    }

    fn transaction_update(
        &self,
        transaction: u64,
        options: WriteOptions,
    ) -> Result<(), CacheError> {
        let now = self.clock.now();
        let mut state = self.state.lock();
        let obligation = self
            .release(&mut state, transaction)
            .ok_or(CacheError::NotObliged)?;
        let object = state
            .keys
            .get_mut(&obligation.key)
            .and_then(|slot| slot.variant(&obligation.headers))
            .ok_or(CacheError::NothingToUpdate)?;
        // The body stays; its lifetime, metadata and variant start again.
        let length = object.options.length;
        object.varied = options
            .vary
            .iter()
            .map(|name| header_value(&obligation.headers, name))
            .collect();
        object.options = WriteOptions {
            length: options.length.or(length),
            ..options
        };
        object.written = now;
        object.soft_purged = false;
        Ok(())
    }

    /// How many keys the cache keeps state for.
    #[cfg(test)]
    fn keys(&self) -> usize {
        self.state.lock().keys.len()
    }

    fn cancel(&self, transaction: u64) {
        let mut state = self.state.lock();
        self.release(&mut state, transaction);
    }

    fn purge(&self, surrogate_key: &str, soft: bool) -> usize {
        let mut state = self.state.lock();
        let mut reached = 0;
        let mut freed = 0;
        for slot in state.keys.values_mut() {
            slot.variants.retain_mut(|object| {
                if !object
                    .options
                    .surrogate_keys
                    .iter()
                    .any(|k| k == surrogate_key)
                {
                    return true;
                }
                reached += 1;
                if soft {
                    object.soft_purged = true;
                    true
                } else {
                    freed += object.body.len() as u64;
                    false
                }
            });
        }
        state.bytes -= freed;
        state.keys.retain(|_, slot| !slot.is_empty());
        reached
    }
}
