/**
 * The executor and retry engine: the one path every operation takes.
 *
 *   deadline (CSOT) → select server → check out → decorate command (session, transaction fields,
 *   concerns, cluster time, read preference, maxTimeMS) → connection.command → gossip cluster /
 *   operation time → on error: labels, SDAM handling, retry.
 *
 * Retry policy (client-backpressure.md "Pseudocode", which combines retryable-reads.md and
 * retryable-writes.md):
 * - a retryable read/write error is retried once, or until the deadline when timeoutMS is set;
 * - a retryable overload error (SystemOverloadedError + RetryableError) is retried for any command
 *   (runCommand needs both retryReads and retryWrites) with jittered exponential backoff; once an
 *   overload error was seen, at most `maxAdaptiveRetries` retries happen in total;
 * - the failed server is deprioritized on sharded clusters, and for overload errors when
 *   enableOverloadRetargeting is on;
 * - the error returned follows the NoWritesPerformed rules (the latest error from an attempt that
 *   reached the server, else the first error).
 */
import { Long, type Document, type Timestamp } from 'bson';
import {
  MongoCompatibilityError,
  MongoDriverError,
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
  MongoWaitQueueTimeoutError,
  RETRYABLE_ERROR_CODES
} from '../errors';
import { DEFAULT_MAX_ADAPTIVE_RETRIES, defaultSleep, isOverloadError, isRetryableOverloadError, overloadBackoffMS, type BackpressureOptions } from '../backpressure';
import { ReadPreferenceMode, readPreferenceForCommand, type ReadPreference } from '../read_preference';
import { ClientSession, type ClusterTime, type SessionOwner } from '../sessions';
import {
  MIN_SECONDARY_WRITE_WIRE_VERSION,
  readPreferenceServerSelector,
  secondaryWritableServerSelector,
  writableServerSelector,
  type ServerSelector
} from '../sdam/server_selection';
import { ServerType, TopologyType, type ServerDescription, type TopologyDescription } from '../sdam/types';
import { isMaxTimeMSExpired, TimeoutContext, type TimeoutOptions } from '../timeout';
import { isTransactionCommand, TxnState } from '../transactions';
import type { DocumentSequence } from '../wire';
import type { PinKind } from '../pool/pool';
import { ConnectionPin } from './connection_pin';
import type { CursorCreation } from './cursor_response';
import { Aspect, type AbstractOperation, type CommandSendOptions, type CommandTarget, type OperationContext } from './operation';
import { RunCommandOperation } from './run_command';

/** A checked-out connection, as the executor sees it. */
export interface ExecutorConnection {
  readonly address: string;
  readonly maxWireVersion: number;
  readonly maxBsonObjectSize: number;
  readonly maxMessageSizeBytes: number;
  readonly maxWriteBatchSize: number;
  /** True once the connection is unusable (pinned connections are checked before reuse). */
  readonly closed?: boolean;
  command(
    db: string,
    command: Document,
    options?: { sequences?: DocumentSequence[]; moreToCome?: boolean; bson?: CommandSendOptions['bson']; timeoutMS?: number }
  ): Promise<Document>;
}

/** A selected server: its description, its pool, and its SDAM error handler. */
export interface ExecutorServer {
  readonly description: ServerDescription;
  checkOut(options?: { signal?: AbortSignal; timeoutMS?: number }): Promise<ExecutorConnection>;
  /** Optional fast path: an idle connection checked out synchronously, or undefined (then `checkOut`). */
  tryCheckOut?(): ExecutorConnection | undefined;
  checkIn(connection: ExecutorConnection): void;
  /** Load-balanced mode: `connection` stays checked out for a cursor or a transaction (see ConnectionPin). */
  markPinned?(connection: ExecutorConnection, kind: PinKind): void;
  /** SDAM "error handling" for an error raised while this server ran an operation. */
  handleError(error: unknown, connection?: ExecutorConnection): void;
}

export interface SelectServerOptions {
  operationName: string;
  deprioritized?: string[];
  timeoutMS?: number;
  signal?: AbortSignal;
}

export interface ExecutorTopology {
  readonly description: TopologyDescription;
  /** The selected server, or its promise when selection has to wait. */
  selectServer(selector: ServerSelector, options: SelectServerOptions): ExecutorServer | Promise<ExecutorServer>;
  /** The client-wide greatest `$clusterTime`. */
  clusterTime?: ClusterTime;
}

