// The inspection page of `edgeshim serve --inspect`: plain DOM code over the JSON API in
// mod.rs, no build step and nothing from the network.
"use strict";

const $ = (selector) => document.querySelector(selector);
// `?store=NAME&limit=N`: the store shown first and the keys a page holds; `?cache=N`: the
// edge cache of location N instead.
const pageParams = new URLSearchParams(location.search);
const pageSize = pageParams.get("limit") || "50";
const shownBytes = 64 * 1024;
const keptRequests = 500;

const state = {
  store: pageParams.get("store"),
  // The edge location whose cache is shown, or null for the KV store `store`.
  cache: pageParams.has("cache") ? Number(pageParams.get("cache")) : null,
  prefix: "", cursor: null, entry: null, expiresAt: null, isNew: false, cacheObject: null,
};

async function api(method, path, params, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  const response = await fetch(`${path}?${new URLSearchParams(params)}`, init);
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function showError(message) {
  const error = $("#error");
  error.textContent = message || "";
  error.hidden = !message;
}

// Runs `work`, showing what went wrong instead of throwing.
async function attempt(work) {
  try {
    await work();
    return true;
  } catch (error) {
    showError(error.message);
    return false;
  }
}

function bytesOf(base64) {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function hexDump(bytes) {
  const lines = [];
  const end = Math.min(bytes.length, shownBytes);
  for (let at = 0; at < end; at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, end));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${at.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > end) lines.push(`… ${bytes.length - end} more bytes`);
  return lines.join("\n");
}

function formatTtl(ms) {
  if (ms === null) return "none (kept until deleted)";
  if (ms <= 0) return "expired";
  return formatMs(ms);
}

function formatMs(ms) {
  const seconds = ms / 1000;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

// --- Stores, caches and keys ---

const cacheMode = () => state.cache !== null;

function cacheLabel({ name, keys }) {
  return `${name} (${keys} key${keys === 1 ? "" : "s"})`;
}

// The picker's entry and key counts, after a change.
async function refreshCounts() {
  const [{ stores }, { caches }] = await Promise.all([
    api("GET", "/api/stores", {}),
    api("GET", "/api/caches", {}),
  ]);
  for (const option of $("#store").options) {
    if (option.dataset.location !== undefined) {
      const cache = caches.find((c) => String(c.location) === option.dataset.location);
      if (cache) option.textContent = cacheLabel(cache);
      continue;
    }
    const store = stores.find((s) => s.name === option.value);
    if (store) option.textContent = `${store.name} (${store.entries})`;
  }
}

async function loadStores() {
  const [{ stores }, { caches }] = await Promise.all([
    api("GET", "/api/stores", {}),
    api("GET", "/api/caches", {}),
  ]);
  const select = $("#store");
  const group = document.createElement("optgroup");
  group.label = "Edge cache";
  group.append(
    ...caches.map((cache) => {
      const option = document.createElement("option");
      // Told apart from stores by the dataset, not the value: any store name may be used.
      option.dataset.location = String(cache.location);
      option.value = `cache:${cache.location}`;
      option.textContent = cacheLabel(cache);
      return option;
    }),
  );
  select.replaceChildren(
    ...stores.map(({ name, entries }) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = `${name} (${entries})`;
      return option;
    }),
    group,
  );
  if (!caches.some((c) => c.location === state.cache)) state.cache = null;
  if (state.cache === null && stores.length === 0) state.cache = 0;
  if (state.cache === null) {
    state.store = stores.some((s) => s.name === state.store) ? state.store : stores[0].name;
  }
  for (const option of select.options) {
    option.selected = cacheMode()
      ? option.dataset.location === String(state.cache)
      : option.dataset.location === undefined && option.value === state.store;
  }
  applyMode();
  await loadKeys(true);
}

// Shows the controls of a store or of a cache, and no entry yet.
function applyMode() {
  const cache = cacheMode();
  $("#new").hidden = cache;
  $("#purge").hidden = !cache;
  $("#purge-result").textContent = "";
  $("#entry").hidden = true;
  $("#editor").hidden = true;
  $("#cache-object").hidden = true;
  state.entry = null;
  state.cacheObject = null;
  $("#placeholder").hidden = false;
  $("#placeholder").textContent = cache ? "Pick a key to see what is cached." : "Pick a key to see its entry.";
}

async function loadKeys(fresh) {
  if (fresh) state.cursor = null;
  const params = { prefix: state.prefix, limit: pageSize };
  if (state.cursor) params.cursor = state.cursor;
  const cache = cacheMode();
  const page = cache
    ? await api("GET", "/api/cache/keys", { location: state.cache, ...params })
    : await api("GET", "/api/keys", { store: state.store, ...params });
  const list = $("#keys");
  if (fresh) list.replaceChildren();
  for (const key of page.keys) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "key";
    if (cache) {
      button.dataset.key = key.key;
      button.dataset.keyHex = key.key_hex;
      const name = document.createElement("span");
      name.textContent = key.key_is_text ? key.key : `0x${key.key}`;
      const summary = document.createElement("span");
      summary.className = "summary";
      summary.textContent = cacheSummary(key);
      button.append(name, summary);
      button.addEventListener("click", () => attempt(() => selectCacheKey(key.key_hex)));
    } else {
      button.dataset.key = key;
      button.textContent = key;
      button.addEventListener("click", () => attempt(() => selectKey(key)));
    }
    item.append(button);
    list.append(item);
  }
  state.cursor = page.cursor;
  $("#more").hidden = !page.cursor;
  const count = list.children.length;
  $("#key-count").textContent =
    `${count}${page.cursor ? "+" : ""} key${count === 1 ? "" : "s"}` +
    (state.prefix ? ` starting with "${state.prefix}"` : "");
}

