//! The JS-facing classes `KVStore` and `KVStoreEntry`.
//!
//! Every method checks its receiver by brand and its arguments in the platform's order, then
//! either throws synchronously or returns a promise, exactly where the contract says
//! (`shared/reference/kv-store.md`). Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:kv-store/KVStore/>.

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::native_function::NativeFunctionPointer;
use boa_engine::object::builtins::{JsArray, JsPromise};
use boa_engine::object::ObjectInitializer;
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsError, JsNativeError, JsObject, JsResult, JsString,
    JsValue, NativeFunction, Trace,
};
use bytes::Bytes;
use edgeshim_store::{check_host_list, Insert, ListPage, ListRequest, StoreError};

use super::error::{KvError, StoreOp};
use super::validation::{
    check_value_size, generation_from_number, insert_mode, is_documented_mode,
    list_limit_from_number, ttl_from_number, Key, StoreName,
};
use crate::class_util::{class_prototype, define_enumerable_getter, define_enumerable_method};
use crate::event_loop::HostCompletion;
use crate::fastly::compat::{self, CompatWarning, DOCS_METADATA_LIMIT};
use crate::host::Phase;
use crate::host_call::{HostCall, HostHandle, HostReply, KvOp, KvReply};
use crate::js_lib;
use crate::web::body::{buffer_source_bytes, decode_utf8, read_as, uint8_array, ReadAs, Utf8Mode};
use crate::web::body_stream;
use crate::web::url::serialize_params;

const STORE_CLASS: &str = "KVStore";
const ENTRY_CLASS: &str = "KVStoreEntry";

/// The names of the KV stores an instance may open (fastly.toml's), as context data. The
/// stores themselves stay with the host.
#[derive(Debug, Clone, Default)]
pub struct KvStoreNames(pub Vec<String>);

/// An open store: its name and the edge location (`--pops`) of the request that opened it.
#[derive(Debug, Clone, Trace, Finalize, JsData)]
pub struct JsKvStore {
    #[unsafe_ignore_trace]
    name: String,
    #[unsafe_ignore_trace]
    pop: usize,
}

/// The receiver as a KVStore, or the platform's TypeError for `method`.
fn this_store(this: &JsValue, method: &'static str) -> Result<JsKvStore, KvError> {
    this.as_object()
        .and_then(|o| o.downcast_ref::<JsKvStore>().map(|s| s.clone()))
        .ok_or(KvError::WrongReceiver {
            method,
            class: STORE_CLASS,
        })
}

fn require(args: &[JsValue], what: &'static str, required: usize) -> Result<(), KvError> {
    if args.len() < required {
        return Err(KvError::TooFewArguments {
            what,
            required,
            passed: args.len(),
        });
    }
    Ok(())
}

/// ToString as the platform does it: a Symbol is SpiderMonkey's TypeError, a throwing
/// `toString` propagates unchanged.
fn to_rust_string(value: &JsValue, context: &mut Context) -> JsResult<String> {
    if value.is_symbol() {
        return Err(KvError::SymbolToString.into());
    }
    Ok(value.to_string(context)?.to_std_string_lossy())
}

fn key_from(value: &JsValue, context: &mut Context) -> JsResult<Key> {
    let key = to_rust_string(value, context)?;
    Ok(Key::new(key).map_err(KvError::from)?)
}

/// Starts `op` on `store` through the host and returns its promise, settled on the JS thread
/// by `done` with the host's answer. The JS thread never waits for the store.
fn kv_call(
    store: &JsKvStore,
    op: KvOp,
    what: StoreOp,
    done: impl FnOnce(KvReply, &mut Context) -> JsResult<JsValue> + 'static,
    context: &mut Context,
) -> JsResult<JsValue> {
    let host = context
        .get_data::<HostHandle>()
        .map(|h| h.0.clone())
        .ok_or_else(|| JsNativeError::typ().with_message("KV stores are not available here"))?;
    let call = HostCall::Kv {
        store: store.name.clone(),
        pop: store.pop,
        op,
    };
    let (promise, resolvers) = JsPromise::new_pending(context);
    let reply = host.call(call);
    body_stream::event_loop(context)?.spawn_host_op(async move {
        let reply = reply.await;
        let completion: HostCompletion = Box::new(move |context: &mut Context| {
            let result = match reply {
                HostReply::Kv(result) => result,
                HostReply::Cache(_) | HostReply::Rate(_) => Err(StoreError::InternalError(
                    "the host answered a KV call with another service's reply".into(),
                )),
            };
            let outcome = result
                .map_err(|e| JsError::from(KvError::store(what, e)))
                .and_then(|reply| done(reply, context));
            crate::event_loop::settle(&resolvers, outcome, context)
        });
        completion
    });
    Ok(promise.into())
}

