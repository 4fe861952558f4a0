// The long fuzz run: several seeds, many calls (`npm run test:stress`).
// NSFD_FUZZ_SEEDS="1 2 3" and NSFD_FUZZ_COUNT override.
import { describe, expect, it } from 'vitest';

import { checkFuzz, runFuzz } from './fuzz-check';

const SEEDS = (process.env.NSFD_FUZZ_SEEDS ?? '1 2 3 20251124').split(/\s+/).filter(Boolean).map(Number);
const COUNT = Number(process.env.NSFD_FUZZ_COUNT ?? 20000);

describe('API fuzzing (stress)', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}, ${COUNT} calls: no crash, hang or leak; only typed errors`, () => {
      const o = runFuzz(seed, COUNT, 900000);
      console.log(`fuzz stress: seed ${seed}: ${o.calls} calls in ${o.ms} ms, ${o.threw} threw, untyped ${o.untyped.length}, fds ${o.fdStart} -> ${o.fdEnd}, host targets refused ${o.hostRefused}`);
      checkFuzz(o);
      expect(o.untyped, JSON.stringify(o.untyped.slice(0, 5), null, 1)).toEqual([]);
    }, 1000000);
  }
});
