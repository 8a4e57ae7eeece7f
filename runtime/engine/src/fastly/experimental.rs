//! `fastly:experimental`: `sdkVersion` and the platform's experimental switches.
//!
//! The exports are js-compute-runtime's (`runtime/fastly/builtins/fastly.cpp`):
//!
//! | export                      | here                                                     |
//! |-----------------------------|----------------------------------------------------------|
//! | `sdkVersion`                | [`SDK_VERSION`], the js-compute version emulated          |
//! | `enableDebugLogging`        | accepted, does nothing (it only tunes the runtime's logs) |
//! | `setReusableSandboxOptions` | accepted, does nothing (see `--reuse-instances`)          |
//! | `includeBytes`              | throws: files are not baked in at build time here         |
//! | `setDefaultBackend`         | throws: edgeshim has no backends                          |
//! | `allowDynamicBackends`      | throws: edgeshim has no backends                          |
//!
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:experimental/>.

use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::{js_string, Context, JsNativeError, JsResult, JsString, JsValue, NativeFunction};

/// The module specifier apps import.
pub const SPECIFIER: &str = "fastly:experimental";

/// The `@fastly/js-compute` version whose behaviour edgeshim emulates.
pub const SDK_VERSION: &str = "3.46.0";

/// The exports that throw, with why.
pub const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "includeBytes",
        "it embeds a file at build time, and edgeshim has no build step; read the bytes into \
         a KV store seed or import them as a module instead",
    ),
    (
        "setDefaultBackend",
        "edgeshim has no backends (fetch to origins is not emulated)",
    ),
    (
        "allowDynamicBackends",
        "edgeshim has no backends (fetch to origins is not emulated)",
    ),
];

/// The exports that are accepted and do nothing.
pub const NO_OPS: &[&str] = &["enableDebugLogging", "setReusableSandboxOptions"];

/// `fastly:experimental NAME() is not supported by edgeshim: WHY`
pub fn unsupported_message(name: &str) -> String {
    let why = UNSUPPORTED
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, why)| why);
    format!("fastly:experimental {name}() is not supported by edgeshim: {why}")
}

/// A function that throws the plain `Error` of [`unsupported_message`].
fn unsupported(name: &'static str) -> NativeFunction {
    NativeFunction::from_copy_closure(move |_, _, _| {
        Err(JsNativeError::error()
            .with_message(unsupported_message(name))
            .into())
    })
}

fn no_op(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    Ok(JsValue::undefined())
}

fn export_names() -> Vec<JsString> {
    std::iter::once("sdkVersion")
        .chain(UNSUPPORTED.iter().map(|(n, _)| *n))
        .chain(NO_OPS.iter().copied())
        .map(JsString::from)
        .collect()
}

/// The module namespace.
pub fn module(context: &mut Context) -> Module {
    Module::synthetic(
        &export_names(),
        SyntheticModuleInitializer::from_copy_closure(|module, context| {
            module.set_export(&js_string!("sdkVersion"), js_string!(SDK_VERSION).into())?;
            let realm = context.realm().clone();
            let functions = UNSUPPORTED
                .iter()
                .map(|(name, _)| (*name, unsupported(name)))
                .chain(
                    NO_OPS
                        .iter()
                        .map(|name| (*name, NativeFunction::from_fn_ptr(no_op))),
                );
            for (name, function) in functions {
                // Every one takes one argument on the platform.
                let function = FunctionObjectBuilder::new(&realm, function)
                    .name(JsString::from(name))
                    .length(1)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unsupported_export_explains_itself() {
        for (name, why) in UNSUPPORTED {
            let message = unsupported_message(name);
            assert!(message.starts_with(&format!("fastly:experimental {name}()")));
            assert!(message.ends_with(why));
        }
        assert_eq!(export_names().len(), 6);
    }
}
