// Generates src/platform_methods.json, the method table the chat functions bootstrap builds
// `context.getUserApi()` and its siblings from, out of the official chatkitty-platform-sdk@2.4.0
// sources (api.ts), so names, argument order, paths and query keys are the SDK's own.
//
// Usage (from the repository root, after `npm ci` in compat/node):
//   node crates/functions/scripts/gen-platform-methods.mjs
//
// Table shape: { ApiClass: { method: [HTTP method, path template, [argument names], {query key: argument},
// body argument or null, form arguments or null] } }. Path placeholders are `{argument}`.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const sdk = join(here, '../../../compat/node/node_modules/chatkitty-platform-sdk');
const version = JSON.parse(readFileSync(join(sdk, 'package.json'), 'utf8')).version;
const source = readFileSync(join(sdk, 'api.ts'), 'utf8');

const table = {};
const creator = /export const (\w+)ApiAxiosParamCreator = function[\s\S]*?\n};\n/g;
for (const block of source.match(creator) ?? []) {
  const api = `${/export const (\w+)ApiAxiosParamCreator/.exec(block)[1]}Api`;
  const methods = {};
  // Each method runs from its `name: async (` to the next one (or the end of the creator).
  const starts = [...block.matchAll(/\n {8}(\w+): async \(([^)]*)\)/g)];
  starts.forEach((start, i) => {
    const body = block.slice(start.index, i + 1 < starts.length ? starts[i + 1].index : block.length);
    const args = start[2]
      .split(',')
      .map((p) => p.trim().split(/[?:\s]/)[0])
      .filter((name) => name && name !== 'options');
    let path = /const localVarPath = `([^`]*)`/.exec(body)[1];
    for (const [, placeholder, arg] of body.matchAll(/\.replace\(`\{\$\{"(\w+)"\}\}`, encodeURIComponent\(String\((\w+)\)\)\)/g)) {
      path = path.replace(`{${placeholder}}`, `{${arg}}`);
    }
    const method = /method: '(\w+)'/.exec(body)[1];
    const query = {};
    for (const [, key, arg] of body.matchAll(/localVarQueryParameter\['([^']+)'\] = \(?(\w+)/g)) {
      query[key] = arg;
    }
    const bodyArg = /serializeDataIfNeeded\((\w+),/.exec(body)?.[1] ?? null;
    const form = [...body.matchAll(/localVarFormParams\.append\('(\w+)'/g)].map((m) => m[1]);
    methods[start[1]] = [method, path, args, query, bodyArg, form.length ? form : null];
  });
  table[api] = methods;
}

const out = { sdk: `chatkitty-platform-sdk@${version}`, apis: table };
writeFileSync(join(here, '../src/platform_methods.json'), `${JSON.stringify(out)}\n`);
const count = Object.values(table).reduce((n, m) => n + Object.keys(m).length, 0);
console.log(`${Object.keys(table).length} APIs, ${count} methods`);
