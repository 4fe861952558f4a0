// A container never outlives the Node process that owns it (issue 14):
// nsfd-init watches a death pipe whose only write end Node holds, and when
// it hangs up kills the container: cgroup.kill of its own cgroup (given
// by default to a container without a pid namespace), or exiting as pid 1.
// A child Node process owns the containers and is SIGKILLed; everything is
// checked from outside, by pid and by cgroup.
import { spawn as cpSpawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { Container, Pidfd } from '../lib/index';
import { ownCgroup } from '../lib/cgroup';
import { checkLeaksPerTest, fixturePath, isRoot, sleep, warmUp } from './helpers';

beforeAll(warmUp);
checkLeaksPerTest();

const v2Writable = (() => {
  if (!isRoot) return false;
  try {
    fs.accessSync(ownCgroup(), fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
})();

/** Pids whose argv is exactly `sleep MARKER` (the fixture's workloads and escapees). */
function marked(marker: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'latin1') === `sleep\0${marker}\0`) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Whether pid is past the point of no return: PF_EXITING (0x4) in the flags
 * of /proc/PID/stat. The init of a pid namespace stays so until every
 * process of the namespace has been reaped, and c.spawn()'s processes were
 * Node's children: once Node is gone, reaping their zombies is the host
 * init's job (prompt under systemd or tini; this sandbox's init reaps
 * lazily). Such a process runs no code of the container any more.
 */
function exiting(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[6]) & 0x4) !== 0;
  } catch {
    return true;
  }
}

interface Owned {
  init: number;
  pidns: boolean;
  cgroup: string | null;
  spawned: number;
}

/** Starts the owner fixture and waits for its report and for every workload (2 per container) to run. */
async function startOwner(marker: string, keep: boolean, pidnsOnly = false): Promise<{ pid: number; owned: Owned[]; kill: () => void }> {
  const child = cpSpawn(process.execPath, [fixturePath('lifetime-owner.js'), marker, keep ? 'keep' : 'kill', ...(pidnsOnly ? ['pidns'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0] as string);
    });
    child.once('exit', (code, sig) => reject(new Error(`owner exited ${code ?? sig}: ${buf}`)));
  }).finally(() => child.stdout.destroy());
  const owned = JSON.parse(line) as Owned[] | { error: string };
  if (!Array.isArray(owned)) throw new Error(owned.error);
  // Each container: the workload, its escapee, the c.spawn() process and its escapee.
  for (let i = 0; marked(marker).length < 4 * owned.length; i++) {
    if (i > 5000) throw new Error(`workloads not all started: ${marked(marker).join(' ')}`);
    await sleep(1);
  }
  return { pid: child.pid as number, owned, kill: () => child.kill('SIGKILL') };
}

