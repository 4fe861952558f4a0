// Container.create's options, checked and turned into a plan: what to spawn
// (the init, with which spawn options) and what to set up inside after.
import { invalidArg, invalidValue, checkOptionKeys, optionKeys } from '../core/errors';
import { NsType, checkNsTypes } from '../core/ns-types';
import { privilege } from '../core/privilege';
import type { OwnedFd } from '../core/owned-fd';
import type { CgroupResources } from '../cgroup';
import { Namespace } from '../namespace';
import type { IdMapEntry, MountSpec, SpawnOptions, StdioSlot } from '../spawn';
import { CapabilitiesOption, DEFAULT_CAPABILITIES, RlimitsOption, SeccompOption } from '../privileges';
import { DEFAULT_INIT, shippedInit } from './init';

/** What Container.create makes by default (plus "user": unprivileged, with a rootfs as root, or given id maps). */
export const DEFAULT_UNSHARE: readonly NsType[] = ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup'];

/** Options of Container.create(). */
export interface ContainerCreateOptions {
  /** Namespace types to create (default: mnt, uts, ipc, pid, net, cgroup; + user, see below). */
  unshare?: readonly NsType[] | undefined;
  /**
   * Existing namespaces the init joins (setns) instead of new ones, as an
   * OCI config's linux.namespaces[i].path: net, ipc and uts only, each a
   * type not in `unshare`. Joined before the new ones are made. Closed by
   * the caller after create() (the init holds them then).
   */
  join?: readonly Namespace[] | undefined;
  /**
   * Id maps of a new user namespace (adds "user"). One given alone is used
   * for both. Unprivileged default: root inside = our uid/gid.
   */
  uidMap?: readonly IdMapEntry[] | undefined;
  gidMap?: readonly IdMapEntry[] | undefined;
  /**
   * The user namespace. `'auto'` (the default with a `rootfs`, or when
   * unprivileged): as root, a range of 65536 host ids no one else uses,
   * picked and locked for the container's life (as `systemd-nspawn -U`),
   * root inside = the range's first id outside; a rootfs whose files
   * belong to host ids (its root directory is not owned by the range) is
   * presented through an idmapped mount, so a root-owned rootfs works
   * unchanged. Unprivileged: root inside = our uid/gid (as before).
   * `false`: no user namespace; as root, root inside is root outside.
   * `{ uidMap, gidMap }`: these maps (as the options of those names).
   * Without a rootfs, the default as root stays no user namespace.
   */
  userns?: 'auto' | false | { uidMap: readonly IdMapEntry[]; gidMap?: readonly IdMapEntry[] | undefined } | undefined;
  /**
   * The init's uid and gid inside (default 0, the user namespace's root
   * when there is one: never our host ids behind an unmapped id).
   */
  uid?: number | undefined;
  gid?: number | undefined;
  setgroups?: 'allow' | 'deny' | undefined;
  /** Directory the init (and c.spawn) chroot()s into (not with rootfs). */
  root?: string | undefined;
  /**
   * The container's root filesystem, entered by pivot_root (never chroot):
   * a directory path or an OwnedFd of one. Gets the default mounts of OCI
   * runtimes (/proc with masked and read-only paths, a tmpfs /dev with the
   * standard devices, /dev/pts, /dev/shm, /sys read-only), then `mounts`.
   * Missing mount points are made; a directory holding one static binary
   * is enough. c.spawn() and c.run() join its mount namespace and so land
   * in it. Needs "mnt" in unshare.
   */
  rootfs?: string | OwnedFd | undefined;
  /** The rootfs read-only (its mount points made first). */
  readonlyRootfs?: boolean | undefined;
  /** The default mounts of OCI runtimes in the rootfs (default true; see SpawnOptions.defaultMounts). */
  defaultMounts?: boolean | undefined;
  /** The default devices and /dev symlinks (default: as defaultMounts; see SpawnOptions.defaultDevices). */
  defaultDevices?: boolean | undefined;
  /** Paths masked in the rootfs: REPLACES the default list (MASKED_PATHS) when given. */
  maskedPaths?: readonly string[] | undefined;
  /** Paths made read-only in the rootfs: REPLACES the default list (READONLY_PATHS) when given. */
  readonlyPaths?: readonly string[] | undefined;
  /**
   * Namespaced sysctls to set before `command` runs ({ 'net.ipv4.ip_forward': '1' }):
   * net.* (needs a new net namespace), kernel.msg*, kernel.sem, kernel.shm*
   * and fs.mqueue.* (a new ipc namespace), kernel.domainname (a new uts
   * namespace), as runc accepts them. Written from the host's /proc/sys
   * (never a path the container can redirect) by this thread while it
   * is in the container's net, ipc and uts namespaces. Needs nsfd-init and `command`.
   */
  sysctl?: Readonly<Record<string, string>> | undefined;
  /** The working directory of the init and `command`, inside the container (default "/"). */
  cwd?: string | undefined;
  /** Supplementary groups of the init and `command` (ids inside). */
  groups?: readonly number[] | undefined;
  /** More mounts in the rootfs, OCI-style: {type: "bind"|"tmpfs"|..., source?, destination, options?: ["ro", "nosuid", "size=1m", ...]}. */
  mounts?: readonly MountSpec[] | undefined;
  /**
   * The workload: run under nsfd's init (which forwards signals to it and
   * exits with its status: see c.exited), or as pid 1 itself with
   * `init: false`. Without it the init just waits until closed.
   */
  command?: readonly string[] | undefined;
  /** sethostname() inside (needs "uts"). */
  hostname?: string | undefined;
  domainname?: string | undefined;
  /** cgroup v2 directory (path or fd) the init is born in; with killOnClose, cgroup.kill is used too. */
  cgroup?: string | number | OwnedFd | undefined;
  /**
   * Limits (cgroup v2, OCI names): the container gets a cgroup of its own,
   * made under `cgroupParent` before the init starts (born in it with
   * CLONE_INTO_CGROUP) and removed by close(). With `cgroup` given as a
   * path, the limits are applied to that cgroup instead.
   */
  resources?: CgroupResources | undefined;
  /**
   * Where the container's own cgroup is made (default: the cgroup v2 this
   * process is in). Implies one. (One is made anyway for a container
   * without a pid namespace, with killOnClose, where cgroup v2 is
   * writable; not writable, it goes without, with a warning.)
   */
  cgroupParent?: string | undefined;
  /** The name of the container's own cgroup under cgroupParent (default nsfd-PID-N). Implies one. */
  cgroupName?: string | undefined;
  /**
   * close() kills every process of the container (SIGKILL to pid 1 of its
   * pid namespace; without a pid namespace, its own cgroup's cgroup.kill
   * and the init's whole process tree and session: see close()), and so
   * does this Node process dying, however it dies: nsfd-init watches a
   * pipe only Node writes to and, when it hangs up, writes cgroup.kill or
   * exits as pid 1 (lifetime.ts). Without a pid namespace the container
   * gets a cgroup of its own for this, where cgroup v2 is writable.
   * Default true.
   */
  killOnClose?: boolean | undefined;
  /**
   * The init. Default: nsfd-init, a static program shipped with the addon
   * and executed from the host by fd (so the rootfs needs nothing), pid 1
   * that reaps orphans and forwards signals to `command`; when that binary
   * is missing, DEFAULT_INIT (needs /bin/sh). `false`: `command` is pid 1
   * itself. An array: that program is the init (no `command` then).
   */
  init?: false | readonly string[] | undefined;
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** A fresh /proc (default: when both pid and mnt are new). */
  mountProc?: boolean | undefined;
  /** Set lo up in a new network namespace (default true). */
  loopback?: boolean | undefined;
  /**
   * The init's stdio (default "ignore"). Our ends of its "pipe" slots are
   * c.stdin, c.stdout and c.stderr, owned by the container: close()
   * destroys them, so read what you need before.
   */
  stdio?: SpawnOptions['stdio'] | undefined;
  /**
   * The capabilities of the init and, unless overridden, of c.spawn()/c.run()
   * (as `runc exec` takes the container's). Default: Docker's default set
   * (DEFAULT_CAPABILITIES). `['ALL']` keeps every capability.
   */
  capabilities?: CapabilitiesOption | undefined;
  /** PR_SET_NO_NEW_PRIVS for the init and c.spawn()/c.run() (default true). */
  noNewPrivileges?: boolean | undefined;
  /** Seccomp filter for the init and c.spawn()/c.run(): default 'default' (Docker's default profile in effect); false for none. */
  seccomp?: SeccompOption | undefined;
  /** Resource limits for the init and c.spawn()/c.run(). */
  rlimits?: RlimitsOption | undefined;
}

