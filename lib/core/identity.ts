// A namespace's identity: its type, and the nsfs device and inode that name
// it on every kernel (NS_GET_ID, 6.18+, is an extra). One definition for
// Namespace, the list walk, attach and translatePid.
import { E, NsError } from './errors';
import { procOpen } from './procfs';
import { NS_TYPES, NsType, THREAD_JOINABLE, typeFromCloneFlag } from './ns-types';
import { native } from '../sys/native';
import { NSFS_MAGIC, O_RDONLY } from '../sys/constants';
import { nsGetNstype } from '../sys/nsfs';

export interface NsIdentity {
  type: NsType;
  dev: number;
  inode: number;
}

/** Why an fd has no namespace identity: the errno, the call that said so, and a hint. */
export interface NotANamespace {
  errno: number;
  syscall: string;
  hint?: string;
}

/** The identity of an nsfs fd, or why it is not one. */
export function probeNamespace(fd: number): NsIdentity | NotANamespace {
  const ftype = native.fstatfs_type(fd);
  if (ftype < 0) return { errno: ftype, syscall: 'fstatfs' };
  if (ftype !== NSFS_MAGIC) return { errno: -E.EINVAL, syscall: 'fstatfs', hint: 'not a namespace file descriptor' };
  const flag = nsGetNstype(fd);
  if (flag < 0) return { errno: flag, syscall: 'ioctl(NS_GET_NSTYPE)' };
  const type = typeFromCloneFlag(flag);
  if (type === undefined) return { errno: -E.EINVAL, syscall: 'ioctl(NS_GET_NSTYPE)', hint: `unknown namespace type 0x${flag.toString(16)}` };
  const st = native.fstat(fd);
  if (typeof st === 'number') return { errno: st, syscall: 'fstat' };
  return { type, dev: Number(st[0]), inode: Number(st[1]) };
}

/** dev:inode of an nsfd as a string key (or -errno from fstat): equal keys, same namespace. */
export function identityKey(fd: number): string | number {
  const st = native.fstat(fd);
  return typeof st === 'number' ? st : `${st[0]}:${st[1]}`;
}

const NS_LINK = /^([a-z]+):\[(\d+)\]$/;

/**
 * Parses a /proc link such as "net:[4026531840]". The inode alone names the
 * namespace: every nsfs file lives on the one nsfs device.
 */
export function parseNsLink(link: string): { type: NsType; inode: number } | undefined {
  const m = NS_LINK.exec(link);
  if (!m) return undefined;
  const type = m[1] as string;
  if (!(NS_TYPES as readonly string[]).includes(type)) return undefined;
  return { type: type as NsType, inode: Number(m[2]) };
}

// A multithreaded process (every Node process) cannot change its user, mnt,
// pid or time namespace: setns and unshare of those are refused, and a pid
// namespace join moves only children. Those are read once; the types a
// thread can move between (attach()) are read each time, for the calling
// thread.
const stable = new Map<NsType, NsIdentity | null>();

function readOwn(type: NsType): NsIdentity | null {
  const rel = `thread-self/ns/${type}`;
  const fd = procOpen(rel, O_RDONLY, true);
  if (fd === -E.ENOENT) return null; // this kernel has no such namespaces
  if (fd < 0) throw new NsError(fd, 'open', { path: `/proc/${rel}` });
  try {
    const st = native.fstat(fd);
    if (typeof st === 'number') throw new NsError(st, 'fstat', { path: `/proc/${rel}` });
    return { type, dev: Number(st[0]), inode: Number(st[1]) };
  } finally {
    native.close(fd);
  }
}

/** The calling thread's namespace of `type`, or null when this kernel has no such type. */
export function ownNamespace(type: NsType): NsIdentity | null {
  if (THREAD_JOINABLE.includes(type)) return readOwn(type);
  let id = stable.get(type);
  if (id === undefined) stable.set(type, (id = readOwn(type)));
  return id;
}

/** The dev:inode key of the calling thread's namespace of `type`. */
export function ownNamespaceKey(type: NsType): string {
  const id = ownNamespace(type);
  if (id === null) throw new NsError(-E.ENOENT, 'open', { path: `/proc/thread-self/ns/${type}` });
  return `${id.dev}:${id.inode}`;
}
