// `nsfd ls` output in lsns's columns (and nsfd's own beside them): as a
// table, raw, or JSON with lsns's key names.
import * as fs from 'node:fs';

import type { NamespaceInfo, NsSource } from '../index';
import { readStatus } from '../core/proc';
import { procRead } from '../core/procfs';
import { out } from './output';

/** lsns's columns (2.38; OWNER and PARENT as newer names of ONS and PNS), then nsfd's. */
export const COLUMNS = ['NS', 'TYPE', 'PATH', 'NPROCS', 'PID', 'PPID', 'COMMAND', 'UID', 'USER', 'NETNSID', 'NSFS', 'PNS', 'ONS', 'PARENT', 'OWNER', 'NSID', 'HELD'] as const;
export type Column = (typeof COLUMNS)[number];
/** Numbers in JSON, right-aligned in tables. */
const NUMERIC: ReadonlySet<Column> = new Set(['NS', 'NPROCS', 'PID', 'PPID', 'UID', 'PNS', 'ONS', 'PARENT', 'OWNER']);
/** Right-aligned in tables: the numbers, and NETNSID (a string in lsns's JSON). */
const RIGHT: ReadonlySet<Column> = new Set([...NUMERIC, 'NETNSID']);

/** Values that are not in a NamespaceInfo, looked up beforehand: NETNSID by inode (ls-netnsid.ts). */
export interface Lookups {
  netnsids?: ReadonlyMap<number, string>;
}
export const DEFAULT_COLUMNS: readonly Column[] = ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'COMMAND'];
/** lsns -t net adds these. */
export const NET_COLUMNS: readonly Column[] = ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'NETNSID', 'NSFS', 'COMMAND'];

export function isColumn(c: string): c is Column {
  return (COLUMNS as readonly string[]).includes(c);
}

let users: Map<number, string> | undefined;

/** The name of `uid` from /etc/passwd (read once), else the number. */
function userName(uid: number | undefined): string {
  if (uid === undefined) return '';
  if (users === undefined) {
    users = new Map();
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name = '', , id] = line.split(':');
        if (id !== undefined && !users.has(Number(id))) users.set(Number(id), name);
      }
    } catch {
      // numbers then
    }
  }
  return users.get(uid) ?? String(uid);
}

/** PPid of a process, through our procfs (a display value: the row's pid may be gone by now). */
export function ppidOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const ppid = readStatus(pid)?.get('PPid');
  return ppid === undefined ? undefined : Number(ppid);
}

/** User name and command line of a process, for display (it may be gone: then nulls). */
export function processOf(pid: number): { user: string | null; command: string | null } {
  let user: string | null = null;
  let command: string | null = null;
  const euid = readStatus(pid)?.get('Uid')?.split(/\s+/)[1];
  if (euid !== undefined) user = userName(Number(euid));
  const argv = procRead(`${pid}/cmdline`, 'utf8')?.replace(/\0+$/, '');
  if (argv !== undefined) command = argv === '' ? (procRead(`${pid}/comm`, 'utf8')?.trim() ?? null) : argv.replace(/\0/g, ' ');
  return { user, command };
}

const HELD: Record<NsSource, string> = { listns: 'listns', process: 'proc', thread: 'thread', fd: 'fd', socket: 'socket', mount: 'mount', hierarchy: 'owner' };

function held(ns: NamespaceInfo): string {
  const s = ns.sources.filter((x) => x !== 'listns').map((x) => HELD[x]);
  return s.length ? s.join(',') : 'listns';
}

/** lsns's PATH: /proc/PID/ns/TYPE; for a namespace no process is in, where it is held (an fd, a bind mount). */
function pathOf(ns: NamespaceInfo): string | undefined {
  if (ns.pids.length > 0) return `/proc/${ns.pids[0]}/ns/${ns.type}`;
  const h = ns.holders[0];
  if (h !== undefined) return `/proc/${h.pid}/fd/${h.fd}`;
  return ns.persisted[0];
}

