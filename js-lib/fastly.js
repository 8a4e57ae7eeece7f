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
  // Data only: edgeshim has no HTTP cache, so every mode behaves as "pass" locally.

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
      bodyOf(this, "close").closed = true;
    }),
    abandon: named("abandon", 0, function abandon() {
      const body = bodyOf(this, "abandon");
      body.closed = true;
      body.chunks = [];
    }),
  });
  tag(FastlyBody, "FastlyBody");

  // ---- Edge rate limiting (builtins/edge-rate-limiter.cpp) ---------------------------------
  // Viceroy's answers: nothing is counted, so rates and counts are 0, no entry is ever in a
  // penalty box, and checkRate never blocks.

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
      String(entry);
      checkTtl(timeToLive, "add");
    }),
    has: named("has", 1, function has(entry) {
      requireRequest("PenaltyBox");
      nameOf(this, "has", "PenaltyBox");
      if (arguments.length < 1) throw tooFew("has", 1, arguments.length);
      String(entry);
      return false;
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
      String(entry);
      if (invalidUint32(Number(delta))) {
        throw new Error(
          "increment: delta parameter is an invalid value, only positive numbers can be used for delta values.",
        );
      }
    }),
    lookupRate: named("lookupRate", 2, function lookupRate(entry, window) {
      requireRequest("RateCounter");
      nameOf(this, "lookupRate", "RateCounter");
      if (arguments.length < 2) throw tooFew("lookupRate", 2, arguments.length);
      String(entry);
      const w = Number(window);
      if (w !== 1 && w !== 10 && w !== 60) {
        throw new Error("lookupRate: window parameter must be either: 1, 10, or 60");
      }
      return 0;
    }),
    lookupCount: named("lookupCount", 2, function lookupCount(entry, duration) {
      requireRequest("RateCounter");
      nameOf(this, "lookupCount", "RateCounter");
      if (arguments.length < 2) throw tooFew("lookupCount", 2, arguments.length);
      String(entry);
      const d = Number(duration);
      if (![10, 20, 30, 40, 50, 60].includes(d)) {
        throw new Error("lookupCount: duration parameter must be either: 10, 20, 30, 40, 50, or 60");
      }
      return 0;
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
      NAMES.set(this, { cls: "EdgeRateLimiter", name: NAMES.get(rateCounter).name });
    }
  }
  defineMethods(EdgeRateLimiter.prototype, {
    checkRate: named("checkRate", 5, function checkRate(entry, delta, window, limit, timeToLive) {
      requireRequest("EdgeRateLimiter");
      nameOf(this, "checkRate", "EdgeRateLimiter");
      if (arguments.length < 5) throw tooFew("checkRate", 5, arguments.length);
      String(entry);
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
      return false;
    }),
  });
  tag(EdgeRateLimiter, "EdgeRateLimiter");

  // ---- Not emulated: the cache APIs and HTML rewriting -------------------------------------

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
  const CACHE = "the Core and Simple Cache APIs store and look up objects in the POP's cache";
  const SimpleCache = unemulatedClass("SimpleCache", {
    statics: ["purge", "get", "getOrSet", "set"],
    production: CACHE,
  });
  const SimpleCacheEntry = unemulatedClass("SimpleCacheEntry", {
    methods: ["arrayBuffer", "json", "text"],
    accessors: ["body", "bodyUsed"],
    production: CACHE,
  });
  const CoreCache = unemulatedClass("CoreCache", {
    statics: ["lookup", "insert", "transactionLookup", "transactionLookupAsync"],
    production: CACHE,
  });
  const CacheEntry = unemulatedClass("CacheEntry", {
    methods: ["close", "state", "userMetadata", "body", "length", "maxAge", "staleWhileRevalidate", "age", "hits"],
    production: CACHE,
  });
  const CacheState = unemulatedClass("CacheState", {
    methods: ["found", "usable", "stale", "mustInsertOrUpdate"],
    production: CACHE,
  });
  const TransactionCacheEntry = unemulatedClass("TransactionCacheEntry", {
    methods: ["insert", "insertAndStreamBack", "update", "cancel"],
    production: CACHE,
  });
  const PendingTransaction = unemulatedClass("PendingTransaction", {
    methods: ["pending", "wait"],
    production: CACHE,
  });
  const HTMLRewritingStream = unemulatedClass("HTMLRewritingStream", {
    methods: ["onElement"],
    accessors: ["readable", "writable"],
    production: "HTMLRewritingStream rewrites HTML as it streams through, element by element",
  });
  for (const cls of [SimpleCache, SimpleCacheEntry, CoreCache, CacheEntry, CacheState,
    TransactionCacheEntry, PendingTransaction]) {
    tag(cls, cls.name);
  }

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
  // The option constants as the platform defines them; transforming images needs Fastly's
  // image service.

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
  imageOptimizer.optionsToQueryString = named("optionsToQueryString", 1, {
    optionsToQueryString() {
      if (arguments.length < 1) throw tooFew("optionsToQueryString", 1, arguments.length);
      throw notEmulated(
        "optionsToQueryString",
        "the image optimizer's options are checked and written as the query string Fastly's image service reads",
      );
    },
  }.optionsToQueryString);

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
    },
  };
});
