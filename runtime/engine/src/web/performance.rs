//! `performance.now()` and `performance.timeOrigin`:
//! <https://w3c.github.io/hr-time/#the-performance-attribute>.
//!
//! The time origin is when the instance was created, so `now()` starts near 0 in every fresh
//! instance, as it does for each request on Compute.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use boa_engine::object::ObjectInitializer;
use boa_engine::property::Attribute;
use boa_engine::{js_string, Context, JsResult, JsValue, NativeFunction};

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

/// Registers the global `performance`.
pub fn register(context: &mut Context) -> JsResult<()> {
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let origin = TimeOrigin {
        instant: Instant::now(),
        unix_ms,
    };
    context.insert_data(origin);
    let performance = ObjectInitializer::new(context)
        .function(NativeFunction::from_fn_ptr(now), js_string!("now"), 0)
        .property(
            js_string!("timeOrigin"),
            origin.unix_ms,
            Attribute::ENUMERABLE,
        )
        .build();
    context.register_global_property(
        js_string!("performance"),
        performance,
        Attribute::WRITABLE | Attribute::CONFIGURABLE,
    )?;
    Ok(())
}
