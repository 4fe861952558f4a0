// Node conventions (issue 16, items 7-10): Subprocess behaves like a
// ChildProcess, spawn() takes timeout/killSignal/signal, Pidfd.wait() can be
// abandoned, unknown option names are errors, cwd takes a file: URL, attach
// has a closure form that cannot span an await, Container has asyncDispose.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { pathToFileURL } from 'node:url';

import { beforeAll, describe, expect, it } from 'vitest';

import { Container, Pidfd, SpawnOptions, attach, run, spawn, withNamespaces } from '../lib/index';
import { checkLeaksPerTest, isRoot, needsRoot, sharedTarget, sleep, warmUp } from './helpers';

beforeAll(warmUp);
checkLeaksPerTest();

/** Resolves with the events a Subprocess emitted, in order, once it emits 'close'. */
function events(child: ReturnType<typeof spawn>): Promise<string[]> {
  const seen: string[] = [];
  for (const name of ['spawn', 'exit', 'close', 'error']) {
    child.on(name, (...args: unknown[]) => seen.push([name, ...args.map((a) => (a instanceof Error ? (a as Error & { code?: string }).code : String(a)))].join(' ')));
  }
  return new Promise((resolve) => child.once('close', () => resolve(seen)));
}

describe('Subprocess like ChildProcess', () => {
  it("emits 'spawn', 'exit' (code, signal) and 'close' after its output, in that order, and sets exitCode", async () => {
    using child = spawn('/bin/sh', ['-c', 'echo hi; exit 3'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    expect(child.exitCode).toBe(null);
    const seen = await events(child);
    expect(seen).toEqual(['spawn', 'exit 3 null', 'close 3 null']);
    expect(out).toBe('hi\n');
    expect([child.exitCode, child.signalCode, child.killed]).toEqual([3, null, false]);
  });

  it('kill() sets killed; signalCode names the signal', async () => {
    using child = spawn('/bin/sleep', ['100'], { stdio: 'ignore' });
    expect(child.kill('SIGTERM')).toBe(true);
    expect(child.killed).toBe(true);
    const status = await child.exited;
    expect(status).toEqual({ code: null, signal: 'SIGTERM' });
    expect([child.exitCode, child.signalCode]).toEqual([null, 'SIGTERM']);
  });

  it('closed resolves only after every byte of stdout has been read (20 runs of 256 KiB, written just before exit)', async () => {
    for (let i = 0; i < 20; i++) {
      using child = spawn('/bin/sh', ['-c', 'head -c 262144 /dev/zero; exit 0'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let n = 0;
      child.stdout?.on('data', (c: Buffer) => (n += c.length));
      const status = await child.closed;
      expect(status.code).toBe(0);
      expect(n).toBe(262144);
    }
  });
});

describe('spawn(): timeout, killSignal and signal', () => {
  it('timeout sends killSignal to a child still running', async () => {
    using a = spawn('/bin/sleep', ['100'], { stdio: 'ignore', timeout: 50 });
    expect(await a.exited).toEqual({ code: null, signal: 'SIGTERM' });
    using b = spawn('/bin/sleep', ['100'], { stdio: 'ignore', timeout: 50, killSignal: 'SIGKILL' });
    expect(await b.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it("a timeout that ends after the child does not touch it", async () => {
    using child = spawn('/bin/true', [], { stdio: 'ignore', timeout: 100 });
    expect(await child.exited).toEqual({ code: 0, signal: null });
    await sleep(150);
    expect(child.killed).toBe(false);
  });

  it("aborting kills the child and emits 'error' with an AbortError", async () => {
    const ac = new AbortController();
    using child = spawn('/bin/sleep', ['100'], { stdio: 'ignore', signal: ac.signal });
    const seen = events(child);
    await new Promise((r) => child.once('spawn', r));
    ac.abort();
    expect(await seen).toEqual(['spawn', 'error ABORT_ERR', 'exit null SIGTERM', 'close null SIGTERM']);
  });

  it('an AbortSignal aborted already starts nothing: AbortError before the file is even looked up', () => {
    expect(() => spawn('/nonexistent/file', [], { signal: AbortSignal.abort() })).toThrow(expect.objectContaining({ name: 'AbortError', code: 'ABORT_ERR' }));
  });

  it('bad timeout/killSignal/signal values are typed errors', () => {
    expect(() => spawn('/bin/true', [], { timeout: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => spawn('/bin/true', [], { killSignal: 'SIGNOPE' as NodeJS.Signals })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => spawn('/bin/true', [], { signal: {} as AbortSignal })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('Pidfd.wait({ signal })', () => {
  it('aborting rejects that wait only; the process runs on and a later wait sees its end', async () => {
    using child = spawn('/bin/sleep', ['100'], { stdio: 'ignore' });
    const ac = new AbortController();
    const waiting = child.pidfd.wait({ signal: ac.signal });
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(child.pidfd.isAlive()).toBe(true);
    await expect(child.pidfd.wait({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORT_ERR' });
    child.kill('SIGKILL');
    expect(await child.pidfd.wait({ signal: new AbortController().signal })).toEqual({ code: null, signal: 'SIGKILL' });
  });
});

describe('option names and types', () => {
  it('an unknown option is ERR_INVALID_ARG_VALUE naming the intended one', async () => {
    expect(() => spawn('/bin/true', [], { killOnclose: true } as SpawnOptions)).toThrow(/options\.killOnclose' is not a known option; did you mean "killOnClose"/);
    await expect(run('/bin/true', [], { maxbuffer: 1 } as never)).rejects.toThrow(/did you mean "maxBuffer"/);
    await expect(Container.create({ unshar: ['uts'] } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('"unshare"') });
    expect(() => Pidfd.open(process.pid, { nonblocking: true } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('"nonblock"') }));
    // Nothing close: no guess.
    expect(() => spawn('/bin/true', [], { zzzzzzzz: 1 } as never)).toThrow(/is not a known option\. Received/);
  });

  it('cwd takes a file: URL, as child_process does; another URL is a typed error', async () => {
    const dir = fs.mkdtempSync(`${os.tmpdir()}/nsfd-url-`);
    try {
      expect((await run('/bin/pwd', [], { cwd: pathToFileURL(dir) })).stdout).toBe(`${dir}\n`);
      expect(() => spawn('/bin/true', [], { cwd: new URL('http://example.com/') })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('options may spell an absent value as undefined (exactOptionalPropertyTypes)', async () => {
    // Compiled with exactOptionalPropertyTypes: this would not type-check
    // if the options did not allow undefined.
    const cwd: string | undefined = undefined;
    const options: SpawnOptions = { cwd, env: undefined, timeout: undefined, uid: undefined };
    expect((await run('/bin/true', [], options)).code).toBe(0);
  });
});

const target = sharedTarget();
needsRoot("withNamespaces() moves this thread into the target's namespaces, which rootless belong to the target's own user namespace").describe('withNamespaces (as root)', () => {
  beforeAll(() => {
    expect(spawnSync('nsenter', ['-t', String(target.pid), '-u', 'hostname', 'nsfd-with-ns']).status).toBe(0);
  });

  it('runs a synchronous fn inside and restores before returning its value', () => {
    using p = Pidfd.open(target.pid);
    const own = os.hostname();
    expect(withNamespaces(p, ['uts'], () => os.hostname())).toBe('nsfd-with-ns');
    expect(os.hostname()).toBe(own);
    expect(withNamespaces(p, () => fs.readlinkSync('/proc/thread-self/ns/net'))).toBe(fs.readlinkSync(`/proc/${target.pid}/ns/net`));
  });

  it('restores when fn throws, and refuses an async fn after restoring', async () => {
    using p = Pidfd.open(target.pid);
    const own = os.hostname();
    expect(() =>
      withNamespaces(p, ['uts'], () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(os.hostname()).toBe(own);
    expect(() => withNamespaces(p, ['uts'], async () => os.hostname())).toThrow(expect.objectContaining({ code: 'ERR_INVALID_RETURN_VALUE' }));
    expect(os.hostname()).toBe(own);
  });

  it('warns when an attach() scope is still open as the event loop turns', async () => {
    using p = Pidfd.open(target.pid);
    const warned = new Promise<Error & { code?: string }>((r) => process.once('warning', r));
    const scope = attach(p, ['uts']);
    try {
      await new Promise((r) => setImmediate(r));
      await sleep(5);
    } finally {
      scope.restore();
    }
    expect(await warned).toMatchObject({ name: 'NsfdWarning', code: 'NSFD_ATTACH_OPEN' });
  });
});

describe('Container asyncDispose', () => {
  it('await using: the init has exited and been reaped when the block ends', async () => {
    let pid = 0;
    {
      await using c = await Container.create({ unshare: ['uts', 'ipc', 'pid', 'mnt'], ...(isRoot ? {} : { uidMap: [{ inside: 0, outside: process.getuid?.() ?? 0, count: 1 }] }) });
      pid = c.pid;
      expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
    }
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
  });
});

describe('NODE_DEBUG=nsfd', () => {
  it('prints each syscall-level step: spawn with its clone flags and pid, the vehicle of an inside op', () => {
    const script = `
      const nsfd = require(${JSON.stringify(`${__dirname}/../dist/index.js`)});
      (async () => {
        const ids = ${isRoot ? '{}' : `{ uidMap: [{ inside: 0, outside: ${process.getuid?.()}, count: 1 }], gidMap: [{ inside: 0, outside: ${process.getgid?.()}, count: 1 }] }`};
        const c = nsfd.spawn('/bin/sleep', ['5'], { stdio: 'ignore', unshare: ['uts'${isRoot ? '' : ", 'user'"}], ...ids });
        nsfd.readFileIn(c.pidfd, '/etc/passwd');
        c.kill('SIGKILL');
        await c.exited;
      })().catch((e) => { console.error(String(e)); process.exit(3); });`;
    const quiet = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: '' } });
    expect(quiet.stderr).toBe('');
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'nsfd' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^NSFD ${r.pid}: spawn /bin/sleep \\["5"\\]: clone3 flags 0x[0-9a-f]*4000000[0-9a-f]*, .* -> pid \\d+, pidfd \\d+$`, 'm'));
    expect(r.stderr).toMatch(/^NSFD \d+: inside: open(at2)? on (this thread|helper child) \(.*\): ok \d+$/m);
  });
});

const nodeMajor = Number(process.versions.node.split('.')[0]);
describe('JavaScript `using` (Node 24+; on Node 20 and 22 only TypeScript compiles it)', () => {
  it.runIf(nodeMajor >= 24)('closes a handle at the end of the block, and awaits a Container with `await using`', () => {
    const script = `
      const { Pidfd, Container } = require(${JSON.stringify(`${__dirname}/../dist/index.js`)});
      const fs = require('fs');
      (async () => {
        let fd, pid;
        { using p = Pidfd.self(); fd = p.fd; }
        // Checked at once: the container below may be given the same fd number.
        const fdOpen = fs.existsSync('/proc/self/fd/' + fd);
        { await using c = await Container.create({ unshare: ['uts'${isRoot ? '' : ", 'user'"}] }); pid = c.pid; }
        console.log(JSON.stringify({ fdOpen, initAlive: fs.existsSync('/proc/' + pid) }));
      })();`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ fdOpen: false, initAlive: false });
  });
});
