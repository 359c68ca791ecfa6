/**
 * Find cursors keep batches as BSON and decode one document at a time (a performance fix for
 * large cursors). These tests pin the behaviour that must not change: the documents handed out,
 * the buffered documents, and what command monitoring reports.
 */
import { Long, ObjectId, type Document } from 'bson';
import { MongoClient } from '../../src/mongo_client';
import type { CommandSucceededEvent } from '../../src/command_monitoring';
import { MockServer } from '../tools/mock_server';

const docs = Array.from({ length: 5 }, (_, i) => ({ _id: new ObjectId(), i, name: `doc ${i}`, nested: { tags: ['a', i] }, big: Long.fromNumber(2 ** 40 + i) }));

let server: MockServer;
let client: MongoClient;

async function start(monitorCommands: boolean): Promise<void> {
  server = await MockServer.start({
    helloExtra: { logicalSessionTimeoutMinutes: 30 },
    handlers: {
      find: { cursor: { firstBatch: docs.slice(0, 3), id: Long.fromNumber(42), ns: 'db.coll' }, ok: 1 },
      getMore: { cursor: { nextBatch: docs.slice(3), id: Long.ZERO, ns: 'db.coll' }, ok: 1 }
    }
  });
  client = new MongoClient(`mongodb://${server.address}/?directConnection=true`, { monitorCommands });
}

afterEach(async () => {
  await client?.close();
  await server?.close();
});

/** JSON form; Int64 values compare as numbers (the default promoteLongs decoding, as before lazy decoding). */
function plain(doc: Document): Document {
  return JSON.parse(JSON.stringify(doc, (_k, v: unknown) => (v && typeof v === 'object' && 'high' in v && 'low' in v ? Number(Long.fromValue(v as Long)) : v))) as Document;
}

test('for await hands out decoded documents across batches', async () => {
  await start(false);
  const seen: Document[] = [];
  for await (const doc of client.db('db').collection('coll').find({})) seen.push(doc);
  expect(seen.map(plain)).toEqual(docs.map(plain));
  expect(seen[0]._id).toBeInstanceOf(ObjectId);
  expect(Buffer.isBuffer(seen[0])).toBe(false);
  expect(server.commands('getMore')).toHaveLength(1);
});

test('next, readBufferedDocuments and toArray return decoded documents', async () => {
  await start(false);
  const cursor = client.db('db').collection('coll').find({});
  const first = await cursor.next();
  expect(plain(first as Document)).toEqual(plain(docs[0]));
  const buffered = cursor.readBufferedDocuments();
  expect(buffered.map(plain)).toEqual(docs.slice(1, 3).map(plain));
  expect((await cursor.toArray()).map(plain)).toEqual(docs.slice(3).map(plain));
  expect((await client.db('db').collection('coll').find({}).toArray()).map(plain)).toEqual(docs.map(plain));
});

test('command monitoring reports the decoded batches', async () => {
  await start(true);
  const replies: Document[] = [];
  client.on('commandSucceeded', (e: CommandSucceededEvent) => replies.push(e.reply as Document));
  const seen: Document[] = [];
  for await (const doc of client.db('db').collection('coll').find({})) seen.push(doc);
  expect(seen).toHaveLength(5);
  const find = replies.find((r) => (r.cursor as Document | undefined)?.firstBatch) as Document;
  const getMore = replies.find((r) => (r.cursor as Document | undefined)?.nextBatch) as Document;
  expect(find.cursor.firstBatch.map(plain)).toEqual(docs.slice(0, 3).map(plain));
  expect(Buffer.isBuffer(find.cursor.firstBatch[0])).toBe(false);
  expect(getMore.cursor.nextBatch.map(plain)).toEqual(docs.slice(3).map(plain));
});
