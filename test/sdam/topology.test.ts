import { ObjectId, type Document } from 'bson';
import {
  MongoErrorLabel,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoPoolClearedError,
  MongoServerError
} from '../../src/errors';
import {
  SDAM_EVENT_NAMES,
  ServerHeartbeatFailedEvent,
  ServerHeartbeatStartedEvent,
  type SdamEvent
} from '../../src/sdam/sdam_events';
import {
  Topology,
  type MonitorContext,
  type PoolClearOptions,
  type PoolHandle,
  type TopologyOptions
} from '../../src/sdam/topology';
import { ServerType, TopologyType } from '../../src/sdam/types';

class FakePool implements PoolHandle {
  generation = 0;
  readyCalls = 0;
  closed = false;
  clears: PoolClearOptions[] = [];
  clear(options: PoolClearOptions = {}): void {
    this.generation += 1;
    this.clears.push(options);
  }
  ready(): void {
    this.readyCalls += 1;
  }
  close(): void {
    this.closed = true;
  }
}

class FakeMonitor {
  checksRequested = 0;
  resets = 0;
  closed = false;
  constructor(readonly context: MonitorContext) {}
  requestCheck(): void {
    this.checksRequested += 1;
  }
  reset(): void {
    this.resets += 1;
  }
  close(): void {
    this.closed = true;
  }
}

function setup(options: Partial<TopologyOptions> & { seeds: string[] }) {
  const pools = new Map<string, FakePool>();
  const monitors = new Map<string, FakeMonitor>();
  const events: SdamEvent[] = [];
  const topology = new Topology({
    createPool: (address) => {
      const pool = new FakePool();
      pools.set(address, pool);
      return pool;
    },
    createMonitor: (address, context) => {
      const monitor = new FakeMonitor(context);
      monitors.set(address, monitor);
      return monitor;
    },
    ...options
  });
  for (const name of SDAM_EVENT_NAMES) topology.on(name, (event: SdamEvent) => events.push(event));
  const names = (): string[] => events.map((e) => ('address' in e ? `${e.name}:${e.address}` : e.name));
  return { topology, pools, monitors, events, names };
}

const primaryHello = (extra: Document = {}): Document => ({
  ok: 1,
  isWritablePrimary: true,
  setName: 'rs',
  hosts: ['a:27017', 'b:27017'],
  minWireVersion: 0,
  maxWireVersion: 21,
  ...extra
});

