//! Every error `Logger` and `configureConsole` raise, and the one place that turns them into
//! JS errors: all plain `Error`s, as the platform reports them.

use boa_engine::{JsError, JsNativeError};

use super::messages as msg;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoggerError {
    /// The endpoint name is one the host reserves (Viceroy: `stdout`, `stderr`,
    /// `fst_managed_*`), found at the first `log`.
    #[error("{}", msg::LOG_INVALID_ARGUMENT)]
    ReservedEndpoint,
    #[error("{}", msg::CONFIGURE_CONSOLE_OPTIONS)]
    OptionsNotObject,
    #[error("{}", msg::PREFIXING_NOT_BOOLEAN)]
    PrefixingNotBoolean,
    #[error("{}", msg::STDERR_NOT_BOOLEAN)]
    StderrNotBoolean,
}

impl From<LoggerError> for JsError {
    fn from(error: LoggerError) -> Self {
        JsNativeError::error()
            .with_message(error.to_string())
            .into()
    }
}
