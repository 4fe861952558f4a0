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
