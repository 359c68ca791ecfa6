'use strict';
/**
 * Builds the published package into <out> (default ./dist):
 *   <out>/types/   declarations (tsc, comments stripped: the README documents the API)
 *   <out>/cjs/index.js   one CommonJS bundle (esbuild; minified, class and function names kept),
 *                        with bson and @mongodb-js/saslprep (and the optional snappy) external
 *   <out>/esm/index.mjs  an ES module entry re-exporting the CommonJS bundle (one copy of state)
 * A single bundle keeps import time and installed size low (see bench/ and the README table).
 * Usage: node scripts/build.js [--out DIR]
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const outIndex = process.argv.indexOf('--out');
const out = path.resolve(outIndex >= 0 ? process.argv[outIndex + 1] : path.join(root, 'dist'));

fs.rmSync(out, { recursive: true, force: true });

const tsc = spawnSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--emitDeclarationOnly', '--removeComments', '--outDir', path.join(out, 'types')],
  { cwd: root, stdio: 'inherit' }
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

require('esbuild').buildSync({
  entryPoints: [path.join(root, 'src', 'index.ts')],
  outfile: path.join(out, 'cjs', 'index.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['bson', '@mongodb-js/saslprep', 'snappy'],
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning'
});

// The ES module entry: named exports of the CommonJS bundle.
const cjs = require(path.join(out, 'cjs', 'index.js'));
const names = Object.keys(cjs).filter((n) => n !== 'default' && n !== '__esModule');
fs.mkdirSync(path.join(out, 'esm'), { recursive: true });
fs.writeFileSync(
  path.join(out, 'esm', 'index.mjs'),
  ["import cjs from '../cjs/index.js';", `export const { ${names.join(', ')} } = cjs;`, 'export default cjs;', ''].join('\n')
);
fs.writeFileSync(path.join(out, 'esm', 'index.d.mts'), "export * from '../types/index.js';\n");
