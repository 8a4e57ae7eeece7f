// The globals written in JS (js_lib.rs) are evaluated at boot, before the app's code, as
// js-compute has them in its snapshot: web IDL data properties (writable, hidden,
// configurable) from the start; an app's own value replaces them, and the libraries' classes
// keep working without their globals. This suite runs first thing in its own instance.
import { test, assert_equals, assert_true, assert_false } from "./harness.js";

const before = {};
for (const name of ["ReadableStream", "WritableStream", "TransformStream", "CountQueuingStrategy", "CompressionStream"]) {
  before[name] = Object.getOwnPropertyDescriptor(globalThis, name);
}
const enumerableBefore = Object.keys(globalThis).filter((k) => k.includes("Stream"));
globalThis.ReadableStream = 1;
WritableStream = "mine";

test(() => {
  for (const [name, d] of Object.entries(before)) {
    assert_equals(typeof d.value, "function", `${name} value`);
    assert_equals(d.get, undefined, `${name} getter`);
    assert_true(d.writable, `${name} writable`);
    assert_false(d.enumerable, `${name} enumerable`);
    assert_true(d.configurable, `${name} configurable`);
  }
  assert_equals(enumerableBefore.length, 0, "no stream global is enumerable");
}, "before any use, stream globals are hidden data properties");

test(() => {
  assert_equals(ReadableStream, 1);
  const d = Object.getOwnPropertyDescriptor(globalThis, "ReadableStream");
  assert_equals(d.value, 1);
  assert_true(d.writable && !d.enumerable && d.configurable, "writable, hidden, configurable");
  assert_equals(WritableStream, "mine");
}, "an app's assignment replaces a stream global");

test(() => {
  // The library's classes still work although the app replaced the global.
  const ts = new TransformStream();
  assert_equals(ts.readable.constructor.name, "ReadableStream");
  assert_true(ts.readable instanceof Object.getPrototypeOf(ts.readable).constructor);
  assert_equals(typeof ts.readable.getReader, "function");
}, "the library does not depend on the app's globals");

test(() => {
  // The same lookup, again and again: each read gets the global it names.
  const seen = [];
  for (let i = 0; i < 3; i++) seen.push(typeof TransformStream, typeof CountQueuingStrategy);
  assert_equals(seen.join(), "function,function,function,function,function,function");
}, "repeated reads of a global get that global");

test(() => {
  DecompressionStream = undefined;
  assert_equals(DecompressionStream, undefined);
  delete globalThis.CompressionStream;
  assert_equals(typeof globalThis.CompressionStream, "undefined");
}, "the globals can be overwritten and deleted");
