//! Store failures, named after the platform's KV statuses.

/// Reason text of [`StoreError::BadRequest`], as the platform words it.
pub const REASON_BAD_REQUEST: &str = "Bad request.";
/// Reason text of [`StoreError::NotFound`].
pub const REASON_NOT_FOUND: &str = "Not found.";
/// Reason text of [`StoreError::PreconditionFailed`].
pub const REASON_PRECONDITION_FAILED: &str = "Precondition failed.";
/// Reason text of [`StoreError::PayloadTooLarge`].
pub const REASON_PAYLOAD_TOO_LARGE: &str = "Payload too large.";
/// Reason text of [`StoreError::InternalError`] (its detail is for logs only).
pub const REASON_INTERNAL_ERROR: &str = "Internal error.";
/// Reason text of [`StoreError::TooManyRequests`].
pub const REASON_TOO_MANY_REQUESTS: &str = "Too many requests.";
/// Text of [`StoreError::InvalidArgument`], the host's refusal of a key or argument.
pub const REASON_INVALID_ARGUMENT: &str = "Invalid argument.";

/// Why a store operation failed.
///
/// `Display` is exactly the platform's text, because the binding builds JS messages such as
/// `KVStore insert: Precondition failed.` from it. Mapping a variant to a JS error class
/// (`TypeError` for the statuses, plain `Error` for [`InvalidArgument`](Self::InvalidArgument))
/// is the binding's job.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StoreError {
    /// Malformed request, e.g. a list cursor that is not base64 of a key.
    #[error("{}", REASON_BAD_REQUEST)]
    BadRequest,
    /// The key does not exist (delete).
    #[error("{}", REASON_NOT_FOUND)]
    NotFound,
    /// `add` on a live key, or a generation mismatch.
    #[error("{}", REASON_PRECONDITION_FAILED)]
    PreconditionFailed,
    /// The value or metadata exceeds the store's limit.
    #[error("{}", REASON_PAYLOAD_TOO_LARGE)]
    PayloadTooLarge,
    /// A backend failure; the detail is for logs, never shown to the app.
    #[error("{}", REASON_INTERNAL_ERROR)]
    InternalError(String),
    /// Rate limited.
    #[error("{}", REASON_TOO_MANY_REQUESTS)]
    TooManyRequests,
    /// The host refused a key or argument (see [`check_host_key`](crate::check_host_key)).
    #[error("{}", REASON_INVALID_ARGUMENT)]
    InvalidArgument,
}

impl StoreError {
    /// The platform text of this error, the same as its `Display`.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            Self::BadRequest => REASON_BAD_REQUEST,
            Self::NotFound => REASON_NOT_FOUND,
            Self::PreconditionFailed => REASON_PRECONDITION_FAILED,
            Self::PayloadTooLarge => REASON_PAYLOAD_TOO_LARGE,
            Self::InternalError(_) => REASON_INTERNAL_ERROR,
            Self::TooManyRequests => REASON_TOO_MANY_REQUESTS,
            Self::InvalidArgument => REASON_INVALID_ARGUMENT,
        }
    }
}
