//! The live log of `serve --inspect`: each request the app server answers, with the KV,
//! cache, backend and log calls it made, kept in a bounded ring and sent to the page as it
//! happens.
//!
//! Calls are attributed by wrapping the app's host per request ([`ObservedHost`], passed in
//! [`IncomingRequest::host`](edgeshim_engine::IncomingRequest)): whatever isolation mode runs
//! the request (a snapshot copy, a reused or fresh instance), its calls reach the host
//! through that wrapper and nothing else needs to know which request they belong to.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use edgeshim_engine::{
    BackendRequest, Host, HostBody, HostCall, HostFuture, HostReply, KvOp, KvReply, SendFuture,
};
use edgeshim_store::cache::{CacheOp, CacheReply};
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::broadcast;

/// Requests the ring keeps; older ones are dropped.
const KEPT_REQUESTS: usize = 500;

/// Calls kept per request; a request making more (a loop over a listing) counts the rest.
const KEPT_CALLS: usize = 200;

/// Events a page that reads slowly may fall behind by before it misses some.
const EVENT_BACKLOG: usize = 1024;

/// Longest key, URL or log message kept in a call record, in characters.
const SHOWN_CHARS: usize = 300;

/// One call a request made.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Call {
    /// `kv`, `cache`, `backend`, `rate` or `log`.
    kind: &'static str,
    /// `lookup`, `insert`, `GET`, …
    op: String,
    /// The store, backend, counter or log endpoint.
    target: String,
    /// The key, URL, surrogate key or message.
    key: String,
    /// `found`, `HIT`, `200 MISS`, an error's text, …
    outcome: String,
    /// Milliseconds until the answer.
    ms: f64,
}

/// One request and its calls.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RequestRecord {
    id: u64,
    /// Milliseconds since the UNIX epoch when it arrived.
    at: u64,
    method: String,
    path: String,
    /// The simulated edge location (`--pops`), when there are several.
    pop: Option<usize>,
    /// Set when the response head is out.
    status: Option<u16>,
    ms: Option<f64>,
    calls: Vec<Call>,
    /// Calls made past [`KEPT_CALLS`].
    more_calls: u64,
}

/// What the page is sent, one server-sent event each.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event<'a> {
    /// A request arrived (or, when a page connects, one the ring holds, with its calls).
    Request(&'a RequestRecord),
    Call {
        request: u64,
        call: &'a Call,
    },
    Done {
        request: u64,
        status: u16,
        ms: f64,
    },
}

/// The live log: a ring of recent requests, and the events of new ones for open pages.
#[derive(Debug)]
pub(crate) struct Activity {
    ring: Mutex<VecDeque<RequestRecord>>,
    /// `None` once the server stopped: open pages' streams end.
    events: Mutex<Option<broadcast::Sender<Arc<str>>>>,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            ring: Mutex::new(VecDeque::with_capacity(KEPT_REQUESTS)),
            events: Mutex::new(Some(broadcast::channel(EVENT_BACKLOG).0)),
        }
    }

    /// Sends `event` to open pages; nothing is serialized when no page is open.
    fn publish(&self, event: &Event<'_>) {
        let events = self.events.lock();
        let Some(events) = events.as_ref().filter(|e| e.receiver_count() > 0) else {
            return;
        };
        match serde_json::to_string(event) {
            Ok(text) => {
                let _ = events.send(Arc::from(text));
            }
            Err(e) => tracing::debug!("cannot serialize an inspection event: {e}"),
        }
    }

    /// Request `id` arrived.
    pub(crate) fn begin(&self, id: u64, method: &str, path: &str, pop: Option<usize>) {
        let record = RequestRecord {
            id,
            at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            method: method.to_owned(),
            path: shorten(path),
            pop,
            status: None,
            ms: None,
            calls: Vec::new(),
            more_calls: 0,
        };
        // Under the ring's lock, so that a page connecting now sees it either in the ring or
        // as an event, never both or neither.
        let mut ring = self.ring.lock();
        self.publish(&Event::Request(&record));
        if ring.len() == KEPT_REQUESTS {
            ring.pop_front();
        }
        ring.push_back(record);
    }

    /// Request `id` made `call`.
    fn call(&self, id: u64, call: Call) {
        let mut ring = self.ring.lock();
        self.publish(&Event::Call {
            request: id,
            call: &call,
        });
        if let Some(record) = find(&mut ring, id) {
            if record.calls.len() < KEPT_CALLS {
                record.calls.push(call);
            } else {
                record.more_calls += 1;
            }
        }
    }

    /// Request `id` was answered `status` after `ms`.
    pub(crate) fn done(&self, id: u64, status: u16, ms: f64) {
        let mut ring = self.ring.lock();
        self.publish(&Event::Done {
            request: id,
            status,
            ms,
        });
        if let Some(record) = find(&mut ring, id) {
            record.status = Some(status);
            record.ms = Some(ms);
        }
    }

    /// The ring's requests as events, and the events that follow them; `None` once stopped.
    pub(crate) fn subscribe(&self) -> Option<(Vec<String>, broadcast::Receiver<Arc<str>>)> {
        let ring = self.ring.lock();
        let receiver = self.events.lock().as_ref()?.subscribe();
        let past = ring
            .iter()
            .filter_map(|record| serde_json::to_string(&Event::Request(record)).ok())
            .collect();
        Some((past, receiver))
    }

    /// Ends the streams of open pages (the server stops).
    pub(crate) fn close(&self) {
        self.events.lock().take();
    }
}

