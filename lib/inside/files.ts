// Files under the target's root: openIn, readFileIn, writeFileIn, mkdirIn,
// and openFlags (fs.open-style flag strings to O_* bits). Paths are
// resolved with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) under the
// root of the target process (/proc/PID/root) or, for a bare mount
// Namespace, the root of that namespace (joined by the helper): symlinks
// and ".." are clamped at that root; magic links are refused.
import * as buffer from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { E, NsError, check, checkOptionKeys, checkString, invalidArg, invalidValue, optionKeys, outOfRange } from '../core/errors';
import { OwnedFd } from '../core/owned-fd';
import { O_NOCTTY, O_NONBLOCK, O_PATH, O_TMPFILE } from '../sys/constants';
import { native } from '../sys/native';
import { throwRaw } from './failure';
import { InTarget, pidOf } from './target';
import { RESOLVE, runUnderRoot } from './vehicle';
import { opCall } from './wire';

/** The option names the checks below know: any other is a typo (checkOptionKeys). */
const READ_FILE_IN_KEYS = optionKeys<ReadFileInOptions>({ encoding: true, flag: true, maxSize: true });
const WRITE_FILE_IN_KEYS = optionKeys<WriteFileInOptions>({ encoding: true, mode: true, flag: true });
const MKDIR_IN_KEYS = optionKeys<MkdirInOptions>({ recursive: true, mode: true });

/** open flags: fs-style strings ('r', 'w', 'a+'...) or a number of O_* bits. */
export type OpenFlags = string | number;

const C = fs.constants;
const FLAG_STRINGS = new Map<string, number>([
  ['r', C.O_RDONLY],
  ['rs', C.O_RDONLY | C.O_SYNC],
  ['sr', C.O_RDONLY | C.O_SYNC],
  ['r+', C.O_RDWR],
  ['rs+', C.O_RDWR | C.O_SYNC],
  ['sr+', C.O_RDWR | C.O_SYNC],
  ['w', C.O_TRUNC | C.O_CREAT | C.O_WRONLY],
  ['wx', C.O_TRUNC | C.O_CREAT | C.O_WRONLY | C.O_EXCL],
  ['xw', C.O_TRUNC | C.O_CREAT | C.O_WRONLY | C.O_EXCL],
  ['w+', C.O_TRUNC | C.O_CREAT | C.O_RDWR],
  ['wx+', C.O_TRUNC | C.O_CREAT | C.O_RDWR | C.O_EXCL],
  ['xw+', C.O_TRUNC | C.O_CREAT | C.O_RDWR | C.O_EXCL],
  ['a', C.O_APPEND | C.O_CREAT | C.O_WRONLY],
  ['ax', C.O_APPEND | C.O_CREAT | C.O_WRONLY | C.O_EXCL],
  ['xa', C.O_APPEND | C.O_CREAT | C.O_WRONLY | C.O_EXCL],
  ['as', C.O_APPEND | C.O_CREAT | C.O_WRONLY | C.O_SYNC],
  ['sa', C.O_APPEND | C.O_CREAT | C.O_WRONLY | C.O_SYNC],
  ['a+', C.O_APPEND | C.O_CREAT | C.O_RDWR],
  ['ax+', C.O_APPEND | C.O_CREAT | C.O_RDWR | C.O_EXCL],
  ['xa+', C.O_APPEND | C.O_CREAT | C.O_RDWR | C.O_EXCL],
  ['as+', C.O_APPEND | C.O_CREAT | C.O_RDWR | C.O_SYNC],
  ['sa+', C.O_APPEND | C.O_CREAT | C.O_RDWR | C.O_SYNC],
]);

/** fs.open-style flags ('r', 'w', 'a+', ... or a number) to O_* bits. */
export function openFlags(flags: OpenFlags): number {
  if (typeof flags === 'number') {
    if (!Number.isInteger(flags) || flags < 0 || flags > 0x7fffffff) throw outOfRange('flags', 'a non-negative 32-bit integer', flags);
    return flags;
  }
  if (typeof flags === 'string') {
    const f = FLAG_STRINGS.get(flags);
    if (f !== undefined) return f;
    throw invalidValue('flags', "is invalid (use 'r', 'r+', 'w', 'wx', 'w+', 'a', 'a+', ... or a number)", flags);
  }
  throw invalidArg('flags', 'a string or a number', flags);
}

function checkMode(m: unknown, name = 'mode'): number {
  if (typeof m === 'string' && /^[0-7]+$/.test(m)) return parseInt(m, 8);
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 0 || m > 0o7777) throw outOfRange(name, 'an integer >= 0 and <= 0o7777', m);
  return m;
}

