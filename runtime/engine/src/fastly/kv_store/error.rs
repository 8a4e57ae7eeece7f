//! Every error `fastly:kv-store` can raise, and the one place that turns them into JS errors.
//!
//! Call sites decide only *when* an error surfaces (a synchronous throw or a rejected promise,
//! per the contract); which JS class it has and what it says is decided here.

use boa_engine::{JsError, JsNativeError};
use edgeshim_store::StoreError;

use super::messages as msg;
use crate::class_util::{too_few_arguments, wrong_receiver};

/// The store operation a failure came from, as the platform names it in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOp {
    Insert,
    Lookup,
    Delete,
    List,
}

impl StoreOp {
    /// The name in `KVStore <op>: <reason>` TypeErrors.
    fn status_name(self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Lookup => "lookup",
            Self::Delete => "delete",
            Self::List => "list",
        }
    }

    /// The JS method name in the host's `<method>: Invalid argument.\n` errors.
    fn method_name(self) -> &'static str {
        match self {
            Self::Insert => "put",
            Self::Lookup => "get",
            Self::Delete => "delete",
            Self::List => "list",
        }
    }
}

/// Why a key was refused by the JS-side checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{}", msg::KEY_EMPTY)]
    Empty,
    #[error("{}", msg::KEY_TOO_LONG)]
    TooLong,
    /// Names the first forbidden character by position.
    #[error("{}", msg::key_forbidden_char(.0))]
    ForbiddenChar(&'static str),
    #[error("{}", msg::KEY_ACME)]
    AcmeChallenge,
    #[error("{}", msg::KEY_DOTS)]
    Dots,
}

/// Why a store name was refused by the constructor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{}", msg::NAME_EMPTY)]
    Empty,
    #[error("{}", msg::NAME_TOO_LONG)]
    TooLong,
    #[error("{}", msg::NAME_CONTROL_CHARS)]
    ControlChars,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KvError {
    #[error("{}", msg::OUTSIDE_REQUEST)]
    OutsideRequest,
    #[error("{}", msg::CONSTRUCTOR_WITHOUT_NEW)]
    ConstructorWithoutNew,
    #[error("{}", too_few_arguments(.what, *.required, *.passed))]
    TooFewArguments {
        what: &'static str,
        required: usize,
        passed: usize,
    },
    #[error("{}", wrong_receiver(.method, .class))]
    WrongReceiver {
        method: &'static str,
        class: &'static str,
    },
    #[error("{}", msg::SYMBOL_TO_STRING)]
    SymbolToString,
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("{}", msg::no_such_store(.0))]
    NoSuchStore(String),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{}", msg::TTL_NAN)]
    TtlNaN,
    #[error("{}", msg::TTL_NEGATIVE)]
    TtlNegative,
    #[error("{}", msg::TTL_TOO_BIG)]
    TtlTooBig,
    #[error("{}", msg::GEN_NOT_INTEGER)]
    GenNotInteger,
    #[error("{}", msg::METADATA_NOT_BYTES)]
    MetadataNotBytes,
    #[error("{}", msg::VALUE_TOO_BIG)]
    ValueTooBig,
    #[error("{}", msg::LIST_OPTIONS_NOT_OBJECT)]
    ListOptionsNotObject,
    #[error("{}", msg::LIST_CURSOR_NOT_STRING)]
    ListCursorNotString,
    #[error("{}", msg::LIST_LIMIT_NOT_INTEGER)]
    ListLimitNotInteger,
    #[error("{}", msg::LIST_PREFIX_NOT_STRING)]
    ListPrefixNotString,
    #[error("{}", msg::LIST_NO_SYNC_NOT_BOOLEAN)]
    ListNoSyncNotBoolean,
    /// A ReadableStream value or entry body that is locked or was read from or canceled.
    #[error("{}", msg::STREAM_LOCKED_OR_DISTURBED)]
    StreamLockedOrDisturbed,
    /// A ReadableStream value that the app made itself (production's open limitation).
    #[error("{}", msg::CONTENT_PROVIDED_STREAM)]
    ContentProvidedStream,
    #[error("{}", msg::ENTRY_NOT_CONSTRUCTIBLE)]
    EntryNotConstructible,
    #[error("{}", msg::BODY_CONSUMED)]
    BodyConsumed,
    #[error("{}", msg::malformed_utf8(*.0))]
    MalformedUtf8(usize),
    /// What the store itself refused or failed at.
    #[error("{}", store_message(*.op, .error))]
    Store { op: StoreOp, error: StoreError },
}

fn store_message(op: StoreOp, error: &StoreError) -> String {
    match error {
        // The host's own argument check: a plain Error whose text ends in a newline.
        StoreError::InvalidArgument => format!("{}: Invalid argument.\n", op.method_name()),
        StoreError::InternalError(detail) => {
            tracing::error!(target: "edgeshim::kv", "store {} failed: {detail}", op.status_name());
            format!(
                "KVStore {}: {}",
                op.status_name(),
                edgeshim_store::REASON_INTERNAL_ERROR
            )
        }
        other => format!("KVStore {}: {other}", op.status_name()),
    }
}

