/** The differential mode: the same unified test through two drivers, commands compared. */
import * as path from 'node:path';
import type { Document } from 'bson';
import { defaultSpecRoot } from '../../spec-tests/framework';
import { runDifferential } from '../../spec-tests/unified/differential';
import type { DriverAdapter } from '../../spec-tests/unified/driver_adapter';
import { mongowireAdapter } from '../../spec-tests/unified/mongowire_adapter';
import { officialAdapter } from '../../spec-tests/unified/official_adapter';
import { loadUnifiedTestFile } from '../../spec-tests/unified/test-file';

const file = loadUnifiedTestFile(path.join(defaultSpecRoot(), 'source', 'crud', 'tests', 'unified', 'find.json')).file;
const findTest = file.tests.find((t) => t.description === 'Find with filter, sort, skip, and limit')!;

describe('runDifferential', () => {
  jest.setTimeout(30_000);

  test('the official driver and mongowire send the same (non-empty) find', async () => {
    const run = await runDifferential(file, findTest, [officialAdapter, mongowireAdapter]);
    expect(run.reference.length).toBeGreaterThan(0);
    expect(run.reference.map((c) => c.commandName)).toEqual(['find']);
    expect(run.diff).toBeUndefined();
  });

  test('a driver that sends something else is reported with a diff', async () => {
    // Same driver, but every client reads from secondaries: $readPreference appears in the find.
    const skewed: DriverAdapter = {
      ...mongowireAdapter,
      name: 'skewed',
      createClient: (uri, create) => mongowireAdapter.createClient(`${uri}&readPreference=secondaryPreferred`, create)
    };
    const run = await runDifferential(file, findTest, [mongowireAdapter, skewed]);
    expect(run.diff).toMatch(/commands differ at #1 \(mongowire sent 1, skewed sent 1\)/);
    expect(run.diff).toContain('$readPreference');
    expect(run.candidate.map((c) => JSON.parse(c.command) as Document)[0].$readPreference).toEqual({ mode: 'secondaryPreferred' });
  });
});
