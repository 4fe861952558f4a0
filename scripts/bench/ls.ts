// nsfd ls vs lsns, nsfd exec vs nsenter.
//
// Makes namespaces that lsns can see (processes each in new net, uts, ipc,
// mnt and cgroup namespaces: 5 per process) in steps of 100, 500 and 2,000
// (NSFD_BENCH_LS_SIZES), plus 100 that only nsfd finds (50 network
// namespaces held only by open fds of one process, 50 held only by bind
// mounts), and at each step times `lsns -J`, `listNamespaces()` in this
// process and `nsfd ls --json`, in the same run, and counts what each
// reports: the cost should grow linearly with processes + fds. Then
// `nsfd exec -t PID -a true` against `nsenter -t PID -a true`. Everything
// made here is removed at the end. Needs root.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { fmt, median, readmeRow, startTarget } from './_util.js';

function readdirNums(dir: string): number[] {
  return fs.readdirSync(dir).filter((n) => /^\d+$/.test(n)).map(Number);
}

// Compiled to dist-dev/scripts/bench/: the repository is three levels up.
const root = path.join(__dirname, '..', '..', '..');
const bin = path.join(root, 'bin', 'nsfd.js');
// Namespaces made by processes (5 each) at each step of the curve.
const SIZES = (process.env.NSFD_BENCH_LS_SIZES ?? '100,500,2000').split(',').map(Number);
const HELD_BY_FD = 50;
const HELD_BY_MOUNT = 50;
const RUNS = Number(process.env.NSFD_BENCH_RUNS ?? 7);

// A single-threaded helper: unshare(CLONE_NEWNET) N times, keeping an fd
// to each, and M more times bind-mounting each on a file; then it returns
// to its first netns, so those namespaces have no process in them.
const HOLDER = String.raw`
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
nfd, nmount, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
home = os.open('/proc/self/ns/net', os.O_RDONLY)
fds = []
for i in range(nfd + nmount):
    if libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'unshare')
    if i < nfd:
        fds.append(os.open('/proc/self/ns/net', os.O_RDONLY))
    else:
        p = os.path.join(d, 'net%d' % i)
        open(p, 'w').close()
        if libc.mount(b'/proc/self/ns/net', p.encode(), None, MS_BIND, None) != 0:
            raise OSError(ctypes.get_errno(), 'mount')
if libc.setns(home, CLONE_NEWNET) != 0:
    raise OSError(ctypes.get_errno(), 'setns')
print('ready', flush=True)
sys.stdin.read()
`;

/** lsns -J nests a namespace created by a process under its parent's ("children"). */
function flattenLsns(list: any) {
  return list.flatMap((x: any) => [x, ...(Array.isArray(x.children) ? flattenLsns(x.children) : [])]);
}


/** Runs argv RUNS times (after one warm-up); returns {us: median µs, out: last stdout}. */
function timeCommand(argv: any) {
  let out = '';
  const times: any[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
    const us = Number(process.hrtime.bigint() - t0) / 1e3;
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
    if (i > 0) times.push(us);
    out = r.stdout;
  }
  return { us: median(times), out };
}

