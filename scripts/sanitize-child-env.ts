// Loaded into every node process of an ASan run (scripts/sanitize.sh puts
// `--require` of this file in NODE_OPTIONS). The ASan runtime (LD_PRELOAD)
// must reach node processes only: preloaded into the programs node starts
// (sh, mount, unshare, sleep...) it opens files and prints warnings of its
// own, which tests that look at a child's fds or stderr would see. So every
// child_process launcher is wrapped: LD_PRELOAD is set for children that
// run node (path of this node in the command) and removed for the others.
import * as childProcess from 'node:child_process';
import * as nodeModule from 'node:module';

type Options = { env?: NodeJS.ProcessEnv } | undefined;
// The launchers, as the mutable properties they are at run time (the
// wrapping below replaces them in the module object itself).
type Launcher = (this: unknown, ...args: unknown[]) => unknown;
const cp = childProcess as unknown as Record<string, Launcher>;
// (Through npx and sh a node may start without the preload: the path is
// kept in NSFD_ASAN_PRELOAD for the node processes it starts in turn.)
const preload = process.env.NSFD_ASAN_PRELOAD;
delete process.env.LD_PRELOAD;
if (process.env.NSFD_CHILD_ASAN_OPTIONS) process.env.ASAN_OPTIONS = process.env.NSFD_CHILD_ASAN_OPTIONS;
const node = process.execPath;
const runsNode = (parts: unknown[]): boolean => parts.some((a) => typeof a === 'string' && a.includes(node));
function withEnv(options: unknown, addPreload: boolean): Options {
  const o: { env?: NodeJS.ProcessEnv } = { ...((options as Options) ?? {}) };
  const env = { ...(o.env ?? process.env) };
  if (addPreload && preload) env.LD_PRELOAD = preload;
  else delete env.LD_PRELOAD;
  o.env = env;
  return o;
}
for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) {
  const orig = cp[name] as Launcher;
  cp[name] = function (this: unknown, file: unknown, args: unknown, options: unknown, ...rest: unknown[]) {
    if (!Array.isArray(args)) {
      rest.unshift(options);
      options = args;
      args = [];
    }
    if (typeof options === 'function') {
      rest.unshift(options);
      options = undefined;
    }
    return orig.call(this, file, args, withEnv(options, runsNode([file, ...(args as unknown[])])), ...rest.filter((x) => x !== undefined));
  };
}
for (const name of ['exec', 'execSync']) {
  const orig = cp[name] as Launcher;
  cp[name] = function (this: unknown, command: unknown, options: unknown, ...rest: unknown[]) {
    if (typeof options === 'function') {
      rest.unshift(options);
      options = undefined;
    }
    return orig.call(this, command, withEnv(options, runsNode([command])), ...rest);
  };
}
const fork = cp.fork as Launcher;
cp.fork = function (this: unknown, modulePath: unknown, args: unknown, options: unknown) {
  if (!Array.isArray(args)) {
    options = args;
    args = [];
  }
  return fork.call(this, modulePath, args, withEnv(options, true));
};
// ESM importers (vitest) see the wrapped functions too.
nodeModule.syncBuiltinESMExports();
