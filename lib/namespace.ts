// Namespace: an nsfs fd with identity (type, dev, inode, 64-bit id),
// hierarchy (owner, parent), persistence (bind mounts) and nsfs handles.
import * as fs from 'node:fs';

import { E, NsError, UnsupportedError, check, checkString, invalidArg, invalidValue } from './core/errors';
import { native } from './sys/native';
import { OwnedFd } from './core/owned-fd';
import { pidfdOpenFd, processNamespaceFd } from './core/process';
import { ownProcfs, procOpen } from './core/procfs';
import { NsIdentity, identityKey, probeNamespace } from './core/identity';
import { CLONE_FLAG, NsType, checkNsType, checkPid } from './core/ns-types';
import { AT_FDCWD, MNT_DETACH, MOVE_MOUNT_F_EMPTY_PATH, NSFS_MAGIC, OPEN_TREE_CLONE, O_PATH, O_RDONLY } from './sys/constants';
import { nsGetId, nsGetMntnsId, nsGetOwnerUid, nsGetParent, nsGetUserns } from './sys/nsfs';

/** The types Namespace.create makes (a pid namespace dies with its first process). */
export type CreatableNsType = Exclude<NsType, 'pid'>;

/** Options of Namespace.create(). */
export interface CreateNamespaceOptions {
  /**
   * Bind-mount the new namespaces, as `ip netns add` does: with one type,
   * the file to mount on (under /run/netns, that directory is made a shared
   * mount point first, so `ip netns` sees it); with several, a directory
   * that gets one file per type. Needs CAP_SYS_ADMIN over our mount namespace.
   */
  persist?: string | undefined;
  /**
   * Create the namespaces owned by this user namespace (joined by the
   * short-lived holder). Default: ours as root; else a new user namespace
   * mapping root to our uid and gid, returned as `user`.
   */
  userns?: Namespace | undefined;
}

/** What Namespace.create() resolves with: a Namespace per type asked for, `user` when one was made for them, and the persisted paths. */
export type CreatedNamespaces<T extends CreatableNsType> = { [K in T]: Namespace } & { user?: Namespace; persisted?: Partial<Record<NsType, string>> };

type Creator = (types: readonly CreatableNsType[], options: CreateNamespaceOptions) => Promise<CreatedNamespaces<CreatableNsType>>;
let creator: Creator | undefined;

/**
 * @internal Installs Namespace.create's implementation. It spawns a holder
 * process, and spawn depends on this module: a static import the other
 * way would be a cycle, so lib/create-namespace.ts registers itself here.
 */
export function setNamespaceCreator(c: Creator): void {
  creator = c;
}

/** A namespace held by an nsfs fd: its type, dev and inode (its identity), the 64-bit id (6.18+), owner and parent, persistence by bind mount, and nsfs file handles. Holding it keeps the namespace alive. */
export class Namespace extends OwnedFd {
  /** Which kind of namespace it is. */
  readonly type: NsType;
  /** Device of nsfs; with `inode`, the namespace's identity on every kernel. */
  readonly dev: number;
  /** Its nsfs inode (with `dev`, its identity; the number in "net:[4026531840]"). */
  readonly inode: number;
  #id: bigint | undefined;

  /** Adopts an nsfs fd. If `fd` is not one this throws and the caller keeps it. */
  constructor(fd: number) {
    const id = identify(fd);
    super(fd);
    this.type = id.type;
    this.dev = id.dev;
    this.inode = id.inode;
  }

  /** Adopts a raw nsfs fd (unsafe: nothing else may close it afterwards). */
  static override fromRawFd(fd: number): Namespace {
    return new Namespace(fd);
  }

  /**
   * Opens a namespace file: /proc/PID/ns/TYPE, a bind mount of one, or
   * /proc/self/fd/N. With `expectedType`, anything else is an EINVAL.
   */
  static open(path: string, expectedType?: NsType): Namespace {
    checkString(path, 'path');
    if (expectedType !== undefined) checkNsType(expectedType, 'expectedType');
    const fd = check(native.openat(AT_FDCWD, path, O_RDONLY, 0), 'open', { path });
    let ns: Namespace;
    try {
      ns = new Namespace(fd);
    } catch (err) {
      native.close(fd);
      if (err instanceof NsError && err.code === 'EINVAL') {
        throw new NsError(-E.EINVAL, 'open', { path, hint: 'not a namespace file (expected /proc/PID/ns/TYPE or a bind mount of one)' });
      }
      throw err;
    }
    if (expectedType !== undefined && ns.type !== expectedType) {
      ns.close();
      throw new NsError(-E.EINVAL, 'open', { path, hint: `a ${ns.type} namespace, not ${expectedType}` });
    }
    return ns;
  }

  /** The calling thread's namespace of this type. */
  static current(type: NsType): Namespace {
    checkNsType(type);
    // Through our own procfs: /proc could be another pid namespace's.
    const path = `/proc/thread-self/ns/${type}`;
    return adoptNamespace(check(procOpen(`thread-self/ns/${type}`, O_RDONLY, true), 'open', { path }));
  }

