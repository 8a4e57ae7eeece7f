// Event, EventTarget and CustomEvent, per the DOM standard: https://dom.spec.whatwg.org/#events.
// js-compute 3.46 has no AbortController or AbortSignal, so neither is here.
//
// A classic script whose completion value is a function of the host object returning
// `{ globals, internal }` (see runtime/engine/src/js_lib.rs).
(function (host) {
  "use strict";

  const domException = (message, name) =>
    typeof DOMException === "function" ? new DOMException(message, name) : new TypeError(message);

  const EVENT_STATE = new WeakMap();

  class Event {
    constructor(type, eventInitDict = undefined) {
      if (arguments.length < 1) {
        throw new TypeError("Event constructor: At least 1 argument required, but only 0 passed");
      }
      const init = eventInitDict == null ? {} : eventInitDict;
      EVENT_STATE.set(this, {
        type: String(type),
        bubbles: Boolean(init.bubbles),
        cancelable: Boolean(init.cancelable),
        composed: Boolean(init.composed),
        defaultPrevented: false,
        stopPropagation: false,
        stopImmediate: false,
        dispatching: false,
        target: null,
        currentTarget: null,
        timeStamp: typeof performance === "object" ? performance.now() : 0,
        isTrusted: false,
      });
    }

    static #state(event, what) {
      const state = EVENT_STATE.get(event);
      if (!state) throw new TypeError(`Method '${what}' called on receiver that's not an instance of Event`);
      return state;
    }

    get type() { return Event.#state(this, "type").type; }
    get target() { return Event.#state(this, "target").target; }
    get srcElement() { return Event.#state(this, "srcElement").target; }
    get currentTarget() { return Event.#state(this, "currentTarget").currentTarget; }
    get eventPhase() {
      const s = Event.#state(this, "eventPhase");
      return s.dispatching ? Event.AT_TARGET : Event.NONE;
    }
    get bubbles() { return Event.#state(this, "bubbles").bubbles; }
    get cancelable() { return Event.#state(this, "cancelable").cancelable; }
    get composed() { return Event.#state(this, "composed").composed; }
    get defaultPrevented() { return Event.#state(this, "defaultPrevented").defaultPrevented; }
    get returnValue() { return !Event.#state(this, "returnValue").defaultPrevented; }
    get isTrusted() { return Event.#state(this, "isTrusted").isTrusted; }
    get timeStamp() { return Event.#state(this, "timeStamp").timeStamp; }
    get cancelBubble() { return Event.#state(this, "cancelBubble").stopPropagation; }
    set cancelBubble(value) { if (value) Event.#state(this, "cancelBubble").stopPropagation = true; }
    composedPath() {
      const s = Event.#state(this, "composedPath");
      return s.dispatching && s.currentTarget ? [s.currentTarget] : [];
    }
    stopPropagation() { Event.#state(this, "stopPropagation").stopPropagation = true; }
    stopImmediatePropagation() {
      const s = Event.#state(this, "stopImmediatePropagation");
      s.stopPropagation = true;
      s.stopImmediate = true;
    }
    preventDefault() {
      const s = Event.#state(this, "preventDefault");
      if (s.cancelable) s.defaultPrevented = true;
    }
  }
  for (const [name, value] of [["NONE", 0], ["CAPTURING_PHASE", 1], ["AT_TARGET", 2], ["BUBBLING_PHASE", 3]]) {
    Object.defineProperty(Event, name, { value, enumerable: true });
    Object.defineProperty(Event.prototype, name, { value, enumerable: true });
  }

  const LISTENERS = new WeakMap();

  function listenerOptions(options) {
    if (typeof options === "boolean" || options == null) {
      return { capture: Boolean(options), once: false, passive: false, signal: undefined };
    }
    return {
      capture: Boolean(options.capture),
      once: Boolean(options.once),
      passive: Boolean(options.passive),
      signal: options.signal,
    };
  }

  class EventTarget {
    constructor() {
      LISTENERS.set(this, []);
    }

    static #listeners(target, what) {
      const list = LISTENERS.get(target);
      if (!list) throw new TypeError(`Method '${what}' called on receiver that's not an instance of EventTarget`);
      return list;
    }

    addEventListener(type, callback, options = undefined) {
      const list = EventTarget.#listeners(this, "addEventListener");
      if (arguments.length < 2) {
        throw new TypeError(`EventTarget.addEventListener: At least 2 arguments required, but only ${arguments.length} passed`);
      }
      if (callback == null) return;
      const { capture, once, passive, signal } = listenerOptions(options);
      // No AbortSignal exists on Compute, so no `signal` can be one.
      if (signal !== undefined) {
        throw new TypeError("EventTarget.addEventListener: 'signal' member of AddEventListenerOptions does not implement interface AbortSignal.");
      }
      type = String(type);
      if (list.some((l) => l.type === type && l.callback === callback && l.capture === capture)) return;
      const entry = { type, callback, capture, once, passive, removed: false };
      list.push(entry);
    }

    removeEventListener(type, callback, options = undefined) {
      const list = EventTarget.#listeners(this, "removeEventListener");
      const capture = typeof options === "boolean" ? options : Boolean(options && options.capture);
      type = String(type);
      const index = list.findIndex((l) => l.type === type && l.callback === callback && l.capture === capture);
      if (index !== -1) {
        list[index].removed = true;
        list.splice(index, 1);
      }
    }

    dispatchEvent(event) {
      const list = EventTarget.#listeners(this, "dispatchEvent");
      if (!(event instanceof Event)) {
        throw new TypeError("EventTarget.dispatchEvent: Argument 1 does not implement interface Event.");
      }
      const state = EVENT_STATE.get(event);
      if (state.dispatching) {
        throw domException("EventTarget.dispatchEvent: the event is already being dispatched", "InvalidStateError");
      }
      state.dispatching = true;
      state.target = this;
      state.currentTarget = this;
      try {
        for (const listener of list.slice()) {
          if (listener.removed || listener.type !== state.type) continue;
          if (listener.once) this.removeEventListener(listener.type, listener.callback, { capture: listener.capture });
          try {
            if (typeof listener.callback === "function") {
              listener.callback.call(this, event);
            } else if (listener.callback && typeof listener.callback.handleEvent === "function") {
              listener.callback.handleEvent(event);
            }
          } catch (error) {
            // Listener errors are reported, not propagated, as in browsers.
            if (typeof console === "object") console.error(error);
          }
          if (state.stopImmediate) break;
        }
      } finally {
        state.dispatching = false;
        state.currentTarget = null;
      }
      return !state.defaultPrevented;
    }

  }

  // https://dom.spec.whatwg.org/#interface-customevent
  const DETAIL = new WeakMap();
  class CustomEvent extends Event {
    constructor(type, eventInitDict = undefined) {
      if (arguments.length < 1) {
        throw new TypeError("CustomEvent constructor: At least 1 argument required, but only 0 passed");
      }
      super(type, eventInitDict);
      const init = eventInitDict == null ? {} : eventInitDict;
      DETAIL.set(this, init.detail === undefined ? null : init.detail);
    }
  }
  Object.defineProperty(CustomEvent.prototype, "detail", {
    get: Object.defineProperty(function () {
      if (!DETAIL.has(this)) {
        throw new TypeError("Method 'detail' called on receiver that's not an instance of CustomEvent");
      }
      return DETAIL.get(this);
    }, "name", { value: "get detail" }),
    enumerable: true,
    configurable: true,
  });
  // Tags as Compute has them: data properties on Event and CustomEvent, none on EventTarget.
  Object.defineProperty(Event.prototype, Symbol.toStringTag, { value: "Event", configurable: true });
  Object.defineProperty(CustomEvent.prototype, Symbol.toStringTag, { value: "CustomEvent", configurable: true });

  return {
    globals: { Event, EventTarget, CustomEvent },
    internal: {},
  };
})
