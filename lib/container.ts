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
import * as path from 'node:path';

import { E, NsError, invalidArg, invalidValue } from './errors';
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
import { OwnedFd } from './owned-fd';
import { ExitStatus, Pidfd } from './pidfd';
import { IdMapEntry, RunOptions, RunResult, SpawnOptions, Subprocess, run, spawn } from './spawn';
import { NS_TYPES, NsType, checkNsTypes, checkPid } from './types';

/** What Container.create makes by default (plus "user" when unprivileged or given id maps). */
export const DEFAULT_UNSHARE: readonly NsType[] = ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup'];

/**
 * The default init: a POSIX shell that exits on SIGTERM and otherwise waits
 * forever. While it waits, sh reaps every child it has, including orphans
 * the kernel reparents to it as pid 1, so zombies do not pile up. Needs
 * /bin/sh inside `root`; pass `init` for a root without one.
 */
export const DEFAULT_INIT: readonly string[] = ['/bin/sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 2147483647 & wait $!; done"];

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
   * pid namespace), and so does this Node process dying (PR_SET_PDEATHSIG).
   * Default true.
   */
  killOnClose?: boolean;
  /** The init program and its args (default DEFAULT_INIT). */
  init?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  /** A fresh /proc (default: when both pid and mnt are new). */
  mountProc?: boolean;
  /** Set lo up in a new network namespace (default true). */
  loopback?: boolean;
  /** The init's stdio (default "ignore"). */
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
      child.kill('SIGKILL');
      child.close();
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
   * container: reaped; for an adopted one: from PIDFD_GET_INFO when the
   * kernel keeps it). Started on first access; a pending wait keeps Node alive.
   */
  get exited(): Promise<ExitStatus> {
    if (this.#exited === undefined) {
      if (this.#child) this.#exited = this.#child.exited;
      else this.#exited = this.#pidfd.wait();
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
    return sp;
  }

  /** run() inside: {code, signal, stdout, stderr}. */
  run(file: string, args: readonly string[] = [], options: Omit<RunOptions, 'join'> = {}): Promise<RunResult<string>> {
    this.#check('run');
    return run(file, args, this.#spawnOptions(options) as RunOptions);
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
   * Closes the handle: with killOnClose, SIGKILLs the init first, which
   * ends every process of its pid namespace (and writes cgroup.kill when a
   * cgroup path was given). Namespace fds and the pidfd are closed.
   * Idempotent.
   */
  close(): void {
    this.#closeWith(this.#killOnClose);
  }

  #closeWith(kill: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    if (kill) {
      try {
        this.#pidfd.sendSignal('SIGKILL');
      } catch (err) {
        if (!(err instanceof NsError && err.code === 'ESRCH')) throw err;
      }
      if (this.#cgroupPath !== undefined) {
        try {
          fs.writeFileSync(path.join(this.#cgroupPath, 'cgroup.kill'), '1');
        } catch {
          // cgroup.kill needs 5.14; the pid namespace kill above stands
        }
      }
    }
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
      if (kill) this.#child.exited.catch(() => {});
      this.#child.close();
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
