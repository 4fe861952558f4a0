// run() / runWith(): spawn() and wait, collecting the output, with a
// timeout, an AbortSignal and a maxBuffer that stop the child.
import * as net from 'node:net';

import { E, NsError, abortError, checkAbortSignal, checkOptionKeys, invalidArg, optionKeys, outOfRange } from '../core/errors';
import { ExitStatus, signalName } from '../pidfd';
import { checkKillSignal, checkTimeout } from './check';
import { SPAWN_OPTION_KEYS, SpawnOptions } from './options';
import { spawn } from './spawn';
import type { Subprocess } from './subprocess';

/** Options of run(): spawn()'s, plus input, encoding and maxBuffer. */
export interface RunOptions extends SpawnOptions {
  /** Written to the child's stdin, which is then closed (default: stdin is /dev/null). */
  input?: string | Uint8Array | undefined;
  /** Decode stdout/stderr (default "utf8"); "buffer" keeps Buffers. */
  encoding?: BufferEncoding | 'buffer' | undefined;
  // timeout, signal and killSignal are spawn()'s; run() also rejects with
  // ETIMEDOUT or an AbortError when they stop the child, and maxBuffer uses killSignal.
  /**
   * Most bytes kept of stdout, and of stderr (default 1 MiB, as execFile).
   * More, and the child gets `killSignal`; run() rejects with
   * ERR_CHILD_PROCESS_STDIO_MAXBUFFER. Infinity: no limit.
   */
  maxBuffer?: number | undefined;
}

const RUN_OPTION_KEYS: ReadonlySet<string> = new Set([...SPAWN_OPTION_KEYS, ...optionKeys<Omit<RunOptions, keyof SpawnOptions>>({ input: true, encoding: true, maxBuffer: true })]);

/** What a rejected run() carries besides its code: the child's output so far and how it ended. */
export interface RunFailure extends Error {
  code: string;
  pid: number;
  /** Its exit (after killSignal, normally signal is that). */
  status: ExitStatus;
  stdout: string | Buffer;
  stderr: string | Buffer;
}

/** What run() resolves with: the exit status, pid and the collected output. */
export interface RunResult<T extends string | Buffer = string> extends ExitStatus {
  pid: number;
  stdout: T;
  stderr: T;
}

/** A stream's bytes until it closes, keeping at most `max`; `over()` is called once when it has more. */
function collect(s: net.Socket | null, max: number, over: () => void): Promise<Buffer> {
  if (s === null) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let overflowed = false;
    s.on('data', (c: Buffer) => {
      if (overflowed) return;
      if (size + c.length > max) {
        overflowed = true;
        chunks.push(c.subarray(0, max - size));
        size = max;
        over();
        return;
      }
      chunks.push(c);
      size += c.length;
    });
    s.once('error', reject);
    s.once('close', () => resolve(Buffer.concat(chunks, size)));
  });
}

/** spawn() and wait: {code, signal, stdout, stderr}. A non-zero exit is a result, not an error. */
export function run(file: string, args: readonly string[], options: RunOptions & { encoding: 'buffer' }): Promise<RunResult<Buffer>>;
export function run(file: string, args?: readonly string[], options?: RunOptions): Promise<RunResult<string>>;
export async function run(file: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunResult<string | Buffer>> {
  return runWith(file, args, options);
}

/** run(), telling `onSpawn` the child as soon as it exists (Container tracks it). Internal. */
export async function runWith(file: string, args: readonly string[], options: RunOptions, onSpawn?: (child: Subprocess) => void): Promise<RunResult<string | Buffer>> {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  checkOptionKeys(options, RUN_OPTION_KEYS);
  const { input, encoding = 'utf8', ...rest } = options;
  if (input !== undefined && typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw invalidArg('options.input', 'a string or a Uint8Array', input);
  }
  if (encoding !== 'buffer' && !Buffer.isEncoding(encoding)) throw invalidArg('options.encoding', 'a Buffer encoding or "buffer"', encoding);
  const { timeout = 0, signal, killSignal = 'SIGTERM', maxBuffer = 1024 * 1024, ...spawnOptions } = rest;
  checkTimeout(timeout);
  checkAbortSignal(signal, 'options.signal');
  const killWith = checkKillSignal(killSignal);
  if (typeof maxBuffer !== 'number' || Number.isNaN(maxBuffer)) throw invalidArg('options.maxBuffer', 'a number', maxBuffer);
  if (maxBuffer < 0) throw outOfRange('options.maxBuffer', '>= 0', maxBuffer);
  // Aborted already: nothing is started (as child_process does).
  if (signal?.aborted) throw abortError(signal.reason);
  if (spawnOptions.stdio === undefined) spawnOptions.stdio = [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
  const child = spawn(file, args, spawnOptions);
  onSpawn?.(child);
  // The first reason to stop the child wins; it is what run() rejects with.
  // A timeout that fires once the child has exited (a zombie too) came too
  // late: its result stands. Too much output, or an abort, fails run() anyway.
  let failure: Error | undefined;
  const stop = (why: () => Error, evenIfExited: boolean): void => {
    if (failure !== undefined) return;
    if (!child.pidfd.isAlive()) {
      if (evenIfExited) failure = why();
      return;
    }
    try {
      child.kill(killWith);
      failure = why();
    } catch (err) {
      failure = err as Error;
    }
  };
  const onAbort = (): void => stop(() => abortError(signal?.reason), true);
  signal?.addEventListener('abort', onAbort, { once: true });
  // (Unref'd: the wait for the child is what keeps Node running.)
  const timer = timeout > 0 ? setTimeout(() => stop(() => timeoutError(file, timeout, killWith), false), timeout).unref() : undefined;
  try {
    if (input !== undefined && child.stdin) {
      child.stdin.on('error', () => {}); // EPIPE when the child does not read it all
      child.stdin.end(input);
    }
    const overflow = (name: string) => () => stop(() => maxBufferError(name, maxBuffer), true);
    const [status, out, err] = await Promise.all([child.exited, collect(child.stdout, maxBuffer, overflow('stdout')), collect(child.stderr, maxBuffer, overflow('stderr'))]);
    const dec = (b: Buffer): string | Buffer => (encoding === 'buffer' ? b : b.toString(encoding));
    if (failure !== undefined) {
      throw Object.assign(failure, { pid: child.pid, status, stdout: dec(out), stderr: dec(err) });
    }
    return { pid: child.pid, code: status.code, signal: status.signal, stdout: dec(out), stderr: dec(err) };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    // Our ends of every pipe are run()'s alone: a stdin or extra slot given
    // as "pipe" would otherwise stay open after run() settles.
    for (const s of child.stdio) s?.destroy();
    child.close();
  }
}

function timeoutError(file: string, ms: number, sig: number): NsError {
  return new NsError(E.ETIMEDOUT, 'run', { path: file, hint: `killed with ${signalName(sig) ?? sig} after ${ms} ms (options.timeout)` });
}

function maxBufferError(name: string, max: number): RangeError {
  const err = new RangeError(`${name} maxBuffer length exceeded (${max} bytes)`);
  return Object.assign(err, { code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' });
}
