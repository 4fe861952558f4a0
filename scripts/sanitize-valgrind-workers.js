// Loaded into the vitest process of a memcheck run (scripts/valgrind.sh puts
// `--require` of this file in NODE_OPTIONS): vitest's test workers, the
// processes that load nsfd.node and run the test files, start through
// NSFD_VG_WRAPPER (a script that runs node under valgrind) instead of node.
// Nothing else does: the programs the tests start, node fixtures included,
// run natively (under memcheck they would be too slow for the tests' own
// timeouts, and their fds and stderr would carry valgrind's).
'use strict';
const cp = require('node:child_process');

const wrapper = process.env.NSFD_VG_WRAPPER;
const fork = cp.fork;
cp.fork = function (modulePath, args, options) {
  if (!Array.isArray(args)) {
    options = args;
    args = [];
  }
  if (wrapper && /[\\/]vitest[\\/]dist[\\/]workers[\\/]/.test(String(modulePath))) {
    options = { ...(options ?? {}), execPath: wrapper };
  }
  return fork.call(this, modulePath, args, options);
};
// vitest imports fork as an ESM named import: update that binding too.
require('node:module').syncBuiltinESMExports();
