// tee() and piping (pipeTo, pipeThrough): ported from WPT streams/readable-streams/tee.any.js
// and streams/piping/*.
import {
  test, promise_test, assert_equals, assert_not_equals, assert_array_equals, assert_true,
  assert_false, assert_throws_js, promise_rejects_js, delay, flushAsyncEvents,
  promise_rejects_exactly, assert_read,
  readChunks,
} from "./harness.js";

const error1 = new Error("error1");
error1.name = "error1";
const error2 = new Error("error2");
error2.name = "error2";

const readableStreamToArray = readChunks;

// A ReadableStream whose source records pull/cancel calls in `rs.events` and keeps its
// controller in `rs.controller`.
function recordingReadableStream(extras = {}, strategy) {
  let controllerToCopyOver;
  const stream = new ReadableStream({
    start(controller) {
      controllerToCopyOver = controller;
      if (extras.start) return extras.start(controller);
      return undefined;
    },
    pull(controller) {
      stream.events.push("pull");
      if (extras.pull) return extras.pull(controller);
      return undefined;
    },
    cancel(reason) {
      stream.events.push("cancel", reason);
      stream.eventsWithoutPulls.push("cancel", reason);
      if (extras.cancel) return extras.cancel(reason);
      return undefined;
    },
  }, strategy);
  stream.controller = controllerToCopyOver;
  stream.events = [];
  stream.eventsWithoutPulls = [];
  return stream;
}

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

// ---- readable-streams/tee.any.js ----

test(() => {
  const rs = new ReadableStream();
  const result = rs.tee();
  assert_true(Array.isArray(result), "return value should be an array");
  assert_equals(result.length, 2, "array should have length 2");
  assert_equals(result[0].constructor, ReadableStream, "0th element should be a ReadableStream");
  assert_equals(result[1].constructor, ReadableStream, "1st element should be a ReadableStream");
  assert_true(rs.locked, "the source is locked");
}, "ReadableStream teeing: rs.tee() returns an array of two ReadableStreams");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.close();
    },
  });
  const [branch1, branch2] = rs.tee();
  const reader1 = branch1.getReader();
  const reader2 = branch2.getReader();
  reader2.closed.then(() => { throw new Error("branch2 should not be closed"); });
  assert_read(await reader1.read(), "a", false);
  assert_read(await reader1.read(), "b", false);
  assert_read(await reader1.read(), undefined, true);
  await reader1.closed;
  assert_read(await reader2.read(), "a", false, "branch2 still has its chunks");
}, "ReadableStream teeing: should be able to read one branch to the end without affecting the other");

promise_test(async () => {
  const theObject = { the: "test object" };
  const rs = new ReadableStream({
    start(c) {
      c.enqueue(theObject);
    },
  });
  const [branch1, branch2] = rs.tee();
  const [r1, r2] = await Promise.all([branch1.getReader().read(), branch2.getReader().read()]);
  assert_equals(r1.value, r2.value, "the values should be equal");
  assert_equals(r1.value, theObject, "the same object, not a clone");
}, "ReadableStream teeing: values should be equal across each branch");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({
    start(c) {
      controller = c;
      c.enqueue("a");
      c.enqueue("b");
    },
  });
  const [branch1, branch2] = rs.tee();
  const reader1 = branch1.getReader();
  const reader2 = branch2.getReader();
  assert_read(await reader1.read(), "a", false);
  assert_read(await reader2.read(), "a", false);
  controller.error(error1);
  await promise_rejects_exactly(error1, reader1.closed, "branch1");
  await promise_rejects_exactly(error1, reader2.closed, "branch2");
}, "ReadableStream teeing: errors in the source should propagate to both branches");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.close();
    },
  });
  const [branch1, branch2] = rs.tee();
  branch1.cancel();
  const [chunks1, chunks2] = await Promise.all([readableStreamToArray(branch1), readableStreamToArray(branch2)]);
  assert_array_equals(chunks1, [], "branch1 should have no chunks");
  assert_array_equals(chunks2, ["a", "b"], "branch2 should have two chunks");
}, "ReadableStream teeing: canceling branch1 should not impact branch2");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.close();
    },
  });
  const [branch1, branch2] = rs.tee();
  branch2.cancel();
  const [chunks1, chunks2] = await Promise.all([readableStreamToArray(branch1), readableStreamToArray(branch2)]);
  assert_array_equals(chunks2, [], "branch2 should have no chunks");
  assert_array_equals(chunks1, ["a", "b"], "branch1 should have two chunks");
}, "ReadableStream teeing: canceling branch2 should not impact branch1");

