//! What only the SQLite backend has: a file that outlives its handles and is shared by
//! several of them (as by several servers), the schema version, and open errors.
//! Everything else it does is checked by the shared suite in `tests.rs`.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, UNIX_EPOCH};

use crate::*;

fn t0() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn open(dir: &Path, store: &str, clock: &Arc<ManualClock>) -> SqliteStore {
    SqliteStore::open_in(dir, store, clock.clone()).unwrap()
}

fn ins(value: &str, mode: InsertMode) -> Insert {
    Insert {
        value: Bytes::copy_from_slice(value.as_bytes()),
        mode,
        ..Insert::default()
    }
}

fn text(store: &dyn KvStore, key: &str) -> Option<String> {
    store
        .lookup(key)
        .unwrap()
        .map(|e| String::from_utf8(e.value.to_vec()).unwrap())
}

/// Rows in the file for `store`, expired or not, read behind the backend's back.
fn raw_rows(dir: &Path, store: &str) -> i64 {
    let conn = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    conn.query_row(
        "SELECT count(*) FROM entries WHERE store = ?1",
        [store],
        |row| row.get(0),
    )
    .unwrap()
}

#[test]
fn records_survive_reopening_with_generation_metadata_and_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let store = open(dir.path(), "s", &clock);
    store
        .insert(
            "k",
            Insert {
                metadata: Some(Bytes::from_static(b"m")),
                ..ins("v", InsertMode::Overwrite)
            },
        )
        .unwrap();
    store
        .insert(
            "ttl",
            Insert {
                ttl: Some(Duration::from_secs(60)),
                ..ins("soon gone", InsertMode::Overwrite)
            },
        )
        .unwrap();
    let before = store.lookup("k").unwrap().unwrap();
    drop(store);

    let store = open(dir.path(), "s", &clock);
    assert_eq!(store.lookup("k").unwrap(), Some(before.clone()));
    assert_eq!(text(&store, "ttl").as_deref(), Some("soon gone"));
    assert_eq!(store.len(), 2);
    // The expiry is absolute: time spent with no handle open counts.
    clock.advance(Duration::from_secs(60));
    drop(store);
    let store = open(dir.path(), "s", &clock);
    assert_eq!(store.lookup("ttl").unwrap(), None);
    assert_eq!(raw_rows(dir.path(), "s"), 1, "swept at open");

    // Generations keep growing across handles even with the clock set back.
    clock.set(t0() - Duration::from_secs(3600));
    store.insert("k", ins("w", InsertMode::Overwrite)).unwrap();
    assert!(store.lookup("k").unwrap().unwrap().generation > before.generation);
}

#[test]
fn stores_in_one_file_are_separate() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let a = open(dir.path(), "a", &clock);
    let b = open(dir.path(), "b", &clock);
    a.insert("k", ins("in a", InsertMode::Overwrite)).unwrap();
    a.insert("only-a", ins("x", InsertMode::Overwrite)).unwrap();
    b.insert("k", ins("in b", InsertMode::Overwrite)).unwrap();
    assert_eq!(text(&a, "k").as_deref(), Some("in a"));
    assert_eq!(text(&b, "k").as_deref(), Some("in b"));
    assert_eq!(b.lookup("only-a").unwrap(), None);
    assert_eq!((a.len(), b.len()), (2, 1));
    let all = ListRequest::default();
    assert_eq!(b.list(&all).unwrap().keys, ["k"]);
    assert_eq!(b.delete("only-a"), Err(StoreError::NotFound));
    assert_eq!(
        b.insert("k", ins("x", InsertMode::Add)),
        Err(StoreError::PreconditionFailed)
    );
    a.insert("new", ins("x", InsertMode::Add)).unwrap();
    // One generation counter per file: no two records share a generation.
    let generations: HashSet<u64> = [(&a, "k"), (&a, "new"), (&b, "k")]
        .iter()
        .map(|(store, key)| store.lookup(key).unwrap().unwrap().generation)
        .collect();
    assert_eq!(generations.len(), 3);
}

