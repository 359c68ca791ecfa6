/**
 * Writes serialize each statement once (bulk preparation, or the first attempt of a single
 * write) and send those bytes: what the server receives, what command monitoring shows and how
 * errors surface must not depend on it.
 */
import { ObjectId, type Document } from 'bson';
import type { CommandFailedEvent, CommandStartedEvent } from '../../src/command_monitoring';
import { MongoBulkWriteError } from '../../src/errors';
import { MongoClient } from '../../src/mongo_client';
import { prepareDocumentForInsert } from '../../src/operations/insert';
import { startWriteFixture, type TestDoc, type WriteFixture } from './helpers';

describe('prepareDocumentForInsert', () => {
  test('a generated _id is the first key of the sent copy and is set on the caller’s document', () => {
    const doc: Document = { a: 1, b: { c: 2 } };
    const sent = prepareDocumentForInsert(doc);
    expect(Object.keys(sent)).toEqual(['_id', 'a', 'b']);
    expect(sent._id).toBeInstanceOf(ObjectId);
    expect(doc._id).toBe(sent._id);
    expect(sent).not.toBe(doc);
  });

  test('a frozen document with `_id: null` gets a new _id in the copy', () => {
    const doc = Object.freeze({ _id: null, a: 1 });
    const sent = prepareDocumentForInsert(doc as Document);
    expect(sent._id).toBeInstanceOf(ObjectId);
    expect(Object.keys(sent)).toEqual(['_id', 'a']);
    expect(doc._id).toBeNull();
  });

  test('an own `__proto__` key is copied as a key, not as the prototype', () => {
    const doc = JSON.parse('{"__proto__": {"x": 1}, "a": 1}') as Document;
    const sent = prepareDocumentForInsert(doc);
    expect(Object.getPrototypeOf(sent)).toBe(Object.prototype);
    expect(Object.keys(sent)).toEqual(['_id', '__proto__', 'a']);
  });

  test('a document with an _id is sent as is', () => {
    const doc = { _id: 5, a: 1 };
    expect(prepareDocumentForInsert(doc)).toBe(doc);
  });
});

describe('serialized-once writes on the wire', () => {
  let f: WriteFixture;
  let monitored: MongoClient | undefined;
  afterEach(async () => {
    await monitored?.close();
    monitored = undefined;
    await f.close();
  });
  const coll = () => (monitored ?? f.client).db('app').collection<TestDoc>('items');
  const startMonitored = async (): Promise<void> => {
    f = await startWriteFixture();
    monitored = new MongoClient(`mongodb://${f.server.address}/?directConnection=true`, { monitorCommands: true });
    await monitored.connect();
  };

  test('insertMany sends every document (undefined fields dropped, _id first) across batches', async () => {
    f = await startWriteFixture({ helloExtra: { maxWriteBatchSize: 4 } });
    const docs: TestDoc[] = Array.from({ length: 10 }, (_, i) => ({ n: i, skip: undefined, s: 'é'.repeat(i * 50) }));
    const result = await coll().insertMany(docs);
    const sent = f.sent('insert').flatMap((c) => c.body.documents as Document[]);
    expect(f.sent('insert').map((c) => (c.body.documents as Document[]).length)).toEqual([4, 4, 2]);
    expect(sent.map((d) => Object.keys(d))).toEqual(docs.map(() => ['_id', 'n', 's']));
    expect(sent.map((d) => d.s)).toEqual(docs.map((d) => d.s));
    expect(sent.map((d) => String(d._id))).toEqual(docs.map((d) => String(d._id)));
    expect(Object.values(result.insertedIds).map(String)).toEqual(docs.map((d) => String(d._id)));
  });

  test('an unordered bulk sends its non-adjacent inserts together, and a retried batch sends the same bytes', async () => {
    f = await startWriteFixture();
    let inserts = 0;
    f.server.setHandler('insert', (r) => (++inserts === 1 ? { ok: 0, code: 91, errmsg: 'shutting down', errorLabels: ['RetryableWriteError'] } : { ok: 1, n: r.body.documents.length }));
    await coll().bulkWrite(
      [{ insertOne: { document: { _id: 1, a: 'x' } } }, { deleteOne: { filter: { a: 1 } } }, { insertOne: { document: { _id: 2, b: [1, 2] } } }],
      { ordered: false }
    );
    const attempts = f.sent('insert');
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) expect(attempt.body.documents).toEqual([{ _id: 1, a: 'x' }, { _id: 2, b: [1, 2] }]);
    expect(f.sent('delete')[0].body.deletes).toEqual([{ q: { a: 1 }, limit: 1 }]);
  });

  test('command monitoring shows the documents of a pre-serialized sequence', async () => {
    await startMonitored();
    const started: CommandStartedEvent[] = [];
    monitored!.on('commandStarted', (e) => started.push(e));
    await coll().insertMany([{ _id: 1, a: 1 }, { _id: 2 }]);
    await coll().insertOne({ _id: 3, z: true });
    const inserts = started.filter((e) => e.commandName === 'insert');
    expect(inserts.map((e) => e.command.documents)).toEqual([[{ _id: 1, a: 1 }, { _id: 2 }], [{ _id: 3, z: true }]]);
  });

  test('generated _ids: monitoring and write errors show the statement with _id first; the caller’s documents get the _id', async () => {
    await startMonitored();
    const started: CommandStartedEvent[] = [];
    monitored!.on('commandStarted', (e) => started.push(e));
    f.server.setHandler('insert', { ok: 1, n: 1, writeErrors: [{ index: 1, code: 11000, errmsg: 'duplicate key' }] });
    const docs: TestDoc[] = [{ a: 1 }, { b: 2, nested: { c: [1, 'x'] } }, Object.freeze({ _id: null, c: 3 }) as unknown as TestDoc];
    const error = (await coll()
      .insertMany(docs, { ordered: false })
      .catch((e: unknown) => e)) as MongoBulkWriteError;
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    const sent = started.find((e) => e.commandName === 'insert')!.command.documents as Document[];
    expect(sent.map((d) => Object.keys(d))).toEqual([['_id', 'a'], ['_id', 'b', 'nested'], ['_id', 'c']]);
    expect(sent[0]._id).toBe(docs[0]._id);
    expect(sent[2]._id).toBeInstanceOf(ObjectId);
    expect(docs[2]._id).toBeNull(); // frozen: not modified
    const op = error.writeErrors[0].getOperation()!;
    expect(Object.keys(op)).toEqual(['_id', 'b', 'nested']);
    expect(op._id).toBe(docs[1]._id);
    expect(f.sent('insert')[0].body.documents).toEqual(sent);
  });

  test('a statement bson cannot serialize fails its command as before: started and failed events, nothing sent', async () => {
    await startMonitored();
    const started: CommandStartedEvent[] = [];
    const failed: CommandFailedEvent[] = [];
    monitored!.on('commandStarted', (e) => started.push(e));
    monitored!.on('commandFailed', (e) => failed.push(e));
    await expect(coll().insertOne({ _id: 1, 'bad\0key': 1 })).rejects.toThrow(/null bytes/);
    const error = await coll()
      .insertMany([{ _id: 2 }, { _id: 3, 'bad\0key': 1 }])
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(MongoBulkWriteError);
    expect((error as Error).message).toMatch(/null bytes/);
    expect(started.map((e) => e.commandName)).toEqual(['insert', 'insert']);
    expect(failed.map((e) => e.commandName)).toEqual(['insert', 'insert']);
    expect(f.sent('insert')).toHaveLength(0);
  });
});
