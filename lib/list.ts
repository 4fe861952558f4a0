// listNamespaces(): every namespace on the system that we can see, with how
// it is held. Sources, merged by nsfs inode:
//   - listns(2) (Linux 6.19) where the kernel has it: the 64-bit ids of all
//     active namespaces, so nothing held in ways we cannot walk is missed;
//   - a /proc walk: each process's namespaces (/proc/PID/ns), its threads'
//     (/proc/PID/task/TID/ns: a thread can sit in another net/uts/ipc/
//     cgroup/mnt namespace), nsfs fds it holds open (/proc/PID/fd ->
//     "net:[...]"), the network namespaces of its sockets (pidfd_getfd +
//     SIOCGSKNS), and pid_for_children/time_for_children;
//   - nsfs bind mounts in mountinfo (ours, and that of every other mount
//     namespace we meet), as `ip netns add` and `unshare --net=FILE` make;
//   - owners and parents of all of the above (NS_GET_USERNS/NS_GET_PARENT).
//
// Race safety: every process is read between pidfd_open() and a recheck
// through that pidfd; a process that exits meanwhile is dropped entirely,
// so no pid is reported with another process's data. Every fd opened here
// is a raw fd closed in a finally block before the next process is read.
import * as fs from 'node:fs';

import { E, invalidArg } from './core/errors';
import { native } from './sys/native';
import { CLONE_FLAG, NS_TYPES, NsType, PIDFD_NS_IOCTL, checkNsType, typeFromCloneFlag } from './core/ns-types';
import { AT_FDCWD, FILEID_NSFS, NSFS_MAGIC, O_PATH, O_RDONLY } from './sys/constants';
import { nsGetId, nsGetMntnsId, nsGetNstype, nsGetOwnerUid, nsGetParent, nsGetUserns, pidfdGetNamespace } from './sys/nsfs';

/** How a namespace was found. */
export type NsSource = 'listns' | 'process' | 'thread' | 'fd' | 'socket' | 'mount' | 'hierarchy';

const SOURCE_ORDER: readonly NsSource[] = ['listns', 'process', 'thread', 'fd', 'socket', 'mount', 'hierarchy'];

/** A process holding a namespace (or a socket in one) by an open fd. */
export interface NsHolder {
  pid: number;
  fd: number;
}

/** A thread in a namespace other than its process's (main thread's). */
export interface NsThread {
  pid: number;
  tid: number;
}

/** An nsfs bind mount in a mount namespace other than ours. */
export interface NsForeignMount {
  /** Inode of the mount namespace holding the mount. */
  mntns: number;
  /** A process in that mount namespace (when it was read). */
  pid: number;
  /** Mount point as seen inside that mount namespace. */
  path: string;
}

export interface NamespaceInfo {
  type: NsType;
  /**
   * nsfs inode: with `dev`, the namespace's identity on every kernel. 0 only
   * for a namespace listns(2) reported that could not be opened.
   */
  inode: number;
  /** nsfs device. */
  dev: number;
  /** 64-bit namespace id (NS_GET_ID, Linux 6.18+), never reused while the system runs. */
  id?: bigint;
  /** Inode of the user namespace that owns it (absent when out of our reach). */
  ownerInode?: number;
  /** uid that created the owning user namespace (for a user namespace: itself). */
  ownerUid?: number;
  /** Inode of the parent namespace (pid and user namespaces; absent for initial ones). */
  parentInode?: number;
  /** Processes whose own (main thread's) namespace it is, ascending. */
  pids: number[];
  /** Threads in it whose process is in another namespace of this type. */
  threads: NsThread[];
  /** Processes whose pid_for_children/time_for_children it is (while their own is another). */
  forChildren: number[];
  /** Processes holding it by an open nsfs fd. */
  holders: NsHolder[];
  /** Sockets in this network namespace held by processes that live in another one. */
  sockets: NsHolder[];
  /** nsfs bind mounts of it in our mount namespace. */
  persisted: string[];
  /** nsfs bind mounts of it in other mount namespaces (not copies of ours). */
  mountsElsewhere: NsForeignMount[];
  /** Lowest pid in `pids`; else the lowest pid of a thread, child-ns, fd or socket holder. */
  pid?: number;
  /** Command line of `pid` (its comm when the command line is empty). */
  command?: string;
  /** Effective uid of `pid`. */
  uid?: number;
  /** How it was found; 'hierarchy' = only as the owner or parent of another. */
  sources: NsSource[];
}

