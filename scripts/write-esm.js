// Writes dist/index.mjs and dist/testing/index.mjs: ES module faces for the
// CommonJS build, listing every export by name so `import { Pidfd } from
// 'nsfd'` and `import { leakCheck } from 'nsfd/testing'` work.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist');
for (const entry of ['index', 'testing/index']) {
  const names = Object.keys(require(path.join(dist, `${entry}.js`))).filter((n) => n !== '__esModule').sort();
  const body = [
    "import cjs from './index.js';",
    ...names.map((n) => `export const ${n} = cjs.${n};`),
    'export default cjs;',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dist, `${entry}.mjs`), body);
}
