// A container never outlives the Node process that owns it: the death pipe
// nsfd-init watches (-d), and the cgroup.kill file it writes when the pipe
// hangs up (-k). See native/init/nsfd-init.c for the init's side.
//
// Why a pipe: Node holds its only write end for its whole life (native
// death_pipe(): process-wide, O_CLOEXEC, never passed to anyone), so every
// read end sees EOF exactly when Node is gone, however it died. A read end
// nobody writes to gives the container nothing: no way to signal Node
// (a pidfd of Node would, to whatever ptraces the init), none to block it
// (Node never reads or writes the pipe). The cgroup.kill file is opened
// write-only: a process that took it from the init could kill its own
// container, nothing more, and gains no access to its cgroup's limits.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { NsError } from '../core/errors';
import { OwnedFd } from '../core/owned-fd';
import { AT_FDCWD, O_WRONLY } from '../sys/constants';
import { native } from '../sys/native';

/**
 * The read end of this process's death pipe, as a raw fd for a stdio slot
 * (process-wide, never closed: not ours to close), made on first use.
 */
export function deathPipe(): number {
  const fd = native.death_pipe();
  if (fd < 0) throw new NsError(fd, 'pipe2', { hint: "the death pipe nsfd-init watches for this process's end" });
  return fd;
}

/**
 * The cgroup's cgroup.kill opened write-only (O_CLOEXEC), for the init's
 * -k: `cgroup` is its directory's path, or an fd of that directory
 * (options.cgroup as an fd). undefined when there is none to open (before
 * 5.14; not writable): a pid namespace then does the killing, and without
 * one the init kills its process group.
 */
export function openCgroupKill(cgroup: string | number | OwnedFd): OwnedFd | undefined {
  const fd = typeof cgroup === 'string'
    ? native.openat(AT_FDCWD, path.join(cgroup, 'cgroup.kill'), O_WRONLY, 0)
    : cgroup instanceof OwnedFd
      ? cgroup.closed ? -1 : native.openat(cgroup.fd, 'cgroup.kill', O_WRONLY, 0)
      : native.openat(cgroup, 'cgroup.kill', O_WRONLY, 0);
  if (fd < 0) return undefined;
  return new OwnedFd(fd);
}

let swept = false;

/**
 * Removes what dead owners left under `parent`: a container's own cgroup
 * outlives a Node process that died (nothing in the container may hold
 * the directory, so nobody rmdirs it). Once per process, at the first
 * cgroup made for a container: every `nsfd-PID-N` directory whose PID is
 * no live process here, that is empty (rmdir refuses otherwise: EBUSY)
 * and older than a minute (a process in another pid namespace sharing
 * this parent may have made it just now, about to start its init in it).
 */
export function sweepDeadOwners(parent: string): void {
  if (swept) return;
  swept = true;
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    const m = /^nsfd-(\d+)-\d+$/.exec(name);
    if (m === null || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue;  // its owner (or a process with its pid) lives
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    const dir = path.join(parent, name);
    try {
      if (now - fs.statSync(dir).mtimeMs < 60000) continue;
      fs.rmdirSync(dir);
    } catch {
      // populated, a child cgroup in it, or gone already
    }
  }
}
