//! `fastly:secret-store`: `SecretStore` and `SecretStoreEntry`, the secrets declared in
//! fastly.toml's `[local_server.secret_stores]`, as Viceroy serves them.
//!
//! | file          | what                                            |
//! |---------------|-------------------------------------------------|
//! | `binding.rs`  | both classes, their checks in the platform's order |
//! | `error.rs`    | every failure, and the one mapping to JS         |
//! | `messages.rs` | the platform's message texts, verbatim           |
//!
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:secret-store/SecretStore/>.

mod binding;
pub mod error;
pub mod messages;

use std::collections::BTreeMap;
use std::rc::Rc;

use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::{js_string, Context, JsNativeError, JsResult};

pub use binding::SecretStores;
use binding::{JsSecretStore, JsSecretStoreEntry};

/// The module specifier apps import.
pub const SPECIFIER: &str = "fastly:secret-store";

/// Registers the globals `SecretStore` and `SecretStoreEntry` over `stores` (name to
/// secrets).
pub fn register(
    stores: &BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    context: &mut Context,
) -> JsResult<()> {
    let stores = stores
        .iter()
        .map(|(name, secrets)| (name.clone(), Rc::new(secrets.clone())))
        .collect();
    context.insert_data(SecretStores(Rc::new(stores)));
    binding::register(context)
}

/// `fastly:secret-store`: exactly the two globals.
pub fn module(context: &mut Context) -> Module {
    Module::synthetic(
        &[js_string!("SecretStore"), js_string!("SecretStoreEntry")],
        SyntheticModuleInitializer::from_copy_closure(|module, context| {
            let store = context
                .get_global_class::<JsSecretStore>()
                .ok_or_else(|| JsNativeError::typ().with_message("SecretStore is not registered"))?
                .constructor();
            let entry = context
                .get_global_class::<JsSecretStoreEntry>()
                .ok_or_else(|| {
                    JsNativeError::typ().with_message("SecretStoreEntry is not registered")
                })?
                .constructor();
            module.set_export(&js_string!("SecretStore"), store.into())?;
            module.set_export(&js_string!("SecretStoreEntry"), entry.into())
        }),
        None,
        None,
        context,
    )
}
