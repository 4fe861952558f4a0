// Starting a created container's init and readying it: the steps of
// Container.create around the making of the Container itself.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { withNamespaces } from '../attach';
import { E, NsError } from '../core/errors';
import { makePrivateIn } from '../inside';
import type { Pidfd } from '../pidfd';
import { StdioSlot, Subprocess, spawn } from '../spawn';
import { letGo, openShippedInit, untilTrapped } from './init';
import { OwnedFd } from '../core/owned-fd';
import { native } from '../sys/native';
import { killAll } from './kill';
import { deathPipe, openCgroupKill } from './lifetime';
import type { CreatePlan } from './options';
import type { IdRange } from '../userns';

/**
 * Starts the init as planned: in its new namespaces, leading a session of
 * its own; nsfd-init with our death pipe and, given the container's
 * cgroup directory, its cgroup.kill (lifetime.ts). `ctl`: our end of
 * nsfd-init's control socket (-r), for setUpInit(); closing it unsent
 * makes the init exit.
 */
export function spawnInit(plan: CreatePlan, cgroupDir?: string): { child: Subprocess; ctl: OwnedFd | undefined } {
  const cgroup = cgroupDir ?? plan.spawn.cgroup;
  const shipped = plan.shipped;
  if (shipped === undefined) return { child: spawn(plan.file, plan.args, plan.spawn), ctl: undefined };
  // nsfd-init by fd: nothing of it needs to be in the container's root.
  using exe = openShippedInit(shipped.path);
  let args = plan.args;
  let stdio = plan.spawn.stdio;
  const slots = Array.isArray(stdio) ? Array.from(stdio as readonly StdioSlot[]) : undefined;
  // The control socket as a bare socketpair, not a "pipe" slot: "go" is
  // then one synchronous write, with no stream set up and no loop turn.
  let ctl: OwnedFd | undefined;
  using theirs = shipped.ctlSlot !== undefined ? (() => {
    const sv = native.socketpair();
    if (typeof sv === 'number') throw new NsError(sv, 'socketpair');
    ctl = new OwnedFd(sv[0]);
    return new OwnedFd(sv[1]);
  })() : undefined;
  using killFd = shipped.killSlot !== undefined && cgroup !== undefined ? openCgroupKill(cgroup) : undefined;
  try {
    if (slots !== undefined) {
      if (shipped.ctlSlot !== undefined && theirs !== undefined) slots[shipped.ctlSlot] = theirs;
      if (shipped.deathSlot !== undefined) slots[shipped.deathSlot] = deathPipe();
      if (shipped.killSlot !== undefined) {
        if (killFd !== undefined) {
          slots[shipped.killSlot] = killFd;
        } else {
          // No cgroup after all (not writable here), or no cgroup.kill (< 5.14).
          const k = args.indexOf('-k');
          if (k >= 0 && args.indexOf('--') > k) args = [...args.slice(0, k), ...args.slice(k + 2)];
        }
      }
      stdio = slots;
    }
    return { child: spawn(plan.file, args, { ...plan.spawn, stdio, executable: exe }), ctl };
  } catch (err) {
    (ctl as OwnedFd | undefined)?.close();
    throw err;
  }
}

/**
 * Readies a started init (the Container holds its namespaces by now): for
 * the sh init, waits for its SIGTERM trap (so that a SIGTERM right after
 * create() meets it; nsfd-init starts with its signals blocked); private
 * mount propagation (spawn did it already when it mounted a fresh /proc
 * or a rootfs); then lets nsfd-init start `command` ("go" on `ctl`, which
 * is closed here either way).
 */