export interface ExecutorClient extends BackpressureOptions {
  readonly topology: ExecutorTopology;
  readonly retryReads: boolean;
  readonly retryWrites: boolean;
  readonly sessionOwner: SessionOwner;
  /** serverSelectionTimeoutMS (CSOT: the selection/checkout budget is min(this, remaining)). Default 30 000. */
  readonly serverSelectionTimeoutMS?: number;
}

const RETRYABLE_CODES = RETRYABLE_ERROR_CODES;
const RETRYABLE_READ_CODES = new Set<number>([...RETRYABLE_CODES, MongoErrorCode.ReadConcernMajorityNotAvailableYet]);

/** 4.4 (wire 9) servers label retryable write errors themselves. */
const WIRE_VERSION_44 = 9;
/** Snapshot reads need MongoDB 5.0 (wire 13). */
const MIN_SNAPSHOT_READS_WIRE_VERSION = 13;

/** Read commands that take a readConcern. */
const READ_CONCERN_COMMANDS = new Set(['aggregate', 'count', 'distinct', 'find', 'geoNear']);
/** Commands that never take a readConcern (cursor continuation and cleanup). */
const NO_READ_CONCERN_COMMANDS = new Set(['getMore', 'killCursors', 'endSessions']);
/** Commands that get `afterClusterTime` in causally consistent sessions (as the official driver). */
const AFTER_CLUSTER_TIME_COMMANDS = new Set([
  ...READ_CONCERN_COMMANDS,
  'bulkWrite',
  'create',
  'createIndexes',
  'delete',
  'drop',
  'dropDatabase',
  'dropIndexes',
  'findAndModify',
  'insert',
  'update'
]);

/** A `w: 0` write outside a transaction (in a transaction the operation's write concern is ignored). */
function isUnacknowledged(operation: AbstractOperation<unknown>, session: ClientSession | undefined): boolean {
  if (operation.writeConcern === undefined || operation.writeConcern.isAcknowledged) return false;
  // A read inherits the collection's write concern but never sends it: it is acknowledged.
  if (!operation.supportsWriteConcern) return false;
  return !(session?.inTransaction && !isTransactionCommand(operation.commandName));
}

/** retryable-reads.md "Retryable Error". */
export function isRetryableReadError(error: unknown): boolean {
  if (error instanceof MongoNetworkError) return true;
  if (error instanceof MongoServerError && typeof error.code === 'number') return RETRYABLE_READ_CODES.has(error.code);
  return false;
}

/** retryable-writes.md: an error labelled RetryableWriteError. */
export function isRetryableWriteError(error: unknown): boolean {
  return error instanceof MongoError && error.hasErrorLabel(MongoErrorLabel.RetryableWriteError);
}

/** Pre-4.4 servers: the driver adds the RetryableWriteError label from the code lists. */
function isLegacyRetryableWriteError(error: MongoServerError): boolean {
  if (typeof error.code === 'number' && RETRYABLE_CODES.has(error.code)) return true;
  const wce = error.errorResponse.writeConcernError as Document | undefined;
  return !!wce && typeof wce.code === 'number' && RETRYABLE_CODES.has(wce.code);
}

/** Servers support sessions when they report logicalSessionTimeoutMinutes (or are behind a load balancer). */
function sessionsSupported(server: ServerDescription): boolean {
  return server.logicalSessionTimeoutMinutes !== null || server.type === ServerType.LoadBalancer;
}

function retryableWritesSupported(server: ServerDescription): boolean {
  return sessionsSupported(server) && server.type !== ServerType.Standalone;
}

/** The smallest maxWireVersion among the known, available servers (0 when none is known). */
function commonWireVersion(topology: TopologyDescription): number {
  let common: number | undefined;
  for (const server of topology.servers.values()) {
    if (server.type === ServerType.Unknown) continue;
    common = common === undefined ? server.maxWireVersion : Math.min(common, server.maxWireVersion);
  }
  return common ?? 0;
}

function addressSelector(address: string, what: string): ServerSelector {
  return {
    description: what,
    validate: () => undefined,
    suitable: (_t, candidates) => candidates.filter((s) => s.address === address && s.type !== ServerType.Unknown)
  };
}

/** Errors raised before a command reached the server (selection, checkout, pre-send checks). */
const noAttemptErrors = new WeakSet<object>();
function beforeSend<E>(error: E): E {
  if (typeof error === 'object' && error !== null) noAttemptErrors.add(error);
  return error;
}

