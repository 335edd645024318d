// SPDX-License-Identifier: Apache-2.0
// One incident (#/incidents/ID): its fields (restricted ones appear only when the API sends them),
// the status with the changes allowed, sharing, the NIS2 clock with "record as sent" for each
// stage and the report exports, and the timeline with comments and attachments; the fields are
// edited with the report's form (report.js). What the page offers follows the incident's "can"
// object from the API.
import {h, api, all, session, time, until, localToIso, tlpBadge, badge, select, errorBox, showError, form, need,
  fileBase64, go, flash} from './lib.js';
import {C, NIS2_FIELDS, label, readable} from './choices.js';
import {SPEC, incidentForm, toModel, body, changes, fieldLabel} from './report.js';

// shown in their own place, or internal
const SKIP = new Set(['id', 'title', 'kind', 'tlp', 'status', 'version', 'org', 'created_by', 'can',
  'nis2_next', 'shared_with', 'indicators', 'victims', 'classification']);
const EXTRA = {nis2: 'Significant incident (NIS2)', occurred_at: 'Happened', aware_at: 'Organisation aware since',
  created_at: 'Reported', updated_at: 'Last changed', closed_at: 'Closed'};

function value(key, v) {
  if (v == null || v === '' || (Array.isArray(v) && !v.length)) return null;
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (/_at$/.test(key)) return time(v);
  if (Array.isArray(v)) return v.map((x) => label(C.byField[key], x)).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return label(C.byField[key], String(v));
}

