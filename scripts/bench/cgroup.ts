// npm run bench -- cgroup
//
// A running container's cgroup, per call, in one run (issue 14):
//   nsfd c.freeze() + c.thaw()     cgroup.freeze, each awaited until cgroup.events says so
//   runc pause ID + runc resume ID (execFile: what a Node user of runc calls)
//   nsfd c.stats()                 cpu.stat, memory.*, pids.* read in process
//   runc events --stats ID         (execFile)
// Both containers run `sleep` on the same busybox rootfs. On a hybrid host
// (this one) nsfd freezes through cgroup v2's core files and runc through
// the v1 freezer; the work per call is the same.
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { RUNC, busyboxRootfs, faster, fmt, medianInterleaved, readmeRow, runcSpecBundle } from './_util.js';
import * as nsfd from '../../lib/index.js';

const execFile = promisify(cp.execFile);
const ROUNDS = 5;
const N = 20;


async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('cgroup: run as root (a cgroup of the container\'s own under ours); skipped');
    return;
  }
  const busybox = '/usr/bin/busybox';
  const runc = RUNC;
  if (!fs.existsSync(busybox)) {
    console.log('cgroup: needs /usr/bin/busybox (busybox-static); skipped');
    return;
  }
  let parent: string;
  try {
    parent = nsfd.Cgroup.create({}).path;
  } catch (err) {
    console.log(`cgroup: no writable cgroup v2 here (${String(err)}); skipped`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-bench-cgroup-'));
  // (0700, as mkdtemp made it: an idmapped rootfs where other users cannot reach it.)
  const root = busyboxRootfs(dir, busybox, ['sleep']);

  const c = await nsfd.Container.create({ rootfs: root, command: ['/bin/sleep', '1000'], cgroupParent: parent, userns: false });
  const id = `nsfd-bench-cgroup-${process.pid}`;
  let runcUp = false;
  const variants = new Map<string, () => Promise<unknown>>();
  variants.set('nsfd c.freeze() + c.thaw()', async () => {
    await c.freeze();
    await c.thaw();
  });
  variants.set('nsfd c.stats()', async () => c.stats());
  try {
    if (runc !== undefined) {
      const bundle = runcSpecBundle(dir, runc, root, ['/bin/sleep', '1000']);
      // Detached: runc returns once the container runs (its stdio: none of ours).
      const r = cp.spawnSync(runc, ['run', '-d', '--bundle', bundle, id], { stdio: 'ignore', timeout: 30000 });
      runcUp = r.status === 0;
      if (runcUp) {
        variants.set('execFile(runc pause) + execFile(runc resume)', async () => {
          await execFile(runc, ['pause', id]);
          await execFile(runc, ['resume', id]);
        });
        variants.set('execFile(runc events --stats)', async () => execFile(runc, ['events', '--stats', id]));
      } else {
        console.log(`(runc run -d failed: ${r.status ?? r.signal}; runc rows left out)`);
      }
    }
    const rows = await medianInterleaved(variants, ROUNDS, N);
    console.log(`a running container's cgroup, median call of ${ROUNDS}x${N} interleaved, ${os.cpus().length} CPUs, Linux ${os.release()}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [name, us] of rows) console.log(`  ${name.padEnd(w)}  ${fmt(us).padStart(10)}/op`);
    const get = (prefix: string): number | undefined => rows.find((r) => r[0].startsWith(prefix))?.[1];
    const [nf, rf, ns, rs] = [get('nsfd c.freeze'), get('execFile(runc pause'), get('nsfd c.stats'), get('execFile(runc events')];
    if (nf !== undefined && rf !== undefined) console.log(`  runc pause+resume / nsfd freeze+thaw: ${(rf / nf).toFixed(1)}x`);
    if (ns !== undefined && rs !== undefined) console.log(`  runc events --stats / nsfd stats(): ${(rs / ns).toFixed(0)}x`);
    if (nf !== undefined && rf !== undefined && ns !== undefined && rs !== undefined) {
      readmeRow({
        id: 'cgroup',
        what: 'a running container\'s cgroup (the runc container from a `runc spec` bundle, both running `sleep`)',
        nsfd: `${fmt(nf)} \`c.freeze()\` + \`c.thaw()\` (each awaited until \`cgroup.events\` says so); ${fmt(ns)} \`c.stats()\``,
        peer: `${fmt(rf)} \`execFile(runc pause)\` + \`execFile(runc resume)\`; ${fmt(rs)} \`execFile(runc events --stats)\``,
        ratio: `**${faster(nf, rf)}** / **${faster(ns, rs)}** from Node`,
      });
    }
  } finally {
    await c[Symbol.asyncDispose]();  // (its cgroup removed before the parent is)
    if (runcUp && runc !== undefined) cp.spawnSync(runc, ['delete', '-f', id], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmdirSync(parent);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
