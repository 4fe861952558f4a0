// Network: a small topology helper for tests. Nodes are network namespaces
// with no process in them; links are veth pairs with addresses from a
// subnet. close() (or `await using`) removes all of it; as root the nodes are
// also persisted under a directory of ours, so `nsenter --net=PATH` reaches
// them while the test runs, and a run that died is cleaned at the next start.
import { privilege } from '../core/privilege';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { E, NsError, checkOptionKeys, invalidArg, invalidValue, optionKeys } from '../core/errors';
import { CreateNamespaceOptions, Namespace } from '../namespace';
import { Rtnetlink } from './rtnetlink';
import { nthAddress, parsePrefix } from './ip';
import { procStartTime } from '../core/procfs';

/** The option names the checks below know: any other is a typo (checkOptionKeys). */
const NETWORK_OPTION_KEYS = optionKeys<NetworkOptions>({ persist: true });
const LINK_OPTION_KEYS = optionKeys<LinkOptions>({ subnet: true, names: true, mtu: true });

/** Where Network persists its nodes: one directory per run, "<pid ns inode>-<pid>-<start time>-<n>". */
export const NETWORK_RUN_DIR = '/run/nsfd/net';

/** Options of Network.create(). */
export interface NetworkOptions {
  /** Persist nodes under NETWORK_RUN_DIR (default: as root). */
  persist?: boolean | undefined;
}

/** A node of a Network: a network namespace, with rtnetlink in it. */
export interface NetNode {
  readonly name: string;
  /** The node's network namespace (owned by the Network). */
  readonly ns: Namespace;
  /** rtnetlink in the node (owned by the Network). */
  readonly nl: Rtnetlink;
  /** The bind mount, when persisted. */
  readonly path?: string;
}

/** One end of a link Network#link() made: its node, device and address. */
export interface LinkEnd {
  node: NetNode;
  dev: string;
  /** The address given to it, "10.200.0.1/30". */
  cidr: string;
  address: string;
}

/** Options of Network#link(). */
export interface LinkOptions {
  /** The subnet to number both ends from: first usable address to `a`, next to `b`. */
  subnet: string;
  /** Interface names (default: veth-<other node's name>, cut to 15 bytes). */
  names?: readonly [string, string] | undefined;
  mtu?: number | undefined;
}


/** Our pid namespace's inode: run directories are named after it, so pids are only compared within one pid namespace. */
function pidnsInode(): string {
  using ns = Namespace.current('pid');
  return String(ns.inode);
}

/** Removes the run directories of Networks (of our pid namespace) whose process is gone, unmounting their nodes. */
export function cleanStaleNetworks(root = NETWORK_RUN_DIR): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const ours = pidnsInode();
  for (const e of entries) {
    const m = /^(\d+)-(\d+)-(\d+)-\d+$/.exec(e);
    // Only runs of our pid namespace: a pid from another one says nothing here.
    if (!m || m[1] !== ours) continue;
    if (procStartTime(Number(m[2])) === m[3]) continue; // its owner still runs
    removeRunDir(path.join(root, e));
    removed.push(e);
  }
  return removed;
}

function removeRunDir(dir: string): void {
  let files: string[] = [];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const f of files) {
    try {
      Namespace.unpersist(path.join(dir, f));
    } catch {
      fs.rmSync(path.join(dir, f), { force: true });
    }
  }
  try {
    fs.rmdirSync(dir);
  } catch {
    // Something still mounted there (or not ours to remove): left for the next start.
  }
}

let runCounter = 0;

/** A test network: nodes (network namespaces, with no process) joined by veth links with addresses; everything removed on close()/dispose, and nothing left behind when the process dies (persisted runs are cleaned at the next start). */
export class Network {
  readonly #nodes = new Map<string, NetNode>();
  readonly #userns: Namespace | undefined;
  /** Where the nodes are bind-mounted (persisted runs), else undefined. */
  readonly dir: string | undefined;
  #closed = false;

  private constructor(userns: Namespace | undefined, dir: string | undefined) {
    this.#userns = userns;
    this.dir = dir;
  }

