// `nsfd demo` (npm run demo): a guided tour of the library on a real
// sandbox. Each step prints what it did; steps whose API is missing from
// this build, or that this machine does not allow, print why they were
// skipped. Everything made here is cleaned up, also on failure.
'use strict';
const { spawn: cpSpawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');

const isRoot = process.getuid() === 0;

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

const SANDBOX_SCRIPT = 'hostname nsfd-demo; ip link set lo up 2>/dev/null; exec sleep 1000000';
const SANDBOX_TYPES = ['pid', 'mnt', 'net', 'uts', 'ipc', 'cgroup'];

/**
 * A shell in new namespaces that names its host and sleeps as pid 1:
 * spawn({unshare}) where this build has it, else util-linux unshare.
 * Returns {pid, pidfd, stop()}; pidfd belongs to the sandbox object.
 */
async function startSandbox(api, say) {
  if (typeof api.spawn === 'function') {
    const unshare = isRoot ? SANDBOX_TYPES : ['user', ...SANDBOX_TYPES];
    const opts = { unshare, mountProc: true, killOnClose: true, stdio: 'ignore' };
    if (!isRoot) {
      opts.uidMap = [{ inside: 0, outside: process.getuid(), count: 1 }];
      opts.gidMap = [{ inside: 0, outside: process.getgid(), count: 1 }];
    }
    say(`spawn('sh', ['-c', '${SANDBOX_SCRIPT}'], { unshare: [${unshare.join(', ')}], mountProc: true, killOnClose: true })`);
    const child = api.spawn('sh', ['-c', SANDBOX_SCRIPT], opts);
    // Wait until the shell has exec'd sleep (its hostname is set then).
    for (let i = 0; i < 500; i++) {
      try {
        if (fs.readFileSync(`/proc/${child.pid}/comm`, 'latin1').trim() === 'sleep') break;
      } catch {
        break;
      }
      await sleep(10);
    }
    return {
      pid: child.pid,
      pidfd: child.pidfd,
      how: 'clone3',
      async stop() {
        child.kill('SIGKILL');
        await child.exited;
        child.close();
      },
    };
  }
  const args = ['--fork', '--pid', '--mount-proc', '--mount', '--net', '--uts', '--ipc', '--cgroup'];
  if (!isRoot) args.push('--user', '--map-root-user');
  args.push('sh', '-c', SANDBOX_SCRIPT);
  say(`$ unshare ${args.slice(0, -1).join(' ')} '${SANDBOX_SCRIPT}'`);
  const launcher = cpSpawn('unshare', args, { stdio: 'ignore' });
  const exited = new Promise((r) => launcher.once('exit', r));
  for (let i = 0; i < 500; i++) {
    if (launcher.exitCode !== null) throw new Error(`unshare exited with ${launcher.exitCode} (needs root or unprivileged user namespaces)`);
    let pid = 0;
    try {
      const kids = fs.readFileSync(`/proc/${launcher.pid}/task/${launcher.pid}/children`, 'latin1').trim();
      pid = Number(kids.split(/\s+/)[0]);
      if (!(pid > 0 && fs.readFileSync(`/proc/${pid}/comm`, 'latin1').trim() === 'sleep')) pid = 0;
    } catch {
      pid = 0;
    }
    if (pid > 0) {
      const pidfd = api.Pidfd.open(pid);
      return {
        pid,
        pidfd,
        how: 'unshare(1)',
        async stop() {
          try {
            pidfd.kill('SIGKILL');
          } catch {
            // gone
          }
          await exited;
          pidfd.close();
        },
      };
    }
    await sleep(10);
  }
  launcher.kill('SIGKILL');
  throw new Error('the sandbox did not start');
}

async function demo(api, out) {
  const { Namespace, attach, listNamespaces, features } = api;
  let step = 0;
  const title = (t) => {
    out('');
    out(`${++step}. ${t}`);
  };
  const say = (t) => out(`   ${t}`);
  const skip = (why) => say(`(skipped: ${why})`);
  const id = (ns) => {
    try {
      return ` id ${ns.id}`;
    } catch {
      return '';
    }
  };

  out(`nsfd demo on Linux ${os.release()}, Node ${process.version}, uid ${process.getuid()}`);
  const f = features();
  say(`pidfd_open ${f.pidfd_open.available ? 'yes' : 'no'}, setns(pidfd) ${f.setns_pidfd.available ? 'yes' : 'no'}, ` +
    `NS_GET_ID ${f.ns_get_id.available ? 'yes' : 'no'}, listns ${f.listns.available ? 'yes' : 'no'}`);

  title('A sandbox in new pid, mount, net, uts, ipc and cgroup namespaces');
  const sandbox = await startSandbox(api, say);
  const cleanup = [];
  let stopped = false;
  try {
    const pidfd = sandbox.pidfd;
    let pidfsId = '';
    try {
      pidfsId = `, pidfs id ${pidfd.id}`;
    } catch {
      // pidfs needs 6.9
    }
    say(`pid ${sandbox.pid} (pid 1 inside), pidfd ${pidfd.fd}${pidfsId}: every later step goes through this fd, so pid reuse cannot fool it`);

    title('Its namespaces, as objects');
    const theirs = pidfd.namespaces(['net', 'uts', 'pid', 'mnt']);
    for (const [type, ns] of Object.entries(theirs)) {
      const ours = Namespace.current(type);
      say(`${type.padEnd(4)} ${type}:[${ns.inode}]${id(ns)}  (ours: ${type}:[${ours.inode}], equal: ${ns.equals(ours)})`);
      ours.close();
      ns.close();
    }

    title('attach(): this thread joins its uts and net namespaces, then comes back');
    try {
      const before = os.hostname();
      const scope = attach(pidfd, ['uts', 'net']);
      let inside;
      let ifaces;
      try {
        inside = os.hostname();
        ifaces = Object.keys(os.networkInterfaces());
      } finally {
        scope.restore();
      }
      say(`one setns(pidfd, CLONE_NEWUTS|CLONE_NEWNET) joined: ${scope.joined.join(', ')}`);
      say(`inside:  hostname ${inside}, interfaces: ${ifaces.length ? ifaces.join(', ') : '(none up)'}`);
      say(`restore(): hostname ${os.hostname()} (was ${before})`);
    } catch (err) {
      skip(err.message);
    }

    title('spawn(): a command in all of its namespaces (one atomic setns in a clone3 child)');
    if (typeof api.run === 'function') {
      for (const [file, args] of [
        ['hostname', []],
        ['sh', ['-c', 'echo "pid $$ in its pid namespace; $(ls /proc | grep -c "^[0-9]") processes visible"']],
      ]) {
        try {
          const joinTypes = isRoot ? SANDBOX_TYPES : ['user', ...SANDBOX_TYPES];
          const r = await api.run(file, args, { join: pidfd, joinTypes });
          const shown = [file, ...args].map((a) => (/[\s$"]/.test(a) ? `'${a}'` : a)).join(' ');
          say(`$ ${shown}  ->  ${String(r.stdout).trim()} (exit ${r.code})`);
        } catch (err) {
          skip(err.message);
        }
      }
    } else {
      skip('this build has no spawn()/run() (lib/spawn.ts)');
    }

    title('socketIn() and openIn(): a socket and a file in it, without moving any thread');
    let sock;
    if (typeof api.socketIn === 'function') {
      try {
        sock = api.socketIn(pidfd, { family: 'inet', type: 'stream', bind: { address: '127.0.0.1', port: 0 } });
        cleanup.push(() => sock.close());
        const netOf = api.socketNamespace ? api.socketNamespace(sock) : undefined;
        const sandboxNet = pidfd.namespace('net');
        say(`socketIn(pidfd, {inet, stream, bind 127.0.0.1}) -> fd ${sock.fd}` +
          (netOf ? `, its netns net:[${netOf.inode}] is the sandbox's: ${netOf.equals(sandboxNet)}` : ''));
        netOf?.close();
        sandboxNet.close();
      } catch (err) {
        skip(err.message);
      }
    } else {
      skip('this build has no socketIn() (lib/inns.ts)');
    }
    if (typeof api.openIn === 'function') {
      try {
        const file = api.openIn(pidfd, '/proc/1/cmdline', 'r');
        const text = fs.readFileSync(file.fd, 'latin1').replace(/\0+$/, '').replace(/\0/g, ' ');
        file.close();
        say(`openIn(pidfd, '/proc/1/cmdline') reads its /proc: pid 1 there is "${text}"`);
      } catch (err) {
        skip(err.message);
      }
    } else {
      skip('this build has no openIn() (lib/inns.ts)');
    }

    title('listNamespaces(): the sandbox as the system sees it');
    const list = await listNamespaces();
    const shared = [];
    for (const ns of list.filter((n) => n.pids.includes(sandbox.pid))) {
      if (ns.pids.includes(process.pid)) {
        shared.push(ns.type);
        continue;
      }
      const how = [ns.pids.length ? `processes ${ns.pids.join(',')}` : '', ...ns.sockets.map((s) => `socket fd ${s.fd} of pid ${s.pid}`)];
      say(`${ns.type.padEnd(6)} ${ns.inode}${ns.id !== undefined ? ` id ${ns.id}` : ''}: ${how.filter(Boolean).join('; ')}`);
    }
    if (shared.length) say(`shared with this process: ${shared.join(', ')}`);

    title('Kill the sandbox through its pidfd');
    const sandboxNet = theirsNetInode(pidfd);
    stopped = true;
    await sandbox.stop();
    say(`SIGKILL through the pidfd, then reaped (${sandbox.how} child): gone`);
    if (sock && sandboxNet !== undefined) {
      const nets = await listNamespaces({ type: 'net' });
      const kept = nets.find((n) => n.inode === sandboxNet);
      say(kept
        ? `its netns net:[${sandboxNet}] lives on, held only by our socket: ${JSON.stringify(kept.sockets)} (lsns of util-linux 2.38 does not list it)`
        : `its netns net:[${sandboxNet}] is gone`);
      sock.close();
      const after = await listNamespaces({ type: 'net' });
      say(`socket closed: netns ${after.some((n) => n.inode === sandboxNet && kept && n.id === kept.id) ? 'still there' : 'gone'}`);
    }
  } finally {
    for (const c of cleanup.reverse()) {
      try {
        c();
      } catch {
        // closed already
      }
    }
    if (!stopped) await sandbox.stop();
  }
  out('');
  out('Done: every fd closed, the sandbox reaped.');
  return 0;
}

function theirsNetInode(pidfd) {
  try {
    const ns = pidfd.namespace('net');
    const inode = ns.inode;
    ns.close();
    return inode;
  } catch {
    return undefined;
  }
}

module.exports = { demo };
