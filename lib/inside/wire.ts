// The wire to native/inns.cc: op ids, each op's argument slots, the step a
// failure happened at, the helper and socket-option bits. All numbers come
// from the addon (native.inns_wire, defined once in native/inns.h); this
// module only names them and lays a call's named arguments out in the
// order the addon gives.
import { InnsOp, InnsSlots, InnsWire, native } from '../sys/native';

const WIRE = loadWire();

// An addon built from older sources (a stale build/ or NSFD_NATIVE_PATH)
// has no wire: say so at load rather than fail on the first operation.
function loadWire(): InnsWire {
  const w = native.inns_wire as InnsWire | undefined;
  if (w === undefined) throw new Error('nsfd: the native addon has no inns_wire (built from older sources?): rebuild it with npm run build');
  return w;
}

/**
 * inns_helper flags: act as the joined user namespace's root (no
 * supplementary groups, ids 0 where mapped); require that, else fail; run
 * in a grandchild inside the joined pid namespace.
 */
export const HELPER_BECOME_ROOT = WIRE.helper.becomeRoot;
export const HELPER_REQUIRE_ROOT = WIRE.helper.requireRoot;
export const HELPER_INTO_PIDNS = WIRE.helper.intoPidns;

/** Bits of the socket op's sockopt slot. */
export const SOCKOPT = WIRE.sockopt;

/** [result or -errno, step, index, kernel message], as every inns_* returns. */
export type Raw = [number, number, number, string];

/**
 * One operation, its arguments by slot name; laid out for the addon by
 * `layout`. The `root` slot (a directory fd to resolve under, -1 for "/")
 * is not the op's to choose: runUnderRoot fills it in.
 */
export interface OpCall {
  readonly op: InnsOp;
  readonly ints: Readonly<Record<string, number>>;
  readonly strs: Readonly<Record<string, string>>;
  /** Strings after the named ones (fsmount's options). */
  readonly rest?: readonly string[];
  readonly buf?: Buffer | undefined;
}

/** An OpCall whose slot names are checked against the op's (InnsSlots). */
export function opCall<O extends InnsOp>(
  op: O,
  ints: Record<Exclude<InnsSlots[O]['ints'], 'root'>, number>,
  strs: Record<InnsSlots[O]['strs'], string>,
  extra: { rest?: readonly string[]; buf?: Buffer | undefined } = {},
): OpCall {
  return { op, ints, strs, ...extra };
}

/** The call as the addon takes it: op id and positional arrays, `root` in the root slot. */
export function layout(c: OpCall, root?: number): { op: number; ints: number[]; strs: string[] } {
  const slots = WIRE.slots[c.op];
  const ints = slots.ints.map((name) => (name === 'root' ? root : c.ints[name]) ?? missing(c.op, name));
  const strs = slots.strs.map((name) => c.strs[name] ?? missing(c.op, name));
  return { op: WIRE.ops[c.op], ints, strs: c.rest ? [...strs, ...c.rest] : strs };
}

// Only when the addon and this module disagree (a slot added on one side).
function missing(op: string, name: string): never {
  throw new Error(`nsfd: inns op ${op}: no value for native slot ${name}`);
}

/** The syscall a raw result failed in ('inns' when the step names none). */
export function stepOf(r: Raw): string {
  return WIRE.steps[r[1]] || 'inns';
}
