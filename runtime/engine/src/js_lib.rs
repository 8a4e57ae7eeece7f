//! Built-ins written in JavaScript (`js-lib/` at the repository root), embedded from one
//! table ([`LIBRARIES`]) and installed as lazily evaluated globals.
//!
//! [`register`] defines, for each global a library provides, a configurable, non-enumerable
//! accessor on `globalThis`; `Instance::boot` then evaluates every library before the app's
//! code runs (see there why a read from app code must not be the first). The first read of any of them
//! evaluates the library (once per context) and replaces all of that library's accessors
//! still in place with data properties (writable, non-enumerable, configurable, as web IDL
//! interfaces are). Assigning to such a global before its first use replaces it with the
//! assigned value, and the library never overwrites it.
//!
//! A library is a classic script (not a module, so it evaluates synchronously) whose
//! completion value is a function: called with the host's helpers (`host_helpers` below:
//! another library's `internal` object, and what JS cannot do by itself), it returns
//! `{ globals: { Name: value, ... }, internal: { ... } }`. `globals` must hold exactly the
//! names listed in the table; `internal` is reachable only from Rust, through [`internal`],
//! and from other libraries, so host code can use what apps cannot see.
//!
//! | Library            | File                          | What                                              |
//! |--------------------|-------------------------------|---------------------------------------------------|
//! | `streams`          | `js-lib/streams.js`           | ReadableStream (default, bytes, BYOB), strategies |
//! | `streams-writable` | `js-lib/streams-writable.js`  | WritableStream, TransformStream, piping, compression streams |
//! | `events`           | `js-lib/events.js`            | Event, EventTarget, CustomEvent                   |
//! | `blob`             | `js-lib/blob.js`              | Blob, File, FormData                              |
//! | `fastly`           | `js-lib/fastly.js`            | the `fastly:*` classes written in JS (see `fastly::js_modules`) |
//!
//! Both follow <https://streams.spec.whatwg.org/>. The split is for cost: parsing is most of
//! a library's first-use cost (Boa parses ~150 ns per byte), and reading a body needs only
//! the readable half. Measured by `tests::parse_and_evaluate_cost` (release, 2 shared cores):
//! `streams` ~14 ms, `streams-writable` ~7.5 ms more. [`is_loaded`] tells host code whether
//! a library is evaluated in a context.
//!
//! # `streams` internal API
//!
//! - `createHostReadable(pull, cancel)`: a readable byte stream whose chunks come from the
//!   host. `pull()` returns a promise of a `Uint8Array` chunk (empty ones are skipped), or
//!   of `null` at the end; `cancel(reason)` (optional) is called when the consumer cancels.
//!   Chunk buffers are transferred into the stream.
//! - `isReadableStream(x)`, `isHostStream(x)`, `isDisturbed(x)`, `isLocked(x)`,
//!   `isDisturbedOrLocked(x)`.
//! - `readAll(stream)`: locks and reads a stream of `Uint8Array` chunks to its end; a
//!   promise of one `Uint8Array` (rejects with a TypeError on any other chunk, which also
//!   cancels the stream).
//! - `createByteReader(stream)`: locks the stream; `{ read(), cancel(reason), release() }`
//!   where `read()` is a promise of the next `Uint8Array` chunk, or of `null` at the end.
//! - `fromBytes(u8)`: a closed readable byte stream of that one chunk (buffer transferred).
//! - `tee(stream)`: `[branch1, branch2]`; `cancel(stream, reason)`: a promise.
//! - `shared`: the abstract operations `streams-writable` builds on.

use std::cell::RefCell;
use std::path::Path;

use boa_engine::object::builtins::JsArrayBuffer;
use boa_engine::object::{FunctionObjectBuilder, ObjectInitializer};
use boa_engine::optimizer::OptimizerOptions;
use boa_engine::property::{PropertyDescriptor, PropertyKey};
use boa_engine::{
    js_string, Context, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue,
    NativeFunction, Script, Source,
};

