// nsfd ls: lsns(8)'s options, columns and JSON keys, over listNamespaces()
// (which also finds namespaces held only by an fd, a socket or a bind
// mount).
import type { NamespaceInfo, NamespaceTreeNode, NsType } from '../index';
// From their module, not lib/index.ts: the bundle of this command then holds
// only the listing code (index also installs Namespace.create, which pulls in spawn).
import { buildNamespaceTree, listNamespaces } from '../list';
import { UsageError, checkType, intArg } from './args';
import { getopt } from './getopt';
import { COLUMNS, type Column, DEFAULT_COLUMNS, type Lookups, NET_COLUMNS, isColumn, jsonOf, ppidOf, printRows, printTable, processOf } from './ls-table';
import { jsonReplacer, out } from './output';
import type * as NetnsidModule from './ls-netnsid';

const SPECS = [
  { long: 'json', short: 'J', arg: 'none' },
  { long: 'list', short: 'l', arg: 'none' },
  { long: 'noheadings', short: 'n', arg: 'none' },
  { long: 'output', short: 'o', arg: 'required' },
  { long: 'output-all', arg: 'none' },
  { long: 'task', short: 'p', arg: 'required' },
  { long: 'raw', short: 'r', arg: 'none' },
  { long: 'notruncate', short: 'u', arg: 'none' },
  { long: 'nowrap', short: 'W', arg: 'none' },
  { long: 'type', short: 't', arg: 'required' },
  { long: 'tree', short: 'T', arg: 'optional' },
  { long: 'help', short: 'h', arg: 'none' },
] as const;

interface LsRequest {
  json: boolean;
  list: boolean;
  headings: boolean;
  raw: boolean;
  truncate: boolean;
  output: string | undefined;
  outputAll: boolean;
  task: number | undefined;
  types: NsType[];
  tree: 'owner' | 'parent' | undefined;
  inode: number | undefined;
}

