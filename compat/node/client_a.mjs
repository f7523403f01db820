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
  cursorOf,
  rejects,
  run,
  settings,
  Suite,
  traverse,
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

// ---- Channels, messages, threads, receipts and notifications (§6 steps 15-29, 35-36) ----

const channels = kitty.ChannelsApi;
const messages = kitty.MessagesApi;
const threads = kitty.ThreadsApi;
const [aliceName, bobName, carolName, daveName] = names;
const user = (name) => created[name];
const ch = {};
// Every message of the general channel's MAIN thread, in the order it was sent.
const sentToGeneral = [];

function assertChannel(c, what) {
  assert.ok(['DIRECT', 'PUBLIC', 'PRIVATE'].includes(c.type), `${what}: type ${c.type}`);
  assert.equal(typeof c.id, 'number', `${what}: id`);
  assertIsoTime(c.created_time, `${what}: created_time`);
  assert.equal(typeof c.properties, 'object', `${what}: properties`);
  assert.equal(c.createdTime, undefined, `${what}: no camelCase createdTime`);
  if (c.type === 'DIRECT') {
    assert.ok(Array.isArray(c.members), `${what}: members`);
  } else {
    assert.equal(typeof c.name, 'string', `${what}: name`);
    assert.equal(typeof c.display_name, 'string', `${what}: display_name`);
  }
  assertLinks(c._links, what);
}

function assertMessage(m, what) {
  assert.ok(['TEXT', 'FILE', 'SYSTEM_TEXT', 'SYSTEM_FILE'].includes(m.type), `${what}: type ${m.type}`);
  assert.equal(typeof m.id, 'number', `${what}: id`);
  assert.equal(typeof m.channel_id, 'number', `${what}: channel_id`);
  assertIsoTime(m.created_time, `${what}: created_time`);
  assert.equal(typeof m.nested_level, 'number', `${what}: nested_level`);
  assert.equal(typeof m.properties, 'object', `${what}: properties`);
  if (m.type === 'TEXT' || m.type === 'SYSTEM_TEXT') assert.equal(typeof m.body, 'string', `${what}: body`);
  if (m.type === 'FILE' || m.type === 'SYSTEM_FILE') assert.equal(typeof m.file?.url, 'string', `${what}: file`);
  if (m.type === 'TEXT' || m.type === 'FILE') assert.equal(typeof m.user?.name, 'string', `${what}: user`);
  else assert.equal(m.user, undefined, `${what}: a system message has no user`);
  assert.equal(m.channelId, undefined, `${what}: no camelCase channelId`);
  assertLinks(m._links, what);
}

/** The id at the end of a link's path: `.../threads/42` is 42. */
function idOf(link) {
  assert.equal(typeof link?.href, 'string', `link ${JSON.stringify(link)}`);
  const id = Number(new URL(link.href).pathname.split('/').pop());
  assert.ok(Number.isSafeInteger(id), `id in ${link.href}`);
  return id;
}

/** A cursor listing of this server, page by page (see `traverse`). */
const walk = (fetch, size, name) => traverse(cfg.base, fetch, size, name);
const ids = (list) => list.map((m) => m.id);

// 15. A public channel.
await suite.check('createChannel PUBLIC with a creator and members', async () => {
  const { data } = await channels.createChannel({
    type: 'PUBLIC',
    name: `general-${run}`,
    display_name: 'General',
    creator: { username: aliceName },
    members: [{ username: bobName }],
  });
  assert.equal(lastRequest.url, `${cfg.base}/channels`);
  assert.match(String(header(lastRequest, 'content-type')), /^application\/vnd\.chatkitty\+json/);
  assertChannel(data, 'general');
  assert.equal(data.type, 'PUBLIC');
  assert.equal(data.name, `general-${run}`);
  assert.equal(data.display_name, 'General');
  assert.equal(data.creator?.name, aliceName);
  assert.equal(data.creator?.display_name, user(aliceName).display_name);
  assert.deepEqual(data.properties, {});
  ch.general = data;
  const again = (await channels.retrieveChannel(data.id)).data;
  assert.deepEqual(again, data);
});

await suite.check('createChannel with a bad type is a 400 ApiError', async () => {
  const res = await rejects(channels.createChannel({ type: 'GROUP', name: `bad-${run}` }), 400);
  assertApiError(res.data);
});

// 16. A direct channel is one per member set.
await suite.check('createChannel DIRECT has both members and is found again', async () => {
  const body = { type: 'DIRECT', members: [{ username: aliceName }, { id: user(bobName).id }] };
  const { data } = await channels.createChannel(body);
  assertChannel(data, 'direct');
  assert.equal(data.type, 'DIRECT');
  assert.equal(data.name, undefined, 'a direct channel has no name');
  assert.equal(data.members.length, 2);
  assert.deepEqual(data.members.map((m) => m.name).sort(), [aliceName, bobName].sort());
  for (const m of data.members) assert.equal(typeof m.display_name, 'string');
  const again = (
    await channels.createChannel({ type: 'DIRECT', members: [{ id: user(bobName).id }, { username: aliceName }] })
  ).data;
  assert.equal(again.id, data.id, 'the same channel');
  ch.direct = data;
});

// 17. A private channel and its invites.
await suite.check('createChannel PRIVATE, sendChannelInvite, listChannelInvites', async () => {
  const { data } = await channels.createChannel({
    type: 'PRIVATE',
    name: `secret-room-${run}`,
    creator: { username: aliceName },
  });
  assertChannel(data, 'private');
  assert.equal(data.type, 'PRIVATE');
  assert.equal(data.display_name, `secret-room-${run}`, 'display_name defaults to the name');
  ch.priv = data;
  const invite = (await channels.sendChannelInvite(data.id, { user: { username: carolName } })).data;
  assertIsoTime(invite.created_time, 'invite created_time');
  const page = (await channels.listChannelInvites(data.id)).data;
  assert.equal(page._embedded.invites.length, 1);
  assert.equal(page.page.total_elements, 1);
  assertIsoTime(page._embedded.invites[0].created_time, 'listed invite');
});

// 18. Channel lists and their filters.
await suite.check('listChannels filters by type', async () => {
  const { data } = await channels.listChannels(0, 100, undefined, 'PUBLIC');
  const list = data._embedded.channels;
  assert.ok(list.length > 0);
  for (const c of list) {
    assertChannel(c, 'listed');
    assert.equal(c.type, 'PUBLIC');
  }
  assert.ok(list.some((c) => c.id === ch.general.id), 'general listed');
  assert.equal(typeof data.page.total_elements, 'number');
  assert.ok(lastRequest.url.includes('type=PUBLIC'), lastRequest.url);
});

await suite.check('listChannels filters by members (a Set, as typed)', async () => {
  const { data } = await channels.listChannels(0, 100, undefined, undefined, new Set([aliceName, bobName]));
  assert.ok(lastRequest.url.includes(`members=${aliceName}`), lastRequest.url);
  const listed = data._embedded?.channels ?? [];
  assert.ok(listed.some((c) => c.id === ch.direct.id), 'the direct channel is listed');
  assert.ok(!listed.some((c) => c.id === ch.priv.id), 'bob is not in the private channel');
  const direct = (await channels.listChannels(0, 100, undefined, 'DIRECT', [aliceName, bobName])).data;
  assert.deepEqual(direct._embedded.channels.map((c) => c.id), [ch.direct.id]);
});

