/**
 * The benchmark tasks. Each task runs one timed iteration for one driver and reports how many
 * units (operations, documents or megabytes) it processed in how long; the harness turns that
 * into throughput. Untimed preparation (building documents, closing a cold client) is excluded.
 */
import { once } from 'node:events';
import type { Document } from 'bson';
import { DB_NAME, GRIDFS_BUCKET, INSERT_COLLECTION, SINGLE_COLLECTION, SINGLE_ID, corpusCollection, smallDoc } from './dataset';
import type { BucketLike, ClientLike, CollectionLike, DbLike, Driver } from './drivers';

export interface Sizes {
  /** Sequential operations per iteration (findOne, insertOne, ping). */
  ops: number;
  insertManyDocs: number;
  insertManyCalls: number;
  cursorDocs: number;
  toArrayDocs: number;
  toArrayCalls: number;
  concurrency: number;
  concurrentWaves: number;
  poolSize: number;
  gridfsBytes: number;
  coldStarts: number;
}

export const FULL_SIZES: Sizes = {
  ops: 5000,
  insertManyDocs: 10_000,
  insertManyCalls: 5,
  cursorDocs: 100_000,
  toArrayDocs: 10_000,
  toArrayCalls: 5,
  concurrency: 100,
  concurrentWaves: 50,
  poolSize: 10,
  gridfsBytes: 50 * 1024 * 1024,
  coldStarts: 20
};

export const QUICK_SIZES: Sizes = {
  ops: 20,
  insertManyDocs: 100,
  insertManyCalls: 1,
  cursorDocs: 500,
  toArrayDocs: 100,
  toArrayCalls: 1,
  concurrency: 10,
  concurrentWaves: 2,
  poolSize: 3,
  gridfsBytes: 1024 * 1024,
  coldStarts: 2
};

/** One driver connected for the benchmark. */
export interface DriverSession {
  driver: Driver;
  uri: string;
  client: ClientLike;
  /** A client with maxPoolSize = sizes.poolSize, for the concurrent task. */
  poolClient: ClientLike;
  db: DbLike;
  /** GridFS file to download (seeded or synthesized by the canned server). */
  gridfsFileId: unknown;
}

export interface Sample {
  units: number;
  ms: number;
}

export interface Task {
  name: string;
  unit: 'ops/s' | 'docs/s' | 'MB/s';
  /** Required mongowire/official throughput ratio, if any. */
  target?: number;
  /** Why the task cannot run for this driver, or null. */
  unavailable(s: DriverSession): string | null;
  run(s: DriverSession, sizes: Sizes): Promise<Sample>;
}

async function timed(units: number, fn: () => Promise<void>): Promise<Sample> {
  const start = performance.now();
  await fn();
  return { units, ms: performance.now() - start };
}

function collection(s: DriverSession, name: string, client: ClientLike = s.client): CollectionLike {
  return (client === s.client ? s.db : client.db(DB_NAME)).collection(name);
}

function missing(s: DriverSession, ...methods: Array<keyof CollectionLike>): string | null {
  const coll = collection(s, SINGLE_COLLECTION);
  const absent = methods.filter((m) => typeof coll[m] !== 'function');
  return absent.length > 0 ? `n/a (Collection.${absent.join('/')} not in ${s.driver.name})` : null;
}

function gridfsUnavailable(s: DriverSession): string | null {
  return typeof s.driver.mod.GridFSBucket === 'function' ? null : 'n/a (GridFS not available)';
}

function bucket(s: DriverSession): BucketLike {
  const Bucket = s.driver.mod.GridFSBucket;
  if (!Bucket) throw new Error('GridFSBucket missing');
  return new Bucket(s.db, { bucketName: GRIDFS_BUCKET });
}

const MB = 1e6;
const UPLOAD_PIECE = Buffer.alloc(1024 * 1024, 0x62);

