// The harness tells passing from failing assertions, and a throw from a rejection.
import {
  test, promise_test, assert_equals, assert_array_equals, assert_throws_js, promise_rejects_js, assert_true,
} from "./harness.js";

const fails = (fn) => {
  try {
    fn();
  } catch {
    return true;
  }
  return false;
};

test(() => {
  assert_equals(1, 1);
  assert_true(fails(() => assert_equals(1, 2)));
  assert_true(fails(() => assert_equals(0, -0)));
  assert_array_equals([1, 2], [1, 2]);
  assert_true(fails(() => assert_array_equals([1], [1, 2])));
}, "equality assertions fail when they should");

test(() => {
  assert_throws_js(TypeError, () => null.x);
  assert_true(fails(() => assert_throws_js(TypeError, () => {})), "no throw");
  assert_true(fails(() => assert_throws_js(RangeError, () => null.x)), "wrong class");
  assert_true(fails(() => assert_throws_js(TypeError, () => { throw new TypeError("a"); }, "", "b")), "wrong message");
}, "assert_throws_js checks class and message");

promise_test(async () => {
  await promise_rejects_js(TypeError, Promise.reject(new TypeError("x")), "", "x");
  let failed = false;
  await promise_rejects_js(TypeError, Promise.resolve(1)).catch(() => { failed = true; });
  assert_true(failed, "a fulfilled promise fails");
  failed = false;
  await promise_rejects_js(TypeError, (() => { try { return null.x; } catch (e) { return e; } })()).catch(() => { failed = true; });
  assert_true(failed, "a non-promise fails");
}, "promise_rejects_js tells rejections apart");
