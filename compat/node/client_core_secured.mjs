// Client CORE, secured sessions: npm `@chatkitty/core@2.106.2` unchanged, against an application
// whose guest users are DISABLED and whose `user.attempted.start_session` chat function decides
// who may start a session: it checks the password a client sends in `authParams` against the
// user's `password` secret through `context.getUserApi()`, and names the user on the way.
//
//   node client_core_secured.mjs http://127.0.0.1:8080 API_KEY CLIENT_ID CLIENT_SECRET
//
// The script sets the application up itself over REST with the client credentials (guest users
// off, two users, a password secret, the function), so it changes the application's settings:
// run it against a server of its own, not while `client_core.mjs` runs there. Then one user,
// through `getSdkClient(key, {$environment})` (one client per api key, retried after each
// refusal, as a login form does) and `connectApi`: refusals without a function, with a wrong or
// no password and for an unknown username, then a session with the right password that sends
// and receives messages; last, the function's invocations.
//
// PALAVER_COMPAT_STOMP_DEBUG and PALAVER_COMPAT_WAIT_MS as in `client_core.mjs`.

import { assert, run, Suite } from './harness.mjs';
import {
  brief,
  checker,
  core,
  environmentOf,
  Inbox,
  INNER,
  subscribed,
  succeeded,
  WAIT,
  watchdog,
  within,
} from './core_harness.mjs';

const [baseArg, keyArg, clientIdArg, clientSecretArg] = process.argv.slice(2);
const cfg = {
  base: (baseArg || process.env.PALAVER_COMPAT_BASE_URL || '').replace(/\/+$/, ''),
  apiKey: keyArg || process.env.PALAVER_COMPAT_API_KEY,
  clientId: clientIdArg || process.env.PALAVER_COMPAT_CLIENT_ID,
  clientSecret: clientSecretArg || process.env.PALAVER_COMPAT_CLIENT_SECRET,
};
if (!cfg.base || !cfg.apiKey || !cfg.clientId || !cfg.clientSecret) {
  console.error('usage: node client_core_secured.mjs BASE_URL API_KEY CLIENT_ID CLIENT_SECRET');
  console.error('   or: PALAVER_COMPAT_BASE_URL, PALAVER_COMPAT_API_KEY, PALAVER_COMPAT_CLIENT_ID,');
  console.error('       PALAVER_COMPAT_CLIENT_SECRET');
  process.exit(2);
}
const environment = environmentOf(cfg.base);
watchdog(WAIT * 25 + 20_000);

const suite = new Suite('client CORE secured');
const check = checker(suite);
const cleanups = [];

// ---------------------------------------------------------------------------------------------
// The Platform API, as the application's back end calls it.

let token;

