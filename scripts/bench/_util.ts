// Shared benchmark helpers: timing loops and a table with ratios.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

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
