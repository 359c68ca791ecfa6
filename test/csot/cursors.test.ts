/**
 * CSOT for cursors (client-side-operations-timeout.md "Cursors"), over the mock server: which
 * commands carry maxTimeMS, which deadline each getMore runs under (cursorLifetime vs iteration,
 * tailable and tailable awaitData cursors), close() with a fresh timeout, validation errors, and
 * MongoOperationTimeoutError on expiry.
 */
import type { Document } from 'bson';
import { MongoInvalidArgumentError, MongoOperationTimeoutError } from '../../src/errors';
import type { AnyBulkWriteOperation } from '../../src/mongo_types';
import { TimeoutMode } from '../../src/timeout';
import { cursorReply, rejectionOf, script, sleep, startDeployment, type MockDeployment } from './mock_helpers';

let d: MockDeployment;

/** A collection of `total` documents served `batchSize` at a time by find/aggregate/getMore (cursor id 42). */
function serveDocuments(total: number, batchSize: number): void {
  const docs = Array.from({ length: total }, (_, i) => ({ _id: i + 1 }));
  let position = 0;
  const next = () => {
    const batch = docs.slice(position, position + batchSize);
    position += batch.length;
    return { batch, id: position < docs.length ? 42 : 0 };
  };
  for (const name of ['find', 'aggregate', 'getMore']) {
    script(d, name, (r) => {
      if (name !== 'getMore') position = 0;
      const { batch, id } = next();
      return cursorReply(r, batch, id);
    });
  }
}

/** A tailable cursor: find returns `first`, every getMore an empty batch (the cursor stays open). */
function serveTailable(first: Document[]): void {
  script(d, 'find', (r) => cursorReply(r, first, 42));
  script(d, 'getMore', (r) => cursorReply(r, [], 42));
}

const coll = () => d.client.db('test').collection('coll');

afterEach(async () => {
  await d?.close();
});

