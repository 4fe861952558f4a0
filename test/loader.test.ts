import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { repoRoot } from './helpers';

describe('package', () => {
  it('loads with import and require (same objects) and inside a Worker', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'test/fixtures/load.mjs')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const o = JSON.parse(r.stdout);
    expect(o.same).toBe(true);
    expect(o.esmNames).toEqual(o.cjsNames);
    for (const name of ['Pidfd', 'Namespace', 'attach', 'translatePid', 'features', 'NsError', 'UnsupportedError', 'OwnedFd']) {
      expect(o.esmNames).toContain(name);
    }
    expect(o.worker).toBe(o.pid);
    expect(o.exportsMap).toMatchObject({ import: './dist/index.mjs', require: './dist/index.js', types: './dist/index.d.ts' });
  });

  it('ships type declarations', () => {
    expect(fs.existsSync(path.join(repoRoot, 'dist/index.d.ts'))).toBe(true);
    expect(fs.readFileSync(path.join(repoRoot, 'dist/pidfd.d.ts'), 'utf8')).toMatch(/static open\(pid: number/);
  });
});
