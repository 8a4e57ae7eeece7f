// Readable byte streams: ReadableByteStreamController, BYOB reader and request, read(view,
// { min }), byte tee. Ported from WPT streams/readable-byte-streams/*.
import {
  test, promise_test, assert_equals, assert_not_equals, assert_array_equals, assert_true,
  assert_false, assert_throws_js, promise_rejects_js, delay, flushAsyncEvents,
  promise_rejects_exactly,
  readChunks,
} from "./harness.js";

const error1 = new Error("error1");
error1.name = "error1";

function assert_typed_array_equals(actual, expected, description = "") {
  assert_equals(actual.constructor, expected.constructor, `${description} constructor`);
  assert_array_equals(actual, expected, description);
}
// View buffers are detached after pull() returns: record what pull() saw.
function extractViewInfo(view) {
  return {
    constructor: view.constructor,
    bufferByteLength: view.buffer.byteLength,
    byteOffset: view.byteOffset,
    byteLength: view.byteLength,
  };
}

test(() => {
  assert_throws_js(TypeError, () => new ReadableStream().getReader({ mode: "byob" }));
}, "getReader({mode: \"byob\"}) throws on non-bytes streams");

test(() => {
  new ReadableStream({ type: "bytes" }).getReader({ mode: "byob" });
  new ReadableStream({ type: { toString() { return "bytes"; } } }).getReader({ mode: "byob" });
  new ReadableStream({ type: { toString: null, valueOf() { return "bytes"; } } }).getReader({ mode: "byob" });
}, "ReadableStream with byte source can be constructed with no errors");

test(() => {
  const rs = new ReadableStream({ type: "bytes" });
  let reader = rs.getReader({ mode: { toString() { return "byob"; } } });
  assert_true(reader instanceof ReadableStreamBYOBReader, "must give a BYOB reader");
  reader.releaseLock();
  reader = rs.getReader({ mode: "byob", notmode: "ignored" });
  assert_true(reader instanceof ReadableStreamBYOBReader, "must give a BYOB reader");
}, "getReader({mode}) must perform ToString()");

test(() => {
  assert_throws_js(RangeError, () => new ReadableStream({ type: "bytes" }, { size() { return 1; } }), "size", "ReadableStream constructor: the queuing strategy of a byte stream cannot have a size function");
  assert_throws_js(TypeError, () => new ReadableStream({ type: "bytes", autoAllocateChunkSize: 0 }), "autoAllocateChunkSize 0");
  assert_throws_js(TypeError, () => new ReadableStream({ type: "bytes", autoAllocateChunkSize: -1 }), "negative");
  assert_throws_js(TypeError, () => new ReadableStream({ type: "bytes", autoAllocateChunkSize: Infinity }), "Infinity");
}, "ReadableStream with byte source: strategy and autoAllocateChunkSize are validated");

promise_test(async () => {
  let startCalled = false;
  let startCalledBeforePull = false;
  let desiredSize;
  let controller;
  let resolveTestPromise;
  const testPromise = new Promise((resolve) => { resolveTestPromise = resolve; });
  new ReadableStream({
    start(c) {
      controller = c;
      startCalled = true;
    },
    pull() {
      startCalledBeforePull = startCalled;
      desiredSize = controller.desiredSize;
      resolveTestPromise();
    },
    type: "bytes",
  }, {
    highWaterMark: 256,
  });
  await testPromise;
  assert_true(startCalledBeforePull, "start should be called before pull");
  assert_equals(desiredSize, 256, "desiredSize should equal highWaterMark");
}, "ReadableStream with byte source: Construct and expect start and pull being called");

promise_test(async () => {
  let pullCalled = false;
  new ReadableStream({
    pull() {
      pullCalled = true;
    },
    type: "bytes",
  }, {
    highWaterMark: 0,
  });
  await flushAsyncEvents();
  assert_false(pullCalled, "pull() should not be called");
}, "ReadableStream with byte source: Construct with highWaterMark of 0");

test(() => {
  assert_throws_js(Error, () => new ReadableStream({ start() { throw new Error(); }, type: "bytes" }));
}, "ReadableStream with byte source: start() throws an exception");

test(() => {
  new ReadableStream({
    start(c) {
      assert_equals(c.desiredSize, 10, "desiredSize must start at the highWaterMark");
      c.close();
      assert_equals(c.desiredSize, 0, "after closing, desiredSize must be 0");
    },
    type: "bytes",
  }, {
    highWaterMark: 10,
  });
  new ReadableStream({
    start(c) {
      c.error();
      assert_equals(c.desiredSize, null, "after erroring, desiredSize must be null");
    },
    type: "bytes",
  });
}, "ReadableStream with byte source: desiredSize when closed and when errored");