export interface ListOptions {
  /** Only namespaces of this type. */
  type?: NsType;
}

export interface NamespaceTreeNode {
  ns: NamespaceInfo;
  children: NamespaceTreeNode[];
}

export interface NamespaceTree {
  /**
   * User namespaces by parent, each followed by the namespaces it owns (as
   * `lsns -T owner`). Namespaces whose owner is out of reach are roots.
   */
  owner: NamespaceTreeNode[];
  /** Pid and user namespaces by parent (as `lsns -T parent`). */
  parent: NamespaceTreeNode[];
}

// ---------------------------------------------------------------------------
// Small raw-fd helpers. Nothing here keeps an fd past the function that
// opened it.


const NS_RE = /^([a-z]+):\[(\d+)\]$/;
const SOCKET_RE = /^socket:\[(\d+)\]$/;

/** Files in /proc/PID/ns: the types, plus the *_for_children links. */
const PROC_NS_FILES: readonly { file: string; type: NsType; children: boolean; ioctl: number }[] = [
  ...NS_TYPES.map((t) => ({ file: t, type: t, children: false, ioctl: PIDFD_NS_IOCTL[t] })),
  { file: 'pid_for_children', type: 'pid', children: true, ioctl: 6 },
  { file: 'time_for_children', type: 'time', children: true, ioctl: 8 },
];
/** What a thread can have apart from its process (user and pid are per process). */
const THREAD_NS_FILES = PROC_NS_FILES.filter((f) => f.type !== 'user' && !(f.type === 'pid' && !f.children));

/** Parses a /proc link such as "net:[4026531840]". */
export function parseNsLink(link: string): { type: NsType; inode: number } | undefined {
  const m = NS_RE.exec(link);
  if (!m) return undefined;
  const type = m[1] as string;
  if (!(NS_TYPES as readonly string[]).includes(type)) return undefined;
  return { type: type as NsType, inode: Number(m[2]) };
}

function readlink(path: string): string | undefined {
  const r = native.readlink(path);
  return typeof r === 'string' ? r : undefined;
}

function readdirNums(path: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(path);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(n));
  }
  return out;
}

interface RawIdentity {
  type: NsType;
  dev: number;
  inode: number;
}

/** Type, dev and inode of an nsfs fd, or undefined if it is not one. */
function identify(fd: number): RawIdentity | undefined {
  if (native.fstatfs_type(fd) !== NSFS_MAGIC) return undefined;
  const flag = nsGetNstype(fd);
  const type = flag > 0 ? typeFromCloneFlag(flag) : undefined;
  if (type === undefined) return undefined;
  const st = native.fstat(fd);
  if (typeof st === 'number') return undefined;
  return { type, dev: Number(st[0]), inode: Number(st[1]) };
}

/**
 * Opens an nsfs file by path without side effects on anything else: O_PATH
 * first (a FIFO or device there would block or react to a real open), then
 * a real open of that same file through /proc/self/fd once it is known to
 * be nsfs. Returns the fd (the caller closes it) or -1.
 */
function openNsfsPath(path: string, inode?: number): number {
  const p = native.openat(AT_FDCWD, path, O_PATH, 0);
  if (p < 0) return -1;
  try {
    if (native.fstatfs_type(p) !== NSFS_MAGIC) return -1;
    if (inode !== undefined) {
      const st = native.fstat(p);
      if (typeof st === 'number' || Number(st[1]) !== inode) return -1;
    }
    const fd = native.openat(AT_FDCWD, `/proc/self/fd/${p}`, O_RDONLY, 0);
    return fd < 0 ? -1 : fd;
  } finally {
    native.close(p);
  }
}

