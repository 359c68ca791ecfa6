/**
 * The shared shape of a spec suite runner. Each suite lives in `spec-tests/suites/<suite>.ts`,
 * where `<suite>` is the folder name under `<SPEC_ROOT>/source/`, and default-exports a `SpecSuite`.
 * The CLI discovers suites by file name, so adding a suite never touches a shared registry.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EJSON, type Document } from 'bson';

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  /** `<file>: <test description>` */
  name: string;
  status: CaseStatus;
  /** Why a case was skipped (required for skips) or how it failed. */
  reason?: string;
}

export interface SuiteContext {
  /** The specifications tree root (contains `source/`). */
  specRoot: string;
  /** `<specRoot>/source/<suite>` */
  suiteDir: string;
  /** Run in differential mode (mongowire vs the official driver against the mock server). */
  differential: boolean;
}

export interface SpecSuite {
  /** Folder name under `source/`, e.g. `connection-string`. */
  name: string;
  run(ctx: SuiteContext): Promise<CaseResult[]>;
}

export const PROJECT_ROOT = path.resolve(__dirname, '..');

export function defaultSpecRoot(): string {
  return process.env.SPEC_ROOT
    ? path.resolve(process.env.SPEC_ROOT)
    : path.resolve(PROJECT_ROOT, '..', 'shared', 'specifications');
}

/** Every `.json` file under `dir` (recursively), sorted, as paths relative to `dir`. */
export function listJsonFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    if (!fs.existsSync(d)) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = path.join(d, entry.name);
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(abs, r);
      else if (entry.name.endsWith('.json')) out.push(r);
    }
  };
  walk(dir, '');
  return out;
}

/** Reads a spec JSON file as Extended JSON (relaxed: plain numbers stay numbers). */
export function readSpecJson<T = Document>(file: string, relaxed = true): T {
  const text = fs.readFileSync(file, 'utf8');
  return EJSON.parse(text, { relaxed }) as T;
}

/** Reads a spec JSON file as plain JSON (no Extended JSON conversion). */
export function readPlainJson<T = unknown>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Runs `fn` and turns its outcome into a CaseResult; a thrown `SkipCase` becomes a skip. */
export async function runCase(name: string, fn: () => unknown | Promise<unknown>): Promise<CaseResult> {
  try {
    await fn();
    return { name, status: 'passed' };
  } catch (err) {
    if (err instanceof SkipCase) return { name, status: 'skipped', reason: err.reason };
    const e = err as Error;
    return { name, status: 'failed', reason: e && e.stack ? e.stack.split('\n').slice(0, 6).join('\n') : String(err) };
  }
}

export class SkipCase extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export function skip(name: string, reason: string): CaseResult {
  return { name, status: 'skipped', reason };
}
