// listns(2) (Linux 6.19): the 64-bit ids of all active namespaces, so that
// nothing held in ways the /proc walk cannot see is missed. Each id is
// opened through an nsfs file handle (open_by_handle_at, 6.18) and merged
// into the walk's entries.
import { E } from '../core/errors';
import { CLONE_FLAG, NS_TYPES, NsType } from '../core/ns-types';
import { native } from '../sys/native';
import { FILEID_NSFS } from '../sys/constants';
import type { Entry, Walk } from './walk/state';

let listnsMissing = false;
const LISTNS_PAGE = 1024;

/**
 * All namespace ids listns(2) reports, with their type (asked per type:
 * the ids alone do not say), or undefined where the kernel lacks listns.
 * `req.ns_id` is a cursor: each page starts after the last id seen.
 */
export function listnsIds(type?: NsType): Map<bigint, NsType> | undefined {
  if (listnsMissing) return undefined;
  const out = new Map<bigint, NsType>();
  for (const t of type === undefined ? NS_TYPES : [type]) {
    let cursor = 0n;
    for (;;) {
      const r = native.listns(cursor, CLONE_FLAG[t], LISTNS_PAGE);
      if (typeof r === 'number') {
        if (r === -E.ENOSYS) {
          listnsMissing = true;
          return undefined;
        }
        break; // EPERM/EINVAL for this type: the walk still covers it
      }
      let advanced = false;
      for (const id of r) {
        if (id <= cursor) continue;
        out.set(id, t);
        cursor = id;
        advanced = true;
      }
      if (r.length < LISTNS_PAGE || !advanced) break;
    }
  }
  return out;
}

/** An nsfs file handle for `id` (struct nsfs_file_handle, 6.18) in open_by_handle_at's buffer form. */
export function nsfsHandle(id: bigint, type: NsType, inode = 0): Buffer {
  const b = Buffer.alloc(4 + 16);
  b.writeInt32LE(FILEID_NSFS, 0);
  b.writeBigUInt64LE(id, 4);
  b.writeUInt32LE(CLONE_FLAG[type], 12);
  b.writeUInt32LE(inode, 16);
  return b;
}

function openById(id: bigint, type: NsType): number {
  const r = native.open_by_handle_at(nsfsHandle(id, type));
  return r >= 0 ? r : -1;
}

/** The walk's listns step: marks what it also lists, and adds what only it found. */
export function mergeListns(walk: Walk): void {
  const ids = listnsIds(walk.type);
  if (ids === undefined) return;
  const byId = new Map<bigint, Entry>();
  for (const e of walk.byInode.values()) if (e.id !== undefined) byId.set(e.id, e);
  for (const [id, type] of ids) {
    const known = byId.get(id);
    if (known !== undefined) {
      known.sources.add('listns');
      continue;
    }
    const fd = openById(id, type);
    if (fd >= 0) {
      try {
        const e = walk.describe(fd, 'listns');
        if (e !== undefined) {
          e.sources.add('listns');
          continue;
        }
      } finally {
        native.close(fd);
      }
    }
    // Listed, but we cannot open it: report what listns told us.
    walk.unopened.push({ ...walk.blank(type, 0), id, sources: new Set(['listns']) });
  }
}
