// The inspection page of `edgeshim serve --inspect`: plain DOM code over the JSON API in
// mod.rs, no build step and nothing from the network.
"use strict";

const $ = (selector) => document.querySelector(selector);
// `?store=NAME&limit=N`: the store shown first and the keys a page holds.
const pageParams = new URLSearchParams(location.search);
const pageSize = pageParams.get("limit") || "50";
const shownBytes = 64 * 1024;
const keptRequests = 500;

const state = { store: pageParams.get("store"), prefix: "", cursor: null, entry: null, expiresAt: null, isNew: false };

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
  const seconds = ms / 1000;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

// --- Stores and keys ---

// The store picker's entry counts, after a write.
async function refreshCounts() {
  const { stores } = await api("GET", "/api/stores", {});
  for (const option of $("#store").options) {
    const store = stores.find((s) => s.name === option.value);
    if (store) option.textContent = `${store.name} (${store.entries})`;
  }
}

async function loadStores() {
  const { stores } = await api("GET", "/api/stores", {});
  const select = $("#store");
  select.replaceChildren(
    ...stores.map(({ name, entries }) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = `${name} (${entries})`;
      return option;
    }),
  );
  if (stores.length === 0) {
    showError("The app's fastly.toml declares no KV store.");
    return;
  }
  state.store = stores.some((s) => s.name === state.store) ? state.store : stores[0].name;
  select.value = state.store;
  await loadKeys(true);
}

async function loadKeys(fresh) {
  if (fresh) state.cursor = null;
  const params = { store: state.store, prefix: state.prefix, limit: pageSize };
  if (state.cursor) params.cursor = state.cursor;
  const page = await api("GET", "/api/keys", params);
  const list = $("#keys");
  if (fresh) list.replaceChildren();
  for (const key of page.keys) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "key";
    button.dataset.key = key;
    button.textContent = key;
    button.addEventListener("click", () => attempt(() => selectKey(key)));
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

function markSelected(key) {
  for (const button of document.querySelectorAll("#keys button.key")) {
    button.classList.toggle("selected", button.dataset.key === key);
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
  const view = $("#value-view");
  const bytes = bytesOf(entry.value_base64);
  let shown;
  if (entry.kind === "image") {
    shown = document.createElement("img");
    shown.alt = `${entry.key} (${entry.mime})`;
    shown.src = `data:${entry.mime};base64,${entry.value_base64}`;
  } else {
    shown = document.createElement("pre");
    const text = new TextDecoder().decode(bytes);
    shown.textContent =
      entry.kind === "json" ? JSON.stringify(JSON.parse(text), null, 2)
      : entry.kind === "text" ? text
      : hexDump(bytes);
  }
  shown.id = "value";
  shown.dataset.kind = entry.kind;
  view.replaceChildren(shown);
  markSelected(entry.key);
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

function cancel() {
  showError("");
  $("#confirm").hidden = true;
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
  } else if (event.key === "n") {
    event.preventDefault();
    openEditor(null);
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    moveInKeys(event.key === "ArrowDown" ? 1 : -1);
  }
});

$("#store").addEventListener("change", (event) => {
  state.store = event.target.value;
  // A reload shows the same store.
  pageParams.set("store", state.store);
  history.replaceState(null, "", `?${pageParams}`);
  attempt(() => loadKeys(true));
});
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
