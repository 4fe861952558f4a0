import * as os from 'node:os';

import { describe, expect, it } from 'vitest';

import { FeatureName, NsError, UnsupportedError, features } from '../lib/index';
import { has } from '../lib/features';

function atLeast(v: string): boolean {
  const [a, b] = os.release().split('.').map(Number) as [number, number];
  const [x, y] = v.split('.').map(Number) as [number, number];
  return a > x || (a === x && b >= y);
}

describe('features()', () => {
  const f = features();

  it('is cached and lists every feature with the kernel that brings it', () => {
    expect(features()).toBe(f);
    for (const [name, v] of Object.entries(f)) {
      expect(typeof v.available, name).toBe('boolean');
      expect(v.since, name).toMatch(/^\d+\.\d+$/);
    }
  });

  it('has(name) answers for every feature, and refuses names that are not features', () => {
    for (const [name, v] of Object.entries(f)) expect(has(name as FeatureName)).toBe(v.available);
    for (const bad of ['constructor', '__proto__', 'toString', 'nope', '', 7, undefined, Symbol('x')]) {
      expect(() => has(bad as FeatureName), String(bad)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
  });

  it('agrees with the running kernel version for version-bound features', () => {
    // Probed features must be present on kernels that have them.
    for (const name of ['pidfd_open', 'pidfd_nonblock', 'setns_pidfd', 'clone3', 'openat2', 'pidfd_getfd', 'pidfd_thread', 'pidfs', 'pidfd_get_namespace', 'pid_translation', 'pidfd_get_info', 'ns_get_id', 'nsfs_handles', 'listns'] as const) {
      expect(f[name].available, `${name} (since ${f[name].since}, running ${os.release()})`).toBe(atLeast(f[name].since));
    }
  });
});

describe('errors', () => {
  it('NsError looks like a Node fs error', () => {
    const e = new NsError(-3, 'pidfd_open', { pid: 5, hint: 'the process has exited' });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('NsError');
    expect(e).toMatchObject({ code: 'ESRCH', errno: -3, syscall: 'pidfd_open', pid: 5, hint: 'the process has exited' });
    expect(e.message).toBe('ESRCH: no such process, pidfd_open (the process has exited)');
    expect(Object.keys(e)).not.toContain('name');
    expect(e.stack).toContain('features.test.ts');
  });

  it('names errnos Node does not know', () => {
    expect(new NsError(87, 'setns').code).toBe('EUSERS');
    expect(new NsError(66, 'ioctl').code).toBe('EREMOTE');
    expect(new NsError(10, 'waitid').message).toBe('ECHILD: no child processes, waitid');
    expect(new NsError(116, 'open_by_handle_at').message).toBe('ESTALE: stale file handle, open_by_handle_at');
  });

  it('UnsupportedError names the feature and the kernel', () => {
    const e = new UnsupportedError('NS_GET_ID', '6.18', -25, 'ioctl(NS_GET_ID)');
    expect(e).toBeInstanceOf(NsError);
    expect(e.name).toBe('UnsupportedError');
    expect(e).toMatchObject({ code: 'ENOTTY', errno: -25, feature: 'NS_GET_ID', since: '6.18' });
    expect(e.message).toContain('NS_GET_ID needs Linux 6.18 or later');
    expect(e.message).toContain(os.release());
  });
});
