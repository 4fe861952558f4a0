// attach(): joins the calling thread to namespaces of a process (one atomic
// setns(pidfd, flags)) or to a list of namespaces (rolled back on failure),
// and returns a scope that puts the thread back.
import * as fs from 'node:fs';

import { E, NsError, UnsupportedError, check, invalidArg } from './core/errors';
import { native } from './sys/native';
import { debug, debugging } from './core/debug';
import { O_RDONLY } from './sys/constants';
import { procOpen } from './core/procfs';
import { Namespace, nsIdentity } from './namespace';
import { OwnedFd } from './core/owned-fd';
import { Pidfd } from './pidfd';
import { privilege } from './core/privilege';
import { CLONE_FLAG, NsType, THREAD_JOINABLE, checkNsTypes, table } from './core/ns-types';

/** Types a thread of a multithreaded process can join and leave again. */
export const ATTACHABLE: readonly NsType[] = THREAD_JOINABLE;

const REFUSED = table<Partial<Record<NsType, { errno: number; hint: string }>>>({
  user: {
    errno: E.EINVAL,
    hint: 'the kernel lets only single-threaded processes join a user namespace and Node always has threads: use spawn({ join }) or the *In() helpers',
  },
  mnt: {
    errno: E.EINVAL,
    hint: 'a mount namespace join needs a thread with its own fs_struct; on Node\'s thread it would split cwd and root from libuv\'s pool: use spawn({ join }) or openIn()',
  },
  time: {
    errno: E.EUSERS,
    hint: 'the kernel lets only single-threaded processes join a time namespace: use spawn({ join })',
  },
  pid: {
    errno: E.EINVAL,
    hint: 'a pid namespace join affects only children, and afterwards the process can no longer create threads (clone(CLONE_THREAD) fails with EINVAL): use spawn({ join })',
  },
});

/** What attach() joins: a process's namespaces (one atomic setns through its pidfd) or the given namespaces. */
export type AttachTarget = Pidfd | Namespace | readonly Namespace[];

/** The calling thread's stay in a target's namespaces: restore() (or `using`) puts it back. Must not span an await (see withNamespaces). */
export class AttachScope implements Disposable {
  #saved: Map<NsType, OwnedFd>;
  #tid: number;
  /**
   * The namespace types this scope joined. Types the thread already shared
   * are skipped, except on the privileged pidfd fast path, where they are
   * re-entered (a no-op) and listed too.
   */
  readonly joined: readonly NsType[];

  /** Made by attach(); exported for its type. */
  constructor(saved: Map<NsType, OwnedFd>, joined: NsType[], tid: number) {
    if (!(saved instanceof Map) || [...saved].some(([t, fd]) => !ATTACHABLE.includes(t) || !(fd instanceof OwnedFd))) {
      throw invalidArg('saved', `a Map from ${ATTACHABLE.join('/')} to OwnedFd`, saved);
    }
    joined = checkNsTypes(joined, 'joined');
    if (typeof tid !== 'number' || !Number.isInteger(tid) || tid < 1) throw invalidArg('tid', 'a thread id', tid);
    this.#saved = saved;
    this.#tid = tid;
    this.joined = joined;
    if (saved.size > 0) warnIfStillOpen(this);
  }

  /** Whether the thread is still attached (not restored yet). */
  get active(): boolean {
    return this.#saved.size > 0;
  }

