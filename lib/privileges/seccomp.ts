// Seccomp filters: rules (syscall number, argument comparisons, action)
// compiled to classic BPF for the native arch, from an OCI seccomp profile
// or from nsfd's default profile (default-profile.ts).
import * as os from 'node:os';

import { invalidArg, invalidValue } from '../core/errors';
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_X86_64,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_ARGS,
  SECCOMP_DATA_NR,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  X32_SYSCALL_BIT,
} from '../sys/constants';
import { SYSCALLS_AARCH64, SYSCALLS_X86_64 } from '../sys/syscalls';
import { Bpf } from './bpf';

export type ArgOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'masked_eq';
/** args[index] op value (masked_eq: (args[index] & value) === valueTwo), 64-bit unsigned. */
export interface ArgCmp {
  index: number;
  op: ArgOp;
  value: bigint;
  valueTwo: bigint;
}
/** First match wins among the rules of one syscall; the action is a SECCOMP_RET_* value. */
export interface SeccompRule {
  nr: number;
  action: number;
  args: readonly ArgCmp[];
}
export interface SeccompFilter {
  defaultAction: number;
  rules: readonly SeccompRule[];
}

/** The OCI runtime spec's linux.seccomp (the fields nsfd reads). */
export interface OciSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: readonly string[];
  flags?: readonly string[];
  syscalls?: readonly OciSeccompSyscall[];
}

/** One rule of an OCI seccomp profile: the action for these syscalls (when their arguments match). */
export interface OciSeccompSyscall {
  names: readonly string[];
  action: string;
  errnoRet?: number;
  args?: readonly { index: number; value: number | bigint; valueTwo?: number | bigint; op: string }[];
}

/** The seccomp option: nsfd's default profile, none, or an OCI profile. */
export type SeccompOption = 'default' | false | OciSeccompProfile;

export const EPERM = os.constants.errno.EPERM;
export const ENOSYS = os.constants.errno.ENOSYS;

/** The native arch: its AUDIT_ARCH_* and its syscall table. */
export function nativeArch(): { audit: number; table: Readonly<Record<string, number>>; x32: boolean } {
  if (process.arch === 'x64') return { audit: AUDIT_ARCH_X86_64, table: SYSCALLS_X86_64, x32: true };
  if (process.arch === 'arm64') return { audit: AUDIT_ARCH_AARCH64, table: SYSCALLS_AARCH64, x32: false };
  throw new Error(`nsfd: seccomp: no syscall table for ${process.arch}`);
}

/** SECCOMP_RET_ERRNO carries the errno in its data bits; errnos end at MAX_ERRNO (4095). */
const MAX_ERRNO_DATA = 4095;

export function errnoAction(errno: number): number {
  return (SECCOMP_RET_ERRNO | errno) >>> 0;
}
export const ALLOW = SECCOMP_RET_ALLOW;

/** Emits one 64-bit comparison; jumps to `fail` when it does not hold. */
function emitCmp(b: Bpf, c: ArgCmp, fail: string): void {
  const lo = SECCOMP_DATA_ARGS + 8 * c.index; // little-endian: low word first (x86_64, aarch64)
  const hi = lo + 4;
  const vhi = Number((c.value >> 32n) & 0xffffffffn);
  const vlo = Number(c.value & 0xffffffffn);
  const ok = b.label();
  switch (c.op) {
    case 'eq':
      b.load(hi); b.jeq(vhi, undefined, fail);
      b.load(lo); b.jeq(vlo, undefined, fail);
      break;
    case 'ne':
      b.load(hi); b.jeq(vhi, undefined, ok);
      b.load(lo); b.jeq(vlo, fail, undefined);
      break;
    case 'masked_eq': {
      const dhi = Number((c.valueTwo >> 32n) & 0xffffffffn);
      const dlo = Number(c.valueTwo & 0xffffffffn);
      b.load(hi); b.and(vhi); b.jeq(dhi, undefined, fail);
      b.load(lo); b.and(vlo); b.jeq(dlo, undefined, fail);
      break;
    }
    case 'gt':
    case 'ge':
      b.load(hi); b.jgt(vhi, ok, undefined); b.jeq(vhi, undefined, fail);
      b.load(lo);
      if (c.op === 'gt') b.jgt(vlo, undefined, fail);
      else b.jge(vlo, undefined, fail);
      break;
    case 'lt': // not ge
    case 'le': // not gt
      b.load(hi); b.jgt(vhi, fail, undefined); b.jeq(vhi, undefined, ok);
      b.load(lo);
      if (c.op === 'lt') b.jge(vlo, fail, undefined);
      else b.jgt(vlo, fail, undefined);
      break;
  }
  b.here(ok);
}

