//! `fastly:config-store` (`ConfigStore`) and `fastly:dictionary` (`Dictionary`, its older
//! name): read-only string maps declared in fastly.toml, as Viceroy serves them.
//!
//! | file          | what                                                     |
//! |---------------|----------------------------------------------------------|
//! | `binding.rs`  | both classes (one implementation, two names)              |
//! | `error.rs`    | every failure, and the one mapping to JS                  |
//! | `messages.rs` | the platform's message texts, verbatim                    |
//!
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:config-store/ConfigStore/>.

mod binding;
pub mod error;
pub mod messages;

use std::collections::BTreeMap;
use std::rc::Rc;

use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::{js_string, Context, JsNativeError, JsResult};

use binding::{ConfigStoreFlavor, DictionaryFlavor, JsConfigStore};
pub use binding::{ConfigStores, Lookups};

/// The module specifiers apps import.
pub const SPECIFIER: &str = "fastly:config-store";
pub const DICTIONARY_SPECIFIER: &str = "fastly:dictionary";

/// Registers the globals `ConfigStore` and `Dictionary` over `stores` (name to entries).
pub fn register(
    stores: &BTreeMap<String, BTreeMap<String, String>>,
    context: &mut Context,
) -> JsResult<()> {
    let stores = stores
        .iter()
        .map(|(name, entries)| (name.clone(), Rc::new(entries.clone())))
        .collect();
    context.insert_data(ConfigStores(Rc::new(stores)));
    binding::register::<ConfigStoreFlavor>(context)?;
    binding::register::<DictionaryFlavor>(context)?;
    Ok(())
}

/// `fastly:config-store`: exactly `ConfigStore`, the global.
pub fn module(context: &mut Context) -> Module {
    Module::synthetic(
        &[js_string!("ConfigStore")],
        SyntheticModuleInitializer::from_copy_closure(|module, context| {
            let constructor = context
                .get_global_class::<JsConfigStore<ConfigStoreFlavor>>()
                .ok_or_else(|| JsNativeError::typ().with_message("ConfigStore is not registered"))?
                .constructor();
            module.set_export(&js_string!("ConfigStore"), constructor.into())
        }),
        None,
        None,
        context,
    )
}

/// `fastly:dictionary`: exactly `Dictionary`, the global.
pub fn dictionary_module(context: &mut Context) -> Module {
    Module::synthetic(
        &[js_string!("Dictionary")],
        SyntheticModuleInitializer::from_copy_closure(|module, context| {
            let constructor = context
                .get_global_class::<JsConfigStore<DictionaryFlavor>>()
                .ok_or_else(|| JsNativeError::typ().with_message("Dictionary is not registered"))?
                .constructor();
            module.set_export(&js_string!("Dictionary"), constructor.into())
        }),
        None,
        None,
        context,
    )
}
