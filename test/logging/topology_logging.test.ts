/**
 * "topology" component (SDAM logging and monitoring spec, "Log Messages") through MongoClient
 * over TCP: lifecycle messages, heartbeats (started / succeeded / failed) and description changes.
 */
import { MongoClient } from '../../src/mongo_client';
import { describeTopology, TopologyLogState } from '../../src/log_messages';
import { ServerHeartbeatFailedEvent, ServerHeartbeatStartedEvent, ServerHeartbeatSucceededEvent, TopologyOpeningEvent } from '../../src/sdam/sdam_events';
import { MongoNetworkError } from '../../src/errors';
import { MockAction, MockServer } from '../tools/mock_server';
import { capture, sleep } from './log_capture';

let server: MockServer;
beforeEach(async () => {
  server = await MockServer.start();
});
afterEach(async () => {
  await server.close();
});

test('standalone lifecycle: the spec messages in order, with topologyId, serverHost and serverPort', async () => {
  const cap = capture({ topology: 'debug' });
  const client = new MongoClient(`mongodb://${server.address}/?directConnection=true&serverMonitoringMode=poll`, cap.options);
  let topologyId: number | undefined;
  client.on('topologyOpening', (e) => (topologyId = e.topologyId));
  try {
    await client.connect();
  } finally {
    await client.close();
  }
  const where = { serverHost: '127.0.0.1', serverPort: server.port };
  expect(cap.logs.every((l) => l.c === 'topology' && l.s === 'debug')).toBe(true);
  const data = cap.data();
  expect(cap.messages()).toEqual([
    'Starting topology monitoring',
    'Topology description changed',
    'Starting server monitoring',
    'Server heartbeat started',
    'Server heartbeat succeeded',
    'Topology description changed',
    'Stopped server monitoring',
    'Topology description changed',
    'Stopped topology monitoring'
  ]);
  expect(data[0]).toEqual({ message: 'Starting topology monitoring', topologyId });
  expect(data[2]).toEqual({ message: 'Starting server monitoring', topologyId, ...where });
  expect(data[3]).toEqual({ message: 'Server heartbeat started', topologyId, ...where, driverConnectionId: 0, awaited: false });
  expect(data[4]).toEqual({
    message: 'Server heartbeat succeeded',
    topologyId,
    ...where,
    driverConnectionId: 0,
    serverConnectionId: server.hellos()[0].connectionId,
    awaited: false,
    durationMS: expect.any(Number),
    reply: expect.any(String)
  });
  // The first heartbeat's reply is the monitoring connection's handshake reply.
  const reply = JSON.parse(data[4].reply as string) as Record<string, unknown>;
  expect(reply).toMatchObject({ ok: 1, maxWireVersion: 25, connectionId: server.hellos()[0].connectionId });
  expect(reply.ismaster ?? reply.isWritablePrimary).toBe(true);
  const changed = data[5];
  expect(JSON.parse(changed.previousDescription as string)).toEqual({ type: 'Single', servers: [{ address: server.address, type: 'Unknown' }] });
  expect(JSON.parse(changed.newDescription as string)).toMatchObject({
    type: 'Single',
    servers: [{ address: server.address, type: 'Standalone', maxWireVersion: 25 }]
  });
  expect(data[6]).toEqual({ message: 'Stopped server monitoring', topologyId, ...where });
  expect(data[8]).toEqual({ message: 'Stopped topology monitoring', topologyId });
  // No message for ServerDescriptionChanged (the spec leaves it out).
  expect(cap.messages().some((m) => /server description/i.test(m))).toBe(false);
});

