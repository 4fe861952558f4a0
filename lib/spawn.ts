// spawn() / run(): start a program straight into new or existing namespaces
// with clone3 (native/spawn.cc). All policy is here: validation (typed
// errors before any syscall), which namespaces to join and in which order,
// PATH lookup, the child's fd table, and the Subprocess handle.
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Stream } from 'node:stream';
import { isMainThread } from 'node:worker_threads';

import { E, NsError, UnsupportedError, commonHint, invalidArg, invalidValue, outOfRange } from './core/errors';
import { native } from './sys/native';
import { Namespace } from './namespace';
import { OwnedFd } from './core/owned-fd';
import { ExitStatus, Pidfd, markOwnChild, signalName, signalNumber } from './pidfd';
import { procRootFd } from './inns';
import { privilegedEverywhere } from './core/proc';
import { CLONE_FLAG, NS_TYPES, NsType, checkNsTypes } from './core/ns-types';
import { AT_FDCWD, CGROUP2_SUPER_MAGIC, O_DIRECTORY, O_RDONLY, O_RDWR, WEXITED, WNOHANG } from './sys/constants';

export interface IdMapEntry {
  /** First id inside the new user namespace. */
  inside: number;
  /** First id it maps to outside (in our user namespace). */
  outside: number;
  count: number;
}

export type StdioName = 'pipe' | 'inherit' | 'ignore';
/** One slot of the child's fd table, as in child_process. */
export type StdioSlot = StdioName | number | OwnedFd | Stream | null | undefined;

export interface SpawnOptions {
  /** Enter existing namespaces: a process (one atomic setns(pidfd)) or a list of namespaces. */
  join?: Pidfd | readonly Namespace[];
  /** Which types to join (default: all of the target's that differ from ours and are not unshared). */
  joinTypes?: readonly NsType[];
  /** Create new namespaces. With "pid" the child is pid 1 of the new pid namespace. */
  unshare?: readonly NsType[];
  /** Id maps for a new user namespace (needs unshare "user"). Written from outside before the child goes on. */
  uidMap?: readonly IdMapEntry[];
  gidMap?: readonly IdMapEntry[];
  /** /proc/PID/setgroups of the new user namespace; default "deny" unless we are root (needed for an unprivileged gidMap). */
  setgroups?: 'allow' | 'deny';
  /** cgroup v2 directory (path or fd) the child is born in (CLONE_INTO_CGROUP). */
  cgroup?: string | number | OwnedFd;
  /**
   * chroot() to this directory: a path (resolved after the joins, in the
   * joined mount namespace), a directory fd of yours (an OwnedFd, e.g.
   * O_PATH), or a Pidfd: that process's own root, opened from /proc/PID/root
   * before the joins and rechecked through the pidfd (nsenter --root), which
   * is right even when the process is chroot()ed inside its mount namespace.
   */
  root?: string | OwnedFd | Pidfd;
  /** Working directory (resolved after the joins and root). */
  cwd?: string;
  /** Environment (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * setresuid/setresgid before exec. In a new user namespace whose map does
   * not map our own uid, pass the id to be inside (e.g. 0): otherwise the
   * child is the overflow uid there and loses its capabilities at exec.
   */
  uid?: number;
  gid?: number;
  /** Supplementary groups (default: dropped, best effort, when uid or gid is set). */
  groups?: readonly number[];
  /** Like child_process: one value for 0..2, or one per fd slot (default "pipe" for 0..2). */
  stdio?: StdioName | readonly StdioSlot[];
  /** argv[0] (default: file). */
  argv0?: string;
  /** The child is SIGKILLed when close() is called or when this process (its parent thread) exits. */
  killOnClose?: boolean;
  /** Mount a fresh /proc (needs unshare "mnt"; with a new pid namespace, ps shows only the child's tree). */
  mountProc?: boolean;
  /** setsid(): a new session and process group. */
  newSession?: boolean;
}


/** What native spawn_clone3 reads; see native/spawn.cc. */
interface SpawnSpec {
  paths: string[];
  argv: string[];
  envp: string[];
  /** Use the process's C environment instead of envp. */
  inheritEnv: boolean;
  cloneFlags: number;
  joinPidfd: number;
  joinFlags: number;
  joinFds: number[];
  joinTypes: number[];
  /** A pid namespace (pidfd or nsfd) our thread joins for the clone3 only, or -1. */
  parentPidFd: number;
  unshareAfter: number;
  twoStage: boolean;
  shareVm: boolean;
  uidMap: string;
  gidMap: string;
  setgroupsDeny: boolean;
  cgroupFd: number;
  root?: string;
  rootFd?: number;
  cwd?: string;
  uid: number;
  gid: number;
  groups?: number[];
  fds: number[];
  killOnClose: boolean;
  mountProc: boolean;
  newSession: boolean;
}

function checkString(x: unknown, name: string, allowEmpty = false): string {
  if (typeof x !== 'string' || (!allowEmpty && x === '')) throw invalidArg(name, allowEmpty ? 'a string' : 'a non-empty string', x);
  if (x.includes('\0')) throw invalidValue(name, 'must be a string without null bytes', x);
  return x;
}

