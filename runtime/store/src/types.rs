//! The storage trait and the plain data that crosses it.

use std::time::Duration;

use bytes::Bytes;

use crate::StoreError;

/// Number of keys a listing returns when the request names no limit (the platform default).
pub const DEFAULT_LIST_LIMIT: u64 = 1000;

/// Largest generation a store hands out: `Number.MAX_SAFE_INTEGER`, so that a generation
/// survives a round trip through a JS number unchanged.
pub const MAX_GENERATION: u64 = (1 << 53) - 1;

/// A live entry, as returned by [`KvStore::lookup`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// The stored bytes.
    pub value: Bytes,
    /// The metadata of the write that produced this entry, if that write supplied any.
    pub metadata: Option<Bytes>,
    /// Changes on every write of the key; at most [`MAX_GENERATION`].
    pub generation: u64,
    /// When the entry expires (`None`: never), for `serve --inspect`'s "TTL left"; the
    /// platform's API never shows it to the app.
    #[serde(default)]
    pub expires_at: Option<std::time::SystemTime>,
}

/// How [`KvStore::insert`] combines the new value with an existing one (`put`'s `mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum InsertMode {
    /// Replace any existing value.
    #[default]
    Overwrite,
    /// Write only if the key is absent (an expired key is absent), else
    /// [`StoreError::PreconditionFailed`].
    Add,
    /// Put the new bytes after the existing value; create the key if absent.
    Append,
    /// Put the new bytes before the existing value; create the key if absent.
    Prepend,
}

/// One write (`put`). Whatever the mode, the resulting record takes exactly this write's
/// metadata (`None` clears it), TTL and a new generation.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Insert {
    /// The bytes to write (or to join, for append/prepend).
    pub value: Bytes,
    /// Metadata for the record; `Some` of zero bytes is refused by the host-side checks.
    pub metadata: Option<Bytes>,
    /// Time to live; `None` keeps the entry until overwritten or deleted,
    /// `Some(Duration::ZERO)` makes it expire at once.
    pub ttl: Option<Duration>,
    /// How to combine with an existing value.
    pub mode: InsertMode,
    /// If the key exists, write only if its generation equals this one, else
    /// [`StoreError::PreconditionFailed`]. Ignored when the key does not exist.
    pub if_generation_match: Option<u64>,
}

/// One page request of [`KvStore::list`].
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ListRequest {
    /// Only keys starting with this string.
    pub prefix: Option<String>,
    /// At most this many keys; `None` (and `Some(0)`) mean [`DEFAULT_LIST_LIMIT`].
    pub limit: Option<u64>,
    /// The `cursor` of the previous page: list strictly after the key it encodes.
    pub cursor: Option<String>,
}

/// One page of keys.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListPage {
    /// Matching keys in byte-lexicographic order.
    pub keys: Vec<String>,
    /// Standard padded base64 of the last key in `keys`, present only when more matching
    /// keys follow it.
    pub cursor: Option<String>,
}

/// A key-value store as the `fastly:kv-store` binding sees it.
///
/// Implementations are synchronous and thread-safe; each operation is atomic for its key.
/// Backends need not repeat the host-side key checks: [`Stores`](crate::Stores) wraps every
/// store it holds in [`HostChecked`](crate::HostChecked), which applies them.
pub trait KvStore: Send + Sync + 'static {
    /// The live entry under `key`, or `None` if it is absent or expired.
    ///
    /// # Errors
    /// A status error of the store ([`StoreError`]).
    fn lookup(&self, key: &str) -> Result<Option<Entry>, StoreError>;

    /// Writes `insert` under `key` according to its mode.
    ///
    /// # Errors
    /// [`StoreError::PreconditionFailed`] when `add` meets a live key or
    /// `if_generation_match` differs from a live key's generation; other status errors of
    /// the store.
    fn insert(&self, key: &str, insert: Insert) -> Result<(), StoreError>;

    /// Removes `key`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the key is absent or expired (as in production; the
    /// Viceroy local server succeeds instead).
    fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// One page of live keys.
    ///
    /// # Errors
    /// [`StoreError::BadRequest`] when the cursor is not standard base64 of a UTF-8 string.
    fn list(&self, req: &ListRequest) -> Result<ListPage, StoreError>;

    /// Number of live (non-expired) entries, for the start-up log.
    fn len(&self) -> usize;

    /// Whether the store holds no live entry.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
