/**
 * Load-balanced mode (load-balancers.md) against a mock mongos that answers `hello` with a
 * `serviceId`: connection pinning for cursors, change streams and transactions, the checked-out
 * connection counts the unified tests assert, per-service pool clearing, and the wait queue
 * timeout message. The mock records the connection id of every command, which is how "the same
 * connection" is checked.
 */
import { Long, ObjectId, type Document } from 'bson';
import { MongoClient } from '../../src/mongo_client';
import { MongoErrorLabel, MongoNetworkError, MongoServerError, MongoWaitQueueTimeoutError } from '../../src/errors';
import type { ConnectionClosedEvent, PoolClearedEvent } from '../../src/pool/pool_events';
import type { CommandStartedEvent } from '../../src/command_monitoring';
import { errorReply, MockAction, MockServer, type MockHandler, type RecordedCommand } from '../tools/mock_server';

const DOCS = [{ _id: 1 }, { _id: 2 }, { _id: 3 }];
const CURSOR_ID = Long.fromNumber(4242);

/** find/aggregate: with batchSize 2 the cursor stays open (getMore returns the rest), else one batch. */
function cursorHandler(request: RecordedCommand): Document {
  const name = request.commandName;
  const batchSize = (request.body.batchSize ?? (request.body.cursor as Document | undefined)?.batchSize) as number | undefined;
  const open = batchSize === 2;
  return {
    cursor: { id: open ? CURSOR_ID : Long.ZERO, ns: `${request.db}.${String(request.body[name])}`, firstBatch: open ? DOCS.slice(0, 2) : DOCS },
    ok: 1
  };
}

const getMoreRest: MockHandler = (request) => ({ cursor: { id: Long.ZERO, ns: `${request.db}.${String(request.body.collection)}`, nextBatch: DOCS.slice(2) }, ok: 1 });

let server: MockServer;
let client: MongoClient | undefined;
let checkedOut = 0;

async function startServer(handlers: Record<string, MockHandler> = {}): Promise<void> {
  server = await MockServer.start({ type: 'mongos', loadBalanced: true, handlers: { find: cursorHandler, aggregate: cursorHandler, getMore: getMoreRest, ...handlers } });
}

function connect(options = ''): MongoClient {
  checkedOut = 0;
  const c = new MongoClient(`mongodb://${server.address}/?loadBalanced=true${options}`, { monitorCommands: true });
  c.on('connectionCheckedOut', () => checkedOut++);
  c.on('connectionCheckedIn', () => checkedOut--);
  client = c;
  return c;
}

function coll(c: MongoClient = client as MongoClient) {
  return c.db('db').collection('coll');
}

/** The connection ids the mock saw for `name`, in order. */
function connectionsOf(name: string): number[] {
  return server.commands(name).map((r) => r.connectionId);
}

afterEach(async () => {
  await client?.close();
  client = undefined;
  await server?.close();
});

describe('load-balanced topology', () => {
  test('the single server is a LoadBalancer from the start, with no monitoring connection; hellos carry loadBalanced and commands report the serviceId', async () => {
    await startServer();
    const c = connect();
    const started: CommandStartedEvent[] = [];
    c.on('commandStarted', (e) => started.push(e));
    await c.connect();
    const description = c.topologyDescription;
    expect(description?.type).toBe('LoadBalanced');
    expect([...(description?.servers.values() ?? [])].map((s) => s.type)).toEqual(['LoadBalancer']);
    await coll().insertOne({ x: 1 });
    // One pooled connection, no monitor: every hello is a handshake with loadBalanced: true.
    expect(server.hellos().length).toBe(1);
    expect(server.hellos()[0].body.loadBalanced).toBe(true);
    expect(started[0].serviceId).toEqual(server.processId);
    // LoadBalancer is treated like a mongos for $readPreference.
    await coll().find({}, { readPreference: 'secondaryPreferred' }).toArray();
    expect(server.lastCommand('find')?.body.$readPreference).toEqual({ mode: 'secondaryPreferred' });
  });
});

