//! Engine-free storage behind edgeshim: the key-value stores of `fastly:kv-store`, and the edge
//! cache of `fastly:cache` ([`cache`]).
//!
//! The JS binding (in the engine crate) turns `KVStore.prototype.get/put/delete/list` calls
//! into calls on the [`KvStore`] trait defined here. This crate knows nothing of the JS
//! engine: it is synchronous, `Send + Sync`, and testable with plain `#[test]`s, so backends
//! (memory, SQLite, Redis) can be swapped without touching the binding.
//!
//! It implements what the platform's store does once the JS-side checks have passed:
//! the host-side key checks, insert modes, generations, TTLs and paged listing. See the
//! Fastly reference for the JS API it backs:
//! <https://js-compute-reference-docs.edgecompute.app/docs/fastly:kv-store/KVStore/>.
//!
//! Where to look:
//!
//! | What                                   | Where                       |
//! |----------------------------------------|-----------------------------|
//! | The trait and its request/entry types  | [`KvStore`], [`Insert`], [`ListRequest`], [`Entry`] |
//! | Status errors and their platform texts | [`StoreError`]              |
//! | Host-side key checks (every backend)   | [`check_host_key`], [`HostChecked`] |
//! | In-memory backend (`--ephemeral`)      | [`MemoryStore`]             |
//! | Durable backend, shareable by processes | [`SqliteStore`]            |
//! | Shared backend in a Redis server (key layout, two clocks) | [`RedisStore`], `redis_store.rs` |
//! | Rules every backend shares (modes, generations, TTL, cursors) | `rules.rs` |
//! | The suite every backend passes          | `tests.rs` (`backend_suite!`) |
//! | Simulated edge locations (eventual consistency) | [`Propagation`], `eventual.rs` |
//! | Named stores of an app                 | [`Stores`]                  |
//! | Time, injectable for tests             | [`Clock`], [`SystemClock`], [`ManualClock`] |
//! | The edge cache (`fastly:cache`)        | [`cache`]                   |
//! | Rate counters, penalty boxes (`fastly:edge-rate-limiter`) | [`rate`]  |
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use edgeshim_store::{Bytes, Insert, KvStore, MemoryStore, Stores, StoreError, SystemClock};
//!
//! let mut stores = Stores::new();
//! stores.insert("files", Arc::new(MemoryStore::new(Arc::new(SystemClock))));
//! let files = stores.get("files").expect("configured above");
//!
//! files.insert("hello", Insert { value: Bytes::from_static(b"world"), ..Insert::default() })?;
//! let entry = files.lookup("hello")?.expect("just written");
//! assert_eq!(entry.value, Bytes::from_static(b"world"));
//!
//! // Stores from the registry apply the host-side key checks.
//! assert_eq!(files.lookup("a/../b"), Err(StoreError::InvalidArgument));
//! # Ok::<(), StoreError>(())
//! ```

pub mod cache;
mod clock;
mod error;
mod eventual;
mod host;
mod memory;
pub mod rate;
mod redis_store;
mod registry;
mod rules;
mod sqlite;
mod types;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod redis_tests;
#[cfg(test)]
mod sqlite_tests;
#[cfg(test)]
mod test_redis;
#[cfg(test)]
mod tests;

pub use bytes::Bytes;

pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use error::{
    StoreError, REASON_BAD_REQUEST, REASON_INTERNAL_ERROR, REASON_INVALID_ARGUMENT,
    REASON_NOT_FOUND, REASON_PAYLOAD_TOO_LARGE, REASON_PRECONDITION_FAILED,
    REASON_TOO_MANY_REQUESTS,
};
pub use eventual::Propagation;
pub use host::{check_host_key, check_host_list, HostChecked};
pub use memory::MemoryStore;
pub use redis_store::{RedisConnectError, RedisStore, DEFAULT_REDIS_KEY_PREFIX};
pub use registry::Stores;
pub use sqlite::{OpenError, SqliteStore, DATABASE_FILE};
pub use types::{
    Entry, Insert, InsertMode, KvStore, ListPage, ListRequest, DEFAULT_LIST_LIMIT, MAX_GENERATION,
};
