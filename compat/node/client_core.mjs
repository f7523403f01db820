// Client CORE: npm `@chatkitty/core@2.106.2`, ChatKitty's browser/mobile SDK, unchanged, driving
// two users at once over StompX (STOMP 1.2 over WebSocket at `/rtm/websocket?api-key=KEY`)
// against a Palaver server. Node has no global WebSocket, so `ws` stands in for it; the SDK is
// pointed at the server by its hidden `$environment: {host, secure}` option only.
//
//   node client_core.mjs http://127.0.0.1:8080 API_KEY
//
// Alice goes through `getSdkClient(key, {$environment})` + `startSession`, Bob through
// `connectApi({apiKey, username, $environment})`: `getSdkClient` keeps one client per api key,
// `connectApi` builds a new one per call, so the two sessions are independent in one process,
// and both of the SDK's entry points are covered.
//
// PALAVER_COMPAT_STOMP_DEBUG=1 prints every raw frame each socket sends and receives (=2 also
// turns on the SDK's own stompjs debug log). PALAVER_COMPAT_WAIT_MS sets the per-check timeout
// (default 10000).

import { assert, run, Suite } from './harness.mjs';
import {
  brief,
  checker,
  core,
  DEBUG,
  environmentOf,
  Inbox,
  INNER,
  sockets,
  subscribed,
  succeeded,
  toError,
  WAIT,
  watchdog,
  within,
} from './core_harness.mjs';

const [baseArg, keyArg, clientIdArg, clientSecretArg] = process.argv.slice(2);
const cfg = {
  base: (baseArg || process.env.PALAVER_COMPAT_BASE_URL || '').replace(/\/+$/, ''),
  apiKey: keyArg || process.env.PALAVER_COMPAT_API_KEY,
  // Optional: the application's client credentials, for the check that a message sent through
  // the REST API reaches the chat live.
  clientId: clientIdArg || process.env.PALAVER_COMPAT_CLIENT_ID,
  clientSecret: clientSecretArg || process.env.PALAVER_COMPAT_CLIENT_SECRET,
};
if (!cfg.base || !cfg.apiKey) {
  console.error('usage: node client_core.mjs BASE_URL API_KEY [CLIENT_ID CLIENT_SECRET]');
  console.error('   or: PALAVER_COMPAT_BASE_URL, PALAVER_COMPAT_API_KEY');
  process.exit(2);
}
const environment = environmentOf(cfg.base);

// Whatever happens, the script ends: a watchdog well past the sum of the checks' timeouts.
watchdog(WAIT * 40 + 20_000);

// ---------------------------------------------------------------------------------------------
// Helpers.

const suite = new Suite('client CORE');
const cleanups = [];
const check = checker(suite);

function assertCurrentUser(u, username) {
  assert.ok(u && typeof u === 'object', `current user: ${JSON.stringify(u)}`);
  assert.equal(typeof u.id, 'number', 'user.id');
  assert.equal(u.name, username, 'user.name');
  assert.equal(u.presence?.online, true, `user.presence: ${JSON.stringify(u.presence)}`);
  for (const k of ['self', 'channels', 'messages', 'readReceipts', 'notifications', 'participants']) {
    assert.equal(typeof u._topics?.[k], 'string', `user._topics.${k}`);
  }
  for (const k of ['channels', 'joinableChannels', 'channelsCount', 'unreadMessagesCount']) {
    assert.equal(typeof u._relays?.[k], 'string', `user._relays.${k}`);
  }
  assert.equal(typeof u._actions?.createChannel, 'string', 'user._actions.createChannel');
}

/** The hypermedia of a channel that the later steps go through. */
function assertChannelLinks(c, what) {
  for (const k of ['self', 'messages', 'keystrokes', 'typing', 'participants']) {
    assert.equal(typeof c._topics?.[k], 'string', `${what}: _topics.${k}`);
  }
  for (const k of ['message', 'keystrokes']) {
    assert.equal(typeof c._actions?.[k], 'string', `${what}: _actions.${k}`);
  }
  assert.equal(typeof c._relays?.messages, 'string', `${what}: _relays.messages`);
}

