// Waiting for the command nsfd runs (exec, unshare), as its stand-in.
import * as os from 'node:os';

import type { Subprocess } from '../index';

/** The command's exit code (128+N when killed by signal N), passing on signals meant for it meanwhile. */
export async function waitPassingSignals(child: Subprocess): Promise<number> {
  // The terminal sends SIGINT/SIGQUIT to the child too; pass on the rest.
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = sig === 'SIGINT' || sig === 'SIGQUIT' ? () => {} : () => void child.kill(sig);
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
