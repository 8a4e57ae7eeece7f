//! The host-call boundary: every service the app reaches outside JavaScript (KV today;
//! backends, caches and logs later) is one [`HostCall`] out and one [`HostReply`] back.
//!
//! Calls are asynchronous and plain data: the JS thread starts one and keeps running its
//! event loop; whoever implements [`Host`] (the server's [`StoreHost`], or the connection a
//! snapshot copy has to the server) does the waiting elsewhere. Nothing here knows Boa.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use edgeshim_store::{Entry, Insert, KvStore, ListPage, ListRequest, StoreError, Stores};
use serde::{Deserialize, Serialize};

/// One request to the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum HostCall {
    /// An operation on the KV store `store`, as edge location `pop` sees it.
    Kv { store: String, pop: usize, op: KvOp },
}

/// A KV store operation (the platform's `kv_store` host calls).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum KvOp {
    Lookup { key: String },
    Insert { key: String, insert: Insert },
    Delete { key: String },
    List { request: ListRequest },
}

/// The host's answer to one [`HostCall`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum HostReply {
    Kv(Result<KvReply, StoreError>),
}

/// What a successful [`KvOp`] returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum KvReply {
    Entry(Option<Entry>),
    Done,
    Page(ListPage),
}

/// A reply in flight; `Send`, so it may be awaited on another thread or process.
pub type HostFuture = Pin<Box<dyn Future<Output = HostReply> + Send>>;

/// Whatever answers host calls.
pub trait Host: Send + Sync + std::fmt::Debug {
    fn call(&self, call: HostCall) -> HostFuture;
}

/// The host of the KV stores declared in fastly.toml, in this process. Store calls block
/// (SQLite waits up to its busy timeout, Redis for the network), so each runs on tokio's
/// blocking pool, never on the thread that runs JavaScript.
#[derive(Debug, Clone)]
pub struct StoreHost {
    stores: Stores,
    /// Each simulated edge location's view of `stores` (`--pops`); empty: `stores` everywhere.
    locations: Vec<Stores>,
}

impl StoreHost {
    pub fn new(stores: Stores, locations: Vec<Stores>) -> Self {
        Self { stores, locations }
    }

    fn store(&self, name: &str, pop: usize) -> Option<Arc<dyn KvStore>> {
        match self.locations.len() {
            0 => self.stores.get(name),
            n => self.locations[pop % n].get(name),
        }
    }
}

/// Runs `op` on `store`, blocking.
fn run_kv(store: &dyn KvStore, op: KvOp) -> Result<KvReply, StoreError> {
    match op {
        KvOp::Lookup { key } => store.lookup(&key).map(KvReply::Entry),
        KvOp::Insert { key, insert } => store.insert(&key, insert).map(|()| KvReply::Done),
        KvOp::Delete { key } => store.delete(&key).map(|()| KvReply::Done),
        KvOp::List { request } => store.list(&request).map(KvReply::Page),
    }
}

impl Host for StoreHost {
    fn call(&self, call: HostCall) -> HostFuture {
        let HostCall::Kv { store, pop, op } = call;
        let Some(found) = self.store(&store, pop) else {
            // The binding checks names against the same configuration first.
            return Box::pin(std::future::ready(HostReply::Kv(Err(
                StoreError::InternalError(format!("no KV store named '{store}'")),
            ))));
        };
        Box::pin(async move {
            let done = tokio::task::spawn_blocking(move || run_kv(found.as_ref(), op)).await;
            HostReply::Kv(done.unwrap_or_else(|e| {
                Err(StoreError::InternalError(format!(
                    "the store call failed: {e}"
                )))
            }))
        })
    }
}

/// The host an instance reaches, as context data.
#[derive(Debug, Clone)]
pub(crate) struct HostHandle(pub Arc<dyn Host>);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use edgeshim_store::{MemoryStore, SystemClock};

    #[tokio::test]
    async fn store_calls_reach_the_store_of_the_location() {
        let mut stores = Stores::new();
        stores.insert("s", Arc::new(MemoryStore::new(Arc::new(SystemClock))));
        let host = StoreHost::new(stores, Vec::new());
        let put = HostCall::Kv {
            store: "s".into(),
            pop: 0,
            op: KvOp::Insert {
                key: "k".into(),
                insert: Insert {
                    value: "v".into(),
                    ..Insert::default()
                },
            },
        };
        assert!(matches!(
            host.call(put).await,
            HostReply::Kv(Ok(KvReply::Done))
        ));
        let get = HostCall::Kv {
            store: "s".into(),
            pop: 0,
            op: KvOp::Lookup { key: "k".into() },
        };
        let HostReply::Kv(Ok(KvReply::Entry(Some(entry)))) = host.call(get).await else {
            panic!("no entry");
        };
        assert_eq!(entry.value, "v");
        let missing = HostCall::Kv {
            store: "nope".into(),
            pop: 0,
            op: KvOp::Delete { key: "k".into() },
        };
        assert!(matches!(
            host.call(missing).await,
            HostReply::Kv(Err(StoreError::InternalError(_)))
        ));
    }
}
