import * as fs from 'node:fs';

import { describe, expect, it } from 'vitest';

import { Namespace, NsError, Pidfd, translatePid } from '../lib/index';
import { checkLeaksPerTest, sharedTarget, startTarget } from './helpers';

function nspid(pid: number): number[] {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'latin1').split('\n').find((l) => l.startsWith('NSpid:'));
  return (line as string).slice(6).trim().split(/\s+/).map(Number);
}

const target = sharedTarget();
checkLeaksPerTest();

describe('translatePid', () => {
  it('ours → the target\'s pid namespace, and back, agree with NSpid', () => {
    const [outer, inner] = nspid(target.pid);
    expect(outer).toBe(target.pid);
    expect(inner).toBe(1); // the target is pid 1 of its namespace
    using p = Pidfd.open(target.pid);
    expect(translatePid(target.pid, { to: p })).toBe(inner);
    expect(translatePid(1, { from: p })).toBe(target.pid);
    using ns = p.namespace('pid');
    expect(translatePid(target.pid, { to: ns })).toBe(1);
    expect(translatePid(1, { from: ns })).toBe(target.pid);
  });

  it('between two sibling namespaces through ours: not visible → ESRCH', async () => {
    const other = await startTarget();
    try {
      using a = Pidfd.open(target.pid);
      using b = Pidfd.open(other.pid);
      // pid 1 of a is not visible in b (siblings).
      expect(() => translatePid(1, { from: a, to: b })).toThrowError(expect.objectContaining({ code: 'ESRCH', hint: expect.stringContaining('not visible') }));
      // Our own process is not visible in a child namespace either.
      expect(() => translatePid(process.pid, { to: a })).toThrowError(expect.objectContaining({ code: 'ESRCH' }));
      // Identity when from and to are the same namespace.
      expect(translatePid(1, { from: a, to: a })).toBe(1);
    } finally {
      await other.stop();
    }
  });

  it('a pid that does not exist in the source namespace → ESRCH', () => {
    using p = Pidfd.open(target.pid);
    expect(() => translatePid(4000, { from: p })).toThrowError(expect.objectContaining({ code: 'ESRCH', hint: expect.stringContaining('source') }));
  });

  it('defaults to our own namespace on both sides; tgid of a thread', () => {
    expect(translatePid(process.pid)).toBe(process.pid);
    const tid = fs.readdirSync('/proc/self/task').map(Number).find((t) => t !== process.pid) as number;
    expect(translatePid(tid)).toBe(tid);
    expect(translatePid(tid, { tgid: true })).toBe(process.pid);
  });

  it('a pid that does not exist in our own namespace → ESRCH', () => {
    expect(() => translatePid(0x3ffffff0)).toThrowError(expect.objectContaining({ code: 'ESRCH', hint: expect.stringContaining('no pid') }));
    expect(() => translatePid(0x3ffffff0, { tgid: true })).toThrowError(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('bad input', () => {
    expect(() => translatePid(0)).toThrow(RangeError);
    expect(() => translatePid('1' as unknown as number)).toThrow(TypeError);
    using net = Namespace.current('net');
    expect(() => translatePid(1, { from: net })).toThrowError(expect.objectContaining({ code: 'EINVAL', hint: expect.stringContaining('pid namespace') }));
    expect(() => translatePid(1, { to: {} as Pidfd })).toThrow(TypeError);
    const closed = Pidfd.self();
    closed.close();
    expect(() => translatePid(1, { from: closed })).toThrow(NsError);
  });
});
