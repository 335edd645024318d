// SPDX-License-Identifier: Apache-2.0
// The choice lists the UI offers. Their VALUES come from the centre (GET /api/v1/vocabulary, from
// the same C tables that check requests), loaded once per page by loadVocabulary() (app.js, before
// the first view of a logged-in user) and kept in memory; nothing here copies them. What stays
// here is UI text: a value's label is the value made readable ("c2-server" -> "C2 server") unless
// NAMES says better, plus the lists that are the UI's own (filters, token scopes and expiries).
import {api} from './lib.js';

const NAMES = {
  cyber: 'Cyber attack', violence: 'Violence against health care',
  ambulance: 'Ambulance service', csirt: 'CSIRT',
  // RSIT
  'abusive-content/violence': 'Child sexual exploitation, sexual or violent content',
  scanner: 'Scanning', 'ids-alert': 'Exploitation of a known vulnerability', 'brute-force': 'Login attempts',
  exploit: 'New attack signature', dos: 'Denial of service', ddos: 'Distributed denial of service',
  'unauthorised-information-access': 'Unauthorised access to information',
  'unauthorised-information-modification': 'Unauthorised modification of information',
  'data-leak': 'Leak of confidential information', 'weak-crypto': 'Weak cryptography', 'ddos-amplifier': 'DDoS amplifier',
  'potentially-unwanted-accessible': 'Potentially unwanted accessible services',
  // cyber
  'stolen-credentials': 'Stolen or weak credentials', 'remote-access': 'Remote access service',
  'supply-chain': 'Supplier or service provider', records: 'Patient records', telephony: 'Telephony',
  ip: 'IP address', md5: 'MD5', sha1: 'SHA-1', sha256: 'SHA-256', email: 'Email address', ja3: 'JA3', url: 'URL',
  // violence
  'psychological-violence': 'Psychological violence or threat of violence',
  'militarization-of-health-care-asset': 'Militarisation of a health care asset',
  'obstruction-to-delivery-of-care': 'Obstruction to the delivery of health care',
  'non-state-armed-group': 'Non-state armed group', bladed: 'Knife or blade', blunt: 'Blunt object',
  none: 'No weapon', chemical: 'Chemical agent', facility: 'Health facility', transport: 'Health transport',
  supplies: 'Medical supplies', personnel: 'Health personnel', health_workers: 'Health workers',
  // NIS2
  early_warning: 'Early warning', notification: 'Incident notification', intermediate: 'Intermediate report',
  final: 'Final report', progress: 'Progress report', due: 'Due soon', sent_late: 'Sent late',
};
// the labels of the NIS2 reports' fields, where the name made readable is not enough
const NIS2_LABELS = {
  suspected_malicious: 'Suspected to be caused by unlawful or malicious acts',
  cross_border_possible: 'Could have a cross-border impact', indicators_note: 'About the indicators of compromise',
  description: 'Detailed description', threat_type: 'Type of threat', mitigation: 'Mitigation measures',
  cross_border_impact: 'Cross-border impact',
};
export const readable = (v) => NAMES[v] || (v[0].toUpperCase() + v.slice(1)).replace(/[-_]/g, ' ');
const list = (values) => values.map((v) => [v, readable(v)]);
const TLP = {CLEAR: 'may be shared publicly', GREEN: 'the community', AMBER: 'the organisations that need to know',
  'AMBER+STRICT': 'only our organisation', RED: 'named recipients only'};

// The lists: the UI's own ones now, the server's once loadVocabulary() has run.
export const C = {
  // "due" filter of the incident list: the next NIS2 deadline within this many hours (0: passed)
  due: [['0', 'Passed (late)'], ['6', 'Within 6 hours'], ['24', 'Within 24 hours'], ['72', 'Within 3 days'],
    ['168', 'Within 7 days']],
  // API token scopes: what a request with the token may do, never more than its user may
  tokenScope: [['read', 'Read: everything you may see'], ['write', 'Write: report and change incidents, comment'],
    ['admin', 'Admin: organisations, users and the audit log']],
  tokenExpiry: [['7', '7 days'], ['30', '30 days'], ['90', '90 days'], ['365', 'One year'], ['', 'Never']],
};
// What "record as sent" asks for each NIS2 stage: [name, label, type (bool | select | text),
// required, max length, choices] (from the vocabulary's nis2_report_fields).
export const NIS2_FIELDS = {};
// The vocabulary as the server sent it (null before loadVocabulary()).
export let vocabulary = null;

// A field of the vocabulary: group "common", "cyber", "violence", "classification", "victims",
// "victim_counts" or "indicator"; undefined when the server has no such field.
export const vfield = (group, name) => ((vocabulary && vocabulary.fields[group]) || []).find((f) => f.name === name);

function fill(v) {
  vocabulary = v;
  const F = v.fields;
  const byField = {};
  for (const g of ['common', 'cyber', 'violence']) for (const f of F[g]) if (f.choices) byField[f.name] = list(f.choices);
  const choices = (g, n) => list((vfield(g, n) || {}).choices || []);
  Object.assign(C, {
    kind: list(v.kinds),
    status: list(v.statuses),
    tlp: v.tlp.map((t) => [t, TLP[t] ? `TLP:${t} — ${TLP[t]}` : `TLP:${t}`]),
    orgKind: list(v.org_kinds),
    role: list(v.roles),
    // the incident list's status filter: "open" is every status but closed
    statusFilter: [['open', 'Open (not closed)'], ...list(v.statuses)],
    // class -> [label, [[type, label], ...]]
    classification: Object.fromEntries(Object.entries(v.classification).map(([c, t]) =>
      [c, [readable(c), t.map((x) => [x, NAMES[`${c}/${x}`] || readable(x)])]])),
    byField, // an incident field's name -> its choices, for the enum fields
    attackVector: choices('cyber', 'attack_vector'),
    careServices: choices('cyber', 'care_services_disrupted'),
    indicatorType: choices('indicator', 'type'),
    attackType: choices('violence', 'attack_type'),
    perpetratorType: choices('violence', 'perpetrator_type'),
    weapon: choices('violence', 'weapon'),
    healthResources: choices('violence', 'health_resources_affected'),
    victimGroup: list(F.victims.map((f) => f.name)),
    victimCount: list(F.victim_counts.map((f) => f.name)),
    certainty: choices('violence', 'certainty'),
    nis2Stage: list(Object.keys(v.nis2_report_fields)),
    // what an attachment may be (others are sent as application/octet-stream)
    attachmentTypes: v.attachment_types,
  });
  for (const [stage, fs] of Object.entries(v.nis2_report_fields)) {
    NIS2_FIELDS[stage] = fs.map((f) => [f.name, NIS2_LABELS[f.name] || readable(f.name),
      f.type === 'boolean' ? 'bool' : f.choices ? 'select' : 'text', !!f.required, f.max, list(f.choices || [])]);
  }
}

// Loads the vocabulary once for the page's life (again only after a failure). Throws the
// ApiError of the request, or one saying the answer is not a vocabulary.
let loading = null;
export function loadVocabulary() {
  loading = loading || api('GET', '/vocabulary').then((v) => {
    if (!v || !v.fields || !v.classification || !v.nis2_report_fields) throw new Error('The centre sent no list of values.');
    fill(v);
  }).catch((e) => {
    loading = null;
    throw e;
  });
  return loading;
}

// The label of a value in a choice list (the value itself when unknown).
export function label(choices, v) {
  const hit = (choices || []).find(([k]) => k === v);
  return hit ? hit[1] : v;
}
