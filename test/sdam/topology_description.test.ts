import { ObjectId } from 'bson';
import { serverDescriptionFromHello, unknownServerDescription } from '../../src/sdam/server_description';
import {
  createTopologyDescription,
  emptyTopologyDescription,
  initialTopologyType,
  topologyDescriptionEquals,
  updateTopologyDescription
} from '../../src/sdam/topology_description';
import { MIN_SUPPORTED_WIRE_VERSION, ServerType, TopologyType } from '../../src/sdam/types';

const primary = (address: string, extra: Record<string, unknown> = {}) =>
  serverDescriptionFromHello(address, {
    ok: 1,
    setName: 'rs',
    isWritablePrimary: true,
    hosts: ['a:27017', 'b:27017'],
    minWireVersion: 0,
    maxWireVersion: 21,
    ...extra
  });

describe('initialTopologyType', () => {
  it.each([
    [{ loadBalanced: true }, TopologyType.LoadBalanced],
    [{ directConnection: true, replicaSet: 'rs' }, TopologyType.Single],
    [{ directConnection: true }, TopologyType.Single],
    [{ directConnection: false, replicaSet: 'rs' }, TopologyType.ReplicaSetNoPrimary],
    [{ replicaSet: 'rs' }, TopologyType.ReplicaSetNoPrimary],
    [{ directConnection: false }, TopologyType.Unknown],
    [{}, TopologyType.Unknown]
  ])('%j → %s', (options, type) => {
    expect(initialTopologyType(options)).toBe(type);
  });
});

describe('createTopologyDescription', () => {
  it('starts every (deduplicated, normalized) seed as Unknown', () => {
    const td = createTopologyDescription({ type: TopologyType.Unknown, seeds: ['A', 'a:27017', 'B:1'] });
    expect([...td.servers.keys()]).toEqual(['a:27017', 'b:1']);
    expect([...td.servers.values()].every((s) => s.type === ServerType.Unknown)).toBe(true);
    expect(td).toMatchObject({ compatible: true, heartbeatFrequencyMS: 10_000, localThresholdMS: 15, setName: null });
  });
});

describe('updateTopologyDescription', () => {
  it('never mutates its input and returns a new description', () => {
    const before = createTopologyDescription({ type: TopologyType.ReplicaSetNoPrimary, seeds: ['a'], setName: 'rs' });
    const after = updateTopologyDescription(before, primary('a:27017'));
    expect(before.type).toBe(TopologyType.ReplicaSetNoPrimary);
    expect([...before.servers.keys()]).toEqual(['a:27017']);
    expect(after.type).toBe(TopologyType.ReplicaSetWithPrimary);
    expect([...after.servers.keys()]).toEqual(['a:27017', 'b:27017']);
  });

  it('ignores outcomes from servers that are not in the description', () => {
    const before = createTopologyDescription({ type: TopologyType.Unknown, seeds: ['a'] });
    expect(updateTopologyDescription(before, primary('z:27017'))).toBe(before);
  });

  it('uses the seed count, not the remaining servers, to decide Single for a standalone', () => {
    const standalone = (address: string) => serverDescriptionFromHello(address, { ok: 1, isWritablePrimary: true, maxWireVersion: 21 });
    let td = createTopologyDescription({ type: TopologyType.Unknown, seeds: ['a', 'b'] });
    td = updateTopologyDescription(td, standalone('b:27017'), { seedCount: 2 });
    expect([...td.servers.keys()]).toEqual(['a:27017']);
    td = updateTopologyDescription(td, standalone('a:27017'), { seedCount: 2 });
    expect(td.type).toBe(TopologyType.Unknown);
    expect(td.servers.size).toBe(0);
  });

  it('records why a stale primary was marked Unknown', () => {
    let td = createTopologyDescription({ type: TopologyType.ReplicaSetNoPrimary, seeds: ['a', 'b'], setName: 'rs' });
    td = updateTopologyDescription(td, primary('b:27017', { electionId: new ObjectId('000000000000000000000002'), setVersion: 1 }));
    td = updateTopologyDescription(td, primary('a:27017', { electionId: new ObjectId('000000000000000000000001'), setVersion: 1 }));
    const a = td.servers.get('a:27017');
    expect(a?.type).toBe(ServerType.Unknown);
    expect(a?.error?.message).toContain('primary marked stale due to electionId/setVersion mismatch');
    expect(a?.error?.message).toContain('000000000000000000000002');
    expect(td.error).toBe(a?.error);
  });

  it('keeps a LoadBalanced topology compatible whatever the wire versions', () => {
    const td = createTopologyDescription({ type: TopologyType.LoadBalanced, seeds: ['lb'] });
    const next = updateTopologyDescription(td, serverDescriptionFromHello('lb', { ok: 1, maxWireVersion: 1 }));
    expect(next.type).toBe(TopologyType.LoadBalanced);
    expect(next.compatible).toBe(true);
  });

  it('explains an incompatible server', () => {
    const td = createTopologyDescription({ type: TopologyType.Single, seeds: ['a'] });
    const next = updateTopologyDescription(td, serverDescriptionFromHello('a', { ok: 1, isWritablePrimary: true, maxWireVersion: 7 }));
    expect(next.compatible).toBe(false);
    expect(next.compatibilityError).toBe(
      `Server at a:27017 reports wire version 7, but this version of mongowire requires at least ${MIN_SUPPORTED_WIRE_VERSION} (MongoDB 4.2).`
    );
  });

  it('replaces a direct connection with a wrong setName by an Unknown description explaining why', () => {
    const td = createTopologyDescription({ type: TopologyType.Single, seeds: ['a'], setName: 'rs' });
    const next = updateTopologyDescription(td, primary('a:27017', { setName: 'other' }));
    expect(next.type).toBe(TopologyType.Single);
    expect(next.servers.get('a:27017')?.type).toBe(ServerType.Unknown);
    expect(next.servers.get('a:27017')?.error?.message).toContain('"other"');
  });
});

describe('topologyDescriptionEquals and emptyTopologyDescription', () => {
  it('detects server and type changes but not RTT changes', () => {
    const td = createTopologyDescription({ type: TopologyType.ReplicaSetNoPrimary, seeds: ['a'], setName: 'rs' });
    const one = updateTopologyDescription(td, primary('a:27017'));
    const rttOnly = updateTopologyDescription(one, serverDescriptionFromHello('a', { ok: 1, setName: 'rs', isWritablePrimary: true, hosts: ['a:27017', 'b:27017'], maxWireVersion: 21 }, { roundTripTime: 50 }));
    expect(topologyDescriptionEquals(one, rttOnly)).toBe(true);
    const unknown = updateTopologyDescription(one, unknownServerDescription('a', { error: new Error('down') }));
    expect(topologyDescriptionEquals(one, unknown)).toBe(false);
  });

  it('builds an Unknown description with no servers keeping the settings', () => {
    const td = createTopologyDescription({ type: TopologyType.Single, seeds: ['a'], heartbeatFrequencyMS: 500, localThresholdMS: 3 });
    const empty = emptyTopologyDescription(td);
    expect(empty).toMatchObject({ type: TopologyType.Unknown, setName: null, heartbeatFrequencyMS: 500, localThresholdMS: 3 });
    expect(empty.servers.size).toBe(0);
  });
});