await suite.check('listChannels filters by startTime and endTime', async () => {
  const t = Date.parse(ch.general.created_time);
  const iso = (ms) => new Date(ms).toISOString();
  const within = (await channels.listChannels(0, 100, undefined, undefined, undefined, iso(t - 1000), iso(t + 60000)))
    .data;
  assert.ok(lastRequest.url.includes('startTime='), lastRequest.url);
  assert.ok(within._embedded.channels.some((c) => c.id === ch.general.id), 'created within the range');
  for (const c of within._embedded.channels) {
    const ct = Date.parse(c.created_time);
    assert.ok(ct >= t - 1000 && ct <= t + 60000, `${c.created_time} in range`);
  }
  const before = (await channels.listChannels(0, 100, undefined, undefined, undefined, undefined, iso(t - 60000))).data;
  assert.ok(!(before._embedded?.channels ?? []).some((c) => c.id === ch.general.id), 'not created before');
});

await suite.check('listUserChannels lists the channels a user created or joined', async () => {
  const { data } = await users.listUserChannels(user(aliceName).id, 0, 100);
  const got = data._embedded.channels.map((c) => c.id);
  for (const c of [ch.general, ch.direct, ch.priv]) assert.ok(got.includes(c.id), `${c.id} listed`);
  assert.equal(data.page.total_elements, got.length);
  const bobs = (await users.listUserChannels(user(bobName).id, 0, 100)).data._embedded.channels.map((c) => c.id);
  assert.ok(!bobs.includes(ch.priv.id), 'bob is not in the private channel');
  await rejects(users.listUserChannels(999999999), 404);
});

// 19. Members and memberships.
await suite.check('addChannelMember, listChannelMembers, listChannelMemberships, removeChannelMember', async () => {
  const id = ch.general.id;
  const added = (await channels.addChannelMember(id, { username: carolName })).data;
  assertChannel(added, 'after addChannelMember');
  assert.equal(added.id, id);
  const members = (await channels.listChannelMembers(id, 0, 100)).data;
  const memberNames = members._embedded.users.map((u) => u.name);
  for (const n of [aliceName, bobName, carolName]) assert.ok(memberNames.includes(n), `${n} is a member`);
  for (const u of members._embedded.users) assertUser(u, 'member');
  const memberships = (await channels.listChannelMemberships(id, 0, 100)).data;
  assert.equal(memberships._embedded.memberships.length, memberNames.length);
  assert.equal(memberships.page.total_elements, members.page.total_elements);
  for (const m of memberships._embedded.memberships) {
    assertIsoTime(m.created_time, 'membership created_time');
    assert.match(String(m._links?.user?.href), /\/users\/\d+$/, 'a membership links its user');
    assert.ok(m._links.channel.href.endsWith(`/channels/${id}`), m._links.channel.href);
  }
  const removed = (await channels.removeChannelMember(id, user(carolName).id)).data;
  assertChannel(removed, 'after removeChannelMember');
  const after = (await channels.listChannelMembers(id, 0, 100)).data._embedded.users.map((u) => u.name);
  assert.ok(!after.includes(carolName), 'carol removed');
  assert.equal(after.length, memberNames.length - 1);
});

// 20. Moderators.
await suite.check('addChannelModerator, listChannelModerators, removeChannelModerator', async () => {
  const id = ch.general.id;
  const bob = user(bobName);
  const mod = (await channels.addChannelModerator(id, { id: bob.id })).data;
  assertUser(mod, 'moderator');
  assert.equal(mod.id, bob.id);
  const listed = (await channels.listChannelModerators(id)).data._embedded.users.map((u) => u.id);
  assert.ok(listed.includes(bob.id), 'bob moderates');
  const after = (await channels.removeChannelModerator(id, bob.id)).data;
  assertChannel(after, 'after removeChannelModerator');
  const left = (await channels.listChannelModerators(id)).data._embedded?.users ?? [];
  assert.ok(!left.some((u) => u.id === bob.id), 'bob no longer moderates');
});

// 21. Merge patch of a channel.
await suite.check('updateChannel merge-patches display_name and properties', async () => {
  const id = ch.general.id;
  const { data } = await channels.updateChannel(id, { display_name: 'General 2', properties: { topic: `x-${run}` } });
  assert.match(String(header(lastRequest, 'content-type')), /^application\/json\+merge-patch/);
  assertChannel(data, 'patched');
  assert.equal(data.display_name, 'General 2');
  assert.deepEqual(data.properties, { topic: `x-${run}` });
  assert.equal(data.name, `general-${run}`);
  const again = (await channels.retrieveChannel(id)).data;
  assert.equal(again.display_name, 'General 2');
  assert.deepEqual(again.properties, { topic: `x-${run}` });
  ch.general = again;
  await rejects(channels.updateChannel(999999999, { display_name: 'x' }), 404);
});

await suite.check('listChannels filters by custom properties', async () => {
  const { data } = await channels.listChannels(0, 25, undefined, undefined, undefined, undefined, undefined,
    JSON.stringify({ topic: `x-${run}` }));
  assert.deepEqual(data._embedded.channels.map((c) => c.id), [ch.general.id]);
  await rejects(channels.listChannels(0, 25, undefined, undefined, undefined, undefined, undefined, 'not json'), 400);
});

await suite.check('retrieveChannel of an unknown id is a 404 ApiError', async () => {
  assertApiError((await rejects(channels.retrieveChannel(999999999), 404)).data);
});

// 22. Messages of each kind.
await suite.check('sendChannelMessage TEXT from a user', async () => {
  const { data } = await channels.sendChannelMessage(ch.general.id, {
    type: 'TEXT',
    body: 'hello world',
    user: { username: aliceName },
  });
  assert.match(String(header(lastRequest, 'content-type')), /^application\/json/);
  assertMessage(data, 'text');
  assert.equal(data.type, 'TEXT');
  assert.equal(data.body, 'hello world');
  assert.equal(data.channel_id, ch.general.id);
  assert.equal(data.user.name, aliceName);
  assert.equal(data.nested_level, 0);
  assert.deepEqual(data.properties, {});
  sentToGeneral.push(data);
});

await suite.check('sendChannelMessage without a user is SYSTEM_TEXT', async () => {
  const { data } = await channels.sendChannelMessage(ch.general.id, { type: 'TEXT', body: 'system notice' });
  assertMessage(data, 'system');
  assert.equal(data.type, 'SYSTEM_TEXT');
  assert.equal(data.body, 'system notice');
  sentToGeneral.push(data);
});

await suite.check('sendChannelMessage FILE is an EXTERNAL file', async () => {
  const file = { url: `https://example.com/${run}/doc.pdf`, name: 'doc.pdf', content_type: 'application/pdf', size: 2048 };
  const { data } = await channels.sendChannelMessage(ch.general.id, {
    type: 'FILE',
    file,
    user: { username: bobName },
    group_tag: 'gallery',
    properties: { k: 'v' },
  });
  assertMessage(data, 'file');
  assert.equal(data.type, 'FILE');
  assert.equal(data.file.type, 'EXTERNAL');
  assert.equal(data.file.url, file.url);
  assert.equal(data.file.name, file.name);
  assert.equal(data.file.content_type, file.content_type);
  assert.equal(data.file.size, file.size);
  assert.equal(data.group_tag, 'gallery');
  assert.deepEqual(data.properties, { k: 'v' });
  assert.equal(data.user.name, bobName);
  sentToGeneral.push(data);
});

