// A container root filesystem: options.rootfs, options.mounts and the
// default mounts of OCI runtimes, turned into the list of fs ops the
// spawned child runs between clone and exec (native/spawn_child.cc
// EnterRootfs) before its pivot_root. Everything is decided here; the child
// only executes the list.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { invalidArg, invalidValue } from '../core/errors';
import type { NsType } from '../core/ns-types';
import {
  FS_FILE,
  FS_IDMAP,
  FS_MAX_TREES,
  FS_OPTIONAL,
  FS_OP_BIND,
  FS_OP_MASK,
  FS_OP_MOUNT,
  FS_OP_ROOT_ATTRS,
  FS_OP_SYMLINK,
  FS_RECURSIVE,
  FS_SRC_IN_ROOT,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_STRICTATIME,
} from '../sys/constants';

/** A mount inside the container, as in an OCI config.json's `mounts`. */
export interface MountSpec {
  /** "bind" (a host path), or a filesystem type: "tmpfs", "proc", "sysfs", "mqueue", "devpts", ... */
  type: string;
  /** The host path of a bind mount (ignored for other types). */
  source?: string | undefined;
  /** Absolute path inside the container; missing directories are made (symlinks in it are refused: ELOOP). */
  destination: string;
  /**
   * ro, nosuid, nodev, dev, noexec, bind, rbind, noatime, strictatime, rw,
   * idmap, ridmap, ...; other "key=value" or "key" strings (mode=755,
   * size=64m) go to the filesystem. Mounts are nodev unless "dev" is given
   * (devpts excepted): nothing else keeps a device node there shut.
   * "idmap" (a bind, in a user namespace with maps) presents the source
   * with the container's id maps, as the idmapped rootfs: host uid 0 shows
   * as the container's root, and what it writes is owned by uid 0 on disk;
   * on an rbind every mount of the tree is idmapped ("ridmap" is rbind +
   * idmap, OCI's name).
   */
  options?: readonly string[] | undefined;
}

/** The OCI runtime spec's default maskedPaths (runc spec, Docker). */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
];

/** The OCI runtime spec's default readonlyPaths. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The devices of a default /dev (runc's). */
const DEVICES: readonly string[] = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

export interface FsPlan {
  fsOps: number[];
  fsStrs: string[];
  /** What each op does, for error messages: fsOps index / 8 -> "mount tmpfs on /dev". */
  labels: string[];
}

/** The host path an op's source names (a bind's), by op index: for errors. */
export function opSource(plan: FsPlan, i: number): string | undefined {
  // (Each op is 8 ints, its source string's index third: Builder.op.)
  return plan.fsStrs[plan.fsOps[i * 8 + 2] ?? -1];
}

class Builder implements FsPlan {
  fsOps: number[] = [];
  fsStrs: string[] = [];
  labels: string[] = [];
  /** Binds the parent idmaps (FS_IDMAP): each is a tree the go carries. */
  idmapped = 0;
  #str(s: string | undefined): number {
    if (s === undefined) return -1;
    this.fsStrs.push(s);
    return this.fsStrs.length - 1;
  }
  op(label: string, kind: number, o: { dest?: string; src?: string; fstype?: string; opts?: readonly string[]; attrs?: number; flags?: number }): void {
    const dest = this.#str(o.dest);
    const src = this.#str(o.src);
    const fstype = this.#str(o.fstype);
    const opts = o.opts ?? [];
    const optStart = opts.length > 0 ? this.fsStrs.length : 0;
    for (const x of opts) this.#str(x);
    this.fsOps.push(kind, dest, src, fstype, optStart, opts.length, o.attrs ?? 0, o.flags ?? 0);
    this.labels.push(label);
    if ((o.flags ?? 0) & FS_IDMAP) this.idmapped++;
  }
}

/** An absolute container path as the child resolves it: relative, no ".", no "..", no empty part. */
export function containerPath(p: unknown, name: string): string {
  if (typeof p !== 'string' || !p.startsWith('/') || p.includes('\0')) throw invalidArg(name, 'an absolute path', p);
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  if (parts.includes('..')) throw invalidValue(name, 'may not contain ".."', p);
  if (parts.some((x) => Buffer.byteLength(x) > 255)) throw invalidValue(name, 'has a component longer than 255 bytes', p);
  return parts.join('/');
}

const FLAG_OPTIONS: Readonly<Record<string, number>> = {
  ro: MOUNT_ATTR_RDONLY,
  nosuid: MOUNT_ATTR_NOSUID,
  nodev: MOUNT_ATTR_NODEV,
  noexec: MOUNT_ATTR_NOEXEC,
  noatime: MOUNT_ATTR_NOATIME,
  strictatime: MOUNT_ATTR_STRICTATIME,
};
/** Options that ask for the default, or for what we do anyway. */
const NO_OP_OPTIONS = new Set(['rw', 'suid', 'exec', 'relatime', 'private', 'rprivate', 'slave', 'rslave']);

