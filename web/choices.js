// SPDX-License-Identifier: Apache-2.0
// Every choice list the UI offers, in one table. The values must be the server's
// (src/centre/incident.c, src/centre/nis2.c, src/centre/accounts.c); keep them in step when the
// API changes. A value's label is the value made readable ("c2-server" -> "C2 server") unless
// NAMES says better.

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
const readable = (v) => NAMES[v] || (v[0].toUpperCase() + v.slice(1)).replace(/[-_]/g, ' ');
const list = (s) => s.split(' ').map((v) => [v, readable(v)]);

// RSIT (ENISA reference incident classification taxonomy): class -> its types
const RSIT = {
  'abusive-content': 'spam harmful-speech violence',
  'malicious-code': 'infected-system c2-server malware-distribution malware-configuration',
  'information-gathering': 'scanner sniffing social-engineering',
  'intrusion-attempts': 'ids-alert brute-force exploit',
  intrusions: 'privileged-account-compromise unprivileged-account-compromise application-compromise system-compromise burglary',
  availability: 'dos ddos misconfiguration sabotage outage',
  'information-content-security': 'unauthorised-information-access unauthorised-information-modification data-loss data-leak',
  fraud: 'unauthorised-use-of-resources copyright masquerade phishing',
  vulnerable: 'weak-crypto ddos-amplifier potentially-unwanted-accessible information-disclosure vulnerable-system',
  other: 'other undetermined',
  test: 'test',
};

export const C = {
  kind: list('cyber violence'),
  status: list('reported triaged responding recovering closed'),
  tlp: [['CLEAR', 'TLP:CLEAR — may be shared publicly'], ['GREEN', 'TLP:GREEN — the community'],
    ['AMBER', 'TLP:AMBER — the organisations that need to know'],
    ['AMBER+STRICT', 'TLP:AMBER+STRICT — only our organisation'], ['RED', 'TLP:RED — named recipients only']],
  orgKind: list('hospital clinic ambulance laboratory authority csirt helper'),
  role: list('reporter analyst admin helper viewer'),
  // the incident list's status filter: "open" is every status but closed
  statusFilter: [['open', 'Open (not closed)'], ...list('reported triaged responding recovering closed')],
  // "due" filter of the incident list: the next NIS2 deadline within this many hours (0: passed)
  due: [['0', 'Passed (late)'], ['6', 'Within 6 hours'], ['24', 'Within 24 hours'], ['72', 'Within 3 days'],
    ['168', 'Within 7 days']],
  // class -> [label, [[type, label], ...]]
  classification: Object.fromEntries(Object.entries(RSIT).map(([c, t]) =>
    [c, [readable(c), t.split(' ').map((v) => [v, NAMES[`${c}/${v}`] || readable(v)])]])),
  attackVector: list('phishing exploited-vulnerability stolen-credentials remote-access supply-chain removable-media insider misconfiguration unknown other'),
  careServices: list('emergency-department imaging laboratory surgery pharmacy records intensive-care outpatient ambulance-dispatch radiotherapy dialysis telephony other'),
  indicatorType: list('ip domain url md5 sha1 sha256 email ja3'),
  attackType: list('violence-with-heavy-weapons violence-with-individual-weapons psychological-violence physical-violence-without-weapons obstruction-to-delivery-of-care militarization-of-health-care-asset removal-of-health-care-assets arrest-of-health-workers-or-patients abduction-of-health-workers-or-patients setting-fire chemical-agent sexual-violence other'),
  perpetratorType: list('state-forces non-state-armed-group criminal individual patient-or-relative unknown other'),
  weapon: list('firearm explosive bladed blunt fire chemical none unknown other'),
  healthResources: list('facility transport supplies personnel'),
  victimGroup: list('health_workers patients others'),
  victimCount: list('killed injured kidnapped arrested'),
  certainty: list('rumour possible probable confirmed'),
  nis2Stage: list('early_warning notification intermediate final progress'),
  nis2Status: list('pending due late sent sent_late not_applicable'),
  // API token scopes: what a request with the token may do, never more than its user may
  tokenScope: [['read', 'Read: everything you may see'], ['write', 'Write: report and change incidents, comment'],
    ['admin', 'Admin: organisations, users and the audit log']],
  tokenExpiry: [['7', '7 days'], ['30', '30 days'], ['90', '90 days'], ['365', 'One year'], ['', 'Never']],
  severity: list('low medium high critical'),
  // what an attachment may be (others are sent as application/octet-stream)
  attachmentTypes: ('application/octet-stream application/pdf application/json application/zip application/gzip ' +
    'application/vnd.tcpdump.pcap application/x-pcapng text/plain text/csv image/png image/jpeg message/rfc822').split(' '),
};

// What "record as sent" asks for each NIS2 stage (src/centre/nis2.c, nis2_stage_fields):
// [name, label, type (bool | severity | text), required]
const MALICIOUS = ['suspected_malicious', 'Suspected to be caused by unlawful or malicious acts', 'bool'];
const CROSS = ['cross_border_possible', 'Could have a cross-border impact', 'bool'];
export const NIS2_FIELDS = {
  early_warning: [[...MALICIOUS, true], [...CROSS, true], ['details', 'Details', 'text']],
  notification: [['severity', 'Severity', 'severity', true], ['impact', 'Impact', 'text', true],
    ['initial_assessment', 'Initial assessment', 'text', true], MALICIOUS, CROSS,
    ['indicators_note', 'About the indicators of compromise', 'text']],
  intermediate: [['status_update', 'Status update', 'text', true]],
  final: [['description', 'Detailed description', 'text', true], ['severity', 'Severity', 'severity', true],
    ['impact', 'Impact', 'text', true], ['threat_type', 'Type of threat', 'text', true],
    ['root_cause', 'Root cause', 'text', true], ['mitigation', 'Mitigation measures', 'text', true],
    ['cross_border_impact', 'Cross-border impact', 'text']],
};
// a progress report: the final report's fields so far, description and mitigation required
NIS2_FIELDS.progress = NIS2_FIELDS.final.map(([n, l, t, r]) => [n, l, t, r && ['description', 'mitigation'].includes(n)]);

// The label of a value in a choice list (the value itself when unknown).
export function label(choices, v) {
  const hit = (choices || []).find(([k]) => k === v);
  return hit ? hit[1] : v;
}
