//! Message texts several `fastly:*` modules share, verbatim from js-compute-runtime (its
//! `REQUEST_HANDLER_ONLY` macro and StarlingMonkey's `InitializationOnly`).

/// `{what} can only be used during request handling, not during initialization` (an Error);
/// `what` is the platform's subject, e.g. `The SecretStore builtin` or
/// `fastly.getGeolocationForIpAddress`.
pub fn request_handler_only(what: &str) -> String {
    format!("{what} can only be used during request handling, not during initialization")
}
