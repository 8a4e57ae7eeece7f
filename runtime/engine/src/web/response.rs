//! `Response`: what apps answer with. String and byte bodies kept byte-exact, `status`,
//! `statusText`, `headers`, the body mixin, `Response.json` and `Response.redirect`.
//!
//! Follows <https://fetch.spec.whatwg.org/#response-class>.

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsObject, JsResult, JsString, JsValue, NativeFunction,
    Trace,
};
use bytes::Bytes;

use super::body::stringify_json;
use super::body_mixin::{add_body_members, body_used, extract, BodyState, HasBody, BODY_USED};
use super::body_stream::{self, HostBody};
use super::framing;
use super::headers::JsHeaders;
use crate::class_util::{getter, range_error, this_as, type_error};
use boa_engine::object::builtins::JsPromise;

const CLASS: &str = "Response";

// js-compute-runtime's messages, verbatim (its error_numbers.msg), typo included.
const INVALID_STATUS_TEXT: &str = "Response constructor: Invalid response status text. The statusText provided contains invalid characters.";
const BODY_WITH_NULL_BODY_STATUS: &str =
    "Response constructor: Response body is given with a null body status.";
const REDIRECT_INVALID_URI: &str = "Response.redirect: url parameter is not a valid URL.";
const REDIRECT_INVALID_STATUS: &str = "Response.redirect: Invalid redirect status code.";
const JSON_INVALID_VALUE: &str = "Redirect.json: The data is not JSON serializable";
// StarlingMonkey's "{0}: {1} must {2}" with js-compute's words, as it reads.
const STALE_IF_ERROR_AVAILABLE_OUTSIDE_AFTER_SEND: &str = "Response: staleIfErrorAvailable() must can only be called on candidate responses inside afterSend callback";

fn invalid_status(status: &str) -> String {
    format!(
        "Response constructor: Invalid response status code. The status provided ({status}) is outside the range [200, 599]."
    )
}

#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsResponse {
    #[unsafe_ignore_trace]
    status: u16,
    #[unsafe_ignore_trace]
    status_text: String,
    headers: JsObject,
    body: BodyState,
    /// Where a response from a backend came from (`fetch()`); `None` for the app's own.
    #[unsafe_ignore_trace]
    origin: Option<Box<Origin>>,
    /// `setManualFramingHeaders(true)`: the app's framing headers are sent ([`framing`]).
    #[unsafe_ignore_trace]
    manual_framing: bool,
}

/// What a backend response reports beyond the Fetch standard: `url`, and js-compute's
/// `backend`, `ip` and `port`.
#[derive(Debug, Clone)]
pub struct Origin {
    pub url: String,
    pub backend: String,
    pub remote: Option<std::net::SocketAddr>,
}

impl HasBody for JsResponse {
    const CLASS: &'static str = CLASS;
    fn body(&mut self) -> &mut BodyState {
        &mut self.body
    }
    fn headers(&self) -> &JsObject {
        &self.headers
    }
}

/// A response in plain Rust data, ready to leave the engine.
#[derive(Debug)]
pub struct ResponseParts {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: HostBody,
}

/// A response ready to send, and for a streamed body the promise that settles when the whole
/// body has been handed to the server (the instance must run until then) with the sending
/// end, to abandon the body if the instance ends first.
pub struct Outgoing {
    pub parts: ResponseParts,
    pub body_sent: Option<(JsPromise, body_stream::ResponseSender)>,
}

impl JsResponse {
    /// A backend's response as `fetch()` resolves with it: immutable headers, the body
    /// streaming from the host.
    pub fn from_backend(
        status: u16,
        headers: Vec<(String, String)>,
        body: HostBody,
        origin: Origin,
        context: &mut Context,
    ) -> JsResult<JsObject> {
        let headers = JsHeaders::from_pairs(headers, true).create(context)?;
        let body = if is_null_body_status(status) {
            BodyState::from_bytes(None)
        } else {
            match body {
                HostBody::Full(bytes) => BodyState::from_bytes(Some(bytes)),
                HostBody::Stream(chunks) => {
                    BodyState::from_host(body_stream::host_slot(chunks, context))
                }
            }
        };
        Self::from_data(
            Self {
                status,
                status_text: String::new(),
                headers,
                body,
                origin: Some(Box::new(origin)),
                manual_framing: false,
            },
            context,
        )
    }

    /// Gives `response` the body `body` (the guest HTTP cache's candidate response, whose
    /// body is held back while its hooks run).
    pub fn replace_body(response: &JsObject<JsResponse>, body: BodyState) {
        response.borrow_mut().data_mut().body = body;
    }

