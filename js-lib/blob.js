// Blob, File and FormData: https://w3c.github.io/FileAPI/ and
// https://xhr.spec.whatwg.org/#interface-formdata
//
// A classic script whose completion value is a function of the host object returning
// `{ globals, internal }` (see runtime/engine/src/js_lib.rs).
(function (host) {
  "use strict";

  const BYTES = new WeakMap();
  const encoder = () => new TextEncoder();

  function partBytes(part) {
    if (part instanceof Blob) return BYTES.get(part).bytes;
    if (part instanceof ArrayBuffer) return new Uint8Array(part.slice(0));
    if (ArrayBuffer.isView(part)) {
      return new Uint8Array(part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength));
    }
    return encoder().encode(String(part));
  }

  function normalizeType(type) {
    const t = type === undefined ? "" : String(type);
    // Types outside printable ASCII are dropped; the rest is lower-cased.
    return /^[\x20-\x7e]*$/.test(t) ? t.toLowerCase() : "";
  }

  function concat(chunks) {
    const total = chunks.reduce((n, c) => n + c.byteLength, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }

  class Blob {
    constructor(blobParts = undefined, options = undefined) {
      let chunks = [];
      if (blobParts !== undefined) {
        if (blobParts === null || typeof blobParts !== "object" || typeof blobParts[Symbol.iterator] !== "function") {
          throw new TypeError("Blob constructor: Argument 1 can't be converted to a sequence.");
        }
        chunks = Array.from(blobParts, partBytes);
      }
      const type = normalizeType(options == null ? undefined : options.type);
      BYTES.set(this, { bytes: concat(chunks), type });
    }

    static #data(blob, what) {
      const data = BYTES.get(blob);
      if (!data) throw new TypeError(`Method '${what}' called on receiver that's not an instance of Blob`);
      return data;
    }

    get size() { return Blob.#data(this, "size").bytes.byteLength; }
    get type() { return Blob.#data(this, "type").type; }

    slice(start = 0, end = undefined, contentType = undefined) {
      const { bytes } = Blob.#data(this, "slice");
      const size = bytes.byteLength;
      const clamp = (n, fallback) => {
        if (n === undefined) return fallback;
        const i = Math.trunc(Number(n)) || 0;
        return i < 0 ? Math.max(size + i, 0) : Math.min(i, size);
      };
      const from = clamp(start, 0);
      const to = clamp(end, size);
      const blob = new Blob([], { type: contentType });
      BYTES.get(blob).bytes = bytes.slice(from, Math.max(from, to));
      return blob;
    }

    async text() { return new TextDecoder().decode(Blob.#data(this, "text").bytes); }
    async arrayBuffer() { return Blob.#data(this, "arrayBuffer").bytes.slice().buffer; }
    async bytes() { return Blob.#data(this, "bytes").bytes.slice(); }

    stream() {
      const bytes = Blob.#data(this, "stream").bytes.slice();
      return new ReadableStream({
        type: "bytes",
        start(controller) {
          if (bytes.byteLength > 0) controller.enqueue(bytes);
          controller.close();
        },
      });
    }

  }

  const FILE_STATE = new WeakMap();

  class File extends Blob {
    constructor(fileBits, fileName, options = undefined) {
      if (arguments.length < 2) {
        throw new TypeError(`File constructor: At least 2 arguments required, but only ${arguments.length} passed`);
      }
      super(fileBits, options);
      const lastModified = options != null && options.lastModified !== undefined
        ? Math.trunc(Number(options.lastModified)) : Date.now();
      FILE_STATE.set(this, { name: String(fileName), lastModified });
    }

    static #state(file, what) {
      const state = FILE_STATE.get(file);
      if (!state) throw new TypeError(`Method '${what}' called on receiver that's not an instance of File`);
      return state;
    }

    get name() { return File.#state(this, "name").name; }
    get lastModified() { return File.#state(this, "lastModified").lastModified; }
  }

  const ENTRIES = new WeakMap();

  function entryValue(value, filename, argumentCount) {
    if (value instanceof Blob) {
      if (value instanceof File && argumentCount < 3) return value;
      const name = argumentCount >= 3 ? String(filename) : "blob";
      return new File([value], name, { type: value.type, lastModified: value instanceof File ? value.lastModified : undefined });
    }
    return String(value);
  }

  class FormData {
    constructor(form = undefined) {
      if (form !== undefined) {
        throw new TypeError("FormData constructor: Argument 1 is not an HTMLFormElement (there are no forms here).");
      }
      ENTRIES.set(this, []);
    }

    static #entries(formData, what) {
      const entries = ENTRIES.get(formData);
      if (!entries) throw new TypeError(`Method '${what}' called on receiver that's not an instance of FormData`);
      return entries;
    }

    append(name, value, filename = undefined) {
      const entries = FormData.#entries(this, "append");
      if (arguments.length < 2) {
        throw new TypeError(`FormData.append: At least 2 arguments required, but only ${arguments.length} passed`);
      }
      entries.push([String(name), entryValue(value, filename, arguments.length)]);
    }

    set(name, value, filename = undefined) {
      const entries = FormData.#entries(this, "set");
      if (arguments.length < 2) {
        throw new TypeError(`FormData.set: At least 2 arguments required, but only ${arguments.length} passed`);
      }
      const key = String(name);
      const entry = [key, entryValue(value, filename, arguments.length)];
      const first = entries.findIndex(([n]) => n === key);
      if (first === -1) {
        entries.push(entry);
        return;
      }
      entries[first] = entry;
      for (let i = entries.length - 1; i > first; i -= 1) {
        if (entries[i][0] === key) entries.splice(i, 1);
      }
    }

    delete(name) {
      const entries = FormData.#entries(this, "delete");
      const key = String(name);
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        if (entries[i][0] === key) entries.splice(i, 1);
      }
    }

    get(name) {
      const found = FormData.#entries(this, "get").find(([n]) => n === String(name));
      return found ? found[1] : null;
    }

    getAll(name) {
      return FormData.#entries(this, "getAll").filter(([n]) => n === String(name)).map(([, v]) => v);
    }

    has(name) { return FormData.#entries(this, "has").some(([n]) => n === String(name)); }

    forEach(callback, thisArg = undefined) {
      if (typeof callback !== "function") throw new TypeError("FormData.forEach: Argument 1 is not callable.");
      for (const [name, value] of FormData.#entries(this, "forEach").slice()) callback.call(thisArg, value, name, this);
    }

    *entries() { for (const [name, value] of FormData.#entries(this, "entries")) yield [name, value]; }
    *keys() { for (const [name] of FormData.#entries(this, "keys")) yield name; }
    *values() { for (const [, value] of FormData.#entries(this, "values")) yield value; }
    [Symbol.iterator]() { return this.entries(); }
  }

  // Blob and File are tagged with a data property, as on Compute; FormData has no tag there
  // (`String(new FormData())` is `[object Object]`).
  for (const cls of [Blob, File]) {
    Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: cls.name, configurable: true });
  }

  return {
    globals: { Blob, File, FormData },
    internal: {
      isBlob: (value) => value instanceof Blob,
      // For the body mixin's `blob()`: an ArrayBuffer and a type.
      makeBlob: (buffer, type) => new Blob([buffer], { type }),
      // The bytes of a Blob (not a copy: the caller must not mutate them).
      blobBytes: (blob) => BYTES.get(blob).bytes,
      blobType: (blob) => BYTES.get(blob).type,
      isFormData: (value) => value instanceof FormData,
      // multipart/form-data for a FormData body: { bytes, boundary }.
      formDataToMultipart(formData) {
        const boundary = `----edgeshim${crypto.randomUUID().replace(/-/g, "")}`;
        const escape = (s) => s.replace(/\r/g, "%0D").replace(/\n/g, "%0A").replace(/"/g, "%22");
        const enc = encoder();
        const parts = [];
        for (const [name, value] of ENTRIES.get(formData)) {
          let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escape(name)}"`;
          if (value instanceof File) {
            head += `; filename="${escape(value.name)}"\r\nContent-Type: ${value.type || "application/octet-stream"}`;
            parts.push(enc.encode(`${head}\r\n\r\n`), BYTES.get(value).bytes, enc.encode("\r\n"));
          } else {
            parts.push(enc.encode(`${head}\r\n\r\n${value.replace(/\r?\n|\r/g, "\r\n")}\r\n`));
          }
        }
        parts.push(enc.encode(`--${boundary}--\r\n`));
        return { bytes: concat(parts), boundary };
      },
      // A FormData holding the pairs of an application/x-www-form-urlencoded body.
      formDataFromPairs(pairs) {
        const formData = new FormData();
        for (const [name, value] of pairs) formData.append(name, value);
        return formData;
      },
    },
  };
})
