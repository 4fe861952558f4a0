// The CLI's commands load with a V8 code cache: scripts/bundle.ts compiles
// each command's bundle (dist/cli/X.js) with every function eager and
// writes the bytecode beside it (X.js.cache). V8 then deserializes instead
// of parsing and compiling what the command runs: ~3 ms of the ~13.5 ms
// `nsfd exec` takes over `node -e 0` without it (npm run bench -- startup).
//
// The cache is code, trusted as the bundle is: it lives beside it and is
// made by the same build (who can write one can write the other). Unlike
// Node 22's module.enableCompileCache() it is never written at run time,
// so no directory other users can write (its default is under /tmp) is
// ever read from. It is used only when its header holds the hash of the
// bundle's bytes (V8 compares only the source's length: an edit of the
// bundle in place would run the old code), its header names this
// architecture and V8 version, and V8 accepts it (same flags); else the
// bundle is compiled as require() would. V8 does not check the
// architecture: an x64 cache loaded by arm64's node of the same version
// crashed it (the kernel matrix's aarch64 VM runs the host's dist/).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

import type * as Native from '../sys/native';

/** The modules main.ts loads a command from. */
export const COMMAND_MODULES = ['ls', 'exec', 'unshare', 'translate', 'features', 'demo', 'netns', 'run', 'lifecycle'] as const;
export type CommandModule = (typeof COMMAND_MODULES)[number];

// X.js.cache: "nsfdcc2\n", the bundle's content_hash (u64 LE), the
// platform ("ARCH V8-VERSION", NUL-padded to 48 bytes), V8's data.
const MAGIC = Buffer.from('nsfdcc2\n', 'latin1');
const PLATFORM_AT = 16;
const HEADER = 64;

/** This process's platform field. */
function platform(): Buffer {
  const b = Buffer.alloc(HEADER - PLATFORM_AT);
  b.write(`${process.arch} ${process.versions.v8}`, 'latin1');
  return b;
}

/** How a bundle was compiled: with the cache, or why not. */
export type CodeCacheUse = 'used' | 'rejected by V8' | 'other platform' | 'stale' | 'malformed' | 'absent' | 'off';

// (Loaded when a cache is found: `nsfd --help` needs no addon.)
function contentHash(bytes: Uint8Array): bigint {
  return (require('../sys/native') as typeof Native).native.content_hash(bytes);
}

/** Node's CommonJS wrapper, on the bundle's first line (line numbers stay). */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
}

/** Off: NSFD_CODE_CACHE=0, or source maps on (--enable-source-maps), which require() applies to stack traces. */
function cacheOff(): boolean {
  return process.env.NSFD_CODE_CACHE === '0' || process.sourceMapsEnabled === true;
}

function compile(file: string, source: Buffer): { script: vm.Script; use: CodeCacheUse } {
  let use: CodeCacheUse;
  let cache: Buffer | undefined;
  try {
    cache = fs.readFileSync(`${file}.cache`);
  } catch {
    cache = undefined;
  }
  if (cache === undefined) use = 'absent';
  else if (cache.length <= HEADER || !cache.subarray(0, MAGIC.length).equals(MAGIC)) use = 'malformed';
  else if (!cache.subarray(PLATFORM_AT, HEADER).equals(platform())) use = 'other platform';
  else use = cache.readBigUInt64LE(MAGIC.length) === contentHash(source) ? 'used' : 'stale';
  const cachedData = use === 'used' ? cache?.subarray(HEADER) : undefined;
  const script = new vm.Script(wrap(source.toString('utf8')), { filename: file, cachedData });
  if (script.cachedDataRejected === true) use = 'rejected by V8';
  return { script, use };
}

const loaded = new Map<string, { exports: unknown; use: CodeCacheUse }>();

/**
 * Runs a CommonJS bundle, as require(file) would (once; its require()
 * resolves from its own directory), compiled with its code cache when
 * that is valid: its exports, and how it was compiled.
 */
export function requireWithCodeCache(file: string): { exports: unknown; use: CodeCacheUse } {
  const done = loaded.get(file);
  if (done) return done;
  if (cacheOff()) return { exports: require(file) as unknown, use: 'off' };
  // Not found, or not a file: require() says so, in its words.
  let source: Buffer;
  try {
    source = fs.readFileSync(file);
  } catch {
    return { exports: require(file) as unknown, use: 'absent' };
  }
  const { script, use } = compile(file, source);
  const module = { exports: {} as unknown };
  const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  const result = { exports: module.exports, use };
  loaded.set(file, result);
  return result;
}

/** How file would be compiled now (compiled, not run): scripts/bundle.ts checks its caches with it in a fresh process. */
export function codeCacheUse(file: string): CodeCacheUse {
  return cacheOff() ? 'off' : compile(file, fs.readFileSync(file)).use;
}

/** A command's module (dist/cli/NAME.js beside this one). */
export function requireCommand(name: CommandModule): unknown {
  return requireWithCodeCache(path.join(__dirname, `${name}.js`)).exports;
}

/**
 * The cache for a bundle: its bytecode with every function compiled, for
 * scripts/bundle.ts. Eager compilation is a V8 flag, and V8 refuses a cache
 * made under other flags, so the flag is set back before the cache is
 * taken: the functions stay compiled. Only for a build process, started
 * as the CLI is (no V8 flags in NODE_OPTIONS: they would be in the cache).
 */
export function makeCodeCache(file: string): Buffer {
  const v8 = require('node:v8') as typeof import('node:v8');
  const source = fs.readFileSync(file);
  let script: vm.Script;
  v8.setFlagsFromString('--no-lazy');
  try {
    script = new vm.Script(wrap(source.toString('utf8')), { filename: file });
  } finally {
    v8.setFlagsFromString('--lazy');
  }
  const hash = Buffer.alloc(8);
  hash.writeBigUInt64LE(contentHash(source));
  return Buffer.concat([MAGIC, hash, platform(), script.createCachedData()]);
}