    /// Gives `response` new headers (the guest HTTP cache's: `x-cache`, or a candidate's
    /// that `afterSend` may change when not `immutable`).
    ///
    /// # Errors
    /// The new `Headers` object cannot be made.
    pub fn replace_headers(
        response: &JsObject<JsResponse>,
        pairs: Vec<(String, String)>,
        immutable: bool,
        context: &mut Context,
    ) -> JsResult<()> {
        let headers = JsHeaders::from_pairs(pairs, immutable).create(context)?;
        response.borrow_mut().data_mut().headers = headers;
        Ok(())
    }

    /// The name of the backend `response` came from, if it came from one.
    pub fn backend_name(response: &JsObject<JsResponse>) -> Option<String> {
        response
            .borrow()
            .data()
            .origin
            .as_ref()
            .map(|origin| origin.backend.clone())
    }

    /// The parts of a `Response` object, or `Ok(None)` if `value` is not one. A streamed body
    /// starts flowing to the returned channel.
    ///
    /// # Errors
    /// The body stream cannot be read (it is locked or was read from).
    pub fn outgoing(value: &JsValue, context: &mut Context) -> JsResult<Option<Outgoing>> {
        let Some(object) = value
            .as_object()
            .and_then(|o| o.downcast::<JsResponse>().ok())
        else {
            return Ok(None);
        };
        if body_used(&object, context)? {
            return Err(type_error(format!("respondWith: {BODY_USED}")));
        }
        if object.borrow().data().status == 0 {
            return Err(type_error(
                "respondWith: the app answered with Response.error(), a network error",
            ));
        }
        let (status, mut headers, bytes, stream, host, manual) = {
            let mut response = object.borrow_mut();
            let response = response.data_mut();
            let bytes = response.body.bytes().cloned();
            let stream = response.body.stream_object().cloned();
            let host = match (&bytes, &stream) {
                (None, None) => response.body.take_host_chunks(),
                _ => None,
            };
            (
                response.status,
                JsHeaders::pairs_of(&response.headers),
                bytes,
                stream,
                host,
                response.manual_framing,
            )
        };
        framing::apply(&mut headers, manual, "the response");
        let (body, body_sent) = match (host, bytes, stream) {
            // A host body passed through (a backend's or the request's): straight to the
            // server, never through JS.
            (Some(chunks), _, _) => (HostBody::Stream(chunks), None),
            (None, Some(bytes), _) => (HostBody::Full(bytes), None),
            (None, None, Some(stream)) => match body_stream::host_chunks_of(&stream, context)? {
                Some(chunks) => (HostBody::Stream(chunks), None),
                None => {
                    let (chunks, sent, sender) = body_stream::pump_to_host(&stream, context)?;
                    (HostBody::Stream(chunks), Some((sent, sender)))
                }
            },
            // Consumed already (caught above) or no body at all.
            (None, None, None) => (HostBody::Full(Bytes::new()), None),
        };
        Ok(Some(Outgoing {
            parts: ResponseParts {
                status,
                headers,
                body,
            },
            body_sent,
        }))
    }
}

fn is_null_body_status(status: u16) -> bool {
    matches!(status, 101 | 103 | 204 | 205 | 304)
}

