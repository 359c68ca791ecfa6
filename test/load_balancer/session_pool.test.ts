/** load-balancers.md "Session Expiration": in load-balanced mode pooled sessions never expire. */
import { ServerSessionPool } from '../../src/sessions';

describe('server session pool in load-balanced mode', () => {
  test('ignores logicalSessionTimeoutMinutes: idle sessions are kept and reused, none is pruned', () => {
    let now = 0;
    let loadBalanced = true;
    const pool = new ServerSessionPool(() => 1, { loadBalanced: () => loadBalanced, now: () => now });
    const a = pool.acquire();
    const b = pool.acquire();
    now = 10 * 60_000; // ten minutes: far beyond a one-minute session timeout
    pool.release(a);
    pool.release(b);
    expect(pool.size).toBe(2);
    expect(pool.acquire()).toBe(b);
    pool.release(b);
    // The same idle sessions are dropped outside load-balanced mode.
    loadBalanced = false;
    now += 10 * 60_000;
    expect(pool.acquire()).not.toBe(b);
    expect(pool.size).toBe(0);
  });

  test('still discards dirty sessions', () => {
    const pool = new ServerSessionPool(() => 30, { loadBalanced: () => true });
    const session = pool.acquire();
    session.isDirty = true;
    pool.release(session);
    expect(pool.size).toBe(0);
  });
});
