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
