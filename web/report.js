// SPDX-License-Identifier: Apache-2.0
// The incident form: reporting one (#/incidents/new) and editing one (on its page, incident.js).
// One table (SPEC) drives the controls, the checks made as the user types and the JSON sent. The
// values live in one object (the "model") that is saved to sessionStorage on every change, so
// neither a failed submit, a reload nor a new login loses anything.
import {h, api, session, field, select, errorBox, uid, localToIso, isoToLocal, go, flash} from './lib.js';
import {C, vfield} from './choices.js';

// One draft per user and tab; logging out removes it (app.js), an ended session keeps it.
const draftKey = () => `iaso.draft.report.${session.me.id}`;
const bytes = (s) => new TextEncoder().encode(s).length;

// name (dots make nested objects), label, type, options: req, max (bytes or number), min, int,
// hint, choices, when(m) (shown and sent only then), kind ('cyber'/'violence'; both when absent),
// check(v, m) (a cross-field rule returning a message or ''), create (not offered when editing).
// The choices, and max, min, int and req where the server has them, come from the vocabulary
// (choices.js), so the table is made by makeSpec() once the vocabulary is loaded (app.js).
export let SPEC = [];
const table = () => [
  {name: 'title', label: 'Title', type: 'text', req: true, max: 200, hint: 'One line that says what happened.'},
  {name: 'summary', label: 'Summary', type: 'textarea', max: 10000, hint: 'What happened, what is affected, what you have done. No patient names or identifiers.'},
  {name: 'occurred_at', label: 'When it happened', type: 'datetime', past: true, hint: 'Your local time.'},
  {name: 'aware_at', label: 'When you became aware of it', type: 'datetime', past: true,
    hint: 'Your local time. For a significant incident the NIS2 deadlines run from here.',
    check: (v, m) => (m.kind === 'cyber' && m.nis2 && !v ? 'Give the time you became aware of it: the NIS2 deadlines run from it.'
      : v && m.occurred_at && new Date(v) < new Date(m.occurred_at) ? 'This is before the time it happened.' : '')},
  {name: 'nis2', label: 'Significant incident under NIS2 (starts the reporting clock)', type: 'bool', when: (m) => m.kind === 'cyber',
    hint: 'Early warning due within 24 h of awareness, notification within 72 h, final report within a month. On unless you decide the incident is not significant.'},
  {name: 'country', label: 'Country', type: 'text', req: true, max: 2, upper: true, pattern: /^[A-Za-z]{2}$/, patternMsg: 'Two letters, e.g. CZ.', hint: 'ISO 3166-1 alpha-2 code, e.g. CZ.'},
  {name: 'region', label: 'Region', type: 'text', max: 100},

  // cyber
  {name: 'classification.class', label: 'Classification', type: 'class', kind: 'cyber',
    hint: 'ENISA reference incident classification taxonomy.'},
  {name: 'classification.type', label: 'Type', type: 'classtype', kind: 'cyber',
    check: (v, m) => (!v && m['classification.class'] ? 'Choose the type within the classification.' : '')},
  {name: 'attack_vector', label: 'Attack vector', type: 'select', choices: C.attackVector, kind: 'cyber'},
  {name: 'threat_actor', label: 'Threat actor', type: 'text', max: 200, kind: 'cyber', hint: 'If known, e.g. the ransomware group.'},
  {name: 'systems_affected', label: 'Systems affected', type: 'lines', max: 200, items: 64, kind: 'cyber', hint: 'One per line, e.g. hospital information system, PACS.'},
  {name: 'care_services_disrupted', label: 'Care services disrupted', type: 'set', choices: C.careServices, kind: 'cyber'},
  {name: 'downtime_hours', label: 'Downtime (hours)', type: 'number', min: 0, max: 100000, kind: 'cyber'},
  {name: 'patients_affected', label: 'Patients affected', type: 'number', int: true, min: 0, max: 1e12, kind: 'cyber'},
  {name: 'procedures_cancelled', label: 'Procedures cancelled', type: 'number', int: true, min: 0, max: 1e12, kind: 'cyber'},
  {name: 'ambulance_diversion_hours', label: 'Ambulance diversion (hours)', type: 'number', min: 0, max: 100000, kind: 'cyber'},
  {name: 'records_exposed', label: 'Records exposed', type: 'number', int: true, min: 0, max: 1e12, kind: 'cyber'},
  {name: 'ransom_demanded', label: 'A ransom was demanded', type: 'bool', kind: 'cyber'},
  {name: 'ransom_amount', label: 'Ransom amount', type: 'number', min: 0, max: 1e15, kind: 'cyber', when: (m) => m.ransom_demanded},
  {name: 'ransom_currency', label: 'Ransom currency', type: 'text', max: 3, upper: true, pattern: /^[A-Za-z]{3}$/, patternMsg: 'Three letters, e.g. EUR or USD.', kind: 'cyber', when: (m) => m.ransom_demanded, hint: 'ISO 4217 code, e.g. EUR, USD.'},
  {name: 'ransom_paid', label: 'The ransom was paid', type: 'bool', kind: 'cyber', when: (m) => m.ransom_demanded},
  {name: 'cross_border', label: 'Other countries are affected', type: 'bool', kind: 'cyber'},
  {name: 'cross_border_countries', label: 'Countries affected', type: 'countries', kind: 'cyber', when: (m) => m.cross_border, hint: 'Two-letter codes separated by commas, e.g. DE, AT.'},

  // violence
  {name: 'attack_type', label: 'Type of attack', type: 'select', choices: C.attackType, kind: 'violence'},
  {name: 'perpetrator_type', label: 'Perpetrator', type: 'select', choices: C.perpetratorType, kind: 'violence'},
  {name: 'weapon', label: 'Weapon', type: 'select', choices: C.weapon, kind: 'violence'},
  ...C.victimGroup.flatMap(([g]) => C.victimCount.map(([c, cl]) => (
    {name: `victims.${g}.${c}`, label: cl, type: 'number', int: true, min: 0, max: 1e12, kind: 'violence', group: g}))),
  {name: 'health_resources_affected', label: 'Health resources affected', type: 'set', choices: C.healthResources, kind: 'violence'},
  {name: 'place_name', label: 'Place', type: 'text', max: 200, kind: 'violence', hint: 'Name of the facility, street or town.'},
  {name: 'latitude', label: 'Latitude', type: 'number', min: -90, max: 90, kind: 'violence', hint: 'Decimal degrees, -90 to 90.',
    check: (v, m) => (!v && m.longitude ? 'Give the latitude too, or clear the longitude.' : '')},
  {name: 'longitude', label: 'Longitude', type: 'number', min: -180, max: 180, kind: 'violence', hint: 'Decimal degrees, -180 to 180.',
    check: (v, m) => (!v && m.latitude ? 'Give the longitude too, or clear the latitude.' : '')},
  {name: 'certainty', label: 'Certainty', type: 'radio', choices: C.certainty, kind: 'violence', req: true},
  {name: 'sources', label: 'Sources', type: 'lines', max: 500, items: 20, kind: 'violence', hint: 'One per line: a link or a description of the source.'},

  // sharing
  {name: 'tlp', label: 'Traffic Light Protocol (TLP)', type: 'select', choices: C.tlp, req: true,
    hint: 'Who may see this report. AMBER: your organisation, your CSIRT and the organisations you share it with.'},
  {name: 'shared_with', label: 'Share with these organisations', type: 'orgs', create: true,
    hint: 'They see the report up to TLP:AMBER.',
    check: (v, m) => (v && v.length && ['AMBER+STRICT', 'RED'].includes(m.tlp) ? `A TLP:${m.tlp} report cannot be shared; lower the TLP or share with nobody.` : '')},
];

