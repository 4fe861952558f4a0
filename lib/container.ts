// Container: the 2017 "containers as kernel objects" proposal rebuilt in
// userspace from today's primitives. A container is a process handle (a
// pidfd on its init) plus the namespaces of that init (nsfs fds), with
// work done inside it without moving the caller (lib/inns.ts) and, if
// asked, kill-on-close.
//
//   const c = await Container.create({ hostname: 'box' });
//   c.socket({ family: 'inet', type: 'stream', bind: { port: 80 } });
//   c.open('/etc/hostname'); await c.run('ip', ['addr']); c.close();
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';

import { E, NsError, invalidArg, invalidValue } from './core/errors';
import {
  InTarget,
  MkdirInOptions,
  MountOptions,
  OpenFlags,
  ReadFileInOptions,
  SocketInOptions,
  WriteFileInOptions,
  loopbackUp,
  makePrivateIn,
  mkdirIn,
  mountIn,
  openIn,
  readFileIn,
  setHostnameIn,
  socketIn,
  writeFileIn,
} from './inns';
import { Namespace } from './namespace';
import { OwnedFd } from './core/owned-fd';
import { ExitStatus, Pidfd } from './pidfd';
import { IdMapEntry, RunOptions, RunResult, SpawnOptions, Subprocess, runWith, spawn } from './spawn';
import { NS_TYPES, NsType, checkNsTypes, checkPid } from './core/ns-types';

/** What Container.create makes by default (plus "user" when unprivileged or given id maps). */
export const DEFAULT_UNSHARE: readonly NsType[] = ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup'];

/**
 * The default init: a POSIX shell that exits on SIGTERM and otherwise waits
 * forever. While it waits, sh reaps every child it has, including orphans
 * the kernel reparents to it as pid 1, so zombies do not pile up. On SIGTERM
 * it ends its sleep first, so that without a pid namespace of its own it
 * leaves nothing behind either. Needs /bin/sh inside `root`; pass `init`
 * for a root without one.
 */
export const DEFAULT_INIT: readonly string[] = ['/bin/sh', '-c', "trap 'kill $! 2>/dev/null; exit 0' TERM INT; while :; do sleep 2147483647 & wait $!; done"];

export interface ContainerCreateOptions {
  /** Namespace types to create (default: mnt, uts, ipc, pid, net, cgroup; + user, see below). */
  unshare?: readonly NsType[];
  /** Id maps of a new user namespace (adds "user"). Unprivileged default: root inside = our uid/gid. */
  uidMap?: readonly IdMapEntry[];
  gidMap?: readonly IdMapEntry[];
  setgroups?: 'allow' | 'deny';
  /** Directory the init (and c.spawn) chroot()s into. */
  root?: string;
  /** sethostname() inside (needs "uts"). */
  hostname?: string;
  domainname?: string;
  /** cgroup v2 directory (path or fd) the init is born in; with killOnClose, cgroup.kill is used too. */
  cgroup?: string | number | OwnedFd;
  /**
   * close() kills every process of the container (SIGKILL to pid 1 of its
   * pid namespace; without a pid namespace, the init's whole process tree
   * and session: see close()), and so does this Node process dying
   * (PR_SET_PDEATHSIG: the init only, unless it is pid 1 of its own pid
   * namespace). Default true.
   */
  killOnClose?: boolean;
  /** The init program and its args (default DEFAULT_INIT). */
  init?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  /** A fresh /proc (default: when both pid and mnt are new). */
  mountProc?: boolean;
  /** Set lo up in a new network namespace (default true). */
  loopback?: boolean;
  /**
   * The init's stdio (default "ignore"). Our ends of its "pipe" slots are
   * c.stdin, c.stdout and c.stderr, owned by the container: close()
   * destroys them, so read what you need before.
   */
  stdio?: SpawnOptions['stdio'];
}

/** One group of Container.list(). */
export interface ContainerInfo {
  /** Lowest pid of the group (lsns's "PID" column): usually the init. */
  leader: number;
  pids: number[];
  /** comm of the leader. */
  command: string;
  /** Inode of each namespace of the group (as /proc/PID/ns/TYPE shows). */
  namespaces: Partial<Record<NsType, number>>;
  /** The types in which the group differs from the host (pid 1, else this process). */
  differs: NsType[];
}