let pidfdNsIoctls = true;

/** A process's namespace through its pidfd (6.11), else its /proc link; -1 if not `inode`. */
function openProcNs(pidfd: number, pid: number, f: (typeof PROC_NS_FILES)[number], inode: number): number {
  if (pidfdNsIoctls) {
    const r = pidfdGetNamespace(pidfd, f.ioctl);
    if (r >= 0) {
      const st = native.fstat(r);
      if (typeof st !== 'number' && Number(st[1]) === inode) return r;
      native.close(r);
    } else if (r === -E.ENOTTY || r === -E.EINVAL) {
      pidfdNsIoctls = false;
    }
  }
  return openNsfsPath(`/proc/${pid}/ns/${f.file}`, inode);
}

// ---------------------------------------------------------------------------
// The walk.

interface Entry {
  type: NsType;
  inode: number;
  dev: number;
  described: boolean;
  id?: bigint;
  ownerInode?: number;
  ownerUid?: number;
  parentInode?: number;
  pids: Set<number>;
  threads: NsThread[];
  forChildren: Set<number>;
  holders: NsHolder[];
  sockets: NsHolder[];
  persisted: string[];
  mountsElsewhere: NsForeignMount[];
  sources: Set<NsSource>;
}

interface Obs {
  kind: 'process' | 'children' | 'thread' | 'fd' | 'socket';
  type: NsType;
  inode: number;
  /** tid for 'thread', fd for 'fd' and 'socket'. */
  n?: number;
}

interface ProcInfo {
  command: string;
  uid: number | undefined;
}

class Walk {
  readonly byInode = new Map<number, Entry>();
  readonly procs = new Map<number, ProcInfo>();
  /** socket inode -> netns inode (sockets are shared across fork). */
  readonly socketNs = new Map<number, number>();
  /** mount namespace inode -> a pid in it (to read its mountinfo). */
  readonly mntnsPid = new Map<number, number>();
  /** Namespaces listns reported that could not be opened (inode unknown: 0). */
  readonly unopened: Entry[] = [];
  readonly type: NsType | undefined;
  readonly nsfsDev: number;

  constructor(type: NsType | undefined) {
    this.type = type;
    const st = fs.statSync('/proc/self/ns/net');
    this.nsfsDev = Number(st.dev);
  }

  wants(type: NsType): boolean {
    return this.type === undefined || this.type === type;
  }

  blank(type: NsType, inode: number): Entry {
    return {
      type,
      inode,
      dev: this.nsfsDev,
      described: false,
      pids: new Set(),
      threads: [],
      forChildren: new Set(),
      holders: [],
      sockets: [],
      persisted: [],
      mountsElsewhere: [],
      sources: new Set(),
    };
  }

  entry(type: NsType, inode: number, source?: NsSource): Entry {
    let e = this.byInode.get(inode);
    if (e === undefined) {
      e = this.blank(type, inode);
      this.byInode.set(inode, e);
    }
    if (source !== undefined) e.sources.add(source);
    return e;
  }

  needsFd(inode: number): boolean {
    const e = this.byInode.get(inode);
    return e === undefined || !e.described;
  }

