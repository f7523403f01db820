// The API explorer at /docs, driven as a person would in headless Chromium: both faces'
// operations are listed (switching the selector), a platform token is obtained through the
// Authorize dialog (client credentials) and a content token through "Try it out" on the login
// operation, and a request of each face answers 401 before and 200 after authorising. The page
// must load nothing from outside the server.
//
// Usage: node explorer.mjs BASE_URL CLIENT_ID CLIENT_SECRET EMAIL PASSWORD
// (or PALAVER_BROWSER_BASE_URL, _CLIENT_ID, _CLIENT_SECRET, _EMAIL, _PASSWORD). Chromium is
// /usr/bin/chromium unless PALAVER_BROWSER_CHROMIUM names another; PALAVER_BROWSER_ARTIFACTS
// names a folder for a screenshot and the HTML of the page when a check fails; each wait for the
// page is at most PALAVER_BROWSER_WAIT_MS (30 s).
// Prints one line per check and ends with `browser explorer: N passed, M failed`.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const LABEL = 'browser explorer';
const env = (name) => process.env[`PALAVER_BROWSER_${name}`];
const [base, clientId, clientSecret, email, password] = [
  process.argv[2] ?? env('BASE_URL'),
  process.argv[3] ?? env('CLIENT_ID'),
  process.argv[4] ?? env('CLIENT_SECRET'),
  process.argv[5] ?? env('EMAIL'),
  process.argv[6] ?? env('PASSWORD'),
];
if (!base || !clientId || !clientSecret || !email || !password) {
  console.error('usage: node explorer.mjs BASE_URL CLIENT_ID CLIENT_SECRET EMAIL PASSWORD');
  process.exit(2);
}
const origin = new URL(base).origin;
// Each wait is for something the page shows; a page that never shows it fails the check.
const WAIT_MS = Number(process.env.PALAVER_BROWSER_WAIT_MS ?? 30000);

let passed = 0;
let failed = 0;
let skipping = false;

const browser = await chromium.launch({
  executablePath: env('CHROMIUM') ?? '/usr/bin/chromium',
});
const page = await browser.newPage();
page.setDefaultTimeout(WAIT_MS);

