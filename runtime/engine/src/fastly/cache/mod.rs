//! `fastly:cache`: the Core Cache (`CoreCache`, `CacheEntry`, `CacheState`,
//! `TransactionCacheEntry`, `PendingTransaction`) and `SimpleCache` on top of it, over the
//! edge cache of `edgeshim_store::cache` (one per simulated edge location).
//!
//! | file        | what                                                               |
//! |-------------|--------------------------------------------------------------------|
//! | `host.rs`   | `host.cache`, the native door the JS classes (js-lib/fastly.js) use |
//! | `error.rs`  | host failures, and the one mapping to JS errors                    |
//!
//! Lookups are synchronous, as on Compute: they hold the JS thread ([`crate::host_call::Host::call_blocking`]).
//! Transaction lookups of one key collapse in the default (snapshot) mode, where each request
//! has a process of its own; in-process modes never wait (each transaction is obliged).
//!
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:cache/CoreCache/>.

pub mod error;
pub mod host;
