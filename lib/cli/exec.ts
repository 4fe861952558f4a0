// nsfd exec: nsenter(1) through pidfds. The target's namespaces are
// joined with one atomic setns(pidfd); namespaces named by a file (or a
// socket, -N) are opened here and joined by fd, in one clone3 child.
import * as fs from 'node:fs';
import * as os from 'node:os';

import { Namespace, NsError, OwnedFd, Pidfd, type NsType, type SpawnOptions, type Subprocess, socketNamespace, spawn } from '../index';
import { UsageError } from './args';
import { ALL_TYPES, type ExecRequest, type IdArg, parseExecArgs } from './exec-args';
import { waitPassingSignals } from './child';
import { oneLine } from './output';

export async function cmdExec(args: readonly string[]): Promise<number> {
  const req = parseExecArgs(args);
  const owned: { close(): void }[] = [];
  try {
    const pidfd = req.target === undefined ? undefined : openTarget(req.target);
    if (pidfd !== undefined) owned.push(pidfd);
    const options = spawnOptions(req, pidfd, owned);
    const child = startCommand(req.cmd, options);
    return typeof child === 'number' ? child : await waitPassingSignals(child);
  } finally {
    for (const o of owned.reverse()) o.close();
  }
}

/** -t PID[:INODE]: a pidfd, checked against the pidfs inode when one is given. */
function openTarget({ pid, inode }: NonNullable<ExecRequest['target']>): Pidfd {
  const pidfd = Pidfd.open(pid);
  if (inode !== undefined) {
    let id: bigint;
    try {
      id = pidfd.id;
    } catch (err) {
      pidfd.close();
      throw err;
    }
    if (id !== inode) {
      pidfd.close();
      throw new NsError(-os.constants.errno.ESRCH, 'pidfd_open', { pid, hint: `process ${pid} has pidfs inode ${id}, not ${inode}: the pid was reused` });
    }
  }
  return pidfd;
}

/** Our namespace of `type` equals `ns`? (Then there is nothing to join: and joining our own user namespace is EINVAL.) */
function isOurs(ns: Namespace, type: NsType): boolean {
  try {
    using ours = Namespace.current(type);
    return ours.equals(ns);
  } catch {
    return false;
  }
}

/** The namespaces to join, by type; those equal to ours left out. */
function namespacesToJoin(req: ExecRequest, pidfd: Pidfd | undefined, owned: { close(): void }[]): Map<NsType, { ns: Namespace; fromTarget: boolean }> {
  const wanted = new Map(req.namespaces);
  if (req.all) for (const t of ALL_TYPES) if (!wanted.has(t)) wanted.set(t, { from: 'target' });
  const joins = new Map<NsType, { ns: Namespace; fromTarget: boolean }>();
  for (const [type, src] of wanted) {
    let ns: Namespace;
    try {
      if (src.from === 'file') ns = Namespace.open(src.path, type);
      else if (src.from === 'socket') ns = socketNamespace(src.fd);
      else if (pidfd === undefined) throw new UsageError('no target PID specified (-t PID)');
      else ns = pidfd.namespace(type);
    } catch (err) {
      // --all skips types this kernel does not have; named ones must exist.
      if (req.all && !req.namespaces.has(type) && err instanceof NsError && (err.code === 'EOPNOTSUPP' || err.code === 'ENOENT')) continue;
      throw err;
    }
    owned.push(ns);
    if (!isOurs(ns, type)) joins.set(type, { ns, fromTarget: src.from === 'target' });
  }
  return joins;
}

