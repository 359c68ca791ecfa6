/**
 * Differential tests for every write API: the same calls through mongowire and through the
 * official driver against the same mock server, comparing the commands the server receives
 * (after normalising lsid, $clusterTime, txnNumber values, generated ObjectIds and key order).
 *
 * Documented deviations, where the specification and the official driver differ:
 * - `bypassDocumentValidation: false` is sent by mongowire for insertMany/bulkWrite/findOneAndX
 *   (crud unified test bypassDocumentValidation.json requires it); the official driver drops it.
 * - client.bulkWrite: mongowire sends `bypassDocumentValidation` only when given (crud/bulk-write.md);
 *   the official driver always sends `false` by default.
 * - Batch splitting: mongowire fills batches up to `maxWriteBatchSize` (server_write_commands);
 *   the official driver stops one short (`currentBatchSize + 1 >= maxWriteBatchSize`).
 */
import { Long, ObjectId, type Document } from 'bson';
import { MongoClient as OfficialClient } from 'mongodb';
import { MongoClient } from '../../src/mongo_client';
import { MockServer, type MockHandler } from '../tools/mock_server';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- both drivers accept arbitrary documents
type AnyDoc = { [key: string]: any };

/** The surface both drivers share for these scenarios. */
interface WriteClient {
  db(name: string, options?: AnyDoc): {
    collection(name: string, options?: AnyDoc): WriteCollection;
  };
  bulkWrite(models: AnyDoc[], options?: AnyDoc): Promise<unknown>;
}
interface WriteCollection {
  insertOne(doc: AnyDoc, options?: AnyDoc): Promise<unknown>;
  insertMany(docs: AnyDoc[], options?: AnyDoc): Promise<unknown>;
  updateOne(filter: AnyDoc, update: AnyDoc | AnyDoc[], options?: AnyDoc): Promise<unknown>;
  updateMany(filter: AnyDoc, update: AnyDoc | AnyDoc[], options?: AnyDoc): Promise<unknown>;
  replaceOne(filter: AnyDoc, replacement: AnyDoc, options?: AnyDoc): Promise<unknown>;
  deleteOne(filter: AnyDoc, options?: AnyDoc): Promise<unknown>;
  deleteMany(filter: AnyDoc, options?: AnyDoc): Promise<unknown>;
  findOneAndUpdate(filter: AnyDoc, update: AnyDoc | AnyDoc[], options?: AnyDoc): Promise<unknown>;
  findOneAndReplace(filter: AnyDoc, replacement: AnyDoc, options?: AnyDoc): Promise<unknown>;
  findOneAndDelete(filter: AnyDoc, options?: AnyDoc): Promise<unknown>;
  bulkWrite(models: AnyDoc[], options?: AnyDoc): Promise<unknown>;
}

type Scenario = (client: WriteClient) => Promise<unknown>;

const IGNORED_COMMANDS = new Set(['endSessions', 'hello', 'isMaster', 'ismaster', 'ping']);

/** Placeholders for values that legitimately differ between runs; sorted keys. */
function normalize(value: unknown, key = ''): unknown {
  if (key === 'lsid' || key === '$clusterTime') return '<present>';
  if (key === 'txnNumber') return '<txnNumber>';
  if (value instanceof ObjectId) return '<ObjectId>';
  if (value instanceof Long) return value.toNumber();
  if (Array.isArray(value)) return value.map((v) => normalize(v));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Document = {};
    for (const k of Object.keys(value).sort()) out[k] = normalize((value as Document)[k], k);
    return out;
  }
  return value;
}

async function recordCommands(driver: 'mongowire' | 'official', scenario: Scenario, handlers: Record<string, MockHandler>, helloExtra: Document): Promise<Document[]> {
  const server = await MockServer.start({ type: 'primary', setName: 'rs', helloExtra: { logicalSessionTimeoutMinutes: 30, ...helloExtra }, handlers });
  server.state.hosts = [server.address];
  server.state.primary = server.address;
  const uri = `mongodb://${server.address}/?directConnection=true`;
  const client = driver === 'mongowire' ? new MongoClient(uri) : new OfficialClient(uri);
  try {
    await client.connect();
    server.clearRecords();
    await scenario(client as unknown as WriteClient).catch((error: unknown) => error);
    await new Promise((r) => setTimeout(r, 50)); // let fire-and-forget (w: 0) writes land
    return server.records.filter((r) => !IGNORED_COMMANDS.has(r.commandName)).map((r) => normalize({ db: r.db, moreToCome: r.moreToCome, ...r.body }) as Document);
  } finally {
    await client.close();
    await server.close();
  }
}

/** Acknowledges every op of a client bulkWrite. */
const bulkWriteHandler: MockHandler = (r) => ({
  ok: 1,
  cursor: { id: Long.ZERO, ns: 'admin.$cmd.bulkWrite', firstBatch: (r.body.ops as Document[]).map((_, idx) => ({ ok: 1, idx, n: 1 })) },
  nErrors: 0,
  nInserted: 0,
  nUpserted: 0,
  nMatched: 0,
  nModified: 0,
  nDeleted: 0
});

