// nsfd unshare: unshare(1) on the library's spawn(): the command is a
// clone3 child born in the new namespaces.
import * as fs from 'node:fs';

import { type IdMapEntry, Namespace, NsError, type NsType, type SpawnOptions, type Subprocess, spawn } from '../index';
import { UsageError } from './args';
import { waitPassingSignals } from './child';
import { oneLine } from './output';
import { type UnshareRequest, parseUnshareArgs } from './unshare-args';

export async function cmdUnshare(args: readonly string[]): Promise<number> {
  const req = parseUnshareArgs(args, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
  const types = [...req.namespaces.keys()];
  const persisted = [...req.namespaces].filter((e): e is [NsType, string] => e[1] !== undefined);
  if (persisted.length === 0) return run(req, commandOptions(req, types));
  return runPersisted(req, types, persisted);
}

/** The spawn options for the command, making `unshare` new. */
function commandOptions(req: UnshareRequest, unshare: readonly NsType[]): SpawnOptions {
  const options: SpawnOptions = { stdio: 'inherit' };
  if (unshare.length > 0) options.unshare = unshare;
  // unshare(1) makes the new mount namespace private (--propagation
  // private, its default) so that mounts made in it stay there. The
  // library does that (MS_REC|MS_PRIVATE on /) when it mounts a fresh
  // /proc, and only then: so private means a fresh /proc too. In a new
  // user namespace the kernel already turns shared mounts into slaves
  // (nothing propagates back), and /proc of our pid namespace could not be
  // mounted there: left as the kernel makes it.
  const ownsMounts = unshare.includes('mnt') && !unshare.includes('user');
  if (req.mountProc || (ownsMounts && req.propagation === 'private')) options.mountProc = true;
  if (req.uidMap) options.uidMap = req.uidMap;
  if (req.gidMap) options.gidMap = req.gidMap;
  if (req.setgroups) options.setgroups = req.setgroups;
  if (req.killChild) options.killOnClose = true;
  if (req.root !== undefined) options.root = req.root;
  if (req.wd !== undefined) options.cwd = req.wd;
  // Without -S/-G the command keeps its ids, as unshare's does: they read
  // as whatever the maps make of ours (--map-user=1234: uid 1234).
  const uid = req.uid ?? insideOf(req.uidMap, process.getuid?.() ?? 0);
  const gid = req.gid ?? insideOf(req.gidMap, process.getgid?.() ?? 0);
  if (uid !== undefined) options.uid = uid;
  if (gid !== undefined) options.gid = gid;
  return options;
}

/** The id that `outside` (one of ours) has in a new user namespace with `map`. */
function insideOf(map: readonly IdMapEntry[] | undefined, outside: number): number | undefined {
  const e = map?.find((m) => outside >= m.outside && outside < m.outside + m.count);
  return e === undefined ? undefined : e.inside + (outside - e.outside);
}

async function run(req: UnshareRequest, options: SpawnOptions): Promise<number> {
  let child: Subprocess;
  try {
    child = spawn(req.cmd[0], req.cmd.slice(1), options);
  } catch (err) {
    if (err instanceof NsError && err.step === 'execve') {
      process.stderr.write(`nsfd: ${oneLine(err)}\n`);
      return err.code === 'ENOENT' ? 127 : 126;
    }
    throw err;
  }
  return waitPassingSignals(child);
}

/**
 * --net=FILE and the like: unshare(1) binds the new namespaces before the
 * command runs, so `unshare --net=/run/netns/x true` leaves a namespace
 * behind. A command may end before we could read its namespaces, so a
 * holder (a shell waiting on its stdin) is made in them first; they are
 * bound from it, and the command joins them (a new pid namespace is still
 * the command's own: it is made after the joins).
 */
async function runPersisted(req: UnshareRequest, types: readonly NsType[], persisted: readonly [NsType, string][]): Promise<number> {
  // A new pid namespace is the command's own; with --mount-proc its mount
  // namespace must be too (the library mounts /proc only in a new one).
  const ownMnt = req.mountProc && types.includes('pid');
  if (ownMnt && req.namespaces.get('mnt') !== undefined) throw new UsageError('--mount=FILE cannot be combined with -p --mount-proc');
  const shared = types.filter((t) => t !== 'pid' && !(ownMnt && t === 'mnt'));
  const holderOptions = commandOptions(req, shared);
  holderOptions.stdio = ['pipe', 'ignore', 'ignore'];
  holderOptions.killOnClose = true;
  if (!shared.includes('mnt')) delete holderOptions.mountProc;
  delete holderOptions.root;
  delete holderOptions.cwd;
  delete holderOptions.uid;
  delete holderOptions.gid;
  const holder = spawn('/bin/sh', ['-c', 'read _'], holderOptions);
  const bound: { file: string; made: boolean }[] = [];
  try {
    for (const [type, file] of persisted) {
      using ns = holder.pidfd.namespace(type);
      const made = !fs.existsSync(file);
      ns.persist(file);
      bound.push({ file, made });
    }
    const options = commandOptions(req, types.includes('pid') ? (ownMnt ? ['pid', 'mnt'] : ['pid']) : []);
    delete options.uidMap;
    delete options.gidMap;
    delete options.setgroups;
    // The holder made the joined mount namespace private already.
    if (!ownMnt) delete options.mountProc;
    options.join = holder.pidfd;
    options.joinTypes = shared;
    // commandOptions chose the ids our own map to in the new user
    // namespace (kept for the joined one: its maps are the holder's).
    return await run(req, options);
  } catch (err) {
    // Undone, leaving the files the user made (as unshare leaves them).
    for (const { file, made } of bound) {
      try {
        Namespace.unpersist(file, { keepFile: !made });
      } catch {
        // best effort
      }
    }
    throw err;
  } finally {
    holder.kill('SIGKILL');
    await holder.exited;
    holder.close();
  }
}

// For main's --help check: where nsfd's own options end.
export { ownArgs } from './unshare-args';