/// One built-in library written in JS.
#[derive(Debug, Clone, Copy)]
pub struct JsLibrary {
    /// The file's name in `js-lib/`, without `.js`.
    pub name: &'static str,
    /// The script's text.
    pub source: &'static str,
    /// The globals it provides: exactly the keys of its `globals` object.
    pub globals: &'static [&'static str],
}

/// Embeds `js-lib/<name>.js`.
macro_rules! js_library {
    ($name:literal, [$($global:literal),* $(,)?]) => {
        JsLibrary {
            name: $name,
            source: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../js-lib/", $name, ".js")),
            globals: &[$($global),*],
        }
    };
}

/// Every built-in library written in JS. A test keeps it in sync with the `js-lib/` folder.
pub const LIBRARIES: &[JsLibrary] = &[
    js_library!(
        "streams",
        [
            "ReadableStream",
            "ReadableStreamDefaultReader",
            "ReadableStreamBYOBReader",
            "ReadableStreamDefaultController",
            "ReadableByteStreamController",
            "ReadableStreamBYOBRequest",
            "ByteLengthQueuingStrategy",
            "CountQueuingStrategy",
        ]
    ),
    js_library!(
        "streams-writable",
        [
            "WritableStream",
            "TransformStream",
            "CompressionStream",
            "DecompressionStream",
        ]
    ),
    js_library!("events", ["Event", "EventTarget", "CustomEvent"]),
    js_library!("blob", ["Blob", "File", "FormData"]),
    js_library!(
        "fastly",
        [
            "CacheOverride",
            "FastlyBody",
            "SimpleCache",
            "SimpleCacheEntry",
            "CoreCache",
            "CacheEntry",
            "CacheState",
            "TransactionCacheEntry",
            "PendingTransaction",
            "EdgeRateLimiter",
            "PenaltyBox",
            "RateCounter",
            "HTMLRewritingStream",
        ]
    ),
];

/// Where one library stands in one context.
#[derive(Clone)]
enum Slot {
    /// Not evaluated; the getters installed on `globalThis`, one per global, in table order.
    Pending(Vec<JsObject>),
    /// Being evaluated (a global read during its own evaluation is an error).
    Evaluating,
    Ready {
        globals: JsObject,
        internal: JsObject,
    },
}

/// The per-context state of every library, in table order (context data).
struct Libraries(RefCell<Vec<Slot>>);

/// Installs the lazy globals of every library in [`LIBRARIES`].
///
/// # Errors
/// Defining a property on the global object fails (it never does on a fresh context).
pub fn register(context: &mut Context) -> JsResult<()> {
    let global = context.global_object();
    let mut slots = Vec::with_capacity(LIBRARIES.len());
    for (lib, library) in LIBRARIES.iter().enumerate() {
        let mut getters = Vec::with_capacity(library.globals.len());
        for (index, name) in library.globals.iter().enumerate() {
            let realm = context.realm().clone();
            let get = FunctionObjectBuilder::new(
                &realm,
                NativeFunction::from_copy_closure(move |_, _, context| {
                    let globals = load(context, lib)?.0;
                    globals.get(js_string!(LIBRARIES[lib].globals[index]), context)
                }),
            )
            .name(js_string!(format!("get {name}")))
            .length(0)
            .build();
            let set = FunctionObjectBuilder::new(
                &realm,
                NativeFunction::from_copy_closure(move |this, args, context| {
                    let value = args.first().cloned().unwrap_or_default();
                    let key = js_string!(LIBRARIES[lib].globals[index]);
                    let target = this.as_object().unwrap_or_else(|| context.global_object());
                    target.define_property_or_throw(key, data_property(value), context)?;
                    Ok(JsValue::undefined())
                }),
            )
            .name(js_string!(format!("set {name}")))
            .length(1)
            .build();
            global.define_property_or_throw(
                js_string!(*name),
                PropertyDescriptor::builder()
                    .get(get.clone())
                    .set(set)
                    .enumerable(false)
                    .configurable(true),
                context,
            )?;
            getters.push(get.into());
        }
        slots.push(Slot::Pending(getters));
    }
    context.insert_data(Libraries(RefCell::new(slots)));
    Ok(())
}

