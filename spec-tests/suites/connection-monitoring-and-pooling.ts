/**
 * CMAP spec runner (tests/cmap-format/README.md); "threads" are sequential async chains.
 *
 * - `style: "unit"` files run against a ConnectionPool whose factory makes fake connections (no
 *   I/O), in both modes.
 * - `style: "integration"` files ("Integration Test Runner"): the pool makes real connections
 *   (src/pool/connection.ts, with `poolOptions.appName`) to ONE endpoint, the test's `failPoint`
 *   is configured on that endpoint first and turned off afterwards, and `runOn` is honoured. In
 *   normal mode the endpoint is the first host of the real deployment (test/tools/mongod.ts; without
 *   one they are skipped with the harness's reason); in differential mode it is a mock server
 *   (spec-tests/unified/mock_deployment.ts, whose hello fail points block or fail handshakes), and
 *   only mongowire's pool runs: the official driver's pool has no public API to compare with.
 *   A failed establishment clears the pool as SDAM would ("Error handling" for errors before the
 *   handshake completes), except for the backpressure errors that SDAM ignores.
 * - `logging/` (unified format) runs through the unified runner: real deployment in normal mode,
 *   both drivers on the mock in differential mode, comparing commands and the expected log messages.
 */
import * as path from 'node:path';
import type { Document } from 'bson';
import { authenticate, prepareAuthHandshake } from '../../src/auth/authenticate';
import type { AuthContext } from '../../src/auth/auth_provider';
import { parseOptions } from '../../src/connection_string';
import { MongoErrorLabel, MongoError } from '../../src/errors';
import { formatHostAddress } from '../../src/mongo_client_options';
import { connect, type Connection, type ConnectionOptions } from '../../src/pool/connection';
import { ConnectionPool, type ConnectionPoolOptions, type PoolConnection } from '../../src/pool/pool';
import { ConnectionPoolEventName, type ConnectionPoolEvent } from '../../src/pool/pool_events';
import { getMongoDeployment } from '../../test/tools/mongod';
import { listJsonFiles, readSpecJson, runCase, skip, SkipCase, type CaseResult, type SuiteContext } from '../framework';
import type { Deployment } from '../unified/deployment';
import { MockDeployment } from '../unified/mock_deployment';
import { RealDeployment } from '../unified/real_deployment';
import { checkRunOnRequirements } from '../unified/requirements';
import { unifiedSuite } from '../unified/suite_runner';

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
  /** Integration tests: server version requirements. */
  runOn?: Document[];
  /** Integration tests: a configureFailPoint command for the endpoint. */
  failPoint?: Document;
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

function unitTestPool(test: CmapTest): ConnectionPool<FakeConnection> {
  return new ConnectionPool<FakeConnection>(ADDRESS, async ({ id }) => new FakeConnection(id), poolOptionsOf(test));
}

/** Runs a test's operations on `pool` and checks the error and events (the README's unit runner steps). */
async function runPoolTest<C extends PoolConnection>(test: CmapTest, pool: ConnectionPool<C>): Promise<void> {
  const events: ConnectionPoolEvent[] = [];
  for (const name of Object.values(ConnectionPoolEventName)) {
    pool.on(name, (event: ConnectionPoolEvent) => events.push(event));
  }
  const labels = new Map<string, C>();
  const checkedOut = new Set<C>();
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
        checkedOut.add(connection);
        if (op.label) labels.set(op.label, connection);
        return;
      }
      case 'checkIn': {
        const connection = labels.get(String(op.connection));
        if (!connection) throw new Error(`unknown connection label ${String(op.connection)}`);
        checkedOut.delete(connection);
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
    // A closed pool closes connections as they are checked in; the tests keep some checked out.
    for (const connection of checkedOut) connection.destroy();
  }
}

/** The one endpoint integration tests run against, and how to connect to it. */
interface CmapEndpoint {
  deployment: Deployment;
  address: string;
  /** TLS and credentials of the deployment's connection string (none for the mock). */
  connection: Omit<ConnectionOptions, 'address'>;
  credentials?: AuthContext['credentials'];
}

async function realEndpoint(uri: string): Promise<CmapEndpoint> {
  const options = await parseOptions(uri);
  const deployment = await RealDeployment.connect(uri);
  return {
    deployment,
    address: formatHostAddress(options.hosts[0]),
    connection: {
      tls: options.tls,
      tlsCAFile: options.tlsCAFile,
      tlsCertificateKeyFile: options.tlsCertificateKeyFile,
      tlsCertificateKeyFilePassword: options.tlsCertificateKeyFilePassword,
      tlsAllowInvalidCertificates: options.tlsAllowInvalidCertificates,
      tlsAllowInvalidHostnames: options.tlsAllowInvalidHostnames,
      serverApi: options.serverApi
    },
    credentials: options.credentials
  };
}

async function mockEndpoint(): Promise<CmapEndpoint> {
  const deployment = await MockDeployment.start('single');
  return { deployment, address: deployment.servers[0].address, connection: {} };
}

/** A pool of real connections to the endpoint, named `poolOptions.appName` in the handshake. */
function integrationTestPool(test: CmapTest, endpoint: CmapEndpoint): ConnectionPool<Connection> {
  const appName = typeof test.poolOptions?.appName === 'string' ? test.poolOptions.appName : undefined;
  const credentials = endpoint.credentials;
  const pool: ConnectionPool<Connection> = new ConnectionPool<Connection>(
    endpoint.address,
    ({ id, generation, signal }) => {
      const auth: Partial<AuthContext> = { credentials };
      return connect({
        ...endpoint.connection,
        address: endpoint.address,
        id,
        generation,
        signal,
        appName,
        prepareHandshake: credentials ? (hello) => prepareAuthHandshake(hello, auth as AuthContext) : undefined,
        authenticate: credentials ? (connection, hello) => authenticate({ ...(auth as AuthContext), connection, hello }) : undefined
      });
    },
    {
      ...poolOptionsOf(test),
      // SDAM "Error handling": an error before the handshake completes clears the pool, except
      // the backpressure errors of connection establishment (SystemOverloadedError).
      onEstablishmentError: (error) => {
        if (error instanceof MongoError && error.hasErrorLabel(MongoErrorLabel.SystemOverloadedError)) return;
        pool.clear({ cause: error });
      }
    }
  );
  return pool;
}

