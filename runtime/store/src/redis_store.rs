//! The shared backend: named stores kept in a Redis server, so that several edgeshim
//! processes (on one machine or several) see one store.
//!
//! # Key layout
//!
//! Every key starts with a configurable prefix, [`DEFAULT_REDIS_KEY_PREFIX`] (`edgeshim:`)
//! unless [`RedisStore::connect_with_prefix`] names another, so that several deployments or
//! test suites can share one Redis database. With `<p>` the prefix, `<store>` the store's name and
//! `<key>` the entry's key (its UTF-8 bytes, unescaped):
//!
//! | Redis key                     | Type       | Holds                                          |
//! |-------------------------------|------------|------------------------------------------------|
//! | `<p>gen`                      | string     | the last generation handed out, for every store under `<p>` |
//! | `<p>{<store>}:keys`           | sorted set | every key of the store, all at score 0         |
//! | `<p>{<store>}:expiry`         | sorted set | the keys that have a TTL, scored by their expiry (µs since the UNIX epoch) |
//! | `<p>{<store>}:v:<key>`        | hash       | one record: `value`, `metadata` (absent when none), `gen` (decimal), `expires` (decimal µs since the UNIX epoch; absent when never) |
//!
//! In `{<store>}` the characters `%`, `{` and `}` of the store name are percent-encoded, so
//! the braces always close at the same place and no two (store, key) pairs share a Redis
//! key. With all members at one score, `ZRANGEBYLEX` walks `:keys` in byte order, the order
//! listings need.
//!
//! It needs Redis 4.0 or later (or Valkey), standalone: the braces are Redis Cluster hash
//! tags, but the generation counter is shared by all stores, and the listing and sweeping
//! scripts reach records through key names they build (a standalone server allows that).
//!
//! # Atomicity
//!
//! Every write is one Lua script (`EVALSHA`, loaded again if the server forgot it), and
//! Redis runs scripts one at a time: reading the live record, the generation check, the
//! insert mode (overwrite, add, append, prepend), taking the next generation and writing the
//! record, `:keys` and `:expiry` cannot interleave with another write from any process. An
//! append is never lost nor doubled, and of racing `add`s exactly one wins. A lookup is one
//! `HMGET`. The scripts follow the rules of `rules.rs` (the generation is `max(last + 1,
//! now in µs)`, refused above 2^53 - 1; a live record's generation must match; `add` meets no
//! live record; every write takes exactly its own metadata and TTL); the shared suite holds
//! them to it.
//!
//! # Expiry: two clocks
//!
//! Whether a record is live is decided by the injected [`Clock`], like in the other backends:
//! `expires` is stored in the record and compared with the caller's time by every read and
//! write, so an expired record is absent even while Redis still holds it, and tests with a
//! [`ManualClock`](crate::ManualClock) need no sleeping. Redis also gets the TTL (`PEXPIRE`,
//! rounded up to the millisecond) so that it frees the record by itself. That expiry is
//! *relative*, measured on Redis's own clock, rather than a `PEXPIREAT` of the injected
//! clock's deadline: a clock behind Redis's (a test clock in the past, or a skewed host) would
//! otherwise make Redis drop the record at once. With the system clock both agree to within
//! the hosts' clock skew; with a clock that does not follow wall time, Redis may drop a
//! record once its TTL has passed in real time even though the injected clock has not got
//! there.
//!
//! A record Redis dropped leaves its key in `:keys` (and `:expiry`); listings and [`len`]
//! skip such keys and remove them. Each write also deletes up to 16 records that have expired
//! by its clock (from `:expiry`), so expired entries do not pile up in a store nobody lists.
//! Expiry times are kept in microseconds: exact until the year 2255, like generations.
//!
//! # Connections and outages
//!
//! Each store keeps a small pool of connections (one per concurrent caller, at most
//! [`MAX_IDLE`] kept idle). When Redis cannot be reached, the affected calls fail with
//! [`StoreError::InternalError`] (whose detail names the URL), which the binding reports as
//! the platform's `Internal error.`; the next call connects anew, so the store recovers by
//! itself once Redis is back. A connection idle for a second is checked with `PING` before
//! use, and reads that fail on an old connection are retried once on a new one; writes are
//! never retried, since a write may have run before its reply was lost (so a write that
//! fails with `Internal error.` may or may not have taken effect, as on the platform).
//!
//! [`len`]: KvStore::len

