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
import { readMounts, readOwnMountTable } from './mounts';
import { NS_FILE_NAMES, readProcess } from './process';
import type { ProcScan } from './process';
import { ownProcfs } from '../../core/procfs';
import { native } from '../../sys/native';
import { walkResult } from './result';
import { Walk } from './state';

/** Processes per pool-thread batch: one batch is read while the one before is recorded. */
const BATCH = 4 * 64;

/** A batch of processes: their pidfds (opened first) and what proc_scan_batch read of them. */
interface Batch {
  pids: number[];
  pidfds: number[];
  scans: Promise<ProcScan[]>;
}

/** What the batches need to read each other mount namespace's nsfs mounts once (proc_scan_batch's mntIndex...). */
interface MountScan {
  /** Mount namespaces read already, and ours. */
  seen: number[];
  /** Keys of our own nsfs mounts, whose copies in other tables are left out. */
  skipKeys: string[];
}

const MNT_INDEX = NS_FILE_NAMES.indexOf('mnt');

function startBatch(pids: readonly number[], mounts: MountScan): Batch {
  const b: Batch = { pids: [], pidfds: [], scans: Promise.resolve([]) };
  for (const pid of pids) {
    const pidfd = native.pidfd_open(pid, 0);
    if (pidfd < 0) continue; // gone, or not ours to see
    b.pids.push(pid);
    b.pidfds.push(pidfd);
  }
  // Not our own process: while the pool thread reads, this thread holds
  // nsfs fds of the batch before, which are no holders of anything.
  const others = b.pids.filter((p) => p !== process.pid);
  if (others.length > 0) {
    const procfs = ownProcfs();
    // Two halves on two pool threads: the kernel's /proc work is most of
    // the walk, and the second core would otherwise sit idle while the
    // main thread waits. (A mount table both halves meet is read twice and
    // recorded once.)
    const half = Math.ceil(others.length / 2);
    const scan = (ps: number[]) => native.proc_scan_batch(procfs.fd, ps, NS_FILE_NAMES, procfs, MNT_INDEX, mounts.seen, mounts.skipKeys);
    b.scans = half < 16 ? scan(others) : Promise.all([scan(others.slice(0, half)), scan(others.slice(half))]).then(([a, c]) => a.concat(c));
  }
  return b;
}

/**
 * Every namespace we can see: those of processes and their threads, those
 * held only by an open fd, by a socket or by a bind mount, and the owners
 * and parents of all of these; merged with listns(2) on Linux 6.19+.
 * Processes that exit during the walk are left out. Sorted by inode. The
 * /proc reads run on libuv's thread pool, in batches, while the main
 * thread records the batch before.
 */
export async function listNamespaces(options?: ListOptions): Promise<NamespaceInfo[]> {
  const opts = checkOptions(options);
  const walk = new Walk(opts.type);
  const own = readOwnMountTable();
  const mounts: MountScan = { seen: own.mntns === undefined ? [] : [own.mntns], skipKeys: own.mounts.map((m) => m.key) };
  const pids = readdirNums('/proc');
  let next: Batch | undefined = startBatch(pids.slice(0, BATCH), mounts);
  let cur: Batch | undefined;
  try {
    for (let at = 0; next !== undefined; at += BATCH) {
      cur = next;
      next = undefined;
      const scanned = await cur.scans;
      // The tables this batch read are not read again by the next.
      for (const s of scanned) if (typeof s !== 'number' && typeof s[6] !== 'number') mounts.seen.push(s[1][MNT_INDEX] as number);
      if (at + BATCH < pids.length) next = startBatch(pids.slice(at + BATCH, at + 2 * BATCH), mounts);
      for (let i = 0, k = 0; i < cur.pids.length; i++) {
        const pid = cur.pids[i] as number;
        // Our own process is read here and now, when no fd of the walk is open.
        const scan = pid === process.pid ? native.proc_scan(ownProcfs().fd, pid, NS_FILE_NAMES) : (scanned[k++] ?? -1);
        // readProcess closes the pidfd: the batch no longer owns it.
        const pidfd = cur.pidfds[i] as number;
        cur.pidfds[i] = -1;
        readProcess(walk, pid, pidfd, scan);
      }
      cur = undefined;
    }
  } finally {
    // After a throw: the batches not yet handed over still own their pidfds.
    for (const b of [cur, next]) {
      if (b === undefined) continue;
      await b.scans.catch(() => undefined);
      for (const fd of b.pidfds) if (fd >= 0) native.close(fd);
    }
  }
  readMounts(walk, own);
  mergeListns(walk);
  return walkResult(walk);
}
