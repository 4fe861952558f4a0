// Work inside a target's namespaces without moving the caller: a socket in
// its network namespace, a file resolved under its root, a directory made
// there. Nothing here calls setns on a thread of Node's. See native/inns.cc
// for the two vehicles:
//
//   thread  a fresh native thread joins the target's net (or uts)
//           namespace, makes the socket, and exits.
//   helper  a vfork-style child sharing our memory and fd table
//           (CLONE_VM|CLONE_VFORK|CLONE_FILES); it may join user and mount
//           namespaces, which no thread of a multithreaded process may.
//
// Paths are resolved with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)
// under the target's root: the root of the process (/proc/PID/root, opened
// through a pidfd-verified pid) or, for a bare mount Namespace, the root of
// that namespace (joined by the helper). Symlinks and ".." are clamped at
// that root; magic links are refused.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isIPv4, isIPv6 } from 'node:net';

import { E, NsError, NsErrorDetails, UnsupportedError, commonHint, invalidArg, invalidValue, outOfRange } from './core/errors';
import { native } from './sys/native';
import { Namespace } from './namespace';
import { OwnedFd } from './core/owned-fd';
import { Pidfd } from './pidfd';
import { CLONE_FLAG, NsType } from './core/ns-types';
import { AT_FDCWD, AT_RECURSIVE, OPEN_TREE_CLONE, O_DIRECTORY, O_PATH, O_TMPFILE, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, SOCK_NONBLOCK } from './sys/constants';

// ---- shared with native/inns.cc ----------------------------------------
const OP_SOCKET = 1;
const OP_OPEN = 2;
const OP_MKDIR = 3;
const OP_SETHOSTNAME = 4;
const OP_FSMOUNT = 5;
const OP_MOVE_MOUNT = 6;
const OP_MAKE_PRIVATE = 7;
const OP_SETDOMAINNAME = 8;

const STEP_SYSCALL = new Map<number, string>([
  [1, 'setns'],
  [2, 'setresuid'],
  [3, 'clone'],
  [4, 'open'],
  [5, 'openat2'],
  [6, 'socket'],
  [7, 'setsockopt'],
  [8, 'bind'],
  [9, 'mkdirat'],
  [10, 'sethostname'],
  [11, 'fsopen'],
  [12, 'fsconfig'],
  [13, 'fsmount'],
  [14, 'move_mount'],
  [15, 'mount'],
  [16, 'waitpid'],
  [17, 'inns'],
  [18, 'setdomainname'],
]);
const STEP_SETNS = 1;

export const HELPER_BECOME_ROOT = 1;
export const HELPER_INTO_PIDNS = 2;

/** How every path under a target's root is resolved. */
export const RESOLVE = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;


// ---- targets -------------------------------------------------------------

/** Anything with a pidfd, such as a Container. */
export interface PidfdHolder {
  readonly pidfd: Pidfd;
}

/** Where an *In() operation happens: a process, a container, or namespaces. */
export type InTarget = Pidfd | PidfdHolder | Namespace | readonly Namespace[];

type Resolved = { kind: 'pidfd'; pidfd: Pidfd } | { kind: 'ns'; list: readonly Namespace[] };

function resolveTarget(target: InTarget): Resolved {
  if (target instanceof Pidfd) return { kind: 'pidfd', pidfd: target };
  if (target instanceof Namespace) return { kind: 'ns', list: [target] };
  if (Array.isArray(target)) {
    if (target.length === 0 || target.some((n) => !(n instanceof Namespace))) {
      throw invalidArg('target', 'a Pidfd, a Container, a Namespace or an array of Namespaces', target);
    }
    return { kind: 'ns', list: target as readonly Namespace[] };
  }
  if (target !== null && typeof target === 'object' && (target as PidfdHolder).pidfd instanceof Pidfd) {
    return { kind: 'pidfd', pidfd: (target as PidfdHolder).pidfd };
  }
  throw invalidArg('target', 'a Pidfd, a Container, a Namespace or an array of Namespaces', target);
}

function nsOfType(list: readonly Namespace[], type: NsType, op: string): Namespace | undefined {
  let found: Namespace | undefined;
  for (const ns of list) {
    if (ns.type !== type) continue;
    if (found && !found.equals(ns)) throw new NsError(-E.EINVAL, op, { hint: `two different ${type} namespaces given` });
    found = ns;
  }
  return found;
}