/** What a process of the container gets unless c.spawn()/c.run() say otherwise. */
export type ProcessDefaults = Pick<SpawnOptions, 'capabilities' | 'noNewPrivileges' | 'seccomp' | 'rlimits' | 'uid' | 'gid' | 'groups'>;

/** Every option name Container.create knows: any other is a typo, an error rather than a silent default. */
const CREATE_OPTION_KEYS = optionKeys<ContainerCreateOptions>({
  unshare: true,
  join: true,
  uidMap: true,
  gidMap: true,
  userns: true,
  uid: true,
  gid: true,
  setgroups: true,
  root: true,
  hostname: true,
  domainname: true,
  cgroup: true,
  killOnClose: true,
  init: true,
  env: true,
  mountProc: true,
  loopback: true,
  stdio: true,
  resources: true,
  cgroupParent: true,
  capabilities: true,
  noNewPrivileges: true,
  seccomp: true,
  rlimits: true,
  rootfs: true,
  readonlyRootfs: true,
  mounts: true,
  command: true,
  defaultMounts: true,
  defaultDevices: true,
  maskedPaths: true,
  readonlyPaths: true,
  sysctl: true,
  cwd: true,
  groups: true,
  cgroupName: true,
});

/** Checked create options: everything create() does, decided before anything is started. */
export interface CreatePlan {
  readonly file: string;
  readonly args: readonly string[];
  readonly spawn: SpawnOptions;
  readonly unshare: ReadonlySet<NsType>;
  readonly killOnClose: boolean;
  /** options.root as given: resolved by create() only once spawn() has checked it. */
  readonly root: string | undefined;
  /** For cgroup.kill on close (only when the cgroup was given as a path). */
  readonly cgroupPath: string | undefined;
  /** A cgroup of the container's own to make first (resources or cgroupParent without cgroup). */
  readonly newCgroup: { parent: string | undefined; name?: string; resources: CgroupResources | undefined; auto: boolean } | undefined;
  /** Sysctls to write (key as a /proc/sys path under it, value) and the namespaces to be in, before the go. */
  readonly sysctl: { readonly writes: readonly (readonly [string, string])[]; readonly types: readonly NsType[] } | undefined;
  /** Limits for the cgroup given as a path. */
  readonly resources: CgroupResources | undefined;
  /** The init's credentials and privileges, for c.spawn()/c.run(). */
  readonly process: ProcessDefaults;
  /** The fallback init: wait for its SIGTERM trap before using it. */
  readonly awaitTrap: boolean;
  /**
   * init: false: the workload is pid 1 and runs at once (no "go" to wait
   * for), so a short one may have exited before create() reads its
   * namespaces; the container is then one whose pid 1 has finished.
   */
  readonly workloadIsInit: boolean;
  /**
   * userns 'auto' as root: create() picks and locks an id range, sets the
   * maps and, when the rootfs's files are not the range's, idmapRootfs.
   */
  readonly autoRange: boolean;
  /**
   * 'auto' by default, not asked for: when the rootfs's filesystem cannot
   * be idmapped, create() falls back to no user namespace (as before 'auto'
   * was the default), with a warning, instead of failing.
   */
  readonly autoByDefault: boolean;
  /** nsfd-init: its path or 'embedded' (opened and executed by fd), and its control socket's stdio slot. */
  readonly shipped: { readonly path: string; readonly ctlSlot: number | undefined; readonly deathSlot: number | undefined; readonly killSlot: number | undefined } | undefined;
}

