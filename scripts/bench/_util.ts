// Shared benchmark helpers: timing loops and a table with ratios.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Runs fn n times (after `warm` warm-ups); returns microseconds per op. */
export function timeSync(fn: () => unknown, n: number, warm = Math.min(100, n)) {
  for (let i = 0; i < warm; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

export async function timeAsync(fn: () => Promise<unknown>, n: number, warm = Math.min(10, n)) {
  for (let i = 0; i < warm; i++) await fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

export function fmt(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(2)} µs`;
}

/** Prints rows [name, µs/op] and each row's ratio to the first (baseline is rows[0]). */
export function table(title: string, rows: [string, number][]): void {
  console.log(`\n${title}`);
  const first = rows[0];
  if (first === undefined) return;
  const base = first[1];
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [name, us] of rows) {
    const ratio = us === base ? '1.00x' : base / us >= 1 ? `${(base / us).toFixed(2)}x faster than ${first[0]}` : `${(us / base).toFixed(2)}x slower than ${first[0]}`;
    console.log(`  ${name.padEnd(w)}  ${fmt(us).padStart(10)}/op  ${ratio}`);
  }
}

/** A process in new namespaces (pid 1 of a new pid ns); resolves {pid, stop}. */
export async function startTarget(extra: string[] = []): Promise<{ pid: number; stop(): void }> {
  const args = ['--fork', '--pid', '--mount-proc', '--mount', '--net', '--uts', '--ipc', '--cgroup', ...extra, 'sleep', '100000'];
  const launcher = spawn('unshare', args, { stdio: 'ignore' });
  for (let i = 0; i < 1000; i++) {
    try {
      const kids = fs.readFileSync(`/proc/${launcher.pid}/task/${launcher.pid}/children`, 'latin1').trim();
      if (kids) {
        const pid = Number(kids.split(/\s+/)[0]);
        if (fs.readFileSync(`/proc/${pid}/comm`, 'latin1').trim() === 'sleep') {
          return { pid, stop: () => { try { process.kill(pid, 'SIGKILL'); } catch {} } };
        }
      }
    } catch {}
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('target did not start');
}

/** The middle value (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/**
 * Times each variant in interleaved rounds (after 3 warm-up calls each), so
 * load from elsewhere hits them alike: `rounds` times, every variant `n`
 * calls in turn. Rows of [name, median µs per call], in the map's order.
 */
export async function medianInterleaved(variants: ReadonlyMap<string, () => Promise<unknown>>, rounds: number, n: number): Promise<[string, number][]> {
  const results = new Map<string, number[]>([...variants.keys()].map((name) => [name, []]));
  for (const [, fn] of variants) for (let i = 0; i < 3; i++) await fn();
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of variants) {
      for (let i = 0; i < n; i++) {
        const t0 = process.hrtime.bigint();
        await fn();
        (results.get(name) as number[]).push(Number(process.hrtime.bigint() - t0) / 1e3);
      }
    }
  }
  return [...results].map(([name, xs]) => [name, median(xs)]);
}

/**
 * DIR/rootfs: /bin/busybox (a copy of `busybox`, the static one) with
 * /bin/NAME links for `links`, and empty /proc, /dev and /sys (mount points
 * a read-only root must already have: bwrap, runc spec's root). Its path.
 */
export function busyboxRootfs(dir: string, busybox: string, links: readonly string[]): string {
  const root = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.copyFileSync(busybox, path.join(root, 'bin/busybox'));
  fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
  for (const l of links) fs.symlinkSync('busybox', path.join(root, 'bin', l));
  for (const d of ['proc', 'dev', 'sys']) fs.mkdirSync(path.join(root, d));
  return root;
}

/** The first of `paths` that exists. */
export function which(paths: readonly string[]): string | undefined {
  return paths.find((p) => fs.existsSync(p));
}

/** Debian's runc, if installed. */
export const RUNC = which(['/usr/sbin/runc', '/usr/bin/runc']);

/**
 * DIR/bundle: `runc spec`'s config.json with terminal off, `args` as the
 * process and `root` as its root, then `edit` applied. The bundle's path.
 */
export function runcSpecBundle(dir: string, runc: string, root: string, args: readonly string[], edit: (config: { process: Record<string, any>; root: Record<string, any> }) => void = () => {}): string {
  const bundle = path.join(dir, 'bundle');
  fs.mkdirSync(bundle);
  execFileSync(runc, ['spec'], { cwd: bundle });
  const file = path.join(bundle, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  config.process.terminal = false;
  config.process.args = [...args];
  config.root.path = root;
  edit(config);
  fs.writeFileSync(file, JSON.stringify(config));
  return bundle;
}

/**
 * One row of the README's benchmark table: what was measured, nsfd's
 * figure, the peer's from the same run, and the ratio. `id` keeps the
 * row's place: `npm run bench -- --readme` replaces the rows whose ids it
 * measured and keeps the others (scripts/bench.ts, scripts/bench/results.json).
 */
export interface ReadmeRow {
  id: string;
  what: string;
  nsfd: string;
  peer: string;
  ratio: string;
}

/** Prints a README row and hands it to scripts/bench.ts (through the file NSFD_BENCH_ROWS names). */
export function readmeRow(row: ReadmeRow): void {
  console.log(`  [README ${row.id}] ${row.nsfd} | ${row.peer} | ${row.ratio}`);
  const file = process.env.NSFD_BENCH_ROWS;
  if (file) fs.appendFileSync(file, `${JSON.stringify(row)}\n`);
}

/** "2.3x faster" / "1.4x slower": how nsfd's time `ours` compares with `theirs`. */
export function faster(ours: number, theirs: number): string {
  const x = (r: number) => (r >= 10 ? r.toFixed(0) : r.toFixed(1));
  return theirs >= ours ? `${x(theirs / ours)}x faster` : `${x(ours / theirs)}x slower`;
}