impl KvError {
    pub fn store(op: StoreOp, error: StoreError) -> Self {
        Self::Store { op, error }
    }

    /// The JS error class the platform uses for this failure.
    fn native(&self) -> JsNativeError {
        match self {
            Self::TtlNaN | Self::TtlNegative | Self::TtlTooBig => JsNativeError::range(),
            Self::EntryNotConstructible | Self::BodyConsumed => JsNativeError::error(),
            Self::Store {
                error: StoreError::InvalidArgument,
                ..
            } => JsNativeError::error(),
            _ => JsNativeError::typ(),
        }
    }

    pub fn into_js(self) -> JsError {
        let message = self.to_string();
        self.native().with_message(message).into()
    }
}

impl From<KvError> for JsError {
    fn from(err: KvError) -> Self {
        err.into_js()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use boa_engine::{Context, JsValue};

    /// Class and message of the JS error a KvError becomes.
    fn class_and_message(err: KvError) -> (String, String) {
        let mut ctx = Context::default();
        let value: JsValue = err.into_js().into_opaque(&mut ctx).unwrap();
        let obj = value.as_object().unwrap();
        let name = obj.get(boa_engine::js_string!("name"), &mut ctx).unwrap();
        let message = obj
            .get(boa_engine::js_string!("message"), &mut ctx)
            .unwrap();
        (
            name.to_string(&mut ctx).unwrap().to_std_string_escaped(),
            message.to_string(&mut ctx).unwrap().to_std_string_escaped(),
        )
    }

    #[test]
    fn classes_and_messages() {
        let cases: Vec<(KvError, &str, &str)> = vec![
            (
                KvError::OutsideRequest,
                "TypeError",
                "The KVStore builtin can only be used during request handling, not during initialization",
            ),
            (
                KvError::TooFewArguments { what: "put", required: 2, passed: 1 },
                "TypeError",
                "put: At least 2 arguments required, but only 1 passed",
            ),
            (
                KvError::TooFewArguments { what: "KVStore constructor", required: 1, passed: 0 },
                "TypeError",
                "KVStore constructor: At least 1 argument required, but only 0 passed",
            ),
            (
                KvError::WrongReceiver { method: "get", class: "KVStore" },
                "TypeError",
                "Method 'get' called on receiver that's not an instance of KVStore",
            ),
            (KvError::TtlNaN, "RangeError", "KVStore.put: ttl is not a valid number"),
            (KvError::TtlTooBig, "RangeError", "KVStore.put: ttl is above the maximum of 4294967296"),
            (
                KvError::Name(NameError::ControlChars),
                "TypeError",
                r"KVStore constructor: name can not contain control characters (\u0000-\u001F)",
            ),
            (
                KvError::Key(KeyError::ForbiddenChar("carriage return")),
                "TypeError",
                "KVStore key can not contain carriage return character",
            ),
            (
                KvError::store(StoreOp::Insert, StoreError::PreconditionFailed),
                "TypeError",
                "KVStore insert: Precondition failed.",
            ),
            (
                KvError::store(StoreOp::Lookup, StoreError::InternalError("disk".into())),
                "TypeError",
                "KVStore lookup: Internal error.",
            ),
            (
                KvError::store(StoreOp::Insert, StoreError::InvalidArgument),
                "Error",
                "put: Invalid argument.\n",
            ),
            (KvError::EntryNotConstructible, "Error", "KVStoreEntry can't be instantiated directly"),
            (KvError::BodyConsumed, "Error", "Body has already been consumed"),
            (KvError::ListOptionsNotObject, "TypeError", "KVStore.list: options must be an object"),
            (KvError::ListCursorNotString, "TypeError", "KVStore.list: cursor must be a string"),
            (KvError::ListLimitNotInteger, "TypeError", "KVStore.list: limit must be an integer"),
            (KvError::ListPrefixNotString, "TypeError", "KVStore.list: prefix must be a string"),
            (KvError::ListNoSyncNotBoolean, "TypeError", "KVStore.list: noSync must be a boolean"),
            (
                KvError::StreamLockedOrDisturbed,
                "TypeError",
                "Can't use a ReadableStream that's locked or has ever been read from or canceled",
            ),
            (
                KvError::ContentProvidedStream,
                "TypeError",
                "Content-provided streams are not yet supported for streaming into KVStore",
            ),
            (
                KvError::store(StoreOp::List, StoreError::InvalidArgument),
                "Error",
                "list: Invalid argument.\n",
            ),
            (
                KvError::store(StoreOp::List, StoreError::BadRequest),
                "TypeError",
                "KVStore list: Bad request.",
            ),
            (
                KvError::store(StoreOp::Delete, StoreError::NotFound),
                "TypeError",
                "KVStore delete: Not found.",
            ),
            (
                KvError::MalformedUtf8(3),
                "TypeError",
                "malformed UTF-8 character sequence at offset 3",
            ),
        ];
        for (err, class, message) in cases {
            assert_eq!(
                class_and_message(err),
                (class.to_owned(), message.to_owned())
            );
        }
    }
}
