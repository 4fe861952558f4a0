// Namespace.create: new namespaces with no process left in them. A
// short-lived holder is spawned straight into them (clone3), its namespaces
// are taken through its pidfd (PIDFD_GET_*_NAMESPACE, or /proc rechecked
// through the pidfd), and it is killed and reaped. With `persist`, they are
// bind-mounted as `ip netns add` does.
import { privilege } from './core/privilege';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { E, NsError, checkOptionKeys, invalidArg, invalidValue, optionKeys } from './core/errors';
import { native } from './sys/native';
import { NS_TYPES, NsType } from './core/ns-types';
import { CreatableNsType, CreateNamespaceOptions, CreatedNamespaces, Namespace, persistAll, setNamespaceCreator } from './namespace';
import { spawn } from './spawn';
import type { SpawnOptions } from './spawn';
import { AT_FDCWD, AT_RECURSIVE, MOVE_MOUNT_F_EMPTY_PATH, MS_SHARED, OPEN_TREE_CLONE, O_DIRECTORY, O_PATH } from './sys/constants';

/** The option names the checks below know: any other is a typo (checkOptionKeys). */
const CREATE_OPTION_KEYS = optionKeys<CreateNamespaceOptions>({ persist: true, userns: true });

/** Where iproute2 keeps named network namespaces. */
export const NETNS_RUN_DIR = '/run/netns';

const HOLDER = '/bin/sh';
// Blocks on its stdin pipe: if we die before killing it, it ends with the pipe.
const HOLDER_ARGS = ['-c', 'read _'];

function checkTypes(types: unknown): CreatableNsType[] {
  if (!Array.isArray(types) || types.length === 0) throw invalidArg('types', 'a non-empty array of namespace types', types);
  const out: CreatableNsType[] = [];
  for (const t of types) {
    if (t === 'pid') throw invalidValue('types', 'cannot hold "pid": a pid namespace dies with its first process (use spawn or Container)', types);
    if (!(NS_TYPES as readonly unknown[]).includes(t)) throw invalidValue('types', `must hold only ${NS_TYPES.filter((x) => x !== 'pid').join(', ')}`, types);
    if (!out.includes(t as CreatableNsType)) out.push(t as CreatableNsType);
  }
  return out;
}

async function createNamespaces(typesIn: readonly CreatableNsType[], options: CreateNamespaceOptions): Promise<CreatedNamespaces<CreatableNsType>> {
  const types = checkTypes(typesIn);
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  checkOptionKeys(options, CREATE_OPTION_KEYS);
  const { persist, userns } = options;
  if (persist !== undefined && (typeof persist !== 'string' || persist === '' || persist.includes('\0'))) {
    throw invalidArg('options.persist', 'a non-empty path without null bytes', persist);
  }
  if (userns !== undefined && (!(userns instanceof Namespace) || userns.type !== 'user')) {
    throw invalidArg('options.userns', 'a user Namespace', userns);
  }
  const root = privilege().admin;
  // Rootless, the namespaces are made inside a new user namespace of ours.
  const newUser = types.includes('user') || (userns === undefined && !root);
  const unshare: NsType[] = types.filter((t) => t !== 'user');
  if (newUser) unshare.unshift('user');
  const spec: SpawnOptions = { unshare, stdio: ['pipe', 'ignore', 'ignore'], killOnClose: true, env: {} };
  if (newUser) {
    const uid = process.geteuid?.() ?? 0;
    const gid = process.getegid?.() ?? 0;
    spec.uidMap = [{ inside: 0, outside: uid, count: 1 }];
    spec.gidMap = [{ inside: 0, outside: gid, count: 1 }];
  }
  if (userns !== undefined) {
    if (types.includes('user')) throw invalidValue('options.userns', 'cannot be given with a new "user" namespace', userns);
    spec.join = [userns];
    spec.joinTypes = ['user'];
  }
  const holder = spawn(HOLDER, HOLDER_ARGS, spec);
  const out: Partial<Record<NsType, Namespace>> = {};
  try {
    for (const t of newUser ? ['user' as const, ...unshare.filter((t) => t !== 'user')] : unshare) out[t] = holder.pidfd.namespace(t);
  } catch (err) {
    for (const ns of Object.values(out)) ns.close();
    throw err;
  } finally {
    holder.close(); // SIGKILL (killOnClose) and our ends of its pipes
    holder.stdin?.destroy();
    await holder.exited.catch(() => undefined);
  }
  const result = out as CreatedNamespaces<CreatableNsType>;
  if (persist !== undefined) {
    try {
      result.persisted = persistCreated(out, types, persist);
    } catch (err) {
      for (const ns of Object.values(out)) ns.close();
      throw err;
    }
  }
  return result;
}

function persistCreated(out: Partial<Record<NsType, Namespace>>, types: readonly CreatableNsType[], where: string): Partial<Record<NsType, string>> {
  if (types.length === 1) {
    const t = types[0] as CreatableNsType;
    persistFile(out[t] as Namespace, where);
    return { [t]: where };
  }
  fs.mkdirSync(where, { recursive: true, mode: 0o755 });
  return persistAll(
    types.map((t) => [t, path.join(where, t)] as const),
    (t, p) => persistFile(out[t] as Namespace, p),
  );
}

/**
 * Bind-mounts `ns` on `file`, creating its directory; under /run/netns, that
 * directory is first made a shared mount point, as `ip netns add` does, so
 * the mount reaches the mount namespaces `ip netns exec` makes.
 */
export function persistFile(ns: Namespace, file: string): void {
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (dir === NETNS_RUN_DIR) makeSharedMountPoint(dir);
  ns.persist(file);
}

/** mount --make-rshared DIR, bind-mounting DIR on itself first when it is no mount point (iproute2's netns_add). */
export function makeSharedMountPoint(dir: string): void {
  const tryShare = (): number => {
    const fd = native.openat(AT_FDCWD, dir, O_PATH | O_DIRECTORY, 0);
    if (fd < 0) return fd;
    try {
      return native.mount_setattr(fd, 1, 0, 0, MS_SHARED);
    } finally {
      native.close(fd);
    }
  };
  let r = tryShare();
  // EINVAL: dir is not the root of a mount.
  if (r === -E.EINVAL) {
    const tree = native.open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | AT_RECURSIVE);
    if (tree < 0) throw new NsError(tree, 'open_tree', { path: dir });
    try {
      r = native.move_mount(tree, '', AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH);
      if (r < 0) throw new NsError(r, 'move_mount', { path: dir, hint: r === -E.EPERM ? 'needs CAP_SYS_ADMIN over our mount namespace' : undefined });
    } finally {
      native.close(tree);
    }
    r = tryShare();
  }
  if (r < 0) throw new NsError(r, 'mount_setattr', { path: dir, hint: r === -E.EPERM ? 'needs CAP_SYS_ADMIN over our mount namespace' : 'could not make it a shared mount point' });
}

setNamespaceCreator(createNamespaces);
