/**
 * The selection fast path: while the topology description and the selector object are the same,
 * the latency window is reused and only the choice inside it (random two-choice by operation
 * count) is made again.
 */
import { ReadPreference } from '../../src/read_preference';
import { SelectionCache, selectServerNow, type SelectionOptions } from '../../src/sdam/select_server';
import { readPreferenceServerSelector, writableServerSelector, type ServerSelector } from '../../src/sdam/server_selection';
import type { Topology } from '../../src/sdam/topology';
import { ServerType, TopologyType, type TopologyDescription } from '../../src/sdam/types';
import { server, topology } from './fixtures';

function fakeTopology(description: TopologyDescription): { topology: Topology; set(d: TopologyDescription): void } {
  const state = { isOpen: true, description };
  return { topology: state as unknown as Topology, set: (d) => (state.description = d) };
}

/** A selector that counts how often it computes suitability. */
function countingSelector(): ServerSelector & { calls: number } {
  const inner = readPreferenceServerSelector(ReadPreference.nearest);
  const selector = {
    calls: 0,
    description: inner.description,
    validate: inner.validate,
    suitable(t: TopologyDescription, candidates: Parameters<ServerSelector['suitable']>[1]) {
      selector.calls++;
      return inner.suitable(t, candidates);
    }
  };
  return selector;
}

const sharded = (rtts: number[]): TopologyDescription =>
  topology(
    TopologyType.Sharded,
    rtts.map((rtt, i) => server(`m${i}:27017`, ServerType.Mongos, { roundTripTime: rtt }))
  );

describe('server selection cache', () => {
  test('selectors are shared objects: writable, and one per tag-less ReadPreference', () => {
    expect(writableServerSelector()).toBe(writableServerSelector());
    expect(readPreferenceServerSelector(ReadPreference.primary)).toBe(readPreferenceServerSelector(ReadPreference.primary));
    const tagged = new ReadPreference('secondary', [{ dc: 'ny' }]);
    expect(readPreferenceServerSelector(tagged)).not.toBe(readPreferenceServerSelector(tagged));
  });

  test('reuses the window while the description is the same, and still chooses by operation count', () => {
    const { topology: t } = fakeTopology(sharded([5, 6, 100]));
    const selector = countingSelector();
    const counts = new Map([['m0:27017', 5], ['m1:27017', 0]]);
    const options: SelectionOptions = { timeoutMS: 1000, operationCount: (a) => counts.get(a) ?? 0, cache: new SelectionCache() };
    const chosen = new Set<string>();
    for (let i = 0; i < 50; i++) chosen.add(selectServerNow(t, selector, options)!.address);
    expect(selector.calls).toBe(1);
    // m2 is outside the latency window; of the two in it, the one with fewer operations wins.
    expect([...chosen]).toEqual(['m1:27017']);
  });

  test('a new description, deprioritized servers or a custom serverSelector recompute the window', () => {
    const fake = fakeTopology(sharded([5, 6]));
    const selector = countingSelector();
    const cache = new SelectionCache();
    const base: SelectionOptions = { timeoutMS: 1000, operationCount: () => 0, cache };
    selectServerNow(fake.topology, selector, base);
    selectServerNow(fake.topology, selector, base);
    expect(selector.calls).toBe(1);
    fake.set(sharded([100, 6]));
    expect(selectServerNow(fake.topology, selector, base)!.address).toBe('m1:27017');
    expect(selector.calls).toBe(2);
    selectServerNow(fake.topology, selector, { ...base, deprioritized: ['m1:27017'] });
    expect(selector.calls).toBe(3);
    const custom = selectServerNow(fake.topology, selector, { ...base, serverSelector: (_t, servers) => servers.slice(0, 1) });
    expect(custom).toBeDefined();
    expect(selector.calls).toBe(4);
  });

  test('nothing suitable: undefined, and nothing is cached', () => {
    const fake = fakeTopology(topology(TopologyType.ReplicaSetNoPrimary, [server('s:27017', ServerType.RSSecondary)]));
    const cache = new SelectionCache();
    expect(selectServerNow(fake.topology, writableServerSelector(), { timeoutMS: 1000, operationCount: () => 0, cache })).toBeUndefined();
    expect(cache.lookup(fake.topology.description, writableServerSelector())).toBeUndefined();
  });
});
