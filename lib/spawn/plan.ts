// spawn()'s options, checked (typed errors before any syscall) and turned
// into the spec native spawn_clone3 runs, plus the fds opened for it.
import { fileURLToPath } from 'node:url';

import { E, NsError, invalidArg, invalidValue } from '../core/errors';
import { OwnedFd } from '../core/owned-fd';
import { CLONE_FLAG, NsType, checkNsTypes } from '../core/ns-types';
import { privilege } from '../core/privilege';
import { AT_FDCWD, CGROUP2_SUPER_MAGIC, O_DIRECTORY, O_PATH, O_RDONLY, UTS_NAME_MAX } from '../sys/constants';
import { native } from '../sys/native';
import { procRootFd } from '../inside';
import { ownProcfs } from '../core/procfs';
import { Pidfd } from '../pidfd';
import { privilegeSpec } from '../privileges';
import { checkBool, checkCred, checkId, checkString, envPush, idMap } from './check';
import { Join, flagsOf, resolveJoin } from './join';
import { UserNamespaceEntry, childIds } from './identity';
import type { SpawnOptions } from './options';
import { OpenedFds, closeAll, openStdio, stdioSlots } from './stdio';
import type { SpawnSpec } from './wire';
import { FsPlan, planRootfs } from './rootfs';

export interface Prepared extends OpenedFds {
  spec: SpawnSpec;
  file: string;
  cgroupPath?: string;
  /** The rootfs ops, for error messages. */
  rootfs?: FsPlan & { path: string | undefined };
}

/** options.rootfs and friends, checked: the fs plan, or undefined without a rootfs. */
function checkRootfs(options: SpawnOptions, unshare: NsType[], joinsMnt: boolean, mountProc: boolean): (FsPlan & { path: string | undefined }) | undefined {
  const { rootfs } = options;
  if (rootfs === undefined) {
    for (const k of ['mounts', 'readonlyRootfs', 'defaultMounts', 'defaultDevices', 'maskedPaths', 'readonlyPaths', 'idmapRootfs'] as const) {
      if (options[k] !== undefined) throw invalidValue(`options.${k}`, 'needs options.rootfs', options[k]);
    }
    return undefined;
  }
  if (typeof rootfs !== 'string' && !(rootfs instanceof OwnedFd)) throw invalidArg('options.rootfs', 'a directory path or an OwnedFd of one', rootfs);
  if (typeof rootfs === 'string') checkString(rootfs, 'options.rootfs');
  if (!unshare.includes('mnt') || joinsMnt) throw invalidValue('options.rootfs', 'needs a new mount namespace (unshare: ["mnt", ...])', rootfs);
  if (options.root !== undefined) throw invalidValue('options.root', 'not with options.rootfs (a container pivots, never chroots)', options.root);
  if (mountProc) throw invalidValue('options.mountProc', 'not with options.rootfs (its default mounts include /proc)', mountProc);
  checkBool(options.readonlyRootfs, 'options.readonlyRootfs');
  if (options.defaultMounts !== undefined) checkBool(options.defaultMounts, 'options.defaultMounts');
  if (checkBool(options.idmapRootfs, 'options.idmapRootfs') && (!unshare.includes('user') || options.uidMap === undefined)) {
    throw invalidValue('options.idmapRootfs', 'needs a new user namespace with uidMap/gidMap (unshare: ["user", ...])', true);
  }
  if (options.defaultDevices !== undefined) checkBool(options.defaultDevices, 'options.defaultDevices');
  return { ...planRootfs(options, unshare, unshare.includes('user') && options.uidMap !== undefined), path: typeof rootfs === 'string' ? rootfs : undefined };
}

