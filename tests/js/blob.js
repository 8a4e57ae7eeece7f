// Blob, File, FormData.
import {
  test, promise_test, assert_equals, assert_true, assert_array_equals, assert_throws_js,
  readChunks,
} from "./harness.js";

promise_test(async () => {
  const blob = new Blob(["ab", new Uint8Array([99, 100]), new Blob(["é"])], { type: "Text/Plain" });
  assert_equals(blob.size, 6);
  assert_equals(blob.type, "text/plain");
  assert_equals(await blob.text(), "abcdé");
  assert_array_equals(new Uint8Array(await blob.arrayBuffer()), [97, 98, 99, 100, 195, 169]);
  assert_array_equals(await blob.bytes(), [97, 98, 99, 100, 195, 169]);
}, "Blob from strings, views and blobs");

promise_test(async () => {
  const blob = new Blob(["hello world"]);
  assert_equals(await blob.slice(6).text(), "world");
  assert_equals(await blob.slice(-5, -1).text(), "worl");
  assert_equals(await blob.slice(3, 1).text(), "");
  assert_equals(blob.slice(0, 5, "x/y").type, "x/y");
  assert_equals(new Blob([], { type: "\u00e9" }).type, "", "non-ASCII types are dropped");
}, "Blob.slice clamps like the spec");

promise_test(async () => {
  const chunks = (await readChunks(new Blob(["streamed"]).stream())).flatMap((c) => [...c]);
  assert_equals(new TextDecoder().decode(new Uint8Array(chunks)), "streamed");
}, "Blob.stream");

test(() => {
  assert_throws_js(TypeError, () => new Blob("not a sequence"), "", "Blob constructor: Argument 1 can't be converted to a sequence.");
  const file = new File(["x"], "a.txt", { type: "text/plain", lastModified: 42 });
  assert_equals(file.name, "a.txt");
  assert_equals(file.lastModified, 42);
  assert_true(file instanceof Blob);
  assert_equals(String(file), "[object File]");
  assert_throws_js(TypeError, () => new File(["x"]), "", "File constructor: At least 2 arguments required, but only 1 passed");
}, "File");

test(() => {
  const fd = new FormData();
  fd.append("a", "1");
  fd.append("b", "2");
  fd.append("a", "3");
  assert_equals(fd.get("a"), "1");
  assert_array_equals(fd.getAll("a"), ["1", "3"]);
  fd.set("a", "4");
  assert_array_equals([...fd].map(([k, v]) => `${k}=${v}`), ["a=4", "b=2"]);
  fd.delete("b");
  assert_equals(fd.has("b"), false);
  assert_equals(fd.get("zz"), null);
}, "FormData entries");

test(() => {
  const fd = new FormData();
  fd.append("upload", new Blob(["data"], { type: "text/plain" }));
  fd.append("named", new Blob(["data"]), "n.bin");
  const upload = fd.get("upload");
  assert_true(upload instanceof File);
  assert_equals(upload.name, "blob");
  assert_equals(upload.type, "text/plain");
  assert_equals(fd.get("named").name, "n.bin");
}, "FormData wraps blobs in files");

promise_test(async () => {
  const r = new Response(new Blob(["xyz"], { type: "x/y" }));
  assert_equals(r.headers.get("content-type"), "x/y");
  assert_equals(await r.text(), "xyz");
  const untyped = new Response(new Blob([new Uint8Array([1, 2])]));
  assert_equals(untyped.headers.get("content-type"), null);
  assert_array_equals(new Uint8Array(await untyped.arrayBuffer()), [1, 2]);
}, "a Blob as a body keeps its bytes and type");

promise_test(async () => {
  const fd = new FormData();
  fd.append("a", "1");
  fd.append("f", new Blob(["data"], { type: "text/plain" }), "x.txt");
  const r = new Response(fd);
  const type = r.headers.get("content-type");
  assert_true(type.startsWith("multipart/form-data; boundary="), type);
  const boundary = type.split("boundary=")[1];
  assert_equals(await r.text(),
    `--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\ndata\r\n` +
    `--${boundary}--\r\n`);
}, "a FormData as a body is multipart/form-data");
