// Client A: npm `chatkitty@2.106.8` (snake_case models, root paths, its own token fetch),
// pointed at a Palaver server by its base URL only.
//
//   node client_a.mjs http://127.0.0.1:8080 CLIENT_ID CLIENT_SECRET

import chatkitty from 'chatkitty';
import {
  assert,
  assertApiError,
  assertIsoTime,
  assertLinks,
  assertOAuthError,
  rejects,
  run,
  settings,
  Suite,
} from './harness.mjs';

const { ChatKitty } = chatkitty;
const cfg = settings();
const suite = new Suite('client A');

function connect(clientSecret) {
  return new ChatKitty({
    clientId: cfg.clientId,
    clientSecret,
    basePath: cfg.base,
    authorizationBasePath: `${cfg.base}/oauth/token`,
  });
}

const kitty = connect(cfg.clientSecret);

// What went over the wire: the wrapper's token requests and the API calls (all API objects
// share one axios instance).
const tokenRequests = [];
const tokenResponses = [];
kitty._chatkitty_authorizingAxios.interceptors.request.use((c) => {
  tokenRequests.push(c);
  return c;
});
kitty._chatkitty_authorizingAxios.interceptors.response.use((r) => {
  tokenResponses.push(r.data);
  return r;
});
let lastRequest;
kitty.UsersApi.axios.interceptors.request.use((c) => {
  lastRequest = c;
  return c;
});
const header = (req, name) => {
  const h = req.headers || {};
  if (typeof h.get === 'function') return h.get(name);
  const key = Object.keys(h).find((k) => k.toLowerCase() === name.toLowerCase());
  return key ? h[key] : undefined;
};

const users = kitty.UsersApi;
const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((n) => `${n}-${run}`);
const team = `team-${run}`;
const created = {};

function assertUser(u, what) {
  assert.equal(typeof u.id, 'number', `${what}: id`);
  assert.ok(['PERSON', 'BOT'].includes(u.type), `${what}: type ${u.type}`);
  assert.equal(typeof u.name, 'string', `${what}: name`);
  assert.equal(typeof u.display_name, 'string', `${what}: display_name`);
  assert.equal(typeof u.display_picture_url, 'string', `${what}: display_picture_url`);
  assert.ok(u.display_picture_url.length > 0, `${what}: display_picture_url non-empty`);
  assert.equal(typeof u.isGuest, 'boolean', `${what}: isGuest`);
  assert.equal(typeof u.presence?.online, 'boolean', `${what}: presence.online`);
  assert.equal(typeof u.presence?.status, 'string', `${what}: presence.status`);
  assert.equal(typeof u.properties, 'object', `${what}: properties`);
  assert.equal(u.displayName, undefined, `${what}: no camelCase displayName`);
  assertLinks(u._links, what);
}

// 1. Token fetch and the application.
await suite.check('retrieveApplication fetches a token and returns the application', async () => {
  const { status, data } = await kitty.ApplicationApi.retrieveApplication();
  assert.equal(status, 200);
  assert.equal(typeof data.id, 'number');
  assert.equal(typeof data.key, 'string');
  assert.ok(data.key.length > 0);
  assertIsoTime(data.created_time, 'created_time');
  assert.equal(typeof data.properties, 'object');
  assertLinks(data._links, 'application');

  assert.equal(tokenRequests.length, 1, 'one token request');
  const t = tokenRequests[0];
  assert.equal(t.url, `${cfg.base}/oauth/token`);
  assert.equal(t.method, 'post');
  assert.deepEqual(t.auth, { username: cfg.clientId, password: cfg.clientSecret });
  assert.match(String(header(t, 'content-type')), /^multipart\/form-data; boundary=/);
  const token = tokenResponses[0];
  assert.equal(typeof token.access_token, 'string');
  assert.equal(String(token.token_type).toLowerCase(), 'bearer');
  assert.ok(Number.isFinite(token.expires_in) && token.expires_in > 0, 'expires_in');
  assert.equal(header(lastRequest, 'authorization'), `Bearer ${token.access_token}`);
  assert.match(String(header(lastRequest, 'accept')), /application\/vnd\.chatkitty\+json/);
});

