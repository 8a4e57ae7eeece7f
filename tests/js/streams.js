// ReadableStream (default controller and reader), cancel and queuing strategies: ported from
// WPT streams/readable-streams/* and streams/queuing-strategies.any.js. No async iteration and
// no ReadableStream.from: js-compute 3.46's streams have neither (checked below).
import {
  test, promise_test, assert_equals, assert_not_equals, assert_array_equals, assert_true,
  assert_false, assert_throws_js, promise_rejects_js, delay, flushAsyncEvents,
  promise_rejects_exactly, assert_throws_exactly, assert_read,
} from "./harness.js";

const error1 = new Error("error1");
error1.name = "error1";


// ---- The globals ----

test(() => {
  for (const name of ["ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader",
    "ReadableStreamDefaultController", "ReadableByteStreamController", "ReadableStreamBYOBRequest",
    "WritableStream", "TransformStream", "ByteLengthQueuingStrategy", "CountQueuingStrategy",
    "CompressionStream", "DecompressionStream"]) {
    assert_equals(typeof globalThis[name], "function", name);
    const d = Object.getOwnPropertyDescriptor(globalThis, name);
    assert_false(d.enumerable, `${name} enumerable`);
    assert_true(d.writable, `${name} writable`);
    assert_true(d.configurable, `${name} configurable`);
    assert_equals(globalThis[name].name, name);
    // js-compute 3.46 tags only some of them.
    const untagged = ["ReadableStreamDefaultReader", "ReadableStreamBYOBReader",
      "ReadableStreamDefaultController", "ReadableByteStreamController", "ReadableStreamBYOBRequest",
      "WritableStream", "TransformStream"];
    assert_equals(globalThis[name].prototype[Symbol.toStringTag], untagged.includes(name) ? undefined : name, `${name} tag`);
  }
  assert_false(Object.keys(globalThis).includes("ReadableStream"));
}, "stream interfaces are globals as web IDL defines them");

test(() => {
  const proto = ReadableStream.prototype;
  for (const m of ["cancel", "getReader", "pipeThrough", "pipeTo", "tee"]) {
    const d = Object.getOwnPropertyDescriptor(proto, m);
    assert_equals(typeof d.value, "function", m);
    assert_true(d.enumerable && d.configurable && d.writable, `${m} attributes`);
  }
  // As on Compute: an app that iterates a stream must read it with a reader instead.
  assert_false("values" in proto, "no values()");
  assert_false(Symbol.asyncIterator in proto, "no [Symbol.asyncIterator]");
  assert_false("from" in ReadableStream, "no ReadableStream.from");
  assert_equals(typeof Object.getOwnPropertyDescriptor(proto, "locked").get, "function");
  assert_equals(ReadableStream.length, 0, "constructor length");
  assert_equals(proto.cancel.length, 0, "cancel length");
  assert_equals(proto.getReader.length, 0, "getReader length");
  assert_equals(proto.pipeTo.length, 1, "pipeTo length");
  assert_equals(proto.pipeThrough.length, 1, "pipeThrough length");
  assert_equals(ReadableStreamDefaultReader.length, 1, "reader constructor length");
  assert_equals(Object.prototype.toString.call(new ReadableStream()), "[object ReadableStream]");
}, "ReadableStream instances should have the correct list of properties");

// ---- readable-streams/general.any.js ----

test(() => {
  new ReadableStream();
  new ReadableStream({});
  new ReadableStream(undefined, undefined);
}, "ReadableStream can be constructed with no errors");

test(() => {
  assert_throws_js(TypeError, () => new ReadableStream(null), "null source");
  assert_throws_js(TypeError, () => new ReadableStream(5), "number source");
}, "ReadableStream can't be constructed with garbage");

test(() => {
  assert_throws_js(TypeError, () => new ReadableStream({ type: null }), "null");
  assert_throws_js(TypeError, () => new ReadableStream({ type: "" }), "empty string");
  assert_throws_js(TypeError, () => new ReadableStream({ type: "asdf" }), "asdf");
}, "ReadableStream can't be constructed with an invalid type");

test(() => {
  assert_throws_js(TypeError, () => new ReadableStream({ start: "potato" }), "start");
  assert_throws_js(TypeError, () => new ReadableStream({ cancel: "2" }), "cancel");
  assert_throws_js(TypeError, () => new ReadableStream({ pull: {} }), "pull");
}, "ReadableStream constructor should throw for non-function start, pull or cancel");

test(() => {
  let startCalled = false;
  const source = {
    start() {
      assert_equals(this, source, "source is this during start");
      startCalled = true;
    },
  };
  new ReadableStream(source);
  assert_true(startCalled);
}, "ReadableStream start should be called with the proper thisArg");

