// Rtnetlink: links, addresses, routes and netns ids of one network namespace,
// over a NETLINK_ROUTE socket made in it (see socket.ts). Every change waits
// for the kernel's ACK; every list reads its dump to NLMSG_DONE; a refusal is
// an NsError "RTM_NEWLINK veth0: EEXIST" with the errno.
import { E, NsError, checkOptionKeys, invalidArg, invalidValue, optionKeys, outOfRange } from '../core/errors';
import { Namespace } from '../namespace';
import type { InTarget } from '../inside/target';
import {
  AF_UNSPEC,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_F_NODAD,
  IFA_FLAGS,
  IFA_LOCAL,
  IFF_UP,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_MACVLAN_MODE,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_NET_NS_FD,
  IFNAMSIZ,
  MACVLAN_MODE_BRIDGE,
  MACVLAN_MODE_PASSTHRU,
  MACVLAN_MODE_PRIVATE,
  MACVLAN_MODE_VEPA,
  NETNSA,
  NLM_F_DUMP,
  NLM_F_NEW,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_TABLE,
  RTGENMSG_LEN,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETNSID,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWNSID,
  RTM_NEWROUTE,
  RTN_UNICAST,
  RTPROT_BOOT,
  RT_SCOPE_LINK,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  VETH_INFO_PEER,
} from '../sys/constants';
import { IpFamily, familyNumber, ipBytes, parsePrefix } from './ip';
import { Address, Link, Route, ifaddrmsg, ifinfomsg, parseAddress, parseLink, parseRoute, rtmsg } from './messages';
import { RequestName, RtnlSocket } from './socket';
import { Attr, Message, decodeAttrs, encodeAttrs, i32, str, u32 } from './wire';

/** The option names the checks below know: any other is a typo (checkOptionKeys). */
const VETH_OPTION_KEYS = optionKeys<VethOptions>({ peerNamespace: true, mtu: true });
const MACVLAN_OPTION_KEYS = optionKeys<{ mode?: MacvlanMode }>({ mode: true });
const LINK_CHANGE_KEYS = optionKeys<LinkChange>({ up: true, mtu: true, name: true, master: true, namespace: true });
const ADDRESS_FILTER_KEYS = optionKeys<{ dev?: string | number; family?: IpFamily }>({ dev: true, family: true });
const ADDRESS_OPTION_KEYS = optionKeys<AddressOptions>({ nodad: true, broadcast: true });
const ROUTE_KEYS = optionKeys<RouteSpec>({ dst: true, gateway: true, dev: true, table: true, metric: true, src: true });

export type { Address, Link, Route } from './messages';

/** What Rtnetlink#setLink() changes on a link. */
export interface LinkChange {
  up?: boolean | undefined;
  mtu?: number | undefined;
  /** A new name. */
  name?: string | undefined;
  /** Enslave to this bridge (name or index); null: release it. */
  master?: string | number | null | undefined;
  /** Move the link to this network namespace. */
  namespace?: Namespace | undefined;
}

/** Options of Rtnetlink#addVeth(). */
export interface VethOptions {
  /** Where the peer goes (default: this namespace). */
  peerNamespace?: Namespace | undefined;
  mtu?: number | undefined;
}

/** The mode of a macvlan link (IFLA_MACVLAN_MODE). */
export type MacvlanMode = 'private' | 'vepa' | 'bridge' | 'passthru';
const MACVLAN_MODES: Record<MacvlanMode, number> = {
  private: MACVLAN_MODE_PRIVATE,
  vepa: MACVLAN_MODE_VEPA,
  bridge: MACVLAN_MODE_BRIDGE,
  passthru: MACVLAN_MODE_PASSTHRU,
};

/** Options of Rtnetlink#addAddress(). */
export interface AddressOptions {
  /** IPv6: skip duplicate address detection, so the address is usable at once. */
  nodad?: boolean | undefined;
  /** IPv4: the broadcast address (default: none, as `ip addr add` without brd). */
  broadcast?: string | undefined;
}

