// Security findings against lib/inside/ (the *In() file operations and the
// native inns entries), each reproduced as its attack:
//   1. a target points a path at its own pty: openIn must not make it the
//      controlling terminal of a session-leader Node (O_NOCTTY);
//   2. a FIFO or device planted by the target must not block the event
//      loop, and readFileIn reads regular files only, bounded (maxSize);
//   3. the native inns entries check each op's argument arity and types
//      before any syscall (a TypeError);
//   4. file operations on a target in another user namespace act as that
//      namespace's root, never as host root.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NsError, Pidfd, openIn, readFileIn, spawn, writeFileIn } from '../lib/index';
import * as R from './fixtures/inns-rootfs.js';
import { checkLeaksPerTest, childPids, isRoot, needsRoot, threadCount, warmUp, fixturePath } from './helpers';

const fixture = fixturePath;
const hasPython = spawnSync('python3', ['-c', '1']).status === 0;

beforeAll(async () => {
  await warmUp();
});
checkLeaksPerTest({ threads: threadCount, children: childPids });

describe.runIf(hasPython)('1. O_NOCTTY on every open made for a target (a python3 target holds the pty: skipped without python3)', () => {
  it('openIn of a pty slave the target points at: a session leader without a controlling tty does not acquire it', () => {
    const r = spawnSync('setsid', ['-w', process.execPath, fixture('sec-ctty.js')], { encoding: 'utf8', timeout: 20000 });
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { before: number; after: number; leader: boolean; opened: boolean; error?: string };
    // The attack's preconditions held: we lead a session and have no tty.
    expect(o.leader).toBe(true);
    expect(o.before).toBe(0);
    expect(o.error).toBeUndefined();
    expect(o.opened).toBe(true);
    // Without O_NOCTTY the slave became our controlling terminal here.
    expect(o.after).toBe(0);
  });
});

