/**
 * The executor and retry engine: the one path every operation takes.
 *
 *   select server → check out → decorate command (session, concerns, cluster time, read preference)
 *   → connection.command → gossip cluster/operation time → on error: SDAM handling, labels, retry once.
 *
 * Retry rules: retryable-writes.md and retryable-reads.md ("Retryable Error", deprioritized servers on
 * sharded clusters, NoWritesPerformed error selection, txnNumber assigned once and reused).
 */
import { Long, type Document, type Timestamp } from 'bson';
import {
  MongoError,
  MongoErrorLabel,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoPoolClearedError,
  MongoServerError,
  MongoTransactionError,
  MongoExpiredSessionError,
  MongoDriverError,
  MongoErrorCode,
  MongoServerSelectionError
} from '../errors';
import { ReadPreferenceMode, readPreferenceForCommand } from '../read_preference';
import { ClientSession, type ClusterTime, type SessionOwner, TxnState } from '../sessions';
import {
  MIN_SECONDARY_WRITE_WIRE_VERSION,
  readPreferenceServerSelector,
  secondaryWritableServerSelector,
  writableServerSelector,
  type ServerSelector
} from '../sdam/server_selection';
import { ServerType, TopologyType, type ServerDescription, type TopologyDescription } from '../sdam/types';
import type { DocumentSequence } from '../wire';
import { Aspect, type AbstractOperation, type CommandSendOptions, type CommandTarget, type OperationContext } from './operation';

/** A checked-out connection, as the executor sees it. */
export interface ExecutorConnection {
  readonly address: string;
  readonly maxWireVersion: number;
  readonly maxBsonObjectSize: number;
  readonly maxMessageSizeBytes: number;
  readonly maxWriteBatchSize: number;
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
  checkIn(connection: ExecutorConnection): void;
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
  selectServer(selector: ServerSelector, options: SelectServerOptions): Promise<ExecutorServer>;
  /** The client-wide greatest `$clusterTime`. */
  clusterTime?: ClusterTime;
}

export interface ExecutorClient {
  readonly topology: ExecutorTopology;
  readonly retryReads: boolean;
  readonly retryWrites: boolean;
  readonly sessionOwner: SessionOwner;
}

const RETRYABLE_CODES = new Set<number>([
  MongoErrorCode.HostUnreachable,
  MongoErrorCode.HostNotFound,
  MongoErrorCode.NetworkTimeout,
  MongoErrorCode.ShutdownInProgress,
  MongoErrorCode.PrimarySteppedDown,
  MongoErrorCode.ExceededTimeLimit,
  MongoErrorCode.SocketException,
  MongoErrorCode.NotWritablePrimary,
  MongoErrorCode.InterruptedAtShutdown,
  MongoErrorCode.InterruptedDueToReplStateChange,
  MongoErrorCode.NotPrimaryNoSecondaryOk,
  MongoErrorCode.NotPrimaryOrSecondary
]);
const RETRYABLE_READ_CODES = new Set<number>([...RETRYABLE_CODES, MongoErrorCode.ReadConcernMajorityNotAvailableYet]);

/** 4.4 (wire 9) servers label retryable write errors themselves. */
const WIRE_VERSION_44 = 9;

