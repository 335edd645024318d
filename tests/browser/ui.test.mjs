// SPDX-License-Identifier: Apache-2.0
// The centre's UI in a real browser (Debian's Chromium through playwright-core). Run by
// tests/browser/run, which starts a throwaway centre and passes its address and accounts in the
// environment. The tests run in order and build on each other (a reporter of hospital A reports,
// hospital B must not see it); each prints "PASS: name" or "FAIL: name", a failure saves a
// screenshot into IASO_TMP.
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {chromium} from 'playwright-core';

const BASE = process.env.IASO_URL;
const TMP = process.env.IASO_TMP || '/tmp';
const PASSWORD = process.env.IASO_PASSWORD;
const A = 'reporter@a.example';
const B = 'reporter@b.example';
const ADMIN = 'admin@csirt.example';
const CYBER = 'Ransomware encrypts the PACS';
const VIOLENCE = 'Assault on a nurse in the emergency department';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
  headless: !process.env.HEADED,
});
const context = await browser.newContext({locale: 'en-GB', timezoneId: process.env.TZ || 'Europe/Prague',
  permissions: ['clipboard-read', 'clipboard-write']});
const page = await context.newPage();
page.setDefaultTimeout(5000);
// Script errors and Content-Security-Policy violations: none may happen anywhere.
const problems = [];
page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
page.on('console', (m) => {
  // HTTP errors the tests cause on purpose (401, 404, 400, 429) are logged as "Failed to load
  // resource"; every other error counts, CSP violations first of all
  if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
});

// ---- helpers ----

// SHOTS=DIR saves a full-page screenshot of each view a test names, for looking at the UI.
async function shot(name) {
  if (process.env.SHOTS) await page.screenshot({path: `${process.env.SHOTS}/${name}.png`, fullPage: true});
}

const heading = () => page.locator('main h1');
async function expectHeading(text) {
  await page.locator('main h1', {hasText: text}).waitFor();
}
async function open(hash) {
  await page.goto(`${BASE}/${hash}`);
}
async function login(email, password = PASSWORD) {
  await open('#/login');
  await expectHeading('Log in');
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', password);
  await page.click('button:has-text("Log in")');
}
async function logout() {
  await page.click('#logout');
  await expectHeading('Log in');
}
const focused = () => page.evaluate(() => {
  const e = document.activeElement;
  return e ? `${e.tagName.toLowerCase()}${e.name ? '[name=' + e.name + ']' : ''}` : '';
});
// The error message tied to a control through aria-describedby.
const describedError = (sel) => page.$eval(sel, (el) => (el.getAttribute('aria-describedby') || '')
  .split(' ').map((id) => document.getElementById(id)).filter((x) => x && x.classList.contains('field-error'))
  .map((x) => x.textContent).join(' '));
