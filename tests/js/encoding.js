// TextEncoder and TextDecoder, per the WHATWG Encoding standard, with the platform's messages
// (StarlingMonkey's text-codec, which js-compute-runtime ships).
import {
  test, assert_equals, assert_true, assert_false, assert_array_equals, assert_throws_js,
} from "./harness.js";

const bytes = (...b) => new Uint8Array(b);

// ---------------------------------------------------------------------------------------------
// TextEncoder

test(() => {
  const encoder = new TextEncoder();
  assert_equals(encoder.encoding, "utf-8");
  assert_array_equals(encoder.encode(), []);
  assert_array_equals(encoder.encode(undefined), []);
  assert_array_equals(encoder.encode(""), []);
  assert_true(encoder.encode() instanceof Uint8Array);
}, "TextEncoder defaults");

test(() => {
  const encoder = new TextEncoder();
  assert_array_equals(encoder.encode("A\u00e9\u20ac\u{1F600}"), [
    0x41, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80,
  ]);
  assert_array_equals(encoder.encode(123), [0x31, 0x32, 0x33], "ToString of a number");
  assert_array_equals(encoder.encode(null), [0x6e, 0x75, 0x6c, 0x6c], "null is \"null\"");
}, "TextEncoder.encode produces UTF-8");

test(() => {
  const encoder = new TextEncoder();
  assert_array_equals(encoder.encode("\uD800"), [0xef, 0xbf, 0xbd], "lone lead");
  assert_array_equals(encoder.encode("\uDC00"), [0xef, 0xbf, 0xbd], "lone trail");
  assert_array_equals(encoder.encode("a\uDC00\uD800b"), [0x61, 0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbd, 0x62], "reversed pair");
  assert_array_equals(encoder.encode("\uD83D\uDE00"), [0xf0, 0x9f, 0x98, 0x80], "a real pair");
}, "TextEncoder.encode replaces lone surrogates with U+FFFD");

test(() => {
  const encoder = new TextEncoder();
  const dest = new Uint8Array(10);
  const result = encoder.encodeInto("Hi", dest);
  assert_equals(result.read, 2);
  assert_equals(result.written, 2);
  assert_array_equals(Object.keys(result), ["read", "written"]);
  assert_equals(Object.getPrototypeOf(result), Object.prototype);
  assert_array_equals(dest, [0x48, 0x69, 0, 0, 0, 0, 0, 0, 0, 0]);
}, "TextEncoder.encodeInto writes and reports read/written");

test(() => {
  const encoder = new TextEncoder();
  let dest = new Uint8Array(3);
  let r = encoder.encodeInto("a\u20acb", dest);
  assert_equals(r.read, 1, "the 3-byte euro sign does not fit in the 2 bytes left");
  assert_equals(r.written, 1);
  assert_array_equals(dest, [0x61, 0, 0]);

  dest = new Uint8Array(4);
  r = encoder.encodeInto("a\u20acb", dest);
  assert_equals(r.read, 2);
  assert_equals(r.written, 4);
  assert_array_equals(dest, [0x61, 0xe2, 0x82, 0xac]);

  dest = new Uint8Array(3);
  r = encoder.encodeInto("\u{1F600}", dest);
  assert_equals(r.read, 0, "a 4-byte character is not split");
  assert_equals(r.written, 0);

  dest = new Uint8Array(5);
  r = encoder.encodeInto("\u{1F600}x", dest);
  assert_equals(r.read, 3, "read counts UTF-16 code units: the pair is 2");
  assert_equals(r.written, 5);

  dest = new Uint8Array(0);
  r = encoder.encodeInto("abc", dest);
  assert_equals(r.read, 0);
  assert_equals(r.written, 0);
}, "TextEncoder.encodeInto partial writes never split a character");

test(() => {
  const encoder = new TextEncoder();
  const dest = new Uint8Array(4);
  const r = encoder.encodeInto("\uD800z", dest);
  assert_equals(r.read, 2);
  assert_equals(r.written, 4);
  assert_array_equals(dest, [0xef, 0xbf, 0xbd, 0x7a]);
}, "TextEncoder.encodeInto encodes lone surrogates as U+FFFD (3 bytes, 1 code unit)");