export async function setUpInit(child: Subprocess, plan: CreatePlan, ctl: OwnedFd | undefined): Promise<void> {
  try {
    const init = child.pidfd;
    if (plan.awaitTrap) await untilTrapped(init);
    // (A rootfs is rslave already, made so before its mounts; a fresh /proc
    // came with private propagation.)
    if (plan.unshare.has('mnt') && !plan.spawn.mountProc && plan.spawn.rootfs === undefined) {
      try {
        makePrivateIn(init);
      } catch (err) {
        // (init: false: the workload may have run to its end already, and its mount namespace with it.)
        if (!(plan.workloadIsInit && err instanceof NsError && err.code === 'ESRCH')) throw err;
      }
    }
    if (plan.sysctl !== undefined) writeSysctls(init, plan.sysctl);
    if (ctl !== undefined) letGo(ctl);
  } finally {
    ctl?.close();
  }
}

/**
 * The plan with a picked id range (userns 'auto' as root): the range as both
 * maps, and the rootfs idmapped unless its root directory already belongs
 * to the range (a rootfs chowned for it, as nspawn's ownership "auto").
 */
export function withIdRange(plan: CreatePlan, range: IdRange): CreatePlan {
  const spawn = { ...plan.spawn, uidMap: range.map, gidMap: range.map };
  const rootfs = plan.spawn.rootfs;
  if (rootfs !== undefined) {
    const owner = rootfsOwner(rootfs);
    // (Unreadable: spawn() gives the typed error for the rootfs.)
    if (owner !== undefined && !range.has(owner)) spawn.idmapRootfs = true;
  }
  return { ...plan, spawn };
}

/** The uid owning the rootfs's root directory, or undefined if it cannot be read. */
function rootfsOwner(rootfs: string | OwnedFd): number | undefined {
  try {
    if (rootfs instanceof OwnedFd) return rootfs.closed ? undefined : fs.fstatSync(rootfs.fd).uid;
    return fs.statSync(rootfs).uid;
  } catch {
    return undefined;
  }
}

/**
 * For an idmapped rootfs: its path when no directory from / down to it
 * keeps unprivileged host users out, else undefined. Through the idmapped
 * mount, what the container's root writes is owned by the on-disk ids, 0
 * included, so a set-uid file it leaves is set-uid root on the host; only a
 * directory on the way that such users cannot search (root's, with neither
 * group nor other search permission, as /var/lib/machines is 0700) keeps
 * them from executing it. (ACLs are not read: a directory given search
 * rights by an ACL has its group bits set, so it never counts as closed.)
 * A path that cannot be read is left alone: spawn() has reported it.
 */
export function rootfsOpenToHostUsers(rootfs: string | OwnedFd): string | undefined {
  let dir: string;
  try {
    // (An fd's path as our own procfs gives it: a host path, read by us.)
    dir = rootfs instanceof OwnedFd ? fs.readlinkSync(`/proc/self/fd/${rootfs.fd}`) : fs.realpathSync(rootfs);
  } catch {
    return undefined;
  }
  if (!path.isAbsolute(dir)) return undefined;
  const full = dir;
  for (;;) {
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch {
      return undefined;
    }
    if (st.uid === 0 && (st.mode & 0o011) === 0) return undefined;
    const up = path.dirname(dir);
    if (up === dir) return full;
    dir = up;
  }
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

/**
 * Sets the container's namespaced sysctls, before its command runs. This
 * thread joins the init's net/ipc/uts namespaces (no more: /proc/sys/net,
 * kernel.shm*... and kernel.domainname show the writer's namespaces) and
 * writes through our own /proc: the host's mount, which nothing in the
 * container can redirect, unlike its /proc or rootfs. (runc writes them
 * from inside, as the container's root; the namespaces are the same.)
 */
function writeSysctls(init: Pidfd, sysctl: NonNullable<CreatePlan['sysctl']>): void {
  withNamespaces(init, sysctl.types, () => {
    for (const [key, value] of sysctl.writes) {
      const file = `/proc/sys/${key}`;
      let fd: number | undefined;
      try {
        fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);  // (libuv opens O_CLOEXEC)
        fs.writeSync(fd, value);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new NsError(-(e.errno !== undefined ? Math.abs(e.errno) : E.EINVAL), fd === undefined ? 'open' : 'write', { path: file, hint: `sysctl ${key.replaceAll('/', '.')}` });
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
    }
  });
}
