//! The platform's error texts for `fastly:kv-store`, verbatim.
//!
//! Apps and conformance suites compare these strings exactly, so they are API: copied from
//! the contract (`shared/reference/kv-store.md`, itself taken from js-compute-runtime) and
//! never reworded.

pub const OUTSIDE_REQUEST: &str =
    "The KVStore builtin can only be used during request handling, not during initialization";
pub const CONSTRUCTOR_WITHOUT_NEW: &str =
    "calling a builtin KVStore constructor without new is forbidden";
pub const NAME_EMPTY: &str = "KVStore constructor: name can not be an empty string";
pub const NAME_TOO_LONG: &str = "KVStore constructor: name can not be more than 255 characters";
pub const NAME_CONTROL_CHARS: &str =
    "KVStore constructor: name can not contain control characters (\\u0000-\\u001F)";
pub const SYMBOL_TO_STRING: &str = "can't convert symbol to string";

pub const KEY_EMPTY: &str = "KVStore key can not be an empty string";
pub const KEY_TOO_LONG: &str = "KVStore key can not be more than 1024 characters";
pub const KEY_ACME: &str = "KVStore key can not start with .well-known/acme-challenge/";
pub const KEY_DOTS: &str = "KVStore key can not be '.' or '..'";

pub const TTL_NAN: &str = "KVStore.put: ttl is not a valid number";
pub const TTL_NEGATIVE: &str = "KVStore.put: ttl can not be a negative number";
pub const TTL_TOO_BIG: &str = "KVStore.put: ttl is above the maximum of 4294967296";
pub const GEN_NOT_INTEGER: &str = "KVStore.insert: gen must be an integer";
pub const METADATA_NOT_BYTES: &str =
    "KVStore.put metadata: bytes must be an ArrayBuffer or ArrayBufferView object";
pub const VALUE_TOO_BIG: &str = "KVStore value can not be more than 30 Megabytes in size";

pub const LIST_OPTIONS_NOT_OBJECT: &str = "KVStore.list: options must be an object";
pub const LIST_CURSOR_NOT_STRING: &str = "KVStore.list: cursor must be a string";
pub const LIST_LIMIT_NOT_INTEGER: &str = "KVStore.list: limit must be an integer";
pub const LIST_PREFIX_NOT_STRING: &str = "KVStore.list: prefix must be a string";
pub const LIST_NO_SYNC_NOT_BOOLEAN: &str = "KVStore.list: noSync must be a boolean";

pub const STREAM_LOCKED_OR_DISTURBED: &str =
    "Can't use a ReadableStream that's locked or has ever been read from or canceled";
pub const CONTENT_PROVIDED_STREAM: &str =
    "Content-provided streams are not yet supported for streaming into KVStore";

pub const ENTRY_NOT_CONSTRUCTIBLE: &str = "KVStoreEntry can't be instantiated directly";
pub const BODY_CONSUMED: &str = "Body has already been consumed";

/// `KVStore constructor: No KVStore named 'NAME' exists`
pub fn no_such_store(name: &str) -> String {
    format!("KVStore constructor: No KVStore named '{name}' exists")
}

// The argument-count and wrong-receiver texts are SpiderMonkey's, shared with the web
// classes: see `crate::class_util::{too_few_arguments, wrong_receiver}`.

/// `KVStore key can not contain X character`
pub fn key_forbidden_char(what: &str) -> String {
    format!("KVStore key can not contain {what} character")
}

/// `malformed UTF-8 character sequence at offset N`
pub fn malformed_utf8(offset: usize) -> String {
    format!("malformed UTF-8 character sequence at offset {offset}")
}