/** A route to add or delete: destination, and gateway and/or output link. */
export interface RouteSpec {
  /** "default", "10.1.0.0/16" or an address (a host route). */
  dst: string;
  gateway?: string | undefined;
  /** The output link: name or index. */
  dev?: string | number | undefined;
  /** Table (default main). */
  table?: number | undefined;
  metric?: number | undefined;
  /** Preferred source address. */
  src?: string | undefined;
}

function checkName(name: unknown, arg: string): asserts name is string {
  if (typeof name !== 'string') throw invalidArg(arg, 'a string', name);
  if (name === '' || Buffer.byteLength(name) >= IFNAMSIZ || /[\s/:\0]/.test(name) || name === '.' || name === '..') {
    throw invalidValue(arg, `is not a valid interface name (1..${IFNAMSIZ - 1} bytes, no whitespace, "/" or ":")`, name);
  }
}

function checkDev(dev: unknown, arg: string): asserts dev is string | number {
  if (typeof dev === 'number') {
    if (!Number.isInteger(dev) || dev <= 0 || dev > 0x7fffffff) throw outOfRange(arg, 'a positive ifindex', dev);
    return;
  }
  checkName(dev, arg);
}

function checkMtu(mtu: unknown, arg: string): asserts mtu is number {
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 68 || mtu > 0xffff) throw outOfRange(arg, 'an integer >= 68 and <= 65535', mtu);
}

function checkObject(o: unknown, arg: string): asserts o is object {
  if (o === null || typeof o !== 'object') throw invalidArg(arg, 'an object', o);
}

function checkU32(v: unknown, arg: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw outOfRange(arg, 'an integer >= 0 and <= 4294967295', v);
}

function checkFamily(f: unknown, arg: string): asserts f is IpFamily | undefined {
  if (f !== undefined && f !== 'inet' && f !== 'inet6') throw invalidValue(arg, "must be 'inet' or 'inet6'", f);
}

function nsFd(ns: unknown, arg: string): number {
  if (!(ns instanceof Namespace) || ns.type !== 'net') throw invalidArg(arg, 'a network Namespace', ns);
  return ns.fdFor(arg);
}

/** RTM_GETNSID of `ns`: the request's type, flags, header, attributes and name. */
function nsidQuery(ns: Namespace): [number, number, Buffer, Attr[], RequestName] {
  return [RTM_GETNSID, 0, Buffer.alloc(RTGENMSG_LEN), [[NETNSA.FD, u32(nsFd(ns, 'ns'))]], { op: 'RTM_GETNSID' }];
}

/** The id in RTM_GETNSID's answer, or undefined when none is assigned. */
function nsidAnswer(ms: readonly Message[]): number | undefined {
  const m = ms.find((x) => x.type === RTM_NEWNSID);
  const id = m && decodeAttrs(m.body.subarray(RTGENMSG_LEN)).get(NETNSA.NSID)?.readInt32LE(0);
  return id === undefined || id === NETNSA.NSID_NOT_ASSIGNED ? undefined : id;
}

/**
 * @internal Rtnetlink#nsid() on this thread, over a socket of the
 * caller's: for the CLI's NETNSID column, one blocking query per
 * namespace (microseconds each) instead of a pool round trip.
 */
export function nsidSync(s: RtnlSocket, ns: Namespace): number | undefined {
  return nsidAnswer(s.requestSync(...nsidQuery(ns)));
}

/**
 * rtnetlink on one network namespace: a Namespace, a Pidfd or a Container
 * (its network namespace), reached through socketIn: the caller's threads
 * never move. Owns its socket: close() or `using`.
 *
 *   using nl = Rtnetlink.open(ns);
 *   await nl.addVeth('veth0', 'veth1', { peerNamespace: other });
 *   await nl.addAddress('veth0', '10.0.0.1/24');
 *   await nl.setLink('veth0', { up: true });
 */
export class Rtnetlink {
  readonly #s: RtnlSocket;

  private constructor(s: RtnlSocket) {
    this.#s = s;
  }

  /** An rtnetlink socket in the target's network namespace (made there by socketIn; the caller never moves). */
  static open(target: InTarget): Rtnetlink {
    return new Rtnetlink(new RtnlSocket(target));
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#s.closed;
  }

