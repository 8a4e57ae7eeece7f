// crypto: getRandomValues, randomUUID and crypto.subtle (digest, HMAC importKey/sign/verify),
// with the platform's messages (StarlingMonkey's crypto builtins, shipped by js-compute-runtime).
import {
  test, promise_test, assert_equals, assert_true, assert_false, assert_array_equals,
  assert_throws_js, promise_rejects_js,
} from "./harness.js";

const utf8 = (s) => new TextEncoder().encode(s);
const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));

// A DOMException named `name` when the global exists; a TypeError with the same message otherwise.
function check_dom(error, name, message, description) {
  if (typeof DOMException === "function") {
    assert_true(error instanceof DOMException, `${description}: expected a DOMException, got ${error && error.constructor && error.constructor.name}: ${error && error.message}`);
    assert_equals(error.name, name, `${description}: name`);
  } else {
    assert_true(error instanceof TypeError, `${description}: expected the TypeError stand-in, got ${error && error.constructor && error.constructor.name}`);
  }
  assert_equals(error.message, message, `${description}: message`);
}

function assert_throws_dom_or_type(name, message, fn, description = "") {
  let threw = false;
  try {
    fn();
  } catch (e) {
    threw = true;
    check_dom(e, name, message, description);
  }
  assert_true(threw, `${description}: did not throw`);
}

async function rejects_dom(name, message, promise, description = "") {
  assert_true(promise instanceof Promise, `${description}: returns a promise`);
  let rejected = false;
  try {
    await promise;
  } catch (e) {
    rejected = true;
    check_dom(e, name, message, description);
  }
  assert_true(rejected, `${description}: fulfilled`);
}

// ---------------------------------------------------------------------------------------------
// The crypto global and its classes

test(() => {
  assert_equals(typeof crypto, "object");
  assert_true(crypto instanceof Crypto);
  assert_true(crypto.subtle instanceof SubtleCrypto);
  assert_equals(crypto.subtle, crypto.subtle, "the same SubtleCrypto every time");
  assert_equals(String(crypto), "[object Crypto]");
  assert_equals(String(crypto.subtle), "[object SubtleCrypto]");
  const desc = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  assert_equals(typeof desc.get, "function", "an accessor");
  assert_true(desc.enumerable);
  assert_array_equals(Object.keys(Crypto.prototype), ["subtle", "getRandomValues", "randomUUID"]);
  assert_array_equals(Object.keys(SubtleCrypto.prototype), ["digest", "importKey", "sign", "verify"]);
  assert_array_equals(Object.keys(CryptoKey.prototype), ["type", "extractable", "algorithm", "usages"]);
  assert_equals(crypto.getRandomValues.length, 1);
  assert_equals(crypto.randomUUID.length, 0);
  assert_equals(crypto.subtle.digest.length, 2);
  assert_equals(crypto.subtle.importKey.length, 5);
  assert_equals(crypto.subtle.sign.length, 3);
  assert_equals(crypto.subtle.verify.length, 4);
}, "crypto shape");

test(() => {
  for (const C of [Crypto, SubtleCrypto, CryptoKey]) {
    assert_throws_js(TypeError, () => new C(), C.name, `${C.name} builtin can't be instantiated directly`);
    assert_throws_js(TypeError, () => C(), `${C.name} without new`, `${C.name} builtin can't be instantiated directly`);
  }
  assert_throws_js(TypeError, () => new crypto.subtle.digest(), "methods are not constructors");
  assert_throws_js(TypeError, () => Crypto.prototype.subtle, "subtle on the prototype", "Method 'subtle get' called on receiver that's not an instance of Crypto");
}, "the crypto classes cannot be constructed");

// ---------------------------------------------------------------------------------------------
// getRandomValues

test(() => {
  const array = new Uint8Array(64);
  const result = crypto.getRandomValues(array);
  assert_equals(result, array, "returns its argument");
  assert_true(array.some((b) => b !== 0), "filled");
  const other = crypto.getRandomValues(new Uint8Array(64));
  assert_false(array.every((b, i) => b === other[i]), "two calls differ");
}, "getRandomValues fills a Uint8Array");