/** The boolean switches and the namespaces to create. */
function checkSwitches(options: SpawnOptions): { unshare: NsType[]; killOnClose: boolean; mountProc: boolean; newSession: boolean } {
  const unshare = options.unshare === undefined ? [] : checkNsTypes(options.unshare, 'options.unshare');
  const killOnClose = checkBool(options.killOnClose, 'options.killOnClose');
  const mountProc = checkBool(options.mountProc, 'options.mountProc');
  const newSession = checkBool(options.newSession, 'options.newSession');
  if (mountProc && !unshare.includes('mnt')) {
    throw invalidValue('options.mountProc', 'needs a new mount namespace (unshare: ["mnt", ...]); it would cover our own /proc', mountProc);
  }
  return { unshare, killOnClose, mountProc, newSession };
}

/** The id maps of a new user namespace, written from outside. */
function checkIdMaps(options: SpawnOptions, unshare: NsType[]): { uidMap: string; gidMap: string; setgroupsDeny: boolean } {
  const newUser = unshare.includes('user');
  let uidMap = '';
  let gidMap = '';
  if (options.uidMap !== undefined) uidMap = idMap(options.uidMap, 'options.uidMap');
  if (options.gidMap !== undefined) gidMap = idMap(options.gidMap, 'options.gidMap');
  if ((uidMap || gidMap) && !newUser) {
    throw invalidValue('options.uidMap', 'needs a new user namespace (unshare: ["user", ...])', options.uidMap ?? options.gidMap);
  }
  if (options.setgroups !== undefined && options.setgroups !== 'allow' && options.setgroups !== 'deny') {
    throw invalidArg('options.setgroups', '"allow" or "deny"', options.setgroups);
  }
  const setgroupsDeny = newUser && (uidMap !== '' || gidMap !== '') && (options.setgroups ?? (privilege().setgid ? 'allow' : 'deny')) === 'deny';
  return { uidMap, gidMap, setgroupsDeny };
}

/** A file: URL's path; a typed error for any other URL. */
function urlPath(url: URL, name: string): string {
  if (url.protocol !== 'file:') throw invalidValue(name, 'must be a path or a file: URL', url.href);
  return fileURLToPath(url);
}

/** What the final process sets before exec: root, cwd, credentials, argv[0]. */
function checkProcess(file: string, options: SpawnOptions): Pick<SpawnSpec, 'root' | 'cwd' | 'uid' | 'gid' | 'groups'> & { argv0: string } {
  const rootOption = options.root;
  if (rootOption !== undefined && typeof rootOption !== 'string' && !(rootOption instanceof OwnedFd)) {
    throw invalidArg('options.root', 'a directory path, an OwnedFd of a directory, or a Pidfd (that process\'s root)', rootOption);
  }
  const root = typeof rootOption === 'string' ? checkString(rootOption, 'options.root') : undefined;
  // A file: URL as child_process takes it (resolved inside, like a path).
  const cwdOption = options.cwd instanceof URL ? urlPath(options.cwd, 'options.cwd') : options.cwd;
  const cwd = cwdOption === undefined ? undefined : checkString(cwdOption, 'options.cwd');
  // (The child holds uid and gid as C ints: at most 2^31 - 1.)
  const uid = options.uid === undefined ? -1 : checkCred(options.uid, 'options.uid');
  const gid = options.gid === undefined ? -1 : checkCred(options.gid, 'options.gid');
  let groups: number[] | undefined;
  if (options.groups !== undefined) {
    if (!Array.isArray(options.groups)) throw invalidArg('options.groups', 'an array of gids', options.groups);
    groups = Array.from(options.groups as readonly unknown[], (g, i) => checkId(g, `options.groups[${i}]`));
  }
  const argv0 = options.argv0 === undefined ? file : checkString(options.argv0, 'options.argv0', true);
  return { root, cwd, uid, gid, groups, argv0 };
}

/** Where the child's user namespace comes from, if it is not ours. */
function userNamespaceEntry(options: SpawnOptions, unshare: NsType[], join: Join, maps: { uidMap: string; gidMap: string }): UserNamespaceEntry {
  if (unshare.includes('user')) return { kind: 'new', uidMap: maps.uidMap, gidMap: maps.gidMap };
  if (join.types.includes('user')) return { kind: 'joined', pidfd: options.join instanceof Pidfd ? options.join : undefined };
  return { kind: 'none' };
}