  /** A process's namespace, through a pidfd (never a bare /proc path). */
  static ofPid(pid: number, type: NsType): Namespace {
    checkNsType(type);
    checkPid(pid);
    const pidfd = pidfdOpenFd(pid);
    try {
      return adoptNamespace(processNamespaceFd(pidfd, pid, type));
    } finally {
      native.close(pidfd);
    }
  }

  /**
   * New namespaces with no process in them, held by the returned objects
   * (see lib/create-namespace.ts). Resolves to one Namespace per type asked
   * for, plus `user` when one was made (rootless, or asked for): the caller
   * owns them all.
   *
   *   const { net } = await Namespace.create(['net'], { persist: '/run/netns/blue' });
   */
  static create<T extends CreatableNsType>(types: readonly T[], options: CreateNamespaceOptions = {}): Promise<CreatedNamespaces<T>> {
    if (creator === undefined) throw new NsError(-E.ENOSYS, 'Namespace.create', { hint: 'load nsfd through its index (lib/index.ts)' });
    return creator(types, options) as Promise<CreatedNamespaces<T>>;
  }

  /** Reopens a namespace from toHandle() (nsfs file handles, Linux 6.18). */
  static fromHandle(handle: Buffer | Uint8Array): Namespace {
    if (!(handle instanceof Uint8Array)) throw invalidArg('handle', 'a Buffer from Namespace#toHandle()', handle);
    const r = native.open_by_handle_at(Buffer.from(handle.buffer, handle.byteOffset, handle.byteLength));
    if (r < 0) {
      if ((r === -E.EBADF || r === -E.EOPNOTSUPP) && !handlesSupported()) {
        throw new UnsupportedError('nsfs file handles', '6.18', r, 'open_by_handle_at');
      }
      throw new NsError(r, 'open_by_handle_at', {
        hint: r === -E.ESTALE ? 'the namespace no longer exists, or is not visible from here' : undefined,
      });
    }
    return adoptNamespace(r);
  }

  /**
   * Removes a persisted namespace: unmounts the bind mount at `path` and,
   * unless keepFile, removes the (empty) file it was mounted on.
   */
  static unpersist(path: string, options: { keepFile?: boolean } = {}): void {
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    const keepFile = options.keepFile === true;
    using ns = Namespace.open(path);
    void ns;
    check(native.umount2(path, MNT_DETACH), 'umount2', { path });
    if (!keepFile) {
      try {
        fs.rmSync(path, { force: true });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new NsError(typeof e.errno === 'number' ? e.errno : -E.EIO, 'unlink', {
          path,
          hint: e.code === 'EBUSY' ? 'still a mount point: something else is mounted there too' : undefined,
        });
      }
    }
  }

  /** @internal The raw fd for a syscall (throws EBADF once closed); not in the published types. */
  fdFor(syscall: string): number {
    return this.asFd(syscall);
  }

