// SPDX-License-Identifier: Apache-2.0
// The centre's browser UI: a hash router and the views. Everything comes from the JSON API
// (/api/v1); nothing is built from HTML strings. Views: #/login, #/ (dashboard), #/incidents,
// #/incidents/new, #/incidents/ID, #/tokens, #/admin/orgs, #/admin/users.
import {h, api, qs, session, setUnauthenticatedHandler, time, until, tlpBadge, badge, field, select,
  errorBox, showError, form, need, go, flash, pending} from './lib.js';
import {C, label, readable, loadVocabulary, vocabulary} from './choices.js';
import {reportView, makeSpec} from './report.js';
import {incidentView} from './incident.js';
import {tokensView} from './tokens.js';

const main = document.getElementById('main');
const statusEl = document.getElementById('status');
const RETURN_KEY = 'iaso.return';

// ---- router ----

const routes = [
  [/^\/login$/, loginView],
  [/^\/$/, dashboardView],
  [/^\/incidents$/, listView],
  [/^\/incidents\/new$/, reportView],
  [/^\/incidents\/(\d+)$/, incidentView],
  [/^\/tokens$/, tokensView],
  [/^\/admin\/orgs$/, orgsView],
  [/^\/admin\/users$/, usersView],
];

let seq = 0; // the navigation in progress; a slower, older one must not draw

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query] = raw.split('?');
  return {path, query: new URLSearchParams(query || '')};
}

async function route() {
  const {path, query} = parseHash();
  if (!path.startsWith('/')) return; // "#main" from the skip link
  const my = ++seq;
  if (!session.me && path !== '/login') {
    try {
      await loadMe();
    } catch (err) {
      // a 401 has sent us to the login view; anything else is said here
      if (err.status !== 401 && my === seq) {
        main.replaceChildren(h('h1', {tabindex: '-1'}, 'The centre did not answer'), h('p', {role: 'alert'}, err.message));
        main.firstChild.focus();
      }
      return;
    }
    if (my !== seq) return;
  }
  // the accepted values, once per page: no view is drawn without them
  if (session.me && path !== '/login' && !vocabulary) {
    try {
      await loadVocabulary();
      makeSpec();
    } catch (err) {
      if (err.status !== 401 && my === seq) {
        document.title = 'Error — Iaso centre';
        main.replaceChildren(h('h1', {tabindex: '-1'}, 'The centre\'s lists of values could not be loaded'),
          h('p', {role: 'alert'}, `The forms need them. ${err.message} Reload the page to try again.`));
        main.firstChild.focus();
      }
      return;
    }
    if (my !== seq) return;
  }
  const hit = routes.find(([re]) => re.test(path));
  const [re, view] = hit || [null, notFoundView];
  const m = re ? re.exec(path) : [];
  setNav(path);
  const view$ = {
    main,
    stale: () => my !== seq,
    // Replaces the view with a heading (focused, so a screen reader starts here) and returns it.
    start(title) {
      document.title = `${title} — Iaso centre`;
      const h1 = h('h1', {tabindex: '-1'}, title);
      main.replaceChildren(h1);
      h1.focus();
      statusEl.textContent = pending.flash;
      pending.flash = '';
      return h1;
    },
  };
  try {
    await view(view$, m.slice(1), query);
  } catch (err) {
    if (err.status === 401 || view$.stale()) return;
    main.append(h('div', {class: 'error', role: 'alert'}, err.message));
  }
}

async function loadMe() {
  const me = await api('GET', '/me');
  session.me = me;
  if (me.csrf_token) session.csrf = me.csrf_token;
  document.getElementById('who').textContent = `${me.name} (${me.org ? me.org.name : ''}, ${me.role})`;
  for (const li of document.querySelectorAll('.admin-only')) li.hidden = me.role !== 'admin';
  document.querySelector('#nav a[href="#/incidents/new"]').parentElement.hidden = ['viewer', 'helper'].includes(me.role);
  document.querySelector('#nav a[href="#/admin/orgs"]').parentElement.hidden = !me.is_centre_admin;
}

function setNav(path) {
  const nav = document.getElementById('nav');
  nav.hidden = !session.me || path === '/login';
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === '#' + path) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

