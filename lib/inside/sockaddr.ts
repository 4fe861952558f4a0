// The struct sockaddr to bind a socket made inside a target to, built from
// SocketBind: sockaddr_un, sockaddr_nl, sockaddr_in, sockaddr_in6 (with a
// parser for IPv6 text, as the addon takes the address as bytes).
import { isIPv4, isIPv6 } from 'node:net';

import { invalidArg, invalidValue, outOfRange } from '../core/errors';
import { AF_INET, AF_INET6, AF_NETLINK, AF_UNIX, UNIX_PATH_MAX } from '../sys/constants';

/** The address family of socketIn(). */
export type SocketFamily = 'inet' | 'inet6' | 'unix' | 'netlink' | 'packet';

/** Where socketIn() binds the socket, inside the target. */
export interface SocketBind {
  /** IP address to bind (default: any address of the family). */
  address?: string | undefined;
  /** Port (default 0: the kernel picks one). */
  port?: number | undefined;
  /** AF_UNIX: a path (resolved in OUR file system) or "\0name"/"@name" for the target netns's abstract namespace. */
  path?: string | undefined;
  /** AF_NETLINK: the port id (default 0) and multicast groups bitmask. */
  pid?: number | undefined;
  groups?: number | undefined;
}

export function sockaddr(family: SocketFamily, b: SocketBind): Buffer {
  if (b === null || typeof b !== 'object') throw invalidArg('options.bind', 'an object', b);
  if (family === 'unix') return sockaddrUn(b);
  if (family === 'netlink') {
    // struct sockaddr_nl: family, pad, nl_pid, nl_groups
    const buf = Buffer.alloc(12);
    buf.writeUInt16LE(AF_NETLINK, 0);
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
    // struct sockaddr_in: family, port (network order), address, zero
    const buf = Buffer.alloc(16);
    buf.writeUInt16LE(AF_INET, 0);
    buf.writeUInt16BE(port, 2);
    addr.split('.').forEach((o, i) => buf.writeUInt8(Number(o), 4 + i));
    return buf;
  }
  const addr = b.address ?? '::';
  if (!isIPv6(addr)) throw invalidValue('options.bind.address', 'must be an IPv6 address for family inet6', addr);
  // struct sockaddr_in6: family, port, flowinfo, address, scope id
  const buf = Buffer.alloc(28);
  buf.writeUInt16LE(AF_INET6, 0);
  buf.writeUInt16BE(port, 2);
  ipv6Bytes(addr).copy(buf, 8);
  return buf;
}

/** struct sockaddr_un: a path with its NUL, or an abstract name ("\0name" / "@name") without one. */
function sockaddrUn(b: SocketBind): Buffer {
  if (typeof b.path !== 'string' || b.path === '') throw invalidArg('options.bind.path', 'a non-empty string', b.path);
  const p = b.path.startsWith('@') ? '\0' + b.path.slice(1) : b.path;
  const bytes = Buffer.from(p, 'utf8');
  if (bytes.length > UNIX_PATH_MAX - 1) throw outOfRange('options.bind.path', `at most ${UNIX_PATH_MAX - 1} bytes long`, b.path);
  const buf = Buffer.alloc(2 + bytes.length + (p.startsWith('\0') ? 0 : 1));
  buf.writeUInt16LE(AF_UNIX, 0);
  bytes.copy(buf, 2);
  return buf;
}

function checkU32(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw outOfRange(name, '>= 0 and <= 4294967295', v);
  return v;
}

/** The 16 bytes of an IPv6 address already checked by isIPv6 (groups, "::", an IPv4 tail). */
export function ipv6Bytes(addr: string): Buffer {
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