test(() => {
  new ReadableStream({
    start(c) {
      c.test = "";
      assert_equals(c.test, "");
    },
  });
}, "ReadableStream start controller parameter should be extensible");

test(() => {
  const rs = new ReadableStream();
  assert_throws_js(TypeError, () => rs.getReader({ mode: "" }), "empty string mode");
  assert_throws_js(TypeError, () => rs.getReader({ mode: null }), "null mode");
  assert_throws_js(TypeError, () => rs.getReader({ mode: "asdf" }), "asdf mode");
  assert_throws_js(TypeError, () => rs.getReader(5), "5");
  assert_throws_js(TypeError, () => rs.getReader({ mode: "byob" }), "byob on a default stream");
  rs.getReader(null);
}, "default ReadableStream getReader() should only accept mode:undefined");

test(() => {
  const rs = new ReadableStream();
  rs.getReader();
  assert_throws_js(TypeError, () => rs.getReader(), "", "ReadableStreamDefaultReader constructor: Cannot create a reader for a stream that is already locked to a reader");
}, "getReader() on a locked stream throws a TypeError with a clear message");

test(() => {
  assert_throws_js(TypeError, () => new ReadableStreamDefaultController(), "", "ReadableStreamDefaultController constructor: Illegal constructor");
  assert_throws_js(TypeError, () => new ReadableByteStreamController(), "byte controller");
  assert_throws_js(TypeError, () => new ReadableStreamBYOBRequest(), "byob request");
}, "controllers cannot be constructed directly");

test(() => {
  assert_throws_js(TypeError, () => ReadableStream.prototype.getReader.call({}), "", "Method 'getReader' called on receiver that's not an instance of ReadableStream");
  assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(ReadableStream.prototype, "locked").get.call({}));
  assert_throws_js(TypeError, () => ReadableStream.prototype.tee.call(Object.create(ReadableStream.prototype)));
}, "ReadableStream methods check their receiver");

promise_test(async () => {
  await promise_rejects_js(TypeError, ReadableStream.prototype.cancel.call({}), "cancel");
  await promise_rejects_js(TypeError, ReadableStreamDefaultReader.prototype.read.call({}), "read");
  await promise_rejects_js(TypeError, ReadableStream.prototype.pipeTo.call({}, {}), "pipeTo");
}, "promise-returning methods reject (not throw) on a wrong receiver");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      return delay(5).then(() => {
        c.enqueue("a");
        c.close();
      });
    },
  });
  const reader = rs.getReader();
  assert_read(await reader.read(), "a", false);
  await reader.closed;
}, "ReadableStream start should be able to return a promise");

promise_test(async () => {
  const rs = new ReadableStream({
    start() {
      return delay(5).then(() => Promise.reject(error1));
    },
  });
  await promise_rejects_exactly(error1, rs.getReader().closed);
}, "ReadableStream start should be able to return a promise and reject it");

promise_test(async () => {
  const objects = [{ potato: "Give me more!" }, "test", 1];
  const rs = new ReadableStream({
    start(c) {
      for (const o of objects) c.enqueue(o);
      c.close();
    },
  });
  const reader = rs.getReader();
  for (const o of objects) assert_read(await reader.read(), o, false);
  assert_read(await reader.read(), undefined, true);
}, "ReadableStream should be able to enqueue different objects.");

promise_test(async () => {
  const rs = new ReadableStream({
    pull() {
      return Promise.reject(error1);
    },
  });
  const reader = rs.getReader();
  await promise_rejects_exactly(error1, reader.read(), "read");
  await promise_rejects_exactly(error1, reader.closed, "closed");
}, "ReadableStream: if pull rejects, it should error the stream");

promise_test(async () => {
  let pullCount = 0;
  new ReadableStream({
    pull() {
      pullCount++;
    },
  });
  await flushAsyncEvents();
  assert_equals(pullCount, 1, "pull should be called once start finishes");
  await delay(10);
  assert_equals(pullCount, 1, "pull should be called exactly once");
}, "ReadableStream: should only call pull once upon starting the stream");

promise_test(async () => {
  let pullCount = 0;
  const rs = new ReadableStream({
    pull(c) {
      // Don't enqueue immediately after start: the stream must be empty when read() is called.
      if (pullCount > 0) c.enqueue(pullCount);
      ++pullCount;
    },
  });
  await flushAsyncEvents();
  assert_equals(pullCount, 1, "pull should be called once start finishes");
  const reader = rs.getReader();
  const read = reader.read();
  assert_equals(pullCount, 2, "pull should be called when read is called");
  const result = await read.then((r) => r);
  assert_equals(pullCount, 3, "pull should be called again in reaction to calling read");
  assert_read(result, 1, false, "the result read should be the one enqueued");
}, "ReadableStream: should call pull when trying to read from a started, empty stream");

