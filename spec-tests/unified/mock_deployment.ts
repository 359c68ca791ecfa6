/**
 * A Deployment made of mock servers (test/tools/mock_server.ts): a standalone, a three-member
 * replica set, two mongoses or a load balancer, all answering from one shared mini mongod
 * (test/tools/mini_mongod.ts; fail points and change streams in mock_commands.ts). Used by the differential mode and the runner's own end-to-end tests.
 *
 * It reports itself as MongoDB 8.0.0 with no server parameters, no auth, not serverless.
 */
import { ObjectId, type Document } from 'bson';
import { MockReplicaSet } from '../../test/tools/mock_replica_set';
import { MockServer } from '../../test/tools/mock_server';
import type { Deployment } from './deployment';
import { MockCommandHandler, MockDeploymentState } from './mock_commands';
import { clone, sortDocuments } from '../../test/tools/mini_mongod';
import { checkRunOnRequirements, type ServerInfo, type TopologyName } from './requirements';
import type { CollectionData, UnifiedTest, UnifiedTestFile } from './test-file';

/** Server versions the mock can claim (with their wire versions), in order of preference. */
export const MOCK_SERVER_VERSIONS: ReadonlyArray<{ version: string; wireVersion: number }> = [
  { version: '8.0.0', wireVersion: 25 },
  { version: '8.2.0', wireVersion: 27 },
  { version: '7.0.0', wireVersion: 21 },
  { version: '6.0.0', wireVersion: 17 },
  { version: '5.0.0', wireVersion: 13 },
  { version: '4.4.0', wireVersion: 9 }
];

/** How long after a `replSetStepDown` the next member becomes primary. */
const STEP_DOWN_ELECTION_MS = 200;

/** Topologies the mock can play, in order of preference. */
const MOCK_TOPOLOGIES: readonly TopologyName[] = ['replicaset', 'single', 'sharded', 'load-balanced'];

export interface MockSetup {
  topology: TopologyName;
  version: string;
  wireVersion: number;
}

export function mockServerInfo(setup: MockSetup): ServerInfo {
  return { version: setup.version, topology: setup.topology, serverParameters: {}, auth: false, serverless: false, csfle: false };
}

/** The first (version, topology) the mock can play that satisfies the file's and the test's requirements. */
export function chooseMockSetup(file: UnifiedTestFile, test: UnifiedTest): MockSetup | undefined {
  for (const { version, wireVersion } of MOCK_SERVER_VERSIONS) {
    for (const topology of MOCK_TOPOLOGIES) {
      const info = mockServerInfo({ topology, version, wireVersion });
      if (checkRunOnRequirements(file.runOnRequirements, info).met && checkRunOnRequirements(test.runOnRequirements, info).met) {
        return { topology, version, wireVersion };
      }
    }
  }
  return undefined;
}

export class MockDeployment implements Deployment {
  readonly kind = 'mock' as const;
  readonly info: ServerInfo;
  readonly state = new MockDeploymentState();
  private readonly handlers: MockCommandHandler[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly setup: MockSetup,
    readonly servers: MockServer[],
    private readonly replicaSet?: MockReplicaSet
  ) {
    this.info = mockServerInfo(setup);
    const gossip = setup.topology !== 'single';
    for (const server of servers) {
      const handler = new MockCommandHandler(server, this.state, gossip, setup.version);
      handler.install();
      if (replicaSet) handler.stepDown = () => this.stepDown(server);
      this.handlers.push(handler);
    }
  }

