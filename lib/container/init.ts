// The init of a created container: nsfd's own (native/init/nsfd-init.c,
// executed from the host by fd), or the shell loop kept for when that
// binary is missing, and how create() knows the init is ready.
import { startReaper } from '../core/reaper';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { E, NsError } from '../core/errors';
import { OwnedFd } from '../core/owned-fd';
import { readStatus } from '../core/proc';
import type { Pidfd } from '../pidfd';
import { AT_FDCWD, O_PATH } from '../sys/constants';
import { addonDir, native } from '../sys/native';
import { deathPipe } from './lifetime';

/**
 * The fallback init, used only when nsfd-init is not found: a POSIX shell
 * that exits on SIGTERM and otherwise waits forever, reaping what it is
 * given. Needs /bin/sh inside the root.
 */
export const DEFAULT_INIT: readonly string[] = ['/bin/sh', '-c', "trap 'kill $! 2>/dev/null; exit 0' TERM INT; while :; do sleep 2147483647 & wait $!; done"];

let found: string | null | undefined;
/**
 * Where nsfd-init is on disk: $NSFD_INIT_PATH, else beside the loaded
 * addon (node-gyp builds it into build/Release with nsfd.node), else the
 * package's build/Release. undefined when none is there (a prebuilt
 * package: then the addon's embedded copy is used, see shippedInit()).
 */
export function shippedInitPath(): string | undefined {
  if (found === undefined) {
    const override = process.env.NSFD_INIT_PATH;
    const candidates = [override ? path.resolve(override) : undefined, path.join(addonDir(), 'nsfd-init'), path.join(__dirname, '..', '..', 'build', 'Release', 'nsfd-init')];
    found = null;
    for (const c of candidates) {
      if (c === undefined || c === '') continue;
      try {
        fs.accessSync(c, fs.constants.X_OK);
        found = c;
        break;
      } catch {
        // next
      }
    }
  }
  return found ?? undefined;
}

let embedded: OwnedFd | null | undefined;
/**
 * The copy of nsfd-init the addon carries (native/initblob.cc), in a sealed
 * memfd made once per process; null when this build carries none.
 */
function embeddedInit(): OwnedFd | null {
  if (embedded === undefined) {
    const fd = native.init_memfd();
    embedded = fd >= 0 ? new OwnedFd(fd) : null;
  }
  return embedded;
}

/**
 * Where nsfd-init comes from: the addon's own copy in a sealed memfd, else
 * a file ($NSFD_INIT_PATH first); undefined: neither. The memfd comes first
 * because the container can reach its init's executable through
 * /proc/PID/exe: a process in it that keeps that open (O_PATH) until the
 * init has exited could then reopen a host file for writing and replace
 * the binary the next container runs (runc's CVE-2019-5736). A sealed
 * memfd cannot be written, and belongs to no one else. A file serves only
 * a build without the copy (scripts/sanitize.sh), or when
 * $NSFD_INIT_PATH asks for one.
 */
export function shippedInit(): string | undefined {
  if (process.env.NSFD_INIT_PATH) return shippedInitPath() ?? (embeddedInit() !== null ? 'embedded' : undefined);
  return embeddedInit() !== null ? 'embedded' : shippedInitPath();
}

/**
 * nsfd-init as an fd the child execveat()s, whatever its root: the file
 * opened O_PATH, or a dup of the embedded memfd. Ours to close.
 */
export function openShippedInit(where: string): OwnedFd {
  if (where === 'embedded') {
    const memfd = embeddedInit();
    if (memfd === null) throw new NsError(-E.ENOENT, 'memfd_create', { hint: 'this addon carries no nsfd-init' });
    return memfd.dup();
  }
  const fd = native.openat(AT_FDCWD, where, O_PATH, 0);
  if (fd < 0) throw new NsError(fd, 'open', { path: where, hint: 'nsfd-init' });
  return new OwnedFd(fd);
}

/**
 * Lets nsfd-init go on (start the workload): one byte on our end of its
 * control socket (a blocking write into an empty socket buffer: never
 * waits). The caller closes the socket.
 */
export function letGo(ctl: OwnedFd): void {
  for (;;) {
    try {
      fs.writeSync(ctl.fd, 'G');
      return;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EINTR') continue;
      // EPIPE: the init is gone already; create() finds out from its pidfd.
      if (e.code === 'EPIPE') return;
      throw new NsError(typeof e.errno === 'number' ? e.errno : -E.EIO, 'write', { hint: "nsfd-init's go" });
    }
  }
}

/** SIGTERM's bit in the SigCgt mask of /proc/PID/status (signal n is bit n-1). */
const SIGTERM_BIT = 1n << BigInt(os.constants.signals.SIGTERM - 1);

/** Waits until the fallback init has its SIGTERM trap installed (SigCgt in /proc/PID/status). */
export async function untilTrapped(pidfd: Pidfd): Promise<void> {
  const deadline = Date.now() + 10000;
  for (let i = 0; ; i++) {
    const caught = readStatus(pidfd.pid)?.get('SigCgt');
    pidfd.recheck('open(/proc/PID/status)');
    if (caught !== undefined && /^[0-9a-f]+$/.test(caught) && (BigInt(`0x${caught}`) & SIGTERM_BIT) !== 0n) return;
    if (!pidfd.isAlive()) throw new NsError(-E.ESRCH, 'Container.create', { pid: pidfd.pid, hint: 'the init exited at once' });
    if (Date.now() > deadline) throw new NsError(-E.ETIMEDOUT, 'Container.create', { pid: pidfd.pid, hint: 'the init did not install its SIGTERM trap within 10 s' });
    await new Promise((r) => setTimeout(r, i < 20 ? 1 : 10));
  }
}

/**
 * Opens the package's long-lived fds now rather than at first use: the
 * reaper's epoll and eventfd, the embedded init's memfd, and the death
 * pipe (lifetime.ts). A leak check
 * (nsfd/testing, the test suite) then never counts them.
 */
export function openLongLivedFds(): void {
  startReaper();
  shippedInit();
  deathPipe();
}