/** retryable-writes.md: errors that show no write was attempted. */
function indicatesNoAttempt(error: MongoError): boolean {
  return (
    noAttemptErrors.has(error) ||
    error.hasErrorLabel(MongoErrorLabel.NoWritesPerformed) ||
    error instanceof MongoServerSelectionError ||
    (error instanceof MongoDriverError && !(error instanceof MongoOperationTimeoutError))
  );
}

/**
 * The error to report after several attempts: the most recent error from an attempt that reached
 * the server, else the first error (NoWritesPerformed rules; retryable-reads.md 3c is the same).
 */
class AttemptErrors {
  private first?: MongoError;
  private lastAttempted?: MongoError;

  record(error: MongoError): void {
    this.first ??= error;
    if (!indicatesNoAttempt(error)) this.lastAttempted = error;
  }

  get result(): MongoError {
    return (this.lastAttempted ?? this.first) as MongoError;
  }
}

/** What one execution decided up front, shared by its attempts. */
interface ExecutionState {
  readonly timeout: TimeoutContext;
  readonly readPreference: ReadPreference;
  /** The session is in an active transaction and this is not commit/abort. */
  readonly inTransaction: boolean;
  readonly isTxnCommand: boolean;
  readonly willRetryWrite: boolean;
  readonly omitMaxTimeMS: boolean;
  /** Assigned once, at the first attempt's send, and reused by retries. */
  txnNumber?: number;
  attempt: number;
}

/**
 * Runs an operation with server selection, sessions and retries.
 * Implicit sessions created here are ended here; cursor operations pass their own session.
 */
export async function executeOperation<T>(client: ExecutorClient, operation: AbstractOperation<T>): Promise<T> {
  const isTxnCommand = isTransactionCommand(operation.commandName);
  // In a transaction the operation's own write concern is not used (transactions.md): w: 0 there
  // neither makes the write unacknowledged nor forbids the explicit session.
  const unacknowledged = isUnacknowledged(operation, operation.session);
  let session = operation.session;
  let ownsSession = false;
  if (session) {
    if (session.hasEnded) throw new MongoExpiredSessionError();
    if (session.client !== client.sessionOwner) throw new MongoInvalidArgumentError('ClientSession must be from the same MongoClient');
    if (unacknowledged && session.explicit) {
      throw new MongoInvalidArgumentError('Cannot use an explicit session with an unacknowledged write concern (w: 0)');
    }
  } else if (!unacknowledged && !operation.hasAspect(Aspect.NO_SESSION)) {
    session = new ClientSession(client.sessionOwner, {}, false);
    ownsSession = true;
  }

  let readPreference = operation.readPreference;
  const inTransaction = !!session?.inTransaction && !isTxnCommand;
  if (session && inTransaction) {
    // The transaction's read preference overrides inherited ones; transactions only read from the primary.
    readPreference = session.transaction.options.readPreference;
    // runCommand takes no inherited read preference: one it carries was given for this call.
    if (operation instanceof RunCommandOperation && operation.readPreference.mode !== ReadPreferenceMode.primary) {
      readPreference = operation.readPreference;
    }
    const reads = operation.hasAspect(Aspect.READ_OPERATION) || operation instanceof RunCommandOperation;
    if (reads && readPreference.mode !== ReadPreferenceMode.primary) {
      throw new MongoTransactionError(`Read preference in a transaction must be primary, not: ${readPreference.mode}`);
    }
  } else if (session && !isTxnCommand) {
    // Any other operation on the session leaves a finished transaction and unpins it.
    session.transaction.resetIfFinished();
    session.unpin();
  }

  const timeoutOptions = operation.options as TimeoutOptions;
  const timeout =
    timeoutOptions.timeoutContext ??
    session?.timeoutContext ??
    new TimeoutContext({ timeoutMS: operation.options.timeoutMS, serverSelectionTimeoutMS: client.serverSelectionTimeoutMS });

  try {
    return await executeWithRetries(client, operation, session, {
      timeout,
      readPreference,
      inTransaction,
      isTxnCommand,
      willRetryWrite: false,
      omitMaxTimeMS: timeoutOptions.omitMaxTimeMS === true,
      attempt: 0
    });
  } finally {
    if (ownsSession && session) await session.endSession();
  }
}