  /**
   * `replSetStepDown` on `server`: it steps down at once (no primary), and the next data member
   * wins the election shortly after, each change waking the awaitable hellos as on a real set.
   */
  private stepDown(server: MockServer): boolean {
    const rs = this.replicaSet;
    if (!rs || rs.primary !== server) return false;
    const next = (rs.members.indexOf(server) + 1) % rs.members.length;
    rs.setPrimary(-1);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      rs.setPrimary(next);
    }, STEP_DOWN_ELECTION_MS);
    this.timers.add(timer);
    return true;
  }

  static async start(setup: MockSetup | TopologyName): Promise<MockDeployment> {
    const s: MockSetup = typeof setup === 'string' ? { topology: setup, ...MOCK_SERVER_VERSIONS[0] } : setup;
    const maxWireVersion = s.wireVersion;
    switch (s.topology) {
      case 'replicaset': {
        const rs = await MockReplicaSet.start({ members: 3, memberOptions: { maxWireVersion } });
        return new MockDeployment(s, rs.members, rs);
      }
      case 'sharded':
      case 'sharded-replicaset': {
        const servers = [await MockServer.start({ type: 'mongos', maxWireVersion }), await MockServer.start({ type: 'mongos', maxWireVersion })];
        return new MockDeployment(s, servers);
      }
      case 'load-balanced':
        return new MockDeployment(s, [await MockServer.start({ type: 'mongos', loadBalanced: true, maxWireVersion })]);
      default:
        return new MockDeployment({ ...s, topology: 'single' }, [await MockServer.start({ type: 'standalone', maxWireVersion })]);
    }
  }

  get topology(): TopologyName {
    return this.setup.topology;
  }

  clientUri(useMultipleMongoses?: boolean): string {
    switch (this.topology) {
      case 'replicaset':
        return `mongodb://${this.servers.map((s) => s.address).join(',')}/?replicaSet=${this.replicaSet?.setName ?? 'rs0'}`;
      case 'sharded':
      case 'sharded-replicaset':
        return useMultipleMongoses === false
          ? `mongodb://${this.servers[0].address}/`
          : `mongodb://${this.servers.map((s) => s.address).join(',')}/`;
      case 'load-balanced':
        return `mongodb://${this.servers[0].address}/?loadBalanced=true`;
      default:
        return `mongodb://${this.servers[0].address}/`;
    }
  }

  async resetForTest(): Promise<void> {
    this.state.reset();
    for (const h of this.handlers) h.clearFailPoints();
  }

  async prepareCollection(data: CollectionData): Promise<void> {
    const store = this.state.store;
    store.drop(data.databaseName, data.collectionName);
    const c = store.ensure(data.databaseName, data.collectionName, data.createOptions ?? {});
    c.documents = data.documents.map((d) => (d._id === undefined ? { _id: new ObjectId(), ...clone(d) } : clone(d)));
  }

  async readCollection(databaseName: string, collectionName: string): Promise<Document[]> {
    const docs = this.state.store.collection(databaseName, collectionName)?.documents ?? [];
    return sortDocuments(docs, { _id: 1 }).map((d) => clone(d));
  }

  async collectionExists(databaseName: string, collectionName: string): Promise<boolean> {
    return this.state.store.collection(databaseName, collectionName) !== undefined;
  }

  async indexExists(databaseName: string, collectionName: string, indexName: string): Promise<boolean> {
    return this.state.store.collection(databaseName, collectionName)?.indexes.some((i) => i.name === indexName) ?? false;
  }

  async killAllSessions(): Promise<void> {}

  async configureFailPointOn(address: string, failPoint: Document): Promise<void> {
    const index = this.servers.findIndex((s) => s.address === address);
    if (index < 0) throw new Error(`no mock server at ${address}`);
    this.handlers[index].configure(failPoint);
  }

  async disableFailPoint(): Promise<void> {
    for (const h of this.handlers) h.clearFailPoints();
  }

  /** Commands received by every server, in arrival order (hellos excluded). */
  receivedCommands(): Array<{ server: string; commandName: string; body: Document }> {
    return this.servers
      .flatMap((s) => s.nonHelloCommands().map((r) => ({ server: s.address, commandName: r.commandName, body: r.body, time: r.time })))
      .sort((a, b) => a.time - b.time);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.replicaSet) await this.replicaSet.close();
    else await Promise.all(this.servers.map((s) => s.close()));
  }
}
