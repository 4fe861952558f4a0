// `nsfd ls` as a table (and as trees of table rows), in the manner of lsns.
import * as fs from 'node:fs';

import type { NamespaceInfo, NamespaceTreeNode, NsSource } from '../index';
import { out } from './output';

const COLUMNS = ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'NSID', 'HELD', 'PATH', 'COMMAND'] as const;
type Column = (typeof COLUMNS)[number];
type Row = Record<Column, string>;
const RIGHT: ReadonlySet<Column> = new Set(['NS', 'NPROCS', 'PID', 'NSID']);

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

const HELD: Record<NsSource, string> = { listns: 'listns', process: 'proc', thread: 'thread', fd: 'fd', socket: 'socket', mount: 'mount', hierarchy: 'owner' };

function held(ns: NamespaceInfo): string {
  const s = ns.sources.filter((x) => x !== 'listns').map((x) => HELD[x]);
  return s.length ? s.join(',') : 'listns';
}

function pathsOf(ns: NamespaceInfo): string {
  const p = [...ns.persisted, ...ns.mountsElsewhere.map((m) => `mnt:[${m.mntns}]${m.path}`)];
  return p.join(',');
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

export function row(ns: NamespaceInfo): Row {
  return {
    NS: String(ns.inode),
    TYPE: ns.type,
    NPROCS: String(ns.pids.length),
    PID: ns.pid === undefined ? '' : String(ns.pid),
    USER: userName(ns.uid),
    NSID: ns.id === undefined ? '' : String(ns.id),
    HELD: held(ns),
    PATH: safe(pathsOf(ns)),
    COMMAND: safe(ns.command ?? ''),
  };
}

interface TableOptions {
  headings?: boolean;
  /** Tree-drawing prefixes of the NS column, one per row. */
  prefixes?: readonly string[];
}

/** Rows in aligned columns; empty columns (but NS and COMMAND) left out; cut at the terminal's width. */
export function printTable(rows: readonly Row[], { headings = true, prefixes }: TableOptions = {}): void {
  const prefix = (i: number): string => (prefixes === undefined || i < 0 ? '' : prefixes[i] ?? '');
  const cols = COLUMNS.filter((c) => c === 'COMMAND' || c === 'NS' || rows.some((r) => r[c] !== ''));
  const width = new Map<Column, number>();
  for (const c of cols) width.set(c, Math.max(headings ? c.length : 0, ...rows.map((r, i) => r[c].length + (c === 'NS' ? prefix(i).length : 0))));
  const fmt = (r: Row, i: number): string => {
    const cells = cols.map((c) => {
      let v = r[c];
      if (c === 'NS' && prefixes) v = prefix(i) + v;
      if (c === 'COMMAND') return v;
      const w = width.get(c) ?? 0;
      return RIGHT.has(c) && !(c === 'NS' && prefixes) ? v.padStart(w) : v.padEnd(w);
    });
    let line = cells.join(' ').trimEnd();
    const max = process.stdout.isTTY ? process.stdout.columns : 0;
    if (max && line.length > max) line = line.slice(0, max - 1) + '…';
    return line;
  };
  if (headings) out(fmt({ NS: 'NS', TYPE: 'TYPE', NPROCS: 'NPROCS', PID: 'PID', USER: 'USER', NSID: 'NSID', HELD: 'HELD', PATH: 'PATH', COMMAND: 'COMMAND' }, -1));
  rows.forEach((r, i) => out(fmt(r, i)));
}

/** Rows for `nodes` and their descendants, with tree-drawing prefixes for the NS column. */
function flattenTree(nodes: readonly NamespaceTreeNode[], prefix: string, rows: Row[], prefixes: string[]): void {
  nodes.forEach((n, i) => {
    const last = i === nodes.length - 1;
    rows.push(row(n.ns));
    prefixes.push(prefix + (last ? '└─' : '├─'));
    flattenTree(n.children, prefix + (last ? '  ' : '│ '), rows, prefixes);
  });
}

export function printForest(title: string, nodes: readonly NamespaceTreeNode[], headings: boolean): void {
  out(title);
  const rows: Row[] = [];
  const prefixes: string[] = [];
  for (const root of nodes) {
    rows.push(row(root.ns));
    prefixes.push('');
    flattenTree(root.children, '', rows, prefixes);
  }
  if (rows.length === 0) out('  (none)');
  else printTable(rows, { headings, prefixes });
}
