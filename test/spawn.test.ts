// spawn() / run(): real clone3 children in real namespaces. Every error
// case also checks that no fd and no child (zombie) is left behind.
import * as cp from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Namespace, NsError, OwnedFd, Pidfd, RunFailure, RunOptions, SpawnOptions, Subprocess, run, spawn, translatePid } from '../lib/index';
import * as R from './fixtures/inns-rootfs.js';
import { checkLeaksPerTest, childPids, fdCount, feat, gid, isCloexec, isRoot, needsRoot, repoRoot, rootless, runFixture, sharedTarget, sleep, startTarget, uid, until, fixturePath } from './helpers';

const NS = ['user', 'mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup', 'time'] as const;
const nsLink = (pid: number | 'self', t: string): string => fs.readlinkSync(`/proc/${pid}/ns/${t}`);
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((f) => fs.existsSync(f));

/** The child's /proc/self/ns/<type> links, one per type (busybox readlink takes one path). */
async function childLinks(types: string[], options: SpawnOptions): Promise<string[]> {
  const r = await run('sh', ['-c', 'for t; do readlink /proc/self/ns/$t; done', 'sh', ...types], options);
  return r.stdout.trim().split('\n');
}

/** The thrown error, checked for a clean failure: no fd and no child left behind. */
function cleanFailure(fn: () => unknown): NsError & { step?: string } {
  const fds = fdCount();
  const kids = childPids();
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(Error);
  expect(fdCount()).toBe(fds);
  expect(childPids()).toEqual(kids);
  return caught as NsError;
}

function cgroup2Mount(): string | undefined {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'latin1').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre?.split(' ')[4];
  }
  return undefined;
}

function cgroupV1Dir(): string | undefined {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'latin1').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.startsWith('cgroup ')) return pre?.split(' ')[4];
  }
  return undefined;
}

const target = sharedTarget({ types: ['mount', 'net', 'uts', 'ipc', 'cgroup'] });
let tpidfd: Pidfd;
beforeAll(() => {
  tpidfd = Pidfd.open(target.pid);
});
afterAll(() => {
  tpidfd.close();
});
const fds = checkLeaksPerTest();

