//! `Request`: the incoming request an app sees as `event.request`, and requests apps build.
//!
//! Follows <https://fetch.spec.whatwg.org/#request-class> for what simple apps use: `method`,
//! `url`, `headers` and the body mixin. Streams and the rest of the surface come with the web
//! platform work.

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsObject, JsResult, JsString, JsValue, NativeFunction,
    Trace,
};

use super::body_mixin::{add_body_members, body_used, clone_body, extract, BodyState, HasBody};
use super::body_stream::HostBody;
use super::headers::JsHeaders;
use crate::class_util::{getter, require_args, this_as, type_error};
use crate::http_cache::{CacheOverride, CACHE_KEY_HEADER};
use crate::web::bot::{self, Bot};

const CLASS: &str = "Request";

#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsRequest {
    #[unsafe_ignore_trace]
    method: String,
    #[unsafe_ignore_trace]
    url: String,
    headers: JsObject,
    body: BodyState,
    /// The backend `init.backend` named (a name, or a `Backend`'s), for `fetch()`.
    #[unsafe_ignore_trace]
    backend: Option<String>,
    /// `init.fastly.decompressGzip`.
    #[unsafe_ignore_trace]
    decompress_gzip: bool,
    /// `init.imageOptimizerOptions`, checked and written as the query string Fastly's image
    /// service would get. Only `init` sets it, as in js-compute's `Request::create`: a
    /// request made from another (`fetch(request)` too) does not inherit it; `clone()` does.
    #[unsafe_ignore_trace]
    image_optimizer: Option<String>,
    /// `init.cacheOverride` or `setCacheOverride`; a request made from another inherits it.
    #[unsafe_ignore_trace]
    cache_override: Option<CacheSetting>,
    /// The override's plan (`cacheOverridePlan`): its values and the `beforeSend`/
    /// `afterSend` functions an `--enable-http-cache` build's `fetch()` uses.
    cache_plan: Option<JsObject>,
    /// `setManualFramingHeaders(true)`: the app's framing headers are sent
    /// ([`super::framing`]).
    #[unsafe_ignore_trace]
    manual_framing: bool,
    /// Bot detection, for the client request only.
    #[unsafe_ignore_trace]
    bot: Option<Box<Bot>>,
}

/// `version` of every request: HTTP/1.1 in the host's numbering (`Http09` = 0 …
/// `Http11` = 2, `H2` = 3), what an app-made request is and what edgeshim's server speaks.
pub const HTTP_1_1: i32 = 2;

/// A request's `CacheOverride` as the host applies it, and whether it has the
/// `beforeSend`/`afterSend` hooks that only `--enable-http-cache` builds run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSetting {
    pub cache_override: CacheOverride,
    pub hooks: bool,
}

/// `value` as a request's cache override (`Request::set_cache_override`): the checks and
/// copy are `js-lib/fastly.js`'s `cacheOverridePlan`, which throws the platform's errors.
fn cache_setting(
    value: &JsValue,
    context: &mut Context,
) -> JsResult<(CacheSetting, Option<JsObject>)> {
    let plan = crate::js_lib::internal(context, "fastly")?
        .get(js_string!("cacheOverridePlan"), context)?;
    let plan = plan
        .as_callable()
        .ok_or_else(|| type_error("cacheOverridePlan is not a function"))?
        .call(&JsValue::undefined(), std::slice::from_ref(value), context)?;
    let plan = plan
        .as_object()
        .ok_or_else(|| type_error("cacheOverridePlan did not return an object"))?;
    let seconds = |name: &'static str, context: &mut Context| -> JsResult<Option<u32>> {
        let value = plan.get(js_string!(name), context)?;
        Ok(value.as_number().map(|n| n.max(0.0) as u32))
    };
    let mode = plan
        .get(js_string!("mode"), context)?
        .to_string(context)?
        .to_std_string_lossy();
    let cache_override = match mode.as_str() {
        "pass" => CacheOverride::Pass,
        "override" => CacheOverride::Override {
            ttl: seconds("ttl", context)?,
            stale_while_revalidate: seconds("swr", context)?,
            stale_if_error: seconds("sie", context)?,
            surrogate_key: {
                let key = plan.get(js_string!("surrogateKey"), context)?;
                if key.is_undefined() {
                    None
                } else {
                    Some(key.to_string(context)?.to_std_string_lossy())
                }
            },
            pci: plan.get(js_string!("pci"), context)?.to_boolean(),
        },
        _ => CacheOverride::None,
    };
    let hooks = plan.get(js_string!("hooks"), context)?.to_boolean();
    Ok((
        CacheSetting {
            cache_override,
            hooks,
        },
        Some(plan),
    ))
}