setUnauthenticatedHandler(() => {
  const {path} = parseHash();
  if (session.me) flash('Your session has ended. Log in again to continue where you were.');
  session.me = null;
  session.csrf = null;
  if (path !== '/login') {
    sessionStorage.setItem(RETURN_KEY, location.hash || '#/');
    go('#/login');
  }
});

// ---- login ----

async function loginView(v) {
  v.start('Log in');
  const err = errorBox();
  const email = field('Email', h('input', {type: 'email', name: 'email', autocomplete: 'username', required: true}));
  const pw = field('Password', h('input', {type: 'password', name: 'password', autocomplete: 'current-password', required: true}));
  const btn = h('button', {type: 'submit'}, 'Log in');
  let timer = 0;
  const form = h('form', {novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    email.setError(email.control.value.trim() ? '' : 'Enter your email address.');
    pw.setError(pw.control.value ? '' : 'Enter your password.');
    if (!email.control.value.trim()) return email.control.focus();
    if (!pw.control.value) return pw.control.focus();
    btn.disabled = true;
    try {
      const r = await api('POST', '/auth/login', {email: email.control.value.trim(), password: pw.control.value});
      session.csrf = r.csrf_token;
      await loadMe();
      const back = sessionStorage.getItem(RETURN_KEY);
      sessionStorage.removeItem(RETURN_KEY);
      go(back && back !== '#/login' ? back : '#/');
    } catch (e2) {
      btn.disabled = false;
      if (e2.status === 429) {
        // said once (an alert read out every second would drown everything else); the button
        // comes back when the wait is over, or when another email is typed
        const wait = e2.retryAfter || 60;
        const at = new Date(Date.now() + wait * 1000).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
        err.textContent = `Too many failed logins. Try again in ${wait < 120 ? `${wait} seconds` : `${Math.ceil(wait / 60)} minutes`}, at ${at}.`;
        btn.disabled = true;
        clearTimeout(timer);
        timer = setTimeout(() => { btn.disabled = false; err.textContent = 'You may try again now.'; }, wait * 1000);
      } else {
        err.textContent = e2.status === 401 ? 'Wrong email or password.' : e2.message;
        pw.control.value = '';
        pw.control.focus();
      }
    }
  }}, email.wrap, pw.wrap, h('div', {class: 'actions'}, btn));
  email.control.addEventListener('input', () => { btn.disabled = false; });
  v.main.append(err, form);
}

async function logout() {
  try { await api('POST', '/auth/logout'); } catch { /* the session may be gone already */ }
  // a shared workstation: the next person must not find this one's draft
  for (const k of Object.keys(sessionStorage)) if (k.startsWith('iaso.')) sessionStorage.removeItem(k);
  session.me = null;
  session.csrf = null;
  flash('You are logged out.');
  go('#/login');
}

// ---- dashboard ----

function incidentsTable(items, caption) {
  if (!items.length) return h('p', {}, 'None.');
  const next = (n) => (n ? [label(C.nis2Stage, n.stage), ' ', time(n.due_at), ` (${until(n.due_at)})`] : '');
  return h('div', {class: 'table-wrap'}, h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ['Title', 'Kind', 'Status', 'TLP', 'Organisation', 'Reported', 'Next NIS2 deadline'].map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, items.map((i) => h('tr', {},
      h('td', {}, h('a', {href: `#/incidents/${i.id}`}, i.title)),
      h('td', {}, label(C.kind, i.kind)),
      h('td', {}, label(C.status, i.status)),
      h('td', {}, tlpBadge(i.tlp)),
      h('td', {}, `${i.org ? i.org.name : ''} (${i.country})`),
      h('td', {}, time(i.created_at)),
      h('td', {}, next(i.nis2_next)))))));
}

// A NIS2 deadline's state from a list item's nis2_next: late, due (within 6 hours, as the
// server's clock says it), or pending.
const nextState = (n, now) => (n.late ? 'late' : new Date(n.due_at) - now <= 6 * 3600e3 ? 'due' : 'pending');

