// The public option types of spawn(): what a caller may ask for.
import type { Stream } from 'node:stream';

import type { OwnedFd } from '../core/owned-fd';
import type { NsType } from '../core/ns-types';
import type { Namespace } from '../namespace';
import type { Pidfd } from '../pidfd';
import type { MountSpec } from './rootfs';

export interface IdMapEntry {
  /** First id inside the new user namespace. */
  inside: number;
  /** First id it maps to outside (in our user namespace). */
  outside: number;
  count: number;
}

export type StdioName = 'pipe' | 'inherit' | 'ignore';
/** One slot of the child's fd table, as in child_process. */
export type StdioSlot = StdioName | number | OwnedFd | Stream | null | undefined;

export interface SpawnOptions {
  /** Enter existing namespaces: a process (one atomic setns(pidfd)) or a list of namespaces. */
  join?: Pidfd | readonly Namespace[];
  /** Which types to join (default: all of the target's that differ from ours and are not unshared). */
  joinTypes?: readonly NsType[];
  /** Create new namespaces. With "pid" the child is pid 1 of the new pid namespace. */
  unshare?: readonly NsType[];
  /** Id maps for a new user namespace (needs unshare "user"). Written from outside before the child goes on. */
  uidMap?: readonly IdMapEntry[];
  gidMap?: readonly IdMapEntry[];
  /** /proc/PID/setgroups of the new user namespace; default "deny" unless we are root (needed for an unprivileged gidMap). */
  setgroups?: 'allow' | 'deny';
  /** cgroup v2 directory (path or fd) the child is born in (CLONE_INTO_CGROUP). */
  cgroup?: string | number | OwnedFd;
  /**
   * chroot() to this directory: a path (resolved after the joins, in the
   * joined mount namespace), a directory fd of yours (an OwnedFd, e.g.
   * O_PATH), or a Pidfd: that process's own root, opened from /proc/PID/root
   * before the joins and rechecked through the pidfd (nsenter --root), which
   * is right even when the process is chroot()ed inside its mount namespace.
   */
  root?: string | OwnedFd | Pidfd;
  /** Working directory (resolved after the joins and root). */
  cwd?: string;
  /** Environment (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * setresuid/setresgid before exec (ids as the child's user namespace
   * numbers them). A child that ends up in another user namespace than ours
   * (a new one, or one it joins) takes uid/gid 0 there by default, as
   * `nsenter -U` does, never keeping host ids that are not mapped there;
   * ids that are not mapped are refused (EINVAL).
   */
  uid?: number;
  gid?: number;
  /**
   * In another user namespace, keep our uid and gid (translated) instead of
   * becoming its root; refused when they are not mapped there. Not with
   * uid/gid, and a Namespace-fd join cannot use it (its maps are unknown).
   */
  preserveCredentials?: boolean;
  /** Supplementary groups (default: dropped, best effort, when uid or gid is set). */
  groups?: readonly number[];
  /** Like child_process: one value for 0..2, or one per fd slot (default "pipe" for 0..2). */
  stdio?: StdioName | readonly StdioSlot[];
  /** argv[0] (default: file). */
  argv0?: string;
  /** The child is SIGKILLed when close() is called or when this process (its parent thread) exits. */
  killOnClose?: boolean;
  /** Mount a fresh /proc (needs unshare "mnt"; with a new pid namespace, ps shows only the child's tree). */
  mountProc?: boolean;
  /** setsid(): a new session and process group. */
  newSession?: boolean;
  /**
   * pivot_root into this directory (a path, or an OwnedFd of one): needs
   * unshare "mnt" (the child makes the mount namespace itself, after
   * entering the directory), not with `root` or `mountProc`. The directory
   * is bind-mounted onto itself, the default mounts (below) and `mounts`
   * are made in it, mount points created when missing (resolved inside it,
   * symlinks refused), then pivot_root and the old root detached.
   */
  rootfs?: string | OwnedFd;
  /** Mounts made in the rootfs after the default ones, in order (needs rootfs). */
  mounts?: readonly MountSpec[];
  /** The rootfs mount read-only, once its mount points are made (needs rootfs). */
  readonlyRootfs?: boolean;
  /**
   * The default mounts of OCI runtimes (default true with rootfs): /proc
   * (masked and read-only paths as runc's defaults), /dev as a tmpfs with
   * null, zero, full, random, urandom, tty, /dev/pts, /dev/shm and the
   * fd/stdin/stdout/stderr/ptmx symlinks, /sys read-only.
   */
  defaultMounts?: boolean;
  /** sethostname() in the child before exec (needs unshare "uts"). */
  hostname?: string;
  /** setdomainname() in the child before exec (needs unshare "uts"). */
  domainname?: string;
  /** Bring lo up in the child's new network namespace before exec (needs unshare "net"). */
  loopback?: boolean;
  /**
   * Exec with every signal blocked (default: none blocked), for an init
   * that takes them with sigwaitinfo or a signalfd: a signal sent before
   * it gets there waits instead of being dropped (pid 1 of a pid namespace
   * drops signals it has no handler for).
   */
  blockSignals?: boolean;
  /**
   * Run this program (an OwnedFd of an executable, O_PATH is enough)
   * with execveat(AT_EMPTY_PATH) instead of looking `file` up; `file` is
   * then only argv[0]. It needs nothing from the child's root (a static
   * binary). (nsfd's own init runs this way.)
   */
  executable?: OwnedFd;
}
