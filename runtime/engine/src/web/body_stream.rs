//! Bodies as streams: the bridge between host byte channels (hyper, on other threads) and
//! the JS `ReadableStream`s of `js-lib/streams.js`.
//!
//! An incoming request body arrives as chunks on a channel; `request.body` is a host
//! readable stream pulling from it, so the app sees bytes while they arrive. A response
//! whose body is a `ReadableStream` is pumped chunk by chunk into a bounded channel that the
//! server sends from, so a `TransformStream` pipeline never holds the whole body.

use std::cell::RefCell;
use std::rc::Rc;

use boa_engine::object::builtins::{JsPromise, JsUint8Array};
use boa_engine::{
    js_string, Context, Finalize, JsObject, JsResult, JsValue, NativeFunction, Trace,
};
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::event_loop::{EventLoop, HostCompletion};
use crate::js_lib;
use crate::web::body::uint8_array;

/// One message of a body in flight between threads. A body is complete only when `End`
/// arrives: a channel that closes without it was cut off, and the reader treats it as an
/// error, so a truncated body never looks whole.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Chunk {
    Data(Bytes),
    End,
    Error(String),
}

/// The chunks of a body in flight between threads.
///
/// In a snapshot copy a body that lives in the server (the request's upload, a backend's
/// response) is *remote*: its chunks are only sent over when something first reads it, so
/// a body the app passes on unread (`fetch(url, { body: request.body })`,
/// `new Response(backendResponse.body)`) goes from the server's socket to the server's
/// socket without crossing into the copy, and costs the app no CPU time, as on Compute.
#[derive(Debug)]
pub struct BodyChunks {
    receiver: mpsc::Receiver<Chunk>,
    remote: Option<Remote>,
    /// The whole body's length, when its sender declared it (a `Content-Length`): passed on
    /// with the body, so whoever sends it frames it with that length, as the host frames a
    /// body of known length.
    length: Option<u64>,
}

/// A remote body's id at the server, and what to do on its first read (ask for it).
struct Remote {
    id: u64,
    pull: Box<dyn FnOnce() + Send + Sync>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").field("id", &self.id).finish()
    }
}

impl BodyChunks {
    /// A bounded channel ([`CHANNEL_CHUNKS`]) for a body.
    pub fn channel() -> (BodySender, Self) {
        let (sender, receiver) = mpsc::channel(CHANNEL_CHUNKS);
        (
            sender,
            Self {
                receiver,
                remote: None,
                length: None,
            },
        )
    }

    /// The same body, declared `length` bytes long in all.
    #[must_use]
    pub fn with_length(mut self, length: Option<u64>) -> Self {
        self.length = length;
        self
    }

    /// The whole body's declared length, if known.
    pub fn length(&self) -> Option<u64> {
        self.length
    }

    /// A body held by the server as `id`; `pull` asks for its chunks on the first read.
    pub(crate) fn remote(
        id: u64,
        pull: impl FnOnce() + Send + Sync + 'static,
    ) -> (BodySender, Self) {
        let (sender, mut chunks) = Self::channel();
        chunks.remote = Some(Remote {
            id,
            pull: Box::new(pull),
        });
        (sender, chunks)
    }

    /// The server's id of this body if nothing has read it yet: it can be handed back whole.
    pub(crate) fn unread_remote(&self) -> Option<u64> {
        self.remote.as_ref().map(|r| r.id)
    }

    pub async fn recv(&mut self) -> Option<Chunk> {
        if let Some(remote) = self.remote.take() {
            (remote.pull)();
        }
        self.receiver.recv().await
    }
}

/// The sending side of [`BodyChunks`].
pub type BodySender = mpsc::Sender<Chunk>;

/// A host body's receiving end, shared by whoever reads it (a JS stream's pulls, or a whole
/// read) and by the instance, which drops every one still held when the request ends so
/// that the server stops waiting for an unread upload.
pub type HostSlot = Rc<RefCell<Option<BodyChunks>>>;

/// The host bodies of the current request (context data).
#[derive(Default)]
pub struct HostBodies(RefCell<Vec<HostSlot>>);

/// Makes a slot for `chunks`, registered so that [`release_host_bodies`] can drop it.
pub fn host_slot(chunks: BodyChunks, context: &Context) -> HostSlot {
    let slot: HostSlot = Rc::new(RefCell::new(Some(chunks)));
    if let Some(bodies) = context.get_data::<HostBodies>() {
        bodies.0.borrow_mut().push(slot.clone());
    }
    slot
}

