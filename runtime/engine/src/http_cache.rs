//! The readthrough HTTP cache: what sits between `fetch()` and the origin on Compute, host
//! side, as a js-compute 3.46 app built without `--enable-http-cache` gets it (the default
//! build: `fetch.cpp`'s `CachingMode::Host`). Requests carry their `CacheOverride` and
//! `setCacheKey` key as plain data; the host looks the request up in the cache of the
//! request's edge location, collapses concurrent misses of one key into one origin request,
//! stores cacheable responses by Fastly's rules while streaming them to the app, serves
//! stale objects inside their stale-while-revalidate window while one request revalidates
//! in the background, and remembers uncacheable answers (hit-for-pass) so later requests of
//! the key go straight to the origin instead of queueing behind each other.
//!
//! The rules are Fastly's "HTTP caching semantics"
//! (<https://www.fastly.com/documentation/guides/concepts/edge-state/cache/cache-freshness/>):
//! - a request is looked up when its method is `GET` or `HEAD` and its override is not `pass`;
//! - a response is cacheable when its status is 200, 203, 300, 301, 302, 404 or 410, and it
//!   has no `Cache-Control: private`/`no-store`, no `Set-Cookie` and no `Vary: *`;
//! - its TTL is the first of `Surrogate-Control: max-age`, `Cache-Control: s-maxage`,
//!   `Cache-Control: max-age`, `Expires` (minus `Date`), else 2 minutes, less its `Age`
//!   (except with `Expires`); `stale-while-revalidate` comes from `Surrogate-Control`, then
//!   `Cache-Control` (and `stale-if-error` likewise); surrogate keys from `Surrogate-Key`; variants from `Vary`;
//! - a `CacheOverride` in `override` mode replaces the TTL, stale-while-revalidate window and
//!   surrogate keys it sets.
//!
//! Objects share the edge location's [`Cache`] with `fastly:cache`, so `purgeSurrogateKey`
//! (hard or soft) reaches both, and `--cache-size` bounds both.
//!
//! A stale object inside its `stale-if-error` window (from `Surrogate-Control`, then
//! `Cache-Control`, or the override's `staleIfError`) answers for an origin that fails or
//! answers 5xx.
//!
//! Not emulated: revalidation with `If-None-Match`/`If-Modified-Since` (a stale object is
//! refetched whole). Apps built with `--enable-http-cache` bypass this cache: their `fetch()`
//! runs the guest HTTP cache (`js-lib/fastly.js`, `crate::fastly::http_cache_api`,
//! `docs/http-cache-guest-api.md`), which uses [`write_options`] for its suggestions.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use edgeshim_store::cache::{Cache, CacheError, CacheOp, CacheReply, Found, Wait, WriteOptions};
use serde::{Deserialize, Serialize};

use crate::host_call::{BackendHead, BackendRequest, BackendResponse, CacheOutcome, SendError};
use crate::origin::Origins;
use crate::web::body_stream::{BodyChunks, Chunk, HostBody};
use crate::web::headers::first_value as header;

/// The request header `Request.setCacheKey` adds: the key's SHA-256, upper-case hex. The host
/// uses it as the cache key and does not send it on.
pub const CACHE_KEY_HEADER: &str = "fastly-xqd-cache-key";

/// The TTL of a response whose headers give none (Fastly's readthrough default).
pub const DEFAULT_TTL: Duration = Duration::from_secs(120);

/// How long an uncacheable answer sends later requests of its key straight to the origin.
pub const HIT_FOR_PASS_TTL: Duration = Duration::from_secs(120);

/// The statuses cacheable by default.
const CACHEABLE_STATUSES: [u16; 7] = [200, 203, 300, 301, 302, 404, 410];

/// A request's `CacheOverride` as the host applies it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheOverride {
    /// The response's headers decide (mode `"none"`, or no override).
    #[default]
    None,
    /// Neither looked up nor stored.
    Pass,
    /// The fields set replace what the response's headers say.
    Override {
        ttl: Option<u32>,
        stale_while_revalidate: Option<u32>,
        stale_if_error: Option<u32>,
        /// Space-separated, as a `Surrogate-Key` header value.
        surrogate_key: Option<String>,
        pci: bool,
    },
}

