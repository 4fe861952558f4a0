#!/usr/bin/env node
// Prints, one per line, the node_modules package directories (relative to
// the repo root) that the test VMs need: the closure of the package's
// dependencies plus its devDependencies minus build-only tools (typescript,
// node-gyp, prebuildify, @types/*). Resolution follows Node's nested
// node_modules lookup over package-lock.json's "packages" map, keeping only
// directories that exist on disk (optional binaries for other platforms are
// listed in the lock but not installed).
//
// Usage: node runtime-modules.js REPO_ROOT [--cpu ARCH]
//
// --cpu ARCH (Node's process.arch name, e.g. arm64): for a VM of another
// architecture. A kept package built for this machine's cpu only (its
// package.json "cpu" lacks ARCH: rolldown's and lightningcss's native
// bindings) is not printed; in its place comes a line
//   npm:NAME@VERSION<TAB>DEST<TAB>INTEGRITY
// naming the same package for ARCH (NAME with this machine's arch replaced,
// VERSION and INTEGRITY from package-lock.json), to be unpacked at DEST
// (node_modules/NAME). Exits 1 when the lock has no such package.

import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(process.argv[2] || '.');
const cpuAt = process.argv.indexOf('--cpu');
const targetCpu = cpuAt > 0 ? process.argv[cpuAt + 1] : null;
const BUILD_ONLY = [/^typescript$/, /^@types\//, /^node-gyp$/, /^prebuildify$/, /^eslint/, /^prettier$/];

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
let lock: any = null;
try {
  lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
} catch {
  lock = null;
}

function readManifest(dir: any) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
  } catch {
    return null;
  }
}

// Dependencies of a package dir: from the lock when it has the entry,
// otherwise from the installed package.json.
function depsOf(dir: any) {
  const entry = lock && lock.packages ? lock.packages[dir] : undefined;
  const m = entry || readManifest(dir) || {};
  const names = new Set([
    ...Object.keys(m.dependencies || {}),
    ...Object.keys(m.optionalDependencies || {}),
    // Peers are only followed when installed (resolve() skips the others).
    ...Object.keys(m.peerDependencies || {}),
  ]);
  return [...names];
}

// Node's lookup: DIR/node_modules/NAME, then each ancestor's node_modules.
function resolve(fromDir: any, name: any) {
  let dir = fromDir;
  for (;;) {
    const cand = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (fs.existsSync(path.join(root, cand, 'package.json'))) return cand;
    if (dir === '') return null;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

const rootNames = [
  ...Object.keys(pkg.dependencies || {}),
  ...Object.keys(pkg.optionalDependencies || {}),
  ...Object.keys(pkg.devDependencies || {}).filter((n) => !BUILD_ONLY.some((re) => re.test(n))),
];

const seen = new Set();
const queue: any[] = [];
for (const n of rootNames) {
  const d = resolve('', n);
  if (d && !seen.has(d)) {
    seen.add(d);
    queue.push(d);
  }
}
while (queue.length > 0) {
  const dir = queue.shift();
  for (const n of depsOf(dir)) {
    const d = resolve(dir, n);
    if (d && !seen.has(d)) {
      seen.add(d);
      queue.push(d);
    }
  }
}

// A nested node_modules inside a kept package is copied with it; drop
// entries that sit inside another kept entry to avoid copying twice.
const sorted = [...seen].sort();
const out = sorted.filter((d) => !sorted.some((p) => p !== d && (d as string).startsWith(p + '/')));
if (targetCpu === null || targetCpu === process.arch) {
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
} else {
  const lines: any[] = [];
  let bad = false;
  for (const d of out) {
    const m = readManifest(d) || {};
    if (!Array.isArray(m.cpu) || m.cpu.includes(targetCpu)) {
      lines.push(d);
      continue;
    }
    const name = String(m.name || '');
    const alt = name.split(process.arch).join(targetCpu);
    const entry = lock && lock.packages ? lock.packages[`node_modules/${alt}`] : undefined;
    if (alt === name || !entry || !entry.version) {
      process.stderr.write(`runtime-modules: ${d} is built for ${m.cpu.join(',')}; package-lock.json has no ${alt} for ${targetCpu}\n`);
      bad = true;
      continue;
    }
    lines.push(`npm:${alt}@${entry.version}\tnode_modules/${alt}\t${entry.integrity || ''}`);
  }
  process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''));
  if (bad) process.exitCode = 1;
}
