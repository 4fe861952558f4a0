// nsfs and pidfd ioctls, one named function each. Each returns what the
// addon returns: a result >= 0 (an fd, a number) or -errno; callers decide
// what an errno means.
import { native, RawPidfdInfo } from './native';
import {
  NS_GET_NSTYPE,
  NS_GET_PARENT,
  NS_GET_PID_FROM_PIDNS,
  NS_GET_PID_IN_PIDNS,
  NS_GET_TGID_FROM_PIDNS,
  NS_GET_TGID_IN_PIDNS,
  NS_GET_USERNS,
} from './constants';

/** NS_GET_USERNS: an O_CLOEXEC fd of the user namespace owning fd's namespace. */
export function nsGetUserns(nsfd: number): number {
  return native.ns_ioctl(nsfd, NS_GET_USERNS);
}

/** NS_GET_PARENT: an fd of the parent of a pid or user namespace. */
export function nsGetParent(nsfd: number): number {
  return native.ns_ioctl(nsfd, NS_GET_PARENT);
}

/** NS_GET_NSTYPE: the CLONE_NEW* flag of fd's namespace. */
export function nsGetNstype(nsfd: number): number {
  return native.ns_ioctl(nsfd, NS_GET_NSTYPE);
}

/** NS_GET_OWNER_UID: the owner uid of a user namespace. */
export function nsGetOwnerUid(nsfd: number): number {
  return native.ns_get_owner_uid(nsfd);
}

/** NS_GET_ID (6.18+): the 64-bit namespace id, or -errno. */
export function nsGetId(nsfd: number): bigint | number {
  return native.ns_get_id(nsfd, 0);
}

/** NS_GET_MNTNS_ID (6.8+, mount namespaces only): the 64-bit id, or -errno. */
export function nsGetMntnsId(nsfd: number): bigint | number {
  return native.ns_get_id(nsfd, 1);
}

/** The four pid translation ioctls (6.11+) by what they translate. */
export const PID_TRANSLATION = {
  /** pid in the caller's pid namespace -> pid in pidns */
  pidIn: NS_GET_PID_IN_PIDNS,
  tgidIn: NS_GET_TGID_IN_PIDNS,
  /** pid in pidns -> pid in the caller's pid namespace */
  pidFrom: NS_GET_PID_FROM_PIDNS,
  tgidFrom: NS_GET_TGID_FROM_PIDNS,
} as const;
export type PidTranslation = keyof typeof PID_TRANSLATION;

/** NS_GET_{PID,TGID}_{IN,FROM}_PIDNS: the translated pid, 0 when it has none there, or -errno. */
export function nsTranslatePid(pidnsFd: number, how: PidTranslation, pid: number): number {
  return native.ns_translate(pidnsFd, PID_TRANSLATION[how], pid);
}

/** PIDFD_GET_<TYPE>_NAMESPACE: an fd of that namespace of the process, or -errno. */
export function pidfdGetNamespace(pidfd: number, ioctlNr: number): number {
  return native.pidfd_get_namespace(pidfd, ioctlNr);
}

/** PIDFD_GET_INFO (6.13+): the fields asked for by mask (check r.mask), or -errno. */
export function pidfdGetInfo(pidfd: number, mask: bigint): RawPidfdInfo | number {
  return native.pidfd_get_info(pidfd, mask);
}