/// How a backend request uses the readthrough cache.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachePolicy {
    /// The edge location whose cache serves the request (`--pops`).
    pub pop: usize,
    pub cache_override: CacheOverride,
    /// Whether a miss waits for another request's pending miss of the same key (request
    /// collapsing). Off for a request that already came through edgeshim: a backend that
    /// leads back to this server would otherwise wait for itself until the lease ends.
    pub collapse: bool,
}

/// What an object of the readthrough cache holds besides its body (its user metadata).
#[derive(Debug, Serialize, Deserialize)]
enum Stored {
    Response {
        status: u16,
        headers: Vec<(String, String)>,
    },
    /// Hit-for-pass: the last answer for this key was uncacheable.
    Pass,
}

/// Whether a response may be stored, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    Store(WriteOptions),
    /// Why not.
    Uncacheable(&'static str),
}

/// The directives of a `Cache-Control`-like header: names lower-cased, values unquoted.
fn directives(headers: &[(String, String)], name: &str) -> Vec<(String, Option<String>)> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, value)| value.split(','))
        .filter_map(|directive| {
            let directive = directive.trim();
            if directive.is_empty() {
                return None;
            }
            let (name, value) = match directive.split_once('=') {
                Some((name, value)) => (name, Some(value.trim().trim_matches('"').to_owned())),
                None => (directive, None),
            };
            Some((name.trim().to_ascii_lowercase(), value))
        })
        .collect()
}

fn seconds(directives: &[(String, Option<String>)], name: &str) -> Option<u64> {
    directives
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, value)| value.as_deref()?.parse().ok())
}

fn http_date(value: Option<&str>) -> Option<SystemTime> {
    httpdate::parse_http_date(value?.trim()).ok()
}

/// Whether and how a backend response is stored, by Fastly's rules (module docs); `now` is
/// when it arrived.
pub fn storage(
    status: u16,
    headers: &[(String, String)],
    cache_override: &CacheOverride,
    now: SystemTime,
) -> Storage {
    match uncacheable(status, headers) {
        Some(why) => Storage::Uncacheable(why),
        None => Storage::Store(write_options(headers, cache_override, now)),
    }
}

/// Why a response with `status` and `headers` may not be stored, if it may not.
pub fn uncacheable(status: u16, headers: &[(String, String)]) -> Option<&'static str> {
    if !CACHEABLE_STATUSES.contains(&status) {
        return Some("its status is not cacheable by default");
    }
    if directives(headers, "cache-control")
        .iter()
        .any(|(n, _)| n == "private" || n == "no-store")
    {
        return Some("Cache-Control forbids shared caches");
    }
    if header(headers, "set-cookie").is_some() {
        return Some("it sets a cookie");
    }
    if vary_of(headers).iter().any(|name| name == "*") {
        return Some("it varies on everything (Vary: *)");
    }
    None
}

