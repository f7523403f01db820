// Palaver chat functions worker: one long-lived node process per application.
//
// It reads JSON lines on stdin. The first line is the hello: a secret nonce, the runtime folder,
// the initialization script and the output cap. Every later line is an invocation or an answer to
// a Platform API call. It writes protocol frames to stdout as `<nonce><json>\n`; anything else on
// stdout or stderr is the handlers' stray output, never protocol, because only this file knows the
// nonce. `console.*` and `process.stdout.write` are redirected into the running invocation's buffer
// (found through AsyncLocalStorage, so concurrent invocations keep their own output).
'use strict';

const Module = require('node:module');
const path = require('node:path');
const readline = require('node:readline');
const util = require('node:util');
const { AsyncLocalStorage } = require('node:async_hooks');

// Replaced by the Platform API method table when the file is written (see platform_methods.json).
const PLATFORM = /*__PLATFORM_METHODS__*/ { apis: {} };

const rawWrite = process.stdout.write.bind(process.stdout);
const invocationStore = new AsyncLocalStorage();
let nonce = null;
let runtimeDir = process.cwd();
let outputLimit = 65536;
let stray = { output: '', truncated: false };
const compiled = new Map();
const pendingCalls = new Map();
const running = new Map();
let nextCall = 1;

function send(message) {
  rawWrite(`${nonce}${JSON.stringify(message)}\n`);
}

function appendOutput(target, text) {
  if (target.truncated) return;
  if (target.output.length + text.length > outputLimit) {
    target.output += text.slice(0, Math.max(0, outputLimit - target.output.length));
    target.output += '\n[output truncated]\n';
    target.truncated = true;
  } else {
    target.output += text;
  }
}

function capture(chunk, encoding, callback) {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8');
  appendOutput(invocationStore.getStore() || stray, text);
  const done = typeof encoding === 'function' ? encoding : callback;
  if (typeof done === 'function') process.nextTick(done);
  return true;
}

// Console and the process streams write into buffers; protocol frames use `rawWrite` only.
process.stdout.write = capture;
process.stderr.write = capture;