/** SIGKILLs the owner and waits until every handle's process is dead or exiting: the time it took, in ms. */
async function killOwnerAndWait(owner: { kill: () => void }, handles: Pidfd[], cgroup: string | undefined): Promise<number> {
  const t0 = process.hrtime.bigint();
  owner.kill();
  for (;;) {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const alive = handles.filter((h) => h.isAlive() && !exiting(h.pid)).map((h) => h.pid);
    if (alive.length === 0 && (cgroup === undefined || fs.readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8') === '')) return ms;
    if (ms > 1000) {
      const what = alive.map((p) => `${p}: ${(fs.readFileSync(`/proc/${p}/status`, 'latin1').match(/^(Name|State|PPid|NSpid):.*$/gm) ?? []).join(', ')}`);
      throw new Error(`still alive ${ms.toFixed(0)} ms after the owner's SIGKILL: ${what.join('; ')}`);
    }
    await sleep(1);
  }
}

describe('lifetime, for any user', () => {
  it('a container made in a Worker ends with that Worker, while Node lives on (the death signal of the thread that started its init)', () => {
    // In a process of its own: a Worker's copy of the library keeps fds of its own.
    const dist = JSON.stringify(path.join(__dirname, '..', 'dist', 'index.js'));
    const code = `
      const { Worker } = require('node:worker_threads');
      const { Pidfd } = require(${dist});
      const w = new Worker(\`require(${dist.replace(/\\/g, '\\\\')}).Container.create({ command: ['sleep', '1000'] })
        .then((c) => require('node:worker_threads').parentPort.postMessage(c.pid)); setInterval(() => {}, 1e9)\`, { eval: true });
      w.once('message', async (pid) => {
        const init = Pidfd.open(pid);
        const before = init.isAlive();
        await w.terminate();
        const t0 = Date.now();
        while (init.isAlive() && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 1));
        const after = init.isAlive();
        if (after) init.sendSignal('SIGKILL');
        console.log(JSON.stringify({ before, after }));
        process.exit(0);
      });
    `;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 20000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ before: true, after: false });
  });

  it('the same signal from inside the container is only forwarded to the workload: it does not count as our death', async () => {
    await using c = await Container.create({ command: ['sleep', '1000'] });
    // SIGRTMAX (64) from a process of the container to its init.
    // (The sh may die with the pid namespace before it exits by itself.)
    await c.run('/bin/sh', ['-c', 'kill -64 1']);
    // The init forwarded it: sleep died of it, and the init exits with
    // 128 + 64, not as an orphan (137).
    expect(await c.exited).toEqual({ code: 192, signal: null });
  });

  it('SIGKILL of Node: within 1 s no process of its container with a pid namespace (setsid escapees, c.spawn) remains', async () => {
    const marker = String(400000 + Math.floor(Math.random() * 500000));
    const owner = await startOwner(marker, false, true);
    const handles = [...marked(marker), ...owner.owned.map((o) => o.init)].map((p) => Pidfd.open(p));
    try {
      await killOwnerAndWait(owner, handles, undefined);
      expect(marked(marker)).toEqual([]);
    } finally {
      for (const h of handles) {
        if (h.isAlive()) h.sendSignal('SIGKILL');
        h.close();
      }
    }
  });
});