function selectorFor(operation: AbstractOperation, session: ClientSession | undefined, state: ExecutionState, topology: TopologyDescription): ServerSelector {
  if (operation.serverAddress) return addressSelector(operation.serverAddress, `the server ${operation.serverAddress} that owns this cursor`);
  const pinned = session?.transaction.pinnedServer;
  if (pinned && (state.inTransaction || state.isTxnCommand)) return addressSelector(pinned, `the mongos ${pinned} this transaction is pinned to`);
  if (operation.hasAspect(Aspect.WRITE_OPERATION)) return writableServerSelector();
  if (operation.trySecondaryWrite) return secondaryWritableServerSelector(commonWireVersion(topology), state.readPreference);
  return readPreferenceServerSelector(state.readPreference);
}

/**
 * Server selection under the deadline: min(serverSelectionTimeoutMS, remaining timeoutMS).
 * Synchronous when a server is suitable now (no promise on the common path); errors are thrown
 * or rejected alike (marked as raised before anything was sent).
 */
function selectServer(
  client: ExecutorClient,
  operation: AbstractOperation,
  session: ClientSession | undefined,
  state: ExecutionState,
  deprioritized: string[]
): ExecutorServer | Promise<ExecutorServer> {
  const { timeout } = state;
  if (timeout.csotEnabled && timeout.expired) throw beforeSend(timeout.timeoutError('Timed out before server selection'));
  const budget = timeout.serverSelectionBudget(client.serverSelectionTimeoutMS);
  let selected: ExecutorServer | Promise<ExecutorServer>;
  try {
    selected = client.topology.selectServer(selectorFor(operation, session, state, client.topology.description), {
      operationName: operation.commandName,
      deprioritized,
      timeoutMS: budget.timeoutMS
    });
  } catch (error) {
    throw selectionFailure(error, timeout, budget.limitedByDeadline);
  }
  if (selected instanceof Promise) {
    return selected.then(
      (server) => afterSelection(client, session, state, server),
      (error: unknown) => {
        throw selectionFailure(error, timeout, budget.limitedByDeadline);
      }
    );
  }
  return afterSelection(client, session, state, selected);
}

/** The error a failed selection is reported with: a CSOT timeout when the deadline was the limit. */
function selectionFailure(error: unknown, timeout: TimeoutContext, limitedByDeadline: boolean): unknown {
  if (limitedByDeadline && error instanceof MongoServerSelectionError) return beforeSend(timeout.timeoutError('Server selection timed out', error));
  return beforeSend(error);
}

function afterSelection(client: ExecutorClient, session: ClientSession | undefined, state: ExecutionState, server: ExecutorServer): ExecutorServer {
  // Sharded transactions: the first command pins the session to its mongos.
  if (session && state.inTransaction && !session.transaction.pinnedServer && client.topology.description.type === TopologyType.Sharded) {
    session.transaction.pinnedServer = server.description.address;
  }
  return server;
}

function overloadRetryAllowed(client: ExecutorClient, operation: AbstractOperation, state: ExecutionState): boolean {
  if (state.isTxnCommand) return true;
  // aggregate with $out/$merge is a write for this purpose.
  if (operation.hasAspect(Aspect.WRITE_OPERATION) || operation.trySecondaryWrite) return client.retryWrites;
  if (operation.hasAspect(Aspect.READ_OPERATION) && !(operation instanceof RunCommandOperation)) return client.retryReads;
  // runCommand (and anything neither read nor write) needs both.
  return client.retryReads && client.retryWrites;
}

