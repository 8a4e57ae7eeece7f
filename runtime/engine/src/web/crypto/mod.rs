//! `crypto` (<https://w3c.github.io/webcrypto/>): the `Crypto` object with `getRandomValues`,
//! `randomUUID` and `subtle`, as the platform (StarlingMonkey's crypto builtins, shipped by
//! js-compute-runtime) has them. `crypto.subtle` offers `digest` (SHA-1, SHA-256, SHA-384,
//! SHA-512 and the platform's extra MD5) and HMAC through `importKey` (`"raw"` and `"jwk"`),
//! `sign` and `verify`.
//!
//! | File           | Holds                                                     |
//! |----------------|-----------------------------------------------------------|
//! | `mod.rs`       | `Crypto`, the `crypto` global, shared class helpers       |
//! | `subtle.rs`    | `SubtleCrypto` and its methods                            |
//! | `key.rs`       | `CryptoKey`                                               |
//! | `jwk.rs`       | reading a JSON Web Key for `importKey("jwk", ...)`        |
//! | `algorithm.rs` | algorithm normalization, the digest and HMAC operations   |
//! | `error.rs`     | every error, its message and its JS class (DOMException)  |

mod algorithm;
mod error;
mod jwk;
mod key;
mod subtle;

use boa_engine::builtins::typed_array::TypedArrayKind;
use boa_engine::class::{Class, ClassBuilder};
use boa_engine::object::builtins::JsTypedArray;
use boa_engine::object::{FunctionObjectBuilder, NativeObject};
use boa_engine::property::{Attribute, PropertyDescriptor};
use boa_engine::{
    js_string, Context, Finalize, JsData, JsObject, JsResult, JsString, JsSymbol, JsValue,
    NativeFunction, Trace,
};

pub use error::CryptoError;

use crate::class_util::{
    class_prototype, define_enumerable_getter, define_enumerable_method, downcast_this, getter_name,
};
use crate::web::encoding::write_into_view;

const CLASS: &str = "Crypto";

/// The most `getRandomValues` fills in one call.
pub const MAX_RANDOM_BYTES: usize = 65536;

fn define_to_string_tag(prototype: &JsObject, tag: &str, context: &mut Context) -> JsResult<()> {
    prototype.define_property_or_throw(
        JsSymbol::to_string_tag(),
        PropertyDescriptor::builder()
            .value(JsString::from(tag))
            .writable(false)
            .enumerable(false)
            .configurable(true),
        context,
    )?;
    Ok(())
}

fn receiver<T: NativeObject>(
    this: &JsValue,
    method: &'static str,
    class: &'static str,
) -> Result<JsObject<T>, CryptoError> {
    downcast_this::<T>(this).ok_or(CryptoError::WrongReceiver { method, class })
}

/// The receiver of a getter. On the platform the prototype names the getter `"<name> get"`
/// and any other object by its C++ function name (`"<name>_get"`); both are kept.
fn getter_receiver<T: NativeObject + Class>(
    this: &JsValue,
    on_prototype: &'static str,
    elsewhere: &'static str,
    context: &Context,
) -> Result<JsObject<T>, boa_engine::JsError> {
    downcast_this::<T>(this).ok_or_else(|| {
        CryptoError::WrongReceiver {
            method: getter_name::<T>(this, on_prototype, elsewhere, context),
            class: T::NAME,
        }
        .into_native()
    })
}

fn require(args: &[JsValue], what: &'static str, required: usize) -> Result<(), CryptoError> {
    if args.len() < required {
        return Err(CryptoError::TooFewArguments {
            what,
            required,
            passed: args.len(),
        });
    }
    Ok(())
}

/// The `Crypto` object: there is one, `globalThis.crypto`.
#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsCrypto {
    subtle: JsObject,
}

fn is_integer_kind(kind: TypedArrayKind) -> bool {
    matches!(
        kind,
        TypedArrayKind::Int8
            | TypedArrayKind::Uint8
            | TypedArrayKind::Uint8Clamped
            | TypedArrayKind::Int16
            | TypedArrayKind::Uint16
            | TypedArrayKind::Int32
            | TypedArrayKind::Uint32
            | TypedArrayKind::BigInt64
            | TypedArrayKind::BigUint64
    )
}

