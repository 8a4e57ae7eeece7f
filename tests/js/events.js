// Event, EventTarget, CustomEvent (DOM standard); js-compute 3.46 has no AbortController.
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
  // As on Compute (js-compute 3.46).
  assert_equals(typeof AbortController, "undefined");
  assert_equals(typeof AbortSignal, "undefined");
  assert_throws_js(TypeError, () => new EventTarget().addEventListener("x", () => {}, { signal: {} }), "",
    "EventTarget.addEventListener: 'signal' member of AddEventListenerOptions does not implement interface AbortSignal.");
}, "there is no AbortController or AbortSignal");

test(() => {
  const event = new CustomEvent("ping", { detail: { n: 1 } });
  assert_equals(event.type, "ping");
  assert_equals(event.detail.n, 1);
  assert_true(event instanceof Event);
  assert_equals(new CustomEvent("x").detail, null);
  assert_equals(Object.prototype.toString.call(event), "[object CustomEvent]");
}, "CustomEvent carries its detail");

test(() => {
  assert_false(Object.keys(globalThis).includes("EventTarget"), "not enumerable");
  assert_equals(typeof Event, "function");
}, "globals are installed as web IDL interfaces");
