// The long soak: 100k mixed operations (NSFD_SOAK_COUNT to change), run by
// `npm run test:stress` (NSFD_STRESS=1).
import { describe, expect, it } from 'vitest';

import { runSoak } from './soak-check';

const COUNT = Number(process.env.NSFD_SOAK_COUNT ?? 100000);

describe('soak (stress)', () => {
  it(`${COUNT} mixed operations: fds and RSS flat, dropped handles closed by GC`, () => {
    const o = runSoak(COUNT, 900000);
    expect(o.kinds).toBeGreaterThanOrEqual(15);
  }, 1000000);
});
