// The Subprocess handle, and the background reaping of children whose
// handle was closed while they ran.
import * as net from 'node:net';

import { NsError, invalidArg } from '../core/errors';
import { WEXITED, WNOHANG } from '../sys/constants';
import { native } from '../sys/native';
import { ExitStatus, Pidfd } from '../pidfd';

/** A real Pidfd (not merely something with Pidfd.prototype in its chain). */
function isPidfd(x: unknown): x is Pidfd {
  if (!(x instanceof Pidfd)) return false;
  try {
    return typeof x.pid === 'number'; // a private field: throws for a fake
  } catch {
    return false;
  }
}

/** Child processes whose handle was closed while they ran: reaped when they exit, without keeping Node alive. */
const orphans = new Set<Pidfd>();
let sweeper: NodeJS.Timeout | undefined;
function adoptOrphan(pidfd: Pidfd): void {
  orphans.add(pidfd);
  if (sweeper !== undefined) return;
  sweeper = setInterval(() => {
    for (const p of orphans) {
      const r = native.waitid_pidfd(p.fd, WEXITED | WNOHANG);
      if (typeof r === 'number' || r.pid !== 0) {
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
 * A child made by spawn(). Holds its pidfd: signals and the exit status go
 * through it, never through the pid. The handle does not keep Node alive;
 * awaiting `exited` does, and so do open stdio streams.
 */
export class Subprocess implements Disposable {
  /** The child's pid in our pid namespace. */
  readonly pid: number;
  readonly pidfd: Pidfd;
  /** Our ends of the 'pipe' slots (null for other slots). */
  readonly stdio: readonly (net.Socket | null)[];
  readonly killOnClose: boolean;
  #exited: Promise<ExitStatus> | undefined;
  #closed = false;

  /** Made by spawn(); wraps a Pidfd of a child (and our ends of its stdio). */
  constructor(pidfd: Pidfd, stdio: readonly (net.Socket | null)[] = [], killOnClose = false) {
    if (!isPidfd(pidfd)) throw invalidArg('pidfd', 'a Pidfd', pidfd);
    if (!Array.isArray(stdio) || stdio.some((x) => x !== null && !(x instanceof net.Socket))) {
      throw invalidArg('stdio', 'an array of net.Socket or null', stdio);
    }
    if (typeof killOnClose !== 'boolean') throw invalidArg('killOnClose', 'a boolean', killOnClose);
    this.pidfd = pidfd;
    this.pid = pidfd.pid;
    this.stdio = stdio;
    this.killOnClose = killOnClose;
  }

  get stdin(): net.Socket | null {
    return this.stdio[0] ?? null;
  }
  get stdout(): net.Socket | null {
    return this.stdio[1] ?? null;
  }
  get stderr(): net.Socket | null {
    return this.stdio[2] ?? null;
  }

  /**
   * Resolves with {code, signal} when the child exits, and reaps it. Started
   * on first access: until then the child does not keep Node alive.
   */
  get exited(): Promise<ExitStatus> {
    if (this.#exited === undefined) this.#exited = this.pidfd.wait();
    return this.#exited;
  }

  /** Sends a signal through the pidfd. false if the child has already exited and been reaped. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    try {
      this.pidfd.sendSignal(signal);
      return true;
    } catch (err) {
      if (err instanceof NsError && err.code === 'ESRCH') return false;
      throw err;
    }
  }

  /**
   * Releases the handle. With killOnClose the child is SIGKILLed (and reaped
   * at once); otherwise it runs on and is reaped in the background when it
   * exits. Stdio streams stay open. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.pidfd.closed) return;
    if (this.killOnClose) {
      this.kill('SIGKILL');
      this.exited.catch(() => {});
    } else if (this.#exited === undefined) {
      adoptOrphan(this.pidfd.dup());
    }
    this.pidfd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
