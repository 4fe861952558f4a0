// JS side of native/reaper.cc: a promise that settles when an fd (a pidfd)
// becomes readable. Pending waits keep the event loop alive; nothing else does.
import { check } from './errors';
import { native } from '../sys/native';

const waiters = new Map<number, () => void>();
let started = false;

function dispatch(token: number): void {
  const done = waiters.get(token);
  if (done === undefined) return;
  waiters.delete(token);
  if (waiters.size === 0) native.reaper_ref(false);
  done();
}

/** Starts the reaper (its thread, epoll and eventfd: long-lived fds) if it is not running yet. */
export function startReaper(): void {
  if (started) return;
  check(native.reaper_init(dispatch), 'epoll_create1');
  started = true;
}

/**
 * Resolves when the process behind pidfd `fd` has exited (the pidfd reads
 * POLLIN) or, with untilReaped, once its parent has reaped it (POLLHUP, 6.9+).
 * `cancel()` drops the watch (the promise then never settles).
 */
export function whenExited(fd: number, untilReaped = false): { done: Promise<void>; cancel(): void } {
  startReaper();
  const token = check(native.reaper_watch(fd, untilReaped ? 1 : 0), 'epoll_ctl');
  if (waiters.size === 0) native.reaper_ref(true);
  const done = new Promise<void>((resolve) => waiters.set(token, resolve));
  return {
    done,
    cancel() {
      if (!waiters.delete(token)) return;
      native.reaper_unwatch(token);
      if (waiters.size === 0) native.reaper_ref(false);
    },
  };
}
