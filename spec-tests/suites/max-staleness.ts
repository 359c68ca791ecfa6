/**
 * max-staleness spec tests: every file under tests/ is a selection test (topology, read
 * preference with maxStalenessSeconds, optional heartbeatFrequencyMS) that either expects an
 * error or the suitable / in-latency-window servers.
 */
import * as path from 'node:path';
import type { Document } from 'bson';
import { listJsonFiles, readSpecJson, runCase, type CaseResult, type SpecSuite } from '../framework';
import { runSelectionTest } from './_server_selection_fixtures';

const suite: SpecSuite = {
  name: 'max-staleness',
  async run(ctx) {
    const dir = path.join(ctx.suiteDir, 'tests');
    const results: CaseResult[] = [];
    for (const file of listJsonFiles(dir)) {
      results.push(await runCase(file, () => runSelectionTest(readSpecJson<Document>(path.join(dir, file)))));
    }
    return results;
  }
};

export default suite;
