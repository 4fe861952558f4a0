// The security model (README, "Security model"): each test reproduces an
// attack found against an earlier nsfd and checks that it no longer works.
// Real processes, namespaces and files; the host-side view of a process's
// ids is read from /proc/PID/status in our own user namespace.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Container, NsError, run, spawn } from '../lib/index';
import { checkLeaksPerTest, fdCount, isRoot, needsRoot, rootless, until, warmUp } from './helpers';

beforeAll(warmUp);

const MAP = [{ inside: 0, outside: 100000, count: 65536 }];

/** Real uid and gid of a process, as our user namespace sees them. */
function hostIds(pid: number): { uid: number; gid: number } {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(st)?.[1]), gid: Number(/^Gid:\s+(\d+)/m.exec(st)?.[1]) };
}

/** Waits until pid has exec'd `comm`, so its ids are the ones it runs with. */
async function execd(pid: number, comm: string): Promise<void> {
  await until(() => fs.readFileSync(`/proc/${pid}/comm`, 'latin1').trim() === comm, `pid ${pid} to exec ${comm}`);
}

/**
 * Waits until a container's init has exec'd: nsfd-init (argv[0]; its comm
 * depends on the kernel when run by fd), or the sh init when nsfd-init is
 * missing.
 */
async function initExecd(pid: number): Promise<void> {
  await until(() => ['nsfd-init', '/bin/sh'].includes(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0] as string), `pid ${pid} to exec its init`);
}

/** Kills and reaps a spawned child, then closes its handle (close() alone reaps in the background). */
async function stop(s: { kill(sig: NodeJS.Signals): void; exited: Promise<unknown>; close(): void }): Promise<void> {
  s.kill('SIGKILL');
  await s.exited;
  s.close();
}

needsRoot('maps host ids 100000+ into new user namespaces (CAP_SETUID, CAP_SETGID in the initial user ns)').describe('a process placed in a user namespace never keeps host ids', () => {
  checkLeaksPerTest();

  it('spawn into a new user namespace: uid/gid 0 of that namespace by default (host 100000), not host root', async () => {
    const s = spawn('sleep', ['100'], { unshare: ['user'], uidMap: MAP, gidMap: MAP, stdio: 'ignore', killOnClose: true });
    try {
      await execd(s.pid, 'sleep');
      expect(hostIds(s.pid)).toEqual({ uid: 100000, gid: 100000 });
    } finally {
      await stop(s);
    }
  });

  it('a new user namespace that maps nothing for the child is refused (never host root behind an overflow id)', () => {
    // uid 0 inside is not mapped: the host ids would be kept.
    let err: unknown;
    try {
      spawn('true', [], { unshare: ['user'], uidMap: [{ inside: 1000, outside: 100000, count: 1 }], gidMap: [{ inside: 1000, outside: 100000, count: 1 }], stdio: 'ignore' }).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NsError);
    expect(err).toMatchObject({ code: 'EINVAL' });
    expect(String((err as Error).message)).toMatch(/not mapped/);
  });

  it('uid/gid given: those ids inside; preserveCredentials keeps ours only where they are mapped', async () => {
    const s = spawn('sleep', ['100'], { unshare: ['user'], uidMap: MAP, gidMap: MAP, uid: 1000, gid: 1000, stdio: 'ignore', killOnClose: true });
    try {
      await execd(s.pid, 'sleep');
      expect(hostIds(s.pid)).toEqual({ uid: 101000, gid: 101000 });
    } finally {
      await stop(s);
    }
    // Our uid 0 is mapped to 0 inside: kept.
    const same = [{ inside: 0, outside: 0, count: 1 }];
    const r = await run('sh', ['-c', 'id -u; id -g'], { unshare: ['user'], uidMap: same, gidMap: same, preserveCredentials: true });
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['0', '0']);
    // Our uid 0 is not mapped there: refused, not kept behind the overflow id.
    expect(() => spawn('true', [], { unshare: ['user'], uidMap: MAP, gidMap: MAP, preserveCredentials: true, stdio: 'ignore' })).toThrow(/not mapped/);
  });

  describe('Container.create with id maps (the issue\'s reproducer)', () => {
    let host: string;
    beforeAll(() => {
      host = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-sec-'));
      fs.chmodSync(host, 0o777);
      fs.writeFileSync(path.join(host, 'secret'), 'HOST-SECRET\n', { mode: 0o600 });
    });
    afterAll(() => {
      fs.rmSync(host, { recursive: true, force: true });
    });

    it('the init runs as the namespace\'s root (host 100000); c.run and c.spawn too: a root-only host file stays closed, files made are owned by 100000', async () => {
      const c = await Container.create({ unshare: ['mnt', 'pid', 'uts', 'ipc', 'net'], uidMap: MAP, gidMap: MAP });
      try {
        await initExecd(c.pid);
        expect(hostIds(c.pid)).toEqual({ uid: 100000, gid: 100000 });
        const made = path.join(host, 'made');
        const r = await run('sh', ['-c', `id -u; cat ${host}/secret; echo x > ${made}`], { join: c.pidfd, joinTypes: ['user', 'pid', 'uts', 'ipc', 'net'] });
        expect(r.stdout.split('\n')[0]).toBe('0');
        expect(r.stdout).not.toContain('HOST-SECRET');
        expect(fs.statSync(made).uid).toBe(100000);
        const viaC = await c.run('/bin/sh', ['-c', `id -u; cat ${host}/secret`]);
        expect(viaC.stdout.split('\n')[0]).toBe('0');
        expect(viaC.stdout).not.toContain('HOST-SECRET');
        const s = c.spawn('sleep', ['100'], { stdio: 'ignore' });
        try {
          await execd(s.pid, 'sleep');
          expect(hostIds(s.pid)).toEqual({ uid: 100000, gid: 100000 });
        } finally {
          await stop(s);
        }
      } finally {
        c.close();
        await c.exited;
      }
    });

    it('uid/gid for the init; one map alone serves for both (no default gid map that leaves the root in our host group)', async () => {
      const c = await Container.create({ unshare: ['mnt', 'pid', 'uts', 'ipc', 'net'], uidMap: MAP, uid: 1000, gid: 1000 });
      try {
        await initExecd(c.pid);
        expect(hostIds(c.pid)).toEqual({ uid: 101000, gid: 101000 });
      } finally {
        c.close();
        await c.exited;
      }
    });
  });
});

