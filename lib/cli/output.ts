// Writing to the terminal, and errors as one line.
import * as fs from 'node:fs';

/**
 * Writes a line to stdout: with write(2) while fd 1 takes it, since
 * process.stdout costs ~2.5 ms of start-up (streams) and the CLI's output
 * is one block at the end; through process.stdout once fd 1 is
 * non-blocking and full (EAGAIN), so nothing is lost or reordered.
 */
export function out(line = ''): void {
  const text = line + '\n';
  if (viaStream) {
    process.stdout.write(text);
    return;
  }
  const buf = Buffer.from(text);
  let at = 0;
  try {
    while (at < buf.length) at += fs.writeSync(1, buf, at);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A reader that went away (`nsfd ls | head -1`) ends nsfd quietly with
    // exit 0, as the SIGPIPE of a C tool would end it without a message.
    if (code === 'EPIPE') process.exit(0);
    if (code !== 'EAGAIN') outputFailed(err);
    viaStream = true;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(0) : outputFailed(e)));
    process.stdout.write(buf.subarray(at));
  }
}

let viaStream = false;

/** Any other output error: one line, exit 1. */
function outputFailed(err: unknown): never {
  process.stderr.write(`nsfd: stdout: ${oneLine(err)}\n`);
  process.exit(1);
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