// `id`: a store's key, or a cached key in hex.
function markSelected(id) {
  for (const button of document.querySelectorAll("#keys button.key")) {
    button.classList.toggle("selected", (button.dataset.keyHex ?? button.dataset.key) === id);
  }
}

async function selectKey(key) {
  const entry = await api("GET", "/api/entry", { store: state.store, key });
  showError("");
  showEntry(entry);
}

// --- One entry ---

function showEntry(entry) {
  state.entry = entry;
  state.expiresAt = entry.ttl_ms === null ? null : Date.now() + entry.ttl_ms;
  $("#editor").hidden = true;
  $("#confirm").hidden = true;
  $("#placeholder").hidden = true;
  $("#entry").hidden = false;
  $("#entry-key").textContent = entry.key;
  $("#entry-size").textContent = `${entry.size} bytes`;
  $("#entry-kind").textContent = entry.mime ? `${entry.kind} (${entry.mime})` : entry.kind;
  $("#entry-generation").textContent = String(entry.generation);
  $("#entry-metadata").textContent = entry.metadata ?? "none";
  updateTtl();
  const shown = renderValue(entry.kind, entry.mime, entry.value_base64, entry.key);
  shown.id = "value";
  $("#value-view").replaceChildren(shown);
  markSelected(entry.key);
}

// A value shown by its kind: an image, pretty JSON, text, or a hex dump.
function renderValue(kind, mime, base64, name) {
  let shown;
  if (kind === "image") {
    shown = document.createElement("img");
    shown.alt = `${name} (${mime})`;
    shown.src = `data:${mime};base64,${base64}`;
  } else {
    shown = document.createElement("pre");
    const bytes = bytesOf(base64);
    const text = new TextDecoder().decode(bytes);
    shown.textContent =
      kind === "json" ? JSON.stringify(JSON.parse(text), null, 2)
      : kind === "text" ? text
      : hexDump(bytes);
  }
  shown.dataset.kind = kind;
  return shown;
}

function updateTtl() {
  if (!state.entry || $("#entry").hidden) return;
  $("#entry-ttl").textContent = formatTtl(state.expiresAt === null ? null : state.expiresAt - Date.now());
}

function openEditor(entry) {
  state.isNew = !entry;
  $("#entry").hidden = true;
  $("#placeholder").hidden = true;
  $("#editor").hidden = false;
  $("#editor-title").textContent = entry ? `Edit ${entry.key}` : "New entry";
  const key = $("#edit-key");
  key.value = entry ? entry.key : state.prefix;
  key.readOnly = Boolean(entry);
  const textual = !entry || entry.kind === "text" || entry.kind === "json";
  $("#edit-encoding").value = textual ? "text" : "base64";
  $("#edit-value").value = !entry ? "" : textual
    ? new TextDecoder().decode(bytesOf(entry.value_base64))
    : entry.value_base64;
  $("#edit-metadata").value = entry?.metadata ?? "";
  const left = state.expiresAt === null ? null : state.expiresAt - Date.now();
  $("#edit-ttl").value = entry && left !== null ? String(Math.max(1, Math.ceil(left / 1000))) : "";
  (entry ? $("#edit-value") : key).focus();
}

