//! The platform's messages for `SecretStore` and `SecretStoreEntry`, verbatim
//! (js-compute-runtime's `runtime/fastly/host-api/error_numbers.msg` and
//! `builtins/secret-store.cpp`). The key and name checks accept `-` and `.` and refuse
//! whitespace, whatever the texts say.

pub const KEY_EMPTY: &str = "SecretStore key can not be an empty string";
pub const KEY_TOO_LONG: &str = "SecretStore key can not be more than 255 characters";
pub const KEY_INVALID_CHARACTER: &str = "SecretStore key can contain only ascii alphanumeric characters, underscores, dashes, and ascii whitespace";
pub const NAME_EMPTY: &str = "SecretStore constructor: name can not be an empty string";
pub const NAME_TOO_LONG: &str = "SecretStore constructor: name can not be more than 255 characters";
pub const NAME_INVALID_CHARACTER: &str = "SecretStore constructor: name can contain only ascii alphanumeric characters, underscores, dashes, and ascii whitespace";
pub const ENTRY_NOT_CONSTRUCTIBLE: &str = "SecretStoreEntry can't be instantiated directly";
pub const FROM_BYTES_INVALID_BUFFER: &str =
    "SecretStore.fromBytes: bytes must be an ArrayBuffer or ArrayBufferView object";

pub fn does_not_exist(name: &str) -> String {
    format!("SecretStore constructor: No SecretStore named '{name}' exists")
}

/// SpiderMonkey's `JSMSG_MALFORMED_UTF8_CHAR`, from `plaintext()` of bytes that are not UTF-8.
pub fn malformed_utf8(offset: usize) -> String {
    format!("malformed UTF-8 character sequence at offset {offset}")
}
