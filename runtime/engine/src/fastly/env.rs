//! `fastly:env`: `env(name)`, the environment variables of the Compute instance.
//!
//! What an app sees, first match wins:
//! 1. variables given to the server with `--env NAME=VALUE` or `--env NAME` (the value taken
//!    from the server's own environment): visible during initialization and requests, like
//!    the variables js-compute's own `--env` build option bakes in;
//! 2. during request handling only, the `FASTLY_*` variables the Viceroy local server
//!    defines ([`LOCAL_SERVER_VARS`] and a per-request `FASTLY_TRACE_ID`).
//!
//! Anything else is `undefined`, as in js-compute-runtime (3.33 and newer).
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:env/env>.

use std::cell::RefCell;
use std::collections::HashMap;

use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::{js_string, Context, JsResult, JsString, JsValue, NativeFunction};

use crate::class_util::{require_args, type_error};
use crate::host::Phase;

/// The module specifier apps import.
pub const SPECIFIER: &str = "fastly:env";

/// What Viceroy defines for every request (its `make_wasi_ctx`), besides the trace id.
pub const LOCAL_SERVER_VARS: &[(&str, &str)] = &[
    ("FASTLY_CACHE_GENERATION", "0"),
    ("FASTLY_CUSTOMER_ID", "0000000000000000000000"),
    ("FASTLY_POP", "XXX"),
    ("FASTLY_REGION", "Somewhere"),
    ("FASTLY_SERVICE_ID", "0000000000000000000000"),
    ("FASTLY_SERVICE_VERSION", "0"),
    ("FASTLY_HOSTNAME", "localhost"),
    ("FASTLY_IS_STAGING", "0"),
];

/// The per-request variable holding the request's id.
pub const TRACE_ID: &str = "FASTLY_TRACE_ID";

/// Per-context state: the configured variables and the current request's trace id.
#[derive(Debug, Default)]
pub struct Env {
    configured: HashMap<String, String>,
    trace_id: RefCell<Option<String>>,
}

impl Env {
    /// Installs `configured` (the `--env` variables) in `context`.
    pub fn install(configured: &[(String, String)], context: &mut Context) {
        context.insert_data(Self {
            configured: configured.iter().cloned().collect(),
            trace_id: RefCell::default(),
        });
    }

    /// Starts a request: gives it a new `FASTLY_TRACE_ID`.
    pub fn begin_request(context: &Context) {
        if let Some(env) = context.get_data::<Self>() {
            *env.trace_id.borrow_mut() = Some(new_trace_id());
        }
    }

    /// The value `env(name)` returns, or `None` for `undefined`.
    pub fn get(&self, name: &str, in_request: bool) -> Option<String> {
        if let Some(value) = self.configured.get(name) {
            return Some(value.clone());
        }
        if !in_request {
            return None;
        }
        if name == TRACE_ID {
            return self.trace_id.borrow().clone();
        }
        LOCAL_SERVER_VARS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

/// 32 lowercase hex digits, Viceroy's width; random, as the platform's ids are (Viceroy
/// counts from 0 instead).
fn new_trace_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Without an OS random source, a clock-derived id still tells requests apart.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `env(name)`: ToString of `name`, then the lookup above.
pub(crate) fn env(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    // The platform exports `fastly.env.get` itself, hence the name in the message.
    require_args(args, "fastly.env.get", 1)?;
    if args[0].is_symbol() {
        return Err(type_error("can't convert symbol to string"));
    }
    let name = args[0].to_string(context)?.to_std_string_lossy();
    let in_request = Phase::in_request(context);
    let value = context
        .get_data::<Env>()
        .and_then(|env| env.get(&name, in_request));
    Ok(value.map_or_else(JsValue::undefined, |v| JsString::from(v.as_str()).into()))
}

/// The module namespace: one export, `env` (named `get`, length 1, as on the platform).
pub fn module(context: &mut Context) -> Module {
    Module::synthetic(
        &[js_string!("env")],
        SyntheticModuleInitializer::from_copy_closure(|module, context| {
            let realm = context.realm().clone();
            let function = FunctionObjectBuilder::new(&realm, NativeFunction::from_fn_ptr(env))
                .name(js_string!("get"))
                .length(1)
                .constructor(false)
                .build();
            module.set_export(&js_string!("env"), function.into())
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
    fn configured_variables_win_and_fastly_ones_need_a_request() {
        let env = Env {
            configured: [("LOG_LEVEL".to_owned(), "debug".to_owned())]
                .into_iter()
                .chain([("FASTLY_POP".to_owned(), "LHR".to_owned())])
                .collect(),
            trace_id: RefCell::new(Some("ab".repeat(16))),
        };
        assert_eq!(env.get("LOG_LEVEL", false).as_deref(), Some("debug"));
        assert_eq!(env.get("LOG_LEVEL", true).as_deref(), Some("debug"));
        assert_eq!(env.get("FASTLY_HOSTNAME", false), None);
        assert_eq!(
            env.get("FASTLY_HOSTNAME", true).as_deref(),
            Some("localhost")
        );
        assert_eq!(env.get("FASTLY_POP", true).as_deref(), Some("LHR"));
        assert_eq!(env.get(TRACE_ID, true), Some("ab".repeat(16)));
        assert_eq!(env.get("NOPE", true), None);
    }

    #[test]
    fn trace_ids_are_32_hex_digits_and_differ() {
        let a = new_trace_id();
        assert_eq!(a.len(), 32);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, new_trace_id());
    }
}