describe('cursors pin their connection', () => {
  test('no connection stays checked out when the first batch is the whole result', async () => {
    await startServer();
    connect();
    const cursor = coll().find({});
    expect(await cursor.next()).toEqual({ _id: 1 });
    expect(checkedOut).toBe(0);
    await cursor.close();
    expect(server.commands('killCursors')).toHaveLength(0);
  });

  test('getMore runs on the connection of the find, which is checked in once the cursor is drained', async () => {
    await startServer();
    connect();
    const cursor = coll().find({}, { batchSize: 2 });
    await cursor.next();
    expect(checkedOut).toBe(1);
    await cursor.next();
    await cursor.next();
    expect(connectionsOf('getMore')).toEqual(connectionsOf('find'));
    expect(checkedOut).toBe(0);
    expect(await cursor.next()).toBeNull();
  });

  test('close() sends killCursors on the pinned connection and checks it in', async () => {
    await startServer();
    connect();
    const cursor = coll().find({}, { batchSize: 2 });
    await cursor.next();
    expect(checkedOut).toBe(1);
    await cursor.close();
    expect(connectionsOf('killCursors')).toEqual(connectionsOf('find'));
    expect(Number(server.lastCommand('killCursors')?.body.cursors[0])).toBe(CURSOR_ID.toNumber());
    expect(checkedOut).toBe(0);
  });

  test('concurrent cursors each keep their own connection; other operations use a third one', async () => {
    await startServer();
    connect();
    const a = coll().find({}, { batchSize: 2 });
    const b = coll().find({}, { batchSize: 2 });
    await a.next();
    await b.next();
    expect(checkedOut).toBe(2);
    await coll().insertOne({ x: 1 });
    const [findA, findB] = connectionsOf('find');
    expect(findA).not.toBe(findB);
    expect(connectionsOf('insert')[0]).not.toBe(findA);
    expect(connectionsOf('insert')[0]).not.toBe(findB);
    await b.toArray();
    await a.toArray();
    expect(connectionsOf('getMore')).toEqual([findB, findA]);
    expect(checkedOut).toBe(0);
  });

  test('aggregate, and for-await left early, release the pin', async () => {
    await startServer();
    connect();
    expect(await coll().aggregate([], { batchSize: 2 }).toArray()).toEqual(DOCS);
    expect(checkedOut).toBe(0);
    for await (const doc of coll().find({}, { batchSize: 2 })) {
      expect(doc).toEqual({ _id: 1 });
      break;
    }
    expect(checkedOut).toBe(0);
    expect(connectionsOf('killCursors')).toEqual([connectionsOf('find')[0]]);
  });

  test('after a network error on getMore the connection stays pinned; close() sends no killCursors and checks it in', async () => {
    await startServer({ getMore: MockAction.close() });
    const c = connect();
    const closed: ConnectionClosedEvent[] = [];
    c.on('connectionClosed', (e) => closed.push(e));
    const cursor = coll().find({}, { batchSize: 2 });
    await cursor.next();
    await cursor.next();
    await expect(cursor.next()).rejects.toBeInstanceOf(MongoNetworkError);
    expect(checkedOut).toBe(1);
    await cursor.close();
    expect(server.commands('killCursors')).toHaveLength(0);
    expect(checkedOut).toBe(0);
    expect(closed.map((e) => e.reason)).toEqual(['error']);
  });

  test('after a server error on getMore the cursor is killed on the pinned connection, which close() checks in', async () => {
    await startServer({ getMore: errorReply(7, 'host not found') });
    connect();
    const cursor = coll().find({}, { batchSize: 2 });
    await cursor.next();
    await cursor.next();
    await expect(cursor.next()).rejects.toMatchObject({ code: 7 });
    expect(checkedOut).toBe(1);
    expect(connectionsOf('killCursors')).toEqual(connectionsOf('find'));
    await cursor.close();
    expect(checkedOut).toBe(0);
  });

  test('toArray() failing on getMore releases the pinned connection', async () => {
    await startServer({ getMore: MockAction.close() });
    connect();
    await expect(coll().find({}, { batchSize: 2 }).toArray()).rejects.toBeInstanceOf(MongoNetworkError);
    expect(checkedOut).toBe(0);
  });

  test('a network error on killCursors still checks the connection in', async () => {
    await startServer({ killCursors: MockAction.close() });
    const c = connect();
    const closed: string[] = [];
    c.on('connectionClosed', (e) => closed.push(e.reason));
    const cursor = coll().find({}, { batchSize: 2 });
    await cursor.next();
    await cursor.close();
    expect(server.commands('killCursors')).toHaveLength(1);
    expect(checkedOut).toBe(0);
    expect(closed).toEqual(['error']);
  });

  test('client.close() closes the socket of a connection pinned to an unclosed cursor', async () => {
    await startServer();
    const c = connect();
    const cursor = coll().find({}, { batchSize: 2 });
    await cursor.next();
    expect(server.openConnectionCount).toBe(1);
    await c.close();
    await server.waitForConnectionClose(connectionsOf('find')[0]);
    expect(server.openConnectionCount).toBe(0);
  });
});