function errorText(error) {
  if (error instanceof Error) {
    const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
    return `${name}${error.message}`;
  }
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

function takeStray() {
  const output = stray.output;
  stray = { output: '', truncated: false };
  return output;
}

function finish(store, ok, value) {
  if (store.done) return;
  store.done = true;
  running.delete(store.id);
  const output = takeStray() + store.output;
  if (ok) {
    let result;
    try {
      result = value === undefined ? null : JSON.parse(JSON.stringify(value));
    } catch (error) {
      send({ type: 'result', id: store.id, ok: false, error: `the handler's result is not JSON: ${errorText(error)}`, output });
      return;
    }
    send({ type: 'result', id: store.id, ok: true, result: result === undefined ? null : result, output });
  } else {
    send({ type: 'result', id: store.id, ok: false, error: errorText(value), output });
  }
}

// A rejection or throw nobody handled fails only the invocation whose code caused it.
function orphanError(error, kind) {
  const store = invocationStore.getStore();
  if (store && !store.done) {
    finish(store, false, error);
  } else {
    appendOutput(stray, `${kind}: ${errorText(error)}\n`);
  }
}
process.on('unhandledRejection', (reason) => orphanError(reason, 'Unhandled rejection'));
process.on('uncaughtException', (error) => orphanError(error, 'Uncaught exception'));

function compileModule(source, filename) {
  const module = new Module(filename, null);
  module.filename = filename;
  // Dependencies resolve from the runtime folder's node_modules, as if the file lived there.
  module.paths = Module._nodeModulePaths(runtimeDir);
  module._compile(source, filename);
  return module;
}

function handlerFor(key, script) {
  const cached = compiled.get(key);
  if (cached) return cached;
  const shim =
    '\n;if (typeof handleEvent === "function" && typeof module.exports !== "function"' +
    ' && typeof (module.exports && module.exports.handleEvent) !== "function") { module.exports = handleEvent; }\n';
  const filename = path.join(runtimeDir, 'functions', `${key.replace(/[^\w.-]/g, '_')}.js`);
  const exported = compileModule(script + shim, filename).exports;
  const handler = typeof exported === 'function' ? exported : exported && (exported.handleEvent || exported.default);
  if (typeof handler !== 'function') {
    throw new Error('the function defines no handleEvent(event, context)');
  }
  compiled.set(key, handler);
  return handler;
}

// --- Platform API clients, shaped like chatkitty-platform-sdk's axios-based classes -------------

function requiredError(field, method) {
  const error = new Error(`Required parameter ${field} was null or undefined when calling ${method}.`);
  error.name = 'RequiredError';
  error.field = field;
  return error;
}

function callApi(request) {
  return new Promise((resolve, reject) => {
    const call = nextCall++;
    pendingCalls.set(call, { resolve, reject, request });
    const store = invocationStore.getStore();
    send({ type: 'api', call, id: store ? store.id : null, ...request });
  });
}

function axiosShaped(answer, request) {
  const response = {
    data: answer.body === undefined ? null : answer.body,
    status: answer.status,
    statusText: answer.statusText || '',
    headers: answer.headers || {},
    config: { method: request.method.toLowerCase(), url: request.path },
    request: {},
  };
  if (answer.status >= 200 && answer.status < 300) return response;
  const error = new Error(`Request failed with status code ${answer.status}`);
  error.name = 'AxiosError';
  error.isAxiosError = true;
  error.code = answer.status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST';
  error.status = answer.status;
  error.config = response.config;
  error.response = response;
  error.toJSON = () => ({ message: error.message, name: error.name, code: error.code, status: error.status });
  throw error;
}

function methodFor(name, spec) {
  const [method, template, args, query, bodyArg, form] = spec;
  return async function platformMethod(...values) {
    if (form) {
      throw new Error(`${name} uploads a file, which chat functions cannot do`);
    }
    const value = (arg) => values[args.indexOf(arg)];
    let requestPath = template;
    for (const arg of args) {
      if (!requestPath.includes(`{${arg}}`)) continue;
      if (value(arg) === undefined || value(arg) === null) throw requiredError(arg, name);
      requestPath = requestPath.replace(`{${arg}}`, encodeURIComponent(String(value(arg))));
    }
    const pairs = [];
    for (const [key, arg] of Object.entries(query)) {
      const item = value(arg);
      if (item === undefined || item === null) continue;
      for (const one of Array.isArray(item) ? item : [item]) {
        pairs.push([key, one instanceof Date ? one.toISOString() : String(one)]);
      }
    }
    let body = null;
    if (bodyArg) {
      body = value(bodyArg);
      if (body === undefined || body === null) throw requiredError(bodyArg, name);
    }
    const request = { method, path: requestPath, query: pairs, body };
    return axiosShaped(await callApi(request), request);
  };
}

// Names used by older ChatKitty tutorials, kept working.
const ALIASES = { UsersApi: { getUserExists: 'checkUserExists' } };

const clientClasses = {};
for (const [apiName, methods] of Object.entries(PLATFORM.apis)) {
  const Client = { [apiName]: class {} }[apiName];
  const define = (name, fn) => Object.defineProperty(Client.prototype, name, { value: fn, writable: true, configurable: true });
  for (const [name, spec] of Object.entries(methods)) define(name, methodFor(name, spec));
  // `retrieveX`/`listX` are also reachable as `getX`, the spelling of older examples.
  for (const name of Object.keys(methods)) {
    const alias = name.replace(/^(retrieve|list)/, 'get');
    if (alias !== name && !(alias in methods)) define(alias, Client.prototype[name]);
  }
  for (const [alias, target] of Object.entries(ALIASES[apiName] || {})) {
    if (methods[target]) define(alias, Client.prototype[target]);
  }
  clientClasses[apiName] = Client;
}

// `context.getUserApi()` and friends: one getter per SDK class, singular and plural spellings.
const GETTERS = {
  ApplicationApi: ['getApplicationApi'],
  ChannelsApi: ['getChannelApi', 'getChannelsApi'],
  ChatSessionsApi: ['getChatSessionApi', 'getChatSessionsApi'],
  FunctionVersionsApi: ['getFunctionVersionApi', 'getFunctionVersionsApi'],
  FunctionsApi: ['getFunctionApi', 'getFunctionsApi'],
  ImportsApi: ['getImportApi', 'getImportsApi'],
  JobsApi: ['getJobApi', 'getJobsApi'],
  MessagesApi: ['getMessageApi', 'getMessagesApi'],
  RuntimeApi: ['getRuntimeApi'],
  ThreadsApi: ['getThreadApi', 'getThreadsApi'],
  UserSessionsApi: ['getUserSessionApi', 'getUserSessionsApi'],
  UsersApi: ['getUserApi', 'getUsersApi'],
};

function makeContext(info) {
  const context = { ...(info || {}) };
  const clients = {};
  for (const [apiName, getters] of Object.entries(GETTERS)) {
    const Client = clientClasses[apiName];
    if (!Client) continue;
    const get = () => clients[apiName] || (clients[apiName] = new Client());
    for (const getter of getters) Object.defineProperty(context, getter, { value: get, enumerable: false });
  }
  return context;
}

// --- the loop ---------------------------------------------------------------------------------

async function runInit(script) {
  const store = { id: null, output: '', truncated: false, done: false };
  try {
    await invocationStore.run(store, async () => {
      const exported = compileModule(script, path.join(runtimeDir, 'palaver-init.js')).exports;
      if (exported && typeof exported.then === 'function') await exported;
    });
    send({ type: 'ready', output: store.output });
  } catch (error) {
    send({ type: 'init_failed', error: errorText(error), output: store.output });
  }
}

function invoke(message) {
  const store = { id: message.id, output: '', truncated: false, done: false };
  running.set(message.id, store);
  invocationStore.run(store, () => {
    Promise.resolve()
      .then(() => handlerFor(message.key, message.script)(message.event, makeContext(message.context)))
      .then(
        (result) => finish(store, true, result),
        (error) => finish(store, false, error),
      );
  });
}

function answer(message) {
  const pending = pendingCalls.get(message.call);
  if (!pending) return;
  pendingCalls.delete(message.call);
  pending.resolve(message);
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  let message;
  try {
    message = JSON.parse(line);
  } catch (error) {
    appendOutput(stray, `worker: unreadable protocol line: ${util.inspect(line.slice(0, 80))}\n`);
    return;
  }
  if (nonce === null) {
    nonce = message.nonce;
    runtimeDir = message.runtimeDir || runtimeDir;
    outputLimit = message.outputLimit || outputLimit;
    runInit(message.initScript || '');
  } else if (message.type === 'invoke') {
    invoke(message);
  } else if (message.type === 'api_result') {
    answer(message);
  }
});
lines.on('close', () => process.exit(0));
