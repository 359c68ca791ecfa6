/**
 * Issue acceptance for CMAP + SDAM + selection through MongoClient, against a three-member mock
 * replica set: the primary changes, a member goes down and comes back, and a stepdown error
 * arrives mid-operation. The topology converges within about one heartbeat, the failed server's
 * pool is cleared, and the SDAM events arrive in spec order.
 */
import { MongoClient } from '../../src/mongo_client';
import { MongoServerError } from '../../src/errors';
import { MockReplicaSet } from '../tools/mock_replica_set';
import { errorReply } from '../tools/mock_server';

const HEARTBEAT_MS = 300;

async function waitFor(predicate: () => boolean, timeoutMS: number): Promise<number> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMS) throw new Error(`condition not met within ${timeoutMS} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - start;
}

function addressOf(member: { address: string }): [string, number] {
  const [host, port] = member.address.split(':');
  return [host, Number(port)];
}

describe.each(['stream', 'poll'])('MongoClient with a three-member replica set (serverMonitoringMode=%s)', (mode) => {
  let rs: MockReplicaSet;
  let client: MongoClient;
  const events: string[] = [];

  beforeEach(async () => {
    events.length = 0;
    rs = await MockReplicaSet.start({ members: 3, memberOptions: { helloExtra: { logicalSessionTimeoutMinutes: 30 } } });
    client = new MongoClient(`mongodb://${rs.hostList}/?replicaSet=${rs.setName}&heartbeatFrequencyMS=${HEARTBEAT_MS}&serverMonitoringMode=${mode}`, {
      minHeartbeatFrequencyMS: 20
    });
    client.on('serverDescriptionChanged', (e) => events.push(`serverDescriptionChanged ${e.address} ${e.newDescription.type}`));
    client.on('topologyDescriptionChanged', (e) => events.push(`topologyDescriptionChanged ${e.newDescription.type}`));
    client.on('connectionPoolCleared', (e) => events.push(`connectionPoolCleared ${e.address}`));
    await client.connect();
    await waitFor(() => client.secondaries.length === 2, 2000);
  });

  afterEach(async () => {
    await client.close();
    await rs.close();
  });

  test('discovers the primary and both secondaries', () => {
    expect(client.primary).toEqual(addressOf(rs.members[0]));
    expect(client.secondaries.sort()).toEqual([addressOf(rs.members[1]), addressOf(rs.members[2])].sort());
    expect(client.topologyDescription?.type).toBe('ReplicaSetWithPrimary');
    // spec order: a server's change is published before the topology change it causes
    const first = events.findIndex((e) => e.startsWith('serverDescriptionChanged'));
    const topo = events.findIndex((e, i) => i > first && e.startsWith('topologyDescriptionChanged'));
    expect(first).toBeGreaterThanOrEqual(0);
    expect(topo).toBeGreaterThan(first);
  });

  test('a primary change converges within about one heartbeat', async () => {
    rs.setPrimary(1);
    const elapsed = await waitFor(() => client.primary?.[1] === addressOf(rs.members[1])[1], 5 * HEARTBEAT_MS);
    expect(elapsed).toBeLessThanOrEqual(HEARTBEAT_MS + 250);
    expect(client.secondaries.map((s) => s[1]).sort()).toEqual([addressOf(rs.members[0])[1], addressOf(rs.members[2])[1]].sort());
  });

  test('a stepdown error mid-operation marks the primary Unknown, and a shutdown error also clears its pool', async () => {
    const primary = rs.members[0];
    primary.setHandler('ping', errorReply(10107, 'not primary', { codeName: 'NotWritablePrimary' }));
    rs.setPrimary(1);
    const err = await client.db('admin').command({ ping: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(10107);
    expect(events).toContain(`serverDescriptionChanged ${primary.address} Unknown`);
    await waitFor(() => client.primary?.[1] === addressOf(rs.members[1])[1], 3 * HEARTBEAT_MS);

    // InterruptedAtShutdown on the new primary: Unknown and its pool cleared (SDAM "node is shutting down")
    const next = rs.members[1];
    next.setHandler('ping', errorReply(11600, 'interrupted at shutdown', { codeName: 'InterruptedAtShutdown' }));
    await client.db('admin').command({ ping: 1 }).catch(() => undefined);
    expect(events).toContain(`connectionPoolCleared ${next.address}`);
    const cleared = events.indexOf(`connectionPoolCleared ${next.address}`);
    const unknown = events.lastIndexOf(`serverDescriptionChanged ${next.address} Unknown`);
    expect(unknown).toBeGreaterThanOrEqual(0);
    expect(cleared).toBeGreaterThanOrEqual(0);
  });

  test('a member that goes down is marked Unknown with its pool cleared, and rejoins when it comes back', async () => {
    const member = rs.members[2];
    await rs.stopMember(2);
    await waitFor(() => events.includes(`serverDescriptionChanged ${member.address} Unknown`), 3 * HEARTBEAT_MS);
    expect(events).toContain(`connectionPoolCleared ${member.address}`);
    expect(client.secondaries.map((s) => s[1])).not.toContain(addressOf(member)[1]);
    await rs.startMember(2);
    await waitFor(() => client.secondaries.some((s) => s[1] === addressOf(member)[1]), 6 * HEARTBEAT_MS);
  });
});
