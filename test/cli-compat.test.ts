// nsfd as a drop-in for util-linux: `nsfd exec` with nsenter's options,
// `nsfd ls` with lsns's, `nsfd unshare` with unshare's, each run side by
// side with the util-linux command on real namespaces, and a closed stdout
// pipe ending nsfd quietly.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Namespace, Pidfd, Rtnetlink, socketIn } from '../lib/index';
import { type Target, isRoot, killAndClose, needsRoot, repoRoot, startTarget, until } from './helpers';

const bin = path.join(repoRoot, 'bin', 'nsfd.js');
const distBuilt = fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'unshare.js'));
const ino = (p: string) => fs.statSync(p).ino;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], opts: { stdio3?: number } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe'];
    if (opts.stdio3 !== undefined) stdio.push(opts.stdio3);
    const cp: ChildProcess = spawn(file, args, { stdio });
    let stdout = '';
    let stderr = '';
    cp.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    cp.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    cp.on('close', (code: number | null) => resolve({ code, stdout, stderr }));
  });
}
const nsfd = (args: string[], opts: { stdio3?: number } = {}) => run(process.execPath, [bin, ...args], opts);

/** nsfd and the util-linux tool with the same arguments: both succeed with the same output. */
async function sameAs(tool: string, args: string[], nsfdCmd: string = tool === 'nsenter' ? 'exec' : tool): Promise<string> {
  const [ours, theirs] = [await nsfd([nsfdCmd, ...args]), await run(tool, args)];
  expect(theirs.stderr).toBe('');
  expect(ours.stderr).toBe('');
  expect(ours.stdout).toBe(theirs.stdout);
  expect(ours.code).toBe(theirs.code);
  return ours.stdout;
}

const netnsName = `nsfdcli${process.pid}`;
const netnsPath = `/run/netns/${netnsName}`;

