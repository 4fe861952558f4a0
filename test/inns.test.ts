// socketIn / openIn / readFileIn / writeFileIn / mkdirIn against real
// targets in new namespaces (util-linux unshare), as root, plus an
// unprivileged run (fixtures/inns-rootless.ts as nobody) for the helper
// child path. Security: symlinks to / and ../.., absolute host paths, magic
// links, and two live races (a directory renamed out of the root during a
// lookup, a file swapped with a symlink) never open anything outside the
// target's root.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import * as os from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Namespace, NsError, OwnedFd, Pidfd, mkdirIn, openFlags, openIn, readFileIn, socketIn, socketNamespace, writeFileIn } from '../lib/index';
import { native } from '../lib/sys/native';
import * as R from './fixtures/inns-rootfs.js';
import { Target, checkLeaksPerTest, childPids, isRoot, needsRoot, runFixture, startTarget, threadCount, warmUp } from './helpers';


const hasPython = spawnSync('python3', ['-c', '1']).status === 0;
// Rootless, the targets' namespaces belong to their own user ns (unshare
// --user --map-root-user): nsenter joins that first, keeping our ids.
const userArgs = isRoot ? [] : ['-U', '--preserve-credentials'];
const cloexec = (fd: number) => (native.fcntl_getfd(fd) & 1) === 1;

let target: Target;
let fsx: R.Rootfs;
let pivoted: R.Started;
let chrooted: R.Started;

beforeAll(async () => {
  await warmUp();
  target = await startTarget();
  execFileSync('nsenter', ['-t', String(target.pid), ...userArgs, '-n', 'ip', 'link', 'set', 'lo', 'up']);
  fsx = R.makeRootfs();
  pivoted = await R.startPivoted(fsx.root);
  chrooted = await R.startChrooted(fsx.root);
  // Escape bait inside the root.
  const r = fsx.root;
  fs.symlinkSync('/', path.join(r, 'to-slash'));
  fs.symlinkSync('../../../../../../../../..', path.join(r, 'a/to-dotdot'));
  fs.symlinkSync('../../../../../../../../../etc/marker', path.join(r, 'a/dotdot-marker'));
  fs.symlinkSync(path.join(fsx.host, 'etc/marker'), path.join(r, 'to-host-abs'));
  fs.symlinkSync(fsx.host, path.join(r, 'to-host-dir'));
  fs.symlinkSync('/proc/self/root', path.join(r, 'magic-self'));
  fs.symlinkSync('/proc/1/root', path.join(r, 'magic-1'));
  fs.symlinkSync('/proc/1/cwd/etc/marker', path.join(r, 'magic-cwd'));
});
afterAll(async () => {
  await target?.stop();
  await pivoted?.stop();
  await chrooted?.stop();
  fsx?.cleanup();
});
// No fd leaked, no helper thread or child left behind.
checkLeaksPerTest({ threads: threadCount, children: childPids });

function inodeOf(fd: OwnedFd): string {
  const st = fs.fstatSync(fd.fd);
  return `${st.dev}:${st.ino}`;
}