/** Checks create options (throwing before anything is started) and plans the init. */
export function planCreate(options: ContainerCreateOptions): CreatePlan {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  checkOptionKeys(options, CREATE_OPTION_KEYS);
  const unshare = new Set(options.unshare === undefined ? DEFAULT_UNSHARE : checkNsTypes(options.unshare, 'options.unshare'));
  const userns = planUserns(options, unshare);
  if (userns !== 'none') unshare.add('user');
  const autoRange = userns === 'auto' && privilege().admin;
  if (options.join !== undefined) checkJoin(options.join, unshare);
  const killOnClose = options.killOnClose ?? true;
  if (typeof killOnClose !== 'boolean') throw invalidArg('options.killOnClose', 'a boolean', killOnClose);
  const command = options.command;
  if (command !== undefined && (!Array.isArray(command) || command.length === 0 || command.some((a) => typeof a !== 'string'))) {
    throw invalidArg('options.command', 'a non-empty array of strings', command);
  }
  if (options.hostname !== undefined && !unshare.has('uts')) {
    throw invalidValue('options.hostname', 'needs a new uts namespace (it would rename the host)', options.hostname);
  }
  if (options.cgroup !== undefined && options.cgroupName !== undefined) throw invalidValue('options.cgroupName', 'is for a cgroup of the container\'s own; not with options.cgroup', options.cgroupName);
  if (options.cgroup !== undefined && options.cgroupParent !== undefined) throw invalidValue('options.cgroupParent', 'is for a cgroup of the container\'s own; not with options.cgroup', options.cgroupParent);
  if (options.resources !== undefined && options.cgroup !== undefined && typeof options.cgroup !== 'string') {
    throw invalidValue('options.resources', 'needs options.cgroup as a path (or no cgroup: one is made)', options.resources);
  }
  const spawnOpts = initSpawnOptions(userns === 'maps' && typeof options.userns === 'object' ? { ...options, uidMap: options.userns.uidMap, gidMap: options.userns.gidMap } : options, unshare, killOnClose);
  // Without a pid namespace, only a cgroup holds every process the
  // container starts (double-forked and setsid ones too): it gets one of
  // its own by default, so close() and Node's death kill it whole. Where
  // cgroup v2 is not writable create() goes on without (autoCgroup).
  const wantsCgroup = options.resources !== undefined || options.cgroupParent !== undefined || options.cgroupName !== undefined;
  const autoCgroup = killOnClose && !unshare.has('pid') && options.cgroup === undefined && !wantsCgroup;
  const newCgroup = options.cgroup === undefined && (autoCgroup || wantsCgroup)
    ? { parent: options.cgroupParent, resources: options.resources, auto: autoCgroup, ...(options.cgroupName === undefined ? {} : { name: options.cgroupName }) }
    : undefined;
  const cgroupPlanned = newCgroup !== undefined || options.cgroup !== undefined;
  let argv: readonly string[];
  let shipped: CreatePlan['shipped'];
  let awaitTrap = false;
  if (options.init === false) {
    if (command === undefined) throw invalidValue('options.init', 'false needs options.command (the process to run as pid 1)', false);
    argv = command;
  } else if (options.init !== undefined) {
    const init = options.init;
    if (!Array.isArray(init) || init.length === 0 || init.some((a) => typeof a !== 'string')) {
      throw invalidArg('options.init', 'false or a non-empty array of strings', init);
    }
    if (command !== undefined) throw invalidValue('options.command', 'not with an init of your own (give it its arguments)', command);
    argv = init;
    awaitTrap = init === DEFAULT_INIT;  // its trap, as for the fallback
  } else {
    const initPath = shippedInit();
    if (initPath === undefined) {
      if (command !== undefined) throw invalidValue('options.command', 'needs nsfd-init, which was not found (build it: npm run build:native)', command);
      argv = DEFAULT_INIT;
      awaitTrap = true;
    } else {
      // It starts with every signal blocked: one sent right after create()
      // waits for it. Hostname and lo are set before it runs. It starts
      // `command` only on our "go" (a byte on a control socket in the first
      // slot after the stdio), written once we hold its namespaces (a short
      // command would otherwise be gone, init and all, before we read them)
      // and its mount namespace is private (when spawn did not do it).
      spawnOpts.blockSignals = true;
      const needsGo = command !== undefined || (unshare.has('mnt') && spawnOpts.mountProc !== true && spawnOpts.rootfs === undefined);
      let ctlSlot: number | undefined;
      let deathSlot: number | undefined;
      let killSlot: number | undefined;
      // With killOnClose it also watches our death pipe, and kills the
      // container when Node is gone (lifetime.ts): the read end, and the
      // cgroup's cgroup.kill when there is a cgroup, in slots of their own
      // (filled by spawnInit()).
      const watch = killOnClose;
      if (needsGo || watch) {
        const base = spawnOpts.stdio ?? 'ignore';
        const slots: StdioSlot[] = typeof base === 'string' ? [base, base, base] : Array.from(base as readonly StdioSlot[]);
        while (slots.length < 3) slots.push(undefined);
        if (needsGo) {
          ctlSlot = slots.length;
          slots.push('ignore');
        }
        if (watch) {
          deathSlot = slots.length;
          slots.push('ignore');
          if (cgroupPlanned) {
            killSlot = slots.length;
            slots.push('ignore');
          }
        }
        spawnOpts.stdio = slots;
      }
      shipped = { path: initPath, ctlSlot, deathSlot, killSlot };
      const flags = [...(ctlSlot === undefined ? [] : ['-r', String(ctlSlot)]), ...(deathSlot === undefined ? [] : ['-d', String(deathSlot)]), ...(killSlot === undefined ? [] : ['-k', String(killSlot)]), ...(deathSlot === undefined ? [] : ['-p', String(process.pid)])];
      argv = ['nsfd-init', ...flags, '--', ...(command ?? [])];
    }
  }
  const [file, ...args] = argv as [string, ...string[]];
  const proc = processDefaults(options);
  const sysctl = options.sysctl === undefined ? undefined : planSysctl(options.sysctl, unshare);
  if (sysctl !== undefined && (shipped?.ctlSlot === undefined || command === undefined)) {
    throw invalidValue('options.sysctl', 'needs nsfd-init and options.command (they are set before the command starts)', options.sysctl);
  }
  return {
    file,
    args,
    spawn: { ...spawnOpts, ...proc },
    process: proc,
    unshare,
    killOnClose,
    root: options.root,
    cgroupPath: typeof options.cgroup === 'string' ? options.cgroup : undefined,
    newCgroup,
    sysctl,
    resources: options.cgroup !== undefined ? options.resources : undefined,
    awaitTrap,
    workloadIsInit: options.init === false,
    shipped,
    autoRange,
    autoByDefault: autoRange && options.userns === undefined,
  };
}

