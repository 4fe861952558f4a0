// The detached lifecycle of an OCI bundle, as the runtime spec names it:
//   nsfd run --bundle DIR --detach --id ID [--root STATE]
//   nsfd state ID | nsfd kill ID [SIGNAL] | nsfd delete [--force] ID
// The state lives in STATE/ID/state.json (default /run/nsfd/containers: root's). The
// container's init is found again by its pid, checked against the start
// time (and the pidfs id, 6.9+) recorded when it started, through a pidfd
// opened first: a recycled pid is never signalled.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Pidfd } from '../index';
import { procStartTime } from '../core/procfs';
import { UsageError } from './args';
import { out } from './output';

/** runc's --root: where the states are kept. */
// (Not /run/nsfd itself: Network keeps its namespaces in /run/nsfd/net.)
export const DEFAULT_STATE_ROOT = '/run/nsfd/containers';
const ID_RE = /^[\w+.-]+$/;

interface SavedState {
  ociVersion: string;
  id: string;
  pid: number;
  bundle: string;
  /** /proc/PID/stat's starttime (clock ticks since boot): with the pid, the process's identity. */
  startTime: string;
  /** The pidfs id (6.9+), as a decimal string. */
  pidfsId?: string;
  /** The container's own cgroup (delete removes it). */
  cgroup?: string;
  created: string;
}

export function checkId(id: string | undefined): string {
  if (id === undefined) throw new UsageError('missing container id');
  if (!ID_RE.test(id) || id === '.' || id === '..') throw new UsageError(`invalid container id '${id}' (letters, digits, "_", "+", "-", ".")`);
  return id;
}


function stateFile(root: string, id: string): string {
  return path.join(root, id, 'state.json');
}

function load(root: string, id: string): SavedState {
  let text: string;
  try {
    text = fs.readFileSync(stateFile(root, id), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`container '${id}' does not exist (no ${stateFile(root, id)})`);
    throw err;
  }
  return JSON.parse(text) as SavedState;
}

/**
 * A pidfd on the container's init if it still runs: the pidfd is opened
 * first, then the start time read; equal means the pidfd names the process
 * we started (a pid reused in between has another start time).
 */
function openInit(s: SavedState): Pidfd | undefined {
  let p: Pidfd;
  try {
    p = s.pidfsId !== undefined ? Pidfd.open(s.pid, { id: BigInt(s.pidfsId) }) : Pidfd.open(s.pid);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw err;
  }
  if (procStartTime(s.pid) !== s.startTime || !p.isAlive()) {
    p.close();
    return undefined;
  }
  return p;
}

/** Records a started container (before run --detach returns). The state dir is made exclusively: an id in use is an error. */
export function saveState(root: string, id: string, c: { pid: number; pidfd: Pidfd; cgroup?: { path: string; owned: boolean } | undefined }, bundle: string): void {
  const st = procStartTime(c.pid);
  if (st === undefined) throw new Error(`container '${id}': its init (pid ${c.pid}) exited at once`);
  let pidfsId: string | undefined;
  try {
    pidfsId = String(c.pidfd.id);
  } catch {
    // (before 6.9: the start time alone)
  }
  const s: SavedState = { ociVersion: '1.0.2', id, pid: c.pid, bundle, startTime: st, created: new Date().toISOString() };
  if (pidfsId !== undefined) s.pidfsId = pidfsId;
  if (c.cgroup?.owned === true) s.cgroup = c.cgroup.path;
  const tmp = path.join(root, id, '.state.json.tmp');
  fs.writeFileSync(tmp, JSON.stringify(s), { mode: 0o600 });
  fs.renameSync(tmp, stateFile(root, id));
}

