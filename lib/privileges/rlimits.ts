// The rlimits option: { nofile: [soft, hard], ... } (short or RLIMIT_ names),
// or the OCI list [{ type: 'RLIMIT_NOFILE', soft, hard }], as the spec's
// triples [resource, soft, hard] (-1: unlimited).
import { invalidArg, invalidValue } from '../core/errors';
import { RLIMIT_NUMBERS } from '../sys/constants';

/** A limit value: a non-negative integer, or 'unlimited' / Infinity (RLIM_INFINITY). */
export type RlimitValue = number | 'unlimited';

/** { nofile: [soft, hard], NPROC: [..], RLIMIT_CORE: [..] }, names in any case; or the OCI process.rlimits list. */
export type RlimitsOption =
  | Readonly<Record<string, readonly [RlimitValue, RlimitValue]>>
  | readonly { type: string; soft: RlimitValue; hard: RlimitValue }[];

function resource(name: unknown, where: string): number {
  if (typeof name !== 'string') throw invalidArg(where, 'an rlimit name (e.g. "nofile" or "RLIMIT_NOFILE")', name);
  const key = name.toUpperCase().replace(/^RLIMIT_/, '');
  const n = Object.hasOwn(RLIMIT_NUMBERS, key) ? RLIMIT_NUMBERS[key] : undefined;
  if (n === undefined) throw invalidValue(where, 'is not an rlimit name', name);
  return n;
}

function value(v: unknown, where: string): number {
  if (v === 'unlimited' || v === Infinity) return -1;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalidArg(where, "a non-negative integer or 'unlimited'", v);
  return v;
}

/** Checks the option into [resource, soft, hard] triples. */
export function rlimitTriples(option: unknown, where = 'options.rlimits'): number[] {
  if (option === null || typeof option !== 'object') throw invalidArg(where, 'an object { nofile: [soft, hard], ... } or an OCI rlimits list', option);
  const entries: [unknown, unknown, unknown, string][] = Array.isArray(option)
    ? (option as unknown[]).map((e, i) => {
        if (e === null || typeof e !== 'object') throw invalidArg(`${where}[${i}]`, '{ type, soft, hard }', e);
        const r = e as Record<string, unknown>;
        return [r.type, r.soft, r.hard, `${where}[${i}]`];
      })
    : Object.entries(option as Record<string, unknown>).map(([k, v]) => {
        if (!Array.isArray(v) || v.length !== 2) throw invalidArg(`${where}.${k}`, '[soft, hard]', v);
        return [k, v[0], v[1], `${where}.${k}`];
      });
  const out: number[] = [];
  const seen = new Set<number>();
  for (const [type, soft, hard, w] of entries) {
    const r = resource(type, w);
    if (seen.has(r)) throw invalidValue(w, 'is given twice', type);
    seen.add(r);
    const s = value(soft, `${w} soft`);
    const h = value(hard, `${w} hard`);
    if (h !== -1 && (s === -1 || s > h)) throw invalidValue(w, 'soft limit above the hard limit (setrlimit refuses it)', [soft, hard]);
    out.push(r, s, h);
  }
  return out;
}
