// Cgroup: a cgroup v2 directory the package creates or opens, for a
// container's processes: limits (OCI resource names), freeze and thaw,
// statistics, kill everything in it, remove it. cgroup v1 is not supported
// (on a hybrid host only the v2 core files work: procs, kill, freeze,
// events; the limits need their controllers on v2).
//
// Paths are those of our own mount namespace's cgroup2 mount, found in
// /proc/self/mountinfo (never a fixed /sys/fs/cgroup): a container cannot
// redirect them, and cgroupfs holds no symlinks.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { E, NsError, UnsupportedError, checkOptionKeys, invalidArg, invalidValue, optionKeys, outOfRange } from '../core/errors';
import { procRead } from '../core/procfs';
import { parseMountinfo } from '../list/mountinfo';

/** The option names the checks below know: any other is a typo (checkOptionKeys). */
const MEMORY_KEYS = optionKeys<NonNullable<CgroupResources['memory']>>({ max: true, swap: true, high: true });
const PIDS_KEYS = optionKeys<NonNullable<CgroupResources['pids']>>({ max: true });
const CPU_KEYS = optionKeys<NonNullable<CgroupResources['cpu']>>({ quota: true, period: true, weight: true });
const IO_KEYS = optionKeys<NonNullable<CgroupResources['io']>>({ weight: true });
const CREATE_OPTION_KEYS = optionKeys<{ parent?: string; name?: string; resources?: CgroupResources }>({ parent: true, name: true, resources: true });

/** Resource limits, with the OCI runtime spec's names (linux.resources) where they exist. */
export interface CgroupResources {
  /** memory.max and memory.swap.max, in bytes ('max' for none). OCI: memory.limit and memory.swap (here swap alone, not memory+swap). */
  memory?: { max?: number | 'max' | undefined; swap?: number | 'max' | undefined; high?: number | 'max' | undefined } | undefined;
  /** pids.max. OCI: pids.limit. */
  pids?: { max: number | 'max' } | undefined;
  /** cpu.max (quota per period, in µs) and cpu.weight (1..10000). OCI: cpu.quota, cpu.period, cpu.shares (as a weight here). */
  cpu?: { quota?: number | 'max' | undefined; period?: number | undefined; weight?: number | undefined } | undefined;
  /** io.weight (1..10000). */
  io?: { weight?: number | undefined } | undefined;
}

/** What c.stats() reads, shaped like the fields of `runc events --stats`. */
export interface CgroupStats {
  cpu: { usage: { total: number; user: number; kernel: number } };
  memory: { usage: { usage: number; limit: number | null }; swap: { usage: number; limit: number | null }; oom: number; oomKill: number } | null;
  pids: { current: number; limit: number | null } | null;
}

const RESOURCE_KEYS = optionKeys<CgroupResources>({ memory: true, pids: true, cpu: true, io: true });

/** Where our mount namespace has cgroup2 mounted (the first such mount). */
export function cgroup2Mount(): string {
  const text = procRead('self/mountinfo') ?? '';
  const m = parseMountinfo(text).find((e) => e.fstype === 'cgroup2');
  if (m === undefined) throw new NsError(-E.ENOENT, 'open', { path: '/proc/self/mountinfo', hint: 'no cgroup2 file system is mounted in this mount namespace' });
  return m.mountPoint;
}

/** The directory of the cgroup v2 this process is in ("0::/path" in /proc/self/cgroup, under the cgroup2 mount). */
export function ownCgroup(): string {
  const line = (procRead('self/cgroup') ?? '').split('\n').find((l) => l.startsWith('0::'));
  if (line === undefined) throw new NsError(-E.ENOENT, 'open', { path: '/proc/self/cgroup', hint: 'this process is in no cgroup v2 hierarchy' });
  return path.join(cgroup2Mount(), line.slice(3));
}

function limit(v: number | 'max' | undefined, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (v === 'max') return 'max';
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalidArg(name, "a non-negative integer or 'max'", v);
  return String(v);
}

