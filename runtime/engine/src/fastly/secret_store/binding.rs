//! The JS classes `SecretStore` (opened by name, `get(key)` a promise of an entry or `null`,
//! `SecretStore.fromBytes`) and `SecretStoreEntry` (`plaintext()`, `rawBytes()`). Checks and
//! their order are js-compute-runtime's (`builtins/secret-store.cpp`): a bad name throws, a
//! bad key rejects the promise `get` returns.

use std::collections::BTreeMap;
use std::rc::Rc;

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::object::builtins::JsPromise;
use boa_engine::property::Attribute;
use boa_engine::{
    Context, Finalize, JsData, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, Trace,
};

use super::error::SecretStoreError;
use crate::class_util::{define_enumerable_method, require_args, this_as};
use crate::host::Phase;
use crate::web::body::{buffer_source_bytes, uint8_array};

const STORE_CLASS: &str = "SecretStore";
const ENTRY_CLASS: &str = "SecretStoreEntry";

/// A store's secrets, by key.
type Secrets = Rc<BTreeMap<String, Vec<u8>>>;

/// The secret stores of fastly.toml (`[local_server.secret_stores]`), by name: context data.
#[derive(Debug, Clone, Default)]
pub struct SecretStores(pub Rc<BTreeMap<String, Secrets>>);

/// An open store.
#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsSecretStore {
    #[unsafe_ignore_trace]
    secrets: Secrets,
}

/// One secret's bytes.
#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsSecretStoreEntry {
    #[unsafe_ignore_trace]
    bytes: Rc<[u8]>,
}

/// The platform's rule for store names and keys, on the UTF-8 bytes: ASCII letters, digits,
/// `_`, `-` and `.` (C's `isalnum` in the "C" locale).
fn is_valid_name_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.')
}

fn check_name(name: &str) -> Result<(), SecretStoreError> {
    if name.is_empty() {
        return Err(SecretStoreError::NameEmpty);
    }
    if name.len() > 255 {
        return Err(SecretStoreError::NameTooLong);
    }
    if !name.bytes().all(is_valid_name_char) {
        return Err(SecretStoreError::NameInvalidCharacter);
    }
    Ok(())
}

fn check_key(key: &str) -> Result<(), SecretStoreError> {
    if key.is_empty() {
        return Err(SecretStoreError::KeyEmpty);
    }
    if key.len() > 255 {
        return Err(SecretStoreError::KeyTooLong);
    }
    if !key.bytes().all(is_valid_name_char) {
        return Err(SecretStoreError::KeyInvalidCharacter);
    }
    Ok(())
}

impl Class for JsSecretStore {
    const NAME: &'static str = STORE_CLASS;
    const LENGTH: usize = 1;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        if !Phase::in_request(context) {
            return Err(SecretStoreError::RequestHandlerOnly.into());
        }
        require_args(args, "SecretStore constructor", 1)?;
        let name = args[0].to_string(context)?.to_std_string_lossy();
        check_name(&name)?;
        let stores = context
            .get_data::<SecretStores>()
            .cloned()
            .unwrap_or_default();
        let secrets = stores
            .0
            .get(&name)
            .cloned()
            .ok_or(SecretStoreError::DoesNotExist(name))?;
        Ok(Self { secrets })
    }

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        Ok(())
    }
}

impl Class for JsSecretStoreEntry {
    const NAME: &'static str = ENTRY_CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(SecretStoreError::EntryNotConstructible.into())
    }

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        Ok(())
    }
}

/// A new `SecretStoreEntry` holding `bytes`.
fn new_entry(bytes: Rc<[u8]>, context: &mut Context) -> JsResult<JsObject> {
    let prototype = context
        .get_global_class::<JsSecretStoreEntry>()
        .ok_or_else(|| JsNativeError::typ().with_message("SecretStoreEntry is not registered"))?
        .prototype();
    Ok(JsObject::from_proto_and_data(Some(prototype), JsSecretStoreEntry { bytes }).upcast())
}

