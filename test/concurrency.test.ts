// Hardening: many spawns at once under load, and children that see only
// the fds they were given. Both run in fixtures (fresh processes): a crash,
// a deadlock (the fixture's timeout) or a zombie stays there and shows here.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { Namespace, Pidfd } from '../lib/index';
import { feat, isRoot, needsRoot, repoRoot, fixturePath } from './helpers';

const fixture = fixturePath;
const ROUNDS = Number(process.env.NSFD_CONC_ROUNDS ?? 3);
const PER_ROUND = Number(process.env.NSFD_CONC_SPAWNS ?? 200);

describe.runIf(feat.clone3.available)('concurrency', () => {
  it(`${ROUNDS} × ${PER_ROUND} spawns at once, with the pool flooded, 2 busy Workers spawning too, child_process alongside${isRoot ? ', attach/restore in a loop' : ''}`, () => {
    const r = spawnSync(process.execPath, [fixture('conc-spawn.js'), String(ROUNDS), String(PER_ROUND)], {
      encoding: 'utf8',
      timeout: 120000,
      cwd: '/',
    });
    expect(r.signal).toBeNull(); // not killed by the timeout (a deadlock) nor crashed
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout);
    console.log(
      `concurrency: ${o.spawned} nsfd spawns (+${o.closedEarly} closed early, +${o.workers.reduce((a: number, w: { spawned: number }) => a + w.spawned, 0)} from Workers), ` +
        `${o.cpChildren} child_process children, ${o.fsOps} fs ops, ${o.attaches} attach/restore, ${o.ms} ms`,
    );
    // No lost or mixed-up exit status.
    expect(o.spawned).toBe(ROUNDS * PER_ROUND);
    expect(o.mismatches).toEqual([]);
    expect(o.cpChildren).toBe(ROUNDS * 20);
    expect(o.cpMismatches).toEqual([]);
    expect(o.pidfdWatchMismatches).toEqual([]);
    // Watching child_process children through pidfds never stole libuv's
    // reaping, and reports the real status where the kernel keeps it.
    if (feat.pidfd_info_exit.available) expect(o.pidfdWatchExact).toBe(o.pidfdWatch);
    for (const w of o.workers) {
      expect(w.spawned).toBeGreaterThan(0);
      expect(w.bad).toBe(0);
      expect(w.spins).toBeGreaterThan(0);
    }
    expect(o.fsOps).toBeGreaterThan(0);
    // No zombie, no child left.
    expect(o.zombies).toEqual([]);
    expect(o.children).toBe('');
    // Attaching while the pool was busy never moved a pool thread.
    if (isRoot) expect(o.attaches).toBeGreaterThan(0);
    expect(o.poolThreadsMoved).toBe(0);
    expect(o.mainNetHome).toBe(true);
  }, 150000);
});

needsRoot('the secret the child must not get is /etc/shadow, readable by root only').describe.runIf(feat.clone3.available)('children see only the fds they were given', () => {
  it('a child spawned into a target\'s namespaces gets 0..2 (and what it is given), never our non-CLOEXEC fds, pidfds, nsfds or sockets', () => {
    // fds 20..24 of the fixture, not close-on-exec there: a secret file, the
    // host's "/", the host's netns, a pidfd of this process, a socket.
    const secret = fs.openSync('/etc/shadow', 'r');
    const root = fs.openSync('/', 'r');
    const netns = Namespace.current('net');
    const self = Pidfd.self();
    try {
      const stdio: (string | number)[] = ['ignore', 'pipe', 'pipe'];
      while (stdio.length < 20) stdio.push('ignore');
      stdio.push(secret, root, netns.fd, self.fd, 'pipe');
      const r = spawnSync(process.execPath, [fixture('conc-fds.js')], { stdio: stdio as never, encoding: 'utf8', timeout: 60000, cwd: '/' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const o = JSON.parse(r.stdout);
      // The set-up holds: inherited, not close-on-exec, of every kind.
      expect(o.inherited.map((x: { cloexec: boolean }) => x.cloexec)).toEqual([false, false, false, false, false]);
      expect(o.inherited.map((x: { link: string }) => x.link)).toEqual(['/etc/shadow', '/', expect.stringMatching(/^net:/), 'anon_inode:[pidfd]', expect.stringMatching(/^socket:/)]);
      expect(o.ours).toBeGreaterThan(10);
      // Control: child_process passes them on.
      for (const fd of ['20', '21', '22', '23', '24']) expect(o.control[fd], `child_process passes fd ${fd}`).toBeDefined();
      // nsfd: exactly 0..2, into the target's namespaces or not, pipes or /dev/null.
      expect(o.joined).toEqual({ 0: '/dev/null', 1: '/dev/null', 2: '/dev/null' });
      expect(Object.keys(o.joinedPipes)).toEqual(['0', '1', '2']);
      for (const l of Object.values(o.joinedPipes)) expect(l).toMatch(/^socket:/);
      expect(o.plain).toEqual({ 0: '/dev/null', 1: '/dev/null', 2: '/dev/null' });
      // Given fds: those, where asked, and nothing else.
      expect(o.given).toEqual({ 0: '/dev/null', 1: '/dev/null', 2: '/dev/null', 3: '/etc/hostname', 5: '/etc/shadow' });
      // From inside the target: none of our fds reachable; it is in the target's netns.
      expect(o.inside).toEqual({ code: 0, stdout: o.targetNet });
    } finally {
      fs.closeSync(secret);
      fs.closeSync(root);
      netns.close();
      self.close();
    }
  });
});