/** One REST call with the client-credentials token: `{status, body}` (`body` parsed JSON). */
async function rest(method, path, body) {
  const res = await fetch(`${cfg.base}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, text };
}

/** A REST call that must answer 200; its body. */
async function ok(method, path, body) {
  const r = await rest(method, path, body);
  assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
  return r.body;
}

// The handler the application deploys: the README's password check.
const PASSWORD_CHECK = `
async function handleEvent(event: { username: string, authParams: { password?: string } }, context) {
    const users = context.getUserApi();
    const found = await users.listUsers(undefined, undefined, undefined, event.username);
    const user = found.data._embedded?.users?.[0];
    if (!user) throw new Error('unknown user ' + event.username);
    const secret = await users.retrieveUserSecret(user.id, 'password');
    if (secret.data.secret !== event.authParams?.password) throw new Error('wrong password');
    return { display_name: 'Checked ' + event.username, properties: { checked: true } };
}
`;

const ada = { name: `ada-${run}`, password: `correct horse ${run}`, messages: new Inbox() };
const grace = { name: `grace-${run}` };
const nobody = `nobody-${run}`;
let functionId;
/** Each start the function decided, in order: [username, 'SUCCEEDED' | 'FAILED', why]. */
const decided = [];

/** A failed `startSession` result: the SDK's `ChatKittyFailedResult` with the server's error. */
function assertDenied(res, why) {
  assert.equal(res.succeeded, false, `startSession succeeded: ${JSON.stringify(brief(res.session?.user))}`);
  assert.equal(res.failed, true, 'result.failed');
  assert.equal(res.error?.error, 'AccessDeniedError', `error: ${JSON.stringify(res.error)}`);
  assert.equal(typeof res.error.message, 'string', `error.message: ${JSON.stringify(res.error)}`);
  if (why) assert.match(res.error.message, why, 'the function\'s message reaches the app');
}

// ---------------------------------------------------------------------------------------------
// The checks.

await check('setup: a client-credentials token (POST /oauth/token)', async () => {
  const form = new FormData();
  form.append('grant_type', 'client_credentials');
  const basic = Buffer.from(`${cfg.clientId}:${cfg.clientSecret}`).toString('base64');
  const res = await fetch(`${cfg.base}/oauth/token`, {
    method: 'POST', headers: { Authorization: `Basic ${basic}` }, body: form,
  });
  assert.equal(res.status, 200, 'token');
  token = (await res.json()).access_token;
  assert.equal(typeof token, 'string', 'access_token');
});

await check('setup: guest users DISABLED (PUT /application/settings)', async () => {
  const settings = await ok('PUT', '/application/settings', { guest_users: 'DISABLED' });
  assert.equal(settings.guest_users, 'DISABLED', JSON.stringify(settings));
});

await check('setup: ada with a password secret, and grace (POST /users, PUT /users/{id}/secrets/password)', async () => {
  ada.rest = await ok('POST', '/users', { name: ada.name, display_name: 'Ada', is_guest: false });
  await ok('PUT', `/users/${ada.rest.id}/secrets/password`, { secret: ada.password });
  grace.rest = await ok('POST', '/users', { name: grace.name, display_name: 'Grace', is_guest: false });
});

// a. Guest users off and no function: nobody starts a session.
await check('a. without a start-session function, startSession is refused (AccessDeniedError)', async () => {
  ada.client = core.getSdkClient(cfg.apiKey, { $environment: environment });
  cleanups.push(['ada', () => ada.client.endSession()]);
  assertDenied(await ada.client.startSession({ username: ada.name, authParams: { password: ada.password } }));
});

await check('b. the application deploys its user.attempted.start_session function (POST /runtimes/nodejs/functions, /functions/{id}/versions)', async () => {
  const f = await ok('POST', '/runtimes/nodejs/functions', {
    type: 'user.attempted.start_session',
    name: `password-check-${run}`,
    initialize_asynchronously: false,
  });
  assert.equal(typeof f.id, 'number', `function: ${JSON.stringify(f)}`);
  functionId = f.id;
  const v = await ok('POST', `/functions/${functionId}/versions`, { handler_script: PASSWORD_CHECK });
  assert.equal(typeof v.version_number, 'number', `version: ${JSON.stringify(v)}`);
});

// c. The function refuses: each refusal is the SDK's failed result, with the function's error.
await check('c. a wrong password: startSession fails with AccessDeniedError and the function\'s message', async () => {
  assert.ok(functionId, 'no function');
  const res = await ada.client.startSession({ username: ada.name, authParams: { password: 'wrong' } });
  decided.push([ada.name, 'FAILED', /wrong password/]);
  assertDenied(res, /wrong password/);
});

await check('c. no authParams at all: startSession fails with AccessDeniedError', async () => {
  assert.ok(functionId, 'no function');
  const res = await ada.client.startSession({ username: ada.name });
  decided.push([ada.name, 'FAILED', /wrong password/]);
  assertDenied(res, /wrong password/);
});

await check('c. a wrong password through connectApi: it rejects with the function\'s message', async () => {
  assert.ok(functionId, 'no function');
  let error;
  try {
    const conn = await core.connectApi({
      apiKey: cfg.apiKey, username: ada.name, authParams: { password: 'also wrong' }, $environment: environment,
    });
    cleanups.push(['connectApi', () => conn.dispose()]);
  } catch (e) {
    error = e;
  }
  decided.push([ada.name, 'FAILED', /wrong password/]);
  assert.ok(error, 'connectApi resolved');
  assert.match(error.message, /wrong password/, 'rejected with the ERROR body\'s message');
});

// d. A username the application does not know is refused, and no user is made for it.
await check('d. an unknown username is refused (AccessDeniedError) and not made', async () => {
  assert.ok(functionId, 'no function');
  const res = await ada.client.startSession({ username: nobody, authParams: { password: ada.password } });
  decided.push([nobody, 'FAILED', /unknown user/]);
  assertDenied(res, new RegExp(`unknown user ${nobody}`));
  const users = await ok('GET', `/users?name=${encodeURIComponent(nobody)}`);
  assert.equal(users.page?.total_elements, 0, `users named ${nobody}: ${JSON.stringify(users)}`);
});

// e. The right password lets ada in, as the user the function described.
await check('e. the right password: startSession succeeds as ada, named by the function', async () => {
  assert.ok(functionId, 'no function');
  const res = await ada.client.startSession({ username: ada.name, authParams: { password: ada.password } });
  decided.push([ada.name, 'SUCCEEDED']);
  const u = succeeded(res, 'startSession').session.user;
  assert.equal(u.id, ada.rest?.id, 'user.id: the existing user');
  assert.equal(u.name, ada.name, 'user.name');
  assert.equal(u.displayName, `Checked ${ada.name}`, 'user.displayName, from the function');
  assert.deepEqual(u.properties, { checked: true }, 'user.properties, from the function');
  assert.equal(u.isGuest, false, 'user.isGuest');
  assert.equal(u.presence?.online, true, `user.presence: ${JSON.stringify(u.presence)}`);
  assert.equal(typeof u._actions?.createChannel, 'string', 'user._actions.createChannel');
  ada.user = u;
  const current = succeeded(await ada.client.retrieveCurrentUser(), 'retrieveCurrentUser').user;
  assert.equal(current.displayName, `Checked ${ada.name}`, 'retrieveCurrentUser displayName');
});

// f. Messages go both ways as usual.
await check('f. ada creates a PUBLIC channel, grace joins it over REST, ada opens a chat session', async () => {
  assert.ok(ada.user, 'ada has no session');
  const c = succeeded(
    await ada.client.createChannel({ type: 'PUBLIC', name: `vault-${run}` }),
    'createChannel',
  ).channel;
  assert.equal(c.creator?.name ?? ada.name, ada.name);
  ada.channel = c;
  await ok('POST', `/channels/${c.id}/members`, { username: grace.name });
  const res = ada.client.startChatSession({
    channel: c,
    onMessageReceived: (m) => ada.messages.push(m),
  });
  succeeded(res, 'startChatSession');
  ada.chat = res.session;
  const deadline = Date.now() + INNER;
  for (const t of ['self', 'messages']) await subscribed(ada.name, c._topics[t], deadline);
});

await check('f. ada sends "hello" (sendMessage resolves); grace\'s back end reads it (GET /channels/{id}/messages)', async () => {
  assert.ok(ada.chat, 'ada has no chat session');
  const m = succeeded(await ada.client.sendMessage({ channel: ada.channel, body: 'hello' }), 'sendMessage').message;
  assert.equal(m.type, 'TEXT', `message: ${JSON.stringify(brief(m))}`);
  assert.equal(m.body, 'hello');
  assert.equal(m.user?.name, ada.name, 'message.user.name');
  assert.equal(m.user?.displayName, `Checked ${ada.name}`, 'message.user.displayName');
  ada.sent = m;
  const page = await ok('GET', `/channels/${ada.channel.id}/messages`);
  const found = (page._embedded?.messages ?? []).find((x) => x.id === m.id);
  assert.ok(found, `message ${m.id} over REST: ${JSON.stringify(page)}`);
  assert.equal(found.body, 'hello');
  assert.equal(found.user?.name, ada.name);
});

await check('f. grace\'s message reaches ada live (onMessageReceived)', async () => {
  assert.ok(ada.chat, 'ada has no chat session');
  const sent = await ok('POST', `/channels/${ada.channel.id}/messages`, {
    type: 'TEXT', body: `hi ada ${run}`, user: { username: grace.name },
  });
  const m = await ada.messages.next((x) => x.id === sent.id, `ada's onMessageReceived for message ${sent.id}`);
  assert.equal(m.body, `hi ada ${run}`);
  assert.equal(m.user?.name, grace.name);
  const history = succeeded(await ada.client.listMessages({ channel: ada.channel }), 'listMessages').paginator;
  const ids = history.items.map((x) => x.id);
  assert.ok(ids.includes(sent.id) && ids.includes(ada.sent?.id), `listMessages: ${JSON.stringify(ids)}`);
});