/// The `internal` object of the library named `library`, evaluating it first if needed.
///
/// # Errors
/// No library has that name, [`register`] did not run in this context, or the library
/// threw while evaluating.
pub fn internal(context: &mut Context, library: &str) -> JsResult<JsObject> {
    let lib = library_index(library)?;
    Ok(load(context, lib)?.1)
}

/// Whether the library named `library` has been evaluated in this context (so a pool could
/// preload, in the next fresh instance, what the previous one of the same app needed).
pub fn is_loaded(context: &Context, library: &str) -> bool {
    let Ok(lib) = library_index(library) else {
        return false;
    };
    context
        .get_data::<Libraries>()
        .is_some_and(|l| matches!(l.0.borrow().get(lib), Some(Slot::Ready { .. })))
}

fn library_index(library: &str) -> JsResult<usize> {
    LIBRARIES
        .iter()
        .position(|l| l.name == library)
        .ok_or_else(|| {
            JsNativeError::error()
                .with_message(format!("no built-in JS library {library:?}"))
                .into()
        })
}

/// As web IDL defines interface objects on the global: writable, configurable, hidden.
fn data_property(value: JsValue) -> PropertyDescriptor {
    PropertyDescriptor::builder()
        .value(value)
        .writable(true)
        .enumerable(false)
        .configurable(true)
        .build()
}

/// Evaluates library `lib` unless done already; its `(globals, internal)` objects.
fn load(context: &mut Context, lib: usize) -> JsResult<(JsObject, JsObject)> {
    let library = &LIBRARIES[lib];
    let not_registered = || {
        JsError::from(JsNativeError::error().with_message(format!(
            "the built-in JS library {:?} is not registered in this context",
            library.name
        )))
    };
    let slot = context
        .get_data::<Libraries>()
        .and_then(|l| l.0.borrow().get(lib).cloned())
        .ok_or_else(not_registered)?;
    let getters = match slot {
        Slot::Ready { globals, internal } => return Ok((globals, internal)),
        Slot::Evaluating => {
            return Err(JsNativeError::typ()
                .with_message(format!(
                    "the built-in JS library {:?} used one of its own globals while loading",
                    library.name
                ))
                .into())
        }
        Slot::Pending(getters) => getters,
    };
    set_slot(context, lib, Slot::Evaluating);
    let evaluated = evaluate(context, library);
    let (globals, internal) = match evaluated {
        Ok(pair) => pair,
        Err(e) => {
            set_slot(context, lib, Slot::Pending(getters));
            return Err(e);
        }
    };
    // Every accessor still ours becomes a data property; one the app replaced stays.
    let global = context.global_object();
    for (name, getter) in library.globals.iter().zip(&getters) {
        let key = PropertyKey::from(js_string!(*name));
        let ours = global
            .borrow()
            .properties()
            .get(&key)
            .and_then(|d| d.get().and_then(JsValue::as_object))
            .is_some_and(|g| JsObject::equals(&g, getter));
        if ours {
            let value = globals.get(key.clone(), context)?;
            global.define_property_or_throw(key, data_property(value), context)?;
        }
    }
    crate::surface::conform_globals(library.globals.iter().copied(), context)?;
    set_slot(
        context,
        lib,
        Slot::Ready {
            globals: globals.clone(),
            internal: internal.clone(),
        },
    );
    Ok((globals, internal))
}

fn set_slot(context: &mut Context, lib: usize, slot: Slot) {
    if let Some(libraries) = context.get_data::<Libraries>() {
        if let Some(s) = libraries.0.borrow_mut().get_mut(lib) {
            *s = slot;
        }
    }
}