let mainThread: boolean | undefined;
function onMainThread(): boolean {
  mainThread ??= native.gettid() === process.pid;
  return mainThread;
}

/** The child's environment and the execve candidates (PATH lookup happens in the child). */
function environment(file: string, options: SpawnOptions): Pick<SpawnSpec, 'envp' | 'inheritEnv' | 'paths'> {
  // Without options.env the child gets our C environment (which process.env
  // writes through to) copied natively: enumerating process.env costs ~30 us.
  // A Worker's process.env is its own copy, so there it is enumerated. A
  // Worker runs on a thread of its own: tid = pid only on the main thread
  // (asked of the addon: node:worker_threads costs ~2 ms of start-up).
  const inheritEnv = options.env === undefined && onMainThread();
  const env = inheritEnv ? undefined : (options.env ?? process.env);
  const envp: string[] = [];
  if (env !== undefined) {
    if (env === null || typeof env !== 'object') throw invalidArg('options.env', 'an object', env);
    for (const [k, v] of Object.entries(env)) envPush(envp, k, v as unknown);
  }
  // PATH lookup happens in the child, after the joins and chroot: the
  // program is looked for where it will run, not in our filesystem.
  // The PATH the child gets (an own key of env, as written above).
  const envPath = env === undefined ? process.env.PATH : envp.find((e) => e.startsWith('PATH='))?.slice(5);
  const searchPath = typeof envPath === 'string' ? envPath : '/usr/local/bin:/usr/bin:/bin';
  const paths = file.includes('/') ? [file] : searchPath.split(':').map((d) => `${d === '' ? '.' : d.replace(/\/+$/, '')}/${file}`);
  return { envp, inheritEnv, paths };
}

/**
 * A pid namespace join moves only the children of whoever joins. With
 * CAP_SYS_ADMIN everywhere, our thread joins it for the clone3 alone (see
 * native/spawn.cc) and the child is born inside: the pid namespace is taken
 * out of `join` and returned. Otherwise the child joins (user namespace
 * first) and clones the real process: a relay, whose exit costs more the
 * more mappings this process has. -1: no such thread join.
 */
function takeParentPidJoin(join: Join): number {
  if (!join.types.includes('pid') || !privilege().everywhere) return -1;
  if (join.pidfd >= 0) {
    join.flags &= ~CLONE_FLAG.pid;
    const fd = join.pidfd;
    if (join.flags === 0) join.pidfd = -1;
    return fd;
  }
  const i = join.types.indexOf('pid');
  const fd = join.fds[i] as number;
  join.fds.splice(i, 1);
  join.types.splice(i, 1);
  return fd;
}

/** options.cgroup as a checked cgroup v2 directory fd (a path is opened into opened.temp). */
function openCgroup(cg: NonNullable<SpawnOptions['cgroup']>, prep: Prepared): number {
  let fd: number;
  if (typeof cg === 'string') {
    checkString(cg, 'options.cgroup');
    prep.cgroupPath = cg;
    const r = native.openat(AT_FDCWD, cg, O_RDONLY | O_DIRECTORY, 0);
    if (r < 0) throw new NsError(r, 'open', { step: 'cgroup', path: cg, hint: r === -E.ENOENT ? 'no such cgroup directory' : undefined });
    prep.temp.push(r);
    fd = r;
  } else if (cg instanceof OwnedFd) {
    fd = cg.fd;
    if (fd < 0) throw new NsError(-E.EBADF, 'clone3', { step: 'cgroup' }, 'EBADF: file descriptor closed, cgroup');
  } else if (typeof cg === 'number' && Number.isInteger(cg) && cg >= 0) {
    fd = cg;
  } else {
    throw invalidArg('options.cgroup', 'a cgroup v2 directory path or fd', cg);
  }
  const ftype = native.fstatfs_type(fd);
  if (ftype < 0) throw new NsError(ftype, 'fstatfs', { step: 'cgroup', fd });
  if (ftype !== CGROUP2_SUPER_MAGIC) {
    throw new NsError(-E.EINVAL, 'fstatfs', {
      step: 'cgroup',
      path: prep.cgroupPath,
      hint: 'not a cgroup v2 directory (CLONE_INTO_CGROUP needs one; find the cgroup2 mount in /proc/self/mountinfo)',
    });
  }
  return fd;
}

