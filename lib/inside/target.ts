// An InTarget resolved into what the vehicles need: a pidfd, or a list of
// namespaces; one namespace of a type; whether a user namespace is ours;
// the target's root (/proc/PID/root, opened through a pidfd-verified pid).
import { E, NsError, invalidArg } from '../core/errors';
import { native } from '../sys/native';
import { Namespace } from '../namespace';
import { Pidfd } from '../pidfd';
import { NsType } from '../core/ns-types';
import { O_DIRECTORY, O_PATH } from '../sys/constants';
import { procOpen } from '../core/procfs';
import { recheckAlive } from '../core/process';
import { identityKey, ownNamespaceKey } from '../core/identity';

/** Anything with a pidfd, such as a Container. */
export interface PidfdHolder {
  readonly pidfd: Pidfd;
}

/** Where an *In() operation happens: a process, a container, or namespaces. */
export type InTarget = Pidfd | PidfdHolder | Namespace | readonly Namespace[];

export type Resolved = { kind: 'pidfd'; pidfd: Pidfd } | { kind: 'ns'; list: readonly Namespace[] };

export function resolveTarget(target: InTarget): Resolved {
  if (target instanceof Pidfd) return { kind: 'pidfd', pidfd: target };
  if (target instanceof Namespace) return { kind: 'ns', list: [target] };
  if (Array.isArray(target)) {
    if (target.length === 0 || target.some((n) => !(n instanceof Namespace))) {
      throw invalidArg('target', 'a Pidfd, a Container, a Namespace or an array of Namespaces', target);
    }
    return { kind: 'ns', list: target as readonly Namespace[] };
  }
  if (target !== null && typeof target === 'object' && (target as PidfdHolder).pidfd instanceof Pidfd) {
    return { kind: 'pidfd', pidfd: (target as PidfdHolder).pidfd };
  }
  throw invalidArg('target', 'a Pidfd, a Container, a Namespace or an array of Namespaces', target);
}

/** The target's pid, for error details (undefined for namespace targets). */
export function pidOf(target: InTarget): number | undefined {
  if (target instanceof Pidfd) return target.pid;
  if (target !== null && typeof target === 'object' && (target as PidfdHolder).pidfd instanceof Pidfd) return (target as PidfdHolder).pidfd.pid;
  return undefined;
}

/** The one namespace of `type` in the list (EINVAL when two different ones are given). */
export function nsOfType(list: readonly Namespace[], type: NsType, op: string): Namespace | undefined {
  let found: Namespace | undefined;
  for (const ns of list) {
    if (ns.type !== type) continue;
    if (found && !found.equals(ns)) throw new NsError(-E.EINVAL, op, { hint: `two different ${type} namespaces given` });
    found = ns;
  }
  return found;
}

export function fdOf(ns: Namespace, syscall: string): number {
  if (ns.closed) throw new NsError(-E.EBADF, syscall, {}, `EBADF: file descriptor closed, ${syscall}`);
  return ns.fd;
}

/**
 * The dev:inode key of the target's namespace of `type`, or undefined when
 * we may not look (EACCES/EPERM: no ptrace access). A raw fd: this runs on
 * every *In() call.
 */
function pidfdNsKey(pidfd: Pidfd, type: NsType): string | undefined {
  let fd: number;
  try {
    fd = pidfd.namespaceFd(type);
  } catch (err) {
    if (err instanceof NsError && (err.code === 'EACCES' || err.code === 'EPERM')) return undefined;
    throw err;
  }
  try {
    const key = identityKey(fd);
    if (typeof key === 'number') throw new NsError(key, 'fstat', { fd });
    return key;
  } finally {
    native.close(fd);
  }
}

/**
 * Is the target in a user namespace other than ours? When we may not even
 * look, we may not join it either: answer no, and let the join itself fail
 * with the kernel's EPERM.
 */
export function pidfdUserDiffers(pidfd: Pidfd): boolean {
  const key = pidfdNsKey(pidfd, 'user');
  return key !== undefined && key !== ownNamespaceKey('user');
}

/**
 * Is the target's namespace of `type` the one this thread is in? Then an
 * op needs no setns, which (even into one's own namespace) takes
 * CAP_SYS_ADMIN: an unprivileged socketIn(Pidfd.self()) would be EPERM.
 * When we may not look, answer no and let the join decide.
 */
export function pidfdNsIsOurs(pidfd: Pidfd, type: NsType): boolean {
  return pidfdNsKey(pidfd, type) === ownNamespaceKey(type);
}

/** Is `ns` the namespace of its type this thread is in? */
export function isOurNamespace(ns: Namespace): boolean {
  return `${ns.dev}:${ns.inode}` === ownNamespaceKey(ns.type);
}

/**
 * The user namespace to join for a Namespace target (given in the list, or
 * the owner of `ns`), or undefined when it is ours.
 */
export function userFor(list: readonly Namespace[], ns: Namespace, op: string): Namespace | undefined {
  const given = nsOfType(list, 'user', op);
  const u = given ? given.dup() : ns.owner();
  if (isOurNamespace(u)) {
    u.close();
    return undefined;
  }
  return u;
}

/**
 * ESRCH unless the pidfd's process still exists, i.e. the pid we just used
 * in a /proc path still named it. EPERM (we may not signal it) also means
 * it exists.
 */
function recheck(pidfd: Pidfd, syscall: string): void {
  recheckAlive(pidfd.fdFor(syscall), pidfd.pid, syscall, 'the target process has exited');
}

/**
 * An O_PATH fd of /proc/PID/root (O_CLOEXEC), or -errno when we may not
 * open it (ptrace rules). Throws ESRCH when the process is gone; the pid is
 * rechecked through the pidfd after the open, so the fd is the root of that
 * very process. Internal (spawn's root: pidfd uses it too).
 */
export function procRootFd(pidfd: Pidfd): number {
  const r = procOpen(`${pidfd.pid}/root`, O_PATH | O_DIRECTORY, true);
  try {
    recheck(pidfd, 'open(/proc/PID/root)');
  } catch (err) {
    if (r >= 0) native.close(r);
    throw err;
  }
  if (r === -E.ENOENT || r === -E.ESRCH) {
    throw new NsError(-E.ESRCH, 'open(/proc/PID/root)', { pid: pidfd.pid, hint: 'the target process has exited' });
  }
  return r;
}

/** procRootFd, or undefined when we may not open it: the helper then uses the mount namespace's root. */
export function openProcRoot(pidfd: Pidfd): number | undefined {
  const r = procRootFd(pidfd);
  return r >= 0 ? r : undefined;
}
