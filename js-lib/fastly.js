// The fastly:* classes written in JS: what needs no host, or whose host is emulated by answers
// Viceroy gives, and the exports of what edgeshim does not emulate (yet), which fail with a
// message saying so. Checks and messages follow js-compute-runtime 3.46's builtins
// (runtime/fastly/builtins/*.cpp); each class notes its file.
//
// A classic script whose completion value is a function of the host object returning
// `{ globals, internal }` (see runtime/engine/src/js_lib.rs). `internal` holds the module
// exports that are not globals.
(function (host) {
  "use strict";

  const wrongReceiver = (method, cls) =>
    new TypeError(`Method '${method}' called on receiver that's not an instance of ${cls}`);
  const tooFew = (what, required, passed) =>
    new TypeError(
      `${what}: At least ${required} argument${required === 1 ? "" : "s"} required, but only ${passed} passed`,
    );
  const requestHandlerOnly = (what) =>
    new Error(`${what} can only be used during request handling, not during initialization`);

  // What edgeshim does not emulate: the call fails, naming the API and what Compute does.
  const notEmulated = (api, production) =>
    new Error(
      `${api} is not emulated by edgeshim: on Compute, ${production}. ` +
        "Run the app with Viceroy, or deploy it, to exercise this path.",
    );

  // Defines `props` on `target` as the platform's builtins have them: methods writable,
  // enumerable, configurable; accessors enumerable, configurable.
  function defineMethods(target, methods) {
    for (const [name, fn] of Object.entries(methods)) {
      Object.defineProperty(target, name, { value: fn, writable: true, enumerable: true, configurable: true });
    }
  }
  function defineAccessors(target, accessors) {
    for (const [name, { get, set }] of Object.entries(accessors)) {
      Object.defineProperty(target, name, { get, set, enumerable: true, configurable: true });
    }
  }
  function tag(cls, name) {
    Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: name, configurable: true });
  }
  // A function with the given name and length (methods defined by object literal shorthand
  // would be enumerable-correct but carry the wrong `length`).
  function named(name, length, fn) {
    Object.defineProperty(fn, "name", { value: name });
    Object.defineProperty(fn, "length", { value: length });
    return fn;
  }

  // ---- CacheOverride (builtins/cache-override.cpp) ----------------------------------------
  // Settings only: a request carries a copy of them (`cacheOverridePlan`) to the host's
  // readthrough cache (runtime/engine/src/http_cache.rs).

  const OVERRIDE = new WeakMap();
  const MODES = ["none", "pass", "override"];

  function overrideState(self, method) {
    const state = OVERRIDE.get(self);
    if (!state) throw wrongReceiver(method, "CacheOverride");
    return state;
  }
  function parseMode(value) {
    const mode = String(value);
    if (!MODES.includes(mode)) {
      throw new TypeError(
        `CacheOverride constructor: 'mode' has to be "none", "pass", or "override", but got "${mode}"`,
      );
    }
    return mode;
  }
  function ensureOverride(state, field) {
    if (state.mode !== "override") {
      throw new Error(`Can't set ${field} on CacheOverride object whose mode isn't "override"`);
    }
  }
  // JS::ToInt32, then the platform's non-negative check.
  function nonNegative(value, field) {
    const n = value | 0;
    if (n < 0) throw new TypeError(`CacheOverride: ${field} must be a non-negative integer`);
    return n;
  }
  const overrideOnly = (state, field) => (state.mode === "override" ? state[field] : undefined);

  const OVERRIDE_SETTERS = {
    ttl(state, value) {
      ensureOverride(state, "a TTL");
      state.ttl = value === undefined ? undefined : nonNegative(value, "ttl");
    },
    staleWhileRevalidate(state, value) {
      ensureOverride(state, "staleWhileRevalidate");
      state.swr = value === undefined ? undefined : nonNegative(value, "swr");
    },
    staleIfError(state, value) {
      ensureOverride(state, "staleIfError");
      state.sie = value === undefined ? undefined : nonNegative(value, "swr");
    },
    surrogateKey(state, value) {
      ensureOverride(state, "a surrogate key");
      state.surrogateKey = value === undefined ? undefined : String(value);
    },
    pci(state, value) {
      ensureOverride(state, "PCI");
      state.pci = value === undefined ? undefined : Boolean(value);
    },
    beforeSend(state, value) {
      ensureOverride(state, "beforeSend");
      if (value !== undefined && typeof value !== "function") {
        throw new Error("CacheOverride: beforeSend must be a function");
      }
      state.beforeSend = value;
    },
    afterSend(state, value) {
      ensureOverride(state, "afterSend");
      if (value !== undefined && typeof value !== "function") {
        throw new Error("CacheOverride: afterSend must be a function");
      }
      state.afterSend = value;
    },
  };

  class CacheOverride {
    constructor(modeOrInit, init) {
      if (arguments.length < 1) throw tooFew("CacheOverride constructor", 1, arguments.length);
      const state = { mode: "override" };
      let options = init;
      if (typeof modeOrInit === "object" && modeOrInit !== null) {
        options = modeOrInit;
      } else {
        state.mode = parseMode(modeOrInit);
      }
      OVERRIDE.set(this, state);
      if (state.mode !== "override") return;
      if (typeof options !== "object" || options === null) {
        OVERRIDE.delete(this);
        throw new Error(
          'Creating a CacheOverride object with mode "override" requires an init object for the override parameters as the second argument',
        );
      }
      OVERRIDE_SETTERS.ttl(state, options.ttl);
      OVERRIDE_SETTERS.staleWhileRevalidate(state, options.swr);
      const swr = options.staleWhileRevalidate;
      if (swr !== undefined && swr !== null) OVERRIDE_SETTERS.staleWhileRevalidate(state, swr);
      OVERRIDE_SETTERS.staleIfError(state, options.staleIfError);
      OVERRIDE_SETTERS.surrogateKey(state, options.surrogateKey);
      OVERRIDE_SETTERS.pci(state, options.pci);
      OVERRIDE_SETTERS.beforeSend(state, options.beforeSend);
      OVERRIDE_SETTERS.afterSend(state, options.afterSend);
    }
  }
  const swrAccessor = {
    get: named("get staleWhileRevalidate", 0, function () {
      return overrideOnly(overrideState(this, "staleWhileRevalidate get"), "swr");
    }),
    set: named("set staleWhileRevalidate", 1, function (value) {
      OVERRIDE_SETTERS.staleWhileRevalidate(overrideState(this, "staleWhileRevalidate set"), value);
    }),
  };
  const overrideAccessor = (name, field, setter) => ({
    get: named(`get ${name}`, 0, function () {
      return overrideOnly(overrideState(this, `${name} get`), field);
    }),
    set: named(`set ${name}`, 1, function (value) {
      OVERRIDE_SETTERS[setter](overrideState(this, `${name} set`), value);
    }),
  });
  defineAccessors(CacheOverride.prototype, {
    mode: {
      get: named("get mode", 0, function () {
        return overrideState(this, "mode get").mode;
      }),
      set: named("set mode", 1, function (value) {
        overrideState(this, "mode get").mode = parseMode(value);
      }),
    },
    ttl: overrideAccessor("ttl", "ttl", "ttl"),
    swr: swrAccessor,
    staleWhileRevalidate: swrAccessor,
    surrogateKey: overrideAccessor("surrogateKey", "surrogateKey", "surrogateKey"),
    pci: overrideAccessor("pci", "pci", "pci"),
    beforeSend: overrideAccessor("beforeSend", "beforeSend", "beforeSend"),
    afterSend: overrideAccessor("afterSend", "afterSend", "afterSend"),
    staleIfError: overrideAccessor("staleIfError", "sie", "staleIfError"),
  });
  tag(CacheOverride, "CacheOverride");

  // A request's `cacheOverride` as the host applies it (`Request::set_cache_override`): a
  // copy of a CacheOverride's settings as they are now, or one made from a mode string or an
  // object with the same fields.
  function cacheOverridePlan(value) {
    let state = OVERRIDE.get(value);
    if (!state) {
      if (typeof value === "string") {
        state = { mode: parseMode(value) };
      } else if (typeof value === "object" && value !== null) {
        state = OVERRIDE.get(new CacheOverride(value));
      } else {
        throw new Error(
          "Value passed in as cacheOverride must be an instance of CacheOverride or an object with the same interface",
        );
      }
    }
    return {
      mode: state.mode,
      ttl: state.ttl,
      swr: state.swr,
      sie: state.sie,
      surrogateKey: state.surrogateKey,
      pci: state.pci === true,
      hooks: state.beforeSend !== undefined || state.afterSend !== undefined,
      beforeSend: state.beforeSend,
      afterSend: state.afterSend,
    };
  }

  // ---- FastlyBody (builtins/body.cpp) ------------------------------------------------------
  // A body the app builds and reads itself, held in memory as the host holds one: a list of
  // chunks, `read` taking from the first (checked on Viceroy: after `append("world")` and
  // `prepend("hello ")`, `read(100)` gives "hello ").

  const BODIES = new WeakMap();
  // Made at first use: the library may load before TextEncoder is installed.
  const utf8 = (text) => new TextEncoder().encode(text);

  function bodyOf(self, method) {
    const body = BODIES.get(self);
    if (!body) throw wrongReceiver(method, "FastlyBody");
    return body;
  }
  // convertBodyInit: buffers and views by their bytes, anything else as its string.
  function bodyBytes(data, op) {
    if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
    if (ArrayBuffer.isView(data)) {
      return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    }
    if (typeof ReadableStream === "function" && data instanceof ReadableStream) {
      throw notEmulated(`FastlyBody.${op} with a ReadableStream`, "a stream backed by a host body is spliced in");
    }
    return utf8(String(data));
  }
  class FastlyBody {
    constructor() {
      if (!host.inRequest()) throw requestHandlerOnly("The FastlyBody builtin");
      BODIES.set(this, { chunks: [], closed: false });
    }
  }
  defineMethods(FastlyBody.prototype, {
    concat: named("concat", 1, function concat(destination) {
      const body = bodyOf(this, "concat");
      if (arguments.length < 1) throw tooFew("concat", 1, arguments.length);
      const other = BODIES.get(destination);
      if (!other) {
        throw new Error("FastlyBody.concat: The `destination` argument is not an instance of FastlyBody.");
      }
      body.chunks.push(...other.chunks);
      other.chunks = [];
    }),
    read: named("read", 1, function read(chunkSize) {
      const body = bodyOf(this, "read");
      if (arguments.length < 1) throw tooFew("read", 1, arguments.length);
      const size = Number(chunkSize);
      if (size < 0) throw new Error("FastlyBody.read: The `chunkSize` argument has to be a positive integer.");
      if (Number.isNaN(size) || !Number.isFinite(size)) {
        throw new Error("chunkSize parameter is an invalid value, only positive numbers can be used for chunkSize.");
      }
      while (body.chunks.length > 0 && body.chunks[0].length === 0) body.chunks.shift();
      const first = body.chunks[0] ?? new Uint8Array(0);
      const n = Math.min(Math.round(size), first.length);
      const chunk = first.slice(0, n);
      if (body.chunks.length > 0) body.chunks[0] = first.slice(n);
      return chunk.buffer;
    }),
    append: named("append", 1, function append(data) {
      const body = bodyOf(this, "append");
      if (arguments.length < 1) throw tooFew("append", 1, arguments.length);
      body.chunks.push(bodyBytes(data, "append"));
    }),
    prepend: named("prepend", 1, function prepend(data) {
      const body = bodyOf(this, "prepend");
      if (arguments.length < 1) throw tooFew("prepend", 1, arguments.length);
      body.chunks.unshift(bodyBytes(data, "prepend"));
    }),
    close: named("close", 0, function close() {
      const body = bodyOf(this, "close");
      const wasClosed = body.closed;
      body.closed = true;
      // A cache insert completes when its body is closed.
      if (!wasClosed && body.onClose) body.onClose();
    }),
    abandon: named("abandon", 0, function abandon() {
      const body = bodyOf(this, "abandon");
      const wasClosed = body.closed;
      body.closed = true;
      body.chunks = [];
      if (!wasClosed && body.onAbandon) body.onAbandon();
    }),
  });
  tag(FastlyBody, "FastlyBody");

  // ---- Edge rate limiting (builtins/edge-rate-limiter.cpp) ---------------------------------
  // Counted for real (`host.rate`: per edge location, shared by every request), where
  // Viceroy answers 0 and false: an app's limits can be tried out locally.

  const NAMES = new WeakMap();

  function nameOf(self, method, cls) {
    const state = NAMES.get(self);
    if (!state || state.cls !== cls) throw wrongReceiver(method, cls);
    return state;
  }
  function requireRequest(cls) {
    if (!host.inRequest()) throw requestHandlerOnly(`The ${cls} builtin`);
  }
  function invalidUint32(n) {
    return n < 0 || Number.isNaN(n) || !Number.isFinite(n) || n > 0xffffffff;
  }
  function checkTtl(value, method) {
    const ttl = Number(value);
    if (Number.isNaN(ttl) || !Number.isFinite(ttl) || ttl < 1 || ttl > 60) {
      throw new Error(
        `${method}: timeToLive parameter is an invalid value, only numbers from 1 to 60 can be used for timeToLive values.`,
      );
    }
  }
  function namedInstance(self, cls, name, args) {
    requireRequest(cls);
    if (args.length < 1) throw tooFew(`${cls} constructor`, 1, args.length);
    const text = String(name);
    if (text.length === 0) throw new Error(`${cls} constructor: name parameter can not be an empty string.`);
    NAMES.set(self, { cls, name: text });
  }

  class PenaltyBox {
    constructor(name) {
      namedInstance(this, "PenaltyBox", name, arguments);
    }
  }
  defineMethods(PenaltyBox.prototype, {
    add: named("add", 2, function add(entry, timeToLive) {
      requireRequest("PenaltyBox");
      nameOf(this, "add", "PenaltyBox");
      if (arguments.length < 2) throw tooFew("add", 2, arguments.length);
      const key = String(entry);
      checkTtl(timeToLive, "add");
      host.rate.penaltyAdd(NAMES.get(this).name, key, Math.trunc(Number(timeToLive)));
    }),
    has: named("has", 1, function has(entry) {
      requireRequest("PenaltyBox");
      nameOf(this, "has", "PenaltyBox");
      if (arguments.length < 1) throw tooFew("has", 1, arguments.length);
      return host.rate.penaltyHas(NAMES.get(this).name, String(entry));
    }),
  });
  tag(PenaltyBox, "PenaltyBox");

  class RateCounter {
    constructor(name) {
      namedInstance(this, "RateCounter", name, arguments);
    }
  }
  defineMethods(RateCounter.prototype, {
    increment: named("increment", 2, function increment(entry, delta) {
      requireRequest("RateCounter");
      nameOf(this, "increment", "RateCounter");
      if (arguments.length < 2) throw tooFew("increment", 2, arguments.length);
      const key = String(entry);
      if (invalidUint32(Number(delta))) {
        throw new Error(
          "increment: delta parameter is an invalid value, only positive numbers can be used for delta values.",
        );
      }
      host.rate.increment(NAMES.get(this).name, key, Number(delta));
    }),
    lookupRate: named("lookupRate", 2, function lookupRate(entry, window) {
      requireRequest("RateCounter");
      nameOf(this, "lookupRate", "RateCounter");
      if (arguments.length < 2) throw tooFew("lookupRate", 2, arguments.length);
      const key = String(entry);
      const w = Number(window);
      if (w !== 1 && w !== 10 && w !== 60) {
        throw new Error("lookupRate: window parameter must be either: 1, 10, or 60");
      }
      return host.rate.lookupRate(NAMES.get(this).name, key, w);
    }),
    lookupCount: named("lookupCount", 2, function lookupCount(entry, duration) {
      requireRequest("RateCounter");
      nameOf(this, "lookupCount", "RateCounter");
      if (arguments.length < 2) throw tooFew("lookupCount", 2, arguments.length);
      const key = String(entry);
      const d = Number(duration);
      if (![10, 20, 30, 40, 50, 60].includes(d)) {
        throw new Error("lookupCount: duration parameter must be either: 10, 20, 30, 40, 50, or 60");
      }
      return host.rate.lookupCount(NAMES.get(this).name, key, d);
    }),
  });
  tag(RateCounter, "RateCounter");

  class EdgeRateLimiter {
    constructor(rateCounter, penaltyBox) {
      requireRequest("EdgeRateLimiter");
      if (arguments.length < 2) throw tooFew("EdgeRateLimiter constructor", 2, arguments.length);
      if (NAMES.get(rateCounter)?.cls !== "RateCounter") {
        throw new Error("EdgeRateLimiter constructor: rateCounter parameter must be an instance of RateCounter");
      }
      if (NAMES.get(penaltyBox)?.cls !== "PenaltyBox") {
        throw new Error("EdgeRateLimiter constructor: penaltyBox parameter must be an instance of PenaltyBox");
      }
      NAMES.set(this, {
        cls: "EdgeRateLimiter",
        name: NAMES.get(rateCounter).name,
        penaltyBox: NAMES.get(penaltyBox).name,
      });
    }
  }
  defineMethods(EdgeRateLimiter.prototype, {
    checkRate: named("checkRate", 5, function checkRate(entry, delta, window, limit, timeToLive) {
      requireRequest("EdgeRateLimiter");
      nameOf(this, "checkRate", "EdgeRateLimiter");
      if (arguments.length < 5) throw tooFew("checkRate", 5, arguments.length);
      const key = String(entry);
      if (invalidUint32(Number(delta))) {
        throw new Error(
          "checkRate: delta parameter is an invalid value, only positive numbers can be used for delta values.",
        );
      }
      const w = Number(window);
      if (w !== 1 && w !== 10 && w !== 60) {
        throw new Error("checkRate: window parameter must be either: 1, 10, or 60");
      }
      if (invalidUint32(Number(limit))) {
        throw new Error(
          "checkRate: limit parameter is an invalid value, only positive numbers can be used for limit values.",
        );
      }
      checkTtl(timeToLive, "checkRate");
      const { name, penaltyBox } = NAMES.get(this);
      return host.rate.checkRate(name, penaltyBox, key, Number(delta), w, Number(limit), Math.trunc(Number(timeToLive)));
    }),
  });
  tag(EdgeRateLimiter, "EdgeRateLimiter");

  // ---- Not emulated (fastly:shielding) ---------------------------------------------------

  // A class whose constructor, statics and prototype members exist with the platform's shape
  // and fail with `notEmulated`.
  function unemulatedClass(name, { statics = [], methods = [], accessors = [], production }) {
    const fail = (member) => () => {
      throw notEmulated(`${name}${member}`, production);
    };
    const cls = {
      [name]: class {
        constructor() {
          throw notEmulated(name, production);
        }
      },
    }[name];
    defineMethods(cls, Object.fromEntries(statics.map((s) => [s, named(s, 1, fail(`.${s}`))])));
    defineMethods(
      cls.prototype,
      Object.fromEntries(methods.map((m) => [m, named(m, 0, fail(`.prototype.${m}`))])),
    );
    defineAccessors(
      cls.prototype,
      Object.fromEntries(accessors.map((a) => [a, { get: named(`get ${a}`, 0, fail(`.prototype.${a}`)) }])),
    );
    return cls;
  }
  // ---- fastly:cache (builtins/cache-core.cpp, builtins/cache-simple.cpp) -------------------
  // Over the edge cache of the request's location (`host.cache`, runtime/engine/src/fastly/
  // cache/): lookups are synchronous, as on Compute; an inserted object becomes visible when
  // the FastlyBody it is written to is closed.

  const CACHE_KEY_LIMIT = 8135;
  // maxAge and friends are milliseconds; the host keeps nanoseconds in a u64.
  const MAX_TIME_MS = 18446744073709551615 / 1000000;
  const hostError = (func, text) => new Error(`${func}: ${text}\n`);
  const INVALID_HANDLE = "Invalid handle. Thrown when a request, response, dictionary, or body handle is not valid.";
  const NONE =
    "A `None` error. This status code is used to indicate when an optional value did not exist, as opposed to an empty value.";
  const HEADERS_INIT =
    "Failed to construct Headers object. If defined, the first argument must be either a [ ['name', 'value'], ... ] sequence, or a { 'name' : 'value', ... } record.";

  // A class the platform defines without a constructor: calling or constructing it throws.
  function noConstructorClass(name) {
    const cls = {
      [name]: function () {
        throw new TypeError(`${name} builtin can't be instantiated directly`);
      },
    }[name];
    Object.defineProperty(cls, "length", { value: 0 });
    Object.defineProperty(cls, "prototype", { writable: false });
    tag(cls, name);
    return cls;
  }

  function cacheKey(key, what) {
    const bytes = utf8(String(key));
    if (bytes.length === 0) throw new Error(`${what}: key can not be an empty string`);
    if (bytes.length > CACHE_KEY_LIMIT) {
      throw new Error(`${what}: key is too long, the maximum allowed length is ${CACHE_KEY_LIMIT}.`);
    }
    return bytes;
  }
  function headerList(init) {
    if (typeof init !== "object" || init === null) throw new Error(HEADERS_INIT);
    return [...new Headers(init)];
  }
  function lookupHeaders(options) {
    if (options === undefined) return [];
    if (typeof options !== "object" || options === null) throw new Error("options argument must be an object");
    return options.headers === undefined ? [] : headerList(options.headers);
  }
  function timeField(options, field) {
    const n = Number(options[field]);
    if (n < 0 || Number.isNaN(n) || !Number.isFinite(n)) {
      throw new Error(`${field} field is an invalid value, only positive numbers can be used for ${field} values.`);
    }
    if (n > MAX_TIME_MS) throw new Error(`${field} can not be greater than 2^63.`);
    return Math.trunc(n);
  }
  function spaceList(value) {
    const names = [];
    for (const entry of value) names.push(...String(entry).split(" ").filter((s) => s.length > 0));
    return names;
  }
  // TransactionUpdateOptions, in the platform's order of checks; `insert` adds `sensitive`,
  // `CoreCache.insert` also `headers`.
  function writeOptions(options, { insert = false, headers = false } = {}) {
    if (typeof options !== "object" || options === null) throw new Error("options argument must be an object");
    if (options.maxAge === undefined) throw new Error("maxAge is required");
    const out = { maxAge: timeField(options, "maxAge") };
    if (options.initialAge !== undefined) out.initialAge = timeField(options, "initialAge");
    if (options.staleWhileRevalidate !== undefined) {
      out.staleWhileRevalidate = timeField(options, "staleWhileRevalidate");
    }
    if (options.length !== undefined) {
      const length = Number(options.length);
      if (length < 0 || Number.isNaN(length) || !Number.isFinite(length)) {
        throw new Error("length field is an invalid value, only positive numbers can be used for length values.");
      }
      // 0 is sent as no length at all (the host's mask is set for non-zero lengths only).
      if (Math.trunc(length) !== 0) out.length = Math.trunc(length);
    }
    if (options.vary !== undefined) out.vary = spaceList(options.vary);
    if (options.surrogateKeys !== undefined) out.surrogateKeys = spaceList(options.surrogateKeys);
    if (options.userMetadata !== undefined) out.userMetadata = bodyBytes(options.userMetadata, "userMetadata");
    if (insert) out.sensitive = Boolean(options.sensitive);
    out.headers = headers && options.headers !== undefined ? headerList(options.headers) : [];
    return out;
  }
  function concatChunks(chunks) {
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return bytes;
  }
  // A FastlyBody whose bytes go to `commit` when it is closed (the insert completes) and
  // to `abandon` when it is abandoned.
  function writerBody(commit, abandon = () => {}) {
    const body = new FastlyBody();
    const state = BODIES.get(body);
    state.onClose = () => commit(concatChunks(state.chunks));
    state.onAbandon = abandon;
    return body;
  }
  // A body range as Viceroy serves it (inclusive bounds, as HTTP ranges; an invalid range
  // gives the whole body).
  function bodyRange(bytes, start, end) {
    const length = bytes.length;
    if (start === undefined && end === undefined) return bytes;
    if (start === undefined) return end >= 1 && end <= length ? bytes.subarray(length - end) : bytes;
    if (start >= length || (end !== undefined && (end < start || end >= length))) return bytes;
    return bytes.subarray(start, end === undefined ? length : end + 1);
  }
  const streamOf = (bytes) => new Response(bytes).body;

  const CacheState = noConstructorClass("CacheState");
  const STATES = new WeakMap();
  function stateBit(name, field) {
    return named(name, 0, {
      [name]() {
        const state = STATES.get(this);
        if (!state) throw wrongReceiver(name, "CacheState");
        return state[field];
      },
    }[name]);
  }
  defineMethods(CacheState.prototype, {
    found: stateBit("found", "found"),
    usable: stateBit("usable", "usable"),
    stale: stateBit("stale", "stale"),
    mustInsertOrUpdate: stateBit("mustInsertOrUpdate", "mustInsertOrUpdate"),
  });

  // Every entry's state: `lookup` (what the host answered: the state bits, `object` when
  // found, `transaction` when obliged), whether it is closed, and for a transaction whether
  // it is finished. An entry from insertAndStreamBack waits for its writer (`pending`).
  const ENTRIES = new WeakMap();
  const CacheEntry = noConstructorClass("CacheEntry");
  const TransactionCacheEntry = noConstructorClass("TransactionCacheEntry");
  Object.setPrototypeOf(TransactionCacheEntry.prototype, CacheEntry.prototype);
  function newEntry(cls, lookup, extra = {}) {
    const entry = Object.create(cls.prototype);
    ENTRIES.set(entry, { lookup, closed: false, finished: false, ...extra });
    return entry;
  }
  function entryOf(self, method, cls = "CacheEntry") {
    const entry = ENTRIES.get(self);
    if (!entry || (cls === "TransactionCacheEntry" && !entry.transactional)) throw wrongReceiver(method, cls);
    if (entry.closed) throw hostError(method, INVALID_HANDLE);
    return entry;
  }
  function objectOf(entry, method) {
    const object = entry.lookup.object;
    if (!object) throw hostError(method, NONE);
    return object;
  }
  defineMethods(CacheEntry.prototype, {
    close: named("close", 0, function close() {
      const entry = entryOf(this, "close");
      entry.closed = true;
      if (entry.transactional) cancelTransaction(entry);
    }),
    state: named("state", 0, function state() {
      const entry = entryOf(this, "state");
      const result = Object.create(CacheState.prototype);
      STATES.set(result, entry.lookup);
      return result;
    }),
    userMetadata: named("userMetadata", 0, function userMetadata() {
      const metadata = objectOf(entryOf(this, "userMetadata"), "userMetadata").userMetadata;
      return metadata.buffer.slice(metadata.byteOffset, metadata.byteOffset + metadata.byteLength);
    }),
    body: named("body", 0, function body(options) {
      const entry = entryOf(this, "body");
      let start;
      let end;
      if (options !== undefined) {
        if (typeof options !== "object" || options === null) throw new Error("options argument must be an object");
        if (options.start !== undefined) {
          start = Number(options.start);
          if (start < 0 || Number.isNaN(start) || !Number.isFinite(start)) {
            throw new Error("start field is an invalid value, only positive numbers can be used for start values.");
          }
          start = Math.trunc(start);
        }
        if (options.end !== undefined) {
          end = Number(options.end);
          if (end < 0 || Number.isNaN(end) || !Number.isFinite(end)) {
            throw new Error("end field is an invalid value, only positive numbers can be used for end values.");
          }
          end = Math.trunc(end);
        }
        if (start !== undefined && end !== undefined && end < start) {
          throw new Error("end field is before the start field");
        }
      }
      if (entry.pending) {
        // insertAndStreamBack: the object arrives when its writer closes.
        return new ReadableStream({
          start: (controller) =>
            entry.pending.then(
              (object) => {
                controller.enqueue(bodyRange(object.body, start, end).slice());
                controller.close();
              },
              (e) => controller.error(e),
            ),
        });
      }
      return streamOf(bodyRange(objectOf(entry, "body").body, start, end));
    }),
    length: named("length", 0, function length() {
      const object = entryOf(this, "length").lookup.object;
      return object ? object.length : null;
    }),
    maxAge: named("maxAge", 0, function maxAge() {
      return objectOf(entryOf(this, "maxAge"), "maxAge").maxAge;
    }),
    staleWhileRevalidate: named("staleWhileRevalidate", 0, function staleWhileRevalidate() {
      return objectOf(entryOf(this, "staleWhileRevalidate"), "staleWhileRevalidate").staleWhileRevalidate;
    }),
    age: named("age", 0, function age() {
      return objectOf(entryOf(this, "age"), "age").age;
    }),
    hits: named("hits", 0, function hits() {
      return objectOf(entryOf(this, "hits"), "hits").hits;
    }),
  });

  // The obligation of a transaction entry, once: insert, update and cancel each end it.
  function takeObligation(entry, method) {
    if (entry.finished || entry.lookup.transaction === null) throw hostError(method, INVALID_HANDLE);
    entry.finished = true;
    return entry.lookup.transaction;
  }
  function cancelTransaction(entry) {
    if (!entry.finished && entry.lookup.transaction !== null) {
      entry.finished = true;
      host.cache.transactionCancel(entry.lookup.transaction);
    }
  }
  function transactionMethod(name, length, body) {
    return named(name, length, {
      [name](...args) {
        const entry = entryOf(this, name, "TransactionCacheEntry");
        if (args.length < length) throw tooFew(name, length, args.length);
        return body(entry, ...args);
      },
    }[name]);
  }
  defineMethods(TransactionCacheEntry.prototype, {
    insert: transactionMethod("insert", 1, (entry, options) => {
      const checked = writeOptions(options, { insert: true });
      const transaction = takeObligation(entry, "insert");
      return writerBody(
        (bytes) => host.cache.transactionInsert(transaction, checked, bytes, false),
        () => host.cache.transactionCancel(transaction),
      );
    }),
    insertAndStreamBack: transactionMethod("insertAndStreamBack", 1, (entry, options) => {
      const checked = writeOptions(options, { insert: true });
      const transaction = takeObligation(entry, "insertAndStreamBack");
      let arrived;
      let failed;
      const pending = new Promise((resolve, reject) => {
        arrived = resolve;
        failed = reject;
      });
      // Read or not, a failure here is the reader's to see: no unhandled rejection.
      pending.catch(() => {});
      const reader = newEntry(
        CacheEntry,
        { found: true, usable: true, stale: false, mustInsertOrUpdate: false, transaction: null, object: null },
        { pending },
      );
      const writer = writerBody(
        (bytes) => {
          let object;
          try {
            object = host.cache.transactionInsert(transaction, checked, bytes, true);
          } catch (e) {
            failed(e);
            throw e;
          }
          const state = ENTRIES.get(reader);
          state.lookup = { ...state.lookup, object };
          state.pending = null;
          arrived(object);
        },
        () => {
          failed(new TypeError("the cache insert was abandoned before its body was complete"));
          host.cache.transactionCancel(transaction);
        },
      );
      return [writer, reader];
    }),
    update: transactionMethod("update", 1, (entry, options) => {
      const checked = writeOptions(options);
      if (!entry.lookup.found || !entry.lookup.mustInsertOrUpdate) {
        throw new Error("TransactionCacheEntry.update: entry does not exist or is not updatable");
      }
      host.cache.transactionUpdate(takeObligation(entry, "update"), checked);
    }),
    cancel: transactionMethod("cancel", 0, (entry) => {
      host.cache.transactionCancel(takeObligation(entry, "cancel"));
    }),
  });

  // transactionLookupAsync's handle: the lookup runs in the background (the host waits for
  // the key's obligation, the JS thread does not); `wait` gives its TransactionCacheEntry.
  const PendingTransaction = noConstructorClass("PendingTransaction");
  const PENDING = new WeakMap();
  function pendingOf(self, method) {
    const pending = PENDING.get(self);
    if (!pending) throw wrongReceiver(method, "PendingTransaction");
    return pending;
  }
  defineMethods(PendingTransaction.prototype, {
    pending: named("pending", 0, function pending() {
      return !pendingOf(this, "pending").settled;
    }),
    wait: named("wait", 0, function wait(timeoutMs) {
      const pending = pendingOf(this, "wait");
      if (pending.waited) throw new Error("PendingTransaction.wait: wait() has already been called on this PendingTransaction");
      pending.waited = true;
      return new Promise((resolve, reject) => {
        pending.lookup.then((lookup) => {
          if (!pending.abandoned) resolve(transactionEntry(lookup));
        }, reject);
        if (timeoutMs !== undefined) {
          setTimeout(() => {
            if (pending.settled) return;
            // Given up: an obligation that arrives later is handed back at once.
            pending.abandoned = true;
            reject(new Error("Timed out waiting for the cache transaction lookup to resolve"));
          }, Number(timeoutMs));
        }
      });
    }),
  });
  function startPending(key, headers) {
    const pending = Object.create(PendingTransaction.prototype);
    const state = { settled: false, waited: false, abandoned: false };
    state.lookup = host.cache.transactionLookupAsync(key, headers).then((lookup) => {
      state.settled = true;
      if (state.abandoned && lookup.transaction !== null) host.cache.transactionCancel(lookup.transaction);
      return lookup;
    });
    PENDING.set(pending, state);
    return pending;
  }
  const transactionEntry = (lookup) => newEntry(TransactionCacheEntry, lookup, { transactional: true });

  function coreCacheCall(name, required, args) {
    if (!host.inRequest()) throw requestHandlerOnly("The CoreCache builtin");
    const what = `CoreCache.${name}`;
    if (args.length < required) throw tooFew(what, required, args.length);
    return cacheKey(args[0], what);
  }
  const CoreCache = noConstructorClass("CoreCache");
  defineMethods(CoreCache, {
    lookup: named("lookup", 1, function lookup(...args) {
      const key = coreCacheCall("lookup", 1, args);
      const found = host.cache.lookup(key, lookupHeaders(args[1]));
      return found.found ? newEntry(CacheEntry, found) : null;
    }),
    insert: named("insert", 2, function insert(...args) {
      const key = coreCacheCall("insert", 2, args);
      const options = writeOptions(args[1], { insert: true, headers: true });
      return writerBody((bytes) => host.cache.insert(key, options.headers, options, bytes));
    }),
    transactionLookup: named("transactionLookup", 1, function transactionLookup(...args) {
      const key = coreCacheCall("transactionLookup", 1, args);
      return transactionEntry(host.cache.transactionLookup(key, lookupHeaders(args[1])));
    }),
    transactionLookupAsync: named("transactionLookupAsync", 1, function transactionLookupAsync(...args) {
      const key = coreCacheCall("transactionLookupAsync", 1, args);
      return startPending(key, lookupHeaders(args[1]));
    }),
  });

  // ---- SimpleCache (builtins/cache-simple.cpp) ----------------------------------------------
  // A key-value cache on the Core Cache: every object carries surrogate keys derived from its
  // key (`host.cache.surrogateKeys`) so that `purge` can reach it.

  const SimpleCacheEntry = noConstructorClass("SimpleCacheEntry");
  const SIMPLE_ENTRIES = new WeakMap();
  function simpleEntry(bytes) {
    const entry = Object.create(SimpleCacheEntry.prototype);
    SIMPLE_ENTRIES.set(entry, new Response(bytes));
    return entry;
  }
  // The C++ functions' names, which the receiver checks report.
  function simpleResponse(self, func) {
    const response = SIMPLE_ENTRIES.get(self);
    if (!response) throw wrongReceiver(func, "SimpleCacheEntry");
    return response;
  }
  defineMethods(SimpleCacheEntry.prototype, {
    arrayBuffer: named("arrayBuffer", 0, function arrayBuffer() {
      return simpleResponse(this, "bodyAll").arrayBuffer();
    }),
    json: named("json", 0, function json() {
      return simpleResponse(this, "bodyAll").json();
    }),
    text: named("text", 0, function text() {
      return simpleResponse(this, "bodyAll").text();
    }),
  });
  defineAccessors(SimpleCacheEntry.prototype, {
    body: {
      get: named("get body", 0, function () {
        return simpleResponse(this, "body_get").body;
      }),
    },
    bodyUsed: {
      get: named("get bodyUsed", 0, function () {
        return simpleResponse(this, "bodyUsed_get").bodyUsed;
      }),
    },
  });

  function simpleCall(name, required, args) {
    if (!host.inRequest()) throw requestHandlerOnly("The SimpleCache builtin");
    const what = `SimpleCache.${name}`;
    if (args.length < required) throw tooFew(what, required, args.length);
    return cacheKey(args[0], what);
  }
  // A value to cache: a BodyInit's bytes. Streams: app-made ones the platform refuses; ones
  // backed by a host body (a fetch response's) edgeshim cannot take synchronously.
  function simpleValue(value, name) {
    if (value instanceof ReadableStream) {
      if (value.locked) throw new TypeError("Can't use a ReadableStream that's locked or has ever been read from or canceled");
      throw new TypeError("Content-provided streams are not yet supported for streaming into SimpleCache");
    }
    return bodyBytes(value, name);
  }
  function ttlMs(value, message) {
    const ttl = Number(value);
    if (ttl < 0 || Number.isNaN(ttl) || !Number.isFinite(ttl)) throw new Error(message);
    return Math.trunc(ttl) * 1000;
  }
  const SimpleCache = noConstructorClass("SimpleCache");
  defineMethods(SimpleCache, {
    purge: named("purge", 2, function purge(...args) {
      const key = simpleCall("purge", 2, args);
      const options = args[1];
      if (typeof options !== "object" || options === null) {
        throw new Error("SimpleCache.purge: options parameter is not an object.");
      }
      const scope = String(options.scope);
      if (scope !== "pop" && scope !== "global") {
        throw new Error("SimpleCache.purge: scope field of options parameter must be either 'pop', or 'global'.");
      }
      host.cache.purge(host.cache.surrogateKeys(key, scope)[0], false);
    }),
    get: named("get", 1, function get(...args) {
      const key = simpleCall("get", 1, args);
      const found = host.cache.lookup(key, []);
      return found.found ? simpleEntry(found.object.body) : null;
    }),
    getOrSet: named("getOrSet", 2, function getOrSet(...args) {
      const key = simpleCall("getOrSet", 2, args);
      const loader = args[1];
      return host.cache.transactionLookupAsync(key, []).then(async (lookup) => {
        const transaction = lookup.transaction;
        let committed = false;
        try {
          if (lookup.usable) return simpleEntry(lookup.object.body);
          if (typeof loader !== "function") throw new Error("SimpleCache.getOrSet: set argument is not a function");
          const result = await loader();
          if (typeof result !== "object" || result === null) {
            throw new Error("SimpleCache.getOrSet: does not adhere to interface {value: BodyInit,  ttl: number, length?:number}");
          }
          const maxAge = ttlMs(
            result.ttl,
            "SimpleCache.getOrSet: TTL field is an invalid value, only positive numbers can be used for TTL values.",
          );
          const bytes = simpleValue(result.value, "getOrSet");
          const options = { maxAge, surrogateKeys: host.cache.surrogateKeys(key) };
          const object = host.cache.transactionInsert(transaction, options, bytes, true);
          committed = true;
          return simpleEntry(object.body);
        } finally {
          if (!committed && transaction !== null) host.cache.transactionCancel(transaction);
        }
      });
    }),
    set: named("set", 3, function set(...args) {
      const key = simpleCall("set", 3, args);
      const maxAge = ttlMs(
        args[2],
        "SimpleCache.set: TTL parameter is an invalid value, only positive numbers can be used for TTL values.",
      );
      const bytes = simpleValue(args[1], "set");
      host.cache.insert(key, [], { maxAge, surrogateKeys: host.cache.surrogateKeys(key) }, bytes);
    }),
  });

  // ---- HTMLRewritingStream (builtins/html-rewriter.cpp) ------------------------------------
  // A TransformStream around a native lol_html rewriter (`host.htmlRewriter()`, see
  // runtime/engine/src/fastly/html_rewriter/), which holds the handlers, makes their checks
  // and messages, and calls them with the `Element` objects.
  const REWRITING = new WeakMap();
  function rewritingOf(self, method) {
    const state = REWRITING.get(self);
    if (!state) throw wrongReceiver(method, "HTMLRewritingStream");
    return state;
  }
  class HTMLRewritingStream {
    constructor() {
      const rewriter = host.htmlRewriter();
      // The platform's queue sizes: writable high-water mark 1, readable 0.
      const transform = new TransformStream(
        {
          transform(chunk, controller) {
            const out = rewriter.push(chunk);
            if (out !== null) controller.enqueue(out);
          },
          flush(controller) {
            const out = rewriter.finish();
            if (out !== null) controller.enqueue(out);
          },
        },
        { highWaterMark: 1 },
        { highWaterMark: 0 },
      );
      REWRITING.set(this, { rewriter, transform });
    }
  }
  defineAccessors(HTMLRewritingStream.prototype, {
    readable: { get: named("get readable", 0, function () { return rewritingOf(this, "get readable").transform.readable; }) },
    writable: { get: named("get writable", 0, function () { return rewritingOf(this, "get writable").transform.writable; }) },
  });
  defineMethods(HTMLRewritingStream.prototype, {
    onElement: named("onElement", 2, function onElement(selector, handler) {
      const { rewriter } = rewritingOf(this, "onElement");
      if (arguments.length < 2) throw tooFew("onElement", 2, arguments.length);
      rewriter.onElement(selector, handler);
      return this;
    }),
  });

  // ---- Handoffs (builtins/fastly.cpp) ------------------------------------------------------

  function handoff(name, production) {
    return named(name, 2, {
      [name](request, backend) {
        if (!host.inRequest()) throw requestHandlerOnly(name);
        if (arguments.length < 2) throw tooFew(name, 2, arguments.length);
        if (!(request instanceof Request)) {
          throw new Error(`${name}: request parameter must be an instance of Request`);
        }
        const target = String(backend);
        if (target.length === 0) throw new Error(`${name}: Backend parameter can not be an empty string`);
        if (utf8(target).length > 254) {
          throw new Error(`${name}: name can not be more than 254 characters`);
        }
        throw notEmulated(name, `${production} (backend '${target}')`);
      },
    }[name]);
  }
  const createFanoutHandoff = handoff(
    "createFanoutHandoff",
    "the client's connection is handed to Fanout, which holds it open and talks to the backend",
  );
  const createWebsocketHandoff = handoff(
    "createWebsocketHandoff",
    "the client's WebSocket connection is handed over to the backend",
  );

  // ---- fastly:shielding, fastly:security ---------------------------------------------------

  const Shield = unemulatedClass("Shield", {
    methods: ["runningOn", "unencryptedBackend", "encryptedBackend"],
    production: "a Shield names a shield POP and gives the backends that route requests through it",
  });
  const inspect = named("inspect", 1, {
    inspect() {
      if (!host.inRequest()) throw requestHandlerOnly("fastly.inspect");
      if (arguments.length < 1) throw tooFew("fastly.inspect", 1, arguments.length);
      throw notEmulated("inspect", "the Next-Gen WAF inspects the request and returns its verdict");
    },
  }.inspect);

  // ---- fastly:image-optimizer (builtins/image-optimizer-options.inc) ----------------------
  // The option constants as the platform defines them, and the options checked and written
  // as the query string Fastly's image service gets. Transforming images needs that service:
  // fetch() passes the image through unchanged, with a warning (web/fetch.rs).

  const IMAGE_OPTIONS = {
    Region: { UsEast: "us_east", UsCentral: "us_central", UsWest: "us_west", EuCentral: "eu_central", EuWest: "eu_west", Asia: "asia", Australia: "australia" },
    Auto: { AVIF: "avif", WEBP: "webp" },
    Format: { Auto: "auto", AVIF: "avif", BJPG: "bjpg", GIF: "gif", JPG: "jpg", JXL: "jxl", MP4: "mp4", PJPG: "pjpg", PJXL: "pjxl", PNG: "png", PNG8: "png8", SVG: "svg", WEBP: "webp", WEBPLL: "webpll", WEBPLY: "webply" },
    BWAlgorithm: { Threshold: "threshold", Atkinson: "atkinson" },
    Disable: { Upscale: "upscale" },
    Enable: { Upscale: "upscale" },
    Fit: { Bounds: "bounds", Cover: "cover", Crop: "crop" },
    Metadata: { Copyright: "copyright", C2PA: "c2pa", CopyrightAndC2PA: "copyright,c2pa" },
    Optimize: { Low: "low", Medium: "medium", High: "high" },
    Orient: { Default: "1", FlipHorizontal: "2", FlipHorizontalAndVertical: "3", FlipVertical: "4", FlipHorizontalOrientLeft: "5", OrientRight: "6", FlipHorizontalOrientRight: "7", OrientLeft: "8" },
    Profile: { Baseline: "baseline", Main: "main", High: "high" },
    ResizeFilter: { Nearest: "nearest", Bilinear: "bilinear", Linear: "linear", Bicubic: "bicubic", Cubic: "cubic", Lanczos2: "lanczos2", Lanczos3: "lanczos3", Lanczos: "lanczos" },
    CropMode: { Smart: "smart", Safe: "safe" },
  };
  const imageOptimizer = {};
  for (const [name, values] of Object.entries(IMAGE_OPTIONS)) {
    const cls = {
      [name]: class {
        constructor() {
          throw new TypeError(`${name} builtin can't be instantiated directly`);
        }
      },
    }[name];
    for (const [key, value] of Object.entries(values)) {
      Object.defineProperty(cls, key, { value, configurable: true });
    }
    imageOptimizer[name] = cls;
  }
  // The options: read, checked and written as ImageOptimizerOptions::create and to_string
  // (builtins/image-optimizer.cpp, .h) do, in their order. Every TypeError is StarlingMonkey's
  // api::Errors::TypeError, "{0}: {1} must {2}", so the messages passed with "must" already
  // in them read "must must", as on Compute; the pad check names "trim", as on Compute.
  const IO = "imageOptimizerOptions";
  const IO_MESSAGES = {
    region: "contain region",
    enumNotString: "must be a string",
    enumUnknown: "be one of the allowed string values",
    object: "be an object",
    sizeKeys: "have exactly one of the keys absolute or ratio",
    sizeAbsolute: "have width and height values who are absolute pixel integers or percentage strings",
    sizeRatio: "have width and height number values",
    positionKeys: "have exactly one of x/offsetX and exactly one of y/offsetY",
    positionValues: "have valid x and y components",
    hundred: "must be a number between -100 and 100",
    quality: "must be n integer between 0 and 100",
    dpr: "must be a number between 1 and 10",
    level:
      "must be a string containing 1.0, 1.1, 1.2, 1.3, 2.0, 2.1, 2.2, 3.0, 3.1, 3.2, " +
      "4.0, 4.1, 4.2, 5.0, 5.1, 5.2, 6.0, 6.1, or 6.2",
    one: "must be 1",
    blur: "must be a number between 0.5 and 1000 or a string percentage value",
    sharpen:
      "must be an object with keys `amount` (0.0-10.0), `radius` (0.5-1000.0), and " +
      "`threshold` (0-255)",
    sides:
      "must be an object with top, right, bottom, and left elements, each being an " +
      "integer or a string percentage value",
    trimColor:
      "must be either a color, or an object with color and threshold elements, " +
      "where threshold is a number between 0 and 1",
    pixels: "must be an integer pixel value or a string percentage value",
    bgColor: "must be a 3/6 character hex string or RGB(A) object",
  };
  const ioError = (scope, object, message) => new TypeError(`${scope}: ${object} must ${message}`);
  const ioFail = (object, key) => ioError(IO, object, IO_MESSAGES[key]);
  const LEVELS = ["1.0", "1.1", "1.2", "1.3", "2.0", "2.1", "2.2", "3.0", "3.1", "3.2", "4.0", "4.1", "4.2", "5.0", "5.1", "5.2", "6.0", "6.1", "6.2"];
  // The enum options in image-optimizer-options.inc's order, with their query keys.
  const IO_ENUMS = [
    ["region", "Region", "region"],
    ["auto", "Auto", "auto"],
    ["format", "Format", "format"],
    ["bw", "BWAlgorithm", "bw"],
    ["disable", "Disable", "disable"],
    ["enable", "Enable", "enable"],
    ["fit", "Fit", "fit"],
    ["metadata", "Metadata", "metadata"],
    ["optimize", "Optimize", "optimize"],
    ["orient", "Orient", "orient"],
    ["profile", "Profile", "profile"],
    ["resizeFilter", "ResizeFilter", "resize-filter"],
  ];

  // SpiderMonkey's value tags: isObject is true for functions; isInt32 holds integral numbers
  // in int32 range but -0 (SpiderMonkey may also keep a computed integral number as a
  // double, which it then refuses; edgeshim cannot tell the two apart).
  const isObj = (v) => (typeof v === "object" && v !== null) || typeof v === "function";
  const isInt32 = (v) => typeof v === "number" && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 && !Object.is(v, -0);
  // to_number_between_inclusive: a NaN fails neither comparison, so it passes.
  const between = (v, from, to) => typeof v === "number" && !(v < from || v > to);
  const exactlyOneDefined = (a, b) => (a === undefined) !== (b === undefined);

  // Percent-encoding as fetch::percent_encode: all but A-Z a-z 0-9 - _ . ~ (the values
  // written here are ASCII).
  const percentEncode = (text) =>
    encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

  // std::to_string(double), i.e. printf("%f") in wasi-libc (musl): six decimals of the exact
  // binary value rounded half to even, "nan", "inf", "-inf", and "-0.000000" for negatives
  // that round to zero. toFixed differs on ties (1/128) and from 1e21 up.
  const float64 = new DataView(new ArrayBuffer(8));
  function fixed6(x) {
    if (Number.isNaN(x)) return "nan";
    const negative = x < 0 || Object.is(x, -0);
    if (!Number.isFinite(x)) return negative ? "-inf" : "inf";
    float64.setFloat64(0, Math.abs(x));
    const bits = float64.getBigUint64(0);
    const exponent = Number(bits >> 52n);
    const fraction = bits & ((1n << 52n) - 1n);
    const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n);
    const shift = (exponent === 0 ? 1 : exponent) - 1075;
    let scaled = mantissa * 1000000n;
    if (shift >= 0) {
      scaled <<= BigInt(shift);
    } else {
      const divisor = 1n << BigInt(-shift);
      const remainder2 = (scaled % divisor) * 2n;
      scaled /= divisor;
      if (remainder2 > divisor || (remainder2 === divisor && (scaled & 1n) === 1n)) scaled += 1n;
    }
    const digits = scaled.toString().padStart(7, "0");
    return `${negative ? "-" : ""}${digits.slice(0, -6)}.${digits.slice(-6)}`;
  }

  // m * 2^e (m a non-negative BigInt) correctly rounded to a double, ties to even.
  function scaleBinary(m, e) {
    if (m === 0n) return 0;
    const length = m.toString(2).length;
    if (length + e > 1100) return Infinity;
    if (length + e < -1100) return 0;
    // Bits the result keeps: 53, fewer below the normal range.
    const keep = Math.min(53, length + e + 1074);
    const drop = length - keep;
    if (drop <= 0) return Number(m) * 2 ** e;
    const unit = 1n << BigInt(drop);
    let q = m >> BigInt(drop);
    const remainder2 = (m & (unit - 1n)) * 2n;
    if (remainder2 > unit || (remainder2 === unit && (q & 1n) === 1n)) q += 1n;
    return Number(q) * 2 ** (e + drop);
  }

  // musl's strtod (wasi-libc, C locale) over `text`: [value, characters consumed], 0
  // consumed when nothing converts. A NaN is always positive there ("-nan" too).
  function strtod(text) {
    let i = 0;
    while (i < text.length && " \t\n\v\f\r".includes(text[i])) i++;
    let sign = 1;
    if (text[i] === "+" || text[i] === "-") sign = text[i++] === "-" ? -1 : 1;
    // Case-insensitive regexps without the u flag never match a non-ASCII character to an
    // ASCII one, as the C locale's tolower.
    const rest = text.slice(i);
    const inf = /^inf(?:inity)?/i.exec(rest);
    if (inf) return [sign * Infinity, i + inf[0].length];
    const nan = /^nan(?:\([0-9A-Za-z_]*\))?/i.exec(rest);
    if (nan) return [NaN, i + nan[0].length];
    const hex = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?/i.exec(rest);
    if (hex) {
      const digits = hex[1] + (hex[2] ?? "");
      // "0x" without digits reads as the "0" alone.
      if (digits.length === 0) return [sign * 0, i + 1];
      let end = i + hex[0].length;
      let e2 = 0;
      const exp = /^p([+-]?[0-9]+)/i.exec(rest.slice(hex[0].length));
      if (exp) {
        e2 = Math.max(-1e6, Math.min(1e6, Number(exp[1])));
        end += exp[0].length;
      }
      return [sign * scaleBinary(BigInt(`0x${digits}`), e2 - 4 * (hex[2] ?? "").length), end];
    }
    const dec = /^[0-9]*(?:\.[0-9]*)?/.exec(rest)[0];
    if (!/[0-9]/.test(dec)) return [0, 0];
    const exp = /^e[+-]?[0-9]+/i.exec(rest.slice(dec.length));
    const end = i + dec.length + (exp ? exp[0].length : 0);
    return [sign * Number(text.slice(i, end)), end];
  }

  // from_percentage: "<strtod number>%", the number taking everything before the '%'; a
  // +HUGE_VAL is refused (but -Infinity, NaN and a lone "%", read as 0, pass).
  function fromPercentage(text) {
    if (!text.endsWith("%")) return undefined;
    const [value, consumed] = strtod(text);
    if (consumed !== text.length - 1 || value === Infinity) return undefined;
    return value;
  }
  // PixelsOrPercentage, written "%d" or "%fp".
  function pixelsOrPercentage(v) {
    if (isInt32(v)) return String(v);
    if (typeof v !== "string") return undefined;
    const percentage = fromPercentage(v);
    return percentage === undefined ? undefined : `${fixed6(percentage)}p`;
  }
  function enumValue(value, cls) {
    if (typeof value !== "string") return ioError(IO, cls, IO_MESSAGES.enumNotString);
    if (!Object.values(IMAGE_OPTIONS[cls]).includes(value)) return ioError(IO, cls, IO_MESSAGES.enumUnknown);
    return { value };
  }
  function color(v) {
    if (typeof v === "string" && /^(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$/.test(v)) return v;
    if (!isObj(v)) return undefined;
    const r = v.r;
    const g = v.g;
    const b = v.b;
    const a = v.a;
    const component = (c) => isInt32(c) && c >= 0 && c < 256;
    const alphaValid = a === undefined || (typeof a === "number" && a >= 0 && a <= 1);
    if (!component(r) || !component(g) || !component(b) || !alphaValid) return undefined;
    return a === undefined ? `${r},${g},${b}` : `${r},${g},${b},${fixed6(a)}`;
  }
  function size(v) {
    if (!isObj(v)) throw ioFail("size", "object");
    const absolute = v.absolute;
    const ratio = v.ratio;
    if (!exactlyOneDefined(absolute, ratio)) throw ioFail("size", "sizeKeys");
    if (absolute !== undefined) {
      if (!isObj(absolute)) throw ioFail("size.absolute", "object");
      const width = absolute.width;
      const height = absolute.height;
      const w = pixelsOrPercentage(width);
      const h = pixelsOrPercentage(height);
      if (w === undefined || h === undefined) throw ioFail("size.absolute", "sizeAbsolute");
      return `${w},${h}`;
    }
    if (!isObj(ratio)) throw ioFail("size.ratio", "object");
    const width = ratio.width;
    const height = ratio.height;
    if (typeof width !== "number" || typeof height !== "number") throw ioFail("size.ratio", "sizeRatio");
    return `${fixed6(width)}:${fixed6(height)}`;
  }
  // Compute reads any non-undefined position as an object without checking (undefined
  // behaviour for a primitive); edgeshim throws the position error for one.
  function position(v) {
    if (!isObj(v)) throw ioFail("position", "positionKeys");
    const x = v.x;
    const y = v.y;
    const offsetX = v.offsetX;
    const offsetY = v.offsetY;
    if (!exactlyOneDefined(x, offsetX) || !exactlyOneDefined(y, offsetY)) throw ioFail("position", "positionKeys");
    const axis = (absolute, offset, name) => {
      if (absolute !== undefined) {
        const value = pixelsOrPercentage(absolute);
        return value === undefined ? undefined : `${name}${value}`;
      }
      return typeof offset === "number" ? `offset-${name}${fixed6(offset)}` : undefined;
    };
    const px = axis(x, offsetX, "x");
    const py = axis(y, offsetY, "y");
    if (px === undefined || py === undefined) throw ioFail("position", "positionValues");
    return `${px},${py}`;
  }
  function canvas(v) {
    if (!isObj(v)) throw ioFail("canvas", "object");
    const sizeValue = v.size;
    const positionValue = v.position;
    let text = size(sizeValue);
    if (positionValue !== undefined) text += `,${position(positionValue)}`;
    return text;
  }
  // Crop and precrop share this, and its "crop" in messages.
  function cropSpec(v) {
    if (!isObj(v)) throw ioFail("crop", "object");
    const sizeValue = v.size;
    const positionValue = v.position;
    const modeValue = v.mode;
    let text = size(sizeValue);
    if (positionValue !== undefined) text += `,${position(positionValue)}`;
    if (modeValue !== undefined) {
      const mode = enumValue(modeValue, "CropMode");
      if (mode instanceof Error) throw mode;
      text += `,${mode.value}`;
    }
    return text;
  }
  // Sides are read top, bottom, left, right and written top, right, bottom, left.
  function sides(v, object) {
    const fail = () => ioError(IO, object, IO_MESSAGES.sides);
    if (!isObj(v)) throw fail();
    const top = v.top;
    const bottom = v.bottom;
    const left = v.left;
    const right = v.right;
    if (top === undefined || bottom === undefined || left === undefined || right === undefined) throw fail();
    const values = [top, right, bottom, left].map(pixelsOrPercentage);
    if (values.includes(undefined)) throw fail();
    return values.join(",");
  }
  function trimColor(v) {
    const fail = () => ioFail("trimColor", "trimColor");
    if (typeof v === "string") {
      const c = color(v);
      if (c === undefined) throw fail();
      return c;
    }
    if (!isObj(v)) throw fail();
    const colorValue = v.color;
    const threshold = v.threshold;
    // Without `color`, the object itself is an RGB(A) color (and a threshold is ignored).
    const c = color(colorValue === undefined ? v : colorValue);
    if (c === undefined) throw fail();
    if (colorValue === undefined || typeof threshold !== "number") return c;
    if (!between(threshold, 0, 1)) throw fail();
    return `${c},t${fixed6(threshold)}`;
  }

  // The converters of the non-enum options, in the order create() runs them; each returns
  // the option's query parameter.
  const IO_CONVERTERS = [
    ["bgColor", (v) => {
      const c = color(v);
      if (c === undefined) throw ioFail("bgColor", "bgColor");
      return `bg-color=${percentEncode(c)}`;
    }],
    ["blur", (v) => {
      if (typeof v === "number") {
        if (!between(v, 0.5, 1000)) throw ioFail("blur", "blur");
        return `blur=${fixed6(v)}`;
      }
      const percentage = typeof v === "string" ? fromPercentage(v) : undefined;
      if (percentage === undefined) throw ioFail("blur", "blur");
      return `blur=${fixed6(percentage)}p`;
    }],
    ["brightness", (v) => {
      if (!between(v, -100, 100)) throw ioFail("brightness", "hundred");
      return `brightness=${fixed6(v)}`;
    }],
    ["canvas", (v) => `canvas=${percentEncode(canvas(v))}`],
    ["contrast", (v) => {
      if (!between(v, -100, 100)) throw ioFail("contrast", "hundred");
      return `contrast=${fixed6(v)}`;
    }],
    ["crop", (v) => `crop=${percentEncode(cropSpec(v))}`],
    ["dpr", (v) => {
      if (!between(v, 1, 10)) throw ioFail("dpr", "dpr");
      return `dpr=${fixed6(v)}`;
    }],
    ["frame", (v) => {
      if (!isInt32(v) || v !== 1) throw ioFail("frame", "one");
      return "frame=1";
    }],
    ["height", (v) => {
      const value = pixelsOrPercentage(v);
      if (value === undefined) throw ioFail("height", "pixels");
      return `height=${percentEncode(value)}`;
    }],
    ["level", (v) => {
      if (typeof v !== "string" || !LEVELS.includes(v)) throw ioFail("level", "level");
      return `level=${percentEncode(v)}`;
    }],
    ["pad", (v) => `pad=${percentEncode(sides(v, "trim"))}`],
    ["precrop", (v) => `precrop=${percentEncode(cropSpec(v))}`],
    ["quality", (v) => {
      if (!isInt32(v) || v < 0 || v > 100) throw ioFail("quality", "quality");
      return `quality=${v}`;
    }],
    ["saturation", (v) => {
      if (!between(v, -100, 100)) throw ioFail("saturation", "hundred");
      return `saturation=${fixed6(v)}`;
    }],
    ["sharpen", (v) => {
      if (!isObj(v)) throw ioFail("sharpen", "sharpen");
      const amount = v.amount;
      const radius = v.radius;
      const threshold = v.threshold;
      if (!between(amount, 0, 10) || !between(radius, 0.5, 1000) || !isInt32(threshold) || threshold < 0 || threshold > 255) {
        throw ioFail("sharpen", "sharpen");
      }
      return `sharpen=${percentEncode(`a${fixed6(amount)},r${fixed6(radius)},t${threshold}`)}`;
    }],
    ["trim", (v) => `trim=${percentEncode(sides(v, "trim"))}`],
    ["trimColor", (v) => `trim-color=${percentEncode(trimColor(v))}`],
    ["viewbox", (v) => {
      if (!isInt32(v) || v !== 1) throw ioFail("viewbox", "one");
      return "viewbox=1";
    }],
    ["width", (v) => {
      const value = pixelsOrPercentage(v);
      if (value === undefined) throw ioFail("width", "pixels");
      return `width=${percentEncode(value)}`;
    }],
  ];
  // The properties create() reads, in its order (`preserve_query_string_on_origin_request`
  // is read and unused).
  const IO_READ_ORDER = [
    "region", "preserve_query_string_on_origin_request", "auto", "bgColor", "blur", "brightness", "bw",
    "canvas", "contrast", "crop", "disable", "dpr", "enable", "fit", "format", "frame", "height",
    "level", "metadata", "optimize", "orient", "pad", "precrop", "profile", "quality",
    "resizeFilter", "saturation", "sharpen", "trim", "trimColor", "viewbox", "width",
  ];
  // The query parameters in to_string()'s order (crop before contrast).
  const IO_WRITE_ORDER = [
    "region", "auto", "bgColor", "blur", "brightness", "bw", "canvas", "crop", "contrast",
    "disable", "dpr", "enable", "fit", "format", "frame", "height", "level", "metadata",
    "optimize", "orient", "pad", "precrop", "profile", "quality", "resizeFilter", "saturation",
    "sharpen", "trim", "trimColor", "viewbox", "width",
  ];

  // ImageOptimizerOptions::create then to_string: the query string Fastly's image service
  // gets, or the platform's TypeError. Also what the Request constructor runs on
  // `init.imageOptimizerOptions` (runtime/engine/src/web/request.rs). Compute reads a
  // non-object here as an object without checking (undefined behaviour); edgeshim throws
  // the missing-region error for one.
  function imageOptimizerQuery(options) {
    if (!isObj(options)) throw ioError("Request", IO, IO_MESSAGES.region);
    const values = {};
    for (const key of IO_READ_ORDER) values[key] = options[key];
    if (values.region === undefined) throw ioError("Request", IO, IO_MESSAGES.region);
    const params = {};
    for (const [key, cls, param] of IO_ENUMS) {
      if (values[key] === undefined) continue;
      const checked = enumValue(values[key], cls);
      if (checked instanceof Error) throw checked;
      params[key] = `${param}=${percentEncode(checked.value)}`;
    }
    for (const [key, convert] of IO_CONVERTERS) {
      if (values[key] !== undefined) params[key] = convert(values[key]);
    }
    return IO_WRITE_ORDER.filter((key) => params[key] !== undefined)
      .map((key) => params[key])
      .join("&");
  }
  imageOptimizer.optionsToQueryString = named("optionsToQueryString", 1, {
    optionsToQueryString(options) {
      if (arguments.length < 1) throw tooFew("optionsToQueryString", 1, arguments.length);
      return imageOptimizerQuery(options);
    },
  }.optionsToQueryString);

  // ---- The guest HTTP cache of --enable-http-cache builds (builtins/fetch/fetch.cpp) -------
  // `fetch()` of such a build looks GET and HEAD requests up in the edge cache itself, runs
  // the CacheOverride's `beforeSend`/`afterSend` hooks around the backend request, and
  // decides what is stored; `Response`'s cache accessors then carry values. The contract,
  // with every message and the quirks copied or not: docs/http-cache-guest-api.md. The host
  // side (a send around the readthrough cache, the suggested options) is `host.httpCache`
  // (runtime/engine/src/fastly/http_cache_api.rs). Unlike Compute, bodies are buffered
  // whole before they are stored.

  const guest = host.httpCache;
  // A response's cache state: `cached`, `stale`, `options` (seconds: maxAge, initialAge,
  // age, swr, staleIfError; vary, surrogateKeys, pci), `maskedError`; a candidate response
  // also `candidate` (its hooks are running), `status` (the original), `overrides`.
  const RESPONSE_CACHE = new WeakMap();
  const HIT_FOR_PASS_MS = 120000;
  const AFTER_SEND_OBJECT = "Request cache hook: afterSend() must return either undefined or an object";
  const AFTER_SEND_STRING =
    "Request cache hook: afterSend() must return a 'cache' property value 'uncacheable' when set to a string";
  const AFTER_SEND_CACHE =
    "Request cache hook: afterSend() must return a 'cache' property as either a string or boolean";
  const AFTER_SEND_TRANSFORM =
    "Request cache hook: afterSend() must return a 'bodyTransformFn' property that is a function";
  const TRANSFORM_RESULT = "transformBodyFn did not return a valid array buffer or promise for an array buffer";
  const NULL_BODY_STATUSES = [101, 103, 204, 205, 304];

  // The candidate's options now: the overrides over what the host suggests for its headers
  // as they are (they are live: `Cache-Control` set in afterSend changes the suggestion).
  function candidateOptions(state) {
    const suggested = guest.suggest(state.status, [...state.response.headers]);
    const o = state.overrides;
    return {
      maxAge: o.ttl !== undefined ? o.ttl + suggested.initialAge : suggested.maxAge,
      initialAge: suggested.initialAge,
      age: suggested.initialAge,
      swr: o.swr !== undefined ? o.swr : suggested.swr,
      staleIfError: o.staleIfError !== undefined ? o.staleIfError : suggested.staleIfError,
      vary: o.vary !== undefined ? o.vary : suggested.vary,
      surrogateKeys: o.surrogateKeys !== undefined ? o.surrogateKeys : suggested.surrogateKeys,
      pci: o.pci !== undefined ? o.pci : false,
      cacheable: suggested.cacheable,
    };
  }
  function cacheOptionsOf(response) {
    const state = RESPONSE_CACHE.get(response);
    if (!state) return undefined;
    return state.candidate ? candidateOptions(state) : state.options;
  }
  function candidateOf(response) {
    const state = RESPONSE_CACHE.get(response);
    return state && state.candidate ? state : undefined;
  }
  // The CacheOverride's values (mode "override") as the candidate's overrides.
  function overridesOf(plan) {
    const overrides = {};
    if (!plan || plan.mode !== "override") return overrides;
    if (plan.ttl !== undefined) overrides.ttl = plan.ttl;
    if (plan.swr !== undefined) overrides.swr = plan.swr;
    if (plan.sie !== undefined) overrides.staleIfError = plan.sie;
    if (plan.surrogateKey !== undefined) overrides.surrogateKeys = plan.surrogateKey.split(" ").filter((k) => k);
    if (plan.pci) overrides.pci = true;
    return overrides;
  }

  // Guest responses' headers: `x-cache`/`x-cache-hits` from the lookup, and the surrogate
  // headers only for a request from another Fastly node or one asking to debug.
  function deliveredHeaders(pairs, request, hits) {
    const keepSurrogate = request.headers.has("fastly-ff") || request.headers.has("fastly-debug");
    const out = pairs.filter(([name]) => {
      const lower = name.toLowerCase();
      if (lower === "x-cache" || lower === "x-cache-hits") return false;
      return keepSurrogate || (lower !== "surrogate-key" && lower !== "surrogate-control");
    });
    out.push(["x-cache", hits === null ? "MISS" : "HIT"], ["x-cache-hits", String(hits === null ? 0 : hits)]);
    return out;
  }
  function metadataOf(object) {
    try {
      return JSON.parse(new TextDecoder().decode(object.userMetadata));
    } catch {
      return null;
    }
  }
  function storedOptions(object, meta) {
    return {
      maxAge: object.maxAge / 1000,
      initialAge: meta.initialAge,
      age: object.age / 1000,
      swr: object.staleWhileRevalidate / 1000,
      staleIfError: meta.staleIfError,
      vary: meta.vary,
      surrogateKeys: meta.surrogateKeys,
      pci: meta.pci,
    };
  }
  function fromCache(request, object, meta, stale, maskedError) {
    const body = request.method === "HEAD" ? new Uint8Array(0) : object.body;
    const headers = deliveredHeaders(meta.headers, request, object.hits);
    const response = guest.response(meta.status, headers, body, request.url, meta.backend, false);
    const state = { cached: true, stale, options: storedOptions(object, meta) };
    if (maskedError !== undefined) state.maskedError = maskedError;
    RESPONSE_CACHE.set(response, state);
    return response;
  }

  async function guestFetch(request, plan, key, collapse) {
    if (request.method !== "GET" && request.method !== "HEAD") {
      // Sent as is, never with hooks; its body streams on.
      const sent = await guest.send(request);
      guest.setHeaders(sent, deliveredHeaders([...sent.headers], request, null));
      RESPONSE_CACHE.set(sent, { cached: false, stale: false });
      return sent;
    }
    const keyBytes = utf8(key);
    const lookupHeaders = [...request.headers];
    const lookup = collapse
      ? await host.cache.transactionLookupAsync(keyBytes, lookupHeaders)
      : host.cache.lookup(keyBytes, lookupHeaders);
    const transaction = lookup.transaction === undefined ? null : lookup.transaction;
    const object = lookup.found ? lookup.object : null;
    const meta = object ? metadataOf(object) : null;
    const fill = { request, plan, keyBytes, lookupHeaders, transaction, stale: null };
    // Past every window but stale-if-error: kept to answer if the backend request fails.
    if (object && meta && !meta.pass && !lookup.usable) fill.stale = { object, meta };
    if (object && meta && !meta.pass && lookup.usable) {
      if (lookup.stale && transaction !== null) {
        // Inside stale-while-revalidate: served at once, revalidated in the background,
        // where errors are the platform's to swallow.
        guest.background(fillFromBackend(fill).catch(() => {}));
      } else if (transaction !== null) {
        host.cache.transactionCancel(transaction);
      }
      return fromCache(request, object, meta, lookup.stale);
    }
    // A miss, or hit-for-pass (the hooks run, nothing waits for this request's answer).
    if (meta && meta.pass && transaction !== null) {
      host.cache.transactionCancel(transaction);
      fill.transaction = null;
    }
    return fillFromBackend(fill);
  }

  // A failure of the hooks or the send: answered by the stale-if-error object if there is
  // one (the cache left as it is), else `fetch()` rejects with it.
  class Masked {
    constructor(error) {
      this.error = error;
    }
  }
  async function fillFromBackend(fill) {
    try {
      return await fillOrMask(fill);
    } catch (e) {
      if (!(e instanceof Masked)) throw e;
      if (fill.stale === null) throw e.error;
      return fromCache(fill.request, fill.stale.object, fill.stale.meta, true, e.error);
    }
  }
  // Runs `step`, marking what it throws as answerable by a stale-if-error object.
  async function maskable(step) {
    try {
      return await step();
    } catch (e) {
      throw new Masked(e);
    }
  }
  // afterSend's answer checked: the storage action (given to `setAction`), and the transform.
  function checkAfterSend(result, setAction) {
    if (result === undefined || result === null) return undefined;
    if (typeof result !== "object" && typeof result !== "function") throw new TypeError(AFTER_SEND_OBJECT);
    const cache = result.cache;
    if (cache === true) setAction("insert");
    else if (cache === false) setAction("dontstore");
    else if (typeof cache === "string") {
      if (cache !== "uncacheable") throw new TypeError(AFTER_SEND_STRING);
      setAction("uncacheable");
    } else if (cache !== undefined) throw new TypeError(AFTER_SEND_CACHE);
    const transform = result.bodyTransformFn;
    if (transform !== undefined && typeof transform !== "function") throw new TypeError(AFTER_SEND_TRANSFORM);
    return transform;
  }
  async function fillOrMask(fill) {
    const { request, plan } = fill;
    const hooks = plan || {};
    let open = fill.transaction;
    try {
      if (hooks.beforeSend !== undefined) await maskable(() => hooks.beforeSend.call(null, request));
      const sent = await maskable(() => guest.send(request));
      const bytes = new Uint8Array(await sent.arrayBuffer());
      const backend = guest.origin(sent);
      const candidate = guest.response(sent.status, [...sent.headers], null, request.url, backend, true);
      const state = {
        candidate: true,
        cached: false,
        stale: false,
        status: sent.status,
        response: candidate,
        overrides: overridesOf(plan),
        staleAvailable: fill.stale !== null,
      };
      RESPONSE_CACHE.set(candidate, state);
      // The host's suggestion, fixed now; the hooks' header changes move only the options.
      let action = candidateOptions(state).cacheable ? "insert" : "uncacheable";
      if (sent.headers.has("set-cookie")) action = "uncacheable";
      let transform;
      const result = await maskable(() =>
        hooks.afterSend !== undefined ? hooks.afterSend.call(null, candidate) : undefined,
      );
      // Validation errors of afterSend's answer are answerable too; the transform's are not.
      await maskable(() => {
        transform = checkAfterSend(result, (a) => (action = a));
      });
      const options = candidateOptions(state);
      delete options.cacheable;
      const status = state.statusOverride !== undefined ? state.statusOverride : sent.status;
      const headers = [...candidate.headers];
      if (action === "insert") {
        let body = bytes;
        if (transform !== undefined) {
          const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
          const out = await transform.call(null, copy);
          if (!ArrayBuffer.isView(out)) throw new Error(TRANSFORM_RESULT);
          body = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
        }
        const meta = {
          status,
          headers,
          backend,
          initialAge: options.initialAge,
          staleIfError: options.staleIfError,
          vary: options.vary,
          surrogateKeys: options.surrogateKeys,
          pci: options.pci,
        };
        const write = {
          maxAge: options.maxAge * 1000,
          initialAge: options.initialAge * 1000,
          staleWhileRevalidate: options.swr * 1000,
          staleIfError: options.staleIfError * 1000,
          vary: options.vary,
          surrogateKeys: options.surrogateKeys,
          userMetadata: utf8(JSON.stringify(meta)),
          sensitive: options.pci,
        };
        if (open !== null) {
          open = null;
          host.cache.transactionInsert(fill.transaction, write, body, false);
        } else {
          host.cache.insert(fill.keyBytes, fill.lookupHeaders, write, body);
        }
        // The options move to the response read back from the cache.
        RESPONSE_CACHE.set(candidate, { cached: false, stale: false });
        const delivered = request.method === "HEAD" ? new Uint8Array(0) : body;
        if (transform !== undefined) {
          const response = guest.response(status, headers, delivered, request.url, backend, false);
          RESPONSE_CACHE.set(response, { cached: undefined, stale: undefined, options });
          return response;
        }
        const response = guest.response(
          status,
          deliveredHeaders(headers, request, null),
          delivered,
          request.url,
          backend,
          false,
        );
        RESPONSE_CACHE.set(response, { cached: false, stale: false, options });
        return response;
      }
      if (open !== null) {
        open = null;
        if (action === "uncacheable") {
          // Hit-for-pass: later requests of the key go to the backend without waiting.
          const marker = { maxAge: HIT_FOR_PASS_MS, userMetadata: utf8(JSON.stringify({ pass: true })) };
          host.cache.transactionInsert(fill.transaction, marker, new Uint8Array(0), false);
        } else {
          host.cache.transactionCancel(fill.transaction);
        }
      }
      // Not stored: the candidate itself is the answer, its body now readable.
      RESPONSE_CACHE.set(candidate, { cached: false, stale: false, options });
      for (const [name] of headers) candidate.headers.delete(name);
      for (const [name, value] of deliveredHeaders(headers, request, null)) candidate.headers.append(name, value);
      guest.setBody(candidate, NULL_BODY_STATUSES.includes(sent.status) ? null : bytes);
      return candidate;
    } finally {
      if (open !== null) host.cache.transactionCancel(open);
    }
  }

  // The Response cache accessors of a guest build. The default build's (undefined getters,
  // setters that throw) stay in place for every response without cache state.
  function installGuestAccessors() {
    const proto = Response.prototype;
    const original = (name) => Object.getOwnPropertyDescriptor(proto, name);
    const redefine = (name, get, set) => {
      const before = original(name);
      Object.defineProperty(proto, name, {
        get: get ? named(`get ${name}`, 0, get) : before.get,
        set: set ? named(`set ${name}`, 1, set) : before.set,
        enumerable: true,
        configurable: true,
      });
      return before;
    };
    const stateGetter = (name, field) => {
      const before = original(name);
      redefine(name, function () {
        const state = RESPONSE_CACHE.get(this);
        return state ? state[field] : before.get.call(this);
      });
    };
    stateGetter("cached", "cached");
    stateGetter("stale", "stale");
    stateGetter("maskedError", "maskedError");
    const optionGetter = (name, read) => {
      const before = original(name);
      return function () {
        const options = cacheOptionsOf(this);
        return options ? read(options) : before.get.call(this);
      };
    };
    // A setter that works on candidates only; elsewhere the default build's throws.
    const candidateSetter = (name, set) => {
      const before = original(name);
      return function (value) {
        const state = candidateOf(this);
        if (!state) return before.set.call(this, value);
        set(state, value);
      };
    };
    // Seconds kept to the host's whole nanoseconds: `ttl` rounded, the windows truncated.
    // `message` is the name the platform's message uses (`swr` says staleWhileRevalidate).
    const seconds = (name, field, message, toNanos = Math.trunc) =>
      candidateSetter(name, (state, value) => {
        const n = Number(value);
        if (Number.isNaN(n) || n < 0) throw new TypeError(`Response set: ${message} must be a number greater than or equal to zero`);
        state.overrides[field] = toNanos(n * 1e9) / 1e9;
      });
    const list = (name, field) =>
      candidateSetter(name, (state, value) => {
        if (!Array.isArray(value)) throw new TypeError(`Response set: ${name} must be an Array`);
        for (const item of value) {
          if (typeof item !== "string") throw new TypeError(`Response set: ${name} must contain only strings`);
        }
        state.overrides[field] = field === "vary" ? value.join(" ").split(" ").filter((s) => s) : [...value];
      });
    redefine("ttl", optionGetter("ttl", (o) => o.maxAge - o.age), seconds("ttl", "ttl", "ttl", Math.round));
    redefine("age", optionGetter("age", (o) => o.age));
    const swrGet = optionGetter("swr", (o) => o.swr);
    redefine("swr", swrGet, seconds("swr", "swr", "staleWhileRevalidate"));
    redefine("staleWhileRevalidate", swrGet, seconds("staleWhileRevalidate", "swr", "staleWhileRevalidate"));
    redefine(
      "staleIfError",
      optionGetter("staleIfError", (o) => o.staleIfError),
      seconds("staleIfError", "staleIfError", "staleIfError"),
    );
    redefine("vary", optionGetter("vary", (o) => [...o.vary]), list("vary", "vary"));
    redefine(
      "surrogateKeys",
      optionGetter("surrogateKeys", (o) => [...o.surrogateKeys]),
      list("surrogateKeys", "surrogateKeys"),
    );
    redefine(
      "pci",
      optionGetter("pci", (o) => o.pci),
      candidateSetter("pci", (state, value) => {
        if (typeof value !== "boolean") throw new TypeError("Response set: pci must be a boolean");
        state.overrides.pci = value;
      }),
    );
    // `status` on a candidate: checked, then what is stored (the candidate keeps its own).
    redefine(
      "status",
      null,
      candidateSetter("status", (state, value) => {
        const n = typeof value === "number" ? value : 0;
        const status = (Number.isFinite(n) ? Math.trunc(n) : 0) & 0xffff;
        if (status !== 103 && (status < 200 || status > 599)) {
          throw new RangeError(
            `Response constructor: Invalid response status code. The status provided (${status}) is outside the range [200, 599].`,
          );
        }
        state.statusOverride = status;
      }),
    );
    const staleIfErrorAvailable = proto.staleIfErrorAvailable;
    defineMethods(proto, {
      staleIfErrorAvailable: named("staleIfErrorAvailable", 0, function () {
        const state = candidateOf(this);
        return state ? state.staleAvailable : staleIfErrorAvailable.call(this);
      }),
    });
  }
  if (guest.enabled) installGuestAccessors();

  const globals = {
    CacheOverride,
    FastlyBody,
    SimpleCache,
    SimpleCacheEntry,
    CoreCache,
    CacheEntry,
    CacheState,
    TransactionCacheEntry,
    PendingTransaction,
    EdgeRateLimiter,
    PenaltyBox,
    RateCounter,
    HTMLRewritingStream,
  };
  return {
    globals,
    // The module exports: the globals, and what is only a module export.
    internal: {
      ...globals,
      createFanoutHandoff,
      createWebsocketHandoff,
      Shield,
      inspect,
      imageOptimizer,
      // For the Request constructor's `imageOptimizerOptions`: apps cannot replace it.
      imageOptimizerQuery,
      // For `init.cacheOverride` and `setCacheOverride`.
      cacheOverridePlan,
      // For `fetch()` in --enable-http-cache builds.
      guestFetch,
    },
  };
});
