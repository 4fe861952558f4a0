// NODE_DEBUG=nsfd: what the library does, one line per syscall-level step
// (util.debuglog, as Node's own modules do: "NSFD <pid>: ..." on stderr).
import * as util from 'node:util';

export const debug = util.debuglog('nsfd');

/** Whether NODE_DEBUG names nsfd: callers skip building costly messages otherwise. */
export function debugging(): boolean {
  return debug.enabled;
}
