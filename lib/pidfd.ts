// Pidfd: a process handle that cannot be fooled by pid reuse. Everything
// about the process is derived from this one fd; anything read from /proc
// is rechecked against it afterwards.
import * as os from 'node:os';

import { E, NsError, UnsupportedError, abortError, check, checkAbortSignal, checkOptionKeys, commonHint, invalidArg, optionKeys, outOfRange } from './core/errors';
import { native } from './sys/native';
import { Namespace, adoptNamespace } from './namespace';
import { OwnedFd } from './core/owned-fd';
import { numbers, readStatus } from './core/proc';
import { whenExited } from './core/reaper';
import { has } from './features';
import { pidfdOpenFd, processNamespaceFd, recheckAlive } from './core/process';
import { procRead } from './core/procfs';
import { NS_TYPES, NsType, checkNsType, checkNsTypes, checkPid } from './core/ns-types';
import { CLD_EXITED, PIDFD_INFO_CGROUPID, PIDFD_INFO_CREDS, PIDFD_INFO_EXIT, PIDFD_INFO_PID, PIDFS_MAGIC, WEXITED, WNOHANG, WNOWAIT } from './sys/constants';
import { pidfdGetInfo } from './sys/nsfs';


/** Options of Pidfd.open(). */
export interface PidfdOpenOptions {
  /** PIDFD_NONBLOCK (5.10): waitid on this fd never blocks. */
  nonblock?: boolean | undefined;
  /** PIDFD_THREAD (6.9): a handle on one thread, `pid` being a tid. */
  thread?: boolean | undefined;
  /** The pidfs id (Pidfd#id) the process must have: ESRCH if the pid now names another one. */
  id?: bigint | undefined;
}

/** Options of Pidfd#wait(). */
export interface WaitOptions {
  /**
   * Reap the process if it is our child. Default: true for children nsfd
   * spawned, false otherwise, so that a child of child_process (which libuv
   * reaps and reports through 'exit') is only observed, never stolen.
   */
  reap?: boolean | undefined;
  /** Aborting rejects this wait with an AbortError (the process is not touched; other waits go on). */
  signal?: AbortSignal | undefined;
}

/** Children created by nsfd itself (spawn): their Pidfd reaps them. */
const ownChildren = new WeakSet<Pidfd>();

const OPEN_OPTION_KEYS = optionKeys<PidfdOpenOptions>({ nonblock: true, thread: true, id: true });
const WAIT_OPTION_KEYS = optionKeys<WaitOptions>({ reap: true, signal: true });

/** @internal Marks `pidfd` as a child nsfd created, so wait() reaps it. */
export function markOwnChild(pidfd: Pidfd): void {
  ownChildren.add(pidfd);
}

/** How a process ended: an exit code or a signal (both null when unknown). */
export interface ExitStatus {
  /** Exit code, or null if killed by a signal (or unknown). */
  code: number | null;
  /** Name of the signal that ended it, or null. */
  signal: NodeJS.Signals | null;
}

/** Real, effective, saved and filesystem ids, as /proc/PID/status lists them. */
export interface IdSet {
  real: number;
  effective: number;
  saved: number;
  fs: number;
}

/** What Pidfd#info() reads of a process (PIDFD_GET_INFO on 6.13+, else /proc). */
export interface ProcessInfo {
  pid: number;
  tgid: number;
  /** 0 when the parent is not visible from our pid namespace. */
  ppid: number;
  uid: IdSet;
  gid: IdSet;
  /** cgroup v2 id (PIDFD_GET_INFO only). */
  cgroupId?: bigint;
  /** Where the information came from. */
  source: 'PIDFD_GET_INFO' | 'proc';
}

const signalNames = new Map<number, NodeJS.Signals>();
for (const [name, num] of Object.entries(os.constants.signals)) {
  if (!signalNames.has(num)) signalNames.set(num, name as NodeJS.Signals);
}