test(() => {
  const encoder = new TextEncoder();
  const buffer = new ArrayBuffer(8);
  new Uint8Array(buffer).fill(0xff);
  const view = new Uint8Array(buffer, 2, 4);
  const r = encoder.encodeInto("abcdef", view);
  assert_equals(r.read, 4);
  assert_equals(r.written, 4);
  assert_array_equals(new Uint8Array(buffer), [0xff, 0xff, 0x61, 0x62, 0x63, 0x64, 0xff, 0xff]);

  const sub = new Uint8Array(8).subarray(5);
  const r2 = encoder.encodeInto("\u00e9\u00e9", sub);
  assert_equals(r2.read, 1);
  assert_equals(r2.written, 2);
  assert_array_equals(new Uint8Array(sub.buffer), [0, 0, 0, 0, 0, 0xc3, 0xa9, 0]);
}, "TextEncoder.encodeInto writes only inside the destination's viewed range");

test(() => {
  // As on Compute (js-compute 3.46 has no SharedArrayBuffer, Atomics or Iterator globals).
  assert_equals(typeof SharedArrayBuffer, "undefined");
  assert_equals(typeof Atomics, "undefined");
  assert_equals(typeof Iterator, "undefined");
}, "Globals Compute lacks are absent");

test(() => {
  const encoder = new TextEncoder();
  const message = "TextEncoder.encodeInto: destination must be a Uint8Array";
  for (const dest of [new Uint16Array(4), new Uint8ClampedArray(4), new ArrayBuffer(4), new DataView(new ArrayBuffer(4)), [], null, "x"]) {
    assert_throws_js(TypeError, () => encoder.encodeInto("a", dest), String(dest), message);
  }
  assert_throws_js(TypeError, () => encoder.encodeInto("a"), "one argument", "encodeInto: At least 2 arguments required, but only 1 passed");
  assert_throws_js(TypeError, () => encoder.encodeInto(), "no argument", "encodeInto: At least 2 arguments required, but only 0 passed");
}, "TextEncoder.encodeInto argument errors");

test(() => {
  assert_throws_js(TypeError, () => TextEncoder(), "", "calling a builtin TextEncoder constructor without new is forbidden");
  assert_throws_js(TypeError, () => TextEncoder.prototype.encode.call({}, "a"), "encode", "Method 'encode' called on receiver that's not an instance of TextEncoder");
  assert_throws_js(TypeError, () => TextEncoder.prototype.encodeInto.call({}, "a", new Uint8Array(1)), "encodeInto", "Method 'encodeInto' called on receiver that's not an instance of TextEncoder");
  assert_throws_js(TypeError, () => TextEncoder.prototype.encoding, "getter on the prototype", "Method 'encoding get' called on receiver that's not an instance of TextEncoder");
  const getter = Object.getOwnPropertyDescriptor(TextEncoder.prototype, "encoding").get;
  assert_throws_js(TypeError, () => getter.call({}), "getter on another object", "Method 'encoding_get' called on receiver that's not an instance of TextEncoder");
}, "TextEncoder constructor and receiver checks");

test(() => {
  assert_equals(TextEncoder.length, 0);
  assert_array_equals(Object.keys(TextEncoder.prototype), ["encoding", "encode", "encodeInto"]);
  assert_equals(TextEncoder.prototype.encode.length, 0);
  assert_equals(TextEncoder.prototype.encodeInto.length, 2);
  assert_equals(String(new TextEncoder()), "[object TextEncoder]");
  class Sub extends TextEncoder {}
  const sub = new Sub();
  assert_true(sub instanceof Sub);
  assert_equals(sub.encoding, "utf-8");
}, "TextEncoder shape");

// ---------------------------------------------------------------------------------------------
// TextDecoder: construction

test(() => {
  const decoder = new TextDecoder();
  assert_equals(decoder.encoding, "utf-8");
  assert_equals(decoder.fatal, false);
  assert_equals(decoder.ignoreBOM, false);
  assert_equals(decoder.decode(), "");
  assert_equals(decoder.decode(undefined), "");
  assert_equals(new TextDecoder(undefined).encoding, "utf-8");
}, "TextDecoder defaults");

test(() => {
  const cases = [
    ["utf-8", "utf-8"], ["UTF8", "utf-8"], [" utf-8\n", "utf-8"], ["\tunicode-1-1-utf-8\f\r", "utf-8"],
    ["x-unicode20utf8", "utf-8"], ["utf-16", "utf-16le"], ["UTF-16LE", "utf-16le"], ["unicode", "utf-16le"],
    ["utf-16be", "utf-16be"], ["latin1", "windows-1252"], ["ascii", "windows-1252"],
    ["iso-8859-2", "iso-8859-2"], ["sjis", "shift_jis"], ["gbk", "gbk"], ["gb2312", "gbk"],
    ["gb18030", "gb18030"], ["big5", "big5"], ["euc-jp", "euc-jp"], ["iso-2022-jp", "iso-2022-jp"],
    ["euc-kr", "euc-kr"], ["koi8-r", "koi8-r"], ["koi8-u", "koi8-u"], ["ibm866", "ibm866"],
    ["mac", "macintosh"], ["x-mac-cyrillic", "x-mac-cyrillic"], ["x-user-defined", "x-user-defined"],
    ["windows-874", "windows-874"], ["iso-8859-8-i", "iso-8859-8-i"],
  ];
  for (const [label, name] of cases) {
    assert_equals(new TextDecoder(label).encoding, name, JSON.stringify(label));
  }
}, "TextDecoder labels resolve to their encodings' names");