/// Parses and runs the library's script; its `globals` and `internal` objects.
fn evaluate(context: &mut Context, library: &JsLibrary) -> JsResult<(JsObject, JsObject)> {
    let path = format!("js-lib/{}.js", library.name);
    let source = Source::from_bytes(library.source).with_path(Path::new(&path));
    // Boa's AST optimizer (constant folding) costs ~5% of the parse and gains the library
    // nothing measurable.
    let optimizer = context.optimizer_options();
    context.set_optimizer_options(OptimizerOptions::empty());
    let script = Script::parse(source, None, context);
    context.set_optimizer_options(optimizer);
    let script = script?;
    let shape_error = |what: &str| -> JsError {
        JsNativeError::typ()
            .with_message(format!(
                "{path} must evaluate to a function returning {{ globals, internal }}: {what}"
            ))
            .into()
    };
    let factory = script.evaluate(context)?;
    let factory = factory
        .as_callable()
        .ok_or_else(|| shape_error("not a function"))?;
    let host = host_helpers(context);
    let exports = factory.call(&JsValue::undefined(), &[host.into()], context)?;
    let exports = exports
        .as_object()
        .ok_or_else(|| shape_error("it returned no object"))?;
    let mut member = |name: &str| -> JsResult<JsObject> {
        exports
            .get(JsString::from(name), context)?
            .as_object()
            .ok_or_else(|| shape_error(&format!("`{name}` is missing")))
    };
    Ok((member("globals")?, member("internal")?))
}

