//! The Fetch "Body" mixin shared by `Request` and `Response`: `body`, `bodyUsed`, `text()`,
//! `json()`, `arrayBuffer()`, `formData()`. See <https://fetch.spec.whatwg.org/#body-mixin>.
//!
//! A body is held in the cheapest form that is still faithful: complete bytes (most bodies),
//! a host channel (an incoming request body still arriving), or a JS `ReadableStream` (once
//! the app touched `.body`, or when it gave one). The JS stream is only made when needed.

use boa_engine::class::ClassBuilder;
use boa_engine::object::builtins::JsPromise;
use boa_engine::object::{JsObject, NativeObject};
use boa_engine::{js_string, Context, Finalize, JsResult, JsValue, NativeFunction, Trace};
use bytes::Bytes;

use super::body::{read_as, ReadAs, Utf8Mode};
use super::body_stream::{self, HostSlot};
use crate::class_util::{getter, this_as, type_error};

pub const BODY_USED: &str = "Body has already been consumed";

/// A body in one of its forms; empty when all three are `None` (a null body).
#[derive(Debug, Default, Trace, Finalize)]
pub struct BodyState {
    #[unsafe_ignore_trace]
    bytes: Option<Bytes>,
    #[unsafe_ignore_trace]
    host: Option<HostSlot>,
    stream: Option<JsObject>,
    #[unsafe_ignore_trace]
    used: bool,
}

impl BodyState {
    fn new(bytes: Option<Bytes>, host: Option<HostSlot>, stream: Option<JsObject>) -> Self {
        Self {
            bytes,
            host,
            stream,
            used: false,
        }
    }

    pub fn from_bytes(bytes: Option<Bytes>) -> Self {
        Self::new(bytes, None, None)
    }

    pub fn from_host(slot: HostSlot) -> Self {
        Self::new(None, Some(slot), None)
    }

    pub fn from_stream(stream: JsObject) -> Self {
        Self::new(None, None, Some(stream))
    }

    /// Marks the body used (its contents were moved elsewhere).
    pub fn mark_used(&mut self) {
        self.used = true;
    }

    /// Whether the body is an incoming host body not yet turned into a stream.
    pub fn has_host(&self) -> bool {
        self.host.is_some()
    }

    /// The chunks of a host body nobody read yet, taken whole, so that a passthrough
    /// (`new Response(backendResponse.body)`, `fetch(url, { body: request.body })`) moves
    /// them without JS seeing a byte. The body is then used.
    pub fn take_host_chunks(&mut self) -> Option<body_stream::BodyChunks> {
        if self.stream.is_some() || self.used {
            return None;
        }
        let chunks = self.host.take()?.borrow_mut().take();
        self.used = true;
        chunks
    }

    /// The complete bytes, if the body is held as bytes.
    pub fn bytes(&self) -> Option<&Bytes> {
        self.bytes.as_ref()
    }

    /// The JS stream, if the body is one.
    pub fn stream_object(&self) -> Option<&JsObject> {
        self.stream.as_ref()
    }
}

/// "Extract a body" for a `BodyInit`, streams included: the body and the `Content-Type` it
/// implies. A stream that is locked or was read from cannot become a body.
pub fn extract(
    value: &JsValue,
    what: &str,
    context: &mut Context,
) -> JsResult<(BodyState, Option<std::borrow::Cow<'static, str>>)> {
    if body_stream::is_readable_stream(value, context)? {
        let stream = value
            .as_object()
            .ok_or_else(|| type_error("not a stream"))?;
        if body_stream::is_disturbed_or_locked(&stream, context)? {
            return Err(type_error(format!(
                "{what}: Can't use a ReadableStream that's locked or has ever been read from or canceled"
            )));
        }
        return Ok((BodyState::from_stream(stream), None));
    }
    let (bytes, content_type) = super::body::extract_body(value, context)?;
    Ok((BodyState::from_bytes(bytes), content_type))
}

/// Implemented by the classes that have a body.
pub trait HasBody: NativeObject + Sized {
    const CLASS: &'static str;
    fn body(&mut self) -> &mut BodyState;
    /// The message's `Headers` object (for `blob()`'s type).
    fn headers(&self) -> &JsObject;
}

