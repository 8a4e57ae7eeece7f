//! The global `fastly` object of js-compute 3.46 (`builtins/fastly.cpp`): most `fastly:*`
//! functions are also here (the modules re-export them), plus `env`, `baseURL`,
//! `defaultBackend`, `allowDynamicBackends`, `sdkVersion`, `getLogger`, `debugLog` and `dump`.
//! Shapes follow `shared/reference/js-compute-3.46-surface/globals-js-compute-3.46.json`.

use boa_engine::native_function::NativeFunctionPointer;
use boa_engine::object::{FunctionObjectBuilder, ObjectInitializer};
use boa_engine::property::PropertyDescriptor;
use boa_engine::{js_string, Context, JsObject, JsResult, JsString, JsValue, NativeFunction};

use crate::class_util::require_args;
use crate::fastly::{backend, compute, experimental, geolocation};
use crate::js_lib;

fn function(
    name: &'static str,
    length: usize,
    f: NativeFunctionPointer,
    context: &mut Context,
) -> JsObject {
    let realm = context.realm().clone();
    FunctionObjectBuilder::new(&realm, NativeFunction::from_fn_ptr(f))
        .name(js_string!(name))
        .length(length)
        .constructor(false)
        .build()
        .into()
}

/// Calls the member `name` of the `fastly` JS library's `internal` object (evaluated on
/// first use).
fn call_library(name: &str, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let internal = js_lib::internal(context, "fastly")?;
    let f = internal.get(JsString::from(name), context)?;
    match f.as_callable() {
        Some(f) => f.call(&JsValue::undefined(), args, context),
        None => Ok(JsValue::undefined()),
    }
}

fn inspect(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    call_library("inspect", args, context)
}
fn create_fanout_handoff(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    call_library("createFanoutHandoff", args, context)
}
fn create_websocket_handoff(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    call_library("createWebsocketHandoff", args, context)
}

/// `fastly.getLogger(name)`: a `Logger` for the endpoint.
fn get_logger(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    require_args(args, "fastly.getLogger", 1)?;
    let logger = context.global_object().get(js_string!("Logger"), context)?;
    match logger.as_constructor() {
        Some(logger) => Ok(logger.construct(&args[..1], None, context)?.into()),
        None => Ok(JsValue::undefined()),
    }
}

/// `fastly.debugLog(message)`: a debug line in the server's log.
fn debug_log(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let message = args
        .first()
        .cloned()
        .unwrap_or_default()
        .to_string(context)?;
    tracing::debug!(target: "edgeshim::console", "{}", message.to_std_string_lossy());
    Ok(JsValue::undefined())
}

/// `fastly.dump(value)`: the value's display form in the server's log.
fn dump(_: &JsValue, args: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    let value = args.first().cloned().unwrap_or_default();
    tracing::info!(target: "edgeshim::console", "{}", value.display());
    Ok(JsValue::undefined())
}

fn env_get(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let get = function("get", 1, crate::fastly::env::env, context);
    Ok(ObjectInitializer::new(context)
        .property(
            js_string!("get"),
            get,
            boa_engine::property::Attribute::all(),
        )
        .build()
        .into())
}

fn sdk_version(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    Ok(js_string!(experimental::SDK_VERSION).into())
}

/// `fastly.baseURL`: a `URL` of the base, or `null`.
fn base_url_get(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let Some(base) = experimental::BaseUrl::get(context) else {
        return Ok(JsValue::null());
    };
    let url = context.global_object().get(js_string!("URL"), context)?;
    match url.as_constructor() {
        Some(url) => Ok(url
            .construct(&[JsString::from(base.as_str()).into()], None, context)?
            .into()),
        None => Ok(JsValue::null()),
    }
}

/// Makes `name` of `this` a data property holding `value` (what the lazy members become).
fn settle(this: &JsValue, name: &str, value: JsValue, context: &mut Context) -> JsResult<JsValue> {
    if let Some(object) = this.as_object() {
        object.define_property_or_throw(
            JsString::from(name),
            PropertyDescriptor::builder()
                .value(value.clone())
                .writable(true)
                .enumerable(true)
                .configurable(true),
            context,
        )?;
    }
    Ok(value)
}

fn image_optimizer_get(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let value = js_lib::internal(context, "fastly")?.get(js_string!("imageOptimizer"), context)?;
    settle(this, "imageOptimizer", value, context)
}