const d = isRoot ? describe : describe.skip;
d('lifetime: a container dies with the Node process that owns it [needs root: runs containers without a user namespace]', () => {
  it.runIf(v2Writable)('SIGKILL of Node: within 1 s no process of its containers (with and without a pid namespace, setsid escapees, c.spawn) remains', async () => {
    const marker = String(400000 + Math.floor(Math.random() * 500000));
    const owner = await startOwner(marker, false);
    const victims = marked(marker);
    const inits = owner.owned.map((o) => o.init);
    // Handles first: a pid reused afterwards cannot pass for a survivor.
    const handles = [...victims, ...inits].map((p) => Pidfd.open(p));
    const noPidns = owner.owned.find((o) => !o.pidns) as Owned;
    expect(noPidns.cgroup).not.toBeNull();
    const cgroup = noPidns.cgroup as string;
    // The escapee of the container without a pid namespace is in its cgroup.
    const inCgroup = fs.readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    expect(inCgroup.length).toBeGreaterThanOrEqual(5);  // init, workload, escapee, spawned, its escapee
    try {
      const ms = await killOwnerAndWait(owner, handles, cgroup);
      expect(marked(marker)).toEqual([]);
      // eslint-disable-next-line no-console
      console.log(`lifetime: everything gone ${ms.toFixed(1)} ms after the owner's SIGKILL`);
    } finally {
      for (const h of handles) {
        if (h.isAlive()) h.sendSignal('SIGKILL');
        h.close();
      }
      // Node died: nobody was left to remove the (now empty) cgroup.
      await removeWhenEmpty(cgroup);
    }
  });

  it('without killOnClose the containers outlive Node (the death pipe is killOnClose\'s only)', async () => {
    const marker = String(400000 + Math.floor(Math.random() * 500000));
    const owner = await startOwner(marker, true);
    const handles = [...marked(marker), ...owner.owned.map((o) => o.init)].map((p) => Pidfd.open(p));
    try {
      owner.kill();
      await sleep(300);
      expect(handles.filter((h) => !h.isAlive()).map((h) => h.pid)).toEqual([]);
    } finally {
      for (const h of handles) {
        if (h.isAlive()) h.sendSignal('SIGKILL');
        h.close();
      }
      for (const o of owner.owned) if (o.cgroup !== null) await removeWhenEmpty(o.cgroup);
    }
  });

  it.runIf(v2Writable)('a container without a pid namespace gets a cgroup of its own; close() kills its setsid escapee and removes the cgroup', async () => {
    const marker = String(400000 + Math.floor(Math.random() * 500000));
    const c = await Container.create({ unshare: ['uts', 'ipc', 'net'], command: ['/bin/sh', '-c', `setsid -f sleep ${marker}; exec sleep ${marker}`] });
    const cg = c.cgroup?.path as string;
    expect(cg).toBeDefined();
    expect(fs.readFileSync(`/proc/${c.pid}/cgroup`, 'utf8')).toContain(`0::/${path.basename(cg)}`);
    for (let i = 0; marked(marker).length < 2; i++) {
      if (i > 5000) throw new Error('workload did not start');
      await sleep(1);
    }
    const handles = marked(marker).map((p) => Pidfd.open(p));
    try {
      await c[Symbol.asyncDispose]();
      for (let i = 0; handles.some((h) => h.isAlive()); i++) {
        if (i > 1000) throw new Error('escapee survived close()');
        await sleep(1);
      }
      expect(fs.existsSync(cg)).toBe(false);
    } finally {
      for (const h of handles) h.close();
    }
  });

  it.runIf(v2Writable)('the cgroups dead owners left behind are removed at the next container without a pid namespace: empty, old, and their pid gone', () => {
    const parent = ownCgroup();
    // No pid can be above PID_MAX_LIMIT (4194304): this owner is surely dead.
    const dead = path.join(parent, 'nsfd-4194399-1');
    const fresh = path.join(parent, 'nsfd-4194399-2');
    const living = path.join(parent, 'nsfd-1-4194399');
    for (const dir of [dead, fresh, living]) fs.mkdirSync(dir);
    try {
      const old = new Date(Date.now() - 120000);
      fs.utimesSync(dead, old, old);
      fs.utimesSync(living, old, old);
      // A fresh process: the sweep runs once per process.
      const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'index.js'))}).Container.create({ unshare: ['uts'] }).then((c) => c[Symbol.asyncDispose]())`], { encoding: 'utf8', timeout: 20000 });
      expect(r.status, r.stderr).toBe(0);
      expect(fs.existsSync(dead)).toBe(false);
      expect(fs.existsSync(fresh)).toBe(true);   // maybe a process elsewhere about to use it
      expect(fs.existsSync(living)).toBe(true);  // pid 1 lives
    } finally {
      for (const dir of [dead, fresh, living]) if (fs.existsSync(dir)) fs.rmdirSync(dir);
    }
  });

  it('the init hands none of its own fds (death pipe, cgroup.kill, control socket, signalfd) to the workload', async () => {
    const c = await Container.create({ unshare: ['uts', 'ipc', 'net'], command: ['/bin/sh', '-c', 'ls /proc/self/fd; exec sleep 1000'], stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      let out = '';
      c.stdout?.on('data', (b: Buffer) => (out += b.toString()));
      for (let i = 0; !out.includes('\n2\n') && !out.endsWith('3\n'); i++) {
        if (i > 5000) throw new Error(`no output: ${out}`);
        await sleep(1);
      }
      // 0, 1, 2, and the fd ls opened the directory with.
      expect(out.trim().split('\n').map(Number).filter((n) => n > 3)).toEqual([]);
    } finally {
      await c[Symbol.asyncDispose]();
    }
  });

  it('close() still ends a container normally: the init exits, Node lives on, the death pipe stays open for the next one', async () => {
    for (let i = 0; i < 2; i++) {
      const c = await Container.create({ command: ['sleep', '1000'] });
      const init = c.pidfd.dup();
      await c[Symbol.asyncDispose]();
      expect(init.isAlive()).toBe(false);
      init.close();
    }
    const c = await Container.create({ command: ['/bin/sh', '-c', 'exit 3'] });
    expect(await c.exited).toEqual({ code: 3, signal: null });
    c.close();
  });
});

/** rmdir once cgroup.procs is empty (cgroup.kill is asynchronous). */
async function removeWhenEmpty(dir: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      await sleep(1);
    }
  }
}
