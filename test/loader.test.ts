import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { O_DIRECTORY, O_NONBLOCK, O_PATH, O_RDWR, O_TMPFILE } from '../lib/sys/constants';
import { repoRoot, fixturePath } from './helpers';

describe('package', () => {
  it('loads with import and require (same objects) and inside a Worker', () => {
    const r = spawnSync(process.execPath, [fixturePath('load.mjs')], { encoding: 'utf8' });
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

  it("uses this architecture's open flags (O_DIRECTORY is 0o200000 on x86_64, 0o40000 on aarch64)", () => {
    expect(O_DIRECTORY).toBe(fs.constants.O_DIRECTORY);
    expect(O_NONBLOCK).toBe(fs.constants.O_NONBLOCK);
    expect(O_RDWR).toBe(fs.constants.O_RDWR);
    expect(O_PATH).toBe(0o10000000);
    expect(O_TMPFILE).toBe(0o20000000 | fs.constants.O_DIRECTORY);
  });

  it('ships type declarations', () => {
    expect(fs.existsSync(path.join(repoRoot, 'dist/index.d.ts'))).toBe(true);
    expect(fs.readFileSync(path.join(repoRoot, 'dist/pidfd.d.ts'), 'utf8')).toMatch(/static open\(pid: number/);
  });
});
