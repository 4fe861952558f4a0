// OCI bundles: a runtime-spec config.json (as `runc spec` and `runc spec
// --rootless` write it, ociVersion 1.0.x to 1.2.x) read and mapped onto
// Container.create's options. The mapping is pure (bundleOptions): every
// field is either mapped or an error naming its JSON path, never ignored,
// since a config that asks for isolation we do not give must not run as if
// it had it.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { NsError } from '../core/errors';
import type { NsType } from '../core/ns-types';
import type { CgroupResources } from '../cgroup';
import { CapabilitySets, OciSeccompProfile, ociFilter, rlimitTriples } from '../privileges';
import type { IdMapEntry, MountSpec, SpawnOptions } from '../spawn';
import { ContainerCreateOptions, sysctlNamespace } from './options';

/**
 * A config.json nsfd cannot run as asked: `field` is its JSON path
 * ("process.terminal"). A TypeError, as Node's ERR_INVALID_ARG_VALUE is:
 * the input is what is wrong.
 */
export class BundleConfigError extends TypeError {
  /** 'ERR_NSFD_BUNDLE_UNSUPPORTED' (a field nsfd does not implement) or 'ERR_NSFD_BUNDLE_INVALID' (not a valid config). */
  readonly code: 'ERR_NSFD_BUNDLE_UNSUPPORTED' | 'ERR_NSFD_BUNDLE_INVALID';
  /** The JSON path of the field, such as "linux.namespaces[2].path". */
  readonly field: string;
  constructor(field: string, message: string, unsupported: boolean) {
    super(`config.json: ${field}${message}`);
    this.code = unsupported ? 'ERR_NSFD_BUNDLE_UNSUPPORTED' : 'ERR_NSFD_BUNDLE_INVALID';
    this.field = field;
  }
}
Object.defineProperty(BundleConfigError.prototype, 'name', { value: 'BundleConfigError', enumerable: false, writable: true, configurable: true });

const unsupported = (field: string, what = ' is not supported'): BundleConfigError => new BundleConfigError(field, what, true);
const invalid = (field: string, what: string): BundleConfigError => new BundleConfigError(field, `: ${what}`, false);

/** Options of Container.fromBundle(), besides the bundle directory. */
export interface BundleOptions {
  /** The container's id (runc's rule: letters, digits, `_+-.`): names its own cgroup when one is made and cgroupsPath is not given. */
  id?: string | undefined;
  /** The init's stdio (default "ignore"), as Container.create's. */
  stdio?: SpawnOptions['stdio'] | undefined;
  /** As Container.create's (default true). */
  killOnClose?: boolean | undefined;
}

/** What the mapping needs from the host, injectable so that it stays pure. */
export interface BundleHost {
  /** The cgroup v2 mount (an absolute cgroupsPath is under it). */
  cgroupRoot(): string;
  /** The cgroup v2 this process is in (a relative cgroupsPath is under it; a cgroup mount without a cgroup namespace binds it). */
  ownCgroup(): string;
}

/** The largest config.json read (runc spec writes about 3 KiB; a big seccomp profile, some 100 KiB). */
export const MAX_CONFIG_BYTES = 4 << 20;

/**
 * Reads dir/config.json: a regular file of at most MAX_CONFIG_BYTES, parsed.
 * A plain read is right here: the bundle directory is the caller's (as for
 * runc, whoever may write it decides what runs), not the container's, and
 * nothing of the container runs yet. Bounded all the same, and opened
 * without following a final symlink, so a wrong path fails rather than hangs
 * on a FIFO or reads a device.
 */
export function readBundleConfig(dir: string): unknown {
  if (typeof dir !== 'string' || dir === '' || dir.includes('\0')) throw invalidArgType('dir', 'a bundle directory path', dir);
  const file = path.join(dir, 'config.json');
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new NsError(-Math.abs(e.errno ?? 0), 'open', { path: file, hint: 'the bundle directory must hold config.json' });
  }
  let text: string;
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw invalid('config.json', 'is not a regular file');
    if (st.size > MAX_CONFIG_BYTES) throw invalid('config.json', `is larger than ${MAX_CONFIG_BYTES} bytes`);
    const buf = Buffer.alloc(Math.min(st.size, MAX_CONFIG_BYTES) + 1);
    let n = 0;
    for (let r; n < buf.length && (r = fs.readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    if (n > MAX_CONFIG_BYTES) throw invalid('config.json', `is larger than ${MAX_CONFIG_BYTES} bytes`);
    text = buf.toString('utf8', 0, n);
  } finally {
    fs.closeSync(fd);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalid('config.json', `is not JSON (${(err as Error).message})`);
  }
}

