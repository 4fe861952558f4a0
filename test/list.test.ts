// listNamespaces() against real namespaces, including ones held only by an
// fd, a socket, a thread or a bind mount, compared with util-linux lsns.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';

import { Namespace, NamespaceInfo, buildNamespaceTree, listNamespaces, namespaceTree } from '../lib/index';
import { parseNsLink } from '../lib/list/links';
import { listnsIds, nsfsHandle } from '../lib/list/listns';
import { parseMountinfo, unescapeMountinfo } from '../lib/list/mountinfo';
import { CLONE_FLAG, NS_TYPES } from '../lib/core/ns-types';
import { E } from '../lib/core/errors';
import { ownProcfs } from '../lib/core/procfs';
import { PROC_NS_FILES } from '../lib/list/links';
import { native } from '../lib/sys/native';
import { Target, checkLeaksPerTest, feat, isRoot, killAndClose, needsRoot, repoRoot, sleep, startTarget, fixturePath } from './helpers';

const ino = (p: string) => fs.statSync(p).ino;

interface LsnsEntry {
  ns: number;
  type: string;
  pid: number;
  children?: LsnsEntry[];
}

/** Every entry of `lsns -J`, which nests namespaces under their creator's ("children"). */
function lsnsEntries(type?: string): LsnsEntry[] {
  const args = ['-J', ...(type ? ['-t', type] : [])];
  const out = JSON.parse(execFileSync('lsns', args, { encoding: 'utf8' })) as { namespaces: LsnsEntry[] };
  const flat = (l: LsnsEntry[]): LsnsEntry[] => l.flatMap((e) => [e, ...flat(e.children ?? [])]);
  return flat(out.namespaces);
}

function lsnsInodes(type?: string): Set<number> {
  return new Set(lsnsEntries(type).map((n) => Number(n.ns)));
}

function find(list: NamespaceInfo[], inode: number): NamespaceInfo | undefined {
  return list.find((n) => n.inode === inode);
}

