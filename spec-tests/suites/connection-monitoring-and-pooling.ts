/**
 * CMAP spec runner (tests/cmap-format/README.md). `style: "unit"` files run against a
 * ConnectionPool whose factory makes fake connections (no I/O); "threads" are sequential async
 * chains. `style: "integration"` files (fail points) and the unified-format logging tests need a
 * live server and are skipped.
 */
import * as path from 'node:path';
import { ConnectionPool, type ConnectionPoolOptions, type PoolConnection } from '../../src/pool/pool';
import { ConnectionPoolEventName, type ConnectionPoolEvent } from '../../src/pool/pool_events';
import { listJsonFiles, readSpecJson, runCase, skip, type CaseResult, type SpecSuite } from '../framework';

interface CmapOperation {
  name: string;
  thread?: string;
  target?: string;
  ms?: number;
  event?: string;
  count?: number;
  timeout?: number;
  label?: string;
  connection?: string;
  interruptInUseConnections?: boolean;
}

interface CmapTest {
  version: number;
  style: 'unit' | 'integration';
  description: string;
  poolOptions?: Record<string, unknown>;
  operations: CmapOperation[];
  error?: Record<string, unknown>;
  events?: Array<Record<string, unknown>>;
  ignore?: string[];
}

const ADDRESS = 'localhost:27017';
const DEFAULT_WAIT_FOR_EVENT_TIMEOUT_MS = 10_000;

class FakeConnection implements PoolConnection {
  generation = 0;
  closed = false;
  constructor(readonly id: number) {}
  destroy(): void {
    this.closed = true;
  }
  interrupt(): void {
    this.closed = true;
  }
}

/** A test "thread": operations run one after another; the first error stops it and is kept. */
class Thread {
  private chain: Promise<void> = Promise.resolve();
  private failed = false;
  private error: unknown;

