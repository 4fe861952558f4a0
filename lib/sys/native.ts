// The only module that loads the addon. Everything native returns a result
// >= 0 or -errno; see native/util.h.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

export interface RawPidfdInfo {
  mask: bigint;
  cgroupid: bigint;
  pid: number;
  tgid: number;
  ppid: number;
  ruid: number;
  rgid: number;
  euid: number;
  egid: number;
  suid: number;
  sgid: number;
  fsuid: number;
  fsgid: number;
  exitCode: number;
}

export interface RawWaitid {
  pid: number;
  code: number;
  status: number;
}

/**
 * proc_scan's reading of one process: [fd facts, ns inodes, status Name,
 * euid, Threads, command, mounts] (native/list.cc); command: cmdline with
 * spaces for NULs, null when empty; mounts: the nsfs lines
 * of its mountinfo (proc_scan_batch with mntIndex, first process of a
 * mount namespace), else -1.
 */
export type RawProcScan = [fdFacts: number[], nsInodes: number[], name: string, euid: number, threads: number, command: string | null, mounts: string[] | number];

export interface NativeBinding {
  close(fd: number): number;
  dup_cloexec(fd: number): number;
  /** The read end of the process-wide death pipe (made once, never closed: not ours to close), or -errno. */
  death_pipe(): number;
  /** An OwnedFd holds fd (closed at this thread's Node instance's end unless disowned): 0 or -EBADF. */
  fd_own(fd: number): number;
  /** No OwnedFd holds fd any more: 0. */
  fd_disown(fd: number): number;
  /** fd_disown, then close: 0 or -errno. */
  fd_close_owned(fd: number): number;
  /** A 64-bit hash of the bytes (not cryptographic): the CLI's code cache check. */
  content_hash(bytes: Uint8Array): bigint;
  /** A sealed memfd holding the nsfd-init the addon carries, or -errno (-ENOENT: none). */
  init_memfd(): number;
  fcntl_getfd(fd: number): number;
  fcntl_getfl(fd: number): number;
  /** fcntl(F_SETFL): 0 or -errno. */
  fcntl_setfl(fd: number, flags: number): number;
  fstat(fd: number): [bigint, bigint, number] | number;
  fstatfs_type(fd: number): number;
  poll_in(fd: number): number;
  /** flock(fd, op): 0 or -errno. */
  flock(fd: number, op: number): number;
  openat(dirfd: number, path: string, flags: number, mode: number): number;
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  pidfd_open(pid: number, flags: number): number;
  pidfd_send_signal(fd: number, sig: number, flags: number): number;
  pidfd_getfd(fd: number, target: number, flags: number): number;
  pidfd_get_namespace(fd: number, nr: number): number;
  pidfd_get_info(fd: number, mask: bigint): RawPidfdInfo | number;
  waitid_pidfd(fd: number, options: number): RawWaitid | number;
  ns_ioctl(fd: number, nr: 1 | 2 | 3): number;
  ns_get_owner_uid(fd: number): number;
  ns_get_id(fd: number, mntOnly: 0 | 1): bigint | number;
  /**
   * An nsfs fd in one call: [CLONE_NEW* type, inode, id (or -errno), owner fd (or -errno; the caller closes it), owner inode,
   * owner uid (or -errno), parent fd (or -errno), parent inode], or -errno (-EINVAL: fd is not on device nsfsDev). See native/nsfs.cc.
   */
  ns_describe(fd: number, nsfsDev: number): [number, number, bigint | number, number, number, number, number, number] | number;
  ns_translate(fd: number, nr: 6 | 7 | 8 | 9, pid: number): number;
  name_to_handle_at(fd: number): Buffer | number;
  open_by_handle_at(handle: Buffer): number;
  listns(startId: bigint, type: number, max: number): bigint[] | number;
  setns(fd: number, nstype: number): number;
  gettid(): number;
  umount2(target: string, flags: number): number;
  clone3_probe(): number;
  reaper_init(cb: (token: number) => void): number;
  reaper_watch(fd: number, untilReaped: 0 | 1): number;
  reaper_unwatch(token: number): number;
  reaper_ref(on: boolean): number;
  readlink(path: string): string | number;
  /** [result or -errno, step, index, fs log]; op and ints/strs as laid out by inns_wire; see native/inns.cc. */
  inns_thread(fd: number, nstype: number, op: number, ints: number[], strs: string[], buf?: Buffer): [number, number, number, string];
  inns_helper(joins: number[], flags: number, op: number, ints: number[], strs: string[], buf?: Buffer): [number, number, number, string];
  inns_direct(op: number, ints: number[], strs: string[], buf?: Buffer): [number, number, number, string];
  socket_netns(fd: number): number;
  /** connect(fd, addr): 0 or -errno; addr is a sockaddr (lib/inside/sockaddr.ts). */
  connect(fd: number, addr: Buffer): number;
  open_tree(dirfd: number, path: string, flags: number): number;
  mount_setattr(fd: number, recursive: number, set: number, clr: number, propagation: number): number;
  mkdirat(dirfd: number, path: string, mode: number): number;
  /** See native/spawn.cc and SpawnSpec in lib/spawn/wire.ts. */
  spawn_clone3(spec: object): { pidfd: number; pid: number } | { errno: number; step: string; syscall: string; detail: number };
  /** Per namespace type name: the process's "type:[inode]" link or -errno; -errno overall if the pidfd's process is gone. */
  spawn_ns_links(pidfd: number, pid: number, types: string[], procfd: number): (string | number)[] | number;
  /** socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC): [fd, fd] or -errno. */
  socketpair(): [number, number] | number;
  /** The uid_map and gid_map text of each user namespace a process is in but ours, once each, as [uid, gid, ...] read under procfs `procfd`; or -errno. */
  userns_maps(procfd: number): string[] | number;
  /** readlinkat(dirfd, path): the link's target, or -errno. */
  readlinkat(dirfd: number, path: string): string | number;
  /** The names in directory dirfd/path (no "." or ".."), or -errno. */
  readdirat(dirfd: number, path: string): string[] | number;
  /**
   * One process of the /proc walk in one call: [fd facts (fd, kind, inode, ...; kind an nsFiles index or -1 for a socket),
   * ns inodes (or -errno) per nsFiles name, status Name, euid, Threads (-1: unknown), cmdline] or -errno (see native/list.cc).
   */
  proc_scan(procfd: number, pid: number, nsFiles: readonly string[], threads?: false): RawProcScan | number;
  /** proc_scan of each pid, read on a libuv pool thread; `keep` (the owner of procfd) is held until it settles. */
  proc_scan_batch(
    procfd: number,
    pids: readonly number[],
    nsFiles: readonly string[],
    keep: object,
    mntIndex?: number,
    seenMnt?: readonly number[],
    skipKeys?: readonly string[],
  ): Promise<(RawProcScan | number)[]>;
  /** Its threads' namespaces: [tid, inode (or -errno) per nsFiles name..., tid, ...] or -errno. */
  proc_scan(procfd: number, pid: number, nsFiles: readonly string[], threads: true): number[] | number;
  /** A process-wide fd slot shared by all Workers: fd_slot(fd) keeps fd if empty; returns the slot (-1: empty). */
  fd_slot(fd: number): number;
  /** fsopen(fstype, flags | FSOPEN_CLOEXEC): a filesystem context fd, or -errno. */
  fsopen(fstype: string, flags: number): number;
  /** fsconfig(fd, cmd, key, value, aux): 0 or -errno. */
  fsconfig(fd: number, cmd: number, key: string | null, value: string | null, aux: number): number;
  /** fsmount(fd, flags | FSMOUNT_CLOEXEC, attrs): a detached mount's fd, or -errno. */
  fsmount(fd: number, flags: number, attrs: number): number;
  /** move_mount(from_dirfd, from_path, to_dirfd, to_path, flags): 0 or -errno. */
  move_mount(fromDirfd: number, fromPath: string, toDirfd: number, toPath: string, flags: number): number;
  // spawn (lib/spawn/wire.ts)
  /** The keys spawn_clone3 reads from its spec, exactly (native/spawn_wire.h). */
  spawn_spec_keys: readonly string[];
  /** True, or throws a TypeError naming a key of `spec` that spawn_clone3 does not read or one it misses. */
  spawn_spec_check(spec: object): true;
  /** The in-namespace ops' wire (native/inns.h): op ids, slot order, step names, bits. Frozen. */
  inns_wire: InnsWire;
  [more: string]: unknown;
}