/// A settled promise: how results of host calls reach JS.
fn settled(result: JsResult<JsValue>, context: &mut Context) -> JsResult<JsValue> {
    Ok(match result {
        Ok(value) => JsPromise::resolve(value, context)?,
        Err(err) => JsPromise::reject(err, context)?,
    }
    .into())
}

/// What `put` writes, once its synchronous checks passed.
struct PutRequest {
    key: Key,
    insert: Insert,
    /// A host stream (a request or response body) to read to its end first; its bytes
    /// become `insert.value`.
    stream: Option<JsObject>,
}

/// Whether `stream` was made by the host (a request, response or entry body) rather than by
/// the app with `new ReadableStream(...)`.
fn is_host_stream(stream: &JsObject, context: &mut Context) -> JsResult<bool> {
    let internal = js_lib::internal(context, "streams")?;
    let check = internal.get(js_string!("isHostStream"), context)?;
    let check = check.as_callable().ok_or_else(|| {
        JsNativeError::typ().with_message("streams internal isHostStream is missing")
    })?;
    Ok(check
        .call(&internal.clone().into(), &[stream.clone().into()], context)?
        .to_boolean())
}

/// `put`'s value when it is a ReadableStream: a host stream to read, or the platform's
/// refusal (a rejection).
fn stream_value(stream: JsObject, context: &mut Context) -> JsResult<Result<JsObject, KvError>> {
    if body_stream::is_disturbed_or_locked(&stream, context)? {
        return Ok(Err(KvError::StreamLockedOrDisturbed));
    }
    if !is_host_stream(&stream, context)? {
        // The docs accept any ReadableStream; production refuses the app's own.
        compat::warn(CompatWarning::ContentProvidedStream, context);
        return Ok(Err(KvError::ContentProvidedStream));
    }
    Ok(Ok(stream))
}

/// `put`'s steps up to the write. The outer `Err` is thrown synchronously; the inner one
/// becomes a rejected promise.
fn prepare_put(args: &[JsValue], context: &mut Context) -> JsResult<Result<PutRequest, KvError>> {
    require(args, "put", 2)?;
    let key = key_from(&args[0], context)?;
    let mut insert = Insert::default();
    let mut metadata = JsValue::undefined();

    if let Some(options) = args.get(2).and_then(JsValue::as_object) {
        let ttl = options.get(js_string!("ttl"), context)?;
        if !ttl.is_undefined() {
            insert.ttl = Some(ttl_from_number(ttl.to_number(context)?)?);
        }
        let generation = options.get(js_string!("gen"), context)?;
        if !generation.is_null_or_undefined() {
            match generation.as_number() {
                Some(n) if n != 0.0 => {
                    insert.if_generation_match = Some(generation_from_number(n));
                }
                // The platform returns the rejected promise at once: nothing after `gen`
                // (metadata and mode getters, the value's ToString) runs.
                _ => return Ok(Err(KvError::GenNotInteger)),
            }
        }
        metadata = options.get(js_string!("metadata"), context)?;
        let mode = options.get(js_string!("mode"), context)?;
        if !mode.is_undefined() {
            let mode = to_rust_string(&mode, context)?;
            if !is_documented_mode(&mode) {
                compat::warn(CompatWarning::UnknownMode(mode.clone()), context);
            }
            insert.mode = insert_mode(&mode);
        }
    }

    let mut stream = None;
    match args[1].as_object() {
        Some(object) if body_stream::is_readable_stream(&args[1], context)? => {
            match stream_value(object, context)? {
                Ok(host) => stream = Some(host),
                Err(err) => return Ok(Err(err)),
            }
        }
        _ => {
            let value = match buffer_source_bytes(&args[1], context)? {
                Some(bytes) => bytes,
                None => match args[1].as_object().and_then(|o| serialize_params(&o)) {
                    // URLSearchParams: its serialization (empty params store an empty value).
                    Some(params) => params.into_bytes(),
                    None => to_rust_string(&args[1], context)?.into_bytes(),
                },
            };
            if let Err(err) = check_value_size(value.len()) {
                return Ok(Err(err));
            }
            insert.value = Bytes::from(value);
        }
    }

    if !metadata.is_undefined() {
        let bytes = if let Some(text) = metadata.as_string() {
            Some(text.to_std_string_lossy().into_bytes())
        } else {
            buffer_source_bytes(&metadata, context)?
        };
        match bytes {
            Some(bytes) => {
                if bytes.len() > DOCS_METADATA_LIMIT {
                    compat::warn(CompatWarning::MetadataTooLong(bytes.len()), context);
                }
                insert.metadata = Some(Bytes::from(bytes));
            }
            None => return Ok(Err(KvError::MetadataNotBytes)),
        }
    }
    Ok(Ok(PutRequest {
        key,
        insert,
        stream,
    }))
}