/** A helper process from test/fixtures/list-holder.ts; resolves with its JSON line. */
async function startHolder(args: string[]): Promise<{ child: ChildProcess; info: { pid: number; fd?: number; tid?: number } }> {
  const child = spawn(process.execPath, [fixturePath('list-holder.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const rl = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const line = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`list-holder ${args.join(' ')} exited ${code}: ${stderr}`)));
  });
  rl.close();
  return { child, info: JSON.parse(line) as { pid: number; fd?: number; tid?: number } };
}

checkLeaksPerTest();

/**
 * `ns` was found by the walk as `kind` and nothing else; on a kernel with
 * listns (6.19) listns lists it too, as it lists every namespace.
 */
function expectFoundBy(ns: { sources: readonly string[] } | undefined, kind: string): void {
  expect(ns?.sources.filter((s) => s !== 'listns')).toEqual([kind]);
  if (feat.listns.available) expect(ns?.sources).toContain('listns');
}

describe('parsers', () => {
  it('parseNsLink reads /proc ns links and nsfs fd links, and nothing else', () => {
    expect(parseNsLink('net:[4026531840]')).toEqual({ type: 'net', inode: 4026531840 });
    expect(parseNsLink('cgroup:[4026531835]')).toEqual({ type: 'cgroup', inode: 4026531835 });
    expect(parseNsLink('socket:[123]')).toBeUndefined();
    expect(parseNsLink('anon_inode:[pidfd]')).toBeUndefined();
    expect(parseNsLink('/tmp/net:[1]')).toBeUndefined();
    const link = fs.readlinkSync('/proc/self/ns/pid');
    expect(parseNsLink(link)).toEqual({ type: 'pid', inode: ino('/proc/self/ns/pid') });
  });

  it('parseMountinfo splits fields, skips optional ones and undoes octal escapes', () => {
    const text = [
      '36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue',
      '512 28 0:4 net:[4026532999] /run/netns/a\\134b rw - nsfs nsfs rw',
      'garbage',
      '',
    ].join('\n');
    const m = parseMountinfo(text);
    expect(m).toHaveLength(2);
    expect(m[0]).toMatchObject({ mountId: 36, parentId: 35, root: '/mnt1', mountPoint: '/mnt 2', fstype: 'ext3', source: '/dev/root' });
    expect(m[1]).toMatchObject({ root: 'net:[4026532999]', mountPoint: '/run/netns/a\\b', fstype: 'nsfs' });
    expect(unescapeMountinfo('a\\011b')).toBe('a\tb');
    // And our real mountinfo parses completely.
    const real = fs.readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n');
    expect(parseMountinfo(real.join('\n'))).toHaveLength(real.length);
  });

  it('nsfsHandle lays out struct nsfs_file_handle behind the handle type', () => {
    const h = nsfsHandle(0x1122334455667788n, 'net', 4026531840);
    expect(h.length).toBe(20);
    expect(h.readInt32LE(0)).toBe(0xf1);
    expect(h.readBigUInt64LE(4)).toBe(0x1122334455667788n);
    expect(h.readUInt32LE(12)).toBe(0x40000000);
    expect(h.readUInt32LE(16)).toBe(4026531840);
  });

  it.skipIf(!feat.nsfs_handles.available || !feat.ns_get_id.available)('an nsfsHandle built from (id, type, inode) opens that namespace', () => {
    using ns = Namespace.current('uts');
    expect(nsfsHandle(ns.id, 'uts', ns.inode).equals(ns.toHandle())).toBe(true);
    using again = Namespace.fromHandle(nsfsHandle(ns.id, 'uts', ns.inode));
    expect(again.equals(ns)).toBe(true);
  });
});

describe('the native walk steps', () => {
  it('ns_describe reads what the separate nsfs ioctls read, and sends no ioctl to a file that is not nsfs', () => {
    const nsfsDev = fs.statSync('/proc/self/ns/net').dev;
    for (const t of ['user', 'pid', 'net', 'mnt'] as const) {
      const fd = fs.openSync(`/proc/self/ns/${t}`, 'r');
      try {
        const d = native.ns_describe(fd, nsfsDev);
        if (typeof d === 'number') throw new Error(`ns_describe(${t}): ${d}`);
        const [flag, inode, id, ownerFd, ownerInode, ownerUid, parentFd] = d;
        try {
          expect(flag).toBe(CLONE_FLAG[t]);
          expect(inode).toBe(ino(`/proc/self/ns/${t}`));
          if (feat.ns_get_id.available) expect(typeof id).toBe('bigint');
          // Our namespaces are owned by our user namespace (initial, or the one we run in).
          if (t !== 'user') {
            expect(ownerInode).toBe(ino('/proc/self/ns/user'));
            expect(ownerFd).toBeGreaterThanOrEqual(0);
            expect(ownerUid).toBe(native.ns_get_owner_uid(ownerFd));
          }
          if (t === 'net' || t === 'mnt') expect(parentFd).toBeLessThan(0);
        } finally {
          if (ownerFd >= 0) fs.closeSync(ownerFd);
          if (parentFd >= 0) fs.closeSync(parentFd);
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    const devnull = fs.openSync('/dev/null', 'r');
    try {
      expect(native.ns_describe(devnull, nsfsDev)).toBe(-E.EINVAL);
    } finally {
      fs.closeSync(devnull);
    }
  });

  it('proc_scan_batch reads on the pool what proc_scan reads here, and -errno for a pid that is gone', async () => {
    const procfs = ownProcfs();
    const names = PROC_NS_FILES.map((f) => f.file);
    const gone = 0x3ffffff0; // above any pid_max
    const [one, none] = await native.proc_scan_batch(procfs.fd, [process.pid, gone], names, procfs);
    const here = native.proc_scan(procfs.fd, process.pid, names);
    expect(none).toBe(-E.ENOENT);
    if (one === undefined || typeof one === 'number' || typeof here === 'number') throw new Error('our own /proc entry unreadable');
    expect(one[1]).toEqual(here[1]); // namespace inodes
    expect(one[1][PROC_NS_FILES.findIndex((f) => f.file === 'net')]).toBe(ino('/proc/self/ns/net'));
    expect(one[2]).toBe(here[2]); // status Name
    expect(one[3]).toBe(process.geteuid?.()); // euid
    expect(one[5]).toBe(here[5]); // command line
    expect(one[5]).toBe(fs.readFileSync('/proc/self/cmdline', 'utf8').replace(/\0+$/, '').replace(/\0/g, ' '));
  });
});

describe('listNamespaces: this process', () => {
  it('finds every namespace of ours with ids, owners and our pid', async () => {
    const list = await listNamespaces();
    using ourUser = Namespace.current('user');
    for (const type of NS_TYPES) {
      const inode = ino(`/proc/self/ns/${type}`);
      const ns = find(list, inode);
      expect(ns, type).toBeDefined();
      if (!ns) continue;
      expect(ns.type).toBe(type);
      expect(ns.dev).toBe(fs.statSync(`/proc/self/ns/${type}`).dev);
      expect(ns.pids).toContain(process.pid);
      expect(ns.sources).toContain('process');
      expect(ns.pid).toBe(ns.pids[0]);
      expect(ns.pids).toEqual([...ns.pids].sort((a, b) => a - b));
      if (feat.ns_get_id.available) {
        using cur = Namespace.current(type);
        expect(ns.id).toBe(cur.id);
      }
      if (type !== 'user') expect(ns.ownerInode).toBe(ourUser.inode);
    }
    // Each namespace once.
    expect(new Set(list.map((n) => `${n.type}:${n.inode}`)).size).toBe(list.length);
    // The walk's own transient fds (its readdir of /proc/self/fd, the nsfs
    // fds it opens) are never reported: we hold no namespace fd ourselves.
    expect(list.filter((n) => n.holders.some((h) => h.pid === process.pid))).toEqual([]);
    expect(list.filter((n) => n.sockets.some((h) => h.pid === process.pid))).toEqual([]);
  });

  it('rejects bad options with typed errors', async () => {
    await expect(listNamespaces({ type: 'bogus' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(listNamespaces(42 as never)).rejects.toBeInstanceOf(TypeError);
    await expect(listNamespaces({ tree: true } as never)).rejects.toThrow(/namespaceTree/);
    await expect(namespaceTree({ type: 'nope' as never })).rejects.toBeInstanceOf(TypeError);
    expect(() => buildNamespaceTree([], { type: 'x' as never })).toThrow(TypeError);
  });
});

describe('listNamespaces: a target in new namespaces', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget({ types: ['mount', 'net', 'uts', 'ipc', 'cgroup', 'time'] });
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('finds its namespaces, with parent, owner and pid', async () => {
    const list = await listNamespaces();
    const ourPidNs = ino('/proc/self/ns/pid');
    const ourUser = ino('/proc/self/ns/user');
    // As root the target's namespaces belong to our user ns; rootless, to
    // the target's own user ns (which we own: its owner is ours, its uid ours).
    const targetUser = ino(`/proc/${target.pid}/ns/user`);
    const owner = isRoot ? ourUser : targetUser;
    expect(targetUser === ourUser).toBe(isRoot);
    if (!isRoot) {
      const userNs = find(list, targetUser);
      expect(userNs?.pids).toContain(target.pid);
      expect(userNs?.ownerInode).toBe(ourUser);
      expect(userNs?.ownerUid).toBe(process.geteuid?.());
    }
    for (const type of ['mnt', 'net', 'uts', 'ipc', 'cgroup', 'pid', 'time'] as const) {
      const inode = ino(`/proc/${target.pid}/ns/${type}`);
      const ns = find(list, inode);
      expect(ns, type).toBeDefined();
      expect(ns?.pids).toContain(target.pid);
      expect(ns?.ownerInode).toBe(owner);
      expect(ns?.ownerUid).toBe(process.geteuid?.());
      expect(ns?.command).toMatch(/sleep/);
    }
    expect(find(list, ino(`/proc/${target.pid}/ns/pid`))?.parentInode).toBe(ourPidNs);
    // The unshare launcher is in the new namespaces too, except pid and time
    // (it only holds those as *_for_children).
    const net = find(list, ino(`/proc/${target.pid}/ns/net`));
    expect(net?.pids).toContain(target.launcher.pid);
    expect(net?.pid).toBe(Math.min(target.pid, target.launcher.pid as number));
    const pidns = find(list, ino(`/proc/${target.pid}/ns/pid`));
    expect(pidns?.pids).toEqual([target.pid]);
    expect(pidns?.forChildren).toContain(target.launcher.pid);
  });

  it('with type only lists that type, and still the same data', async () => {
    const all = await listNamespaces();
    const uts = await listNamespaces({ type: 'uts' });
    expect(uts.length).toBeGreaterThan(1);
    expect(uts.every((n) => n.type === 'uts')).toBe(true);
    const inode = ino(`/proc/${target.pid}/ns/uts`);
    expect(find(uts, inode)?.pids).toEqual(find(all, inode)?.pids);
    expect(find(uts, inode)?.id).toBe(find(all, inode)?.id);
  });

  it('finds every namespace lsns reports', async () => {
    const lsns = lsnsEntries();
    const list = await listNamespaces();
    let checked = 0;
    for (const l of lsns) {
      // Other tests come and go meanwhile: check what lived before and after our walk.
      let still: string | undefined;
      try {
        still = fs.readlinkSync(`/proc/${l.pid}/ns/${l.type}`);
      } catch {
        continue;
      }
      if (still !== `${l.type}:[${l.ns}]`) continue;
      // A pid namespace's init stuck in its exit (waiting for zombies of its
      // namespace that a slow host reaper has not reaped yet) has no argv left
      // but still shows its credentials' user namespace to lsns; the walk
      // skips such a process (it is leaving). Kernel threads (kthreadd's
      // children) have no argv either, and are kept.
      let argv = '';
      let kthread = false;
      try {
        argv = fs.readFileSync(`/proc/${l.pid}/cmdline`, 'latin1');
        kthread = Number(l.pid) === 2 || /^PPid:\s+2$/m.test(fs.readFileSync(`/proc/${l.pid}/status`, 'latin1'));
      } catch {
        continue;
      }
      if (argv === '' && !kthread) continue;
      const ours = find(list, Number(l.ns));
      expect(ours, `lsns ${l.type} ${l.ns}`).toBeDefined();
      expect(ours?.type).toBe(l.type);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });
});

describe('namespaces that lsns misses', () => {
  let target: Target | undefined;
  let holder: ChildProcess | undefined;
  beforeEach(async () => {
    target = await startTarget();
  });
  afterEach(async () => {
    await target?.stop();
    if (holder) await killAndClose(holder);
    holder = undefined;
  });

  it('held only by an open fd of another process', async () => {
    const t = target as Target;
    const uts = ino(`/proc/${t.pid}/ns/uts`);
    const h = await startHolder([String(t.pid), 'fd', 'uts']);
    holder = h.child;
    await t.stop();
    const list = await listNamespaces({ type: 'uts' });
    const ns = find(list, uts);
    expect(ns).toBeDefined();
    expect(ns?.pids).toEqual([]);
    expect(ns?.holders).toEqual([{ pid: h.info.pid, fd: h.info.fd }]);
    expectFoundBy(ns, 'fd');
    expect(ns?.pid).toBe(h.info.pid);
    expect(ns?.command).toMatch(/list-holder\.js/);
    // Debian 12's lsns (util-linux 2.38) only reads /proc/PID/ns.
    expect(lsnsInodes('uts').has(uts)).toBe(false);
  });

  it('held only by a socket', async () => {
    const t = target as Target;
    const net = ino(`/proc/${t.pid}/ns/net`);
    const sockPath = path.join(os.tmpdir(), `nsfd-list-${process.pid}.sock`);
    fs.rmSync(sockPath, { force: true });
    const h = await startHolder([String(t.pid), 'socket', sockPath]);
    holder = h.child;
    try {
      await t.stop();
      const list = await listNamespaces({ type: 'net' });
      const ns = find(list, net);
      expect(ns).toBeDefined();
      expect(ns?.pids).toEqual([]);
      expect(ns?.holders).toEqual([]);
      expect(ns?.sockets).toEqual([{ pid: h.info.pid, fd: h.info.fd }]);
      // Not by listns, on 6.19 either: it lists active namespaces, and a
      // socket holds only a passive reference to its network namespace.
      // (Seen in the kernel matrix's 6.19 VM.) The walk is what finds it.
      expect(ns?.sources).toEqual(['socket']);
      expect(lsnsInodes('net').has(net)).toBe(false);
      // And the holder's own netns does not list its sockets as foreign.
      const hostNet = find(list, ino('/proc/self/ns/net'));
      expect(hostNet?.sockets.some((s) => s.pid === h.info.pid)).toBe(false);
    } finally {
      fs.rmSync(sockPath, { force: true });
    }
  });

  needsRoot('attach() of a thread into a namespace owned by another user namespace, which it could not come back from').it('held only by a thread (a Worker attached to it)', async () => {
    const t = target as Target;
    const net = ino(`/proc/${t.pid}/ns/net`);
    const h = await startHolder([String(t.pid), 'thread']);
    holder = h.child;
    await t.stop();
    const list = await listNamespaces({ type: 'net' });
    const ns = find(list, net);
    expect(ns?.pids).toEqual([]);
    expect(ns?.threads).toEqual([{ pid: h.info.pid, tid: h.info.tid }]);
    expectFoundBy(ns, 'thread');
    expect(lsnsInodes('net').has(net)).toBe(false);
  });

  needsRoot('bind-mounts an nsfs file in our mount namespace (CAP_SYS_ADMIN)').it('held only by a bind mount', async () => {
    const t = target as Target;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-list-'));
    const file = path.join(dir, 'net ns'); // a space: escaped in mountinfo
    let id: bigint | undefined;
    {
      using ns = Namespace.ofPid(t.pid, 'net');
      ns.persist(file);
      if (feat.ns_get_id.available) id = ns.id;
    }
    const net = ino(file);
    try {
      await t.stop();
      const list = await listNamespaces({ type: 'net' });
      const ns = find(list, net);
      expect(ns?.persisted).toEqual([file]);
      expectFoundBy(ns, 'mount');
      expect(ns?.pids).toEqual([]);
      expect(ns?.pid).toBeUndefined();
      if (id !== undefined) expect(ns?.id).toBe(id);
      expect(lsnsInodes('net').has(net)).toBe(false);
    } finally {
      Namespace.unpersist(file);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // Gone with its last holder (inodes are reused at once; 64-bit ids never are).
    if (id !== undefined) {
      const after = await listNamespaces({ type: 'net' });
      expect(after.some((n) => n.id === id)).toBe(false);
    }
  });

  it('held only by a bind mount inside another mount namespace', async () => {
    // A process in its own mount namespace bind-mounts a netns there; the
    // netns's process then dies. Only that mount namespace's mountinfo has it.
    const t = target as Target;
    const net = ino(`/proc/${t.pid}/ns/net`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-list-'));
    const file = path.join(dir, 'pinned');
    fs.writeFileSync(file, '');
    // Rootless, the keeper first enters the target's user ns (ours to enter),
    // so that its new mount ns belongs to the user ns that owns the netns: the
    // kernel refuses that bind mount in a mount ns of any other user ns.
    const keeper = spawn(
      isRoot ? 'unshare' : 'nsenter',
      [...(isRoot ? [] : ['-t', String(t.pid), '-U', '--preserve-credentials', 'unshare']), '--mount', '--propagation', 'private', 'sh', '-c', `mount --bind /proc/${t.pid}/ns/net ${file} && echo ok && exec sleep 100000`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        keeper.stdout?.once('data', () => resolve());
        keeper.once('exit', (c) => reject(new Error(`keeper exited ${c}`)));
      });
      await t.stop();
      const list = await listNamespaces({ type: 'net' });
      const ns = find(list, net);
      expectFoundBy(ns, 'mount');
      expect(ns?.persisted).toEqual([]);
      const keeperMnt = ino(`/proc/${keeper.pid}/ns/mnt`);
      expect(ns?.mountsElsewhere).toContainEqual({ mntns: keeperMnt, pid: keeper.pid, path: file });

      // The pool-thread read behind it: the table of each mount namespace
      // once (the second process in it gets -1), none of one already seen,
      // and no line whose "root mountpoint" key is to be skipped.
      const procfs = ownProcfs();
      const names = PROC_NS_FILES.map((f) => f.file);
      const mi = names.indexOf('mnt');
      const pid = keeper.pid as number;
      const [first, second] = await native.proc_scan_batch(procfs.fd, [pid, pid], names, procfs, mi, [], []);
      if (first === undefined || typeof first === 'number' || second === undefined || typeof second === 'number') throw new Error('keeper unreadable');
      expect(first[1][mi]).toBe(keeperMnt);
      const lines = first[6];
      if (typeof lines === 'number') throw new Error('keeper mountinfo not read');
      const mine = lines.filter((l) => l.includes(` ${file} `));
      expect(mine).toHaveLength(1);
      expect(mine[0]).toContain(` net:[${net}] `);
      expect(lines.every((l) => l.includes(' - nsfs '))).toBe(true);
      expect(second[6]).toBe(-1);
      const [seen] = await native.proc_scan_batch(procfs.fd, [pid], names, procfs, mi, [keeperMnt], []);
      expect(typeof seen !== 'number' && seen?.[6]).toBe(-1);
      const key = (mine[0] as string).split(' ').slice(3, 5).join(' ');
      const [skipped] = await native.proc_scan_batch(procfs.fd, [pid], names, procfs, mi, [], [key]);
      if (skipped === undefined || typeof skipped === 'number' || typeof skipped[6] === 'number') throw new Error('keeper mountinfo not read');
      expect(skipped[6].filter((l) => l.includes(` ${file} `))).toEqual([]);
      expect(() => native.proc_scan_batch(procfs.fd, [pid], names, procfs, names.length, [], [])).toThrow(TypeError);
    } finally {
      await killAndClose(keeper);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hierarchy', () => {
  it.skipIf(!feat.unprivileged_userns.available && !isRoot)('trees: user ns owns the target\'s namespaces; pid ns under ours', async () => {
    const t = await startTarget({ user: true });
    try {
      const tree = await namespaceTree();
      const ourUser = ino('/proc/self/ns/user');
      const theirUser = ino(`/proc/${t.pid}/ns/user`);
      const root = tree.owner.find((n) => n.ns.inode === ourUser);
      expect(root?.ns.type).toBe('user');
      const child = root?.children.find((n) => n.ns.inode === theirUser);
      expect(child).toBeDefined();
      const owned = child?.children.map((n) => n.ns.inode) ?? [];
      for (const type of ['mnt', 'net', 'uts', 'ipc', 'cgroup', 'pid'] as const) {
        expect(owned, type).toContain(ino(`/proc/${t.pid}/ns/${type}`));
      }
      // User namespaces come before what they own.
      const kinds = root?.children.map((n) => n.ns.type) ?? [];
      expect(kinds.lastIndexOf('user')).toBeLessThan(kinds.findIndex((k) => k !== 'user'));

      const pidRoot = tree.parent.find((n) => n.ns.inode === ino('/proc/self/ns/pid'));
      expect(pidRoot?.children.map((n) => n.ns.inode)).toContain(ino(`/proc/${t.pid}/ns/pid`));
      const userRoot = tree.parent.find((n) => n.ns.inode === ourUser);
      expect(userRoot?.children.map((n) => n.ns.inode)).toContain(theirUser);

      // With a type, only branches that lead to that type remain.
      const netTree = buildNamespaceTree(await listNamespaces(), { type: 'net' });
      const walk = (ns: typeof netTree.owner): string[] => ns.flatMap((n) => [n.ns.type, ...walk(n.children)]);
      const types = new Set(walk(netTree.owner));
      expect([...types].sort()).toEqual(['net', 'user']);
      expect(netTree.parent).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('an owner nobody is in still appears, as "hierarchy"', async () => {
    // A user namespace whose only process dies while a netns it owns is
    // held by our fd: the user ns lives on as that netns's owner.
    const t = await startTarget({ user: true });
    const theirUser = ino(`/proc/${t.pid}/ns/user`);
    const net = Namespace.ofPid(t.pid, 'net');
    try {
      await t.stop();
      const list = await listNamespaces();
      const user = find(list, theirUser);
      // Only as an owner, unless listns (6.19) lists it: 'hierarchy' means no other way found it.
      expect(user?.sources).toEqual(feat.listns.available ? ['listns'] : ['hierarchy']);
      expect(user?.pids).toEqual([]);
      const held = find(list, net.inode);
      expect(held?.ownerInode).toBe(theirUser);
      expect(held?.holders).toContainEqual(expect.objectContaining({ pid: process.pid, fd: net.fd }));
    } finally {
      net.close();
    }
  });
});

describe('listns (Linux 6.19)', () => {
  it.skipIf(feat.listns.available)('without listns, nothing claims it as a source', async () => {
    expect(listnsIds()).toBeUndefined();
    const list = await listNamespaces();
    expect(list.some((n) => n.sources.includes('listns'))).toBe(false);
  });

  it.skipIf(!feat.listns.available)('with listns, it reports what the walk finds', async () => {
    const ids = listnsIds();
    expect(ids).toBeDefined();
    const list = await listNamespaces();
    using net = Namespace.current('net');
    expect(ids?.get(net.id)).toBe('net');
    expect(find(list, net.inode)?.sources).toContain('listns');
  });
});

describe('races', () => {
  it('processes exiting during the walk are skipped, never reported with wrong data', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-race-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const log = path.join(dir, 'log');
    fs.writeFileSync(log, '');
    // Two loops of short-lived processes, each in a new netns and uts ns,
    // each logging "pid netns-inode" before it execs into a short sleep.
    // Rootless, in a new user ns too (mapping root to us), which creating the others needs.
    const script = `while :; do unshare ${isRoot ? '' : '--user --map-root-user '}--net --uts sh -c 'echo "$$ $(readlink /proc/$$/ns/net)" >> ${log}; exec sleep 0.01'; done`;
    const loops = [0, 1, 2].map(() => spawn('sh', ['-c', script], { stdio: 'ignore', detached: true }));
    const preexisting = new Set((await listNamespaces({ type: 'net' })).map((n) => n.inode));
    const results: NamespaceInfo[][] = [];
    try {
      let churnSeen = 0;
      for (let i = 0; i < 300 && (results.length < 40 || churnSeen === 0); i++) {
        const list = await listNamespaces({ type: 'net' });
        results.push(list);
        churnSeen += list.filter((n) => !preexisting.has(n.inode) && n.pids.length > 0).length;
      }
      expect(churnSeen).toBeGreaterThan(0);
    } finally {
      for (const l of loops) {
        try {
          process.kill(-(l.pid as number), 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    await sleep(50);
    const logged = new Map<number, Set<number>>();
    for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
      const m = /^(\d+) net:\[(\d+)\]$/.exec(line);
      if (!m) continue;
      const pid = Number(m[1]);
      if (!logged.has(pid)) logged.set(pid, new Set());
      logged.get(pid)?.add(Number(m[2]));
    }
    expect(logged.size).toBeGreaterThan(0);
    let checked = 0;
    for (const list of results) {
      for (const ns of list) {
        if (preexisting.has(ns.inode)) continue;
        for (const pid of ns.pids) {
          const inodes = logged.get(pid);
          if (inodes === undefined) continue; // the `readlink` subshell, or not logged yet
          expect(inodes.has(ns.inode), `pid ${pid} reported in net:[${ns.inode}], logged in ${[...inodes]}`).toBe(true);
          checked++;
        }
        // One of our churn namespaces (other test files make namespaces too,
        // in parallel) is reported with a pid and command of a process in it.
        if (ns.pids.some((p) => logged.has(p))) {
          expect(ns.pid).toBe(ns.pids[0]);
          expect(ns.command).toMatch(/^(unshare|sh|sleep|readlink)/);
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
    if (process.env.NSFD_RACE_STATS) console.log({ listings: results.length, logged: logged.size, checked });
  });
});
