//! The cache's requests and answers in plain data: what crosses the host-call boundary.

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Request headers, in order, as the lookup or insert saw them (for `vary`).
pub type Headers = Vec<(String, String)>;

/// How an object is written (`CoreCache.insert`, `TransactionCacheEntry.insert`/`update`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOptions {
    pub max_age: Duration,
    pub initial_age: Duration,
    pub stale_while_revalidate: Duration,
    /// How long past `max_age` the object is kept for readthrough requests whose origin
    /// fails (the HTTP cache's `stale-if-error`; `fastly:cache` has none).
    pub stale_if_error: Duration,
    /// Names of request headers whose values select this variant.
    pub vary: Vec<String>,
    pub surrogate_keys: Vec<String>,
    /// The body's length, when the writer declared it.
    pub length: Option<u64>,
    pub user_metadata: Bytes,
    pub sensitive: bool,
}

/// The four bits of `CacheState`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupState {
    pub found: bool,
    pub usable: bool,
    pub stale: bool,
    pub must_insert_or_update: bool,
}

/// A cached object as one lookup saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub body: Bytes,
    /// The declared length, or the body's.
    pub length: u64,
    pub max_age: Duration,
    pub stale_while_revalidate: Duration,
    pub age: Duration,
    /// Lookups that found this object, this one included.
    pub hits: u64,
    pub user_metadata: Bytes,
}

/// What a lookup answers: its state, the object when one was found, and (for a transaction
/// whose state says `must_insert_or_update`) the obligation to insert, update or cancel. An
/// obliged transaction may come with an object that is `found` but not `usable`: one kept
/// only for its stale-if-error window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lookup {
    pub state: LookupState,
    pub found: Option<Found>,
    pub transaction: Option<u64>,
}

/// One operation on the cache of an edge location.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CacheOp {
    /// `CoreCache.lookup`: never waits, never obliges.
    Lookup { key: Bytes, headers: Headers },
    /// `CoreCache.insert`: replaces the variant its headers select.
    Insert {
        key: Bytes,
        headers: Headers,
        options: WriteOptions,
        body: Bytes,
    },
    /// `CoreCache.transactionLookup`: waits while another transaction of the key is
    /// obliged to insert (request collapsing), then answers; may oblige the caller.
    TransactionLookup { key: Bytes, headers: Headers },
    /// The obliged transaction inserts (and, `stream_back`, gets the object back).
    TransactionInsert {
        transaction: u64,
        options: WriteOptions,
        body: Bytes,
        stream_back: bool,
    },
    /// The obliged transaction freshens the stale object it found.
    TransactionUpdate {
        transaction: u64,
        options: WriteOptions,
    },
    /// The obliged transaction gives up: the next waiter is obliged instead.
    TransactionCancel { transaction: u64 },
    /// `purgeSurrogateKey`: every object carrying the key goes (soft: becomes stale).
    Purge { surrogate_key: String, soft: bool },
}

/// What a successful [`CacheOp`] answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheReply {
    Lookup(Lookup),
    /// An insert or update was done; `Some` for `stream_back`.
    Written(Option<Found>),
    Done,
    /// How many objects a purge reached.
    Purged(usize),
}

/// Why a cache operation failed; the binding maps each to the platform's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum CacheError {
    /// The transaction is not (or no longer) obliged: it was never, or already inserted,
    /// updated or cancelled, or it waited past its lease.
    #[error("the cache transaction is not obliged to insert or update (or is already finished)")]
    NotObliged,
    /// `update` of a transaction that found nothing to update.
    #[error("there is no cached object to update")]
    NothingToUpdate,
    /// A lookup with [`crate::cache::Wait::Try`] would have waited.
    #[error("the cache lookup would wait for another request's insert")]
    WouldWait,
    /// The host could not answer (a snapshot copy lost its server).
    #[error("the cache could not be reached: {0}")]
    Unreachable(String),
}