  /**
   * Reads id, owner and parent through `fd` (which the caller closes) into
   * the entry for it; owners and parents not seen yet are added too
   * ('hierarchy'), and described in turn.
   */
  describe(fd: number, source?: NsSource): Entry | undefined {
    const ident = identify(fd);
    if (ident === undefined || !this.wants(ident.type)) return undefined;
    const e = this.entry(ident.type, ident.inode, source);
    if (e.described) return e;
    e.described = true;
    e.dev = ident.dev;
    let id = nsGetId(fd);
    if (typeof id === 'number' && ident.type === 'mnt') id = nsGetMntnsId(fd);
    if (typeof id === 'bigint') e.id = id;
    if (ident.type === 'user') {
      const uid = nsGetOwnerUid(fd);
      if (uid >= 0) e.ownerUid = uid;
    }
    const owner = nsGetUserns(fd);
    if (owner >= 0) {
      try {
        const o = identify(owner);
        if (o !== undefined) {
          e.ownerInode = o.inode;
          if (ident.type !== 'user') {
            const uid = nsGetOwnerUid(owner);
            if (uid >= 0) e.ownerUid = uid;
          }
          if (this.needsFd(o.inode) && this.wants('user')) this.describe(owner, 'hierarchy');
        }
      } finally {
        native.close(owner);
      }
    }
    if (ident.type === 'pid' || ident.type === 'user') {
      const parent = nsGetParent(fd);
      if (parent >= 0) {
        try {
          const p = identify(parent);
          if (p !== undefined) {
            e.parentInode = p.inode;
            if (this.needsFd(p.inode)) this.describe(parent, 'hierarchy');
          }
        } finally {
          native.close(parent);
        }
      }
    }
    return e;
  }

  /** Reads one process; all or nothing (see file comment). */
  process(pid: number): void {
    const pidfd = native.pidfd_open(pid, 0);
    if (pidfd < 0) return; // gone, or not ours to see
    // nsfs fds opened for namespaces not described yet, by inode.
    const pending = new Map<number, number>();
    const need = (inode: number) => !pending.has(inode) && this.needsFd(inode);
    const keep = (inode: number, fd: number) => {
      if (fd >= 0) pending.set(inode, fd);
    };
    try {
      // The fd links first, before we open anything: when `pid` is us, none
      // of our own transient fds (the directory fd of this very listing,
      // then the nsfs fds opened below) may show up as holders.
      const fdLinks: [number, string][] = [];
      for (const fdn of readdirNums(`/proc/${pid}/fd`)) {
        if (fdn === pidfd && pid === process.pid) continue;
        const link = readlink(`/proc/${pid}/fd/${fdn}`);
        if (link !== undefined) fdLinks.push([fdn, link]);
      }
      const own = new Map<string, number>();
      const obs: Obs[] = [];

      for (const f of PROC_NS_FILES) {
        const link = readlink(`/proc/${pid}/ns/${f.file}`);
        const ns = link === undefined ? undefined : parseNsLink(link);
        if (ns === undefined) continue;
        own.set(f.file, ns.inode);
        if (!this.wants(f.type)) continue;
        if (f.children) {
          if (own.get(f.type) === ns.inode) continue;
          obs.push({ kind: 'children', type: f.type, inode: ns.inode });
        } else {
          obs.push({ kind: 'process', type: f.type, inode: ns.inode });
        }
        if (need(ns.inode)) keep(ns.inode, openProcNs(pidfd, pid, f, ns.inode));
      }
      if (own.size === 0) return; // no access, or a zombie

      const status = readStatus(pid);
      let command = status.name;
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd !== '') command = cmd.replace(/\0+$/, '').replace(/\0/g, ' ');
      } catch {
        // keep comm
      }

      // Threads in other namespaces than their process's.
      if (status.threads > 1 && THREAD_NS_FILES.some((f) => this.wants(f.type))) {
        for (const tid of readdirNums(`/proc/${pid}/task`)) {
          if (tid === pid) continue;
          for (const f of THREAD_NS_FILES) {
            if (!this.wants(f.type)) continue;
            const path = `/proc/${pid}/task/${tid}/ns/${f.file}`;
            const link = readlink(path);
            const ns = link === undefined ? undefined : parseNsLink(link);
            if (ns === undefined || ns.inode === own.get(f.file)) continue;
            if (f.children && ns.inode === own.get(f.type)) continue;
            obs.push({ kind: f.children ? 'children' : 'thread', type: f.type, inode: ns.inode, n: tid });
            if (need(ns.inode)) keep(ns.inode, openNsfsPath(path, ns.inode));
          }
        }
      }

