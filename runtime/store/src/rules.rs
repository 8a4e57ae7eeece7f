//! The backend-independent rules of a write and of a listing, written once and used by every
//! backend, so that modes, generations, TTLs and cursors cannot drift between them.
//!
//! A backend supplies the storage and the atomicity (a lock, a transaction); these functions
//! decide what a write produces and where a page starts and ends.

use std::ops::Bound;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::{Bytes, BytesMut};

use crate::{Insert, InsertMode, ListRequest, StoreError, DEFAULT_LIST_LIMIT, MAX_GENERATION};

/// Microseconds since the UNIX epoch; 0 for earlier times, saturating far in the future.
pub(crate) fn micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// The generation after `last`: above every earlier one and at least the current time in
/// microseconds.
///
/// Seeding from the clock keeps generations unlike small counters (an app cannot guess `1`)
/// and keeps them increasing across restarts; microseconds since 1970 stay below 2^53 until
/// the year 2255.
///
/// # Errors
/// [`StoreError::InternalError`] when the next generation would exceed [`MAX_GENERATION`];
/// the caller must then write nothing.
pub(crate) fn next_generation(last: u64, now: SystemTime) -> Result<u64, StoreError> {
    let generation = last.saturating_add(1).max(micros(now));
    if generation > MAX_GENERATION {
        return Err(generation_overflow());
    }
    Ok(generation)
}

/// The error of a write whose generation would exceed [`MAX_GENERATION`], for backends that
/// compute generations where [`next_generation`] cannot run (the Redis backend's scripts).
pub(crate) fn generation_overflow() -> StoreError {
    StoreError::InternalError("generation would exceed 2^53 - 1".to_owned())
}

/// The live record a write finds under its key, as far as the write rules need it.
pub(crate) struct Existing {
    pub generation: u64,
    /// The stored value; only read by append and prepend (see [`needs_existing_value`]).
    pub value: Bytes,
}

/// Whether `insert` needs the existing value (append and prepend), not only its generation.
pub(crate) fn needs_existing_value(insert: &Insert) -> bool {
    matches!(insert.mode, InsertMode::Append | InsertMode::Prepend)
}

/// The value `insert` leaves under its key, given the live record it finds (if any).
///
/// # Errors
/// [`StoreError::PreconditionFailed`] when the generation does not match a live record or
/// `add` meets one; the caller must then write nothing.
pub(crate) fn merged_value(
    insert: &Insert,
    existing: Option<&Existing>,
) -> Result<Bytes, StoreError> {
    if let (Some(record), Some(expected)) = (existing, insert.if_generation_match) {
        if record.generation != expected {
            return Err(StoreError::PreconditionFailed);
        }
    }
    Ok(match (insert.mode, existing) {
        (InsertMode::Add, Some(_)) => return Err(StoreError::PreconditionFailed),
        (InsertMode::Append, Some(record)) => concat(&record.value, &insert.value),
        (InsertMode::Prepend, Some(record)) => concat(&insert.value, &record.value),
        _ => insert.value.clone(),
    })
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

/// When a write made at `now` with `ttl` expires; `None` for never, including a TTL too
/// large for `SystemTime`, which means "never" in practice.
pub(crate) fn expires_at(now: SystemTime, ttl: Option<Duration>) -> Option<SystemTime> {
    ttl.and_then(|ttl| now.checked_add(ttl))
}

/// Whether a record expiring at `expires_at` is live at `now`: it expires exactly at its
/// deadline.
pub(crate) fn is_live(expires_at: Option<SystemTime>, now: SystemTime) -> bool {
    expires_at.is_none_or(|at| now < at)
}

/// One listing request, decoded: where the page starts and how many keys it holds.
#[derive(Debug)]
pub(crate) struct Page {
    /// Only keys starting with this.
    pub prefix: String,
    /// The first key that may be listed: the prefix itself, or strictly after the cursor's
    /// key when that comes at or after the prefix.
    pub start: Bound<String>,
    /// Keys on the page; at least 1.
    pub limit: usize,
}

impl Page {
    /// Decodes `req`.
    ///
    /// # Errors
    /// [`StoreError::BadRequest`] when the cursor is not standard padded base64 of UTF-8.
    pub fn new(req: &ListRequest) -> Result<Self, StoreError> {
        let after = req.cursor.as_deref().map(decode_cursor).transpose()?;
        let prefix = req.prefix.clone().unwrap_or_default();
        // A limit of 0 would make a page that can never advance; take it as "unset".
        let limit = match req.limit {
            None | Some(0) => DEFAULT_LIST_LIMIT,
            Some(n) => n,
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        // Keys starting with `prefix` are contiguous in byte order, beginning at `prefix`
        // itself; start at whichever of prefix and cursor comes later.
        let start = match after {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix.clone()),
        };
        Ok(Self {
            prefix,
            start,
            limit,
        })
    }

    /// The smallest byte string above every key that starts with the prefix, or `None` when
    /// there is none (an empty prefix). Keys are UTF-8, so a prefix never ends in 0xFF and
    /// this is the prefix with its last byte incremented; 0xFF bytes are handled anyway.
    pub fn end(&self) -> Option<Vec<u8>> {
        let mut end = self.prefix.as_bytes().to_vec();
        while let Some(last) = end.pop() {
            if last < u8::MAX {
                end.push(last + 1);
                return Some(end);
            }
        }
        None
    }

    /// The cursor to return with `keys`, given whether more matching keys follow them.
    pub fn cursor(keys: &[String], more: bool) -> Option<String> {
        if more {
            keys.last().map(|last| STANDARD.encode(last))
        } else {
            None
        }
    }
}

/// The key a listing cursor stands for.
fn decode_cursor(cursor: &str) -> Result<String, StoreError> {
    let bytes = STANDARD
        .decode(cursor)
        .map_err(|_| StoreError::BadRequest)?;
    String::from_utf8(bytes).map_err(|_| StoreError::BadRequest)
}
