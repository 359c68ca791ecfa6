/** Shared helpers of the monitor tests: a recording MonitorContext, a server/monitor harness and polling waits. */
import type { Document } from 'bson';
import { createMonitorFactory, type MonitorOptions } from '../../src/sdam/monitor';
import { serverDescriptionFromHello, unknownServerDescription } from '../../src/sdam/server_description';
import type { ServerHeartbeatEvent } from '../../src/sdam/sdam_events';
import type { MonitorContext, MonitorHandle, RoundTripTimes } from '../../src/sdam/topology';
import type { ServerDescription } from '../../src/sdam/types';
import { MockServer, type MockServerOptions } from '../tools/mock_server';

export interface RecordedSuccess {
  hello: Document;
  rtt: RoundTripTimes | undefined;
  /** performance.now() when reported. */
  time: number;
}

export interface RecordedFailure {
  error: Error;
  time: number;
}

/** A MonitorContext that records everything and tracks the server description like the topology would. */
export class RecordingContext implements MonitorContext {
  readonly topologyId = 0;
  current: ServerDescription;
  readonly events: Array<{ event: ServerHeartbeatEvent; time: number }> = [];
  readonly successes: RecordedSuccess[] = [];
  readonly failures: RecordedFailure[] = [];
  /** Everything in order: heartbeat event names and `checkSucceeded` / `checkFailed`. */
  readonly log: string[] = [];

  constructor(readonly address: string) {
    this.current = unknownServerDescription(address);
  }

  description(): ServerDescription {
    return this.current;
  }

  checkSucceeded(hello: Document, rtt?: RoundTripTimes): void {
    this.successes.push({ hello, rtt, time: performance.now() });
    this.log.push('checkSucceeded');
    this.current = serverDescriptionFromHello(this.address, hello, rtt ?? {});
  }

  checkFailed(error: Error): void {
    this.failures.push({ error, time: performance.now() });
    this.log.push('checkFailed');
    this.current = unknownServerDescription(this.address, { error });
  }

  emitHeartbeat(event: ServerHeartbeatEvent): void {
    this.events.push({ event, time: performance.now() });
    this.log.push(`${event.name}(${event.awaited ? 'awaited' : 'polled'})`);
  }

  eventNames(): string[] {
    return this.events.map(({ event }) => `${event.name}(${event.awaited ? 'awaited' : 'polled'})`);
  }
}

export interface MonitorHarness {
  /** Starts a mock server, closed after the test. */
  startServer(options?: MockServerOptions): Promise<MockServer>;
  /** Starts a monitor of `server` (the harness defaults, then `options`), closed after the test. */
  startMonitor(server: MockServer, options: MonitorOptions): { monitor: MonitorHandle; ctx: RecordingContext };
  /** Closes a monitor created outside `startMonitor` after the test. */
  track(monitor: MonitorHandle): void;
}

/** Registers an `afterEach` that closes every monitor, then every server, the test started. */
export function monitorHarness(defaults: MonitorOptions = {}): MonitorHarness {
  const servers: MockServer[] = [];
  const monitors: MonitorHandle[] = [];
  afterEach(async () => {
    for (const monitor of monitors.splice(0)) monitor.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return {
    async startServer(options = {}) {
      const server = await MockServer.start(options);
      servers.push(server);
      return server;
    },
    startMonitor(server, options) {
      const ctx = new RecordingContext(server.address);
      const monitor = createMonitorFactory({ ...defaults, ...options })(server.address, ctx);
      monitors.push(monitor);
      return { monitor, ctx };
    },
    track(monitor) {
      monitors.push(monitor);
    }
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 5 ms; throws after `timeoutMS`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMS = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** True when `body` is an awaitable hello (carries maxAwaitTimeMS). */
export function isAwaitable(body: Document): boolean {
  return body.maxAwaitTimeMS !== undefined;
}
