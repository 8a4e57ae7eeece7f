//! `fetch()`: a request to a backend, as js-compute 3.46 sends it.
//!
//! The backend is `init.backend` (a name or a `Backend`), else the default backend, else a
//! dynamic backend named after the URL's host while dynamic backends are allowed (3.46's
//! default). The request leaves through the host-call boundary ([`Host::send`]); the
//! response resolves once its head arrived and its body streams from the host. A host body
//! given as the request body (`event.request.body`) is handed over without entering JS.
//!
//! A request with `imageOptimizerOptions` is sent as any other: edgeshim has no image
//! service, so the image comes back unchanged, with a notice (once per call site) naming
//! the query string Fastly's image service would get.
//!
//! Beyond the platform: a request that would reach edgeshim itself again through more than
//! [`MAX_HOPS`] hops (its `CDN-Loop` header counts them) fails instead of looping forever.
//!
//! References: <https://js-compute-reference-docs.edgecompute.app/docs/globals/fetch>;
//! js-compute-runtime's `builtins/fetch/fetch.cpp`.
//!
//! [`Host::send`]: crate::host_call::Host::send

use std::cell::Cell;

use boa_engine::class::Class;
use boa_engine::object::builtins::JsPromise;
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, JsError, JsNativeError, JsObject, JsResult, JsValue, NativeFunction,
};

use super::body_stream;
use super::request::{CacheSetting, JsRequest};
use super::response::{JsResponse, Origin};
use crate::event_loop::HostCompletion;
use crate::fastly::backend::error::BackendError;
use crate::fastly::backend::Backends;
use crate::fastly::compat::{self, CompatWarning};
use crate::host::Phase;
use crate::host_call::{BackendRequest, HostHandle};
use crate::http_cache::{CacheOverride, CachePolicy};

/// The hop token edgeshim adds to `CDN-Loop` (RFC 8586) on every backend request.
pub const LOOP_TOKEN: &str = "edgeshim";

/// How many times a request may already have passed through edgeshim before a fetch from
/// it is refused as a loop.
pub const MAX_HOPS: usize = 3;

/// The incoming request's `CDN-Loop` header, kept for the requests the app sends (context
/// data, set per request).
#[derive(Debug, Default)]
pub struct IncomingLoop {
    header: std::cell::RefCell<Option<String>>,
    hops: Cell<usize>,
}

impl IncomingLoop {
    /// Records the `CDN-Loop` of the request being handled.
    pub fn begin_request(headers: &[(String, String)], context: &Context) {
        let values: Vec<&str> = headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("cdn-loop"))
            .map(|(_, value)| value.as_str())
            .collect();
        let hops = values
            .iter()
            .flat_map(|v| v.split(','))
            .filter(|entry| {
                entry
                    .split(';')
                    .next()
                    .is_some_and(|cdn| cdn.trim().eq_ignore_ascii_case(LOOP_TOKEN))
            })
            .count();
        if let Some(state) = context.get_data::<Self>() {
            *state.header.borrow_mut() = (!values.is_empty()).then(|| values.join(", "));
            state.hops.set(hops);
        }
        if let Some(backends) = context.get_data::<Backends>() {
            backends.start_request();
        }
    }

    fn outgoing(&self) -> String {
        match &*self.header.borrow() {
            Some(seen) => format!("{seen}, {LOOP_TOKEN}"),
            None => LOOP_TOKEN.to_owned(),
        }
    }
}

/// Registers the global `fetch`.
pub fn register(context: &mut Context) -> JsResult<()> {
    context.insert_data(IncomingLoop::default());
    let realm = context.realm().clone();
    let function = FunctionObjectBuilder::new(&realm, NativeFunction::from_fn_ptr(fetch))
        .name(js_string!("fetch"))
        .length(2)
        .constructor(false)
        .build();
    context.register_global_property(
        js_string!("fetch"),
        function,
        Attribute::WRITABLE | Attribute::ENUMERABLE | Attribute::CONFIGURABLE,
    )
}

fn rejected(error: JsError, context: &mut Context) -> JsResult<JsValue> {
    Ok(JsPromise::reject(error, context)?.into())
}

fn js_error(error: BackendError, context: &mut Context) -> JsError {
    match error.into_js(context) {
        Ok(error) | Err(error) => error,
    }
}

