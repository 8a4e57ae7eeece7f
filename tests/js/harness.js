// A small testharness.js in the style of WPT, for the engine's JS-level suites.
//
// A suite file imports what it needs, declares tests with `test` / `promise_test`, and is
// served as an app: the fetch handler runs every test in order and answers JSON
// `{ "passed": [names], "failed": [{ "name", "message" }] }`. `tests/js_suite.rs` runs each
// suite and fails naming every failing test.

const tests = [];

export function test(fn, name) {
  tests.push({ name, run: async () => fn() });
}

export function promise_test(fn, name) {
  tests.push({ name, run: fn });
}

class AssertionError extends Error {}

function show(value) {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (Object.is(value, -0)) return "-0";
  if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}[${Array.from(value).join(", ")}]`;
  return String(value);
}

export function assert_true(value, description = "") {
  if (value !== true) throw new AssertionError(`assert_true: ${description}: expected true, got ${show(value)}`);
}

export function assert_false(value, description = "") {
  if (value !== false) throw new AssertionError(`assert_false: ${description}: expected false, got ${show(value)}`);
}

export function assert_equals(actual, expected, description = "") {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(`assert_equals: ${description}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

export function assert_not_equals(actual, expected, description = "") {
  if (Object.is(actual, expected)) {
    throw new AssertionError(`assert_not_equals: ${description}: got the disallowed ${show(actual)}`);
  }
}

export function assert_array_equals(actual, expected, description = "") {
  const a = Array.from(actual);
  const e = Array.from(expected);
  if (a.length !== e.length || a.some((v, i) => !Object.is(v, e[i]))) {
    throw new AssertionError(`assert_array_equals: ${description}: expected ${show(e)}, got ${show(a)}`);
  }
}

function check_error(error, constructor, message, description) {
  if (!(error instanceof Error) && !(typeof DOMException === "function" && error instanceof DOMException)) {
    throw new AssertionError(`${description}: expected ${constructor.name}, got non-error ${show(error)}`);
  }
  if (error.constructor !== constructor) {
    throw new AssertionError(`${description}: expected ${constructor.name}, got ${error.constructor.name}: ${error.message}`);
  }
  if (message !== undefined && error.message !== message) {
    throw new AssertionError(`${description}: expected message ${show(message)}, got ${show(error.message)}`);
  }
}

// Throws unless `fn()` throws synchronously an instance of exactly `constructor` (and, when
// given, with exactly `message`).
export function assert_throws_js(constructor, fn, description = "", message = undefined) {
  let threw = false;
  try {
    const result = fn();
    if (result instanceof Promise) result.catch(() => {});
  } catch (e) {
    threw = true;
    check_error(e, constructor, message, `assert_throws_js: ${description}`);
  }
  if (!threw) throw new AssertionError(`assert_throws_js: ${description}: did not throw`);
}

// Like assert_throws_js for a DOMException with the given `name`.
export function assert_throws_dom(name, fn, description = "") {
  let threw = false;
  try {
    fn();
  } catch (e) {
    threw = true;
    if (typeof DOMException !== "function" || !(e instanceof DOMException) || e.name !== name) {
      throw new AssertionError(`assert_throws_dom: ${description}: expected DOMException ${name}, got ${e && e.constructor && e.constructor.name}: ${e && e.message}`);
    }
  }
  if (!threw) throw new AssertionError(`assert_throws_dom: ${description}: did not throw`);
}

// Resolves unless `promise` fulfils or rejects with something other than exactly
// `constructor` (and `message`, when given). The promise must be a real Promise: a
// synchronous throw is a failure, so the two are told apart.
export async function promise_rejects_js(constructor, promise, description = "", message = undefined) {
  if (!(promise instanceof Promise)) {
    throw new AssertionError(`promise_rejects_js: ${description}: not a promise: ${show(promise)}`);
  }
  try {
    await promise;
  } catch (e) {
    check_error(e, constructor, message, `promise_rejects_js: ${description}`);
    return;
  }
  throw new AssertionError(`promise_rejects_js: ${description}: fulfilled`);
}

// WPT's common helpers, as its streams tests use them.
export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const flushAsyncEvents = () => delay(0).then(() => delay(0)).then(() => delay(0)).then(() => delay(0));

// Resolves when `promise` rejects with exactly `expected` (the same value).
export async function promise_rejects_exactly(expected, promise, description = "") {
  try {
    await promise;
  } catch (e) {
    assert_equals(e, expected, `${description} (rejection)`);
    return;
  }
  throw new AssertionError(`promise_rejects_exactly: ${description}: fulfilled`);
}

// Throws unless `fn()` throws exactly `expected` (the same value).
export function assert_throws_exactly(expected, fn, description = "") {
  try {
    fn();
  } catch (e) {
    assert_equals(e, expected, description);
    return;
  }
  throw new AssertionError(`assert_throws_exactly: ${description}: did not throw`);
}

// A reader's result is `{ value, done }` with exactly these.
// Every chunk of `stream`, read with a reader (Compute's streams cannot be iterated).
export async function readChunks(stream) {
  const reader = stream.getReader();
  const chunks = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

export function assert_read(result, value, done, description = "") {
  assert_equals(result.value, value, `${description} value`);
  assert_equals(result.done, done, `${description} done`);
}

async function runAll() {
  const passed = [];
  const failed = [];
  for (const { name, run } of tests) {
    try {
      await run();
      passed.push(name);
    } catch (e) {
      failed.push({ name, message: `${e && e.constructor ? e.constructor.name : typeof e}: ${e && e.message}` });
    }
  }
  return new Response(JSON.stringify({ passed, failed }), {
    headers: { "content-type": "application/json" },
  });
}

addEventListener("fetch", (event) => event.respondWith(runAll()));
