// A procfs that is provably this process's: every /proc read of the package
// goes through here. A pidfd recheck proves that a process is alive, not
// that /proc/PID is that process: /proc may be another pid namespace's
// procfs (`unshare -p -f` without --mount-proc) or something else mounted
// over /proc. So /proc is used only after it proved to be a procfs that
// shows this process as itself; otherwise a private procfs instance of our
// own (fsopen("proc"), as runc's libpathrs does) takes its place. Either is
// held by an fd opened once, so a later mount over /proc changes nothing,
// and files are opened under it without crossing mounts (RESOLVE_NO_XDEV)
// where the kernel has openat2.
import * as fs from 'node:fs';

import { E, NsError } from './errors';
import { native } from '../sys/native';
import {
  AT_FDCWD,
  FSCONFIG_CMD_CREATE,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  O_DIRECTORY,
  O_NOCTTY,
  O_PATH,
  O_RDONLY,
  PROC_SUPER_MAGIC,
  RESOLVE_NO_XDEV,
} from '../sys/constants';

export interface Procfs {
  /** O_PATH directory fd of the procfs root (never closed: it lives as long as the process). */
  readonly fd: number;
  /** Where it came from: the /proc mount, or a private instance. */
  readonly source: 'proc' | 'private';
}

let cached: Procfs | undefined;
// openat2 with RESOLVE_NO_XDEV works here (undefined: not tried yet).
let noXdev: boolean | undefined;

/** Why a procfs held by fd is not ours, or undefined when it is. */
export function procfsProblem(fd: number): string | undefined {
  if (native.fstatfs_type(fd) !== PROC_SUPER_MAGIC) return 'it is not a procfs (something is mounted over /proc)';
  // NSpid lists our pid in each pid namespace from the procfs's own down to
  // ours: exactly one entry, our pid, means the procfs is our pid namespace's.
  const status = readAt(fd, 'self/status');
  if (status === undefined) return 'it has no /proc/self: it belongs to a pid namespace this process is not in';
  const nspid = /^NSpid:\s*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
  if (nspid.length !== 1 || Number(nspid[0]) !== process.pid) {
    return `its /proc/self is pid ${nspid[0] ?? '?'} there, not ${process.pid} (NSpid ${nspid.join(' ') || 'missing'}): it belongs to another pid namespace`;
  }
  return undefined;
}

/**
 * The package's procfs: /proc once verified, else a private instance. One
 * per process, shared with Workers through a native slot, so a Worker that
 * loads nsfd does not hold an fd of its own.
 */
export function ownProcfs(): Procfs {
  if (cached !== undefined) return cached;
  const held = native.fd_slot(-1);
  if (held >= 0) {
    cached = { fd: held, source: native.fstatfs_type(held) === PROC_SUPER_MAGIC && isProcMount(held) ? 'proc' : 'private' };
    return cached;
  }
  cached = keep(verifiedProcfs());
  return cached;
}

/** Puts our procfs into the process-wide slot; another Worker's wins a race. */
function keep(p: Procfs): Procfs {
  const held = native.fd_slot(p.fd);
  if (held === p.fd) return p;
  native.close(p.fd);
  return { fd: held, source: p.source };
}

/** Whether fd is the /proc mount (not a private instance): the same device and inode. */
function isProcMount(fd: number): boolean {
  const a = native.fstat(fd);
  const proc = native.openat(AT_FDCWD, '/proc', O_PATH | O_DIRECTORY, 0);
  if (proc < 0) return false;
  try {
    const b = native.fstat(proc);
    return typeof a !== 'number' && typeof b !== 'number' && a[0] === b[0] && a[1] === b[1];
  } finally {
    native.close(proc);
  }
}

function verifiedProcfs(): Procfs {
  const fd = native.openat(AT_FDCWD, '/proc', O_PATH | O_DIRECTORY, 0);
  let problem = fd < 0 ? `it cannot be opened (${fd})` : procfsProblem(fd);
  if (problem === undefined) return { fd, source: 'proc' };
  if (fd >= 0) native.close(fd);
  const own = privateProcfs();
  if (own < 0) {
    throw new NsError(own, 'fsopen', {
      path: '/proc',
      hint: `/proc cannot be trusted: ${problem}; and a private procfs needs CAP_SYS_ADMIN over this pid namespace. Mount a procfs of this pid namespace on /proc`,
    });
  }
  problem = procfsProblem(own);
  if (problem !== undefined) {
    native.close(own);
    throw new NsError(-E.EXDEV, 'fsmount', { path: '/proc', hint: `a private procfs is not ours either: ${problem}` });
  }
  return { fd: own, source: 'private' };
}