  /** Made by this constructor (not just given its prototype)? */
  static #isReal(x: object): boolean {
    return #id in x;
  }

  /** The 64-bit namespace id (NS_GET_ID, Linux 6.18; mnt namespaces from 6.11). */
  get id(): bigint {
    if (Namespace.#isReal(this) && this.#id !== undefined) return this.#id;
    const fd = this.asFd('ioctl(NS_GET_ID)');
    let r = nsGetId(fd);
    if (typeof r === 'number' && r === -E.ENOTTY && this.type === 'mnt') r = nsGetMntnsId(fd);
    if (typeof r === 'number') {
      if (r === -E.ENOTTY) throw new UnsupportedError('NS_GET_ID', '6.18', r, 'ioctl(NS_GET_ID)');
      throw new NsError(r, 'ioctl(NS_GET_ID)');
    }
    this.#id = r;
    return r;
  }

  /** The user namespace that owns this one. */
  owner(): Namespace {
    const r = nsGetUserns(this.asFd('ioctl(NS_GET_USERNS)'));
    return adoptNamespace(
      check(r, 'ioctl(NS_GET_USERNS)', (e) => ({
        hint: e === E.EPERM ? 'the owning user namespace is outside the caller\'s user namespace' : undefined,
      })),
    );
  }

  /** The parent namespace (pid and user namespaces only). */
  parent(): Namespace {
    const r = nsGetParent(this.asFd('ioctl(NS_GET_PARENT)'));
    return adoptNamespace(
      check(r, 'ioctl(NS_GET_PARENT)', (e) => ({
        hint:
          e === E.EINVAL
            ? `a ${this.type} namespace has no parent (only pid and user namespaces do)`
            : e === E.EPERM
              ? 'the parent is outside the caller\'s namespace (or this is an initial namespace)'
              : undefined,
      })),
    );
  }

  /** The uid that created the user namespace owning this one (this one if it is a user namespace). */
  get ownerUid(): number {
    if (this.type === 'user') {
      return check(nsGetOwnerUid(this.asFd('ioctl(NS_GET_OWNER_UID)')), 'ioctl(NS_GET_OWNER_UID)');
    }
    using owner = this.owner();
    return owner.ownerUid;
  }

  /** The CLONE_NEW* bit of this namespace's type. */
  get cloneFlag(): number {
    return CLONE_FLAG[this.type];
  }

  /** Same namespace (same nsfs dev and inode)? */
  equals(other: Namespace): boolean {
    if (!(other instanceof Namespace)) throw invalidArg('other', 'a Namespace', other);
    return this.dev === other.dev && this.inode === other.inode;
  }

  /**
   * Bind-mounts the namespace on `path` (created if missing) so it outlives
   * its processes and this handle, as `ip netns add` and `unshare --net=FILE` do.
   */
  persist(path: string): void {
    checkString(path, 'path');
    const fd = this.asFd('mount');
    let created = false;
    // O_PATH: looks without opening (a FIFO there would block an open).
    const existing = native.openat(AT_FDCWD, path, O_PATH, 0);
    if (existing >= 0) {
      // Never stack a second namespace on one already persisted there.
      const onNsfs = native.fstatfs_type(existing) === NSFS_MAGIC;
      native.close(existing);
      if (onNsfs) throw new NsError(-E.EBUSY, 'mount', { path, hint: 'a namespace is already persisted there: unpersist it first' });
    } else if (existing === -E.ENOENT) {
      try {
        fs.writeFileSync(path, '', { mode: 0o444, flag: 'wx' });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new NsError(typeof e.errno === 'number' ? e.errno : -E.EIO, 'open', { path, hint: 'could not create the file to mount on' });
      }
      created = true;
    } else {
      throw new NsError(existing, 'open', { path });
    }
    const r = bindMount(fd, path);
    if (r < 0) {
      if (created) fs.rmSync(path, { force: true });
      throw new NsError(r, 'mount', {
        path,
        hint:
          r === -E.EPERM
            ? 'bind mounts need CAP_SYS_ADMIN in the mount namespace\'s owner'
            : r === -E.EINVAL && this.type === 'mnt'
              ? 'a mount namespace can only be persisted on a non-shared mount outside itself'
              : undefined,
      });
    }
  }

  /** An nsfs file handle (Linux 6.18): reopen later with Namespace.fromHandle(). */
  toHandle(): Buffer {
    const r = native.name_to_handle_at(this.asFd('name_to_handle_at'));
    if (typeof r === 'number') {
      if (r === -E.EOPNOTSUPP) throw new UnsupportedError('nsfs file handles', '6.18', r, 'name_to_handle_at');
      throw new NsError(r, 'name_to_handle_at');
    }
    return r;
  }

  override dup(): Namespace {
    return adoptNamespace(check(native.dup_cloexec(this.asFd('dup')), 'fcntl'));
  }

  protected override inspectDetail(): string {
    return `${this.type}:[${this.inode}]`;
  }
}

/**
 * mount --bind of an fd onto path, without a path through /proc: a detached
 * copy of our procfs's self/fd/FD (open_tree), attached at path
 * (move_mount). 0 or -errno.
 */
function bindMount(fd: number, path: string): number {
  const tree = native.open_tree(ownProcfs().fd, `self/fd/${fd}`, OPEN_TREE_CLONE);
  if (tree < 0) return tree;
  try {
    return native.move_mount(tree, '', AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH);
  } finally {
    native.close(tree);
  }
}

function identify(fd: number): NsIdentity {
  if (!Number.isInteger(fd) || fd < 0) throw invalidArg('fd', 'a non-negative integer', fd);
  const id = probeNamespace(fd);
  if ('errno' in id) throw new NsError(id.errno, id.syscall, { fd, hint: id.hint });
  return id;
}

/** dev:inode of a raw nsfd, as a string key: a namespace's identity on every kernel. */
/**
 * Bind-mounts several namespaces, one file each, all or none:
 * `persistOne(type, file)` for each entry of `files`; when one throws, the
 * bind mounts already made are undone (best effort) and its error thrown.
 * Returns the files made, by type.
 */
export function persistAll(files: readonly (readonly [NsType, string])[], persistOne: (type: NsType, file: string) => void): Partial<Record<NsType, string>> {
  const done: Partial<Record<NsType, string>> = {};
  try {
    for (const [t, file] of files) {
      persistOne(t, file);
      done[t] = file;
    }
  } catch (err) {
    for (const file of Object.values(done)) {
      try {
        Namespace.unpersist(file);
      } catch {
        // best effort: the first error is the one to report
      }
    }
    throw err;
  }
  return done;
}

export function nsIdentity(fd: number): string {
  const key = identityKey(fd);
  if (typeof key === 'number') throw new NsError(key, 'fstat', { fd });
  return key;
}

/** Wraps an nsfs fd the kernel just gave us; closes it if it is somehow not one. */
export function adoptNamespace(fd: number): Namespace {
  try {
    return new Namespace(fd);
  } catch (err) {
    native.close(fd);
    throw err;
  }
}

let handlesCache: boolean | undefined;
function handlesSupported(): boolean {
  if (handlesCache === undefined) {
    using ns = Namespace.current('net');
    handlesCache = typeof native.name_to_handle_at(ns.fd) !== 'number';
  }
  return handlesCache;
}