/**
 * One "KEY=value" of options.env, checked as child_process does (numbers and
 * booleans are written as text, undefined leaves the key out), with typed
 * errors where a template string would throw an untyped one (a Symbol) or
 * run a caller's toString (an object).
 */
function envPush(envp: string[], key: string, v: unknown): void {
  if (v === undefined) return;
  const name = `options.env['${key}']`;
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'bigint') {
    throw invalidArg(name, 'of type string', v);
  }
  if (key.includes('=')) throw invalidValue(name, "must have a name without '='", key);
  envp.push(checkString(`${key}=${String(v)}`, name, true));
}

function checkId(x: unknown, name: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x)) throw invalidArg(name, 'an integer', x);
  if (x < 0 || x > 0xfffffffe) throw outOfRange(name, '>= 0 and <= 4294967294', x);
  return x;
}

function checkCred(x: unknown, name: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x)) throw invalidArg(name, 'an integer', x);
  if (x < 0 || x > 0x7fffffff) throw outOfRange(name, '>= 0 and <= 2147483647', x);
  return x;
}

function checkBool(x: unknown, name: string): boolean {
  if (x !== undefined && typeof x !== 'boolean') throw invalidArg(name, 'a boolean', x);
  return x === true;
}

function idMap(x: unknown, name: string): string {
  if (!Array.isArray(x) || x.length === 0 || x.length > 340) throw invalidArg(name, 'an array of 1 to 340 {inside, outside, count}', x);
  return Array.from(x as readonly unknown[])
    .map((e: unknown, i) => {
      if (e === null || typeof e !== 'object') throw invalidArg(`${name}[${i}]`, 'an object {inside, outside, count}', e);
      const m = e as Record<string, unknown>;
      const inside = checkId(m.inside, `${name}[${i}].inside`);
      const outside = checkId(m.outside, `${name}[${i}].outside`);
      const count = checkId(m.count, `${name}[${i}].count`);
      if (count < 1) throw outOfRange(`${name}[${i}].count`, '>= 1', count);
      return `${inside} ${outside} ${count}\n`;
    })
    .join('');
}

function flagsOf(types: Iterable<NsType>): number {
  let f = 0;
  for (const t of types) f |= CLONE_FLAG[t];
  return f;
}

/** The fd a stream (fs stream, net.Socket, process.stdout...) reads or writes, if it has one. */
function streamFd(x: object): number | undefined {
  const s = x as { fd?: unknown; _handle?: { fd?: unknown } };
  if (typeof s.fd === 'number' && s.fd >= 0) return s.fd;
  if (s._handle && typeof s._handle.fd === 'number' && s._handle.fd >= 0) return s._handle.fd;
  return undefined;
}

/** A real Pidfd (not merely something with Pidfd.prototype in its chain). */
function isPidfd(x: unknown): x is Pidfd {
  if (!(x instanceof Pidfd)) return false;
  try {
    return typeof x.pid === 'number'; // a private field: throws for a fake
  } catch {
    return false;
  }
}