/** A detached procfs mount of our pid namespace, or -errno. */
function privateProcfs(): number {
  const ctx = native.fsopen('proc', 0);
  if (ctx < 0) return ctx;
  try {
    const r = native.fsconfig(ctx, FSCONFIG_CMD_CREATE, null, null, 0);
    if (r < 0) return r;
    return native.fsmount(ctx, 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  } finally {
    native.close(ctx);
  }
}

/**
 * Opens `rel` (such as "1234/status") under the procfs held by `dirfd`, with
 * O_CLOEXEC and O_NOCTTY, not following a mount over it where openat2 can
 * refuse that. Magic links (ns/*, fd/*) need `crossMounts`: their targets
 * live on other filesystems. Returns the fd or -errno.
 */
export function openAt(dirfd: number, rel: string, flags = O_RDONLY, crossMounts = false): number {
  if (!crossMounts && noXdev !== false) {
    const r = native.openat2(dirfd, rel, flags | O_NOCTTY, 0, RESOLVE_NO_XDEV);
    if (r !== -E.ENOSYS) {
      noXdev = true;
      return r;
    }
    noXdev = false;
  }
  return native.openat(dirfd, rel, flags | O_NOCTTY, 0);
}

/** The text of dirfd/rel, or undefined when it cannot be opened or read (the process is gone). */
function readAt(dirfd: number, rel: string, encoding: BufferEncoding = 'latin1'): string | undefined {
  const fd = openAt(dirfd, rel);
  if (fd < 0) return undefined;
  try {
    // (A procfs file has size 0: readFileSync reads it to EOF.)
    return fs.readFileSync(fd, encoding);
  } catch {
    return undefined;
  } finally {
    native.close(fd);
  }
}

/** Opens /proc/`rel` in our procfs (fd or -errno). */
export function procOpen(rel: string, flags = O_RDONLY, crossMounts = false): number {
  return openAt(ownProcfs().fd, rel, flags, crossMounts);
}

/** The text of /proc/`rel` in our procfs, or undefined when it is gone or unreadable. */
export function procRead(rel: string, encoding: BufferEncoding = 'latin1'): string | undefined {
  return readAt(ownProcfs().fd, rel, encoding);
}

/**
 * The fields of /proc/PID/stat from the state on (index 0 is field 3,
 * "state"), read through our procfs; undefined when the process is gone.
 * Counted after the last ")": the command name may hold spaces and parens.
 */
export function procStatFields(pid: number | 'self'): string[] | undefined {
  const s = procRead(`${pid}/stat`);
  return s === undefined ? undefined : s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** A process's start time (field 22, clock ticks since boot): with the pid, it names one process for good. */
export function procStartTime(pid: number | 'self'): string | undefined {
  return procStatFields(pid)?.[19];
}

/** readlink of /proc/`rel` in our procfs: the target, or -errno. */
export function procReadlink(rel: string): string | number {
  return native.readlinkat(ownProcfs().fd, rel);
}

/** The names in /proc/`rel` of our procfs, or -errno. */
export function procReaddir(rel: string): string[] | number {
  return native.readdirat(ownProcfs().fd, rel === '' ? '.' : rel);
}

/** The pids in our procfs (its numeric entries), in readdir order. */
export function procPids(): number[] {
  const names = procReaddir('');
  if (typeof names === 'number') throw new NsError(names, 'open', { path: '/proc' });
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

// Absolute paths, for code that takes either kind: a path under /proc/
// names a file of our procfs (magic links followed), any other path is
// opened as it is.
const PROC = '/proc/';

/** openat of an absolute path (-errno on failure); /proc/... through our procfs. */
export function openPath(path: string, flags: number): number {
  if (path.startsWith(PROC)) return procOpen(path.slice(PROC.length), flags, true);
  return native.openat(AT_FDCWD, path, flags | O_NOCTTY, 0);
}

/** readlink of an absolute path (-errno on failure); /proc/... through our procfs. */
export function readlinkPath(path: string): string | number {
  return path.startsWith(PROC) ? procReadlink(path.slice(PROC.length)) : native.readlink(path);
}

/** The names in a directory (-errno on failure); /proc/... through our procfs. */
export function readdirPath(path: string): string[] | number {
  if (path === '/proc') return procReaddir('');
  return path.startsWith(PROC) ? procReaddir(path.slice(PROC.length)) : native.readdirat(AT_FDCWD, path);
}

// Opened at load, so the fd exists before anyone counts fds (tests do) and
// before a later mount over /proc could matter; a failure is reported at
// the first use instead.
try {
  ownProcfs();
} catch {
  // ownProcfs() throws again, with the reason, when it is needed.
}
