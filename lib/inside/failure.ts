// A raw inns result that failed, as an NsError (or an UnsupportedError for
// a syscall this kernel lacks) naming the syscall at the failing step, with
// a hint: the op's own for that syscall and errno, else a common one.
import { E, NsError, NsErrorDetails, UnsupportedError, commonHint } from '../core/errors';
import { Raw, stepOf } from './wire';

/** Hints by "syscall:errno", e.g. `bind:${E.EADDRINUSE}`. */
export type FailureHints = Partial<Record<string, string>>;

/** The kernel version that brought a syscall an op may fail in with ENOSYS. */
const SINCE = new Map<string, string>([
  ['openat2', '5.6'],
  ['fsopen', '5.2'],
  ['fsconfig', '5.2'],
  ['fsmount', '5.2'],
  ['move_mount', '5.2'],
]);

export function throwRaw(r: Raw, base: NsErrorDetails, hints?: FailureHints): never {
  const syscall = stepOf(r);
  const since = SINCE.get(syscall);
  if (r[0] === -E.ENOSYS && since !== undefined) throw new UnsupportedError(syscall, since, r[0], syscall);
  throw new NsError(r[0], syscall, details(r, base, hints));
}

/** Did the raw result fail joining a namespace with EPERM (so another vehicle may do better)? */
export function deniedAtSetns(r: Raw): boolean {
  return r[0] === -E.EPERM && stepOf(r) === 'setns';
}

function details(r: Raw, base: NsErrorDetails, hints: FailureHints = {}): NsErrorDetails {
  const code = -r[0];
  const syscall = stepOf(r);
  const hint =
    ownValue(hints, `${syscall}:${code}`) ??
    (syscall === 'setns'
      ? setnsHint(code)
      : code === E.ELOOP && syscall === 'openat2'
        ? 'a magic link (/proc/*/fd/*, /proc/*/root, ...) on the path is refused'
        : code === E.EAGAIN && syscall === 'openat2'
          ? 'the path kept changing under a concurrent rename; try again'
          : syscall === 'setresuid' || syscall === 'setresgid' || syscall === 'setgroups'
            ? "could not become the root of the target's user namespace (is uid/gid 0 mapped there?): nsfd does not act there with host ids"
            : undefined);
  const msg = r[3].trim();
  return { ...base, hint: [hint, msg ? `kernel says: ${msg.replace(/\n/g, '; ')}` : undefined].filter(Boolean).join('; ') || undefined };
}

function setnsHint(code: number): string | undefined {
  switch (code) {
    case E.ESRCH:
      return 'the target process has exited';
    case E.EPERM:
      return 'no CAP_SYS_ADMIN over the target namespaces (their user namespace is not ours or a descendant we own)';
    case E.EINVAL:
      return 'the kernel refused the namespace join (an unsupported type, or a user namespace we are already in)';
    default:
      return commonHint(code);
  }
}

/** A table's own entry only ('constructor' and the like find nothing). */
function ownValue<V>(t: Partial<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(t, key) ? t[key] : undefined;
}
