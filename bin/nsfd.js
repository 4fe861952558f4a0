#!/usr/bin/env node
// nsfd: the command line face of the library, built on its public API only.
//   nsfd ls [--json] [--tree] [-t TYPE]       like lsns, plus what lsns misses
//   nsfd exec -t PID [-a | -m -u -i -n -p -C -U -T] [...] -- CMD...
//   nsfd translate PID --from PID|PATH --to PID|PATH
//   nsfd features [--json]
//   nsfd demo
// Errors print one line ("nsfd: ...") and exit 1; bad usage prints the
// usage and exits 2.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const NS_TYPES = ['user', 'mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup', 'time'];

const USAGE = {
  main: `Usage: nsfd <command> [options]

Linux processes and namespaces through file descriptors.

Commands:
  ls          list namespaces (like lsns, plus those held only by an fd,
              a socket or a bind mount)
  exec        run a command in the namespaces of a process (like nsenter)
  translate   translate a pid between pid namespaces
  features    what this kernel supports
  demo        a guided tour: sandbox, attach, spawn, socket, file, list

Run 'nsfd <command> --help' for a command's options.`,
  ls: `Usage: nsfd ls [options]

List namespaces: those of every process and thread, those held only by an
open fd, by a socket or by a bind mount, and their owners and parents.

Options:
  -t, --type TYPE    only namespaces of TYPE (${NS_TYPES.join(', ')})
  -J, --json         JSON output ({"namespaces": [...]}; ids as strings)
  -T, --tree         user namespaces with what they own, and pid
                     namespaces by parent, as trees
  -n, --noheadings   no header line
  -h, --help         this help

Columns: NS (inode), TYPE, NPROCS, PID (lowest; else a holder), USER,
NSID (64-bit id, Linux 6.18+), HELD (proc, thread, fd, socket, mount,
owner), PATH (bind mounts), COMMAND.`,
  exec: `Usage: nsfd exec -t PID [options] [--] [CMD [ARG...]]

Run CMD (default: $SHELL) in namespaces of process PID, joined through a
pidfd with one atomic setns. The exit code is CMD's (128+N if killed by
signal N).

Options:
  -t, --target PID   the process whose namespaces to join (required)
  -a, --all          all of its namespaces (those we already share are skipped)
  -m, --mount        mount namespace      -u, --uts      UTS namespace
  -i, --ipc          IPC namespace        -n, --net      network namespace
  -p, --pid          pid namespace        -C, --cgroup   cgroup namespace
  -U, --user         user namespace       -T, --time     time namespace
  -r, --root         run in the target's root directory
  -w, --wd DIR       working directory (in the target's file system view)
  -S, --uid UID      run as UID          -G, --gid GID   run as GID
  -h, --help         this help`,
  translate: `Usage: nsfd translate PID [--from PID|PATH] [--to PID|PATH] [--tgid]

Print PID, given as seen in one pid namespace, as seen in another. A
namespace is named by a process in it (a pid) or a path (/proc/N/ns/pid or
a bind mount of one). Both default to ours.

Options:
  --from PID|PATH    pid namespace PID is given in
  --to PID|PATH      pid namespace to express it in
  --tgid             the thread-group id (process) rather than the thread
  -h, --help         this help`,
  features: `Usage: nsfd features [--json]

What this kernel supports, each with the release that brought it.

Options:
  -J, --json         JSON output
  -h, --help         this help`,
  demo: `Usage: nsfd demo

Makes a sandbox process in new namespaces, attaches to it, spawns
commands into it, opens a socket and a file in it, lists its namespaces,
cleans up, and prints each step. Needs root (or unprivileged user
namespaces).

Options:
  -h, --help         this help`,
};

class UsageError extends Error {}

/** Which usage to print with a usage error. */
let currentCommand = 'main';

function usageError(message) {
  return new UsageError(message);
}

/** The library (dist/), loaded on first use so that --help works without the addon. */
let lib;
function api() {
  lib ??= require('../dist/index.js');
  return lib;
}

/** parseArgs with strict checking, its errors turned into usage errors. */
function parse(args, options, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    if (err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) throw usageError(err.message);
    throw err;
  }
}

function checkType(t) {
  if (t !== undefined && !NS_TYPES.includes(t)) throw usageError(`unknown namespace type '${t}' (expected one of ${NS_TYPES.join(', ')})`);
  return t;
}

function intArg(value, name, min = 0) {
  if (!/^\d+$/.test(value ?? '') || Number(value) < min || Number(value) > 0x7fffffff) {
    throw usageError(`${name} must be an integer >= ${min}, not '${value ?? ''}'`);
  }
  return Number(value);
}