export function isRetryableReadError(error: unknown): boolean {
  if (error instanceof MongoNetworkError) return true;
  if (error instanceof MongoServerError && typeof error.code === 'number') return RETRYABLE_READ_CODES.has(error.code);
  return false;
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

function selectorFor(operation: AbstractOperation, topology: TopologyDescription): ServerSelector {
  if (operation.serverAddress) {
    const address = operation.serverAddress;
    return {
      description: `the server ${address} that owns this cursor`,
      validate: () => undefined,
      suitable: (_t, candidates) => candidates.filter((s) => s.address === address && s.type !== ServerType.Unknown)
    };
  }
  if (operation.hasAspect(Aspect.WRITE_OPERATION)) return writableServerSelector();
  if (operation.trySecondaryWrite) return secondaryWritableServerSelector(commonWireVersion(topology), operation.readPreference);
  return readPreferenceServerSelector(operation.readPreference);
}

/**
 * Runs an operation with server selection, sessions and retries.
 * Implicit sessions created here are ended here; cursor operations pass their own session.
 */
export async function executeOperation<T>(client: ExecutorClient, operation: AbstractOperation<T>): Promise<T> {
  const unacknowledged = operation.writeConcern !== undefined && !operation.writeConcern.isAcknowledged;
  let session = operation.session;
  let ownsSession = false;
  if (session) {
    if (session.hasEnded) throw new MongoExpiredSessionError();
    if (unacknowledged && session.explicit) {
      throw new MongoInvalidArgumentError('Cannot use an explicit session with an unacknowledged write concern (w: 0)');
    }
    if (session.snapshotEnabled && operation.hasAspect(Aspect.WRITE_OPERATION)) {
      throw new MongoInvalidArgumentError('Write operations are not supported in snapshot sessions');
    }
  } else if (!unacknowledged && !operation.hasAspect(Aspect.NO_SESSION)) {
    session = new ClientSession(client.sessionOwner, {}, false);
    ownsSession = true;
  }
  if (session?.inTransaction && operation.hasAspect(Aspect.READ_OPERATION) && operation.readPreference.mode !== ReadPreferenceMode.primary) {
    throw new MongoTransactionError(`Read preference in a transaction must be primary, not: ${operation.readPreference.mode}`);
  }

  try {
    return await executeWithRetries(client, operation, session);
  } finally {
    if (ownsSession && session) await session.endSession();
  }
}

async function executeWithRetries<T>(client: ExecutorClient, operation: AbstractOperation<T>, session: ClientSession | undefined): Promise<T> {
  const selector = selectorFor(operation, client.topology.description);
  const timeoutMS = operation.options.timeoutMS;
  let server = await client.topology.selectServer(selector, { operationName: operation.commandName, timeoutMS });

  const inTransaction = session?.inTransaction ?? false;
  const isWrite = operation.hasAspect(Aspect.WRITE_OPERATION);
  const willRetryWrite =
    client.retryWrites && isWrite && operation.canRetryWrite && !inTransaction && !!session && retryableWritesSupported(server.description) &&
    (operation.writeConcern?.isAcknowledged ?? true);
  const willRetryRead = client.retryReads && !isWrite && operation.canRetryRead && !inTransaction;

  if (willRetryWrite && session) session.serverSession.txnNumber += 1;
  const txnNumber = willRetryWrite && session ? session.serverSession.txnNumber : undefined;

  let previousError: MongoError | undefined;
  const deprioritized: string[] = [];
  for (let attempt = 0; ; attempt++) {
    try {
      operation.retried = attempt > 0;
      return await attemptOnServer(client, operation, server, session, { attempt, txnNumber, retryWrites: willRetryWrite });
    } catch (caught) {
      const error = caught instanceof MongoError ? caught : undefined;
      if (!error) throw caught;
      const retryable = willRetryWrite
        ? error.hasErrorLabel(MongoErrorLabel.RetryableWriteError)
        : willRetryRead && (isRetryableReadError(error) || error instanceof MongoPoolClearedError);
      if (!retryable) {
        if (
          error instanceof MongoServerError && error.code === MongoErrorCode.IllegalOperation &&
          error.message.startsWith('Transaction numbers')
        ) {
          throw new MongoServerError({
            ...error.errorResponse,
            errmsg: 'This MongoDB deployment does not support retryable writes. Please add retryWrites=false to your connection string.'
          });
        }
        throw error;
      }
      // Writes: keep the latest error that shows a write was attempted (NoWritesPerformed rules).
      previousError = willRetryWrite && previousError ? chooseWriteError(previousError, error) : error;
      if (attempt >= 1) throw previousError;
      if (client.topology.description.type === TopologyType.Sharded || error.hasErrorLabel(MongoErrorLabel.SystemOverloadedError)) {
        deprioritized.push(server.description.address);
      }
      try {
        server = await client.topology.selectServer(selector, { operationName: operation.commandName, deprioritized, timeoutMS });
      } catch {
        throw previousError;
      }
      if (willRetryWrite && !retryableWritesSupported(server.description)) throw previousError;
    }
  }
}

/** NoWritesPerformed rules: return the latest error that indicates a write was attempted. */
function chooseWriteError(previous: MongoError, current: MongoError): MongoError {
  return indicatesNoWrite(current) ? previous : current;
}

/** Errors raised before a command was sent, or labelled NoWritesPerformed by the server. */
function indicatesNoWrite(error: MongoError): boolean {
  return (
    error.hasErrorLabel(MongoErrorLabel.NoWritesPerformed) ||
    error instanceof MongoDriverError ||
    error instanceof MongoPoolClearedError ||
    error instanceof MongoServerSelectionError
  );
}

interface AttemptOptions {
  attempt: number;
  txnNumber?: number;
  retryWrites: boolean;
}

async function attemptOnServer<T>(
  client: ExecutorClient,
  operation: AbstractOperation<T>,
  server: ExecutorServer,
  session: ClientSession | undefined,
  attemptOptions: AttemptOptions
): Promise<T> {
  let connection: ExecutorConnection;
  try {
    connection = await server.checkOut({ timeoutMS: operation.options.timeoutMS });
  } catch (error) {
    if (error instanceof MongoError) labelError(error, client, operation, session, undefined);
    throw error;
  }
  try {
    const target: CommandTarget = {
      description: server.description,
      maxWireVersion: connection.maxWireVersion,
      maxBsonObjectSize: connection.maxBsonObjectSize,
      maxMessageSizeBytes: connection.maxMessageSizeBytes,
      maxWriteBatchSize: connection.maxWriteBatchSize,
      address: connection.address,
      topologyType: client.topology.description.type
    };
    const ctx: OperationContext = {
      target,
      session,
      attempt: attemptOptions.attempt,
      runCommand: (db, command, sendOptions) => runCommand(client, operation, server, connection, session, db, command, sendOptions, attemptOptions)
    };
    return await operation.execute(ctx);
  } catch (error) {
    if (error instanceof MongoError) {
      labelError(error, client, operation, session, connection);
      if (error instanceof MongoNetworkError && session) session.markDirty();
    }
    server.handleError(error, connection);
    throw error;
  } finally {
    server.checkIn(connection);
  }
}

/** Adds the driver-side RetryableWriteError label where the spec says so. */
function labelError(
  error: MongoError,
  client: ExecutorClient,
  operation: AbstractOperation,
  session: ClientSession | undefined,
  connection: ExecutorConnection | undefined
): void {
  if (!client.retryWrites || !operation.canRetryWrite || session?.inTransaction) return;
  if (error instanceof MongoNetworkError || error instanceof MongoPoolClearedError) {
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

/** Decorates the command with session, concerns, cluster time and read preference, runs it, gossips. */
async function runCommand(
  client: ExecutorClient,
  operation: AbstractOperation,
  server: ExecutorServer,
  connection: ExecutorConnection,
  session: ClientSession | undefined,
  db: string,
  command: Document,
  sendOptions: CommandSendOptions | undefined,
  attempt: AttemptOptions
): Promise<Document> {
  const description = server.description;
  const cmd: Document = { ...command };
  const unacknowledged = operation.writeConcern !== undefined && !operation.writeConcern.isAcknowledged;
  const useSession = session && sessionsSupported(description) && !unacknowledged;
  const inTransaction = !!session?.inTransaction;

  if (useSession && session) {
    cmd.lsid = session.id;
    session.serverSession.lastUse = Date.now();
    if (inTransaction) {
      cmd.txnNumber = toLong(session.serverSession.txnNumber);
      cmd.autocommit = false;
      if (session.transaction.state === TxnState.STARTING_TRANSACTION) cmd.startTransaction = true;
    } else if (attempt.txnNumber !== undefined) {
      cmd.txnNumber = toLong(attempt.txnNumber);
    }
  }

  // Read concern: the operation's, plus causal consistency / snapshot fields.
  if (operation.supportsReadConcern && !(inTransaction && session?.transaction.state !== TxnState.STARTING_TRANSACTION)) {
    const readConcern: Document = inTransaction
      ? { ...(session?.transaction.options.readConcern ?? cmd.readConcern ?? {}) }
      : { ...(cmd.readConcern ?? operation.readConcern?.toJSON() ?? {}) };
    if (session?.snapshotEnabled) {
      readConcern.level = 'snapshot';
      if (session.snapshotTime) readConcern.atClusterTime = session.snapshotTime;
    } else if (session && session.options.causalConsistency && session.operationTime && useSession) {
      readConcern.afterClusterTime = session.operationTime;
    }
    if (Object.keys(readConcern).length > 0) cmd.readConcern = readConcern;
    else delete cmd.readConcern;
  } else if (inTransaction) {
    delete cmd.readConcern;
  }

  // Write concern: never inside a transaction (only on commit/abort, which set it themselves).
  if (operation.supportsWriteConcern && !inTransaction && cmd.writeConcern === undefined && operation.writeConcern && !operation.writeConcern.isServerDefault) {
    cmd.writeConcern = operation.writeConcern.toJSON();
  }
  if (inTransaction && operation.commandName !== 'commitTransaction' && operation.commandName !== 'abortTransaction') {
    delete cmd.writeConcern;
  }

  // Cluster time gossip.
  const clusterTime = greaterClusterTime(client.topology.clusterTime, session?.clusterTime);
  if (clusterTime && description.type !== ServerType.Standalone && connection.maxWireVersion >= 6) cmd.$clusterTime = clusterTime;

  // Read preference for mongos, load balancers and direct connections.
  const omitReadPreference = operation.trySecondaryWrite && connection.maxWireVersion < MIN_SECONDARY_WRITE_WIRE_VERSION;
  if (!operation.hasAspect(Aspect.WRITE_OPERATION) && !omitReadPreference) {
    const rp = readPreferenceForCommand(operation.readPreference, client.topology.description.type, description.type);
    if (rp) cmd.$readPreference = rp;
  }

  let reply: Document;
  try {
    reply = await connection.command(db, cmd, {
      sequences: sendOptions?.sequences,
      moreToCome: sendOptions?.moreToCome ?? unacknowledged,
      bson: sendOptions?.bson
    });
  } catch (error) {
    if (error instanceof MongoServerError) gossip(client, session, error.errorResponse);
    throw error;
  }
  gossip(client, session, reply);
  if (session?.snapshotEnabled && !session.snapshotTime) {
    const atClusterTime = (reply.cursor as Document | undefined)?.atClusterTime ?? reply.atClusterTime;
    if (atClusterTime) session.snapshotTime = atClusterTime as Timestamp;
  }
  if (inTransaction && session && reply.recoveryToken) session.transaction.recoveryToken = reply.recoveryToken as Document;
  return reply;
}

function gossip(client: ExecutorClient, session: ClientSession | undefined, reply: Document): void {
  const clusterTime = reply.$clusterTime as ClusterTime | undefined;
  if (clusterTime && clusterTime.clusterTime) {
    client.topology.clusterTime = greaterClusterTime(client.topology.clusterTime, clusterTime);
    session?.advanceClusterTime(clusterTime);
  }
  const operationTime = reply.operationTime as Timestamp | undefined;
  if (operationTime && session) session.advanceOperationTime(operationTime);
}

function toLong(n: number): Long {
  return Long.fromNumber(n);
}