/// `count` bytes from the system's random number generator.
fn random_bytes(count: usize) -> Result<Vec<u8>, CryptoError> {
    let mut bytes = vec![0u8; count];
    getrandom::fill(&mut bytes).map_err(|_| CryptoError::RandomFailed)?;
    Ok(bytes)
}

// getRandomValues(typedArray)
fn get_random_values(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let result = (|| -> Result<JsValue, error::Failure> {
        // The platform's C++ function name is what its messages call the method.
        receiver::<JsCrypto>(this, "get_random_values", CLASS)?;
        require(args, "get_random_values", 1)?;
        let view = args[0]
            .as_object()
            .and_then(|o| JsTypedArray::from_object(o.clone()).ok())
            .filter(|v| v.kind().is_some_and(is_integer_kind))
            .ok_or(CryptoError::TypeMismatch)?;
        let byte_length = view.byte_length(context)?;
        if byte_length > MAX_RANDOM_BYTES {
            return Err(CryptoError::QuotaExceeded(byte_length).into());
        }
        write_into_view(&view, &random_bytes(byte_length)?, context)?;
        Ok(args[0].clone())
    })();
    result.map_err(|failure| failure.into_js(context))
}

/// A random (version 4) UUID, lower-case and hyphenated.
///
/// # Errors
/// If the system's random number generator fails.
pub fn random_uuid_v4() -> Result<String, CryptoError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| CryptoError::RandomFailed)?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string())
}

// randomUUID()
fn random_uuid(this: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    receiver::<JsCrypto>(this, "random_uuid", CLASS).map_err(CryptoError::into_native)?;
    let uuid = random_uuid_v4().map_err(CryptoError::into_native)?;
    Ok(JsString::from(uuid.as_str()).into())
}

// get subtle
fn subtle(this: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    let crypto =
        receiver::<JsCrypto>(this, "subtle get", CLASS).map_err(CryptoError::into_native)?;
    let subtle = crypto.borrow().data().subtle.clone();
    Ok(subtle.into())
}

impl Class for JsCrypto {
    const NAME: &'static str = CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        Ok(())
    }

    fn construct(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsObject> {
        Err(CryptoError::NotConstructible(CLASS).into_native())
    }

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(CryptoError::NotConstructible(CLASS).into_native())
    }
}

/// Registers `Crypto`, `SubtleCrypto` and `CryptoKey`, and the `crypto` global: an
/// enumerable, non-configurable accessor, as on the platform.
pub fn register(context: &mut Context) -> JsResult<()> {
    subtle::register(context)?;
    key::register(context)?;

    context.register_global_class::<JsCrypto>()?;
    let prototype = class_prototype::<JsCrypto>(context)?;
    define_enumerable_getter(&prototype, "subtle", subtle, context)?;
    define_to_string_tag(&prototype, CLASS, context)?;
    define_enumerable_method(&prototype, "getRandomValues", 1, get_random_values, context)?;
    define_enumerable_method(&prototype, "randomUUID", 0, random_uuid, context)?;

    let subtle = subtle::JsSubtleCrypto::create(context)?;
    let crypto = JsObject::from_proto_and_data(prototype, JsCrypto { subtle }).upcast();
    let realm = context.realm().clone();
    let getter = FunctionObjectBuilder::new(
        &realm,
        NativeFunction::from_copy_closure_with_captures(
            |_, _, crypto: &JsObject, _| Ok(crypto.clone().into()),
            crypto,
        ),
    )
    .name(js_string!("get crypto"))
    .length(0)
    .build();
    context.global_object().define_property_or_throw(
        js_string!("crypto"),
        PropertyDescriptor::builder()
            .get(getter)
            .enumerable(true)
            .configurable(false),
        context,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn uuid_is_version_4_lower_case() {
        let uuid = random_uuid_v4().unwrap();
        assert_eq!(uuid.len(), 36);
        let bytes = uuid.as_bytes();
        assert_eq!(bytes[14], b'4');
        assert!(matches!(bytes[19], b'8' | b'9' | b'a' | b'b'));
        assert!(uuid
            .chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert_ne!(uuid, random_uuid_v4().unwrap());
    }
}