promise_test(async () => {
  let pullCount = 0;
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
    },
    pull() {
      pullCount++;
    },
  });
  const read = rs.getReader().read();
  assert_equals(pullCount, 0, "calling read() should not cause pull to be called yet");
  await flushAsyncEvents();
  assert_equals(pullCount, 1, "pull should be called once start finishes");
  assert_read(await read, "a", false);
  assert_equals(pullCount, 1, "pull should not have been called again");
  await delay(10);
  assert_equals(pullCount, 1, "pull should be called exactly once");
}, "ReadableStream: should only call pull once on a non-empty stream read from before start fulfills");

promise_test(async () => {
  let pullCount = 0;
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
    },
    pull() {
      pullCount++;
    },
  });
  await flushAsyncEvents();
  assert_equals(pullCount, 0, "pull should not be called once start finishes, since the queue is full");
  const read = rs.getReader().read();
  assert_equals(pullCount, 1, "calling read() should cause pull to be called immediately");
  assert_read(await read, "a", false);
  await delay(10);
  assert_equals(pullCount, 1, "pull should be called exactly once");
}, "ReadableStream: should only call pull once on a non-empty stream read from after start fulfills");

promise_test(async () => {
  let pullCount = 0;
  let controller;
  const rs = new ReadableStream({
    start(c) {
      controller = c;
    },
    pull() {
      ++pullCount;
    },
  });
  const reader = rs.getReader();
  await flushAsyncEvents();
  assert_equals(pullCount, 1, "pull should have been called once by the time the stream starts");
  controller.enqueue("a");
  assert_equals(pullCount, 1, "pull should not have been called again after enqueue");
  await reader.read().then((r) => r);
  assert_equals(pullCount, 2, "pull should have been called again after read");
  await delay(10);
  assert_equals(pullCount, 2, "pull should be called exactly twice");
}, "ReadableStream: should call pull in reaction to read()ing the last chunk, if not draining");

promise_test(async () => {
  let pullCount = 0;
  let controller;
  const rs = new ReadableStream({
    start(c) {
      controller = c;
    },
    pull() {
      ++pullCount;
    },
  });
  const reader = rs.getReader();
  await flushAsyncEvents();
  assert_equals(pullCount, 1, "pull should have been called once by the time the stream starts");
  controller.enqueue("a");
  assert_equals(pullCount, 1, "pull should not have been called again after enqueue");
  controller.close();
  await reader.read();
  assert_equals(pullCount, 1, "pull should not have been called a second time after read");
  await delay(10);
  assert_equals(pullCount, 1, "pull should be called exactly once");
}, "ReadableStream: should not call pull() in reaction to read()ing the last chunk, if draining");

promise_test(() => {
  let resolve;
  let returnedPromise;
  let timesCalled = 0;
  const rs = new ReadableStream({
    pull(c) {
      c.enqueue(++timesCalled);
      returnedPromise = new Promise((r) => { resolve = r; });
      return returnedPromise;
    },
  });
  const reader = rs.getReader();
  return reader.read().then((result1) => {
    assert_equals(timesCalled, 1, "pull should have been called once after start, but not yet have been called a second time");
    assert_read(result1, 1, false, "read() should fulfill with the enqueued value");
    return delay(10);
  }).then(() => {
    assert_equals(timesCalled, 1, "after 10 ms, pull should still only have been called once");
    resolve();
    return returnedPromise;
  }).then(() => {
    assert_equals(timesCalled, 2, "after the promise returned by pull is fulfilled, pull should be called a second time");
  });
}, "ReadableStream: should not call pull until the previous pull call's promise fulfills");

promise_test(async () => {
  let timesCalled = 0;
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.enqueue("c");
    },
    pull() {
      ++timesCalled;
    },
  }, {
    size() {
      return 1;
    },
    highWaterMark: Infinity,
  });
  const reader = rs.getReader();
  await flushAsyncEvents();
  assert_read(await reader.read(), "a", false, "first chunk");
  assert_read(await reader.read(), "b", false, "second chunk");
  assert_read(await reader.read(), "c", false, "third chunk");
  await delay(10);
  // Once for after start, and once for every read.
  assert_equals(timesCalled, 4, "pull() should be called exactly four times");
}, "ReadableStream: should pull after start, and after every read");

promise_test(async () => {
  let pullCalled = false;
  const startPromise = Promise.resolve();
  const rs = new ReadableStream({
    start(c) {
      c.close();
      return startPromise;
    },
    pull() {
      pullCalled = true;
    },
  });
  await startPromise;
  assert_false(pullCalled, "pull should not be called");
  await rs.getReader().closed;
}, "ReadableStream: should not call pull after start if the stream is now closed");