/** options.root given as a Pidfd (its /proc/PID/root, opened into opened.temp) or an OwnedFd: the fd to chroot to. */
function openRoot(root: Pidfd | OwnedFd, prep: Prepared): number {
  if (root instanceof Pidfd) {
    const r = procRootFd(root);
    if (r < 0) {
      throw new NsError(r, 'open', {
        step: 'root',
        path: `/proc/${root.pid}/root`,
        pid: root.pid,
        hint: r === -E.EACCES ? 'no ptrace access to that process (PTRACE_MODE_READ_FSCREDS): its root cannot be opened' : undefined,
      });
    }
    prep.temp.push(r);
    return r;
  }
  if (root.fd < 0) throw new NsError(-E.EBADF, 'fchdir', { step: 'root' }, 'EBADF: file descriptor closed, options.root');
  return root.fd;
}

/** hostname, domainname and lo, set in the child: only in namespaces it makes. */
function checkUts(options: SpawnOptions, unshare: NsType[]): Pick<SpawnSpec, 'hostname' | 'domainname' | 'loopbackUp'> {
  const names = { hostname: options.hostname, domainname: options.domainname };
  for (const [k, v] of Object.entries(names)) {
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.includes('\0') || Buffer.byteLength(v) > UTS_NAME_MAX || (k === 'hostname' && v === '')) {
      throw invalidValue(`options.${k}`, `must be a string of ${k === 'hostname' ? 1 : 0} to ${UTS_NAME_MAX} bytes`, v);
    }
    if (!unshare.includes('uts')) throw invalidValue(`options.${k}`, 'needs a new uts namespace (unshare: ["uts", ...]); it would rename the host', v);
  }
  const loopbackUp = checkBool(options.loopback, 'options.loopback');
  if (loopbackUp && !unshare.includes('net')) throw invalidValue('options.loopback', 'needs a new network namespace (unshare: ["net", ...])', true);
  return { hostname: names.hostname, domainname: names.domainname, loopbackUp };
}

/** options.rootfs as a directory fd (a path is opened O_PATH into opened.temp). */
function openRootfs(rootfs: string | OwnedFd, prep: Prepared): number {
  if (rootfs instanceof OwnedFd) {
    if (rootfs.closed) throw new NsError(-E.EBADF, 'fchdir', { step: 'root' }, 'EBADF: file descriptor closed, options.rootfs');
    return rootfs.fd;
  }
  const r = native.openat(AT_FDCWD, rootfs, O_PATH | O_DIRECTORY, 0);
  if (r < 0) throw new NsError(r, 'open', { step: 'rootfs', path: rootfs });
  prep.temp.push(r);
  return r;
}

