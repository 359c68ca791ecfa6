import { Long, type Document } from 'bson';
import { MongoClientBulkWriteError, MongoInvalidArgumentError, MongoServerError } from '../../src/errors';
import type { AnyClientBulkWriteModel } from '../../src/mongo_types';
import { errorReply, type RecordedCommand } from '../tools/mock_server';
import { startWriteFixture, type TestDoc, type WriteFixture } from './helpers';

/** A bulkWrite reply whose cursor holds `results` (ok: 1 per op unless given). */
function bulkReply(results: Document[], counts: Document = {}, cursorId = 0): Document {
  const nErrors = results.filter((r) => r.ok === 0).length;
  return {
    ok: 1,
    cursor: { id: Long.fromNumber(cursorId), firstBatch: results, ns: 'admin.$cmd.bulkWrite' },
    nErrors,
    nInserted: 0,
    nUpserted: 0,
    nMatched: 0,
    nModified: 0,
    nDeleted: 0,
    ...counts
  };
}

/** A handler that acknowledges every op with `{ ok: 1, idx, n: 1 }`. */
function okAll(counts: (r: RecordedCommand) => Document = () => ({})) {
  return (r: RecordedCommand) => bulkReply((r.body.ops as Document[]).map((_, idx) => ({ ok: 1, idx, n: 1 })), counts(r));
}