promise_test(async () => {
  let timesCalled = 0;
  const startPromise = Promise.resolve();
  new ReadableStream({
    start() {
      return startPromise;
    },
    pull(c) {
      c.enqueue(++timesCalled);
    },
  }, {
    size() {
      return 1;
    },
    highWaterMark: 4,
  });
  await startPromise;
  await delay(10);
  assert_equals(timesCalled, 4, "pull() should have been called exactly four times");
}, "ReadableStream: should call pull after enqueueing from inside pull (with no read requests), if strategy allows");

promise_test(async () => {
  const rs = new ReadableStream({
    pull(c) {
      c.close();
    },
  });
  await rs.getReader().closed;
}, "ReadableStream pull should be able to close a stream.");

promise_test(async () => {
  const rs = new ReadableStream({
    pull(c) {
      c.error(error1);
    },
  });
  await promise_rejects_exactly(error1, rs.getReader().closed);
}, "ReadableStream pull should be able to error a stream.");

promise_test(async () => {
  const rs = new ReadableStream({
    pull(c) {
      c.error(error1);
      throw new TypeError("irrelevant");
    },
  });
  await promise_rejects_exactly(error1, rs.getReader().closed);
}, "ReadableStream pull should be able to error a stream and throw.");

test(() => {
  let threw = false;
  new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.close();
      assert_throws_js(TypeError, () => c.enqueue("b"), "", "ReadableStreamDefaultController.enqueue: the stream is not readable or is already closing");
      threw = true;
    },
  });
  assert_true(threw);
}, "ReadableStream: enqueue should throw when the stream is readable but draining");

test(() => {
  new ReadableStream({
    start(c) {
      c.close();
      assert_throws_js(TypeError, () => c.enqueue("a"), "enqueue");
      assert_throws_js(TypeError, () => c.close(), "close");
    },
  });
}, "ReadableStream: enqueue and close should throw when the stream is closed");

promise_test(async () => {
  let startCalled = 0;
  let pullCalled = 0;
  let cancelCalled = 0;
  class Source {
    start(c) {
      startCalled++;
      assert_equals(this, theSource, "start() should be called with the correct this");
      c.enqueue("a");
    }
    pull() {
      pullCalled++;
      assert_equals(this, theSource, "pull() should be called with the correct this");
    }
    cancel() {
      cancelCalled++;
      assert_equals(this, theSource, "cancel() should be called with the correct this");
    }
  }
  const theSource = new Source();
  theSource.debugName = "the source object passed to the constructor";
  const rs = new ReadableStream(theSource);
  const reader = rs.getReader();
  await reader.read();
  reader.releaseLock();
  await rs.cancel();
  assert_equals(startCalled, 1);
  assert_equals(pullCalled, 1);
  assert_equals(cancelCalled, 1);
}, "ReadableStream: should call underlying source methods as methods");

test(() => {
  let controller;
  new ReadableStream({ start(c) { controller = c; } }, { highWaterMark: 10 });
  assert_equals(controller.desiredSize, 10, "desiredSize must start at highWaterMark");
  controller.close();
  assert_equals(controller.desiredSize, 0, "after closing, desiredSize must be 0");
}, "ReadableStream: desiredSize when closed");

test(() => {
  let controller;
  new ReadableStream({ start(c) { controller = c; } }, { highWaterMark: 10 });
  assert_equals(controller.desiredSize, 10, "desiredSize must start at highWaterMark");
  controller.error();
  assert_equals(controller.desiredSize, null, "after erroring, desiredSize must be null");
}, "ReadableStream: desiredSize when errored");

promise_test(async () => {
  class Subclass extends ReadableStream {
    extraFunction() {
      return true;
    }
  }
  assert_equals(Object.getPrototypeOf(Subclass.prototype), ReadableStream.prototype);
  const s = new Subclass({ start(c) { c.enqueue("x"); c.close(); } });
  assert_true(s.extraFunction(), "extraFunction() should be present on Subclass");
  assert_true(s instanceof ReadableStream);
  assert_false(s.locked);
  assert_read(await s.getReader().read(), "x", false);
}, "Subclassing ReadableStream should work");

