//! `performance.now()` and `performance.timeOrigin`:
//! <https://w3c.github.io/hr-time/#the-performance-attribute>.
//!
//! The time origin is when the instance was created, so `now()` starts near 0 in every fresh
//! instance, as it does for each request on Compute.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::property::{Attribute, PropertyDescriptor};
use boa_engine::{
    js_string, Context, Finalize, JsData, JsObject, JsResult, JsSymbol, JsValue, Trace,
};

use crate::class_util::{
    define_enumerable_getter, define_enumerable_method, not_constructible,
    register_no_constructor_class, type_error,
};

/// When this context's clock started.
#[derive(Debug, Clone, Copy)]
struct TimeOrigin {
    instant: Instant,
    unix_ms: f64,
}

fn now(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let elapsed = context.get_data::<TimeOrigin>().map_or(0.0, |origin| {
        origin.instant.elapsed().as_secs_f64() * 1000.0
    });
    // Microsecond resolution, as browsers coarsen it.
    Ok(((elapsed * 1000.0).floor() / 1000.0).into())
}

fn time_origin(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    Ok(context
        .get_data::<TimeOrigin>()
        .map_or(0.0, |origin| origin.unix_ms)
        .into())
}

/// The `Performance` interface (no constructor, as on Compute).
#[derive(Debug, Trace, Finalize, JsData)]
struct JsPerformance;

impl Class for JsPerformance {
    const NAME: &'static str = "Performance";
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(type_error(not_constructible("Performance")))
    }

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        Ok(())
    }
}

/// `now`, `timeOrigin` and the tag on `target`: js-compute has them both on
/// `Performance.prototype` and on `performance` itself.
fn define_members(target: &JsObject, context: &mut Context) -> JsResult<()> {
    define_enumerable_getter(target, "timeOrigin", time_origin, context)?;
    define_enumerable_method(target, "now", 0, now, context)?;
    target.define_property_or_throw(
        JsSymbol::to_string_tag(),
        PropertyDescriptor::builder()
            .value(js_string!("Performance"))
            .writable(false)
            .enumerable(false)
            .configurable(true),
        context,
    )?;
    Ok(())
}

/// Registers `Performance` and the global `performance`, an instance of it.
pub fn register(context: &mut Context) -> JsResult<()> {
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let origin = TimeOrigin {
        instant: Instant::now(),
        unix_ms,
    };
    context.insert_data(origin);
    let (_, prototype) = register_no_constructor_class::<JsPerformance>(context)?;
    define_members(&prototype, context)?;
    let performance: JsObject =
        JsObject::from_proto_and_data(Some(prototype), JsPerformance).upcast();
    define_members(&performance, context)?;
    context.register_global_property(
        js_string!("performance"),
        performance,
        Attribute::WRITABLE | Attribute::CONFIGURABLE,
    )?;
    Ok(())
}
