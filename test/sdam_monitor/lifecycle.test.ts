import { createMonitorFactory, type MonitorOptions } from '../../src/sdam/monitor';
import { actions } from '../tools/mock_server';
import { RecordingContext, delay, isAwaitable, waitFor, monitorHarness } from './helpers';

const { startServer, startMonitor, track } = monitorHarness();

const checkStarts = (ctx: RecordingContext) => ctx.events.filter(({ event }) => event.name === 'serverHeartbeatStarted').map((e) => e.time);
const checkEnds = (ctx: RecordingContext) => ctx.events.filter(({ event }) => event.name !== 'serverHeartbeatStarted').map((e) => e.time);

describe('start', () => {
  test('the first check starts immediately, but never inside the factory call', async () => {
    const server = await startServer();
    const ctx = new RecordingContext(server.address);
    const before = performance.now();
    const monitor = createMonitorFactory({ serverMonitoringMode: 'poll', heartbeatFrequencyMS: 10_000 })(server.address, ctx);
    track(monitor);
    expect(ctx.events).toHaveLength(0);
    await waitFor(() => ctx.successes.length === 1, 'the first check');
    expect(checkStarts(ctx)[0] - before).toBeLessThan(50);
  });
});

describe('requestCheck', () => {
  const options: MonitorOptions = { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 10_000, minHeartbeatFrequencyMS: 150 };

  test('wakes a pausing monitor, but not sooner than minHeartbeatFrequencyMS after the previous check', async () => {
    const server = await startServer();
    const { monitor, ctx } = startMonitor(server, options);
    await waitFor(() => ctx.successes.length === 1, 'the first check');

    monitor.requestCheck(); // right after the first check: must wait until 150 ms have passed
    await waitFor(() => ctx.successes.length === 2, 'the requested check');
    const [firstEnd] = checkEnds(ctx);
    const secondStart = checkStarts(ctx)[1];
    expect(secondStart - firstEnd).toBeGreaterThanOrEqual(145);
    expect(secondStart - firstEnd).toBeLessThan(400); // far sooner than heartbeatFrequencyMS

    await delay(250); // long after the minimum: a request is served at once
    const requestedAt = performance.now();
    monitor.requestCheck();
    await waitFor(() => ctx.successes.length === 3, 'the second requested check');
    expect(checkStarts(ctx)[2] - requestedAt).toBeLessThan(50);
  });

  test('several requests during one pause cause a single check', async () => {
    const server = await startServer();
    const { monitor, ctx } = startMonitor(server, options);
    await waitFor(() => ctx.successes.length === 1, 'the first check');
    for (let i = 0; i < 5; i++) monitor.requestCheck();
    await delay(400);
    expect(ctx.successes).toHaveLength(2);
  });

  test('is ignored while a check is in progress', async () => {
    const server = await startServer();
    server.setHandler('hello', (request) => actions.delay(100, server.helloReply(request.body, request.connectionId)));
    const { monitor, ctx } = startMonitor(server, options);
    await delay(40);
    expect(ctx.successes).toHaveLength(0); // the handshake is in progress
    monitor.requestCheck();
    await waitFor(() => ctx.successes.length === 1, 'the first check');
    await delay(400);
    expect(ctx.successes).toHaveLength(1);
  });

  test('is ignored while streaming (the stream already reports every change)', async () => {
    const server = await startServer();
    const { monitor, ctx } = startMonitor(server, { ...options, serverMonitoringMode: 'stream' });
    await waitFor(() => server.hellos().some((h) => isAwaitable(h.body)), 'the awaitable hello');
    monitor.requestCheck();
    await delay(300);
    expect(server.hellos().filter((h) => isAwaitable(h.body))).toHaveLength(1);
    expect(ctx.successes).toHaveLength(1);
  });
});