await suite.check('the token is cached across calls', async () => {
  await kitty.ApplicationApi.retrieveApplication();
  assert.equal(tokenRequests.length, 1);
});

// 2. A wrong secret is refused at the token endpoint.
await suite.check('a wrong client secret is rejected with 401 {error, error_description}', async () => {
  const bad = connect(`${cfg.clientSecret}-wrong`);
  const res = await rejects(bad.ApplicationApi.retrieveApplication(), 401);
  assert.ok(res.config.url.endsWith('/oauth/token'), `rejected by ${res.config.url}`);
  assertOAuthError(res.data);
});

// 3. No token, no resource.
await suite.check('GET /users without a token is 401', async () => {
  const res = await fetch(`${cfg.base}/users`);
  assert.equal(res.status, 401);
  assertOAuthError(await res.json());
});

// 4-5. Settings.
await suite.check('retrieveApplicationSettings returns both settings', async () => {
  const { data } = await kitty.ApplicationApi.retrieveApplicationSettings();
  assert.ok(['ENABLED', 'DISABLED'].includes(data.guest_users), `guest_users ${data.guest_users}`);
  assert.ok(['ENABLED', 'DISABLED'].includes(data.user_created_channels));
});

await suite.check('updateApplicationSettings echoes and persists', async () => {
  for (const wanted of [
    { guest_users: 'DISABLED', user_created_channels: 'ENABLED' },
    { guest_users: 'ENABLED', user_created_channels: 'DISABLED' },
  ]) {
    const { data } = await kitty.ApplicationApi.updateApplicationSettings(wanted);
    assert.equal(data.guest_users, wanted.guest_users);
    assert.equal(data.user_created_channels, wanted.user_created_channels);
    assert.match(String(header(lastRequest, 'content-type')), /^application\/vnd\.chatkitty\+json/);
    const again = (await kitty.ApplicationApi.retrieveApplicationSettings()).data;
    assert.equal(again.guest_users, wanted.guest_users);
    assert.equal(again.user_created_channels, wanted.user_created_channels);
  }
});

// 6. Users.
await suite.check('createUser creates 6 people', async () => {
  for (const [i, name] of names.entries()) {
    const display = name[0].toUpperCase() + name.split('-')[0].slice(1);
    const { data } = await users.createUser({
      name,
      display_name: display,
      is_guest: false,
      properties: { team, idx: i },
    });
    assertUser(data, name);
    assert.equal(data.type, 'PERSON');
    assert.equal(data.name, name);
    assert.equal(data.display_name, display);
    assert.equal(data.isGuest, false);
    assert.equal(data.presence.online, false);
    assert.deepEqual(data.properties, { team, idx: i });
    created[name] = data;
  }
  assert.equal(new Set(Object.values(created).map((u) => u.id)).size, names.length);
});
const alice = () => created[names[0]];

await suite.check('createUser with is_guest true makes a guest', async () => {
  const { data } = await users.createUser({
    name: `guest-${run}`,
    display_name: 'Guest',
    is_guest: true,
  });
  assertUser(data, 'guest');
  assert.equal(data.isGuest, true);
  assert.deepEqual(data.properties, {});
  created[data.name] = data;
});

// 7. Duplicates.
await suite.check('createUser with a taken name is a 4xx ApiError', async () => {
  const res = await rejects(
    users.createUser({ name: names[0], display_name: 'Again', is_guest: false }),
  );
  assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
  assertApiError(res.data);
});

// 8. Existence.
await suite.check('checkUserExists is 200 for a user and 404 for nobody', async () => {
  const ok = await users.checkUserExists(names[0]);
  assert.equal(ok.status, 200);
  assert.equal(lastRequest.method, 'head');
  await rejects(users.checkUserExists(`nobody-${run}`), 404);
});

