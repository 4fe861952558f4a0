// nsfd run --rootfs DIR [--hostname H] [--bind SRC:DST[:ro,idmap]]... [--ro] [--no-userns] -- CMD...
// nsfd run --bundle DIR [--id ID]
// A command in a new container (all namespaces, pivot_root into DIR, the
// OCI default mounts), or an OCI bundle's process, under nsfd-init; its
// exit status is ours.
import * as path from 'node:path';

import type { ContainerCreateOptions, MountSpec } from '../index';
import { api } from './api';
import { UsageError } from './args';
import { waitPassingSignals } from './child';
import { DEFAULT_STATE_ROOT, checkId, claimId, releaseId, saveState } from './lifecycle';

interface RunRequest {
  rootfs?: string;
  bundle?: string;
  id?: string;
  detach?: boolean;
  stateRoot?: string;
  hostname?: string;
  mounts: MountSpec[];
  readonly: boolean;
  noUserns: boolean;
  cmd: string[];
}

export function parseRunArgs(args: readonly string[]): RunRequest {
  const sep = args.indexOf('--');
  const own = sep < 0 ? args : args.slice(0, sep);
  const cmd = sep < 0 ? [] : args.slice(sep + 1);
  let rootfs: string | undefined;
  let bundle: string | undefined;
  let id: string | undefined;
  let detach = false;
  let stateRoot: string | undefined;
  let hostname: string | undefined;
  let readonly = false;
  let noUserns = false;
  const mounts: MountSpec[] = [];
  for (let i = 0; i < own.length; i++) {
    const a = own[i] as string;
    const value = (): string => {
      const v = own[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--rootfs') rootfs = value();
    else if (a === '--bundle' || a === '-b') bundle = value();
    else if (a === '--id') id = value();
    else if (a === '--detach' || a === '-d') detach = true;
    else if (a === '--root') stateRoot = value();
    else if (a === '--hostname') hostname = value();
    else if (a === '--ro') readonly = true;
    else if (a === '--no-userns') noUserns = true;
    else if (a === '--bind') {
      const v = value();
      const parts = v.split(':');
      // SRC:DST[:OPTS], OPTS a comma list of ro and idmap (podman's -v names).
      const opts = parts.length === 3 ? (parts[2] as string).split(',') : [];
      if (parts.length < 2 || parts.length > 3 || parts[0] === '' || parts[1] === '' || opts.some((o) => o !== 'ro' && o !== 'idmap')) {
        throw new UsageError(`--bind ${v}: expected SRC:DST or SRC:DST:OPTS (OPTS: ro, idmap, comma-separated)`);
      }
      mounts.push({ type: 'bind', source: parts[0] as string, destination: parts[1] as string, options: ['rbind', ...(opts.includes('ro') ? ['ro'] : []), ...(opts.includes('idmap') ? ['ridmap'] : [])] });
    } else throw new UsageError(`unknown option '${a}'`);
  }
  if (bundle !== undefined) {
    // The bundle's config.json says it all: nothing else may change it.
    if (rootfs !== undefined || hostname !== undefined || readonly || noUserns || mounts.length > 0) throw new UsageError('--bundle takes no --rootfs, --hostname, --bind, --ro or --no-userns (config.json has them)');
    if (cmd.length > 0) throw new UsageError('--bundle takes no command (config.json has process.args)');
    const req: RunRequest = { bundle, mounts, readonly, noUserns, cmd };
    if (id !== undefined) req.id = checkId(id);
    if (detach) {
      if (id === undefined) throw new UsageError('--detach needs --id (nsfd state|kill|delete ID find it by that)');
      req.detach = true;
    }
    if (stateRoot !== undefined) req.stateRoot = stateRoot;
    return req;
  }
  if (id !== undefined || detach || stateRoot !== undefined) throw new UsageError('--id, --detach and --root need --bundle');
  if (rootfs === undefined) throw new UsageError('--rootfs is required (or --bundle DIR)');
  if (cmd.length === 0) throw new UsageError('missing command (after --)');
  const req: RunRequest = { rootfs, mounts, readonly, noUserns, cmd };
  if (hostname !== undefined) req.hostname = hostname;
  return req;
}

export async function cmdRun(args: readonly string[]): Promise<number> {
  const req = parseRunArgs(args);
  if (req.bundle !== undefined && req.detach === true) return runDetached(req.bundle, req.id as string, req.stateRoot ?? DEFAULT_STATE_ROOT);
  if (req.bundle !== undefined) {
    const c = await api().Container.fromBundle(req.bundle, { stdio: 'inherit', ...(req.id === undefined ? {} : { id: req.id }) });
    return waitPassingSignals(c, ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP']);
  }
  if (req.rootfs === undefined) throw new UsageError('--rootfs is required');
  const options: ContainerCreateOptions = { rootfs: req.rootfs, mounts: req.mounts, readonlyRootfs: req.readonly, command: req.cmd, stdio: 'inherit' };
  if (req.hostname !== undefined) options.hostname = req.hostname;
  if (req.noUserns) options.userns = false;
  const c = await api().Container.create(options);
  // nsfd-init leads a session of its own: the terminal's signals do not
  // reach it; pass them on (it forwards them to CMD).
  return waitPassingSignals(c, ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP']);
}

/** nsfd's own options: those before "--" (what follows is the container's command, -h included). */
export function ownArgs(args: readonly string[]): readonly string[] {
  const sep = args.indexOf('--');
  return sep < 0 ? args : args.slice(0, sep);
}

/**
 * run --detach: the container outlives nsfd (no kill on close), its stdio
 * ours (as runc's); its state is recorded for nsfd state|kill|delete.
 */
async function runDetached(bundle: string, id: string, root: string): Promise<number> {
  claimId(root, id);
  let c;
  try {
    c = await api().Container.fromBundle(bundle, { id, stdio: 'inherit', killOnClose: false });
  } catch (err) {
    releaseId(root, id);
    throw err;
  }
  try {
    saveState(root, id, c, path.resolve(bundle));
  } catch (err) {
    c.kill('SIGKILL');
    c.close();
    releaseId(root, id);
    throw err;
  }
  c.close();
  return 0;
}
