// WritableStream, TransformStream and the compression streams: ported from WPT
// streams/writable-streams/* and streams/transform-streams/* (js-compute 3.46 has no
// TextEncoderStream or TextDecoderStream).
import {
  test, promise_test, assert_equals, assert_not_equals, assert_array_equals, assert_true,
  assert_false, assert_throws_js, promise_rejects_js, delay, flushAsyncEvents,
  promise_rejects_exactly, assert_throws_exactly, assert_read,
  readChunks,
} from "./harness.js";

// As on Compute (js-compute 3.46), the writer and the controllers have no globals: the tests
// reach their constructors through instances (`start` runs synchronously).
let WritableStreamDefaultController;
let TransformStreamDefaultController;
new WritableStream({ start(c) { WritableStreamDefaultController = c.constructor; } });
new TransformStream({ start(c) { TransformStreamDefaultController = c.constructor; } });
const WritableStreamDefaultWriter = new WritableStream().getWriter().constructor;

const error1 = new Error("error1");
error1.name = "error1";
const error2 = new Error("error2");
error2.name = "error2";


// A WritableStream whose sink records every call in `ws.events`.
function recordingWritableStream(extras = {}, strategy) {
  let controllerToCopyOver;
  const stream = new WritableStream({
    start(controller) {
      controllerToCopyOver = controller;
      if (extras.start) return extras.start(controller);
      return undefined;
    },
    write(chunk, controller) {
      stream.events.push("write", chunk);
      if (extras.write) return extras.write(chunk, controller);
      return undefined;
    },
    close() {
      stream.events.push("close");
      if (extras.close) return extras.close();
      return undefined;
    },
    abort(e) {
      stream.events.push("abort", e);
      if (extras.abort) return extras.abort(e);
      return undefined;
    },
  }, strategy);
  stream.controller = controllerToCopyOver;
  stream.events = [];
  return stream;
}

const readAllChunks = readChunks;

// ---- writable-streams/constructor.any.js ----

test(() => {
  new WritableStream();
  new WritableStream({});
  assert_equals(WritableStream.length, 0);
}, "WritableStream should be constructible with no arguments");

test(() => {
  assert_throws_js(TypeError, () => new WritableStream(null), "null");
  assert_throws_js(TypeError, () => new WritableStream({ write: "x" }), "write");
  assert_throws_js(RangeError, () => new WritableStream({ type: "bytes" }), "type", "WritableStream constructor: the underlying sink's type must be undefined");
  assert_throws_js(RangeError, () => new WritableStream({}, { highWaterMark: -1 }), "highWaterMark");
}, "WritableStream constructor rejects garbage");

test(() => {
  assert_throws_js(TypeError, () => new WritableStreamDefaultController(), "controller");
  assert_throws_js(TypeError, () => new WritableStreamDefaultWriter(), "writer without a stream");
  assert_throws_js(TypeError, () => new WritableStreamDefaultWriter({}), "writer with a non-stream");
  const ws = new WritableStream();
  new WritableStreamDefaultWriter(ws);
  assert_throws_js(TypeError, () => new WritableStreamDefaultWriter(ws), "locked", "WritableStreamDefaultWriter constructor: Cannot create a writer for a stream that is already locked to a writer");
}, "WritableStreamDefaultController and WritableStreamDefaultWriter construction");

promise_test(async () => {
  let controller;
  const ws = new WritableStream({
    start(c) {
      controller = c;
    },
  });
  assert_equals(typeof controller.error, "function");
  await ws.getWriter().ready;
  assert_equals(Object.prototype.toString.call(controller), "[object WritableStreamDefaultController]");
}, "controller argument should be passed to start method");

promise_test(async () => {
  let args;
  const ws = new WritableStream({
    write(...a) {
      args = a;
    },
    close(...a) {
      args = a;
    },
  });
  const writer = ws.getWriter();
  await writer.write("a");
  assert_equals(args.length, 2, "write gets the chunk and the controller");
  assert_equals(args[0], "a");
  await writer.close();
  assert_equals(args.length, 0, "close gets no arguments");
}, "controller argument should be passed to write method, not to close");

test(() => {
  for (const highWaterMark of [0, 1, Infinity]) {
    const writer = new WritableStream({}, { highWaterMark }).getWriter();
    assert_equals(writer.desiredSize, highWaterMark, `desiredSize for ${highWaterMark}`);
  }
}, "highWaterMark should be reflected to desiredSize");

test(() => {
  const order = [];
  new WritableStream({
    get abort() { order.push("abort"); return undefined; },
    get close() { order.push("close"); return undefined; },
    get start() { order.push("start"); return undefined; },
    get type() { order.push("type"); return undefined; },
    get write() { order.push("write"); return undefined; },
  }, {
    get highWaterMark() { order.push("highWaterMark"); return 1; },
    get size() { order.push("size"); return undefined; },
  });
  assert_array_equals(order, ["highWaterMark", "size", "abort", "close", "start", "type", "write"]);
}, "underlyingSink argument should be converted after queuingStrategy argument");

// ---- writable-streams/general.any.js ----

test(() => {
  const writer = new WritableStream().getWriter();
  writer.releaseLock();
  assert_throws_js(TypeError, () => writer.desiredSize, "desiredSize should throw a TypeError on release");
}, "desiredSize on a released writer");