async function executeWithRetries<T>(
  client: ExecutorClient,
  operation: AbstractOperation<T>,
  session: ClientSession | undefined,
  initial: ExecutionState
): Promise<T> {
  const timeout = initial.timeout;
  let server: ExecutorServer;
  try {
    const selected = selectServer(client, operation, session, initial, []);
    server = selected instanceof Promise ? await selected : selected;
  } catch (error) {
    // transactions.md: a server selection error inside a transaction is transient.
    if (initial.inTransaction && error instanceof MongoError) error.addErrorLabel(MongoErrorLabel.TransientTransactionError);
    throw error;
  }

  const isWrite = operation.hasAspect(Aspect.WRITE_OPERATION);
  const acknowledged = operation.writeConcern?.isAcknowledged ?? true;
  const willRetryWrite =
    (client.retryWrites || initial.isTxnCommand) &&
    isWrite &&
    operation.canRetryWrite &&
    !initial.inTransaction &&
    !!session &&
    acknowledged &&
    retryableWritesSupported(server.description);
  const willRetryRead = client.retryReads && !isWrite && operation.canRetryRead && !initial.inTransaction;
  // Object.assign, not a spread followed by a property: much faster on Node 20.
  const state: ExecutionState = Object.assign({}, initial, { willRetryWrite });

  const maxAdaptiveRetries = client.maxAdaptiveRetries ?? DEFAULT_MAX_ADAPTIVE_RETRIES;
  const random = client.random ?? Math.random;
  const sleep = client.sleep ?? defaultSleep;
  let allowedRetries = timeout.csotEnabled ? Infinity : 1;
  const errors = new AttemptErrors();
  const deprioritized: string[] = [];

  for (let retries = 0; ; ) {
    try {
      state.attempt = retries;
      operation.retried = retries > 0;
      return await attemptOnServer(client, operation, server, session, state);
    } catch (caught) {
      if (!(caught instanceof MongoError)) throw caught;
      const error = caught;
      if (
        isWrite &&
        error instanceof MongoServerError &&
        error.code === MongoErrorCode.IllegalOperation &&
        error.message.startsWith('Transaction numbers')
      ) {
        throw new MongoServerError({
          ...error.errorResponse,
          errmsg: 'This MongoDB deployment does not support retryable writes. Please add retryWrites=false to your connection string.'
        });
      }
      // CSOT: once the deadline is reached, the timeout error is what the caller gets.
      if (error instanceof MongoOperationTimeoutError) throw error;
      errors.record(error);

      const overload = isOverloadError(error);
      const retryable =
        (isRetryableOverloadError(error) && overloadRetryAllowed(client, operation, state)) ||
        (willRetryWrite && isRetryableWriteError(error)) ||
        (willRetryRead && isRetryableReadError(error));
      if (!retryable) throw errors.result;

      retries += 1;
      // Once an overload error is seen, MAX_RETRIES bounds every retry (even under CSOT).
      if (overload) allowedRetries = maxAdaptiveRetries;
      if (retries > allowedRetries) throw errors.result;
      if (timeout.csotEnabled && timeout.expired) throw timeoutWithLabels(timeout, errors.result);

      if (client.topology.description.type === TopologyType.Sharded || (overload && client.enableOverloadRetargeting === true)) {
        deprioritized.push(server.description.address);
      }
      if (overload) {
        const backoff = overloadBackoffMS(error, retries, random);
        if (timeout.csotEnabled && backoff > timeout.remainingMS) throw errors.result;
        await sleep(backoff);
      }
      // Retries of commit/abort may go to another mongos.
      if (state.isTxnCommand && session) session.unpin();
      try {
        const selected = selectServer(client, operation, session, state, deprioritized);
        server = selected instanceof Promise ? await selected : selected;
      } catch (selectionError) {
        if (selectionError instanceof MongoOperationTimeoutError) throw timeoutWithLabels(timeout, errors.result, selectionError);
        throw errors.result;
      }
      if (willRetryWrite && !retryableWritesSupported(server.description)) throw errors.result;
    }
  }
}

/** A timeout error that exposes the last real error and keeps its labels. */
function timeoutWithLabels(timeout: TimeoutContext, cause: MongoError, timeoutError?: MongoOperationTimeoutError): MongoOperationTimeoutError {
  const error = timeoutError ?? timeout.timeoutError('Timed out while retrying', cause);
  for (const label of cause.errorLabels) error.addErrorLabel(label);
  return error;
}

