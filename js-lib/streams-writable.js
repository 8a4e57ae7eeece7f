// The WHATWG Streams standard (https://streams.spec.whatwg.org/), writable half:
// WritableStream (§5), TransformStream (§6), piping (ReadableStreamPipeTo, §4.9.2), and the
// compression streams (https://compression.spec.whatwg.org/).
// Built on the readable half (streams.js) through its `internal.shared`; see streams.js for
// how the code is organized (ws* WritableStream, wsdw* writer, wsdc* writable controller,
// ts* TransformStream, tsdc* its controller).
(function (host) {
  "use strict";

  const {
    then, promiseResolve, promiseReject, apply, noop, isObject, Deferred, resolvedDeferred, rejectedDeferred,
    setHandled, receiverError, illegalConstructor, invokePromise, dictionary, callbackMember, strategyDict,
    extractHighWaterMark, extractSizeAlgorithm, dequeueValue, enqueueValueWithSize, resetQueue, webIDLInterfaces,
    createReadable, rsdcEnqueue, rsdcClose, rsdcError, rsdcCanCloseOrEnqueue, rsdcGetDesiredSize,
    rsdcHasBackpressure, acquireDefaultReader, defaultReaderRead, readerRelease, rsCancel,
  } = host.require("streams").shared;
  const P = Promise;
  const U8 = Uint8Array;
  const AB = ArrayBuffer;
  const isView = AB.isView;
  const INTERNAL = Symbol("internal");

  // The spec's "AbortError" DOMException, or a TypeError where DOMException is missing.
  function abortError(message) {
    return typeof DOMException === "function" ? new DOMException(message, "AbortError") : new TypeError(message);
  }

  // ---- WritableStream (§5.2) ----
  let writableOf;
  const newWritable = (pub) => ({
    state: "writable", storedError: undefined, writer: undefined, controller: undefined,
    inFlightWriteRequest: undefined, closeRequest: undefined, inFlightCloseRequest: undefined,
    pendingAbortRequest: undefined, writeRequests: [], backpressure: false, pub,
  });

  class WritableStream {
    #r;
    static {
      writableOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
    }
    constructor(underlyingSink = undefined, strategy = undefined) {
      if (underlyingSink === INTERNAL) {
        this.#r = newWritable(this);
        return;
      }
      const what = "WritableStream constructor";
      if (underlyingSink === undefined) underlyingSink = null;
      else if (!isObject(underlyingSink)) throw new TypeError(`${what}: the underlying sink must be an object`);
      const strat = strategyDict(strategy, what);
      // The UnderlyingSink dictionary, its members in lexicographic order.
      const sink = dictionary(underlyingSink, `${what}: the underlying sink`);
      const src = `${what}: the underlying sink`;
      const abort = callbackMember(sink, "abort", src);
      const close = callbackMember(sink, "close", src);
      const start = callbackMember(sink, "start", src);
      const type = sink === undefined ? undefined : sink.type;
      const write = callbackMember(sink, "write", src);
      if (type !== undefined) throw new RangeError(`${what}: the underlying sink's type must be undefined`);
      const s = (this.#r = newWritable(this));
      const sizeAlgorithm = extractSizeAlgorithm(strat);
      const hwm = extractHighWaterMark(strat, 1, what);
      const c = new WritableStreamDefaultController(INTERNAL);
      setUpWSDC(s, writableControllerOf(c),
        start ? () => apply(start, underlyingSink, [c]) : noop,
        write ? (chunk) => invokePromise(write, underlyingSink, [chunk, c]) : () => promiseResolve(),
        close ? () => invokePromise(close, underlyingSink, []) : () => promiseResolve(),
        abort ? (reason) => invokePromise(abort, underlyingSink, [reason]) : () => promiseResolve(),
        hwm, sizeAlgorithm);
    }
    get locked() {
      const s = writableOf(this);
      if (!s) throw receiverError("get locked", "WritableStream");
      return wsLocked(s);
    }
    abort(reason = undefined) {
      const s = writableOf(this);
      if (!s) return promiseReject(receiverError("abort", "WritableStream"));
      if (wsLocked(s)) return promiseReject(new TypeError("WritableStream.abort: Cannot abort a stream that is locked to a writer"));
      return wsAbort(s, reason);
    }
    close() {
      const s = writableOf(this);
      if (!s) return promiseReject(receiverError("close", "WritableStream"));
      if (wsLocked(s)) return promiseReject(new TypeError("WritableStream.close: Cannot close a stream that is locked to a writer"));
      if (wsCloseQueuedOrInFlight(s)) return promiseReject(new TypeError("WritableStream.close: the stream is already closing"));
      return wsClose(s);
    }
    getWriter() {
      const s = writableOf(this);
      if (!s) throw receiverError("getWriter", "WritableStream");
      return acquireWriter(s).pub;
    }
  }

  const acquireWriter = (s) => writerOf(new WritableStreamDefaultWriter(s.pub));

  function createWritable(start, write, close, abort, hwm, sizeAlgorithm) {
    const s = writableOf(new WritableStream(INTERNAL));
    setUpWSDC(s, writableControllerOf(new WritableStreamDefaultController(INTERNAL)), start, write, close, abort, hwm, sizeAlgorithm);
    return s;
  }

  const wsLocked = (s) => s.writer !== undefined;

  function wsAbort(s, reason) {
    if (s.state === "closed" || s.state === "errored") return promiseResolve();
    const abortController = s.controller.abortController;
    if (abortController !== undefined) abortController.abort(reason);
    if (s.state === "closed" || s.state === "errored") return promiseResolve();
    if (s.pendingAbortRequest !== undefined) return s.pendingAbortRequest.promise.promise;
    let wasAlreadyErroring = false;
    if (s.state === "erroring") {
      wasAlreadyErroring = true;
      reason = undefined;
    }
    const promise = new Deferred();
    s.pendingAbortRequest = { promise, reason, wasAlreadyErroring };
    if (!wasAlreadyErroring) wsStartErroring(s, reason);
    return promise.promise;
  }

  function wsClose(s) {
    if (s.state === "closed" || s.state === "errored") {
      return promiseReject(new TypeError(`Cannot close a WritableStream that is ${s.state}`));
    }
    const promise = new Deferred();
    s.closeRequest = promise;
    const writer = s.writer;
    if (writer !== undefined && s.backpressure && s.state === "writable") writer.ready.resolve(undefined);
    wsdcClose(s.controller);
    return promise.promise;
  }

  function wsAddWriteRequest(s) {
    const promise = new Deferred();
    s.writeRequests.push(promise);
    return promise.promise;
  }

  const wsCloseQueuedOrInFlight = (s) => s.closeRequest !== undefined || s.inFlightCloseRequest !== undefined;
  const wsHasOperationMarkedInFlight = (s) => s.inFlightWriteRequest !== undefined || s.inFlightCloseRequest !== undefined;

  function wsDealWithRejection(s, error) {
    if (s.state === "writable") wsStartErroring(s, error);
    else wsFinishErroring(s);
  }

  function wsFinishErroring(s) {
    s.state = "errored";
    resetQueue(s.controller);
    const storedError = s.storedError;
    for (const request of s.writeRequests) request.reject(storedError);
    s.writeRequests = [];
    if (s.pendingAbortRequest === undefined) {
      wsRejectCloseAndClosedPromiseIfNeeded(s);
      return;
    }
    const abortRequest = s.pendingAbortRequest;
    s.pendingAbortRequest = undefined;
    if (abortRequest.wasAlreadyErroring) {
      abortRequest.promise.reject(storedError);
      wsRejectCloseAndClosedPromiseIfNeeded(s);
      return;
    }
    const c = s.controller;
    const promise = c.abortAlgorithm(abortRequest.reason);
    wsdcClearAlgorithms(c);
    then(promise, () => {
      abortRequest.promise.resolve(undefined);
      wsRejectCloseAndClosedPromiseIfNeeded(s);
    }, (reason) => {
      abortRequest.promise.reject(reason);
      wsRejectCloseAndClosedPromiseIfNeeded(s);
    });
  }

  function wsFinishInFlightClose(s) {
    s.inFlightCloseRequest.resolve(undefined);
    s.inFlightCloseRequest = undefined;
    if (s.state === "erroring") {
      s.storedError = undefined;
      if (s.pendingAbortRequest !== undefined) {
        s.pendingAbortRequest.promise.resolve(undefined);
        s.pendingAbortRequest = undefined;
      }
    }
    s.state = "closed";
    if (s.writer !== undefined) s.writer.closed.resolve(undefined);
  }

  function wsFinishInFlightCloseWithError(s, error) {
    s.inFlightCloseRequest.reject(error);
    s.inFlightCloseRequest = undefined;
    if (s.pendingAbortRequest !== undefined) {
      s.pendingAbortRequest.promise.reject(error);
      s.pendingAbortRequest = undefined;
    }
    wsDealWithRejection(s, error);
  }

  function wsFinishInFlightWrite(s) {
    s.inFlightWriteRequest.resolve(undefined);
    s.inFlightWriteRequest = undefined;
  }

  function wsFinishInFlightWriteWithError(s, error) {
    s.inFlightWriteRequest.reject(error);
    s.inFlightWriteRequest = undefined;
    wsDealWithRejection(s, error);
  }

  function wsRejectCloseAndClosedPromiseIfNeeded(s) {
    if (s.closeRequest !== undefined) {
      s.closeRequest.reject(s.storedError);
      s.closeRequest = undefined;
    }
    const writer = s.writer;
    if (writer !== undefined) {
      writer.closed.reject(s.storedError);
      setHandled(writer.closed.promise);
    }
  }

  function wsStartErroring(s, reason) {
    const c = s.controller;
    s.state = "erroring";
    s.storedError = reason;
    if (s.writer !== undefined) wsdwEnsureReadyPromiseRejected(s.writer, reason);
    if (!wsHasOperationMarkedInFlight(s) && c.started) wsFinishErroring(s);
  }

  function wsUpdateBackpressure(s, backpressure) {
    const writer = s.writer;
    if (writer !== undefined && backpressure !== s.backpressure) {
      if (backpressure) writer.ready = new Deferred();
      else writer.ready.resolve(undefined);
    }
    s.backpressure = backpressure;
  }

  // ---- WritableStreamDefaultWriter (§5.3) ----
  let writerOf;

  class WritableStreamDefaultWriter {
    #r;
    static {
      writerOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
    }
    constructor(stream) {
      const what = "WritableStreamDefaultWriter constructor";
      const s = writableOf(stream);
      if (!s) throw new TypeError(`${what}: argument 1 is not a WritableStream`);
      if (wsLocked(s)) throw new TypeError(`${what}: Cannot create a writer for a stream that is already locked to a writer`);
      const writer = (this.#r = { stream: s, ready: undefined, closed: undefined, pub: this });
      s.writer = writer;
      const state = s.state;
      if (state === "writable") {
        writer.ready = !wsCloseQueuedOrInFlight(s) && s.backpressure ? new Deferred() : resolvedDeferred(undefined);
        writer.closed = new Deferred();
      } else if (state === "erroring") {
        writer.ready = rejectedDeferred(s.storedError);
        writer.closed = new Deferred();
      } else if (state === "closed") {
        writer.ready = resolvedDeferred(undefined);
        writer.closed = resolvedDeferred(undefined);
      } else {
        writer.ready = rejectedDeferred(s.storedError);
        writer.closed = rejectedDeferred(s.storedError);
      }
    }
    get closed() {
      const writer = writerOf(this);
      if (!writer) return promiseReject(receiverError("get closed", "WritableStreamDefaultWriter"));
      return writer.closed.promise;
    }
    get desiredSize() {
      const writer = writerOf(this);
      if (!writer) throw receiverError("get desiredSize", "WritableStreamDefaultWriter");
      if (writer.stream === undefined) throw new TypeError("WritableStreamDefaultWriter.desiredSize: the writer has no stream (its lock was released)");
      return wsdwGetDesiredSize(writer);
    }
    get ready() {
      const writer = writerOf(this);
      if (!writer) return promiseReject(receiverError("get ready", "WritableStreamDefaultWriter"));
      return writer.ready.promise;
    }
    abort(reason = undefined) {
      const writer = writerOf(this);
      if (!writer) return promiseReject(receiverError("abort", "WritableStreamDefaultWriter"));
      if (writer.stream === undefined) return promiseReject(new TypeError("WritableStreamDefaultWriter.abort: the writer has no stream (its lock was released)"));
      return wsAbort(writer.stream, reason);
    }
    close() {
      const writer = writerOf(this);
      if (!writer) return promiseReject(receiverError("close", "WritableStreamDefaultWriter"));
      const s = writer.stream;
      if (s === undefined) return promiseReject(new TypeError("WritableStreamDefaultWriter.close: the writer has no stream (its lock was released)"));
      if (wsCloseQueuedOrInFlight(s)) return promiseReject(new TypeError("WritableStreamDefaultWriter.close: the stream is already closing"));
      return wsClose(s);
    }
    releaseLock() {
      const writer = writerOf(this);
      if (!writer) throw receiverError("releaseLock", "WritableStreamDefaultWriter");
      if (writer.stream !== undefined) wsdwRelease(writer);
    }
    write(chunk = undefined) {
      const writer = writerOf(this);
      if (!writer) return promiseReject(receiverError("write", "WritableStreamDefaultWriter"));
      if (writer.stream === undefined) return promiseReject(new TypeError("WritableStreamDefaultWriter.write: the writer has no stream (its lock was released)"));
      return wsdwWrite(writer, chunk);
    }
  }

  function wsdwCloseWithErrorPropagation(writer) {
    const s = writer.stream;
    if (wsCloseQueuedOrInFlight(s) || s.state === "closed") return promiseResolve();
    if (s.state === "errored") return promiseReject(s.storedError);
    return wsClose(s);
  }

  function wsdwEnsureClosedPromiseRejected(writer, error) {
    if (writer.closed.pending) writer.closed.reject(error);
    else writer.closed = rejectedDeferred(error);
    setHandled(writer.closed.promise);
  }

  function wsdwEnsureReadyPromiseRejected(writer, error) {
    if (writer.ready.pending) writer.ready.reject(error);
    else writer.ready = rejectedDeferred(error);
    setHandled(writer.ready.promise);
  }

  function wsdwGetDesiredSize(writer) {
    const state = writer.stream.state;
    if (state === "errored" || state === "erroring") return null;
    if (state === "closed") return 0;
    return wsdcGetDesiredSize(writer.stream.controller);
  }

  function wsdwRelease(writer) {
    const released = new TypeError("The writer's lock on the stream was released");
    wsdwEnsureReadyPromiseRejected(writer, released);
    wsdwEnsureClosedPromiseRejected(writer, released);
    writer.stream.writer = undefined;
    writer.stream = undefined;
  }

  function wsdwWrite(writer, chunk) {
    const s = writer.stream;
    const c = s.controller;
    const chunkSize = wsdcGetChunkSize(c, chunk);
    if (s !== writer.stream) return promiseReject(new TypeError("WritableStreamDefaultWriter.write: the writer's lock was released while sizing the chunk"));
    const state = s.state;
    if (state === "errored") return promiseReject(s.storedError);
    if (wsCloseQueuedOrInFlight(s) || state === "closed") {
      return promiseReject(new TypeError("WritableStreamDefaultWriter.write: Cannot write to a stream that is closing or closed"));
    }
    if (state === "erroring") return promiseReject(s.storedError);
    const promise = wsAddWriteRequest(s);
    wsdcWrite(c, chunk, chunkSize);
    return promise;
  }

  // ---- WritableStreamDefaultController (§5.4) ----
  let writableControllerOf;
  const closeSentinel = {};

  class WritableStreamDefaultController {
    #r;
    static {
      writableControllerOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
    }
    constructor(key = undefined) {
      if (key !== INTERNAL) throw illegalConstructor("WritableStreamDefaultController");
      this.#r = { pub: this };
    }
    get signal() {
      const c = writableControllerOf(this);
      if (!c) throw receiverError("get signal", "WritableStreamDefaultController");
      return c.abortController === undefined ? undefined : c.abortController.signal;
    }
    error(e = undefined) {
      const c = writableControllerOf(this);
      if (!c) throw receiverError("error", "WritableStreamDefaultController");
      if (c.stream.state !== "writable") return;
      wsdcError(c, e);
    }
  }

  function setUpWSDC(s, c, start, write, close, abort, hwm, sizeAlgorithm) {
    c.stream = s;
    s.controller = c;
    resetQueue(c);
    c.abortController = typeof AbortController === "function" ? new AbortController() : undefined;
    c.started = false;
    c.strategySizeAlgorithm = sizeAlgorithm;
    c.strategyHWM = hwm;
    c.writeAlgorithm = write;
    c.closeAlgorithm = close;
    c.abortAlgorithm = abort;
    wsUpdateBackpressure(s, wsdcGetBackpressure(c));
    const startResult = start();
    then(promiseResolve(startResult), () => {
      c.started = true;
      wsdcAdvanceQueueIfNeeded(c);
    }, (r) => {
      c.started = true;
      wsDealWithRejection(s, r);
    });
  }

  function wsdcAdvanceQueueIfNeeded(c) {
    const s = c.stream;
    if (!c.started || s.inFlightWriteRequest !== undefined) return;
    if (s.state === "erroring") {
      wsFinishErroring(s);
      return;
    }
    if (c.queue.length === 0) return;
    const value = c.queue[0].value;
    if (value === closeSentinel) wsdcProcessClose(c);
    else wsdcProcessWrite(c, value);
  }

  function wsdcClearAlgorithms(c) {
    c.writeAlgorithm = undefined;
    c.closeAlgorithm = undefined;
    c.abortAlgorithm = undefined;
    c.strategySizeAlgorithm = undefined;
  }

  function wsdcClose(c) {
    enqueueValueWithSize(c, closeSentinel, 0);
    wsdcAdvanceQueueIfNeeded(c);
  }

  function wsdcError(c, error) {
    wsdcClearAlgorithms(c);
    wsStartErroring(c.stream, error);
  }

  function wsdcErrorIfNeeded(c, error) {
    if (c.stream.state === "writable") wsdcError(c, error);
  }

  const wsdcGetBackpressure = (c) => wsdcGetDesiredSize(c) <= 0;
  const wsdcGetDesiredSize = (c) => c.strategyHWM - c.queueTotalSize;

  function wsdcGetChunkSize(c, chunk) {
    if (c.strategySizeAlgorithm === undefined) return 1;
    try {
      return c.strategySizeAlgorithm(chunk);
    } catch (e) {
      wsdcErrorIfNeeded(c, e);
      return 1;
    }
  }

  function wsdcProcessClose(c) {
    const s = c.stream;
    s.inFlightCloseRequest = s.closeRequest;
    s.closeRequest = undefined;
    dequeueValue(c);
    const sinkClosePromise = c.closeAlgorithm();
    wsdcClearAlgorithms(c);
    then(sinkClosePromise, () => wsFinishInFlightClose(s), (reason) => wsFinishInFlightCloseWithError(s, reason));
  }

  function wsdcProcessWrite(c, chunk) {
    const s = c.stream;
    s.inFlightWriteRequest = s.writeRequests.shift();
    then(c.writeAlgorithm(chunk), () => {
      wsFinishInFlightWrite(s);
      dequeueValue(c);
      if (!wsCloseQueuedOrInFlight(s) && s.state === "writable") wsUpdateBackpressure(s, wsdcGetBackpressure(c));
      wsdcAdvanceQueueIfNeeded(c);
    }, (reason) => {
      if (s.state === "writable") wsdcClearAlgorithms(c);
      wsFinishInFlightWriteWithError(s, reason);
    });
  }

  function wsdcWrite(c, chunk, chunkSize) {
    try {
      enqueueValueWithSize(c, chunk, chunkSize);
    } catch (e) {
      wsdcErrorIfNeeded(c, e);
      return;
    }
    const s = c.stream;
    if (!wsCloseQueuedOrInFlight(s) && s.state === "writable") wsUpdateBackpressure(s, wsdcGetBackpressure(c));
    wsdcAdvanceQueueIfNeeded(c);
  }

  // ---- TransformStream (§6.2) ----
  let transformOf;

  class TransformStream {
    #r;
    static {
      transformOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
    }
    constructor(transformer = undefined, writableStrategy = undefined, readableStrategy = undefined) {
      const what = "TransformStream constructor";
      if (transformer === undefined) transformer = null;
      else if (!isObject(transformer)) throw new TypeError(`${what}: the transformer must be an object`);
      const wStrategy = strategyDict(writableStrategy, what);
      const rStrategy = strategyDict(readableStrategy, what);
      // The Transformer dictionary, its members in lexicographic order.
      const dict = dictionary(transformer, `${what}: the transformer`);
      const src = `${what}: the transformer`;
      const cancel = callbackMember(dict, "cancel", src);
      const flush = callbackMember(dict, "flush", src);
      const readableType = dict === undefined ? undefined : dict.readableType;
      const start = callbackMember(dict, "start", src);
      const transform = callbackMember(dict, "transform", src);
      const writableType = dict === undefined ? undefined : dict.writableType;
      if (readableType !== undefined) throw new RangeError(`${what}: the transformer's readableType must be undefined`);
      if (writableType !== undefined) throw new RangeError(`${what}: the transformer's writableType must be undefined`);
      const readableHWM = extractHighWaterMark(rStrategy, 0, what);
      const readableSize = extractSizeAlgorithm(rStrategy);
      const writableHWM = extractHighWaterMark(wStrategy, 1, what);
      const writableSize = extractSizeAlgorithm(wStrategy);
      const startPromise = new Deferred();
      const t = (this.#r = { pub: this });
      tsInitialize(t, startPromise, writableHWM, writableSize, readableHWM, readableSize);
      const controller = new TransformStreamDefaultController(INTERNAL);
      const c = transformControllerOf(controller);
      setUpTSDC(t, c,
        transform
          ? (chunk) => invokePromise(transform, transformer, [chunk, controller])
          : (chunk) => {
            try {
              tsdcEnqueue(c, chunk);
              return promiseResolve();
            } catch (e) {
              return promiseReject(e);
            }
          },
        flush ? () => invokePromise(flush, transformer, [controller]) : () => promiseResolve(),
        cancel ? (reason) => invokePromise(cancel, transformer, [reason]) : () => promiseResolve());
      startPromise.resolve(start ? apply(start, transformer, [controller]) : undefined);
    }
    get readable() {
      const t = transformOf(this);
      if (!t) throw receiverError("get readable", "TransformStream");
      return t.readable.pub;
    }
    get writable() {
      const t = transformOf(this);
      if (!t) throw receiverError("get writable", "TransformStream");
      return t.writable.pub;
    }
  }

  function tsInitialize(t, startPromise, writableHWM, writableSize, readableHWM, readableSize) {
    const start = () => startPromise.promise;
    t.writable = createWritable(start, (chunk) => tsSinkWrite(t, chunk), () => tsSinkClose(t),
      (reason) => tsSinkAbort(t, reason), writableHWM, writableSize);
    t.readable = createReadable(start, () => tsSourcePull(t), (reason) => tsSourceCancel(t, reason),
      readableHWM, readableSize);
    t.backpressure = undefined;
    t.backpressureChangePromise = undefined;
    tsSetBackpressure(t, true);
    t.controller = undefined;
  }

  function tsError(t, e) {
    rsdcError(t.readable.controller, e);
    tsErrorWritableAndUnblockWrite(t, e);
  }

  function tsErrorWritableAndUnblockWrite(t, e) {
    tsdcClearAlgorithms(t.controller);
    wsdcErrorIfNeeded(t.writable.controller, e);
    tsUnblockWrite(t);
  }

  function tsUnblockWrite(t) {
    if (t.backpressure) tsSetBackpressure(t, false);
  }

  function tsSetBackpressure(t, backpressure) {
    if (t.backpressureChangePromise !== undefined) t.backpressureChangePromise.resolve(undefined);
    t.backpressureChangePromise = new Deferred();
    t.backpressure = backpressure;
  }

  // ---- TransformStreamDefaultController (§6.3) ----
  let transformControllerOf;

  class TransformStreamDefaultController {
    #r;
    static {
      transformControllerOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
    }
    constructor(key = undefined) {
      if (key !== INTERNAL) throw illegalConstructor("TransformStreamDefaultController");
      this.#r = { pub: this };
    }
    get desiredSize() {
      const c = transformControllerOf(this);
      if (!c) throw receiverError("get desiredSize", "TransformStreamDefaultController");
      return rsdcGetDesiredSize(c.stream.readable.controller);
    }
    enqueue(chunk = undefined) {
      const c = transformControllerOf(this);
      if (!c) throw receiverError("enqueue", "TransformStreamDefaultController");
      tsdcEnqueue(c, chunk);
    }
    error(reason = undefined) {
      const c = transformControllerOf(this);
      if (!c) throw receiverError("error", "TransformStreamDefaultController");
      tsError(c.stream, reason);
    }
    terminate() {
      const c = transformControllerOf(this);
      if (!c) throw receiverError("terminate", "TransformStreamDefaultController");
      tsdcTerminate(c);
    }
  }

  function setUpTSDC(t, c, transform, flush, cancel) {
    c.stream = t;
    t.controller = c;
    c.transformAlgorithm = transform;
    c.flushAlgorithm = flush;
    c.cancelAlgorithm = cancel;
    c.finishPromise = undefined;
  }

  function tsdcClearAlgorithms(c) {
    c.transformAlgorithm = undefined;
    c.flushAlgorithm = undefined;
    c.cancelAlgorithm = undefined;
  }

  function tsdcEnqueue(c, chunk) {
    const t = c.stream;
    const rc = t.readable.controller;
    if (!rsdcCanCloseOrEnqueue(rc)) throw new TypeError("TransformStreamDefaultController.enqueue: the readable side is not in a state that permits enqueue");
    try {
      rsdcEnqueue(rc, chunk);
    } catch (e) {
      tsErrorWritableAndUnblockWrite(t, e);
      throw t.readable.storedError;
    }
    const backpressure = rsdcHasBackpressure(rc);
    if (backpressure !== t.backpressure) tsSetBackpressure(t, true);
  }

  function tsdcPerformTransform(c, chunk) {
    return then(c.transformAlgorithm(chunk), undefined, (r) => {
      tsError(c.stream, r);
      throw r;
    });
  }

  function tsdcTerminate(c) {
    const t = c.stream;
    rsdcClose(t.readable.controller);
    tsErrorWritableAndUnblockWrite(t, new TypeError("The TransformStream was terminated"));
  }

  // ---- Transform stream default sink and source (§6.4) ----
  function tsSinkWrite(t, chunk) {
    const c = t.controller;
    if (t.backpressure) {
      return then(t.backpressureChangePromise.promise, () => {
        const w = t.writable;
        if (w.state === "erroring") throw w.storedError;
        return tsdcPerformTransform(c, chunk);
      });
    }
    return tsdcPerformTransform(c, chunk);
  }

  function tsSinkAbort(t, reason) {
    const c = t.controller;
    if (c.finishPromise !== undefined) return c.finishPromise.promise;
    const readable = t.readable;
    const finish = (c.finishPromise = new Deferred());
    const cancelPromise = c.cancelAlgorithm(reason);
    tsdcClearAlgorithms(c);
    then(cancelPromise, () => {
      if (readable.state === "errored") {
        finish.reject(readable.storedError);
      } else {
        rsdcError(readable.controller, reason);
        finish.resolve(undefined);
      }
    }, (r) => {
      rsdcError(readable.controller, r);
      finish.reject(r);
    });
    return finish.promise;
  }

  function tsSinkClose(t) {
    const c = t.controller;
    if (c.finishPromise !== undefined) return c.finishPromise.promise;
    const readable = t.readable;
    const finish = (c.finishPromise = new Deferred());
    const flushPromise = c.flushAlgorithm();
    tsdcClearAlgorithms(c);
    then(flushPromise, () => {
      if (readable.state === "errored") {
        finish.reject(readable.storedError);
      } else {
        rsdcClose(readable.controller);
        finish.resolve(undefined);
      }
    }, (r) => {
      rsdcError(readable.controller, r);
      finish.reject(r);
    });
    return finish.promise;
  }

  function tsSourcePull(t) {
    tsSetBackpressure(t, false);
    return t.backpressureChangePromise.promise;
  }

  function tsSourceCancel(t, reason) {
    const c = t.controller;
    if (c.finishPromise !== undefined) return c.finishPromise.promise;
    const writable = t.writable;
    const finish = (c.finishPromise = new Deferred());
    const cancelPromise = c.cancelAlgorithm(reason);
    tsdcClearAlgorithms(c);
    then(cancelPromise, () => {
      if (writable.state === "errored") {
        finish.reject(writable.storedError);
      } else {
        wsdcErrorIfNeeded(writable.controller, reason);
        tsUnblockWrite(t);
        finish.resolve(undefined);
      }
    }, (r) => {
      wsdcErrorIfNeeded(writable.controller, r);
      tsUnblockWrite(t);
      finish.reject(r);
    });
    return finish.promise;
  }

  // ---- A generic transform stream over an algorithm pair (the compression streams') ----
  // js-compute 3.46 has no TextEncoderStream or TextDecoderStream, so neither is here.
  function createTransform(transform, flush) {
    const t = { pub: undefined };
    const startPromise = resolvedDeferred(undefined);
    tsInitialize(t, startPromise, 1, () => 1, 0, () => 1);
    const c = transformControllerOf(new TransformStreamDefaultController(INTERNAL));
    const wrap = (fn) => (chunk) => {
      try {
        fn(c, chunk);
        return promiseResolve();
      } catch (e) {
        return promiseReject(e);
      }
    };
    setUpTSDC(t, c, wrap(transform), wrap(flush), () => promiseResolve());
    return t;
  }

  // ---- Piping (§4.9.2) ----
  function rsPipeTo(source, dest, { preventClose, preventAbort, preventCancel, signal }) {
    const reader = acquireDefaultReader(source);
    const writer = acquireWriter(dest);
    source.disturbed = true;
    let shuttingDown = false;
    const promise = new Deferred();
    let currentWrite = promiseResolve();
    let abortAlgorithm;

    if (signal !== undefined) {
      abortAlgorithm = () => {
        const error = signal.reason === undefined ? abortError("The pipe was aborted") : signal.reason;
        const actions = [];
        if (!preventAbort) actions.push(() => (dest.state === "writable" ? wsAbort(dest, error) : promiseResolve()));
        if (!preventCancel) actions.push(() => (source.state === "readable" ? rsCancel(source, error) : promiseResolve()));
        shutdownWithAction(() => P.all(actions.map((action) => action())), true, error);
      };
      if (signal.aborted) {
        abortAlgorithm();
        return promise.promise;
      }
      signal.addEventListener("abort", abortAlgorithm);
    }

    // Each step waits for the writer to be ready, then reads one chunk and writes it.
    function pipeStep() {
      if (shuttingDown) return promiseResolve(true);
      return then(writer.ready.promise, () => {
        const step = new Deferred();
        defaultReaderRead(reader, {
          chunk: (chunk) => {
            currentWrite = then(wsdwWrite(writer, chunk), undefined, noop);
            step.resolve(false);
          },
          close: () => step.resolve(true),
          error: (e) => step.reject(e),
        });
        return step.promise;
      });
    }
    function pipeLoop() {
      const loop = new Deferred();
      const next = (done) => {
        if (done) loop.resolve(undefined);
        else then(pipeStep(), next, (e) => loop.reject(e));
      };
      next(false);
      return loop.promise;
    }

    // Errors must be propagated forward.
    isOrBecomesErrored(source, reader.closed.promise, (storedError) => {
      if (!preventAbort) shutdownWithAction(() => wsAbort(dest, storedError), true, storedError);
      else shutdown(true, storedError);
    });
    // Errors must be propagated backward.
    isOrBecomesErrored(dest, writer.closed.promise, (storedError) => {
      if (!preventCancel) shutdownWithAction(() => rsCancel(source, storedError), true, storedError);
      else shutdown(true, storedError);
    });
    // Closing must be propagated forward.
    isOrBecomesClosed(source, reader.closed.promise, () => {
      if (!preventClose) shutdownWithAction(() => wsdwCloseWithErrorPropagation(writer));
      else shutdown();
    });
    // Closing must be propagated backward.
    if (wsCloseQueuedOrInFlight(dest) || dest.state === "closed") {
      const destClosed = new TypeError("The destination writable stream closed before all data could be piped to it");
      if (!preventCancel) shutdownWithAction(() => rsCancel(source, destClosed), true, destClosed);
      else shutdown(true, destClosed);
    }
    setHandled(pipeLoop());
    return promise.promise;

    function isOrBecomesErrored(stream, closed, action) {
      if (stream.state === "errored") action(stream.storedError);
      else then(closed, undefined, action);
    }
    function isOrBecomesClosed(stream, closed, action) {
      if (stream.state === "closed") action();
      else then(closed, action, noop);
    }
    function waitForWritesToFinish() {
      const oldCurrentWrite = currentWrite;
      return then(currentWrite, () => (oldCurrentWrite !== currentWrite ? waitForWritesToFinish() : undefined));
    }
    function shutdownWithAction(action, originalIsError, originalError) {
      if (shuttingDown) return;
      shuttingDown = true;
      const doTheRest = () => {
        then(action(), () => finalize(originalIsError, originalError), (newError) => finalize(true, newError));
      };
      if (dest.state === "writable" && !wsCloseQueuedOrInFlight(dest)) then(waitForWritesToFinish(), doTheRest);
      else doTheRest();
    }
    function shutdown(isError, error) {
      if (shuttingDown) return;
      shuttingDown = true;
      if (dest.state === "writable" && !wsCloseQueuedOrInFlight(dest)) {
        then(waitForWritesToFinish(), () => finalize(isError, error));
      } else {
        finalize(isError, error);
      }
    }
    function finalize(isError, error) {
      wsdwRelease(writer);
      readerRelease(reader);
      if (signal !== undefined) signal.removeEventListener("abort", abortAlgorithm);
      if (isError) promise.reject(error);
      else promise.resolve(undefined);
    }
  }


  // https://compression.spec.whatwg.org/, with StarlingMonkey's messages
  // (builtins/web/streams/*compression-stream.cpp); the bytes are the host's (`host.codec`).
  const compressionOf = new WeakMap();
  function compressionTransform(self, mode, format) {
    const codec = host.codec(mode, format);
    const t = createTransform((c, chunk) => {
      const out = codec.push(chunk);
      if (out !== null) tsdcEnqueue(c, out);
    }, (c) => {
      const out = codec.finish();
      if (out !== null) tsdcEnqueue(c, out);
    });
    compressionOf.set(self, t);
  }
  function compressionOfThis(self, what, name) {
    const t = compressionOf.get(self);
    if (!t) throw receiverError(what, name);
    return t;
  }
  const FORMATS = ["deflate", "deflate-raw", "gzip"];
  class CompressionStream {
    constructor(format) {
      if (arguments.length < 1) {
        throw new TypeError("CompressionStream constructor: At least 1 argument required, but only 0 passed");
      }
      const f = `${format}`;
      if (!FORMATS.includes(f)) {
        throw new TypeError(`'format' has to be "deflate",  "deflate-raw", or "gzip", but got "${f}"`);
      }
      compressionTransform(this, "compress", f);
    }
    get readable() { return compressionOfThis(this, "get readable", "CompressionStream").readable.pub; }
    get writable() { return compressionOfThis(this, "get writable", "CompressionStream").writable.pub; }
  }
  class DecompressionStream {
    constructor(format) {
      if (arguments.length < 1) {
        throw new TypeError("DecompressionStream constructor: At least 1 argument required, but only 0 passed");
      }
      const f = `${format}`;
      if (!FORMATS.includes(f)) {
        throw new TypeError("DecompressionStream constructor: format must be 'deflate', 'deflate-raw', or 'gzip'");
      }
      compressionTransform(this, "decompress", f);
    }
    get readable() { return compressionOfThis(this, "get readable", "DecompressionStream").readable.pub; }
    get writable() { return compressionOfThis(this, "get writable", "DecompressionStream").writable.pub; }
  }

  // The writer and the controllers have WebIDL shapes but, as on js-compute 3.46, no globals.
  webIDLInterfaces({
    WritableStreamDefaultWriter, WritableStreamDefaultController, TransformStreamDefaultController,
  });
  const interfaces = webIDLInterfaces({
    WritableStream, TransformStream, CompressionStream, DecompressionStream,
  });

  return {
    globals: interfaces,
    internal: { writableOf, wsLocked, pipeTo: rsPipeTo },
  };
})
