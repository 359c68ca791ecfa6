/**
 * "serverSelection" component (server-selection spec, "Logging") through MongoClient over TCP:
 * started/succeeded at debug, "Waiting for suitable server" once at info, failed at debug
 * without repeating the topology in the failure.
 */
import { MongoServerSelectionError } from '../../src/errors';
import { MongoClient } from '../../src/mongo_client';
import { ReadPreference } from '../../src/read_preference';
import { MockServer } from '../tools/mock_server';
import { capture } from './log_capture';

let server: MockServer;
afterEach(async () => {
  await server.close();
});

test('a successful selection: started and succeeded with selector, operation, topology and the server', async () => {
  server = await MockServer.start();
  const cap = capture({ serverSelection: 'debug' });
  const client = new MongoClient(`mongodb://${server.address}/?directConnection=true`, cap.options);
  try {
    await client.connect();
    await client.db('logging-tests').collection('server-selection').insertOne({ x: 1 });
    await client.db('logging-tests').collection('server-selection').find({}, { readPreference: ReadPreference.secondaryPreferred }).toArray();
  } finally {
    await client.close();
  }
  // connect() selects too, but not for an operation: that selection is not logged.
  const data = cap.data().filter((d) => d.operation !== 'endSessions');
  expect(cap.logs.every((l) => l.c === 'serverSelection' && l.s === 'debug')).toBe(true);
  expect(data.map((d) => [d.message, d.operation])).toEqual([
    ['Server selection started', 'insert'],
    ['Server selection succeeded', 'insert'],
    ['Server selection started', 'find'],
    ['Server selection succeeded', 'find']
  ]);
  const topologyDescription = expect.any(String);
  expect(data[0]).toEqual({ message: 'Server selection started', selector: 'a writable server', operation: 'insert', topologyDescription });
  expect(data[1]).toEqual({
    message: 'Server selection succeeded',
    selector: 'a writable server',
    operation: 'insert',
    topologyDescription,
    serverHost: '127.0.0.1',
    serverPort: server.port
  });
  expect(data[2].selector).toBe('read preference secondaryPreferred');
  expect(JSON.parse(data[1].topologyDescription as string)).toMatchObject({
    type: 'Single',
    servers: [{ address: server.address, type: 'Standalone' }]
  });
});

test('the selector string has every read preference component and marks a custom selector', async () => {
  server = await MockServer.start();
  const cap = capture({ serverSelection: 'debug' }, { serverSelector: (_t, servers) => servers });
  const client = new MongoClient(`mongodb://${server.address}/?directConnection=true`, cap.options);
  try {
    const readPreference = new ReadPreference('nearest', [{ dc: 'east' }, {}], { maxStalenessSeconds: 120 });
    await client.db('d').collection('c').find({}, { readPreference }).toArray();
  } finally {
    await client.close();
  }
  expect(cap.data()[0].selector).toBe('read preference nearest (tags [{"dc":"east"},{}], maxStalenessSeconds 120) and a custom server selector');
});

test('no suitable server: started, one "Waiting" at info with remainingTimeMS, then failed', async () => {
  // A lone secondary: connect() succeeds, a write can never select a server.
  server = await MockServer.start({ type: 'secondary', setName: 'rs' });
  const cap = capture({ serverSelection: 'debug' });
  const client = new MongoClient(`mongodb://${server.address}/?replicaSet=rs&serverSelectionTimeoutMS=600&heartbeatFrequencyMS=500`, cap.options);
  try {
    await client.connect();
    await expect(client.db('d').collection('c').insertOne({ x: 1 })).rejects.toThrow(MongoServerSelectionError);
  } finally {
    await client.close();
  }
  const insert = cap.logs.filter((l) => l.operation === 'insert');
  expect(insert.map((l) => [l.s, l.message])).toEqual([
    ['debug', 'Server selection started'],
    ['info', 'Waiting for suitable server to become available'],
    ['debug', 'Server selection failed']
  ]);
  const [, waiting, failed] = insert;
  expect(waiting.remainingTimeMS).toEqual(expect.any(Number));
  expect(Number.isInteger(waiting.remainingTimeMS)).toBe(true);
  expect(waiting.remainingTimeMS as number).toBeGreaterThan(0);
  expect(waiting.remainingTimeMS as number).toBeLessThanOrEqual(600);
  expect(failed.failure).toEqual({
    name: 'MongoServerSelectionError',
    message: 'Server selection timed out after 600 ms: no server suitable for operation "insert" with a writable server.'
  });
  // The failure does not repeat the topology description: it is in its own field.
  expect(JSON.parse(failed.topologyDescription as string)).toMatchObject({ type: 'ReplicaSetNoPrimary', setName: 'rs' });
  expect('serverHost' in failed).toBe(false);
});

test('at info level only the "Waiting" message is written', async () => {
  server = await MockServer.start({ type: 'secondary', setName: 'rs' });
  const cap = capture({ serverSelection: 'info' });
  const client = new MongoClient(`mongodb://${server.address}/?replicaSet=rs&serverSelectionTimeoutMS=300`, cap.options);
  try {
    await client.connect();
    await client.db('d').command({ ping: 1 }, { readPreference: ReadPreference.secondary });
    await expect(client.db('d').collection('c').insertOne({ x: 1 })).rejects.toThrow(MongoServerSelectionError);
  } finally {
    await client.close();
  }
  expect(cap.logs.map((l) => [l.s, l.message, l.operation])).toEqual([['info', 'Waiting for suitable server to become available', 'insert']]);
});
