// The privilege options of spawn() as the spec's keys.
import { invalidArg } from '../core/errors';
import { CapabilityMasks, capabilityMasks, capabilityWords } from './capabilities';
import { defaultFilter } from './default-profile';
import { rlimitTriples } from './rlimits';
import { compileFilter, ociFilter } from './seccomp';

export interface PrivilegeOptions {
  capabilities?: unknown;
  noNewPrivileges?: unknown;
  rlimits?: unknown;
  seccomp?: unknown;
}

export interface PrivilegeSpec {
  caps: number[];
  noNewPrivs: boolean;
  rlimits: number[];
  seccomp: number[];
}

// The default profile depends only on the bounding set (and the kernel):
// compiled once per set (Container.create's c.run() asks for it every time).
const defaultCache = new Map<bigint, readonly number[]>();
function compiledDefault(bounding: bigint): number[] {
  let words = defaultCache.get(bounding);
  if (words === undefined) {
    words = compileFilter(defaultFilter(bounding));
    if (defaultCache.size < 64) defaultCache.set(bounding, words);
  }
  return [...words];
}

/** Checks and compiles; throws typed errors before anything is started. */
export function privilegeSpec(o: PrivilegeOptions, enterUserNs = false): PrivilegeSpec {
  let masks: CapabilityMasks | undefined;
  if (o.capabilities !== undefined) masks = capabilityMasks(o.capabilities, 'options.capabilities', enterUserNs);
  if (o.noNewPrivileges !== undefined && typeof o.noNewPrivileges !== 'boolean') throw invalidArg('options.noNewPrivileges', 'a boolean', o.noNewPrivileges);
  const rlimits = o.rlimits === undefined ? [] : rlimitTriples(o.rlimits);
  let seccomp: number[] = [];
  if (o.seccomp === 'default') {
    // Without a capabilities option the child keeps what it has: judged as
    // the full set would be over-generous, so the gated calls are judged
    // against no capabilities unless the option says otherwise.
    seccomp = compiledDefault(masks?.bounding ?? 0n);
  } else if (o.seccomp !== undefined && o.seccomp !== false) {
    seccomp = compileFilter(ociFilter(o.seccomp));
  }
  return { caps: masks === undefined ? [] : capabilityWords(masks), noNewPrivs: o.noNewPrivileges === true, rlimits, seccomp };
}
