// Work inside a target's namespaces without moving (issue 5):
//   1. socketIn + listen in the target's netns vs the usual way: a helper
//      started under `nsenter -n` that listens and hands the server back
//      over Node's IPC channel (SCM_RIGHTS);
//   2. openIn + read vs `nsenter -m -t PID cat FILE`;
//   3. Container.create + close vs `unshare ... true`, per second.
// Needs root (nsenter, new namespaces).
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';


import { faster, fmt, readmeRow, startTarget, table, timeAsync, timeSync } from './_util.js';
import { Pidfd, Container, socketIn, openIn, readFileIn } from '../../lib/index.js';

if (process.getuid!() !== 0) {
  console.log('inns bench: needs root (nsenter and new namespaces); skipped');
  process.exit(0);
}

// The usual way: node under nsenter -n, which listens and sends the server back.
const HELPER = `
process.on('message', () => {
  const s = require('net').createServer();
  s.listen(0, '127.0.0.1', () => { process.send('server', s); });
});`;

function listenViaNsenter(pid: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', ['-t', String(pid), '-n', process.execPath, '-e', HELPER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('message', (_m, handle) => {
      // The listening socket is ours now; the helper can go.
      child.kill('SIGKILL');
      child.once('exit', () => resolve(handle as net.Server));
    });
    child.send('go');
  });
}

function listenViaSocketIn(pidfd: Pidfd): Promise<net.Server> {
  const s = socketIn(pidfd, { family: 'inet', type: 'stream', bind: { address: '127.0.0.1', port: 0 } });
  const server = net.createServer();
  return new Promise((resolve) => server.listen({ fd: s.release() }, () => resolve(server)));
}

const closeServer = (s: net.Server): Promise<void> => new Promise((r) => s.close(() => r()));

(async () => {
  const t = await startTarget();
  const pidfd = Pidfd.open(t.pid);
  execFileSync('nsenter', ['-t', String(t.pid), '-n', 'ip', 'link', 'set', 'lo', 'up']);
  execFileSync('nsenter', ['-t', String(t.pid), '-m', 'sh', '-c', 'mount -t tmpfs bench /mnt && head -c 4096 /dev/urandom > /mnt/file']);
  const mnt = pidfd.namespace('mnt');
  try {
    // Sanity: both ways give a server in the target's netns.
    const a = await listenViaSocketIn(pidfd);
    const b = await listenViaNsenter(t.pid);
    await closeServer(a);
    await closeServer(b);

    const usual = await timeAsync(async () => closeServer(await listenViaNsenter(t.pid)), 20, 3);
    const ours = await timeAsync(async () => closeServer(await listenViaSocketIn(pidfd)), 2000, 100);
    const bare = timeSync(() => socketIn(pidfd, { family: 'inet', type: 'stream' }).close(), 5000);
    table('socketIn + listen in a target netns (per server)', [
      ['nsenter -n + node helper, fd sent back', usual],
      ['socketIn + bind + net.Server.listen({fd})', ours],
      ['socketIn alone (thread joins netns)', bare],
    ]);
    readmeRow({
      id: 'socketin',
      what: 'a listening TCP socket in a target\'s netns',
      nsfd: `${fmt(ours)} \`socketIn\` + listen`,
      peer: `${fmt(usual)}: helper under \`nsenter -n\` passing the fd back`,
      ratio: `**${faster(ours, usual)}**`,
    });

    const expected = fs.readFileSync(`/proc/${t.pid}/root/mnt/file`);
    const viaNsenter = () => execFileSync('nsenter', ['-m', '-t', String(t.pid), 'cat', '/mnt/file']);
    if (!viaNsenter().equals(expected) || !(readFileIn(pidfd, '/mnt/file') as Buffer).equals(expected) || !(readFileIn(mnt, '/mnt/file') as Buffer).equals(expected)) {
      throw new Error('the readers disagree');
    }
    const cat = timeSync(viaNsenter, 100, 5);
    const direct = timeSync(() => {
      const f = openIn(pidfd, '/mnt/file');
      fs.readFileSync(f.fd);
      f.close();
    }, 5000);
    const helper = timeSync(() => {
      const f = openIn(mnt, '/mnt/file');
      fs.readFileSync(f.fd);
      f.close();
    }, 2000);
    table('read a 4 KiB file in a target mount namespace (per read)', [
      ['nsenter -m -t PID cat FILE', cat],
      ['openIn(pidfd) + read (/proc/PID/root + openat2)', direct],
      ['openIn(mnt Namespace) + read (vfork helper joins mnt)', helper],
    ]);
    readmeRow({
      id: 'openin',
      what: 'read a file in a target\'s mount namespace',
      nsfd: `${fmt(direct)} \`openIn\` + read`,
      peer: `${fmt(cat)} \`nsenter -m -t PID cat\``,
      ratio: `**${faster(direct, cat)}**`,
    });

    const args = ['--fork', '--pid', '--mount-proc', '--mount', '--net', '--uts', '--ipc', '--cgroup', 'true'];
    const unshare = timeSync(() => {
      const r = spawnSync('unshare', args, { stdio: 'ignore' });
      if (r.status !== 0) throw new Error('unshare failed');
    }, 50, 5);
    const create = await timeAsync(async () => {
      const c = await Container.create({ hostname: 'bench' });
      const e = c.exited;
      c.close();
      await e;
    }, 100, 5);
    table('a container: create and tear down (per container)', [
      ['unshare --fork --pid --mount-proc ... true', unshare],
      ['Container.create({hostname}) + close() + exited', create],
    ]);
    console.log(`\n  Container.create + close: ${(1e6 / create).toFixed(0)}/s (unshare ... true: ${(1e6 / unshare).toFixed(0)}/s); socketIn+listen ${fmt(ours)} vs ${fmt(usual)}`);
    readmeRow({
      id: 'container-rate',
      what: 'create + close a container (no rootfs)',
      nsfd: `${(1e6 / create).toFixed(0)} per s \`Container.create\``,
      peer: `${(1e6 / unshare).toFixed(0)} per s \`unshare --fork --pid --mount-proc … true\``,
      ratio: faster(create, unshare),
    });
  } finally {
    mnt.close();
    pidfd.close();
    t.stop();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});


