// SPDX-License-Identifier: Apache-2.0
// The small pieces every view uses: building DOM (text is always text, never HTML), calling the
// JSON API with the session's CSRF token, dates in local time with their UTC value, and form
// fields whose messages are tied to their inputs.

// h('p', {class: 'x'}, 'text', child, [more]) -> element. Strings become text nodes; null,
// undefined and false children are skipped. on* props are event listeners; value, checked and
// disabled are set as properties (after the children, so a <select> finds its option).
const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'multiple']);
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  const late = [];
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) late.push([k, v]);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, kids);
  for (const [k, v] of late) el[k] = v;
  return el;
}
function append(el, kids) {
  for (const k of kids) {
    if (k == null || k === false) continue;
    if (Array.isArray(k)) append(el, k);
    else el.append(k instanceof Node ? k : String(k));
  }
}

// ---- the API ----

export const session = {csrf: null, me: null};
let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

export class ApiError extends Error {
  // field: the field a 400 names (dotted when nested: "victims.patients"); item: the index in
  // an array field ("indicators" item 2); both null when the error is about no one field
  constructor(status, code, message, retryAfter, field = null, item = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.field = field;
    this.item = item;
  }
}

// api('GET', '/incidents?x=1') -> the decoded JSON (null for 204). Throws ApiError; a 401 (other
// than on the login itself) also sends the user to the login view.
export async function api(method, path, body) {
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let res;
  try {
    res = await fetch('/api/v1' + path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'The centre cannot be reached. Check the connection and try again.');
  }
  if (res.status === 204) return null;
  const data = (res.headers.get('Content-Type') || '').includes('json')
    ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.code || 'http',
      e.message || `The centre answered with status ${res.status}.`,
      Number(res.headers.get('Retry-After')) || 0, e.field || null, Number.isInteger(e.item) ? e.item : null);
    if (res.status === 401 && path !== '/auth/login') onUnauthenticated();
    throw err;
  }
  return data;
}

// Every item of a paged list ({items, next_after_id}), up to `max_pages` pages of 500.
export async function all(path, maxPages = 20) {
  const items = [];
  let after = '';
  for (let i = 0; i < maxPages; i++) {
    const r = await api('GET', path + (path.includes('?') ? '&' : '?') + 'limit=500' + (after ? '&after_id=' + after : ''));
    items.push(...r.items);
    if (!r.next_after_id) break;
    after = r.next_after_id;
  }
  return items;
}

// A query string from an object, leaving out empty values.
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v != null && v !== false) p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}

// ---- times ----

const fmt = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short'});

// <time> in local time; the UTC value in datetime and title.
export function time(iso) {
  if (!iso) return h('span', {}, 'not given');
  const d = new Date(iso);
  if (isNaN(d)) return h('span', {}, iso);
  return h('time', {datetime: iso, title: d.toISOString().replace('.000Z', 'Z') + ' (UTC)'}, fmt.format(d));
}

// "in 19 h 58 min" / "overdue by 2 h 3 min" relative to now.
export function until(iso, now = Date.now()) {
  const ms = new Date(iso) - now;
  const mins = Math.round(Math.abs(ms) / 60000);
  const d = Math.floor(mins / 1440), hr = Math.floor((mins % 1440) / 60), mi = mins % 60;
  const span = d ? `${d} d ${hr} h` : hr ? `${hr} h ${mi} min` : `${mi} min`;
  return ms >= 0 ? `in ${span}` : `overdue by ${span}`;
}

// datetime-local value (local time) <-> RFC 3339 UTC.
export function localToIso(v) {
  if (!v) return null;
  const d = new Date(v);
  return isNaN(d) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
export function isoToLocal(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// ---- badges ----

export function tlpBadge(tlp) {
  return h('span', {class: 'tlp tlp-' + tlp}, 'TLP:' + tlp);
}
export function badge(cls, text) {
  return h('span', {class: 'badge st-' + cls}, text);
}

// ---- forms ----

let ids = 0;
export function uid(prefix) { return `${prefix}-${++ids}`; }

// A labelled control with an optional hint and an error line, tied by aria-describedby.
// `control` is an input, select or textarea without an id. Returns {wrap, control, setError}.
export function field(label, control, hint) {
  const id = uid('f');
  control.id = id;
  const hintEl = hint ? h('p', {class: 'hint', id: id + '-hint'}, hint) : null;
  const err = h('p', {class: 'field-error', id: id + '-err'});
  control.setAttribute('aria-describedby', [hintEl && hintEl.id, err.id].filter(Boolean).join(' '));
  const wrap = h('div', {class: 'field'}, h('label', {for: id}, label), hintEl, control, err);
  const setError = (msg) => {
    err.textContent = msg || '';
    if (msg) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  };
  return {wrap, control, setError};
}

export function select(choices, props, empty) {
  return h('select', props,
    empty != null ? h('option', {value: ''}, empty) : null,
    choices.map(([v, label]) => h('option', {value: v}, label)));
}

// A region for errors from the server, read out when it changes.
export function errorBox() {
  return h('div', {class: 'error', role: 'alert'});
}
export function showError(box, err) {
  if (err && err.status === 401) return; // the login view takes over
  box.textContent = err ? err.message : '';
}

// A form of labelled fields: specs [{name, label, control, hint, check(value) -> message}], laid
// out in a row. On submit every check runs (the first field in error gets the focus); then
// send(values) (text trimmed, passwords as typed, a file input's first file). A 400 naming a
// field (or a 409 when `on409` names one) is shown at that field, anything else above the form.
export function form(specs, button, send, on409) {
  const err = errorBox();
  const fs = specs.map((s) => {
    s.control.name = s.name;
    return {...s, ...field(s.label, s.control, s.hint)};
  });
  const read = (c) => (c.type === 'file' ? c.files[0] : c.type === 'password' ? c.value : c.value.trim());
  return h('form', {novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const vals = {};
    let first = null;
    for (const f of fs) {
      vals[f.name] = read(f.control);
      f.setError(f.check ? f.check(vals[f.name]) : '');
      if (f.control.getAttribute('aria-invalid')) first = first || f.control;
    }
    if (first) return first.focus();
    try {
      await send(vals);
    } catch (e2) {
      const f = fs.find((x) => x.name === (e2.status === 409 && on409 ? on409 : e2.field));
      if (f) { f.setError(e2.message); f.control.focus(); } else showError(err, e2);
    }
  }}, err, h('div', {class: 'row'}, fs.map((f) => f.wrap)), h('div', {class: 'actions'}, h('button', {type: 'submit'}, button)));
}
export const need = (what) => (v) => (v ? '' : `Required: give ${what}.`);

// Reads a File as base64 (without the data: prefix).
export function fileBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

// ---- navigation ----

// Goes to `hash`, drawing the view again when it is the current one.
export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}
// A sentence said (in the status region) once the next view is drawn.
export const pending = {flash: ''};
export function flash(msg) { pending.flash = msg; }