promise_test(async () => {
  const stream = new ReadableStream({ type: "bytes" });
  const reader = stream.getReader({ mode: "byob" });
  reader.releaseLock();
  await promise_rejects_js(TypeError, reader.closed, "closed must reject");
}, "ReadableStream with byte source: getReader() with mode set to byob, then releaseLock()");

promise_test(async () => {
  const stream = new ReadableStream({
    start(c) {
      c.close();
    },
    type: "bytes",
  });
  const reader = stream.getReader({ mode: "byob" });
  await reader.closed;
  assert_throws_js(TypeError, () => stream.getReader({ mode: "byob" }), "getReader() must throw");
}, "ReadableStream with byte source: Test that closing a stream does not release a BYOB reader automatically");

promise_test(async () => {
  const rs = new ReadableStream({
    type: "bytes",
    start(c) {
      c.enqueue(new Uint8Array([1, 2, 3]));
    },
  });
  const reader1 = rs.getReader({ mode: "byob" });
  reader1.releaseLock();
  const reader2 = rs.getReader({ mode: "byob" });
  reader1.releaseLock();
  const result = await reader2.read(new Uint8Array([0, 0, 0]));
  assert_typed_array_equals(result.value, new Uint8Array([1, 2, 3]), "read() should still work on reader2");
  assert_false(result.done, "done");
}, "ReadableStream with byte source: cannot use an already-released BYOB reader to unlock a stream again");

promise_test(async () => {
  const stream = new ReadableStream({ type: "bytes" });
  const reader = stream.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(1));
  reader.releaseLock();
  await promise_rejects_js(TypeError, read, "pending read must reject");
}, "ReadableStream with byte source: releaseLock() on ReadableStreamBYOBReader must reject pending read()");

promise_test(async () => {
  let pullCount = 0;
  const stream = new ReadableStream({
    pull() {
      ++pullCount;
    },
    type: "bytes",
  }, {
    highWaterMark: 8,
  });
  stream.getReader();
  assert_equals(pullCount, 0, "No pull as start() just finished and is not yet reflected to the state of the stream");
  await Promise.resolve();
  assert_equals(pullCount, 1, "pull must be invoked");
}, "ReadableStream with byte source: Automatic pull() after start()");

promise_test(async () => {
  let pullCount = 0;
  let controller;
  const byobRequests = [];
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
    pull() {
      const byobRequest = controller.byobRequest;
      const view = byobRequest.view;
      byobRequests[pullCount] = { nonNull: byobRequest !== null, viewInfo: extractViewInfo(view) };
      if (pullCount === 0) {
        view[0] = 0x01;
        byobRequest.respond(1);
      } else if (pullCount === 1) {
        view[0] = 0x02;
        view[1] = 0x03;
        byobRequest.respond(2);
      }
      ++pullCount;
    },
    type: "bytes",
    autoAllocateChunkSize: 16,
  }, {
    highWaterMark: 0,
  });
  const reader = stream.getReader();
  const p0 = reader.read();
  const p1 = reader.read();
  assert_equals(pullCount, 0, "No pull() as start() just finished");
  await Promise.resolve();
  assert_equals(pullCount, 1, "pull() must have been invoked once");
  const info = byobRequests[0].viewInfo;
  assert_true(byobRequests[0].nonNull, "first byobRequest must not be null");
  assert_equals(info.constructor, Uint8Array, "first view.constructor should be Uint8Array");
  assert_equals(info.bufferByteLength, 16, "first view.buffer.byteLength should be 16");
  assert_equals(info.byteOffset, 0, "first view.byteOffset should be 0");
  assert_equals(info.byteLength, 16, "first view.byteLength should be 16");
  const r0 = await p0;
  assert_equals(pullCount, 2, "pull() must have been invoked twice");
  assert_equals(r0.value.constructor, Uint8Array);
  assert_equals(r0.value.buffer.byteLength, 16, "first value.buffer.byteLength should be 16");
  assert_equals(r0.value.byteLength, 1, "first value.byteLength should be 1");
  assert_equals(r0.value[0], 0x01);
  const r1 = await p1;
  assert_equals(pullCount, 2, "pull() should only be invoked twice");
  assert_typed_array_equals(r1.value, new Uint8Array([0x02, 0x03]));
}, "ReadableStream with byte source: autoAllocateChunkSize");

