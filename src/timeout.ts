/**
 * Client-side operations timeout (client-side-operations-timeout.md).
 *
 * A `TimeoutContext` is the one deadline an operation runs under: server selection, connection
 * checkout, every attempt and every retry draw from it. When `timeoutMS` is unset the context is
 * "legacy": nothing expires and the deprecated timeouts (serverSelectionTimeoutMS,
 * waitQueueTimeoutMS, socketTimeoutMS) keep their meaning.
 *
 * Cursors use `timeoutMode`: `cursorLifetime` keeps the context created for the initial command for
 * every getMore; `iteration` starts a fresh context for each `next()` (see `TimeoutContext.forCursor`).
 */
import { MongoInvalidArgumentError, MongoOperationTimeoutError } from './errors';

/** How `timeoutMS` applies to a cursor: to its whole life, or to each `next()` separately. */
export const TimeoutMode = Object.freeze({
  cursorLifetime: 'cursorLifetime',
  iteration: 'iteration'
} as const);
export type TimeoutMode = (typeof TimeoutMode)[keyof typeof TimeoutMode];

/** A monotonic clock in milliseconds (injectable for tests). */
export type Clock = () => number;
export const monotonicClock: Clock = () => performance.now();

/** Options an operation may carry for CSOT (read by the executor). */
export interface TimeoutOptions {
  /** The per-operation timeout; 0 = no limit (but CSOT semantics); undefined = CSOT off. */
  timeoutMS?: number;
  /** Run under this existing deadline (cursor getMore in cursorLifetime mode, withTransaction). */
  timeoutContext?: TimeoutContext;
  /** Never append `maxTimeMS` (getMore, `timeoutMode: iteration`, tailable cursors). */
  omitMaxTimeMS?: boolean;
}

export interface TimeoutContextOptions {
  timeoutMS?: number;
  serverSelectionTimeoutMS?: number;
  clock?: Clock;
}

/** Validates a user-supplied `timeoutMS` (CSOT: negative values are an error). */
export function validateTimeoutMS(timeoutMS: unknown, name = 'timeoutMS'): number | undefined {
  if (timeoutMS === undefined || timeoutMS === null) return undefined;
  if (typeof timeoutMS !== 'number' || !Number.isFinite(timeoutMS) || timeoutMS < 0) {
    throw new MongoInvalidArgumentError(`${name} must be a non-negative number, got ${String(timeoutMS)}`);
  }
  return timeoutMS;
}

/** `min(a, b)` where 0 (or undefined) means "infinite" (CSOT "Terms"). */
export function csotMin(a: number | undefined, b: number | undefined): number {
  const x = a === undefined || a <= 0 ? Infinity : a;
  const y = b === undefined || b <= 0 ? Infinity : b;
  return Math.min(x, y);
}

export class TimeoutContext {
  /** undefined = CSOT disabled. */
  readonly timeoutMS: number | undefined;
  readonly serverSelectionTimeoutMS: number;
  private readonly clock: Clock;
  private start: number;

  constructor(options: TimeoutContextOptions = {}) {
    this.timeoutMS = validateTimeoutMS(options.timeoutMS);
    this.serverSelectionTimeoutMS = options.serverSelectionTimeoutMS ?? 30_000;
    this.clock = options.clock ?? monotonicClock;
    this.start = this.clock();
  }

  static create(options: TimeoutContextOptions): TimeoutContext {
    return new TimeoutContext(options);
  }

  /** True when `timeoutMS` was set at any level (even to 0). */
  get csotEnabled(): boolean {
    return this.timeoutMS !== undefined;
  }

  get elapsedMS(): number {
    return this.clock() - this.start;
  }

  /** Milliseconds left before the deadline; Infinity without a deadline. */
  get remainingMS(): number {
    if (this.timeoutMS === undefined || this.timeoutMS === 0) return Infinity;
    return this.timeoutMS - this.elapsedMS;
  }

  get expired(): boolean {
    return this.remainingMS <= 0;
  }

  /**
   * CSOT "Server Selection": `min(serverSelectionTimeoutMS, remaining timeoutMS)`; also the budget
   * for connection checkout. Returns whether the CSOT deadline (not serverSelectionTimeoutMS) is
   * the binding limit, so a failure can be reported as a timeout. The client passes its own
   * serverSelectionTimeoutMS (a context created by a cursor or withTransaction may not know it).
   */
  serverSelectionBudget(serverSelectionTimeoutMS: number = this.serverSelectionTimeoutMS): { timeoutMS: number; limitedByDeadline: boolean } {
    const remaining = this.remainingMS;
    const sst = serverSelectionTimeoutMS > 0 ? serverSelectionTimeoutMS : Infinity;
    if (!this.csotEnabled || remaining >= sst) return { timeoutMS: serverSelectionTimeoutMS, limitedByDeadline: false };
    return { timeoutMS: Math.max(0, remaining), limitedByDeadline: true };
  }

  /** Throws MongoOperationTimeoutError when the deadline has passed. */
  throwIfExpired(what = 'operation'): void {
    if (this.csotEnabled && this.expired) throw this.timeoutError(`Timed out before ${what}`);
  }