function isCount(n) {
  return Number.isSafeInteger(n) && n >= 0;
}

// ---------------------------------------------------------------------------------------------
// The checks.

const wrongKey = `${cfg.apiKey}-wrong-${run}`;
/** One user: what its SDK callbacks received, and its client, user, channel and chat session. */
function person(name) {
  return {
    name,
    messages: new Inbox(),
    keystrokes: new Inbox(),
    typing: new Inbox(),
    stopped: new Inbox(),
    updated: new Inbox(),
    deleted: new Inbox(),
    entered: new Inbox(),
    left: new Inbox(),
    reactionsAdded: new Inbox(),
    reactionsRemoved: new Inbox(),
  };
}
const alice = person(`alice-${run}`);
const bob = person(`bob-${run}`);
const room = `room-${run}`;
let channelId;
let sent;

// a. A wrong api key is refused with AccessDeniedError, through both entry points.
await check('a. getSdkClient(wrong key).startSession fails with AccessDeniedError', async () => {
  const client = core.getSdkClient(wrongKey, { $environment: environment });
  cleanups.push(['wrong-key client', () => client.endSession()]);
  const res = await client.startSession({ username: alice.name });
  assert.equal(res.succeeded, false, `startSession succeeded: ${JSON.stringify(brief(res.session?.user))}`);
  assert.match(String(res.error?.error), /AccessDenied/, `error: ${JSON.stringify(res.error)}`);
});

await check('a. connectApi(wrong key) rejects with the ERROR frame\'s message', async () => {
  const first = sockets.length;
  let error;
  try {
    const conn = await core.connectApi({ apiKey: wrongKey, username: bob.name, $environment: environment });
    cleanups.push(['wrong-key connection', () => conn.dispose()]);
  } catch (e) {
    error = e;
  }
  assert.ok(error, 'connectApi resolved');
  const frame = sockets
    .slice(first)
    .flatMap((s) => s.received)
    .find((f) => f.command === 'ERROR');
  assert.ok(frame, `no STOMP ERROR frame received; connectApi rejected with: ${error.message}`);
  const body = JSON.parse(frame.body);
  assert.equal(body.error, 'AccessDeniedError', `ERROR body: ${frame.body}`);
  assert.equal(error.message, body.message, 'rejected with the ERROR body\'s message');
});

// b. Alice: getSdkClient + startSession (guest mode: any username starts a session).
await check('b. alice starts a session (getSdkClient + startSession)', async () => {
  alice.client = core.getSdkClient(cfg.apiKey, { $environment: environment });
  cleanups.push(['alice', () => alice.client.endSession()]);
  const res = succeeded(await alice.client.startSession({ username: alice.name }), 'startSession');
  assertCurrentUser(res.session.user, alice.name);
  alice.user = res.session.user;
});

// c. Bob: connectApi, which also waits for the unread channel and message counts.
await check('c. bob starts a session in a second client (connectApi)', async () => {
  const pending = core.connectApi({ apiKey: cfg.apiKey, username: bob.name, $environment: environment });
  // Disposes a connection that arrives after the check timed out.
  cleanups.push(['bob', async () => (await pending).dispose()]);
  bob.conn = await pending;
  bob.client = bob.conn.getSdkClient();
  assert.notEqual(bob.client, alice.client, 'a client of its own');
  assertCurrentUser(bob.conn.user.value, bob.name);
  bob.user = bob.conn.user.value;
  assert.notEqual(bob.user.id, alice.user?.id, 'bob and alice are different users');
  const { unreadChannelsCount, unreadMessagesCount } = bob.conn;
  assert.ok(isCount(unreadChannelsCount.value), `unreadChannelsCount ${unreadChannelsCount.value}`);
  assert.ok(isCount(unreadMessagesCount.value), `unreadMessagesCount ${unreadMessagesCount.value}`);
});

// d. Alice creates a public channel.
await check('d. alice creates a PUBLIC channel (createChannel)', async () => {
  assert.ok(alice.user, 'alice has no session');
  const res = succeeded(await alice.client.createChannel({ type: 'PUBLIC', name: room }), 'createChannel');
  const c = res.channel;
  assert.equal(typeof c.id, 'number', `channel.id: ${JSON.stringify(brief(c))}`);
  assert.equal(c.type, 'PUBLIC', 'channel.type');
  assert.equal(c.name, room, 'channel.name');
  assertChannelLinks(c, 'created channel');
  alice.channel = c;
  channelId = c.id;
});

