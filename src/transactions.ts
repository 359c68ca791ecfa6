/**
 * Transactions (transactions/transactions.md) and the convenient API
 * (transactions-convenient-api.md): the per-session state machine, commitTransaction /
 * abortTransaction (retryable writes that always retry, `w: "majority"` on commit retries,
 * recoveryToken, mongos unpinning), and withTransaction's retry loop with its 120 s / timeoutMS
 * limit and jittered backoff.
 *
 *   NO_TRANSACTION ─start→ STARTING ─first command→ IN_PROGRESS ─commit→ COMMITTED
 *        ↑                    │ commit (no command) → COMMITTED_EMPTY      │ abort → ABORTED
 *        └──── any non-transaction operation resets COMMITTED* / ABORTED ──┘
 */
import type { Document } from 'bson';
import {
  MongoCompatibilityError,
  MongoError,
  MongoErrorCode,
  MongoErrorLabel,
  MongoExpiredSessionError,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTransactionError,
  MongoWriteConcernError
} from './errors';
import { isRetryableOverloadError } from './backpressure';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type OperationContext } from './operations/operation';
import { ReadConcern } from './read_concern';
import { ReadPreference } from './read_preference';
import type { ClientSession, TransactionOptions } from './sessions';
import { isMaxTimeMSExpired, monotonicClock, TimeoutContext, validateTimeoutMS, type Clock, type TimeoutOptions } from './timeout';
import { WriteConcern } from './write_concern';

/** Transaction states (transactions spec "ClientSession changes"). */
export const TxnState = Object.freeze({
  NO_TRANSACTION: 'NO_TRANSACTION',
  STARTING_TRANSACTION: 'STARTING_TRANSACTION',
  TRANSACTION_IN_PROGRESS: 'TRANSACTION_IN_PROGRESS',
  TRANSACTION_COMMITTED: 'TRANSACTION_COMMITTED',
  TRANSACTION_COMMITTED_EMPTY: 'TRANSACTION_COMMITTED_EMPTY',
  TRANSACTION_ABORTED: 'TRANSACTION_ABORTED'
} as const);
export type TxnState = (typeof TxnState)[keyof typeof TxnState];

/** Transaction options after inheritance (transaction → session defaults → client). */
export interface ResolvedTransactionOptions {
  readConcern?: ReadConcern;
  writeConcern?: WriteConcern;
  readPreference: ReadPreference;
  maxCommitTimeMS?: number;
}

/** The transaction bookkeeping of one session. */
export class Transaction {
  state: TxnState = TxnState.NO_TRANSACTION;
  options: ResolvedTransactionOptions = { readPreference: ReadPreference.primary };
  /** Sharded transactions: the mongos address the session is pinned to. */
  pinnedServer?: string;
  /** The latest recoveryToken from a sharded transaction's replies. */
  recoveryToken?: Document;

  /** "starting transaction" or "transaction in progress". */
  get isActive(): boolean {
    return this.state === TxnState.STARTING_TRANSACTION || this.state === TxnState.TRANSACTION_IN_PROGRESS;
  }

  get isCommitted(): boolean {
    return this.state === TxnState.TRANSACTION_COMMITTED || this.state === TxnState.TRANSACTION_COMMITTED_EMPTY;
  }

  /** Any operation other than commit/abort on a finished transaction returns to "no transaction". */
  resetIfFinished(): void {
    if (this.isCommitted || this.state === TxnState.TRANSACTION_ABORTED) {
      this.state = TxnState.NO_TRANSACTION;
      this.recoveryToken = undefined;
    }
  }

  /** The first command completed (even with an error): the server transaction exists. */
  markStarted(): void {
    if (this.state === TxnState.STARTING_TRANSACTION) this.state = TxnState.TRANSACTION_IN_PROGRESS;
  }
}

/** Command names that end a transaction (retryable regardless of retryWrites, carry the txnNumber). */
export function isTransactionCommand(commandName: string): boolean {
  return commandName === 'commitTransaction' || commandName === 'abortTransaction';
}

// ------------------------------------------------------------------------------------ start