// 9. Paging.
await suite.check('listUsers pages through every user exactly once', async () => {
  const first = (await users.listUsers(0, 2)).data;
  assert.equal(first._embedded.users.length, 2);
  assert.equal(first.page.size, 2);
  assert.equal(first.page.number, 0);
  const total = first.page.total_elements;
  assert.ok(total >= Object.keys(created).length, `total_elements ${total}`);
  assert.equal(first.page.total_pages, Math.ceil(total / 2));
  assert.equal(first.page.totalElements, undefined, 'snake_case page metadata');
  assertLinks(first._links, 'page');
  const seen = new Set();
  for (let p = 0; p < first.page.total_pages; p += 1) {
    const data = p === 0 ? first : (await users.listUsers(p, 2)).data;
    const page = data._embedded?.users ?? [];
    assert.ok(page.length > 0 && page.length <= 2, `page ${p} has ${page.length}`);
    assert.equal(data.page.number, p);
    for (const u of page) {
      assertUser(u, `page ${p}`);
      assert.ok(!seen.has(u.id), `user ${u.id} seen twice`);
      seen.add(u.id);
    }
    const last = p === first.page.total_pages - 1;
    if (last) assert.equal(data._links.next, undefined, 'no next on the last page');
    else assert.equal(typeof data._links.next?.href, 'string', `next on page ${p}`);
    if (p > 0) assert.equal(typeof data._links.prev?.href, 'string', `prev on page ${p}`);
  }
  assert.equal(seen.size, total);
  for (const u of Object.values(created)) assert.ok(seen.has(u.id), `${u.name} listed`);
});

await suite.check('listUsers past the last page is empty', async () => {
  const { data } = await users.listUsers(1000, 2);
  assert.equal(data._embedded?.users?.length ?? 0, 0);
  assert.equal(data.page.number, 1000);
});

// 10. Sorting and filters.
await suite.check('listUsers sorts by name asc and desc', async () => {
  const mine = (list) => list.map((u) => u.name).filter((n) => names.includes(n));
  const asc = mine((await users.listUsers(0, 100, ['name,asc'])).data._embedded.users);
  const desc = mine((await users.listUsers(0, 100, ['name,desc'])).data._embedded.users);
  assert.deepEqual(asc, [...names].sort());
  assert.deepEqual(desc, [...names].sort().reverse());
  const all = (await users.listUsers(0, 100, ['name,desc', 'id,asc'])).data._embedded.users;
  for (let i = 1; i < all.length; i += 1) {
    assert.ok(all[i - 1].name >= all[i].name, `${all[i - 1].name} before ${all[i].name}`);
  }
});

await suite.check('listUsers filters by name', async () => {
  const { data } = await users.listUsers(undefined, undefined, ['name,desc'], names[0]);
  assert.equal(data._embedded.users.length, 1);
  assert.equal(data._embedded.users[0].id, alice().id);
  assert.equal(data.page.total_elements, 1);
  const none = (await users.listUsers(0, 5, undefined, `nobody-${run}`)).data;
  assert.equal(none._embedded?.users?.length ?? 0, 0);
  assert.equal(none.page.total_elements, 0);
});

await suite.check('listUsers filters by custom properties', async () => {
  const byTeam = (await users.listUsers(0, 25, undefined, undefined, undefined, JSON.stringify({ team })))
    .data;
  assert.deepEqual(byTeam._embedded.users.map((u) => u.name).sort(), [...names].sort());
  const one = (
    await users.listUsers(0, 25, undefined, undefined, undefined, JSON.stringify({ team, idx: 2 }))
  ).data;
  assert.deepEqual(one._embedded.users.map((u) => u.name), [names[2]]);
  await rejects(users.listUsers(0, 25, undefined, undefined, undefined, 'not json'), 400);
});

// 11. Retrieve.
await suite.check('retrieveUser returns the user; an unknown id is 404', async () => {
  const { data } = await users.retrieveUser(alice().id);
  assertUser(data, 'alice');
  assert.deepEqual(data, alice());
  const res = await rejects(users.retrieveUser(999999999), 404);
  assertApiError(res.data);
});