describe('change streams pin their connection', () => {
  test('getMore and killCursors run on the connection of the aggregate, released at close', async () => {
    await startServer({
      aggregate: (r) => ({ cursor: { id: CURSOR_ID, ns: `${r.db}.coll`, firstBatch: [], postBatchResumeToken: { t: 1 } }, ok: 1 }),
      getMore: (r) => ({ cursor: { id: CURSOR_ID, ns: `${r.db}.coll`, nextBatch: [{ _id: { t: 2 }, operationType: 'insert' }], postBatchResumeToken: { t: 2 } }, ok: 1 })
    });
    connect();
    const stream = coll().watch();
    await stream.init();
    expect(checkedOut).toBe(1);
    expect((await stream.next())._id).toEqual({ t: 2 });
    await stream.close();
    const [aggregate] = connectionsOf('aggregate');
    expect(connectionsOf('getMore')).toEqual([aggregate]);
    expect(connectionsOf('killCursors')).toEqual([aggregate]);
    expect(server.lastCommand('killCursors')?.body.maxTimeMS).toBeUndefined();
    expect(checkedOut).toBe(0);
  });
});

describe('transactions pin their connection', () => {
  test('every command of a transaction, commit included, runs on one connection kept after commit until the session is used again', async () => {
    await startServer();
    const c = connect();
    const session = c.startSession();
    session.startTransaction();
    await coll().insertOne({ x: 1 }, { session });
    expect(checkedOut).toBe(1);
    await coll().insertOne({ x: 2 }, { session });
    await coll().find({}, { session }).toArray();
    await session.commitTransaction();
    expect(checkedOut).toBe(1);
    await session.commitTransaction();
    const [first] = connectionsOf('insert');
    expect([...connectionsOf('insert'), ...connectionsOf('find'), ...connectionsOf('commitTransaction')].every((id) => id === first)).toBe(true);
    // A non-transaction operation on the session unpins it.
    await coll().insertOne({ x: 3 }, { session });
    expect(checkedOut).toBe(0);
    await session.endSession();
  });

  test('a new transaction, an abort and endSession release the pinned connection', async () => {
    await startServer();
    const c = connect();
    const session = c.startSession();
    session.startTransaction();
    await coll().insertOne({ x: 1 }, { session });
    await session.commitTransaction();
    session.startTransaction();
    expect(checkedOut).toBe(0);
    await coll().insertOne({ x: 1 }, { session });
    expect(checkedOut).toBe(1);
    await session.abortTransaction();
    expect(checkedOut).toBe(0);
    expect(connectionsOf('abortTransaction')).toEqual([connectionsOf('insert')[1]]);
    session.startTransaction();
    await coll().insertOne({ x: 1 }, { session });
    await session.commitTransaction();
    expect(checkedOut).toBe(1);
    await session.endSession();
    expect(checkedOut).toBe(0);
  });

  test('a cursor in a transaction uses the transaction’s connection and does not release it', async () => {
    await startServer();
    const c = connect();
    const session = c.startSession();
    session.startTransaction();
    await coll().insertOne({ x: 1 }, { session });
    const cursor = coll().find({}, { batchSize: 2, session });
    await cursor.next();
    expect(checkedOut).toBe(1);
    await cursor.close();
    expect(checkedOut).toBe(1);
    await session.abortTransaction();
    expect(checkedOut).toBe(0);
    const [conn] = connectionsOf('insert');
    expect([...connectionsOf('find'), ...connectionsOf('killCursors'), ...connectionsOf('abortTransaction')]).toEqual([conn, conn, conn]);
    await session.endSession();
  });

  test('a non-transient error keeps the pin; a network error (TransientTransactionError) releases it', async () => {
    let inserts = 0;
    await startServer({ insert: () => (++inserts === 2 ? errorReply(51, 'not transient') : inserts === 3 ? MockAction.close() : { n: 1, ok: 1 }) });
    const c = connect();
    const session = c.startSession();
    session.startTransaction();
    await coll().insertOne({ x: 1 }, { session });
    await expect(coll().insertOne({ x: 2 }, { session })).rejects.toBeInstanceOf(MongoServerError);
    expect(checkedOut).toBe(1);
    const error = await coll().insertOne({ x: 3 }, { session }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoNetworkError);
    expect((error as MongoNetworkError).hasErrorLabel(MongoErrorLabel.TransientTransactionError)).toBe(true);
    expect(checkedOut).toBe(0);
    // abortTransaction checks out a fresh connection and checks it in.
    await session.abortTransaction();
    expect(checkedOut).toBe(0);
    expect(connectionsOf('abortTransaction')[0]).not.toBe(connectionsOf('insert')[0]);
    await session.endSession();
  });

  test('a commit that fails with a network error is retried on a new, unpinned connection', async () => {
    let commits = 0;
    await startServer({ commitTransaction: () => (++commits === 1 ? MockAction.close() : { ok: 1 }) });
    const c = connect();
    const session = c.startSession();
    session.startTransaction();
    await coll().insertOne({ x: 1 }, { session });
    await session.commitTransaction();
    const [pinned, retry] = connectionsOf('commitTransaction');
    expect(pinned).toBe(connectionsOf('insert')[0]);
    expect(retry).not.toBe(pinned);
    expect(checkedOut).toBe(0);
    await session.endSession();
  });
});