test('streaming heartbeats are awaited; the server connection id of the monitoring connection is kept', async () => {
  const cap = capture({ topology: 'debug' });
  const client = new MongoClient(`mongodb://${server.address}/?directConnection=true&heartbeatFrequencyMS=100`, cap.options);
  try {
    await client.connect();
    await sleep(450);
  } finally {
    await client.close();
  }
  const heartbeats = cap.data().filter((d) => String(d.message).startsWith('Server heartbeat'));
  const awaitedSucceeded = heartbeats.filter((d) => d.message === 'Server heartbeat succeeded' && d.awaited === true);
  expect(awaitedSucceeded.length).toBeGreaterThan(0);
  const monitorConnection = server.hellos()[0].connectionId;
  for (const d of awaitedSucceeded) expect(d.serverConnectionId).toBe(monitorConnection);
  expect(heartbeats.filter((d) => d.message === 'Server heartbeat started' && d.awaited === true).length).toBeGreaterThan(0);
});

test('a failed heartbeat: "Server heartbeat failed" with durationMS and the failure', async () => {
  let hellos = 0;
  const hello = (request: { body: Record<string, unknown> }, ctx: { connectionId: number }) =>
    ++hellos === 1 ? server.helloReply(request.body, ctx.connectionId) : MockAction.close();
  server.setHandler('hello', hello);
  server.setHandler('isMaster', hello);
  const cap = capture({ topology: 'debug' });
  const client = new MongoClient(`mongodb://${server.address}/?directConnection=true&serverMonitoringMode=poll&heartbeatFrequencyMS=500`, cap.options);
  try {
    await client.connect();
    for (let i = 0; i < 40 && !cap.messages().includes('Server heartbeat failed'); i++) await sleep(50);
  } finally {
    await client.close();
  }
  const all = cap.data();
  const failed = all.find((d) => d.message === 'Server heartbeat failed');
  expect(failed).toEqual({
    message: 'Server heartbeat failed',
    topologyId: expect.any(Number),
    serverHost: '127.0.0.1',
    serverPort: server.port,
    driverConnectionId: 0,
    serverConnectionId: server.hellos()[0].connectionId,
    awaited: false,
    durationMS: expect.any(Number),
    failure: expect.objectContaining({ name: expect.stringMatching(/MongoNetwork/), message: expect.any(String) })
  });
  // The following description change reports the server Unknown, with the error.
  const after = all.slice(all.indexOf(failed!));
  const changed = after.find((d) => d.message === 'Topology description changed')!;
  expect(JSON.parse(changed.newDescription as string).servers[0]).toMatchObject({ type: 'Unknown', error: expect.any(String) });
});

describe('TopologyLogState', () => {
  test('heartbeat messages carry the topology id seen at opening; a failure forgets the server connection id', () => {
    const state = new TopologyLogState();
    state.message(new TopologyOpeningEvent(42), 1000);
    const ok = state.message(new ServerHeartbeatSucceededEvent('h:1', 5, { ok: 1, connectionId: 9 }, false), 1000);
    expect(ok).toMatchObject({ topologyId: 42, serverHost: 'h', serverPort: 1, serverConnectionId: 9, reply: '{"ok":1,"connectionId":9}' });
    expect(state.message(new ServerHeartbeatStartedEvent('h:1', true), 1000)).toMatchObject({ serverConnectionId: 9, awaited: true });
    const failed = state.message(new ServerHeartbeatFailedEvent('h:1', 3, new MongoNetworkError('reset'), true), 1000);
    expect(failed).toMatchObject({ serverConnectionId: 9, failure: { name: 'MongoNetworkError', message: 'reset' } });
    expect(state.message(new ServerHeartbeatStartedEvent('h:1', false), 1000)?.serverConnectionId).toBeUndefined();
  });

  test('the heartbeat reply and descriptions are truncated to the max document length', () => {
    const state = new TopologyLogState();
    const fields = state.message(new ServerHeartbeatSucceededEvent('h:1', 5, { ok: 1, big: 'x'.repeat(100) }, false), 10);
    expect(fields?.reply).toBe('{"ok":1,"b...');
    const description = describeTopology(
      { type: 'Unknown', setName: null, maxSetVersion: null, maxElectionId: null, servers: new Map(), compatible: true, compatibilityError: null, logicalSessionTimeoutMinutes: null, heartbeatFrequencyMS: 10000, localThresholdMS: 15, error: null },
      12
    );
    expect(description).toBe('{"type":"Unk...');
  });
});
