/** Driver sessions, causal consistency and snapshot reads over a fake deployment. */
import { Binary, Long, Timestamp } from 'bson';
import { MongoCompatibilityError, MongoExpiredSessionError, MongoInvalidArgumentError } from '../../src/errors';
import { ClientSession, ServerSession, ServerSessionPool } from '../../src/sessions';
import { WriteConcern } from '../../src/write_concern';
import { FakeDeployment, TestRead, TestWrite } from '../tools/fake_deployment';

const ts = (t: number, i = 1) => new Timestamp({ t, i });
const clusterTime = (t: number) => ({ clusterTime: ts(t), signature: { hash: new Binary(Buffer.alloc(20)), keyId: Long.fromNumber(1) } });

describe('ServerSessionPool', () => {
  test('LIFO: the most recently released session is reused first', () => {
    const pool = new ServerSessionPool(() => 30);
    const a = pool.acquire();
    const b = pool.acquire();
    pool.release(a);
    pool.release(b);
    expect(pool.acquire()).toBe(b);
    expect(pool.acquire()).toBe(a);
  });

  test('dirty sessions are discarded on release', () => {
    const pool = new ServerSessionPool(() => 30);
    const a = pool.acquire();
    a.isDirty = true;
    pool.release(a);
    expect(pool.size).toBe(0);
  });

  test('sessions with less than a minute left are discarded on acquire and pruned from the back on release', () => {
    let now = 1_000_000;
    const pool = new ServerSessionPool(() => 30, { now: () => now });
    const old = pool.acquire();
    const recent = pool.acquire();
    pool.release(old);
    now += 28 * 60_000;
    recent.lastUse = now;
    pool.release(recent); // `old` idle 28 min: still 2 min left
    expect(pool.size).toBe(2);
    now += 90_000; // old: 29.5 min idle (< 1 min left)
    const third = new ServerSession(now);
    pool.release(third);
    expect(pool.ids()).toEqual([third.id, recent.id]);
    now += 29 * 60_000 + 1; // everything is stale now
    const fresh = pool.acquire();
    expect(fresh).not.toBe(third);
    expect(pool.size).toBe(0);
  });

  test('load balanced mode reuses sessions regardless of idle time', () => {
    let now = 0;
    const pool = new ServerSessionPool(() => 30, { now: () => now, loadBalanced: () => true });
    const a = pool.acquire();
    pool.release(a);
    now += 60 * 60_000;
    expect(pool.acquire()).toBe(a);
  });

  test('clear() forgets sessions and does not take back sessions checked out before', () => {
    const pool = new ServerSessionPool(() => 30);
    const a = pool.acquire();
    const b = pool.acquire();
    pool.release(a);
    pool.clear();
    expect(pool.size).toBe(0);
    pool.release(b);
    expect(pool.size).toBe(0);
  });

  test('endSessions batches of 10,000', () => {
    const pool = new ServerSessionPool(() => 30);
    const sessions = Array.from({ length: 10_001 }, () => pool.acquire());
    for (const s of sessions) pool.release(s);
    const batches = pool.drainForEndSessions();
    expect(batches.map((b) => b.length)).toEqual([10_000, 1]);
    expect(pool.size).toBe(0);
  });
});