const HOST_PID = 1;

export class Container implements Disposable {
  readonly #pidfd: Pidfd;
  readonly #namespaces: Partial<Record<NsType, Namespace>>;
  readonly #child: Subprocess | undefined;
  readonly #killOnClose: boolean;
  readonly #root: string | undefined;
  readonly #cgroupPath: string | undefined;
  #exited: Promise<ExitStatus> | undefined;
  #closed = false;
  /** Processes started by c.spawn(): our children, reaped on kill (see close()). */
  readonly #spawned = new Set<WeakRef<Subprocess>>();
  /**
   * Our own pidfds (dups) of what c.spawn() and c.run() started, while they
   * run: the roots close() kills from when there is no pid namespace to do
   * it, even if the caller closed or dropped the Subprocess.
   */
  readonly #started = new Set<Pidfd>();

  private constructor(pidfd: Pidfd, opts: { child?: Subprocess; killOnClose: boolean; root?: string | undefined; cgroupPath?: string | undefined }) {
    this.#pidfd = pidfd;
    this.#child = opts.child;
    this.#killOnClose = opts.killOnClose;
    this.#root = opts.root;
    this.#cgroupPath = opts.cgroupPath;
    this.#namespaces = pidfd.namespaces();
  }

  /**
   * Starts an init (pid 1 of the new pid namespace) in new namespaces and
   * resolves once it runs: for the default init, once its SIGTERM trap is
   * in place; then sets hostname, lo up, and private mount propagation.
   */
  static async create(options: ContainerCreateOptions = {}): Promise<Container> {
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    const privileged = process.geteuid?.() === 0;
    const unshare = new Set(options.unshare === undefined ? DEFAULT_UNSHARE : checkNsTypes(options.unshare, 'options.unshare'));
    if (options.uidMap !== undefined || options.gidMap !== undefined || (!privileged && options.unshare === undefined)) unshare.add('user');
    const killOnClose = options.killOnClose ?? true;
    if (typeof killOnClose !== 'boolean') throw invalidArg('options.killOnClose', 'a boolean', killOnClose);
    const init = options.init ?? DEFAULT_INIT;
    if (!Array.isArray(init) || init.length === 0 || init.some((a) => typeof a !== 'string')) {
      throw invalidArg('options.init', 'a non-empty array of strings', init);
    }
    if (options.hostname !== undefined && !unshare.has('uts')) {
      throw invalidValue('options.hostname', 'needs a new uts namespace (it would rename the host)', options.hostname);
    }
    const spawnOpts: SpawnOptions = {
      unshare: [...unshare],
      killOnClose,
      stdio: options.stdio ?? 'ignore',
      mountProc: options.mountProc ?? (unshare.has('pid') && unshare.has('mnt')),
      newSession: true,
    };
    if (unshare.has('user')) {
      const uid = process.geteuid?.() ?? 0;
      const gid = process.getegid?.() ?? 0;
      spawnOpts.uidMap = options.uidMap ?? [{ inside: 0, outside: uid, count: 1 }];
      spawnOpts.gidMap = options.gidMap ?? [{ inside: 0, outside: gid, count: 1 }];
    }
    if (options.setgroups !== undefined) spawnOpts.setgroups = options.setgroups;
    if (options.root !== undefined) spawnOpts.root = options.root;
    if (options.cgroup !== undefined) spawnOpts.cgroup = options.cgroup;
    if (options.env !== undefined) spawnOpts.env = options.env;

    const [file, ...args] = init as [string, ...string[]];
    const child = spawn(file, args, spawnOpts);
    let c: Container;
    try {
      c = new Container(child.pidfd, {
        child,
        killOnClose,
        root: options.root === undefined ? undefined : path.resolve(options.root),
        cgroupPath: typeof options.cgroup === 'string' ? options.cgroup : undefined,
      });
    } catch (err) {
      // (The init may have exited at once, leaving children behind.)
      killAll(child.pidfd, []);
      child.close();
      destroyStdio(child);
      throw err;
    }
    try {
      if (options.init === undefined) await untilTrapped(child.pidfd);
      if (unshare.has('mnt') && !spawnOpts.mountProc) makePrivateIn(c);
      if (options.hostname !== undefined) setHostnameIn(c, options.hostname, options.domainname);
      if (unshare.has('net') && options.loopback !== false) loopbackUp(c);
    } catch (err) {
      c.#closeWith(true);
      throw err;
    }
    return c;
  }

