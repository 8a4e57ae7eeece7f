// The WHATWG Streams standard (https://streams.spec.whatwg.org/), readable half, written
// after its algorithms: ReadableStream (default and byte controllers, default and BYOB
// readers, tee, async iteration, from) and the queuing strategies. WritableStream,
// TransformStream, piping and the encoding streams are in streams-writable.js, which builds
// on `internal.shared` here; the split lets a context that only reads bodies parse ~60% of
// the code.
//
// A classic script, evaluated lazily by runtime/engine/src/js_lib.rs: its completion value
// is a function that takes the host's helpers and returns { globals, internal }. Internal
// state lives in plain records that only this closure can reach: every public object holds
// its record in a private field (#r), and records point back to their public object
// (`pub`). Abstract operations take records and are named after the spec's (rs*
// ReadableStream, rsdc* default controller, rbsc* byte controller).
(function (host) {
  "use strict";

  // ---- What the library uses, captured when it evaluates ----
  const P = Promise;
  const uncurry = Function.prototype.bind.bind(Function.prototype.call);
  const then = uncurry(P.prototype.then);
  // Web IDL's "a promise resolved with x": always a new promise (a thenable x is adopted,
  // which takes two more ticks than PromiseResolve would).
  const promiseResolve = (x) => new P((resolve) => resolve(x));
  const promiseReject = P.reject.bind(P);
  const apply = Reflect.apply;
  const defineProperty = Object.defineProperty;
  const U8 = Uint8Array;
  const AB = ArrayBuffer;
  const isView = AB.isView;
  const { transferArrayBuffer, isDetachedArrayBuffer } = host;
  const abByteLength = uncurry(Object.getOwnPropertyDescriptor(AB.prototype, "byteLength").get);
  const TypedArrayProto = Object.getPrototypeOf(U8.prototype);
  const typedArrayName = uncurry(Object.getOwnPropertyDescriptor(TypedArrayProto, Symbol.toStringTag).get);
  const typedArrayLength = uncurry(Object.getOwnPropertyDescriptor(TypedArrayProto, "length").get);
  const typedArrays = {};
  for (const name of ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
    "Uint32Array", "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"]) {
    if (typeof globalThis[name] === "function") typedArrays[name] = globalThis[name];
  }
  const enqueueMicrotask = typeof queueMicrotask === "function"
    ? queueMicrotask
    : (fn) => { then(promiseResolve(), fn); };

  // A token that lets this library construct objects whose constructors apps cannot call.
  const INTERNAL = Symbol("internal");

  // ---- Small helpers ----
  const noop = () => {};
  const isObject = (x) => (typeof x === "object" && x !== null) || typeof x === "function";

  // A promise with its settling functions, and whether it is still pending.
  class Deferred {
    constructor() {
      this.pending = true;
      this.promise = new P((resolve, reject) => { this.res = resolve; this.rej = reject; });
    }
    resolve(value) { if (this.pending) { this.pending = false; this.res(value); } }
    reject(reason) { if (this.pending) { this.pending = false; this.rej(reason); } }
  }
  const resolvedDeferred = (value) => { const d = new Deferred(); d.resolve(value); return d; };
  const rejectedDeferred = (reason) => { const d = new Deferred(); d.reject(reason); setHandled(d.promise); return d; };
  const setHandled = (promise) => { then(promise, undefined, noop); };

  function receiverError(member, cls) {
    return new TypeError(`Method '${member}' called on receiver that's not an instance of ${cls}`);
  }
  const illegalConstructor = (cls) => new TypeError(`${cls} constructor: Illegal constructor`);

  // Web IDL invocation of a callback whose return type is a promise: a throw becomes a
  // rejection.
  function invokePromise(fn, thisArg, args) {
    try {
      return promiseResolve(apply(fn, thisArg, args));
    } catch (e) {
      return promiseReject(e);
    }
  }

  // Web IDL dictionary conversion: undefined and null are empty dictionaries.
  function dictionary(value, what) {
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) throw new TypeError(`${what} can't be converted to a dictionary`);
    return value;
  }
  function callbackMember(dict, key, what) {
    const f = dict === undefined ? undefined : dict[key];
    if (f !== undefined && typeof f !== "function") throw new TypeError(`${what}: '${key}' member is not a function`);
    return f;
  }
  function booleanMember(dict, key) {
    return dict === undefined ? false : !!dict[key];
  }
  // [EnforceRange] unsigned long long.
  function enforceRange(value, what) {
    const x = +value;
    if (!Number.isFinite(x)) throw new TypeError(`${what} is not a finite number`);
    const t = Math.trunc(x);
    if (t < 0 || t > Number.MAX_SAFE_INTEGER) throw new TypeError(`${what} is outside the range of unsigned long long`);
    return t + 0;
  }
  function viewType(view, what) {
    if (!isView(view)) throw new TypeError(`${what} is not an ArrayBufferView`);
  }

  // ---- Queuing strategies (§7) ----
  function strategyDict(strategy, what) {
    const dict = dictionary(strategy, `${what}: the queuing strategy`);
    const hwm = dict === undefined ? undefined : dict.highWaterMark;
    const highWaterMark = hwm === undefined ? undefined : +hwm;
    const size = callbackMember(dict, "size", `${what}: the queuing strategy`);
    return { highWaterMark, size };
  }
  function extractHighWaterMark(strategy, defaultHWM, what) {
    const hwm = strategy.highWaterMark;
    if (hwm === undefined) return defaultHWM;
    if (Number.isNaN(hwm) || hwm < 0) {
      throw new RangeError(`${what}: the queuing strategy's highWaterMark must be a non-negative number, not ${hwm}`);
    }
    return hwm;
  }
  function extractSizeAlgorithm(strategy) {
    const size = strategy.size;
    if (size === undefined) return () => 1;
    return (chunk) => +apply(size, undefined, [chunk]);
  }

  const byteLengthSize = { size: (chunk) => chunk.byteLength }.size;
  const countSize = { size: () => 1 }.size;

  function strategyInit(init, cls) {
    if (init === undefined) throw new TypeError(`${cls} constructor: At least 1 argument required, but only 0 passed`);
    const dict = dictionary(init, `${cls} constructor: argument 1`);
    const hwm = dict === undefined ? undefined : dict.highWaterMark;
    if (hwm === undefined) throw new TypeError(`${cls} constructor: 'highWaterMark' member of QueuingStrategyInit is required`);
    return +hwm;
  }

  class ByteLengthQueuingStrategy {
    #hwm;
    constructor(init) {
      this.#hwm = strategyInit(init, "ByteLengthQueuingStrategy");
    }
    get highWaterMark() {
      if (!(isObject(this) && #hwm in this)) throw receiverError("get highWaterMark", "ByteLengthQueuingStrategy");
      return this.#hwm;
    }
    get size() {
      if (!(isObject(this) && #hwm in this)) throw receiverError("get size", "ByteLengthQueuingStrategy");
      return byteLengthSize;
    }
  }

  class CountQueuingStrategy {
    #hwm;
    constructor(init) {
      this.#hwm = strategyInit(init, "CountQueuingStrategy");
    }
    get highWaterMark() {
      if (!(isObject(this) && #hwm in this)) throw receiverError("get highWaterMark", "CountQueuingStrategy");
      return this.#hwm;
    }
    get size() {
      if (!(isObject(this) && #hwm in this)) throw receiverError("get size", "CountQueuingStrategy");
      return countSize;
    }
  }

  // ---- Queue-with-sizes (§8.1) ----
  function dequeueValue(c) {
    const pair = c.queue.shift();
    c.queueTotalSize -= pair.size;
    if (c.queueTotalSize < 0) c.queueTotalSize = 0;
    return pair.value;
  }
  function enqueueValueWithSize(c, value, size) {
    if (typeof size !== "number" || Number.isNaN(size) || size < 0 || size === Infinity) {
      throw new RangeError(`The queuing strategy's size function must return a finite, non-negative number, not ${size}`);
    }
    c.queue.push({ value, size });
    c.queueTotalSize += size;
  }
  function resetQueue(c) {
    c.queue = [];
    c.queueTotalSize = 0;
  }

  // ---- Buffers ----
  const isDetached = isDetachedArrayBuffer;
  // TransferArrayBuffer: a new ArrayBuffer with the contents; the old one is detached.
  const transferBuffer = transferArrayBuffer;
  function copyBytes(dest, destOffset, src, srcOffset, n) {
    new U8(dest, destOffset, n).set(new U8(src, srcOffset, n));
  }
  // The view's constructor and element size ([[TypedArrayName]]); DataView otherwise.
  function viewKind(view) {
    const name = typedArrayName(view);
    if (name === undefined) return { ctor: DataView, elementSize: 1 };
    const ctor = typedArrays[name];
    return { ctor, elementSize: ctor.BYTES_PER_ELEMENT };
  }
  function cloneAsUint8Array(view) {
    return new U8(new U8(view.buffer, view.byteOffset, view.byteLength));
  }

  // ---- ReadableStream (§4.2) ----
  let readableOf;
  const newReadable = (pub) => ({
    state: "readable", reader: undefined, storedError: undefined, disturbed: false, controller: undefined,
    host: undefined, pub,
  });

  class ReadableStream {
    #r;
    static {
      readableOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
    }
    constructor(underlyingSource = undefined, strategy = undefined) {
      if (underlyingSource === INTERNAL) {
        this.#r = newReadable(this);
        return;
      }
      const what = "ReadableStream constructor";
      if (underlyingSource === undefined) underlyingSource = null;
      else if (!isObject(underlyingSource)) throw new TypeError(`${what}: the underlying source must be an object`);
      const strat = strategyDict(strategy, what);
      // The UnderlyingSource dictionary, its members in lexicographic order.
      const source = dictionary(underlyingSource, `${what}: the underlying source`);
      const src = "underlying source";
      let auto = source === undefined ? undefined : source.autoAllocateChunkSize;
      if (auto !== undefined) auto = enforceRange(auto, `${what}: autoAllocateChunkSize`);
      const cancel = callbackMember(source, "cancel", `${what}: the ${src}`);
      const pull = callbackMember(source, "pull", `${what}: the ${src}`);
      const start = callbackMember(source, "start", `${what}: the ${src}`);
      let type = source === undefined ? undefined : source.type;
      if (type !== undefined) {
        type = `${type}`;
        if (type !== "bytes") throw new TypeError(`${what}: '${type}' is not a valid value for the underlying source's type (only "bytes")`);
      }
      const s = (this.#r = newReadable(this));
      if (type === "bytes") {
        if (strat.size !== undefined) {
          throw new RangeError(`${what}: the queuing strategy of a byte stream cannot have a size function`);
        }
        const hwm = extractHighWaterMark(strat, 0, what);
        if (auto === 0) throw new TypeError(`${what}: autoAllocateChunkSize must be greater than 0`);
        const c = new ReadableByteStreamController(INTERNAL);
        setUpRBSC(s, readableByteControllerOf(c),
          start ? () => apply(start, underlyingSource, [c]) : noop,
          pull ? () => invokePromise(pull, underlyingSource, [c]) : () => promiseResolve(),
          cancel ? (reason) => invokePromise(cancel, underlyingSource, [reason]) : () => promiseResolve(),
          hwm, auto);
      } else {
        const sizeAlgorithm = extractSizeAlgorithm(strat);
        const hwm = extractHighWaterMark(strat, 1, what);
        const c = new ReadableStreamDefaultController(INTERNAL);
        setUpRSDC(s, defaultControllerOf(c),
          start ? () => apply(start, underlyingSource, [c]) : noop,
          pull ? () => invokePromise(pull, underlyingSource, [c]) : () => promiseResolve(),
          cancel ? (reason) => invokePromise(cancel, underlyingSource, [reason]) : () => promiseResolve(),
          hwm, sizeAlgorithm);
      }
    }

    get locked() {
      const s = readableOf(this);
      if (!s) throw receiverError("get locked", "ReadableStream");
      return rsLocked(s);
    }

    cancel(reason = undefined) {
      const s = readableOf(this);
      if (!s) return promiseReject(receiverError("cancel", "ReadableStream"));
      if (rsLocked(s)) return promiseReject(new TypeError("ReadableStream.cancel: Cannot cancel a stream that is locked to a reader"));
      return rsCancel(s, reason);
    }

    getReader(options = undefined) {
      const s = readableOf(this);
      if (!s) throw receiverError("getReader", "ReadableStream");
      const dict = dictionary(options, "ReadableStream.getReader: argument 1");
      let mode = dict === undefined ? undefined : dict.mode;
      if (mode === undefined) return acquireDefaultReader(s).pub;
      mode = `${mode}`;
      if (mode !== "byob") throw new TypeError(`ReadableStream.getReader: '${mode}' is not a valid reader mode (only "byob")`);
      return acquireBYOBReader(s).pub;
    }

    pipeThrough(transform, options = undefined) {
      const s = readableOf(this);
      const what = "ReadableStream.pipeThrough";
      if (!s) throw receiverError("pipeThrough", "ReadableStream");
      const pair = dictionary(transform, `${what}: argument 1`);
      const readable = pair === undefined ? undefined : pair.readable;
      if (readable === undefined) throw new TypeError(`${what}: 'readable' member of ReadableWritablePair is required`);
      if (!readableOf(readable)) throw new TypeError(`${what}: 'readable' member of ReadableWritablePair is not a ReadableStream`);
      const writable = pair.writable;
      if (writable === undefined) throw new TypeError(`${what}: 'writable' member of ReadableWritablePair is required`);
      // No WritableStream exists before streams-writable.js is loaded.
      const writableLib = host.loaded("streams-writable");
      const w = writableLib && writableLib.writableOf(writable);
      if (!w) throw new TypeError(`${what}: 'writable' member of ReadableWritablePair is not a WritableStream`);
      const opts = pipeOptions(options, what);
      if (rsLocked(s)) throw new TypeError(`${what}: Cannot pipe a stream that is locked to a reader`);
      if (writableLib.wsLocked(w)) throw new TypeError(`${what}: Cannot pipe to a WritableStream that is locked to a writer`);
      const promise = writableLib.pipeTo(s, w, opts);
      setHandled(promise);
      return readable;
    }

    pipeTo(destination, options = undefined) {
      const s = readableOf(this);
      const what = "ReadableStream.pipeTo";
      if (!s) return promiseReject(receiverError("pipeTo", "ReadableStream"));
      const writableLib = host.loaded("streams-writable");
      const w = writableLib && writableLib.writableOf(destination);
      if (!w) return promiseReject(new TypeError(`${what}: argument 1 is not a WritableStream`));
      let opts;
      try {
        opts = pipeOptions(options, what);
      } catch (e) {
        return promiseReject(e);
      }
      if (rsLocked(s)) return promiseReject(new TypeError(`${what}: Cannot pipe a stream that is locked to a reader`));
      if (writableLib.wsLocked(w)) return promiseReject(new TypeError(`${what}: Cannot pipe to a WritableStream that is locked to a writer`));
      return writableLib.pipeTo(s, w, opts);
    }

    tee() {
      const s = readableOf(this);
      if (!s) throw receiverError("tee", "ReadableStream");
      return rsTee(s).map((b) => b.pub);
    }
  }

  // StreamPipeOptions, members in lexicographic order.
  function pipeOptions(options, what) {
    const dict = dictionary(options, `${what}: argument 2`);
    const preventAbort = booleanMember(dict, "preventAbort");
    const preventCancel = booleanMember(dict, "preventCancel");
    const preventClose = booleanMember(dict, "preventClose");
    const signal = dict === undefined ? undefined : dict.signal;
    if (signal !== undefined && !(typeof AbortSignal === "function" && signal instanceof AbortSignal)) {
      throw new TypeError(`${what}: 'signal' member of StreamPipeOptions is not an AbortSignal`);
    }
    return { preventAbort, preventCancel, preventClose, signal };
  }

  function createReadable(start, pull, cancel, hwm = 1, sizeAlgorithm = () => 1) {
    const s = readableOf(new ReadableStream(INTERNAL));
    setUpRSDC(s, defaultControllerOf(new ReadableStreamDefaultController(INTERNAL)), start, pull, cancel, hwm, sizeAlgorithm);
    return s;
  }
  function createReadableByteStream(start, pull, cancel) {
    const s = readableOf(new ReadableStream(INTERNAL));
    setUpRBSC(s, readableByteControllerOf(new ReadableByteStreamController(INTERNAL)), start, pull, cancel, 0, undefined);
    return s;
  }

  const rsLocked = (s) => s.reader !== undefined;

  function rsCancel(s, reason) {
    s.disturbed = true;
    if (s.state === "closed") return promiseResolve();
    if (s.state === "errored") return promiseReject(s.storedError);
    rsClose(s);
    const reader = s.reader;
    if (reader !== undefined && reader.byob) {
      const requests = reader.requests;
      reader.requests = [];
      for (const request of requests) request.close(undefined);
    }
    const c = s.controller;
    const sourceCancelPromise = c.byte ? rbscCancelSteps(c, reason) : rsdcCancelSteps(c, reason);
    return then(sourceCancelPromise, noop);
  }

  function rsClose(s) {
    s.state = "closed";
    const reader = s.reader;
    if (reader === undefined) return;
    reader.closed.resolve(undefined);
    if (!reader.byob) {
      const requests = reader.requests;
      reader.requests = [];
      for (const request of requests) request.close();
    }
  }

  function rsError(s, e) {
    s.state = "errored";
    s.storedError = e;
    const reader = s.reader;
    if (reader === undefined) return;
    reader.closed.reject(e);
    setHandled(reader.closed.promise);
    readerErrorRequests(reader, e);
  }

  const rsAddReadRequest = (s, request) => { s.reader.requests.push(request); };
  function rsFulfillReadRequest(s, chunk, done) {
    const request = s.reader.requests.shift();
    if (done) request.close();
    else request.chunk(chunk);
  }
  const rsNumRequests = (s) => s.reader.requests.length;
  const rsHasDefaultReader = (s) => s.reader !== undefined && !s.reader.byob;
  const rsHasBYOBReader = (s) => s.reader !== undefined && s.reader.byob;
  function rsFulfillReadIntoRequest(s, chunk, done) {
    const request = s.reader.requests.shift();
    if (done) request.close(chunk);
    else request.chunk(chunk);
  }

  // ---- Readers (§4.3, §4.4) ----
  // A reader record: { byob, stream, closed: Deferred, requests, pub }. A read request is
  // { chunk(value), close(), error(e) }; a read-into request has close(value).
  let defaultReaderOf;
  let byobReaderOf;

  function readerGenericInitialize(reader, s) {
    reader.stream = s;
    s.reader = reader;
    if (s.state === "readable") reader.closed = new Deferred();
    else if (s.state === "closed") reader.closed = resolvedDeferred(undefined);
    else reader.closed = rejectedDeferred(s.storedError);
  }

  function setUpReader(reader, stream, byob, what) {
    const s = readableOf(stream);
    if (!s) throw new TypeError(`${what}: argument 1 is not a ReadableStream`);
    if (rsLocked(s)) throw new TypeError(`${what}: Cannot create a reader for a stream that is already locked to a reader`);
    if (byob && !s.controller.byte) {
      throw new TypeError(`${what}: Cannot use a BYOB reader with a stream that is not a readable byte stream`);
    }
    readerGenericInitialize(reader, s);
    reader.requests = [];
  }

  function readerGenericRelease(reader) {
    const s = reader.stream;
    const released = new TypeError("The reader's lock on the stream was released");
    if (s.state === "readable") reader.closed.reject(released);
    else reader.closed = rejectedDeferred(released);
    setHandled(reader.closed.promise);
    if (s.controller.byte) rbscReleaseSteps(s.controller);
    s.reader = undefined;
    reader.stream = undefined;
  }

  function readerRelease(reader) {
    readerGenericRelease(reader);
    readerErrorRequests(reader, new TypeError("The reader's lock on the stream was released"));
  }

  function readerErrorRequests(reader, e) {
    const requests = reader.requests;
    reader.requests = [];
    for (const request of requests) request.error(e);
  }

  function defaultReaderRead(reader, request) {
    const s = reader.stream;
    s.disturbed = true;
    if (s.state === "closed") request.close();
    else if (s.state === "errored") request.error(s.storedError);
    else if (s.controller.byte) rbscPullSteps(s.controller, request);
    else rsdcPullSteps(s.controller, request);
  }

  function byobReaderRead(reader, view, min, request) {
    const s = reader.stream;
    s.disturbed = true;
    if (s.state === "errored") request.error(s.storedError);
    else rbscPullInto(s.controller, view, min, request);
  }

  const acquireDefaultReader = (s) => defaultReaderOf(new ReadableStreamDefaultReader(s.pub));
  const acquireBYOBReader = (s) => byobReaderOf(new ReadableStreamBYOBReader(s.pub));

  // A read request settling a promise of { value, done }.
  function readResultRequest(d) {
    return {
      chunk: (value) => d.resolve({ value, done: false }),
      close: (value) => d.resolve({ value, done: true }),
      error: (e) => d.reject(e),
    };
  }

  class ReadableStreamDefaultReader {
    #r;
    static {
      defaultReaderOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
    }
    constructor(stream) {
      const reader = (this.#r = { byob: false, stream: undefined, closed: undefined, requests: undefined, pub: this });
      setUpReader(reader, stream, false, "ReadableStreamDefaultReader constructor");
    }
    get closed() {
      const reader = defaultReaderOf(this);
      if (!reader) return promiseReject(receiverError("get closed", "ReadableStreamDefaultReader"));
      return reader.closed.promise;
    }
    cancel(reason = undefined) {
      const reader = defaultReaderOf(this);
      if (!reader) return promiseReject(receiverError("cancel", "ReadableStreamDefaultReader"));
      if (reader.stream === undefined) return promiseReject(new TypeError("ReadableStreamDefaultReader.cancel: the reader has no stream (its lock was released)"));
      return rsCancel(reader.stream, reason);
    }
    read() {
      const reader = defaultReaderOf(this);
      if (!reader) return promiseReject(receiverError("read", "ReadableStreamDefaultReader"));
      if (reader.stream === undefined) return promiseReject(new TypeError("ReadableStreamDefaultReader.read: the reader has no stream (its lock was released)"));
      const d = new Deferred();
      defaultReaderRead(reader, readResultRequest(d));
      return d.promise;
    }
    releaseLock() {
      const reader = defaultReaderOf(this);
      if (!reader) throw receiverError("releaseLock", "ReadableStreamDefaultReader");
      if (reader.stream !== undefined) readerRelease(reader);
    }
  }

  class ReadableStreamBYOBReader {
    #r;
    static {
      byobReaderOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
    }
    constructor(stream) {
      const reader = (this.#r = { byob: true, stream: undefined, closed: undefined, requests: undefined, pub: this });
      setUpReader(reader, stream, true, "ReadableStreamBYOBReader constructor");
    }
    get closed() {
      const reader = byobReaderOf(this);
      if (!reader) return promiseReject(receiverError("get closed", "ReadableStreamBYOBReader"));
      return reader.closed.promise;
    }
    cancel(reason = undefined) {
      const reader = byobReaderOf(this);
      if (!reader) return promiseReject(receiverError("cancel", "ReadableStreamBYOBReader"));
      if (reader.stream === undefined) return promiseReject(new TypeError("ReadableStreamBYOBReader.cancel: the reader has no stream (its lock was released)"));
      return rsCancel(reader.stream, reason);
    }
    read(view, options = undefined) {
      const reader = byobReaderOf(this);
      const what = "ReadableStreamBYOBReader.read";
      if (!reader) return promiseReject(receiverError("read", "ReadableStreamBYOBReader"));
      let min;
      try {
        viewType(view, `${what}: argument 1`);
        const dict = dictionary(options, `${what}: argument 2`);
        min = dict === undefined || dict.min === undefined ? 1 : enforceRange(dict.min, `${what}: 'min' member`);
      } catch (e) {
        return promiseReject(e);
      }
      if (view.byteLength === 0) return promiseReject(new TypeError(`${what}: the view must have a non-zero byteLength`));
      if (abByteLength(view.buffer) === 0) return promiseReject(new TypeError(`${what}: the view's buffer must have a non-zero byteLength`));
      if (isDetached(view.buffer)) return promiseReject(new TypeError(`${what}: the view's buffer is detached`));
      if (min === 0) return promiseReject(new TypeError(`${what}: options.min must be greater than 0`));
      const length = typedArrayName(view) === undefined ? view.byteLength : typedArrayLength(view);
      if (min > length) return promiseReject(new RangeError(`${what}: options.min (${min}) is greater than the view's length (${length})`));
      if (reader.stream === undefined) return promiseReject(new TypeError(`${what}: the reader has no stream (its lock was released)`));
      const d = new Deferred();
      byobReaderRead(reader, view, min, readResultRequest(d));
      return d.promise;
    }
    releaseLock() {
      const reader = byobReaderOf(this);
      if (!reader) throw receiverError("releaseLock", "ReadableStreamBYOBReader");
      if (reader.stream !== undefined) readerRelease(reader);
    }
  }

  // ---- ReadableStreamDefaultController (§4.6) ----
  let defaultControllerOf;

  class ReadableStreamDefaultController {
    #r;
    static {
      defaultControllerOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
    }
    constructor(key = undefined) {
      if (key !== INTERNAL) throw illegalConstructor("ReadableStreamDefaultController");
      this.#r = { byte: false, pub: this };
    }
    get desiredSize() {
      const c = defaultControllerOf(this);
      if (!c) throw receiverError("get desiredSize", "ReadableStreamDefaultController");
      return rsdcGetDesiredSize(c);
    }
    close() {
      const c = defaultControllerOf(this);
      if (!c) throw receiverError("close", "ReadableStreamDefaultController");
      if (!rsdcCanCloseOrEnqueue(c)) throw new TypeError("ReadableStreamDefaultController.close: the stream is not readable or is already closing");
      rsdcClose(c);
    }
    enqueue(chunk = undefined) {
      const c = defaultControllerOf(this);
      if (!c) throw receiverError("enqueue", "ReadableStreamDefaultController");
      if (!rsdcCanCloseOrEnqueue(c)) throw new TypeError("ReadableStreamDefaultController.enqueue: the stream is not readable or is already closing");
      rsdcEnqueue(c, chunk);
    }
    error(e = undefined) {
      const c = defaultControllerOf(this);
      if (!c) throw receiverError("error", "ReadableStreamDefaultController");
      rsdcError(c, e);
    }
  }

  function rsdcCancelSteps(c, reason) {
    resetQueue(c);
    const result = c.cancelAlgorithm(reason);
    rsdcClearAlgorithms(c);
    return result;
  }

  function rsdcPullSteps(c, request) {
    const s = c.stream;
    if (c.queue.length > 0) {
      const chunk = dequeueValue(c);
      if (c.closeRequested && c.queue.length === 0) {
        rsdcClearAlgorithms(c);
        rsClose(s);
      } else {
        rsdcCallPullIfNeeded(c);
      }
      request.chunk(chunk);
    } else {
      rsAddReadRequest(s, request);
      rsdcCallPullIfNeeded(c);
    }
  }

  function rsdcCallPullIfNeeded(c) {
    if (!rsdcShouldCallPull(c)) return;
    if (c.pulling) {
      c.pullAgain = true;
      return;
    }
    c.pulling = true;
    then(c.pullAlgorithm(), () => {
      c.pulling = false;
      if (c.pullAgain) {
        c.pullAgain = false;
        rsdcCallPullIfNeeded(c);
      }
    }, (e) => rsdcError(c, e));
  }

  function rsdcShouldCallPull(c) {
    const s = c.stream;
    if (!rsdcCanCloseOrEnqueue(c) || !c.started) return false;
    if (rsLocked(s) && rsNumRequests(s) > 0) return true;
    return rsdcGetDesiredSize(c) > 0;
  }

  function rsdcClearAlgorithms(c) {
    c.pullAlgorithm = undefined;
    c.cancelAlgorithm = undefined;
    c.strategySizeAlgorithm = undefined;
  }

  function rsdcClose(c) {
    if (!rsdcCanCloseOrEnqueue(c)) return;
    c.closeRequested = true;
    if (c.queue.length === 0) {
      rsdcClearAlgorithms(c);
      rsClose(c.stream);
    }
  }

  function rsdcEnqueue(c, chunk) {
    if (!rsdcCanCloseOrEnqueue(c)) return;
    const s = c.stream;
    if (rsLocked(s) && rsNumRequests(s) > 0) {
      rsFulfillReadRequest(s, chunk, false);
    } else {
      try {
        const size = c.strategySizeAlgorithm(chunk);
        enqueueValueWithSize(c, chunk, size);
      } catch (e) {
        rsdcError(c, e);
        throw e;
      }
    }
    rsdcCallPullIfNeeded(c);
  }

  function rsdcError(c, e) {
    const s = c.stream;
    if (s.state !== "readable") return;
    resetQueue(c);
    rsdcClearAlgorithms(c);
    rsError(s, e);
  }

  function rsdcGetDesiredSize(c) {
    const state = c.stream.state;
    if (state === "errored") return null;
    if (state === "closed") return 0;
    return c.strategyHWM - c.queueTotalSize;
  }

  const rsdcHasBackpressure = (c) => !rsdcShouldCallPull(c);
  const rsdcCanCloseOrEnqueue = (c) => !c.closeRequested && c.stream.state === "readable";

  function setUpRSDC(s, c, start, pull, cancel, hwm, sizeAlgorithm) {
    c.stream = s;
    resetQueue(c);
    c.started = c.closeRequested = c.pullAgain = c.pulling = false;
    c.strategySizeAlgorithm = sizeAlgorithm;
    c.strategyHWM = hwm;
    c.pullAlgorithm = pull;
    c.cancelAlgorithm = cancel;
    s.controller = c;
    const startResult = start();
    then(promiseResolve(startResult), () => {
      c.started = true;
      rsdcCallPullIfNeeded(c);
    }, (r) => rsdcError(c, r));
  }

  // ---- ReadableByteStreamController (§4.7) and ReadableStreamBYOBRequest (§4.8) ----
  let readableByteControllerOf;
  let byobRequestOf;

  class ReadableByteStreamController {
    #r;
    static {
      readableByteControllerOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
    }
    constructor(key = undefined) {
      if (key !== INTERNAL) throw illegalConstructor("ReadableByteStreamController");
      this.#r = { byte: true, pub: this };
    }
    get byobRequest() {
      const c = readableByteControllerOf(this);
      if (!c) throw receiverError("get byobRequest", "ReadableByteStreamController");
      const request = rbscGetBYOBRequest(c);
      return request === null ? null : request.pub;
    }
    get desiredSize() {
      const c = readableByteControllerOf(this);
      if (!c) throw receiverError("get desiredSize", "ReadableByteStreamController");
      return rbscGetDesiredSize(c);
    }
    close() {
      const c = readableByteControllerOf(this);
      const what = "ReadableByteStreamController.close";
      if (!c) throw receiverError("close", "ReadableByteStreamController");
      if (c.closeRequested) throw new TypeError(`${what}: the stream is already closing`);
      if (c.stream.state !== "readable") throw new TypeError(`${what}: the stream is not readable`);
      rbscClose(c);
    }
    enqueue(chunk) {
      const c = readableByteControllerOf(this);
      const what = "ReadableByteStreamController.enqueue";
      if (!c) throw receiverError("enqueue", "ReadableByteStreamController");
      viewType(chunk, `${what}: argument 1`);
      if (chunk.byteLength === 0) throw new TypeError(`${what}: the chunk must have a non-zero byteLength`);
      if (abByteLength(chunk.buffer) === 0) throw new TypeError(`${what}: the chunk's buffer must have a non-zero byteLength`);
      if (c.closeRequested) throw new TypeError(`${what}: the stream is already closing`);
      if (c.stream.state !== "readable") throw new TypeError(`${what}: the stream is not readable`);
      rbscEnqueue(c, chunk);
    }
    error(e = undefined) {
      const c = readableByteControllerOf(this);
      if (!c) throw receiverError("error", "ReadableByteStreamController");
      rbscError(c, e);
    }
  }

  class ReadableStreamBYOBRequest {
    #r;
    static {
      byobRequestOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
    }
    constructor(key = undefined) {
      if (key !== INTERNAL) throw illegalConstructor("ReadableStreamBYOBRequest");
      this.#r = { controller: undefined, view: null, pub: this };
    }
    get view() {
      const r = byobRequestOf(this);
      if (!r) throw receiverError("get view", "ReadableStreamBYOBRequest");
      return r.view;
    }
    respond(bytesWritten) {
      const r = byobRequestOf(this);
      const what = "ReadableStreamBYOBRequest.respond";
      if (!r) throw receiverError("respond", "ReadableStreamBYOBRequest");
      bytesWritten = enforceRange(bytesWritten, `${what}: argument 1`);
      if (r.controller === undefined) throw new TypeError(`${what}: the request was already answered or the stream released it`);
      if (isDetached(r.view.buffer)) throw new TypeError(`${what}: the view's buffer is detached`);
      rbscRespond(r.controller, bytesWritten);
    }
    respondWithNewView(view) {
      const r = byobRequestOf(this);
      const what = "ReadableStreamBYOBRequest.respondWithNewView";
      if (!r) throw receiverError("respondWithNewView", "ReadableStreamBYOBRequest");
      viewType(view, `${what}: argument 1`);
      if (r.controller === undefined) throw new TypeError(`${what}: the request was already answered or the stream released it`);
      if (isDetached(view.buffer)) throw new TypeError(`${what}: the view's buffer is detached`);
      rbscRespondWithNewView(r.controller, view);
    }
  }

  function rbscCancelSteps(c, reason) {
    rbscClearPendingPullIntos(c);
    resetQueue(c);
    const result = c.cancelAlgorithm(reason);
    rbscClearAlgorithms(c);
    return result;
  }

  function rbscPullSteps(c, request) {
    const s = c.stream;
    if (c.queueTotalSize > 0) {
      rbscFillReadRequestFromQueue(c, request);
      return;
    }
    const auto = c.autoAllocateChunkSize;
    if (auto !== undefined) {
      let buffer;
      try {
        buffer = new AB(auto);
      } catch (e) {
        request.error(e);
        return;
      }
      c.pendingPullIntos.push({
        buffer, bufferByteLength: auto, byteOffset: 0, byteLength: auto, bytesFilled: 0, minimumFill: 1,
        elementSize: 1, viewConstructor: U8, readerType: "default",
      });
    }
    rsAddReadRequest(s, request);
    rbscCallPullIfNeeded(c);
  }

  function rbscReleaseSteps(c) {
    if (c.pendingPullIntos.length > 0) {
      const first = c.pendingPullIntos[0];
      first.readerType = "none";
      c.pendingPullIntos = [first];
    }
  }

  function rbscCallPullIfNeeded(c) {
    if (!rbscShouldCallPull(c)) return;
    if (c.pulling) {
      c.pullAgain = true;
      return;
    }
    c.pulling = true;
    then(c.pullAlgorithm(), () => {
      c.pulling = false;
      if (c.pullAgain) {
        c.pullAgain = false;
        rbscCallPullIfNeeded(c);
      }
    }, (e) => rbscError(c, e));
  }

  function rbscShouldCallPull(c) {
    const s = c.stream;
    if (s.state !== "readable" || c.closeRequested || !c.started) return false;
    if (s.reader !== undefined && rsNumRequests(s) > 0) return true;
    return rbscGetDesiredSize(c) > 0;
  }

  function rbscClearAlgorithms(c) {
    c.pullAlgorithm = undefined;
    c.cancelAlgorithm = undefined;
  }

  function rbscClearPendingPullIntos(c) {
    rbscInvalidateBYOBRequest(c);
    c.pendingPullIntos = [];
  }

  function rbscClose(c) {
    const s = c.stream;
    if (c.closeRequested || s.state !== "readable") return;
    if (c.queueTotalSize > 0) {
      c.closeRequested = true;
      return;
    }
    if (c.pendingPullIntos.length > 0) {
      const first = c.pendingPullIntos[0];
      if (first.bytesFilled % first.elementSize !== 0) {
        const e = new TypeError("Cannot close a byte stream that has a partially filled view pending (not a whole element)");
        rbscError(c, e);
        throw e;
      }
    }
    rbscClearAlgorithms(c);
    rsClose(s);
  }

  function rbscEnqueue(c, chunk) {
    const s = c.stream;
    if (c.closeRequested || s.state !== "readable") return;
    const { buffer, byteOffset, byteLength } = chunk;
    if (isDetached(buffer)) throw new TypeError("ReadableByteStreamController.enqueue: the chunk's buffer is detached");
    const transferred = transferBuffer(buffer);
    if (c.pendingPullIntos.length > 0) {
      const first = c.pendingPullIntos[0];
      if (isDetached(first.buffer)) throw new TypeError("ReadableByteStreamController.enqueue: the pending BYOB request's buffer is detached");
      rbscInvalidateBYOBRequest(c);
      first.buffer = transferBuffer(first.buffer);
      if (first.readerType === "none") rbscEnqueueDetachedPullIntoToQueue(c, first);
    }
    if (rsHasDefaultReader(s)) {
      rbscProcessReadRequestsUsingQueue(c);
      if (rsNumRequests(s) === 0) {
        rbscEnqueueChunkToQueue(c, transferred, byteOffset, byteLength);
      } else {
        if (c.pendingPullIntos.length > 0) rbscShiftPendingPullInto(c);
        rsFulfillReadRequest(s, new U8(transferred, byteOffset, byteLength), false);
      }
    } else if (rsHasBYOBReader(s)) {
      rbscEnqueueChunkToQueue(c, transferred, byteOffset, byteLength);
      for (const filled of rbscProcessPullIntoDescriptorsUsingQueue(c)) rbscCommitPullIntoDescriptor(s, filled);
    } else {
      rbscEnqueueChunkToQueue(c, transferred, byteOffset, byteLength);
    }
    rbscCallPullIfNeeded(c);
  }

  function rbscEnqueueChunkToQueue(c, buffer, byteOffset, byteLength) {
    c.queue.push({ buffer, byteOffset, byteLength });
    c.queueTotalSize += byteLength;
  }

  function rbscEnqueueClonedChunkToQueue(c, buffer, byteOffset, byteLength) {
    let clone;
    try {
      clone = buffer.slice(byteOffset, byteOffset + byteLength);
    } catch (e) {
      rbscError(c, e);
      throw e;
    }
    rbscEnqueueChunkToQueue(c, clone, 0, byteLength);
  }

  function rbscEnqueueDetachedPullIntoToQueue(c, pullInto) {
    if (pullInto.bytesFilled > 0) rbscEnqueueClonedChunkToQueue(c, pullInto.buffer, pullInto.byteOffset, pullInto.bytesFilled);
    rbscShiftPendingPullInto(c);
  }

  function rbscError(c, e) {
    const s = c.stream;
    if (s.state !== "readable") return;
    rbscClearPendingPullIntos(c);
    resetQueue(c);
    rbscClearAlgorithms(c);
    rsError(s, e);
  }

  function rbscFillHeadPullIntoDescriptor(c, size, pullInto) {
    pullInto.bytesFilled += size;
  }

  function rbscFillPullIntoDescriptorFromQueue(c, pullInto) {
    const maxBytesToCopy = Math.min(c.queueTotalSize, pullInto.byteLength - pullInto.bytesFilled);
    const maxBytesFilled = pullInto.bytesFilled + maxBytesToCopy;
    let totalBytesToCopyRemaining = maxBytesToCopy;
    let ready = false;
    const maxAlignedBytes = maxBytesFilled - (maxBytesFilled % pullInto.elementSize);
    if (maxAlignedBytes >= pullInto.minimumFill) {
      totalBytesToCopyRemaining = maxAlignedBytes - pullInto.bytesFilled;
      ready = true;
    }
    const queue = c.queue;
    while (totalBytesToCopyRemaining > 0) {
      const head = queue[0];
      const bytesToCopy = Math.min(totalBytesToCopyRemaining, head.byteLength);
      const destStart = pullInto.byteOffset + pullInto.bytesFilled;
      copyBytes(pullInto.buffer, destStart, head.buffer, head.byteOffset, bytesToCopy);
      if (head.byteLength === bytesToCopy) {
        queue.shift();
      } else {
        head.byteOffset += bytesToCopy;
        head.byteLength -= bytesToCopy;
      }
      c.queueTotalSize -= bytesToCopy;
      rbscFillHeadPullIntoDescriptor(c, bytesToCopy, pullInto);
      totalBytesToCopyRemaining -= bytesToCopy;
    }
    return ready;
  }

  function rbscFillReadRequestFromQueue(c, request) {
    const entry = c.queue.shift();
    c.queueTotalSize -= entry.byteLength;
    rbscHandleQueueDrain(c);
    request.chunk(new U8(entry.buffer, entry.byteOffset, entry.byteLength));
  }

  function rbscGetBYOBRequest(c) {
    if (c.byobRequest === null && c.pendingPullIntos.length > 0) {
      const first = c.pendingPullIntos[0];
      const view = new U8(first.buffer, first.byteOffset + first.bytesFilled, first.byteLength - first.bytesFilled);
      const request = byobRequestOf(new ReadableStreamBYOBRequest(INTERNAL));
      request.controller = c;
      request.view = view;
      c.byobRequest = request;
    }
    return c.byobRequest;
  }

  function rbscGetDesiredSize(c) {
    const state = c.stream.state;
    if (state === "errored") return null;
    if (state === "closed") return 0;
    return c.strategyHWM - c.queueTotalSize;
  }

  function rbscHandleQueueDrain(c) {
    if (c.queueTotalSize === 0 && c.closeRequested) {
      rbscClearAlgorithms(c);
      rsClose(c.stream);
    } else {
      rbscCallPullIfNeeded(c);
    }
  }

  function rbscInvalidateBYOBRequest(c) {
    if (c.byobRequest === null) return;
    c.byobRequest.controller = undefined;
    c.byobRequest.view = null;
    c.byobRequest = null;
  }

  function rbscProcessPullIntoDescriptorsUsingQueue(c) {
    const filled = [];
    while (c.pendingPullIntos.length > 0) {
      if (c.queueTotalSize === 0) break;
      const pullInto = c.pendingPullIntos[0];
      if (rbscFillPullIntoDescriptorFromQueue(c, pullInto)) {
        rbscShiftPendingPullInto(c);
        filled.push(pullInto);
      }
    }
    return filled;
  }

  function rbscProcessReadRequestsUsingQueue(c) {
    const reader = c.stream.reader;
    while (reader.requests.length > 0) {
      if (c.queueTotalSize === 0) return;
      rbscFillReadRequestFromQueue(c, reader.requests.shift());
    }
  }

  function rbscPullInto(c, view, min, request) {
    const s = c.stream;
    const { ctor, elementSize } = viewKind(view);
    const minimumFill = min * elementSize;
    const byteOffset = view.byteOffset;
    const byteLength = view.byteLength;
    let buffer;
    try {
      buffer = transferBuffer(view.buffer);
    } catch (e) {
      request.error(e);
      return;
    }
    const pullInto = {
      buffer, bufferByteLength: abByteLength(buffer), byteOffset, byteLength, bytesFilled: 0, minimumFill,
      elementSize, viewConstructor: ctor, readerType: "byob",
    };
    if (c.pendingPullIntos.length > 0) {
      c.pendingPullIntos.push(pullInto);
      rsAddReadRequest(s, request);
      return;
    }
    if (s.state === "closed") {
      request.close(new ctor(buffer, byteOffset, 0));
      return;
    }
    if (c.queueTotalSize > 0) {
      if (rbscFillPullIntoDescriptorFromQueue(c, pullInto)) {
        const filledView = rbscConvertPullIntoDescriptor(pullInto);
        rbscHandleQueueDrain(c);
        request.chunk(filledView);
        return;
      }
      if (c.closeRequested) {
        const e = new TypeError("Cannot read from a byte stream that is closing with fewer bytes left than the read needs");
        rbscError(c, e);
        request.error(e);
        return;
      }
    }
    c.pendingPullIntos.push(pullInto);
    rsAddReadRequest(s, request);
    rbscCallPullIfNeeded(c);
  }

  function rbscConvertPullIntoDescriptor(pullInto) {
    const buffer = transferBuffer(pullInto.buffer);
    return new pullInto.viewConstructor(buffer, pullInto.byteOffset, pullInto.bytesFilled / pullInto.elementSize);
  }

  function rbscRespond(c, bytesWritten) {
    const first = c.pendingPullIntos[0];
    const what = "ReadableStreamBYOBRequest.respond";
    if (c.stream.state === "closed") {
      if (bytesWritten !== 0) throw new TypeError(`${what}: bytesWritten must be 0 when the stream is closed`);
    } else {
      if (bytesWritten === 0) throw new TypeError(`${what}: bytesWritten must be greater than 0 while the stream is readable`);
      if (first.bytesFilled + bytesWritten > first.byteLength) {
        throw new RangeError(`${what}: bytesWritten (${bytesWritten}) is larger than the view's remaining ${first.byteLength - first.bytesFilled} bytes`);
      }
    }
    first.buffer = transferBuffer(first.buffer);
    rbscRespondInternal(c, bytesWritten);
  }

  function rbscRespondInClosedState(c, first) {
    if (first.readerType === "none") rbscShiftPendingPullInto(c);
    const s = c.stream;
    if (rsHasBYOBReader(s)) {
      const filled = [];
      while (filled.length < rsNumRequests(s)) filled.push(rbscShiftPendingPullInto(c));
      for (const pullInto of filled) rbscCommitPullIntoDescriptor(s, pullInto);
    }
  }

  function rbscRespondInReadableState(c, bytesWritten, pullInto) {
    rbscFillHeadPullIntoDescriptor(c, bytesWritten, pullInto);
    if (pullInto.readerType === "none") {
      rbscEnqueueDetachedPullIntoToQueue(c, pullInto);
      for (const filled of rbscProcessPullIntoDescriptorsUsingQueue(c)) rbscCommitPullIntoDescriptor(c.stream, filled);
      return;
    }
    if (pullInto.bytesFilled < pullInto.minimumFill) return;
    rbscShiftPendingPullInto(c);
    const remainderSize = pullInto.bytesFilled % pullInto.elementSize;
    if (remainderSize > 0) {
      const end = pullInto.byteOffset + pullInto.bytesFilled;
      rbscEnqueueClonedChunkToQueue(c, pullInto.buffer, end - remainderSize, remainderSize);
    }
    pullInto.bytesFilled -= remainderSize;
    const filledPullIntos = rbscProcessPullIntoDescriptorsUsingQueue(c);
    rbscCommitPullIntoDescriptor(c.stream, pullInto);
    for (const filled of filledPullIntos) rbscCommitPullIntoDescriptor(c.stream, filled);
  }

  function rbscRespondInternal(c, bytesWritten) {
    const first = c.pendingPullIntos[0];
    rbscInvalidateBYOBRequest(c);
    if (c.stream.state === "closed") rbscRespondInClosedState(c, first);
    else rbscRespondInReadableState(c, bytesWritten, first);
    rbscCallPullIfNeeded(c);
  }

  function rbscRespondWithNewView(c, view) {
    const first = c.pendingPullIntos[0];
    const what = "ReadableStreamBYOBRequest.respondWithNewView";
    if (c.stream.state === "closed") {
      if (view.byteLength !== 0) throw new TypeError(`${what}: the view must be empty when the stream is closed`);
    } else if (view.byteLength === 0) {
      throw new TypeError(`${what}: the view must not be empty while the stream is readable`);
    }
    if (first.byteOffset + first.bytesFilled !== view.byteOffset) {
      throw new RangeError(`${what}: the view's byteOffset does not match the request's`);
    }
    if (first.bufferByteLength !== abByteLength(view.buffer)) {
      throw new RangeError(`${what}: the view's buffer has a different byteLength than the request's`);
    }
    if (first.bytesFilled + view.byteLength > first.byteLength) {
      throw new RangeError(`${what}: the view is larger than the request's remaining bytes`);
    }
    const viewByteLength = view.byteLength;
    first.buffer = transferBuffer(view.buffer);
    rbscRespondInternal(c, viewByteLength);
  }

  const rbscShiftPendingPullInto = (c) => c.pendingPullIntos.shift();

  function rbscCommitPullIntoDescriptor(s, pullInto) {
    const done = s.state === "closed";
    const filledView = rbscConvertPullIntoDescriptor(pullInto);
    if (pullInto.readerType === "default") rsFulfillReadRequest(s, filledView, done);
    else rsFulfillReadIntoRequest(s, filledView, done);
  }

  function setUpRBSC(s, c, start, pull, cancel, hwm, autoAllocateChunkSize) {
    c.stream = s;
    c.pullAgain = c.pulling = false;
    c.byobRequest = null;
    resetQueue(c);
    c.closeRequested = c.started = false;
    c.strategyHWM = hwm;
    c.pullAlgorithm = pull;
    c.cancelAlgorithm = cancel;
    c.autoAllocateChunkSize = autoAllocateChunkSize;
    c.pendingPullIntos = [];
    s.controller = c;
    const startResult = start();
    then(promiseResolve(startResult), () => {
      c.started = true;
      rbscCallPullIfNeeded(c);
    }, (r) => rbscError(c, r));
  }

  // ---- Tee (§4.9.1) ----
  function rsTee(s) {
    return s.controller.byte ? rbsTee(s) : rsDefaultTee(s);
  }

  function rsDefaultTee(s) {
    const reader = acquireDefaultReader(s);
    let reading = false;
    let readAgain = false;
    let canceled1 = false;
    let canceled2 = false;
    let reason1;
    let reason2;
    const cancelPromise = new Deferred();
    const readRequest = {
      chunk: (chunk) => enqueueMicrotask(() => {
        readAgain = false;
        if (!canceled1) rsdcEnqueue(branch1.controller, chunk);
        if (!canceled2) rsdcEnqueue(branch2.controller, chunk);
        reading = false;
        if (readAgain) pullAlgorithm();
      }),
      close: () => {
        reading = false;
        if (!canceled1) rsdcClose(branch1.controller);
        if (!canceled2) rsdcClose(branch2.controller);
        if (!canceled1 || !canceled2) cancelPromise.resolve(undefined);
      },
      error: () => { reading = false; },
    };
    function pullAlgorithm() {
      if (reading) {
        readAgain = true;
        return promiseResolve();
      }
      reading = true;
      defaultReaderRead(reader, readRequest);
      return promiseResolve();
    }
    const cancel = (second) => (reason) => {
      if (second) {
        canceled2 = true;
        reason2 = reason;
      } else {
        canceled1 = true;
        reason1 = reason;
      }
      if (canceled1 && canceled2) cancelPromise.resolve(rsCancel(s, [reason1, reason2]));
      return cancelPromise.promise;
    };
    const branch1 = createReadable(noop, pullAlgorithm, cancel(false));
    const branch2 = createReadable(noop, pullAlgorithm, cancel(true));
    then(reader.closed.promise, undefined, (r) => {
      rsdcError(branch1.controller, r);
      rsdcError(branch2.controller, r);
      if (!canceled1 || !canceled2) cancelPromise.resolve(undefined);
    });
    return [branch1, branch2];
  }

  function rbsTee(s) {
    let reader = acquireDefaultReader(s);
    let reading = false;
    let readAgainForBranch1 = false;
    let readAgainForBranch2 = false;
    let canceled1 = false;
    let canceled2 = false;
    let reason1;
    let reason2;
    const cancelPromise = new Deferred();
    function forwardReaderError(thisReader) {
      then(thisReader.closed.promise, undefined, (r) => {
        if (thisReader !== reader) return;
        rbscError(branch1.controller, r);
        rbscError(branch2.controller, r);
        if (!canceled1 || !canceled2) cancelPromise.resolve(undefined);
      });
    }
    function afterChunk() {
      reading = false;
      if (readAgainForBranch1) pull1Algorithm();
      else if (readAgainForBranch2) pull2Algorithm();
    }
    function pullWithDefaultReader() {
      if (reader.byob) {
        readerRelease(reader);
        reader = acquireDefaultReader(s);
        forwardReaderError(reader);
      }
      defaultReaderRead(reader, {
        chunk: (chunk) => enqueueMicrotask(() => {
          readAgainForBranch1 = false;
          readAgainForBranch2 = false;
          let chunk2 = chunk;
          if (!canceled1 && !canceled2) {
            try {
              chunk2 = cloneAsUint8Array(chunk);
            } catch (e) {
              rbscError(branch1.controller, e);
              rbscError(branch2.controller, e);
              cancelPromise.resolve(rsCancel(s, e));
              return;
            }
          }
          if (!canceled1) rbscEnqueue(branch1.controller, chunk);
          if (!canceled2) rbscEnqueue(branch2.controller, chunk2);
          afterChunk();
        }),
        close: () => {
          reading = false;
          if (!canceled1) rbscClose(branch1.controller);
          if (!canceled2) rbscClose(branch2.controller);
          if (branch1.controller.pendingPullIntos.length > 0) rbscRespond(branch1.controller, 0);
          if (branch2.controller.pendingPullIntos.length > 0) rbscRespond(branch2.controller, 0);
          if (!canceled1 || !canceled2) cancelPromise.resolve(undefined);
        },
        error: () => { reading = false; },
      });
    }
    function pullWithBYOBReader(view, forBranch2) {
      if (!reader.byob) {
        readerRelease(reader);
        reader = acquireBYOBReader(s);
        forwardReaderError(reader);
      }
      const byobBranch = forBranch2 ? branch2 : branch1;
      const otherBranch = forBranch2 ? branch1 : branch2;
      byobReaderRead(reader, view, 1, {
        chunk: (chunk) => enqueueMicrotask(() => {
          readAgainForBranch1 = false;
          readAgainForBranch2 = false;
          const byobCanceled = forBranch2 ? canceled2 : canceled1;
          const otherCanceled = forBranch2 ? canceled1 : canceled2;
          if (!otherCanceled) {
            let cloned;
            try {
              cloned = cloneAsUint8Array(chunk);
            } catch (e) {
              rbscError(byobBranch.controller, e);
              rbscError(otherBranch.controller, e);
              cancelPromise.resolve(rsCancel(s, e));
              return;
            }
            if (!byobCanceled) rbscRespondWithNewView(byobBranch.controller, chunk);
            rbscEnqueue(otherBranch.controller, cloned);
          } else if (!byobCanceled) {
            rbscRespondWithNewView(byobBranch.controller, chunk);
          }
          afterChunk();
        }),
        close: (chunk) => {
          reading = false;
          const byobCanceled = forBranch2 ? canceled2 : canceled1;
          const otherCanceled = forBranch2 ? canceled1 : canceled2;
          if (!byobCanceled) rbscClose(byobBranch.controller);
          if (!otherCanceled) rbscClose(otherBranch.controller);
          if (chunk !== undefined) {
            if (!byobCanceled) rbscRespondWithNewView(byobBranch.controller, chunk);
            if (!otherCanceled && otherBranch.controller.pendingPullIntos.length > 0) rbscRespond(otherBranch.controller, 0);
          }
          if (!byobCanceled || !otherCanceled) cancelPromise.resolve(undefined);
        },
        error: () => { reading = false; },
      });
    }
    function pull1Algorithm() {
      if (reading) {
        readAgainForBranch1 = true;
        return promiseResolve();
      }
      reading = true;
      const byobRequest = rbscGetBYOBRequest(branch1.controller);
      if (byobRequest === null) pullWithDefaultReader();
      else pullWithBYOBReader(byobRequest.view, false);
      return promiseResolve();
    }
    function pull2Algorithm() {
      if (reading) {
        readAgainForBranch2 = true;
        return promiseResolve();
      }
      reading = true;
      const byobRequest = rbscGetBYOBRequest(branch2.controller);
      if (byobRequest === null) pullWithDefaultReader();
      else pullWithBYOBReader(byobRequest.view, true);
      return promiseResolve();
    }
    const cancel = (second) => (reason) => {
      if (second) {
        canceled2 = true;
        reason2 = reason;
      } else {
        canceled1 = true;
        reason1 = reason;
      }
      if (canceled1 && canceled2) cancelPromise.resolve(rsCancel(s, [reason1, reason2]));
      return cancelPromise.promise;
    };
    const branch1 = createReadableByteStream(noop, pull1Algorithm, cancel(false));
    const branch2 = createReadableByteStream(noop, pull2Algorithm, cancel(true));
    forwardReaderError(reader);
    return [branch1, branch2];
  }

  // No async iteration (`values`, `[Symbol.asyncIterator]`) and no `ReadableStream.from`:
  // js-compute 3.46's streams (StarlingMonkey's) have neither, so an app that used them
  // would work here and fail on Compute.

  // ---- Web IDL shape: enumerable members, @@toStringTag ----
  // The classes StarlingMonkey (js-compute 3.46) gives no @@toStringTag: `String(reader)` is
  // `[object Object]` there, so here too.
  const UNTAGGED = new Set([
    "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "ReadableStreamBYOBRequest",
    "ReadableStreamDefaultController", "ReadableByteStreamController",
    "WritableStream", "TransformStream",
  ]);
  function webIDLInterfaces(interfaces) {
    for (const name of Object.keys(interfaces)) {
      const ctor = interfaces[name];
      for (const target of [ctor, ctor.prototype]) {
        for (const key of Reflect.ownKeys(target)) {
          if (key === "constructor" || key === "prototype" || key === "length" || key === "name") continue;
          defineProperty(target, key, { enumerable: true });
        }
      }
      if (!UNTAGGED.has(name)) {
        defineProperty(ctor.prototype, Symbol.toStringTag, { value: name, configurable: true });
      }
    }
    return interfaces;
  }
  const interfaces = webIDLInterfaces({
    ReadableStream, ReadableStreamDefaultReader, ReadableStreamBYOBReader, ReadableStreamDefaultController,
    ReadableByteStreamController, ReadableStreamBYOBRequest, ByteLengthQueuingStrategy, CountQueuingStrategy,
  });

  // ---- What the host (Rust) uses; see runtime/engine/src/js_lib.rs ----
  // A readable byte stream whose chunks come from the host: pull() returns a promise of a
  // Uint8Array, or of null at the end; cancel(reason) is optional.
  function createHostReadable(pull, cancel) {
    const s = readableOf(new ReadableStream(INTERNAL));
    s.host = { pull, cancel };
    const c = readableByteControllerOf(new ReadableByteStreamController(INTERNAL));
    const pullStep = () => then(promiseResolve(pull()), (chunk) => {
      if (c.closeRequested || s.state !== "readable") return undefined;
      if (chunk === null || chunk === undefined) {
        rbscClose(c);
        if (c.pendingPullIntos.length > 0) rbscRespond(c, 0);
        return undefined;
      }
      if (!(chunk instanceof U8)) throw new TypeError("A host stream produced a chunk that is not a Uint8Array");
      if (chunk.byteLength === 0) return pullStep();
      rbscEnqueue(c, chunk);
      return undefined;
    });
    const pullAlgorithm = () => {
      try {
        return pullStep();
      } catch (e) {
        return promiseReject(e);
      }
    };
    const cancelAlgorithm = cancel === undefined || cancel === null
      ? () => promiseResolve()
      : (reason) => {
        try {
          return promiseResolve(cancel(reason));
        } catch (e) {
          return promiseReject(e);
        }
      };
    setUpRBSC(s, c, noop, pullAlgorithm, cancelAlgorithm, 0, undefined);
    return s.pub;
  }

  // A readable byte stream of one chunk; the chunk's buffer is transferred. The host made it
  // (a body given as bytes), so isHostStream() is true, as for a platform body.
  function fromBytes(bytes) {
    const s = createReadableByteStream(noop, () => promiseResolve(), () => promiseResolve());
    s.host = { bytes: true };
    if (bytes.byteLength > 0) rbscEnqueue(s.controller, bytes);
    rbscClose(s.controller);
    return s.pub;
  }

  function concatChunks(chunks, total) {
    if (chunks.length === 1) return chunks[0];
    const out = new U8(total);
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }

  const notBytes = () => new TypeError("The stream produced a chunk that is not a Uint8Array");

  // Reads the stream to its end; a promise of all its bytes in one Uint8Array.
  function readAll(stream) {
    const s = readableOf(stream);
    if (!s) return promiseReject(new TypeError("readAll: not a ReadableStream"));
    let reader;
    try {
      reader = acquireDefaultReader(s);
    } catch (e) {
      return promiseReject(e);
    }
    const chunks = [];
    let total = 0;
    const done = new Deferred();
    // Chunks already queued arrive synchronously: loop rather than recurse.
    const pump = () => {
      for (;;) {
        let sync = true;
        let again = false;
        defaultReaderRead(reader, {
          chunk: (chunk) => {
            if (!(chunk instanceof U8)) {
              const e = notBytes();
              rsCancel(s, e);
              done.reject(e);
              return;
            }
            chunks.push(chunk);
            total += chunk.byteLength;
            if (sync) again = true;
            else pump();
          },
          close: () => done.resolve(concatChunks(chunks, total)),
          error: (e) => done.reject(e),
        });
        sync = false;
        if (!again) return;
      }
    };
    pump();
    return done.promise;
  }

  // Locks the stream; read() is a promise of the next Uint8Array, or of null at the end.
  function createByteReader(stream) {
    const s = readableOf(stream);
    if (!s) throw new TypeError("createByteReader: not a ReadableStream");
    const reader = acquireDefaultReader(s);
    return {
      read() {
        if (reader.stream === undefined) return promiseReject(new TypeError("The reader was released"));
        const d = new Deferred();
        defaultReaderRead(reader, {
          chunk: (chunk) => {
            if (chunk instanceof U8) {
              d.resolve(chunk);
            } else {
              const e = notBytes();
              rsCancel(s, e);
              d.reject(e);
            }
          },
          close: () => d.resolve(null),
          error: (e) => d.reject(e),
        });
        return d.promise;
      },
      cancel(reason) {
        if (reader.stream === undefined) return promiseResolve();
        return rsCancel(s, reason);
      },
      release() {
        if (reader.stream !== undefined) readerRelease(reader);
      },
    };
  }

  const internal = {
    createHostReadable,
    fromBytes,
    readAll,
    createByteReader,
    isReadableStream: (x) => readableOf(x) !== undefined,
    isHostStream: (x) => { const s = readableOf(x); return s !== undefined && s.host !== undefined; },
    isDisturbed: (x) => { const s = readableOf(x); return s !== undefined && s.disturbed; },
    isLocked: (x) => { const s = readableOf(x); return s !== undefined && rsLocked(s); },
    isDisturbedOrLocked: (x) => { const s = readableOf(x); return s !== undefined && (s.disturbed || rsLocked(s)); },
    tee: (x) => rsTee(readableOf(x)).map((b) => b.pub),
    cancel: (x, reason) => rsCancel(readableOf(x), reason),
    // For streams-writable.js.
    shared: {
      then, promiseResolve, promiseReject, apply, noop, isObject, Deferred, resolvedDeferred, rejectedDeferred,
      setHandled, receiverError, illegalConstructor, invokePromise, dictionary, callbackMember, strategyDict,
      extractHighWaterMark, extractSizeAlgorithm, dequeueValue, enqueueValueWithSize, resetQueue, webIDLInterfaces,
      readableOf, createReadable, rsdcEnqueue, rsdcClose, rsdcError, rsdcCanCloseOrEnqueue, rsdcGetDesiredSize,
      rsdcHasBackpressure, acquireDefaultReader, defaultReaderRead, readerRelease, rsCancel,
    },
  };

  return { globals: interfaces, internal };
})
