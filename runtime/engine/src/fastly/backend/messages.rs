//! The platform's messages for backends and `fetch()`, verbatim (js-compute-runtime's
//! `runtime/fastly/host-api/error_numbers.msg`, `builtins/backend.cpp`, `builtins/fetch/fetch.cpp`
//! and `host-api/host_api.cpp`'s `FastlySendError::message`). `{}` marks where the platform
//! substitutes a value.

pub const PARAMETER_NOT_OBJECT: &str =
    "Backend constructor: configuration parameter must be an Object";
pub const NAME_NOT_SET: &str = "Backend constructor: name can not be null or undefined";
pub const NAME_TOO_LONG: &str = "Backend constructor: name can not be more than 254 characters";
pub const NAME_EMPTY: &str = "Backend constructor: name can not be an empty string";
pub const TARGET_NOT_SET: &str = "Backend constructor: target can not be null or undefined";
pub const TARGET_EMPTY: &str = "Backend constructor: target can not be an empty string";
pub const TARGET_INVALID: &str =
    "Backend constructor: target does not contain a valid IPv4, IPv6, or hostname address";
pub const CIPHERS_EMPTY: &str = "Backend constructor: ciphers can not be an empty string";
pub const HOST_OVERRIDE_EMPTY: &str =
    "Backend constructor: hostOverride can not be an empty string";
pub const CERTIFICATE_HOSTNAME_EMPTY: &str =
    "Backend constructor: certificateHostname can not be an empty string";
pub const SNI_HOSTNAME_EMPTY: &str = "Backend constructor: sniHostname can not be an empty string";
pub const CA_CERTIFICATE_EMPTY: &str =
    "Backend constructor: caCertificate can not be an empty string";
pub const TLS_MIN_INVALID: &str =
    "Backend constructor: tlsMinVersion must be either 1, 1.1, 1.2, or 1.3";
pub const TLS_MAX_INVALID: &str =
    "Backend constructor: tlsMaxVersion must be either 1, 1.1, 1.2, or 1.3";
pub const TLS_MIN_GREATER_THAN_MAX: &str =
    "Backend constructor: tlsMinVersion must be less than or equal to tlsMaxVersion";
pub const CLIENT_CERTIFICATE_NOT_OBJECT: &str = "Backend constructor: clientCertificate must be an object containing 'certificate' and 'key' properties";
pub const CLIENT_CERTIFICATE_NO_CERTIFICATE: &str =
    "Backend constructor: clientCertificate 'certificate' must be a certificate string";
pub const CLIENT_CERTIFICATE_CERTIFICATE_EMPTY: &str =
    "Backend constructor: clientCertificate 'certificate' can not be an empty string";
pub const CLIENT_CERTIFICATE_KEY_INVALID: &str =
    "Backend constructor: clientCertificate 'key' must be a SecretStoreEntry instance";
pub const TCP_KEEPALIVE_NOT_OBJECT_OR_BOOL: &str = "Backend constructor: tcpKeepalive must be a bool or object containing optional 'timeSecs', 'intervalSecs' and 'probes' properties";
pub const TCP_KEEPALIVE_INVALID_PROBES: &str =
    "Backend constructor: tcpKeepalive 'probes' must be an integer number greater than zero";

/// `{0}: {1} can not be a negative number` and its siblings (RangeErrors).
pub fn timeout_negative(subsystem: &str, property: &str) -> String {
    format!("{subsystem}: {property} can not be a negative number")
}
pub fn timeout_too_big(subsystem: &str, property: &str, max: u64) -> String {
    format!("{subsystem}: {property} is above the maximum of {max}")
}
pub fn timeout_nan(subsystem: &str, property: &str) -> String {
    format!("{subsystem}: {property} is not a valid number")
}

pub fn from_name_missing(name: &str) -> String {
    format!("Backend.fromName: backend named '{name}' does not exist")
}
pub fn health_missing(name: &str) -> String {
    format!("Backend.health: backend named '{name}' does not exist")
}
/// fetch() to a backend name that neither fastly.toml nor `new Backend()` made (TypeError).
pub fn backend_does_not_exist(name: &str) -> String {
    format!("Requested backend named '{name}' does not exist")
}
/// fetch() without a backend once dynamic backends are off (Error).
pub fn no_backend(url: &str) -> String {
    format!(
        "No backend specified for request with url {url}. Must provide a `backend` property on \
         the `init` object passed to either `new Request()` or `fetch`"
    )
}

pub use crate::fastly::texts::request_handler_only;
