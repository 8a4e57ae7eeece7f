// Headers, Request and Response constructors and their validation (WHATWG Fetch).
import {
  test, promise_test, assert_equals, assert_true, assert_false, assert_array_equals, assert_throws_js,
  promise_rejects_js,
} from "./harness.js";

test(() => {
  const h = new Headers({ "X-B": "2", "x-a": "1" });
  h.append("x-a", "3");
  assert_array_equals([...h.keys()], ["x-a", "x-b"], "sorted, lower-cased names");
  assert_equals(h.get("X-A"), "1, 3", "values combined");
  assert_array_equals([...h.entries()].map((e) => e.join("=")), ["x-a=1, 3", "x-b=2"]);
  assert_array_equals([...h.values()], ["1, 3", "2"]);
}, "Headers from a record: case, order and combining");

test(() => {
  const h = new Headers([["set-cookie", "a=1"], ["Set-Cookie", "b=2"], ["accept", "x"]]);
  assert_array_equals(h.getSetCookie(), ["a=1", "b=2"]);
  assert_array_equals([...h].map((e) => e.join("=")), ["accept=x", "set-cookie=a=1", "set-cookie=b=2"],
    "set-cookie is never combined");
  const copy = new Headers(h);
  assert_equals(copy.get("accept"), "x");
  h.delete("accept");
  assert_equals(copy.get("accept"), "x", "a copy, not a view");
}, "Headers from pairs and from Headers; set-cookie");

test(() => {
  const h = new Headers();
  h.set("x", "  padded\t");
  assert_equals(h.get("x"), "padded", "leading and trailing whitespace trimmed");
  assert_equals(h.has("X"), true);
  assert_equals(h.get("missing"), null);
  assert_throws_js(TypeError, () => h.set("bad name", "v"), "", "Invalid header name: 'bad name'");
  assert_throws_js(TypeError, () => h.append("x", "a\nb"));
  assert_throws_js(TypeError, () => new Headers([["only-one"]]));
  assert_throws_js(TypeError, () => h.append("x"), "", "Headers.append: At least 2 arguments required, but only 1 passed");
  const seen = [];
  new Headers({ b: "2", a: "1" }).forEach((value, name) => seen.push(`${name}:${value}`));
  assert_array_equals(seen, ["a:1", "b:2"]);
}, "Headers validation and forEach");

test(() => {
  const r = new Request("https://example.com/path?q=1", {
    method: "put",
    headers: { "x-one": "1" },
    body: "payload",
  });
  assert_equals(r.method, "PUT", "normalized");
  assert_equals(r.url, "https://example.com/path?q=1");
  assert_equals(r.headers.get("x-one"), "1");
  assert_equals(r.headers.get("content-type"), "text/plain;charset=UTF-8");
  assert_equals(new Request("https://example.com", { method: "patch" }).method, "patch", "only the standard methods are uppercased");
  assert_throws_js(TypeError, () => new Request("https://example.com", { method: "CONNECT" }));
  assert_throws_js(TypeError, () => new Request("https://example.com", { method: "bad method" }));
  assert_throws_js(TypeError, () => new Request("https://example.com", { body: "x" }), "",
    "Request constructor: HEAD or GET Request cannot have a body.");
  // Relative URLs resolve against fastly.baseURL (the client request's origin), as on Compute.
  assert_equals(new Request("not a url").url.endsWith("/not%20a%20url"), true);
  assert_throws_js(TypeError, () => new Request("http://[not an address"));
  assert_throws_js(TypeError, () => new Request(), "", "Request constructor: At least 1 argument required, but only 0 passed");
}, "Request constructor and validation");

promise_test(async () => {
  const original = new Request("https://example.com/", { method: "POST", body: "abc", headers: { a: "1" } });
  const copy = new Request(original, { headers: { b: "2" } });
  assert_equals(copy.method, "POST");
  assert_equals(copy.headers.get("a"), null, "init headers replace the copied ones");
  assert_equals(copy.headers.get("b"), "2");
  assert_equals(original.bodyUsed, true, "the body moved to the new request");
  await promise_rejects_js(TypeError, original.text());
  assert_equals(await copy.text(), "abc");
  assert_throws_js(TypeError, () => new Request(original), "",
    "Request constructor: the input request's body isn't usable.");
  assert_throws_js(TypeError, () => new Request(new Request("https://example.com/", { method: "POST", body: "x" }), { method: "GET" }),
    "", "Request constructor: HEAD or GET Request cannot have a body.");
  const other = new Request("https://example.com/", { method: "POST", body: "xyz" });
  const clone = other.clone();
  assert_equals(await clone.text(), "xyz");
  assert_equals(await other.text(), "xyz");
}, "Request from a Request moves the body; clone() tees it");