test(() => {
  let controller;
  new ReadableStream({ start(c) { controller = c; } });
  assert_equals(controller.desiredSize, 1, "desiredSize should start at 1");
  controller.enqueue("a");
  assert_equals(controller.desiredSize, 0, "desiredSize should decrease to 0 after first enqueue");
  controller.enqueue("b");
  assert_equals(controller.desiredSize, -1, "desiredSize should decrease to -1 after second enqueue");
  controller.enqueue("c");
  assert_equals(controller.desiredSize, -2, "desiredSize should decrease to -2 after third enqueue");
}, "ReadableStream strategies: the default strategy should give desiredSize of 1 to start, decreasing by 1 per enqueue");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } });
  const reader = rs.getReader();
  assert_equals(controller.desiredSize, 1, "desiredSize should start at 1");
  controller.enqueue("a");
  assert_equals(controller.desiredSize, 0, "desiredSize should decrease to 0 after first enqueue");
  assert_read(await reader.read(), "a", false);
  assert_equals(controller.desiredSize, 1, "desiredSize should go up to 1 after the first read");
  controller.enqueue("b");
  assert_equals(controller.desiredSize, 0, "desiredSize should decrease to 0 after second enqueue");
  assert_read(await reader.read(), "b", false);
  assert_equals(controller.desiredSize, 1, "desiredSize should go up to 1 after the second read");
}, "ReadableStream strategies: the default strategy should continue giving desiredSize of 1 if the chunks are read immediately");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } });
  const reader = rs.getReader();
  const read = reader.read();
  controller.enqueue("a");
  assert_read(await read, "a", false);
  assert_equals(controller.desiredSize, 1, "the chunk went straight to the pending read");
}, "ReadableStream: enqueue fulfills a pending read directly");

// ---- readable-streams/bad-strategies.any.js and bad-underlying-sources.any.js ----

test(() => {
  assert_throws_exactly(error1, () => new ReadableStream({}, {
    get size() {
      throw error1;
    },
    highWaterMark: 5,
  }), "construction should re-throw the error");
}, "Readable stream: throwing strategy.size getter");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({
    start(c) {
      controller = c;
    },
  }, {
    size() {
      controller.error(error1);
      throw new TypeError("irrelevant");
    },
    highWaterMark: 5,
  });
  assert_throws_js(TypeError, () => controller.enqueue("a"), "enqueue should re-throw the error");
  await promise_rejects_exactly(error1, rs.getReader().closed);
}, "Readable stream: strategy.size errors the stream and then throws");

test(() => {
  assert_throws_exactly(error1, () => new ReadableStream({}, {
    size() {
      return 1;
    },
    get highWaterMark() {
      throw error1;
    },
  }), "construction should re-throw the error");
}, "Readable stream: throwing strategy.highWaterMark getter");

test(() => {
  for (const highWaterMark of [-1, -Infinity, NaN, "foo", {}]) {
    assert_throws_js(RangeError, () => new ReadableStream({}, { size() { return 1; }, highWaterMark }), `highWaterMark ${String(highWaterMark)}`);
  }
}, "Readable stream: invalid strategy.highWaterMark");

promise_test(async () => {
  for (const size of [NaN, -Infinity, +Infinity, -1]) {
    let theError;
    const rs = new ReadableStream({
      start(c) {
        try {
          c.enqueue("hi");
          assert_true(false, "enqueue didn't throw");
        } catch (error) {
          assert_equals(error.constructor, RangeError, `enqueue should throw a RangeError for ${size}`);
          theError = error;
        }
      },
    }, {
      size() {
        return size;
      },
      highWaterMark: 5,
    });
    await promise_rejects_exactly(theError, rs.getReader().closed, `closed should reject with the error for ${size}`);
  }
}, "Readable stream: invalid strategy.size return value");

test(() => {
  const theError = new Error("a unique string");
  assert_throws_exactly(theError, () => {
    new ReadableStream({
      get start() {
        throw theError;
      },
    });
  });
}, "Underlying source start: throwing getter");

test(() => {
  const theError = new Error("a unique string");
  assert_throws_exactly(theError, () => {
    new ReadableStream({
      start() {
        throw theError;
      },
    });
  });
}, "Underlying source start: throwing method");

promise_test(async () => {
  const theError = new Error("a unique string");
  const rs = new ReadableStream({
    pull() {
      throw theError;
    },
  });
  await promise_rejects_exactly(theError, rs.getReader().closed);
}, "Underlying source: throwing pull method (initial pull)");

promise_test(async () => {
  const theError = new Error("a unique string");
  const rs = new ReadableStream({
    cancel() {
      throw theError;
    },
  });
  await promise_rejects_exactly(theError, rs.cancel());
}, "Underlying source: throwing cancel method");

test(() => {
  const order = [];
  new ReadableStream({
    get autoAllocateChunkSize() { order.push("autoAllocateChunkSize"); return undefined; },
    get cancel() { order.push("cancel"); return undefined; },
    get pull() { order.push("pull"); return undefined; },
    get start() { order.push("start"); return undefined; },
    get type() { order.push("type"); return undefined; },
  }, {
    get highWaterMark() { order.push("highWaterMark"); return 1; },
    get size() { order.push("size"); return undefined; },
  });
  assert_array_equals(order, ["highWaterMark", "size", "autoAllocateChunkSize", "cancel", "pull", "start", "type"]);
}, "ReadableStream constructor reads the strategy, then the source's members in order");

// ---- readable-streams/default-reader.any.js ----

