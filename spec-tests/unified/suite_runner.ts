/**
 * A SpecSuite for a folder of unified test files.
 *
 * - Normal mode: every test runs with mongowire against the real-server harness
 *   (test/tools/mongod.ts). Without a deployment each test is skipped with the harness's reason.
 * - Differential mode (`ctx.differential`): every test runs with the official driver and with
 *   mongowire against the mock deployment; "passed" means the two sent the same commands.
 *   A difference listed in spec-tests/known_differences.json (explained by the specifications, see
 *   known_differences.ts) is skipped as "known difference: …"; any other difference fails.
 *
 * Files whose schemaVersion the runner does not support fail (they must not be processed).
 */
import * as path from 'node:path';
import { getMongoDeployment, stopMongoDeployments, type MongodTopology } from '../../test/tools/mongod';
import { listJsonFiles, runCase, skip, SkipCase, type CaseResult, type SpecSuite, type SuiteContext } from '../framework';
import { assertDriversAgree } from './differential';
import { knownDifferencesOf, type KnownDifference } from './known_differences';
import { mongowireAdapter } from './mongowire_adapter';
import { RealDeployment } from './real_deployment';
import { runUnifiedTest } from './runner';
import { UnifiedSchemaValidator } from './schema';
import { loadUnifiedTestFile, type LoadedTestFile, type UnifiedTest, type UnifiedTestFile } from './test-file';

export interface UnifiedSuiteOptions {
  /** Folders under `tests/` holding unified files (default: every JSON file under `tests/` with a schemaVersion). */
  dirs?: readonly string[];
  /** What the harness starts when MONGODB_URI is not set (default: a three-member replica set). */
  topology?: MongodTopology;
  /** Cases of this suite that are not unified tests (pure JSON tests), run in both modes. */
  extraCases?: (ctx: SuiteContext) => Promise<CaseResult[]>;
  /** How many tests run at once in differential mode (each on its own mock deployment). */
  differentialConcurrency?: number;
  /** Why this suite's unified tests are not compared in differential mode (they are skipped with it). */
  differentialSkip?: string;
  /** Differential mode also compares the tests' own assertions (see AgreementOptions in differential.ts). */
  differentialAssertions?: boolean;
  /** Tests (by `<file>: <description>`) not compared in differential mode, each with why. */
  differentialSkipTests?: Readonly<Record<string, string>>;
  /**
   * Tests (by `<file>: <description>`) whose assertions the official driver fails, each with why
   * (a deviation from the specifications, see spec-tests/DIFFERENCES.md): in differential mode the
   * commands are compared and mongowire must pass every assertion.
   */
  referenceDeviations?: Readonly<Record<string, string>>;
  /** Tests (by `<file>: <description>`) skipped in both modes, each with why (e.g. an option mongowire does not offer by design). */
  skipTests?: Readonly<Record<string, string>>;
}

