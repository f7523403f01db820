// Client B: npm `chatkitty-platform-sdk@2.4.0` (camelCase models, `/v1` paths, axios 0.26),
// pointed at a Palaver server by its base URL only.
//
//   node client_b.mjs http://127.0.0.1:8080 CLIENT_ID CLIENT_SECRET

import platform from 'chatkitty-platform-sdk';
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

const { ChatKitty } = platform;
const cfg = settings();
const suite = new Suite('client B');

function connect(clientSecret) {
  return new ChatKitty({
    clientId: cfg.clientId,
    clientSecret,
    basePath: cfg.base,
    authorizationBasePath: `${cfg.base}/oauth/token`,
  });
}

const kitty = connect(cfg.clientSecret);

const tokenRequests = [];
kitty._chatkitty_authorizingAxios.interceptors.request.use((c) => {
  tokenRequests.push(c);
  return c;
});
let lastRequest;
kitty.Users.axios.interceptors.request.use((c) => {
  lastRequest = c;
  return c;
});
const header = (req, name) => {
  const h = req.headers || {};
  const key = Object.keys(h).find((k) => k.toLowerCase() === name.toLowerCase());
  return key ? h[key] : undefined;
};

const users = kitty.Users;
const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((n) => `b${n}-${run}`);
const created = {};

function assertUser(u, what) {
  assert.equal(typeof u.id, 'number', `${what}: id`);
  assert.ok(['PERSON', 'BOT'].includes(u.type), `${what}: type ${u.type}`);
  assert.equal(typeof u.name, 'string', `${what}: name`);
  assert.equal(typeof u.displayName, 'string', `${what}: displayName`);
  assert.equal(typeof u.displayPictureUrl, 'string', `${what}: displayPictureUrl`);
  assert.ok(u.displayPictureUrl.length > 0, `${what}: displayPictureUrl non-empty`);
  assert.equal(typeof u.isGuest, 'boolean', `${what}: isGuest`);
  assert.equal(typeof u.presence?.online, 'boolean', `${what}: presence.online`);
  assert.equal(typeof u.presence?.status, 'string', `${what}: presence.status`);
  assert.equal(typeof u.properties, 'object', `${what}: properties`);
  assert.equal(u.display_name, undefined, `${what}: no snake_case display_name`);
  assertLinks(u._links, what);
}

await suite.check('retrieveAuthenticatedApplication fetches a token; camelCase under /v1', async () => {
  const { status, data } = await kitty.Application.retrieveAuthenticatedApplication();
  assert.equal(status, 200);
  assert.equal(lastRequest.url, `${cfg.base}/v1/application`);
  assert.equal(typeof data.id, 'number');
  assert.equal(typeof data.key, 'string');
  assertIsoTime(data.createdTime, 'createdTime');
  assert.equal(data.created_time, undefined);
  assert.equal(typeof data.properties, 'object');
  assertLinks(data._links, 'application');
  assert.ok(data._links.self.href.includes('/v1/'), data._links.self.href);
  assert.equal(tokenRequests.length, 1);
  assert.match(String(header(tokenRequests[0], 'content-type')), /^multipart\/form-data; boundary=/);
});

await suite.check('a wrong client secret is rejected with 401 {error, error_description}', async () => {
  const bad = connect(`${cfg.clientSecret}-wrong`);
  const res = await rejects(bad.Application.retrieveAuthenticatedApplication(), 401);
  assertOAuthError(res.data);
});

await suite.check('GET /v1/users without a token is 401', async () => {
  const res = await fetch(`${cfg.base}/v1/users`);
  assert.equal(res.status, 401);
  assertOAuthError(await res.json());
});

await suite.check('retrieveAuthenticatedApplicationSettings returns camelCase settings', async () => {
  const { data } = await kitty.Application.retrieveAuthenticatedApplicationSettings();
  assert.ok(['ENABLED', 'DISABLED'].includes(data.guestUsers), `guestUsers ${data.guestUsers}`);
  assert.ok(['ENABLED', 'DISABLED'].includes(data.userCreatedChannels));
  assert.equal(data.guest_users, undefined);
});

await suite.check('updateAuthenticatedApplicationSettings echoes and persists', async () => {
  for (const wanted of [
    { guestUsers: 'DISABLED', userCreatedChannels: 'ENABLED' },
    { guestUsers: 'ENABLED', userCreatedChannels: 'DISABLED' },
  ]) {
    const { data } = await kitty.Application.updateAuthenticatedApplicationSettings(wanted);
    assert.equal(data.guestUsers, wanted.guestUsers);
    assert.equal(data.userCreatedChannels, wanted.userCreatedChannels);
    const again = (await kitty.Application.retrieveAuthenticatedApplicationSettings()).data;
    assert.equal(again.guestUsers, wanted.guestUsers);
    assert.equal(again.userCreatedChannels, wanted.userCreatedChannels);
  }
});

await suite.check('createUser with camelCase input returns camelCase displayName', async () => {
  for (const [i, name] of names.entries()) {
    const displayName = `Display ${i}`;
    const { data } = await users.createUser({ name, displayName, isGuest: false, properties: { i } });
    assert.equal(lastRequest.url, `${cfg.base}/v1/users`);
    assertUser(data, name);
    assert.equal(data.type, 'PERSON');
    assert.equal(data.name, name);
    assert.equal(data.displayName, displayName);
    assert.equal(data.isGuest, false);
    assert.equal(data.presence.online, false);
    assert.deepEqual(data.properties, { i });
    created[name] = data;
  }
});
const alice = () => created[names[0]];