use std::ops::Bound;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ::redis::{
    Client, Connection, ConnectionLike as _, ErrorKind, RedisError, RedisResult, Script,
};
use bytes::Bytes;
use parking_lot::Mutex;

use crate::rules::{self, Page};
use crate::{
    Clock, Entry, Insert, InsertMode, KvStore, ListPage, ListRequest, StoreError, MAX_GENERATION,
};

/// The key prefix of [`RedisStore::connect`].
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "edgeshim:";

/// How long connecting to Redis may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one command may wait for its reply (a 30 MiB value takes milliseconds).
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection idle for longer than this is checked with `PING` before it is used.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// At most this many idle connections are kept per store.
const MAX_IDLE: usize = 16;

/// Records past their deadline that one write deletes.
const SWEEP_PER_WRITE: usize = 16;

/// Keys [`KvStore::len`] examines per script call, so a large store never blocks Redis for
/// long.
const LEN_BATCH: usize = 1000;

/// A TTL past this many milliseconds (about 35,000 years) gets no Redis expiry: Redis
/// refuses expiry times that overflow, and the stored deadline still applies.
const MAX_REDIS_TTL_MS: u128 = 1 << 50;

/// The liveness test every script uses: a record exists (`gen` set) and its `expires`, if
/// any, is after `now`.
const LIVE_LUA: &str = "
local function live(record, now)
  return record[1] and (not record[2] or now < tonumber(record[2]))
end
";

/// KEYS: record, keys, expiry, counter. ARGV: key, mode, value, metadata, has metadata
/// ('1'/'0'), expected generation ('' for none), now (µs), largest generation, expires (µs,
/// '' for never), Redis TTL (ms, '' for none), record prefix, sweep count.
/// Returns 'ok', 'precondition' or 'generation' (the next one would be too large).
const INSERT_LUA: &str = "
local record_key, keys, expiry, counter = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local key, mode, value = ARGV[1], ARGV[2], ARGV[3]
local now = tonumber(ARGV[7])

local expired = redis.call('ZRANGEBYSCORE', expiry, '-inf', ARGV[7], 'LIMIT', 0, ARGV[12])
for _, old in ipairs(expired) do
  redis.call('DEL', ARGV[11] .. old)
  redis.call('ZREM', keys, old)
  redis.call('ZREM', expiry, old)
end

local record = redis.call('HMGET', record_key, 'gen', 'expires')
if live(record, now) then
  if ARGV[6] ~= '' and record[1] ~= ARGV[6] then
    return 'precondition'
  end
  if mode == 'add' then
    return 'precondition'
  elseif mode == 'append' then
    value = redis.call('HGET', record_key, 'value') .. value
  elseif mode == 'prepend' then
    value = value .. redis.call('HGET', record_key, 'value')
  end
end

local last = tonumber(redis.call('GET', counter) or '0')
local generation = math.max(last + 1, now)
if generation > tonumber(ARGV[8]) then
  return 'generation'
end
generation = string.format('%d', generation)
redis.call('SET', counter, generation)

redis.call('DEL', record_key)
if ARGV[9] ~= '' and tonumber(ARGV[9]) <= now then
  redis.call('ZREM', keys, key)
  redis.call('ZREM', expiry, key)
  return 'ok'