function invalidArgType(name: string, expected: string, actual: unknown): TypeError {
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${JSON.stringify(actual) ?? String(actual)}`);
  return Object.assign(err, { code: 'ERR_INVALID_ARG_TYPE' });
}

type Json = Record<string, unknown>;

function obj(v: unknown, field: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid(field, 'must be an object');
  return v as Json;
}
function arr(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw invalid(field, 'must be an array');
  return v;
}
function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.includes('\0')) throw invalid(field, 'must be a string');
  return v;
}
function strs(v: unknown, field: string): string[] {
  return arr(v, field).map((x, i) => str(x, `${field}[${i}]`));
}
function uint(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(field, 'must be a non-negative integer');
  return v;
}
function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw invalid(field, 'must be a boolean');
  return v;
}
/** Every key of `o` must be one we map: any other is named in the error. */
function only(o: Json, field: string, known: readonly string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw unsupported(field === '' ? k : `${field}.${k}`);
}
/** A field the spec has but nsfd does not implement: fine absent or empty/false, else an error naming it. */
function absent(o: Json, key: string, field: string): void {
  const v = o[key];
  if (v === undefined || v === null || v === '' || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)) return;
  throw unsupported(`${field}.${key}`);
}

/**
 * Container.create options, and the namespace files to join (opened by
 * fromBundle, which passes them as `join`: the mapping stays pure).
 */
export type BundleCreateOptions = ContainerCreateOptions & { joinPaths?: { type: NsType; path: string }[] };

const NAMESPACES: Readonly<Record<string, NsType>> = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time' };

/**
 * config.json (parsed) to Container.create options. `dir`: the bundle
 * directory (root.path and relative bind sources are under it).
 */
export function bundleOptions(config: unknown, dir: string, options: BundleOptions = {}, host?: BundleHost): BundleCreateOptions {
  const c = obj(config, 'config.json');
  only(c, '', ['ociVersion', 'process', 'root', 'hostname', 'domainname', 'mounts', 'linux', 'annotations', 'hooks']);
  const version = str(c.ociVersion, 'ociVersion');
  if (!/^1\.[012]\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) throw unsupported('ociVersion', `: ${JSON.stringify(version)} is not supported (1.0.x to 1.2.x are)`);
  if (c.hooks !== undefined) {
    // (Empty hook lists ask for nothing.)
    for (const [k, v] of Object.entries(obj(c.hooks, 'hooks'))) if (!Array.isArray(v) || v.length > 0) throw unsupported(`hooks.${k}`);
  }
  if (c.annotations !== undefined) obj(c.annotations, 'annotations');  // (metadata: nothing to apply)
  const out: BundleCreateOptions = {};
  if (options.stdio !== undefined) out.stdio = options.stdio;
  if (options.killOnClose !== undefined) out.killOnClose = options.killOnClose;

  // root
  const root = obj(c.root, 'root');
  only(root, 'root', ['path', 'readonly']);
  out.rootfs = path.resolve(dir, str(root.path, 'root.path'));
  if (root.readonly !== undefined) out.readonlyRootfs = bool(root.readonly, 'root.readonly');

  // linux (first: the namespaces decide what the rest may ask)
  const linux = c.linux === undefined ? {} : obj(c.linux, 'linux');
  only(linux, 'linux', [
    'namespaces', 'uidMappings', 'gidMappings', 'sysctl', 'resources', 'cgroupsPath', 'rootfsPropagation', 'maskedPaths', 'readonlyPaths',
    'seccomp', 'devices', 'mountLabel', 'timeOffsets', 'personality', 'intelRdt',
  ]);
  for (const k of ['devices', 'mountLabel', 'timeOffsets', 'personality', 'intelRdt']) absent(linux, k, 'linux');
  const unshare: NsType[] = [];
  const joins: { type: NsType; path: string }[] = [];
  arr(linux.namespaces ?? [], 'linux.namespaces').forEach((n, i) => {
    const field = `linux.namespaces[${i}]`;
    const o = obj(n, field);
    only(o, field, ['type', 'path']);
    const t = NAMESPACES[str(o.type, `${field}.type`)];
    if (t === undefined) throw unsupported(`${field}.type`, `: ${JSON.stringify(o.type)} is not a namespace type`);
    if (unshare.includes(t) || joins.some((j) => j.type === t)) throw invalid(`${field}.type`, `${JSON.stringify(o.type)} is given twice`);
    if (o.path !== undefined && o.path !== '') {
      const p = str(o.path, `${field}.path`);
      if (!['net', 'ipc', 'uts'].includes(t)) throw unsupported(`${field}.path`, `: joining an existing ${o.type} namespace is not supported (network, ipc and uts ones can be joined)`);
      if (!p.startsWith('/')) throw invalid(`${field}.path`, 'must be an absolute path');
      joins.push({ type: t, path: p });
    } else {
      unshare.push(t);
    }
  });
  if (!unshare.includes('mnt')) throw unsupported('linux.namespaces', ': a config without a mount namespace is not supported (nsfd enters root.path by pivot_root in a new one)');
  out.unshare = unshare;
  if (joins.length > 0) out.joinPaths = joins;
  const maps = (key: 'uidMappings' | 'gidMappings'): IdMapEntry[] | undefined => {
    if (linux[key] === undefined) return undefined;
    return arr(linux[key], `linux.${key}`).map((m, i) => {
      const field = `linux.${key}[${i}]`;
      const o = obj(m, field);
      only(o, field, ['containerID', 'hostID', 'size']);
      return { inside: uint(o.containerID, `${field}.containerID`), outside: uint(o.hostID, `${field}.hostID`), count: uint(o.size, `${field}.size`) };
    });
  };
  const uidMap = maps('uidMappings');
  const gidMap = maps('gidMappings');
  if (unshare.includes('user')) {
    if (uidMap === undefined || uidMap.length === 0) throw invalid('linux.uidMappings', 'a user namespace needs uidMappings');
    if (gidMap === undefined || gidMap.length === 0) throw invalid('linux.gidMappings', 'a user namespace needs gidMappings');
    out.uidMap = uidMap;
    out.gidMap = gidMap;
  } else if ((uidMap?.length ?? 0) > 0 || (gidMap?.length ?? 0) > 0) {
    throw invalid(uidMap !== undefined ? 'linux.uidMappings' : 'linux.gidMappings', 'id mappings need a user namespace in linux.namespaces');
  }
  if (linux.rootfsPropagation !== undefined && linux.rootfsPropagation !== '') {
    const p = str(linux.rootfsPropagation, 'linux.rootfsPropagation');
    // What nsfd does (runc's default): the whole tree rslave before mounting.
    if (p !== 'slave' && p !== 'rslave') throw unsupported('linux.rootfsPropagation', `: ${JSON.stringify(p)} is not supported (only "slave" and "rslave", what nsfd does)`);
  }
  if (linux.maskedPaths !== undefined) out.maskedPaths = strs(linux.maskedPaths, 'linux.maskedPaths');
  else out.maskedPaths = [];  // absent means none (the spec's defaults are what runc spec writes in)
  if (linux.readonlyPaths !== undefined) out.readonlyPaths = strs(linux.readonlyPaths, 'linux.readonlyPaths');
  else out.readonlyPaths = [];
  out.seccomp = linux.seccomp === undefined ? false : (obj(linux.seccomp, 'linux.seccomp') as unknown as OciSeccompProfile);
  // Checked here too, so that an error names the JSON path (linux.seccomp.listenerPath: notify is not supported).
  if (out.seccomp !== false) ociFilter(out.seccomp, 'linux.seccomp');
  if (linux.sysctl !== undefined) {
    const sysctl: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(linux.sysctl, 'linux.sysctl'))) {
      const field = `linux.sysctl[${JSON.stringify(k)}]`;
      const ns = sysctlNamespace(k);
      if (ns === undefined) throw unsupported(field, ': not a namespaced sysctl (runc refuses it too)');
      if (!unshare.includes(ns)) throw invalid(field, `needs a ${ns} namespace of the container's own`);
      sysctl[k] = str(v, field);
    }
    if (Object.keys(sysctl).length > 0) out.sysctl = sysctl;
  }
  if (linux.resources !== undefined) {
    const r = resources(obj(linux.resources, 'linux.resources'));
    if (r !== undefined) out.resources = r;
  }
  if (linux.cgroupsPath !== undefined && linux.cgroupsPath !== '') {
    const p = str(linux.cgroupsPath, 'linux.cgroupsPath');
    if (p.includes(':')) throw unsupported('linux.cgroupsPath', `: ${JSON.stringify(p)} (systemd's slice:prefix:name) is not supported; give a cgroupfs path`);
    const parts = p.split('/').filter((x) => x !== '' && x !== '.');
    if (parts.length === 0 || parts.includes('..')) throw invalid('linux.cgroupsPath', 'must name a cgroup, without ".."');
    const base = p.startsWith('/') ? need(host).cgroupRoot() : need(host).ownCgroup();
    out.cgroupParent = path.join(base, ...parts.slice(0, -1));
    out.cgroupName = parts[parts.length - 1] as string;
  } else if (out.resources !== undefined && options.id !== undefined) {
    out.cgroupName = options.id;
  }

  // process
  const proc = obj(c.process, 'process');
  only(proc, 'process', [
    'terminal', 'consoleSize', 'user', 'args', 'commandLine', 'env', 'cwd', 'capabilities', 'rlimits', 'noNewPrivileges',
    'apparmorProfile', 'oomScoreAdj', 'selinuxLabel', 'ioPriority', 'scheduler', 'execCPUAffinity',
  ]);
  if (proc.terminal !== undefined && bool(proc.terminal, 'process.terminal')) throw unsupported('process.terminal', ': true is not supported (set it to false)');
  if (proc.consoleSize !== undefined) obj(proc.consoleSize, 'process.consoleSize');  // (the spec: ignored without a terminal)
  for (const k of ['commandLine', 'apparmorProfile', 'selinuxLabel', 'ioPriority', 'scheduler', 'execCPUAffinity']) absent(proc, k, 'process');
  if (proc.oomScoreAdj !== undefined) throw unsupported('process.oomScoreAdj');
  const args = strs(proc.args, 'process.args');
  if (args.length === 0 || args[0] === '') throw invalid('process.args', 'must be a non-empty array');
  out.command = args;
  const env: Record<string, string> = {};
  if (proc.env !== undefined) {
    strs(proc.env, 'process.env').forEach((e, i) => {
      const eq = e.indexOf('=');
      if (eq <= 0) throw invalid(`process.env[${i}]`, 'must be "NAME=value"');
      env[e.slice(0, eq)] = e.slice(eq + 1);
    });
  }
  out.env = env;  // (none given: an empty environment, never ours)
  const cwd = str(proc.cwd, 'process.cwd');
  if (!cwd.startsWith('/')) throw invalid('process.cwd', 'must be an absolute path');
  out.cwd = cwd;
  const user = obj(proc.user, 'process.user');
  only(user, 'process.user', ['uid', 'gid', 'umask', 'additionalGids', 'username']);
  absent(user, 'username', 'process.user');
  if (user.umask !== undefined) throw unsupported('process.user.umask');
  out.uid = uint(user.uid, 'process.user.uid');
  out.gid = uint(user.gid, 'process.user.gid');
  if (user.additionalGids !== undefined) {
    const groups = arr(user.additionalGids, 'process.user.additionalGids').map((g, i) => uint(g, `process.user.additionalGids[${i}]`));
    if (groups.length > 0) out.groups = groups;
  }
  if (proc.capabilities !== undefined) {
    const caps = obj(proc.capabilities, 'process.capabilities');
    only(caps, 'process.capabilities', ['bounding', 'effective', 'permitted', 'inheritable', 'ambient']);
    const sets: { -readonly [K in keyof CapabilitySets]: string[] } = {};
    for (const k of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
      if (caps[k] !== undefined) sets[k] = strs(caps[k], `process.capabilities.${k}`);
    }
    if (sets.ambient !== undefined && sets.ambient.length > 0) {
      // An ambient capability must be permitted and inheritable, or the
      // kernel refuses to raise it; runc ignores that failure (and `runc
      // spec` writes ambient without inheritable), so such a config runs
      // there with those left out. The same here, said aloud.
      const up = (x: string): string => x.toUpperCase().replace(/^CAP_/, '');
      const allowed = new Set((sets.permitted ?? []).map(up).filter((x) => (sets.inheritable ?? []).map(up).includes(x)));
      const dropped = sets.ambient.filter((x) => !allowed.has(up(x)));
      if (dropped.length > 0) {
        sets.ambient = sets.ambient.filter((x) => allowed.has(up(x)));
        process.emitWarning(`config.json: process.capabilities.ambient: ${dropped.join(', ')} left out: not in both permitted and inheritable (the kernel cannot raise them; runc leaves them out too)`, {
          type: 'NsfdWarning',
          code: 'NSFD_BUNDLE_AMBIENT',
        });
      }
    }
    out.capabilities = sets;
  } else {
    out.capabilities = {};  // (absent: none, as runc runs it)
  }
  if (proc.rlimits !== undefined) {
    out.rlimits = arr(proc.rlimits, 'process.rlimits').map((l, i) => {
      const field = `process.rlimits[${i}]`;
      const o = obj(l, field);
      only(o, field, ['type', 'soft', 'hard']);
      // (The spec's uint64: -1 or 2^64-1 is unlimited; JSON numbers above 2^53 arrive rounded.)
      const lim = (v: unknown, f: string): number | 'unlimited' => (v === -1 || (typeof v === 'number' && v >= 2 ** 63) ? 'unlimited' : uint(v, f));
      return { type: str(o.type, `${field}.type`), soft: lim(o.soft, `${field}.soft`), hard: lim(o.hard, `${field}.hard`) };
    });
    rlimitTriples(out.rlimits, 'process.rlimits');  // (unknown names, soft above hard: named by JSON path)
  }
  out.noNewPrivileges = proc.noNewPrivileges === undefined ? false : bool(proc.noNewPrivileges, 'process.noNewPrivileges');

  // hostname, domainname, mounts
  if (c.hostname !== undefined && c.hostname !== '') {
    if (!unshare.includes('uts')) throw invalid('hostname', 'needs a new uts namespace in linux.namespaces (one without a path)');
    out.hostname = str(c.hostname, 'hostname');
  }
  if (c.domainname !== undefined && c.domainname !== '') {
    if (!unshare.includes('uts')) throw invalid('domainname', 'needs a new uts namespace in linux.namespaces (one without a path)');
    out.domainname = str(c.domainname, 'domainname');
  }
  // The config's mounts are the whole list (its /proc, /dev, /sys...): none
  // of ours, but the default devices and /dev symlinks, which runc makes too.
  out.defaultMounts = false;
  out.defaultDevices = true;
  out.mounts = arr(c.mounts ?? [], 'mounts').map((m, i) => mount(m, `mounts[${i}]`, dir, unshare, out, host));
  return out;
}