/// Drops every host body receiver of the request: unread uploads are abandoned (the server
/// then discards or closes), and no receiver waits in the GC heap for a collection.
pub fn release_host_bodies(context: &Context) {
    if let Some(bodies) = context.get_data::<HostBodies>() {
        for slot in bodies.0.borrow_mut().drain(..) {
            slot.borrow_mut().take();
        }
    }
    if let Some(streams) = context.get_data::<HostStreams>() {
        streams.0.borrow_mut().clear();
    }
}

/// The JS streams made over host bodies (`request.body`, a backend response's `body`), with
/// their slots: one passed on before anything read it hands its chunks over directly.
#[derive(Default)]
pub struct HostStreams(RefCell<Vec<(JsObject, HostSlot)>>);

/// The chunks behind `stream` when it is a host body's stream nothing has read or locked,
/// taken for passing on without JS (the stream is then locked, as a body given away is).
pub fn host_chunks_of(stream: &JsObject, context: &mut Context) -> JsResult<Option<BodyChunks>> {
    let slot = context.get_data::<HostStreams>().and_then(|streams| {
        streams
            .0
            .borrow()
            .iter()
            .find(|(s, _)| JsObject::equals(s, stream))
            .map(|(_, slot)| slot.clone())
    });
    let Some(slot) = slot else {
        return Ok(None);
    };
    if is_disturbed_or_locked(stream, context)? {
        return Ok(None);
    }
    let Some(chunks) = slot.borrow_mut().take() else {
        return Ok(None);
    };
    call_internal("createByteReader", &[stream.clone().into()], context)?;
    Ok(Some(chunks))
}

/// The response body being sent, if any: closed with an error when the instance ends
/// before the app's stream did, so the client sees a cut-off body, not a complete one.
pub type ResponseSender = Rc<RefCell<Option<BodySender>>>;

/// Ends a response body that is still open, as failed.
pub fn abandon_response(sender: &ResponseSender, why: &str) {
    if let Some(sender) = sender.borrow_mut().take() {
        let _ = sender.try_send(Chunk::Error(why.to_owned()));
    }
}

/// A body crossing between the server and the engine: complete, or arriving in chunks.
#[derive(Debug)]
pub enum HostBody {
    Full(Bytes),
    Stream(BodyChunks),
}

impl Default for HostBody {
    fn default() -> Self {
        Self::Full(Bytes::new())
    }
}

impl From<Bytes> for HostBody {
    fn from(bytes: Bytes) -> Self {
        Self::Full(bytes)
    }
}

/// How many chunks may wait between the JS side and the socket: the memory bound of a
/// streamed body (chunks are at most a socket read or an app-made chunk each).
pub const CHANNEL_CHUNKS: usize = 8;

/// The event loop of the current context (installed at boot), for starting host work.
#[derive(Clone)]
pub struct EventLoopHandle(pub Rc<EventLoop>);

pub fn event_loop(context: &Context) -> JsResult<Rc<EventLoop>> {
    context
        .get_data::<EventLoopHandle>()
        .map(|h| h.0.clone())
        .ok_or_else(|| crate::class_util::type_error("no event loop in this context"))
}

fn streams(context: &mut Context) -> JsResult<JsObject> {
    js_lib::internal(context, "streams")
}

fn call_internal(name: &str, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let internal = streams(context)?;
    let function = internal.get(js_string!(name), context)?;
    let function = function.as_callable().ok_or_else(|| {
        crate::class_util::type_error(format!("streams internal {name} is missing"))
    })?;
    function.call(&internal.into(), args, context)
}

/// Whether `value` is a `ReadableStream` (without loading the streams library when no
/// stream can exist yet).
pub fn is_readable_stream(value: &JsValue, context: &mut Context) -> JsResult<bool> {
    if value.as_object().is_none() || !js_lib::is_loaded(context, "streams") {
        return Ok(false);
    }
    Ok(call_internal("isReadableStream", std::slice::from_ref(value), context)?.to_boolean())
}

/// Whether `stream` is locked or was ever read from or canceled.
pub fn is_disturbed_or_locked(stream: &JsObject, context: &mut Context) -> JsResult<bool> {
    Ok(call_internal("isDisturbedOrLocked", &[stream.clone().into()], context)?.to_boolean())
}

/// Whether `stream` was ever read from or canceled.
pub fn is_disturbed(stream: &JsObject, context: &mut Context) -> JsResult<bool> {
    Ok(call_internal("isDisturbed", &[stream.clone().into()], context)?.to_boolean())
}

/// The two branches of `stream.tee()`.
pub fn tee(stream: &JsObject, context: &mut Context) -> JsResult<(JsObject, JsObject)> {
    let branches = object(call_internal("tee", &[stream.clone().into()], context)?)?;
    let first = object(branches.get(0, context)?)?;
    let second = object(branches.get(1, context)?)?;
    Ok((first, second))
}

