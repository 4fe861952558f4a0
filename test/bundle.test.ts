// OCI bundles: config.json mapped onto Container.create (each unsupported
// field an error naming its JSON path), and a bundle made by `runc spec`
// run under nsfd and under `runc run` with the same observable result.
// Real kernel, real busybox, real runc (skipped when missing; CI installs it).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BundleConfigError, Container, Namespace } from '../lib/index';
import { bundleOptions, readBundleConfig, MAX_CONFIG_BYTES } from '../lib/container/bundle';
import { native } from '../lib/sys/native';
import { busyboxRootfs, haveBusybox, isRoot, needsRoot, repoRoot } from './helpers';

const haveInit = (() => {
  const fd = native.init_memfd();
  if (fd >= 0) native.close(fd);
  return fd >= 0 || fs.existsSync(path.join(repoRoot, 'build', 'Release', 'nsfd-init'));
})();
const runcPath = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));

/** What `runc spec` (1.1) writes, with terminal false: the base of the mapping tests. */
const runcSpec = (): Record<string, any> => ({
  ociVersion: '1.0.2-dev',
  process: {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args: ['sh'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
    cwd: '/',
    capabilities: {
      bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      ambient: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  },
  root: { path: 'rootfs', readonly: true },
  hostname: 'runc',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ],
  linux: {
    resources: { devices: [{ allow: false, access: 'rwm' }] },
    namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  },
});
const host = { cgroupRoot: () => '/sys/fs/cgroup', ownCgroup: () => '/sys/fs/cgroup/user.slice/me' };
const map = (config: unknown) => bundleOptions(config, '/b', {}, host);
/** Runs fn on a fresh runc spec and expects a BundleConfigError naming `field`. */
const refused = (field: string, edit: (c: Record<string, any>) => void, code = 'ERR_NSFD_BUNDLE_UNSUPPORTED') => {
  const c = runcSpec();
  edit(c);
  let err: unknown;
  try {
    map(c);
  } catch (e) {
    err = e;
  }
  expect(err, field).toBeInstanceOf(BundleConfigError);
  expect((err as BundleConfigError).field).toBe(field);
  expect((err as BundleConfigError).code).toBe(code);
  expect((err as Error).message).toContain(field);
};

describe('bundleOptions: config.json to Container.create options', () => {
  it('maps what runc spec writes', async () => {
    const warnings: string[] = [];
    const onWarn = (w: Error & { code?: string }) => warnings.push(w.code ?? '');
    process.on('warning', onWarn);
    let o: ReturnType<typeof map>;
    try {
      o = map(runcSpec());
      await new Promise((r) => setImmediate(r));  // (warnings are emitted on the next tick)
    } finally {
      process.off('warning', onWarn);
    }
    expect(o.rootfs).toBe('/b/rootfs');
    expect(o.readonlyRootfs).toBe(true);
    expect(o.unshare).toEqual(['pid', 'net', 'ipc', 'uts', 'mnt']);
    expect(o.command).toEqual(['sh']);
    expect(o.env).toEqual({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', TERM: 'xterm' });
    expect(o.cwd).toBe('/');
    expect(o.uid).toBe(0);
    expect(o.gid).toBe(0);
    expect(o.noNewPrivileges).toBe(true);
    expect(o.seccomp).toBe(false);
    expect(o.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }]);
    // Ambient without inheritable cannot be raised (runc leaves it out too): said by a warning.
    expect(o.capabilities).toMatchObject({ bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'], ambient: [] });
    expect(warnings).toContain('NSFD_BUNDLE_AMBIENT');
    expect(o.hostname).toBe('runc');
    expect(o.maskedPaths).toEqual(runcSpec().linux.maskedPaths);
    expect(o.readonlyPaths).toEqual(runcSpec().linux.readonlyPaths);
    expect(o.defaultMounts).toBe(false);
    expect(o.defaultDevices).toBe(true);
    expect(o.mounts?.map((m) => m.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
    // A cgroup mount without a cgroup namespace binds the cgroup the container runs in.
    expect(o.mounts?.[6]).toEqual({ type: 'bind', source: '/sys/fs/cgroup/user.slice/me', destination: '/sys/fs/cgroup', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
    expect(o.resources).toBeUndefined();
  });

  it('absent fields mean none, not nsfd\'s defaults: no env of ours, no capabilities, no seccomp, no masks', () => {
    const c = runcSpec();
    delete c.process.env;
    delete c.process.capabilities;
    delete c.process.noNewPrivileges;
    delete c.linux.maskedPaths;
    delete c.linux.readonlyPaths;
    const o = map(c);
    expect(o.env).toEqual({});
    expect(o.capabilities).toEqual({});
    expect(o.noNewPrivileges).toBe(false);
    expect(o.seccomp).toBe(false);
    expect(o.maskedPaths).toEqual([]);
    expect(o.readonlyPaths).toEqual([]);
  });

  it('maps ids, user namespace maps, cgroup namespace mounts, resources, sysctl and cgroupsPath', () => {
    const c = runcSpec();
    c.process.user = { uid: 1000, gid: 1001, additionalGids: [5, 6] };
    c.linux.namespaces.push({ type: 'user' }, { type: 'cgroup' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    c.linux.resources = { memory: { limit: 64 << 20, swap: 96 << 20 }, pids: { limit: 32 }, cpu: { shares: 1024, quota: 50000, period: 100000 } };
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmni': '1234', 'fs.mqueue.msg_max': '20', 'kernel.domainname': 'example' };
    c.linux.cgroupsPath = '/nsfd/box1';
    c.mounts.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro'] });
    const o = map(c);
    expect([o.uid, o.gid, o.groups]).toEqual([1000, 1001, [5, 6]]);
    expect(o.uidMap).toEqual([{ inside: 0, outside: 100000, count: 65536 }]);
    expect(o.gidMap).toEqual([{ inside: 0, outside: 200000, count: 65536 }]);
    expect(o.mounts?.[6]).toEqual({ type: 'cgroup2', destination: '/sys/fs/cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
    // A relative bind source is under the bundle.
    expect(o.mounts?.[7]).toEqual({ type: 'bind', source: '/b/data', destination: '/data', options: ['rbind', 'ro'] });
    // OCI swap is memory+swap; cgroup v2's swap.max is swap alone. shares 1024 -> weight 39 (runc's formula).
    expect(o.resources).toEqual({ memory: { max: 64 << 20, swap: 32 << 20 }, pids: { max: 32 }, cpu: { weight: 39, quota: 50000, period: 100000 } });
    expect(o.sysctl).toEqual(c.linux.sysctl);
    expect([o.cgroupParent, o.cgroupName]).toEqual(['/sys/fs/cgroup/nsfd', 'box1']);
    c.linux.cgroupsPath = 'sub/box2';
    const r = map(c);
    expect([r.cgroupParent, r.cgroupName]).toEqual(['/sys/fs/cgroup/user.slice/me/sub', 'box2']);
  });

  const cases: [string, (c: Record<string, any>) => void, string?][] = [
    ['process.terminal', (c) => (c.process.terminal = true)],
    ['hooks.prestart', (c) => (c.hooks = { prestart: [{ path: '/bin/true' }] })],
    ['hooks.createRuntime', (c) => (c.hooks = { poststart: [], createRuntime: [{ path: '/bin/true' }] })],
    ['linux.namespaces[0].path', (c) => (c.linux.namespaces[0].path = '/proc/1/ns/pid')],
    ['linux.namespaces[4].path', (c) => (c.linux.namespaces[4].path = '/proc/1/ns/mnt')],
    ['hostname', (c) => (c.linux.namespaces[3].path = '/proc/1/ns/uts'), 'ERR_NSFD_BUNDLE_INVALID'],
    ['linux.namespaces[5].type', (c) => c.linux.namespaces.push({ type: 'bogus' })],
    ['linux.namespaces', (c) => c.linux.namespaces.splice(4, 1)],
    ['process.user.umask', (c) => (c.process.user.umask = 0o22)],
    ['process.oomScoreAdj', (c) => (c.process.oomScoreAdj = 100)],
    ['process.apparmorProfile', (c) => (c.process.apparmorProfile = 'docker-default')],
    ['process.selinuxLabel', (c) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0')],
    ['process.scheduler', (c) => (c.process.scheduler = { policy: 'SCHED_FIFO' })],
    ['process.ioPriority', (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE' })],
    ['process.execCPUAffinity', (c) => (c.process.execCPUAffinity = { initial: '0' })],
    ['process.bogus', (c) => (c.process.bogus = 1)],
    ['solaris', (c) => (c.solaris = {})],
    ['linux.devices', (c) => (c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }])],
    ['linux.intelRdt', (c) => (c.linux.intelRdt = { closID: 'x' })],
    ['linux.personality', (c) => (c.linux.personality = { domain: 'LINUX32' })],
    ['linux.timeOffsets', (c) => (c.linux.timeOffsets = { monotonic: { secs: 1 } })],
    ['linux.mountLabel', (c) => (c.linux.mountLabel = 'system_u:object_r:container_file_t:s0')],
    ['linux.resources.devices[1]', (c) => c.linux.resources.devices.push({ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' })],
    ['linux.resources.blockIO', (c) => (c.linux.resources.blockIO = { weight: 100 })],
    ['linux.resources.hugepageLimits', (c) => (c.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: 0 }])],
    ['linux.resources.unified', (c) => (c.linux.resources.unified = { 'memory.high': '1G' })],
    ['linux.resources.memory.kernel', (c) => (c.linux.resources.memory = { kernel: 1 << 20 })],
    ['linux.resources.memory.reservation', (c) => (c.linux.resources.memory = { reservation: 1 << 20 })],
    ['linux.resources.cpu.cpus', (c) => (c.linux.resources.cpu = { cpus: '0-1' })],
    ['linux.rootfsPropagation', (c) => (c.linux.rootfsPropagation = 'shared')],
    ['linux.cgroupsPath', (c) => (c.linux.cgroupsPath = 'system.slice:nsfd:box')],
    ['linux.sysctl["kernel.panic"]', (c) => (c.linux.sysctl = { 'kernel.panic': '1' })],
    ['linux.sysctl["net.ipv4.ip_forward"]', (c) => {
      c.linux.namespaces.splice(1, 1);
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    }, 'ERR_NSFD_BUNDLE_INVALID'],
    ['mounts[0].uidMappings', (c) => (c.mounts[0].uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }])],
    ['mounts[1].options', (c) => c.mounts[1].options.push('rshared')],
    ['ociVersion', (c) => (c.ociVersion = '2.0.0')],
    ['linux.uidMappings', (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), 'ERR_NSFD_BUNDLE_INVALID'],
    ['linux.uidMappings', (c) => c.linux.namespaces.push({ type: 'user' }), 'ERR_NSFD_BUNDLE_INVALID'],
    ['process.args', (c) => (c.process.args = []), 'ERR_NSFD_BUNDLE_INVALID'],
    ['process.cwd', (c) => (c.process.cwd = 'relative'), 'ERR_NSFD_BUNDLE_INVALID'],
    ['process.env[1]', (c) => (c.process.env[1] = 'NOEQUALS'), 'ERR_NSFD_BUNDLE_INVALID'],
    ['root.path', (c) => (c.root.path = 42), 'ERR_NSFD_BUNDLE_INVALID'],
    ['linux.resources.memory.swap', (c) => (c.linux.resources.memory = { limit: 100, swap: 50 }), 'ERR_NSFD_BUNDLE_INVALID'],
  ];
  it.each(cases)('%s: an error naming it', (field, edit, code) => refused(field, edit, code));

  it('network, ipc and uts namespaces with a path are joined, not made', () => {
    const c = runcSpec();
    c.linux.namespaces[1].path = '/run/netns/blue';
    c.linux.namespaces[2].path = '/proc/1/ns/ipc';
    const o = map(c);
    expect(o.unshare).toEqual(['pid', 'uts', 'mnt']);
    expect(o.joinPaths).toEqual([{ type: 'net', path: '/run/netns/blue' }, { type: 'ipc', path: '/proc/1/ns/ipc' }]);
    // A sysctl of a joined namespace is not the container's to set.
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    expect(() => map(c)).toThrow(expect.objectContaining({ field: 'linux.sysctl["net.ipv4.ip_forward"]' }));
  });

  it('Container.create({ join }) takes net, ipc and uts Namespaces of types it does not make', async () => {
    const net = Namespace.current('net');
    const mnt = Namespace.current('mnt');
    try {
      await expect(Container.create({ join: [mnt] })).rejects.toThrow(/only net, ipc, uts can be joined/);
      await expect(Container.create({ join: [net] })).rejects.toThrow(/options.unshare makes new/);
      await expect(Container.create({ unshare: ['mnt', 'pid'], join: [net, net] })).rejects.toThrow(/a second net namespace/);
      await expect(Container.create({ join: ['x'] as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    } finally {
      net.close();
      mnt.close();
    }
  });

  it('seccomp and rlimits are checked with their JSON paths', () => {
    const c = runcSpec();
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' };
    expect(() => map(c)).toThrow(/linux\.seccomp\.listenerPath/);
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_BOGUS' };
    expect(() => map(c)).toThrow(/linux\.seccomp\.defaultAction/);
    const d = runcSpec();
    d.process.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }];
    expect(() => map(d)).toThrow(/process\.rlimits\[0\]/);
    d.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }];
    expect(() => map(d)).toThrow(/process\.rlimits\[0\]/);
    const e = runcSpec();
    e.hooks = { prestart: [], poststop: [] };
    expect(map(e).command).toEqual(['sh']);
  });

  it('a cgroup mount without a cgroup namespace, for a container with a cgroup of its own, is refused', () => {
    refused('mounts[6]', (c) => (c.linux.cgroupsPath = '/nsfd/x'));
  });

  it('reads config.json bounded: missing, not JSON, too big, not a regular file', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-bundle-read-'));
    try {
      expect(() => readBundleConfig(d)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      fs.writeFileSync(path.join(d, 'config.json'), '{ nope');
      expect(() => readBundleConfig(d)).toThrow(expect.objectContaining({ code: 'ERR_NSFD_BUNDLE_INVALID', field: 'config.json' }));
      fs.writeFileSync(path.join(d, 'config.json'), Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20));
      expect(() => readBundleConfig(d)).toThrow(/larger than/);
      fs.rmSync(path.join(d, 'config.json'));
      // A FIFO would block a plain read: opened non-blocking and refused.
      expect(spawnSync('mkfifo', [path.join(d, 'config.json')]).status).toBe(0);
      expect(() => readBundleConfig(d)).toThrow(/not a regular file/);
      fs.rmSync(path.join(d, 'config.json'));
      fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(runcSpec()));
      expect(readBundleConfig(d)).toEqual(runcSpec());
      expect(() => readBundleConfig('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('Container.create({ sysctl }) takes namespaced sysctls of its own namespaces only, checked before anything starts', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ 'kernel.panic': '1' }, /not a namespaced sysctl/],
      [{ 'kernel.hostname': 'x' }, /use options.hostname/],
      [{ '../../etc/passwd': 'x' }, /not a sysctl name/],
      [{ 'net.ipv4.ip_forward': 1 }, /must be a string/],
    ];
    for (const [sysctl, re] of bad) await expect(Container.create({ sysctl: sysctl as Record<string, string>, command: ['/bin/true'] })).rejects.toThrow(re);
    await expect(Container.create({ unshare: ['mnt', 'pid', 'uts'], sysctl: { 'net.ipv4.ip_forward': '1' }, command: ['/bin/true'] })).rejects.toThrow(/needs a new net namespace/);
    await expect(Container.create({ sysctl: { 'net.ipv4.ip_forward': '1' } })).rejects.toThrow(/needs nsfd-init and options.command/);
  });

  it('fromBundle checks its options and the id', async () => {
    await expect(Container.fromBundle('/nonexistent', { id: '../x' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(Container.fromBundle('/nonexistent', { bogus: 1 } as never)).rejects.toThrow(/bogus/);
  });
});

// --- Running bundles -------------------------------------------------------

let dir = '';
let rootfs = '';

beforeAll(() => {
  if (!haveBusybox) return;
  ({ dir, rootfs } = busyboxRootfs('nsfd-bundle-', ['sh', 'cat', 'ls', 'id', 'hostname', 'grep', 'cut', 'wc', 'mkdir', 'pwd', 'readlink']));
  fs.mkdirSync(path.join(rootfs, 'work'));
});

afterAll(() => {
  if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
});

/** What the workload reports, one section per check. */
const CHECK = [
  'id',
  'hostname',
  "grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status",
  // Mount points, those under /sys/fs/cgroup left out: runc mounts the v1
  // controllers there on a hybrid host; and the default device nodes: nsfd
  // binds the host's on a nodev /dev where runc, as root, makes them.
  "cut -d' ' -f5 /proc/self/mountinfo | grep -v -E '^/sys/fs/cgroup/|^/dev/(null|zero|full|random|urandom|tty)$' | sort",
  'ls /dev | grep -v "^core$" | sort',
  'wc -c < /proc/keys; ls /sys/firmware | wc -l',
  'pwd; echo "$FOO"; ulimit -n',
  'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni',
  'mkdir /dev/shm/x 2>&1 && echo made || echo refused',
  'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max 2>/dev/null || echo no-v2-limits',
].join('; echo ---; ') + '; exit 3';

/** A bundle dir with config.json from `runc spec [--rootless]`, edited. */
function makeBundle(name: string, rootless: boolean, edit: (c: Record<string, any>) => void): string {
  const b = path.join(dir, name);
  fs.mkdirSync(b);
  fs.chmodSync(b, 0o755);
  let c: Record<string, any>;
  if (runcPath !== undefined) {
    const r = spawnSync(runcPath, rootless ? ['spec', '--rootless'] : ['spec'], { cwd: b, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    c = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8')) as Record<string, any>;
  } else {
    // (No runc, as in the kernel VMs: what its `runc spec` writes.)
    expect(rootless).toBe(false);
    c = runcSpec();
  }
  c.process.terminal = false;
  c.process.args = ['/bin/sh', '-c', CHECK];
  c.root.path = rootfs;
  edit(c);
  fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(c, null, 2));
  return b;
}

async function underNsfd(bundle: string): Promise<{ code: number | null; stdout: string }> {
  const c = await Container.fromBundle(bundle, { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const chunks: Buffer[] = [];
    const out = c.stdout as NonNullable<typeof c.stdout>;
    const ended = new Promise<void>((resolve) => out.on('end', resolve).on('close', resolve));
    out.on('data', (b: Buffer) => chunks.push(b));
    const status = await c.exited;
    await ended;
    return { code: status.code, stdout: Buffer.concat(chunks).toString('utf8') };
  } finally {
    c.close();
  }
}

function underRunc(bundle: string): { code: number | null; stdout: string } {
  const r = spawnSync(runcPath as string, ['run', '--bundle', bundle, `nsfd-bundle-${process.pid}-${path.basename(bundle)}`], { encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'inherit'] });
  return { code: r.status, stdout: r.stdout };
}

/** The same sections, or the differing ones named. */
function expectSame(ours: string, theirs: string): void {
  const a = ours.split('---\n');
  const b = theirs.split('---\n');
  expect(a.length).toBe(CHECK.split('echo ---').length);
  a.forEach((s, i) => expect(s, `section ${i}: ${CHECK.split('; echo ---; ')[i]}`).toBe(b[i]));
}

const SECCOMP = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };

needsRoot('runc spec bundles run as root (their maps and ids are host ids)').describe.runIf(haveBusybox && haveInit && runcPath !== undefined)('a runc spec bundle under nsfd and under runc run', () => {
  it('the same ids, hostname, capabilities, no_new_privs, seccomp, mounts, /dev, masks, cwd, env, rlimit and sysctls', async () => {
    const b = makeBundle('full', false, (c) => {
      c.hostname = 'oci-box';
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [5] };
      c.process.env.push('FOO=bar');
      c.process.cwd = '/work';
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 512, soft: 256 }];
      // With inheritable given, the ambient set takes effect (a non-root uid keeps these).
      c.process.capabilities.inheritable = c.process.capabilities.bounding;
      c.linux.seccomp = SECCOMP;
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmni': '1234' };
    });
    const theirs = underRunc(b);
    const ours = await underNsfd(b);
    expect(theirs.code).toBe(3);
    expect(ours.code).toBe(3);
    expectSame(ours.stdout, theirs.stdout);
    // And what they are, so that "the same" is not "the same nothing".
    const s = ours.stdout.split('---\n');
    expect(s[0]).toMatch(/^uid=1000 gid=1000 groups=5/);
    expect(s[1]).toBe('oci-box\n');
    expect(s[2]).toMatch(/CapAmb:\s+0000000020000420/);
    expect(s[2]).toMatch(/NoNewPrivs:\s+1/);
    expect(s[2]).toMatch(/Seccomp:\s+2/);
    for (const p of ['/proc/keys', '/proc/timer_list', '/sys/firmware', '/proc/sys']) expect(s[3]).toContain(`${p}\n`);
    expect(s[5]).toBe('0\n0\n');
    expect(s[6]).toBe('/work\nbar\n256\n');
    expect(s[7]).toBe('1\n1234\n');
    expect(s[8]).toMatch(/Operation not permitted\nrefused\n$/);
  });

  it('as runc spec wrote it, root and read-only, and through the CLI: the exit status passed on', async () => {
    const b = makeBundle('plain', false, () => {});
    const theirs = underRunc(b);
    const ours = await underNsfd(b);
    expect(ours.code).toBe(theirs.code);
    expectSame(ours.stdout, theirs.stdout);
    expect(ours.stdout.split('---\n')[0]).toMatch(/^uid=0 gid=0/);
    const cli = spawnSync(process.execPath, [path.join(repoRoot, 'bin/nsfd.js'), 'run', '--bundle', b, '--id', 'cli-test'], { encoding: 'utf8', timeout: 30000 });
    expect(cli.status, cli.stderr).toBe(3);
    expect(cli.stdout).toBe(ours.stdout);
  });

  it('a network namespace joined by path (linux.namespaces[i].path): the same one in both', async () => {
    const name = `nsfd-bundle-${process.pid}`;
    expect(spawnSync('ip', ['netns', 'add', name]).status).toBe(0);
    try {
      const b = makeBundle('netjoin', false, (c) => {
        c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: `/run/netns/${name}` } : n));
        c.process.args = ['/bin/sh', '-c', 'readlink /proc/self/ns/net; exit 3'];
      });
      const theirs = underRunc(b);
      const ours = await underNsfd(b);
      expect(ours.code).toBe(3);
      expect(ours.stdout).toBe(theirs.stdout);
      expect(ours.stdout).toBe(`net:[${fs.statSync(`/run/netns/${name}`).ino}]\n`);
    } finally {
      spawnSync('ip', ['netns', 'delete', name]);
    }
  });

  it('a runc spec --rootless bundle (a user namespace, no network namespace)', async () => {
    const b = makeBundle('rootless', true, (c) => {
      c.hostname = 'rootless-box';
    });
    const theirs = underRunc(b);
    const ours = await underNsfd(b);
    expect(ours.code).toBe(3);
    expect(theirs.code).toBe(3);
    // (Sysctls are the host's without a network namespace: the same file, read in both.)
    expectSame(ours.stdout, theirs.stdout);
    expect(ours.stdout.split('---\n')[1]).toBe('rootless-box\n');
  });
});

// Unprivileged (npm run test:rootless): a `runc spec --rootless` bundle (its
// maps name the caller's ids) is what such a user can run.
describe.runIf(haveBusybox && haveInit && !isRoot && runcPath !== undefined)('a runc spec --rootless bundle, unprivileged', () => {
  it('runs as root of its user namespace, with its hostname, mounts and masks; the exit status passed on', async () => {
    const b = makeBundle('rootless-unpriv', true, (c) => {
      c.hostname = 'unpriv-box';
      c.root.readonly = false;
    });
    const ours = await underNsfd(b);
    expect(ours.code).toBe(3);
    const s = ours.stdout.split('---\n');
    expect(s[0]).toMatch(/^uid=0 gid=0/);
    expect(s[1]).toBe('unpriv-box\n');
    expect(s[2]).toMatch(/NoNewPrivs:\s+1/);
    for (const p of ['/', '/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/proc/keys', '/proc/sys']) expect(s[3]).toContain(`${p}\n`);
    expect(s[5]).toBe('0\n0\n');
  });
});

// Limits in effect need the memory and pids controllers in cgroup v2: the
// kernel-matrix VMs have them; a hybrid host (this one, CI) binds them to v1.
const v2Controllers = (() => {
  try {
    const line = fs.readFileSync('/proc/self/cgroup', 'latin1').split('\n').find((l) => l.startsWith('0::'));
    const mount = fs.readFileSync('/proc/self/mountinfo', 'latin1').split('\n').map((l) => l.split(' ')).find((f) => f[f.indexOf('-') + 1] === 'cgroup2')?.[4];
    if (line === undefined || mount === undefined) return [];
    return fs.readFileSync(path.join(mount, line.slice(3), 'cgroup.controllers'), 'latin1').trim().split(' ');
  } catch {
    return [];
  }
})();
const haveLimits = v2Controllers.includes('memory') && v2Controllers.includes('pids');

needsRoot('cgroup limits under the host hierarchy').describe.runIf(haveBusybox && haveInit && haveLimits)('a bundle\'s linux.resources in effect', () => {
  it('memory.max and pids.max in effect (a cgroup namespace: /sys/fs/cgroup is the container\'s)', async () => {
    // Under a parent of the test's own, with no process in it (cgroup v2's no-internal-process rule).
    const own = fs.readFileSync('/proc/self/cgroup', 'latin1').split('\n').find((l) => l.startsWith('0::'))?.slice(3) as string;
    const mount = fs.readFileSync('/proc/self/mountinfo', 'latin1').split('\n').map((l) => l.split(' ')).find((f) => f[f.indexOf('-') + 1] === 'cgroup2')?.[4] as string;
    const parent = path.join(mount, own, `nsfd-bundle-${process.pid}`);
    fs.mkdirSync(parent, { recursive: true });
    const b = makeBundle('limits', false, (c) => {
      c.linux.namespaces.push({ type: 'cgroup' });
      c.linux.resources = { ...c.linux.resources, memory: { limit: 64 << 20 }, pids: { limit: 42 } };
      c.linux.cgroupsPath = `nsfd-bundle-${process.pid}/box`;
    });
    let ours;
    try {
      ours = await underNsfd(b);
    } finally {
      fs.rmdirSync(parent);
    }
    expect(ours.code).toBe(3);
    expect(ours.stdout.split('---\n')[9]).toBe(`${64 << 20}\n42\n`);
  });
});
if (!haveLimits) it.skip(`a bundle's linux.resources in effect [skipped: needs the memory and pids controllers in cgroup v2 (this host: ${v2Controllers.join(' ') || 'none'}; a hybrid host binds them to v1): the kernel-matrix VMs run it]`, () => {});
if (runcPath === undefined) it.skip('runc spec bundles under nsfd and runc [skipped: runc is not installed: apt-get install -y runc]', () => {});

// --- The detached lifecycle: nsfd run --detach, state, kill, delete ----------

const nsfdCli = (args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'bin/nsfd.js'), ...args], { encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'pipe'] });
/** nsfd run --detach: the container keeps the stdio it is given (ours), so a pipe would never close: files instead. */
const nsfdDetach = (args: string[]): { status: number | null; stderr: string } => {
  const errFile = path.join(dir, `detach-stderr-${process.pid}`);
  const err = fs.openSync(errFile, 'w+');
  const devnull = fs.openSync('/dev/null', 'w');
  try {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin/nsfd.js'), ...args], { timeout: 30000, stdio: ['ignore', devnull, err] });
    return { status: r.status, stderr: fs.readFileSync(errFile, 'utf8') };
  } finally {
    fs.closeSync(err);
    fs.closeSync(devnull);
    fs.rmSync(errFile, { force: true });
  }
};

needsRoot('runc spec bundles run as root').describe.runIf(haveBusybox && haveInit)('nsfd run --bundle --detach, state, kill, delete', () => {
  it('follows the runtime spec lifecycle: running, a signal passed on, stopped, deleted', async () => {
    const state = path.join(dir, 'state');
    const b = makeBundle('detached', false, (c) => {
      c.root.readonly = false;
      // Output to a file in the rootfs: a detached container keeps its stdio (ours) open.
      c.process.args = ['/bin/sh', '-c', 'trap "echo got-term > /term; exit 5" TERM; echo up > /up; while true; do /bin/busybox sleep 0.05; done'];
    });
    fs.rmSync(path.join(rootfs, 'term'), { force: true });
    fs.rmSync(path.join(rootfs, 'up'), { force: true });
    let pid = 0;
    try {
      const r = nsfdDetach(['run', '--bundle', b, '--detach', '--id', 'det1', '--root', state]);
      expect(r.status, r.stderr).toBe(0);
      const s1 = JSON.parse(nsfdCli(['state', '--root', state, 'det1']).stdout) as { status: string; pid: number; id: string; bundle: string; ociVersion: string };
      expect(s1).toMatchObject({ id: 'det1', status: 'running', bundle: b });
      pid = s1.pid;
      expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1')).toMatch(/^nsfd-init/);
      // The same id again is refused; a running container is not deleted without --force.
      expect(nsfdDetach(['run', '--bundle', b, '--detach', '--id', 'det1', '--root', state]).stderr).toMatch(/exists/);
      expect(nsfdCli(['delete', '--root', state, 'det1']).stderr).toMatch(/is running/);
      for (const deadline = Date.now() + 10000; !fs.existsSync(path.join(rootfs, 'up')); ) {
        if (Date.now() > deadline) throw new Error('the detached process did not start');
        await new Promise((res) => setTimeout(res, 20));
      }
      expect(nsfdCli(['kill', '--root', state, 'det1', 'TERM']).status).toBe(0);
      for (const deadline = Date.now() + 10000; JSON.parse(nsfdCli(['state', '--root', state, 'det1']).stdout).status !== 'stopped'; ) {
        if (Date.now() > deadline) throw new Error('still running after SIGTERM');
        await new Promise((res) => setTimeout(res, 20));
      }
      expect(fs.readFileSync(path.join(rootfs, 'term'), 'utf8')).toBe('got-term\n');
      expect(nsfdCli(['kill', '--root', state, 'det1']).stderr).toMatch(/not running/);
      expect(nsfdCli(['delete', '--root', state, 'det1']).status).toBe(0);
      expect(fs.existsSync(path.join(state, 'det1'))).toBe(false);
      expect(nsfdCli(['state', '--root', state, 'det1']).stderr).toMatch(/does not exist/);
    } finally {
      // (Through nsfd's checked pidfd, never a bare pid that may be reused by now.)
      if (pid !== 0 && fs.existsSync(path.join(state, 'det1'))) nsfdCli(['delete', '--force', '--root', state, 'det1']);
      fs.rmSync(state, { recursive: true, force: true });
    }
  });

  it('delete --force kills a running one; a recycled pid (another start time) is never signalled', async () => {
    const state = path.join(dir, 'state2');
    const b = makeBundle('detached2', false, (c) => {
      c.process.args = ['/bin/sh', '-c', 'while true; do /bin/busybox sleep 0.05; done'];
    });
    const bystander = (await import('node:child_process')).spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      expect(nsfdDetach(['run', '--bundle', b, '--detach', '--id', 'det2', '--root', state]).status).toBe(0);
      const { pid } = JSON.parse(nsfdCli(['state', '--root', state, 'det2']).stdout) as { pid: number };
      expect(nsfdCli(['delete', '--force', '--root', state, 'det2']).status).toBe(0);
      expect(fs.existsSync(`/proc/${pid}/cmdline`) && fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('nsfd-init')).toBe(false);
      // A state whose pid now names another process: stopped, and kill refuses.
      fs.mkdirSync(path.join(state, 'forged'), { recursive: true });
      fs.writeFileSync(path.join(state, 'forged', 'state.json'), JSON.stringify({ ociVersion: '1.0.2', id: 'forged', pid: bystander.pid, bundle: b, startTime: '1', created: '' }));
      expect(JSON.parse(nsfdCli(['state', '--root', state, 'forged']).stdout).status).toBe('stopped');
      expect(nsfdCli(['kill', '--root', state, 'forged', 'KILL']).stderr).toMatch(/not running/);
      expect(bystander.exitCode).toBe(null);
      expect(fs.existsSync(`/proc/${bystander.pid}`)).toBe(true);
    } finally {
      bystander.kill('SIGKILL');
      if (fs.existsSync(path.join(state, 'det2'))) nsfdCli(['delete', '--force', '--root', state, 'det2']);
      fs.rmSync(state, { recursive: true, force: true });
    }
  });
});
