/**
 * Fault injection, MongoClient end to end against the mock server and a mock replica set:
 * resets before/during/after replies, replies delayed past socketTimeoutMS, half-written
 * replies, silent servers (connect/socket/server-selection timeouts), primary stepdowns during
 * writes, a whole replica set going down and coming back, and pool exhaustion.
 *
 * For each: the right typed error or a transparent retry, no duplicate logical write (the
 * WriteLedger applies an lsid+txnNumber once), no unhandled rejection, and recovery.
 */
import {
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoWaitQueueTimeoutError,
  MongoErrorCode
} from '../../src/errors';
import { MongoClient } from '../../src/mongo_client';
import { MockAction, MockServer, errorReply } from '../tools/mock_server';
import { MockReplicaSet } from '../tools/mock_replica_set';
import {
  WriteLedger,
  faultyWriteHandler,
  replyThenClose,
  retryableErrorReply,
  silentServer,
  trapUnhandledRejections,
  writeKey,
  type FaultStep,
  type RejectionTrap
} from '../tools/fault_server';

/** URI options for fast failure detection; `extra` (`&k=v…`) overrides them. */
function fastOptions(extra = ''): string {
  const params = new URLSearchParams({ heartbeatFrequencyMS: '100', serverSelectionTimeoutMS: '3000' });
  for (const [k, v] of new URLSearchParams(extra)) params.set(k, v);
  return params.toString();
}
const FAST_CODE = { minHeartbeatFrequencyMS: 20 };

/** Documents with caller-chosen `_id`s. */
type Item = { _id: number | string; [key: string]: unknown };

let trap: RejectionTrap;
const clients: MongoClient[] = [];
const servers: Array<{ close(): Promise<void> }> = [];

beforeEach(() => {
  trap = trapUnhandledRejections();
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.close();
  // Give stray promise rejections a turn to surface before checking the trap.
  await new Promise((resolve) => setImmediate(resolve));
  trap.dispose();
  expect(trap.reasons).toEqual([]);
});

