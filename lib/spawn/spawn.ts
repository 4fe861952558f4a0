// spawn(): the checked plan handed to native clone3, and the result wrapped
// as a Subprocess.
import * as net from 'node:net';

import { abortError, checkAbortSignal, checkOptionKeys, invalidArg } from '../core/errors';
import { native } from '../sys/native';
import { debug, debugging } from '../core/debug';
import { Pidfd, markOwnChild } from '../pidfd';
import { spawnError } from './errors';
import { SPAWN_OPTION_KEYS, SpawnOptions } from './options';
import { prepare } from './plan';
import { closeAll } from './stdio';
import { checkKillSignal, checkTimeout } from './check';
import { Subprocess } from './subprocess';
import { checkSpec } from './wire';

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
  if (options !== undefined && (options === null || typeof options !== 'object')) throw invalidArg('options', 'an object', options);
  if (options !== undefined) checkOptionKeys(options, SPAWN_OPTION_KEYS);
  // (prepare() reads the keys it knows: no copy without these three.)
  const opts: SpawnOptions = options ?? {};
  const timeout = opts.timeout === undefined ? 0 : opts.timeout;
  const signal = opts.signal;
  checkTimeout(timeout);
  checkAbortSignal(signal, 'options.signal');
  const killWith = checkKillSignal(opts.killSignal === undefined ? 'SIGTERM' : opts.killSignal);
  // Aborted already: nothing is started (run() does the same).
  if (signal?.aborted) throw abortError(signal.reason);
  const prep = prepare(file, (args ?? []) as readonly string[], opts);
  let r: ReturnType<typeof native.spawn_clone3>;
  try {
    checkSpec(prep.spec);
    r = native.spawn_clone3(prep.spec);
  } catch (err) {
    closeAll(prep.pipes.map((p) => p[1]));
    throw err;
  } finally {
    closeAll(prep.temp);
  }
  if ('errno' in r) {
    closeAll(prep.pipes.map((p) => p[1]));
    if (debugging()) debug('spawn %s: failed with errno %d at step %d', file, r.errno, r.step);
    throw spawnError(r, prep);
  }
  if (debugging()) {
    const sp = prep.spec;
    debug('spawn %s %j: clone3 flags 0x%s, setns(pidfd %d, 0x%s), setns fds [%s], cgroup fd %d, root %s, uid %d gid %d -> pid %d, pidfd %d', file, sp.argv.slice(1), sp.cloneFlags.toString(16), sp.joinPidfd, sp.joinFlags.toString(16), sp.joinFds.join(', '), sp.cgroupFd, sp.rootFd !== undefined && sp.rootFd >= 0 ? `fd ${sp.rootFd}` : sp.root ?? '-', sp.uid, sp.gid, r.pid, r.pidfd);
  }
  const pidfd = new Pidfd(r.pidfd, r.pid);
  markOwnChild(pidfd);
  const stdio: (net.Socket | null)[] = [];
  const n = Math.max(3, ...prep.pipes.map((p) => p[0] + 1));
  for (let i = 0; i < n; i++) stdio.push(null);
  for (const [slot, fd] of prep.pipes) {
    stdio[slot] = new net.Socket({ fd, readable: slot !== 0, writable: slot === 0 || slot > 2 });
  }
  const child = new Subprocess(pidfd, stdio, prep.spec.killOnClose);
  if (timeout > 0 || signal !== undefined) stopWhen(child, timeout, signal, killWith);
  process.nextTick(() => child.announce());
  return child;
}

/** options.timeout and options.signal: `killWith` to a child still running, as child_process does. */
function stopWhen(child: Subprocess, timeout: number, signal: AbortSignal | undefined, killWith: number): void {
  const stop = (): boolean => !child.pidfd.closed && child.pidfd.isAlive() && child.kill(killWith);
  // (Unref'd: a timeout alone does not keep Node alive, the wait does.)
  const timer = timeout > 0 ? setTimeout(stop, timeout).unref() : undefined;
  const onAbort = (): void => {
    stop();
    child.emit('error', abortError(signal?.reason));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  child.onEnd(() => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  });
}