function userMount(b: Builder, m: MountSpec, i: number, mapped: boolean): void {
  const name = `options.mounts[${i}]`;
  if (m === null || typeof m !== 'object') throw invalidArg(name, 'an object {type, source?, destination, options?}', m);
  if (typeof m.type !== 'string' || m.type === '' || m.type.includes('\0')) throw invalidArg(`${name}.type`, 'a filesystem type or "bind"', m.type);
  const dest = containerPath(m.destination, `${name}.destination`);
  const options = m.options ?? [];
  if (!Array.isArray(options) || options.some((o) => typeof o !== 'string' || o === '' || o.includes('\0'))) {
    throw invalidArg(`${name}.options`, 'an array of non-empty strings', options);
  }
  let attrs = 0;
  let bind = m.type === 'bind';
  let recursive = false;
  // nodev unless asked for ("dev"), or devpts (its nodes are its own ptys):
  // device nodes on the mount would open what they name, and no device
  // cgroup stops them (runc's does).
  let dev = m.type === 'devpts';
  let idmap = false;
  const fsOpts: string[] = [];
  for (const o of options as readonly string[]) {
    if (o === 'bind') bind = true;
    else if (o === 'rbind') bind = recursive = true;
    else if (o === 'idmap') idmap = true;
    else if (o === 'ridmap') idmap = recursive = true;
    else if (o === 'dev') dev = true;
    else if (FLAG_OPTIONS[o] !== undefined) attrs |= FLAG_OPTIONS[o] as number;
    else if (!NO_OP_OPTIONS.has(o)) fsOpts.push(o);
  }
  if (!dev) attrs |= MOUNT_ATTR_NODEV;
  const label = `${m.type} on ${m.destination}`;
  if (idmap && !bind) throw invalidValue(`${name}.options`, 'idmap is for bind mounts', options);
  if (idmap && !mapped) throw invalidValue(`${name}.options`, 'idmap needs a new user namespace with maps (userns \'auto\' as root, or uidMap/gidMap)', options);
  if (bind) {
    if (typeof m.source !== 'string' || m.source === '' || m.source.includes('\0')) throw invalidArg(`${name}.source`, 'a host path', m.source);
    if (fsOpts.length > 0) throw invalidValue(`${name}.options`, `a bind mount takes no filesystem options (${fsOpts.join(', ')})`, options);
    const source = path.resolve(m.source);
    let isDir: boolean;
    try {
      isDir = fs.statSync(source).isDirectory();
    } catch (err) {
      throw invalidValue(`${name}.source`, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, m.source);
    }
    b.op(label, FS_OP_BIND, { dest, src: source, attrs, flags: (recursive ? FS_RECURSIVE : 0) | (isDir ? 0 : FS_FILE) | (idmap ? FS_IDMAP : 0) });
  } else {
    b.op(label, FS_OP_MOUNT, { dest, fstype: m.type, opts: fsOpts, attrs });
  }
}

function pathList(list: unknown, name: string): string[] {
  if (!Array.isArray(list)) throw invalidArg(name, 'an array of absolute paths', list);
  return (list as unknown[]).map((p, i) => {
    const rel = containerPath(p, `${name}[${i}]`);
    if (rel === '') throw invalidValue(`${name}[${i}]`, 'may not be the root', p);
    return rel;
  });
}

/**
 * The device nodes of a default /dev: the host's, bind-mounted (as in a
 * user namespace, where mknod is refused), never made: the /dev they are
 * bound on is nodev, so a node the container makes there opens nothing
 * (runc keeps such nodes shut with a device cgroup; nsfd has none).
 * Read-only binds: the container reads and writes the devices, but cannot
 * chmod or chown the host's nodes (EROFS), even as host root.
 */
function devices(b: Builder): void {
  for (const dev of DEVICES) {
    b.op(`bind /dev/${dev}`, FS_OP_BIND, { dest: `dev/${dev}`, src: `/dev/${dev}`, attrs: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, flags: FS_FILE });
  }
}
function devSymlinks(b: Builder): void {
  for (const [link, target] of [
    ['fd', '/proc/self/fd'],
    ['stdin', '/proc/self/fd/0'],
    ['stdout', '/proc/self/fd/1'],
    ['stderr', '/proc/self/fd/2'],
    ['ptmx', 'pts/ptmx'],
  ] as const) {
    b.op(`symlink /dev/${link}`, FS_OP_SYMLINK, { dest: `dev/${link}`, src: target });
  }
}