/** Child processes whose handle was closed while they ran: reaped when they exit, without keeping Node alive. */
const orphans = new Set<Pidfd>();
let sweeper: NodeJS.Timeout | undefined;
function adoptOrphan(pidfd: Pidfd): void {
  orphans.add(pidfd);
  if (sweeper !== undefined) return;
  sweeper = setInterval(() => {
    for (const p of orphans) {
      const r = native.waitid_pidfd(p.fd, WEXITED | WNOHANG);
      if (typeof r === 'number' || r.pid !== 0) {
        orphans.delete(p);
        p.close();
      }
    }
    if (orphans.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }, 500);
  sweeper.unref();
}

/**
 * A child made by spawn(). Holds its pidfd: signals and the exit status go
 * through it, never through the pid. The handle does not keep Node alive;
 * awaiting `exited` does, and so do open stdio streams.
 */
export class Subprocess implements Disposable {
  /** The child's pid in our pid namespace. */
  readonly pid: number;
  readonly pidfd: Pidfd;
  /** Our ends of the 'pipe' slots (null for other slots). */
  readonly stdio: readonly (net.Socket | null)[];
  readonly killOnClose: boolean;
  #exited: Promise<ExitStatus> | undefined;
  #closed = false;

  /** Made by spawn(); wraps a Pidfd of a child (and our ends of its stdio). */
  constructor(pidfd: Pidfd, stdio: readonly (net.Socket | null)[] = [], killOnClose = false) {
    if (!isPidfd(pidfd)) throw invalidArg('pidfd', 'a Pidfd', pidfd);
    if (!Array.isArray(stdio) || stdio.some((x) => x !== null && !(x instanceof net.Socket))) {
      throw invalidArg('stdio', 'an array of net.Socket or null', stdio);
    }
    if (typeof killOnClose !== 'boolean') throw invalidArg('killOnClose', 'a boolean', killOnClose);
    this.pidfd = pidfd;
    this.pid = pidfd.pid;
    this.stdio = stdio;
    this.killOnClose = killOnClose;
  }

  get stdin(): net.Socket | null {
    return this.stdio[0] ?? null;
  }
  get stdout(): net.Socket | null {
    return this.stdio[1] ?? null;
  }
  get stderr(): net.Socket | null {
    return this.stdio[2] ?? null;
  }

  /**
   * Resolves with {code, signal} when the child exits, and reaps it. Started
   * on first access: until then the child does not keep Node alive.
   */
  get exited(): Promise<ExitStatus> {
    if (this.#exited === undefined) this.#exited = this.pidfd.wait();
    return this.#exited;
  }

  /** Sends a signal through the pidfd. false if the child has already exited and been reaped. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    try {
      this.pidfd.sendSignal(signal);
      return true;
    } catch (err) {
      if (err instanceof NsError && err.code === 'ESRCH') return false;
      throw err;
    }
  }

  /**
   * Releases the handle. With killOnClose the child is SIGKILLed (and reaped
   * at once); otherwise it runs on and is reaped in the background when it
   * exits. Stdio streams stay open. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.pidfd.closed) return;
    if (this.killOnClose) {
      this.kill('SIGKILL');
      this.exited.catch(() => {});
    } else if (this.#exited === undefined) {
      adoptOrphan(this.pidfd.dup());
    }
    this.pidfd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

interface Prepared {
  spec: SpawnSpec;
  /** Fds to close once the child has its copies (child ends, /dev/null, cgroup dir). */
  temp: number[];
  /** Our ends of 'pipe' slots: [slot, fd]. */
  pipes: [number, number][];
  file: string;
  cgroupPath?: string;
}

function resolveJoin(options: SpawnOptions, unshare: NsType[]): { pidfd: number; flags: number; fds: number[]; types: NsType[] } {
  const out = { pidfd: -1, flags: 0, fds: [] as number[], types: [] as NsType[] };
  const { join } = options;
  if (join === undefined) {
    if (options.joinTypes !== undefined) throw invalidValue('options.joinTypes', 'needs options.join', options.joinTypes);
    return out;
  }
  const explicit = options.joinTypes === undefined ? undefined : checkNsTypes(options.joinTypes, 'options.joinTypes');
  const conflict = (t: NsType): never => {
    throw invalidValue('options.unshare', `asks for a new ${t} namespace while options.join enters an existing one`, options.unshare);
  };

  if (join instanceof Pidfd) {
    const fd = join.fdFor('setns');
    const wanted = explicit ?? NS_TYPES.filter((t) => !unshare.includes(t));
    for (const t of explicit ?? []) if (unshare.includes(t)) conflict(t);
    const configured = wanted.filter((t) => {
      if (hasNsType(t)) return true;
      // Types compiled out of this kernel are skipped unless asked for by name.
      if (explicit !== undefined) throw new NsError(-E.EOPNOTSUPP, 'setns', { hint: `this kernel has no ${t} namespaces` });
      return false;
    });
    const differ = (types: NsType[]): void => {
      const theirs = linksOf(join, types);
      types.forEach((t, i) => theirs[i] !== ourLink(t) && out.types.push(t));
    };
    if (privilegedEverywhere()) {
      // With CAP_SYS_ADMIN in the initial user namespace and no user
      // namespace joined, re-entering one of our own net/uts/ipc/cgroup
      // namespaces is a harmless no-op: join those without comparing.
      differ(configured.filter((t) => !VOLATILE.includes(t)));
      const volatile = configured.filter((t) => VOLATILE.includes(t));
      if (out.types.includes('user')) differ(volatile);
      else out.types.push(...volatile);
    } else {
      differ(configured);
    }
    out.types.sort((a, b) => NS_TYPES.indexOf(a) - NS_TYPES.indexOf(b));
    if (out.types.length > 0) {
      out.pidfd = fd;
      out.flags = flagsOf(out.types);
    }
    return out;
  }

  if (!Array.isArray(join) || join.some((n) => !(n instanceof Namespace))) {
    throw invalidArg('options.join', 'a Pidfd or an array of Namespaces', join);
  }
  const byType = new Map<NsType, Namespace>();
  for (const ns of join as readonly Namespace[]) {
    if (explicit && !explicit.includes(ns.type)) continue;
    if (byType.has(ns.type)) throw invalidValue('options.join', `holds two ${ns.type} namespaces`, join);
    if (unshare.includes(ns.type)) conflict(ns.type);
    byType.set(ns.type, ns);
  }
  // User first: it gives the capabilities the other joins are checked against.
  for (const t of NS_TYPES) {
    const ns = byType.get(t);
    if (ns === undefined) continue;
    if (ns.closed) throw new NsError(-E.EBADF, 'setns', {}, 'EBADF: file descriptor closed, setns');
    const fd = ns.fd;
    using ours = Namespace.current(t);
    if (ns.equals(ours)) continue;
    out.fds.push(fd);
    out.types.push(t);
  }
  return out;
}

/** Types a Node thread may move between (attach()); the others stay put for its life. */
const VOLATILE: readonly NsType[] = ['net', 'uts', 'ipc', 'cgroup'];
/** Our user, mnt, pid and time namespaces: a multithreaded process cannot change them, so read once (per thread: module state is). */
const stableLinks = new Map<NsType, string | null>();

function readOwnLink(t: NsType): string | null {
  try {
    return fs.readlinkSync(`/proc/thread-self/ns/${t}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null; // not configured
    throw err;
  }
}

let kernelTypes: Set<NsType> | undefined;
/** Whether this kernel has namespaces of type t (fixed at boot: checked once). */
function hasNsType(t: NsType): boolean {
  kernelTypes ??= new Set(NS_TYPES.filter((x) => readOwnLink(x) !== null));
  return kernelTypes.has(t);
}

/** "type:[inode]" of the calling thread's namespace, or null if the kernel lacks the type. */
function ourLink(t: NsType): string | null {
  if (VOLATILE.includes(t)) return readOwnLink(t);
  let l = stableLinks.get(t);
  if (l === undefined) stableLinks.set(t, (l = readOwnLink(t)));
  return l;
}

/** The target's "type:[inode]" links, checked through the pidfd to be about that process. */
function linksOf(pidfd: Pidfd, types: readonly NsType[]): string[] {
  if (types.length === 0) return [];
  const r = native.spawn_ns_links(pidfd.fdFor('setns'), pidfd.pid, types as NsType[]);
  if (typeof r === 'number') throw targetError(r, pidfd.pid);
  return r.map((l, i) => {
    // ENOENT for a type this kernel has: the process is gone (or a zombie, which has no namespaces left).
    if (typeof l === 'number') throw targetError(l === -E.ENOENT ? -E.ESRCH : l, pidfd.pid, types[i]);
    return l;
  });
}

function targetError(r: number, pid: number, type?: NsType): NsError {
  const call = type ? `readlink(/proc/PID/ns/${type})` : 'pidfd_send_signal';
  return new NsError(r, call, {
    pid,
    hint:
      r === -E.ESRCH
        ? 'the target process has exited'
        : r === -E.EOPNOTSUPP
          ? `this kernel has no ${type} namespaces`
          : r === -E.EACCES
            ? 'no ptrace access to the target process (PTRACE_MODE_READ)'
            : commonHint(-r),
  });
}

function prepare(file: string, args: readonly string[], options: SpawnOptions): Prepared {
  checkString(file, 'file');
  if (!Array.isArray(args)) throw invalidArg('args', 'an array of strings', args);
  // Copied once, holes included (forEach would skip them): what was checked is what the child gets.
  const argList = Array.from(args as readonly unknown[], (a, i) => checkString(a, `args[${i}]`, true));
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);

  const unshare = options.unshare === undefined ? [] : checkNsTypes(options.unshare, 'options.unshare');
  const killOnClose = checkBool(options.killOnClose, 'options.killOnClose');
  const mountProc = checkBool(options.mountProc, 'options.mountProc');
  const newSession = checkBool(options.newSession, 'options.newSession');
  if (mountProc && !unshare.includes('mnt')) {
    throw invalidValue('options.mountProc', 'needs a new mount namespace (unshare: ["mnt", ...]); it would cover our own /proc', mountProc);
  }
  const newUser = unshare.includes('user');
  let uidMap = '';
  let gidMap = '';
  if (options.uidMap !== undefined) uidMap = idMap(options.uidMap, 'options.uidMap');
  if (options.gidMap !== undefined) gidMap = idMap(options.gidMap, 'options.gidMap');
  if ((uidMap || gidMap) && !newUser) {
    throw invalidValue('options.uidMap', 'needs a new user namespace (unshare: ["user", ...])', options.uidMap ?? options.gidMap);
  }
  if (options.setgroups !== undefined && options.setgroups !== 'allow' && options.setgroups !== 'deny') {
    throw invalidArg('options.setgroups', '"allow" or "deny"', options.setgroups);
  }
  const setgroupsDeny = newUser && (uidMap !== '' || gidMap !== '') && (options.setgroups ?? (process.geteuid?.() === 0 ? 'allow' : 'deny')) === 'deny';
  const rootOption = options.root;
  if (rootOption !== undefined && typeof rootOption !== 'string' && !(rootOption instanceof OwnedFd)) {
    throw invalidArg('options.root', 'a directory path, an OwnedFd of a directory, or a Pidfd (that process\'s root)', rootOption);
  }
  const root = typeof rootOption === 'string' ? checkString(rootOption, 'options.root') : undefined;
  const cwd = options.cwd === undefined ? undefined : checkString(options.cwd, 'options.cwd');
  // (The child holds uid and gid as C ints: at most 2^31 - 1.)
  const uid = options.uid === undefined ? -1 : checkCred(options.uid, 'options.uid');
  const gid = options.gid === undefined ? -1 : checkCred(options.gid, 'options.gid');
  let groups: number[] | undefined;
  if (options.groups !== undefined) {
    if (!Array.isArray(options.groups)) throw invalidArg('options.groups', 'an array of gids', options.groups);
    groups = Array.from(options.groups as readonly unknown[], (g, i) => checkId(g, `options.groups[${i}]`));
  }
  const argv0 = options.argv0 === undefined ? file : checkString(options.argv0, 'options.argv0', true);

  // Without options.env the child gets our C environment (which process.env
  // writes through to) copied natively: enumerating process.env costs ~30 us.
  // A Worker's process.env is its own copy, so there it is enumerated.
  const inheritEnv = options.env === undefined && isMainThread;
  const env = inheritEnv ? undefined : (options.env ?? process.env);
  const envp: string[] = [];
  if (env !== undefined) {
    if (env === null || typeof env !== 'object') throw invalidArg('options.env', 'an object', env);
    for (const [k, v] of Object.entries(env)) envPush(envp, k, v as unknown);
  }
  // PATH lookup happens in the child, after the joins and chroot: the
  // program is looked for where it will run, not in our filesystem.
  // The PATH the child gets (an own key of env, as written above).
  const envPath = env === undefined ? process.env.PATH : envp.find((e) => e.startsWith('PATH='))?.slice(5);
  const searchPath = typeof envPath === 'string' ? envPath : '/usr/local/bin:/usr/bin:/bin';
  const paths = file.includes('/') ? [file] : searchPath.split(':').map((d) => `${d === '' ? '.' : d.replace(/\/+$/, '')}/${file}`);

  let stdio: readonly StdioSlot[];
  if (options.stdio === undefined) stdio = ['pipe', 'pipe', 'pipe'];
  else if (typeof options.stdio === 'string') stdio = [options.stdio, options.stdio, options.stdio];
  else if (Array.isArray(options.stdio)) stdio = Array.from(options.stdio as readonly StdioSlot[]); // holes: undefined
  else throw invalidArg('options.stdio', '"pipe", "inherit", "ignore" or an array', options.stdio);
  while (stdio.length < 3) stdio = [...stdio, undefined];

  const join = resolveJoin(options, unshare);
  const joined = new Set(join.types);
  const hasJoin = join.types.length > 0;
  const unshareFlags = flagsOf(unshare);
  // A pid namespace join moves only the children of whoever joins. With
  // CAP_SYS_ADMIN everywhere, our thread joins it for the clone3 alone (see
  // native/spawn.cc) and the child is born inside. Otherwise the child joins
  // (user namespace first) and clones the real process: a relay, whose exit
  // costs more the more mappings this process has.
  let parentPidFd = -1;
  if (joined.has('pid') && privilegedEverywhere()) {
    if (join.pidfd >= 0) {
      parentPidFd = join.pidfd;
      join.flags &= ~CLONE_FLAG.pid;
      if (join.flags === 0) join.pidfd = -1;
    } else {
      const i = join.types.indexOf('pid');
      parentPidFd = join.fds[i] as number;
      join.fds.splice(i, 1);
      join.types.splice(i, 1);
    }
  }

  const prep: Prepared = {
    spec: {
      paths,
      argv: [argv0, ...argList],
      envp,
      inheritEnv,
      // Without a join, clone3 makes the namespaces. After a join, unshare()
      // makes them, so they belong to the joined user namespace.
      cloneFlags: hasJoin ? 0 : unshareFlags,
      joinPidfd: join.pidfd,
      joinFlags: join.flags,
      joinFds: join.fds,
      joinTypes: join.fds.length > 0 ? join.types.map((t) => CLONE_FLAG[t]) : [],
      parentPidFd,
      unshareAfter: hasJoin ? unshareFlags : 0,
      // A pid namespace entered (or made) by a process holds only its children.
      twoStage: hasJoin && ((joined.has('pid') && parentPidFd < 0) || unshare.includes('pid')),
      // The kernel refuses a time namespace join to a task sharing its mm (EUSERS).
      shareVm: !joined.has('time'),
      uidMap,
      gidMap,
      setgroupsDeny,
      cgroupFd: -1,
      uid,
      gid,
      fds: [],
      killOnClose,
      mountProc,
      newSession,
    },
    temp: [],
    pipes: [],
    file,
  };
  if (root !== undefined) prep.spec.root = root;
  if (cwd !== undefined) prep.spec.cwd = cwd;
  if (groups !== undefined) prep.spec.groups = groups;

  // From here on fds are opened: close them all if anything fails.
  try {
    const cg = options.cgroup;
    if (cg !== undefined) {
      let fd: number;
      if (typeof cg === 'string') {
        checkString(cg, 'options.cgroup');
        prep.cgroupPath = cg;
        const r = native.openat(AT_FDCWD, cg, O_RDONLY | O_DIRECTORY, 0);
        if (r < 0) throw new NsError(r, 'open', { step: 'cgroup', path: cg, hint: r === -E.ENOENT ? 'no such cgroup directory' : undefined });
        prep.temp.push(r);
        fd = r;
      } else if (cg instanceof OwnedFd) {
        fd = cg.fd;
        if (fd < 0) throw new NsError(-E.EBADF, 'clone3', { step: 'cgroup' }, 'EBADF: file descriptor closed, cgroup');
      } else if (typeof cg === 'number' && Number.isInteger(cg) && cg >= 0) {
        fd = cg;
      } else {
        throw invalidArg('options.cgroup', 'a cgroup v2 directory path or fd', cg);
      }
      const ftype = native.fstatfs_type(fd);
      if (ftype < 0) throw new NsError(ftype, 'fstatfs', { step: 'cgroup', fd });
      if (ftype !== CGROUP2_SUPER_MAGIC) {
        throw new NsError(-E.EINVAL, 'fstatfs', {
          step: 'cgroup',
          path: prep.cgroupPath,
          hint: 'not a cgroup v2 directory (CLONE_INTO_CGROUP needs one; find the cgroup2 mount in /proc/self/mountinfo)',
        });
      }
      prep.spec.cgroupFd = fd;
    }

    if (rootOption instanceof Pidfd) {
      const r = procRootFd(rootOption);
      if (r < 0) {
        throw new NsError(r, 'open', {
          step: 'root',
          path: `/proc/${rootOption.pid}/root`,
          pid: rootOption.pid,
          hint: r === -E.EACCES ? 'no ptrace access to that process (PTRACE_MODE_READ_FSCREDS): its root cannot be opened' : undefined,
        });
      }
      prep.temp.push(r);
      prep.spec.rootFd = r;
    } else if (rootOption instanceof OwnedFd) {
      if (rootOption.fd < 0) throw new NsError(-E.EBADF, 'fchdir', { step: 'root' }, 'EBADF: file descriptor closed, options.root');
      prep.spec.rootFd = rootOption.fd;
    }

    let devnull = -1;
    stdio.forEach((slot, i) => {
      const kind = slot ?? (i < 3 ? 'pipe' : 'ignore');
      let src: number;
      if (kind === 'ignore') {
        if (i >= 3) return;
        if (devnull < 0) {
          devnull = native.openat(AT_FDCWD, '/dev/null', O_RDWR, 0);
          if (devnull < 0) throw new NsError(devnull, 'open', { path: '/dev/null' });
          prep.temp.push(devnull);
        }
        src = devnull;
      } else if (kind === 'pipe') {
        const sv = native.socketpair();
        if (typeof sv === 'number') throw new NsError(sv, 'socketpair');
        prep.pipes.push([i, sv[0]]);
        prep.temp.push(sv[1]);
        src = sv[1];
      } else if (kind === 'inherit') {
        src = i;
      } else if (typeof kind === 'number') {
        if (!Number.isInteger(kind) || kind < 0) throw invalidArg(`options.stdio[${i}]`, 'a non-negative fd', kind);
        src = kind;
      } else if (kind instanceof OwnedFd) {
        if (kind.closed) throw new NsError(-E.EBADF, 'dup3', { step: 'dup' }, `EBADF: file descriptor closed, options.stdio[${i}]`);
        src = kind.fd;
      } else if (typeof kind === 'object') {
        const fd = streamFd(kind);
        if (fd === undefined) throw invalidArg(`options.stdio[${i}]`, 'a stream with an underlying fd', kind);
        src = fd;
      } else {
        throw invalidArg(`options.stdio[${i}]`, '"pipe", "inherit", "ignore", an fd or a stream', kind);
      }
      prep.spec.fds.push(src, i);
    });
  } catch (err) {
    closeAll(prep.temp);
    closeAll(prep.pipes.map((p) => p[1]));
    throw err;
  }
  return prep;
}

function closeAll(fds: number[]): void {
  for (const fd of fds) native.close(fd);
}

const SETNS_TYPES = new Map<number, NsType>(Object.entries(CLONE_FLAG).map(([t, f]) => [f, t as NsType]));

function spawnError(r: { errno: number; step: string; syscall: string; detail: number }, prep: Prepared): NsError {
  const e = -r.errno;
  const { spec } = prep;
  let hint: string | undefined;
  let path: string | undefined;
  switch (r.step) {
    case 'execve': {
      const searched = !prep.file.includes('/');
      path = e === E.ENOENT && searched ? prep.file : (spec.paths[r.detail] ?? prep.file);
      hint =
        e === E.ENOENT
          ? searched
            ? `${prep.file} not found in PATH (searched inside the child's root and mount namespace)`
            : 'no such file (inside the child\'s root and mount namespace)'
          : e === E.EACCES
            ? 'permission denied: not executable, or a directory on the way is not searchable'
            : e === E.ENOEXEC
              ? 'not an executable format (a script without #!?)'
              : undefined;
      break;
    }
    case 'setns': {
      const t = SETNS_TYPES.get(r.detail);
      const what = t ? `the ${t} namespace` : 'the namespaces';
      hint =
        e === E.EPERM
          ? `joining ${what} needs CAP_SYS_ADMIN in the user namespace that owns it`
          : e === E.ESRCH
            ? 'the target process has exited'
            : e === E.EINVAL
              ? `cannot join ${what} (a pid namespace must be ours or a descendant)`
              : commonHint(e);
      break;
    }
    case 'unshare':
    case 'clone3':
      if (r.syscall === 'clone3' && e === E.ENOSYS) return new UnsupportedError('clone3', '5.3', r.errno, 'clone3');
      hint = e === E.EPERM ? 'creating namespaces needs CAP_SYS_ADMIN; unprivileged, add "user" to unshare' : e === E.ENOSPC ? 'too many namespaces (/proc/sys/user/max_*_namespaces)' : undefined;
      break;
    case 'cgroup':
      path = prep.cgroupPath;
      hint =
        e === E.EBUSY
          ? 'the cgroup has controllers in cgroup.subtree_control: processes may only live in leaf cgroups'
          : e === E.EOPNOTSUPP
            ? 'the cgroup is "domain invalid"'
            : e === E.EACCES
              ? 'no write access to the cgroup\'s cgroup.procs'
              : e === E.ENOENT
                ? 'the cgroup has been removed'
                : 'not a cgroup v2 directory';
      break;
    case 'uid_map':
    case 'gid_map':
      hint =
        e === E.EPERM
          ? `${r.step}: without CAP_SET${r.step === 'uid_map' ? 'UID' : 'GID'} in our user namespace only one mapping of our own ${r.step === 'uid_map' ? 'uid' : 'gid (with setgroups "deny")'}, count 1, may be written`
          : `${r.step}: writing the new user namespace's map failed`;
      break;
    case 'dup':
      hint = e === E.EBADF ? `stdio[${r.detail}]: that fd is not open` : `placing stdio[${r.detail}]`;
      break;
    case 'chroot':
      path = spec.root;
      break;
    case 'root':
      hint = e === E.ENOTDIR ? 'options.root: not a directory fd' : e === E.EBADF ? 'options.root: that fd is not open' : undefined;
      break;
    case 'chdir':
      path = spec.cwd ?? '/';
      hint = e === E.ENOENT ? 'no such directory (inside the child\'s root and mount namespace)' : undefined;
      break;
    case 'setgroups':
    case 'setgid':
    case 'setuid':
      hint = e === E.EPERM ? `needs CAP_SET${r.step === 'setuid' ? 'UID' : 'GID'}${r.step === 'setgroups' ? ' and /proc/PID/setgroups "allow"' : ''}` : e === E.EINVAL ? 'the id is not mapped in the child\'s user namespace' : undefined;
      break;
    case 'mount_proc':
    case 'mount':
      hint = e === E.EPERM ? 'mounting proc needs CAP_SYS_ADMIN over the mount and pid namespaces' : undefined;
      break;
    default:
      break;
  }
  if (r.step !== r.syscall && hint !== undefined && !hint.startsWith(r.step)) hint = `${r.step}: ${hint}`;
  else if (r.step !== r.syscall && hint === undefined) hint = `step ${r.step}`;
  return new NsError(r.errno, r.syscall, { step: r.step, hint, path });
}

/**
 * Starts `file` with clone3 straight into new or existing namespaces and
 * returns a Subprocess holding its pidfd. Errors of any step in the child
 * (setns, chdir, execve...) are thrown here as NsError with `step`; no
 * child is left behind then.
 */
export function spawn(file: string, args?: readonly string[], options?: SpawnOptions): Subprocess;
export function spawn(file: string, options?: SpawnOptions): Subprocess;
export function spawn(file: string, args?: readonly string[] | SpawnOptions, options?: SpawnOptions): Subprocess {
  if (args !== undefined && !Array.isArray(args)) {
    if (options !== undefined) throw invalidArg('args', 'an array of strings', args);
    options = args as SpawnOptions;
    args = [];
  }
  const prep = prepare(file, (args ?? []) as readonly string[], options ?? {});
  let r: ReturnType<typeof native.spawn_clone3>;
  try {
    r = native.spawn_clone3(prep.spec);
  } catch (err) {
    closeAll(prep.pipes.map((p) => p[1]));
    throw err;
  } finally {
    closeAll(prep.temp);
  }
  if ('errno' in r) {
    closeAll(prep.pipes.map((p) => p[1]));
    throw spawnError(r, prep);
  }
  const pidfd = new Pidfd(r.pidfd, r.pid);
  markOwnChild(pidfd);
  const stdio: (net.Socket | null)[] = [];
  const n = Math.max(3, ...prep.pipes.map((p) => p[0] + 1));
  for (let i = 0; i < n; i++) stdio.push(null);
  for (const [slot, fd] of prep.pipes) {
    stdio[slot] = new net.Socket({ fd, readable: slot !== 0, writable: slot === 0 || slot > 2 });
  }
  return new Subprocess(pidfd, stdio, prep.spec.killOnClose);
}

export interface RunOptions extends SpawnOptions {
  /** Written to the child's stdin, which is then closed (default: stdin is /dev/null). */
  input?: string | Uint8Array;
  /** Decode stdout/stderr (default "utf8"); "buffer" keeps Buffers. */
  encoding?: BufferEncoding | 'buffer';
  /** Milliseconds before the child gets `killSignal`; run() then rejects with ETIMEDOUT (default 0: none). */
  timeout?: number;
  /** Aborting sends the child `killSignal`; run() then rejects with an AbortError. */
  signal?: AbortSignal;
  /** The signal for timeout, abort and maxBuffer (default "SIGTERM"). */
  killSignal?: NodeJS.Signals | number;
  /**
   * Most bytes kept of stdout, and of stderr (default 1 MiB, as execFile).
   * More, and the child gets `killSignal`; run() rejects with
   * ERR_CHILD_PROCESS_STDIO_MAXBUFFER. Infinity: no limit.
   */
  maxBuffer?: number;
}

/** What a rejected run() carries besides its code: the child's output so far and how it ended. */
export interface RunFailure extends Error {
  code: string;
  pid: number;
  /** Its exit (after killSignal, normally signal is that). */
  status: ExitStatus;
  stdout: string | Buffer;
  stderr: string | Buffer;
}

export interface RunResult<T extends string | Buffer = string> extends ExitStatus {
  pid: number;
  stdout: T;
  stderr: T;
}

/** A stream's bytes until it closes, keeping at most `max`; `over()` is called once when it has more. */
function collect(s: net.Socket | null, max: number, over: () => void): Promise<Buffer> {
  if (s === null) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let overflowed = false;
    s.on('data', (c: Buffer) => {
      if (overflowed) return;
      if (size + c.length > max) {
        overflowed = true;
        chunks.push(c.subarray(0, max - size));
        size = max;
        over();
        return;
      }
      chunks.push(c);
      size += c.length;
    });
    s.once('error', reject);
    s.once('close', () => resolve(Buffer.concat(chunks, size)));
  });
}

/** spawn() and wait: {code, signal, stdout, stderr}. A non-zero exit is a result, not an error. */
export function run(file: string, args: readonly string[], options: RunOptions & { encoding: 'buffer' }): Promise<RunResult<Buffer>>;
export function run(file: string, args?: readonly string[], options?: RunOptions): Promise<RunResult<string>>;
export async function run(file: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunResult<string | Buffer>> {
  return runWith(file, args, options);
}

/** run(), telling `onSpawn` the child as soon as it exists (Container tracks it). Internal. */
export async function runWith(file: string, args: readonly string[], options: RunOptions, onSpawn?: (child: Subprocess) => void): Promise<RunResult<string | Buffer>> {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const { input, encoding = 'utf8', ...rest } = options;
  if (input !== undefined && typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw invalidArg('options.input', 'a string or a Uint8Array', input);
  }
  if (encoding !== 'buffer' && !Buffer.isEncoding(encoding)) throw invalidArg('options.encoding', 'a Buffer encoding or "buffer"', encoding);
  const { timeout = 0, signal, killSignal = 'SIGTERM', maxBuffer = 1024 * 1024, ...spawnOptions } = rest;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout)) throw invalidArg('options.timeout', 'an integer', timeout);
  if (timeout < 0 || timeout > 0x7fffffff) throw outOfRange('options.timeout', '>= 0 and <= 2147483647', timeout);
  // Duck-typed as Node does (an AbortSignal of another realm is one too).
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal) || typeof signal.addEventListener !== 'function')) {
    throw invalidArg('options.signal', 'an AbortSignal', signal);
  }
  const killWith = signalNumber(killSignal, 'options.killSignal');
  if (killWith === 0) throw invalidArg('options.killSignal', 'a signal other than 0', killSignal);
  if (typeof maxBuffer !== 'number' || Number.isNaN(maxBuffer)) throw invalidArg('options.maxBuffer', 'a number', maxBuffer);
  if (maxBuffer < 0) throw outOfRange('options.maxBuffer', '>= 0', maxBuffer);
  // Aborted already: nothing is started (as child_process does).
  if (signal?.aborted) throw abortError(signal.reason);
  if (spawnOptions.stdio === undefined) spawnOptions.stdio = [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
  const child = spawn(file, args, spawnOptions);
  onSpawn?.(child);
  // The first reason to stop the child wins; it is what run() rejects with.
  // A timeout that fires once the child has exited (a zombie too) came too
  // late: its result stands. Too much output, or an abort, fails run() anyway.
  let failure: Error | undefined;
  const stop = (why: () => Error, evenIfExited: boolean): void => {
    if (failure !== undefined) return;
    if (!child.pidfd.isAlive()) {
      if (evenIfExited) failure = why();
      return;
    }
    try {
      child.kill(killWith);
      failure = why();
    } catch (err) {
      failure = err as Error;
    }
  };
  const onAbort = (): void => stop(() => abortError(signal?.reason), true);
  signal?.addEventListener('abort', onAbort, { once: true });
  // (Unref'd: the wait for the child is what keeps Node running.)
  const timer = timeout > 0 ? setTimeout(() => stop(() => timeoutError(file, timeout, killWith), false), timeout).unref() : undefined;
  try {
    if (input !== undefined && child.stdin) {
      child.stdin.on('error', () => {}); // EPIPE when the child does not read it all
      child.stdin.end(input);
    }
    const overflow = (name: string) => () => stop(() => maxBufferError(name, maxBuffer), true);
    const [status, out, err] = await Promise.all([child.exited, collect(child.stdout, maxBuffer, overflow('stdout')), collect(child.stderr, maxBuffer, overflow('stderr'))]);
    const dec = (b: Buffer): string | Buffer => (encoding === 'buffer' ? b : b.toString(encoding));
    if (failure !== undefined) {
      throw Object.assign(failure, { pid: child.pid, status, stdout: dec(out), stderr: dec(err) });
    }
    return { pid: child.pid, code: status.code, signal: status.signal, stdout: dec(out), stderr: dec(err) };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    child.close();
  }
}

function abortError(reason: unknown): Error {
  // Shaped as Node's own AbortError (child_process, fs, timers/promises).
  const err = new Error('The operation was aborted', reason === undefined ? undefined : { cause: reason });
  return Object.assign(err, { name: 'AbortError', code: 'ABORT_ERR' });
}

function timeoutError(file: string, ms: number, sig: number): NsError {
  return new NsError(E.ETIMEDOUT, 'run', { path: file, hint: `killed with ${signalName(sig) ?? sig} after ${ms} ms (options.timeout)` });
}

function maxBufferError(name: string, max: number): RangeError {
  const err = new RangeError(`${name} maxBuffer length exceeded (${max} bytes)`);
  return Object.assign(err, { code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' });
}