test(() => {
  for (const T of [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array]) {
    const array = new T(16);
    assert_equals(crypto.getRandomValues(array), array, T.name);
    assert_true(Array.from(array).some((v) => v != 0), `${T.name} filled`);
  }
  assert_equals(crypto.getRandomValues(new Uint8Array(0)).length, 0, "empty");
  assert_equals(crypto.getRandomValues(new Uint8Array(65536)).length, 65536, "exactly the limit");
}, "getRandomValues accepts every integer typed array");

test(() => {
  const buffer = new ArrayBuffer(48);
  const view = new Uint32Array(buffer, 16, 4);
  crypto.getRandomValues(view);
  const all = new Uint8Array(buffer);
  assert_true(all.subarray(0, 16).every((b) => b === 0), "before the view untouched");
  assert_true(all.subarray(32).every((b) => b === 0), "after the view untouched");
  assert_true(all.subarray(16, 32).some((b) => b !== 0), "the view filled");
}, "getRandomValues fills only the viewed range");

test(() => {
  const message = "crypto.getRandomValues: input must be an integer-typed TypedArray";
  for (const input of [new Float32Array(4), new Float64Array(4), new DataView(new ArrayBuffer(4)), new ArrayBuffer(4), [1, 2], null, undefined, 4]) {
    assert_throws_dom_or_type("TypeMismatchError", message, () => crypto.getRandomValues(input), String(input && input.constructor && input.constructor.name));
  }
  assert_throws_dom_or_type("QuotaExceededError", "crypto.getRandomValues: input byteLength must be at most 65536, but is 65537", () => crypto.getRandomValues(new Uint8Array(65537)), "over by one byte");
  assert_throws_dom_or_type("QuotaExceededError", "crypto.getRandomValues: input byteLength must be at most 65536, but is 65540", () => crypto.getRandomValues(new Uint32Array(16385)), "counted in bytes");
  assert_throws_js(TypeError, () => crypto.getRandomValues(), "no argument", "get_random_values: At least 1 argument required, but only 0 passed");
  assert_throws_js(TypeError, () => crypto.getRandomValues.call({}, new Uint8Array(1)), "receiver", "Method 'get_random_values' called on receiver that's not an instance of Crypto");
}, "getRandomValues errors");

// ---------------------------------------------------------------------------------------------
// randomUUID

test(() => {
  const pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const seen = new Set();
  for (let i = 0; i < 100; i++) {
    const uuid = crypto.randomUUID();
    assert_true(pattern.test(uuid), uuid);
    seen.add(uuid);
  }
  assert_equals(seen.size, 100, "all different");
  assert_throws_js(TypeError, () => crypto.randomUUID.call({}), "receiver", "Method 'random_uuid' called on receiver that's not an instance of Crypto");
}, "randomUUID makes lower-case version 4 UUIDs");

// ---------------------------------------------------------------------------------------------
// digest

