import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { Namespace, NsError, Pidfd, attach } from '../lib/index';
import { checkLeaksPerTest, feat, isRoot, needsRoot, repoRoot, runFixture, sharedTarget, startTarget, fixturePath } from './helpers';

const ino = (p: string) => fs.statSync(p).ino;
// Where this thread is before any test moves it.
const host: Record<string, number> = Object.fromEntries(['net', 'uts', 'ipc', 'cgroup'].map((t) => [t, ino(`/proc/thread-self/ns/${t}`)]));
const hostIno = (t: string) => host[t] as number;
const target = sharedTarget();
checkLeaksPerTest();
beforeAll(() => {
  if (isRoot) expect(spawnSync('nsenter', ['-t', String(target.pid), '-u', 'hostname', 'nsfd-test-target']).status).toBe(0);
});
afterEach(() => {
  // Every test must leave the thread where it was.
  for (const t of ['net', 'uts', 'ipc', 'cgroup']) expect(ino(`/proc/thread-self/ns/${t}`)).toBe(hostIno(t));
});


needsRoot('attach() moves this thread into the target\'s namespaces; rootless they belong to the target\'s own user ns, and setns needs CAP_SYS_ADMIN in ours as well to come back, so attach() refuses').describe('attach (as root)', () => {
  it('joins net, uts, ipc and cgroup of a pidfd in one setns, and restores', () => {
    using p = Pidfd.open(target.pid);
    const scope = attach(p);
    try {
      expect([...scope.joined].sort()).toEqual(['cgroup', 'ipc', 'net', 'uts']);
      for (const t of ['net', 'uts', 'ipc', 'cgroup']) expect(ino(`/proc/thread-self/ns/${t}`)).toBe(ino(`/proc/${target.pid}/ns/${t}`));
      // The target's hostname is what this thread now sees.
      expect(os.hostname()).toBe('nsfd-test-target');
    } finally {
      scope.restore();
    }
    for (const t of ['net', 'uts', 'ipc', 'cgroup']) expect(ino(`/proc/thread-self/ns/${t}`)).toBe(hostIno(t));
    expect(os.hostname()).not.toBe('nsfd-test-target');
    scope.restore(); // idempotent
  });

  it('`using` restores at scope end; only the calling thread moves', () => {
    using p = Pidfd.open(target.pid);
    {
      using scope = attach(p, ['net']);
      expect(scope.joined).toEqual(['net']);
      expect(ino('/proc/thread-self/ns/net')).toBe(ino(`/proc/${target.pid}/ns/net`));
      // Other threads of this process stay where they were.
      for (const tid of fs.readdirSync('/proc/self/task').filter((t) => Number(t) !== process.pid)) {
        expect(ino(`/proc/self/task/${tid}/ns/net`)).toBe(hostIno('net'));
      }
    }
    expect(ino('/proc/thread-self/ns/net')).toBe(hostIno('net'));
  });

  it('joins a list of Namespaces and skips those already shared', () => {
    using net = Namespace.ofPid(target.pid, 'net');
    using ownUts = Namespace.current('uts');
    using scope = attach([net, ownUts]);
    expect(scope.joined).toEqual(['net']);
    expect(ino('/proc/thread-self/ns/net')).toBe(net.inode);
  });

  it('nested scopes restore in order', () => {
    using net = Namespace.ofPid(target.pid, 'net');
    using uts = Namespace.ofPid(target.pid, 'uts');
    const a = attach(net);
    const b = attach(uts);
    expect(ino('/proc/thread-self/ns/uts')).toBe(uts.inode);
    b.restore();
    expect(ino('/proc/thread-self/ns/uts')).toBe(hostIno('uts'));
    expect(ino('/proc/thread-self/ns/net')).toBe(net.inode);
    a.restore();
  });

  it('libuv\'s pool and dns stay in our namespaces; Workers started while attached inherit the target\'s', async () => {
    const r = runFixture('attach-pool.js', [String(target.pid)]);
    expect(r.stderr).toBe('');
    const o = JSON.parse(r.stdout);
    expect(o.warned).toBe('NSFD_ATTACH_OPEN');
    expect(o.mainNet).toBe(o.targetNet);
    expect(o.after).toBe(o.hostNet);
    expect(o.workerNet).toBe(o.targetNet);
    expect(o.poolNets.length).toBeGreaterThanOrEqual(4); // UV_THREADPOOL_SIZE
    for (const n of o.poolNets) expect(n).toBe(o.hostNet);
    for (const n of o.otherNets) expect(n).toBe(o.hostNet);
  });

  it('ESRCH once the target has exited', async () => {
    const t = await startTarget();
    const p = Pidfd.open(t.pid);
    await t.stop();
    expect(() => attach(p)).toThrowError(expect.objectContaining({ code: 'ESRCH' }));
    p.close();
  });
});