// e. Bob finds it among the joinable channels and joins it.
await check('e. bob finds the channel among joinable channels (listChannels joined:false)', async () => {
  assert.ok(bob.user && channelId !== undefined, 'no session or no channel');
  let paginator = succeeded(await bob.client.listChannels({ filter: { joined: false } }), 'listChannels').paginator;
  for (let pages = 1; ; pages += 1) {
    assert.ok(Array.isArray(paginator.items), `page ${pages} items`);
    const found = paginator.items.find((c) => c.id === channelId);
    if (found) {
      bob.joinable = found;
      break;
    }
    assert.ok(paginator.hasNextPage, `channel ${channelId} not among ${pages} page(s) of joinable channels`);
    assert.ok(pages < 50, 'the listing ends');
    paginator = await paginator.nextPage();
  }
  assert.equal(bob.joinable.name, room);
  assert.equal(bob.joinable.type, 'PUBLIC');
  // Without it joinChannel throws ChannelNotPubliclyJoinableError.
  assert.equal(typeof bob.joinable._actions?.join, 'string', 'a joinable channel has _actions.join');
});

await check('e. bob joins the channel (joinChannel)', async () => {
  assert.ok(bob.joinable, 'bob did not find the channel');
  const res = succeeded(await bob.client.joinChannel({ channel: bob.joinable }), 'joinChannel');
  assert.equal(res.channel.id, channelId, 'joined channel id');
  assertChannelLinks(res.channel, 'joined channel');
  bob.channel = res.channel;
});

// f. Chat sessions, a message from alice, received by bob.
function startChat(who) {
  const res = who.client.startChatSession({
    channel: who.channel,
    // A reply comes with its parent, which the SDK fetches first (`_relays.parent`).
    onMessageReceived: (m, parent) => who.messages.push({ ...m, $parent: parent }),
    onKeystrokesReceived: (k) => who.keystrokes.push(k),
    onTypingStarted: (u) => who.typing.push(u),
    onTypingStopped: (u) => who.stopped.push(u),
    onMessageUpdated: (m) => who.updated.push(m),
    onMessageDeleted: (m) => who.deleted.push(m),
    onParticipantEnteredChat: (u) => who.entered.push(u),
    onParticipantLeftChat: (u) => who.left.push(u),
    onMessageReactionAdded: (message, reaction) => who.reactionsAdded.push({ message, reaction }),
    onMessageReactionRemoved: (message, reaction) => who.reactionsRemoved.push({ message, reaction }),
  });
  succeeded(res, 'startChatSession');
  assert.equal(res.session.channel.id, channelId, 'chat session channel');
  who.chat = res.session;
}

await check('f. alice and bob start chat sessions (startChatSession); the channel topics are subscribed', async () => {
  assert.ok(alice.channel && bob.channel, 'no channel for alice or bob');
  // The SDK subscribes the channel's other topics only after the RECEIPT for `_topics.self`, and
  // says nothing when it is done: wait for the server's RECEIPT of each topic used below. Alice
  // is in the chat first, so that she sees bob enter.
  const deadline = Date.now() + INNER;
  for (const who of [alice, bob]) {
    startChat(who);
    for (const t of ['self', 'messages', 'keystrokes', 'typing', 'reactions', 'participants']) {
      await subscribed(who.name, who.channel._topics[t], deadline);
    }
  }
});

await check('f. alice sends "hello" (sendMessage resolves with the message)', async () => {
  assert.ok(alice.chat, 'alice has no chat session');
  const res = succeeded(await alice.client.sendMessage({ channel: alice.channel, body: 'hello' }), 'sendMessage');
  const m = res.message;
  assert.equal(typeof m.id, 'number', `message.id: ${JSON.stringify(brief(m))}`);
  assert.equal(m.type, 'TEXT', 'message.type');
  assert.equal(m.body, 'hello', 'message.body');
  assert.equal(m.user?.name, alice.name, 'message.user.name');
  assert.equal(m.channelId, channelId, 'message.channelId');
  sent = m;
});

