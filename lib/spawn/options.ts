// The public option types of spawn(): what a caller may ask for.
import type { Stream } from 'node:stream';

import { optionKeys } from '../core/errors';
import type { OwnedFd } from '../core/owned-fd';
import type { NsType } from '../core/ns-types';
import type { Namespace } from '../namespace';
import type { Pidfd } from '../pidfd';
import type { CapabilitiesOption, RlimitsOption, SeccompOption } from '../privileges';
import type { MountSpec } from './rootfs';

/** One line of a uid_map or gid_map. */
export interface IdMapEntry {
  /** First id inside the new user namespace. */
  inside: number;
  /** First id it maps to outside (in our user namespace). */
  outside: number;
  count: number;
}

/** A stdio slot by name, as in child_process. */
export type StdioName = 'pipe' | 'inherit' | 'ignore';
/** One slot of the child's fd table, as in child_process. */
export type StdioSlot = StdioName | number | OwnedFd | Stream | null | undefined;

/** Options of spawn() (and of run(), c.spawn(), c.run()). */
export interface SpawnOptions {
  /** Enter existing namespaces: a process (one atomic setns(pidfd)) or a list of namespaces. */
  join?: Pidfd | readonly Namespace[] | undefined;
  /** Which types to join (default: all of the target's that differ from ours and are not unshared). */
  joinTypes?: readonly NsType[] | undefined;
  /** Create new namespaces. With "pid" the child is pid 1 of the new pid namespace. */
  unshare?: readonly NsType[] | undefined;
  /** Id maps for a new user namespace (needs unshare "user"). Written from outside before the child goes on. */
  uidMap?: readonly IdMapEntry[] | undefined;
  gidMap?: readonly IdMapEntry[] | undefined;
  /** /proc/PID/setgroups of the new user namespace; default "deny" unless we have CAP_SETGID (without it the kernel takes a gidMap only with "deny"). */
  setgroups?: 'allow' | 'deny' | undefined;
  /** cgroup v2 directory (path or fd) the child is born in (CLONE_INTO_CGROUP). */
  cgroup?: string | number | OwnedFd | undefined;
  /**
   * chroot() to this directory: a path (resolved after the joins, in the
   * joined mount namespace), a directory fd of yours (an OwnedFd, e.g.
   * O_PATH), or a Pidfd: that process's own root, opened from /proc/PID/root
   * before the joins and rechecked through the pidfd (nsenter --root), which
   * is right even when the process is chroot()ed inside its mount namespace.
   */
  root?: string | OwnedFd | Pidfd | undefined;
  /** Working directory (resolved after the joins and root): a path or a file: URL. */
  cwd?: string | URL | undefined;
  /** Environment (default process.env). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * setresuid/setresgid before exec (ids as the child's user namespace
   * numbers them). A child that ends up in another user namespace than ours
   * (a new one, or one it joins) takes uid/gid 0 there by default, as
   * `nsenter -U` does, never keeping host ids that are not mapped there;
   * ids that are not mapped are refused (EINVAL).
   */
  uid?: number | undefined;
  gid?: number | undefined;
  /**
   * In another user namespace, keep our uid and gid (translated) instead of
   * becoming its root; refused when they are not mapped there. Not with
   * uid/gid, and a Namespace-fd join cannot use it (its maps are unknown).
   */
  preserveCredentials?: boolean | undefined;
  /** Supplementary groups (default: dropped, best effort, when uid or gid is set). */
  groups?: readonly number[] | undefined;
  /** Like child_process: one value for 0..2, or one per fd slot (default "pipe" for 0..2). */
  stdio?: StdioName | readonly StdioSlot[] | undefined;
  /** argv[0] (default: file). */
  argv0?: string | undefined;
  /** The child is SIGKILLed when close() is called or when this process (its parent thread) exits. */
  killOnClose?: boolean | undefined;
  /** Mount a fresh /proc (needs unshare "mnt"; with a new pid namespace, ps shows only the child's tree). */
  mountProc?: boolean | undefined;
  /** setsid(): a new session and process group. */
  newSession?: boolean | undefined;
  /** Milliseconds after which the child gets `killSignal` if it still runs (default 0: never), as child_process.spawn. */
  timeout?: number | undefined;
  /** Aborting sends the child `killSignal` and emits 'error' with an AbortError, as child_process.spawn. Already aborted: nothing is started. */
  signal?: AbortSignal | undefined;
  /** The signal for `timeout` and `signal` (default "SIGTERM"). */
  killSignal?: NodeJS.Signals | number | undefined;
  /**
   * Capability sets, applied after uid/gid as runc does (bounding drop,
   * keepcaps, setresuid, capset, ambient). A flat list sets bounding,
   * permitted and effective, inheritable and ambient empty. Default: unchanged.
   */
  capabilities?: CapabilitiesOption | undefined;
  /** PR_SET_NO_NEW_PRIVS before exec (default false). */
  noNewPrivileges?: boolean | undefined;
  /** Resource limits set in the child (prlimit) before the credentials change. */
  rlimits?: RlimitsOption | undefined;
  /** A seccomp filter installed last before execve: nsfd's 'default' (Docker's in effect) or an OCI profile. Default none. */
  seccomp?: SeccompOption | undefined;
  /**
   * pivot_root into this directory (a path, or an OwnedFd of one): needs
   * unshare "mnt" (the child makes the mount namespace itself, after
   * entering the directory), not with `root` or `mountProc`. The directory
   * is bind-mounted onto itself, the default mounts (below) and `mounts`
   * are made in it, mount points created when missing (resolved inside it,
   * symlinks refused), then pivot_root and the old root detached.
   */
  rootfs?: string | OwnedFd | undefined;
  /** Mounts made in the rootfs after the default ones, in order (needs rootfs). */
  mounts?: readonly MountSpec[] | undefined;
  /** The rootfs mount read-only, once its mount points are made (needs rootfs). */
  readonlyRootfs?: boolean | undefined;
  /**
   * The default mounts of OCI runtimes (default true with rootfs): /proc
   * (masked and read-only paths as runc's defaults), /dev as a tmpfs with
   * null, zero, full, random, urandom, tty, /dev/pts, /dev/shm and the
   * fd/stdin/stdout/stderr/ptmx symlinks, /sys read-only.
   */
  defaultMounts?: boolean | undefined;
  /**
   * Present the rootfs through an idmapped mount (MOUNT_ATTR_IDMAP, 5.12+)
   * in the child's new user namespace: a file owned by host id N appears
   * owned by the id N maps to inside (uid 0 on disk is its root). Needs
   * rootfs, unshare "user" with uidMap/gidMap, and a caller with
   * CAP_SYS_ADMIN (the mount is made by us, after the maps are written,
   * and attached by the child). The filesystem must support idmapped
   * mounts (ext4, xfs, btrfs, overlayfs 5.19+, tmpfs 6.3+, ...): else an
   * NsError EINVAL, step "idmap".
   */
  idmapRootfs?: boolean | undefined;
  /**
   * The default device nodes (null, zero, full, random, urandom, tty) and
   * the /dev symlinks (default: as defaultMounts, which makes them in its
   * /dev). With defaultMounts false they are made after `mounts`, in the
   * /dev those give (as runc does for an OCI bundle's own /dev).
   */
  defaultDevices?: boolean | undefined;
  /**
   * Paths masked after the mounts (a file: /dev/null bound over it; a
   * directory: an empty read-only tmpfs). Given, it REPLACES the default
   * list (MASKED_PATHS), as an OCI config's linux.maskedPaths does.
   */
  maskedPaths?: readonly string[] | undefined;
  /** Paths made read-only after the mounts; given, it REPLACES READONLY_PATHS (OCI linux.readonlyPaths). */
  readonlyPaths?: readonly string[] | undefined;
  /** sethostname() in the child before exec (needs unshare "uts"). */
  hostname?: string | undefined;
  /** setdomainname() in the child before exec (needs unshare "uts"). */
  domainname?: string | undefined;
  /** Bring lo up in the child's new network namespace before exec (needs unshare "net"). */
  loopback?: boolean | undefined;
  /**
   * Exec with every signal blocked (default: none blocked), for an init
   * that takes them with sigwaitinfo or a signalfd: a signal sent before
   * it gets there waits instead of being dropped (pid 1 of a pid namespace
   * drops signals it has no handler for).
   */
  blockSignals?: boolean | undefined;
  /**
   * Run this program (an OwnedFd of an executable, O_PATH is enough)
   * with execveat(AT_EMPTY_PATH) instead of looking `file` up; `file` is
   * then only argv[0]. It needs nothing from the child's root (a static
   * binary). (nsfd's own init runs this way.)
   */
  executable?: OwnedFd | undefined;
}

/** Every option name spawn() knows: any other is a typo, an error rather than a silent default. */
export const SPAWN_OPTION_KEYS = optionKeys<SpawnOptions>({
  join: true,
  joinTypes: true,
  unshare: true,
  uidMap: true,
  gidMap: true,
  setgroups: true,
  cgroup: true,
  root: true,
  cwd: true,
  env: true,
  uid: true,
  gid: true,
  preserveCredentials: true,
  groups: true,
  stdio: true,
  argv0: true,
  killOnClose: true,
  mountProc: true,
  newSession: true,
  timeout: true,
  signal: true,
  killSignal: true,
  capabilities: true,
  noNewPrivileges: true,
  rlimits: true,
  seccomp: true,
  rootfs: true,
  mounts: true,
  readonlyRootfs: true,
  defaultMounts: true,
  idmapRootfs: true,
  defaultDevices: true,
  maskedPaths: true,
  readonlyPaths: true,
  hostname: true,
  domainname: true,
  loopback: true,
  blockSignals: true,
  executable: true,
});
