//! `fastly:compute`: `vCpuTime()` and `purgeSurrogateKey(key, soft)`, as js-compute-runtime
//! has them (`builtins/fastly.cpp`) over Viceroy's host calls.
//!
//! - `vCpuTime()`: the CPU time the request has used so far, in whole milliseconds (Viceroy
//!   rounds down to limit timing attacks): the JS thread's CPU clock since the request began.
//! - `purgeSurrogateKey(key, soft)`: checks the key as Viceroy does (visible ASCII, at most
//!   1024 bytes) and purges the edge cache of the request's location (`fastly:cache`'s
//!   objects); soft makes them stale instead. The count is logged.
//!
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:compute/>.

use std::cell::Cell;
use std::time::Duration;

use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::{js_string, Context, JsError, JsNativeError, JsResult, JsValue, NativeFunction};

use crate::class_util::require_args;
use crate::snapshot::thread_cpu_time;

/// The module specifier apps import.
pub const SPECIFIER: &str = "fastly:compute";

/// Viceroy's limit on a surrogate key, in bytes.
const MAX_SURROGATE_KEY_BYTES: usize = 1024;

/// The host's invalid-argument error, as js-compute reports it: the C++ function's name, and
/// a trailing newline (`host-api/host_call.cpp`).
const PURGE_INVALID_ARGUMENT: &str = "compute_purge_surrogate_key: Invalid argument.\n";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComputeError {
    /// Empty bytes are accepted, as by Viceroy; too long or not visible ASCII are not.
    #[error("{PURGE_INVALID_ARGUMENT}")]
    InvalidSurrogateKey,
}

impl From<ComputeError> for JsError {
    fn from(error: ComputeError) -> Self {
        JsNativeError::error()
            .with_message(error.to_string())
            .into()
    }
}

/// The JS thread's CPU clock when the current request began, as context data.
#[derive(Debug, Default)]
pub struct RequestCpu(Cell<Duration>);

impl RequestCpu {
    pub fn install(context: &mut Context) {
        context.insert_data(Self(Cell::new(thread_cpu_time())));
    }

    /// Starts a request's CPU account.
    pub fn begin_request(context: &Context) {
        if let Some(cpu) = context.get_data::<Self>() {
            cpu.0.set(thread_cpu_time());
        }
    }
}

pub(crate) fn v_cpu_time(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let start = context
        .get_data::<RequestCpu>()
        .map_or(Duration::ZERO, |cpu| cpu.0.get());
    let used = thread_cpu_time().saturating_sub(start);
    // Whole milliseconds, exact in an f64 for any real run.
    Ok(JsValue::from(used.as_millis() as f64))
}

fn check_surrogate_key(key: &str) -> Result<(), ComputeError> {
    if key.len() > MAX_SURROGATE_KEY_BYTES || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ComputeError::InvalidSurrogateKey);
    }
    Ok(())
}

pub(crate) fn purge_surrogate_key(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    require_args(args, "purgeSurrogateKey", 1)?;
    let key = args[0].to_string(context)?.to_std_string_lossy();
    // Only a boolean `true` asks for a soft purge.
    let soft = args.get(1).and_then(JsValue::as_boolean).unwrap_or(false);
    check_surrogate_key(&key)?;
    let purged = crate::fastly::cache::host::purge(&key, soft, context)?;
    tracing::info!(
        target: "edgeshim::cache",
        "purgeSurrogateKey({key:?}, soft: {soft}): {purged} objects purged"
    );
    Ok(JsValue::undefined())
}

/// `fastly:compute`: `purgeSurrogateKey` and `vCpuTime`.
pub fn module(context: &mut Context) -> Module {
    Module::synthetic(
        &[js_string!("purgeSurrogateKey"), js_string!("vCpuTime")],
        SyntheticModuleInitializer::from_copy_closure(|module, context| {
            let realm = context.realm().clone();
            let functions: [(
                &str,
                usize,
                boa_engine::native_function::NativeFunctionPointer,
            ); 2] = [
                ("purgeSurrogateKey", 1, purge_surrogate_key),
                ("vCpuTime", 0, v_cpu_time),
            ];
            for (name, length, function) in functions {
                let function =
                    FunctionObjectBuilder::new(&realm, NativeFunction::from_fn_ptr(function))
                        .name(js_string!(name))
                        .length(length)
                        .constructor(false)
                        .build();
                module.set_export(&js_string!(name), function.into())?;
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
    fn surrogate_keys_are_visible_ascii_up_to_1024_bytes() {
        assert_eq!(check_surrogate_key("product-123"), Ok(()));
        assert_eq!(check_surrogate_key(""), Ok(()));
        assert_eq!(check_surrogate_key(&"k".repeat(1024)), Ok(()));
        for bad in ["has space", "tab\t", "é", &"k".repeat(1025)] {
            assert_eq!(
                check_surrogate_key(bad),
                Err(ComputeError::InvalidSurrogateKey),
                "{bad:?}"
            );
        }
        assert_eq!(
            ComputeError::InvalidSurrogateKey.to_string(),
            "compute_purge_surrogate_key: Invalid argument.\n"
        );
    }

    #[test]
    fn the_thread_cpu_clock_moves_with_work() {
        let start = thread_cpu_time();
        // Bounded by wall time: a clock that never moves fails instead of spinning forever.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut x = 0u64;
        while thread_cpu_time().saturating_sub(start) < Duration::from_millis(2)
            && std::time::Instant::now() < deadline
        {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(thread_cpu_time() > start);
    }
}