  /** Closes the socket; requests still queued reject with EBADF. Idempotent. */
  close(): void {
    this.#s.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #req(type: number, flags: number, header: Buffer, attrs: readonly Attr[], what: RequestName): Promise<Message[]> {
    return this.#s.request(type, flags, header, attrs, what);
  }

  // ---- links -------------------------------------------------------------

  /** Every link of the namespace (RTM_GETLINK dump). */
  async links(): Promise<Link[]> {
    const ms = await this.#req(RTM_GETLINK, NLM_F_DUMP, ifinfomsg(), [], { op: 'RTM_GETLINK' });
    return ms.filter((m) => m.type === RTM_NEWLINK).map(parseLink);
  }

  /** One link by name or index (ENODEV when there is none). */
  async link(dev: string | number): Promise<Link> {
    checkDev(dev, 'dev');
    const byName = typeof dev === 'string';
    const ms = await this.#req(RTM_GETLINK, 0, ifinfomsg(byName ? 0 : dev), byName ? [[IFLA_IFNAME, str(dev)]] : [], {
      op: 'RTM_GETLINK',
      subject: String(dev),
      hints: { ENODEV: 'no such link in this network namespace' },
    });
    const m = ms.find((x) => x.type === RTM_NEWLINK);
    if (!m) throw new NsError(-E.EPROTO, `RTM_GETLINK ${dev}`, { hint: 'no RTM_NEWLINK in the reply' });
    return parseLink(m);
  }

  async #index(dev: string | number, arg: string): Promise<number> {
    checkDev(dev, arg);
    return typeof dev === 'number' ? dev : (await this.link(dev)).index;
  }

  #newLink(name: string, kind: string, data: readonly Attr[] | undefined, extra: readonly Attr[]): Promise<Message[]> {
    const info: Attr[] = [[IFLA_INFO_KIND, str(kind)]];
    if (data) info.push([IFLA_INFO_DATA, data]);
    return this.#req(RTM_NEWLINK, NLM_F_NEW.CREATE | NLM_F_NEW.EXCL, ifinfomsg(), [[IFLA_IFNAME, str(name)], ...extra, [IFLA_LINKINFO, info]], {
      op: 'RTM_NEWLINK',
      subject: name,
      hints: { EEXIST: 'a link of that name exists', EOPNOTSUPP: `this kernel has no ${kind} links (module not loaded?)` },
    });
  }

  /** A veth pair: `name` here, `peer` here or in options.peerNamespace (both made at once, or neither). */
  async addVeth(name: string, peer: string, options: VethOptions = {}): Promise<void> {
    checkName(name, 'name');
    checkName(peer, 'peer');
    checkObject(options, 'options');
    checkOptionKeys(options, VETH_OPTION_KEYS);
    const extra: Attr[] = [];
    const peerAttrs: Attr[] = [[IFLA_IFNAME, str(peer)]];
    if (options.mtu !== undefined) {
      checkMtu(options.mtu, 'options.mtu');
      extra.push([IFLA_MTU, u32(options.mtu)]);
      peerAttrs.push([IFLA_MTU, u32(options.mtu)]);
    }
    if (options.peerNamespace !== undefined) peerAttrs.push([IFLA_NET_NS_FD, u32(nsFd(options.peerNamespace, 'options.peerNamespace'))]);
    // VETH_INFO_PEER carries a struct ifinfomsg, then the peer's attributes.
    const peerBody = Buffer.concat([ifinfomsg(), encodeAttrs(peerAttrs)]);
    await this.#newLink(name, 'veth', [[VETH_INFO_PEER, peerBody]], extra);
  }

  /** Adds a bridge. */
  async addBridge(name: string): Promise<void> {
    checkName(name, 'name');
    await this.#newLink(name, 'bridge', undefined, []);
  }

  /** Adds a dummy link (needs CONFIG_DUMMY: EOPNOTSUPP otherwise). */
  async addDummy(name: string): Promise<void> {
    checkName(name, 'name');
    await this.#newLink(name, 'dummy', undefined, []);
  }

  /** A macvlan on `parent` (default mode bridge). */
  async addMacvlan(name: string, parent: string | number, options: { mode?: MacvlanMode } = {}): Promise<void> {
    checkName(name, 'name');
    checkObject(options, 'options');
    checkOptionKeys(options, MACVLAN_OPTION_KEYS);
    const mode = options.mode ?? 'bridge';
    if (typeof mode !== 'string' || !Object.hasOwn(MACVLAN_MODES, mode)) throw invalidValue('options.mode', `must be one of ${Object.keys(MACVLAN_MODES).join(', ')}`, mode);
    const parentIndex = await this.#index(parent, 'parent');
    await this.#newLink(name, 'macvlan', [[IFLA_MACVLAN_MODE, u32(MACVLAN_MODES[mode])]], [[IFLA_LINK, u32(parentIndex)]]);
  }

  /** Up/down, mtu, name, master, namespace: one RTM_NEWLINK, applied together. */
  async setLink(dev: string | number, change: LinkChange): Promise<void> {
    checkDev(dev, 'dev');
    if (change === null || typeof change !== 'object') throw invalidArg('change', 'an object', change);
    checkOptionKeys(change, LINK_CHANGE_KEYS, 'change');
    const attrs: Attr[] = [];
    if (change.mtu !== undefined) {
      checkMtu(change.mtu, 'change.mtu');
      attrs.push([IFLA_MTU, u32(change.mtu)]);
    }
    if (change.name !== undefined) {
      checkName(change.name, 'change.name');
      attrs.push([IFLA_IFNAME, str(change.name)]);
    }
    if (change.namespace !== undefined) attrs.push([IFLA_NET_NS_FD, u32(nsFd(change.namespace, 'change.namespace'))]);
    if (change.master !== undefined) attrs.push([IFLA_MASTER, u32(change.master === null ? 0 : await this.#index(change.master, 'change.master'))]);
    if (change.up !== undefined && typeof change.up !== 'boolean') throw invalidArg('change.up', 'a boolean', change.up);
    // A rename needs the index: IFLA_IFNAME then names the new name.
    const index = typeof dev === 'number' ? dev : change.name !== undefined ? await this.#index(dev, 'dev') : 0;
    if (index === 0) attrs.unshift([IFLA_IFNAME, str(dev as string)]);
    const up = change.up === undefined ? [0, 0] : [change.up ? IFF_UP : 0, IFF_UP];
    await this.#req(RTM_NEWLINK, 0, ifinfomsg(index, up[0], up[1]), attrs, {
      op: 'RTM_NEWLINK',
      subject: String(dev),
      hints: {
        ENODEV: 'no such link in this network namespace',
        EEXIST: 'the new name is taken',
        ...(change.namespace !== undefined ? { EINVAL: 'this kind of link cannot change namespace (a bridge, lo...)' } : {}),
      },
    });
  }

  /** Moves a link to another network namespace (setLink with `namespace`). */
  moveLink(dev: string | number, namespace: Namespace): Promise<void> {
    return this.setLink(dev, { namespace });
  }

  /** Deletes a link (a veth's peer goes with it). */
  async deleteLink(dev: string | number): Promise<void> {
    checkDev(dev, 'dev');
    const byName = typeof dev === 'string';
    await this.#req(RTM_DELLINK, 0, ifinfomsg(byName ? 0 : dev), byName ? [[IFLA_IFNAME, str(dev)]] : [], {
      op: 'RTM_DELLINK',
      subject: String(dev),
      hints: { ENODEV: 'no such link in this network namespace', EOPNOTSUPP: 'this link cannot be deleted (lo?)' },
    });
  }

  // ---- addresses ---------------------------------------------------------

  /** The addresses of the namespace, of one link or one family if asked (RTM_GETADDR dump). */
  async addresses(filter: { dev?: string | number; family?: IpFamily } = {}): Promise<Address[]> {
    checkObject(filter, 'filter');
    checkOptionKeys(filter, ADDRESS_FILTER_KEYS, 'filter');
    checkFamily(filter.family, 'filter.family');
    const index = filter.dev === undefined ? undefined : await this.#index(filter.dev, 'filter.dev');
    const fam = filter.family === undefined ? AF_UNSPEC : familyNumber(filter.family);
    const ms = await this.#req(RTM_GETADDR, NLM_F_DUMP, ifaddrmsg(fam, 0, 0, 0, 0), [], { op: 'RTM_GETADDR' });
    return ms
      .filter((m) => m.type === RTM_NEWADDR)
      .map(parseAddress)
      .filter((a): a is Address => a !== undefined && (index === undefined || a.index === index) && (filter.family === undefined || a.family === filter.family));
  }

  /** Adds "10.0.0.1/24" or "fd00::1/64" to a link. */
  async addAddress(dev: string | number, cidr: string, options: AddressOptions = {}): Promise<void> {
    checkObject(options, 'options');
    checkOptionKeys(options, ADDRESS_OPTION_KEYS);
    const p = parsePrefix(cidr, 'cidr');
    const index = await this.#index(dev, 'dev');
    const attrs: Attr[] = [
      [IFA_LOCAL, p.bytes],
      [IFA_ADDRESS, p.bytes],
    ];
    // (IFA_F_PERMANENT is the kernel's to set: no lifetimes given.)
    let flags = 0;
    if (options.nodad) flags |= IFA_F_NODAD;
    if (options.broadcast !== undefined) {
      const b = ipBytes(options.broadcast, 'options.broadcast');
      if (b.family !== 'inet' || p.family !== 'inet') throw invalidValue('options.broadcast', 'applies to IPv4 only', options.broadcast);
      attrs.push([IFA_BROADCAST, b.bytes]);
    }
    attrs.push([IFA_FLAGS, u32(flags)]);
    await this.#req(RTM_NEWADDR, NLM_F_NEW.CREATE | NLM_F_NEW.EXCL, ifaddrmsg(familyNumber(p.family), p.length, flags, RT_SCOPE_UNIVERSE, index), attrs, {
      op: 'RTM_NEWADDR',
      subject: `${cidr} dev ${dev}`,
      hints: { EEXIST: 'the address is already on that link' },
    });
  }

  /** Removes an address ("10.0.0.1/24") from a link. */
  async deleteAddress(dev: string | number, cidr: string): Promise<void> {
    const p = parsePrefix(cidr, 'cidr');
    const index = await this.#index(dev, 'dev');
    await this.#req(RTM_DELADDR, 0, ifaddrmsg(familyNumber(p.family), p.length, 0, 0, index), [[IFA_LOCAL, p.bytes], [IFA_ADDRESS, p.bytes]], {
      op: 'RTM_DELADDR',
      subject: `${cidr} dev ${dev}`,
      hints: { EADDRNOTAVAIL: 'no such address on that link' },
    });
  }

  // ---- routes ------------------------------------------------------------

  /** Routes of one table (default main), both families unless one is given. */
  async routes(filter: { family?: IpFamily; table?: number } = {}): Promise<Route[]> {
    checkObject(filter, 'filter');
    checkFamily(filter.family, 'filter.family');
    if (filter.table !== undefined) checkU32(filter.table, 'filter.table');
    const table = filter.table ?? RT_TABLE_MAIN;
    const fam = filter.family === undefined ? AF_UNSPEC : familyNumber(filter.family);
    const ms = await this.#req(RTM_GETROUTE, NLM_F_DUMP, rtmsg({ family: fam, dstLen: 0, table: 0, protocol: 0, scope: 0, type: 0 }), [], { op: 'RTM_GETROUTE' });
    return ms
      .filter((m) => m.type === RTM_NEWROUTE)
      .map(parseRoute)
      .filter((r): r is Route => r !== undefined && r.table === table && (filter.family === undefined || r.family === filter.family));
  }

  async #routeMessage(spec: RouteSpec): Promise<{ header: Buffer; attrs: Attr[]; subject: string }> {
    if (spec === null || typeof spec !== 'object') throw invalidArg('route', 'an object', spec);
    checkOptionKeys(spec, ROUTE_KEYS, 'route');
    const gw = spec.gateway === undefined ? undefined : ipBytes(spec.gateway, 'route.gateway');
    let family: IpFamily;
    let dstLen = 0;
    const attrs: Attr[] = [];
    if (typeof spec.dst !== 'string') throw invalidArg('route.dst', "'default' or an address with an optional /prefix length", spec.dst);
    if (spec.dst === 'default') {
      family = gw?.family ?? 'inet';
    } else {
      const p = parsePrefix(spec.dst, 'route.dst');
      family = p.family;
      dstLen = p.length;
      attrs.push([RTA_DST, p.bytes]);
    }
    if (gw) {
      if (gw.family !== family) throw invalidValue('route.gateway', `is not an ${family} address`, spec.gateway);
      attrs.push([RTA_GATEWAY, gw.bytes]);
    }
    if (spec.dev !== undefined) attrs.push([RTA_OIF, u32(await this.#index(spec.dev, 'route.dev'))]);
    if (!gw && spec.dev === undefined) throw invalidValue('route', 'needs a gateway or a dev', spec);
    if (spec.metric !== undefined) checkU32(spec.metric, 'route.metric');
    if (spec.table !== undefined) checkU32(spec.table, 'route.table');
    if (spec.metric !== undefined) attrs.push([RTA_PRIORITY, u32(spec.metric)]);
    if (spec.src !== undefined) {
      const s = ipBytes(spec.src, 'route.src');
      if (s.family !== family) throw invalidValue('route.src', `is not an ${family} address`, spec.src);
      attrs.push([RTA_PREFSRC, s.bytes]);
    }
    const table = spec.table ?? RT_TABLE_MAIN;
    attrs.push([RTA_TABLE, u32(table)]);
    // As `ip route add`: protocol boot; link scope without a gateway.
    const header = rtmsg({ family: familyNumber(family), dstLen, table, protocol: RTPROT_BOOT, scope: gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK, type: RTN_UNICAST });
    const subject = `${spec.dst}${spec.gateway ? ` via ${spec.gateway}` : ''}${spec.dev !== undefined ? ` dev ${spec.dev}` : ''}`;
    return { header, attrs, subject };
  }

  /** Adds a route (EEXIST if there is one). */
  async addRoute(spec: RouteSpec): Promise<void> {
    const { header, attrs, subject } = await this.#routeMessage(spec);
    await this.#req(RTM_NEWROUTE, NLM_F_NEW.CREATE | NLM_F_NEW.EXCL, header, attrs, {
      op: 'RTM_NEWROUTE',
      subject,
      hints: { EEXIST: 'such a route exists', ENETUNREACH: 'the gateway is not reachable through a link that is up', EINVAL: 'the route does not fit the link' },
    });
  }

  /** Deletes a route (ESRCH if there is none). */
  async deleteRoute(spec: RouteSpec): Promise<void> {
    const { header, attrs, subject } = await this.#routeMessage(spec);
    await this.#req(RTM_DELROUTE, 0, header, attrs, { op: 'RTM_DELROUTE', subject, hints: { ESRCH: 'no such route' } });
  }

  // ---- netns ids -----------------------------------------------------------

  /** The id this namespace gives `ns` (the link-netnsid of links there), or undefined when none is assigned. */
  async nsid(ns: Namespace): Promise<number | undefined> {
    return nsidAnswer(await this.#req(...nsidQuery(ns)));
  }

  /** Assigns an id to `ns` in this namespace (`ip netns set NAME ID`; default: the next free one) and returns it. */
  async setNsid(ns: Namespace, id?: number): Promise<number> {
    if (id !== undefined && (!Number.isInteger(id) || id < 0 || id > 0x7fffffff)) throw outOfRange('id', 'an integer >= 0', id);
    await this.#req(RTM_NEWNSID, 0, Buffer.alloc(RTGENMSG_LEN), [[NETNSA.FD, u32(nsFd(ns, 'ns'))], [NETNSA.NSID, i32(id ?? NETNSA.NSID_NOT_ASSIGNED)]], {
      op: 'RTM_NEWNSID',
      hints: { EEXIST: 'the namespace already has an id, or the id is taken' },
    });
    const got = await this.nsid(ns);
    if (got === undefined) throw new NsError(-E.EPROTO, 'RTM_GETNSID', { hint: 'no id after RTM_NEWNSID' });
    return got;
  }
}