async function dashboardView(v) {
  const me = session.me;
  v.start('Dashboard');
  const csirt = me.is_csirt_staff;
  v.main.append(h('p', {}, `Open incidents and NIS2 deadlines of ${csirt ? `your constituency (${me.org.name})` : me.org.name}.`));
  // The open incidents of my organisation (a CSIRT's staff: and of its constituency), newest
  // first, one page of 500 each; the deadlines are their nis2_next. Only when there are more does
  // a second query ask for those with a deadline (due within a year, or late), so none is missed.
  const scopes = csirt ? ['constituency', 'own'] : ['own'];
  const get = (extra) => Promise.all(scopes.map((scope) => api('GET', '/incidents' + qs({status: 'open', scope, limit: 500, ...extra}))));
  const lists = await get({});
  if (v.stale()) return;
  const open = lists.flatMap((l) => l.items)
    .sort((a, b) => (b.created_at || '').localeCompare(a.created_at || '') || b.id - a.id);
  const more = lists.some((l) => l.next_after_id);
  const withDeadline = more ? (await get({due: 8784})).flatMap((l) => l.items) : open;
  if (v.stale()) return;
  const now = Date.now();
  const rows = withDeadline.filter((i) => i.nis2_next && i.nis2_next.due_at)
    .sort((a, b) => a.nis2_next.due_at.localeCompare(b.nis2_next.due_at));
  v.main.append(h('h2', {}, 'NIS2 deadlines'));
  v.main.append(rows.length ? h('div', {class: 'table-wrap'}, h('table', {id: 'deadlines'},
    h('caption', {}, 'The next report of each incident, soonest first'),
    h('thead', {}, h('tr', {}, ['Incident', 'Next report', 'Due', 'Time left', 'Status'].map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, rows.map((i) => {
      const n = i.nis2_next;
      const st = nextState(n, now);
      return h('tr', {},
        h('td', {}, h('a', {href: `#/incidents/${i.id}`}, i.title)),
        h('td', {}, label(C.nis2Stage, n.stage)),
        h('td', {}, time(n.due_at)),
        h('td', {}, until(n.due_at, now)),
        h('td', {}, badge(st, readable(st))));
    })))) : h('p', {}, 'No NIS2 report is outstanding.'));
  v.main.append(h('h2', {}, 'Open incidents'), incidentsTable(open, 'Open incidents, newest first'));
  if (more) v.main.append(h('p', {}, 'These are the newest 500. ', h('a', {href: '#/incidents' + qs({status: 'open', scope: csirt ? '' : 'own'})}, 'All open incidents')));
}

// ---- incident list ----

const FILTERS = ['scope', 'kind', 'status', 'tlp', 'country', 'q', 'nis2', 'due'];

async function listView(v, _m, query) {
  v.start('Incidents');
  const f = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) || '']));
  const own = [['own', 'My organisation'], ...(session.me.org.kind === 'csirt' ? [['constituency', 'My constituency']] : [])];
  const ctl = {
    scope: field('Reported by', select(own, {name: 'scope', value: f.scope}, 'Anyone')),
    kind: field('Kind', select(C.kind, {name: 'kind', value: f.kind}, 'Any')),
    status: field('Status', select(C.statusFilter, {name: 'status', value: f.status}, 'Any')),
    tlp: field('TLP up to', select(C.tlp.map(([k]) => [k, 'TLP:' + k]), {name: 'tlp', value: f.tlp}, 'Any')),
    country: field('Country', h('input', {type: 'text', name: 'country', value: f.country, maxlength: 2, size: 3, autocomplete: 'off'}), 'Two letters, e.g. CZ'),
    q: field('Title contains', h('input', {type: 'search', name: 'q', value: f.q, maxlength: 200})),
    due: field('NIS2 deadline', select(C.due, {name: 'due', value: f.due}, 'Any')),
  };
  const nis2 = h('input', {type: 'checkbox', name: 'nis2', value: '1', checked: f.nis2 === '1'});
  const form = h('form', {role: 'search', 'aria-label': 'Filter incidents', onsubmit: (e) => {
    e.preventDefault();
    const p = {};
    for (const k of Object.keys(ctl)) p[k] = ctl[k].control.value.trim();
    p.country = p.country.toUpperCase();
    p.nis2 = nis2.checked ? '1' : '';
    go('#/incidents' + qs(p));
  }},
  h('div', {class: 'row'}, Object.values(ctl).map((c) => c.wrap)),
  h('label', {class: 'inline'}, nis2, 'Only significant incidents (NIS2)'),
  h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Filter'), h('a', {href: '#/incidents', class: 'button secondary'}, 'Clear filters')));
  v.main.append(form);
  const after = query.get('after_id') || '';
  const res = await api('GET', '/incidents' + qs({...f, after_id: after, limit: 50}));
  if (v.stale()) return;
  const region = h('section', {'aria-label': 'Results'},
    h('p', {role: 'status'}, `${res.items.length} incident${res.items.length === 1 ? '' : 's'} on this page.`),
    incidentsTable(res.items, 'Incidents matching the filters'));
  const pager = h('div', {class: 'pager'});
  if (after) pager.append(h('a', {href: '#/incidents' + qs(f)}, 'First page'));
  if (res.next_after_id) pager.append(h('a', {href: '#/incidents' + qs({...f, after_id: res.next_after_id}), rel: 'next'}, 'Next page'));
  v.main.append(region, pager);
}

