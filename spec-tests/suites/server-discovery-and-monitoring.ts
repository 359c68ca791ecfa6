/**
 * server-discovery-and-monitoring spec tests, run without any network: each file builds a
 * Topology from its URI with fake pools (a generation counter) and fake monitors, feeds the
 * phases' hello responses and application errors through the same entry points real monitors
 * and operations use, then compares the TopologyDescription (or, in `monitoring/`, the SDAM
 * events published) with the phase's outcome.
 *
 * `unified/` runs through the unified test runner (spec-tests/unified/suite_runner.ts): against a
 * real deployment in normal mode (skipped with the harness's reason when there is none), and in
 * differential mode with both drivers against the mock deployment, comparing the commands sent
 * and the tests' own assertions (waitForEvent, assertEventCount, expectEvents on SDAM/CMAP
 * events): a test the official driver passes on the mock must pass with mongowire. Fail points on
 * hello reach the mock's monitoring connections (spec-tests/unified/mock_commands.ts).
 */
import * as path from 'node:path';
import { ObjectId, type Document } from 'bson';
import {
  MongoErrorLabel,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoWriteConcernError,
  type ServerErrorResponse
} from '../../src/errors';
import { SDAM_EVENT_NAMES, type SdamEvent } from '../../src/sdam/sdam_events';
import { compareTopologyVersion, normalizeAddress, parseTopologyVersion } from '../../src/sdam/server_description';
import { Topology, type MonitorContext, type PoolHandle } from '../../src/sdam/topology';
import type { ServerDescription, TopologyDescription } from '../../src/sdam/types';
import { listJsonFiles, readSpecJson, runCase, type CaseResult, type SuiteContext } from '../framework';
import { unifiedSuite } from '../unified/suite_runner';

const FOLDERS = ['rs', 'sharded', 'single', 'load-balanced', 'errors', 'monitoring'];

interface ApplicationErrorSpec {
  address: string;
  generation?: number;
  maxWireVersion?: number;
  when: 'beforeHandshakeCompletes' | 'afterHandshakeCompletes';
  type: 'command' | 'network' | 'timeout';
  response?: Document;
}

interface PhaseSpec {
  description?: string;
  responses?: Array<[string, Document]>;
  applicationErrors?: ApplicationErrorSpec[];
  outcome: Document;
}

interface TestFile {
  description: string;
  uri: string;
  phases: PhaseSpec[];
}

interface ParsedUri {
  seeds: string[];
  replicaSet: string | null;
  directConnection: boolean | undefined;
  loadBalanced: boolean;
}

/** Just enough of the connection string for these tests: hosts, replicaSet, directConnection, loadBalanced. */
function parseTestUri(uri: string): ParsedUri {
  const match = /^mongodb:\/\/([^/?]*)\/?(?:\?(.*))?$/.exec(uri);
  if (!match) throw new Error(`unsupported test URI ${uri}`);
  const params = new URLSearchParams(match[2] ?? '');
  const flag = (name: string): boolean | undefined => (params.has(name) ? params.get(name) === 'true' : undefined);
  return {
    seeds: match[1].split(',').filter((host) => host.length > 0),
    replicaSet: params.get('replicaSet'),
    directConnection: flag('directConnection'),
    loadBalanced: flag('loadBalanced') ?? false
  };
}

class FakePool implements PoolHandle {
  generation = 0;
  readyCount = 0;
  clear(): void {
    this.generation += 1;
  }
  ready(): void {
    this.readyCount += 1;
  }
  close(): void {}
}

class Harness {
  readonly topology: Topology;
  readonly pools = new Map<string, FakePool>();
  readonly monitors = new Map<string, MonitorContext>();
  readonly events: SdamEvent[] = [];

  constructor(uri: ParsedUri) {
    this.topology = new Topology({
      seeds: uri.seeds,
      replicaSet: uri.replicaSet,
      directConnection: uri.directConnection,
      loadBalanced: uri.loadBalanced,
      createPool: (address) => {
        const pool = new FakePool();
        this.pools.set(address, pool);
        return pool;
      },
      createMonitor: (address, context) => {
        this.monitors.set(address, context);
        return { requestCheck: () => undefined, close: () => undefined };
      }
    });
    for (const name of SDAM_EVENT_NAMES) {
      this.topology.on(name, (event: SdamEvent) => this.events.push(event));
    }
    this.topology.open();
  }

