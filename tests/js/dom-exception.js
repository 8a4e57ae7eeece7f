// DOMException, per WebIDL.
import { test, assert_equals, assert_true, assert_throws_js } from "./harness.js";

test(() => {
  const e = new DOMException();
  assert_equals(e.name, "Error");
  assert_equals(e.message, "");
  assert_equals(e.code, 0);
}, "defaults");

test(() => {
  const e = new DOMException("stopped", "AbortError");
  assert_equals(e.name, "AbortError");
  assert_equals(e.message, "stopped");
  assert_equals(e.code, 20);
  assert_equals(DOMException.ABORT_ERR, 20);
  assert_equals(e.ABORT_ERR, 20);
  assert_equals(new DOMException("x", "NotSupportedError").code, 9);
  assert_equals(new DOMException("x", "DataCloneError").code, 25);
  assert_equals(new DOMException("x", "NoSuchName").code, 0);
}, "names and legacy codes");

test(() => {
  const e = new DOMException("bad", "SyntaxError");
  assert_true(e instanceof DOMException);
  assert_true(e instanceof Error, "inherits from Error.prototype");
  assert_equals(Object.getPrototypeOf(DOMException.prototype), Error.prototype);
  assert_equals(String(e), "SyntaxError: bad");
  assert_equals(Object.prototype.hasOwnProperty.call(e, "name"), false, "name is an accessor on the prototype");
}, "inheritance and toString");

test(() => {
  assert_throws_js(TypeError, () => DOMException("x"));
  const getter = Object.getOwnPropertyDescriptor(DOMException.prototype, "name").get;
  assert_throws_js(TypeError, () => getter.call({}), "", "Method 'name' called on receiver that's not an instance of DOMException");
}, "brand checks");

test(() => {
  assert_equals(new DOMException(undefined, undefined).name, "Error");
  assert_equals(new DOMException(null, null).message, "null");
  assert_equals(new DOMException(42, "X").message, "42");
}, "argument conversion");
