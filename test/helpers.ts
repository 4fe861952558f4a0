// Shared test helpers: real target processes in new namespaces, fd counts,
// feature gates. No mocks: everything here makes real syscalls.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { Pidfd, SpawnOptions, features } from '../lib/index';
import { openLongLivedFds } from '../lib/container/init';
import { snapshot } from '../lib/testing';
import { UnsharedTarget, startUnshared, until } from './fixtures/_util.js';

export { until };

export const isRoot = process.getuid?.() === 0;
export const feat = features();
export const repoRoot = path.join(__dirname, '..');

/** Number of open fds in this process. */
export function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Number of threads of this process. */
export function threadCount(): number {
  return fs.readdirSync('/proc/self/task').length;
}

/** Pids of our children (zombies included), over all our threads. */
export function childPids(): string[] {
  return fs
    .readdirSync('/proc/self/task')
    .flatMap((t) => fs.readFileSync(`/proc/self/task/${t}/children`, 'latin1').trim().split(/\s+/))
    .filter(Boolean)
    .sort();
}

/**
 * Fails any test of the calling file that leaves an fd open in this
 * process, or changes what a probe in `also` reports (threadCount,
 * childPids, the mount table...). `.before` is the fd count the running
 * test started with.
 */
export function checkLeaksPerTest(also: Record<string, () => unknown> = {}): { readonly before: number } {
  let before = 0;
  let fdsBefore = new Set<string>();
  let probed = new Map<string, unknown>();
  beforeEach(() => {
    before = fdCount();
    fdsBefore = new Set(snapshot().fds);
    probed = new Map(Object.entries(also).map(([name, probe]) => [name, probe()]));
  });
  afterEach(async () => {
    // (Fewer is no leak: libuv closes a finished child's pipes
    // asynchronously, so an fd of the test before may close during this one.
    // More may be a close still on its way, from a thread or the loop, on a
    // loaded machine: a leak is an fd still open 2 s later.)
    for (let i = 0; i < 100 && fdCount() > before; i++) await sleep(20);
    const added = snapshot().fds.filter((fd) => !fdsBefore.has(fd));
    expect(fdCount(), `open fds after the test (new or changed: ${added.join(', ') || 'none'})`).toBeLessThanOrEqual(before);
    for (const [name, probe] of Object.entries(also)) expect(probe(), `${name} after the test`).toEqual(probed.get(name));
  });
  return {
    get before() {
      return before;
    },
  };
}

/** The open fd numbers of this process. */
export function openFds(): number[] {
  return fs.readdirSync('/proc/self/fd').map(Number).sort((a, b) => a - b);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}


/**
 * SIGKILLs a child_process child (if still running) and resolves once it
 * has exited *and* its stdio pipes are closed ('close', not 'exit'): libuv
 * closes the pipes after 'exit', so a test that counts fds right after
 * 'exit' sees them as leaks.
 */
export async function killAndClose(cp: ChildProcess): Promise<void> {
  const running = cp.exitCode === null && cp.signalCode === null;
  const pipesOpen = [cp.stdin, cp.stdout, cp.stderr].some((s) => s && !s.destroyed);
  if (!running && !pipesOpen) return;
  const closed = new Promise((r) => cp.once('close', r));
  if (running) cp.kill('SIGKILL');
  await closed;
}

export type Target = UnsharedTarget;

/**
 * A process in new namespaces: `unshare --fork --pid --mount-proc ... sleep`.
 * `user: true` adds a user namespace mapping root to our uid (works
 * unprivileged). Returns the pid of the sleeping process (pid 1 inside).
 */
export async function startTarget(opts: { user?: boolean; types?: string[] } = {}): Promise<Target> {
  const types = opts.types ?? ['mount', 'net', 'uts', 'ipc', 'cgroup'];
  const args = ['--fork', '--pid', '--mount-proc', ...types.map((t) => `--${t}`)];
  if (opts.user) args.push('--user', '--map-root-user');
  if (!args.includes('--mount')) args.push('--mount');
  args.push('sleep', '100000');
  return startUnshared(args, 'the target process');
}

/**
 * One target for the whole file (after warmUp()), stopped after it. The
 * returned object is filled in by beforeAll: read it inside tests only.
 */
export function sharedTarget(opts: { user?: boolean; types?: string[] } = {}): Target {
  const target = {} as Target;
  beforeAll(async () => {
    await warmUp();
    Object.assign(target, await startTarget(opts));
  });
  afterAll(async () => {
    await target.stop?.();
  });
  return target;
}

/** Runs a test fixture (a .ts/.js file under test/fixtures) in a fresh Node process. */
/**
 * A fixture as the node processes run it: test/fixtures/NAME.ts compiled to
 * dist-dev/test/fixtures/NAME.js (tsconfig.dev.json; test/global-setup.ts
 * rebuilds it when a source is newer).
 */
