// Start-up: what a CLI call and `require('nsfd')` cost over `node -e 0`,
// next to the util-linux peers, in one run. Each command runs RUNS times,
// round-robin (so a busy moment hits all of them alike); the median is
// reported. The target of exec is a process in new namespaces. Needs root
// for exec/unshare rows (skipped otherwise).
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

import { fmt, median, readmeRow, startTarget } from './_util.js';

// Compiled to dist-dev/scripts/bench/: the repository is three levels up.
const root = path.join(__dirname, '..', '..', '..');
const bin = path.join(root, 'bin', 'nsfd.js');
const RUNS = Number(process.env.NSFD_BENCH_RUNS ?? 30);
const node = process.execPath;
const NO_CACHE = { NSFD_CODE_CACHE: '0' };


/** Median µs of each command line, run round-robin RUNS times after 2 warm-up rounds. */
type Row = [name: string, argv: string[], peer?: string, env?: Record<string, string>];

function timeAll(rows: Row[]): number[] {
  const times: number[][] = rows.map(() => []);
  for (let i = 0; i < RUNS + 2; i++) {
    rows.forEach(([, argv, , env], k) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], cwd: root, env: env ? { ...process.env, ...env } : process.env });
      const us = Number(process.hrtime.bigint() - t0) / 1e3;
      if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
      if (i >= 2) (times[k] as number[]).push(us);
    });
  }
  return times.map(median);
}

/** How many module files `code` leaves in require.cache (the loader's per-file work). */
function modulesLoaded(code: string): string {
  const r = spawnSync(node, ['-e', `${code}; process.stdout.write(String(Object.keys(require.cache).length))`], { cwd: root, encoding: 'utf8' });
  return r.stdout;
}

async function main(): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  const target = isRoot ? await startTarget() : undefined;
  try {
    const t = target ? String(target.pid) : '';
    // [name, argv, peer row name (for the ratio)]
    const rows: Row[] = [
      ['node -e 0', [node, '-e', '0']],
      ["require('nsfd')", [node, '-e', "require('./dist')"]],
      ['nsfd --help', [node, bin, '--help']],
      ['nsfd ls --json', [node, bin, 'ls', '--json'], 'lsns -J'],
      // The CLI's V8 code caches off (lib/cli/code-cache.ts): what they save.
      ['nsfd ls --json, no code cache', [node, bin, 'ls', '--json'], 'lsns -J', NO_CACHE],
      ['lsns -J', ['lsns', '-J']],
    ];
    if (target) {
      rows.push(
        ['nsfd exec -t PID -a true', [node, bin, 'exec', '-t', t, '-a', 'true'], 'nsenter -t PID -a true'],
        ['nsfd exec, no code cache', [node, bin, 'exec', '-t', t, '-a', 'true'], 'nsenter -t PID -a true', NO_CACHE],
        ['nsenter -t PID -a true', ['nsenter', '-t', t, '-a', 'true']],
        ['nsfd unshare -u -n true', [node, bin, 'unshare', '-u', '-n', 'true'], 'unshare -u -n true'],
        ['unshare -u -n true', ['unshare', '-u', '-n', 'true']],
      );
    }
    const us = timeAll(rows);
    const base = us[0] as number;
    const byName = new Map(rows.map(([name], k) => [name, us[k]]));
    console.log(`\nstart-up (median of ${RUNS} round-robin runs; gap = over node -e 0; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')})`);
    const w = Math.max(...rows.map((r) => r[0].length));
    rows.forEach(([name, , peer], k) => {
      const u = us[k] as number;
      const gap = k === 0 || (!name.startsWith('nsfd') && !name.startsWith('require')) ? '' : `${u >= base ? '+' : '-'}${fmt(Math.abs(u - base))} over node`;
      const vs = peer ? `, ${(u / (byName.get(peer) as number)).toFixed(1)}x ${peer}` : '';
      console.log(`  ${name.padEnd(w)}  ${fmt(u).padStart(10)}  ${gap}${vs}`);
    });
    console.log(`  module files loaded: require('nsfd') ${modulesLoaded("require('./dist')")}, nsfd ls ${modulesLoaded("require('./dist/cli/ls.js')")}, nsfd exec ${modulesLoaded("require('./dist/cli/exec.js')")}`);
    if (!target) console.log('  (exec and unshare rows need root; skipped)');
    const over = (name: string) => {
      const u = byName.get(name);
      return u === undefined ? undefined : `+${fmt(u - base)}`;
    };
    const gaps = ["require('nsfd')", 'nsfd --help', 'nsfd ls --json', 'nsfd exec -t PID -a true', 'nsfd unshare -u -n true'].flatMap((n) => {
      const g = over(n);
      return g === undefined ? [] : [`\`${n.replace(' -t PID -a true', '')}\` ${g}`];
    });
    const uncached = ['nsfd ls --json, no code cache', 'nsfd exec, no code cache'].flatMap((n) => {
      const g = over(n);
      return g === undefined ? [] : [`\`${n.replace(', no code cache', '').replace(' --json', '')}\` ${g}`];
    });
    if (uncached.length > 0) gaps.push(`(without the code caches: ${uncached.join(', ')})`);
    const worst = Math.max(...['nsfd ls --json', 'nsfd exec -t PID -a true'].map((n) => (byName.get(n) ?? base) - base));
    readmeRow({
      id: 'startup',
      what: `start-up over \`node -e 0\` (${fmt(base)}), median of ${RUNS} round-robin runs`,
      nsfd: gaps.join(', '),
      peer: ['lsns -J', 'nsenter -t PID -a true', 'unshare -u -n true'].flatMap((n) => (byName.has(n) ? [`\`${n.replace(' -t PID -a true', '')}\` ${fmt(byName.get(n) as number)}`] : [])).join(', '),
      ratio: `issue 17's 15 ms over \`node -e 0\` for \`ls\`/\`exec\`: ${worst <= 15000 ? 'met' : 'not met'}`,
    });
  } finally {
    await target?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
