//! The JS classes `ConfigStore` and `Dictionary`: the same store, opened by name, read with
//! `get(key)` (a string, or `null` for a missing key). Checks and their order are
//! js-compute-runtime's (`builtins/config-store.cpp`, `builtins/dictionary.cpp`).

use std::collections::BTreeMap;
use std::rc::Rc;

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::property::Attribute;
use boa_engine::{
    Context, Finalize, JsData, JsNativeError, JsObject, JsResult, JsString, JsValue, Trace,
};

use super::error::ConfigStoreError;
use crate::class_util::{define_enumerable_method, require_args, this_as};
use crate::host::Phase;

/// Lookups made so far in this request: Compute allows [`LOOKUP_LIMIT`] per execution
/// (ConfigStore and Dictionary together), and fails the next with its limit error.
/// Context data, reset as each request begins.
#[derive(Debug, Default)]
pub struct Lookups(std::cell::Cell<u32>);

/// "Maximum number of dictionary lookups: 32, per execution"
/// (<https://docs.fastly.com/products/compute-resource-limits>).
pub const LOOKUP_LIMIT: u32 = 32;

impl Lookups {
    pub fn begin_request(context: &mut Context) {
        context.insert_data(Self::default());
    }

    /// Counts one lookup; `false` once the request is over the limit.
    fn take(context: &Context) -> bool {
        context.get_data::<Self>().is_none_or(|used| {
            let next = used.0.get().saturating_add(1);
            used.0.set(next);
            next <= LOOKUP_LIMIT
        })
    }
}

/// The config stores of fastly.toml (`[local_server.config_stores]`, also spelled
/// `dictionaries`), by name: context data.
#[derive(Debug, Clone, Default)]
pub struct ConfigStores(pub Rc<BTreeMap<String, Rc<BTreeMap<String, String>>>>);

/// The two classes, which differ only in their name.
pub trait Flavor: 'static {
    const CLASS: &'static str;
}

#[derive(Debug)]
pub struct ConfigStoreFlavor;
impl Flavor for ConfigStoreFlavor {
    const CLASS: &'static str = "ConfigStore";
}

#[derive(Debug)]
pub struct DictionaryFlavor;
impl Flavor for DictionaryFlavor {
    const CLASS: &'static str = "Dictionary";
}

/// An open store.
#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsConfigStore<F: Flavor> {
    #[unsafe_ignore_trace]
    entries: Rc<BTreeMap<String, String>>,
    #[unsafe_ignore_trace]
    flavor: std::marker::PhantomData<F>,
}

/// The platform's name rules, on the UTF-8 bytes: an ASCII letter first (an empty name has
/// none), then ASCII letters, digits, `_` and spaces, at most 255 bytes.
fn check_name(name: &str, class: &'static str) -> Result<(), ConfigStoreError> {
    if name.len() > 255 {
        return Err(ConfigStoreError::NameTooLong(class));
    }
    if !name.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        return Err(ConfigStoreError::NameStart(class));
    }
    if !name
        .bytes()
        .skip(1)
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b' ')
    {
        return Err(ConfigStoreError::NameInvalidCharacter(class));
    }
    Ok(())
}

fn check_key(key: &str, class: &'static str) -> Result<(), ConfigStoreError> {
    if key.is_empty() {
        return Err(ConfigStoreError::KeyEmpty(class));
    }
    if key.len() > 255 {
        return Err(ConfigStoreError::KeyTooLong(class));
    }
    Ok(())
}

impl<F: Flavor> Class for JsConfigStore<F> {
    const NAME: &'static str = F::CLASS;
    const LENGTH: usize = 1;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        if !Phase::in_request(context) {
            return Err(ConfigStoreError::RequestHandlerOnly(F::CLASS).into());
        }
        require_args(args, &format!("{} constructor", F::CLASS), 1)?;
        let name = args[0].to_string(context)?.to_std_string_lossy();
        check_name(&name, F::CLASS)?;
        let stores = context
            .get_data::<ConfigStores>()
            .cloned()
            .unwrap_or_default();
        let entries = stores
            .0
            .get(&name)
            .cloned()
            .ok_or(ConfigStoreError::DoesNotExist {
                class: F::CLASS,
                name,
            })?;
        Ok(Self {
            entries,
            flavor: std::marker::PhantomData,
        })
    }

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        Ok(())
    }
}

fn get<F: Flavor>(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let store = this_as::<JsConfigStore<F>>(this, "get", F::CLASS)?;
    require_args(args, "get", 1)?;
    let key = args[0].to_string(context)?.to_std_string_lossy();
    check_key(&key, F::CLASS)?;
    if !Lookups::take(context) {
        tracing::warn!(
            "{}.get: more than {LOOKUP_LIMIT} lookups in one request, over Compute's limit",
            F::CLASS
        );
        return Err(ConfigStoreError::LimitExceeded.into());
    }
    let value = store.borrow().data().entries.get(&key).cloned();
    Ok(value.map_or(JsValue::null(), |v| JsString::from(v.as_str()).into()))
}

/// Registers the global class, its enumerable `get` on the prototype as the platform has it.
pub fn register<F: Flavor>(context: &mut Context) -> JsResult<JsObject> {
    context.register_global_class::<JsConfigStore<F>>()?;
    let class = context
        .get_global_class::<JsConfigStore<F>>()
        .ok_or_else(|| {
            JsNativeError::typ().with_message(format!("{} is not registered", F::CLASS))
        })?;
    define_enumerable_method(&class.prototype(), "get", 1, get::<F>, context)?;
    Ok(class.constructor())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_keys_follow_the_platforms_rules_in_its_order() {
        let c = "ConfigStore";
        assert_eq!(check_name("my_store 1", c), Ok(()));
        assert_eq!(check_name("", c), Err(ConfigStoreError::NameStart(c)));
        assert_eq!(check_name("1abc", c), Err(ConfigStoreError::NameStart(c)));
        assert_eq!(
            check_name("a-b", c),
            Err(ConfigStoreError::NameInvalidCharacter(c))
        );
        assert_eq!(
            check_name(&"a".repeat(256), c),
            Err(ConfigStoreError::NameTooLong(c))
        );
        assert_eq!(check_key("", c), Err(ConfigStoreError::KeyEmpty(c)));
        assert_eq!(
            check_key(&"k".repeat(256), c),
            Err(ConfigStoreError::KeyTooLong(c))
        );
        assert_eq!(
            ConfigStoreError::DoesNotExist {
                class: "Dictionary",
                name: "x".into()
            }
            .to_string(),
            "Dictionary constructor: No Dictionary named 'x' exists"
        );
    }
}