async function attemptOnServer<T>(
  client: ExecutorClient,
  operation: AbstractOperation<T>,
  server: ExecutorServer,
  session: ClientSession | undefined,
  state: ExecutionState
): Promise<T> {
  const { timeout } = state;
  const loadBalanced = server.description.type === ServerType.LoadBalancer;
  // Load-balanced mode: a pinned connection is used as is (no check-out, no check-in).
  let pin = loadBalanced ? pinnedConnectionFor(operation, session, state) : undefined;
  if (pin?.closed) {
    // load-balancers.md: nothing more is sent on a pinned connection that failed (e.g. no killCursors).
    throw beforeSend(new MongoNetworkError(`The connection pinned to this ${pin.kind} is closed`));
  }
  let connection: ExecutorConnection;
  if (pin) {
    connection = pin.connection;
  } else {
    try {
      // An idle connection is taken synchronously (no promise); otherwise the pool's wait queue.
      const idle = server.tryCheckOut?.();
      if (idle !== undefined) {
        connection = idle;
      } else {
        // CSOT: checkout uses what is left of min(serverSelectionTimeoutMS, remaining timeoutMS).
        const checkoutTimeoutMS = timeout.csotEnabled ? Math.max(1, Math.floor(timeout.serverSelectionBudget(client.serverSelectionTimeoutMS).timeoutMS)) : undefined;
        connection = await server.checkOut({ timeoutMS: checkoutTimeoutMS });
      }
    } catch (error) {
      beforeSend(error);
      if (error instanceof MongoError) labelError(error, client, server.description, state, undefined);
      if (timeout.csotEnabled && error instanceof MongoWaitQueueTimeoutError) {
        throw beforeSend(timeout.timeoutError('Timed out waiting for a connection', error));
      }
      throw error;
    }
    // A transaction pins its connection at its first command, until it ends (transactions.md "When to unpin").
    if (loadBalanced && session && state.inTransaction) {
      pin = new ConnectionPin(server, connection, 'transaction');
      session.pinnedConnection = pin;
    }
  }
  try {
    if (session?.snapshotEnabled && connection.maxWireVersion < MIN_SNAPSHOT_READS_WIRE_VERSION) {
      throw beforeSend(new MongoCompatibilityError('Snapshot reads require MongoDB 5.0 or later'));
    }
    const target: CommandTarget = {
      description: server.description,
      maxWireVersion: connection.maxWireVersion,
      maxBsonObjectSize: connection.maxBsonObjectSize,
      maxMessageSizeBytes: connection.maxMessageSizeBytes,
      maxWriteBatchSize: connection.maxWriteBatchSize,
      address: connection.address,
      topologyType: client.topology.description.type
    };
    const ctx = new AttemptContext(client, operation, server, connection, session, state, target);
    const result = await operation.execute(ctx);
    // A cursor left open on the server pins the connection for its getMores and killCursors.
    if (loadBalanced && !pin && operation.hasAspect(Aspect.CURSOR_CREATING) && isOpenCursor(result)) {
      pin = new ConnectionPin(server, connection, 'cursor');
      result.pinnedConnection = pin;
    }
    return result;
  } catch (error) {
    let thrown = error;
    let transient = false;
    if (error instanceof MongoError) {
      labelError(error, client, server.description, state, connection);
      const sent = !noAttemptErrors.has(error);
      if (session && sent && (error instanceof MongoNetworkError || error instanceof MongoOperationTimeoutError)) session.markDirty();
      transient = error.hasErrorLabel(MongoErrorLabel.TransientTransactionError);
      if (timeout.csotEnabled && isMaxTimeMSExpired(error)) {
        thrown = timeout.timeoutError('The server reported MaxTimeMSExpired', error);
        for (const label of error.errorLabels) (thrown as MongoError).addErrorLabel(label);
      }
    }
    if (!noAttemptErrors.has(error as object)) server.handleError(error, connection);
    // After SDAM error handling, so a pinned connection is checked in after its pool was cleared.
    if (session && transient) session.unpin();
    throw thrown;
  } finally {
    if (!pin) server.checkIn(connection);
  }
}

/** What an operation sees of one attempt; `runCommand` is a method (no closure per attempt). */
class AttemptContext implements OperationContext {
  readonly attempt: number;

  constructor(
    private readonly client: ExecutorClient,
    private readonly operation: AbstractOperation,
    private readonly server: ExecutorServer,
    private readonly connection: ExecutorConnection,
    readonly session: ClientSession | undefined,
    private readonly state: ExecutionState,
    readonly target: CommandTarget
  ) {
    this.attempt = state.attempt;
  }

  runCommand(db: string, command: Document, sendOptions?: CommandSendOptions): Promise<Document> {
    return runCommand(this.client, this.operation, this.server, this.connection, this.session, db, command, sendOptions, this.state);
  }
}

/**
 * Load-balanced mode: the connection an operation must run on, if any: its cursor's pin
 * (getMore, killCursors), else the pin of the transaction it belongs to (commit and abort
 * included; their retries run unpinned, as the session is unpinned before a retry).
 */
function pinnedConnectionFor(operation: AbstractOperation, session: ClientSession | undefined, state: ExecutionState): ConnectionPin | undefined {
  const own = operation.pinnedConnection;
  if (own instanceof ConnectionPin && !own.isReleased) return own;
  const transactionPin = session?.pinnedConnection;
  if (transactionPin instanceof ConnectionPin && !transactionPin.isReleased && (state.inTransaction || state.isTxnCommand)) return transactionPin;
  return undefined;
}