function parseLsArgs(args: readonly string[]): LsRequest {
  const { opts, positionals } = getopt(args, SPECS, false);
  const req: LsRequest = { json: false, list: false, headings: true, raw: false, truncate: true, output: undefined, outputAll: false, task: undefined, types: [], tree: undefined, inode: undefined };
  for (const { name, value } of opts) {
    if (name === 'json') req.json = true;
    else if (name === 'list') req.list = true;
    else if (name === 'noheadings') req.headings = false;
    else if (name === 'raw') req.raw = true;
    else if (name === 'notruncate') req.truncate = false;
    else if (name === 'output') req.output = value;
    else if (name === 'output-all') req.outputAll = true;
    else if (name === 'task') req.task = intArg(value, '--task', 1);
    else if (name === 'type') req.types.push(checkType(value) as NsType);
    else if (name === 'tree') {
      if (value !== undefined && value !== 'owner' && value !== 'parent') throw new UsageError(`--tree: '${value}' is not supported (owner or parent)`);
      req.tree = value ?? 'owner';
    }
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const ns = positionals[0];
  if (ns !== undefined) {
    if (!/^[1-9]\d{0,15}$/.test(ns)) throw new UsageError(`namespace must be an inode number, not '${ns}'`);
    req.inode = Number(ns);
  }
  if (req.list && req.tree) throw new UsageError('--list and --tree are exclusive');
  return req;
}

/** -o: lsns's syntax, a list of columns, or +LIST to add to the default. */
function columnsOf(req: LsRequest): Column[] {
  const base = req.types.length === 1 && req.types[0] === 'net' ? NET_COLUMNS : DEFAULT_COLUMNS;
  if (req.outputAll) return COLUMNS.filter((c) => c !== 'PARENT' && c !== 'OWNER');
  if (req.output === undefined) return [...base];
  const add = req.output.startsWith('+');
  const names = (add ? req.output.slice(1) : req.output).split(',').map((c) => c.trim().toUpperCase());
  for (const c of names) if (!isColumn(c)) throw new UsageError(`unknown column: ${c} (${COLUMNS.join(', ')})`);
  return add ? [...base, ...(names as Column[])] : (names as Column[]);
}

export async function cmdLs(args: readonly string[]): Promise<number> {
  const req = parseLsArgs(args);
  const cols = columnsOf(req);
  // One type: the library reads only that link of each process.
  const only = req.types.length === 1 && req.tree === undefined ? req.types[0] : undefined;
  let list = await listNamespaces(only === undefined ? {} : { type: only });
  if (req.inode !== undefined) return showProcesses(list, req);
  if (req.types.length > 0) list = list.filter((ns) => req.types.includes(ns.type));
  const task = req.task;
  if (task !== undefined) list = list.filter((ns) => ns.pids.includes(task));
  // (Loaded only for this column: it needs rtnetlink.)
  const lookups: Lookups = cols.includes('NETNSID') ? { netnsids: (require('./ls-netnsid') as typeof NetnsidModule).netnsidsOf(list) } : {};
  if (req.tree !== undefined) {
    // Only the rows wanted, nested by owner (or parent) as far as those rows go.
    const forest = buildNamespaceTree(list)[req.tree];
    const keep = new Set(list);
    const nodes = prune(forest, keep);
    // By parent, lsns shows the types without one (mnt, net, ...) as roots.
    const placed = new Set<NamespaceInfo>();
    const mark = (ns: readonly NamespaceTreeNode[]): void => ns.forEach((n) => (placed.add(n.ns), mark(n.children)));
    mark(nodes);
    for (const ns of list) if (!placed.has(ns)) nodes.push({ ns, children: [] });
    nodes.sort((a, b) => a.ns.inode - b.ns.inode);
    if (req.json) {
      const toJson = (n: NamespaceTreeNode): Record<string, unknown> => {
        const o = jsonOf(n.ns, cols, lookups);
        if (n.children.length) o.children = n.children.map(toJson);
        return o;
      };
      out(JSON.stringify({ namespaces: nodes.map(toJson) }, jsonReplacer, 2));
      return 0;
    }
    const rows: NamespaceInfo[] = [];
    const prefixes: string[] = [];
    const walk = (ns: readonly NamespaceTreeNode[], prefix: string, top: boolean): void => {
      ns.forEach((n, i) => {
        const lastOne = i === ns.length - 1;
        rows.push(n.ns);
        prefixes.push(top ? '' : prefix + (lastOne ? '└─' : '├─'));
        walk(n.children, top ? '' : prefix + (lastOne ? '  ' : '│ '), false);
      });
    };
    walk(nodes, '', true);
    printTable(rows, cols, { headings: req.headings, raw: req.raw, truncate: req.truncate, prefixes, lookups });
    return 0;
  }
  if (req.json) {
    out(JSON.stringify({ namespaces: list.map((ns) => jsonOf(ns, cols, lookups)) }, jsonReplacer, 2));
    return 0;
  }
  printTable(list, cols, { headings: req.headings, raw: req.raw, truncate: req.truncate, lookups });
  return 0;
}

/**
 * The forest with only the nodes in `keep` (a dropped node's kept
 * descendants move up to its place), siblings by inode as lsns orders them.
 */
function prune(nodes: readonly NamespaceTreeNode[], keep: ReadonlySet<NamespaceInfo>): NamespaceTreeNode[] {
  const outNodes: NamespaceTreeNode[] = [];
  for (const n of nodes) {
    const children = prune(n.children, keep);
    if (keep.has(n.ns)) outNodes.push({ ns: n.ns, children });
    else outNodes.push(...children);
  }
  return outNodes.sort((a, b) => a.ns.inode - b.ns.inode);
}

/** `lsns NS`: the processes in that namespace (PID, PPID, USER, COMMAND, as lsns shows them). */
function showProcesses(list: readonly NamespaceInfo[], req: LsRequest): number {
  const ns = list.find((x) => x.inode === req.inode && (req.types.length === 0 || req.types.includes(x.type)));
  if (ns === undefined) throw new Error(`not found namespace: ${req.inode}`);
  const procs = ns.pids.map((pid) => ({ pid, ppid: ppidOf(pid) ?? null, ...processOf(pid) }));
  if (req.json) {
    out(JSON.stringify({ processes: procs }, jsonReplacer, 2));
    return 0;
  }
  const rows = procs.map((p) => [String(p.pid), p.ppid === null ? '' : String(p.ppid), p.user ?? '', p.command ?? '']);
  printRows(['PID', 'PPID', 'USER', 'COMMAND'], rows, { headings: req.headings, raw: req.raw, truncate: req.truncate });
  return 0;
}