// 12. Merge patch.
await suite.check('updateUser applies a merge patch', async () => {
  const { data } = await users.updateUser(alice().id, {
    display_name: 'Alice B',
    properties: { team: 'b' },
  });
  assert.match(String(header(lastRequest, 'content-type')), /^application\/json\+merge-patch/);
  assertUser(data, 'patched');
  assert.equal(data.display_name, 'Alice B');
  assert.deepEqual(data.properties, { team: 'b', idx: 0 }, 'properties are merged');
  assert.equal(data.name, names[0]);
  assert.equal(data.isGuest, false);
  const again = (await users.retrieveUser(alice().id)).data;
  assert.equal(again.display_name, 'Alice B');
  assert.equal(again.properties.team, 'b');
  created[names[0]] = again;
});

await suite.check('updateUser on an unknown id is 404', async () => {
  await rejects(users.updateUser(999999999, { display_name: 'X' }), 404);
});

// 13. Display picture.
await suite.check('updateUserDisplayPicture sets display_picture_url', async () => {
  const url = `https://example.com/${run}/a.png`;
  const { data } = await users.updateUserDisplayPicture(alice().id, {
    url,
    name: 'a.png',
    content_type: 'image/png',
    size: 123,
  });
  assertUser(data, 'with picture');
  assert.equal(data.display_picture_url, url);
  assert.equal((await users.retrieveUser(alice().id)).data.display_picture_url, url);
});

// 14. Secrets.
await suite.check('user secrets: set, get, remove, then 404', async () => {
  const id = alice().id;
  const set = (await users.setUserSecret(id, 'api token', { secret: { v: 1 } })).data;
  assertUser(set, 'after setUserSecret');
  assert.equal(set.id, id);
  assert.ok(lastRequest.url.includes('/secrets/api%20token'), lastRequest.url);
  assert.deepEqual((await users.retrieveUserSecret(id, 'api token')).data, { secret: { v: 1 } });
  await users.setUserSecret(id, 'api token', { secret: { v: 2, list: [1, 'x'] } });
  assert.deepEqual((await users.retrieveUserSecret(id, 'api token')).data, {
    secret: { v: 2, list: [1, 'x'] },
  });
  const removed = (await users.removeUserSecret(id, 'api token')).data;
  assertUser(removed, 'after removeUserSecret');
  assert.equal(removed.id, id);
  const res = await rejects(users.retrieveUserSecret(id, 'api token'), 404);
  assertApiError(res.data);
});

await suite.check('secrets of an unknown user are 404', async () => {
  await rejects(users.retrieveUserSecret(999999999, 'x'), 404);
});

await suite.check('basePath /v1/applications/{id} serves the same users (snake_case for A)', async () => {
  const app = (await kitty.ApplicationApi.retrieveApplication()).data;
  const scoped = new ChatKitty({
    clientId: cfg.clientId,
    clientSecret: cfg.clientSecret,
    basePath: `${cfg.base}/v1/applications/${app.id}`,
    authorizationBasePath: `${cfg.base}/oauth/token`,
  });
  const { data } = await scoped.UsersApi.retrieveUser(alice().id);
  assertUser(data, 'scoped');
  assert.equal(data.name, names[0]);
  assert.ok(data._links.self.href.includes('/v1/'), data._links.self.href);
  const page = (await scoped.UsersApi.listUsers(0, 1, undefined, names[1])).data;
  assert.equal(page.page.total_elements, 1);
});

// Delete.
await suite.check('deleteUser returns the application; the user is gone', async () => {
  const frank = created[names[5]];
  const { data } = await users.deleteUser(frank.id);
  assert.equal(typeof data.id, 'number');
  assert.equal(typeof data.key, 'string');
  assertIsoTime(data.created_time, 'created_time');
  await rejects(users.retrieveUser(frank.id), 404);
  await rejects(users.checkUserExists(frank.name), 404);
  await rejects(users.deleteUser(frank.id), 404);
});

suite.finish();