describe.skipIf(!distBuilt)('nsfd as nsenter, lsns and unshare', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget({ user: !isRoot });
  });
  afterAll(async () => {
    await target?.stop();
  });

  needsRoot('ip netns add: a named network namespace').describe('exec: namespaces by path', () => {
    beforeAll(async () => {
      await new Promise<void>((res) => execFile('ip', ['netns', 'del', netnsName], () => res()));
    });
    it('--net=FILE and -nFILE join that namespace, as nsenter does; a -t default mixes with FILE overrides', async () => {
      await new Promise<void>((res, rej) => execFile('ip', ['netns', 'add', netnsName], (e) => (e ? rej(e) : res())));
      try {
        const t = String(target.pid);
        const want = `net:[${ino(netnsPath)}]\n`;
        expect(await sameAs('nsenter', [`--net=${netnsPath}`, 'readlink', '/proc/self/ns/net'])).toBe(want);
        expect(await sameAs('nsenter', [`-n${netnsPath}`, 'readlink', '/proc/self/ns/net'])).toBe(want);
        // uts and ipc from the target, net from the file.
        const mixed = await sameAs('nsenter', ['-t', t, '-u', '-i', `--net=${netnsPath}`, 'readlink', '/proc/self/ns/uts', '/proc/self/ns/net', '/proc/self/ns/ipc']);
        expect(mixed).toBe(`uts:[${ino(`/proc/${t}/ns/uts`)}]\n${want}ipc:[${ino(`/proc/${t}/ns/ipc`)}]\n`);
        // -a with a FILE override: the override wins.
        const all = await nsfd(['exec', '-t', t, '-a', `--net=${netnsPath}`, 'readlink', '/proc/self/ns/net', '/proc/self/ns/uts']);
        expect(all).toMatchObject({ code: 0, stdout: `${want}uts:[${ino(`/proc/${t}/ns/uts`)}]\n` });
        // -n followed by a word: the word is the command, not a FILE (optional values are attached).
        const plain = await nsfd(['exec', '-t', t, '-n', 'readlink', '/proc/self/ns/net']);
        expect(plain.stdout).toBe(`net:[${ino(`/proc/${t}/ns/net`)}]\n`);
        // Not a namespace file: one line, exit 1.
        const bad = await nsfd(['exec', '--net=/etc/passwd', 'true']);
        expect(bad.code).toBe(1);
        expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
      } finally {
        await new Promise<void>((res) => execFile('ip', ['netns', 'del', netnsName], () => res()));
      }
    });
  });

  it('-U: uid/gid 0 and full capabilities in the user namespace, as nsenter -U; --preserve-credentials keeps ours', async () => {
    const u = await startTarget({ user: true });
    try {
      const t = String(u.pid);
      const script = 'id -u; id -g; grep CapEff /proc/self/status';
      const ours = await nsfd(['exec', '-t', t, '-U', '--', 'sh', '-c', script]);
      expect(ours.stderr).toBe('');
      expect(ours.stdout).toMatch(/^0\n0\nCapEff:\s+0*1ffffffffff\n$|^0\n0\nCapEff:\s+[0-9a-f]*f{8}\n$/);
      if (isRoot) expect(ours.stdout).toBe((await run('nsenter', ['-t', t, '-U', '--', 'sh', '-c', script])).stdout);
      // The target maps 0 to our uid: with --preserve-credentials we keep
      // ours, which reads 0 there (and setns into a user namespace gives
      // its full capabilities, nsenter's too).
      const keep = ['-t', t, '-U', '--preserve-credentials', '--', 'sh', '-c', 'id -u; grep CapEff /proc/self/status'];
      const kept = await nsfd(['exec', ...keep]);
      expect(kept.stdout).toMatch(/^0\nCapEff:\s+[0-9a-f]+\n$/);
      const theirs = await run('nsenter', keep);
      if (theirs.code === 0) expect(kept.stdout).toBe(theirs.stdout);
    } finally {
      await u.stop();
    }
  });

  it('reads options as getopt_long does: bundles, attached values, unique long prefixes', async () => {
    const t = String(target.pid);
    const uts = `uts:[${ino(`/proc/${t}/ns/uts`)}]\n`;
    const userFlag = isRoot ? [] : ['-U'];
    // -F takes nothing, so t starts an option whose value is the rest;
    // -u takes an optional value, so -ut1 would be -u with FILE "t1".
    expect((await nsfd(['exec', `-Ft${t}`, ...userFlag, '-u', 'readlink', '/proc/self/ns/uts'])).stdout).toBe(uts);
    const asFile = await nsfd(['exec', `-ut${t}`, 'true']);
    expect(asFile.code).toBe(1);
    expect(asFile.stderr).toMatch(new RegExp(`^nsfd: ENOENT: .*t${t}`));
    expect((await nsfd(['exec', `--targ=${t}`, ...userFlag, '--ut', 'readlink', '/proc/self/ns/uts'])).stdout).toBe(uts);
    const ambiguous = await nsfd(['exec', `--t=${t}`, 'true']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/^nsfd: option '--t' is ambiguous/);
    const noValue = await nsfd(['exec', '-u', '--target']);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toMatch(/^nsfd: option '--target' requires an argument/);
  });

  it('-t PID:INODE checks the pidfs inode (util-linux 2.41)', async (ctx) => {
    const t = target.pid;
    let id: bigint;
    try {
      using p = Pidfd.open(t);
      id = p.id;
    } catch {
      ctx.skip(); // pidfs inodes need Linux 6.9
      return;
    }
    expect((await nsfd(['exec', '-t', `${t}:${id}`, ...(isRoot ? [] : ['-U']), '-u', 'readlink', '/proc/self/ns/uts'])).stdout).toBe(`uts:[${ino(`/proc/${t}/ns/uts`)}]\n`);
    const wrong = await nsfd(['exec', '-t', `${t}:${id + 1n}`, '-u', 'true']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^nsfd: ESRCH: .*reused\)\n$/);
  });

  describe('exec: the target\'s cwd, root, environment, cgroup', () => {
    let plain: ChildProcess;
    beforeAll(async () => {
      plain = spawn('sleep', ['100000'], { cwd: '/usr', env: { PATH: process.env.PATH, NSFD_MARK: 'the target' }, stdio: 'ignore' });
      await until(() => fs.readlinkSync(`/proc/${plain.pid}/exe`).endsWith('sleep'), 'sleep');
    });
    afterAll(async () => {
      await killAndClose(plain);
    });

    it('-w without DIR is the target\'s cwd, -e its environment, -F is accepted: as nsenter', async () => {
      const t = String(plain.pid);
      expect(await sameAs('nsenter', ['-t', t, '-w', 'pwd'])).toBe('/usr\n');
      // nsenter has -e since util-linux 2.40.
      const withEnv = ['-t', t, '-e', '-F', 'sh', '-c', 'echo "$NSFD_MARK"'];
      if ((await run('nsenter', ['--help'])).stdout.includes('--env')) expect(await sameAs('nsenter', withEnv)).toBe('the target\n');
      else expect((await nsfd(['exec', ...withEnv])).stdout).toBe('the target\n');
      expect(await sameAs('nsenter', ['-t', t, '--wd=/etc', 'pwd'])).toBe('/etc\n');
    });

    needsRoot('-S/-G: CAP_SETUID').it('-S/-G take names as well as numbers', async () => {
      const group = fs.readFileSync('/etc/group', 'utf8').includes('\nnogroup:') ? 'nogroup' : 'nobody';
      const r = await nsfd(['exec', '-t', String(plain.pid), '-S', 'nobody', '-G', group, '--', 'sh', '-c', 'id -un; id -gn']);
      expect(r).toMatchObject({ code: 0, stdout: `nobody\n${group}\n` });
      const bad = await nsfd(['exec', '-t', String(plain.pid), '-S', 'no-such-user-here', 'true']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/no such user 'no-such-user-here'/);
    });

    needsRoot('a cgroup of our own: mkdir in the cgroup2 hierarchy').it('-c joins the target\'s cgroup, as nsenter -c', async (ctx) => {
      const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.includes(' - cgroup2 '));
      const mnt = line?.split(' ')[4];
      if (mnt === undefined) return ctx.skip();
      const dir = path.join(mnt, `nsfd-cli-${process.pid}`);
      try {
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(plain.pid));
      } catch {
        return ctx.skip(); // no writable cgroup v2 here (a container's read-only cgroupfs)
      }
      const c = await nsfd(['exec', '-t', String(plain.pid), '-c', 'cat', '/proc/self/cgroup']);
      const n = await run('nsenter', ['-t', String(plain.pid), '-c', 'cat', '/proc/self/cgroup']);
      try {
        expect(c.stdout).toContain(`0::/nsfd-cli-${process.pid}\n`);
        if (n.code === 0) expect(c.stdout.split('\n').find((l) => l.startsWith('0::'))).toBe(n.stdout.split('\n').find((l) => l.startsWith('0::')));
      } finally {
        fs.writeFileSync(path.join(mnt, 'cgroup.procs'), String(plain.pid));
        await until(() => {
          try {
            fs.rmdirSync(dir);
            return true;
          } catch {
            return false;
          }
        }, 'the test cgroup to empty');
      }
    });
  });

  needsRoot('setns into a network namespace of another user namespace: CAP_SYS_ADMIN there').it('-N FD joins the network namespace of a socket we hold', async () => {
    using p = Pidfd.open(target.pid);
    const sock = socketIn(p, { family: 'unix', type: 'dgram' });
    try {
      const r = await nsfd(['exec', '-N', '3', 'readlink', '/proc/self/ns/net'], { stdio3: sock.fd });
      expect(r).toMatchObject({ code: 0, stdout: `net:[${ino(`/proc/${target.pid}/ns/net`)}]\n` });
    } finally {
      sock.close();
    }
  });

  describe('ls as lsns', () => {
    const COLS = 'NS,TYPE,PATH,NPROCS,PID,PPID,COMMAND,UID,USER,NETNSID,NSFS,PNS,ONS';
    type Row = Record<string, unknown>;
    const lsnsRows = async (): Promise<Map<string, Row>> => {
      const r = await run('lsns', ['-J', '-o', COLS]);
      expect(r.code).toBe(0);
      const flat = (xs: Row[]): Row[] => xs.flatMap((x) => [x, ...flat((x.children as Row[] | undefined) ?? [])]);
      return new Map(flat((JSON.parse(r.stdout) as { namespaces: Row[] }).namespaces).map((x) => [`${String(x.type)}:${String(x.ns)}`, x]));
    };

    it('-J -o with every lsns column: where both see a namespace, every value agrees', async () => {
      // Other processes come and go: compare the rows lsns printed the same
      // before and after nsfd ran; a row that changed between all three runs
      // anyway (a process that came and went meanwhile) gets another try.
      const keys = COLS.toLowerCase().split(',');
      // Our own namespaces count the lister itself (and this suite's churn).
      const ours_ = new Set(['mnt', 'net', 'pid', 'user', 'uts', 'ipc', 'cgroup', 'time'].map((t) => `${t}:${ino(`/proc/self/ns/${t}`)}`));
      let diffs: unknown[] = [];
      let compared = 0;
      for (let attempt = 0; attempt < 3; attempt++) {
        const before = await lsnsRows();
        const ours = await nsfd(['ls', '-J', '-o', COLS]);
        const after = await lsnsRows();
        expect(ours.code).toBe(0);
        const nsfdRows = new Map((JSON.parse(ours.stdout) as { namespaces: Row[] }).namespaces.map((x) => [`${String(x.type)}:${String(x.ns)}`, x]));
        diffs = [];
        compared = 0;
        for (const [k, row] of before) {
          if (ours_.has(k) || JSON.stringify(after.get(k)) !== JSON.stringify(row)) continue;
          const mine = nsfdRows.get(k);
          if (mine === undefined) diffs.push([k, 'missing']);
          for (const key of keys) if (mine !== undefined && mine[key] !== row[key]) diffs.push([k, key, mine[key], row[key]]);
          compared++;
        }
        if (diffs.length === 0) break;
      }
      expect(diffs).toEqual([]);
      expect(compared).toBeGreaterThanOrEqual(5);
      const before = await lsnsRows();
      // The target's namespaces are stable: they were compared.
      expect(before.get(`uts:${ino(`/proc/${target.pid}/ns/uts`)}`)).toBeDefined();
    });

    it('default -J keys are lsns\'s (nsfd\'s extras beside them), -t net adds netnsid and nsfs', async () => {
      // (lsns nests a namespace under the one its first process's parent is
      // in, as "children": whether the first row has any depends on what
      // runs meanwhile. The column keys are what a jq script reads.)
      const keysOf = (row: Row) => Object.keys(row).filter((k) => k !== 'children');
      const theirs = (JSON.parse((await run('lsns', ['-J'])).stdout) as { namespaces: Row[] }).namespaces[0] ?? {};
      const ours = (JSON.parse((await nsfd(['ls', '-J'])).stdout) as { namespaces: Row[] }).namespaces[0] ?? {};
      expect(keysOf(ours).slice(0, keysOf(theirs).length)).toEqual(keysOf(theirs));
      expect(ours).toHaveProperty('pids');
      expect(ours).toHaveProperty('holders');
      const net = (JSON.parse((await nsfd(['ls', '-J', '-t', 'net'])).stdout) as { namespaces: Row[] }).namespaces[0] ?? {};
      const lnet = (JSON.parse((await run('lsns', ['-J', '-t', 'net'])).stdout) as { namespaces: Row[] }).namespaces[0] ?? {};
      expect(keysOf(net).slice(0, keysOf(lnet).length)).toEqual(keysOf(lnet));
    });

    it('-T owner and -T parent draw the rows of the target\'s namespaces as lsns --tree does', async () => {
      for (const [rel, type] of [['owner', 'uts'], ['parent', 'pid']] as const) {
        const want = ino(`/proc/${target.pid}/ns/${type}`);
        // Whether a row is drawn as a last child depends on its later
        // siblings, which come and go between the two runs: compare depth.
        const line = (out: string) => out.split('\n').find((l) => new RegExp(`[─ ]${want} `).test(l) || l.startsWith(`${want} `))?.replace(/[├└│]/g, '+');
        const ours = await nsfd(['ls', `--tree=${rel}`, '-o', 'NS,TYPE']);
        const theirs = await run('lsns', [`--tree=${rel}`, '-o', 'NS,TYPE']);
        expect(line(ours.stdout)).toBeDefined();
        // Rootless, lsns 2.38 leaves out of its trees what it cannot place.
        if (isRoot || line(theirs.stdout) !== undefined) expect(line(ours.stdout)).toBe(line(theirs.stdout));
      }
    });

    it('-r, -n, -u, -l, -o, -p PID, repeated -t, a namespace argument', async () => {
      const t = target.pid;
      const uts = ino(`/proc/${t}/ns/uts`);
      const raw = await nsfd(['ls', '-r', '-n', '-u', '-l', '-o', 'NS,TYPE,PID', '-t', 'uts', '-t', 'ipc']);
      expect(raw.code).toBe(0);
      const lines = raw.stdout.trimEnd().split('\n');
      expect(lines.every((l) => /^\d+ (uts|ipc) \d+$/.test(l))).toBe(true);
      expect(lines).toContain(`${uts} uts ${(await lsnsRows()).get(`uts:${uts}`)?.pid as number}`);
      // -p: the namespaces of one process, as lsns -p.
      const p = await nsfd(['ls', '-p', String(t), '-n', '-o', 'NS,TYPE']);
      const lp = await run('lsns', ['-p', String(t), '-n', '-o', 'NS,TYPE']);
      const norm = (s: string) => s.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).sort();
      if (lp.stdout.trim() !== '') expect(norm(p.stdout)).toEqual(norm(lp.stdout));
      expect(norm(p.stdout)).toContain(`${uts} uts`);
      // NS: the processes in it.
      const procs = await nsfd(['ls', String(uts)]);
      expect(procs.stdout.split('\n')[0]).toMatch(/^\s*PID\s+PPID\s+USER\s+COMMAND$/);
      expect(procs.stdout).toMatch(new RegExp(`^\\s*${t}\\s+\\d+\\s+\\S+\\s+sleep 100000$`, 'm'));
      expect((await nsfd(['ls', '-o', 'NS,BOGUS'])).code).toBe(2);
      const plus = (await nsfd(['ls', '-o', '+PNS', '-n', '-t', 'pid'])).stdout.split('\n')[0] ?? '';
      expect(plus.trim().split(/\s+/).length).toBeGreaterThanOrEqual(6);
    });
  });

  needsRoot('RTM_NEWNSID needs CAP_NET_ADMIN').it('NETNSID: the id our network namespace gives another, as lsns shows it ("unassigned" when none)', async () => {
    const child = spawn('unshare', ['-n', 'sleep', '100000'], { stdio: 'ignore' });
    try {
      const pid = child.pid as number;
      await until(() => fs.readlinkSync(`/proc/${pid}/ns/net`) !== fs.readlinkSync('/proc/self/ns/net'), 'unshare -n to run');
      const ns = Number(/\d+/.exec(fs.readlinkSync(`/proc/${pid}/ns/net`))?.[0]);
      const cell = async (cmd: Promise<{ stdout: string }>) => ((JSON.parse((await cmd).stdout) as { namespaces: { ns: number; netnsid: unknown }[] }).namespaces.find((x) => x.ns === ns))?.netnsid;
      const both = async () => [await cell(nsfd(['ls', '-J', '-t', 'net', '-o', 'NS,NETNSID'])), await cell(run('lsns', ['-J', '-t', 'net', '-o', 'NS,NETNSID']))];
      expect(await both()).toEqual(['unassigned', 'unassigned']);
      {
        using self = Namespace.current('net');
        using theirs = Namespace.ofPid(pid, 'net');
        using nl = Rtnetlink.open(self);
        const id = await nl.setNsid(theirs);
        expect(await both()).toEqual([String(id), String(id)]);
        // Other types have none (null); in the table it is right-aligned, as lsns has it.
        const all = (JSON.parse((await nsfd(['ls', '-J', '-o', 'NS,TYPE,NETNSID'])).stdout) as { namespaces: { type: string; netnsid: unknown }[] }).namespaces;
        expect(all.filter((x) => x.type !== 'net').every((x) => x.netnsid === null)).toBe(true);
        const [head = '', ...rows] = (await nsfd(['ls', '-t', 'net', '-o', 'NS,NETNSID'])).stdout.trimEnd().split('\n');
        const row = rows.find((l) => l.trim().startsWith(`${ns} `)) ?? '';
        expect(row).toMatch(new RegExp(`^\\s*${ns}\\s+${id}$`));
        expect(row.length).toBe(head.length);
      }
    } finally {
      child.kill('SIGKILL');
    }
  });

  describe('unshare as unshare', () => {
    it('new namespaces, -pf --mount-proc (pid 1), -r (root in a new user namespace), like unshare', async () => {
      const rootless = isRoot ? [] : ['-r'];
      const u = await nsfd(['unshare', ...rootless, '-u', '-i', 'readlink', '/proc/self/ns/uts']);
      expect(u.code).toBe(0);
      expect(u.stdout).toMatch(/^uts:\[\d+\]\n$/);
      expect(u.stdout).not.toBe(`${fs.readlinkSync('/proc/self/ns/uts')}\n`);
      expect(await sameAs('unshare', [...rootless, '-pf', '--mount-proc', 'sh', '-c', 'echo $$; cat /proc/1/comm; ls /proc | grep -c "^[0-9]" >/dev/null'])).toBe('1\nsh\n');
      expect(await sameAs('unshare', ['-r', 'sh', '-c', 'id -u; id -g; cat /proc/self/setgroups'])).toBe('0\n0\ndeny\n');
      expect(await sameAs('unshare', ['--map-user=1234', '--map-group=1234', 'sh', '-c', 'id -u; id -g'])).toBe('1234\n1234\n');
      // unshare -U alone runs CMD as nobody with our ids behind it: refused.
      const bare = await nsfd(['unshare', '-U', 'true']);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toMatch(/^nsfd: -U needs a uid map/);
    });

    it('-m: mounts stay inside (--propagation private, the default); slave is refused', async () => {
      const rootless = isRoot ? [] : ['-r'];
      if (isRoot) {
        expect(await sameAs('unshare', ['-m', 'findmnt', '-n', '-o', 'PROPAGATION', '/'])).toBe('private\n');
      } else {
        // In a new user namespace shared mounts become slaves (the kernel's
        // rule): nothing propagates back, which is what private is for.
        const r = await nsfd(['unshare', '-r', '-m', 'findmnt', '-n', '-o', 'PROPAGATION', '/']);
        expect(r.stdout).toMatch(/^(private|private,slave|slave)\n$/);
      }
      const slave = await nsfd(['unshare', ...rootless, '-m', '--propagation', 'slave', 'true']);
      expect(slave.code).toBe(2);
    });

    needsRoot('a bind mount on the host').it('--net=FILE binds the new namespace on FILE, also for a command that ends at once', async () => {
      const file = path.join(os.tmpdir(), `nsfd-cli-net-${process.pid}`);
      fs.writeFileSync(file, '');
      try {
        const r = await nsfd(['unshare', `--net=${file}`, '-u', 'readlink', '/proc/self/ns/net']);
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(`net:[${ino(file)}]\n`);
        expect(await sameAs('nsenter', [`--net=${file}`, 'readlink', '/proc/self/ns/net'])).toBe(r.stdout);
        await new Promise<void>((res) => execFile('umount', [file], () => res()));
        // `true` ends before anything could be read from it: still bound.
        expect((await nsfd(['unshare', `--net=${file}`, 'true'])).code).toBe(0);
        expect(fs.readlinkSync(`/proc/self/ns/net`)).not.toBe(`net:[${ino(file)}]`);
        expect(ino(file)).not.toBe(ino('/proc/self/ns/net'));
        await new Promise<void>((res) => execFile('umount', [file], () => res()));
        // With a new pid namespace and /proc: the command is still pid 1.
        const pid1 = await nsfd(['unshare', `--net=${file}`, '-m', '-p', '-f', '--mount-proc', 'sh', '-c', 'echo $$; readlink /proc/self/ns/net']);
        expect(pid1).toMatchObject({ code: 0, stdout: `1\nnet:[${ino(file)}]\n` });
      } finally {
        await new Promise<void>((res) => execFile('umount', [file], () => res()));
        fs.rmSync(file, { force: true });
      }
    });
  });

  it('each command is one file with only the library code it uses (scripts/bundle.ts)', () => {
    const loaded = (file: string) => {
      const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)}); console.log(JSON.stringify(Object.keys(require.cache)))`], { encoding: 'utf8' });
      return (JSON.parse(r.stdout) as string[]).map((f) => path.relative(repoRoot, f));
    };
    expect(loaded(path.join(repoRoot, 'dist', 'cli', 'ls.js'))).toEqual(['dist/cli/ls.js', expect.stringMatching(/\.node$/)]);
    expect(loaded(path.join(repoRoot, 'dist', 'cli', 'main.js'))).toEqual(['dist/cli/main.js']);
    const text = (f: string) => fs.readFileSync(path.join(repoRoot, 'dist', 'cli', f), 'utf8');
    expect(text('ls.js')).not.toMatch(/Subprocess = class/);
    expect(text('exec.js')).toMatch(/Subprocess = class/);
    expect(text('exec.js')).not.toMatch(/function listNamespaces/);
    // Commands that import the library (not require() it through api.ts) get only what they use.
    for (const f of ['features.js', 'lifecycle.js', 'translate.js', 'netns.js', 'exec.js']) expect([f, /Container = class/.test(text(f))]).toEqual([f, false]);
    expect(text('run.js')).toMatch(/Container = class/);
  });

  it('a reader that closes the pipe (nsfd ls | head -1) ends nsfd with exit 0 and nothing on stderr', async () => {
    for (const args of [['ls'], ['ls', '-J'], ['features']]) {
      const cp = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      cp.stdout?.destroy();
      let stderr = '';
      cp.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise<number | null>((res) => cp.on('close', res));
      expect([args, code, stderr]).toEqual([args, 0, '']);
    }
  });
});