function need(host: BundleHost | undefined): BundleHost {
  if (host === undefined) throw new Error('bundleOptions: this config needs the host (cgroup paths): pass one');
  return host;
}

function mount(m: unknown, field: string, dir: string, unshare: readonly NsType[], out: BundleCreateOptions, host: BundleHost | undefined): MountSpec {
  const o = obj(m, field);
  only(o, field, ['destination', 'type', 'source', 'options', 'uidMappings', 'gidMappings']);
  absent(o, 'uidMappings', field);
  absent(o, 'gidMappings', field);
  const destination = str(o.destination, `${field}.destination`);
  if (!destination.startsWith('/')) throw invalid(`${field}.destination`, 'must be an absolute path');
  const options = o.options === undefined ? [] : strs(o.options, `${field}.options`);
  const isBind = options.includes('bind') || options.includes('rbind');
  let type = o.type === undefined ? (isBind ? 'bind' : '') : str(o.type, `${field}.type`);
  if (type === '') throw invalid(`${field}.type`, 'is needed unless options hold "bind" or "rbind"');
  if (options.some((x) => ['shared', 'rshared', 'unbindable', 'runbindable'].includes(x))) {
    throw unsupported(`${field}.options`, `: propagation ${options.find((x) => ['shared', 'rshared', 'unbindable', 'runbindable'].includes(x))} is not supported`);
  }
  if (type === 'cgroup') {
    // runc mounts cgroup2 on a unified host; without a cgroup namespace it
    // binds the container's own cgroup instead. Ours is known here only
    // when it is the one we run in (the container gets no cgroup of its own).
    if (unshare.includes('cgroup')) return { type: 'cgroup2', destination, options: options.filter((x) => x !== 'bind' && x !== 'rbind') };
    if (out.cgroupName !== undefined || out.resources !== undefined) {
      throw unsupported(field, ': a cgroup mount without a cgroup namespace, for a container with a cgroup of its own, is not supported (add {"type": "cgroup"} to linux.namespaces)');
    }
    return { type: 'bind', source: need(host).ownCgroup(), destination, options: ['rbind', ...options.filter((x) => x !== 'relatime' && x !== 'bind' && x !== 'rbind')] };
  }
  if (isBind || type === 'bind' || type === 'none') {
    const source = str(o.source, `${field}.source`);
    type = 'bind';
    return { type, source: path.resolve(dir, source), destination, options };
  }
  return { type, destination, options };
}

