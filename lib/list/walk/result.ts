// The walk's last step: its entries as NamespaceInfo, sorted, each with the
// process that names it.
import { NS_TYPES } from '../../core/ns-types';
import { SOURCE_ORDER } from '../types';
import type { NamespaceInfo } from '../types';
import type { Entry, Walk } from './state';

/** Every entry of the wanted type, sorted by inode (then type). */
export function walkResult(walk: Walk): NamespaceInfo[] {
  const out: NamespaceInfo[] = [];
  for (const e of [...walk.byInode.values(), ...walk.unopened]) {
    if (!walk.wants(e.type) || e.sources.size === 0) continue;
    out.push(toInfo(walk, e));
  }
  return out.sort((a, b) => a.inode - b.inode || NS_TYPES.indexOf(a.type) - NS_TYPES.indexOf(b.type));
}

function toInfo(walk: Walk, e: Entry): NamespaceInfo {
  if (e.sources.size > 1) e.sources.delete('hierarchy');
  const pids = [...e.pids].sort((a, b) => a - b);
  const info: NamespaceInfo = {
    type: e.type,
    inode: e.inode,
    dev: e.dev,
    pids,
    threads: e.threads.sort((a, b) => a.pid - b.pid || a.tid - b.tid),
    forChildren: [...e.forChildren].sort((a, b) => a - b),
    holders: e.holders.sort((a, b) => a.pid - b.pid || a.fd - b.fd),
    sockets: e.sockets.sort((a, b) => a.pid - b.pid || a.fd - b.fd),
    persisted: e.persisted.sort(),
    mountsElsewhere: e.mountsElsewhere,
    sources: SOURCE_ORDER.filter((s) => e.sources.has(s)),
  };
  if (e.id !== undefined) info.id = e.id;
  if (e.ownerInode !== undefined) info.ownerInode = e.ownerInode;
  if (e.ownerUid !== undefined) info.ownerUid = e.ownerUid;
  if (e.parentInode !== undefined) info.parentInode = e.parentInode;
  const pid =
    pids[0] ??
    lowest([
      ...e.threads.map((t) => t.pid),
      ...e.forChildren,
      ...e.holders.map((h) => h.pid),
      ...e.sockets.map((h) => h.pid),
    ]);
  if (pid !== undefined) {
    info.pid = pid;
    const p = walk.procs.get(pid);
    if (p !== undefined) {
      info.command = p.command;
      if (p.uid !== undefined) info.uid = p.uid;
    }
  }
  return info;
}

function lowest(xs: number[]): number | undefined {
  let m: number | undefined;
  for (const x of xs) if (m === undefined || x < m) m = x;
  return m;
}
