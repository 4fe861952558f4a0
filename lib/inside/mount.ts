// The new mount API into the target's mount namespace: mountIn (a new file
// system, or a bind mount of a host path) and makePrivateIn.
import { E, NsError, UnsupportedError, checkOptionKeys, checkString, invalidArg, invalidValue, optionKeys, outOfRange } from '../core/errors';
import { native } from '../sys/native';
import { Namespace } from '../namespace';
import {
  AT_FDCWD,
  AT_RECURSIVE,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_STRICTATIME,
  OPEN_TREE_CLONE,
} from '../sys/constants';
import { throwRaw } from './failure';
import { InTarget, nsOfType, pidOf, resolveTarget } from './target';
import { RESOLVE, runUnderRoot } from './vehicle';
import { opCall } from './wire';

/** The option names the checks below know: any other is a typo (checkOptionKeys). */
const MOUNT_IN_KEYS = optionKeys<MountOptions>({ options: true, readonly: true, nosuid: true, nodev: true, noexec: true, recursive: true, bind: true });

export const MOUNT_ATTR = {
  rdonly: MOUNT_ATTR_RDONLY,
  nosuid: MOUNT_ATTR_NOSUID,
  nodev: MOUNT_ATTR_NODEV,
  noexec: MOUNT_ATTR_NOEXEC,
  noatime: MOUNT_ATTR_NOATIME,
  strictatime: MOUNT_ATTR_STRICTATIME,
  nodiratime: MOUNT_ATTR_NODIRATIME,
} as const;

/** Options of mountIn(): fsconfig options and mount attributes. */
export interface MountOptions {
  /** fsconfig options: {size: '16m', mode: '755'} as strings; `true` sets a flag option. */
  options?: Record<string, string | number | boolean> | undefined;
  readonly?: boolean | undefined;
  nosuid?: boolean | undefined;
  nodev?: boolean | undefined;
  noexec?: boolean | undefined;
  /** Bind mounts: the whole tree below `source` (AT_RECURSIVE). Default true. */
  recursive?: boolean | undefined;
  /** Bind mounts: force treating `source` as a path (default: a path if it starts with '/' or '.'). */
  bind?: boolean | undefined;
}

function attrFlags(o: MountOptions): number {
  return (o.readonly ? MOUNT_ATTR.rdonly : 0) | (o.nosuid ? MOUNT_ATTR.nosuid : 0) | (o.nodev ? MOUNT_ATTR.nodev : 0) | (o.noexec ? MOUNT_ATTR.noexec : 0);
}

/**
 * The new mount API into the target's mount namespace: a new file system
 * (fsopen/fsconfig/fsmount), or a bind mount of a host path (open_tree
 * OPEN_TREE_CLONE here, in our mount namespace), attached with move_mount
 * onto `targetPath` resolved under the target's root (RESOLVE_IN_ROOT) by
 * the helper child after it joined the mount namespace (and the user
 * namespace, when it is not ours). A `proc` mount is made by a grandchild
 * inside the target's pid namespace, so it shows that namespace's pids.
 */
export function mountIn(target: InTarget, source: string, targetPath: string, options: MountOptions = {}): void {
  checkString(source, 'source');
  checkString(targetPath, 'target');
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  checkOptionKeys(options, MOUNT_IN_KEYS);
  const isBind = options.bind ?? (source.startsWith('/') || source.startsWith('.'));
  const attrs = attrFlags(options);
  if (!isBind) {
    if (!/^[A-Za-z0-9_.-]+$/.test(source)) throw invalidValue('source', 'must be a file system type (tmpfs, proc, ...) or a path', source);
    const kv: string[] = [];
    for (const [k, v] of Object.entries(options.options ?? {})) {
      if (k === '' || k.includes('=') || k.includes('\0')) throw invalidValue(`options.options.${k}`, 'is not a valid option name', k);
      if (v === false) continue;
      if (v === true) kv.push(k);
      else if (typeof v === 'string' || typeof v === 'number') kv.push(`${k}=${String(v)}`);
      else throw invalidArg(`options.options.${k}`, 'a string, number or boolean', v);
    }
    if (kv.length > 30) throw outOfRange('options.options', 'at most 30 entries', kv.length);
    const call = opCall('fsmount', { attrs, resolve: RESOLVE }, { fstype: source, target: targetPath }, { rest: kv });
    const pidns = source === 'proc' && hasOwnPidns(target);
    const r = runUnderRoot(target, call, 'mount', { pidns });
    if (r[0] < 0) {
      throwRaw(r, { path: targetPath, pid: pidOf(target) }, {
        [`fsopen:${E.ENODEV}`]: `this kernel has no file system type ${source}`,
        [`fsopen:${E.EPERM}`]: `${source} cannot be mounted from the target's user namespace`,
        [`fsmount:${E.EPERM}`]: 'mount flags not allowed here (a locked mount, or the file system needs them)',
      });
    }
    return;
  }
  // Bind mount: clone the source tree here, in our mount namespace.
  const flags = OPEN_TREE_CLONE | (options.recursive === false ? 0 : AT_RECURSIVE);
  const tree = native.open_tree(AT_FDCWD, source, flags);
  if (tree === -E.ENOSYS) throw new UnsupportedError('open_tree', '5.2', tree, 'open_tree');
  if (tree < 0) {
    throw new NsError(tree, 'open_tree', {
      path: source,
      hint: tree === -E.EPERM ? 'cloning a mount needs CAP_SYS_ADMIN in our mount namespace\'s user namespace (a bind mount of a host path is not possible from a rootless caller)' : undefined,
    });
  }
  try {
    if (attrs !== 0) {
      const a = native.mount_setattr(tree, options.recursive === false ? 0 : 1, attrs, 0, 0);
      if (a === -E.ENOSYS) throw new UnsupportedError('mount_setattr (read-only etc. bind mounts)', '5.12', a, 'mount_setattr');
      if (a < 0) throw new NsError(a, 'mount_setattr', { path: source });
    }
    const call = opCall('moveMount', { tree, resolve: RESOLVE }, { target: targetPath });
    const r = runUnderRoot(target, call, 'mount');
    if (r[0] < 0) throwRaw(r, { path: targetPath, pid: pidOf(target) });
  } finally {
    native.close(tree);
  }
}

function hasOwnPidns(target: InTarget): boolean {
  const t = resolveTarget(target);
  if (t.kind === 'ns') return nsOfType(t.list, 'pid', 'mount') !== undefined;
  using mine = Namespace.current('pid');
  using theirs = t.pidfd.namespace('pid');
  return !mine.equals(theirs);
}

/** mount --make-rprivate / in the target's mount namespace (no mount event leaks to or from the host). */
export function makePrivateIn(target: InTarget): void {
  const r = runUnderRoot(target, opCall('makePrivate', {}, {}), 'mount');
  if (r[0] < 0) throwRaw(r, { pid: pidOf(target) });
}