export const TASKS: Task[] = [
  {
    name: 'ping (db.command)',
    unit: 'ops/s',
    unavailable: () => null,
    run: (s, z) =>
      timed(z.ops, async () => {
        for (let i = 0; i < z.ops; i++) await s.db.command({ ping: 1 });
      })
  },
  {
    name: 'findOne by _id',
    unit: 'ops/s',
    target: 2,
    unavailable: (s) => missing(s, 'findOne'),
    run: (s, z) => {
      const coll = collection(s, SINGLE_COLLECTION);
      return timed(z.ops, async () => {
        for (let i = 0; i < z.ops; i++) await coll.findOne!({ _id: SINGLE_ID });
      });
    }
  },
  {
    name: 'insertOne (small doc)',
    unit: 'ops/s',
    target: 2,
    unavailable: (s) => missing(s, 'insertOne'),
    run: (s, z) => {
      const coll = collection(s, INSERT_COLLECTION);
      const docs = Array.from({ length: z.ops }, (_, i) => smallDoc(i));
      return timed(z.ops, async () => {
        for (let i = 0; i < z.ops; i++) await coll.insertOne!(docs[i]);
      });
    }
  },
  {
    name: `insertMany`,
    unit: 'docs/s',
    target: 1,
    unavailable: (s) => missing(s, 'insertMany'),
    run: (s, z) => {
      const coll = collection(s, INSERT_COLLECTION);
      const batches = Array.from({ length: z.insertManyCalls }, () => Array.from({ length: z.insertManyDocs }, (_, i) => smallDoc(i)));
      return timed(z.insertManyCalls * z.insertManyDocs, async () => {
        for (const docs of batches) await coll.insertMany!(docs);
      });
    }
  },
  {
    name: 'findManyAndEmptyCursor',
    unit: 'docs/s',
    target: 1,
    unavailable: (s) => missing(s, 'find'),
    run: async (s, z) => {
      const coll = collection(s, corpusCollection(z.cursorDocs));
      let n = 0;
      const sample = await timed(z.cursorDocs, async () => {
        for await (const doc of coll.find!({})) if (doc) n++;
      });
      if (n !== z.cursorDocs) throw new Error(`${s.driver.name}: cursor returned ${n} documents, expected ${z.cursorDocs}`);
      return sample;
    }
  },
  {
    name: 'find().toArray()',
    unit: 'docs/s',
    target: 1,
    unavailable: (s) => missing(s, 'find'),
    run: (s, z) => {
      const coll = collection(s, corpusCollection(z.toArrayDocs));
      return timed(z.toArrayDocs * z.toArrayCalls, async () => {
        for (let i = 0; i < z.toArrayCalls; i++) {
          const docs = await coll.find!({}).toArray();
          if (docs.length !== z.toArrayDocs) throw new Error(`${s.driver.name}: toArray returned ${docs.length} documents`);
        }
      });
    }
  },
  {
    name: 'concurrent findOne',
    unit: 'ops/s',
    target: 2,
    unavailable: (s) => missing(s, 'findOne'),
    run: (s, z) => {
      const coll = collection(s, SINGLE_COLLECTION, s.poolClient);
      return timed(z.concurrency * z.concurrentWaves, async () => {
        const wave: Array<Promise<Document | null>> = new Array(z.concurrency);
        for (let w = 0; w < z.concurrentWaves; w++) {
          for (let i = 0; i < z.concurrency; i++) wave[i] = coll.findOne!({ _id: SINGLE_ID });
          await Promise.all(wave);
        }
      });
    }
  },
  {
    name: 'GridFS upload',
    unit: 'MB/s',
    target: 1,
    unavailable: gridfsUnavailable,
    run: async (s, z) => {
      const b = bucket(s);
      const start = performance.now();
      const stream = b.openUploadStream('bench.bin');
      for (let left = z.gridfsBytes; left > 0; left -= UPLOAD_PIECE.length) {
        const piece = left >= UPLOAD_PIECE.length ? UPLOAD_PIECE : UPLOAD_PIECE.subarray(0, left);
        if (!stream.write(piece)) await once(stream, 'drain');
      }
      stream.end();
      await once(stream, 'finish');
      return { units: z.gridfsBytes / MB, ms: performance.now() - start };
    }
  },
  {
    name: 'GridFS download',
    unit: 'MB/s',
    target: 1,
    unavailable: gridfsUnavailable,
    run: async (s, z) => {
      const b = bucket(s);
      const start = performance.now();
      let bytes = 0;
      for await (const chunk of b.openDownloadStream(s.gridfsFileId) as AsyncIterable<Buffer>) bytes += chunk.length;
      const ms = performance.now() - start;
      if (bytes !== z.gridfsBytes) throw new Error(`${s.driver.name}: downloaded ${bytes} bytes, expected ${z.gridfsBytes}`);
      return { units: bytes / MB, ms };
    }
  },
  {
    name: 'cold start (new client + first command)',
    unit: 'ops/s',
    unavailable: () => null,
    run: async (s, z) => {
      let ms = 0;
      for (let i = 0; i < z.coldStarts; i++) {
        const start = performance.now();
        const client = new s.driver.mod.MongoClient(s.uri);
        await client.db(DB_NAME).command({ ping: 1 });
        ms += performance.now() - start;
        await client.close();
      }
      return { units: z.coldStarts, ms };
    }
  }
];
