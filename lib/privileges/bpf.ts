// A small classic-BPF assembler for seccomp filters: instructions with
// label targets, resolved into the (code | jt << 16 | jf << 24, k) word
// pairs native spawn_clone3 copies into a struct sock_filter array.
import {
  BPF_ALU_AND_K,
  BPF_JMP_JA,
  BPF_JMP_JEQ_K,
  BPF_JMP_JGE_K,
  BPF_JMP_JGT_K,
  BPF_LD_W_ABS,
  BPF_MAXINSNS,
  BPF_RET_K,
} from '../sys/constants';

/** A jump target: a label, or undefined for the next instruction. */
type Target = string | undefined;

interface Insn {
  code: number;
  k: number;
  jt?: Target;
  jf?: Target;
}

export class Bpf {
  readonly #insns: Insn[] = [];
  readonly #labels = new Map<string, number>();
  #next = 0;

  /** A fresh label name. */
  label(): string {
    return `L${this.#next++}`;
  }
  /** Places a label at the next instruction. */
  here(label: string): void {
    this.#labels.set(label, this.#insns.length);
  }
  load(offset: number): void {
    this.#insns.push({ code: BPF_LD_W_ABS, k: offset });
  }
  and(k: number): void {
    this.#insns.push({ code: BPF_ALU_AND_K, k: k >>> 0 });
  }
  jeq(k: number, jt: Target, jf: Target): void {
    this.#insns.push({ code: BPF_JMP_JEQ_K, k: k >>> 0, jt, jf });
  }
  jgt(k: number, jt: Target, jf: Target): void {
    this.#insns.push({ code: BPF_JMP_JGT_K, k: k >>> 0, jt, jf });
  }
  jge(k: number, jt: Target, jf: Target): void {
    this.#insns.push({ code: BPF_JMP_JGE_K, k: k >>> 0, jt, jf });
  }
  /** Unconditional jump (32-bit offset: any distance). */
  ja(to: string): void {
    this.#insns.push({ code: BPF_JMP_JA, k: 0, jt: to });
  }
  ret(k: number): void {
    this.#insns.push({ code: BPF_RET_K, k: k >>> 0 });
  }

  get length(): number {
    return this.#insns.length;
  }

  /** The program as word pairs. Conditional jumps reach 255 instructions at most: the compiler keeps them short. */
  words(): number[] {
    if (this.#insns.length > BPF_MAXINSNS) throw new RangeError(`seccomp filter of ${this.#insns.length} instructions: the kernel takes at most ${BPF_MAXINSNS}`);
    const out: number[] = [];
    this.#insns.forEach((ins, i) => {
      const off = (t: Target): number => {
        if (t === undefined) return 0;
        const at = this.#labels.get(t);
        if (at === undefined || at <= i) throw new Error(`nsfd: seccomp compiler: bad label ${t}`);
        return at - i - 1;
      };
      if (ins.code === BPF_JMP_JA) {
        out.push(ins.code, off(ins.jt));
        return;
      }
      const jt = off(ins.jt);
      const jf = off(ins.jf);
      if (jt > 255 || jf > 255) throw new Error('nsfd: seccomp compiler: conditional jump out of reach');
      out.push((ins.code | (jt << 16) | (jf << 24)) >>> 0, ins.k);
    });
    return out;
  }
}