function weight(v: number | undefined, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArg(name, 'an integer', v);
  if (v < 1 || v > 10000) throw outOfRange(name, '>= 1 and <= 10000', v);
  return String(v);
}

/** The files to write for `resources`, checked first (nothing is written on a bad value), with the controller each needs. */
function resourceWrites(resources: CgroupResources): { file: string; value: string; controller: string }[] {
  if (resources === null || typeof resources !== 'object') throw invalidArg('resources', 'an object', resources);
  checkOptionKeys(resources, RESOURCE_KEYS, 'resources');
  const out: { file: string; value: string; controller: string }[] = [];
  const add = (file: string, value: string | undefined, controller: string): void => {
    if (value !== undefined) out.push({ file, value, controller });
  };
  const { memory, pids, cpu, io } = resources;
  if (memory !== undefined) {
    checkOptionKeys(memory, MEMORY_KEYS, 'resources.memory');
    add('memory.high', limit(memory.high, 'resources.memory.high'), 'memory');
    add('memory.max', limit(memory.max, 'resources.memory.max'), 'memory');
    add('memory.swap.max', limit(memory.swap, 'resources.memory.swap'), 'memory');
  }
  if (pids !== undefined) {
    checkOptionKeys(pids, PIDS_KEYS, 'resources.pids');
    add('pids.max', limit(pids.max, 'resources.pids.max'), 'pids');
  }
  if (cpu !== undefined) {
    checkOptionKeys(cpu, CPU_KEYS, 'resources.cpu');
    if (cpu.quota !== undefined || cpu.period !== undefined) {
      const period = cpu.period ?? 100000;
      if (!Number.isInteger(period) || period < 1000 || period > 1000000) throw outOfRange('resources.cpu.period', '>= 1000 and <= 1000000 (µs)', cpu.period);
      add('cpu.max', `${limit(cpu.quota ?? 'max', 'resources.cpu.quota')} ${period}`, 'cpu');
    }
    add('cpu.weight', weight(cpu.weight, 'resources.cpu.weight'), 'cpu');
  }
  if (io !== undefined) {
    checkOptionKeys(io, IO_KEYS, 'resources.io');
    add('io.weight', weight(io.weight, 'resources.io.weight'), 'io');
  }
  return out;
}

/** "key value" lines of a cgroup file as numbers. */
function keyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

let made = 0;

/**
 * A cgroup v2 directory: create() makes one (and remove() deletes it), open()
 * takes an existing one. Its `path` is what spawn({ cgroup }) and
 * Container.create({ cgroup }) take to start processes in it
 * (CLONE_INTO_CGROUP).
 */
export class Cgroup {
  /** The cgroup's directory, under our cgroup2 mount. */
  readonly path: string;
  /** Whether remove() deletes the directory (create() made it). */
  readonly owned: boolean;

  private constructor(dir: string, owned: boolean) {
    this.path = dir;
    this.owned = owned;
  }

  /**
   * Makes a new cgroup under `parent` (default: the cgroup this process is
   * in), named `name` (default nsfd-PID-N), enables in the parent the
   * controllers `resources` needs, and applies them. A parent that holds
   * processes itself cannot enable controllers for its children (cgroup
   * v2's no-internal-process rule: EBUSY); a controller bound to cgroup v1
   * (a hybrid host) is not available (EOPNOTSUPP): both are typed errors
   * that say so.
   */
  static create(options: { parent?: string | undefined; name?: string | undefined; resources?: CgroupResources | undefined } = {}): Cgroup {
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    checkOptionKeys(options, CREATE_OPTION_KEYS);
    const writes = options.resources === undefined ? [] : resourceWrites(options.resources);
    const parent = options.parent ?? ownCgroup();
    if (typeof parent !== 'string' || parent === '') throw invalidArg('options.parent', 'a cgroup v2 directory path', parent);
    const name = options.name ?? `nsfd-${process.pid}-${++made}`;
    if (typeof name !== 'string' || name === '' || name.includes('/') || name === '.' || name === '..') throw invalidValue('options.name', 'must be one path component', name);
    enableControllers(parent, [...new Set(writes.map((w) => w.controller))]);
    const dir = path.join(parent, name);
    try {
      fs.mkdirSync(dir);
    } catch (err) {
      throw fsError(err, 'mkdir', dir, 'the parent must be a cgroup v2 directory we may write (a delegated subtree when not root)');
    }
    const cg = new Cgroup(dir, true);
    try {
      cg.#write(writes);
    } catch (err) {
      fs.rmdirSync(dir);
      throw err;
    }
    return cg;
  }

