/** Shared helpers of the monitor tests: a recording MonitorContext and polling waits. */
import type { Document } from 'bson';
import { serverDescriptionFromHello, unknownServerDescription } from '../../src/sdam/server_description';
import type { ServerHeartbeatEvent } from '../../src/sdam/sdam_events';
import type { MonitorContext, RoundTripTimes } from '../../src/sdam/topology';
import type { ServerDescription } from '../../src/sdam/types';

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
