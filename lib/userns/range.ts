// Host id ranges for the user namespaces of root's containers (userns
// 'auto'): 65536 uids and gids that nothing else on the machine uses, held
// while the container lives.
//
// As systemd-nspawn -U picks one (uid_shift_pick): bases multiple of 65536
// between 0x80000 and 0x6fff0000, a lock file per base under
// /run/nsfd/userns/ held with flock(LOCK_EX | LOCK_NB) by the owner. The
// kernel drops the lock when the fd closes or the process dies, so a
// crashed Node leaves no stale lock (at worst an unlocked file, which the
// next taker of that base reuses and removes), and two Node processes can
// never take the same base. The owner removes its file before it lets go;
// a taker that locked a file removed meanwhile (opened before the removal,
// locked after it) sees that the name no longer leads to its file and
// tries again, as with any lock file deleted on release. A lock only
// speaks for nsfd, so before taking one the ranges in use by anyone are
// read too: the uid_map and gid_map of every user namespace a process is
// in (podman, nspawn, a container of ours whose handle was closed without
// killing it), /etc/subuid and /etc/subgid (rootless podman users'
// ranges), and the ids of /etc/passwd and /etc/group (nspawn checks
// those). The scan is a snapshot: a tool that allocates without our lock
// and starts after it can still collide (none of them shares a protocol
// for it); the lock closes the race among nsfd users.
import * as fs from 'node:fs';
import { randomInt } from 'node:crypto';

import { E, NsError } from '../core/errors';
import { OwnedFd } from '../core/owned-fd';
import { ownProcfs } from '../core/procfs';
import { AT_FDCWD, LOCK_EX, LOCK_NB, O_CREAT, O_NOFOLLOW, O_RDWR } from '../sys/constants';
import { native } from '../sys/native';

/** Ids per range: uid 0 to 65535 inside, as nspawn -U and podman's auto give. */
export const USERNS_RANGE_SIZE = 2 ** 16;
/** The lowest and highest base (nspawn's UID_SHIFT_PICK_MIN/MAX: above the 16-bit ids and the usual subuid ranges, below systemd's dynamic and container-uid ranges). */
export const USERNS_RANGE_MIN = 0x80000;
export const USERNS_RANGE_MAX = 0x6fff0000;
/** Where the lock files are (one per base in use, removed by its owner on release). */
export const USERNS_LOCK_DIR = '/run/nsfd/userns';

/** A half-open interval [start, end) of host ids. */
type Interval = readonly [number, number];

/**
 * A range of host ids held for one user namespace: the owner's lock on it
 * lasts until close() (or the process's death).
 */
export class IdRange implements Disposable {
  /** The first host id: uid and gid 0 inside. */
  readonly base: number;
  readonly count: number;
  #lock: OwnedFd | undefined;
  readonly #file: string;

  /** @internal */
  constructor(base: number, count: number, lock: OwnedFd, file: string) {
    this.base = base;
    this.count = count;
    this.#lock = lock;
    this.#file = file;
  }

  /** The id map of the range: 0..count-1 inside on base.. outside (for uidMap and gidMap). */
  get map(): { inside: number; outside: number; count: number }[] {
    return [{ inside: 0, outside: this.base, count: this.count }];
  }

  /** Whether host id `id` is in the range. */
  has(id: number): boolean {
    return id >= this.base && id < this.base + this.count;
  }

  /** Whether the lock is still held. */
  get held(): boolean {
    return this.#lock !== undefined && !this.#lock.closed;
  }

