// SPDX-License-Identifier: Apache-2.0
// "My API tokens" (#/tokens): the logged-in user's tokens with their prefix, scopes, expiry and
// last use; creating one, whose secret is shown once with a copy button; revoking one. The secret
// lives only in this module's memory until the view is drawn with it once; it is never stored.
import {h, api, session, time, field, select, errorBox, showError, uid, go, flash} from './lib.js';
import {C} from './choices.js';

let fresh = null; // {name, token}: the token just created, shown by the next drawing only
const bytes = (s) => new TextEncoder().encode(s).length;

function secretPart({name, token}) {
  const id = uid('h');
  const input = h('input', {type: 'text', readonly: true, value: token, class: 'secret', spellcheck: 'false', autocomplete: 'off'});
  const f = field('The token', input, 'Copy it now and keep it like a password: it is shown only this once. The centre keeps only its digest.');
  const said = h('p', {role: 'status'});
  const copy = async () => {
    let ok = false;
    try {
      await navigator.clipboard.writeText(token); // only in a secure context (HTTPS, localhost)
      ok = true;
    } catch {
      input.select();
      try { ok = document.execCommand('copy'); } catch { ok = false; }
    }
    said.textContent = ok ? 'Copied to the clipboard.' : 'Copying did not work here: the token is selected, press Ctrl+C (⌘C on a Mac).';
  };
  return h('section', {class: 'note', 'aria-labelledby': id}, h('h2', {id}, `Your new token “${name}”`), f.wrap,
    h('div', {class: 'actions'}, h('button', {type: 'button', onclick: copy}, 'Copy the token')), said,
    h('p', {class: 'hint'}, 'Use it in the header ', h('code', {}, 'Authorization: Bearer iaso_…'), '.'));
}

function tokenRows(items, err) {
  const now = Date.now();
  return items.map((t) => {
    const cell = h('td', {});
    const ask = h('button', {type: 'button', class: 'secondary', onclick: () => {
      const yes = h('button', {type: 'button', onclick: async () => {
        try {
          await api('DELETE', `/tokens/${t.id}`);
          flash(`Token ${t.name} revoked.`);
          go('#/tokens');
        } catch (e) { showError(err, e); }
      }}, `Yes, revoke ${t.name}`);
      const no = h('button', {type: 'button', class: 'secondary', onclick: () => { cell.replaceChildren(ask); ask.focus(); }}, 'Keep it');
      cell.replaceChildren(h('p', {}, 'Whatever uses it stops working.'), h('div', {class: 'actions'}, yes, no));
      yes.focus();
    }}, `Revoke ${t.name}`);
    const expired = t.expires_at && new Date(t.expires_at) <= now;
    if (!t.revoked_at && !expired) cell.append(ask);
    return h('tr', {},
      h('td', {}, t.name, t.kind === 'enrol' ? ' (sensor enrolment)' : ''),
      h('td', {class: 'hash'}, t.prefix + '…'),
      h('td', {}, t.scopes.split(',').filter(Boolean).join(', ')),
      h('td', {}, time(t.created_at)),
      h('td', {}, t.expires_at ? time(t.expires_at) : 'never'),
      h('td', {}, t.last_used_at ? time(t.last_used_at) : 'not yet'),
      h('td', {}, t.revoked_at ? ['Revoked ', time(t.revoked_at)] : expired ? 'Expired' : 'Active'),
      cell);
  });
}

function createForm() {
  const me = session.me;
  const err = errorBox();
  const name = field('Name', h('input', {type: 'text', name: 'name', maxlength: 400, autocomplete: 'off'}), 'What it is for, e.g. “SIEM export”.');
  const scopeErr = h('p', {class: 'field-error', id: uid('e')});
  // a token never carries more than its user: the admin scope only for admins
  const offered = C.tokenScope.filter(([k]) => k !== 'admin' || me.role === 'admin');
  const boxes = offered.map(([k]) => h('input', {type: 'checkbox', name: 'scopes', value: k, checked: k === 'read'}));
  const scopes = h('fieldset', {'aria-describedby': scopeErr.id}, h('legend', {}, 'Scopes'),
    boxes.map((b, i) => h('label', {class: 'inline'}, b, offered[i][1])), scopeErr);
  const expiry = field('Expires after', select(C.tokenExpiry, {name: 'expires', value: '90'}));
  const btn = h('button', {type: 'submit'}, 'Create the token');
  return h('form', {novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const n = name.control.value.trim();
    const sc = boxes.filter((b) => b.checked).map((b) => b.value);
    name.setError(!n ? 'Required: give the token a name.' : bytes(n) > 100 ? `Too long: at most 100 bytes (now ${bytes(n)}).` : '');
    scopeErr.textContent = sc.length ? '' : 'Choose at least one scope.';
    for (const b of boxes) if (sc.length) b.removeAttribute('aria-invalid'); else b.setAttribute('aria-invalid', 'true');
    if (name.control.getAttribute('aria-invalid')) return name.control.focus();
    if (!sc.length) return boxes[0].focus();
    const days = Number(expiry.control.value);
    btn.disabled = true;
    try {
      const r = await api('POST', '/tokens', {name: n, scopes: sc,
        ...(days ? {expires_at: new Date(Date.now() + days * 864e5).toISOString().replace(/\.\d{3}Z$/, 'Z')} : {})});
      fresh = {name: n, token: r.token};
      flash(`Token ${n} created. Copy it now: it is shown only once.`);
      go('#/tokens');
    } catch (e2) {
      btn.disabled = false;
      if (e2.field === 'name') {
        name.setError(e2.message);
        name.control.focus();
      } else showError(err, e2);
    }
  }}, err, name.wrap, scopes, expiry.wrap, h('div', {class: 'actions'}, btn));
}

export async function tokensView(v) {
  v.start('My API tokens');
  const {items} = await api('GET', '/tokens');
  if (v.stale()) return;
  const shown = fresh; // once: a later drawing (or a reload) does not have it
  fresh = null;
  const err = errorBox();
  v.main.append(...[
    h('p', {}, 'A token lets a script or another system use the centre’s API as you, within the scopes you give it. Revoke one you no longer need.'),
    shown ? secretPart(shown) : null,
    h('h2', {id: 'h-tokens'}, 'Your tokens'), err,
    items.length ? h('div', {class: 'table-wrap'}, h('table', {'aria-labelledby': 'h-tokens'},
      h('thead', {}, h('tr', {}, ['Name', 'Prefix', 'Scopes', 'Created', 'Expires', 'Last used', 'State', 'Action'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, tokenRows(items, err)))) : h('p', {}, 'You have no tokens.'),
    h('h2', {}, 'Create a token'), createForm()].filter(Boolean));
  if (shown) {
    const input = v.main.querySelector('input.secret');
    input.focus();
    input.select();
  }
}