test(() => {
  const message = "TextDecoder constructor: The given encoding is not supported.";
  for (const label of ["foo", "", "replacement", "iso-2022-kr", "csiso2022kr", "hz-gb-2312", "\vutf-8", "utf-8\0", "utf\u20138", "utf-7", null]) {
    assert_throws_js(RangeError, () => new TextDecoder(label), JSON.stringify(label), message);
  }
}, "TextDecoder rejects unknown labels and replacement encodings with a RangeError");

test(() => {
  assert_equals(new TextDecoder("utf-8", null).fatal, false, "null options");
  assert_equals(new TextDecoder("utf-8", { fatal: 1 }).fatal, true);
  assert_equals(new TextDecoder("utf-8", { ignoreBOM: "yes" }).ignoreBOM, true);
  assert_equals(new TextDecoder("utf-8", { fatal: 0, ignoreBOM: "" }).ignoreBOM, false);
  const message = "TextDecoder constructor: options must be an object or undefined";
  assert_throws_js(TypeError, () => new TextDecoder("utf-8", 1), "number", message);
  assert_throws_js(TypeError, () => new TextDecoder("utf-8", "fatal"), "string", message);
  assert_throws_js(RangeError, () => new TextDecoder("nope", 1), "the label is checked first");
  const order = [];
  new TextDecoder("utf-8", { get fatal() { order.push("fatal"); }, get ignoreBOM() { order.push("ignoreBOM"); } });
  assert_array_equals(order, ["fatal", "ignoreBOM"]);
}, "TextDecoder options");

test(() => {
  assert_throws_js(TypeError, () => TextDecoder(), "", "calling a builtin TextDecoder constructor without new is forbidden");
  assert_throws_js(TypeError, () => TextDecoder.prototype.decode.call({}), "decode", "Method 'decode' called on receiver that's not an instance of TextDecoder");
  assert_throws_js(TypeError, () => TextDecoder.prototype.fatal, "fatal on prototype", "Method 'fatal get' called on receiver that's not an instance of TextDecoder");
  const getter = Object.getOwnPropertyDescriptor(TextDecoder.prototype, "ignoreBOM").get;
  assert_throws_js(TypeError, () => getter.call(new TextEncoder()), "ignoreBOM elsewhere", "Method 'ignoreBOM_get' called on receiver that's not an instance of TextDecoder");
  assert_throws_js(TypeError, () => TextDecoder.prototype.encoding, "encoding on prototype", "Method 'encoding get' called on receiver that's not an instance of TextDecoder");
}, "TextDecoder constructor and receiver checks");

test(() => {
  assert_equals(TextDecoder.length, 0);
  assert_array_equals(Object.keys(TextDecoder.prototype), ["encoding", "fatal", "ignoreBOM", "decode"]);
  assert_equals(TextDecoder.prototype.decode.length, 0);
  assert_equals(String(new TextDecoder()), "[object TextDecoder]");
  class Sub extends TextDecoder {}
  assert_equals(new Sub("latin1").encoding, "windows-1252");
}, "TextDecoder shape");

// ---------------------------------------------------------------------------------------------
// TextDecoder: decoding

test(() => {
  const decoder = new TextDecoder();
  const data = [0x68, 0xc3, 0xa9, 0x21];
  assert_equals(decoder.decode(new Uint8Array(data)), "h\u00e9!", "Uint8Array");
  assert_equals(decoder.decode(new Uint8Array(data).buffer), "h\u00e9!", "ArrayBuffer");
  assert_equals(decoder.decode(new DataView(new Uint8Array(data).buffer)), "h\u00e9!", "DataView");
  assert_equals(decoder.decode(new Uint16Array(new Uint8Array(data).buffer)), "h\u00e9!", "Uint16Array");
  const big = new Uint8Array([0x78, ...data, 0x78]);
  assert_equals(decoder.decode(big.subarray(1, 5)), "h\u00e9!", "only the viewed range");
  assert_equals(decoder.decode(new DataView(big.buffer, 1, 4)), "h\u00e9!", "DataView range");
}, "TextDecoder.decode reads every kind of buffer source");