promise_test(async () => {
  const cases = [
    ["MD5", "", "d41d8cd98f00b204e9800998ecf8427e"],
    ["MD5", "abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["SHA-1", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    ["SHA-256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["SHA-256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["SHA-384", "abc", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"],
    ["SHA-512", "abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"],
  ];
  for (const [name, input, expected] of cases) {
    const result = await crypto.subtle.digest(name, utf8(input));
    assert_true(result instanceof ArrayBuffer, `${name}: an ArrayBuffer`);
    assert_equals(hex(result), expected, `${name}(${JSON.stringify(input)})`);
  }
}, "digest: known vectors for SHA-1, SHA-2 and MD5");

promise_test(async () => {
  const expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  for (const alg of ["sha-256", "Sha-256", { name: "SHA-256" }, { name: "sha-256" }, { name: { toString: () => "SHA-256" } }]) {
    assert_equals(hex(await crypto.subtle.digest(alg, utf8("abc"))), expected, JSON.stringify(alg));
  }
  const bytes = utf8("xabcx");
  assert_equals(hex(await crypto.subtle.digest("SHA-256", bytes.subarray(1, 4))), expected, "a subarray");
  assert_equals(hex(await crypto.subtle.digest("SHA-256", new DataView(bytes.buffer, 1, 3))), expected, "a DataView");
  assert_equals(hex(await crypto.subtle.digest("SHA-256", utf8("abc").buffer)), expected, "an ArrayBuffer");
}, "digest: names are case-insensitive, as strings or { name }, over any buffer source");

promise_test(async () => {
  const data = utf8("abc");
  await rejects_dom("NotSupportedError", "Algorithm: Unrecognized name", crypto.subtle.digest("jake", data), "unknown");
  await rejects_dom("NotSupportedError", "Algorithm: Unrecognized name", crypto.subtle.digest("SHA256", data), "no dash");
  await rejects_dom("NotSupportedError", "Algorithm: Unrecognized name", crypto.subtle.digest({}, data), "no name");
  await rejects_dom("NotSupportedError", "Supplied algorithm does not support the digest operation", crypto.subtle.digest("HMAC", data), "not a digest");
  await promise_rejects_js(TypeError, crypto.subtle.digest("SHA-256", undefined), "data undefined", "SubtleCrypto.digest: data must be of type ArrayBuffer or ArrayBufferView");
  await promise_rejects_js(TypeError, crypto.subtle.digest("jake", "abc"), "data is checked first", "SubtleCrypto.digest: data must be of type ArrayBuffer or ArrayBufferView");
  await promise_rejects_js(TypeError, crypto.subtle.digest(), "no arguments", "SubtleCrypto.digest: At least 2 arguments required, but only 0 passed");
  await promise_rejects_js(TypeError, crypto.subtle.digest.call({}, "SHA-256", data), "receiver", "Method 'SubtleCrypto.digest' called on receiver that's not an instance of SubtleCrypto");
  const sentinel = new Error("sentinel");
  let caught;
  await crypto.subtle.digest({ name: { toString() { throw sentinel; } } }, data).catch((e) => { caught = e; });
  assert_equals(caught, sentinel, "a throwing toString rejects with what it threw");
}, "digest: errors reject the promise");

// ---------------------------------------------------------------------------------------------
// HMAC: importKey, sign, verify

const jefe = utf8("Jefe");
const nothing = utf8("what do ya want for nothing?");

promise_test(async () => {
  const key = await crypto.subtle.importKey("raw", jefe, { name: "HMAC", hash: "SHA-256" }, true, ["verify", "sign"]);
  assert_true(key instanceof CryptoKey);
  assert_equals(String(key), "[object CryptoKey]");
  assert_equals(key.type, "secret");
  assert_equals(key.extractable, true);
  assert_array_equals(key.usages, ["sign", "verify"], "usages in alphabetical order");
  assert_equals(key.usages, key.usages, "the same usages array every time");
  assert_equals(key.algorithm, key.algorithm, "the same algorithm object every time");
  assert_array_equals(Object.keys(key.algorithm), ["name", "hash", "length"]);
  assert_equals(key.algorithm.name, "HMAC");
  assert_equals(key.algorithm.hash.name, "SHA-256");
  assert_equals(key.algorithm.length, 32, "the key's length in bits");
  assert_array_equals(Object.keys(key), [], "nothing of the secret shows");

  const other = await crypto.subtle.importKey("raw", jefe.buffer, { name: "hmac", hash: { name: "sha-1" }, length: 27 }, false, ["verify"]);
  assert_equals(other.extractable, false);
  assert_array_equals(other.usages, ["verify"]);
  assert_equals(other.algorithm.hash.name, "SHA-1", "the hash's canonical name");
  assert_equals(other.algorithm.length, 27, "a length up to 7 bits shorter");
}, "importKey: a raw HMAC key");

promise_test(async () => {
  // The platform only checks that sign or verify is among the usages.
  const key = await crypto.subtle.importKey("raw", jefe, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "encrypt", "sign"]);
  assert_array_equals(key.usages, ["encrypt", "sign"]);
}, "importKey: HMAC usages as the platform checks them");

