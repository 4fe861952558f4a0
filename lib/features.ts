// features(): what the running kernel supports, probed with real syscalls
// (not guessed from the version, except where no harmless probe exists),
// cached for the life of the process.

import { E, invalidValue } from './core/errors';
import { native } from './sys/native';
import { kernelAtLeast } from './core/proc';
import { procOpen, procRead } from './core/procfs';
import { CLONE_FLAG, PIDFD_NS_IOCTL } from './core/ns-types';
import { PIDFD_INFO_CREDS, PIDFD_INFO_PID, AT_FDCWD, O_PATH, O_RDONLY, PIDFD_NONBLOCK, PIDFD_THREAD, PIDFS_MAGIC } from './sys/constants';
import { nsGetId, nsTranslatePid, pidfdGetInfo, pidfdGetNamespace } from './sys/nsfs';

/** The kernel features features() reports. */
export type FeatureName =
  | 'pidfd_open'
  | 'pidfd_nonblock'
  | 'pidfd_thread'
  | 'pidfs'
  | 'pidfd_getfd'
  | 'setns_pidfd'
  | 'pidfd_get_namespace'
  | 'pidfd_get_info'
  | 'pidfd_info_exit'
  | 'ns_get_id'
  | 'pid_translation'
  | 'nsfs_handles'
  | 'listns'
  | 'clone3'
  | 'clone_into_cgroup'
  | 'openat2'
  | 'unprivileged_userns';

/** Whether the running kernel has a feature, and the release that brought it. */
export interface Feature {
  available: boolean;
  /** First mainline kernel release with the feature. */
  since: string;
  /** How it was decided, when not by a direct probe. */
  detail?: string;
}

/** Every feature features() reports, by name. */
export type Features = Record<FeatureName, Feature>;

const SINCE: Record<FeatureName, string> = {
  pidfd_open: '5.3',
  pidfd_nonblock: '5.10',
  pidfd_thread: '6.9',
  pidfs: '6.9',
  pidfd_getfd: '5.6',
  setns_pidfd: '5.8',
  pidfd_get_namespace: '6.11',
  pidfd_get_info: '6.13',
  pidfd_info_exit: '6.15',
  ns_get_id: '6.18',
  pid_translation: '6.11',
  nsfs_handles: '6.18',
  listns: '6.19',
  clone3: '5.3',
  clone_into_cgroup: '5.7',
  openat2: '5.6',
  unprivileged_userns: '3.8',
};


function withFd<T>(fd: number, fn: (fd: number) => T): T | false {
  if (fd < 0) return false;
  try {
    return fn(fd);
  } finally {
    native.close(fd);
  }
}

function opens(fd: number): boolean {
  return withFd(fd, () => true);
}

/** A number from a file under /proc (sys/...), or undefined when it is not there. */
function readInt(rel: string): number | undefined {
  const text = procRead(rel);
  return text === undefined ? undefined : Number(text.trim());
}

function probeAll(): Features {
  const avail = {} as Record<FeatureName, boolean>;
  const detail: Partial<Record<FeatureName, string>> = {};
  const self = native.pidfd_open(process.pid, 0);
  try {
    avail.pidfd_open = self >= 0;
    avail.pidfd_nonblock = opens(native.pidfd_open(process.pid, PIDFD_NONBLOCK));
    avail.pidfd_thread = opens(native.pidfd_open(native.gettid(), PIDFD_THREAD));
    avail.pidfs = self >= 0 && native.fstatfs_type(self) === PIDFS_MAGIC;
    // Our own fd 0..2 may be absent; ask for an fd we know is open: the pidfd itself.
    avail.pidfd_getfd = self >= 0 && opens(native.pidfd_getfd(self, self, 0));
    // Joining our own uts namespace through our pidfd changes nothing; EPERM
    // (unprivileged) still proves the kernel understood the pidfd.
    const sr = self >= 0 ? native.setns(self, CLONE_FLAG.uts) : -E.EBADF;
    avail.setns_pidfd = sr === 0 || sr === -E.EPERM;
    avail.pidfd_get_namespace = self >= 0 && opens(pidfdGetNamespace(self, PIDFD_NS_IOCTL.net));
    avail.pidfd_get_info = self >= 0 && typeof pidfdGetInfo(self, PIDFD_INFO_PID | PIDFD_INFO_CREDS) !== 'number';
  } finally {
    if (self >= 0) native.close(self);
  }
  avail.pidfd_info_exit = avail.pidfd_get_info && kernelAtLeast(6, 15);
  detail.pidfd_info_exit = 'PIDFD_GET_INFO present and kernel version >= 6.15 (no probe without an exited process)';

  const net = procOpen('self/ns/net', O_RDONLY, true);
  avail.ns_get_id = false;
  avail.nsfs_handles = false;
  withFd(net, (fd) => {
    avail.ns_get_id = typeof nsGetId(fd) !== 'number';
    avail.nsfs_handles = typeof native.name_to_handle_at(fd) !== 'number';
  });
  const pidns = procOpen('self/ns/pid', O_RDONLY, true);
  avail.pid_translation = withFd(pidns, (fd) => nsTranslatePid(fd, 'pidIn', process.pid) > 0) === true;
  const ln = native.listns(0n, 0, 1);
  avail.listns = typeof ln !== 'number' || (ln !== -E.ENOSYS && ln !== -E.EINVAL);
  avail.clone3 = native.clone3_probe() === -E.EINVAL;
  avail.clone_into_cgroup = avail.clone3 && kernelAtLeast(5, 7);
  detail.clone_into_cgroup = 'clone3 present and kernel version >= 5.7';
  avail.openat2 = opens(native.openat2(AT_FDCWD, '/', O_PATH, 0, 0));

  const maxNs = readInt('sys/user/max_user_namespaces') ?? 0;
  const debianKnob = readInt('sys/kernel/unprivileged_userns_clone');
  const apparmor = readInt('sys/kernel/apparmor_restrict_unprivileged_userns');
  avail.unprivileged_userns = maxNs > 0 && debianKnob !== 0 && apparmor !== 1;
  detail.unprivileged_userns = 'from user.max_user_namespaces, kernel.unprivileged_userns_clone and apparmor_restrict_unprivileged_userns';

  const out = {} as Features;
  for (const name of Object.keys(SINCE) as FeatureName[]) {
    const f: Feature = { available: avail[name], since: SINCE[name] };
    const d = detail[name];
    if (d !== undefined) f.detail = d;
    out[name] = f;
  }
  return out;
}

let cache: Features | undefined;

/** What this kernel supports, each with the release that brought it. */
export function features(): Features {
  cache ??= probeAll();
  return cache;
}

/** Whether the running kernel has feature `name` (a key of features()). */
export function has(name: FeatureName): boolean {
  const all = features();
  // Own keys only: 'constructor' or 'toString' are not features.
  if (typeof name !== 'string' || !Object.hasOwn(all, name)) throw invalidValue('name', `is not a feature (one of ${Object.keys(all).join(', ')})`, name);
  return all[name].available;
}