/// `store.get(key)`: the receiver and the argument count throw; a bad key rejects.
fn get(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let store = this_as::<JsSecretStore>(this, "get", STORE_CLASS)?;
    require_args(args, "get", 1)?;
    let key = args[0].to_string(context)?.to_std_string_lossy();
    if let Err(error) = check_key(&key) {
        return Ok(JsPromise::reject(JsError::from(error), context)?.into());
    }
    let bytes = store
        .borrow()
        .data()
        .secrets
        .get(&key)
        .map(|bytes| Rc::<[u8]>::from(bytes.as_slice()));
    let value = match bytes {
        Some(bytes) => new_entry(bytes, context)?.into(),
        None => JsValue::null(),
    };
    Ok(JsPromise::resolve(value, context)?.into())
}

/// `SecretStore.fromBytes(bytes)`: an entry holding a copy of the bytes.
fn from_bytes(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    require_args(args, "SecretStore.fromBytes", 1)?;
    let bytes =
        buffer_source_bytes(&args[0], context)?.ok_or(SecretStoreError::FromBytesInvalidBuffer)?;
    Ok(new_entry(bytes.into(), context)?.into())
}

/// `entry.plaintext()`: the secret as UTF-8 text; bytes that are not UTF-8 throw
/// SpiderMonkey's TypeError naming the offset of the first bad one (checked on Viceroy).
fn plaintext(this: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    let entry = this_as::<JsSecretStoreEntry>(this, "plaintext", ENTRY_CLASS)?;
    let bytes = entry.borrow().data().bytes.clone();
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| SecretStoreError::MalformedUtf8(e.valid_up_to()))?;
    Ok(JsString::from(text).into())
}

/// `entry.rawBytes()`: a new `Uint8Array` of the secret's bytes.
fn raw_bytes(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let entry = this_as::<JsSecretStoreEntry>(this, "rawBytes", ENTRY_CLASS)?;
    let bytes = entry.borrow().data().bytes.clone();
    Ok(uint8_array(&bytes, context)?.into())
}

/// Registers both global classes with their members, enumerable as the platform has them.
pub fn register(context: &mut Context) -> JsResult<()> {
    context.register_global_class::<JsSecretStoreEntry>()?;
    context.register_global_class::<JsSecretStore>()?;
    let entry = context
        .get_global_class::<JsSecretStoreEntry>()
        .ok_or_else(|| JsNativeError::typ().with_message("SecretStoreEntry is not registered"))?;
    define_enumerable_method(&entry.prototype(), "plaintext", 0, plaintext, context)?;
    define_enumerable_method(&entry.prototype(), "rawBytes", 0, raw_bytes, context)?;
    let store = context
        .get_global_class::<JsSecretStore>()
        .ok_or_else(|| JsNativeError::typ().with_message("SecretStore is not registered"))?;
    define_enumerable_method(&store.prototype(), "get", 1, get, context)?;
    define_enumerable_method(&store.constructor(), "fromBytes", 1, from_bytes, context)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_keys_follow_the_platforms_rules_in_its_order() {
        assert_eq!(check_name("my-store.v1_2"), Ok(()));
        assert_eq!(check_name(""), Err(SecretStoreError::NameEmpty));
        assert_eq!(
            check_name(&"a".repeat(256)),
            Err(SecretStoreError::NameTooLong)
        );
        // Longer than 255 bytes wins over a bad character, as the checks run in that order.
        assert_eq!(
            check_name(&" ".repeat(256)),
            Err(SecretStoreError::NameTooLong)
        );
        assert_eq!(
            check_name("a b"),
            Err(SecretStoreError::NameInvalidCharacter)
        );
        assert_eq!(check_key("api.key-2"), Ok(()));
        assert_eq!(check_key(""), Err(SecretStoreError::KeyEmpty));
        assert_eq!(check_key("é"), Err(SecretStoreError::KeyInvalidCharacter));
        assert_eq!(
            SecretStoreError::DoesNotExist("x".into()).to_string(),
            "SecretStore constructor: No SecretStore named 'x' exists"
        );
    }
}
