// Privileges of spawned processes, on the real kernel: capability sets,
// no_new_privs, rlimits and seccomp (nsfd's default profile and OCI
// profiles), read back from /proc/self/status and from what syscalls do;
// then Container.create's defaults and c.run inheriting them; then the
// same config under runc, side by side.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Container, DEFAULT_CAPABILITIES, run } from '../lib/index';
import type { OciSeccompProfile, RunOptions } from '../lib/index';
import { checkLeaksPerTest, isRoot, needsRoot, rootless, warmUp } from './helpers';

// Capability numbers from linux/capability.h, spelled here independently of lib/.
const CAP: Record<string, number> = {
  CHOWN: 0, DAC_OVERRIDE: 1, DAC_READ_SEARCH: 2, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7, SETPCAP: 8,
  NET_BIND_SERVICE: 10, NET_ADMIN: 12, NET_RAW: 13, SYS_CHROOT: 18, SYS_ADMIN: 21, MKNOD: 27, AUDIT_WRITE: 29, SETFCAP: 31,
  SYSLOG: 34, BPF: 39,
};
const mask = (names: string[]): bigint => names.reduce((m, n) => m | (1n << BigInt(CAP[n.replace(/^CAP_/, '')] as number)), 0n);
const EPERM = os.constants.errno.EPERM;
const ENOSYS = os.constants.errno.ENOSYS;

/** The privilege lines of a /proc/PID/status: Cap* as bigints, NoNewPrivs and Seccomp as numbers. */
function privs(status: string): { CapInh: bigint; CapPrm: bigint; CapEff: bigint; CapBnd: bigint; CapAmb: bigint; NoNewPrivs: number; Seccomp: number } {
  const get = (k: string): string => {
    const m = new RegExp(`^${k}:\\s*(\\S+)`, 'm').exec(status);
    if (!m) throw new Error(`no ${k} in status:\n${status}`);
    return m[1] as string;
  };
  const cap = (k: string) => BigInt(`0x${get(k)}`);
  return { CapInh: cap('CapInh'), CapPrm: cap('CapPrm'), CapEff: cap('CapEff'), CapBnd: cap('CapBnd'), CapAmb: cap('CapAmb'), NoNewPrivs: Number(get('NoNewPrivs')), Seccomp: Number(get('Seccomp')) };
}

// The bounding set our children start from: ours as root (rootless() adds
// nothing then); rootless, rootless() puts them in a new user namespace,
// where the kernel gives the full set (even though test:rootless runs us
// with an empty one: setpriv --bounding-set=-all).
const own = privs(fs.readFileSync('/proc/self/status', 'latin1'));
const KERNEL_ALL = (1n << BigInt(Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'latin1')) + 1)) - 1n;
const BND = isRoot ? own.CapBnd : KERNEL_ALL;
const inBounding = (m: bigint): boolean => (m & ~BND) === 0n;

async function statusOf(options: RunOptions): Promise<ReturnType<typeof privs>> {
  const r = await run('/bin/cat', ['/proc/self/status'], options);
  expect(r.code, r.stderr).toBe(0);
  return privs(r.stdout);
}

// A probe that makes one syscall and prints 0 or its errno; compiled in
// set-up (cc is what node-gyp needs anyway).
let tmp: string;
let probe: string | undefined;
const PROBE_C = `
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char** argv) {
  const char* c = argv[1];
  unsigned long long a = argc > 2 ? strtoull(argv[2], 0, 0) : 0;
  long r = -1;
  errno = 0;
  if (!strcmp(c, "keyctl")) r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -2 /* process keyring */, 0);
  else if (!strcmp(c, "personality")) r = syscall(SYS_personality, a);
  else if (!strcmp(c, "clone3")) r = syscall(435, NULL, 0);
  else if (!strcmp(c, "unshare")) r = syscall(SYS_unshare, a);
  else if (!strcmp(c, "getpid")) r = syscall(SYS_getpid, a);
  else if (!strcmp(c, "getppid")) r = syscall(SYS_getppid);
#ifdef __x86_64__
  else if (!strcmp(c, "x32")) r = syscall(0x40000000 | SYS_getpid);
#endif
  printf("%d\\n", r < 0 ? errno : 0);
  return 0;
}
`;