/// The body as a JS stream, creating it on first use (`null` for a null body). A body
/// already consumed by `text()` and the like is a stream that is read and locked, as the
/// Fetch standard's is. No borrow of `object` is held while JS runs.
pub fn body_stream<T: HasBody>(
    object: &JsObject<T>,
    context: &mut Context,
) -> JsResult<Option<JsObject>> {
    let (existing, host, bytes, used) = {
        let mut data = object.borrow_mut();
        let body = data.data_mut().body();
        (
            body.stream.clone(),
            body.host.take(),
            body.bytes.take(),
            body.used,
        )
    };
    if existing.is_some() {
        return Ok(existing);
    }
    let made = match (&host, &bytes, used) {
        (Some(slot), _, false) => body_stream::from_host(slot.clone(), context),
        (None, Some(bytes), false) => body_stream::from_bytes(bytes, context),
        (None, None, false) => return Ok(None),
        // Consumed: an empty stream, read to its end, so it is disturbed and locked.
        (_, _, true) => body_stream::from_bytes(&[], context).and_then(|stream| {
            body_stream::read_all(&stream, context)?;
            Ok(stream)
        }),
    };
    let mut data = object.borrow_mut();
    let body = data.data_mut().body();
    match made {
        Ok(stream) => {
            body.stream = Some(stream.clone());
            Ok(Some(stream))
        }
        Err(e) => {
            // Nothing is lost when the stream cannot be made.
            body.host = host;
            body.bytes = bytes;
            Err(e)
        }
    }
}

/// `bodyUsed`: read through a method, or its stream disturbed.
pub fn body_used<T: HasBody>(object: &JsObject<T>, context: &mut Context) -> JsResult<bool> {
    let (used, stream) = {
        let mut data = object.borrow_mut();
        let body = data.data_mut().body();
        (body.used, body.stream.clone())
    };
    if used {
        return Ok(true);
    }
    match stream {
        Some(stream) => body_stream::is_disturbed(&stream, context),
        None => Ok(false),
    }
}

/// A second body for `clone()`: bytes are shared, a stream is teed.
pub fn clone_body<T: HasBody>(object: &JsObject<T>, context: &mut Context) -> JsResult<BodyState> {
    if body_used(object, context)? {
        return Err(type_error(format!("{}.clone: {BODY_USED}", T::CLASS)));
    }
    let bytes = object.borrow_mut().data_mut().body().bytes.clone();
    if bytes.is_some() {
        return Ok(BodyState::from_bytes(bytes));
    }
    let Some(stream) = body_stream(object, context)? else {
        return Ok(BodyState::default());
    };
    let (mine, theirs) = body_stream::tee(&stream, context)?;
    object.borrow_mut().data_mut().body().stream = Some(mine);
    Ok(BodyState::from_stream(theirs))
}

/// Converts the bytes a stream read produced, as `how` asks.
fn convert(bytes: &Bytes, how: ReadAs, context: &mut Context) -> JsResult<JsValue> {
    match how {
        ReadAs::FormData => super::form_data::from_urlencoded(bytes, context),
        how => read_as(
            bytes,
            how,
            Utf8Mode::Replace,
            |_| type_error("invalid UTF-8"),
            context,
        ),
    }
}

/// `blob()`: the body's bytes as a `Blob` whose type is the message's `Content-Type` (empty
/// without one), as the Fetch standard's "consume body" makes it.
fn read_blob<T: HasBody>(this: &JsValue, context: &mut Context) -> JsResult<JsValue> {
    let object = this_as::<T>(this, "blob", T::CLASS)?;
    let content_type = {
        let data = object.borrow();
        super::headers::JsHeaders::pairs_of(data.data().headers())
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value)
            .unwrap_or_default()
    };
    let buffer = read::<T>(this, "blob", ReadAs::ArrayBuffer, context)?;
    let Some(promise) = buffer
        .as_object()
        .and_then(|o| JsPromise::from_object(o.clone()).ok())
    else {
        return Ok(buffer);
    };
    let on_buffer = NativeFunction::from_copy_closure_with_captures(
        |_, args, content_type: &boa_engine::JsString, context| {
            let make =
                crate::js_lib::internal(context, "blob")?.get(js_string!("makeBlob"), context)?;
            let make = make
                .as_callable()
                .ok_or_else(|| type_error("makeBlob is not a function"))?;
            make.call(
                &JsValue::undefined(),
                &[
                    args.first().cloned().unwrap_or_default(),
                    content_type.clone().into(),
                ],
                context,
            )
        },
        boa_engine::JsString::from(content_type.as_str()),
    )
    .to_js_function(context.realm());
    Ok(promise.then(Some(on_buffer), None, context)?.into())
}

