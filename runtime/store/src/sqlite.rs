//! The durable backend: one SQLite database file holding every store of a state folder.
//!
//! # Layout
//!
//! One table, `entries`, keyed by `(store, key)`; keys are stored as BLOBs of their UTF-8
//! bytes, which SQLite compares with `memcmp`: byte order, the order listings need. A
//! one-row table, `generation`, holds the last generation handed out for the whole file.
//! Expiry times are absolute (nanoseconds since the UNIX epoch, from the injected
//! [`Clock`]), so a TTL keeps running while the server is stopped.
//!
//! # Atomicity
//!
//! Every write (insert in any mode, with or without a generation check, and delete) is one
//! `BEGIN IMMEDIATE` transaction: it takes the database's write lock before reading the
//! record it will replace, so a concurrent writer, in this process or another one sharing the
//! file, waits (the busy timeout) instead of interleaving. An append is therefore never lost
//! nor doubled, and of racing `add`s exactly one wins. Reads are single statements, each a
//! consistent snapshot, and never wait for the writers of other handles (WAL mode).
//!
//! # Durability
//!
//! [`KvStore::insert`] returns only after its transaction has committed. The database runs
//! in WAL mode with `synchronous=NORMAL`: a commit appends the transaction to the `-wal` file
//! with `write()` before returning, and fsyncs only at checkpoints. Data handed to `write()`
//! is in the operating system's page cache, which outlives the process, so a server killed
//! with SIGKILL right after an acknowledged write loses nothing; only a power loss or kernel
//! crash can lose the last commits, and even then the database is never corrupted. `FULL`
//! would fsync on every commit, costing far more than a local emulator needs.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use parking_lot::{Mutex, MutexGuard};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::rules::{self, Existing, Page};
use crate::{Clock, Entry, Insert, KvStore, ListPage, ListRequest, StoreError};

/// The database file's name inside a state folder.
pub const DATABASE_FILE: &str = "kv.sqlite3";

/// The layout this code reads and writes, kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

