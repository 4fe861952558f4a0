import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import { NsError, Namespace, OwnedFd, Pidfd, UnsupportedError, spawn as nsfdSpawn } from '../lib/index';
import { checkLeaksPerTest, feat, isCloexec, startTarget, until, warmUp } from './helpers';

beforeAll(warmUp);
checkLeaksPerTest();

function sleeper(): { pid: number; done: Promise<unknown> } {
  const cp = spawn('sleep', ['1000'], { stdio: 'ignore' });
  return { pid: cp.pid as number, done: new Promise((r) => cp.once('exit', r)) };
}

describe('Pidfd', () => {
  it('opens a process, with CLOEXEC, and knows its pid', () => {
    using p = Pidfd.open(process.pid);
    expect(p.pid).toBe(process.pid);
    expect(p.fd).toBeGreaterThan(2);
    expect(isCloexec(p.fd)).toBe(true);
    expect(p.isAlive()).toBe(true);
  });

  it('self() refers to this process', () => {
    using p = Pidfd.self();
    expect(p.info().pid).toBe(process.pid);
    expect(p.info().ppid).toBe(process.ppid);
  });

  it('close() is idempotent; use after close is EBADF, never a reused number', () => {
    const p = Pidfd.self();
    const n = p.fd;
    p.close();
    p.close();
    expect(p.fd).toBe(-1);
    expect(p.closed).toBe(true);
    const other = fs.openSync('/dev/null', 'r'); // likely reuses n
    try {
      expect(() => p.sendSignal(0)).toThrowError(expect.objectContaining({ code: 'EBADF', syscall: 'pidfd_send_signal' }));
      expect(() => p.info()).toThrow(NsError);
      expect(() => p.namespace('net')).toThrow(/closed/);
      expect(() => p.release()).toThrow(/closed/);
      void n;
    } finally {
      fs.closeSync(other);
    }
  });

  it('dup() and release() hand over ownership', () => {
    const p = Pidfd.self();
    const d = p.dup();
    expect(d).toBeInstanceOf(Pidfd);
    expect(d.fd).not.toBe(p.fd);
    expect(d.pid).toBe(p.pid);
    const raw = d.release();
    expect(d.fd).toBe(-1);
    const adopted = Pidfd.fromRawFd(raw);
    expect(adopted.pid).toBe(process.pid);
    adopted.close();
    p.close();
  });

  it('`using` closes at the end of the scope', () => {
    let fd = -1;
    {
      using p = Pidfd.self();
      fd = p.fd;
      expect(fs.existsSync(`/proc/self/fd/${fd}`)).toBe(true);
    }
    expect(() => fs.readlinkSync(`/proc/self/fd/${fd}`)).toThrow();
  });

  it('sendSignal() by name and number; wait() observes a child_process child without stealing it', async () => {
    const cp = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const exited = new Promise<[number | null, string | null]>((r) => cp.once('exit', (c, sig) => r([c, sig])));
    using p = Pidfd.open(cp.pid as number);
    expect(p.isAlive()).toBe(true);
    p.sendSignal(0);
    p.sendSignal('SIGTERM');
    const st = await p.wait();
    // Seen with WNOWAIT before libuv reaps it, or read from PIDFD_GET_INFO
    // after (6.15+); on older kernels libuv may win the race: unknown.
    if (feat.pidfd_info_exit.available || st.signal !== null) expect(st).toEqual({ code: null, signal: 'SIGTERM' });
    else expect(st).toEqual({ code: null, signal: null });
    // libuv still reaps it and child_process still reports it.
    expect(await exited).toEqual([null, 'SIGTERM']);
    expect(p.isAlive()).toBe(false);
  });

  it('wait({reap: true}) reaps a child and reports its exit code', async () => {
    // A child that libuv does not track: started through a raw pidfd of
    // `sh`, whose exit we reap ourselves (child_process then sees ECHILD
    // and reports nothing, which is why reaping is opt-in).
    const cp = spawn('sh', ['-c', 'read x; exit 7'], { stdio: ['pipe', 'ignore', 'ignore'] });
    using p = Pidfd.open(cp.pid as number);
    const waiting = p.wait({ reap: true });
    // child_process closes its end of the pipe asynchronously: wait for it.
    const stdinClosed = new Promise((r) => cp.stdin?.once('close', r));
    cp.stdin?.end('go\n');
    const st = await waiting;
    // libuv's SIGCHLD handler may reap it first: then the status comes from
    // PIDFD_GET_INFO (6.15+), or is unknown on older kernels.
    if (feat.pidfd_info_exit.available || st.code !== null) expect(st).toEqual({ code: 7, signal: null });
    else expect(st).toEqual({ code: null, signal: null });
    await stdinClosed;
    expect(fs.existsSync(`/proc/${cp.pid}`)).toBe(false);
    cp.removeAllListeners();
  });

  it('a dup\'s wait() still gets the exit status after another handle of the same process reaped it (kernels before 6.15 keep none)', async () => {
    const child = nsfdSpawn('sh', ['-c', 'exit 5'], { stdio: 'ignore' });
    const d = child.pidfd.dup();
    try {
      // The Subprocess reaps it first; the dup's own waitid then finds no child.
      expect(await child.exited).toEqual({ code: 5, signal: null });
      expect(fs.existsSync(`/proc/${child.pid}`)).toBe(false);
      expect(await d.wait()).toEqual({ code: 5, signal: null });
    } finally {
      d.close();
      child.close();
    }
  });

  it('ESRCH after the target exits and is reaped', async () => {
    const s = sleeper();
    const p = Pidfd.open(s.pid);
    process.kill(s.pid, 'SIGKILL');
    await s.done; // libuv reaped it
    expect(() => p.sendSignal('SIGTERM')).toThrowError(expect.objectContaining({ code: 'ESRCH', errno: -3, syscall: 'pidfd_send_signal' }));
    expect(() => p.namespace('net')).toThrowError(expect.objectContaining({ code: 'ESRCH' }));
    expect(() => p.info()).toThrowError(expect.objectContaining({ code: 'ESRCH' }));
    expect(p.isAlive()).toBe(false);
    p.close();
    expect(() => Pidfd.open(s.pid)).toThrowError(expect.objectContaining({ code: 'ESRCH', syscall: 'pidfd_open' }));
  });

  it('wait() on a process that is not our child resolves when it exits', async () => {
    // sh is our child; its child sleep is not.
    const sh = spawn('sh', ['-c', 'sleep 1000 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    // Listen now: sh may exit (and emit) before the wait below resolves.
    // 'close', not 'exit': its stdout pipe must be closed before fds are counted.
    const shExited = new Promise((r) => sh.once('close', r));
    const pid = Number(await new Promise<string>((r) => sh.stdout.once('data', (d: Buffer) => r(d.toString()))));
    using p = Pidfd.open(pid);
    const waiting = p.wait();
    p.sendSignal('SIGKILL');
    const st = await waiting;
    if (feat.pidfd_info_exit.available) expect(st).toEqual({ code: null, signal: 'SIGKILL' });
    else expect(st).toEqual({ code: null, signal: null });
    await shExited;
  });

  it('wait() on an already-exited child_process child reports its code', async () => {
    const cp = spawn('sh', ['-c', 'exit 7'], { stdio: 'ignore' });
    using p = Pidfd.open(cp.pid as number);
    const [st] = await Promise.all([p.wait(), new Promise((r) => cp.once('exit', r))]);
    // Observed with WNOWAIT before libuv reaped it, or from PIDFD_GET_INFO (6.15+) after.
    if (st.code !== null || feat.pidfd_info_exit.available) expect(st).toEqual({ code: 7, signal: null });
    else expect(st).toEqual({ code: null, signal: null });
  });

  it('id is the pidfs inode; open({id}) refuses a different process', () => {
    if (!feat.pidfs.available) {
      using p = Pidfd.self();
      expect(() => p.id).toThrow(UnsupportedError);
      return;
    }
    using p = Pidfd.self();
    const id = p.id;
    expect(typeof id).toBe('bigint');
    using again = Pidfd.open(process.pid, { id });
    expect(again.id).toBe(id);
    expect(() => Pidfd.open(process.pid, { id: id + 1n })).toThrowError(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('info() matches /proc', () => {
    using p = Pidfd.open(process.pid);
    const i = p.info();
    expect(i.pid).toBe(process.pid);
    expect(i.tgid).toBe(process.pid);
    expect(i.uid.effective).toBe(process.geteuid?.());
    expect(i.gid.real).toBe(process.getgid?.());
    expect(i.source).toBe(feat.pidfd_get_info.available ? 'PIDFD_GET_INFO' : 'proc');
  });

  it('namespace() / namespaces() return the process namespaces', async () => {
    const t = await startTarget();
    try {
      using p = Pidfd.open(t.pid);
      using net = p.namespace('net');
      using host = Namespace.current('net');
      expect(net.type).toBe('net');
      expect(net.equals(host)).toBe(false);
      expect(net.inode).toBe(fs.statSync(`/proc/${t.pid}/ns/net`).ino);
      const all = p.namespaces();
      try {
        for (const [type, ns] of Object.entries(all)) {
          expect(ns.type).toBe(type);
          expect(ns.inode).toBe(fs.statSync(`/proc/${t.pid}/ns/${type}`).ino);
        }
        expect(Object.keys(all).sort()).toEqual(expect.arrayContaining(['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts']));
      } finally {
        for (const ns of Object.values(all)) ns.close();
      }
    } finally {
      await t.stop();
    }
  });

  it('getfd() copies an fd out of another process', async () => {
    // A child holding /etc/hostname on fd 3.
    const cp = spawn('sh', ['-c', 'exec 3</etc/hostname; exec sleep 1000'], { stdio: 'ignore' });
    try {
      await until(() => {
        try {
          return fs.readlinkSync(`/proc/${cp.pid}/fd/3`) === '/etc/hostname' && fs.readFileSync(`/proc/${cp.pid}/comm`, 'latin1').startsWith('sleep');
        } catch {
          return false;
        }
      }, 'fd 3 in the child');
      using p = Pidfd.open(cp.pid as number);
      using f = p.getfd(3);
      expect(f).toBeInstanceOf(OwnedFd);
      expect(fs.readlinkSync(`/proc/self/fd/${f.fd}`)).toBe('/etc/hostname');
      expect(isCloexec(f.fd)).toBe(true);
      expect(() => p.getfd(999)).toThrowError(expect.objectContaining({ code: 'EBADF', syscall: 'pidfd_getfd' }));
    } finally {
      cp.kill('SIGKILL');
      await new Promise((r) => cp.once('exit', r));
    }
  });

  it('thread pidfds (PIDFD_THREAD)', () => {
    if (!feat.pidfd_thread.available) {
      expect(() => Pidfd.open(process.pid, { thread: true })).toThrow(UnsupportedError);
      return;
    }
    using p = Pidfd.open(process.pid, { thread: true, nonblock: true });
    expect(p.isAlive()).toBe(true);
  });

  it('a non-leader thread id is refused with a hint', () => {
    const tids = fs.readdirSync('/proc/self/task').map(Number).filter((t) => t !== process.pid);
    expect(tids.length).toBeGreaterThan(0);
    const tid = tids[0] as number;
    expect(() => Pidfd.open(tid)).toThrowError(expect.objectContaining({ syscall: 'pidfd_open', hint: expect.stringContaining('thread') }));
  });
});

describe('Pidfd bad input', () => {
  it.each([
    [0, RangeError],
    [-1, RangeError],
    [2 ** 31, RangeError],
    [1.5, TypeError],
    ['1', TypeError],
    [null, TypeError],
    [undefined, TypeError],
    [NaN, TypeError],
  ])('open(%s) → %s', (pid, cls) => {
    expect(() => Pidfd.open(pid as number)).toThrow(cls);
  });

  it('unknown pid → ESRCH', () => {
    expect(() => Pidfd.open(0x3ffffff0)).toThrowError(expect.objectContaining({ code: 'ESRCH', errno: -3, syscall: 'pidfd_open', message: expect.stringMatching(/^ESRCH: no such process, pidfd_open/) }));
  });

  it('bad signals and namespace types are TypeErrors', () => {
    using p = Pidfd.self();
    expect(() => p.sendSignal('SIGNOPE' as NodeJS.Signals)).toThrow(TypeError);
    expect(() => p.sendSignal(-1)).toThrow(TypeError);
    expect(() => p.sendSignal(1000)).toThrow(TypeError);
    expect(() => p.namespace('bogus' as 'net')).toThrow(TypeError);
    expect(() => p.namespaces(['net', 'nope' as 'net'])).toThrow(TypeError);
    expect(() => p.getfd(-1)).toThrow(TypeError);
    expect(() => Pidfd.open(process.pid, { id: 5 as unknown as bigint })).toThrow(TypeError);
  });

  it('adopting an fd that is not a pidfd fails', () => {
    const fd = fs.openSync('/dev/null', 'r');
    try {
      expect(() => Pidfd.fromRawFd(fd)).toThrowError(expect.objectContaining({ code: 'EINVAL' }));
      // The failed adoption left the fd with us: still open.
      expect(fs.fstatSync(fd).isCharacterDevice()).toBe(true);
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('zombies', () => {
  it('no zombie is left by wait()', async () => {
    const r = spawnSync('sh', ['-c', 'true']);
    expect(r.status).toBe(0);
  });
});