function spawnOptions(req: ExecRequest, pidfd: Pidfd | undefined, owned: { close(): void }[]): SpawnOptions {
  const options: SpawnOptions = { stdio: 'inherit' };
  const joins = namespacesToJoin(req, pidfd, owned);
  if (joins.size > 0) {
    if (pidfd !== undefined && [...joins.values()].every((j) => j.fromTarget)) {
      // All from the target: one setns(pidfd, flags), atomic.
      options.join = pidfd;
      options.joinTypes = [...joins.keys()];
    } else {
      options.join = [...joins.values()].map((j) => j.ns);
    }
  }
  if (req.preserveCredentials) options.preserveCredentials = true;
  if (req.root === true) {
    // The target's own root (opened before the joins, as nsenter does),
    // also right for a target chroot()ed inside its mount namespace.
    options.root = needTarget(pidfd);
  } else if (req.root !== undefined) {
    // nsenter opens -rDIR before the joins: a directory of ours.
    const dir = OwnedFd.fromRawFd(fs.openSync(req.root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY));
    owned.push(dir);
    options.root = dir;
  }
  if (req.wd === true) options.cwd = targetCwd(needTarget(pidfd));
  else if (req.wd !== undefined) options.cwd = req.wd;
  else if (req.wdns !== undefined) options.cwd = req.wdns;
  else if (req.root !== undefined) options.cwd = '/';
  if (req.env) options.env = targetEnv(needTarget(pidfd));
  if (req.joinCgroup) options.cgroup = targetCgroup(needTarget(pidfd));
  const uid = idOf(req.uid, pidfd, 'uid');
  const gid = idOf(req.gid, pidfd, 'gid');
  if (uid !== undefined) options.uid = uid;
  if (gid !== undefined) options.gid = gid;
  return options;
}

function needTarget(pidfd: Pidfd | undefined): Pidfd {
  if (pidfd === undefined) throw new UsageError('no target PID specified (-t PID)');
  return pidfd;
}

/** -S/-G follow: the target's effective id (as our user namespace numbers it). */
function idOf(arg: IdArg | undefined, pidfd: Pidfd | undefined, which: 'uid' | 'gid'): number | undefined {
  if (arg !== 'follow') return arg;
  return needTarget(pidfd).info()[which].effective;
}

/** A /proc/PID file of the target, read and then rechecked through its pidfd (pid reuse). */
function readTargetProc(pidfd: Pidfd, what: string, link = false): string {
  const p = `/proc/${pidfd.pid}/${what}`;
  const text = link ? fs.readlinkSync(p) : fs.readFileSync(p, 'latin1');
  pidfd.recheck(link ? `readlink(${p})` : `open(${p})`);
  return text;
}

/**
 * -w: the target's working directory, as the path /proc shows (relative to
 * its root), resolved by the child after the joins and the root; nsenter
 * holds the directory open instead, which the library's cwd cannot take.
 */
function targetCwd(pidfd: Pidfd): string {
  return readTargetProc(pidfd, 'cwd', true);
}

/** -e: the target's environment (/proc/PID/environ). */
function targetEnv(pidfd: Pidfd): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readTargetProc(pidfd, 'environ').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** -c: the target's cgroup v2 directory (from /proc/PID/cgroup, "0::/path"). */
function targetCgroup(pidfd: Pidfd): string {
  const line = readTargetProc(pidfd, 'cgroup').split('\n').find((l) => l.startsWith('0::'));
  if (line === undefined) throw new NsError(-os.constants.errno.EOPNOTSUPP, 'open(/proc/PID/cgroup)', { pid: pidfd.pid, hint: 'the target is not in a cgroup v2 hierarchy' });
  const rel = line.slice(3);
  if (rel.split('/').includes('..')) throw new NsError(-os.constants.errno.EINVAL, 'open(/proc/PID/cgroup)', { pid: pidfd.pid, hint: 'its cgroup lies outside our cgroup namespace' });
  return `${cgroup2Mount()}${rel === '/' ? '' : rel}`;
}

/** Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems). */
function cgroup2Mount(): string {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'latin1').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.startsWith('cgroup2 ')) {
      const mnt = pre?.split(' ')[4];
      if (mnt !== undefined) return mnt.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    }
  }
  throw new NsError(-os.constants.errno.EOPNOTSUPP, 'open(/proc/self/mountinfo)', { hint: 'no cgroup v2 hierarchy is mounted' });
}

/** The running command, or the exit code when it could not be exec'd. */
function startCommand([file, ...args]: readonly [string, ...string[]], options: SpawnOptions): Subprocess | number {
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

// For main's --help check: where nsfd's own options end.
export { ownArgs } from './exec-args';
