import { ObjectId, type Document } from 'bson';
import { MongoInvalidArgumentError, MongoServerError, MongoWriteConcernError } from '../../src/errors';
import { errorReply } from '../tools/mock_server';
import { startWriteFixture, type TestDoc, type WriteFixture } from './helpers';

describe('single-document and single-statement writes', () => {
  let f: WriteFixture;
  beforeEach(async () => {
    f = await startWriteFixture();
  });
  afterEach(async () => {
    await f.close();
  });
  const coll = () => f.client.db('app').collection<TestDoc>('items');

  test('insertOne generates an ObjectId _id as the first field and sends a documents sequence', async () => {
    const doc: Document = { a: 1 };
    const result = await coll().insertOne(doc);
    expect(result.acknowledged).toBe(true);
    expect(result.insertedId).toBeInstanceOf(ObjectId);
    expect(doc._id).toBe(result.insertedId);
    const [cmd] = f.sent('insert');
    expect(cmd.db).toBe('app');
    expect(cmd.body.insert).toBe('items');
    expect(cmd.body.ordered).toBe(true);
    expect(cmd.sequences.map((s) => s.identifier)).toEqual(['documents']);
    expect(Object.keys(cmd.body.documents[0])).toEqual(['_id', 'a']);
    expect(Number(cmd.body.txnNumber)).toBe(1);
    expect(cmd.body.lsid).toBeDefined();
  });

  test('insertOne keeps a given _id and passes options', async () => {
    await coll().insertOne({ _id: 7, a: 1 }, { bypassDocumentValidation: false, comment: 'c' });
    const body = f.sent('insert')[0].body;
    expect(body.documents).toEqual([{ _id: 7, a: 1 }]);
    expect(body.bypassDocumentValidation).toBe(false);
    expect(body.comment).toBe('c');
  });

  test('insertOne with forceServerObjectId leaves _id to the server', async () => {
    await coll().insertOne({ a: 1 }, { forceServerObjectId: true });
    expect(f.sent('insert')[0].body.documents).toEqual([{ a: 1 }]);
  });

  test('a duplicate key write error is a MongoServerError with code 11000', async () => {
    f.server.setHandler('insert', { ok: 1, n: 0, writeErrors: [{ index: 0, code: 11000, errmsg: 'E11000 duplicate key' }] });
    const error = await coll().insertOne({ _id: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(11000);
  });

  test('a write concern error is a MongoWriteConcernError', async () => {
    f.server.setHandler('insert', { ok: 1, n: 1, writeConcernError: { code: 100, errmsg: 'wc failed', errInfo: { x: 1 } } });
    const error = await coll().insertOne({ _id: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoWriteConcernError);
    expect((error as MongoWriteConcernError).code).toBe(100);
  });

  test('w: 0 insert is sent with moreToCome, without lsid, and is unacknowledged', async () => {
    const result = await coll().insertOne({ a: 1 }, { writeConcern: { w: 0 } });
    expect(result.acknowledged).toBe(false);
    const cmd = await f.server.waitForCommand('insert');
    expect(cmd.moreToCome).toBe(true);
    expect(cmd.body.writeConcern).toEqual({ w: 0 });
    expect(cmd.body.lsid).toBeUndefined();
  });

  test('collection write concern is inherited and a call option overrides it', async () => {
    const c = f.client.db('app').collection('items', { writeConcern: { w: 'majority' } });
    await c.deleteOne({ a: 1 });
    await c.deleteOne({ a: 1 }, { writeConcern: { w: 2 } });
    expect(f.sent('delete').map((r) => r.body.writeConcern)).toEqual([{ w: 'majority' }, { w: 2 }]);
  });

  test('updateOne builds the statement with every option and maps the result', async () => {
    f.server.setHandler('update', { ok: 1, n: 1, nModified: 1 });
    const result = await coll().updateOne(
      { a: 1 },
      { $set: { b: 2 } },
      { upsert: true, arrayFilters: [{ 'x.y': 1 }], collation: { locale: 'fr' }, hint: 'a_1', let: { v: 1 }, comment: 'k', sort: { a: -1 }, bypassDocumentValidation: true }
    );
    expect(result).toEqual({ acknowledged: true, matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null });
    const body = f.sent('update')[0].body;
    expect(body.updates).toEqual([
      { q: { a: 1 }, u: { $set: { b: 2 } }, upsert: true, hint: 'a_1', arrayFilters: [{ 'x.y': 1 }], collation: { locale: 'fr' }, sort: { a: -1 } }
    ]);
    expect(body.let).toEqual({ v: 1 });
    expect(body.comment).toBe('k');
    expect(body.bypassDocumentValidation).toBe(true);
    expect(body.txnNumber).toBeDefined();
  });

  test('upserts report upsertedId and matchedCount 0', async () => {
    f.server.setHandler('update', { ok: 1, n: 1, nModified: 0, upserted: [{ index: 0, _id: 42 }] });
    const result = await coll().replaceOne({ a: 1 }, { a: 2 }, { upsert: true });
    expect(result).toEqual({ acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: 42 });
  });

  test('updateMany sets multi and is not retryable (no txnNumber)', async () => {
    await coll().updateMany({}, [{ $set: { a: 1 } }]);
    const body = f.sent('update')[0].body;
    expect(body.updates[0]).toEqual({ q: {}, u: [{ $set: { a: 1 } }], multi: true });
    expect(body.txnNumber).toBeUndefined();
  });

  test('deleteOne / deleteMany send limit 1 / 0; deleteMany is not retryable', async () => {
    f.server.setHandler('delete', { ok: 1, n: 3 });
    expect(await coll().deleteOne({ a: 1 }, { hint: { a: 1 }, collation: { locale: 'en' } })).toEqual({ acknowledged: true, deletedCount: 3 });
    await coll().deleteMany({ a: 1 }, { let: { x: 1 } });
    const [one, many] = f.sent('delete');
    expect(one.body.deletes).toEqual([{ q: { a: 1 }, limit: 1, collation: { locale: 'en' }, hint: { a: 1 } }]);
    expect(one.body.txnNumber).toBeDefined();
    expect(many.body.deletes).toEqual([{ q: { a: 1 }, limit: 0 }]);
    expect(many.body.let).toEqual({ x: 1 });
    expect(many.body.txnNumber).toBeUndefined();
  });

  test('a retryable write error is retried once with the same txnNumber', async () => {
    let calls = 0;
    f.server.setHandler('update', () =>
      ++calls === 1 ? errorReply(91, 'shutting down', { errorLabels: ['RetryableWriteError'] }) : { ok: 1, n: 1, nModified: 1 }
    );
    await coll().updateOne({ a: 1 }, { $inc: { a: 1 } });
    const [first, second] = f.sent('update');
    expect(second.body.txnNumber).toEqual(first.body.txnNumber);
  });

  test('client-side validation errors are raised before anything is sent', async () => {
    await expect(coll().updateOne({ a: 1 }, { b: 1 } as never)).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    await expect(coll().updateOne({ a: 1 }, {})).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    await expect(coll().updateMany({ a: 1 }, { b: 1 } as Document)).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    await expect(coll().replaceOne({ a: 1 }, { $set: { b: 1 } })).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    await expect(coll().deleteOne(5 as unknown as Document)).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    await expect(coll().findOneAndUpdate({}, { b: 1 } as never)).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    await expect(coll().findOneAndReplace({}, { $set: { b: 1 } })).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    await expect(coll().findOneAndDelete({}, { returnDocument: 'later' } as never)).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    await expect(coll().insertOne(null as never)).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    expect(f.server.nonHelloCommands()).toEqual([]);
  });

  test('a document larger than maxBsonObjectSize fails before sending', async () => {
    await f.close();
    f = await startWriteFixture({ helloExtra: { maxBsonObjectSize: 1024 } });
    await expect(coll().insertOne({ big: 'x'.repeat(2000) })).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    expect(f.sent('insert')).toHaveLength(0);
  });

  test('findOneAndUpdate / Replace / Delete build findAndModify and return the value', async () => {
    f.server.setHandler('findAndModify', { ok: 1, value: { _id: 1, a: 2 }, lastErrorObject: { n: 1, updatedExisting: true } });
    const updated = await coll().findOneAndUpdate(
      { _id: 1 },
      { $set: { a: 2 } },
      {
        returnDocument: 'after',
        projection: { a: 1 },
        sort: [['a', -1]],
        upsert: true,
        arrayFilters: [{ i: 0 }],
        collation: { locale: 'en' },
        hint: 'a_1',
        let: { v: 1 },
        comment: 'c',
        maxTimeMS: 50,
        bypassDocumentValidation: false
      }
    );
    expect(updated).toEqual({ _id: 1, a: 2 });
    const meta = await coll().findOneAndReplace({ _id: 1 }, { a: 3 }, { includeResultMetadata: true });
    expect(meta.ok).toBe(1);
    expect(meta.value).toEqual({ _id: 1, a: 2 });
    f.server.setHandler('findAndModify', { ok: 1, lastErrorObject: { n: 0 } });
    expect(await coll().findOneAndDelete({ _id: 9 })).toBeNull();
    const [u, r, d] = f.sent('findAndModify').map((c) => c.body);
    expect(u).toMatchObject({
      findAndModify: 'items',
      query: { _id: 1 },
      update: { $set: { a: 2 } },
      new: true,
      upsert: true,
      remove: false,
      fields: { a: 1 },
      sort: { a: -1 },
      arrayFilters: [{ i: 0 }],
      collation: { locale: 'en' },
      hint: 'a_1',
      let: { v: 1 },
      comment: 'c',
      maxTimeMS: 50,
      bypassDocumentValidation: false
    });
    expect(u.txnNumber).toBeDefined();
    expect(r).toMatchObject({ update: { a: 3 }, new: false, upsert: false, remove: false });
    expect(d).toMatchObject({ remove: true, query: { _id: 9 } });
    expect(d.update).toBeUndefined();
  });

  test('findAndModify write concern errors are raised', async () => {
    f.server.setHandler('findAndModify', { ok: 1, value: null, writeConcernError: { code: 64, errmsg: 'timeout' } });
    await expect(coll().findOneAndDelete({})).rejects.toBeInstanceOf(MongoWriteConcernError);
  });
});