export function startTransaction(session: ClientSession, options?: TransactionOptions): void {
  if (session.hasEnded) throw new MongoExpiredSessionError();
  if (session.snapshotEnabled) throw new MongoCompatibilityError('Transactions are not supported in snapshot sessions');
  if (session.inTransaction) throw new MongoTransactionError('Transaction already in progress');

  const defaults = session.options.defaultTransactionOptions ?? {};
  const owner = session.client;
  const readConcern = ReadConcern.fromOptions({ readConcern: options?.readConcern ?? defaults.readConcern }) ?? owner.readConcern;
  const writeConcern = WriteConcern.fromOptions({ writeConcern: options?.writeConcern ?? defaults.writeConcern }) ?? owner.writeConcern;
  if (writeConcern && !writeConcern.isAcknowledged) {
    throw new MongoTransactionError('Transactions do not support unacknowledged write concerns');
  }
  const readPreference =
    ReadPreference.fromOptions({ readPreference: options?.readPreference ?? defaults.readPreference }) ??
    owner.readPreference ??
    ReadPreference.primary;
  const maxCommitTimeMS = options?.maxCommitTimeMS ?? defaults.maxCommitTimeMS;

  // A new transaction always starts unpinned, with a new txnNumber and no recovery token.
  session.unpin();
  session.incrementTransactionNumber();
  const txn = session.transaction;
  txn.options = { readConcern, writeConcern, readPreference, maxCommitTimeMS };
  txn.recoveryToken = undefined;
  txn.state = TxnState.STARTING_TRANSACTION;
}

// ------------------------------------------------------------------------------------ commit / abort

/** commitTransaction / abortTransaction as one executor operation, so retries share the executor's rules. */
class EndTransactionOperation extends CommandOperation<Document> {
  readonly commandName: 'commitTransaction' | 'abortTransaction';
  /** Use `w: "majority"`: a retry of commit after a non-overload failure, or a re-run commit. */
  private majority: boolean;

  constructor(
    session: ClientSession,
    commandName: 'commitTransaction' | 'abortTransaction',
    private readonly csot: boolean,
    options: { majority: boolean; timeoutContext?: TimeoutContext; timeoutMS?: number }
  ) {
    const operationOptions: BaseOperationOptions & TimeoutOptions = {
      session,
      readPreference: ReadPreference.primary,
      timeoutMS: options.timeoutMS,
      timeoutContext: options.timeoutContext
    };
    super('admin', operationOptions);
    this.commandName = commandName;
    this.majority = options.majority;
  }

  get aspects() {
    return aspects(Aspect.WRITE_OPERATION, Aspect.RETRYABLE);
  }

  override get supportsWriteConcern(): boolean {
    return false;
  }

  override get supportsReadConcern(): boolean {
    return false;
  }

  buildCommand(): Document {
    const session = this.session as ClientSession;
    const txn = session.transaction;
    const command: Document = { [this.commandName]: 1 };
    const writeConcern = this.writeConcernForAttempt(txn.options.writeConcern);
    if (writeConcern && !writeConcern.isServerDefault) command.writeConcern = writeConcern.toJSON();
    if (this.commandName === 'commitTransaction' && typeof txn.options.maxCommitTimeMS === 'number' && !this.csot) {
      command.maxTimeMS = txn.options.maxCommitTimeMS;
    }
    if (txn.recoveryToken) command.recoveryToken = txn.recoveryToken;
    return command;
  }

  private writeConcernForAttempt(base: WriteConcern | undefined): WriteConcern | undefined {
    if (this.commandName !== 'commitTransaction' || !this.majority) return base;
    // writeConcern for commitTransaction attempts: w majority, other options kept, wtimeout 10 s
    // if none (CSOT: wtimeoutMS is deprecated and not sent).
    const wtimeoutMS = this.csot ? undefined : (base?.wtimeoutMS ?? 10_000);
    return new WriteConcern('majority', wtimeoutMS, base?.journal);
  }

  override async execute(ctx: OperationContext): Promise<Document> {
    let reply: Document;
    try {
      reply = await super.execute(ctx);
    } catch (error) {
      // The next attempt uses majority, unless this one was shed for overload (backpressure rule).
      if (!isRetryableOverloadError(error)) this.majority = true;
      throw error;
    }
    if (reply.writeConcernError) {
      this.majority = true;
      throw new MongoWriteConcernError(reply as Document & { writeConcernError: Document }, reply);
    }
    return reply;
  }
}

/** Write concern errors that mean "invalid write concern", not "unknown outcome". */
const NON_RETRYABLE_WRITE_CONCERN_CODES = new Set<number>([MongoErrorCode.UnsatisfiableWriteConcern, MongoErrorCode.UnknownReplWriteConcern]);
const NON_RETRYABLE_WRITE_CONCERN_NAMES = new Set(['CannotSatisfyWriteConcern', 'UnsatisfiableWriteConcern', 'UnknownReplWriteConcern']);

/** The transactions spec's UnknownTransactionCommitResult rule. */
function isUnknownCommitResult(error: MongoError): boolean {
  if (error instanceof MongoServerError) {
    if (typeof error.code === 'number' && NON_RETRYABLE_WRITE_CONCERN_CODES.has(error.code)) return false;
    if (error.codeName && NON_RETRYABLE_WRITE_CONCERN_NAMES.has(error.codeName)) return false;
  }
  return (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoWriteConcernError ||
    error.hasErrorLabel(MongoErrorLabel.RetryableWriteError) ||
    isMaxTimeMSExpired(error)
  );
}