describe('client.bulkWrite', () => {
  let f: WriteFixture;
  afterEach(async () => {
    await f.close();
  });

  test('builds ops and nsInfo document sequences on admin, one nsInfo entry per namespace', async () => {
    f = await startWriteFixture();
    f.server.setHandler('bulkWrite', okAll((r) => ({ nInserted: 1, nMatched: 2, nModified: 2, nDeleted: 1, nUpserted: 0, ops: r.body.ops.length })));
    const models: AnyClientBulkWriteModel<TestDoc>[] = [
      { name: 'insertOne', namespace: 'db.a', document: { x: 1 } },
      { name: 'updateOne', namespace: 'db.b', filter: { x: 1 }, update: { $inc: { x: 1 } }, upsert: true, arrayFilters: [{ i: 1 }], collation: { locale: 'en' }, hint: 'x_1', sort: { x: -1 } },
      { name: 'updateMany', namespace: 'db.a', filter: {}, update: [{ $set: { y: 1 } }] },
      { name: 'replaceOne', namespace: 'other.c', filter: { x: 1 }, replacement: { x: 2 }, sort: 'x' },
      { name: 'deleteOne', namespace: 'db.b', filter: { x: 2 }, hint: { x: 1 } },
      { name: 'deleteMany', namespace: 'db.a', filter: {}, collation: { locale: 'fr' } }
    ];
    const result = await f.client.bulkWrite(models, { let: { v: 1 }, comment: 'cb', bypassDocumentValidation: false });
    expect(result).toEqual({ acknowledged: true, insertedCount: 1, upsertedCount: 0, matchedCount: 2, modifiedCount: 2, deletedCount: 1 });
    const [cmd] = f.sent('bulkWrite');
    expect(cmd.db).toBe('admin');
    expect(cmd.sequences.map((s) => s.identifier)).toEqual(['ops', 'nsInfo']);
    expect(cmd.body).toMatchObject({ bulkWrite: 1, errorsOnly: true, ordered: true, let: { v: 1 }, comment: 'cb', bypassDocumentValidation: false });
    expect(cmd.body.nsInfo).toEqual([{ ns: 'db.a' }, { ns: 'db.b' }, { ns: 'other.c' }]);
    const ops = cmd.body.ops as Document[];
    expect(Object.keys(ops[0])).toEqual(['insert', 'document']);
    expect(Object.keys(ops[0].document)).toEqual(['_id', 'x']);
    expect(ops.slice(1)).toEqual([
      { update: 1, filter: { x: 1 }, updateMods: { $inc: { x: 1 } }, multi: false, upsert: true, arrayFilters: [{ i: 1 }], hint: 'x_1', collation: { locale: 'en' }, sort: { x: -1 } },
      { update: 0, filter: {}, updateMods: [{ $set: { y: 1 } }], multi: true },
      { update: 2, filter: { x: 1 }, updateMods: { x: 2 }, multi: false, sort: { x: 1 } },
      { delete: 1, filter: { x: 2 }, multi: false, hint: { x: 1 } },
      { delete: 0, filter: {}, multi: true, collation: { locale: 'fr' } }
    ]);
    // Contains multi-document writes: not retryable.
    expect(cmd.body.txnNumber).toBeUndefined();
  });

  test('verboseResults fills per-model results; single-document batches are retryable', async () => {
    f = await startWriteFixture();
    f.server.setHandler('bulkWrite', (r) =>
      bulkReply(
        [
          { ok: 1, idx: 0, n: 1 },
          { ok: 1, idx: 1, n: 0, nModified: 0, upserted: { _id: 'up' } },
          { ok: 1, idx: 2, n: 1 }
        ],
        { nInserted: 1, nUpserted: 1, nDeleted: 1, ops: r.body.ops.length }
      )
    );
    const result = await f.client.bulkWrite<TestDoc>(
      [
        { name: 'insertOne', namespace: 'db.a', document: { _id: 5 } },
        { name: 'updateOne', namespace: 'db.a', filter: { _id: 6 }, update: { $set: { a: 1 } }, upsert: true },
        { name: 'deleteOne', namespace: 'db.a', filter: { _id: 7 } }
      ],
      { verboseResults: true }
    );
    expect(result.insertResults?.get(0)).toEqual({ insertedId: 5 });
    expect(result.updateResults?.get(1)).toEqual({ matchedCount: 0, modifiedCount: 0, upsertedId: 'up', didUpsert: true });
    expect(result.deleteResults?.get(2)).toEqual({ deletedCount: 1 });
    const body = f.sent('bulkWrite')[0].body;
    expect(body.errorsOnly).toBe(false);
    expect(Number(body.txnNumber)).toBe(1);
  });

  test('splits by maxWriteBatchSize, remapping result indexes across batches', async () => {
    f = await startWriteFixture({ helloExtra: { maxWriteBatchSize: 2 } });
    f.server.setHandler('bulkWrite', okAll((r) => ({ nInserted: r.body.ops.length })));
    const models = Array.from({ length: 5 }, (_, i): AnyClientBulkWriteModel<TestDoc> => ({ name: 'insertOne', namespace: 'db.a', document: { _id: i } }));
    const result = await f.client.bulkWrite(models, { verboseResults: true });
    expect(f.sent('bulkWrite').map((c) => c.body.ops.length)).toEqual([2, 2, 1]);
    expect(result.insertedCount).toBe(5);
    expect([...(result.insertResults?.keys() ?? [])]).toEqual([0, 1, 2, 3, 4]);
    expect(f.sent('bulkWrite').map((c) => Number(c.body.txnNumber))).toEqual([1, 2, 3]);
  });

  test('splits by maxMessageSizeBytes, counting nsInfo, and only lists the batch namespaces', async () => {
    f = await startWriteFixture({ helloExtra: { maxMessageSizeBytes: 4000, maxBsonObjectSize: 3000 } });
    f.server.setHandler('bulkWrite', okAll());
    const models: AnyClientBulkWriteModel<TestDoc>[] = [
      { name: 'insertOne', namespace: 'db.a', document: { s: 'x'.repeat(1200) } },
      { name: 'insertOne', namespace: 'db.a', document: { s: 'x'.repeat(1200) } },
      { name: 'insertOne', namespace: 'db.b', document: { s: 'x'.repeat(1200) } }
    ];
    await f.client.bulkWrite(models);
    const sent = f.sent('bulkWrite');
    expect(sent.map((c) => c.body.ops.length)).toEqual([2, 1]);
    expect(sent[1].body.nsInfo).toEqual([{ ns: 'db.b' }]);
    expect(sent[1].body.ops[0].insert).toBe(0);
  });

  test('an op that can never fit is a client error before sending', async () => {
    f = await startWriteFixture({ helloExtra: { maxMessageSizeBytes: 2000, maxBsonObjectSize: 1000 } });
    await expect(f.client.bulkWrite<TestDoc>([{ name: 'insertOne', namespace: 'db.a', document: { s: 'x'.repeat(1500) } }])).rejects.toBeInstanceOf(
      MongoInvalidArgumentError
    );
    expect(f.sent('bulkWrite')).toHaveLength(0);
  });

  test('drains the results cursor with getMore in the same session', async () => {
    f = await startWriteFixture();
    f.server.setHandler('bulkWrite', bulkReply([{ ok: 1, idx: 0, n: 1 }], { nInserted: 2 }, 99));
    f.server.setHandler('getMore', { ok: 1, cursor: { id: Long.ZERO, ns: 'admin.$cmd.bulkWrite', nextBatch: [{ ok: 1, idx: 1, n: 1 }] } });
    const result = await f.client.bulkWrite<TestDoc>(
      [
        { name: 'insertOne', namespace: 'db.a', document: { _id: 1 } },
        { name: 'insertOne', namespace: 'db.a', document: { _id: 2 } }
      ],
      { verboseResults: true }
    );
    expect(result.insertResults?.size).toBe(2);
    const [getMore] = f.sent('getMore');
    expect(getMore.db).toBe('admin');
    expect(getMore.body).toMatchObject({ getMore: 99, collection: '$cmd.bulkWrite' });
    expect(getMore.body.txnNumber).toBeUndefined();
    expect(getMore.body.writeConcern).toBeUndefined();
    expect(getMore.body.lsid).toEqual(f.sent('bulkWrite')[0].body.lsid);
  });

  test('a getMore failure kills the cursor; results seen so far go into the error', async () => {
    f = await startWriteFixture();
    f.server.setHandler('bulkWrite', bulkReply([{ ok: 1, idx: 0, n: 1 }], { nInserted: 1 }, 77));
    f.server.setHandler('getMore', errorReply(8, 'getMore failed'));
    const error = (await f.client
      .bulkWrite<TestDoc>([
        { name: 'insertOne', namespace: 'db.a', document: { _id: 1 } },
        { name: 'insertOne', namespace: 'db.a', document: { _id: 2 } }
      ])
      .catch((e: unknown) => e)) as MongoClientBulkWriteError;
    expect(error).toBeInstanceOf(MongoClientBulkWriteError);
    expect((error.cause as MongoServerError).code).toBe(8);
    expect(error.partialResult).toMatchObject({ insertedCount: 1 });
    expect(f.sent('killCursors')[0].body).toMatchObject({ killCursors: '$cmd.bulkWrite', cursors: [77] });
  });

  test('a top-level error before any result is thrown as is', async () => {
    f = await startWriteFixture();
    f.server.setHandler('bulkWrite', errorReply(8, 'boom'));
    const error = await f.client.bulkWrite<TestDoc>([{ name: 'insertOne', namespace: 'db.a', document: { _id: 1 } }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error).not.toBeInstanceOf(MongoClientBulkWriteError);
    expect((error as MongoServerError).code).toBe(8);
  });

  test('ordered: stops at the first write error; unordered: continues across batches', async () => {
    f = await startWriteFixture({ helloExtra: { maxWriteBatchSize: 2 } });
    // In every batch of two, the second insert fails.
    f.server.setHandler('bulkWrite', (r) =>
      bulkReply(
        (r.body.ops as Document[]).map((_, idx) => (idx === 1 ? { ok: 0, idx, code: 11000, errmsg: 'dup' } : { ok: 1, idx, n: 1 })),
        { nInserted: 1 }
      )
    );
    const models = Array.from({ length: 4 }, (_, i): AnyClientBulkWriteModel<TestDoc> => ({ name: 'insertOne', namespace: 'db.a', document: { _id: i } }));
    const ordered = (await f.client.bulkWrite(models).catch((e: unknown) => e)) as MongoClientBulkWriteError;
    expect(ordered).toBeInstanceOf(MongoClientBulkWriteError);
    expect([...ordered.writeErrors.keys()]).toEqual([1]);
    expect(ordered.writeErrors.get(1)).toMatchObject({ code: 11000, message: 'dup' });
    expect(ordered.partialResult).toMatchObject({ insertedCount: 1 });
    expect(f.sent('bulkWrite')).toHaveLength(1);

    f.server.clearRecords();
    const unordered = (await f.client.bulkWrite(models, { ordered: false }).catch((e: unknown) => e)) as MongoClientBulkWriteError;
    expect([...unordered.writeErrors.keys()]).toEqual([1, 3]);
    expect(unordered.partialResult).toMatchObject({ insertedCount: 2 });
    expect(f.sent('bulkWrite').map((c) => c.body.ordered)).toEqual([false, false]);
  });

  test('write concern errors are collected across batches and reported at the end', async () => {
    f = await startWriteFixture({ helloExtra: { maxWriteBatchSize: 1 } });
    f.server.setHandler('bulkWrite', { ...bulkReply([{ ok: 1, idx: 0, n: 1 }], { nInserted: 1 }), writeConcernError: { code: 64, errmsg: 'wc timeout' } });
    const error = (await f.client
      .bulkWrite<TestDoc>([
        { name: 'insertOne', namespace: 'db.a', document: { _id: 1 } },
        { name: 'insertOne', namespace: 'db.a', document: { _id: 2 } }
      ])
      .catch((e: unknown) => e)) as MongoClientBulkWriteError;
    expect(error).toBeInstanceOf(MongoClientBulkWriteError);
    expect(error.writeConcernErrors).toEqual([
      { code: 64, message: 'wc timeout', errInfo: undefined },
      { code: 64, message: 'wc timeout', errInfo: undefined }
    ]);
    expect(error.partialResult).toMatchObject({ insertedCount: 2 });
    expect(f.sent('bulkWrite')).toHaveLength(2);
  });

  test('w: 0 requires ordered: false and no verboseResults; batches go with moreToCome', async () => {
    f = await startWriteFixture({ helloExtra: { maxWriteBatchSize: 1 } });
    const models: AnyClientBulkWriteModel<TestDoc>[] = [
      { name: 'insertOne', namespace: 'db.a', document: { _id: 1 } },
      { name: 'insertOne', namespace: 'db.a', document: { _id: 2 } }
    ];
    await expect(f.client.bulkWrite(models, { writeConcern: { w: 0 } })).rejects.toThrow('Cannot request unacknowledged write concern and ordered writes');
    await expect(f.client.bulkWrite(models, { writeConcern: { w: 0 }, ordered: false, verboseResults: true })).rejects.toThrow(
      'Cannot request unacknowledged write concern and verbose results'
    );
    const result = await f.client.bulkWrite(models, { writeConcern: { w: 0 }, ordered: false });
    expect(result.acknowledged).toBe(false);
    const deadline = Date.now() + 2000;
    while (f.sent('bulkWrite').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(f.sent('bulkWrite').every((c) => c.moreToCome && c.body.writeConcern?.w === 0 && c.body.lsid === undefined)).toBe(true);
  });

  test('prose 10: an unacknowledged too-large insert or replace is a client error', async () => {
    f = await startWriteFixture({ helloExtra: { maxBsonObjectSize: 1000, maxMessageSizeBytes: 100_000 } });
    const big = 'x'.repeat(1500);
    const options = { writeConcern: { w: 0 }, ordered: false };
    await expect(f.client.bulkWrite<TestDoc>([{ name: 'insertOne', namespace: 'db.a', document: { big } }], options)).rejects.toBeInstanceOf(
      MongoInvalidArgumentError
    );
    await expect(
      f.client.bulkWrite<TestDoc>([{ name: 'replaceOne', namespace: 'db.a', filter: {}, replacement: { big } }], options)
    ).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    expect(f.sent('bulkWrite')).toHaveLength(0);
  });

  test('validation: empty models, bad namespace, update without operators, replacement with operators', async () => {
    f = await startWriteFixture();
    await expect(f.client.bulkWrite<TestDoc>([])).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    await expect(f.client.bulkWrite<TestDoc>([{ name: 'insertOne', namespace: 'nodot', document: {} }])).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    await expect(f.client.bulkWrite<TestDoc>([{ name: 'updateOne', namespace: 'db.a', filter: {}, update: { a: 1 } as never }])).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    await expect(f.client.bulkWrite<TestDoc>([{ name: 'replaceOne', namespace: 'db.a', filter: {}, replacement: { $set: { a: 1 } } }])).rejects.toBeInstanceOf(
      MongoInvalidArgumentError
    );
    expect(f.sent('bulkWrite')).toHaveLength(0);
  });
});