/**
 * The plan of an implicit 'auto' without its user namespace (userns: false
 * as it was before 'auto' became the default): for a rootfs on a filesystem
 * without idmapped mounts.
 */
export function withoutUserns(options: ContainerCreateOptions): CreatePlan {
  return planCreate({ ...options, userns: false });
}

/**
 * Which user namespace: 'auto' (a range as root, our ids rootless), 'maps'
 * (given), 'ours' (root inside = our ids: rootless, or "user" in unshare
 * as root without a rootfs, as before), or 'none'. The default is 'auto' unprivileged (as before: no
 * namespace can be made without one) and as root with a rootfs (unless
 * `unshare` is given without "user"); as root without a rootfs it stays
 * 'none', a container that shares the host's files as host root.
 */
function planUserns(options: ContainerCreateOptions, unshare: ReadonlySet<NsType>): 'auto' | 'maps' | 'ours' | 'none' {
  const { userns } = options;
  const maps = options.uidMap !== undefined || options.gidMap !== undefined;
  if (userns === undefined) {
    if (maps) return 'maps';
    if (!privilege().admin) return options.unshare === undefined || unshare.has('user') ? 'ours' : 'none';
    if (options.rootfs !== undefined && (options.unshare === undefined || unshare.has('user'))) return 'auto';
    // (As before: "user" in unshare without maps maps root inside to us.)
    return unshare.has('user') ? 'ours' : 'none';
  }
  if (maps) throw invalidValue('options.userns', 'not with options.uidMap/gidMap (give the maps as userns: { uidMap, gidMap })', userns);
  if (userns === 'auto') return 'auto';
  if (userns === false) {
    if (unshare.has('user')) throw invalidValue('options.userns', 'false, but options.unshare has "user"', userns);
    return 'none';
  }
  if (userns === null || typeof userns !== 'object' || !Array.isArray(userns.uidMap)) {
    throw invalidArg('options.userns', "'auto', false or { uidMap, gidMap }", userns);
  }
  checkOptionKeys(userns, USERNS_OPTION_KEYS, 'options.userns');
  return 'maps';
}

