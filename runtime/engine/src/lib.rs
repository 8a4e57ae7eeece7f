//! The JavaScript side of edgeshim: Boa contexts that run a Fastly Compute app.
//!
//! The server hands this crate plain requests ([`IncomingRequest`]) and gets plain responses
//! ([`ResponseParts`]) back; no Boa type crosses that line. Inside, a [`Pool`] of worker
//! threads runs [`Instance`]s: a Boa context with the web globals, the `fastly:*` modules and
//! the app module evaluated.
//!
//! | What                                   | Where                    |
//! |----------------------------------------|--------------------------|
//! | Worker threads, isolation modes        | [`pool`]                 |
//! | One instance: boot, fetch event        | [`instance`]             |
//! | The job executor (event loop)          | [`event_loop`]           |
//! | Module loading (`fastly:*`, app files) | [`loader`]               |
//! | `fastly:kv-store`                      | [`fastly::kv_store`]     |
//! | Request, Response, Headers, console    | [`web`]                  |
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
//!     })
//!     .await?;
//! assert_eq!(response.status, 200);
//! # Ok(()) }
//! ```

pub mod class_util;
pub mod event_loop;
pub mod fastly;
pub mod host;
pub mod instance;
pub mod js_lib;
pub mod loader;
pub mod pool;
pub mod web;

pub use instance::{App, BootError, HandleError, IncomingRequest, Instance};
pub use pool::{Pool, PoolConfig, PoolError};
pub use web::response::ResponseParts;
