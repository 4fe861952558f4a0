// Hardening: stale handles after pid reuse, and joins refused part-way.
// Both run in fixtures, in namespaces of their own: the pid-reuse fixture is
// pid 1 of a new pid namespace, where it may steer the next pid by writing
// /proc/sys/kernel/ns_last_pid; the atomic-attach fixture runs as nobody in
// a user namespace, next to namespaces it may and may not join.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { feat, isRoot, needsRoot, repoRoot, fixturePath } from './helpers';

const fixture = fixturePath;
const asNobody = { uid: 65534, gid: 65534 };

function runReuse(args: string[], asUser: boolean, mode: 'cp' | 'spawn') {
  // Rootless, every run is in a user ns of its own (mapping root to us), which
  // a new pid ns and writing its ns_last_pid need; we are already unprivileged.
  const cmd = asUser || !isRoot
    ? ['--user', '--map-root-user', '--pid', '--fork', '--mount-proc']
    : ['--pid', '--fork', '--mount-proc'];
  const r = spawnSync('unshare', [...cmd, process.execPath, fixture('reuse-pid.js'), mode, ...args], {
    encoding: 'utf8',
    timeout: 60000,
    cwd: '/',
    ...(asUser && isRoot ? asNobody : {}),
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

// Every operation on the stale handle, with what it must give.
const ESRCH = { code: 'ESRCH', typed: true };
function checkReuse(o: Record<string, any>) {
  expect(o.pid).toBe(1);
  expect(o.aGone).toBe(true);
  expect(o.reused).toBe(true); // B really has A's old pid
  expect(o.freshIsB).toBe(true); // a pid lookup now finds B, a different process
  expect(o.bNsDiffer).toBe(true);
  const s = o.steps;
  for (const sig of ['0', 'SIGTERM', 'SIGKILL', 'SIGSTOP', 'SIGCONT', '9']) expect(s[`sendSignal(${sig})`]).toMatchObject(ESRCH);
  expect(s['kill()']).toMatchObject(ESRCH);
  expect(s['recheck']).toMatchObject(ESRCH);
  expect(s['isAlive']).toEqual({ ok: false });
  expect(s['info']).toMatchObject(ESRCH);
  for (const t of ['user', 'mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup', 'time']) {
    // A type compiled out of the kernel may say EOPNOTSUPP; never a namespace of B's.
    expect(s[`namespace(${t})`].code).toMatch(/^(ESRCH|EOPNOTSUPP)$/);
  }
  expect(s['namespaces()']).toMatchObject(ESRCH);
  expect(s['getfd(0)']).toMatchObject(ESRCH);
  expect(s['getfd(1)']).toMatchObject(ESRCH);
  // pidfs ids (6.9+) survive the exit; before that, asking is an UnsupportedError.
  if (feat.pidfs.available) expect(s['id'].ok).toMatch(/^\d+$/);
  else expect(s['id']).toMatchObject({ code: 'EOPNOTSUPP' });
  // A's fate (SIGKILL) where the kernel keeps it for pidfds, or where the
  // handle (or the one it is a dup of) reaped A itself (mode spawn); else
  // unknown. Never B's (B is alive).
  const aStatus = feat.pidfd_info_exit.available || o.mode === 'spawn' ? { code: null, signal: 'SIGKILL' } : { code: null, signal: null };
  expect(s['wait()']).toEqual({ ok: aStatus });
  expect(s['wait({reap:true})']).toEqual({ ok: aStatus });
  expect(s['attach(old)']).toMatchObject(ESRCH);
  expect(s['attach(old,[net])']).toMatchObject(ESRCH);
  expect(s['translatePid(1,{from})']).toMatchObject(ESRCH);
  expect(s['translatePid(self,{to})']).toMatchObject(ESRCH);
  expect(s['translatePid(aPid,{tgid})']).toMatchObject(ESRCH);
  if (feat.pidfs.available) {
    expect(s['open({id})']).toMatchObject(ESRCH);
    expect(s['open({id})'].message).toMatch(/now a different process/);
  }
  expect(s['dup().sendSignal(SIGKILL)']).toMatchObject(ESRCH);
  for (const op of ['spawn({join:old})', 'run({join:old})', 'socketIn(old)', 'openIn(old)', 'readFileIn(old)', 'writeFileIn(old)', 'mkdirIn(old)']) {
    if (s[op] !== undefined) expect(s[op], op).toMatchObject(ESRCH);
  }
  // B untouched by all of it: running after every call, never reaped or
  // signalled (its exit is the SIGTERM sent at the end), namespaces intact,
  // no process started in them, and our thread never moved.
  for (const [op, alive] of Object.entries(o.bAlive)) expect(alive, `B alive after ${op}`).toBe(true);
  expect(Object.keys(o.bAlive).length).toBeGreaterThanOrEqual(30);
  expect(o.bExit).toEqual({ code: null, signal: 'SIGTERM' });
  expect(o.bNsUnchanged).toBe(true);
  expect(o.onlyBInItsNet).toBe(true);
  expect(o.childrenUnchanged).toBe(true);
  expect(o.whereUnchanged).toBe(true);
}

describe('pid reuse: a stale Pidfd never reaches the process that got its pid', () => {
  it('as root: A from child_process, B gets its pid; every operation on the old handle fails with ESRCH', () => {
    checkReuse(runReuse([], false, 'cp'));
  });

  it('A made by nsfd spawn and reaped by its own wait; B gets its pid', () => {
    checkReuse(runReuse([], false, 'spawn'));
  });

  it.runIf(feat.unprivileged_userns.available)('rootless: nobody, in its own user and pid namespaces', () => {
    const o = runReuse([], true, 'cp');
    expect(o.uid).toBe(0); // root inside its user namespace only
    checkReuse(o);
  });
});

needsRoot('runs a fixture as another user (uid 65534): setuid').describe.runIf(feat.unprivileged_userns.available)('atomic attach: a join refused part-way leaves the thread where it was', () => {
  it('list and pidfd forms, checked by the identity of all eight namespace types', () => {
    // nobody, root in its own user namespace U; T (sleep) has joinable net+ipc
    // and the host's uts and cgroup; the fixture has its own four.
    const r = spawnSync(
      'unshare',
      ['--user', '--map-root-user', 'sh', '-c', `unshare --net --ipc sleep 1000 & exec unshare --uts --net --ipc --cgroup "$0" "$1"`, process.execPath, fixture('reuse-atomic.js')],
      { encoding: 'utf8', timeout: 60000, cwd: '/', ...asNobody },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.uid).toBe(0);
    expect(o.setup).toEqual({ netDiffers: true, ipcDiffers: true, utsDiffers: true, cgroupDiffers: true });
    const c = o.cases;
    // The allowed joins move the thread and come back.
    for (const k of ['list net+ipc (allowed)', 'pidfd net+ipc (allowed)']) {
      expect(c[k]).toEqual({ ok: ['net', 'ipc'], movedWhileAttached: true, unchanged: true, home: true });
    }
    // Refused part-way: the list form after joining net and ipc (rolled back),
    // the pidfd form in the kernel's one setns.
    for (const k of ['list net,ipc,uts', 'list net,ipc,cgroup', 'list uts first', 'pidfd net,ipc,uts', 'pidfd all four']) {
      expect(c[k], k).toMatchObject({ code: 'EPERM', syscall: 'setns', isNsError: true, unchanged: true, home: true });
      expect(c[k].hint).toMatch(/CAP_SYS_ADMIN/);
    }
    expect(c['list net,ipc,uts'].hint).toMatch(/uts/);
    expect(c['list net,ipc,cgroup'].hint).toMatch(/cgroup/);
    // No ptrace rights over the target: refused before anything moves.
    for (const k of ['pidfd no ptrace (pid 1)', 'pidfd no ptrace, net only']) {
      expect(['EACCES', 'EPERM']).toContain(c[k].code);
      expect(c[k]).toMatchObject({ isNsError: true, unchanged: true, home: true });
    }
    expect(o.repeat).toEqual({ failures: 500, home: true, fdDelta: 0 });
  });
});
