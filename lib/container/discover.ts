// Finding the containers on this machine through /proc (Container.list):
// processes grouped by the identity of all their namespaces; and the pidfd
// that adopting one by pid (Container.fromPid) starts from.
import { procPids, procRead, procReadlink } from '../core/procfs';
import { readNsLink } from '../list/links';

import { E, NsError, invalidArg } from '../core/errors';
import { NS_TYPES, NsType, checkPid } from '../core/ns-types';
import { Pidfd } from '../pidfd';

/** One group of Container.list(). */
export interface ContainerInfo {
  /** Lowest pid of the group (lsns's "PID" column): usually the init. */
  leader: number;
  pids: number[];
  /** comm of the leader. */
  command: string;
  /** Inode of each namespace of the group (as /proc/PID/ns/TYPE shows). */
  namespaces: Partial<Record<NsType, number>>;
  /** The types in which the group differs from the host (pid 1, else this process). */
  differs: NsType[];
}

const HOST_PID = 1;

/** Processes with the same namespace inodes (one per type of `types`, in that order). */
interface NsGroup {
  pids: number[];
  ns: number[];
}

/** See Container.list. */
export function listContainers(): ContainerInfo[] {
  const types = NS_TYPES.filter((t) => typeof procReadlink(`self/ns/${t}`) === 'string');
  const nsOf = (pid: number): number[] | undefined => {
    const out: number[] = [];
    for (const t of types) {
      const ino = readNsLink(`/proc/${pid}/ns/${t}`)?.inode;
      if (ino === undefined) return undefined;
      out.push(ino);
    }
    return out;
  };
  // The reference: pid 1 (the host's init), or, when we may not inspect
  // it (not dumpable, another user), this process.
  const host = nsOf(HOST_PID) ?? nsOf(process.pid);
  if (host === undefined) throw new NsError(-E.EACCES, 'stat(/proc/self/ns)', { hint: 'cannot read namespace links' });
  const out = [...groupByNamespaces(nsOf, host).values()].map((g) => describeGroup(g, types, host));
  return out.sort((a, b) => a.leader - b.leader);
}

/** The processes of /proc whose namespaces are not exactly `host`'s, grouped by namespace set. */
function groupByNamespaces(nsOf: (pid: number) => number[] | undefined, host: readonly number[]): Map<string, NsGroup> {
  const groups = new Map<string, NsGroup>();
  for (const pid of procPids()) {
    const ns = nsOf(pid);
    if (ns === undefined) continue;
    if (ns.every((ino, i) => ino === host[i])) continue;
    const key = ns.join(':');
    const g = groups.get(key);
    if (g) g.pids.push(pid);
    else groups.set(key, { pids: [pid], ns });
  }
  return groups;
}

function describeGroup(g: NsGroup, types: readonly NsType[], host: readonly number[]): ContainerInfo {
  g.pids.sort((a, b) => a - b);
  const leader = g.pids[0] as number;
  // '' when it exited meanwhile.
  const command = procRead(`${leader}/comm`)?.trim() ?? '';
  const namespaces: Partial<Record<NsType, number>> = {};
  const differs: NsType[] = [];
  types.forEach((t, i) => {
    namespaces[t] = g.ns[i] as number;
    if (g.ns[i] !== host[i]) differs.push(t);
  });
  return { leader, pids: g.pids, command, namespaces, differs };
}

/** The pidfd Container.fromPid adopts: ESRCH unless `id`, when given, is still the pid's pidfs id. */
export function openAdopted(pid: number, options: { id?: bigint }): Pidfd {
  checkPid(pid);
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  return Pidfd.open(pid, options.id === undefined ? {} : { id: options.id });
}
