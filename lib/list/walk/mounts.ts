// The walk's mount step: nsfs bind mounts in our mount table, then in that
// of every other mount namespace the process step met (through a process
// in it, read between pidfd_open and a recheck like the process step).
import { native } from '../../sys/native';
import { openNsfsPath, readNsLink } from '../links';
import { readNsfsMounts } from '../mountinfo';
import type { NsfsMount } from '../mountinfo';
import type { Walk } from './state';

/** Our mount namespace and its nsfs mounts, read before the process step (which leaves out copies of these). */
export interface OwnMounts {
  mntns: number | undefined;
  mounts: NsfsMount[];
}

export function readOwnMountTable(): OwnMounts {
  return { mntns: readNsLink('/proc/self/ns/mnt')?.inode, mounts: readNsfsMounts('/proc/self/mountinfo') };
}

/**
 * nsfs bind mounts: ours, then those of every other mount namespace met in
 * the walk whose table the process step did not read already (it reads
 * each one's on the pool thread, with the first process met in it; this
 * reads the rest, such as when that process exited before its recheck).
 */
export function readMounts(walk: Walk, own: OwnMounts): void {
  const ours = readOwnMounts(walk, own.mounts);
  for (const [mntns, pid] of walk.mntnsPid) {
    if (mntns === own.mntns || walk.mountsRead.has(mntns)) continue;
    readForeignMounts(walk, mntns, pid, ours);
  }
}

/** Our nsfs mounts into `persisted`; returns their keys (NsfsMount.key). */
function readOwnMounts(walk: Walk, mounts: readonly NsfsMount[]): Set<string> {
  const ours = new Set<string>();
  for (const m of mounts) {
    ours.add(m.key);
    if (!walk.wants(m.type)) continue;
    if (walk.needsFd(m.inode)) {
      const fd = openNsfsPath(m.path, m.inode);
      if (fd >= 0) {
        try {
          walk.describe(fd, 'mount');
        } finally {
          native.close(fd);
        }
      }
    }
    const e = walk.entry(m.type, m.inode, 'mount');
    if (!e.persisted.includes(m.path)) e.persisted.push(m.path);
  }
  return ours;
}

/**
 * The nsfs mounts of mount namespace `mntns`, read through `pid` in it,
 * into `mountsElsewhere`; those that are copies of `ours` are skipped.
 */
function readForeignMounts(walk: Walk, mntns: number, pid: number, ours: Set<string>): void {
  const pidfd = native.pidfd_open(pid, 0);
  if (pidfd < 0) return;
  const pending: number[] = [];
  try {
    const found = readNsfsMounts(`/proc/${pid}/mountinfo`, ours).filter((m) => walk.wants(m.type));
    if (found.length === 0) return;
    // The process must still be in that mount namespace, and still exist.
    if (readNsLink(`/proc/${pid}/ns/mnt`)?.inode !== mntns) return;
    for (const m of found) {
      if (walk.needsFd(m.inode)) {
        const fd = openNsfsPath(`/proc/${pid}/root${m.path}`, m.inode);
        if (fd >= 0) pending.push(fd);
      }
    }
    if (native.pidfd_send_signal(pidfd, 0, 0) < 0) return;
    for (const fd of pending) walk.describe(fd, 'mount');
    for (const m of found) walk.entry(m.type, m.inode, 'mount').mountsElsewhere.push({ mntns, pid, path: m.path });
  } finally {
    for (const fd of pending) native.close(fd);
    native.close(pidfd);
  }
}