/**
 * Each inns op's argument slots by name (native/inns.h). Their order, and
 * so the positions in the ints[] / strs[] arrays, comes from inns_wire.
 */
export interface InnsSlots {
  socket: { ints: 'domain' | 'type' | 'protocol' | 'sockopt'; strs: never };
  open: { ints: 'root' | 'flags' | 'mode' | 'resolve'; strs: 'path' };
  mkdir: { ints: 'root' | 'mode' | 'resolve' | 'recursive'; strs: 'path' };
  sethostname: { ints: never; strs: 'name' };
  fsmount: { ints: 'root' | 'attrs' | 'resolve'; strs: 'fstype' | 'target' };
  moveMount: { ints: 'tree' | 'root' | 'resolve'; strs: 'target' };
  makePrivate: { ints: 'root'; strs: never };
  setdomainname: { ints: never; strs: 'name' };
}
export type InnsOp = keyof InnsSlots;

export interface InnsWire {
  readonly ops: Readonly<Record<InnsOp, number>>;
  readonly slots: Readonly<Record<InnsOp, { readonly ints: readonly string[]; readonly strs: readonly string[] }>>;
  /** The syscall a failure happened in, by step number ('' for step 0: no failure). */
  readonly steps: readonly string[];
  /** inns_helper flags. */
  readonly helper: Readonly<{ becomeRoot: number; intoPidns: number; requireRoot: number }>;
  /** The socket op's sockopt slot: options set before the bind (v6Only / v6Dual: IPV6_V6ONLY 1 / 0). */
  readonly sockopt: Readonly<{ reuseAddr: number; v6Only: number; v6Dual: number; reusePort: number }>;
}