fn is_redirect_status(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// "Initialize a response" with `init` and an extracted body.
fn build(
    init: &JsValue,
    body: BodyState,
    content_type: Option<std::borrow::Cow<'static, str>>,
    context: &mut Context,
) -> JsResult<JsResponse> {
    let mut status = 200u16;
    let mut status_text = String::new();
    let mut pairs = Vec::new();
    if let Some(init) = init.as_object() {
        let s = init.get(js_string!("status"), context)?;
        if !s.is_undefined() {
            let n = s.to_number(context)?;
            if !(200.0..=599.0).contains(&n) || n.fract() != 0.0 {
                return Err(range_error(invalid_status(
                    &s.to_string(context)?.to_std_string_lossy(),
                )));
            }
            status = n as u16;
        }
        let t = init.get(js_string!("statusText"), context)?;
        if !t.is_undefined() {
            status_text = t.to_string(context)?.to_std_string_lossy();
            if status_text.contains(['\r', '\n']) {
                return Err(type_error(INVALID_STATUS_TEXT));
            }
        }
        let h = init.get(js_string!("headers"), context)?;
        if !h.is_undefined() {
            pairs = JsHeaders::data_constructor(&JsValue::undefined(), &[h], context)?.into_pairs();
        }
    }
    let is_null = body.bytes().is_none() && body.stream_object().is_none();
    if !is_null && is_null_body_status(status) {
        return Err(type_error(BODY_WITH_NULL_BODY_STATUS));
    }
    if let Some(ct) = content_type {
        if !pairs.iter().any(|(n, _)| n == "content-type") {
            pairs.push(("content-type".into(), ct.into()));
        }
    }
    Ok(JsResponse {
        status,
        status_text,
        headers: JsHeaders::from_pairs(pairs, false).create(context)?,
        body,
        origin: None,
        manual_framing: false,
    })
}

impl Class for JsResponse {
    const NAME: &'static str = CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        let (body, content_type) = extract(
            &args.first().cloned().unwrap_or_default(),
            "Response constructor",
            context,
        )?;
        build(
            &args.get(1).cloned().unwrap_or_default(),
            body,
            content_type,
            context,
        )
    }

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        // Compute's `status` has a setter that changes only the candidate response of an
        // `afterSend` hook; on any other response (all of them, in a default build) it does
        // nothing (`Response::status_set`).
        let realm = class.context().realm().clone();
        let get_status = boa_engine::object::FunctionObjectBuilder::new(
            &realm,
            NativeFunction::from_fn_ptr(|this, _, _| {
                let r = this_as::<JsResponse>(this, "status", CLASS)?;
                let status = r.borrow().data().status;
                Ok(status.into())
            }),
        )
        .name(js_string!("get status"))
        .length(0)
        .build();
        let set_status = boa_engine::object::FunctionObjectBuilder::new(
            &realm,
            NativeFunction::from_fn_ptr(|this, _, _| {
                this_as::<JsResponse>(this, "status", CLASS)?;
                Ok(JsValue::undefined())
            }),
        )
        .name(js_string!("set status"))
        .length(1)
        .build();
        class.accessor(
            js_string!("status"),
            Some(get_status),
            Some(set_status),
            Attribute::CONFIGURABLE | Attribute::ENUMERABLE,
        );
        getter(class, "ok", |this, _, _| {
            let r = this_as::<JsResponse>(this, "ok", CLASS)?;
            let status = r.borrow().data().status;
            Ok((200..=299).contains(&status).into())
        });
        getter(class, "statusText", |this, _, _| {
            let r = this_as::<JsResponse>(this, "statusText", CLASS)?;
            let text = JsString::from(r.borrow().data().status_text.as_str());
            Ok(text.into())
        });
        getter(class, "headers", |this, _, _| {
            let r = this_as::<JsResponse>(this, "headers", CLASS)?;
            let headers = r.borrow().data().headers.clone();
            Ok(headers.into())
        });
        getter(class, "redirected", |this, _, _| {
            this_as::<JsResponse>(this, "redirected", CLASS)?;
            Ok(false.into())
        });
        getter(class, "type", |this, _, _| {
            let r = this_as::<JsResponse>(this, "type", CLASS)?;
            // Only a network error has status 0 (Compute has no `Response.error()`).
            let kind = if r.borrow().data().status == 0 {
                "error"
            } else {
                "default"
            };
            Ok(js_string!(kind).into())
        });
        getter(class, "url", |this, _, _| {
            let r = this_as::<JsResponse>(this, "url", CLASS)?;
            let url = r.borrow().data().origin.as_ref().map(|o| o.url.clone());
            Ok(JsString::from(url.unwrap_or_default().as_str()).into())
        });
        getter(class, "backend", |this, _, context| {
            let r = this_as::<JsResponse>(this, "backend", CLASS)?;
            let name = r.borrow().data().origin.as_ref().map(|o| o.backend.clone());
            match name {
                Some(name) => Ok(crate::fastly::backend::JsBackend::object(&name, context)?.into()),
                None => Ok(JsValue::undefined()),
            }
        });
        getter(class, "ip", |this, _, _| {
            let r = this_as::<JsResponse>(this, "ip", CLASS)?;
            let remote = r.borrow().data().origin.as_ref().and_then(|o| o.remote);
            Ok(remote.map_or(JsValue::undefined(), |a| {
                JsString::from(a.ip().to_string().as_str()).into()
            }))
        });
        getter(class, "version", |this, _, _| {
            this_as::<JsResponse>(this, "version", CLASS)?;
            Ok(super::request::HTTP_1_1.into())
        });
        getter(class, "port", |this, _, _| {
            let r = this_as::<JsResponse>(this, "port", CLASS)?;
            let remote = r.borrow().data().origin.as_ref().and_then(|o| o.remote);
            Ok(remote.map_or(JsValue::undefined(), |a| a.port().into()))
        });
        cache_accessors(class);
        add_body_members::<JsResponse>(class);
        class.property(
            boa_engine::JsSymbol::to_string_tag(),
            js_string!(CLASS),
            Attribute::CONFIGURABLE,
        );
        class.method(
            js_string!("setManualFramingHeaders"),
            1,
            NativeFunction::from_fn_ptr(|this, args, _| {
                let r = this_as::<JsResponse>(this, "setManualFramingHeaders", CLASS)?;
                crate::class_util::require_args(args, "setManualFramingHeaders", 1)?;
                r.borrow_mut().data_mut().manual_framing = args[0].to_boolean();
                Ok(JsValue::undefined())
            }),
        );
        class.method(
            js_string!("staleIfErrorAvailable"),
            0,
            NativeFunction::from_fn_ptr(|this, _, _| {
                this_as::<JsResponse>(this, "staleIfErrorAvailable", CLASS)?;
                Err(type_error(STALE_IF_ERROR_AVAILABLE_OUTSIDE_AFTER_SEND))
            }),
        );
        // No `clone()`: js-compute 3.46's Response has none (a framework's etag middleware
        // that calls it fails on Compute, so it must fail here too).
        class
            .static_method(
                js_string!("json"),
                1,
                NativeFunction::from_fn_ptr(|_, args, ctx| {
                    let data = args.first().cloned().unwrap_or_default();
                    let text = stringify_json(&data, ctx)?
                        .ok_or_else(|| type_error(JSON_INVALID_VALUE))?;
                    let body = Bytes::from(text.to_std_string_lossy());
                    let init = args.get(1).cloned().unwrap_or_default();
                    let response = build(
                        &init,
                        BodyState::from_bytes(Some(body)),
                        Some("application/json".into()),
                        ctx,
                    )?;
                    Ok(JsResponse::from_data(response, ctx)?.into())
                }),
            )
            .static_method(
                js_string!("redirect"),
                1,
                NativeFunction::from_fn_ptr(|_, args, ctx| {
                    let target = args.first().cloned().unwrap_or_default();
                    let target = target.to_string(ctx)?.to_std_string_lossy();
                    let url =
                        url::Url::parse(&target).map_err(|_| type_error(REDIRECT_INVALID_URI))?;
                    let status = match args.get(1) {
                        Some(s) if !s.is_undefined() => s.to_number(ctx)?,
                        _ => 302.0,
                    };
                    if status.fract() != 0.0 || !is_redirect_status(status as u16) {
                        return Err(range_error(REDIRECT_INVALID_STATUS));
                    }
                    let headers =
                        JsHeaders::from_pairs([("location".to_owned(), url.to_string())], false)
                            .create(ctx)?;
                    let response = JsResponse {
                        status: status as u16,
                        status_text: String::new(),
                        headers,
                        body: BodyState::default(),
                        origin: None,
                        manual_framing: false,
                    };
                    Ok(JsResponse::from_data(response, ctx)?.into())
                }),
            );
        Ok(())
    }
}

