// `nsfd demo` (npm run demo): a guided tour of the library on a real
// sandbox. Each step prints what it did; steps that this machine does not
// allow print why they were skipped. Everything made here is cleaned up,
// also on failure.
import * as fs from 'node:fs';
import * as os from 'node:os';

import type { Namespace, NsType, OwnedFd, Pidfd, SpawnOptions, Subprocess } from '../index';
import { api } from './api';
import { parse } from './args';
import { stepNetwork } from './demo-net';
import { messageOf, out } from './output';

// Linux only, where these exist (the types allow for their absence elsewhere).
const uid = process.getuid?.() ?? -1;
const gid = process.getgid?.() ?? -1;
const isRoot = uid === 0;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const SANDBOX_SCRIPT = 'hostname nsfd-demo; ip link set lo up 2>/dev/null; exec sleep 1000000';
const SANDBOX_TYPES: readonly NsType[] = ['pid', 'mnt', 'net', 'uts', 'ipc', 'cgroup'];
/** What the sandbox unshares, and what a command joins to be in all of it. */
const ALL_TYPES: readonly NsType[] = isRoot ? SANDBOX_TYPES : ['user', ...SANDBOX_TYPES];

/** Prints the numbered steps and what each did. */
class Narrator {
  #step = 0;

  title(t: string): void {
    out('');
    out(`${++this.#step}. ${t}`);
  }

  say(t: string): void {
    out(`   ${t}`);
  }

  skip(why: string): void {
    this.say(`(skipped: ${why})`);
  }
}

export async function cmdDemo(args: readonly string[]): Promise<number> {
  parse(args, {});
  return demo();
}

async function demo(): Promise<number> {
  const n = new Narrator();
  intro(n);
  n.title('A sandbox in new pid, mount, net, uts, ipc and cgroup namespaces');
  const sandbox = await startSandbox(n);
  const cleanup: (() => void)[] = [];
  let stopped = false;
  try {
    const pidfd = sandbox.pidfd;
    let pidfsId = '';
    try {
      pidfsId = `, pidfs id ${pidfd.id}`;
    } catch {
      // pidfs needs 6.9
    }
    n.say(`pid ${sandbox.pid} (pid 1 inside), pidfd ${pidfd.fd}${pidfsId}: every later step goes through this fd, so pid reuse cannot fool it`);

    stepNamespaces(n, pidfd);
    stepAttach(n, pidfd);
    await stepSpawn(n, pidfd);
    n.title('socketIn() and openIn(): a socket and a file in it, without moving any thread');
    const sock = openSocket(n, pidfd, cleanup);
    readTheirProc(n, pidfd);
    await stepList(n, sandbox.pid);

    n.title('Kill the sandbox through its pidfd');
    const sandboxNet = netInode(pidfd);
    stopped = true;
    await stopSandbox(sandbox);
    n.say('SIGKILL through the pidfd, then reaped (clone3 child): gone');
    if (sock && sandboxNet !== undefined) await showOrphanedNetns(n, sock, sandboxNet);
  } finally {
    for (const c of cleanup.reverse()) {
      try {
        c();
      } catch {
        // closed already
      }
    }
    if (!stopped) await stopSandbox(sandbox);
  }
  await stepNetwork(n);
  out('');
  out('Done: every fd closed, the sandbox reaped.');
  return 0;
}

function intro(n: Narrator): void {
  out(`nsfd demo on Linux ${os.release()}, Node ${process.version}, uid ${uid}`);
  const f = api().features();
  n.say(`pidfd_open ${f.pidfd_open.available ? 'yes' : 'no'}, setns(pidfd) ${f.setns_pidfd.available ? 'yes' : 'no'}, ` +
    `NS_GET_ID ${f.ns_get_id.available ? 'yes' : 'no'}, listns ${f.listns.available ? 'yes' : 'no'}`);
}

/** A shell in new namespaces that names its host and sleeps as pid 1 (its pidfd belongs to the Subprocess). */
async function startSandbox(n: Narrator): Promise<Subprocess> {
  const opts: SpawnOptions = { unshare: ALL_TYPES, mountProc: true, killOnClose: true, stdio: 'ignore' };
  if (!isRoot) {
    opts.uidMap = [{ inside: 0, outside: uid, count: 1 }];
    opts.gidMap = [{ inside: 0, outside: gid, count: 1 }];
  }
  n.say(`spawn('sh', ['-c', '${SANDBOX_SCRIPT}'], { unshare: [${ALL_TYPES.join(', ')}], mountProc: true, killOnClose: true })`);
  const child = api().spawn('sh', ['-c', SANDBOX_SCRIPT], opts);
  // Wait until the shell has exec'd sleep (its hostname is set then).
  for (let i = 0; i < 500; i++) {
    try {
      if (fs.readFileSync(`/proc/${child.pid}/comm`, 'latin1').trim() === 'sleep') break;
    } catch {
      break;
    }
    await sleep(10);
  }
  return child;
}

async function stopSandbox(child: Subprocess): Promise<void> {
  child.kill('SIGKILL');
  await child.exited;
  child.close();
}

/** ` id N`, or nothing before Linux 6.18 (NS_GET_ID). */
function idOf(ns: Namespace): string {
  try {
    return ` id ${ns.id}`;
  } catch {
    return '';
  }
}