function fdOf(ns: Namespace, syscall: string): number {
  if (ns.closed) throw new NsError(-E.EBADF, syscall, {}, `EBADF: file descriptor closed, ${syscall}`);
  return ns.fd;
}

/** Whether we may act on descendants' namespaces without joining their user namespace. */
function privileged(): boolean {
  return process.geteuid?.() === 0;
}

/** Is `ns` (a user namespace) the one we are in? */
function isOurUserns(ns: Namespace): boolean {
  using cur = Namespace.current('user');
  return cur.equals(ns);
}

/**
 * Is the target in a user namespace other than ours? When we may not even
 * look (EACCES: no ptrace access), we may not join it either: answer no, and
 * let the join itself fail with the kernel's EPERM.
 */
function pidfdUserDiffers(pidfd: Pidfd): boolean {
  let u: Namespace;
  try {
    u = pidfd.namespace('user');
  } catch (err) {
    if (err instanceof NsError && (err.code === 'EACCES' || err.code === 'EPERM')) return false;
    throw err;
  }
  try {
    return !isOurUserns(u);
  } finally {
    u.close();
  }
}

/**
 * ESRCH unless the pidfd's process still exists, i.e. the pid we just used
 * in a /proc path still named it. EPERM (we may not signal it) also means
 * it exists.
 */
function recheck(pidfd: Pidfd, syscall: string): void {
  const r = native.pidfd_send_signal(pidfd.fdFor(syscall), 0, 0);
  if (r === -E.ESRCH) throw new NsError(r, syscall, { pid: pidfd.pid, hint: 'the target process has exited' });
  if (r < 0 && r !== -E.EPERM) throw new NsError(r, syscall, { pid: pidfd.pid });
}

/**
 * The user namespace to join for a Namespace target (given in the list, or
 * the owner of `ns`), or undefined when it is ours.
 */
function userFor(list: readonly Namespace[], ns: Namespace, op: string): Namespace | undefined {
  const given = nsOfType(list, 'user', op);
  const u = given ? given.dup() : ns.owner();
  if (isOurUserns(u)) {
    u.close();
    return undefined;
  }
  return u;
}

// ---- running an op -------------------------------------------------------

type Raw = [number, number, number, string];

interface OpCall {
  op: number;
  ints: number[];
  strs: string[];
  buf?: Buffer | undefined;
}

function details(r: Raw, base: NsErrorDetails, hints: Partial<Record<string, string>> = {}): NsErrorDetails {
  const code = -r[0];
  const syscall = STEP_SYSCALL.get(r[1]) ?? 'inns';
  const hint =
    ownValue(hints, `${syscall}:${code}`) ??
    (syscall === 'setns'
      ? setnsHint(code)
      : code === E.ELOOP && syscall === 'openat2'
        ? 'a magic link (/proc/*/fd/*, /proc/*/root, ...) on the path is refused'
        : code === E.EAGAIN && syscall === 'openat2'
          ? 'the path kept changing under a concurrent rename; try again'
          : undefined);
  const msg = r[3].trim();
  return { ...base, hint: [hint, msg ? `kernel says: ${msg.replace(/\n/g, '; ')}` : undefined].filter(Boolean).join('; ') || undefined };
}

function setnsHint(code: number): string | undefined {
  switch (code) {
    case E.ESRCH:
      return 'the target process has exited';
    case E.EPERM:
      return 'no CAP_SYS_ADMIN over the target namespaces (their user namespace is not ours or a descendant we own)';
    case E.EINVAL:
      return 'the kernel refused the namespace join (an unsupported type, or a user namespace we are already in)';
    default:
      return commonHint(code);
  }
}

/** A table's own entry only ('constructor' and the like find nothing). */
function ownValue<V>(t: Partial<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(t, key) ? t[key] : undefined;
}

const SINCE = new Map<string, string>([
  ['openat2', '5.6'],
  ['fsopen', '5.2'],
  ['fsconfig', '5.2'],
  ['fsmount', '5.2'],
  ['move_mount', '5.2'],
]);

function throwRaw(r: Raw, base: NsErrorDetails, hints?: Partial<Record<string, string>>): never {
  const syscall = STEP_SYSCALL.get(r[1]) ?? 'inns';
  const since = SINCE.get(syscall);
  if (r[0] === -E.ENOSYS && since !== undefined) throw new UnsupportedError(syscall, since, r[0], syscall);
  throw new NsError(r[0], syscall, details(r, base, hints));
}