async function save() {
  const key = $("#edit-key").value;
  const value = $("#edit-value").value;
  const body = $("#edit-encoding").value === "base64" ? { value_base64: value } : { value };
  body.metadata = $("#edit-metadata").value || null;
  const ttl = $("#edit-ttl").value;
  body.ttl = ttl === "" ? null : Number(ttl);
  body.add = state.isNew;
  const entry = await api("PUT", "/api/entry", { store: state.store, key }, body);
  showError("");
  await loadKeys(true);
  showEntry(entry);
  await refreshCounts();
}

async function remove() {
  const key = state.entry.key;
  await api("DELETE", "/api/entry", { store: state.store, key });
  showError("");
  state.entry = null;
  $("#entry").hidden = true;
  $("#placeholder").hidden = false;
  await loadKeys(true);
  await refreshCounts();
}

// --- The edge cache ---

function cacheState(object) {
  if (!object.stale) return "fresh";
  return object.usable ? "stale (served while revalidated)" : "stale, kept only for stale-if-error";
}

// One line for a key in the list.
function cacheSummary(key) {
  const parts = [];
  if (key.pending) parts.push("pending insert");
  const [first] = key.variants;
  const vary = first && first.vary.length ? ` (vary ${first.vary.map((v) => v.header).join(", ")})` : "";
  if (key.variants.length > 1) parts.push(`${key.variants.length} variants${vary}`);
  else if (vary) parts.push(vary.trim());
  if (first) {
    parts.push(
      `${first.length} B`,
      `age ${formatMs(first.age_ms)} of ${formatMs(first.max_age_ms)}`,
      first.stale ? cacheState(first) : `TTL ${formatMs(first.ttl_ms)}`,
      `swr ${formatMs(first.stale_while_revalidate_ms)}`,
      `sie ${formatMs(first.stale_if_error_ms)}`,
      `${first.hits} hit${first.hits === 1 ? "" : "s"}`,
    );
    if (first.surrogate_keys.length) parts.push(`tags ${first.surrogate_keys.join(" ")}`);
  }
  return parts.join(" · ");
}

async function selectCacheKey(hex) {
  const found = await api("GET", "/api/cache/object", { location: state.cache, key_hex: hex });
  showError("");
  showCacheObject(found);
}

function fact(list, name, value, id) {
  const dt = document.createElement("dt");
  dt.textContent = name;
  const dd = document.createElement("dd");
  dd.textContent = value;
  dd.dataset.fact = id;
  list.append(dt, dd);
}

function showCacheObject(found) {
  state.cacheObject = found;
  $("#entry").hidden = true;
  $("#editor").hidden = true;
  $("#placeholder").hidden = true;
  $("#cache-confirm").hidden = true;
  $("#cache-object").hidden = false;
  $("#cache-key").textContent = found.key_is_text ? found.key : `0x${found.key} (not UTF-8)`;
  $("#cache-pending").hidden = !found.pending;
  const sections = found.variants.map((object, index) => {
    const section = document.createElement("section");
    section.className = "variant";
    const title = document.createElement("h3");
    const varied = object.vary.map((v) => `${v.header}: ${v.value ?? "(absent)"}`).join(", ");
    title.textContent = `Object ${index + 1} of ${found.variants.length}${varied ? `, for ${varied}` : ""}`;
    const facts = document.createElement("dl");
    facts.className = "facts";
    fact(facts, "Length", `${object.length} bytes`, "length");
    fact(facts, "State", cacheState(object), "state");
    fact(facts, "Age", formatMs(object.age_ms), "age");
    fact(facts, "Max age", formatMs(object.max_age_ms), "max-age");
    fact(facts, "TTL left", formatMs(object.ttl_ms), "ttl");
    fact(facts, "Stale-while-revalidate", formatMs(object.stale_while_revalidate_ms), "swr");
    fact(facts, "Stale-if-error", formatMs(object.stale_if_error_ms), "sie");
    fact(facts, "Vary", object.vary.length ? object.vary.map((v) => v.header).join(", ") : "none", "vary");
    fact(facts, "Surrogate keys", object.surrogate_keys.join(" ") || "none", "surrogate-keys");
    fact(facts, "Hits", String(object.hits), "hits");
    fact(facts, "User metadata", object.user_metadata ?? "none", "user-metadata");
    fact(facts, "Shown as", object.mime ? `${object.kind} (${object.mime})` : object.kind, "kind");
    const body = renderValue(object.kind, object.mime, object.body_base64, found.key);
    body.id = `cache-body-${index}`;
    body.classList.add("body");
    section.append(title, facts, body);
    if (object.body_truncated) {
      const more = document.createElement("p");
      more.className = "muted";
      more.textContent = `The first ${bytesOf(object.body_base64).length} of ${object.length} bytes.`;
      section.append(more);
    }
    return section;
  });
  $("#cache-variants").replaceChildren(...sections);
  markSelected(found.key_hex);
}

