import { MongoNetworkError, MongoServerError } from '../../src/errors';
import { ServerType } from '../../src/sdam/types';
import { actions, errorReply } from '../tools/mock_server';
import { RecordingContext, delay, isAwaitable, waitFor, monitorHarness } from './helpers';

const { startServer, startMonitor } = monitorHarness();

const heartbeatStarts = (ctx: RecordingContext) => ctx.events.filter(({ event }) => event.name === 'serverHeartbeatStarted');

describe('failed checks', () => {
  test('an ok: 0 reply fails the check with MongoServerError, closes the connection and waits before reconnecting', async () => {
    const server = await startServer();
    const { ctx } = startMonitor(server, { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 150, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.successes.length === 1, 'the handshake');
    server.setHandler('hello', errorReply(91, 'The server is in quiesce mode and will shut down', { codeName: 'ShutdownInProgress' }));

    await waitFor(() => ctx.failures.length === 1, 'the failure');
    const { error, time } = ctx.failures[0];
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(91);
    const failedConnection = server.hellos()[0].connectionId;
    await waitFor(() => server.isConnectionClosed(failedConnection), 'the monitoring connection to close');

    // a command error is not retried at once: the next attempt (a new connection) comes a heartbeat later
    server.removeHandler('hello');
    await waitFor(() => ctx.successes.length === 2, 'the reconnection');
    const restartedAt = heartbeatStarts(ctx)[2].time;
    expect(restartedAt - time).toBeGreaterThanOrEqual(140);
    expect(server.hellos()[server.hellos().length - 1].connectionId).not.toBe(failedConnection);
    expect(ctx.log).toContain('serverHeartbeatFailed(polled)');
  });

  test('a network error on a known server is reported, then retried at once (once)', async () => {
    const server = await startServer();
    const { monitor, ctx } = startMonitor(server, { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 10_000, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.successes.length === 1, 'the handshake');
    expect(ctx.current.type).toBe(ServerType.Standalone);

    server.setHandler('hello', actions.close()); // every hello, including handshakes, now fails
    monitor.requestCheck();
    await waitFor(() => ctx.failures.length === 2, 'the failure and its retry');
    const [first, retry] = ctx.failures;
    expect(first.error).toBeInstanceOf(MongoNetworkError);
    expect(retry.error).toBeInstanceOf(MongoNetworkError);
    // the retry started right after the first failure was reported, without pausing
    const retryStart = heartbeatStarts(ctx)[2].time;
    expect(retryStart - first.time).toBeLessThan(50);
    // the failure is reported (server Unknown, pool cleared by the topology) before retrying
    expect(ctx.log.slice(3)).toEqual([
      'serverHeartbeatStarted(polled)',
      'serverHeartbeatFailed(polled)',
      'checkFailed',
      'serverHeartbeatStarted(polled)',
      'serverHeartbeatFailed(polled)',
      'checkFailed'
    ]);

    // only once: the server is Unknown now, so the monitor pauses (heartbeatFrequencyMS = 10 s)
    await delay(300);
    expect(ctx.failures).toHaveLength(2);

    // a requested check reconnects once the server is back
    server.removeHandler('hello');
    monitor.requestCheck();
    await waitFor(() => ctx.successes.length === 2, 'recovery');
    expect(ctx.current.type).toBe(ServerType.Standalone);
  });

  test('a successful retry after a network error restores the server immediately', async () => {
    const server = await startServer();
    const { monitor, ctx } = startMonitor(server, { serverMonitoringMode: 'poll', heartbeatFrequencyMS: 10_000, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.successes.length === 1, 'the handshake');
    let failNext = true;
    server.setHandler('hello', (request) => {
      if (failNext && request.commandName === 'hello') {
        failNext = false;
        return actions.reset();
      }
      return server.helloReply(request.body, request.connectionId);
    });
    monitor.requestCheck();
    await waitFor(() => ctx.successes.length === 2, 'the retry');
    expect(ctx.failures).toHaveLength(1);
    expect(ctx.successes[1].time - ctx.failures[0].time).toBeLessThan(100);
    expect(ctx.log.slice(-4)).toEqual([
      'checkFailed',
      'serverHeartbeatStarted(polled)',
      'serverHeartbeatSucceeded(polled)',
      'checkSucceeded'
    ]);
  });

  test('a network error on a server that was never reached is not retried at once', async () => {
    const server = await startServer();
    await server.stop(); // connection refused from now on
    const { monitor, ctx } = startMonitor(server, { serverMonitoringMode: 'stream', heartbeatFrequencyMS: 10_000, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.failures.length === 1, 'the failure');
    expect(ctx.failures[0].error).toBeInstanceOf(MongoNetworkError);
    await delay(300);
    expect(ctx.failures).toHaveLength(1);

    await server.listen();
    monitor.requestCheck();
    await waitFor(() => ctx.successes.length === 1, 'the server to be found');
  });

  test('a dropped streaming connection is reported (awaited) and the monitor reconnects at once', async () => {
    const server = await startServer();
    const { ctx } = startMonitor(server, { serverMonitoringMode: 'stream', heartbeatFrequencyMS: 10_000, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => server.hellos().some((h) => isAwaitable(h.body)), 'the awaitable hello');
    const streamingConnection = server.hellos()[0].connectionId;
    server.dropConnection(streamingConnection);

    await waitFor(() => ctx.successes.length === 2, 'the reconnection');
    expect(ctx.failures).toHaveLength(1);
    expect(ctx.failures[0].error).toBeInstanceOf(MongoNetworkError);
    const failed = ctx.events.map((e) => e.event).find((e) => e.name === 'serverHeartbeatFailed');
    expect(failed?.awaited).toBe(true);
    expect(ctx.successes[1].time - ctx.failures[0].time).toBeLessThan(200);
    // streaming resumes on the new connection
    await waitFor(() => server.hellos().filter((h) => isAwaitable(h.body)).length === 2, 'streaming to resume');
  });

  test('an ok: 0 streamed reply fails the check and the next one starts on a new connection', async () => {
    const server = await startServer();
    server.setHandler('hello', (request) =>
      isAwaitable(request.body) ? errorReply(189, 'primary stepped down', { codeName: 'PrimarySteppedDown' }) : server.helloReply(request.body, request.connectionId)
    );
    const { ctx } = startMonitor(server, { serverMonitoringMode: 'stream', heartbeatFrequencyMS: 100, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.failures.length === 1, 'the failure');
    expect(ctx.failures[0].error).toBeInstanceOf(MongoServerError);
    await waitFor(() => ctx.successes.length === 2, 'the reconnection');
    const connections = new Set(server.hellos().map((h) => h.connectionId));
    expect(connections.size).toBeGreaterThanOrEqual(2);
  });
});