test(() => {
  assert_throws_js(TypeError, () => new ReadableStreamDefaultReader("potato"));
  assert_throws_js(TypeError, () => new ReadableStreamDefaultReader({}));
  assert_throws_js(TypeError, () => new ReadableStreamDefaultReader());
}, "ReadableStreamDefaultReader constructor should get a ReadableStream object as argument");

test(() => {
  const rs = new ReadableStream();
  const reader = new ReadableStreamDefaultReader(rs);
  assert_equals(reader.closed, reader.closed, "closed should return the same promise");
}, "ReadableStreamDefaultReader closed should always return the same promise object");

test(() => {
  const rs = new ReadableStream();
  new ReadableStreamDefaultReader(rs);
  assert_throws_js(TypeError, () => new ReadableStreamDefaultReader(rs), "constructing directly should fail");
  assert_throws_js(TypeError, () => rs.getReader(), "getReader() should fail");
}, "Constructing a ReadableStreamDefaultReader directly should fail if the stream is already locked");

promise_test(async () => {
  const closed = new ReadableStream({ start(c) { c.close(); } });
  await new ReadableStreamDefaultReader(closed).closed;
  const errored = new ReadableStream({ start(c) { c.error(error1); } });
  await promise_rejects_exactly(error1, new ReadableStreamDefaultReader(errored).closed);
}, "Constructing a ReadableStreamDefaultReader directly should be OK if the stream is closed or errored");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } });
  const reader = rs.getReader();
  const promise = reader.read().then((result) => {
    assert_read(result, "a", false, "read() should fulfill with the enqueued chunk");
  });
  controller.enqueue("a");
  await promise;
}, "Reading from a reader for an empty stream will wait until a chunk is available");

promise_test(async () => {
  let cancelCalled = false;
  const passedReason = new TypeError("it wasn't the right time, sorry");
  const rs = new ReadableStream({
    cancel(reason) {
      assert_true(rs.locked, "the stream should still be locked");
      assert_throws_js(TypeError, () => rs.getReader(), "should not be able to get another reader");
      assert_equals(reason, passedReason, "the cancellation reason is passed through to the underlying source");
      cancelCalled = true;
    },
  });
  const reader = rs.getReader();
  await reader.cancel(passedReason);
  assert_true(cancelCalled);
}, "cancel() on a reader does not release the reader");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } });
  const reader = rs.getReader();
  const promise = reader.closed;
  controller.close();
  await promise;
}, "closed should be fulfilled after stream is closed (.closed access before acquiring)");

promise_test(async () => {
  let controller;
  const stream = new ReadableStream({ start(c) { controller = c; } });
  const reader1 = stream.getReader();
  reader1.releaseLock();
  const reader2 = stream.getReader();
  controller.close();
  await promise_rejects_js(TypeError, reader1.closed, "reader1", "The reader's lock on the stream was released");
  await reader2.closed;
}, "closed should be rejected after reader releases its lock (multiple stream locks)");

promise_test(async () => {
  let controller;
  const stream = new ReadableStream({ start(c) { controller = c; } });
  const reader = stream.getReader();
  const promise1 = reader.closed;
  controller.close();
  reader.releaseLock();
  const promise2 = reader.closed;
  assert_not_equals(promise1, promise2, ".closed should be replaced");
  await promise1;
  await promise_rejects_js(TypeError, promise2, ".closed after releasing lock");
}, "closed is replaced when stream closes and reader releases its lock");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.close();
    },
  });
  const reader1 = rs.getReader();
  assert_read(await reader1.read(), "a", false);
  reader1.releaseLock();
  const reader2 = rs.getReader();
  assert_read(await reader2.read(), "b", false);
  reader2.releaseLock();
}, "Multiple readers can access the stream in sequence");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
    },
  });
  const reader1 = rs.getReader();
  reader1.releaseLock();
  const reader2 = rs.getReader();
  reader1.releaseLock();
  assert_true(rs.locked, "reader2 still holds the lock");
  assert_read(await reader2.read(), "a", false);
  await promise_rejects_js(TypeError, reader1.read(), "read() on the released reader");
  await promise_rejects_js(TypeError, reader1.cancel(), "cancel() on the released reader");
}, "Cannot use an already-released reader to unlock a stream again");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.error(error1); } });
  const reader = rs.getReader();
  await promise_rejects_exactly(error1, reader.closed);
  reader.releaseLock();
  await promise_rejects_exactly(error1, rs.getReader().closed);
}, "Getting a second reader after erroring the stream and releasing the reader should succeed");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.error(); } });
  await promise_rejects_exactly(undefined, rs.getReader().closed);
}, "ReadableStreamDefaultReader closed promise should be rejected with undefined if that is the error");