/**
 * A file opened in the target's mount namespace, resolved under its root
 * with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): absolute symlinks,
 * "..", and races with renames can never reach outside that root, and magic
 * links (/proc/self/root, /proc/PID/fd/N) are refused (ELOOP). Relative
 * paths start at the root too. O_CLOEXEC always, and O_NOCTTY (a tty the
 * target points the path at never becomes our controlling terminal).
 *
 * The open itself never blocks: it is made with O_NONBLOCK, so a FIFO the
 * target planted (or a device whose open waits) cannot stall the event
 * loop's thread. Regular files and directories come back without
 * O_NONBLOCK (unless asked for); anything else (a FIFO, a socket, a
 * device) keeps it: reads and writes return EAGAIN rather than block. A
 * FIFO opened for writing with no reader fails at once with ENXIO.
 *
 *   const f = openIn(pidfd, '/etc/hostname');
 *   fs.readFileSync(f.fd, 'utf8'); f.close();
 *   fs.createReadStream('', { fd: f.release() });   // the stream now owns it
 */
export function openIn(target: InTarget, file: string, flags: OpenFlags = 'r', mode: number = 0o666): OwnedFd {
  return openChecked(target, file, flags, mode).fd;
}

/** openIn, and the file type (S_IFMT bits) it found; undefined for O_PATH. */
function openChecked(target: InTarget, file: string, flags: OpenFlags, mode: number): { fd: OwnedFd; type: number | undefined } {
  checkString(file, 'path');
  const f = openFlags(flags);
  const m = checkMode(mode);
  // openat2 rejects a mode unless the call can create a file.
  const creates = (f & C.O_CREAT) !== 0 || (f & O_TMPFILE) === O_TMPFILE;
  // O_PATH opens neither block nor acquire a terminal (and openat2 refuses
  // O_NOCTTY and O_NONBLOCK beside it). Otherwise O_NOCTTY always (the far
  // side adds it too), and O_NONBLOCK for the open itself.
  const pathOnly = (f & O_PATH) !== 0;
  const extra = pathOnly ? 0 : O_NOCTTY | O_NONBLOCK;
  const call = opCall('open', { flags: f | extra, mode: creates ? m : 0, resolve: RESOLVE }, { path: file });
  const r = runUnderRoot(target, call, 'openIn');
  if (r[0] < 0) throwRaw(r, { path: file, pid: pidOf(target) }, OPEN_HINTS);
  const fd = new OwnedFd(r[0]);
  if (pathOnly) return { fd, type: undefined };
  try {
    const st = native.fstat(fd.fd);
    if (typeof st === 'number') throw new NsError(st, 'fstat', { path: file, pid: pidOf(target) });
    const type = st[2] & C.S_IFMT;
    if ((f & O_NONBLOCK) === 0 && (type === C.S_IFREG || type === C.S_IFDIR)) {
      const fl = native.fcntl_getfl(fd.fd);
      check(fl, 'fcntl', { path: file, pid: pidOf(target) });
      check(native.fcntl_setfl(fd.fd, fl & ~O_NONBLOCK), 'fcntl', { path: file, pid: pidOf(target) });
    }
    return { fd, type };
  } catch (err) {
    fd.close();
    throw err;
  }
}

const OPEN_HINTS = {
  [`openat2:${E.ENXIO}`]: 'a FIFO with no reader (opened without blocking, so it fails rather than wait) or a device with nothing behind it',
};

const TYPE_NAMES = new Map<number, string>([
  [C.S_IFIFO, 'a FIFO'],
  [C.S_IFCHR, 'a character device'],
  [C.S_IFBLK, 'a block device'],
  [C.S_IFSOCK, 'a socket'],
  [C.S_IFLNK, 'a symbolic link'],
]);

/** openIn for readFileIn / writeFileIn: a regular file, else EISDIR / EINVAL (closed). */
function openRegular(target: InTarget, file: string, flags: OpenFlags, mode: number, op: string): OwnedFd {
  const { fd, type } = openChecked(target, file, flags, mode);
  if (type === C.S_IFREG) return fd;
  fd.close();
  if (type === C.S_IFDIR) throw new NsError(-E.EISDIR, 'open', { path: file, pid: pidOf(target), hint: `${op} reads and writes regular files only` });
  const what = (type !== undefined && TYPE_NAMES.get(type)) || 'not a file that can be read whole';
  throw new NsError(-E.EINVAL, 'open', { path: file, pid: pidOf(target), hint: `not a regular file (${what}): ${op} works on regular files only; openIn opens others` });
}

/** readFileIn's default bound on what it reads. */
const READ_FILE_IN_MAX_SIZE = 64 * 1024 * 1024;

/** Options of readFileIn(). */
export interface ReadFileInOptions {
  encoding?: BufferEncoding | null | undefined;
  flag?: OpenFlags | undefined;
  /** The most bytes read (default 64 MiB); a larger file is a RangeError ERR_FS_FILE_TOO_LARGE. */
  maxSize?: number | undefined;
}

/**
 * openIn + read the whole file: a string with an encoding, else a Buffer.
 * Regular files only (a FIFO or device is an EINVAL NsError, a directory
 * EISDIR), and at most `maxSize` bytes: the bound is checked while reading,
 * so a file that grows under us fails too.
 */