await check('f. bob receives it (onMessageReceived)', async () => {
  assert.ok(sent && bob.chat, 'nothing sent or bob has no chat session');
  const m = await bob.messages.next((x) => x.id === sent.id, `bob's onMessageReceived for message ${sent.id}`);
  assert.equal(m.body, 'hello');
  assert.equal(m.user?.name, alice.name);
  bob.received = m;
});

await check('f. alice sees bob enter the chat (onParticipantEnteredChat), online', async () => {
  assert.ok(alice.chat && bob.chat, 'no chat sessions');
  const u = await alice.entered.next((x) => x.name === bob.name, "alice's onParticipantEnteredChat for bob");
  assert.equal(u.presence?.online, true, `bob's presence: ${JSON.stringify(u.presence)}`);
});

await check('f. a message sent through the REST API reaches bob live (onMessageReceived)', async () => {
  assert.ok(cfg.clientId && cfg.clientSecret, 'no client credentials given (CLIENT_ID CLIENT_SECRET)');
  assert.ok(bob.chat, 'bob has no chat session');
  const form = new FormData();
  form.append('grant_type', 'client_credentials');
  const basic = Buffer.from(`${cfg.clientId}:${cfg.clientSecret}`).toString('base64');
  const tokenRes = await fetch(`${cfg.base}/oauth/token`, {
    method: 'POST', headers: { Authorization: `Basic ${basic}` }, body: form,
  });
  assert.equal(tokenRes.status, 200, 'token');
  const token = (await tokenRes.json()).access_token;
  const res = await fetch(`${cfg.base}/channels/${channelId}/messages`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'TEXT', body: `from the back-end ${run}`, user: { username: alice.name } }),
  });
  assert.equal(res.status, 200, `POST /channels/${channelId}/messages`);
  const id = (await res.json()).id;
  const m = await bob.messages.next((x) => x.id === id, `bob's onMessageReceived for REST message ${id}`);
  assert.equal(m.body, `from the back-end ${run}`);
  assert.equal(m.user?.name, alice.name);
});

// g. Keystrokes from bob reach alice.
await check('g. bob sends keystrokes; alice gets them (sendKeystrokes / onKeystrokesReceived)', async () => {
  assert.ok(alice.chat && bob.chat, 'no chat sessions');
  bob.client.sendKeystrokes({ channel: bob.channel, keys: 'hel' });
  const k = await alice.keystrokes.next(
    (x) => x.username === bob.name,
    `alice's onKeystrokesReceived for ${bob.name}`,
  );
  assert.equal(k.keys, 'hel');
});

await check('g. alice sees bob typing (onTypingStarted)', async () => {
  assert.ok(alice.chat && bob.chat, 'no chat sessions');
  const u = await alice.typing.next((x) => x.name === bob.name, `alice's onTypingStarted for ${bob.name}`);
  assert.equal(u.id, bob.user.id);
});

// h. The message is in the channel's history.
await check('h. listMessages returns the message', async () => {
  assert.ok(sent, 'nothing sent');
  let paginator = succeeded(await alice.client.listMessages({ channel: alice.channel }), 'listMessages').paginator;
  for (let pages = 1; ; pages += 1) {
    assert.ok(Array.isArray(paginator.items), `page ${pages} items`);
    const m = paginator.items.find((x) => x.id === sent.id);
    if (m) {
      assert.equal(m.body, 'hello');
      assert.equal(m.user?.name, alice.name);
      break;
    }
    assert.ok(paginator.hasNextPage, `message ${sent.id} not among ${pages} page(s)`);
    assert.ok(pages < 50, 'the listing ends');
    paginator = await paginator.nextPage();
  }
});

