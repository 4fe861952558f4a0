// Networks for integration tests: namespaces held by no process
// (Namespace.create), rtnetlink through socketIn (Rtnetlink) and the
// Network topology helper, checked against iproute2 on the real kernel.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Container, Namespace, Network, NsError, Rtnetlink, run, socketIn, spawn } from '../lib/index';
import type { NetNode } from '../lib/index';
import { RtnlSocket } from '../lib/net/socket';
import { sockaddr } from '../lib/inside/sockaddr';
import { native } from '../lib/sys/native';
import { NLMSG_ERROR, NLM_F_DUMP, RTM_GETLINK } from '../lib/sys/constants';
import { checkLeaksPerTest, fdCount, isRoot, needsRoot, repoRoot, rootless, warmUp } from './helpers';

const mounts = (): number => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length;
const hostLinks = (): string =>
  fs
    .readdirSync('/sys/class/net')
    .sort()
    .join(',');

checkLeaksPerTest({ mounts, hostLinks });

const tag = `nsfd-test-${process.pid}`;
const made: string[] = [];
beforeAll(async () => {
  await warmUp();
  // The package's lazily made fds (spawn's /dev/null, the reaper) first.
  const { net: first, user } = await Namespace.create(['net']);
  first.close();
  user?.close();
  // ip netns add makes /run/netns a shared mount point once and for all:
  // done here, so the per-test mount count only sees per-test mounts.
  if (isRoot) {
    execFileSync('ip', ['netns', 'add', `${tag}-warm`]);
    execFileSync('ip', ['netns', 'delete', `${tag}-warm`]);
  }
});
afterAll(() => {
  for (const name of made) {
    try {
      execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
});

/** `ip -j ARGS` run inside a node (through nsfd's run, joining its namespaces). */
async function ipJson(node: Namespace, ...args: string[]): Promise<unknown[]> {
  const join = isRoot ? [node] : [node.owner(), node];
  try {
    const r = await run('ip', ['-j', ...args], { join });
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as unknown[];
  } finally {
    if (!isRoot) join[0]?.close();
  }
}

async function roundTrip(server: NetNode, serverAddr: string, client: NetNode): Promise<string> {
  const lfd = socketIn(server.ns, { family: 'inet', type: 'stream', bind: { address: serverAddr, port: 0 } });
  const srv = net.createServer((c) => c.on('data', (d) => c.end(`echo:${d.toString()}`)));
  await new Promise<void>((r) => srv.listen({ fd: lfd.release() }, r));
  const port = (srv.address() as net.AddressInfo).port;
  try {
    const sock = new net.Socket({ fd: socketIn(client.ns, { family: 'inet', type: 'stream' }).release() });
    return await new Promise<string>((resolve, reject) => {
      let got = '';
      sock.on('error', reject);
      sock.on('data', (d) => (got += d.toString()));
      sock.on('end', () => resolve(got));
      sock.connect(port, serverAddr, () => sock.write('ping'));
    });
  } finally {
    await new Promise((r) => srv.close(r));
  }
}

describe('Namespace.create', () => {
  it('makes each type asked for, new and held by no process; refuses pid', async () => {
    const types = ['net', 'uts', 'ipc', 'cgroup', 'time', 'mnt'] as const;
    const got = await Namespace.create([...types]);
    try {
      for (const t of types) {
        expect(got[t].type).toBe(t);
        using ours = Namespace.current(t === 'mnt' || t === 'time' ? t : t);
        expect(got[t].equals(ours)).toBe(false);
      }
      if (isRoot) expect(got.user).toBeUndefined();
      else {
        // Rootless: inside a user namespace made for them, which owns them.
        expect(got.user?.type).toBe('user');
        using owner = got.net.owner();
        expect(owner.equals(got.user as Namespace)).toBe(true);
      }
    } finally {
      for (const ns of [...types.map((t) => got[t]), got.user]) ns?.close();
    }
    await expect(Namespace.create(['pid' as 'net'])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(Namespace.create([])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(Namespace.create(['net'], { userns: got.net })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('makes namespaces inside a given user namespace', async () => {
    const { user } = await Namespace.create(['user']);
    try {
      const { net: n } = await Namespace.create(['net'], { userns: user as Namespace });
      using owner = n.owner();
      expect(owner.equals(user as Namespace)).toBe(true);
      n.close();
    } finally {
      user?.close();
    }
  });

  needsRoot('bind mounts in our mount namespace').it('persists like ip netns add: listed, usable and deleted by ip netns', async () => {
    const name = `${tag}-x`;
    made.push(name);
    const { net: ns, persisted } = await Namespace.create(['net'], { persist: `/run/netns/${name}` });
    try {
      expect(persisted).toEqual({ net: `/run/netns/${name}` });
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0])).toContain(name);
      const links = JSON.parse(execFileSync('ip', ['netns', 'exec', name, 'ip', '-j', 'link'], { encoding: 'utf8' })) as { ifname: string }[];
      expect(links.map((l) => l.ifname)).toEqual(['lo']);
      // The same namespace: a bridge made through our fd shows up there.
      using nl = Rtnetlink.open(ns);
      await nl.addBridge('br0');
      const again = JSON.parse(execFileSync('ip', ['-n', name, '-j', 'link'], { encoding: 'utf8' })) as { ifname: string }[];
      expect(again.map((l) => l.ifname).sort()).toEqual(['br0', 'lo']);
    } finally {
      ns.close();
    }
    execFileSync('ip', ['netns', 'delete', name]);
    expect(fs.existsSync(`/run/netns/${name}`)).toBe(false);
  });
});

needsRoot('ip netns add').describe('a namespace made by ip netns add', () => {
  it('is opened and configured by nsfd', async () => {
    const name = `${tag}-ip`;
    made.push(name);
    execFileSync('ip', ['netns', 'add', name]);
    {
      using ns = Namespace.open(`/run/netns/${name}`, 'net');
      using nl = Rtnetlink.open(ns);
      await nl.setLink('lo', { up: true });
      await nl.addVeth('d0', 'd1');
      await nl.addAddress('d0', '192.0.2.1/24');
      await nl.setLink('d0', { up: true, mtu: 1400 });
      await nl.addRoute({ dst: 'default', gateway: '192.0.2.254' });
    }
    const link = (JSON.parse(execFileSync('ip', ['-n', name, '-j', 'link', 'show', 'd0'], { encoding: 'utf8' })) as { mtu: number; flags: string[] }[])[0];
    expect(link?.mtu).toBe(1400);
    expect(link?.flags).toContain('UP');
    const route = execFileSync('ip', ['-n', name, 'route', 'show', 'default'], { encoding: 'utf8' });
    expect(route).toMatch(/^default via 192\.0\.2\.254 dev d0/);
    execFileSync('ip', ['netns', 'delete', name]);
  });
});

describe('Network', () => {
  it('joins two nodes with a veth pair: TCP round trip across it, and ip -j sees exactly what nsfd says', async () => {
    await using netw = await Network.create();
    const a = await netw.node('a');
    const b = await netw.node('b');
    const [ea, eb] = await netw.link(a, b, { subnet: '10.200.0.0/30' });
    expect([ea.cidr, eb.cidr]).toEqual(['10.200.0.1/30', '10.200.0.2/30']);
    await a.nl.addRoute({ dst: '10.201.0.0/24', gateway: eb.address });
    await b.nl.addRoute({ dst: 'default', gateway: ea.address });
    await b.nl.addAddress(eb.dev, 'fd00:200::2/64', { nodad: true });

    expect(await roundTrip(a, ea.address, b)).toBe('echo:ping');

    for (const [node, end] of [
      [a, ea],
      [b, eb],
    ] as const) {
      // links
      const ours = await node.nl.links();
      const ip = (await ipJson(node.ns, 'link')) as { ifindex: number; ifname: string; mtu: number; address: string; flags: string[]; link_netnsid?: number }[];
      expect(ip.map((l) => ({ index: l.ifindex, name: l.ifname, mtu: l.mtu, mac: l.address, up: l.flags.includes('UP'), nsid: l.link_netnsid }))).toEqual(
        ours.map((l) => ({ index: l.index, name: l.name, mtu: l.mtu, mac: l.mac, up: l.up, nsid: l.linkNetnsid })),
      );
      const veth = ours.find((l) => l.name === end.dev);
      expect(veth?.kind).toBe('veth');
      expect(veth?.linkNetnsid).toBeTypeOf('number');
      // addresses (link-local ones come and go on their own: left out)
      const addrs = (await node.nl.addresses()).filter((x) => x.scope !== 'link');
      const ipAddrs = (await ipJson(node.ns, 'addr')) as { ifindex: number; addr_info: { family: string; local: string; prefixlen: number; scope: string }[] }[];
      const flat = ipAddrs.flatMap((l) => l.addr_info.filter((x) => x.scope !== 'link').map((x) => `${l.ifindex} ${x.family} ${x.local}/${x.prefixlen} ${x.scope}`));
      expect(flat.sort()).toEqual(addrs.map((x) => `${x.index} ${x.family} ${x.address}/${x.prefixLength} ${String(x.scope)}`).sort());
      expect(addrs.some((x) => x.address === end.address && x.index === veth?.index)).toBe(true);
      // IPv4 routes of the main table
      const routes = await node.nl.routes({ family: 'inet' });
      const ipRoutes = (await ipJson(node.ns, 'route')) as { dst: string; gateway?: string; dev: string; prefsrc?: string }[];
      const byIndex = new Map(ours.map((l) => [l.index, l.name]));
      expect(ipRoutes.map((r) => `${r.dst} ${r.gateway ?? '-'} ${r.dev} ${r.prefsrc ?? '-'}`).sort()).toEqual(
        routes.map((r) => `${r.dst.replace(/\/32$/, '')} ${r.gateway ?? '-'} ${byIndex.get(r.oif ?? 0)} ${r.prefsrc ?? '-'}`).sort(),
      );
      // IPv6 routes of the main table (fe80::/64 left out, as the link-local addresses)
      const routes6 = (await node.nl.routes({ family: 'inet6' })).filter((r) => !r.dst.startsWith('fe80:'));
      const ipRoutes6 = ((await ipJson(node.ns, '-6', 'route')) as { dst: string; gateway?: string; dev: string }[]).filter((r) => !r.dst.startsWith('fe80:'));
      expect(ipRoutes6.map((r) => `${r.dst} ${r.gateway ?? '-'} ${r.dev}`).sort()).toEqual(
        routes6.map((r) => `${r.dst.replace(/\/128$/, '')} ${r.gateway ?? '-'} ${byIndex.get(r.oif ?? 0)}`).sort(),
      );
    }
    expect((await b.nl.routes({ family: 'inet6' })).map((r) => r.dst)).toContain('fd00:200::/64');
    expect((await b.nl.routes({ family: 'inet' })).find((r) => r.dst === 'default')?.gateway).toBe(ea.address);
    expect((await a.nl.addresses({ dev: ea.dev, family: 'inet' })).map((x) => x.address)).toEqual([ea.address]);
    expect((await b.nl.addresses({ dev: eb.dev, family: 'inet6' })).map((x) => x.address)).toContain('fd00:200::2');
  });

  it('bridge, macvlan, master, rename, move, delete; the peer netns id; overlapping requests; Container and Pidfd targets', async () => {
    await using netw = await Network.create();
    const a = await netw.node('a');
    const b = await netw.node('b');
    const [ea] = await netw.link(a, b, { subnet: '10.202.0.0/31' });
    expect(ea.address).toBe('10.202.0.0');
    const id = await a.nl.nsid(b.ns);
    expect(id).toBeTypeOf('number');
    expect((await a.nl.link(ea.dev)).linkNetnsid).toBe(id);
    // A bridge, a veth end enslaved to it, a macvlan on the other end; rename, mtu.
    await a.nl.addBridge('br0');
    await a.nl.addVeth('d0', 'd1');
    expect((await a.nl.link('d0')).link).toBe((await a.nl.link('d1')).index);
    await a.nl.setLink('d0', { master: 'br0', mtu: 1280 });
    const br = await a.nl.link('br0');
    expect((await a.nl.link('d0'))).toMatchObject({ master: br.index, mtu: 1280 });
    await a.nl.addMacvlan('mv0', 'd1', { mode: 'bridge' });
    expect((await a.nl.link('mv0')).kind).toBe('macvlan');
    await a.nl.setLink('mv0', { name: 'mv1', up: true });
    expect((await a.nl.link('mv1')).up).toBe(true);
    await a.nl.setLink('d0', { master: null });
    expect((await a.nl.link('d0')).master).toBeUndefined();
    // Move a link to the other node (a bridge may not move: EINVAL).
    await expect(a.nl.moveLink('br0', b.ns)).rejects.toMatchObject({ code: 'EINVAL', syscall: 'RTM_NEWLINK br0' });
    await a.nl.addVeth('m0', 'm1');
    await a.nl.moveLink('m1', b.ns);
    await expect(a.nl.link('m1')).rejects.toMatchObject({ code: 'ENODEV' });
    expect((await b.nl.link('m1')).kind).toBe('veth');
    expect((await a.nl.link('m0')).linkNetnsid).toBe(id);
    await b.nl.deleteLink('m1');
    await expect(a.nl.link('m0')).rejects.toMatchObject({ code: 'ENODEV' });
    // Addresses and routes deleted.
    await a.nl.addAddress('d0', '198.51.100.1/24');
    await a.nl.setLink('d0', { up: true });
    await a.nl.addRoute({ dst: '203.0.113.0/24', dev: 'd0' });
    await a.nl.deleteRoute({ dst: '203.0.113.0/24', dev: 'd0' });
    await a.nl.deleteAddress('d0', '198.51.100.1/24');
    expect((await a.nl.addresses({ dev: 'd0', family: 'inet' })).length).toBe(0);
    expect((await a.nl.routes()).some((r) => r.dst === '203.0.113.0/24')).toBe(false);
    // Requests on one socket may overlap: they are queued, each gets its own reply.
    const names = await Promise.all(Array.from({ length: 20 }, (_, i) => a.nl.link(i % 2 === 0 ? 'lo' : ea.dev).then((l) => l.name)));
    expect(names).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'lo' : ea.dev)));
    // A Container as the target: the network namespace of its init.
    const c = await Container.create();
    try {
      using nl = Rtnetlink.open(c);
      await nl.addVeth('c0', 'c1');
      expect((await nl.links()).map((l) => l.name).sort()).toEqual(['c0', 'c1', 'lo']);
      // What its processes see (/proc/net reads the reader's network namespace).
      const r = await c.run('cat', ['/proc/net/dev']);
      expect(r.stdout).toMatch(/^\s*c0:/m);
    } finally {
      c.close();
      await c.exited;
    }
    // A process (Pidfd) as the target: its network namespace.
    const child = spawn('sleep', ['30'], rootless({ unshare: ['net'], killOnClose: true, stdio: 'ignore' }));
    try {
      using nl = Rtnetlink.open(child.pidfd);
      expect((await nl.links()).map((l) => l.name)).toEqual(['lo']);
      await nl.setLink('lo', { up: true });
      expect((await nl.link(1)).up).toBe(true);
    } finally {
      child.close();
      await child.exited;
    }
  });
});

describe('addresses on the wire', () => {
  it('IPv4 and IPv6 forms go in and come back as the kernel (and ip) write them', async () => {
    await using netw = await Network.create();
    const a = await netw.node('a');
    await a.nl.addVeth('v0', 'v1');
    const given = ['fd00:0:0:1::5/64', '2001:db8::ffff:102:304/128', 'fd00:1:0:0:1:0:0:1/64', 'fd00:2::/64', 'fe80::1:2/64', '::ffff:1.2.3.4/128', '192.0.2.7/32', '198.51.100.255/24', '10.1.2.3/8'];
    for (const c of given) await a.nl.addAddress('v0', c, { nodad: true });
    const ours = (await a.nl.addresses({ dev: 'v0' })).map((x) => `${x.address}/${x.prefixLength}`);
    const ip = ((await ipJson(a.ns, 'addr', 'show', 'v0')) as { addr_info: { local: string; prefixlen: number }[] }[])[0]?.addr_info.map((x) => `${x.local}/${x.prefixlen}`);
    expect(ours.sort()).toEqual([...(ip ?? [])].sort());
    expect(ours).toEqual(expect.arrayContaining(['fd00:0:0:1::5/64', 'fd00:1::1:0:0:1/64', 'fd00:2::/64', '192.0.2.7/32']));
    await a.nl.deleteAddress('v0', 'fd00:2::/64');
    await a.nl.deleteAddress('v0', '192.0.2.7/32');
    const left = (await a.nl.addresses({ dev: 'v0' })).map((x) => x.address);
    expect(left).not.toContain('fd00:2::');
    expect(left).not.toContain('192.0.2.7');
    await expect(a.nl.deleteAddress('v0', '192.0.2.7/32')).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
  });
});

describe('errors: typed, nothing half-made, no fd leaked', () => {
  it('EEXIST, ENODEV, bad addresses and names, a closed or missing namespace', async () => {
    await using netw = await Network.create();
    const a = await netw.node('a');
    const b = await netw.node('b');
    const [ea] = await netw.link(a, b, { subnet: '10.210.0.0/30' });
    const before = fdCount();
    const linksA = (await a.nl.links()).map((l) => l.name);
    const linksB = (await b.nl.links()).map((l) => l.name);

    const dup = await a.nl.addVeth(ea.dev, 'other0', { peerNamespace: b.ns }).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(NsError);
    expect(dup).toMatchObject({ code: 'EEXIST', errno: -17, syscall: `RTM_NEWLINK ${ea.dev}` });
    expect((dup as Error).message).toMatch(new RegExp(`^RTM_NEWLINK ${ea.dev}: EEXIST`));
    // The peer's name is taken in b: the pair is refused whole, nothing left in a.
    await expect(a.nl.addVeth('fresh0', 'veth-a', { peerNamespace: b.ns })).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(a.nl.deleteLink('nosuch0')).rejects.toMatchObject({ code: 'ENODEV', syscall: 'RTM_DELLINK nosuch0' });
    await expect(a.nl.addAddress(ea.dev, ea.cidr)).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(a.nl.addAddress(ea.dev, '10.0.0.300/24')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(a.nl.addAddress(ea.dev, '10.0.0.1/33')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(a.nl.addAddress('nosuch0', '10.0.0.1/24')).rejects.toMatchObject({ code: 'ENODEV' });
    await expect(a.nl.addRoute({ dst: '10.1.0.0/16', gateway: 'fd00::1', dev: ea.dev })).rejects.toBeInstanceOf(TypeError);
    // A kernel without dummy links says so with a typed error.
    const dummy = await a.nl.addDummy('dummy9').then(() => a.nl.deleteLink('dummy9'), (e: unknown) => e);
    if (dummy !== undefined) expect(dummy).toMatchObject({ code: 'EOPNOTSUPP', syscall: 'RTM_NEWLINK dummy9' });
    await expect(a.nl.addRoute({ dst: 'default', gateway: '10.99.0.1' })).rejects.toMatchObject({ code: 'ENETUNREACH' });
    await expect(a.nl.addDummy('this-name-is-too-long')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(a.nl.setLink(ea.dev, { mtu: 10 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    const closed = b.ns.dup();
    closed.close();
    await expect(a.nl.addVeth('fresh1', 'fresh2', { peerNamespace: closed })).rejects.toMatchObject({ code: 'EBADF' });
    expect(() => Namespace.open(`/run/netns/${tag}-missing`, 'net')).toThrow(expect.objectContaining({ code: 'ENOENT' }) as Error);
    await expect(Namespace.create(['net'], { persist: '' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });

    expect((await a.nl.links()).map((l) => l.name)).toEqual(linksA);
    expect((await b.nl.links()).map((l) => l.name)).toEqual(linksB);
    expect(fdCount()).toBe(before);
    // A closed Rtnetlink: EBADF, not a crash.
    const nl = Rtnetlink.open(a.ns);
    nl.close();
    await expect(nl.links()).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('refuses replies forged by another netlink socket in the namespace (connected to the kernel)', async () => {
    await using netw = await Network.create();
    const a = await netw.node('a');
    const s = new RtnlSocket(a.ns);
    try {
      // A dump's messages carry the requester's port id.
      const dump = await s.request(RTM_GETLINK, NLM_F_DUMP, Buffer.alloc(16), [], { op: 'RTM_GETLINK' });
      const port = (dump[0] as { pid: number }).pid;
      expect(port).toBeGreaterThan(0);
      // An unconnected socket of a fixed port, to show the forgery works at all.
      using open = socketIn(a.ns, { family: 'netlink', type: 'raw', protocol: 'route', bind: { pid: 0x4e5f0000 + (process.pid & 0xffff) } });
      using forger = socketIn(a.ns, { family: 'netlink', type: 'raw', protocol: 'route' });
      const fake = Buffer.alloc(20);
      fake.writeUInt32LE(20, 0);
      fake.writeUInt16LE(NLMSG_ERROR, 4);
      expect(native.connect(forger.fd, sockaddr('netlink', { pid: 0x4e5f0000 + (process.pid & 0xffff) }))).toBe(0);
      expect(fs.writeSync(forger.fd, fake)).toBe(20);
      expect(native.connect(forger.fd, sockaddr('netlink', { pid: port }))).toBe(0);
      expect(() => fs.writeSync(forger.fd, fake)).toThrow(expect.objectContaining({ code: 'ECONNREFUSED' }) as Error);
      void open;
    } finally {
      s.close();
    }
  });

  needsRoot('persisting in our mount namespace').it('cleans the run directory of a Network whose process died (in our pid namespace only)', async () => {
    using pidns = Namespace.current('pid');
    const dir = `/run/nsfd/net/${pidns.inode}-999999999-1-0`;
    // Another pid namespace's run: its pids mean nothing here, so it is left alone.
    const foreign = `/run/nsfd/net/1-999999999-1-0`;
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(foreign, { recursive: true });
    const { net: ns } = await Namespace.create(['net'], { persist: `${dir}/a` });
    ns.close();
    {
      await using netw = await Network.create();
      expect(netw.dir).toMatch(new RegExp(`^/run/nsfd/net/${pidns.inode}-${process.pid}-\\d+-\\d+$`));
    }
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.existsSync(foreign)).toBe(true);
    fs.rmdirSync(foreign);
  });
});

describe('soak', () => {
  it('200 create/link/teardown cycles keep fds, mounts and the host link list flat', async () => {
    const fds = fdCount();
    const m = mounts();
    const links = hostLinks();
    for (let i = 0; i < 200; i++) {
      await using netw = await Network.create();
      const a = await netw.node('a');
      const b = await netw.node('b');
      await netw.link(a, b, { subnet: '10.220.0.0/30' });
    }
    expect(fdCount()).toBe(fds);
    expect(mounts()).toBe(m);
    expect(hostLinks()).toBe(links);
  }, 60000);
});

needsRoot('bind mounts under /run/netns').describe('nsfd netns', () => {
  const bin = path.join(repoRoot, 'bin', 'nsfd.js');
  const nsfd = (...args: string[]) => spawnSync(process.execPath, [bin, 'netns', ...args], { encoding: 'utf8', timeout: 30000 });

  it('add, list and delete, interchangeably with ip netns', () => {
    const name = `${tag}-cli`;
    made.push(name);
    expect(nsfd('add', name).status).toBe(0);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0])).toContain(name);
    expect(execFileSync('ip', ['netns', 'exec', name, 'ip', '-br', 'link'], { encoding: 'utf8' })).toMatch(/^lo\s+DOWN/);
    execFileSync('ip', ['netns', 'set', name, 'auto']);
    const listed = JSON.parse(nsfd('list', '--json').stdout) as { name: string; id?: number }[];
    expect(listed.find((r) => r.name === name)?.id).toBeTypeOf('number');
    expect(nsfd('list').stdout).toMatch(new RegExp(`^${name} \\(id: \\d+\\)$`, 'm'));
    expect(nsfd('add', name).status).toBe(2);
    expect(nsfd('delete', name).status).toBe(0);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(name);
    // One made by ip, deleted by nsfd.
    execFileSync('ip', ['netns', 'add', name]);
    expect(nsfd('list').stdout.split('\n')).toContain(name);
    expect(nsfd('delete', name).status).toBe(0);
    expect(fs.existsSync(`/run/netns/${name}`)).toBe(false);
    const bad = nsfd('add', '../etc');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^nsfd: invalid namespace name/);
    expect(nsfd('delete', `${tag}-nosuch`).stderr).toMatch(/^nsfd: ENOENT/);
  });
});