/**
 * The ops, in runc's order: default mounts (unless defaultMounts is false),
 * the user's, the default devices (when not made with the default /dev),
 * read-only paths, masked paths, then a read-only root.
 */
export function planRootfs(
  options: {
    mounts?: readonly MountSpec[] | undefined;
    readonlyRootfs?: boolean | undefined;
    defaultMounts?: boolean | undefined;
    defaultDevices?: boolean | undefined;
    maskedPaths?: readonly string[] | undefined;
    readonlyPaths?: readonly string[] | undefined;
  },
  unshare: readonly NsType[],
  /** A new user namespace with maps: "idmap" binds are possible. */
  mapped = false,
): FsPlan {
  const b = new Builder();
  // The rootfs and what is mounted below it: nodev. A device node in an
  // image (or made by the container's root) then opens nothing; runc
  // relies on a device cgroup for that, which nsfd does not set up.
  b.op('nodev rootfs', FS_OP_ROOT_ATTRS, { attrs: MOUNT_ATTR_NODEV, flags: FS_RECURSIVE });
  const nosuidEtc = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  const defaults = options.defaultMounts !== false;
  const withDevices = options.defaultDevices ?? defaults;
  // Checked before any op is planned: a bad path is an error naming its option.
  const masked = options.maskedPaths === undefined ? (defaults ? MASKED_PATHS.map((p) => containerPath(p, 'maskedPaths')) : []) : pathList(options.maskedPaths, 'options.maskedPaths');
  const readonly = options.readonlyPaths === undefined ? (defaults ? READONLY_PATHS.map((p) => containerPath(p, 'readonlyPaths')) : []) : pathList(options.readonlyPaths, 'options.readonlyPaths');
  if (defaults) {
    // /proc: fresh for a pid namespace of our own; without one a fresh proc
    // would be the host's anyway (and refused unprivileged): bind it.
    if (unshare.includes('pid')) b.op('proc on /proc', FS_OP_MOUNT, { dest: 'proc', fstype: 'proc', attrs: nosuidEtc });
    else b.op('bind /proc on /proc', FS_OP_BIND, { dest: 'proc', src: '/proc', attrs: nosuidEtc, flags: FS_RECURSIVE });
    b.op('tmpfs on /dev', FS_OP_MOUNT, { dest: 'dev', fstype: 'tmpfs', opts: ['mode=755', 'size=65536k'], attrs: MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_STRICTATIME });
    if (withDevices) devices(b);
    b.op('devpts on /dev/pts', FS_OP_MOUNT, { dest: 'dev/pts', fstype: 'devpts', opts: ['newinstance', 'ptmxmode=0666', 'mode=0620'], attrs: MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC });
    b.op('tmpfs on /dev/shm', FS_OP_MOUNT, { dest: 'dev/shm', fstype: 'tmpfs', opts: ['mode=1777', 'size=65536k'], attrs: nosuidEtc });
    if (withDevices) devSymlinks(b);
    // /sys: sysfs shows the network namespace that mounts it; without one of
    // our own, the host's, read-only.
    if (unshare.includes('net')) b.op('sysfs on /sys', FS_OP_MOUNT, { dest: 'sys', fstype: 'sysfs', attrs: nosuidEtc | MOUNT_ATTR_RDONLY });
    else b.op('bind /sys on /sys', FS_OP_BIND, { dest: 'sys', src: '/sys', attrs: nosuidEtc | MOUNT_ATTR_RDONLY, flags: FS_RECURSIVE });
  }
  if (options.mounts !== undefined) {
    if (!Array.isArray(options.mounts)) throw invalidArg('options.mounts', 'an array of mounts', options.mounts);
    (options.mounts as readonly MountSpec[]).forEach((m, i) => userMount(b, m, i, mapped));
    if (b.idmapped >= FS_MAX_TREES) throw invalidValue('options.mounts', `at most ${FS_MAX_TREES - 1} idmapped binds`, b.idmapped);
  }
  if (!defaults && withDevices) {
    devices(b);
    devSymlinks(b);
  }
  // After every mount, read-only paths then masks, as runc does: a mount cannot uncover them.
  for (const rel of readonly) {
    b.op(`read-only /${rel}`, FS_OP_BIND, { dest: rel, src: rel, attrs: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, flags: FS_RECURSIVE | FS_OPTIONAL | FS_SRC_IN_ROOT });
  }
  for (const rel of masked) b.op(`mask /${rel}`, FS_OP_MASK, { dest: rel, src: '/dev/null' });
  if (options.readonlyRootfs === true) b.op('read-only root', FS_OP_ROOT_ATTRS, { attrs: MOUNT_ATTR_RDONLY });
  return b;
}
