/**
 * The error hierarchy. Names and shapes follow the official Node.js driver so that
 * `instanceof` checks and `code`/`codeName`/`errorLabels` port unchanged.
 *
 * MongoError
 * ├── MongoDriverError                 (raised by the driver itself)
 * │   ├── MongoAPIError                (the caller used the API wrongly)
 * │   │   ├── MongoInvalidArgumentError
 * │   │   ├── MongoCompatibilityError
 * │   │   ├── MongoMissingCredentialsError
 * │   │   ├── MongoTransactionError
 * │   │   ├── MongoExpiredSessionError
 * │   │   ├── MongoTopologyClosedError
 * │   │   └── MongoNotConnectedError
 * │   ├── MongoRuntimeError            (the driver hit a state it cannot handle)
 * │   │   ├── MongoParseError          (connection string / options)
 * │   │   ├── MongoProtocolError       (bad bytes on the wire)
 * │   │   ├── MongoUnexpectedServerResponseError
 * │   │   ├── MongoChangeStreamError
 * │   │   └── MongoGridFSStreamError / MongoGridFSChunkError
 * │   ├── MongoOperationTimeoutError   (CSOT timeoutMS expired)
 * │   └── MongoAuthenticationError     (client-side auth failure: bad server signature, …)
 * ├── MongoNetworkError                (socket level)
 * │   ├── MongoNetworkTimeoutError
 * │   └── MongoPoolClearedError        (CMAP: pool was cleared while waiting)
 * ├── MongoServerError                 (the server answered ok: 0)
 * │   ├── MongoWriteConcernError
 * │   └── MongoBulkWriteError
 * ├── MongoServerSelectionError / MongoSystemError
 * ├── MongoWaitQueueTimeoutError       (CMAP: WaitQueueTimeoutError)
 * └── MongoPoolClosedError             (CMAP: PoolClosedError)
 */
import type { Document } from 'bson';

/** Labels the specifications attach to errors. */
export const MongoErrorLabel = Object.freeze({
  RetryableWriteError: 'RetryableWriteError',
  TransientTransactionError: 'TransientTransactionError',
  UnknownTransactionCommitResult: 'UnknownTransactionCommitResult',
  ResumableChangeStreamError: 'ResumableChangeStreamError',
  HandshakeError: 'HandshakeError',
  ResetPool: 'ResetPool',
  PoolRequestedRetry: 'PoolRequstedRetry',
  InterruptInUseConnections: 'InterruptInUseConnections',
  NoWritesPerformed: 'NoWritesPerformed',
  SystemOverloadedError: 'SystemOverloadedError',
  RetryableError: 'RetryableError'
} as const);
export type MongoErrorLabelName = (typeof MongoErrorLabel)[keyof typeof MongoErrorLabel] | string;

export interface MongoErrorOptions {
  cause?: unknown;
}

export class MongoError extends Error {
  /** Numeric server or driver error code, when there is one. */
  code?: number | string;
  protected readonly labels = new Set<string>();

  constructor(message: string, options?: MongoErrorOptions) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
  }

  override get name(): string {
    return 'MongoError';
  }

  get errorLabels(): string[] {
    return Array.from(this.labels);
  }

  hasErrorLabel(label: MongoErrorLabelName): boolean {
    return this.labels.has(label);
  }

  addErrorLabel(label: MongoErrorLabelName): void {
    this.labels.add(label);
  }

  /** Spec-compatible alias of `message`. */
  get errmsg(): string {
    return this.message;
  }
}

export class MongoDriverError extends MongoError {
  override get name(): string {
    return 'MongoDriverError';
  }
}

export class MongoAPIError extends MongoDriverError {
  override get name(): string {
    return 'MongoAPIError';
  }
}

export class MongoInvalidArgumentError extends MongoAPIError {
  override get name(): string {
    return 'MongoInvalidArgumentError';
  }
}

export class MongoCompatibilityError extends MongoAPIError {
  override get name(): string {
    return 'MongoCompatibilityError';
  }
}

export class MongoMissingCredentialsError extends MongoAPIError {
  override get name(): string {
    return 'MongoMissingCredentialsError';
  }
}