function runThread(fd: number, nstype: number, c: OpCall): Raw {
  return native.inns_thread(fd, nstype, c.op, c.ints, c.strs, c.buf);
}

function runHelper(joins: number[], flags: number, c: OpCall): Raw {
  return native.inns_helper(joins, flags, c.op, c.ints, c.strs, c.buf);
}

function runDirect(c: OpCall): Raw {
  return native.inns_direct(c.op, c.ints, c.strs, c.buf);
}

/**
 * Runs an op inside ONE namespace type of a target that a thread may join
 * (net, uts, ipc, cgroup): on a fresh thread when we are privileged over it,
 * else (or on EPERM) in the helper child, which joins the owning user
 * namespace first. Returns the raw result.
 */
export function runInThreadNs(target: InTarget, type: NsType, c: OpCall, opName: string): Raw {
  const t = resolveTarget(target);
  const flag = CLONE_FLAG[type];
  if (t.kind === 'pidfd') {
    const pidfd = t.pidfd;
    const pfd = pidfd.fdFor('setns');
    let userDiffers: boolean | undefined;
    if (!privileged()) userDiffers = pidfdUserDiffers(pidfd);
    if (userDiffers !== true) {
      const r = runThread(pfd, flag, c);
      if (!(r[0] === -E.EPERM && r[1] === STEP_SETNS)) return r;
      userDiffers = pidfdUserDiffers(pidfd);
      if (!userDiffers) return r;
    }
    return runHelper([pfd, flag | CLONE_FLAG.user], HELPER_BECOME_ROOT, c);
  }
  const ns = nsOfType(t.list, type, opName);
  if (ns === undefined) {
    throw new NsError(-E.EINVAL, opName, { hint: `${opName} needs a ${type} namespace (or a Pidfd / Container) as its target` });
  }
  const nfd = fdOf(ns, 'setns');
  if (privileged()) {
    const r = runThread(nfd, flag, c);
    if (!(r[0] === -E.EPERM && r[1] === STEP_SETNS)) return r;
  }
  const user = userFor(t.list, ns, opName);
  try {
    if (user === undefined) return runThread(nfd, flag, c);
    return runHelper([user.fd, CLONE_FLAG.user, nfd, flag], HELPER_BECOME_ROOT, c);
  } finally {
    user?.close();
  }
}

/**
 * Runs a path op under the target's root. Pidfd targets: /proc/PID/root is
 * opened (O_PATH) and the pid rechecked through the pidfd; privileged
 * callers (or targets in our own user namespace) resolve from it on this
 * thread, others in the helper after joining the target's user namespace.
 * Namespace targets: the helper joins the mount namespace (and its owning
 * user namespace when needed) and resolves under that namespace's root.
 * `c.ints[rootIndex]` receives the root fd (-1 for "/" after the join).
 */
export function runUnderRoot(
  target: InTarget,
  c: OpCall,
  rootIndex: number,
  opName: string,
  extra: { pidns?: boolean } = {},
): Raw {
  const t = resolveTarget(target);
  const helperFlags = HELPER_BECOME_ROOT | (extra.pidns ? HELPER_INTO_PIDNS : 0);
  if (t.kind === 'pidfd') {
    const pidfd = t.pidfd;
    const pfd = pidfd.fdFor(opName);
    const root = openProcRoot(pidfd);
    try {
      const userDiffers = privileged() ? false : pidfdUserDiffers(pidfd);
      // Mount operations must run inside the mount namespace (move_mount
      // only attaches to mounts of the caller's namespace).
      const mountOp = c.op === OP_FSMOUNT || c.op === OP_MOVE_MOUNT || c.op === OP_MAKE_PRIVATE;
      c.ints[rootIndex] = root ?? -1;
      let mask = 0;
      if (userDiffers) mask |= CLONE_FLAG.user;
      if (root === undefined || mountOp) mask |= CLONE_FLAG.mnt;
      if (extra.pidns) mask |= CLONE_FLAG.pid;
      if (mask === 0) return runDirect(c);
      return runHelper([pfd, mask], helperFlags, c);
    } finally {
      if (root !== undefined) native.close(root);
    }
  }
  const mnt = nsOfType(t.list, 'mnt', opName);
  if (mnt === undefined) {
    throw new NsError(-E.EINVAL, opName, { hint: `${opName} needs a mnt namespace (or a Pidfd / Container) as its target` });
  }
  const joins = [fdOf(mnt, 'setns'), CLONE_FLAG.mnt];
  if (extra.pidns) {
    const pid = nsOfType(t.list, 'pid', opName);
    if (pid === undefined) throw new NsError(-E.EINVAL, opName, { hint: `${opName} needs the pid namespace too` });
    joins.push(fdOf(pid, 'setns'), CLONE_FLAG.pid);
  }
  c.ints[rootIndex] = -1;
  if (privileged()) {
    const r = runHelper(joins, helperFlags, c);
    if (!(r[0] === -E.EPERM && r[1] === STEP_SETNS)) return r;
  }
  const user = userFor(t.list, mnt, opName);
  try {
    return runHelper(user === undefined ? joins : [user.fd, CLONE_FLAG.user, ...joins], helperFlags, c);
  } finally {
    user?.close();
  }
}