// ---- admin: organisations ----

function orgForm(org, orgs, onDone) {
  const csirts = orgs.filter((o) => o.kind === 'csirt' && o.id !== org.id).map((o) => [String(o.id), o.name]);
  return form([
    {name: 'name', label: 'Name', control: h('input', {type: 'text', value: org.name || '', maxlength: 200}), check: need('the name')},
    {name: 'kind', label: 'Kind', control: select(C.orgKind, {value: org.kind || 'hospital'})},
    {name: 'country', label: 'Country', control: h('input', {type: 'text', value: org.country || session.me.org.country, maxlength: 2, size: 3}),
      hint: 'ISO 3166-1 alpha-2, e.g. CZ', check: (v) => (/^[A-Za-z]{2}$/.test(v) ? '' : 'Enter two letters, e.g. CZ.')},
    {name: 'region', label: 'Region', control: h('input', {type: 'text', value: org.region || '', maxlength: 100})},
    {name: 'csirt_id', label: 'CSIRT (constituency)', control: select(csirts, {value: org.csirt_id ? String(org.csirt_id) : ''}, 'None')},
  ], org.id ? 'Save organisation' : 'Create organisation', async (b) => {
    b.country = b.country.toUpperCase();
    b.csirt_id = b.csirt_id ? Number(b.csirt_id) : null;
    if (!org.id && !b.csirt_id) delete b.csirt_id;
    onDone(await (org.id ? api('PATCH', `/orgs/${org.id}`, b) : api('POST', '/orgs', b)));
  }, 'name');
}

