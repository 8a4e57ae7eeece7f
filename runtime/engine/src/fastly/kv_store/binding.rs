//! The JS-facing classes `KVStore` and `KVStoreEntry`.
//!
//! Every method checks its receiver by brand and its arguments in the platform's order, then
//! either throws synchronously or returns a promise, exactly where the contract says
//! (`shared/reference/kv-store.md`). Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:kv-store/KVStore/>.

use std::sync::Arc;

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::object::builtins::JsPromise;
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsError, JsNativeError, JsObject, JsResult, JsValue,
    NativeFunction, Trace,
};
use bytes::Bytes;
use edgeshim_store::{Insert, KvStore, Stores};

use super::error::{KvError, StoreOp};
use super::validation::{
    check_value_size, generation_from_number, insert_mode, ttl_from_number, Key, StoreName,
};
use crate::class_util::getter;
use crate::host::Phase;
use crate::web::body::{buffer_source_bytes, decode_utf8, read_as, uint8_array, ReadAs, Utf8Mode};

const STORE_CLASS: &str = "KVStore";
const ENTRY_CLASS: &str = "KVStoreEntry";

/// The stores an instance may open, handed to the context as host data.
#[derive(Debug, Clone)]
pub struct KvStores(pub Stores);

#[derive(Trace, Finalize, JsData)]
pub struct JsKvStore {
    #[unsafe_ignore_trace]
    store: Arc<dyn KvStore>,
}

impl std::fmt::Debug for JsKvStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsKvStore").finish_non_exhaustive()
    }
}

/// The receiver as a KVStore, or the platform's TypeError for `method`.
fn this_store(this: &JsValue, method: &'static str) -> Result<Arc<dyn KvStore>, KvError> {
    this.as_object()
        .and_then(|o| o.downcast_ref::<JsKvStore>().map(|s| s.store.clone()))
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
}

/// `put`'s steps up to the write. The outer `Err` is thrown synchronously; the inner one
/// becomes a rejected promise.
fn prepare_put(args: &[JsValue], context: &mut Context) -> JsResult<Result<PutRequest, KvError>> {
    require(args, "put", 2)?;
    let key = key_from(&args[0], context)?;
    let mut insert = Insert::default();
    let mut deferred: Option<KvError> = None;
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
                _ => deferred = deferred.or(Some(KvError::GenNotInteger)),
            }
        }
        metadata = options.get(js_string!("metadata"), context)?;
        let mode = options.get(js_string!("mode"), context)?;
        if !mode.is_undefined() {
            insert.mode = insert_mode(&to_rust_string(&mode, context)?);
        }
    }

    let value = match buffer_source_bytes(&args[1], context)? {
        Some(bytes) => bytes,
        None => to_rust_string(&args[1], context)?.into_bytes(),
    };
    if let Some(err) = deferred {
        return Ok(Err(err));
    }
    if let Err(err) = check_value_size(value.len()) {
        return Ok(Err(err));
    }
    insert.value = Bytes::from(value);

    if !metadata.is_undefined() {
        let bytes = if let Some(text) = metadata.as_string() {
            Some(text.to_std_string_lossy().into_bytes())
        } else {
            buffer_source_bytes(&metadata, context)?
        };
        match bytes {
            Some(bytes) => insert.metadata = Some(Bytes::from(bytes)),
            None => return Ok(Err(KvError::MetadataNotBytes)),
        }
    }
    Ok(Ok(PutRequest { key, insert }))
}

fn put(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let store = this_store(this, "put")?;
    let result = match prepare_put(args, context)? {
        Ok(PutRequest { key, insert }) => store
            .insert(key.as_str(), insert)
            .map(|()| JsValue::undefined())
            .map_err(|e| KvError::store(StoreOp::Insert, e).into()),
        Err(err) => Err(err.into()),
    };
    settled(result, context)
}

fn get(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let store = this_store(this, "get")?;
    require(args, "get", 1)?;
    let result = key_from(&args[0], context).and_then(|key| match store.lookup(key.as_str()) {
        Ok(Some(entry)) => Ok(JsKvStoreEntry::create(entry.value, entry.metadata, context)?.into()),
        Ok(None) => Ok(JsValue::null()),
        Err(e) => Err(KvError::store(StoreOp::Lookup, e).into()),
    });
    settled(result, context)
}

fn delete(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let store = this_store(this, "delete")?;
    require(args, "delete", 1)?;
    let result = key_from(&args[0], context).and_then(|key| {
        store
            .delete(key.as_str())
            .map(|()| JsValue::undefined())
            .map_err(|e| KvError::store(StoreOp::Delete, e).into())
    });
    settled(result, context)
}

