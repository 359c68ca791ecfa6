import type { Document } from 'bson';
import { MongoInvalidArgumentError } from '../../src/errors';
import type { ConnectionOptions } from '../../src/pool/connection';
import { createMonitorFactory, isStreamingEnabled } from '../../src/sdam/monitor';
import { actions } from '../tools/mock_server';
import { isAwaitable, waitFor, monitorHarness } from './helpers';

const { startServer, startMonitor } = monitorHarness();

describe('polling protocol', () => {
  test('checks once per heartbeatFrequencyMS on a single connection, with plain (non-awaitable) hellos', async () => {
    const server = await startServer();
    const started = Date.now();
    const { ctx } = startMonitor(server, { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 100, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.successes.length >= 4, 'four checks');
    const elapsed = Date.now() - started;

    // handshake at ~0 ms, then a hello every ~100 ms: never more often than that (load may only slow it)
    expect(ctx.successes.length).toBeLessThanOrEqual(Math.floor(elapsed / 100) + 2);
    const hellos = server.hellos();
    expect(new Set(hellos.map((h) => h.connectionId)).size).toBe(1); // no RTT pinger connection when polling
    expect(hellos.some((h) => isAwaitable(h.body) || h.exhaustAllowed)).toBe(false);
    for (let i = 2; i < hellos.length; i++) {
      expect(hellos[i].time - hellos[i - 1].time).toBeGreaterThanOrEqual(90);
    }
    expect(ctx.failures).toHaveLength(0);
  });

  test('RTT comes from the checks themselves (moving average of the hello durations)', async () => {
    const server = await startServer();
    server.setHandler('hello', (request) => actions.delay(30, server.helloReply(request.body, request.connectionId)));
    const { ctx } = startMonitor(server, { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 60, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.successes.length >= 3, 'three checks');

    for (const { rtt } of ctx.successes) {
      expect(rtt?.roundTripTime).toBeGreaterThanOrEqual(29);
      expect(rtt?.roundTripTime).toBeLessThan(500);
    }
    // min RTT is 0 until two samples exist, then the smallest recent sample
    expect(ctx.successes[0].rtt?.minRoundTripTime).toBe(0);
    expect(ctx.successes[2].rtt?.minRoundTripTime).toBeGreaterThanOrEqual(29);
    expect(ctx.current.roundTripTime).toBeGreaterThanOrEqual(29);
  });

  test('heartbeat events alternate started/succeeded, never awaited, with the reply and a duration', async () => {
    const server = await startServer();
    const { ctx } = startMonitor(server, { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 50, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.successes.length >= 3, 'three checks');

    const names = ctx.eventNames();
    for (let i = 0; i + 1 < 6; i += 2) {
      expect(names.slice(i, i + 2)).toEqual(['serverHeartbeatStarted(polled)', 'serverHeartbeatSucceeded(polled)']);
    }
    const succeeded = ctx.events.map((e) => e.event).filter((e) => e.name === 'serverHeartbeatSucceeded');
    for (const event of succeeded) {
      expect(event.connectionId).toBe(server.address);
      if (event.name !== 'serverHeartbeatSucceeded') throw new Error('unreachable');
      expect(event.reply.ok).toBe(1);
      expect(event.duration).toBeGreaterThanOrEqual(0);
    }
    // the heartbeat event is published before the topology hears of the outcome
    expect(ctx.log.slice(0, 3)).toEqual(['serverHeartbeatStarted(polled)', 'serverHeartbeatSucceeded(polled)', 'checkSucceeded']);
  });

  test('monitors with hello when the handshake said helloOk: true', async () => {
    const server = await startServer();
    const { ctx } = startMonitor(server, { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 50, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.successes.length >= 3, 'three checks');
    const names = server.hellos().map((h) => h.commandName);
    expect(names[0]).toBe('isMaster'); // handshake without a server API: legacy hello + helloOk
    expect(server.hellos()[0].body.helloOk).toBe(true);
    expect(names.slice(1).every((n) => n === 'hello')).toBe(true);
    expect(server.hellos()[1].body.helloOk).toBe(true);
  });

  test('monitors with legacy isMaster when the handshake reply lacks helloOk', async () => {
    const server = await startServer({ helloExtra: { helloOk: false } });
    const { ctx } = startMonitor(server, { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 50, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.successes.length >= 3, 'three checks');
    expect(server.hellos().map((h) => h.commandName).every((n) => n === 'isMaster')).toBe(true);
  });

  test('monitors with hello when a server API version is requested, whatever helloOk says', async () => {
    const server = await startServer({ helloExtra: { helloOk: false } });
    const { ctx } = startMonitor(server, {
      serverMonitoringMode: 'poll',
      heartbeatFrequencyMS: 50,
      minHeartbeatFrequencyMS: 10,
      connectionOptions: { serverApi: { version: '1' } }
    });
    await waitFor(() => ctx.successes.length >= 3, 'three checks');
    const hellos = server.hellos();
    expect(hellos.every((h) => h.commandName === 'hello')).toBe(true);
    expect(hellos[1].body.apiVersion).toBe('1');
  });

  test('monitoring connections never authenticate but carry the application metadata', async () => {
    const server = await startServer({ saslSupportedMechs: ['SCRAM-SHA-256'] });
    const authenticate = jest.fn(async () => undefined);
    const prepareHandshake = jest.fn(async (hello: Document) => ({ ...hello, saslSupportedMechs: 'admin.user' }));
    // A caller might pass application connection options as they are: auth hooks must be ignored.
    const connectionOptions: ConnectionOptions = { address: server.address, appName: 'monitor-test', authenticate, prepareHandshake };
    const { ctx } = startMonitor(server, { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 50, minHeartbeatFrequencyMS: 10, connectionOptions });
    await waitFor(() => ctx.successes.length >= 2, 'two checks');
    expect(authenticate).not.toHaveBeenCalled();
    expect(prepareHandshake).not.toHaveBeenCalled();
    const handshake = server.hellos()[0].body;
    expect(handshake.saslSupportedMechs).toBeUndefined();
    expect(handshake.speculativeAuthenticate).toBeUndefined();
    expect((handshake.client as Document).application).toEqual({ name: 'monitor-test' });
    expect(server.nonHelloCommands()).toHaveLength(0);
  });

  test('connectTimeoutMS is the socket timeout of a polled hello', async () => {
    const server = await startServer();
    const { monitor, ctx } = startMonitor(server, {
      serverMonitoringMode: 'poll',
      heartbeatFrequencyMS: 10_000,
      minHeartbeatFrequencyMS: 10,
      connectTimeoutMS: 150
    });
    await waitFor(() => ctx.successes.length === 1, 'the handshake');
    server.setHandler('hello', actions.noReply());
    monitor.requestCheck();
    await waitFor(() => ctx.failures.length >= 1, 'the timeout');
    const failed = ctx.events.map((e) => e.event).find((e) => e.name === 'serverHeartbeatFailed');
    expect(failed?.name === 'serverHeartbeatFailed' && failed.failure.name).toBe('MongoNetworkTimeoutError');
    expect(failed?.name === 'serverHeartbeatFailed' && failed.duration).toBeGreaterThanOrEqual(140);
    expect(ctx.failures[0].error.name).toBe('MongoNetworkTimeoutError');
  });
});

describe('serverMonitoringMode', () => {
  test('auto streams unless a FaaS platform is detected; stream and poll are fixed', () => {
    expect(isStreamingEnabled('auto', {})).toBe(true);
    expect(isStreamingEnabled('auto', { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x' })).toBe(false);
    expect(isStreamingEnabled('auto', { FUNCTIONS_WORKER_RUNTIME: 'node' })).toBe(false);
    expect(isStreamingEnabled('auto', { VERCEL: '1' })).toBe(false);
    expect(isStreamingEnabled('stream', { AWS_LAMBDA_RUNTIME_API: 'x' })).toBe(true);
    expect(isStreamingEnabled('poll', {})).toBe(false);
  });

  test('auto on a FaaS platform polls: no awaitable hello and no RTT connection', async () => {
    const server = await startServer();
    const { ctx } = startMonitor(server, {
      serverMonitoringMode: 'auto',
      env: { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' },
      heartbeatFrequencyMS: 50,
      minHeartbeatFrequencyMS: 10
    });
    await waitFor(() => ctx.successes.length >= 4, 'four checks');
    expect(server.hellos().some((h) => isAwaitable(h.body))).toBe(false);
    expect(server.connectionIds()).toHaveLength(1);
  });

  test('invalid options are rejected', () => {
    expect(() => createMonitorFactory({ heartbeatFrequencyMS: 0 })).toThrow(MongoInvalidArgumentError);
    expect(() => createMonitorFactory({ minHeartbeatFrequencyMS: -1 })).toThrow(MongoInvalidArgumentError);
    expect(() => createMonitorFactory({ connectTimeoutMS: Number.NaN })).toThrow(MongoInvalidArgumentError);
    expect(() => createMonitorFactory({ serverMonitoringMode: 'sometimes' as 'auto' })).toThrow(MongoInvalidArgumentError);
  });
});
