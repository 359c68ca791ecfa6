/**
 * Prepares what the benchmark measures, under `.bench-tmp/` (git-ignored):
 *
 * - a fresh build of mongowire laid out as an installed package,
 *   `.bench-tmp/node_modules/mongowire/` = package.json + README.md + dist/ (built by
 *   scripts/build.js, as published). `require('mongowire')` from `.bench-tmp` finds it,
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
  // The project's own build script: what is measured is exactly what is published.
  const dist = path.join(MONGOWIRE_DIR, 'dist');
  const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.js'), '--out', dist], { cwd: ROOT, encoding: 'utf8' });
  const entry = path.join(dist, 'cjs', 'index.js');
  if (result.status !== 0 || !fs.existsSync(entry)) throw new Error(`mongowire build failed:\n${result.stdout}\n${result.stderr}`);

  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const installed = { name: pkg.name, version: pkg.version, main: pkg.main, types: pkg.types, exports: pkg.exports, dependencies: pkg.dependencies };
  fs.writeFileSync(path.join(MONGOWIRE_DIR, 'package.json'), JSON.stringify(installed, null, 2) + '\n');
  const readme = path.join(ROOT, 'README.md');
  if (fs.existsSync(readme)) fs.copyFileSync(readme, path.join(MONGOWIRE_DIR, 'README.md'));
  return MONGOWIRE_DIR;
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
