// nsfd exec -t PID [-a | -m -u -i -n -p -C -U -T] [...] -- CMD...
// Like nsenter, through a pidfd: one atomic setns in a clone3 child.
import * as os from 'node:os';

import type { NsType, Pidfd, SpawnOptions, Subprocess } from '../index';
import { api } from './api';
import { type ExecRequest, parseExecArgs } from './exec-args';
import { oneLine } from './output';

export async function cmdExec(args: readonly string[]): Promise<number> {
  const req = parseExecArgs(args);
  const pidfd = api().Pidfd.open(req.target);
  try {
    const child = startCommand(req.cmd, spawnOptions(pidfd, req, typesToJoin(pidfd, req)));
    return typeof child === 'number' ? child : await waitPassingSignals(child);
  } finally {
    pidfd.close();
  }
}

/**
 * The asked-for types whose namespace differs from ours: joining our own
 * user namespace is EINVAL, and for the other types a join of the same
 * namespace is a no-op.
 */
function typesToJoin(pidfd: Pidfd, req: ExecRequest): NsType[] {
  const { Namespace, NsError } = api();
  const joinTypes: NsType[] = [];
  for (const t of req.types) {
    let theirs;
    try {
      theirs = pidfd.namespace(t);
    } catch (err) {
      // --all skips types this kernel does not have; named ones must exist.
      if (req.all && err instanceof NsError && (err.code === 'EOPNOTSUPP' || err.code === 'ENOENT')) continue;
      throw err;
    }
    let same = false;
    try {
      const ours = Namespace.current(t);
      same = ours.equals(theirs);
      ours.close();
    } catch {
      same = false;
    } finally {
      theirs.close();
    }
    if (!same) joinTypes.push(t);
  }
  return joinTypes;
}

function spawnOptions(pidfd: Pidfd, req: ExecRequest, joinTypes: readonly NsType[]): SpawnOptions {
  const options: SpawnOptions = { stdio: 'inherit' };
  if (joinTypes.length > 0) {
    options.join = pidfd;
    options.joinTypes = joinTypes;
  }
  // --root: the target's own root (opened before the joins, as nsenter
  // does), also right for a target chroot()ed inside its mount namespace.
  if (req.root) options.root = pidfd;
  if (req.wd !== undefined) options.cwd = req.wd;
  if (req.uid !== undefined) options.uid = req.uid;
  if (req.gid !== undefined) options.gid = req.gid;
  return options;
}

/** The running command, or the exit code when it could not be exec'd. */
function startCommand([file, ...args]: readonly [string, ...string[]], options: SpawnOptions): Subprocess | number {
  const { spawn, NsError } = api();
  try {
    return spawn(file, args, options);
  } catch (err) {
    // As util-linux does: 127 when the command is not found, 126 when it cannot run.
    if (err instanceof NsError && err.step === 'execve') {
      process.stderr.write(`nsfd: ${oneLine(err)}\n`);
      return err.code === 'ENOENT' ? 127 : 126;
    }
    throw err;
  }
}

/** The command's exit code (128+N when killed by signal N), passing on signals meant for it meanwhile. */
async function waitPassingSignals(child: Subprocess): Promise<number> {
  // The terminal sends SIGINT/SIGQUIT to the child too; pass on the rest.
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = sig === 'SIGINT' || sig === 'SIGQUIT' ? () => {} : () => void child.kill(sig);
    handlers.set(sig, handler);
    process.on(sig, handler);
  }
  let status;
  try {
    status = await child.exited;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    child.close();
  }
  if (status.code !== null) return status.code;
  return 128 + (status.signal === null ? 0 : os.constants.signals[status.signal] ?? 0);
}
