// cgroup v2 for containers (issue 14): a cgroup of the container's own,
// limits, freeze/thaw, statistics, cgroup.kill on close. On this host
// (hybrid: v2 holds only the core files) limits are typed errors; the
// kernel-matrix VMs (pure v2) run the limits for real.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Cgroup, Container, NsError } from '../lib/index';
import { ownCgroup } from '../lib/cgroup';
import { leakCheck } from '../lib/testing';
import { checkLeaksPerTest, isRoot, needsRoot, sleep, until, warmUp } from './helpers';

beforeAll(warmUp);
checkLeaksPerTest();

const v2 = (() => {
  try {
    return ownCgroup();
  } catch {
    return undefined;
  }
})();
const controllers = v2 === undefined ? [] : fs.readFileSync(path.join(v2, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
// A parent we may write with no process in it: a cgroup of this test file's own under ours.
let parent = '';
beforeAll(() => {
  if (!isRoot || v2 === undefined) return;
  parent = path.join(v2, `nsfd-test-${process.pid}`);
  fs.mkdirSync(parent, { recursive: true });
});
afterAll(() => {
  if (parent !== '') fs.rmdirSync(parent);
});

const d = needsRoot('writes the host\'s cgroup v2 hierarchy').describe;
d('Cgroup', () => {
  it('create() makes a directory under the parent, remove() deletes it', async () => {
    const cg = Cgroup.create({ parent, name: 'a' });
    expect(cg.path).toBe(path.join(parent, 'a'));
    expect(fs.existsSync(path.join(cg.path, 'cgroup.procs'))).toBe(true);
    expect(cg.procs()).toEqual([]);
    expect(cg.populated).toBe(false);
    await cg.remove();
    expect(fs.existsSync(cg.path)).toBe(false);
    await cg.remove(); // idempotent
  });

  it('bad resources are typed errors before anything is made', () => {
    expect(() => Cgroup.create({ parent, name: 'bad', resources: { pids: { max: -1 } } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => Cgroup.create({ parent, name: 'bad', resources: { cpu: { weight: 0 } } })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => Cgroup.create({ parent, name: 'bad', resources: { memroy: {} } as never })).toThrow(/did you mean "memory"/);
    expect(fs.existsSync(path.join(parent, 'bad'))).toBe(false);
  });

  it.runIf(!controllers.includes('pids'))('a controller bound to cgroup v1 (hybrid host) is EOPNOTSUPP, saying so', () => {
    expect(() => Cgroup.create({ parent, name: 'v1', resources: { pids: { max: 10 } } })).toThrow(expect.objectContaining({ code: 'EOPNOTSUPP', hint: expect.stringContaining('cgroup v1') }));
    expect(fs.existsSync(path.join(parent, 'v1'))).toBe(false);
  });
});

d('Container with a cgroup of its own', () => {
  it('the init is born in it; freeze and thaw; close() kills a double-forked orphan without a pid namespace and removes the cgroup', async () => {
    const leaks = leakCheck({ children: false, mounts: false });
    const c = await Container.create({ unshare: ['uts', 'ipc', 'mnt'], cgroupParent: parent, mountProc: false });
    const cg = c.cgroup as Cgroup;
    expect(path.dirname(cg.path)).toBe(parent);
    expect(cg.procs()).toContain(c.pid);
    // A process that leaves the init's tree and session: only the cgroup still knows it.
    // (c.run() puts it in the container's cgroup, as runc exec does.)
    await c.run('/bin/sh', ['-c', 'setsid sh -c "sleep 1000 >/dev/null 2>&1 & exit 0" & wait']);
    const orphan = await until(() => cg.procs().find((p) => p !== c.pid && fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sleep'), 'the orphan in the cgroup');
    await c.freeze();
    expect(cg.frozen).toBe(true);
    await c.thaw();
    expect(cg.frozen).toBe(false);
    const stats = c.stats();
    expect(stats.cpu.usage.total).toBeGreaterThan(0);
    await c[Symbol.asyncDispose]();
    // Dead: gone, or a zombie its new parent (outside) has not reaped yet.
    const state = (): string => (fs.existsSync(`/proc/${orphan}/stat`) ? (/\) (\w)/.exec(fs.readFileSync(`/proc/${orphan}/stat`, 'utf8'))?.[1] ?? '') : 'gone');
    expect(['gone', 'Z']).toContain(state());
    expect(fs.existsSync(cg.path)).toBe(false);
    expect(leaks.diff()).toBeUndefined();
  });

  it('stats() is null for controllers not enabled here, numbers for those that are', async () => {
    await using c = await Container.create({ unshare: ['uts'], cgroupParent: parent });
    const enabled = fs.readFileSync(path.join(parent, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
    const s = c.stats();
    expect(s.pids === null).toBe(!enabled.includes('pids'));
    expect(s.memory === null).toBe(!enabled.includes('memory'));
    if (s.pids !== null) expect(s.pids.current).toBeGreaterThanOrEqual(1);
  });

  it.runIf(controllers.includes('pids') && controllers.includes('memory'))('applies memory and pids limits (pure cgroup v2: the kernel-matrix VMs)', async () => {
    await using c = await Container.create({ unshare: ['uts', 'pid', 'mnt'], cgroupParent: parent, resources: { memory: { max: 64 << 20 }, pids: { max: 8 } } });
    const s = c.stats();
    expect(s.memory?.usage.limit).toBe(64 << 20);
    expect(s.pids?.limit).toBe(8);
    // More processes than pids.max: the fork fails inside (the init holds one).
    const r = await c.run('/bin/sh', ['-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done; wait']);
    expect(r.stderr).toMatch(/fork|Resource temporarily unavailable|can't/i);
    c.update({ pids: { max: 'max' } });
    expect(c.stats().pids?.limit).toBe(null);
  });

  it('freeze() stops a busy loop: its CPU time does not advance while frozen; thaw() resumes it', async () => {
    await using c = await Container.create({ unshare: ['uts', 'pid', 'mnt'], cgroupParent: parent });
    const loop = c.spawn('/bin/sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    // utime + stime of the loop, in clock ticks (/proc/PID/stat fields 14 and 15).
    const cpu = (): number => {
      const f = fs.readFileSync(`/proc/${loop.pid}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return Number(rest[11]) + Number(rest[12]);
    };
    await until(() => cpu() > 0, 'the loop running');
    await c.freeze();
    const frozenAt = cpu();
    await sleep(300);
    expect(cpu()).toBe(frozenAt);
    await c.thaw();
    await until(() => cpu() > frozenAt, 'the loop running again');
    loop.kill('SIGKILL');
    await loop.exited;
    loop.close();
  });

  it.runIf(controllers.includes('memory'))('a memory hog over memory.max is OOM-killed; stats() counts it; the init and the host go on (pure cgroup v2: the VMs)', async () => {
    await using c = await Container.create({ unshare: ['uts', 'pid', 'mnt'], cgroupParent: parent, resources: { memory: { max: 32 << 20 } } });
    // (No swap in the VMs: the limit alone ends the hog.)
    // The shell keeps 200 MB of command substitution in its own memory.
    const r = await c.run('/bin/sh', ['-c', 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived ${#x}']);
    expect(r.stdout).not.toMatch(/survived/);
    expect(r.signal ?? (r.code === 137 ? 'SIGKILL' : r.code)).toBe('SIGKILL');
    const s = c.stats();
    expect(s.memory?.oomKill).toBeGreaterThanOrEqual(1);
    expect(s.memory?.usage.limit).toBe(32 << 20);
    expect(c.pidfd.isAlive()).toBe(true);
  });

  it('without a cgroup, freeze() is a typed error', async () => {
    // (With a pid namespace: one without gets a cgroup of its own by default.)
    await using c = await Container.create({ unshare: ['uts', 'pid', 'mnt'] });
    expect(c.cgroup).toBeUndefined();
    await expect(c.freeze()).rejects.toBeInstanceOf(NsError);
    await sleep(0);
  });
});
