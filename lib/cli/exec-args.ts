// nsfd exec's command line, read as nsenter(1) reads its own: where nsfd's
// options end and the command begins, and what the options ask for.
import * as fs from 'node:fs';

import type { NsType } from '../index';
import { NS_OPTIONS, NS_TYPES, UsageError, intArg } from './args';
import { type OptSpec, getopt, ownArgsOf } from './getopt';

const SPECS: readonly OptSpec[] = [
  { long: 'target', short: 't', arg: 'required' },
  { long: 'all', short: 'a', arg: 'none' },
  ...NS_OPTIONS.map(([long, short]): OptSpec => ({ long, short, arg: 'optional' })),
  { long: 'net-socket', short: 'N', arg: 'required' },
  { long: 'root', short: 'r', arg: 'optional' },
  { long: 'wd', short: 'w', arg: 'optional' },
  { long: 'wdns', short: 'W', arg: 'required' },
  { long: 'setuid', short: 'S', arg: 'required' },
  { long: 'setgid', short: 'G', arg: 'required' },
  // nsfd's older names for -S/-G.
  { long: 'uid', arg: 'required' },
  { long: 'gid', arg: 'required' },
  { long: 'preserve-credentials', arg: 'none' },
  { long: 'env', short: 'e', arg: 'none' },
  { long: 'no-fork', short: 'F', arg: 'none' },
  { long: 'join-cgroup', short: 'c', arg: 'none' },
  { long: 'help', short: 'h', arg: 'none' },
];

/** nsfd's own arguments (before the command): main looks for --help there. */
export function ownArgs(args: readonly string[]): readonly string[] {
  return ownArgsOf(args, SPECS);
}

/** Where a namespace comes from: the target process, or a file (an nsfs bind mount or /proc/N/ns/X). */
export type NsSourceArg = { from: 'target' } | { from: 'file'; path: string } | { from: 'socket'; fd: number };

/** A user or group: a number, a name (looked up in our /etc/passwd, /etc/group), or the target's ('follow'). */
export type IdArg = number | 'follow';

export interface ExecRequest {
  /** -t PID[:INODE]: the pid, and the pidfs inode it must have (util-linux 2.41). */
  target: { pid: number; inode: bigint | undefined } | undefined;
  /** --all: every type of the target's (those this kernel lacks are skipped). */
  all: boolean;
  /** The namespaces asked for, by type, in nsenter's join order. */
  namespaces: ReadonlyMap<NsType, NsSourceArg>;
  /** -r: the target's root (true) or a directory of ours. */
  root: true | string | undefined;
  /** -w: the target's cwd (true) or a directory; -W: a directory in the joined mount namespace. */
  wd: true | string | undefined;
  wdns: string | undefined;
  uid: IdArg | undefined;
  gid: IdArg | undefined;
  preserveCredentials: boolean;
  /** -e: the target's environment. */
  env: boolean;
  /** -c: into the target's cgroup. */
  joinCgroup: boolean;
  /** The command and its arguments (default: $SHELL). */
  cmd: readonly [string, ...string[]];
}

function idArg(value: string | undefined, name: string, db: string): IdArg {
  if (value === 'follow') return 'follow';
  if (/^\d+$/.test(value ?? '')) return intArg(value, name);
  const id = lookupName(value ?? '', db);
  if (id === undefined) throw new UsageError(`${name}: no such ${db === '/etc/passwd' ? 'user' : 'group'} '${value ?? ''}'`);
  return id;
}

/** The id of `name` in an /etc/passwd-style file (name:x:id:...). */
export function lookupName(name: string, file: string): number | undefined {
  if (name === '') return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [n, , id] = line.split(':');
    if (n === name && id !== undefined && /^\d+$/.test(id)) return Number(id);
  }
  return undefined;
}

function targetArg(value: string | undefined): ExecRequest['target'] {
  const m = /^(\d+)(?::(\d+))?$/.exec(value ?? '');
  if (m === null) throw new UsageError(`--target must be PID or PID:INODE, not '${value ?? ''}'`);
  return { pid: intArg(m[1], '--target', 1), inode: m[2] === undefined ? undefined : BigInt(m[2]) };
}

export function parseExecArgs(args: readonly string[]): ExecRequest {
  const { opts, positionals } = getopt(args, SPECS, true);
  const namespaces = new Map<NsType, NsSourceArg>();
  const req: Omit<ExecRequest, 'cmd' | 'namespaces'> = {
    target: undefined,
    all: false,
    root: undefined,
    wd: undefined,
    wdns: undefined,
    uid: undefined,
    gid: undefined,
    preserveCredentials: false,
    env: false,
    joinCgroup: false,
  };
  for (const { name, value } of opts) {
    const ns = NS_OPTIONS.find(([long]) => long === name);
    if (ns !== undefined) {
      namespaces.set(ns[2], value === undefined ? { from: 'target' } : { from: 'file', path: value });
      continue;
    }
    switch (name) {
      case 'target':
        req.target = targetArg(value);
        break;
      case 'all':
        req.all = true;
        break;
      case 'net-socket':
        namespaces.set('net', { from: 'socket', fd: intArg(value, '--net-socket') });
        break;
      case 'root':
        req.root = value ?? true;
        break;
      case 'wd':
        req.wd = value ?? true;
        break;
      case 'wdns':
        req.wdns = value;
        break;
      case 'setuid':
      case 'uid':
        req.uid = idArg(value, '--setuid', '/etc/passwd');
        break;
      case 'setgid':
      case 'gid':
        req.gid = idArg(value, '--setgid', '/etc/group');
        break;
      case 'preserve-credentials':
        req.preserveCredentials = true;
        break;
      case 'env':
        req.env = true;
        break;
      case 'join-cgroup':
        req.joinCgroup = true;
        break;
      // -F: nsfd never forks itself: the command is always its clone3 child,
      // in the pid namespace it joins (what nsenter gives without -F).
      // -h is handled by main.
    }
  }
  const needsTarget = [...namespaces.values()].some((s) => s.from === 'target') || req.all || req.root === true || req.wd === true || req.env || req.joinCgroup || req.uid === 'follow' || req.gid === 'follow';
  if (needsTarget && req.target === undefined) throw new UsageError('no target PID specified for the options without FILE (-t PID)');
  if (namespaces.size === 0 && !req.all && req.target === undefined) throw new UsageError('no namespace specified (-t PID with -a or -m -u -i -n -p -C -U -T, or -n/--net=FILE and the like)');
  if (req.wd !== undefined && req.wdns !== undefined) throw new UsageError('--wd and --wdns are exclusive');
  const [file, ...rest] = positionals;
  return { ...req, namespaces, cmd: file === undefined ? [process.env.SHELL || '/bin/sh'] : [file, ...rest] };
}

/** The types in nsenter's order, for --all. */
export const ALL_TYPES: readonly NsType[] = NS_OPTIONS.map(([, , t]) => t).filter((t) => NS_TYPES.includes(t));
