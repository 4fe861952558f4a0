// Which namespaces spawn() joins: options.join resolved into one pidfd with
// CLONE_NEW* flags (a process) or a list of nsfds (Namespaces), leaving out
// those we are in already (compared by namespace identity, core/identity).
import { ownProcfs } from '../core/procfs';
import { ownNamespace, parseNsLink } from '../core/identity';

import { E, NsError, invalidArg, invalidValue } from '../core/errors';
import { CLONE_FLAG, NS_TYPES, NsType, THREAD_JOINABLE, checkNsTypes } from '../core/ns-types';
import { privilege } from '../core/privilege';
import { native } from '../sys/native';
import { Namespace } from '../namespace';
import { Pidfd } from '../pidfd';
import { targetError } from './errors';
import type { SpawnOptions } from './options';

/** What the child joins: setns(pidfd, flags) at once, then setns(fds[i]) in order. */
export interface Join {
  pidfd: number;
  flags: number;
  fds: number[];
  types: NsType[];
}

export function flagsOf(types: Iterable<NsType>): number {
  let f = 0;
  for (const t of types) f |= CLONE_FLAG[t];
  return f;
}

export function resolveJoin(options: SpawnOptions, unshare: NsType[]): Join {
  const { join } = options;
  if (join === undefined) {
    if (options.joinTypes !== undefined) throw invalidValue('options.joinTypes', 'needs options.join', options.joinTypes);
    return { pidfd: -1, flags: 0, fds: [], types: [] };
  }
  const explicit = options.joinTypes === undefined ? undefined : checkNsTypes(options.joinTypes, 'options.joinTypes');
  const conflict = (t: NsType): never => {
    throw invalidValue('options.unshare', `asks for a new ${t} namespace while options.join enters an existing one`, options.unshare);
  };
  if (join instanceof Pidfd) return joinProcess(join, explicit, unshare, conflict);
  if (!Array.isArray(join) || join.some((n) => !(n instanceof Namespace))) {
    throw invalidArg('options.join', 'a Pidfd or an array of Namespaces', join);
  }
  return joinNamespaces(join as readonly Namespace[], explicit, unshare, conflict);
}

/** A process's namespaces: one atomic setns(pidfd, flags) of the types that differ from ours. */
function joinProcess(join: Pidfd, explicit: NsType[] | undefined, unshare: NsType[], conflict: (t: NsType) => never): Join {
  const out: Join = { pidfd: -1, flags: 0, fds: [], types: [] };
  const fd = join.fdFor('setns');
  const wanted = explicit ?? NS_TYPES.filter((t) => !unshare.includes(t));
  for (const t of explicit ?? []) if (unshare.includes(t)) conflict(t);
  const configured = wanted.filter((t) => {
    if (hasNsType(t)) return true;
    // Types compiled out of this kernel are skipped unless asked for by name.
    if (explicit !== undefined) throw new NsError(-E.EOPNOTSUPP, 'setns', { hint: `this kernel has no ${t} namespaces` });
    return false;
  });
  const differ = (types: NsType[]): void => {
    const theirs = inodesOf(join, types);
    types.forEach((t, i) => theirs[i] !== ownNamespace(t)?.inode && out.types.push(t));
  };
  if (privilege().everywhere) {
    // With CAP_SYS_ADMIN in the initial user namespace and no user
    // namespace joined, re-entering one of our own net/uts/ipc/cgroup
    // namespaces is a harmless no-op: join those without comparing.
    differ(configured.filter((t) => !THREAD_JOINABLE.includes(t)));
    const volatile = configured.filter((t) => THREAD_JOINABLE.includes(t));
    if (out.types.includes('user')) differ(volatile);
    else out.types.push(...volatile);
  } else {
    differ(configured);
  }
  out.types.sort((a, b) => NS_TYPES.indexOf(a) - NS_TYPES.indexOf(b));
  if (out.types.length > 0) {
    out.pidfd = fd;
    out.flags = flagsOf(out.types);
  }
  return out;
}

/** Namespace fds, one setns each, user first: it gives the capabilities the other joins are checked against. */
function joinNamespaces(join: readonly Namespace[], explicit: NsType[] | undefined, unshare: NsType[], conflict: (t: NsType) => never): Join {
  const out: Join = { pidfd: -1, flags: 0, fds: [], types: [] };
  const byType = new Map<NsType, Namespace>();
  for (const ns of join) {
    if (explicit && !explicit.includes(ns.type)) continue;
    if (byType.has(ns.type)) throw invalidValue('options.join', `holds two ${ns.type} namespaces`, join);
    if (unshare.includes(ns.type)) conflict(ns.type);
    byType.set(ns.type, ns);
  }
  for (const t of NS_TYPES) {
    const ns = byType.get(t);
    if (ns === undefined) continue;
    if (ns.closed) throw new NsError(-E.EBADF, 'setns', {}, 'EBADF: file descriptor closed, setns');
    const fd = ns.fd;
    using ours = Namespace.current(t);
    if (ns.equals(ours)) continue;
    out.fds.push(fd);
    out.types.push(t);
  }
  return out;
}

let kernelTypes: Set<NsType> | undefined;
/** Whether this kernel has namespaces of type t (fixed at boot: checked once). */
function hasNsType(t: NsType): boolean {
  kernelTypes ??= new Set(NS_TYPES.filter((x) => ownNamespace(x) !== null));
  return kernelTypes.has(t);
}

/** The inodes of the target's namespaces (its "type:[inode]" links), checked through the pidfd to be about that process. */
function inodesOf(pidfd: Pidfd, types: readonly NsType[]): number[] {
  if (types.length === 0) return [];
  const r = native.spawn_ns_links(pidfd.fdFor('setns'), pidfd.pid, types as NsType[], ownProcfs().fd);
  if (typeof r === 'number') throw targetError(r, pidfd.pid);
  return r.map((l, i) => {
    // ENOENT for a type this kernel has: the process is gone (or a zombie, which has no namespaces left).
    if (typeof l === 'number') throw targetError(l === -E.ENOENT ? -E.ESRCH : l, pidfd.pid, types[i]);
    return parseNsLink(l)?.inode ?? -1;
  });
}
