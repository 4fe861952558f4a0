// Who the child is in a user namespace it enters or creates. A process
// placed in another user namespace never keeps host ids that are not
// mapped there: behind the overflow id (65534) it would still be host root
// to every permission check on a file it can reach. So by default it
// becomes root of that namespace (uid/gid 0 there, as `nsenter -U` does),
// or takes the uid/gid given; with preserveCredentials it keeps ours,
// translated, where they are mapped. Ids that are not mapped are refused
// here when the map is known, else by the kernel (setresuid: EINVAL).
import { E, NsError, invalidValue } from '../core/errors';
import { procRead } from '../core/procfs';
import type { Pidfd } from '../pidfd';
import { checkBool } from './check';
import type { SpawnOptions } from './options';

/** One line of a uid_map/gid_map: ids inside..inside+count-1 are outside..outside+count-1 outside. */
interface Extent {
  inside: number;
  outside: number;
  count: number;
}

/** Parses the text of /proc/PID/uid_map (or what spawn writes there). */
export function parseIdMap(text: string): Extent[] {
  const out: Extent[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length === 3 && f.every((n) => Number.isInteger(n) && n >= 0)) out.push({ inside: f[0] as number, outside: f[1] as number, count: f[2] as number });
  }
  return out;
}

/** The id inside for `outside` (ours), or undefined if the map does not map it. */
function toInside(map: Extent[], outside: number): number | undefined {
  const e = map.find((x) => outside >= x.outside && outside - x.outside < x.count);
  return e === undefined ? undefined : e.inside + (outside - e.outside);
}

function mapsInside(map: Extent[], inside: number): boolean {
  return map.some((x) => inside >= x.inside && inside - x.inside < x.count);
}

/** Where the child's user namespace comes from, with its maps when we can know them. */
export type UserNamespaceEntry =
  | { kind: 'none' }
  | { kind: 'new'; uidMap: string; gidMap: string }
  | { kind: 'joined'; pidfd: Pidfd | undefined };

function joinedMaps(pidfd: Pidfd): { uid: Extent[]; gid: Extent[] } {
  const uid = procRead(`${pidfd.pid}/uid_map`);
  const gid = procRead(`${pidfd.pid}/gid_map`);
  // The pid may have been reused meanwhile: the maps count only if it is still that process.
  pidfd.recheck('open(/proc/PID/uid_map)');
  if (uid === undefined || gid === undefined) throw new NsError(-E.ESRCH, 'open(/proc/PID/uid_map)', { pid: pidfd.pid, hint: 'the target process has exited' });
  return { uid: parseIdMap(uid), gid: parseIdMap(gid) };
}

function notMapped(what: 'uid' | 'gid', id: number, where: string): NsError {
  return new NsError(-E.EINVAL, what === 'uid' ? 'setresuid' : 'setresgid', {
    step: what === 'uid' ? 'setuid' : 'setgid',
    hint: `${what} ${id} is not mapped in ${where}: the child would keep our host ${what}s behind the overflow id. Map it (${what}Map), or pass ${what}`,
  });
}

/**
 * The uid and gid (-1: unchanged) the child sets, given those checked from
 * options (`ids`, -1 when not given) and where its user namespace comes from.
 */
export function childIds(options: SpawnOptions, entry: UserNamespaceEntry, ids: { uid: number; gid: number }): { uid: number; gid: number } {
  const preserve = checkBool(options.preserveCredentials, 'options.preserveCredentials');
  if (entry.kind === 'none') return ids;
  if (preserve && (ids.uid >= 0 || ids.gid >= 0)) {
    throw invalidValue('options.preserveCredentials', 'keeps our ids: it cannot be combined with uid or gid', true);
  }
  let maps: { uid: Extent[]; gid: Extent[] } | undefined;
  let where: string;
  if (entry.kind === 'new') {
    maps = { uid: parseIdMap(entry.uidMap), gid: parseIdMap(entry.gidMap) };
    where = 'the new user namespace';
  } else {
    maps = entry.pidfd === undefined ? undefined : joinedMaps(entry.pidfd);
    where = entry.pidfd === undefined ? 'the joined user namespace' : `the user namespace of pid ${entry.pidfd.pid}`;
  }
  if (preserve) {
    if (maps === undefined) throw invalidValue('options.preserveCredentials', 'needs the joined user namespace\'s maps: join a Pidfd, not Namespace fds', true);
    const ours = { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
    const uid = toInside(maps.uid, ours.uid);
    if (uid === undefined) throw notMapped('uid', ours.uid, where);
    const gid = toInside(maps.gid, ours.gid);
    if (gid === undefined) throw notMapped('gid', ours.gid, where);
    return { uid, gid };
  }
  const uid = ids.uid >= 0 ? ids.uid : 0;
  const gid = ids.gid >= 0 ? ids.gid : 0;
  if (maps !== undefined) {
    if (!mapsInside(maps.uid, uid)) throw notMapped('uid', uid, where);
    if (!mapsInside(maps.gid, gid)) throw notMapped('gid', gid, where);
  }
  return { uid, gid };
}