for (const reverse of [false, true]) {
  promise_test(async () => {
    const reason1 = new Error("We're wanted men.");
    const reason2 = new Error("I have the death sentence on twelve systems.");
    let resolveCancel;
    const cancelCalled = new Promise((resolve) => { resolveCancel = resolve; });
    const rs = new ReadableStream({
      cancel(reason) {
        resolveCancel(reason);
      },
    });
    const [branch1, branch2] = rs.tee();
    const cancels = reverse ? [branch2.cancel(reason2), branch1.cancel(reason1)] : [branch1.cancel(reason1), branch2.cancel(reason2)];
    const reason = await cancelCalled;
    assert_array_equals(reason, [reason1, reason2], "the cancel reason should be an array containing those from the branches");
    await Promise.all(cancels);
  }, `ReadableStream teeing: canceling both branches${reverse ? " in reverse order" : ""} should aggregate the cancel reasons into an array`);
}

promise_test(async () => {
  const theError = { name: "I'll be careful." };
  const rs = new ReadableStream({
    cancel() {
      throw theError;
    },
  });
  const [branch1, branch2] = rs.tee();
  await Promise.all([
    promise_rejects_exactly(theError, branch1.cancel(), "branch1"),
    promise_rejects_exactly(theError, branch2.cancel(), "branch2"),
  ]);
}, "ReadableStream teeing: failing to cancel the original stream should cause cancel() to reject on branches");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } });
  const [branch1, branch2] = rs.tee();
  const promise = Promise.all([branch1.getReader().closed, branch2.getReader().closed]);
  controller.close();
  await promise;
}, "ReadableStream teeing: closing the original should immediately close the branches");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } });
  const [branch1, branch2] = rs.tee();
  const promise = Promise.all([
    promise_rejects_exactly(error1, branch1.getReader().closed, "branch1"),
    promise_rejects_exactly(error1, branch2.getReader().closed, "branch2"),
  ]);
  controller.error(error1);
  await promise;
}, "ReadableStream teeing: erroring the original should immediately error the branches");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } });
  const [branch1, branch2] = rs.tee();
  const cancelPromise = branch1.cancel(error2);
  controller.error(error1);
  await cancelPromise;
  await promise_rejects_exactly(error1, branch2.getReader().closed, "branch2 is errored");
}, "ReadableStream teeing: erroring a teed stream should properly handle canceled branches");

promise_test(async () => {
  const rs = recordingReadableStream({}, { highWaterMark: 0 });
  // Two branches, each with a highWaterMark of 1: one chunk is pulled, not two.
  rs.tee();
  await flushAsyncEvents();
  assert_array_equals(rs.events, ["pull"], "pull should only be called once");
}, "ReadableStreamTee should not pull more chunks than can fit in the branch queue");

promise_test(async () => {
  const rs = recordingReadableStream({
    pull(controller) {
      controller.enqueue("a");
    },
  }, { highWaterMark: 0 });
  const [reader1, reader2] = rs.tee().map((branch) => branch.getReader());
  await Promise.all([reader1.read(), reader2.read()]);
  assert_array_equals(rs.events, ["pull", "pull"], "pull should be called twice");
}, "ReadableStreamTee should only pull enough to fill the emptiest queue");

promise_test(async () => {
  const rs = new ReadableStream();
  const [branch1] = rs.tee();
  assert_throws_js(TypeError, () => rs.getReader(), "the source is locked by tee");
  assert_throws_js(TypeError, () => rs.tee(), "tee on a locked stream");
  assert_false(branch1.locked);
}, "ReadableStream teeing locks the original stream");

// ---- piping/general.any.js ----

test(() => {
  const rs = new ReadableStream();
  const ws = new WritableStream();
  assert_false(rs.locked, "sanity check: the ReadableStream must not start locked");
  assert_false(ws.locked, "sanity check: the WritableStream must not start locked");
  rs.pipeTo(ws);
  assert_true(rs.locked, "the ReadableStream must become locked");
  assert_true(ws.locked, "the WritableStream must become locked");
}, "Piping must lock both the ReadableStream and WritableStream");

promise_test(async () => {
  const fakeRS = Object.create(ReadableStream.prototype);
  const ws = new WritableStream();
  await promise_rejects_js(TypeError, ReadableStream.prototype.pipeTo.apply(fakeRS, [ws]), "pipeTo should reject with a TypeError");
}, "pipeTo must check the brand of its ReadableStream this value");