test(() => {
  const decoder = new TextDecoder();
  const message = "TextDecoder#decode: input must be of type ArrayBuffer or ArrayBufferView";
  for (const input of ["abc", null, 1, {}, [0x61]]) {
    assert_throws_js(TypeError, () => decoder.decode(input), JSON.stringify(input), message);
  }
  const optionsMessage = "TextDecoder.decode: options must be an object or undefined";
  assert_throws_js(TypeError, () => decoder.decode(bytes(0x61), 1), "number", optionsMessage);
  assert_throws_js(TypeError, () => decoder.decode(bytes(0x61), null), "null", optionsMessage);
  assert_equals(decoder.decode(bytes(0x61), undefined), "a");
  assert_equals(decoder.decode(bytes(0x61), {}), "a");
}, "TextDecoder.decode argument errors");

test(() => {
  const decoder = new TextDecoder();
  assert_equals(decoder.decode(bytes(0xff, 0x61)), "\ufffda");
  assert_equals(decoder.decode(bytes(0xe2, 0x82)), "\ufffd", "truncated at the end");
  assert_equals(decoder.decode(bytes(0xc0, 0x80)), "\ufffd\ufffd", "overlong");
  assert_equals(decoder.decode(bytes(0xed, 0xa0, 0x80)), "\ufffd\ufffd\ufffd", "encoded surrogate");
  assert_equals(decoder.decode(bytes(0xf0, 0x9f, 0x98, 0x80)), "\u{1F600}");
}, "TextDecoder.decode replaces invalid UTF-8 with U+FFFD");

test(() => {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const message = "TextDecoder.decode: Decoding failed.";
  assert_throws_js(TypeError, () => decoder.decode(bytes(0xff)), "invalid byte", message);
  assert_equals(decoder.decode(bytes(0x6f, 0x6b)), "ok", "the decoder recovers after an error");
  assert_throws_js(TypeError, () => decoder.decode(bytes(0xe2, 0x82)), "truncated", message);
  assert_equals(decoder.decode(bytes(0xe2, 0x82, 0xac)), "\u20ac");
  const utf16 = new TextDecoder("utf-16le", { fatal: true });
  assert_throws_js(TypeError, () => utf16.decode(bytes(0x00, 0xd8)), "lone surrogate", message);
  assert_throws_js(TypeError, () => utf16.decode(bytes(0x61)), "odd length", message);
}, "TextDecoder.decode with fatal throws a TypeError on invalid input");

test(() => {
  const bom = [0xef, 0xbb, 0xbf];
  assert_equals(new TextDecoder().decode(bytes(...bom, 0x61)), "a", "stripped by default");
  assert_equals(new TextDecoder().decode(bytes(...bom, ...bom, 0x61)), "\ufeffa", "only one is stripped");
  assert_equals(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes(...bom, 0x61)), "\ufeffa", "kept with ignoreBOM");
  assert_equals(new TextDecoder().decode(bytes(0x61, ...bom)), "a\ufeff", "not at the start");

  const decoder = new TextDecoder();
  assert_equals(decoder.decode(bytes(...bom), { stream: true }), "");
  assert_equals(decoder.decode(bytes(...bom, 0x61)), "\ufeffa", "only at the start of the stream");
  assert_equals(decoder.decode(bytes(...bom, 0x62)), "b", "a new stream after a flush");

  assert_equals(decoder.decode(bytes(0xef), { stream: true }), "");
  assert_equals(decoder.decode(bytes(0xbb), { stream: true }), "");
  assert_equals(decoder.decode(bytes(0xbf, 0x63)), "c", "a BOM split across chunks");

  assert_equals(new TextDecoder("utf-16le").decode(bytes(0xff, 0xfe, 0x41, 0x00)), "A", "UTF-16LE BOM");
  assert_equals(new TextDecoder("utf-16le", { ignoreBOM: true }).decode(bytes(0xff, 0xfe, 0x41, 0x00)), "\ufeffA");
  assert_equals(new TextDecoder("utf-16be").decode(bytes(0xfe, 0xff, 0x00, 0x41)), "A", "UTF-16BE BOM");
  assert_equals(new TextDecoder("utf-16le").decode(bytes(0xfe, 0xff, 0x41, 0x00)), "\ufffeA", "a BOM of the other byte order is a character");
}, "TextDecoder BOM handling");