  /** Releases the range: removes its lock file, then closes it (the lock goes with the fd). Idempotent. */
  close(): void {
    if (this.#lock === undefined) return;
    // Removed while still locked: nobody else can hold it meanwhile, and a
    // taker that opened it before the removal finds it gone (tryLock).
    try {
      fs.unlinkSync(this.#file);
    } catch {
      // (Removed by hand: the lock still ends with the close.)
    }
    this.#lock.close();
    this.#lock = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Intervals of an id map's text ("inside outside count" per line): the outside ids, as seen from our user namespace. */
function mapIntervals(text: string, out: Interval[]): void {
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    const outside = Number(f[1]);
    const count = Number(f[2]);
    // An identity map of (nearly) every id (systemd's PrivateUsers=full)
    // reserves nothing: its processes use host ids as they are.
    if (!Number.isSafeInteger(outside) || !Number.isSafeInteger(count) || count > 2 ** 31) continue;
    out.push([outside, outside + count]);
  }
}

/** Intervals of /etc/subuid-style lines ("name:start:count"). */
export function subidIntervals(text: string): Interval[] {
  const out: Interval[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3) continue;
    const start = Number(f[1]);
    const count = Number(f[2]);
    if (Number.isSafeInteger(start) && Number.isSafeInteger(count) && count > 0) out.push([start, start + count]);
  }
  return out;
}

/** The ids of /etc/passwd or /etc/group text (third field), one-id intervals. */
function databaseIds(text: string): Interval[] {
  const out: Interval[] = [];
  for (const line of text.split('\n')) {
    const id = Number(line.split(':')[2]);
    if (Number.isSafeInteger(id) && id >= USERNS_RANGE_MIN) out.push([id, id + 1]);
  }
  return out;
}

const parsed = new Map<string, { stamp: string; intervals: Interval[] }>();

/**
 * @internal The intervals of a file, parsed again only when its identity,
 * size or times moved: a stat instead of a read and parse on every
 * allocation (~60 us for the four files). Tools replace these files by
 * rename (useradd, usermod, vipw), which the inode shows; an edit in place
 * changes ctime and mtime (but two same-size edits within one tick of a
 * filesystem's coarse clock would look alike). A missing file gives no
 * interval. Exported for its test.
 */
export function fileIntervals(file: string, parse: (text: string) => Interval[]): Interval[] {
  let stamp: string;
  try {
    const st = fs.statSync(file, { bigint: true });
    stamp = `${st.dev}:${st.ino}:${st.size}:${st.ctimeNs}:${st.mtimeNs}`;
  } catch {
    parsed.delete(file);
    return [];  // no such file: no range given out
  }
  const hit = parsed.get(file);
  if (hit?.stamp === stamp) return hit.intervals;
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch {
    return [];
  }
  const intervals = parse(text);
  parsed.set(file, { stamp, intervals });
  return intervals;
}

const ETC_FILES: readonly [string, (text: string) => Interval[]][] = [
  ['/etc/subuid', subidIntervals],
  ['/etc/subgid', subidIntervals],
  ['/etc/passwd', databaseIds],
  ['/etc/group', databaseIds],
];

/**
 * Host ids in use now, sorted: the maps of every user namespace but ours
 * that a process is in (each namespace read once, through our procfs),
 * subordinate id ranges, and user and group database ids.
 */
export function idsInUse(): Interval[] {
  const out: Interval[] = [];
  // The /proc walk is native (one call, ~80 us for ~80 processes here,
  // against ~220 us of per-file calls from JS).
  const maps = native.userns_maps(ownProcfs().fd);
  if (typeof maps === 'number') throw new NsError(maps, 'readlink', { path: '/proc/self/ns/user' });
  for (const text of maps) mapIntervals(text, out);
  // (A loop, not push(...): a user database can hold more ids than a call takes arguments.)
  for (const [file, parse] of ETC_FILES) for (const iv of fileIntervals(file, parse)) out.push(iv);
  return out.sort((a, b) => a[0] - b[0]);
}

function overlaps(busy: readonly Interval[], start: number, end: number): boolean {
  return busy.some(([s, e]) => s < end && start < e);
}

/** Takes the lock of `base`, or returns undefined when another process holds it. */
function tryLock(base: number): OwnedFd | undefined {
  const file = `${USERNS_LOCK_DIR}/${base}`;
  // (A retry per owner that released the base between our open and our
  // lock: a handful at most, however busy the machine.)
  for (let attempt = 0; attempt < 8; attempt++) {
    const fd = native.openat(AT_FDCWD, file, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600);
    if (fd < 0) throw new NsError(fd, 'open', { path: file, hint: 'the lock file of a user namespace id range' });
    const lock = new OwnedFd(fd);
    const r = native.flock(fd, LOCK_EX | LOCK_NB);
    if (r !== 0) {
      lock.close();
      if (r === -E.EWOULDBLOCK || r === -E.EAGAIN) return undefined;
      throw new NsError(r, 'flock', { path: file });
    }
    if (namesFile(file, fd)) return lock;
    // Locked a file its owner removed on release: the base's lock is
    // whatever the name leads to now.
    lock.close();
  }
  return undefined;
}

/** @internal The range at `base`, locked; undefined when another process holds it. */
export function lockIdRangeAt(base: number): IdRange | undefined {
  const lock = tryLock(base);
  return lock === undefined ? undefined : new IdRange(base, USERNS_RANGE_SIZE, lock, `${USERNS_LOCK_DIR}/${base}`);
}

/** Whether `file` is still the name of the open file `fd`. */
function namesFile(file: string, fd: number): boolean {
  try {
    const byName = fs.lstatSync(file, { bigint: true });
    const ours = fs.fstatSync(fd, { bigint: true });
    return byName.ino === ours.ino && byName.dev === ours.dev;
  } catch {
    return false;  // removed
  }
}

/**
 * Picks and locks an unused range of 65536 host ids (uid and gid alike),
 * starting at a random base as nspawn does (so concurrent callers rarely
 * contend) and trying every base once. Needs root (the lock directory and,
 * for the range to be usable, CAP_SETUID/CAP_SETGID to write such maps).
 * Throws EBUSY when every range is taken.
 */
export function allocateIdRange(): IdRange {
  fs.mkdirSync(USERNS_LOCK_DIR, { recursive: true, mode: 0o755 });
  const busy = idsInUse();
  const slots = Math.floor((USERNS_RANGE_MAX - USERNS_RANGE_MIN) / USERNS_RANGE_SIZE) + 1;
  const first = randomInt(slots);
  for (let i = 0; i < slots; i++) {
    const base = USERNS_RANGE_MIN + ((first + i) % slots) * USERNS_RANGE_SIZE;
    if (overlaps(busy, base, base + USERNS_RANGE_SIZE)) continue;
    const range = lockIdRangeAt(base);
    if (range !== undefined) return range;
  }
  throw new NsError(-E.EBUSY, 'flock', { path: USERNS_LOCK_DIR, hint: 'every user namespace id range is in use' });
}
