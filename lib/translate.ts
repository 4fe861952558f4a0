// translatePid(): a pid as seen in one pid namespace, as seen in another.
// NS_GET_{PID,TGID}_{FROM,IN}_PIDNS (6.11) where the kernel has them, else
// NSpid in /proc/PID/status with every namespace checked by identity.

import { E, NsError, check, invalidArg, checkOptionKeys, optionKeys } from './core/errors';
import { native } from './sys/native';
import { O_RDONLY } from './sys/constants';
import { procOpen, procPids, procReaddir } from './core/procfs';
import { Namespace, adoptNamespace, nsIdentity } from './namespace';
import { ownNamespaceKey } from './core/identity';
import { numbers, readStatus } from './core/proc';
import { Pidfd } from './pidfd';
import { checkPid } from './core/ns-types';
import { PidTranslation, nsGetParent, nsTranslatePid } from './sys/nsfs';

/** A pid namespace: a Namespace of type pid, or a Pidfd (that process's pid namespace). */
export type PidNsRef = Namespace | Pidfd;

/** Options of translatePid(): the pid namespaces to translate from and to (default: ours). */
export interface TranslateOptions {
  /** The pid namespace `pid` is given in (a pid Namespace, or a Pidfd for its pid namespace). Default: ours. */
  from?: PidNsRef | undefined;
  /** The pid namespace to express it in. Default: ours. */
  to?: PidNsRef | undefined;
  /** Return the thread-group id (the process) rather than the thread id. */
  tgid?: boolean | undefined;
}

/** A raw pid-namespace fd for `ref` (the caller closes it). */
function pidNamespaceFd(ref: PidNsRef, name: string): number {
  if (ref instanceof Pidfd) return ref.namespaceFd('pid');
  if (ref instanceof Namespace) {
    if (ref.type !== 'pid') throw new NsError(-E.EINVAL, 'translatePid', { hint: `${name} must be a pid namespace, not ${ref.type}` });
    return check(native.dup_cloexec(ref.fdFor('translatePid')), 'fcntl');
  }
  throw invalidArg(name, 'a pid Namespace or a Pidfd', ref);
}

const ours = (): string => ownNamespaceKey('pid');

let ioctlsMissing = false;

/**
 * Translates `pid` from one pid namespace's view to another's. Throws
 * NsError ESRCH when no such pid exists in `from`, or when the process is
 * not visible in `to` (it lives outside `to`'s subtree).
 */
const TRANSLATE_OPTION_KEYS = optionKeys<TranslateOptions>({ from: true, to: true, tgid: true });

/** A pid as seen in one pid namespace (`from`, default ours), as seen in another (`to`, default ours): NS_GET_PID_* ioctls, /proc NSpid on older kernels. ESRCH when `from` has no such pid or `to` cannot see it. */
export function translatePid(pid: number, options: TranslateOptions = {}): number {
  checkPid(pid);
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  checkOptionKeys(options, TRANSLATE_OPTION_KEYS);
  const tgid = options.tgid === true;
  const fromFd = options.from === undefined ? -1 : pidNamespaceFd(options.from, 'from');
  let toFd = -1;
  try {
    toFd = options.to === undefined ? -1 : pidNamespaceFd(options.to, 'to');
    const fromOurs = fromFd < 0 || nsIdentity(fromFd) === ours();
    const toOurs = toFd < 0 || nsIdentity(toFd) === ours();
    if (fromOurs && toOurs && !tgid) return existing(pid);
    if (!ioctlsMissing) {
      try {
        // from's view -> ours, then ours -> to's view.
        const mid = fromOurs ? (tgid ? tgidOf(pid) : pid) : viaIoctl(fromFd, tgid ? 'tgidFrom' : 'pidFrom', pid, 'from');
        return toOurs ? mid : viaIoctl(toFd, tgid ? 'tgidIn' : 'pidIn', mid, 'to');
      } catch (err) {
        if (!(err instanceof NsError && err.code === 'ENOTTY')) throw err;
        ioctlsMissing = true;
      }
    }
    using our = adoptNamespace(check(procOpen('self/ns/pid', O_RDONLY, true), 'open', { path: '/proc/self/ns/pid' }));
    const mid = fromOurs ? pid : fromViaProc(adoptDup(fromFd), our, pid);
    const task = tgid ? tgidOf(mid) : mid;
    return toOurs ? task : inViaProc(adoptDup(toFd), our, task);
  } finally {
    if (fromFd >= 0) native.close(fromFd);
    if (toFd >= 0) native.close(toFd);
  }
}

