// Runs once before the suite (vitest globalSetup). The tests import lib/
// directly, but every node process they start runs a build: the fixtures
// (dist-dev/test/fixtures/, compiled with the lib/ they import beside them)
// and the package itself (dist/: bin/nsfd.js, the loader test). So that no
// process runs a build older than the sources, the build is redone here
// when any source is newer than it (`npm test` builds first anyway).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
// build:ts writes dist/index.mjs last (scripts/write-esm.ts).
const STAMP = path.join(root, 'dist', 'index.mjs');
const SOURCES = ['lib', 'test/fixtures', 'scripts'];
const FILES = ['package.json', 'tsconfig.json', 'tsconfig.dev.json'];

function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (/\.m?ts$/.test(e.name)) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

function stale(): string | undefined {
  if (!fs.existsSync(STAMP) || !fs.existsSync(path.join(root, 'dist-dev'))) return 'no build';
  const built = fs.statSync(STAMP).mtimeMs;
  const files = FILES.map((f) => path.join(root, f)).filter((f) => fs.existsSync(f));
  const src = Math.max(...SOURCES.map((d) => newest(path.join(root, d))), ...files.map((f) => fs.statSync(f).mtimeMs));
  return src > built ? 'sources newer than the build' : undefined;
}

export default function setup(): void {
  // In the kernel-matrix VMs (scripts/kernel-vm/init.sh) the tree is a copy
  // of the host's, made after its build (test-kernels.sh refuses to start
  // without dist/ and dist-dev/); an initramfs need not keep mtimes, and
  // the VM has no npm to rebuild with.
  if (process.env.NSFD_IN_VM === '1') return;
  const why = stale();
  if (why === undefined) return;
  process.stderr.write(`global-setup: ${why}: npm run build:ts\n`);
  const r = spawnSync('npm', ['run', '--silent', 'build:ts'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`the build is stale (${why}) and npm run build:ts failed (${r.error?.message ?? `exit ${r.status}`}): run it by hand`);
}
