// The nsfd CLI (bin/nsfd.js, on dist/): output shapes, exit codes, usage
// errors, one-line errors, against real namespaces.
import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { features } from '../lib/index';
import * as R from './fixtures/inns-rootfs.js';
import { startUnshared } from './fixtures/_util.js';
import { Target, feat, isRoot, killAndClose, needsRoot, repoRoot, startTarget, fixturePath } from './helpers';

const bin = path.join(repoRoot, 'bin', 'nsfd.js');
const ino = (p: string) => fs.statSync(p).ino;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function nsfd(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A usage error: exit 2, the message on the first line of stderr, then the usage. */
function expectUsage(r: Result, command: string, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n');
  expect(lines[0]).toMatch(/^nsfd: /);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).toContain(command === 'main' ? 'Usage: nsfd <command>' : `Usage: nsfd ${command}`);
}

/** A runtime error: exit 1 and exactly one line on stderr. */
function expectOneLineError(r: Result, message: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^nsfd: /);
  expect(r.stderr).toMatch(message);
}

interface LsJson {
  namespaces: { type: string; inode: number; id?: string; uid?: number; pids: number[]; sources: string[]; holders: { pid: number; fd: number }[]; command?: string }[];
}

// dist/ exists and is current: test/global-setup.ts builds it when it is not.
describe('nsfd CLI', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget();
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('output into a full non-blocking pipe arrives whole (write(2) on fd 1 gives way to process.stdout on EAGAIN)', () => {
    // A 4 KiB pipe, O_NONBLOCK on nsfd's end, read only after a pause:
    // the JSON (well over 4 KiB) meets EAGAIN part way.
    const script = String.raw`
import fcntl, json, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
fcntl.fcntl(r, 1031, 4096)  # F_SETPIPE_SZ
p = subprocess.Popen([sys.argv[1], sys.argv[2], 'ls', '--json'], stdout=w)
os.close(w)
time.sleep(0.3)
data = b''
while True:
    b = os.read(r, 65536)
    if not b: break
    data += b
print(json.dumps({'code': p.wait(), 'bytes': len(data), 'n': len(json.loads(data)['namespaces'])}))
`;
    const r = spawnSync('python3', ['-c', script, process.execPath, bin], { encoding: 'utf8', timeout: 30000 });
    expect(r.stderr).toBe('');
    const res = JSON.parse(r.stdout) as { code: number; bytes: number; n: number };
    expect(res.code).toBe(0);
    expect(res.bytes).toBeGreaterThan(4096);
    expect(res.n).toBeGreaterThan(0);
  });

  describe('help and usage', () => {
    it('--help lists the commands; no command is a usage error', async () => {
      const h = await nsfd(['--help']);
      expect(h.code).toBe(0);
      for (const c of ['ls', 'exec', 'translate', 'features', 'demo']) expect(h.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
      expectUsage(await nsfd([]), 'main', /missing command/);
      expectUsage(await nsfd(['frobnicate']), 'main', /unknown command 'frobnicate'/);
    });

    it('every subcommand has --help (and -h) on stdout, exit 0', async () => {
      for (const c of ['ls', 'exec', 'translate', 'features', 'demo']) {
        for (const flag of ['--help', '-h']) {
          const r = await nsfd([c, flag]);
          expect(r.code, `${c} ${flag}`).toBe(0);
          expect(r.stdout).toMatch(new RegExp(`^Usage: nsfd ${c}`));
          expect(r.stderr).toBe('');
        }
      }
    });

    it('bad options print the usage of that command and exit 2', async () => {
      expectUsage(await nsfd(['ls', '--bogus']), 'ls', /unrecognized option '--bogus'/);
      expectUsage(await nsfd(['ls', '-t', 'bogus']), 'ls', /unknown namespace type 'bogus'/);
      expectUsage(await nsfd(['ls', 'extra']), 'ls', /namespace must be an inode number/);
      expectUsage(await nsfd(['features', '--tree']), 'features', /Unknown option/);
      expectUsage(await nsfd(['translate']), 'translate', /needs a PID/);
      expectUsage(await nsfd(['translate', 'abc']), 'translate', /PID must be an integer/);
      expectUsage(await nsfd(['translate', '1', '2']), 'translate', /unexpected argument '2'/);
      expectUsage(await nsfd(['exec', '-a', 'true']), 'exec', /no target PID specified/);
      expectUsage(await nsfd(['exec', '-t', 'x1', '-a', 'true']), 'exec', /--target must be PID or PID:INODE/);
      expectUsage(await nsfd(['exec', '-t', '1', '--frob', 'true']), 'exec', /unrecognized option '--frob'/);
      expectUsage(await nsfd(['demo', 'now']), 'demo', /positional/i);
    });
  });

  describe('ls', () => {
    it('prints a table with lsns-like columns, our namespaces and the target\'s', async () => {
      const r = await nsfd(['ls']);
      expect(r.code).toBe(0);
      const [header, ...rows] = r.stdout.trimEnd().split('\n');
      // lsns's default columns.
      expect(header?.trim().split(/\s+/)).toEqual(['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'COMMAND']);
      if (feat.ns_get_id.available) expect((await nsfd(['ls', '-o', '+NSID,HELD'])).stdout.split('\n')[0]).toMatch(/COMMAND +NSID +HELD$/);
      const byInode = new Map(rows.map((l) => [Number(l.trim().split(/\s+/)[0]), l]));
      const ourNet = byInode.get(ino('/proc/self/ns/net'));
      expect(ourNet).toMatch(/^\s*\d+ net\s+\d+\s+\d+\s+\S+/);
      // unshare and its sleeping child; the lowest pid is unshare's.
      expect(byInode.get(ino(`/proc/${target.pid}/ns/uts`))).toMatch(
        new RegExp(` uts +2 +${target.launcher.pid} +\\S+ +unshare .*sleep 100000$`),
      );

      const n = await nsfd(['ls', '-n', '-t', 'uts']);
      expect(n.code).toBe(0);
      const lines = n.stdout.trimEnd().split('\n');
      expect(lines.every((l) => / uts /.test(l))).toBe(true);
      expect(lines.some((l) => l.trim().startsWith(String(ino(`/proc/${target.pid}/ns/uts`))))).toBe(true);
    });

    it('a command line with control characters stays on one row and cannot drive the terminal (C0/C1 as \\xHH, as lsns writes them; bidi controls as \\uHHHH)', async () => {
      // sh does not exec the last command here, so its argv (with a newline,
      // a C1 CSI and a right-to-left override) stays; it is pid 1 of a pid
      // namespace, so its sleep dies with it.
      const t = await startUnshared(['--pid', '--uts', 'sh', '-c', 'sleep 100000; : "two\nlines \u009b31m \u202eevil \u2066x"'], 'the sh', 'sh');
      try {
        const utsIno = ino(`/proc/${t.pid}/ns/uts`);
        const lines = (await nsfd(['ls', '-n', '-t', 'uts'])).stdout.trimEnd().split('\n');
        expect(lines.every((l) => / uts /.test(l))).toBe(true);
        const row = lines.find((l) => l.trim().startsWith(String(utsIno)));
        expect(row).toMatch(/sh -c sleep 100000; : "two\\x0alines \\x9b31m \\u202eevil \\u2066x"$/);
        expect(row).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
        const j = JSON.parse((await nsfd(['ls', '-J', '-t', 'uts'])).stdout) as LsJson;
        expect(j.namespaces.find((n) => n.inode === utsIno)?.command).toContain('two\nlines');
      } finally {
        await t.stop();
      }
    });

    it('--json parses, with ids as strings, and -t filters', async () => {
      const r = await nsfd(['ls', '--json', '-t', 'net']);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as LsJson;
      expect(j.namespaces.length).toBeGreaterThanOrEqual(2);
      expect(j.namespaces.every((n) => n.type === 'net')).toBe(true);
      const theirs = j.namespaces.find((n) => n.inode === ino(`/proc/${target.pid}/ns/net`));
      expect(theirs?.pids).toContain(target.pid);
      expect(theirs?.sources).toEqual(['process']);
      if (feat.ns_get_id.available) expect(theirs?.id).toMatch(/^\d+$/);
    });

    it('--tree=parent shows the target\'s pid namespace under ours (as lsns -Tparent); -J nests children', async () => {
      const r = await nsfd(['ls', '--tree=parent', '-t', 'pid']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${ino('/proc/self/ns/pid')} +pid `, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^[├└]─${ino(`/proc/${target.pid}/ns/pid`)} +pid `, 'm'));

      type Node = { ns: number; children?: Node[] };
      const j = JSON.parse((await nsfd(['ls', '-Tparent', '-J', '-t', 'pid'])).stdout) as { namespaces: Node[] };
      const root = j.namespaces.find((n) => n.ns === ino('/proc/self/ns/pid'));
      expect(root?.children?.map((c) => c.ns)).toContain(ino(`/proc/${target.pid}/ns/pid`));
      const owner = JSON.parse((await nsfd(['ls', '-T', '-J'])).stdout) as { namespaces: Node[] };
      const ourUser = owner.namespaces.find((n) => n.ns === ino('/proc/self/ns/user'));
      expect(ourUser?.children?.map((c) => c.ns)).toContain(ino('/proc/self/ns/net'));
    });

    needsRoot('runs the CLI as a uid nothing else runs as: setuid').it('works unprivileged, listing what that user may see', async () => {
      // A uid nothing else runs as: the lister is the only process it can
      // read, so it meets every namespace first in its own /proc entry --
      // where its own transient fds must not show up as holders.
      // (Per run: two test runs at once would otherwise see each other.)
      const uid = 50000 + (process.pid % 10000);
      const r = spawnSync(process.execPath, [bin, 'ls', '--json'], { uid, gid: uid, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const j = JSON.parse(r.stdout) as LsJson;
      expect(j.namespaces.length).toBeGreaterThanOrEqual(8);
      const pids = new Set(j.namespaces.flatMap((n) => n.pids));
      expect(pids.size).toBe(1);
      expect(j.namespaces.filter((n) => n.uid !== uid || n.sources.join() !== 'process')).toEqual([]);
      expect(j.namespaces.filter((n) => n.holders.length > 0)).toEqual([]);
    });

    it('shows a namespace held only by an fd, with HELD fd', async () => {
      const t = await startTarget();
      const uts = ino(`/proc/${t.pid}/ns/uts`);
      const holder: ChildProcess = spawn(process.execPath, [fixturePath('list-holder.js'), String(t.pid), 'fd', 'uts'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const rl = readline.createInterface({ input: holder.stdout as NodeJS.ReadableStream });
        const info = JSON.parse(await new Promise<string>((r) => rl.once('line', r))) as { pid: number; fd: number };
        rl.close();
        await t.stop();
        const j = JSON.parse((await nsfd(['ls', '-J', '-t', 'uts'])).stdout) as LsJson;
        const ns = j.namespaces.find((n) => n.inode === uts);
        expect(ns?.sources).toEqual(['fd']);
        expect(ns?.holders).toEqual([{ pid: info.pid, fd: info.fd }]);
        const table = (await nsfd(['ls', '-n', '-t', 'uts', '-o', 'NS,TYPE,NPROCS,PID,USER,HELD,COMMAND'])).stdout.split('\n');
        expect(table.find((l) => l.trim().startsWith(String(uts)))).toMatch(new RegExp(`^${uts} uts +0 +${info.pid} .* fd .*list-holder\\.js`));
      } finally {
        await t.stop();
        await killAndClose(holder);
      }
    });
  });

  describe('translate', () => {
    it('translates between our pid namespace and the target\'s, by pid or by path', async () => {
      const t = String(target.pid);
      const into = await nsfd(['translate', t, '--to', t]);
      expect(into).toEqual({ code: 0, stdout: '1\n', stderr: '' });
      const back = await nsfd(['translate', '1', '--from', t]);
      expect(back.stdout).toBe(`${target.pid}\n`);
      const byPath = await nsfd(['translate', t, '--to', `/proc/${t}/ns/pid`, '--tgid']);
      expect(byPath.stdout).toBe('1\n');
    });

    it('errors are one line and exit 1', async () => {
      expectOneLineError(await nsfd(['translate', '5', '--from', '/etc/passwd']), /EINVAL.*not a namespace file/);
      expectOneLineError(await nsfd(['translate', '5', '--from', '/nonexistent']), /ENOENT/);
      expectOneLineError(await nsfd(['translate', '5', '--to', '999999999']), /ESRCH/);
      // pid 1 of the target's namespace exists, pid 424242 there does not.
      expectOneLineError(await nsfd(['translate', '424242', '--from', String(target.pid)]), /ESRCH/);
    });
  });

  describe('features', () => {
    it('prints one row per feature, and --json matches features()', async () => {
      const f = features();
      const r = await nsfd(['features']);
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^Linux /);
      expect(lines[1]).toMatch(/^FEATURE +AVAILABLE +SINCE +DETAIL$/);
      for (const [name, v] of Object.entries(f)) {
        expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${name} +${v.available ? 'yes' : 'no'} +${v.since.replace('.', '\\.')}\\b`)));
      }
      const j = await nsfd(['features', '--json']);
      expect(JSON.parse(j.stdout)).toEqual(JSON.parse(JSON.stringify(f)));
    });
  });

  describe('exec', () => {
    it('runs a command in the target\'s namespaces; the exit code is the command\'s', async () => {
      const t = String(target.pid);
      const r = await nsfd(['exec', '-t', t, '-a', '--', 'sh', '-c', 'readlink /proc/self/ns/net /proc/self/ns/uts; echo $$']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const [net, uts, pid] = r.stdout.trimEnd().split('\n');
      expect(net).toBe(fs.readlinkSync(`/proc/${t}/ns/net`));
      expect(uts).toBe(fs.readlinkSync(`/proc/${t}/ns/uts`));
      // In the target's pid namespace (sleep is pid 1 there).
      expect(Number(pid)).toBeGreaterThan(1);
      expect(Number(pid)).toBeLessThan(100);

      // Only the namespaces asked for; options end at the command (ls -l is ls's).
      // Rootless, the target's net ns belongs to its own user ns: -U joins that first.
      const n = await nsfd(['exec', '-t', t, ...(isRoot ? [] : ['-U']), '-n', 'readlink', '/proc/self/ns/net', '/proc/self/ns/uts']);
      expect(n.stdout.trimEnd().split('\n')).toEqual([fs.readlinkSync(`/proc/${t}/ns/net`), fs.readlinkSync('/proc/self/ns/uts')]);

      expect((await nsfd(['exec', '-t', t, '-a', '--', 'sh', '-c', 'exit 7'])).code).toBe(7);
      expect((await nsfd(['exec', '-t', t, '-a', '--', 'sh', '-c', 'kill -TERM $$'])).code).toBe(128 + 15);
      expect((await nsfd(['exec', `-at${t}`, 'true'])).code).toBe(0);
    });

    needsRoot('--uid/--gid 65534: rootless only our own id is mapped in the target\'s user ns (CAP_SETUID, CAP_SETGID)').it('--wd, --uid, --gid and --root', async () => {
      const t = String(target.pid);
      // --wd takes its DIR attached, as nsenter's does (a separate word is the command).
      const r = await nsfd(['exec', '-t', t, '-a', '-r', '--wd=/proc', '-S', '65534', '-G', '65534', '--', 'sh', '-c', 'pwd; id -u; id -g']);
      expect(r.stdout).toBe('/proc\n65534\n65534\n');
      expect(r.code).toBe(0);
    });

    it('--root is the target\'s own root, also for a target chroot()ed inside its mount namespace', async () => {
      const fsx = R.makeRootfs();
      const t = await R.startChrooted(fsx.root);
      try {
        const r = await nsfd(['exec', '-t', String(t.pid), '-a', '-r', '--', '/bin/cat', '/etc/marker']);
        expect(r).toMatchObject({ code: 0, stdout: 'CONTAINER\n' });
        // Without --root: its mount namespace's root, which is the host's /.
        const plain = await nsfd(['exec', '-t', String(t.pid), '-a', '--', 'sh', '-c', 'test -e /etc/marker && echo found || echo none']);
        expect(plain.stdout).toBe('none\n');
      } finally {
        await t.stop();
        fsx.cleanup();
      }
    });

    it('a command that is missing exits 127, one that cannot run 126, each with one line', async () => {
      const t = String(target.pid);
      const missing = await nsfd(['exec', '-t', t, '-a', 'no-such-command-nsfd']);
      expect(missing.code).toBe(127);
      expect(missing.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(missing.stderr).toMatch(/^nsfd: ENOENT/);
      const noexec = await nsfd(['exec', '-t', t, '-a', '/etc/passwd']);
      expect(noexec.code).toBe(126);
      expect(noexec.stderr).toMatch(/^nsfd: EACCES/);
    });

    it('a target that does not exist is a one-line error', async () => {
      expectOneLineError(await nsfd(['exec', '-t', '999999999', '-a', 'true']), /ESRCH.*pidfd_open/);
    });
  });

  describe.skipIf(!isRoot && !feat.unprivileged_userns.available)('demo', () => {
    it('runs every step and cleans up after itself', async () => {
      const before = new Set(fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)));
      const r = await nsfd(['demo']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      for (let step = 1; step <= 7; step++) expect(r.stdout).toMatch(new RegExp(`^${step}\\. `, 'm'));
      expect(r.stdout).toMatch(/Done: every fd closed, the sandbox reaped\.\n$/);
      // The sandbox's hostname was seen from inside, and nothing it made is left running.
      expect(r.stdout).toMatch(/hostname nsfd-demo/);
      const pid = Number(/pid (\d+) \(pid 1 inside\)/.exec(r.stdout)?.[1]);
      expect(pid).toBeGreaterThan(0);
      expect(before.has(String(pid)) || !fs.existsSync(`/proc/${pid}`) || !/^sleep/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1'))).toBe(true);
    });
  });
});

// lib/cli/code-cache.ts. Each case runs in a fresh node on dist-dev's
// build of the loader: a cache is made under V8 flags set for the moment,
// and vitest's own process may run with source maps on (which turns it off).
describe('the code caches of the CLI commands', () => {
  const loader = path.join(repoRoot, 'dist-dev', 'lib', 'cli', 'code-cache.js');
  const HEADER = 64;
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-cc-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs `code` in a fresh node with the loader as `cc`: what it prints, as JSON. */
  function inNode<T>(code: string, env: NodeJS.ProcessEnv = {}): T {
    const r = spawnSync(process.execPath, ['-e', `const cc = require(${JSON.stringify(loader)}); const out = (() => { ${code} })(); process.stdout.write(JSON.stringify(out));`], {
      encoding: 'utf8',
      env: { ...process.env, NSFD_CODE_CACHE: undefined, ...env },
    });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as T;
  }
  const load = (file: string, env?: NodeJS.ProcessEnv) => inNode<{ use: string; v: string; dep: number }>(`const r = cc.requireWithCodeCache(${JSON.stringify(file)}); return { use: r.use, v: r.exports.v, dep: r.exports.dep };`, env);
  /** A module (requiring one beside it) and its cache. */
  function makeModule(name: string, v: string): string {
    const file = path.join(dir, `${name}.js`);
    fs.writeFileSync(path.join(dir, 'dep.js'), 'module.exports = 42;\n');
    fs.writeFileSync(file, `exports.v = ${JSON.stringify(v)};\nexports.dep = require('./dep');\n`);
    inNode(`require('node:fs').writeFileSync(${JSON.stringify(`${file}.cache`)}, cc.makeCodeCache(${JSON.stringify(file)})); return 0;`);
    return file;
  }

  it('every command module has one that a fresh node of the architecture and V8 that made them uses (made by the build, scripts/bundle.ts); another compiles afresh', () => {
    const files = inNode<string[]>('return cc.COMMAND_MODULES');
    expect(files).toContain('exec');
    const made = JSON.parse(fs.readFileSync(path.join(repoRoot, 'dist', 'cli', 'code-caches.json'), 'utf8')) as { node: string; arch: string; v8: string; modules: string[] };
    expect(made.modules).toEqual(files);
    const uses = inNode<string[]>(`return cc.COMMAND_MODULES.map((m) => cc.codeCacheUse(${JSON.stringify(path.join(repoRoot, 'dist', 'cli'))} + '/' + m + '.js'))`);
    // (The Node-versions CI stage runs Node 22 and 24 on Node 20's build,
    // the aarch64 VM the x86_64 host's.)
    expect(uses).toEqual(files.map(() => (made.v8 === process.versions.v8 && made.arch === process.arch ? 'used' : 'other platform')));
    // NSFD_CODE_CACHE=0 turns it off.
    expect(inNode<string>(`return cc.codeCacheUse(${JSON.stringify(path.join(repoRoot, 'dist', 'cli', 'exec.js'))})`, { NSFD_CODE_CACHE: '0' })).toBe('off');
  });

  it('a module loads with its cache, once, and its require() resolves beside it', () => {
    const file = makeModule('plain', 'aaaa');
    expect(load(file)).toEqual({ use: 'used', v: 'aaaa', dep: 42 });
    expect(inNode<boolean>(`return cc.requireWithCodeCache(${JSON.stringify(file)}) === cc.requireWithCodeCache(${JSON.stringify(file)})`)).toBe(true);
    expect(load(file, { NSFD_CODE_CACHE: '0' })).toEqual({ use: 'off', v: 'aaaa', dep: 42 });
  });

  it('a module edited in place to the same length is compiled afresh: V8 alone would run the old code', () => {
    const file = makeModule('edited', 'aaaa');
    const cache = fs.readFileSync(`${file}.cache`);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('aaaa', 'bbbb'));
    expect(load(file)).toEqual({ use: 'stale', v: 'bbbb', dep: 42 });
    // Why the header holds a hash of the bytes: V8 compares only the length.
    const v8Alone = inNode<{ rejected: boolean; v: string }>(`
      const vm = require('node:vm');
      const src = require('node:fs').readFileSync(${JSON.stringify(file)}, 'utf8');
      const s = new vm.Script('(function (exports, require, module, __filename, __dirname) { ' + src + '\\n});', { filename: ${JSON.stringify(file)}, cachedData: require('node:fs').readFileSync(${JSON.stringify(`${file}.cache`)}).subarray(${HEADER}) });
      const m = { exports: {} };
      s.runInThisContext()(m.exports, require('node:module').createRequire(${JSON.stringify(file)}), m, '', '');
      return { rejected: s.cachedDataRejected, v: m.exports.v };`);
    expect(v8Alone).toEqual({ rejected: false, v: 'aaaa' });
    expect(cache.length).toBeGreaterThan(HEADER);
  });

  it('a missing, malformed or foreign cache is no cache: the module still loads', () => {
    const file = makeModule('broken', 'cccc');
    const cache = fs.readFileSync(`${file}.cache`);
    // V8's own header: another V8 version or other flags look like this.
    const foreign = Buffer.from(cache);
    foreign.writeUInt32LE((foreign.readUInt32LE(HEADER + 4) ^ 1) >>> 0, HEADER + 4);
    // Ours: made on another architecture (which V8 does not check).
    const otherArch = Buffer.from(cache);
    otherArch.fill(0, 16, HEADER).write(`${process.arch === 'arm64' ? 'x64' : 'arm64'} ${process.versions.v8}`, 16, 'latin1');
    const cases: [Buffer | undefined, string][] = [
      [undefined, 'absent'],
      [Buffer.alloc(0), 'malformed'],
      [cache.subarray(0, HEADER), 'malformed'],
      [Buffer.concat([Buffer.from('nsfdcc0\n'), cache.subarray(8)]), 'malformed'],
      [foreign, 'rejected by V8'],
      [otherArch, 'other platform'],
      [Buffer.concat([cache.subarray(0, HEADER), Buffer.from('not V8 data')]), 'rejected by V8'],
    ];
    for (const [bytes, use] of cases) {
      if (bytes === undefined) fs.rmSync(`${file}.cache`);
      else fs.writeFileSync(`${file}.cache`, bytes);
      expect([use, load(file)]).toEqual([use, { use, v: 'cccc', dep: 42 }]);
    }
  });
});