  /**
   * Adopts a running container (docker, podman, unshare, ...) by the pid of
   * a process in it, normally its init. With `id` (a pidfs id from
   * Pidfd#id), fails with ESRCH unless the pid still names that process.
   * Never killed on close unless asked.
   */
  static fromPid(pid: number, options: { id?: bigint; killOnClose?: boolean } = {}): Container {
    checkPid(pid);
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    const pidfd = Pidfd.open(pid, options.id === undefined ? {} : { id: options.id });
    try {
      return new Container(pidfd, { killOnClose: options.killOnClose === true });
    } catch (err) {
      pidfd.close();
      throw err;
    }
  }

  /** Adopts a process handle (the Container takes ownership of the Pidfd). */
  static fromPidfd(pidfd: Pidfd, options: { killOnClose?: boolean } = {}): Container {
    if (!(pidfd instanceof Pidfd)) throw invalidArg('pidfd', 'a Pidfd', pidfd);
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    return new Container(pidfd, { killOnClose: options.killOnClose === true });
  }

  /**
   * The containers on this machine, as namespace sets: processes grouped by
   * the identity of all their namespaces (/proc/PID/ns/*), leaving out the
   * group that has exactly pid 1's set (the host; this process's set when
   * pid 1 cannot be inspected). A group that differs
   * only in, say, its mount namespace (a service with PrivateTmp) is listed
   * too; `differs` says how. Processes we may not inspect are skipped. A
   * snapshot: adopt one with Container.fromPid(info.leader).
   */
  static list(): ContainerInfo[] {
    const types = NS_TYPES.filter((t) => fs.existsSync(`/proc/self/ns/${t}`));
    const nsOf = (pid: number): number[] | undefined => {
      try {
        return types.map((t) => fs.statSync(`/proc/${pid}/ns/${t}`).ino);
      } catch {
        return undefined;
      }
    };
    // The reference: pid 1 (the host's init), or, when we may not inspect
    // it (not dumpable, another user), this process.
    const host = nsOf(HOST_PID) ?? nsOf(process.pid);
    if (host === undefined) throw new NsError(-E.EACCES, 'stat(/proc/self/ns)', { hint: 'cannot read namespace links' });
    const groups = new Map<string, { pids: number[]; ns: number[] }>();
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      const ns = nsOf(pid);
      if (ns === undefined) continue;
      if (ns.every((ino, i) => ino === host[i])) continue;
      const key = ns.join(':');
      const g = groups.get(key);
      if (g) g.pids.push(pid);
      else groups.set(key, { pids: [pid], ns });
    }
    const out: ContainerInfo[] = [];
    for (const g of groups.values()) {
      g.pids.sort((a, b) => a - b);
      const leader = g.pids[0] as number;
      let command = '';
      try {
        command = fs.readFileSync(`/proc/${leader}/comm`, 'latin1').trim();
      } catch {
        // exited meanwhile
      }
      const namespaces: Partial<Record<NsType, number>> = {};
      const differs: NsType[] = [];
      types.forEach((t, i) => {
        namespaces[t] = g.ns[i] as number;
        if (g.ns[i] !== host[i]) differs.push(t);
      });
      out.push({ leader, pids: g.pids, command, namespaces, differs });
    }
    return out.sort((a, b) => a.leader - b.leader);
  }

  /** Removes what persist(dir) made (unmounts each namespace file and removes it, then the directory if empty). */
  static unpersist(dir: string): void {
    if (typeof dir !== 'string' || dir === '') throw invalidArg('dir', 'a non-empty string', dir);
    for (const t of NS_TYPES) {
      const p = path.join(dir, t);
      if (fs.existsSync(p)) Namespace.unpersist(p);
    }
    try {
      fs.rmdirSync(dir);
    } catch {
      // not empty, or gone: left as it is
    }
  }

  /** The init's pidfd (owned by the container: closed by close()). */
  get pidfd(): Pidfd {
    return this.#pidfd;
  }

  /** The init's pid in our pid namespace. */
  get pid(): number {
    return this.#pidfd.pid;
  }

  /** Our end of the init's stdin, when options.stdio made it a "pipe" (else null). Destroyed by close(). */
  get stdin(): net.Socket | null {
    return this.#child?.stdin ?? null;
  }

  /** Our end of the init's stdout, when a "pipe" (else null). Destroyed by close(). */
  get stdout(): net.Socket | null {
    return this.#child?.stdout ?? null;
  }

  /** Our end of the init's stderr, when a "pipe" (else null). Destroyed by close(). */
  get stderr(): net.Socket | null {
    return this.#child?.stderr ?? null;
  }

  /** The init's namespaces, one nsfs fd per type (owned by the container). */
  get namespaces(): Readonly<Partial<Record<NsType, Namespace>>> {
    return this.#namespaces;
  }

  get killOnClose(): boolean {
    return this.#killOnClose;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Resolves with the init's {code, signal} when it exits (for a created
   * container: observed without reaping it, so that its pid, and the
   * session it leads, stay pinned until close() (which reaps it) can kill
   * what is left of its tree; for an adopted one: from PIDFD_GET_INFO when
   * the kernel keeps it). Started on first access; a pending wait keeps
   * Node alive.
   */
  get exited(): Promise<ExitStatus> {
    if (this.#exited === undefined) {
      if (this.#child && this.#closed) {
        this.#exited = this.#child.exited;
      } else if (this.#child) {
        const d = this.#pidfd.dup();
        this.#exited = d.wait({ reap: false }).finally(() => d.close());
      } else {
        this.#exited = this.#pidfd.wait();
      }
    }
    return this.#exited;
  }

  /** The types in which this container's namespaces differ from ours. */
  differs(): NsType[] {
    const out: NsType[] = [];
    for (const [t, ns] of Object.entries(this.#namespaces) as [NsType, Namespace][]) {
      using ours = Namespace.current(t);
      if (!ns.equals(ours)) out.push(t);
    }
    return out;
  }

  #check(op: string): void {
    if (this.#closed) throw new NsError(-E.EBADF, op, {}, `EBADF: container closed, ${op}`);
  }

  /** This container as an *In() target. */
  get target(): InTarget {
    this.#check('target');
    return this.#pidfd;
  }

  /** spawn() inside: joins every namespace of the init that differs from ours (and its root, for created ones). */
  spawn(file: string, args: readonly string[] = [], options: Omit<SpawnOptions, 'join'> = {}): Subprocess {
    this.#check('spawn');
    const sp = spawn(file, args, this.#spawnOptions(options));
    for (const ref of this.#spawned) if (ref.deref()?.pidfd.closed !== false) this.#spawned.delete(ref);
    this.#spawned.add(new WeakRef(sp));
    this.#track(sp);
    return sp;
  }

  /** run() inside: {code, signal, stdout, stderr}. */
  run(file: string, args: readonly string[] = [], options: Omit<RunOptions, 'join'> = {}): Promise<RunResult<string>> {
    this.#check('run');
    return runWith(file, args, this.#spawnOptions(options) as RunOptions, (child) => this.#track(child)) as Promise<RunResult<string>>;
  }

  /** Keeps a dup of a started process's pidfd for close(); drops those of processes that have exited. */
  #track(sp: Subprocess): void {
    for (const p of this.#started) {
      if (!p.isAlive()) {
        p.close();
        this.#started.delete(p);
      }
    }
    this.#started.add(sp.pidfd.dup());
  }

  #spawnOptions<T extends SpawnOptions>(options: T): T {
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    if ('join' in options) throw invalidValue('options.join', 'is the container itself', (options as SpawnOptions).join);
    const o = { ...options, join: this.#pidfd } as T;
    if (this.#root !== undefined && o.root === undefined) o.root = this.#root;
    return o;
  }

  /** socketIn(this): a socket in the container's network namespace. */
  socket(options: SocketInOptions): OwnedFd {
    this.#check('socket');
    return socketIn(this.#pidfd, options);
  }

  /** openIn(this): a file resolved under the container's root. */
  open(file: string, flags: OpenFlags = 'r', mode = 0o666): OwnedFd {
    this.#check('open');
    return openIn(this.#pidfd, file, flags, mode);
  }

  readFile(file: string, options?: BufferEncoding | ReadFileInOptions): string | Buffer {
    this.#check('readFile');
    return readFileIn(this.#pidfd, file, options as ReadFileInOptions);
  }

  writeFile(file: string, data: string | NodeJS.ArrayBufferView, options?: BufferEncoding | WriteFileInOptions): void {
    this.#check('writeFile');
    writeFileIn(this.#pidfd, file, data, options);
  }

  mkdir(dir: string, options?: MkdirInOptions | number): void {
    this.#check('mkdir');
    mkdirIn(this.#pidfd, dir, options);
  }

  /**
   * Mounts into the container's mount namespace with the new mount API: a
   * file system type ("tmpfs", "proc", ...) made with fsopen/fsconfig/
   * fsmount, or a host path (absolute or ./relative) bind-mounted with
   * open_tree(OPEN_TREE_CLONE); attached with move_mount onto `target`,
   * resolved under the container's root.
   */
  mount(source: string, target: string, options: MountOptions = {}): void {
    this.#check('mount');
    mountIn(this.#pidfd, source, target, options);
  }

  /**
   * Bind-mounts each namespace of the container that differs from ours on
   * dir/<type> (dir is created), so they outlive it; undo with
   * Container.unpersist(dir). `dir` must not be on a shared mount for the
   * mnt namespace. Returns the files made.
   */
  persist(dir: string, types?: readonly NsType[]): Partial<Record<NsType, string>> {
    this.#check('persist');
    if (typeof dir !== 'string' || dir === '') throw invalidArg('dir', 'a non-empty string', dir);
    const wanted = types === undefined ? this.differs() : checkNsTypes(types);
    fs.mkdirSync(dir, { recursive: true });
    const done: Partial<Record<NsType, string>> = {};
    try {
      for (const t of wanted) {
        const ns = this.#namespaces[t];
        if (ns === undefined) throw new NsError(-E.EOPNOTSUPP, 'persist', { hint: `this kernel has no ${t} namespaces` });
        const p = path.join(dir, t);
        try {
          ns.persist(p);
        } catch (err) {
          throw t === 'mnt' && err instanceof NsError && err.code === 'EINVAL' ? mntLoopError(ns, p) ?? err : err;
        }
        done[t] = p;
      }
    } catch (err) {
      for (const p of Object.values(done)) {
        try {
          Namespace.unpersist(p);
        } catch {
          // best effort
        }
      }
      throw err;
    }
    return done;
  }

  /** Sends a signal to the init through its pidfd (never by pid). */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): void {
    this.#check('kill');
    this.#pidfd.sendSignal(signal);
  }

  /**
   * Closes the handle. With killOnClose, first kills every process of the
   * container:
   *
   * - when the init is pid 1 of its own pid namespace (the default), a
   *   SIGKILL to it through the pidfd ends the namespace: the kernel kills
   *   the rest;
   * - otherwise (created without "pid", or an adopted process that is no
   *   pid 1) a SIGKILL to the init alone would orphan its children, which
   *   would run on. So its whole process tree is killed instead: every
   *   descendant of the init and of what c.spawn() and c.run() started, and every
   *   process of the init's session when the init leads one (created
   *   containers do: spawn's newSession), which also catches children
   *   already reparented away. Each is stopped first (so none can fork
   *   behind our back), then killed, always through a pidfd rechecked
   *   against /proc. Out of reach without a pid namespace: a process that
   *   left the session (setsid) and whose parent in the tree had exited;
   *   give such workloads a pid namespace, or a cgroup.
   *
   * With a cgroup path, cgroup.kill is written too. Then our ends of the
   * init's stdio pipes, the namespace fds and the pidfd are closed.
   * Idempotent.
   */
  close(): void {
    this.#closeWith(this.#killOnClose);
  }

  #closeWith(kill: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    if (kill) {
      killAll(this.#pidfd, [...this.#started]);
      if (this.#cgroupPath !== undefined) {
        try {
          fs.writeFileSync(path.join(this.#cgroupPath, 'cgroup.kill'), '1');
        } catch {
          // cgroup.kill needs 5.14; the pid namespace kill above stands
        }
      }
    }
    for (const p of this.#started) p.close();
    this.#started.clear();
    for (const ns of Object.values(this.#namespaces)) ns.close();
    // Processes from c.spawn() are our children (not the init's): killed
    // with the pid namespace, they stay zombies until we reap them, and the
    // init's exit waits for that (zap_pid_ns_processes): start their waits,
    // which reap them as they die.
    if (kill) {
      for (const ref of this.#spawned) {
        const sp = ref.deref();
        if (sp !== undefined && !sp.pidfd.closed) sp.exited.catch(() => {});
      }
    }
    this.#spawned.clear();
    if (this.#child) {
      // Killed, or exited already (exited does not reap it): reap it now
      // (the wait's first waitid runs at once), not in the background.
      if (kill || !this.#pidfd.isAlive()) this.#child.exited.catch(() => {});
      this.#child.close();
      // Our ends of its pipes: nothing can reach them once the handle is
      // closed, and an open stdin would never close by itself.
      destroyStdio(this.#child);
    } else {
      this.#pidfd.close();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The kernel refuses to bind-mount a mount namespace whose id is not above
 * the caller's own mount namespace's (mnt_ns_loop(), against mount loops).
 * On 6.18 namespace ids are handed out in per-CPU batches, so a namespace
 * made after ours can still have a lower id: say so when that is the cause.
 */
function mntLoopError(ns: Namespace, p: string): NsError | undefined {
  try {
    using ours = Namespace.current('mnt');
    if (ours.id < ns.id) return undefined;
    return new NsError(-E.EINVAL, 'mount', {
      path: p,
      hint:
        `the kernel only binds a mount namespace whose id (${ns.id}) is above the caller's (${ours.id}); ` +
        'ids come in per-CPU batches, so a newer namespace can have a lower one: persist from the initial mount namespace',
    });
  } catch {
    return undefined;
  }
}

/**
 * Kills a container's processes: SIGKILL to its init when that is pid 1 of
 * its own pid namespace (the kernel kills the rest), else its whole tree
 * from the init and `started` (see killTree).
 */
function killAll(init: Pidfd, started: readonly Pidfd[]): void {
  if (!leadsPidNamespace(init)) {
    killTree([init, ...started], init);
    return;
  }
  try {
    init.sendSignal('SIGKILL');
  } catch (err) {
    if (!(err instanceof NsError && err.code === 'ESRCH')) throw err;
  }
}

/** Destroys our ends of a child's "pipe" stdio slots. */
function destroyStdio(child: Subprocess): void {
  for (const s of child.stdio) s?.destroy();
}

/** A process as /proc/PID/stat shows it (pids as our /proc numbers them). */
interface StatRow {
  pid: number;
  state: string;
  ppid: number;
  sid: number;
}

function readStat(pid: number | 'self'): StatRow | undefined {
  let s: string;
  try {
    s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp session ...": comm may hold spaces and parens.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { pid: Number(s.slice(0, s.indexOf(' '))), state: f[0] ?? '', ppid: Number(f[1]), sid: Number(f[3]) };
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

/** Does /proc number processes as our pid namespace does (a /proc of another pid namespace would not)? */
function procIsOurs(): boolean {
  try {
    const m = /^NSpid:\s*(.*)$/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
    const pids = (m?.[1] ?? '').trim().split(/\s+/);
    return pids.length === 1 && Number(pids[0]) === process.pid;
  } catch {
    return false;
  }
}

/**
 * Is the process pid 1 of its pid namespace (so that its death ends every
 * other process there)? False when that cannot be read.
 */
function leadsPidNamespace(p: Pidfd): boolean {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${p.pid}/status`, 'latin1');
  } catch {
    return false;
  }
  if (!unreaped(p)) return false;
  const m = /^NSpid:\s*(.*)$/m.exec(text);
  return m !== null && (m[1] ?? '').trim().split(/\s+/).pop() === '1';
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
function killTree(roots: readonly Pidfd[], leader: Pidfd): void {
  const held = new Map<number, Pidfd>();
  const plainKill = (p: Pidfd): void => {
    try {
      p.sendSignal('SIGKILL');
    } catch (err) {
      if (!(err instanceof NsError && err.code === 'ESRCH')) throw err;
    }
  };
  if (!procIsOurs()) {
    // Pids from /proc would name other processes than pidfd_open's: no
    // walk, only the processes we hold pidfds for.
    for (const root of new Set([leader, ...roots])) plainKill(root);
    return;
  }
  // Ourselves and our ancestors: never stopped or killed by the walk.
  const spared = new Set<number>();
  for (let r = readStat('self'); r !== undefined && r.pid > 0 && !spared.has(r.pid); r = r.ppid > 0 ? readStat(r.ppid) : undefined) spared.add(r.pid);
  const ourSid = readStat('self')?.sid;
  const lead = readStat(leader.pid);
  const session = lead !== undefined && lead.sid === lead.pid && lead.sid !== ourSid && !spared.has(lead.pid) && unreaped(leader) ? lead.sid : undefined;
  const hold = (p: Pidfd): boolean => {
    try {
      p.sendSignal('SIGSTOP');
    } catch {
      p.close();
      return false;
    }
    held.set(p.pid, p);
    return true;
  };
  try {
    for (const root of roots) {
      if (spared.has(root.pid)) {
        plainKill(root);
        continue;
      }
      let p: Pidfd;
      try {
        p = root.dup();
      } catch {
        continue;
      }
      if (held.has(p.pid) || !unreaped(p)) p.close();
      else hold(p);
    }
    const settled = (pid: number): boolean => {
      const st = readStat(pid)?.state;
      return st !== 'R' && st !== 'S';
    };
    const deadline = Date.now() + 2000;
    for (;;) {
      const allStopped = [...held.keys()].every(settled);
      const table = new Map<number, StatRow>();
      for (const name of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        const r = readStat(Number(name));
        if (r !== undefined) table.set(r.pid, r);
      }
      const children = new Map<number, number[]>();
      for (const r of table.values()) {
        const k = children.get(r.ppid);
        if (k) k.push(r.pid);
        else children.set(r.ppid, [r.pid]);
      }
      // Breadth first from what we hold (and the session): parents before children.
      const queue = [...held.keys()];
      if (session !== undefined) for (const r of table.values()) if (r.sid === session) queue.push(r.pid);
      const seen = new Set<number>();
      let added = 0;
      for (let i = 0; i < queue.length; i++) {
        const pid = queue[i] as number;
        if (seen.has(pid)) continue;
        seen.add(pid);
        for (const k of children.get(pid) ?? []) queue.push(k);
        const row = table.get(pid);
        if (held.has(pid) || spared.has(pid) || row === undefined || row.state === 'Z' || row.state === 'X') continue;
        let p: Pidfd;
        try {
          p = Pidfd.open(pid);
        } catch {
          continue;
        }
        const now = readStat(pid);
        const parent = now === undefined ? undefined : held.get(now.ppid);
        const member =
          now !== undefined &&
          unreaped(p) &&
          ((parent !== undefined && unreaped(parent)) || (session !== undefined && now.sid === session && unreaped(leader)));
        if (!member) p.close();
        else if (hold(p)) added++;
      }
      if (added === 0 && (allStopped || Date.now() > deadline)) break;
      if (added === 0) sleepSync(1);
    }
  } finally {
    // Children before parents: a parent's death could orphan a stopped
    // process group, which the kernel then sends SIGHUP and SIGCONT; with
    // SIGKILL pending already, SIGCONT resumes no one.
    for (const p of [...held.values()].reverse()) {
      try {
        p.sendSignal('SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    for (const p of held.values()) p.close();
  }
}

const SIGTERM_BIT = 1n << 14n;

/** Waits until the default init has its SIGTERM trap installed (SigCgt in /proc/PID/status). */
async function untilTrapped(pidfd: Pidfd): Promise<void> {
  const deadline = Date.now() + 10000;
  for (let i = 0; ; i++) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pidfd.pid}/status`, 'latin1');
    } catch {
      text = '';
    }
    pidfd.recheck('open(/proc/PID/status)');
    const m = /^SigCgt:\s*([0-9a-f]+)/m.exec(text);
    if (m && (BigInt(`0x${m[1] as string}`) & SIGTERM_BIT) !== 0n) return;
    if (!pidfd.isAlive()) throw new NsError(-E.ESRCH, 'Container.create', { pid: pidfd.pid, hint: 'the init exited at once' });
    if (Date.now() > deadline) throw new NsError(-E.ETIMEDOUT, 'Container.create', { pid: pidfd.pid, hint: 'the init did not install its SIGTERM trap within 10 s' });
    await new Promise((r) => setTimeout(r, i < 20 ? 1 : 10));
  }
}