/// The `fastly-xqd-cache-key` header value `setCacheKey(key)` adds: the SHA-256 of the key
/// (as a string), in upper-case hex.
fn cache_key_header(key: &JsValue, context: &mut Context) -> JsResult<String> {
    use sha2::Digest as _;
    let key = key.to_string(context)?.to_std_string_lossy();
    let digest = sha2::Sha256::digest(key.as_bytes());
    Ok(digest.iter().map(|b| format!("{b:02X}")).collect())
}

impl HasBody for JsRequest {
    const CLASS: &'static str = CLASS;
    fn body(&mut self) -> &mut BodyState {
        &mut self.body
    }
    fn headers(&self) -> &JsObject {
        &self.headers
    }
}

/// Uppercases the methods the Fetch standard normalizes; others keep their case.
fn normalize_method(method: &str) -> String {
    const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    NORMALIZED
        .iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .map_or_else(|| method.to_owned(), |m| (*m).to_owned())
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(crate::class_util::is_token_char)
}

impl JsRequest {
    /// The request an HTTP server received, as a JS object with immutable headers.
    pub fn incoming(
        method: &str,
        url: String,
        headers: Vec<(String, String)>,
        body: HostBody,
        context: &mut Context,
    ) -> JsResult<JsObject> {
        let bot = Some(Box::new(Bot::of(&headers)));
        let headers = JsHeaders::from_pairs(headers, true).create(context)?;
        let body = match body {
            HostBody::Full(bytes) => BodyState::from_bytes(
                (!bytes.is_empty() || !matches!(method, "GET" | "HEAD")).then_some(bytes),
            ),
            HostBody::Stream(chunks) => {
                BodyState::from_host(super::body_stream::host_slot(chunks, context))
            }
        };
        Self::from_data(
            Self {
                method: method.to_owned(),
                url,
                headers,
                body,
                backend: None,
                decompress_gzip: false,
                image_optimizer: None,
                cache_override: None,
                cache_plan: None,
                manual_framing: false,
                bot,
            },
            context,
        )
    }
}

impl JsRequest {
    /// Method, URL, headers and the backend `init.backend` named.
    pub fn parts(
        request: &JsObject<JsRequest>,
    ) -> (String, String, Vec<(String, String)>, Option<String>) {
        let r = request.borrow();
        let r = r.data();
        (
            r.method.clone(),
            r.url.clone(),
            JsHeaders::pairs_of(&r.headers),
            r.backend.clone(),
        )
    }

    /// The image optimizer query string `init.imageOptimizerOptions` gave, if any.
    /// Whether the app frames this request itself (`setManualFramingHeaders`).
    pub fn manual_framing(request: &JsObject<JsRequest>) -> bool {
        request.borrow().data().manual_framing
    }

    /// The request's `cacheOverride`, if any.
    pub fn cache_setting(request: &JsObject<JsRequest>) -> Option<CacheSetting> {
        request.borrow().data().cache_override.clone()
    }

    /// The plan of the request's `cacheOverride` (values and hooks), if it has one.
    pub fn cache_plan(request: &JsObject<JsRequest>) -> Option<JsObject> {
        request.borrow().data().cache_plan.clone()
    }

    pub fn image_optimizer(request: &JsObject<JsRequest>) -> Option<String> {
        request.borrow().data().image_optimizer.clone()
    }

    /// Whether the response should arrive gzip-decoded (`fastly.decompressGzip`).
    pub fn decompress_gzip(request: &JsObject<JsRequest>) -> bool {
        request.borrow().data().decompress_gzip
    }

