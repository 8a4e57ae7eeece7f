//! The web platform surface apps use: `Request`, `Response`, `Headers`, `FetchEvent`,
//! `console`, plus what boa_runtime provides well (timers, `URL`, `TextEncoder`/`TextDecoder`,
//! `atob`/`btoa`, `structuredClone`, `queueMicrotask`).

pub mod body;
pub mod body_mixin;
pub mod console;
pub mod fetch_event;
pub mod headers;
pub mod request;
pub mod response;

use boa_engine::{Context, JsResult};

/// Registers every web global in the context's realm.
pub fn register(context: &mut Context) -> JsResult<()> {
    boa_runtime::register(console::extension(), None, context)?;
    headers::register(context)?;
    request::register(context)?;
    response::register(context)?;
    fetch_event::register(context)?;
    Ok(())
}
