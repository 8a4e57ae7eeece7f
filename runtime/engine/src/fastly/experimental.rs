//! `fastly:experimental`: `sdkVersion` and the platform's experimental switches.
//!
//! The exports are js-compute-runtime's (`runtime/fastly/builtins/fastly.cpp`):
//!
//! | export                      | here                                                     |
//! |-----------------------------|----------------------------------------------------------|
//! | `sdkVersion`                | [`SDK_VERSION`], the js-compute version emulated          |
//! | `enableDebugLogging`        | accepted, does nothing (it only tunes the runtime's logs) |
//! | `setReusableSandboxOptions` | accepted, does nothing (see `--reuse-instances`)          |
//! | `includeBytes`              | during initialization, a file of the project, as the build |
//! | `setDefaultBackend`         | as `fastly:backend`'s: the backend of `fetch()` without one |
//! | `allowDynamicBackends`      | turns dynamic backends on or off (an object: on, with defaults) |
//! | `setBaseURL`                | the base of relative URLs in `new Request()` and `fetch()` ([`BaseUrl`]) |
//! | `mapError`                  | the build's default (no `--enable-stack-traces`): a note and the error |
//! | `mapAndLogError`            | `mapError`, each line to `console.error`                 |
//!
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:experimental/>.

use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::{js_string, Context, JsNativeError, JsResult, JsString, JsValue, NativeFunction};

/// The module specifier apps import.
pub const SPECIFIER: &str = "fastly:experimental";

/// The `@fastly/js-compute` version whose behaviour edgeshim emulates.
pub const SDK_VERSION: &str = "3.46.0";

/// The exports that are accepted and do nothing.
pub const NO_OPS: &[&str] = &["enableDebugLogging", "setReusableSandboxOptions"];

/// The folder `includeBytes` paths are relative to, and confined to: the project root (the
/// nearest folder above the app with a package.json, where the build runs), as context data.
#[derive(Debug, Clone)]
pub struct ProjectRoot(pub std::path::PathBuf);

impl ProjectRoot {
    /// The project root of the app at `entry`: the nearest folder above it with a
    /// package.json, else the working directory.
    pub fn of(entry: &std::path::Path) -> Self {
        let root = entry
            .ancestors()
            .skip(1)
            .find(|dir| dir.join("package.json").is_file())
            .map(std::path::Path::to_owned)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        Self(root)
    }
}

/// `fastly.baseURL`: what relative URLs resolve against (context data). Each request that
/// finds it unset sets it to the origin of the client request's URL, as js-compute does
/// (`builtins/fetch-event.cpp`); `setBaseURL` sets it, or clears it with `null`.
#[derive(Debug, Default)]
pub struct BaseUrl(std::cell::RefCell<Option<url::Url>>);

impl BaseUrl {
    /// The base of relative URLs now, if any.
    pub fn get(context: &Context) -> Option<url::Url> {
        context
            .get_data::<Self>()
            .and_then(|base| base.0.borrow().clone())
    }

    /// Starts a request for `url`: the base becomes its origin unless one is set.
    pub fn begin_request(url: Option<&url::Url>, context: &Context) {
        let Some(base) = context.get_data::<Self>() else {
            return;
        };
        if base.0.borrow().is_some() {
            return;
        }
        let origin = url.and_then(|u| url::Url::parse(&u.origin().ascii_serialization()).ok());
        *base.0.borrow_mut() = origin;
    }
}

/// js-compute's message for a bad `fastly.baseURL` (`Fastly::baseURL_set`).
const BASE_URL_INVALID: &str =
    "Invalid value assigned to fastly.baseURL, must be an instance of URL, null, or undefined";

pub(crate) fn set_base_url(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    let value = args.first().cloned().unwrap_or_default();
    let url = if value.is_null_or_undefined() {
        None
    } else {
        Some(
            crate::web::url::JsUrl::url_of(&value)
                .ok_or_else(|| JsNativeError::error().with_message(BASE_URL_INVALID))?,
        )
    };
    if let Some(base) = context.get_data::<BaseUrl>() {
        *base.0.borrow_mut() = url;
    }
    Ok(value)
}