// The object shown again after a change, or none once it is gone.
async function refreshCacheObject() {
  if (!state.cacheObject || $("#cache-object").hidden) return;
  try {
    showCacheObject(await api("GET", "/api/cache/object", { location: state.cache, key_hex: state.cacheObject.key_hex }));
  } catch {
    state.cacheObject = null;
    $("#cache-object").hidden = true;
    $("#placeholder").hidden = false;
  }
}

async function purge() {
  const surrogateKey = $("#purge-key").value;
  const soft = $("#purge-soft").checked;
  const { purged } = await api("POST", "/api/cache/purge", { location: state.cache }, { surrogate_key: surrogateKey, soft });
  showError("");
  $("#purge-result").textContent =
    `${soft ? "Soft-purged" : "Purged"} ${purged} object${purged === 1 ? "" : "s"} tagged "${surrogateKey}" at pop-${state.cache}.`;
  await loadKeys(true);
  await refreshCacheObject();
  await refreshCounts();
}

async function removeCached() {
  await api("DELETE", "/api/cache/object", { location: state.cache, key_hex: state.cacheObject.key_hex });
  showError("");
  state.cacheObject = null;
  $("#cache-object").hidden = true;
  $("#placeholder").hidden = false;
  await loadKeys(true);
  await refreshCounts();
}

function cancel() {
  showError("");
  $("#confirm").hidden = true;
  $("#cache-confirm").hidden = true;
  if (!$("#editor").hidden) {
    $("#editor").hidden = true;
    if (state.entry) showEntry(state.entry);
    else $("#placeholder").hidden = false;
  }
}

// --- Live log ---

const rows = new Map();

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function callText(call) {
  const what = [call.kind, call.op, call.target, call.key].filter(Boolean).join(" ");
  return `${what}${call.outcome ? ` → ${call.outcome}` : ""} (${call.ms.toFixed(2)} ms)`;
}

function addCall(row, call) {
  const item = document.createElement("li");
  item.className = "call";
  item.dataset.kind = call.kind;
  item.textContent = callText(call);
  row.calls.append(item);
}

function setDone(row, status, ms) {
  row.status.textContent = String(status);
  row.status.className = status >= 500 ? "status-error" : "";
  row.ms.textContent = ms.toFixed(2);
}

function addRequest(record) {
  if (rows.has(record.id)) return;
  const head = document.createElement("tr");
  head.className = "request";
  head.dataset.id = record.id;
  head.dataset.path = record.path;
  const status = cell("…");
  const ms = cell("");
  head.append(
    cell(new Date(record.at).toLocaleTimeString()),
    cell(`${record.method} ${record.path}`),
    cell(record.pop === null ? "" : `pop-${record.pop}`),
    status,
    ms,
  );
  const callsRow = document.createElement("tr");
  const callsCell = cell("", "calls");
  callsCell.colSpan = 5;
  const calls = document.createElement("ul");
  callsCell.append(calls);
  callsRow.append(callsCell);
  const row = { head, callsRow, calls, status, ms };
  rows.set(record.id, row);
  for (const call of record.calls) addCall(row, call);
  if (record.more_calls) {
    const more = document.createElement("li");
    more.textContent = `… ${record.more_calls} more calls`;
    calls.append(more);
  }
  if (record.status !== null) setDone(row, record.status, record.ms);
  $("#log").prepend(head, callsRow);
  if (rows.size > keptRequests) {
    const oldest = rows.keys().next().value;
    rows.get(oldest).head.remove();
    rows.get(oldest).callsRow.remove();
    rows.delete(oldest);
  }
}