describe('Topology lifecycle and events', () => {
  it('publishes opening events in order and nothing before open()', () => {
    const t = setup({ seeds: ['a', 'b'], replicaSet: 'rs' });
    expect(t.events).toHaveLength(0);
    expect(t.pools.size).toBe(0);
    t.topology.open();
    expect(t.names()).toEqual([
      'topologyOpening',
      'topologyDescriptionChanged',
      'serverOpening:a:27017',
      'serverOpening:b:27017'
    ]);
    const first = t.events[1];
    expect(first.name === 'topologyDescriptionChanged' && first.previousDescription.type).toBe(TopologyType.Unknown);
    expect(first.name === 'topologyDescriptionChanged' && first.previousDescription.servers.size).toBe(0);
    t.topology.close();
  });

  it('closes servers, then moves to Unknown, then publishes TopologyClosedEvent last', () => {
    const t = setup({ seeds: ['a', 'b'], replicaSet: 'rs' });
    t.topology.open();
    t.events.length = 0;
    t.topology.close();
    expect(t.names()).toEqual(['serverClosed:a:27017', 'serverClosed:b:27017', 'topologyDescriptionChanged', 'topologyClosed']);
    const changed = t.events[2];
    expect(changed.name === 'topologyDescriptionChanged' && changed.newDescription.type).toBe(TopologyType.Unknown);
    expect([...t.pools.values()].every((p) => p.closed)).toBe(true);
    expect([...t.monitors.values()].every((m) => m.closed)).toBe(true);
    expect(t.topology.isOpen).toBe(false);
  });

  it('ignores check outcomes and errors after close', () => {
    const t = setup({ seeds: ['a'], replicaSet: 'rs' });
    t.topology.open();
    const monitor = t.monitors.get('a:27017')!;
    t.topology.close();
    t.events.length = 0;
    monitor.context.checkSucceeded(primaryHello());
    t.topology.handleApplicationError('a', new MongoNetworkError('boom'));
    expect(t.events).toHaveLength(0);
  });

  it('suppresses events for an equal description but still applies it', () => {
    const t = setup({ seeds: ['a'], directConnection: true });
    t.topology.open();
    const monitor = t.monitors.get('a:27017')!;
    monitor.context.checkSucceeded({ ok: 1, isWritablePrimary: true, maxWireVersion: 21 }, { roundTripTime: 5 });
    t.events.length = 0;
    monitor.context.checkSucceeded({ ok: 1, isWritablePrimary: true, maxWireVersion: 21 }, { roundTripTime: 9 });
    expect(t.events).toHaveLength(0);
    expect(t.topology.description.servers.get('a:27017')?.roundTripTime).toBe(9);
    t.topology.close();
  });

  it('opens servers discovered from a primary and closes the ones it removes, before the topology event', () => {
    const t = setup({ seeds: ['a', 'c'], replicaSet: 'rs' });
    t.topology.open();
    t.events.length = 0;
    t.monitors.get('a:27017')!.context.checkSucceeded(primaryHello());
    expect(t.names()).toEqual([
      'serverDescriptionChanged:a:27017',
      'serverOpening:b:27017',
      'serverClosed:c:27017',
      'topologyDescriptionChanged'
    ]);
    expect(t.pools.get('c:27017')?.closed).toBe(true);
    expect(t.monitors.get('c:27017')?.closed).toBe(true);
    // The removed server's monitor reporting late is ignored.
    t.events.length = 0;
    t.monitors.get('c:27017')!.context.checkSucceeded(primaryHello({ hosts: ['c:27017'] }));
    expect(t.events).toHaveLength(0);
    t.topology.close();
  });

  it('relays heartbeat events from monitors', () => {
    const t = setup({ seeds: ['a'] });
    t.topology.open();
    const context = t.monitors.get('a:27017')!.context;
    context.emitHeartbeat(new ServerHeartbeatStartedEvent('a:27017', false));
    context.emitHeartbeat(new ServerHeartbeatFailedEvent('a:27017', 3, new Error('x'), true));
    expect(t.events.slice(-2).map((e) => e.name)).toEqual(['serverHeartbeatStarted', 'serverHeartbeatFailed']);
    t.topology.close();
  });

  it('processes re-entrant updates after the current one, keeping events ordered', () => {
    const t = setup({ seeds: ['a'], replicaSet: 'rs' });
    t.topology.open();
    let reentered = false;
    t.topology.on('serverDescriptionChanged', () => {
      if (reentered) return;
      reentered = true;
      t.topology.handleApplicationError('a', new MongoNetworkError('socket closed'));
    });
    t.events.length = 0;
    t.monitors.get('a:27017')!.context.checkSucceeded(primaryHello({ hosts: ['a:27017'] }));
    expect(t.names()).toEqual([
      'serverDescriptionChanged:a:27017',
      'topologyDescriptionChanged',
      'serverDescriptionChanged:a:27017',
      'topologyDescriptionChanged'
    ]);
    expect(t.topology.description.type).toBe(TopologyType.ReplicaSetNoPrimary);
    t.topology.close();
  });

  it('publishes the load balancer sequence and never monitors', () => {
    const t = setup({ seeds: ['lb:27017'], loadBalanced: true });
    t.topology.open();
    expect(t.names()).toEqual([
      'topologyOpening',
      'topologyDescriptionChanged',
      'serverOpening:lb:27017',
      'serverDescriptionChanged:lb:27017',
      'topologyDescriptionChanged'
    ]);
    expect(t.monitors.size).toBe(0);
    expect(t.pools.get('lb:27017')?.readyCalls).toBe(1);
    expect(t.topology.description.servers.get('lb:27017')?.type).toBe(ServerType.LoadBalancer);
    t.topology.close();
  });

  it('rejects invalid option combinations', () => {
    const createPool = (): PoolHandle => new FakePool();
    expect(() => new Topology({ seeds: [], createPool })).toThrow(MongoInvalidArgumentError);
    expect(() => new Topology({ seeds: ['a', 'b'], directConnection: true, createPool })).toThrow(MongoInvalidArgumentError);
    expect(() => new Topology({ seeds: ['a'], loadBalanced: true, replicaSet: 'rs', createPool })).toThrow(MongoInvalidArgumentError);
    expect(() => new Topology({ seeds: ['a'], loadBalanced: true, directConnection: true, createPool })).toThrow(MongoInvalidArgumentError);
  });
});

