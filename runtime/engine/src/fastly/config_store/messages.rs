//! The platform's messages for `ConfigStore` and `Dictionary`, verbatim
//! (js-compute-runtime's `runtime/fastly/host-api/error_numbers.msg`; "alpabetical" is
//! theirs). `{class}` is `ConfigStore` or `Dictionary`, which share every text.

pub fn does_not_exist(class: &str, name: &str) -> String {
    format!("{class} constructor: No {class} named '{name}' exists")
}
pub fn key_empty(class: &str) -> String {
    format!("{class} key can not be an empty string")
}
pub fn key_too_long(class: &str) -> String {
    format!("{class} key can not be more than 255 characters")
}
pub fn name_invalid_character(class: &str) -> String {
    format!(
        "{class} constructor: name can contain only ascii alphanumeric characters, underscores, and ascii whitespace"
    )
}
pub fn name_empty(class: &str) -> String {
    format!("{class} constructor: name can not be an empty string")
}
pub fn name_start(class: &str) -> String {
    format!("{class} constructor: name must start with an ascii alpabetical character")
}
pub fn name_too_long(class: &str) -> String {
    format!("{class} constructor: name can not be more than 255 characters")
}
pub fn request_handler_only(class: &str) -> String {
    crate::fastly::texts::request_handler_only(&format!("The {class} builtin"))
}

/// The host's `LIMIT_EXCEEDED` status as js-compute reports it from `get`
/// (`host_call.cpp` `handle_api_error`, prefixed with the C++ function name, newline theirs).
pub const LIMIT_EXCEEDED: &str = "get: Limit exceeded error. This error will be thrown when an attempt to allocate a resource has exceeded the maximum number of resources permitted. For example, creating too many response handles.\n";
