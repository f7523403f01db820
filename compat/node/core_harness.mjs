// Shared plumbing of the CORE scripts (`client_core.mjs`, `client_core_secured.mjs`):
// `@chatkitty/core` unchanged in Node, with `ws` as the global WebSocket, tapped so that every
// STOMP frame in and out is kept per socket; named checks with a timeout each; inboxes for the
// SDK's callbacks.
//
// PALAVER_COMPAT_STOMP_DEBUG=1 prints every raw frame each socket sends and receives (=2 also
// turns on the SDK's own stompjs debug log). PALAVER_COMPAT_WAIT_MS sets the per-check timeout
// (default 10000).

export const WAIT = Number(process.env.PALAVER_COMPAT_WAIT_MS) || 10_000;
// Waits inside a check end a little before the check's own timeout, to report what they saw.
export const INNER = Math.max(WAIT - 1500, Math.floor(WAIT / 2));
export const DEBUG = process.env.PALAVER_COMPAT_STOMP_DEBUG || '';
if (DEBUG === '2') process.env.BUILD_STOMPX_DEBUG = 'true'; // read by the SDK's stompjs debug hook

/** The SDK's hidden `$environment` option for the server at `base`: `host` is host:port, no
 * scheme; the SDK derives ws[s]:// and http[s]:// from it. */
export function environmentOf(base) {
  const url = new URL(base);
  return { host: url.host, secure: url.protocol === 'https:' };
}

/** Whatever happens, the script ends: fails it after `ms`. */
export function watchdog(ms) {
  const timer = setTimeout(() => {
    console.log('FAIL watchdog: the script did not finish in time');
    process.exit(1);
  }, ms);
  timer.unref();
}

process.on('unhandledRejection', (e) => {
  console.log(`     (unhandled rejection: ${(e && e.stack) || JSON.stringify(e)})`);
});

// ---------------------------------------------------------------------------------------------
// The WebSocket the SDK gets: `ws`, tapped. Every STOMP frame in and out is parsed and kept per
// socket (the checks wait on the server's RECEIPTs with it), and printed when debugging.

const { default: WS } = await import('ws');

/** Splits one WebSocket message into STOMP frames; a lone EOL is a heart-beat. */
function parseFrames(text) {
  const frames = [];
  for (let chunk of text.split('\0')) {
    const start = chunk.search(/[^\r\n]/);
    if (start === -1) {
      if (chunk.length > 0) frames.push({ command: 'HEARTBEAT', headers: {}, body: '' });
      continue;
    }
    chunk = chunk.slice(start);
    const sep = chunk.search(/\r?\n\r?\n/);
    const head = sep === -1 ? chunk : chunk.slice(0, sep);
    const body = sep === -1 ? '' : chunk.slice(sep).replace(/^\r?\n\r?\n/, '');
    const [command, ...lines] = head.split(/\r?\n/);
    const headers = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const k = unescapeHeader(line.slice(0, i));
      // STOMP 1.2: the first occurrence of a repeated header wins.
      if (!(k in headers)) headers[k] = unescapeHeader(line.slice(i + 1));
    }
    frames.push({ command, headers, body });
  }
  return frames;
}

function unescapeHeader(s) {
  return s.replace(/\\([nrc\\])/g, (_, c) => ({ n: '\n', r: '\r', c: ':', '\\': '\\' })[c]);
}

function asText(data) {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  if (ArrayBuffer.isView(data)) {
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  }
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return String(data);
}

export const sockets = [];

class TappedWebSocket extends WS {
  constructor(url, protocols, options) {
    super(url, protocols, options);
    this.tap = { n: sockets.length + 1, user: undefined, sent: [], received: [] };
    sockets.push(this.tap);
    this.log(`open ${url} (subprotocols ${JSON.stringify(protocols)})`);
    // Registered before the SDK sets `onmessage`, so the tap sees a frame before the SDK does.
    this.addEventListener('message', (ev) => this.record('<<<', this.tap.received, ev.data));
    this.addEventListener('open', () => this.log(`connected, subprotocol "${this.protocol}"`));
    this.addEventListener('close', (ev) => this.log(`closed ${ev.code} ${ev.reason || ''}`));
    this.addEventListener('error', (ev) => this.log(`error ${ev.message || ev.error || ''}`));
  }

  send(data, ...rest) {
    this.record('>>>', this.tap.sent, data);
    return super.send(data, ...rest);
  }