function load(): NativeBinding {
  if (process.platform !== 'linux') {
    throw new Error(`nsfd works only on Linux (this is ${process.platform})`);
  }
  const require = createRequire(__filename);
  // NSFD_NATIVE_PATH=/abs/path/nsfd.node loads that build instead (the
  // ASan/UBSan variant from scripts/sanitize.sh, for instance).
  const override = process.env.NSFD_NATIVE_PATH;
  if (override) return loadFrom(require, path.resolve(override));
  const root = packageRoot();
  // What node-gyp-build would pick first (a local build), without loading
  // it and its directory scans: ~1.5 ms of every CLI call.
  const local = path.join(root, 'build', 'Release', 'nsfd.node');
  if (fs.existsSync(local)) return loadFrom(require, local);
  const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
  return loadFrom(require, nodeGypBuild.path(root));
}

/** The file the addon was loaded from (addonDir()). */
let loadedFrom = '';

function loadFrom(require: NodeJS.Require, file: string): NativeBinding {
  const binding = require(file) as NativeBinding;
  loadedFrom = file;
  return binding;
}

/**
 * The package root, which holds binding.gyp, build/ and prebuilds/: the
 * nearest folder up with a package.json. This module runs from lib/sys/
 * (tests), dist/sys/, or bundled into dist/index.js and dist/cli/*.js
 * (scripts/bundle.ts), so the depth varies.
 */
function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.join(__dirname, '..', '..');
  }
}

export const native: NativeBinding = load();

/** The directory the addon was loaded from: nsfd-init is built beside it. */
export function addonDir(): string {
  return path.dirname(loadedFrom);
}
