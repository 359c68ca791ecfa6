/**
 * Per-call options as callers give them (read preference as a mode string or document, plain
 * write concern objects), resolved against the handle they are called on: call → collection →
 * database → client.
 */
import { MongoInvalidArgumentError } from '../errors';
import { ReadConcern, type ReadConcernLike } from '../read_concern';
import { ReadPreference, type ReadPreferenceLike } from '../read_preference';
import type { ClientSession } from '../sessions';
import { WriteConcern, type WriteConcernOptions } from '../write_concern';
import type { BaseOperationOptions } from './operation';

/** The inheritable settings of a client, database or collection handle. */
export interface OptionsParent {
  readonly readPreference: ReadPreference;
  readonly readConcern?: ReadConcern;
  readonly writeConcern?: WriteConcern;
  readonly timeoutMS?: number;
}

/** Session and concern options accepted by every call. */
export interface CallOptions {
  session?: ClientSession;
  readPreference?: ReadPreferenceLike;
  readConcern?: ReadConcernLike;
  writeConcern?: WriteConcernOptions | WriteConcern;
  timeoutMS?: number;
  comment?: unknown;
}

/** An operation's options with the inheritable fields in their caller-facing form. */
export type WithCallOptions<T extends BaseOperationOptions> = Omit<T, keyof CallOptions> & CallOptions;

/**
 * CSOT "Validation and Overrides": inside `withTransaction` operations on its session run under
 * the call's deadline, so giving one its own `timeoutMS` is an error (inherited values are not).
 */
export function rejectTimeoutOverrideInTransaction(options: object | undefined): void {
  const o = options as { session?: ClientSession; timeoutMS?: number } | undefined;
  if (o?.timeoutMS !== undefined && o.session?.timeoutContext) {
    throw new MongoInvalidArgumentError('Cannot override timeoutMS for an operation inside withTransaction: the transaction\'s timeout applies');
  }
}

/** Resolves read preference, read and write concern and timeoutMS from the parent handle. */
export function inheritOptions<T extends CallOptions>(
  parent: OptionsParent,
  options: T | undefined
): Omit<T, 'readPreference' | 'readConcern' | 'writeConcern'> & BaseOperationOptions {
  rejectTimeoutOverrideInTransaction(options);
  const o = (options ?? {}) as T;
  // Object.assign, not `{ ...o, readPreference, … }`: on Node 20 a spread followed by more
  // properties is tens of times slower, and this runs for every call.
  return Object.assign({}, o, {
    readPreference: ReadPreference.fromOptions({ readPreference: o.readPreference }) ?? parent.readPreference,
    readConcern: ReadConcern.fromOptions({ readConcern: o.readConcern }) ?? parent.readConcern,
    writeConcern: WriteConcern.fromOptions({ writeConcern: o.writeConcern }) ?? parent.writeConcern,
    timeoutMS: o.timeoutMS ?? parent.timeoutMS
  });
}