/**
 * An O_PATH fd of /proc/PID/root (O_CLOEXEC), or -errno when we may not
 * open it (ptrace rules). Throws ESRCH when the process is gone; the pid is
 * rechecked through the pidfd after the open, so the fd is the root of that
 * very process. Internal (spawn's root: pidfd uses it too).
 */
export function procRootFd(pidfd: Pidfd): number {
  const r = native.openat(AT_FDCWD, `/proc/${pidfd.pid}/root`, O_PATH | O_DIRECTORY, 0);
  try {
    recheck(pidfd, 'open(/proc/PID/root)');
  } catch (err) {
    if (r >= 0) native.close(r);
    throw err;
  }
  if (r === -E.ENOENT || r === -E.ESRCH) {
    throw new NsError(-E.ESRCH, 'open(/proc/PID/root)', { pid: pidfd.pid, hint: 'the target process has exited' });
  }
  return r;
}

/** procRootFd, or undefined when we may not open it: the helper then uses the mount namespace's root. */
function openProcRoot(pidfd: Pidfd): number | undefined {
  const r = procRootFd(pidfd);
  return r >= 0 ? r : undefined;
}

// ---- sockets ---------------------------------------------------------------

export type SocketFamily = 'inet' | 'inet6' | 'unix' | 'netlink' | 'packet';
export type SocketType = 'stream' | 'dgram' | 'raw' | 'seqpacket';

const FAMILIES = new Map<string, number>([
  ['unix', 1],
  ['inet', 2],
  ['inet6', 10],
  ['netlink', 16],
  ['packet', 17],
]);
const TYPES = new Map<string, number>([
  ['stream', 1],
  ['dgram', 2],
  ['raw', 3],
  ['seqpacket', 5],
]);
const PROTOCOLS = new Map<string, number>([
  ['ip', 0],
  ['icmp', 1],
  ['tcp', 6],
  ['udp', 17],
  ['icmpv6', 58],
  ['sctp', 132],
  // netlink
  ['route', 0],
  ['sock_diag', 4],
  ['audit', 9],
  ['netfilter', 12],
  ['kobject_uevent', 15],
  ['generic', 16],
]);

export interface SocketBind {
  /** IP address to bind (default: any address of the family). */
  address?: string;
  /** Port (default 0: the kernel picks one). */
  port?: number;
  /** AF_UNIX: a path (resolved in OUR file system) or "\0name"/"@name" for the target netns's abstract namespace. */
  path?: string;
  /** AF_NETLINK: the port id (default 0) and multicast groups bitmask. */
  pid?: number;
  groups?: number;
}

export interface SocketInOptions {
  family: SocketFamily;
  type: SocketType;
  /** A number, or a name: tcp, udp, icmp, icmpv6, sctp; netlink: route, generic, netfilter, audit, sock_diag, kobject_uevent. */
  protocol?: number | string;
  /** Bind inside the target (Node cannot bind a socket it adopts by fd). */
  bind?: SocketBind;
  reuseAddr?: boolean;
  reusePort?: boolean;
  /** IPV6_V6ONLY (inet6 only). */
  ipv6Only?: boolean;
  /** SOCK_NONBLOCK (Node sets it itself when it adopts the fd). */
  nonblock?: boolean;
}