fn write(store: &JsKvStore, key: &Key, insert: Insert, context: &mut Context) -> JsResult<JsValue> {
    let op = KvOp::Insert {
        key: key.as_str().to_owned(),
        insert,
    };
    kv_call(
        store,
        op,
        StoreOp::Insert,
        |_, _| Ok(JsValue::undefined()),
        context,
    )
}

/// A write waiting for its host stream to be read.
#[derive(Clone, Trace, Finalize)]
struct PendingPut {
    #[unsafe_ignore_trace]
    store: JsKvStore,
    #[unsafe_ignore_trace]
    key: Key,
    #[unsafe_ignore_trace]
    insert: Insert,
}

fn put(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let store = this_store(this, "put")?;
    let request = match prepare_put(args, context)? {
        Ok(request) => request,
        Err(err) => return settled(Err(err.into()), context),
    };
    let PutRequest {
        key,
        insert,
        stream,
    } = request;
    let Some(stream) = stream else {
        return write(&store, &key, insert, context);
    };
    // A host stream is read to its end, then written like bytes (30 MiB limit included).
    let all = body_stream::read_all(&stream, context)?;
    let on_bytes = NativeFunction::from_copy_closure_with_captures(
        |_, args, pending: &PendingPut, context| {
            let chunk = args.first().cloned().unwrap_or_default();
            let bytes = body_stream::uint8_bytes(&chunk, context)?;
            check_value_size(bytes.len())?;
            let mut insert = pending.insert.clone();
            insert.value = bytes;
            write(&pending.store, &pending.key, insert, context)
        },
        PendingPut { store, key, insert },
    )
    .to_js_function(context.realm());
    Ok(all.then(Some(on_bytes), None, context)?.into())
}

/// `list`'s options, checked in the platform's order: cursor, limit, prefix, noSync
/// (`null` and `undefined` skip a check).
fn list_request(options: &JsObject, context: &mut Context) -> JsResult<ListRequest> {
    let mut request = ListRequest::default();
    let cursor = options.get(js_string!("cursor"), context)?;
    if !cursor.is_null_or_undefined() {
        let cursor = cursor.as_string().ok_or(KvError::ListCursorNotString)?;
        request.cursor = Some(cursor.to_std_string_lossy());
    }
    let limit = options.get(js_string!("limit"), context)?;
    if !limit.is_null_or_undefined() {
        let limit = limit
            .as_number()
            .and_then(list_limit_from_number)
            .ok_or(KvError::ListLimitNotInteger)?;
        request.limit = Some(limit);
    }
    let prefix = options.get(js_string!("prefix"), context)?;
    if !prefix.is_null_or_undefined() {
        let prefix = prefix.as_string().ok_or(KvError::ListPrefixNotString)?;
        request.prefix = Some(prefix.to_std_string_lossy());
    }
    let no_sync = options.get(js_string!("noSync"), context)?;
    // A local store is never stale: `noSync` is checked, then has nothing to change.
    if !no_sync.is_null_or_undefined() && no_sync.as_boolean().is_none() {
        return Err(KvError::ListNoSyncNotBoolean.into());
    }
    Ok(request)
}