/**
 * p.sendSignal(signal), but false when the process is gone (ESRCH), with
 * no error built: close paths signal processes that have often exited.
 */
export function signalUnlessGone(p: Pidfd, signal: NodeJS.Signals | number): boolean {
  const sig = signalNumber(signal);
  const fd = p.fd;
  if (fd < 0) {
    p.sendSignal(sig);  // closed (or not a real handle): its typed EBADF
    return false;
  }
  const r = native.pidfd_send_signal(fd, sig, 0);
  if (r === -E.ESRCH) return false;
  check(r, 'pidfd_send_signal', (e) => ({ pid: p.pid, hint: commonHint(e) }));
  return true;
}

/** A signal number (0..64) from a number or a name ("SIGTERM", "term"); `name` is the argument in errors. */
export function signalNumber(sig: unknown, name = 'signal'): number {
  if (typeof sig === 'number') {
    if (!Number.isInteger(sig) || sig < 0 || sig > 64) throw invalidArg(name, 'a signal number 0..64 or name', sig);
    return sig;
  }
  if (typeof sig === 'string') {
    const key = (sig.startsWith('SIG') ? sig : `SIG${sig}`).toUpperCase();
    // Own entries only: no name may find an Object.prototype member.
    if (Object.hasOwn(os.constants.signals, key)) return (os.constants.signals as Record<string, number>)[key] as number;
  }
  throw invalidArg(name, 'a signal number or name such as "SIGTERM"', sig);
}

export function signalName(num: number): NodeJS.Signals | null {
  return signalNames.get(num) ?? null;
}

/** Decodes a wait status as PIDFD_GET_INFO's exit_code reports it. */
export function decodeWaitStatus(status: number): ExitStatus {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: signalName(sig) };
}

/** A process handle that pid reuse cannot fool (pidfd_open, 5.3+): signal it, wait for it, copy fds out of it, read its credentials and namespaces. Every operation goes through the pidfd, never the pid alone. */
export class Pidfd extends OwnedFd {
  #pid: number;
  #exited: Promise<ExitStatus> | undefined;

  /**
   * Adopts a pidfd; `pid` is its pid in our namespace (read from fdinfo if
   * omitted). If `fd` is not a pidfd this throws and the caller keeps it.
   */
  constructor(fd: number, pid?: number) {
    // fdinfo says -1 for an exited process and 0 for one outside our pid namespace.
    if (pid !== undefined && (typeof pid !== 'number' || !Number.isInteger(pid) || pid < -1 || pid > 0x3fffffff)) {
      throw invalidArg('pid', 'an integer from -1 to 1073741823', pid);
    }
    const known = pid ?? fdinfoPid(fd);
    super(fd);
    this.#pid = known;
  }

  static override fromRawFd(fd: number, pid?: number): Pidfd {
    return new Pidfd(fd, pid);
  }

  /** pidfd_open(pid). With `id`, fails with ESRCH unless the process is that exact one. */
  static open(pid: number, options: PidfdOpenOptions = {}): Pidfd {
    checkPid(pid);
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    checkOptionKeys(options, OPEN_OPTION_KEYS);
    if (options.id !== undefined && typeof options.id !== 'bigint') throw invalidArg('options.id', 'a bigint', options.id);
    const r = pidfdOpenFd(pid, options);
    const pidfd = new Pidfd(r, pid);
    if (options.id !== undefined) {
      let actual: bigint;
      try {
        actual = pidfd.id;
      } catch (err) {
        pidfd.close();
        throw err;
      }
      if (actual !== options.id) {
        pidfd.close();
        throw new NsError(-E.ESRCH, 'pidfd_open', {
          pid,
          hint: `pid ${pid} is now a different process (pidfs id ${actual}, expected ${options.id})`,
        });
      }
    }
    return pidfd;
  }

  /** A pidfd for this Node process. */
  static self(): Pidfd {
    return Pidfd.open(process.pid);
  }

  /** The pid in our pid namespace (as of opening). */
  get pid(): number {
    return Pidfd.#isReal(this) ? this.#pid : -1;
  }

