import { MongoCompatibilityError, MongoInvalidArgumentError, MongoServerSelectionError } from '../../src/errors';
import { ReadPreference } from '../../src/read_preference';
import {
  chooseInWindow,
  estimateStalenessMS,
  formatSelectionFailure,
  latencyWindow,
  readPreferenceServerSelector,
  secondaryWritableServerSelector,
  selectServers,
  serverSelectionError,
  suitableServers,
  writableServerSelector,
  type CustomServerSelector
} from '../../src/sdam/server_selection';
import { ServerType, TopologyType } from '../../src/sdam/types';
import { addresses, server, topology } from './fixtures';

const rs = topology(TopologyType.ReplicaSetWithPrimary, [
  server('a:27017', ServerType.RSPrimary, { roundTripTime: 5, tags: { dc: 'ny' } }),
  server('b:27017', ServerType.RSSecondary, { roundTripTime: 6, tags: { dc: 'ny' } }),
  server('c:27017', ServerType.RSSecondary, { roundTripTime: 7, tags: { dc: 'sf' } }),
  server('d:27017', ServerType.RSArbiter, { roundTripTime: 1 })
]);
const sharded = topology(TopologyType.Sharded, [
  server('m1:27017', ServerType.Mongos, { roundTripTime: 5 }),
  server('m2:27017', ServerType.Mongos, { roundTripTime: 8 }),
  server('m3:27017', ServerType.Unknown)
]);
const read = (rp: ReadPreference) => readPreferenceServerSelector(rp);

describe('selection by topology type', () => {
  it('selects nothing in an Unknown topology', () => {
    const t = topology(TopologyType.Unknown, [server('a:27017', ServerType.RSGhost)]);
    expect(selectServers(t, read(ReadPreference.nearest))).toEqual([]);
    expect(selectServers(t, writableServerSelector())).toEqual([]);
  });

  it('ignores the read preference in a Single topology but needs an available server', () => {
    const single = topology(TopologyType.Single, [server('a:27017', ServerType.RSSecondary)]);
    expect(addresses(selectServers(single, read(ReadPreference.primary)))).toEqual(['a:27017']);
    expect(addresses(selectServers(single, writableServerSelector()))).toEqual(['a:27017']);
    const down = topology(TopologyType.Single, [server('a:27017', ServerType.Unknown)]);
    expect(selectServers(down, read(ReadPreference.nearest))).toEqual([]);
  });

  it('selects the load balancer for reads and writes', () => {
    const lb = topology(TopologyType.LoadBalanced, [server('lb:27017', ServerType.LoadBalancer, { roundTripTime: null })]);
    expect(addresses(selectServers(lb, read(ReadPreference.secondary)))).toEqual(['lb:27017']);
    expect(addresses(selectServers(lb, writableServerSelector()))).toEqual(['lb:27017']);
  });

  it('selects any known mongos in the latency window, whatever the mode', () => {
    expect(addresses(selectServers(sharded, read(ReadPreference.secondary)))).toEqual(['m1:27017', 'm2:27017']);
    expect(addresses(selectServers(sharded, writableServerSelector()))).toEqual(['m1:27017', 'm2:27017']);
  });

  it('applies the read preference modes in a replica set; arbiters are never candidates', () => {
    expect(addresses(selectServers(rs, read(ReadPreference.primary)))).toEqual(['a:27017']);
    expect(addresses(selectServers(rs, read(ReadPreference.secondary)))).toEqual(['b:27017', 'c:27017']);
    expect(addresses(selectServers(rs, read(ReadPreference.nearest)))).toEqual(['a:27017', 'b:27017', 'c:27017']);
    expect(addresses(selectServers(rs, read(new ReadPreference('secondary', [{ dc: 'sf' }, { dc: 'ny' }]))))).toEqual([
      'c:27017'
    ]);
    expect(addresses(selectServers(rs, read(new ReadPreference('secondaryPreferred', [{ dc: 'tokyo' }]))))).toEqual([
      'a:27017'
    ]);
    expect(addresses(selectServers(rs, writableServerSelector()))).toEqual(['a:27017']);
  });

  it('selects no writable server in a replica set without a primary', () => {
    const noPrimary = topology(TopologyType.ReplicaSetNoPrimary, [server('b:27017', ServerType.RSSecondary)]);
    expect(selectServers(noPrimary, writableServerSelector())).toEqual([]);
  });

  it('refuses to select from an incompatible topology', () => {
    const bad = topology(TopologyType.Sharded, [server('m1:27017', ServerType.Mongos)], {
      compatible: false,
      compatibilityError: 'Server at m1:27017 reports maximum wire version 6, but this driver requires at least 8'
    });
    expect(() => selectServers(bad, writableServerSelector())).toThrow(MongoCompatibilityError);
    expect(() => selectServers(bad, writableServerSelector())).toThrow(/requires at least 8/);
  });

  it('uses the read preference only when every server supports writes on secondaries (5.0+)', () => {
    expect(secondaryWritableServerSelector(12, ReadPreference.secondary).readPreference).toBe(ReadPreference.primary);
    expect(secondaryWritableServerSelector(13, undefined).readPreference).toBe(ReadPreference.primary);
    expect(secondaryWritableServerSelector(13, ReadPreference.secondary).readPreference).toBe(ReadPreference.secondary);
  });
});

