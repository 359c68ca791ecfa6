/**
 * End-to-end against a real mongod (replica set): skipped, with the reason, when none can be had.
 * See test/tools/jest_global_setup.ts for how the deployment is found.
 */
import { Readable } from 'node:stream';
import { GridFSBucket, MongoClient, MongoServerError, type ChangeStreamDocument } from '../../src';
import { runTutorial } from '../../examples/tutorial';
import { describeWithServer } from '../tools/integration';

describeWithServer('against a real deployment', (uri) => {
  const dbName = `mongowire_it_${process.pid}`;
  let client: MongoClient;

  beforeAll(async () => {
    client = new MongoClient(uri);
    await client.connect();
  });
  afterAll(async () => {
    await client.db(dbName).dropDatabase().catch(() => undefined);
    await client.close();
  });

  test('the tutorial runs and reports consistent counts', async () => {
    const lines: string[] = [];
    await runTutorial(uri, (line) => lines.push(line));
    expect(lines).toContain('insertMany: 2000 documents');
    expect(lines).toContain('countDocuments({}): 2001');
  });

  test('CRUD round trip, duplicate key detection, cursor iteration across batches', async () => {
    const coll = client.db(dbName).collection<{ _id?: number; n: number }>('crud');
    await coll.insertMany(Array.from({ length: 250 }, (_, i) => ({ _id: i, n: i })));
    const err = await coll.insertOne({ _id: 1, n: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
    let seen = 0;
    for await (const doc of coll.find({}, { batchSize: 7 }).sort({ _id: 1 })) {
      expect(doc.n).toBe(seen);
      seen++;
    }
    expect(seen).toBe(250);
    expect((await coll.updateMany({ n: { $lt: 10 } }, { $inc: { n: 1000 } })).modifiedCount).toBe(10);
    expect((await coll.deleteMany({ n: { $gte: 1000 } })).deletedCount).toBe(10);
    expect(await coll.countDocuments()).toBe(240);
  });

  test('a transaction commits atomically and an aborted one leaves nothing', async () => {
    const coll = client.db(dbName).collection<{ k: string }>('txn');
    await coll.insertOne({ k: 'setup' });
    const session = client.startSession();
    try {
      await session.withTransaction(async () => {
        await coll.insertOne({ k: 'a' }, { session });
        await coll.insertOne({ k: 'b' }, { session });
      });
      session.startTransaction();
      await coll.insertOne({ k: 'never' }, { session });
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    expect((await coll.find({}).toArray()).map((d) => d.k).sort()).toEqual(['a', 'b', 'setup']);
  });

  test('a change stream sees an insert', async () => {
    const coll = client.db(dbName).collection<{ v: number }>('stream');
    await coll.insertOne({ v: 0 });
    const stream = coll.watch([], { maxAwaitTimeMS: 200 });
    try {
      await stream.tryNext();
      await coll.insertOne({ v: 42 });
      let change: ChangeStreamDocument<{ v: number }> | null = null;
      for (let i = 0; i < 50 && !change; i++) change = await stream.tryNext();
      expect(change?.operationType).toBe('insert');
      expect(change && 'fullDocument' in change ? change.fullDocument?.v : undefined).toBe(42);
    } finally {
      await stream.close();
    }
  });

  test('GridFS upload and download round trip', async () => {
    const bucket = new GridFSBucket(client.db(dbName), { chunkSizeBytes: 1024 });
    const data = Buffer.alloc(10_000, 7);
    const upload = bucket.openUploadStream('blob.bin');
    await new Promise<void>((resolve, reject) => Readable.from([data]).pipe(upload).on('finish', resolve).on('error', reject));
    const chunks: Buffer[] = [];
    for await (const chunk of bucket.openDownloadStreamByName('blob.bin')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });
});
