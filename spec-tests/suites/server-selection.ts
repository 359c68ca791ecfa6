/**
 * server-selection spec tests:
 * - tests/server_selection: suitable servers and latency window per topology, operation, read
 *   preference and deprioritized servers;
 * - tests/rtt: the moving average RTT;
 * - tests/in_window: the "two random choices, fewer operations wins" rule, run `iterations`
 *   times and compared to expected frequencies within the tolerance (exactly for 0 and 1);
 * - tests/logging: unified-format tests, through the unified runner (spec-tests/unified/suite_runner.ts):
 *   against a real deployment in normal mode (skipped with the harness's reason when there is none),
 *   both drivers on the mock in differential mode, comparing the commands and the expected log
 *   messages and events.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Document } from 'bson';
import { ReadPreference } from '../../src/read_preference';
import { RoundTripTimeStats } from '../../src/sdam/rtt';
import { chooseInWindow, readPreferenceServerSelector, selectServers } from '../../src/sdam/server_selection';
import { listJsonFiles, readSpecJson, runCase, type CaseResult, type SuiteContext } from '../framework';
import { unifiedSuite } from '../unified/suite_runner';
import { runSelectionTest, topologyFromSpec } from './_server_selection_fixtures';

function runRttTest(test: Document): void {
  const previous = test.avg_rtt_ms === 'NULL' ? null : (test.avg_rtt_ms as number);
  const stats = new RoundTripTimeStats(previous);
  stats.addSample(test.new_rtt_ms as number);
  const expected = test.new_avg_rtt as number;
  assert.ok(stats.average !== null && Math.abs(stats.average - expected) < 1e-9, `average ${stats.average} != ${expected}`);
}

/** A small seeded PRNG (mulberry32) so frequency checks are reproducible. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function runInWindowTest(test: Document): void {
  const topology = topologyFromSpec(test.topology_description as Document);
  const counts = new Map<string, number>(
    (test.mocked_topology_state as Document[]).map((s) => [String(s.address), Number(s.operation_count)])
  );
  const inWindow = selectServers(topology, readPreferenceServerSelector(ReadPreference.nearest));
  const random = seededRandom(0x5eed);
  const iterations = test.iterations as number;
  const tally = new Map<string, number>();
  for (let i = 0; i < iterations; i++) {
    const chosen = chooseInWindow(inWindow, (address) => counts.get(address) ?? 0, random);
    assert.ok(chosen, 'a server must be chosen');
    tally.set(chosen.address, (tally.get(chosen.address) ?? 0) + 1);
  }
  const outcome = test.outcome as Document;
  const tolerance = outcome.tolerance as number;
  for (const [address, expected] of Object.entries(outcome.expected_frequencies as Record<string, number>)) {
    const observed = (tally.get(address) ?? 0) / iterations;
    if (expected === 0 || expected === 1) {
      assert.equal(observed, expected, `${address}: frequency ${observed}, expected exactly ${expected}`);
    } else {
      assert.ok(
        Math.abs(observed - expected) <= tolerance,
        `${address}: frequency ${observed}, expected ${expected} ± ${tolerance}`
      );
    }
  }
}

const RUNNERS: Record<string, ((test: Document) => void) | undefined> = {
  server_selection: runSelectionTest,
  rtt: runRttTest,
  in_window: runInWindowTest
};

/** The pure (no-network) tests of every folder but logging/. */
async function pureCases(ctx: SuiteContext): Promise<CaseResult[]> {
  const dir = path.join(ctx.suiteDir, 'tests');
  const results: CaseResult[] = [];
  for (const file of listJsonFiles(dir)) {
    const kind = file.split('/')[0];
    if (kind === 'logging') continue;
    const runner = RUNNERS[kind];
    results.push(
      await runCase(file, () => {
        if (!runner) throw new Error(`unrecognized test folder "${kind}"`);
        runner(readSpecJson<Document>(path.join(dir, file)));
      })
    );
  }
  return results;
}

/**
 * server-selection.md "Logging": `operationId` is "Optional; only present if the driver generates
 * operation IDs". mongowire does not generate operation IDs, so the tests that check for them do
 * not apply.
 */
const NO_OPERATION_IDS = 'mongowire does not generate operation IDs; server-selection.md "Logging": operationId is "only present if the driver generates operation IDs"';

export default unifiedSuite('server-selection', {
  dirs: ['logging'],
  extraCases: pureCases,
  differentialAssertions: true,
  skipTests: Object.fromEntries(
    [
      'Successful bulkWrite operation: log messages have operationIds',
      'Failed bulkWrite operation: log messages have operationIds',
      'Successful client bulkWrite operation: log messages have operationIds',
      'Failed client bulkWrite operation: log messages have operationIds'
    ].map((test) => [`logging/operation-id.json: ${test}`, NO_OPERATION_IDS])
  )
});