await suite.check('sendChannelMessage parses mentions and links', async () => {
  const url = `https://example.com/${run}`;
  const body = `ping @${bobName} see ${url}`;
  const { data } = await channels.sendChannelMessage(ch.general.id, { type: 'TEXT', body, user: { username: aliceName } });
  assertMessage(data, 'mentions');
  assert.equal(data.mentions.length, 1, JSON.stringify(data.mentions));
  const [m] = data.mentions;
  assert.equal(m.type, 'USER');
  assert.equal(m.tag, bobName);
  assert.equal(m.start_position, 5);
  assert.equal(m.end_position, 6 + bobName.length);
  assert.equal(m.user.name, bobName);
  assert.equal(data.links.length, 1);
  assert.equal(data.links[0].source, url);
  assert.equal(data.links[0].start_position, body.indexOf(url));
  assert.equal(data.links[0].end_position, body.length);
  sentToGeneral.push(data);
});

await suite.check('sendChannelMessage refusals: bad type 400, non-member in a private channel 4xx, no channel 404', async () => {
  assertApiError((await rejects(channels.sendChannelMessage(ch.general.id, { type: 'VIDEO', body: 'x' }), 400)).data);
  const res = await rejects(
    channels.sendChannelMessage(ch.priv.id, { type: 'TEXT', body: 'let me in', user: { username: daveName } }),
  );
  assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
  assertApiError(res.data);
  await rejects(channels.sendChannelMessage(999999999, { type: 'TEXT', body: 'x' }), 404);
});

// 23. Cursor traversal of 24 messages in pages of 10.
await suite.check('listChannelMessages: 24 messages in pages of 10 by _links.next.href, each once, newest first', async () => {
  const users2 = [aliceName, bobName];
  for (let i = sentToGeneral.length; i < 24; i += 1) {
    const body = i % 5 === 0 ? `hello ${i}` : `message ${i}`;
    const { data } = await channels.sendChannelMessage(ch.general.id, {
      type: 'TEXT',
      body,
      user: { username: users2[i % 2] },
    });
    sentToGeneral.push(data);
  }
  assert.equal(sentToGeneral.length, 24);
  const pages = await walk(
    (size, start, next, relation) => channels.listChannelMessages(ch.general.id, size, start, next, relation),
    10,
  );
  assert.deepEqual(pages.map((p) => p.length), [10, 10, 4]);
  const seen = pages.flat();
  for (const m of seen) assertMessage(m, 'listed');
  assert.equal(new Set(ids(seen)).size, seen.length, 'no message twice');
  assert.deepEqual(ids(seen), ids(sentToGeneral).reverse(), 'every message, newest first');
  for (let i = 1; i < seen.length; i += 1) {
    assert.ok(Date.parse(seen[i - 1].created_time) >= Date.parse(seen[i].created_time), 'created_time order');
  }
  // The same traversal again gives the same order.
  const again = (await walk((...a) => channels.listChannelMessages(ch.general.id, ...a), 10)).flat();
  assert.deepEqual(ids(again), ids(seen));
  // Each page's `self` link (relation SELF) gives that page again.
  let page = (await channels.listChannelMessages(ch.general.id, 10)).data;
  for (let i = 0; page; i += 1) {
    const self = cursorOf(cfg.base, page._links.self.href);
    assert.equal(self.relation, 'SELF');
    const same = (await channels.listChannelMessages(ch.general.id, self.size, self.start, self.next, self.relation))
      .data;
    assert.deepEqual(ids(same._embedded.messages), ids(pages[i]), `page ${i} by its self link`);
    const next = page._links.next && cursorOf(cfg.base, page._links.next.href);
    page = next && (await channels.listChannelMessages(ch.general.id, next.size, next.start, next.next, next.relation)).data;
  }
});

await suite.check('listChannelMessages: prev links (relation PREVIOUS) walk back over the same pages', async () => {
  let page = (await channels.listChannelMessages(ch.general.id, 10)).data;
  assert.equal(page._links.prev, undefined, 'the first page has no prev link');
  const forward = [ids(page._embedded.messages)];
  while (page._links.next) {
    const c = cursorOf(cfg.base, page._links.next.href);
    page = (await channels.listChannelMessages(ch.general.id, c.size, c.start, c.next, c.relation)).data;
    forward.push(ids(page._embedded?.messages ?? []));
    assert.ok(forward.length < 20, 'next links end');
  }
  assert.ok(forward.length >= 3, `${forward.length} pages`);
  const back = [forward.at(-1)];
  while (page._links.prev) {
    const c = cursorOf(cfg.base, page._links.prev.href);
    assert.equal(c.relation, 'PREVIOUS');
    page = (await channels.listChannelMessages(ch.general.id, c.size, c.start, c.next, c.relation)).data;
    back.push(ids(page._embedded.messages));
    assert.ok(back.length < 20, 'prev links end');
  }
  assert.deepEqual(back.reverse(), forward);
});

await suite.check('listChannelMessages: a tampered cursor is a 400 ApiError', async () => {
  const first = (await channels.listChannelMessages(ch.general.id, 10)).data;
  const c = cursorOf(cfg.base, first._links.next.href);
  const res = await rejects(channels.listChannelMessages(ch.general.id, 10, c.start, c.next + 1, 'NEXT'), 400);
  assertApiError(res.data);
});

await suite.check('listChannelMessages filters by username and query', async () => {
  const mine = (await walk((...a) => channels.listChannelMessages(ch.general.id, ...a, aliceName), 10)).flat();
  assert.deepEqual(ids(mine), ids(sentToGeneral.filter((m) => m.user?.name === aliceName)).reverse());
  const hello = (await walk((...a) => channels.listChannelMessages(ch.general.id, ...a, undefined, 'hello'), 10))
    .flat();
  assert.deepEqual(ids(hello), ids(sentToGeneral.filter((m) => m.body?.includes('hello'))).reverse());
});

// 24. Application-wide messages.
await suite.check('listMessages filters by username and query; retrieveMessage round-trips', async () => {
  const mine = (await walk((...a) => messages.listMessages(...a, aliceName), 25)).flat();
  assert.ok(mine.length > 0);
  for (const m of mine) assert.equal(m.user?.name, aliceName);
  for (const m of sentToGeneral.filter((x) => x.user?.name === aliceName)) {
    assert.ok(ids(mine).includes(m.id), `alice's ${m.id} listed`);
  }
  const hello = (await walk((...a) => messages.listMessages(...a, undefined, 'hello'), 25)).flat();
  for (const m of hello) assert.ok(m.body.toLowerCase().includes('hello'), `${m.body} matches`);
  for (const m of sentToGeneral.filter((x) => x.body?.includes('hello'))) {
    assert.ok(ids(hello).includes(m.id), `${m.body} listed`);
  }
  const all = (await walk((...a) => messages.listMessages(...a), 25)).flat();
  assert.equal(new Set(ids(all)).size, all.length, 'no message twice');
  const m = sentToGeneral[0];
  const got = (await messages.retrieveMessage(m.id)).data;
  assertMessage(got, 'retrieved');
  for (const k of ['id', 'type', 'body', 'channel_id', 'created_time', 'nested_level']) {
    assert.deepEqual(got[k], m[k], k);
  }
  assert.equal(got.user.name, aliceName);
  assertApiError((await rejects(messages.retrieveMessage(999999999), 404)).data);
});

