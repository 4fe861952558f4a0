// API fuzzing: every public function, static and method called with random
// and hostile arguments (test/fixtures/fuzz-api.js), in a child process so a
// native crash is a failing exit status here, with the seed to replay it:
//   NSFD_FUZZ_SEED=<seed> NSFD_FUZZ_COUNT=<n> npx vitest run test/fuzz.test.ts
// CI runs a fixed seed and a bounded count; `npm run test:stress` runs more
// calls and several seeds (test/stress/fuzz.test.ts).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { Namespace, NsError, OwnedFd, Pidfd } from '../lib/index';
import { native } from '../lib/native';
import { fdCount, isRoot } from './helpers';
import { FuzzResult, checkFuzz, runFuzz } from './stress/fuzz-check';

const SEED = Number(process.env.NSFD_FUZZ_SEED ?? 20251124);
const COUNT = Number(process.env.NSFD_FUZZ_COUNT ?? 3000);

/** Which module answers for a fuzzed name (for failures that name their owner). */
const MODULES: [string, RegExp][] = [
  ['foundation (owned-fd, pidfd, namespace, attach, translate, features, errors)', /^(OwnedFd|Pidfd|Namespace|attach|AttachScope|translatePid|features|NsError|UnsupportedError)\b/],
  ['spawn', /^(spawn|run|Subprocess)\b/],
  ['inns', /^(socketIn|socketNamespace|openIn|readFileIn|writeFileIn|mkdirIn|mountIn|loopbackUp|openFlags)\b/],
  ['list', /^(listNamespaces|namespaceTree|buildNamespaceTree)\b/],
  ['container', /^Container\b/],
];

describe('API fuzzing', () => {
  let o: FuzzResult;
  beforeAll(() => {
    o = runFuzz(SEED, COUNT, 170000);
    console.log(
      `fuzz: seed ${o.seed}, ${o.calls} calls over ${o.functions} functions in ${o.ms} ms: ${o.returned} returned (${o.asyncCalls} promises), ${o.threw} threw; ` +
        `codes ${JSON.stringify(o.byCode)}; untyped ${o.untyped.length}; node fs errors ${o.nodeErrors.length}; fds ${o.fdStart} -> ${o.fdEnd}`,
    );
  }, 180000);

  it('covers every public function, static and method', () => {
    expect(o.uncovered).toEqual([]);
    expect(o.functions).toBeGreaterThanOrEqual(100);
    expect(o.calls).toBe(COUNT);
  });

  it('no crash, no hang, no fd leak, nothing left behind', () => {
    checkFuzz(o);
  });

  for (const [mod, re] of MODULES) {
    it(`only typed errors from ${mod}`, () => {
      // NsError/UnsupportedError, or TypeError/RangeError with a code, or the hostile Proxy's own error.
      const bad = o.untyped.filter((u) => re.test(u.name));
      expect(bad, `seed ${o.seed}: ${JSON.stringify(bad.slice(0, 5), null, 1)}`).toEqual([]);
    });
  }
});

describe('hostile numbers and strings never name another fd or path', () => {
  let before = 0;
  const probe = fs.openSync('/dev/null', 'r');
  beforeEach(() => {
    before = fdCount();
  });
  afterEach(() => {
    expect(fdCount()).toBe(before);
  });
  afterAll(() => {
    fs.closeSync(probe);
  });

  it('an fd above 2^31 is refused, not truncated into a real one', () => {
    // 2^32 + probe would be `probe` once cast to an int.
    const alias = 2 ** 32 + probe;
    expect(() => new OwnedFd(alias)).toThrowError(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    using self = Pidfd.self();
    expect(() => self.getfd(alias)).toThrowError(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    // The native backstop: EBADF, and the probe is still open.
    expect(native.close(alias)).toBe(-9);
    expect(native.fstatfs_type(alias)).toBe(-9);
    expect(native.pidfd_getfd(self.fd, alias, 0)).toBe(-9);
    expect(fs.readlinkSync(`/proc/self/fd/${probe}`)).toBe('/dev/null');
  });

  it('a path with a null byte is refused, not cut short', () => {
    expect(() => Namespace.open('/proc/self/ns/net\0junk')).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(native.openat(-100, '/proc/self/ns/net\0junk', 0, 0)).toBe(-22);
    expect(native.umount2('/\0x', 2)).toBe(-22);
    using ns = Namespace.current('net');
    expect(() => ns.persist('/tmp/x\0y')).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('forged handles (a prototype, no fd) are closed handles: EBADF, never a crash', () => {
    const forged = Object.create(Pidfd.prototype) as Pidfd;
    expect(forged.fd).toBe(-1);
    expect(forged.closed).toBe(true);
    expect(forged.pid).toBe(-1);
    expect(() => forged.sendSignal(0)).toThrowError(expect.objectContaining({ code: 'EBADF' }));
    expect(() => forged.wait()).toThrowError(expect.objectContaining({ code: 'EBADF' }));
    expect(() => forged.namespace('net')).toThrowError(expect.objectContaining({ code: 'EBADF' }));
    forged.close();
    const ns = Object.create(Namespace.prototype) as Namespace;
    expect(() => ns.id).toThrowError(expect.objectContaining({ code: 'EBADF' }));
    // Error messages that show it do not throw while formatting it.
    expect(() => Namespace.open(forged as unknown as string)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('errors are built from anything without throwing', () => {
    for (const bad of [Symbol('s'), null, {}, 10n, NaN, Object.create(null)]) {
      const e = new NsError(bad as never, bad as never, bad as never);
      expect(e).toBeInstanceOf(NsError);
      expect(typeof e.message).toBe('string');
    }
  });

  it.runIf(isRoot)('persist never stacks a second namespace on one path; unpersist removes it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-persist-'));
    const p = path.join(dir, 'net');
    try {
      using net = Namespace.current('net');
      using uts = Namespace.current('uts');
      net.persist(p);
      expect(() => uts.persist(p)).toThrowError(expect.objectContaining({ code: 'EBUSY' }));
      expect(() => net.persist(path.join(dir, 'missing', 'x'))).toThrowError(expect.objectContaining({ code: 'ENOENT', syscall: 'open' }));
      Namespace.unpersist(p);
      expect(fs.existsSync(p)).toBe(false);
    } finally {
      spawnSync('umount', ['-l', p]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
