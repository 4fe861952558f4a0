// Namespace types and their CLONE_NEW* bits.
import { invalidArg } from './errors';
import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  PIDFD_GET_CGROUP_NAMESPACE,
  PIDFD_GET_IPC_NAMESPACE,
  PIDFD_GET_MNT_NAMESPACE,
  PIDFD_GET_NET_NAMESPACE,
  PIDFD_GET_PID_NAMESPACE,
  PIDFD_GET_TIME_NAMESPACE,
  PIDFD_GET_USER_NAMESPACE,
  PIDFD_GET_UTS_NAMESPACE,
} from '../sys/constants';

/** A namespace type, named as in /proc/PID/ns. */
export type NsType = 'mnt' | 'uts' | 'ipc' | 'user' | 'pid' | 'net' | 'cgroup' | 'time';

/** Every namespace type, user first (the order joins need). */
export const NS_TYPES: readonly NsType[] = ['user', 'mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup', 'time'];

/**
 * A frozen name -> value table without a prototype: a lookup by any string
 * finds only its own entries ('constructor', 'toString', '__proto__' find
 * nothing). For tables looked up by a caller's string, prefer a Map.
 */
export function table<T extends object>(entries: T): Readonly<T> {
  return Object.freeze(Object.assign(Object.create(null) as T, entries));
}

/** The CLONE_NEW* flag of each namespace type. */
export const CLONE_FLAG: Readonly<Record<NsType, number>> = table({
  time: CLONE_NEWTIME,
  mnt: CLONE_NEWNS,
  cgroup: CLONE_NEWCGROUP,
  uts: CLONE_NEWUTS,
  ipc: CLONE_NEWIPC,
  user: CLONE_NEWUSER,
  pid: CLONE_NEWPID,
  net: CLONE_NEWNET,
});

/** PIDFD_GET_<TYPE>_NAMESPACE ioctl numbers (_IO(0xFF, n)). */
export const PIDFD_NS_IOCTL: Readonly<Record<NsType, number>> = table({
  cgroup: PIDFD_GET_CGROUP_NAMESPACE,
  ipc: PIDFD_GET_IPC_NAMESPACE,
  mnt: PIDFD_GET_MNT_NAMESPACE,
  net: PIDFD_GET_NET_NAMESPACE,
  pid: PIDFD_GET_PID_NAMESPACE,
  time: PIDFD_GET_TIME_NAMESPACE,
  user: PIDFD_GET_USER_NAMESPACE,
  uts: PIDFD_GET_UTS_NAMESPACE,
});

/**
 * Types a thread of a multithreaded process (every Node thread) can join
 * and leave again with setns; user, mnt, pid and time cannot be changed
 * there (EINVAL/EUSERS; see DESIGN.md, "setns rules that bite").
 */
export const THREAD_JOINABLE: readonly NsType[] = Object.freeze(['net', 'uts', 'ipc', 'cgroup']);

export function typeFromCloneFlag(flag: number): NsType | undefined {
  for (const t of NS_TYPES) if (CLONE_FLAG[t] === flag) return t;
  return undefined;
}

export function isNsType(x: unknown): x is NsType {
  return typeof x === 'string' && (NS_TYPES as readonly string[]).includes(x);
}

export function checkNsType(x: unknown, name = 'type'): NsType {
  if (!isNsType(x)) throw invalidArg(name, `one of ${NS_TYPES.join(', ')}`, x);
  return x;
}

export function checkNsTypes(x: unknown, name = 'types'): NsType[] {
  if (!Array.isArray(x)) throw invalidArg(name, 'an array of namespace types', x);
  // Array.from: a hole is checked (as undefined), not skipped as map would.
  return [...new Set(Array.from(x as readonly unknown[], (t) => checkNsType(t, name)))];
}

export function checkPid(pid: unknown, name = 'pid'): number {
  if (typeof pid !== 'number' || !Number.isInteger(pid)) throw invalidArg(name, 'an integer', pid);
  if (pid < 1 || pid > 0x3fffffff) {
    const err = new RangeError(`The value of "${name}" is out of range. It must be >= 1 and <= 1073741823. Received ${pid}`);
    (err as RangeError & { code: string }).code = 'ERR_OUT_OF_RANGE';
    throw err;
  }
  return pid;
}