test(() => {
  const writer = new WritableStream().getWriter();
  assert_equals(writer.desiredSize, 1, "desiredSize should be 1");
}, "desiredSize initial value");

promise_test(async () => {
  const writer = new WritableStream().getWriter();
  writer.close();
  await writer.closed;
  assert_equals(writer.desiredSize, 0, "desiredSize should be 0");
}, "desiredSize on a writer for a closed stream");

test(() => {
  const ws = new WritableStream({
    start(c) {
      c.error();
    },
  });
  const writer = ws.getWriter();
  assert_equals(writer.desiredSize, null, "desiredSize should be null");
}, "desiredSize on a writer for an errored stream");

test(() => {
  const ws = new WritableStream({});
  const writer = ws.getWriter();
  writer.close();
  writer.releaseLock();
  ws.getWriter();
}, "ws.getWriter() on a closing WritableStream");

promise_test(async () => {
  const ws = new WritableStream({});
  const writer = ws.getWriter();
  await writer.close();
  writer.releaseLock();
  ws.getWriter();
}, "ws.getWriter() on a closed WritableStream");

promise_test(async () => {
  const ws = new WritableStream({});
  const writer = ws.getWriter();
  writer.abort();
  writer.releaseLock();
  ws.getWriter();
}, "ws.getWriter() on an aborted WritableStream");

promise_test(async () => {
  const ws = new WritableStream({
    start(c) {
      c.error();
    },
  });
  const writer = ws.getWriter();
  await promise_rejects_exactly(undefined, writer.closed);
  writer.releaseLock();
  ws.getWriter();
}, "ws.getWriter() on a WritableStream that has errored");

promise_test(async () => {
  const ws = new WritableStream({
    start() {
      return Promise.reject(error1);
    },
  });
  const writer = ws.getWriter();
  await promise_rejects_exactly(error1, writer.closed);
  assert_equals(writer.desiredSize, null);
}, "a rejected start() promise errors the stream");

promise_test(async () => {
  const writer = new WritableStream().getWriter();
  writer.releaseLock();
  await promise_rejects_js(TypeError, writer.closed, "closed", "The writer's lock on the stream was released");
  await promise_rejects_js(TypeError, writer.ready, "ready");
}, "closed and ready on a released writer");

promise_test(async () => {
  let thisObject = null;
  const sink = {
    start() {
      assert_equals(this, thisObject, "start should be called as a method");
    },
    write() {
      assert_equals(this, thisObject, "write should be called as a method");
    },
    close() {
      assert_equals(this, thisObject, "close should be called as a method");
    },
  };
  thisObject = sink;
  const ws = new WritableStream(sink);
  const writer = ws.getWriter();
  await writer.write("a");
  await writer.close();
  const sink2 = {
    abort() {
      assert_equals(this, sink2, "abort should be called as a method");
    },
  };
  await new WritableStream(sink2).getWriter().abort();
}, "WritableStream should call underlying sink methods as methods");

promise_test(async () => {
  let sizeThis = "not called";
  const ws = new WritableStream({}, {
    size() {
      sizeThis = this;
      return 1;
    },
  });
  await ws.getWriter().write("a");
  assert_equals(sizeThis, undefined, "size is called as a plain function");
}, "WritableStream's strategy.size should not be called as a method");

test(() => {
  const writer = new WritableStream().getWriter();
  writer.releaseLock();
  writer.releaseLock();
}, "redundant releaseLock() is no-op");

promise_test(async () => {
  const events = [];
  const writer = new WritableStream({}, { highWaterMark: 0 }).getWriter();
  const readyPromise = writer.ready.catch(() => events.push("ready"));
  const closedPromise = writer.closed.catch(() => events.push("closed"));
  writer.releaseLock();
  await Promise.all([readyPromise, closedPromise]);
  assert_array_equals(events, ["ready", "closed"], "ready promise should fire before closed promise");
}, "ready promise should fire before closed on releaseLock");

test(() => {
  class Subclass extends WritableStream {
    extraFunction() {
      return true;
    }
  }
  const ws = new Subclass();
  assert_true(ws.extraFunction(), "extraFunction() should be present on Subclass");
  assert_false(ws.locked);
  ws.getWriter();
  assert_true(ws.locked, "locked getter should return true");
}, "Subclassing WritableStream should work; the locked getter reflects the writer");

// ---- writable-streams/write.any.js ----

promise_test(async () => {
  let resolveSinkWritePromise;
  const ws = recordingWritableStream({
    write() {
      return new Promise((resolve) => { resolveSinkWritePromise = resolve; });
    },
  });
  const writer = ws.getWriter();
  assert_equals(writer.desiredSize, 1, "desiredSize should be 1");
  await writer.ready;
  const writePromise = writer.write("a");
  const closePromise = writer.close();
  await flushAsyncEvents();
  assert_array_equals(ws.events, ["write", "a"], "the sink should have received a write() call");
  resolveSinkWritePromise();
  await writePromise;
  await closePromise;
  assert_array_equals(ws.events, ["write", "a", "close"], "sink close() should have been called");
}, "WritableStream should complete asynchronous writes before close resolves");

