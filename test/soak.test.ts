// Leak soak, bounded for CI: 20k mixed operations (failures included, see
// test/fixtures/soak-mixed.ts) leave the fd count exactly flat and memory
// flat; handles dropped without close() are collected and closed.
// `npm run test:stress` runs 100k (test/stress/soak.test.ts).
import { describe, expect, it } from 'vitest';

import { runSoak } from './stress/soak-check';

const COUNT = Number(process.env.NSFD_SOAK_COUNT ?? 20000);

describe('soak (bounded)', () => {
  it(`${COUNT} mixed operations: fds and RSS flat, dropped handles closed by GC`, () => {
    const o = runSoak(COUNT, 120000);
    expect(o.kinds).toBeGreaterThanOrEqual(15);
  }, 150000);
});