/// A new plain object `{ list, cursor }`, in that order; `cursor` is `undefined` on the
/// last page (production defines the property either way).
fn list_result(page: ListPage, context: &mut Context) -> JsValue {
    let keys = JsArray::from_iter(
        page.keys
            .iter()
            .map(|key| JsValue::from(JsString::from(key.as_str()))),
        context,
    );
    let cursor = page
        .cursor
        .map_or_else(JsValue::undefined, |c| JsString::from(c.as_str()).into());
    ObjectInitializer::new(context)
        .property(js_string!("list"), keys, Attribute::all())
        .property(js_string!("cursor"), cursor, Attribute::all())
        .build()
        .into()
}

fn list(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let store = this_store(this, "list")?;
    let Some(options) = args.first().and_then(JsValue::as_object) else {
        if compat::is_absent(args.first()) {
            compat::warn(CompatWarning::ListWithoutOptions, context);
        }
        return Err(KvError::ListOptionsNotObject.into());
    };
    let request = list_request(&options, context)?;
    // The host refuses an empty cursor or prefix before any promise exists.
    if let Err(e @ StoreError::InvalidArgument) = check_host_list(&request) {
        return Err(KvError::store(StoreOp::List, e).into());
    }
    kv_call(
        &store,
        KvOp::List { request },
        StoreOp::List,
        |reply, context| match reply {
            KvReply::Page(page) => Ok(list_result(page, context)),
            _ => Err(unexpected_reply()),
        },
        context,
    )
}

/// A reply of the wrong kind: a host bug, reported as the platform reports host failures.
fn unexpected_reply() -> JsError {
    KvError::store(
        StoreOp::Lookup,
        StoreError::InternalError("unexpected host reply".into()),
    )
    .into()
}

/// `get(key)` and `delete(key)`: the receiver and key checks, then one host call on the key
/// (a bad key rejects the promise, as the platform does).
fn key_call(
    this: &JsValue,
    args: &[JsValue],
    method: &'static str,
    (op, what): (fn(String) -> KvOp, StoreOp),
    done: impl FnOnce(KvReply, &mut Context) -> JsResult<JsValue> + 'static,
    context: &mut Context,
) -> JsResult<JsValue> {
    let store = this_store(this, method)?;
    require(args, method, 1)?;
    match key_from(&args[0], context) {
        Ok(key) => kv_call(&store, op(key.as_str().to_owned()), what, done, context),
        Err(e) => settled(Err(e), context),
    }
}

fn get(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let lookup: (fn(String) -> KvOp, _) = (|key| KvOp::Lookup { key }, StoreOp::Lookup);
    key_call(
        this,
        args,
        "get",
        lookup,
        |reply, context| match reply {
            KvReply::Entry(Some(entry)) => {
                Ok(JsKvStoreEntry::create(entry.value, entry.metadata, context)?.into())
            }
            KvReply::Entry(None) => Ok(JsValue::null()),
            _ => Err(unexpected_reply()),
        },
        context,
    )
}

fn delete(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let delete: (fn(String) -> KvOp, _) = (|key| KvOp::Delete { key }, StoreOp::Delete);
    key_call(
        this,
        args,
        "delete",
        delete,
        |_, _| Ok(JsValue::undefined()),
        context,
    )
}