/** `pid` if it names a task in our pid namespace (kill(pid, 0): EPERM still means it exists). */
function existing(pid: number): number {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') {
      throw new NsError(-E.ESRCH, 'translatePid', { pid, hint: `no pid ${pid} in our pid namespace` });
    }
  }
  return pid;
}

function adoptDup(fd: number): Namespace {
  return adoptNamespace(check(native.dup_cloexec(fd), 'fcntl'));
}

function viaIoctl(fd: number, how: PidTranslation, pid: number, side: 'from' | 'to'): number {
  const r = nsTranslatePid(fd, how, pid);
  if (r > 0) return r;
  if (r === 0 || r === -E.ESRCH) {
    throw new NsError(-E.ESRCH, 'ioctl(NS_GET_PID)', {
      pid,
      hint: side === 'from' ? `no pid ${pid} in the source pid namespace` : `pid ${pid} is not visible in the target pid namespace`,
    });
  }
  throw new NsError(r, 'ioctl(NS_GET_PID)', { pid });
}

function tgidOf(pid: number): number {
  const st = readStatus(pid);
  const t = Number(st?.get('Tgid'));
  if (!st || !(t > 0)) throw new NsError(-E.ESRCH, 'translatePid', { pid, hint: `no pid ${pid}` });
  return t;
}

/** How many levels `ns` lies below `ours`, or -1 if it is not below it. */
function depthBelow(ns: Namespace, ours: Namespace): number {
  let depth = 0;
  let cur = ns.dup();
  try {
    for (;;) {
      if (cur.equals(ours)) return depth;
      const r = nsGetParent(cur.fd);
      if (r < 0) return -1;
      cur.close();
      cur = adoptNamespace(r);
      depth++;
    }
  } finally {
    cur.close();
  }
}

/** The pid namespace `levels` above the pid namespace of task `tid`. */
function ancestorOfTask(tid: number, levels: number): Namespace | undefined {
  const fd = procOpen(`${tid}/ns/pid`, O_RDONLY, true);
  if (fd < 0) return undefined;
  let cur = adoptNamespace(fd);
  for (let i = 0; i < levels; i++) {
    const r = nsGetParent(cur.fd);
    cur.close();
    if (r < 0) return undefined;
    cur = adoptNamespace(r);
  }
  return cur;
}

function notBelow(): NsError {
  return new NsError(-E.ESRCH, 'translatePid', { hint: 'the pid namespace is not ours nor below ours, so its pids are not visible here' });
}

/** Older kernels: find the task whose NSpid has `pid` at from's level. */
function fromViaProc(fromNs: Namespace, ours: Namespace, pid: number): number {
  using from = fromNs;
  const depth = depthBelow(from, ours);
  if (depth < 0) throw notBelow();
  for (const p of procPids()) {
    const tasks = procReaddir(`${p}/task`);
    if (typeof tasks === 'number') continue;
    for (const t of tasks) {
      const ns = numbers(readStatus(p, Number(t))?.get('NSpid'));
      if (ns.length <= depth || ns[depth] !== pid) continue;
      const at = ancestorOfTask(Number(t), ns.length - 1 - depth);
      if (at === undefined) continue;
      const same = at.equals(from);
      at.close();
      if (same) return ns[0] as number;
    }
  }
  throw new NsError(-E.ESRCH, 'translatePid', { pid, hint: `no pid ${pid} in the source pid namespace` });
}

/** Older kernels: NSpid of task `pid` (ours) at to's level. */
function inViaProc(toNs: Namespace, ours: Namespace, pid: number): number {
  using to = toNs;
  const depth = depthBelow(to, ours);
  if (depth < 0) throw notBelow();
  const ns = numbers(readStatus(pid)?.get('NSpid'));
  if (ns.length === 0) throw new NsError(-E.ESRCH, 'translatePid', { pid, hint: `no pid ${pid}` });
  if (ns.length > depth) {
    const at = ancestorOfTask(pid, ns.length - 1 - depth);
    const same = at?.equals(to) ?? false;
    at?.close();
    if (same) return ns[depth] as number;
  }
  throw new NsError(-E.ESRCH, 'translatePid', { pid, hint: `pid ${pid} is not visible in the target pid namespace` });
}