/**
 * The filter as BPF word pairs for the native arch. A syscall of another
 * ABI (another AUDIT_ARCH: i386 or arm32 compat; x32 numbers on x86_64)
 * kills the process: the rules name native numbers only.
 */
export function compileFilter(f: SeccompFilter): number[] {
  const arch = nativeArch();
  const b = new Bpf();
  const archOk = b.label();
  b.load(SECCOMP_DATA_ARCH);
  b.jeq(arch.audit, archOk, undefined);
  b.ret(SECCOMP_RET_KILL_PROCESS);
  b.here(archOk);
  b.load(SECCOMP_DATA_NR);
  if (arch.x32) {
    const nrOk = b.label();
    b.jge(X32_SYSCALL_BIT, undefined, nrOk);
    b.ret(SECCOMP_RET_KILL_PROCESS);
    b.here(nrOk);
  }
  // Rules per syscall, in order of first appearance.
  const bySys = new Map<number, SeccompRule[]>();
  for (const r of f.rules) {
    const list = bySys.get(r.nr) ?? [];
    list.push(r);
    bySys.set(r.nr, list);
  }
  // Syscalls decided without their arguments: one jeq each, to a ret shared by a chunk.
  const simple = new Map<number, number[]>();
  for (const [nr, rules] of bySys) {
    const first = rules[0] as SeccompRule;
    if (first.args.length > 0) continue;
    bySys.delete(nr);
    if (first.action === f.defaultAction) continue;
    simple.set(first.action, [...(simple.get(first.action) ?? []), nr]);
  }
  for (const [action, nrs] of simple) {
    for (let i = 0; i < nrs.length; i += 200) {
      const hit = b.label();
      const past = b.label();
      for (const nr of nrs.slice(i, i + 200)) b.jeq(nr, hit, undefined);
      b.ja(past);
      b.here(hit);
      b.ret(action);
      b.here(past);
    }
  }
  // The others: each rule's comparisons, first match wins, else the default.
  for (const [nr, rules] of bySys) {
    const body = b.label();
    const next = b.label();
    b.jeq(nr, body, undefined);
    b.ja(next);
    b.here(body);
    for (const r of rules) {
      const fail = b.label();
      for (const c of r.args) emitCmp(b, c, fail);
      b.ret(r.action);
      b.here(fail);
      if (r.args.length === 0) break; // later rules are unreachable
    }
    b.ret(f.defaultAction);
    b.here(next);
  }
  b.ret(f.defaultAction);
  return b.words();
}

// --- OCI profiles ---------------------------------------------------------

const ACTIONS: Readonly<Record<string, number | 'errno' | 'trace'>> = {
  SCMP_ACT_ALLOW: SECCOMP_RET_ALLOW,
  SCMP_ACT_KILL: SECCOMP_RET_KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SECCOMP_RET_KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SECCOMP_RET_KILL_PROCESS,
  SCMP_ACT_TRAP: SECCOMP_RET_TRAP,
  SCMP_ACT_LOG: SECCOMP_RET_LOG,
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_TRACE: 'trace',
};
const OPS: Readonly<Record<string, ArgOp>> = {
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_MASKED_EQ: 'masked_eq',
};
const U64_MAX = (1n << 64n) - 1n;

function action(name: unknown, errnoRet: unknown, where: string): number {
  const a = typeof name === 'string' && Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
  if (a === undefined) {
    throw invalidValue(where, `is not a supported action (${Object.keys(ACTIONS).join(', ')}; SCMP_ACT_NOTIFY is not supported)`, name);
  }
  if (typeof a === 'number') return a;
  const e = errnoRet ?? EPERM;
  if (typeof e !== 'number' || !Number.isInteger(e) || e < 0 || e > MAX_ERRNO_DATA) throw invalidArg(`${where} errnoRet`, 'an errno number', e);
  return ((a === 'errno' ? SECCOMP_RET_ERRNO : SECCOMP_RET_TRACE) | e) >>> 0;
}