/** Checks everything, then opens the fds the child needs; on failure nothing stays open. */
export function prepare(file: string, args: readonly string[], options: SpawnOptions): Prepared {
  checkString(file, 'file');
  if (!Array.isArray(args)) throw invalidArg('args', 'an array of strings', args);
  // Copied once, holes included (forEach would skip them): what was checked is what the child gets.
  const argList = Array.from(args as readonly unknown[], (a, i) => checkString(a, `args[${i}]`, true));
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);

  const { unshare, killOnClose, mountProc, newSession } = checkSwitches(options);
  const maps = checkIdMaps(options, unshare);
  const proc = checkProcess(file, options);
  const env = environment(file, options);
  const stdio = stdioSlots(options.stdio);

  const join = resolveJoin(options, unshare);
  const joined = new Set(join.types);
  // Entering a user namespace (new or joined) gives the full bounding set there.
  const privileges = privilegeSpec(options, unshare.includes('user') || joined.has('user'));
  const ids = childIds(options, userNamespaceEntry(options, unshare, join, maps), proc);
  const hasJoin = join.types.length > 0;
  const unshareFlags = flagsOf(unshare);
  const parentPidFd = takeParentPidJoin(join);
  const rootfs = checkRootfs(options, unshare, joined.has('mnt'), mountProc);
  // With a rootfs the child makes the mount namespace itself (spawn_child.cc EnterRootfs).
  const nsFlags = rootfs === undefined ? unshareFlags : unshareFlags & ~CLONE_FLAG.mnt;
  if (options.executable !== undefined && !(options.executable instanceof OwnedFd)) {
    throw invalidArg('options.executable', 'an OwnedFd of an executable', options.executable);
  }

  // The spec is written out key by key, in native's order (spawn_wire.h):
  // no spreads, whose copies run in V8's runtime (~40 us a spawn, with their garbage).
  const procFd = ownProcfs().fd;
  const uts = checkUts(options, unshare);
  const blockSignals = checkBool(options.blockSignals, 'options.blockSignals');
  const spec: SpawnSpec = {
    paths: env.paths,
    argv: [proc.argv0, ...argList],
    envp: env.envp,
    inheritEnv: env.inheritEnv,
    // Without a join, clone3 makes the namespaces. After a join, unshare()
    // makes them, so they belong to the joined user namespace.
    cloneFlags: hasJoin ? 0 : nsFlags,
    joinPidfd: join.pidfd,
    joinFlags: join.flags,
    joinFds: join.fds,
    joinTypes: join.fds.length > 0 ? join.types.map((t) => CLONE_FLAG[t]) : [],
    parentPidFd,
    unshareAfter: hasJoin ? nsFlags : 0,
    // A pid namespace entered (or made) by a process holds only its children.
    twoStage: hasJoin && ((joined.has('pid') && parentPidFd < 0) || unshare.includes('pid')),
    // The kernel refuses a time namespace join to a task sharing its mm (EUSERS).
    shareVm: !joined.has('time'),
    uidMap: maps.uidMap,
    gidMap: maps.gidMap,
    setgroupsDeny: maps.setgroupsDeny,
    cgroupFd: -1,
    root: proc.root,
    rootFd: undefined,
    cwd: proc.cwd,
    uid: ids.uid,
    gid: ids.gid,
    groups: proc.groups,
    fds: [],
    killOnClose,
    mountProc,
    newSession,
    procFd,
    caps: privileges.caps,
    noNewPrivs: privileges.noNewPrivs,
    rlimits: privileges.rlimits,
    seccomp: privileges.seccomp,
    rootfsFd: -1,
    fsOps: rootfs?.fsOps ?? [],
    fsStrs: rootfs?.fsStrs ?? [],
    execFd: -1,
    hostname: uts.hostname,
    domainname: uts.domainname,
    loopbackUp: uts.loopbackUp,
    blockSignals,
    idmapRootfs: rootfs !== undefined && options.idmapRootfs === true,
  };
  const prep: Prepared = {
    spec,
    temp: [],
    pipes: [],
    file,
  };
  if (rootfs !== undefined) prep.rootfs = rootfs;

  // From here on fds are opened: close them all if anything fails.
  try {
    if (options.cgroup !== undefined) prep.spec.cgroupFd = openCgroup(options.cgroup, prep);
    const rootOption = options.root;
    if (rootOption instanceof Pidfd || rootOption instanceof OwnedFd) prep.spec.rootFd = openRoot(rootOption, prep);
    if (options.rootfs !== undefined) prep.spec.rootfsFd = openRootfs(options.rootfs, prep);
    if (options.executable !== undefined) {
      if (options.executable.closed) throw new NsError(-E.EBADF, 'execveat', { step: 'execve' }, 'EBADF: file descriptor closed, options.executable');
      prep.spec.execFd = options.executable.fd;
    }
    prep.spec.fds = openStdio(stdio, prep);
  } catch (err) {
    closeAll(prep.temp);
    closeAll(prep.pipes.map((p) => p[1]));
    throw err;
  }
  return prep;
}