/// The record of request `id`: ids only grow, so the ring is sorted by them.
fn find(ring: &mut VecDeque<RequestRecord>, id: u64) -> Option<&mut RequestRecord> {
    let index = ring.binary_search_by_key(&id, |r| r.id).ok()?;
    ring.get_mut(index)
}

/// `text` cut to [`SHOWN_CHARS`] characters.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn lossy(bytes: &[u8]) -> String {
    shorten(&String::from_utf8_lossy(bytes))
}

/// The app's host, seen from one request: every call is recorded as that request's.
#[derive(Debug)]
pub(crate) struct ObservedHost {
    inner: Arc<dyn Host>,
    activity: Arc<Activity>,
    request: u64,
}

impl ObservedHost {
    pub(crate) fn new(inner: Arc<dyn Host>, activity: Arc<Activity>, request: u64) -> Self {
        Self {
            inner,
            activity,
            request,
        }
    }

    fn record(&self, (kind, op, target, key): Described, outcome: String, started: Instant) {
        record(
            &self.activity,
            self.request,
            (kind, op, target, key),
            outcome,
            started,
        );
    }
}

/// A call's kind, operation, target and key.
type Described = (&'static str, String, String, String);

fn record(
    activity: &Activity,
    request: u64,
    (kind, op, target, key): Described,
    outcome: String,
    started: Instant,
) {
    activity.call(
        request,
        Call {
            kind,
            op,
            target,
            key,
            outcome,
            ms: started.elapsed().as_secs_f64() * 1000.0,
        },
    );
}

fn describe(call: &HostCall) -> Described {
    match call {
        HostCall::Kv { store, op, .. } => {
            let (name, key) = match op {
                KvOp::Lookup { key } => ("lookup", shorten(key)),
                KvOp::Insert { key, .. } => ("insert", shorten(key)),
                KvOp::Delete { key } => ("delete", shorten(key)),
                KvOp::List { request } => (
                    "list",
                    request
                        .prefix
                        .as_deref()
                        .map_or_else(String::new, |p| format!("prefix {}", shorten(p))),
                ),
            };
            ("kv", name.to_owned(), store.clone(), key)
        }
        HostCall::Cache { pop, op } => {
            let (name, key) = match op {
                CacheOp::Lookup { key, .. } => ("lookup", lossy(key)),
                CacheOp::Insert { key, .. } => ("insert", lossy(key)),
                CacheOp::TransactionLookup { key, .. } => ("transaction lookup", lossy(key)),
                CacheOp::TransactionInsert { transaction, .. } => {
                    ("transaction insert", format!("#{transaction}"))
                }
                CacheOp::TransactionUpdate { transaction, .. } => {
                    ("transaction update", format!("#{transaction}"))
                }
                CacheOp::TransactionCancel { transaction } => {
                    ("transaction cancel", format!("#{transaction}"))
                }
                CacheOp::Purge {
                    surrogate_key,
                    soft,
                } => (
                    if *soft { "soft purge" } else { "purge" },
                    shorten(surrogate_key),
                ),
            };
            ("cache", name.to_owned(), format!("pop-{pop}"), key)
        }
        HostCall::Rate { pop, op } => {
            // The variant's name: the counters' operations need no more to be told apart.
            let debug = format!("{op:?}");
            let name = debug
                .split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or_default()
                .to_owned();
            ("rate", name, format!("pop-{pop}"), String::new())
        }
    }
}

fn outcome(reply: &HostReply) -> String {
    match reply {
        HostReply::Kv(Ok(KvReply::Entry(Some(entry)))) => {
            format!("found, {} bytes", entry.value.len())
        }
        HostReply::Kv(Ok(KvReply::Entry(None))) => "not found".to_owned(),
        HostReply::Kv(Ok(KvReply::Done)) => "ok".to_owned(),
        HostReply::Kv(Ok(KvReply::Page(page))) => format!("{} keys", page.keys.len()),
        HostReply::Kv(Err(e)) => e.to_string(),
        HostReply::Cache(Ok(CacheReply::Lookup(lookup))) => {
            match (lookup.state.found, lookup.state.stale) {
                (false, _) => "MISS",
                (true, true) => "STALE",
                (true, false) => "HIT",
            }
            .to_owned()
        }
        HostReply::Cache(Ok(CacheReply::Written(_))) => "stored".to_owned(),
        HostReply::Cache(Ok(CacheReply::Done)) => "ok".to_owned(),
        HostReply::Cache(Ok(CacheReply::Purged(count))) => format!("{count} purged"),
        HostReply::Cache(Err(e)) => e.to_string(),
        HostReply::Rate(Ok(_)) => "ok".to_owned(),
        HostReply::Rate(Err(e)) => e.to_string(),
    }
}

impl Host for ObservedHost {
    fn call(&self, call: HostCall) -> HostFuture {
        let described = describe(&call);
        let started = Instant::now();
        let reply = self.inner.call(call);
        let (activity, request) = (self.activity.clone(), self.request);
        Box::pin(async move {
            let reply = reply.await;
            record(&activity, request, described, outcome(&reply), started);
            reply
        })
    }

    fn call_blocking(&self, call: HostCall) -> HostReply {
        let described = describe(&call);
        let started = Instant::now();
        let reply = self.inner.call_blocking(call);
        self.record(described, outcome(&reply), started);
        reply
    }

    fn send(&self, request: BackendRequest, body: HostBody) -> SendFuture {
        let described = (
            "backend",
            request.method.clone(),
            request.backend.name.clone(),
            shorten(&request.url),
        );
        let started = Instant::now();
        let sent = self.inner.send(request, body);
        let (activity, id) = (self.activity.clone(), self.request);
        Box::pin(async move {
            let response = sent.await;
            let outcome = match &response {
                Ok(response) => match response.head.cache {
                    Some(cache) => format!("{} {cache}", response.head.status),
                    None => response.head.status.to_string(),
                },
                Err(e) => e.to_string(),
            };
            record(&activity, id, described, outcome, started);
            response
        })
    }

    fn log(&self, endpoint: &str, message: &[u8]) {
        let started = Instant::now();
        self.inner.log(endpoint, message);
        self.record(
            ("log", "log".to_owned(), endpoint.to_owned(), lossy(message)),
            String::new(),
            started,
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_ring_keeps_the_latest_requests_and_bounds_their_calls() {
        let activity = Activity::new();
        for id in 1..=(KEPT_REQUESTS as u64 + 5) {
            activity.begin(id, "GET", "/", None);
        }
        for _ in 0..(KEPT_CALLS + 3) {
            activity.call(
                KEPT_REQUESTS as u64 + 5,
                Call {
                    kind: "kv",
                    op: "lookup".into(),
                    target: "s".into(),
                    key: "k".into(),
                    outcome: "not found".into(),
                    ms: 0.1,
                },
            );
        }
        // A call of a request the ring no longer holds is dropped.
        activity.done(1, 200, 1.0);
        activity.done(KEPT_REQUESTS as u64 + 5, 201, 2.5);
        let ring = activity.ring.lock();
        assert_eq!(ring.len(), KEPT_REQUESTS);
        assert_eq!(ring.front().unwrap().id, 6);
        let last = ring.back().unwrap();
        assert_eq!((last.status, last.ms), (Some(201), Some(2.5)));
        assert_eq!((last.calls.len(), last.more_calls), (KEPT_CALLS, 3));
    }

    #[test]
    fn a_page_gets_the_past_then_the_new_events_and_ends_when_closed() {
        let activity = Activity::new();
        activity.begin(1, "GET", "/a", Some(1));
        let (past, mut events) = activity.subscribe().unwrap();
        assert_eq!(past.len(), 1);
        let first: serde_json::Value = serde_json::from_str(&past[0]).unwrap();
        assert_eq!(first["type"], "request");
        assert_eq!(first["path"], "/a");
        assert_eq!(first["pop"], 1);
        activity.done(1, 204, 3.0);
        let done: serde_json::Value = serde_json::from_str(&events.try_recv().unwrap()).unwrap();
        assert_eq!(
            done,
            serde_json::json!({"type": "done", "request": 1, "status": 204, "ms": 3.0})
        );
        activity.close();
        assert!(activity.subscribe().is_none());
        assert!(matches!(
            events.try_recv(),
            Err(broadcast::error::TryRecvError::Closed)
        ));
    }

    #[test]
    fn long_keys_are_cut() {
        let long = "é".repeat(SHOWN_CHARS + 10);
        let cut = shorten(&long);
        assert_eq!(cut.chars().count(), SHOWN_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(shorten("short"), "short");
    }
}
