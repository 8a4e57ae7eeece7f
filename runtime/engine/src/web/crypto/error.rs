//! Every error `crypto` raises, and the one place that turns them into JS errors.
//!
//! The platform (StarlingMonkey's crypto builtins, which js-compute-runtime ships) throws most
//! of them as `DOMException`s. A `DOMException` is made through `globalThis.DOMException` when
//! the error is raised; without one, a TypeError with the same message stands in.

use boa_engine::{js_string, Context, JsError, JsNativeError, JsString, JsValue};

use crate::class_util::{too_few_arguments, wrong_receiver};

/// The platform's messages, verbatim.
pub mod msg {
    pub const NOT_INTEGER_TYPED_ARRAY: &str =
        "crypto.getRandomValues: input must be an integer-typed TypedArray";
    pub const UNRECOGNIZED_ALGORITHM: &str = "Algorithm: Unrecognized name";
    pub const NO_DIGEST: &str = "Supplied algorithm does not support the digest operation";
    pub const NOT_YET_SUPPORTED: &str = "Supplied algorithm is not yet supported";
    pub const NO_IMPORT_KEY: &str = "Supplied algorithm does not support the importKey operation";
    pub const UNKNOWN_FORMAT: &str = "crypto.subtle.importkey: Provided format parameter is not \
                                      supported. Supported formats are: 'spki', 'pkcs8', 'jwk', \
                                      and 'raw'";
    pub const FORMAT_NOT_SUPPORTED: &str = "Supplied format is not supported";
    pub const HMAC_USAGES: &str = "HMAC keys only support 'sign' and 'verify' operations";
    pub const EMPTY_KEY: &str = "Supplied keyData can not have a length of 0.";
    pub const HMAC_LENGTH: &str = "The optional HMAC key length must be shorter than the key \
                                   data, and by no more than 7 bits.";
    pub const KEY_ALGORITHM_MISMATCH: &str = "CryptoKey doesn't match AlgorithmIdentifier";
    pub const CANNOT_SIGN: &str = "CryptoKey doesn't support signing";
    pub const CANNOT_VERIFY: &str = "CryptoKey doesn't support verification";
    pub const USAGES_NOT_SEQUENCE: &str = "crypto.subtle.importKey: keyUsages must be a sequence";
    pub const INVALID_USAGE: &str = "crypto.subtle.importKey: each value in the 'keyUsages' list \
                                     must be one of 'encrypt', 'decrypt', 'sign', 'verify', \
                                     'deriveKey', 'deriveBits', 'wrapKey', or 'unwrapKey'";

    pub const JWK_NOT_AN_OBJECT: &str = "crypto.subtle.importKey: keyData must be a JSONWebKey";
    pub const JWK_KEY_OPS_NOT_SEQUENCE: &str =
        "crypto.subtle.importkey: The JWK member 'key_ops' was not a sequence";
    pub const JWK_INVALID_KEY_OP: &str = "crypto.subtle.importKey parameter 'keyData': each \
                                          value in the 'key_ops' list must be one of 'encrypt', \
                                          'decrypt', 'sign', 'verify', 'deriveKey', \
                                          'deriveBits', 'wrapKey', or 'unwrapKey'";
    pub const JWK_DUPLICATE_KEY_OP: &str = "crypto.subtle.importKey parameter 'keyData': \
                                            'key_ops' list must not contain duplicate entries";
    pub const JWK_BAD_K: &str =
        "The JWK member 'k' could not be base64url decoded or contained padding";
    pub const OPERATION_NOT_PERMITTED: &str = "Operation not permitted";
    pub const JWK_KEY_OPS_INCONSISTENT: &str = "The JWK 'key_ops' member was inconsistent with \
                                                that specified by the Web Crypto call. The JWK \
                                                usage must be a superset of those requested";
    pub const DATA_REQUIREMENTS: &str = "Data provided to an operation does not meet requirements";

    pub fn jwk_kty(required: &str) -> String {
        format!("crypto.subtle.importkey: The JWK member 'kty' was not '{required}'")
    }

    pub fn quota_exceeded(byte_length: usize) -> String {
        format!(
            "crypto.getRandomValues: input byteLength must be at most {}, but is {byte_length}",
            super::super::MAX_RANDOM_BYTES
        )
    }

    pub fn not_a_buffer(what: &str) -> String {
        format!("{what} must be of type ArrayBuffer or ArrayBufferView")
    }

    pub fn not_a_key(method: &str) -> String {
        format!("crypto.subtle.{method}: key must be a CryptoKey object")
    }

    pub fn not_constructible(class: &str) -> String {
        format!("{class} builtin can't be instantiated directly")
    }

