/**
 * Change streams (change-streams.md): a resumable tailable-awaitData cursor over an aggregate whose
 * first stage is `$changeStream`. Created with `collection.watch()`, `db.watch()` or
 * `client.watch()` (prefer these helpers to a raw `$changeStream` aggregate: only they resume).
 *
 * - Lazy: the aggregate runs on the first `next()` / `tryNext()` / `hasNext()` / `for await`,
 *   or at `init()`.
 * - Resume token: `resumeToken` is the token an automatic resume would use; it follows every
 *   returned change and the batches' `postBatchResumeToken`. To persist it reliably, iterate with
 *   `tryNext()` and save `resumeToken` after every call, even when it returns null.
 * - Automatic resume, once per failed getMore, on resumable errors (any non-server error such as a
 *   network error, `CursorNotFound`, the `ResumableChangeStreamError` label on 4.4+, the code list
 *   on older servers): killCursors on the old cursor (errors ignored), then a new aggregate through
 *   a new server selection with the original read preference, in the same session, starting from
 *   `startAfter` (before the first change, when given) / `resumeAfter` / `startAtOperationTime`.
 *   Errors on an aggregate are never resumed. Any error that is not resumed closes the stream.
 * - A change without `_id` (projected away) is a `MongoChangeStreamError` and closes the stream.
 * - Read concern: change streams accept only "majority" or no read concern; others are left to the
 *   server to reject.
 * - CSOT (client-side-operations-timeout.md "Change Streams"): `timeoutMS` applies to the initial
 *   aggregate (with `maxTimeMS`) and, separately, to each `next()` / `tryNext()` / `hasNext()` call,
 *   covering its getMore and any resume (killCursors excepted: it gets its own bounded timeout).
 *   getMores carry no `maxTimeMS`, or `min(maxAwaitTimeMS, remaining − minRTT)` when
 *   `maxAwaitTimeMS` is set; `maxAwaitTimeMS >= timeoutMS` is an error. A call that times out
 *   (MongoOperationTimeoutError) does not close the stream: call `next()` again — it resumes
 *   (killCursors, aggregate, then the getMore) — or close it and watch again. If the timeout happens before any
 *   change was received, the server may not be able to scan the oplog within `timeoutMS`: close
 *   the stream and create a new one with a higher `timeoutMS`.
 *
 * Differences from the official Node driver (both within the spec), visible in the differential
 * unified runs: the old cursor is killed before resuming (spec SHOULD; the official driver does
 * not), the resume keeps the stream's session even after a network error (spec MUST; the official
 * driver starts a new implicit session then).
 */
import { Long, type Document, type Timestamp } from 'bson';
import type { ChangeStreamDocument, OperationTime, ResumeToken } from './change_stream_events';
import {
  MongoAPIError,
  MongoChangeStreamError,
  MongoError,
  MongoErrorCode,
  MongoErrorLabel,
  MongoOperationTimeoutError,
  MongoServerError,
  RETRYABLE_ERROR_CODES
} from './errors';
import type { CollationOptions } from './mongo_types';
import { AggregateOperation } from './operations/aggregate';
import type { CursorBatch, CursorCreation, Namespace } from './operations/cursor_response';
import { GetMoreOperation } from './operations/get_more';
import { KillCursorsOperation } from './operations/kill_cursors';
import type { AbstractOperation, OperationContext } from './operations/operation';
import { ReadConcern, type ReadConcernLike } from './read_concern';
import { ReadPreference, type ReadPreferenceLike } from './read_preference';
import { ClientSession, type PinnedConnection, type SessionOwner } from './sessions';
import { TimeoutContext, validateMaxAwaitTimeMS, validateTimeoutMS } from './timeout';