async function orgsView(v) {
  v.start('Organisations');
  if (!session.me.is_centre_admin) {
    v.main.append(h('p', {}, "Only the centre's administrators manage organisations."));
    return;
  }
  const {items: orgs} = await api('GET', '/orgs');
  if (v.stale()) return;
  const byId = new Map(orgs.map((o) => [o.id, o]));
  const tbody = h('tbody', {}, orgs.map((o) => {
    const row = h('tr', {},
      h('td', {}, o.name), h('td', {}, label(C.orgKind, o.kind)), h('td', {}, o.country),
      h('td', {}, o.region || ''), h('td', {}, o.csirt_id ? (byId.get(o.csirt_id) || {}).name || o.csirt_id : ''),
      h('td', {}, h('button', {type: 'button', class: 'secondary', 'aria-label': `Edit ${o.name}`, onclick: (e) => {
        const cell = h('td', {colspan: 6});
        const edit = h('tr', {}, cell);
        cell.append(h('h3', {}, `Edit ${o.name}`), orgForm(o, orgs, () => { flash(`Organisation ${o.name} saved.`); go('#/admin/orgs'); }));
        row.after(edit);
        e.target.disabled = true;
        cell.querySelector('input').focus();
      }}, 'Edit')));
    return row;
  }));
  v.main.append(
    h('div', {class: 'table-wrap'}, h('table', {}, h('caption', {}, 'Every organisation'),
      h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Country', 'Region', 'CSIRT', ''].map((t) => h('th', {scope: 'col'}, t)))), tbody)),
    h('h2', {}, 'New organisation'),
    orgForm({}, orgs, (r) => { flash(`Organisation ${r.name} created.`); go('#/admin/orgs'); }));
}

// ---- admin: users ----

async function usersView(v, _m, query) {
  v.start('Users');
  const me = session.me;
  if (me.role !== 'admin') {
    v.main.append(h('p', {}, "Only administrators manage users."));
    return;
  }
  const orgId = Number(query.get('org_id')) || me.org_id;
  let orgs = [];
  if (me.is_centre_admin) {
    orgs = (await api('GET', '/orgs')).items;
    if (v.stale()) return;
    const pick = field('Organisation', select(orgs.map((o) => [String(o.id), o.name]), {value: String(orgId)}));
    v.main.append(h('form', {onsubmit: (e) => { e.preventDefault(); go('#/admin/users' + qs({org_id: pick.control.value})); }},
      h('div', {class: 'row'}, pick.wrap, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Show users')))));
  }
  const {items: users} = await api('GET', '/users' + qs({org_id: orgId, limit: 1000}));
  if (v.stale()) return;
  const err = errorBox();
  const here = '#/admin/users' + qs({org_id: me.is_centre_admin ? orgId : ''});
  const change = async (u, body, done) => {
    try {
      await api('PATCH', `/users/${u.id}`, body);
      flash(done);
      go(here);
    } catch (e) { showError(err, e); }
  };
  const rows = users.map((u) => {
    const role = select(C.role, {value: u.role, 'aria-label': `Role of ${u.email}`, disabled: u.id === me.id});
    return h('tr', {},
      h('td', {}, u.email), h('td', {}, u.name),
      h('td', {}, role, ' ', h('button', {type: 'button', class: 'secondary', disabled: u.id === me.id,
        onclick: () => change(u, {role: role.value}, `Role of ${u.email} changed to ${role.value}.`)}, 'Change role')),
      h('td', {}, u.disabled ? 'Disabled' : 'Active'),
      h('td', {}, u.last_login_at ? time(u.last_login_at) : 'never'),
      h('td', {}, h('button', {type: 'button', class: 'secondary', disabled: u.id === me.id,
        onclick: () => change(u, {disabled: !u.disabled}, `${u.email} ${u.disabled ? 'enabled' : 'disabled'}.`)},
      u.disabled ? `Enable ${u.email}` : `Disable ${u.email}`)));
  });
  const orgName = orgId === me.org_id ? me.org.name : (orgs.find((o) => o.id === orgId) || {}).name || `organisation ${orgId}`;
  v.main.append(err, h('h2', {}, `Users of ${orgName}`),
    rows.length ? h('div', {class: 'table-wrap'}, h('table', {'aria-label': `Users of ${orgName}`},
      h('thead', {}, h('tr', {}, ['Email', 'Name', 'Role', 'State', 'Last login', 'Access'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, rows))) : h('p', {}, 'No users yet.'),
    h('h2', {}, 'New user'), userForm(orgId, here));
}

function userForm(orgId, here) {
  return form([
    {name: 'email', label: 'Email', control: h('input', {type: 'email', maxlength: 254, autocomplete: 'off'}),
      check: (v) => (/^[^\s@]+@[^\s@]+$/.test(v) ? '' : 'Enter an email address.')},
    {name: 'name', label: 'Name', control: h('input', {type: 'text', maxlength: 200}), check: need('the name')},
    {name: 'role', label: 'Role', control: select(C.role, {value: 'reporter'})},
    {name: 'password', label: 'Initial password', control: h('input', {type: 'password', maxlength: 256, autocomplete: 'new-password'}),
      hint: 'At least 12 characters; tell it to the user by another channel.',
      check: (v) => (v.length >= 12 ? '' : 'The password must have at least 12 characters.')},
  ], 'Create user', async (b) => {
    const r = await api('POST', '/users', {org_id: orgId, ...b});
    flash(`User ${r.email} created.`);
    go(here);
  }, 'email');
}

function notFoundView(v) {
  v.start('Page not found');
  v.main.append(h('p', {}, 'There is no such page. ', h('a', {href: '#/'}, 'Go to the dashboard.')));
}

// ---- start ----

document.getElementById('logout').addEventListener('click', logout);
document.querySelector('.skip').addEventListener('click', (e) => {
  e.preventDefault();
  (main.querySelector('h1') || main).focus();
});
window.addEventListener('hashchange', route);
route();