describe('latency window', () => {
  it('keeps servers within localThresholdMS of the fastest, bounds included', () => {
    const servers = [
      server('a:1', ServerType.Mongos, { roundTripTime: 10 }),
      server('b:1', ServerType.Mongos, { roundTripTime: 25 }),
      server('c:1', ServerType.Mongos, { roundTripTime: 25.5 })
    ];
    expect(addresses(latencyWindow(servers, 15))).toEqual(['a:1', 'b:1']);
    expect(addresses(latencyWindow(servers, 0))).toEqual(['a:1']);
  });

  it('keeps servers without an RTT yet', () => {
    const servers = [server('a:1', ServerType.Mongos, { roundTripTime: null }), server('b:1', ServerType.Mongos, { roundTripTime: 100 })];
    expect(addresses(latencyWindow(servers, 15))).toEqual(['a:1', 'b:1']);
  });
});

describe('max staleness', () => {
  const withPrimary = topology(
    TopologyType.ReplicaSetWithPrimary,
    [
      server('p:1', ServerType.RSPrimary, { lastUpdateTime: 60_000, lastWriteDate: 10_000 }),
      server('s:1', ServerType.RSSecondary, { lastUpdateTime: 70_000, lastWriteDate: 5_000 }),
      server('t:1', ServerType.RSSecondary, { lastUpdateTime: 60_000, lastWriteDate: null })
    ],
    { heartbeatFrequencyMS: 10_000 }
  );

  it('estimates staleness against the primary (the spec example: 25 s)', () => {
    expect(estimateStalenessMS(withPrimary.servers.get('s:1')!, withPrimary)).toBe(25_000);
    expect(estimateStalenessMS(withPrimary.servers.get('p:1')!, withPrimary)).toBe(0);
    expect(estimateStalenessMS(withPrimary.servers.get('t:1')!, withPrimary)).toBe(Infinity);
  });

  it('estimates staleness against the freshest secondary without a primary (the spec example: 25 s)', () => {
    const noPrimary = topology(TopologyType.ReplicaSetNoPrimary, [
      server('s1:1', ServerType.RSSecondary, { lastWriteDate: 20_000 }),
      server('s2:1', ServerType.RSSecondary, { lastWriteDate: 5_000 })
    ]);
    expect(estimateStalenessMS(noPrimary.servers.get('s1:1')!, noPrimary)).toBe(10_000);
    expect(estimateStalenessMS(noPrimary.servers.get('s2:1')!, noPrimary)).toBe(25_000);
  });

  it('filters secondaries staler than maxStalenessSeconds before tag sets', () => {
    const t = topology(TopologyType.ReplicaSetNoPrimary, [
      server('s1:1', ServerType.RSSecondary, { lastWriteDate: 300_000, tags: { tag: 'value2' } }),
      server('s2:1', ServerType.RSSecondary, { lastWriteDate: 0, tags: { tag: 'value1' } })
    ]);
    const rp = new ReadPreference('secondary', [{ tag: 'value1' }, { tag: 'value2' }], { maxStalenessSeconds: 120 });
    expect(addresses(selectServers(t, read(rp)))).toEqual(['s1:1']);
  });

  it('throws for too small a value in a replica set only', () => {
    const rp = new ReadPreference('nearest', undefined, { maxStalenessSeconds: 30 });
    expect(() => selectServers(rs, read(rp))).toThrow(MongoInvalidArgumentError);
    expect(addresses(selectServers(sharded, read(rp)))).toEqual(['m1:27017', 'm2:27017']);
  });
});