function track<T extends MongoClient>(client: T): T {
  clients.push(client);
  return client;
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

/** A single mock "primary" (directConnection) so retryable writes apply (not a standalone). */
async function primaryServer(): Promise<MockServer> {
  const server = await MockServer.start({ type: 'primary', setName: 'rs0' });
  servers.push(server);
  return server;
}

function directClient(server: MockServer, extra = ''): MongoClient {
  return track(new MongoClient(`mongodb://${server.address}/?directConnection=true&${fastOptions(extra)}`, FAST_CODE));
}

describe('retryable writes under network faults (single primary)', () => {
  const cases: Array<[string, FaultStep[]]> = [
    ['connection reset before the write is applied', [{ before: MockAction.reset() }]],
    ['connection closed before the write is applied', [{ before: MockAction.close() }]],
    ['connection reset after the write is applied (reply lost)', [{ after: MockAction.reset() }]],
    ['half-written reply after the write is applied', [{ after: MockAction.halfReply({ n: 1, ok: 1 }) }]],
    ['retryable error reply (NotWritablePrimary)', [{ before: retryableErrorReply(MongoErrorCode.NotWritablePrimary, 'NotWritablePrimary') }]]
  ];

  test.each(cases)('%s: one transparent retry, same lsid+txnNumber, applied once', async (_name, plan) => {
    const server = await primaryServer();
    const ledger = new WriteLedger();
    server.setHandler('insert', faultyWriteHandler(ledger, () => server.address, plan));
    const client = directClient(server);
    const coll = client.db('app').collection<Item>('items');

    await coll.insertOne({ _id: 1, v: 'a' });

    const inserts = server.commands('insert');
    expect(inserts).toHaveLength(2);
    expect(writeKey(inserts[0].body)).not.toBeNull();
    expect(writeKey(inserts[1].body)).toBe(writeKey(inserts[0].body));
    expect(ledger.entries.size).toBe(1);
    const [entry] = ledger.entries.values();
    expect(entry.attempts).toBe(2);
    expect(entry.applied).toBe(1);
    expect(ledger.duplicateWrites).toBe(0);
    expect(ledger.appliedDocumentCount).toBe(1);

    // Recovery: the next write is a new logical write (new txnNumber) and succeeds first time.
    await coll.insertOne({ _id: 2 });
    const next = server.commands('insert');
    expect(next).toHaveLength(3);
    expect(writeKey(next[2].body)).not.toBe(writeKey(next[0].body));
  });

  test('a second failure is reported (typed) and the write is still applied at most once', async () => {
    const server = await primaryServer();
    const ledger = new WriteLedger();
    server.setHandler('insert', faultyWriteHandler(ledger, () => server.address, [{ after: MockAction.reset() }, { before: MockAction.reset() }]));
    const client = directClient(server);
    const error = await errorOf(client.db('app').collection<Item>('items').insertOne({ _id: 1 }));
    expect(error).toBeInstanceOf(MongoNetworkError);
    expect((error as MongoNetworkError).hasErrorLabel('RetryableWriteError')).toBe(true);
    expect(server.commands('insert')).toHaveLength(2);
    expect(ledger.duplicateWrites).toBe(0);
    expect(ledger.appliedDocumentCount).toBe(1);
    // The server is fine again: the client recovers.
    await client.db('app').collection<Item>('items').insertOne({ _id: 2 });
    expect(ledger.appliedDocumentCount).toBe(2);
  });

  test('retryWrites=false: the network error surfaces and nothing is sent twice', async () => {
    const server = await primaryServer();
    const ledger = new WriteLedger();
    server.setHandler('insert', faultyWriteHandler(ledger, () => server.address, [{ before: MockAction.reset() }]));
    const client = directClient(server, '&retryWrites=false');
    const error = await errorOf(client.db('app').collection<Item>('items').insertOne({ _id: 1 }));
    expect(error).toBeInstanceOf(MongoNetworkError);
    expect(server.commands('insert')).toHaveLength(1);
    expect(server.commands('insert')[0].body.txnNumber).toBeUndefined();
    await client.db('app').collection<Item>('items').insertOne({ _id: 2 });
    expect(ledger.appliedDocumentCount).toBe(1);
  });

  test('a non-retryable server error is a MongoServerError and is not retried', async () => {
    const server = await primaryServer();
    server.setHandler('insert', errorReply(MongoErrorCode.DuplicateKey, 'E11000 duplicate key', { codeName: 'DuplicateKey' }));
    const client = directClient(server);
    const error = await errorOf(client.db('app').collection<Item>('items').insertOne({ _id: 1 }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(MongoErrorCode.DuplicateKey);
    expect(server.commands('insert')).toHaveLength(1);
  });
});

describe('retryable reads under network faults', () => {
  test.each([
    ['reset before the reply', MockAction.reset()],
    ['half-written reply', MockAction.halfReply({ cursor: { id: 0, ns: 'app.items', firstBatch: [] }, ok: 1 })],
    ['close before the reply', MockAction.close()]
  ])('%s: the read is retried once and succeeds', async (_name, fault) => {
    const server = await primaryServer();
    let calls = 0;
    server.setHandler('find', () =>
      ++calls === 1 ? fault : { cursor: { id: 0, ns: 'app.items', firstBatch: [{ _id: 7 }] }, ok: 1 }
    );
    const client = directClient(server);
    const doc = await client.db('app').collection<Item>('items').findOne({ _id: 7 });
    expect(doc).toEqual({ _id: 7 });
    expect(server.commands('find')).toHaveLength(2);
  });

  test('a connection closed by the server after a reply is replaced transparently', async () => {
    const server = await primaryServer();
    let calls = 0;
    server.setHandler('ping', () => (++calls === 1 ? replyThenClose({ ok: 1 }) : { ok: 1 }));
    const client = directClient(server);
    const admin = client.db('admin');
    expect((await admin.command({ ping: 1 })).ok).toBe(1);
    await server.waitForConnectionClose(server.lastCommand('ping')?.connectionId);
    // Let the client see the FIN (on a real network a command racing the FIN fails the same way).
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The pooled connection is dead; the next command must not fail because of it.
    expect((await admin.command({ ping: 1 })).ok).toBe(1);
    const pings = server.commands('ping');
    expect(pings).toHaveLength(2);
    expect(pings[1].connectionId).not.toBe(pings[0].connectionId);
  });
});

describe('timeouts', () => {
  test('a reply delayed past socketTimeoutMS: MongoNetworkTimeoutError, then recovery', async () => {
    const server = await primaryServer();
    server.setHandler('ping', MockAction.delay(1000, { ok: 1 }));
    const client = directClient(server, '&socketTimeoutMS=150');
    const started = Date.now();
    const error = await errorOf(client.db('admin').command({ ping: 1 }));
    expect(error).toBeInstanceOf(MongoNetworkTimeoutError);
    expect(error.message).toMatch(/timed out after 150ms/);
    expect(Date.now() - started).toBeLessThan(900);
    server.removeHandler('ping');
    expect((await client.db('admin').command({ ping: 1 })).ok).toBe(1);
  });

  test('a server that never answers a command: socketTimeoutMS fires, the connection is closed', async () => {
    const server = await primaryServer();
    server.setHandler('ping', MockAction.noReply());
    const client = directClient(server, '&socketTimeoutMS=100');
    const error = await errorOf(client.db('admin').command({ ping: 1 }));
    expect(error).toBeInstanceOf(MongoNetworkTimeoutError);
    await server.waitForConnectionClose(server.lastCommand('ping')?.connectionId);
    server.removeHandler('ping');
    expect((await client.db('admin').command({ ping: 1 })).ok).toBe(1);
  });

  test('a server that accepts and never answers the handshake: connectTimeoutMS, then serverSelectionTimeoutMS', async () => {
    const silent = await silentServer();
    servers.push(silent);
    const client = track(
      new MongoClient(`mongodb://${silent.address}/?directConnection=true&connectTimeoutMS=100&serverSelectionTimeoutMS=400`, FAST_CODE)
    );
    const started = Date.now();
    const error = await errorOf(client.connect());
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(MongoServerSelectionError);
    expect(error.message).toMatch(/400/);
    // The reason names the server and the connect timeout.
    expect(describeError(error)).toMatch(/timed out after 100ms/);
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(3000);
    expect(silent.accepted).toBeGreaterThanOrEqual(1);
  });

  test('no server listening: server selection fails with a typed error naming the cause', async () => {
    const server = await MockServer.start();
    const address = server.address;
    await server.close();
    const client = track(new MongoClient(`mongodb://${address}/?directConnection=true&serverSelectionTimeoutMS=300`, FAST_CODE));
    const error = await errorOf(client.db('admin').command({ ping: 1 }));
    expect(error).toBeInstanceOf(MongoServerSelectionError);
    expect(describeError(error)).toMatch(/ECONNREFUSED|refused/i);
  });
});

describe('replica set faults', () => {
  let rs: MockReplicaSet;
  let ledger: WriteLedger;

  beforeEach(async () => {
    rs = await MockReplicaSet.start({ members: 3, memberOptions: { helloExtra: { logicalSessionTimeoutMinutes: 30 } } });
    servers.push(rs);
    ledger = new WriteLedger();
    for (const member of rs.members) member.setHandler('insert', faultyWriteHandler(ledger, () => member.address));
  });

  function rsClient(extra = ''): MongoClient {
    return track(new MongoClient(`mongodb://${rs.hostList}/?replicaSet=rs0&${fastOptions(extra)}`, FAST_CODE));
  }

  test.each([
    ['NotWritablePrimary', MongoErrorCode.NotWritablePrimary],
    ['PrimarySteppedDown', MongoErrorCode.PrimarySteppedDown],
    ['InterruptedDueToReplStateChange', MongoErrorCode.InterruptedDueToReplStateChange]
  ])('stepdown during a write (%s): the retry lands on the new primary, applied once', async (codeName, code) => {
    const client = rsClient();
    await client.connect();
    const coll = client.db('app').collection<Item>('items');
    await coll.insertOne({ _id: 0 });
    const old = rs.members[0];
    old.setHandler('insert', (request) => {
      ledger.arrive(request, old.address);
      rs.setPrimary(1);
      return retryableErrorReply(code, codeName);
    });
    await coll.insertOne({ _id: 1 });

    const first = old.commands('insert').at(-1)!;
    const retry = rs.members[1].commands('insert');
    expect(retry).toHaveLength(1);
    expect(writeKey(retry[0].body)).toBe(writeKey(first.body));
    const entry = ledger.entries.get(writeKey(first.body)!)!;
    expect(entry.servers).toEqual([old.address, rs.members[1].address]);
    expect(entry.applied).toBe(1);
    expect(ledger.duplicateWrites).toBe(0);
    expect(ledger.documents.map((d) => d._id)).toEqual([0, 1]);
    expect(client.primary?.[1]).toBe(rs.members[1].port);
  });

  test('stepdown by closing connections mid-write: the retry reaches the new primary', async () => {
    const client = rsClient();
    await client.connect();
    const coll = client.db('app').collection<Item>('items');
    const old = rs.members[0];
    old.setHandler('insert', (request) => {
      ledger.arrive(request, old.address);
      ledger.apply(request);
      rs.setPrimary(2);
      return MockAction.reset();
    });
    await coll.insertOne({ _id: 'x' });
    expect(rs.members[2].commands('insert')).toHaveLength(1);
    expect(ledger.duplicateWrites).toBe(0);
    expect(ledger.appliedDocumentCount).toBe(1);
  });

  test('the whole set goes down: typed errors while down, recovery when it comes back', async () => {
    const client = rsClient('&serverSelectionTimeoutMS=400&connectTimeoutMS=200');
    await client.connect();
    const coll = client.db('app').collection<Item>('items');
    await coll.insertOne({ _id: 1 });

    for (let i = 0; i < rs.members.length; i++) await rs.stopMember(i);
    const writeError = await errorOf(coll.insertOne({ _id: 2 }));
    expect(writeError instanceof MongoNetworkError || writeError instanceof MongoServerSelectionError).toBe(true);
    const readError = await errorOf(coll.findOne({}));
    expect(readError instanceof MongoNetworkError || readError instanceof MongoServerSelectionError).toBe(true);

    for (let i = 0; i < rs.members.length; i++) await rs.startMember(i);
    await coll.insertOne({ _id: 3 });
    expect(await coll.findOne({})).toBeNull();
    expect(ledger.duplicateWrites).toBe(0);
    expect(ledger.documents.map((d) => d._id)).toEqual(expect.arrayContaining([1, 3]));
  });

  test('a member going away and back is rediscovered (secondary reads keep working)', async () => {
    const client = rsClient('&readPreference=secondaryPreferred');
    await client.connect();
    await rs.stopMember(1);
    await rs.stopMember(2);
    const coll = client.db('app').collection<Item>('items');
    // secondaryPreferred falls back to the primary.
    expect(await coll.findOne({})).toBeNull();
    await rs.startMember(1);
    await rs.startMember(2);
    await waitFor(() => client.secondaries.length === 2, 3000);
    expect(await coll.findOne({})).toBeNull();
  });
});

describe('pool exhaustion', () => {
  test('maxPoolSize=1 + waitQueueTimeoutMS: MongoWaitQueueTimeoutError, then recovery', async () => {
    const server = await primaryServer();
    server.setHandler('ping', MockAction.delay(600, { ok: 1 }));
    const client = directClient(server, '&maxPoolSize=1&waitQueueTimeoutMS=100');
    const admin = client.db('admin');
    await client.connect();
    const slow = admin.command({ ping: 1 }).then(
      (reply) => reply,
      (error: unknown) => ({ error })
    );
    await server.waitForCommand('ping');
    const error = await errorOf(admin.command({ buildInfo: 1 }));
    expect(error).toBeInstanceOf(MongoWaitQueueTimeoutError);
    expect((error as MongoWaitQueueTimeoutError).address).toBe(server.address);
    expect(await slow).toEqual({ ok: 1 });
    expect((await admin.command({ buildInfo: 1 })).ok).toBe(1);
    expect(server.commands('buildInfo')).toHaveLength(1);
  });

  test('many concurrent operations through a pool of 2 all settle', async () => {
    const server = await primaryServer();
    const client = directClient(server, '&maxPoolSize=2');
    const admin = client.db('admin');
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => admin.command({ ping: 1 })));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(new Set(server.commands('ping').map((c) => c.connectionId)).size).toBeLessThanOrEqual(2);
  });
});

/** Message plus the messages of `cause`/`reason` chains, for checking what an error explains. */
function describeError(error: unknown, depth = 0): string {
  if (depth > 5 || error == null) return '';
  if (error instanceof Error) {
    const reason = (error as { reason?: unknown }).reason;
    return [error.message, describeError(error.cause, depth + 1), describeReason(reason)].join(' | ');
  }
  return String(error);
}

function describeReason(reason: unknown): string {
  if (reason == null) return '';
  if (typeof reason !== 'object') return String(reason);
  const parts: string[] = [];
  const servers = (reason as { servers?: Map<string, { error?: unknown }> }).servers;
  if (servers instanceof Map) for (const s of servers.values()) if (s.error) parts.push(describeError(s.error, 4));
  return parts.join(' | ');
}

async function waitFor(predicate: () => boolean, timeoutMS: number): Promise<void> {
  const deadline = Date.now() + timeoutMS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