  /** Returns the thread to the namespaces it had before attach(). Idempotent. */
  restore(): void {
    if (this.#saved.size === 0) return;
    if (native.gettid() !== this.#tid) {
      throw new NsError(-E.EINVAL, 'setns', { hint: 'restore() must run on the thread that called attach()' });
    }
    let first: NsError | undefined;
    for (const [type, ns] of this.#saved) {
      const r = native.setns(ns.fd, CLONE_FLAG[type]);
      if (r < 0 && first === undefined) first = new NsError(r, 'setns', { hint: `could not return to the original ${type} namespace` });
      ns.close();
    }
    this.#saved.clear();
    if (debugging()) debug('attach: thread %d restored%s', this.#tid, first ? `, failed: ${first.message}` : '');
    if (first) throw first;
  }

  [Symbol.dispose](): void {
    this.restore();
  }
}

/**
 * A scope still open when the event loop turns is almost always a scope
 * held across an `await`: every callback that ran meanwhile (timers, I/O,
 * other requests) ran in the target's namespaces. Warn once per scope.
 */
function warnIfStillOpen(scope: AttachScope): void {
  setImmediate(() => {
    if (!scope.active) return;
    process.emitWarning('an attach() scope is still open as the event loop turns: callbacks that run meanwhile run in the target\'s namespaces. Restore before any await, or use withNamespaces(target, types, fn) with a synchronous fn.', {
      type: 'NsfdWarning',
      code: 'NSFD_ATTACH_OPEN',
    });
  }).unref();
}

/**
 * Runs the synchronous `fn` with the calling thread in `target`'s
 * namespaces (those attach() would join: `types`, default net, uts, ipc,
 * cgroup) and puts the thread back before returning `fn`'s result, also
 * when it throws. `fn` must not be async: the part after its first `await`
 * would run outside, and any other callback that ran in between would run
 * inside, the bug Go's netns users and CNI plugins hit. A `fn` that returns
 * a promise (or any thenable) is an ERR_INVALID_RETURN_VALUE error, thrown
 * after the thread is back.
 */
export function withNamespaces<T>(target: AttachTarget, fn: () => T): T;
export function withNamespaces<T>(target: AttachTarget, types: readonly NsType[] | undefined, fn: () => T): T;
export function withNamespaces<T>(target: AttachTarget, typesOrFn: readonly NsType[] | undefined | (() => T), maybeFn?: () => T): T {
  const fn = typeof typesOrFn === 'function' ? typesOrFn : maybeFn;
  const types = typeof typesOrFn === 'function' ? undefined : typesOrFn;
  if (typeof fn !== 'function') throw invalidArg('fn', 'a function', fn);
  let result: T;
  {
    using _scope = attach(target, types);
    result = fn();
  }
  if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof (result as { then?: unknown }).then === 'function') {
    // Its rejection, if any, belongs to the error thrown here.
    (result as unknown as PromiseLike<unknown>).then(undefined, () => {});
    const err = new TypeError('withNamespaces() needs a synchronous fn: it returned a promise, so its code after the first await ran outside the namespaces and other callbacks could have run inside. Use spawn({ join }), socketIn() or openIn() for asynchronous work.');
    throw Object.assign(err, { code: 'ERR_INVALID_RETURN_VALUE' });
  }
  return result;
}

let poolStarted = false;
/**
 * libuv starts its thread pool on first use, and new threads inherit the
 * creating thread's namespaces: start it now, before any join, so async fs
 * and dns.lookup never run inside a target's namespaces.
 */
function ensureThreadPool(): void {
  if (poolStarted) return;
  fs.stat(__filename, () => {});
  poolStarted = true;
}

function refuse(types: readonly NsType[]): void {
  for (const t of types) {
    const r = REFUSED[t];
    if (r) throw new NsError(-r.errno, 'setns', { hint: `cannot attach to a ${t} namespace: ${r.hint}` });
  }
}

/**
 * A pidfd of the calling thread, to read its namespaces with ioctls rather
 * than /proc path walks. The main thread is the thread-group leader, which a
 * plain pidfd names; other threads (Workers) need PIDFD_THREAD (6.9), and
 * without it we read /proc/thread-self.
 */
function openSelfThread(tid: number): Pidfd | undefined {
  if (tid === process.pid) return Pidfd.open(tid);
  try {
    return Pidfd.open(tid, { thread: true });
  } catch (err) {
    if (err instanceof UnsupportedError) return undefined;
    throw err;
  }
}

function currentNsFd(self: Pidfd | undefined, type: NsType): number {
  if (self) return self.namespaceFd(type);
  return check(procOpen(`thread-self/ns/${type}`, O_RDONLY, true), 'open', { path: `/proc/thread-self/ns/${type}` });
}

/**
 * Joins the calling thread to `target`'s namespaces of the given types
 * (default: net, uts, ipc, cgroup). Only those four can be joined by a
 * thread of a multithreaded process; others are refused with a typed error.
 * Threads, Workers and child processes started while attached inherit the
 * joined namespaces.
 */
export function attach(target: AttachTarget, types?: readonly NsType[]): AttachScope {
  const t = resolveTarget(target, types);
  ensureThreadPool();
  const tid = native.gettid();
  const saved = new Map<NsType, OwnedFd>();
  const joined: NsType[] = [];
  try {
    saveCurrent(t, tid, saved, joined);
    if (joined.length > 0) join(t, joined, saved);
  } catch (err) {
    for (const fd of saved.values()) fd.close();
    if (debugging()) debug('attach: thread %d, %s: failed: %s', tid, t.pidfd ? `setns(pidfd ${t.pidfd.pid})` : 'setns per namespace fd', (err as Error).message);
    throw err;
  }
  if (debugging()) debug('attach: thread %d joined [%s] by %s', tid, joined.join(', '), t.pidfd ? `setns(pidfd of ${t.pidfd.pid})` : 'setns per namespace fd');
  return new AttachScope(saved, joined, tid);
}

/** What attach() joins: the types wanted, from a process (pidfd) or from namespaces (list). */
interface Target {
  wanted: NsType[];
  pidfd?: Pidfd;
  list?: Map<NsType, Namespace>;
}

/** Checks the target and the types (typed errors before any syscall that changes anything). */
function resolveTarget(target: AttachTarget, types: readonly NsType[] | undefined): Target {
  if (target instanceof Pidfd) {
    const wanted = types === undefined ? [...ATTACHABLE] : checkNsTypes(types);
    refuse(wanted);
    target.fdFor('setns');
    return { wanted, pidfd: target };
  }
  const arr = target instanceof Namespace ? [target] : target;
  if (!Array.isArray(arr) || arr.some((n) => !(n instanceof Namespace))) {
    throw invalidArg('target', 'a Pidfd, a Namespace or an array of Namespaces', target);
  }
  const filter = types === undefined ? undefined : checkNsTypes(types);
  const list = new Map<NsType, Namespace>();
  for (const ns of arr as readonly Namespace[]) {
    if (filter && !filter.includes(ns.type)) continue;
    if (list.has(ns.type)) throw new NsError(-E.EINVAL, 'setns', { hint: `two ${ns.type} namespaces given` });
    if (ns.closed) throw new NsError(-E.EBADF, 'setns', {}, 'EBADF: file descriptor closed, setns');
    list.set(ns.type, ns);
  }
  const wanted = [...list.keys()];
  refuse(wanted);
  return { wanted, list };
}

/**
 * For each wanted type the thread is not in already: keeps an fd of where
 * the thread is now (in `saved`, the type in `joined`), after checking,
 * unprivileged, that it could come back there.
 */
function saveCurrent(t: Target, tid: number, saved: Map<NsType, OwnedFd>, joined: NsType[]): void {
  const privileged = privilege().everywhere;
  // Privileged and given a pidfd: re-entering a namespace the thread already
  // shares is a no-op for these four types, so the comparison (an nsfd per
  // type of the target) is skipped and setns(pidfd) alone does the work.
  const compare = !(privileged && t.pidfd);
  const self = openSelfThread(tid);
  using _closeSelf = { [Symbol.dispose]: () => self?.close() };
  for (const type of t.wanted) {
    if (!compare) {
      saved.set(type, new OwnedFd(currentNsFd(self, type)));
      joined.push(type);
      continue;
    }
    // Skip what the thread already shares; remember where it is for the rest.
    const want = targetIdentity(t, type);
    const cur = new OwnedFd(currentNsFd(self, type));
    if (nsIdentity(cur.fd) === want) {
      cur.close();
      continue;
    }
    saved.set(type, cur);
    joined.push(type);
    // Re-joining where we are is a no-op that runs the kernel's permission
    // check for coming back: never leave a thread stranded (an unprivileged
    // caller may enter a namespace it owns but not return to the host's).
    if (!privileged) {
      const back = native.setns(cur.fd, CLONE_FLAG[type]);
      if (back < 0) {
        throw new NsError(back, 'setns', {
          hint: `could not return to the current ${type} namespace afterwards (no CAP_SYS_ADMIN over it), so nothing was joined`,
        });
      }
    }
  }
}

/** The dev:inode key of the target's namespace of `type`. */
function targetIdentity(t: Target, type: NsType): string {
  if (t.pidfd) {
    const tfd = t.pidfd.namespaceFd(type);
    try {
      return nsIdentity(tfd);
    } finally {
      native.close(tfd);
    }
  }
  const ns = t.list?.get(type) as Namespace;
  return `${ns.dev}:${ns.inode}`;
}

/** The joins themselves: one setns(pidfd, flags), or one setns per namespace, all or nothing. */
function join(t: Target, joined: NsType[], saved: Map<NsType, OwnedFd>): void {
  if (t.pidfd) {
    let flags = 0;
    for (const type of joined) flags |= CLONE_FLAG[type];
    const r = native.setns(t.pidfd.fdFor('setns'), flags);
    if (r < 0) throw setnsError(r, t.pidfd.pid);
    return;
  }
  const done: NsType[] = [];
  for (const type of joined) {
    const r = native.setns((t.list?.get(type) as Namespace).fd, CLONE_FLAG[type]);
    if (r < 0) {
      // All or nothing: put back what was joined so far.
      for (const d of done) native.setns((saved.get(d) as OwnedFd).fd, CLONE_FLAG[d]);
      throw setnsError(r, undefined, type);
    }
    done.push(type);
  }
}

function setnsError(r: number, pid?: number, type?: NsType): NsError {
  const what = type ? `the ${type} namespace` : 'the namespaces';
  const hint =
    r === -E.EPERM
      ? `joining ${what} needs CAP_SYS_ADMIN in the user namespace that owns them`
      : r === -E.ESRCH
        ? 'the process has exited'
        : r === -E.EINVAL && pid !== undefined
          ? 'setns(pidfd, flags) needs Linux 5.8, or a namespace type is not configured'
          : undefined;
  return new NsError(r, 'setns', { pid, hint });
}
