/**
 * Round trip time statistics of one server (server-selection spec "Calculation of Average
 * Round Trip Times", server-monitoring spec "Measuring RTT"): an exponentially-weighted moving
 * average with alpha 0.2, and the minimum of the last 10 samples (used by CSOT).
 */
import { MongoInvalidArgumentError } from '../errors';

export const RTT_ALPHA = 0.2;
/** How many recent samples the minimum RTT looks at. */
export const MIN_RTT_SAMPLE_WINDOW = 10;

/** The next average RTT: the first sample itself, then `alpha * sample + (1 - alpha) * previous`. */
export function nextAverageRtt(previous: number | null, sample: number): number {
  assertValidSample(sample);
  return previous === null ? sample : RTT_ALPHA * sample + (1 - RTT_ALPHA) * previous;
}

function assertValidSample(sample: number): void {
  if (typeof sample !== 'number' || !Number.isFinite(sample) || sample < 0) {
    throw new MongoInvalidArgumentError(`A round trip time must be a non-negative finite number, got ${String(sample)}`);
  }
}

export class RoundTripTimeStats {
  private avg: number | null;
  private readonly recent: number[] = [];

  /** `initialAverage` seeds the moving average (no samples are recorded for the minimum). */
  constructor(initialAverage: number | null = null) {
    if (initialAverage !== null) assertValidSample(initialAverage);
    this.avg = initialAverage;
  }

  /** Records one measurement in ms. @throws MongoInvalidArgumentError for a negative or non-finite value. */
  addSample(rtt: number): void {
    this.avg = nextAverageRtt(this.avg, rtt);
    this.recent.push(rtt);
    if (this.recent.length > MIN_RTT_SAMPLE_WINDOW) this.recent.shift();
  }

  /** The moving average in ms, null before the first sample (or after `reset`). */
  get average(): number | null {
    return this.avg;
  }

  /** The minimum of the last 10 samples; 0 until at least 2 samples have been gathered. */
  get min(): number {
    return this.recent.length < 2 ? 0 : Math.min(...this.recent);
  }

  /** Forgets everything: used when the server becomes unavailable. */
  reset(): void {
    this.avg = null;
    this.recent.length = 0;
  }
}