fn shielding_get(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let shield = js_lib::internal(context, "fastly")?.get(js_string!("Shield"), context)?;
    let value = ObjectInitializer::new(context)
        .property(
            js_string!("Shield"),
            shield,
            boa_engine::property::Attribute::all(),
        )
        .build();
    settle(this, "shielding", value.into(), context)
}

/// Assigning to a lazy member replaces it, as assigning to a data property would.
fn image_optimizer_set(
    this: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    settle(
        this,
        "imageOptimizer",
        args.first().cloned().unwrap_or_default(),
        context,
    )?;
    Ok(JsValue::undefined())
}

fn shielding_set(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    settle(
        this,
        "shielding",
        args.first().cloned().unwrap_or_default(),
        context,
    )?;
    Ok(JsValue::undefined())
}

/// Installs the global `fastly` (writable, configurable, not enumerable).
pub fn register(context: &mut Context) -> JsResult<()> {
    let object = ObjectInitializer::new(context).build();
    let dump_fn = function("dump", 1, dump, context);
    object.define_property_or_throw(
        js_string!("dump"),
        PropertyDescriptor::builder()
            .value(dump_fn)
            .writable(true)
            .enumerable(false)
            .configurable(true),
        context,
    )?;
    let methods: [(&str, usize, NativeFunctionPointer); 9] = [
        ("enableDebugLogging", 1, experimental::no_op),
        ("debugLog", 1, debug_log),
        (
            "getGeolocationForIpAddress",
            1,
            geolocation::get_geolocation_for_ip_address,
        ),
        ("inspect", 1, inspect),
        ("getLogger", 1, get_logger),
        ("includeBytes", 1, experimental::include_bytes),
        ("createFanoutHandoff", 2, create_fanout_handoff),
        ("createWebsocketHandoff", 2, create_websocket_handoff),
        ("setReusableSandboxOptions", 1, experimental::no_op),
    ];
    for (name, length, f) in methods {
        crate::class_util::define_enumerable_method(&object, name, length, f, context)?;
    }
    let accessors: [(&str, NativeFunctionPointer, Option<NativeFunctionPointer>); 5] = [
        ("env", env_get, None),
        ("baseURL", base_url_get, Some(experimental::set_base_url)),
        (
            "defaultBackend",
            backend::default_backend_get,
            Some(backend::set_default_backend),
        ),
        (
            "allowDynamicBackends",
            backend::allow_dynamic_backends_get,
            Some(backend::allow_dynamic_backends),
        ),
        ("sdkVersion", sdk_version, None),
    ];
    for (name, get, set) in accessors {
        let get = function(name, 0, get, context);
        let mut descriptor = PropertyDescriptor::builder()
            .get(get)
            .enumerable(true)
            .configurable(true);
        if let Some(set) = set {
            descriptor = descriptor.set(function(name, 1, set, context));
        }
        object.define_property_or_throw(JsString::from(name), descriptor, context)?;
    }
    // After the accessors, in the platform's key order.
    let compute: [(&str, usize, NativeFunctionPointer); 2] = [
        ("purgeSurrogateKey", 1, compute::purge_surrogate_key),
        ("vCpuTime", 0, compute::v_cpu_time),
    ];
    for (name, length, f) in compute {
        crate::class_util::define_enumerable_method(&object, name, length, f, context)?;
    }
    // The image optimizer's constants and the shielding API come from the `fastly` JS
    // library, which costs its parse: evaluated at first use (then a data property, as on
    // Compute), not in every instance.
    let lazy: [(&str, NativeFunctionPointer, NativeFunctionPointer); 2] = [
        ("imageOptimizer", image_optimizer_get, image_optimizer_set),
        ("shielding", shielding_get, shielding_set),
    ];
    for (name, get, set) in lazy {
        let get = function(name, 0, get, context);
        let set = function(name, 1, set, context);
        object.define_property_or_throw(
            JsString::from(name),
            PropertyDescriptor::builder()
                .get(get)
                .set(set)
                .enumerable(true)
                .configurable(true),
            context,
        )?;
    }
    context.global_object().define_property_or_throw(
        js_string!("fastly"),
        PropertyDescriptor::builder()
            .value(object)
            .writable(true)
            .enumerable(false)
            .configurable(true),
        context,
    )?;
    Ok(())
}
