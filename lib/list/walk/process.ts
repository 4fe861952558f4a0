// One process of the /proc walk, in named steps: its fd links, its own
// namespaces (/proc/PID/ns), its threads' (/proc/PID/task/TID/ns), the nsfs
// fds and sockets it holds, then recording all of it.
//
// Race safety: everything is read between pidfd_open() and a recheck
// through that pidfd (the /proc reads themselves run in batches on a pool
// thread, each batch's pidfds opened before it is queued); a process that exits meanwhile is dropped entirely,
// so no pid is reported with another process's data. Every fd opened here
// is a raw fd closed in readProcess's finally block, before the walk moves
// on to the next process.
import { ownProcfs } from '../../core/procfs';

import type { NsType } from '../../core/ns-types';
import { native } from '../../sys/native';
import type { RawProcScan } from '../../sys/native';
import {
  PROC_NS_FILES,
  THREAD_NS_FILES,
  openNsfsPath,
  openProcNs,
} from '../links';
import type { ProcNsFile } from '../links';
import { nsfsMountsOfLines } from '../mountinfo';
import type { NsfsMount } from '../mountinfo';
import type { ProcInfo, Walk } from './state';

/** One namespace fact about the process, recorded only once the recheck passed. */
interface Obs {
  kind: 'process' | 'children' | 'thread' | 'fd' | 'socket';
  type: NsType;
  inode: number;
  /** tid for 'thread', fd for 'fd' and 'socket'. */
  n?: number;
}

/** The state of reading one process. */
class ProcessRead {
  /** nsfs fds opened for namespaces not described yet, by inode (closed by readProcess). */
  readonly pending = new Map<number, number>();
  /** The process's own namespaces by /proc/PID/ns file name. */
  readonly own = new Map<string, number>();
  readonly obs: Obs[] = [];
  /** The nsfs mounts of its mount namespace's table, when the scan read it. */
  mounts: NsfsMount[] | undefined;

  constructor(
    readonly walk: Walk,
    readonly pid: number,
    readonly pidfd: number,
  ) {}

  /** Whether an fd of `inode` is still wanted, to describe it after the recheck. */
  need(inode: number): boolean {
    return !this.pending.has(inode) && this.walk.needsFd(inode);
  }

  keep(inode: number, fd: number): void {
    if (fd >= 0) this.pending.set(inode, fd);
  }
}

/** The /proc/PID/ns names the walk reads, in PROC_NS_FILES order. */
export const NS_FILE_NAMES = PROC_NS_FILES.map((f) => f.file);
const THREAD_FILE_NAMES = THREAD_NS_FILES.map((f) => f.file);

/** What proc_scan reports of one process (native/list.cc), or -errno. */
export type ProcScan = RawProcScan | number;

/**
 * Reads one process into the walk; all or nothing (see file comment).
 * `pidfd` was opened before `scan` was read (proc_scan_batch, on a pool
 * thread: its namespace and socket fds, namespace inodes, status fields
 * and cmdline, parsed there), and is closed here; a second native call
 * reads its threads when it has several.
 */
export function readProcess(walk: Walk, pid: number, pidfd: number, scan: ProcScan): void {
  const r = new ProcessRead(walk, pid, pidfd);
  try {
    if (typeof scan === 'number') return;
    const [fdFacts, nsInodes, name, euid, threads, cmdline, mounts] = scan;
    readOwnNamespaces(r, nsInodes);
    if (r.own.size === 0) return; // no access, or a zombie

    // Empty when gone: the recheck below drops it.
    const command = commandOf(cmdline, name);
    if (threads > 1 && THREAD_NS_FILES.some((f) => walk.wants(f.type))) readThreads(r);
    readFds(r, fdFacts);
    if (typeof mounts !== 'number') readMountTable(r, mounts);

    // Everything above was about this process only if it still exists.
    if (native.pidfd_send_signal(pidfd, 0, 0) < 0) return;
    record(r, { command, uid: euid >= 0 ? euid : undefined });
  } finally {
    for (const fd of r.pending.values()) native.close(fd);
    native.close(pidfd);
  }
}

/** /proc/PID/ns: the process's namespaces, and its *_for_children where they differ. */
function readOwnNamespaces(r: ProcessRead, inodes: readonly number[]): void {
  for (let i = 0; i < PROC_NS_FILES.length; i++) {
    const f = PROC_NS_FILES[i] as ProcNsFile;
    const inode = inodes[i];
    if (inode === undefined || inode < 0) continue;
    r.own.set(f.file, inode);
    if (!r.walk.wants(f.type)) continue;
    if (f.children) {
      if (r.own.get(f.type) === inode) continue;
      r.obs.push({ kind: 'children', type: f.type, inode });
    } else {
      r.obs.push({ kind: 'process', type: f.type, inode });
    }
    if (r.need(inode)) r.keep(inode, openProcNs(r.pidfd, r.pid, f, inode));
  }
}

