// Waiting for the command nsfd runs (exec, unshare), as its stand-in.
import * as os from 'node:os';

import type { ExitStatus } from '../index';

/** What runs the command: a Subprocess, or the Container of `nsfd run`. */
export interface Waitable {
  readonly exited: Promise<ExitStatus>;
  kill(sig: NodeJS.Signals): unknown;
  close(): void;
}

/**
 * The command's exit code (128+N when killed by signal N), passing on the
 * signals in `forward` meant for it meanwhile; SIGINT and SIGQUIT, when not
 * forwarded, are only kept from ending nsfd (the terminal sends them to the
 * command too).
 */
export async function waitPassingSignals(child: Waitable, forward: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP']): Promise<number> {
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'] as const) {
    // (Only while it runs: the handlers go before close().)
    const handler = forward.includes(sig) ? () => void child.kill(sig) : () => {};
    handlers.set(sig, handler);
    process.on(sig, handler);
  }
  let status;
  try {
    status = await child.exited;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    child.close();
  }
  if (status.code !== null) return status.code;
  return 128 + (status.signal === null ? 0 : os.constants.signals[status.signal] ?? 0);
}
