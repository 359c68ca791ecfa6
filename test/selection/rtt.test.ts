import { MongoInvalidArgumentError } from '../../src/errors';
import { nextAverageRtt, RoundTripTimeStats } from '../../src/sdam/rtt';

describe('RTT moving average', () => {
  it('starts at the first sample, then weights new samples by 0.2', () => {
    expect(nextAverageRtt(null, 10)).toBe(10);
    expect(nextAverageRtt(0, 5)).toBe(1);
    expect(nextAverageRtt(1, 1000)).toBeCloseTo(200.8, 10);

    const stats = new RoundTripTimeStats();
    expect(stats.average).toBeNull();
    stats.addSample(10);
    stats.addSample(20);
    expect(stats.average).toBeCloseTo(12, 10);
  });

  it('rejects negative and non-finite samples', () => {
    const stats = new RoundTripTimeStats();
    expect(() => stats.addSample(-1)).toThrow(MongoInvalidArgumentError);
    expect(() => stats.addSample(Number.NaN)).toThrow(MongoInvalidArgumentError);
    expect(() => new RoundTripTimeStats(-5)).toThrow(MongoInvalidArgumentError);
    expect(stats.average).toBeNull();
  });

  it('reset forgets the average so the next sample becomes the average', () => {
    const stats = new RoundTripTimeStats(50);
    stats.reset();
    expect(stats.average).toBeNull();
    stats.addSample(3);
    expect(stats.average).toBe(3);
  });
});

describe('minimum RTT over the last 10 samples', () => {
  it('is 0 until two samples have been gathered', () => {
    const stats = new RoundTripTimeStats();
    expect(stats.min).toBe(0);
    stats.addSample(7);
    expect(stats.min).toBe(0);
    stats.addSample(9);
    expect(stats.min).toBe(7);
  });

  it('only looks at the 10 most recent samples', () => {
    const stats = new RoundTripTimeStats();
    stats.addSample(1);
    for (let i = 0; i < 9; i++) stats.addSample(50 + i);
    expect(stats.min).toBe(1);
    stats.addSample(60);
    expect(stats.min).toBe(50);
    stats.reset();
    expect(stats.min).toBe(0);
  });
});
