//! `fastly:logger`: `Logger` (named log endpoints; Viceroy writes `endpoint :: line` to its
//! stdout, and so does edgeshim) and `configureConsole` (prefixes on `console.*` lines).
//!
//! | file          | what                                             |
//! |---------------|--------------------------------------------------|
//! | `binding.rs`  | `Logger`, `configureConsole`, the console options |
//! | `error.rs`    | every failure, and the one mapping to JS          |
//! | `messages.rs` | the platform's message texts, verbatim            |
//!
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:logger/Logger/>.

mod binding;
pub mod error;
pub mod messages;

use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::{js_string, Context, JsNativeError, JsResult};

use binding::JsLogger;
pub use binding::{ConsoleLevel, ConsoleOptions};

/// The module specifier apps import.
pub const SPECIFIER: &str = "fastly:logger";

/// Registers the global `Logger` and the console options.
pub fn register(context: &mut Context) -> JsResult<()> {
    binding::register(context)
}

/// `fastly:logger`: `Logger` (the global) and `configureConsole`.
pub fn module(context: &mut Context) -> Module {
    Module::synthetic(
        &[js_string!("Logger"), js_string!("configureConsole")],
        SyntheticModuleInitializer::from_copy_closure(|module, context| {
            let logger = context
                .get_global_class::<JsLogger>()
                .ok_or_else(|| JsNativeError::typ().with_message("Logger is not registered"))?
                .constructor();
            module.set_export(&js_string!("Logger"), logger.into())?;
            let configure = binding::configure_console_function(context);
            module.set_export(&js_string!("configureConsole"), configure.into())
        }),
        None,
        None,
        context,
    )
}
