// A process through a raw pidfd: opening one, proving the process is still
// there, and opening its namespaces. Pidfd (the public class) and
// Namespace.ofPid both build on these, so neither needs the other.
import { E, NsError, UnsupportedError, commonHint } from './errors';
import { kernelAtLeast } from './proc';
import { NsType, PIDFD_NS_IOCTL } from './ns-types';
import { native } from '../sys/native';
import { O_RDONLY, PIDFD_NONBLOCK, PIDFD_THREAD } from '../sys/constants';
import { pidfdGetNamespace } from '../sys/nsfs';
import { procOpen } from './procfs';

/** pidfd_open(pid) as an fd the caller owns, with the errors Pidfd.open throws. */
export function pidfdOpenFd(pid: number, options: { nonblock?: boolean | undefined; thread?: boolean | undefined } = {}): number {
  const flags = (options.nonblock ? PIDFD_NONBLOCK : 0) | (options.thread ? PIDFD_THREAD : 0);
  const r = native.pidfd_open(pid, flags);
  if (r >= 0) return r;
  if (r === -E.ENOSYS) throw new UnsupportedError('pidfd_open', '5.3', r, 'pidfd_open');
  if (r === -E.EINVAL && options.thread && !kernelAtLeast(6, 9)) {
    throw new UnsupportedError('PIDFD_THREAD', '6.9', r, 'pidfd_open');
  }
  if (r === -E.EINVAL && options.nonblock && !kernelAtLeast(5, 10)) {
    throw new UnsupportedError('PIDFD_NONBLOCK', '5.10', r, 'pidfd_open');
  }
  throw new NsError(r, 'pidfd_open', {
    pid,
    hint:
      r === -E.ESRCH
        ? `no process ${pid} in this pid namespace`
        : r === -E.ENOENT || r === -E.EINVAL
          ? `${pid} is a thread, not a process: pass { thread: true }`
          : undefined,
  });
}

/** ESRCH unless the pidfd's process still exists (so a /proc read just made was about it). */
export function recheckAlive(pidfd: number, pid: number, syscall: string, goneHint = 'the process has exited'): void {
  const r = native.pidfd_send_signal(pidfd, 0, 0);
  // EPERM: we may not signal it, but it exists, which is all we ask.
  if (r < 0 && r !== -E.EPERM) throw new NsError(r, syscall, { pid, hint: r === -E.ESRCH ? goneHint : undefined });
}

// Whether PIDFD_GET_*_NAMESPACE works here (undefined: not asked yet).
let nsIoctls: boolean | undefined;

/**
 * A raw O_CLOEXEC nsfd of the process's `type` namespace; the caller closes
 * it. PIDFD_GET_*_NAMESPACE (6.11), else /proc/PID/ns/TYPE rechecked
 * through the pidfd.
 */
export function processNamespaceFd(pidfd: number, pid: number, type: NsType): number {
  if (nsIoctls !== false) {
    const r = pidfdGetNamespace(pidfd, PIDFD_NS_IOCTL[type]);
    if (r >= 0) {
      nsIoctls = true;
      return r;
    }
    if (r !== -E.ENOTTY && r !== -E.EINVAL) {
      throw new NsError(r, `ioctl(PIDFD_GET_${type.toUpperCase()}_NAMESPACE)`, {
        pid,
        hint:
          r === -E.EOPNOTSUPP
            ? `this kernel has no ${type} namespaces`
            : r === -E.EACCES
              ? 'no ptrace access to the process (PTRACE_MODE_READ)'
              : commonHint(-r),
      });
    }
    // ENOTTY (before 6.11), or EINVAL from a kernel that has the ioctl: keep asking only if it ever worked.
    if (nsIoctls === undefined) nsIoctls = false;
  }
  // Older kernels: /proc/PID/ns/TYPE, then recheck that the pid still names our process.
  const r = procOpen(`${pid}/ns/${type}`, O_RDONLY, true);
  try {
    recheckAlive(pidfd, pid, 'open(/proc/PID/ns)');
  } catch (err) {
    if (r >= 0) native.close(r);
    throw err;
  }
  if (r < 0) {
    throw new NsError(r === -E.ENOENT ? -E.ESRCH : r, 'open(/proc/PID/ns)', {
      pid,
      hint: r === -E.ENOENT ? 'the process has exited' : commonHint(-r),
    });
  }
  return r;
}
