//! The global scope's own members that a Compute service worker has besides the APIs:
//! `self`, `location` (`WorkerLocation`), `removeEventListener`, `dispatchEvent`, the helpers
//! js-compute's build puts at the top of every app, and the removal of what Boa adds that
//! SpiderMonkey (js-compute 3.46) does not have.
//!
//! Shapes follow `shared/reference/js-compute-3.46-surface/globals-js-compute-3.46.json`;
//! `location` is StarlingMonkey's `WorkerLocation` over the URL of the request being handled
//! (<https://html.spec.whatwg.org/multipage/workers.html#worker-locations>).

use std::cell::RefCell;

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::property::{Attribute, PropertyDescriptor};
use boa_engine::{
    js_string, Context, Finalize, JsData, JsObject, JsResult, JsString, JsSymbol, JsValue,
    NativeFunction, Trace,
};

use crate::class_util::{
    define_enumerable_getter, define_enumerable_method, register_no_constructor_class, this_as,
};

/// Globals Boa defines that js-compute 3.46 does not: removed so that an app that works
/// locally does not break once deployed.
const NOT_ON_COMPUTE: &[&str] = &["SharedArrayBuffer", "Atomics", "TypedArray", "Iterator"];

/// Members of Boa's built-ins that js-compute 3.46's SpiderMonkey lacks (newer proposals, and
/// `String.prototype.normalize`, which its build leaves out), by the object that holds them.
const MEMBERS_NOT_ON_COMPUTE: &[(&str, &[&str])] = &[
    ("JSON", &["rawJSON", "isRawJSON"]),
    ("Math", &["sumPrecise"]),
    ("RegExp", &["escape"]),
    ("Promise", &["try"]),
    ("String.prototype", &["normalize"]),
    ("Map.prototype", &["getOrInsert", "getOrInsertComputed"]),
    ("WeakMap.prototype", &["getOrInsert", "getOrInsertComputed"]),
    ("console", &["exception"]),
];

/// The URL `location` describes: the request being handled (context data).
#[derive(Debug, Default)]
pub struct RequestUrl(RefCell<Option<url::Url>>);

impl RequestUrl {
    pub fn begin_request(url: Option<url::Url>, context: &Context) {
        if let Some(current) = context.get_data::<Self>() {
            *current.0.borrow_mut() = url;
        }
    }
}

#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsWorkerLocation;

impl Class for JsWorkerLocation {
    const NAME: &'static str = "WorkerLocation";
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(crate::class_util::type_error(
            crate::class_util::not_constructible("WorkerLocation"),
        ))
    }

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        Ok(())
    }
}

/// One part of the current URL, as `URL`'s getters give it; empty outside a request.
fn location_part(
    this: &JsValue,
    name: &'static str,
    context: &mut Context,
    part: fn(&url::Url) -> String,
) -> JsResult<JsValue> {
    this_as::<JsWorkerLocation>(this, name, "WorkerLocation")?;
    let text = context
        .get_data::<RequestUrl>()
        .and_then(|u| u.0.borrow().as_ref().map(part))
        .unwrap_or_default();
    Ok(JsString::from(text.as_str()).into())
}

macro_rules! location_getters {
    ($($fn_name:ident => $name:literal: $part:expr),* $(,)?) => {
        $(fn $fn_name(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
            location_part(this, $name, context, $part)
        })*
        const LOCATION_GETTERS: &[(&str, boa_engine::native_function::NativeFunctionPointer)] =
            &[$(($name, $fn_name)),*];
    };
}

fn with_colon(text: &str, prefix: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("{prefix}{text}")
    }
}

location_getters! {
    href => "href": |u| u.as_str().to_owned(),
    origin => "origin": |u| u.origin().ascii_serialization(),
    protocol => "protocol": |u| format!("{}:", u.scheme()),
    host => "host": |u| match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => String::new(),
    },
    hostname => "hostname": |u| u.host_str().unwrap_or_default().to_owned(),
    port => "port": |u| u.port().map(|p| p.to_string()).unwrap_or_default(),
    pathname => "pathname": |u| u.path().to_owned(),
    search => "search": |u| with_colon(u.query().unwrap_or_default(), "?"),
    hash => "hash": |u| with_colon(u.fragment().unwrap_or_default(), "#"),
}