// Compiled as the file loads: which tests run depends on it.
{
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-priv-'));
  fs.chmodSync(tmp, 0o755);
  fs.writeFileSync(path.join(tmp, 'probe.c'), PROBE_C);
  const cc = spawnSync('cc', ['-O1', '-o', path.join(tmp, 'probe'), path.join(tmp, 'probe.c')], { encoding: 'utf8' });
  if (cc.status === 0) probe = path.join(tmp, 'probe');
}
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

beforeAll(async () => {
  await warmUp();
  // The first run() makes Node open /dev/null once for good, and the first
  // Container keeps what it opens lazily: do both before counting.
  await run('/bin/true');
  const c = await Container.create();
  const exited = c.exited;
  c.close();
  await exited.catch(() => undefined);
});
// No fd left open by any test, failed spawns included.
checkLeaksPerTest();

/** The errno the probe's syscall got (0: it worked). */
async function probeErrno(options: RunOptions, ...args: string[]): Promise<number> {
  const r = await run(probe as string, args, options);
  expect(r.code, r.stderr).toBe(0);
  return Number(r.stdout.trim());
}
const itProbe = (name: string, fn: () => Promise<void>) => (probe === undefined ? it.skip(`${name} [skipped: no C compiler for the probe]`, fn) : it(name, fn));

