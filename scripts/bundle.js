// Part of build:ts, after tsc: replaces dist/index.js and dist/cli/*.js
// with esbuild bundles, because start-up time is most of what a CLI call
// costs and Node spends it per module file (resolve, read, compile): 72
// files for `require('nsfd')` cost ~13 ms more than one (npm run bench --
// startup). tsc still writes the rest of dist/ (the typings, and the
// per-module files some test fixtures load: those are a second copy of the
// library, so a fixture takes every public name from dist/index.js and
// only what is not public (native, procfs) from dist/*/: a Pidfd of the
// bundle is not one of dist/pidfd.js's).
//   dist/index.js    the whole library, one file (require/import 'nsfd').
//   dist/cli/X.js    lib/cli/X.ts with the CLI modules it imports and
//                    only the library code it uses (tree-shaken from
//                    lib/index.ts). What main.ts requires (the commands,
//                    the help texts) stays a separate file, loaded only
//                    when used; each file has its own copy of args.ts, so
//                    main tells a UsageError by name (isUsageError).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // The addon's loader finds the package root itself (lib/sys/native.ts).
  external: ['node-gyp-build'],
  logLevel: 'warning',
  // One tsconfig for tsc and esbuild: class field semantics match.
  tsconfig: path.join(root, 'tsconfig.json'),
};

/** What main.ts requires stays a file of its own, loaded when used. */
const mainsRequiresExternal = {
  name: 'mains-requires-external',
  setup(build) {
    const main = path.join(root, 'lib', 'cli', 'main.ts');
    build.onResolve({ filter: /^\.\/[^/]+$/ }, (args) => (args.importer === main && args.kind === 'require-call' ? { path: args.path, external: true } : undefined));
  },
};

/**
 * `import * as fs from 'node:fs'` becomes __toESM(require("node:fs")),
 * which copies every property of the builtin, per importing module (~1 ms
 * of `nsfd exec`). A builtin's exports need no ES-module face unless
 * `.default` is used: then it stays.
 */
function plainBuiltins(file) {
  const text = fs.readFileSync(file, 'utf8');
  const out = text.replace(/var (\w+) = __toESM\(require\("(node:[\w/]+)"\)\);/g, (all, name, mod) =>
    text.includes(`${name}.default`) ? all : `var ${name} = require("${mod}");`,
  );
  if (out !== text) fs.writeFileSync(file, out);
}

function dropMap(file) {
  // tsc's map describes the file this bundle replaced.
  fs.rmSync(`${file}.map`, { force: true });
}

async function main() {
  await esbuild.build({ ...common, entryPoints: [path.join(root, 'lib', 'index.ts')], outfile: path.join(dist, 'index.js') });
  dropMap(path.join(dist, 'index.js'));
  plainBuiltins(path.join(dist, 'index.js'));
  const cliDir = path.join(root, 'lib', 'cli');
  const entries = fs.readdirSync(cliDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => path.join(cliDir, f));
  await esbuild.build({ ...common, entryPoints: entries, outdir: path.join(dist, 'cli'), plugins: [mainsRequiresExternal] });
  for (const e of entries) {
    const out = path.join(dist, 'cli', `${path.basename(e, '.ts')}.js`);
    dropMap(out);
    plainBuiltins(out);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