promise_test(async () => {
  const rs = new ReadableStream();
  const fakeWS = Object.create(WritableStream.prototype);
  await promise_rejects_js(TypeError, rs.pipeTo(fakeWS), "pipeTo should reject with a TypeError", "ReadableStream.pipeTo: argument 1 is not a WritableStream");
}, "pipeTo must check the brand of its WritableStream argument");

promise_test(async () => {
  const rs = new ReadableStream();
  const ws = new WritableStream();
  rs.getReader();
  assert_true(rs.locked, "sanity check: the ReadableStream starts locked");
  assert_false(ws.locked, "sanity check: the WritableStream does not start locked");
  await promise_rejects_js(TypeError, rs.pipeTo(ws));
  assert_false(ws.locked, "the WritableStream must still be unlocked");
}, "pipeTo must fail if the ReadableStream is locked, and not lock the WritableStream");

promise_test(async () => {
  const rs = new ReadableStream({
    pull(controller) {
      controller.close();
    },
  });
  const ws = new WritableStream();
  ws.getWriter();
  assert_false(rs.locked, "sanity check: the ReadableStream does not start locked");
  assert_true(ws.locked, "sanity check: the WritableStream starts locked");
  await promise_rejects_js(TypeError, rs.pipeTo(ws));
  assert_false(rs.locked, "the ReadableStream must still be unlocked");
}, "pipeTo must fail if the WritableStream is locked, and not lock the ReadableStream");

promise_test(async () => {
  const CHUNKS = 10;
  const rs = new ReadableStream({
    start(c) {
      for (let i = 0; i < CHUNKS; ++i) c.enqueue(i);
      c.close();
    },
  });
  const written = [];
  const ws = new WritableStream({
    write(chunk) {
      written.push(chunk);
    },
    close() {
      written.push("closed");
    },
  }, new CountQueuingStrategy({ highWaterMark: CHUNKS }));
  await rs.pipeTo(ws);
  const targetValues = [];
  for (let i = 0; i < CHUNKS; ++i) targetValues.push(i);
  targetValues.push("closed");
  assert_array_equals(written, targetValues, "the correct values must be written");
  assert_false(rs.locked, "the ReadableStream must be unlocked after piping");
  assert_false(ws.locked, "the WritableStream must be unlocked after piping");
}, "Piping from a ReadableStream from which lots of chunks are synchronously readable");

promise_test(async () => {
  let controller;
  const rs = recordingReadableStream({
    start(c) {
      controller = c;
    },
  });
  const ws = recordingWritableStream();
  const pipePromise = rs.pipeTo(ws).then(() => {
    assert_array_equals(ws.events, ["write", "Hello", "close"]);
  });
  await flushAsyncEvents();
  controller.enqueue("Hello");
  await flushAsyncEvents();
  controller.close();
  await pipePromise;
}, "Piping from a ReadableStream for which a chunk becomes asynchronously readable after the pipeTo");

for (const preventAbort of [true, false]) {
  promise_test(async () => {
    const rs = new ReadableStream({
      pull() {
        return Promise.reject(undefined);
      },
    });
    await promise_rejects_exactly(undefined, rs.pipeTo(new WritableStream(), { preventAbort }), "pipeTo should reject");
  }, `an undefined rejection from pull should cause pipeTo() to reject when preventAbort is ${preventAbort}`);
}

for (const preventCancel of [true, false]) {
  promise_test(async () => {
    const rs = new ReadableStream({
      pull(controller) {
        controller.enqueue(0);
      },
    });
    const ws = new WritableStream({
      write() {
        return Promise.reject(undefined);
      },
    });
    await promise_rejects_exactly(undefined, rs.pipeTo(ws, { preventCancel }), "pipeTo should reject");
  }, `an undefined rejection from write should cause pipeTo() to reject when preventCancel is ${preventCancel}`);
}

promise_test(async () => {
  const rs = new ReadableStream();
  const ws = new WritableStream();
  await promise_rejects_js(TypeError, rs.pipeTo(ws, {
    get preventAbort() {
      ws.getWriter();
      return false;
    },
  }), "pipeTo should reject");
  assert_false(rs.locked, "the ReadableStream is not locked");
}, "pipeTo() should reject if an option getter grabs a writer");

