//! `host.httpCache`: what the guest HTTP cache of an app built with `--enable-http-cache`
//! needs from the host. The flow itself (lookups, `beforeSend`/`afterSend` hooks, candidate
//! responses, storage actions, `bodyTransformFn`, the `Response` cache accessors) is
//! `js-lib/fastly.js`'s "guest HTTP cache" section, over `host.cache`; this file gives it a
//! send that bypasses the host's readthrough cache, the host's suggested cache options for a
//! response, and responses made from cached bytes.
//!
//! The contract, from js-compute-runtime's `fetch.cpp` and `request-response.cpp`:
//! `docs/http-cache-guest-api.md`. Reference:
//! <https://js-compute-reference-docs.edgecompute.app/docs/fastly:cache-override/CacheOverride/>.

use std::time::SystemTime;

use boa_engine::builtins::promise::PromiseState;
use boa_engine::object::builtins::{JsArray, JsPromise};
use boa_engine::object::ObjectInitializer;
use boa_engine::property::Attribute;
use boa_engine::{js_string, Context, JsObject, JsResult, JsString, JsValue};
use bytes::Bytes;

use crate::class_util::type_error;
use crate::fastly::cache::host::headers_arg;
use crate::http_cache::{uncacheable, write_options, CacheOverride};
use crate::web::body::buffer_source_bytes;
use crate::web::body_mixin::BodyState;
use crate::web::body_stream::HostBody;
use crate::web::request::JsRequest;
use crate::web::response::{JsResponse, Origin};

/// Present in a context whose app was built with `--enable-http-cache` (context data).
#[derive(Debug, Clone, Copy)]
pub struct GuestHttpCache;

/// Records whether the app was built with `--enable-http-cache`.
pub fn install(enabled: bool, context: &mut Context) {
    if enabled {
        context.insert_data(GuestHttpCache);
    }
}

/// Whether `fetch()` runs the guest HTTP cache.
pub fn enabled(context: &Context) -> bool {
    context.get_data::<GuestHttpCache>().is_some()
}

fn request_arg(args: &[JsValue]) -> JsResult<JsObject<JsRequest>> {
    args.first()
        .and_then(JsValue::as_object)
        .and_then(|o| o.clone().downcast::<JsRequest>().ok())
        .ok_or_else(|| type_error("httpCache: not a Request"))
}

/// `send(request)`: the promise of the backend's response, not looked up in nor stored to
/// the host's readthrough cache.
fn send(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let request = request_arg(args)?;
    crate::web::fetch::send_uncached(&request, context)
}

fn seconds(duration: std::time::Duration) -> JsValue {
    JsValue::from(duration.as_secs_f64())
}

fn string_array(items: &[String], context: &mut Context) -> JsValue {
    let values: Vec<JsValue> = items
        .iter()
        .map(|s| JsString::from(s.as_str()).into())
        .collect();
    JsArray::from_iter(values, context).into()
}

/// The first argument as a status code (the JS side passes a response's).
fn status_arg(args: &[JsValue], context: &mut Context) -> JsResult<u16> {
    let status = args
        .first()
        .cloned()
        .unwrap_or_default()
        .to_number(context)?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(status.clamp(0.0, f64::from(u16::MAX)) as u16)
}

/// `suggest(status, headers)`: the host's suggestion for a backend response, by the
/// readthrough cache's rules: `{ cacheable, maxAge, initialAge, swr, staleIfError, vary,
/// surrogateKeys }`, times in seconds.
fn suggest(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let status = status_arg(args, context)?;
    let headers = headers_arg(args, 1, context)?;
    let options = write_options(&headers, &CacheOverride::None, SystemTime::now());
    let vary = string_array(&options.vary, context);
    let keys = string_array(&options.surrogate_keys, context);
    let cacheable = uncacheable(status, &headers).is_none();
    Ok(ObjectInitializer::new(context)
        .property(js_string!("cacheable"), cacheable, Attribute::all())
        .property(
            js_string!("maxAge"),
            seconds(options.max_age),
            Attribute::all(),
        )
        .property(
            js_string!("initialAge"),
            seconds(options.initial_age),
            Attribute::all(),
        )
        .property(
            js_string!("swr"),
            seconds(options.stale_while_revalidate),
            Attribute::all(),
        )
        .property(
            js_string!("staleIfError"),
            seconds(options.stale_if_error),
            Attribute::all(),
        )
        .property(js_string!("vary"), vary, Attribute::all())
        .property(js_string!("surrogateKeys"), keys, Attribute::all())
        .build()
        .into())
}

fn string_arg(args: &[JsValue], index: usize, context: &mut Context) -> JsResult<String> {
    Ok(args
        .get(index)
        .cloned()
        .unwrap_or_default()
        .to_string(context)?
        .to_std_string_lossy())
}