  /** A monitor check outcome; `{}` stands for a network error. */
  respond(address: string, reply: Document): void {
    const monitor = this.monitors.get(normalizeAddress(address));
    if (!monitor) return;
    if (Object.keys(reply).length === 0) monitor.checkFailed(new MongoNetworkError('mock network error during hello'));
    else monitor.checkSucceeded(reply, { roundTripTime: 0, minRoundTripTime: 0 });
  }

  applicationError(spec: ApplicationErrorSpec): void {
    const error = mockApplicationError(spec);
    if (!error) return;
    this.topology.handleApplicationError(spec.address, error, {
      generation: spec.generation,
      handshakeCompleted: spec.when === 'afterHandshakeCompletes'
    });
  }
}

/**
 * The error an operation would surface. Network errors and timeouts while establishing a
 * connection (before the handshake completes) carry the backpressure labels that CMAP
 * requires the pool to add to errors during connection establishment or the hello.
 */
function mockApplicationError(spec: ApplicationErrorSpec): Error | null {
  const beforeHandshake = spec.when === 'beforeHandshakeCompletes';
  if (spec.type === 'network' || spec.type === 'timeout') {
    const error =
      spec.type === 'network'
        ? new MongoNetworkError('mock network error', { beforeHandshake })
        : new MongoNetworkTimeoutError('mock network timeout', { beforeHandshake });
    if (beforeHandshake) {
      error.addErrorLabel(MongoErrorLabel.SystemOverloadedError);
      error.addErrorLabel(MongoErrorLabel.RetryableError);
    }
    return error;
  }
  const response = (spec.response ?? {}) as ServerErrorResponse;
  if (response.writeConcernError && typeof response.writeConcernError === 'object') {
    return new MongoWriteConcernError(response as ServerErrorResponse & { writeConcernError: Document });
  }
  return new MongoServerError(response);
}

function fail(message: string): never {
  throw new Error(message);
}

function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof ObjectId) return `ObjectId(${v.toHexString()})`;
    return v;
  });
}

function objectIdsEqual(actual: ObjectId | null, expected: unknown): boolean {
  if (expected == null) return actual == null;
  if (!(expected instanceof ObjectId)) return false;
  return actual != null && actual.toHexString() === expected.toHexString();
}

function checkServer(address: string, actual: ServerDescription, expected: Document, pool: FakePool | undefined): void {
  const where = `server ${address}`;
  const scalar = (field: keyof ServerDescription, defaultWhenNull?: number): void => {
    if (!(field in expected)) return;
    const want = expected[field] === null && defaultWhenNull !== undefined ? defaultWhenNull : expected[field];
    if (actual[field] !== want) fail(`${where}: ${field} is ${show(actual[field])}, expected ${show(want)}`);
  };
  scalar('type');
  scalar('setName');
  scalar('setVersion');
  scalar('logicalSessionTimeoutMinutes');
  // The spec defaults both wire versions to 0; the load balancer test writes "unset" as null.
  scalar('minWireVersion', 0);
  scalar('maxWireVersion', 0);
  if ('electionId' in expected && !objectIdsEqual(actual.electionId, expected.electionId)) {
    fail(`${where}: electionId is ${show(actual.electionId)}, expected ${show(expected.electionId)}`);
  }
  if ('topologyVersion' in expected) {
    const want = expected.topologyVersion == null ? null : parseTopologyVersion(expected.topologyVersion);
    const same =
      want === null ? actual.topologyVersion === null : compareTopologyVersion(actual.topologyVersion, want) === 0;
    if (!same) fail(`${where}: topologyVersion is ${show(actual.topologyVersion)}, expected ${show(want)}`);
  }
  if (typeof expected.error === 'string') {
    const message = actual.error?.message ?? '';
    if (!message.includes(expected.error)) fail(`${where}: error ${show(message)} does not contain ${show(expected.error)}`);
  }
  if (expected.pool && typeof expected.pool === 'object') {
    const want = (expected.pool as Document).generation;
    if (pool?.generation !== want) fail(`${where}: pool generation is ${pool?.generation}, expected ${want}`);
  }
}