test(() => {
  const r = new Response("x", { status: 299, statusText: "Fine", headers: [["a", "b"]] });
  assert_equals(r.status, 299);
  assert_equals(r.statusText, "Fine");
  assert_true(r.ok);
  assert_false(new Response(null, { status: 404 }).ok);
  assert_equals(r.redirected, false);
  assert_equals(r.url, "");
  assert_throws_js(RangeError, () => new Response("", { status: 600 }), "", "Response constructor: Invalid response status code. The status provided (600) is outside the range [200, 599].");
  assert_throws_js(TypeError, () => Response.redirect("nope"), "", "Response.redirect: url parameter is not a valid URL.");
  assert_throws_js(TypeError, () => Response.json(() => {}), "", "Redirect.json: The data is not JSON serializable");
  assert_throws_js(RangeError, () => new Response("", { status: 199 }));
  assert_throws_js(TypeError, () => new Response("x", { status: 304 }));
  assert_throws_js(TypeError, () => new Response("", { statusText: "a\nb" }));
}, "Response status and statusText validation");

promise_test(async () => {
  const r = Response.json({ a: [1, "two"] }, { status: 201, headers: { "content-type": "application/vnd.x+json" } });
  assert_equals(r.status, 201);
  assert_equals(r.headers.get("content-type"), "application/vnd.x+json", "an explicit type wins");
  assert_equals(await r.text(), '{"a":[1,"two"]}');
  assert_throws_js(TypeError, () => Response.json(undefined));
  const redirect = Response.redirect("https://example.com/a b", 307);
  assert_equals(redirect.status, 307);
  assert_equals(redirect.headers.get("location"), "https://example.com/a%20b");
  assert_throws_js(RangeError, () => Response.redirect("https://example.com/", 200));
}, "Response.json and Response.redirect");

test(() => {
  const r = new Request("http://example.com/", { cacheKey: "shared" });
  assert_equals(r.headers.get("fastly-xqd-cache-key"),
    "A4D26868017C0CCFFE2EFE50944EF4211834660CCA834C6E9F86DEC6A88246FA", "SHA-256 of the key, upper-case hex");
  const s = new Request("http://example.com/");
  s.setCacheKey(7);
  assert_equals(s.headers.get("fastly-xqd-cache-key"),
    "7902699BE42C8A8E46FBBB4501726517E86B22C56A189F7625A6DA49081B2451", "ToString of the key");
  assert_equals(r.isCacheable, true);
  assert_equals(new Request("http://example.com/", { method: "POST" }).isCacheable, false);
  assert_throws_js(Error, () => s.setCacheOverride(5), "",
    "Value passed in as cacheOverride must be an instance of CacheOverride or an object with the same interface");
  assert_throws_js(TypeError, () => s.setCacheOverride("sometimes"), "",
    "CacheOverride constructor: 'mode' has to be \"none\", \"pass\", or \"override\", but got \"sometimes\"");
  s.setCacheOverride("pass");
  s.setCacheOverride({ ttl: 5 });
}, "Request cache controls: setCacheKey, cacheKey, setCacheOverride, isCacheable");

test(() => {
  const r = new Request("http://example.com/");
  assert_equals(r.version, 2, "HTTP/1.1");
  assert_equals(r.backend, undefined);
  assert_equals(r.botAnalyzed, false, "an app-made request is not the client's");
  assert_equals(r.botDetected, false);
  assert_equals(r.botName, null);
  assert_equals(r.botCategory, null);
  assert_equals(r.botVerified, null);
  assert_equals(Object.prototype.toString.call(r), "[object Request]");
  const response = new Response("x");
  assert_equals(Object.prototype.toString.call(response), "[object Response]");
  assert_equals(response.version, 2);
  for (const name of ["cached", "stale", "ttl", "age", "swr", "staleWhileRevalidate", "staleIfError", "vary",
    "surrogateKeys", "pci", "maskedError"]) {
    assert_equals(response[name], undefined, name);
  }
  assert_throws_js(TypeError, () => { response.surrogateKeys = ["a"]; }, "",
    "Response set: surrogateKeys must be set only on unsent cache transaction responses");
  assert_throws_js(TypeError, () => response.staleIfErrorAvailable(), "",
    "Response: staleIfErrorAvailable() must can only be called on candidate responses inside afterSend callback");
}, "Compute's Request and Response extensions outside the HTTP cache API");

promise_test(async () => {
  const blob = await new Response("héllo", { headers: { "content-type": "text/plain;charset=utf-8" } }).blob();
  assert_true(blob instanceof Blob);
  assert_equals(blob.type, "text/plain;charset=utf-8");
  assert_equals(blob.size, 6);
  assert_equals(await blob.text(), "héllo");
  const untyped = await new Request("http://example.com/", { method: "POST", body: new Uint8Array([1, 2]) }).blob();
  assert_equals(untyped.type, "");
  assert_array_equals([...new Uint8Array(await untyped.arrayBuffer())], [1, 2]);
  const used = new Response("x");
  await used.text();
  await promise_rejects_js(TypeError, used.blob());
}, "blob(): the body's bytes, typed by Content-Type");

test(() => {
  const response = new Response("x", { status: 201 });
  response.status = 404;
  assert_equals(response.status, 201, "outside an afterSend hook the setter changes nothing");
  assert_equals(response.setManualFramingHeaders(true), undefined);
  assert_equals(new Request("http://example.com/").setManualFramingHeaders(false), undefined);
  assert_throws_js(TypeError, () => response.setManualFramingHeaders());
}, "Response status setter and setManualFramingHeaders");
