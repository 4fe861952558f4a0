// A namespace's identity: its type, and the nsfs device and inode that name
// it on every kernel (NS_GET_ID, 6.18+, is an extra). One definition for
// Namespace, the list walk, attach and translatePid.
import { E, NsError } from './errors';
import { procOpen } from './procfs';
import { NsType, typeFromCloneFlag } from './ns-types';
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

// The user and pid namespace of a process never change once it has threads
// (every Node process): setns and unshare of those are refused, and a pid
// namespace join moves only children. Their keys are read once.
const ownKeys = new Map<'user' | 'pid', string>();

/** The dev:inode key of this process's own user or pid namespace. */
export function ownNamespaceKey(type: 'user' | 'pid'): string {
  let key = ownKeys.get(type);
  if (key === undefined) {
    const path = `/proc/self/ns/${type}`;
    const fd = procOpen(`self/ns/${type}`, O_RDONLY, true);
    if (fd < 0) throw new NsError(fd, 'open', { path });
    try {
      const k = identityKey(fd);
      if (typeof k === 'number') throw new NsError(k, 'fstat', { path });
      key = k;
    } finally {
      native.close(fd);
    }
    ownKeys.set(type, key);
  }
  return key;
}
