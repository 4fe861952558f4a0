// The privileges of an adopted container's init (Container.fromPid /
// fromPidfd), read for c.spawn()/c.run() as `runc exec` takes a container's
// own: what we start inside gets no more than the init has. Read from
// /proc/PID/status and uid_map/gid_map of our procfs, then rechecked
// through the init's pidfd (the pid still named it after the reads).
import { numbers, readStatus } from '../core/proc';
import { procRead } from '../core/procfs';
import { E, NsError } from '../core/errors';
import type { Pidfd } from '../pidfd';
import { CAPABILITY_NUMBERS } from '../sys/constants';
import type { ProcessDefaults } from './options';

const NAMES = Object.entries(CAPABILITY_NUMBERS).map(([name, n]) => [BigInt(n), `CAP_${name}`] as const);

/** The names of a CapXxx mask (hex as /proc prints it). */
function capNames(hex: string | undefined): string[] {
  const mask = BigInt(`0x${hex ?? '0'}`);
  return NAMES.filter(([n]) => (mask & (1n << n)) !== 0n).map(([, name]) => name);
}

/** A host id as the init's user namespace numbers it (its map, as our procfs shows it), or undefined when unmapped. */
function insideId(hostId: number | undefined, map: string | undefined): number | undefined {
  if (hostId === undefined || map === undefined) return undefined;
  for (const line of map.trim().split('\n')) {
    const [inside, outside, count] = line.trim().split(/\s+/).map(Number) as [number, number, number];
    if (hostId >= outside && hostId < outside + count) return inside + (hostId - outside);
  }
  return undefined;
}

/**
 * The init's credentials and privileges as c.spawn() defaults: its
 * effective uid and gid (as its user namespace numbers them), its five
 * capability sets, no_new_privs, and a seccomp filter when it has one.
 * A filter cannot be read back without ptrace-stopping the init
 * (PTRACE_SECCOMP_GET_FILTER), which container content could then block
 * on; so a filtered init gets nsfd's 'default' filter for what we start
 * (Docker's profile in effect, what most such inits run). rlimits are left
 * as they are.
 */
export function adoptedDefaults(pidfd: Pidfd): ProcessDefaults {
  const pid = pidfd.pid;
  const st = readStatus(pid);
  const uidMap = procRead(`${pid}/uid_map`);
  const gidMap = procRead(`${pid}/gid_map`);
  pidfd.recheck('open(/proc/PID/status)');
  if (st === undefined || uidMap === undefined || gidMap === undefined) throw new NsError(-E.ESRCH, 'open', { path: `/proc/${pid}/status`, hint: 'the adopted init is gone' });
  const d: ProcessDefaults = {
    capabilities: {
      bounding: capNames(st.get('CapBnd')),
      effective: capNames(st.get('CapEff')),
      permitted: capNames(st.get('CapPrm')),
      inheritable: capNames(st.get('CapInh')),
      ambient: capNames(st.get('CapAmb')),
    },
    noNewPrivileges: st.get('NoNewPrivs') === '1',
    seccomp: (st.get('Seccomp') ?? '0') !== '0' ? 'default' : false,
  };
  const uid = insideId(numbers(st.get('Uid'))[1], uidMap);
  const gid = insideId(numbers(st.get('Gid'))[1], gidMap);
  if (uid !== undefined) d.uid = uid;
  if (gid !== undefined) d.gid = gid;
  return d;
}