describe('ClientSession', () => {
  test('options: explicit sessions are causally consistent by default, snapshot excludes it, both is an error', () => {
    const d = FakeDeployment.primary();
    expect(d.startSession().options.causalConsistency).toBe(true);
    expect(d.startSession({ snapshot: true }).options.causalConsistency).toBe(false);
    expect(() => d.startSession({ snapshot: true, causalConsistency: true })).toThrow(MongoInvalidArgumentError);
    expect(() => d.startSession({ snapshotTime: ts(1) })).toThrow(MongoInvalidArgumentError);
    expect(new ClientSession(d, {}, false).options.causalConsistency).toBe(false);
    expect(Object.isFrozen(d.startSession().options)).toBe(true);
  });

  test('Motor properties: id, clusterTime, operationTime, hasEnded, inTransaction, options, client', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession({ defaultTimeoutMS: 5 });
    expect(s.id.id).toBeInstanceOf(Binary);
    expect(s.clusterTime).toBeUndefined();
    expect(s.operationTime).toBeUndefined();
    expect(s.hasEnded).toBe(false);
    expect(s.inTransaction).toBe(false);
    expect(s.options.defaultTimeoutMS).toBe(5);
    expect(s.client).toBe(d);
    await s.endSession();
    expect(s.hasEnded).toBe(true);
  });

  test('advanceClusterTime / advanceOperationTime only move forward', () => {
    const s = FakeDeployment.primary().startSession();
    s.advanceClusterTime(clusterTime(5));
    s.advanceClusterTime(clusterTime(3));
    expect(s.clusterTime?.clusterTime).toEqual(ts(5));
    s.advanceOperationTime(ts(7));
    s.advanceOperationTime(ts(6));
    expect(s.operationTime).toEqual(ts(7));
    expect(() => s.advanceClusterTime({} as never)).toThrow(MongoInvalidArgumentError);
  });

  test('endSession is idempotent, returns the server session to the pool, and the session cannot be used afterwards', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    await d.run(new TestRead({ find: 'c' }, { session: s }));
    const id = s.id;
    await s.endSession();
    await s.endSession();
    expect(d.serverSessionPool.ids()).toEqual([id]);
    await expect(d.run(new TestRead({ find: 'c' }, { session: s }))).rejects.toBeInstanceOf(MongoExpiredSessionError);
  });

  test('a session from another client is rejected', async () => {
    const d1 = FakeDeployment.primary();
    const d2 = FakeDeployment.primary();
    await expect(d2.run(new TestRead({ find: 'c' }, { session: d1.startSession() }))).rejects.toThrow(/same MongoClient/);
  });

  test('explicit sessions with unacknowledged writes are an error', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    await expect(d.run(new TestWrite({ insert: 'c', documents: [{}] }, { session: s, writeConcern: new WriteConcern(0) }))).rejects.toBeInstanceOf(
      MongoInvalidArgumentError
    );
  });

  test('explicit sessions on a deployment without session support are an error; implicit ones are ignored', async () => {
    const hello = FakeDeployment.hello({ logicalSessionTimeoutMinutes: undefined });
    const d = new FakeDeployment('Single', [{ address: 'a:1', hello }]);
    await d.run(new TestRead({ find: 'c' }));
    expect(d.commands('find')[0].command.lsid).toBeUndefined();
    await expect(d.run(new TestRead({ find: 'c' }, { session: d.startSession() }))).rejects.toBeInstanceOf(MongoCompatibilityError);
  });
});

describe('implicit sessions and lsid', () => {
  test('every command gets an lsid; implicit sessions are pooled and reused (LIFO)', async () => {
    const d = FakeDeployment.primary();
    await d.run(new TestRead({ find: 'c' }));
    await d.run(new TestWrite({ insert: 'c', documents: [{}] }));
    const [a, b] = d.commands();
    expect(a.command.lsid).toBeDefined();
    expect(b.command.lsid).toEqual(a.command.lsid);
    expect(d.serverSessionPool.size).toBe(1);
  });

  test('the server session is taken only after checkout (a failed checkout consumes none)', async () => {
    const d = FakeDeployment.primary({ retryReads: false });
    d.checkoutFailures.set('a:1', [new Error('no connection')]);
    await expect(d.run(new TestRead({ find: 'c' }))).rejects.toThrow('no connection');
    expect(d.serverSessionPool.size).toBe(0);
  });
});

describe('$clusterTime gossip', () => {
  test('the greatest cluster time (client or session) is sent; replies advance both', async () => {
    const d = FakeDeployment.primary();
    d.script('find', () => ({ ok: 1, cursor: { id: 0, firstBatch: [] }, $clusterTime: clusterTime(10), operationTime: ts(9) }));
    await d.run(new TestRead({ find: 'c' }));
    expect(d.topology.clusterTime?.clusterTime).toEqual(ts(10));
    const s = d.startSession();
    s.advanceClusterTime(clusterTime(20));
    await d.run(new TestRead({ find: 'c' }, { session: s }));
    expect(d.commands('find')[1].command.$clusterTime.clusterTime).toEqual(ts(20));
    expect(d.topology.clusterTime?.clusterTime).toEqual(ts(10)); // advanceClusterTime never advances the client
    await d.run(new TestRead({ find: 'c' }));
    expect(d.commands('find')[2].command.$clusterTime.clusterTime).toEqual(ts(10));
    expect(s.operationTime).toEqual(ts(9));
    await s.endSession();
  });

  test('error replies are gossiped too; standalone servers get no $clusterTime', async () => {
    const d = FakeDeployment.primary({ retryReads: false });
    d.script('find', () => ({ ok: 0, code: 2, $clusterTime: clusterTime(3), operationTime: ts(3) }));
    await expect(d.run(new TestRead({ find: 'c' }))).rejects.toMatchObject({ code: 2 });
    expect(d.topology.clusterTime?.clusterTime).toEqual(ts(3));

    const standalone = FakeDeployment.standalone();
    standalone.topology.clusterTime = clusterTime(4);
    await standalone.run(new TestRead({ find: 'c' }));
    expect(standalone.commands('find')[0].command.$clusterTime).toBeUndefined();
  });
});

