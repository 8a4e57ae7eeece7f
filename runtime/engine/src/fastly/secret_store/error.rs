//! Every error `SecretStore` and `SecretStoreEntry` raise, and the one place that turns them
//! into JS errors: TypeErrors, as the platform's message table has them, but for the
//! initialization refusal and `new SecretStoreEntry()`, which are plain Errors.

use boa_engine::{JsError, JsNativeError};

use super::messages as msg;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretStoreError {
    #[error(
        "{}",
        crate::fastly::texts::request_handler_only("The SecretStore builtin")
    )]
    RequestHandlerOnly,
    #[error("{}", msg::ENTRY_NOT_CONSTRUCTIBLE)]
    EntryNotConstructible,
    #[error("{}", msg::NAME_EMPTY)]
    NameEmpty,
    #[error("{}", msg::NAME_TOO_LONG)]
    NameTooLong,
    #[error("{}", msg::NAME_INVALID_CHARACTER)]
    NameInvalidCharacter,
    #[error("{}", msg::does_not_exist(.0))]
    DoesNotExist(String),
    #[error("{}", msg::KEY_EMPTY)]
    KeyEmpty,
    #[error("{}", msg::KEY_TOO_LONG)]
    KeyTooLong,
    #[error("{}", msg::KEY_INVALID_CHARACTER)]
    KeyInvalidCharacter,
    #[error("{}", msg::FROM_BYTES_INVALID_BUFFER)]
    FromBytesInvalidBuffer,
    #[error("{}", msg::malformed_utf8(*.0))]
    MalformedUtf8(usize),
}

impl From<SecretStoreError> for JsError {
    fn from(error: SecretStoreError) -> Self {
        let message = error.to_string();
        match error {
            SecretStoreError::RequestHandlerOnly | SecretStoreError::EntryNotConstructible => {
                JsNativeError::error().with_message(message).into()
            }
            _ => JsNativeError::typ().with_message(message).into(),
        }
    }
}
