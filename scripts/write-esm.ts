// Writes dist/index.mjs: an ES module face for the CommonJS build, listing
// every export by name so `import { Pidfd } from 'nsfd'` works.
import * as fs from 'node:fs';
import * as path from 'node:path';

// Compiled to dist-dev/scripts/: the repository is two levels up.
const dist = path.join(__dirname, '..', '..', 'dist');
const names = Object.keys(require(path.join(dist, 'index.js')) as object).filter((n) => n !== '__esModule').sort();
const body = [
  "import cjs from './index.js';",
  ...names.map((n) => `export const ${n} = cjs.${n};`),
  'export default cjs;',
  '',
].join('\n');
fs.writeFileSync(path.join(dist, 'index.mjs'), body);
