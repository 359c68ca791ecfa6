/**
 * "connection" component (CMAP spec, "Connection Pool Logging"): the message for every CMAP
 * event, the exact reason strings, and the lifecycle of a client over TCP.
 */
import { ObjectId } from 'bson';
import { MongoNetworkError } from '../../src/errors';
import { CHECKOUT_FAILED_REASONS, CONNECTION_CLOSED_REASONS, connectionMessage } from '../../src/log_messages';
import { MongoClient } from '../../src/mongo_client';
import {
  ConnectionCheckedInEvent,
  ConnectionCheckedOutEvent,
  ConnectionCheckOutFailedEvent,
  ConnectionCheckOutStartedEvent,
  ConnectionClosedEvent,
  ConnectionCreatedEvent,
  ConnectionReadyEvent,
  PoolClearedEvent,
  PoolClosedEvent,
  PoolCreatedEvent,
  PoolReadyEvent
} from '../../src/pool/pool_events';
import { MockServer, errorReply } from '../tools/mock_server';
import { capture } from './log_capture';

const ADDRESS = 'db.example.com:27018';
const where = { serverHost: 'db.example.com', serverPort: 27018 };

describe('messages from CMAP events', () => {
  test('pool messages', () => {
    const options = { maxIdleTimeMS: 10000, minPoolSize: 1, maxPoolSize: 5, maxConnecting: 2, waitQueueTimeoutMS: 0 };
    expect(connectionMessage(new PoolCreatedEvent(ADDRESS, options), 1000)).toEqual({ message: 'Connection pool created', ...where, ...options });
    expect(connectionMessage(new PoolReadyEvent(ADDRESS), 1000)).toEqual({ message: 'Connection pool ready', ...where });
    expect(connectionMessage(new PoolClearedEvent(ADDRESS), 1000)).toEqual({ message: 'Connection pool cleared', ...where, serviceId: undefined });
    const serviceId = new ObjectId();
    expect(connectionMessage(new PoolClearedEvent(ADDRESS, { serviceId }), 1000)).toMatchObject({ serviceId: serviceId.toHexString() });
    expect(connectionMessage(new PoolClosedEvent(ADDRESS), 1000)).toEqual({ message: 'Connection pool closed', ...where });
  });

  test('connection messages', () => {
    expect(connectionMessage(new ConnectionCreatedEvent(ADDRESS, 3), 1000)).toEqual({ message: 'Connection created', ...where, driverConnectionId: 3 });
    expect(connectionMessage(new ConnectionReadyEvent(ADDRESS, 3, 12.5), 1000)).toEqual({
      message: 'Connection ready',
      ...where,
      driverConnectionId: 3,
      durationMS: 12.5
    });
    expect(connectionMessage(new ConnectionCheckOutStartedEvent(ADDRESS), 1000)).toEqual({ message: 'Connection checkout started', ...where });
    expect(connectionMessage(new ConnectionCheckedOutEvent(ADDRESS, 3, 1.25), 1000)).toEqual({
      message: 'Connection checked out',
      ...where,
      driverConnectionId: 3,
      durationMS: 1.25
    });
    expect(connectionMessage(new ConnectionCheckedInEvent(ADDRESS, 3), 1000)).toEqual({ message: 'Connection checked in', ...where, driverConnectionId: 3 });
  });

  test('"Connection closed" reasons are the spec strings; the error only for reason error', () => {
    expect(CONNECTION_CLOSED_REASONS).toEqual({
      stale: 'Connection became stale because the pool was cleared',
      idle: 'Connection has been available but unused for longer than the configured max idle time',
      error: 'An error occurred while using the connection',
      poolClosed: 'Connection pool was closed'
    });
    const error = new MongoNetworkError('socket hang up');
    for (const reason of ['stale', 'idle', 'poolClosed'] as const) {
      const fields = connectionMessage(new ConnectionClosedEvent(ADDRESS, 4, reason, undefined, error), 1000);
      expect(fields).toEqual({ message: 'Connection closed', ...where, driverConnectionId: 4, reason: CONNECTION_CLOSED_REASONS[reason], error: undefined });
    }
    expect(connectionMessage(new ConnectionClosedEvent(ADDRESS, 4, 'error', undefined, error), 1000)).toEqual({
      message: 'Connection closed',
      ...where,
      driverConnectionId: 4,
      reason: 'An error occurred while using the connection',
      error: { name: 'MongoNetworkError', message: 'socket hang up' }
    });
  });

  test('"Connection checkout failed" reasons are the spec strings; the error only for connectionError', () => {
    expect(CHECKOUT_FAILED_REASONS).toEqual({
      timeout: 'Wait queue timeout elapsed without a connection becoming available',
      connectionError: 'An error occurred while trying to establish a new connection',
      poolClosed: 'Connection pool was closed'
    });
    const error = new MongoNetworkError('connect ECONNREFUSED');
    expect(connectionMessage(new ConnectionCheckOutFailedEvent(ADDRESS, 'timeout', 100, error), 1000)).toEqual({
      message: 'Connection checkout failed',
      ...where,
      reason: 'Wait queue timeout elapsed without a connection becoming available',
      error: undefined,
      durationMS: 100
    });
    expect(connectionMessage(new ConnectionCheckOutFailedEvent(ADDRESS, 'connectionError', 7, error), 1000)).toMatchObject({
      reason: 'An error occurred while trying to establish a new connection',
      error: { name: 'MongoNetworkError', message: 'connect ECONNREFUSED' },
      durationMS: 7
    });
    expect(connectionMessage(new ConnectionCheckOutFailedEvent(ADDRESS, 'poolClosed', 0), 1000)).toMatchObject({ reason: 'Connection pool was closed' });
  });
});