promise_test(async () => {
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new Uint8Array(16));
    },
    type: "bytes",
  });
  const reader = stream.getReader();
  const result = await reader.read();
  assert_false(result.done, "done");
  const view = result.value;
  assert_equals(view.constructor, Uint8Array);
  assert_equals(view.byteOffset, 0, "byteOffset");
  assert_equals(view.byteLength, 16, "byteLength");
}, "ReadableStream with byte source: enqueue(), getReader(), then read()");

promise_test(async () => {
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new Uint16Array(8));
    },
    type: "bytes",
  });
  const result = await stream.getReader().read();
  assert_equals(result.value.constructor, Uint8Array, "a default reader reads Uint8Arrays");
  assert_equals(result.value.byteLength, 16, "byteLength");
}, "ReadableStream with byte source: enqueue() with Uint16Array, getReader(), then read()");

promise_test(async () => {
  let controller;
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
    type: "bytes",
  });
  const reader = stream.getReader();
  const promise = reader.read();
  const chunk = new Uint8Array([1, 2, 3]);
  controller.enqueue(chunk);
  assert_equals(chunk.byteLength, 0, "enqueue() transfers (detaches) the chunk's buffer");
  assert_typed_array_equals((await promise).value, new Uint8Array([1, 2, 3]));
}, "ReadableStream with byte source: enqueue() transfers the chunk's buffer");

promise_test(async () => {
  const stream = new ReadableStream({
    start(c) {
      const view = new Uint8Array(16);
      view[0] = 0x01;
      view[8] = 0x02;
      c.enqueue(view);
    },
    type: "bytes",
  });
  const byobReader = stream.getReader({ mode: "byob" });
  const result = await byobReader.read(new Uint8Array(8));
  assert_equals(result.value.byteLength, 8, "byteLength");
  assert_equals(result.value[0], 0x01, "value[0]");
  byobReader.releaseLock();
  const reader = stream.getReader();
  const result2 = await reader.read();
  assert_equals(result2.value.byteLength, 8, "the rest");
  assert_equals(result2.value[0], 0x02, "value[0] of the rest");
}, "ReadableStream with byte source: enqueue(), read(view) partially, then read()");

promise_test(async () => {
  let controller;
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
    pull() {
      const request = controller.byobRequest;
      assert_equals(request.view.byteLength, 4, "the request's view covers the reader's view");
      request.view[0] = 0xaa;
      request.view[1] = 0xbb;
      request.respond(2);
    },
    type: "bytes",
  });
  const reader = stream.getReader({ mode: "byob" });
  const view = new Uint8Array(4);
  const result = await reader.read(view);
  assert_equals(view.byteLength, 0, "read(view) transfers the view's buffer");
  assert_not_equals(result.value.buffer, view.buffer);
  assert_equals(result.value.buffer.byteLength, 4, "the same memory comes back");
  assert_typed_array_equals(result.value, new Uint8Array([0xaa, 0xbb]));
}, "ReadableStream with byte source: read(view), then respond()");

promise_test(async () => {
  let controller;
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
    pull() {
      const request = controller.byobRequest;
      const view = request.view;
      view[0] = 1;
      view[1] = 2;
      request.respondWithNewView(new Uint8Array(view.buffer, view.byteOffset, 2));
    },
    type: "bytes",
  });
  const result = await stream.getReader({ mode: "byob" }).read(new Uint8Array(4));
  assert_typed_array_equals(result.value, new Uint8Array([1, 2]));
}, "ReadableStream with byte source: read(view), then respondWithNewView()");

promise_test(async () => {
  let pullCount = 0;
  let controller;
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
    pull() {
      const request = controller.byobRequest;
      const view = request.view;
      ++pullCount;
      view[0] = pullCount;
      request.respond(1);
    },
    type: "bytes",
  });
  const result = await stream.getReader({ mode: "byob" }).read(new Uint32Array(1));
  assert_equals(pullCount, 4, "four one-byte responses fill one Uint32 element");
  assert_equals(result.value.constructor, Uint32Array);
  assert_equals(result.value.length, 1);
  assert_array_equals(new Uint8Array(result.value.buffer), [1, 2, 3, 4]);
}, "ReadableStream with byte source: read(view) with Uint32Array, then fill it by multiple respond() calls");