promise_test(async () => {
  const ws = recordingWritableStream();
  const writer = ws.getWriter();
  const writePromise = writer.write("a");
  const closePromise = writer.close();
  await Promise.all([writePromise, closePromise]);
  assert_array_equals(ws.events, ["write", "a", "close"]);
}, "WritableStream should complete synchronous writes before close resolves");

promise_test(async () => {
  const ws = new WritableStream({
    write() {
      return "Hello";
    },
  });
  assert_equals(await ws.getWriter().write("a"), undefined);
}, "fulfillment value of ws.write() call should be undefined even if the underlying sink returns a non-undefined value");

promise_test(async () => {
  let resolveSinkWritePromise;
  const ws = new WritableStream({
    write() {
      return new Promise((resolve) => { resolveSinkWritePromise = resolve; });
    },
  });
  const writer = ws.getWriter();
  await writer.ready;
  const writePromise = writer.write("a");
  let writePromiseResolved = false;
  assert_equals(writer.desiredSize, 0, "desiredSize should be 0 after writer.write()");
  writePromise.then(() => { writePromiseResolved = true; });
  let readyResolved = false;
  writer.ready.then(() => { readyResolved = true; });
  await delay(5);
  assert_false(writePromiseResolved, "the write is not acknowledged yet");
  assert_false(readyResolved, "ready waits for the write (backpressure)");
  resolveSinkWritePromise();
  await writePromise;
  await writer.ready;
  assert_equals(writer.desiredSize, 1, "desiredSize should be 1");
}, "WritableStream should transition to waiting until write is acknowledged");

promise_test(async () => {
  let sinkWritePromiseRejectors = [];
  const ws = new WritableStream({
    write() {
      return new Promise((resolve, reject) => { sinkWritePromiseRejectors.push(reject); });
    },
  });
  const writer = ws.getWriter();
  assert_equals(writer.desiredSize, 1, "desiredSize should be 1");
  await writer.ready;
  const writePromise = promise_rejects_exactly(error1, writer.write("a"), "writer.write must reject with error1");
  const writePromise2 = promise_rejects_exactly(error1, writer.write("b"), "queued write must reject");
  const closedPromise = promise_rejects_exactly(error1, writer.close(), "writer.close must reject with the error from the sink");
  assert_equals(writer.desiredSize, -1, "desiredSize should be -1");
  await flushAsyncEvents();
  assert_equals(sinkWritePromiseRejectors.length, 1, "there should be 1 rejector");
  sinkWritePromiseRejectors[0](error1);
  sinkWritePromiseRejectors = [];
  await Promise.all([writePromise, writePromise2, closedPromise]);
  assert_equals(writer.desiredSize, null, "desiredSize should be null");
  await promise_rejects_exactly(error1, writer.closed);
}, "when write returns a rejected promise, queued writes and close should be cleared");

promise_test(async () => {
  const ws = new WritableStream({
    write() {
      throw error1;
    },
  }, new CountQueuingStrategy({ highWaterMark: 4 }));
  const writer = ws.getWriter();
  await writer.ready;
  await promise_rejects_exactly(error1, writer.write("a"), "write() should reject with the error");
  await promise_rejects_exactly(error1, writer.closed, "closed should reject with the error");
}, "when sink's write throws an error, the stream should become errored and the promise should reject");

promise_test(async () => {
  let controller;
  const ws = new WritableStream({
    start(c) {
      controller = c;
    },
    write() {
      controller.error(error2);
      return Promise.reject(error1);
    },
  });
  const writer = ws.getWriter();
  await writer.ready;
  await promise_rejects_exactly(error1, writer.write("a"), "write() should reject with the sink's error");
  await promise_rejects_exactly(error2, writer.closed, "closed should reject with the controller's error");
  await promise_rejects_exactly(error2, writer.ready, "ready should reject with the controller's error");
}, "writer.write(), ready and closed reject with the error passed to controller.error() made before sink.write rejection");

promise_test(async () => {
  const numberOfWrites = 1000;
  let resolveFirstWritePromise;
  let writeCount = 0;
  const ws = new WritableStream({
    write() {
      ++writeCount;
      if (!resolveFirstWritePromise) return new Promise((resolve) => { resolveFirstWritePromise = resolve; });
      return Promise.resolve();
    },
  });
  const writer = ws.getWriter();
  await writer.ready;
  for (let i = 1; i < numberOfWrites; ++i) writer.write("a");
  const writePromise = writer.write("a");
  assert_equals(writeCount, 1, "should have called sink's write once");
  resolveFirstWritePromise();
  await writePromise;
  assert_equals(writeCount, numberOfWrites, `should have called sink's write ${numberOfWrites} times`);
}, "a large queue of writes should be processed completely");

promise_test(async () => {
  const stream = recordingWritableStream();
  const w = new WritableStreamDefaultWriter(stream);
  stream.controller.error(error1);
  await promise_rejects_exactly(error1, w.write("abc"), "write() should reject");
  await promise_rejects_exactly(error1, w.closed);
}, "WritableStreamDefaultWriter should work when manually constructed");

promise_test(async () => {
  let thenCalled = false;
  const ws = new WritableStream({
    write() {
      return {
        then(onFulfilled) {
          thenCalled = true;
          onFulfilled();
        },
      };
    },
  });
  await ws.getWriter().write("a");
  assert_true(thenCalled, "thenCalled should be true");
}, "returning a thenable from write() should work");

