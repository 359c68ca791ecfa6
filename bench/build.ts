/**
 * Prepares what the benchmark measures, under `.bench-tmp/` (git-ignored):
 *
 * - a fresh build of mongowire laid out as an installed package,
 *   `.bench-tmp/node_modules/mongowire/` = package.json + README.md + dist/cjs (tsc with
 *   tsconfig.build.json) + dist/esm entry. `require('mongowire')` from `.bench-tmp` finds it,
 *   and its `bson` / `@mongodb-js/saslprep` resolve to the project's node_modules, exactly as
 *   the official `mongodb` package does;
 * - plain-JS copies of the child scripts (no tsx loader in the measured processes: tsx alone
 *   adds ~35 MB of RSS and tens of milliseconds of start-up).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

export const ROOT = path.resolve(__dirname, '..');
/** The work directory; `MONGOWIRE_BENCH_DIR` (inside the repo, so node_modules resolve) lets concurrent runs not collide. */
export const TMP = path.resolve(ROOT, process.env.MONGOWIRE_BENCH_DIR || '.bench-tmp');
export const MONGOWIRE_DIR = path.join(TMP, 'node_modules', 'mongowire');
export const OFFICIAL_DIR = path.join(ROOT, 'node_modules', 'mongodb');

/** Builds mongowire into MONGOWIRE_DIR; type errors elsewhere in the tree do not stop the emit. */
export function buildMongowire(): string {
  // A package.json of its own, so `require('mongowire')` from here is not resolved as a
  // self-reference to the repo's package (and its possibly stale dist/).
  fs.mkdirSync(TMP, { recursive: true });
  fs.writeFileSync(path.join(TMP, 'package.json'), '{ "name": "mongowire-bench-work", "private": true }\n');
  const dist = path.join(MONGOWIRE_DIR, 'dist');
  fs.rmSync(dist, { recursive: true, force: true });
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(dist, 'cjs')], {
    cwd: ROOT,
    encoding: 'utf8'
  });
  const entry = path.join(dist, 'cjs', 'index.js');
  if (!fs.existsSync(entry)) throw new Error(`mongowire build failed:\n${result.stdout}\n${result.stderr}`);

  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const installed = { name: pkg.name, version: pkg.version, main: pkg.main, types: pkg.types, exports: pkg.exports, dependencies: pkg.dependencies };
  fs.writeFileSync(path.join(MONGOWIRE_DIR, 'package.json'), JSON.stringify(installed, null, 2) + '\n');
  const readme = path.join(ROOT, 'README.md');
  if (fs.existsSync(readme)) fs.copyFileSync(readme, path.join(MONGOWIRE_DIR, 'README.md'));
  writeEsmEntry(dist);
  return MONGOWIRE_DIR;
}

/** Same output as scripts/write-esm-entry.js, for the bench build's location. */
function writeEsmEntry(dist: string): void {
  const script = `
    const cjs = require(${JSON.stringify(path.join(dist, 'cjs', 'index.js'))});
    process.stdout.write(JSON.stringify(Object.keys(cjs).filter((n) => n !== 'default' && n !== '__esModule')));`;
  const names = JSON.parse(spawnSync(process.execPath, ['-e', script], { cwd: TMP, encoding: 'utf8' }).stdout || '[]') as string[];
  fs.mkdirSync(path.join(dist, 'esm'), { recursive: true });
  const lines = ["import cjs from '../cjs/index.js';", `export const { ${names.join(', ')} } = cjs;`, 'export default cjs;', ''];
  fs.writeFileSync(path.join(dist, 'esm', 'index.mjs'), lines.join('\n'));
  fs.writeFileSync(path.join(dist, 'esm', 'index.d.mts'), "export * from '../cjs/index.js';\n");
}

/** Transpiles a self-contained bench script (no relative imports) to `.bench-tmp/<name>.js`. */
export function transpileChild(file: string): string {
  const source = fs.readFileSync(path.join(__dirname, file), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }
  });
  const out = path.join(TMP, file.replace(/\.ts$/, '.js'));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, outputText);
  return out;
}