promise_test(async () => {
  const rs = new ReadableStream({ start() { return Promise.reject(); } });
  await promise_rejects_exactly(undefined, rs.getReader().read());
}, "ReadableStreamDefaultReader: if start rejects with no parameter, it should error the stream with an undefined error");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } });
  const reader = rs.getReader();
  const promise = promise_rejects_exactly(error1, reader.closed);
  controller.error(error1);
  await promise;
}, "Erroring a ReadableStream after checking closed should reject ReadableStreamDefaultReader closed promise");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.close(); } });
  const reader = rs.getReader();
  const results = await Promise.all([reader.read(), reader.read()]);
  assert_read(results[0], undefined, true, "first");
  assert_read(results[1], undefined, true, "second");
  await reader.closed;
}, "Reading twice on a closed stream");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } });
  const reader = rs.getReader();
  const reads = [reader.read(), reader.read()];
  controller.close();
  for (const r of await Promise.all(reads)) assert_read(r, undefined, true);
}, "Reading twice on a stream that gets closed");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } });
  const reader = rs.getReader();
  const reads = [reader.read(), reader.read()];
  controller.error(error1);
  await promise_rejects_exactly(error1, reads[0], "first");
  await promise_rejects_exactly(error1, reads[1], "second");
  await promise_rejects_exactly(error1, reader.read(), "third");
}, "Reading twice on a stream that gets errored");

promise_test(async () => {
  const rs = new ReadableStream();
  const reader = rs.getReader();
  const read = reader.read();
  reader.releaseLock();
  await promise_rejects_js(TypeError, read, "pending read", "The reader's lock on the stream was released");
  assert_false(rs.locked);
}, "releaseLock() should reject pending read requests");

// ---- readable-streams/cancel.any.js ----

promise_test(async () => {
  let recordedReason;
  const rs = new ReadableStream({
    cancel(reason) {
      recordedReason = reason;
    },
  });
  const passedReason = new Error("Sorry, it just wasn't meant to be.");
  await rs.cancel(passedReason);
  assert_equals(recordedReason, passedReason);
}, "ReadableStream cancellation: cancel(reason) should pass through the given reason to the underlying source");

promise_test(async () => {
  let cancelCalled = false;
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.close();
    },
    cancel() {
      cancelCalled = true;
    },
  });
  const reader = rs.getReader();
  await promise_rejects_js(TypeError, rs.cancel(), "cancel() on a locked stream", "ReadableStream.cancel: Cannot cancel a stream that is locked to a reader");
  assert_false(cancelCalled, "the underlying source's cancel is not called");
  assert_read(await reader.read(), "a", false, "the stream is still readable");
}, "ReadableStream cancellation: cancel() on a locked stream should fail and not call the underlying source cancel");

promise_test(async () => {
  const rs = new ReadableStream({
    cancel() {
      return "Hello";
    },
  });
  assert_equals(await rs.cancel(), undefined);
}, "ReadableStream cancellation: returning a value from the underlying source's cancel should not affect the fulfillment value of the promise returned by the stream's cancel");

promise_test(async () => {
  let resolveSourceCancelPromise;
  let sourceCancelPromiseHasFulfilled = false;
  const rs = new ReadableStream({
    cancel() {
      return new Promise((resolve) => { resolveSourceCancelPromise = resolve; }).then(() => {
        sourceCancelPromiseHasFulfilled = true;
      });
    },
  });
  const cancelPromise = rs.cancel().then(() => {
    assert_true(sourceCancelPromiseHasFulfilled, "the stream's cancel() promise should fulfill after the source's");
  });
  await delay(10);
  resolveSourceCancelPromise("Hello");
  await cancelPromise;
}, "ReadableStream cancellation: if the underlying source's cancel method returns a promise, the promise returned by the stream's cancel should fulfill when that one does");

promise_test(async () => {
  let rejectSourceCancelPromise;
  const rs = new ReadableStream({
    cancel() {
      return new Promise((resolve, reject) => { rejectSourceCancelPromise = reject; });
    },
  });
  const cancelPromise = rs.cancel();
  await delay(10);
  rejectSourceCancelPromise(error1);
  await promise_rejects_exactly(error1, cancelPromise);
}, "ReadableStream cancellation: if the underlying source's cancel method returns a promise, the promise returned by the stream's cancel should reject when that one does");

promise_test(async () => {
  let pullCalled = false;
  const rs = new ReadableStream({
    start() {
      return delay(5);
    },
    pull() {
      pullCalled = true;
    },
  });
  await rs.cancel();
  await delay(20);
  assert_false(pullCalled, "pull() should not have been called");
}, "ReadableStream cancellation: cancelling before start finishes should prevent pull() from being called");

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } });
  const reader = rs.getReader();
  const read = reader.read();
  await reader.cancel();
  assert_read(await read, undefined, true, "pending read");
  assert_throws_js(TypeError, () => controller.enqueue("a"), "enqueue after cancel");
  await reader.closed;
}, "ReadableStream cancellation: cancel() closes the stream and pending reads");