describe('names are looked up in their own tables only', () => {
  // 'constructor', 'toString', '__proto__'... are members of every plain
  // object's prototype: a table lookup must not find them.
  const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

  it('openFlags: an Object.prototype member is an invalid flag string', () => {
    for (const name of PROTO_NAMES) {
      expect(() => openFlags(name), name).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(openFlags('r+')).toBe(fs.constants.O_RDWR);
  });

  it('socketIn: an Object.prototype member is no family, type or protocol; refused before any fd or thread', () => {
    using self = Pidfd.self();
    for (const name of PROTO_NAMES) {
      expect(() => socketIn(self, { family: name as never, type: 'stream' }), `family ${name}`).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      expect(() => socketIn(self, { family: 'inet', type: name as never }), `type ${name}`).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      expect(() => socketIn(self, { family: 'inet', type: 'stream', protocol: name }), `protocol ${name}`).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      expect(() => socketIn(self, { family: 'netlink', type: 'raw', protocol: name }), `netlink protocol ${name}`).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(() => openIn(self, '/x', 'constructor' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => readFileIn(self, '/x', { flag: '__proto__' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describe(isRoot ? 'socketIn (as root: thread path)' : 'socketIn (rootless: helper child path)', () => {
  it('a TCP server listening in the target netns: reachable from inside, not from the host', async () => {
    using p = Pidfd.open(target.pid);
    const s = socketIn(p, { family: 'inet', type: 'stream', bind: { address: '127.0.0.1', port: 0 }, reuseAddr: true });
    expect(cloexec(s.fd)).toBe(true);
    {
      using sns = socketNamespace(s);
      using tns = p.namespace('net');
      using ours = Namespace.current('net');
      expect(sns.equals(tns)).toBe(true);
      expect(sns.equals(ours)).toBe(false);
    }
    let accepted = 0;
    const server = net.createServer((c) => {
      accepted++;
      c.end('hello from the netns\n');
    });
    await new Promise<void>((r) => server.listen({ fd: s.release() }, r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      // A client socket made in the same netns, connected by Node.
      const c = socketIn(p, { family: 'inet', type: 'stream' });
      const sock = new net.Socket({ fd: c.release() });
      let data = '';
      sock.on('data', (d) => (data += d));
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.once('close', () => resolve());
        sock.connect(port, '127.0.0.1');
      });
      expect(data).toBe('hello from the netns\n');
      expect(accepted).toBe(1);
      // The same port from the host's netns is not our server.
      await new Promise<void>((resolve) => {
        const h = net.connect(port, '127.0.0.1');
        h.on('error', () => resolve());
        h.on('connect', () => {
          h.destroy();
          resolve();
        });
      });
      expect(accepted).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('UDP through dgram: bound in the target netns, datagram from another socket there', async () => {
    using p = Pidfd.open(target.pid);
    const rs = socketIn(p, { family: 'inet', type: 'dgram', bind: { address: '127.0.0.1' } });
    const recv = dgram.createSocket('udp4');
    await new Promise<void>((r) => recv.bind({ fd: rs.release() }, () => r()));
    const port = recv.address().port;
    const ss = socketIn(p, { family: 'inet', type: 'dgram' });
    const send = dgram.createSocket('udp4');
    await new Promise<void>((r) => send.bind({ fd: ss.release() }, () => r()));
    const got = new Promise<string>((r) => recv.once('message', (m) => r(m.toString())));
    send.send('ping', port, '127.0.0.1');
    expect(await got).toBe('ping');
    await new Promise<void>((r) => send.close(() => r()));
    await new Promise<void>((r) => recv.close(() => r()));
  });

  it('inet6 with ipv6Only, bound to ::1 inside', () => {
    using p = Pidfd.open(target.pid);
    using s = socketIn(p, { family: 'inet6', type: 'stream', ipv6Only: true, bind: { address: '::1', port: 0 } });
    using sns = socketNamespace(s);
    using tns = p.namespace('net');
    expect(sns.equals(tns)).toBe(true);
  });

  it('a netlink route socket sees only the target netns links (just lo)', () => {
    using p = Pidfd.open(target.pid);
    using s = socketIn(p, { family: 'netlink', type: 'raw', protocol: 'route' });
    const names = dumpLinks(s.fd);
    expect(names).toEqual(['lo']);
    // The same call with our own netns as the target sees ours (socketIn only borrows the Namespace).
    // Rootless too: our own netns needs no setns (which would take CAP_SYS_ADMIN in the initial user ns).
    using cur = Namespace.current('net');
    using ours = socketIn(cur, { family: 'netlink', type: 'raw', protocol: 'route' });
    const hostLinks = fs.readdirSync('/sys/class/net').sort();
    expect(dumpLinks(ours.fd).sort()).toEqual(hostLinks);
    using self = Pidfd.self();
    using viaPidfd = socketIn(self, { family: 'netlink', type: 'raw', protocol: 'route' });
    expect(dumpLinks(viaPidfd.fd).sort()).toEqual(hostLinks);
  });

  it.runIf(hasPython)('abstract unix sockets are per netns: a listener inside is not reachable from the host', async () => {
    using p = Pidfd.open(target.pid);
    const name = `nsfd-inns-${process.pid}`;
    const s = socketIn(p, { family: 'unix', type: 'stream', bind: { path: `@${name}` } });
    const server = net.createServer((c) => c.end('unix inside'));
    await new Promise<void>((r) => server.listen({ fd: s.release() }, r));
    // (Node 20 cannot connect to abstract names: python3 is the client.)
    const client = `import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect("\\0${name}"); print(s.recv(100).decode())\nexcept OSError as e: print(e.errno)`;
    const run = (pre: string[]) => new Promise<string>((resolve) => {
      execFile(pre[0] as string, [...pre.slice(1), 'python3', '-c', client], (_e, stdout) => resolve(stdout.trim()));
    });
    try {
      expect(await run(['nsenter', '-t', String(target.pid), ...userArgs, '-n'])).toBe('unix inside');
      expect(await run(['env'])).toBe(String(os.constants.errno.ECONNREFUSED));
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('takes a net Namespace, or a list with one, as the target', () => {
    using p = Pidfd.open(target.pid);
    using netns = p.namespace('net');
    using uts = p.namespace('uts');
    using a = socketIn(netns, { family: 'inet', type: 'dgram' });
    using b = socketIn([uts, netns], { family: 'inet', type: 'dgram' });
    for (const s of [a, b]) {
      using sns = socketNamespace(s);
      expect(sns.equals(netns)).toBe(true);
    }
    expect(() => socketIn(uts, { family: 'inet', type: 'dgram' })).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'socketIn' }));
  });

  it('bad input: typed errors, no fd leaked', () => {
    using p = Pidfd.open(target.pid);
    const bad: [unknown, string][] = [
      [{ family: 'ipx', type: 'stream' }, 'ERR_INVALID_ARG_VALUE'],
      [{ family: 'inet', type: 'bogus' }, 'ERR_INVALID_ARG_VALUE'],
      [{ family: 'inet', type: 'stream', protocol: 'route' }, 'ERR_INVALID_ARG_VALUE'],
      [{ family: 'inet', type: 'stream', protocol: -1 }, 'ERR_OUT_OF_RANGE'],
      [{ family: 'inet', type: 'stream', bind: { port: 70000 } }, 'ERR_OUT_OF_RANGE'],
      [{ family: 'inet', type: 'stream', bind: { address: '::1' } }, 'ERR_INVALID_ARG_VALUE'],
      [{ family: 'inet', type: 'stream', ipv6Only: true }, 'ERR_INVALID_ARG_VALUE'],
      [null, 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [opts, code] of bad) {
      expect(() => socketIn(p, opts as never)).toThrow(expect.objectContaining({ code }));
    }
    expect(() => socketIn({} as never, { family: 'inet', type: 'stream' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    // The kernel's own refusals arrive as NsError with the step that failed.
    const e1 = catchErr(() => socketIn(p, { family: 'inet', type: 'stream', protocol: 17 }));
    expect(e1).toBeInstanceOf(NsError);
    expect(e1).toMatchObject({ code: 'EPROTONOSUPPORT', syscall: 'socket', pid: target.pid });
    const e2 = catchErr(() => socketIn(p, { family: 'inet', type: 'stream', bind: { address: '10.254.254.254' } }));
    expect(e2).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind' });
  });

  it('an exited target: ESRCH, and a closed pidfd: EBADF', async () => {
    const t = await startTarget({ types: ['net'] });
    const p = Pidfd.open(t.pid);
    await t.stop();
    // Rootless, socketIn first asks the pidfd for the target's net ns (is it ours?): that is where ESRCH shows.
    expect(catchErr(() => socketIn(p, { family: 'inet', type: 'stream' }))).toMatchObject({ code: 'ESRCH', syscall: isRoot ? 'setns' : 'ioctl(PIDFD_GET_NET_NAMESPACE)', pid: t.pid });
    p.close();
    expect(catchErr(() => socketIn(p, { family: 'inet', type: 'stream' }))).toMatchObject({ code: 'EBADF' });
  });
});

describe(isRoot ? 'openIn and friends (as root)' : 'openIn and friends (rootless: as the target user namespace\'s root)', () => {
  it("resolves mounts of the target's mount namespace (a tmpfs mounted there, invisible here)", () => {
    execFileSync('nsenter', ['-t', String(target.pid), ...userArgs, '-m', 'sh', '-c', 'mkdir -p /mnt/inns && mount -t tmpfs nsfd-inns /mnt/inns && echo in-tmpfs > /mnt/inns/f']);
    using p = Pidfd.open(target.pid);
    expect(readFileIn(p, '/mnt/inns/f', 'utf8')).toBe('in-tmpfs\n');
    expect(fs.existsSync('/mnt/inns/f')).toBe(false);
    using f = openIn(p, '/mnt/inns/f');
    expect(cloexec(f.fd)).toBe(true);
    // Same file as the target sees (its own /proc/PID/root view).
    expect(fs.fstatSync(f.fd).ino).toBe(fs.statSync(`/proc/${target.pid}/root/mnt/inns/f`).ino);
    // A bare mount Namespace (helper child path) sees it too.
    using mnt = p.namespace('mnt');
    expect(readFileIn(mnt, '/mnt/inns/f', 'utf8')).toBe('in-tmpfs\n');
  });

  it('reads under the root of a pivoted and of a chrooted target', () => {
    for (const t of [pivoted, chrooted]) {
      using p = Pidfd.open(t.pid);
      expect(readFileIn(p, '/etc/marker', 'utf8')).toBe('CONTAINER\n');
      expect(readFileIn(p, 'etc/marker', 'utf8')).toBe('CONTAINER\n');
      expect(readFileIn(p, '/../../../../etc/marker', 'utf8')).toBe('CONTAINER\n');
    }
    using pm = Pidfd.open(pivoted.pid);
    using mnt = pm.namespace('mnt');
    expect(readFileIn(mnt, '/etc/marker', 'utf8')).toBe('CONTAINER\n');
  });

  it('never opens outside the root: symlinks to /, ../.., absolute host paths, magic links (direct and helper paths)', () => {
    const secret = fs.statSync(path.join(fsx.host, 'etc/marker'));
    const secretId = `${secret.dev}:${secret.ino}`;
    using pp = Pidfd.open(pivoted.pid);
    using pc = Pidfd.open(chrooted.pid);
    using mnt = pp.namespace('mnt');
    const targets: [string, Pidfd | Namespace][] = [
      ['pivoted pidfd (direct)', pp],
      ['chrooted pidfd (direct)', pc],
      ['pivoted mnt namespace (helper)', mnt],
    ];
    for (const [name, t] of targets) {
      // Clamped at the root: the container's own file.
      for (const p of ['/to-slash/etc/marker', '/a/to-dotdot/etc/marker', '/a/dotdot-marker', '/to-slash/../../../etc/marker']) {
        using f = openIn(t, p);
        expect(inodeOf(f), `${name} ${p}`).not.toBe(secretId);
        expect(fs.readFileSync(f.fd, 'utf8'), `${name} ${p}`).toBe('CONTAINER\n');
      }
      // Absolute host paths mean paths under the root, where they do not exist.
      for (const p of ['/to-host-abs', '/to-host-dir/etc/marker', path.join(fsx.host, 'etc/marker')]) {
        expect(catchErr(() => openIn(t, p)), `${name} ${p}`).toMatchObject({ code: 'ENOENT', syscall: 'openat2' });
      }
      // Magic links are refused (or, when not visible in the target's /proc, absent).
      for (const p of ['/magic-1/etc/marker', '/magic-cwd', '/proc/1/root/etc/marker', '/proc/1/exe']) {
        const e = catchErr(() => openIn(t, p));
        if (t === pc) {
          // The chrooted target has no /proc of its own.
          expect(e, `${name} ${p}`).toMatchObject({ code: 'ENOENT' });
        } else {
          expect(e, `${name} ${p}`).toMatchObject({ code: 'ELOOP', syscall: 'openat2' });
        }
      }
      const e = catchErr(() => openIn(t, '/magic-self/etc/marker'));
      expect(['ELOOP', 'ENOENT']).toContain((e as NsError).code);
    }
  });

  it('the classic escapes do work without openat2 (the bait is real)', () => {
    // A plain path walk through /proc/PID/root follows an absolute symlink
    // out of the root; openIn (above) did not.
    expect(fs.readFileSync(`/proc/${chrooted.pid}/root/to-host-abs`, 'utf8')).toBe('HOST-SECRET\n');
  });

  it('a directory renamed out of the root mid-lookup never lets ".." escape', async () => {
    const secret = fs.statSync(path.join(fsx.host, 'etc/marker'));
    using pc = Pidfd.open(chrooted.pid);
    using pp = Pidfd.open(pivoted.pid);
    using mnt = pp.namespace('mnt');
    const racer = R.startRacer(fsx.host, 'rename');
    const seen: Record<string, number> = {};
    try {
      const runs: [Pidfd | Namespace, number][] = [
        [pc, 4000],
        [pp, 2000],
        [mnt, 500],
      ];
      for (const [t, n] of runs) {
        for (let i = 0; i < n; i++) {
          let f: OwnedFd;
          try {
            f = openIn(t, R.DEEP_PATH);
          } catch (err) {
            // ENOENT while b is outside; EAGAIN if the race persisted.
            expect(['ENOENT', 'EAGAIN', 'EXDEV']).toContain((err as NsError).code);
            seen[(err as NsError).code] = (seen[(err as NsError).code] ?? 0) + 1;
            continue;
          }
          const st = fs.fstatSync(f.fd);
          f.close();
          expect(st.ino === secret.ino && st.dev === secret.dev).toBe(false);
          seen.ok = (seen.ok ?? 0) + 1;
        }
      }
    } finally {
      await racer.stop();
    }
    // Some lookups went through: the test exercised the path, not only errors.
    expect(seen.ok ?? 0).toBeGreaterThan(0);
  }, 120000); // rootless, each openIn forks a helper child while the racer keeps a core busy: slower on a loaded machine

  it('a file swapped with a symlink to a host path while being opened', async () => {
    const secret = fs.statSync(path.join(fsx.host, 'etc/marker'));
    using pc = Pidfd.open(chrooted.pid);
    using pp = Pidfd.open(pivoted.pid);
    using mnt = pp.namespace('mnt');
    const racer = R.startRacer(fsx.host, 'swap');
    let ok = 0;
    try {
      for (const [t, n] of [
        [pc, 3000],
        [mnt, 300],
      ] as const) {
        for (let i = 0; i < n; i++) {
          let f: OwnedFd;
          try {
            f = openIn(t, '/swap');
          } catch (err) {
            expect(['ENOENT', 'EAGAIN']).toContain((err as NsError).code);
            continue;
          }
          const st = fs.fstatSync(f.fd);
          const text = fs.readFileSync(f.fd, 'utf8');
          f.close();
          expect(st.ino === secret.ino && st.dev === secret.dev).toBe(false);
          expect(text).toBe('CONTAINER-SWAP\n');
          ok++;
        }
      }
    } finally {
      await racer.stop();
    }
    expect(ok).toBeGreaterThan(0);
  }, 120000); // rootless, each openIn forks a helper child while the racer keeps a core busy: slower on a loaded machine

  it('creates files with fs.open flags and a mode; honours x, a, +', () => {
    using p = Pidfd.open(pivoted.pid);
    const host = (rel: string) => path.join(fsx.root, rel);
    const umask = process.umask();
    writeFileIn(p, '/tmp/w.txt', 'one\n', { mode: 0o640 });
    expect(fs.readFileSync(host('tmp/w.txt'), 'utf8')).toBe('one\n');
    expect(fs.statSync(host('tmp/w.txt')).mode & 0o777).toBe(0o640 & ~umask);
    writeFileIn(p, '/tmp/w.txt', 'two\n', { flag: 'a' });
    expect(readFileIn(p, '/tmp/w.txt', 'utf8')).toBe('one\ntwo\n');
    expect(catchErr(() => openIn(p, '/tmp/w.txt', 'wx'))).toMatchObject({ code: 'EEXIST', syscall: 'openat2', path: '/tmp/w.txt' });
    {
      using f = openIn(p, '/tmp/w.txt', 'r+');
      fs.writeSync(f.fd, 'ONE');
    }
    expect(fs.readFileSync(host('tmp/w.txt'), 'utf8')).toBe('ONE\ntwo\n');
    {
      using f = openIn(p, '/tmp/n.txt', fs.constants.O_CREAT | fs.constants.O_WRONLY, 0o600);
      expect(cloexec(f.fd)).toBe(true);
      expect(native.fcntl_getfl(f.fd) & 3).toBe(fs.constants.O_WRONLY);
    }
    expect(fs.statSync(host('tmp/n.txt')).mode & 0o777).toBe(0o600 & ~umask);
    // A write through a symlink to an absolute host path lands inside the root.
    fs.symlinkSync(path.join(fsx.host, 'x/planted'), host('tmp/plant'));
    expect(catchErr(() => writeFileIn(p, '/tmp/plant', 'planted'))).toMatchObject({ code: 'ENOENT' });
    const inside = path.join(fsx.root, fsx.host);
    fs.mkdirSync(path.join(inside, 'x'), { recursive: true });
    try {
      writeFileIn(p, '/tmp/plant', 'planted');
      expect(fs.existsSync(path.join(fsx.host, 'x/planted'))).toBe(false);
      expect(fs.readFileSync(path.join(inside, 'x/planted'), 'utf8')).toBe('planted');
    } finally {
      fs.rmSync(path.join(fsx.root, fsx.host.split('/')[1] as string, fsx.host.split('/')[2] as string), { recursive: true, force: true });
    }
    // The handle works with Node streams once released to them.
    const f = openIn(p, '/etc/marker');
    const stream = fs.createReadStream('', { fd: f.release() });
    return new Promise<void>((resolve, reject) => {
      let text = '';
      stream.on('data', (d) => (text += d));
      stream.on('error', reject);
      stream.on('close', () => {
        expect(text).toBe('CONTAINER\n');
        resolve();
      });
    });
  });

  it('flags: every fs.open string, numbers pass through, others are TypeErrors', () => {
    const C = fs.constants;
    expect(openFlags('r')).toBe(C.O_RDONLY);
    expect(openFlags('w')).toBe(C.O_TRUNC | C.O_CREAT | C.O_WRONLY);
    expect(openFlags('a+')).toBe(C.O_APPEND | C.O_CREAT | C.O_RDWR);
    expect(openFlags('wx')).toBe(C.O_TRUNC | C.O_CREAT | C.O_WRONLY | C.O_EXCL);
    expect(openFlags(C.O_RDWR | C.O_NOFOLLOW)).toBe(C.O_RDWR | C.O_NOFOLLOW);
    using p = Pidfd.open(pivoted.pid);
    expect(() => openIn(p, '/etc/marker', 'rw')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => openIn(p, '/etc/marker', -1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => openIn(p, '')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => openIn(p, 'a\0b')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => openIn(p, '/x', 'w', 0o10000)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    // O_NOFOLLOW on a symlink: the kernel's ELOOP, typed.
    expect(catchErr(() => openIn(p, '/to-slash', C.O_NOFOLLOW | C.O_RDONLY))).toMatchObject({ code: 'ELOOP', syscall: 'openat2' });
  });

  it('mkdirIn: single, recursive, EEXIST, ENOENT, and never through a symlink out of the root', () => {
    using p = Pidfd.open(pivoted.pid);
    using mnt = p.namespace('mnt');
    for (const [name, t] of [
      ['direct', p],
      ['helper', mnt],
    ] as const) {
      mkdirIn(t, `/tmp/${name}-one`, 0o750);
      expect(fs.statSync(path.join(fsx.root, `tmp/${name}-one`)).isDirectory()).toBe(true);
      expect(catchErr(() => mkdirIn(t, `/tmp/${name}-one`))).toMatchObject({ code: 'EEXIST', syscall: 'mkdirat' });
      expect(catchErr(() => mkdirIn(t, `/tmp/${name}-no/such`))).toMatchObject({ code: 'ENOENT' });
      mkdirIn(t, `/tmp/${name}-deep/x/y/z`, { recursive: true });
      mkdirIn(t, `/tmp/${name}-deep/x/y/z`, { recursive: true });
      expect(fs.statSync(path.join(fsx.root, `tmp/${name}-deep/x/y/z`)).isDirectory()).toBe(true);
      // Through a symlink to "/" it stays inside: /to-slash/tmp/... is /tmp/...
      mkdirIn(t, `/to-slash/tmp/${name}-via-link`);
      expect(fs.statSync(path.join(fsx.root, `tmp/${name}-via-link`)).isDirectory()).toBe(true);
      // Through a symlink to the host's directory: under the root, which has no such path.
      expect(catchErr(() => mkdirIn(t, `/to-host-dir/x/${name}-escaped`))).toMatchObject({ code: 'ENOENT' });
      expect(fs.existsSync(path.join(fsx.host, `x/${name}-escaped`))).toBe(false);
      // Recursive: the link dangles under the root, like mkdir -p through a dangling link.
      expect(catchErr(() => mkdirIn(t, `/to-host-dir/x/${name}-escaped`, { recursive: true }))).toMatchObject({ code: 'ENOENT' });
      expect(fs.existsSync(path.join(fsx.host, `x/${name}-escaped`))).toBe(false);
      // A file in the way.
      expect(catchErr(() => mkdirIn(t, '/etc/marker/sub', { recursive: true }))).toMatchObject({ code: 'ENOTDIR' });
    }
  });

  it('a Namespace target without a mount namespace is a typed error; Namespace[] picks the mnt one', () => {
    using p = Pidfd.open(pivoted.pid);
    using netns = p.namespace('net');
    using mnt = p.namespace('mnt');
    expect(catchErr(() => openIn(netns, '/etc/marker'))).toMatchObject({ code: 'EINVAL', syscall: 'openIn' });
    expect(readFileIn([netns, mnt], '/etc/marker', 'utf8')).toBe('CONTAINER\n');
  });

  it('an exited target: ESRCH (pid rechecked through the pidfd), no fd left', async () => {
    const t = await startTarget({ types: ['mount'] });
    const p = Pidfd.open(t.pid);
    expect(readFileIn(p, '/etc/hostname', 'utf8')).toBe(fs.readFileSync('/etc/hostname', 'utf8'));
    await t.stop();
    expect(catchErr(() => openIn(p, '/etc/hostname'))).toMatchObject({ code: 'ESRCH', pid: t.pid });
    expect(catchErr(() => mkdirIn(p, '/tmp/x'))).toMatchObject({ code: 'ESRCH' });
    p.close();
  });
});

needsRoot('runs a fixture as another user (uid 65534): setuid').describe('unprivileged (nobody): the helper child joins the user namespace', () => {
  it('sockets, files and mkdir in a rootless target; EPERM on a root-owned one', () => {
    const r = runFixture('inns-rootless.js', [String(target.pid)], { uid: 65534, gid: 65534 });
    const out = JSON.parse(r.stdout || '{}') as Record<string, unknown>;
    expect(r.stderr).not.toMatch(/Error|Warning/);
    expect(out).toMatchObject({
      uid: 65534,
      socketNetnsIsTargets: true,
      boundPort80: true,
      cloexec: true,
      listenServed: 'rootless hello',
      readMarker: 'CONTAINER\n',
      wroteOwnerUid: 65534,
      mkdirOk: true,
      escapes: 0,
      magic: 'ELOOP',
      socketRootTarget: { code: 'EPERM', syscall: 'setns' },
      fdsLeaked: 0,
      childrenLeft: '',
    });
    expect(['EACCES', 'EPERM']).toContain((out.openRootTarget as { code: string }).code);
    expect(out.raceOk as number).toBeGreaterThan(0);
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

/** RTM_GETLINK dump over a netlink route socket: the interface names. */
function dumpLinks(fd: number): string[] {
  const req = Buffer.alloc(32);
  req.writeUInt32LE(32, 0); // nlmsg_len
  req.writeUInt16LE(18, 4); // RTM_GETLINK
  req.writeUInt16LE(0x301, 6); // NLM_F_REQUEST | NLM_F_DUMP
  req.writeUInt32LE(1, 8); // seq
  fs.writeSync(fd, req);
  const names: string[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    let off = 0;
    while (off + 16 <= n) {
      const len = buf.readUInt32LE(off);
      const type = buf.readUInt16LE(off + 4);
      if (type === 3) return names; // NLMSG_DONE
      if (type === 2) throw new Error('netlink error'); // NLMSG_ERROR
      if (type === 16) {
        // RTM_NEWLINK: ifinfomsg (16 bytes), then rtattrs.
        let a = off + 32;
        while (a + 4 <= off + len) {
          const alen = buf.readUInt16LE(a);
          const atype = buf.readUInt16LE(a + 2);
          if (alen < 4) break;
          if (atype === 3) names.push(buf.toString('latin1', a + 4, a + alen).replace(/\0.*$/, ''));
          a += (alen + 3) & ~3;
        }
      }
      off += (len + 3) & ~3;
    }
  }
}
