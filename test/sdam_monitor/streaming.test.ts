import type { Document } from 'bson';
import { connect, type Connection, type ConnectionOptions } from '../../src/pool/connection';
import { MockServer, actions } from '../tools/mock_server';
import { delay, isAwaitable, waitFor, monitorHarness } from './helpers';

const { startServer, startMonitor } = monitorHarness({ serverMonitoringMode: 'stream' });

const awaitableHellos = (server: MockServer) => server.hellos().filter((h) => isAwaitable(h.body));

describe('streaming protocol', () => {
  test('after the handshake, sends an awaitable hello with topologyVersion, maxAwaitTimeMS and exhaustAllowed', async () => {
    const server = await startServer({ type: 'primary', setName: 'rs0' });
    const { ctx } = startMonitor(server, { heartbeatFrequencyMS: 300, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => awaitableHellos(server).length === 1, 'the awaitable hello');

    const [streaming] = awaitableHellos(server);
    const handshake = server.hellos()[0];
    expect(streaming.connectionId).toBe(handshake.connectionId); // same connection as the handshake
    expect(streaming.commandName).toBe('hello');
    expect(streaming.exhaustAllowed).toBe(true);
    expect(Number(streaming.body.maxAwaitTimeMS)).toBe(300);
    const tv = streaming.body.topologyVersion as Document;
    expect(String(tv.processId)).toBe(server.processId.toHexString());
    expect(Number(tv.counter)).toBe(server.topologyCounter);
    expect(ctx.successes).toHaveLength(1); // the handshake reply was the first check
  });

  test('a topology change on the server is reported at once (well before heartbeatFrequencyMS)', async () => {
    const server = await startServer({ type: 'primary', setName: 'rs0' });
    const { ctx } = startMonitor(server, { heartbeatFrequencyMS: 2000, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => awaitableHellos(server).length === 1, 'the awaitable hello');
    await delay(20);

    const start = performance.now();
    server.setState({ tags: { dc: 'east' } });
    await waitFor(() => ctx.successes.some((s) => (s.hello.tags as Document | undefined)?.dc === 'east'), 'the streamed reply');
    expect(performance.now() - start).toBeLessThan(500);
    expect(ctx.current.tags).toEqual({ dc: 'east' });

    // and the next one, on the same exhaust stream (no new request)
    server.setState({ tags: { dc: 'west' } });
    await waitFor(() => ctx.successes.some((s) => (s.hello.tags as Document | undefined)?.dc === 'west'), 'the second streamed reply');
    expect(awaitableHellos(server)).toHaveLength(1);
    expect(ctx.failures).toHaveLength(0);
  });

  test('streamed replies keep arriving every maxAwaitTimeMS without changes', async () => {
    const server = await startServer();
    const { ctx } = startMonitor(server, { heartbeatFrequencyMS: 80, minHeartbeatFrequencyMS: 10 });
    await delay(450);
    // handshake + ~5 awaited replies
    expect(ctx.successes.length).toBeGreaterThanOrEqual(4);
    const awaited = ctx.events.map((e) => e.event).filter((e) => e.name === 'serverHeartbeatSucceeded' && e.awaited);
    expect(awaited.length).toBe(ctx.successes.length - 1);
    for (const event of awaited) if (event.name === 'serverHeartbeatSucceeded') expect(event.duration).toBeGreaterThanOrEqual(60);
  });

  test('heartbeat events: polled handshake, then awaited started/succeeded pairs', async () => {
    const server = await startServer();
    const { ctx } = startMonitor(server, { heartbeatFrequencyMS: 60, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.successes.length >= 4, 'four checks');
    const names = ctx.eventNames();
    expect(names.slice(0, 2)).toEqual(['serverHeartbeatStarted(polled)', 'serverHeartbeatSucceeded(polled)']);
    // every started event is followed by its outcome, and the stream publishes a started event
    // before reading each further reply
    for (let i = 2; i + 1 < names.length; i += 2) {
      expect(names.slice(i, i + 2)).toEqual(['serverHeartbeatStarted(awaited)', 'serverHeartbeatSucceeded(awaited)']);
    }
    expect(names[names.length - 1]).toMatch(/^serverHeartbeat(Started|Succeeded)\(awaited\)$/);
  });

  test('RTT comes only from the pinger, on its own connection, never from awaited durations', async () => {
    const server = await startServer();
    let opened = 0;
    const connectWithSlowPinger = async (options: ConnectionOptions): Promise<Connection> => {
      const connection = await connect(options);
      if (++opened === 2) {
        // the second connection is the RTT pinger's: make each of its hellos take >= 40 ms
        const command = connection.command.bind(connection);
        connection.command = async (db, cmd, commandOptions) => {
          await delay(40);
          return command(db, cmd, commandOptions);
        };
      }
      return connection;
    };
    const { ctx } = startMonitor(server, { heartbeatFrequencyMS: 100, minHeartbeatFrequencyMS: 10, connect: connectWithSlowPinger });
    await waitFor(() => ctx.successes.length >= 9, 'eight streamed replies', 5000);

    const hellos = server.hellos();
    const monitorConnection = hellos[0].connectionId;
    const pingerHellos = hellos.filter((h) => h.connectionId !== monitorConnection);
    expect(new Set(pingerHellos.map((h) => h.connectionId)).size).toBe(1);
    expect(pingerHellos.length).toBeGreaterThanOrEqual(4); // handshake + a hello every ~100 ms
    expect(pingerHellos.some((h) => isAwaitable(h.body) || h.exhaustAllowed)).toBe(false);

    // Awaited replies take ~100 ms each: had they been RTT samples, the average would approach 100.
    const streamed = ctx.successes.slice(1).map((s) => s.rtt?.roundTripTime ?? -1);
    expect(Math.max(...streamed)).toBeLessThan(70);
    // The pinger's ~40 ms samples did raise the average well above the ~1 ms handshakes.
    expect(streamed[streamed.length - 1]).toBeGreaterThan(15);
    // min RTT over the last samples: the fast handshakes are still in the window
    expect(ctx.successes[ctx.successes.length - 1].rtt?.minRoundTripTime).toBeLessThan(40);
  });

  test('the RTT pinger ignores its own failures (no events, no topology update) and reconnects', async () => {
    const server = await startServer();
    const { ctx } = startMonitor(server, { heartbeatFrequencyMS: 60, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => server.connectionIds().length === 2, 'the pinger connection');
    const [monitorConnection, pingerConnection] = server.connectionIds();
    const eventsBefore = ctx.events.length;
    server.dropConnection(pingerConnection);
    await waitFor(() => server.connectionIds().length === 3, 'the pinger reconnecting');
    expect(server.isConnectionClosed(monitorConnection)).toBe(false);
    expect(ctx.failures).toHaveLength(0);
    expect(ctx.events.slice(eventsBefore).every(({ event }) => event.name !== 'serverHeartbeatFailed')).toBe(true);
  });

  test('without topologyVersion in the replies (pre-4.4 server), stream mode falls back to polling', async () => {
    const server = await startServer({ maxWireVersion: 8 });
    server.setHandler('hello', (request) => {
      const reply = server.helloReply(request.body, request.connectionId);
      delete reply.topologyVersion;
      return reply;
    });
    const { ctx } = startMonitor(server, { heartbeatFrequencyMS: 50, minHeartbeatFrequencyMS: 10 });
    await waitFor(() => ctx.successes.length >= 4, 'four checks');
    expect(awaitableHellos(server)).toHaveLength(0);
    expect(server.connectionIds()).toHaveLength(1); // and no RTT connection
    expect(ctx.events.every(({ event }) => !event.awaited)).toBe(true);
  });

  test('the awaitable hello times out after connectTimeoutMS + heartbeatFrequencyMS, not connectTimeoutMS', async () => {
    const server = await startServer();
    server.setHandler('hello', (request) =>
      isAwaitable(request.body) ? actions.noReply() : server.helloReply(request.body, request.connectionId)
    );
    const { ctx } = startMonitor(server, { heartbeatFrequencyMS: 150, minHeartbeatFrequencyMS: 10, connectTimeoutMS: 100 });
    await waitFor(() => ctx.failures.length === 1, 'the timeout');
    const failed = ctx.events.map((e) => e.event).find((e) => e.name === 'serverHeartbeatFailed');
    if (failed?.name !== 'serverHeartbeatFailed') throw new Error('no heartbeat failed event');
    expect(failed.awaited).toBe(true);
    expect(failed.failure.name).toBe('MongoNetworkTimeoutError');
    expect(failed.duration).toBeGreaterThanOrEqual(240);
    expect(ctx.failures[0].error).toBe(failed.failure);
  });
});