// The server's field of an entry: top-level ones in common, cyber or violence, a victim count
// in victim_counts, a classification part in classification.
function serverField(s) {
  const p = s.name.split('.');
  if (p[0] === 'victims') return vfield('victim_counts', p[2]);
  if (p[0] === 'classification') return vfield('classification', p[1]);
  return vfield('common', s.name) || vfield(s.kind || 'cyber', s.name) || vfield('violence', s.name);
}
export function makeSpec() {
  SPEC = table().map((s) => {
    const f = serverField(s);
    if (!f) return s;
    const t = {...s};
    if (['number', 'text', 'textarea', 'lines'].includes(s.type) && f.max != null) t.max = f.max;
    if (s.type === 'number' && f.min != null) t.min = f.min;
    if (s.type === 'number' && f.type === 'integer') t.int = true;
    // a classification's parts are required within it, the classification itself is not
    if (f.required && s.name.indexOf('.') < 0) t.req = true;
    return t;
  });
}

const isEmpty = (v) => v == null || (typeof v === 'string' ? !v.trim() : Array.isArray(v) && !v.length);
// "12,5" is twelve and a half too (a decimal comma, as in much of Europe)
const num = (v) => Number(String(v).trim().replace(',', '.'));

// The message for one field's value, or ''.
function check(s, m) {
  const v = m[s.name];
  if (isEmpty(v)) return s.req ? `Required: give the ${s.label.toLowerCase()}.` : s.check ? s.check(v, m) : '';
  if (typeof v === 'string' && ['text', 'textarea', 'lines'].includes(s.type)) {
    const over = s.type === 'lines' ? v.split('\n').find((l) => bytes(l.trim()) > s.max) : bytes(v.trim()) > s.max && v;
    if (over) return `Too long: at most ${s.max} bytes${s.type === 'lines' ? ' per line' : ''} (now ${bytes(over.trim())}; an accented letter takes 2).`;
    if (s.items && v.split('\n').filter((l) => l.trim()).length > s.items) return `At most ${s.items} lines.`;
    if (s.req && !v.trim()) return `Required: give the ${s.label.toLowerCase()}.`;
    if (s.pattern && !s.pattern.test(v.trim())) return s.patternMsg;
  }
  if (s.type === 'number') {
    const n = num(v);
    if (!Number.isFinite(n)) return 'Enter a number, like 12 or 4.5.';
    if (s.int && !Number.isInteger(n)) return 'Enter a whole number.';
    if (n < s.min || n > s.max) return `Enter a number from ${s.min} to ${s.max}.`;
  }
  if (s.type === 'datetime') {
    const d = new Date(v);
    if (isNaN(d)) return 'Enter a date and time.';
    if (s.past && d > Date.now() + 60000) return 'This time is in the future. Give the time it happened.';
  }
  if (s.type === 'countries' && !v.split(/[\s,;]+/).filter(Boolean).every((c) => /^[A-Za-z]{2}$/.test(c)))
    return 'Give two-letter codes separated by commas, e.g. DE, AT.';
  return s.check ? s.check(v, m) : '';
}

