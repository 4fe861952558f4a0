// nsfd's 'default' seccomp profile: a deny-list equal in effect to Docker's
// default profile (moby profiles/seccomp/default.json), which is an
// allow-list whose gaps and capability-gated entries are what it denies.
// Denied calls fail with EPERM (clone3: ENOSYS, so libc falls back to
// clone, whose flags can be checked). Calls Docker allows only with a
// capability are allowed here when the capability is in the bounding set.
import * as os from 'node:os';

import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  PER_LINUX,
  PER_LINUX32,
  UNAME26,
} from '../sys/constants';
import { hasCapability } from './capabilities';
import { ALLOW, ArgCmp, ENOSYS, EPERM, SeccompFilter, SeccompRule, errnoAction, nativeArch } from './seccomp';

/** Denied whatever the capabilities (not in Docker's allow-list at all). */
const ALWAYS_DENIED = [
  'add_key', 'keyctl', 'request_key', // the kernel keyring is not namespaced
  'kexec_load', 'kexec_file_load',
  'userfaultfd', // a classic exploit helper
  'nfsservctl', 'vm86', 'vm86old', 'uselib', '_sysctl', 'sysfs', 'ustat',
  'create_module', 'get_kernel_syms', 'query_module',
  'swapon', 'swapoff',
  'pivot_root', // not even with CAP_SYS_ADMIN in Docker's list
  'move_pages', 'migrate_pages', 'set_mempolicy_home_node',
  'io_uring_setup', 'io_uring_enter', 'io_uring_register', // removed from Docker's default in moby 25
];

/** Allowed only with one of these capabilities in the bounding set (Docker's "includes": { "caps": [...] }). */
const CAP_GATED: readonly [readonly string[], readonly string[]][] = [
  [['SYS_ADMIN'], [
    'mount', 'umount', 'umount2', 'unshare', 'setns', 'fanotify_init', 'lookup_dcookie', 'name_to_handle_at',
    'quotactl', 'quotactl_fd', 'sethostname', 'setdomainname', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'open_tree',
    'move_mount', 'mount_setattr', 'open_tree_attr',
  ]],
  [['SYS_ADMIN', 'BPF'], ['bpf']],
  [['SYS_ADMIN', 'PERFMON'], ['perf_event_open']],
  [['SYS_ADMIN', 'SYSLOG'], ['syslog']],
  [['SYS_BOOT'], ['reboot']],
  [['SYS_CHROOT'], ['chroot']],
  [['SYS_MODULE'], ['init_module', 'finit_module', 'delete_module']],
  [['SYS_PACCT'], ['acct']],
  [['SYS_PTRACE'], ['kcmp', 'pidfd_getfd', 'process_madvise']],
  [['SYS_RAWIO'], ['iopl', 'ioperm']],
  [['SYS_TIME'], ['settimeofday', 'stime', 'clock_settime']],
  [['SYS_TTY_CONFIG'], ['vhangup']],
  [['SYS_NICE'], ['get_mempolicy', 'mbind', 'set_mempolicy']],
  [['DAC_READ_SEARCH'], ['open_by_handle_at']],
];

/** The CLONE_NEW* flags clone() may not carry without CAP_SYS_ADMIN (Docker's mask 0x7E020000). */
const CLONE_NS_MASK = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

/** personality(2) values Docker allows: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query 0xffffffff. */
// (The query is personality(0xffffffff), i.e. all 32 bits set.)
const PERSONALITIES = [PER_LINUX, PER_LINUX32, UNAME26, UNAME26 | PER_LINUX32, 2 ** 32 - 1];

function kernelAtLeast(major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(os.release());
  if (!m) return true;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

/** The default profile for a process whose bounding set is `bounding`. */
export function defaultFilter(bounding: bigint): SeccompFilter {
  const table = nativeArch().table;
  const eperm = errnoAction(EPERM);
  const rules: SeccompRule[] = [];
  const add = (name: string, action: number, args: ArgCmp[] = []): void => {
    const nr = Object.hasOwn(table, name) ? table[name] : undefined;
    if (nr !== undefined) rules.push({ nr, action, args });
  };
  const has = (caps: readonly string[]): boolean => caps.some((c) => hasCapability(bounding, c));

  for (const n of ALWAYS_DENIED) add(n, eperm);
  for (const [caps, names] of CAP_GATED) if (!has(caps)) for (const n of names) add(n, eperm);
  if (!has(['SYS_ADMIN'])) {
    add('clone', ALLOW, [{ index: 0, op: 'masked_eq', value: BigInt(CLONE_NS_MASK), valueTwo: 0n }]);
    add('clone', eperm);
    add('clone3', errnoAction(ENOSYS));
  }
  // ptrace could escape seccomp before 4.8 (Docker's minKernel 4.8).
  if (!has(['SYS_PTRACE']) && !kernelAtLeast(4, 8)) for (const n of ['ptrace', 'process_vm_readv', 'process_vm_writev']) add(n, eperm);
  for (const p of PERSONALITIES) add('personality', ALLOW, [{ index: 0, op: 'eq', value: BigInt(p), valueTwo: 0n }]);
  add('personality', eperm);
  return { defaultAction: ALLOW, rules };
}
