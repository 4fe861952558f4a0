// nsfd run --rootfs DIR [--hostname H] [--bind SRC:DST[:ro]]... [--ro] [--no-userns] -- CMD...
// A command in a new container (all namespaces, pivot_root into DIR, the
// OCI default mounts), under nsfd-init; its exit status is ours.
import type { ContainerCreateOptions, MountSpec } from '../index';
import { api } from './api';
import { UsageError } from './args';
import { waitPassingSignals } from './child';

interface RunRequest {
  rootfs: string;
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
    else if (a === '--hostname') hostname = value();
    else if (a === '--ro') readonly = true;
    else if (a === '--no-userns') noUserns = true;
    else if (a === '--bind') {
      const v = value();
      const parts = v.split(':');
      const ro = parts.length === 3 && parts[2] === 'ro';
      if ((parts.length !== 2 && !ro) || parts[0] === '' || parts[1] === '') throw new UsageError(`--bind ${v}: expected SRC:DST or SRC:DST:ro`);
      mounts.push({ type: 'bind', source: parts[0] as string, destination: parts[1] as string, options: ro ? ['rbind', 'ro'] : ['rbind'] });
    } else throw new UsageError(`unknown option '${a}'`);
  }
  if (rootfs === undefined) throw new UsageError('--rootfs is required');
  if (cmd.length === 0) throw new UsageError('missing command (after --)');
  const req: RunRequest = { rootfs, mounts, readonly, noUserns, cmd };
  if (hostname !== undefined) req.hostname = hostname;
  return req;
}

export async function cmdRun(args: readonly string[]): Promise<number> {
  const req = parseRunArgs(args);
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
