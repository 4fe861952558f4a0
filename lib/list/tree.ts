// namespaceTree() and buildNamespaceTree(): listNamespaces() as the owner
// and parent trees of `lsns -T`.
import { invalidArg } from '../core/errors';
import { checkOptions } from './options';
import type { ListOptions, NamespaceInfo, NamespaceTree, NamespaceTreeNode } from './types';
import { listNamespaces } from './walk';

/**
 * Arranges namespaces (from listNamespaces(), all types) as trees: user
 * namespaces with their child user namespaces and the namespaces they own,
 * and pid/user namespaces by parent. With `type`, only branches leading to
 * a namespace of that type are kept.
 */
export function buildNamespaceTree(list: readonly NamespaceInfo[], options?: ListOptions): NamespaceTree {
  const opts = checkOptions(options);
  if (!Array.isArray(list) || list.some((ns) => ns === null || typeof ns !== 'object' || !Number.isInteger((ns as NamespaceInfo).inode))) {
    throw invalidArg('list', 'an array of NamespaceInfo (from listNamespaces())', list);
  }
  const byInode = new Map<number, NamespaceInfo>();
  for (const ns of list) byInode.set(ns.inode, ns);

  const ownerKids = new Map<number, NamespaceInfo[]>();
  const parentKids = new Map<number, NamespaceInfo[]>();
  const push = (m: Map<number, NamespaceInfo[]>, k: number, v: NamespaceInfo) => {
    const a = m.get(k);
    if (a) a.push(v);
    else m.set(k, [v]);
  };
  const ownerRoots: NamespaceInfo[] = [];
  const parentRoots: NamespaceInfo[] = [];
  for (const ns of list) {
    // owner tree: a user ns hangs under its parent; anything else under its owner.
    const up = ns.type === 'user' ? ns.parentInode : ns.ownerInode;
    if (up !== undefined && up !== ns.inode && byInode.get(up)?.type === 'user') push(ownerKids, up, ns);
    else ownerRoots.push(ns);
    if (ns.type === 'pid' || ns.type === 'user') {
      const p = ns.parentInode;
      if (p !== undefined && byInode.get(p)?.type === ns.type) push(parentKids, p, ns);
      else parentRoots.push(ns);
    }
  }
  const order = (a: NamespaceInfo, b: NamespaceInfo) =>
    (a.type === 'user' ? 0 : 1) - (b.type === 'user' ? 0 : 1) || a.inode - b.inode;
  const build = (ns: NamespaceInfo, kids: Map<number, NamespaceInfo[]>, depth: number): NamespaceTreeNode | undefined => {
    const children: NamespaceTreeNode[] = [];
    if (depth < 64) {
      for (const k of (kids.get(ns.inode) ?? []).sort(order)) {
        const n = build(k, kids, depth + 1);
        if (n) children.push(n);
      }
    }
    if (opts.type !== undefined && ns.type !== opts.type && children.length === 0) return undefined;
    return { ns, children };
  };
  const forest = (roots: NamespaceInfo[], kids: Map<number, NamespaceInfo[]>) =>
    roots.sort(order).flatMap((r) => build(r, kids, 0) ?? []);
  return { owner: forest(ownerRoots, ownerKids), parent: forest(parentRoots, parentKids) };
}

/** listNamespaces() arranged as trees (see buildNamespaceTree). */
export async function namespaceTree(options?: ListOptions): Promise<NamespaceTree> {
  const opts = checkOptions(options);
  return buildNamespaceTree(await listNamespaces(), opts);
}
