// Request and Response bodies: every BodyInit kind, the Content-Type it implies, and reads.
import { promise_test, test, assert_equals, assert_array_equals, assert_true, promise_rejects_js } from "./harness.js";

promise_test(async () => {
  const r = new Response(new URLSearchParams({ a: "1 2", b: "é" }));
  assert_equals(r.headers.get("content-type"), "application/x-www-form-urlencoded;charset=UTF-8");
  assert_equals(await r.text(), "a=1+2&b=%C3%A9");
}, "URLSearchParams body");

promise_test(async () => {
  const r = new Response("héllo");
  assert_equals(r.headers.get("content-type"), "text/plain;charset=UTF-8");
  assert_array_equals(new Uint8Array(await r.arrayBuffer()), [104, 195, 169, 108, 108, 111]);
}, "string body is UTF-8");

promise_test(async () => {
  const bytes = new Uint8Array([1, 2, 3, 4, 5]);
  const r = new Response(new DataView(bytes.buffer, 1, 3));
  assert_equals(r.headers.get("content-type"), null);
  assert_array_equals(new Uint8Array(await r.arrayBuffer()), [2, 3, 4]);
}, "DataView body is exactly the viewed bytes");

promise_test(async () => {
  const r = new Response("x");
  assert_equals(r.bodyUsed, false);
  await r.text();
  assert_equals(r.bodyUsed, true);
  await promise_rejects_js(TypeError, r.text(), "second read");
}, "a body is read once");

promise_test(async () => {
  const r = new Request("https://example.com/a", { method: "post", body: '{"k":[1]}' });
  assert_equals(r.method, "POST");
  assert_equals((await r.json()).k[0], 1);
}, "Request body and method normalization");

test(() => {
  const r = new Response(null, { status: 204 });
  assert_equals(r.status, 204);
  assert_true(r.ok);
}, "null body with a null-body status");

promise_test(async () => {
  const r = new Request("https://example.com/", { method: "POST", body: new URLSearchParams("a=1&b=x+y&a=2") });
  const form = await r.formData();
  assert_true(form instanceof FormData);
  assert_array_equals(form.getAll("a"), ["1", "2"]);
  assert_equals(form.get("b"), "x y");
}, "formData() of an urlencoded body");

promise_test(async () => {
  const r = new Response("streamed");
  const body = r.body;
  assert_true(body instanceof ReadableStream);
  assert_equals(r.body, body, "the same stream every time");
  assert_equals(r.bodyUsed, false);
  const reader = body.getReader();
  const { value } = await reader.read();
  assert_equals(new TextDecoder().decode(value), "streamed");
  assert_equals(r.bodyUsed, true);
  await promise_rejects_js(TypeError, r.text(), "read after the stream was used");
}, "body is a ReadableStream of the bytes");

promise_test(async () => {
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode("a"));
      c.enqueue(new TextEncoder().encode("b"));
      c.close();
    },
  });
  const r = new Request("https://example.com/", { method: "POST", body: stream });
  assert_equals(r.headers.get("content-type"), null);
  const copy = r.clone();
  assert_equals(await r.text(), "ab");
  assert_equals(await copy.text(), "ab");
  // js-compute 3.46's Response has no clone().
  assert_equals(new Response("x").clone, undefined);
}, "a stream body: read, and cloned by tee");

test(() => {
  const stream = new ReadableStream();
  stream.getReader();
  let error;
  try {
    new Response(stream);
  } catch (e) {
    error = e;
  }
  assert_true(error instanceof TypeError);
  assert_equals(error.message, "Response constructor: Can't use a ReadableStream that's locked or has ever been read from or canceled");
}, "a locked stream cannot be a body");

test(() => {
  assert_equals(new Response().body, null);
  assert_equals(new Request("https://example.com/").body, null);
}, "a null body has a null stream");

test(() => {
  // Not on Compute (js-compute 3.46).
  assert_equals(Response.error, undefined);
  assert_equals(new Response("x").type, "default");
}, "there is no Response.error()");

promise_test(async () => {
  const r = new Response("hello");
  assert_equals(await r.text(), "hello");
  const body = r.body;
  assert_true(body instanceof ReadableStream, "a consumed body is still a stream");
  assert_equals(body.locked, true, "read and locked");
  let error;
  try {
    body.getReader();
  } catch (e) {
    error = e;
  }
  assert_true(error instanceof TypeError, "it cannot be read again");
}, "body after text() is the consumed stream, not a fresh copy");

promise_test(async () => {
  const r = new Response("x");
  r.body.getReader();
  await promise_rejects_js(TypeError, r.text(), "locked");
  assert_equals(r.bodyUsed, false, "a rejected read does not use the body");
}, "bodyUsed stays false when a read is refused");