promise_test(async () => {
  const stream = new ReadableStream({ type: "bytes" });
  const reader = stream.getReader({ mode: "byob" });
  await promise_rejects_js(TypeError, reader.read(new Uint8Array(0)), "zero-length view");
  await promise_rejects_js(TypeError, reader.read(new Uint8Array(new ArrayBuffer(0))), "zero-length buffer");
  await promise_rejects_js(TypeError, reader.read(), "undefined", "ReadableStreamBYOBReader.read: argument 1 is not an ArrayBufferView");
  await promise_rejects_js(TypeError, reader.read({}), "an empty object");
  await promise_rejects_js(TypeError, reader.read({ buffer: new ArrayBuffer(10), byteOffset: 0, byteLength: 10 }), "a view-like object");
}, "ReadableStream with byte source: read(view) with bad views must fail");

promise_test(async () => {
  const stream = new ReadableStream({ type: "bytes" });
  const reader = stream.getReader({ mode: "byob" });
  const view = new Uint8Array(4);
  const sameBuffer = new Uint8Array(view.buffer);
  reader.read(view);
  assert_equals(sameBuffer.byteLength, 0, "the first read detached the buffer");
  await promise_rejects_js(TypeError, reader.read(sameBuffer), "a detached buffer");
}, "ReadableStream with byte source: read(view) with a detached buffer must fail");

promise_test(async () => {
  const stream = new ReadableStream({
    start(c) {
      c.error(error1);
    },
    type: "bytes",
  });
  const reader = stream.getReader({ mode: "byob" });
  await promise_rejects_exactly(error1, reader.read(new Uint8Array(1)), "read() must fail");
  await promise_rejects_exactly(error1, reader.closed, "closed must reject");
}, "ReadableStream with byte source: read(view) on an errored stream");

promise_test(async () => {
  let controller;
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
    type: "bytes",
  });
  const reader = stream.getReader({ mode: "byob" });
  const promise = promise_rejects_exactly(error1, reader.read(new Uint8Array(1)), "read() must fail");
  controller.error(error1);
  await promise;
}, "ReadableStream with byte source: read(view), then error()");

promise_test(async () => {
  const stream = new ReadableStream({
    pull() {
      throw error1;
    },
    type: "bytes",
  });
  const reader = stream.getReader({ mode: "byob" });
  await promise_rejects_exactly(error1, reader.read(new Uint8Array(1)), "read(view) must fail");
  await promise_rejects_exactly(error1, reader.closed, "closed must reject");
}, "ReadableStream with byte source: Throwing in pull function must error the stream");

promise_test(async () => {
  const stream = new ReadableStream({
    start(c) {
      c.close();
    },
    type: "bytes",
  });
  const reader = stream.getReader({ mode: "byob" });
  const view = new Uint16Array(4);
  const result = await reader.read(view);
  assert_true(result.done, "done");
  assert_equals(result.value.constructor, Uint16Array, "the view's type is kept");
  assert_equals(result.value.byteLength, 0, "empty");
  assert_equals(result.value.buffer.byteLength, 8, "the same memory comes back");
}, "ReadableStream with byte source: read(view) with a closed stream");

promise_test(async () => {
  let controller;
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
    type: "bytes",
  });
  const reader = stream.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(4));
  await flushAsyncEvents();
  controller.close();
  controller.byobRequest.respond(0);
  const result = await read;
  assert_true(result.done, "done");
  assert_equals(result.value.byteLength, 0, "empty view");
}, "ReadableStream with byte source: close(), then respond(0) answers a pending read(view)");

promise_test(async () => {
  let controller;
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
    type: "bytes",
  });
  const reader = stream.getReader({ mode: "byob" });
  const read = reader.read(new Uint16Array(1));
  await flushAsyncEvents();
  controller.byobRequest.view[0] = 0xff;
  controller.byobRequest.respond(1);
  assert_throws_js(TypeError, () => controller.close(), "close() with half an element pending");
  await promise_rejects_js(TypeError, read, "the read fails");
  await promise_rejects_js(TypeError, reader.closed, "the stream is errored");
}, "ReadableStream with byte source: close() with a partially filled element errors the stream");

