// The layout rules of lib/ (README, "Layout"), checked on the sources so
// they cannot drift: no import cycles, the kernel's numbers only in
// lib/sys/constants.ts, "privileged" decided only in lib/core/privilege.ts,
// and no JavaScript source outside the builds.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tsModule from 'typescript';
import { describe, expect, it } from 'vitest';

// (CommonJS: vitest gives the namespace object as `default`.)
const TS = (tsModule as unknown as { default?: typeof tsModule }).default ?? tsModule;
const lib = path.resolve(__dirname, '../lib');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else out.push(p);
  }
  return out;
}

/** The source without comments and with every string literal emptied. */
function code(file: string): string {
  return fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''");
}

/** Relative imports that load a module at run time (not `import type`). */
function valueImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gms)) {
    if (m[2]) continue;
    const spec = m[3] as string;
    const base = path.resolve(path.dirname(file), spec);
    out.push(fs.existsSync(`${base}.ts`) ? `${base}.ts` : path.join(base, 'index.ts'));
  }
  return out;
}

describe('lib/ layout', () => {
  const files = sources(lib);
  const ts = files.filter((f) => f.endsWith('.ts'));

  it('holds TypeScript only', () => {
    expect(files.filter((f) => !f.endsWith('.ts')).map((f) => path.relative(lib, f))).toEqual([]);
  });

  it('has no import cycle among its modules', () => {
    const graph = new Map(ts.map((f) => [f, valueImports(f)]));
    for (const deps of graph.values()) for (const d of deps) expect(graph.has(d), `import of a missing module ${d}`).toBe(true);
    const cycles: string[] = [];
    const state = new Map<string, 1 | 2>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 1);
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (state.get(d) === 1) cycles.push([...stack.slice(stack.indexOf(d)), d].map((x) => path.relative(lib, x)).join(' -> '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of ts) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('spells the kernel numbers of lib/sys/constants.ts nowhere else', () => {
    const constantsFile = path.join(lib, 'sys/constants.ts');
    // Name -> value of every constant; small numbers (up to 128) are too
    // common to tell apart from counts, sizes and errnos, so only larger
    // ones are checked.
    const values = new Map<number, string>();
    const known = new Map<string, number>();
    for (const m of fs.readFileSync(constantsFile, 'utf8').matchAll(/export const (\w+) = ([^;]+);/g)) {
      const expr = (m[2] as string).replace(/\b[A-Z_][A-Z0-9_]*\b/g, (n) => String(known.get(n) ?? NaN));
      if (!/^[-0-9a-fA-FxXoO|<n ()]+$/.test(expr) || expr.includes('n')) continue; // bigint masks: checked by name below
      const v = Number(Function(`return (${expr});`)());
      known.set(m[1] as string, v);
      if (Number.isInteger(v) && (v < 0 || v > 128) && !values.has(v)) values.set(v, m[1] as string);
    }
    expect(values.size).toBeGreaterThan(10);
    const hits: string[] = [];
    for (const f of ts) {
      if (f === constantsFile) continue;
      // The syscall tables are kernel numbers by nature, generated from the
      // uapi headers (scripts/gen-syscalls.mjs) and only read by name.
      if (f === path.join(lib, 'sys/syscalls.ts')) continue;
      for (const m of code(f).matchAll(/(-\s*)?\b(0[xX][0-9a-fA-F]+|0[oO][0-7]+|[0-9]+)\b(?!n)/g)) {
        const v = (m[1] ? -1 : 1) * Number(m[2]);
        const name = values.get(v);
        if (name !== undefined) hits.push(`${path.relative(lib, f)}: ${m[0].replace(/\s+/g, '')} (${name})`);
      }
    }
    expect(hits).toEqual([]);
  });

  it('documents every export of the public API (nsfd and nsfd/testing) with TSDoc, members included', () => {
    const entries = [path.join(lib, 'index.ts'), path.join(lib, 'testing/index.ts')];
    const program = TS.createProgram(entries, { strict: true, target: TS.ScriptTarget.ES2022, module: TS.ModuleKind.Node16, moduleResolution: TS.ModuleResolutionKind.Node16, noEmit: true, skipLibCheck: true });
    const checker = program.getTypeChecker();
    const internal = (s: tsModule.Symbol): boolean => (s.declarations ?? []).some((d) => TS.getJSDocTags(d).some((t) => t.tagName.text === 'internal'));
    const documented = (s: tsModule.Symbol): boolean => TS.displayPartsToString(s.getDocumentationComment(checker)).trim() !== '';
    const missing: string[] = [];
    for (const entry of entries) {
      const file = program.getSourceFile(entry);
      const mod = file && checker.getSymbolAtLocation(file);
      expect(mod, entry).toBeDefined();
      for (let sym of checker.getExportsOfModule(mod as tsModule.Symbol)) {
        if (sym.flags & TS.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
        if (!documented(sym)) missing.push(sym.name);
        if (!(sym.flags & TS.SymbolFlags.Class)) continue;
        const members = [...(sym.members ?? new Map()).entries(), ...(sym.exports ?? new Map()).entries()] as [string, tsModule.Symbol][];
        for (const [name, m] of members) {
          if (name.startsWith('__') || name.startsWith('#') || name === 'prototype' || internal(m)) continue;
          const decl = m.declarations?.[0];
          if (decl && TS.getCombinedModifierFlags(decl) & (TS.ModifierFlags.Private | TS.ModifierFlags.Protected)) continue;
          if (!documented(m)) missing.push(`${sym.name}.${name}`);
        }
      }
    }
    expect(missing, 'exports and public members without a /** doc comment */').toEqual([]);
  });

  it('decides "privileged" in lib/core/privilege.ts only (no euid-is-0 test elsewhere)', () => {
    const euidZero = /\bget(?:e)?uid\b[^;\n]*?(?:===|!==)\s*0\b/;
    const where = ts.filter((f) => !f.endsWith(path.join('core', 'privilege.ts')) && euidZero.test(code(f)));
    expect(where.map((f) => path.relative(lib, f))).toEqual([]);
  });
});

describe('repository layout', () => {
  it('has no JavaScript source but the package\'s bin shim: fixtures and scripts are TypeScript (tsconfig.dev.json)', () => {
    const root = path.resolve(__dirname, '..');
    const js = ['lib', 'test', 'scripts', 'bin', 'native']
      .filter((d) => fs.existsSync(path.join(root, d)))
      .flatMap((d) => sources(path.join(root, d)))
      .filter((f) => /\.[cm]?js$/.test(f))
      .map((f) => path.relative(root, f));
    expect(js).toEqual(['bin/nsfd.js']);
    for (const f of fs.readdirSync(root)) if (/\.[cm]?js$/.test(f)) expect.fail(`JavaScript at the top level: ${f}`);
  });
});
