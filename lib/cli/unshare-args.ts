// nsfd unshare's command line, read as unshare(1) reads its own.
import type { IdMapEntry, NsType } from '../index';
import { NS_OPTIONS, UsageError, intArg } from './args';
import { lookupName } from './exec-args';
import { type OptSpec, getopt, ownArgsOf } from './getopt';

const SPECS: readonly OptSpec[] = [
  ...NS_OPTIONS.map(([long, short]): OptSpec => ({ long, short, arg: 'optional', shortArg: 'none' })),
  { long: 'fork', short: 'f', arg: 'none' },
  { long: 'kill-child', arg: 'optional' },
  { long: 'mount-proc', arg: 'optional' },
  { long: 'map-root-user', short: 'r', arg: 'none' },
  { long: 'map-current-user', short: 'c', arg: 'none' },
  { long: 'map-user', arg: 'required' },
  { long: 'map-group', arg: 'required' },
  { long: 'map-users', arg: 'required' },
  { long: 'map-groups', arg: 'required' },
  { long: 'propagation', arg: 'required' },
  { long: 'setgroups', arg: 'required' },
  { long: 'setuid', short: 'S', arg: 'required' },
  { long: 'setgid', short: 'G', arg: 'required' },
  { long: 'root', short: 'R', arg: 'required' },
  { long: 'wd', short: 'w', arg: 'required' },
  { long: 'help', short: 'h', arg: 'none' },
];

export function ownArgs(args: readonly string[]): readonly string[] {
  return ownArgsOf(args, SPECS);
}

export type Propagation = 'private' | 'unchanged';

export interface UnshareRequest {
  /** The new namespaces, in unshare's order, each with the file to bind it on (or undefined). */
  namespaces: ReadonlyMap<NsType, string | undefined>;
  mountProc: boolean;
  killChild: boolean;
  uidMap: IdMapEntry[] | undefined;
  gidMap: IdMapEntry[] | undefined;
  setgroups: 'allow' | 'deny' | undefined;
  propagation: Propagation;
  uid: number | undefined;
  gid: number | undefined;
  root: string | undefined;
  wd: string | undefined;
  cmd: readonly [string, ...string[]];
}

/** --map-users=INNER:OUTER:COUNT (util-linux 2.38 order: inner first). */
function rangeArg(value: string | undefined, name: string): IdMapEntry {
  const m = /^(\d+):(\d+):(\d+)$/.exec(value ?? '');
  if (m === null) throw new UsageError(`${name} must be INNER:OUTER:COUNT, not '${value ?? ''}'`);
  return { inside: intArg(m[1], name), outside: intArg(m[2], name), count: intArg(m[3], name, 1) };
}

function idArg(value: string | undefined, name: string, db: string): number {
  if (/^\d+$/.test(value ?? '')) return intArg(value, name);
  const id = lookupName(value ?? '', db);
  if (id === undefined) throw new UsageError(`${name}: no such ${db === '/etc/passwd' ? 'user' : 'group'} '${value ?? ''}'`);
  return id;
}

export function parseUnshareArgs(args: readonly string[], ourUid: number, ourGid: number): UnshareRequest {
  const { opts, positionals } = getopt(args, SPECS, true);
  const namespaces = new Map<NsType, string | undefined>();
  let uidMap: IdMapEntry[] | undefined;
  let gidMap: IdMapEntry[] | undefined;
  const req: Omit<UnshareRequest, 'namespaces' | 'cmd' | 'uidMap' | 'gidMap'> = {
    mountProc: false,
    killChild: false,
    setgroups: undefined,
    propagation: 'private',
    uid: undefined,
    gid: undefined,
    root: undefined,
    wd: undefined,
  };
  // -r, -c and --map-group imply --setgroups=deny, as in unshare(1).
  let impliedDeny = false;
  const newUser = (): void => void (namespaces.has('user') || namespaces.set('user', undefined));
  for (const { name, value } of opts) {
    const ns = NS_OPTIONS.find(([long]) => long === name);
    if (ns !== undefined) {
      namespaces.set(ns[2], value);
      continue;
    }
    switch (name) {
      case 'kill-child':
        if (value !== undefined && !/^(SIG)?KILL$|^9$/i.test(value)) throw new UsageError(`--kill-child: only SIGKILL is supported, not '${value}'`);
        req.killChild = true;
        break;
      case 'mount-proc':
        if (value !== undefined && value !== '/proc') throw new UsageError(`--mount-proc: only /proc is supported, not '${value}'`);
        req.mountProc = true;
        if (!namespaces.has('mnt')) namespaces.set('mnt', undefined);
        break;
      case 'map-root-user':
        newUser();
        uidMap = [{ inside: 0, outside: ourUid, count: 1 }];
        gidMap = [{ inside: 0, outside: ourGid, count: 1 }];
        impliedDeny = true;
        break;
      case 'map-current-user':
        newUser();
        uidMap = [{ inside: ourUid, outside: ourUid, count: 1 }];
        gidMap = [{ inside: ourGid, outside: ourGid, count: 1 }];
        impliedDeny = true;
        break;
      case 'map-user':
        newUser();
        uidMap = [{ inside: idArg(value, '--map-user', '/etc/passwd'), outside: ourUid, count: 1 }];
        break;
      case 'map-group':
        newUser();
        gidMap = [{ inside: idArg(value, '--map-group', '/etc/group'), outside: ourGid, count: 1 }];
        impliedDeny = true;
        break;
      case 'map-users':
        newUser();
        uidMap = [rangeArg(value, '--map-users')];
        break;
      case 'map-groups':
        newUser();
        gidMap = [rangeArg(value, '--map-groups')];
        break;
      case 'propagation':
        if (value !== 'private' && value !== 'unchanged') {
          throw new UsageError(`--propagation: ${value === 'slave' || value === 'shared' ? `'${value}' is not supported (private or unchanged)` : `unsupported propagation mode '${value ?? ''}'`}`);
        }
        req.propagation = value;
        break;
      case 'setgroups':
        if (value !== 'allow' && value !== 'deny') throw new UsageError(`--setgroups must be allow or deny, not '${value ?? ''}'`);
        req.setgroups = value;
        break;
      case 'setuid':
        req.uid = idArg(value, '--setuid', '/etc/passwd');
        break;
      case 'setgid':
        req.gid = idArg(value, '--setgid', '/etc/group');
        break;
      case 'root':
        req.root = value;
        break;
      case 'wd':
        req.wd = value;
        break;
      // -f: nsfd's command is always its clone3 child, pid 1 of a new pid
      // namespace (what unshare gives with -f). -h is handled by main.
    }
  }
  if (namespaces.get('pid') !== undefined) throw new UsageError('--pid=FILE is not supported: the pid namespace would end with the process that holds it');
  if (namespaces.has('user') && (uidMap === undefined || gidMap === undefined)) {
    // unshare -U alone leaves the command with our ids behind the overflow
    // id (nobody); the library refuses to run anything with unmapped ids.
    const which = uidMap === undefined ? 'uid map (-r, -c, --map-user or --map-users)' : 'gid map (--map-group or --map-groups)';
    throw new UsageError(`-U needs a ${which}: nsfd does not run a command with ids its user namespace does not map`);
  }
  if (impliedDeny && req.setgroups === undefined) req.setgroups = 'deny';
  const [file, ...rest] = positionals;
  return { ...req, namespaces, uidMap, gidMap, cmd: file === undefined ? [process.env.SHELL || '/bin/sh'] : [file, ...rest] };
}