// g. What the function did, as the application sees it.
await check('g. GET /functions/{id}/invocations: one SUCCEEDED, the FAILED runs with their errors', async () => {
  assert.ok(functionId, 'no function');
  const page = await ok('GET', `/functions/${functionId}/invocations?size=100`);
  const runs = [...(page._embedded?.invocations ?? [])].sort((a, b) => a.id - b.id);
  const seen = runs.map((r) => [r.args?.username, r.status]);
  assert.deepEqual(seen, decided.map(([who, status]) => [who, status]), 'one run per start, in order');
  assert.equal(runs.filter((r) => r.status === 'SUCCEEDED').length, 1, 'one SUCCEEDED');
  decided.forEach(([, status, why], i) => {
    if (why) assert.match(String(runs[i].error), why, `run ${runs[i].id} error`);
    if (status === 'SUCCEEDED') {
      const answer = runs[i].result?.payload;
      assert.equal(answer?.display_name, `Checked ${ada.name}`, `run ${runs[i].id} result: ${JSON.stringify(runs[i].result)}`);
    }
  });
});

await check('z. ada ends her session (endSession)', async () => {
  assert.ok(ada.user, 'ada has no session');
  ada.chat?.end();
  await ada.client.endSession();
  ada.ended = true;
});

for (const [what, fn] of cleanups) {
  if (what === 'ada' && ada.ended) continue;
  try {
    await within(3000, `closing ${what}`, Promise.resolve().then(fn));
  } catch {
    // Nothing to close.
  }
}
suite.finish();
