// /proc/PID/mountinfo: parsing it, and the nsfs bind mounts in it (as
// `ip netns add` and `unshare --net=FILE` make).
import { procRead } from '../core/procfs';

import type { NsType } from '../core/ns-types';
import { parseNsLink } from './links';

export interface MountinfoEntry {
  mountId: number;
  parentId: number;
  root: string;
  mountPoint: string;
  fstype: string;
  source: string;
}

/** Undoes mountinfo's octal escapes (\040 for a space, \134 for a backslash...). */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/PID/mountinfo text (proc(5)); malformed lines are skipped. */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0 || sep + 2 >= f.length) continue;
    out.push({
      mountId: Number(f[0]),
      parentId: Number(f[1]),
      root: unescapeMountinfo(f[3] as string),
      mountPoint: unescapeMountinfo(f[4] as string),
      fstype: f[sep + 1] as string,
      source: unescapeMountinfo(f[sep + 2] as string),
    });
  }
  return out;
}

/** An nsfs bind mount: which namespace, mounted where. */
export interface NsfsMount {
  type: NsType;
  inode: number;
  path: string;
  /** Root and mount point as mountinfo writes them (escaped): the same mount in another table has the same key. */
  key: string;
}

/**
 * The nsfs mounts in a mountinfo file; [] if it cannot be read. Those whose
 * key is in `skip` (copies of ours, in another mount namespace's table) are
 * left out before they are parsed: the walk reads one table per mount
 * namespace, and each may hold copies of every nsfs mount we have.
 */
export function readNsfsMounts(file: string, skip?: ReadonlySet<string>): NsfsMount[] {
  // Only /proc/PID/mountinfo files are read here: through our procfs.
  const text = file.startsWith('/proc/') ? procRead(file.slice('/proc/'.length)) : undefined;
  if (text === undefined || !text.includes(' - nsfs ')) return [];
  const lines: string[] = [];
  // From one " - nsfs " to the next: the other lines are never split.
  for (let at = text.indexOf(' - nsfs '); at >= 0; at = text.indexOf(' - nsfs ', at + 1)) {
    const start = text.lastIndexOf('\n', at) + 1;
    const end = text.indexOf('\n', at);
    lines.push(text.slice(start, end < 0 ? text.length : end));
  }
  return nsfsMountsOfLines(lines, skip);
}

/** The nsfs mounts among mountinfo lines (as proc_scan_batch picks them out), but those whose key is in `skip`. */
export function nsfsMountsOfLines(lines: readonly string[], skip?: ReadonlySet<string>): NsfsMount[] {
  const out: NsfsMount[] = [];
  for (const line of lines) {
    const f = line.split(' ', 5);
    const key = `${f[3]} ${f[4]}`;
    if (skip?.has(key)) continue;
    const m = parseMountinfo(line)[0];
    if (m === undefined || m.fstype !== 'nsfs') continue;
    const ns = parseNsLink(m.root);
    if (ns !== undefined) out.push({ ...ns, path: m.mountPoint, key });
  }
  return out;
}