impl Class for JsKvStore {
    const NAME: &'static str = STORE_CLASS;
    const LENGTH: usize = 1;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        // Members are defined by `register`: Boa's builder makes methods non-enumerable and
        // puts `constructor` last, unlike the platform.
        Ok(())
    }

    fn construct(
        new_target: &JsValue,
        args: &[JsValue],
        context: &mut Context,
    ) -> JsResult<JsObject> {
        // Checked before anything else, even before `new`, as the platform does.
        if !Phase::in_request(context) {
            return Err(KvError::OutsideRequest.into());
        }
        if new_target.is_undefined() {
            return Err(KvError::ConstructorWithoutNew.into());
        }
        // The object is made last, after every argument check, as the platform does.
        let data = Self::data_constructor(new_target, args, context)?;
        let prototype = match new_target
            .as_object()
            .map(|t| t.get(js_string!("prototype"), context))
            .transpose()?
            .and_then(|p| p.as_object())
        {
            Some(proto) => proto,
            None => class_prototype::<Self>(context)?,
        };
        Ok(JsObject::from_proto_and_data(prototype, data).upcast())
    }

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        require(args, "KVStore constructor", 1)?;
        let name = StoreName::new(to_rust_string(&args[0], context)?).map_err(KvError::from)?;
        let configured = context
            .get_data::<KvStoreNames>()
            .is_some_and(|names| names.0.iter().any(|n| n == name.as_str()));
        if configured {
            Ok(Self {
                name: name.as_str().to_owned(),
                pop: Phase::pop(context),
            })
        } else {
            tracing::warn!(
                target: "edgeshim::kv",
                "new KVStore('{0}'): no KV store named '{0}' is configured; declare it in \
                 fastly.toml, e.g. [local_server.kv_stores] followed by {0} = []",
                name.as_str()
            );
            Err(KvError::NoSuchStore(name.as_str().to_owned()).into())
        }
    }
}

#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsKvStoreEntry {
    /// The value, until `body` turns it into a stream.
    #[unsafe_ignore_trace]
    value: Bytes,
    #[unsafe_ignore_trace]
    metadata: Option<Bytes>,
    /// `metadata()` returns the same `Uint8Array` every time.
    metadata_array: Option<JsObject>,
    /// `body`, made on first use; the same stream every time after.
    stream: Option<JsObject>,
    /// Set by `text()`, `json()` or `arrayBuffer()`.
    #[unsafe_ignore_trace]
    used: bool,
}

impl JsKvStoreEntry {
    fn create(value: Bytes, metadata: Option<Bytes>, context: &mut Context) -> JsResult<JsObject> {
        let data = Self {
            value,
            metadata: metadata.filter(|m| !m.is_empty()),
            metadata_array: None,
            stream: None,
            used: false,
        };
        let prototype = class_prototype::<Self>(context)?;
        Ok(JsObject::from_proto_and_data(prototype, data).upcast())
    }
}

fn this_entry(this: &JsValue, method: &'static str) -> Result<JsObject<JsKvStoreEntry>, KvError> {
    this.as_object()
        .and_then(|o| o.clone().downcast::<JsKvStoreEntry>().ok())
        .ok_or(KvError::WrongReceiver {
            method,
            class: ENTRY_CLASS,
        })
}

fn malformed(offset: usize) -> JsError {
    KvError::MalformedUtf8(offset).into()
}

fn read_entry(
    this: &JsValue,
    method: &'static str,
    how: ReadAs,
    context: &mut Context,
) -> JsResult<JsValue> {
    let entry = this_entry(this, method)?;
    let (used, stream, value) = {
        let e = entry.borrow();
        let data = e.data();
        (data.used, data.stream.clone(), data.value.clone())
    };
    if used {
        return settled(Err(KvError::BodyConsumed.into()), context);
    }
    let Some(stream) = stream else {
        entry.borrow_mut().data_mut().used = true;
        let result = read_as(&value, how, Utf8Mode::Strict, malformed, context);
        return settled(result, context);
    };
    // `body` was taken: read through it, unless the app locked or read it.
    if body_stream::is_disturbed_or_locked(&stream, context)? {
        return settled(Err(KvError::StreamLockedOrDisturbed.into()), context);
    }
    entry.borrow_mut().data_mut().used = true;
    let all = body_stream::read_all(&stream, context)?;
    let on_bytes = NativeFunction::from_copy_closure(move |_, args, context| {
        let chunk = args.first().cloned().unwrap_or_default();
        let bytes = body_stream::uint8_bytes(&chunk, context)?;
        read_as(&bytes, how, Utf8Mode::Strict, malformed, context)
    })
    .to_js_function(context.realm());
    Ok(all.then(Some(on_bytes), None, context)?.into())
}

