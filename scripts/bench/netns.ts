// Networks for tests (issue 15): the same two-namespace topology (two named
// network namespaces, a veth pair between them, addresses on both ends, both
// ends and lo up, a default route in one and a static route in the other,
// then teardown) built by nsfd's Namespace.create + Rtnetlink, and by
// spawning `ip` for each step (child_process.execFile, and nsfd's run).
// Needs root (ip netns add).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { faster, fmt, readmeRow, table, timeAsync } from './_util.js';
import { Namespace, Rtnetlink, run } from '../../lib/index.js';

if (process.getuid?.() !== 0) {
  console.log('netns bench: needs root (ip netns add); skipped');
  process.exit(0);
}

const execFileP = promisify(execFile);
const N = Number(process.env.NSFD_BENCH_N ?? 30);
let k = 0;

/** The steps, as ip commands; one topology per call. */
function ipSteps(a: string, b: string): string[][] {
  return [
    ['netns', 'add', a],
    ['netns', 'add', b],
    ['link', 'add', 'va', 'netns', a, 'type', 'veth', 'peer', 'name', 'vb', 'netns', b],
    ['-n', a, 'addr', 'add', '10.9.0.1/30', 'dev', 'va'],
    ['-n', b, 'addr', 'add', '10.9.0.2/30', 'dev', 'vb'],
    ['-n', a, 'link', 'set', 'lo', 'up'],
    ['-n', b, 'link', 'set', 'lo', 'up'],
    ['-n', a, 'link', 'set', 'va', 'up'],
    ['-n', b, 'link', 'set', 'vb', 'up'],
    ['-n', b, 'route', 'add', 'default', 'via', '10.9.0.1'],
    ['-n', a, 'route', 'add', '10.9.1.0/24', 'via', '10.9.0.2'],
    ['netns', 'delete', a],
    ['netns', 'delete', b],
  ];
}

async function viaExecFile(): Promise<void> {
  const id = `nsfd-bench-${process.pid}-${k++}`;
  for (const s of ipSteps(`${id}-a`, `${id}-b`)) await execFileP('ip', s);
}

async function viaRun(): Promise<void> {
  const id = `nsfd-bench-${process.pid}-${k++}`;
  for (const s of ipSteps(`${id}-a`, `${id}-b`)) {
    const r = await run('ip', s);
    if (r.code !== 0) throw new Error(`ip ${s.join(' ')}: ${r.stderr}`);
  }
}

async function viaNsfd(persist: boolean): Promise<void> {
  const id = `nsfd-bench-${process.pid}-${k++}`;
  const pa = persist ? `/run/netns/${id}-a` : undefined;
  const pb = persist ? `/run/netns/${id}-b` : undefined;
  const a = (await Namespace.create(['net'], pa ? { persist: pa } : {})).net as Namespace;
  const b = (await Namespace.create(['net'], pb ? { persist: pb } : {})).net as Namespace;
  const na = Rtnetlink.open(a);
  const nb = Rtnetlink.open(b);
  try {
    await na.addVeth('va', 'vb', { peerNamespace: b });
    await na.addAddress('va', '10.9.0.1/30');
    await nb.addAddress('vb', '10.9.0.2/30');
    await na.setLink('lo', { up: true });
    await nb.setLink('lo', { up: true });
    await na.setLink('va', { up: true });
    await nb.setLink('vb', { up: true });
    await nb.addRoute({ dst: 'default', gateway: '10.9.0.1' });
    await na.addRoute({ dst: '10.9.1.0/24', gateway: '10.9.0.2' });
  } finally {
    na.close();
    nb.close();
    if (pa) Namespace.unpersist(pa);
    if (pb) Namespace.unpersist(pb);
    a.close();
    b.close();
  }
}

(async () => {
  console.log(`two namespaces, veth pair, 2 addresses, 4 links up, 2 routes, teardown; ${N} topologies each`);
  const rows: [string, number][] = [];
  rows.push(['ip x13 (child_process.execFile)', await timeAsync(viaExecFile, N, 3)]);
  rows.push(['ip x13 (nsfd run)', await timeAsync(viaRun, N, 3)]);
  rows.push(['nsfd (persisted in /run/netns)', await timeAsync(() => viaNsfd(true), N, 3)]);
  rows.push(['nsfd (fds only)', await timeAsync(() => viaNsfd(false), N, 3)]);
  table('one topology, built and torn down', rows);
  const [ip, ipRun, persisted, fdsOnly] = rows.map((r) => r[1]) as [number, number, number, number];
  readmeRow({
    id: 'netns',
    what: 'two namespaces, a veth pair, 2 addresses, 4 links up, 2 routes, teardown',
    nsfd: `${fmt(fdsOnly)} \`Namespace.create\` + \`Rtnetlink\` (${fmt(persisted)} persisted in \`/run/netns\`)`,
    peer: `${fmt(ip)}: 13 × \`ip\` via \`child_process.execFile\` (${fmt(ipRun)} via \`nsfd run\`)`,
    ratio: `**${faster(fdsOnly, ip)}**`,
  });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