describe('spawn root', () => {
  checkLeaksPerTest();

  it('a relative cwd resolves inside the new root, never from Node\'s cwd outside it', async () => {
    const host = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-sec-root-'));
    const jail = path.join(host, 'jail');
    const before = process.cwd();
    try {
      fs.mkdirSync(path.join(jail, 'bin'), { recursive: true });
      fs.copyFileSync('/usr/bin/busybox', path.join(jail, 'bin/busybox'));
      fs.chmodSync(path.join(jail, 'bin/busybox'), 0o755);
      fs.writeFileSync(path.join(jail, 'marker'), 'JAIL\n');
      fs.mkdirSync(path.join(host, 'etc'));
      fs.writeFileSync(path.join(host, 'etc/marker'), 'HOST\n');
      // Node's cwd is outside the jail: "." used to be that directory.
      process.chdir(path.join(host, 'etc'));
      // Rootless, chroot() needs CAP_SYS_CHROOT: the child gets it in a new user ns of its own.
      const r = await run('/bin/busybox', ['sh', '-c', 'busybox pwd; busybox cat marker ../etc/marker 2>&1'], rootless({ root: jail, cwd: '.', env: { PATH: '/bin' } }));
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('/');
      expect(r.stdout).toContain('JAIL');
      expect(r.stdout).not.toContain('HOST');
      const sub = await run('/bin/busybox', ['pwd'], rootless({ root: jail, cwd: 'bin' }));
      expect(sub.stdout.trim()).toBe('/bin');
    } finally {
      process.chdir(before);
      fs.rmSync(host, { recursive: true, force: true });
    }
  });
});

describe('spawn killOnClose', () => {
  // A run() with pipes first: Node opens some of its own fds lazily.
  beforeAll(async () => {
    await run('true', []);
  });
  const fds = checkLeaksPerTest();

  it('with more stdio slots than we have fds open, the child still runs (its check for our death reads our pidfd, not a slot placed on its number)', async () => {
    // Real files in every slot ("ignore" leaves a slot closed): one lands
    // on the number our pidfd has in the child, and a poll of /dev/null
    // says "readable", which used to read as "the parent is gone".
    const devnull = fs.openSync('/dev/null', 'r');
    try {
      const slots = Array.from({ length: 120 }, () => devnull);
      const r = await run('sh', ['-c', 'echo ran'], { stdio: ['pipe', 'pipe', 'pipe', ...slots], killOnClose: true });
      expect(r).toMatchObject({ code: 0, stdout: 'ran\n' });
    } finally {
      fs.closeSync(devnull);
    }
    await until(() => fdCount() === fds.before, 'the slots\' fds to close');
  });
});