/// The note the build's `__fastlyMapError` gives without `--enable-stack-traces`
/// (`src/compiler-steps/addFastlyHelpers.ts`).
const RAW_ERROR_NOTE: &str =
    "(Raw error) - build with --enable-stack-traces for mapped stack information.";

fn map_error(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let error = args.first().cloned().unwrap_or_default();
    let lines = [js_string!(RAW_ERROR_NOTE).into(), error];
    Ok(boa_engine::object::builtins::JsArray::from_iter(lines, context).into())
}

fn map_and_log_error(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let error = args.first().cloned().unwrap_or_default();
    tracing::error!(target: "edgeshim::console", "{RAW_ERROR_NOTE}");
    let text = match error.as_object() {
        // An Error prints as `Name: message`, as console.error shows it.
        Some(object) if object.is::<boa_engine::builtins::error::Error>() => {
            error.to_string(context)?.to_std_string_lossy()
        }
        _ => error.display().to_string(),
    };
    tracing::error!(target: "edgeshim::console", "{text}");
    Ok(JsValue::undefined())
}

/// StarlingMonkey's `InitializationOnly` error text, verbatim (it reads like the
/// request-handler one upstream too).
const INIT_ONLY: &str =
    "fastly.includeBytes can only be used during request handling, not during initialization";

/// `includeBytes(path)`: during initialization (the top level, which the build runs once,
/// as edgeshim's snapshot does), the bytes of a file of the project as a `Uint8Array`.
/// Reference: `Fastly::includeBytes` in js-compute-runtime's `runtime/fastly/builtins/fastly.cpp`.
pub(crate) fn include_bytes(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    if crate::host::Phase::in_request(context) {
        return Err(JsNativeError::typ().with_message(INIT_ONLY).into());
    }
    let Some(path) = args.first() else {
        return Err(JsNativeError::typ()
            .with_message(
                "fastly.includeBytes requires at least 1 argument, but only 0 were passed",
            )
            .into());
    };
    let path = path.to_string(context)?.to_std_string_lossy();
    let root = context
        .get_data::<ProjectRoot>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    // The build reads from a sandbox holding the project folder only.
    let bytes = root
        .join(&path)
        .canonicalize()
        .ok()
        .filter(|file| root.canonicalize().is_ok_and(|root| file.starts_with(root)))
        .and_then(|file| std::fs::read(file).ok())
        .ok_or_else(|| JsNativeError::error().with_message(format!("Error opening file {path}")))?;
    Ok(crate::web::body::uint8_array(&bytes, context)?.into())
}

pub(crate) fn no_op(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    Ok(JsValue::undefined())
}

fn export_names() -> Vec<JsString> {
    [
        "sdkVersion",
        "includeBytes",
        "setBaseURL",
        "mapError",
        "mapAndLogError",
    ]
    .into_iter()
    .chain(["setDefaultBackend", "allowDynamicBackends"])
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
            let functions = [
                (
                    "setDefaultBackend",
                    NativeFunction::from_fn_ptr(crate::fastly::backend::set_default_backend),
                ),
                (
                    "allowDynamicBackends",
                    NativeFunction::from_fn_ptr(crate::fastly::backend::allow_dynamic_backends),
                ),
                ("includeBytes", NativeFunction::from_fn_ptr(include_bytes)),
                ("setBaseURL", NativeFunction::from_fn_ptr(set_base_url)),
                ("mapError", NativeFunction::from_fn_ptr(map_error)),
                (
                    "mapAndLogError",
                    NativeFunction::from_fn_ptr(map_and_log_error),
                ),
            ]
            .into_iter()
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
    fn the_module_has_the_platforms_nine_exports() {
        assert_eq!(export_names().len(), 9);
    }
}