function checkTopology(harness: Harness, outcome: Document): void {
  const actual = harness.topology.description;
  const expectedServers = (outcome.servers ?? {}) as Record<string, Document>;
  const actualAddresses = [...actual.servers.keys()].sort();
  const expectedAddresses = Object.keys(expectedServers).map(normalizeAddress).sort();
  if (show(actualAddresses) !== show(expectedAddresses)) {
    fail(`servers are ${show(actualAddresses)}, expected ${show(expectedAddresses)}`);
  }
  for (const [address, expected] of Object.entries(expectedServers)) {
    const normalized = normalizeAddress(address);
    const server = actual.servers.get(normalized);
    if (!server) fail(`server ${address} missing`);
    checkServer(normalized, server, expected, harness.pools.get(normalized));
  }
  const scalar = (field: 'type' | 'setName' | 'logicalSessionTimeoutMinutes' | 'maxSetVersion' | 'compatible', key: string): void => {
    if (!(key in outcome)) return;
    if (actual[field] !== outcome[key]) fail(`topology ${key} is ${show(actual[field])}, expected ${show(outcome[key])}`);
  };
  scalar('type', 'topologyType');
  scalar('setName', 'setName');
  scalar('logicalSessionTimeoutMinutes', 'logicalSessionTimeoutMinutes');
  scalar('maxSetVersion', 'maxSetVersion');
  scalar('compatible', 'compatible');
  if ('maxElectionId' in outcome && !objectIdsEqual(actual.maxElectionId, outcome.maxElectionId)) {
    fail(`topology maxElectionId is ${show(actual.maxElectionId)}, expected ${show(outcome.maxElectionId)}`);
  }
}

/** Compares the fields an expected server description (in an event) names. */
function matchServerDescription(actual: ServerDescription, expected: Document, where: string): void {
  for (const [key, want] of Object.entries(expected)) {
    const got = (actual as unknown as Record<string, unknown>)[key];
    if (Array.isArray(want)) {
      const a = Array.isArray(got) ? [...(got as string[])].sort() : got;
      if (show(a) !== show([...(want as string[])].sort())) fail(`${where}: ${key} is ${show(got)}, expected ${show(want)}`);
    } else if (key === 'electionId') {
      if (!objectIdsEqual(got as ObjectId | null, want)) fail(`${where}: ${key} is ${show(got)}, expected ${show(want)}`);
    } else if (got !== want) {
      fail(`${where}: ${key} is ${show(got)}, expected ${show(want)}`);
    }
  }
}

function matchTopologyDescription(actual: TopologyDescription, expected: Document, where: string): void {
  if ('topologyType' in expected && actual.type !== expected.topologyType) {
    fail(`${where}: topologyType is ${actual.type}, expected ${show(expected.topologyType)}`);
  }
  if ('setName' in expected && actual.setName !== expected.setName) {
    fail(`${where}: setName is ${show(actual.setName)}, expected ${show(expected.setName)}`);
  }
  const servers = (expected.servers ?? []) as Document[];
  if (actual.servers.size !== servers.length) {
    fail(`${where}: has servers ${show([...actual.servers.keys()])}, expected ${show(servers.map((s) => s.address))}`);
  }
  for (const server of servers) {
    const found = actual.servers.get(normalizeAddress(String(server.address)));
    if (!found) fail(`${where}: server ${show(server.address)} missing`);
    matchServerDescription(found, server, `${where} server ${String(server.address)}`);
  }
}

const EVENT_KINDS: Record<string, SdamEvent['name']> = {
  topology_opening_event: 'topologyOpening',
  topology_closed_event: 'topologyClosed',
  topology_description_changed_event: 'topologyDescriptionChanged',
  server_opening_event: 'serverOpening',
  server_closed_event: 'serverClosed',
  server_description_changed_event: 'serverDescriptionChanged'
};

function checkEvents(actual: SdamEvent[], expected: Document[]): void {
  const summary = (): string => actual.map((e) => ('address' in e ? `${e.name}(${e.address})` : e.name)).join(', ');
  if (actual.length !== expected.length) fail(`published ${actual.length} events [${summary()}], expected ${expected.length}`);
  expected.forEach((wrapper, index) => {
    const [kind, body] = Object.entries(wrapper)[0] as [string, Document];
    const event = actual[index];
    const where = `event #${index} (${kind})`;
    if (event.name !== EVENT_KINDS[kind]) fail(`${where}: got ${event.name}; events were [${summary()}]`);
    if ('topologyId' in event && typeof event.topologyId !== 'number') fail(`${where}: no topologyId`);
    if ('address' in body && 'address' in event && event.address !== normalizeAddress(String(body.address))) {
      fail(`${where}: address is ${event.address}, expected ${show(body.address)}`);
    }
    if (event.name === 'serverDescriptionChanged') {
      matchServerDescription(event.previousDescription, body.previousDescription as Document, `${where} previous`);
      matchServerDescription(event.newDescription, body.newDescription as Document, `${where} new`);
    } else if (event.name === 'topologyDescriptionChanged') {
      matchTopologyDescription(event.previousDescription, body.previousDescription as Document, `${where} previous`);
      matchTopologyDescription(event.newDescription, body.newDescription as Document, `${where} new`);
    }
  });
}

