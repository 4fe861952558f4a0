// The Subprocess handle, and the background reaping of children whose
// handle was closed while they ran.
import { EventEmitter } from 'node:events';
import * as net from 'node:net';

import { NsError, invalidArg } from '../core/errors';
import { WEXITED, WNOHANG } from '../sys/constants';
import { native } from '../sys/native';
import { ExitStatus, Pidfd, signalUnlessGone } from '../pidfd';

/** A real Pidfd (not merely something with Pidfd.prototype in its chain). */
function isPidfd(x: unknown): x is Pidfd {
  if (!(x instanceof Pidfd)) return false;
  try {
    return typeof x.pid === 'number'; // a private field: throws for a fake
  } catch {
    return false;
  }
}

/** Reaps the child if it has exited; true if it is gone (reaped now, or already by another wait). */
function reapedNow(p: Pidfd): boolean {
  const r = native.waitid_pidfd(p.fd, WEXITED | WNOHANG);
  return typeof r === 'number' || r.pid !== 0;
}

/** Child processes whose handle was closed while they ran: reaped when they exit, without keeping Node alive. */
const orphans = new Set<Pidfd>();
let sweeper: NodeJS.Timeout | undefined;
function adoptOrphan(pidfd: Pidfd): void {
  orphans.add(pidfd);
  if (sweeper !== undefined) return;
  sweeper = setInterval(() => {
    for (const p of orphans) {
      if (reapedNow(p)) {
        orphans.delete(p);
        p.close();
      }
    }
    if (orphans.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }, 500);
  sweeper.unref();
}

/**
 * A child made by spawn(), shaped like Node's ChildProcess where it can be:
 * events 'spawn', 'exit' (code, signal), 'close' (code, signal: after the
 * exit and once its stdout, stderr and extra pipes have closed) and
 * 'error'; `exitCode`, `signalCode`, `killed`, `pid`; plus the `exited` and
 * `closed` promises. Holds its pidfd: signals and the exit status go
 * through it, never through the pid. Unlike a ChildProcess the handle alone
 * does not keep Node alive: awaiting `exited`/`closed`, listening for
 * 'exit'/'close', and open stdio streams do.
 */
export class Subprocess extends EventEmitter implements Disposable {
  /** The child's pid in our pid namespace. */
  readonly pid: number;
  /** The child's pidfd (owned by this handle). */
  readonly pidfd: Pidfd;
  /** Our ends of the 'pipe' slots (null for other slots). */
  readonly stdio: readonly (net.Socket | null)[];
  /** Whether close() SIGKILLs the child. */
  readonly killOnClose: boolean;
  /** The exit code once the child has exited and that is known (null before, or when a signal ended it). */
  exitCode: number | null = null;
  /** The signal that ended the child, once known (null before, or when it exited). */
  signalCode: NodeJS.Signals | null = null;
  /** Whether kill() delivered a signal (as ChildProcess.killed: not whether the child died of it). */
  killed = false;
  #exited: Promise<ExitStatus> | undefined;
  #closedPromise: Promise<ExitStatus> | undefined;
  #closed = false;
  #cleanups: (() => void)[] = [];
  #announced = false;

  /** Made by spawn(); wraps a Pidfd of a child (and our ends of its stdio). */
  constructor(pidfd: Pidfd, stdio: readonly (net.Socket | null)[] = [], killOnClose = false) {
    if (!isPidfd(pidfd)) throw invalidArg('pidfd', 'a Pidfd', pidfd);
    if (!Array.isArray(stdio) || stdio.some((x) => x !== null && !(x instanceof net.Socket))) {
      throw invalidArg('stdio', 'an array of net.Socket or null', stdio);
    }
    if (typeof killOnClose !== 'boolean') throw invalidArg('killOnClose', 'a boolean', killOnClose);
    super();
    this.pidfd = pidfd;
    this.pid = pidfd.pid;
    this.stdio = stdio;
    this.killOnClose = killOnClose;
    // Listening for the end starts the wait (which keeps Node alive), as
    // awaiting `exited` does; a handle nobody listens to does not.
    this.on('newListener', (event: string | symbol) => {
      if (event === 'exit') void this.exited.catch(() => {});
      if (event === 'close') void this.closed.catch(() => {});
    });
  }

  /** Our end of the child's stdin, when a 'pipe'. */
  get stdin(): net.Socket | null {
    return this.stdio[0] ?? null;
  }
  /** Our end of the child's stdout, when a 'pipe'. */
  get stdout(): net.Socket | null {
    return this.stdio[1] ?? null;
  }
  /** Our end of the child's stderr, when a 'pipe'. */
  get stderr(): net.Socket | null {
    return this.stdio[2] ?? null;
  }

  /**
   * Resolves with {code, signal} when the child exits, and reaps it
   * ('exit' is emitted then). Started on first access: until then the
   * child does not keep Node alive.
   */
  get exited(): Promise<ExitStatus> {
    if (this.#exited === undefined) {
      const wait = this.pidfd.wait();
      this.#exited = wait.then((status) => {
        this.exitCode = status.code;
        this.signalCode = status.signal;
        this.#cleanup();
        return status;
      });
      this.#exited.then(
        (status) => {
          this.announce();
          this.emit('exit', status.code, status.signal);
        },
        (err: unknown) => {
          this.#cleanup();
          if (this.listenerCount('error') > 0) this.emit('error', err);
        },
      );
    }
    return this.#exited;
  }

  /**
   * Resolves with {code, signal} once the child has exited and its
   * stdout, stderr and other readable pipes have closed: everything it
   * wrote has been read ('close' is emitted then). A pipe nobody reads
   * never closes, as with ChildProcess.
   */
  get closed(): Promise<ExitStatus> {
    if (this.#closedPromise === undefined) {
      const ends = this.stdio.filter((s, slot): s is net.Socket => s !== null && slot > 0).map((s) => new Promise<void>((resolve) => (s.destroyed && s.closed ? resolve() : s.once('close', () => resolve()))));
      this.#closedPromise = Promise.all([this.exited, ...ends]).then(([status]) => status);
      this.#closedPromise.then(
        (status) => this.emit('close', status.code, status.signal),
        () => {},
      );
    }
    return this.#closedPromise;
  }

  /** Sends a signal through the pidfd. false if the child has already exited and been reaped. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (!signalUnlessGone(this.pidfd, signal)) return false;
    if (signal !== 0) this.killed = true;
    return true;
  }

  /** @internal Emits 'spawn' once: on the next tick after spawn(), or before 'exit' if that comes first. */
  announce(): void {
    if (this.#announced) return;
    this.#announced = true;
    this.emit('spawn');
  }

  /** @internal Runs `fn` when the child has exited or the handle is closed (spawn's timeout and abort listener). */
  onEnd(fn: () => void): void {
    if (typeof fn !== 'function') throw invalidArg('fn', 'a function', fn);
    this.#cleanups.push(fn);
  }

  #cleanup(): void {
    for (const fn of this.#cleanups.splice(0)) fn();
  }

  /**
   * Releases the handle. With killOnClose the child is SIGKILLed (and reaped
   * at once); otherwise it runs on and is reaped in the background when it
   * exits. Stdio streams stay open. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cleanup();
    if (this.pidfd.closed) return;
    if (this.killOnClose) {
      this.kill('SIGKILL');
      this.exited.catch(() => {});
    } else if (this.#exited === undefined && !reapedNow(this.pidfd)) {
      adoptOrphan(this.pidfd.dup());
    }
    this.pidfd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