      // Open fds: nsfs fds, and sockets (whose netns may differ from the process's).
      const wantSockets = this.wants('net');
      for (const [fdn, link] of fdLinks) {
        if (link.charCodeAt(0) === 115 /* s */) {
          const m = SOCKET_RE.exec(link);
          if (m === null) continue;
          if (!wantSockets) continue;
          const netns = this.socketNetns(pidfd, fdn, Number(m[1]), need, keep);
          if (netns !== undefined && netns !== own.get('net')) obs.push({ kind: 'socket', type: 'net', inode: netns, n: fdn });
          continue;
        }
        const ns = parseNsLink(link);
        if (ns === undefined || !this.wants(ns.type)) continue;
        obs.push({ kind: 'fd', type: ns.type, inode: ns.inode, n: fdn });
        if (need(ns.inode)) keep(ns.inode, openNsfsPath(`/proc/${pid}/fd/${fdn}`, ns.inode));
      }

      // Everything above was about this process only if it still exists.
      if (native.pidfd_send_signal(pidfd, 0, 0) < 0) return;

      for (const fd of pending.values()) this.describe(fd);
      this.procs.set(pid, { command, uid: status.uid });
      const mnt = own.get('mnt');
      if (mnt !== undefined && !this.mntnsPid.has(mnt)) this.mntnsPid.set(mnt, pid);
      for (const o of obs) {
        switch (o.kind) {
          case 'process':
            this.entry(o.type, o.inode, 'process').pids.add(pid);
            break;
          case 'children':
            this.entry(o.type, o.inode, 'process').forChildren.add(pid);
            break;
          case 'thread':
            this.entry(o.type, o.inode, 'thread').threads.push({ pid, tid: o.n as number });
            break;
          case 'fd':
            this.entry(o.type, o.inode, 'fd').holders.push({ pid, fd: o.n as number });
            break;
          case 'socket':
            this.entry('net', o.inode, 'socket').sockets.push({ pid, fd: o.n as number });
            break;
        }
      }
    } finally {
      for (const fd of pending.values()) native.close(fd);
      native.close(pidfd);
    }
  }

  /** The netns inode of socket `fdn` of the process (inode `sockIno`), via pidfd_getfd + SIOCGSKNS. */
  socketNetns(
    pidfd: number,
    fdn: number,
    sockIno: number,
    need: (inode: number) => boolean,
    keep: (inode: number, fd: number) => void,
  ): number | undefined {
    const cached = this.socketNs.get(sockIno);
    if (cached !== undefined) return cached;
    const sock = native.pidfd_getfd(pidfd, fdn, 0);
    if (sock < 0) return undefined;
    let nsfd = -1;
    try {
      const st = native.fstat(sock);
      // The fd may have been closed and reused since the readlink.
      if (typeof st === 'number' || Number(st[1]) !== sockIno) return undefined;
      nsfd = native.socket_netns(sock);
    } finally {
      native.close(sock);
    }
    if (nsfd < 0) return undefined;
    const st = native.fstat(nsfd);
    const inode = typeof st === 'number' ? undefined : Number(st[1]);
    if (inode !== undefined && need(inode)) keep(inode, nsfd);
    else native.close(nsfd);
    if (inode !== undefined) this.socketNs.set(sockIno, inode);
    return inode;
  }

  /** nsfs bind mounts: ours, then those of every other mount namespace met in the walk. */
  mounts(): void {
    const ownMnt = parseNsLink(readlink('/proc/self/ns/mnt') ?? '')?.inode;
    const ours = new Set<string>();
    for (const m of readNsfsMounts('/proc/self/mountinfo')) {
      ours.add(`${m.inode}:${m.path}`);
      if (!this.wants(m.type)) continue;
      if (this.needsFd(m.inode)) {
        const fd = openNsfsPath(m.path, m.inode);
        if (fd >= 0) {
          try {
            this.describe(fd, 'mount');
          } finally {
            native.close(fd);
          }
        }
      }
      const e = this.entry(m.type, m.inode, 'mount');
      if (!e.persisted.includes(m.path)) e.persisted.push(m.path);
    }
    for (const [mntns, pid] of this.mntnsPid) {
      if (mntns === ownMnt) continue;
      const pidfd = native.pidfd_open(pid, 0);
      if (pidfd < 0) continue;
      const pending: number[] = [];
      try {
        const found = readNsfsMounts(`/proc/${pid}/mountinfo`).filter(
          (m) => this.wants(m.type) && !ours.has(`${m.inode}:${m.path}`),
        );
        if (found.length === 0) continue;
        // The process must still be in that mount namespace, and still exist.
        if (parseNsLink(readlink(`/proc/${pid}/ns/mnt`) ?? '')?.inode !== mntns) continue;
        for (const m of found) {
          if (this.needsFd(m.inode)) {
            const fd = openNsfsPath(`/proc/${pid}/root${m.path}`, m.inode);
            if (fd >= 0) pending.push(fd);
          }
        }
        if (native.pidfd_send_signal(pidfd, 0, 0) < 0) continue;
        for (const fd of pending) this.describe(fd, 'mount');
        for (const m of found) this.entry(m.type, m.inode, 'mount').mountsElsewhere.push({ mntns, pid, path: m.path });
      } finally {
        for (const fd of pending) native.close(fd);
        native.close(pidfd);
      }
    }
  }

  /** listns(2) (6.19): marks what it also lists, and adds what only it found. */
  listns(): void {
    const ids = listnsIds(this.type);
    if (ids === undefined) return;
    const byId = new Map<bigint, Entry>();
    for (const e of this.byInode.values()) if (e.id !== undefined) byId.set(e.id, e);
    for (const [id, type] of ids) {
      const known = byId.get(id);
      if (known !== undefined) {
        known.sources.add('listns');
        continue;
      }
      const fd = openById(id, type);
      if (fd >= 0) {
        try {
          const e = this.describe(fd, 'listns');
          if (e !== undefined) {
            e.sources.add('listns');
            continue;
          }
        } finally {
          native.close(fd);
        }
      }
      // Listed, but we cannot open it: report what listns told us.
      this.unopened.push({ ...this.blank(type, 0), id, sources: new Set(['listns']) });
    }
  }

  result(): NamespaceInfo[] {
    const out: NamespaceInfo[] = [];
    for (const e of [...this.byInode.values(), ...this.unopened]) {
      if (!this.wants(e.type) || e.sources.size === 0) continue;
      if (e.sources.size > 1) e.sources.delete('hierarchy');
      const pids = [...e.pids].sort((a, b) => a - b);
      const info: NamespaceInfo = {
        type: e.type,
        inode: e.inode,
        dev: e.dev,
        pids,
        threads: e.threads.sort((a, b) => a.pid - b.pid || a.tid - b.tid),
        forChildren: [...e.forChildren].sort((a, b) => a - b),
        holders: e.holders.sort((a, b) => a.pid - b.pid || a.fd - b.fd),
        sockets: e.sockets.sort((a, b) => a.pid - b.pid || a.fd - b.fd),
        persisted: e.persisted.sort(),
        mountsElsewhere: e.mountsElsewhere,
        sources: SOURCE_ORDER.filter((s) => e.sources.has(s)),
      };
      if (e.id !== undefined) info.id = e.id;
      if (e.ownerInode !== undefined) info.ownerInode = e.ownerInode;
      if (e.ownerUid !== undefined) info.ownerUid = e.ownerUid;
      if (e.parentInode !== undefined) info.parentInode = e.parentInode;
      const pid =
        pids[0] ??
        lowest([
          ...e.threads.map((t) => t.pid),
          ...e.forChildren,
          ...e.holders.map((h) => h.pid),
          ...e.sockets.map((h) => h.pid),
        ]);
      if (pid !== undefined) {
        info.pid = pid;
        const p = this.procs.get(pid);
        if (p !== undefined) {
          info.command = p.command;
          if (p.uid !== undefined) info.uid = p.uid;
        }
      }
      out.push(info);
    }
    return out.sort((a, b) => a.inode - b.inode || NS_TYPES.indexOf(a.type) - NS_TYPES.indexOf(b.type));
  }
}