test(() => {
  let controller;
  new ReadableStream({
    start(c) {
      controller = c;
    },
    type: "bytes",
  });
  assert_throws_js(TypeError, () => controller.enqueue(new Uint8Array(0)), "empty view");
  assert_throws_js(TypeError, () => controller.enqueue(new Uint8Array(new ArrayBuffer(0))), "empty buffer");
  assert_throws_js(TypeError, () => controller.enqueue("a"), "a string");
  assert_throws_js(TypeError, () => controller.enqueue(new ArrayBuffer(4)), "an ArrayBuffer is not a view");
  assert_equals(controller.byobRequest, null, "no pending read, no request");
  controller.close();
  assert_throws_js(TypeError, () => controller.close(), "close twice", "ReadableByteStreamController.close: the stream is not readable");
  assert_throws_js(TypeError, () => controller.enqueue(new Uint8Array(1)), "enqueue after close");
}, "ReadableByteStreamController: enqueue() and close() validate their input and state");

promise_test(async () => {
  let controller;
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
    type: "bytes",
  });
  const reader = stream.getReader({ mode: "byob" });
  reader.read(new Uint8Array(2));
  await flushAsyncEvents();
  const request = controller.byobRequest;
  assert_throws_js(RangeError, () => request.respond(3), "more than the view holds");
  assert_throws_js(TypeError, () => request.respond(0), "zero while readable");
  request.respond(1);
  assert_equals(request.view, null, "the request is invalidated");
  assert_throws_js(TypeError, () => request.respond(1), "a second answer", "ReadableStreamBYOBRequest.respond: the request was already answered or the stream released it");
}, "ReadableStreamBYOBRequest: respond() validates bytesWritten and answers once");

promise_test(async () => {
  let controller;
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
    type: "bytes",
  });
  const read = stream.getReader({ mode: "byob" }).read(new Uint8Array(4));
  await flushAsyncEvents();
  const request = controller.byobRequest;
  assert_throws_js(RangeError, () => request.respondWithNewView(new Uint8Array(new ArrayBuffer(8), 0, 4)), "a different buffer size");
  assert_throws_js(RangeError, () => request.respondWithNewView(new Uint8Array(new ArrayBuffer(4), 1, 2)), "a different byteOffset");
  assert_throws_js(TypeError, () => request.respondWithNewView(new Uint8Array(new ArrayBuffer(4), 0, 0)), "an empty view while readable");
  // Another buffer of the same size and place is accepted (it is transferred).
  request.respondWithNewView(new Uint8Array([5, 6, 7, 8]));
  assert_typed_array_equals((await read).value, new Uint8Array([5, 6, 7, 8]));
}, "ReadableStreamBYOBRequest: respondWithNewView() validates the view");

// ---- read-min.any.js ----

promise_test(async () => {
  let controller;
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
    type: "bytes",
  });
  const reader = stream.getReader({ mode: "byob" });
  let settled = false;
  const read = reader.read(new Uint8Array(4), { min: 4 });
  read.then(() => { settled = true; });
  controller.enqueue(new Uint8Array([1, 2]));
  await flushAsyncEvents();
  assert_false(settled, "the read waits for min bytes");
  controller.enqueue(new Uint8Array([3, 4]));
  const result = await read;
  assert_typed_array_equals(result.value, new Uint8Array([1, 2, 3, 4]));
}, "read(view, { min }) waits until min elements are filled");

promise_test(async () => {
  const stream = new ReadableStream({ type: "bytes" });
  const reader = stream.getReader({ mode: "byob" });
  await promise_rejects_js(TypeError, reader.read(new Uint8Array(4), { min: 0 }), "min 0");
  await promise_rejects_js(RangeError, reader.read(new Uint8Array(4), { min: 5 }), "min > length");
  await promise_rejects_js(RangeError, reader.read(new Uint16Array(2), { min: 3 }), "min > element length");
  await promise_rejects_js(RangeError, reader.read(new DataView(new ArrayBuffer(4)), { min: 5 }), "min > DataView byteLength");
  await promise_rejects_js(TypeError, reader.read(new Uint8Array(4), { min: -1 }), "negative min");
}, "read(view, { min }) validates min");

promise_test(async () => {
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new Uint8Array([1, 2, 3]));
      c.close();
    },
    type: "bytes",
  });
  const reader = stream.getReader({ mode: "byob" });
  await promise_rejects_js(TypeError, reader.read(new Uint8Array(4), { min: 4 }), "too few bytes left to ever fill min");
  await promise_rejects_js(TypeError, reader.closed, "the stream is errored");
}, "read(view, { min }) on a closing stream with fewer bytes left errors the stream");

