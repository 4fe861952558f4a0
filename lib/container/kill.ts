// Killing every process of a container (close() with killOnClose): one
// SIGKILL when its init is pid 1 of its own pid namespace, else a walk of
// its process tree and session through /proc, every pid pidfd-rechecked.
import { ownProcfs, procPids, procStatFields } from '../core/procfs';
import { readStatus } from '../core/proc';

import { Pidfd, signalUnlessGone } from '../pidfd';

/**
 * Kills a container's processes: SIGKILL to its init when that is pid 1 of
 * its own pid namespace (the kernel kills the rest), else its whole tree
 * from the init and `started`, and the sessions in `sessions` (see killTree).
 */
export function killAll(init: Pidfd, started: readonly Pidfd[], sessions: Iterable<number> = [], ownPidNs?: boolean): void {
  // (`ownPidNs`: known to the caller, when it made the pid namespace; then
  // the init's death ends it whole, and nothing needs reading.)
  if (!(ownPidNs ?? leadsPidNamespace(init))) {
    killTree([init, ...started], init, sessions);
    return;
  }
  sigkill(init);
}

/** SIGKILL through the pidfd; a process already gone is no error. */
function sigkill(p: Pidfd): void {
  signalUnlessGone(p, 'SIGKILL');
}

/** A process as /proc/PID/stat shows it (pids as our /proc numbers them). */
interface StatRow {
  pid: number;
  state: string;
  ppid: number;
  sid: number;
}

function readStat(pid: number | 'self'): StatRow | undefined {
  // "state ppid pgrp session ...". (Our procfs is our pid namespace's: self is process.pid.)
  const f = procStatFields(pid);
  if (f === undefined) return undefined;
  return { pid: pid === 'self' ? process.pid : pid, state: f[0] ?? '', ppid: Number(f[1]), sid: Number(f[3]) };
}

/** Every process of /proc, by pid. */
function readProcTable(): Map<number, StatRow> {
  const table = new Map<number, StatRow>();
  for (const pid of procPids()) {
    const r = readStat(pid);
    if (r !== undefined) table.set(r.pid, r);
  }
  return table;
}

/** Whether `p` has not been reaped yet (so its pid still names it). */
function unreaped(p: Pidfd): boolean {
  try {
    p.recheck('pidfd_send_signal');
    return true;
  } catch {
    return false;
  }
}

/** Do we have a procfs that numbers processes as our pid namespace does (core/procfs.ts)? */
function procIsOurs(): boolean {
  try {
    ownProcfs();
    return true;
  } catch {
    return false;
  }
}

/**
 * Is the process pid 1 of its pid namespace (so that its death ends every
 * other process there)? False when that cannot be read.
 */
export function leadsPidNamespace(p: Pidfd): boolean {
  const nspid = readStatus(p.pid)?.get('NSpid');
  if (nspid === undefined || !unreaped(p)) return false;
  return nspid.trim().split(/\s+/).pop() === '1';
}

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * Kills the process trees under `roots` and, when `leader` leads a session,
 * every process of that session (close() without a pid namespace).
 *
 * Every member found is SIGSTOPped through a pidfd; /proc is walked again
 * until a walk made after all of them had stopped finds no one new: a
 * stopped process cannot fork, and parent links hold while no member dies
 * (a group signal sent during a fork reaches the new child too). Then all
 * are SIGKILLed. A pid read from /proc is trusted only after pidfd_open
 * and a reread of its stat that finds it still the child of a member we
 * hold (unreaped, so its pid is its own), or in the session (pinned by the
 * leader, unreaped). The walk never stops or kills this process or its
 * ancestors and never sweeps our own session; a root that is one of them
 * (an adopted process) is SIGKILLed, as a container's init is.
 */
export function killTree(roots: readonly Pidfd[], leader: Pidfd, sessions: Iterable<number> = []): void {
  if (!procIsOurs()) {
    // Pids from /proc would name other processes than pidfd_open's: no
    // walk, only the processes we hold pidfds for.
    for (const root of new Set([leader, ...roots])) sigkill(root);
    return;
  }
  const spared = selfAndAncestors();
  const tree = new StoppedTree(leader, sessionToSweep(leader, spared), otherSessions(sessions, spared), spared);
  try {
    tree.holdRoots(roots);
    tree.stopAll();
  } finally {
    tree.killHeld();
  }
}

/** Ourselves and our ancestors: never stopped or killed by the walk. */
function selfAndAncestors(): Set<number> {
  const spared = new Set<number>();
  for (let r = readStat('self'); r !== undefined && r.pid > 0 && !spared.has(r.pid); r = r.ppid > 0 ? readStat(r.ppid) : undefined) spared.add(r.pid);
  return spared;
}

/** The session `leader` leads, if it leads one that is not ours (nor of a spared process). */
function sessionToSweep(leader: Pidfd, spared: ReadonlySet<number>): number | undefined {
  const ourSid = readStat('self')?.sid;
  const lead = readStat(leader.pid);
  return lead !== undefined && lead.sid === lead.pid && lead.sid !== ourSid && !spared.has(lead.pid) && unreaped(leader) ? lead.sid : undefined;
}