describe('non-tailable cursors', () => {
  beforeEach(async () => {
    d = await startDeployment();
  });

  test('cursorLifetime (default): maxTimeMS on find only; find and getMores share one deadline', async () => {
    serveDocuments(4, 2);
    d.delays.find = [250];
    d.delays.getMore = [250];
    const error = await rejectionOf(coll().find({}, { timeoutMS: 400, batchSize: 2 }).toArray());
    expect(error).toBeInstanceOf(MongoOperationTimeoutError);
    const [find] = d.sent('find');
    expect(find.maxTimeMS).toBeGreaterThan(250);
    expect(find.maxTimeMS).toBeLessThanOrEqual(400);
    const getMores = d.sent('getMore');
    expect(getMores).toHaveLength(1);
    expect(getMores[0].maxTimeMS).toBeUndefined();
  });

  test('cursorLifetime: the same deadline covers the whole toArray() when each part fits', async () => {
    serveDocuments(6, 2);
    d.delays.getMore = [30, 30];
    const docs = await coll().find({}, { timeoutMS: 1000, batchSize: 2, timeoutMode: TimeoutMode.cursorLifetime }).toArray();
    expect(docs.map((doc) => doc._id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(d.sent('getMore').map((c) => c.maxTimeMS)).toEqual([undefined, undefined]);
  });

  test('iteration: no maxTimeMS on find or getMore; each batch of toArray() gets a fresh deadline', async () => {
    serveDocuments(4, 2);
    d.delays.find = [250];
    d.delays.getMore = [250];
    const docs = await coll().find({}, { timeoutMS: 400, batchSize: 2, timeoutMode: TimeoutMode.iteration }).toArray();
    expect(docs).toHaveLength(4);
    expect(d.sent('find')[0].maxTimeMS).toBeUndefined();
    expect(d.sent('getMore')[0].maxTimeMS).toBeUndefined();
  });

  test('iteration: a getMore slower than timeoutMS fails the next() that needed it', async () => {
    serveDocuments(4, 2);
    d.delays.getMore = [400];
    const cursor = coll().find({}, { timeoutMS: 200, batchSize: 2, timeoutMode: 'iteration' });
    await cursor.next();
    await cursor.next();
    await expect(cursor.next()).rejects.toBeInstanceOf(MongoOperationTimeoutError);
  });

  test('cursorLifetime: buffered documents are returned after the deadline; only a getMore fails', async () => {
    serveDocuments(4, 2);
    const cursor = coll().find({}, { timeoutMS: 100, batchSize: 2 });
    expect(await cursor.next()).toEqual({ _id: 1 });
    await sleep(150);
    expect(await cursor.next()).toEqual({ _id: 2 });
    await expect(cursor.next()).rejects.toBeInstanceOf(MongoOperationTimeoutError);
    // The deadline had passed: the getMore was never sent, but the server cursor was killed.
    expect(d.sent('getMore')).toHaveLength(0);
    expect(d.sent('killCursors')).toHaveLength(1);
  });

  test('aggregate and list cursors: maxTimeMS on the initial command under cursorLifetime', async () => {
    serveDocuments(1, 1);
    script(d, 'listIndexes', (r) => cursorReply(r, [{ v: 2, key: { _id: 1 }, name: '_id_' }], 0));
    script(d, 'listCollections', (r) => cursorReply(r, [], 0));
    await coll().aggregate([], { timeoutMS: 500 }).toArray();
    await coll().listIndexes({ timeoutMS: 500 }).toArray();
    await d.client.db('test').listCollections({}, { timeoutMS: 500 }).toArray();
    for (const name of ['aggregate', 'listIndexes', 'listCollections']) {
      const [command] = d.sent(name);
      expect(command.maxTimeMS).toBeGreaterThan(0);
      expect(command.maxTimeMS).toBeLessThanOrEqual(500);
    }
    await coll().aggregate([], { timeoutMS: 500, timeoutMode: 'iteration' }).toArray();
    expect(d.sent('aggregate')[1].maxTimeMS).toBeUndefined();
  });

  test('timeoutMS inherited from the client applies to cursors; without it no maxTimeMS is sent', async () => {
    serveDocuments(4, 2);
    await coll().find({}, { batchSize: 2 }).toArray();
    expect([...d.sent('find'), ...d.sent('getMore')].map((c) => c.maxTimeMS)).toEqual([undefined, undefined]);
    await d.close();
    d = await startDeployment('&timeoutMS=700');
    serveDocuments(4, 2);
    await coll().find({}, { batchSize: 2 }).toArray();
    expect(d.sent('find')[0].maxTimeMS).toBeLessThanOrEqual(700);
    expect(d.sent('getMore')[0].maxTimeMS).toBeUndefined();
  });

  test('a MaxTimeMSExpired reply to getMore becomes MongoOperationTimeoutError', async () => {
    serveDocuments(4, 2);
    script(d, 'getMore', () => ({ ok: 0, code: 50, codeName: 'MaxTimeMSExpired', errmsg: 'operation exceeded time limit' }));
    const error = await rejectionOf(coll().find({}, { timeoutMS: 1000, batchSize: 2 }).toArray());
    expect(error).toBeInstanceOf(MongoOperationTimeoutError);
  });
});

describe('close() and killCursors', () => {
  beforeEach(async () => {
    d = await startDeployment();
    serveDocuments(4, 2);
  });

  test('killCursors gets a fresh timeoutMS even after the cursor lifetime expired', async () => {
    const cursor = coll().find({}, { timeoutMS: 200, batchSize: 2 });
    await cursor.next();
    await sleep(250);
    await cursor.close();
    const [kill] = d.sent('killCursors');
    expect(kill.maxTimeMS).toBeGreaterThan(100);
    expect(kill.maxTimeMS).toBeLessThanOrEqual(200);
  });

  test('close({ timeoutMS }) overrides the cursor timeout for killCursors', async () => {
    const cursor = coll().find({}, { timeoutMS: 200, batchSize: 2 });
    await cursor.next();
    await cursor.close({ timeoutMS: 5000 });
    expect(d.sent('killCursors')[0].maxTimeMS).toBeGreaterThan(4000);
  });

  test('after a getMore timeout the server cursor is killed under a fresh timeout', async () => {
    d.delays.getMore = [300];
    const cursor = coll().find({}, { timeoutMS: 200, batchSize: 2 });
    await cursor.next();
    await cursor.next();
    await expect(cursor.next()).rejects.toBeInstanceOf(MongoOperationTimeoutError);
    await cursor.close();
    const kills = d.sent('killCursors');
    expect(kills).toHaveLength(1);
    expect(kills[0].maxTimeMS).toBeGreaterThan(100);
  });

  test('without timeoutMS, killCursors carries no maxTimeMS', async () => {
    const cursor = coll().find({}, { batchSize: 2 });
    await cursor.next();
    await cursor.close();
    expect(d.sent('killCursors')[0].maxTimeMS).toBeUndefined();
  });
});

describe('tailable cursors', () => {
  beforeEach(async () => {
    d = await startDeployment();
  });

  test('non-awaitData: no maxTimeMS anywhere; each next() gets its own deadline', async () => {
    serveTailable([{ _id: 1 }]);
    let calls = 0;
    script(d, 'getMore', (r) => cursorReply(r, calls++ === 0 ? [{ _id: 2 }] : [], 42));
    d.delays.find = [150];
    d.delays.getMore = [150];
    const cursor = coll().find({}, { tailable: true, timeoutMS: 250, batchSize: 1 });
    expect(await cursor.next()).toEqual({ _id: 1 });
    expect(await cursor.next()).toEqual({ _id: 2 });
    expect(d.sent('find')[0].maxTimeMS).toBeUndefined();
    expect(d.sent('getMore')[0].maxTimeMS).toBeUndefined();
    await cursor.close();
  });

  test('next() on an empty tailable cursor: all its getMores share one deadline, then it times out', async () => {
    serveTailable([{ _id: 1 }]);
    d.delays.getMore = [60, 60, 60, 60, 60, 60];
    const cursor = coll().find({}, { tailable: true, timeoutMS: 150 });
    await cursor.next();
    const started = Date.now();
    await expect(cursor.next()).rejects.toBeInstanceOf(MongoOperationTimeoutError);
    expect(Date.now() - started).toBeLessThan(600);
    const getMores = d.sent('getMore');
    expect(getMores.length).toBeGreaterThanOrEqual(2);
    expect(getMores.every((c) => c.maxTimeMS === undefined)).toBe(true);
    await cursor.close();
  });

  test('awaitData: maxTimeMS on find; none on getMore without maxAwaitTimeMS', async () => {
    serveTailable([{ _id: 1 }]);
    const cursor = coll().find({}, { tailable: true, awaitData: true, timeoutMS: 500 });
    await cursor.next();
    await cursor.tryNext();
    expect(d.sent('find')[0].maxTimeMS).toBeLessThanOrEqual(500);
    expect(d.sent('getMore')[0].maxTimeMS).toBeUndefined();
    await cursor.close();
  });

  test('awaitData: getMore maxTimeMS = min(maxAwaitTimeMS, remaining − minRTT)', async () => {
    serveTailable([{ _id: 1 }]);
    d.delays.getMore = [100, 100, 100, 100];
    const cursor = coll().find({}, { tailable: true, awaitData: true, timeoutMS: 300, maxAwaitTimeMS: 250 });
    await cursor.next();
    // getMores of one next() share its deadline: 250 first, then what is left (~200), …
    await expect(cursor.next()).rejects.toBeInstanceOf(MongoOperationTimeoutError);
    const [first, second] = d.sent('getMore').map((c) => c.maxTimeMS as number);
    expect(first).toBe(250);
    expect(second).toBeLessThan(220);
    expect(second).toBeGreaterThan(100);
    await cursor.close();
  });

  test('awaitData without timeoutMS: getMore maxTimeMS is maxAwaitTimeMS', async () => {
    serveTailable([{ _id: 1 }]);
    const cursor = coll().find({}, { tailable: true, awaitData: true, maxAwaitTimeMS: 70 });
    await cursor.next();
    await cursor.tryNext();
    expect(d.sent('find')[0].maxTimeMS).toBeUndefined();
    expect(d.sent('getMore')[0].maxTimeMS).toBe(70);
    await cursor.close();
  });
});

describe('validation (client errors, nothing sent)', () => {
  beforeEach(async () => {
    d = await startDeployment();
  });

  test('timeoutMode requires timeoutMS (find, aggregate, listCollections, listIndexes)', async () => {
    const db = d.client.db('test');
    expect(() => coll().find({}, { timeoutMode: 'cursorLifetime' })).toThrow(MongoInvalidArgumentError);
    expect(() => coll().aggregate([], { timeoutMode: 'cursorLifetime' })).toThrow(MongoInvalidArgumentError);
    expect(() => db.aggregate([], { timeoutMode: 'iteration' })).toThrow(MongoInvalidArgumentError);
    expect(() => db.listCollections({}, { timeoutMode: 'cursorLifetime' })).toThrow(MongoInvalidArgumentError);
    expect(() => coll().listIndexes({ timeoutMode: 'cursorLifetime' })).toThrow(MongoInvalidArgumentError);
    expect(d.server.nonHelloCommands()).toHaveLength(0);
  });

  test('tailable cursors reject cursorLifetime (also when made tailable through addCursorFlag)', async () => {
    expect(() => coll().find({}, { tailable: true, timeoutMS: 100, timeoutMode: 'cursorLifetime' })).toThrow(/Tailable/);
    const cursor = coll().find({}, { timeoutMS: 100, timeoutMode: 'cursorLifetime' }).addCursorFlag('tailable', true);
    await expect(cursor.next()).rejects.toBeInstanceOf(MongoInvalidArgumentError);
    expect(d.sent('find')).toHaveLength(0);
  });

  test('maxAwaitTimeMS >= timeoutMS is rejected (unless timeoutMS is 0)', async () => {
    expect(() => coll().find({}, { tailable: true, awaitData: true, timeoutMS: 5, maxAwaitTimeMS: 10 })).toThrow(MongoInvalidArgumentError);
    expect(() => coll().find({}, { tailable: true, awaitData: true, timeoutMS: 5, maxAwaitTimeMS: 5 })).toThrow(MongoInvalidArgumentError);
    expect(() => coll().aggregate([], { timeoutMS: 5, maxAwaitTimeMS: 5 })).toThrow(MongoInvalidArgumentError);
    expect(() => coll().find({}, { tailable: true, awaitData: true, timeoutMS: 0, maxAwaitTimeMS: 10 })).not.toThrow();
    expect(() => coll().find({}, { timeoutMS: -1 })).toThrow(MongoInvalidArgumentError);
  });

  test('aggregate with $out or $merge cannot use iteration mode', async () => {
    for (const stage of [{ $out: 'other' }, { $merge: 'other' }]) {
      const error = await rejectionOf(coll().aggregate([stage], { timeoutMS: 100, timeoutMode: 'iteration' }).toArray());
      expect(error).toBeInstanceOf(MongoInvalidArgumentError);
    }
    expect(d.sent('aggregate')).toHaveLength(0);
  });
});

describe('multi-batch writes (CSOT "Batching")', () => {
  beforeEach(async () => {
    d = await startDeployment();
  });

  test('the batches of one bulkWrite share one deadline', async () => {
    script(d, 'insert', (r) => ({ n: (r.body.documents as unknown[]).length, ok: 1 }));
    script(d, 'delete', () => ({ n: 1, ok: 1 }));
    d.delays.insert = [120, 120];
    d.delays.delete = [120];
    const models: AnyBulkWriteOperation<{ _id: number }>[] = [{ insertOne: { document: { _id: 1 } } }, { deleteOne: { filter: { _id: 1 } } }, { insertOne: { document: { _id: 2 } } }];
    const error = await rejectionOf(d.client.db('test').collection<{ _id: number }>('coll').bulkWrite(models, { timeoutMS: 300 }));
    expect(error).toBeInstanceOf(MongoOperationTimeoutError);
    const [first] = d.sent('insert');
    const [second] = d.sent('delete');
    expect(second.maxTimeMS as number).toBeLessThanOrEqual((first.maxTimeMS as number) - 100);
  });
});