// i. Reactions and reports, on the message as bob received it.
await check('i. bob reacts to the message (reactToMessage resolves with the Reaction)', async () => {
  assert.ok(bob.received, 'bob did not receive the message');
  const res = succeeded(await bob.client.reactToMessage({ message: bob.received, emoji: '👍' }), 'reactToMessage');
  const r = res.reaction;
  assert.equal(r.emoji?.character, '👍', `reaction.emoji: ${JSON.stringify(r.emoji)}`);
  assert.equal(typeof r.emoji.description, 'string', 'reaction.emoji.description');
  assert.ok(Array.isArray(r.emoji.aliases) && Array.isArray(r.emoji.tags), 'reaction.emoji aliases and tags');
  assert.equal(r.user?.name, bob.name, 'reaction.user.name');
  assert.equal(typeof r.createdTime, 'string', 'reaction.createdTime');
  bob.reaction = r;
});

await check('i. alice is told, with the message and its reactions (onMessageReactionAdded)', async () => {
  assert.ok(bob.reaction, 'bob did not react');
  const { message, reaction } = await alice.reactionsAdded.next(
    (x) => x.message?.id === sent.id && x.reaction?.user?.name === bob.name,
    `alice's onMessageReactionAdded for message ${sent.id}`,
  );
  assert.equal(reaction.emoji?.character, '👍');
  const summary = (message.reactions || []).find((s) => s.emoji?.character === '👍');
  assert.ok(summary, `message.reactions: ${JSON.stringify(message.reactions)}`);
  assert.equal(summary.count, 1, 'summary.count');
  assert.deepEqual(summary.users.map((u) => u.name), [bob.name], 'summary.users');
});

await check('i. listReactions pages the message\'s reactions', async () => {
  assert.ok(bob.reaction, 'bob did not react');
  const res = succeeded(await bob.client.listReactions({ message: bob.received }), 'listReactions');
  const items = res.paginator.items;
  assert.ok(Array.isArray(items), 'paginator.items');
  assert.deepEqual(items.map((r) => [r.emoji?.character, r.user?.name]), [['👍', bob.name]]);
});

await check('i. bob takes it back (removeReaction); alice is told (onMessageReactionRemoved)', async () => {
  assert.ok(bob.reaction, 'bob did not react');
  const res = succeeded(await bob.client.removeReaction({ message: bob.received, emoji: '👍' }), 'removeReaction');
  assert.equal(res.reaction.emoji?.character, '👍', 'removed reaction emoji');
  const { message } = await alice.reactionsRemoved.next(
    (x) => x.message?.id === sent.id && x.reaction?.user?.name === bob.name,
    `alice's onMessageReactionRemoved for message ${sent.id}`,
  );
  assert.deepEqual(message.reactions, [], 'no reactions left');
});

await check('i. bob reports the message (reportMessage resolves with the report)', async () => {
  assert.ok(bob.received, 'bob did not receive the message');
  const res = succeeded(
    await bob.client.reportMessage({ message: bob.received, reason: 'spam', properties: { source: 'compat' } }),
    'reportMessage',
  );
  const r = res.report;
  assert.equal(r.reason, 'spam', 'report.reason');
  assert.deepEqual(r.properties, { source: 'compat' }, 'report.properties');
  assert.equal(r.user?.name, bob.name, 'report.user.name');
  assert.equal(typeof r.createdTime, 'string', 'report.createdTime');
});

await check('i. alice cannot report her own message (reportMessage fails)', async () => {
  assert.ok(sent, 'nothing sent');
  const res = await alice.client.reportMessage({ message: sent, reason: 'mine' });
  assert.equal(res.succeeded, false, `reportMessage of her own message succeeded: ${JSON.stringify(res.report)}`);
  assert.match(String(res.error?.error), /AccessDenied/, `error: ${JSON.stringify(res.error)}`);
});

// j. Unread counts answer.
await check('j. unread counts answer (countUnreadChannels, countUnreadMessages)', async () => {
  for (const who of [alice, bob]) {
    assert.ok(who.client && who.user, `${who.name} has no session`);
    const channels = succeeded(await who.client.countUnreadChannels(), `${who.name} countUnreadChannels`);
    assert.ok(isCount(channels.count), `${who.name} unread channels: ${channels.count}`);
    const messages = succeeded(await who.client.countUnreadMessages(), `${who.name} countUnreadMessages`);
    assert.ok(isCount(messages.count), `${who.name} unread messages: ${messages.count}`);
  }
});

