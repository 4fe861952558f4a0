// npm run bench -- isolation
//
// A container with full filesystem isolation running /bin/true, end to end,
// on the same busybox rootfs:
//   nsfd Container.create({rootfs, command}) + exited + close
//        new mnt/uts/ipc/pid/net/cgroup namespaces, pivot_root, OCI default
//        mounts (/proc masked, /dev tmpfs + devices, /dev/pts, /dev/shm,
//        /sys), nsfd-init (by fd) as pid 1 running /bin/true
//        (as root: userns 'auto', an id range of its own and the rootfs idmapped)
//   the same with userns: false (root inside = root outside)
//   the same with init: false (/bin/true is pid 1, one exec, as under runc)
//   nsfd Container.create({rootfs}) + c.run('/bin/true') + close
//   nsfd run('/bin/true', {unshare, rootfs})   the same mounts, no init, no Container
//   execFile('bwrap', [--unshare-all, --ro-bind ROOT /, --proc /proc, --dev /dev, /bin/true])
//   execFile('runc', ['run', ...])              an OCI bundle from `runc spec`
// Median call of interleaved rounds, so load from elsewhere hits each alike.
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { RUNC, busyboxRootfs, faster, fmt, medianInterleaved, readmeRow, runcSpecBundle, which } from './_util.js';
import * as nsfd from '../../lib/index.js';

const execFile = promisify(cp.execFile);
const ROUNDS = 5;
const N = 20;



async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('isolation: run as root (runc and the comparison need it); skipped');
    return;
  }
  const busybox = '/usr/bin/busybox';
  if (!fs.existsSync(busybox)) {
    console.log('isolation: no /usr/bin/busybox (busybox-static); skipped');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-bench-iso-'));
  // (0700, as mkdtemp made it: an idmapped rootfs where other users cannot reach it.)
  const root = busyboxRootfs(dir, busybox, ['true']);

  const variants = new Map<string, () => Promise<void>>();
  const unshare: nsfd.NsType[] = ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup'];
  variants.set('nsfd Container.create({rootfs, command}) + exited + close', async () => {
    const c = await nsfd.Container.create({ rootfs: root, command: ['/bin/true'] });
    await c.exited;
    c.close();
  });
  // The default as root is userns 'auto': an id range picked (a scan of the
  // ranges in use, a lock) and the root-owned rootfs idmapped. Without it:
  variants.set('nsfd Container.create({rootfs, command, userns: false}) + exited + close', async () => {
    const c = await nsfd.Container.create({ rootfs: root, command: ['/bin/true'], userns: false });
    await c.exited;
    c.close();
  });
  // The workload as pid 1, no nsfd-init: one exec, as runc runs it.
  variants.set('nsfd Container.create({rootfs, command, init: false}) + exited + close', async () => {
    const c = await nsfd.Container.create({ rootfs: root, command: ['/bin/true'], init: false });
    await c.exited;
    c.close();
  });
  variants.set("nsfd Container.create({rootfs}) + c.run('/bin/true') + close", async () => {
    const c = await nsfd.Container.create({ rootfs: root });
    await c.run('/bin/true', [], { env: {} });
    c.close();
  });
  variants.set("nsfd run('/bin/true', {unshare: 6, rootfs})  (no init)", async () => {
    await nsfd.run('/bin/true', [], { unshare, rootfs: root, env: {} });
  });
  const bwrap = which(['/usr/bin/bwrap']);
  if (bwrap) {
    variants.set('execFile(bwrap --unshare-all --ro-bind ROOT / --proc --dev)', async () => {
      await execFile(bwrap, ['--unshare-all', '--ro-bind', root, '/', '--proc', '/proc', '--dev', '/dev', '/bin/true']);
    });
  }
  const runc = RUNC;
  if (runc) {
    const bundle = runcSpecBundle(dir, runc, root, ['/bin/true'], (config) => (config.root.readonly = true));
    let k = 0;
    variants.set('execFile(runc run)', async () => {
      await execFile(runc, ['run', '--bundle', bundle, `nsfd-bench-${process.pid}-${k++}`]);
    });
  }

  let rows: [string, number][];
  try {
    rows = await medianInterleaved(variants, ROUNDS, N);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`container running /bin/true on a busybox rootfs, median call of ${ROUNDS}x${N} interleaved, ${os.cpus().length} CPUs, Linux ${os.release()}`);
  const w = Math.max(...rows.map((r) => r[0].length));
  const base = (rows[0] as [string, number])[1];
  for (const [name, us] of rows) console.log(`  ${name.padEnd(w)}  ${fmt(us).padStart(10)}/op  ${(us / base).toFixed(2)}x the first`);
  const get = (prefix: string): number | undefined => rows.find((r) => r[0].startsWith(prefix))?.[1];
  const full = base;
  const bw = get('execFile(bwrap');
  const rc = get('execFile(runc');
  const noInit = get('nsfd Container.create({rootfs, command, init: false})');
  if (bw !== undefined) console.log(`  bwrap / nsfd Container: ${(bw / full).toFixed(2)}x${noInit === undefined ? '' : `; with init: false ${(bw / noInit).toFixed(2)}x`}`);
  if (rc !== undefined) console.log(`  runc / nsfd Container: ${(rc / full).toFixed(2)}x${noInit === undefined ? '' : `; with init: false ${(rc / noInit).toFixed(2)}x`}`);
  const noUserns = get('nsfd Container.create({rootfs, command, userns: false})');
  const bare = get("nsfd run('/bin/true'");
  if (bw !== undefined && rc !== undefined && noInit !== undefined && noUserns !== undefined && bare !== undefined) {
    const both = (x: number) => `**${faster(x, bw)}** / **${faster(x, rc)}**`;
    readmeRow({
      id: 'isolation',
      what: 'a container on a busybox rootfs running `/bin/true`: new mnt/uts/ipc/pid/net/cgroup (and user, the default as root with a rootfs), pivot_root, default mounts, nsfd-init',
      nsfd: `${fmt(full)} \`Container.create({rootfs, command})\` + \`exited\` + \`close\` (default \`userns: 'auto'\`); ${fmt(noInit)} with \`init: false\`; ${fmt(noUserns)} with \`userns: false\`; ${fmt(bare)} \`run('/bin/true', {unshare, rootfs})\` (no init)`,
      peer: `${fmt(bw)} \`execFile(bwrap --unshare-all --ro-bind ROOT / --proc --dev)\`; ${fmt(rc)} \`execFile(runc run)\``,
      ratio: `than bwrap / runc: ${both(full)} (default), ${both(noInit)} (\`init: false\`), ${both(noUserns)} (\`userns: false\`), ${both(bare)} (\`run()\`); issue 13's 3x / 15x not met`,
    });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
