/** Pure helpers of the read layer: index keys and names, sort normalisation, command builders. */
import { Long } from 'bson';
import { indexDocument, indexKeys, indexName } from '../../src/operations/indexes';
import { formatSort, orderedDocument } from '../../src/operations/sort';
import { buildFindCommand } from '../../src/operations/find';
import { buildAggregateCommand, hasWriteStage } from '../../src/operations/aggregate';
import { countDocumentsPipeline } from '../../src/operations/count_documents';
import { parseCursorReply } from '../../src/operations/cursor_response';
import { MongoInvalidArgumentError, MongoUnexpectedServerResponseError } from '../../src/errors';

const ns = { db: 'db', collection: 'c' };

describe('index keys and names', () => {
  it.each([
    ['object', { a: 1, b: -1 }, [['a', 1], ['b', -1]], 'a_1_b_-1'],
    ['field name', 'a', [['a', 1]], 'a_1'],
    ['single tuple', ['a', -1], [['a', -1]], 'a_-1'],
    ["Motor's [[field, direction], …]", [['a', 1], ['loc', '2dsphere']], [['a', 1], ['loc', '2dsphere']], 'a_1_loc_2dsphere'],
    ['Map', new Map<string, number>([['z', 1], ['a', -1]]), [['z', 1], ['a', -1]], 'z_1_a_-1'],
    ['list of field names', ['a', 'b'], [['a', 1], ['b', 1]], 'a_1_b_1']
  ])('%s', (_label, spec, entries, name) => {
    const keys = indexKeys(spec as never);
    expect([...keys]).toEqual(entries);
    expect(indexName(keys)).toBe(name);
  });

  it('rejects an empty specification', () => {
    expect(() => indexKeys({})).toThrow(MongoInvalidArgumentError);
  });

  it('index documents keep valid options only, rename version to v, and generate the name', () => {
    const doc = indexDocument({ key: { a: 1 }, unique: true, version: 2, bogus: true } as never);
    expect(doc).toEqual({ unique: true, v: 2, name: 'a_1', key: { a: 1 } });
  });

  it('numeric-looking keys keep their order through a Map', () => {
    const keys = new Map([['b', 1], ['1', 1]]);
    expect(orderedDocument(keys)).toBeInstanceOf(Map);
    expect(orderedDocument(new Map([['b', 1]]))).toEqual({ b: 1 });
  });
});

describe('sort', () => {
  it.each([
    ['a', [['a', 1]]],
    [['a', -1], [['a', -1]]],
    [['a', 'desc'], [['a', -1]]],
    [[['a', 'asc'], ['b', 'descending']], [['a', 1], ['b', -1]]],
    [{ a: 1, score: { $meta: 'textScore' } }, [['a', 1], ['score', { $meta: 'textScore' }]]],
    [['a', 'b'], [['a', 1], ['b', 1]]]
  ])('%j', (sort, entries) => {
    expect([...(formatSort(sort as never) ?? [])]).toEqual(entries);
  });

  it('rejects invalid directions', () => {
    expect(() => formatSort({ a: 2 } as never)).toThrow(MongoInvalidArgumentError);
  });
});

describe('command builders', () => {
  it('find: projection arrays become inclusion documents; zero limit and batchSize are omitted', () => {
    expect(buildFindCommand(ns, {}, { projection: ['a', 'b'] as never, limit: 0, batchSize: 0 })).toEqual({ find: 'c', filter: {}, projection: { a: 1, b: 1 } });
  });

  it('aggregate: batchSize is not sent for $out/$merge pipelines; cursor must be an object', () => {
    const pipeline = [{ $out: 'x' }];
    expect(hasWriteStage(pipeline)).toBe(true);
    expect(buildAggregateCommand('c', pipeline, { batchSize: 5 }).cursor).toEqual({});
    expect(() => buildAggregateCommand('c', [], { cursor: 1 as never })).toThrow(MongoInvalidArgumentError);
  });

  it('countDocuments: $match, $skip, $limit, $group', () => {
    expect(countDocumentsPipeline({ a: 1 }, { skip: 2, limit: 3 })).toEqual([
      { $match: { a: 1 } },
      { $skip: 2 },
      { $limit: 3 },
      { $group: { _id: 1, n: { $sum: 1 } } }
    ]);
  });

  it('cursor replies: id as Long, namespace parsed, malformed replies rejected', () => {
    const batch = parseCursorReply({ cursor: { id: 7, ns: 'db.c.sub', firstBatch: [{ a: 1 }] } }, 'firstBatch', ns);
    expect(batch.id).toEqual(Long.fromNumber(7));
    expect(batch.ns).toEqual({ db: 'db', collection: 'c.sub' });
    expect(() => parseCursorReply({ ok: 1 }, 'firstBatch', ns)).toThrow(MongoUnexpectedServerResponseError);
    expect(() => parseCursorReply({ cursor: { id: 0 } }, 'nextBatch', ns)).toThrow(MongoUnexpectedServerResponseError);
  });
});