promise_test(async () => {
  const rs = new ReadableStream({
    start(controller) {
      controller.close();
    },
  });
  const ws = new WritableStream();
  await rs.pipeTo(ws, null);
}, "pipeTo() promise should resolve if null is passed");

test(() => {
  const rs = new ReadableStream();
  const order = [];
  rs.pipeTo(new WritableStream(), {
    get preventAbort() { order.push("preventAbort"); return false; },
    get preventCancel() { order.push("preventCancel"); return false; },
    get preventClose() { order.push("preventClose"); return false; },
    get signal() { order.push("signal"); return undefined; },
  });
  assert_array_equals(order, ["preventAbort", "preventCancel", "preventClose", "signal"]);
}, "pipeTo() reads its options in lexicographic order");

// ---- piping/close-propagation-forward.any.js ----

promise_test(async () => {
  const rs = recordingReadableStream({
    start(controller) {
      controller.close();
    },
  });
  const ws = recordingWritableStream();
  const pipePromise = rs.pipeTo(ws);
  assert_equals(await pipePromise, undefined, "pipeTo should fulfill with undefined");
  assert_array_equals(rs.eventsWithoutPulls, []);
  assert_array_equals(ws.events, ["close"]);
  await ws.getWriter().closed;
}, "Closing must be propagated forward: starts closed; preventClose omitted; fulfilled close promise");

promise_test(async () => {
  const rs = recordingReadableStream({
    start(controller) {
      controller.close();
    },
  });
  const ws = recordingWritableStream({
    close() {
      throw error1;
    },
  });
  await promise_rejects_exactly(error1, rs.pipeTo(ws), "pipeTo should reject with the same error");
  assert_array_equals(ws.events, ["close"]);
  await promise_rejects_exactly(error1, ws.getWriter().closed);
}, "Closing must be propagated forward: starts closed; preventClose omitted; rejected close promise");

promise_test(async () => {
  const rs = recordingReadableStream({
    start(controller) {
      controller.close();
    },
  });
  const ws = recordingWritableStream();
  await rs.pipeTo(ws, { preventClose: true });
  assert_array_equals(ws.events, []);
  const writer = ws.getWriter();
  await writer.write("still writable");
  assert_array_equals(ws.events, ["write", "still writable"]);
}, "Closing must be propagated forward: starts closed; preventClose = true");

promise_test(async () => {
  const rs = recordingReadableStream();
  const ws = recordingWritableStream();
  const pipePromise = rs.pipeTo(ws);
  await flushAsyncEvents();
  rs.controller.enqueue("Hello");
  rs.controller.close();
  await pipePromise;
  assert_array_equals(ws.events, ["write", "Hello", "close"]);
}, "Closing must be propagated forward: becomes closed after one chunk; preventClose omitted");

// ---- piping/error-propagation-forward.any.js ----

promise_test(async () => {
  const rs = recordingReadableStream({
    start() {
      return Promise.reject(error1);
    },
  });
  const ws = recordingWritableStream();
  await promise_rejects_exactly(error1, rs.pipeTo(ws), "pipeTo must reject with the same error");
  assert_array_equals(rs.eventsWithoutPulls, []);
  assert_array_equals(ws.events, ["abort", error1]);
}, "Errors must be propagated forward: starts errored; preventAbort = false; fulfilled abort promise");

promise_test(async () => {
  const rs = recordingReadableStream({
    start() {
      return Promise.reject(error1);
    },
  });
  const ws = recordingWritableStream({
    abort() {
      throw error2;
    },
  });
  await promise_rejects_exactly(error2, rs.pipeTo(ws), "pipeTo must reject with the abort error");
  assert_array_equals(ws.events, ["abort", error1]);
}, "Errors must be propagated forward: starts errored; preventAbort = false; rejected abort promise");

promise_test(async () => {
  const rs = recordingReadableStream({
    start() {
      return Promise.reject(error1);
    },
  });
  const ws = recordingWritableStream();
  await promise_rejects_exactly(error1, rs.pipeTo(ws, { preventAbort: true }), "pipeTo must reject with the same error");
  assert_array_equals(ws.events, []);
}, "Errors must be propagated forward: starts errored; preventAbort = true");

promise_test(async () => {
  const rs = recordingReadableStream();
  const ws = recordingWritableStream();
  const pipePromise = promise_rejects_exactly(error1, rs.pipeTo(ws), "pipeTo must reject with the same error");
  await flushAsyncEvents();
  rs.controller.enqueue("Hello");
  await flushAsyncEvents();
  rs.controller.error(error1);
  await pipePromise;
  assert_array_equals(ws.events, ["write", "Hello", "abort", error1]);
}, "Errors must be propagated forward: becomes errored after one chunk; preventAbort = false");