function connectLog() {
  const source = new EventSource("/api/log");
  source.onopen = () => { $("#log-state").textContent = "(live)"; };
  source.onerror = () => { $("#log-state").textContent = "(reconnecting…)"; };
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    const row = rows.get(event.request);
    if (event.type === "request") addRequest(event);
    else if (event.type === "call" && row) addCall(row, event.call);
    else if (event.type === "done" && row) setDone(row, event.status, event.ms);
    else if (event.type === "missed") $("#log-state").textContent = `(live; ${event.count} events missed)`;
  };
}

// --- Wiring ---

function moveInKeys(step) {
  const buttons = Array.from(document.querySelectorAll("#keys button.key"));
  if (buttons.length === 0) return;
  const at = buttons.indexOf(document.activeElement);
  const next = buttons[Math.min(buttons.length - 1, Math.max(0, at + step))];
  next.focus();
}

function typing(target) {
  return target.matches("input, textarea, select");
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    cancel();
  } else if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && !$("#editor").hidden) {
    event.preventDefault();
    $("#editor").requestSubmit();
  } else if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) {
    // Keys typed into a field are the field's.
  } else if (event.key === "/") {
    event.preventDefault();
    $("#prefix").focus();
  } else if (event.key === "n" && !cacheMode()) {
    event.preventDefault();
    openEditor(null);
  } else if (event.key === "p" && cacheMode()) {
    event.preventDefault();
    $("#purge-key").focus();
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    moveInKeys(event.key === "ArrowDown" ? 1 : -1);
  }
});

$("#store").addEventListener("change", (event) => {
  const location = event.target.selectedOptions[0]?.dataset.location;
  // A reload shows the same store or cache.
  if (location === undefined) {
    state.cache = null;
    state.store = event.target.value;
    pageParams.delete("cache");
    pageParams.set("store", state.store);
  } else {
    state.cache = Number(location);
    pageParams.delete("store");
    pageParams.set("cache", location);
  }
  history.replaceState(null, "", `?${pageParams}`);
  applyMode();
  attempt(() => loadKeys(true));
});
$("#purge").addEventListener("submit", (event) => {
  event.preventDefault();
  attempt(purge);
});
$("#cache-delete").addEventListener("click", () => {
  $("#cache-confirm-text").textContent = `Delete "${$("#cache-key").textContent}" from the cache of pop-${state.cache}?`;
  $("#cache-confirm").hidden = false;
  $("#cache-confirm-cancel").focus();
});
$("#cache-confirm-cancel").addEventListener("click", cancel);
$("#cache-confirm-delete").addEventListener("click", () => attempt(removeCached));
$("#search").addEventListener("submit", (event) => {
  event.preventDefault();
  state.prefix = $("#prefix").value;
  attempt(() => loadKeys(true));
});
$("#more").addEventListener("click", () => attempt(() => loadKeys(false)));
$("#new").addEventListener("click", () => openEditor(null));
$("#edit").addEventListener("click", () => openEditor(state.entry));
$("#delete").addEventListener("click", () => {
  $("#confirm-text").textContent = `Delete "${state.entry.key}" from ${state.store}?`;
  $("#confirm").hidden = false;
  $("#confirm-cancel").focus();
});
$("#confirm-cancel").addEventListener("click", cancel);
$("#confirm-delete").addEventListener("click", () => attempt(remove));
$("#editor").addEventListener("submit", (event) => {
  event.preventDefault();
  attempt(save);
});
$("#cancel").addEventListener("click", cancel);
$("#log-clear").addEventListener("click", () => {
  rows.clear();
  $("#log").replaceChildren();
});
setInterval(updateTtl, 1000);

attempt(loadStores);
connectLog();