impl Class for JsKvStore {
    const NAME: &'static str = STORE_CLASS;
    const LENGTH: usize = 1;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        // The platform's order of own keys: constructor, delete, get, put, list.
        class
            .method(js_string!("delete"), 1, NativeFunction::from_fn_ptr(delete))
            .method(js_string!("get"), 1, NativeFunction::from_fn_ptr(get))
            .method(js_string!("put"), 1, NativeFunction::from_fn_ptr(put));
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
        let prototype = match new_target
            .as_object()
            .map(|t| t.get(js_string!("prototype"), context))
            .transpose()?
            .and_then(|p| p.as_object())
        {
            Some(proto) => proto,
            None => context
                .get_global_class::<Self>()
                .ok_or_else(|| JsNativeError::typ().with_message("KVStore is not registered"))?
                .prototype(),
        };
        let data = Self::data_constructor(new_target, args, context)?;
        Ok(JsObject::from_proto_and_data(prototype, data).upcast())
    }

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        require(args, "KVStore constructor", 1)?;
        let name = StoreName::new(to_rust_string(&args[0], context)?).map_err(KvError::from)?;
        let store = context
            .get_data::<KvStores>()
            .and_then(|stores| stores.0.get(name.as_str()));
        match store {
            Some(store) => Ok(Self { store }),
            None => {
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
}

#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsKvStoreEntry {
    #[unsafe_ignore_trace]
    value: Bytes,
    #[unsafe_ignore_trace]
    metadata: Option<Bytes>,
    /// `metadata()` returns the same `Uint8Array` every time.
    metadata_array: Option<JsObject>,
    #[unsafe_ignore_trace]
    used: bool,
}

impl JsKvStoreEntry {
    fn create(value: Bytes, metadata: Option<Bytes>, context: &mut Context) -> JsResult<JsObject> {
        let data = Self {
            value,
            metadata: metadata.filter(|m| !m.is_empty()),
            metadata_array: None,
            used: false,
        };
        let prototype = context
            .get_global_class::<Self>()
            .ok_or_else(|| JsNativeError::typ().with_message("KVStoreEntry is not registered"))?
            .prototype();
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
    let taken = {
        let mut entry = entry.borrow_mut();
        let data = entry.data_mut();
        if data.used {
            Err(KvError::BodyConsumed)
        } else {
            data.used = true;
            Ok(data.value.clone())
        }
    };
    let result = match taken {
        Ok(bytes) => read_as(&bytes, how, Utf8Mode::Strict, malformed, context),
        Err(err) => Err(err.into()),
    };
    settled(result, context)
}

impl Class for JsKvStoreEntry {
    const NAME: &'static str = ENTRY_CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        getter(class, "bodyUsed", |this, _, _| {
            let entry = this_entry(this, "bodyUsed")?;
            let used = entry.borrow().data().used;
            Ok(used.into())
        });
        class
            .method(
                js_string!("arrayBuffer"),
                0,
                NativeFunction::from_fn_ptr(|this, _, ctx| {
                    read_entry(this, "arrayBuffer", ReadAs::ArrayBuffer, ctx)
                }),
            )
            .method(
                js_string!("json"),
                0,
                NativeFunction::from_fn_ptr(|this, _, ctx| {
                    read_entry(this, "json", ReadAs::Json, ctx)
                }),
            )
            .method(
                js_string!("text"),
                0,
                NativeFunction::from_fn_ptr(|this, _, ctx| {
                    read_entry(this, "text", ReadAs::Text, ctx)
                }),
            )
            .method(
                js_string!("metadata"),
                0,
                NativeFunction::from_fn_ptr(|this, _, ctx| {
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
                    let array = uint8_array(&bytes, ctx)?;
                    entry.borrow_mut().data_mut().metadata_array = Some(array.clone());
                    Ok(array.into())
                }),
            )
            .method(
                js_string!("metadataText"),
                0,
                NativeFunction::from_fn_ptr(|this, _, _| {
                    let entry = this_entry(this, "metadataText")?;
                    let bytes = entry.borrow().data().metadata.clone();
                    match bytes {
                        None => Ok(JsValue::null()),
                        Some(bytes) => Ok(decode_utf8(&bytes, Utf8Mode::Strict)
                            .map_err(malformed)?
                            .into()),
                    }
                }),
            );
        Ok(())
    }

    fn construct(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsObject> {
        Err(KvError::EntryNotConstructible.into())
    }

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(KvError::EntryNotConstructible.into())
    }
}