export class MongoTransactionError extends MongoAPIError {
  override get name(): string {
    return 'MongoTransactionError';
  }
}

export class MongoExpiredSessionError extends MongoAPIError {
  constructor(message = 'Cannot use a session that has ended', options?: MongoErrorOptions) {
    super(message, options);
  }
  override get name(): string {
    return 'MongoExpiredSessionError';
  }
}

export class MongoTopologyClosedError extends MongoAPIError {
  constructor(message = 'Topology is closed', options?: MongoErrorOptions) {
    super(message, options);
  }
  override get name(): string {
    return 'MongoTopologyClosedError';
  }
}

export class MongoNotConnectedError extends MongoAPIError {
  override get name(): string {
    return 'MongoNotConnectedError';
  }
}

export class MongoRuntimeError extends MongoDriverError {
  override get name(): string {
    return 'MongoRuntimeError';
  }
}

/** An invalid connection string or option. Never contains a password. */
export class MongoParseError extends MongoRuntimeError {
  override get name(): string {
    return 'MongoParseError';
  }
}

/** Bytes on the wire that do not form a valid message. The connection is closed. */
export class MongoProtocolError extends MongoRuntimeError {
  override get name(): string {
    return 'MongoProtocolError';
  }
}

export class MongoUnexpectedServerResponseError extends MongoRuntimeError {
  override get name(): string {
    return 'MongoUnexpectedServerResponseError';
  }
}

export class MongoChangeStreamError extends MongoRuntimeError {
  override get name(): string {
    return 'MongoChangeStreamError';
  }
}

export class MongoGridFSStreamError extends MongoRuntimeError {
  override get name(): string {
    return 'MongoGridFSStreamError';
  }
}

export class MongoGridFSChunkError extends MongoRuntimeError {
  override get name(): string {
    return 'MongoGridFSChunkError';
  }
}

/** A client-side operation timeout (`timeoutMS`) expired. */
export class MongoOperationTimeoutError extends MongoDriverError {
  override get name(): string {
    return 'MongoOperationTimeoutError';
  }
}

/** Authentication failed on the client side (bad server proof, nonce, iteration count…). */
export class MongoAuthenticationError extends MongoDriverError {
  override get name(): string {
    return 'MongoAuthenticationError';
  }
}

export interface MongoNetworkErrorOptions extends MongoErrorOptions {
  /** The error happened before the handshake completed. */
  beforeHandshake?: boolean;
}

export class MongoNetworkError extends MongoError {
  readonly beforeHandshake: boolean;

  constructor(message: string, options?: MongoNetworkErrorOptions) {
    super(message, options);
    this.beforeHandshake = !!options?.beforeHandshake;
  }

  override get name(): string {
    return 'MongoNetworkError';
  }
}

export class MongoNetworkTimeoutError extends MongoNetworkError {
  override get name(): string {
    return 'MongoNetworkTimeoutError';
  }
}

/** CMAP: the pool was cleared while this request waited or while the connection was in use. */
export class MongoPoolClearedError extends MongoNetworkError {
  readonly address: string;
  constructor(address: string, message?: string, options?: MongoNetworkErrorOptions) {
    super(message ?? `Connection pool for ${address} was cleared because another operation failed`, options);
    this.address = address;
    this.addErrorLabel(MongoErrorLabel.RetryableWriteError);
  }
  override get name(): string {
    return 'MongoPoolClearedError';
  }
}

/** CMAP: WaitQueueTimeoutError. */
export class MongoWaitQueueTimeoutError extends MongoDriverError {
  readonly address: string;
  constructor(address: string, message?: string) {
    super(message ?? `Timed out while checking out a connection from connection pool ${address}`);
    this.address = address;
  }
  override get name(): string {
    return 'MongoWaitQueueTimeoutError';
  }
}

/** CMAP: PoolClosedError. */
export class MongoPoolClosedError extends MongoDriverError {
  readonly address: string;
  constructor(address: string, message?: string) {
    super(message ?? `Attempted to check out a connection from closed connection pool ${address}`);
    this.address = address;
  }
  override get name(): string {
    return 'MongoPoolClosedError';
  }
}