// k. A reply in the message's thread; its parent comes with it; typing stops with a message.
let reply;
await check('k. bob replies to "hello" (sendMessage {message}); alice gets it with its parent', async () => {
  assert.ok(sent && bob.chat && alice.chat, 'nothing sent or no chat sessions');
  const res = succeeded(await bob.client.sendMessage({ message: sent, body: 'hi alice' }), 'sendMessage reply');
  reply = res.message;
  assert.equal(reply.body, 'hi alice');
  assert.equal(reply.nestedLevel, 1, 'a reply is nested');
  assert.equal(typeof reply._relays?.parent, 'string', 'a reply names its parent');
  const got = await alice.messages.next((x) => x.id === reply.id, `alice's onMessageReceived for reply ${reply.id}`);
  assert.equal(got.$parent?.id, sent.id, 'onMessageReceived(message, parent)');
});

await check('k. alice sees bob stop typing (onTypingStopped)', async () => {
  assert.ok(alice.chat, 'alice has no chat session');
  const u = await alice.stopped.next((x) => x.name === bob.name, `alice's onTypingStopped for ${bob.name}`);
  assert.equal(u.id, bob.user.id);
});

await check('k. replies are counted and listed (countMessageReplies, listMessages {message}, retrieveMessageParent)', async () => {
  assert.ok(reply, 'no reply');
  const count = succeeded(await alice.client.countMessageReplies({ message: sent }), 'countMessageReplies');
  assert.equal(count.count, 1);
  const page = succeeded(await alice.client.listMessages({ message: sent }), 'listMessages replies').paginator;
  assert.deepEqual(page.items.map((m) => m.id), [reply.id]);
  const parent = succeeded(await alice.client.retrieveMessageParent({ message: reply }), 'retrieveMessageParent');
  assert.equal(parent.message.id, sent.id);
  const main = succeeded(
    await alice.client.listMessages({ channel: alice.channel, filter: { mainThread: true } }),
    'listMessages mainThread',
  ).paginator;
  assert.ok(!main.items.some((m) => m.id === reply.id), 'the MAIN thread holds no replies');
});

// l. Editing and message properties.
await check('l. alice edits "hello" (editMessage); bob hears it (onMessageUpdated)', async () => {
  assert.ok(sent, 'nothing sent');
  const res = succeeded(await alice.client.editMessage({ message: sent, body: 'hello, edited' }), 'editMessage');
  assert.equal(res.message.body, 'hello, edited');
  const m = await bob.updated.next((x) => x.id === sent.id, `bob's onMessageUpdated for ${sent.id}`);
  assert.equal(m.body, 'hello, edited');
  succeeded(
    await alice.client.updateMessageProperties({ message: sent, properties: { pinned: true } }),
    'updateMessageProperties',
  );
});

// m. A standalone thread.
await check('m. alice opens a thread and writes in it (createThread, sendMessage {thread}, listThreads)', async () => {
  assert.ok(alice.channel, 'no channel');
  const res = succeeded(await alice.client.createThread({ channel: alice.channel, name: `side-${run}` }), 'createThread');
  const thread = res.thread;
  assert.equal(thread.name, `side-${run}`);
  const m = succeeded(await alice.client.sendMessage({ thread, body: 'in the thread' }), 'sendMessage thread').message;
  assert.equal(m.body, 'in the thread');
  const page = succeeded(
    await alice.client.listThreads({ channel: alice.channel, filter: { standalone: true } }),
    'listThreads',
  ).paginator;
  assert.ok(page.items.some((t) => t.id === thread.id), `thread ${thread.id} listed`);
});

