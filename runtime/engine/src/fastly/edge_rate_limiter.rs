//! `host.rate`: the door through which `RateCounter`, `PenaltyBox` and `EdgeRateLimiter`
//! (js-lib/fastly.js, which checks arguments with js-compute's messages) reach the counters
//! and penalty boxes of the request's edge location (`edgeshim_store::rate`). Every call is
//! synchronous, as the platform's are.
//!
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:edge-rate-limiter/EdgeRateLimiter/>.

use boa_engine::{Context, JsNativeError, JsObject, JsResult, JsValue};
use edgeshim_store::rate::{RateOp, RateReply};

use crate::host::Phase;
use crate::host_call::{HostCall, HostHandle, HostReply};

fn text(args: &[JsValue], index: usize, context: &mut Context) -> JsResult<String> {
    Ok(args
        .get(index)
        .cloned()
        .unwrap_or_default()
        .to_string(context)?
        .to_std_string_lossy())
}

/// The JS side passed a checked whole number.
fn number(args: &[JsValue], index: usize, context: &mut Context) -> JsResult<u32> {
    let n = args
        .get(index)
        .cloned()
        .unwrap_or_default()
        .to_number(context)?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(n.clamp(0.0, f64::from(u32::MAX)) as u32)
}

fn run(op: RateOp, context: &mut Context) -> JsResult<JsValue> {
    let host = context
        .get_data::<HostHandle>()
        .map(|h| h.0.clone())
        .ok_or_else(|| JsNativeError::typ().with_message("rate limiting is not available here"))?;
    let reply = host.call_blocking(HostCall::Rate {
        pop: Phase::pop(context),
        op,
    });
    match reply {
        HostReply::Rate(Ok(reply)) => Ok(match reply {
            RateReply::Done => JsValue::undefined(),
            RateReply::Rate(rate) => JsValue::from(rate),
            #[allow(clippy::cast_precision_loss)]
            RateReply::Count(count) => JsValue::from(count as f64),
            RateReply::Yes(yes) => JsValue::from(yes),
        }),
        HostReply::Rate(Err(why)) => {
            Err(JsNativeError::error().with_message(why.to_string()).into())
        }
        HostReply::Kv(_) | HostReply::Cache(_) => Err(JsNativeError::error()
            .with_message("the host answered a rate call with another service's reply")
            .into()),
    }
}

fn increment(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let op = RateOp::Increment {
        counter: text(args, 0, context)?,
        entry: text(args, 1, context)?,
        delta: number(args, 2, context)?,
    };
    run(op, context)
}

fn lookup_rate(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let op = RateOp::LookupRate {
        counter: text(args, 0, context)?,
        entry: text(args, 1, context)?,
        window: number(args, 2, context)?,
    };
    run(op, context)
}

fn lookup_count(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let op = RateOp::LookupCount {
        counter: text(args, 0, context)?,
        entry: text(args, 1, context)?,
        duration: number(args, 2, context)?,
    };
    run(op, context)
}

fn penalty_add(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let op = RateOp::PenaltyAdd {
        penalty_box: text(args, 0, context)?,
        entry: text(args, 1, context)?,
        minutes: number(args, 2, context)?,
    };
    run(op, context)
}

fn penalty_has(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let op = RateOp::PenaltyHas {
        penalty_box: text(args, 0, context)?,
        entry: text(args, 1, context)?,
    };
    run(op, context)
}

fn check_rate(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let op = RateOp::CheckRate {
        counter: text(args, 0, context)?,
        penalty_box: text(args, 1, context)?,
        entry: text(args, 2, context)?,
        delta: number(args, 3, context)?,
        window: number(args, 4, context)?,
        limit: number(args, 5, context)?,
        minutes: number(args, 6, context)?,
    };
    run(op, context)
}

/// The `host.rate` object of the JS libraries.
pub fn host_object(context: &mut Context) -> JsObject {
    crate::class_util::native_object(
        context,
        &[
            ("increment", 3, increment),
            ("lookupRate", 3, lookup_rate),
            ("lookupCount", 3, lookup_count),
            ("penaltyAdd", 3, penalty_add),
            ("penaltyHas", 2, penalty_has),
            ("checkRate", 7, check_rate),
        ],
    )
}
