// Shared by test/fuzz.test.ts (bounded, in `npm test`) and
// test/stress/fuzz.test.ts (`npm run test:stress`): runs
// test/fixtures/fuzz-api.ts in a child process and checks what it reports.
import { ownCgroup } from '../../lib/cgroup';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { expect } from 'vitest';

const repoRoot = path.join(__dirname, '..', '..');

export interface FuzzResult {
  fatal?: string;
  seed: number;
  count: number;
  ms: number;
  calls: number;
  returned: number;
  threw: number;
  asyncCalls: number;
  byCode: Record<string, number>;
  untyped: { i: number; name: string; error: string; stack?: string }[];
  nodeErrors: string[];
  errorPathLeaks: unknown[];
  adoptLost: number;
  strandedAfterError: number;
  strandedAfterRestore: number;
  uncovered: string[];
  functions: number;
  hangs: unknown[];
  zombies: number[];
  children: string;
  fdStart: number;
  fdEnd: number;
  fdNew: string[];
  gcWarnings: number;
  whereUnchanged: boolean;
  mountsLeft: number;
  /** Targets and handles the fuzzer's guard kept away from our (the host's) namespaces. */
  hostRefused: number;
}

const NS_FILES = ['mnt', 'net', 'uts', 'ipc', 'cgroup', 'pid', 'user', 'time'];

/** "type=dev:inode" of each of our namespaces: how the fuzzer recognises the host's. */
function hostNamespaces(): string {
  return NS_FILES.filter((t) => fs.existsSync(`/proc/self/ns/${t}`))
    .map((t) => {
      const st = fs.statSync(`/proc/self/ns/${t}`);
      return `${t}=${st.dev}:${st.ino}`;
    })
    .join(',');
}

/**
 * Our mounts that could be the fuzzer's: it mounts and persists only under
 * its nsfd-fuzz- temp dir. (Not every nsfs mount: other test runs on this
 * machine may persist namespaces meanwhile.)
 */
function fuzzableMounts(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'latin1')
    .split('\n')
    .filter((l) => l.includes('/nsfd-fuzz-'));
}

/** Runs the fuzzer; on a crash or a hang, fails with the seed and the call in flight. */
/** The cgroups under the cgroup v2 this process is in (none without one). */
function ourCgroups(): string[] {
  try {
    const dir = ownCgroup();
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

export function runFuzz(seed: number, count: number, timeoutMs: number): FuzzResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-fuzz-result-'));
  const result = path.join(dir, 'result.json');
  try {
    // As root the fuzzer persists, mounts, binds sockets and starts
    // processes: in mount (private), pid, net, uts, ipc and cgroup
    // namespaces of its own, which vanish when it exits, so other test
    // files (which compare the mount table before and after) never see
    // them. Being root, it could still open our namespaces (by nsfs handle,
    // say): NSFD_FUZZ_HOST_NS names them, and its guard never hands one out
    // as a target or a join (it refuses to run as root without it).
    const argv = [process.execPath, '--expose-gc', '--no-warnings', path.join(repoRoot, 'dist-dev/test/fixtures/fuzz-api.js'), result, String(seed), String(count)];
    const isRoot = process.getuid?.() === 0;
    if (isRoot) argv.unshift('unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--mount-proc', '--net', '--uts', '--ipc', '--cgroup');
    const mountsBefore = fuzzableMounts();
    const cgroupsBefore = ourCgroups();
    const hostnameBefore = os.hostname();
    const r = spawnSync(argv[0] as string, argv.slice(1), {
      encoding: 'utf8',
      timeout: timeoutMs,
      cwd: '/',
      stdio: ['ignore', 'ignore', 'pipe'], // children it spawns may write here
      env: { ...process.env, NSFD_FUZZ_SEED: String(seed), NSFD_FUZZ_COUNT: String(count), NSFD_FUZZ_HOST_NS: hostNamespaces() },
    });
    // Nothing it did shows here: no mount under its temp dir, no namespace bound, the same hostname.
    const added = fuzzableMounts().filter((l) => !mountsBefore.includes(l));
    expect(added, `the fuzzer (seed ${seed}) mounted in our mount namespace`).toEqual([]);
    // Nor a cgroup: its cgroup namespace does not stop it writing ours.
    expect(ourCgroups().filter((d) => !cgroupsBefore.includes(d)), `the fuzzer (seed ${seed}) made cgroups beside ours`).toEqual([]);
    expect(os.hostname()).toBe(hostnameBefore);
    const progress = fs.existsSync(`${result}.progress`) ? fs.readFileSync(`${result}.progress`, 'utf8').trim() : '(none)';
    const replay = `seed ${seed}, count ${count}; call in flight: ${progress}; replay: NSFD_FUZZ_SEED=${seed} NSFD_FUZZ_COUNT=${count} npx vitest run test/fuzz.test.ts`;
    expect(r.signal, `fuzzer killed by ${r.signal} (a crash, or the timeout: a hang): ${replay}\n${r.stderr.slice(-3000)}`).toBeNull();
    expect(r.status, `fuzzer exited with ${r.status}: ${replay}\n${r.stderr.slice(-3000)}`).toBe(0);
    const o = JSON.parse(fs.readFileSync(result, 'utf8')) as FuzzResult;
    expect(o.fatal, replay).toBeUndefined();
    return o;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function checkFuzz(o: FuzzResult): void {
  // No hang: every promise settled once the processes it waited for were killed.
  expect(o.hangs).toEqual([]);
  // No leak: no fd left on any error path, none overall, none left to the GC.
  expect(o.errorPathLeaks).toEqual([]);
  expect(o.fdNew).toEqual([]);
  expect(o.fdEnd).toBe(o.fdStart);
  expect(o.gcWarnings).toBe(0);
  expect(o.adoptLost).toBe(0); // a constructor that throws leaves the fd with the caller
  // Nothing left behind: no zombie, no child, no mount, the thread where it was.
  expect(o.zombies).toEqual([]);
  expect(o.children).toBe('');
  expect(o.mountsLeft).toBe(0);
  expect(o.whereUnchanged).toBe(true);
  expect(o.strandedAfterError).toBe(0);
  expect(o.strandedAfterRestore).toBe(0);
}

