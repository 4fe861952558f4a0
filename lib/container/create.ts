// Starting a created container's init and readying it: the steps of
// Container.create around the making of the Container itself.
import { loopbackUp, makePrivateIn, setHostnameIn } from '../inside';
import type { Pidfd } from '../pidfd';
import { Subprocess, spawn } from '../spawn';
import { untilTrapped } from './init';
import { killAll } from './kill';
import type { CreatePlan } from './options';

/** Starts the init as planned: in its new namespaces, leading a session of its own. */
export function spawnInit(plan: CreatePlan): Subprocess {
  return spawn(plan.file, plan.args, plan.spawn);
}

/**
 * Readies a started init: waits for the default init's SIGTERM trap (so
 * that a SIGTERM right after create() meets it), then private mount
 * propagation (spawn did it already when it mounted a fresh /proc),
 * hostname, lo up.
 */
export async function setUpInit(init: Pidfd, plan: CreatePlan): Promise<void> {
  if (plan.awaitTrap) await untilTrapped(init);
  if (plan.unshare.has('mnt') && !plan.spawn.mountProc) makePrivateIn(init);
  if (plan.hostname !== undefined) setHostnameIn(init, plan.hostname, plan.domainname);
  if (plan.unshare.has('net') && plan.loopback) loopbackUp(init);
}

/** Undoes spawnInit() when no Container could be made of it. */
export function abandonInit(child: Subprocess): void {
  // (The init may have exited at once, leaving children behind.)
  killAll(child.pidfd, []);
  child.close();
  destroyStdio(child);
}

/** Destroys our ends of a child's "pipe" stdio slots. */
export function destroyStdio(child: Subprocess): void {
  for (const s of child.stdio) s?.destroy();
}