  /** Made by this constructor (not just given its prototype)? */
  static #isReal(x: object): boolean {
    return #pid in x;
  }

  /**
   * The pidfs inode (Linux 6.9+): a 64-bit id never reused while the system
   * runs. Store it with the pid and pass it to Pidfd.open({id}) later.
   */
  get id(): bigint {
    const fd = this.asFd('fstat');
    if (native.fstatfs_type(fd) !== PIDFS_MAGIC) {
      throw new UnsupportedError('pidfs process ids', '6.9', -E.EOPNOTSUPP, 'fstat');
    }
    const st = native.fstat(fd);
    if (typeof st === 'number') throw new NsError(st, 'fstat');
    return st[1];
  }

  /** @internal The raw fd for a syscall (throws EBADF once closed); not in the published types. */
  fdFor(syscall: string): number {
    return this.asFd(syscall);
  }

  /** Sends a signal (name or number; 0 checks for existence) through the pidfd. */
  sendSignal(signal: NodeJS.Signals | number = 'SIGTERM'): void {
    const sig = signalNumber(signal);
    const r = native.pidfd_send_signal(this.asFd('pidfd_send_signal'), sig, 0);
    check(r, 'pidfd_send_signal', (e) => ({ pid: this.#pid, hint: commonHint(e) }));
  }

  /** Alias of sendSignal for child_process familiarity. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): void {
    this.sendSignal(signal);
  }

  /** Whether the process has not yet exited (a zombie has exited). */
  isAlive(): boolean {
    const r = native.poll_in(this.asFd('poll'));
    return r === 0;
  }

  /** pidfd_getfd (5.6): a copy (O_CLOEXEC) of the target's fd `targetFd`. */
  getfd(targetFd: number): OwnedFd {
    if (!Number.isInteger(targetFd) || targetFd < 0) throw invalidArg('targetFd', 'a non-negative integer', targetFd);
    if (targetFd > 0x7fffffff) throw outOfRange('targetFd', '<= 2147483647', targetFd);
    const r = native.pidfd_getfd(this.asFd('pidfd_getfd'), targetFd, 0);
    if (r === -E.ENOSYS) throw new UnsupportedError('pidfd_getfd', '5.6', r, 'pidfd_getfd');
    return new OwnedFd(
      check(r, 'pidfd_getfd', (e) => ({
        pid: this.#pid,
        fd: targetFd,
        hint:
          e === E.EBADF
            ? `the process has no fd ${targetFd}`
            : e === E.EPERM
              ? 'needs ptrace access to the process (PTRACE_MODE_ATTACH_REALCREDS)'
              : commonHint(e),
      })),
    );
  }

  /** Process identity and credentials: PIDFD_GET_INFO (6.13) or /proc rechecked through the pidfd. */
  info(): ProcessInfo {
    const fd = this.asFd('ioctl(PIDFD_GET_INFO)');
    const r = pidfdGetInfo(fd, PIDFD_INFO_PID | PIDFD_INFO_CREDS | PIDFD_INFO_CGROUPID);
    if (typeof r !== 'number') {
      const out: ProcessInfo = {
        pid: r.pid,
        tgid: r.tgid,
        ppid: r.ppid,
        uid: { real: r.ruid, effective: r.euid, saved: r.suid, fs: r.fsuid },
        gid: { real: r.rgid, effective: r.egid, saved: r.sgid, fs: r.fsgid },
        source: 'PIDFD_GET_INFO',
      };
      if ((r.mask & PIDFD_INFO_CGROUPID) !== 0n) out.cgroupId = r.cgroupid;
      return out;
    }
    if (r !== -E.ENOTTY && r !== -E.EINVAL) {
      throw new NsError(r, 'ioctl(PIDFD_GET_INFO)', {
        pid: this.#pid,
        hint: r === -E.EREMOTE ? 'the process is not visible in our pid namespace' : commonHint(-r),
      });
    }
    const st = readStatus(this.#pid);
    this.recheck('open(/proc/PID/status)');
    if (st === undefined) throw new NsError(-E.ESRCH, 'open(/proc/PID/status)', { pid: this.#pid, hint: 'the process has exited' });
    const uid = numbers(st.get('Uid'));
    const gid = numbers(st.get('Gid'));
    return {
      pid: Number(st.get('Pid')),
      tgid: Number(st.get('Tgid')),
      ppid: Number(st.get('PPid')),
      uid: { real: uid[0] ?? -1, effective: uid[1] ?? -1, saved: uid[2] ?? -1, fs: uid[3] ?? -1 },
      gid: { real: gid[0] ?? -1, effective: gid[1] ?? -1, saved: gid[2] ?? -1, fs: gid[3] ?? -1 },
      source: 'proc',
    };
  }

  /** @internal ESRCH unless the process still exists (so a /proc read just made was about it); not in the published types. */
  recheck(syscall: string): void {
    recheckAlive(this.asFd(syscall), this.#pid, syscall);
  }

  /** One of the process's namespaces: PIDFD_GET_*_NAMESPACE (6.11) or /proc rechecked. */
  namespace(type: NsType): Namespace {
    checkNsType(type);
    return adoptNamespace(this.namespaceFd(type));
  }

  /**
   * @internal A raw O_CLOEXEC nsfd of the process's `type` namespace; the
   * caller closes it. For hot paths that need no Namespace object; not in
   * the published types.
   */
  namespaceFd(type: NsType): number {
    checkNsType(type);
    return processNamespaceFd(this.asFd('ioctl(PIDFD_GET_NAMESPACE)'), this.#pid, type);
  }

  /** Several namespaces at once (all types this kernel has by default). */
  namespaces(types?: readonly NsType[]): Partial<Record<NsType, Namespace>> {
    const list = types === undefined ? NS_TYPES : checkNsTypes(types);
    const out: Partial<Record<NsType, Namespace>> = {};
    try {
      for (const t of list) {
        try {
          out[t] = this.namespace(t);
        } catch (err) {
          // Types compiled out of this kernel are left out when not asked for by name.
          if (types === undefined && err instanceof NsError && (err.code === 'EOPNOTSUPP' || err.code === 'ENOENT')) continue;
          throw err;
        }
      }
    } catch (err) {
      for (const ns of Object.values(out)) ns.close();
      throw err;
    }
    return out;
  }

  /**
   * Resolves when the process exits: {code, signal}. Reaps the process if
   * it is a child nsfd spawned (or with {reap: true}); any other process is
   * observed without reaping (WNOWAIT). For a process that is not our child
   * the status comes from PIDFD_GET_INFO (6.15+), which has it once the
   * parent has reaped the process: wait() gives the parent up to 100 ms
   * after the exit, then resolves with {code: null, signal: null} if the
   * status is still unknown (always so on older kernels). Never blocks the event loop; a pending wait
   * keeps Node alive, a Pidfd alone does not. Closing the Pidfd while
   * waiting does not cancel the wait.
   */
  wait(options: WaitOptions = {}): Promise<ExitStatus> {
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    checkOptionKeys(options, WAIT_OPTION_KEYS);
    if (!Pidfd.#isReal(this)) this.asFd('waitid'); // not a real handle: EBADF
    const signal = checkAbortSignal(options.signal, 'options.signal');
    if (signal !== undefined) return this.#waitAbortable(signal, options.reap);
    const reap = options.reap ?? ownChildren.has(this);
    if (this.#exited === undefined) {
      const dup = this.dup();
      this.#exited = waitOn(dup, reap).finally(() => dup.close());
    }
    return this.#exited;
  }

  /**
   * wait() that an AbortSignal can give up: its own watch of a dup of the
   * fd, dropped on abort so that it no longer keeps Node alive; once the
   * process has exited, the shared wait() takes over (and reaps).
   */
  #waitAbortable(signal: AbortSignal, reap: boolean | undefined): Promise<ExitStatus> {
    const rest: WaitOptions = reap === undefined ? {} : { reap };
    if (signal.aborted) return Promise.reject(abortError(signal.reason));
    const dup = this.dup();
    const watch = whenExited(dup.fdFor('waitid'));
    return new Promise<ExitStatus>((resolve, reject) => {
      const onAbort = (): void => {
        watch.cancel();
        dup.close();
        reject(abortError(signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void watch.done.then(() => {
        signal.removeEventListener('abort', onAbort);
        dup.close();
        this.wait(rest).then(resolve, reject);
      });
    });
  }

  override dup(): Pidfd {
    const copy = new Pidfd(check(native.dup_cloexec(this.asFd('dup')), 'fcntl'), this.#pid);
    families.set(copy, familyOf(this));
    return copy;
  }

  protected override inspectDetail(): string {
    return `pid=${this.pid}`;
  }
}

function reapNow(fd: number, reap: boolean): ExitStatus | 'running' | 'not-child' {
  const r = native.waitid_pidfd(fd, WEXITED | WNOHANG | (reap ? 0 : WNOWAIT));
  if (typeof r === 'number') {
    if (r === -E.ECHILD) return 'not-child';
    throw new NsError(r, 'waitid');
  }
  if (r.pid === 0) return 'running';
  return r.code === CLD_EXITED ? { code: r.status, signal: null } : { code: null, signal: signalName(r.status) };
}

/**
 * The exit status a Pidfd and its dups share (one process, by
 * construction): when one of them reaps it, the others can still tell its
 * status on kernels that keep none for a reaped process (before 6.15, no
 * PIDFD_INFO_EXIT), e.g. a dup's wait() racing Container.close()'s reap.
 */
const families = new WeakMap<Pidfd, { status?: ExitStatus }>();
function familyOf(p: Pidfd): { status?: ExitStatus } {
  let f = families.get(p);
  if (f === undefined) families.set(p, (f = {}));
  return f;
}

async function waitOn(pidfd: Pidfd, reap: boolean): Promise<ExitStatus> {
  const fd = pidfd.fdFor('waitid');
  const family = familyOf(pidfd);
  const first = reapNow(fd, reap);
  if (typeof first === 'object') return (family.status = first);
  await whenExited(fd).done;
  if (first === 'running') {
    const again = reapNow(fd, reap);
    if (typeof again === 'object') return (family.status = again);
  }
  // Not our child: the kernel keeps its exit status for pidfds (6.15+) once
  // the parent has reaped it. Give the parent a moment (POLLHUP on reap);
  // an orphan whose reaper never reaps it stays a zombie, status unknown.
  let status = exitInfo(fd) ?? family.status;
  if (status === undefined && has('pidfd_info_exit')) {
    const reaped = whenExited(fd, true);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([reaped.done, new Promise<void>((r) => (timer = setTimeout(r, REAP_GRACE_MS)))]);
    clearTimeout(timer);
    reaped.cancel();
    status = exitInfo(fd) ?? family.status;
  }
  return status ?? { code: null, signal: null };
}

/** How long wait() gives a non-child's parent to reap it, for its exit status. */
const REAP_GRACE_MS = 100;

function exitInfo(fd: number): ExitStatus | undefined {
  const info = pidfdGetInfo(fd, PIDFD_INFO_EXIT);
  if (typeof info !== 'number' && (info.mask & PIDFD_INFO_EXIT) !== 0n) return decodeWaitStatus(info.exitCode);
  return undefined;
}

function fdinfoPid(fd: number): number {
  if (!Number.isInteger(fd) || fd < 0) throw invalidArg('fd', 'a non-negative integer', fd);
  const m = /^Pid:\s*(-?\d+)/m.exec(procRead(`self/fdinfo/${fd}`) ?? '');
  if (m) return Number(m[1]);
  throw new NsError(-E.EINVAL, 'pidfd', { fd, hint: 'not a pidfd' });
}