/// How long a write waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Expired records are deleted at open and on every this many writes of a handle (they are
/// ignored by every read in between).
const SWEEP_EVERY: u64 = 1024;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS entries (
        store      TEXT    NOT NULL,
        key        BLOB    NOT NULL,
        value      BLOB    NOT NULL,
        metadata   BLOB,
        generation INTEGER NOT NULL,
        expires_ns INTEGER,
        PRIMARY KEY (store, key)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS entries_expiry
        ON entries (store, expires_ns) WHERE expires_ns IS NOT NULL;
    CREATE TABLE IF NOT EXISTS generation (
        id   INTEGER PRIMARY KEY CHECK (id = 0),
        last INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO generation (id, last) VALUES (0, 0);
";

/// A record is live when it never expires or expires after now (`?3`).
const LOOKUP: &str = "SELECT value, metadata, generation, expires_ns FROM entries
    WHERE store = ?1 AND key = ?2 AND (expires_ns IS NULL OR expires_ns > ?3)";
const LIVE_GENERATION: &str = "SELECT generation FROM entries
    WHERE store = ?1 AND key = ?2 AND (expires_ns IS NULL OR expires_ns > ?3)";
const LIVE_GENERATION_AND_VALUE: &str = "SELECT generation, value FROM entries
    WHERE store = ?1 AND key = ?2 AND (expires_ns IS NULL OR expires_ns > ?3)";
const LAST_GENERATION: &str = "SELECT last FROM generation WHERE id = 0";
const SET_LAST_GENERATION: &str = "UPDATE generation SET last = ?1 WHERE id = 0";
const WRITE: &str = "INSERT OR REPLACE INTO entries
    (store, key, value, metadata, generation, expires_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const DELETE: &str = "DELETE FROM entries WHERE store = ?1 AND key = ?2 RETURNING expires_ns";
const SWEEP: &str = "DELETE FROM entries
    WHERE store = ?1 AND expires_ns IS NOT NULL AND expires_ns <= ?2";
const COUNT: &str = "SELECT count(*) FROM entries
    WHERE store = ?1 AND (expires_ns IS NULL OR expires_ns > ?2)";

/// Why a database could not be opened; the message names the file.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the KV database {}: {detail}", path.display())]
pub struct OpenError {
    /// The database file.
    pub path: PathBuf,
    /// What went wrong.
    pub detail: String,
}

/// One named store in a SQLite database file, durable across restarts and shareable by
/// several handles and processes (see the module docs of `sqlite.rs` for the guarantees).
///
/// Each handle has its own connection behind a mutex: operations of one handle run one at a
/// time, and SQLite orders the writes of all handles. It does not apply the host-side key
/// checks itself; see [`HostChecked`](crate::HostChecked).
pub struct SqliteStore {
    store: String,
    path: PathBuf,
    clock: Arc<dyn Clock>,
    conn: Mutex<Open>,
    writes: AtomicU64,
}

/// The connection, and which file it opened.
struct Open {
    conn: Connection,
    file: Option<FileId>,
}

/// A file's identity (device and inode): a path whose file was replaced shows a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId(u64, u64);

impl FileId {
    /// The identity of the file at `path`; `None` where identities cannot be read (not Unix).
    fn of(path: &Path) -> std::io::Result<Option<Self>> {
        let metadata = std::fs::metadata(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Ok(Some(Self(metadata.dev(), metadata.ino())))
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            Ok(None)
        }
    }
}

impl SqliteStore {
    /// Opens store `store` in the database file `path`, creating the file (not its folder)
    /// and the tables if missing, and deletes the store's expired records.
    ///
    /// # Errors
    /// The file cannot be opened or created, is not a database, cannot use WAL mode, or was
    /// written by a newer edgeshim.
    pub fn open(path: &Path, store: &str, clock: Arc<dyn Clock>) -> Result<Self, OpenError> {
        let fail = |detail: String| OpenError {
            path: path.to_owned(),
            detail,
        };
        let mut conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
        prepare(&mut conn).map_err(fail)?;
        let file = FileId::of(path).map_err(|e| fail(e.to_string()))?;
        let this = Self {
            store: store.to_owned(),
            path: path.to_owned(),
            clock,
            conn: Mutex::new(Open { conn, file }),
            writes: AtomicU64::new(0),
        };
        this.sweep().map_err(|e| fail(detail(&e)))?;
        Ok(this)
    }

    /// Opens store `store` in `state_dir`'s database file, [`DATABASE_FILE`].
    ///
    /// # Errors
    /// As [`SqliteStore::open`].
    pub fn open_in(
        state_dir: &Path,
        store: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, OpenError> {
        Self::open(&state_dir.join(DATABASE_FILE), store, clock)
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The store's name inside the file.
    #[must_use]
    pub fn store(&self) -> &str {
        &self.store
    }

    /// The connection to the database file now at [`SqliteStore::path`]. A file removed
    /// while the server runs (the state folder deleted, say) fails every call with a detail
    /// saying so, instead of writing on into a file nobody will ever read again; a file put
    /// back, or replaced (another server recreated the folder, a backup restored), is
    /// reopened, so the store recovers by itself.
    fn connection(&self) -> Result<MutexGuard<'_, Open>, StoreError> {
        let mut open = self.conn.lock();
        let file = FileId::of(&self.path).map_err(|e| {
            StoreError::InternalError(if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "sqlite: {} was removed while the server ran; restart edgeshim to start \
                     afresh (seeds are applied at start), or put the file back",
                    self.path.display()
                )
            } else {
                format!("sqlite: {}: {e}", self.path.display())
            })
        })?;
        if file != open.file {
            let mut conn = Connection::open(&self.path).sql()?;
            prepare(&mut conn).map_err(|e| StoreError::InternalError(format!("sqlite: {e}")))?;
            *open = Open { conn, file };
        }
        Ok(open)
    }

    /// Deletes the store's expired records.
    fn sweep(&self) -> Result<(), StoreError> {
        let now = nanos(self.clock.now());
        self.connection()?
            .conn
            .prepare_cached(SWEEP)
            .and_then(|mut sweep| sweep.execute(params![self.store, now]))
            .sql()?;
        Ok(())
    }

    fn write(&self, tx: &Transaction<'_>, key: &str, insert: Insert) -> Result<(), StoreError> {
        let now = self.clock.now();
        let now_ns = nanos(now);
        let existing = if rules::needs_existing_value(&insert) {
            tx.prepare_cached(LIVE_GENERATION_AND_VALUE)
                .and_then(|mut select| {
                    select
                        .query_row(params![self.store, key.as_bytes(), now_ns], |row| {
                            Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
                        })
                        .optional()
                })
                .sql()?
                .map(|(generation, value)| (generation, Bytes::from(value)))
        } else {
            tx.prepare_cached(LIVE_GENERATION)
                .and_then(|mut select| {
                    select
                        .query_row(params![self.store, key.as_bytes(), now_ns], |row| {
                            row.get::<_, i64>(0)
                        })
                        .optional()
                })
                .sql()?
                .map(|generation| (generation, Bytes::new()))
        };
        let existing = existing
            .map(|(generation, value)| {
                Ok::<_, StoreError>(Existing {
                    generation: generation_from_sql(generation)?,
                    value,
                })
            })
            .transpose()?;
        let value = rules::merged_value(&insert, existing.as_ref())?;

        let last = tx
            .prepare_cached(LAST_GENERATION)
            .and_then(|mut select| select.query_row([], |row| row.get::<_, i64>(0)))
            .sql()?;
        let generation = rules::next_generation(generation_from_sql(last)?, now)?;
        let generation_sql = generation_to_sql(generation)?;
        tx.prepare_cached(SET_LAST_GENERATION)
            .and_then(|mut update| update.execute([generation_sql]))
            .sql()?;

        // An expiry past what the column holds (the year 2262) means "never" in practice.
        let expires_ns = rules::expires_at(now, insert.ttl).and_then(nanos_checked);
        tx.prepare_cached(WRITE)
            .and_then(|mut write| {
                write.execute(params![
                    self.store,
                    key.as_bytes(),
                    value.as_ref(),
                    insert.metadata.as_deref(),
                    generation_sql,
                    expires_ns,
                ])
            })
            .sql()?;

        if self.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            tx.prepare_cached(SWEEP)
                .and_then(|mut sweep| sweep.execute(params![self.store, now_ns]))
                .sql()?;
        }
        Ok(())
    }
}

/// Configures a fresh connection and brings the file's tables to [`SCHEMA_VERSION`].
fn prepare(conn: &mut Connection) -> Result<(), String> {
    // Set first, so that everything below also waits for other processes' locks.
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| e.to_string())?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(|e| e.to_string())?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!(
            "its file system does not support WAL mode (journal mode stays {mode}); \
             use a state folder on a local disk"
        ));
    }
    // See the module docs: with WAL, NORMAL survives a process kill.
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| e.to_string())?;

    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| e.to_string())?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| e.to_string())?;
    if version > SCHEMA_VERSION {
        return Err(format!(
            "it was written by a newer edgeshim (schema version {version}, this one reads \
             {SCHEMA_VERSION}); upgrade edgeshim or use another --state-dir"
        ));
    }
    tx.execute_batch(SCHEMA).map_err(|e| e.to_string())?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())
}