describe('causal consistency', () => {
  test('the first read of a new session has no afterClusterTime; the read after a write has it', async () => {
    const d = FakeDeployment.primary();
    d.script('insert', () => ({ ok: 1, n: 1, operationTime: ts(42) }));
    const s = d.startSession();
    await d.run(new TestRead({ find: 'c' }, { session: s }));
    expect(d.commands('find')[0].command.readConcern).toBeUndefined();
    await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { session: s }));
    await d.run(new TestRead({ find: 'c' }, { session: s }));
    expect(d.commands('find')[1].command.readConcern).toEqual({ afterClusterTime: ts(42) });
    await s.endSession();
  });

  test('afterClusterTime is merged with the read concern level; not sent for causalConsistency:false or implicit sessions', async () => {
    const d = FakeDeployment.primary();
    d.script('insert', () => ({ ok: 1, n: 1, operationTime: ts(42) }));
    const s = d.startSession();
    await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { session: s }));
    await d.run(new TestRead({ find: 'c', readConcern: { level: 'majority' } }, { session: s }));
    expect(d.commands('find')[0].command.readConcern).toEqual({ level: 'majority', afterClusterTime: ts(42) });

    const off = d.startSession({ causalConsistency: false });
    await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { session: off }));
    await d.run(new TestRead({ find: 'c' }, { session: off }));
    expect(d.commands('find')[1].command.readConcern).toBeUndefined();
    await d.run(new TestRead({ find: 'c' }));
    expect(d.commands('find')[2].command.readConcern).toBeUndefined();
  });

  test('operationTime is recorded from error replies', async () => {
    const d = FakeDeployment.primary({ retryReads: false });
    d.script('find', () => ({ ok: 0, code: 2, operationTime: ts(8) }));
    const s = d.startSession();
    await expect(d.run(new TestRead({ find: 'c' }, { session: s }))).rejects.toMatchObject({ code: 2 });
    expect(s.operationTime).toEqual(ts(8));
  });
});

describe('snapshot reads', () => {
  test('readConcern snapshot, then atClusterTime from the first reply (cursor or top level)', async () => {
    const d = FakeDeployment.primary();
    d.script('find', () => ({ ok: 1, cursor: { id: 0, firstBatch: [], atClusterTime: ts(100) } }));
    const s = d.startSession({ snapshot: true });
    await d.run(new TestRead({ find: 'c' }, { session: s }));
    await d.run(new TestRead({ distinct: 'c', key: 'x' }, { session: s }));
    const [first, second] = d.commands();
    expect(first.command.readConcern).toEqual({ level: 'snapshot' });
    expect(second.command.readConcern).toEqual({ level: 'snapshot', atClusterTime: ts(100) });
    expect(s.snapshotTime).toEqual(ts(100));

    const d2 = FakeDeployment.primary();
    d2.script('distinct', () => ({ ok: 1, values: [], atClusterTime: ts(7) }));
    const s2 = d2.startSession({ snapshot: true });
    await d2.run(new TestRead({ distinct: 'c', key: 'x' }, { session: s2 }));
    expect(s2.snapshotTime).toEqual(ts(7));
  });

  test('a given snapshotTime is used from the start', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession({ snapshot: true, snapshotTime: ts(5) });
    await d.run(new TestRead({ find: 'c' }, { session: s }));
    expect(d.commands('find')[0].command.readConcern).toEqual({ level: 'snapshot', atClusterTime: ts(5) });
  });

  test('snapshot reads need MongoDB 5.0 (wire 13)', async () => {
    const d = FakeDeployment.primary({ maxWireVersion: 12 });
    const s = d.startSession({ snapshot: true });
    await expect(d.run(new TestRead({ find: 'c' }, { session: s }))).rejects.toThrow('Snapshot reads require MongoDB 5.0 or later');
    expect(d.commands()).toHaveLength(0);
  });
});

describe('snapshot sessions and unsupported operations', () => {
  test('writes carry readConcern snapshot too (the server rejects them); getMore does not', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession({ snapshot: true });
    await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { session: s }));
    await d.run(new TestRead({ getMore: 1, collection: 'c' }, { session: s, retryable: false }));
    expect(d.commands('insert')[0].command.readConcern).toEqual({ level: 'snapshot' });
    expect(d.commands('getMore')[0].command.readConcern).toBeUndefined();
  });
});
