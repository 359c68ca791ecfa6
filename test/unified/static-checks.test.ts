import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Document } from 'bson';
import { defaultSpecRoot, listJsonFiles } from '../../spec-tests/framework';
import { modelFirstFindResult } from '../../spec-tests/unified/initial-data-model';
import { matchIterableResult } from '../../spec-tests/unified/matcher';
import { validateTestFile } from '../../spec-tests/unified/schema';
import { checkTestStatically } from '../../spec-tests/unified/static-checks';
import { loadUnifiedTestFile, type UnifiedOperation, type UnifiedTestFile } from '../../spec-tests/unified/test-file';

function fileWith(createEntities: Document[], operations: UnifiedOperation[]): UnifiedTestFile {
  return { description: 'd', schemaVersion: '1.0', createEntities, tests: [{ description: 't', operations }] };
}

const problemsOf = (file: UnifiedTestFile): string[] => checkTestStatically(file, file.tests[0]).map((p) => `${p.path}: ${p.message}`);

const baseEntities = [
  { client: { id: 'client0' } },
  { database: { id: 'database0', client: 'client0', databaseName: 'db' } },
  { collection: { id: 'collection0', database: 'database0', collectionName: 'coll' } },
  { session: { id: 'session0', client: 'client0' } }
];

describe('checkTestStatically', () => {
  it('accepts well-formed entities and operations', () => {
    const ops: UnifiedOperation[] = [
      { name: 'insertOne', object: 'collection0', arguments: { document: {}, session: 'session0' } },
      { name: 'createFindCursor', object: 'collection0', arguments: { filter: {} }, saveResultAsEntity: 'cursor0' },
      { name: 'iterateUntilDocumentOrError', object: 'cursor0' },
      { name: 'assertSessionPinned', object: 'testRunner', arguments: { session: 'session0' } }
    ];
    expect(problemsOf(fileWith(baseEntities, ops))).toEqual([]);
  });

  it('reports entities referencing undefined or mistyped entities', () => {
    expect(problemsOf(fileWith([{ database: { id: 'd', client: 'foo', databaseName: 'x' } }], []))).toEqual([
      'createEntities[0].database.client: entity "foo" is not defined'
    ]);
    expect(problemsOf(fileWith([...baseEntities, { session: { id: 's1', client: 'session0' } }], []))).toEqual([
      'createEntities[4].session.client: entity "session0" is a session, expected a client'
    ]);
  });

  it('reports duplicate entity names', () => {
    expect(problemsOf(fileWith([{ client: { id: 'client0' } }, { client: { id: 'client0' } }], []))).toEqual([
      'createEntities[1].client.id: entity "client0" is already defined'
    ]);
  });

  it('reports operations on entities that do not exist yet', () => {
    const ops: UnifiedOperation[] = [
      { name: 'iterateUntilDocumentOrError', object: 'cursor0' },
      { name: 'createFindCursor', object: 'collection0', arguments: { filter: {} }, saveResultAsEntity: 'cursor0' }
    ];
    expect(problemsOf(fileWith(baseEntities, ops))).toEqual(['operations[0].object: entity "cursor0" is not defined']);
  });

  it('reports missing required arguments and bad entity arguments of special operations', () => {
    const ops: UnifiedOperation[] = [
      { name: 'assertNumberConnectionsCheckedOut', object: 'testRunner', arguments: { connections: 1 } },
      { name: 'failPoint', object: 'testRunner', arguments: { client: 'session0', failPoint: {} } },
      { name: 'notAnOperation', object: 'testRunner' }
    ];
    expect(problemsOf(fileWith(baseEntities, ops))).toEqual([
      'operations[0].arguments: assertNumberConnectionsCheckedOut: missing required argument "client"',
      'operations[1].arguments.client: entity "session0" is a session, expected a client',
      'operations[2].name: unsupported special test operation "notAnOperation"'
    ]);
  });

  it('follows entities created by createEntities and recordTopologyDescription operations', () => {
    const ops: UnifiedOperation[] = [
      { name: 'createEntities', object: 'testRunner', arguments: { entities: [{ client: { id: 'client1' } }] } },
      { name: 'recordTopologyDescription', object: 'testRunner', arguments: { client: 'client1', id: 'td' } },
      { name: 'assertTopologyType', object: 'testRunner', arguments: { topologyDescription: 'td', topologyType: 'Single' } },
      { name: 'waitForPrimaryChange', object: 'testRunner', arguments: { client: 'client1', priorTopologyDescription: 'client1' } }
    ];
    expect(problemsOf(fileWith([], ops))).toEqual([
      'operations[3].arguments.priorTopologyDescription: entity "client1" is a client, expected a topologyDescription'
    ]);
  });

  it('reports an unsupported Stable API version', () => {
    const entities = [{ client: { id: 'c', serverApi: { version: '99' } } }];
    expect(problemsOf(fileWith(entities, []))).toEqual(['createEntities[0].client.serverApi.version: Stable API version "99" is not supported']);
    expect(problemsOf(fileWith([{ client: { id: 'c', serverApi: { version: '1' } } }], []))).toEqual([]);
  });
});

