import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { Namespace, NsError, Pidfd, UnsupportedError } from '../lib/index';
import { checkLeaksPerTest, feat, isCloexec, isRoot, needsRoot, sharedTarget, startTarget } from './helpers';

const target = sharedTarget();
checkLeaksPerTest();

describe('Namespace', () => {
  it('open() reads type, dev and inode; fd is CLOEXEC', () => {
    using ns = Namespace.open('/proc/self/ns/net');
    const st = fs.statSync('/proc/self/ns/net');
    expect(ns.type).toBe('net');
    expect(ns.inode).toBe(st.ino);
    expect(ns.dev).toBe(st.dev);
    expect(isCloexec(ns.fd)).toBe(true);
  });

  it('current() and ofPid() agree with /proc', () => {
    for (const type of ['mnt', 'uts', 'ipc', 'user', 'pid', 'net', 'cgroup', 'time'] as const) {
      using cur = Namespace.current(type);
      expect(cur.inode).toBe(fs.statSync(`/proc/thread-self/ns/${type}`).ino);
      using theirs = Namespace.ofPid(target.pid, type);
      expect(theirs.inode).toBe(fs.statSync(`/proc/${target.pid}/ns/${type}`).ino);
    }
  });

  it('equals() compares identity', () => {
    using a = Namespace.current('net');
    using b = Namespace.open('/proc/self/ns/net');
    using c = Namespace.ofPid(target.pid, 'net');
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
    using d = c.dup();
    expect(d.equals(c)).toBe(true);
    expect(d.fd).not.toBe(c.fd);
  });

  it('id is a stable, distinct u64 (NS_GET_ID, 6.18)', () => {
    using a = Namespace.current('net');
    using b = Namespace.ofPid(target.pid, 'net');
    if (!feat.ns_get_id.available) {
      expect(() => a.id).toThrow(UnsupportedError);
      return;
    }
    expect(typeof a.id).toBe('bigint');
    expect(a.id).toBeGreaterThan(0n);
    expect(a.id).not.toBe(b.id);
    using a2 = Namespace.open('/proc/self/ns/net');
    expect(a2.id).toBe(a.id);
  });

  it('owner(), ownerUid and parent()', async () => {
    using host = Namespace.current('user');
    expect(host.ownerUid).toBe(0);
    // Initial user namespace has no owner or parent visible.
    expect(() => host.owner()).toThrowError(expect.objectContaining({ code: 'EPERM', syscall: 'ioctl(NS_GET_USERNS)' }));
    expect(() => host.parent()).toThrowError(expect.objectContaining({ code: 'EPERM' }));
    using net = Namespace.current('net');
    expect(() => net.parent()).toThrowError(expect.objectContaining({ code: 'EINVAL', hint: expect.stringContaining('no parent') }));
    // A target with its own user namespace: owner is it, its parent is ours.
    const t = await startTarget({ user: true });
    try {
      using tnet = Namespace.ofPid(t.pid, 'net');
      using tuser = Namespace.ofPid(t.pid, 'user');
      using owner = tnet.owner();
      expect(owner.equals(tuser)).toBe(true);
      expect(owner.type).toBe('user');
      expect(tuser.ownerUid).toBe(process.getuid?.());
      expect(tnet.ownerUid).toBe(process.getuid?.());
      using parent = tuser.parent();
      expect(parent.equals(host)).toBe(true);
      using tpid = Namespace.ofPid(t.pid, 'pid');
      using ppid = tpid.parent();
      using ourpid = Namespace.current('pid');
      expect(ppid.equals(ourpid)).toBe(true);
    } finally {
      await t.stop();
    }
  });

  needsRoot('persist() bind-mounts nsfs files in our mount namespace (CAP_SYS_ADMIN)').it('persist() keeps a namespace after its processes exit; unpersist() removes it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-persist-'));
    const file = path.join(dir, 'net');
    const t = await startTarget();
    let inode = 0;
    try {
      using ns = Namespace.ofPid(t.pid, 'net');
      inode = ns.inode;
      ns.persist(file);
    } finally {
      await t.stop();
    }
    try {
      // The target is gone; the bind mount still holds its netns.
      using again = Namespace.open(file, 'net');
      expect(again.inode).toBe(inode);
      expect(fs.readFileSync('/proc/self/mountinfo', 'latin1')).toContain(`net:[${inode}]`);
    } finally {
      Namespace.unpersist(file);
    }
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readFileSync('/proc/self/mountinfo', 'latin1')).not.toContain(`net:[${inode}]`);
    fs.rmdirSync(dir);
  });

  it('toHandle()/fromHandle() round-trip (nsfs handles, 6.18)', () => {
    using ns = Namespace.current('net');
    if (!feat.nsfs_handles.available) {
      expect(() => ns.toHandle()).toThrow(UnsupportedError);
      return;
    }
    const h = ns.toHandle();
    expect(h).toBeInstanceOf(Buffer);
    expect(h.readInt32LE(0)).toBe(0xf1);
    using back = Namespace.fromHandle(h);
    expect(back.equals(ns)).toBe(true);
    expect(isCloexec(back.fd)).toBe(true);
    // A handle of a namespace that is gone is ESTALE.
    const bogus = Buffer.from(h);
    bogus.writeUInt32LE(0xfffffff0, 4); // ns_id low word
    expect(() => Namespace.fromHandle(bogus)).toThrowError(expect.objectContaining({ code: 'ESTALE' }));
  });
});