function runOperation(session: ClientSession, operation: EndTransactionOperation): Promise<Document> {
  const owner = session.client;
  if (!owner.executeOperation) throw new MongoTransactionError('This session cannot run commands');
  return owner.executeOperation(operation);
}

export interface EndOptions {
  /** The deadline to run under (withTransaction). */
  timeoutContext?: TimeoutContext;
  /** CSOT: overrides the session's `defaultTimeoutMS` (and the client's `timeoutMS`) for this call. */
  timeoutMS?: number;
}

/**
 * The timeout of commit/abort: the given deadline, the per-call timeoutMS, the withTransaction
 * deadline, then the session's defaultTimeoutMS or the client's timeoutMS (CSOT "Sessions").
 */
function timeoutFor(session: ClientSession, options?: EndOptions): { timeoutContext?: TimeoutContext; timeoutMS?: number; csot: boolean } {
  if (options?.timeoutContext) return { timeoutContext: options.timeoutContext, csot: options.timeoutContext.csotEnabled };
  const callTimeoutMS = validateTimeoutMS(options?.timeoutMS);
  if (callTimeoutMS !== undefined) return { timeoutMS: callTimeoutMS, csot: true };
  const timeoutContext = session.timeoutContext;
  if (timeoutContext) return { timeoutContext, csot: timeoutContext.csotEnabled };
  const timeoutMS = session.options.defaultTimeoutMS ?? session.client.timeoutMS;
  return { timeoutMS, csot: timeoutMS !== undefined };
}

export async function commitTransaction(session: ClientSession, options?: EndOptions): Promise<void> {
  if (session.hasEnded) throw new MongoExpiredSessionError();
  const txn = session.transaction;
  switch (txn.state) {
    case TxnState.NO_TRANSACTION:
      throw new MongoTransactionError('No transaction started');
    case TxnState.TRANSACTION_ABORTED:
      throw new MongoTransactionError('Cannot call commitTransaction after calling abortTransaction');
    case TxnState.STARTING_TRANSACTION:
    case TxnState.TRANSACTION_COMMITTED_EMPTY:
      // Nothing was sent in this transaction: there is nothing to commit on the server.
      txn.state = TxnState.TRANSACTION_COMMITTED_EMPTY;
      return;
  }
  // A commit after a previous commit is a retry: w "majority".
  const majority = txn.state === TxnState.TRANSACTION_COMMITTED;
  const { timeoutContext, timeoutMS, csot } = timeoutFor(session, options);
  const operation = new EndTransactionOperation(session, 'commitTransaction', csot, { majority, timeoutContext, timeoutMS });
  try {
    await runOperation(session, operation);
  } catch (error) {
    if (error instanceof MongoError) {
      if (isUnknownCommitResult(error)) error.addErrorLabel(MongoErrorLabel.UnknownTransactionCommitResult);
      if (error.hasErrorLabel(MongoErrorLabel.UnknownTransactionCommitResult) || error.hasErrorLabel(MongoErrorLabel.TransientTransactionError)) {
        session.unpin();
      }
    }
    throw error;
  } finally {
    txn.state = TxnState.TRANSACTION_COMMITTED;
  }
}

export async function abortTransaction(session: ClientSession, options?: EndOptions): Promise<void> {
  if (session.hasEnded) throw new MongoExpiredSessionError();
  const txn = session.transaction;
  switch (txn.state) {
    case TxnState.NO_TRANSACTION:
      throw new MongoTransactionError('No transaction started');
    case TxnState.TRANSACTION_COMMITTED:
    case TxnState.TRANSACTION_COMMITTED_EMPTY:
      throw new MongoTransactionError('Cannot call abortTransaction after calling commitTransaction');
    case TxnState.TRANSACTION_ABORTED:
      throw new MongoTransactionError('Cannot call abortTransaction twice');
    case TxnState.STARTING_TRANSACTION:
      txn.state = TxnState.TRANSACTION_ABORTED;
      session.unpin();
      return;
  }
  const { timeoutContext, timeoutMS, csot } = timeoutFor(session, options);
  const operation = new EndTransactionOperation(session, 'abortTransaction', csot, { majority: false, timeoutContext, timeoutMS });
  try {
    await runOperation(session, operation);
  } catch {
    // abortTransaction errors are meaningless to the application (transactions spec).
  } finally {
    txn.state = TxnState.TRANSACTION_ABORTED;
    session.unpin();
  }
}

// ------------------------------------------------------------------------------------ withTransaction