/**
 * Integration tests not run on the mock (differential mode), each with why. They still run against
 * a real deployment in normal mode.
 */
const NOT_ON_MOCK: Readonly<Record<string, string>> = {
  'threads blocked by maxConnecting check out minPoolSize connections':
    'timing-dependent (spec-tests/DIFFERENCES.md, "SDAM, CMAP and server selection"): it expects both minPoolSize connections, whose handshakes the fail point blocks for the same 500 ms, to be available when the second waiter is served; mongowire serves waiters as each establishment completes, and the checkOut pseudo-code then makes the second waiter start a third connection (pendingConnectionCount < maxConnecting)'
};

async function runIntegrationTest(test: CmapTest, endpoint: CmapEndpoint): Promise<void> {
  const notOnMock = endpoint.deployment.kind === 'mock' ? NOT_ON_MOCK[test.description] : undefined;
  if (notOnMock) throw new SkipCase(notOnMock);
  const requirements = checkRunOnRequirements(test.runOn, endpoint.deployment.info);
  if (!requirements.met) throw new SkipCase(requirements.reason);
  const failPoint = test.failPoint;
  if (failPoint) await endpoint.deployment.configureFailPointOn(endpoint.address, failPoint);
  try {
    await runPoolTest(test, integrationTestPool(test, endpoint));
  } finally {
    if (failPoint) await endpoint.deployment.disableFailPoint(String(failPoint.configureFailPoint), endpoint.address).catch(() => undefined);
  }
}

/**
 * Integration tests whose expected event order rests on a wall-clock race: a fail point's
 * `blockTimeMS` holding several handshakes and releasing them "at once" (e.g.
 * pool-checkout-minPoolSize-connection-maxConnecting). Under CPU starvation the blocked replies
 * arrive apart and another order that the CMAP rules also allow appears, so such a test gets up
 * to three attempts; a failure that repeats is still reported.
 */
const TIMING_SENSITIVE_ATTEMPTS = 3;

function isTimingSensitive(test: CmapTest): boolean {
  return JSON.stringify(test.failPoint ?? {}).includes('blockTimeMS');
}

async function withAttempts(attempts: number, fn: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || error instanceof SkipCase) throw error;
    }
  }
}

/** The cmap-format tests: unit tests always, integration tests against the endpoint of the mode. */
async function cmapFormatCases(ctx: SuiteContext): Promise<CaseResult[]> {
  const cmapDir = path.join(ctx.suiteDir, 'tests', 'cmap-format');
  const tests = listJsonFiles(cmapDir).map((file) => ({ file, test: readSpecJson<CmapTest>(path.join(cmapDir, file)) }));
  const results: CaseResult[] = [];
  for (const { file, test } of tests.filter((t) => t.test.style === 'unit')) {
    results.push(await runCase(`cmap-format/${file}: ${test.description}`, () => runPoolTest(test, unitTestPool(test))));
  }
  const integration = tests.filter((t) => t.test.style === 'integration');
  if (integration.length === 0) return results;
  let endpoint: CmapEndpoint;
  if (ctx.differential) {
    endpoint = await mockEndpoint();
  } else {
    const availability = await getMongoDeployment('replicaset');
    if (!availability.available) {
      return [...results, ...integration.map(({ file, test }) => skip(`cmap-format/${file}: ${test.description}`, availability.reason))];
    }
    try {
      endpoint = await realEndpoint(availability.uri);
    } catch (error) {
      const reason = `cannot use the deployment: ${(error as Error).message}`;
      return [...results, ...integration.map(({ file, test }) => ({ name: `cmap-format/${file}: ${test.description}`, status: 'failed' as const, reason }))];
    }
  }
  try {
    for (const { file, test } of integration) {
      const attempts = isTimingSensitive(test) ? TIMING_SENSITIVE_ATTEMPTS : 1;
      results.push(await runCase(`cmap-format/${file}: ${test.description}`, () => withAttempts(attempts, () => runIntegrationTest(test, endpoint))));
    }
  } finally {
    await endpoint.deployment.close();
  }
  return results;
}

/**
 * CMAP "Deprecated Options": waitQueueSize and waitQueueMultiple are to be phased out of the drivers
 * that implemented them, and the "Connection pool created" message includes them "only if the
 * driver supports this option"; mongowire never offered them (the URI option is ignored with a
 * warning), so these two logging tests do not apply.
 */
const DEPRECATED_OPTION = 'mongowire does not support the deprecated waitQueueSize/waitQueueMultiple pool options (CMAP "Deprecated Options"); the log message includes them "only if the driver supports this option"';

export default unifiedSuite('connection-monitoring-and-pooling', {
  dirs: ['logging'],
  extraCases: cmapFormatCases,
  differentialAssertions: true,
  skipTests: {
    'logging/connection-pool-options.json: waitQueueSize should be included in connection pool created message when specified': DEPRECATED_OPTION,
    'logging/connection-pool-options.json: waitQueueMultiple should be included in connection pool created message when specified': DEPRECATED_OPTION
  }
});