// ---- queuing-strategies.any.js ----

for (const QueuingStrategy of [CountQueuingStrategy, ByteLengthQueuingStrategy]) {
  const name = QueuingStrategy.name;

  test(() => {
    new QueuingStrategy({ highWaterMark: 4 });
  }, `${name}: Can construct a with a valid high water mark`);

  test(() => {
    const highWaterMark = 1;
    const highWaterMarkObjectGetter = { get highWaterMark() { return highWaterMark; } };
    const error = new Error("wow!");
    const highWaterMarkObjectGetterThrowing = { get highWaterMark() { throw error; } };
    assert_throws_js(TypeError, () => new QueuingStrategy(), "construction fails with undefined");
    assert_throws_js(TypeError, () => new QueuingStrategy(null), "construction fails with null");
    assert_throws_js(TypeError, () => new QueuingStrategy(true), "construction fails with true");
    assert_throws_js(TypeError, () => new QueuingStrategy(5), "construction fails with 5");
    assert_throws_js(TypeError, () => new QueuingStrategy({}), "construction fails with {}");
    assert_throws_exactly(error, () => new QueuingStrategy(highWaterMarkObjectGetterThrowing), "construction fails with an object with a throwing highWaterMark getter");
    assert_equals(new QueuingStrategy(highWaterMarkObjectGetter).highWaterMark, highWaterMark);
  }, `${name}: Constructor behaves as expected with strange arguments`);

  test(() => {
    for (const [input, output] of [[-4, -4], [0, 0], ["3", 3], ["x", NaN], [null, 0], [true, 1]]) {
      assert_equals(new QueuingStrategy({ highWaterMark: input }).highWaterMark, output, `highWaterMark ${String(input)}`);
    }
  }, `${name}: highWaterMark constructor values are converted per the unrestricted double rules`);

  test(() => {
    const size1 = new QueuingStrategy({ highWaterMark: 5 }).size;
    const size2 = new QueuingStrategy({ highWaterMark: 10 }).size;
    assert_equals(size1, size2);
    assert_equals(size1.name, "size");
    assert_equals(size1.length, QueuingStrategy === CountQueuingStrategy ? 0 : 1);
    assert_false("prototype" in size1, "size has no prototype");
    assert_throws_js(TypeError, () => new size1(), "size is not a constructor");
  }, `${name}: size is the same function across all instances, named size, not a constructor`);

  test(() => {
    const thisValue = null;
    const chunk = { byteLength: 3 };
    const size = new QueuingStrategy({ highWaterMark: 5 }).size;
    assert_equals(size.call(thisValue, chunk), QueuingStrategy === CountQueuingStrategy ? 1 : 3);
    if (QueuingStrategy === CountQueuingStrategy) assert_equals(size(), 1);
    else assert_throws_js(TypeError, () => size(), "no chunk to read byteLength from");
  }, `${name}: size should work generically on its this and its arguments`);

  test(() => {
    const getter = Object.getOwnPropertyDescriptor(QueuingStrategy.prototype, "highWaterMark").get;
    assert_throws_js(TypeError, () => getter.call({}), "highWaterMark getter on a plain object");
    const sizeGetter = Object.getOwnPropertyDescriptor(QueuingStrategy.prototype, "size").get;
    assert_throws_js(TypeError, () => sizeGetter.call({}), "size getter on a plain object");
    const strategy = new QueuingStrategy({ highWaterMark: 5 });
    assert_false(Object.prototype.hasOwnProperty.call(strategy, "highWaterMark"), "an accessor, not an own property");
  }, `${name}: highWaterMark and size are brand-checked accessors on the prototype`);

  test(() => {
    class SubClass extends QueuingStrategy {
      size() {
        return 2;
      }
      subClassMethod() {
        return true;
      }
    }
    const sc = new SubClass({ highWaterMark: 77 });
    assert_equals(sc.constructor.name, "SubClass");
    assert_equals(sc.highWaterMark, 77);
    assert_equals(sc.size(), 2);
    assert_true(sc.subClassMethod());
  }, `${name}: subclassing should work correctly`);
}

promise_test(async () => {
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; } }, new ByteLengthQueuingStrategy({ highWaterMark: 10 }));
  assert_equals(controller.desiredSize, 10);
  controller.enqueue(new Uint8Array(4));
  assert_equals(controller.desiredSize, 6);
  controller.enqueue(new Uint8Array(7));
  assert_equals(controller.desiredSize, -1);
  assert_equals((await rs.getReader().read()).value.byteLength, 4);
}, "ByteLengthQueuingStrategy works as a ReadableStream strategy");