// 25. Editing a message.
await suite.check('updateMessage sets body and properties and last_edited_time', async () => {
  const m = sentToGeneral[1];
  const { data } = await messages.updateMessage(m.id, { body: 'edited', properties: { x: 1 } });
  assert.match(String(header(lastRequest, 'content-type')), /^application\/json\+merge-patch/);
  assertMessage(data, 'edited');
  assert.equal(data.id, m.id);
  assert.equal(data.body, 'edited');
  assert.deepEqual(data.properties, { x: 1 });
  assertIsoTime(data.last_edited_time, 'last_edited_time');
  assert.equal(m.last_edited_time, undefined, 'not set before the edit');
  const again = (await messages.retrieveMessage(m.id)).data;
  assert.equal(again.body, 'edited');
  assert.equal(again.last_edited_time, data.last_edited_time);
  sentToGeneral[1] = again;
});

// 26. Keystrokes and custom events.
await suite.check('sendChannelKeystrokes and sendChannelEvent echo', async () => {
  const k = (await channels.sendChannelKeystrokes(ch.general.id, { keys: 'typ', user: { username: aliceName } })).data;
  assert.deepEqual({ keys: k.keys, username: k.username }, { keys: 'typ', username: aliceName });
  const e = (await channels.sendChannelEvent(ch.general.id, { type: 'custom', properties: { a: 1 } })).data;
  assert.equal(e.type, 'custom');
  assert.deepEqual(e.properties, { a: 1 });
});

// 27. Threads.
await suite.check("a message's reply thread: send and list messages, retrieveThread, sendThreadKeystrokes", async () => {
  const parent = sentToGeneral[0];
  const tid = idOf(parent._links.reply_thread);
  assert.equal(parent._links.replies.href, `${parent._links.reply_thread.href}/messages`);
  const reply = (await threads.sendThreadMessage(tid, { type: 'TEXT', body: 'reply', user: { username: bobName } })).data;
  assertMessage(reply, 'reply');
  assert.equal(reply.body, 'reply');
  assert.equal(reply.nested_level, 1);
  assert.equal(reply.channel_id, ch.general.id);
  const listed = (await walk((...a) => threads.listThreadMessages(tid, ...a), 10)).flat();
  assert.deepEqual(ids(listed), [reply.id]);
  const t = (await threads.retrieveThread(tid)).data;
  assert.equal(t.type, 'MESSAGE');
  assert.equal(t.id, tid);
  assertIsoTime(t.created_time, 'thread created_time');
  assert.equal(typeof t.properties, 'object');
  assertLinks(t._links, 'thread');
  assert.equal((await messages.retrieveMessage(parent.id)).data.replies_count, 1);
  const k = (await threads.sendThreadKeystrokes(tid, { keys: 're', user: { username: bobName } })).data;
  assert.equal(lastRequest.url, `${cfg.base}/threads/${tid}/keystrokes`);
  assert.deepEqual({ keys: k.keys, username: k.username }, { keys: 're', username: bobName });
  await rejects(threads.sendThreadKeystrokes(999999999, { keys: 'x', user: { username: bobName } }), 404);
  // The reply is not in the channel's MAIN thread.
  const main = (await threads.listThreadMessages(idOf(parent._links.thread), 5)).data._embedded.messages;
  assert.ok(!ids(main).includes(reply.id), 'the reply is not in the MAIN thread');
});

await suite.check("the channel's MAIN thread takes top-level messages", async () => {
  const tid = idOf(sentToGeneral[0]._links.thread);
  const t = (await threads.retrieveThread(tid)).data;
  assert.equal(t.type, 'MAIN');
  const m = (await threads.sendThreadMessage(tid, { type: 'TEXT', body: 'top level', user: { username: aliceName } }))
    .data;
  assert.equal(m.nested_level, 0);
  sentToGeneral.push(m);
  const latest = (await threads.listThreadMessages(tid, 1)).data._embedded.messages;
  assert.deepEqual(ids(latest), [m.id]);
  assertApiError((await rejects(threads.retrieveThread(999999999), 404)).data);
});

// 28. Unread messages and read receipts.
await suite.check('countUserUnreadMessages and listUserMessages(unread)', async () => {
  const bob = user(bobName);
  const { data } = await users.countUserUnreadMessages(bob.id);
  assert.ok(Number.isInteger(data.count) && data.count >= 1, `count ${data.count}`);
  const unread = (await walk((...a) => users.listUserMessages(bob.id, ...a, true), 10)).flat();
  assert.ok(unread.length >= 1, 'unread messages listed');
  assert.ok(lastRequest.url.includes('unread=true'), lastRequest.url);
  for (const m of unread) assertMessage(m, 'unread');
  for (const m of unread) assert.notEqual(m.user?.name, bobName, 'his own messages are not unread');
  const unreadSent = sentToGeneral.filter((m) => m.user?.name !== bobName);
  for (const m of unreadSent) assert.ok(ids(unread).includes(m.id), `${m.id} is unread by bob`);
  assert.ok(data.count >= unreadSent.length, `count ${data.count} covers ${unreadSent.length}`);
  // Without `unread`: the messages the user sent (Palaver's reading of "a user's messages").
  const sent = (await walk((...a) => users.listUserMessages(bob.id, ...a), 10)).flat();
  assert.equal(new Set(ids(sent)).size, sent.length, 'no message twice');
  assert.ok(sent.length > 0);
  for (const m of sent) assert.equal(m.user?.name, bobName);
  await rejects(users.countUserUnreadMessages(999999999), 404);
});

await suite.check('listMessageReadReceipts is a page of receipts', async () => {
  const { data } = await messages.listMessageReadReceipts(sentToGeneral[0].id, 0, 10);
  assert.equal(data.page.size, 10);
  assert.equal(data.page.number, 0);
  assert.equal(typeof data.page.total_elements, 'number');
  const receipts = data._embedded?.receipts ?? [];
  assert.ok(Array.isArray(receipts));
  for (const r of receipts) {
    assertIsoTime(r.created_time, 'receipt created_time');
    assert.equal(typeof r.user?.name, 'string');
  }
  assertLinks(data._links, 'receipts');
  await rejects(messages.listMessageReadReceipts(999999999), 404);
});

await suite.check('retrieveApplicationMessageReadReceiptSummaries is a page of summaries', async () => {
  const { data } = await kitty.ApplicationApi.retrieveApplicationMessageReadReceiptSummaries({ page: 0, size: 10 });
  assert.ok(lastRequest.url.includes('page=0') && lastRequest.url.includes('size=10'), lastRequest.url);
  assert.equal(data.page.size, 10);
  assert.equal(typeof data.page.total_elements, 'number');
  const summaries = data._embedded?.summaries ?? [];
  assert.ok(Array.isArray(summaries));
  for (const s of summaries) {
    assert.equal(typeof s.count, 'number');
    assert.equal(typeof s.channel?.id, 'number');
    assert.equal(typeof s.user?.name, 'string');
  }
});