export type WithTransactionCallback<T> = (session: ClientSession) => Promise<T> | T;

/** Test hooks for withTransaction's clock, time limit and backoff. */
export interface WithTransactionHooks {
  clock?: Clock;
  /** The retry time limit when timeoutMS is not set (default 120 s). */
  timeLimitMS?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Default retry time limit of withTransaction without timeoutMS. */
export const WITH_TRANSACTION_TIME_LIMIT_MS = 120_000;
const BACKOFF_INITIAL_MS = 5;
const BACKOFF_MAX_MS = 500;
const BACKOFF_GROWTH = 1.5;

/** `jitter * min(BACKOFF_INITIAL * 1.5^transactionAttempt, BACKOFF_MAX)`. */
export function transactionBackoffMS(transactionAttempt: number, random: () => number = Math.random): number {
  return random() * Math.min(BACKOFF_INITIAL_MS * BACKOFF_GROWTH ** transactionAttempt, BACKOFF_MAX_MS);
}

function sleepFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** "Timeout error propagation": under CSOT, a timeout error exposing (and labelled like) the last error. */
function timeoutErrorFrom(lastError: unknown, csot: boolean): unknown {
  if (!csot || lastError instanceof MongoOperationTimeoutError) return lastError;
  const error = new MongoOperationTimeoutError('withTransaction timed out', { cause: lastError });
  if (lastError instanceof MongoError) for (const label of lastError.errorLabels) error.addErrorLabel(label);
  return error;
}

/** withTransaction options: the transaction's, and a `timeoutMS` for the whole call (CSOT). */
export interface WithTransactionOptions extends TransactionOptions {
  /** Overrides the session's `defaultTimeoutMS` (and the client's `timeoutMS`); replaces the 120 s retry limit. */
  timeoutMS?: number;
}

export async function withTransaction<T>(
  session: ClientSession,
  callback: WithTransactionCallback<T>,
  options?: WithTransactionOptions
): Promise<T | undefined> {
  if (typeof callback !== 'function') throw new MongoInvalidArgumentError('withTransaction requires a callback function');
  const hooks = session.withTransactionHooks ?? {};
  const clock = hooks.clock ?? monotonicClock;
  const random = hooks.random ?? Math.random;
  const sleep = hooks.sleep ?? sleepFor;
  const timeoutMS = validateTimeoutMS(options?.timeoutMS) ?? session.options.defaultTimeoutMS ?? session.client.timeoutMS;
  const csot = timeoutMS !== undefined;
  const limitMS = csot ? (timeoutMS === 0 ? Infinity : timeoutMS) : (hooks.timeLimitMS ?? WITH_TRANSACTION_TIME_LIMIT_MS);
  const startTime = clock();
  const elapsed = () => clock() - startTime;
  const deadline = csot ? new TimeoutContext({ timeoutMS, clock }) : undefined;

  let transactionAttempt = 0;
  let lastError: unknown;
  session.timeoutContext = deadline;
  try {
    retryTransaction: for (;;) {
      if (transactionAttempt > 0) {
        const backoff = transactionBackoffMS(transactionAttempt, random);
        if (elapsed() + backoff >= limitMS) throw timeoutErrorFrom(lastError, csot);
        await sleep(backoff);
      }
      startTransaction(session, options);
      transactionAttempt += 1;

      let result: T;
      try {
        result = await callback(session);
      } catch (error) {
        lastError = error;
        if (session.inTransaction) {
          // The abort gets a fresh timeout (CSOT "Convenient Transactions API").
          await abortTransaction(session, { timeoutContext: deadline?.refreshed() });
        }
        if (error instanceof MongoError && error.hasErrorLabel(MongoErrorLabel.TransientTransactionError)) {
          if (elapsed() < limitMS) continue retryTransaction;
          throw timeoutErrorFrom(error, csot);
        }
        throw error;
      }

      const state = session.transaction.state;
      if (state === TxnState.NO_TRANSACTION || state === TxnState.TRANSACTION_COMMITTED || state === TxnState.TRANSACTION_ABORTED) {
        return result; // the callback ended the transaction itself
      }

      for (;;) {
        try {
          await commitTransaction(session);
          return result;
        } catch (error) {
          lastError = error;
          if (!(error instanceof MongoError)) throw error;
          if (error.hasErrorLabel(MongoErrorLabel.UnknownTransactionCommitResult) && !isMaxTimeMSExpired(error)) {
            if (elapsed() >= limitMS) throw timeoutErrorFrom(error, csot);
            continue;
          }
          if (error.hasErrorLabel(MongoErrorLabel.TransientTransactionError)) continue retryTransaction;
          throw error;
        }
      }
    }
  } finally {
    session.timeoutContext = undefined;
  }
}