/** linux.resources (OCI names, cgroup v1 units) to nsfd's (cgroup v2 files); undefined when it asks for nothing. */
function resources(r: Json): CgroupResources | undefined {
  only(r, 'linux.resources', ['devices', 'memory', 'cpu', 'pids', 'blockIO', 'hugepageLimits', 'network', 'rdma', 'unified']);
  for (const k of ['blockIO', 'hugepageLimits', 'network', 'rdma', 'unified']) absent(r, k, 'linux.resources');
  if (r.devices !== undefined) {
    // runc spec's one rule, deny all: nsfd has no device cgroup (eBPF)
    // program, but its /dev holds only the default devices runc allows
    // anyway. Any other rule would have to be enforced: refused.
    arr(r.devices, 'linux.resources.devices').forEach((d, i) => {
      const field = `linux.resources.devices[${i}]`;
      const o = obj(d, field);
      const denyAll = o.allow === false && (o.access === undefined || o.access === 'rwm') && (o.type === undefined || o.type === 'a') && o.major === undefined && o.minor === undefined;
      if (!denyAll) throw unsupported(field, ': device rules other than deny-all are not supported');
    });
  }
  const out: CgroupResources = {};
  const max = (v: unknown, field: string): number | 'max' => (v === -1 ? 'max' : uint(v, field));
  if (r.memory !== undefined) {
    const m = obj(r.memory, 'linux.resources.memory');
    only(m, 'linux.resources.memory', ['limit', 'swap', 'reservation', 'kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate']);
    for (const k of ['reservation', 'kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate']) absent(m, k, 'linux.resources.memory');
    const mem: NonNullable<CgroupResources['memory']> = {};
    if (m.limit !== undefined) mem.max = max(m.limit, 'linux.resources.memory.limit');
    if (m.swap !== undefined) {
      // OCI's swap is memory+swap (v1's memsw); v2's swap.max is swap alone (runc's conversion).
      const sw = max(m.swap, 'linux.resources.memory.swap');
      if (sw === 'max') mem.swap = 'max';
      else if (typeof mem.max !== 'number') throw invalid('linux.resources.memory.swap', 'needs memory.limit (it counts memory plus swap)');
      else if (sw < mem.max) throw invalid('linux.resources.memory.swap', 'must be at least memory.limit (it counts memory plus swap)');
      else mem.swap = sw - mem.max;
    }
    if (Object.keys(mem).length > 0) out.memory = mem;
  }
  if (r.pids !== undefined) {
    const p = obj(r.pids, 'linux.resources.pids');
    only(p, 'linux.resources.pids', ['limit']);
    if (p.limit !== undefined) {
      const l = p.limit;
      // (runc: 0 is "not set", negative is no limit)
      if (typeof l === 'number' && l < 0) out.pids = { max: 'max' };
      else if (uint(l, 'linux.resources.pids.limit') > 0) out.pids = { max: l as number };
    }
  }
  if (r.cpu !== undefined) {
    const c = obj(r.cpu, 'linux.resources.cpu');
    only(c, 'linux.resources.cpu', ['shares', 'quota', 'period', 'burst', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems', 'idle']);
    for (const k of ['burst', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems', 'idle']) absent(c, k, 'linux.resources.cpu');
    const cpu: NonNullable<CgroupResources['cpu']> = {};
    if (c.shares !== undefined && c.shares !== 0) {
      // runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] onto [1, 10000].
      const s = uint(c.shares, 'linux.resources.cpu.shares');
      if (s < 2 || s > 262144) throw invalid('linux.resources.cpu.shares', 'must be between 2 and 262144');
      cpu.weight = 1 + Math.floor(((s - 2) * 9999) / 262142);
    }
    if (c.quota !== undefined && c.quota !== 0) cpu.quota = max(c.quota, 'linux.resources.cpu.quota');
    if (c.period !== undefined && c.period !== 0) cpu.period = uint(c.period, 'linux.resources.cpu.period');
    if (Object.keys(cpu).length > 0) out.cpu = cpu;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