// n. Reading, unread state, muting, the context: the user's own.
await check('n. read and unread (readMessage, unreadMessage, checkChannelUnread, countUnreadMessages, retrieveLastReadMessage)', async () => {
  assert.ok(reply && alice.channel, 'no reply');
  succeeded(await alice.client.readMessage({ message: reply }), 'readMessage');
  let unread = succeeded(await alice.client.checkChannelUnread({ channel: alice.channel }), 'checkChannelUnread');
  assert.equal(unread.unread, false, 'all read');
  succeeded(await alice.client.unreadMessage({ message: reply }), 'unreadMessage');
  unread = succeeded(await alice.client.checkChannelUnread({ channel: alice.channel }), 'checkChannelUnread');
  assert.equal(unread.unread, true, 'the reply reads as unread again');
  const count = succeeded(await alice.client.countUnreadMessages({ channel: alice.channel }), 'countUnreadMessages');
  assert.equal(count.count, 1);
  const last = succeeded(
    await alice.client.retrieveLastReadMessage({ channel: alice.channel, username: alice.name }),
    'retrieveLastReadMessage',
  );
  assert.equal(typeof last.message?.id, 'number', 'a last read message');
  const receipts = succeeded(await bob.client.listReadReceipts({ message: sent }), 'listReadReceipts').paginator;
  assert.ok(Array.isArray(receipts.items));
});

await check('n. mute, unmute and the channel context (muteChannel, unmuteChannel, retrieveChannelContext)', async () => {
  assert.ok(alice.channel, 'no channel');
  succeeded(await alice.client.muteChannel({ channel: alice.channel }), 'muteChannel');
  succeeded(await alice.client.unmuteChannel({ channel: alice.channel }), 'unmuteChannel');
  const context = succeeded(await alice.client.retrieveChannelContext({ channel: alice.channel }), 'retrieveChannelContext');
  assert.equal(typeof context.context.readBy, 'object');
});

// o. People: contacts, membership, the block list.
await check('o. contacts and the block list (listUsers, checkUserIsChannelMember, blockUser, listUserBlockedRecords)', async () => {
  assert.ok(alice.user && bob.user && alice.channel, 'no sessions');
  const users = succeeded(await alice.client.listUsers(), 'listUsers').paginator;
  assert.ok(users.items.some((u) => u.id === bob.user.id), 'bob is a contact of alice');
  const n = succeeded(await alice.client.listUsersCount(), 'listUsersCount');
  assert.ok(n.count >= 1);
  const bobUser = succeeded(await alice.client.retrieveUser(bob.user.id), 'retrieveUser').user;
  const member = succeeded(
    await alice.client.checkUserIsChannelMember({ user: bobUser, channel: alice.channel }),
    'checkUserIsChannelMember',
  );
  assert.equal(member.isChannelMember, true);
  succeeded(await alice.client.blockUser({ user: bobUser }), 'blockUser');
  const list = succeeded(await alice.client.listUserBlockedRecords(), 'listUserBlockedRecords').paginator;
  const item = list.items.find((i) => i.user?.id === bob.user.id);
  assert.ok(item, 'bob is on the block list');
  succeeded(await alice.client.deleteUserBlockedRecord({ item }), 'deleteUserBlockedRecord');
});

// p. Moderators and changing the channel.
await check('p. alice makes bob a moderator; he renames the channel (addChannelModerator, updateChannel)', async () => {
  assert.ok(alice.channel && bob.channel, 'no channel');
  succeeded(
    await alice.client.addChannelModerator({ channel: alice.channel, user: { id: bob.user.id } }),
    'addChannelModerator',
  );
  const mods = succeeded(await bob.client.listChannelModerators({ channel: bob.channel }), 'listChannelModerators').paginator;
  assert.ok(mods.items.some((u) => u.id === bob.user.id), 'bob moderates');
  const res = succeeded(
    await bob.client.updateChannel({ channel: { ...bob.channel, displayName: `Room ${run}` } }),
    'updateChannel',
  );
  assert.equal(res.channel.displayName, `Room ${run}`);
});