/** Threads in other namespaces than their process's. */
function readThreads(r: ProcessRead): void {
  const flat = native.proc_scan(ownProcfs().fd, r.pid, THREAD_FILE_NAMES, true);
  if (typeof flat === 'number') return;
  const stride = THREAD_FILE_NAMES.length + 1;
  for (let at = 0; at + stride <= flat.length; at += stride) {
    const tid = flat[at] as number;
    if (tid === r.pid) continue;
    THREAD_NS_FILES.forEach((f, i) => {
      if (!r.walk.wants(f.type)) return;
      const inode = flat[at + 1 + i] as number;
      if (inode < 0 || inode === r.own.get(f.file)) return;
      if (f.children && inode === r.own.get(f.type)) return;
      r.obs.push({ kind: f.children ? 'children' : 'thread', type: f.type, inode, n: tid });
      if (r.need(inode)) r.keep(inode, openNsfsPath(`/proc/${r.pid}/task/${tid}/ns/${f.file}`, inode));
    });
  }
}

/** Open fds: nsfs fds, and sockets (whose netns may differ from the process's). */
function readFds(r: ProcessRead, facts: readonly number[]): void {
  const wantSockets = r.walk.wants('net');
  const self = r.pid === process.pid;
  for (let i = 0; i + 2 < facts.length; i += 3) {
    const fdn = facts[i] as number;
    const kind = facts[i + 1] as number;
    const inode = facts[i + 2] as number;
    // (Our own pidfd of this very read is no holder of anything.)
    if (self && fdn === r.pidfd) continue;
    if (kind === -1) {
      if (!wantSockets) continue;
      const netns = socketNetns(r, fdn, inode);
      if (netns !== undefined && netns !== r.own.get('net')) r.obs.push({ kind: 'socket', type: 'net', inode: netns, n: fdn });
      continue;
    }
    const f = PROC_NS_FILES[kind];
    if (f === undefined || f.children || !r.walk.wants(f.type)) continue;
    r.obs.push({ kind: 'fd', type: f.type, inode, n: fdn });
    if (r.need(inode)) r.keep(inode, openNsfsPath(`/proc/${r.pid}/fd/${fdn}`, inode));
  }
}

/** nsfs mounts in the table of its mount namespace (other than ours; copies of ours left out already). */
function readMountTable(r: ProcessRead, lines: readonly string[]): void {
  r.mounts = nsfsMountsOfLines(lines).filter((m) => r.walk.wants(m.type));
  for (const m of r.mounts) {
    if (r.need(m.inode)) r.keep(m.inode, openNsfsPath(`/proc/${r.pid}/root${m.path}`, m.inode));
  }
}

/** The netns inode of socket `fdn` of the process (inode `sockIno`), via pidfd_getfd + SIOCGSKNS. */
function socketNetns(r: ProcessRead, fdn: number, sockIno: number): number | undefined {
  const cached = r.walk.socketNs.get(sockIno);
  if (cached !== undefined) return cached;
  const sock = native.pidfd_getfd(r.pidfd, fdn, 0);
  if (sock < 0) return undefined;
  let nsfd = -1;
  try {
    const st = native.fstat(sock);
    // The fd may have been closed and reused since the readlink.
    if (typeof st === 'number' || Number(st[1]) !== sockIno) return undefined;
    nsfd = native.socket_netns(sock);
  } finally {
    native.close(sock);
  }
  if (nsfd < 0) return undefined;
  const st = native.fstat(nsfd);
  const inode = typeof st === 'number' ? undefined : Number(st[1]);
  if (inode !== undefined && r.need(inode)) r.keep(inode, nsfd);
  else native.close(nsfd);
  if (inode !== undefined) r.walk.socketNs.set(sockIno, inode);
  return inode;
}

/** After the recheck: describes the namespaces first met here, and records what the process showed. */
function record(r: ProcessRead, info: ProcInfo): void {
  const { walk, pid } = r;
  for (const fd of r.pending.values()) walk.describe(fd);
  walk.procs.set(pid, info);
  const mnt = r.own.get('mnt');
  if (mnt !== undefined && !walk.mntnsPid.has(mnt)) walk.mntnsPid.set(mnt, pid);
  if (mnt !== undefined && r.mounts !== undefined && !walk.mountsRead.has(mnt)) {
    walk.mountsRead.add(mnt);
    for (const m of r.mounts) walk.entry(m.type, m.inode, 'mount').mountsElsewhere.push({ mntns: mnt, pid, path: m.path });
  }
  for (const o of r.obs) {
    switch (o.kind) {
      case 'process':
        walk.entry(o.type, o.inode, 'process').pids.add(pid);
        break;
      case 'children':
        walk.entry(o.type, o.inode, 'process').forChildren.add(pid);
        break;
      case 'thread':
        walk.entry(o.type, o.inode, 'thread').threads.push({ pid, tid: o.n as number });
        break;
      case 'fd':
        walk.entry(o.type, o.inode, 'fd').holders.push({ pid, fd: o.n as number });
        break;
      case 'socket':
        walk.entry('net', o.inode, 'socket').sockets.push({ pid, fd: o.n as number });
        break;
    }
  }
}

/** The command line (spaces for NULs, made so by proc_scan); `comm` when it is empty or unreadable. */
function commandOf(cmdline: string | null, comm: string): string {
  return cmdline ?? comm;
}
