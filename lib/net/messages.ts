// rtnetlink messages: the fixed headers (struct ifinfomsg, ifaddrmsg, rtmsg)
// encoded, and links, addresses and routes decoded from the kernel's replies.
import {
  AF_UNSPEC,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFADDRMSG_LEN,
  IFF_LOWER_UP,
  IFF_UP,
  IFINFOMSG_LEN,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_LINK_NETNSID,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_OPERSTATE,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_TABLE,
  RTMSG_LEN,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_UNIVERSE,
} from '../sys/constants';
import { IpFamily, familyName, ipText } from './ip';
import { Message, decodeAttrs } from './wire';

// RFC 2863 operational states, as IFLA_OPERSTATE numbers them (0..6).
const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'] as const;

/** A link (network interface) as RTM_NEWLINK describes it. */
export interface Link {
  index: number;
  name: string;
  /** IFLA_INFO_KIND: veth, bridge, dummy, macvlan... (none for lo or a physical device) */
  kind?: string;
  flags: number;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_LOWER_UP: carrier. */
  lowerUp: boolean;
  operstate: string;
  mtu?: number;
  mac?: string;
  /** ifindex of the bridge (or bond) it is enslaved to. */
  master?: number;
  /** IFLA_LINK: the peer's (or parent's) ifindex, in the namespace linkNetnsid names when present. */
  link?: number;
  /** The netns id (in this namespace) of the namespace `link` is in. */
  linkNetnsid?: number;
}

/** An address of a link, as RTM_NEWADDR describes it. */
export interface Address {
  index: number;
  family: IpFamily;
  address: string;
  prefixLength: number;
  /** 'global', 'link', 'host', or the number. */
  scope: string | number;
  flags: number;
  label?: string;
  /** IFA_LOCAL where it differs from IFA_ADDRESS (point-to-point). */
  local?: string;
  broadcast?: string;
}

/** A route, as RTM_NEWROUTE describes it. */
export interface Route {
  family: IpFamily;
  /** "default" or "10.0.0.0/24". */
  dst: string;
  gateway?: string;
  /** ifindex of the output link. */
  oif?: number;
  table: number;
  protocol: number;
  scope: string | number;
  type: number;
  priority?: number;
  prefsrc?: string;
}

export function scopeName(s: number): string | number {
  return s === RT_SCOPE_UNIVERSE ? 'global' : s === RT_SCOPE_LINK ? 'link' : s === RT_SCOPE_HOST ? 'host' : s;
}

export function ifinfomsg(index = 0, flags = 0, change = 0, family = AF_UNSPEC): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

export function ifaddrmsg(family: number, prefixLength: number, flags: number, scope: number, index: number): Buffer {
  const b = Buffer.alloc(IFADDRMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixLength, 1);
  b.writeUInt8(flags & 0xff, 2);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

export function rtmsg(f: { family: number; dstLen: number; table: number; protocol: number; scope: number; type: number }): Buffer {
  const b = Buffer.alloc(RTMSG_LEN);
  b.writeUInt8(f.family, 0);
  b.writeUInt8(f.dstLen, 1);
  // A table above 255 goes in RTA_TABLE only.
  b.writeUInt8(f.table <= 0xff ? f.table : 0, 4);
  b.writeUInt8(f.protocol, 5);
  b.writeUInt8(f.scope, 6);
  b.writeUInt8(f.type, 7);
  return b;
}

export function macText(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function parseLink(m: Message): Link {
  const index = m.body.readInt32LE(4);
  const flags = m.body.readUInt32LE(8);
  const a = decodeAttrs(m.body.subarray(IFINFOMSG_LEN));
  const link: Link = {
    index,
    name: a.get(IFLA_IFNAME)?.toString('utf8').replace(/\0.*$/s, '') ?? '',
    flags,
    up: (flags & IFF_UP) !== 0,
    lowerUp: (flags & IFF_LOWER_UP) !== 0,
    operstate: OPERSTATES[a.get(IFLA_OPERSTATE)?.readUInt8(0) ?? 0] ?? 'UNKNOWN',
  };
  const info = a.get(IFLA_LINKINFO);
  const kind = info && decodeAttrs(info).get(IFLA_INFO_KIND)?.toString('utf8').replace(/\0.*$/s, '');
  if (kind) link.kind = kind;
  const mtu = a.get(IFLA_MTU);
  if (mtu) link.mtu = mtu.readUInt32LE(0);
  const mac = a.get(IFLA_ADDRESS);
  if (mac && mac.length > 0) link.mac = macText(mac);
  const master = a.get(IFLA_MASTER);
  if (master) link.master = master.readUInt32LE(0);
  const peer = a.get(IFLA_LINK);
  const nsid = a.get(IFLA_LINK_NETNSID);
  if (nsid) link.linkNetnsid = nsid.readInt32LE(0);
  // A physical device names itself; a veth names its peer (maybe elsewhere).
  if (peer && (nsid !== undefined || peer.readInt32LE(0) !== index)) link.link = peer.readInt32LE(0);
  return link;
}

export function parseAddress(m: Message): Address | undefined {
  const family = familyName(m.body.readUInt8(0));
  if (family === undefined) return undefined;
  const a = decodeAttrs(m.body.subarray(IFADDRMSG_LEN));
  const addr = a.get(IFA_ADDRESS) ?? a.get(IFA_LOCAL);
  if (!addr) return undefined;
  const out: Address = {
    index: m.body.readUInt32LE(4),
    family,
    address: ipText(family, addr),
    prefixLength: m.body.readUInt8(1),
    scope: scopeName(m.body.readUInt8(3)),
    flags: a.get(IFA_FLAGS)?.readUInt32LE(0) ?? m.body.readUInt8(2),
  };
  const local = a.get(IFA_LOCAL);
  if (local && !local.equals(addr)) out.local = ipText(family, local);
  const label = a.get(IFA_LABEL);
  if (label) out.label = label.toString('utf8').replace(/\0.*$/s, '');
  const brd = a.get(IFA_BROADCAST);
  if (brd) out.broadcast = ipText(family, brd);
  return out;
}

export function parseRoute(m: Message): Route | undefined {
  const family = familyName(m.body.readUInt8(0));
  if (family === undefined) return undefined;
  const a = decodeAttrs(m.body.subarray(RTMSG_LEN));
  const dstLen = m.body.readUInt8(1);
  const dst = a.get(RTA_DST);
  const r: Route = {
    family,
    dst: dst ? `${ipText(family, dst)}/${dstLen}` : dstLen === 0 ? 'default' : `/${dstLen}`,
    table: a.get(RTA_TABLE)?.readUInt32LE(0) ?? m.body.readUInt8(4),
    protocol: m.body.readUInt8(5),
    scope: scopeName(m.body.readUInt8(6)),
    type: m.body.readUInt8(7),
  };
  const gw = a.get(RTA_GATEWAY);
  if (gw) r.gateway = ipText(family, gw);
  const oif = a.get(RTA_OIF);
  if (oif) r.oif = oif.readUInt32LE(0);
  const prio = a.get(RTA_PRIORITY);
  if (prio) r.priority = prio.readUInt32LE(0);
  const src = a.get(RTA_PREFSRC);
  if (src) r.prefsrc = ipText(family, src);
  return r;
}