function lowest(xs: number[]): number | undefined {
  let m: number | undefined;
  for (const x of xs) if (m === undefined || x < m) m = x;
  return m;
}

function readStatus(pid: number): { name: string; uid: number | undefined; threads: number } {
  let text = '';
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    // gone: the recheck drops it
  }
  const name = /^Name:\t(.*)$/m.exec(text)?.[1] ?? '';
  const uidField = /^Uid:\t(\d+)\t(\d+)/m.exec(text);
  const threads = Number(/^Threads:\t(\d+)$/m.exec(text)?.[1] ?? 1);
  return { name, uid: uidField ? Number(uidField[2]) : undefined, threads };
}

// ---------------------------------------------------------------------------
// mountinfo

export interface MountinfoEntry {
  mountId: number;
  parentId: number;
  root: string;
  mountPoint: string;
  fstype: string;
  source: string;
}

/** Undoes mountinfo's octal escapes (\040 for a space, \134 for a backslash...). */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/PID/mountinfo text (proc(5)); malformed lines are skipped. */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0 || sep + 2 >= f.length) continue;
    out.push({
      mountId: Number(f[0]),
      parentId: Number(f[1]),
      root: unescapeMountinfo(f[3] as string),
      mountPoint: unescapeMountinfo(f[4] as string),
      fstype: f[sep + 1] as string,
      source: unescapeMountinfo(f[sep + 2] as string),
    });
  }
  return out;
}

