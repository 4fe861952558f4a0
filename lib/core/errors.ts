// Errors shaped like Node's fs errors: code ('ESRCH'), errno (negative),
// syscall, and a message "ESRCH: no such process, pidfd_open". `hint` says
// what probably caused it when we know.
import * as os from 'node:os';
import * as util from 'node:util';

/** Node's errno table plus Linux values it lacks (met here: setns, socket types, shut-down sockets). */
export const E = { ...os.constants.errno, EUSERS: 87, EREMOTE: 66, ESOCKTNOSUPPORT: 94, EPFNOSUPPORT: 96, ESHUTDOWN: 108, EHOSTDOWN: 112 } as const;

const errnoNames = new Map<number, string>();
for (const [name, num] of Object.entries(E)) {
  // Prefer the common spelling where two names share a number.
  if (!errnoNames.has(num) || name === 'EAGAIN' || name === 'EOPNOTSUPP' || name === 'EDEADLK') {
    errnoNames.set(num, name);
  }
}

// util.getSystemErrorMap() lacks some that this package meets often.
const extraText = new Map<string, string>([
  ['ECHILD', 'no child processes'],
  ['ESTALE', 'stale file handle'],
  ['EUSERS', 'too many users'],
  ['EREMOTE', 'object is remote'],
  ['ENOEXEC', 'exec format error'],
  ['ENOTTY', 'inappropriate ioctl for device'],
  ['ENOSYS', 'function not implemented'],
  ['EOPNOTSUPP', 'operation not supported'],
  ['ESOCKTNOSUPPORT', 'socket type not supported'],
  ['EPFNOSUPPORT', 'protocol family not supported'],
  ['ESHUTDOWN', 'cannot send after transport endpoint shutdown'],
  ['EHOSTDOWN', 'host is down'],
]);

/** A string as is; anything else as util.inspect shows it (never throws, unlike String(Symbol())). */
function asText(x: unknown): string {
  return typeof x === 'string' ? x : util.inspect(x);
}

export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

function describe(errno: number, code: string): string {
  const entry = util.getSystemErrorMap().get(-Math.abs(errno));
  return extraText.get(code) ?? entry?.[1] ?? code;
}

/** What an NsError says besides its errno and syscall. */
export interface NsErrorDetails {
  /** What probably caused it, when that is known. */
  hint?: string | undefined;
  /** The process the call was about. */
  pid?: number | undefined;
  /** The fd the call was about. */
  fd?: number | undefined;
  /** The path the call was about. */
  path?: string | undefined;
  /** For spawn: which step in the child failed (setns, chdir, execve...). */
  step?: string | undefined;
}

/** A failed syscall, shaped like Node's fs errors: `code` ('ESRCH'), `errno` (negative), `syscall`, and a message such as "ESRCH: no such process, pidfd_open"; `hint` says what probably caused it. */
export class NsError extends Error {
  /** The errno's name, such as 'ESRCH'. */
  readonly code: string;
  /** Negative, as in Node's fs errors. */
  readonly errno: number;
  /** The syscall (or step) that failed. */
  readonly syscall: string;
  /** What probably caused it, when that is known. */
  readonly hint?: string;
  /** The process the call was about. */
  readonly pid?: number;
  /** The fd the call was about. */
  readonly fd?: number;
  /** The path the call was about. */
  readonly path?: string;
  /** For spawn: the step in the child that failed (setns, chdir, execve...). */
  readonly step?: string;

  constructor(errno: number, syscall: string, details: NsErrorDetails = {}, message?: string) {
    // Built from whatever it is given without throwing (an error about an error helps no one).
    const neg = typeof errno === 'number' && Number.isFinite(errno) ? -Math.trunc(Math.abs(errno)) : 0;
    const code = errnoName(neg);
    const call = asText(syscall);
    if (details === null || typeof details !== 'object') details = {};
    let text = message === undefined ? `${code}: ${describe(neg, code)}, ${call}` : asText(message);
    if (message === undefined && details.path !== undefined) text += ` '${asText(details.path)}'`;
    if (details.hint !== undefined) text += ` (${asText(details.hint)})`;
    super(text);
    this.code = code;
    this.errno = neg;
    this.syscall = call;
    if (details.hint !== undefined) this.hint = details.hint;
    if (details.pid !== undefined) this.pid = details.pid;
    if (details.fd !== undefined) this.fd = details.fd;
    if (details.path !== undefined) this.path = details.path;
    if (details.step !== undefined) this.step = details.step;
    Error.captureStackTrace(this, new.target);
  }
}
Object.defineProperty(NsError.prototype, 'name', { value: 'NsError', enumerable: false, writable: true, configurable: true });