promise_test(async () => {
  const ws = new WritableStream();
  const writer1 = ws.getWriter();
  assert_throws_js(TypeError, () => new WritableStreamDefaultWriter(ws), "should not be able to construct writer");
  writer1.releaseLock();
}, "failing DefaultWriter constructor should not release an existing writer");

promise_test(async () => {
  const writer = new WritableStream().getWriter();
  await writer.close();
  await promise_rejects_js(TypeError, writer.write("a"), "", "WritableStreamDefaultWriter.write: Cannot write to a stream that is closing or closed");
}, "write() on a closed stream rejects with a TypeError");

// ---- writable-streams/close.any.js ----

promise_test(async () => {
  const ws = new WritableStream({
    close() {
      return "Hello";
    },
  });
  assert_equals(await ws.getWriter().close(), undefined);
}, "fulfillment value of writer.close() call must be undefined even if the underlying sink returns a non-undefined value");

promise_test(async () => {
  let controller;
  let resolveClose;
  const ws = new WritableStream({
    start(c) {
      controller = c;
    },
    close() {
      return new Promise((resolve) => { resolveClose = resolve; });
    },
  });
  const writer = ws.getWriter();
  const closePromise = writer.close();
  await flushAsyncEvents();
  controller.error(error1);
  await flushAsyncEvents();
  resolveClose();
  await closePromise;
  await writer.closed;
}, "when sink calls error asynchronously while sink close is in-flight, the stream should not become errored");

promise_test(async () => {
  let controller;
  const passedError = new Error("error me");
  const ws = new WritableStream({
    start(c) {
      controller = c;
    },
    close() {
      controller.error(passedError);
    },
  });
  const writer = ws.getWriter();
  await writer.close();
  await writer.closed;
}, "when sink calls error synchronously while closing, the stream should not become errored");

promise_test(async () => {
  const ws = new WritableStream({
    write() {
      return flushAsyncEvents();
    },
    close() {
      throw error1;
    },
  });
  const writer = ws.getWriter();
  const writePromise = writer.write("a");
  const closePromise = writer.close();
  await writePromise;
  await promise_rejects_exactly(error1, closePromise, "close() should reject");
  await promise_rejects_exactly(error1, writer.closed, "closed should reject");
  assert_equals(writer.desiredSize, null);
}, "when the sink throws during close, and the close is requested while a write is still in-flight, the stream should become errored during the close");

promise_test(async () => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  const closePromise = writer.close();
  writer.releaseLock();
  await closePromise;
}, "releaseLock() should not change the result of sync close()");

promise_test(async () => {
  const ws = recordingWritableStream();
  const writer = ws.getWriter();
  const closePromise = writer.close();
  writer.releaseLock();
  await closePromise;
  const writer2 = ws.getWriter();
  await writer2.closed;
  assert_equals(writer2.desiredSize, 0);
}, "close() should set state to CLOSED even if writer has detached");

promise_test(async () => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  const resolveOrder = [];
  const closePromise = writer.close().then(() => resolveOrder.push("close"));
  const closedPromise = writer.closed.then(() => resolveOrder.push("closed"));
  await Promise.all([closePromise, closedPromise]);
  assert_array_equals(resolveOrder, ["close", "closed"], "promises should resolve in the standard order");
}, "promises must fulfill/reject in the expected order on closure");

promise_test(async () => {
  let resolveClose;
  const ws = new WritableStream({
    close() {
      return new Promise((resolve) => { resolveClose = resolve; });
    },
  });
  const writer = ws.getWriter();
  await writer.ready;
  const closePromise = writer.close();
  await delay(0);
  const abortPromise = writer.abort(error1);
  resolveClose();
  await Promise.all([closePromise, abortPromise, writer.closed]);
}, "Closing a WritableStream and aborting it while it closes causes the stream to ignore the abort attempt");

test(() => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  assert_equals(writer.ready, writer.ready, "ready is the same promise each time");
  assert_equals(writer.closed, writer.closed, "closed is the same promise each time");
}, "ready and closed are stable promises");

// ---- writable-streams/aborting.any.js ----

promise_test(async () => {
  const ws = new WritableStream({}, new CountQueuingStrategy({ highWaterMark: 0 }));
  const writer = ws.getWriter();
  const readyPromise = writer.ready;
  writer.abort(error1);
  assert_equals(writer.ready, readyPromise, "the ready promise property should not change");
  await promise_rejects_exactly(error1, readyPromise, "the ready promise should reject with error1");
}, "Aborting a WritableStream before it starts should cause the writer's unsettled ready promise to reject");

promise_test(async () => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  await writer.ready;
  const readyPromise = writer.ready;
  writer.abort(error1);
  assert_not_equals(writer.ready, readyPromise, "the ready promise property should change");
  await promise_rejects_exactly(error1, writer.ready, "the ready promise should reject with error1");
}, "Aborting a WritableStream should cause the writer's fulfilled ready promise to reset to a rejected one");

promise_test(async () => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  writer.releaseLock();
  await promise_rejects_js(TypeError, writer.abort(), "abort() should reject with a TypeError");
}, "abort() on a released writer rejects");

