//! `fastly:backend`: the module, its `Backend` class and the backend switches `fetch()` obeys.
//!
//! | file          | what                                                          |
//! |---------------|---------------------------------------------------------------|
//! | `binding.rs`  | `Backend`, the module's functions, the instance's registry     |
//! | `error.rs`    | every failure (fetch's included), and the one mapping to JS    |
//! | `messages.rs` | the platform's message texts, verbatim                         |
//!
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:backend/Backend/>;
//! behaviour and messages: js-compute-runtime's `runtime/fastly/builtins/backend.cpp`.

mod binding;
pub mod error;
pub mod messages;

use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::{js_string, Context, JsNativeError, JsResult, JsString};

pub use binding::{
    allow_dynamic_backends, allow_dynamic_backends_get, default_backend_get, registry,
    set_default_backend, Backends, JsBackend,
};

use crate::host_call::BackendSpec;

/// The module specifier apps import.
pub const SPECIFIER: &str = "fastly:backend";

const FUNCTIONS: [&str; 3] = [
    "enforceExplicitBackends",
    "setDefaultBackend",
    "setDefaultDynamicBackendConfig",
];

/// Registers the global `Backend` and the instance's backends: fastly.toml's `statics`.
pub fn register(statics: &[BackendSpec], context: &mut Context) -> JsResult<()> {
    context.insert_data(Backends::new(statics));
    context.register_global_class::<JsBackend>()?;
    let prototype = context
        .get_global_class::<JsBackend>()
        .ok_or_else(|| JsNativeError::typ().with_message("Backend is not registered"))?
        .prototype();
    binding::define_methods(&prototype, context)
}

/// The module namespace: `Backend` (the global) and the three functions.
pub fn module(context: &mut Context) -> Module {
    let names: Vec<JsString> = std::iter::once("Backend")
        .chain(FUNCTIONS)
        .map(JsString::from)
        .collect();
    Module::synthetic(
        &names,
        SyntheticModuleInitializer::from_copy_closure(|module, context| {
            let constructor = context
                .get_global_class::<JsBackend>()
                .ok_or_else(|| JsNativeError::typ().with_message("Backend is not registered"))?
                .constructor();
            module.set_export(&js_string!("Backend"), constructor.into())?;
            let realm = context.realm().clone();
            for (name, length, function) in binding::functions() {
                let function = FunctionObjectBuilder::new(&realm, function)
                    .name(JsString::from(name))
                    .length(length)
                    .constructor(false)
                    .build();
                module.set_export(&JsString::from(name), function.into())?;
            }
            Ok(())
        }),
        None,
        None,
        context,
    )
}