describe('deprioritized servers', () => {
  it('avoids a deprioritized mongos while another is suitable', () => {
    expect(addresses(selectServers(sharded, writableServerSelector(), { deprioritized: ['m1:27017'] }))).toEqual([
      'm2:27017'
    ]);
  });

  it('falls back to the deprioritized servers when nothing else is suitable', () => {
    expect(
      addresses(selectServers(sharded, writableServerSelector(), { deprioritized: ['m1:27017', 'm2:27017'] }))
    ).toEqual(['m1:27017', 'm2:27017']);
    expect(addresses(selectServers(rs, writableServerSelector(), { deprioritized: new Set(['a:27017']) }))).toEqual([
      'a:27017'
    ]);
  });

  it('applies to replica sets: a deprioritized primary sends primaryPreferred to a secondary', () => {
    const got = selectServers(rs, read(ReadPreference.primaryPreferred), { deprioritized: ['a:27017'] });
    expect(addresses(got)).toEqual(['b:27017', 'c:27017']);
  });

  it('applies to replica sets: deprioritized secondaries send secondaryPreferred to the primary', () => {
    const got = selectServers(rs, read(ReadPreference.secondaryPreferred), { deprioritized: ['b:27017', 'c:27017'] });
    expect(addresses(got)).toEqual(['a:27017']);
  });

  it('is applied before the latency window, so a slower server can be chosen', () => {
    const t = topology(TopologyType.Sharded, [
      server('fast:1', ServerType.Mongos, { roundTripTime: 1 }),
      server('slow:1', ServerType.Mongos, { roundTripTime: 500 })
    ]);
    expect(addresses(selectServers(t, writableServerSelector(), { deprioritized: ['fast:1'] }))).toEqual(['slow:1']);
  });
});

describe('application-provided server selector', () => {
  it('filters the suitable servers after the read preference and before the latency window', () => {
    const seen: string[][] = [];
    const highestPort: CustomServerSelector = (_topology, servers) => {
      seen.push(addresses(servers));
      return servers.filter((s) => s.address === 'c:27017');
    };
    // c (100 ms) is outside a's latency window: choosing it proves the hook runs before the window.
    const t = topology(TopologyType.ReplicaSetWithPrimary, [
      server('a:27017', ServerType.RSPrimary, { roundTripTime: 1 }),
      server('c:27017', ServerType.RSSecondary, { roundTripTime: 100 })
    ]);
    const got = selectServers(t, read(ReadPreference.nearest), { serverSelector: highestPort });
    expect(seen).toEqual([['a:27017', 'c:27017']]);
    expect(addresses(got)).toEqual(['c:27017']);
    expect(addresses(suitableServers(t, read(ReadPreference.nearest), { serverSelector: highestPort }))).toEqual([
      'c:27017'
    ]);
  });

  it('receives the topology description and is not called when nothing is suitable', () => {
    const hook = jest.fn<ReturnType<CustomServerSelector>, Parameters<CustomServerSelector>>((_t, servers) => servers);
    selectServers(rs, read(ReadPreference.secondary), { serverSelector: hook });
    expect(hook).toHaveBeenCalledTimes(1);
    expect(hook.mock.calls[0][0]).toBe(rs);

    hook.mockClear();
    const noPrimary = topology(TopologyType.ReplicaSetNoPrimary, [server('b:27017', ServerType.RSSecondary)]);
    expect(selectServers(noPrimary, writableServerSelector(), { serverSelector: hook })).toEqual([]);
    expect(hook).not.toHaveBeenCalled();
  });

  it('rejects a selector that does not return an array', () => {
    const broken = (() => undefined) as unknown as CustomServerSelector;
    expect(() => selectServers(rs, read(ReadPreference.nearest), { serverSelector: broken })).toThrow(
      MongoInvalidArgumentError
    );
  });
});

