import { MongoInvalidArgumentError } from '../../src/errors';
import {
  ReadPreference,
  ReadPreferenceMode,
  readPreferenceForCommand,
  validateMaxStalenessSeconds
} from '../../src/read_preference';
import { ServerType, TopologyType } from '../../src/sdam/types';

describe('ReadPreference construction and validation', () => {
  it('accepts every mode and rejects anything else', () => {
    for (const mode of Object.values(ReadPreferenceMode)) {
      expect(new ReadPreference(mode).mode).toBe(mode);
    }
    expect(() => new ReadPreference('secondarypreferred' as ReadPreferenceMode)).toThrow(MongoInvalidArgumentError);
    expect(() => new ReadPreference('fastest' as ReadPreferenceMode)).toThrow(/Invalid read preference mode "fastest"/);
  });

  it('rejects mode primary with a non-empty tag set, max staleness or hedge', () => {
    expect(() => new ReadPreference('primary', [{ dc: 'ny' }])).toThrow(/cannot be combined with tags/);
    expect(() => new ReadPreference('primary', undefined, { maxStalenessSeconds: 120 })).toThrow(
      /cannot be combined with maxStalenessSeconds/
    );
    expect(() => new ReadPreference('primary', undefined, { hedge: { enabled: true } })).toThrow(
      /cannot be combined with hedge/
    );
  });

  it('allows mode primary with only empty tag sets and with maxStalenessSeconds -1', () => {
    expect(new ReadPreference('primary', [{}]).tags).toEqual([{}]);
    expect(new ReadPreference('primary', undefined, { maxStalenessSeconds: -1 }).maxStalenessSeconds).toBeUndefined();
  });

  it('treats -1 and null as "no max staleness" and rejects 0, other negatives and fractions', () => {
    expect(new ReadPreference('secondary', undefined, { maxStalenessSeconds: -1 }).maxStalenessSeconds).toBeUndefined();
    expect(new ReadPreference('secondary', undefined, { maxStalenessSeconds: null }).maxStalenessSeconds).toBeUndefined();
    expect(new ReadPreference('secondary', undefined, { maxStalenessSeconds: 120 }).maxStalenessSeconds).toBe(120);
    for (const bad of [0, -2, 90.5, Number.NaN]) {
      expect(() => new ReadPreference('secondary', undefined, { maxStalenessSeconds: bad })).toThrow(
        MongoInvalidArgumentError
      );
    }
  });

  it('rejects tags that are not an array of documents', () => {
    expect(() => new ReadPreference('secondary', { dc: 'ny' } as never)).toThrow(/array of tag set documents/);
    expect(() => new ReadPreference('secondary', ['dc'] as never)).toThrow(/array of tag set documents/);
  });

  it('is immutable and does not share the caller tag arrays', () => {
    const tags = [{ dc: 'ny' }];
    const rp = new ReadPreference('nearest', tags);
    tags[0].dc = 'sf';
    expect(rp.tags).toEqual([{ dc: 'ny' }]);
    expect(Object.isFrozen(rp)).toBe(true);
  });

  it('validates maxStalenessSeconds against 90 s and heartbeatFrequencyMS + 10 s', () => {
    const rp = (s: number) => new ReadPreference('secondary', undefined, { maxStalenessSeconds: s });
    expect(() => validateMaxStalenessSeconds(rp(89), 10_000)).toThrow(/at least 90 seconds/);
    expect(() => validateMaxStalenessSeconds(rp(90), 10_000)).not.toThrow();
    expect(() => validateMaxStalenessSeconds(rp(129), 120_000)).toThrow(/at least 130 seconds/);
    expect(() => validateMaxStalenessSeconds(rp(130), 120_000)).not.toThrow();
    expect(() => validateMaxStalenessSeconds(ReadPreference.secondary, 120_000)).not.toThrow();
  });
});