  record(dir, into, data) {
    const frames = parseFrames(asText(data));
    for (const f of frames) {
      if (f.command === 'CONNECT' || f.command === 'STOMP') this.tap.user = f.headers['StompX-User'];
      into.push(f);
      if (DEBUG) this.log(f.command === 'HEARTBEAT' ? `${dir} (heart-beat)` : `${dir} ${render(f)}`);
    }
  }

  log(what) {
    if (DEBUG) console.log(`[stomp ws#${this.tap.n}${this.tap.user ? ` ${this.tap.user}` : ''}] ${what}`);
  }
}

function render(f) {
  const body = f.body.length > 4000 ? `${f.body.slice(0, 4000)}... (${f.body.length} chars)` : f.body;
  const lines = [f.command, ...Object.entries(f.headers).map(([k, v]) => `${k}:${v}`)];
  if (body) lines.push('', body);
  return lines.join('\n    ');
}

globalThis.WebSocket = TappedWebSocket;

// The SDK prints every WebSocket error event as is (`console.error(event)`), which for `ws` is a
// dump of the whole socket; shorten those to their message.
const consoleError = console.error.bind(console);
console.error = (...args) =>
  consoleError(
    ...args.map((a) =>
      a && typeof a === 'object' && a.type === 'error' && 'target' in a
        ? `[sdk] WebSocket error: ${a.message || a.error || 'unknown'}`
        : a,
    ),
  );

export const core = await import('@chatkitty/core');

// ---------------------------------------------------------------------------------------------
// Helpers.

/** Settles with `promise`, or rejects after `ms` naming what was awaited. */
export function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(Object.assign(new Error(`timed out after ${ms / 1000} s: ${what}`), { brief: true }));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The SDK's failures are plain objects (`{error, message}`) or its own non-Error classes. */
export function toError(e) {
  if (e instanceof Error) return e;
  return Object.assign(new Error(`SDK error: ${JSON.stringify(e)}`), { brief: true });
}

/** `check(name, fn)` of `suite`: a named check whose body must finish within WAIT. */
export function checker(suite) {
  return (name, fn) =>
    suite.check(name, async () => {
      try {
        await within(WAIT, name, Promise.resolve().then(fn));
      } catch (e) {
        const err = toError(e);
        // Assertions and timeouts say all there is to say: no stack for them.
        if (err.name === 'AssertionError' || err.brief) err.stack = `${err.name}: ${err.message}`;
        throw err;
      }
    });
}

/** A `ChatKittySucceededResult`, or an error carrying the failed result's `error`. */
export function succeeded(result, what) {
  if (result && result.succeeded === true) return result;
  const err = result?.error;
  const detail = err instanceof Error ? err.stack : JSON.stringify(err ?? result);
  throw Object.assign(new Error(`${what} failed: ${detail}`), { brief: true });
}

/** Items pushed by SDK callbacks; `next(pred)` resolves with the first match, past or future. */
export class Inbox {
  constructor() {
    this.items = [];
    this.waiters = [];
  }

  push(item) {
    this.items.push(item);
    for (const w of [...this.waiters]) {
      if (w.pred(item)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(item);
      }
    }
  }

  next(pred, what) {
    const seen = this.items.find(pred);
    if (seen) return Promise.resolve(seen);
    return within(
      INNER,
      what,
      new Promise((resolve) => this.waiters.push({ pred, resolve })),
    ).catch((e) => {
      e.message += ` (got ${this.items.length} other: ${JSON.stringify(this.items.map(brief))})`;
      throw e;
    });
  }
}

export function brief(x) {
  if (!x || typeof x !== 'object') return x;
  const { _relays, _topics, _actions, _streams, ...rest } = x;
  return rest;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** The newest socket of a user (by the CONNECT frame's `StompX-User`). */
export function socketOf(username) {
  return [...sockets].reverse().find((s) => s.user === username);
}

/**
 * Resolves when `username`'s client has sent SUBSCRIBE for `destination` and the server has
 * answered its `receipt` with a RECEIPT: only then is the subscription known to be in place.
 */
export async function subscribed(username, destination, deadline) {
  for (;;) {
    const s = socketOf(username);
    const sub = s?.sent.find((f) => f.command === 'SUBSCRIBE' && f.headers.destination === destination);
    const receipt = sub?.headers.receipt;
    const answered = (f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === receipt;
    if (receipt && s.received.some(answered)) return;
    if (Date.now() > deadline) {
      throw new Error(
        !sub
          ? `${username} never sent SUBSCRIBE ${destination}`
          : `no RECEIPT for ${username}'s SUBSCRIBE ${destination} (receipt ${receipt})`,
      );
    }
    await sleep(20);
  }
}
