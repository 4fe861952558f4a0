// socketIn: a socket made in the target's network namespace (on a thread
// that joined it, or in the helper child), returned here as an OwnedFd;
// socketNamespace: the network namespace a socket belongs to.
import { E, NsError, invalidArg, invalidValue, outOfRange, checkOptionKeys, optionKeys } from '../core/errors';
import { native } from '../sys/native';
import { Namespace } from '../namespace';
import { OwnedFd } from '../core/owned-fd';
import {
  AF_INET,
  AF_INET6,
  AF_NETLINK,
  AF_PACKET,
  AF_UNIX,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IP,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  NETLINK_AUDIT,
  NETLINK_GENERIC,
  NETLINK_KOBJECT_UEVENT,
  NETLINK_NETFILTER,
  NETLINK_ROUTE,
  NETLINK_SOCK_DIAG,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
} from '../sys/constants';
import { throwRaw } from './failure';
import { SocketBind, SocketFamily, sockaddr } from './sockaddr';
import { InTarget, pidOf } from './target';
import { runInThreadNs } from './vehicle';
import { SOCKOPT, opCall } from './wire';

/** The option names the checks below know: any other is a typo (checkOptionKeys). */
const SOCKET_IN_KEYS = optionKeys<SocketInOptions>({ family: true, type: true, protocol: true, bind: true, reuseAddr: true, reusePort: true, ipv6Only: true, nonblock: true });

export type { SocketBind, SocketFamily } from './sockaddr';
/** The socket type of socketIn(). */
export type SocketType = 'stream' | 'dgram' | 'raw' | 'seqpacket';

const FAMILIES = new Map<string, number>([
  ['unix', AF_UNIX],
  ['inet', AF_INET],
  ['inet6', AF_INET6],
  ['netlink', AF_NETLINK],
  ['packet', AF_PACKET],
]);
const TYPES = new Map<string, number>([
  ['stream', SOCK_STREAM],
  ['dgram', SOCK_DGRAM],
  ['raw', SOCK_RAW],
  ['seqpacket', SOCK_SEQPACKET],
]);
const PROTOCOLS = new Map<string, number>([
  ['ip', IPPROTO_IP],
  ['icmp', IPPROTO_ICMP],
  ['tcp', IPPROTO_TCP],
  ['udp', IPPROTO_UDP],
  ['icmpv6', IPPROTO_ICMPV6],
  ['sctp', IPPROTO_SCTP],
  // netlink
  ['route', NETLINK_ROUTE],
  ['sock_diag', NETLINK_SOCK_DIAG],
  ['audit', NETLINK_AUDIT],
  ['netfilter', NETLINK_NETFILTER],
  ['kobject_uevent', NETLINK_KOBJECT_UEVENT],
  ['generic', NETLINK_GENERIC],
]);
const NETLINK_ONLY = ['route', 'sock_diag', 'audit', 'netfilter', 'kobject_uevent', 'generic'];

/** Options of socketIn(): the socket to make in the target's network namespace, and where to bind it. */
export interface SocketInOptions {
  family: SocketFamily;
  type: SocketType;
  /** A number, or a name: tcp, udp, icmp, icmpv6, sctp; netlink: route, generic, netfilter, audit, sock_diag, kobject_uevent. */
  protocol?: number | string | undefined;
  /** Bind inside the target (Node cannot bind a socket it adopts by fd). */
  bind?: SocketBind | undefined;
  reuseAddr?: boolean | undefined;
  reusePort?: boolean | undefined;
  /** IPV6_V6ONLY (inet6 only). */
  ipv6Only?: boolean | undefined;
  /** SOCK_NONBLOCK (Node sets it itself when it adopts the fd). */
  nonblock?: boolean | undefined;
}

function protocolNumber(family: SocketFamily, p: number | string | undefined): number {
  if (p === undefined) return 0;
  if (typeof p === 'number') {
    if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw outOfRange('options.protocol', '>= 0 and <= 65535', p);
    return p;
  }
  if (typeof p === 'string') {
    const key = p.toLowerCase();
    const n = PROTOCOLS.get(key);
    if (n !== undefined && (family === 'netlink') === NETLINK_ONLY.includes(key)) return n;
    throw invalidValue('options.protocol', `is not a known protocol for family ${family}`, p);
  }
  throw invalidArg('options.protocol', 'a number or a protocol name', p);
}

/** The sockopt slot: which options the op sets before the bind. */
function sockoptBits(family: SocketFamily, options: SocketInOptions): number {
  let bits = 0;
  if (options.reuseAddr) bits |= SOCKOPT.reuseAddr;
  if (options.ipv6Only !== undefined) {
    if (family !== 'inet6') throw invalidValue('options.ipv6Only', 'applies to family inet6 only', options.ipv6Only);
    bits |= options.ipv6Only ? SOCKOPT.v6Only : SOCKOPT.v6Dual;
  }
  if (options.reusePort) bits |= SOCKOPT.reusePort;
  return bits;
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
  checkOptionKeys(options, SOCKET_IN_KEYS);
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
  const protocol = protocolNumber(family, options.protocol);
  const sockopt = sockoptBits(family, options);
  const buf = options.bind === undefined ? undefined : sockaddr(family, options.bind);
  const sockType = typeNum | (options.nonblock ? SOCK_NONBLOCK : 0);
  const call = opCall('socket', { domain: familyNum, type: sockType, protocol, sockopt }, {}, { buf });
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