describe('spawn(): capabilities', () => {
  it('a flat list: bounding = permitted = effective = the list, inheritable and ambient empty (as runc)', async () => {
    const list = ['CAP_CHOWN', 'net_bind_service', 'SETPCAP', 'CAP_KILL'];
    const s = await statusOf(rootless({ capabilities: list }));
    const m = mask(list.map((n) => n.toUpperCase())) & BND;
    expect(s).toMatchObject({ CapBnd: m, CapPrm: m, CapEff: m, CapInh: 0n, CapAmb: 0n, NoNewPrivs: 0, Seccomp: 0 });
  });

  const five = inBounding(mask(['CHOWN', 'KILL', 'NET_RAW', 'SETPCAP']));
  (five ? it : it.skip)(`the five sets given one by one${five ? '' : ' [skipped: our bounding set lacks them (capset refuses an inheritable cap outside it)]'}`, async () => {
    const s = await statusOf(
      rootless({
        capabilities: {
          bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETPCAP'],
          permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'],
          effective: ['CAP_KILL'],
          inheritable: ['CAP_NET_RAW', 'CAP_CHOWN'],
          ambient: ['CAP_NET_RAW'],
        },
      }),
    );
    // Root execs a file with every file capability: P' = (P(inh) & F(inh)) | (F(prm) & bounding) | ambient.
    // So root's permitted after exec is bounding | inheritable, and effective the same (root's file is "effective").
    expect(s.CapBnd).toBe(mask(['CHOWN', 'KILL', 'NET_RAW', 'SETPCAP']));
    expect(s.CapInh).toBe(mask(['NET_RAW', 'CHOWN']));
    expect(s.CapAmb).toBe(mask(['NET_RAW']));
    expect(s.CapPrm).toBe(mask(['CHOWN', 'KILL', 'NET_RAW', 'SETPCAP']));
  });

  it('an empty list: no capability at all, yet root', async () => {
    const r = await run('/bin/sh', ['-c', 'id -u; grep -E "^Cap" /proc/self/status'], rootless({ capabilities: [] }));
    expect(r.stdout.split('\n')[0]).toBe('0');
    expect(privs(`${r.stdout}NoNewPrivs: 0\nSeccomp: 0\n`)).toMatchObject({ CapBnd: 0n, CapPrm: 0n, CapEff: 0n, CapInh: 0n, CapAmb: 0n });
  });

  needsRoot('switches to uid 1000 outside any user namespace').it('a uid switch keeps the asked caps (ambient carries them across exec, as in runc)', async () => {
    const caps = ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'];
    const r = await run('/bin/sh', ['-c', 'id -u; cat /proc/self/status'], {
      uid: 1000,
      gid: 1000,
      capabilities: { bounding: caps, permitted: caps, effective: caps, inheritable: caps, ambient: caps },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('1000');
    const m = mask(caps);
    expect(privs(r.stdout)).toMatchObject({ CapBnd: m, CapPrm: m, CapEff: m, CapInh: m, CapAmb: m });
    // A flat list and a uid switch: nothing survives exec as non-root (no ambient), as runc and Docker do.
    const flat = await run('/bin/cat', ['/proc/self/status'], { uid: 1000, gid: 1000, capabilities: caps });
    expect(privs(flat.stdout)).toMatchObject({ CapBnd: m, CapPrm: 0n, CapEff: 0n, CapAmb: 0n });
  });

  it('in a user namespace of its own, the caps are that namespace\'s: CAP_SYS_ADMIN there makes a net namespace', async () => {
    const opts: RunOptions = isRoot
      ? { unshare: ['user'], uidMap: [{ inside: 0, outside: 200000, count: 1 }], gidMap: [{ inside: 0, outside: 200000, count: 1 }] }
      : rootless({});
    const caps = ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'];
    const r = await run('/usr/bin/busybox', ['sh', '-c', 'cat /proc/self/status; /usr/bin/busybox unshare -n true && echo NETNS-OK'], { ...opts, capabilities: caps, noNewPrivileges: true, seccomp: 'default' });
    expect(r.code, r.stderr).toBe(0);
    expect(privs(r.stdout)).toMatchObject({ CapBnd: mask(caps), CapEff: mask(caps), CapPrm: mask(caps), NoNewPrivs: 1, Seccomp: 2 });
    expect(r.stdout).toMatch(/NETNS-OK/);
    // The same without CAP_SYS_ADMIN: the kernel says no, before seccomp would.
    const no = await run('/usr/bin/busybox', ['unshare', '-n', 'true'], { ...opts, capabilities: ['CAP_NET_ADMIN'] });
    expect(no.stderr).toMatch(/Operation not permitted/);
  });

  it('names are checked before anything starts: ERR_INVALID_ARG_VALUE / TYPE', async () => {
    await expect(run('true', [], { capabilities: ['CAP_FLY'] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(run('true', [], { capabilities: [7 as never] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(run('true', [], { capabilities: { effective: ['CAP_KILL'] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(run('true', [], { capabilities: { permitted: ['CAP_KILL'], ambient: ['CAP_KILL'] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(run('true', [], { capabilities: { bogus: [] } as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });

  needsRoot('drops from the bounding set of a process that has CAP_SETPCAP').it('without a user namespace, as root: every cap outside the list leaves the bounding set for good', async () => {
    // A setuid-root binary could regain nothing outside the bounding set.
    const s = await statusOf({ capabilities: ['CAP_KILL'] });
    expect(s.CapBnd).toBe(mask(['KILL']));
  });
});

describe('spawn(): noNewPrivileges and rlimits', () => {
  it('NoNewPrivs: 1', async () => {
    expect((await statusOf(rootless({ noNewPrivileges: true }))).NoNewPrivs).toBe(1);
    expect((await statusOf(rootless({ noNewPrivileges: false }))).NoNewPrivs).toBe(0);
  });

  it('rlimits land in /proc/self/limits, by short name, RLIMIT_ name or OCI list', async () => {
    const r = await run('/bin/cat', ['/proc/self/limits'], rootless({ rlimits: { nofile: [123, 456], RLIMIT_CORE: [0, 'unlimited'] } }));
    expect(r.stdout).toMatch(/^Max open files\s+123\s+456\s+files/m);
    expect(r.stdout).toMatch(/^Max core file size\s+0\s+unlimited\s+bytes/m);
    const o = await run('/bin/cat', ['/proc/self/limits'], rootless({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 77, hard: 88 }] }));
    expect(o.stdout).toMatch(/^Max open files\s+77\s+88\s+files/m);
  });

  it('a limit the kernel refuses comes back as an NsError of step rlimit', async () => {
    const nrOpen = Number(fs.readFileSync('/proc/sys/fs/nr_open', 'latin1'));
    await expect(run('/bin/true', [], rootless({ rlimits: { nofile: [16, nrOpen + 1] } }))).rejects.toMatchObject({ code: 'EPERM', syscall: 'prlimit64', step: 'rlimit' });
  });

  (isRoot ? it.skip : it)(`without privilege, a filter needs noNewPrivileges: EACCES, step seccomp${isRoot ? ' [skipped: as root the filter goes in with CAP_SYS_ADMIN]' : ''}`, async () => {
    await expect(run('/bin/true', [], { seccomp: 'default' })).rejects.toMatchObject({ code: 'EACCES', syscall: 'seccomp', step: 'seccomp' });
    await expect(run('/bin/true', [], { seccomp: 'default', noNewPrivileges: true })).resolves.toMatchObject({ code: 0 });
  });

  it('bad rlimits are typed errors', async () => {
    await expect(run('true', [], { rlimits: { nofiles: [1, 2] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(run('true', [], { rlimits: { nofile: [3, 2] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(run('true', [], { rlimits: { nofile: [-1, 2] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  const sysResource = (own.CapEff & (1n << 24n)) !== 0n;
  (sysResource ? it : it.skip)(`raising a hard limit needs CAP_SYS_RESOURCE: set before the drop, it works with it gone${sysResource ? '' : ' [skipped: this process lacks CAP_SYS_RESOURCE]'}`, async () => {
    // (RLIMIT_MSGQUEUE: NOFILE cannot go above fs.nr_open, which it may already be at.)
    const hard = Number(/^Max msgqueue size\s+\S+\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'latin1'))?.[1]) + 1;
    const r = await run('/bin/cat', ['/proc/self/limits'], { capabilities: [], rlimits: { msgqueue: [64, hard] } });
    expect(r.stdout).toMatch(new RegExp(`^Max msgqueue size\\s+64\\s+${hard}\\s`, 'm'));
  });
});

describe("spawn(): seccomp 'default'", () => {
  const opts = (extra: RunOptions = {}): RunOptions => rootless({ noNewPrivileges: true, seccomp: 'default', capabilities: [...DEFAULT_CAPABILITIES], ...extra });

  it('Seccomp: 2; unshare(CLONE_NEWUSER) is denied with EPERM while ordinary calls work', async () => {
    expect((await statusOf(opts())).Seccomp).toBe(2);
    const r = await run('/usr/bin/busybox', ['unshare', '-U', 'true'], opts());
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Operation not permitted/);
    const ok = await run('/usr/bin/busybox', ['sh', '-c', 'echo hi; true'], opts());
    expect(ok).toMatchObject({ code: 0, stdout: 'hi\n' });
  });

  it('with CAP_SYS_ADMIN in the list, the namespace calls are the kernel\'s to judge again (as in Docker)', async () => {
    const r = await run('/usr/bin/busybox', ['unshare', '-U', 'true'], opts({ capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'] }));
    expect(r).toMatchObject({ code: 0 });
  });

  itProbe('keyctl EPERM, clone3 ENOSYS (libc falls back to clone), personality only with the allowed values', async () => {
    expect(await probeErrno(rootless({}), 'keyctl')).not.toBe(EPERM);
    expect(await probeErrno(opts(), 'keyctl')).toBe(EPERM);
    expect(await probeErrno(opts(), 'clone3')).toBe(ENOSYS);
    expect(await probeErrno(opts(), 'unshare', String(0x10000000))).toBe(EPERM);
    expect(await probeErrno(opts(), 'personality', '0xffffffff')).toBe(0);
    expect(await probeErrno(opts(), 'personality', '0x0040000')).toBe(EPERM); // ADDR_NO_RANDOMIZE
    expect(await probeErrno(rootless({}), 'personality', '0x0040000')).toBe(0);
    expect(await probeErrno(opts(), 'getppid')).toBe(0);
  });

  (process.arch === 'x64' ? itProbe : (n: string, f: () => Promise<void>) => it.skip(`${n} [skipped: x32 is an x86_64 ABI]`, f))(
    'a syscall of another ABI (x32 numbers on x86_64) kills the process (SIGSYS)',
    async () => {
      const r = await run(probe as string, ['x32'], opts());
      expect(r.signal).toBe('SIGSYS');
    },
  );

  it('without noNewPrivileges the filter goes in before the capability drop (needs CAP_SYS_ADMIN then, as runc)', async () => {
    const s = await statusOf(rootless({ seccomp: 'default', capabilities: ['CAP_KILL'] }));
    expect(s).toMatchObject({ Seccomp: 2, NoNewPrivs: 0, CapEff: mask(['KILL']) & BND });
  });
});

describe('spawn(): OCI seccomp profiles', () => {
  // Enough for a dynamically linked /bin/true and cat on glibc, x86_64 and aarch64.
  const BASE = [
    'execve', 'brk', 'arch_prctl', 'mmap', 'munmap', 'mprotect', 'access', 'faccessat', 'faccessat2', 'open', 'openat', 'close', 'read', 'pread64',
    'write', 'fstat', 'newfstatat', 'stat', 'lseek', 'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'getrandom', 'exit_group',
    'exit', 'fadvise64', 'rt_sigaction', 'rt_sigprocmask', 'getpid', 'futex', 'statx', 'ioctl', 'uname', 'readlinkat', 'getuid', 'getgid',
    'geteuid', 'getegid', 'sendfile', 'copy_file_range', 'madvise',
  ];

  it('defaultAction SCMP_ACT_ERRNO with an allow-list runs /bin/true; without execve allowed, exec fails EPERM', async () => {
    const profile: OciSeccompProfile = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'], syscalls: [{ names: BASE, action: 'SCMP_ACT_ALLOW' }] };
    expect(await run('/bin/true', [], rootless({ noNewPrivileges: true, seccomp: profile }))).toMatchObject({ code: 0 });
    const noExec = { ...profile, syscalls: [{ names: BASE.filter((n) => n !== 'execve'), action: 'SCMP_ACT_ALLOW' }] };
    await expect(run('/bin/true', [], rootless({ noNewPrivileges: true, seccomp: noExec }))).rejects.toMatchObject({ code: 'EPERM', syscall: 'execve' });
  });

  itProbe('errnoRet, and 64-bit argument comparisons (EQ, NE, LT, LE, GT, GE, MASKED_EQ) on both words', async () => {
    const HI = 0x1_0000_0005n; // high word 1, low word 5
    const check = async (op: string, value: bigint, valueTwo: bigint | undefined, hits: [string, boolean][]) => {
      const profile: OciSeccompProfile = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 99, args: [{ index: 0, op, value, ...(valueTwo === undefined ? {} : { valueTwo }) }] }],
      };
      for (const [arg, denied] of hits) {
        expect([op, arg, await probeErrno(rootless({ noNewPrivileges: true, seccomp: profile }), 'getpid', arg)]).toEqual([op, arg, denied ? 99 : 0]);
      }
    };
    await check('SCMP_CMP_EQ', HI, undefined, [['0x100000005', true], ['5', false], ['0x200000005', false]]);
    await check('SCMP_CMP_NE', HI, undefined, [['0x100000005', false], ['5', true]]);
    await check('SCMP_CMP_GT', HI, undefined, [['0x100000006', true], ['0x100000005', false], ['0xffffffff', false], ['0x200000000', true]]);
    await check('SCMP_CMP_GE', HI, undefined, [['0x100000005', true], ['0x100000004', false], ['0x200000000', true]]);
    await check('SCMP_CMP_LT', HI, undefined, [['0x100000004', true], ['0x100000005', false], ['0xffffffff', true], ['0x200000000', false]]);
    await check('SCMP_CMP_LE', HI, undefined, [['0x100000005', true], ['0x100000006', false], ['3', true]]);
    await check('SCMP_CMP_MASKED_EQ', 0xff_0000_00ffn, 0x12_0000_0034n, [['0x1200000034', true], ['0xab1200ff0034', true], ['0x1300000034', false], ['0x1200000035', false]]);
  });

  it('unknown syscall names are skipped (one profile serves several arches); bad profiles are typed errors', async () => {
    const r = await run('/bin/true', [], rootless({ noNewPrivileges: true, seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_call', 'keyctl'], action: 'SCMP_ACT_ERRNO' }] } }));
    expect(r.code).toBe(0);
    await expect(run('true', [], { seccomp: { defaultAction: 'SCMP_ACT_NOTIFY' } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(run('true', [], { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(run('true', [], { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_BETWEEN' }] }] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(run('true', [], { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['x86'] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(run('true', [], { seccomp: 'strict' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('Container.create: privileges', () => {
  it("defaults: Docker's capability set, NoNewPrivs 1, Seccomp 2, for the init and for c.run (as runc exec); c.run may override", async () => {
    const c = await Container.create({ rlimits: { nofile: [200, 300] } });
    try {
      const docker = 0xa80425fbn; // Docker's default CapEff, as `docker run` shows it
      expect(mask(DEFAULT_CAPABILITIES.map((n) => n.slice(4)))).toBe(docker);
      const init = privs(fs.readFileSync(`/proc/${c.pid}/status`, 'latin1'));
      expect(init).toMatchObject({ CapBnd: docker & BND, CapEff: docker & BND, CapPrm: docker & BND, CapInh: 0n, CapAmb: 0n, NoNewPrivs: 1, Seccomp: 2 });
      const r = await c.run('/bin/cat', ['/proc/self/status']);
      expect(privs(r.stdout)).toEqual(init);
      expect((await c.run('/bin/cat', ['/proc/self/limits'])).stdout).toMatch(/^Max open files\s+200\s+300\s/m);
      const denied = await c.run('/usr/bin/busybox', ['unshare', '-U', 'true']);
      expect(denied.stderr).toMatch(/Operation not permitted/);
      const free = privs((await c.run('/bin/cat', ['/proc/self/status'], { seccomp: false, noNewPrivileges: false, capabilities: ['CAP_KILL'] })).stdout);
      expect(free).toMatchObject({ Seccomp: 0, NoNewPrivs: 0, CapEff: mask(['KILL']) & BND });
    } finally {
      const exited = c.exited;
      c.close();
      await exited.catch(() => undefined);
    }
  });

  it('the old, weaker isolation is an explicit opt-out', async () => {
    const c = await Container.create({ capabilities: ['ALL'], noNewPrivileges: false, seccomp: false });
    try {
      const s = privs((await c.run('/bin/cat', ['/proc/self/status'])).stdout);
      // ALL: the kernel's every cap that our bounding set holds.
      const all = KERNEL_ALL & BND;
      expect(s).toMatchObject({ CapEff: all, CapBnd: all, NoNewPrivs: 0, Seccomp: 0 });
    } finally {
      const exited = c.exited;
      c.close();
      await exited.catch(() => undefined);
    }
  });
});

// --- side by side with runc ----------------------------------------------

const runcPath = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc', '/usr/local/bin/runc'].find((p) => fs.existsSync(p));
const describeRunc = runcPath === undefined ? describe.skip : needsRoot('runc run as root (rootless runc needs a delegated cgroup and XDG_RUNTIME_DIR)').describe;

describeRunc(`side by side with runc${runcPath === undefined ? ' [skipped: runc is not installed; apt-get install runc]' : ''}`, () => {
  let bundle: string;
  let rootfs: string;
  beforeAll(() => {
    bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-runc-'));
    rootfs = path.join(bundle, 'rootfs');
    fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    for (const d of ['proc', 'dev', 'sys', 'tmp']) fs.mkdirSync(path.join(rootfs, d));
    fs.copyFileSync('/usr/bin/busybox', path.join(rootfs, 'bin/busybox'));
    fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
    for (const a of ['sh', 'cat', 'unshare', 'true']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
    execFileSync(runcPath as string, ['spec'], { cwd: bundle });
  });
  afterAll(() => {
    fs.rmSync(bundle, { recursive: true, force: true });
  });

  /** runc run with these capabilities, nnp and seccomp: the status lines and the unshare outcome. */
  function underRunc(caps: string[], seccomp: OciSeccompProfile | undefined): { status: string; unshare: string } {
    const cfgPath = path.join(bundle, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
    cfg.process.terminal = false;
    cfg.process.args = ['/bin/sh', '-c', 'cat /proc/self/status; unshare -n true 2>&1; echo "rc=$?"'];
    cfg.process.noNewPrivileges = true;
    cfg.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
    if (seccomp) cfg.linux.seccomp = seccomp;
    else delete cfg.linux.seccomp;
    fs.writeFileSync(cfgPath, JSON.stringify(cfg));
    const id = `nsfd-priv-${process.pid}`;
    const r = spawnSync(runcPath as string, ['run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 30000 });
    spawnSync(runcPath as string, ['delete', '-f', id]);
    if (r.status !== 0) throw new Error(`runc run failed: ${r.stderr}`);
    const i = r.stdout.indexOf('Name:', 1);
    return { status: r.stdout, unshare: r.stdout.slice(i < 0 ? 0 : r.stdout.lastIndexOf('\n', r.stdout.length - 2)) };
  }

  async function underNsfd(caps: string[], seccomp: OciSeccompProfile | undefined): Promise<{ status: string; unshare: string }> {
    const r = await run('/bin/sh', ['-c', 'cat /proc/self/status; unshare -n true 2>&1; echo "rc=$?"'], {
      root: rootfs,
      unshare: ['mnt', 'pid', 'uts', 'ipc', 'net'],
      mountProc: true,
      env: { PATH: '/bin' },
      capabilities: caps,
      noNewPrivileges: true,
      seccomp: seccomp ?? false,
    });
    return { status: r.stdout, unshare: r.stdout.slice(r.stdout.lastIndexOf('\n', r.stdout.length - 2)) };
  }

  const DENY_NS: OciSeccompProfile = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
    syscalls: [{ names: ['unshare', 'keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM }],
  };
  // (unshare -n: a new net namespace needs CAP_SYS_ADMIN, and the profile
  // denies unshare whatever the caps: the outcome tells both apart.)

  it.each([
    ['the Docker default set, no seccomp', [...DEFAULT_CAPABILITIES], undefined],
    ['three caps and an OCI profile denying unshare', ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_AUDIT_WRITE'], DENY_NS],
    ['no caps, same profile', [], DENY_NS],
    ['CAP_SYS_ADMIN, no seccomp: unshare works', ['CAP_SYS_ADMIN', 'CAP_KILL'], undefined],
    ['CAP_SYS_ADMIN and the profile: unshare is denied', ['CAP_SYS_ADMIN', 'CAP_KILL'], DENY_NS],
  ] as const)('%s: the same Cap* lines, NoNewPrivs and Seccomp, and the same unshare outcome', async (_name, caps, profile) => {
    const theirs = underRunc([...caps], profile);
    const ours = await underNsfd([...caps], profile);
    const pick = (s: string) => s.split('\n').filter((l) => /^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):/.test(l));
    expect(pick(ours.status)).toEqual(pick(theirs.status));
    expect(pick(ours.status)).toHaveLength(7);
    expect(ours.unshare.includes('rc=0')).toBe(theirs.unshare.includes('rc=0'));
  });
});