/// Turns SQLite failures into [`StoreError::InternalError`], whose detail reaches the logs.
trait Sql<T> {
    fn sql(self) -> Result<T, StoreError>;
}

impl<T> Sql<T> for rusqlite::Result<T> {
    fn sql(self) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::InternalError(format!("sqlite: {e}")))
    }
}

/// The detail of an error, for [`OpenError`].
fn detail(error: &StoreError) -> String {
    match error {
        StoreError::InternalError(detail) => detail.clone(),
        other => other.to_string(),
    }
}

/// Nanoseconds since the UNIX epoch (negative before it), saturating at the `i64` range.
fn nanos(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

/// The time `nanos` (since the UNIX epoch, negative before it) stands for.
fn from_nanos(nanos: i64) -> SystemTime {
    let magnitude = Duration::from_nanos(nanos.unsigned_abs());
    if nanos >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// Nanoseconds since the UNIX epoch, or `None` past the `i64` range (the year 2262).
fn nanos_checked(t: SystemTime) -> Option<i64> {
    match nanos(t) {
        i64::MAX => None,
        n => Some(n),
    }
}

fn generation_from_sql(generation: i64) -> Result<u64, StoreError> {
    u64::try_from(generation).map_err(|_| {
        StoreError::InternalError(format!("stored generation {generation} is negative"))
    })
}

fn generation_to_sql(generation: u64) -> Result<i64, StoreError> {
    i64::try_from(generation)
        .map_err(|_| StoreError::InternalError(format!("generation {generation} is too large")))
}

fn key_from_sql(key: Vec<u8>) -> Result<String, StoreError> {
    String::from_utf8(key)
        .map_err(|_| StoreError::InternalError("a stored key is not UTF-8".to_owned()))
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl KvStore for SqliteStore {
    fn lookup(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let now = nanos(self.clock.now());
        let open = self.connection()?;
        let row = open
            .conn
            .prepare_cached(LOOKUP)
            .and_then(|mut select| {
                select
                    .query_row(params![self.store, key.as_bytes(), now], |row| {
                        Ok((
                            row.get::<_, Vec<u8>>(0)?,
                            row.get::<_, Option<Vec<u8>>>(1)?,
                            row.get::<_, i64>(2)?,
                            row.get::<_, Option<i64>>(3)?,
                        ))
                    })
                    .optional()
            })
            .sql()?;
        row.map(|(value, metadata, generation, expires_ns)| {
            Ok(Entry {
                value: Bytes::from(value),
                metadata: metadata.map(Bytes::from),
                generation: generation_from_sql(generation)?,
                expires_at: expires_ns.map(from_nanos),
            })
        })
        .transpose()
    }

    fn insert(&self, key: &str, insert: Insert) -> Result<(), StoreError> {
        let mut open = self.connection()?;
        let tx = open
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sql()?;
        // On an error the transaction is dropped, which rolls it back: nothing is written.
        self.write(&tx, key, insert)?;
        tx.commit().sql()
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let now = nanos(self.clock.now());
        let mut open = self.connection()?;
        let tx = open
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sql()?;
        // An expired record is deleted too, but reported as absent.
        let deleted = tx
            .prepare_cached(DELETE)
            .and_then(|mut delete| {
                delete
                    .query_row(params![self.store, key.as_bytes()], |row| {
                        row.get::<_, Option<i64>>(0)
                    })
                    .optional()
            })
            .sql()?;
        tx.commit().sql()?;
        match deleted {
            Some(expires_ns) if expires_ns.is_none_or(|at| now < at) => Ok(()),
            _ => Err(StoreError::NotFound),
        }
    }

    fn list(&self, req: &ListRequest) -> Result<ListPage, StoreError> {
        let page = Page::new(req)?;
        let (lower, from) = match &page.start {
            Bound::Included(key) => (">=", key.as_str()),
            Bound::Excluded(key) => (">", key.as_str()),
            Bound::Unbounded => (">=", ""),
        };
        let end = page.end();
        let upper = if end.is_some() { "AND key < ?3" } else { "" };
        // Every key is bound as a BLOB: SQLite orders a TEXT before any BLOB, so one key
        // bound as TEXT would silently break the byte order.
        let sql = format!(
            "SELECT key FROM entries WHERE store = ?1 AND key {lower} ?2 {upper}
             AND (expires_ns IS NULL OR expires_ns > ?4) ORDER BY key LIMIT ?5"
        );
        // One more than the page holds tells whether a next page exists.
        let fetch = i64::try_from(page.limit.saturating_add(1)).unwrap_or(i64::MAX);
        let now = nanos(self.clock.now());
        let open = self.connection()?;
        let rows = open
            .conn
            .prepare_cached(&sql)
            .and_then(|mut select| {
                select
                    .query_map(
                        params![self.store, from.as_bytes(), end, now, fetch],
                        |row| row.get::<_, Vec<u8>>(0),
                    )?
                    .collect::<Result<Vec<_>, _>>()
            })
            .sql()?;
        drop(open);
        let more = rows.len() > page.limit;
        let keys = rows
            .into_iter()
            .take(page.limit)
            .map(key_from_sql)
            .collect::<Result<Vec<_>, _>>()?;
        let cursor = Page::cursor(&keys, more);
        Ok(ListPage { keys, cursor })
    }

    fn len(&self) -> usize {
        let now = nanos(self.clock.now());
        let Ok(open) = self.connection() else {
            return 0;
        };
        let count = open.conn.prepare_cached(COUNT).and_then(|mut select| {
            select.query_row(params![self.store, now], |row| row.get::<_, i64>(0))
        });
        // `len` only feeds the start-up log; a failing database shows as empty there and
        // fails loudly on the first real operation.
        count
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    }
}