await suite.check('createUser with isGuest true makes a guest', async () => {
  const { data } = await users.createUser({ name: `bguest-${run}`, displayName: 'G', isGuest: true });
  assert.equal(data.isGuest, true);
  created[data.name] = data;
});

await suite.check('createUser with a taken name is a 4xx ApiError', async () => {
  const res = await rejects(users.createUser({ name: names[0], displayName: 'A', isGuest: false }));
  assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
  assertApiError(res.data);
});

await suite.check('checkUserExists is 200 for a user and 404 for nobody', async () => {
  assert.equal((await users.checkUserExists(names[1])).status, 200);
  assert.equal(lastRequest.method, 'head');
  await rejects(users.checkUserExists(`nobody-${run}`), 404);
});

await suite.check('listUsers pages with page.totalElements and totalPages', async () => {
  const first = (await users.listUsers(0, 3)).data;
  const total = first.page.totalElements;
  assert.ok(total >= Object.keys(created).length, `totalElements ${total}`);
  assert.equal(first.page.totalPages, Math.ceil(total / 3));
  assert.equal(first.page.size, 3);
  assert.equal(first.page.total_elements, undefined);
  const seen = new Set();
  for (let p = 0; p < first.page.totalPages; p += 1) {
    const data = p === 0 ? first : (await users.listUsers(p, 3)).data;
    for (const u of data._embedded.users) {
      assertUser(u, `page ${p}`);
      assert.ok(!seen.has(u.id), `user ${u.id} seen twice`);
      seen.add(u.id);
    }
    const last = p === first.page.totalPages - 1;
    assert.equal(data._links.next === undefined, last, `next link on page ${p}`);
    assert.ok(data._links.self.href.includes('/v1/users'), data._links.self.href);
  }
  assert.equal(seen.size, total);
  for (const u of Object.values(created)) assert.ok(seen.has(u.id), `${u.name} listed`);
});

await suite.check('listUsers sorts by name asc and desc, and filters by name', async () => {
  const mine = (list) => list.map((u) => u.name).filter((n) => names.includes(n));
  const asc = mine((await users.listUsers(0, 100, ['name,asc'])).data._embedded.users);
  const desc = mine((await users.listUsers(0, 100, ['name,desc'])).data._embedded.users);
  assert.deepEqual(asc, [...names].sort());
  assert.deepEqual(desc, [...names].sort().reverse());
  const one = (await users.listUsers(undefined, undefined, undefined, names[2])).data;
  assert.deepEqual(one._embedded.users.map((u) => u.name), [names[2]]);
  assert.equal(one.page.totalElements, 1);
});

await suite.check('retrieveUser returns the user; an unknown id is 404', async () => {
  const { data } = await users.retrieveUser(alice().id);
  assert.deepEqual(data, alice());
  assertApiError((await rejects(users.retrieveUser(999999999), 404)).data);
});

await suite.check('updateUser applies a camelCase merge patch', async () => {
  const { data } = await users.updateUser(alice().id, {
    displayName: 'Alice B',
    isGuest: true,
    presence: { status: 'AVAILABLE' },
    properties: { team: 'b' },
  });
  assert.match(String(header(lastRequest, 'content-type')), /^application\/json\+merge-patch/);
  assertUser(data, 'patched');
  assert.equal(data.displayName, 'Alice B');
  assert.equal(data.isGuest, true);
  assert.equal(data.presence.status, 'AVAILABLE');
  assert.deepEqual(data.properties, { i: 0, team: 'b' });
  assert.deepEqual((await users.retrieveUser(alice().id)).data, data);
  created[names[0]] = data;
});

await suite.check('updateUserDisplayPicture takes camelCase contentType', async () => {
  const url = `https://example.com/${run}/b.png`;
  const { data } = await users.updateUserDisplayPicture(alice().id, {
    url,
    name: 'b.png',
    contentType: 'image/png',
    size: 42,
  });
  assert.equal(data.displayPictureUrl, url);
});

await suite.check('user secrets: set, get, remove, then 404', async () => {
  const id = alice().id;
  const set = (await users.setUserSecret(id, 'b/secret name', { secret: { token: 'abc' } })).data;
  assertUser(set, 'after setUserSecret');
  assert.deepEqual((await users.retrieveUserSecret(id, 'b/secret name')).data, {
    secret: { token: 'abc' },
  });
  assert.equal((await users.removeUserSecret(id, 'b/secret name')).data.id, id);
  assertApiError((await rejects(users.retrieveUserSecret(id, 'b/secret name'), 404)).data);
});

await suite.check('deleteUser returns the application in camelCase; the user is gone', async () => {
  const victim = created[names[5]];
  const { data } = await users.deleteUser(victim.id);
  assert.equal(typeof data.key, 'string');
  assertIsoTime(data.createdTime, 'createdTime');
  await rejects(users.retrieveUser(victim.id), 404);
});

suite.finish();
