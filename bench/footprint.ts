/**
 * Footprint measurements, each in fresh Node processes without any loader:
 *
 * - import time: `require(<package dir>)` timed inside a fresh `node -e` process (hrtime around
 *   the require only), plus the whole process's wall time for reference;
 * - installed size: the sum of the file sizes (bytes, not disk blocks) of the package directory
 *   and of every runtime dependency reachable through `dependencies` (resolved as Node does,
 *   each package counted once, nested node_modules excluded from the parent and counted as
 *   their own packages). Optional peer dependencies are not installed, so not counted;
 * - peak RSS: `process.resourceUsage().maxRSS` of a child that connects and iterates the
 *   large cursor (.bench-tmp/rss_child.js).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TMP } from './build';

export interface ImportTiming {
  requireMs: number;
  processMs: number;
}

export function measureImport(dir: string): ImportTiming {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(dir)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const start = performance.now();
  const result = spawnSync(process.execPath, ['-e', script], { cwd: TMP, encoding: 'utf8' });
  const processMs = performance.now() - start;
  if (result.status !== 0) throw new Error(`import of ${dir} failed: ${result.stderr}`);
  return { requireMs: Number(result.stdout), processMs };
}

export interface PackageSize {
  bytes: number;
  packages: Array<{ name: string; bytes: number }>;
}

function directoryBytes(dir: string, skipNodeModules: boolean): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (skipNodeModules && entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += directoryBytes(full, false);
    else if (entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}

/** Node's lookup: `<dir>/node_modules/<name>` walking up from the requiring package. */
function resolvePackage(name: string, fromDir: string): string | null {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    if (path.dirname(dir) === dir) return null;
  }
}

export function installedSize(packageDir: string): PackageSize {
  const seen = new Set<string>();
  const packages: PackageSize['packages'] = [];
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
    packages.push({ name: pkg.name, bytes: directoryBytes(dir, true) });
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      const depDir = resolvePackage(dep, dir);
      if (depDir) visit(depDir);
    }
  };
  visit(fs.realpathSync(packageDir));
  return { bytes: packages.reduce((sum, p) => sum + p.bytes, 0), packages };
}

export interface RssSample {
  documents: number;
  baselineRss: number;
  peakRss: number;
}

export function measurePeakRss(childScript: string, dir: string, uri: string, dbName: string, collection: string): RssSample {
  const result = spawnSync(process.execPath, [childScript, dir, uri, dbName, collection], { cwd: TMP, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`RSS child for ${dir} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as RssSample;
}
