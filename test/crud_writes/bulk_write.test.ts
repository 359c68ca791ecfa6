import type { Document } from 'bson';
import { BulkWriteResult } from '../../src/bulk_write_result';
import { MongoBulkWriteError, MongoInvalidArgumentError } from '../../src/errors';
import { errorReply, type RecordedCommand } from '../tools/mock_server';
import { startWriteFixture, type TestDoc, type WriteFixture } from './helpers';

/** Number of statements in a recorded write command. */
const count = (r: RecordedCommand) => (r.body.documents ?? r.body.updates ?? r.body.deletes).length as number;

describe('collection.bulkWrite / insertMany', () => {
  let f: WriteFixture;
  afterEach(async () => {
    await f.close();
  });
  const coll = () => f.client.db('app').collection<TestDoc>('items');

  test('ordered bulk runs consecutive same-kind writes together and merges the result', async () => {
    f = await startWriteFixture();
    f.server.setHandler('update', (r) => ({ ok: 1, n: r.body.updates.length, nModified: 1, upserted: [{ index: 1, _id: 'u' }] }));
    f.server.setHandler('delete', { ok: 1, n: 2 });
    const result = await coll().bulkWrite([
      { insertOne: { document: { _id: 1 } } },
      { insertOne: { document: { _id: 2 } } },
      { updateOne: { filter: { _id: 1 }, update: { $set: { a: 1 } } } },
      { replaceOne: { filter: { _id: 3 }, replacement: { a: 2 }, upsert: true } },
      { deleteMany: { filter: { a: 1 } } },
      { insertOne: { document: { _id: 4 } } }
    ]);
    expect(f.server.nonHelloCommands().map((c) => `${c.commandName}:${count(c)}`)).toEqual(['insert:2', 'update:2', 'delete:1', 'insert:1']);
    expect(result).toBeInstanceOf(BulkWriteResult);
    expect(result.insertedCount).toBe(3);
    expect(result.insertedIds).toEqual({ 0: 1, 1: 2, 5: 4 });
    expect(result.matchedCount).toBe(1);
    expect(result.modifiedCount).toBe(1);
    expect(result.upsertedCount).toBe(1);
    expect(result.upsertedIds).toEqual({ 3: 'u' });
    expect(result.deletedCount).toBe(2);
    expect(result.ok).toBe(1);
    // One implicit session for the whole bulk; each batch its own txnNumber; the deleteMany batch is not retryable.
    const cmds = f.server.nonHelloCommands();
    expect(new Set(cmds.map((c) => JSON.stringify(c.body.lsid))).size).toBe(1);
    expect(cmds.map((c) => (c.body.txnNumber === undefined ? null : Number(c.body.txnNumber)))).toEqual([1, 2, null, 3]);
  });

  test('unordered bulk groups inserts, updates, deletes', async () => {
    f = await startWriteFixture();
    await coll().bulkWrite(
      [
        { deleteOne: { filter: { a: 1 } } },
        { insertOne: { document: { _id: 1 } } },
        { updateMany: { filter: {}, update: { $set: { b: 1 } } } },
        { insertOne: { document: { _id: 2 } } }
      ],
      { ordered: false, bypassDocumentValidation: true, let: { x: 1 }, comment: 'bulk' }
    );
    const cmds = f.server.nonHelloCommands();
    expect(cmds.map((c) => `${c.commandName}:${count(c)}`)).toEqual(['insert:2', 'update:1', 'delete:1']);
    for (const c of cmds) {
      expect(c.body.ordered).toBe(false);
      expect(c.body.comment).toBe('bulk');
    }
    // `delete` has nothing to bypass.
    expect(cmds.map((c) => c.body.bypassDocumentValidation)).toEqual([true, true, undefined]);
    expect(cmds[0].body.let).toBeUndefined();
    expect(cmds[1].body.let).toEqual({ x: 1 });
    expect(cmds[2].body.let).toEqual({ x: 1 });
  });

  test('splits at maxWriteBatchSize', async () => {
    f = await startWriteFixture({ helloExtra: { maxWriteBatchSize: 3 } });
    const docs = Array.from({ length: 7 }, (_, i) => ({ _id: i }));
    const result = await coll().insertMany(docs);
    expect(f.sent('insert').map(count)).toEqual([3, 3, 1]);
    expect(result.insertedCount).toBe(7);
    expect(Object.keys(result.insertedIds)).toHaveLength(7);
    expect(f.sent('insert').map((c) => Number(c.body.txnNumber))).toEqual([1, 2, 3]);
  });

  test('splits at maxMessageSizeBytes (minus the command and a 1000-byte allowance)', async () => {
    f = await startWriteFixture({ helloExtra: { maxMessageSizeBytes: 5000, maxBsonObjectSize: 4000 } });
    const docs = Array.from({ length: 5 }, (_, i) => ({ _id: i, s: 'x'.repeat(1000) }));
    await coll().insertMany(docs);
    // Each document is ~1020 bytes; 5000 - 1000 - the command leaves room for 3.
    expect(f.sent('insert').map(count)).toEqual([3, 2]);
  });

  test('a statement over maxBsonObjectSize fails the bulk before anything is sent', async () => {
    f = await startWriteFixture({ helloExtra: { maxBsonObjectSize: 1000 } });
    const error = await coll()
      .insertMany([{ _id: 1 }, { _id: 2, s: 'x'.repeat(2000) }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoInvalidArgumentError);
    expect(f.sent('insert')).toHaveLength(0);
  });

  test('ordered: stops after the batch with the first write error; indexes are remapped', async () => {
    f = await startWriteFixture({ helloExtra: { maxWriteBatchSize: 2 } });
    let batch = 0;
    f.server.setHandler('insert', () =>
      ++batch === 2 ? { ok: 1, n: 0, writeErrors: [{ index: 0, code: 11000, errmsg: 'dup', errInfo: { k: 1 } }] } : { ok: 1, n: 2 }
    );
    const error = (await coll()
      .insertMany([{ _id: 0 }, { _id: 1 }, { _id: 1 }, { _id: 3 }, { _id: 4 }])
      .catch((e: unknown) => e)) as MongoBulkWriteError<BulkWriteResult>;
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    expect(error.code).toBe(11000);
    expect(error.writeErrors.map((e) => e.index)).toEqual([2]);
    expect(error.writeErrors[0].errInfo).toEqual({ k: 1 });
    expect(error.insertedCount).toBe(2);
    expect(error.insertedIds).toEqual({ 0: 0, 1: 1 });
    expect(error.result.getWriteErrorCount()).toBe(1);
    expect(f.sent('insert')).toHaveLength(2);
  });

  test('unordered: runs every batch and reports all write errors at the end', async () => {
    f = await startWriteFixture({ helloExtra: { maxWriteBatchSize: 2 } });
    let batch = 0;
    f.server.setHandler('insert', () => {
      batch++;
      if (batch === 1) return { ok: 1, n: 1, writeErrors: [{ index: 1, code: 11000, errmsg: 'dup a' }] };
      if (batch === 2) return { ok: 1, n: 1, writeErrors: [{ index: 0, code: 121, errmsg: 'validation' }] };
      return { ok: 1, n: 1 };
    });
    const error = (await coll()
      .insertMany([{ _id: 0 }, { _id: 1 }, { _id: 2 }, { _id: 3 }, { _id: 4 }], { ordered: false })
      .catch((e: unknown) => e)) as MongoBulkWriteError<BulkWriteResult>;
    expect(f.sent('insert')).toHaveLength(3);
    expect(error.writeErrors.map((e) => [e.index, e.code])).toEqual([
      [1, 11000],
      [2, 121]
    ]);
    expect(error.insertedCount).toBe(3);
    expect(error.insertedIds).toEqual({ 0: 0, 3: 3, 4: 4 });
  });

  test('a write concern error stops the bulk with the partial result', async () => {
    f = await startWriteFixture({ helloExtra: { maxWriteBatchSize: 1 } });
    f.server.setHandler('insert', { ok: 1, n: 1, writeConcernError: { code: 64, errmsg: 'waiting for replication timed out', errInfo: { wtimeout: true } } });
    const error = (await coll()
      .insertMany([{ _id: 0 }, { _id: 1 }], { writeConcern: { w: 2, wtimeoutMS: 10 } })
      .catch((e: unknown) => e)) as MongoBulkWriteError<BulkWriteResult>;
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    expect(error.code).toBe(64);
    expect(error.writeConcernError).toMatchObject({ code: 64, errInfo: { wtimeout: true } });
    expect(error.result.getWriteConcernError()?.errInfo).toEqual({ wtimeout: true });
    expect(error.insertedCount).toBe(1);
    expect(f.sent('insert')).toHaveLength(1);
    expect(f.sent('insert')[0].body.writeConcern).toEqual({ w: 2, wtimeout: 10 });
  });

  test('a command error after a successful batch is a MongoBulkWriteError carrying the cause', async () => {
    f = await startWriteFixture({ helloExtra: { maxWriteBatchSize: 1 } });
    let batch = 0;
    f.server.setHandler('insert', () => (++batch === 2 ? errorReply(13, 'not authorized', { codeName: 'Unauthorized' }) : { ok: 1, n: 1 }));
    const error = (await coll()
      .insertMany([{ _id: 0 }, { _id: 1 }])
      .catch((e: unknown) => e)) as MongoBulkWriteError<BulkWriteResult>;
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    expect(error.code).toBe(13);
    expect(error.codeName).toBe('Unauthorized');
    expect(error.insertedCount).toBe(1);
    expect(error.cause).toBeDefined();
  });

  test('w: 0 bulk sends every batch with moreToCome and no session', async () => {
    f = await startWriteFixture({ helloExtra: { maxWriteBatchSize: 2 } });
    const result = await coll().insertMany([{ _id: 0 }, { _id: 1 }, { _id: 2 }], { writeConcern: { w: 0 } });
    expect(result.acknowledged).toBe(false);
    const deadline = Date.now() + 2000;
    while (f.sent('insert').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const sent = f.sent('insert');
    expect(sent.map(count)).toEqual([2, 1]);
    expect(sent.every((c) => c.moreToCome && c.body.lsid === undefined)).toBe(true);
  });

  test('model validation happens before anything is sent', async () => {
    f = await startWriteFixture();
    const bad: Document[][] = [
      [{ updateOne: { filter: {}, update: { a: 1 } } }],
      [{ updateMany: { filter: {}, update: {} } }],
      [{ replaceOne: { filter: {}, replacement: { $set: { a: 1 } } } }],
      [{ unknownOp: {} }],
      [null as unknown as Document],
      []
    ];
    for (const models of bad) {
      await expect(coll().bulkWrite(models as never)).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    }
    await expect(coll().insertMany([{ a: 1 }, null] as never)).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    expect(f.server.nonHelloCommands()).toEqual([]);
  });

  test('bulk statements carry every model option; generated _ids come first', async () => {
    f = await startWriteFixture();
    await coll().bulkWrite([
      { insertOne: { document: { a: 1 } } },
      {
        updateOne: {
          filter: { a: 1 },
          update: { $set: { 'x.$[i]': 1 } },
          upsert: false,
          arrayFilters: [{ i: 0 }],
          collation: { locale: 'en' },
          hint: 'a_1',
          sort: { a: 1 }
        }
      },
      { updateMany: { filter: {}, update: [{ $set: { b: 1 } }], hint: { b: 1 } } },
      { replaceOne: { filter: { a: 1 }, replacement: { a: 2 }, sort: ['a', -1] } },
      { deleteOne: { filter: { a: 1 }, collation: { locale: 'fr' }, hint: 'h' } }
    ]);
    const insert = f.sent('insert')[0].body;
    expect(Object.keys(insert.documents[0])).toEqual(['_id', 'a']);
    expect(f.sent('update')[0].body.updates).toEqual([
      { q: { a: 1 }, u: { $set: { 'x.$[i]': 1 } }, upsert: false, hint: 'a_1', arrayFilters: [{ i: 0 }], collation: { locale: 'en' }, sort: { a: 1 } },
      { q: {}, u: [{ $set: { b: 1 } }], multi: true, hint: { b: 1 } },
      { q: { a: 1 }, u: { a: 2 }, sort: { a: -1 } }
    ]);
    expect(f.sent('update')[0].body.txnNumber).toBeUndefined();
    expect(f.sent('delete')[0].body.deletes).toEqual([{ q: { a: 1 }, limit: 1, collation: { locale: 'fr' }, hint: 'h' }]);
  });
});
