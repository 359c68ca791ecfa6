/**
 * read-write-concern: the pure JSON tests run against mongowire directly —
 * `connection-string/*` through the URI parser and WriteConcern, `document/*` through
 * ReadConcern — and the `operation/*` unified tests through the unified runner (real server,
 * or both drivers against the mock in differential mode).
 */
import * as path from 'node:path';
import type { Document } from 'bson';
import { parseConnectionString } from '../../src/connection_string';
import { ReadConcern } from '../../src/read_concern';
import { WriteConcern } from '../../src/write_concern';
import { listJsonFiles, readSpecJson, runCase, type CaseResult, type SuiteContext } from '../framework';
import { unifiedSuite } from '../unified/suite_runner';

interface ConnectionStringTest {
  description: string;
  uri: string;
  valid: boolean;
  warning?: boolean | null;
  writeConcern?: Document;
  readConcern?: Document;
}

interface DocumentTest {
  description: string;
  valid: boolean;
  readConcern?: Document;
  readConcernDocument?: Document;
  writeConcern?: Document;
  writeConcernDocument?: Document;
  isServerDefault?: boolean;
  isAcknowledged?: boolean;
}

function sameDocument(actual: Document, expected: Document): boolean {
  const keys = new Set([...Object.keys(actual), ...Object.keys(expected)].filter((k) => actual[k] !== undefined || expected[k] !== undefined));
  return [...keys].every((k) => JSON.stringify(actual[k]) === JSON.stringify(expected[k]));
}

function connectionStringCase(file: string, test: ConnectionStringTest): Promise<CaseResult> {
  return runCase(`connection-string/${file}: ${test.description}`, () => {
    let outcome: { wc?: WriteConcern; rc?: ReadConcern; warnings: readonly string[] } | { error: Error };
    try {
      const parsed = parseConnectionString(test.uri);
      const o = parsed.options as Document;
      outcome = {
        wc: WriteConcern.fromOptions({ w: o.w, wtimeoutMS: o.wtimeoutMS, journal: o.journal }),
        rc: ReadConcern.fromOptions({ readConcernLevel: o.readConcernLevel }),
        warnings: parsed.warnings
      };
    } catch (error) {
      outcome = { error: error as Error };
    }
    if (!test.valid) {
      if ('error' in outcome || outcome.warnings.length > 0) return;
      throw new Error(`expected the URI to be rejected, got ${JSON.stringify(outcome.wc ?? {})}`);
    }
    if ('error' in outcome) throw outcome.error;
    if (test.warning === false && outcome.warnings.length > 0) throw new Error(`unexpected warnings: ${outcome.warnings.join('; ')}`);
    if (test.writeConcern) {
      const wc = outcome.wc;
      const actual: Document = wc ? { w: wc.w, wtimeoutMS: wc.wtimeoutMS, journal: wc.journal } : {};
      if (!sameDocument(actual, test.writeConcern)) throw new Error(`write concern ${JSON.stringify(actual)}, expected ${JSON.stringify(test.writeConcern)}`);
    }
    if (test.readConcern) {
      const actual = outcome.rc?.toJSON() ?? {};
      if (!sameDocument(actual, test.readConcern)) throw new Error(`read concern ${JSON.stringify(actual)}, expected ${JSON.stringify(test.readConcern)}`);
    }
  });
}

function documentCase(file: string, test: DocumentTest): Promise<CaseResult> {
  return runCase(`document/${file}: ${test.description}`, () => {
    let built: { doc: Document; isServerDefault: boolean; isAcknowledged?: boolean };
    try {
      if (test.readConcern) {
        const rc = new ReadConcern(test.readConcern.level as string | undefined);
        built = { doc: rc.toJSON(), isServerDefault: rc.isServerDefault };
      } else {
        const w = test.writeConcern ?? {};
        const wc = new WriteConcern(w.w as never, w.wtimeoutMS as number | undefined, w.journal as boolean | undefined);
        built = { doc: wc.toJSON() as Document, isServerDefault: wc.isServerDefault, isAcknowledged: wc.isAcknowledged };
      }
    } catch (error) {
      if (!test.valid) return;
      throw error;
    }
    if (!test.valid) throw new Error(`expected the concern to be rejected, got ${JSON.stringify(built.doc)}`);
    const expected = test.readConcernDocument ?? test.writeConcernDocument;
    if (expected && !sameDocument(built.doc, expected)) throw new Error(`document ${JSON.stringify(built.doc)}, expected ${JSON.stringify(expected)}`);
    if (test.isServerDefault !== undefined && built.isServerDefault !== test.isServerDefault) {
      throw new Error(`isServerDefault ${built.isServerDefault}, expected ${test.isServerDefault}`);
    }
    if (test.isAcknowledged !== undefined && built.isAcknowledged !== test.isAcknowledged) {
      throw new Error(`isAcknowledged ${String(built.isAcknowledged)}, expected ${test.isAcknowledged}`);
    }
  });
}

async function pureCases(ctx: SuiteContext): Promise<CaseResult[]> {
  const cases: Array<Promise<CaseResult>> = [];
  for (const kind of ['connection-string', 'document'] as const) {
    const dir = path.join(ctx.suiteDir, 'tests', kind);
    for (const file of listJsonFiles(dir)) {
      const { tests } = readSpecJson<{ tests: Array<ConnectionStringTest & DocumentTest> }>(path.join(dir, file));
      for (const test of tests) cases.push(kind === 'connection-string' ? connectionStringCase(file, test) : documentCase(file, test));
    }
  }
  return Promise.all(cases);
}

export default unifiedSuite('read-write-concern', { dirs: ['operation'], extraCases: pureCases });
