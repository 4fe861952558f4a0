// Shared by test/soak.test.ts (bounded, in `npm test`) and
// test/stress/soak.test.ts (100k operations, `npm run test:stress`).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { expect } from 'vitest';

const MiB = 1024 * 1024;

export interface SoakSide {
  fds: number;
  rss: number;
  heap: number;
  heapTotal: number;
  warnings: number;
  dropped: number;
}

export interface SoakResult {
  count: number;
  opsTotal: number;
  ms: number;
  before: SoakSide;
  after: SoakSide;
  ops: Record<string, number>;
  errors: Record<string, number>;
  kinds: number;
  rssTraceMiB: number[];
}

/**
 * Runs test/fixtures/soak-mixed.ts (COUNT operations after a warm-up) and
 * checks it leaked nothing:
 * - fds: exactly as many open after as before (all measured after GC);
 * - handles dropped without close(): every one collected, closed and warned about;
 * - memory: V8's heap in use grows < 4 MiB, and RSS net of V8's own heap
 *   reservation grows < 10 MiB. V8 grows its young generation from 4 to
 *   16 MiB under a high allocation rate (seen as heapTotal), which is not
 *   a leak; anything of ours (native allocations, fds, kernel objects
 *   mapped) would show in the net figure. 100k operations leaking even
 *   100 bytes each would pass 10 MiB; the per-operation runs (NSFD_SOAK_ONLY)
 *   are the finer check.
 */
export function runSoak(count: number, timeoutMs: number): SoakResult {
  const fixture = path.join(__dirname, '..', '..', 'dist-dev', 'test', 'fixtures', 'soak-mixed.js');
  const r = spawnSync(process.execPath, ['--expose-gc', '--no-warnings', fixture, String(count)], {
    encoding: 'utf8',
    timeout: timeoutMs,
    cwd: '/',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const o = JSON.parse(r.stdout) as SoakResult;
  const { before: b, after: a } = o;
  const rssNet = a.rss - b.rss - (a.heapTotal - b.heapTotal);
  console.log(
    `soak: ${o.opsTotal} operations (${o.count} measured, ${o.kinds} kinds, ${Object.values(o.errors).reduce((x, y) => x + y, 0)} expected failures) in ${o.ms} ms; ` +
      `fds ${b.fds} -> ${a.fds}; RSS ${(b.rss / MiB).toFixed(1)} -> ${(a.rss / MiB).toFixed(1)} MiB ` +
      `(V8 heapTotal ${(b.heapTotal / MiB).toFixed(1)} -> ${(a.heapTotal / MiB).toFixed(1)}, net ${(rssNet / MiB).toFixed(1)} MiB); ` +
      `heap used ${(b.heap / MiB).toFixed(1)} -> ${(a.heap / MiB).toFixed(1)} MiB; GC-closed handles ${a.dropped} (warnings ${a.warnings})`,
  );
  expect(o.opsTotal).toBeGreaterThanOrEqual(count);
  expect(a.fds).toBe(b.fds);
  expect(a.dropped).toBeGreaterThan(b.dropped);
  expect(a.warnings).toBe(a.dropped);
  expect(a.heap - b.heap).toBeLessThan(4 * MiB);
  // Under AddressSanitizer (scripts/sanitize.sh sets NSFD_SANITIZER=asan)
  // freed memory sits in its quarantine: RSS says nothing there; fds and GC still do.
  if (process.env.NSFD_SANITIZER !== 'asan') expect(rssNet).toBeLessThan(10 * MiB);
  // The mix really mixes: failures of several kinds happened.
  for (const code of ['ESRCH', 'EBADF', 'EINVAL', 'ENOENT', 'ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE']) expect(o.errors[code], code).toBeGreaterThan(0);
  return o;
}