describe('Topology pool management', () => {
  it('marks the pool ready after a successful check of a data-bearing server', () => {
    const t = setup({ seeds: ['a'], replicaSet: 'rs' });
    t.topology.open();
    t.monitors.get('a:27017')!.context.checkSucceeded(primaryHello());
    expect(t.pools.get('a:27017')?.readyCalls).toBe(1);
    t.topology.close();
  });

  it('does not ready the pool of an RSGhost, but does for any known server in a direct connection', () => {
    const rs = setup({ seeds: ['a', 'b'] });
    rs.topology.open();
    rs.monitors.get('a:27017')!.context.checkSucceeded({ ok: 1, isreplicaset: true, maxWireVersion: 21 });
    expect(rs.pools.get('a:27017')?.readyCalls).toBe(0);
    rs.topology.close();

    const direct = setup({ seeds: ['a'], directConnection: true });
    direct.topology.open();
    direct.monitors.get('a:27017')!.context.checkSucceeded({ ok: 1, setName: 'rs', arbiterOnly: true, maxWireVersion: 21 });
    expect(direct.pools.get('a:27017')?.readyCalls).toBe(1);
    direct.topology.close();
  });

  it('clears the pool on a failed check, interrupting in-use connections only after a timeout', () => {
    const t = setup({ seeds: ['a'], replicaSet: 'rs' });
    t.topology.open();
    const { context } = t.monitors.get('a:27017')!;
    context.checkSucceeded(primaryHello({ hosts: ['a:27017'] }));
    context.checkFailed(new MongoNetworkError('connection reset'));
    context.checkSucceeded(primaryHello({ hosts: ['a:27017'] }));
    context.checkFailed(new MongoNetworkTimeoutError('timed out'));
    expect(t.pools.get('a:27017')?.clears).toEqual([{ interruptInUseConnections: false }, { interruptInUseConnections: true }]);
    expect(t.topology.description.servers.get('a:27017')?.type).toBe(ServerType.Unknown);
    t.topology.close();
  });

  it('treats a hello reply without ok: 1 as a failed check', () => {
    const t = setup({ seeds: ['a'], directConnection: true });
    t.topology.open();
    t.monitors.get('a:27017')!.context.checkSucceeded({ ok: 0, errmsg: 'hello failed', code: 1234 });
    const server = t.topology.description.servers.get('a:27017');
    expect(server?.type).toBe(ServerType.Unknown);
    expect(server?.error).toBeInstanceOf(MongoServerError);
    expect(t.pools.get('a:27017')?.generation).toBe(1);
    t.topology.close();
  });

  it('requests an immediate check of a primary invalidated by a newer one', () => {
    const t = setup({ seeds: ['a', 'b'], replicaSet: 'rs' });
    t.topology.open();
    t.monitors.get('a:27017')!.context.checkSucceeded(primaryHello());
    t.monitors.get('b:27017')!.context.checkSucceeded(primaryHello());
    expect(t.topology.description.servers.get('a:27017')?.type).toBe(ServerType.Unknown);
    expect(t.monitors.get('a:27017')?.checksRequested).toBe(1);
    expect(t.monitors.get('b:27017')?.checksRequested).toBe(0);
    t.topology.close();
  });

  it('ignores a check outcome with an older topologyVersion', () => {
    const t = setup({ seeds: ['a'], replicaSet: 'rs' });
    t.topology.open();
    const { context } = t.monitors.get('a:27017')!;
    const processId = new ObjectId();
    context.checkSucceeded(primaryHello({ hosts: ['a:27017'], topologyVersion: { processId, counter: 5 } }));
    context.checkSucceeded({ ok: 1, setName: 'rs', secondary: true, hosts: ['a:27017'], maxWireVersion: 21, topologyVersion: { processId, counter: 4 } });
    expect(t.topology.description.servers.get('a:27017')?.type).toBe(ServerType.RSPrimary);
    t.topology.close();
  });

  it('asks every monitor for a check', () => {
    const t = setup({ seeds: ['a', 'b'] });
    t.topology.open();
    t.topology.requestCheck();
    expect([...t.monitors.values()].map((m) => m.checksRequested)).toEqual([1, 1]);
    t.topology.close();
  });
});