/** Makes STATE/ID (0700), failing if it exists. */
export function claimId(root: string, id: string): void {
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  try {
    fs.mkdirSync(path.join(root, id), { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`container '${id}' exists (${path.join(root, id)}): nsfd delete ${id}`);
    throw err;
  }
}

export function releaseId(root: string, id: string): void {
  fs.rmSync(path.join(root, id), { recursive: true, force: true });
}

/** Splits [--root DIR] [--force] off the arguments. */
function parse(args: readonly string[], flags: readonly string[]): { root: string; flags: Set<string>; rest: string[] } {
  let root = DEFAULT_STATE_ROOT;
  const seen = new Set<string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--root') {
      const v = args[++i];
      if (v === undefined) throw new UsageError('--root needs a value');
      root = v;
    } else if (flags.includes(a)) seen.add(a);
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option '${a}'`);
    else rest.push(a);
  }
  return { root, flags: seen, rest };
}

/** nsfd state ID: the runtime spec's state JSON. */
export async function cmdState(args: readonly string[]): Promise<number> {
  const { root, rest } = parse(args, []);
  if (rest.length !== 1) throw new UsageError('usage: nsfd state [--root DIR] ID');
  const id = checkId(rest[0]);
  const s = load(root, id);
  const p = openInit(s);
  p?.close();
  const state: Record<string, unknown> = { ociVersion: s.ociVersion, id: s.id, status: p !== undefined ? 'running' : 'stopped' };
  if (p !== undefined) state.pid = s.pid;
  state.bundle = s.bundle;
  state.created = s.created;
  out(JSON.stringify(state, null, 2));
  return 0;
}

/** nsfd kill ID [SIGNAL]: to the init, which passes it on to the process. */
export async function cmdKill(args: readonly string[]): Promise<number> {
  const { root, rest } = parse(args, []);
  if (rest.length < 1 || rest.length > 2) throw new UsageError('usage: nsfd kill [--root DIR] ID [SIGNAL]');
  const id = checkId(rest[0]);
  const sig = signalOf(rest[1] ?? 'SIGTERM');
  const s = load(root, id);
  const p = openInit(s);
  if (p === undefined) throw new Error(`container '${id}' is not running`);
  try {
    p.sendSignal(sig);
  } finally {
    p.close();
  }
  return 0;
}

/** nsfd delete [--force] ID: removes a stopped container's state (and cgroup); --force kills a running one first. */
export async function cmdDelete(args: readonly string[]): Promise<number> {
  const { root, flags, rest } = parse(args, ['--force', '-f']);
  if (rest.length !== 1) throw new UsageError('usage: nsfd delete [--root DIR] [--force] ID');
  const id = checkId(rest[0]);
  const s = load(root, id);
  const p = openInit(s);
  if (p !== undefined) {
    try {
      if (!flags.has('--force') && !flags.has('-f')) throw new Error(`container '${id}' is running: nsfd kill ${id} first, or delete --force`);
      // SIGKILL to pid 1 of its pid namespace ends every process in it.
      p.sendSignal('SIGKILL');
      await p.wait();
    } finally {
      p.close();
    }
  }
  // (Only a cgroup v2 directory: the state file is root's, but a wrong one must not make us write elsewhere.)
  if (s.cgroup !== undefined && fs.existsSync(path.join(s.cgroup, 'cgroup.procs'))) {
    // (Whatever is left in it, without a pid namespace: cgroup.kill, 5.14+.)
    try {
      fs.writeFileSync(path.join(s.cgroup, 'cgroup.kill'), '1');
    } catch {
      // gone already, or an older kernel: rmdir says EBUSY if anything is left
    }
    for (let i = 0; ; i++) {
      try {
        fs.rmdirSync(s.cgroup);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || i >= 100) throw err;
        await new Promise((r) => setTimeout(r, 10));  // (the killed leave it asynchronously)
      }
    }
  }
  releaseId(root, id);
  return 0;
}

function signalOf(s: string): NodeJS.Signals | number {
  if (/^\d+$/.test(s)) return Number(s);
  const name = (s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`) as NodeJS.Signals;
  return name;
}
