// nsfd/testing: what integration tests of namespace code need, as this
// package's own suite uses it: a throwaway target in new namespaces that
// cannot outlive the test process, and a check that a piece of code left no
// fd, child process, thread or mount behind.
import * as fs from 'node:fs';

// The public API only (one copy of the library: the bundle of nsfd/testing
// requires dist/index.js, scripts/bundle.ts).
import { Container, ContainerCreateOptions, _openLongLivedFds as openLongLivedFds } from '../index';

/**
 * A throwaway target: a Container in new namespaces (by default mnt, uts,
 * ipc, pid, net, cgroup, plus a user namespace mapping root to you when you
 * are not root) whose processes are killed by close()/dispose and when this
 * process dies, however it dies: its init is pid 1 of its own pid namespace
 * and has PR_SET_PDEATHSIG. Options are Container.create's; killOnClose is
 * always on.
 *
 *     await using target = await createTarget({ hostname: 'test' });
 *     nsfd.socketIn(target, { family: 'inet', type: 'stream' });
 */
export async function createTarget(options: Omit<ContainerCreateOptions, 'killOnClose'> = {}): Promise<Container> {
  return Container.create({ ...options, killOnClose: true });
}

/** What leakCheck() compares: this process's fds (with what they point at), children, threads and mounts. */
export interface ResourceSnapshot {
  /** "fd -> target" for each open fd. */
  readonly fds: readonly string[];
  /** Pids of our children, zombies included. */
  readonly children: readonly number[];
  readonly threads: number;
  /** Lines of /proc/self/mountinfo (mount points of our mount namespace). */
  readonly mounts: readonly string[];
}

/** The resources of this process right now. */
export function snapshot(): ResourceSnapshot {
  const fds = fs.readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [`${fd} -> ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`];
    } catch {
      return []; // the directory's own fd, closed already
    }
  });
  const tasks = fs.readdirSync('/proc/self/task');
  const children = tasks
    .flatMap((t) => {
      try {
        return fs.readFileSync(`/proc/self/task/${t}/children`, 'latin1').trim().split(/\s+/);
      } catch {
        return []; // a thread that ended meanwhile
      }
    })
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'latin1')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ').slice(3, 5).join(' '))
    .sort();
  return { fds, children, threads: tasks.length, mounts };
}

/** Which resources leakCheck() compares. */
export interface LeakCheckOptions {
  /** Which resources to compare (default all). Threads are off by default: Node's pools grow on their own. */
  fds?: boolean | undefined;
  children?: boolean | undefined;
  threads?: boolean | undefined;
  mounts?: boolean | undefined;
}

/** What leakCheck() found: each resource that differs, before and after. */
export class LeakError extends Error {
  /** Each resource that differs: what was added and removed since the snapshot. */
  readonly leaks: Readonly<Record<string, { added: readonly (string | number)[]; removed: readonly (string | number)[] }>>;
  constructor(leaks: LeakError['leaks']) {
    const text = Object.entries(leaks)
      .map(([what, d]) => `${what}: +[${d.added.join(', ')}] -[${d.removed.join(', ')}]`)
      .join('; ');
    super(`resources leaked: ${text}`);
    this.name = 'LeakError';
    this.leaks = leaks;
  }
}

function diff<T>(before: readonly T[], after: readonly T[]): { added: T[]; removed: T[] } {
  const rest = [...before];
  const added: T[] = [];
  for (const x of after) {
    const i = rest.indexOf(x);
    if (i >= 0) rest.splice(i, 1);
    else added.push(x);
  }
  return { added, removed: rest };
}

/**
 * Takes a snapshot now; `assertNone()` (or disposing it) throws a LeakError
 * listing every fd, child, mount (and thread, if asked) that differs since.
 * The package's own long-lived fds (the reaper's epoll and eventfd, the
 * embedded init's memfd) are created first, so they never count.
 *
 *     using _ = leakCheck();   // throws at the end of the block on a leak
 */
export function leakCheck(options: LeakCheckOptions = {}): { readonly before: ResourceSnapshot; diff(): LeakError | undefined; assertNone(): void; [Symbol.dispose](): void } {
  openLongLivedFds();
  const want = { fds: options.fds ?? true, children: options.children ?? true, threads: options.threads ?? false, mounts: options.mounts ?? true };
  const before = snapshot();
  const check = (): LeakError | undefined => {
    const after = snapshot();
    const leaks: Record<string, { added: (string | number)[]; removed: (string | number)[] }> = {};
    if (want.fds) {
      const d = diff(before.fds, after.fds);
      if (d.added.length + d.removed.length > 0) leaks.fds = d;
    }
    if (want.children) {
      const d = diff(before.children, after.children);
      if (d.added.length > 0) leaks.children = d;
    }
    if (want.mounts) {
      const d = diff(before.mounts, after.mounts);
      if (d.added.length + d.removed.length > 0) leaks.mounts = d;
    }
    if (want.threads && after.threads !== before.threads) leaks.threads = { added: [after.threads], removed: [before.threads] };
    return Object.keys(leaks).length > 0 ? new LeakError(leaks) : undefined;
  };
  return {
    before,
    diff: check,
    assertNone() {
      const err = check();
      if (err !== undefined) throw err;
    },
    [Symbol.dispose]() {
      this.assertNone();
    },
  };
}
