/**
 * Differential mode: one unified test is executed by the official driver and by mongowire, each
 * against a fresh mock deployment, and the commandStartedEvents of the clients that observe them
 * are compared after normalisation (command_normalizer.ts). The official driver is the reference:
 * a difference is a mongowire bug unless spec-tests/DIFFERENCES.md explains it.
 */
import { SkipCase } from '../framework';
import { diffCommandSequences, normalizeCommands, type NormalizedCommand } from './command_normalizer';
import type { DriverAdapter } from './driver_adapter';
import { chooseMockSetup, MockDeployment, mockServerInfo, type MockSetup } from './mock_deployment';
import { mongowireAdapter } from './mongowire_adapter';
import { officialAdapter } from './official_adapter';
import { failsHeartbeats, runUnifiedTest, skipReasonFor, type RecordedTestRun } from './runner';
import type { UnifiedTest, UnifiedTestFile } from './test-file';

/** Operations on the mock finish quickly; a hung one is cut off after this long. */
const MOCK_OPERATION_TIMEOUT_MS = 4_000;

export interface DifferentialRun {
  reference: NormalizedCommand[];
  candidate: NormalizedCommand[];
  referenceProblems: string[];
  candidateProblems: string[];
  /** Undefined when the sequences agree. */
  diff?: string;
}

async function record(adapter: DriverAdapter, file: UnifiedTestFile, test: UnifiedTest, setup: MockSetup): Promise<RecordedTestRun> {
  const deployment = await MockDeployment.start(setup);
  try {
    const operationTimeoutMS = failsHeartbeats(test) ? 15_000 : MOCK_OPERATION_TIMEOUT_MS;
    return await runUnifiedTest(file, test, { adapter, deployment, recordOnly: true, operationTimeoutMS });
  } finally {
    await deployment.close();
  }
}

function normalized(run: RecordedTestRun, csot: boolean): NormalizedCommand[] {
  return normalizeCommands(
    run.commands.map(({ client, event }) => ({ client, databaseName: event.databaseName, commandName: event.commandName, command: event.command ?? {} })),
    { csot }
  );
}

/** Runs `test` with both drivers; throws SkipCase when the mock deployment cannot host it. */
export async function runDifferential(
  file: UnifiedTestFile,
  test: UnifiedTest,
  drivers: [DriverAdapter, DriverAdapter] = [officialAdapter, mongowireAdapter]
): Promise<DifferentialRun> {
  const setup = chooseMockSetup(file, test);
  if (!setup) throw new SkipCase('its runOnRequirements exclude everything the mock deployment can play (MongoDB 4.4–8.2, no server parameters, no auth, not serverless)');
  const reason = skipReasonFor(file, test, mockServerInfo(setup));
  if (reason) throw new SkipCase(reason);
  const csot = JSON.stringify(file).includes('"timeoutMS"');
  const referenceRun = await record(drivers[0], file, test, setup);
  const referenceMissing = referenceRun.problems.find((p) => p.includes(`not implemented in ${drivers[0].name}`));
  if (referenceMissing) throw new SkipCase(`nothing to compare with: the reference driver lacks an API the test uses (${referenceMissing.replace(/^.*: /, '')})`);
  const candidateRun = await record(drivers[1], file, test, setup);
  const reference = normalized(referenceRun, csot);
  const candidate = normalized(candidateRun, csot);
  return {
    reference,
    candidate,
    referenceProblems: referenceRun.problems,
    candidateProblems: candidateRun.problems,
    diff: diffCommandSequences(reference, candidate, [drivers[0].name, drivers[1].name])
  };
}

export interface AgreementOptions {
  /**
   * Also compare the outcome of the test's own assertions (results, errors, waitForEvent,
   * expectEvents, outcome): when the reference passes them all on the mock, mongowire must too.
   * For suites whose assertions are about events rather than commands (SDAM, CMAP).
   */
  compareAssertions?: boolean;
  /**
   * The official driver is known to fail this test's assertions (a documented deviation from the
   * specifications): mongowire must pass all of them on its own.
   */
  candidateMustPass?: boolean;
  /**
   * A known difference (spec-tests/known_differences.json): top-level command fields whose values
   * may differ (their presence is still compared). The commands must agree once they are masked.
   */
  ignoreFields?: readonly string[];
}

/** `agree`: identical; `tolerated`: identical only once `ignoreFields` are masked. */
export type AgreementVerdict = 'agree' | 'tolerated';

/** Replaces the values of top-level `fields` of every command by `<ignored>`. */
export function maskFields(commands: readonly NormalizedCommand[], fields: readonly string[]): NormalizedCommand[] {
  return commands.map((c) => {
    const doc = JSON.parse(c.command) as Record<string, unknown>;
    for (const f of fields) if (f in doc) doc[f] = '<ignored>';
    return { ...c, command: JSON.stringify(doc) };
  });
}

/**
 * Log messages: when the reference satisfies a test's `expectLogMessages` on the mock, mongowire
 * must too (the commands alone do not show what is logged).
 */
function logFailures(run: DifferentialRun): string[] {
  const isLog = (p: string) => p.startsWith('expectLogMessages');
  return run.referenceProblems.some(isLog) ? [] : run.candidateProblems.filter(isLog);
}

/**
 * The differential verdict as a test outcome: returns on agreement (`tolerated` when only the
 * `ignoreFields` differ), throws the diff otherwise.
 */
export async function assertDriversAgree(file: UnifiedTestFile, test: UnifiedTest, options: AgreementOptions = {}): Promise<AgreementVerdict> {
  const run = await runDifferential(file, test);
  const missing = run.candidateProblems.filter((p) => /not implemented in mongowire/.test(p));
  const failed =
    options.candidateMustPass || (options.compareAssertions && run.referenceProblems.length === 0)
      ? run.candidateProblems.filter((p) => !missing.includes(p))
      : logFailures(run);
  const fields = options.ignoreFields ?? [];
  const tolerated =
    run.diff !== undefined && fields.length > 0 && diffCommandSequences(maskFields(run.reference, fields), maskFields(run.candidate, fields), ['mongodb', 'mongowire']) === undefined;
  if ((!run.diff || tolerated) && missing.length === 0 && failed.length === 0) return tolerated ? 'tolerated' : 'agree';
  const lines = [
    run.diff ?? (missing.length > 0 ? 'the commands agree, but mongowire lacks an API the test uses:' : 'the commands agree, but the official driver passes the test on the mock and mongowire fails:'),
    ...missing.slice(0, 2).map((h) => `  mongowire: ${h}`),
    ...failed.slice(0, 3).map((h) => `  mongowire: ${h}`)
  ];
  const error = new Error(lines.join('\n'));
  // The CLI shows the first lines of the stack: make it the whole diff.
  error.stack = error.message;
  throw error;
}
