// Event, EventTarget, AbortController, AbortSignal (DOM standard).
import {
  test, promise_test, assert_equals, assert_true, assert_false, assert_array_equals, assert_throws_js,
} from "./harness.js";

test(() => {
  const e = new Event("ping", { cancelable: true, bubbles: true });
  assert_equals(e.type, "ping");
  assert_true(e.bubbles);
  assert_true(e.cancelable);
  assert_false(e.defaultPrevented);
  e.preventDefault();
  assert_true(e.defaultPrevented);
  assert_equals(e.eventPhase, Event.NONE);
  assert_equals(String(e), "[object Event]");
  assert_throws_js(TypeError, () => new Event(), "", "Event constructor: At least 1 argument required, but only 0 passed");
}, "Event basics");

test(() => {
  const target = new EventTarget();
  const seen = [];
  const listener = (e) => seen.push(`${e.type}:${e.target === target}:${e.currentTarget === target}`);
  target.addEventListener("x", listener);
  target.addEventListener("x", listener); // duplicate ignored
  target.addEventListener("x", { handleEvent: (e) => seen.push(`object:${e.type}`) });
  target.addEventListener("x", () => seen.push("once"), { once: true });
  assert_true(target.dispatchEvent(new Event("x")));
  target.dispatchEvent(new Event("x"));
  target.removeEventListener("x", listener);
  target.dispatchEvent(new Event("x"));
  assert_array_equals(seen, ["x:true:true", "object:x", "once", "x:true:true", "object:x", "object:x"]);
}, "listeners: order, duplicates, once, handleEvent, removal");

test(() => {
  const target = new EventTarget();
  const seen = [];
  target.addEventListener("x", (e) => { seen.push(1); e.stopImmediatePropagation(); });
  target.addEventListener("x", () => seen.push(2));
  target.addEventListener("y", (e) => e.preventDefault());
  target.dispatchEvent(new Event("x"));
  assert_array_equals(seen, [1]);
  assert_false(target.dispatchEvent(new Event("y", { cancelable: true })), "canceled");
  assert_true(target.dispatchEvent(new Event("y")), "not cancelable");
}, "stopImmediatePropagation and the dispatch result");

test(() => {
  class Custom extends EventTarget {}
  const c = new Custom();
  let called = 0;
  c.addEventListener("go", () => { called += 1; });
  c.dispatchEvent(new Event("go"));
  assert_equals(called, 1);
  assert_throws_js(TypeError, () => c.dispatchEvent({ type: "go" }));
  assert_throws_js(TypeError, () => EventTarget.prototype.addEventListener.call({}, "x", () => {}), "",
    "Method 'addEventListener' called on receiver that's not an instance of EventTarget");
}, "subclassing and brand checks");

test(() => {
  const controller = new AbortController();
  const { signal } = controller;
  assert_false(signal.aborted);
  const seen = [];
  signal.addEventListener("abort", (e) => seen.push(`event:${e.type}`));
  signal.onabort = () => seen.push("onabort");
  controller.abort();
  controller.abort("again"); // no second event
  assert_true(signal.aborted);
  assert_equals(signal.reason.name, "AbortError");
  assert_true(signal.reason instanceof DOMException);
  assert_array_equals(seen, ["event:abort", "onabort"]);
  assert_throws_js(DOMException, () => signal.throwIfAborted());
}, "AbortController aborts once with an AbortError");

test(() => {
  const reason = new Error("why");
  const signal = AbortSignal.abort(reason);
  assert_true(signal.aborted);
  assert_equals(signal.reason, reason);
  try {
    signal.throwIfAborted();
  } catch (e) {
    assert_equals(e, reason);
  }
  assert_throws_js(TypeError, () => new AbortSignal(), "", "AbortSignal constructor: Illegal constructor");
}, "AbortSignal.abort and the illegal constructor");

promise_test(async () => {
  const signal = AbortSignal.timeout(5);
  assert_false(signal.aborted);
  await new Promise((resolve) => signal.addEventListener("abort", resolve));
  assert_equals(signal.reason.name, "TimeoutError");
}, "AbortSignal.timeout");

test(() => {
  const a = new AbortController();
  const b = new AbortController();
  const any = AbortSignal.any([a.signal, b.signal]);
  assert_false(any.aborted);
  b.abort("b first");
  assert_true(any.aborted);
  assert_equals(any.reason, "b first");
  const already = AbortSignal.any([AbortSignal.abort("x")]);
  assert_equals(already.reason, "x");
}, "AbortSignal.any follows the first abort");

test(() => {
  const target = new EventTarget();
  const controller = new AbortController();
  let calls = 0;
  target.addEventListener("x", () => { calls += 1; }, { signal: controller.signal });
  target.dispatchEvent(new Event("x"));
  controller.abort();
  target.dispatchEvent(new Event("x"));
  assert_equals(calls, 1);
}, "a listener added with a signal is removed on abort");

test(() => {
  assert_false(Object.keys(globalThis).includes("EventTarget"), "not enumerable");
  assert_equals(typeof Event, "function");
}, "globals are installed as web IDL interfaces");