describe('spawn and run', () => {
  it('runs a program and reports its exit code, signal and output', async () => {
    const r = await run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n' });
    const k = await run('sh', ['-c', 'kill -TERM $$']);
    expect(k).toMatchObject({ code: null, signal: 'SIGTERM' });
    const b = await run('printf', ['\\x01\\x02'], { encoding: 'buffer' });
    expect(Buffer.isBuffer(b.stdout)).toBe(true);
    expect([...b.stdout]).toEqual([1, 2]);
  });

  describe('run(): timeout, signal, killSignal, maxBuffer (as execFile)', () => {
    /** The rejection of `p`, which must reject. */
    const rejection = async (p: Promise<unknown>): Promise<RunFailure> => {
      try {
        await p;
      } catch (err) {
        return err as RunFailure;
      }
      throw new Error('expected run() to reject');
    };
    const gone = (pid: number) => !fs.existsSync(`/proc/${pid}`);

    it('timeout: the child gets killSignal; run() rejects with ETIMEDOUT, its output and status', async () => {
      const e = await rejection(run('sh', ['-c', 'echo started; exec sleep 100'], { timeout: 200 }));
      expect(e).toBeInstanceOf(NsError);
      expect(e).toMatchObject({ code: 'ETIMEDOUT', syscall: 'run', stderr: '', status: { code: null, signal: 'SIGTERM' } });
      // (Whether sh got to its echo in 200 ms depends on the machine's load.)
      expect(e.stdout).toMatch(/^(started\n)?$/);
      expect(e.message).toMatch(/killed with SIGTERM after 200 ms/);
      expect(gone(e.pid)).toBe(true);
      // A child that ignores SIGTERM (the ignore survives exec): killSignal decides.
      const k = await rejection(run('sh', ['-c', 'trap "" TERM; exec sleep 100'], { timeout: 100, killSignal: 'SIGKILL' }));
      expect(k).toMatchObject({ code: 'ETIMEDOUT', status: { code: null, signal: 'SIGKILL' } });
      // Done in time: the result, as without a timeout.
      expect(await run('sh', ['-c', 'exit 4'], { timeout: 60000 })).toMatchObject({ code: 4, signal: null });
      // Exited before the timeout, though a background process still holds
      // its stdout when the timer fires: the result stands, nothing is killed.
      expect(await run('sh', ['-c', '(sleep 1.5) & exit 0'], { timeout: 300 })).toMatchObject({ code: 0, signal: null, stdout: '' });
    });

    it('signal: aborting kills the child and rejects with an AbortError; an aborted signal starts nothing', async () => {
      const ac = new AbortController();
      const p = rejection(run('sh', ['-c', 'echo up; exec sleep 100'], { signal: ac.signal, stdio: ['ignore', 'pipe', 'pipe'] }));
      await sleep(100);
      ac.abort('enough');
      const e = await p;
      expect(e).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'enough', status: { signal: 'SIGTERM' } });
      expect(gone(e.pid)).toBe(true);
      const before = childPids();
      const pre = await rejection(run('true', [], { signal: AbortSignal.abort() }));
      expect(pre).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      expect(pre.pid).toBeUndefined();
      expect(childPids()).toEqual(before);
    });

    it('maxBuffer: more output than that kills the child; what was kept is exactly maxBuffer bytes', async () => {
      const e = await rejection(run('sh', ['-c', 'head -c 100000 /dev/zero; exec sleep 100'], { maxBuffer: 1000, encoding: 'buffer' }));
      expect(e).toBeInstanceOf(RangeError);
      expect(e).toMatchObject({ code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', status: { signal: 'SIGTERM' } });
      expect((e.stdout as Buffer).length).toBe(1000);
      expect(gone(e.pid)).toBe(true);
      // The default is 1 MiB; Infinity lifts it.
      const big = await run('head', ['-c', String(2 * 1024 * 1024), '/dev/zero'], { maxBuffer: Infinity, encoding: 'buffer' });
      expect(big.stdout.length).toBe(2 * 1024 * 1024);
      const capped = await rejection(run('head', ['-c', String(2 * 1024 * 1024), '/dev/zero'], { encoding: 'buffer' }));
      expect((capped.stdout as Buffer).length).toBe(1024 * 1024);
      // Output past maxBuffer after the child has exited (from a background
      // process) still fails run(): the output was cut.
      const late = await rejection(run('sh', ['-c', '(sleep 0.3; printf 0123456789) & exit 0'], { maxBuffer: 4 }));
      expect(late).toMatchObject({ code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', stdout: '0123', status: { code: 0, signal: null } });
    });

    it('bad timeout, signal, killSignal and maxBuffer are typed errors; nothing starts', async () => {
      const before = childPids();
      const bad: [Record<string, unknown>, string][] = [
        [{ timeout: -1 }, 'ERR_OUT_OF_RANGE'],
        [{ timeout: 1.5 }, 'ERR_INVALID_ARG_TYPE'],
        [{ timeout: '10' }, 'ERR_INVALID_ARG_TYPE'],
        [{ signal: {} }, 'ERR_INVALID_ARG_TYPE'],
        [{ killSignal: 'SIGNOPE' }, 'ERR_INVALID_ARG_TYPE'],
        [{ killSignal: 'constructor' }, 'ERR_INVALID_ARG_TYPE'],
        [{ killSignal: 0 }, 'ERR_INVALID_ARG_TYPE'],
        [{ signal: null }, 'ERR_INVALID_ARG_TYPE'],
        [{ maxBuffer: -1 }, 'ERR_OUT_OF_RANGE'],
        [{ maxBuffer: NaN }, 'ERR_INVALID_ARG_TYPE'],
      ];
      for (const [o, code] of bad) {
        const e = await rejection(run('true', [], o as RunOptions));
        expect(e.code, JSON.stringify(o)).toBe(code);
      }
      expect(childPids()).toEqual(before);
    });
  });

  it('returns a Subprocess holding a CLOEXEC pidfd; kill goes through it', async () => {
    const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
    expect(c).toBeInstanceOf(Subprocess);
    expect(c.pidfd).toBeInstanceOf(Pidfd);
    expect(c.pidfd.pid).toBe(c.pid);
    expect(isCloexec(c.pidfd.fd)).toBe(true);
    expect(fs.readFileSync(`/proc/${c.pid}/status`, 'latin1')).toMatch(new RegExp(`^PPid:\\s+${process.pid}$`, 'm'));
    expect(c.kill('SIGTERM')).toBe(true);
    expect(await c.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(c.kill()).toBe(false); // reaped: ESRCH
    c.close();
  });

  it('passes argv, argv0, env and cwd; looks the program up in the env PATH', async () => {
    // node, not sh: busybox picks its applet by argv[0].
    const r = await run(process.execPath, ['-e', 'process.stdout.write([process.argv0, process.env.FOO, process.cwd()].join("|"))'], {
      env: { FOO: 'bar', PATH: '/usr/bin:/bin' },
      cwd: '/tmp',
      argv0: 'custom',
    });
    expect(r.stdout).toBe('custom|bar|/tmp');
    const a = await run('printf', ['%s|', 'one', 'two words', '']);
    expect(a.stdout).toBe('one|two words||');
    const e = cleanFailure(() => spawn('sh', [], { env: { PATH: '/nonexistent' } }));
    expect(e).toMatchObject({ code: 'ENOENT', step: 'execve', syscall: 'execve', path: 'sh' });
  });

  it('inherits process.env as it is now (in a Worker: the Worker\'s own copy)', async () => {
    process.env.NSFD_SPAWN_ENV = 'set';
    try {
      expect((await run('sh', ['-c', 'echo "$NSFD_SPAWN_ENV"'])).stdout).toBe('set\n');
    } finally {
      delete process.env.NSFD_SPAWN_ENV;
    }
    expect((await run('sh', ['-c', 'echo "${NSFD_SPAWN_ENV-unset}"'])).stdout).toBe('unset\n');
    const code = `
      const { parentPort } = require('node:worker_threads');
      const { run } = require(${JSON.stringify(path.join(repoRoot, 'dist/index.js'))});
      process.env.NSFD_WORKER_ENV = 'worker';
      run('sh', ['-c', 'echo "$NSFD_WORKER_ENV"']).then((r) => parentPort.postMessage(r.stdout), (e) => parentPort.postMessage(String(e)));
    `;
    const w = new Worker(code, { eval: true });
    const [msg] = (await once(w, 'message')) as [string];
    await w.terminate();
    expect(msg).toBe('worker\n');
    expect(process.env.NSFD_WORKER_ENV).toBeUndefined();
  });

  it('a Worker ended while its waits are pending: its reaper (a uv_poll on its loop) is torn down, the fds its handles held are closed (no finalizer runs there: the per-test fd check sees none left), its children live on, ours goes on', async () => {
    const code = `
      const { parentPort } = require('node:worker_threads');
      const { spawn } = require(${JSON.stringify(path.join(repoRoot, 'dist/index.js'))});
      const kids = [1, 2, 3].map(() => spawn('sleep', ['30'], { stdio: 'ignore' }));
      for (const k of kids) k.exited.then(() => parentPort.postMessage('exited too early'));
      // A fast one first: the Worker's reaper works before it is torn down.
      spawn('true', [], { stdio: 'ignore' }).exited.then((s) => parentPort.postMessage(kids.map((k) => k.pid).concat(s.code)));
    `;
    const w = new Worker(code, { eval: true });
    const [msg] = (await once(w, 'message')) as [number[]];
    expect(msg.pop()).toBe(0);
    await w.terminate();
    // The Worker's children outlive it (no killOnClose), still ours (its
    // thread was of this process): kill and reap them through pidfds of ours.
    for (const pid of msg) {
      using p = Pidfd.open(pid);
      expect(p.isAlive()).toBe(true);
      p.kill('SIGKILL');
      expect(await p.wait({ reap: true })).toEqual({ code: null, signal: 'SIGKILL' });
    }
    // Ours still works after the Worker's went away.
    const c = spawn('true', [], { stdio: 'ignore' });
    expect(await c.exited).toEqual({ code: 0, signal: null });
    c.close();
  });

  it('stdio: pipe, inherit, ignore, an fd, a stream, extra slots', async () => {
    const piped = await run('cat', [], { input: 'through stdin\n' });
    expect(piped.stdout).toBe('through stdin\n');

    const ignored = await run('readlink', ['/proc/self/fd/0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    expect(ignored.stdout).toBe('/dev/null\n');

    // inherit: the child's stderr is the very file ours is.
    const inh = await run('sh', ['-c', 'readlink /proc/self/fd/2'], { stdio: ['ignore', 'pipe', 'inherit'] });
    expect(inh.stdout.trim()).toBe(fs.readlinkSync('/proc/self/fd/2'));

    const file = path.join(os.tmpdir(), `nsfd-spawn-${process.pid}.txt`);
    const fd = fs.openSync(file, 'w');
    try {
      const c = spawn('sh', ['-c', 'echo to-fd; echo to-stream >&2; echo to-3 >&3'], { stdio: ['ignore', fd, { fd } as never, 'pipe'] });
      const chunks: Buffer[] = [];
      const s3 = c.stdio[3];
      expect(s3).toBeTruthy();
      s3?.on('data', (d: Buffer) => chunks.push(d));
      const closed = new Promise((r) => s3?.once('close', r));
      expect(await c.exited).toEqual({ code: 0, signal: null });
      await closed;
      c.close();
      expect(Buffer.concat(chunks).toString()).toBe('to-3\n');
      expect(fs.readFileSync(file, 'utf8')).toBe('to-fd\nto-stream\n');
    } finally {
      fs.closeSync(fd);
      fs.rmSync(file, { force: true });
    }
  });

  it('our ends of the pipes are CLOEXEC', async () => {
    const c = spawn('cat', [], { stdio: 'pipe' });
    for (const s of [c.stdin, c.stdout, c.stderr]) {
      const fd = (s as unknown as { _handle: { fd: number } })._handle.fd;
      expect(isCloexec(fd)).toBe(true);
    }
    c.stdin?.end();
    await c.exited;
    await new Promise((r) => (c.stdout?.closed ? r(null) : c.stdout?.once('close', r)));
    c.stderr?.destroy();
    c.close();
  });

  it('the child gets exactly the fds asked for, not fds we inherited without CLOEXEC', () => {
    const r = cp.spawnSync('bash', ['-c', `exec 50</etc/hostname; exec "${process.execPath}" "${fixturePath('spawn-fds.js')}"`], {
      encoding: 'utf8',
      timeout: 60000,
    });
    const o = JSON.parse(r.stdout);
    expect(o.error).toBeUndefined();
    // The premise: the fixture holds fd 50 without CLOEXEC, and child_process passes it on.
    expect(o).toMatchObject({ parentHas50: true, parent50Cloexec: false });
    expect(o.childProcess).toContain(50);
    // ls lists 0..2 and its own directory fd (3); slot 4 only when asked for.
    expect(o.plain).toEqual([0, 1, 2, 3]);
    expect(o.newNs).toEqual([0, 1, 2, 3]);
    expect(o.asked).toEqual([0, 1, 2, 3, 4]);
  });

  it('newSession: the child leads a new session', async () => {
    const c = spawn('sh', ['-c', 'cut -d" " -f6 /proc/$$/stat'], { newSession: true, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout?.on('data', (d) => (out += d));
    await Promise.all([c.exited, new Promise((r) => c.stdout?.once('close', r))]);
    c.close();
    expect(Number(out)).toBe(c.pid);
  });

  it('works beside child_process: each reaps only its own children', async () => {
    const viaCp = (code: number) =>
      new Promise<number | null>((resolve) => cp.spawn('sh', ['-c', `sleep 0.05; exit ${code}`], { stdio: 'ignore' }).once('exit', resolve));
    for (let i = 0; i < 5; i++) {
      const [a, b, c] = await Promise.all([viaCp(3), run('sh', ['-c', 'sleep 0.05; exit 4']), viaCp(5)]);
      expect([a, b.code, c]).toEqual([3, 4, 5]);
    }
  });
});

describe('joining a target', () => {
  it('enters all the namespaces of a target that differ from ours (pid too: the child is in its pid ns)', async () => {
    const c = spawn('sleep', ['1000'], { join: tpidfd, stdio: 'ignore' });
    try {
      for (const t of NS) expect([t, nsLink(c.pid, t)]).toEqual([t, nsLink(target.pid, t)]);
      expect(nsLink(target.pid, 'net')).not.toBe(nsLink('self', 'net'));
      // The target is pid 1 of its namespace; our child has a pid there too.
      const inside = translatePid(c.pid, { to: tpidfd });
      expect(inside).toBeGreaterThan(1);
      const nspid = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${c.pid}/status`, 'latin1'))?.[1]?.split(/\s+/).map(Number);
      expect(nspid).toEqual([c.pid, inside]);
      // Still our child: we reap it.
      expect(fs.readFileSync(`/proc/${c.pid}/status`, 'latin1')).toMatch(new RegExp(`^PPid:\\s+${process.pid}$`, 'm'));
      expect(childPids()).toContain(String(c.pid));
    } finally {
      c.kill('SIGKILL');
      expect(await c.exited).toEqual({ code: null, signal: 'SIGKILL' });
      c.close();
    }
    expect(childPids()).not.toContain(String(c.pid));
  });

  it('a pid namespace joined for one clone3 leaves this thread able to make threads', async () => {
    // Privileged callers join the target's pid ns on this thread around clone3 only.
    const c = spawn('true', [], { join: tpidfd, stdio: 'ignore' });
    await c.exited;
    c.close();
    expect(fs.readlinkSync('/proc/thread-self/ns/pid_for_children')).toBe(fs.readlinkSync('/proc/thread-self/ns/pid'));
    const w = new Worker('require("node:worker_threads").parentPort.postMessage(42)', { eval: true });
    expect(await once(w, 'message')).toEqual([42]);
    await w.terminate();
  });

  it('sees the target\'s hostname and filesystem', async () => {
    // Rootless, the target's uts ns is owned by its own user ns: nsenter joins that first.
    cp.execFileSync('nsenter', ['-t', String(target.pid), ...(isRoot ? [] : ['-U', '--preserve-credentials']), '-u', 'hostname', 'nsfd-target']);
    const r = await run('hostname', [], { join: tpidfd });
    expect(r.stdout).toBe('nsfd-target\n');
    // The target mounted its own /proc: in its mount and pid ns, ps-like views see only it and us.
    const p = await run('sh', ['-c', 'ls /proc | grep -E "^[0-9]+$" | sort -n | head -1'], { join: tpidfd });
    expect(p.stdout).toBe('1\n');
  });

  it('joinTypes picks the types; a list of Namespaces is joined user first', async () => {
    expect(await childLinks(['uts', 'net'], rootless({ join: tpidfd, joinTypes: ['uts'] }))).toEqual([nsLink(target.pid, 'uts'), nsLink('self', 'net')]);
    // Rootless, the target's user ns goes in the list too (it owns the others), and is joined first.
    const list = [tpidfd.namespace('net'), tpidfd.namespace('ipc'), ...(isRoot ? [] : [tpidfd.namespace('user')])];
    try {
      expect(await childLinks(['net', 'ipc', 'uts'], { join: list })).toEqual([nsLink(target.pid, 'net'), nsLink(target.pid, 'ipc'), nsLink('self', 'uts')]);
    } finally {
      for (const n of list) n.close();
    }
  });

  it('joins a target\'s time namespace (without CLONE_VM: the kernel refuses it to a task sharing our mm)', async () => {
    const t = await startTarget({ types: ['mount', 'time'] });
    try {
      using p = Pidfd.open(t.pid);
      expect(nsLink(t.pid, 'time')).not.toBe(nsLink('self', 'time'));
      const r = await run('readlink', ['/proc/self/ns/time'], rootless({ join: p, joinTypes: ['time'] }));
      expect(r.stdout.trim()).toBe(nsLink(t.pid, 'time'));
    } finally {
      await t.stop();
    }
  });

  it('joins, then creates new namespaces owned by the joined ones (and a new pid ns: pid 1)', async () => {
    const r = await run('sh', ['-c', 'echo $$; readlink /proc/self/ns/uts; readlink /proc/self/ns/net'], rootless({
      join: tpidfd,
      joinTypes: ['uts'],
      unshare: ['pid', 'net', 'mnt'],
      mountProc: true,
    }));
    const [pid1, uts, net] = r.stdout.trim().split('\n');
    expect(pid1).toBe('1');
    expect(uts).toBe(nsLink(target.pid, 'uts'));
    expect(net).not.toBe(nsLink('self', 'net'));
    expect(net).not.toBe(nsLink(target.pid, 'net'));
  });

  needsRoot('rootless, the target\'s pid ns belongs to its own user ns, and the maps of a user ns made inside that one may only be written from it or its parent (user_namespaces(7)), not from ours').it('join a pid ns, then a new user ns whose maps we write while the child waits', async () => {
    const r = await run('sh', ['-c', 'id -u; cat /proc/self/uid_map'], {
      join: tpidfd,
      joinTypes: ['pid', 'uts'],
      unshare: ['user'],
      uidMap: [{ inside: 0, outside: 100000, count: 65536 }],
      gidMap: [{ inside: 0, outside: 100000, count: 65536 }],
      uid: 0, // our own uid is not mapped: become uid 0 inside (kuid 100000)
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toBe('0');
    expect(r.stdout.split('\n')[1]?.trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
  });
});

describe('new namespaces', () => {
  it('unshare: the child is pid 1 of a new pid ns, with its own /proc', async () => {
    const r = await run('sh', ['-c', 'echo $$; ls /proc | grep -cE "^[0-9]+$"; for t in mnt uts ipc pid net cgroup; do readlink /proc/self/ns/$t; done'], rootless({
      unshare: ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup'],
      mountProc: true,
    }));
    const [pid, count, ...links] = r.stdout.trim().split('\n');
    expect(pid).toBe('1');
    expect(Number(count)).toBeLessThanOrEqual(3); // sh, ls, grep at most
    ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup'].forEach((t, i) => {
      expect(links[i]?.startsWith(`${t}:[`)).toBe(true);
      expect(links[i]).not.toBe(nsLink('self', t));
    });
    // Our /proc is untouched (the new mount ns was made private first).
    expect(fs.existsSync(`/proc/${process.pid}`)).toBe(true);
  });

  it('unshare time: the exec\'d program lives in a new time namespace', async () => {
    const r = await run('readlink', ['/proc/self/ns/time'], rootless({ unshare: ['time'] }));
    expect(r.stdout.trim()).toMatch(/^time:\[\d+\]$/);
    expect(r.stdout.trim()).not.toBe(nsLink('self', 'time'));
  });

  needsRoot('maps host ids 200000+ (CAP_SETUID, CAP_SETGID in the initial user ns)').it('a new user namespace with maps (any maps: we are root)', async () => {
    const r = await run('sh', ['-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups'], {
      unshare: ['user', 'net'],
      uidMap: [{ inside: 0, outside: 200000, count: 1000 }],
      gidMap: [{ inside: 0, outside: 200000, count: 1000 }],
      uid: 0,
      gid: 0,
    });
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines).toEqual(['0', '0', '0 200000 1000', '0 200000 1000', 'allow']);
  });

  needsRoot('runs a fixture as another user (uid 65534): setuid').it.runIf(feat.unprivileged_userns.available)('rootless (as nobody): own maps, a map it may not write, a join it lacks rights for', () => {
    const r = runFixture('spawn-rootless.js', [], { uid: 65534, gid: 65534 });
    const o = JSON.parse(r.stdout);
    expect(o.error).toBeUndefined();
    expect(o.uid).toBe(65534);
    // Root inside, pid 1, setgroups denied (required for an unprivileged gid_map).
    expect(o.mapped).toEqual({ code: 0, lines: ['0', '0', '1', '0 65534 1', '0 65534 1', 'deny'], stderr: '' });
    const clean = { threw: true, isNsError: true, fdsKept: true, noZombie: true };
    expect(o.badMap).toEqual({ ...clean, code: 'EPERM', step: 'uid_map', syscall: 'write' });
    expect(o.setnsDenied).toEqual({ ...clean, code: 'EPERM', step: 'setns', syscall: 'setns' });
    expect(o.joined).toBe(true);
    expect(o.targetExit).toEqual({ code: null, signal: 'SIGKILL' });
    // Unprivileged pid namespace join: through a relay, still our child, inside.
    expect(o.relay).toEqual({ nspid: true, samePidNs: true, ours: true, exit: { code: null, signal: 'SIGKILL' } });
    expect(o.relayFailure).toEqual({ ...clean, code: 'ENOENT', step: 'chdir', syscall: 'chdir' });
  });
});

describe('cgroup, root and credentials', () => {
  const mount = cgroup2Mount();
  needsRoot('creates a directory in the host\'s cgroup v2 hierarchy (cgroupfs write access)').it.runIf(mount !== undefined && feat.clone_into_cgroup.available)('is born in a cgroup v2 directory (path or fd)', async () => {
    const dir = path.join(mount as string, `nsfd-spawn-${process.pid}`);
    fs.mkdirSync(dir);
    try {
      const r = await run('cat', ['/proc/self/cgroup'], { cgroup: dir });
      expect(r.stdout).toContain(`0::/nsfd-spawn-${process.pid}\n`);
      const fd = fs.openSync(dir, 'r');
      try {
        const f = await run('cat', ['/proc/self/cgroup'], { cgroup: fd });
        expect(f.stdout).toContain(`0::/nsfd-spawn-${process.pid}\n`);
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      await until(() => {
        try {
          fs.rmdirSync(dir);
          return true;
        } catch {
          return false;
        }
      }, 'the test cgroup to empty');
    }
  });

  it.runIf(busybox !== undefined)('root as a Pidfd: that process\'s own root, even when it is chroot()ed inside its mount namespace (nsenter --root)', async () => {
    const fsx = R.makeRootfs();
    const t = await R.startChrooted(fsx.root);
    try {
      using p = Pidfd.open(t.pid);
      // Its mount namespace's root is the host's /: a mount join alone does not reach its files.
      const plain = await run('/bin/sh', ['-c', 'cat /etc/marker 2>/dev/null || echo none'], { join: p });
      expect(plain.stdout).toBe('none\n');
      // Its root, opened before the joins: what it sees.
      const r = await run('/bin/cat', ['/etc/marker'], { join: p, root: p });
      expect(r).toMatchObject({ code: 0, stdout: 'CONTAINER\n' });
      const cwd = await run('/bin/sh', ['-c', 'pwd; ls /'], { join: p, root: p });
      expect(cwd.stdout.split('\n')[0]).toBe('/');
      expect(cwd.stdout.split('\n')).toContain('etc');
      // A gone process: ESRCH before anything starts.
      const gone = spawn('true', [], { stdio: 'ignore' });
      await gone.exited;
      const e = cleanFailure(() => spawn('/bin/true', [], rootless({ root: gone.pidfd, stdio: 'ignore' })));
      expect(e).toMatchObject({ code: 'ESRCH' });
      gone.close();
    } finally {
      await t.stop();
      fsx.cleanup();
    }
  });

  it.runIf(busybox !== undefined)('root as a directory fd (OwnedFd): fchdir + chroot(".") after the joins; a non-directory or closed fd fails cleanly', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-rootfd-'));
    try {
      fs.mkdirSync(path.join(root, 'bin'));
      fs.copyFileSync(busybox as string, path.join(root, 'bin/busybox'));
      fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
      fs.writeFileSync(path.join(root, 'marker'), 'by fd\n');
      using dir = OwnedFd.fromRawFd(fs.openSync(root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY));
      // Rootless, chroot() needs CAP_SYS_CHROOT: the child gets it in a new user ns (a join: in the target's).
      const r = await run('/bin/busybox', ['sh', '-c', 'busybox cat /marker; pwd'], rootless({ root: dir, env: { PATH: '/bin' } }));
      expect(r).toMatchObject({ code: 0, stdout: 'by fd\n/\n' });
      // Combined with a join of the target's namespaces (its mount namespace shows the host's /tmp too).
      const j = await run('/bin/busybox', ['cat', '/marker'], { join: tpidfd, root: dir });
      expect(j.stdout).toBe('by fd\n');
      using file = OwnedFd.fromRawFd(fs.openSync(path.join(root, 'marker'), 'r'));
      const e = cleanFailure(() => spawn('/bin/true', [], rootless({ root: file, stdio: 'ignore' })));
      expect(e).toMatchObject({ code: 'ENOTDIR', step: 'root', syscall: 'fchdir' });
      const closed = OwnedFd.fromRawFd(fs.openSync(root, 'r'));
      closed.close();
      expect(() => spawn('/bin/true', [], { root: closed, stdio: 'ignore' })).toThrowError(expect.objectContaining({ code: 'EBADF' }));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it.skipIf(busybox === undefined)('root: chroot before PATH lookup and cwd (needs a static busybox)', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-root-'));
    try {
      fs.mkdirSync(path.join(root, 'bin'));
      fs.mkdirSync(path.join(root, 'work'));
      fs.copyFileSync(busybox as string, path.join(root, 'bin/busybox'));
      fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
      fs.writeFileSync(path.join(root, 'marker'), 'inside\n');
      // Rootless, chroot() needs CAP_SYS_CHROOT: the child gets it in a new user namespace.
      const r = await run('busybox', ['sh', '-c', 'busybox cat /marker; pwd; busybox ls /'], rootless({ root, cwd: '/work', env: { PATH: '/bin' } }));
      expect(r.stdout.split('\n').slice(0, 2)).toEqual(['inside', '/work']);
      expect(r.stdout.split('\n').slice(2).filter(Boolean).sort()).toEqual(['bin', 'marker', 'work']);
      // /bin/true exists outside only.
      const e = cleanFailure(() => spawn('/bin/true', [], rootless({ root, stdio: 'ignore' })));
      expect(e).toMatchObject({ code: 'ENOENT', step: 'execve' });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 60000);

  needsRoot('switches to uid/gid 65534 and groups 65534, 100 (CAP_SETUID, CAP_SETGID)').it('uid, gid and groups', async () => {
    const r = await run('sh', ['-c', 'id -u; id -g; id -G'], { uid: 65534, gid: 65534, groups: [65534, 100] });
    expect(r.stdout.trim().split('\n')).toEqual(['65534', '65534', '65534 100']);
    const d = await run('id', ['-G'], { uid: 65534, gid: 65534 });
    expect(d.stdout.trim()).toBe('65534'); // our supplementary groups were dropped
  });
});

describe('killOnClose and lifetime', () => {
  it('close() kills and reaps the child; `using` does the same', async () => {
    const c = spawn('sleep', ['1000'], { stdio: 'ignore', killOnClose: true });
    const exited = c.exited;
    c.close();
    expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });
    let pid = 0;
    let status: Promise<unknown>;
    {
      using d = spawn('sleep', ['1000'], rootless({ stdio: 'ignore', killOnClose: true, unshare: ['pid'] }));
      pid = d.pid;
      status = d.exited;
    }
    expect(await status).toEqual({ code: null, signal: 'SIGKILL' });
    expect(childPids()).not.toContain(String(pid));
  });

  it('without killOnClose, close() leaves the child running', async () => {
    const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const p = c.pidfd.dup();
    c.close();
    try {
      expect(p.isAlive()).toBe(true);
      p.kill('SIGKILL');
      expect(await p.wait({ reap: true })).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      p.close();
    }
    // The background sweeper drops its own dup of the pidfd once the child is gone.
    await until(() => fdCount() === fds.before, 'the orphan sweeper');
  });

  /** Runs the fixture, lets it exit, and says whether its sleep child outlived it. */
  async function survivesParent(mode: string, ...args: string[]): Promise<boolean> {
    const fx = cp.spawn(process.execPath, [fixturePath('spawn-parent-exit.js'), mode, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    fx.stdout.on('data', (d) => (out += d));
    const pid = await until(() => /^(\d+)\n/.exec(out)?.[1], 'the fixture to print its child');
    using p = Pidfd.open(Number(pid));
    fx.stdin.end();
    await new Promise((r) => fx.once('exit', r));
    if (mode === 'keep') {
      // Any PR_SET_PDEATHSIG would have been sent during the parent's exit, before 'exit' reached us.
      const alive = p.isAlive();
      p.kill('SIGKILL');
      await p.wait();
      return alive;
    }
    // `sleep 1000` ends only if killed. Not our child: its status goes to its
    // new parent, but the pidfd turns readable when it is gone.
    await p.wait();
    return p.isAlive();
  }

  it('the child dies when this process exits (plain, new pid ns, joined pid ns); not without killOnClose', async () => {
    expect(await survivesParent('kill')).toBe(false);
    expect(await survivesParent('newpid')).toBe(false);
    expect(await survivesParent('join', String(target.pid))).toBe(false);
    expect(await survivesParent('keep')).toBe(true);
  });

  it('a Subprocess does not keep Node alive', async () => {
    const r = runFixture('spawn-nokeep.js');
    expect(r.status).toBe(0);
    const pid = Number(r.stdout.trim());
    using p = Pidfd.open(pid);
    expect(p.isAlive()).toBe(true);
    p.kill('SIGKILL');
    await p.wait();
  });
});

describe('bad input: typed errors, nothing left behind', () => {
  it('a missing program', () => {
    expect(cleanFailure(() => spawn('/nonexistent/prog'))).toMatchObject({ code: 'ENOENT', step: 'execve', syscall: 'execve', path: '/nonexistent/prog' });
    expect(cleanFailure(() => spawn('nsfd-no-such-program'))).toMatchObject({ code: 'ENOENT', step: 'execve', path: 'nsfd-no-such-program' });
    const file = path.join(os.tmpdir(), `nsfd-noexec-${process.pid}`);
    fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
    try {
      expect(cleanFailure(() => spawn(file))).toMatchObject({ code: 'EACCES', step: 'execve' });
    } finally {
      fs.rmSync(file);
    }
  });

  it('a missing program or cwd inside a joined target (pid ns too)', () => {
    const e = cleanFailure(() => spawn('/nonexistent/prog', [], { join: tpidfd }));
    expect(e).toMatchObject({ code: 'ENOENT', step: 'execve' });
    const c = cleanFailure(() => spawn('true', [], { join: tpidfd, cwd: '/nonexistent-dir' }));
    expect(c).toMatchObject({ code: 'ENOENT', step: 'chdir', syscall: 'chdir', path: '/nonexistent-dir' });
  });

  it('a target that has exited', async () => {
    const t = await startTarget({ types: ['net'] });
    const p = Pidfd.open(t.pid);
    try {
      await t.stop();
      expect(cleanFailure(() => spawn('true', [], { join: p }))).toMatchObject({ code: 'ESRCH' });
      expect(cleanFailure(() => spawn('true', [], { join: p, joinTypes: ['net'] }))).toMatchObject({ code: 'ESRCH' });
    } finally {
      p.close();
    }
    // A zombie (exited, not reaped) has no namespaces left to join either.
    const z = spawn('true', [], { stdio: 'ignore' });
    await until(() => !z.pidfd.isAlive(), 'the child to exit');
    expect(cleanFailure(() => spawn('true', [], { join: z.pidfd, joinTypes: ['net'] }))).toMatchObject({ code: 'ESRCH' });
    expect(await z.exited).toEqual({ code: 0, signal: null });
    z.close();
  });

  it('a cgroup that is not cgroup v2, or no cgroup at all', () => {
    const v1 = cgroupV1Dir();
    for (const dir of [v1, os.tmpdir()]) {
      if (dir === undefined) continue;
      const e = cleanFailure(() => spawn('true', [], { cgroup: dir, stdio: 'ignore' }));
      expect(e).toBeInstanceOf(NsError);
      expect(e).toMatchObject({ code: 'EINVAL', step: 'cgroup' });
    }
    expect(cleanFailure(() => spawn('true', [], { cgroup: '/nonexistent-cgroup' }))).toMatchObject({ code: 'ENOENT', step: 'cgroup' });
  });

  it('uid maps the kernel refuses (overlapping extents), and maps without a new user ns', () => {
    // Rootless, only our own ids may be mapped (any other is EPERM): overlap those.
    const e = cleanFailure(() =>
      spawn('true', [], {
        unshare: ['user'],
        uidMap: isRoot
          ? [
              { inside: 0, outside: 100000, count: 10 },
              { inside: 5, outside: 200000, count: 10 },
            ]
          : [
              { inside: 0, outside: uid, count: 1 },
              { inside: 0, outside: uid, count: 1 },
            ],
        gidMap: isRoot ? [{ inside: 0, outside: 100000, count: 10 }] : [{ inside: 0, outside: gid, count: 1 }],
      }),
    );
    expect(e).toMatchObject({ code: 'EINVAL', step: 'uid_map', syscall: 'write' });
    expect(cleanFailure(() => spawn('true', [], { uidMap: [{ inside: 0, outside: 0, count: 1 }] }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(cleanFailure(() => spawn('true', [], { unshare: ['user'], uidMap: [{ inside: 0, outside: -1, count: 1 }] }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });

  it('invalid namespace names and conflicting options', () => {
    expect(cleanFailure(() => spawn('true', [], { unshare: ['bogus' as never] }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(cleanFailure(() => spawn('true', [], { join: tpidfd, joinTypes: ['nett' as never] }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(cleanFailure(() => spawn('true', [], { join: tpidfd, joinTypes: ['net'], unshare: ['net'] }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    const net = tpidfd.namespace('net');
    try {
      expect(cleanFailure(() => spawn('true', [], { join: [net], unshare: ['net'] }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    } finally {
      net.close();
    }
    expect(cleanFailure(() => spawn('true', [], { mountProc: true, unshare: ['pid'] }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(cleanFailure(() => spawn('true', [], { joinTypes: ['net'] }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(cleanFailure(() => spawn('true', ['a\0b']))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(cleanFailure(() => spawn('true', [], { stdio: ['pipe', 'pipe', 'bogus' as never] }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('env values, argv elements and string options of the wrong type: typed errors, as child_process gives', () => {
    const TYPE = 'ERR_INVALID_ARG_TYPE';
    const VALUE = 'ERR_INVALID_ARG_VALUE';
    const bad: [string, () => unknown, string][] = [
      // env: a template string would throw an untyped TypeError (Symbol) or run the caller's toString.
      ['env Symbol', () => spawn('true', [], { env: { A: Symbol('s') } as never }), TYPE],
      ['env object', () => spawn('true', [], { env: { A: { toString: () => 'x' } } as never }), TYPE],
      ['env null', () => spawn('true', [], { env: { A: null } as never }), TYPE],
      ['env function', () => spawn('true', [], { env: { A: () => 'x' } as never }), TYPE],
      ['env key with =', () => spawn('true', [], { env: { 'A=B': 'c' } }), VALUE],
      ['env value with a null byte', () => spawn('true', [], { env: { A: 'b\0c' } }), VALUE],
      ['env key with a null byte', () => spawn('true', [], { env: { 'A\0': 'b' } }), VALUE],
      ['file Symbol', () => spawn(Symbol('f') as never), TYPE],
      ['args Symbol', () => spawn('true', [Symbol('a')] as never), TYPE],
      ['args number', () => spawn('true', ['a', 5] as never), TYPE],
      // A hole is checked as undefined, not skipped (it used to reach the addon).
      ['args hole', () => spawn('true', [, 'a'] as never), TYPE],
      ['cwd Symbol', () => spawn('true', [], { cwd: Symbol('c') as never }), TYPE],
      ['root number', () => spawn('true', [], { root: 5 as never }), TYPE],
      ['argv0 Symbol', () => spawn('true', [], { argv0: Symbol('z') as never }), TYPE],
      ['cgroup Symbol', () => spawn('true', [], { cgroup: Symbol('g') as never }), TYPE],
      ['setgroups Symbol', () => spawn('true', [], { setgroups: Symbol('g') as never }), TYPE],
      ['stdio Symbol', () => spawn('true', [], { stdio: Symbol('s') as never }), TYPE],
      ['stdio slot Symbol', () => spawn('true', [], { stdio: ['pipe', Symbol('s')] as never }), TYPE],
      ['unshare Symbol', () => spawn('true', [], { unshare: [Symbol('u')] as never }), TYPE],
      ['unshare hole', () => spawn('true', [], { unshare: ['net', , 'uts'] as never }), TYPE],
      ['unshare "constructor"', () => spawn('true', [], { unshare: ['constructor'] as never }), TYPE],
      ['groups hole', () => spawn('true', [], { groups: [, 1] as never }), TYPE],
      ['groups Symbol', () => spawn('true', [], { groups: [Symbol('g')] as never }), TYPE],
      // The child holds ids as C ints: a larger one must not read as "unchanged".
      ['uid above 2^31 - 1', () => spawn('true', [], { uid: 2 ** 31 }), 'ERR_OUT_OF_RANGE'],
      ['gid above 2^31 - 1', () => spawn('true', [], { gid: 2 ** 32 - 2 }), 'ERR_OUT_OF_RANGE'],
      ['uidMap hole', () => spawn('true', [], { unshare: ['user'], uidMap: [, { inside: 0, outside: 0, count: 1 }] as never }), TYPE],
    ];
    for (const [what, fn, code] of bad) {
      const e = cleanFailure(fn);
      expect(e, what).not.toBeInstanceOf(NsError);
      expect(e, what).toBeInstanceOf(code === 'ERR_OUT_OF_RANGE' ? RangeError : TypeError);
      expect((e as { code?: string }).code, `${what}: ${String(e)}`).toBe(code);
    }
  });

  it('numbers and booleans in env are written as text, as child_process writes them', async () => {
    const r = await run('sh', ['-c', 'echo "$N $B $I"'], { env: { PATH: process.env.PATH, N: 5, B: true, I: 10n } as never });
    expect(r).toMatchObject({ code: 0, stdout: '5 true 10\n' });
  });

  it('a default join by a pidfd with the same types as ours runs plainly; unshare of a joined type is left to unshare', async () => {
    // Default joinTypes leave out the unshared types instead of conflicting.
    const [net, uts] = await childLinks(['net', 'uts'], { join: tpidfd, unshare: ['net'] });
    expect(net).not.toBe(nsLink(target.pid, 'net'));
    expect(uts).toBe(nsLink(target.pid, 'uts'));
    using self = Pidfd.self();
    const s = await run('readlink', ['/proc/self/ns/net'], { join: self });
    expect(s.stdout.trim()).toBe(nsLink('self', 'net'));
  });

  it('a stdio fd that is not open, a closed Namespace', () => {
    expect(cleanFailure(() => spawn('true', [], { stdio: ['ignore', 'ignore', 'ignore', 987] }))).toMatchObject({ code: 'EBADF', step: 'dup' });
    const n = Namespace.current('uts');
    n.close();
    expect(cleanFailure(() => spawn('true', [], { join: [n] }))).toMatchObject({ code: 'EBADF' });
  });

  it('a credential change the kernel refuses', () => {
    // In a user namespace where only uid 0 is mapped, uid 1 does not exist (rootless: 0 is us outside).
    const map = [{ inside: 0, outside: isRoot ? 0 : uid, count: 1 }];
    const e = cleanFailure(() => spawn('true', [], { unshare: ['user'], uidMap: map, ...(isRoot ? {} : { gidMap: [{ inside: 0, outside: gid, count: 1 }] }), uid: 1, stdio: 'ignore' }));
    expect(e).toMatchObject({ code: 'EINVAL', step: 'setuid', syscall: 'setresuid' });
  });
});
