/** ConnectionPool.tryCheckOut: the synchronous check-out fast path the executor uses first. */
import type { ConnectionPool } from '../../src/pool/pool';
import { ConnectionCheckedOutEvent } from '../../src/pool/pool_events';
import { type FakeConnection, flush, makePool } from './pool_test_helpers';

describe('ConnectionPool.tryCheckOut', () => {
  const pools: ConnectionPool<FakeConnection>[] = [];
  afterEach(() => {
    for (const pool of pools.splice(0)) pool.close();
  });
  const start = () => {
    const made = makePool({ backgroundThreadIntervalMS: -1 });
    pools.push(made.pool);
    return made;
  };

  it('takes the most recently checked-in idle connection, with the events of checkOut', async () => {
    const { pool, events, types } = start();
    pool.ready();
    const [a, b] = await Promise.all([pool.checkOut(), pool.checkOut()]);
    pool.checkIn(a);
    pool.checkIn(b);
    await flush();
    events.length = 0;
    const taken = pool.tryCheckOut();
    expect(taken).toBe(b);
    expect(types()).toEqual(['connectionCheckOutStarted', 'connectionCheckedOut']);
    expect((events[1].event as ConnectionCheckedOutEvent).connectionId).toBe(b.id);
    expect(pool.checkedOutConnectionCount).toBe(1);
    expect(pool.availableConnectionCount).toBe(1);
    pool.checkIn(b);
  });

  it('does nothing (no event) when the pool is paused, nothing is idle, or the idle connection is perished', async () => {
    const { pool, types } = start();
    expect(pool.tryCheckOut()).toBeUndefined(); // paused
    pool.ready();
    await flush();
    expect(pool.tryCheckOut()).toBeUndefined(); // nothing idle
    const c = await pool.checkOut();
    pool.checkIn(c);
    c.closed = true; // perished: left for checkOut, which closes it
    const before = types().length;
    expect(pool.tryCheckOut()).toBeUndefined();
    expect(types().length).toBe(before);
    const replacement = await pool.checkOut();
    expect(replacement).not.toBe(c);
    expect(types()).toContain('connectionClosed');
    pool.checkIn(replacement);
  });

  it('never jumps the wait queue', async () => {
    const made = makePool({ backgroundThreadIntervalMS: -1, maxPoolSize: 1 });
    pools.push(made.pool);
    const pool = made.pool;
    pool.ready();
    const first = await pool.checkOut();
    const waiting = pool.checkOut();
    await flush();
    expect(pool.waitQueueSize).toBe(1);
    pool.checkIn(first);
    // Idle now, but a waiter is queued: it gets the connection, not tryCheckOut.
    expect(pool.tryCheckOut()).toBeUndefined();
    await expect(waiting).resolves.toBe(first);
    pool.checkIn(first);
  });
});
