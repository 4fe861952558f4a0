// lsns's NETNSID column: the id our network namespace gives each listed
// network namespace (RTM_GETNSID with its fd; a query, never an
// assignment). Loaded only when the column is shown: it needs rtnetlink.
import type { NamespaceInfo } from '../index';
import { Namespace } from '../namespace';
import { nsidSync } from '../net/rtnetlink';
import { RtnlSocket } from '../net/socket';

/**
 * The namespace a listed one names, opened through a process in it (by
 * pidfd) or its nsfs bind mount, and only if it is still that namespace
 * (the process may have moved or gone meanwhile). Else undefined.
 */
function openListed(ns: NamespaceInfo): Namespace | undefined {
  const ways: (() => Namespace)[] = [...ns.pids.slice(0, 2).map((pid) => () => Namespace.ofPid(pid, 'net')), ...ns.persisted.slice(0, 1).map((p) => () => Namespace.open(p, 'net'))];
  for (const open of ways) {
    let h: Namespace | undefined;
    try {
      h = open();
    } catch {
      continue;
    }
    if (h.inode === ns.inode && h.dev === ns.dev) return h;
    h.close();
  }
  return undefined;
}

/**
 * By inode, lsns's NETNSID value of each network namespace in `list`: the
 * id as a string, "unassigned" when our namespace gives it none (as lsns
 * writes them). A namespace that could not be opened or asked is left
 * out (its cell is then empty, JSON null). Synchronous: a CLI call, whose
 * queries take microseconds each (a pool round trip apiece cost ~0.3 ms per
 * namespace).
 */
export function netnsidsOf(list: readonly NamespaceInfo[]): Map<number, string> {
  const ids = new Map<number, string>();
  const nets = list.filter((ns) => ns.type === 'net');
  if (nets.length === 0) return ids;
  let sock: RtnlSocket;
  {
    using self = Namespace.current('net');
    try {
      sock = new RtnlSocket(self);
    } catch {
      return ids;
    }
  }
  try {
    for (const ns of nets) {
      const h = openListed(ns);
      if (h === undefined) continue;
      try {
        const id = nsidSync(sock, h);
        ids.set(ns.inode, id === undefined ? 'unassigned' : String(id));
      } catch {
        // (Left empty rather than guessed.)
      } finally {
        h.close();
      }
    }
  } finally {
    sock.close();
  }
  return ids;
}
