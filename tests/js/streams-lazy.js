// The stream globals are installed lazily (js_lib.rs): accessors until first use, then data
// properties; an app's own value assigned before first use wins. This suite runs first
// thing in its own instance, so nothing has touched the stream globals yet.
import { test, assert_equals, assert_true, assert_false } from "./harness.js";

const before = {};
for (const name of ["ReadableStream", "WritableStream", "TransformStream", "CountQueuingStrategy", "CompressionStream"]) {
  before[name] = Object.getOwnPropertyDescriptor(globalThis, name);
}
const enumerableBefore = Object.keys(globalThis).filter((k) => k.includes("Stream"));
// Replace two globals before first use, one per library.
globalThis.ReadableStream = 1;
WritableStream = "mine";

test(() => {
  for (const [name, d] of Object.entries(before)) {
    assert_equals(typeof d.get, "function", `${name} getter`);
    assert_equals(typeof d.set, "function", `${name} setter`);
    assert_false(d.enumerable, `${name} enumerable`);
    assert_true(d.configurable, `${name} configurable`);
  }
  assert_equals(enumerableBefore.length, 0, "no stream global is enumerable");
}, "before first use, stream globals are hidden configurable accessors");

test(() => {
  assert_equals(ReadableStream, 1);
  const d = Object.getOwnPropertyDescriptor(globalThis, "ReadableStream");
  assert_equals(d.value, 1);
  // As if the accessor were the web IDL data property it stands for.
  assert_true(d.writable && !d.enumerable && d.configurable, "writable, hidden, configurable");
  assert_equals(WritableStream, "mine");
}, "assigning a stream global before first use replaces it");

test(() => {
  assert_equals(typeof TransformStream, "function");
  assert_equals(typeof CountQueuingStrategy, "function");
  assert_equals(ReadableStream, 1, "loading the libraries keeps the app's ReadableStream");
  assert_equals(WritableStream, "mine", "loading the libraries keeps the app's WritableStream");
  const d = Object.getOwnPropertyDescriptor(globalThis, "TransformStream");
  assert_equals(d.get, undefined, "after first use, a data property");
  assert_true(d.writable, "writable");
  assert_false(d.enumerable, "not enumerable");
  assert_true(d.configurable, "configurable");
  assert_equals(Object.getOwnPropertyDescriptor(globalThis, "ReadableStreamDefaultReader").get, undefined,
    "every global of the library is installed at once");
}, "first use installs every global of the library as a data property");

test(() => {
  // The library's classes still work although the app replaced the global.
  const ts = new TransformStream();
  assert_equals(ts.readable.constructor.name, "ReadableStream");
  assert_true(ts.readable instanceof Object.getPrototypeOf(ts.readable).constructor);
  assert_equals(typeof ts.readable.getReader, "function");
}, "the library does not depend on the app's globals");

test(() => {
  DecompressionStream = undefined;
  assert_equals(DecompressionStream, undefined);
  delete globalThis.CompressionStream;
  assert_equals(typeof globalThis.CompressionStream, "undefined");
}, "installed globals can be overwritten and deleted");