describe('ReadPreference helpers', () => {
  it('has static instances and mode constants', () => {
    expect(ReadPreference.primary.mode).toBe('primary');
    expect(ReadPreference.secondaryPreferred.mode).toBe('secondaryPreferred');
    expect(ReadPreference.NEAREST).toBe('nearest');
  });

  it('fromString matches modes case-insensitively', () => {
    expect(ReadPreference.fromString('SecondaryPreferred').mode).toBe('secondaryPreferred');
    expect(ReadPreference.fromString('NEAREST').mode).toBe('nearest');
    expect(() => ReadPreference.fromString('closest')).toThrow(MongoInvalidArgumentError);
  });

  it('fromOptions accepts an instance, a mode name or a document, with separate tags and max staleness', () => {
    expect(ReadPreference.fromOptions({})).toBeUndefined();
    expect(ReadPreference.fromOptions(undefined)).toBeUndefined();
    expect(ReadPreference.fromOptions({ readPreference: ReadPreference.nearest })).toBe(ReadPreference.nearest);

    const fromString = ReadPreference.fromOptions({
      readPreference: 'secondary',
      readPreferenceTags: [{ dc: 'ny' }, {}],
      maxStalenessSeconds: 120
    });
    expect(fromString?.toJSON()).toEqual({ mode: 'secondary', tags: [{ dc: 'ny' }, {}], maxStalenessSeconds: 120 });

    const fromDoc = ReadPreference.fromOptions({ readPreference: { mode: 'nearest', tags: [{ rack: '1' }] } });
    expect(fromDoc?.toJSON()).toEqual({ mode: 'nearest', tags: [{ rack: '1' }] });

    const withTags = ReadPreference.fromOptions({ readPreference: ReadPreference.secondary, readPreferenceTags: [{ a: 'b' }] });
    expect(withTags?.tags).toEqual([{ a: 'b' }]);
    expect(ReadPreference.secondary.tags).toBeUndefined();

    expect(() => ReadPreference.fromOptions({ readPreference: {} })).toThrow(/requires a "mode"/);
    expect(() => ReadPreference.fromOptions({ readPreference: 'primary', maxStalenessSeconds: 100 })).toThrow(
      MongoInvalidArgumentError
    );
  });

  it('toJSON produces the $readPreference document shape', () => {
    expect(ReadPreference.primary.toJSON()).toEqual({ mode: 'primary' });
    expect(new ReadPreference('secondary', []).toJSON()).toEqual({ mode: 'secondary' });
    expect(
      new ReadPreference('nearest', [{ dc: 'ny' }], { maxStalenessSeconds: 90, hedge: { enabled: true } }).toJSON()
    ).toEqual({ mode: 'nearest', tags: [{ dc: 'ny' }], maxStalenessSeconds: 90, hedge: { enabled: true } });
  });

  it('secondaryOk is true for every mode but primary', () => {
    expect(ReadPreference.primary.secondaryOk()).toBe(false);
    for (const mode of ['primaryPreferred', 'secondary', 'secondaryPreferred', 'nearest'] as const) {
      expect(new ReadPreference(mode).secondaryOk()).toBe(true);
    }
  });

  it('equals compares every component and toString describes them', () => {
    const a = new ReadPreference('secondary', [{ dc: 'ny' }], { maxStalenessSeconds: 100 });
    expect(a.equals(new ReadPreference('secondary', [{ dc: 'ny' }], { maxStalenessSeconds: 100 }))).toBe(true);
    expect(a.equals(new ReadPreference('secondary', [{ dc: 'sf' }], { maxStalenessSeconds: 100 }))).toBe(false);
    expect(a.toString()).toBe('secondary (tags [{"dc":"ny"}], maxStalenessSeconds 100)');
    expect(ReadPreference.primary.toString()).toBe('primary');
  });
});

describe('readPreferenceForCommand ($readPreference passing rules)', () => {
  const secondaryTagged = new ReadPreference('secondaryPreferred', [{ dc: 'ny' }]);

  it('never sends $readPreference to a standalone', () => {
    expect(readPreferenceForCommand(ReadPreference.secondary, TopologyType.Single, ServerType.Standalone)).toBeUndefined();
    expect(readPreferenceForCommand(undefined, TopologyType.Single, ServerType.Standalone)).toBeUndefined();
  });

  it.each([ServerType.Mongos, ServerType.LoadBalancer])('for %s: not for primary, the full document otherwise', (type) => {
    const topologyType = type === ServerType.Mongos ? TopologyType.Sharded : TopologyType.LoadBalanced;
    expect(readPreferenceForCommand(ReadPreference.primary, topologyType, type)).toBeUndefined();
    expect(readPreferenceForCommand(undefined, topologyType, type)).toBeUndefined();
    expect(readPreferenceForCommand(ReadPreference.primaryPreferred, topologyType, type)).toEqual({ mode: 'primaryPreferred' });
    expect(readPreferenceForCommand(ReadPreference.secondary, topologyType, type)).toEqual({ mode: 'secondary' });
    expect(readPreferenceForCommand(ReadPreference.secondaryPreferred, topologyType, type)).toEqual({ mode: 'secondaryPreferred' });
    expect(readPreferenceForCommand(ReadPreference.nearest, topologyType, type)).toEqual({ mode: 'nearest' });
    expect(readPreferenceForCommand(secondaryTagged, topologyType, type)).toEqual({
      mode: 'secondaryPreferred',
      tags: [{ dc: 'ny' }]
    });
  });

  it('follows the mongos rule for a mongos in a Single topology', () => {
    expect(readPreferenceForCommand(ReadPreference.primary, TopologyType.Single, ServerType.Mongos)).toBeUndefined();
    expect(readPreferenceForCommand(ReadPreference.nearest, TopologyType.Single, ServerType.Mongos)).toEqual({ mode: 'nearest' });
  });

  it('sends primaryPreferred on a direct connection to a replica set member when the read preference is primary or absent', () => {
    for (const type of [ServerType.RSPrimary, ServerType.RSSecondary, ServerType.RSArbiter, ServerType.RSOther]) {
      expect(readPreferenceForCommand(undefined, TopologyType.Single, type)).toEqual({ mode: 'primaryPreferred' });
      expect(readPreferenceForCommand(ReadPreference.primary, TopologyType.Single, type)).toEqual({ mode: 'primaryPreferred' });
      expect(readPreferenceForCommand(secondaryTagged, TopologyType.Single, type)).toEqual(secondaryTagged.toJSON());
    }
  });

  it('sends $readPreference to replica set members for every mode but primary', () => {
    for (const topologyType of [TopologyType.ReplicaSetWithPrimary, TopologyType.ReplicaSetNoPrimary]) {
      expect(readPreferenceForCommand(ReadPreference.primary, topologyType, ServerType.RSPrimary)).toBeUndefined();
      expect(readPreferenceForCommand(ReadPreference.secondary, topologyType, ServerType.RSSecondary)).toEqual({
        mode: 'secondary'
      });
    }
  });
});