fn read<T: HasBody>(
    this: &JsValue,
    method: &str,
    how: ReadAs,
    context: &mut Context,
) -> JsResult<JsValue> {
    let object = this_as::<T>(this, method, T::CLASS)?;
    if body_used(&object, context)? {
        return Ok(JsPromise::reject(type_error(BODY_USED), context)?.into());
    }
    // A complete body, or a host body nobody has made a stream of, is read natively: no JS
    // streams needed. Either is taken, so a later `body` is an empty, consumed stream.
    let (bytes, host) = {
        let mut data = object.borrow_mut();
        let body = data.data_mut().body();
        if body.stream.is_none() {
            body.used = true;
            match body.host.take() {
                Some(slot) => (None, Some(slot)),
                None => (Some(body.bytes.take().unwrap_or_default()), None),
            }
        } else {
            (None, None)
        }
    };
    if let Some(bytes) = bytes {
        // Reading is asynchronous in the platform even when the body is already complete.
        return Ok(match convert(&bytes, how, context) {
            Ok(value) => JsPromise::resolve(value, context)?,
            Err(err) => JsPromise::reject(err, context)?,
        }
        .into());
    }
    if let Some(slot) = host {
        return read_host(slot, how, context);
    }
    let Some(stream) = body_stream(&object, context)? else {
        return Ok(JsPromise::resolve(JsValue::undefined(), context)?.into());
    };
    if body_stream::is_disturbed_or_locked(&stream, context)? {
        return Ok(JsPromise::reject(type_error(BODY_USED), context)?.into());
    }
    object.borrow_mut().data_mut().body().used = true;
    let all = body_stream::read_all(&stream, context)?;
    let on_bytes = NativeFunction::from_copy_closure(move |_, args, context| {
        let bytes = body_stream::uint8_bytes(&args.first().cloned().unwrap_or_default(), context)?;
        convert(&bytes, how, context)
    })
    .to_js_function(context.realm());
    Ok(all.then(Some(on_bytes), None, context)?.into())
}

/// Reads a host body to its end off the JS thread's stack, then converts it.
fn read_host(slot: HostSlot, how: ReadAs, context: &mut Context) -> JsResult<JsValue> {
    let (promise, resolvers) = JsPromise::new_pending(context);
    let receiver = slot.borrow_mut().take();
    body_stream::event_loop(context)?.spawn_host_op(async move {
        let mut collected = bytes::BytesMut::new();
        let mut failure = None;
        match receiver {
            Some(mut chunks) => loop {
                match body_stream::next_chunk(&mut chunks).await {
                    Ok(Some(bytes)) => collected.extend_from_slice(&bytes),
                    Ok(None) => break,
                    Err(message) => {
                        failure = Some(message);
                        break;
                    }
                }
            },
            None => failure = Some("the body was released".to_owned()),
        }
        let completion: crate::event_loop::HostCompletion =
            Box::new(move |context: &mut Context| {
                let result = match failure {
                    Some(message) => {
                        Err(type_error(format!("the body could not be read: {message}")))
                    }
                    None => convert(&collected.freeze(), how, context),
                };
                crate::event_loop::settle(&resolvers, result, context)
            });
        completion
    });
    Ok(promise.into())
}

/// Adds `body`, `bodyUsed`, `text()`, `json()`, `arrayBuffer()` and `formData()` to a class.
pub fn add_body_members<T: HasBody>(class: &mut ClassBuilder<'_>) {
    getter(class, "body", |this, _, context| {
        let object = this_as::<T>(this, "body", T::CLASS)?;
        Ok(body_stream(&object, context)?.map_or(JsValue::null(), JsValue::from))
    });
    getter(class, "bodyUsed", |this, _, context| {
        let object = this_as::<T>(this, "bodyUsed", T::CLASS)?;
        Ok(body_used(&object, context)?.into())
    });
    class
        .method(
            js_string!("text"),
            0,
            NativeFunction::from_fn_ptr(|this, _, ctx| read::<T>(this, "text", ReadAs::Text, ctx)),
        )
        .method(
            js_string!("json"),
            0,
            NativeFunction::from_fn_ptr(|this, _, ctx| read::<T>(this, "json", ReadAs::Json, ctx)),
        )
        .method(
            js_string!("arrayBuffer"),
            0,
            NativeFunction::from_fn_ptr(|this, _, ctx| {
                read::<T>(this, "arrayBuffer", ReadAs::ArrayBuffer, ctx)
            }),
        )
        .method(
            js_string!("blob"),
            0,
            NativeFunction::from_fn_ptr(|this, _, ctx| read_blob::<T>(this, ctx)),
        )
        .method(
            js_string!("formData"),
            0,
            NativeFunction::from_fn_ptr(|this, _, ctx| {
                read::<T>(this, "formData", ReadAs::FormData, ctx)
            }),
        );
}