end
local fields = {'value', value, 'gen', generation}
if ARGV[5] == '1' then
  fields[#fields + 1] = 'metadata'
  fields[#fields + 1] = ARGV[4]
end
if ARGV[9] ~= '' then
  fields[#fields + 1] = 'expires'
  fields[#fields + 1] = ARGV[9]
end
redis.call('HSET', record_key, unpack(fields))
redis.call('ZADD', keys, 0, key)
if ARGV[9] ~= '' then
  redis.call('ZADD', expiry, ARGV[9], key)
else
  redis.call('ZREM', expiry, key)
end
if ARGV[10] ~= '' then
  redis.call('PEXPIRE', record_key, ARGV[10])
end
return 'ok'
";

/// KEYS: record, keys, expiry. ARGV: key, now (µs). Returns 1 if a live record was deleted;
/// an expired one is deleted too, but reported as absent (0).
const DELETE_LUA: &str = "
local record = redis.call('HMGET', KEYS[1], 'gen', 'expires')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if live(record, tonumber(ARGV[2])) then
  return 1
end
return 0
";

/// KEYS: keys, expiry. ARGV: record prefix, min and max (`ZRANGEBYLEX` bounds), how many
/// live keys to return at most, now (µs). Returns live keys in byte order; removes keys whose
/// record Redis has dropped.
const LIST_LUA: &str = "
local keys, expiry, prefix = KEYS[1], KEYS[2], ARGV[1]
local min, max, want, now = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local batch = math.min(math.max(want, 16), 1000)
local out = {}
while true do
  local members = redis.call('ZRANGEBYLEX', keys, min, max, 'LIMIT', 0, batch)
  for _, key in ipairs(members) do
    local record = redis.call('HMGET', prefix .. key, 'gen', 'expires')
    if not record[1] then
      redis.call('ZREM', keys, key)
      redis.call('ZREM', expiry, key)
    elseif live(record, now) then
      out[#out + 1] = key
      if #out >= want then
        return out
      end
    end
  end
  if #members < batch then
    return out
  end
  min = '(' .. members[#members]
end
";

/// KEYS: keys, expiry. ARGV: record prefix, min (`ZRANGEBYLEX` bound), batch size, now (µs).
/// Returns {live keys among the next batch, 1 if more keys follow else 0, last key seen};
/// removes keys whose record Redis has dropped.
const COUNT_LUA: &str = "
local keys, expiry, prefix = KEYS[1], KEYS[2], ARGV[1]
local members = redis.call('ZRANGEBYLEX', keys, ARGV[2], '+', 'LIMIT', 0, tonumber(ARGV[3]))
local count = 0
for _, key in ipairs(members) do
  local record = redis.call('HMGET', prefix .. key, 'gen', 'expires')
  if not record[1] then
    redis.call('ZREM', keys, key)
    redis.call('ZREM', expiry, key)
  elseif live(record, tonumber(ARGV[4])) then
    count = count + 1
  end
end
local more = 0
if #members == tonumber(ARGV[3]) then
  more = 1
end
return {count, more, members[#members] or ''}
";

static INSERT: LazyLock<Script> = LazyLock::new(|| Script::new(&[LIVE_LUA, INSERT_LUA].concat()));
static DELETE: LazyLock<Script> = LazyLock::new(|| Script::new(&[LIVE_LUA, DELETE_LUA].concat()));
static LIST: LazyLock<Script> = LazyLock::new(|| Script::new(&[LIVE_LUA, LIST_LUA].concat()));
static COUNT: LazyLock<Script> = LazyLock::new(|| Script::new(&[LIVE_LUA, COUNT_LUA].concat()));

/// Why [`RedisStore::connect`] failed; the message names the URL (its password hidden).
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to the Redis KV backend at {url}: {detail}")]
pub struct RedisConnectError {
    /// The URL, with any password replaced by `***`.
    pub url: String,
    /// What went wrong.
    pub detail: String,
}

/// The Redis key names of one store.
struct Layout {
    /// `<p>{<store>}:v:`, followed by an entry's key.
    record_prefix: Vec<u8>,
    /// `<p>{<store>}:keys`
    keys: String,
    /// `<p>{<store>}:expiry`
    expiry: String,
    /// `<p>gen`
    counter: String,
}

impl Layout {
    fn new(prefix: &str, store: &str) -> Self {
        let tag = format!("{prefix}{{{}}}", escape_store(store));
        Self {
            record_prefix: format!("{tag}:v:").into_bytes(),
            keys: format!("{tag}:keys"),
            expiry: format!("{tag}:expiry"),
            counter: format!("{prefix}gen"),
        }
    }

    fn record(&self, key: &str) -> Vec<u8> {
        [self.record_prefix.as_slice(), key.as_bytes()].concat()
    }
}

/// Percent-encodes `%`, `{` and `}`, so that the store's hash tag closes at its own brace.
fn escape_store(store: &str) -> String {
    let mut escaped = String::with_capacity(store.len());
    for c in store.chars() {
        match c {
            '%' => escaped.push_str("%25"),
            '{' => escaped.push_str("%7B"),
            '}' => escaped.push_str("%7D"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// `url` with the password of its user information, if any, replaced by `***`.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    // `user:password@`; a lone `user@` has nothing to hide.
    let Some((user, _)) = rest[..at].split_once(':') else {
        return url.to_owned();
    };
    format!("{}{user}:***{}", &url[..scheme_end], &rest[at..])
}

/// An idle pooled connection and when it was last used.
struct Idle {
    conn: Connection,
    since: Instant,
}

/// One store's connections to one Redis server.
struct Pool {
    client: Client,
    /// The URL for messages, password hidden.
    url: String,
    idle: Mutex<Vec<Idle>>,
}

impl Pool {
    fn connect(&self) -> RedisResult<Connection> {
        let conn = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        conn.set_read_timeout(Some(IO_TIMEOUT))?;
        conn.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(conn)
    }

    /// A connection, and whether it was used before (and may have gone stale since).
    fn take(&self) -> RedisResult<(Connection, bool)> {
        loop {
            // Not held while connecting or pinging.
            let popped = self.idle.lock().pop();
            let Some(mut idle) = popped else {
                return Ok((self.connect()?, false));
            };
            if idle.since.elapsed() < PING_IDLE_AFTER {
                return Ok((idle.conn, true));
            }
            match ::redis::cmd("PING").query::<()>(&mut idle.conn) {
                Ok(()) => return Ok((idle.conn, true)),
                // The server went away: every idle connection to it is stale.
                Err(_) => self.idle.lock().clear(),
            }
        }
    }

    fn give_back(&self, conn: Connection) {
        if !conn.is_open() {
            return;
        }
        let mut idle = self.idle.lock();
        if idle.len() < MAX_IDLE {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    /// Runs `op` on a connection. A failure of the connection itself (not an error reply)
    /// drops it and the idle ones; if `idempotent`, `op` then runs once more on a new
    /// connection when the failed one was an old one.
    fn run<T>(
        &self,
        idempotent: bool,
        mut op: impl FnMut(&mut Connection) -> RedisResult<T>,
    ) -> Result<T, StoreError> {
        let (mut conn, reused) = self.take().map_err(|e| self.failure(&e))?;
        match op(&mut conn) {
            Ok(value) => {
                self.give_back(conn);
                Ok(value)
            }
            Err(error) if is_reply_error(&error) => {
                self.give_back(conn);
                Err(self.failure(&error))
            }
            Err(error) => {
                drop(conn);
                self.idle.lock().clear();
                if !(idempotent && reused) {
                    return Err(self.failure(&error));
                }
                let mut conn = self.connect().map_err(|e| self.failure(&e))?;
                let result = op(&mut conn);
                if result.is_ok() || result.as_ref().is_err_and(is_reply_error) {
                    self.give_back(conn);
                }
                result.map_err(|e| self.failure(&e))
            }
        }
    }

    fn failure(&self, error: &RedisError) -> StoreError {
        StoreError::InternalError(format!("redis at {}: {error}", self.url))
    }
}

/// Whether `error` is a reply of a working server (the connection stays usable), rather
/// than a failure of the connection.
fn is_reply_error(error: &RedisError) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Server(_) | ErrorKind::Extension | ErrorKind::UnexpectedReturnType
    )
}

/// One named store in a Redis server, shared by every handle and process using the same
/// server, key prefix and store name (the module docs of `redis_store.rs` give the key layout
/// and the guarantees).
///
/// It does not apply the host-side key checks itself; see [`HostChecked`](crate::HostChecked).
pub struct RedisStore {
    store: String,
    key_prefix: String,
    layout: Layout,
    clock: Arc<dyn Clock>,
    pool: Pool,
}

impl RedisStore {
    /// Connects to the Redis server at `url` (`redis://[[user]:password@]host[:port][/db]`)
    /// for store `store`, under [`DEFAULT_REDIS_KEY_PREFIX`].
    ///
    /// # Errors
    /// The URL does not parse, or the server cannot be reached, refuses the login, or does
    /// not run Lua scripts.
    pub fn connect(
        url: &str,
        store: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RedisConnectError> {
        Self::connect_with_prefix(url, DEFAULT_REDIS_KEY_PREFIX, store, clock)
    }

    /// As [`RedisStore::connect`], with every Redis key starting with `key_prefix` instead
    /// of [`DEFAULT_REDIS_KEY_PREFIX`]; stores under different prefixes are unrelated, even in one
    /// Redis database, and have their own generation counters.
    ///
    /// # Errors
    /// As [`RedisStore::connect`].
    pub fn connect_with_prefix(
        url: &str,
        key_prefix: &str,
        store: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RedisConnectError> {
        let redacted = redact(url);
        let fail = |detail: String| RedisConnectError {
            url: redacted.clone(),
            detail,
        };
        let client = Client::open(url).map_err(|e| fail(e.to_string()))?;
        let pool = Pool {
            client,
            url: redacted.clone(),
            idle: Mutex::new(Vec::new()),
        };
        let mut conn = pool.connect().map_err(|e| fail(e.to_string()))?;
        for script in [&*INSERT, &*DELETE, &*LIST, &*COUNT] {
            script
                .prepare_invoke()
                .load(&mut conn)
                .map_err(|e| fail(format!("cannot load a Lua script: {e}")))?;
        }
        pool.give_back(conn);
        Ok(Self {
            store: store.to_owned(),
            key_prefix: key_prefix.to_owned(),
            layout: Layout::new(key_prefix, store),
            clock,
            pool,
        })
    }

    /// The server's URL, password hidden.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.pool.url
    }

    /// The store's name.
    #[must_use]
    pub fn store(&self) -> &str {
        &self.store
    }

    /// The prefix of every Redis key of this store.
    #[must_use]
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }
}

/// The milliseconds Redis should keep a record with `ttl`: rounded up, so that Redis never
/// drops a record before its deadline; `None` for a TTL too long to give Redis.
fn redis_ttl_ms(ttl: Duration) -> Option<u128> {
    let ms = ttl.as_nanos().div_ceil(1_000_000);
    (ms <= MAX_REDIS_TTL_MS).then_some(ms)
}

fn from_micros(micros: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(micros)
}

fn parse_u64(bytes: &[u8], what: &str) -> Result<u64, StoreError> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| StoreError::InternalError(format!("a stored {what} is not a number")))
}

fn key_from_redis(key: Vec<u8>) -> Result<String, StoreError> {
    String::from_utf8(key)
        .map_err(|_| StoreError::InternalError("a stored key is not UTF-8".to_owned()))
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.pool.url)
            .field("key_prefix", &self.key_prefix)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl KvStore for RedisStore {
    fn lookup(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let now = rules::micros(self.clock.now());
        let record = self.layout.record(key);
        let fields: Vec<Option<Vec<u8>>> = self.pool.run(true, |conn| {
            ::redis::cmd("HMGET")
                .arg(&record)
                .arg(&["value", "metadata", "gen", "expires"])
                .query(conn)
        })?;
        let [value, metadata, generation, expires] = <[_; 4]>::try_from(fields)
            .map_err(|_| StoreError::InternalError("HMGET returned a wrong count".into()))?;
        let (Some(value), Some(generation)) = (value, generation) else {
            return Ok(None);
        };
        let expires = expires
            .map(|at| parse_u64(&at, "expiry").map(from_micros))
            .transpose()?;
        if !rules::is_live(expires, from_micros(now)) {
            return Ok(None);
        }
        Ok(Some(Entry {
            value: Bytes::from(value),
            metadata: metadata.map(Bytes::from),
            generation: parse_u64(&generation, "generation")?,
            expires_at: expires,
        }))
    }

    fn insert(&self, key: &str, insert: Insert) -> Result<(), StoreError> {
        let now = self.clock.now();
        let expires = rules::expires_at(now, insert.ttl).map(rules::micros);
        let redis_ttl = insert
            .ttl
            .filter(|_| expires.is_some())
            .and_then(redis_ttl_ms)
            .map_or_else(String::new, |ms| ms.to_string());
        let mode = match insert.mode {
            InsertMode::Overwrite => "overwrite",
            InsertMode::Add => "add",
            InsertMode::Append => "append",
            InsertMode::Prepend => "prepend",
        };
        let mut invocation = INSERT.prepare_invoke();
        invocation
            .key(self.layout.record(key))
            .key(&self.layout.keys)
            .key(&self.layout.expiry)
            .key(&self.layout.counter)
            .arg(key)
            .arg(mode)
            .arg(insert.value.as_ref())
            .arg(insert.metadata.as_deref().unwrap_or_default())
            .arg(if insert.metadata.is_some() { "1" } else { "0" })
            .arg(
                insert
                    .if_generation_match
                    .map_or_else(String::new, |g| g.to_string()),
            )
            .arg(rules::micros(now).to_string())
            .arg(MAX_GENERATION.to_string())
            .arg(expires.map_or_else(String::new, |at| at.to_string()))
            .arg(redis_ttl)
            .arg(self.layout.record_prefix.as_slice())
            .arg(SWEEP_PER_WRITE);
        let status: String = self.pool.run(false, |conn| invocation.invoke(conn))?;
        match status.as_str() {
            "ok" => Ok(()),
            "precondition" => Err(StoreError::PreconditionFailed),
            "generation" => Err(rules::generation_overflow()),
            other => Err(StoreError::InternalError(format!(
                "unexpected reply {other:?} from the insert script"
            ))),
        }
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let now = rules::micros(self.clock.now());
        let mut invocation = DELETE.prepare_invoke();
        invocation
            .key(self.layout.record(key))
            .key(&self.layout.keys)
            .key(&self.layout.expiry)
            .arg(key)
            .arg(now.to_string());
        let deleted: i64 = self.pool.run(false, |conn| invocation.invoke(conn))?;
        if deleted == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    fn list(&self, req: &ListRequest) -> Result<ListPage, StoreError> {
        let page = Page::new(req)?;
        let min = match &page.start {
            Bound::Included(key) => [b"[", key.as_bytes()].concat(),
            Bound::Excluded(key) => [b"(", key.as_bytes()].concat(),
            Bound::Unbounded => b"-".to_vec(),
        };
        let max = page
            .end()
            .map_or_else(|| b"+".to_vec(), |end| [b"(".as_slice(), &end].concat());
        // One more than the page holds tells whether a next page exists.
        let want = page.limit.saturating_add(1);
        let now = rules::micros(self.clock.now());
        let mut invocation = LIST.prepare_invoke();
        invocation
            .key(&self.layout.keys)
            .key(&self.layout.expiry)
            .arg(self.layout.record_prefix.as_slice())
            .arg(min)
            .arg(max)
            .arg(want.to_string())
            .arg(now.to_string());
        let rows: Vec<Vec<u8>> = self.pool.run(true, |conn| invocation.invoke(conn))?;
        let more = rows.len() > page.limit;
        let keys = rows
            .into_iter()
            .take(page.limit)
            .map(key_from_redis)
            .collect::<Result<Vec<_>, _>>()?;
        let cursor = Page::cursor(&keys, more);
        Ok(ListPage { keys, cursor })
    }

    fn len(&self) -> usize {
        let now = rules::micros(self.clock.now()).to_string();
        let mut total = 0usize;
        let mut min = b"-".to_vec();
        loop {
            let mut invocation = COUNT.prepare_invoke();
            invocation
                .key(&self.layout.keys)
                .key(&self.layout.expiry)
                .arg(self.layout.record_prefix.as_slice())
                .arg(&min)
                .arg(LEN_BATCH)
                .arg(&now);
            let batch: Result<(u64, u8, Vec<u8>), _> =
                self.pool.run(true, |conn| invocation.invoke(conn));
            // `len` only feeds the start-up log; an unreachable server shows as empty there
            // and fails loudly on the first real operation.
            let Ok((count, more, last)) = batch else {
                return 0;
            };
            total = total.saturating_add(usize::try_from(count).unwrap_or(usize::MAX));
            if more == 0 {
                return total;
            }
            min = [b"(".as_slice(), &last].concat();
        }
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn store_names_are_escaped_inside_their_hash_tag() {
        let layout = Layout::new("p:", "a}:v:b%{");
        assert_eq!(layout.keys, "p:{a%7D:v:b%25%7B}:keys");
        assert_eq!(layout.expiry, "p:{a%7D:v:b%25%7B}:expiry");
        assert_eq!(layout.counter, "p:gen");
        assert_eq!(layout.record("k"), b"p:{a%7D:v:b%25%7B}:v:k");
        // Store "a}:v:b" with key "c" and store "a" with key "b}:v:c" stay apart.
        assert_ne!(
            Layout::new("p:", "a}:v:b").record("c"),
            Layout::new("p:", "a").record("b}:v:c")
        );
    }

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(
            redact("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        assert_eq!(
            redact("redis://user:secret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact("redis://:secret@host"), "redis://:***@host");
        assert_eq!(redact("redis://user@host/1"), "redis://user@host/1");
        assert_eq!(redact("rediss://u:p@w@host"), "rediss://u:***@host");
        assert_eq!(redact("redis://host/a@b"), "redis://host/a@b");
        assert_eq!(redact("not a url"), "not a url");
    }

    #[test]
    fn redis_ttls_round_up_and_stop_at_the_cap() {
        assert_eq!(redis_ttl_ms(Duration::ZERO), Some(0));
        assert_eq!(redis_ttl_ms(Duration::from_nanos(1)), Some(1));
        assert_eq!(redis_ttl_ms(Duration::from_millis(1500)), Some(1500));
        assert_eq!(redis_ttl_ms(Duration::from_micros(1500)), Some(2));
        assert_eq!(redis_ttl_ms(Duration::MAX), None);
    }
}