  /** An existing cgroup v2 directory (remove() will not delete it). */
  static open(dir: string): Cgroup {
    if (typeof dir !== 'string' || dir === '') throw invalidArg('dir', 'a cgroup v2 directory path', dir);
    if (!fs.existsSync(path.join(dir, 'cgroup.procs'))) throw new NsError(-E.ENOTDIR, 'open', { path: dir, hint: 'not a cgroup v2 directory (no cgroup.procs)' });
    return new Cgroup(dir, false);
  }

  #read(file: string): string | undefined {
    try {
      return fs.readFileSync(path.join(this.path, file), 'latin1');
    } catch {
      return undefined;
    }
  }

  #write(writes: readonly { file: string; value: string; controller: string }[]): void {
    for (const w of writes) {
      const file = path.join(this.path, w.file);
      try {
        fs.writeFileSync(file, w.value);
      } catch (err) {
        throw fsError(err, 'write', file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? `the ${w.controller} controller is not enabled here (bound to cgroup v1 on a hybrid host?)` : undefined);
      }
    }
  }

  /** Applies new limits (c.update() in a Container); the controllers must be enabled already. */
  update(resources: CgroupResources): void {
    this.#write(resourceWrites(resources));
  }

  /** Pids in the cgroup (cgroup.procs), as our pid namespace numbers them. */
  procs(): number[] {
    return (this.#read('cgroup.procs') ?? '').split('\n').filter(Boolean).map(Number);
  }

  /** Whether any process is in it or below it (cgroup.events populated). */
  get populated(): boolean {
    return keyed(this.#read('cgroup.events')).get('populated') === 1;
  }

  /** Whether it is frozen (cgroup.events frozen). */
  get frozen(): boolean {
    return keyed(this.#read('cgroup.events')).get('frozen') === 1;
  }

  async #until(what: () => boolean, ms: number, hint: string): Promise<void> {
    const end = Date.now() + ms;
    for (let i = 0; !what(); i++) {
      if (Date.now() > end) throw new NsError(-E.ETIMEDOUT, 'cgroup', { path: this.path, hint });
      await sleep(i < 20 ? 1 : 10);
    }
  }

  /** Freezes every process in it (cgroup.freeze) and resolves once the kernel reports it frozen. */
  async freeze(): Promise<void> {
    this.#write([{ file: 'cgroup.freeze', value: '1', controller: 'core' }]);
    await this.#until(() => this.frozen, 10000, 'not frozen within 10 s');
  }

  /** Thaws it (cgroup.freeze 0) and resolves once the kernel reports it thawed. */
  async thaw(): Promise<void> {
    this.#write([{ file: 'cgroup.freeze', value: '0', controller: 'core' }]);
    await this.#until(() => !this.frozen, 10000, 'not thawed within 10 s');
  }

  /** SIGKILLs every process in it and below (cgroup.kill, 5.14+) and resolves once it is empty. */
  async kill(): Promise<void> {
    const file = path.join(this.path, 'cgroup.kill');
    try {
      fs.writeFileSync(file, '1');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UnsupportedError('cgroup.kill', '5.14', -E.ENOENT, 'write');
      throw fsError(err, 'write', file);
    }
    await this.#until(() => !this.populated, 10000, 'processes still in it 10 s after cgroup.kill');
  }

  /** What it uses now; controllers that are not enabled here give null. */
  stats(): CgroupStats {
    const cpu = keyed(this.#read('cpu.stat'));
    const num = (file: string): number | null | undefined => {
      const t = this.#read(file)?.trim();
      if (t === undefined) return undefined;
      return t === 'max' ? null : Number(t);
    };
    const memCurrent = num('memory.current');
    const events = keyed(this.#read('memory.events'));
    const pidsCurrent = num('pids.current');
    return {
      // cpu.stat is in µs; runc reports ns.
      cpu: { usage: { total: (cpu.get('usage_usec') ?? 0) * 1000, user: (cpu.get('user_usec') ?? 0) * 1000, kernel: (cpu.get('system_usec') ?? 0) * 1000 } },
      memory:
        memCurrent === undefined
          ? null
          : { usage: { usage: memCurrent ?? 0, limit: num('memory.max') ?? null }, swap: { usage: num('memory.swap.current') ?? 0, limit: num('memory.swap.max') ?? null }, oom: events.get('oom') ?? 0, oomKill: events.get('oom_kill') ?? 0 },
      pids: pidsCurrent === undefined ? null : { current: pidsCurrent ?? 0, limit: num('pids.max') ?? null },
    };
  }

  /** Kills what is left in it and deletes the directory, if create() made it. Idempotent. */
  async remove(): Promise<void> {
    if (!fs.existsSync(this.path)) return;
    if (this.populated) await this.kill();
    if (!this.owned) return;
    try {
      fs.rmdirSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, 'rmdir', this.path, 'a child cgroup is still in it');
    }
  }
}

/**
 * Enables `controllers` for the children of `parent` (cgroup.subtree_control),
 * those not enabled yet; one the parent itself lacks is enabled in its
 * ancestors first, top-down (up to the cgroup2 mount's root), as a
 * delegated subtree needs.
 */
function enableControllers(parent: string, controllers: readonly string[], top = cgroup2Mount()): void {
  if (controllers.length === 0) return;
  const read = (f: string): string[] => {
    try {
      return fs.readFileSync(path.join(parent, f), 'latin1').trim().split(/\s+/).filter(Boolean);
    } catch (err) {
      throw fsError(err, 'open', path.join(parent, f), 'not a cgroup v2 directory');
    }
  };
  let available = read('cgroup.controllers');
  const enabled = read('cgroup.subtree_control');
  const missing = controllers.filter((c) => !enabled.includes(c));
  if (missing.length === 0) return;
  let absent = missing.filter((c) => !available.includes(c));
  if (absent.length > 0 && path.resolve(parent) !== path.resolve(top) && path.resolve(parent).startsWith(`${path.resolve(top)}/`)) {
    enableControllers(path.dirname(parent), absent, top);
    available = read('cgroup.controllers');
    absent = missing.filter((c) => !available.includes(c));
  }
  if (absent.length > 0) {
    throw new NsError(-E.EOPNOTSUPP, 'write', {
      path: path.join(parent, 'cgroup.subtree_control'),
      hint: `the ${absent.join(', ')} controller${absent.length > 1 ? 's are' : ' is'} not available in this cgroup v2 hierarchy (on a hybrid host they are bound to cgroup v1)`,
    });
  }
  const file = path.join(parent, 'cgroup.subtree_control');
  try {
    fs.writeFileSync(file, missing.map((c) => `+${c}`).join(' '));
  } catch (err) {
    const busy = (err as NodeJS.ErrnoException).code === 'EBUSY';
    throw fsError(err, 'write', file, busy ? 'this cgroup holds processes itself, so it cannot enable controllers for children (no-internal-process rule): use a parent with no processes in it, e.g. a delegated subtree' : undefined);
  }
}

/** An fs error as an NsError with our path and hint. */
function fsError(err: unknown, syscall: string, file: string, hint?: string): NsError {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.errno !== 'number') return new NsError(-E.EIO, syscall, { path: file, hint: String(err) });
  return new NsError(e.errno, syscall, { path: file, hint });
}
