/**
 * The unified runner driving mongowire end to end against the mock deployment (normal mode, all
 * assertions on): spec tests whose commands and replies the mock fully determines.
 */
import * as path from 'node:path';
import { EJSON, type Document } from 'bson';
import { defaultSpecRoot } from '../../spec-tests/framework';
import { NotImplementedError, type DriverAdapter } from '../../spec-tests/unified/driver_adapter';
import { EntityMap } from '../../spec-tests/unified/entities';
import { chooseMockSetup, MockDeployment } from '../../spec-tests/unified/mock_deployment';
import { mongowireAdapter } from '../../spec-tests/unified/mongowire_adapter';
import type { OperationContext } from '../../spec-tests/unified/operation_context';
import { runEntityOperation } from '../../spec-tests/unified/operations';
import { buildClientUri, runUnifiedTest } from '../../spec-tests/unified/runner';
import { loadUnifiedTestFile, type UnifiedTest, type UnifiedTestFile } from '../../spec-tests/unified/test-file';

const SOURCE = path.join(defaultSpecRoot(), 'source');

/** A deep copy that keeps BSON types (structuredClone would drop the Int32/Long classes). */
function clone<T>(value: T): T {
  return EJSON.parse(EJSON.stringify(value, { relaxed: false }), { relaxed: false }) as T;
}

function load(rel: string): UnifiedTestFile {
  return loadUnifiedTestFile(path.join(SOURCE, rel)).file;
}

async function run(file: UnifiedTestFile, test: UnifiedTest, adapter: DriverAdapter = mongowireAdapter): Promise<void> {
  const setup = chooseMockSetup(file, test);
  if (!setup) throw new Error(`the mock cannot host ${test.description}`);
  const deployment = await MockDeployment.start(setup);
  try {
    await runUnifiedTest(file, test, { adapter, deployment, operationTimeoutMS: 5_000 });
  } finally {
    await deployment.close();
  }
}

const CASES: Array<[string, string[]]> = [
  ['crud/tests/unified/insertOne-comment.json', ['insertOne with string comment', 'insertOne with document comment']],
  ['crud/tests/unified/insertMany-comment.json', ['insertMany with string comment']],
  ['crud/tests/unified/updateOne-comment.json', ['UpdateOne with string comment']],
  ['crud/tests/unified/deleteOne-comment.json', ['deleteOne with document comment']],
  ['crud/tests/unified/find.json', ['find with multiple batches works', 'Find with filter, sort, skip, and limit', 'Find with limit, sort, and batchsize']],
  [
    'crud/tests/unified/findOneAndUpdate.json',
    ['FindOneAndUpdate when many documents match returning the document after modification', 'FindOneAndUpdate when no documents match with upsert returning the document after modification']
  ],
  ['retryable-reads/tests/unified/aggregate.json', ['Aggregate succeeds on second attempt', 'Aggregate fails on second attempt']]
];

describe('unified runner × mongowire × mock deployment', () => {
  for (const [rel, descriptions] of CASES) {
    for (const description of descriptions) {
      test(`${rel}: ${description}`, async () => {
        const file = load(rel);
        const t = file.tests.find((x) => x.description === description);
        if (!t) throw new Error(`no test "${description}" in ${rel}`);
        await run(file, t);
      });
    }
  }

  test('a wrong expected command fails the test (expectEvents is really checked)', async () => {
    const file = load('crud/tests/unified/insertOne-comment.json');
    const t = clone(file.tests[0]) as UnifiedTest;
    const started = (t.expectEvents?.[0].events[0] as Document).commandStartedEvent as Document;
    started.command = { ...(started.command as Document), comment: 'not the comment sent' };
    await expect(run(file, t)).rejects.toThrow(/expectEvents for client0 events\[0\].*comment/);
  });

  test('a wrong outcome fails the test (outcome is really checked)', async () => {
    const file = load('crud/tests/unified/insertOne-comment.json');
    const t = clone(file.tests[0]) as UnifiedTest;
    t.outcome = [{ ...t.outcome![0], documents: [] }];
    await expect(run(file, t)).rejects.toThrow(/outcome of .*: expected \[\]/);
  });

  test('a wrong expectResult fails the test', async () => {
    const file = load('crud/tests/unified/find.json');
    const t = clone(file.tests.find((x) => x.description === 'Find with filter')!) as UnifiedTest;
    t.operations[0].expectResult = [{ _id: 999 }];
    await expect(run(file, t)).rejects.toThrow(/expectResult \$\[0\]\._id/);
  });
});

describe('runner pieces', () => {
  test('an operation the driver lacks fails with "operation X not implemented in <driver>"', async () => {
    const entities = new EntityMap();
    entities.set('collection0', 'collection', { collectionName: 'c' });
    const ctx = { entities, adapter: mongowireAdapter } as unknown as OperationContext;
    const error = await runEntityOperation(ctx, { name: 'insertOne', object: 'collection0', arguments: { document: { _id: 1 } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotImplementedError);
    expect((error as Error).message).toBe('operation insertOne not implemented in mongowire');
  });

  test('uriOptions override the connection string options', () => {
    expect(buildClientUri('mongodb://a:1,b:2/?replicaSet=rs0&w=1', { w: 'majority', appname: 'x', readPreferenceTags: [{ dc: 'ny' }, {}] })).toBe(
      'mongodb://a:1,b:2/?replicaSet=rs0&w=majority&appname=x&readPreferenceTags=dc%3Any&readPreferenceTags='
    );
    expect(buildClientUri('mongodb://a:1/', undefined)).toBe('mongodb://a:1/');
  });
});
