import { Long, ObjectId } from 'bson';
import {
  compareObjectIds,
  compareTopologyVersion,
  normalizeAddress,
  parseServerType,
  serverDescriptionEquals,
  serverDescriptionFromHello,
  unknownServerDescription
} from '../../src/sdam/server_description';
import { ServerType } from '../../src/sdam/types';

const pid1 = new ObjectId('000000000000000000000001');
const pid2 = new ObjectId('000000000000000000000002');

describe('normalizeAddress', () => {
  it.each([
    ['A', 'a:27017'],
    ['Host.Example.COM:1234', 'host.example.com:1234'],
    ['[::1]', '[::1]:27017'],
    ['[::1]:27018', '[::1]:27018'],
    ['::1', '[::1]:27017']
  ])('%s → %s', (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });
});

describe('parseServerType', () => {
  it.each([
    [{ ok: 1, isreplicaset: true }, ServerType.RSGhost],
    [{ ok: 1, msg: 'isdbgrid' }, ServerType.Mongos],
    [{ ok: 1, setName: 'rs', isWritablePrimary: true }, ServerType.RSPrimary],
    [{ ok: 1, setName: 'rs', ismaster: true }, ServerType.RSPrimary],
    [{ ok: 1, setName: 'rs', isWritablePrimary: false, ismaster: true }, ServerType.RSOther],
    [{ ok: 1, setName: 'rs', secondary: true }, ServerType.RSSecondary],
    [{ ok: 1, setName: 'rs', arbiterOnly: true }, ServerType.RSArbiter],
    [{ ok: 1, setName: 'rs', secondary: true, hidden: true }, ServerType.RSOther],
    [{ ok: 1, setName: 'rs' }, ServerType.RSOther],
    [{ ok: 1, isWritablePrimary: true }, ServerType.Standalone],
    [{ ok: 0, isWritablePrimary: true }, ServerType.Unknown],
    [{ isWritablePrimary: true }, ServerType.Unknown]
  ])('%j is %s', (hello, type) => {
    expect(parseServerType(hello)).toBe(type);
  });
});

describe('serverDescriptionFromHello', () => {
  it('parses and normalizes the reply fields', () => {
    const lastWriteDate = new Date(1_700_000_000_000);
    const sd = serverDescriptionFromHello(
      'A:27017',
      {
        ok: 1,
        setName: 'rs',
        secondary: true,
        me: 'A:27017',
        hosts: ['A:27017', 'B'],
        passives: ['C:27018'],
        arbiters: ['D:27019'],
        primary: 'B:27017',
        tags: { dc: 'east' },
        setVersion: 3,
        minWireVersion: 0,
        maxWireVersion: 21,
        logicalSessionTimeoutMinutes: 30,
        lastWrite: { lastWriteDate, opTime: { ts: 1 } },
        topologyVersion: { processId: pid1, counter: Long.fromNumber(7) }
      },
      { roundTripTime: 12, minRoundTripTime: 10 }
    );
    expect(sd).toMatchObject({
      address: 'a:27017',
      type: ServerType.RSSecondary,
      me: 'a:27017',
      hosts: ['a:27017', 'b:27017'],
      passives: ['c:27018'],
      arbiters: ['d:27019'],
      primary: 'b:27017',
      tags: { dc: 'east' },
      setVersion: 3,
      maxWireVersion: 21,
      logicalSessionTimeoutMinutes: 30,
      lastWriteDate: lastWriteDate.getTime(),
      opTime: { ts: 1 },
      roundTripTime: 12,
      minRoundTripTime: 10,
      error: null
    });
    expect(sd.topologyVersion?.counter).toBe(7n);
    expect(Object.isFrozen(sd)).toBe(true);
  });

  it('describes a reply without ok: 1 as Unknown with an error and null RTT', () => {
    const sd = serverDescriptionFromHello('a', { ok: 0, isWritablePrimary: true }, { roundTripTime: 5 });
    expect(sd.type).toBe(ServerType.Unknown);
    expect(sd.error).toBeInstanceOf(Error);
    expect(sd.roundTripTime).toBeNull();
  });
});