// indicator value syntax by type (the server's rules, src/centre/incident.c)
const HEX = (n) => [new RegExp(`^[0-9a-fA-F]{${n}}$`), `${n} hexadecimal digits`];
const IND = {
  ip: [/^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F]*:[0-9a-fA-F:.]*$/, 'an IPv4 or IPv6 address'],
  domain: [/^(?!-)[\w-]{1,63}(\.[\w-]{1,63})+$/, 'a domain name such as example.org'],
  url: [/^[A-Za-z][\w+.-]*:\/\/\S+$/, 'a URL such as https://example.org/path, without spaces'],
  email: [/^[^\s@<>",]{1,64}@[\w-]+(\.[\w-]+)+$/, 'an email address such as name@example.org'],
  md5: HEX(32), ja3: HEX(32), sha1: HEX(40), sha256: HEX(64),
};

const visible = (s, m) => (!s.kind || s.kind === m.kind) && (!s.when || s.when(m));

// The JSON body from the values: only the fields shown, empty optional ones left out.
export function body(m) {
  const b = {kind: m.kind};
  const put = (name, v) => {
    const path = name.split('.');
    let o = b;
    for (const k of path.slice(0, -1)) o = o[k] = o[k] || {};
    o[path[path.length - 1]] = v;
  };
  for (const s of SPEC) {
    if (!visible(s, m)) continue;
    const v = m[s.name];
    if (s.type === 'bool') { put(s.name, !!v); continue; }
    if (isEmpty(v)) continue;
    if (s.type === 'number') put(s.name, num(v));
    else if (s.type === 'datetime') put(s.name, localToIso(v));
    else if (s.type === 'lines') put(s.name, v.split('\n').map((l) => l.trim()).filter(Boolean));
    else if (s.type === 'countries') put(s.name, v.split(/[\s,;]+/).filter(Boolean).map((c) => c.toUpperCase()));
    else if (s.type === 'orgs') put(s.name, v.map(Number));
    else if (s.upper) put(s.name, v.trim().toUpperCase());
    else put(s.name, typeof v === 'string' ? v.trim() : v);
  }
  if (m.kind === 'cyber') {
    const ind = (m.indicators || []).filter((i) => i.value.trim())
      .map((i) => ({type: i.type, value: i.value.trim(), ...(i.comment.trim() ? {comment: i.comment.trim()} : {})}));
    if (ind.length) b.indicators = ind;
  }
  return b;
}

// The model of an incident as the API gives it (the inverse of body()), to edit it.
export function toModel(inc) {
  const m = {kind: inc.kind, indicators: (inc.indicators || []).map((i) => ({type: i.type, value: i.value, comment: i.comment || ''}))};
  for (const s of SPEC) {
    const v = s.name.split('.').reduce((o, k) => (o == null ? undefined : o[k]), inc);
    if (s.type === 'bool') m[s.name] = !!v;
    else if (v == null || s.create) continue;
    else if (s.type === 'datetime') m[s.name] = isoToLocal(v);
    else if (s.type === 'lines') m[s.name] = v.join('\n');
    else if (s.type === 'countries') m[s.name] = v.join(', ');
    else if (s.type === 'set') m[s.name] = s.choices.map(([k]) => k).filter((k) => v.includes(k)); // in the form's order
    else m[s.name] = typeof v === 'number' ? String(v) : v;
  }
  return m;
}

// The top-level fields whose values differ between two bodies: {name: the new value, or null
// to clear it}, as PATCH takes them.
export function changes(from, to) {
  const out = {};
  for (const k of new Set([...Object.keys(from), ...Object.keys(to)])) {
    if (JSON.stringify(from[k]) !== JSON.stringify(to[k])) out[k] = k in to ? to[k] : null;
  }
  return out;
}

// A top-level field's name for people ("victims" -> "Victims").
export const fieldLabel = (k) => ({victims: 'Victims', indicators: 'Indicators of compromise', nis2: 'Significant incident (NIS2)'})[k]
  || (SPEC.find((s) => s.name === k || s.name.startsWith(k + '.')) || {label: k.replace(/_/g, ' ')}).label;

// The form of an incident's fields. o: {m (the model, changed in place), edit (editing: the kind
// is fixed, create-only fields are left out), orgs (whom to share with; reporting only), level
// (of the section headings), save() (after every change), submitText, what ("the report"),
// actions (more buttons), send(body) (may throw an ApiError; a 400 is shown at its field),
// failed(err) (async; true when it dealt with the error)}. Returns {form, top (the error region)}.
export function incidentForm(o) {
  const {m, edit} = o;
  m.indicators = m.indicators || [];
  const me = session.me;
  const H = 'h' + (o.level || 2);
  const ctl = {};      // name -> {wrap, control(s), setError, s}
  const touched = new Set();
  const top = errorBox();
  top.setAttribute('tabindex', '-1');

  // Shows or hides what depends on the kind and on other answers; checks the touched fields.
  const refresh = () => {
    kindParts.cyber.hidden = m.kind !== 'cyber';
    kindParts.violence.hidden = m.kind !== 'violence';
    rest.hidden = !m.kind;
    for (const s of SPEC) {
      const c = ctl[s.name];
      if (!c) continue;
      if (s.when) c.wrap.hidden = !s.when(m);
      if (touched.has(s.name)) c.setError(visible(s, m) ? check(s, m) : '');
    }
  };
  const changed = (name, value) => {
    m[name] = value;
    touched.add(name);
    o.save();
    refresh();
  };

  // one control per SPEC entry
  const build = (s) => {
    let c;
    const bind = (el, read) => el.addEventListener(el.type === 'checkbox' || el.type === 'radio' || el.tagName === 'SELECT' ? 'change' : 'input', () => changed(s.name, read(el)));
    if (s.type === 'bool') {
      const box = h('input', {type: 'checkbox', name: s.name, checked: !!m[s.name]});
      bind(box, (el) => el.checked);
      const id = uid('f');
      box.id = id;
      const hint = s.hint ? h('p', {class: 'hint', id: id + '-hint'}, s.hint) : null;
      if (hint) box.setAttribute('aria-describedby', hint.id);
      c = {wrap: h('div', {class: 'field'}, h('label', {class: 'inline', for: id}, box, s.label), hint), control: box, setError: () => {}};
    } else if (s.type === 'set' || s.type === 'orgs' || s.type === 'radio') {
      // sharing: not with my organisation nor my CSIRT, which see the report anyway
      const choices = s.type === 'orgs' ? (o.orgs || []).filter((x) => x.id !== me.org_id && x.id !== me.org.csirt_id)
        .map((x) => [String(x.id), x.name]) : s.choices;
      const radio = s.type === 'radio';
      const cur = () => (radio ? m[s.name] : m[s.name] || []);
      const err = h('p', {class: 'field-error', id: uid('e')});
      const boxes = choices.map(([val]) => {
        const box = h('input', {type: radio ? 'radio' : 'checkbox', name: s.name, value: val,
          checked: radio ? cur() === val : cur().includes(val)});
        box.addEventListener('change', () => changed(s.name, radio ? val
          : boxes.filter((b) => b.checked).map((b) => b.value)));
        return box;
      });
      const fs = h('fieldset', {'aria-describedby': err.id}, h('legend', {}, s.label + (s.req ? ' (required)' : '')),
        s.hint ? h('p', {class: 'hint'}, s.hint) : null,
        boxes.map((b, i) => h('label', {class: 'inline'}, b, choices[i][1])),
        !choices.length ? h('p', {class: 'hint'}, 'No other organisation.') : null, err);
      c = {wrap: fs, control: boxes[0] || fs, setError: (msg) => {
        err.textContent = msg || '';
        for (const b of boxes) if (msg) b.setAttribute('aria-invalid', 'true'); else b.removeAttribute('aria-invalid');
      }};
    } else {
      let el;
      const lab = s.label + (s.req ? ' (required)' : '');
      if (s.type === 'textarea' || s.type === 'lines') el = h('textarea', {name: s.name, rows: s.type === 'lines' ? 3 : 6});
      else if (s.type === 'select') el = select(s.choices, {name: s.name}, s.req ? 'Choose…' : 'Not given');
      else if (s.type === 'class') {
        el = select(Object.entries(C.classification).map(([k, [l]]) => [k, l]), {name: s.name}, 'Choose…');
      } else if (s.type === 'classtype') el = h('select', {name: s.name});
      else if (s.type === 'number') el = h('input', {type: 'text', inputmode: 'decimal', name: s.name, class: 'num'});
      else if (s.type === 'datetime') el = h('input', {type: 'datetime-local', name: s.name});
      else el = h('input', {type: 'text', name: s.name, maxlength: s.max > 2 ? s.max * 4 : s.max});
      if (s.req) el.setAttribute('aria-required', 'true');
      c = field(lab, el, s.hint);
      el.value = m[s.name] == null ? '' : m[s.name];
      bind(el, (e) => e.value);
    }
    c.s = s;
    ctl[s.name] = c;
    return c.wrap;
  };

  // classification type follows the class
  const fillTypes = () => {
    const sel = ctl['classification.type'].control;
    const [, types] = C.classification[m['classification.class']] || [null, []];
    sel.replaceChildren(h('option', {value: ''}, types.length ? 'Choose…' : 'Choose a classification first'),
      ...types.map(([k, l]) => h('option', {value: k}, l)));
    sel.value = types.some(([k]) => k === m['classification.type']) ? m['classification.type'] : '';
    m['classification.type'] = sel.value;
  };

  const fields = (...names) => names.map((n) => build(SPEC.find((s) => s.name === n)));
  const section = (title, ...kids) => {
    const id = uid('h');
    return h('section', {'aria-labelledby': id}, h(H, {id}, title), kids);
  };

  // kind: chosen first when reporting; fixed when editing
  const kindErr = h('p', {class: 'field-error', id: uid('e')});
  const kindSet = edit ? null : h('fieldset', {'aria-describedby': kindErr.id}, h('legend', {}, 'What kind of incident? (required)'),
    C.kind.map(([k, l]) => h('label', {class: 'inline'},
      h('input', {type: 'radio', name: 'kind', value: k, checked: m.kind === k, onchange: () => {
        // as the server: a cyber incident is significant unless the reporter says otherwise
        if (k === 'cyber' && m.nis2 === undefined) ctl.nis2.control.checked = m.nis2 = true;
        changed('kind', k);
        kindErr.textContent = '';
      }}), l)), kindErr);

  // indicators: one row each, checked like the server checks them
  const indList = h('div', {});
  let indCtl = [];
  const indCheck = (i) => {
    const ind = m.indicators[i];
    const v = ind.value.trim();
    const [re, want] = IND[ind.type] || [/./, ''];
    indCtl[i].setError(!v ? 'Give the value, or remove the indicator.' : !re.test(v) ? `The value must be ${want}.` : '');
    return indCtl[i].control.getAttribute('aria-invalid') ? indCtl[i].control : null;
  };
  const drawIndicators = () => {
    indCtl = [];
    indList.replaceChildren(...m.indicators.map((ind, i) => {
      const t = field('Type', select(C.indicatorType, {value: ind.type, onchange: (e) => { ind.type = e.target.value; o.save(); if (ind.value) indCheck(i); }}));
      const val = field('Value', h('input', {type: 'text', value: ind.value, maxlength: (vfield('indicator', 'value') || {max: 2048}).max, oninput: (e) => { ind.value = e.target.value; o.save(); indCheck(i); }}));
      const com = field('Comment', h('input', {type: 'text', value: ind.comment, maxlength: (vfield('indicator', 'comment') || {max: 1000}).max, oninput: (e) => { ind.comment = e.target.value; o.save(); }}));
      indCtl.push(val);
      return h('div', {class: 'indicator-row', role: 'group', 'aria-label': `Indicator ${i + 1}`}, t.wrap, val.wrap, com.wrap,
        h('div', {class: 'actions'}, h('button', {type: 'button', class: 'secondary', onclick: () => {
          m.indicators.splice(i, 1);
          o.save();
          drawIndicators();
          addInd.focus();
        }}, `Remove indicator ${i + 1}`)));
    }));
  };
  const addInd = h('button', {type: 'button', class: 'secondary', onclick: () => {
    m.indicators.push({type: 'ip', value: '', comment: ''});
    o.save();
    drawIndicators();
    indList.lastChild.querySelector('input').focus();
  }}, 'Add an indicator');

  const victims = h('fieldset', {}, h('legend', {}, 'Victims'),
    h('p', {class: 'hint'}, 'Numbers of people; leave empty when not known.'),
    C.victimGroup.map(([g, gl]) => h('fieldset', {}, h('legend', {}, gl),
      h('div', {class: 'row'}, SPEC.filter((s) => s.group === g).map(build)))));

  const kindParts = {
    cyber: section('Cyber attack',
      fields('classification.class', 'classification.type', 'attack_vector', 'threat_actor', 'systems_affected', 'care_services_disrupted'),
      h('fieldset', {}, h('legend', {}, 'Impact'), h('div', {class: 'row'},
        fields('downtime_hours', 'patients_affected', 'procedures_cancelled', 'ambulance_diversion_hours', 'records_exposed'))),
      h('fieldset', {}, h('legend', {}, 'Ransom'), fields('ransom_demanded', 'ransom_amount', 'ransom_currency', 'ransom_paid')),
      h('fieldset', {}, h('legend', {}, 'Cross-border'), fields('cross_border', 'cross_border_countries')),
      h('fieldset', {}, h('legend', {}, 'Indicators of compromise'),
        h('p', {class: 'hint'}, 'Addresses, domains, hashes others can use to detect the same attacker.'), indList, h('div', {class: 'actions'}, addInd))),
    violence: section('Violence against health care',
      fields('attack_type', 'perpetrator_type', 'weapon'), victims, fields('health_resources_affected'),
      h('fieldset', {}, h('legend', {}, 'Where'), fields('place_name'), h('div', {class: 'row'}, fields('latitude', 'longitude'))),
      fields('certainty', 'sources')),
  };
  const submit = h('button', {type: 'submit'}, o.submitText);
  const rest = h('div', {},
    section('About the incident', fields('title', 'summary'), h('div', {class: 'row'}, fields('occurred_at', 'aware_at')), fields('nis2'),
      h('div', {class: 'row'}, fields('country', 'region'))),
    kindParts.cyber, kindParts.violence,
    section('Sharing', fields('tlp'), edit ? null : fields('shared_with')),
    h('div', {class: 'actions'}, submit, o.actions));

  ctl['classification.class'].control.addEventListener('change', () => { fillTypes(); o.save(); });
  fillTypes();
  drawIndicators();

  // A refusal of the server: at the field it names (error.field, and error.item for an
  // indicator; "victims.patients" -> its first count), else at the top.
  const place = (err) => {
    const f = err.status === 400 ? err.field : null;
    const ind = f === 'indicators' && err.item != null ? indCtl[err.item] : null;
    const c = ind || (f && Object.values(ctl).find((x) => (x.s.name === f || x.s.name.startsWith(f + '.')) && !x.wrap.hidden && visible(x.s, m)));
    if (c) {
      c.setError(err.message);
      top.textContent = `The centre did not accept ${o.what}; see the message at the ${ind ? 'indicator' : 'field'}. Nothing you typed is lost.`;
      c.control.focus();
    } else {
      top.textContent = `The centre did not accept ${o.what}: ${err.message} Nothing you typed is lost.`;
      top.focus();
    }
  };

  const form = h('form', {novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    top.textContent = '';
    if (!m.kind) {
      kindErr.textContent = 'Choose the kind of incident.';
      kindSet.querySelector('input').focus();
      return;
    }
    let first = null;
    let n = 0;
    for (const s of SPEC) {
      if (!ctl[s.name] || !visible(s, m)) continue;
      touched.add(s.name);
      const msg = check(s, m);
      ctl[s.name].setError(msg);
      if (msg) { n++; first = first || ctl[s.name].control; }
    }
    if (m.kind === 'cyber') {
      m.indicators.forEach((_, i) => {
        const bad = indCheck(i);
        if (bad) { n++; first = first || bad; }
      });
    }
    if (first) {
      top.textContent = `${n} field${n > 1 ? 's need' : ' needs'} attention; see the messages below each.`;
      first.focus();
      return;
    }
    submit.disabled = true;
    try {
      await o.send(body(m));
    } catch (err) {
      // after a 401 the model is saved and the login view brings the user back to it
      if (err.status !== 401 && !(err.status !== 400 && o.failed && await o.failed(err))) place(err);
    } finally {
      submit.disabled = false;
    }
  }}, kindSet, rest);
  refresh();
  return {form, top};
}

export async function reportView(v) {
  v.start('Report an incident');
  const me = session.me;
  let m;
  let restored = false;
  try {
    m = JSON.parse(sessionStorage.getItem(draftKey()));
    restored = !!m;
  } catch { m = null; }
  m = m || {kind: '', tlp: 'AMBER', country: me.org.country, region: me.org.region || '', indicators: []};
  const {items: orgs} = await api('GET', '/orgs');
  if (v.stale()) return;
  const f = incidentForm({m, orgs, level: 2, submitText: 'Send the report', what: 'the report',
    save: () => sessionStorage.setItem(draftKey(), JSON.stringify(m)),
    send: async (b) => {
      const r = await api('POST', '/incidents', b);
      sessionStorage.removeItem(draftKey());
      flash(`Incident ${r.id} reported.`);
      go(`#/incidents/${r.id}`);
    }});
  const discard = h('button', {type: 'button', class: 'secondary', onclick: () => {
    sessionStorage.removeItem(draftKey());
    go('#/incidents/new');
  }}, 'Discard the draft');
  v.main.append(...[restored ? h('p', {class: 'note'}, 'Your unsent draft was restored. ', discard) : null, f.top, f.form].filter(Boolean));
}
