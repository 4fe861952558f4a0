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

import { E, NsError, checkOptionKeys, invalidArg, invalidValue, optionKeys } from '../core/errors';
import { NsType, checkNsTypes } from '../core/ns-types';
import type { OwnedFd } from '../core/owned-fd';
import {
  InTarget,
  MkdirInOptions,
  MountOptions,
  OpenFlags,
  ReadFileInOptions,
  SocketInOptions,
  WriteFileInOptions,
  mkdirIn,
  mountIn,
  openIn,
  readFileIn,
  socketIn,
  writeFileIn,
} from '../inside';
import { Namespace } from '../namespace';
import { ExitStatus, Pidfd } from '../pidfd';
import { RunOptions, RunResult, SpawnOptions, Subprocess, runWith, spawn } from '../spawn';
import { abandonInit, destroyStdio, rootfsOpenToHostUsers, setUpInit, spawnInit, withIdRange } from './create';
import { IdRange, allocateIdRange } from '../userns';
import { ContainerInfo, listContainers, openAdopted } from './discover';
import { killAll, leadsPidNamespace } from './kill';
import { Cgroup, CgroupResources, CgroupStats, cgroup2Mount, ownCgroup } from '../cgroup';
import { BundleOptions, bundleOptions, readBundleConfig } from './bundle';
import { sweepDeadOwners } from './lifetime';
import { ContainerCreateOptions, CreatePlan, ProcessDefaults, planCreate, withoutUserns } from './options';
import { persistNamespaces, unpersistDir } from './persist';
import { adoptedDefaults } from './adopt';

/** Warns (once per rootfs) that the default user namespace was given up for a rootfs that cannot be idmapped. */
const warnedNoIdmap = new Set<string>();
function warnNoIdmap(rootfs: string | undefined): void {
  const key = rootfs ?? '';
  if (warnedNoIdmap.has(key)) return;
  warnedNoIdmap.add(key);
  process.emitWarning(`the filesystem of rootfs ${rootfs ?? '(fd)'} does not support idmapped mounts: the container runs without a user namespace (root inside is root outside). Put the rootfs on ext4, xfs, btrfs or tmpfs (Linux 6.3+), or pass userns: 'auto' to make this an error, or userns: false to silence this.`, {
    type: 'NsfdWarning',
    code: 'NSFD_USERNS_NO_IDMAP',
  });
}

/**
 * The namespaces of an init: false workload, or none if it has exited
 * already (ESRCH: a short command can finish before create() reads them;
 * c.exited then has its status, and c.spawn() fails with ESRCH).
 */
function namespacesUnlessExited(pidfd: Pidfd): Partial<Record<NsType, Namespace>> {
  try {
    return pidfd.namespaces();
  } catch (err) {
    if (err instanceof NsError && err.code === 'ESRCH') return {};
    throw err;
  }
}

/**
 * Warns (once per rootfs) that an idmapped rootfs lies where unprivileged
 * host users can reach it: a set-uid file the container writes there is
 * set-uid root on the host (rootfsOpenToHostUsers()).
 */
const warnedOpenRootfs = new Set<string>();
function warnOpenRootfs(rootfs: string): void {
  if (warnedOpenRootfs.has(rootfs)) return;
  warnedOpenRootfs.add(rootfs);
  process.emitWarning(`rootfs ${rootfs} is idmapped (what the container's root writes there is owned by root on disk) and unprivileged host users can reach it: a set-uid file the container leaves there would make them root. Keep it under a directory of root's that others cannot search (mode 0700, as /var/lib/machines), or give the container a rootfs chowned into its id range.`, {
    type: 'NsfdWarning',
    code: 'NSFD_ROOTFS_OPEN',
  });
}

const BUNDLE_OPTION_KEYS = optionKeys<BundleOptions>({ id: true, stdio: true, killOnClose: true });

let warnedNoCgroup = false;

/**
 * The container's own cgroup. One made only because the container has no
 * pid namespace (plan.newCgroup.auto) is skipped where cgroup v2 is not
 * writable (not root, not delegated, no cgroup2 mounted), with a warning
 * once (NSFD_NO_CGROUP): close() and Node's death then reach only the
 * init's session and process tree.
 */
