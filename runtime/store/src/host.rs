//! Host-side checks: what the platform's store refuses after the JS checks have passed.
//!
//! Production refuses these with `Invalid argument.` (a plain JS `Error`, not a `TypeError`).
//! They live here, once, rather than in each backend: [`HostChecked`] applies them around
//! any [`KvStore`], and [`Stores`](crate::Stores) wraps every store it holds in it, so a new
//! backend gets them without doing anything.

use std::sync::Arc;

use crate::{Entry, Insert, KvStore, ListPage, ListRequest, StoreError};

/// Refused as a prefix even without the trailing slash that the JS check requires.
const ACME_CHALLENGE_PREFIX: &str = ".well-known/acme-challenge";

/// Checks a key the way the platform's store does (on top of the JS key checks).
///
/// Refused: keys starting with `.well-known/acme-challenge`, containing `./` (hence also
/// `../`), ending in `/.` or `/..`, and single-character keys from U+0000 to U+0020.
/// Allowed, among others: `*`, `[`, `]`, `a.b`, `..a`, `.`.
///
/// # Errors
/// [`StoreError::InvalidArgument`] for a refused key.
pub fn check_host_key(key: &str) -> Result<(), StoreError> {
    let mut chars = key.chars();
    let single_blank_or_control =
        matches!((chars.next(), chars.next()), (Some(c), None) if c <= '\u{20}');
    let refused = key.starts_with(ACME_CHALLENGE_PREFIX)
        || key.contains("./")
        || key.ends_with("/.")
        || key.ends_with("/..")
        || single_blank_or_control;
    if refused {
        Err(StoreError::InvalidArgument)
    } else {
        Ok(())
    }
}

/// Checks a write's arguments other than the key: empty metadata is refused.
fn check_host_insert(insert: &Insert) -> Result<(), StoreError> {
    match &insert.metadata {
        Some(metadata) if metadata.is_empty() => Err(StoreError::InvalidArgument),
        _ => Ok(()),
    }
}

/// Checks a listing request: an empty prefix or cursor is refused (production throws
/// `list: Invalid argument.` for `list({prefix: ''})` and `list({cursor: ''})`).
///
/// # Errors
/// [`StoreError::InvalidArgument`] for an empty prefix or cursor.
pub fn check_host_list(req: &ListRequest) -> Result<(), StoreError> {
    let empty = |s: &Option<String>| s.as_deref().is_some_and(str::is_empty);
    if empty(&req.prefix) || empty(&req.cursor) {
        Err(StoreError::InvalidArgument)
    } else {
        Ok(())
    }
}

/// A [`KvStore`] that applies the host-side checks before delegating to the store it wraps.
///
/// Backends stay free of these checks; [`Stores::insert`](crate::Stores::insert) wraps every
/// store in one of these.
#[derive(Clone)]
pub struct HostChecked {
    inner: Arc<dyn KvStore>,
}

impl HostChecked {
    /// Wraps `inner`.
    #[must_use]
    pub fn new(inner: Arc<dyn KvStore>) -> Self {
        Self { inner }
    }
}

impl std::fmt::Debug for HostChecked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostChecked").finish_non_exhaustive()
    }
}

impl KvStore for HostChecked {
    fn lookup(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        check_host_key(key)?;
        self.inner.lookup(key)
    }

    fn insert(&self, key: &str, insert: Insert) -> Result<(), StoreError> {
        check_host_key(key)?;
        check_host_insert(&insert)?;
        self.inner.insert(key, insert)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_host_key(key)?;
        self.inner.delete(key)
    }

    fn list(&self, req: &ListRequest) -> Result<ListPage, StoreError> {
        check_host_list(req)?;
        self.inner.list(req)
    }

    fn len(&self) -> usize {
        self.inner.len()
    }
}
