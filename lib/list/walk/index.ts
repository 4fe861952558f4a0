// listNamespaces(): the walk's steps in order. Sources, merged by nsfs inode:
//   - a /proc walk (process.ts): each process's namespaces, its threads',
//     nsfs fds it holds open, the network namespaces of its sockets, and
//     pid_for_children/time_for_children;
//   - nsfs bind mounts in mountinfo, ours and that of every other mount
//     namespace met (mounts.ts);
//   - listns(2) (Linux 6.19) where the kernel has it (../listns.ts);
//   - owners and parents of all of the above (state.ts, Walk.describe).
import { readdirNums } from '../links';
import { mergeListns } from '../listns';
import { checkOptions } from '../options';
import type { ListOptions, NamespaceInfo } from '../types';
import { readMounts } from './mounts';
import { readProcess } from './process';
import { walkResult } from './result';
import { Walk } from './state';

const YIELD_EVERY = 64;

/**
 * Every namespace we can see: those of processes and their threads, those
 * held only by an open fd, by a socket or by a bind mount, and the owners
 * and parents of all of these; merged with listns(2) on Linux 6.19+.
 * Processes that exit during the walk are left out. Sorted by inode.
 */
export async function listNamespaces(options?: ListOptions): Promise<NamespaceInfo[]> {
  const opts = checkOptions(options);
  const walk = new Walk(opts.type);
  const pids = readdirNums('/proc');
  for (let i = 0; i < pids.length; i++) {
    readProcess(walk, pids[i] as number);
    // Let the event loop breathe; no fd is open between two processes.
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise<void>((r) => setImmediate(r));
  }
  readMounts(walk);
  mergeListns(walk);
  return walkResult(walk);
}
