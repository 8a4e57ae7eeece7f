//! What a cache holds, read without touching it (no hits, no change to eviction order): for
//! the inspection page of `serve --inspect`.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use super::{Cache, Object, Slot, State};

/// Which keys [`Cache::list`] answers: those starting with `prefix`, after `cursor`, at most
/// `limit` of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRequest {
    pub prefix: Bytes,
    /// The `cursor` of the previous page; `None`: from the first key.
    pub cursor: Option<Bytes>,
    pub limit: usize,
}

/// One page of keys, in byte order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub keys: Vec<CachedKey>,
    /// Where the next page starts; `None`: this was the last.
    pub cursor: Option<Bytes>,
}

/// A key and what the cache holds for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedKey {
    pub key: Bytes,
    /// A transaction is obliged to insert (or update) it: others' transaction lookups of it
    /// wait.
    pub pending: bool,
    /// Its objects, one per `vary` variant, oldest written first.
    pub variants: Vec<CachedObject>,
}

/// One stored object (one variant of a key), as of the cache's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedObject {
    /// The `vary` rule's header names with the values that select this variant (`None`: the
    /// header was absent).
    pub vary: Vec<(String, Option<String>)>,
    /// Bytes of the stored body.
    pub length: u64,
    pub max_age: Duration,
    pub age: Duration,
    /// Until it is stale (zero once it is).
    pub ttl: Duration,
    pub stale_while_revalidate: Duration,
    pub stale_if_error: Duration,
    pub surrogate_keys: Vec<String>,
    pub user_metadata: Bytes,
    pub hits: u64,
    pub stale: bool,
    /// Served to lookups (fresh, or stale within stale-while-revalidate); an object that is
    /// not is kept only for its stale-if-error window.
    pub usable: bool,
    /// The body's first bytes: as many as [`Cache::object`] was asked for; empty in a
    /// listing.
    pub body: Bytes,
}

/// How much a cache holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Keys with at least one object.
    pub keys: usize,
    /// Bytes of their bodies.
    pub bytes: u64,
}

impl Object {
    fn inspected(&self, now: SystemTime, preview: usize) -> CachedObject {
        let age = self.age(now);
        CachedObject {
            vary: self
                .options
                .vary
                .iter()
                .cloned()
                .zip(self.varied.iter().cloned())
                .collect(),
            length: self.body.len() as u64,
            max_age: self.options.max_age,
            age,
            ttl: if self.soft_purged {
                Duration::ZERO
            } else {
                self.options.max_age.saturating_sub(age)
            },
            stale_while_revalidate: self.options.stale_while_revalidate,
            stale_if_error: self.options.stale_if_error,
            surrogate_keys: self.options.surrogate_keys.clone(),
            user_metadata: self.options.user_metadata.clone(),
            hits: self.hits,
            stale: self.stale(now),
            usable: !self.unusable(now),
            body: self.body.slice(..preview.min(self.body.len())),
        }
    }
}

impl Slot {
    /// What a lookup would see now: expired objects and lapsed obligations are left out (the
    /// next use of the key drops them), and `None` when nothing is left.
    fn inspected(
        &self,
        key: &Bytes,
        state: &State,
        now: SystemTime,
        preview: usize,
    ) -> Option<CachedKey> {
        let pending = self
            .pending
            .and_then(|id| state.obligations.get(&id))
            .is_some_and(|o| o.until > Instant::now());
        let variants: Vec<CachedObject> = self
            .variants
            .iter()
            .filter(|o| !o.expired(now))
            .map(|o| o.inspected(now, preview))
            .collect();
        (pending || !variants.is_empty()).then(|| CachedKey {
            key: key.clone(),
            pending,
            variants,
        })
    }
}

impl Cache {
    /// One page of the keys the cache holds objects or obligations for, in byte order.
    pub fn list(&self, request: &ListRequest) -> Listing {
        let now = self.clock.now();
        let state = self.state.lock();
        // Sorted per page, under the lock: a local cache holds few enough keys, and a
        // sorted index kept beside the map would cost every insert instead.
        let mut keys: Vec<&Bytes> = state
            .keys
            .keys()
            .filter(|k| k.starts_with(&request.prefix))
            .filter(|k| request.cursor.as_ref().is_none_or(|c| *k > c))
            .collect();
        keys.sort_unstable();
        let mut listing = Listing::default();
        for key in keys {
            let Some(found) = state.keys[key].inspected(key, &state, now, 0) else {
                continue;
            };
            if listing.keys.len() == request.limit {
                listing.cursor = listing.keys.last().map(|k| k.key.clone());
                break;
            }
            listing.keys.push(found);
        }
        listing
    }

    /// What the cache holds for `key`, each body's first `preview` bytes included.
    pub fn object(&self, key: &[u8], preview: usize) -> Option<CachedKey> {
        let now = self.clock.now();
        let state = self.state.lock();
        let (key, slot) = state.keys.get_key_value(key)?;
        slot.inspected(key, &state, now, preview)
    }

    /// Drops every object of `key` (an obligation to insert it stays); how many there were.
    pub fn remove(&self, key: &[u8]) -> usize {
        let mut state = self.state.lock();
        let Some(slot) = state.keys.get_mut(key) else {
            return 0;
        };
        let removed = std::mem::take(&mut slot.variants);
        if slot.is_empty() {
            state.keys.remove(key);
        }
        state.bytes -= removed.iter().map(|o| o.body.len() as u64).sum::<u64>();
        removed.len()
    }

    /// How many keys have objects, and their bytes, leaving out expired objects.
    pub fn usage(&self) -> Usage {
        let now = self.clock.now();
        let state = self.state.lock();
        let mut usage = Usage::default();
        for slot in state.keys.values() {
            let mut live = slot.variants.iter().filter(|o| !o.expired(now)).peekable();
            if live.peek().is_some() {
                usage.keys += 1;
            }
            usage.bytes += live.map(|o| o.body.len() as u64).sum::<u64>();
        }
        usage
    }
}
