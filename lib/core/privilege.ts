// What we may do without asking the kernel first: the one place that decides
// "privileged". Each field answers one question, from our effective
// capabilities (/proc/self/status CapEff) and whether our user namespace is
// the initial one, never from the uid alone (root with its capabilities
// dropped is not privileged; a process with CAP_SYS_ADMIN and another uid is).
import { CAP_SETGID, CAP_SYS_ADMIN } from '../sys/constants';
import { readStatus } from './proc';
import { procRead } from './procfs';

export interface Privilege {
  /**
   * CAP_SYS_ADMIN in our own user namespace: we may create namespaces
   * without a new user namespace, and act on namespaces owned by our user
   * namespace or its descendants without joining theirs.
   */
  readonly admin: boolean;
  /**
   * CAP_SETGID in our own user namespace: a new user namespace's gid_map may
   * be written with setgroups left "allow" (else the kernel wants "deny").
   */
  readonly setgid: boolean;
  /**
   * `admin`, and our user namespace is the initial one: every namespace can
   * be re-entered, and no permission check of setns can fail.
   */
  readonly everywhere: boolean;
}

let cached: { euid: number; privilege: Privilege } | undefined;

/**
 * Our privilege, read once per effective uid: a set*uid() call that changes
 * the euid also changes the effective capabilities (capabilities(7)), and
 * nothing else in Node does.
 */
export function privilege(): Privilege {
  const euid = process.geteuid?.() ?? -1;
  if (cached?.euid !== euid) {
    const capEff = BigInt('0x' + (readStatus('self')?.get('CapEff') ?? '0'));
    const has = (cap: number): boolean => (capEff & (1n << BigInt(cap))) !== 0n;
    const initialUserns = /^\s*0\s+0\s+4294967295\s*$/.test(procRead('self/uid_map') ?? '');
    const admin = has(CAP_SYS_ADMIN);
    cached = { euid, privilege: { admin, setgid: has(CAP_SETGID), everywhere: admin && initialUserns } };
  }
  return cached.privilege;
}
