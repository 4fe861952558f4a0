// Namespace types and their CLONE_NEW* bits.
import { invalidArg } from './errors';

export type NsType = 'mnt' | 'uts' | 'ipc' | 'user' | 'pid' | 'net' | 'cgroup' | 'time';

export const NS_TYPES: readonly NsType[] = ['user', 'mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup', 'time'];

/**
 * A frozen name -> value table without a prototype: a lookup by any string
 * finds only its own entries ('constructor', 'toString', '__proto__' find
 * nothing). For tables looked up by a caller's string, prefer a Map.
 */
export function table<T extends object>(entries: T): Readonly<T> {
  return Object.freeze(Object.assign(Object.create(null) as T, entries));
}

export const CLONE_FLAG: Readonly<Record<NsType, number>> = table({
  time: 0x00000080,
  mnt: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  net: 0x40000000,
});

/** PIDFD_GET_<TYPE>_NAMESPACE ioctl numbers (_IO(0xFF, n)). */
export const PIDFD_NS_IOCTL: Readonly<Record<NsType, number>> = table({
  cgroup: 1,
  ipc: 2,
  mnt: 3,
  net: 4,
  pid: 5,
  time: 7,
  user: 9,
  uts: 10,
});

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