function stepNamespaces(n: Narrator, pidfd: Pidfd): void {
  n.title('Its namespaces, as objects');
  const { Namespace } = api();
  const types = ['net', 'uts', 'pid', 'mnt'] as const;
  const theirs = pidfd.namespaces(types);
  for (const type of types) {
    const ns = theirs[type];
    if (ns === undefined) continue;
    const ours = Namespace.current(type);
    n.say(`${type.padEnd(4)} ${type}:[${ns.inode}]${idOf(ns)}  (ours: ${type}:[${ours.inode}], equal: ${ns.equals(ours)})`);
    ours.close();
    ns.close();
  }
}

function stepAttach(n: Narrator, pidfd: Pidfd): void {
  n.title('attach(): this thread joins its uts and net namespaces, then comes back');
  try {
    const before = os.hostname();
    const scope = api().attach(pidfd, ['uts', 'net']);
    let inside: string;
    let ifaces: string[];
    try {
      inside = os.hostname();
      ifaces = Object.keys(os.networkInterfaces());
    } finally {
      scope.restore();
    }
    n.say(`one setns(pidfd, CLONE_NEWUTS|CLONE_NEWNET) joined: ${scope.joined.join(', ')}`);
    n.say(`inside:  hostname ${inside}, interfaces: ${ifaces.length ? ifaces.join(', ') : '(none up)'}`);
    n.say(`restore(): hostname ${os.hostname()} (was ${before})`);
  } catch (err) {
    n.skip(messageOf(err));
  }
}

async function stepSpawn(n: Narrator, pidfd: Pidfd): Promise<void> {
  n.title('spawn(): a command in all of its namespaces (one atomic setns in a clone3 child)');
  const commands: [string, string[]][] = [
    ['hostname', []],
    ['sh', ['-c', 'echo "pid $$ in its pid namespace; $(ls /proc | grep -c "^[0-9]") processes visible"']],
  ];
  for (const [file, args] of commands) {
    try {
      const r = await api().run(file, args, { join: pidfd, joinTypes: ALL_TYPES });
      const shown = [file, ...args].map((a) => (/[\s$"]/.test(a) ? `'${a}'` : a)).join(' ');
      n.say(`$ ${shown}  ->  ${r.stdout.trim()} (exit ${r.code})`);
    } catch (err) {
      n.skip(messageOf(err));
    }
  }
}

/** A socket bound in the sandbox's netns (closed by `cleanup`), or undefined when that failed. */
function openSocket(n: Narrator, pidfd: Pidfd, cleanup: (() => void)[]): OwnedFd | undefined {
  const { socketIn, socketNamespace } = api();
  let sock: OwnedFd | undefined;
  try {
    const s = socketIn(pidfd, { family: 'inet', type: 'stream', bind: { address: '127.0.0.1', port: 0 } });
    sock = s;
    cleanup.push(() => s.close());
    const netOf = socketNamespace(s);
    const sandboxNet = pidfd.namespace('net');
    n.say(`socketIn(pidfd, {inet, stream, bind 127.0.0.1}) -> fd ${s.fd}, its netns net:[${netOf.inode}] is the sandbox's: ${netOf.equals(sandboxNet)}`);
    netOf.close();
    sandboxNet.close();
  } catch (err) {
    n.skip(messageOf(err));
  }
  return sock;
}

function readTheirProc(n: Narrator, pidfd: Pidfd): void {
  try {
    const file = api().openIn(pidfd, '/proc/1/cmdline', 'r');
    const text = fs.readFileSync(file.fd, 'latin1').replace(/\0+$/, '').replace(/\0/g, ' ');
    file.close();
    n.say(`openIn(pidfd, '/proc/1/cmdline') reads its /proc: pid 1 there is "${text}"`);
  } catch (err) {
    n.skip(messageOf(err));
  }
}

async function stepList(n: Narrator, sandboxPid: number): Promise<void> {
  n.title('listNamespaces(): the sandbox as the system sees it');
  const list = await api().listNamespaces();
  const shared: string[] = [];
  for (const ns of list.filter((x) => x.pids.includes(sandboxPid))) {
    if (ns.pids.includes(process.pid)) {
      shared.push(ns.type);
      continue;
    }
    const how = [ns.pids.length ? `processes ${ns.pids.join(',')}` : '', ...ns.sockets.map((s) => `socket fd ${s.fd} of pid ${s.pid}`)];
    n.say(`${ns.type.padEnd(6)} ${ns.inode}${ns.id !== undefined ? ` id ${ns.id}` : ''}: ${how.filter(Boolean).join('; ')}`);
  }
  if (shared.length) n.say(`shared with this process: ${shared.join(', ')}`);
}

/** The sandbox is gone; its netns lives on while our socket in it is open. */
async function showOrphanedNetns(n: Narrator, sock: OwnedFd, sandboxNet: number): Promise<void> {
  const { listNamespaces } = api();
  const nets = await listNamespaces({ type: 'net' });
  const kept = nets.find((x) => x.inode === sandboxNet);
  n.say(kept
    ? `its netns net:[${sandboxNet}] lives on, held only by our socket: ${JSON.stringify(kept.sockets)} (lsns of util-linux 2.38 does not list it)`
    : `its netns net:[${sandboxNet}] is gone`);
  sock.close();
  const after = await listNamespaces({ type: 'net' });
  n.say(`socket closed: netns ${after.some((x) => x.inode === sandboxNet && kept !== undefined && x.id === kept.id) ? 'still there' : 'gone'}`);
}

function netInode(pidfd: Pidfd): number | undefined {
  try {
    const ns = pidfd.namespace('net');
    const inode = ns.inode;
    ns.close();
    return inode;
  } catch {
    return undefined;
  }
}
