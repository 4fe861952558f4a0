// Container: create (an init as pid 1 of new namespaces), fromPid (adopt),
// socket/open/mount inside without moving, persist, kill-on-close (close()
// and the Node process dying), list. Real processes and namespaces; the
// unprivileged run is a fixture as nobody.
import { execFileSync, spawn as cpSpawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Container, DEFAULT_INIT, NsError, Pidfd, UnsupportedError, run } from '../lib/index';
import { native } from '../lib/sys/native';
import * as R from './fixtures/inns-rootfs.js';
import { Target, checkLeaksPerTest, fdCount, feat, isRoot, killAndClose, needsRoot, runFixture, startTarget, threadCount, until, warmUp, fixturePath } from './helpers';


const mounts = () => fs.readFileSync('/proc/self/mountinfo', 'latin1');
/** nsfd-init built beside the addon or carried in it; without it create() uses the sh init. */
const haveInit = fs.existsSync(path.join(__dirname, '..', 'build', 'Release', 'nsfd-init')) || (() => {
  const fd = native.init_memfd();
  if (fd >= 0) native.close(fd);
  return fd >= 0;
})();
const nspidLast = (pid: number) => {
  const m = /^NSpid:\s*(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number((m?.[1] ?? '').trim().split(/\s+/).pop());
};
/** pid, state, ppid and session of a process from /proc/PID/stat (undefined once reaped). */
const stat = (pid: number) => {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pid, state: f[0] as string, ppid: Number(f[1]), sid: Number(f[3]), comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')) };
  } catch {
    return undefined;
  }
};
const allStats = () =>
  fs
    .readdirSync('/proc')
    .filter((x) => /^\d+$/.test(x))
    .map((x) => stat(Number(x)))
    .filter((x) => x !== undefined);
/**
 * Has the process been killed: exited, or SIGKILL pending (ShdPnd bit 9),
 * or exiting (PF_EXITING in /proc/PID/stat's flags)? Read through the pidfd.
 */
