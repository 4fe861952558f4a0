// Which vehicle runs an op (see native/inns.cc): a fresh native thread that
// joins one namespace, the helper child (a vfork-style process sharing our
// memory and fds, which may join user and mount namespaces), or the calling
// thread itself when nothing needs joining. Nothing here calls setns on a
// thread of Node's.
import { native } from '../sys/native';
import { debug, debugging } from '../core/debug';
import { CLONE_FLAG, NsType } from '../core/ns-types';
import { privilege } from '../core/privilege';
import { E, NsError } from '../core/errors';
import { RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS } from '../sys/constants';
import { deniedAtSetns } from './failure';
import type { Pidfd } from '../pidfd';
import { InTarget, fdOf, isOurNamespace, nsOfType, openProcRoot, pidfdNsIsOurs, pidfdUserDiffers, resolveTarget, userFor } from './target';
import { HELPER_BECOME_ROOT, HELPER_INTO_PIDNS, HELPER_REQUIRE_ROOT, OpCall, Raw, layout } from './wire';

/** How every path under a target's root is resolved. */
export const RESOLVE = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

function runThread(fd: number, nstype: number, c: OpCall): Raw {
  const w = layout(c);
  return traced('thread', `nsfd ${fd} type 0x${nstype.toString(16)}`, c, native.inns_thread(fd, nstype, w.op, w.ints, w.strs, c.buf));
}

function runHelper(joins: number[], flags: number, c: OpCall, root?: number): Raw {
  const w = layout(c, root);
  return traced('helper child', `joins [${joins.join(', ')}] flags 0x${flags.toString(16)}${root === undefined ? '' : ` root fd ${root}`}`, c, native.inns_helper(joins, flags, w.op, w.ints, w.strs, c.buf));
}

function runDirect(c: OpCall, root?: number): Raw {
  const w = layout(c, root);
  return traced('this thread', root === undefined ? 'no join' : `root fd ${root}`, c, native.inns_direct(w.op, w.ints, w.strs, c.buf));
}

/** NODE_DEBUG=nsfd: which vehicle ran which op, and what came back. */
function traced(vehicle: string, how: string, c: OpCall, r: Raw): Raw {
  if (debugging()) debug('inside: %s on %s (%s): %s', c.op, vehicle, how, r[0] < 0 ? `errno ${-r[0]} at step ${r[1]}` : `ok ${r[0]}`);
  return r;
}

/**
 * Runs an op inside ONE namespace type of a target that a thread may join
 * (net, uts, ipc, cgroup): on a fresh thread when we are privileged over it,
 * else (or on EPERM) in the helper child, which joins the owning user
 * namespace first. Returns the raw result.
 */
export function runInThreadNs(target: InTarget, type: NsType, c: OpCall, opName: string): Raw {
  const t = resolveTarget(target);
  const flag = CLONE_FLAG[type];
  if (t.kind === 'pidfd') {
    const pidfd = t.pidfd;
    const pfd = pidfd.fdFor('setns');
    let userDiffers: boolean | undefined;
    if (!privilege().admin) {
      if (pidfdNsIsOurs(pidfd, type)) return runDirect(c);
      userDiffers = pidfdUserDiffers(pidfd);
    }
    if (userDiffers !== true) {
      const r = runThread(pfd, flag, c);
      if (!deniedAtSetns(r)) return r;
      userDiffers = pidfdUserDiffers(pidfd);
      if (!userDiffers) return r;
    }
    return runHelper([pfd, flag | CLONE_FLAG.user], HELPER_BECOME_ROOT, c);
  }
  const ns = nsOfType(t.list, type, opName);
  if (ns === undefined) {
    throw new NsError(-E.EINVAL, opName, { hint: `${opName} needs a ${type} namespace (or a Pidfd / Container) as its target` });
  }
  const nfd = fdOf(ns, 'setns');
  if (!privilege().admin && isOurNamespace(ns)) return runDirect(c);
  if (privilege().admin) {
    const r = runThread(nfd, flag, c);
    if (!deniedAtSetns(r)) return r;
  }
  const user = userFor(t.list, ns, opName);
  try {
    if (user === undefined) return runThread(nfd, flag, c);
    return runHelper([user.fd, CLONE_FLAG.user, nfd, flag], HELPER_BECOME_ROOT, c);
  } finally {
    user?.close();
  }
}

