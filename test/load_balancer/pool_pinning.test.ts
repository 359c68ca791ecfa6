/** The pool's side of load-balanced pinning: pin accounting, the wait queue timeout message, close(). */
import { ObjectId } from 'bson';
import { MongoWaitQueueTimeoutError } from '../../src/errors';
import type { ConnectionPool } from '../../src/pool/pool';
import { FakeFactory, makePool, type FakeConnection } from '../pool/pool_test_helpers';

const pools: ConnectionPool<FakeConnection>[] = [];
afterEach(() => {
  for (const pool of pools.splice(0)) pool.close();
});

function loadBalancedPool(maxPoolSize: number, loadBalanced = true): ConnectionPool<FakeConnection> {
  const factory = new FakeFactory();
  factory.serviceId = new ObjectId();
  const { pool } = makePool({ maxPoolSize, waitQueueTimeoutMS: 20, loadBalanced, backgroundThreadIntervalMS: -1 }, factory);
  pool.ready();
  pools.push(pool);
  return pool;
}

describe('pool pin accounting (load-balanced mode)', () => {
  test('pinned connections are counted by kind until checked in', async () => {
    const pool = loadBalancedPool(3);
    const [a, b, c] = [await pool.checkOut(), await pool.checkOut(), await pool.checkOut()];
    pool.markPinned(a, 'cursor');
    pool.markPinned(b, 'transaction');
    expect(pool.pinnedConnectionCounts()).toEqual({ cursors: 1, transactions: 1 });
    pool.checkIn(a);
    expect(pool.pinnedConnectionCounts()).toEqual({ cursors: 0, transactions: 1 });
    // Only checked-out connections can be pinned.
    pool.markPinned(a, 'cursor');
    expect(pool.pinnedConnectionCounts()).toEqual({ cursors: 0, transactions: 1 });
    pool.checkIn(b);
    pool.checkIn(c);
    expect(pool.pinnedConnectionCounts()).toEqual({ cursors: 0, transactions: 0 });
  });

  test('the wait queue timeout message says what the checked-out connections are used for', async () => {
    const pool = loadBalancedPool(3);
    const held = [await pool.checkOut(), await pool.checkOut(), await pool.checkOut()];
    pool.markPinned(held[0], 'cursor');
    pool.markPinned(held[1], 'transaction');
    const error = await pool.checkOut().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoWaitQueueTimeoutError);
    expect((error as Error).message).toBe(
      'Timeout waiting for connection from the connection pool. maxPoolSize: 3, connections in use by cursors: 1, ' +
        'connections in use by transactions: 1, connections in use by other operations: 1'
    );
    for (const connection of held) pool.checkIn(connection);
  });

  test('outside load-balanced mode the message stays the generic one', async () => {
    const pool = loadBalancedPool(1, false);
    const held = await pool.checkOut();
    await expect(pool.checkOut()).rejects.toThrow(/^Timed out while checking out a connection from connection pool$/);
    pool.checkIn(held);
  });

  test('close() destroys pinned connections at once; other in-use ones wait for their check-in', async () => {
    const pool = loadBalancedPool(2);
    const pinned = await pool.checkOut();
    const busy = await pool.checkOut();
    pool.markPinned(pinned, 'cursor');
    pool.close();
    expect(pinned.destroyCount).toBe(1);
    expect(busy.destroyCount).toBe(0);
    pool.checkIn(pinned);
    pool.checkIn(busy);
    expect(busy.destroyCount).toBe(1);
  });
});