describe('attach refuses what a multithreaded process cannot do', () => {
  it.each([
    ['user', 'EINVAL', /single-threaded/],
    ['mnt', 'EINVAL', /fs_struct/],
    ['pid', 'EINVAL', /can no longer create threads/],
    ['time', 'EUSERS', /single-threaded/],
  ])('%s → %s with a hint', (type, code, hint) => {
    using p = Pidfd.open(target.pid);
    let err: unknown;
    try {
      attach(p, [type as 'net']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NsError);
    expect(err).toMatchObject({ code, syscall: 'setns', hint: expect.stringMatching(hint) });
    expect((err as NsError).hint).toMatch(/spawn/);
  });

  it('also for Namespace targets', () => {
    using mnt = Namespace.ofPid(target.pid, 'mnt');
    expect(() => attach(mnt)).toThrowError(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('bad input', () => {
    using p = Pidfd.open(target.pid);
    expect(() => attach(p, ['nope' as 'net'])).toThrow(TypeError);
    expect(() => attach({} as Pidfd)).toThrow(TypeError);
    expect(() => attach([p as unknown as Namespace])).toThrow(TypeError);
    using a = Namespace.ofPid(target.pid, 'net');
    using b = Namespace.current('net');
    expect(() => attach([a, b])).toThrowError(expect.objectContaining({ code: 'EINVAL', hint: 'two net namespaces given' }));
    const closed = Namespace.current('uts');
    closed.close();
    expect(() => attach(closed)).toThrowError(expect.objectContaining({ code: 'EBADF' }));
    const cp = Pidfd.open(target.pid);
    cp.close();
    expect(() => attach(cp)).toThrowError(expect.objectContaining({ code: 'EBADF' }));
  });
});

needsRoot('runs a fixture as another user (uid 65534): setuid').describe.runIf(feat.unprivileged_userns.available)('attach, unprivileged (nobody in a user namespace)', () => {
  it('joins what it may; a join that fails part-way leaves the thread where it was', () => {
    // The fixture runs in its own user, uts and net namespaces, so that it
    // may return to its own netns after joining a sibling it owns.
    // fd 3 of the fixture: the host's uts namespace, which nobody may not join.
    const utsFd = fs.openSync('/proc/self/ns/uts', 'r');
    try {
      const r = spawnSync('unshare', ['--user', '--map-root-user', '--uts', '--net', process.execPath, fixturePath('attach-unpriv.js')], {
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe', utsFd],
        timeout: 60000,
      });
      expect(r.stderr).toBe('');
      const o = JSON.parse(r.stdout);
      expect(o).toMatchObject({
        uid: 0, // root inside its own user namespace, nobody outside
        differs: true,
        joinedNet: true,
        restoredNet: true,
        partial: { code: 'EPERM', syscall: 'setns', isNsError: true },
        netAfterFailure: true,
        utsAfterFailure: true,
        netAfterPidfd: true,
      });
      // No ptrace access to pid 1: the namespace lookup (EACCES) or the join (EPERM) refuses.
      expect(['EACCES', 'EPERM']).toContain(o.pidfdJoin);
    } finally {
      fs.closeSync(utsFd);
    }
  });
});
