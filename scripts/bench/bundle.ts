// npm run bench -- bundle
//
// An OCI bundle made by `runc spec` (process.args /bin/true, terminal
// false, the busybox rootfs) run to exit, end to end, in one run:
//   nsfd Container.fromBundle(dir) + exited + close
//        reads and maps config.json, then what Container.create does:
//        new pid/net/ipc/uts/mnt namespaces, pivot_root, the bundle's mounts,
//        default devices, masked and read-only paths, nsfd-init by fd
//   execFile(node bin/nsfd.js run --bundle DIR)   the same from the CLI (a Node start-up included)
//   execFile('runc', ['run', '--bundle', DIR, ID])
// Median call of interleaved rounds, so load from elsewhere hits each alike.
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
    console.log('bundle: run as root (runc spec bundles use host ids); skipped');
    return;
  }
  const busybox = '/usr/bin/busybox';
  const runc = RUNC;
  if (!fs.existsSync(busybox) || runc === undefined) {
    console.log('bundle: needs /usr/bin/busybox (busybox-static) and runc; skipped');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-bench-bundle-'));
  // (0700, as mkdtemp made it: an idmapped rootfs where other users cannot reach it.)
  const root = busyboxRootfs(dir, busybox, ['true']);
  // runc spec's ambient set lacks inheritable, so neither runtime can raise
  // it (runc ignores that, nsfd warns): left out, the same result, no warning per call.
  const bundle = runcSpecBundle(dir, runc, root, ['/bin/true'], (config) => delete config.process.capabilities.ambient);

  const cli = path.join(__dirname, '..', '..', '..', 'bin', 'nsfd.js');
  const variants = new Map<string, () => Promise<void>>();
  variants.set('nsfd Container.fromBundle(dir) + exited + close', async () => {
    const c = await nsfd.Container.fromBundle(bundle);
    const s = await c.exited;
    c.close();
    if (s.code !== 0) throw new Error(`exited ${JSON.stringify(s)}`);
  });
  if (fs.existsSync(cli)) {
    variants.set('execFile(node bin/nsfd.js run --bundle DIR)', async () => {
      await execFile(process.execPath, [cli, 'run', '--bundle', bundle]);
    });
  }
  let k = 0;
  variants.set('execFile(runc run --bundle DIR ID)', async () => {
    await execFile(runc, ['run', '--bundle', bundle, `nsfd-bench-bundle-${process.pid}-${k++}`]);
  });

  let rows: [string, number][];
  try {
    rows = await medianInterleaved(variants, ROUNDS, N);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`runc spec bundle running /bin/true on a busybox rootfs, median call of ${ROUNDS}x${N} interleaved, ${os.cpus().length} CPUs, Linux ${os.release()}`);
  const w = Math.max(...rows.map((r) => r[0].length));
  const base = (rows[0] as [string, number])[1];
  for (const [name, us] of rows) console.log(`  ${name.padEnd(w)}  ${fmt(us).padStart(10)}/op  ${(us / base).toFixed(2)}x the first`);
  const rc = rows.find((r) => r[0].startsWith('execFile(runc'))?.[1];
  if (rc !== undefined) console.log(`  runc run / nsfd Container.fromBundle: ${(rc / base).toFixed(2)}x`);
  const viaCli = rows.find((r) => r[0].startsWith('execFile(node'))?.[1];
  if (rc !== undefined) {
    readmeRow({
      id: 'bundle',
      what: 'a `runc spec` bundle (busybox rootfs, `/bin/true`) run to exit',
      nsfd: `${fmt(base)} \`Container.fromBundle\` + \`exited\` + \`close\`${viaCli === undefined ? '' : `; ${fmt(viaCli)} \`nsfd run --bundle\` via \`execFile\``}`,
      peer: `${fmt(rc)} \`execFile(runc run)\``,
      ratio: `**${faster(base, rc)}** than runc from Node${viaCli === undefined ? '' : '; the CLI pays Node\'s start-up'}`,
    });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
