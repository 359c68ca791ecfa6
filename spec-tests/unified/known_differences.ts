/**
 * The machine-readable allow-list of differential-mode differences that are explained, not bugs:
 * `spec-tests/known_differences.json`, one entry per test, each citing the specification text that
 * makes mongowire right (DIFFERENCES.md section 2 tells the whole story).
 *
 * A listed test whose commands agree once the entry's `ignoreFields` are masked is reported as
 * skipped ("known difference: …"); one that still differs, one whose drivers agree without the
 * masking, and an entry that names no test, fail — so the list stays minimal and current, and
 * anything unexplained fails the run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface KnownDifference {
  /** Suite (folder under source/), file (relative to its tests/ folder) and test description. */
  suite: string;
  file: string;
  test: string;
  /** Why the drivers differ, in one sentence (shown in the skip reason). */
  reason: string;
  /** The specification text that decides it: `<spec file>: "<quote>"`, at least one. */
  spec: string[];
  /**
   * The top-level command fields the difference is about (e.g. `lsid`): the test is skipped only
   * when its commands agree once these values are masked, so any other difference still fails.
   */
  ignoreFields: string[];
}

export const KNOWN_DIFFERENCES_PATH = path.resolve(__dirname, '../known_differences.json');

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

/** Parses and validates the list (throws on a malformed or duplicated entry). */
export function parseKnownDifferences(json: unknown): KnownDifference[] {
  if (!Array.isArray(json)) throw new Error('known_differences.json must be an array of entries');
  const seen = new Set<string>();
  return json.map((raw: unknown, i) => {
    const e = raw as Partial<KnownDifference> | null;
    const where = `known_differences.json entry ${i}`;
    if (!e || typeof e !== 'object') throw new Error(`${where} is not an object`);
    for (const key of ['suite', 'file', 'test', 'reason'] as const) {
      if (!isNonEmptyString(e[key])) throw new Error(`${where}: "${key}" must be a non-empty string`);
    }
    if (!Array.isArray(e.spec) || e.spec.length === 0 || !e.spec.every(isNonEmptyString)) {
      throw new Error(`${where}: "spec" must cite at least one passage of the specifications`);
    }
    if (!Array.isArray(e.ignoreFields) || e.ignoreFields.length === 0 || !e.ignoreFields.every(isNonEmptyString)) {
      throw new Error(`${where}: "ignoreFields" must name the command fields the difference is about`);
    }
    const key = knownDifferenceKey(e.suite as string, e.file as string, e.test as string);
    if (seen.has(key)) throw new Error(`${where}: duplicate entry for ${key}`);
    seen.add(key);
    return e as KnownDifference;
  });
}

export function knownDifferenceKey(suite: string, file: string, test: string): string {
  return `${suite} › ${file}: ${test}`;
}

let cache: KnownDifference[] | undefined;

/** The list from spec-tests/known_differences.json (read once). */
export function loadKnownDifferences(file = KNOWN_DIFFERENCES_PATH): KnownDifference[] {
  if (file !== KNOWN_DIFFERENCES_PATH) return parseKnownDifferences(JSON.parse(fs.readFileSync(file, 'utf8')));
  cache ??= fs.existsSync(file) ? parseKnownDifferences(JSON.parse(fs.readFileSync(file, 'utf8'))) : [];
  return cache;
}

/** The entries of one suite, by `file: test`. */
export function knownDifferencesOf(suite: string, list: readonly KnownDifference[] = loadKnownDifferences()): Map<string, KnownDifference> {
  return new Map(list.filter((e) => e.suite === suite).map((e) => [`${e.file}: ${e.test}`, e]));
}