export interface ServerErrorResponse extends Document {
  ok?: number;
  errmsg?: string;
  code?: number;
  codeName?: string;
  errorLabels?: string[];
  errInfo?: Document;
  writeConcernError?: Document;
  topologyVersion?: Document;
}

/** The server answered `ok: 0` (or reported a write concern error). */
export class MongoServerError extends MongoError {
  declare code?: number;
  codeName?: string;
  errInfo?: Document;
  /** The whole server reply that carried this error. */
  readonly errorResponse: ServerErrorResponse;
  /** Other top-level fields of the reply (`topologyVersion`, `writeConcernError`, …). */
  [key: string]: unknown;

  constructor(response: ServerErrorResponse, options?: MongoErrorOptions) {
    super(String(response.errmsg ?? response.$err ?? response.message ?? 'Server error'), options);
    this.errorResponse = response;
    for (const [k, v] of Object.entries(response)) {
      if (k === 'errorLabels' || k === 'errmsg' || k === 'message' || k === 'name' || k === 'stack') continue;
      (this as Record<string, unknown>)[k] = v;
    }
    if (Array.isArray(response.errorLabels)) {
      for (const label of response.errorLabels) this.addErrorLabel(String(label));
    }
  }

  override get name(): string {
    return 'MongoServerError';
  }
}

/** A write concern error from a write that otherwise succeeded. */
export class MongoWriteConcernError extends MongoServerError {
  /** The write's result, when there was one. */
  readonly result?: Document;
  constructor(response: ServerErrorResponse & { writeConcernError: Document }, result?: Document) {
    const wce = response.writeConcernError;
    super({
      ...response,
      ...wce,
      errorLabels: [...(response.errorLabels ?? []), ...((wce.errorLabels as string[] | undefined) ?? [])]
    });
    this.result = result;
  }

  override get name(): string {
    return 'MongoWriteConcernError';
  }
}

