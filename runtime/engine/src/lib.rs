//! The JavaScript side of edgeshim: Boa contexts that run a Fastly Compute app.
//!
//! This crate's public surface is its boundary: plain requests in ([`IncomingRequest`]),
//! plain responses ([`ResponseParts`]) and host calls ([`HostCall`], answered by a [`Host`])
//! out; no Boa type crosses it. Inside, a [`Pool`] runs the app in Compute's instance model:
//! the top level evaluated once, each request in a fresh copy of that state, within
//! Compute's [`Limits`].
//!
//! | What                                   | Where                    |
//! |----------------------------------------|--------------------------|
//! | Isolation modes, worker threads        | `pool`                   |
//! | Snapshot process and its copies (Unix) | `snapshot`               |
//! | The host-call boundary                 | `host_call`              |
//! | The readthrough HTTP cache of `fetch`  | `http_cache`             |
//! | Compute's limits                       | `limits`                 |
//! | One instance: boot, fetch event        | `instance`               |
//! | The job executor (event loop)          | `event_loop`             |
//! | Module loading (`fastly:*`, app files) | `loader`                 |
//! | `fastly:kv-store`                      | `fastly::kv_store`       |
//! | Request, Response, Headers, console    | `web`                    |
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use edgeshim_engine::{App, IncomingRequest, Pool, PoolConfig};
//! use edgeshim_store::Stores;
//!
//! let app = App::new("app.js".as_ref(), Stores::new())?;
//! let pool = Pool::start(app, &PoolConfig::default())?;
//! let response = pool
//!     .handle(IncomingRequest {
//!         method: "GET".into(),
//!         url: "http://localhost/".into(),
//!         headers: vec![],
//!         body: Default::default(),
//!         pop: 0,
//!         client: None,
//!         kill_after: None,
//!         host: None,
//!     })
//!     .await?;
//! assert_eq!(response.status, 200);
//! # Ok(()) }
//! ```

mod boa_fixes;
mod class_util;
mod event_loop;
mod fastly;
mod host;
mod host_call;
mod http_cache;
mod instance;
mod js_lib;
mod limits;
mod loader;
mod origin;
mod pool;
mod resolve;
#[cfg(unix)]
mod snapshot;
mod surface;
mod typescript;
mod web;

pub use fastly::acl::AclEntry;
pub use fastly::geolocation::Geolocation;
pub use fastly::kv_store::validation::check_key as check_kv_key;
pub use host_call::{
    BackendHead, BackendRequest, BackendResponse, BackendSpec, Edge, Host, HostCall, HostFuture,
    HostReply, KvOp, KvReply, LocalHost, SendError, SendFuture,
};
pub use instance::{App, AppSettings, BootError, HandleError, IncomingRequest};
pub use limits::{
    Limit, Limits, CPU_LIMIT, HEAP_HEADROOM, HEAP_LIMIT, RECURSION_LIMIT, WALL_LIMIT,
};
pub use pool::{Pool, PoolConfig, PoolError};
#[cfg(unix)]
pub use snapshot::{run_snapshot_process, CountingAllocator, SNAPSHOT_PROCESS_ARG};
pub use web::body_stream::{BodyChunks, Chunk, HostBody};
pub use web::response::ResponseParts;
