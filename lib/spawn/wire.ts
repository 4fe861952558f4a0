// The spec native spawn_clone3 reads (native/spawn_wire.h). Its key list
// lives once in native; the addon exports it as spawn_spec_keys, and the
// first spawn checks that it is exactly the keys built here, and that its
// spec has exactly those, so a key renamed on one side fails loudly instead
// of taking a default.
import { native } from '../sys/native';

export interface SpawnSpec {
  paths: string[];
  argv: string[];
  envp: string[];
  /** Use the process's C environment instead of envp. */
  inheritEnv: boolean;
  cloneFlags: number;
  joinPidfd: number;
  joinFlags: number;
  joinFds: number[];
  joinTypes: number[];
  /** A pid namespace (pidfd or nsfd) our thread joins for the clone3 only, or -1. */
  parentPidFd: number;
  unshareAfter: number;
  twoStage: boolean;
  shareVm: boolean;
  uidMap: string;
  gidMap: string;
  setgroupsDeny: boolean;
  cgroupFd: number;
  /** undefined: unchanged (every key is sent, an absent one is an error). */
  root: string | undefined;
  rootFd: number | undefined;
  cwd: string | undefined;
  uid: number;
  gid: number;
  groups: number[] | undefined;
  /** [src, slot] pairs: the child's fd table. */
  fds: number[];
  killOnClose: boolean;
  mountProc: boolean;
  newSession: boolean;
  /** Our procfs (core/procfs.ts): the child's id maps and our pid_for_children are opened under it. */
  procFd: number;
  /** Capability sets as 10 words (bounding, effective, permitted, inheritable, ambient; low word first), or [] for unchanged. */
  caps: number[];
  noNewPrivs: boolean;
  /** [resource, soft, hard] triples, -1: unlimited. */
  rlimits: number[];
  /** The seccomp BPF program: (code | jt << 16 | jf << 24, k) pairs, or []. */
  seccomp: number[];
  /** A directory fd to pivot_root into (spawn_child.cc EnterRootfs), or -1. */
  rootfsFd: number;
  /** The fs ops run there (spawn_wire.h: 8 ints per op) and the strings they index. */
  fsOps: number[];
  fsStrs: string[];
  /** execveat(execFd, "", AT_EMPTY_PATH) instead of the paths, or -1. */
  execFd: number;
  /** sethostname/setdomainname in the child (undefined: unchanged), and lo up. */
  hostname: string | undefined;
  domainname: string | undefined;
  loopbackUp: boolean;
  /** Exec with every signal blocked. */
  blockSignals: boolean;
  /** The parent idmaps the rootfs with the child's user namespace after the maps and sends it on the go socket. */
  idmapRootfs: boolean;
}

// Every key of SpawnSpec, checked by the compiler both ways.
const SPEC_KEYS: { readonly [K in keyof SpawnSpec]-?: true } = {
  paths: true,
  argv: true,
  envp: true,
  inheritEnv: true,
  cloneFlags: true,
  joinPidfd: true,
  joinFlags: true,
  joinFds: true,
  joinTypes: true,
  parentPidFd: true,
  unshareAfter: true,
  twoStage: true,
  shareVm: true,
  uidMap: true,
  gidMap: true,
  setgroupsDeny: true,
  cgroupFd: true,
  root: true,
  rootFd: true,
  cwd: true,
  uid: true,
  gid: true,
  groups: true,
  fds: true,
  killOnClose: true,
  mountProc: true,
  newSession: true,
  procFd: true,
  caps: true,
  noNewPrivs: true,
  rlimits: true,
  seccomp: true,
  rootfsFd: true,
  fsOps: true,
  fsStrs: true,
  execFd: true,
  hostname: true,
  domainname: true,
  loopbackUp: true,
  blockSignals: true,
  idmapRootfs: true,
};

/** The keys this side sends, sorted. */
export function specKeys(): string[] {
  return Object.keys(SPEC_KEYS).sort();
}

let checked = false;
/**
 * Throws if the loaded addon reads another key set than the one built here
 * (an addon of another version), or if `spec` (the first one built) has
 * any other key set. spawn_clone3 itself does not list a spec's keys
 * (~8 us a spawn); the compiler holds plan.ts's literal to SpawnSpec.
 */
export function checkSpec(spec: SpawnSpec): void {
  if (checked) return;
  const theirs: unknown = native.spawn_spec_keys;
  const ours = specKeys();
  const same = Array.isArray(theirs) && theirs.length === ours.length && [...(theirs as unknown[])].sort().every((k, i) => k === ours[i]);
  if (!same) {
    throw new Error(`nsfd: the native addon's spawn spec keys (${Array.isArray(theirs) ? theirs.join(', ') : 'none'}) differ from lib/spawn's (${ours.join(', ')}): rebuild the addon`);
  }
  native.spawn_spec_check(spec);
  checked = true;
}