promise_test(async () => {
  let controller;
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
    type: "bytes",
  });
  const reader = stream.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(4), { min: 4 });
  controller.enqueue(new Uint8Array([1, 2, 3]));
  controller.close();
  controller.byobRequest.respond(0);
  const result = await read;
  assert_true(result.done, "done: the stream closed before min bytes");
  assert_typed_array_equals(result.value, new Uint8Array([1, 2, 3]));
}, "read(view, { min }) pending when the stream closes gets the bytes filled so far");

// ---- tee.any.js ----

promise_test(async () => {
  const rs = new ReadableStream({
    type: "bytes",
    start(c) {
      c.enqueue(new Uint8Array([0x01]));
      c.enqueue(new Uint8Array([0x02, 0x03]));
      c.close();
    },
  });
  const [branch1, branch2] = rs.tee();
  assert_true(branch1 instanceof ReadableStream);
  branch1.getReader({ mode: "byob" }).releaseLock();
  const reader1 = branch1.getReader();
  const reader2 = branch2.getReader({ mode: "byob" });
  const a1 = await reader1.read();
  const a2 = await reader1.read();
  // Both chunks are queued in branch2 by now: one BYOB read takes bytes across them.
  const b1 = await reader2.read(new Uint8Array(4));
  assert_typed_array_equals(a1.value, new Uint8Array([0x01]));
  assert_typed_array_equals(a2.value, new Uint8Array([0x02, 0x03]));
  assert_typed_array_equals(b1.value, new Uint8Array([0x01, 0x02, 0x03]));
  assert_true((await reader1.read()).done, "branch1 done");
  assert_true((await reader2.read(new Uint8Array(1))).done, "branch2 done");
}, "ReadableStream teeing with byte source: branches are byte streams that read every chunk");

promise_test(async () => {
  const rs = new ReadableStream({
    type: "bytes",
    start(c) {
      c.enqueue(new Uint8Array([1, 2]));
    },
  });
  const [branch1, branch2] = rs.tee();
  const [r1, r2] = await Promise.all([branch1.getReader().read(), branch2.getReader().read()]);
  assert_not_equals(r1.value.buffer, r2.value.buffer, "chunks should be cloned for each branch");
  assert_typed_array_equals(r1.value, new Uint8Array([1, 2]));
  assert_typed_array_equals(r2.value, new Uint8Array([1, 2]));
}, "ReadableStream teeing with byte source: chunks should be cloned for each branch");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({
    type: "bytes",
    start(c) {
      controller = c;
    },
  });
  const [branch1, branch2] = rs.tee();
  const read1 = branch1.getReader({ mode: "byob" }).read(new Uint8Array(4));
  const read2 = branch2.getReader().read();
  await flushAsyncEvents();
  const request = controller.byobRequest;
  assert_not_equals(request, null, "branch1's BYOB read reaches the source as a BYOB request");
  request.view.set([9, 8]);
  request.respond(2);
  assert_typed_array_equals((await read1).value, new Uint8Array([9, 8]));
  assert_typed_array_equals((await read2).value, new Uint8Array([9, 8]), "branch2 gets a copy");
}, "ReadableStream teeing with byte source: chunks for BYOB requests from branch 1 should be cloned to branch 2");

promise_test(async () => {
  const rs = new ReadableStream({
    type: "bytes",
    start(c) {
      c.error(error1);
    },
  });
  const [branch1, branch2] = rs.tee();
  await promise_rejects_exactly(error1, branch1.getReader().closed, "branch1");
  await promise_rejects_exactly(error1, branch2.getReader({ mode: "byob" }).closed, "branch2");
}, "ReadableStream teeing with byte source: erroring the original should error both branches");

promise_test(async () => {
  let reason;
  const rs = new ReadableStream({
    type: "bytes",
    cancel(r) {
      reason = r;
    },
  });
  const [branch1, branch2] = rs.tee();
  await Promise.all([branch1.cancel(1), branch2.cancel(2)]);
  assert_array_equals(reason, [1, 2], "the composite reason");
}, "ReadableStream teeing with byte source: canceling both branches should aggregate the cancel reasons into an array");

// ---- async iteration and piping of byte streams ----

promise_test(async () => {
  const rs = new ReadableStream({
    type: "bytes",
    start(c) {
      c.enqueue(new Uint8Array([104, 105]));
      c.close();
    },
  });
  const decoder = new TextDecoder();
  const decoding = new TransformStream({ transform(chunk, c) { c.enqueue(decoder.decode(chunk, { stream: true })); } });
  const chunks = await readChunks(rs.pipeThrough(decoding));
  assert_array_equals(chunks, ["hi"]);
}, "a byte stream pipes through a decoding TransformStream");