const specRoot = defaultSpecRoot();
const haveSpecs = fs.existsSync(path.join(specRoot, 'source', 'unified-test-format'));
const describeSpecs = haveSpecs ? describe : describe.skip;

describeSpecs('against the specifications tree', () => {
  const source = path.join(specRoot, 'source');

  it('every unified test file of every spec validates and has no static problems (no false positives)', () => {
    let files = 0;
    const problems: string[] = [];
    for (const rel of listJsonFiles(source)) {
      if (rel.startsWith('unified-test-format/tests/invalid/') || rel.startsWith('unified-test-format/tests/valid-fail/')) continue;
      const text = fs.readFileSync(path.join(source, rel), 'utf8');
      if (!text.includes('"schemaVersion"')) continue;
      const { raw, file } = loadUnifiedTestFile(path.join(source, rel));
      if (!Array.isArray(file.tests)) continue;
      files++;
      const validation = validateTestFile(raw, specRoot);
      if (!validation.ok) problems.push(`${rel}: ${validation.errors[0]}`);
      for (const test of file.tests) {
        for (const p of checkTestStatically(file, test)) problems.push(`${rel} / ${test.description}: ${p.path}: ${p.message}`);
      }
    }
    expect(files).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  it.each(['operator-matchAsDocument.json', 'operator-matchAsRoot.json'])(
    'valid-pass/%s: every expectResult matches the find result modeled from initialData',
    (name) => {
      const { file } = loadUnifiedTestFile(path.join(source, 'unified-test-format', 'tests', 'valid-pass', name));
      for (const test of file.tests) {
        const modeled = modelFirstFindResult(file, test);
        expect(modeled).toHaveLength(1);
        const r = matchIterableResult(test.operations[0].expectResult, modeled);
        expect({ test: test.description, ...r }).toMatchObject({ test: test.description, ok: true });
      }
    }
  );

  it.each(['operator-matchAsDocument.json', 'operator-matchAsRoot.json'])(
    'valid-fail/%s: every expectResult mismatches the find result modeled from initialData',
    (name) => {
      const { file } = loadUnifiedTestFile(path.join(source, 'unified-test-format', 'tests', 'valid-fail', name));
      for (const test of file.tests) {
        const modeled = modelFirstFindResult(file, test);
        expect(modeled).toHaveLength(1);
        expect({ test: test.description, ok: matchIterableResult(test.operations[0].expectResult, modeled).ok }).toEqual({
          test: test.description,
          ok: false
        });
      }
    }
  );
});

describe('modelFirstFindResult', () => {
  const file: UnifiedTestFile = {
    description: 'd',
    schemaVersion: '1.0',
    createEntities: baseEntities,
    initialData: [{ databaseName: 'db', collectionName: 'coll', documents: [{ _id: 1, x: 1 }, { _id: 2, x: 2 }] }],
    tests: []
  };

  it('returns the initialData documents with the filtered _id', () => {
    const test = { description: 't', operations: [{ name: 'find', object: 'collection0', arguments: { filter: { _id: 2 }, limit: 1 } }] };
    expect(modelFirstFindResult(file, test)).toEqual([{ _id: 2, x: 2 }]);
  });

  it('does not model anything else', () => {
    const find = (args: Document, object = 'collection0') => ({ description: 't', operations: [{ name: 'find', object, arguments: args }] });
    expect(modelFirstFindResult(file, find({ filter: { x: 1 } }))).toBeUndefined();
    expect(modelFirstFindResult(file, find({ filter: { _id: { $gt: 1 } } }))).toBeUndefined();
    expect(modelFirstFindResult(file, find({ filter: { _id: 1 }, sort: { _id: 1 } }))).toBeUndefined();
    expect(modelFirstFindResult(file, find({ filter: { _id: 1 } }, 'database0'))).toBeUndefined();
    const afterInsert = {
      description: 't',
      operations: [
        { name: 'insertOne', object: 'collection0', arguments: { document: { _id: 3 } } },
        { name: 'find', object: 'collection0', arguments: { filter: { _id: 3 } } }
      ]
    };
    expect(modelFirstFindResult(file, afterInsert)).toBeUndefined();
  });
});
