// Writing to the terminal, and errors as one line.

export function out(line = ''): void {
  if (!guarded) quietOnClosedPipe();
  process.stdout.write(line + '\n');
}

let guarded = false;

/**
 * A reader that went away (`nsfd ls | head -1`) ends nsfd quietly with
 * exit 0, as the SIGPIPE of a C tool would end it without a message;
 * other output errors are one line and exit 1. Set up by the first out():
 * process.stdout is costly to create (streams), and a command that only
 * runs another one (exec, unshare) never writes to it.
 */
function quietOnClosedPipe(): void {
  guarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`nsfd: stdout: ${oneLine(err)}\n`);
    process.exit(1);
  });
}

/** JSON.stringify replacer: 64-bit ids (bigint) as strings. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** An error's message, or the thrown value as text when it is not an Error. */
export function messageOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string' ? err.message : String(err);
}

/** The first line of an error's message: what `nsfd: ...` prints. */
export function oneLine(err: unknown): string {
  return messageOf(err).split('\n')[0] ?? '';
}