    /// The body to send to a backend, which is then used: bytes as they are, an unread host
    /// body handed over whole, a JS stream pumped chunk by chunk.
    pub fn take_body_for_send(
        request: &JsObject<JsRequest>,
        context: &mut Context,
    ) -> JsResult<HostBody> {
        if body_used(request, context)? {
            return Err(type_error(super::body_mixin::BODY_USED));
        }
        let (bytes, stream, host) = {
            let mut data = request.borrow_mut();
            let body = &mut data.data_mut().body;
            let bytes = body.bytes().cloned();
            let stream = body.stream_object().cloned();
            let host = body.take_host_chunks();
            if bytes.is_some() || stream.is_some() {
                body.mark_used();
            }
            (bytes, stream, host)
        };
        Ok(match (host, bytes, stream) {
            (Some(chunks), _, _) => HostBody::Stream(chunks),
            (None, Some(bytes), _) => HostBody::Full(bytes),
            (None, None, Some(stream)) => {
                match super::body_stream::host_chunks_of(&stream, context)? {
                    Some(chunks) => HostBody::Stream(chunks),
                    None => {
                        let (chunks, _sent, _sender) =
                            super::body_stream::pump_to_host(&stream, context)?;
                        HostBody::Stream(chunks)
                    }
                }
            }
            (None, None, None) => HostBody::default(),
        })
    }
}

/// Moves the body out of `source` for a new `Request` made from it, as the Fetch standard
/// does: the source's body is then used.
fn take_body(source: &JsObject<JsRequest>, context: &mut Context) -> JsResult<BodyState> {
    if body_used(source, context)? {
        return Err(type_error(
            "Request constructor: the input request's body isn't usable.",
        ));
    }
    let mut data = source.borrow_mut();
    let body = &mut data.data_mut().body;
    let has_body = body.bytes().is_some() || body.stream_object().is_some() || body.has_host();
    let taken = std::mem::take(body);
    if has_body {
        body.mark_used();
    }
    Ok(taken)
}

impl Class for JsRequest {
    const NAME: &'static str = CLASS;
    const LENGTH: usize = 1;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        require_args(args, "Request constructor", 1)?;
        let input = &args[0];
        let init = args.get(1).cloned().unwrap_or_default();

        let source = input
            .as_object()
            .and_then(|o| o.downcast::<JsRequest>().ok());
        let mut backend = None;
        let mut decompress_gzip = false;
        let mut image_options = JsValue::undefined();
        let mut cache_override = None;
        let mut cache_plan = None;
        let mut override_value = JsValue::undefined();
        let mut cache_key = JsValue::undefined();
        let (mut method, url, mut headers, mut body) = match &source {
            Some(source) => {
                let (method, url, headers) = {
                    let r = source.borrow();
                    let r = r.data();
                    backend.clone_from(&r.backend);
                    decompress_gzip = r.decompress_gzip;
                    cache_override.clone_from(&r.cache_override);
                    cache_plan.clone_from(&r.cache_plan);
                    (
                        r.method.clone(),
                        r.url.clone(),
                        JsHeaders::pairs_of(&r.headers),
                    )
                };
                (method, url, headers, None)
            }
            None => {
                let text = input.to_string(context)?.to_std_string_lossy();
                // Relative URLs resolve against `fastly.baseURL` (`setBaseURL`).
                let base = crate::fastly::experimental::BaseUrl::get(context);
                let url = url::Url::options()
                    .base_url(base.as_ref())
                    .parse(&text)
                    .map_err(|e| {
                        type_error(format!(
                            "Request constructor: {text} is not a valid URL ({e})"
                        ))
                    })?;
                ("GET".to_owned(), url.to_string(), Vec::new(), None)
            }
        };

