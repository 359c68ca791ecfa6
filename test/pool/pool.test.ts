import { ObjectId } from 'bson';
import {
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoPoolClearedError,
  MongoPoolClosedError,
  MongoRuntimeError,
  MongoWaitQueueTimeoutError
} from '../../src/errors';
import { ConnectionPool, type PoolConnection } from '../../src/pool/pool';
import type { Connection } from '../../src/pool/connection';
import {
  ConnectionCheckedOutEvent,
  ConnectionCheckOutFailedEvent,
  ConnectionClosedEvent,
  ConnectionReadyEvent,
  PoolClearedEvent,
  PoolCreatedEvent
} from '../../src/pool/pool_events';
import { FakeConnection, FakeFactory, flush, makePool, sleep } from './pool_test_helpers';

// Compile-time check (tsc): the real Connection satisfies the pool's connection interface.
const connectionIsPoolConnection: Connection extends PoolConnection ? true : never = true;

const closedEvents = (events: ReturnType<typeof makePool>['events']): ConnectionClosedEvent[] =>
  events.filter((e) => e.type === 'connectionClosed').map((e) => e.event as ConnectionClosedEvent);

describe('ConnectionPool', () => {
  const pools: ConnectionPool<FakeConnection>[] = [];
  const track = <T extends ReturnType<typeof makePool>>(made: T): T => {
    pools.push(made.pool);
    return made;
  };
  afterEach(() => {
    for (const pool of pools.splice(0)) pool.close();
  });

  it('the real Connection class implements PoolConnection', () => {
    expect(connectionIsPoolConnection).toBe(true);
  });

  describe('options', () => {
    it('applies the spec defaults and reports them in PoolCreatedEvent', async () => {
      const { pool, events } = track(makePool());
      expect(pool.options).toMatchObject({
        maxPoolSize: 100,
        minPoolSize: 0,
        maxConnecting: 2,
        maxIdleTimeMS: 0,
        waitQueueTimeoutMS: 0,
        loadBalanced: false
      });
      await flush();
      expect(events.map((e) => e.type)).toEqual(['connectionPoolCreated']);
      const created = events[0].event as PoolCreatedEvent;
      expect(created.address).toBe('localhost:27017');
      expect(created.time).toBeInstanceOf(Date);
      expect(created.options).toEqual({ maxPoolSize: 100, minPoolSize: 0, maxConnecting: 2, maxIdleTimeMS: 0, waitQueueTimeoutMS: 0 });
    });

    it('rejects invalid options', () => {
      const factory = new FakeFactory();
      expect(() => new ConnectionPool('a:1', factory.create, { maxPoolSize: -1 })).toThrow(MongoInvalidArgumentError);
      expect(() => new ConnectionPool('a:1', factory.create, { maxConnecting: 0 })).toThrow(MongoInvalidArgumentError);
      expect(() => new ConnectionPool('a:1', factory.create, { minPoolSize: 5, maxPoolSize: 2 })).toThrow(/minPoolSize/);
      expect(() => new ConnectionPool('a:1', factory.create, { maxIdleTimeMS: 1.5 })).toThrow(MongoInvalidArgumentError);
      // maxPoolSize 0 means unlimited, so any minPoolSize is fine
      expect(() => new ConnectionPool('a:1', factory.create, { minPoolSize: 5, maxPoolSize: 0 }).close()).not.toThrow();
    });

    it('emits PoolCreated before anything else even when used synchronously', () => {
      const { pool, types } = track(makePool());
      pool.ready();
      pool.close();
      expect(types()).toEqual(['connectionPoolCreated', 'connectionPoolReady', 'connectionPoolClosed']);
    });
  });

  describe('check-out and check-in', () => {
    it('creates connections with ids 1, 2, … and reuses checked-in ones', async () => {
      const { pool, factory, types } = track(makePool());
      pool.ready();
      const a = await pool.checkOut();
      const b = await pool.checkOut();
      expect([a.id, b.id]).toEqual([1, 2]);
      expect(factory.requests.map((r) => [r.id, r.generation, r.address])).toEqual([
        [1, 0, 'localhost:27017'],
        [2, 0, 'localhost:27017']
      ]);
      pool.checkIn(b);
      const again = await pool.checkOut();
      expect(again).toBe(b);
      expect(pool.totalConnectionCount).toBe(2);
      expect(pool.checkedOutConnectionCount).toBe(2);
      expect(types()).toEqual([
        'connectionPoolCreated',
        'connectionPoolReady',
        'connectionCheckOutStarted',
        'connectionCreated',
        'connectionReady',
        'connectionCheckedOut',
        'connectionCheckOutStarted',
        'connectionCreated',
        'connectionReady',
        'connectionCheckedOut',
        'connectionCheckedIn',
        'connectionCheckOutStarted',
        'connectionCheckedOut'
      ]);
    });

    it('reports durations on ready and checked-out events', async () => {
      const { pool, events } = track(makePool());
      pool.ready();
      await pool.checkOut();
      const ready = events.find((e) => e.type === 'connectionReady')?.event as ConnectionReadyEvent;
      const out = events.find((e) => e.type === 'connectionCheckedOut')?.event as ConnectionCheckedOutEvent;
      expect(ready.durationMS).toBeGreaterThanOrEqual(0);
      expect(out.durationMS).toBeGreaterThanOrEqual(ready.durationMS);
      expect(out.connectionId).toBe(1);
    });

    it('checks out an idle connection without arming any timer', async () => {
      const { pool } = track(makePool({ waitQueueTimeoutMS: 1000 }));
      pool.ready();
      pool.checkIn(await pool.checkOut());
      const spy = jest.spyOn(global, 'setTimeout');
      try {
        const connection = await pool.checkOut();
        expect(connection.id).toBe(1);
        expect(spy).not.toHaveBeenCalled();
        pool.checkIn(connection);
      } finally {
        spy.mockRestore();
      }
    });

    it('throws when checking in a connection that is not checked out', async () => {
      const { pool } = track(makePool());
      pool.ready();
      const connection = await pool.checkOut();
      pool.checkIn(connection);
      expect(() => pool.checkIn(connection)).toThrow(MongoRuntimeError);
      expect(() => pool.checkIn(new FakeConnection(99, 0))).toThrow(/not checked out/);
    });

    it('fails check-out from a paused pool with MongoPoolClearedError (reason connectionError)', async () => {
      const { pool, events } = track(makePool());
      await expect(pool.checkOut()).rejects.toBeInstanceOf(MongoPoolClearedError);
      const failed = events.find((e) => e.type === 'connectionCheckOutFailed')?.event as ConnectionCheckOutFailedEvent;
      expect(failed.reason).toBe('connectionError');
      expect(failed.error).toBeInstanceOf(MongoPoolClearedError);
    });

    it('serves waiters in FIFO order', async () => {
      const { pool } = track(makePool({ maxPoolSize: 1 }));
      pool.ready();
      const first = await pool.checkOut();
      const order: number[] = [];
      const waiters = [1, 2, 3].map((n) =>
        pool.checkOut().then((c) => {
          order.push(n);
          return c;
        })
      );
      await flush();
      expect(pool.waitQueueSize).toBe(3);
      pool.checkIn(first);
      const c1 = await waiters[0];
      pool.checkIn(c1);
      const c2 = await waiters[1];
      pool.checkIn(c2);
      const c3 = await waiters[2];
      expect(order).toEqual([1, 2, 3]);
      expect(new Set([first, c1, c2, c3]).size).toBe(1);
      expect(pool.waitQueueSize).toBe(0);
    });

    it('withConnection checks the connection back in even when the callback throws', async () => {
      const { pool } = track(makePool());
      pool.ready();
      await expect(
        pool.withConnection(async () => {
          throw new Error('boom');
        })
      ).rejects.toThrow('boom');
      expect(pool.checkedOutConnectionCount).toBe(0);
      expect(pool.availableConnectionCount).toBe(1);
      await expect(pool.withConnection(async (c) => c.id)).resolves.toBe(1);
    });
  });

  describe('limits', () => {
    it('never establishes more than maxConnecting connections at once', async () => {
      const factory = new FakeFactory();
      factory.auto = false;
      const { pool } = track(makePool({ maxConnecting: 2 }, factory));
      pool.ready();
      const checkouts = [1, 2, 3, 4, 5].map(() => pool.checkOut());
      await flush();
      expect(pool.pendingConnectionCount).toBe(2);
      expect(factory.requests).toHaveLength(2);
      expect(pool.waitQueueSize).toBe(3);
      factory.resolveNext();
      await flush();
      expect(factory.requests).toHaveLength(3);
      expect(pool.pendingConnectionCount).toBe(2);
      while (factory.parked.length > 0) {
        factory.resolveNext();
        await flush();
      }
      const connections = await Promise.all(checkouts);
      expect(connections.map((c) => c.id).sort()).toEqual([1, 2, 3, 4, 5]);
    });

    it('never exceeds maxPoolSize and hands a checked-in connection to the next waiter', async () => {
      const { pool, factory } = track(makePool({ maxPoolSize: 2 }));
      pool.ready();
      const a = await pool.checkOut();
      await pool.checkOut();
      let third: FakeConnection | undefined;
      const waiting = pool.checkOut().then((c) => (third = c));
      await flush();
      expect(third).toBeUndefined();
      expect(factory.requests).toHaveLength(2);
      pool.checkIn(a);
      await waiting;
      expect(third).toBe(a);
    });

    it('times out a waiter after waitQueueTimeoutMS, or the per-call timeoutMS', async () => {
      const { pool, events } = track(makePool({ maxPoolSize: 1, waitQueueTimeoutMS: 20 }));
      pool.ready();
      const held = await pool.checkOut();
      const started = Date.now();
      const error = await pool.checkOut().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MongoWaitQueueTimeoutError);
      expect((error as MongoWaitQueueTimeoutError).message).toBe('Timed out while checking out a connection from connection pool');
      expect((error as MongoWaitQueueTimeoutError).address).toBe('localhost:27017');
      expect(Date.now() - started).toBeGreaterThanOrEqual(15);
      const failed = events.filter((e) => e.type === 'connectionCheckOutFailed').map((e) => e.event as ConnectionCheckOutFailedEvent);
      expect(failed.map((e) => e.reason)).toEqual(['timeout']);

      await expect(pool.checkOut({ timeoutMS: 5 })).rejects.toBeInstanceOf(MongoWaitQueueTimeoutError);
      expect(pool.waitQueueSize).toBe(0);
      pool.checkIn(held);
      await expect(pool.checkOut()).resolves.toBe(held);
    });
  });

  describe('abort signal', () => {
    it('fails a queued check-out with the signal reason and leaves the queue', async () => {
      const { pool, events } = track(makePool({ maxPoolSize: 1 }));
      pool.ready();
      const held = await pool.checkOut();
      const controller = new AbortController();
      const waiting = pool.checkOut({ signal: controller.signal });
      await flush();
      expect(pool.waitQueueSize).toBe(1);
      const reason = new Error('operation timed out');
      controller.abort(reason);
      await expect(waiting).rejects.toBe(reason);
      expect(pool.waitQueueSize).toBe(0);
      const failed = events.find((e) => e.type === 'connectionCheckOutFailed')?.event as ConnectionCheckOutFailedEvent;
      expect(failed.reason).toBe('timeout');
      // the connection goes to the next waiter, not to the aborted one
      const next = pool.checkOut();
      pool.checkIn(held);
      await expect(next).resolves.toBe(held);
    });

    it('fails at once with an already aborted signal', async () => {
      const { pool, factory } = track(makePool());
      pool.ready();
      const reason = new Error('gone');
      await expect(pool.checkOut({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      expect(factory.requests).toHaveLength(0);
    });

    it('keeps a connection whose establishment outlived its aborted check-out', async () => {
      const factory = new FakeFactory();
      factory.auto = false;
      const { pool } = track(makePool({}, factory));
      pool.ready();
      const controller = new AbortController();
      const waiting = pool.checkOut({ signal: controller.signal });
      await flush();
      controller.abort(new Error('stop'));
      await expect(waiting).rejects.toThrow('stop');
      factory.resolveNext();
      await flush();
      expect(pool.availableConnectionCount).toBe(1);
      expect(pool.pendingConnectionCount).toBe(0);
    });
  });

  describe('perished connections', () => {
    it('closes a stale connection at check-in (reason stale)', async () => {
      const { pool, events } = track(makePool({ backgroundThreadIntervalMS: -1 }));
      pool.ready();
      const connection = await pool.checkOut();
      pool.clear();
      expect(pool.generation).toBe(1);
      expect(pool.isStale(connection)).toBe(true);
      pool.checkIn(connection);
      expect(closedEvents(events).map((e) => [e.connectionId, e.reason])).toEqual([[1, 'stale']]);
      expect(connection.destroyCount).toBe(1);
      expect(pool.totalConnectionCount).toBe(0);
    });

    it('closes a stale available connection at check-out and creates a new one', async () => {
      const { pool, events } = track(makePool({ backgroundThreadIntervalMS: -1 }));
      pool.ready();
      pool.checkIn(await pool.checkOut());
      pool.clear();
      pool.ready();
      const fresh = await pool.checkOut();
      expect(fresh.id).toBe(2);
      expect(fresh.generation).toBe(1);
      expect(closedEvents(events).map((e) => [e.connectionId, e.reason])).toEqual([[1, 'stale']]);
    });

    it('closes a closed connection at check-in (reason error, with its error)', async () => {
      const { pool, events } = track(makePool());
      pool.ready();
      const connection = await pool.checkOut();
      connection.closed = true;
      connection.closeError = new MongoNetworkError('connection reset');
      pool.checkIn(connection);
      const [closed] = closedEvents(events);
      expect(closed.reason).toBe('error');
      expect(closed.error).toBe(connection.closeError);
      expect(pool.availableConnectionCount).toBe(0);
    });

    it('skips an available connection that closed while idle', async () => {
      const { pool, events } = track(makePool());
      pool.ready();
      const connection = await pool.checkOut();
      pool.checkIn(connection);
      connection.closed = true; // e.g. the server hung up
      const next = await pool.checkOut();
      expect(next.id).toBe(2);
      expect(closedEvents(events).map((e) => [e.connectionId, e.reason])).toEqual([[1, 'error']]);
    });

    it('closes a connection idle longer than maxIdleTimeMS at check-out', async () => {
      const { pool, events } = track(makePool({ maxIdleTimeMS: 10, backgroundThreadIntervalMS: -1 }));
      pool.ready();
      pool.checkIn(await pool.checkOut());
      await sleep(30);
      const next = await pool.checkOut();
      expect(next.id).toBe(2);
      expect(closedEvents(events).map((e) => [e.connectionId, e.reason])).toEqual([[1, 'idle']]);
    });

    it('closes idle connections in the background without a check-out', async () => {
      const { pool, events } = track(makePool({ maxIdleTimeMS: 20, backgroundThreadIntervalMS: 10 }));
      pool.ready();
      const a = await pool.checkOut();
      const b = await pool.checkOut();
      pool.checkIn(a);
      pool.checkIn(b);
      await sleep(5);
      expect(pool.availableConnectionCount).toBe(2);
      await sleep(80);
      expect(pool.availableConnectionCount).toBe(0);
      expect(closedEvents(events).map((e) => e.reason)).toEqual(['idle', 'idle']);
    });

    it('a clear schedules an immediate background run that closes stale available connections', async () => {
      const { pool, events } = track(makePool({ backgroundThreadIntervalMS: 60_000 }));
      pool.ready();
      pool.checkIn(await pool.checkOut());
      pool.clear();
      expect(pool.availableConnectionCount).toBe(1);
      await sleep(20);
      expect(pool.availableConnectionCount).toBe(0);
      expect(closedEvents(events).map((e) => e.reason)).toEqual(['stale']);
    });
  });

  describe('clear', () => {
    it('pauses, emits PoolCleared once, and fails waiters with MongoPoolClearedError quoting the cause', async () => {
      const { pool, events } = track(makePool({ maxPoolSize: 1 }));
      pool.ready();
      await pool.checkOut();
      const waiting = [pool.checkOut(), pool.checkOut()];
      await flush();
      const cause = new MongoNetworkError('socket hang up');
      pool.clear({ cause });
      pool.clear(); // already paused: no second event
      expect(pool.state).toBe('paused');
      for (const w of waiting) {
        const error = await w.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(MongoPoolClearedError);
        expect((error as Error).message).toContain('socket hang up');
        expect((error as MongoPoolClearedError).hasErrorLabel('RetryableWriteError')).toBe(true);
      }
      expect(events.filter((e) => e.type === 'connectionPoolCleared')).toHaveLength(1);
      expect(pool.generation).toBe(2);
      expect(pool.waitQueueSize).toBe(0);
    });

    it('interrupts in-use and pending connections of the old generation only', async () => {
      const factory = new FakeFactory();
      const { pool, events } = track(makePool({ backgroundThreadIntervalMS: -1 }, factory));
      pool.ready();
      const old = await pool.checkOut();
      factory.auto = false;
      const pendingCheckOut = pool.checkOut();
      await flush();
      const pendingRequest = factory.requests[1];
      pool.clear({ interruptInUseConnections: true });
      const cleared = events.find((e) => e.type === 'connectionPoolCleared')?.event as PoolClearedEvent;
      expect(cleared.interruptInUseConnections).toBe(true);
      expect(old.interruptedWith).toBeInstanceOf(MongoPoolClearedError);
      expect(old.interruptedWith?.message).toBe('Connection to localhost:27017 interrupted due to server monitor timeout');
      expect(pendingRequest.signal.aborted).toBe(true);
      await expect(pendingCheckOut).rejects.toBeInstanceOf(MongoPoolClearedError);
      pool.checkIn(old);
      expect(closedEvents(events).map((e) => [e.connectionId, e.reason])).toEqual([
        [2, 'stale'],
        [1, 'error']
      ]);

      factory.auto = true;
      pool.ready();
      const fresh = await pool.checkOut();
      pool.clear({ interruptInUseConnections: false });
      expect(fresh.interruptedWith).toBeUndefined();
    });

    it('fails a check-out whose connection was established for an older generation', async () => {
      const factory = new FakeFactory();
      factory.auto = false;
      const { pool, events } = track(makePool({ backgroundThreadIntervalMS: -1 }, factory));
      pool.ready();
      const waiting = pool.checkOut();
      await flush();
      pool.clear();
      pool.ready();
      factory.resolveNext();
      await expect(waiting).rejects.toBeInstanceOf(MongoPoolClearedError);
      expect(closedEvents(events).map((e) => e.reason)).toEqual(['stale']);
      expect(pool.totalConnectionCount).toBe(0);
    });
  });

  describe('load-balanced mode', () => {
    const serviceA = new ObjectId();
    const serviceB = new ObjectId();

    it('keeps one generation per serviceId and never pauses', async () => {
      const { pool, factory, events } = track(makePool({ loadBalanced: true }));
      pool.ready();
      factory.serviceId = serviceA;
      const a1 = await pool.checkOut();
      const a2 = await pool.checkOut();
      factory.serviceId = serviceB;
      const b1 = await pool.checkOut();
      expect([a1.generation, a2.generation, b1.generation]).toEqual([0, 0, 0]);

      pool.clear({ serviceId: serviceA });
      expect(pool.state).toBe('ready');
      expect(pool.generation).toBe(0);
      expect(pool.generationFor(serviceA)).toBe(1);
      expect(pool.generationFor(serviceB)).toBe(0);
      const cleared = events.find((e) => e.type === 'connectionPoolCleared')?.event as PoolClearedEvent;
      expect(cleared.serviceId).toBe(serviceA);

      pool.checkIn(a1);
      pool.checkIn(b1);
      expect(closedEvents(events).map((e) => [e.connectionId, e.reason, e.serviceId])).toEqual([[1, 'stale', serviceA]]);
      expect(pool.availableConnectionCount).toBe(1);

      // The available service-B connection is reused; a new connection to service A gets the bumped generation.
      await expect(pool.checkOut()).resolves.toBe(b1);
      factory.serviceId = serviceA;
      const a3 = await pool.checkOut();
      expect(a3.id).toBe(4);
      expect(a3.generation).toBe(1);
      expect(pool.isStale(a2)).toBe(true);
      expect(pool.isStale(a3)).toBe(false);
    });

    it('forgets a service once its last connection is closed', async () => {
      const { pool, factory } = track(makePool({ loadBalanced: true }));
      pool.ready();
      factory.serviceId = serviceA;
      const a = await pool.checkOut();
      pool.clear({ serviceId: serviceA });
      expect(pool.generationFor(serviceA)).toBe(1);
      pool.checkIn(a); // stale → closed → service A has no connections left
      expect(pool.generationFor(serviceA)).toBe(0);
    });

    it('requires a serviceId to clear', () => {
      const { pool } = track(makePool({ loadBalanced: true }));
      expect(() => pool.clear()).toThrow(MongoRuntimeError);
    });
  });

  describe('establishment failures', () => {
    it('emits ConnectionClosed(error) then CheckOutFailed(connectionError), reports to SDAM, and propagates the error', async () => {
      const onEstablishmentError = jest.fn();
      const factory = new FakeFactory();
      const failure = new MongoNetworkError('connect ECONNREFUSED', { beforeHandshake: true });
      factory.failWith = failure;
      const { pool, events } = track(makePool({ onEstablishmentError }, factory));
      pool.ready();
      await expect(pool.checkOut()).rejects.toBe(failure);
      expect(events.slice(-3).map((e) => e.type)).toEqual(['connectionCreated', 'connectionClosed', 'connectionCheckOutFailed']);
      const closed = events[events.length - 2].event as ConnectionClosedEvent;
      expect([closed.reason, closed.error]).toEqual(['error', failure]);
      const failed = events[events.length - 1].event as ConnectionCheckOutFailedEvent;
      expect([failed.reason, failed.error]).toEqual(['connectionError', failure]);
      expect(onEstablishmentError).toHaveBeenCalledWith(failure, { connectionId: 1, generation: 0 });
      expect(pool.totalConnectionCount).toBe(0);
    });

    it('a synchronous throw from the factory is handled like a rejection', async () => {
      const pool = new ConnectionPool('localhost:1', () => {
        throw new Error('bad factory');
      });
      pools.push(pool as unknown as ConnectionPool<FakeConnection>);
      pool.ready();
      await expect(pool.checkOut()).rejects.toThrow('bad factory');
      expect(pool.pendingConnectionCount).toBe(0);
    });

    it('does not retry failed background establishments in a tight loop', async () => {
      const onEstablishmentError = jest.fn();
      const factory = new FakeFactory();
      factory.failWith = new MongoNetworkError('down');
      const { pool } = track(makePool({ minPoolSize: 1, backgroundThreadIntervalMS: 30, onEstablishmentError }, factory));
      pool.ready();
      await sleep(100);
      expect(factory.requests.length).toBeGreaterThanOrEqual(2);
      expect(factory.requests.length).toBeLessThanOrEqual(5);
      expect(onEstablishmentError).toHaveBeenCalledTimes(factory.requests.length);
    });
  });

  describe('minPoolSize', () => {
    it('populates only while ready, within maxConnecting', async () => {
      const factory = new FakeFactory();
      factory.auto = false;
      const { pool } = track(makePool({ minPoolSize: 3, backgroundThreadIntervalMS: 10 }, factory));
      await sleep(30);
      expect(factory.requests).toHaveLength(0); // paused
      pool.ready();
      expect(factory.requests).toHaveLength(2); // maxConnecting
      factory.resolveNext();
      await flush();
      expect(factory.requests).toHaveLength(3);
      factory.resolveNext();
      factory.resolveNext();
      await flush();
      expect(pool.availableConnectionCount).toBe(3);
      await sleep(30);
      expect(factory.requests).toHaveLength(3);
    });

    it('stops populating when cleared and resumes when ready again', async () => {
      const { pool, factory } = track(makePool({ minPoolSize: 2, backgroundThreadIntervalMS: 10 }));
      pool.ready();
      await flush();
      expect(pool.availableConnectionCount).toBe(2);
      pool.clear();
      await sleep(40);
      expect(pool.totalConnectionCount).toBe(0); // stale ones closed, none created while paused
      expect(factory.requests).toHaveLength(2);
      pool.ready();
      await flush();
      expect(pool.availableConnectionCount).toBe(2);
      expect(factory.requests.map((r) => r.generation)).toEqual([0, 0, 1, 1]);
    });
  });

  describe('close', () => {
    it('closes available connections now and in-use ones at check-in, then rejects check-outs', async () => {
      const { pool, events } = track(makePool());
      pool.ready();
      const inUse = await pool.checkOut();
      const idle = await pool.checkOut();
      pool.checkIn(idle);
      pool.close();
      pool.close(); // idempotent
      expect(idle.closed).toBe(true);
      expect(inUse.closed).toBe(false);
      pool.checkIn(inUse);
      expect(inUse.closed).toBe(true);
      const error = await pool.checkOut().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MongoPoolClosedError);
      expect((error as Error).message).toBe('Attempted to check out a connection from closed connection pool');
      expect(closedEvents(events).map((e) => [e.connectionId, e.reason])).toEqual([
        [2, 'poolClosed'],
        [1, 'poolClosed']
      ]);
      expect(events.filter((e) => e.type === 'connectionPoolClosed')).toHaveLength(1);
      expect(events.map((e) => e.type).slice(-2)).toEqual(['connectionCheckOutStarted', 'connectionCheckOutFailed']);
      expect(pool.totalConnectionCount).toBe(0);
    });

    it('fails waiting and establishing check-outs with MongoPoolClosedError and aborts establishments', async () => {
      const factory = new FakeFactory();
      factory.auto = false;
      const { pool, events } = track(makePool({ maxConnecting: 1 }, factory));
      pool.ready();
      const establishing = pool.checkOut();
      const waiting = pool.checkOut();
      await flush();
      expect([pool.pendingConnectionCount, pool.waitQueueSize]).toEqual([1, 1]);
      pool.close();
      expect(factory.requests[0].signal.aborted).toBe(true);
      await expect(waiting).rejects.toBeInstanceOf(MongoPoolClosedError);
      await expect(establishing).rejects.toBeInstanceOf(MongoPoolClosedError);
      const failed = events.filter((e) => e.type === 'connectionCheckOutFailed').map((e) => (e.event as ConnectionCheckOutFailedEvent).reason);
      expect(failed).toEqual(['poolClosed', 'poolClosed']);
      expect(closedEvents(events).map((e) => e.reason)).toEqual(['poolClosed']);
      expect(pool.totalConnectionCount).toBe(0);
    });

    it('leaves no timers behind', async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
      try {
        const { pool } = track(makePool({ minPoolSize: 2, maxIdleTimeMS: 50, maxPoolSize: 2, waitQueueTimeoutMS: 10_000 }));
        pool.ready();
        await flush();
        const a = await pool.checkOut();
        const b = await pool.checkOut();
        const waiting = pool.checkOut(); // arms a wait-queue timer
        waiting.catch(() => undefined);
        await flush();
        const withWaiter = jest.getTimerCount();
        expect(withWaiter).toBeGreaterThanOrEqual(1);
        pool.checkIn(a);
        await waiting;
        expect(jest.getTimerCount()).toBe(withWaiter - 1); // the waiter's timer was cleared
        pool.checkIn(b); // an available connection that may go idle → background timer
        const stillWaiting = pool.checkOut().then((c) => pool.checkOut().finally(() => pool.checkIn(c)));
        stillWaiting.catch(() => undefined);
        await flush();
        expect(pool.waitQueueSize).toBe(1);
        expect(jest.getTimerCount()).toBeGreaterThanOrEqual(2);
        pool.close();
        await expect(stillWaiting).rejects.toBeInstanceOf(MongoPoolClosedError);
        expect(jest.getTimerCount()).toBe(0);
      } finally {
        jest.useRealTimers();
      }
    });

    it('arms the background timer unref\'d, and only when there is background work', async () => {
      const refTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const baseline = refTimers();
      const { pool } = track(makePool());
      pool.ready();
      pool.checkIn(await pool.checkOut());
      // default options: no minPoolSize, no maxIdleTimeMS → no timer at all
      expect(refTimers()).toBe(baseline);
      const withIdle = track(makePool({ maxIdleTimeMS: 1000 })).pool;
      withIdle.ready();
      withIdle.checkIn(await withIdle.checkOut());
      // the idle-pruning timer exists but does not keep the process alive
      expect(refTimers()).toBe(baseline);
      // whereas a waiter's timer does (the caller is waiting for it)
      const held = await withIdle.checkOut();
      const capped = track(makePool({ maxPoolSize: 1, waitQueueTimeoutMS: 1000 })).pool;
      capped.ready();
      await capped.checkOut();
      const waiting = capped.checkOut();
      waiting.catch(() => undefined);
      await flush();
      expect(refTimers()).toBe(baseline + 1);
      capped.close();
      await expect(waiting).rejects.toBeInstanceOf(MongoPoolClosedError);
      expect(refTimers()).toBe(baseline);
      withIdle.checkIn(held);
    });
  });

  it('counts operations for server selection', () => {
    const { pool } = track(makePool());
    expect(pool.operationCount).toBe(0);
    pool.incrementOperationCount();
    pool.incrementOperationCount();
    pool.decrementOperationCount();
    expect(pool.operationCount).toBe(1);
    pool.decrementOperationCount();
    pool.decrementOperationCount();
    expect(pool.operationCount).toBe(0);
  });
});