describe('Topology application error handling', () => {
  function discoveredPrimary() {
    const t = setup({ seeds: ['a'], replicaSet: 'rs' });
    t.topology.open();
    t.monitors.get('a:27017')!.context.checkSucceeded(primaryHello({ hosts: ['a:27017'] }));
    return { ...t, pool: t.pools.get('a:27017')!, monitor: t.monitors.get('a:27017')! };
  }

  it('marks the server Unknown and requests a check on "not writable primary", keeping the pool', () => {
    const t = discoveredPrimary();
    t.topology.handleApplicationError('a:27017', new MongoServerError({ ok: 0, code: 10107, errmsg: 'not primary' }));
    expect(t.topology.description.servers.get('a:27017')?.type).toBe(ServerType.Unknown);
    expect(t.topology.description.servers.get('a:27017')?.error?.message).toBe('not primary');
    expect(t.topology.description.type).toBe(TopologyType.ReplicaSetNoPrimary);
    expect(t.pool.generation).toBe(0);
    expect(t.monitor.checksRequested).toBe(1);
    expect(t.monitor.resets).toBe(0);
    t.topology.close();
  });

  it('clears the pool on "node is shutting down"', () => {
    const t = discoveredPrimary();
    t.topology.handleApplicationError('a:27017', new MongoServerError({ ok: 0, code: 91, errmsg: 'shutting down' }));
    expect(t.pool.generation).toBe(1);
    expect(t.monitor.checksRequested).toBe(1);
    t.topology.close();
  });

  it('marks Unknown, clears the pool and cancels the monitor check on a network error, without requesting a check', () => {
    const t = discoveredPrimary();
    t.topology.handleApplicationError('a:27017', new MongoNetworkError('socket closed'));
    expect(t.topology.description.servers.get('a:27017')?.type).toBe(ServerType.Unknown);
    expect(t.pool.generation).toBe(1);
    expect(t.monitor.resets).toBe(1);
    expect(t.monitor.checksRequested).toBe(0);
    t.topology.close();
  });

  it('ignores a network timeout after the handshake, but not during authentication', () => {
    const t = discoveredPrimary();
    t.topology.handleApplicationError('a:27017', new MongoNetworkTimeoutError('timed out'));
    expect(t.topology.description.servers.get('a:27017')?.type).toBe(ServerType.RSPrimary);
    t.topology.handleApplicationError('a:27017', new MongoNetworkTimeoutError('timed out'), { handshakeCompleted: false });
    expect(t.topology.description.servers.get('a:27017')?.type).toBe(ServerType.Unknown);
    expect(t.pool.generation).toBe(1);
    t.topology.close();
  });

  it('marks Unknown and clears the pool on an authentication failure before the handshake completed', () => {
    const t = discoveredPrimary();
    const authError = new MongoServerError({ ok: 0, code: 18, errmsg: 'Authentication failed.' });
    authError.addErrorLabel(MongoErrorLabel.HandshakeError);
    t.topology.handleApplicationError('a:27017', authError);
    expect(t.topology.description.servers.get('a:27017')?.type).toBe(ServerType.Unknown);
    expect(t.pool.generation).toBe(1);
    t.topology.close();
  });

  it('ignores ordinary command errors after the handshake', () => {
    const t = discoveredPrimary();
    t.topology.handleApplicationError('a:27017', new MongoServerError({ ok: 0, code: 11000, errmsg: 'duplicate key' }));
    expect(t.topology.description.servers.get('a:27017')?.type).toBe(ServerType.RSPrimary);
    t.topology.close();
  });

  it('ignores errors labelled SystemOverloadedError and pool-cleared errors', () => {
    const t = discoveredPrimary();
    const overloaded = new MongoNetworkError('connection refused', { beforeHandshake: true });
    overloaded.addErrorLabel(MongoErrorLabel.SystemOverloadedError);
    t.topology.handleApplicationError('a:27017', overloaded);
    t.topology.handleApplicationError('a:27017', new MongoPoolClearedError('a:27017'));
    expect(t.topology.description.servers.get('a:27017')?.type).toBe(ServerType.RSPrimary);
    expect(t.pool.generation).toBe(0);
    t.topology.close();
  });

  it('ignores errors from connections of an older generation', () => {
    const t = discoveredPrimary();
    t.pool.generation = 3;
    t.topology.handleApplicationError('a:27017', new MongoNetworkError('socket closed'), { generation: 2 });
    expect(t.topology.description.servers.get('a:27017')?.type).toBe(ServerType.RSPrimary);
    t.topology.close();
  });

  it('ignores State Change Errors whose topologyVersion is not newer, and records a newer one', () => {
    const t = setup({ seeds: ['a'], replicaSet: 'rs' });
    t.topology.open();
    const processId = new ObjectId();
    t.monitors.get('a:27017')!.context.checkSucceeded(primaryHello({ hosts: ['a:27017'], topologyVersion: { processId, counter: 2 } }));
    t.topology.handleApplicationError('a', new MongoServerError({ ok: 0, code: 10107, topologyVersion: { processId, counter: 2 } }));
    expect(t.topology.description.servers.get('a:27017')?.type).toBe(ServerType.RSPrimary);
    t.topology.handleApplicationError('a', new MongoServerError({ ok: 0, code: 10107, topologyVersion: { processId, counter: 3 } }));
    const server = t.topology.description.servers.get('a:27017');
    expect(server?.type).toBe(ServerType.Unknown);
    expect(server?.topologyVersion?.counter).toBe(3);
    t.topology.close();
  });

  it('in load-balanced mode never marks the server Unknown, and clears only the failing service', () => {
    const t = setup({ seeds: ['lb'], loadBalanced: true });
    t.topology.open();
    const pool = t.pools.get('lb:27017')!;
    const serviceId = new ObjectId();
    t.topology.handleApplicationError('lb', new MongoServerError({ ok: 0, code: 91 }), { serviceId });
    t.topology.handleApplicationError('lb', new MongoServerError({ ok: 0, code: 10107 }), { serviceId });
    t.topology.handleApplicationError('lb', new MongoNetworkError('reset'), { serviceId });
    t.topology.handleApplicationError('lb', new MongoNetworkError('reset'));
    expect(pool.clears).toEqual([{ serviceId }, { serviceId }]);
    expect(t.topology.description.servers.get('lb:27017')?.type).toBe(ServerType.LoadBalancer);
    t.topology.close();
  });
});