  schedule(fn: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.failed) return;
      try {
        await fn();
      } catch (error) {
        this.failed = true;
        this.error = error;
      }
    });
  }

  /** Waits for the scheduled operations; rethrows the thread's error. */
  async join(): Promise<void> {
    await this.chain;
    if (this.failed) throw this.error;
  }

  /** Waits for the scheduled operations, ignoring errors. */
  async settle(): Promise<void> {
    await this.chain;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `ConnectionCheckedOut` ↔ `connectionCheckedOut`. */
const typeOf = (event: ConnectionPoolEvent): string => event.name[0].toUpperCase() + event.name.slice(1);

/** The fields the test format can assert, under the test format's names. */
function eventView(event: ConnectionPoolEvent): Record<string, unknown> {
  const view: Record<string, unknown> = { ...event, type: typeOf(event) };
  if ('durationMS' in event) view.duration = event.durationMS;
  return view;
}

/** The test README's MATCH: `expected` is a subset of `actual`; 42 / "42" match any non-null value. */
function assertMatches(expected: unknown, actual: unknown, where: string): void {
  if (expected === 42 || expected === '42') {
    if (actual === undefined || actual === null) throw new Error(`${where}: expected a value, got ${String(actual)}`);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw new Error(`${where}: expected an array, got ${JSON.stringify(actual)}`);
    expected.forEach((value, i) => assertMatches(value, actual[i], `${where}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') {
      throw new Error(`${where}: expected an object, got ${JSON.stringify(actual)}`);
    }
    for (const [key, value] of Object.entries(expected)) {
      assertMatches(value, (actual as Record<string, unknown>)[key], `${where}.${key}`);
    }
    return;
  }
  if (expected !== actual) {
    throw new Error(`${where}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

function poolOptionsOf(test: CmapTest): ConnectionPoolOptions {
  const o = test.poolOptions ?? {};
  const num = (key: string): number | undefined => (typeof o[key] === 'number' ? (o[key] as number) : undefined);
  return {
    maxPoolSize: num('maxPoolSize'),
    minPoolSize: num('minPoolSize'),
    maxConnecting: num('maxConnecting'),
    maxIdleTimeMS: num('maxIdleTimeMS'),
    waitQueueTimeoutMS: num('waitQueueTimeoutMS'),
    backgroundThreadIntervalMS: num('backgroundThreadIntervalMS')
  };
}

async function runUnitTest(test: CmapTest): Promise<void> {
  const events: ConnectionPoolEvent[] = [];
  const pool = new ConnectionPool<FakeConnection>(
    ADDRESS,
    async ({ id }) => new FakeConnection(id),
    poolOptionsOf(test)
  );
  for (const name of Object.values(ConnectionPoolEventName)) {
    pool.on(name, (event: ConnectionPoolEvent) => events.push(event));
  }
  const labels = new Map<string, FakeConnection>();
  const threads = new Map<string, Thread>();
  const countOf = (type: string): number => events.filter((e) => typeOf(e) === type).length;

  const execute = async (op: CmapOperation): Promise<void> => {
    switch (op.name) {
      case 'start':
        threads.set(String(op.target), new Thread());
        return;
      case 'wait':
        await sleep(op.ms ?? 0);
        return;
      case 'waitForThread': {
        const thread = threads.get(String(op.target));
        if (!thread) throw new Error(`unknown thread ${String(op.target)}`);
        await thread.join();
        return;
      }
      case 'waitForEvent': {
        const type = String(op.event);
        const count = op.count ?? 1;
        const timeout = op.timeout ?? DEFAULT_WAIT_FOR_EVENT_TIMEOUT_MS;
        const deadline = Date.now() + timeout;
        while (countOf(type) < count) {
          if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeout} ms waiting for ${count} ${type} event(s), saw ${countOf(type)}`);
          }
          await sleep(1);
        }
        return;
      }
      case 'checkOut': {
        const connection = await pool.checkOut();
        if (op.label) labels.set(op.label, connection);
        return;
      }
      case 'checkIn': {
        const connection = labels.get(String(op.connection));
        if (!connection) throw new Error(`unknown connection label ${String(op.connection)}`);
        pool.checkIn(connection);
        return;
      }
      case 'clear':
        pool.clear({ interruptInUseConnections: op.interruptInUseConnections });
        return;
      case 'close':
        pool.close();
        return;
      case 'ready':
        pool.ready();
        return;
      default:
        throw new Error(`unsupported operation ${op.name}`);
    }
  };

  let mainError: unknown;
  try {
    try {
      for (const op of test.operations) {
        if (op.thread) {
          const thread = threads.get(op.thread);
          if (!thread) throw new Error(`operation on unknown thread ${op.thread}`);
          thread.schedule(() => execute(op));
        } else {
          await execute(op);
        }
      }
    } catch (error) {
      mainError = error;
    }

    if (test.error) {
      if (mainError === undefined) throw new Error(`expected error ${JSON.stringify(test.error)}, but none was thrown`);
      const e = mainError as Error & { address?: string };
      const actual = { type: e.name.replace(/^Mongo/, ''), message: e.message, address: e.address };
      assertMatches(test.error, actual, 'error');
    } else if (mainError !== undefined) {
      throw mainError;
    }

    const ignore = new Set(test.ignore ?? []);
    const actualEvents = events.filter((e) => !ignore.has(typeOf(e))).map(eventView);
    (test.events ?? []).forEach((expected, i) => {
      const actual = actualEvents[i];
      if (!actual) {
        throw new Error(
          `event ${i} (${String(expected.type)}) missing; got ${JSON.stringify(actualEvents.map((e) => e.type))}`
        );
      }
      try {
        assertMatches(expected, actual, `events[${i}]`);
      } catch (error) {
        throw new Error(
          `${(error as Error).message}\nactual events: ${JSON.stringify(actualEvents.map((e) => [e.type, e.connectionId ?? e.reason ?? '']))}`
        );
      }
    });
  } finally {
    pool.close();
    await Promise.all([...threads.values()].map((t) => t.settle()));
  }
}

const suite: SpecSuite = {
  name: 'connection-monitoring-and-pooling',
  async run(ctx): Promise<CaseResult[]> {
    const results: CaseResult[] = [];
    const cmapDir = path.join(ctx.suiteDir, 'tests', 'cmap-format');
    for (const file of listJsonFiles(cmapDir)) {
      const test = readSpecJson<CmapTest>(path.join(cmapDir, file));
      const name = `cmap-format/${file}: ${test.description}`;
      if (test.style !== 'unit') {
        results.push(skip(name, 'style "integration": needs a live MongoDB deployment (uses a failCommand fail point)'));
        continue;
      }
      results.push(await runCase(name, () => runUnitTest(test)));
    }
    const loggingDir = path.join(ctx.suiteDir, 'tests', 'logging');
    for (const file of listJsonFiles(loggingDir)) {
      const doc = readSpecJson<{ tests?: Array<{ description: string }> }>(path.join(loggingDir, file));
      for (const t of doc.tests ?? []) {
        results.push(
          skip(
            `logging/${file}: ${t.description}`,
            'unified-format logging test: needs the unified test runner and a live MongoDB deployment'
          )
        );
      }
    }
    return results;
  }
};

export default suite;