// Every request the page makes, to prove it reaches nothing but this server.
const outside = [];
let requests = 0;
page.on('request', (r) => {
  requests++;
  const url = new URL(r.url());
  if (url.protocol === 'data:' || url.protocol === 'blob:') return;
  if (url.origin !== origin) outside.push(`${r.method()} ${r.url()}`);
});
const consoleErrors = [];
page.on('console', (m) => {
  if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url})`);
});

/** Runs one check; after a failure the later checks (which build on it) are skipped. */
async function check(name, fn) {
  if (skipping) {
    console.log(`skip - ${name}`);
    return;
  }
  try {
    const detail = await fn();
    passed++;
    console.log(`ok - ${name}${detail ? ` (${detail})` : ''}`);
  } catch (e) {
    failed++;
    skipping = true;
    console.log(`FAIL - ${name}: ${e?.message ?? e}`);
    const dir = env('ARTIFACTS');
    if (dir) {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'explorer-failure');
      await page.screenshot({ path: `${file}.png` }).catch(() => {});
      writeFileSync(`${file}.html`, await page.content().catch((e) => String(e)));
      console.log(`     the page as it was: ${file}.png, ${file}.html`);
    }
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** The operation block of `method` at exactly `path` (as the document writes it). */
function operation(method, path) {
  return page
    .locator(`.opblock.opblock-${method.toLowerCase()}`)
    .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) })
    .first();
}

/** The selector's entries and the documents they show. */
const DOCUMENTS = { 'Platform API': '/openapi.json', 'Content API': '/api/openapi.json' };

/** Shows the named document and waits until the page shows it (its own title, read from the
 * document, and operations): until then the previous document's operations are still listed. */
async function selectDocument(name) {
  const doc = await (await fetch(`${base}${DOCUMENTS[name]}`)).json();
  await page.locator('.topbar select').selectOption({ label: name });
  await page.waitForFunction(
    (title) =>
      document.querySelector('.info .title')?.textContent?.startsWith(title) &&
      document.querySelector('.opblock') !== null,
    doc.info.title,
  );
}

/** The operations listed now, as `METHOD path`. */
async function listed() {
  return page.locator('.opblock-summary').evaluateAll((blocks) =>
    blocks.map((b) => {
      const method = b.querySelector('.opblock-summary-method')?.textContent?.trim();
      const path = b.querySelector('.opblock-summary-path')?.getAttribute('data-path');
      return `${method} ${path}`;
    }),
  );
}

/** Opens an operation, turns on "Try it out", fills its path parameters and JSON body (when
 * given), executes it and answers the status and body shown as the server's response. */
async function execute(op, { params = {}, body } = {}) {
  if (!(await op.locator('.opblock-body').isVisible())) {
    await op.locator('.opblock-summary').first().click();
  }
  const tryOut = op.locator('button.try-out__btn');
  if ((await tryOut.innerText()).trim() === 'Try it out') await tryOut.click();
  for (const [name, value] of Object.entries(params)) {
    await op.locator(`tr[data-param-name="${name}"][data-param-in="path"] input`).fill(value);
  }
  if (body !== undefined) await op.locator('textarea.body-param__text').fill(JSON.stringify(body));
  // A response shown by an earlier run is cleared first, so the one read is this run's.
  const clear = op.locator('button.btn-clear');
  if (await clear.isVisible()) await clear.click();
  await op.locator('button.execute').click();
  const row = op.locator('.live-responses-table tbody tr.response').first();
  await row.waitFor();
  const status = (await row.locator('.response-col_status').innerText()).trim();
  const shown = row.locator('.response-col_description pre').first();
  const text = (await shown.count()) ? await shown.innerText() : '';
  return { status, text };
}

/** The Authorize dialog's block for one security scheme. */
async function openAuthorize(scheme) {
  await page.locator('.scheme-container button.authorize').click();
  const block = page.locator('.modal-ux .auth-container').filter({ hasText: scheme }).first();
  await block.waitFor();
  return block;
}

/** The dialog's Logout button, shown once a scheme is authorised. */
function logout(block) {
  return block.locator('button', { hasText: 'Logout' });
}

async function closeAuthorize() {
  await page.locator('.modal-ux .close-modal').click();
  await page.locator('.modal-ux').waitFor({ state: 'detached' });
}

let platformOps = [];
let contentOps = [];
let contentToken = '';
let accountId = '';

await check('GET / is the landing page linking to the explorer', async () => {
  const res = await page.goto(`${base}/`);
  assert(res.status() === 200, `status ${res.status()}`);
  await page.locator('a[href="/docs/"]').click();
  await page.waitForURL(`${origin}/docs/**`);
  return page.url();
});

await check('/docs shows the platform API first', async () => {
  await page.locator('.topbar select').waitFor();
  const options = await page.locator('.topbar select option').allInnerTexts();
  assert(
    JSON.stringify(options) === JSON.stringify(['Platform API', 'Content API']),
    `selector offers ${JSON.stringify(options)}`,
  );
  await page.locator('.opblock').first().waitFor();
  const selected = await page.locator('.topbar select').evaluate((s) => s.selectedOptions[0].text);
  assert(selected === 'Platform API', `selected ${selected}`);
  platformOps = await listed();
  assert(platformOps.includes('GET /application'), `no GET /application in ${platformOps}`);
  assert(platformOps.includes('POST /oauth/token'), `no POST /oauth/token in ${platformOps}`);
  return `${platformOps.length} operations`;
});

await check('the selector switches to the content API and back', async () => {
  await selectDocument('Content API');
  contentOps = await listed();
  assert(contentOps.includes('POST /users/login'), `no POST /users/login in ${contentOps}`);
  assert(contentOps.includes('GET /users/{id}'), `no GET /users/{id} in ${contentOps}`);
  assert(!contentOps.includes('GET /application'), 'the platform operations are still listed');
  await selectDocument('Platform API');
  const again = await listed();
  assert(again.includes('GET /application'), 'the platform operations did not come back');
  return `${contentOps.length} operations`;
});

await check('platform: GET /application without a token answers 401', async () => {
  const { status } = await execute(operation('GET', '/application'));
  assert(status === '401', `status ${status}`);
});

await check('platform: Authorize with a wrong client secret is refused', async () => {
  const block = await openAuthorize('clientCredentials');
  await block.locator('input[data-name="clientId"]').fill(clientId);
  await block.locator('input[data-name="clientSecret"]').fill(`${clientSecret}-wrong`);
  await block.locator('button.authorize').click();
  const error = block.locator('.errors');
  await error.waitFor();
  const text = await error.innerText();
  assert(/invalid_client|401|unauthori/i.test(text), `error shown: ${text}`);
  assert(!(await logout(block).isVisible()), 'authorised anyway');
  await closeAuthorize();
  return text.replace(/\s+/g, ' ').trim();
});

await check('platform: Authorize obtains a token with the client credentials', async () => {
  // A fresh page state: the failed attempt's error should not linger in the form.
  await page.reload();
  await page.locator('.opblock').first().waitFor();
  const tokenCall = page.waitForResponse(
    (r) => r.url() === `${origin}/oauth/token` && r.request().method() === 'POST',
  );
  const block = await openAuthorize('clientCredentials');
  await block.locator('input[data-name="clientId"]').fill(clientId);
  await block.locator('input[data-name="clientSecret"]').fill(clientSecret);
  await block.locator('button.authorize').click();
  const res = await tokenCall;
  assert(res.status() === 200, `POST /oauth/token answered ${res.status()}`);
  await logout(block).waitFor();
  await closeAuthorize();
  const sent = res.request().headers().authorization ?? '(form fields)';
  return `client authenticated by ${sent.split(' ')[0]}`;
});

await check('platform: GET /application with the token answers 200', async () => {
  const { status, text } = await execute(operation('GET', '/application'));
  assert(status === '200', `status ${status}: ${text}`);
  const body = JSON.parse(text);
  assert(body.id !== undefined, `no id in ${text}`);
  return `application ${body.id}`;
});

await check('content: POST /users/login through "Try it out" answers a token', async () => {
  await selectDocument('Content API');
  const login = operation('POST', '/users/login');
  const { status, text } = await execute(login, { body: { email, password } });
  assert(status === '200', `status ${status}: ${text}`);
  const answer = JSON.parse(text);
  contentToken = answer.id;
  accountId = answer.userId;
  assert(typeof contentToken === 'string' && contentToken.length > 0, `no id in ${text}`);
  assert(typeof accountId === 'string' && accountId.length > 0, `no userId in ${text}`);
});

await check('content: GET /users/{id} without a token answers 401', async () => {
  const { status } = await execute(operation('GET', '/users/{id}'), { params: { id: accountId } });
  assert(status === '401', `status ${status}`);
});

await check('content: Authorize with the token as KTL-Access-Token', async () => {
  const block = await openAuthorize('KTL-Access-Token');
  await block.locator('input[type="text"]').fill(contentToken);
  await block.locator('button.authorize').click();
  await logout(block).waitFor();
  await closeAuthorize();
});

await check('content: GET /users/{id} with the token answers 200', async () => {
  const { status, text } = await execute(operation('GET', '/users/{id}'), {
    params: { id: accountId },
  });
  assert(status === '200', `status ${status}: ${text}`);
  const account = JSON.parse(text);
  assert(account.email === email, `not ${email}: ${text}`);
  return account.email;
});

skipping = false;
await check('the page loaded nothing from outside the server', async () => {
  assert(requests > 0, 'no request was seen at all');
  assert(outside.length === 0, `outside requests: ${outside.join(', ')}`);
  return `${requests} requests, all to ${origin}`;
});

await browser.close();
if (consoleErrors.length) {
  console.log(`console errors (for information):\n  ${consoleErrors.join('\n  ')}`);
}
console.log(`${LABEL}: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