export interface ChangeStreamOptions {
  /** `'default'`, `'updateLookup'`, `'whenAvailable'` or `'required'` (not validated: the server does). */
  fullDocument?: 'default' | 'updateLookup' | 'whenAvailable' | 'required' | (string & {});
  /** `'whenAvailable'`, `'required'` or `'off'`. */
  fullDocumentBeforeChange?: 'whenAvailable' | 'required' | 'off' | (string & {});
  /** Start after this resume token. */
  resumeAfter?: ResumeToken;
  /** Like `resumeAfter`, and also works after an invalidate event (4.2+). */
  startAfter?: ResumeToken;
  /** Start at this cluster time (4.0+). */
  startAtOperationTime?: OperationTime;
  /** Also return DDL events (`create`, `createIndexes`, `modify`, …; 6.0+). */
  showExpandedEvents?: boolean;
  /** Documents per batch (aggregate `cursor.batchSize` and getMore `batchSize`). */
  batchSize?: number;
  /** How long a getMore waits for changes (sent as the getMore's `maxTimeMS`). */
  maxAwaitTimeMS?: number;
  collation?: CollationOptions;
  /** Sent on the aggregate, and on getMore from 4.4. */
  comment?: unknown;
  session?: ClientSession;
  readPreference?: ReadPreferenceLike;
  readConcern?: ReadConcernLike;
  timeoutMS?: number;
}

/** What a change stream needs from the client (MongoClient implements it). */
export interface ChangeStreamClient extends SessionOwner {
  executeOperation<T>(operation: AbstractOperation<T>): Promise<T>;
}

/** Where a change stream watches: a collection, a database (`collection: ''`) or the cluster. */
export interface ChangeStreamTarget {
  db: string;
  /** Empty for a database or cluster change stream (`aggregate: 1`). */
  collection: string;
  /** `client.watch()`: `allChangesForCluster` on `admin`. */
  cluster?: boolean;
}

/** Defaults inherited from the collection, database or client. */
export interface ChangeStreamDefaults {
  readPreference: ReadPreference;
  readConcern?: ReadConcern;
  timeoutMS?: number;
}

/** Server versions from 4.4 label resumable errors themselves. */
const RESUMABLE_LABEL_WIRE_VERSION = 9;

/** Resumable codes for servers before 4.4 (change-streams.md "Resumable Error"). */
const LEGACY_RESUMABLE_CODES: ReadonlySet<number> = new Set([
  ...RETRYABLE_ERROR_CODES,
  MongoErrorCode.StaleShardVersion,
  MongoErrorCode.StaleEpoch,
  MongoErrorCode.StaleConfig,
  MongoErrorCode.RetryChangeStream,
  MongoErrorCode.FailedToSatisfyReadPreference
]);

/**
 * Whether a getMore error lets a change stream resume. `maxWireVersion` is the wire version of
 * the connection that ran the getMore (or the aggregate).
 */
export function isResumableChangeStreamError(error: unknown, maxWireVersion: number | undefined): boolean {
  if (!(error instanceof MongoError)) return false;
  if (!(error instanceof MongoServerError)) return true; // network, pool, selection, timeout errors
  if (error.code === MongoErrorCode.CursorNotFound) return true;
  if (maxWireVersion !== undefined && maxWireVersion >= RESUMABLE_LABEL_WIRE_VERSION) {
    return error.hasErrorLabel(MongoErrorLabel.ResumableChangeStreamError);
  }
  return typeof error.code === 'number' && LEGACY_RESUMABLE_CODES.has(error.code);
}

export const NO_RESUME_TOKEN_MESSAGE = 'Cannot provide resume functionality when the resume token is missing';
const CLOSED_MESSAGE = 'ChangeStream is closed';

/** The aggregate, remembering what resuming needs: the reply's operationTime and the wire version. */
class ChangeStreamAggregateOperation extends AggregateOperation {
  operationTime?: Timestamp;
  maxWireVersion?: number;

  override handleReply(reply: Document, ctx: OperationContext): CursorCreation {
    this.maxWireVersion = ctx.target.maxWireVersion;
    this.operationTime = reply.operationTime as Timestamp | undefined;
    return super.handleReply(reply, ctx);
  }
}

/** The getMore, remembering the wire version of the connection it ran on (even when it fails). */
class ChangeStreamGetMoreOperation extends GetMoreOperation {
  maxWireVersion?: number;

  override async execute(ctx: OperationContext): Promise<CursorBatch> {
    this.maxWireVersion = ctx.target.maxWireVersion;
    return super.execute(ctx);
  }
}

interface ServerCursor {
  id: Long;
  ns: Namespace;
  address: string;
  /** Load-balanced mode: the connection of the aggregate, used by getMore and killCursors. */
  pin?: PinnedConnection;
}