export function fixturePath(name: string): string {
  return path.join(repoRoot, 'dist-dev', 'test', 'fixtures', name);
}

export function runFixture(file: string, args: string[] = [], opts: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, ['--expose-gc', fixturePath(file), ...args], {
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, ...opts.env },
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  });
  return r;
}

/** Whether fd has O_CLOEXEC, read from /proc/self/fdinfo. */
export function isCloexec(fd: number): boolean {
  const m = /^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
  return m !== null && (parseInt(m[1] as string, 8) & 0o2000000) !== 0;
}

/**
 * Creates the package's long-lived fds (the reaper's epoll set)
 * before a test counts fds, so only per-operation leaks show.
 */
export async function warmUp(): Promise<void> {
  // Still running when wait() starts, so the reaper is started.
  const cp = spawn('sleep', ['0.05'], { stdio: 'ignore' });
  const p = Pidfd.open(cp.pid as number);
  await p.wait();
  p.close();
  await new Promise((r) => (cp.exitCode !== null ? r(null) : cp.once('exit', r)));
  // And the embedded init's memfd, kept once made.
  openLongLivedFds();
  // And libuv's thread pool (started on first use: on Node 22 and 24 that
  // can fall inside a test that counts threads).
  await fs.promises.stat('/');
}

/** Our uid and gid (what a rootless user namespace maps 0 to). */
export const uid = process.getuid?.() ?? 0;
export const gid = process.getgid?.() ?? 0;

/**
 * Spawn options for this user: as root, `options` unchanged; otherwise the
 * same in a new user namespace that maps root to us (uid and gid), which is
 * what creating or joining other namespaces needs without privileges. With
 * `join`, 'user' is added to explicit joinTypes instead: the child enters
 * the target's own user namespace (as its root) before the rest.
 */
export function rootless<T extends SpawnOptions>(options: T): T {
  if (isRoot) return options;
  if (options.join !== undefined) {
    if (options.joinTypes === undefined || options.joinTypes.includes('user')) return options;
    return { ...options, joinTypes: ['user', ...options.joinTypes] };
  }
  if (options.unshare?.includes('user')) return options;
  return {
    ...options,
    unshare: ['user', ...(options.unshare ?? [])],
    uidMap: [{ inside: 0, outside: uid, count: 1 }],
    gidMap: [{ inside: 0, outside: gid, count: 1 }],
  };
}

/**
 * Tests that need a privilege a rootless run lacks. As root, `it` and
 * `describe` themselves (same titles, same tests); otherwise skipped, with
 * the missing privilege in the title, e.g.
 * "… [skipped rootless: needs root: joins the host's namespaces]".
 */
export function needsRoot(why: string): { it: typeof it; describe: typeof describe } {
  if (isRoot) return { it, describe };
  const note = (name: unknown) => `${String(name)} [skipped rootless: needs root: ${why}]`;
  const skipIt = ((name: string, ...rest: unknown[]) => (it.skip as (...a: unknown[]) => void)(note(name), ...rest)) as unknown as typeof it;
  const skipDescribe = ((name: string, ...rest: unknown[]) => (describe.skip as (...a: unknown[]) => void)(note(name), ...rest)) as unknown as typeof describe;
  // it.each / describe.each and .runIf / .skipIf keep working (skipped).
  Object.assign(skipIt, { each: (...t: unknown[]) => (name: string, ...rest: unknown[]) => (it.skip.each as (...a: unknown[]) => (...b: unknown[]) => void)(...t)(note(name), ...rest), runIf: () => skipIt, skipIf: () => skipIt });
  Object.assign(skipDescribe, { runIf: () => skipDescribe, skipIf: () => skipDescribe });
  return { it: skipIt, describe: skipDescribe };
}

/** busybox-static: the rootfs tests' one binary (a dynamic build would need its loader inside). */
export const BUSYBOX = '/usr/bin/busybox';
export const haveBusybox = fs.existsSync(BUSYBOX) && spawnSync('ldd', [BUSYBOX]).status !== 0;

/**
 * A new directory (0755, under the temp dir, named `prefix`XXXXXX) holding
 * private/rootfs/bin/busybox (private: 0700) and a /bin/APPLET link per
 * applet: the base of the rootfs tests, which add their own files. The
 * caller removes `dir`.
 */
export function busyboxRootfs(prefix: string, applets: readonly string[]): { dir: string; rootfs: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  // The rootfs under a directory others cannot search: idmapped, it is
  // written as root on disk (NSFD_ROOTFS_OPEN); bind sources stay in `dir`,
  // which the container's root (a range id when idmapped) can search.
  fs.mkdirSync(path.join(dir, 'private'), { mode: 0o700 });
  const rootfs = path.join(dir, 'private', 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(rootfs, 'bin/busybox'));
  fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  for (const a of applets) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  return { dir, rootfs };
}