function sockaddr(family: SocketFamily, b: SocketBind): Buffer {
  if (b === null || typeof b !== 'object') throw invalidArg('options.bind', 'an object', b);
  if (family === 'unix') {
    if (typeof b.path !== 'string' || b.path === '') throw invalidArg('options.bind.path', 'a non-empty string', b.path);
    const p = b.path.startsWith('@') ? '\0' + b.path.slice(1) : b.path;
    const bytes = Buffer.from(p, 'utf8');
    if (bytes.length > 107) throw outOfRange('options.bind.path', 'at most 107 bytes long', b.path);
    const buf = Buffer.alloc(2 + bytes.length + (p.startsWith('\0') ? 0 : 1));
    buf.writeUInt16LE(1, 0);
    bytes.copy(buf, 2);
    return buf;
  }
  if (family === 'netlink') {
    const buf = Buffer.alloc(12);
    buf.writeUInt16LE(16, 0);
    buf.writeUInt32LE(checkU32(b.pid ?? 0, 'options.bind.pid'), 4);
    buf.writeUInt32LE(checkU32(b.groups ?? 0, 'options.bind.groups'), 8);
    return buf;
  }
  if (family === 'packet') throw invalidValue('options.bind', 'is not supported for packet sockets', b);
  const port = b.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw outOfRange('options.bind.port', '>= 0 and <= 65535', port);
  if (family === 'inet') {
    const addr = b.address ?? '0.0.0.0';
    if (!isIPv4(addr)) throw invalidValue('options.bind.address', 'must be an IPv4 address for family inet', addr);
    const buf = Buffer.alloc(16);
    buf.writeUInt16LE(2, 0);
    buf.writeUInt16BE(port, 2);
    addr.split('.').forEach((o, i) => buf.writeUInt8(Number(o), 4 + i));
    return buf;
  }
  const addr = b.address ?? '::';
  if (!isIPv6(addr)) throw invalidValue('options.bind.address', 'must be an IPv6 address for family inet6', addr);
  const buf = Buffer.alloc(28);
  buf.writeUInt16LE(10, 0);
  buf.writeUInt16BE(port, 2);
  ipv6Bytes(addr).copy(buf, 8);
  return buf;
}

function checkU32(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw outOfRange(name, '>= 0 and <= 4294967295', v);
  return v;
}

function ipv6Bytes(addr: string): Buffer {
  let a = addr;
  const out = Buffer.alloc(16);
  // Embedded IPv4 tail (::ffff:1.2.3.4).
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  let tail: number[] = [];
  if (m) {
    a = (m[1] as string) + '0:0';
    tail = (m[2] as string).split('.').map(Number);
  }
  const [head, rest] = a.includes('::') ? (a.split('::') as [string, string]) : [a, undefined];
  const h = head === '' ? [] : head.split(':');
  const r = rest === undefined ? [] : rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tail.length === 4) tail.forEach((o, i) => out.writeUInt8(o, 12 + i));
  return out;
}

function protocolNumber(family: SocketFamily, p: number | string | undefined): number {
  if (p === undefined) return 0;
  if (typeof p === 'number') {
    if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw outOfRange('options.protocol', '>= 0 and <= 65535', p);
    return p;
  }
  if (typeof p === 'string') {
    const key = p.toLowerCase();
    const netlinkOnly = ['route', 'sock_diag', 'audit', 'netfilter', 'kobject_uevent', 'generic'];
    const n = PROTOCOLS.get(key);
    if (n !== undefined && (family === 'netlink') === netlinkOnly.includes(key)) return n;
    throw invalidValue('options.protocol', `is not a known protocol for family ${family}`, p);
  }
  throw invalidArg('options.protocol', 'a number or a protocol name', p);
}

/**
 * A socket created in the target's network namespace, O_CLOEXEC, returned
 * as an OwnedFd in this process. The caller's threads never change
 * namespace: a short-lived native thread joins the netns (or, for a
 * rootless target, a helper child joins its user namespace first).
 *
 *   const s = socketIn(pidfd, { family: 'inet', type: 'stream', bind: { address: '127.0.0.1', port: 8080 } });
 *   net.createServer(onConn).listen({ fd: s.release() });
 *   new net.Socket({ fd: socketIn(pidfd, { family: 'inet', type: 'stream' }).release() }).connect(80, '10.0.0.2');
 */