describe('chooseInWindow (two random choices, fewer operations wins)', () => {
  const window = [server('a:1', ServerType.Mongos), server('b:1', ServerType.Mongos), server('c:1', ServerType.Mongos)];
  const counts: Record<string, number> = { 'a:1': 5, 'b:1': 1, 'c:1': 9 };
  const sequence = (...values: number[]) => {
    let i = 0;
    return () => values[i++ % values.length];
  };

  it('returns undefined for an empty window and the only server of a window of one', () => {
    expect(chooseInWindow([], () => 0)).toBeUndefined();
    expect(chooseInWindow([window[2]], () => 0)?.address).toBe('c:1');
  });

  it('draws two distinct servers and keeps the one with fewer operations', () => {
    // first draw: index 0 (a); second draw over the 2 remaining: index 0 -> b
    expect(chooseInWindow(window, (addr) => counts[addr], sequence(0, 0))?.address).toBe('b:1');
    // first draw: index 2 (c); second draw: index 0 -> a
    expect(chooseInWindow(window, (addr) => counts[addr], sequence(0.9, 0))?.address).toBe('a:1');
    // first draw: a; second draw over the 2 remaining: index 1 -> c
    expect(chooseInWindow(window, (addr) => counts[addr], sequence(0, 0.9))?.address).toBe('a:1');
  });

  it('never picks the same server twice, so the busiest of three is never chosen', () => {
    let state = 1;
    const lcg = () => ((state = (state * 48271) % 2147483647) / 2147483647);
    for (let i = 0; i < 500; i++) {
      expect(chooseInWindow(window, (addr) => counts[addr], lcg)?.address).not.toBe('c:1');
    }
  });
});

describe('selection failure message', () => {
  const failing = topology(TopologyType.ReplicaSetNoPrimary, [
    server('a:27017', ServerType.Unknown, { error: new Error('connect ECONNREFUSED 10.0.0.1:27017') }),
    server('b:27017', ServerType.RSSecondary, { roundTripTime: 12.345, tags: { dc: 'ny' } })
  ]);

  it('names what was asked and every known server with type, RTT, tags and last error', () => {
    const rp = new ReadPreference('secondary', [{ dc: 'sf' }], { maxStalenessSeconds: 120 });
    const message = formatSelectionFailure(failing, read(rp), { timeoutMS: 30_000, operation: 'find' });
    expect(message).toBe(
      'Server selection timed out after 30000 ms: no server suitable for operation "find" with read preference ' +
        'secondary (tags [{"dc":"sf"}], maxStalenessSeconds 120). Topology: type ReplicaSetNoPrimary, replica set "rs0", ' +
        'localThresholdMS 15. Servers: a:27017 (Unknown, last error: connect ECONNREFUSED 10.0.0.1:27017); ' +
        'b:27017 (RSSecondary, rtt 12.3 ms, tags {"dc":"ny"}).'
    );
  });

  it('describes writable selection and an empty topology', () => {
    const empty = topology(TopologyType.Unknown, [], { error: new Error('getaddrinfo ENOTFOUND nowhere') });
    const message = formatSelectionFailure(empty, writableServerSelector());
    expect(message).toContain('no server suitable for operation with a writable server');
    expect(message).toContain('No servers are known.');
    expect(message).toContain('Last error: getaddrinfo ENOTFOUND nowhere');
  });

  it('builds a MongoServerSelectionError carrying the topology description', () => {
    const error = serverSelectionError(failing, writableServerSelector(), { timeoutMS: 100 });
    expect(error).toBeInstanceOf(MongoServerSelectionError);
    expect(error.reason).toBe(failing);
    expect(error.message).toMatch(/^Server selection timed out after 100 ms/);
  });
});