/** The running kernel lacks a feature; names it and the kernel that brings it. */
export class UnsupportedError extends NsError {
  /** The missing feature, such as "NS_GET_ID". */
  readonly feature: string;
  /** The Linux release that brings it, such as "6.18". */
  readonly since: string;

  constructor(feature: string, since: string, errno: number, syscall: string) {
    const code = errnoName(typeof errno === 'number' && Number.isFinite(errno) ? -Math.trunc(Math.abs(errno)) : 0);
    super(errno, syscall, {}, `${asText(feature)} needs Linux ${asText(since)} or later (running ${os.release()}): ${code}, ${asText(syscall)}`);
    this.feature = feature;
    this.since = since;
  }
}
Object.defineProperty(UnsupportedError.prototype, 'name', { value: 'UnsupportedError', enumerable: false, writable: true, configurable: true });

/** Throws NsError for a negative native result, else returns it. */
export function check(r: number, syscall: string, details?: NsErrorDetails | ((errno: number) => NsErrorDetails)): number {
  if (r >= 0) return r;
  const d = typeof details === 'function' ? details(-r) : details;
  throw new NsError(r, syscall, d ?? {});
}

/** Hints for errnos whose cause is known in general. */
export function commonHint(errno: number): string | undefined {
  switch (errno) {
    case E.ESRCH:
      return 'the process has exited';
    case E.EPERM:
      return 'needs CAP_SYS_ADMIN in the user namespace that owns the target namespace';
    case E.EACCES:
      return 'no ptrace access to the target process (PTRACE_MODE_READ)';
    default:
      return undefined;
  }
}

export function invalidArg(name: string, expected: string, actual: unknown): TypeError {
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${util.inspect(actual)}`);
  (err as TypeError & { code: string }).code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

export function outOfRange(name: string, range: string, actual: unknown): RangeError {
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${util.inspect(actual)}`);
  (err as RangeError & { code: string }).code = 'ERR_OUT_OF_RANGE';
  return err;
}

/**
 * A string handed to the kernel (a path, an argument): a string, non-empty
 * unless `allowEmpty`, without a null byte (the kernel would see only the
 * part before it: another string). The one check of spawn, the *In()
 * functions and Namespace.
 */
export function checkString(x: unknown, name: string, allowEmpty = false): string {
  if (typeof x !== 'string' || (!allowEmpty && x === '')) throw invalidArg(name, allowEmpty ? 'a string' : 'a non-empty string', x);
  if (x.includes('\0')) throw invalidValue(name, 'must be a string without null bytes', x);
  return x;
}

export function invalidValue(name: string, reason: string, actual: unknown): TypeError {
  const err = new TypeError(`The argument '${name}' ${reason}. Received ${util.inspect(actual)}`);
  (err as TypeError & { code: string }).code = 'ERR_INVALID_ARG_VALUE';
  return err;
}

/** An error shaped as Node's own AbortError (child_process, fs, timers/promises). */
export function abortError(reason: unknown): Error {
  const err = new Error('The operation was aborted', reason === undefined ? undefined : { cause: reason });
  return Object.assign(err, { name: 'AbortError', code: 'ABORT_ERR' });
}

/** Checks an AbortSignal option, duck-typed as Node does (one of another realm is one too). */
export function checkAbortSignal(signal: unknown, name: string): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (signal === null || typeof signal !== 'object' || !('aborted' in signal) || typeof (signal as AbortSignal).addEventListener !== 'function') {
    throw invalidArg(name, 'an AbortSignal', signal);
  }
  return signal as AbortSignal;
}

/** Edit distance, for "did you mean" on misspelt option names. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] as number;
      row[j] = Math.min(up + 1, (row[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length] as number;
}

/**
 * Throws ERR_INVALID_ARG_VALUE for a key of `options` that is not in `known`,
 * naming the closest known one (`killOnclose` -> `killOnClose`). An options
 * object with a typo would otherwise silently get a default.
 */
export function checkOptionKeys(options: object, known: ReadonlySet<string>, name = 'options'): void {
  for (const key of Object.keys(options)) {
    if (known.has(key)) continue;
    let best: string | undefined;
    let bestScore = Infinity;
    for (const k of known) {
      const d = k.toLowerCase() === key.toLowerCase() ? 0 : distance(key, k);
      if (d < bestScore) [best, bestScore] = [k, d];
    }
    const near = best !== undefined && bestScore <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean "${best}"?` : '';
    throw invalidValue(`${name}.${key}`, `is not a known option${near}`, (options as Record<string, unknown>)[key]);
  }
}

/** The names of an options type, complete by construction: the compiler rejects a missing or an extra key. */
export function optionKeys<T extends object>(keys: { readonly [K in keyof Required<T>]: true }): ReadonlySet<string> {
  return new Set(Object.keys(keys));
}
