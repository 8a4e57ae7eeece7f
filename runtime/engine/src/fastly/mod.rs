//! The `fastly:*` built-in modules.
//!
//! Only the modules [`builtin_modules`] lists exist; importing any other `fastly:`
//! specifier fails the load with a message that names it.
//!
//! | specifier             | module                |
//! |-----------------------|-----------------------|
//! | `fastly:kv-store`     | [`kv_store`]          |
//! | `fastly:env`          | [`env`]               |
//! | `fastly:experimental` | [`experimental`]      |
//! | `fastly:backend`      | [`backend`]           |
//! | `fastly:config-store` | [`config_store`]      |
//! | `fastly:dictionary`   | [`config_store`]      |
//! | `fastly:secret-store` | [`secret_store`]      |
//! | `fastly:logger`       | [`logger`]            |
//! | `fastly:compute`      | [`compute`]           |
//! | `fastly:geolocation`  | [`geolocation`]       |
//! | `fastly:acl`          | [`acl`]               |
//! | `fastly:device`       | [`device`]            |
//! | the rest (JS classes) | [`js_modules`]        |
//!
//! [`global`] is the global `fastly` object. [`compat`] holds the compatibility warnings (and `--strict`) they share.

pub mod acl;
pub mod backend;
pub mod cache;
pub mod compat;
pub mod compute;
pub mod config_store;
pub mod device;
pub mod edge_rate_limiter;
pub mod env;
pub mod experimental;
pub mod geolocation;
pub mod global;
pub mod html_rewriter;
pub mod http_cache_api;
pub mod js_modules;
pub mod kv_store;
pub mod logger;
pub mod secret_store;
pub mod texts;

use boa_engine::module::Module;
use boa_engine::Context;

/// The `fastly:*` specifiers this runtime serves, but for [`js_modules`]'.
const NATIVE_MODULES: &[&str] = &[
    kv_store::SPECIFIER,
    env::SPECIFIER,
    experimental::SPECIFIER,
    backend::SPECIFIER,
    config_store::SPECIFIER,
    config_store::DICTIONARY_SPECIFIER,
    secret_store::SPECIFIER,
    logger::SPECIFIER,
    compute::SPECIFIER,
    geolocation::SPECIFIER,
    acl::SPECIFIER,
    device::SPECIFIER,
];

/// Every `fastly:*` specifier this runtime serves.
pub fn builtin_modules() -> impl Iterator<Item = &'static str> {
    NATIVE_MODULES
        .iter()
        .copied()
        .chain(js_modules::specifiers())
}

/// Builds the built-in module for `specifier`, or `None` if there is no such module.
pub fn builtin_module(specifier: &str, context: &mut Context) -> Option<Module> {
    match specifier {
        kv_store::SPECIFIER => Some(kv_store::module(context)),
        env::SPECIFIER => Some(env::module(context)),
        experimental::SPECIFIER => Some(experimental::module(context)),
        backend::SPECIFIER => Some(backend::module(context)),
        config_store::SPECIFIER => Some(config_store::module(context)),
        config_store::DICTIONARY_SPECIFIER => Some(config_store::dictionary_module(context)),
        secret_store::SPECIFIER => Some(secret_store::module(context)),
        logger::SPECIFIER => Some(logger::module(context)),
        compute::SPECIFIER => Some(compute::module(context)),
        geolocation::SPECIFIER => Some(geolocation::module(context)),
        acl::SPECIFIER => Some(acl::module(context)),
        device::SPECIFIER => Some(device::module(context)),
        _ => js_modules::module(specifier, context),
    }
}