/**
 * Sessions that processes started in the container lead (or led): each a
 * sid that is not ours nor a spared process's. A session id stays taken
 * while any process is in that session, so a process whose stat shows it
 * there, once we hold a pidfd on it, is a member even after the leader is
 * gone: this is what catches a double fork (`(cmd &)`) of c.run().
 */
function otherSessions(sessions: Iterable<number>, spared: ReadonlySet<number>): Set<number> {
  const ourSid = readStat('self')?.sid;
  const out = new Set<number>();
  for (const sid of sessions) if (sid > 0 && sid !== ourSid && !spared.has(sid)) out.add(sid);
  return out;
}

/** The members of a tree (and session) found so far, each stopped and held by a pidfd of ours. */
class StoppedTree {
  readonly #held = new Map<number, Pidfd>();
  readonly #leader: Pidfd;
  readonly #session: number | undefined;
  readonly #others: ReadonlySet<number>;
  readonly #spared: ReadonlySet<number>;

  constructor(leader: Pidfd, session: number | undefined, others: ReadonlySet<number>, spared: ReadonlySet<number>) {
    this.#leader = leader;
    this.#session = session;
    this.#others = others;
    this.#spared = spared;
  }

  /** SIGSTOPs `p` and keeps it (taking the pidfd); false, closing it, if it is gone. */
  #hold(p: Pidfd): boolean {
    try {
      p.sendSignal('SIGSTOP');
    } catch {
      p.close();
      return false;
    }
    this.#held.set(p.pid, p);
    return true;
  }

  /** Holds a dup of each unreaped root; a spared root is SIGKILLed at once instead. */
  holdRoots(roots: readonly Pidfd[]): void {
    for (const root of roots) {
      if (this.#spared.has(root.pid)) {
        sigkill(root);
        continue;
      }
      let p: Pidfd;
      try {
        p = root.dup();
      } catch {
        continue;
      }
      if (this.#held.has(p.pid) || !unreaped(p)) p.close();
      else this.#hold(p);
    }
  }

  /**
   * Walks /proc until a walk that began with every held process stopped
   * finds no one new (or 2 s have passed and a walk finds no one new).
   */
  stopAll(): void {
    const settled = (pid: number): boolean => {
      const st = readStat(pid)?.state;
      return st !== 'R' && st !== 'S';
    };
    const deadline = Date.now() + 2000;
    for (;;) {
      const allStopped = [...this.#held.keys()].every(settled);
      const added = this.#walk();
      if (added === 0 && (allStopped || Date.now() > deadline)) break;
      if (added === 0) sleepSync(1);
    }
  }

  /** One walk of /proc: holds each new member found; returns how many. */
  #walk(): number {
    const table = readProcTable();
    const children = new Map<number, number[]>();
    for (const r of table.values()) {
      const k = children.get(r.ppid);
      if (k) k.push(r.pid);
      else children.set(r.ppid, [r.pid]);
    }
    // Breadth first from what we hold (and the session): parents before children.
    const queue = [...this.#held.keys()];
    for (const r of table.values()) if (r.sid === this.#session || this.#others.has(r.sid)) queue.push(r.pid);
    const seen = new Set<number>();
    let added = 0;
    for (let i = 0; i < queue.length; i++) {
      const pid = queue[i] as number;
      if (seen.has(pid)) continue;
      seen.add(pid);
      for (const k of children.get(pid) ?? []) queue.push(k);
      const row = table.get(pid);
      if (this.#held.has(pid) || this.#spared.has(pid) || row === undefined || row.state === 'Z' || row.state === 'X') continue;
      if (this.#holdIfMember(pid)) added++;
    }
    return added;
  }

  /**
   * Holds the process a /proc pid names if, once we have a pidfd on it, its
   * stat still shows it the child of a member we hold or in the session.
   */
  #holdIfMember(pid: number): boolean {
    let p: Pidfd;
    try {
      p = Pidfd.open(pid);
    } catch {
      return false;
    }
    const now = readStat(pid);
    const parent = now === undefined ? undefined : this.#held.get(now.ppid);
    const member =
      now !== undefined &&
      unreaped(p) &&
      ((parent !== undefined && unreaped(parent)) ||
        (this.#session !== undefined && now.sid === this.#session && unreaped(this.#leader)) ||
        this.#others.has(now.sid));
    if (!member) {
      p.close();
      return false;
    }
    return this.#hold(p);
  }

  /** SIGKILLs and closes every held process. */
  killHeld(): void {
    // Children before parents: a parent's death could orphan a stopped
    // process group, which the kernel then sends SIGHUP and SIGCONT; with
    // SIGKILL pending already, SIGCONT resumes no one.
    for (const p of [...this.#held.values()].reverse()) {
      try {
        p.sendSignal('SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    for (const p of this.#held.values()) p.close();
  }
}
