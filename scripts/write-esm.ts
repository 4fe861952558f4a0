// Writes dist/index.mjs and dist/testing/index.mjs: ES module faces for the
// CommonJS build, listing every export by name so `import { Pidfd } from
// 'nsfd'` and `import { leakCheck } from 'nsfd/testing'` work. The names
// come from the TypeScript sources (value exports only), not from loading
// the build: `prepare` (npm pack, a git install) must work before the addon
// is built, and loading dist/ loads the addon.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts = require('typescript');

// Compiled to dist-dev/scripts/: the repository is two levels up.
const root = path.join(__dirname, '..', '..');
const entries = ['index', 'testing/index'];
const program = ts.createProgram(
  entries.map((e) => path.join(root, 'lib', `${e}.ts`)),
  { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, noEmit: true, skipLibCheck: true },
);
const checker = program.getTypeChecker();
for (const entry of entries) {
  const file = program.getSourceFile(path.join(root, 'lib', `${entry}.ts`));
  const mod = file && checker.getSymbolAtLocation(file);
  if (mod === undefined) throw new Error(`no module symbol for lib/${entry}.ts`);
  const names = checker
    .getExportsOfModule(mod)
    .filter((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      // `export type { X }` re-exports are aliases to types: not in the CommonJS build.
      const typeOnly = (s.declarations ?? []).some((d) => ts.isTypeOnlyImportOrExportDeclaration(d));
      return !typeOnly && (target.flags & ts.SymbolFlags.Value) !== 0;
    })
    .map((s) => s.name)
    .sort();
  const body = ["import cjs from './index.js';", ...names.map((n) => `export const ${n} = cjs.${n};`), 'export default cjs;', ''].join('\n');
  fs.writeFileSync(path.join(root, 'dist', `${entry}.mjs`), body);
}