function runTestFile(test: TestFile, monitoring: boolean): void {
  const harness = new Harness(parseTestUri(test.uri));
  try {
    test.phases.forEach((phase, index) => {
      for (const [address, reply] of phase.responses ?? []) harness.respond(address, reply);
      for (const error of phase.applicationErrors ?? []) harness.applicationError(error);
      try {
        if (monitoring) {
          checkEvents(harness.events, (phase.outcome.events ?? []) as Document[]);
          harness.events.length = 0;
        } else {
          checkTopology(harness, phase.outcome);
        }
      } catch (err) {
        throw new Error(`phase ${index}${phase.description ? ` (${phase.description})` : ''}: ${(err as Error).message}`);
      }
    });
  } finally {
    harness.topology.close();
  }
}

/** The pure (no-network) tests: each file's phases fed through a Topology with fake pools and monitors. */
async function pureCases(ctx: SuiteContext): Promise<CaseResult[]> {
  const testsDir = path.join(ctx.suiteDir, 'tests');
  const results: CaseResult[] = [];
  for (const folder of FOLDERS) {
    for (const file of listJsonFiles(path.join(testsDir, folder))) {
      const test = readSpecJson<TestFile>(path.join(testsDir, folder, file));
      results.push(await runCase(`${folder}/${file}: ${test.description}`, () => runTestFile(test, folder === 'monitoring')));
    }
  }
  return results;
}

/**
 * Tests whose assertions the official driver (7.9) fails on the mock because it deviates from the
 * specifications (spec-tests/DIFFERENCES.md, "SDAM, CMAP and server selection"); mongowire must pass them.
 */
const NO_UNKNOWN_BEFORE_CLOSE =
  'the official driver emits no TopologyDescriptionChangedEvent (nor its log message) to an Unknown topology before TopologyClosedEvent (server-discovery-and-monitoring.md "Client closing")';
const AWAITED_HANDSHAKE =
  'the official driver reports the handshake ServerHeartbeatSucceededEvent as awaited: true (lib/sdam/monitor.js), though the handshake is not an awaitable hello';
const REFERENCE_DEVIATIONS: Readonly<Record<string, string>> = {
  'unified/loadbalanced-emit-topology-changed-before-close.json: Topology lifecycle': NO_UNKNOWN_BEFORE_CLOSE,
  'unified/replicaset-emit-topology-changed-before-close.json: Topology lifecycle': NO_UNKNOWN_BEFORE_CLOSE,
  'unified/sharded-emit-topology-changed-before-close.json: Topology lifecycle': NO_UNKNOWN_BEFORE_CLOSE,
  'unified/standalone-emit-topology-changed-before-close.json: Topology lifecycle': NO_UNKNOWN_BEFORE_CLOSE,
  'unified/logging-loadbalanced.json: Topology lifecycle': NO_UNKNOWN_BEFORE_CLOSE,
  'unified/logging-replicaset.json: Topology lifecycle': NO_UNKNOWN_BEFORE_CLOSE,
  'unified/logging-sharded.json: Topology lifecycle': NO_UNKNOWN_BEFORE_CLOSE,
  'unified/logging-standalone.json: Topology lifecycle': NO_UNKNOWN_BEFORE_CLOSE,
  'unified/serverMonitoringMode.json: connect with serverMonitoringMode=auto >=4.4': AWAITED_HANDSHAKE,
  'unified/serverMonitoringMode.json: connect with serverMonitoringMode=stream >=4.4': AWAITED_HANDSHAKE
};

export default unifiedSuite('server-discovery-and-monitoring', {
  dirs: ['unified'],
  extraCases: pureCases,
  differentialAssertions: true,
  referenceDeviations: REFERENCE_DEVIATIONS,
  differentialConcurrency: 4
});