// p. Uploads: the SDK POSTs a multipart form to the resource's `_streams` URL over HTTP, with the
// write grant its session relayed at the start in a `Grant` header (Node 20 has the global
// `File`, `FormData` and `Blob` the SDK and its axios use).
await check('p. alice sends a file (sendMessage {channel, file}); bob receives it and downloads it with his read grant', async () => {
  assert.ok(alice.chat && bob.chat, 'no chat sessions');
  assert.equal(typeof alice.channel._streams?.messages, 'string', 'channel._streams.messages');
  const content = `notes of ${run}`;
  const file = new File([content], 'notes.txt', { type: 'text/plain' });
  const res = succeeded(
    await alice.client.sendMessage({ channel: alice.channel, file, groupTag: 'files', properties: { kind: 'notes' } }),
    'sendMessage file',
  );
  const m = res.message;
  assert.equal(m.type, 'FILE', `message: ${JSON.stringify(brief(m))}`);
  assert.equal(m.user?.name, alice.name, 'message.user.name');
  assert.equal(m.channelId, channelId, 'message.channelId');
  assert.equal(m.groupTag, 'files', 'message.groupTag');
  assert.deepEqual(m.properties, { kind: 'notes' }, 'message.properties');
  assert.equal(m.file?.name, 'notes.txt', 'file.name');
  assert.equal(m.file?.size, Buffer.byteLength(content), 'file.size');
  assert.match(m.file?.contentType ?? '', /^text\/plain/, 'file.contentType');
  const got = await bob.messages.next((x) => x.id === m.id, `bob's onMessageReceived for file message ${m.id}`);
  assert.match(got.file?.url ?? '', /\?grant=/, 'the SDK appends the read grant');
  const download = await fetch(got.file.url);
  assert.equal(download.status, 200, `GET ${got.file.url}`);
  assert.equal(await download.text(), content, 'the downloaded bytes');
});

await check('p. alice changes her display picture (updateCurrentUserDisplayPicture with a data URI)', async () => {
  assert.ok(alice.user, 'alice has no session');
  assert.equal(typeof alice.user._streams?.displayPicture, 'string', 'user._streams.displayPicture');
  // A 1x1 PNG: the SDK turns `{uri, name}` into a File and uploads it.
  const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
  const res = succeeded(
    await alice.client.updateCurrentUserDisplayPicture({ file: { uri: `data:image/png;base64,${png}`, name: 'me.png' } }),
    'updateCurrentUserDisplayPicture',
  );
  const u = res.user;
  assert.equal(u.id, alice.user.id, 'user.id');
  assert.match(u.displayPictureUrl ?? '', /\/files\/\d+\/me\.png$/, 'user.displayPictureUrl');
  assert.equal(typeof u._relays?.self, 'string', 'the answer is the current user with its relays');
});

// q. Deleting: a message, then the channel.
await check('q. alice deletes "hello" (deleteMessage); bob hears it (onMessageDeleted)', async () => {
  assert.ok(sent, 'nothing sent');
  const res = succeeded(await alice.client.deleteMessage({ message: sent }), 'deleteMessage');
  assert.equal(res.message.id, sent.id);
  await bob.deleted.next((x) => x.id === sent.id, `bob's onMessageDeleted for ${sent.id}`);
});

await check('q. bob leaves the chat (chat.end); alice sees him go (onParticipantLeftChat)', async () => {
  assert.ok(bob.chat && alice.chat, 'no chat sessions');
  bob.chat.end();
  bob.chat = null;
  await alice.left.next((x) => x.name === bob.name, "alice's onParticipantLeftChat for bob");
});

await check('q. alice deletes the channel (deleteChannel)', async () => {
  assert.ok(alice.channel, 'no channel');
  succeeded(await alice.client.deleteChannel({ channel: alice.channel }), 'deleteChannel');
});

// z. Both sessions end.
await check('z. alice ends her session (endSession)', async () => {
  assert.ok(alice.user, 'alice has no session');
  alice.chat?.end();
  await alice.client.endSession();
  alice.ended = true;
});

await check('z. bob ends his session (connection.dispose)', async () => {
  assert.ok(bob.conn, 'bob has no connection');
  bob.chat?.end();
  await bob.conn.dispose();
  bob.ended = true;
});


// Whatever is still connected is closed (each at most 3 s), then the summary and exit code.
for (const [what, fn] of cleanups) {
  if ((what === 'alice' && alice.ended) || (what === 'bob' && bob.ended)) continue;
  try {
    await within(3000, `closing ${what}`, Promise.resolve().then(fn));
  } catch (e) {
    if (DEBUG) console.log(`     (cleanup of ${what}: ${toError(e).message})`);
  }
}
suite.finish();