describe('2. a FIFO or device under the target\'s root never blocks the event loop', () => {
  let fsx: R.Rootfs;
  let pivoted: R.Started;
  beforeAll(async () => {
    fsx = R.makeRootfs('nsfd-sec-block-');
    execFileSync('mkfifo', [path.join(fsx.root, 'fifo')]);
    // Rootless, no device node can be made (CAP_MKNOD): the /zero test is skipped then.
    if (isRoot) execFileSync('mknod', ['-m', '666', path.join(fsx.root, 'dev/zero'), 'c', '1', '5']);
    fs.symlinkSync('/dev/zero', path.join(fsx.root, 'zero'));
    fs.writeFileSync(path.join(fsx.root, 'big'), Buffer.alloc(64 * 1024, 'b'));
    pivoted = await R.startPivoted(fsx.root);
  });
  afterAll(async () => {
    await pivoted?.stop();
    fsx?.cleanup();
  });

  type Out = { ms: number; ticks: number; result?: string; flags?: number; code?: string; name?: string; message?: string };
  const call = (kase: string, file: string): Out => {
    const r = spawnSync(process.execPath, [fixture('sec-block.js'), String(pivoted.pid), kase, file], { encoding: 'utf8', timeout: 8000 });
    expect(r.signal, `${kase} ${file}: blocked (killed after 8 s); ${r.stderr}`).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as Out;
    expect(o.ms, `${kase} ${file} took ${o.ms} ms`).toBeLessThan(1000);
    expect(o.ticks, 'timers fired after the call').toBeGreaterThan(0);
    return o;
  };

  it('openIn(fifo, "r") returns promptly, an fd with O_NONBLOCK set', () => {
    const o = call('openIn-r', '/fifo');
    expect(o.result).toBe('fd');
    expect((o.flags ?? 0) & fs.constants.O_NONBLOCK).not.toBe(0);
  });
  it('openIn(fifo, "r") through a Namespace target (the helper child) returns promptly', () => {
    expect(call('ns-openIn-r', '/fifo').result).toBe('fd');
  });
  it('openIn(fifo, "w") with no reader fails at once with ENXIO', () => {
    expect(call('openIn-w', '/fifo')).toMatchObject({ name: 'NsError', code: 'ENXIO' });
  });
  it('readFileIn(fifo) and writeFileIn(fifo) fail promptly: not regular files', () => {
    expect(call('readFileIn', '/fifo')).toMatchObject({ name: 'NsError', code: 'EINVAL', message: expect.stringContaining('not a regular file') });
    expect(call('writeFileIn', '/fifo')).toMatchObject({ name: 'NsError', code: 'ENXIO' });
  });
  needsRoot('mknod of the /dev/zero device node in the target\'s root (CAP_MKNOD)').it('readFileIn / writeFileIn on a symlink to /dev/zero fail at once; openIn returns it', () => {
    expect(call('readFileIn', '/zero')).toMatchObject({ name: 'NsError', code: 'EINVAL', message: expect.stringContaining('not a regular file') });
    expect(call('writeFileIn', '/zero')).toMatchObject({ name: 'NsError', code: 'EINVAL', message: expect.stringContaining('not a regular file') });
    expect(call('openIn-r', '/zero').result).toBe('fd');
  });
  it('openIn of a regular file: O_NONBLOCK is not left set (unless asked for)', () => {
    using p = Pidfd.open(pivoted.pid);
    using f = openIn(p, '/etc/marker');
    const o = call('openIn-r', '/etc/marker');
    expect((o.flags ?? 0) & fs.constants.O_NONBLOCK).toBe(0);
    expect(fs.readFileSync(f.fd, 'utf8')).toBe('CONTAINER\n');
    using nb = openIn(p, '/etc/marker', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    expect(fs.readFileSync(nb.fd, 'utf8')).toBe('CONTAINER\n');
  });
  it('readFileIn is bounded: maxSize (default 64 MiB), checked while reading', () => {
    using p = Pidfd.open(pivoted.pid);
    expect(readFileIn(p, '/big').length).toBe(64 * 1024);
    expect(readFileIn(p, '/big', { maxSize: 64 * 1024 }).length).toBe(64 * 1024);
    expect(() => readFileIn(p, '/big', { maxSize: 1000 })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_FS_FILE_TOO_LARGE' }));
    expect(() => readFileIn(p, '/big', { maxSize: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(readFileIn(p, '/etc/marker', { encoding: 'utf8', maxSize: 10 })).toBe('CONTAINER\n');
  });
});

describe('3. native inns entries check arity and types before any syscall', () => {
  it('every op with short, long and missing arrays through inns_direct, inns_thread and inns_helper: a TypeError', () => {
    // In namespaces of its own: an unchecked call acts on garbage there.
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-arity-'));
    try {
      const r = spawnSync('unshare', ['--user', '--map-root-user', '--mount', '--uts', '--net', '--ipc', process.execPath, fixture('sec-arity.js')], {
        encoding: 'utf8',
        timeout: 30000,
        cwd,
      });
      expect(r.signal, r.stderr.slice(-2000)).toBeNull();
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const o = JSON.parse(r.stdout) as { calls: number; wrong: { call: string; result: string }[] };
      expect(o.calls).toBeGreaterThan(100);
      expect(o.wrong).toEqual([]);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});

needsRoot('the target maps host ids 100000-165535 and files are made root-owned: writing such maps and owning host root files (CAP_SETUID, CAP_SETGID, CAP_CHOWN)').describe('4. file operations in another user namespace act as its root, not host root', () => {
  let dir: string;
  let target: ReturnType<typeof spawn>;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-sec-userns-'));
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'secret'), 'HOST-ROOT-ONLY\n', { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'group-secret'), 'HOST-ROOT-GROUP\n', { mode: 0o640 });
    fs.mkdirSync(path.join(dir, 'drop'), { mode: 0o1777 });
    fs.chmodSync(path.join(dir, 'drop'), 0o1777);
    // Its root is the host's "/" (no pivot): what a chroot escape gives.
    target = spawn('sleep', ['100000'], {
      unshare: ['user', 'mnt'],
      uidMap: [{ inside: 0, outside: 100000, count: 65536 }],
      gidMap: [{ inside: 0, outside: 100000, count: 65536 }],
      uid: 0,
      gid: 0,
      stdio: 'ignore',
    });
    await R.until(() => fs.readFileSync(`/proc/${target.pid}/comm`, 'latin1').trim() === 'sleep', 'the target exec');
  });
  afterAll(async () => {
    if (target) {
      target.kill('SIGKILL');
      await target.exited;
      target.close();
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('readFileIn of a host root 0600 (and root-group 0640) file: EACCES', () => {
    using p = Pidfd.open(target.pid);
    expect(() => readFileIn(p, path.join(dir, 'secret'), 'utf8')).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(() => readFileIn(p, path.join(dir, 'group-secret'), 'utf8')).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(() => openIn(p, path.join(dir, 'secret'), 'r')).toThrow(NsError);
  });

  it('a caller with supplementary group 0 does not keep it in there: a root-group 0640 file stays closed', () => {
    const code = `const nsfd=require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'index.js'))});
      const groups=require('fs').readFileSync('/proc/self/status','latin1').match(/^Groups:(.*)$/m)[1].trim();
      const p=nsfd.Pidfd.open(${target.pid});let r;
      try{r=nsfd.readFileIn(p,${JSON.stringify(path.join(dir, 'group-secret'))},'utf8')}catch(e){r=e.code}
      console.log(JSON.stringify({groups,r}));p.close();`;
    const r = spawnSync('setpriv', ['--groups', '0', process.execPath, '-e', code], { encoding: 'utf8', timeout: 20000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ groups: '0', r: 'EACCES' });
  });

  it('the same through a Namespace target (its mount namespace: the helper joins the owning user namespace first)', () => {
    using p = Pidfd.open(target.pid);
    using m = p.namespace('mnt');
    expect(() => readFileIn([m], path.join(dir, 'secret'), 'utf8')).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(() => openIn([m], path.join(dir, 'group-secret'))).toThrow(expect.objectContaining({ code: 'EACCES' }));
    const f = path.join(dir, 'drop', 'made-ns');
    writeFileIn([m], f, 'x');
    expect([fs.statSync(f).uid, fs.statSync(f).gid]).toEqual([100000, 100000]);
    // What the namespace's root may read, it reads.
    fs.writeFileSync(path.join(dir, 'public'), 'PUBLIC\n', { mode: 0o644 });
    expect(readFileIn([m], path.join(dir, 'public'), 'utf8')).toBe('PUBLIC\n');
    expect(readFileIn(p, path.join(dir, 'public'), 'utf8')).toBe('PUBLIC\n');
  });

  it('a user namespace that maps no root: refused (never host ids in there)', async () => {
    const t = spawn('sleep', ['100000'], {
      unshare: ['user', 'mnt'],
      uidMap: [{ inside: 1000, outside: 101000, count: 1 }],
      gidMap: [{ inside: 1000, outside: 101000, count: 1 }],
      uid: 1000,
      gid: 1000,
      stdio: 'ignore',
    });
    try {
      await R.until(() => fs.readFileSync(`/proc/${t.pid}/comm`, 'latin1').trim() === 'sleep', 'the target exec');
      using p = Pidfd.open(t.pid);
      expect(() => readFileIn(p, path.join(dir, 'secret'))).toThrow(expect.objectContaining({ name: 'NsError', code: 'EINVAL', syscall: expect.stringMatching(/^setres[ug]id$/) }));
    } finally {
      t.kill('SIGKILL');
      await t.exited;
      t.close();
    }
  });

  it('writeFileIn creates files owned by the namespace root (host uid/gid 100000), not host root', () => {
    using p = Pidfd.open(target.pid);
    const f = path.join(dir, 'drop', 'made');
    writeFileIn(p, f, 'x');
    const st = fs.statSync(f);
    expect([st.uid, st.gid]).toEqual([100000, 100000]);
  });
});