describe('compareTopologyVersion', () => {
  it('assumes the incoming version is newer when either is missing', () => {
    expect(compareTopologyVersion(null, { processId: pid1, counter: 1 })).toBe(-1);
    expect(compareTopologyVersion({ processId: pid1, counter: 1 }, null)).toBe(-1);
    expect(compareTopologyVersion(undefined, undefined)).toBe(-1);
  });

  it('assumes the incoming version is newer when the processId differs', () => {
    expect(compareTopologyVersion({ processId: pid2, counter: 5 }, { processId: pid1, counter: 1 })).toBe(-1);
  });

  it('orders by counter within one process, mixing number and bigint counters', () => {
    expect(compareTopologyVersion({ processId: pid1, counter: 1 }, { processId: pid1, counter: 2n })).toBe(-1);
    expect(compareTopologyVersion({ processId: pid1, counter: 2n }, { processId: pid1, counter: 2 })).toBe(0);
    expect(compareTopologyVersion({ processId: pid1, counter: 3 }, { processId: pid1, counter: 2n })).toBe(1);
  });
});

describe('compareObjectIds', () => {
  it('orders bytewise, with null first', () => {
    expect(compareObjectIds(pid1, pid2)).toBe(-1);
    expect(compareObjectIds(new ObjectId('ff0000000000000000000000'), new ObjectId('fe0000000000000000000000'))).toBe(1);
    expect(compareObjectIds(null, pid1)).toBe(-1);
    expect(compareObjectIds(null, null)).toBe(0);
  });
});

describe('serverDescriptionEquals', () => {
  const hello = { ok: 1, setName: 'rs', secondary: true, hosts: ['a:27017', 'b:27017'], maxWireVersion: 21, tags: { x: '1' } };

  it('ignores RTT and lastUpdateTime', () => {
    const a = serverDescriptionFromHello('a', hello, { roundTripTime: 1, lastUpdateTime: 1 });
    const b = serverDescriptionFromHello('a', hello, { roundTripTime: 99, lastUpdateTime: 2 });
    expect(serverDescriptionEquals(a, b)).toBe(true);
  });

  it('compares hosts as sets', () => {
    const a = serverDescriptionFromHello('a', hello);
    const b = serverDescriptionFromHello('a', { ...hello, hosts: ['b:27017', 'a:27017'] });
    expect(serverDescriptionEquals(a, b)).toBe(true);
  });

  it.each([
    ['tags', { tags: { x: '2' } }],
    ['setVersion', { setVersion: 2 }],
    ['electionId', { electionId: pid1 }],
    ['primary', { primary: 'b:27017' }],
    ['logicalSessionTimeoutMinutes', { logicalSessionTimeoutMinutes: 30 }],
    ['topologyVersion', { topologyVersion: { processId: pid1, counter: 1 } }],
    ['maxWireVersion', { maxWireVersion: 25 }],
    ['iscryptd', { iscryptd: true }]
  ])('sees a change of %s', (_field, change) => {
    const a = serverDescriptionFromHello('a', hello);
    const b = serverDescriptionFromHello('a', { ...hello, ...change });
    expect(serverDescriptionEquals(a, b)).toBe(false);
  });

  it('compares errors by name and message', () => {
    const a = unknownServerDescription('a', { error: new Error('connection refused') });
    const b = unknownServerDescription('a', { error: new Error('connection refused') });
    const c = unknownServerDescription('a', { error: new Error('timed out') });
    expect(serverDescriptionEquals(a, b)).toBe(true);
    expect(serverDescriptionEquals(a, c)).toBe(false);
    expect(serverDescriptionEquals(a, unknownServerDescription('a'))).toBe(false);
  });
});
