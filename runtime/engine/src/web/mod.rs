//! The web platform surface apps use. Each API is one module with the same inner shape:
//! the JS-facing class and its registration, the validation with its messages, and its
//! tests (Rust unit tests beside it, JS suites in `tests/js/`).
//!
//! From boa_runtime only what it does faithfully is taken: `console` formatting, timers,
//! `queueMicrotask`, `atob`/`btoa` and `structuredClone`.

pub mod body;
pub mod body_mixin;
pub mod body_stream;
pub mod bot;
pub mod compression;
pub mod console;
pub mod crypto;
pub mod dom_exception;
pub mod encoding;
pub mod fetch;
pub mod fetch_event;
pub mod form_data;
pub mod framing;
pub mod global_scope;
pub mod headers;
pub mod json_error;
pub mod performance;
#[cfg(test)]
mod proptests;
pub mod request;
pub mod response;
pub mod url;

use boa_engine::{Context, JsResult};
use boa_runtime::extensions::{
    Base64Extension, MicrotaskExtension, StructuredCloneExtension, TimeoutExtension,
};

/// Registers every web global in the context's realm.
pub fn register(context: &mut Context) -> JsResult<()> {
    boa_runtime::register_extensions(
        (
            console::extension(),
            Base64Extension,
            TimeoutExtension,
            MicrotaskExtension,
            StructuredCloneExtension,
        ),
        None,
        context,
    )?;
    dom_exception::register(context)?;
    encoding::register(context)?;
    url::register(context)?;
    crypto::register(context)?;
    headers::register(context)?;
    performance::register(context)?;
    request::register(context)?;
    response::register(context)?;
    fetch_event::register(context)?;
    fetch::register(context)?;
    crate::js_lib::register(context)?;
    global_scope::register(context)?;
    Ok(())
}