// 29. Notifications, made shortly after each message.
await suite.check('listUserNotifications: a cursor page of typed notifications, a mention among them', async () => {
  const bob = user(bobName);
  const types = ['SYSTEM:SENT:MESSAGE', 'USER:SENT:MESSAGE', 'USER:REPLIED_TO:MESSAGE', 'USER:MENTIONED:USER',
    'USER:MENTIONED:CHANNEL'];
  const everyone = (
    await channels.sendChannelMessage(ch.general.id, { type: 'TEXT', body: '@channel all', user: { username: aliceName } })
  ).data;
  assert.equal(everyone.mentions[0]?.type, 'CHANNEL');
  assert.equal(everyone.mentions[0]?.channel?.id, ch.general.id);
  sentToGeneral.push(everyone);
  const wanted = ['USER:MENTIONED:USER', 'USER:MENTIONED:CHANNEL'];
  let all = [];
  for (let i = 0; i < 50; i += 1) {
    all = (await walk((...a) => users.listUserNotifications(bob.id, ...a), 10, 'notifications')).flat();
    if (wanted.every((t) => all.some((n) => n.data?.type === t))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(all.length > 0, 'notifications arrived');
  assert.equal(new Set(all.map((n) => n.id)).size, all.length, 'no notification twice');
  for (const n of all) {
    assert.equal(typeof n.id, 'number');
    assert.equal(typeof n.title, 'string');
    assert.equal(typeof n.body, 'string');
    assertIsoTime(n.created_time, 'notification created_time');
    assert.equal(typeof n.muted, 'boolean');
    assert.ok(types.includes(n.data?.type), `data.type ${n.data?.type}`);
  }
  const mention = all.find((n) => n.data.type === 'USER:MENTIONED:USER');
  assert.ok(mention, 'bob was told of his mention');
  assert.equal(mention.data.mentioned_user.name, bobName);
  assert.equal(mention.data.message.user.name, aliceName);
  assert.equal(mention.data.channel_id, ch.general.id);
  assert.equal(mention.channel?.id, ch.general.id);
  assert.ok(all.some((n) => n.data.type === 'SYSTEM:SENT:MESSAGE'), 'told of the system message');
  const toChannel = all.find((n) => n.data.type === 'USER:MENTIONED:CHANNEL');
  assert.ok(toChannel, 'bob was told of the @channel mention');
  assert.equal(toChannel.data.mentioned_channel.id, ch.general.id);
  assert.equal(toChannel.data.message.id, everyone.id);
  // Nobody is told of their own message.
  const alices = (await walk((...a) => users.listUserNotifications(user(aliceName).id, ...a), 10, 'notifications'))
    .flat();
  assert.ok(!alices.some((n) => n.data.message?.user?.name === aliceName), 'alice is not told of her own messages');
});

// ---- Imports, jobs and analytics exports (§6 steps 32-34) ----
//
// Each answers 202 with a job that the server's own workers run; the jobs are polled with
// JobsApi.retrieveJob until they end. Import files are handed over as a Node user does: a
// `File` (or a `Blob`) of the JSON array's text, which the client sends as the multipart part
// `file` (`FormData` of Node's undici, encoded by axios 1.x).

const imports = kitty.ImportsApi;
const jobs = kitty.JobsApi;
const analytics = kitty.AnalyticsApi;
/** How long a job may take to end. */
const JOB_WAIT_MS = 20000;
const jobStates = ['PENDING', 'RUNNING', 'FINISHED', 'FAILED'];
const impName = `imp1-${run}`;
const imp = {};
// The jobs of each import, as last retrieved.
const importJobs = {};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const jsonFile = (elements, name) => new File([JSON.stringify(elements)], name, { type: 'application/json' });

function assertJob(j, what, type) {
  assert.equal(j.type, type, `${what}: type`);
  assert.equal(typeof j.id, 'number', `${what}: id`);
  assert.ok(jobStates.includes(j.state), `${what}: state ${j.state}`);
  assertIsoTime(j.created_time, `${what}: created_time`);
  if (j.ended_time !== undefined) assertIsoTime(j.ended_time, `${what}: ended_time`);
  assert.equal(j.createdTime, undefined, `${what}: no camelCase createdTime`);
  assertLinks(j._links, what);
}

/** A job just started: 202, not ended, no file yet. */
function assertStarted(res, type, what) {
  assert.equal(res.status, 202, `${what}: status`);
  assertJob(res.data, what, type);
  assert.ok(['PENDING', 'RUNNING'].includes(res.data.state), `${what}: state ${res.data.state} when started`);
  assert.equal(res.data.ended_time, undefined, `${what}: no ended_time when started`);
  assert.equal(res.data.file, undefined, `${what}: no file when started`);
}

/** The job and, when the server links them, the elements it could not handle: for messages. */
async function describeJob(j) {
  let errors = '';
  const href = j._links?.errors?.href;
  if (href) {
    const token = await kitty.apiConfiguration.accessToken();
    const res = await fetch(href, { headers: { Authorization: `Bearer ${token}` } });
    errors = ` errors: ${await res.text()}`;
  }
  return `${JSON.stringify(j)}${errors}`;
}

/** Polls retrieveJob until `job` has ended; answers it, which must be FINISHED. */
async function finished(job, what) {
  const deadline = Date.now() + JOB_WAIT_MS;
  let j = job;
  const seen = [j.state];
  while (!['FINISHED', 'FAILED'].includes(j.state)) {
    assert.ok(Date.now() < deadline, `${what}: still ${j.state} after ${JOB_WAIT_MS} ms: ${JSON.stringify(j)}`);
    await sleep(100);
    j = (await jobs.retrieveJob(job.id)).data;
    assert.equal(lastRequest.url, `${cfg.base}/jobs/${job.id}`);
    assertJob(j, what, job.type);
    assert.equal(j.id, job.id);
    assert.equal(j.created_time, job.created_time, `${what}: created_time is kept`);
    seen.push(j.state);
  }
  assert.equal(j.state, 'FINISHED', `${what}: ${await describeJob(j)}`);
  assertIsoTime(j.ended_time, `${what}: ended_time`);
  assert.ok(Date.parse(j.ended_time) >= Date.parse(j.created_time), `${what}: ended after it was created`);
  // PENDING, then RUNNING, then FINISHED: never back.
  const order = seen.map((s) => jobStates.indexOf(s));
  for (let i = 1; i < order.length; i += 1) assert.ok(order[i - 1] <= order[i], `${what}: states ${seen}`);
  return j;
}

/** The token the wrapper holds, for a download by hand. */
const bearer = async () => ({ Authorization: `Bearer ${await kitty.apiConfiguration.accessToken()}` });

// 32. Users.
await suite.check('importUsers (a File) is 202 USER_IMPORT; retrieveJob polls it to FINISHED; listUsers finds the user', async () => {
  const file = jsonFile(
    [{ name: impName, display_name: 'Imported One', guest: false, properties: { imported: run }, idempotency_key: `u-${run}` }],
    'u.json',
  );
  const res = await imports.importUsers(file);
  assert.equal(lastRequest.url, `${cfg.base}/imports/users`);
  assert.equal(lastRequest.method, 'post');
  assert.ok(lastRequest.data instanceof FormData, 'the body is a FormData');
  assert.match(String(header(lastRequest, 'content-type')), /^multipart\/form-data; boundary=/);
  assertStarted(res, 'USER_IMPORT', 'user import');
  assert.ok(Object.values(chatkitty.ApplicationJobResourceTypeEnum).includes(res.data.type));
  importJobs.users = await finished(res.data, 'user import');
  const { data } = await users.listUsers(0, 5, undefined, impName);
  assert.equal(data.page.total_elements, 1, `imported user listed: ${await describeJob(importJobs.users)}`);
  const u = data._embedded.users[0];
  assertUser(u, 'imported user');
  assert.equal(u.name, impName);
  assert.equal(u.display_name, 'Imported One');
  assert.equal(u.isGuest, false);
  assert.deepEqual(u.properties, { imported: run });
  imp.user = u;
});

await suite.check('importUsers again with the same idempotency_key finishes and makes no second user', async () => {
  const file = jsonFile(
    [{ name: impName, display_name: 'Imported Again', guest: false, properties: {}, idempotency_key: `u-${run}` }],
    'u.json',
  );
  const res = await imports.importUsers(file);
  assertStarted(res, 'USER_IMPORT', 'repeated user import');
  await finished(res.data, 'repeated user import');
  const { data } = await users.listUsers(0, 5, undefined, impName);
  assert.equal(data.page.total_elements, 1);
  assert.deepEqual(data._embedded.users[0], imp.user, 'the user is unchanged');
});

await suite.check('retrieveJob of an unknown id is a 404 ApiError', async () => {
  assertApiError((await rejects(jobs.retrieveJob(999999999), 404)).data);
});

// 33. Channels, members and messages.
await suite.check('importChannels is 202 CHANNEL_IMPORT; the PUBLIC channel exists with its creator and members', async () => {
  const res = await imports.importChannels(
    jsonFile(
      [
        {
          type: 'PUBLIC',
          name: `imp-ch-${run}`,
          display_name: 'Imported Channel',
          creator: aliceName,
          members: [aliceName, impName],
          properties: { imported: run },
          idempotency_key: `c-${run}`,
        },
      ],
      'channels.json',
    ),
  );
  assert.equal(lastRequest.url, `${cfg.base}/imports/channels`);
  assertStarted(res, 'CHANNEL_IMPORT', 'channel import');
  importJobs.channels = await finished(res.data, 'channel import');
  const { data } = await channels.listChannels(0, 10, undefined, undefined, undefined, undefined, undefined,
    JSON.stringify({ imported: run }));
  const listed = data._embedded?.channels ?? [];
  assert.equal(listed.length, 1, `imported channel listed: ${await describeJob(importJobs.channels)}`);
  const c = listed[0];
  assertChannel(c, 'imported channel');
  assert.equal(c.type, 'PUBLIC');
  assert.equal(c.name, `imp-ch-${run}`);
  assert.equal(c.display_name, 'Imported Channel');
  assert.equal(c.creator?.name, aliceName);
  const members = (await channels.listChannelMembers(c.id, 0, 100)).data._embedded.users.map((u) => u.name);
  assert.deepEqual(members.sort(), [aliceName, impName].sort());
  imp.channel = c;
});

await suite.check('importChannelMembers (a Blob: file name "blob", no type) is 202 CHANNEL_MEMBERS_IMPORT; the member is added', async () => {
  const id = imp.channel.id;
  const res = await imports.importChannelMembers(id, new Blob([JSON.stringify([{ username: bobName }])]));
  assert.equal(lastRequest.url, `${cfg.base}/imports/channels/${id}/members`);
  assertStarted(res, 'CHANNEL_MEMBERS_IMPORT', 'member import');
  importJobs.members = await finished(res.data, 'member import');
  const members = (await channels.listChannelMembers(id, 0, 100)).data._embedded.users.map((u) => u.name);
  assert.ok(members.includes(bobName), `bob is a member (${members}): ${await describeJob(importJobs.members)}`);
  assert.equal(members.length, 3);
});

await suite.check('importMessages is 202 MESSAGE_IMPORT; TEXT and SYSTEM_TEXT are in listChannelMessages', async () => {
  const id = imp.channel.id;
  const res = await imports.importMessages(
    jsonFile(
      [
        { type: 'TEXT', channel_id: id, body: `imported ${run}`, user: aliceName, group_tag: 'imp', properties: { n: 1 } },
        { type: 'SYSTEM_TEXT', channel_id: id, body: 'imported notice' },
      ],
      'messages.json',
    ),
  );
  assert.equal(lastRequest.url, `${cfg.base}/imports/messages`);
  assertStarted(res, 'MESSAGE_IMPORT', 'message import');
  importJobs.messages = await finished(res.data, 'message import');
  const listed = (await walk((...a) => channels.listChannelMessages(id, ...a), 10)).flat();
  for (const m of listed) assertMessage(m, 'imported message');
  const text = listed.find((m) => m.type === 'TEXT');
  const notice = listed.find((m) => m.type === 'SYSTEM_TEXT');
  assert.equal(listed.length, 2, `two messages: ${await describeJob(importJobs.messages)}`);
  assert.equal(text?.body, `imported ${run}`);
  assert.equal(text.user.name, aliceName);
  assert.equal(text.channel_id, id);
  assert.equal(text.group_tag, 'imp');
  assert.deepEqual(text.properties, { n: 1 });
  assert.equal(notice?.body, 'imported notice');
  imp.message = text;
});

await suite.check('listJobs(running=false) lists the four import jobs, FINISHED; running=true lists none of them', async () => {
  const mine = Object.values(importJobs);
  assert.equal(mine.length, 4, 'four imports ran');
  const { data } = await jobs.listJobs(undefined, 100, undefined, false);
  assert.ok(lastRequest.url.includes('running=false'), lastRequest.url);
  assert.equal(typeof data.page.total_elements, 'number');
  assertLinks(data._links, 'jobs page');
  const listed = data._embedded?.jobs ?? [];
  for (const j of mine) {
    const found = listed.find((x) => x.id === j.id);
    assert.ok(found, `job ${j.id} (${j.type}) listed`);
    assertJob(found, 'listed job', j.type);
    assert.equal(found.state, 'FINISHED');
  }
  const running = (await jobs.listJobs(0, 100, undefined, true)).data;
  assert.ok(lastRequest.url.includes('running=true'), lastRequest.url);
  for (const j of running._embedded?.jobs ?? []) {
    assert.ok(!mine.some((x) => x.id === j.id), `ended job ${j.id} listed as running`);
  }
  const paged = (await jobs.listJobs(0, 2, ['id,desc'])).data;
  assert.equal(paged.page.size, 2);
  assert.ok(paged._embedded.jobs.length <= 2);
});

// 34. Analytics exports.
/** Downloads an export job's `file` with the application's token; answers the CSV text. */
async function download(j, what) {
  assert.equal(typeof j.file, 'string', `${what}: file`);
  assert.ok(j.file.startsWith(`${cfg.base}/`), `${what}: file ${j.file} is an absolute URL of the server`);
  const res = await fetch(j.file, { headers: await bearer() });
  assert.equal(res.status, 200, `${what}: download`);
  assert.match(String(res.headers.get('content-type')), /^text\/csv/);
  assert.equal((await fetch(j.file)).status, 401, `${what}: no download without the token`);
  return res.text();
}

await suite.check('exportMessageAnalytics is 202 MESSAGE_ANALYTICS_EXPORT; FINISHED with a CSV file', async () => {
  const res = await analytics.exportMessageAnalytics();
  assert.equal(lastRequest.url, `${cfg.base}/analytics/messages`);
  assert.equal(lastRequest.method, 'post');
  assertStarted(res, 'MESSAGE_ANALYTICS_EXPORT', 'messages export');
  assert.equal(res.data.type, chatkitty.ApplicationJobResourceTypeEnum.MessageAnalyticsExport);
  const j = await finished(res.data, 'messages export');
  const csv = await download(j, 'messages export');
  assert.ok(csv.startsWith('id,channel_id'), `CSV header: ${csv.split('\n')[0]}`);
  const rows = csv.trim().split('\n').slice(1);
  assert.ok(rows.some((r) => r.startsWith(`${imp.message.id},${imp.channel.id},`)), 'the imported message has a row');
  assert.ok(rows.some((r) => r.startsWith(`${sentToGeneral[0].id},${ch.general.id},`)), 'a sent message has a row');
});

await suite.check('exportUserAnalytics is 202 USER_ANALYTICS_EXPORT (Palaver\'s type); FINISHED with a CSV file', async () => {
  const res = await analytics.exportUserAnalytics();
  assert.equal(lastRequest.url, `${cfg.base}/analytics/users`);
  assertStarted(res, 'USER_ANALYTICS_EXPORT', 'users export');
  const j = await finished(res.data, 'users export');
  const csv = await download(j, 'users export');
  assert.ok(csv.startsWith('id,name'), `CSV header: ${csv.split('\n')[0]}`);
  assert.ok(csv.split('\n').some((r) => r.startsWith(`${imp.user.id},${impName},`)), 'the imported user has a row');
  const listed = (await jobs.listJobs(0, 100)).data._embedded.jobs;
  assert.ok(listed.some((x) => x.id === j.id && x.file === j.file), 'the export is listed with its file');
});

// ---- Channels and messages again (§6 steps 35-36) ----

// 35. Pages that may be empty.
await suite.check('listChannelParticipants and listChannelReportedMessages are valid pages', async () => {
  const p = (await channels.listChannelParticipants(ch.general.id, 0, 10)).data;
  assert.equal(p.page.size, 10);
  assert.equal(typeof p.page.total_elements, 'number');
  for (const u of p._embedded?.users ?? []) assertUser(u, 'participant');
  const r = (await channels.listChannelReportedMessages(ch.general.id, 0, 10)).data;
  assert.equal(r.page.size, 10);
  assert.equal(typeof r.page.total_elements, 'number');
  for (const m of r._embedded?.messages ?? []) assertMessage(m, 'reported');
  await rejects(channels.listChannelReportedMessages(999999999), 404);
});

// 36. Deletes.
await suite.check('deleteMessage returns a ReplyThreadResource; the message is gone', async () => {
  const m = sentToGeneral.pop();
  const { data } = await messages.deleteMessage(m.id);
  assert.ok(['MAIN', 'STANDALONE', 'MESSAGE'].includes(data.type), `type ${data.type}`);
  assert.equal(typeof data.id, 'number');
  assertIsoTime(data.created_time, 'thread created_time');
  assert.equal(typeof data.properties, 'object');
  assertApiError((await rejects(messages.retrieveMessage(m.id), 404)).data);
  await rejects(messages.deleteMessage(m.id), 404);
  const latest = (await channels.listChannelMessages(ch.general.id, 1)).data._embedded.messages;
  assert.notEqual(latest[0]?.id, m.id);
});

await suite.check('deleteChannel returns the application; the channel is gone', async () => {
  const { data } = await channels.deleteChannel(ch.priv.id);
  assert.equal(typeof data.key, 'string');
  assertIsoTime(data.created_time, 'created_time');
  assertApiError((await rejects(channels.retrieveChannel(ch.priv.id), 404)).data);
  await rejects(channels.deleteChannel(ch.priv.id), 404);
  const left = (await users.listUserChannels(user(aliceName).id, 0, 100)).data._embedded.channels.map((c) => c.id);
  assert.ok(!left.includes(ch.priv.id));
});

await suite.check('deleteUser of a channel member; the user is gone', async () => {
  const carol = user(carolName);
  const { data } = await users.deleteUser(carol.id);
  assert.equal(typeof data.key, 'string');
  await rejects(users.retrieveUser(carol.id), 404);
  await rejects(channels.addChannelMember(ch.general.id, { id: carol.id }), 404);
});

await suite.check('deleteMessages empties every history', async () => {
  const { data } = await messages.deleteMessages();
  assert.equal(typeof data.key, 'string');
  assertIsoTime(data.created_time, 'created_time');
  const left = (await messages.listMessages(10)).data;
  assert.equal(left._embedded?.messages?.length ?? 0, 0);
  assert.equal(left._links.next, undefined);
  const general = (await channels.listChannelMessages(ch.general.id, 10)).data;
  assert.equal(general._embedded?.messages?.length ?? 0, 0);
  await rejects(messages.retrieveMessage(sentToGeneral[0].id), 404);
});

// ---- Runtime and functions (§6 steps 30-31) ----
// After everything else: a function of the application may run on the events of the steps
// above, and none should.

const runtimeApi = kitty.RuntimeApi;
const functionsApi = kitty.FunctionsApi;
const functionVersionsApi = kitty.FunctionVersionsApi;
const SEMVER = /^v?\d+\.\d+\.\d+$/;

function assertRuntime(r, what) {
  assert.equal(r.type, 'NODEJS', `${what}: type`);
  assert.equal(typeof r.id, 'number', `${what}: id`);
  assert.ok(Array.isArray(r.dependencies), `${what}: dependencies`);
  for (const d of r.dependencies) {
    assert.equal(typeof d.name, 'string', `${what}: dependency name`);
    assert.equal(typeof d.version, 'string', `${what}: dependency version`);
    assert.equal(typeof d.default_dependency, 'boolean', `${what}: default_dependency`);
  }
  assert.equal(typeof r.environment_variables, 'object', `${what}: environment_variables`);
  assert.match(r.version, SEMVER, `${what}: version`);
  assertLinks(r._links, what);
}

function assertFunction(f, what) {
  assert.equal(typeof f.id, 'number', `${what}: id`);
  assert.equal(typeof f.type, 'string', `${what}: type`);
  assert.equal(typeof f.name, 'string', `${what}: name`);
  assert.equal(typeof f.enabled, 'boolean', `${what}: enabled`);
  assert.equal(typeof f.current_version_number, 'number', `${what}: current_version_number`);
  assert.equal(f.runtime?.type, 'NODEJS', `${what}: runtime.type`);
  assert.equal(typeof f.runtime?.id, 'number', `${what}: runtime.id`);
  assert.match(f.runtime?.version, SEMVER, `${what}: runtime.version`);
  assertLinks(f._links, what);
}

function assertVersion(v, what) {
  assert.equal(typeof v.id, 'number', `${what}: id`);
  assert.equal(typeof v.version_number, 'number', `${what}: version_number`);
  assert.equal(typeof v.handler_script, 'string', `${what}: handler_script`);
  assertLinks(v._links, what);
}

const rt = {};

// 30. Runtime.
await suite.check('retrieveNodejsRuntime is the application\'s NODEJS runtime', async () => {
  const { data } = await runtimeApi.retrieveNodejsRuntime();
  assert.equal(lastRequest.url, `${cfg.base}/runtimes/nodejs`);
  assertRuntime(data, 'runtime');
  rt.id = data.id;
});

await suite.check('updateNodejsRuntimeDependencies replaces the dependencies in a new version', async () => {
  const before = (await runtimeApi.retrieveNodejsRuntime()).data;
  const lodash = { name: 'lodash', version: '4.17.21', default_dependency: false };
  const { data } = await runtimeApi.updateNodejsRuntimeDependencies([lodash]);
  assert.equal(lastRequest.method, 'put');
  assert.equal(lastRequest.url, `${cfg.base}/runtimes/nodejs/dependencies`);
  assertRuntime(data, 'runtime');
  assert.equal(data.id, before.id);
  assert.deepEqual(data.dependencies.find((d) => d.name === 'lodash'), lodash);
  assert.notEqual(data.version, before.version, 'the version moves on');
  const bad = await rejects(
    runtimeApi.updateNodejsRuntimeDependencies([{ name: 'Not A Package', version: '1', default_dependency: false }]),
    400,
  );
  assertApiError(bad.data);
  await rejects(runtimeApi.updateNodejsRuntimeDependencies([lodash, lodash]), 400);
});

await suite.check('updateNodejsRuntimeEnvironmentVariables sets FOO=bar', async () => {
  const { data } = await runtimeApi.updateNodejsRuntimeEnvironmentVariables({ FOO: 'bar' });
  assertRuntime(data, 'runtime');
  assert.equal(data.environment_variables.FOO, 'bar');
  assert.equal((await runtimeApi.retrieveNodejsRuntime()).data.environment_variables.FOO, 'bar');
  assertApiError((await rejects(runtimeApi.updateNodejsRuntimeEnvironmentVariables({ 'NOT-A-NAME': 'x' }), 400)).data);
});

await suite.check('updateNodejsRuntimeInitializationScript echoes the script', async () => {
  const { data } = await runtimeApi.updateNodejsRuntimeInitializationScript({ script: 'module.exports={}' });
  assertRuntime(data, 'runtime');
  assert.equal(data.initialization_script?.script, 'module.exports={}');
  const again = (await runtimeApi.retrieveNodejsRuntime()).data;
  assert.equal(again.initialization_script?.script, 'module.exports={}');
  assert.deepEqual(again.dependencies.map((d) => d.name), ['lodash'], 'the dependencies stay');
});

// 31. Functions.
const fn = {};
const HANDLER = 'async function handleEvent(event, context) {\n  return [];\n}';

await suite.check('createNodejsRuntimeFunction; listNodejsRuntimeFunctions contains it', async () => {
  const body = { type: 'user.sent.message', name: `onMsg-${run}`, initialize_asynchronously: false };
  let made;
  try {
    made = (await runtimeApi.createNodejsRuntimeFunction(body)).data;
  } catch (e) {
    // The script ran against this server before: the application has its function already.
    if (e?.response?.status !== 409) throw e;
  }
  if (made) {
    assert.equal(lastRequest.url, `${cfg.base}/runtimes/nodejs/functions`);
    assertFunction(made, 'function');
    assert.equal(made.type, 'user.sent.message');
    assert.equal(made.name, body.name);
    assert.equal(made.enabled, true);
    assert.equal(made.current_version_number, 0);
    assert.equal(made.runtime.id, rt.id);
    assertApiError((await rejects(functionsApi.retrieveFunctionCurrentVersion(made.id), 404)).data);
  }
  const page = (await runtimeApi.listNodejsRuntimeFunctions(0, 100)).data;
  assert.equal(page.page.size, 100);
  const listed = page._embedded.functions.find((f) => f.type === 'user.sent.message');
  assert.ok(listed, 'listed');
  assertFunction(listed, 'listed function');
  if (made) assert.equal(listed.id, made.id);
  fn.id = listed.id;
  fn.base = listed.current_version_number;
});

await suite.check('a second function for the same trigger is 409; an unknown trigger is 400', async () => {
  const again = await rejects(
    runtimeApi.createNodejsRuntimeFunction({ type: 'user.sent.message', name: 'again', initialize_asynchronously: false }),
    409,
  );
  assertApiError(again.data);
  await rejects(
    runtimeApi.createNodejsRuntimeFunction({ type: 'user.sent.nothing', name: 'x', initialize_asynchronously: false }),
    400,
  );
});

await suite.check('createFunctionVersion numbers the versions 1, 2 (one past the last)', async () => {
  const v1 = (await functionsApi.createFunctionVersion(fn.id, { handler_script: HANDLER })).data;
  assert.equal(lastRequest.url, `${cfg.base}/functions/${fn.id}/versions`);
  assertVersion(v1, 'version');
  assert.equal(v1.version_number, fn.base + 1);
  assert.equal(v1.handler_script, HANDLER);
  const v2 = (await functionsApi.createFunctionVersion(fn.id, { handler_script: `${HANDLER}\n` })).data;
  assert.equal(v2.version_number, fn.base + 2);
  fn.v1 = v1;
  fn.v2 = v2;
  await rejects(functionsApi.createFunctionVersion(fn.id, { handler_script: '' }), 400);
});

await suite.check('retrieveFunctionCurrentVersion is the newest; listFunctionVersions and retrieveFunctionVersion', async () => {
  const current = (await functionsApi.retrieveFunctionCurrentVersion(fn.id)).data;
  assertVersion(current, 'current version');
  assert.equal(current.id, fn.v2.id);
  assert.equal(current.version_number, fn.base + 2);
  const page = (await functionsApi.listFunctionVersions(fn.id, 0, 100)).data;
  assert.equal(page.page.total_elements, fn.base + 2);
  const ids = page._embedded.versions.map((v) => v.id);
  assert.ok(ids.includes(fn.v1.id) && ids.includes(fn.v2.id), `versions ${ids}`);
  const v1 = (await functionVersionsApi.retrieveFunctionVersion(fn.v1.id)).data;
  assert.equal(lastRequest.url, `${cfg.base}/function-versions/${fn.v1.id}`);
  assert.deepEqual(v1, fn.v1);
  await rejects(functionVersionsApi.retrieveFunctionVersion(999999999), 404);
});

await suite.check('retrieveFunction has the new current_version_number; listFunctionInvocations is a page', async () => {
  const f = (await functionsApi.retrieveFunction(fn.id)).data;
  assertFunction(f, 'function');
  assert.equal(f.current_version_number, fn.base + 2);
  const inv = (await functionsApi.listFunctionInvocations(fn.id, 0, 10)).data;
  assert.equal(inv.page.size, 10);
  assert.equal(typeof inv.page.total_elements, 'number');
  assertLinks(inv._links, 'invocations page');
  for (const i of inv._embedded?.invocations ?? []) {
    assert.ok(['RUNNING', 'SUCCEEDED', 'FAILED'].includes(i.status), `status ${i.status}`);
    assert.equal(typeof i.args, 'object');
    assert.equal(typeof i.result, 'object');
    assert.equal(typeof i.version_number, 'number');
    assertIsoTime(i.created_time, 'invocation created_time');
  }
  assertApiError((await rejects(functionsApi.retrieveFunction(999999999), 404)).data);
});

suite.finish();
