/**
 * The deprecated `Collection.count(filter, options)` (crud.md "Count API Details"): the `count`
 * command with `query` and the CountOptions (skip, limit, hint, collation, maxTimeMS, comment,
 * rawData on 8.2+), a retryable read with the collection's read concern and read preference.
 * Compared with the official driver on the same mock.
 */
import { Long, type Document } from 'bson';
import { MongoClient as OfficialClient } from 'mongodb';
import { MongoClient } from '../../src/mongo_client';
import { MiniMongod } from '../tools/mini_mongod';
import { errorReply, MockServer } from '../tools/mock_server';

const SEED: Document[] = Array.from({ length: 6 }, (_, i) => ({ _id: i + 1, x: i % 2 }));

let mini: MiniMongod;
let client: MongoClient;

beforeEach(async () => {
  mini = await MiniMongod.start({ type: 'standalone' });
  mini.seed('db', 'coll', SEED);
  client = new MongoClient(mini.uri);
  await client.connect();
});

afterEach(async () => {
  await client.close();
  await mini.close();
});

const counts = () => mini.server.commands('count');
const coll = () => client.db('db').collection('coll');

it('counts the matching documents with the count command', async () => {
  expect(await coll().count({ x: 1 })).toBe(3);
  expect(await coll().count()).toBe(6);
  expect(counts().map((c) => c.body)).toMatchObject([
    { count: 'coll', query: { x: 1 } },
    { count: 'coll', query: {} }
  ]);
});

it('sends skip, limit, hint, collation, maxTimeMS and comment', async () => {
  const n = await coll().count({}, { skip: 1, limit: 3, hint: { _id: 1 }, collation: { locale: 'en_US', strength: 2 }, maxTimeMS: 500, comment: 'c' });
  expect(n).toBe(3);
  const body = counts()[0].body;
  expect(body).toMatchObject({ count: 'coll', query: {}, skip: 1, limit: 3, hint: { _id: 1 }, collation: { locale: 'en_US', strength: 2 }, maxTimeMS: 500, comment: 'c' });
  expect(body).not.toHaveProperty('rawData');
});

it('applies the collection read concern', async () => {
  await client.db('db').collection('coll', { readConcern: { level: 'majority' } }).count({});
  expect(counts()[0].body.readConcern).toEqual({ level: 'majority' });
});

it('is retried once after a retryable error (retryable read)', async () => {
  let failures = 1;
  const server = mini.server;
  server.setHandler('count', () => (failures-- > 0 ? errorReply(6, 'host unreachable', { codeName: 'HostUnreachable' }) : { n: 4, ok: 1 }));
  expect(await coll().count({})).toBe(4);
  expect(server.commands('count')).toHaveLength(2);
});

it('rawData is sent to 8.2+ servers only', async () => {
  const server = await MockServer.start({ type: 'standalone', maxWireVersion: 27, handlers: { count: { n: Long.fromNumber(2), ok: 1 } } });
  const c = new MongoClient(`mongodb://${server.address}/?directConnection=true`);
  try {
    expect(await c.db('db').collection('coll').count({}, { rawData: true })).toBe(2);
    expect(server.commands('count')[0].body.rawData).toBe(true);
  } finally {
    await c.close();
    await server.close();
  }
  await coll().count({}, { rawData: true });
  expect(counts()[0].body).not.toHaveProperty('rawData');
});

it('sends the same count commands as the official driver', async () => {
  const calls = async (c: { db(name: string): { collection(name: string): { count(f?: Document, o?: Document): Promise<number> } } }) => {
    const col = c.db('db').collection('coll');
    return [await col.count(), await col.count({ x: 0 }, { skip: 1, limit: 1, hint: 'x_1', maxTimeMS: 100 }), await col.count({}, { collation: { locale: 'fr' } })];
  };
  const strip = (body: Document): Document => {
    const { lsid: _lsid, $clusterTime: _ct, $db, ...rest } = body;
    return { $db, ...rest };
  };
  const ours = await calls(client);
  const oursSent = counts().map((c) => strip(c.body));
  mini.server.clearRecords();
  const official = new OfficialClient(mini.uri);
  try {
    const theirs = await calls(official as never);
    expect(ours).toEqual(theirs);
  } finally {
    await official.close();
  }
  expect(oursSent).toEqual(counts().map((c) => strip(c.body)));
});