function readNsfsMounts(file: string): { type: NsType; inode: number; path: string }[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch {
    return [];
  }
  const out: { type: NsType; inode: number; path: string }[] = [];
  for (const m of parseMountinfo(text)) {
    if (m.fstype !== 'nsfs') continue;
    const ns = parseNsLink(m.root);
    if (ns !== undefined) out.push({ ...ns, path: m.mountPoint });
  }
  return out;
}

// ---------------------------------------------------------------------------
// listns (6.19)

let listnsMissing = false;
const LISTNS_PAGE = 1024;

/**
 * All namespace ids listns(2) reports, with their type (asked per type:
 * the ids alone do not say), or undefined where the kernel lacks listns.
 * `req.ns_id` is a cursor: each page starts after the last id seen.
 */
export function listnsIds(type?: NsType): Map<bigint, NsType> | undefined {
  if (listnsMissing) return undefined;
  const out = new Map<bigint, NsType>();
  for (const t of type === undefined ? NS_TYPES : [type]) {
    let cursor = 0n;
    for (;;) {
      const r = native.listns(cursor, CLONE_FLAG[t], LISTNS_PAGE);
      if (typeof r === 'number') {
        if (r === -E.ENOSYS) {
          listnsMissing = true;
          return undefined;
        }
        break; // EPERM/EINVAL for this type: the walk still covers it
      }
      let advanced = false;
      for (const id of r) {
        if (id <= cursor) continue;
        out.set(id, t);
        cursor = id;
        advanced = true;
      }
      if (r.length < LISTNS_PAGE || !advanced) break;
    }
  }
  return out;
}

/** An nsfs file handle for `id` (struct nsfs_file_handle, 6.18) in open_by_handle_at's buffer form. */
export function nsfsHandle(id: bigint, type: NsType, inode = 0): Buffer {
  const b = Buffer.alloc(4 + 16);
  b.writeInt32LE(FILEID_NSFS, 0);
  b.writeBigUInt64LE(id, 4);
  b.writeUInt32LE(CLONE_FLAG[type], 12);
  b.writeUInt32LE(inode, 16);
  return b;
}

function openById(id: bigint, type: NsType): number {
  const r = native.open_by_handle_at(nsfsHandle(id, type));
  return r >= 0 ? r : -1;
}

// ---------------------------------------------------------------------------
// Public API

function checkOptions(options: unknown): ListOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const o = options as Record<string, unknown>;
  if (o.tree !== undefined) throw invalidArg('options.tree', 'absent (use namespaceTree() for the tree)', o.tree);
  const out: ListOptions = {};
  if (o.type !== undefined) out.type = checkNsType(o.type, 'options.type');
  return out;
}

