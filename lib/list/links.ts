// /proc links to namespaces ("net:[4026531840]") and the nsfs files they
// name: reading and parsing the links, and opening such a file without
// side effects to learn its type, dev and inode. Nothing here keeps an fd
// past the function that opened it, except the fds it returns. Paths under
// /proc/ are read through our own procfs (core/procfs.ts).

import { E } from '../core/errors';
import { NS_TYPES, NsType, PIDFD_NS_IOCTL } from '../core/ns-types';
import { native } from '../sys/native';
import { NsIdentity, parseNsLink, probeNamespace } from '../core/identity';

export { parseNsLink };
import { openPath, readdirPath, readlinkPath } from '../core/procfs';
import {
  NSFS_MAGIC,
  O_PATH,
  O_RDONLY,
  PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE,
  PIDFD_GET_TIME_FOR_CHILDREN_NAMESPACE,
} from '../sys/constants';
import { pidfdGetNamespace } from '../sys/nsfs';

const SOCKET_RE = /^socket:\[(\d+)\]$/;

/** A file in /proc/PID/ns, and the pidfd ioctl that opens the same namespace. */
export interface ProcNsFile {
  file: string;
  type: NsType;
  /** pid_for_children/time_for_children. */
  children: boolean;
  ioctl: number;
}

/** Files in /proc/PID/ns: the types, plus the *_for_children links. */
export const PROC_NS_FILES: readonly ProcNsFile[] = [
  ...NS_TYPES.map((t) => ({ file: t, type: t, children: false, ioctl: PIDFD_NS_IOCTL[t] })),
  { file: 'pid_for_children', type: 'pid', children: true, ioctl: PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE },
  { file: 'time_for_children', type: 'time', children: true, ioctl: PIDFD_GET_TIME_FOR_CHILDREN_NAMESPACE },
];
/** What a thread can have apart from its process (user and pid are per process). */
export const THREAD_NS_FILES = PROC_NS_FILES.filter((f) => f.type !== 'user' && !(f.type === 'pid' && !f.children));

/** The inode of a "socket:[123]" link, or undefined if it is not one. */
export function parseSocketLink(link: string): number | undefined {
  const m = SOCKET_RE.exec(link);
  return m === null ? undefined : Number(m[1]);
}

/** readlink(2), or undefined (the walk's links vanish all the time). */
export function readlink(path: string): string | undefined {
  const r = readlinkPath(path);
  return typeof r === 'string' ? r : undefined;
}

/** The namespace a /proc link names, or undefined if it is unreadable or not one. */
export function readNsLink(path: string): { type: NsType; inode: number } | undefined {
  const link = readlink(path);
  return link === undefined ? undefined : parseNsLink(link);
}

/** The numeric entries of a /proc directory (pids, tids, fds); [] if it is gone. */
export function readdirNums(path: string): number[] {
  const names = readdirPath(path);
  if (typeof names === 'number') return [];
  const out: number[] = [];
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(n));
  }
  return out;
}

export type RawIdentity = NsIdentity;

/** Type, dev and inode of an nsfs fd, or undefined if it is not one. */
export function identify(fd: number): RawIdentity | undefined {
  const id = probeNamespace(fd);
  return 'errno' in id ? undefined : id;
}

/**
 * Opens an nsfs file by path without side effects on anything else: O_PATH
 * first (a FIFO or device there would block or react to a real open), then
 * a real open of that same file through /proc/self/fd once it is known to
 * be nsfs. Returns the fd (the caller closes it) or -1.
 */
export function openNsfsPath(path: string, inode?: number): number {
  const p = openPath(path, O_PATH);
  if (p < 0) return -1;
  try {
    if (native.fstatfs_type(p) !== NSFS_MAGIC) return -1;
    if (inode !== undefined) {
      const st = native.fstat(p);
      if (typeof st === 'number' || Number(st[1]) !== inode) return -1;
    }
    const fd = openPath(`/proc/self/fd/${p}`, O_RDONLY);
    return fd < 0 ? -1 : fd;
  } finally {
    native.close(p);
  }
}

let pidfdNsIoctls = true;

/** A process's namespace through its pidfd (6.11), else its /proc link; -1 if not `inode`. */
export function openProcNs(pidfd: number, pid: number, f: ProcNsFile, inode: number): number {
  if (pidfdNsIoctls) {
    const r = pidfdGetNamespace(pidfd, f.ioctl);
    if (r >= 0) {
      const st = native.fstat(r);
      if (typeof st !== 'number' && Number(st[1]) === inode) return r;
      native.close(r);
    } else if (r === -E.ENOTTY || r === -E.EINVAL) {
      pidfdNsIoctls = false;
    }
  }
  return openNsfsPath(`/proc/${pid}/ns/${f.file}`, inode);
}