// ---- piping/error-propagation-backward.any.js ----

promise_test(async () => {
  const rs = recordingReadableStream();
  const ws = recordingWritableStream({
    start() {
      return Promise.reject(error1);
    },
  });
  await promise_rejects_exactly(error1, rs.pipeTo(ws), "pipeTo must reject with the same error");
  assert_array_equals(rs.eventsWithoutPulls, ["cancel", error1]);
  assert_array_equals(ws.events, []);
}, "Errors must be propagated backward: starts errored; preventCancel omitted; fulfilled cancel promise");

promise_test(async () => {
  const rs = recordingReadableStream({
    cancel() {
      throw error2;
    },
  });
  const ws = recordingWritableStream({
    start() {
      return Promise.reject(error1);
    },
  });
  await promise_rejects_exactly(error2, rs.pipeTo(ws), "pipeTo must reject with the cancel error");
  assert_array_equals(rs.eventsWithoutPulls, ["cancel", error1]);
}, "Errors must be propagated backward: starts errored; preventCancel omitted; rejected cancel promise");

promise_test(async () => {
  const rs = recordingReadableStream();
  const ws = recordingWritableStream({
    start() {
      return Promise.reject(error1);
    },
  });
  await promise_rejects_exactly(error1, rs.pipeTo(ws, { preventCancel: true }), "pipeTo must reject with the same error");
  assert_array_equals(rs.eventsWithoutPulls, []);
  assert_false(rs.locked, "the source is released");
}, "Errors must be propagated backward: starts errored; preventCancel = true");

promise_test(async () => {
  const rs = recordingReadableStream({
    start(controller) {
      controller.enqueue("Hello");
    },
  });
  const ws = recordingWritableStream({
    write() {
      throw error1;
    },
  });
  await promise_rejects_exactly(error1, rs.pipeTo(ws), "pipeTo must reject with the write error");
  assert_array_equals(rs.eventsWithoutPulls, ["cancel", error1]);
  assert_array_equals(ws.events, ["write", "Hello"]);
}, "Errors must be propagated backward: becomes errored during piping due to write; preventCancel omitted");

// ---- piping/close-propagation-backward.any.js ----

promise_test(async () => {
  const rs = recordingReadableStream();
  const ws = recordingWritableStream();
  const writer = ws.getWriter();
  writer.close();
  writer.releaseLock();
  await promise_rejects_js(TypeError, rs.pipeTo(ws), "pipeTo must reject with a TypeError");
  assert_array_equals(rs.eventsWithoutPulls, ["cancel", rs.eventsWithoutPulls[1]]);
  assert_equals(rs.eventsWithoutPulls[1].constructor, TypeError, "the source is canceled with a TypeError");
  assert_array_equals(ws.events, ["close"]);
}, "Closing must be propagated backward: starts closed; preventCancel omitted; fulfilled cancel promise");

promise_test(async () => {
  const rs = recordingReadableStream();
  const ws = recordingWritableStream();
  const writer = ws.getWriter();
  writer.close();
  writer.releaseLock();
  await promise_rejects_js(TypeError, rs.pipeTo(ws, { preventCancel: true }), "pipeTo must reject with a TypeError");
  assert_array_equals(rs.eventsWithoutPulls, [], "the source is not canceled");
}, "Closing must be propagated backward: starts closed; preventCancel = true");

// ---- piping/flow-control.any.js ----

promise_test(async () => {
  const rs = recordingReadableStream({
    start(controller) {
      controller.enqueue("a");
      controller.enqueue("b");
      controller.close();
    },
  });
  let resolveWritePromise;
  const ws = recordingWritableStream({
    write() {
      if (!resolveWritePromise) {
        // first write
        return new Promise((resolve) => { resolveWritePromise = resolve; });
      }
      return undefined;
    },
  });
  const writer = ws.getWriter();
  const firstWritePromise = writer.write("already present");
  writer.releaseLock();
  const pipePromise = rs.pipeTo(ws);
  await delay(0);
  assert_array_equals(ws.events, ["write", "already present"]);
  resolveWritePromise();
  await firstWritePromise;
  await pipePromise;
  assert_array_equals(ws.events, ["write", "already present", "write", "a", "write", "b", "close"]);
}, "Piping from a non-empty ReadableStream into a WritableStream that does not desire chunks");