const YIELD_EVERY = 64;

/**
 * Every namespace we can see: those of processes and their threads, those
 * held only by an open fd, by a socket or by a bind mount, and the owners
 * and parents of all of these; merged with listns(2) on Linux 6.19+.
 * Processes that exit during the walk are left out. Sorted by inode.
 */
export async function listNamespaces(options?: ListOptions): Promise<NamespaceInfo[]> {
  const opts = checkOptions(options);
  const walk = new Walk(opts.type);
  const pids = readdirNums('/proc');
  for (let i = 0; i < pids.length; i++) {
    walk.process(pids[i] as number);
    // Let the event loop breathe; no fd is open between two processes.
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise<void>((r) => setImmediate(r));
  }
  walk.mounts();
  walk.listns();
  return walk.result();
}

/**
 * Arranges namespaces (from listNamespaces(), all types) as trees: user
 * namespaces with their child user namespaces and the namespaces they own,
 * and pid/user namespaces by parent. With `type`, only branches leading to
 * a namespace of that type are kept.
 */
export function buildNamespaceTree(list: readonly NamespaceInfo[], options?: ListOptions): NamespaceTree {
  const opts = checkOptions(options);
  if (!Array.isArray(list) || list.some((ns) => ns === null || typeof ns !== 'object' || !Number.isInteger((ns as NamespaceInfo).inode))) {
    throw invalidArg('list', 'an array of NamespaceInfo (from listNamespaces())', list);
  }
  const byInode = new Map<number, NamespaceInfo>();
  for (const ns of list) byInode.set(ns.inode, ns);

  const ownerKids = new Map<number, NamespaceInfo[]>();
  const parentKids = new Map<number, NamespaceInfo[]>();
  const push = (m: Map<number, NamespaceInfo[]>, k: number, v: NamespaceInfo) => {
    const a = m.get(k);
    if (a) a.push(v);
    else m.set(k, [v]);
  };
  const ownerRoots: NamespaceInfo[] = [];
  const parentRoots: NamespaceInfo[] = [];
  for (const ns of list) {
    // owner tree: a user ns hangs under its parent; anything else under its owner.
    const up = ns.type === 'user' ? ns.parentInode : ns.ownerInode;
    if (up !== undefined && up !== ns.inode && byInode.get(up)?.type === 'user') push(ownerKids, up, ns);
    else ownerRoots.push(ns);
    if (ns.type === 'pid' || ns.type === 'user') {
      const p = ns.parentInode;
      if (p !== undefined && byInode.get(p)?.type === ns.type) push(parentKids, p, ns);
      else parentRoots.push(ns);
    }
  }
  const order = (a: NamespaceInfo, b: NamespaceInfo) =>
    (a.type === 'user' ? 0 : 1) - (b.type === 'user' ? 0 : 1) || a.inode - b.inode;
  const build = (ns: NamespaceInfo, kids: Map<number, NamespaceInfo[]>, depth: number): NamespaceTreeNode | undefined => {
    const children: NamespaceTreeNode[] = [];
    if (depth < 64) {
      for (const k of (kids.get(ns.inode) ?? []).sort(order)) {
        const n = build(k, kids, depth + 1);
        if (n) children.push(n);
      }
    }
    if (opts.type !== undefined && ns.type !== opts.type && children.length === 0) return undefined;
    return { ns, children };
  };
  const forest = (roots: NamespaceInfo[], kids: Map<number, NamespaceInfo[]>) =>
    roots.sort(order).flatMap((r) => build(r, kids, 0) ?? []);
  return { owner: forest(ownerRoots, ownerKids), parent: forest(parentRoots, parentKids) };
}

/** listNamespaces() arranged as trees (see buildNamespaceTree). */
export async function namespaceTree(options?: ListOptions): Promise<NamespaceTree> {
  const opts = checkOptions(options);
  return buildNamespaceTree(await listNamespaces(), opts);
}
