'use strict';
// Writes dist/esm/index.mjs: an ES module entry that re-exports the CommonJS build,
// so `import { MongoClient } from 'mongowire'` and `require('mongowire')` share one copy.
const fs = require('node:fs');
const path = require('node:path');

const cjs = require(path.join(__dirname, '..', 'dist', 'cjs', 'index.js'));
const names = Object.keys(cjs).filter((n) => n !== 'default' && n !== '__esModule');
const out = path.join(__dirname, '..', 'dist', 'esm');
fs.mkdirSync(out, { recursive: true });
const lines = [
  "import cjs from '../cjs/index.js';",
  `export const { ${names.join(', ')} } = cjs;`,
  'export default cjs;',
  ''
];
fs.writeFileSync(path.join(out, 'index.mjs'), lines.join('\n'));
fs.writeFileSync(path.join(out, 'index.d.mts'), "export * from '../cjs/index.js';\n");
