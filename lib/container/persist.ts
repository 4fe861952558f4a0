// Keeping a container's namespaces past its end (c.persist) by bind-mounting
// their nsfs files, and undoing that (Container.unpersist).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { E, NsError, invalidArg } from '../core/errors';
import { NS_TYPES, NsType } from '../core/ns-types';
import { Namespace, persistAll } from '../namespace';

/** Bind-mounts each of `types` of `namespaces` on dir/<type>, all or none (see Container#persist). */
export function persistNamespaces(namespaces: Readonly<Partial<Record<NsType, Namespace>>>, dir: string, types: readonly NsType[]): Partial<Record<NsType, string>> {
  fs.mkdirSync(dir, { recursive: true });
  return persistAll(
    types.map((t) => [t, path.join(dir, t)] as const),
    (t, p) => {
      const ns = namespaces[t];
      if (ns === undefined) throw new NsError(-E.EOPNOTSUPP, 'persist', { hint: `this kernel has no ${t} namespaces` });
      try {
        ns.persist(p);
      } catch (err) {
        throw t === 'mnt' && err instanceof NsError && err.code === 'EINVAL' ? mntLoopError(ns, p) ?? err : err;
      }
    },
  );
}

/** See Container.unpersist. */
export function unpersistDir(dir: string): void {
  if (typeof dir !== 'string' || dir === '') throw invalidArg('dir', 'a non-empty string', dir);
  for (const t of NS_TYPES) {
    const p = path.join(dir, t);
    if (fs.existsSync(p)) Namespace.unpersist(p);
  }
  try {
    fs.rmdirSync(dir);
  } catch {
    // not empty, or gone: left as it is
  }
}

/**
 * The kernel refuses to bind-mount a mount namespace whose id is not above
 * the caller's own mount namespace's (mnt_ns_loop(), against mount loops).
 * On 6.18 namespace ids are handed out in per-CPU batches, so a namespace
 * made after ours can still have a lower id: say so when that is the cause.
 */
function mntLoopError(ns: Namespace, p: string): NsError | undefined {
  try {
    using ours = Namespace.current('mnt');
    if (ours.id < ns.id) return undefined;
    return new NsError(-E.EINVAL, 'mount', {
      path: p,
      hint:
        `the kernel only binds a mount namespace whose id (${ns.id}) is above the caller's (${ours.id}); ` +
        'ids come in per-CPU batches, so a newer namespace can have a lower one: persist from the initial mount namespace',
    });
  } catch {
    return undefined;
  }
}