        if let Some(init) = init.as_object() {
            let b = init.get(js_string!("backend"), context)?;
            if !b.is_undefined() {
                backend = Some(match crate::fastly::backend::JsBackend::name_of(&b) {
                    Some(name) => name,
                    None => b.to_string(context)?.to_std_string_lossy(),
                });
            }
            if let Some(fastly) = init.get(js_string!("fastly"), context)?.as_object() {
                decompress_gzip = fastly
                    .get(js_string!("decompressGzip"), context)?
                    .to_boolean();
            }
            let m = init.get(js_string!("method"), context)?;
            if !m.is_undefined() {
                let m = m.to_string(context)?.to_std_string_lossy();
                if !is_token(&m) {
                    return Err(type_error(format!(
                        "Request constructor: '{m}' is not a valid HTTP method"
                    )));
                }
                if ["CONNECT", "TRACE", "TRACK"]
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(&m))
                {
                    return Err(type_error(format!(
                        "Request constructor: '{m}' HTTP method is unsupported"
                    )));
                }
                method = normalize_method(&m);
            }
            let h = init.get(js_string!("headers"), context)?;
            if !h.is_undefined() {
                let built = JsHeaders::data_constructor(&JsValue::undefined(), &[h], context)?;
                headers = built.into_pairs();
            }
            let b = init.get(js_string!("body"), context)?;
            if !b.is_undefined() {
                let (extracted, content_type) = extract(&b, "Request constructor", context)?;
                if let Some(ct) = content_type {
                    if !headers.iter().any(|(n, _)| n == "content-type") {
                        headers.push(("content-type".into(), ct.into()));
                    }
                }
                body = Some(extracted);
            }
            override_value = init.get(js_string!("cacheOverride"), context)?;
            cache_key = init.get(js_string!("cacheKey"), context)?;
            image_options = init.get(js_string!("imageOptimizerOptions"), context)?;
        }
        let holds_body = |body: &BodyState| {
            body.bytes().is_some() || body.stream_object().is_some() || body.has_host()
        };
        // Whether the body comes from `init` or from the input request (looked at, not taken).
        let has_body = match (&body, &source) {
            (Some(body), _) => holds_body(body),
            (None, Some(source)) => holds_body(&source.borrow().data().body),
            (None, None) => false,
        };
        if has_body && matches!(method.as_str(), "GET" | "HEAD") {
            return Err(type_error(
                "Request constructor: HEAD or GET Request cannot have a body.",
            ));
        }
        // After the body's checks, in js-compute's order: cacheOverride, cacheKey, then
        // imageOptimizerOptions.
        if !override_value.is_undefined() {
            let (setting, hooks) = cache_setting(&override_value, context)?;
            cache_override = Some(setting);
            cache_plan = hooks;
        }
        if !cache_key.is_undefined() {
            headers.push((
                CACHE_KEY_HEADER.to_owned(),
                cache_key_header(&cache_key, context)?,
            ));
        }
        let image_optimizer = if image_options.is_undefined() {
            None
        } else {
            Some(image_optimizer_query(&image_options, context)?)
        };
        // The input request's body moves here last, once every check has passed: a
        // constructor that throws leaves it usable.
        let body = match (body, &source) {
            (Some(body), _) => body,
            (None, Some(source)) => take_body(source, context)?,
            (None, None) => BodyState::default(),
        };
        let headers = JsHeaders::from_pairs(headers, false).create(context)?;
        Ok(Self {
            method,
            url,
            headers,
            body,
            backend,
            decompress_gzip,
            image_optimizer,
            cache_override,
            cache_plan,
            manual_framing: false,
            bot: None,
        })
    }

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        getter(class, "method", |this, _, _| {
            let r = this_as::<JsRequest>(this, "method", CLASS)?;
            let method = JsString::from(r.borrow().data().method.as_str());
            Ok(method.into())
        });
        getter(class, "url", |this, _, _| {
            let r = this_as::<JsRequest>(this, "url", CLASS)?;
            let url = JsString::from(r.borrow().data().url.as_str());
            Ok(url.into())
        });
        getter(class, "headers", |this, _, _| {
            let r = this_as::<JsRequest>(this, "headers", CLASS)?;
            let headers = r.borrow().data().headers.clone();
            Ok(headers.into())
        });
        add_body_members::<JsRequest>(class);
        class.property(
            boa_engine::JsSymbol::to_string_tag(),
            js_string!(CLASS),
            Attribute::CONFIGURABLE,
        );
        // Compute's readthrough cache controls (`Request::setCacheOverride`/`setCacheKey`).
        class.method(
            js_string!("setCacheOverride"),
            1,
            NativeFunction::from_fn_ptr(|this, args, ctx| {
                let r = this_as::<JsRequest>(this, "setCacheOverride", CLASS)?;
                require_args(args, "setCacheOverride", 1)?;
                let (setting, hooks) = cache_setting(&args[0], ctx)?;
                let mut r = r.borrow_mut();
                r.data_mut().cache_override = Some(setting);
                r.data_mut().cache_plan = hooks;
                Ok(JsValue::undefined())
            }),
        );
        class.method(
            js_string!("setCacheKey"),
            0,
            NativeFunction::from_fn_ptr(|this, args, ctx| {
                let r = this_as::<JsRequest>(this, "setCacheKey", CLASS)?;
                let value = cache_key_header(&args.first().cloned().unwrap_or_default(), ctx)?;
                let headers = r.borrow().data().headers.clone();
                let headers = headers
                    .downcast::<JsHeaders>()
                    .map_err(|_| type_error("setCacheKey: the request has no Headers"))?;
                headers
                    .borrow_mut()
                    .data_mut()
                    .append(CACHE_KEY_HEADER, &value)?;
                Ok(JsValue::undefined())
            }),
        );
        getter(class, "version", |this, _, _| {
            this_as::<JsRequest>(this, "version", CLASS)?;
            Ok(HTTP_1_1.into())
        });
        getter(class, "backend", |this, _, context| {
            let r = this_as::<JsRequest>(this, "backend", CLASS)?;
            let name = r.borrow().data().backend.clone();
            match name {
                Some(name) => Ok(crate::fastly::backend::JsBackend::object(&name, context)?.into()),
                None => Ok(JsValue::undefined()),
            }
        });
        for name in bot::GETTERS {
            let get: boa_engine::native_function::NativeFunctionPointer = match name {
                "botAnalyzed" => |this, _, _| bot_getter(this, "botAnalyzed"),
                "botDetected" => |this, _, _| bot_getter(this, "botDetected"),
                "botName" => |this, _, _| bot_getter(this, "botName"),
                "botCategory" => |this, _, _| bot_getter(this, "botCategory"),
                _ => |this, _, _| bot_getter(this, "botVerified"),
            };
            getter(class, name, get);
        }
        class.method(
            js_string!("setManualFramingHeaders"),
            1,
            NativeFunction::from_fn_ptr(|this, args, _| {
                let r = this_as::<JsRequest>(this, "setManualFramingHeaders", CLASS)?;
                require_args(args, "setManualFramingHeaders", 1)?;
                r.borrow_mut().data_mut().manual_framing = args[0].to_boolean();
                Ok(JsValue::undefined())
            }),
        );
        // The host's answer (`is_cacheable`): GET and HEAD requests are looked up.
        getter(class, "isCacheable", |this, _, _| {
            let r = this_as::<JsRequest>(this, "isCacheable", CLASS)?;
            let method = r.borrow().data().method.clone();
            Ok(matches!(method.as_str(), "GET" | "HEAD").into())
        });
        class.method(
            js_string!("clone"),
            0,
            NativeFunction::from_fn_ptr(|this, _, ctx| {
                let r = this_as::<JsRequest>(this, "clone", CLASS)?;
                let body = clone_body(&r, ctx)?;
                let (method, url, pairs, backend) = JsRequest::parts(&r);
                let (decompress_gzip, image_optimizer, cache_override, cache_plan, manual_framing) = {
                    let data = r.borrow();
                    let data = data.data();
                    (
                        data.decompress_gzip,
                        data.image_optimizer.clone(),
                        data.cache_override.clone(),
                        data.cache_plan.clone(),
                        data.manual_framing,
                    )
                };
                let headers = JsHeaders::from_pairs(pairs, false).create(ctx)?;
                Ok(JsRequest::from_data(
                    JsRequest {
                        method,
                        url,
                        headers,
                        body,
                        backend,
                        decompress_gzip,
                        image_optimizer,
                        cache_override,
                        cache_plan,
                        manual_framing,
                        bot: None,
                    },
                    ctx,
                )?
                .into())
            }),
        );
        Ok(())
    }
}

fn bot_getter(this: &JsValue, name: &str) -> JsResult<JsValue> {
    let r = this_as::<JsRequest>(this, name, CLASS)?;
    let data = r.borrow();
    Ok(Bot::get(data.data().bot.as_deref(), name))
}

/// `fastly:image-optimizer`'s checks and query string for `options` (`js-lib/fastly.js`,
/// `imageOptimizerQuery`), throwing the platform's TypeErrors.
fn image_optimizer_query(options: &JsValue, context: &mut Context) -> JsResult<String> {
    let query = crate::js_lib::internal(context, "fastly")?
        .get(js_string!("imageOptimizerQuery"), context)?;
    let query = query
        .as_callable()
        .ok_or_else(|| type_error("imageOptimizerQuery is not a function"))?
        .call(
            &JsValue::undefined(),
            std::slice::from_ref(options),
            context,
        )?;
    Ok(query.to_string(context)?.to_std_string_lossy())
}

/// Registers `Request` as a global class.
pub fn register(context: &mut Context) -> JsResult<()> {
    context.register_global_class::<JsRequest>()
}
