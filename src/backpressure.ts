/**
 * Client backpressure (client-backpressure.md): retrying overload errors with jittered exponential
 * backoff. The policy itself is applied by the executor's retry loop (execute_operation.ts); this
 * module holds the constants and the pure calculations.
 *
 * There is no token bucket: the spec at this pin ("phase 1", 2026-03-30) retries up to
 * `maxAdaptiveRetries` times without one.
 */
import { MongoError, MongoErrorLabel, MongoServerError } from './errors';

/** `BASE_BACKOFF`: 100 ms. */
export const BASE_BACKOFF_MS = 100;
/** `MAX_BACKOFF`: 10 s. */
export const MAX_BACKOFF_MS = 10_000;
/** `MAX_RETRIES` default (`maxAdaptiveRetries`). */
export const DEFAULT_MAX_ADAPTIVE_RETRIES = 2;

/** An error with the SystemOverloadedError label: the server shed the request. */
export function isOverloadError(error: unknown): boolean {
  return error instanceof MongoError && error.hasErrorLabel(MongoErrorLabel.SystemOverloadedError);
}

/** "Retryable Overload Error": both SystemOverloadedError and RetryableError. */
export function isRetryableOverloadError(error: unknown): boolean {
  return isOverloadError(error) && (error as MongoError).hasErrorLabel(MongoErrorLabel.RetryableError);
}

/** A positive `baseBackoffMS` on the server's error replaces BASE_BACKOFF (int64 may arrive as Long/bigint). */
export function baseBackoffMSFor(error: unknown): number {
  if (!(error instanceof MongoServerError)) return BASE_BACKOFF_MS;
  const raw: unknown = error.errorResponse.baseBackoffMS;
  const value = typeof raw === 'number' || typeof raw === 'bigint' || (typeof raw === 'object' && raw !== null) ? Number(raw) : NaN;
  return Number.isFinite(value) && value > 0 ? value : BASE_BACKOFF_MS;
}

/**
 * `backoff = jitter * min(MAX_BACKOFF, base * 2^attempt)`, where `attempt` is the retry number
 * (1 for the first retry) and `jitter` is in [0, 1).
 */
export function overloadBackoffMS(error: unknown, retryNumber: number, random: () => number = Math.random): number {
  return random() * Math.min(MAX_BACKOFF_MS, baseBackoffMSFor(error) * 2 ** retryNumber);
}

/** The executor's backpressure knobs (client options, plus test hooks). */
export interface BackpressureOptions {
  /** `maxAdaptiveRetries` (default 2). */
  maxAdaptiveRetries?: number;
  /** `enableOverloadRetargeting` (default false): deprioritize an overloaded server on retry. */
  enableOverloadRetargeting?: boolean;
  /** Jitter source in [0, 1) (tests pin it). */
  random?: () => number;
  /** Sleep (tests can fake it). */
  sleep?: (ms: number) => Promise<void>;
}

export function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