/// The cache accessors (`request-response.cpp`), as an app built without
/// `--enable-http-cache` (js-compute's default) sees them: the readthrough cache is the
/// host's, so no response carries cache state. Every getter answers `undefined`, every setter
/// throws (they work only on the candidate response of an `afterSend` hook).
fn cache_accessors(class: &mut ClassBuilder<'_>) {
    fn undefined_getter(this: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
        this_as::<JsResponse>(this, "cache accessor", CLASS)?;
        Ok(JsValue::undefined())
    }
    macro_rules! setter {
        ($name:literal) => {
            |this: &JsValue, args: &[JsValue], _: &mut Context| -> JsResult<JsValue> {
                this_as::<JsResponse>(this, $name, CLASS)?;
                crate::class_util::require_args(args, concat!("Response set ", $name), 1)?;
                Err(type_error(concat!(
                    "Response set: ",
                    $name,
                    " must be set only on unsent cache transaction responses"
                )))
            }
        };
    }
    let realm = class.context().realm().clone();
    let function =
        |name: String, length: usize, f: boa_engine::native_function::NativeFunctionPointer| {
            boa_engine::object::FunctionObjectBuilder::new(&realm, NativeFunction::from_fn_ptr(f))
                .name(JsString::from(name.as_str()))
                .length(length)
                .build()
        };
    let accessors: [(
        &str,
        Option<boa_engine::native_function::NativeFunctionPointer>,
    ); 11] = [
        ("cached", None),
        ("stale", None),
        ("ttl", Some(setter!("ttl"))),
        ("age", None),
        ("swr", Some(setter!("staleWhileRevalidate"))),
        (
            "staleWhileRevalidate",
            Some(setter!("staleWhileRevalidate")),
        ),
        ("staleIfError", Some(setter!("staleIfError"))),
        ("vary", Some(setter!("vary"))),
        ("surrogateKeys", Some(setter!("surrogateKeys"))),
        ("pci", Some(setter!("pci"))),
        ("maskedError", None),
    ];
    for (name, set) in accessors {
        let get = function(format!("get {name}"), 0, undefined_getter);
        let set = set.map(|set| function(format!("set {name}"), 1, set));
        class.accessor(
            JsString::from(name),
            Some(get),
            set,
            Attribute::CONFIGURABLE | Attribute::ENUMERABLE,
        );
    }
}

/// Registers `Response` as a global class.
pub fn register(context: &mut Context) -> JsResult<()> {
    context.register_global_class::<JsResponse>()
}
