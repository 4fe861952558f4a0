// What the walk has found so far: one entry per namespace, keyed by nsfs
// inode (every source merges into it), and the per-namespace details read
// once through an nsfs fd: id, owner, parent (whose own entries are added
// as 'hierarchy' and described in turn).
import { NsError } from '../../core/errors';
import { procOpen } from '../../core/procfs';
import { O_RDONLY } from '../../sys/constants';

import { typeFromCloneFlag } from '../../core/ns-types';
import type { NsType } from '../../core/ns-types';
import { native } from '../../sys/native';
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
  /** Mount namespaces whose nsfs mounts the process step recorded (read with a process in it). */
  readonly mountsRead = new Set<number>();
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
   * the entry for it, in one native call (ns_describe); owners and parents
   * not seen yet are added too ('hierarchy'), and described in turn.
   */
  describe(fd: number, source?: NsSource): Entry | undefined {
    const d = native.ns_describe(fd, this.nsfsDev);
    if (typeof d === 'number') return undefined;
    const [flag, inode, id, ownerFd, ownerInode, ownerUid, parentFd, parentInode] = d;
    try {
      const type = typeFromCloneFlag(flag);
      if (type === undefined || !this.wants(type)) return undefined;
      const e = this.entry(type, inode, source);
      if (e.described) return e;
      e.described = true;
      e.dev = this.nsfsDev;
      if (typeof id === 'bigint') e.id = id;
      if (ownerUid >= 0) e.ownerUid = ownerUid;
      if (ownerFd >= 0) {
        e.ownerInode = ownerInode;
        if (this.needsFd(ownerInode) && this.wants('user')) this.describe(ownerFd, 'hierarchy');
      }
      if (parentFd >= 0) {
        e.parentInode = parentInode;
        if (this.needsFd(parentInode)) this.describe(parentFd, 'hierarchy');
      }
      return e;
    } finally {
      if (ownerFd >= 0) native.close(ownerFd);
      if (parentFd >= 0) native.close(parentFd);
    }
  }
}
