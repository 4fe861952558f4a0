// The capabilities option: OCI names in, the five 64-bit sets out as the
// ten 32-bit words the child passes to prctl/capset (native/spawn_child.cc).
import { readFileSync } from 'node:fs';

import { invalidArg, invalidValue } from '../core/errors';
import { readStatus } from '../core/proc';
import { CAPABILITY_NUMBERS } from '../sys/constants';

/**
 * A capability: its OCI name (`CAP_NET_ADMIN`) or, as the Docker CLI takes
 * it, without the prefix and in any case (`net_admin`); `ALL`: every
 * capability of the running kernel.
 */
export type CapabilityName = string;

/** The five sets, as in the OCI runtime spec's process.capabilities. An absent set is empty. */
export interface CapabilitySets {
  bounding?: readonly CapabilityName[];
  effective?: readonly CapabilityName[];
  permitted?: readonly CapabilityName[];
  inheritable?: readonly CapabilityName[];
  ambient?: readonly CapabilityName[];
}

/** A flat list (bounding = permitted = effective = it, inheritable and ambient empty, as runc and Docker do), or the five sets. */
export type CapabilitiesOption = readonly CapabilityName[] | CapabilitySets;

/** Docker's default capability set (moby oci/caps/defaults.go), Container.create's default. */
export const DEFAULT_CAPABILITIES: readonly CapabilityName[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Sets as bit masks (bit n: capability n). */
export interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

const SETS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;

let lastCap: number | undefined;
/** /proc/sys/kernel/cap_last_cap: the highest capability this kernel knows (read once). */
export function capLastCap(): number {
  if (lastCap === undefined) {
    let n = NaN;
    try {
      n = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'latin1').trim());
    } catch {
      // (no /proc: assume the capabilities of 5.9, the first with CAP_CHECKPOINT_RESTORE)
    }
    lastCap = Number.isInteger(n) && n > 0 && n < 64 ? n : CAPABILITY_NUMBERS.CHECKPOINT_RESTORE as number;
  }
  return lastCap;
}

/** One name's capability number; unknown names are a TypeError (ERR_INVALID_ARG_VALUE). */
export function capabilityNumber(name: unknown, where: string): number {
  if (typeof name !== 'string') throw invalidArg(where, 'a capability name (e.g. "CAP_NET_ADMIN")', name);
  const key = name.toUpperCase().replace(/^CAP_/, '');
  const n = Object.hasOwn(CAPABILITY_NUMBERS, key) ? CAPABILITY_NUMBERS[key] : undefined;
  if (n === undefined) throw invalidValue(where, 'is not a capability name', name);
  return n;
}

/**
 * A list of names as a mask. Names this kernel does not know (above
 * cap_last_cap) are left out, as runc leaves them out ("unknown or
 * unavailable capabilities"): a config written for a newer kernel still runs.
 */
function maskOf(list: unknown, where: string, enterUserNs: boolean): bigint {
  if (!Array.isArray(list)) throw invalidArg(where, 'an array of capability names', list);
  const last = capLastCap();
  let mask = 0n;
  (list as unknown[]).forEach((name, i) => {
    if (typeof name === 'string' && name.toUpperCase() === 'ALL') {
      mask |= allCapabilities(enterUserNs);
      return;
    }
    const n = capabilityNumber(name, `${where}[${i}]`);
    if (n <= last) mask |= 1n << BigInt(n);
  });
  return mask;
}

/**
 * `ALL`: every capability this kernel has that the child's bounding set
 * will hold: all of them in a user namespace it enters (the kernel gives
 * the full set there), else those our own bounding set still holds (one
 * that left it can come back to no process we start: asking would fail).
 */
export function allCapabilities(enterUserNs: boolean): bigint {
  const all = (1n << BigInt(capLastCap() + 1)) - 1n;
  if (enterUserNs) return all;
  const bnd = readStatus('self')?.get('CapBnd');
  return bnd !== undefined && /^[0-9a-f]+$/.test(bnd) ? all & BigInt(`0x${bnd}`) : all;
}

/** Checks the option into masks. */
export function capabilityMasks(option: unknown, where = 'options.capabilities', enterUserNs = false): CapabilityMasks {
  if (Array.isArray(option)) {
    const m = maskOf(option, where, enterUserNs);
    return { bounding: m, effective: m, permitted: m, inheritable: 0n, ambient: 0n };
  }
  if (option === null || typeof option !== 'object') throw invalidArg(where, 'an array of capability names or { bounding, effective, permitted, inheritable, ambient }', option);
  const o = option as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(SETS as readonly string[]).includes(k)) throw invalidValue(`${where}.${k}`, 'is not a capability set (bounding, effective, permitted, inheritable, ambient)', o[k]);
  }
  const m = Object.fromEntries(SETS.map((s) => [s, o[s] === undefined ? 0n : maskOf(o[s], `${where}.${s}`, enterUserNs)])) as unknown as CapabilityMasks;
  // What the kernel would refuse later, with a plain EPERM: said here.
  if ((m.effective & ~m.permitted) !== 0n) throw invalidValue(`${where}.effective`, 'must be a subset of permitted (capset refuses it)', o.effective);
  if ((m.ambient & ~(m.permitted & m.inheritable)) !== 0n) {
    throw invalidValue(`${where}.ambient`, 'must be a subset of both permitted and inheritable (PR_CAP_AMBIENT_RAISE refuses it)', o.ambient);
  }
  return m;
}

/** The masks as the spec's ten words: bounding, effective, permitted, inheritable, ambient; low word first. */
export function capabilityWords(m: CapabilityMasks): number[] {
  const out: number[] = [];
  for (const s of SETS) out.push(Number(m[s] & 0xffffffffn), Number(m[s] >> 32n));
  return out;
}

/** Whether a mask holds a capability (by name without CAP_). */
export function hasCapability(mask: bigint, name: string): boolean {
  const n = CAPABILITY_NUMBERS[name];
  return n !== undefined && (mask & (1n << BigInt(n))) !== 0n;
}
