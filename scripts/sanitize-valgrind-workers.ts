// Loaded into the vitest process of a memcheck run (scripts/valgrind.sh puts
// `--require` of this file in NODE_OPTIONS): vitest's test workers, the
// processes that load nsfd.node and run the test files, start through
// NSFD_VG_WRAPPER (a script that runs node under valgrind) instead of node.
// Nothing else does: the programs the tests start, node fixtures included,
// run natively (under memcheck they would be too slow for the tests' own
// timeouts, and their fds and stderr would carry valgrind's).
import * as childProcess from 'node:child_process';
import * as nodeModule from 'node:module';

// fork, as the mutable property it is at run time.
type Launcher = (this: unknown, ...args: unknown[]) => unknown;
const cp = childProcess as unknown as Record<string, Launcher>;

const wrapper = process.env.NSFD_VG_WRAPPER;
const fork = cp.fork as Launcher;
cp.fork = function (this: unknown, modulePath: unknown, args: unknown, options: unknown) {
  if (!Array.isArray(args)) {
    options = args;
    args = [];
  }
  if (wrapper && /[\\/]vitest[\\/]dist[\\/]workers[\\/]/.test(String(modulePath))) {
    options = { ...((options as object | undefined) ?? {}), execPath: wrapper };
  }
  return fork.call(this, modulePath, args, options);
};
// vitest imports fork as an ESM named import: update that binding too.
nodeModule.syncBuiltinESMExports();
