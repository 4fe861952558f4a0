// OwnedFd: an fd this package created (always O_CLOEXEC) and will close.
// Rust's OwnedFd semantics with Node FileHandle mechanics: close() is
// idempotent, a closed object never hands its old number to the kernel
// (it may belong to a newer file by now), an object dropped without
// close() is closed by a FinalizationRegistry that warns, and what a
// Worker's objects still hold when it ends is closed by the addon.
import { inspect } from 'node:util';

import { E, NsError, check, invalidArg, outOfRange } from './errors';
import { native } from '../sys/native';

const gcRegistry = new FinalizationRegistry<number>((fd) => {
  native.fd_close_owned(fd);
  process.emitWarning(`Closing file descriptor ${fd} on garbage collection`, {
    type: 'Warning',
    code: 'NSFD_FD_GC',
    detail: 'An nsfd handle was garbage-collected without close(). Close it, or declare it with `using`.',
  });
});

/** An fd this package hands out, owned by this object: `close()` (idempotent), `[Symbol.dispose]` for `using`, `dup()`, `release()`; closed with a warning (NSFD_FD_GC) if it is garbage-collected open. Always O_CLOEXEC. */
export class OwnedFd implements Disposable {
  #fd: number;
  readonly #token = {};

  /** Adopts `fd`: it must be open, O_CLOEXEC and not owned by anything else. */
  constructor(fd: number) {
    if (!Number.isInteger(fd) || fd < 0) throw invalidArg('fd', 'a non-negative integer', fd);
    // The kernel's fds are ints: a larger number would reach it truncated, naming another fd.
    if (fd > 0x7fffffff) throw outOfRange('fd', '<= 2147483647', fd);
    this.#fd = fd;
    gcRegistry.register(this, fd, this.#token);
    // Also known to the addon, which closes it when this thread's Node
    // instance ends (a Worker's end runs no finalizer).
    native.fd_own(fd);
  }

  /** Adopts a raw fd (unsafe: nothing else may close it afterwards). */
  static fromRawFd(fd: number): OwnedFd {
    return new OwnedFd(fd);
  }

  /** Made by this constructor (not just given its prototype)? */
  static #isReal(x: object): boolean {
    return #fd in x;
  }

  /** The fd number, or -1 once closed or released (or for an object that is no real handle). */
  get fd(): number {
    return OwnedFd.#isReal(this) ? this.#fd : -1;
  }

  /** Whether the fd has been closed or released. */
  get closed(): boolean {
    return this.fd < 0;
  }

  /**
   * The fd for a syscall; throws EBADF once closed rather than reuse the
   * number. An object that only looks like a handle (made with
   * Object.create(Pidfd.prototype), say) counts as a closed one.
   */
  protected asFd(syscall: string): number {
    const fd = this.fd;
    if (fd < 0) {
      const name = typeof syscall === 'string' ? syscall : inspect(syscall);
      throw new NsError(-E.EBADF, name, {}, `EBADF: file descriptor closed, ${name}`);
    }
    return fd;
  }

  /** Closes the fd. Idempotent. */
  close(): void {
    const fd = this.fd;
    if (fd < 0) return;
    this.#fd = -1;
    gcRegistry.unregister(this.#token);
    // EINTR still closes the fd on Linux: never retried. EBADF means some
    // other code closed our fd, an ownership bug worth surfacing.
    const r = native.fd_close_owned(fd);
    if (r === -E.EBADF) throw new NsError(r, 'close', { fd, hint: 'the fd was closed behind this object\'s back' });
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** A new O_CLOEXEC fd for the same open file, owned by a new object. */
  dup(): OwnedFd {
    return new OwnedFd(check(native.dup_cloexec(this.asFd('dup')), 'fcntl'));
  }

  /** Gives up ownership and returns the raw fd; the caller must close it. */
  release(): number {
    const fd = this.asFd('release');
    this.#fd = -1;
    gcRegistry.unregister(this.#token);
    native.fd_disown(fd);
    return fd;
  }

  protected inspectDetail(): string {
    return '';
  }

  [inspect.custom](): string {
    if (!OwnedFd.#isReal(this)) return `${this.constructor.name} <not a handle>`;
    const detail = this.inspectDetail();
    return `${this.constructor.name} <${this.#fd < 0 ? 'closed' : `fd ${this.#fd}`}>${detail ? ' ' + detail : ''}`;
  }
}