// A datetime-local value, `hours` ago, in the time zone both node and the browser use.
function localAgo(hours) {
  const d = new Date(Date.now() - hours * 3600e3);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
const incidentId = () => Number((/#\/incidents\/(\d+)/.exec(page.url()) || [])[1]);
// The API from inside the page, with the session's cookie and CSRF token, as another tab would
// use it (to change an incident behind the form's back).
const inPage = (method, path, body) => page.evaluate(async ([method, path, body]) => {
  const me = await (await fetch('/api/v1/me')).json();
  const r = await fetch('/api/v1' + path, {method, body: body && JSON.stringify(body),
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token}});
  return {status: r.status, body: await r.json().catch(() => null)};
}, [method, path, body]);

// What every view must have: one h1, headings without skipped levels, a label for every control,
// unique ids, aria-describedby pointing at existing elements, no inline style.
async function a11y(where) {
  const bad = await page.evaluate(() => {
    const out = [];
    const hs = [...document.querySelectorAll('main h1, main h2, main h3, main h4')].filter((x) => x.offsetParent);
    if (document.querySelectorAll('main h1').length !== 1) out.push('not exactly one h1');
    let prev = 1;
    for (const x of hs) {
      const n = Number(x.tagName[1]);
      if (n > prev + 1) out.push(`heading level skipped at "${x.textContent}"`);
      prev = n;
    }
    for (const c of document.querySelectorAll('input, select, textarea')) {
      if (c.type === 'hidden' || !c.offsetParent) continue;
      if (!(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby')) {
        out.push(`no label: ${c.outerHTML.slice(0, 80)}`);
      }
    }
    const ids = [...document.querySelectorAll('[id]')].map((x) => x.id);
    const dup = ids.filter((x, i) => ids.indexOf(x) !== i);
    if (dup.length) out.push(`duplicate ids: ${dup.join(', ')}`);
    for (const x of document.querySelectorAll('[aria-describedby]')) {
      for (const id of x.getAttribute('aria-describedby').split(' ')) if (id && !document.getElementById(id)) out.push(`aria-describedby to missing #${id}`);
    }
    const styled = document.querySelector('[style]:not([style=""])'); // Chromium leaves style="" on a textarea after a full-page screenshot
    if (styled) out.push('an inline style attribute: ' + styled.outerHTML.slice(0, 120));
    const stray = /\b(null|undefined|NaN)\b|\[object Object\]/.exec(document.querySelector('main').innerText);
    if (stray) out.push(`"${stray[0]}" in the text`);
    return out;
  });
  assert.deepEqual(bad, [], `accessibility problems on ${where}`);
}

// ---- the tests ----

const tests = [];
const test = (name, fn) => tests.push([name, fn]);
const ids = {};

test('login: a wrong password shows an error', async () => {
  await open('');
  await expectHeading('Log in'); // not logged in: the dashboard sends us here
  await a11y('the login view');
  // the focus starts at the view's heading; before it (the navigation is hidden here) comes the
  // skip link, which leads back to the heading
  assert.equal(await focused(), 'h1');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  await page.keyboard.press('Enter');
  assert.equal(await focused(), 'h1');
  await page.fill('input[name="email"]', A);
  await page.fill('input[name="password"]', 'not the password');
  await page.click('button:has-text("Log in")');
  await page.locator('[role="alert"]', {hasText: 'Wrong email or password'}).waitFor();
  assert.equal(await focused(), 'input[name=password]');
});

test('login: too many failures show the wait (429)', async () => {
  // five failures lock an account (src/centre/auth.c); this one exists only to be locked
  for (let i = 0; i < 5; i++) {
    const r = await page.request.post(`${BASE}/api/v1/auth/login`, {data: {email: 'locked@a.example', password: 'wrong'}});
    assert.equal(r.status(), 401);
  }
  await page.fill('input[name="email"]', 'locked@a.example');
  await page.fill('input[name="password"]', 'wrong again');
  await page.click('button:has-text("Log in")');
  await page.locator('[role="alert"]', {hasText: /Too many failed logins\. Try again in 15 minutes, at \d/}).waitFor();
  assert.equal(await page.isDisabled('button:has-text("Log in")'), true, 'no new try before the wait is over');
  await shot('login-429');
  // another account is not locked: typing another email gives the button back
  await page.fill('input[name="email"]', A);
  assert.equal(await page.isDisabled('button:has-text("Log in")'), false);
});

test('login: the right password lands on the dashboard', async () => {
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('button:has-text("Log in")');
  await expectHeading('Dashboard');
  assert.equal(await focused(), 'h1', 'focus moves to the main heading');
  assert.match(await page.textContent('#who'), /Reporter A \(Hospital A, reporter\)/);
  await page.locator('#deadlines, main p:has-text("No NIS2 report is outstanding")').first().waitFor();
  await a11y('the dashboard');
});

test('report: a missing title is caught in the browser and nothing typed is lost', async () => {
  await page.click('nav a:has-text("Report an incident")');
  await expectHeading('Report an incident');
  await page.getByRole('radio', {name: 'Cyber attack'}).check();
  await page.fill('textarea[name="summary"]', 'The PACS is encrypted; radiology works on paper.');
  await page.selectOption('select[name="classification.class"]', 'malicious-code');
  await page.selectOption('select[name="classification.type"]', 'infected-system');
  await page.click('button:has-text("Send the report")');
  assert.match(await describedError('input[name="title"]'), /Required/);
  assert.equal(await page.getAttribute('input[name="title"]', 'aria-invalid'), 'true');
  assert.equal(await focused(), 'input[name=title]');
  assert.equal(await page.inputValue('textarea[name="summary"]'), 'The PACS is encrypted; radiology works on paper.');
  // checks as you type: a too long title, then a good one
  await page.fill('input[name="title"]', 'x'.repeat(201));
  assert.match(await describedError('input[name="title"]'), /Too long/);
  await page.fill('input[name="title"]', CYBER);
  assert.equal(await describedError('input[name="title"]'), '');
  await a11y('the report form (cyber)');
});

test("report: the server's 400 is shown at its field and nothing is lost", async () => {
  // a cyber incident is significant unless said otherwise: the time of awareness is needed
  assert.equal(await page.getByLabel('Significant incident under NIS2').isChecked(), true);
  assert.match(await describedError('input[name="aware_at"]'), /NIS2 deadlines run from it/);
  await page.fill('input[name="occurred_at"]', localAgo(5));
  await page.fill('input[name="aware_at"]', localAgo(4));
  // QQ passes the browser's check (two letters) but is no ISO 3166 country: only the server knows.
  await page.fill('input[name="country"]', 'QQ');
  await page.click('button:has-text("Send the report")');
  await page.locator('.field-error', {hasText: "field 'country'"}).waitFor();
  assert.match(await describedError('input[name="country"]'), /ISO 3166-1/);
  assert.equal(await focused(), 'input[name=country]');
  assert.equal(await page.inputValue('input[name="title"]'), CYBER);
  assert.equal(await page.inputValue('textarea[name="summary"]'), 'The PACS is encrypted; radiology works on paper.');
  assert.equal(await page.inputValue('select[name="classification.type"]'), 'infected-system');
  assert.match(await heading().textContent(), /Report an incident/);
});

test('report: the draft survives a reload', async () => {
  await page.reload();
  await expectHeading('Report an incident');
  await page.locator('.note', {hasText: 'draft was restored'}).waitFor();
  assert.equal(await page.getByRole('radio', {name: 'Cyber attack'}).isChecked(), true);
  assert.equal(await page.inputValue('input[name="title"]'), CYBER);
  assert.equal(await page.inputValue('input[name="country"]'), 'QQ');
  assert.equal(await page.inputValue('select[name="classification.class"]'), 'malicious-code');
  assert.equal(await page.inputValue('select[name="classification.type"]'), 'infected-system');
});

test('report: a cyber incident under NIS2 is accepted and shown', async () => {
  await page.fill('input[name="country"]', 'CZ');
  assert.equal(await page.inputValue('input[name="aware_at"]'), localAgo(4), 'times kept in the draft');
  await page.getByLabel('Significant incident under NIS2').check();
  await page.getByLabel('Imaging').check();
  await page.getByLabel('Emergency department').check();
  await page.fill('input[name="downtime_hours"]', '12,5'); // a decimal comma
  await page.fill('input[name="patients_affected"]', '-3');
  assert.match(await describedError('input[name="patients_affected"]'), /from 0/);
  await page.fill('input[name="patients_affected"]', '340');
  assert.equal(await page.isVisible('input[name="ransom_amount"]'), false, 'ransom fields only when demanded');
  await page.getByLabel('A ransom was demanded').check();
  await page.fill('input[name="ransom_amount"]', '50000');
  await page.fill('input[name="ransom_currency"]', 'eur');
  await page.click('button:has-text("Add an indicator")');
  await page.fill('.indicator-row input >> nth=0', '203.0.113.77');
  await a11y('the report form with everything open');
  await shot('report-cyber');
  await page.click('button:has-text("Send the report")');
  await expectHeading(CYBER);
  ids.cyber = incidentId();
  assert.ok(ids.cyber > 0, 'the address is the incident page');
  await page.locator('#status', {hasText: 'reported'}).waitFor();
  const main = await page.textContent('main');
  for (const want of ['TLP:AMBER', '12.5', 'Imaging', 'Emergency department', '203.0.113.77', 'Infected system', '50000', 'EUR']) {
    assert.ok(main.includes(want), `the incident page shows ${want}`);
  }
  await page.locator('#st-early_warning', {hasText: 'Pending'}).waitFor();
  await a11y('the incident page');
  await shot('incident-new');
});

test('dashboard: the incident and its next NIS2 deadline (24 h from awareness), no request per incident', async () => {
  const perIncident = [];
  const seen = (r) => { if (/\/api\/v1\/incidents\/\d+/.test(r.url())) perIncident.push(r.url()); };
  page.on('request', seen);
  await page.click('nav a:has-text("Dashboard")');
  await expectHeading('Dashboard');
  const rows = page.locator('#deadlines tr').filter({hasText: CYBER});
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1, 'one row per incident: its next report');
  const ew = rows.filter({hasText: 'Early warning'});
  assert.match(await ew.textContent(), /in (19|20) h \d+ min/);
  assert.match(await ew.textContent(), /Pending|Due/);
  // the due time is local with its UTC value kept in <time datetime>
  const dt = await ew.locator('time').getAttribute('datetime');
  const hoursLeft = (new Date(dt) - Date.now()) / 3600e3;
  assert.ok(hoursLeft > 19 && hoursLeft < 20.1, `early warning due in ${hoursLeft} h`);
  await page.locator('main table tr', {hasText: CYBER}).filter({hasText: 'Reported'}).first().waitFor();
  page.off('request', seen);
  assert.deepEqual(perIncident, [], 'the dashboard reads lists only');
  await shot('dashboard');
});

test('incident page: comment, attachment with its SHA-256, status change, early warning sent', async () => {
  await open(`#/incidents/${ids.cyber}`);
  await expectHeading(CYBER);
  assert.match(await page.textContent('#stage-notification'), /in 2 d (19|20) h/, 'notification due 72 h from awareness');
  await page.fill('textarea[name="body"]', 'Backups are intact; restore started.');
  await page.click('button:has-text("Add the comment")');
  await page.locator('.timeline li', {hasText: 'Backups are intact'}).waitFor();

  const content = Buffer.from('ransom note, redacted\n');
  const sha = createHash('sha256').update(content).digest('hex');
  await page.setInputFiles('input[type="file"]', {name: 'note.txt', mimeType: 'text/plain', buffer: content});
  await page.click('button:has-text("Add the attachment")');
  await page.locator('td.hash', {hasText: sha}).waitFor();

  await page.selectOption('select[name="status"]', 'triaged');
  await page.click('button:has-text("Change the status")');
  await page.locator('#h-status + p', {hasText: 'Triaged'}).waitFor();

  await page.click('button:has-text("Record the early warning as sent")');
  await page.selectOption('select[name="suspected_malicious"]', 'true');
  await page.selectOption('select[name="cross_border_possible"]', 'false');
  await page.click('button:has-text("Record the early warning as sent") >> nth=-1');
  await page.locator('#st-early_warning', {hasText: 'Sent'}).waitFor();
  const href = await page.getAttribute('a:has-text("Early warning, printable")', 'href');
  assert.match(href, /\/nis2\/early_warning\/export\?format=html$/);
  await shot('incident-after');
  const res = await page.request.get(BASE + href);
  assert.equal(res.status(), 200, 'the printable export is served');
});

test('edit: change the downtime; only it is sent, and the timeline says so', async () => {
  await open(`#/incidents/${ids.cyber}`);
  await expectHeading(CYBER);
  await page.click('button:has-text("Edit the details")');
  assert.equal(await focused(), 'input[name=title]', 'the focus goes into the form');
  assert.equal(await page.inputValue('input[name="title"]'), CYBER);
  assert.equal(await page.inputValue('input[name="downtime_hours"]'), '12.5');
  assert.equal(await page.inputValue('input[name="ransom_currency"]'), 'EUR');
  assert.equal(await page.inputValue('.indicator-row input >> nth=0'), '203.0.113.77');
  await a11y('the edit form');
  await shot('incident-edit');
  await page.fill('input[name="downtime_hours"]', '14,5');
  const sent = page.waitForRequest((r) => r.method() === 'PATCH');
  await page.click('button:has-text("Save the changes")');
  const body = (await sent).postDataJSON();
  assert.deepEqual(Object.keys(body).sort(), ['downtime_hours', 'version'], 'only the changed field, with the version');
  assert.equal(body.downtime_hours, 14.5);
  await page.locator('#status', {hasText: 'Saved: Downtime (hours)'}).waitFor();
  await page.locator('.timeline li', {hasText: 'Changed: Downtime (hours).'}).waitFor();
  assert.match(await page.textContent('dl.fields'), /14\.5/);
  assert.equal(await page.isVisible('button:has-text("Edit the details")'), true, 'the form is closed');
});

test("edit: the server's 400 is placed at the field error.field names", async () => {
  await page.click('button:has-text("Edit the details")');
  await page.getByLabel('Other countries are affected').check();
  // two letters pass the browser's check; QQ is no ISO 3166 code: only the server knows
  await page.fill('input[name="cross_border_countries"]', 'DE, QQ');
  await page.fill('textarea[name="summary"]', 'Restore from backups is under way.');
  await page.click('button:has-text("Save the changes")');
  assert.match(await describedError('input[name="cross_border_countries"]'), /cross_border_countries' item 1/);
  assert.equal(await focused(), 'input[name=cross_border_countries]');
  await page.locator('main [role="alert"]', {hasText: 'see the message at the field'}).waitFor();
  assert.equal(await page.inputValue('textarea[name="summary"]'), 'Restore from backups is under way.', 'nothing typed is lost');
  await page.click('button:has-text("Cancel")');
  assert.equal(await focused(), 'button', 'the focus returns to the Edit button');
  assert.doesNotMatch(await page.textContent('dl.fields'), /Restore from backups/, 'nothing was saved');
});

test('edit: a conflict (409) keeps the edits and offers the current version', async () => {
  await page.click('button:has-text("Edit the details")');
  await page.fill('input[name="downtime_hours"]', '20');
  // meanwhile someone else changes the incident
  const inc = (await inPage('GET', `/incidents/${ids.cyber}`)).body;
  const other = await inPage('PATCH', `/incidents/${ids.cyber}`, {version: inc.version, procedures_cancelled: 7});
  assert.equal(other.status, 200);
  await page.click('button:has-text("Save the changes")');
  const alert = page.locator('main [role="alert"]', {hasText: 'The incident was changed after you began editing it'});
  await alert.waitFor();
  assert.match(await alert.textContent(), /Changed meanwhile: Procedures cancelled\./);
  assert.equal(await page.inputValue('input[name="downtime_hours"]'), '20', 'the edit is kept');
  await a11y('the edit form after a conflict');
  await shot('incident-edit-409');
  // a reload keeps the edit too
  await page.reload();
  await expectHeading(CYBER);
  assert.equal(await page.inputValue('input[name="downtime_hours"]'), '20');
  await page.click('button:has-text("Save the changes")');
  await alert.waitFor();
  await page.click('button:has-text("Load the current version, keep my changes")');
  await page.locator('#status', {hasText: 'with your changes on it'}).waitFor();
  await page.locator('#edit-note').waitFor();
  assert.equal(await page.inputValue('input[name="downtime_hours"]'), '20');
  assert.equal(await page.inputValue('input[name="procedures_cancelled"]'), '7', "theirs is taken");
  await page.click('button:has-text("Save the changes")');
  await page.locator('#status', {hasText: 'Saved: Downtime (hours)'}).waitFor();
  const now = (await inPage('GET', `/incidents/${ids.cyber}`)).body;
  assert.equal(now.downtime_hours, 20);
  assert.equal(now.procedures_cancelled, 7);
});

test('report: an ended session loses nothing: log in again and the form is back', async () => {
  await open('#/incidents/new');
  await expectHeading('Report an incident');
  await page.getByRole('radio', {name: 'Violence against health care'}).check();
  await page.fill('input[name="title"]', VIOLENCE);
  await page.fill('textarea[name="summary"]', 'A patient\'s relative hit a nurse at triage.');
  await context.clearCookies(); // the session ends (expiry, or logged out elsewhere)
  await page.click('button:has-text("Send the report")');
  assert.match(await page.locator('fieldset:has(legend:has-text("Certainty"))').textContent(), /Required/);
  assert.equal(await focused(), 'input[name=certainty]');
  await page.getByLabel('Confirmed').check();
  await page.click('button:has-text("Send the report")');
  await expectHeading('Log in');
  await page.locator('#status', {hasText: 'session has ended'}).waitFor();
  await page.fill('input[name="email"]', A);
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('button:has-text("Log in")');
  await expectHeading('Report an incident');
  assert.equal(await page.inputValue('input[name="title"]'), VIOLENCE);
  assert.match(await page.inputValue('textarea[name="summary"]'), /hit a nurse/);
  assert.equal(await page.getByLabel('Confirmed').isChecked(), true);
});

test('report: a violence incident appears in the list', async () => {
  await page.locator('.note', {hasText: 'draft was restored'}).waitFor();
  await page.selectOption('select[name="attack_type"]', 'physical-violence-without-weapons');
  await page.selectOption('select[name="perpetrator_type"]', 'patient-or-relative');
  await page.locator('fieldset:has(legend:text-is("Health workers")) input[name="victims.health_workers.injured"]').fill('2');
  await page.fill('input[name="latitude"]', '50.0755');
  await page.click('button:has-text("Send the report")');
  assert.match(await describedError('input[name="longitude"]'), /longitude too/);
  await page.fill('input[name="longitude"]', '14.4378');
  await a11y('the report form (violence)');
  await page.click('button:has-text("Send the report")');
  await expectHeading(VIOLENCE);
  ids.violence = incidentId();
  assert.match(await page.textContent('main'), /Health workers/);
  await page.click('nav a:has-text("Incidents")');
  await expectHeading('Incidents');
  await page.locator('main table a', {hasText: VIOLENCE}).waitFor();
  await page.locator('main table a', {hasText: CYBER}).waitFor();
  await a11y('the incident list');
  await shot('list');
});

test('list: filters go into the address, so a view can be bookmarked', async () => {
  await page.selectOption('select[name="kind"]', 'violence');
  await page.click('button:has-text("Filter")');
  await page.waitForURL(/kind=violence/);
  await page.locator('main table a', {hasText: VIOLENCE}).waitFor();
  assert.equal(await page.locator('main table a', {hasText: CYBER}).count(), 0);
  await page.reload();
  await expectHeading('Incidents');
  assert.equal(await page.inputValue('select[name="kind"]'), 'violence');
  await page.locator('main table a', {hasText: VIOLENCE}).waitFor();
  assert.equal(await page.locator('main table a', {hasText: CYBER}).count(), 0);
  await open('#/incidents?q=Ransomware');
  await page.locator('main table a', {hasText: CYBER}).waitFor();
  assert.equal(await page.locator('main table a', {hasText: VIOLENCE}).count(), 0);
  // the dashboard's filters: open incidents of my organisation
  await open('#/incidents?status=open&scope=own');
  await page.locator('main table a', {hasText: VIOLENCE}).waitFor();
  await page.locator('main table a', {hasText: CYBER}).waitFor();
  assert.equal(await page.inputValue('select[name="scope"]'), 'own');
  assert.equal(await page.inputValue('select[name="status"]'), 'open');
  await open('#/incidents?status=closed');
  await page.locator('main [role="status"]', {hasText: '0 incidents'}).waitFor();
});

test('incident page: the newest 100 events, "Show older events" adds the rest', async () => {
  const made = await inPage('POST', '/incidents', {kind: 'violence', title: 'Long timeline', certainty: 'confirmed',
    attack_type: 'physical-violence-without-weapons', victims: {health_workers: {injured: 1}}});
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.id;
  for (let i = 1; i <= 101; i++) {
    const r = await inPage('POST', `/incidents/${id}/comments`, {body: `Comment number ${i}.`});
    assert.equal(r.status, 201, `comment ${i}: ${JSON.stringify(r.body)}`);
  }
  await open(`#/incidents/${id}`);
  await expectHeading('Long timeline');
  await page.locator('.timeline li', {hasText: 'Comment number 101.'}).waitFor();
  assert.equal(await page.locator('.timeline li').count(), 100, 'the newest 100 events');
  const more = page.locator('button:has-text("Show older events")');
  assert.equal(await more.isVisible(), true, 'the button is offered');
  await a11y('an incident with a long timeline');
  await more.click();
  await page.locator('main [role="status"]', {hasText: 'that is all of them'}).waitFor();
  const n = await page.locator('.timeline li').count();
  assert.ok(n >= 102, `${n} events after the older ones, with the creation`);
  await page.locator('.timeline li', {hasText: 'Comment number 1.'}).waitFor();
  assert.equal(await page.evaluate(() => [...document.querySelectorAll('.timeline li')].indexOf(document.activeElement)), 100,
    'the focus is on the first event added');
  assert.match(await page.textContent('main [role="status"]:has-text("older event")'), /^\d+ older events? shown; that is all of them\.$/);
  assert.equal(await more.isVisible(), false, 'the button is gone');
});

test('tokens: create one, its secret shown once with a copy button; revoke it', async () => {
  await page.click('nav a:has-text("My tokens")');
  await expectHeading('My API tokens');
  await a11y('the tokens view');
  assert.equal(await page.locator('input[name="scopes"][value="admin"]').count(), 0, 'no admin scope for a reporter');
  await page.click('button:has-text("Create the token")');
  assert.match(await describedError('input[name="name"]'), /Required/);
  await page.fill('input[name="name"]', 'SIEM export');
  await page.getByLabel(/^Write/).check();
  await page.selectOption('select[name="expires"]', '30');
  await page.click('button:has-text("Create the token")');
  await page.locator('h2', {hasText: 'Your new token'}).waitFor();
  const secret = await page.inputValue('input.secret');
  assert.match(secret, /^iaso_/);
  assert.equal(await focused(), 'input', 'the focus is on the secret');
  await page.click('button:has-text("Copy the token")');
  await page.locator('[role="status"]', {hasText: 'Copied'}).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  const row = page.locator('main tbody tr', {hasText: 'SIEM export'});
  const prefix = (await row.locator('td.hash').textContent()).replace('…', '');
  assert.ok(secret.startsWith(prefix), 'the list shows its prefix');
  assert.match(await row.textContent(), /read, write/);
  const expires = new Date(await row.locator('td >> nth=4').locator('time').getAttribute('datetime'));
  assert.ok(Math.abs(expires - Date.now() - 30 * 864e5) < 120e3, 'expires in 30 days');
  await a11y('the tokens view with a new token');
  await shot('tokens');
  // it works, and never shows again
  const auth = {headers: {Authorization: `Bearer ${secret}`}};
  const me = await (await fetch(`${BASE}/api/v1/me`, auth)).json();
  assert.equal(me.via, 'token');
  await page.reload();
  await expectHeading('My API tokens');
  await row.waitFor();
  assert.ok(!(await page.textContent('main')).includes(secret), 'the secret is shown once only');
  assert.equal(await page.locator('input.secret').count(), 0);
  await page.click('button:has-text("Revoke SIEM export")');
  await page.click('button:has-text("Yes, revoke SIEM export")');
  await page.locator('#status', {hasText: 'Token SIEM export revoked'}).waitFor();
  assert.match(await row.textContent(), /Revoked/);
  assert.equal((await fetch(`${BASE}/api/v1/me`, auth)).status, 401, 'a revoked token no longer works');
});

test('narrow window (like 200% zoom): no sideways scrolling', async () => {
  await page.setViewportSize({width: 640, height: 800});
  for (const hash of ['#/', '#/incidents', '#/incidents/new', `#/incidents/${ids.cyber}`, '#/tokens']) {
    await open(hash);
    await page.locator('main h1').waitFor();
    await page.waitForLoadState('networkidle');
    await shot('narrow-' + hash.replace(/\W+/g, '_'));
    const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(over <= 1, `${hash} is ${over}px wider than the window`);
  }
  await page.setViewportSize({width: 1280, height: 800});
});

test('logout: back to the login view, pages need a login again', async () => {
  await open('#/');
  await expectHeading('Dashboard');
  await logout();
  await page.locator('#status', {hasText: 'logged out'}).waitFor();
  await open('#/incidents');
  await expectHeading('Log in');
});

test("hospital B sees none of hospital A's AMBER incidents", async () => {
  await login(B);
  await page.waitForFunction(() => !/^(Log in|Iaso centre)$/.test(document.querySelector('main h1').textContent));
  await open('#/');
  await expectHeading('Dashboard');
  await page.locator('#deadlines, main p:has-text("No NIS2 report is outstanding")').first().waitFor();
  let text = await page.textContent('main');
  assert.ok(!text.includes(CYBER) && !text.includes(VIOLENCE), 'not on the dashboard');
  await open('#/incidents');
  await expectHeading('Incidents');
  await page.locator('main [role="status"]').waitFor();
  text = await page.textContent('main');
  assert.ok(!text.includes(CYBER) && !text.includes(VIOLENCE), 'not in the list');
  for (const id of [ids.cyber, ids.violence]) {
    await open(`#/incidents/${id}`);
    await expectHeading('Incident not found');
    assert.match(await page.textContent('main'), /not found/);
  }
  await logout();
});

test("CSIRT: the dashboard shows the constituency's incidents; feedback on a report", async () => {
  await login(ADMIN);
  await expectHeading('Dashboard');
  await page.locator('main', {hasText: 'your constituency'}).waitFor();
  await page.locator('main table a', {hasText: VIOLENCE}).waitFor();
  await page.locator('#deadlines tr', {hasText: 'Incident notification'}).filter({hasText: CYBER}).waitFor();
  await open(`#/incidents/${ids.cyber}`);
  await expectHeading(CYBER);
  assert.match(await page.textContent('main'), /Ransom amount/, 'the CSIRT sees restricted fields');
  await page.click('button:has-text("Give feedback on the early warning")');
  await page.fill('textarea[name="feedback"]', 'Received. Isolate the PACS VLAN; we send indicators.');
  await page.click('button:has-text("Send the feedback")');
  await page.locator('#stage-early_warning', {hasText: 'Isolate the PACS VLAN'}).waitFor();
  await a11y('the incident page as the CSIRT');
  await shot('incident-csirt');
});

test('admin: the centre admin creates an organisation and a user', async () => {
  await page.click('nav a:has-text("My tokens")');
  await page.getByLabel(/^Admin/).waitFor(); // the admin scope is offered to admins
  await page.click('nav a:has-text("Organisations")');
  await expectHeading('Organisations');
  await a11y('the organisations view');
  const form = page.locator('form:has(button:has-text("Create organisation"))');
  await form.locator('input[name="name"]').fill('Hospital C');
  await form.locator('select[name="kind"]').selectOption('hospital');
  await form.locator('input[name="country"]').fill('cz');
  await form.locator('input[name="region"]').fill('Plzeň');
  await form.locator('select[name="csirt_id"]').selectOption({label: 'CSIRT'});
  await form.locator('button[type="submit"]').click();
  await page.locator('#status', {hasText: 'Hospital C created'}).waitFor();
  const row = page.locator('main tbody tr', {hasText: 'Hospital C'});
  assert.match(await row.textContent(), /Plzeň.*CSIRT/);
  await shot('orgs');

  await page.click('nav a:has-text("Users")');
  await expectHeading('Users');
  await page.getByLabel('Organisation').selectOption({label: 'Hospital C'});
  await page.click('button:has-text("Show users")');
  await page.waitForURL(/org_id=\d+/);
  await page.locator('main h2', {hasText: 'Users of Hospital C'}).waitFor();
  await a11y('the users view');
  await shot('users');
  const uf = page.locator('form:has(button:has-text("Create user"))');
  await uf.locator('input[name="email"]').fill('it@c.example');
  await uf.locator('input[name="name"]').fill('IT of C');
  await uf.locator('select[name="role"]').selectOption('reporter');
  await uf.locator('input[name="password"]').fill('short');
  await uf.locator('button[type="submit"]').click();
  assert.match(await describedError('form:has(button:has-text("Create user")) input[name="password"]'), /12 characters/);
  await uf.locator('input[name="password"]').fill(PASSWORD);
  await uf.locator('button[type="submit"]').click();
  await page.locator('#status', {hasText: 'it@c.example created'}).waitFor();
  const urow = page.locator('main tbody tr', {hasText: 'it@c.example'});
  await urow.locator('select').selectOption('analyst');
  await urow.locator('button:has-text("Change role")').click();
  await page.locator('#status', {hasText: 'changed to analyst'}).waitFor();
  await page.click('button:has-text("Disable it@c.example")');
  await page.locator('main tbody tr', {hasText: 'it@c.example'}).filter({hasText: 'Disabled'}).waitFor();
  await logout();
});

test("report: the form's choices and bounds are the server's (GET /vocabulary)", async () => {
  // a tab of its own whose /api/v1/vocabulary is changed on the way: a care service more, a
  // lower maximum for the title; then one where it fails, which must say so instead of a form
  const ctx = await browser.newContext({locale: 'en-GB', timezoneId: process.env.TZ || 'Europe/Prague'});
  const p = await ctx.newPage();
  p.setDefaultTimeout(5000);
  p.on('pageerror', (e) => problems.push(`script error (vocabulary test): ${e.message}`));
  let fail = false;
  await p.route('**/api/v1/vocabulary', async (route) => {
    if (fail) return route.fulfill({status: 503, contentType: 'application/json',
      body: JSON.stringify({error: {code: 'unavailable', message: 'Try again later.'}})});
    const res = await route.fetch();
    const v = await res.json();
    const find = (g, n) => v.fields[g].find((f) => f.name === n);
    find('cyber', 'care_services_disrupted').choices.push('hyperbaric-medicine');
    find('common', 'title').max = 20;
    await route.fulfill({response: res, json: v});
  });
  try {
    await p.goto(`${BASE}/#/login`);
    await p.fill('input[name="email"]', A);
    await p.fill('input[name="password"]', PASSWORD);
    await p.click('button:has-text("Log in")');
    await p.locator('main h1', {hasText: 'Dashboard'}).waitFor();
    await p.goto(`${BASE}/#/incidents/new`);
    await p.locator('main h1', {hasText: 'Report an incident'}).waitFor();
    await p.getByRole('radio', {name: 'Cyber attack'}).check();
    const box = p.locator('input[name="care_services_disrupted"][value="hyperbaric-medicine"]');
    assert.equal(await box.count(), 1, 'the added care service is offered');
    assert.equal(await p.getByLabel('Hyperbaric medicine').count(), 1, 'labelled by its readable name');
    await p.fill('input[name="title"]', 'x'.repeat(21));
    assert.match(await p.$eval('input[name="title"]', (el) => document.getElementById(el.getAttribute('aria-describedby')
      .split(' ').find((id) => document.getElementById(id).classList.contains('field-error'))).textContent), /at most 20 bytes/);
    // a new page load asks again; when the vocabulary cannot be had, a clear error, no form
    fail = true;
    await p.reload();
    await p.locator('main h1', {hasText: 'lists of values could not be loaded'}).waitFor();
    await p.locator('main [role="alert"]', {hasText: 'Try again later.'}).waitFor();
    assert.equal(await p.locator('main form').count(), 0);
  } finally {
    await ctx.close();
  }
});

test('no script errors and no Content-Security-Policy violations', async () => {
  assert.deepEqual(problems, []);
});

// ---- run ----

let failed = 0;
for (const [name, fn] of tests) {
  try {
    await fn();
    console.log(`PASS: ${name}`);
  } catch (e) {
    failed++;
    const shot = `${TMP}/fail-${tests.findIndex((t) => t[0] === name) + 1}.png`;
    await page.screenshot({path: shot, fullPage: true}).catch(() => {});
    console.log(`FAIL: ${name}\n  ${String(e.message || e).split('\n').join('\n  ')}\n  at ${page.url()}\n  screenshot: ${shot}`);
  }
}
await browser.close();
process.exit(failed ? 1 : 0);