fn location_to_string(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    location_part(this, "toString", context, |u| u.as_str().to_owned())
}

fn get_self(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    Ok(context.global_object().into())
}

/// `self = value` replaces the accessor with the value, as a replaceable attribute does.
fn set_self(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let value = args.first().cloned().unwrap_or_default();
    context.global_object().define_property_or_throw(
        js_string!("self"),
        PropertyDescriptor::builder()
            .value(value)
            .writable(true)
            .enumerable(true)
            .configurable(true),
        context,
    )?;
    Ok(JsValue::undefined())
}

/// The helpers js-compute's build prepends to every app (`addFastlyHelpers.ts`), with the
/// build's defaults (no `--enable-stack-traces`).
const BUILD_HELPERS: &str = r#"
globalThis.__FASTLY_GEN_FILE = "fastly:app.js";
globalThis.__orig_console_error = console.error.bind(console);
globalThis.__fastlyMapAndLogError = (e) => {
  for (const line of globalThis.__fastlyMapError(e)) {
    globalThis.__orig_console_error(line);
  }
};
globalThis.__fastlyMapError = (e) => {
  return [
    '(Raw error) - build with --enable-stack-traces for mapped stack information.',
    e,
  ];
};
"#;

pub fn register(context: &mut Context) -> JsResult<()> {
    let global = context.global_object();
    for name in NOT_ON_COMPUTE {
        global.delete_property_or_throw(JsString::from(*name), context)?;
    }
    // FetchEvent stays registered for the runtime; Compute has no global for it.
    global.delete_property_or_throw(js_string!("FetchEvent"), context)?;
    for (path, members) in MEMBERS_NOT_ON_COMPUTE {
        let mut holder = JsValue::from(global.clone());
        for part in path.split('.') {
            holder = match holder.as_object() {
                Some(object) => object.get(JsString::from(part), context)?,
                None => JsValue::undefined(),
            };
        }
        if let Some(holder) = holder.as_object() {
            for member in *members {
                holder.delete_property_or_throw(JsString::from(*member), context)?;
            }
        }
    }

    let realm = context.realm().clone();
    let get = FunctionObjectBuilder::new(&realm, NativeFunction::from_fn_ptr(get_self))
        .name(js_string!("get self"))
        .build();
    let set = FunctionObjectBuilder::new(&realm, NativeFunction::from_fn_ptr(set_self))
        .name(js_string!("set self"))
        .length(1)
        .build();
    global.define_property_or_throw(
        js_string!("self"),
        PropertyDescriptor::builder()
            .get(get)
            .set(set)
            .enumerable(true)
            .configurable(true),
        context,
    )?;

    context.insert_data(RequestUrl::default());
    let (_, prototype) = register_no_constructor_class::<JsWorkerLocation>(context)?;
    for (name, getter) in LOCATION_GETTERS {
        define_enumerable_getter(&prototype, name, *getter, context)?;
    }
    define_enumerable_method(&prototype, "toString", 0, location_to_string, context)?;
    prototype.define_property_or_throw(
        JsSymbol::to_string_tag(),
        PropertyDescriptor::builder()
            .value(js_string!("WorkerLocation"))
            .writable(false)
            .enumerable(false)
            .configurable(true),
        context,
    )?;
    let location = JsObject::from_proto_and_data(Some(prototype), JsWorkerLocation);
    global.define_property_or_throw(
        js_string!("location"),
        PropertyDescriptor::builder()
            .value(location)
            .writable(true)
            .enumerable(true)
            .configurable(true),
        context,
    )?;

    context.eval(boa_engine::Source::from_bytes(BUILD_HELPERS))?;
    Ok(())
}