promise_test(async () => {
  const jwk = { kty: "oct", k: "SmVmZQ", alg: "HS256", ext: true, key_ops: ["sign", "verify"] };
  const key = await crypto.subtle.importKey("jwk", jwk, { name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
  assert_equals(key.algorithm.length, 32);
  assert_equals(hex(await crypto.subtle.sign("HMAC", key, nothing)), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "the key is Jefe");
  const minimal = await crypto.subtle.importKey("jwk", { kty: "oct", k: "SmVmZQ==" }, { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  assert_equals(hex(await crypto.subtle.sign("HMAC", minimal, nothing)), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", "padding is accepted");
}, "importKey: an HMAC JSON Web Key");

promise_test(async () => {
  const hmac = { name: "HMAC", hash: "SHA-256" };
  const jwk = (extra, usages = ["sign"], extractable = false) =>
    crypto.subtle.importKey("jwk", { kty: "oct", k: "SmVmZQ", ...extra }, hmac, extractable, usages);
  await promise_rejects_js(TypeError, crypto.subtle.importKey("jwk", "key", hmac, false, ["sign"]), "not an object", "crypto.subtle.importKey: keyData must be a JSONWebKey");
  await promise_rejects_js(TypeError, crypto.subtle.importKey("jwk", { k: "SmVmZQ" }, hmac, false, ["sign"]), "no kty", "crypto.subtle.importKey: keyData must be a JSONWebKey");
  await rejects_dom("DataError", "crypto.subtle.importkey: The JWK member 'kty' was not 'oct'", jwk({ kty: "RSA" }), "kty");
  await rejects_dom("DataError", "The JWK member 'k' could not be base64url decoded or contained padding", jwk({ k: "Sm+mZQ" }), "k not base64url");
  await rejects_dom("DataError", "Supplied keyData can not have a length of 0.", crypto.subtle.importKey("jwk", { kty: "oct" }, hmac, false, ["sign"]), "k missing");
  await rejects_dom("DataError", "The JWK member 'k' could not be base64url decoded or contained padding", jwk({ k: undefined }), "k undefined is the string \"undefined\"");
  await rejects_dom("DataError", "Operation not permitted", jwk({ alg: "HS512" }), "alg of another hash");
  await rejects_dom("DataError", "Operation not permitted", jwk({ use: "enc" }), "use");
  await rejects_dom("DataError", "crypto.subtle.importkey: The JWK member 'key_ops' was not a sequence", jwk({ key_ops: "sign" }), "key_ops not a sequence");
  await rejects_dom("DataError", "crypto.subtle.importKey parameter 'keyData': each value in the 'key_ops' list must be one of 'encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey', or 'unwrapKey'", jwk({ key_ops: ["sign", "bogus"] }), "unknown key op");
  await rejects_dom("DataError", "crypto.subtle.importKey parameter 'keyData': 'key_ops' list must not contain duplicate entries", jwk({ key_ops: ["sign", "sign"] }), "duplicate key op");
  await rejects_dom("DataError", "The JWK 'key_ops' member was inconsistent with that specified by the Web Crypto call. The JWK usage must be a superset of those requested", jwk({ key_ops: ["verify"] }), "key_ops without the usage");
  await rejects_dom("DataError", "Data provided to an operation does not meet requirements", jwk({ ext: false }, ["sign"], true), "ext false but extractable");
  await rejects_dom("SyntaxError", "HMAC keys only support 'sign' and 'verify' operations", jwk({}, ["encrypt"]), "usages");
  await rejects_dom("DataError", "Operation not permitted", crypto.subtle.importKey("jwk", { kty: "oct", k: "SmVmZQ" }, { name: "HMAC", hash: "MD5" }, false, ["sign"]), "MD5 has no JWK alg");
}, "importKey: JSON Web Key errors");

promise_test(async () => {
  const vectors = [
    // RFC 4231 test case 1
    [fromHex("0b".repeat(20)), utf8("Hi There"), "SHA-256", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
    [fromHex("0b".repeat(20)), utf8("Hi There"), "SHA-512", "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"],
    // RFC 4231 test case 2
    [jefe, nothing, "SHA-256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
    [jefe, nothing, "SHA-384", "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"],
    // RFC 2202 test case 2
    [jefe, nothing, "SHA-1", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"],
    [jefe, nothing, "MD5", "750c783e6ab0b503eaa86e310a5db738"],
    // RFC 4231 test case 6: a key longer than the block size
    [fromHex("aa".repeat(131)), utf8("Test Using Larger Than Block-Size Key - Hash Key First"), "SHA-256", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
  ];
  for (const [secret, data, hash, expected] of vectors) {
    const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash }, false, ["sign", "verify"]);
    const signature = await crypto.subtle.sign("HMAC", key, data);
    assert_true(signature instanceof ArrayBuffer, `${hash}: an ArrayBuffer`);
    assert_equals(hex(signature), expected, `HMAC-${hash}`);
    assert_true(await crypto.subtle.verify({ name: "hmac" }, key, signature, data), `${hash}: verifies`);
  }
}, "sign and verify: RFC 4231 and RFC 2202 vectors");

promise_test(async () => {
  const key = await crypto.subtle.importKey("raw", jefe, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, nothing));
  assert_true(await crypto.subtle.verify("HMAC", key, signature, nothing), "the signature");
  const altered = signature.slice();
  altered[0] ^= 1;
  assert_false(await crypto.subtle.verify("HMAC", key, altered, nothing), "an altered signature");
  assert_false(await crypto.subtle.verify("HMAC", key, signature.subarray(0, 31), nothing), "a truncated signature");
  assert_false(await crypto.subtle.verify("HMAC", key, signature, utf8("what do ya want for nothing!")), "other data");
  assert_false(await crypto.subtle.verify("HMAC", key, new Uint8Array(0), nothing), "an empty signature");
}, "verify tells wrong signatures apart");

promise_test(async () => {
  const raw = (alg, usages = ["sign"], data = jefe) => crypto.subtle.importKey("raw", data, alg, false, usages);
  const hmac = { name: "HMAC", hash: "SHA-256" };
  await rejects_dom("NotSupportedError", "crypto.subtle.importkey: Provided format parameter is not supported. Supported formats are: 'spki', 'pkcs8', 'jwk', and 'raw'", crypto.subtle.importKey("jake", jefe, hmac, false, ["sign"]), "unknown format");
  await rejects_dom("NotSupportedError", "Supplied format is not supported", crypto.subtle.importKey("spki", jefe, hmac, false, ["sign"]), "spki for HMAC");
  await rejects_dom("SyntaxError", "HMAC keys only support 'sign' and 'verify' operations", raw(hmac, ["encrypt"]), "encrypt usage");
  await rejects_dom("SyntaxError", "HMAC keys only support 'sign' and 'verify' operations", raw(hmac, []), "no usage");
  await rejects_dom("DataError", "Supplied keyData can not have a length of 0.", raw(hmac, ["sign"], new Uint8Array(0)), "empty key");
  const lengthMessage = "The optional HMAC key length must be shorter than the key data, and by no more than 7 bits.";
  await rejects_dom("DataError", lengthMessage, raw({ ...hmac, length: 33 }), "length longer than the key");
  await rejects_dom("DataError", lengthMessage, raw({ ...hmac, length: 24 }), "length 8 bits shorter");
  await rejects_dom("NotSupportedError", "Algorithm: Unrecognized name", raw({ name: "HMAC" }), "no hash");
  await rejects_dom("NotSupportedError", "Algorithm: Unrecognized name", raw("HMAC"), "a bare name has no hash");
  await rejects_dom("NotSupportedError", "Supplied algorithm does not support the digest operation", raw({ name: "HMAC", hash: "HMAC" }), "hash not a digest");
  await rejects_dom("NotSupportedError", "Supplied algorithm is not yet supported", raw({ name: "AES-GCM" }), "AES");
  await rejects_dom("NotSupportedError", "Supplied algorithm does not support the importKey operation", raw({ name: "SHA-256" }), "a digest");
  await rejects_dom("NotSupportedError", "Algorithm: Unrecognized name", raw({ name: "nope" }), "unknown algorithm");
  await promise_rejects_js(TypeError, raw(hmac, ["sign", "bogus"]), "unknown usage", "crypto.subtle.importKey: each value in the 'keyUsages' list must be one of 'encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey', or 'unwrapKey'");
  await promise_rejects_js(TypeError, raw(hmac, "sign"), "usages not a sequence", "crypto.subtle.importKey: keyUsages must be a sequence");
  await promise_rejects_js(TypeError, raw(hmac, ["sign"], "secret"), "key data not a buffer", " must be of type ArrayBuffer or ArrayBufferView");
  await promise_rejects_js(TypeError, crypto.subtle.importKey(), "no arguments", "SubtleCrypto.importKey: At least 5 arguments required, but only 0 passed");
  await promise_rejects_js(TypeError, crypto.subtle.importKey.call({}, "raw", jefe, hmac, false, ["sign"]), "receiver", "Method 'SubtleCrypto.importKey' called on receiver that's not an instance of SubtleCrypto");
}, "importKey: errors reject the promise");

promise_test(async () => {
  const signOnly = await crypto.subtle.importKey("raw", jefe, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const verifyOnly = await crypto.subtle.importKey("raw", jefe, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const signature = await crypto.subtle.sign("HMAC", signOnly, nothing);
  assert_true(await crypto.subtle.verify("HMAC", verifyOnly, signature, nothing));
  await rejects_dom("InvalidAccessError", "CryptoKey doesn't support signing", crypto.subtle.sign("HMAC", verifyOnly, nothing), "sign without the usage");
  await rejects_dom("InvalidAccessError", "CryptoKey doesn't support verification", crypto.subtle.verify("HMAC", signOnly, signature, nothing), "verify without the usage");
  await rejects_dom("InvalidAccessError", "CryptoKey doesn't match AlgorithmIdentifier", crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, signOnly, nothing), "another algorithm");
  await rejects_dom("NotSupportedError", "Algorithm: Unrecognized name", crypto.subtle.sign("nope", signOnly, nothing), "unknown algorithm");
  await rejects_dom("NotSupportedError", "Supplied algorithm does not support the sign operation", crypto.subtle.sign("SHA-256", signOnly, nothing), "a digest");
  await rejects_dom("NotSupportedError", "Supplied algorithm does not support the verify operation", crypto.subtle.verify("SHA-256", verifyOnly, signature, nothing), "a digest");
  await promise_rejects_js(TypeError, crypto.subtle.sign("HMAC", {}, nothing), "not a key", "crypto.subtle.sign: key must be a CryptoKey object");
  await promise_rejects_js(TypeError, crypto.subtle.verify("HMAC", "key", signature, nothing), "not a key", "crypto.subtle.verify: key must be a CryptoKey object");
  await promise_rejects_js(TypeError, crypto.subtle.sign("HMAC", signOnly, "text"), "data", "crypto.subtle.sign: data must be of type ArrayBuffer or ArrayBufferView");
  await promise_rejects_js(TypeError, crypto.subtle.verify("HMAC", verifyOnly, "sig", nothing), "signature", "SubtleCrypto.verify: signature (argument 3) must be of type ArrayBuffer or ArrayBufferView");
  await promise_rejects_js(TypeError, crypto.subtle.verify("HMAC", verifyOnly, signature, 1), "data", "SubtleCrypto.verify: data (argument 4) must be of type ArrayBuffer or ArrayBufferView");
  await promise_rejects_js(TypeError, crypto.subtle.sign("HMAC", signOnly), "too few", "SubtleCrypto.sign: At least 3 arguments required, but only 2 passed");
  await promise_rejects_js(TypeError, crypto.subtle.verify("HMAC", verifyOnly, signature), "too few", "SubtleCrypto.verify: At least 4 arguments required, but only 3 passed");
  await promise_rejects_js(TypeError, crypto.subtle.sign.call(crypto, "HMAC", signOnly, nothing), "receiver", "Method 'SubtleCrypto.sign' called on receiver that's not an instance of SubtleCrypto");
}, "sign and verify: errors reject the promise");

promise_test(async () => {
  const key = await crypto.subtle.importKey("raw", jefe, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
  assert_throws_js(TypeError, () => CryptoKey.prototype.type, "type on the prototype", "Method 'type get' called on receiver that's not an instance of CryptoKey");
  const getter = Object.getOwnPropertyDescriptor(CryptoKey.prototype, "usages").get;
  assert_throws_js(TypeError, () => getter.call({}), "usages elsewhere", "Method 'usages_get' called on receiver that's not an instance of CryptoKey");
  assert_array_equals(getter.call(key), ["sign"]);
}, "CryptoKey receiver checks");