  /**
   * CSOT "Command Execution": the `maxTimeMS` to append, `remaining − minRoundTripTime`.
   * Throws (without sending) when the remaining time does not exceed the server's min RTT.
   * Returns undefined when there is no finite deadline.
   */
  maxTimeMSFor(minRoundTripTime: number | null | undefined): number | undefined {
    if (!this.csotEnabled) return undefined;
    const remaining = this.remainingMS;
    if (!Number.isFinite(remaining)) return undefined;
    const rtt = minRoundTripTime ?? 0;
    const maxTimeMS = Math.floor(remaining - rtt);
    if (maxTimeMS < 1) {
      throw this.timeoutError(`Remaining time (${Math.max(0, Math.floor(remaining))}ms) does not exceed the server's minimum round trip time (${rtt}ms)`);
    }
    return maxTimeMS;
  }

  /** The socket timeout for one command: the remaining time (undefined without a deadline). */
  commandTimeoutMS(): number | undefined {
    const remaining = this.remainingMS;
    return this.csotEnabled && Number.isFinite(remaining) ? Math.max(1, Math.ceil(remaining)) : undefined;
  }

  /** A new context with the same timeoutMS starting now (cursor `iteration` mode, killCursors on close). */
  refreshed(): TimeoutContext {
    return new TimeoutContext({ timeoutMS: this.timeoutMS, serverSelectionTimeoutMS: this.serverSelectionTimeoutMS, clock: this.clock });
  }

  /** The context for the next cursor call: the same one (cursorLifetime) or a fresh one (iteration). */
  forCursor(mode: TimeoutMode): TimeoutContext {
    return mode === TimeoutMode.iteration ? this.refreshed() : this;
  }

  /** A timeout error; the cause (e.g. a server selection error) is exposed and included in the message. */
  timeoutError(message: string, cause?: unknown): MongoOperationTimeoutError {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return new MongoOperationTimeoutError(`${message} (timeoutMS: ${this.timeoutMS ?? 'unset'})${detail}`, cause === undefined ? undefined : { cause });
  }
}

/** Server error code MaxTimeMSExpired (CSOT "Error Transformations": check the code only). */
const MAX_TIME_MS_EXPIRED = 50;

/** True for `{code: 50}` at the top level or in `writeConcernError`. */
export function isMaxTimeMSExpired(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; writeConcernError?: { code?: unknown }; errorResponse?: { writeConcernError?: { code?: unknown } } };
  return (
    e.code === MAX_TIME_MS_EXPIRED ||
    e.writeConcernError?.code === MAX_TIME_MS_EXPIRED ||
    e.errorResponse?.writeConcernError?.code === MAX_TIME_MS_EXPIRED
  );
}

/** Validates cursor options: `timeoutMode` needs `timeoutMS`; tailable cursors only support `iteration`. */
export function resolveCursorTimeoutMode(options: { timeoutMS?: number; timeoutMode?: TimeoutMode; tailable?: boolean }): TimeoutMode | undefined {
  if (options.timeoutMode !== undefined && options.timeoutMS === undefined) {
    throw new MongoInvalidArgumentError('timeoutMode requires timeoutMS to be set');
  }
  if (options.tailable) {
    if (options.timeoutMode === TimeoutMode.cursorLifetime) {
      throw new MongoInvalidArgumentError('Tailable cursors only support timeoutMode "iteration"');
    }
    return options.timeoutMS === undefined ? undefined : TimeoutMode.iteration;
  }
  if (options.timeoutMS === undefined) return undefined;
  return options.timeoutMode ?? TimeoutMode.cursorLifetime;
}

/**
 * CSOT "Tailable awaitData Cursors" / "Change Streams": drivers error when `maxAwaitTimeMS` is
 * set, `timeoutMS` is non-zero and `maxAwaitTimeMS >= timeoutMS` (the server would wait longer
 * than the client is willing to).
 */
export function validateMaxAwaitTimeMS(options: { timeoutMS?: number; maxAwaitTimeMS?: number }): void {
  const { timeoutMS, maxAwaitTimeMS } = options;
  if (maxAwaitTimeMS === undefined || timeoutMS === undefined || timeoutMS === 0) return;
  if (maxAwaitTimeMS >= timeoutMS) {
    throw new MongoInvalidArgumentError(`maxAwaitTimeMS (${maxAwaitTimeMS}) must be less than timeoutMS (${timeoutMS})`);
  }
}

/**
 * The `maxTimeMS` of a tailable awaitData getMore: `min(maxAwaitTimeMS, remaining − minRoundTripTime)`.
 * When the deadline leaves no time, `maxAwaitTimeMS` is returned unchanged and the executor's
 * pre-send check raises the timeout error (without sending).
 */
export function awaitDataMaxTimeMS(maxAwaitTimeMS: number, timeout: TimeoutContext | undefined, minRoundTripTime: number | null | undefined): number {
  if (!timeout?.csotEnabled) return maxAwaitTimeMS;
  const left = Math.floor(timeout.remainingMS - (minRoundTripTime ?? 0));
  return left >= 1 ? Math.min(maxAwaitTimeMS, left) : maxAwaitTimeMS;
}

/**
 * CSOT "Batching": the one deadline of an operation that sends several commands (bulk writes):
 * the given one, the session's (inside withTransaction), or a new one when timeoutMS is set.
 */
export function operationDeadline(options: { timeoutMS?: number; timeoutContext?: TimeoutContext; session?: { timeoutContext?: TimeoutContext } }): TimeoutContext | undefined {
  const existing = options.timeoutContext ?? options.session?.timeoutContext;
  if (existing) return existing;
  return options.timeoutMS === undefined ? undefined : new TimeoutContext({ timeoutMS: options.timeoutMS });
}