/// The request headers a response varies on, lower-cased.
fn vary_of(headers: &[(String, String)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("vary"))
        .flat_map(|(_, v)| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect()
}

/// How a response with `headers` would be stored (its freshness, windows, variants and
/// surrogate keys), whether or not it may be; `now` is when it arrived.
pub fn write_options(
    headers: &[(String, String)],
    cache_override: &CacheOverride,
    now: SystemTime,
) -> WriteOptions {
    let surrogate = directives(headers, "surrogate-control");
    let control = directives(headers, "cache-control");
    let vary = vary_of(headers);
    let age = header(headers, "age")
        .and_then(|a| a.trim().parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_secs);
    let from_directives = seconds(&surrogate, "max-age")
        .or_else(|| seconds(&control, "s-maxage"))
        .or_else(|| seconds(&control, "max-age"))
        .map(|s| (Duration::from_secs(s), age));
    // With `Expires` the object's age starts at zero, whatever `Age` says.
    let from_expires = || {
        let expires = http_date(header(headers, "expires"))?;
        let date = http_date(header(headers, "date")).unwrap_or(now);
        Some((
            expires.duration_since(date).unwrap_or(Duration::ZERO),
            Duration::ZERO,
        ))
    };
    let (mut max_age, initial_age) = from_directives
        .or_else(from_expires)
        .unwrap_or((DEFAULT_TTL, age));
    let mut stale_while_revalidate = seconds(&surrogate, "stale-while-revalidate")
        .or_else(|| seconds(&control, "stale-while-revalidate"))
        .map_or(Duration::ZERO, Duration::from_secs);
    let mut stale_if_error = seconds(&surrogate, "stale-if-error")
        .or_else(|| seconds(&control, "stale-if-error"))
        .map_or(Duration::ZERO, Duration::from_secs);
    let mut surrogate_keys: Vec<String> = header(headers, "surrogate-key")
        .map(|keys| keys.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let mut sensitive = false;
    if let CacheOverride::Override {
        ttl,
        stale_while_revalidate: swr,
        stale_if_error: sie,
        surrogate_key,
        pci,
    } = cache_override
    {
        if let Some(sie) = sie {
            stale_if_error = Duration::from_secs(u64::from(*sie));
        }
        if let Some(ttl) = ttl {
            max_age = Duration::from_secs(u64::from(*ttl)) + initial_age;
        }
        if let Some(swr) = swr {
            stale_while_revalidate = Duration::from_secs(u64::from(*swr));
        }
        if let Some(keys) = surrogate_key {
            surrogate_keys = keys.split_whitespace().map(str::to_owned).collect();
        }
        sensitive = *pci;
    }
    WriteOptions {
        max_age,
        initial_age,
        stale_while_revalidate,
        stale_if_error,
        vary,
        surrogate_keys,
        length: None,
        user_metadata: Bytes::new(),
        sensitive,
    }
}

/// The cache key of `request`.
fn cache_key(request: &BackendRequest) -> Bytes {
    Bytes::from(key_text(
        &request.url,
        &request.headers,
        request.decompress_gzip,
    ))
}

/// The cache key of a request to `url` with `headers`: its `setCacheKey` key, else its URL
/// (whose host is the `Host` the request is sent with), told apart by whether gzip bodies
/// arrive decoded. The guest HTTP cache uses it too.
pub fn key_text(url: &str, headers: &[(String, String)], decompress_gzip: bool) -> String {
    let mut key = match header(headers, CACHE_KEY_HEADER) {
        Some(custom) => format!("http-key:{custom}"),
        None => format!("http-url:{url}"),
    };
    if decompress_gzip {
        key.push_str(" (gunzipped)");
    }
    key
}

/// Whether `request` is looked up in the cache at all.
fn cacheable_request(request: &BackendRequest, policy: &CachePolicy) -> bool {
    policy.cache_override != CacheOverride::Pass
        && matches!(request.method.as_str(), "GET" | "HEAD")
}

fn encode(stored: &Stored) -> Bytes {
    postcard::to_stdvec(stored)
        .map(Bytes::from)
        .unwrap_or_default()
}

fn decode(metadata: &[u8]) -> Option<Stored> {
    postcard::from_bytes(metadata).ok()
}

/// `sent` from the origin, marked with what the cache did.
fn marked(
    sent: Result<BackendResponse, SendError>,
    outcome: CacheOutcome,
) -> Result<BackendResponse, SendError> {
    sent.map(|mut response| {
        response.head.cache = Some(outcome);
        response
    })
}

/// The response a stored object answers with, its `Age` the object's.
fn from_cache(
    found: Found,
    status: u16,
    mut headers: Vec<(String, String)>,
    head_only: bool,
    outcome: CacheOutcome,
) -> BackendResponse {
    headers.retain(|(name, _)| !name.eq_ignore_ascii_case("age"));
    headers.push(("age".to_owned(), found.age.as_secs().to_string()));
    BackendResponse {
        head: BackendHead {
            status,
            headers,
            remote: None,
            cache: Some(outcome),
        },
        body: HostBody::Full(if head_only { Bytes::new() } else { found.body }),
    }
}

fn log(outcome: &str, pop: usize, request: &BackendRequest) {
    tracing::debug!(target: "edgeshim::cache", pop, "{outcome} {} {}", request.method, request.url);
}

/// Runs a lookup: at once when it need not wait (or must not: `collapse` off), else on the
/// blocking pool, where waiting for another request's insert holds no async thread.
async fn lookup(cache: &Arc<Cache>, op: CacheOp, collapse: bool) -> Option<CacheReply> {
    let first = if collapse { Wait::Try } else { Wait::Never };
    match cache.run(op.clone(), first) {
        Err(CacheError::WouldWait) => {
            let cache = cache.clone();
            tokio::task::spawn_blocking(move || cache.run(op, Wait::Collapse).ok())
                .await
                .ok()
                .flatten()
        }
        answered => answered.ok(),
    }
}

/// Ends an obligation without an object: the next waiting request is obliged instead.
fn cancel(cache: &Cache, transaction: u64) {
    let _ = cache.run(CacheOp::TransactionCancel { transaction }, Wait::Never);
}

/// Sends `request` through the readthrough cache of `cache` (module docs).
pub async fn send(
    cache: Arc<Cache>,
    origins: Arc<Origins>,
    mut request: BackendRequest,
    body: HostBody,
    policy: CachePolicy,
) -> Result<BackendResponse, SendError> {
    let key = cacheable_request(&request, &policy).then(|| cache_key(&request));
    // The host consumes the key header; the origin never sees it.
    request
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case(CACHE_KEY_HEADER));
    let Some(key) = key else {
        log("PASS", policy.pop, &request);
        return marked(origins.send(request, body).await, CacheOutcome::Pass);
    };
    let head_only = request.method == "HEAD";
    let op = if head_only {
        // A HEAD request is answered from a stored GET, never stored itself.
        CacheOp::Lookup {
            key,
            headers: request.headers.clone(),
        }
    } else {
        CacheOp::TransactionLookup {
            key,
            headers: request.headers.clone(),
        }
    };
    let Some(CacheReply::Lookup(lookup)) = lookup(&cache, op, policy.collapse).await else {
        log("PASS (the cache did not answer)", policy.pop, &request);
        return marked(origins.send(request, body).await, CacheOutcome::Pass);
    };
    let transaction = lookup.transaction;
    let usable = lookup.state.usable;
    // Found but not usable: kept only to answer if the origin fails (stale-if-error).
    let (found, fallback) = match lookup.found {
        Some(found) if usable => (Some(found), None),
        other => (None, other),
    };
    if let Some(found) = found {
        match decode(&found.user_metadata) {
            Some(Stored::Response { status, headers }) => {
                let outcome = if let Some(transaction) = transaction {
                    // Stale inside its window: served now, refreshed in the background.
                    log("STALE", policy.pop, &request);
                    tokio::spawn(revalidate(cache, origins, request, policy, transaction));
                    CacheOutcome::Stale
                } else {
                    log("HIT", policy.pop, &request);
                    CacheOutcome::Hit
                };
                return Ok(from_cache(found, status, headers, head_only, outcome));
            }
            Some(Stored::Pass) | None => {
                if let Some(transaction) = transaction {
                    cancel(&cache, transaction);
                }
                log("PASS (hit-for-pass)", policy.pop, &request);
                return marked(origins.send(request, body).await, CacheOutcome::Pass);
            }
        }
    }
    log("MISS", policy.pop, &request);
    let Some(transaction) = transaction else {
        // A HEAD miss, or a lookup that obliged nobody: straight to the origin.
        return marked(origins.send(request, body).await, CacheOutcome::Miss);
    };
    let (pop, described) = (policy.pop, format!("{} {}", request.method, request.url));
    let sent = marked(origins.send(request, body).await, CacheOutcome::Miss);
    // An origin that fails, or answers with a server error, is covered by a stale object
    // inside its stale-if-error window.
    let failed = sent.as_ref().map_or(true, |r| r.head.status >= 500);
    if let (true, Some(stale)) = (failed, fallback) {
        if let Some(Stored::Response { status, headers }) = decode(&stale.user_metadata) {
            cancel(&cache, transaction);
            tracing::debug!(target: "edgeshim::cache", pop, "STALE (stale-if-error) {described}");
            return Ok(from_cache(
                stale,
                status,
                headers,
                head_only,
                CacheOutcome::Stale,
            ));
        }
    }
    match sent {
        Ok(response) => Ok(store(&cache, transaction, response, &policy)),
        Err(error) => {
            cancel(&cache, transaction);
            Err(error)
        }
    }
}

/// Fetches a stale object's replacement and stores it (or hit-for-pass), for the
/// transaction its lookup obliged; the response body is read to its end here.
async fn revalidate(
    cache: Arc<Cache>,
    origins: Arc<Origins>,
    request: BackendRequest,
    policy: CachePolicy,
    transaction: u64,
) {
    let url = request.url.clone();
    match origins.send(request, HostBody::default()).await {
        Ok(response) => {
            let mut stored = store(&cache, transaction, response, &policy);
            if let HostBody::Stream(chunks) = &mut stored.body {
                while let Some(Chunk::Data(_)) = chunks.recv().await {}
            }
        }
        Err(error) => {
            tracing::debug!(target: "edgeshim::cache", "revalidating {url} failed: {error}");
            cancel(&cache, transaction);
        }
    }
}

/// Stores `response` for `transaction` as its body streams through (or a hit-for-pass
/// object when it is uncacheable), and returns it to pass on.
fn store(
    cache: &Arc<Cache>,
    transaction: u64,
    response: BackendResponse,
    policy: &CachePolicy,
) -> BackendResponse {
    let BackendResponse { head, body } = response;
    let options = match storage(
        head.status,
        &head.headers,
        &policy.cache_override,
        cache.now(),
    ) {
        Storage::Store(options) => options,
        Storage::Uncacheable(why) => {
            tracing::debug!(target: "edgeshim::cache", "not stored: {why}");
            let _ = cache.run(
                CacheOp::TransactionInsert {
                    transaction,
                    options: WriteOptions {
                        max_age: HIT_FOR_PASS_TTL,
                        user_metadata: encode(&Stored::Pass),
                        ..WriteOptions::default()
                    },
                    body: Bytes::new(),
                    stream_back: false,
                },
                Wait::Never,
            );
            return BackendResponse { head, body };
        }
    };
    let options = WriteOptions {
        user_metadata: encode(&Stored::Response {
            status: head.status,
            headers: head.headers.clone(),
        }),
        ..options
    };
    let insert = {
        let cache = cache.clone();
        move |body: Bytes| {
            let _ = cache.run(
                CacheOp::TransactionInsert {
                    transaction,
                    options,
                    body,
                    stream_back: false,
                },
                Wait::Never,
            );
        }
    };
    let body = match body {
        HostBody::Full(bytes) => {
            insert(bytes.clone());
            HostBody::Full(bytes)
        }
        HostBody::Stream(chunks) => {
            HostBody::Stream(tee(chunks, cache.clone(), transaction, insert))
        }
    };
    BackendResponse { head, body }
}

/// Passes `chunks` on while collecting them, then `insert`s the whole body. The origin's
/// body is read to its end even when the app stops reading (the cache still wants it);
/// a body that fails, or outgrows the cache, cancels the transaction instead.
fn tee(
    mut chunks: BodyChunks,
    cache: Arc<Cache>,
    transaction: u64,
    insert: impl FnOnce(Bytes) + Send + 'static,
) -> BodyChunks {
    let (sender, out) = BodyChunks::channel();
    let limit = cache.capacity();
    tokio::spawn(async move {
        let mut insert = Some(insert);
        let mut collected = Some(BytesMut::new());
        let mut reader = Some(sender);
        loop {
            let chunk = chunks.recv().await;
            match &chunk {
                Some(Chunk::Data(data)) => {
                    if let Some(buffer) = &mut collected {
                        if (buffer.len() + data.len()) as u64 > limit {
                            collected = None;
                            cancel(&cache, transaction);
                        } else {
                            buffer.extend_from_slice(data);
                        }
                    }
                }
                Some(Chunk::End) => {
                    if let (Some(buffer), Some(insert)) = (collected.take(), insert.take()) {
                        insert(buffer.freeze());
                    }
                }
                Some(Chunk::Error(_)) | None => {
                    if collected.take().is_some() {
                        cancel(&cache, transaction);
                    }
                }
            }
            let last = !matches!(chunk, Some(Chunk::Data(_)));
            if let Some(sender) = &reader {
                let forwarded = chunk.unwrap_or_else(|| {
                    Chunk::Error("the backend's response body was cut off".to_owned())
                });
                if sender.send(forwarded).await.is_err() {
                    reader = None;
                }
            }
            if last || (reader.is_none() && collected.is_none()) {
                return;
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn stored(status: u16, headers: &[(&str, &str)]) -> WriteOptions {
        match storage(
            status,
            &h(headers),
            &CacheOverride::None,
            SystemTime::UNIX_EPOCH,
        ) {
            Storage::Store(options) => options,
            Storage::Uncacheable(why) => panic!("uncacheable: {why}"),
        }
    }

    #[test]
    fn ttl_comes_from_the_first_header_that_gives_one() {
        let all = [
            ("surrogate-control", "max-age=400"),
            ("cache-control", "s-maxage=300, max-age=200"),
            ("expires", "Thu, 01 Jan 1970 00:01:40 GMT"),
        ];
        assert_eq!(stored(200, &all).max_age, Duration::from_secs(400));
        assert_eq!(stored(200, &all[1..]).max_age, Duration::from_secs(300));
        assert_eq!(
            stored(200, &[("cache-control", "public, max-age=200")]).max_age,
            Duration::from_secs(200)
        );
        assert_eq!(stored(200, &all[2..]).max_age, Duration::from_secs(100));
        assert_eq!(stored(200, &[]).max_age, DEFAULT_TTL);
    }

    #[test]
    fn age_counts_against_max_age_but_not_against_expires() {
        let options = stored(200, &[("cache-control", "max-age=30"), ("age", "10")]);
        assert_eq!(
            (options.max_age, options.initial_age),
            (Duration::from_secs(30), Duration::from_secs(10))
        );
        let options = stored(
            200,
            &[
                ("expires", "Thu, 01 Jan 1970 00:01:00 GMT"),
                ("date", "Thu, 01 Jan 1970 00:00:30 GMT"),
                ("age", "10"),
            ],
        );
        assert_eq!(
            (options.max_age, options.initial_age),
            (Duration::from_secs(30), Duration::ZERO)
        );
    }

    #[test]
    fn windows_keys_and_variants_come_from_the_headers() {
        let options = stored(
            404,
            &[
                ("cache-control", "max-age=5, stale-while-revalidate=7"),
                ("surrogate-control", "stale-while-revalidate=9"),
                ("surrogate-key", "  a   b "),
                ("vary", "Accept-Encoding, X-Lang"),
            ],
        );
        assert_eq!(options.stale_while_revalidate, Duration::from_secs(9));
        assert_eq!(options.surrogate_keys, ["a", "b"]);
        assert_eq!(options.vary, ["accept-encoding", "x-lang"]);
    }

    #[test]
    fn uncacheable_responses() {
        let none = CacheOverride::None;
        let at = SystemTime::UNIX_EPOCH;
        for (status, headers) in [
            (500, vec![]),
            (206, vec![]),
            (200, vec![("cache-control", "private, max-age=60")]),
            (200, vec![("Cache-Control", "no-store")]),
            (200, vec![("set-cookie", "a=b")]),
            (200, vec![("vary", "*")]),
        ] {
            assert!(
                matches!(
                    storage(status, &h(&headers), &none, at),
                    Storage::Uncacheable(_)
                ),
                "{status} {headers:?}"
            );
        }
        // `no-cache` is for browsers: Fastly ignores it.
        assert!(matches!(
            storage(200, &h(&[("cache-control", "no-cache")]), &none, at),
            Storage::Store(_)
        ));
    }

    /// An origin on a free loopback port whose every answer is `v<N>` (N counts requests)
    /// with `headers`, one request per connection.
    async fn counting_origin(headers: &'static str) -> std::net::SocketAddr {
        scripted_origin(move |_| Some((200, headers))).await
    }

    /// An origin whose answer to request N is `script(N)`: a status and headers with body
    /// `v<N>`, or `None` to close the connection unanswered.
    async fn scripted_origin(
        script: impl Fn(usize) -> Option<(u16, &'static str)> + Send + 'static,
    ) -> std::net::SocketAddr {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for n in 1.. {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.unwrap() == 1 {
                    head.push(byte[0]);
                }
                let Some((status, headers)) = script(n) else {
                    continue;
                };
                let body = format!("v{n}");
                let answer = format!(
                    "HTTP/1.1 {status} X\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        addr
    }

    fn get(addr: std::net::SocketAddr) -> BackendRequest {
        BackendRequest {
            backend: crate::host_call::BackendSpec {
                name: "origin".into(),
                host: addr.ip().to_string(),
                port: addr.port(),
                tls: false,
                path_prefix: String::new(),
                override_host: None,
                cert_host: None,
                sni_host: None,
                use_sni: false,
                ca_certificate: None,
                http2_only: false,
                connect_timeout: Duration::from_secs(5),
                first_byte_timeout: Duration::from_secs(5),
                between_bytes_timeout: Duration::from_secs(5),
            },
            method: "GET".into(),
            url: format!("http://{addr}/page"),
            headers: Vec::new(),
            decompress_gzip: false,
            cache: CachePolicy {
                pop: 0,
                cache_override: CacheOverride::None,
                collapse: true,
            },
        }
    }

    /// Body and `Age` of one request through the cache.
    async fn through(cache: &Arc<Cache>, addr: std::net::SocketAddr) -> (String, Option<String>) {
        let (status, body, age) = answered(cache, addr).await.unwrap();
        assert_eq!(status, 200);
        (body, age)
    }

    /// Status, body and `Age` of one request through the cache, or why it failed.
    async fn answered(
        cache: &Arc<Cache>,
        addr: std::net::SocketAddr,
    ) -> Result<(u16, String, Option<String>), SendError> {
        let request = get(addr);
        let policy = request.cache.clone();
        let response = send(
            cache.clone(),
            Arc::default(),
            request,
            HostBody::default(),
            policy,
        )
        .await?;
        let status = response.head.status;
        let age = header(&response.head.headers, "age").map(str::to_owned);
        let body = match response.body {
            HostBody::Full(bytes) => bytes.to_vec(),
            HostBody::Stream(mut chunks) => {
                let mut body = Vec::new();
                while let Some(Chunk::Data(data)) = chunks.recv().await {
                    body.extend_from_slice(&data);
                }
                body
            }
        };
        Ok((status, String::from_utf8(body).unwrap(), age))
    }

    fn manual_cache() -> (Arc<edgeshim_store::ManualClock>, Arc<Cache>) {
        let clock = Arc::new(edgeshim_store::ManualClock::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
        ));
        let cache = Arc::new(Cache::new(
            clock.clone(),
            edgeshim_store::cache::DEFAULT_CAPACITY,
        ));
        (clock, cache)
    }

    /// Each response says what the cache did, for the backend log line.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn responses_say_what_the_cache_did() {
        let addr = counting_origin("cache-control: max-age=60\r\n").await;
        let (_, cache) = manual_cache();
        let outcome = |cache_override: CacheOverride, method: &str| {
            let mut request = get(addr);
            request.method = method.to_owned();
            request.cache.cache_override = cache_override;
            let policy = request.cache.clone();
            let cache = cache.clone();
            async move {
                send(cache, Arc::default(), request, HostBody::default(), policy)
                    .await
                    .unwrap()
                    .head
                    .cache
            }
        };
        assert_eq!(
            outcome(CacheOverride::None, "GET").await,
            Some(CacheOutcome::Miss)
        );
        assert_eq!(
            outcome(CacheOverride::None, "GET").await,
            Some(CacheOutcome::Hit)
        );
        assert_eq!(
            outcome(CacheOverride::None, "HEAD").await,
            Some(CacheOutcome::Hit)
        );
        assert_eq!(
            outcome(CacheOverride::Pass, "GET").await,
            Some(CacheOutcome::Pass)
        );
        assert_eq!(
            outcome(CacheOverride::None, "POST").await,
            Some(CacheOutcome::Pass)
        );
    }

    /// Past its TTL (and any stale-while-revalidate window) an object is not served, but while
    /// its stale-if-error window lasts it answers for an origin that fails or answers 5xx.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stale_if_error_covers_a_failing_origin_inside_its_window() {
        let addr = scripted_origin(|n| match n {
            1 => Some((200, "cache-control: max-age=10, stale-if-error=30\r\n")),
            2 => None,
            _ => Some((503, "")),
        })
        .await;
        let (clock, cache) = manual_cache();
        let stale = |age: u64| Ok((200, "v1".to_owned(), Some(age.to_string())));
        assert_eq!(
            answered(&cache, addr).await,
            Ok((200, "v1".to_owned(), None))
        );
        clock.advance(Duration::from_secs(15));
        assert_eq!(
            answered(&cache, addr).await,
            stale(15),
            "the connection failed"
        );
        clock.advance(Duration::from_secs(20));
        assert_eq!(
            answered(&cache, addr).await,
            stale(35),
            "the origin answered 503"
        );
        clock.advance(Duration::from_secs(5));
        assert_eq!(
            answered(&cache, addr).await,
            Ok((503, "v4".to_owned(), None)),
            "past max-age + stale-if-error: the origin's answer"
        );
    }

    /// TTL and stale-while-revalidate windows on the cache's clock, moved by hand: fresh for
    /// max-age less Age, then served stale for the window while one background request
    /// refetches it, then gone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ttl_and_stale_while_revalidate_windows() {
        let addr =
            counting_origin("cache-control: max-age=12, stale-while-revalidate=5\r\nage: 2\r\n")
                .await;
        let clock = Arc::new(edgeshim_store::ManualClock::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
        ));
        let cache = Arc::new(Cache::new(
            clock.clone(),
            edgeshim_store::cache::DEFAULT_CAPACITY,
        ));
        let at = |body: &str, age: Option<u64>| (body.to_owned(), age.map(|a| a.to_string()));
        // The origin's answer says `Age: 2`; the cached object's age starts there.
        assert_eq!(through(&cache, addr).await, at("v1", Some(2)), "a miss");
        assert_eq!(through(&cache, addr).await, at("v1", Some(2)), "a hit");
        clock.advance(Duration::from_secs(9));
        assert_eq!(
            through(&cache, addr).await,
            at("v1", Some(11)),
            "fresh until age 12"
        );
        clock.advance(Duration::from_secs(2));
        // Stale, inside the window: served at once, refetched in the background.
        assert_eq!(through(&cache, addr).await, at("v1", Some(13)));
        // The refetch runs in the background: looked for until it lands (bounded).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut refreshed = through(&cache, addr).await;
        while refreshed.0 == "v1" && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
            refreshed = through(&cache, addr).await;
        }
        assert_eq!(
            refreshed,
            at("v2", Some(2)),
            "the refetched object, once stored"
        );
        // Past max-age and the window: gone, the origin is asked again.
        clock.advance(Duration::from_secs(10 + 5 + 1));
        assert_eq!(through(&cache, addr).await, at("v3", Some(2)));
        clock.advance(Duration::from_secs(3));
        assert_eq!(
            through(&cache, addr).await,
            at("v3", Some(5)),
            "from the cache"
        );
    }

    #[test]
    fn an_override_replaces_what_it_sets() {
        let cache_override = CacheOverride::Override {
            ttl: Some(50),
            stale_while_revalidate: Some(3),
            stale_if_error: None,
            surrogate_key: Some("k1 k2".into()),
            pci: true,
        };
        let Storage::Store(options) = storage(
            200,
            &h(&[
                ("cache-control", "max-age=5"),
                ("age", "2"),
                ("surrogate-key", "x"),
            ]),
            &cache_override,
            SystemTime::UNIX_EPOCH,
        ) else {
            panic!("uncacheable");
        };
        assert_eq!(options.max_age, Duration::from_secs(52));
        assert_eq!(options.initial_age, Duration::from_secs(2));
        assert_eq!(options.stale_while_revalidate, Duration::from_secs(3));
        assert_eq!(options.surrogate_keys, ["k1", "k2"]);
        assert!(options.sensitive);
    }
}