export function socketIn(target: InTarget, options: SocketInOptions): OwnedFd {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const family = options.family;
  const familyNum = typeof family === 'string' ? FAMILIES.get(family) : undefined;
  if (familyNum === undefined) {
    throw invalidValue('options.family', `must be one of ${[...FAMILIES.keys()].join(', ')}`, family);
  }
  const type = options.type;
  const typeNum = typeof type === 'string' ? TYPES.get(type) : undefined;
  if (typeNum === undefined) {
    throw invalidValue('options.type', `must be one of ${[...TYPES.keys()].join(', ')}`, type);
  }
  const proto = protocolNumber(family, options.protocol);
  let bits = 0;
  if (options.reuseAddr) bits |= 1;
  if (options.ipv6Only !== undefined) {
    if (family !== 'inet6') throw invalidValue('options.ipv6Only', 'applies to family inet6 only', options.ipv6Only);
    bits |= options.ipv6Only ? 2 : 4;
  }
  if (options.reusePort) bits |= 8;
  const buf = options.bind === undefined ? undefined : sockaddr(family, options.bind);
  const sockType = typeNum | (options.nonblock ? SOCK_NONBLOCK : 0);
  const call: OpCall = { op: OP_SOCKET, ints: [familyNum, sockType, proto, bits], strs: [], buf };
  const r = runInThreadNs(target, 'net', call, 'socketIn');
  if (r[0] < 0) {
    throwRaw(r, { pid: pidOf(target) }, {
      [`socket:${E.EAFNOSUPPORT}`]: `this kernel has no ${family} sockets`,
      [`socket:${E.EPROTONOSUPPORT}`]: `protocol ${String(options.protocol)} is not supported for ${family}/${type}`,
      [`socket:${E.EPERM}`]: 'raw and packet sockets need CAP_NET_RAW in the namespace',
      [`bind:${E.EADDRNOTAVAIL}`]: 'the address is not configured in the target network namespace',
      [`bind:${E.EADDRINUSE}`]: 'the address is in use in the target network namespace',
      [`bind:${E.EACCES}`]: 'ports below net.ipv4.ip_unprivileged_port_start need CAP_NET_BIND_SERVICE in the namespace',
    });
  }
  return new OwnedFd(r[0]);
}

/** The network namespace a socket belongs to (ioctl SIOCGSKNS). */
export function socketNamespace(socket: number | OwnedFd): Namespace {
  const fd = socket instanceof OwnedFd ? socket.fd : socket;
  if (!Number.isInteger(fd) || fd < 0) throw invalidArg('socket', 'an open socket fd or OwnedFd', socket);
  const r = native.socket_netns(fd);
  if (r < 0) {
    throw new NsError(r, 'ioctl(SIOCGSKNS)', {
      fd,
      hint: r === -E.ENOTTY || r === -E.ENOTSOCK ? 'not a socket' : r === -E.EPERM ? 'needs CAP_NET_ADMIN over the socket\'s network namespace' : undefined,
    });
  }
  return new Namespace(r);
}

// ---- files -----------------------------------------------------------------

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

function checkPath(p: unknown, name = 'path'): string {
  if (typeof p !== 'string' || p === '') throw invalidArg(name, 'a non-empty string', p);
  if (p.includes('\0')) throw invalidValue(name, 'must not contain null bytes', p);
  return p;
}

function checkMode(m: unknown, name = 'mode'): number {
  if (typeof m === 'string' && /^[0-7]+$/.test(m)) return parseInt(m, 8);
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 0 || m > 0o7777) throw outOfRange(name, 'an integer >= 0 and <= 0o7777', m);
  return m;
}

function pidOf(target: InTarget): number | undefined {
  if (target instanceof Pidfd) return target.pid;
  if (target !== null && typeof target === 'object' && (target as PidfdHolder).pidfd instanceof Pidfd) return (target as PidfdHolder).pidfd.pid;
  return undefined;
}