/// What every library gets from the host:
/// - `require(name)`: the `internal` object of another library, evaluating it if needed.
/// - `loaded(name)`: that object if the library is evaluated already, else `undefined` (a
///   library can tell that no instance of another one's classes can exist yet).
/// - `transferArrayBuffer(buffer)`: a new `ArrayBuffer` with the bytes, without copying; the
///   old one is detached. TypeError for a detached or a shared buffer. (Boa 0.22 without its
///   `experimental` feature has no `ArrayBuffer.prototype.transfer`.)
/// - `isDetachedArrayBuffer(buffer)`.
/// - `htmlRewriter()`: the native rewriter behind one `HTMLRewritingStream`
///   (`fastly::html_rewriter`).
/// - `cache`: the edge cache's calls (`crate::fastly::cache::host`).
/// - `rate`: the rate counters' and penalty boxes' (`crate::fastly::edge_rate_limiter`).
fn host_helpers(context: &mut Context) -> JsObject {
    fn array_buffer(args: &[JsValue], what: &str) -> JsResult<JsArrayBuffer> {
        args.first()
            .and_then(JsValue::as_object)
            .and_then(|o| JsArrayBuffer::from_object(o).ok())
            .ok_or_else(|| {
                JsNativeError::typ()
                    .with_message(format!("{what}: not an ArrayBuffer"))
                    .into()
            })
    }
    fn transfer(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
        let buffer = array_buffer(args, "transferArrayBuffer")?;
        let bytes = buffer.detach(&JsValue::undefined()).map_err(|_| {
            JsNativeError::typ().with_message("Cannot transfer a detached ArrayBuffer")
        })?;
        Ok(JsArrayBuffer::from_byte_block(bytes, context)?.into())
    }
    fn is_detached(_: &JsValue, args: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
        Ok(array_buffer(args, "isDetachedArrayBuffer")?
            .data()
            .is_none()
            .into())
    }
    fn library_name(args: &[JsValue], context: &mut Context) -> JsResult<String> {
        Ok(args
            .first()
            .cloned()
            .unwrap_or_default()
            .to_string(context)?
            .to_std_string_lossy())
    }
    fn require(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
        let name = library_name(args, context)?;
        Ok(internal(context, &name)?.into())
    }
    fn loaded(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
        let name = library_name(args, context)?;
        let lib = library_index(&name)?;
        let slot = context
            .get_data::<Libraries>()
            .and_then(|l| l.0.borrow().get(lib).cloned());
        Ok(match slot {
            Some(Slot::Ready { internal, .. }) => internal.into(),
            _ => JsValue::undefined(),
        })
    }
    fn in_request(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
        Ok(crate::host::Phase::in_request(context).into())
    }
    let cache = crate::fastly::cache::host::host_object(context);
    let rate = crate::fastly::edge_rate_limiter::host_object(context);
    let http_cache = crate::fastly::http_cache_api::host_object(context);
    ObjectInitializer::new(context)
        .property(
            js_string!("httpCache"),
            http_cache,
            boa_engine::property::Attribute::all(),
        )
        .property(
            js_string!("cache"),
            cache,
            boa_engine::property::Attribute::all(),
        )
        .property(
            js_string!("rate"),
            rate,
            boa_engine::property::Attribute::all(),
        )
        .function(
            NativeFunction::from_fn_ptr(in_request),
            js_string!("inRequest"),
            0,
        )
        .function(
            NativeFunction::from_fn_ptr(crate::web::compression::make_codec),
            js_string!("codec"),
            2,
        )
        .function(
            NativeFunction::from_fn_ptr(require),
            js_string!("require"),
            1,
        )
        .function(NativeFunction::from_fn_ptr(loaded), js_string!("loaded"), 1)
        .function(
            NativeFunction::from_fn_ptr(crate::fastly::html_rewriter::new_rewriter),
            js_string!("htmlRewriter"),
            0,
        )
        .function(
            NativeFunction::from_fn_ptr(transfer),
            js_string!("transferArrayBuffer"),
            1,
        )
        .function(
            NativeFunction::from_fn_ptr(is_detached),
            js_string!("isDetachedArrayBuffer"),
            1,
        )
        .build()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::collections::BTreeSet;

    fn context() -> Context {
        let mut context = Context::default();
        register(&mut context).unwrap();
        context
    }

    fn eval(context: &mut Context, code: &str) -> JsValue {
        context
            .eval(Source::from_bytes(code))
            .unwrap_or_else(|e| panic!("{code}: {e}"))
    }

    fn eval_string(context: &mut Context, code: &str) -> String {
        eval(context, code)
            .to_string(context)
            .unwrap()
            .to_std_string_escaped()
    }

    #[test]
    fn table_and_folder_are_in_sync() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../js-lib");
        let files: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(".js").map(str::to_owned))
            .collect();
        let table: BTreeSet<String> = LIBRARIES.iter().map(|l| l.name.to_owned()).collect();
        assert_eq!(files, table, "js-lib/*.js and js_lib::LIBRARIES differ");
        assert_eq!(table.len(), LIBRARIES.len(), "a library is listed twice");
        let globals: Vec<&str> = LIBRARIES.iter().flat_map(|l| l.globals).copied().collect();
        let unique: BTreeSet<&str> = globals.iter().copied().collect();
        assert_eq!(unique.len(), globals.len(), "a global is listed twice");
    }

    #[test]
    fn each_library_provides_exactly_its_listed_globals() {
        for (lib, library) in LIBRARIES.iter().enumerate() {
            let mut context = context();
            let internal = internal(&mut context, library.name).unwrap();
            assert!(internal.is_extensible(&mut context).unwrap());
            let Some(Slot::Ready { globals, .. }) = context
                .get_data::<Libraries>()
                .and_then(|l| l.0.borrow().get(lib).cloned())
            else {
                panic!("{} not evaluated", library.name);
            };
            let keys: BTreeSet<String> = globals
                .own_property_keys(&mut context)
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect();
            let listed: BTreeSet<String> =
                library.globals.iter().map(|g| (*g).to_owned()).collect();
            assert_eq!(keys, listed, "{}: globals object vs table", library.name);
            for name in library.globals {
                let value = globals.get(js_string!(*name), &mut context).unwrap();
                assert!(
                    value.is_callable(),
                    "{}.{name} is not a function",
                    library.name
                );
            }
        }
    }

    /// Runs `scenario` (JS that sets `globalThis.result`, possibly from a promise job) with
    /// the streams library's `internal` object as `globalThis.internal`; the result.
    fn run_with_internal(scenario: &str) -> String {
        let mut context = context();
        let internal = internal(&mut context, "streams").unwrap();
        context
            .global_object()
            .set(js_string!("internal"), internal, false, &mut context)
            .unwrap();
        eval(
            &mut context,
            &format!("globalThis.result = 'pending'; (async () => {{ {scenario} }})().then((r) => {{ globalThis.result = r; }}, (e) => {{ globalThis.result = 'rejected: ' + e; }});"),
        );
        context.run_jobs().unwrap();
        eval_string(&mut context, "String(globalThis.result)")
    }

    /// A host pull function over fixed chunks (null at the end), as Rust code would give it.
    const HOST_SOURCE: &str = "
        const chunks = [new Uint8Array([1, 2]), new Uint8Array([]), new Uint8Array([3, 4, 5]), null];
        let pulls = 0;
        let canceled = 'no';
        const pull = () => { pulls++; return Promise.resolve(chunks.shift()); };
        const cancel = (reason) => { canceled = String(reason); };
        const stream = internal.createHostReadable(pull, cancel);";

    #[test]
    fn host_stream_reads_to_the_end() {
        let result = run_with_internal(&format!(
            "{HOST_SOURCE}
             const before = [internal.isReadableStream(stream), internal.isHostStream(stream),
                             internal.isDisturbedOrLocked(stream), pulls];
             const bytes = await internal.readAll(stream);
             return [before, Array.from(bytes), internal.isDisturbedOrLocked(stream),
                     internal.isHostStream(new ReadableStream()), internal.isReadableStream({{}})].join(' | ');"
        ));
        assert_eq!(
            result,
            "true,true,false,0 | 1,2,3,4,5 | true | false | false"
        );
    }

    #[test]
    fn host_stream_serves_byob_readers_and_tee() {
        let result = run_with_internal(&format!(
            "{HOST_SOURCE}
             const reader = stream.getReader({{ mode: 'byob' }});
             const a = await reader.read(new Uint8Array(1));
             const b = await reader.read(new Uint8Array(8));
             reader.releaseLock();
             const [t1, t2] = internal.tee(stream);
             const [x, y] = await Promise.all([internal.readAll(t1), internal.readAll(t2)]);
             return [Array.from(a.value), Array.from(b.value), Array.from(x), Array.from(y)].join(' | ');"
        ));
        assert_eq!(result, "1 | 2 | 3,4,5 | 3,4,5");
    }

    #[test]
    fn host_stream_cancel_and_errors() {
        let result = run_with_internal(&format!(
            "{HOST_SOURCE}
             await stream.cancel('bye');
             const failing = internal.createHostReadable(() => Promise.reject(new RangeError('io')));
             const e1 = await internal.readAll(failing).catch((e) => e.name + ': ' + e.message);
             const wrong = internal.createHostReadable(() => Promise.resolve('text'));
             const e2 = await wrong.getReader().read().catch((e) => e.name);
             const locked = new ReadableStream();
             locked.getReader();
             const e3 = await internal.readAll(locked).catch((e) => e.name);
             return [canceled, e1, e2, e3].join(' | ');"
        ));
        assert_eq!(result, "bye | RangeError: io | TypeError | TypeError");
    }

    #[test]
    fn read_all_and_byte_reader_on_app_streams() {
        let result = run_with_internal(
            "const many = new ReadableStream({ start(c) { for (let i = 0; i < 3000; i++) c.enqueue(new Uint8Array([i & 255])); c.close(); } });
             const all = await internal.readAll(many);
             const text = new ReadableStream({ start(c) { c.enqueue('text'); c.close(); } });
             const e = await internal.readAll(text).catch((e) => e.message);
             const reader = internal.createByteReader(internal.fromBytes(new Uint8Array([7, 8])));
             const first = await reader.read();
             const end = await reader.read();
             return [all.length, all[2999], e, Array.from(first), String(end)].join(' | ');",
        );
        assert_eq!(
            result,
            "3000 | 183 | The stream produced a chunk that is not a Uint8Array | 7,8 | null"
        );
    }

    #[test]
    fn globals_are_lazy_hidden_and_replaceable() {
        let mut context = context();
        assert_eq!(
            eval_string(
                &mut context,
                "const d = Object.getOwnPropertyDescriptor(globalThis, 'ReadableStream');
                 [typeof d.get, d.enumerable, d.configurable].join()"
            ),
            "function,false,true"
        );
        assert!(matches!(
            context.get_data::<Libraries>().unwrap().0.borrow()[0],
            Slot::Pending(_)
        ));
        eval(&mut context, "globalThis.WritableStream = 1;");
        assert_eq!(
            eval_string(&mut context, "typeof ReadableStream"),
            "function"
        );
        assert_eq!(
            eval_string(
                &mut context,
                "const e = Object.getOwnPropertyDescriptor(globalThis, 'ReadableStream');
                 [typeof e.value, e.writable, e.enumerable, e.configurable,
                  Object.keys(globalThis).includes('ReadableStream'),
                  WritableStream, typeof TransformStream,
                  'get' in Object.getOwnPropertyDescriptor(globalThis, 'TransformStream')].join()"
            ),
            "function,true,false,true,false,1,function,false"
        );
        // Evaluated once: the same objects from Rust and from JS.
        let internal_a = internal(&mut context, "streams").unwrap();
        let internal_b = internal(&mut context, "streams").unwrap();
        assert!(JsObject::equals(&internal_a, &internal_b));
        let is_stream = internal_a
            .get(js_string!("isReadableStream"), &mut context)
            .unwrap();
        let stream = eval(&mut context, "new ReadableStream()");
        let answer = is_stream
            .as_callable()
            .unwrap()
            .call(&JsValue::undefined(), &[stream], &mut context)
            .unwrap();
        assert_eq!(answer, JsValue::from(true));
        assert!(internal(&mut context, "nope").is_err());
    }

    #[test]
    fn internal_evaluates_and_installs_the_globals() {
        let mut context = context();
        let internal = internal(&mut context, "streams").unwrap();
        for name in [
            "createHostReadable",
            "isReadableStream",
            "isDisturbedOrLocked",
        ] {
            assert!(internal
                .get(js_string!(name), &mut context)
                .unwrap()
                .is_callable());
        }
        assert_eq!(
            eval_string(
                &mut context,
                "'value' in Object.getOwnPropertyDescriptor(globalThis, 'CountQueuingStrategy')"
            ),
            "true"
        );
    }

    /// The cost a context pays on first use of each library (its dependencies, earlier in the
    /// table, loaded beforehand and not counted):
    /// `cargo test --release -p edgeshim-engine --lib js_lib -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, run by hand in a release build"]
    fn parse_and_evaluate_cost() {
        fn median(mut v: Vec<f64>) -> f64 {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        }
        for (lib, library) in LIBRARIES.iter().enumerate() {
            let (mut total, mut parse) = (Vec::new(), Vec::new());
            for _ in 0..100 {
                let mut context = context();
                for dependency in &LIBRARIES[..lib] {
                    internal(&mut context, dependency.name).unwrap();
                }
                let start = std::time::Instant::now();
                internal(&mut context, library.name).unwrap();
                total.push(start.elapsed().as_secs_f64() * 1e3);
                context.set_optimizer_options(OptimizerOptions::empty());
                let start = std::time::Instant::now();
                Script::parse(Source::from_bytes(library.source), None, &mut context).unwrap();
                parse.push(start.elapsed().as_secs_f64() * 1e3);
            }
            eprintln!(
                "{}: {} lines, {} KiB; parse+evaluate median {:.2} ms, of which parsing {:.2} ms",
                library.name,
                library.source.lines().count(),
                library.source.len() / 1024,
                median(total),
                median(parse),
            );
        }
    }
}
