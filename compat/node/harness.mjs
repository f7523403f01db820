// Shared plumbing of the client scripts: arguments, named checks, a summary line, and helpers
// for the axios errors the official clients reject with.

import assert from 'node:assert/strict';

/** `node script.mjs BASE_URL CLIENT_ID CLIENT_SECRET`, or the PALAVER_COMPAT_* environment. */
export function settings() {
  const [base, clientId, clientSecret] = process.argv.slice(2);
  const s = {
    base: (base || process.env.PALAVER_COMPAT_BASE_URL || '').replace(/\/+$/, ''),
    clientId: clientId || process.env.PALAVER_COMPAT_CLIENT_ID,
    clientSecret: clientSecret || process.env.PALAVER_COMPAT_CLIENT_SECRET,
  };
  if (!s.base || !s.clientId || !s.clientSecret) {
    console.error('usage: node <script> BASE_URL CLIENT_ID CLIENT_SECRET');
    console.error('   or: PALAVER_COMPAT_BASE_URL, PALAVER_COMPAT_CLIENT_ID, PALAVER_COMPAT_CLIENT_SECRET');
    process.exit(2);
  }
  return s;
}

/** A short tag that keeps names unique when a script runs twice against one server. */
export const run = Date.now().toString(36) + Math.floor(Math.random() * 1296).toString(36);

export class Suite {
  constructor(label) {
    this.label = label;
    this.passed = 0;
    this.failed = 0;
  }

  /** Runs one named check; a failure is reported and counted, and the suite goes on. */
  async check(name, fn) {
    try {
      await fn();
      this.passed += 1;
      console.log(`ok   ${name}`);
    } catch (e) {
      this.failed += 1;
      console.log(`FAIL ${name}`);
      console.log(indent(describe(e)));
    }
  }

  /** Prints the summary line and exits non-zero when anything failed. */
  finish() {
    console.log(`${this.label}: ${this.passed} passed, ${this.failed} failed`);
    process.exit(this.failed === 0 && this.passed > 0 ? 0 : 1);
  }
}

function describe(e) {
  if (e && e.isAxiosError) {
    const r = e.response;
    const req = e.config ? `${(e.config.method || '').toUpperCase()} ${e.config.url}` : '';
    return r
      ? `HTTP ${r.status} from ${req}: ${JSON.stringify(r.data)}`
      : `${e.message} (${req})`;
  }
  return (e && e.stack) || String(e);
}

function indent(s) {
  return s
    .split('\n')
    .map((l) => `     ${l}`)
    .join('\n');
}

/** Awaits a promise that must reject with an HTTP error; returns the axios response. */
export async function rejects(promise, status) {
  let res;
  try {
    res = await promise;
  } catch (e) {
    if (!e || !e.response) throw e;
    if (status !== undefined) {
      assert.equal(e.response.status, status, `status: ${JSON.stringify(e.response.data)}`);
    }
    return e.response;
  }
  assert.fail(`expected HTTP ${status ?? 'error'}, got ${res.status}: ${JSON.stringify(res.data)}`);
}

/** The platform's error body: `{error, message, timestamp}` with a parseable timestamp. */
export function assertApiError(body) {
  assert.equal(typeof body, 'object', `error body: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error, 'string', `error: ${JSON.stringify(body)}`);
  assert.ok(body.error.length > 0);
  assert.equal(typeof body.message, 'string', `message: ${JSON.stringify(body)}`);
  assert.equal(typeof body.timestamp, 'string', `timestamp: ${JSON.stringify(body)}`);
  assert.ok(!Number.isNaN(Date.parse(body.timestamp)), `timestamp parses: ${body.timestamp}`);
}

/** The OAuth error body: `{error, error_description}`. */
export function assertOAuthError(body) {
  assert.equal(typeof body, 'object', `error body: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error, 'string', `error: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error_description, 'string', `error_description: ${JSON.stringify(body)}`);
}

export function assertIsoTime(v, what) {
  assert.equal(typeof v, 'string', `${what} is a string`);
  assert.match(v, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, `${what} is ISO-8601`);
  assert.ok(!Number.isNaN(Date.parse(v)), `${what} parses`);
}

/** A HAL `_links` map (not an array) with a `self` href. */
export function assertLinks(links, what) {
  assert.ok(links && typeof links === 'object' && !Array.isArray(links), `${what}: _links is a map`);
  assert.equal(typeof links.self?.href, 'string', `${what}: _links.self.href`);
}

/** The cursor a `_links.next.href` carries: `size`, `start`, `next`, `relation`. */
export function cursorOf(base, href) {
  assert.ok(href.startsWith(base), `${href} is under ${base}`);
  const q = new URL(href).searchParams;
  const num = (k) => {
    if (!q.has(k)) return undefined;
    const v = Number(q.get(k));
    assert.ok(Number.isSafeInteger(v) && v >= 0, `${k}=${q.get(k)} is a safe integer`);
    return v;
  };
  return { size: num('size'), start: num('start'), next: num('next'), relation: q.get('relation') };
}

/**
 * Walks a cursor listing of the server at `base`: `fetch(size, start, next, relation)` is one
 * client call. Follows `_links.next.href` until a page has none; returns the pages' items.
 */
export async function traverse(base, fetch, size, name = 'messages') {
  const pages = [];
  let data = (await fetch(size, undefined, undefined, undefined)).data;
  for (;;) {
    assert.equal(typeof data.page, 'object', 'page metadata');
    assert.equal(data.page.size, size, 'page.size');
    assertLinks(data._links, `cursor page ${pages.length}`);
    const items = data._embedded?.[name] ?? [];
    assert.ok(items.length <= size, `page ${pages.length} holds ${items.length} > ${size}`);
    pages.push(items);
    const next = data._links.next?.href;
    if (!next) break;
    const c = cursorOf(base, next);
    assert.equal(c.relation, 'NEXT', `relation in ${next}`);
    assert.equal(c.size, size, `size in ${next}`);
    assert.ok(c.next !== undefined, `next in ${next}`);
    assert.ok(pages.length < 200, 'the traversal ends');
    data = (await fetch(c.size, c.start, c.next, c.relation)).data;
  }
  return pages;
}

export { assert };