const USERNS_OPTION_KEYS = optionKeys<{ uidMap: unknown; gidMap: unknown }>({ uidMap: true, gidMap: true });

/** The privileges every process of the container gets by default (checked by spawn()). */
function processDefaults(options: ContainerCreateOptions): ProcessDefaults {
  const d: ProcessDefaults = {
    capabilities: options.capabilities ?? DEFAULT_CAPABILITIES,
    noNewPrivileges: options.noNewPrivileges ?? true,
    seccomp: options.seccomp ?? 'default',
  };
  if (options.rlimits !== undefined) d.rlimits = options.rlimits;
  if (options.uid !== undefined) d.uid = options.uid;
  if (options.gid !== undefined) d.gid = options.gid;
  if (options.groups !== undefined) d.groups = options.groups;
  return d;
}

/** The spawn() options of the init: its namespaces, a session of its own, id maps for a new user namespace. */
function initSpawnOptions(options: ContainerCreateOptions, unshare: ReadonlySet<NsType>, killOnClose: boolean): SpawnOptions {
  const spawnOpts: SpawnOptions = {
    unshare: [...unshare],
    killOnClose,
    stdio: options.stdio ?? 'ignore',
    mountProc: options.mountProc ?? (unshare.has('pid') && unshare.has('mnt')),
    newSession: true,
  };
  if (unshare.has('user')) {
    const uid = process.geteuid?.() ?? 0;
    const gid = process.getegid?.() ?? 0;
    // One map given alone serves for both: a default gid map of ours would
    // leave the container's root in our (host) group.
    spawnOpts.uidMap = options.uidMap ?? options.gidMap ?? [{ inside: 0, outside: uid, count: 1 }];
    spawnOpts.gidMap = options.gidMap ?? options.uidMap ?? [{ inside: 0, outside: gid, count: 1 }];
  }
  if (options.setgroups !== undefined) spawnOpts.setgroups = options.setgroups;
  if (options.root !== undefined) spawnOpts.root = options.root;
  if (options.rootfs !== undefined) {
    spawnOpts.rootfs = options.rootfs;
    spawnOpts.mountProc = false;  // the rootfs's default mounts have /proc
    if (options.mountProc === true) throw invalidValue('options.mountProc', 'not with rootfs (its default mounts include /proc)', true);
  }
  if (options.readonlyRootfs !== undefined) spawnOpts.readonlyRootfs = options.readonlyRootfs;
  if (options.defaultMounts !== undefined) spawnOpts.defaultMounts = options.defaultMounts;
  if (options.defaultDevices !== undefined) spawnOpts.defaultDevices = options.defaultDevices;
  if (options.maskedPaths !== undefined) spawnOpts.maskedPaths = options.maskedPaths;
  if (options.readonlyPaths !== undefined) spawnOpts.readonlyPaths = options.readonlyPaths;
  if (options.cwd !== undefined) spawnOpts.cwd = options.cwd;
  // Set by the child itself, before the init runs (so before `command`, with init: false too).
  if (options.hostname !== undefined) spawnOpts.hostname = options.hostname;
  if (options.domainname !== undefined) spawnOpts.domainname = options.domainname;
  if (unshare.has('net') && options.loopback !== false) spawnOpts.loopback = true;
  if (options.mounts !== undefined) spawnOpts.mounts = options.mounts;
  if (options.cgroup !== undefined) spawnOpts.cgroup = options.cgroup;
  if (options.env !== undefined) spawnOpts.env = options.env;
  if (options.join !== undefined && options.join.length > 0) spawnOpts.join = options.join;
  return spawnOpts;
}

