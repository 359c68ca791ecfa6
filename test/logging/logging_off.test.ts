/**
 * With logging off (the default) nothing is built: no message builder runs, no Log object is
 * created, the client adds no listeners for CMAP/SDAM events, and command events still follow
 * monitorCommands only.
 */
import * as logMessages from '../../src/log_messages';
import * as logger from '../../src/logger';
import { MongoLogger } from '../../src/logger';
import { MongoClient } from '../../src/mongo_client';
import { ReadPreference } from '../../src/read_preference';
import { MockServer } from '../tools/mock_server';
import { capture } from './log_capture';

const LOG_ENV = ['MONGODB_LOG_ALL', 'MONGODB_LOG_COMMAND', 'MONGODB_LOG_TOPOLOGY', 'MONGODB_LOG_SERVER_SELECTION', 'MONGODB_LOG_CONNECTION'];

let server: MockServer;
let savedEnv: NodeJS.ProcessEnv;
beforeEach(async () => {
  savedEnv = { ...process.env };
  for (const name of LOG_ENV) delete process.env[name];
  server = await MockServer.start();
});
afterEach(async () => {
  process.env = savedEnv;
  jest.restoreAllMocks();
  await server.close();
});

/**
 * Spies on every entry point of message building, each reached from another module (a spy on
 * a module export only sees calls made through the module object). The last test proves each
 * one is effective.
 */
function spies() {
  return {
    commandStarted: jest.spyOn(logMessages, 'commandStartedMessage'),
    commandSucceeded: jest.spyOn(logMessages, 'commandSucceededMessage'),
    subscribe: jest.spyOn(logMessages, 'logPoolAndTopologyEvents'),
    topologyMessage: jest.spyOn(logMessages.TopologyLogState.prototype, 'message'),
    selectionStarted: jest.spyOn(logMessages.ServerSelectionLog.prototype, 'started'),
    selectionSucceeded: jest.spyOn(logMessages.ServerSelectionLog.prototype, 'succeeded'),
    stringify: jest.spyOn(logger, 'stringifyWithMaxLen'),
    hostAndPort: jest.spyOn(logger, 'hostAndPort'),
    log: jest.spyOn(MongoLogger.prototype, 'log')
  };
}

async function workload(client: MongoClient): Promise<void> {
  await client.db('d').collection('c').insertOne({ x: 1 });
  await client.db('d').collection('c').find({}, { readPreference: ReadPreference.nearest }).toArray();
  await client.db('d').command({ ping: 1 });
}

test('logging off: no message is built and no Log object is created', async () => {
  const watched = spies();
  const write = jest.fn();
  // A destination is configured, but no component is enabled.
  const client = new MongoClient(`mongodb://${server.address}/?directConnection=true&heartbeatFrequencyMS=500`, { mongodbLogPath: { write } });
  try {
    await workload(client);
    expect(client.listenerCount('connectionCheckedOut')).toBe(0);
    expect(client.listenerCount('serverHeartbeatSucceeded')).toBe(0);
  } finally {
    await client.close();
  }
  for (const [name, spy] of Object.entries(watched)) expect([name, spy.mock.calls.length]).toEqual([name, 0]);
  expect(write).not.toHaveBeenCalled();
});

test('only the enabled component builds messages', async () => {
  const watched = spies();
  const cap = capture({ serverSelection: 'debug' });
  const client = new MongoClient(`mongodb://${server.address}/?directConnection=true`, cap.options);
  try {
    await workload(client);
    expect(client.listenerCount('connectionCheckedOut')).toBe(0);
    expect(client.listenerCount('serverHeartbeatSucceeded')).toBe(0);
  } finally {
    await client.close();
  }
  for (const spy of [watched.commandStarted, watched.commandSucceeded, watched.topologyMessage]) {
    expect(spy).not.toHaveBeenCalled();
  }
  expect(watched.selectionStarted).toHaveBeenCalled();
  expect(new Set(cap.logs.map((l) => l.c))).toEqual(new Set(['serverSelection']));
});

test('the sanity check: the same workload with every component at debug does build messages', async () => {
  const watched = spies();
  const cap = capture({ command: 'debug', topology: 'debug', serverSelection: 'debug', connection: 'debug' });
  const client = new MongoClient(`mongodb://${server.address}/?directConnection=true`, cap.options);
  try {
    await workload(client);
  } finally {
    await client.close();
  }
  for (const [name, spy] of Object.entries(watched)) expect([name, spy.mock.calls.length > 0]).toEqual([name, true]);
  expect(new Set(cap.logs.map((l) => l.c))).toEqual(new Set(['command', 'topology', 'serverSelection', 'connection']));
});
