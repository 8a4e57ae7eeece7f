//! `fastly:kv-store`: the module, its classes and their checks.
//!
//! | file            | what                                                    |
//! |-----------------|---------------------------------------------------------|
//! | `binding.rs`    | the JS classes `KVStore` and `KVStoreEntry`             |
//! | `validation.rs` | store names, keys and `put` options as checked newtypes |
//! | `error.rs`      | every failure, and the one mapping to JS error classes  |
//! | `messages.rs`   | the platform's message texts, verbatim                  |
//!
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:kv-store/KVStore/>;
//! the contract this follows is `shared/reference/kv-store.md`.

mod binding;
pub mod error;
pub mod messages;
pub mod validation;

use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::{js_string, Context, JsNativeError, JsResult};

pub use binding::{JsKvStore, KvStoreNames};

/// The module specifier apps import.
pub const SPECIFIER: &str = "fastly:kv-store";

/// Registers the globals `KVStore` and `KVStoreEntry` and tells the context which stores
/// exist (the host holds them).
pub fn register(stores: KvStoreNames, context: &mut Context) -> JsResult<()> {
    context.insert_data(stores);
    binding::register_classes(context)
}

/// The module namespace: exactly one export, `KVStore`, the same object as the global.
pub fn module(context: &mut Context) -> Module {
    Module::synthetic(
        &[js_string!("KVStore")],
        SyntheticModuleInitializer::from_copy_closure(|module, context| {
            let constructor = context
                .get_global_class::<JsKvStore>()
                .ok_or_else(|| JsNativeError::typ().with_message("KVStore is not registered"))?
                .constructor();
            module.set_export(&js_string!("KVStore"), constructor.into())
        }),
        None,
        None,
        context,
    )
}