async function compare(scenario: Scenario, options: { handlers?: Record<string, MockHandler>; helloExtra?: Document } = {}): Promise<Document[]> {
  const handlers = { bulkWrite: bulkWriteHandler, ...options.handlers };
  const ours = await recordCommands('mongowire', scenario, handlers, options.helloExtra ?? {});
  const theirs = await recordCommands('official', scenario, handlers, options.helloExtra ?? {});
  expect(ours).toEqual(theirs);
  expect(ours.length).toBeGreaterThan(0);
  return ours;
}

const coll = (c: WriteClient, options?: AnyDoc) => c.db('app').collection('items', options);

describe('differential: writes (mongowire vs the official driver)', () => {
  test('insertOne: generated and given _id, options', async () => {
    await compare(async (c) => {
      await coll(c).insertOne({ a: 1 });
      await coll(c).insertOne({ _id: 5, a: 1 }, { bypassDocumentValidation: true, comment: 'c' });
    });
  });

  test('insertOne with w: 0 and with an inherited write concern', async () => {
    await compare(async (c) => {
      await coll(c, { writeConcern: { w: 'majority', wtimeoutMS: 100 } }).insertOne({ _id: 1 });
      await coll(c).insertOne({ _id: 2 }, { writeConcern: { w: 0 } });
    });
  });

  test('insertMany ordered and unordered', async () => {
    await compare(async (c) => {
      await coll(c).insertMany([{ _id: 1 }, { a: 2 }]);
      await coll(c).insertMany([{ _id: 3 }], { ordered: false, comment: { k: 1 } });
    });
  });

  test('updateOne with every option', async () => {
    await compare(async (c) => {
      await coll(c).updateOne(
        { a: 1 },
        { $set: { 'b.$[x]': 1 } },
        { upsert: true, arrayFilters: [{ x: 1 }], collation: { locale: 'en' }, hint: 'a_1', let: { v: 1 }, comment: 'c', sort: { a: -1 }, bypassDocumentValidation: true }
      );
      await coll(c).updateOne({ a: 1 }, [{ $set: { b: '$a' } }], { hint: { a: 1 } });
    });
  });

  test('updateMany (not retryable) and replaceOne', async () => {
    await compare(async (c) => {
      await coll(c).updateMany({}, { $inc: { n: 1 } }, { upsert: false, let: { x: 1 }, collation: { locale: 'fr' } });
      await coll(c).replaceOne({ _id: 1 }, { a: 2 }, { upsert: true, hint: '_id_', sort: [['a', 1]], comment: 'r' });
    });
  });

  test('deleteOne and deleteMany', async () => {
    await compare(async (c) => {
      await coll(c).deleteOne({ a: 1 }, { hint: { a: 1 }, collation: { locale: 'en' }, let: { v: 2 }, comment: 'd' });
      await coll(c).deleteMany({ a: { $gt: 1 } }, { hint: 'a_1' });
      await coll(c).deleteMany({}, { writeConcern: { w: 0 } });
    });
  });

  test('findOneAndUpdate / findOneAndReplace / findOneAndDelete', async () => {
    await compare(
      async (c) => {
        await coll(c).findOneAndUpdate(
          { _id: 1 },
          { $set: { a: 1 } },
          { returnDocument: 'after', projection: { a: 1 }, sort: { a: -1 }, upsert: true, arrayFilters: [{ i: 0 }], collation: { locale: 'en' }, hint: 'a_1', let: { v: 1 }, comment: 'c', maxTimeMS: 100, bypassDocumentValidation: true }
        );
        await coll(c).findOneAndReplace({ _id: 1 }, { a: 2 }, { returnDocument: 'before', includeResultMetadata: true });
        await coll(c).findOneAndDelete({ _id: 1 }, { sort: 'a', projection: { _id: 0 } });
      },
      { handlers: { findAndModify: { ok: 1, value: { _id: 1 }, lastErrorObject: { n: 1 } } } }
    );
  });

  test('collection bulkWrite, ordered and unordered, every model', async () => {
    const models = [
      { insertOne: { document: { _id: 1 } } },
      { insertOne: { document: { a: 1 } } },
      { updateOne: { filter: { _id: 1 }, update: { $set: { a: 1 } }, upsert: true, arrayFilters: [{ i: 1 }], collation: { locale: 'en' }, hint: 'h', sort: { a: 1 } } },
      { updateMany: { filter: {}, update: [{ $set: { b: 1 } }] } },
      { replaceOne: { filter: { _id: 2 }, replacement: { a: 3 }, upsert: false } },
      { deleteOne: { filter: { _id: 1 }, hint: { _id: 1 } } },
      { deleteMany: { filter: { a: 1 }, collation: { locale: 'fr' } } },
      { insertOne: { document: { _id: 9 } } }
    ];
    await compare(async (c) => {
      await coll(c).bulkWrite(models, { let: { v: 1 }, comment: 'bulk', bypassDocumentValidation: true });
      await coll(c).bulkWrite(models, { ordered: false });
    });
  });

  test('bulkWrite: an ordered write error stops the bulk; unordered continues', async () => {
    const handlers: Record<string, MockHandler> = { insert: { ok: 1, n: 0, writeErrors: [{ index: 0, code: 11000, errmsg: 'dup' }] } };
    const models = [{ insertOne: { document: { _id: 1 } } }, { deleteOne: { filter: { _id: 1 } } }, { insertOne: { document: { _id: 2 } } }];
    const sent = await compare(
      async (c) => {
        await coll(c)
          .bulkWrite(models)
          .catch(() => undefined);
        await coll(c).bulkWrite(models, { ordered: false });
      },
      { handlers }
    );
    expect(sent.map((c) => c.insert ?? c.delete)).toEqual(['items', 'items', 'items']);
  });

  test('batch splitting: mongowire fills batches to maxWriteBatchSize, the official driver stops one short', async () => {
    const docs = () => Array.from({ length: 7 }, (_, i) => ({ _id: i }));
    const run: Scenario = (c) => coll(c).insertMany(docs());
    const ours = await recordCommands('mongowire', run, {}, { maxWriteBatchSize: 3 });
    const theirs = await recordCommands('official', run, {}, { maxWriteBatchSize: 3 });
    expect(ours.map((c) => (c.documents as Document[]).length)).toEqual([3, 3, 1]);
    expect(theirs.map((c) => (c.documents as Document[]).length)).toEqual([2, 2, 2, 1]);
    expect(ours.flatMap((c) => c.documents as Document[])).toEqual(theirs.flatMap((c) => c.documents as Document[]));
  });

  test('bypassDocumentValidation: false — mongowire sends it on every write (spec), the official driver only on single writes', async () => {
    const run: Scenario = async (c) => {
      await coll(c).insertOne({ _id: 1 }, { bypassDocumentValidation: false });
      await coll(c).insertMany([{ _id: 2 }], { bypassDocumentValidation: false });
      await coll(c).findOneAndUpdate({ _id: 1 }, { $set: { a: 1 } }, { bypassDocumentValidation: false });
    };
    const ours = await recordCommands('mongowire', run, {}, {});
    const theirs = await recordCommands('official', run, {}, {});
    expect(ours.map((c) => c.bypassDocumentValidation)).toEqual([false, false, false]);
    expect(theirs.map((c) => c.bypassDocumentValidation)).toEqual([false, undefined, undefined]);
  });

  test('client bulkWrite: ops and nsInfo across namespaces, verbose results, options', async () => {
    await compare(async (c) => {
      await c.bulkWrite(
        [
          { name: 'insertOne', namespace: 'app.a', document: { _id: 1 } },
          { name: 'insertOne', namespace: 'app.b', document: { x: 1 } },
          { name: 'updateOne', namespace: 'app.a', filter: { _id: 1 }, update: { $set: { x: 2 } }, upsert: true, arrayFilters: [{ i: 1 }], hint: 'h', collation: { locale: 'en' }, sort: { x: 1 } },
          { name: 'updateMany', namespace: 'other.c', filter: {}, update: [{ $set: { y: 1 } }] },
          { name: 'replaceOne', namespace: 'app.b', filter: { x: 1 }, replacement: { x: 3 }, sort: { x: -1 } },
          { name: 'deleteOne', namespace: 'app.a', filter: { _id: 1 }, hint: { _id: 1 } },
          { name: 'deleteMany', namespace: 'other.c', filter: {}, collation: { locale: 'fr' } }
        ],
        { verboseResults: true, let: { v: 1 }, comment: 'cbw', bypassDocumentValidation: true }
      );
      await c.bulkWrite([{ name: 'insertOne', namespace: 'app.a', document: { _id: 2 } }], {
        ordered: false,
        writeConcern: { w: 0 },
        bypassDocumentValidation: false
      });
    });
  });

  test('client bulkWrite without bypassDocumentValidation: mongowire omits it (spec), the official driver sends false', async () => {
    const run: Scenario = (c) => c.bulkWrite([{ name: 'insertOne', namespace: 'app.a', document: { _id: 1 } }]);
    const [ours] = await recordCommands('mongowire', run, { bulkWrite: bulkWriteHandler }, {});
    const [theirs] = await recordCommands('official', run, { bulkWrite: bulkWriteHandler }, {});
    expect(ours.bypassDocumentValidation).toBeUndefined();
    expect(theirs.bypassDocumentValidation).toBe(false);
    const { bypassDocumentValidation: _ignored, ...rest } = theirs;
    expect(ours).toEqual(rest);
  });
});
