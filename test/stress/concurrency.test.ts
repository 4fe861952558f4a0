// Long concurrency and pid-reuse runs (`npm run test:stress`).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { feat, isRoot } from '../helpers';

const fixture = (name: string) => path.join(__dirname, '..', '..', 'dist-dev', 'test', 'fixtures', name);
const ROUNDS = Number(process.env.NSFD_CONC_ROUNDS ?? 20);
const PER_ROUND = Number(process.env.NSFD_CONC_SPAWNS ?? 300);

describe.runIf(feat.clone3.available)('concurrency (stress)', () => {
  it(`${ROUNDS} × ${PER_ROUND} spawns at once under load: every status, no zombie, no deadlock`, () => {
    const r = spawnSync(process.execPath, [fixture('conc-spawn.js'), String(ROUNDS), String(PER_ROUND), '7'], { encoding: 'utf8', timeout: 900000, cwd: '/' });
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout);
    console.log(`concurrency stress: ${o.spawned} spawns, ${o.cpChildren} child_process children, ${o.attaches} attach/restore in ${o.ms} ms`);
    expect(o.spawned).toBe(ROUNDS * PER_ROUND);
    expect(o.mismatches).toEqual([]);
    expect(o.cpMismatches).toEqual([]);
    expect(o.pidfdWatchMismatches).toEqual([]);
    expect(o.zombies).toEqual([]);
    expect(o.children).toBe('');
    expect(o.poolThreadsMoved).toBe(0);
    for (const w of o.workers) expect(w.bad).toBe(0);
  }, 1000000);
});

describe.runIf(isRoot)('pid reuse (stress)', () => {
  it('50 rounds, both kinds of A: the stale handle never reaches B', () => {
    for (let i = 0; i < 50; i++) {
      const mode = i % 2 ? 'spawn' : 'cp';
      const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, fixture('reuse-pid.js'), mode], { encoding: 'utf8', timeout: 60000, cwd: '/' });
      expect(r.stderr, `round ${i}`).toBe('');
      expect(r.status, `round ${i}`).toBe(0);
      const o = JSON.parse(r.stdout);
      expect(o.reused).toBe(true);
      for (const [op, alive] of Object.entries(o.bAlive)) expect(alive, `round ${i}: B alive after ${op}`).toBe(true);
      for (const [op, res] of Object.entries(o.steps as Record<string, { code?: string; ok?: unknown }>)) {
        if (res.code !== undefined) expect(['ESRCH', 'EOPNOTSUPP'], `round ${i}: ${op}`).toContain(res.code);
      }
      expect(o.bExit).toEqual({ code: null, signal: 'SIGTERM' });
    }
  }, 900000);
});