function u64(v: unknown, where: string): bigint {
  if (typeof v === 'bigint' && v >= 0n && v <= U64_MAX) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw invalidArg(where, 'an unsigned 64-bit integer (a number up to 2^53 - 1, or a bigint)', v);
}

/**
 * An OCI profile as rules for the native arch. Syscall names this arch
 * does not have are ignored, as runc (libseccomp) ignores them: one
 * profile serves several architectures. `architectures` is checked for
 * form only: the filter handles the native arch and kills every other ABI.
 */
export function ociFilter(profile: unknown, where = 'options.seccomp'): SeccompFilter {
  if (profile === null || typeof profile !== 'object' || Array.isArray(profile)) throw invalidArg(where, "'default', false, or an OCI seccomp profile", profile);
  const p = profile as Record<string, unknown>;
  if ('listenerPath' in p && p.listenerPath !== undefined && p.listenerPath !== '') throw invalidValue(`${where}.listenerPath`, 'seccomp notify is not supported', p.listenerPath);
  const defaultAction = action(p.defaultAction, p.defaultErrnoRet, `${where}.defaultAction`);
  if (p.architectures !== undefined) {
    if (!Array.isArray(p.architectures)) throw invalidArg(`${where}.architectures`, 'an array of SCMP_ARCH_* names', p.architectures);
    (p.architectures as unknown[]).forEach((a, i) => {
      if (typeof a !== 'string' || !/^SCMP_ARCH_[A-Z0-9_]+$/.test(a)) throw invalidValue(`${where}.architectures[${i}]`, 'is not an SCMP_ARCH_* name', a);
    });
  }
  if (p.flags !== undefined && !Array.isArray(p.flags)) throw invalidArg(`${where}.flags`, 'an array', p.flags);
  const table = nativeArch().table;
  const rules: SeccompRule[] = [];
  const syscalls = p.syscalls ?? [];
  if (!Array.isArray(syscalls)) throw invalidArg(`${where}.syscalls`, 'an array', syscalls);
  (syscalls as unknown[]).forEach((s, i) => {
    const w = `${where}.syscalls[${i}]`;
    if (s === null || typeof s !== 'object') throw invalidArg(w, '{ names, action, errnoRet?, args? }', s);
    const sc = s as Record<string, unknown>;
    const names = sc.names ?? (typeof sc.name === 'string' ? [sc.name] : undefined);
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw invalidArg(`${w}.names`, 'an array of syscall names', names);
    const act = action(sc.action, sc.errnoRet, `${w}.action`);
    const argList = sc.args ?? [];
    if (!Array.isArray(argList) || argList.length > 6) throw invalidArg(`${w}.args`, 'an array of at most 6 comparisons', argList);
    const args = (argList as unknown[]).map((a, j): ArgCmp => {
      const aw = `${w}.args[${j}]`;
      if (a === null || typeof a !== 'object') throw invalidArg(aw, '{ index, value, valueTwo?, op }', a);
      const c = a as Record<string, unknown>;
      if (typeof c.index !== 'number' || !Number.isInteger(c.index) || c.index < 0 || c.index > 5) throw invalidArg(`${aw}.index`, 'an integer 0..5', c.index);
      const op = typeof c.op === 'string' && Object.hasOwn(OPS, c.op) ? OPS[c.op] : undefined;
      if (op === undefined) throw invalidValue(`${aw}.op`, `is not one of ${Object.keys(OPS).join(', ')}`, c.op);
      return { index: c.index, op, value: u64(c.value, `${aw}.value`), valueTwo: c.valueTwo === undefined ? 0n : u64(c.valueTwo, `${aw}.valueTwo`) };
    });
    for (const n of names as string[]) {
      const nr = Object.hasOwn(table, n) ? table[n] : undefined;
      if (nr !== undefined) rules.push({ nr, action: act, args });
    }
  });
  return { defaultAction, rules };
}