    // The platform has no message of its own for these (it fails without an exception).

    pub fn no_operation(operation: &str) -> String {
        format!("Supplied algorithm does not support the {operation} operation")
    }

    pub const HMAC_LENGTH_NOT_NUMBER: &str = "crypto.subtle.importKey: length must be a number";
    pub const RANDOM_FAILED: &str = "crypto: the system's random number generator failed";
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("{}", msg::NOT_INTEGER_TYPED_ARRAY)]
    TypeMismatch,
    #[error("{}", msg::quota_exceeded(*.0))]
    QuotaExceeded(usize),
    #[error("{}", msg::UNRECOGNIZED_ALGORITHM)]
    UnrecognizedAlgorithm,
    #[error("{}", msg::NO_DIGEST)]
    NoDigest,
    #[error("{}", msg::no_operation(.0))]
    NoOperation(&'static str),
    #[error("{}", msg::NOT_YET_SUPPORTED)]
    NotYetSupported,
    #[error("{}", msg::NO_IMPORT_KEY)]
    NoImportKey,
    #[error("{}", msg::UNKNOWN_FORMAT)]
    UnknownFormat,
    #[error("{}", msg::FORMAT_NOT_SUPPORTED)]
    FormatNotSupported,
    #[error("{}", msg::HMAC_USAGES)]
    HmacUsages,
    #[error("{}", msg::EMPTY_KEY)]
    EmptyKey,
    #[error("{}", msg::HMAC_LENGTH)]
    HmacLength,
    #[error("{}", msg::HMAC_LENGTH_NOT_NUMBER)]
    HmacLengthNotNumber,
    #[error("{}", msg::KEY_ALGORITHM_MISMATCH)]
    KeyAlgorithmMismatch,
    #[error("{}", msg::CANNOT_SIGN)]
    CannotSign,
    #[error("{}", msg::CANNOT_VERIFY)]
    CannotVerify,
    #[error("{}", msg::USAGES_NOT_SEQUENCE)]
    UsagesNotSequence,
    #[error("{}", msg::INVALID_USAGE)]
    InvalidUsage,
    #[error("{}", msg::not_a_buffer(.0))]
    NotABuffer(&'static str),
    #[error("{}", msg::not_a_key(.0))]
    NotAKey(&'static str),
    #[error("{}", msg::not_constructible(.0))]
    NotConstructible(&'static str),
    #[error("{}", wrong_receiver(.method, .class))]
    WrongReceiver {
        method: &'static str,
        class: &'static str,
    },
    #[error("{}", too_few_arguments(.what, *.required, *.passed))]
    TooFewArguments {
        what: &'static str,
        required: usize,
        passed: usize,
    },
    #[error("{}", msg::RANDOM_FAILED)]
    RandomFailed,
    #[error("{}", msg::JWK_NOT_AN_OBJECT)]
    JwkNotAnObject,
    #[error("{}", msg::jwk_kty(.0))]
    JwkKty(&'static str),
    #[error("{}", msg::JWK_KEY_OPS_NOT_SEQUENCE)]
    JwkKeyOpsNotSequence,
    #[error("{}", msg::JWK_INVALID_KEY_OP)]
    JwkInvalidKeyOp,
    #[error("{}", msg::JWK_DUPLICATE_KEY_OP)]
    JwkDuplicateKeyOp,
    #[error("{}", msg::JWK_BAD_K)]
    JwkBadK,
    #[error("{}", msg::OPERATION_NOT_PERMITTED)]
    OperationNotPermitted,
    #[error("{}", msg::JWK_KEY_OPS_INCONSISTENT)]
    JwkKeyOpsInconsistent,
    #[error("{}", msg::DATA_REQUIREMENTS)]
    DataRequirements,
}

impl CryptoError {
    /// The `DOMException` name the platform raises this as, or `None` for a plain JS error.
    pub fn dom_exception_name(&self) -> Option<&'static str> {
        Some(match self {
            Self::TypeMismatch => "TypeMismatchError",
            Self::QuotaExceeded(_) => "QuotaExceededError",
            Self::UnrecognizedAlgorithm
            | Self::NoDigest
            | Self::NoOperation(_)
            | Self::NotYetSupported
            | Self::NoImportKey
            | Self::UnknownFormat
            | Self::FormatNotSupported => "NotSupportedError",
            Self::HmacUsages => "SyntaxError",
            Self::EmptyKey
            | Self::HmacLength
            | Self::JwkKty(_)
            | Self::JwkKeyOpsNotSequence
            | Self::JwkInvalidKeyOp
            | Self::JwkDuplicateKeyOp
            | Self::JwkBadK
            | Self::OperationNotPermitted
            | Self::JwkKeyOpsInconsistent
            | Self::DataRequirements => "DataError",
            Self::KeyAlgorithmMismatch | Self::CannotSign | Self::CannotVerify => {
                "InvalidAccessError"
            }
            Self::HmacLengthNotNumber
            | Self::UsagesNotSequence
            | Self::InvalidUsage
            | Self::NotABuffer(_)
            | Self::NotAKey(_)
            | Self::NotConstructible(_)
            | Self::WrongReceiver { .. }
            | Self::TooFewArguments { .. }
            | Self::JwkNotAnObject
            | Self::RandomFailed => return None,
        })
    }

    fn native(&self) -> JsNativeError {
        match self {
            Self::RandomFailed => JsNativeError::error(),
            _ => JsNativeError::typ(),
        }
    }

    /// The JS error: a `DOMException` (or its TypeError stand-in) or a native error.
    pub fn into_js(self, context: &mut Context) -> JsError {
        let message = self.to_string();
        if let Some(name) = self.dom_exception_name() {
            return dom_exception(&message, name, context);
        }
        self.native().with_message(message).into()
    }

    /// The JS error where no context is at hand (never a `DOMException`).
    pub fn into_native(self) -> JsError {
        let message = self.to_string();
        match self.dom_exception_name() {
            Some(_) => JsNativeError::typ().with_message(message).into(),
            None => self.native().with_message(message).into(),
        }
    }
}

/// `new DOMException(message, name)` through the global, or a TypeError with `message` when
/// there is no `DOMException` constructor.
pub fn dom_exception(message: &str, name: &str, context: &mut Context) -> JsError {
    let global = context.global_object();
    let constructor = match global.get(js_string!("DOMException"), context) {
        Ok(value) => value.as_constructor(),
        Err(err) => return err,
    };
    let Some(constructor) = constructor else {
        return JsNativeError::typ().with_message(message.to_owned()).into();
    };
    let args: [JsValue; 2] = [JsString::from(message).into(), JsString::from(name).into()];
    match constructor.construct(&args, None, context) {
        Ok(exception) => JsError::from_opaque(exception.into()),
        Err(err) => err,
    }
}

/// A failed step: one of ours, or an exception from JS code run along the way (a `toString`
/// that throws), passed through as it is.
#[derive(Debug)]
pub enum Failure {
    Crypto(CryptoError),
    Js(JsError),
}

impl From<CryptoError> for Failure {
    fn from(err: CryptoError) -> Self {
        Self::Crypto(err)
    }
}

impl From<JsError> for Failure {
    fn from(err: JsError) -> Self {
        Self::Js(err)
    }
}

impl Failure {
    pub fn into_js(self, context: &mut Context) -> JsError {
        match self {
            Self::Crypto(err) => err.into_js(context),
            Self::Js(err) => err,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn class_and_message(err: CryptoError, ctx: &mut Context) -> (String, String) {
        let value: JsValue = err.into_js(ctx).into_opaque(ctx).unwrap();
        let obj = value.as_object().unwrap();
        let name = obj.get(js_string!("name"), ctx).unwrap();
        let message = obj.get(js_string!("message"), ctx).unwrap();
        (
            name.to_string(ctx).unwrap().to_std_string_escaped(),
            message.to_string(ctx).unwrap().to_std_string_escaped(),
        )
    }

    #[test]
    fn without_dom_exception_a_type_error_stands_in() {
        let mut ctx = Context::default();
        assert_eq!(
            class_and_message(CryptoError::QuotaExceeded(65537), &mut ctx),
            (
                "TypeError".to_owned(),
                "crypto.getRandomValues: input byteLength must be at most 65536, but is 65537"
                    .to_owned()
            )
        );
    }

    #[test]
    fn with_dom_exception_its_name_is_used() {
        let mut ctx = Context::default();
        ctx.eval(boa_engine::Source::from_bytes(
            "globalThis.DOMException = class DOMException extends Error { \
               constructor(message, name) { super(message); this.name = name; } };",
        ))
        .unwrap();
        assert_eq!(
            class_and_message(CryptoError::UnrecognizedAlgorithm, &mut ctx),
            (
                "NotSupportedError".to_owned(),
                "Algorithm: Unrecognized name".to_owned()
            )
        );
        assert_eq!(
            class_and_message(CryptoError::NotAKey("sign"), &mut ctx),
            (
                "TypeError".to_owned(),
                "crypto.subtle.sign: key must be a CryptoKey object".to_owned()
            )
        );
    }
}
