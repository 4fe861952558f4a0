// nsfd exec's command line: where nsfd's options end and the command
// begins, and what the options ask for.
import type { NsType } from '../index';
import { NS_TYPES, UsageError, intArg, parse } from './args';

const EXEC_OPTIONS = {
  target: { type: 'string', short: 't' },
  all: { type: 'boolean', short: 'a' },
  root: { type: 'boolean', short: 'r' },
  wd: { type: 'string', short: 'w' },
  uid: { type: 'string', short: 'S' },
  gid: { type: 'string', short: 'G' },
  mount: { type: 'boolean', short: 'm' },
  uts: { type: 'boolean', short: 'u' },
  ipc: { type: 'boolean', short: 'i' },
  net: { type: 'boolean', short: 'n' },
  pid: { type: 'boolean', short: 'p' },
  cgroup: { type: 'boolean', short: 'C' },
  user: { type: 'boolean', short: 'U' },
  time: { type: 'boolean', short: 'T' },
} as const;

/** The single-namespace options, in the order their types are joined. */
const NS_OPTIONS: readonly (readonly [option: keyof typeof EXEC_OPTIONS, type: NsType])[] = [
  ['mount', 'mnt'],
  ['uts', 'uts'],
  ['ipc', 'ipc'],
  ['net', 'net'],
  ['pid', 'pid'],
  ['cgroup', 'cgroup'],
  ['user', 'user'],
  ['time', 'time'],
];

/** Splits nsfd's options from the command: at '--' or at the first word that is not an option or its value. */
export function splitCommand(args: readonly string[]): { opts: string[]; cmd: string[] } {
  const longValued = new Set<string>();
  const shortValued = new Set<string>();
  for (const [long, o] of Object.entries(EXEC_OPTIONS)) {
    if (o.type !== 'string') continue;
    longValued.add(`--${long}`);
    shortValued.add(o.short);
  }
  let i = 0;
  while (i < args.length) {
    const a = args[i] ?? '';
    if (a === '--') return { opts: args.slice(0, i), cmd: args.slice(i + 1) };
    if (!a.startsWith('-') || a === '-') break;
    i += 1;
    if (a.startsWith('--')) {
      if (!a.includes('=') && longValued.has(a)) i += 1;
      continue;
    }
    // A bundle such as -an or -at123 or -at 123: a valued letter takes the
    // rest of the word, or the next word when it ends the bundle.
    for (let k = 1; k < a.length; k++) {
      if (shortValued.has(a.charAt(k))) {
        if (k === a.length - 1) i += 1;
        break;
      }
    }
  }
  return { opts: args.slice(0, i), cmd: args.slice(i) };
}

export interface ExecRequest {
  target: number;
  /** --all: every type of the target's (those this kernel lacks are skipped). */
  all: boolean;
  /** The types asked for (all of them with --all). */
  types: readonly NsType[];
  root: boolean;
  wd: string | undefined;
  uid: number | undefined;
  gid: number | undefined;
  /** The command and its arguments (default: $SHELL). */
  cmd: readonly [string, ...string[]];
}

export function parseExecArgs(args: readonly string[]): ExecRequest {
  const split = splitCommand(args);
  const { values } = parse(split.opts, EXEC_OPTIONS);
  if (values.target === undefined) throw new UsageError('exec needs a target: -t PID');
  const target = intArg(values.target, '--target', 1);
  const chosen = NS_OPTIONS.filter(([option]) => values[option]);
  if (values.all && chosen.length > 0) throw new UsageError('--all cannot be combined with single namespace options');
  const uid = values.uid === undefined ? undefined : intArg(values.uid, '--uid');
  const gid = values.gid === undefined ? undefined : intArg(values.gid, '--gid');
  const [file, ...rest] = split.cmd;
  return {
    target,
    all: values.all === true,
    types: values.all ? NS_TYPES : chosen.map(([, type]) => type),
    root: values.root === true,
    wd: values.wd,
    uid,
    gid,
    cmd: file === undefined ? [process.env.SHELL || '/bin/sh'] : [file, ...rest],
  };
}
