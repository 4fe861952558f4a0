// The package as npm users get it (issue 16, item 13): `npm pack`, then an
// install of the tarball into an empty folder, with --ignore-scripts (as
// pnpm 10 and bun do) and no compiler used: the prebuilt addon loads; the
// tarball carries its LICENSE, metadata and source maps with their sources;
// `prepare` works on a tree with no addon built. NSFD_TEST_PACK_COMPILE=1
// also installs a tarball without prebuilds, which compiles the addon.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { repoRoot } from './helpers';

const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
let tmp = '';
let tarball = '';

function sh(cmd: string, args: string[], cwd: string): string {
  // (Not root: npm's cache goes in our temporary folder, the user's may not be writable.)
  const env = process.getuid?.() === 0 ? process.env : { ...process.env, npm_config_cache: path.join(tmp, 'npm-cache') };
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** npm pack in `dir` (its prepare skipped), into `dest`: the tarball's path. */
function pack(dir: string, dest: string, ignoreScripts = true): string {
  const out = sh('npm', ['pack', '--json', '--pack-destination', dest, ...(ignoreScripts ? ['--ignore-scripts'] : [])], dir);
  const json = JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[];
  return path.join(dest, (json[0] as { filename: string }).filename);
}

/** Installs `tgz` into a fresh folder; returns the folder. */
function install(tgz: string, name: string, ignoreScripts: boolean): string {
  const app = path.join(tmp, name);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: `app-${name}`, version: '1.0.0', private: true }));
  sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...(ignoreScripts ? ['--ignore-scripts'] : []), tgz], app);
  return app;
}

const SMOKE = `
const nsfd = require('nsfd');
const { leakCheck } = require('nsfd/testing');
(async () => {
  const p = nsfd.Pidfd.self();
  const child = nsfd.spawn('/bin/true', [], { stdio: 'ignore' });
  const status = await child.exited;
  child.close();
  const esm = await import('nsfd');
  console.log(JSON.stringify({ pid: p.pid === process.pid, status, esm: esm.Pidfd === nsfd.Pidfd, testing: typeof leakCheck, addon: Object.keys(require.cache).find((k) => k.endsWith('.node')) }));
  p.close();
})();`;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-pack-'));
  // The tree's own tarball (dist/ as built by npm test), then the same with
  // this machine's addon as its prebuild, as `npm run prebuilds` makes it.
  const plain = pack(repoRoot, tmp);
  const pkg = path.join(tmp, 'pkg');
  fs.mkdirSync(pkg);
  sh('tar', ['-xzf', plain, '-C', pkg, '--strip-components=1'], tmp);
  const prebuild = path.join(pkg, 'prebuilds', `linux-${arch}`, 'nsfd.glibc.node');
  if (!fs.existsSync(prebuild)) {
    fs.mkdirSync(path.dirname(prebuild), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, 'build/Release/nsfd.node'), prebuild);
  }
  fs.mkdirSync(path.join(tmp, 'with-prebuilds'));
  tarball = pack(pkg, path.join(tmp, 'with-prebuilds'));
}, 120000);

afterAll(() => {
  if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships dist, the native sources, LICENSE and metadata; no tests, no dev build; source maps carry their sources', () => {
    const list = sh('tar', ['-tzf', tarball], tmp).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['LICENSE', 'package.json', 'README.md', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/testing/index.mjs', 'bin/nsfd.js', 'binding.gyp', `prebuilds/linux-${arch}/nsfd.glibc.node`]) {
      expect(list, f).toContain(f);
    }
    expect(list.some((f) => f.startsWith('native/') && f.endsWith('.cc'))).toBe(true);
    expect(list.filter((f) => /^(test|dist-dev|lib|scripts)\//.test(f))).toEqual([]);
    const pkg = JSON.parse(fs.readFileSync(path.join(tmp, 'pkg', 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.license).toBe('MIT');
    expect(pkg.repository).toBeDefined();
    expect((pkg.keywords as string[]).length).toBeGreaterThan(3);
    // Every map either has its sources inline or names files that are in the tarball.
    const maps = list.filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    for (const m of maps) {
      const map = JSON.parse(fs.readFileSync(path.join(tmp, 'pkg', m), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      const inline = map.sourcesContent !== undefined && map.sourcesContent.length === map.sources.length && map.sourcesContent.every((c) => typeof c === 'string' && c.length > 0);
      const shipped = map.sources.every((s) => list.includes(path.posix.normalize(path.posix.join(path.posix.dirname(m), s))));
      expect(inline || shipped, m).toBe(true);
    }
  });
});

describe('installing the tarball', () => {
  it('with --ignore-scripts and a prebuild: loads, spawns, imports as ESM, with nsfd/testing and the bin; nothing compiled', () => {
    const app = install(tarball, 'prebuilt', true);
    const installed = path.join(app, 'node_modules', 'nsfd');
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    const r = spawnSync(process.execPath, ['-e', SMOKE], { cwd: app, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(o).toMatchObject({ pid: true, status: { code: 0, signal: null }, esm: true, testing: 'function' });
    expect(o.addon).toBe(path.join(fs.realpathSync(installed), 'prebuilds', `linux-${arch}`, 'nsfd.glibc.node'));
    const help = spawnSync(path.join(app, 'node_modules', '.bin', 'nsfd'), ['--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/nsfd/);
  }, 120000);

  it.runIf(process.env.NSFD_TEST_PACK_COMPILE === '1')('without prebuilds and with its install script: compiles the addon and loads it', () => {
    const bare = path.join(tmp, 'bare');
    fs.cpSync(path.join(tmp, 'pkg'), bare, { recursive: true });
    fs.rmSync(path.join(bare, 'prebuilds'), { recursive: true, force: true });
    fs.mkdirSync(path.join(tmp, 'bare-tgz'));
    const app = install(pack(bare, path.join(tmp, 'bare-tgz')), 'compiled', false);
    const installed = fs.realpathSync(path.join(app, 'node_modules', 'nsfd'));
    const r = spawnSync(process.execPath, ['-e', SMOKE], { cwd: app, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as { addon: string }).addon).toBe(path.join(installed, 'build', 'Release', 'nsfd.node'));
  }, 600000);
});

describe('prepare', () => {
  it('builds the TypeScript on a tree with no addon built (it must not load the addon)', () => {
    const src = path.join(tmp, 'src');
    fs.mkdirSync(src);
    // The sources, as a clean clone has them (no build/, dist/, prebuilds/).
    for (const f of ['lib', 'native', 'bin', 'scripts', 'test', 'binding.gyp', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.dev.json', 'vitest.config.mts', 'README.md', 'LICENSE']) {
      fs.cpSync(path.join(repoRoot, f), path.join(src, f), { recursive: true });
    }
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(src, 'node_modules'));
    expect(fs.existsSync(path.join(src, 'build'))).toBe(false);
    fs.mkdirSync(path.join(tmp, 'src-tgz'));
    const tgz = pack(src, path.join(tmp, 'src-tgz'), false);
    const list = sh('tar', ['-tzf', tgz], tmp);
    expect(list).toContain('package/dist/index.mjs');
    expect(list).toContain('package/dist/testing/index.mjs');
    expect(fs.readFileSync(path.join(src, 'dist', 'index.mjs'), 'utf8')).toBe(fs.readFileSync(path.join(repoRoot, 'dist', 'index.mjs'), 'utf8'));
  }, 180000);
});
