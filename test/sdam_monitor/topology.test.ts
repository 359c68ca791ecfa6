/** The monitor factory wired into a real Topology against a mock replica set. */
import { MongoNetworkError } from '../../src/errors';
import { createMonitorFactory, type ServerMonitoringMode } from '../../src/sdam/monitor';
import type { ServerHeartbeatEvent } from '../../src/sdam/sdam_events';
import { Topology, type PoolClearOptions, type PoolHandle } from '../../src/sdam/topology';
import { ServerType, TopologyType } from '../../src/sdam/types';
import { MockReplicaSet } from '../tools/mock_replica_set';
import { delay, isAwaitable, waitFor } from './helpers';

/** A pool that only counts what the topology asks of it. */
class CountingPool implements PoolHandle {
  generation = 0;
  readyCount = 0;
  clears: PoolClearOptions[] = [];
  closed = false;
  clear(options: PoolClearOptions = {}): void {
    this.generation++;
    this.clears.push(options);
  }
  ready(): void {
    this.readyCount++;
  }
  close(): void {
    this.closed = true;
  }
}

let rs: MockReplicaSet | undefined;
let topology: Topology | undefined;

afterEach(async () => {
  topology?.close();
  topology = undefined;
  await rs?.close();
  rs = undefined;
});

function openTopology(set: MockReplicaSet, mode: ServerMonitoringMode, heartbeatFrequencyMS: number) {
  const pools = new Map<string, CountingPool>();
  const t = new Topology({
    seeds: [set.addresses[0]],
    replicaSet: set.setName,
    heartbeatFrequencyMS,
    createPool: (address) => {
      const pool = new CountingPool();
      pools.set(address, pool);
      return pool;
    },
    createMonitor: createMonitorFactory({ serverMonitoringMode: mode, heartbeatFrequencyMS, minHeartbeatFrequencyMS: 20 })
  });
  const heartbeats: ServerHeartbeatEvent[] = [];
  t.on('serverHeartbeatStarted', (e) => heartbeats.push(e));
  t.on('serverHeartbeatSucceeded', (e) => heartbeats.push(e));
  t.on('serverHeartbeatFailed', (e) => heartbeats.push(e));
  topology = t;
  t.open();
  return { topology: t, pools, heartbeats };
}

function primaryOf(t: Topology): string | undefined {
  for (const server of t.description.servers.values()) if (server.type === ServerType.RSPrimary) return server.address;
  return undefined;
}

function allKnown(t: Topology): boolean {
  const servers = [...t.description.servers.values()];
  return servers.length === 3 && servers.every((s) => s.type !== ServerType.Unknown);
}

describe.each<[ServerMonitoringMode, number]>([
  ['stream', 300],
  ['poll', 200]
])('Topology + monitors (%s mode, heartbeatFrequencyMS %i)', (mode, heartbeatFrequencyMS) => {
  test('discovers the replica set from one seed and follows a primary change within about one heartbeat', async () => {
    rs = await MockReplicaSet.start({ members: 3 });
    const { topology: t, pools } = openTopology(rs, mode, heartbeatFrequencyMS);

    await waitFor(() => t.description.type === TopologyType.ReplicaSetWithPrimary && allKnown(t), 'discovery');
    expect(primaryOf(t)).toBe(rs.addresses[0]);
    expect([...t.description.servers.keys()].sort()).toEqual([...rs.addresses].sort());
    for (const server of t.description.servers.values()) expect(server.roundTripTime).not.toBeNull();
    expect(pools.get(rs.addresses[0])?.readyCount).toBeGreaterThan(0);

    const changedAt = performance.now();
    rs.setPrimary(1);
    await waitFor(() => primaryOf(t) === rs!.addresses[1], 'the new primary', 3000);
    const elapsed = performance.now() - changedAt;
    // streaming learns of it at once; polling within one heartbeat (+ slack for a loaded machine)
    expect(elapsed).toBeLessThan(mode === 'stream' ? 150 : heartbeatFrequencyMS + 150);
    await waitFor(() => t.description.servers.get(rs!.addresses[0])?.type === ServerType.RSSecondary, 'the old primary as secondary');
    expect(t.description.type).toBe(TopologyType.ReplicaSetWithPrimary);
  });

  test('closing the topology closes every monitoring connection', async () => {
    rs = await MockReplicaSet.start({ members: 3 });
    const { topology: t } = openTopology(rs, mode, heartbeatFrequencyMS);
    await waitFor(() => allKnown(t), 'discovery');
    if (mode === 'stream') {
      await waitFor(() => rs!.members.every((m) => m.openConnectionCount === 2), 'monitor + RTT connection per member');
    }
    t.close();
    await waitFor(() => rs!.members.every((m) => m.openConnectionCount === 0), 'every connection to close');
  });
});

describe('Topology + monitors: failures', () => {
  test('a member going down becomes Unknown with its pool cleared; it is found again when it comes back', async () => {
    rs = await MockReplicaSet.start({ members: 3 });
    const { topology: t, pools, heartbeats } = openTopology(rs, 'stream', 200);
    await waitFor(() => allKnown(t) && primaryOf(t) !== undefined, 'discovery');
    const address = rs.addresses[2];

    await rs.stopMember(2);
    await waitFor(() => t.description.servers.get(address)?.type === ServerType.Unknown, 'the member to become Unknown');
    expect(t.description.servers.get(address)?.error).toBeInstanceOf(MongoNetworkError);
    expect(pools.get(address)?.clears.length).toBeGreaterThan(0);
    // the failed awaited heartbeat, then the immediate retry (polled) failing too
    const failuresOf = () => heartbeats.filter((e) => e.name === 'serverHeartbeatFailed' && e.connectionId === address);
    await waitFor(() => failuresOf().length >= 2, 'the retry');
    const failures = failuresOf();
    expect(failures[0].awaited).toBe(true);
    expect(failures[1].awaited).toBe(false);

    await rs.startMember(2);
    t.requestCheck();
    await waitFor(() => t.description.servers.get(address)?.type === ServerType.RSSecondary, 'the member to come back', 3000);
  });

  test('an application network error resets the monitor: its connection is closed and it reconnects on request', async () => {
    rs = await MockReplicaSet.start({ members: 3 });
    const { topology: t } = openTopology(rs, 'stream', 10_000);
    await waitFor(() => allKnown(t) && primaryOf(t) !== undefined, 'discovery');
    const member = rs.members[1];
    await waitFor(() => member.hellos().some((h) => isAwaitable(h.body)) && member.openConnectionCount === 2, 'streaming');
    const streamingConnection = member.hellos().find((h) => isAwaitable(h.body))!.connectionId;

    t.handleApplicationError(member.address, new MongoNetworkError('connection reset by peer'));
    expect(t.description.servers.get(member.address)?.type).toBe(ServerType.Unknown);
    await waitFor(() => member.isConnectionClosed(streamingConnection), 'the monitoring connection to close');
    await delay(50);
    expect(t.description.servers.get(member.address)?.type).toBe(ServerType.Unknown); // no reconnect until asked

    t.requestCheck();
    await waitFor(() => t.description.servers.get(member.address)?.type === ServerType.RSSecondary, 'the member to be rediscovered');
  });
});