function ownCgroupFor(planned: NonNullable<ReturnType<typeof planCreate>['newCgroup']>): Cgroup | undefined {
  if (!planned.auto) return Cgroup.create({ parent: planned.parent, resources: planned.resources, ...(planned.name === undefined ? {} : { name: planned.name }) });
  try {
    const parent = planned.parent ?? ownCgroup();
    sweepDeadOwners(parent);
    return Cgroup.create({ parent });
  } catch (err) {
    if (!(err instanceof NsError) || !['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'EOPNOTSUPP'].includes(err.code)) throw err;
    if (!warnedNoCgroup) {
      warnedNoCgroup = true;
      process.emitWarning(`A container without a pid namespace gets no cgroup of its own here (${err.message})`, {
        code: 'NSFD_NO_CGROUP',
        detail: 'close() and the death of this process then kill its init\'s session and process tree only: a process that double-forks and calls setsid() survives. Give it a pid namespace, or a writable cgroup v2 (cgroupParent).',
      });
    }
    return undefined;
  }
}

/**
 * A container as a kernel object in userspace: a pidfd on its init plus the
 * init's namespaces (nsfs fds), with work done inside it without moving the
 * caller (socket, open, readFile, run...) and, by default, kill-on-close.
 * Made by Container.create(), or adopted with fromPid()/fromPidfd().
 */
export class Container implements Disposable, AsyncDisposable {
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
  /** Sessions that c.spawn()/c.run() processes were started in (see close()). */
  readonly #sessions = new Set<number>();
  /** Credentials and privileges of the created container's processes (undefined: adopted, read from its init at each spawn). */
  readonly #process: ProcessDefaults | undefined;
  /** Whether the init is pid 1 of its own pid namespace: read on the first spawn, it does not change. */
  #ownPidNs: boolean | undefined;

  /** The container's cgroup: its own (made by create, removed by close) or the one given as a path. */
  readonly #cgroup: Cgroup | undefined;
  /** Our namespace fds closing on the thread pool, started by close(). */
  #namespacesClosed: Promise<unknown> | undefined;
  /** Removal of a cgroup of its own, started by close(). */
  #cgroupRemoved: Promise<void> | undefined;
  /** The host id range of its user namespace (userns 'auto' as root), locked until the init is gone. */
  readonly #idRange: IdRange | undefined;

  private constructor(
    pidfd: Pidfd,
    opts: { child?: Subprocess; killOnClose: boolean; root?: string | undefined; cgroupPath?: string | undefined; cgroup?: Cgroup | undefined; process?: ProcessDefaults; idRange?: IdRange | undefined; ownPidNs?: true | undefined; mayHaveExited?: boolean },
  ) {
    this.#idRange = opts.idRange;
    this.#ownPidNs = opts.ownPidNs;
    this.#pidfd = pidfd;
    this.#process = opts.process;
    this.#child = opts.child;
    this.#killOnClose = opts.killOnClose;
    this.#root = opts.root;
    this.#cgroup = opts.cgroup;
    this.#cgroupPath = opts.cgroup?.path ?? opts.cgroupPath;
    this.#namespaces = opts.mayHaveExited ? namespacesUnlessExited(pidfd) : pidfd.namespaces();
  }

  /**
   * Starts an init (pid 1 of the new pid namespace) in new namespaces and
   * resolves once it runs: for the default init, once its SIGTERM trap is
   * in place; then sets hostname, lo up, and private mount propagation.
   */
  static async create(options: ContainerCreateOptions = {}): Promise<Container> {
    const plan = planCreate(options);
    try {
      return await Container.#create(plan);
    } catch (err) {
      // The default 'auto' on a filesystem without idmapped mounts (tmpfs
      // before 6.3, ramfs, NFS...): what the default was before, with a
      // warning. Asked for explicitly, 'auto' fails instead.
      // (Only for the rootfs: an idmapped bind's source is named by its own error.)
      const rootfsPath = typeof plan.spawn.rootfs === 'string' ? plan.spawn.rootfs : undefined;
      if (!plan.autoByDefault || !(err instanceof NsError) || err.step !== 'idmap' || err.code !== 'EINVAL' || err.path !== rootfsPath) throw err;
      warnNoIdmap(err.path);
      return Container.#create(withoutUserns(options));
    }
  }

  static async #create(planned: CreatePlan): Promise<Container> {
    let plan = planned;
    // userns 'auto' as root: an id range of its own, locked before its maps are written.
    const idRange = plan.autoRange ? allocateIdRange() : undefined;
    if (idRange !== undefined) plan = withIdRange(plan, idRange);
    let cgroup: Cgroup | undefined;
    let child: Subprocess;
    let ctl: OwnedFd | undefined;
    try {
      // Its own cgroup first, limits applied: the init is born in it.
      cgroup = plan.newCgroup !== undefined ? ownCgroupFor(plan.newCgroup) : plan.cgroupPath !== undefined ? Cgroup.open(plan.cgroupPath) : undefined;
      if (plan.resources !== undefined) cgroup?.update(plan.resources);
      ({ child, ctl } = spawnInit(plan.newCgroup !== undefined && cgroup !== undefined ? { ...plan, spawn: { ...plan.spawn, cgroup: cgroup.path } } : plan, cgroup?.path));
    } catch (err) {
      idRange?.close();
      if (plan.newCgroup !== undefined) await cgroup?.remove();
      throw err;
    }
    let c: Container;
    try {
      c = new Container(child.pidfd, {
        child,
        killOnClose: plan.killOnClose,
        // (Resolved only now: spawn() is what checks the option.)
        root: plan.root === undefined ? undefined : path.resolve(plan.root),
        cgroupPath: plan.cgroupPath,
        cgroup: plan.newCgroup !== undefined ? cgroup : undefined,
        process: plan.process,
        idRange,
        // (Its init is pid 1 of the pid namespace made for it.)
        ownPidNs: plan.unshare.has('pid') ? true : undefined,
        mayHaveExited: plan.workloadIsInit,
      });
    } catch (err) {
      ctl?.close();
      abandonInit(child);
      idRange?.close();
      if (plan.newCgroup !== undefined) await cgroup?.remove();
      throw err;
    }
    try {
      await setUpInit(child, plan, ctl);
    } catch (err) {
      c.#closeWith(true);
      throw err;
    }
    if (plan.spawn.idmapRootfs === true && plan.spawn.rootfs !== undefined) {
      const open = rootfsOpenToHostUsers(plan.spawn.rootfs);
      if (open !== undefined) warnOpenRootfs(open);
    }
    return c;
  }

  /**
   * Runs an OCI bundle: reads `dir/config.json` (as `runc spec` or `runc
   * spec --rootless` write it, ociVersion 1.0.x to 1.2.x), maps it onto
   * create()'s options and creates the container, its process.args
   * running under nsfd-init (c.exited: its status). A field nsfd does not
   * implement is a BundleConfigError naming its JSON path, never ignored.
   */
  static async fromBundle(dir: string, options: BundleOptions = {}): Promise<Container> {
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    checkOptionKeys(options, BUNDLE_OPTION_KEYS);
    if (options.id !== undefined && (typeof options.id !== 'string' || !/^[\w+.-]+$/.test(options.id) || options.id === '.' || options.id === '..')) {
      throw invalidArg('options.id', 'a container id (letters, digits, "_", "+", "-", ".")', options.id);
    }
    const config = readBundleConfig(dir);
    const { joinPaths, ...create } = bundleOptions(config, path.resolve(dir), options, { cgroupRoot: cgroup2Mount, ownCgroup });
    // Namespace files the config names (the caller's, like the bundle): held until the init has joined them.
    const join: Namespace[] = [];
    try {
      for (const j of joinPaths ?? []) join.push(Namespace.open(j.path, j.type));
      return await Container.create(join.length > 0 ? { ...create, join } : create);
    } finally {
      for (const ns of join) ns.close();
    }
  }

  /**
   * Adopts a running container (docker, podman, unshare, ...) by the pid of
   * a process in it, normally its init. With `id` (a pidfs id from
   * Pidfd#id), fails with ESRCH unless the pid still names that process.
   * Never killed on close unless asked.
   */
  static fromPid(pid: number, options: { id?: bigint; killOnClose?: boolean } = {}): Container {
    const pidfd = openAdopted(pid, options);
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
    return listContainers();
  }

  /** Removes what persist(dir) made (unmounts each namespace file and removes it, then the directory if empty). */
  static unpersist(dir: string): void {
    unpersistDir(dir);
  }

  /**
   * The host ids of its user namespace when create() picked them (userns
   * 'auto' as root): uid and gid 0 inside are `base` outside. Held (locked
   * against other nsfd users) until close() and the init's exit.
   */
  get idRange(): { readonly base: number; readonly count: number } | undefined {
    return this.#idRange === undefined ? undefined : { base: this.#idRange.base, count: this.#idRange.count };
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

  /** Whether close() kills every process of the container. */
  get killOnClose(): boolean {
    return this.#killOnClose;
  }

  /** Whether close() has been called. */
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
    const o = this.#spawnOptions(options);
    const sp = spawn(file, args, o);
    for (const ref of this.#spawned) if (ref.deref()?.pidfd.closed !== false) this.#spawned.delete(ref);
    this.#spawned.add(new WeakRef(sp));
    this.#track(sp, o.newSession === true);
    return sp;
  }

  /** run() inside: {code, signal, stdout, stderr}. */
  run(file: string, args: readonly string[] = [], options: Omit<RunOptions, 'join'> = {}): Promise<RunResult<string>> {
    this.#check('run');
    const o = this.#spawnOptions(options) as RunOptions;
    return runWith(file, args, o, (child) => this.#track(child, o.newSession === true)) as Promise<RunResult<string>>;
  }

  /** Keeps a dup of a started process's pidfd for close(); drops those of processes that have exited. */
  #track(sp: Subprocess, newSession: boolean): void {
    for (const p of this.#started) {
      if (!p.isAlive()) {
        p.close();
        this.#started.delete(p);
      }
    }
    this.#started.add(sp.pidfd.dup());
    if (newSession) this.#sessions.add(sp.pid);
  }

  #spawnOptions<T extends SpawnOptions>(options: T): T {
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    if ('join' in options) throw invalidValue('options.join', 'is the container itself', (options as SpawnOptions).join);
    const o = { ...options, join: this.#pidfd } as T;
    if (this.#root !== undefined && o.root === undefined) o.root = this.#root;
    // In the container's cgroup, as `runc exec` does: its limits hold, and
    // close()'s cgroup.kill reaches whatever it forks.
    if (this.#cgroupPath !== undefined && o.cgroup === undefined) o.cgroup = this.#cgroupPath;
    // The init's credentials, capabilities, no_new_privs, seccomp and
    // rlimits, as `runc exec` gives the container's, unless overridden.
    // Adopted: what its init has now (adopt.ts).
    const defaults = this.#process ?? adoptedDefaults(this.#pidfd);
    for (const [k, v] of Object.entries(defaults) as [keyof ProcessDefaults, unknown][]) {
      if ((k === 'uid' || k === 'gid') && o.preserveCredentials === true) continue;
      if (o[k] === undefined) (o as Record<string, unknown>)[k] = v;
    }
    // Without a pid namespace of its own, a process of the container leads
    // a session of its own, so close() can find what it double-forks.
    this.#ownPidNs ??= leadsPidNamespace(this.#pidfd);
    if (o.newSession === undefined && !this.#ownPidNs) o.newSession = true;
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

  /** readFileIn() of this container: a regular file under its root, in its mount namespace. */
  readFile(file: string, options?: BufferEncoding | ReadFileInOptions): string | Buffer {
    this.#check('readFile');
    return readFileIn(this.#pidfd, file, options as ReadFileInOptions);
  }

  /** writeFileIn() of this container. */
  writeFile(file: string, data: string | NodeJS.ArrayBufferView, options?: BufferEncoding | WriteFileInOptions): void {
    this.#check('writeFile');
    writeFileIn(this.#pidfd, file, data, options);
  }

  /** mkdirIn() of this container. */
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
    return persistNamespaces(this.#namespaces, dir, wanted);
  }

  /** The container's cgroup v2 directory (its own, or the one given as a path), or undefined. */
  get cgroup(): Cgroup | undefined {
    return this.#cgroup ?? (this.#cgroupPath !== undefined ? Cgroup.open(this.#cgroupPath) : undefined);
  }

  #needCgroup(op: string): Cgroup {
    this.#check(op);
    const cg = this.cgroup;
    if (cg === undefined) throw new NsError(-E.EINVAL, op, { hint: 'the container has no cgroup: create it with resources, cgroupParent or cgroup' });
    return cg;
  }

  /** Freezes every process of the container (cgroup.freeze); resolves once the kernel reports it frozen. */
  async freeze(): Promise<void> {
    await this.#needCgroup('freeze').freeze();
  }

  /** Thaws the container; resolves once the kernel reports it thawed. */
  async thaw(): Promise<void> {
    await this.#needCgroup('thaw').thaw();
  }

  /** What the container uses now (cgroup v2 statistics, shaped like `runc events --stats`). */
  stats(): CgroupStats {
    return this.#needCgroup('stats').stats();
  }

  /** Changes its limits. */
  update(resources: CgroupResources): void {
    this.#needCgroup('update').update(resources);
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
      killAll(this.#pidfd, [...this.#started], this.#sessions, this.#ownPidNs);
      if (this.#cgroupPath !== undefined) {
        try {
          fs.writeFileSync(path.join(this.#cgroupPath, 'cgroup.kill'), '1');
        } catch {
          // cgroup.kill needs 5.14; the pid namespace kill above stands
        }
      }
    }
    if (this.#cgroup !== undefined && kill) {
      // Its own cgroup goes once it is empty (what asyncDispose awaits);
      // without killOnClose its processes run on, and so it stays.
      this.#cgroupRemoved = this.#cgroup.remove().catch(() => {});
    }
    for (const p of this.#started) p.close();
    this.#started.clear();
    // On libuv's pool: the last close of a mount namespace whose processes
    // are gone tears its mount tree down there and then, with an RCU grace
    // period (~0.1-0.2 ms here), which need not hold up the event loop.
    // (One closed through c.namespaces already is left as it is.)
    this.#namespacesClosed = Promise.all(Object.values(this.#namespaces).filter((ns) => !ns.closed).map((ns) => closeOnPool(ns.release())));
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
      this.#releaseIdRange(kill || !this.#pidfd.isAlive());
      this.#child.close();
      // Our ends of its pipes: nothing can reach them once the handle is
      // closed, and an open stdin would never close by itself.
      destroyStdio(this.#child);
    } else {
      this.#pidfd.close();
    }
  }

  /**
   * Frees the id range: once the init has exited (its pid namespace, and
   * all in it, gone with it) when it was killed; at once when its
   * processes run on (their uid_map keeps the range out of other picks).
   */
  #releaseIdRange(dying: boolean): void {
    const range = this.#idRange;
    if (range === undefined) return;
    if (dying && this.#child !== undefined) void this.#child.exited.catch(() => {}).finally(() => range.close());
    else range.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * close(), then, with killOnClose, waits until the init has exited (and
   * been reaped when it is our child): after `await using c = ...` ends,
   * the container is gone, not merely signalled.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    let gone: Promise<unknown> | undefined;
    if (!this.#closed && this.#killOnClose) gone = this.#child !== undefined ? this.#child.exited : this.#pidfd.wait();
    this.close();
    await gone?.catch(() => {});
    if (gone !== undefined) this.#idRange?.close();  // (the init is gone: free its range now, not a tick later)
    await this.#cgroupRemoved;
    await this.#namespacesClosed;
  }
}

/** close(2) on libuv's thread pool; resolves when done (an error there is an ownership bug: not ours to throw from a close). */
function closeOnPool(fd: number): Promise<void> {
  return new Promise((resolve) => fs.close(fd, () => resolve()));
}
