// attach(): joins the calling thread to namespaces of a process (one atomic
// setns(pidfd, flags)) or to a list of namespaces (rolled back on failure),
// and returns a scope that puts the thread back.
import * as fs from 'node:fs';

import { E, NsError, invalidArg } from './errors';
import { native } from './native';
import { Namespace } from './namespace';
import { Pidfd } from './pidfd';
import { CLONE_FLAG, NsType, checkNsTypes } from './types';

/** Types a thread of a multithreaded process can join and leave again. */
export const ATTACHABLE: readonly NsType[] = ['net', 'uts', 'ipc', 'cgroup'];

const REFUSED: Partial<Record<NsType, { errno: number; hint: string }>> = {
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
};

export type AttachTarget = Pidfd | Namespace | readonly Namespace[];

export class AttachScope implements Disposable {
  #saved: Map<NsType, Namespace>;
  #tid: number;
  /** The namespace types this scope joined (those already shared were skipped). */
  readonly joined: readonly NsType[];

  constructor(saved: Map<NsType, Namespace>, joined: NsType[]) {
    this.#saved = saved;
    this.#tid = native.gettid();
    this.joined = joined;
  }

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
    if (first) throw first;
  }

  [Symbol.dispose](): void {
    this.restore();
  }
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
 * Joins the calling thread to `target`'s namespaces of the given types
 * (default: net, uts, ipc, cgroup). Only those four can be joined by a
 * thread of a multithreaded process; others are refused with a typed error.
 * Threads, Workers and child processes started while attached inherit the
 * joined namespaces.
 */
export function attach(target: AttachTarget, types?: readonly NsType[]): AttachScope {
  let wanted: NsType[];
  let targets: Map<NsType, Namespace>;
  let pidfd: Pidfd | undefined;
  const owned: Namespace[] = [];

  if (target instanceof Pidfd) {
    wanted = types === undefined ? [...ATTACHABLE] : checkNsTypes(types);
    refuse(wanted);
    pidfd = target;
    targets = new Map();
    try {
      for (const t of wanted) {
        const ns = target.namespace(t);
        owned.push(ns);
        targets.set(t, ns);
      }
    } catch (err) {
      for (const ns of owned) ns.close();
      throw err;
    }
  } else {
    const list = target instanceof Namespace ? [target] : target;
    if (!Array.isArray(list) || list.some((n) => !(n instanceof Namespace))) {
      throw invalidArg('target', 'a Pidfd, a Namespace or an array of Namespaces', target);
    }
    const filter = types === undefined ? undefined : checkNsTypes(types);
    targets = new Map();
    for (const ns of list as readonly Namespace[]) {
      if (filter && !filter.includes(ns.type)) continue;
      if (targets.has(ns.type)) throw new NsError(-E.EINVAL, 'setns', { hint: `two ${ns.type} namespaces given` });
      if (ns.closed) throw new NsError(-E.EBADF, 'setns', {}, 'EBADF: file descriptor closed, setns');
      targets.set(ns.type, ns);
    }
    wanted = [...targets.keys()];
    refuse(wanted);
  }

  ensureThreadPool();
  const saved = new Map<NsType, Namespace>();
  const joined: NsType[] = [];
  try {
    // Skip what the thread already shares; remember where it is for the rest.
    for (const [type, ns] of targets) {
      const current = Namespace.current(type);
      if (current.equals(ns)) {
        current.close();
        continue;
      }
      saved.set(type, current);
      joined.push(type);
      // Re-joining where we are is a no-op that runs the kernel's permission
      // check for coming back: never leave a thread stranded (an unprivileged
      // caller may enter a namespace it owns but not return to the host's).
      const back = native.setns(current.fd, CLONE_FLAG[type]);
      if (back < 0) {
        throw new NsError(back, 'setns', {
          hint: `could not return to the current ${type} namespace afterwards (no CAP_SYS_ADMIN over it), so nothing was joined`,
        });
      }
    }
    if (joined.length > 0) {
      if (pidfd) {
        let flags = 0;
        for (const t of joined) flags |= CLONE_FLAG[t];
        const r = native.setns(pidfd.fdFor('setns'), flags);
        if (r < 0) throw setnsError(r, pidfd.pid);
      } else {
        const done: NsType[] = [];
        for (const t of joined) {
          const r = native.setns((targets.get(t) as Namespace).fd, CLONE_FLAG[t]);
          if (r < 0) {
            // All or nothing: put back what was joined so far.
            for (const d of done) native.setns((saved.get(d) as Namespace).fd, CLONE_FLAG[d]);
            throw setnsError(r, undefined, t);
          }
          done.push(t);
        }
      }
    }
  } catch (err) {
    for (const ns of saved.values()) ns.close();
    throw err;
  } finally {
    for (const ns of owned) ns.close();
  }
  return new AttachScope(saved, joined);
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
