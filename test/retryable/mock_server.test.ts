/**
 * Retryable writes/reads, transactions and session cleanup through MongoClient over real sockets,
 * against mock servers scripted with a failCommand-style fail point.
 */
import type { Document } from 'bson';
import { MongoErrorLabel, MongoNetworkError, MongoServerError } from '../../src/errors';
import { MongoClient } from '../../src/mongo_client';
import { FailPoint, RetryableWriteLedger } from '../tools/fail_point';
import { MockServer, type RecordedCommand } from '../tools/mock_server';

const RETRYABLE_CODES = [6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436];

function lsidHex(c: RecordedCommand): string {
  return Buffer.from((c.body.lsid.id as { buffer: Uint8Array }).buffer).toString('hex');
}

describe('retryable writes against a mock primary', () => {
  let server: MockServer;
  let client: MongoClient;
  let failPoint: FailPoint;
  let ledger: RetryableWriteLedger;

  beforeAll(async () => {
    server = await MockServer.start({ type: 'primary', setName: 'rs0' });
    ledger = new RetryableWriteLedger();
    failPoint = new FailPoint(server, { insert: ledger.handler() });
    client = new MongoClient(`mongodb://${server.address}/?directConnection=true&heartbeatFrequencyMS=500`);
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });
  beforeEach(() => {
    server.clearRecords();
    ledger.entries.length = 0;
    failPoint.off();
  });

  test.each(RETRYABLE_CODES)('error code %i with RetryableWriteError: retried exactly once, same lsid and txnNumber', async (code) => {
    failPoint.configure({ mode: { times: 1 }, data: { failCommands: ['insert'], errorCode: code, errorLabels: ['RetryableWriteError'] } });
    await client.db('app').collection('c').insertOne({ a: 1 });
    const inserts = server.commands('insert');
    expect(inserts).toHaveLength(2);
    expect(lsidHex(inserts[0])).toBe(lsidHex(inserts[1]));
    expect(String(inserts[0].body.txnNumber)).toBe(String(inserts[1].body.txnNumber));
    expect(inserts[0].body.txnNumber).toBeDefined();
  });

  test('a non-retryable error is not retried', async () => {
    failPoint.configure({ mode: { times: 1 }, data: { failCommands: ['insert'], errorCode: 2 } });
    await expect(client.db('app').collection('c').insertOne({ a: 1 })).rejects.toBeInstanceOf(MongoServerError);
    expect(server.commands('insert')).toHaveLength(1);
  });

  test('a network error after the write was applied is retried; the server applied one logical write', async () => {
    failPoint.configure({ mode: { times: 1 }, data: { failCommands: ['insert'], closeConnection: true, applyFirst: true } });
    await client.db('app').collection('c').insertOne({ a: 1 });
    const inserts = server.commands('insert');
    expect(inserts).toHaveLength(2);
    expect(String(inserts[0].body.txnNumber)).toBe(String(inserts[1].body.txnNumber));
    expect(ledger.entries).toHaveLength(1);
  });

  test('two network errors in a row: the error is returned after one retry', async () => {
    failPoint.configure({ mode: { times: 2 }, data: { failCommands: ['insert'], closeConnection: true } });
    const error = await client.db('app').collection('c').insertOne({ a: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoNetworkError);
    expect((error as MongoNetworkError).hasErrorLabel(MongoErrorLabel.RetryableWriteError)).toBe(true);
    expect(server.commands('insert')).toHaveLength(2);
  });

  test('updateMany is never retried and carries no txnNumber', async () => {
    failPoint.configure({ mode: { times: 1 }, data: { failCommands: ['update'], errorCode: 91, errorLabels: ['RetryableWriteError'] } });
    await expect(client.db('app').collection('c').updateMany({}, { $set: { a: 1 } })).rejects.toMatchObject({ code: 91 });
    const updates = server.commands('update');
    expect(updates).toHaveLength(1);
    expect(updates[0].body.txnNumber).toBeUndefined();
  });

  test('w: 0 writes carry no lsid/txnNumber', async () => {
    await client.db('app').collection('c', { writeConcern: { w: 0 } }).insertOne({ a: 1 });
    const insert = await server.waitForCommand('insert');
    expect(insert.body.lsid).toBeUndefined();
    expect(insert.body.txnNumber).toBeUndefined();
  });
});

describe('retryable reads against two mongoses', () => {
  test('a read failing on one mongos is retried on the other', async () => {
    const m1 = await MockServer.start({ type: 'mongos' });
    const m2 = await MockServer.start({ type: 'mongos' });
    const fail = { ok: 0, code: 6, errmsg: 'host unreachable' };
    m1.setHandler('find', fail);
    m2.setHandler('find', fail);
    const client = new MongoClient(`mongodb://${m1.address},${m2.address}/?heartbeatFrequencyMS=500`);
    try {
      await client.connect();
      // Only the first mongos that receives the find fails.
      let failed = false;
      const once = (server: MockServer) => (request: RecordedCommand): Document => {
        if (!failed) {
          failed = true;
          return fail;
        }
        return { ok: 1, cursor: { id: 0, ns: `app.c`, firstBatch: [{ _id: server.address }] } };
      };
      m1.setHandler('find', once(m1));
      m2.setHandler('find', once(m2));
      const doc = await client.db('app').collection('c').findOne({});
      const finds = [...m1.commands('find'), ...m2.commands('find')];
      expect(finds).toHaveLength(2);
      expect(m1.commands('find')).toHaveLength(1);
      expect(m2.commands('find')).toHaveLength(1);
      expect(doc).not.toBeNull();
    } finally {
      await client.close();
      await m1.close();
      await m2.close();
    }
  });
});

describe('transactions against a mock primary', () => {
  let server: MockServer;
  let client: MongoClient;
  let failPoint: FailPoint;

  beforeAll(async () => {
    server = await MockServer.start({ type: 'primary', setName: 'rs0' });
    failPoint = new FailPoint(server);
    client = new MongoClient(`mongodb://${server.address}/?directConnection=true&heartbeatFrequencyMS=500`);
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });
  beforeEach(() => {
    server.clearRecords();
    failPoint.off();
  });

  test('statements carry autocommit:false, startTransaction only on the first; commit after a network error is retried with w: majority', async () => {
    failPoint.configure({ mode: { times: 1 }, data: { failCommands: ['commitTransaction'], closeConnection: true } });
    const session = client.startSession();
    const coll = client.db('app').collection('c');
    await session.withTransaction(async (s) => {
      await coll.insertOne({ a: 1 }, { session: s });
      await coll.insertOne({ a: 2 }, { session: s });
    });
    await session.endSession();
    const inserts = server.commands('insert');
    expect(inserts.map((c) => c.body.autocommit)).toEqual([false, false]);
    expect(inserts.map((c) => c.body.startTransaction)).toEqual([true, undefined]);
    const commits = server.commands('commitTransaction');
    expect(commits).toHaveLength(2);
    expect(commits[0].db).toBe('admin');
    expect(commits[1].body.writeConcern).toEqual({ w: 'majority', wtimeout: 10_000 });
    expect(String(commits[1].body.txnNumber)).toBe(String(inserts[0].body.txnNumber));
  });

  test('withTransaction retries on TransientTransactionError', async () => {
    failPoint.configure({ mode: { times: 1 }, data: { failCommands: ['insert'], errorCode: 251, errorLabels: ['TransientTransactionError'] } });
    const session = client.startSession();
    let calls = 0;
    await session.withTransaction(async (s) => {
      calls++;
      await client.db('app').collection('c').insertOne({ a: 1 }, { session: s });
    });
    await session.endSession();
    expect(calls).toBe(2);
    expect(server.nonHelloCommands().map((c) => c.commandName)).toEqual(['insert', 'abortTransaction', 'insert', 'commitTransaction']);
  });
});

describe('no session leaks', () => {
  test('after a mix of operations, close() sends endSessions with every pooled session id', async () => {
    const server = await MockServer.start({ type: 'primary', setName: 'rs0' });
    const failPoint = new FailPoint(server);
    const client = new MongoClient(`mongodb://${server.address}/?directConnection=true&heartbeatFrequencyMS=500`);
    try {
      const coll = client.db('app').collection('c');
      await Promise.all([coll.insertOne({ a: 1 }), coll.insertOne({ a: 2 }), coll.findOne({}), client.db('app').command({ ping: 1 })]);
      const explicit = client.startSession();
      await coll.insertOne({ b: 1 }, { session: explicit });
      const open = client.startSession(); // never ended by the application
      await coll.findOne({}, { session: open });
      failPoint.configure({ mode: { times: 1 }, data: { failCommands: ['ping'], closeConnection: true } });
      await expect(client.db('app').command({ ping: 1 })).rejects.toBeInstanceOf(MongoNetworkError); // dirty session: discarded
      await explicit.endSession();
    } finally {
      await client.close();
    }
    const used = new Set(server.nonHelloCommands().filter((c) => c.commandName !== 'endSessions' && c.body.lsid).map(lsidHex));
    const dirty = lsidHex(server.commands('ping').slice(-1)[0]);
    const ended = server.commands('endSessions');
    expect(ended).toHaveLength(1);
    const endedIds = new Set((ended[0].body.endSessions as Array<{ id: { buffer: Uint8Array } }>).map((s) => Buffer.from(s.id.buffer).toString('hex')));
    for (const id of used) if (id !== dirty) expect(endedIds.has(id)).toBe(true);
    expect(endedIds.has(dirty)).toBe(false);
    await server.close();
  });
});
