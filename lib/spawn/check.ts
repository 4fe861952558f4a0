// Argument checks of spawn(): typed errors before any syscall.
import { checkString, invalidArg, invalidValue, outOfRange } from '../core/errors';
import { signalNumber } from '../pidfd';

export { checkString };

/**
 * One "KEY=value" of options.env, checked as child_process does (numbers and
 * booleans are written as text, undefined leaves the key out), with typed
 * errors where a template string would throw an untyped one (a Symbol) or
 * run a caller's toString (an object).
 */
export function envPush(envp: string[], key: string, v: unknown): void {
  if (v === undefined) return;
  const name = `options.env['${key}']`;
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'bigint') {
    throw invalidArg(name, 'of type string', v);
  }
  if (key.includes('=')) throw invalidValue(name, "must have a name without '='", key);
  envp.push(checkString(`${key}=${String(v)}`, name, true));
}

export function checkId(x: unknown, name: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x)) throw invalidArg(name, 'an integer', x);
  if (x < 0 || x > 0xfffffffe) throw outOfRange(name, '>= 0 and <= 4294967294', x);
  return x;
}

export function checkCred(x: unknown, name: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x)) throw invalidArg(name, 'an integer', x);
  if (x < 0 || x > 0x7fffffff) throw outOfRange(name, '>= 0 and <= 2147483647', x);
  return x;
}

export function checkBool(x: unknown, name: string): boolean {
  if (x !== undefined && typeof x !== 'boolean') throw invalidArg(name, 'a boolean', x);
  return x === true;
}

/** An id map as the text /proc/PID/{uid,gid}_map takes. */
export function idMap(x: unknown, name: string): string {
  if (!Array.isArray(x) || x.length === 0 || x.length > 340) throw invalidArg(name, 'an array of 1 to 340 {inside, outside, count}', x);
  return Array.from(x as readonly unknown[])
    .map((e: unknown, i) => {
      if (e === null || typeof e !== 'object') throw invalidArg(`${name}[${i}]`, 'an object {inside, outside, count}', e);
      const m = e as Record<string, unknown>;
      const inside = checkId(m.inside, `${name}[${i}].inside`);
      const outside = checkId(m.outside, `${name}[${i}].outside`);
      const count = checkId(m.count, `${name}[${i}].count`);
      if (count < 1) throw outOfRange(`${name}[${i}].count`, '>= 1', count);
      return `${inside} ${outside} ${count}\n`;
    })
    .join('');
}

/** options.timeout: whole milliseconds, 0 for none. */
export function checkTimeout(timeout: unknown): number {
  if (typeof timeout !== 'number' || !Number.isInteger(timeout)) throw invalidArg('options.timeout', 'an integer', timeout);
  if (timeout < 0 || timeout > 0x7fffffff) throw outOfRange('options.timeout', '>= 0 and <= 2147483647', timeout);
  return timeout;
}

/** options.killSignal as a number (not 0). */
export function checkKillSignal(killSignal: unknown): number {
  const n = signalNumber(killSignal as NodeJS.Signals | number, 'options.killSignal');
  if (n === 0) throw invalidArg('options.killSignal', 'a signal other than 0', killSignal);
  return n;
}
