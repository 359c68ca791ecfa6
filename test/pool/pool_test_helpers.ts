/** Fakes for pool tests: connections without I/O and a factory whose establishments the test controls. */
import type { ObjectId } from 'bson';
import { ConnectionPool, type ConnectionEstablishmentRequest, type ConnectionPoolOptions, type PoolConnection } from '../../src/pool/pool';
import { ConnectionPoolEventName, type ConnectionPoolEvent } from '../../src/pool/pool_events';

export class FakeConnection implements PoolConnection {
  generation: number;
  closed = false;
  closeError: Error | null = null;
  destroyCount = 0;
  interruptedWith: Error | undefined;

  constructor(
    readonly id: number,
    generation: number,
    readonly serviceId?: ObjectId
  ) {
    this.generation = generation;
  }

  destroy(): void {
    this.destroyCount++;
    this.closed = true;
  }

  interrupt(error: Error): void {
    this.interruptedWith = error;
    this.closeError = error;
    this.closed = true;
  }
}

interface PendingEstablishment {
  request: ConnectionEstablishmentRequest;
  resolve(connection?: FakeConnection): void;
  reject(error: Error): void;
}

/**
 * A factory that either establishes immediately (`auto`) or parks each request until the test
 * calls `resolveNext()` / `rejectNext()`. Rejects with the abort reason when the pool aborts.
 */
export class FakeFactory {
  readonly requests: ConnectionEstablishmentRequest[] = [];
  readonly parked: PendingEstablishment[] = [];
  auto = true;
  /** When set, every establishment fails with this error. */
  failWith: Error | undefined;
  /** Load-balanced tests: the serviceId the next connections report. */
  serviceId: ObjectId | undefined;

  readonly create = (request: ConnectionEstablishmentRequest): Promise<FakeConnection> => {
    this.requests.push(request);
    const make = (): FakeConnection => new FakeConnection(request.id, request.generation, this.serviceId);
    if (this.failWith) return Promise.reject(this.failWith);
    if (this.auto) return Promise.resolve(make());
    return new Promise<FakeConnection>((resolve, reject) => {
      const entry: PendingEstablishment = {
        request,
        resolve: (connection) => resolve(connection ?? make()),
        reject
      };
      this.parked.push(entry);
      request.signal.addEventListener('abort', () => reject(request.signal.reason as Error), { once: true });
    });
  };

  resolveNext(): void {
    const entry = this.parked.shift();
    if (!entry) throw new Error('no parked establishment');
    entry.resolve();
  }

  rejectNext(error: Error): void {
    const entry = this.parked.shift();
    if (!entry) throw new Error('no parked establishment');
    entry.reject(error);
  }
}

export interface RecordedEvent {
  type: string;
  event: ConnectionPoolEvent;
}

/** Creates a pool on a fake factory and records every CMAP event. */
export function makePool(
  options: ConnectionPoolOptions = {},
  factory = new FakeFactory()
): { pool: ConnectionPool<FakeConnection>; factory: FakeFactory; events: RecordedEvent[]; types: () => string[] } {
  const pool = new ConnectionPool<FakeConnection>('localhost:27017', factory.create, options);
  const events: RecordedEvent[] = [];
  for (const name of Object.values(ConnectionPoolEventName)) {
    pool.on(name, (event: ConnectionPoolEvent) => events.push({ type: name, event }));
  }
  return { pool, factory, events, types: () => events.map((e) => e.type) };
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