/// Two handles on one file, as two servers sharing a state folder have: every append of
/// every thread lands exactly once, and of racing adds exactly one wins.
#[test]
fn two_handles_on_one_file_lose_no_append_and_let_one_add_win() {
    const THREADS: usize = 8;
    const APPENDS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let handles: [Arc<dyn KvStore>; 2] = [
        Arc::new(open(dir.path(), "s", &clock)),
        Arc::new(open(dir.path(), "s", &clock)),
    ];

    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = handles[t % 2].clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                for i in 0..APPENDS {
                    store
                        .insert("log", ins(&format!("<{t}.{i}>"), InsertMode::Append))
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let log = text(&*handles[0], "log").unwrap();
    crate::tests::assert_each_token_once(&log, THREADS, APPENDS);

    crate::tests::race_adds_across(&handles, THREADS, 20);
}

#[test]
fn expired_records_are_swept_while_writing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let store = open(dir.path(), "s", &clock);
    for i in 0..10 {
        let insert = Insert {
            ttl: Some(Duration::from_secs(1)),
            ..ins("v", InsertMode::Overwrite)
        };
        store.insert(&format!("t{i}"), insert).unwrap();
    }
    clock.advance(Duration::from_secs(1));
    assert_eq!(raw_rows(dir.path(), "s"), 10);
    for _ in 0..1024 {
        store.insert("k", ins("v", InsertMode::Overwrite)).unwrap();
    }
    assert_eq!(raw_rows(dir.path(), "s"), 1);
}

#[test]
fn the_file_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let store = open(dir.path(), "s", &clock);
    store.insert("k", ins("v", InsertMode::Overwrite)).unwrap();
    assert_eq!(store.path(), dir.path().join("kv.sqlite3"));
    assert_eq!(store.store(), "s");
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert!(format!("{store:?}").contains("kv.sqlite3"));
}

#[test]
fn open_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(t0()));

    let missing = dir.path().join("no-such-folder");
    let error = SqliteStore::open_in(&missing, "s", clock.clone()).unwrap_err();
    let path = missing.join("kv.sqlite3");
    assert_eq!(error.path, path);
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot open the KV database {}: ", path.display())),
        "{error}"
    );

    let garbage = dir.path().join("garbage.sqlite3");
    std::fs::write(&garbage, vec![b'x'; 4096]).unwrap();
    let error = SqliteStore::open(&garbage, "s", clock.clone()).unwrap_err();
    assert!(error.to_string().contains("not a database"), "{error}");

    let newer = dir.path().join("newer.sqlite3");
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 2)
        .unwrap();
    let error = SqliteStore::open(&newer, "s", clock).unwrap_err();
    assert!(
        error.to_string().contains("written by a newer edgeshim"),
        "{error}"
    );
}

/// The database file removed while a server runs (its state folder deleted, say): every call
/// fails with `Internal error.`, whose detail says what happened and what to do, rather than
/// writing on into a file no one will read again. When a database is back at the path
/// (another server recreated the folder, a backup restored), the store reopens it by itself.
#[cfg(unix)]
#[test]
fn a_removed_database_fails_calls_and_one_put_back_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let store = open(dir.path(), "s", &clock);
    store
        .insert("k", ins("before", InsertMode::Overwrite))
        .unwrap();
    let file = dir.path().join(DATABASE_FILE);
    let saved = dir.path().join("saved.sqlite3");
    // A checkpoint first, so that the copy holds every write without its -wal file.
    {
        let conn = rusqlite::Connection::open(&file).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    std::fs::copy(&file, &saved).unwrap();
    for name in [DATABASE_FILE, "kv.sqlite3-wal", "kv.sqlite3-shm"] {
        let _ = std::fs::remove_file(dir.path().join(name));
    }
    let removed = format!(
        "sqlite: {} was removed while the server ran; restart edgeshim to start afresh \
         (seeds are applied at start), or put the file back",
        file.display()
    );
    assert_eq!(
        store.lookup("k"),
        Err(StoreError::InternalError(removed.clone()))
    );
    assert_eq!(
        store.insert("k", ins("lost", InsertMode::Overwrite)),
        Err(StoreError::InternalError(removed.clone()))
    );
    assert_eq!(
        store.delete("k"),
        Err(StoreError::InternalError(removed.clone()))
    );
    assert_eq!(
        store.list(&ListRequest::default()).map(|p| p.keys),
        Err(StoreError::InternalError(removed))
    );
    assert_eq!(store.len(), 0);
    assert_eq!(
        StoreError::InternalError(String::new()).to_string(),
        "Internal error."
    );

    // Put back: the next call reopens it and works on.
    std::fs::rename(&saved, &file).unwrap();
    assert_eq!(text(&store, "k").as_deref(), Some("before"));
    store
        .insert("k", ins(" after", InsertMode::Append))
        .unwrap();
    assert_eq!(text(&store, "k").as_deref(), Some("before after"));
    // And another handle on the file sees that write: both use the file at the path.
    let other = open(dir.path(), "s", &clock);
    assert_eq!(text(&other, "k").as_deref(), Some("before after"));
}
