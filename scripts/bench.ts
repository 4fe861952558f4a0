#!/usr/bin/env node
// npm run bench: runs every scripts/bench/*.ts, as compiled to
// dist-dev/scripts/bench/*.js (or those named on the
// command line, e.g. `npm run bench -- attach`) in its own Node process,
// one after another, so each measures on a quiet machine.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const dir = path.join(__dirname, 'bench');
const only = process.argv.slice(2);
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.js') && !f.startsWith('_'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o))).sort();
let failed = 0;
for (const f of files) {
  console.log(`\n### ${f.replace(/\.js$/, '')}`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) { failed++; console.log(`(${f} failed with ${r.status ?? r.signal})`); }
}
process.exit(failed ? 1 : 0);
