//! Every error `ConfigStore` and `Dictionary` raise, and the one place that turns them into
//! JS errors (all TypeErrors, as the platform's; the initialization refusal is an Error).

use boa_engine::{JsError, JsNativeError};

use super::messages as msg;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigStoreError {
    #[error("{}", msg::request_handler_only(.0))]
    RequestHandlerOnly(&'static str),
    #[error("{}", msg::name_empty(.0))]
    NameEmpty(&'static str),
    #[error("{}", msg::name_too_long(.0))]
    NameTooLong(&'static str),
    #[error("{}", msg::name_start(.0))]
    NameStart(&'static str),
    #[error("{}", msg::name_invalid_character(.0))]
    NameInvalidCharacter(&'static str),
    #[error("{}", msg::does_not_exist(.class, .name))]
    DoesNotExist { class: &'static str, name: String },
    #[error("{}", msg::key_empty(.0))]
    KeyEmpty(&'static str),
    #[error("{}", msg::key_too_long(.0))]
    KeyTooLong(&'static str),
    /// The host's limit error for one lookup too many in a request.
    #[error("{}", msg::LIMIT_EXCEEDED)]
    LimitExceeded,
}

impl From<ConfigStoreError> for JsError {
    fn from(error: ConfigStoreError) -> Self {
        let message = error.to_string();
        match error {
            ConfigStoreError::RequestHandlerOnly(_) | ConfigStoreError::LimitExceeded => {
                JsNativeError::error().with_message(message).into()
            }
            _ => JsNativeError::typ().with_message(message).into(),
        }
    }
}