export class ChangeStream<TSchema extends Document = Document, TChange extends Document = ChangeStreamDocument<TSchema>>
  implements AsyncIterable<TChange>
{
  readonly pipeline: readonly Document[];
  readonly options: Readonly<ChangeStreamOptions>;
  readonly readPreference: ReadPreference;
  private readonly readConcern?: ReadConcern;
  private readonly timeoutMS?: number;

  private session?: ClientSession;
  private ownsSession = false;
  private cursor: ServerCursor | null = null;
  private buffer: Document[] = [];
  private cachedResumeToken: ResumeToken | null;
  private postBatchResumeToken?: ResumeToken;
  private startAtOperationTime?: OperationTime;
  /** A change was returned to the caller (startAfter is no longer the resume option). */
  private hasReturnedChange = false;
  private maxWireVersion?: number;
  private started = false;
  /** CSOT: a call timed out; the next one resumes (a new aggregate) before its getMore. */
  private resumeNeeded = false;
  /** Aggregates run so far (the initial one and every resume). */
  private aggregateCount = 0;
  private isClosed = false;
  /** Calls are serialized: one server round trip at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: ChangeStreamClient,
    private readonly target: ChangeStreamTarget,
    pipeline: readonly Document[] = [],
    options: ChangeStreamOptions = {},
    defaults: ChangeStreamDefaults = { readPreference: ReadPreference.primary }
  ) {
    if (!Array.isArray(pipeline)) throw new MongoAPIError('A change stream pipeline must be an array of stages');
    this.pipeline = [...pipeline];
    this.options = { ...options };
    this.readPreference = ReadPreference.fromOptions({ readPreference: options.readPreference }) ?? defaults.readPreference;
    this.readConcern = ReadConcern.fromOptions({ readConcern: options.readConcern }) ?? defaults.readConcern;
    this.timeoutMS = validateTimeoutMS(options.timeoutMS) ?? defaults.timeoutMS;
    validateMaxAwaitTimeMS({ timeoutMS: this.timeoutMS, maxAwaitTimeMS: options.maxAwaitTimeMS });
    this.cachedResumeToken = options.startAfter ?? options.resumeAfter ?? null;
    this.startAtOperationTime = options.startAtOperationTime;
  }

  /** The token an automatic resume would use now (null before anything is known). */
  get resumeToken(): ResumeToken | null {
    return this.cachedResumeToken;
  }

  /** Motor's `alive`: the stream may return more changes. */
  get alive(): boolean {
    return !this.isClosed;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Runs the initial aggregate now rather than on the first iteration (so that the stream's
   * starting point is fixed, and `resumeToken` holds the server's first postBatchResumeToken).
   */
  init(): Promise<this> {
    return this.serialize(async () => {
      if (!this.started && !this.isClosed) await this.fetchBatch(this.callDeadline());
      return this;
    });
  }

  /** The next change, waiting (getMore after getMore) until one arrives. */
  next(): Promise<TChange> {
    return this.serialize(async () => {
      const deadline = this.callDeadline();
      for (;;) {
        if (this.buffer.length > 0) return this.returnChange();
        if (this.isClosed) throw new MongoAPIError(CLOSED_MESSAGE);
        await this.fetchBatch(deadline);
      }
    });
  }

  /**
   * Motor's `try_next`: a buffered change, else one getMore. When the cursor has to be opened
   * first (the lazy initial aggregate, or a resume after an error or a previous call's timeout)
   * and the aggregate brings no change, the getMore follows it in the same call (the unified test
   * format's `iterateOnce`, and the official driver). Null when no change is available yet;
   * `resumeToken` is up to date either way.
   */
  tryNext(): Promise<TChange | null> {
    return this.serialize(async () => {
      if (this.buffer.length === 0 && !this.isClosed) {
        const deadline = this.callDeadline();
        const aggregates = this.aggregateCount;
        await this.fetchBatch(deadline);
        if (this.aggregateCount !== aggregates && this.buffer.length === 0 && !this.isClosed) await this.fetchBatch(deadline);
      }
      return this.buffer.length > 0 ? this.returnChange() : null;
    });
  }

  /** Waits until a change is available (true) or the stream ends (false). */
  hasNext(): Promise<boolean> {
    return this.serialize(async () => {
      const deadline = this.callDeadline();
      for (;;) {
        if (this.buffer.length > 0) return true;
        if (this.isClosed) return false;
        await this.fetchBatch(deadline);
      }
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TChange, void, void> {
    try {
      while (await this.hasNext()) yield await this.next();
    } finally {
      await this.close();
    }
  }

  /** Kills the server cursor and ends the implicit session. Idempotent. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.buffer = [];
    const cursor = this.cursor;
    this.cursor = null;
    try {
      if (cursor) await this.killCursor(cursor);
    } finally {
      if (this.ownsSession && this.session) await this.session.endSession();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ------------------------------------------------------------------ internals

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** CSOT: the deadline of one iteration call (the session's inside withTransaction); undefined without timeoutMS. */
  private callDeadline(): TimeoutContext | undefined {
    const inherited = this.options.session?.timeoutContext;
    if (inherited) return inherited;
    return this.timeoutMS === undefined ? undefined : new TimeoutContext({ timeoutMS: this.timeoutMS });
  }

  /**
   * One round trip under `deadline`: the initial aggregate, a getMore, or (after a resumable getMore
   * error, or a previous call's timeout) a resume.
   */
  private async fetchBatch(deadline: TimeoutContext | undefined): Promise<void> {
    try {
      if (!this.started) {
        await this.aggregate(false, deadline);
        return;
      }
      if (this.resumeNeeded) {
        this.resumeNeeded = false;
        await this.resume(deadline);
        return;
      }
      const cursor = this.cursor;
      if (!cursor || cursor.id.isZero()) {
        await this.close();
        return;
      }
      try {
        await this.getMore(cursor, deadline);
      } catch (error) {
        if (this.isClosed) return;
        if (error instanceof MongoOperationTimeoutError || !isResumableChangeStreamError(error, this.maxWireVersion)) throw error;
        await this.resume(deadline);
      }
    } catch (error) {
      if (error instanceof MongoOperationTimeoutError && !this.isClosed) {
        // CSOT: a timed-out call does not invalidate the stream; the next call resumes.
        if (this.started) this.resumeNeeded = true;
        throw error;
      }
      await this.close();
      throw error;
    }
  }

  /** Kills the current server cursor (if any) and opens a new one from the cached resume point. */
  private async resume(deadline: TimeoutContext | undefined): Promise<void> {
    const cursor = this.cursor;
    this.cursor = null;
    this.buffer = [];
    if (cursor) await this.killCursor(cursor);
    await this.aggregate(true, deadline);
  }

  private async aggregate(resuming: boolean, deadline: TimeoutContext | undefined): Promise<void> {
    if (!this.session) {
      this.session = this.options.session ?? new ClientSession(this.client, {}, false);
      this.ownsSession = !this.options.session;
    }
    const operation = new ChangeStreamAggregateOperation(
      { db: this.target.db, collection: this.target.collection },
      [{ $changeStream: this.changeStreamStage(resuming) }, ...this.pipeline],
      {
        session: this.session,
        readPreference: this.readPreference,
        readConcern: this.readConcern,
        timeoutMS: this.timeoutMS,
        timeoutContext: deadline,
        batchSize: this.options.batchSize,
        collation: this.options.collation,
        comment: this.options.comment
      }
    );
    const reply = await this.client.executeOperation(operation);
    this.started = true;
    this.aggregateCount++;
    if (this.isClosed) {
      await this.killCursor({ id: reply.id, ns: reply.ns, address: reply.address, pin: reply.pinnedConnection });
      return;
    }
    this.maxWireVersion = operation.maxWireVersion;
    if (
      this.startAtOperationTime === undefined &&
      this.options.resumeAfter === undefined &&
      this.options.startAfter === undefined &&
      operation.operationTime !== undefined
    ) {
      this.startAtOperationTime = operation.operationTime;
    }
    this.cursor = { id: reply.id, ns: reply.ns, address: reply.address, pin: reply.pinnedConnection };
    this.receive(reply);
  }

  private async getMore(cursor: ServerCursor, deadline: TimeoutContext | undefined): Promise<void> {
    const operation = new ChangeStreamGetMoreOperation(cursor.ns, cursor.id, cursor.address, {
      session: this.session,
      readPreference: this.readPreference,
      timeoutMS: this.timeoutMS,
      // CSOT: no derived maxTimeMS on getMore; maxAwaitTimeMS is capped by the remaining time.
      timeoutContext: deadline,
      omitMaxTimeMS: deadline !== undefined,
      batchSize: this.options.batchSize,
      maxTimeMS: this.options.maxAwaitTimeMS,
      comment: this.options.comment
    });
    operation.pinnedConnection = cursor.pin;
    try {
      const batch = await this.client.executeOperation(operation);
      if (this.isClosed) return;
      cursor.id = batch.id;
      this.receive(batch);
    } finally {
      if (operation.maxWireVersion !== undefined) this.maxWireVersion = operation.maxWireVersion;
    }
  }

  /** The `$changeStream` stage: the caller's options first time, the resume rules afterwards. */
  private changeStreamStage(resuming: boolean): Document {
    const o = this.options;
    const stage: Document = {};
    if (o.fullDocument !== undefined) stage.fullDocument = o.fullDocument;
    if (o.fullDocumentBeforeChange !== undefined) stage.fullDocumentBeforeChange = o.fullDocumentBeforeChange;
    if (!resuming) {
      // As given: conflicting starting points are for the server to reject.
      if (o.resumeAfter !== undefined) stage.resumeAfter = o.resumeAfter;
      if (o.startAfter !== undefined) stage.startAfter = o.startAfter;
      if (o.startAtOperationTime !== undefined) stage.startAtOperationTime = o.startAtOperationTime;
    } else if (this.cachedResumeToken !== null) {
      if (o.startAfter !== undefined && !this.hasReturnedChange) stage.startAfter = this.cachedResumeToken;
      else stage.resumeAfter = this.cachedResumeToken;
    } else if (this.startAtOperationTime !== undefined) {
      stage.startAtOperationTime = this.startAtOperationTime;
    }
    if (o.showExpandedEvents !== undefined) stage.showExpandedEvents = o.showExpandedEvents;
    if (this.target.cluster) stage.allChangesForCluster = true;
    return stage;
  }

  /** Spec "Updating the Cached Resume Token" for a new batch. */
  private receive(batch: CursorBatch): void {
    this.postBatchResumeToken = batch.postBatchResumeToken;
    this.buffer = batch.documents;
    if (batch.documents.length === 0 && batch.postBatchResumeToken) this.cachedResumeToken = batch.postBatchResumeToken;
  }

  /** Shifts a change, caching its token (the batch's postBatchResumeToken for the last one). */
  private async returnChange(): Promise<TChange> {
    const change = this.buffer.shift() as Document;
    if (change._id === undefined || change._id === null) {
      await this.close();
      throw new MongoChangeStreamError(NO_RESUME_TOKEN_MESSAGE);
    }
    this.cachedResumeToken = this.buffer.length === 0 && this.postBatchResumeToken ? this.postBatchResumeToken : (change._id as ResumeToken);
    this.hasReturnedChange = true;
    return change as TChange;
  }

  /** Kills the server cursor (errors ignored) and releases its pinned connection (load-balanced mode). */
  private async killCursor(cursor: ServerCursor): Promise<void> {
    const pin = cursor.pin;
    cursor.pin = undefined;
    try {
      // No killCursors on a pinned connection that failed: it is no longer valid (load-balancers.md).
      if (cursor.id.isZero() || !this.session || this.session.hasEnded || pin?.closed) return;
      const id = cursor.id;
      cursor.id = Long.ZERO;
      const operation = new KillCursorsOperation(cursor.ns, id, cursor.address, {
        session: this.session,
        readPreference: this.readPreference,
        // Bounded: after a network error the old server may be unselectable for a while (a pinned
        // connection needs no selection, so it runs without a timeout of its own).
        timeoutMS: pin ? this.timeoutMS : Math.min(this.timeoutMS ?? KILL_CURSORS_TIMEOUT_MS, KILL_CURSORS_TIMEOUT_MS)
      });
      operation.pinnedConnection = pin;
      await this.client.executeOperation(operation).catch(() => undefined);
    } finally {
      pin?.release();
    }
  }
}

const KILL_CURSORS_TIMEOUT_MS = 1000;