/** The namespace a namespaced sysctl belongs to (runc's list: libcontainer/configs/validate), or undefined. */
export function sysctlNamespace(key: string): NsType | undefined {
  if (key.startsWith('net.')) return 'net';
  if (key.startsWith('fs.mqueue.')) return 'ipc';
  if (['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'].includes(key)) return 'ipc';
  if (key === 'kernel.domainname') return 'uts';
  return undefined;
}

/** options.sysctl checked: only namespaced keys, of namespaces the container has of its own. */
function planSysctl(sysctl: Readonly<Record<string, string>>, unshare: ReadonlySet<NsType>): CreatePlan['sysctl'] {
  if (sysctl === null || typeof sysctl !== 'object' || Array.isArray(sysctl)) throw invalidArg('options.sysctl', 'an object { "net.ipv4.ip_forward": "1", ... }', sysctl);
  const writes: [string, string][] = [];
  const types = new Set<NsType>();
  for (const [key, value] of Object.entries(sysctl)) {
    const name = `options.sysctl["${key}"]`;
    if (typeof value !== 'string' || value.includes('\0')) throw invalidArg(name, 'a string', value);
    // Dots name levels; a slash or ".." could leave /proc/sys.
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_:+@-]+)+$/.test(key)) throw invalidValue(name, 'is not a sysctl name', key);
    if (key === 'kernel.hostname') throw invalidValue(name, 'is not supported: use options.hostname', key);
    const ns = sysctlNamespace(key);
    if (ns === undefined) throw invalidValue(name, 'is not a namespaced sysctl (it would change the host)', key);
    if (!unshare.has(ns)) throw invalidValue(name, `needs a new ${ns} namespace (it would change the host's)`, key);
    types.add(ns);
    writes.push([key.replaceAll('.', '/'), value]);
  }
  return writes.length === 0 ? undefined : { writes, types: [...types] };
}

/** Types a container may join rather than make: those no other part of create() assumes are its own. */
const JOINABLE: readonly NsType[] = ['net', 'ipc', 'uts'];

function checkJoin(join: unknown, unshare: ReadonlySet<NsType>): void {
  if (!Array.isArray(join)) throw invalidArg('options.join', 'an array of Namespaces', join);
  const seen = new Set<NsType>();
  (join as unknown[]).forEach((ns, i) => {
    if (!(ns instanceof Namespace)) throw invalidArg(`options.join[${i}]`, 'a Namespace', ns);
    const t = ns.type;
    if (!JOINABLE.includes(t)) throw invalidValue(`options.join[${i}]`, `is a ${t} namespace: only ${JOINABLE.join(', ')} can be joined`, t);
    if (unshare.has(t)) throw invalidValue(`options.join[${i}]`, `is a ${t} namespace, which options.unshare makes new`, t);
    if (seen.has(t)) throw invalidValue(`options.join[${i}]`, `joins a second ${t} namespace`, t);
    seen.add(t);
  });
}
