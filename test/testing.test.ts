// nsfd/testing (issue 16, item 12): the throwaway target and the leak check
// test authors get, exercised the way they would use them.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

import { describe, expect, it } from 'vitest';

import { Pidfd, socketIn, spawn } from '../lib/index';
import { LeakError, createTarget, leakCheck } from '../lib/testing';
import { repoRoot, warmUp } from './helpers';

describe('nsfd/testing', () => {
  it('loads as nsfd/testing, with require and import', () => {
    const cjs = spawnSync(process.execPath, ['-e', "console.log(Object.keys(require('nsfd/testing')).sort().join())"], { cwd: repoRoot, encoding: 'utf8' });
    expect(cjs.stdout.trim()).toBe('LeakError,createTarget,leakCheck,snapshot');
    const esm = spawnSync(process.execPath, ['--input-type=module', '-e', "import { leakCheck } from 'nsfd/testing'; console.log(typeof leakCheck)"], { cwd: repoRoot, encoding: 'utf8' });
    expect(esm.stdout.trim()).toBe('function');
  });

  it('leakCheck() passes clean code and names a leaked fd and a leaked child', async () => {
    await warmUp();
    {
      using _ = leakCheck();
      using p = Pidfd.self();
      void p;
    }
    const check = leakCheck();
    const fd = fs.openSync('/dev/null', 'r');
    const child = spawn('/bin/sleep', ['100'], { stdio: 'ignore' });
    const err = check.diff();
    expect(err).toBeInstanceOf(LeakError);
    expect(err?.leaks.fds?.added).toContain(`${fd} -> /dev/null`);
    expect(err?.leaks.children?.added).toContain(child.pid);
    expect(() => check.assertNone()).toThrow(/resources leaked: fds: \+\[/);
    fs.closeSync(fd);
    child.kill('SIGKILL');
    await child.exited;
    child.close();
    expect(check.diff()).toBeUndefined();
  });

  it('createTarget(): new namespaces, usable as a target, gone after dispose', async () => {
    let pid = 0;
    {
      await using t = await createTarget({ hostname: 'nsfd-testing' });
      pid = t.pid;
      expect(fs.readlinkSync(`/proc/${pid}/ns/net`)).not.toBe(fs.readlinkSync('/proc/self/ns/net'));
      using s = socketIn(t, { family: 'inet', type: 'stream', bind: { address: '127.0.0.1' } });
      expect(s.fd).toBeGreaterThan(2);
      expect((await t.run('/bin/sh', ['-c', 'cat /proc/sys/kernel/hostname'])).stdout).toBe('nsfd-testing\n');
    }
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
  });

  it('createTarget(): the target dies with the test process, even on SIGKILL', async () => {
    const script = `
      const { createTarget } = require('nsfd/testing');
      createTarget().then((t) => { console.log(t.pid); setInterval(() => {}, 1000); });`;
    const { spawn: cpSpawn } = await import('node:child_process');
    const owner = cpSpawn(process.execPath, ['-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => owner.stdout.once('data', (b: Buffer) => resolve(b.toString())));
    const pid = Number(line.trim());
    expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
    using p = Pidfd.open(pid);
    owner.kill('SIGKILL');
    await new Promise((r) => owner.once('close', r));
    await p.wait();
  });
});
