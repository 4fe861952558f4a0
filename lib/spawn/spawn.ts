// spawn(): the checked plan handed to native clone3, and the result wrapped
// as a Subprocess.
import * as net from 'node:net';

import { invalidArg } from '../core/errors';
import { native } from '../sys/native';
import { Pidfd, markOwnChild } from '../pidfd';
import { spawnError } from './errors';
import type { SpawnOptions } from './options';
import { prepare } from './plan';
import { closeAll } from './stdio';
import { Subprocess } from './subprocess';
import { checkSpecKeys } from './wire';

/**
 * Starts `file` with clone3 straight into new or existing namespaces and
 * returns a Subprocess holding its pidfd. Errors of any step in the child
 * (setns, chdir, execve...) are thrown here as NsError with `step`; no
 * child is left behind then.
 */
export function spawn(file: string, args?: readonly string[], options?: SpawnOptions): Subprocess;
export function spawn(file: string, options?: SpawnOptions): Subprocess;
export function spawn(file: string, args?: readonly string[] | SpawnOptions, options?: SpawnOptions): Subprocess {
  if (args !== undefined && !Array.isArray(args)) {
    if (options !== undefined) throw invalidArg('args', 'an array of strings', args);
    options = args as SpawnOptions;
    args = [];
  }
  checkSpecKeys();
  const prep = prepare(file, (args ?? []) as readonly string[], options ?? {});
  let r: ReturnType<typeof native.spawn_clone3>;
  try {
    r = native.spawn_clone3(prep.spec);
  } catch (err) {
    closeAll(prep.pipes.map((p) => p[1]));
    throw err;
  } finally {
    closeAll(prep.temp);
  }
  if ('errno' in r) {
    closeAll(prep.pipes.map((p) => p[1]));
    throw spawnError(r, prep);
  }
  const pidfd = new Pidfd(r.pidfd, r.pid);
  markOwnChild(pidfd);
  const stdio: (net.Socket | null)[] = [];
  const n = Math.max(3, ...prep.pipes.map((p) => p[0] + 1));
  for (let i = 0; i < n; i++) stdio.push(null);
  for (const [slot, fd] of prep.pipes) {
    stdio[slot] = new net.Socket({ fd, readable: slot !== 0, writable: slot === 0 || slot > 2 });
  }
  return new Subprocess(pidfd, stdio, prep.spec.killOnClose);
}