async function waitFor(fn: any, what: any) {
  for (let i = 0; i < 2000; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main() {
  if (process.getuid!() !== 0) {
    console.log('ls bench needs root (it makes namespaces and bind mounts); skipped');
    return;
  }
  const cleanups: any[] = [];
  try {
    // --- 100 that only a walk of fds and mounts finds ---------------------
    const procs: any[] = [];
    cleanups.push(async () => {
      await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode !== null ? null : new Promise((r) => { p.once('exit', r); p.kill('SIGKILL'); }))));
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-bench-ls-'));
    const holder = spawn('python3', ['-c', HOLDER, String(HELD_BY_FD), String(HELD_BY_MOUNT), dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    cleanups.push(async () => {
      const gone = new Promise((r) => holder.once('exit', r));
      holder.kill('SIGKILL');
      await gone;
      for (const f of fs.readdirSync(dir)) spawnSync('umount', ['-l', path.join(dir, f)]);
      fs.rmSync(dir, { recursive: true, force: true });
    });
    await new Promise((resolve, reject) => {
      holder.stdout.once('data', resolve);
      holder.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
    });
    const { listNamespaces } = require(path.join(root, 'dist', 'index.js'));
    const node0 = timeCommand([process.execPath, '-e', '0']);
    const curve: string[] = [];
    const points: { size: number; call: number; lsns: number; ls: number }[] = [];

    for (const size of SIZES) {
      // --- namespaces lsns can see, 5 per process --------------------------
      const t0 = Date.now();
      while (procs.length * 5 < size) {
        procs.push(spawn('unshare', ['--net', '--uts', '--ipc', '--mount', '--cgroup', 'sleep', '100000'], { stdio: 'ignore' }));
      }
      await waitFor(() => procs.every((p) => {
        try {
          return fs.readFileSync(`/proc/${p.pid}/comm`, 'latin1').trim() === 'sleep';
        } catch {
          return false;
        }
      }), 'the namespace processes');
      const nprocs = readdirNums('/proc').length;
      console.log(`\n${procs.length * 5} namespaces in ${procs.length} processes, ${HELD_BY_FD} held by fds, ${HELD_BY_MOUNT} by bind mounts; ${nprocs} processes in all (made in ${Date.now() - t0} ms)`);

      // --- ls ---------------------------------------------------------------
      const lsns = timeCommand(['lsns', '-J']);
      const ls = timeCommand([process.execPath, bin, 'ls', '--json']);
      const nLsns = flattenLsns(JSON.parse(lsns.out).namespaces).length;
      const nsfdList = JSON.parse(ls.out).namespaces;
      const bySource: Record<string, any> = {};
      for (const n of nsfdList) {
        const k = n.sources.filter((s: any) => s !== 'listns' && s !== 'hierarchy').join('+') || n.sources.join('+');
        bySource[k] = (bySource[k] ?? 0) + 1;
      }
      // The library call alone, in this process (no Node start-up).
      const inproc: any[] = [];
      for (let i = 0; i <= RUNS; i++) {
        const s = process.hrtime.bigint();
        await listNamespaces();
        if (i > 0) inproc.push(Number(process.hrtime.bigint() - s) / 1e3);
      }
      const call = median(inproc);
      const ratio = (x: number) => (x <= lsns.us ? `${(lsns.us / x).toFixed(1)}x faster than lsns -J` : `${(x / lsns.us).toFixed(1)}x lsns's time`);
      console.log(`namespace listing (median of ${RUNS} runs)`);
      console.log(`  lsns -J                 ${fmt(lsns.us).padStart(10)}   finds ${nLsns}`);
      console.log(`  listNamespaces() call   ${fmt(call).padStart(10)}   (in-process, ${ratio(call)})`);
      console.log(`  nsfd ls --json          ${fmt(ls.us).padStart(10)}   finds ${nsfdList.length}  (${ratio(ls.us)}; node -e 0: ${fmt(node0.us)})`);
      console.log(`  nsfd by how held: ${Object.entries(bySource).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      const lsnsSet = new Set(flattenLsns(JSON.parse(lsns.out).namespaces).map((n: any) => Number(n.ns)));
      const nsfdSet = new Set(nsfdList.map((n: any) => n.inode));
      const onlyLsns = [...lsnsSet].filter((x) => !nsfdSet.has(x)).length;
      const onlyNsfd = [...nsfdSet].filter((x) => !lsnsSet.has(x)).length;
      console.log(`  last runs compared: ${onlyNsfd} only in nsfd's, ${onlyLsns} only in lsns's (processes that came or went between the two runs)`);
      points.push({ size: procs.length * 5, call, lsns: lsns.us, ls: ls.us });
      curve.push(`  ${String(procs.length * 5).padStart(5)} ns, ${String(nprocs).padStart(4)} processes: listNamespaces() ${fmt(call).padStart(9)}, lsns -J ${fmt(lsns.us).padStart(9)}, nsfd ls --json ${fmt(ls.us).padStart(9)}  (${(call / nprocs).toFixed(1)} µs per process)`);
    }
    console.log(`\nthe curve (medians of ${RUNS} runs; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')})`);
    for (const line of curve) console.log(line);
    const each = (f: (p: (typeof points)[number]) => number) => points.map((p) => fmt(f(p)).replace(' ms', '')).join(' / ') + ' ms';
    readmeRow({
      id: 'ls',
      what: `list namespaces: ${points.map((p) => p.size.toLocaleString('en')).join(' / ')} extra (5 per process) + ${HELD_BY_FD} held by fds + ${HELD_BY_MOUNT} by bind mounts, copied into every mount table`,
      nsfd: `${each((p) => p.call)} \`listNamespaces()\` in process; ${each((p) => p.ls)} \`nsfd ls --json\``,
      peer: `${each((p) => p.lsns)} \`lsns -J\` (finds fewer: no fd-, socket- or mount-held namespaces)`,
      ratio: points.map((p) => `${(p.call / p.lsns).toFixed(1)}x`).join(' / ') + ' lsns\'s time in process; issue 17\'s 3x faster not met',
    });

    // --- exec ---------------------------------------------------------------
    const target = await startTarget();
    cleanups.push(async () => target.stop());
    const t = String(target.pid);
    const nsenter = timeCommand(['nsenter', '-t', t, '-a', 'true']);
    let exec: any;
    try {
      exec = timeCommand([process.execPath, bin, 'exec', '-t', t, '-a', 'true']);
    } catch (err: any) {
      console.log(`\nnsfd exec: ${err.message.split('\n')[0]}`);
    }
    console.log(`\nenter all namespaces of a process and run true (median of ${RUNS} runs)`);
    console.log(`  nsenter -t PID -a true  ${fmt(nsenter.us).padStart(10)}`);
    if (exec) {
      console.log(`  nsfd exec -t PID -a true ${fmt(exec.us).padStart(9)}   (${(exec.us / nsenter.us).toFixed(1)}x nsenter's time; node -e 0 ${fmt(node0.us)}: +${fmt(exec.us - node0.us)})`);
      readmeRow({
        id: 'exec-cli',
        what: '`true` in all namespaces of a target, from the shell',
        nsfd: `${fmt(exec.us)} \`nsfd exec\` (+${fmt(exec.us - node0.us)} over \`node -e 0\`)`,
        peer: `${fmt(nsenter.us)} \`nsenter\``,
        ratio: `${(exec.us / nsenter.us).toFixed(0)}x slower (${fmt(node0.us)} is Node start-up)`,
      });
    }
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err: any) {
        console.error(`cleanup: ${err.message}`);
      }
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
