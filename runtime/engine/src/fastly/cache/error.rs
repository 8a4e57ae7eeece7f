//! The one place host failures of the cache become JS errors. Argument checks and their
//! messages are the JS side's (js-lib/fastly.js, from js-compute's `cache-core.cpp` and
//! `cache-simple.cpp`); what is left here is the host saying no.

use boa_engine::{JsError, JsNativeError};
use edgeshim_store::cache::CacheError;

/// The host's bad-handle status as js-compute reports it (`host_call.cpp`), for a
/// transaction that is no longer obliged (already inserted, updated or cancelled).
const INVALID_HANDLE: &str =
    "Invalid handle. Thrown when a request, response, dictionary, or body handle is not valid.\n";

/// js-compute's own check before `update` (`cache-core.cpp`).
const NOT_UPDATABLE: &str =
    "TransactionCacheEntry.update: entry does not exist or is not updatable";

pub fn cache_error(error: CacheError) -> JsError {
    let message = match &error {
        CacheError::NotObliged => format!("transaction: {INVALID_HANDLE}"),
        CacheError::NothingToUpdate => NOT_UPDATABLE.to_owned(),
        // The bindings never ask for `Wait::Try`.
        CacheError::Unreachable(_) | CacheError::WouldWait => error.to_string(),
    };
    JsNativeError::error().with_message(message).into()
}
