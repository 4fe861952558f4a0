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
}

/** The nsfs mounts in a mountinfo file; [] if it cannot be read. */
export function readNsfsMounts(file: string): NsfsMount[] {
  // Only /proc/PID/mountinfo files are read here: through our procfs.
  const text = file.startsWith('/proc/') ? procRead(file.slice('/proc/'.length)) : undefined;
  if (text === undefined) return [];
  // Most tables hold no nsfs mount, and the walk reads one per mount
  // namespace: parse only the lines that can be one.
  if (!text.includes(' - nsfs ')) return [];
  const lines = text.split('\n').filter((l) => l.includes(' - nsfs ')).join('\n');
  const out: NsfsMount[] = [];
  for (const m of parseMountinfo(lines)) {
    if (m.fstype !== 'nsfs') continue;
    const ns = parseNsLink(m.root);
    if (ns !== undefined) out.push({ ...ns, path: m.mountPoint });
  }
  return out;
}
