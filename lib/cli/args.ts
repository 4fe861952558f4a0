// Argument checks shared by the commands. A bad argument is a UsageError:
// main prints it with the usage of the command and exits 2.
import { type ParseArgsConfig, parseArgs } from 'node:util';

import type { NsType } from '../index';
import { messageOf } from './output';

export class UsageError extends Error {
  /** Whose usage to print; main sets it to the command that was running. */
  usage = 'main';
  override name = 'UsageError';
}

/**
 * A UsageError of any copy of this module: each command's bundle has its
 * own (scripts/bundle.ts), so main tells them by name, not instanceof.
 */
export function isUsageError(err: unknown): err is UsageError {
  return err instanceof Error && err.name === 'UsageError' && typeof (err as { usage?: unknown }).usage === 'string';
}

// The types in lsns order. Kept here rather than taken from the library so
// that --help and usage errors load no addon; the Record type makes tsc
// check that the list is complete.
const TYPE_ORDER: Record<NsType, null> = { user: null, mnt: null, uts: null, ipc: null, pid: null, net: null, cgroup: null, time: null };
export const NS_TYPES = Object.keys(TYPE_ORDER) as readonly NsType[];

/**
 * The namespace options nsenter and unshare share (-m/--mount ... -T/--time),
 * in nsenter's order: each takes an optional FILE (-nFILE, --net=FILE), a
 * namespace to join for exec, a file to bind the new one on for unshare.
 */
export const NS_OPTIONS: readonly (readonly [long: string, short: string, type: NsType])[] = [
  ['mount', 'm', 'mnt'],
  ['uts', 'u', 'uts'],
  ['ipc', 'i', 'ipc'],
  ['net', 'n', 'net'],
  ['pid', 'p', 'pid'],
  ['cgroup', 'C', 'cgroup'],
  ['user', 'U', 'user'],
  ['time', 'T', 'time'],
];

type Options = NonNullable<ParseArgsConfig['options']>;
/** What parseArgs gives for these options (strict; positionals allowed or not). */
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>>;

/** parseArgs with strict checking, its errors turned into usage errors. */
export function parse<O extends Options>(args: readonly string[], options: O, allowPositionals = false): Parsed<O> {
  try {
    return parseArgs({ args: [...args], options, allowPositionals, strict: true });
  } catch (err) {
    if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(messageOf(err));
    }
    throw err;
  }
}

function isNsType(t: string): t is NsType {
  return (NS_TYPES as readonly string[]).includes(t);
}

export function checkType(t: string | undefined): NsType | undefined {
  if (t === undefined) return undefined;
  if (!isNsType(t)) throw new UsageError(`unknown namespace type '${t}' (expected one of ${NS_TYPES.join(', ')})`);
  return t;
}

export function intArg(value: string | undefined, name: string, min = 0): number {
  if (!/^\d+$/.test(value ?? '') || Number(value) < min || Number(value) > 0x7fffffff) {
    throw new UsageError(`${name} must be an integer >= ${min}, not '${value ?? ''}'`);
  }
  return Number(value);
}
