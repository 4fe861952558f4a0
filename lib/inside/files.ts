// Files under the target's root: openIn, readFileIn, writeFileIn, mkdirIn,
// and openFlags (fs.open-style flag strings to O_* bits). Paths are
// resolved with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) under the
// root of the target process (/proc/PID/root) or, for a bare mount
// Namespace, the root of that namespace (joined by the helper): symlinks
// and ".." are clamped at that root; magic links are refused.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { E, NsError, invalidArg, invalidValue, outOfRange } from '../core/errors';
import { OwnedFd } from '../core/owned-fd';
import { O_NOCTTY, O_PATH, O_TMPFILE } from '../sys/constants';
import { throwRaw } from './failure';
import { InTarget, pidOf } from './target';
import { RESOLVE, runUnderRoot } from './vehicle';
import { opCall } from './wire';

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

export function checkPath(p: unknown, name = 'path'): string {
  if (typeof p !== 'string' || p === '') throw invalidArg(name, 'a non-empty string', p);
  if (p.includes('\0')) throw invalidValue(name, 'must not contain null bytes', p);
  return p;
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
 *   const f = openIn(pidfd, '/etc/hostname');
 *   fs.readFileSync(f.fd, 'utf8'); f.close();
 *   fs.createReadStream('', { fd: f.release() });   // the stream now owns it
 */
export function openIn(target: InTarget, file: string, flags: OpenFlags = 'r', mode: number = 0o666): OwnedFd {
  checkPath(file);
  const f = openFlags(flags);
  const m = checkMode(mode);
  // openat2 rejects a mode unless the call can create a file.
  const creates = (f & C.O_CREAT) !== 0 || (f & O_TMPFILE) === O_TMPFILE;
  // O_NOCTTY always (the far side adds it too): a path the target points
  // at a tty never becomes our controlling terminal. (openat2 refuses it
  // beside O_PATH, which never acquires one.)
  const noctty = (f & O_PATH) !== 0 ? 0 : O_NOCTTY;
  const call = opCall('open', { flags: f | noctty, mode: creates ? m : 0, resolve: RESOLVE }, { path: file });
  const r = runUnderRoot(target, call, 'openIn');
  if (r[0] < 0) throwRaw(r, { path: file, pid: pidOf(target) });
  return new OwnedFd(r[0]);
}

export interface ReadFileInOptions {
  encoding?: BufferEncoding | null;
  flag?: OpenFlags;
}

/** openIn + read the whole file: a string with an encoding, else a Buffer. */
export function readFileIn(target: InTarget, file: string, options: BufferEncoding | (ReadFileInOptions & { encoding: BufferEncoding })): string;
export function readFileIn(target: InTarget, file: string, options?: ReadFileInOptions): string | Buffer;
export function readFileIn(target: InTarget, file: string, options: BufferEncoding | ReadFileInOptions = {}): string | Buffer {
  const o: ReadFileInOptions = typeof options === 'string' ? { encoding: options } : options;
  if (o === null || typeof o !== 'object') throw invalidArg('options', 'an object or an encoding', options);
  using fd = openIn(target, file, o.flag ?? 'r');
  const data = fs.readFileSync(fd.fd);
  return o.encoding ? data.toString(o.encoding) : data;
}

export interface WriteFileInOptions {
  encoding?: BufferEncoding;
  mode?: number;
  flag?: OpenFlags;
}

/** openIn (default flag 'w', mode 0o666 before umask) + write all of `data`. */
export function writeFileIn(
  target: InTarget,
  file: string,
  data: string | NodeJS.ArrayBufferView,
  options: BufferEncoding | WriteFileInOptions = {},
): void {
  const o: WriteFileInOptions = typeof options === 'string' ? { encoding: options } : options;
  if (o === null || typeof o !== 'object') throw invalidArg('options', 'an object or an encoding', options);
  if (typeof data !== 'string' && !ArrayBuffer.isView(data)) throw invalidArg('data', 'a string, Buffer, TypedArray or DataView', data);
  using fd = openIn(target, file, o.flag ?? 'w', o.mode ?? 0o666);
  fs.writeFileSync(fd.fd, data, o.encoding === undefined ? {} : { encoding: o.encoding });
}

export interface MkdirInOptions {
  /** Create missing parents; an existing directory is not an error. */
  recursive?: boolean;
  /** Default 0o777 (before umask). */
  mode?: number;
}

/**
 * mkdir under the target's root. The parent is resolved with openat2
 * (RESOLVE_IN_ROOT) and the directory made with mkdirat(parentfd, name), so
 * a symlinked parent can never place it outside the root. ".." in `dir` is
 * resolved lexically, as fs.mkdir does.
 */
export function mkdirIn(target: InTarget, dir: string, options: MkdirInOptions | number = {}): void {
  checkPath(dir, 'dir');
  const o: MkdirInOptions = typeof options === 'number' ? { mode: options } : options;
  if (o === null || typeof o !== 'object') throw invalidArg('options', 'an object or a mode', options);
  const norm = path.posix.normalize('/' + dir).replace(/\/+$/, '');
  if (norm === '' || norm === '/') {
    if (o.recursive) return;
    throw new NsError(-E.EEXIST, 'mkdirat', { path: dir, hint: 'the root always exists' });
  }
  const call = opCall('mkdir', { mode: checkMode(o.mode ?? 0o777), resolve: RESOLVE, recursive: o.recursive ? 1 : 0 }, { path: norm });
  const r = runUnderRoot(target, call, 'mkdirIn');
  if (r[0] < 0) throwRaw(r, { path: dir, pid: pidOf(target) });
}