/// A readable byte stream holding `bytes`.
pub fn from_bytes(bytes: &[u8], context: &mut Context) -> JsResult<JsObject> {
    let chunk = uint8_array(bytes, context)?;
    object(call_internal("fromBytes", &[chunk.into()], context)?)
}

fn object(value: JsValue) -> JsResult<JsObject> {
    value
        .as_object()
        .ok_or_else(|| crate::class_util::type_error("expected a stream object"))
}

/// The receiver of a host body, shared between the stream's pulls (one at a time).
#[derive(Trace, Finalize)]
struct ChunkSource(#[unsafe_ignore_trace] HostSlot);

/// Receives the next chunk of a host body: `Some(bytes)`, `None` at its end, or the error.
pub async fn next_chunk(receiver: &mut BodyChunks) -> Result<Option<Bytes>, String> {
    match receiver.recv().await {
        Some(Chunk::Data(bytes)) => Ok(Some(bytes)),
        Some(Chunk::End) => Ok(None),
        Some(Chunk::Error(message)) => Err(message),
        None => Err("the body was cut off before its end".to_owned()),
    }
}

fn body_error(message: &str, context: &mut Context) -> JsResult<JsValue> {
    crate::class_util::type_error(format!("the body could not be read: {message}"))
        .into_opaque(context)
}

/// A host readable stream whose chunks come from `slot`.
pub fn from_host(slot: HostSlot, context: &mut Context) -> JsResult<JsObject> {
    let slot_for_passing = slot.clone();
    let pull = NativeFunction::from_copy_closure_with_captures(
        |_, _, source: &ChunkSource, context| {
            let (promise, resolvers) = JsPromise::new_pending(context);
            let taken = source.0.borrow_mut().take();
            let Some(mut receiver) = taken else {
                // Released (the request ended) or canceled: the stream has nothing more.
                resolvers
                    .resolve
                    .call(&JsValue::undefined(), &[JsValue::null()], context)?;
                return Ok(promise.into());
            };
            let slot = source.0.clone();
            event_loop(context)?.spawn_host_op(async move {
                let next = next_chunk(&mut receiver).await;
                let completion: HostCompletion = Box::new(move |context: &mut Context| {
                    let settled = match next {
                        Ok(Some(bytes)) => {
                            *slot.borrow_mut() = Some(receiver);
                            let chunk = uint8_array(&bytes, context)?;
                            resolvers
                                .resolve
                                .call(&JsValue::undefined(), &[chunk.into()], context)
                        }
                        Ok(None) => resolvers.resolve.call(
                            &JsValue::undefined(),
                            &[JsValue::null()],
                            context,
                        ),
                        Err(message) => {
                            let error = body_error(&message, context)?;
                            resolvers
                                .reject
                                .call(&JsValue::undefined(), &[error], context)
                        }
                    };
                    settled.map(drop)
                });
                completion
            });
            Ok(promise.into())
        },
        ChunkSource(slot.clone()),
    )
    .to_js_function(context.realm());
    // Canceling the stream abandons the upload at once.
    let cancel = NativeFunction::from_copy_closure_with_captures(
        |_, _, source: &ChunkSource, _| {
            source.0.borrow_mut().take();
            Ok(JsValue::undefined())
        },
        ChunkSource(slot),
    )
    .to_js_function(context.realm());
    let stream = object(call_internal(
        "createHostReadable",
        &[pull.into(), cancel.into()],
        context,
    )?)?;
    if let Some(streams) = context.get_data::<HostStreams>() {
        streams
            .0
            .borrow_mut()
            .push((stream.clone(), slot_for_passing));
    }
    Ok(stream)
}

/// A promise of all the bytes of `stream`, as a `Uint8Array`.
pub fn read_all(stream: &JsObject, context: &mut Context) -> JsResult<JsPromise> {
    let promise = call_internal("readAll", &[stream.clone().into()], context)?;
    JsPromise::from_object(object(promise)?)
}

/// The bytes of a `Uint8Array` value.
pub fn uint8_bytes(value: &JsValue, context: &mut Context) -> JsResult<Bytes> {
    let array = JsUint8Array::from_object(object(value.clone())?)?;
    let bytes = crate::web::body::buffer_source_bytes(&array.into(), context)?.unwrap_or_default();
    Ok(Bytes::from(bytes))
}

/// One response body being sent. Cloned into each step's callbacks; the JS objects are
/// traced (a callback holding them must not make them GC roots).
#[derive(Clone, Trace, Finalize)]
struct Pump {
    reader: JsObject,
    /// `{ resolve, reject }` of the promise that settles when the stream has been sent.
    done: JsObject,
    /// Taken (dropped) when the body ends, which ends the response: the callbacks holding
    /// clones of `Pump` live on in the GC heap until collected.
    #[unsafe_ignore_trace]
    sender: Rc<RefCell<Option<BodySender>>>,
}

impl Pump {
    fn finish(&self) {
        self.sender.borrow_mut().take();
    }
}

fn call_method(
    target: &JsObject,
    name: &str,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    let method = target.get(js_string!(name), context)?;
    let method = method
        .as_callable()
        .ok_or_else(|| crate::class_util::type_error(format!("{name} is not a function")))?;
    method.call(&target.clone().into(), args, context)
}

fn settle_done(pump: &Pump, result: Result<(), JsValue>, context: &mut Context) -> JsResult<()> {
    pump.finish();
    let (key, arg) = match result {
        Ok(()) => ("resolve", JsValue::undefined()),
        Err(reason) => ("reject", reason),
    };
    call_method(&pump.done, key, &[arg], context).map(|_| ())
}

/// Sends the body's last message (its end, or its error) once there is room, then settles.
fn send_last(
    pump: &Pump,
    last: Chunk,
    result: Result<(), JsValue>,
    context: &mut Context,
) -> JsResult<()> {
    let sender = pump.sender.borrow_mut().take();
    let pump = pump.clone();
    event_loop(context)?.spawn_host_op(async move {
        if let Some(sender) = sender {
            let _ = sender.send(last).await;
        }
        let completion: HostCompletion =
            Box::new(move |context: &mut Context| settle_done(&pump, result, context));
        completion
    });
    Ok(())
}

/// Reads the next chunk; once the host has taken it, reads the one after, until the end.
fn pump_step(pump: Pump, context: &mut Context) -> JsResult<()> {
    let read = call_method(&pump.reader, "read", &[], context)?;
    let read = JsPromise::from_object(object(read)?)?;
    let on_chunk = NativeFunction::from_copy_closure_with_captures(
        |_, args, pump: &Pump, context| {
            let chunk = args.first().cloned().unwrap_or_default();
            if chunk.is_null() {
                send_last(pump, Chunk::End, Ok(()), context)?;
                return Ok(JsValue::undefined());
            }
            let bytes = uint8_bytes(&chunk, context)?;
            let next = pump.clone();
            let sender = pump.sender.borrow().clone();
            event_loop(context)?.spawn_host_op(async move {
                let sent = match sender {
                    Some(sender) => sender.send(Chunk::Data(bytes)).await.map_err(drop),
                    None => Err(()),
                };
                let completion: HostCompletion =
                    Box::new(move |context: &mut Context| match sent {
                        Ok(()) => pump_step(next, context),
                        // The client went away: stop reading and cancel the stream.
                        Err(_) => {
                            let _ = call_method(&next.reader, "cancel", &[], context);
                            settle_done(&next, Ok(()), context)
                        }
                    });
                completion
            });
            Ok(JsValue::undefined())
        },
        pump.clone(),
    )
    .to_js_function(context.realm());
    let on_error = NativeFunction::from_copy_closure_with_captures(
        |_, args, pump: &Pump, context| {
            let reason = args.first().cloned().unwrap_or_default();
            let message = reason
                .to_string(context)
                .map(|s| s.to_std_string_lossy())
                .unwrap_or_else(|_| "error".to_owned());
            // The client sees the body end with an error (the connection is cut).
            send_last(pump, Chunk::Error(message), Err(reason), context)?;
            Ok(JsValue::undefined())
        },
        pump,
    )
    .to_js_function(context.realm());
    read.then(Some(on_chunk), Some(on_error), context)?;
    Ok(())
}

/// Starts sending `stream` chunk by chunk into a new bounded channel. Returns the channel's
/// receiving end, a promise that settles when the stream is fully sent (or failed), which
/// the instance awaits before it ends, and the sending end, to abandon it if it never does.
pub fn pump_to_host(
    stream: &JsObject,
    context: &mut Context,
) -> JsResult<(BodyChunks, JsPromise, ResponseSender)> {
    let reader = object(call_internal(
        "createByteReader",
        &[stream.clone().into()],
        context,
    )?)?;
    let (sender, receiver) = BodyChunks::channel();
    let (promise, resolvers) = JsPromise::new_pending(context);
    let done = boa_engine::object::ObjectInitializer::new(context)
        .property(
            js_string!("resolve"),
            resolvers.resolve,
            boa_engine::property::Attribute::all(),
        )
        .property(
            js_string!("reject"),
            resolvers.reject,
            boa_engine::property::Attribute::all(),
        )
        .build();
    let sender: ResponseSender = Rc::new(RefCell::new(Some(sender)));
    pump_step(
        Pump {
            reader,
            done,
            sender: sender.clone(),
        },
        context,
    )?;
    Ok((receiver, promise, sender))
}