describe('through MongoClient over TCP', () => {
  let server: MockServer;
  beforeEach(async () => {
    server = await MockServer.start();
  });
  afterEach(async () => {
    await server.close();
  });

  test('create a client, run a command, close it: the spec sequence of messages, all at debug', async () => {
    const cap = capture({ connection: 'debug' });
    const client = new MongoClient(`mongodb://${server.address}/?directConnection=true&maxPoolSize=5&minPoolSize=0&maxIdleTimeMS=10000`, cap.options);
    try {
      await client.listDatabases();
    } finally {
      await client.close();
    }
    expect(cap.logs.every((l) => l.c === 'connection' && l.s === 'debug')).toBe(true);
    expect(cap.messages()).toEqual([
      'Connection pool created',
      'Connection pool ready',
      'Connection checkout started',
      'Connection created',
      'Connection ready',
      'Connection checked out',
      'Connection checked in',
      // close(): endSessions
      'Connection checkout started',
      'Connection checked out',
      'Connection checked in',
      'Connection closed',
      'Connection pool closed'
    ]);
    const data = cap.data();
    const where = { serverHost: '127.0.0.1', serverPort: server.port };
    expect(data[0]).toEqual({ message: 'Connection pool created', ...where, maxPoolSize: 5, minPoolSize: 0, maxIdleTimeMS: 10000, maxConnecting: 2, waitQueueTimeoutMS: 0 });
    expect(data[3]).toEqual({ message: 'Connection created', ...where, driverConnectionId: 1 });
    expect(data[4]).toEqual({ message: 'Connection ready', ...where, driverConnectionId: 1, durationMS: expect.any(Number) });
    expect(data[5]).toEqual({ message: 'Connection checked out', ...where, driverConnectionId: 1, durationMS: expect.any(Number) });
    expect(data[6]).toEqual({ message: 'Connection checked in', ...where, driverConnectionId: 1 });
    expect(data[10]).toEqual({ message: 'Connection closed', ...where, driverConnectionId: 1, reason: 'Connection pool was closed' });
    expect(data[11]).toEqual({ message: 'Connection pool closed', ...where });
  });

  test('checkout fails because establishing a connection fails: cleared, closed (error), checkout failed', async () => {
    // The first connection (the monitor's) is answered; every later handshake fails with a
    // server error (a network error here would be a backpressure signal, which does not clear).
    let monitorConnection: number | undefined;
    const hello = (request: { body: Record<string, unknown> }, ctx: { connectionId: number }) => {
      monitorConnection ??= ctx.connectionId;
      return ctx.connectionId === monitorConnection ? server.helloReply(request.body, ctx.connectionId) : errorReply(2, 'handshake refused');
    };
    server.setHandler('hello', hello);
    server.setHandler('isMaster', hello);
    const cap = capture({ connection: 'debug' });
    const client = new MongoClient(
      `mongodb://${server.address}/?directConnection=true&serverMonitoringMode=poll&retryReads=false&heartbeatFrequencyMS=10000`,
      cap.options
    );
    try {
      await expect(client.db('a').command({ ping: 1 })).rejects.toThrow('handshake refused');
    } finally {
      await client.close();
    }
    const messages = cap.messages();
    expect(messages.slice(0, 7)).toEqual([
      'Connection pool created',
      'Connection pool ready',
      'Connection checkout started',
      'Connection created',
      'Connection pool cleared',
      'Connection closed',
      'Connection checkout failed'
    ]);
    const data = cap.data();
    const error = { name: 'MongoServerError', message: 'handshake refused', code: 2 };
    expect(data[5]).toMatchObject({ driverConnectionId: 1, reason: 'An error occurred while using the connection', error });
    expect(data[6]).toMatchObject({
      reason: 'An error occurred while trying to establish a new connection',
      error,
      durationMS: expect.any(Number)
    });
  });

  test('at info level (above debug) nothing is logged for the connection component', async () => {
    const cap = capture({ connection: 'info' });
    const client = new MongoClient(`mongodb://${server.address}/?directConnection=true`, cap.options);
    try {
      await client.db('a').command({ ping: 1 });
    } finally {
      await client.close();
    }
    expect(cap.logs).toEqual([]);
    expect(client.listenerCount('connectionCheckedOut')).toBe(0);
  });
});