promise_test(async () => {
  const ws = recordingWritableStream();
  await delay(0);
  const writer = ws.getWriter();
  const abortPromise = writer.abort(error1);
  await Promise.all([
    promise_rejects_exactly(error1, writer.write(1), "write(1) must reject with error1"),
    promise_rejects_exactly(error1, writer.write(2), "write(2) must reject with error1"),
    abortPromise,
  ]);
  assert_array_equals(ws.events, ["abort", error1]);
}, "Aborting a WritableStream immediately prevents future writes");

promise_test(async () => {
  const ws = recordingWritableStream();
  await delay(0);
  const writer = ws.getWriter();
  writer.write(1);
  writer.write(2);
  const abortPromise = writer.abort(error1);
  await promise_rejects_exactly(error1, writer.write(3), "write(3) must reject with error1");
  await abortPromise;
  assert_array_equals(ws.events, ["write", 1, "abort", error1], "the in-flight write finishes, the queued one is dropped");
}, "Aborting a WritableStream prevents further writes after any that are in progress");

promise_test(async () => {
  const ws = new WritableStream({
    abort() {
      return "Hello";
    },
  });
  const writer = ws.getWriter();
  assert_equals(await writer.abort("a"), undefined);
}, "Fulfillment value of writer.abort() call must be undefined even if the underlying sink returns a non-undefined value");

promise_test(async () => {
  const ws = new WritableStream({
    abort() {
      throw error1;
    },
  });
  const writer = ws.getWriter();
  const abortPromise = writer.abort(undefined);
  const abortPromise2 = writer.abort(undefined);
  assert_equals(abortPromise, abortPromise2, "the promises must be the same");
  await promise_rejects_exactly(error1, abortPromise, "abort() should reject with error1");
  await promise_rejects_exactly(undefined, writer.closed, "closed should reject with the abort reason");
}, "WritableStream if sink's abort throws, the promise returned by multiple writer.abort()s is the same and rejects");

promise_test(async () => {
  const ws = new WritableStream({
    abort() {
      throw error1;
    },
  });
  await promise_rejects_exactly(error1, ws.abort(undefined), "abort() should reject with error1");
}, "WritableStream if sink's abort throws, the promise returned by ws.abort() rejects");

promise_test(async () => {
  let recordedReason;
  const ws = new WritableStream({
    abort(reason) {
      recordedReason = reason;
    },
  });
  const writer = ws.getWriter();
  const abortPromise = writer.abort(error1);
  await Promise.all([
    abortPromise,
    promise_rejects_exactly(error1, writer.write(), "writing should reject with error1"),
    promise_rejects_exactly(error1, writer.close(), "closing should reject with error1"),
    promise_rejects_exactly(error1, writer.ready, "ready should reject with error1"),
    promise_rejects_exactly(error1, writer.closed, "closed should reject with error1"),
  ]);
  assert_equals(recordedReason, error1, "the reason should be passed to the underlying sink");
  await promise_rejects_js(TypeError, writer.close(), "closing an errored stream", "Cannot close a WritableStream that is errored");
}, "Aborting a WritableStream passes through the given reason and puts it in an errored state");

promise_test(async () => {
  const ws = new WritableStream({
    write() {
      return new Promise(() => {});
    },
  });
  const writer = ws.getWriter();
  await writer.ready;
  const writePromise = writer.write("a");
  writer.abort(error1);
  assert_equals(writer.desiredSize, null, "desiredSize is null once aborted");
  await promise_rejects_exactly(error1, writer.ready, "ready rejects");
  await delay(10);
  let settled = false;
  writePromise.then(() => { settled = true; }, () => { settled = true; });
  await delay(10);
  assert_false(settled, "the in-flight write never finishes, so neither does the abort");
}, "Aborting a WritableStream waits for the in-flight write");

promise_test(async () => {
  const ws = recordingWritableStream();
  const writer = ws.getWriter();
  const closePromise = writer.close();
  await closePromise;
  await writer.abort(error1);
  await writer.closed;
  assert_array_equals(ws.events, ["close"], "abort is not called on the sink");
}, "Aborting a WritableStream after it is closed is a no-op");

promise_test(async () => {
  const ws = new WritableStream();
  ws.getWriter();
  await promise_rejects_js(TypeError, ws.abort(), "abort", "WritableStream.abort: Cannot abort a stream that is locked to a writer");
  await promise_rejects_js(TypeError, ws.close(), "close", "WritableStream.close: Cannot close a stream that is locked to a writer");
}, "abort() and close() on a locked WritableStream reject");

test(() => {
  // With no AbortController on Compute, the controller has no signal to give.
  let signal = null;
  new WritableStream({ start(c) { signal = c.signal; } });
  assert_equals(signal, undefined);
}, "WritableStreamDefaultController.signal is undefined without AbortController");

// ---- writable-streams/backpressure.any.js ----

promise_test(async () => {
  let resolveWrite;
  const ws = new WritableStream({
    write() {
      return new Promise((resolve) => { resolveWrite = resolve; });
    },
  }, new CountQueuingStrategy({ highWaterMark: 2 }));
  const writer = ws.getWriter();
  assert_equals(writer.desiredSize, 2);
  writer.write("a");
  assert_equals(writer.desiredSize, 1, "one chunk in flight");
  writer.write("b");
  assert_equals(writer.desiredSize, 0, "two chunks: backpressure");
  let readyResolved = false;
  writer.ready.then(() => { readyResolved = true; });
  await flushAsyncEvents();
  assert_false(readyResolved, "ready waits while desiredSize <= 0");
  resolveWrite();
  await writer.ready;
  assert_equals(writer.desiredSize, 1, "after one write finished");
}, "Writing up to the highWaterMark applies backpressure through ready and desiredSize");

