// What the walk has found so far: one entry per namespace, keyed by nsfs
// inode (every source merges into it), and the per-namespace details read
// once through an nsfs fd: id, owner, parent (whose own entries are added
// as 'hierarchy' and described in turn).
import { NsError } from '../../core/errors';
import { procOpen } from '../../core/procfs';
import { O_RDONLY } from '../../sys/constants';

import type { NsType } from '../../core/ns-types';
import { native } from '../../sys/native';
import { nsGetId, nsGetMntnsId, nsGetOwnerUid, nsGetParent, nsGetUserns } from '../../sys/nsfs';
import { identify } from '../links';
import type { NsForeignMount, NsHolder, NsSource, NsThread } from '../types';

/** A namespace being collected; becomes a NamespaceInfo at the end. */
export interface Entry {
  type: NsType;
  inode: number;
  dev: number;
  /** id, owner and parent have been read (they need an fd, opened once). */
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

/** What the result reports about a process (for the pid it names). */
export interface ProcInfo {
  command: string;
  uid: number | undefined;
}

export class Walk {
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
    const fd = procOpen('self/ns/net', O_RDONLY, true);
    const st = fd >= 0 ? native.fstat(fd) : fd;
    if (fd >= 0) native.close(fd);
    if (typeof st === 'number') throw new NsError(st, 'open', { path: '/proc/self/ns/net' });
    this.nsfsDev = Number(st[0]);
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
    this.describeOwner(fd, ident.type, e);
    if (ident.type === 'pid' || ident.type === 'user') this.describeParent(fd, e);
    return e;
  }

  /** The user namespace owning `fd`'s (NS_GET_USERNS): its inode, and its creator's uid for a `type` other than user. */
  private describeOwner(fd: number, type: NsType, e: Entry): void {
    const owner = nsGetUserns(fd);
    if (owner < 0) return;
    try {
      const o = identify(owner);
      if (o !== undefined) {
        e.ownerInode = o.inode;
        if (type !== 'user') {
          const uid = nsGetOwnerUid(owner);
          if (uid >= 0) e.ownerUid = uid;
        }
        if (this.needsFd(o.inode) && this.wants('user')) this.describe(owner, 'hierarchy');
      }
    } finally {
      native.close(owner);
    }
  }

  /** The parent of a pid or user namespace (NS_GET_PARENT; none for the initial ones). */
  private describeParent(fd: number, e: Entry): void {
    const parent = nsGetParent(fd);
    if (parent < 0) return;
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