  /**
   * A new, empty network. Rootless, its nodes live in one user namespace
   * made for it (so veth pairs may join them).
   */
  static async create(options: NetworkOptions = {}): Promise<Network> {
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    checkOptionKeys(options, NETWORK_OPTION_KEYS);
    const root = privilege().admin;
    if (options.persist !== undefined && typeof options.persist !== 'boolean') throw invalidArg('options.persist', 'a boolean', options.persist);
    const persist = options.persist ?? root;
    let dir: string | undefined;
    if (persist) {
      cleanStaleNetworks();
      dir = path.join(NETWORK_RUN_DIR, `${pidnsInode()}-${process.pid}-${procStartTime('self') ?? 0}-${runCounter++}`);
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    const userns = root ? undefined : (await Namespace.create(['user'])).user;
    return new Network(userns, dir);
  }

  /** The nodes, in the order they were made. */
  get nodes(): readonly NetNode[] {
    return [...this.#nodes.values()];
  }

  /** A new node: a network namespace with lo up. */
  async node(name: string): Promise<NetNode> {
    if (this.#closed) throw new NsError(-E.EBADF, 'Network.node', { hint: 'the network is closed' });
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name === '.' || name === '..') {
      throw invalidValue('name', 'must be 1..64 letters, digits, "_", "." or "-"', name);
    }
    if (this.#nodes.has(name)) throw new NsError(-E.EEXIST, 'Network.node', { hint: `a node named ${name} exists` });
    const file = this.dir === undefined ? undefined : path.join(this.dir, name);
    const opts: CreateNamespaceOptions = {};
    if (file !== undefined) opts.persist = file;
    if (this.#userns !== undefined) opts.userns = this.#userns;
    const created = await Namespace.create(['net'], opts);
    const ns = created.net;
    let nl: Rtnetlink | undefined;
    try {
      nl = Rtnetlink.open(ns);
      await nl.setLink('lo', { up: true });
    } catch (err) {
      nl?.close();
      ns.close();
      if (file !== undefined) unpersistQuiet(file);
      throw err;
    }
    const node: NetNode = file === undefined ? { name, ns, nl } : { name, ns, nl, path: file };
    this.#nodes.set(name, node);
    return node;
  }

  /** A veth pair between two nodes, numbered from `subnet`, both ends up. */
  async link(a: NetNode, b: NetNode, options: LinkOptions): Promise<[LinkEnd, LinkEnd]> {
    for (const [n, arg] of [[a, 'a'], [b, 'b']] as const) {
      if (this.#nodes.get(n?.name) !== n) throw invalidArg(arg, 'a node of this Network', n);
    }
    if (a === b) throw invalidValue('b', 'must be another node than a', b.name);
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    checkOptionKeys(options, LINK_OPTION_KEYS);
    const subnet = parsePrefix(options.subnet, 'options.subnet');
    const hostBits = (subnet.family === 'inet' ? 32 : 128) - subnet.length;
    if (hostBits < 1) throw invalidValue('options.subnet', 'has no room for two addresses', options.subnet);
    // /31 (and /127) use both addresses; larger subnets skip the network address.
    const first = hostBits === 1 ? 0 : 1;
    const addrA = nthAddress(subnet, first);
    const addrB = nthAddress(subnet, first + 1);
    if (options.names !== undefined && (!Array.isArray(options.names) || options.names.length !== 2)) {
      throw invalidArg('options.names', 'an array of two interface names', options.names);
    }
    const [devA, devB] = (options.names as readonly [string, string] | undefined) ?? [`veth-${b.name}`.slice(0, 15), `veth-${a.name}`.slice(0, 15)];
    await a.nl.addVeth(devA, devB, options.mtu === undefined ? { peerNamespace: b.ns } : { peerNamespace: b.ns, mtu: options.mtu });
    try {
      const nodad = subnet.family === 'inet6';
      await a.nl.addAddress(devA, `${addrA}/${subnet.length}`, { nodad });
      await b.nl.addAddress(devB, `${addrB}/${subnet.length}`, { nodad });
      await a.nl.setLink(devA, { up: true });
      await b.nl.setLink(devB, { up: true });
    } catch (err) {
      // Nothing half-made: the pair goes (both ends) with its addresses.
      await a.nl.deleteLink(devA).catch(() => undefined);
      throw err;
    }
    return [
      { node: a, dev: devA, cidr: `${addrA}/${subnet.length}`, address: addrA },
      { node: b, dev: devB, cidr: `${addrB}/${subnet.length}`, address: addrB },
    ];
  }

  /** Removes every node (their links go with their namespaces) and the run directory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const n of this.#nodes.values()) {
      n.nl.close();
      if (n.path !== undefined) unpersistQuiet(n.path);
      n.ns.close();
    }
    this.#nodes.clear();
    this.#userns?.close();
    if (this.dir !== undefined) removeRunDir(this.dir);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function unpersistQuiet(file: string): void {
  try {
    Namespace.unpersist(file);
  } catch {
    fs.rmSync(file, { force: true });
  }
}