// ---- transform-streams/general.any.js ----

test(() => {
  new TransformStream({ transform() { } });
  new TransformStream();
  assert_equals(TransformStream.length, 0);
  const ts = new TransformStream();
  assert_true(ts.readable instanceof ReadableStream);
  assert_true(ts.writable instanceof WritableStream);
  assert_equals(ts.readable, ts.readable, "the same readable each time");
}, "TransformStream can be constructed with or without a transform function");

promise_test(async () => {
  const ts = new TransformStream({ transform() { } });
  const writer = ts.writable.getWriter();
  assert_equals(writer.desiredSize, 1, "writer.desiredSize should be 1");
}, "TransformStream writable starts in the writable state");

promise_test(async () => {
  const ts = new TransformStream();
  const writer = ts.writable.getWriter();
  writer.write("a");
  assert_equals(writer.desiredSize, 0, "writer.desiredSize should be 0 after write()");
  const result = await ts.readable.getReader().read();
  assert_read(result, "a", false, "result from reading the readable is the same as was written to writable");
  await writer.ready;
  assert_equals(writer.desiredSize, 1, "desiredSize should be 1 again");
}, "Identity TransformStream: can read from readable what is put into writable");

promise_test(async () => {
  const ts = new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk.toUpperCase());
    },
  });
  const writer = ts.writable.getWriter();
  writer.write("a");
  assert_read(await ts.readable.getReader().read(), "A", false);
}, "Uppercaser sync TransformStream: can read from readable transformed version of what is put into writable");

promise_test(async () => {
  const ts = new TransformStream({
    transform(chunk, controller) {
      chunk = chunk.toUpperCase();
      controller.enqueue(chunk);
      controller.enqueue(chunk);
    },
  });
  const writer = ts.writable.getWriter();
  writer.write("a");
  const reader = ts.readable.getReader();
  assert_read(await reader.read(), "A", false, "first");
  assert_read(await reader.read(), "A", false, "second");
}, "Uppercaser-doubler sync TransformStream: can read both chunks put into the readable");

promise_test(async () => {
  const ts = new TransformStream({
    async transform(chunk, controller) {
      await delay(1);
      controller.enqueue(chunk.toUpperCase());
    },
  });
  const writer = ts.writable.getWriter();
  writer.write("a");
  assert_read(await ts.readable.getReader().read(), "A", false);
}, "Uppercaser async TransformStream: can read from readable transformed version of what is put into writable");

promise_test(async () => {
  const ts = new TransformStream({ transform() { } });
  const writer = ts.writable.getWriter();
  writer.close();
  await Promise.all([writer.closed, ts.readable.getReader().closed]);
}, "TransformStream: by default, closing the writable closes the readable (when there are no queued writes)");

promise_test(async () => {
  let transformResolve;
  const transformPromise = new Promise((resolve) => { transformResolve = resolve; });
  const ts = new TransformStream({
    transform() {
      return transformPromise;
    },
  }, undefined, { highWaterMark: 1 });
  const writer = ts.writable.getWriter();
  writer.write("a");
  writer.close();
  let rsClosed = false;
  ts.readable.getReader().closed.then(() => { rsClosed = true; });
  await delay(0);
  assert_equals(rsClosed, false, "readable is not closed after a tick");
  transformResolve();
  await writer.closed;
  await delay(0);
  assert_true(rsClosed, "the readable should close once the transform is done");
}, "TransformStream: by default, closing the writable waits for transforms to finish before closing both");

promise_test(async () => {
  const ts = new TransformStream({
    transform(chunk, controller) {
      controller.enqueue("x");
      controller.enqueue("y");
      return delay(0);
    },
  });
  const writer = ts.writable.getWriter();
  writer.write("a");
  writer.close();
  const chunks = await readAllChunks(ts.readable);
  assert_array_equals(chunks, ["x", "y"]);
  await writer.closed;
}, "TransformStream: by default, closing the writable closes the readable after sync enqueues and async done");

promise_test(async () => {
  let transformer;
  transformer = {
    start() {
      assert_equals(this, transformer, "start should be called as a method");
    },
    transform(chunk, controller) {
      assert_equals(this, transformer, "transform should be called as a method");
      controller.enqueue(chunk);
    },
    flush() {
      assert_equals(this, transformer, "flush should be called as a method");
    },
  };
  const ts = new TransformStream(transformer);
  const writer = ts.writable.getWriter();
  writer.write("a");
  writer.close();
  assert_array_equals(await readAllChunks(ts.readable), ["a"]);
}, "Transform stream should call transformer methods as methods");

promise_test(async () => {
  const events = [];
  const ts = new TransformStream({
    start() {
      events.push("start");
      return delay(5).then(() => events.push("start done"));
    },
    transform(chunk) {
      events.push(`transform ${chunk}`);
    },
    flush() {
      events.push("flush");
    },
  });
  const writer = ts.writable.getWriter();
  const reading = readAllChunks(ts.readable);
  writer.write("a");
  writer.close();
  await reading;
  assert_array_equals(events, ["start", "start done", "transform a", "flush"]);
}, "TransformStream start, transform, and flush should be strictly ordered");