fn fetch(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    if !Phase::in_request(context) {
        return Err(js_error(BackendError::RequestHandlerOnly("fetch"), context));
    }
    let resource = args.first().cloned().unwrap_or_default();
    let request = match make_request(&resource, args, context) {
        Ok(request) => request,
        Err(error) => return rejected(error, context),
    };
    let setting = JsRequest::cache_setting(&request);
    let pass = setting
        .as_ref()
        .is_some_and(|s| s.cache_override == CacheOverride::Pass);
    if crate::fastly::http_cache_api::enabled(context) {
        // `fetch.cpp`'s `get_caching_mode`: pass, PURGE and image optimizer requests go to
        // the host as in a default build; everything else through the guest cache.
        let (method, ..) = JsRequest::parts(&request);
        if !pass && method != "PURGE" && JsRequest::image_optimizer(&request).is_none() {
            return guest_fetch(&request, context);
        }
    } else if !pass && setting.as_ref().is_some_and(|s| s.hooks) {
        // As the default build (without `--enable-http-cache`) does, before anything is
        // sent and by throwing, not rejecting.
        return Err(JsNativeError::error()
            .with_message(HTTP_CACHE_API_DISABLED)
            .into());
    }
    match start(&resource, &request, setting, false, context) {
        Ok(promise) => Ok(promise),
        Err(error) => rejected(error, context),
    }
}

/// What `fetch` throws for a `CacheOverride` with `beforeSend`/`afterSend` hooks in an app
/// built without `--enable-http-cache` (js-compute's default), verbatim.
pub const HTTP_CACHE_API_DISABLED: &str = "HTTP caching API is not enabled for JavaScript; enable it with the --enable-http-cache flag to the js-compute build command, or contact support for help";

/// `fetch(request)` in an app built with `--enable-http-cache`: `js-lib/fastly.js`'s
/// `guestFetch(request, hooks, key, collapse)`, which returns the promise.
fn guest_fetch(request: &JsObject<JsRequest>, context: &mut Context) -> JsResult<JsValue> {
    let hooks = JsRequest::cache_plan(request).map_or_else(JsValue::undefined, JsValue::from);
    let (_, url, headers, _) = JsRequest::parts(request);
    // Apart from the readthrough cache's objects, whose stored form differs.
    let key = format!(
        "guest {}",
        crate::http_cache::key_text(&url, &headers, JsRequest::decompress_gzip(request))
    );
    // A request that already came through edgeshim does not wait for another's pending
    // miss: the backend may lead back here, to a request waiting for itself.
    let collapse = context
        .get_data::<IncomingLoop>()
        .is_none_or(|l| l.hops.get() == 0);
    let function =
        crate::js_lib::internal(context, "fastly")?.get(js_string!("guestFetch"), context)?;
    let function = function
        .as_callable()
        .ok_or_else(|| crate::class_util::type_error("guestFetch is not a function"))?;
    function.call(
        &JsValue::undefined(),
        &[
            request.clone().upcast().into(),
            hooks,
            boa_engine::JsString::from(key.as_str()).into(),
            collapse.into(),
        ],
        context,
    )
}

/// Sends `request` to its backend without the host's readthrough cache (the guest HTTP
/// cache's own sends); the promise of its response.
pub(crate) fn send_uncached(
    request: &JsObject<JsRequest>,
    context: &mut Context,
) -> JsResult<JsValue> {
    let setting = CacheSetting {
        cache_override: CacheOverride::Pass,
        hooks: false,
    };
    match start(&JsValue::undefined(), request, Some(setting), true, context) {
        Ok(promise) => Ok(promise),
        Err(error) => rejected(error, context),
    }
}