/// `body`: a ReadableStream of the value, made once; the same object on every read.
fn entry_body(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let entry = this_entry(this, "body")?;
    let (existing, value) = {
        let e = entry.borrow();
        (e.data().stream.clone(), e.data().value.clone())
    };
    if let Some(stream) = existing {
        return Ok(stream.into());
    }
    let stream = body_stream::from_bytes(&value, context)?;
    let used = {
        let mut e = entry.borrow_mut();
        let data = e.data_mut();
        data.stream = Some(stream.clone());
        // The stream holds the bytes now.
        data.value = Bytes::new();
        data.used
    };
    if used {
        // Already read through text()/json()/arrayBuffer(): the body is a stream that has
        // been read (locked and disturbed), as a consumed Response body is.
        drop(body_stream::read_all(&stream, context)?);
    }
    Ok(stream.into())
}

/// `bodyUsed`: read through a method, or its `body` stream read from or canceled.
fn entry_body_used(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let entry = this_entry(this, "bodyUsed")?;
    let (used, stream) = {
        let e = entry.borrow();
        (e.data().used, e.data().stream.clone())
    };
    let used = match stream {
        Some(stream) if !used => body_stream::is_disturbed(&stream, context)?,
        _ => used,
    };
    Ok(used.into())
}

fn entry_array_buffer(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    read_entry(this, "arrayBuffer", ReadAs::ArrayBuffer, context)
}

fn entry_json(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    read_entry(this, "json", ReadAs::Json, context)
}

fn entry_text(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    read_entry(this, "text", ReadAs::Text, context)
}

/// Synchronous (the docs say Promise; production returns the value): the same `Uint8Array`
/// on every call, or `null`.
fn entry_metadata(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let entry = this_entry(this, "metadata")?;
    let (existing, bytes) = {
        let e = entry.borrow();
        (e.data().metadata_array.clone(), e.data().metadata.clone())
    };
    if let Some(array) = existing {
        return Ok(array.into());
    }
    let Some(bytes) = bytes else {
        return Ok(JsValue::null());
    };
    let array = uint8_array(&bytes, context)?;
    entry.borrow_mut().data_mut().metadata_array = Some(array.clone());
    Ok(array.into())
}

fn entry_metadata_text(this: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    let entry = this_entry(this, "metadataText")?;
    let bytes = entry.borrow().data().metadata.clone();
    match bytes {
        None => Ok(JsValue::null()),
        Some(bytes) => Ok(decode_utf8(&bytes, Utf8Mode::Strict)
            .map_err(malformed)?
            .into()),
    }
}

impl Class for JsKvStoreEntry {
    const NAME: &'static str = ENTRY_CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        // Members are defined by `register`, as for KVStore.
        Ok(())
    }

    fn construct(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsObject> {
        Err(KvError::EntryNotConstructible.into())
    }

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(KvError::EntryNotConstructible.into())
    }
}

/// Registers both classes and defines their prototype members as the platform has them:
/// after `constructor`, in the platform's order, enumerable.
pub fn register_classes(context: &mut Context) -> JsResult<()> {
    context.register_global_class::<JsKvStore>()?;
    context.register_global_class::<JsKvStoreEntry>()?;

    let store = class_prototype::<JsKvStore>(context)?;
    let store_methods: [(&str, NativeFunctionPointer); 4] = [
        ("delete", delete),
        ("get", get),
        ("put", put),
        ("list", list),
    ];
    for (name, function) in store_methods {
        // Every method has length 1 on the platform, `put` included.
        define_enumerable_method(&store, name, 1, function, context)?;
    }

    let entry = class_prototype::<JsKvStoreEntry>(context)?;
    define_enumerable_getter(&entry, "body", entry_body, context)?;
    define_enumerable_getter(&entry, "bodyUsed", entry_body_used, context)?;
    let entry_methods: [(&str, NativeFunctionPointer); 5] = [
        ("arrayBuffer", entry_array_buffer),
        ("json", entry_json),
        ("text", entry_text),
        ("metadata", entry_metadata),
        ("metadataText", entry_metadata_text),
    ];
    for (name, function) in entry_methods {
        define_enumerable_method(&entry, name, 0, function, context)?;
    }
    Ok(())
}
