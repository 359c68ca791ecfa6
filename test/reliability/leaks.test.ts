/**
 * Leak checks: 1,000 clients (connect + one command + close) against the mock server must leave
 * no socket, timer or listener behind — client side (`process.getActiveResourcesInfo()`,
 * process listeners) and server side (open connection count).
 */
import { MongoClient } from '../../src/mongo_client';
import { MockServer } from '../tools/mock_server';
import { MockReplicaSet } from '../tools/mock_replica_set';

function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

function processListenerCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of process.eventNames()) out[String(name)] = process.listenerCount(name);
  return out;
}

/** Waits until `check()` returns no difference (resources are released asynchronously). */
async function settle(check: () => string[], timeoutMS = 3000): Promise<string[]> {
  const deadline = Date.now() + timeoutMS;
  let diff = check();
  while (diff.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    diff = check();
  }
  return diff;
}

/** Resource types whose count grew compared to `baseline`. */
function grown(baseline: Map<string, number>): string[] {
  const now = resourceCounts();
  const out: string[] = [];
  for (const [type, n] of now) if (n > (baseline.get(type) ?? 0)) out.push(`${type}: ${baseline.get(type) ?? 0} -> ${n}`);
  return out;
}

describe('resource leaks', () => {
  test('1,000 clients connect, run one command and close: sockets, timers and listeners return to baseline', async () => {
    const server = await MockServer.start({ helloExtra: { logicalSessionTimeoutMinutes: 30 } });
    try {
      // Warm up once (lazy module state, DNS caches) before taking the baseline.
      const warm = new MongoClient(`mongodb://${server.address}/?directConnection=true`);
      await warm.db('admin').command({ ping: 1 });
      await warm.close();
      expect(await settle(() => (server.openConnectionCount === 0 ? [] : ['server connections']))).toEqual([]);

      const baseline = resourceCounts();
      const listeners = processListenerCounts();
      const connectionsBefore = server.connectionIds().length;

      const CLIENTS = 1000;
      const PARALLEL = 20;
      let peakOpen = 0;
      for (let i = 0; i < CLIENTS; i += PARALLEL) {
        await Promise.all(
          Array.from({ length: PARALLEL }, async () => {
            const client = new MongoClient(`mongodb://${server.address}/?directConnection=true&heartbeatFrequencyMS=10000`);
            await client.connect();
            const reply = await client.db('admin').command({ ping: 1 });
            expect(reply.ok).toBe(1);
            peakOpen = Math.max(peakOpen, server.openConnectionCount);
            await client.close();
          })
        );
      }

      // Every client opened at least a monitor and a pooled connection, and closed them all.
      expect(server.connectionIds().length - connectionsBefore).toBeGreaterThanOrEqual(2 * CLIENTS);
      expect(server.commands('ping').length).toBe(CLIENTS + 1);
      expect(peakOpen).toBeGreaterThan(0);
      expect(await settle(() => (server.openConnectionCount === 0 ? [] : [`server still has ${server.openConnectionCount} open connections`]))).toEqual([]);
      expect(await settle(() => grown(baseline))).toEqual([]);
      expect(processListenerCounts()).toEqual(listeners);
    } finally {
      await server.close();
    }
  }, 120_000);

  test('replica set clients (monitors + RTT pingers on 3 members) release everything on close', async () => {
    const rs = await MockReplicaSet.start({ members: 3, memberOptions: { helloExtra: { logicalSessionTimeoutMinutes: 30 } } });
    try {
      const baseline = resourceCounts();
      for (let i = 0; i < 50; i++) {
        const client = new MongoClient(`mongodb://${rs.hostList}/?replicaSet=rs0&heartbeatFrequencyMS=500`);
        await client.connect();
        await client.db('admin').command({ ping: 1 });
        await client.close();
      }
      const open = () => rs.members.reduce((n, m) => n + m.openConnectionCount, 0);
      expect(await settle(() => (open() === 0 ? [] : [`${open()} server connections open`]))).toEqual([]);
      expect(await settle(() => grown(baseline))).toEqual([]);
    } finally {
      await rs.close();
    }
  }, 60_000);

  test('a client whose connect() fails leaves nothing behind', async () => {
    const server = await MockServer.start();
    const address = server.address;
    await server.close();
    const baseline = resourceCounts();
    for (let i = 0; i < 20; i++) {
      const client = new MongoClient(`mongodb://${address}/?directConnection=true&serverSelectionTimeoutMS=50`);
      await expect(client.connect()).rejects.toThrow(/Server selection timed out/);
      await client.close();
    }
    expect(await settle(() => grown(baseline))).toEqual([]);
  });
});