export class MongoServerSelectionError extends MongoError {
  /** A description of what was known of the topology when selection gave up. */
  readonly reason?: unknown;
  constructor(message: string, reason?: unknown, options?: MongoErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
  override get name(): string {
    return 'MongoServerSelectionError';
  }
}

export class MongoSystemError extends MongoError {
  override get name(): string {
    return 'MongoSystemError';
  }
}

/** Server error codes the SDAM and retry specifications name. */
export const MongoErrorCode = Object.freeze({
  HostUnreachable: 6,
  HostNotFound: 7,
  AuthenticationFailed: 18,
  NetworkTimeout: 89,
  ShutdownInProgress: 91,
  PrimarySteppedDown: 189,
  ExceededTimeLimit: 262,
  SocketException: 9001,
  NotWritablePrimary: 10107,
  InterruptedAtShutdown: 11600,
  InterruptedDueToReplStateChange: 11602,
  NotPrimaryNoSecondaryOk: 13435,
  NotPrimaryOrSecondary: 13436,
  StaleShardVersion: 63,
  StaleEpoch: 150,
  StaleConfig: 13388,
  RetryChangeStream: 234,
  FailedToSatisfyReadPreference: 133,
  CursorNotFound: 43,
  LegacyNotPrimary: 10058,
  WriteConcernFailed: 64,
  MaxTimeMSExpired: 50,
  UnknownReplWriteConcern: 79,
  UnsatisfiableWriteConcern: 100,
  DuplicateKey: 11000,
  IllegalOperation: 20,
  Reauthenticate: 391,
  NoSuchTransaction: 251,
  ReadConcernMajorityNotAvailableYet: 134,
  CannotSatisfyWriteConcern: 100
} as const);

/**
 * The server error codes the retryable-writes spec lists ("Determining Retryable Errors"); the
 * retryable-reads and change-streams specs extend this list with codes of their own.
 */
export const RETRYABLE_ERROR_CODES: ReadonlySet<number> = new Set([
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

/** True when `error` is a network error (including timeouts and pool-cleared errors). */
export function isNetworkError(error: unknown): error is MongoNetworkError {
  return error instanceof MongoNetworkError;
}

/** One failed write of a collection-level bulk write (`writeErrors[i]`), index remapped to the caller's list. */
export interface BulkWriteErrorLike {
  readonly index: number;
  readonly code: number;
  readonly errmsg?: string;
  readonly errInfo?: Document;
  /** The statement that failed, as it was sent (the document with its `_id` for an insert). */
  getOperation(): Document | undefined;
}

/** The counts and ids of a collection-level bulk write (implemented by BulkWriteResult). */
export interface BulkWriteResultLike {
  readonly insertedCount: number;
  readonly matchedCount: number;
  readonly modifiedCount: number;
  readonly deletedCount: number;
  readonly upsertedCount: number;
  readonly insertedIds: { [index: number]: unknown };
  readonly upsertedIds: { [index: number]: unknown };
}

export interface MongoBulkWriteErrorDetails {
  message: string;
  code?: number;
  codeName?: string;
  errInfo?: Document;
  errorLabels?: string[];
  writeErrors?: readonly BulkWriteErrorLike[];
  /** The (last) write concern error, as the server sent it. */
  writeConcernError?: Document;
  /** The underlying error (a command error, a network error…), when there was one. */
  cause?: unknown;
}

/**
 * A collection-level bulk write (insertMany/bulkWrite) failed: write errors, a write concern
 * error, or a command error after some writes. `result` holds what was done before it stopped.
 */
export class MongoBulkWriteError<TResult extends BulkWriteResultLike = BulkWriteResultLike> extends MongoServerError {
  declare writeErrors: BulkWriteErrorLike[];
  declare writeConcernError?: Document;
  declare result: TResult;

  constructor(details: MongoBulkWriteErrorDetails, result: TResult) {
    const response: ServerErrorResponse = { ok: 0, errmsg: details.message };
    if (details.code !== undefined) response.code = details.code;
    if (details.codeName !== undefined) response.codeName = details.codeName;
    if (details.errInfo !== undefined) response.errInfo = details.errInfo;
    if (details.errorLabels !== undefined) response.errorLabels = details.errorLabels;
    if (details.writeConcernError !== undefined) response.writeConcernError = details.writeConcernError;
    super(response, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.writeErrors = [...(details.writeErrors ?? [])];
    this.writeConcernError = details.writeConcernError;
    this.result = result;
  }

  override get name(): string {
    return 'MongoBulkWriteError';
  }
  get insertedCount(): number {
    return this.result.insertedCount;
  }
  get matchedCount(): number {
    return this.result.matchedCount;
  }
  get modifiedCount(): number {
    return this.result.modifiedCount;
  }
  get deletedCount(): number {
    return this.result.deletedCount;
  }
  get upsertedCount(): number {
    return this.result.upsertedCount;
  }
  get insertedIds(): { [index: number]: unknown } {
    return this.result.insertedIds;
  }
  get upsertedIds(): { [index: number]: unknown } {
    return this.result.upsertedIds;
  }
}

/** A write error of `client.bulkWrite`, keyed by the model's index in `writeErrors`. */
export interface ClientBulkWriteErrorDetail {
  code: number;
  message: string;
  errInfo?: Document;
}

/** A write concern error of one `client.bulkWrite` batch. */
export interface ClientWriteConcernErrorDetail {
  code: number;
  message: string;
  errInfo?: Document;
}

/**
 * `client.bulkWrite` (MongoDB 8.0 `bulkWrite` command) failed: individual write errors, write
 * concern errors, or a top-level error (`cause`) after some results were seen. `partialResult`
 * is set only when at least one write is known to have succeeded (crud/bulk-write.md).
 */
export class MongoClientBulkWriteError<TResult = unknown> extends MongoServerError {
  declare writeErrors: Map<number, ClientBulkWriteErrorDetail>;
  declare writeConcernErrors: ClientWriteConcernErrorDetail[];
  declare partialResult?: TResult;

  constructor(message: string, options?: MongoErrorOptions & { response?: ServerErrorResponse }) {
    super({ ...(options?.response ?? {}), errmsg: message }, options);
    this.writeErrors = new Map();
    this.writeConcernErrors = [];
    this.partialResult = undefined;
  }

  override get name(): string {
    return 'MongoClientBulkWriteError';
  }

  /** The top-level error (command error, network error, getMore failure), when there was one. */
  get error(): unknown {
    return this.cause;
  }
}