describe('reset', () => {
  test('cancels the streaming check and closes both connections without reporting; the next check reconnects', async () => {
    const server = await startServer();
    const { monitor, ctx } = startMonitor(server, { serverMonitoringMode: 'stream', heartbeatFrequencyMS: 10_000, minHeartbeatFrequencyMS: 50 });
    await waitFor(() => server.hellos().some((h) => isAwaitable(h.body)) && server.openConnectionCount === 2, 'streaming + pinger');

    monitor.reset?.();
    await waitFor(() => server.openConnectionCount === 0, 'the monitoring and RTT connections to close');
    await delay(20);
    expect(ctx.failures).toHaveLength(0); // the topology already marked the server Unknown itself
    // the cancelled heartbeat still gets its closing event
    const names = ctx.eventNames();
    expect(names[names.length - 1]).toBe('serverHeartbeatFailed(awaited)');

    // the monitor pauses (heartbeatFrequencyMS) rather than reconnecting at once ...
    await delay(200);
    expect(server.connectionIds()).toHaveLength(2);
    // ... until a check is requested
    monitor.requestCheck();
    await waitFor(() => ctx.successes.length === 2, 'the reconnection');
    expect(server.connectionIds().length).toBeGreaterThanOrEqual(3);
    await waitFor(() => server.hellos().filter((h) => isAwaitable(h.body)).length === 2, 'streaming to resume');
  });

  test('cancels a polled check in progress; its late reply is not reported', async () => {
    const server = await startServer();
    const { monitor, ctx } = startMonitor(server, { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 10_000, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.successes.length === 1, 'the first check');
    server.setHandler('hello', (request) => actions.delay(100, server.helloReply(request.body, request.connectionId)));
    monitor.requestCheck();
    await waitFor(() => server.hellos().length === 2, 'the second hello');
    monitor.reset?.();
    await delay(200);
    expect(ctx.successes).toHaveLength(1);
    expect(ctx.failures).toHaveLength(0);
    expect(server.openConnectionCount).toBe(0);
  });

  test('during the handshake: the new connection is discarded', async () => {
    const server = await startServer();
    server.setHandler('hello', (request) => actions.delay(80, server.helloReply(request.body, request.connectionId)));
    const { monitor, ctx } = startMonitor(server, { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 10_000, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => server.hellos().length === 1, 'the handshake to start');
    monitor.reset?.();
    await delay(200);
    expect(ctx.successes).toHaveLength(0);
    expect(ctx.failures).toHaveLength(0);
    expect(server.openConnectionCount).toBe(0);
  });
});

describe('close', () => {
  test('while streaming: every connection closed, no further checks, events or reports', async () => {
    const server = await startServer();
    const { monitor, ctx } = startMonitor(server, { serverMonitoringMode: 'stream', heartbeatFrequencyMS: 100, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => server.openConnectionCount === 2 && ctx.successes.length >= 2, 'streaming + pinger');
    monitor.close();
    const events = ctx.events.length;
    await waitFor(() => server.openConnectionCount === 0, 'every connection to close');
    // Sampled once every socket is gone: a hello written just before close() may reach the
    // server's record a moment later, which is not a check started after close.
    const hellos = server.hellos().length;
    await delay(300);
    expect(ctx.events).toHaveLength(events);
    expect(server.hellos()).toHaveLength(hellos);
    expect(ctx.failures).toHaveLength(0);
    monitor.requestCheck(); // harmless after close
    monitor.reset?.();
    monitor.close();
  });

  test('while pausing: the pause timer is cleared and nothing runs again', async () => {
    const server = await startServer();
    const { monitor, ctx } = startMonitor(server, { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 100, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.successes.length === 1, 'the first check');
    monitor.close();
    await delay(250);
    expect(ctx.successes).toHaveLength(1);
    expect(server.openConnectionCount).toBe(0);
  });

  test('during the handshake: the connection is destroyed when it completes and nothing is reported', async () => {
    const server = await startServer();
    server.setHandler('hello', (request) => actions.delay(80, server.helloReply(request.body, request.connectionId)));
    const { monitor, ctx } = startMonitor(server, { serverMonitoringMode: 'stream', heartbeatFrequencyMS: 100 });
    await waitFor(() => server.hellos().length === 1, 'the handshake to start');
    monitor.close();
    await delay(200);
    expect(ctx.successes).toHaveLength(0);
    expect(ctx.failures).toHaveLength(0);
    expect(ctx.eventNames()).toEqual(['serverHeartbeatStarted(polled)']);
    expect(server.openConnectionCount).toBe(0);
  });

  test('before the first check: nothing happens at all', async () => {
    const server = await startServer();
    const { monitor, ctx } = startMonitor(server, { serverMonitoringMode: 'stream', heartbeatFrequencyMS: 100 });
    monitor.close();
    await delay(100);
    expect(ctx.events).toHaveLength(0);
    expect(server.connectionIds()).toHaveLength(0);
  });
});
