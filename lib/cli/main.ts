// nsfd: the command line face of the library, built on its public API only.
//   nsfd ls [lsns options]                    like lsns, plus what lsns misses
//   nsfd exec [nsenter options] [--] CMD...   like nsenter, through pidfds
//   nsfd unshare [unshare options] [CMD...]   like unshare
//   nsfd translate PID --from PID|PATH --to PID|PATH
//   nsfd features [--json]
//   nsfd demo
//   nsfd netns add|list|delete NAME
//   nsfd run --rootfs DIR [--hostname H] [--bind SRC:DST[:ro]] [--ro] -- CMD...
//   nsfd run --bundle DIR [--id ID] [--detach] [--root STATE]; nsfd state|kill|delete ID
// Errors print one line ("nsfd: ...") and exit 1; bad usage prints the
// usage and exits 2. bin/nsfd.js calls cli(). A command's module is loaded
// only when it runs, the help texts only when printed, and the library only
// by the command that needs it: scripts/bundle.ts makes each command's
// module one file with the library code it uses and nothing else, and its
// V8 code cache (code-cache.ts), since start-up time is most of what
// `nsfd ls` costs. A command joins with one line in COMMANDS, its module in
// COMMAND_MODULES (code-cache.ts), its help text in usage.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { UsageError, isUsageError } from './args';
import { requireCommand } from './code-cache';
import type * as Demo from './demo';
import type * as Exec from './exec';
import type * as Features from './features';
import type * as Lifecycle from './lifecycle';
import type * as Ls from './ls';
import type * as Netns from './netns';
import { oneLine, out } from './output';
import type * as RunCmd from './run';
import type * as Translate from './translate';
import type * as Unshare from './unshare';
import type * as Usage from './usage';

type Run = (args: readonly string[]) => Promise<number>;
/** A command: its module's entry point, and for those that run a command, where nsfd's own options end. */
interface Command {
  run: () => Run;
  ownArgs?: () => (args: readonly string[]) => readonly string[];
}

// One line per command; each module is loaded only when its command runs
// (with its V8 code cache: code-cache.ts).
const COMMANDS: Record<string, Command> = {
  ls: { run: () => (requireCommand('ls') as typeof Ls).cmdLs },
  exec: { run: () => (requireCommand('exec') as typeof Exec).cmdExec, ownArgs: () => (requireCommand('exec') as typeof Exec).ownArgs },
  unshare: { run: () => (requireCommand('unshare') as typeof Unshare).cmdUnshare, ownArgs: () => (requireCommand('unshare') as typeof Unshare).ownArgs },
  translate: { run: () => (requireCommand('translate') as typeof Translate).cmdTranslate },
  features: { run: () => (requireCommand('features') as typeof Features).cmdFeatures },
  demo: { run: () => (requireCommand('demo') as typeof Demo).cmdDemo },
  netns: { run: () => (requireCommand('netns') as typeof Netns).cmdNetns },
  run: { run: () => (requireCommand('run') as typeof RunCmd).cmdRun, ownArgs: () => (requireCommand('run') as typeof RunCmd).ownArgs },
  state: { run: () => (requireCommand('lifecycle') as typeof Lifecycle).cmdState },
  kill: { run: () => (requireCommand('lifecycle') as typeof Lifecycle).cmdKill },
  delete: { run: () => (requireCommand('lifecycle') as typeof Lifecycle).cmdDelete },
};

/** A help text; loaded only when one is printed. */
function usage(name: string): string {
  const { USAGE } = require('./usage') as typeof Usage;
  return Object.hasOwn(USAGE, name) ? USAGE[name as Usage.UsageName] : USAGE.main;
}

function version(): string {
  // dist/cli/ -> the package root
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The arguments that are nsfd's: those before a '--' (and before the command, for those that run one). */
function ownArgs(cmd: Command, rest: readonly string[]): readonly string[] {
  if (cmd.ownArgs) return cmd.ownArgs()(rest);
  return rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
}

async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    out(usage('main'));
    return 0;
  }
  if (cmd === '-V' || cmd === '--version') {
    out(`nsfd ${version()}`);
    return 0;
  }
  if (cmd === undefined) throw new UsageError('missing command');
  const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (command === undefined) throw new UsageError(`unknown command '${cmd}'`);
  if (ownArgs(command, rest).some((a) => a === '-h' || a === '--help')) {
    out(usage(cmd));
    return 0;
  }
  try {
    return await command.run()(rest);
  } catch (err) {
    if (isUsageError(err)) err.usage = cmd;
    throw err;
  }
}

/** Runs nsfd with these arguments; the outcome is in process.exitCode. */
export function cli(argv: readonly string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (isUsageError(err)) {
        process.stderr.write(`nsfd: ${err.message}\n\n${usage(err.usage)}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`nsfd: ${oneLine(err)}\n`);
        if (process.env.NSFD_DEBUG) process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
        process.exitCode = 1;
      }
    },
  );
}