export function readFileIn(target: InTarget, file: string, options: BufferEncoding | (ReadFileInOptions & { encoding: BufferEncoding })): string;
export function readFileIn(target: InTarget, file: string, options?: ReadFileInOptions): string | Buffer;
export function readFileIn(target: InTarget, file: string, options: BufferEncoding | ReadFileInOptions = {}): string | Buffer {
  const o: ReadFileInOptions = typeof options === 'string' ? { encoding: options } : options;
  if (o === null || typeof o !== 'object') throw invalidArg('options', 'an object or an encoding', options);
  checkOptionKeys(o, READ_FILE_IN_KEYS);
  const max = o.maxSize ?? READ_FILE_IN_MAX_SIZE;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0 || max > buffer.constants.MAX_LENGTH) {
    throw outOfRange('options.maxSize', `an integer >= 0 and <= ${buffer.constants.MAX_LENGTH}`, max);
  }
  using fd = openRegular(target, file, o.flag ?? 'r', 0o666, 'readFileIn');
  const data = readBounded(fd.fd, max, file);
  return o.encoding ? data.toString(o.encoding) : data;
}

/** Reads fd to its end, never more than max + 1 bytes. */
function readBounded(fd: number, max: number, file: string): Buffer {
  const size = fs.fstatSync(fd).size;
  if (size > max) throw tooLarge(file, size, max);
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const want = Math.min(Math.max(size - total, 0) + 1, 1 << 20, max + 1 - total);
    const b = Buffer.allocUnsafe(Math.max(want, 1));
    const n = fs.readSync(fd, b, 0, b.length, null);
    if (n === 0) break;
    total += n;
    if (total > max) throw tooLarge(file, total, max);
    chunks.push(n === b.length ? b : b.subarray(0, n));
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

function tooLarge(file: string, size: number, max: number): RangeError {
  const err = new RangeError(`File size (${size} bytes or more) is greater than maxSize (${max} bytes): '${file}'`);
  (err as RangeError & { code: string }).code = 'ERR_FS_FILE_TOO_LARGE';
  return err;
}

/** Options of writeFileIn(). */
export interface WriteFileInOptions {
  encoding?: BufferEncoding | undefined;
  mode?: number | undefined;
  flag?: OpenFlags | undefined;
}

/**
 * openIn (default flag 'w', mode 0o666 before umask) + write all of `data`.
 * Regular files only: a FIFO or device is an EINVAL NsError (a FIFO with
 * no reader ENXIO), nothing written.
 */
export function writeFileIn(
  target: InTarget,
  file: string,
  data: string | NodeJS.ArrayBufferView,
  options: BufferEncoding | WriteFileInOptions = {},
): void {
  const o: WriteFileInOptions = typeof options === 'string' ? { encoding: options } : options;
  if (o === null || typeof o !== 'object') throw invalidArg('options', 'an object or an encoding', options);
  checkOptionKeys(o, WRITE_FILE_IN_KEYS);
  if (typeof data !== 'string' && !ArrayBuffer.isView(data)) throw invalidArg('data', 'a string, Buffer, TypedArray or DataView', data);
  using fd = openRegular(target, file, o.flag ?? 'w', o.mode ?? 0o666, 'writeFileIn');
  fs.writeFileSync(fd.fd, data, o.encoding === undefined ? {} : { encoding: o.encoding });
}

/** Options of mkdirIn(). */
export interface MkdirInOptions {
  /** Create missing parents; an existing directory is not an error. */
  recursive?: boolean | undefined;
  /** Default 0o777 (before umask). */
  mode?: number | undefined;
}

/**
 * mkdir under the target's root. The parent is resolved with openat2
 * (RESOLVE_IN_ROOT) and the directory made with mkdirat(parentfd, name), so
 * a symlinked parent can never place it outside the root. ".." in `dir` is
 * resolved lexically, as fs.mkdir does.
 */
export function mkdirIn(target: InTarget, dir: string, options: MkdirInOptions | number = {}): void {
  checkString(dir, 'dir');
  const o: MkdirInOptions = typeof options === 'number' ? { mode: options } : options;
  if (o === null || typeof o !== 'object') throw invalidArg('options', 'an object or a mode', options);
  checkOptionKeys(o, MKDIR_IN_KEYS);
  const norm = path.posix.normalize('/' + dir).replace(/\/+$/, '');
  if (norm === '' || norm === '/') {
    if (o.recursive) return;
    throw new NsError(-E.EEXIST, 'mkdirat', { path: dir, hint: 'the root always exists' });
  }
  const call = opCall('mkdir', { mode: checkMode(o.mode ?? 0o777), resolve: RESOLVE, recursive: o.recursive ? 1 : 0 }, { path: norm });
  const r = runUnderRoot(target, call, 'mkdirIn');
  if (r[0] < 0) throwRaw(r, { path: dir, pid: pidOf(target) });
}
