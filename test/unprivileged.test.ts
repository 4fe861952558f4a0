import { describe, expect, it } from 'vitest';

import { feat, isRoot, needsRoot, runFixture } from './helpers';

needsRoot('runs a fixture as another user (uid 65534): setuid').describe.runIf(feat.unprivileged_userns.available)('as nobody (uid 65534), no capabilities', () => {
  it('works where permitted and gives typed errors with hints where not', () => {
    const r = runFixture('unpriv.js', [], { uid: 65534, gid: 65534 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.uid).toBe(65534);
    expect(o.features).toBe(true);
    expect(o.selfInfo).toEqual({ ok: 65534 });
    // Signal 0 to root's process: allowed to probe? no: EPERM, typed, with the capability hint.
    expect(o.signalRoot).toMatchObject({ code: 'EPERM', isNsError: true });
    expect(['EACCES', 'EPERM']).toContain(o.rootNs.code);
    expect(o.rootNs.hint).toMatch(/ptrace|CAP_SYS_ADMIN/);
    expect(o.persist).toMatchObject({ code: 'EPERM', isNsError: true, hint: expect.stringContaining('CAP_SYS_ADMIN') });
    expect(o.childTranslate).toEqual({ ok: [1, expect.any(Number)] });
    expect(o.childUserOwner).toEqual({ ok: 65534 });
    expect(o.childNetOwnedByItsUserns).toEqual({ ok: true });
    expect(o.attachChild).toMatchObject({ code: 'EPERM', isNsError: true });
    expect(o.netUnchanged).toBe(true);
    // Not our child (unshare is): status from PIDFD_GET_INFO where the kernel keeps it.
    expect(o.waitChild).toEqual(feat.pidfd_info_exit.available ? { code: null, signal: 'SIGKILL' } : { code: null, signal: null });
    expect(o.fdDelta).toBe(1); // the reaper's epoll set, created on first wait
  });
});