const killedNow = (w: Pidfd): boolean => {
  if (!w.isAlive()) return true;
  let status: string;
  let st: string;
  try {
    status = fs.readFileSync(`/proc/${w.pid}/status`, 'latin1');
    st = fs.readFileSync(`/proc/${w.pid}/stat`, 'latin1');
  } catch {
    return true; // reaped
  }
  try {
    w.recheck('read /proc');
  } catch {
    return true; // reaped between the reads and the recheck
  }
  const pending = BigInt(`0x${/^ShdPnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`) | BigInt(`0x${/^SigPnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  const flags = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[6]);
  return (pending & (1n << 8n)) !== 0n || (flags & 0x4) !== 0 || !w.isAlive();
};

/** A process's cmdline, '' once it is gone (it may exit between the listing and the read). */
function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return '';
  }
}

let target: Target;
// Rootless, create() must also unshare a user ns (it adds one, with maps, when
// it picks the types itself); targets' namespaces belong to their own user
// ns, which nsenter joins first, keeping our ids.
const withUser = <T extends string>(types: T[]): T[] => (isRoot ? types : ['user' as T, ...types]);
const userArgs = isRoot ? [] : ['-U', '--preserve-credentials'];

beforeAll(async () => {
  await warmUp();
  // The first run() makes Node open /dev/null once for good: do it before counting.
  await run('true');
  target = await startTarget();
});
afterAll(async () => {
  await target?.stop();
});
// Nothing mounted here, in our own mount namespace, by anything above.
const fds = checkLeaksPerTest({ threads: threadCount, mounts });

describe('Container.create', () => {
  it('an init as pid 1 of new namespaces, hostname set, lo up, ready when returned', async () => {
    const c = await Container.create({ hostname: 'nsfd-box' });
    try {
      expect(nspidLast(c.pid)).toBe(1);
      expect(c.differs().sort()).toEqual(withUser(['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts']).sort());
      for (const t of ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup'] as const) {
        expect(c.namespaces[t]?.inode).toBe(fs.statSync(`/proc/${c.pid}/ns/${t}`).ino);
      }
      expect((await c.run('hostname')).stdout).toBe('nsfd-box\n');
      // A fresh /proc: only the container's processes (nsfd-init, and sh, ls, grep of this run).
      const ls = await c.run('sh', ['-c', 'ls /proc | grep -c "^[0-9]"; cat /proc/1/cmdline']);
      const [count, cmdline] = ls.stdout.split('\n');
      expect(Number(count)).toBeLessThanOrEqual(5);
      expect(cmdline).toContain(haveInit ? 'nsfd-init' : 'trap');
      // lo is up: a server made in the netns answers a client made there.
      const s = c.socket({ family: 'inet', type: 'stream', bind: { address: '127.0.0.1', port: 0 } });
      const server = net.createServer((k) => k.end('box says hi'));
      await new Promise<void>((r) => server.listen({ fd: s.release() }, r));
      const port = (server.address() as net.AddressInfo).port;
      const k = new net.Socket({ fd: c.socket({ family: 'inet', type: 'stream' }).release() });
      let data = '';
      k.on('data', (d) => (data += d));
      await new Promise<void>((resolve, reject) => {
        k.once('error', reject);
        k.once('close', () => resolve());
        k.connect(port, '127.0.0.1');
      });
      await new Promise((r) => server.close(r));
      expect(data).toBe('box says hi');
      // The default init traps SIGTERM: kill() ends it cleanly.
      const exited = c.exited;
      c.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      c.close();
    }
  });

  it('close() with killOnClose ends every process in the container', async () => {
    const c = await Container.create();
    const inner = c.spawn('sleep', ['100000'], { stdio: 'ignore' });
    const innerWatch = inner.pidfd.dup();
    const initWatch = c.pidfd.dup();
    expect(nspidLast(inner.pid)).toBeGreaterThan(1);
    // close() also reaps the inner process once killed (it is our child):
    // until then the kernel would hold the dying init in zap_pid_ns_processes.
    c.close();
    expect(await initWatch.wait()).toEqual({ code: null, signal: 'SIGKILL' });
    expect((await inner.exited).signal).toBe('SIGKILL');
    // Our own wait on the init (it is our child) reaps it.
    expect(await c.exited).toEqual({ code: null, signal: 'SIGKILL' });
    inner.close();
    innerWatch.close();
    initWatch.close();
    c.close(); // idempotent
    expect(() => c.open('/etc/hostname')).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('close() without a pid namespace kills the init\'s whole tree and session: nothing is left behind', async () => {
    // The init forks: an orphan (its parent subshell exits at once, so it is
    // reparented away, but stays in the init's session) and a child; and
    // c.spawn() adds a shell (our child) with a child of its own.
    const c = await Container.create({ unshare: withUser(['net', 'uts']), init: ['/bin/sh', '-c', '(sleep 100000 &); sleep 100000 & wait'] });
    const watches: Pidfd[] = [];
    try {
      expect(nspidLast(c.pid)).not.toBe(1);
      const sp = c.spawn('sh', ['-c', 'sleep 100000 & wait'], { stdio: 'ignore' });
      // The processes to kill: everything in the init's session, and the spawned shell's child.
      const members = await until(() => {
        const all = allStats();
        const session = all.filter((r) => r.sid === c.pid && r.pid !== c.pid && r.comm === 'sleep');
        const spawned = all.filter((r) => r.ppid === sp.pid && r.comm === 'sleep');
        return session.length === 2 && spawned.length === 1 ? [...session, ...spawned] : undefined;
      }, 'the container\'s processes');
      // One of them is an orphan: not the init's child any more.
      expect(members.filter((r) => r.ppid !== c.pid && r.ppid !== sp.pid)).toHaveLength(1);
      for (const r of members) {
        const w = Pidfd.open(r.pid);
        watches.push(w);
        expect(stat(r.pid)?.comm).toBe('sleep');
        w.recheck('stat');
      }
      watches.push(c.pidfd.dup(), sp.pidfd.dup());
      c.close();
      // Killed by close() itself, not later: exited, or SIGKILL pending.
      for (const w of watches) expect(killedNow(w), `pid ${w.pid}`).toBe(true);
      for (const w of watches) await w.wait();
      expect(await c.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect((await sp.exited).signal).toBe('SIGKILL');
      sp.close();
    } finally {
      for (const w of watches) {
        if (w.isAlive()) w.kill('SIGKILL');
        w.close();
      }
      c.close();
    }
  });

  it('without a pid namespace, close() also catches what c.run() started, c.spawn() processes whose handle was closed, and what an init that already exited left in its session', async () => {
    // Tags of this run only: other test runs on this machine may have
    // sleepers of their own.
    const tag = (n: number) => `${n}${process.pid}`;
    const sleepers = (n: number) =>
      allStats().filter((r) => r.comm === 'sleep' && cmdline(r.pid) === `sleep\0${tag(n)}\0`);
    // An init that forks and exits (when told): its orphan stays in its session.
    const c = await Container.create({ unshare: withUser(['net']), init: ['/bin/sh', '-c', `sleep ${tag(1)} & read x; exit 0`], stdio: ['pipe', 'ignore', 'ignore'] });
    c.stdin?.end('go\n');
    // c.exited observes the exit without reaping: the session stays pinned.
    expect(await c.exited).toEqual({ code: 0, signal: null });
    // sh forked it before reading, but it may not have exec'd sleep yet.
    const orphans = await until(() => {
      const l = sleepers(1);
      return l.length > 0 ? l : undefined;
    }, 'the orphaned sleep');
    expect(orphans).toHaveLength(1);
    const orphan = Pidfd.open((orphans[0] as { pid: number }).pid);
    c.close();
    expect(killedNow(orphan)).toBe(true);
    await orphan.wait();
    orphan.close();

    const d = await Container.create({ unshare: withUser(['net']) });
    const running = d.run('sh', ['-c', `sleep ${tag(2)} & wait`]);
    const sp = d.spawn('sh', ['-c', `sleep ${tag(3)} & wait`], { stdio: 'ignore' });
    const both = await until(() => {
      const l = [...sleepers(2), ...sleepers(3)];
      return l.length === 2 ? l : undefined;
    }, 'the run and spawn children');
    const watches = both.map((r) => Pidfd.open(r.pid));
    const spWatch = sp.pidfd.dup();
    sp.close(); // our handle gone: the container still knows the process
    d.close();
    for (const w of [...watches, spWatch]) expect(killedNow(w), `pid ${w.pid}`).toBe(true);
    expect(await running).toMatchObject({ code: null, signal: 'SIGKILL' });
    for (const w of [...watches, spWatch]) {
      await w.wait();
      w.close();
    }
    // (sp was closed unkilled: spawn's background sweeper reaps it.)
    await until(() => !fs.existsSync(`/proc/${spWatch.pid}`), 'the spawned shell to be reaped');
  });

  it('without a pid namespace, close() also kills what c.run() and c.spawn() double-forked away: orphans of host pid 1, in the session the process was given', async () => {
    const tag = (n: number) => `${n}${process.pid}`;
    const d = await Container.create({ unshare: withUser(['net']) });
    try {
      // (cmd &) in a subshell: the sleep is orphaned at once and reparented
      // to host pid 1 (or a subreaper): no longer in anyone's tree.
      expect(await d.run('sh', ['-c', `(exec sleep ${tag(4)} >/dev/null 2>&1 &)`])).toMatchObject({ code: 0 });
      const sp = d.spawn('sh', ['-c', `(exec sleep ${tag(5)} &)`], { stdio: 'ignore' });
      expect(await sp.exited).toMatchObject({ code: 0 });
      sp.close();
      const found = await until(() => {
        const l = allStats().filter((r) => r.comm === 'sleep' && [tag(4), tag(5)].some((t) => cmdline(r.pid) === `sleep\0${t}\0`));
        return l.length === 2 ? l : undefined;
      }, 'both double-forked sleeps');
      const watches = found.map((r) => Pidfd.open(r.pid));
      try {
        for (const r of found) expect(r.ppid).not.toBe(d.pid);
        d.close();
        for (const w of watches) expect(killedNow(w), `pid ${w.pid}`).toBe(true);
      } finally {
        for (const w of watches) {
          if (w.isAlive()) w.kill('SIGKILL');
          w.close();
        }
      }
    } finally {
      d.close();
    }
    // The spawned sh is reaped (and its pidfd closed) in the background.
    await until(() => fdCount() === fds.before, 'the container\'s fds to close');
  });

  it('a create() that fails because the init exited at once leaves none of its processes behind', async () => {
    // Whether create() notices the exit depends on timing: either way, once
    // it settles (and the container, if any, is closed) nothing is left.
    for (let i = 0; i < 5; i++) {
      const tag = String(100010 + i);
      const c = await Container.create({ unshare: withUser(['net', 'uts']), init: ['/bin/sh', '-c', `sleep ${tag} & exit 0`] }).catch((e: unknown) => e);
      if (c instanceof Container) {
        c.close();
        await c.exited;
      } else {
        expect(c).toMatchObject({ code: 'ESRCH' });
        // The failed create() reaps its init in the background: then its wait's pidfd closes.
        await until(() => fdCount() === fds.before, 'the failed init to be reaped');
      }
      const left = allStats().filter((r) => r.comm === 'sleep' && cmdline(r.pid) === `sleep\0${tag}\0`);
      const watches = left.map((r) => Pidfd.open(r.pid));
      try {
        for (const w of watches) expect(killedNow(w), `pid ${w.pid}`).toBe(true);
      } finally {
        for (const w of watches) {
          if (w.isAlive()) w.kill('SIGKILL');
          await w.wait();
          w.close();
        }
      }
    }
  });

  it('without a pid namespace the default init ends its sleep on SIGTERM, and close() kills it', async () => {
    for (const how of ['SIGTERM', 'close'] as const) {
      // (The shell init, as used when nsfd-init is missing.)
      const c = await Container.create({ unshare: withUser(['net']), init: DEFAULT_INIT });
      const child = await until(() => {
        const k = fs.readFileSync(`/proc/${c.pid}/task/${c.pid}/children`, 'latin1').trim();
        return k !== '' && stat(Number(k))?.comm === 'sleep' ? Number(k) : undefined;
      }, 'the init\'s sleep');
      const w = Pidfd.open(child);
      try {
        expect(stat(child)).toMatchObject({ comm: 'sleep', ppid: c.pid });
        w.recheck('stat');
        if (how === 'SIGTERM') {
          c.kill('SIGTERM');
          expect(await c.exited).toEqual({ code: 0, signal: null });
          // Its trap signalled the sleep before exiting.
          expect(killedNow(w)).toBe(true);
        } else {
          c.close();
          expect(killedNow(w)).toBe(true);
        }
        await w.wait();
        expect(w.isAlive()).toBe(false);
      } finally {
        if (w.isAlive()) w.kill('SIGKILL');
        w.close();
        c.close();
        await c.exited;
      }
    }
  });

  it('stdio "pipe": our ends of the init\'s pipes work while open, and close() leaves none behind', async () => {
    for (const killOnClose of [true, false]) {
      const c = await Container.create({ stdio: 'pipe', killOnClose, init: ['/bin/sh', '-c', 'read line; echo "got $line"; echo err >&2; exec sleep 100000'] });
      const initWatch = c.pidfd.dup();
      const exited = c.exited;
      try {
        const [stdin, stdout, stderr] = [c.stdin, c.stdout, c.stderr];
        if (!stdin || !stdout || !stderr) throw new Error('no pipes');
        let out = '';
        let err = '';
        stdout.on('data', (d) => (out += d));
        stderr.on('data', (d) => (err += d));
        stdin.write('hello\n');
        await until(() => out === 'got hello\n' && err === 'err\n', 'the init\'s answer');
        c.close();
        // Ours to the end: destroyed with the handle (the stdin one would
        // otherwise stay open for good; afterEach counts the fds).
        for (const s of [stdin, stdout, stderr]) expect(s.destroyed).toBe(true);
        expect(killedNow(initWatch)).toBe(killOnClose);
      } finally {
        if (initWatch.isAlive()) initWatch.kill('SIGKILL');
        expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });
        // Closed unkilled, it is reaped by spawn's background sweeper, which
        // then closes its pidfd dup (afterEach counts the fds).
        await until(() => !fs.existsSync(`/proc/${initWatch.pid}`), 'the init to be reaped');
        initWatch.close();
        c.close();
      }
    }
    // The default ("ignore"): no pipes.
    const c = await Container.create();
    expect([c.stdin, c.stdout, c.stderr]).toEqual([null, null, null]);
    c.close();
    await c.exited;
  });

  it('the Node process dying ends the container (killOnClose), but not without it', async () => {
    for (const mode of ['kill', 'keep'] as const) {
      const child = cpSpawn(process.execPath, [fixturePath('container-orphan.js'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
      let line = '';
      child.stdout.on('data', (d) => (line += d));
      const info = await until(() => (line.includes('\n') ? (JSON.parse(line) as { init: number; inner: number; error?: string }) : undefined), 'the fixture');
      expect(info.error).toBeUndefined();
      const watches = [Pidfd.open(info.init), Pidfd.open(info.inner)];
      await killAndClose(child);
      if (mode === 'kill') {
        for (const w of watches) {
          await w.wait();
          expect(w.isAlive()).toBe(false);
        }
      } else {
        // Still running with its parent gone; clean up through the pidfd.
        for (const w of watches) expect(w.isAlive()).toBe(true);
        watches[0]?.kill('SIGKILL');
        for (const w of watches) await w.wait();
      }
      for (const w of watches) w.close();
    }
  });

  it('a root directory: the init is chroot()ed there, open() and run() see it', async () => {
    const fsx = R.makeRootfs();
    try {
      const c = await Container.create({ root: fsx.root });
      try {
        expect(c.readFile('/etc/marker', 'utf8')).toBe('CONTAINER\n');
        expect((await c.run('/bin/cat', ['/etc/marker'])).stdout).toBe('CONTAINER\n');
        c.writeFile('/tmp/from-host', 'hello');
        expect((await c.run('/bin/cat', ['/tmp/from-host'])).stdout).toBe('hello');
        expect(fs.readFileSync(path.join(fsx.root, 'tmp/from-host'), 'utf8')).toBe('hello');
        // Mounts land under the chroot: a tmpfs on /mnt of the container.
        c.mount('tmpfs', '/mnt', { options: { size: '1m' } });
        c.writeFile('/mnt/t', 'tmp');
        expect((await c.run('/bin/cat', ['/mnt/t'])).stdout).toBe('tmp');
        expect(fs.existsSync(path.join(fsx.root, 'mnt/t'))).toBe(false);
      } finally {
        c.close();
        await c.exited;
      }
    } finally {
      fsx.cleanup();
    }
  });

  it('bad options are typed errors, and a failed start leaves nothing behind', async () => {
    await expect(Container.create({ unshare: ['bogus' as never] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(Container.create({ unshare: withUser(['net']), hostname: 'x' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(Container.create({ init: [] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    {
      // (Found by the fuzzer: null options were a TypeError without a code.) The pidfd stays ours.
      using p = Pidfd.self();
      expect(() => Container.fromPidfd(p, null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(p.closed).toBe(false);
    }
    const kids = () => fs.readFileSync(`/proc/self/task/${process.pid}/children`, 'latin1').trim();
    const k0 = kids();
    const err = await Container.create({ init: ['/nonexistent/init'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NsError);
    expect(err).toMatchObject({ code: 'ENOENT', step: 'execve' });
    expect(kids()).toBe(k0);
  });
});

describe('Container.fromPid (adopting a running container)', () => {
  it('socket, open, run inside; close() leaves it running', async () => {
    const c = Container.fromPid(target.pid);
    expect(c.killOnClose).toBe(false);
    expect(c.differs()).toEqual(expect.arrayContaining(['mnt', 'net', 'uts', 'ipc', 'pid']));
    using s = c.socket({ family: 'inet', type: 'dgram' });
    using h = c.open('/etc/hostname');
    expect(fs.readFileSync(h.fd, 'utf8')).toBe(fs.readFileSync('/etc/hostname', 'utf8'));
    void s;
    const r = await c.run('sh', ['-c', 'echo $$; ls /proc | grep -c "^[0-9]"']);
    expect(r.code).toBe(0);
    c.close();
    using p = Pidfd.open(target.pid);
    expect(p.isAlive()).toBe(true);
  });

  it('mount(): tmpfs, bind (read-only) and proc into its mount namespace, invisible here', async () => {
    const c = Container.fromPid(target.pid);
    const src = fs.mkdtempSync('/tmp/nsfd-bind-');
    // Rootless, the target's root user maps to us, who may not write /mnt: mount points under a directory of ours.
    const mnt = isRoot ? '/mnt' : fs.mkdtempSync('/tmp/nsfd-mnt-');
    try {
      fs.writeFileSync(path.join(src, 'host-file'), 'from the host');
      execFileSync('nsenter', ['-t', String(target.pid), ...userArgs, '-m', 'mkdir', '-p', `${mnt}/c-tmpfs`, `${mnt}/c-bind`]);
      c.mount('tmpfs', `${mnt}/c-tmpfs`, { options: { size: '2m', mode: '0700' }, nosuid: true });
      c.writeFile(`${mnt}/c-tmpfs/f`, 'in tmpfs');
      const inside = execFileSync('nsenter', ['-t', String(target.pid), ...userArgs, '-m', 'sh', '-c', `cat ${mnt}/c-tmpfs/f; grep " ${mnt}/c-tmpfs " /proc/1/mountinfo`]).toString();
      expect(inside).toContain('in tmpfs');
      expect(inside).toMatch(/tmpfs .*size=2048k,mode=700/);
      expect(inside).toMatch(/nosuid/);
      expect(fs.existsSync(`${mnt}/c-tmpfs/f`)).toBe(false);

      if (isRoot) {
        c.mount(src, `${mnt}/c-bind`, { readonly: true });
        expect(c.readFile(`${mnt}/c-bind/host-file`, 'utf8')).toBe('from the host');
        expect(() => c.writeFile(`${mnt}/c-bind/new`, 'x')).toThrow(expect.objectContaining({ code: 'EROFS' }));
      } else {
        // Rootless, a bind mount's source is a copy of our mount tree (open_tree(OPEN_TREE_CLONE)): that needs CAP_SYS_ADMIN over our mount ns.
        expect(catchErr(() => c.mount(src, `${mnt}/c-bind`, { readonly: true }))).toMatchObject({ code: 'EPERM', syscall: 'open_tree' });
      }

      // proc, made by a helper inside the target's pid namespace: its pids.
      execFileSync('nsenter', ['-t', String(target.pid), ...userArgs, '-m', 'mkdir', '-p', `${mnt}/c-proc`]);
      c.mount('proc', `${mnt}/c-proc`);
      expect(c.readFile(`${mnt}/c-proc/1/comm`, 'utf8')).toBe('sleep\n');
    } finally {
      execFileSync('nsenter', ['-t', String(target.pid), ...userArgs, '-m', 'sh', '-c', `umount ${mnt}/c-tmpfs ${mnt}/c-bind ${mnt}/c-proc; rmdir ${mnt}/c-tmpfs ${mnt}/c-bind ${mnt}/c-proc`]);
      fs.rmSync(src, { recursive: true, force: true });
      if (!isRoot) fs.rmSync(mnt, { recursive: true, force: true });
      c.close();
    }
  });

  it('mount() targets resolve under the root; bad types and options are typed errors', () => {
    const fsx = R.makeRootfs();
    const c = Container.fromPid(target.pid);
    try {
      expect(catchErr(() => c.mount('tmpfs', '/no/such/dir'))).toMatchObject({ code: 'ENOENT', syscall: 'openat2' });
      expect(catchErr(() => c.mount('nosuchfs', '/mnt'))).toMatchObject({ code: 'ENODEV', syscall: 'fsopen' });
      const e = catchErr(() => c.mount('tmpfs', '/mnt', { options: { nosuchoption: 'x' } })) as NsError;
      expect(e).toMatchObject({ code: 'EINVAL', syscall: 'fsconfig' });
      expect(e.hint).toMatch(/nosuchoption/);
      expect(() => c.mount('tmp fs', '/mnt')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      // Rootless, open_tree(OPEN_TREE_CLONE) of a host path is refused before the path is looked up.
      expect(catchErr(() => c.mount('/no/such/source', '/mnt'))).toMatchObject({ code: isRoot ? 'ENOENT' : 'EPERM', syscall: 'open_tree' });
    } finally {
      c.close();
      fsx.cleanup();
    }
  });

  it('a reused pid is never acted on: id mismatch and exited targets are ESRCH', async () => {
    const t = await startTarget({ types: ['net', 'mount'] });
    let c: Container;
    if (feat.pidfs.available) {
      const id = (() => {
        using p = Pidfd.open(t.pid);
        return p.id;
      })();
      expect(() => Container.fromPid(t.pid, { id: id + 1n })).toThrow(expect.objectContaining({ code: 'ESRCH' }));
      c = Container.fromPid(t.pid, { id });
    } else {
      // No pidfs ids before 6.9: asking for one is an UnsupportedError.
      expect(() => Container.fromPid(t.pid, { id: 1n })).toThrow(UnsupportedError);
      c = Container.fromPid(t.pid);
    }
    await t.stop();
    expect(catchErr(() => c.socket({ family: 'inet', type: 'stream' }))).toMatchObject({ code: 'ESRCH' });
    expect(catchErr(() => c.open('/etc/hostname'))).toMatchObject({ code: 'ESRCH' });
    expect(catchErr(() => c.mount('tmpfs', '/mnt'))).toMatchObject({ code: 'ESRCH' });
    expect(catchErr(() => c.kill('SIGTERM'))).toMatchObject({ code: 'ESRCH' });
    c.close();
  });

  it.runIf(haveInit)('c.spawn() into an adopted container gets its init\'s capabilities, no_new_privs, seccomp and ids, as read from /proc', async () => {
    const fields = (text: string) => Object.fromEntries(text.split('\n').filter((l) => /^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Uid|Gid):/.test(l)).map((l) => l.split(/:\s*/) as [string, string]));
    // An nsfd container: Docker's capabilities, no_new_privs, the default filter.
    await using made = await Container.create();
    const initFields = fields(fs.readFileSync(`/proc/${made.pidfd.pid}/status`, 'latin1'));
    expect(initFields.NoNewPrivs).toBe('1');
    expect(initFields.Seccomp).toBe('2');
    const adopted = Container.fromPid(made.pidfd.pid);
    try {
      const r = await adopted.run('cat', ['/proc/self/status']);
      expect(r.code).toBe(0);
      const ours = fields(r.stdout);
      for (const k of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp']) expect(ours[k], k).toBe(initFields[k]);
      // Overrides still win.
      const all = await adopted.run('cat', ['/proc/self/status'], { capabilities: ['ALL'], noNewPrivileges: false, seccomp: false });
      expect(fields(all.stdout).NoNewPrivs).toBe('0');
      expect(fields(all.stdout).Seccomp).toBe('0');
    } finally {
      adopted.close();
    }
  });
});

describe('Container.list and persist', () => {
  it('list() finds a created container as a namespace set led by its init', async () => {
    const c = await Container.create();
    try {
      const all = Container.list();
      const mine = all.find((g) => g.leader === c.pid);
      expect(mine).toBeDefined();
      expect(mine?.differs).toEqual(expect.arrayContaining(['mnt', 'net', 'pid', 'uts', 'ipc', 'cgroup']));
      expect(mine?.namespaces.net).toBe(c.namespaces.net?.inode);
      if (haveInit) expect(mine?.pids).toEqual([c.pid]); // nsfd-init alone
      else expect(mine?.pids.length).toBeGreaterThanOrEqual(2); // the sh init and its sleep
      expect(all.find((g) => g.pids.includes(process.pid) && g.differs.length === 0)).toBeUndefined();
    } finally {
      c.close();
      await c.exited;
    }
    expect(Container.list().find((g) => g.leader === c.pid)).toBeUndefined();
  });

  needsRoot('persist() bind-mounts nsfs files, which the kernel allows only in a mount ns of the user ns owning those namespaces, or with CAP_SYS_ADMIN over ours').it('persist(dir) keeps the namespaces usable after the container is gone (fixture in a private mount ns)', () => {
    // Pinned to one CPU: the kernel refuses to bind a mount namespace whose
    // id is not above the caller's, and 6.18 hands ids out in per-CPU
    // batches, so the fixture's own (older) namespace could get the larger id.
    const r = spawnSync('taskset', ['-c', '0', 'unshare', '--mount', '--propagation', 'private', process.execPath, fixturePath('container-persist.js')], {
      encoding: 'utf8',
      timeout: 30000,
    });
    const out = JSON.parse(r.stdout || '{}') as Record<string, unknown>;
    expect(out.error).toBeUndefined();
    expect(out).toMatchObject({
      files: ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts'],
      sameNet: true,
      exit: { code: null, signal: 'SIGKILL' },
      socketInPersistedNet: true,
      readBack: 'still here',
      rewritten: 'rewritten',
      utsIsNotOurs: true,
      removed: true,
    });
  });
});

needsRoot('runs a fixture as another user (uid 65534): setuid').describe('unprivileged (nobody)', () => {
  it('a rootless container: user namespace added, run, socket on port 80, mount, close kills', () => {
    const r = runFixture('container-rootless.js', [], { uid: 65534, gid: 65534 });
    const out = JSON.parse(r.stdout || '{}') as Record<string, unknown>;
    expect(out.error).toBeUndefined();
    expect(out).toMatchObject({
      uid: 65534,
      differs: ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts'],
      hostname: 'rootless-box',
      idInside: '0',
      served: 'served',
      tmpfsFromInside: 'in tmpfs',
      tmpfsOnHost: false,
      initExit: { code: null, signal: 'SIGKILL' },
      fdsLeaked: 0,
    });
  });
});

function catchErr(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