/** A cursor-creating reply whose server cursor is still open. */
function isOpenCursor(result: unknown): result is CursorCreation {
  if (typeof result !== 'object' || result === null) return false;
  const id = (result as Partial<CursorCreation>).id;
  return Long.isLong(id) && !id.isZero();
}

/**
 * Driver-side labels: TransientTransactionError for network / selection errors inside a
 * transaction; otherwise RetryableWriteError for network errors and (pre-4.4) retryable codes.
 */
function labelError(
  error: MongoError,
  client: ExecutorClient,
  description: ServerDescription,
  state: ExecutionState,
  connection: ExecutorConnection | undefined
): void {
  if (state.inTransaction) {
    if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) {
      error.addErrorLabel(MongoErrorLabel.TransientTransactionError);
    }
    return;
  }
  if (!(client.retryWrites || state.isTxnCommand) || !retryableWritesSupported(description)) return;
  if (error instanceof MongoNetworkError) {
    error.addErrorLabel(MongoErrorLabel.RetryableWriteError);
    return;
  }
  if (error instanceof MongoServerError && connection && connection.maxWireVersion < WIRE_VERSION_44 && isLegacyRetryableWriteError(error)) {
    error.addErrorLabel(MongoErrorLabel.RetryableWriteError);
  }
}

function greaterClusterTime(a?: ClusterTime, b?: ClusterTime): ClusterTime | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.clusterTime.compare(a.clusterTime) > 0 ? b : a;
}

function firstKey(doc: Document): string {
  for (const key in doc) return key;
  return '';
}