test(() => {
  let controller;
  new TransformStream({ start(c) { controller = c; } });
  assert_equals(controller.desiredSize, 0, "the readable side's default highWaterMark is 0");
  new TransformStream({ start(c) { controller = c; } }, undefined, { highWaterMark: 3 });
  assert_equals(controller.desiredSize, 3);
  assert_throws_js(TypeError, () => new TransformStreamDefaultController(), "controller", "TransformStreamDefaultController constructor: Illegal constructor");
}, "TransformStreamDefaultController desiredSize reflects the readable side");

promise_test(async () => {
  let controller;
  const ts = new TransformStream({ start(c) { controller = c; } });
  controller.terminate();
  assert_throws_js(TypeError, () => controller.enqueue("a"), "enqueue should throw");
  await ts.readable.getReader().closed;
  await promise_rejects_js(TypeError, ts.writable.getWriter().closed, "the writable side errors", "The TransformStream was terminated");
  controller.terminate();
}, "enqueue() should throw after controller.terminate(); terminate() twice does nothing");

promise_test(async () => {
  let controller;
  const ts = new TransformStream({ start(c) { controller = c; } });
  const cancelPromise = ts.readable.cancel(error1);
  controller.terminate();
  await cancelPromise;
  await promise_rejects_js(TypeError, ts.writable.getWriter().closed, "closed should reject with the termination TypeError");
}, "terminate() should abort writable immediately after readable.cancel()");

promise_test(async () => {
  let controller;
  const ts = new TransformStream({ start(c) { controller = c; } });
  const cancelReason = { name: "cancelReason" };
  await ts.readable.cancel(cancelReason);
  controller.terminate();
  await promise_rejects_exactly(cancelReason, ts.writable.getWriter().closed, "closed should reject with cancelReason");
}, "terminate() should do nothing after readable.cancel() resolves");

test(() => {
  class Subclass extends TransformStream {
    extraFunction() {
      return true;
    }
  }
  const ts = new Subclass();
  assert_true(ts.extraFunction());
  assert_true(ts.readable instanceof ReadableStream);
}, "Subclassing TransformStream should work");

test(() => {
  assert_throws_exactly(error1, () => new TransformStream({ start() { throw error1; } }), "start");
  assert_throws_js(RangeError, () => new TransformStream({ readableType: "bytes" }), "readableType");
  assert_throws_js(RangeError, () => new TransformStream({ writableType: "bytes" }), "writableType");
  assert_throws_js(TypeError, () => new TransformStream(null), "null");
}, "TransformStream constructor throws for a throwing start, readableType, writableType");

// ---- transform-streams/flush.any.js and errors.any.js ----

promise_test(async () => {
  let flushCalled = false;
  const ts = new TransformStream({
    transform() { },
    flush() {
      flushCalled = true;
    },
  });
  await ts.writable.getWriter().close();
  assert_true(flushCalled, "closing the writable triggers the transform flush immediately");
}, "TransformStream flush is called immediately when the writable is closed, if no writes are queued");

promise_test(async () => {
  const ts = new TransformStream({
    transform() { },
    flush(controller) {
      controller.enqueue("x");
      controller.enqueue("y");
    },
  });
  const reader = ts.readable.getReader();
  const writer = ts.writable.getWriter();
  writer.write("a");
  writer.close();
  assert_read(await reader.read(), "x", false);
  assert_read(await reader.read(), "y", false);
  assert_read(await reader.read(), undefined, true);
}, "TransformStream flush gets a chance to enqueue more into the readable");

promise_test(async () => {
  const ts = new TransformStream({
    flush(controller) {
      controller.error(error1);
    },
  });
  await promise_rejects_exactly(error1, ts.writable.getWriter().close(), "close() should reject");
}, "error() during flush should cause writer.close() to reject");

promise_test(async () => {
  const ts = new TransformStream({
    transform() {
      throw error1;
    },
  });
  const reader = ts.readable.getReader();
  const writer = ts.writable.getWriter();
  await Promise.all([
    promise_rejects_exactly(error1, writer.write("a"), "writer.write() should reject with the thrown error"),
    promise_rejects_exactly(error1, reader.read(), "reader.read() should reject with the thrown error"),
    promise_rejects_exactly(error1, reader.closed, "readable.closed should be rejected"),
    promise_rejects_exactly(error1, writer.closed, "writable.closed should be rejected"),
  ]);
}, "TransformStream errors thrown in transform put the writable and readable in an errored state");

promise_test(async () => {
  const ts = new TransformStream({
    flush() {
      throw error1;
    },
  });
  const reader = ts.readable.getReader();
  const writer = ts.writable.getWriter();
  await Promise.all([
    promise_rejects_exactly(error1, writer.close(), "writer.close() should reject"),
    promise_rejects_exactly(error1, reader.closed, "reader.closed should be rejected"),
    promise_rejects_exactly(error1, writer.closed, "writer.closed should be rejected"),
  ]);
}, "TransformStream errors thrown in flush put the writable and readable in an errored state");

