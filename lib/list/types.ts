// The public types of listNamespaces() and namespaceTree().
import type { NsType } from '../core/ns-types';

/** How a namespace was found. */
export type NsSource = 'listns' | 'process' | 'thread' | 'fd' | 'socket' | 'mount' | 'hierarchy';

/** The order `NamespaceInfo.sources` lists them in. */
export const SOURCE_ORDER: readonly NsSource[] = ['listns', 'process', 'thread', 'fd', 'socket', 'mount', 'hierarchy'];

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

/** One namespace listNamespaces() found: its identity, owner and parent, and everything that holds it (processes, threads, fds, sockets, bind mounts). */
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

/** Options of listNamespaces() and namespaceTree(). */
export interface ListOptions {
  /** Only namespaces of this type. */
  type?: NsType | undefined;
}

/** A namespace and the namespaces under it (owned by it, or its children). */
export interface NamespaceTreeNode {
  ns: NamespaceInfo;
  children: NamespaceTreeNode[];
}

/** namespaceTree(): user namespaces with what they own, and pid/user namespaces by parent. */
export interface NamespaceTree {
  /**
   * User namespaces by parent, each followed by the namespaces it owns (as
   * `lsns -T owner`). Namespaces whose owner is out of reach are roots.
   */
  owner: NamespaceTreeNode[];
  /** Pid and user namespaces by parent (as `lsns -T parent`). */
  parent: NamespaceTreeNode[];
}
