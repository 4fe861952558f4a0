// nsfd: the command line face of the library, built on its public API only.
//   nsfd ls [--json] [--tree] [-t TYPE]       like lsns, plus what lsns misses
//   nsfd exec -t PID [-a | -m -u -i -n -p -C -U -T] [...] -- CMD...
//   nsfd translate PID --from PID|PATH --to PID|PATH
//   nsfd features [--json]
//   nsfd demo
//   nsfd run --rootfs DIR [--hostname H] [--bind SRC:DST[:ro]] [--ro] -- CMD...
// Errors print one line ("nsfd: ...") and exit 1; bad usage prints the
// usage and exits 2. bin/nsfd.js calls cli(). A command's module is loaded
// only when it runs, the help texts only when printed, and the library only
// when a command needs it: start-up time is most of what `nsfd ls` costs.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { UsageError } from './args';
import type * as Demo from './demo';
import type * as Exec from './exec';
import type * as ExecArgs from './exec-args';
import type * as Features from './features';
import type * as Ls from './ls';
import type * as RunCmd from './run';
import { oneLine, out } from './output';
import type * as Translate from './translate';
import type * as Usage from './usage';

type Run = (args: readonly string[]) => Promise<number>;

const COMMANDS = {
  ls: (): Run => (require('./ls') as typeof Ls).cmdLs,
  exec: (): Run => (require('./exec') as typeof Exec).cmdExec,
  translate: (): Run => (require('./translate') as typeof Translate).cmdTranslate,
  features: (): Run => (require('./features') as typeof Features).cmdFeatures,
  demo: (): Run => (require('./demo') as typeof Demo).cmdDemo,
  run: (): Run => (require('./run') as typeof RunCmd).cmdRun,
};
type Command = keyof typeof COMMANDS;

function isCommand(cmd: string): cmd is Command {
  return Object.hasOwn(COMMANDS, cmd);
}

/** A help text; loaded only when one is printed. */
function usage(name: Usage.UsageName): string {
  return (require('./usage') as typeof Usage).USAGE[name];
}

function version(): string {
  // dist/cli/ -> the package root
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The arguments that are nsfd's: those before a '--' (for exec, also before the command). */
function ownArgs(cmd: Command, rest: readonly string[]): readonly string[] {
  if (cmd === 'exec') return (require('./exec-args') as typeof ExecArgs).splitCommand(rest).opts;
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
  if (!isCommand(cmd)) throw new UsageError(`unknown command '${cmd}'`);
  if (ownArgs(cmd, rest).some((a) => a === '-h' || a === '--help')) {
    out(usage(cmd));
    return 0;
  }
  try {
    return await COMMANDS[cmd]()(rest);
  } catch (err) {
    if (err instanceof UsageError) err.usage = cmd;
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
      if (err instanceof UsageError) {
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