/**
 * A file opened in the target's mount namespace, resolved under its root
 * with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): absolute symlinks,
 * "..", and races with renames can never reach outside that root, and magic
 * links (/proc/self/root, /proc/PID/fd/N) are refused (ELOOP). Relative
 * paths start at the root too. O_CLOEXEC always.
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
  const call: OpCall = { op: OP_OPEN, ints: [-1, f, creates ? m : 0, RESOLVE], strs: [file] };
  const r = runUnderRoot(target, call, 0, 'openIn');
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
  const call: OpCall = { op: OP_MKDIR, ints: [-1, checkMode(o.mode ?? 0o777), RESOLVE, o.recursive ? 1 : 0], strs: [norm] };
  const r = runUnderRoot(target, call, 0, 'mkdirIn');
  if (r[0] < 0) throwRaw(r, { path: dir, pid: pidOf(target) });
}

// ---- used by Container -----------------------------------------------------

/** sethostname (and optionally setdomainname) in the target's uts namespace. */
export function setHostnameIn(target: InTarget, hostname: string, domainname?: string): void {
  if (typeof hostname !== 'string' || hostname.length === 0 || Buffer.byteLength(hostname) > 64) {
    throw invalidValue('hostname', 'must be a string of 1 to 64 bytes', hostname);
  }
  const r = runInThreadNs(target, 'uts', { op: OP_SETHOSTNAME, ints: [], strs: [hostname] }, 'sethostname');
  if (r[0] < 0) throwRaw(r, { pid: pidOf(target) });
  if (domainname !== undefined) {
    if (typeof domainname !== 'string' || Buffer.byteLength(domainname) > 64) {
      throw invalidValue('domainname', 'must be a string of at most 64 bytes', domainname);
    }
    const d = runInThreadNs(target, 'uts', { op: OP_SETDOMAINNAME, ints: [], strs: [domainname] }, 'setdomainname');
    if (d[0] < 0) throwRaw(d, { pid: pidOf(target) });
  }
}

export const MOUNT_ATTR = {
  rdonly: 0x1,
  nosuid: 0x2,
  nodev: 0x4,
  noexec: 0x8,
  noatime: 0x10,
  strictatime: 0x20,
  nodiratime: 0x80,
} as const;

export interface MountOptions {
  /** fsconfig options: {size: '16m', mode: '755'} as strings; `true` sets a flag option. */
  options?: Record<string, string | number | boolean>;
  readonly?: boolean;
  nosuid?: boolean;
  nodev?: boolean;
  noexec?: boolean;
  /** Bind mounts: the whole tree below `source` (AT_RECURSIVE). Default true. */
  recursive?: boolean;
  /** Bind mounts: force treating `source` as a path (default: a path if it starts with '/' or '.'). */
  bind?: boolean;
}


function attrFlags(o: MountOptions): number {
  return (o.readonly ? MOUNT_ATTR.rdonly : 0) | (o.nosuid ? MOUNT_ATTR.nosuid : 0) | (o.nodev ? MOUNT_ATTR.nodev : 0) | (o.noexec ? MOUNT_ATTR.noexec : 0);
}

/**
 * The new mount API into the target's mount namespace: a new file system
 * (fsopen/fsconfig/fsmount), or a bind mount of a host path (open_tree
 * OPEN_TREE_CLONE here, in our mount namespace), attached with move_mount
 * onto `targetPath` resolved under the target's root (RESOLVE_IN_ROOT) by
 * the helper child after it joined the mount namespace (and the user
 * namespace, when it is not ours). A `proc` mount is made by a grandchild
 * inside the target's pid namespace, so it shows that namespace's pids.
 */
