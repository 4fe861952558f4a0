// Part of build:ts, after tsc: replaces dist/index.js and dist/cli/*.js
// with esbuild bundles, because start-up time is most of what a CLI call
// costs and Node spends it per module file (resolve, read, compile): 72
// files for `require('nsfd')` cost ~13 ms more than one (npm run bench --
// startup). tsc still writes the typings; its per-module .js files are
// removed afterwards, so the package holds one copy of the library (a
// Pidfd of one copy is not a Pidfd of another). The test fixtures use
// their own build of lib/ (dist-dev/lib/, tsconfig.dev.json).
//   dist/index.js    the whole library, one file (require/import 'nsfd').
//   dist/testing/index.js  nsfd/testing, taking the library from ../index.js.
//   dist/cli/X.js    lib/cli/X.ts with the CLI modules it imports and
//                    only the library code it uses (tree-shaken from
//                    lib/index.ts). What a CLI module requires (main.ts:
//                    the commands, the help texts; ls.ts: its NETNSID
//                    lookup) stays a separate file, loaded only when used; each file has its own copy of args.ts, so
//                    main tells a UsageError by name (isUsageError).
//   dist/cli/X.js.cache  a command's V8 code cache (lib/cli/code-cache.ts);
//                    dist/cli/code-caches.json says which Node made them.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as esbuild from 'esbuild';

import { COMMAND_MODULES } from '../lib/cli/code-cache';

// Compiled to dist-dev/scripts/: the repository is two levels up.
const root = path.join(__dirname, '..', '..');
const dist = path.join(root, 'dist');

const common: esbuild.BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // The addon's loader finds the package root itself (lib/sys/native.ts).
  external: ['node-gyp-build'],
  logLevel: 'warning',
  // Maps with their sources inline: the package ships no lib/.
  sourcemap: true,
  sourcesContent: true,
  // One tsconfig for tsc and esbuild: class field semantics match.
  tsconfig: path.join(root, 'tsconfig.json'),
};

/**
 * What a CLI module require()s (main.ts its commands, ls.ts its NETNSID
 * lookup) stays a file of its own, loaded when used; imports are bundled.
 */
const cliRequiresExternal: esbuild.Plugin = {
  name: 'cli-requires-external',
  setup(build) {
    const cli = path.join(root, 'lib', 'cli');
    build.onResolve({ filter: /^\.\/[^/]+$/ }, (args) => (path.dirname(args.importer) === cli && args.kind === 'require-call' ? { path: args.path, external: true } : undefined));
  },
};

/** nsfd/testing uses the library's one copy: its imports of ../index stay a require of dist/index.js. */
const libraryExternal: esbuild.Plugin = {
  name: 'library-external',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/index$/ }, (args) => (args.importer === path.join(root, 'lib', 'testing', 'index.ts') ? { path: '../index.js', external: true } : undefined));
  },
};

/**
 * `import * as fs from 'node:fs'` becomes __toESM(require("node:fs")),
 * which copies every property of the builtin, per importing module (~1 ms
 * of `nsfd exec`). A builtin's exports need no ES-module face unless
 * `.default` is used: then it stays.
 */
function plainBuiltins(file: string): void {
  const text = fs.readFileSync(file, 'utf8');
  // (Also `name = __toESM(...)` without var: a module bundled lazily, in its __esm init.)
  const out = text.replace(/(var )?(\w+) = __toESM\(require\("(node:[\w/]+)"\)\);/g, (all: string, decl: string | undefined, name: string, mod: string) =>
    text.includes(`${name}.default`) ? all : `${decl ?? ''}${name} = require("${mod}");`,
  );
  if (out !== text) fs.writeFileSync(file, out);
}

/**
 * Builtins that cost start-up time (net and crypto pull in streams, tcp/pipe
 * bindings and diagnostics; worker_threads the worker machinery, ~2-3 ms
 * of `nsfd exec` together) but are used only on some paths: loaded on the
 * first property read instead. The bundles use them only as `name.prop`
 * (checked below), which the Proxy serves.
 */
const LAZY_BUILTINS = ['node:net', 'node:worker_threads', 'node:child_process', 'node:dgram', 'node:crypto'];
const LAZY_HELPER =
  'function __nsfdLazy(id) { let m; const load = () => (m ??= require(id)); ' +
  'return new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load(), ownKeys: () => Reflect.ownKeys(load()), ' +
  'getOwnPropertyDescriptor: (_, k) => { const d = Object.getOwnPropertyDescriptor(load(), k); if (d) d.configurable = true; return d; } }); }\n';