/** Mount operations (which keep the caller's privilege over the mount namespace), not file operations. */
function isMountOp(c: OpCall): boolean {
  return c.op === 'fsmount' || c.op === 'moveMount' || c.op === 'makePrivate';
}

/**
 * The helper flags of a file operation made inside a target's user
 * namespace: as its root; a privileged caller requires it (fails rather
 * than act there with host ids, which the namespace does not map).
 */
function asTargetRoot(flags: number): number {
  return flags | (privilege().admin ? HELPER_REQUIRE_ROOT : 0);
}

/**
 * Runs a path op under the target's root; the op's `root` slot receives the
 * root fd (-1 for "/" after a mount-ns join). Pidfd targets: see
 * underProcRoot. Namespace targets: the helper joins the mount namespace
 * (and its owning user namespace when needed) and resolves under that
 * namespace's root.
 *
 * File operations (open, mkdir) on a target in another user namespace than
 * ours always run inside that user namespace, as its root, even when we
 * are privileged: a root the target controls (a chroot it escaped, a
 * pivot it chose) then reaches only what the container's own root could.
 */
export function runUnderRoot(target: InTarget, c: OpCall, opName: string, extra: { pidns?: boolean } = {}): Raw {
  const t = resolveTarget(target);
  const helperFlags = HELPER_BECOME_ROOT | (extra.pidns ? HELPER_INTO_PIDNS : 0);
  if (t.kind === 'pidfd') return underProcRoot(t.pidfd, c, opName, helperFlags, extra.pidns === true);
  const mnt = nsOfType(t.list, 'mnt', opName);
  if (mnt === undefined) {
    throw new NsError(-E.EINVAL, opName, { hint: `${opName} needs a mnt namespace (or a Pidfd / Container) as its target` });
  }
  const joins = [fdOf(mnt, 'setns'), CLONE_FLAG.mnt];
  if (extra.pidns) {
    const pid = nsOfType(t.list, 'pid', opName);
    if (pid === undefined) throw new NsError(-E.EINVAL, opName, { hint: `${opName} needs the pid namespace too` });
    joins.push(fdOf(pid, 'setns'), CLONE_FLAG.pid);
  }
  if (!isMountOp(c)) {
    const user = userFor(t.list, mnt, opName);
    try {
      if (user === undefined) return runHelper(joins, helperFlags, c, -1);
      return runHelper([user.fd, CLONE_FLAG.user, ...joins], asTargetRoot(helperFlags), c, -1);
    } finally {
      user?.close();
    }
  }
  if (privilege().admin) {
    const r = runHelper(joins, helperFlags, c, -1);
    if (!deniedAtSetns(r)) return r;
  }
  const user = userFor(t.list, mnt, opName);
  try {
    return runHelper(user === undefined ? joins : [user.fd, CLONE_FLAG.user, ...joins], helperFlags, c, -1);
  } finally {
    user?.close();
  }
}

/**
 * A Pidfd target: /proc/PID/root is opened (O_PATH) and the pid rechecked
 * through the pidfd. Targets in our own user namespace resolve from it on
 * this thread; file operations on targets in another one run in the
 * helper after joining it, as its root (privileged callers too); mount
 * operations join it only when we are not privileged.
 */
function underProcRoot(pidfd: Pidfd, c: OpCall, opName: string, helperFlags: number, pidns: boolean): Raw {
  const pfd = pidfd.fdFor(opName);
  const root = openProcRoot(pidfd);
  try {
    // Mount operations must run inside the mount namespace (move_mount
    // only attaches to mounts of the caller's namespace).
    const mountOp = isMountOp(c);
    const userDiffers = privilege().admin && mountOp ? false : pidfdUserDiffers(pidfd);
    let mask = 0;
    if (userDiffers) mask |= CLONE_FLAG.user;
    if (root === undefined || mountOp) mask |= CLONE_FLAG.mnt;
    if (pidns) mask |= CLONE_FLAG.pid;
    if (mask === 0) return runDirect(c, root ?? -1);
    return runHelper([pfd, mask], userDiffers && !mountOp ? asTargetRoot(helperFlags) : helperFlags, c, root ?? -1);
  } finally {
    if (root !== undefined) native.close(root);
  }
}
