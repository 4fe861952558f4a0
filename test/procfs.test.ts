// nsfd reads /proc only through a procfs that shows this process as itself
// (lib/core/procfs.ts): never another pid namespace's /proc, never
// something mounted over /proc.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ownProcfs, procRead, procReaddir, procReadlink, procfsProblem } from '../lib/core/procfs';
import { isRoot, fixturePath } from './helpers';

const userArgs = isRoot ? [] : ['--user', '--map-root-user'];

const fixture = fixturePath('procfs-check.js');

function runUnder(prefix: string[], uid?: number, full = false): Record<string, unknown> {
  const r = spawnSync(prefix[0] as string, [...prefix.slice(1), process.execPath, fixture, ...(full ? ['full'] : [])], {
    encoding: 'utf8',
    timeout: 30000,
    // Under npm run test:asan: LeakSanitizer needs a /proc, which some of
    // these runs hide on purpose.
    env: { ...process.env, ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'detect_leaks=0'].filter(Boolean).join(':') },
    ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  // (ASan's own warnings, "==PID==...", when the addon is built with it.)
  expect(r.stderr.split('\n').filter((l) => l !== '' && !/^==\d+==/.test(l))).toEqual([]);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('our procfs', () => {
  it('is /proc here, held by an fd, and reads our own entries', () => {
    const p = ownProcfs();
    expect(p.source).toBe('proc');
    expect(procfsProblem(p.fd)).toBeUndefined();
    expect(procRead(`${process.pid}/status`)).toMatch(new RegExp(`^Pid:\\s+${process.pid}$`, 'm'));
    expect(procReadlink(`${process.pid}/ns/net`)).toBe(fs.readlinkSync('/proc/self/ns/net'));
    expect(procReaddir(`${process.pid}/task`)).toEqual(expect.arrayContaining([String(process.pid)]));
    expect(procRead('999999999/status')).toBeUndefined();
    expect(procReadlink('999999999/ns/net')).toBeLessThan(0);
  });

  it('a directory that is not a procfs is refused, with the reason', () => {
    const fd = fs.openSync('/tmp', 'r');
    try {
      expect(procfsProblem(fd)).toMatch(/not a procfs/);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('under another pid namespace\'s /proc (unshare -p -f, no --mount-proc): a private procfs, never the host\'s entries', () => {
    // Rootless, in a user ns of its own too (root there): it may mount a procfs then.
    // As root, also a child with id maps and a container (host ids 100000+ need root).
    const o = runUnder(['unshare', ...userArgs, '--pid', '--fork', '--mount'], undefined, isRoot);
    expect(o.pid).toBe(1);
    if (isRoot) {
      // Its child's id maps were written to the child, not to the host process with that pid.
      expect(o.mappedChild).toEqual(['0', '0']);
      // A container made, run in (its mount namespace joined) and closed.
      expect(o.container).toBe('inner');
    }
    // /proc/self of the mounted /proc is our host pid, not 1: that /proc is the host's.
    expect(o.mountedProcSelf).not.toBe('1');
    expect(o.procfs).toBe('private');
    // (Node 24 names its main thread, whose comm is the process's.)
    expect(['node', 'MainThread']).toContain(o.ownComm);
    expect(o.info).toEqual({ pid: 1, uid: 0 });
    expect(o.netIsOurs).toBe(true);
  });

  it('with a tmpfs mounted over /proc: a private procfs', () => {
    const o = runUnder(['unshare', ...userArgs, '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs none /proc && exec "$@"', 'sh']);
    expect(o.mountedProcSelf).toMatchObject({ error: 'ENOENT' });
    if (!isRoot) {
      // Rootless, its pid ns is the host's (owned by the initial user ns): no right to mount a procfs, and it says so.
      expect(o.procfs).toMatchObject({ error: 'EPERM', syscall: 'fsopen' });
      expect(String((o.procfs as { hint: string }).hint)).toMatch(/not a procfs.*CAP_SYS_ADMIN over this pid namespace/);
      return;
    }
    expect(o.procfs).toBe('private');
    // (Node 24 names its main thread, whose comm is the process's.)
    expect(['node', 'MainThread']).toContain(o.ownComm);
    expect(o.info).toMatchObject({ pid: o.pid });
  });

  it('rootless, with a foreign /proc and no right to mount one: a typed error that says why, never the foreign entries', () => {
    // As root, dropped to nobody first; rootless, we are unprivileged already.
    const o = runUnder([...(isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : []), 'unshare', '--user', '--map-root-user', '--pid', '--fork']);
    expect(o.pid).toBe(1);
    expect(o.procfs).toMatchObject({ error: 'EPERM', syscall: 'fsopen' });
    expect(String((o.procfs as { hint: string }).hint)).toMatch(/another pid namespace/);
    expect(o.ownComm).toMatchObject({ error: 'EPERM' });
  });
});