function out(line = '') {
  process.stdout.write(line + '\n');
}

function jsonReplacer(_key, value) {
  return typeof value === 'bigint' ? value.toString() : value;
}

// ---------------------------------------------------------------------------
// ls

let users;
function userName(uid) {
  if (uid === undefined) return '';
  if (users === undefined) {
    users = new Map();
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2 && !users.has(Number(f[2]))) users.set(Number(f[2]), f[0]);
      }
    } catch {
      // numbers then
    }
  }
  return users.get(uid) ?? String(uid);
}

const HELD = { listns: 'listns', process: 'proc', thread: 'thread', fd: 'fd', socket: 'socket', mount: 'mount', hierarchy: 'owner' };

function held(ns) {
  const s = ns.sources.filter((x) => x !== 'listns').map((x) => HELD[x]);
  return s.length ? s.join(',') : 'listns';
}

function pathsOf(ns) {
  const p = [...ns.persisted, ...ns.mountsElsewhere.map((m) => `mnt:[${m.mntns}]${m.path}`)];
  return p.join(',');
}

/** A table cell on one line: control characters as \xHH, as lsns writes them (JSON output keeps them). */
function safe(s) {
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function row(ns) {
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

const COLUMNS = ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'NSID', 'HELD', 'PATH', 'COMMAND'];
const RIGHT = new Set(['NS', 'NPROCS', 'PID', 'NSID']);

function printTable(rows, { headings = true, prefixes } = {}) {
  const cols = COLUMNS.filter((c) => c === 'COMMAND' || c === 'NS' || rows.some((r) => r[c] !== ''));
  const width = {};
  for (const c of cols) width[c] = Math.max(headings ? c.length : 0, ...rows.map((r, i) => r[c].length + (c === 'NS' && prefixes ? prefixes[i].length : 0)));
  const fmt = (r, i) => {
    const cells = cols.map((c) => {
      let v = r[c];
      if (c === 'NS' && prefixes) v = (i < 0 ? '' : prefixes[i]) + v;
      if (c === 'COMMAND') return v;
      return RIGHT.has(c) && !(c === 'NS' && prefixes) ? v.padStart(width[c]) : v.padEnd(width[c]);
    });
    let line = cells.join(' ').trimEnd();
    const max = process.stdout.isTTY ? process.stdout.columns : 0;
    if (max && line.length > max) line = line.slice(0, max - 1) + '…';
    return line;
  };
  if (headings) {
    const h = {};
    for (const c of cols) h[c] = c;
    out(fmt(h, -1));
  }
  rows.forEach((r, i) => out(fmt(r, i)));
}

/** Rows for `nodes` and their descendants, with tree-drawing prefixes for the NS column. */
function flattenTree(nodes, prefix, rows, prefixes) {
  nodes.forEach((n, i) => {
    const last = i === nodes.length - 1;
    rows.push(row(n.ns));
    prefixes.push(prefix + (last ? '└─' : '├─'));
    flattenTree(n.children, prefix + (last ? '  ' : '│ '), rows, prefixes);
  });
}

function printForest(title, nodes, headings) {
  out(title);
  const rows = [];
  const prefixes = [];
  for (const root of nodes) {
    rows.push(row(root.ns));
    prefixes.push('');
    flattenTree(root.children, '', rows, prefixes);
  }
  if (rows.length === 0) out('  (none)');
  else printTable(rows, { headings, prefixes });
}

async function cmdLs(args) {
  const { values } = parse(args, {
    type: { type: 'string', short: 't' },
    json: { type: 'boolean', short: 'J' },
    tree: { type: 'boolean', short: 'T' },
    noheadings: { type: 'boolean', short: 'n' },
  });
  const type = checkType(values.type);
  const { listNamespaces, buildNamespaceTree } = api();
  const opts = type === undefined ? {} : { type };
  if (values.tree) {
    const tree = buildNamespaceTree(await listNamespaces(), opts);
    if (values.json) {
      out(JSON.stringify(tree, jsonReplacer, 2));
      return 0;
    }
    printForest('User namespaces and the namespaces they own:', tree.owner, !values.noheadings);
    out();
    printForest('Pid and user namespaces by parent:', tree.parent, !values.noheadings);
    return 0;
  }
  const list = await listNamespaces(opts);
  if (values.json) {
    out(JSON.stringify({ namespaces: list }, jsonReplacer, 2));
    return 0;
  }
  printTable(list.map(row), { headings: !values.noheadings });
  return 0;
}

// ---------------------------------------------------------------------------
// exec

const EXEC_FLAGS = {
  mount: ['m', 'mnt'],
  uts: ['u', 'uts'],
  ipc: ['i', 'ipc'],
  net: ['n', 'net'],
  pid: ['p', 'pid'],
  cgroup: ['C', 'cgroup'],
  user: ['U', 'user'],
  time: ['T', 'time'],
};
const EXEC_OPTIONS = {
  target: { type: 'string', short: 't' },
  all: { type: 'boolean', short: 'a' },
  root: { type: 'boolean', short: 'r' },
  wd: { type: 'string', short: 'w' },
  uid: { type: 'string', short: 'S' },
  gid: { type: 'string', short: 'G' },
  ...Object.fromEntries(Object.entries(EXEC_FLAGS).map(([long, [short]]) => [long, { type: 'boolean', short }])),
};

/** Splits nsfd's options from the command: at '--' or at the first word that is not an option or its value. */
function splitCommand(args) {
  const longValued = new Set();
  const shortValued = new Set();
  for (const [long, o] of Object.entries(EXEC_OPTIONS)) {
    if (o.type !== 'string') continue;
    longValued.add(`--${long}`);
    shortValued.add(o.short);
  }
  let i = 0;
  while (i < args.length) {
    const a = args[i];
    if (a === '--') return { opts: args.slice(0, i), cmd: args.slice(i + 1) };
    if (!a.startsWith('-') || a === '-') break;
    i += 1;
    if (a.startsWith('--')) {
      if (!a.includes('=') && longValued.has(a)) i += 1;
      continue;
    }
    // A bundle such as -an or -at123 or -at 123: a valued letter takes the
    // rest of the word, or the next word when it ends the bundle.
    for (let k = 1; k < a.length; k++) {
      if (shortValued.has(a[k])) {
        if (k === a.length - 1) i += 1;
        break;
      }
    }
  }
  return { opts: args.slice(0, i), cmd: args.slice(i) };
}

function spawnFunction() {
  const { spawn } = api();
  if (typeof spawn !== 'function') {
    throw new Error('this build of nsfd has no spawn() (lib/spawn.ts), which exec needs');
  }
  return spawn;
}

async function cmdExec(args) {
  const split = splitCommand(args);
  const { values } = parse(split.opts, EXEC_OPTIONS);
  if (values.target === undefined) throw usageError('exec needs a target: -t PID');
  const target = intArg(values.target, '--target', 1);
  const chosen = Object.keys(EXEC_FLAGS).filter((k) => values[k]);
  if (values.all && chosen.length > 0) throw usageError('--all cannot be combined with single namespace options');
  const uid = values.uid === undefined ? undefined : intArg(values.uid, '--uid');
  const gid = values.gid === undefined ? undefined : intArg(values.gid, '--gid');
  const cmd = split.cmd.length > 0 ? split.cmd : [process.env.SHELL || '/bin/sh'];

  const { Pidfd, Namespace } = api();
  const spawn = spawnFunction();
  const pidfd = Pidfd.open(target);
  try {
    const wanted = values.all ? NS_TYPES : chosen.map((k) => EXEC_FLAGS[k][1]);
    // Join only what differs: joining our own user namespace is EINVAL,
    // and for the other types a join of the same namespace is a no-op.
    const joinTypes = [];
    for (const t of wanted) {
      let theirs;
      try {
        theirs = pidfd.namespace(t);
      } catch (err) {
        // --all skips types this kernel does not have; named ones must exist.
        if (values.all && (err.code === 'EOPNOTSUPP' || err.code === 'ENOENT')) continue;
        throw err;
      }
      let same = false;
      try {
        const ours = Namespace.current(t);
        same = ours.equals(theirs);
        ours.close();
      } catch {
        same = false;
      } finally {
        theirs.close();
      }
      if (!same) joinTypes.push(t);
    }
    const options = { stdio: 'inherit' };
    if (joinTypes.length > 0) {
      options.join = pidfd;
      options.joinTypes = joinTypes;
    }
    // --root: the target's own root (opened before the joins, as nsenter
    // does), also right for a target chroot()ed inside its mount namespace.
    if (values.root) options.root = pidfd;
    if (values.wd !== undefined) options.cwd = values.wd;
    if (uid !== undefined) options.uid = uid;
    if (gid !== undefined) options.gid = gid;
    let child;
    try {
      child = spawn(cmd[0], cmd.slice(1), options);
    } catch (err) {
      // As util-linux does: 127 when the command is not found, 126 when it cannot run.
      if (err && err.step === 'execve') {
        process.stderr.write(`nsfd: ${oneLine(err)}\n`);
        return err.code === 'ENOENT' ? 127 : 126;
      }
      throw err;
    }
    // The terminal sends SIGINT/SIGQUIT to the child too; pass on the rest.
    const handlers = {};
    for (const sig of ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP']) {
      handlers[sig] = sig === 'SIGINT' || sig === 'SIGQUIT' ? () => {} : () => child.kill(sig);
      process.on(sig, handlers[sig]);
    }
    let status;
    try {
      status = await child.exited;
    } finally {
      for (const [sig, h] of Object.entries(handlers)) process.off(sig, h);
      child.close();
    }
    if (status.code !== null && status.code !== undefined) return status.code;
    return 128 + (os.constants.signals[status.signal] ?? 0);
  } finally {
    pidfd.close();
  }
}

// ---------------------------------------------------------------------------
// translate

function pidNsRef(value, name) {
  const { Pidfd, Namespace } = api();
  if (/^\d+$/.test(value)) return Pidfd.open(intArg(value, name, 1));
  if (value === '') throw usageError(`${name} needs a pid or a path`);
  return Namespace.open(value, 'pid');
}

async function cmdTranslate(args) {
  const { values, positionals } = parse(
    args,
    { from: { type: 'string' }, to: { type: 'string' }, tgid: { type: 'boolean' } },
    true,
  );
  if (positionals.length !== 1) throw usageError(positionals.length === 0 ? 'translate needs a PID' : `unexpected argument '${positionals[1]}'`);
  const pid = intArg(positionals[0], 'PID', 1);
  const refs = [];
  try {
    const opts = {};
    if (values.from !== undefined) refs.push((opts.from = pidNsRef(values.from, '--from')));
    if (values.to !== undefined) refs.push((opts.to = pidNsRef(values.to, '--to')));
    if (values.tgid) opts.tgid = true;
    out(String(api().translatePid(pid, opts)));
    return 0;
  } finally {
    for (const r of refs) r.close();
  }
}

// ---------------------------------------------------------------------------
// features

async function cmdFeatures(args) {
  const { values } = parse(args, { json: { type: 'boolean', short: 'J' } });
  const f = api().features();
  if (values.json) {
    out(JSON.stringify(f, null, 2));
    return 0;
  }
  out(`Linux ${os.release()} (${process.arch})`);
  const names = Object.keys(f);
  const w = Math.max(7, ...names.map((n) => n.length));
  out(`${'FEATURE'.padEnd(w)}  AVAILABLE  SINCE  DETAIL`);
  for (const n of names) {
    const x = f[n];
    out(`${n.padEnd(w)}  ${(x.available ? 'yes' : 'no').padEnd(9)}  ${x.since.padEnd(5)}  ${x.detail ?? ''}`.trimEnd());
  }
  return 0;
}

// ---------------------------------------------------------------------------
// demo

async function cmdDemo(args) {
  parse(args, {});
  return require('./nsfd-demo.js').demo(api(), out);
}

// ---------------------------------------------------------------------------

const COMMANDS = { ls: cmdLs, exec: cmdExec, translate: cmdTranslate, features: cmdFeatures, demo: cmdDemo };

function version() {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version;
}

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    out(USAGE.main);
    return 0;
  }
  if (cmd === '-V' || cmd === '--version') {
    out(`nsfd ${version()}`);
    return 0;
  }
  if (cmd === undefined) throw usageError('missing command');
  const run = COMMANDS[cmd];
  if (run === undefined) throw usageError(`unknown command '${cmd}'`);
  // --help anywhere before a '--' (and, for exec, before the command).
  const own = cmd === 'exec' ? splitCommand(rest).opts : rest.slice(0, rest.includes('--') ? rest.indexOf('--') : rest.length);
  if (own.includes('-h') || own.includes('--help')) {
    out(USAGE[cmd]);
    return 0;
  }
  currentCommand = cmd;
  return run(rest);
}

function oneLine(err) {
  const msg = err && typeof err.message === 'string' ? err.message : String(err);
  return msg.split('\n')[0];
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    if (err instanceof UsageError) {
      process.stderr.write(`nsfd: ${err.message}\n\n${USAGE[currentCommand]}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`nsfd: ${oneLine(err)}\n`);
      if (process.env.NSFD_DEBUG) process.stderr.write(`${err && err.stack}\n`);
      process.exitCode = 1;
    }
  },
);
