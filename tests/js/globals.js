// The small globals: atob/btoa, structuredClone, queueMicrotask, timers.
import { test, promise_test, assert_equals, assert_true, assert_array_equals, assert_throws_js } from "./harness.js";

test(() => {
  assert_equals(btoa("hello"), "aGVsbG8=");
  assert_equals(atob("aGVsbG8="), "hello");
  assert_equals(atob(" aGVs bG8= "), "hello", "ASCII whitespace is ignored");
  let threw = false;
  try {
    btoa("\u0100");
  } catch {
    threw = true;
  }
  assert_true(threw, "btoa refuses characters above U+00FF");
}, "atob and btoa");

test(() => {
  const source = { a: [1, { b: new Date(0) }], m: new Map([["k", new Set([1])]]) };
  source.self = source;
  const copy = structuredClone(source);
  assert_true(copy !== source);
  assert_true(copy.self === copy, "cycles preserved");
  assert_equals(copy.a[1].b.getTime(), 0);
  assert_true(copy.m.get("k").has(1));
  let threw = false;
  try {
    structuredClone(() => {});
  } catch {
    threw = true;
  }
  assert_true(threw, "functions cannot be cloned");
}, "structuredClone");

promise_test(async () => {
  const order = [];
  setTimeout(() => order.push("timeout"), 0);
  queueMicrotask(() => order.push("microtask"));
  Promise.resolve().then(() => order.push("promise"));
  order.push("sync");
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert_array_equals(order, ["sync", "microtask", "promise", "timeout"]);
}, "microtasks run before timers");

promise_test(async () => {
  let ticks = 0;
  await new Promise((resolve) => {
    const id = setInterval(() => {
      ticks += 1;
      if (ticks === 3) {
        clearInterval(id);
        resolve();
      }
    }, 1);
  });
  assert_equals(ticks, 3);
  let fired = false;
  clearTimeout(setTimeout(() => { fired = true; }, 1));
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert_equals(fired, false, "a cleared timeout never fires");
}, "setInterval, clearInterval, clearTimeout");