promise_test(async () => {
  let resolveWrite;
  const written = [];
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.enqueue("c");
      c.close();
    },
  });
  const ws = new WritableStream({
    write(chunk) {
      written.push(chunk);
      return new Promise((resolve) => { resolveWrite = resolve; });
    },
  }, new CountQueuingStrategy({ highWaterMark: 1 }));
  const pipePromise = rs.pipeTo(ws);
  await flushAsyncEvents();
  assert_array_equals(written, ["a"], "the pipe waits for the sink (desiredSize <= 0)");
  resolveWrite();
  await flushAsyncEvents();
  assert_array_equals(written, ["a", "b"]);
  resolveWrite();
  await flushAsyncEvents();
  resolveWrite();
  await pipePromise;
  assert_array_equals(written, ["a", "b", "c"]);
}, "Piping respects the destination's backpressure");

// ---- piping/pipe-through.any.js and transform-streams.any.js ----

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.enqueue("c");
      c.close();
    },
  });
  const ts = new TransformStream();
  const ws = new WritableStream();
  await rs.pipeThrough(ts).pipeTo(ws);
  await ws.getWriter().closed;
}, "Piping through an identity transform stream should close the destination when the source closes");

test(() => {
  const rs = new ReadableStream();
  const ts = new TransformStream();
  assert_equals(rs.pipeThrough(ts), ts.readable, "pipeThrough returns the readable side");
  assert_true(rs.locked && ts.writable.locked, "both are locked by the pipe");
}, "pipeThrough returns the transform's readable side and locks the source and the writable side");

test(() => {
  const rs = new ReadableStream();
  const ws = new WritableStream();
  assert_throws_js(TypeError, () => rs.pipeThrough(1), "a number");
  assert_throws_js(TypeError, () => rs.pipeThrough(undefined), "undefined");
  assert_throws_js(TypeError, () => rs.pipeThrough({ writable: ws }), "no readable", "ReadableStream.pipeThrough: 'readable' member of ReadableWritablePair is required");
  assert_throws_js(TypeError, () => rs.pipeThrough({ readable: new ReadableStream() }), "no writable");
  assert_throws_js(TypeError, () => rs.pipeThrough({ readable: {}, writable: ws }), "readable not a ReadableStream");
  assert_throws_js(TypeError, () => rs.pipeThrough({ readable: new ReadableStream(), writable: {} }), "writable not a WritableStream");
  assert_false(rs.locked, "nothing was locked");
}, "pipeThrough should throw when its first argument is not convertible to ReadableWritablePair");

test(() => {
  const rs = new ReadableStream();
  rs.getReader();
  assert_throws_js(TypeError, () => rs.pipeThrough(new TransformStream()), "locked source");
  const rs2 = new ReadableStream();
  const ts = new TransformStream();
  ts.writable.getWriter();
  assert_throws_js(TypeError, () => rs2.pipeThrough(ts), "locked destination");
}, "pipeThrough() should throw if either stream is locked");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.close();
    },
  });
  const upper = new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk.toUpperCase());
    },
  });
  const doubler = new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk + chunk);
    },
  });
  assert_array_equals(await readableStreamToArray(rs.pipeThrough(upper).pipeThrough(doubler)), ["AA"]);
}, "pipeThrough chains");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.close();
    },
  });
  const ts = new TransformStream({
    transform() {
      throw error1;
    },
  });
  const out = rs.pipeThrough(ts);
  await promise_rejects_exactly(error1, out.getReader().read(), "the readable side errors");
  await flushAsyncEvents();
  assert_false(rs.locked, "the source was canceled and released");
}, "an error in a transform propagates to the piped source and the readable side");

promise_test(async () => {
  await promise_rejects_js(TypeError, new ReadableStream().pipeTo(new WritableStream(), { signal: {} }), "", "ReadableStream.pipeTo: 'signal' member of StreamPipeOptions is not an AbortSignal");
  await promise_rejects_js(TypeError, new ReadableStream().pipeTo(new WritableStream(), { signal: 1 }), "number");
}, "pipeTo rejects a signal that is not an AbortSignal");

test(() => {
  const rs = new ReadableStream();
  assert_not_equals(rs.pipeTo(new WritableStream()), rs.pipeTo, "pipeTo returns a promise");
}, "pipeTo returns a promise");