function details(inc) {
  const labels = new Map(SPEC.map((s) => [s.name, s.label]));
  const rows = [];
  const add = (dt, dd) => { if (dd != null) rows.push(h('dt', {}, dt), h('dd', {}, dd)); };
  add('Organisation', inc.org && inc.org.name);
  if (inc.classification) {
    const [cl, types] = C.classification[inc.classification.class] || [inc.classification.class, []];
    add('Classification', `${cl} — ${label(types, inc.classification.type)}`);
  }
  const seen = new Set();
  for (const k of [...SPEC.map((s) => s.name), ...Object.keys(EXTRA), ...Object.keys(inc)]) {
    if (seen.has(k) || SKIP.has(k) || !(k in inc)) continue;
    seen.add(k);
    add(EXTRA[k] || labels.get(k) || k.replace(/_/g, ' '), value(k, inc[k]));
  }
  const out = [h('dl', {class: 'fields'}, rows)];
  if (inc.victims) {
    out.push(h('div', {class: 'table-wrap'}, h('table', {}, h('caption', {}, 'Victims'),
      h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Who'), C.victimCount.map(([, l]) => h('th', {scope: 'col'}, l)))),
      h('tbody', {}, C.victimGroup.map(([g, gl]) => h('tr', {}, h('th', {scope: 'row'}, gl),
        C.victimCount.map(([c]) => h('td', {}, String(((inc.victims[g] || {})[c]) ?? '–')))))))));
  }
  if (inc.indicators && inc.indicators.length) {
    out.push(h('div', {class: 'table-wrap'}, h('table', {}, h('caption', {}, 'Indicators of compromise'),
      h('thead', {}, h('tr', {}, ['Type', 'Value', 'Comment'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, inc.indicators.map((i) => h('tr', {}, h('td', {}, label(C.indicatorType, i.type)),
        h('td', {class: 'hash'}, i.value), h('td', {}, i.comment || '')))))));
  }
  return out;
}

// After a change: say it, and draw the page again from the API.
function done(msg) {
  flash(msg);
  go(location.hash);
}

// ---- editing the fields ----

// The changes being made, per user and incident: {version (the one they are based on), base (its
// model), m (the model as edited)}. Kept in sessionStorage like the report's draft, so neither a
// redraw of the page, a reload nor a new login after the session ended loses them; saving,
// cancelling or logging out removes them.
const editKey = (id) => `iaso.draft.edit.${session.me.id}.${id}`;
let focusEdit = false; // after taking the current version in a conflict: focus the form's note

function detailsPart(inc) {
  const key = editKey(inc.id);
  const shown = h('div', {}, details(inc));
  const part = h('section', {'aria-labelledby': 'h-fields'}, h('h2', {id: 'h-fields'}, 'Details'));
  if (!inc.can.update) return part.append(shown), part;
  const slot = h('div', {});
  let st = null;
  const keep = () => sessionStorage.setItem(key, JSON.stringify(st));
  const close = () => {
    sessionStorage.removeItem(key);
    slot.replaceChildren();
    shown.hidden = bar.hidden = false;
    edit.focus();
  };

  // 409: someone changed the incident since the form was opened. Say what changed; the edits stay
  // in the form; offer the current version with the edits on it, or without them.
  const conflict = async (f) => {
    let cur;
    try { cur = await api('GET', `/incidents/${inc.id}`); } catch { return false; }
    const mine = changes(body(st.base), body(st.m));
    const theirs = Object.keys(changes(body(st.base), body(toModel(cur))));
    const both = theirs.filter((k) => k in mine);
    const list = (ks) => ks.map(fieldLabel).join(', ');
    f.top.replaceChildren(...[
      h('p', {}, 'The incident was changed after you began editing it, so your changes are not saved. They are still in the form.'),
      h('p', {}, theirs.length ? `Changed meanwhile: ${list(theirs)}.` : 'None of the fields here changed meanwhile (the status or a NIS2 report did).'),
      both.length ? h('p', {}, `You changed ${list(both)} too: saving again puts your value in place of theirs.`) : null,
      h('div', {class: 'actions'},
        h('button', {type: 'button', onclick: () => {
          // the current version, with the fields I changed taken from my edits
          const m = toModel(cur);
          for (const n of new Set([...Object.keys(m), ...Object.keys(st.m)])) {
            if (!(n.split('.')[0] in mine)) continue;
            if (n in st.m) m[n] = st.m[n];
            else delete m[n];
          }
          st = {version: cur.version, base: toModel(cur), m};
          keep();
          focusEdit = true;
          done('The current version is loaded, with your changes on it. Check them and save again.');
        }}, 'Load the current version, keep my changes'),
        h('button', {type: 'button', class: 'secondary', onclick: () => {
          sessionStorage.removeItem(key);
          done('The current version is shown; your changes were dropped.');
        }}, 'Load the current version, drop my changes'))].filter(Boolean));
    f.top.focus();
    return true;
  };

  const open = (note) => {
    const f = incidentForm({m: st.m, edit: true, level: 3, submitText: 'Save the changes', what: 'the changes', save: keep,
      actions: h('button', {type: 'button', class: 'secondary', onclick: close}, 'Cancel'),
      send: async (b) => {
        const patch = changes(body(st.base), b);
        const names = Object.keys(patch).map(fieldLabel).join(', ');
        if (!names) {
          f.top.textContent = 'Nothing is changed yet.';
          return f.top.focus();
        }
        await api('PATCH', `/incidents/${inc.id}`, {version: st.version, ...patch});
        sessionStorage.removeItem(key);
        done(`Saved: ${names}.`);
      },
      failed: (err) => err.status === 409 && conflict(f)});
    shown.hidden = bar.hidden = true;
    slot.replaceChildren(...[note, f.top, f.form].filter(Boolean));
    return f.form;
  };
  const edit = h('button', {type: 'button', class: 'secondary', onclick: () => {
    st = {version: inc.version, base: toModel(inc), m: toModel(inc)};
    open(null).querySelector('input, select, textarea').focus();
  }}, 'Edit the details');
  const bar = h('div', {class: 'actions'}, edit);
  part.append(bar, shown, slot);

  try { st = JSON.parse(sessionStorage.getItem(key)); } catch { st = null; }
  if (st && st.m && st.m.kind === inc.kind) {
    // a new version whose fields are those the edits began from (the status changed, a NIS2
    // report was sent, perhaps on this page): the edits apply to it as they are
    if (st.version !== inc.version && !Object.keys(changes(body(st.base), body(toModel(inc)))).length) {
      st = {...st, version: inc.version, base: toModel(inc)};
      keep();
    }
    open(h('p', {class: 'note', id: 'edit-note', tabindex: '-1'}, 'Your changes are not saved yet.',
      st.version === inc.version ? '' : ' The incident has changed since you began; saving tells you what changed.'));
  }
  return part;
}

// ---- status and sharing ----

function statusPart(inc) {
  const part = h('section', {'aria-labelledby': 'h-status'}, h('h2', {id: 'h-status'}, 'Status'),
    h('p', {}, 'Now: ', badge('status', label(C.status, inc.status)),
      inc.closed_at ? [' since ', time(inc.closed_at)] : null));
  const next = inc.can.status_to || [];
  if (!next.length) return part;
  part.append(form([
    {name: 'status', label: 'Change the status to', control: select(next.map((st) => [st, label(C.status, st)]))},
    {name: 'note', label: 'Note (optional)', control: h('textarea', {rows: 2, maxlength: 20000})},
  ], 'Change the status', async (b) => {
    await api('POST', `/incidents/${inc.id}/status`, {status: b.status, ...(b.note ? {note: b.note} : {})});
    done(`Status changed to ${label(C.status, b.status)}.`);
  }));
  return part;
}

function sharePart(inc, orgs) {
  if (!inc.can.share) return null;
  const shared = inc.shared_with || [];
  const err = errorBox();
  const part = h('section', {'aria-labelledby': 'h-share'}, h('h2', {id: 'h-share'}, 'Shared with'), err,
    shared.length ? h('ul', {}, shared.map((o) => h('li', {}, o.name, ' (since ', time(o.shared_at), ') ',
      h('button', {type: 'button', class: 'secondary', onclick: () => api('DELETE', `/incidents/${inc.id}/shares/${o.id}`)
        .then(() => done(`No longer shared with ${o.name}.`), (e) => showError(err, e))}, `Stop sharing with ${o.name}`))))
      : h('p', {}, 'Nobody outside your organisation and your CSIRT.'));
  // not the reporting organisation, nor its CSIRT (which sees the incident anyway)
  const csirt = (orgs.find((o) => o.id === inc.org.id) || {}).csirt_id;
  const others = orgs.filter((o) => o.id !== inc.org.id && o.id !== csirt && !shared.some((x) => x.id === o.id));
  if (['CLEAR', 'GREEN', 'AMBER'].includes(inc.tlp) && others.length) {
    part.append(form([{name: 'org_id', label: 'Share with', control: select(others.map((o) => [String(o.id), o.name]))}],
      'Share', async (b) => {
        await api('POST', `/incidents/${inc.id}/shares`, {org_id: Number(b.org_id)});
        done(`Shared with ${others.find((o) => o.id === Number(b.org_id)).name}.`);
      }));
  }
  return part;
}

// ---- NIS2 ----

const BASIS = {
  aware_at: 'from the time of awareness', notification_submitted: 'one month after the notification was sent',
  notification_due: 'one month after the notification was due', request: 'as the CSIRT requested',
  ongoing_at_final_deadline: 'the incident is still being handled at the final deadline',
  incident_closed: 'one month after the incident was handled', awaiting_closure: 'after the incident is handled',
};

function stageForm(inc, stage) {
  const name = label(C.nis2Stage, stage).toLowerCase();
  return form(NIS2_FIELDS[stage].map(([n, lab, type, req, max, choices]) => ({
    name: n, label: lab + (req ? ' (required)' : ''), check: req ? need(lab.toLowerCase()) : null,
    control: type === 'bool' ? select([['true', 'Yes'], ['false', 'No']], {}, req ? 'Choose…' : 'Not given')
      : type === 'select' ? select(choices, {}, req ? 'Choose…' : 'Not given')
        : h('textarea', {rows: 3, maxlength: max || 10000}),
  })), `Record the ${name} as sent`, async (b) => {
    for (const k of Object.keys(b)) {
      if (b[k] === '') delete b[k];
      else if (b[k] === 'true' || b[k] === 'false') b[k] = b[k] === 'true';
    }
    await api('POST', `/incidents/${inc.id}/nis2/${stage}`, b);
    done(`The ${name} is recorded as sent.`);
  });
}

function toggle(text, makeForm) {
  const slot = h('div', {});
  const btn = h('button', {type: 'button', class: 'secondary', 'aria-expanded': 'false', onclick: () => {
    const open = btn.getAttribute('aria-expanded') !== 'true';
    btn.setAttribute('aria-expanded', String(open));
    slot.replaceChildren(...(open ? [makeForm()] : []));
    if (open) slot.querySelector('select, textarea, input').focus();
  }}, text);
  return [h('div', {class: 'actions'}, btn), slot];
}

function nis2Part(inc, clock) {
  const part = h('section', {'aria-labelledby': 'h-nis2'}, h('h2', {id: 'h-nis2'}, 'NIS2 reporting'));
  if (!clock) return part.append(h('p', {}, 'The NIS2 clock could not be read.')), part;
  part.append(h('p', {}, 'Deadlines run from the time of awareness, ', time(clock.aware_at), '.'));
  for (const s of clock.stages) {
    const name = label(C.nis2Stage, s.stage);
    const base = `/api/v1/incidents/${inc.id}/nis2/${s.stage}/export?format=`;
    const box = h('div', {class: 'stage', role: 'group', 'aria-labelledby': `st-${s.stage}`, id: `stage-${s.stage}`},
      h('h3', {id: `st-${s.stage}`}, name, ': ', badge(s.status, readable(s.status))),
      h('dl', {class: 'fields'},
        h('dt', {}, 'Due'), h('dd', {}, s.due_at ? [time(s.due_at), ` (${s.sent_at ? '' : until(s.due_at) + '; '}${BASIS[s.basis] || s.basis})`] : 'no due time'),
        h('dt', {}, 'Sent'), h('dd', {}, s.sent_at ? time(s.sent_at) : 'not yet'),
        s.feedback ? [h('dt', {}, 'Feedback from the CSIRT'), h('dd', {}, s.feedback)] : null));
    if (s.status !== 'not_applicable' || s.sent_at) {
      box.append(h('p', {}, s.sent_at ? 'The report as sent: ' : 'A draft from the incident as it is now: ',
        h('a', {href: base + 'json', target: '_blank', rel: 'noopener'}, `${name}, JSON`), ' · ',
        h('a', {href: base + 'html', target: '_blank', rel: 'noopener'}, `${name}, printable`), ' (each opens in a new tab)'));
    }
    if (inc.can.nis2_report && ['pending', 'due', 'late'].includes(s.status) && NIS2_FIELDS[s.stage]) {
      box.append(...toggle(`Record the ${name.toLowerCase()} as sent…`, () => stageForm(inc, s.stage)));
    }
    if (inc.can.nis2_feedback && s.sent_at) {
      box.append(...toggle(`Give feedback on the ${name.toLowerCase()}…`, () => form([{name: 'feedback',
        label: 'Feedback to the reporting organisation', control: h('textarea', {rows: 3, maxlength: 10000}), check: need('the feedback')}],
      'Send the feedback', async (b) => {
        await api('POST', `/incidents/${inc.id}/nis2/${s.stage}/feedback`, b);
        done('Feedback recorded.');
      })));
    }
    part.append(box);
  }
  if (inc.can.nis2_request) {
    part.append(...toggle('Ask for an intermediate or progress report…', () => form([
      {name: 'stage', label: 'Report', control: select(C.nis2Stage.filter(([k]) => ['intermediate', 'progress'].includes(k)))},
      {name: 'due_at', label: 'Due (optional)', control: h('input', {type: 'datetime-local'}), hint: 'Your local time; 72 hours from now when empty.'},
    ], 'Ask for the report', async (b) => {
      await api('POST', `/incidents/${inc.id}/nis2/requests`, {stage: b.stage, ...(b.due_at ? {due_at: localToIso(b.due_at)} : {})});
      done('Report requested.');
    })));
  }
  return part;
}

// ---- timeline, comments, attachments ----

function eventText(ev) {
  const b = ev.body || {};
  const stage = (s) => label(C.nis2Stage, s);
  switch (ev.kind) {
  case 'create': return `Reported (${label(C.kind, b.kind)}, TLP:${b.tlp}).`;
  case 'update': return `Changed: ${(b.fields || []).map(fieldLabel).join(', ')}.`;
  case 'status': return `Status ${label(C.status, b.from)} → ${label(C.status, b.to)}.${b.note ? '\n' + b.note : ''}`;
  case 'comment': return b.text;
  case 'attachment': return `Attached ${b.name}, SHA-256 ${b.sha256}.`;
  case 'share': return `Shared with organisation ${b.org_id}.`;
  case 'unshare': return `No longer shared with organisation ${b.org_id}.`;
  case 'nis2_sent': return `${stage(b.stage)} recorded as sent${b.late ? ', late' : ''}.`;
  case 'nis2_feedback': return `Feedback on the ${stage(b.stage).toLowerCase()}.`;
  case 'nis2_request': return `${stage(b.stage)} requested, due ${new Date(b.due_at).toLocaleString()}.`;
  default: return JSON.stringify(b);
  }
}

const TIMELINE_PAGE = 100;
const timelinePath = (id, after) => `/incidents/${id}/timeline?order=desc&limit=${TIMELINE_PAGE}${after ? '&after_id=' + after : ''}`;

function eventItem(ev) {
  return h('li', {tabindex: '-1'},
    h('p', {class: 'meta'}, time(ev.at), ' — ', ev.by ? `${ev.by.name} (${ev.by.org.name})` : ''),
    h('p', {}, eventText(ev)));
}

// The newest page of the timeline (order=desc); "Show older events" fetches the next page, appends
// it, moves the focus to its first event and says how many were added.
function timelinePart(inc, page, atts) {
  const first = (page && page.items) || [];
  let after = page && page.next_after_id;
  const ol = h('ol', {class: 'timeline'}, first.map(eventItem));
  const err = errorBox();
  const said = h('p', {role: 'status', class: 'hint'});
  const more = h('button', {type: 'button', class: 'secondary', onclick: async () => {
    more.disabled = true;
    showError(err, null);
    try {
      const r = await api('GET', timelinePath(inc.id, after));
      const items = r.items.map(eventItem);
      ol.append(...items);
      after = r.next_after_id;
      moreBar.hidden = !after;
      said.textContent = `${items.length} older event${items.length === 1 ? '' : 's'} shown${after ? '' : '; that is all of them'}.`;
      if (items.length) items[0].focus();
    } catch (e) {
      showError(err, e);
    } finally {
      more.disabled = false;
    }
  }}, 'Show older events');
  const moreBar = h('div', {class: 'actions'}, more);
  moreBar.hidden = !after;
  const part = h('section', {'aria-labelledby': 'h-timeline'}, h('h2', {id: 'h-timeline'}, 'Timeline'),
    h('p', {class: 'hint'}, 'Newest first.'),
    first.length ? [ol, err, moreBar, said] : h('p', {}, 'Nothing yet.'));
  if (inc.can.comment) {
    part.append(h('h3', {}, 'Add a comment'), form([{name: 'body', label: 'Comment', control: h('textarea', {rows: 3, maxlength: 20000}),
      hint: 'Readers of the incident see it, under the same TLP.', check: need('the comment')}], 'Add the comment', async (b) => {
      await api('POST', `/incidents/${inc.id}/comments`, b);
      done('Comment added.');
    }));
  }
  part.append(h('h3', {id: 'h-atts'}, 'Attachments'),
    atts.length ? h('div', {class: 'table-wrap'}, h('table', {'aria-labelledby': 'h-atts'},
      h('thead', {}, h('tr', {}, ['File', 'Size', 'SHA-256', 'Added'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, atts.map((a) => h('tr', {},
        h('td', {}, h('a', {href: `/api/v1/incidents/${inc.id}/attachments/${a.id}`, download: a.name}, a.name)),
        h('td', {}, `${a.size} bytes`), h('td', {class: 'hash'}, a.sha256), h('td', {}, time(a.created_at))))))) : h('p', {}, 'None.'));
  if (inc.can.attach) {
    part.append(h('h3', {}, 'Add an attachment'), form([{name: 'file', label: 'File', control: h('input', {type: 'file'}),
      hint: 'Logs, screenshots, captures. The centre keeps its SHA-256. No patient data.', check: need('a file')}],
    'Add the attachment', async ({file: f}) => {
      const type = C.attachmentTypes.includes(f.type) ? f.type : 'application/octet-stream';
      await api('POST', `/incidents/${inc.id}/attachments`, {name: f.name, content_type: type, data_base64: await fileBase64(f)});
      done(`Attachment ${f.name} added.`);
    }));
  }
  return part;
}

export async function incidentView(v, [id]) {
  let inc;
  try {
    inc = await api('GET', `/incidents/${id}`);
  } catch (e) {
    if (e.status !== 404 || v.stale()) throw e;
    v.start('Incident not found');
    v.main.append(h('p', {}, `Incident ${id} was not found, or you may not see it.`),
      h('p', {}, h('a', {href: '#/incidents'}, 'Back to the incidents')));
    return;
  }
  inc.can = inc.can || {};
  const opt = (p) => p.catch((e) => (e.status === 401 ? Promise.reject(e) : null));
  const [tl, atts, clock, orgs] = await Promise.all([
    opt(api('GET', timelinePath(id))),
    opt(all(`/incidents/${id}/attachments`)),
    inc.nis2 ? opt(api('GET', `/incidents/${id}/nis2`)) : null,
    inc.can.share ? opt(api('GET', '/orgs')) : null,
  ]);
  if (v.stale()) return;
  v.start(inc.title);
  v.main.append(...[
    h('p', {class: 'actions'}, tlpBadge(inc.tlp), label(C.kind, inc.kind), ' · ', `incident ${inc.id}`,
      inc.nis2 ? ' · significant under NIS2' : ''),
    detailsPart(inc),
    statusPart(inc),
    inc.nis2 ? nis2Part(inc, clock) : null,
    sharePart(inc, (orgs && orgs.items) || []),
    timelinePart(inc, tl, atts || [])].filter(Boolean));
  if (focusEdit) {
    focusEdit = false;
    const note = document.getElementById('edit-note');
    if (note) note.focus();
  }
}
