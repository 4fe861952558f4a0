// Writing to the terminal, and errors as one line.

export function out(line = ''): void {
  process.stdout.write(line + '\n');
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