function lazyBuiltins(file: string): void {
  const text = fs.readFileSync(file, 'utf8');
  // The code without comment lines (which name modules in prose).
  const code = text.split('\n').filter((l) => !/^\s*(\/\/|\/\*|\*)/.test(l)).join('\n');
  let used = false;
  const out = text.replace(/var (\w+) = require\("(node:[\w/]+)"\);/g, (all: string, name: string, mod: string) => {
    if (!LAZY_BUILTINS.includes(mod)) return all;
    // Anything but `name.prop` (passing the module itself on) would see the Proxy.
    const bare = new RegExp('(?<![\\w$."\'`/-])' + name.replace(/\$/g, '\\$') + '(?![\\w$.:"\'`/-])', 'g');
    if ((code.match(bare) ?? []).length > 1) return all;
    used = true;
    return `var ${name} = __nsfdLazy("${mod}");`;
  });
  if (!used) return;
  // After the "use strict" and esbuild's header comment, before any use.
  const at = out.startsWith('"use strict";\n') ? '"use strict";\n'.length : 0;
  fs.writeFileSync(file, out.slice(0, at) + LAZY_HELPER + out.slice(at));
}

/** tsc's .js (and .js.map) files under dir, except those in `keep`. */
function removeModules(dir: string, keep: ReadonlySet<string>): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) removeModules(p, keep);
    else if ((e.name.endsWith('.js') || e.name.endsWith('.js.map')) && !keep.has(p.replace(/\.map$/, ''))) fs.rmSync(p);
  }
}

/**
 * dist/cli/X.js.cache for each command (lib/cli/code-cache.ts), made and
 * then checked in fresh node processes started as bin/nsfd.js is: without
 * NODE_OPTIONS, whose V8 flags would be in the cache (V8 refuses a cache
 * made under other flags). A cache a fresh node would refuse is not
 * shipped. Without the addon (it hashes the bundles) there are none: the
 * CLI works without.
 */
function writeCodeCaches(): void {
  const files = COMMAND_MODULES.map((m) => path.join(dist, 'cli', `${m}.js`));
  const loader = JSON.stringify(path.join(__dirname, '..', 'lib', 'cli', 'code-cache.js'));
  const inNode = (code: string) =>
    spawnSync(process.execPath, ['-e', `const cc = require(${loader}); const files = ${JSON.stringify(files)}; ${code}`], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: undefined, NSFD_CODE_CACHE: undefined },
    });
  const drop = (why: string) => {
    for (const f of [...files.map((f) => `${f}.cache`), path.join(dist, 'cli', 'code-caches.json')]) fs.rmSync(f, { force: true });
    console.warn(`bundle: no code caches for the CLI (${why.trim()})`);
  };
  const made = inNode("for (const f of files) require('node:fs').writeFileSync(f + '.cache', cc.makeCodeCache(f)); console.log(JSON.stringify({ node: process.version, arch: process.arch, v8: process.versions.v8 }))");
  if (made.status !== 0) return drop(made.stderr.split('\n').find((l) => /Error/.test(l)) ?? `exit ${made.status}`);
  const checked = inNode('console.log(JSON.stringify(files.map(cc.codeCacheUse)))');
  const uses = checked.status === 0 ? (JSON.parse(checked.stdout) as string[]) : [];
  if (uses.length !== files.length || uses.some((u) => u !== 'used')) return drop(`a fresh node would not use them: ${uses.join(', ') || checked.stderr}`);
  // Which architecture and V8 they are for (another compiles afresh): for people, and the tests.
  const by = JSON.parse(made.stdout) as { node: string; arch: string; v8: string };
  fs.writeFileSync(path.join(dist, 'cli', 'code-caches.json'), `${JSON.stringify({ ...by, modules: COMMAND_MODULES }, null, 2)}\n`);
}

async function main(): Promise<void> {
  const built: string[] = [];
  await esbuild.build({ ...common, entryPoints: [path.join(root, 'lib', 'index.ts')], outfile: path.join(dist, 'index.js') });
  built.push(path.join(dist, 'index.js'));
  await esbuild.build({ ...common, entryPoints: [path.join(root, 'lib', 'testing', 'index.ts')], outfile: path.join(dist, 'testing', 'index.js'), plugins: [libraryExternal] });
  built.push(path.join(dist, 'testing', 'index.js'));
  const cliDir = path.join(root, 'lib', 'cli');
  const entries = fs.readdirSync(cliDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => path.join(cliDir, f));
  await esbuild.build({ ...common, entryPoints: entries, outdir: path.join(dist, 'cli'), plugins: [cliRequiresExternal] });
  for (const e of entries) built.push(path.join(dist, 'cli', `${path.basename(e, '.ts')}.js`));
  for (const f of built) {
    plainBuiltins(f);
    lazyBuiltins(f);
  }
  removeModules(dist, new Set(built));
  writeCodeCaches();
  // nsfd/testing must not carry a copy of the library.
  const testing = fs.readFileSync(path.join(dist, 'testing', 'index.js'), 'utf8');
  if (/class Pidfd\b/.test(testing)) throw new Error('dist/testing/index.js bundled a copy of the library');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