/** One cell's value: a number, a string, or null (lsns's JSON null; empty in tables). */
export function value(ns: NamespaceInfo, c: Column, lookups: Lookups = {}): string | number | null {
  switch (c) {
    case 'NS':
      return ns.inode;
    case 'TYPE':
      return ns.type;
    case 'PATH':
      return pathOf(ns) ?? null;
    case 'NPROCS':
      return ns.pids.length;
    case 'PID':
      return ns.pid ?? null;
    case 'PPID':
      return ppidOf(ns.pid) ?? null;
    case 'COMMAND':
      return ns.command ?? null;
    case 'UID':
      return ns.uid ?? null;
    case 'USER':
      return ns.uid === undefined ? null : userName(ns.uid);
    case 'NETNSID':
      return lookups.netnsids?.get(ns.inode) ?? null;
    case 'NSFS':
      return ns.persisted.length ? ns.persisted.join('\n') : null;
    case 'PNS':
    case 'PARENT':
      return ns.parentInode ?? 0;
    case 'ONS':
    case 'OWNER':
      return ns.ownerInode ?? 0;
    case 'NSID':
      return ns.id === undefined ? null : ns.id.toString();
    case 'HELD':
      return held(ns);
  }
}

/**
 * A table cell on one line that cannot drive the terminal: C0 and C1
 * controls (a UTF-8 U+009B is a CSI to a terminal) as \xHH, as lsns writes
 * them; bidi controls (which reorder what follows) and line/paragraph
 * separators as \uHHHH. JSON output keeps them as they are.
 */
function safe(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** Raw output (lsns -r) also escapes the separator. */
function raw(s: string): string {
  return safe(s).replace(/ /g, '\\x20');
}

function cell(ns: NamespaceInfo, c: Column, lookups: Lookups): string {
  const v = value(ns, c, lookups);
  if (v === null) return '';
  // NSFS lists its mount points one per line in JSON, comma-separated here.
  return c === 'NSFS' ? String(v).replace(/\n/g, ',') : String(v);
}

export interface TableOptions {
  headings: boolean;
  raw: boolean;
  truncate: boolean;
  /** Tree-drawing prefixes of the NS column, one per row. */
  prefixes?: readonly string[];
  lookups?: Lookups;
}

/** Rows in aligned columns (lsns's table), or separated by one space (lsns -r). */
export function printTable(list: readonly NamespaceInfo[], cols: readonly Column[], o: TableOptions): void {
  const rows = list.map((ns, i) => cols.map((c) => (c === 'NS' && o.prefixes ? (o.prefixes[i] ?? '') : '') + cell(ns, c, o.lookups ?? {})));
  printRows(cols, rows, o);
}

/**
 * The terminal's width when stdout is one, else 0. A character device is
 * asked first: process.stdout (and node:tty) cost ~3 ms of start-up to
 * build, needed only on a terminal (/dev/null is one too: columns is then
 * undefined).
 */
function terminalColumns(): number {
  let chr = false;
  try {
    chr = fs.fstatSync(1).isCharacterDevice();
  } catch {
    return 0;
  }
  return chr ? (process.stdout.columns ?? 0) : 0;
}

export function printRows(cols: readonly string[], rows: readonly (readonly string[])[], o: TableOptions): void {
  if (o.raw) {
    if (o.headings) out(cols.join(' '));
    for (const r of rows) out(r.map(raw).join(' '));
    return;
  }
  const shown = rows.map((r) => r.map(safe));
  const width = cols.map((c, k) => Math.max(o.headings ? c.length : 0, ...shown.map((r) => (r[k] ?? '').length)));
  const last = cols.length - 1;
  const max = o.truncate ? terminalColumns() : 0;
  const fmt = (r: readonly string[]): string => {
    let line = r
      .map((v, k) => {
        const w = width[k] ?? 0;
        // (A right-aligned last column is padded too, as lsns does; a left-aligned one is not.)
        if (RIGHT.has(cols[k] as Column) && !(cols[k] === 'NS' && o.prefixes)) return v.padStart(w);
        return k === last ? v : v.padEnd(w);
      })
      .join(' ')
      .trimEnd();
    if (max && line.length > max) line = line.slice(0, max - 1) + '…';
    return line;
  };
  if (o.headings) out(fmt(cols));
  for (const r of shown) out(fmt(r));
}

/** lsns -J's object for a namespace (its key names for `cols`), then nsfd's fields beside them. */
export function jsonOf(ns: NamespaceInfo, cols: readonly Column[], lookups: Lookups = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of cols) o[c.toLowerCase()] = value(ns, c, lookups);
  for (const [k, v] of Object.entries(ns)) if (!(k in o)) o[k] = v;
  return o;
}
