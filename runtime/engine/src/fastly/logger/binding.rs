//! `Logger` and `configureConsole` as js-compute-runtime has them (`builtins/logger.cpp`):
//! the endpoint is opened at the first `log` (a reserved name fails there, not in the
//! constructor); the message is the argument converted to a string.

use std::cell::Cell;

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsNativeError, JsObject, JsResult, JsValue,
    NativeFunction, Trace,
};

use super::error::LoggerError;
use crate::class_util::{define_enumerable_method, require_args, this_as};
use crate::host_call::HostHandle;

const CLASS: &str = "Logger";

/// A named log endpoint.
#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsLogger {
    #[unsafe_ignore_trace]
    endpoint: String,
    /// Whether the host has accepted the name (at the first `log`).
    #[unsafe_ignore_trace]
    opened: Cell<bool>,
}

/// Endpoint names Viceroy refuses (`src/wiggle_abi/log_impl.rs`), case-insensitively.
fn is_reserved(endpoint: &str) -> bool {
    let lower = endpoint.to_ascii_lowercase();
    lower == "stdout" || lower == "stderr" || lower.starts_with("fst_managed_")
}

impl Class for JsLogger {
    const NAME: &'static str = CLASS;
    const LENGTH: usize = 1;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        require_args(args, "Logger constructor", 1)?;
        let endpoint = args[0].to_string(context)?.to_std_string_lossy();
        Ok(Self {
            endpoint,
            opened: Cell::new(false),
        })
    }

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        Ok(())
    }
}

/// `logger.log(message)`.
fn log(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let logger = this_as::<JsLogger>(this, "log", CLASS)?;
    require_args(args, "log", 1)?;
    let endpoint = {
        let logger = logger.borrow();
        let data = logger.data();
        if !data.opened.get() {
            if is_reserved(&data.endpoint) {
                return Err(LoggerError::ReservedEndpoint.into());
            }
            data.opened.set(true);
        }
        data.endpoint.clone()
    };
    let message = args[0].to_string(context)?.to_std_string_lossy();
    if let Some(host) = context.get_data::<HostHandle>() {
        host.0.log(&endpoint, message.as_bytes());
    }
    Ok(JsValue::undefined())
}

/// The kind of a `console.*` line, for its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleLevel {
    Log,
    Info,
    Debug,
    Warn,
    Error,
}

/// What `configureConsole` set, as context data: a snapshot copy starts with what the top
/// level set, as a Compute instance starts from its Wizer snapshot.
#[derive(Debug, Default)]
pub struct ConsoleOptions {
    prefixing: Cell<bool>,
    stderr: Cell<bool>,
}

impl ConsoleOptions {
    /// `message` as the console writes it: with the platform's `Log: `-style prefix when
    /// `prefixing` is on.
    pub fn format(context: &Context, level: ConsoleLevel, message: String) -> String {
        let prefixing = context
            .get_data::<Self>()
            .is_some_and(|options| options.prefixing.get());
        if !prefixing {
            return message;
        }
        let prefix = match level {
            ConsoleLevel::Log => "Log",
            ConsoleLevel::Info => "Info",
            ConsoleLevel::Debug => "Debug",
            ConsoleLevel::Warn => "Warn",
            ConsoleLevel::Error => "Error",
        };
        format!("{prefix}: {message}")
    }
}

/// Reads one boolean option: absent (`undefined`) leaves the setting as it was.
fn boolean_option(
    options: &JsObject,
    name: &'static str,
    error: LoggerError,
    context: &mut Context,
) -> JsResult<Option<bool>> {
    let value = options.get(js_string!(name), context)?;
    if value.is_undefined() {
        return Ok(None);
    }
    value.as_boolean().map(Some).ok_or_else(|| error.into())
}

/// `configureConsole({ prefixing, stderr })`. `stderr` is checked and kept; edgeshim's
/// console lines are on stderr already, with the server's log.
fn configure_console(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let Some(options) = args.first().and_then(JsValue::as_object) else {
        return Err(LoggerError::OptionsNotObject.into());
    };
    let prefixing = boolean_option(
        &options,
        "prefixing",
        LoggerError::PrefixingNotBoolean,
        context,
    )?;
    if let (Some(prefixing), Some(state)) = (prefixing, context.get_data::<ConsoleOptions>()) {
        state.prefixing.set(prefixing);
    }
    let stderr = boolean_option(&options, "stderr", LoggerError::StderrNotBoolean, context)?;
    if let (Some(stderr), Some(state)) = (stderr, context.get_data::<ConsoleOptions>()) {
        state.stderr.set(stderr);
    }
    Ok(JsValue::undefined())
}

/// The `configureConsole` function object (one per import: the module is built once).
pub fn configure_console_function(context: &mut Context) -> JsObject {
    let realm = context.realm().clone();
    FunctionObjectBuilder::new(&realm, NativeFunction::from_fn_ptr(configure_console))
        .name(js_string!("configureConsole"))
        .length(1)
        .constructor(false)
        .build()
        .into()
}

pub fn register(context: &mut Context) -> JsResult<()> {
    context.insert_data(ConsoleOptions::default());
    context.register_global_class::<JsLogger>()?;
    let class = context
        .get_global_class::<JsLogger>()
        .ok_or_else(|| JsNativeError::typ().with_message("Logger is not registered"))?;
    define_enumerable_method(&class.prototype(), "log", 1, log, context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viceroy_reserves_stdout_stderr_and_managed_endpoints() {
        for name in ["stdout", "STDERR", "fst_managed_x", "Fst_Managed_"] {
            assert!(is_reserved(name), "{name}");
        }
        for name in ["my_logs", "stdout2", "xstderr", "fst_manage"] {
            assert!(!is_reserved(name), "{name}");
        }
    }
}
