//! `CryptoKey` (<https://w3c.github.io/webcrypto/#cryptokey-interface>): only secret HMAC
//! keys exist here. Apps cannot construct one; `crypto.subtle.importKey` makes them.

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::object::builtins::JsArray;
use boa_engine::object::ObjectInitializer;
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsObject, JsResult, JsString, JsValue, Trace,
};

use super::algorithm::{Hash, HmacImport};
use super::error::CryptoError;
use super::{class_prototype, define_to_string_tag, getter_receiver};
use crate::class_util::define_enumerable_getter;

pub const CLASS: &str = "CryptoKey";

/// The usages a key can have, in the order `usages` lists them (alphabetical, as the
/// platform does).
const USAGES: [&str; 8] = [
    "decrypt",
    "deriveBits",
    "deriveKey",
    "encrypt",
    "sign",
    "unwrapKey",
    "verify",
    "wrapKey",
];

/// A set of key usages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usages(u8);

impl Usages {
    pub const SIGN: Self = Self(1 << 4);
    pub const VERIFY: Self = Self(1 << 6);

    /// The usage named `name` (case-sensitive), if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        USAGES.iter().position(|u| *u == name).map(|i| Self(1 << i))
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// The platform's check for "only `sign` and `verify`": it tests for either being there
    /// (so `[]` fails it and `["sign", "encrypt"]` passes).
    pub fn has_sign_or_verify(self) -> bool {
        self.intersects(Self::SIGN.union(Self::VERIFY))
    }

    pub fn names(self) -> impl Iterator<Item = &'static str> {
        USAGES
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, name)| *name)
    }
}

#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsCryptoKey {
    #[unsafe_ignore_trace]
    secret: Vec<u8>,
    #[unsafe_ignore_trace]
    hash: Hash,
    extractable: bool,
    #[unsafe_ignore_trace]
    usages: Usages,
    /// `{ name: "HMAC", hash: { name }, length }`: the same object on every read.
    algorithm: JsObject,
    /// The `usages` array, made on first read and returned every time after.
    usages_array: Option<JsObject>,
}

impl JsCryptoKey {
    /// A new HMAC `CryptoKey` holding `secret` (all of it: a `length` that is shorter by up to
    /// 7 bits is recorded, not applied, as on the platform).
    pub fn create_hmac(
        secret: Vec<u8>,
        import: HmacImport,
        length: u64,
        extractable: bool,
        usages: Usages,
        context: &mut Context,
    ) -> JsResult<JsObject> {
        let hash = ObjectInitializer::new(context)
            .property(
                js_string!("name"),
                JsString::from(import.hash.name()),
                Attribute::all(),
            )
            .build();
        let algorithm = ObjectInitializer::new(context)
            .property(js_string!("name"), js_string!("HMAC"), Attribute::all())
            .property(js_string!("hash"), hash, Attribute::all())
            .property(js_string!("length"), length as f64, Attribute::all())
            .build();
        let data = Self {
            secret,
            hash: import.hash,
            extractable,
            usages,
            algorithm,
            usages_array: None,
        };
        let prototype = class_prototype::<Self>(context)?;
        Ok(JsObject::from_proto_and_data(prototype, data).upcast())
    }

    /// The key's algorithm name (`algorithm.name`).
    pub fn algorithm_name(&self) -> &'static str {
        "HMAC"
    }

    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    pub fn hash(&self) -> Hash {
        self.hash
    }

    pub fn usages(&self) -> Usages {
        self.usages
    }
}

fn key_type(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    getter_receiver::<JsCryptoKey>(this, "type get", "type_get", context)?;
    Ok(js_string!("secret").into())
}

fn key_extractable(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let key = getter_receiver::<JsCryptoKey>(this, "extractable get", "extractable_get", context)?;
    let extractable = key.borrow().data().extractable;
    Ok(extractable.into())
}

fn key_algorithm(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let key = getter_receiver::<JsCryptoKey>(this, "algorithm get", "algorithm_get", context)?;
    let algorithm = key.borrow().data().algorithm.clone();
    Ok(algorithm.into())
}

fn key_usages(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let key = getter_receiver::<JsCryptoKey>(this, "usages get", "usages_get", context)?;
    let (cached, usages) = {
        let key = key.borrow();
        (key.data().usages_array.clone(), key.data().usages)
    };
    if let Some(array) = cached {
        return Ok(array.into());
    }
    let names: Vec<JsValue> = usages.names().map(|n| JsString::from(n).into()).collect();
    let array: JsObject = JsArray::from_iter(names, context).into();
    key.borrow_mut().data_mut().usages_array = Some(array.clone());
    Ok(array.into())
}

impl Class for JsCryptoKey {
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

pub fn register(context: &mut Context) -> JsResult<()> {
    context.register_global_class::<JsCryptoKey>()?;
    let prototype = class_prototype::<JsCryptoKey>(context)?;
    define_enumerable_getter(&prototype, "type", key_type, context)?;
    define_enumerable_getter(&prototype, "extractable", key_extractable, context)?;
    define_enumerable_getter(&prototype, "algorithm", key_algorithm, context)?;
    define_enumerable_getter(&prototype, "usages", key_usages, context)?;
    define_to_string_tag(&prototype, CLASS, context)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn usages() {
        let sign = Usages::parse("sign").unwrap();
        let verify = Usages::parse("verify").unwrap();
        assert_eq!(sign, Usages::SIGN);
        assert_eq!(verify, Usages::VERIFY);
        assert_eq!(Usages::parse("Sign"), None);
        let both = verify.union(sign);
        assert_eq!(both.names().collect::<Vec<_>>(), ["sign", "verify"]);
        let encrypt = Usages::parse("encrypt").unwrap();
        assert!(both.has_sign_or_verify());
        assert!(!Usages::default().has_sign_or_verify());
        assert!(!encrypt.has_sign_or_verify());
        assert!(both.union(encrypt).has_sign_or_verify());
        assert_eq!(
            both.union(encrypt).names().collect::<Vec<_>>(),
            ["encrypt", "sign", "verify"]
        );
    }
}
