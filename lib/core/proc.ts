// Small /proc readers, through our own procfs (procfs.ts). Anything read
// here about a process must be rechecked against its pidfd afterwards (the
// pid may have been reused meanwhile).
import * as os from 'node:os';

import { procRead } from './procfs';

/** Fields of /proc/<pid>/status (or task/<tid>/status), or undefined if gone. */
export function readStatus(pid: number | 'self', tid?: number): Map<string, string> | undefined {
  const text = procRead(tid === undefined ? `${pid}/status` : `${pid}/task/${tid}/status`);
  return text === undefined ? undefined : statusFields(text);
}

/** Fields of the text of a /proc status file (empty for ''). */
export function statusFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    // "Field:\tvalue": the value as the kernel wrote it (a Name may hold spaces).
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).replace(/^\t/, ''));
  }
  return out;
}

export function numbers(field: string | undefined): number[] {
  if (field === undefined || field === '') return [];
  return field.split(/\s+/).map(Number);
}

/** Kernel release as [major, minor]. */
export function kernelVersion(): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(os.release());
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

export function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = kernelVersion();
  return a > major || (a === major && b >= minor);
}
