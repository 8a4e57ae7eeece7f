//! `fastly:device`: `Device.lookup(userAgent)` over fastly.toml's
//! `[local_server.device_detection]`, as Viceroy serves it: a user agent listed there gives a
//! `Device` read from the entry's `device` object; any other is `null`.
//!
//! Checks, messages and the getters' fallbacks are js-compute-runtime's
//! (`builtins/device.cpp`).
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:device/Device/>.

use std::collections::BTreeMap;
use std::rc::Rc;

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::native_function::NativeFunctionPointer;
use boa_engine::property::{Attribute, PropertyDescriptor};
use boa_engine::{
    js_string, Context, Finalize, JsData, JsError, JsNativeError, JsObject, JsResult, JsSymbol,
    JsValue, Trace,
};

use crate::class_util::{
    constructor_of, define_enumerable_getter, define_enumerable_method, not_constructible,
    register_no_constructor_class, require_args, this_as,
};
use crate::host::Phase;

/// The module specifier apps import.
pub const SPECIFIER: &str = "fastly:device";

const CLASS: &str = "Device";

/// The user agents of fastly.toml, each with its data (a JSON object): context data.
#[derive(Debug, Clone, Default)]
struct UserAgents(Rc<BTreeMap<String, String>>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("{}", crate::fastly::texts::request_handler_only("The Device builtin"))]
    RequestHandlerOnly,
    #[error("Device.lookup: useragent parameter can not be an empty string")]
    EmptyUserAgent,
}

impl From<DeviceError> for JsError {
    fn from(error: DeviceError) -> Self {
        JsNativeError::error()
            .with_message(error.to_string())
            .into()
    }
}

/// A looked-up device: the entry's `device` value, when it is an object.
#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsDevice {
    #[unsafe_ignore_trace]
    info: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Class for JsDevice {
    const NAME: &'static str = CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(JsNativeError::typ()
            .with_message(not_constructible(CLASS))
            .into())
    }

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        Ok(())
    }
}

/// The accessors: JS name, the data's field, and whether it is a flag (which reads `false`,
/// not `null`, when there is no device object).
const FIELDS: [(&str, &str, bool); 12] = [
    ("name", "name", false),
    ("brand", "brand", false),
    ("model", "model", false),
    ("hardwareType", "hwtype", false),
    ("isDesktop", "is_desktop", true),
    ("isGameConsole", "is_gameconsole", true),
    ("isMediaPlayer", "is_mediaplayer", true),
    ("isMobile", "is_mobile", true),
    ("isSmartTV", "is_smarttv", true),
    ("isTablet", "is_tablet", true),
    ("isTouchscreen", "is_touchscreen", true),
    ("isBot", "is_bot", true),
];

/// The value of `field` for the getter named `name`.
fn field(this: &JsValue, name: &'static str, context: &mut Context) -> JsResult<JsValue> {
    let device = this_as::<JsDevice>(this, name, CLASS)?;
    let (_, key, flag) = FIELDS
        .iter()
        .find(|(n, ..)| *n == name)
        .copied()
        .unwrap_or((name, name, false));
    let device = device.borrow();
    let Some(info) = &device.data().info else {
        return Ok(if flag {
            JsValue::from(false)
        } else {
            JsValue::null()
        });
    };
    match info.get(key) {
        None => Ok(JsValue::null()),
        Some(value) => JsValue::from_json(value, context),
    }
}

macro_rules! getters {
    ($($fn_name:ident => $name:literal),* $(,)?) => {
        $(fn $fn_name(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
            field(this, $name, context)
        })*
        const GETTERS: [(&str, NativeFunctionPointer); 12] = [$(($name, $fn_name)),*];
    };
}

getters! {
    get_name => "name", get_brand => "brand", get_model => "model",
    get_hardware_type => "hardwareType", get_is_desktop => "isDesktop",
    get_is_game_console => "isGameConsole", get_is_media_player => "isMediaPlayer",
    get_is_mobile => "isMobile", get_is_smart_tv => "isSmartTV", get_is_tablet => "isTablet",
    get_is_touchscreen => "isTouchscreen", get_is_bot => "isBot",
}

/// `device.toJSON()`: every field, `null` where the data has none.
fn to_json(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let device = this_as::<JsDevice>(this, "toJSON", CLASS)?;
    let device = device.borrow();
    let Some(info) = &device.data().info else {
        return Ok(JsValue::null());
    };
    let object: serde_json::Map<String, serde_json::Value> = FIELDS
        .iter()
        .map(|(name, key, _)| {
            let value = info.get(*key).cloned().unwrap_or(serde_json::Value::Null);
            ((*name).to_owned(), value)
        })
        .collect();
    JsValue::from_json(&serde_json::Value::Object(object), context)
}

/// `Device.lookup(userAgent)`.
fn lookup(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    if !Phase::in_request(context) {
        return Err(DeviceError::RequestHandlerOnly.into());
    }
    require_args(args, "Device.lookup", 1)?;
    let user_agent = args[0].to_string(context)?.to_std_string_lossy();
    if user_agent.is_empty() {
        return Err(DeviceError::EmptyUserAgent.into());
    }
    let data = context
        .get_data::<UserAgents>()
        .and_then(|agents| agents.0.get(&user_agent).cloned());
    let Some(data) = data else {
        return Ok(JsValue::null());
    };
    let data: serde_json::Value = serde_json::from_str(&data)
        .map_err(|e| JsNativeError::syntax().with_message(e.to_string()))?;
    let info = data.get("device").and_then(|d| d.as_object()).cloned();
    let prototype = context
        .get_global_class::<JsDevice>()
        .ok_or_else(|| JsNativeError::typ().with_message("Device is not registered"))?
        .prototype();
    Ok(JsObject::from_proto_and_data(Some(prototype), JsDevice { info }).into())
}

/// Registers the global `Device` over `user_agents` (user agent to its data, a JSON object).
pub fn register(user_agents: &BTreeMap<String, String>, context: &mut Context) -> JsResult<()> {
    context.insert_data(UserAgents(Rc::new(user_agents.clone())));
    let (constructor, prototype) = register_no_constructor_class::<JsDevice>(context)?;
    define_enumerable_method(&constructor, "lookup", 1, lookup, context)?;
    for (name, getter) in GETTERS {
        define_enumerable_getter(&prototype, name, getter, context)?;
    }
    define_enumerable_method(&prototype, "toJSON", 0, to_json, context)?;
    prototype.define_property_or_throw(
        JsSymbol::to_string_tag(),
        PropertyDescriptor::builder()
            .value(js_string!(CLASS))
            .writable(false)
            .enumerable(false)
            .configurable(true),
        context,
    )?;
    Ok(())
}

/// `fastly:device`: `Device`.
pub fn module(context: &mut Context) -> Module {
    Module::synthetic(
        &[js_string!("Device")],
        SyntheticModuleInitializer::from_copy_closure(|module, context| {
            let constructor = constructor_of::<JsDevice>(context)?;
            module.set_export(&js_string!("Device"), constructor)
        }),
        None,
        None,
        context,
    )
}