export interface LoadedCase {
  name: string;
  file: UnifiedTestFile;
  test: UnifiedTest;
  unsupported?: string;
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function loadUnifiedCases(ctx: SuiteContext, options: UnifiedSuiteOptions = {}): LoadedCase[] {
  const testsDir = path.join(ctx.suiteDir, 'tests');
  const validator = new UnifiedSchemaValidator(ctx.specRoot);
  const files = listJsonFiles(testsDir).filter((f) => !options.dirs || options.dirs.some((d) => f.startsWith(`${d}/`)));
  const cases: LoadedCase[] = [];
  for (const rel of files) {
    let loaded: LoadedTestFile;
    try {
      loaded = loadUnifiedTestFile(path.join(testsDir, rel));
    } catch (error) {
      cases.push({ name: `${rel}: (file)`, file: { description: rel, schemaVersion: '', tests: [] }, test: { description: '', operations: [] }, unsupported: `cannot parse: ${(error as Error).message}` });
      continue;
    }
    if (typeof loaded.file.schemaVersion !== 'string' || !Array.isArray(loaded.file.tests)) continue;
    const validation = validator.validate(loaded.raw);
    const unsupported = !validation.ok && validation.unsupported ? validation.errors.join('; ') : undefined;
    loaded.file.tests.forEach((test, i) => cases.push({ name: `${rel}: ${test.description || `(test ${i})`}`, file: loaded.file, test, unsupported }));
  }
  return cases;
}

async function runNormal(cases: LoadedCase[], options: UnifiedSuiteOptions): Promise<CaseResult[]> {
  const availability = await getMongoDeployment(options.topology ?? 'replicaset');
  if (!availability.available) {
    return cases.map((c) => (c.unsupported ? { name: c.name, status: 'failed', reason: c.unsupported } : skip(c.name, availability.reason)));
  }
  let deployment: RealDeployment;
  try {
    deployment = await RealDeployment.connect(availability.uri);
  } catch (error) {
    await stopMongoDeployments();
    const reason = `cannot use the deployment at ${availability.uri.replace(/\/\/[^@/]*@/, '//****@')}: ${(error as Error).message}`;
    return cases.map((c) => ({ name: c.name, status: 'failed' as const, reason }));
  }
  const results: CaseResult[] = [];
  try {
    for (const c of cases) {
      results.push(
        await runCase(c.name, async () => {
          if (c.unsupported) throw new Error(c.unsupported);
          await runUnifiedTest(c.file, c.test, { adapter: mongowireAdapter, deployment });
        })
      );
    }
  } finally {
    await deployment.close().catch(() => undefined);
    await stopMongoDeployments();
  }
  return results;
}

/**
 * Compares one test. A test listed in spec-tests/known_differences.json is a skip with the entry's
 * reason when its commands agree once the entry's `ignoreFields` are masked; it fails when they
 * still differ (an unexplained difference) or when they agree unmasked (the entry is stale).
 */
export async function compareCase(c: LoadedCase, options: UnifiedSuiteOptions, known: KnownDifference | undefined): Promise<void> {
  if (c.unsupported) throw new Error(c.unsupported);
  const skipReason = options.differentialSkipTests?.[c.name];
  if (skipReason) throw new SkipCase(skipReason);
  const verdict = await assertDriversAgree(c.file, c.test, {
    compareAssertions: options.differentialAssertions,
    ignoreFields: known?.ignoreFields,
    candidateMustPass: options.referenceDeviations?.[c.name] !== undefined
  });
  if (known && verdict === 'tolerated') throw new SkipCase(`known difference: ${known.reason}`);
  if (known) throw new Error('listed in spec-tests/known_differences.json, but the drivers agree: remove the entry');
}

async function runDifferentialCases(suite: string, cases: LoadedCase[], options: UnifiedSuiteOptions): Promise<CaseResult[]> {
  const reason = options.differentialSkip;
  if (reason) return cases.map((c) => skip(c.name, reason));
  const known = knownDifferencesOf(suite);
  const stale: CaseResult[] = [...known.keys()]
    .filter((key) => !cases.some((c) => c.name === key))
    .map((key) => ({ name: `known_differences.json: ${key}`, status: 'failed', reason: `no test "${key}" in suite ${suite}: remove or correct the entry` }));
  const compare = (c: LoadedCase) => runCase(c.name, () => compareCase(c, options, known.get(c.name)));
  const results = await mapLimit(cases, options.differentialConcurrency ?? 8, compare);
  // Tests run concurrently; one whose expectations race the clock (fail point block times, short
  // wait-queue timeouts) can differ only because its siblings starved it of CPU. Each failed test
  // is compared once more, alone: a real difference is deterministic and fails again.
  for (let i = 0; i < results.length; i++) {
    if (results[i].status === 'failed') results[i] = await compare(cases[i]);
  }
  return [...stale, ...results];
}

export function unifiedSuite(name: string, options: UnifiedSuiteOptions = {}): SpecSuite {
  return {
    name,
    async run(ctx: SuiteContext): Promise<CaseResult[]> {
      const loaded = loadUnifiedCases(ctx, options);
      const skipReason = (c: LoadedCase): string | undefined => options.skipTests?.[c.name];
      const cases = loaded.filter((c) => skipReason(c) === undefined);
      const extra = options.extraCases ? await options.extraCases(ctx) : [];
      const unified = ctx.differential ? await runDifferentialCases(name, cases, options) : await runNormal(cases, options);
      return [...extra, ...unified, ...loaded.filter((c) => skipReason(c) !== undefined).map((c) => skip(c.name, skipReason(c) ?? ''))];
    }
  };
}