describe('Namespace bad input', () => {
  it('a path that is not a namespace', () => {
    expect(() => Namespace.open('/etc/hostname')).toThrowError(expect.objectContaining({ code: 'EINVAL', hint: expect.stringContaining('not a namespace') }));
    expect(() => Namespace.open('/nonexistent/ns')).toThrowError(expect.objectContaining({ code: 'ENOENT', syscall: 'open', path: '/nonexistent/ns' }));
    expect(() => Namespace.open('/proc/self/ns')).toThrowError(NsError);
  });

  it('a type that does not match', () => {
    expect(() => Namespace.open('/proc/self/ns/net', 'uts')).toThrowError(expect.objectContaining({ code: 'EINVAL', hint: 'a net namespace, not uts' }));
  });

  it('wrong argument types', () => {
    expect(() => Namespace.open(42 as unknown as string)).toThrow(TypeError);
    expect(() => Namespace.open('')).toThrow(TypeError);
    expect(() => Namespace.open('/proc/self/ns/net', 'bogus' as 'net')).toThrow(TypeError);
    expect(() => Namespace.current('netns' as 'net')).toThrow(TypeError);
    expect(() => Namespace.fromHandle('abc' as unknown as Buffer)).toThrow(TypeError);
    using ns = Namespace.current('net');
    expect(() => ns.equals({} as Namespace)).toThrow(TypeError);
  });

  it('an fd of the wrong kind', () => {
    const fd = fs.openSync('/dev/null', 'r');
    try {
      expect(() => Namespace.fromRawFd(fd)).toThrowError(expect.objectContaining({ code: 'EINVAL' }));
      expect(fs.fstatSync(fd).isCharacterDevice()).toBe(true);
    } finally {
      fs.closeSync(fd);
    }
    using p = Pidfd.self();
    const dup = p.dup();
    const raw = dup.release();
    try {
      expect(() => Namespace.fromRawFd(raw)).toThrowError(expect.objectContaining({ code: 'EINVAL' }));
    } finally {
      fs.closeSync(raw);
    }
  });

  it('a closed namespace throws EBADF', () => {
    const ns = Namespace.current('net');
    ns.close();
    expect(() => ns.id).toThrowError(expect.objectContaining({ code: 'EBADF' }));
    expect(() => ns.owner()).toThrowError(expect.objectContaining({ code: 'EBADF' }));
    expect(() => ns.persist('/tmp/x')).toThrowError(expect.objectContaining({ code: 'EBADF' }));
  });

  it('unpersist() of something that is not a persisted namespace', () => {
    expect(() => Namespace.unpersist('/etc/hostname')).toThrowError(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('ofPid of an exited process is ESRCH', async () => {
    const t = await startTarget();
    const pid = t.pid;
    await t.stop();
    expect(() => Namespace.ofPid(pid, 'net')).toThrowError(expect.objectContaining({ code: 'ESRCH' }));
  });
});