export function mountIn(target: InTarget, source: string, targetPath: string, options: MountOptions = {}): void {
  checkPath(source, 'source');
  checkPath(targetPath, 'target');
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const isBind = options.bind ?? (source.startsWith('/') || source.startsWith('.'));
  const attrs = attrFlags(options);
  if (!isBind) {
    if (!/^[A-Za-z0-9_.-]+$/.test(source)) throw invalidValue('source', 'must be a file system type (tmpfs, proc, ...) or a path', source);
    const kv: string[] = [];
    for (const [k, v] of Object.entries(options.options ?? {})) {
      if (k === '' || k.includes('=') || k.includes('\0')) throw invalidValue(`options.options.${k}`, 'is not a valid option name', k);
      if (v === false) continue;
      if (v === true) kv.push(k);
      else if (typeof v === 'string' || typeof v === 'number') kv.push(`${k}=${String(v)}`);
      else throw invalidArg(`options.options.${k}`, 'a string, number or boolean', v);
    }
    if (kv.length > 30) throw outOfRange('options.options', 'at most 30 entries', kv.length);
    const call: OpCall = { op: OP_FSMOUNT, ints: [-1, attrs, RESOLVE], strs: [source, targetPath, ...kv] };
    const pidns = source === 'proc' && hasOwnPidns(target);
    const r = runUnderRoot(target, call, 0, 'mount', { pidns });
    if (r[0] < 0) {
      throwRaw(r, { path: targetPath, pid: pidOf(target) }, {
        [`fsopen:${E.ENODEV}`]: `this kernel has no file system type ${source}`,
        [`fsopen:${E.EPERM}`]: `${source} cannot be mounted from the target's user namespace`,
        [`fsmount:${E.EPERM}`]: 'mount flags not allowed here (a locked mount, or the file system needs them)',
      });
    }
    return;
  }
  // Bind mount: clone the source tree here, in our mount namespace.
  const flags = OPEN_TREE_CLONE | (options.recursive === false ? 0 : AT_RECURSIVE);
  const tree = native.open_tree(AT_FDCWD, source, flags);
  if (tree === -E.ENOSYS) throw new UnsupportedError('open_tree', '5.2', tree, 'open_tree');
  if (tree < 0) {
    throw new NsError(tree, 'open_tree', {
      path: source,
      hint: tree === -E.EPERM ? 'cloning a mount needs CAP_SYS_ADMIN in our mount namespace\'s user namespace (a bind mount of a host path is not possible from a rootless caller)' : undefined,
    });
  }
  try {
    if (attrs !== 0) {
      const a = native.mount_setattr(tree, options.recursive === false ? 0 : 1, attrs, 0, 0);
      if (a === -E.ENOSYS) throw new UnsupportedError('mount_setattr (read-only etc. bind mounts)', '5.12', a, 'mount_setattr');
      if (a < 0) throw new NsError(a, 'mount_setattr', { path: source });
    }
    const call: OpCall = { op: OP_MOVE_MOUNT, ints: [tree, -1, RESOLVE], strs: [targetPath] };
    const r = runUnderRoot(target, call, 1, 'mount');
    if (r[0] < 0) throwRaw(r, { path: targetPath, pid: pidOf(target) });
  } finally {
    native.close(tree);
  }
}

function hasOwnPidns(target: InTarget): boolean {
  const t = resolveTarget(target);
  if (t.kind === 'ns') return nsOfType(t.list, 'pid', 'mount') !== undefined;
  using mine = Namespace.current('pid');
  using theirs = t.pidfd.namespace('pid');
  return !mine.equals(theirs);
}

/** mount --make-rprivate / in the target's mount namespace (no mount event leaks to or from the host). */
export function makePrivateIn(target: InTarget): void {
  const r = runUnderRoot(target, { op: OP_MAKE_PRIVATE, ints: [-1], strs: [] }, 0, 'mount');
  if (r[0] < 0) throwRaw(r, { pid: pidOf(target) });
}

/**
 * Sets the loopback interface (ifindex 1) of the target's network namespace
 * up, with RTM_NEWLINK over a netlink socket made in that namespace by
 * socketIn. The permission check is made against the socket's opener (the
 * helper, for a rootless target), so this works without privileges over the
 * host: a fresh network namespace has lo down.
 */
export function loopbackUp(target: InTarget): void {
  using s = socketIn(target, { family: 'netlink', type: 'raw', protocol: 'route' });
  const IFF_UP = 1;
  const req = Buffer.alloc(32);
  req.writeUInt32LE(32, 0); // nlmsg_len
  req.writeUInt16LE(16, 4); // RTM_NEWLINK
  req.writeUInt16LE(0x5, 6); // NLM_F_REQUEST | NLM_F_ACK
  req.writeUInt32LE(1, 8); // seq
  req.writeInt32LE(1, 20); // ifi_index: lo
  req.writeUInt32LE(IFF_UP, 24); // ifi_flags
  req.writeUInt32LE(IFF_UP, 28); // ifi_change
  fs.writeSync(s.fd, req);
  const ack = Buffer.alloc(1024);
  const n = fs.readSync(s.fd, ack, 0, ack.length, null);
  if (n < 20 || ack.readUInt16LE(4) !== 2) throw new NsError(-E.EPROTO, 'netlink', { hint: 'unexpected reply to RTM_NEWLINK' });
  const err = ack.readInt32LE(16);
  if (err < 0) throw new NsError(err, 'netlink(RTM_NEWLINK)', { hint: err === -E.EPERM ? 'needs CAP_NET_ADMIN in the namespace' : 'could not set lo up' });
}
