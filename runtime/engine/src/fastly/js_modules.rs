//! The `fastly:*` modules whose classes are written in JS (`js-lib/fastly.js`, the `fastly`
//! library): each module exports members of the library's `internal` object.
//!
//! | specifier                  | exports                                                    |
//! |----------------------------|------------------------------------------------------------|
//! | `fastly:cache-override`    | `CacheOverride` (steers the readthrough cache, `http_cache`) |
//! | `fastly:body`              | `FastlyBody`, in memory                                     |
//! | `fastly:edge-rate-limiter` | `EdgeRateLimiter`, `PenaltyBox`, `RateCounter`, counted (`host.rate`) |
//! | `fastly:cache`             | the Core and Simple Cache classes, over `host.cache`        |
//! | `fastly:html-rewriter`     | `HTMLRewritingStream`, on lol_html (`super::html_rewriter`) |
//! | `fastly:fanout`            | `createFanoutHandoff`: checks, then not emulated            |
//! | `fastly:websocket`         | `createWebsocketHandoff`: checks, then not emulated         |
//! | `fastly:shielding`         | `Shield`: not emulated                                      |
//! | `fastly:security`          | `inspect`: checks, then not emulated                        |
//! | `fastly:image-optimizer`   | the option constants, `optionsToQueryString` (the image itself passes through `fetch` unchanged) |
//!
//! What is not emulated fails with an Error that names the API and says what Compute does
//! with it, never with a missing export.

use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::{js_string, Context, JsResult, JsString};

use crate::js_lib;

/// One module: its specifier and its exports, read from the library's `internal` object
/// (`image-optimizer`'s from `internal.imageOptimizer`).
struct JsModule {
    specifier: &'static str,
    exports: &'static [&'static str],
}

const IMAGE_OPTIMIZER: &str = "fastly:image-optimizer";

const MODULES: &[JsModule] = &[
    JsModule {
        specifier: "fastly:cache-override",
        exports: &["CacheOverride"],
    },
    JsModule {
        specifier: "fastly:body",
        exports: &["FastlyBody"],
    },
    JsModule {
        specifier: "fastly:edge-rate-limiter",
        exports: &["EdgeRateLimiter", "PenaltyBox", "RateCounter"],
    },
    JsModule {
        specifier: "fastly:cache",
        exports: &[
            "CacheEntry",
            "CacheState",
            "CoreCache",
            "PendingTransaction",
            "SimpleCache",
            "SimpleCacheEntry",
            "TransactionCacheEntry",
        ],
    },
    JsModule {
        specifier: "fastly:html-rewriter",
        exports: &["HTMLRewritingStream"],
    },
    JsModule {
        specifier: "fastly:fanout",
        exports: &["createFanoutHandoff"],
    },
    JsModule {
        specifier: "fastly:websocket",
        exports: &["createWebsocketHandoff"],
    },
    JsModule {
        specifier: "fastly:shielding",
        exports: &["Shield"],
    },
    JsModule {
        specifier: "fastly:security",
        exports: &["inspect"],
    },
    JsModule {
        specifier: IMAGE_OPTIMIZER,
        exports: &[
            "Auto",
            "BWAlgorithm",
            "CropMode",
            "Disable",
            "Enable",
            "Fit",
            "Format",
            "Metadata",
            "Optimize",
            "Orient",
            "Profile",
            "Region",
            "ResizeFilter",
            "optionsToQueryString",
        ],
    },
];

/// The specifiers served here.
pub fn specifiers() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|m| m.specifier)
}

fn initialize(
    module: &boa_engine::module::SyntheticModule,
    specifier: &str,
    context: &mut Context,
) -> JsResult<()> {
    let Some(spec) = MODULES.iter().find(|m| m.specifier == specifier) else {
        return Ok(());
    };
    let mut source = js_lib::internal(context, "fastly")?;
    if specifier == IMAGE_OPTIMIZER {
        let nested = source.get(js_string!("imageOptimizer"), context)?;
        if let Some(object) = nested.as_object() {
            source = object.clone();
        }
    }
    for name in spec.exports {
        let value = source.get(JsString::from(*name), context)?;
        let short = specifier.trim_start_matches("fastly:");
        crate::surface::conform_export(short, name, &value, context)?;
        module.set_export(&JsString::from(*name), value)?;
    }
    Ok(())
}

/// Builds the module for `specifier`, if it is one of these.
pub fn module(specifier: &str, context: &mut Context) -> Option<Module> {
    let spec = MODULES.iter().find(|m| m.specifier == specifier)?;
    let names: Vec<JsString> = spec.exports.iter().map(|n| JsString::from(*n)).collect();
    let specifier = spec.specifier;
    Some(Module::synthetic(
        &names,
        SyntheticModuleInitializer::from_copy_closure_with_captures(
            |module, specifier: &&'static str, context| initialize(module, specifier, context),
            specifier,
        ),
        None,
        None,
        context,
    ))
}