/** Decorates the command with session, transaction, concerns, cluster time, read preference and maxTimeMS; runs it; gossips. */
async function runCommand(
  client: ExecutorClient,
  operation: AbstractOperation,
  server: ExecutorServer,
  connection: ExecutorConnection,
  session: ClientSession | undefined,
  db: string,
  command: Document,
  sendOptions: CommandSendOptions | undefined,
  state: ExecutionState
): Promise<Document> {
  const description = server.description;
  // Object.assign, not a spread: on Node 20 adding properties to a spread copy is much slower
  // (a spread keeps an own `__proto__` key a key, Object.assign would make it the prototype).
  const cmd: Document = Object.hasOwn(command, '__proto__') ? { ...command } : Object.assign({}, command);
  const name = firstKey(cmd);
  const unacknowledged = isUnacknowledged(operation, session);
  const supportsSessions = sessionsSupported(description);
  if (session?.explicit && !supportsSessions) throw beforeSend(new MongoCompatibilityError('Current topology does not support sessions'));
  const useSession = !!session && supportsSessions && !unacknowledged;
  const txn = session?.transaction;
  const startingTransaction = state.inTransaction && txn?.state === TxnState.STARTING_TRANSACTION;

  if (useSession && session) {
    cmd.lsid = session.id;
    session.serverSession.lastUse = Date.now();
    if (state.inTransaction || state.isTxnCommand) {
      cmd.txnNumber = Long.fromNumber(session.currentTxnNumber());
      cmd.autocommit = false;
      if (startingTransaction) cmd.startTransaction = true;
    } else if (state.willRetryWrite) {
      // txnNumber: assigned once (after checkout), reused on every retry.
      if (state.txnNumber === undefined) {
        session.incrementTransactionNumber();
        state.txnNumber = session.currentTxnNumber();
      }
      cmd.txnNumber = Long.fromNumber(state.txnNumber);
    }
  }

  // Read concern.
  if (state.inTransaction || state.isTxnCommand) {
    // Only the first command of a transaction carries one: the transaction's, plus afterClusterTime.
    delete cmd.readConcern;
    if (startingTransaction && session && txn) {
      const readConcern: Document = { ...(txn.options.readConcern?.toJSON() ?? {}) };
      if (session.causalConsistency && session.operationTime) readConcern.afterClusterTime = session.operationTime;
      if (Object.keys(readConcern).length > 0) cmd.readConcern = readConcern;
    }
  } else {
    let readConcern: Document | undefined = cmd.readConcern ? { ...(cmd.readConcern as Document) } : undefined;
    if (!readConcern && operation.supportsReadConcern && operation.readConcern && !operation.readConcern.isServerDefault) {
      readConcern = operation.readConcern.toJSON();
    }
    if (session?.snapshotEnabled) {
      // Every command of a snapshot session (writes too: the server rejects them, as the spec's
      // snapshot-sessions-unsupported-ops tests expect), except cursor continuation.
      if (!NO_READ_CONCERN_COMMANDS.has(name)) {
        readConcern = { ...readConcern, level: 'snapshot' };
        if (session.snapshotTime) readConcern.atClusterTime = session.snapshotTime;
      }
    } else if (useSession && session?.causalConsistency && session.operationTime && AFTER_CLUSTER_TIME_COMMANDS.has(name)) {
      readConcern = { ...readConcern, afterClusterTime: session.operationTime };
    }
    if (readConcern && Object.keys(readConcern).length > 0) cmd.readConcern = readConcern;
  }

  // Write concern: never inside a transaction (commit/abort build their own).
  if (state.inTransaction) {
    delete cmd.writeConcern;
  } else if (!state.isTxnCommand && operation.supportsWriteConcern && cmd.writeConcern === undefined && operation.writeConcern && !operation.writeConcern.isServerDefault) {
    cmd.writeConcern = operation.writeConcern.toJSON();
  }
  // CSOT: wtimeoutMS is deprecated and ignored when timeoutMS is set.
  if (state.timeout.csotEnabled && cmd.writeConcern && (cmd.writeConcern as Document).wtimeout !== undefined) {
    const { wtimeout: _ignored, ...rest } = cmd.writeConcern as Document;
    cmd.writeConcern = rest;
  }

  // Cluster time gossip: the greater of the client's and the session's.
  const clusterTime = greaterClusterTime(client.topology.clusterTime, session?.clusterTime);
  if (clusterTime && description.type !== ServerType.Standalone) cmd.$clusterTime = clusterTime;

  // Read preference for mongos, load balancers and direct connections.
  // (Writes use primary: on a direct connection to a replica-set member that is sent as primaryPreferred.)
  const omitReadPreference = operation.trySecondaryWrite && connection.maxWireVersion < MIN_SECONDARY_WRITE_WIRE_VERSION;
  if (!omitReadPreference) {
    const readPreference = operation.hasAspect(Aspect.WRITE_OPERATION) ? undefined : state.readPreference;
    const rp = readPreferenceForCommand(readPreference, client.topology.description.type, description.type);
    if (rp) cmd.$readPreference = rp;
  }

  // CSOT: maxTimeMS = remaining − min RTT, checked last, after all blocking work.
  let commandTimeoutMS: number | undefined;
  if (state.timeout.csotEnabled) {
    let maxTimeMS: number | undefined;
    try {
      maxTimeMS = state.timeout.maxTimeMSFor(description.minRoundTripTime);
    } catch (error) {
      throw beforeSend(error);
    }
    if (maxTimeMS !== undefined && !state.omitMaxTimeMS && !description.iscryptd) cmd.maxTimeMS = maxTimeMS;
    commandTimeoutMS = state.timeout.commandTimeoutMS();
  }

  let reply: Document;
  try {
    reply = await connection.command(db, cmd, {
      sequences: sendOptions?.sequences,
      moreToCome: sendOptions?.moreToCome ?? unacknowledged,
      bson: sendOptions?.bson,
      timeoutMS: commandTimeoutMS
    });
  } catch (error) {
    if (error instanceof MongoServerError) gossip(client, session, error.errorResponse);
    // The first command completed (even with an error): the transaction is in progress, unless
    // the server shed it for overload and it will be retried as the first command.
    if (startingTransaction && !(error instanceof MongoError && error.hasErrorLabel(MongoErrorLabel.RetryableError))) txn?.markStarted();
    throw error;
  }
  if (startingTransaction) txn?.markStarted();
  gossip(client, session, reply);
  if (session?.snapshotEnabled && !session.snapshotTime) {
    const atClusterTime = ((reply.cursor as Document | undefined)?.atClusterTime ?? reply.atClusterTime) as Timestamp | undefined;
    if (atClusterTime) session.snapshotTime = atClusterTime;
  }
  if (txn && (state.inTransaction || state.isTxnCommand) && reply.recoveryToken) txn.recoveryToken = reply.recoveryToken as Document;
  return reply;
}

function gossip(client: ExecutorClient, session: ClientSession | undefined, reply: Document): void {
  const clusterTime = reply.$clusterTime as ClusterTime | undefined;
  if (clusterTime && clusterTime.clusterTime) {
    client.topology.clusterTime = greaterClusterTime(client.topology.clusterTime, clusterTime);
    if (session && !session.hasEnded) session.advanceClusterTime(clusterTime);
  }
  const operationTime = reply.operationTime as Timestamp | undefined;
  if (operationTime && session && !session.hasEnded) session.advanceOperationTime(operationTime);
}