fn bytes_or_null(value: &JsValue, context: &mut Context) -> JsResult<Option<Bytes>> {
    if value.is_null_or_undefined() {
        return Ok(None);
    }
    buffer_source_bytes(value, context)?
        .map(Bytes::from)
        .map(Some)
        .ok_or_else(|| type_error("httpCache: a body must be a Uint8Array or null"))
}

/// `response(status, headers, body, url, backend, mutable)`: a response as if from `backend`
/// for `url`, its body the bytes given (`null`: none yet, see `setBody`), its headers
/// mutable if asked (a candidate's).
fn response(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let status = status_arg(args, context)?;
    let headers = headers_arg(args, 1, context)?;
    let body = bytes_or_null(&args.get(2).cloned().unwrap_or_default(), context)?;
    let origin = Origin {
        url: string_arg(args, 3, context)?,
        backend: string_arg(args, 4, context)?,
        remote: None,
    };
    let mutable = args.get(5).is_some_and(JsValue::to_boolean);
    let unlocked = mutable.then(|| headers.clone());
    let response = JsResponse::from_backend(
        status,
        headers,
        HostBody::Full(body.clone().unwrap_or_default()),
        origin,
        context,
    )?;
    let typed = response_arg(&response.clone().into())?;
    if body.is_none() {
        JsResponse::replace_body(&typed, BodyState::from_bytes(None));
    }
    if let Some(pairs) = unlocked {
        JsResponse::replace_headers(&typed, pairs, false, context)?;
    }
    Ok(response.into())
}

fn response_arg(value: &JsValue) -> JsResult<JsObject<JsResponse>> {
    value
        .as_object()
        .and_then(|o| o.clone().downcast::<JsResponse>().ok())
        .ok_or_else(|| type_error("httpCache: not a Response"))
}

/// `setBody(response, body)`: the candidate response's body, once its hooks have run.
fn set_body(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let response = response_arg(&args.first().cloned().unwrap_or_default())?;
    let body = bytes_or_null(&args.get(1).cloned().unwrap_or_default(), context)?;
    JsResponse::replace_body(&response, BodyState::from_bytes(body));
    Ok(JsValue::undefined())
}

/// `setHeaders(response, headers)`: a backend response's headers replaced, still immutable
/// (a response sent as is, given `x-cache`).
fn set_headers(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let response = response_arg(&args.first().cloned().unwrap_or_default())?;
    let headers = headers_arg(args, 1, context)?;
    JsResponse::replace_headers(&response, headers, true, context)?;
    Ok(JsValue::undefined())
}

/// `origin(response)`: the name of the backend a response came from (`""` if none).
fn origin(_: &JsValue, args: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    let name = response_arg(&args.first().cloned().unwrap_or_default())
        .ok()
        .and_then(|r| JsResponse::backend_name(&r))
        .unwrap_or_default();
    Ok(JsString::from(name.as_str()).into())
}

/// Work the guest cache goes on with after `fetch()` resolved (a background revalidation):
/// the request is over only once it settles, as `waitUntil` work (context data).
#[derive(Debug, Default)]
struct Background(std::cell::RefCell<Vec<JsPromise>>);

/// `background(promise)`: keeps the request open until `promise` settles.
fn background(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let promise = args
        .first()
        .and_then(JsValue::as_object)
        .and_then(|o| JsPromise::from_object(o.clone()).ok())
        .ok_or_else(|| type_error("httpCache.background: not a promise"))?;
    if context.get_data::<Background>().is_none() {
        context.insert_data(Background::default());
    }
    if let Some(work) = context.get_data::<Background>() {
        work.0.borrow_mut().push(promise);
    }
    Ok(JsValue::undefined())
}

/// Whether background work of the guest cache is still running; settled work is forgotten.
pub fn background_pending(context: &Context) -> bool {
    context.get_data::<Background>().is_some_and(|work| {
        let mut work = work.0.borrow_mut();
        work.retain(|p| matches!(p.state(), PromiseState::Pending));
        !work.is_empty()
    })
}

/// The `host.httpCache` object of the JS libraries.
pub fn host_object(context: &mut Context) -> JsObject {
    let object = crate::class_util::native_object(
        context,
        &[
            ("send", 1, send),
            ("suggest", 2, suggest),
            ("response", 5, response),
            ("setBody", 2, set_body),
            ("setHeaders", 2, set_headers),
            ("origin", 1, origin),
            ("background", 1, background),
        ],
    );
    let on = enabled(context);
    // A fresh object: defining a data property cannot fail.
    drop(object.set(js_string!("enabled"), on, false, context));
    object
}
