/**
 * Short fuzz runs (a few thousand cases per target) of the targets in ./targets.ts; the long run
 * is `npm run fuzz` (scripts/fuzz.ts). Each case must end in a result or a MongoError subclass
 * within its time budget; a finding fails the test and prints the offending input.
 */
import { runTarget, type TargetName } from './targets';

const CASES: Record<TargetName, number> = {
  decodeMessage: 5000,
  MessageReader: 3000,
  parseConnectionString: 5000,
  parseOptions: 3000,
  'Connection reply': 1000
};

describe('fuzz (short run)', () => {
  test.each(Object.entries(CASES) as Array<[TargetName, number]>)('%s: %d cases, only typed errors', async (target, cases) => {
    const stats = await runTarget(target, cases);
    expect(stats.cases).toBe(cases);
    expect(stats.findings.slice(0, 3)).toEqual([]);
    // The inputs reach both outcomes: some succeed and some are rejected as typed errors.
    const outcomes = Object.keys(stats.outcomes);
    expect(outcomes.some((o) => o.startsWith('ok'))).toBe(true);
    expect(outcomes.some((o) => o.startsWith('Mongo'))).toBe(true);
  }, 60_000);
});
