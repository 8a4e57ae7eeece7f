// performance.now() and timeOrigin.
import { promise_test, test, assert_true, assert_equals } from "./harness.js";

test(() => {
  const t = performance.now();
  assert_equals(typeof t, "number");
  assert_true(t >= 0 && t < 60000, `now() starts near 0 for a fresh instance: ${t}`);
  assert_true(Math.abs(performance.timeOrigin - Date.now()) < 60000, "timeOrigin is a Unix time in ms");
}, "now() is relative to the time origin");

promise_test(async () => {
  const a = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const b = performance.now();
  assert_true(b - a >= 4, `monotonic and advancing: ${a} -> ${b}`);
}, "now() advances with time");

test(() => {
  assert_true(performance instanceof Performance, "an instance of Performance");
  assert_equals(Object.prototype.toString.call(performance), "[object Performance]");
  let error;
  try {
    new Performance();
  } catch (e) {
    error = e;
  }
  assert_true(error instanceof TypeError);
  assert_equals(error.message, "Performance builtin can't be instantiated directly");
  assert_equals(typeof Object.getOwnPropertyDescriptor(Performance.prototype, "timeOrigin").get, "function");
}, "performance is a Performance, which has no constructor");