promise_test(async () => {
  let controller;
  const ts = new TransformStream({ start(c) { controller = c; } });
  controller.error(error1);
  assert_throws_js(TypeError, () => controller.enqueue("a"), "enqueue should throw");
  await promise_rejects_exactly(error1, ts.readable.getReader().closed);
}, "errored TransformStream should not enqueue new chunks");

promise_test(async () => {
  const ts = new TransformStream({
    start() {
      return Promise.reject(error1);
    },
  });
  await promise_rejects_exactly(error1, ts.readable.getReader().closed, "readable");
  await promise_rejects_exactly(error1, ts.writable.getWriter().closed, "writable");
}, "TransformStream transformer.start() rejected promise should error the stream");

promise_test(async () => {
  let cancelReason = "not called";
  const ts = new TransformStream({
    cancel(reason) {
      cancelReason = reason;
    },
  });
  await ts.readable.cancel(error1);
  assert_equals(cancelReason, error1, "readable.cancel() calls transformer.cancel()");
  await promise_rejects_exactly(error1, ts.writable.getWriter().closed, "the writable side is errored");

  let abortReason = "not called";
  const ts2 = new TransformStream({
    cancel(reason) {
      abortReason = reason;
    },
  });
  await ts2.writable.abort(error2);
  assert_equals(abortReason, error2, "writable.abort() calls transformer.cancel()");
  await promise_rejects_exactly(error2, ts2.readable.getReader().closed, "the readable side is errored");
}, "cancelling the readable side or aborting the writable side calls transformer.cancel()");

// ---- transform-streams/backpressure.any.js ----

promise_test(async () => {
  const transformed = [];
  const ts = new TransformStream({
    transform(chunk, controller) {
      transformed.push(chunk);
      controller.enqueue(chunk);
    },
  });
  const writer = ts.writable.getWriter();
  writer.write("a");
  writer.write("b");
  await flushAsyncEvents();
  assert_array_equals(transformed, [], "no transform runs while the readable side has backpressure and no reader");
  const reader = ts.readable.getReader();
  assert_read(await reader.read(), "a", false);
  assert_read(await reader.read(), "b", false);
  assert_array_equals(transformed, ["a", "b"]);
}, "backpressure allows no transforms with a default identity transform and no reader");

promise_test(async () => {
  let transformCalls = 0;
  const ts = new TransformStream({
    transform(chunk, controller) {
      transformCalls++;
      controller.enqueue(chunk);
    },
  }, undefined, { highWaterMark: 1 });
  const writer = ts.writable.getWriter();
  writer.write("a");
  writer.write("b");
  await flushAsyncEvents();
  assert_equals(transformCalls, 1, "one transform fills the readable queue");
}, "backpressure only allows one transform with a readable highWaterMark of 1 and no reader");

// ---- encoding/streams ----

async function bytesOf(stream) {
  const chunks = await readAllChunks(stream);
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    assert_true(c instanceof Uint8Array, "chunks are Uint8Arrays");
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function streamOf(...chunks) {
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
}

promise_test(async () => {
  const text = "compress me, compress me, compress me ".repeat(40);
  for (const format of ["gzip", "deflate", "deflate-raw"]) {
    const input = new TextEncoder().encode(text);
    const packed = await bytesOf(streamOf(input.subarray(0, 100), input.subarray(100)).pipeThrough(new CompressionStream(format)));
    assert_true(packed.byteLength < input.byteLength, `${format} is smaller`);
    const unpacked = await bytesOf(streamOf(packed.subarray(0, 7), packed.subarray(7)).pipeThrough(new DecompressionStream(format)));
    assert_equals(new TextDecoder().decode(unpacked), text, `${format} round-trips`);
  }
  const gz = await bytesOf(streamOf(new Uint8Array([1])).pipeThrough(new CompressionStream("gzip")));
  assert_array_equals([...gz.subarray(0, 2)], [0x1f, 0x8b], "a gzip header");
}, "CompressionStream and DecompressionStream round-trip gzip, deflate and deflate-raw");

promise_test(async () => {
  assert_throws_js(TypeError, () => new CompressionStream("br"), "",
    `'format' has to be "deflate",  "deflate-raw", or "gzip", but got "br"`);
  assert_throws_js(TypeError, () => new DecompressionStream("zip"), "",
    "DecompressionStream constructor: format must be 'deflate', 'deflate-raw', or 'gzip'");
  const corrupt = streamOf(new Uint8Array(32).fill(7)).pipeThrough(new DecompressionStream("gzip"));
  await promise_rejects_js(TypeError, bytesOf(corrupt), "", "DecompressionStream transform: error decompressing chunk");
  const notBytes = streamOf("text").pipeThrough(new CompressionStream("gzip"));
  await promise_rejects_js(TypeError, bytesOf(notBytes), "",
    "CompressionStream transform: chunks must be of type ArrayBuffer or ArrayBufferView");
  assert_equals(Object.prototype.toString.call(new CompressionStream("gzip")), "[object CompressionStream]");
}, "compression streams: the platform's messages for bad formats, corrupt input and non-byte chunks");

test(() => {
  // As on Compute (js-compute 3.46).
  for (const name of ["TextEncoderStream", "TextDecoderStream", "WritableStreamDefaultWriter",
    "WritableStreamDefaultController", "TransformStreamDefaultController"]) {
    assert_equals(typeof globalThis[name], "undefined", name);
  }
}, "globals Compute lacks are absent");
