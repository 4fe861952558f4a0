// The default init of a created container, and how create() knows it is
// ready (its SIGTERM trap in place).
import { procRead } from '../core/procfs';
import * as os from 'node:os';

import { E, NsError } from '../core/errors';
import type { Pidfd } from '../pidfd';

/**
 * The default init: a POSIX shell that exits on SIGTERM and otherwise waits
 * forever. While it waits, sh reaps every child it has, including orphans
 * the kernel reparents to it as pid 1, so zombies do not pile up. On SIGTERM
 * it ends its sleep first, so that without a pid namespace of its own it
 * leaves nothing behind either. Needs /bin/sh inside `root`; pass `init`
 * for a root without one.
 */
export const DEFAULT_INIT: readonly string[] = ['/bin/sh', '-c', "trap 'kill $! 2>/dev/null; exit 0' TERM INT; while :; do sleep 2147483647 & wait $!; done"];

/** SIGTERM's bit in the SigCgt mask of /proc/PID/status (signal n is bit n-1). */
const SIGTERM_BIT = 1n << BigInt(os.constants.signals.SIGTERM - 1);

/** Waits until the default init has its SIGTERM trap installed (SigCgt in /proc/PID/status). */
export async function untilTrapped(pidfd: Pidfd): Promise<void> {
  const deadline = Date.now() + 10000;
  for (let i = 0; ; i++) {
    const text = procRead(`${pidfd.pid}/status`) ?? '';
    pidfd.recheck('open(/proc/PID/status)');
    const m = /^SigCgt:\s*([0-9a-f]+)/m.exec(text);
    if (m && (BigInt(`0x${m[1] as string}`) & SIGTERM_BIT) !== 0n) return;
    if (!pidfd.isAlive()) throw new NsError(-E.ESRCH, 'Container.create', { pid: pidfd.pid, hint: 'the init exited at once' });
    if (Date.now() > deadline) throw new NsError(-E.ETIMEDOUT, 'Container.create', { pid: pidfd.pid, hint: 'the init did not install its SIGTERM trap within 10 s' });
    await new Promise((r) => setTimeout(r, i < 20 ? 1 : 10));
  }
}
