// The child's fd table: options.stdio slots into [src, slot] pairs, with
// socketpairs for 'pipe' (our end kept) and /dev/null for 'ignore'.
import { E, NsError, invalidArg } from '../core/errors';
import { OwnedFd } from '../core/owned-fd';
import { AT_FDCWD, O_RDWR } from '../sys/constants';
import { native } from '../sys/native';
import type { SpawnOptions, StdioSlot } from './options';

/** Fds spawn() opened: closed once the child has its copies, or on failure. */
export interface OpenedFds {
  /** Fds to close once the child has its copies (child ends, /dev/null, cgroup dir). */
  temp: number[];
  /** Our ends of 'pipe' slots: [slot, fd]. */
  pipes: [number, number][];
}

export function closeAll(fds: number[]): void {
  for (const fd of fds) native.close(fd);
}

/** The fd a stream (fs stream, net.Socket, process.stdout...) reads or writes, if it has one. */
function streamFd(x: object): number | undefined {
  const s = x as { fd?: unknown; _handle?: { fd?: unknown } };
  if (typeof s.fd === 'number' && s.fd >= 0) return s.fd;
  if (s._handle && typeof s._handle.fd === 'number' && s._handle.fd >= 0) return s._handle.fd;
  return undefined;
}

/** options.stdio as one entry per slot, at least 0..2. */
export function stdioSlots(option: SpawnOptions['stdio']): readonly StdioSlot[] {
  let stdio: readonly StdioSlot[];
  if (option === undefined) stdio = ['pipe', 'pipe', 'pipe'];
  else if (typeof option === 'string') stdio = [option, option, option];
  else if (Array.isArray(option)) stdio = Array.from(option as readonly StdioSlot[]); // holes: undefined
  else throw invalidArg('options.stdio', '"pipe", "inherit", "ignore" or an array', option);
  while (stdio.length < 3) stdio = [...stdio, undefined];
  return stdio;
}

/** Opens what the slots need and returns the [src, slot] pairs; what it opens goes into `opened`. */
export function openStdio(stdio: readonly StdioSlot[], opened: OpenedFds): number[] {
  const pairs: number[] = [];
  let devnull = -1;
  stdio.forEach((slot, i) => {
    const kind = slot ?? (i < 3 ? 'pipe' : 'ignore');
    let src: number;
    if (kind === 'ignore') {
      if (i >= 3) return;
      if (devnull < 0) {
        devnull = native.openat(AT_FDCWD, '/dev/null', O_RDWR, 0);
        if (devnull < 0) throw new NsError(devnull, 'open', { path: '/dev/null' });
        opened.temp.push(devnull);
      }
      src = devnull;
    } else if (kind === 'pipe') {
      const sv = native.socketpair();
      if (typeof sv === 'number') throw new NsError(sv, 'socketpair');
      opened.pipes.push([i, sv[0]]);
      opened.temp.push(sv[1]);
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
    pairs.push(src, i);
  });
  return pairs;
}