/// The request `fetch(resource, init)` sends, made as `new Request(resource, init)` is.
fn make_request(
    resource: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsObject<JsRequest>> {
    let init = args.get(1).cloned().unwrap_or_default();
    let request =
        JsRequest::data_constructor(&JsValue::undefined(), &[resource.clone(), init], context)?;
    JsRequest::from_data(request, context)?
        .downcast::<JsRequest>()
        .map_err(|_| crate::class_util::type_error("fetch: not a Request"))
}

/// What the image optimizer would do with this request, told once per call site: edgeshim
/// sends it to the backend as any other and returns the image unchanged. On Compute a
/// request with options goes to Fastly's image service, unless it is a `PURGE` (sent
/// through the cache as usual, the options ignored; `fetch.cpp`'s `get_caching_mode`).
fn image_optimizer_notice(
    resource: &JsValue,
    request: &JsObject<JsRequest>,
    method: &str,
    url: &str,
    context: &mut Context,
) {
    match JsRequest::image_optimizer(request) {
        Some(query) if method != "PURGE" => compat::note(
            &CompatWarning::ImageOptimizerPassThrough {
                url: url.to_owned(),
                query,
            },
            context,
        ),
        Some(_) => {}
        None => {
            let carried = resource
                .as_object()
                .and_then(|o| o.downcast::<JsRequest>().ok())
                .is_some_and(|source| JsRequest::image_optimizer(&source).is_some());
            if carried {
                compat::note(&CompatWarning::ImageOptimizerOptionsDropped, context);
            }
        }
    }
}

/// Everything up to the send; an error here rejects the returned promise.
/// `for_guest`: the guest HTTP cache's own send, around the host's cache.
fn start(
    resource: &JsValue,
    request: &JsObject<JsRequest>,
    setting: Option<CacheSetting>,
    for_guest: bool,
    context: &mut Context,
) -> JsResult<JsValue> {
    // `init.backend`, read by the Request constructor, or the input request's.
    let (method, url, headers, named) = JsRequest::parts(request);
    image_optimizer_notice(resource, request, &method, &url, context);
    let backends = crate::fastly::backend::registry(context)?;
    let entry = match named {
        Some(name) => backends.get(&name).ok_or(BackendError::DoesNotExist(name)),
        None => {
            let parsed = url::Url::parse(&url).map_err(|e| {
                crate::class_util::type_error(format!("fetch: {url} is not a valid URL ({e})"))
            })?;
            backends.implicit(&parsed)
        }
    };
    let entry = entry.map_err(|e| js_error(e, context))?;
    backends.count_request().map_err(|e| js_error(e, context))?;
    let (hops, cdn_loop) = context
        .get_data::<IncomingLoop>()
        .map_or((0, LOOP_TOKEN.to_owned()), |l| (l.hops.get(), l.outgoing()));
    if hops >= MAX_HOPS {
        return Err(js_error(
            BackendError::Loop {
                backend: entry.spec.name.clone(),
                hops,
            },
            context,
        ));
    }
    let mut headers: Vec<(String, String)> = headers
        .into_iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("cdn-loop"))
        .collect();
    headers.push(("cdn-loop".into(), cdn_loop));
    super::framing::apply(
        &mut headers,
        JsRequest::manual_framing(request),
        "the backend request",
    );
    let body = JsRequest::take_body_for_send(request, context)?;
    let host = context
        .get_data::<HostHandle>()
        .map(|h| h.0.clone())
        .ok_or_else(|| crate::class_util::type_error("fetch is not available here"))?;
    let backend = entry.spec.name.clone();
    let started = std::time::Instant::now();
    let send = host.send(
        BackendRequest {
            backend: entry.spec,
            method: method.clone(),
            url: url.clone(),
            headers,
            decompress_gzip: JsRequest::decompress_gzip(request),
            cache: CachePolicy {
                pop: Phase::pop(context),
                cache_override: setting.map(|s| s.cache_override).unwrap_or_default(),
                collapse: hops == 0,
            },
        },
        body,
    );
    let (promise, resolvers) = JsPromise::new_pending(context);
    body_stream::event_loop(context)?.spawn_host_op(async move {
        let sent = send.await;
        let completion: HostCompletion = Box::new(move |context: &mut Context| {
            let elapsed = started.elapsed().as_secs_f64() * 1000.0;
            let outcome = match sent {
                Ok(response) => {
                    let cache = match response.head.cache {
                        // Its lookups are logged by the edge cache (`edgeshim::cache`).
                        Some(_) if for_guest => " (for the guest HTTP cache)".to_owned(),
                        Some(outcome) => format!(" (cache {outcome})"),
                        None => String::new(),
                    };
                    tracing::info!(
                        target: "edgeshim::backend",
                        "{backend}: {method} {url} -> {}{cache} in {elapsed:.1} ms",
                        response.head.status
                    );
                    tracing::debug!(
                        target: "edgeshim::backend",
                        "{backend}: response headers {:?}",
                        response.head.headers
                    );
                    let origin = Origin {
                        url: url.clone(),
                        backend: backend.clone(),
                        remote: response.head.remote,
                    };
                    JsResponse::from_backend(
                        response.head.status,
                        response.head.headers,
                        response.body,
                        origin,
                        context,
                    )
                    .map(JsValue::from)
                }
                Err(error) => {
                    tracing::warn!(
                        target: "edgeshim::backend",
                        "{backend}: {method} {url} failed after {elapsed:.1} ms: {error}"
                    );
                    Err(js_error(BackendError::Send(error), context))
                }
            };
            crate::event_loop::settle(&resolvers, outcome, context)
        });
        completion
    });
    Ok(promise.into())
}