test(() => {
  const decoder = new TextDecoder();
  const euro = [0xe2, 0x82, 0xac];
  let out = "";
  for (const b of euro) out += decoder.decode(bytes(b), { stream: true });
  out += decoder.decode();
  assert_equals(out, "\u20ac", "one byte per call");

  const emoji = [0xf0, 0x9f, 0x98, 0x80];
  assert_equals(decoder.decode(bytes(0x61, ...emoji.slice(0, 2)), { stream: true }), "a");
  assert_equals(decoder.decode(bytes(...emoji.slice(2), 0x62), { stream: true }), "\u{1F600}b");
  assert_equals(decoder.decode(), "");

  assert_equals(decoder.decode(bytes(0xe2, 0x82), { stream: true }), "");
  assert_equals(decoder.decode(), "\ufffd", "an incomplete sequence is flushed as U+FFFD");
  assert_equals(decoder.decode(bytes(0x61)), "a", "then decoding starts afresh");
}, "TextDecoder streaming keeps split multi-byte sequences");

test(() => {
  const data = new Uint8Array([0xe2, 0x82, 0xac]);
  const decoder = new TextDecoder();
  assert_equals(decoder.decode(data.subarray(0, 1), { stream: true }), "");
  data[1] = 0; data[2] = 0;
  assert_equals(decoder.decode(bytes(0x82, 0xac)), "\u20ac", "the kept bytes were copied");
}, "TextDecoder streaming copies its input");

test(() => {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  assert_equals(decoder.decode(bytes(0xe2, 0x82), { stream: true }), "", "incomplete is fine while streaming");
  assert_throws_js(TypeError, () => decoder.decode(), "but not at the end", "TextDecoder.decode: Decoding failed.");
  assert_equals(decoder.decode(bytes(0x61)), "a");
  assert_throws_js(TypeError, () => decoder.decode(bytes(0x61, 0xff), { stream: true }), "invalid while streaming");
}, "TextDecoder fatal streaming");

test(() => {
  const decoder = new TextDecoder("utf-16le");
  assert_equals(decoder.encoding, "utf-16le");
  assert_equals(decoder.decode(bytes(0x41, 0x00, 0x3d, 0xd8, 0x00, 0xde)), "A\u{1F600}");
  assert_equals(decoder.decode(bytes(0x00, 0xd8, 0x41, 0x00)), "\ufffdA", "lone surrogate");
  assert_equals(decoder.decode(bytes(0x41, 0x00, 0x42)), "A\ufffd", "odd byte at the end");
  assert_equals(decoder.decode(bytes(0x41), { stream: true }), "", "half a code unit");
  assert_equals(decoder.decode(bytes(0x00, 0x3d), { stream: true }), "A");
  assert_equals(decoder.decode(bytes(0xd8), { stream: true }), "", "half a lead surrogate kept");
  assert_equals(decoder.decode(bytes(0x00, 0xde)), "\u{1F600}", "pair across chunks");
  assert_equals(new TextDecoder("utf-16be").decode(bytes(0x00, 0x41, 0xd8, 0x3d, 0xde, 0x00)), "A\u{1F600}");
}, "TextDecoder UTF-16LE and UTF-16BE");

test(() => {
  assert_equals(new TextDecoder("windows-1252").decode(bytes(0x80, 0x41, 0xe9)), "\u20acA\u00e9");
  assert_equals(new TextDecoder("latin1").decode(bytes(0x81)), "\u0081");
  assert_equals(new TextDecoder("shift_jis").decode(bytes(0x82, 0xa0)), "\u3042");
  assert_equals(new TextDecoder("euc-kr").decode(bytes(0xb0, 0xa1)), "\uac00");
  assert_equals(new TextDecoder("gbk").decode(bytes(0xc4, 0xe3)), "\u4f60");
  assert_equals(new TextDecoder("x-user-defined").decode(bytes(0x41, 0x80)), "A\uf780");
  assert_equals(new TextDecoder("koi8-r", { fatal: true }).decode(bytes(0xc1)), "\u0430");
}, "TextDecoder legacy encodings");

test(() => {
  const text = "ASCII \u00e9\u00e8 \u20ac \u4f60\u597d \u{1F600}\u{10FFFF} \u0000 end";
  assert_equals(new TextDecoder().decode(new TextEncoder().encode(text)), text);
  const dest = new Uint8Array(64);
  const { written } = new TextEncoder().encodeInto(text, dest);
  assert_equals(new TextDecoder().decode(dest.subarray(0, written)), text);
}, "UTF-8 round trip");