describe('wait queue timeout errors describe the checked-out connections', () => {
  const detail = (cursors: number, transactions: number, others: number) =>
    `maxPoolSize: 1, connections in use by cursors: ${cursors}, connections in use by transactions: ${transactions}, connections in use by other operations: ${others}`;

  test('a connection pinned to a cursor', async () => {
    await startServer();
    connect('&maxPoolSize=1&waitQueueTimeoutMS=50');
    const cursor = coll().find({}, { batchSize: 2 });
    await cursor.next();
    const error = await coll().insertOne({ x: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoWaitQueueTimeoutError);
    expect((error as Error).message).toContain(`Timeout waiting for connection from the connection pool. ${detail(1, 0, 0)}`);
    await cursor.close();
  });

  test('a connection pinned to a transaction', async () => {
    await startServer();
    const c = connect('&maxPoolSize=1&waitQueueTimeoutMS=50');
    const session = c.startSession();
    session.startTransaction();
    await coll().insertOne({ x: 1 }, { session });
    await expect(coll().insertOne({ x: 1 })).rejects.toThrow(detail(0, 1, 0));
    await session.abortTransaction();
    await session.endSession();
  });

  test('a connection in use by another operation', async () => {
    await startServer({ ping: MockAction.delay(300, { ok: 1 }) });
    const c = connect('&maxPoolSize=1&waitQueueTimeoutMS=50');
    const slow = c.db('admin').command({ ping: 1 });
    await server.waitForCommand('ping');
    await expect(coll().insertOne({ x: 1 })).rejects.toThrow(detail(0, 0, 1));
    await slow;
  });
});

describe('error handling is per service', () => {
  const serviceA = new ObjectId();
  const serviceB = new ObjectId();
  /** Odd connections reach service A, even ones service B (two mongoses behind the balancer). */
  const helloByService: MockHandler = (request, ctx) => ({
    ...ctx.server.helloReply(request.body, ctx.connectionId),
    serviceId: ctx.connectionId % 2 === 1 ? serviceA : serviceB
  });

  test('a network error clears only the failing connection’s service; the other service’s connection is reused', async () => {
    let inserts = 0;
    await startServer({ hello: helloByService, insert: () => (++inserts === 1 ? MockAction.close() : { n: 1, ok: 1 }) });
    const c = connect('&retryWrites=false');
    const cleared: PoolClearedEvent[] = [];
    const created: number[] = [];
    c.on('connectionPoolCleared', (e) => cleared.push(e));
    c.on('connectionCreated', (e) => created.push(e.connectionId));
    // Two connections (A, then B), both available again after the cursors close; B is on top.
    const a = coll().find({}, { batchSize: 2 });
    const b = coll().find({}, { batchSize: 2 });
    await a.next();
    await b.next();
    await a.close();
    await b.close();
    await expect(coll().insertOne({ x: 1 })).rejects.toBeInstanceOf(MongoNetworkError);
    expect(cleared.map((e) => e.serviceId?.toHexString())).toEqual([serviceB.toHexString()]);
    await coll().insertOne({ x: 2 });
    expect(created).toHaveLength(2);
    const [, second] = connectionsOf('insert');
    expect(second).toBe(connectionsOf('find')[0]);
    expect(server.isConnectionClosed(second)).toBe(false);
  });

  test('a state change error clears the service but does not mark the load balancer Unknown', async () => {
    await startServer({ hello: helloByService, insert: errorReply(11600, 'interrupted at shutdown', { codeName: 'InterruptedAtShutdown' }) });
    const c = connect('&retryWrites=false');
    const cleared: PoolClearedEvent[] = [];
    c.on('connectionPoolCleared', (e) => cleared.push(e));
    await expect(coll().insertOne({ x: 1 })).rejects.toMatchObject({ code: 11600 });
    expect(cleared.map((e) => e.serviceId?.toHexString())).toEqual([serviceA.toHexString()]);
    expect([...(c.topologyDescription?.servers.values() ?? [])].map((s) => s.type)).toEqual(['LoadBalancer']);
  });

  test('an error from a connection older than its service’s last clear is stale and ignored', async () => {
    await startServer({ getMore: MockAction.close() });
    const c = connect();
    let clears = 0;
    c.on('connectionPoolCleared', () => clears++);
    const a = coll().find({}, { batchSize: 2 });
    const b = coll().find({}, { batchSize: 2 });
    await a.next();
    await b.next();
    await a.next();
    await expect(a.next()).rejects.toBeInstanceOf(MongoNetworkError);
    await a.close();
    await b.next();
    await expect(b.next()).rejects.toBeInstanceOf(MongoNetworkError);
    await b.close();
    expect(clears).toBe(1);
    expect(checkedOut).toBe(0);
  });

  test('a clear does not fail check-outs waiting for a connection (the pool never pauses)', async () => {
    await startServer({ getMore: MockAction.close() });
    const c = connect('&maxPoolSize=1');
    let cleared = 0;
    c.on('connectionPoolCleared', () => cleared++);
    const cursor = coll().find({}, { batchSize: 2 });
    await cursor.next();
    await cursor.next();
    const waiting = coll().insertOne({ x: 1 });
    await expect(cursor.next()).rejects.toBeInstanceOf(MongoNetworkError);
    expect(cleared).toBe(1);
    await cursor.close();
    await expect(waiting).resolves.toMatchObject({ acknowledged: true });
    expect(connectionsOf('insert')[0]).not.toBe(connectionsOf('find')[0]);
  });
});
