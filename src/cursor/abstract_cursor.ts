/**
 * AbstractCursor: the client side of a server cursor (find_getmore_killcursors_commands.md).
 *
 * - The first iteration runs the cursor-creating command (subclass `initialize`); later batches
 *   come from `getMore` sent to the same server (`serverAddress`) in the same session.
 * - Without an explicit session the cursor creates an implicit one and ends it when the cursor is
 *   exhausted or closed, so find, getMore and killCursors share one `lsid`.
 * - Documents are drained synchronously from the current batch; only batch fetches await.
 * - `close()` (and leaving a `for await` early) sends `killCursors` while the server cursor is alive.
 * - CSOT (client-side-operations-timeout.md "Cursors"): with `timeoutMS`, `timeoutMode`
 *   `cursorLifetime` (default for non-tailable cursors) puts the initial command and every getMore
 *   under one deadline starting at the first iteration, and only the initial command carries
 *   `maxTimeMS`; `iteration` (the only mode of tailable cursors) gives each `next()` / `tryNext()` /
 *   `hasNext()` call, and each batch fetched by `toArray()`, a fresh deadline, with no `maxTimeMS`
 *   except on the initial command of a tailable awaitData cursor and on its getMores when
 *   `maxAwaitTimeMS` is set (`min(maxAwaitTimeMS, remaining − minRTT)`). `close()` runs killCursors
 *   under a fresh `timeoutMS` (or the one given to `close`). Expiry raises MongoOperationTimeoutError;
 *   buffered documents are still returned after the deadline.
 */
import { deserialize, Long, type Document } from 'bson';
import { MongoAPIError, MongoInvalidArgumentError, MongoProtocolError } from '../errors';
import type { AbstractOperation } from '../operations/operation';
import type { CursorBatch, CursorCreation, Namespace } from '../operations/cursor_response';
import { GetMoreOperation } from '../operations/get_more';
import { KillCursorsOperation } from '../operations/kill_cursors';
import type { ReadConcern } from '../read_concern';
import { ReadPreference, type ReadPreferenceLike } from '../read_preference';
import { ClientSession, type PinnedConnection, type SessionOwner } from '../sessions';
import { resolveCursorTimeoutMode, TimeoutContext, TimeoutMode, validateMaxAwaitTimeMS, validateTimeoutMS } from '../timeout';

/** What a cursor needs from the client: running operations and owning sessions. */
export interface CursorClient extends SessionOwner {
  executeOperation<T>(operation: AbstractOperation<T>): Promise<T>;
}

/** Options every cursor understands. */
export interface AbstractCursorOptions {
  session?: ClientSession;
  readPreference?: ReadPreference;
  readConcern?: ReadConcern;
  timeoutMS?: number;
  /** CSOT: `timeoutMS` covers the cursor's lifetime (default) or each iteration (tailable cursors: always). Requires timeoutMS. */
  timeoutMode?: TimeoutMode;
  /** CSOT: run the whole cursor under this existing deadline (GridFS streams and methods: cursor lifetime). */
  timeoutContext?: TimeoutContext;
  batchSize?: number;
  /** getMore `maxTimeMS` for tailable awaitData cursors. */
  maxAwaitTimeMS?: number;
  comment?: unknown;
  tailable?: boolean;
  awaitData?: boolean;
  noCursorTimeout?: boolean;
  /** Each batch is one Buffer of concatenated raw BSON documents. */
  raw?: boolean;
}

/** How the cursor-creating command runs under CSOT (spread into the operation's options). */
export interface CursorCommandTimeout {
  timeoutContext?: TimeoutContext;
  omitMaxTimeMS?: boolean;
}

/** Flags accepted by `addCursorFlag`. */
export type CursorFlag = 'tailable' | 'awaitData' | 'noCursorTimeout' | 'partial' | 'oplogReplay' | 'exhaust';

export abstract class AbstractCursor<TSchema = Document> implements AsyncIterable<TSchema> {
  protected readonly cursorOptions: AbstractCursorOptions;
  private buffer: Document[] = [];
  /** The buffered documents are still BSON (lazy decoding, see `decodesLazily`). */
  private bufferIsBson = false;
  /** Decided when the cursor starts: batches are kept as BSON and decoded one document at a time. */
  private lazyBatches = false;
  /** toArray() on an unstarted cursor: every document is kept, so decode whole batches at once. */
  private decodeEagerly = false;
  private position = 0;
  private cursorId: Long | null = null;
  private cursorNs: Namespace;
  private serverAddress?: string;
  /**
   * Load-balanced mode: the connection the cursor was created on, kept for its getMores and
   * killCursors until the cursor is exhausted or closed (still held after a failed getMore: only
   * `close()` releases it then, without killCursors if the connection failed).
   */
  private pin?: PinnedConnection;
  private cursorSession?: ClientSession;
  private ownsSession = false;
  private initialized = false;
  private isClosed = false;
  private isKilled = false;
  /** killCursors of a rewound cursor, awaited before the next initialisation. */
  private pendingCleanup?: Promise<void>;
  private transform?: (doc: Document) => unknown;
  /** CSOT: the resolved timeoutMode (set at initialisation; undefined without timeoutMS). */
  private timeoutMode?: TimeoutMode;
  /** CSOT `cursorLifetime`: the deadline of the initial command and every getMore. */
  private lifetimeDeadline?: TimeoutContext;

  protected constructor(
    readonly client: CursorClient,
    readonly namespace: Namespace,
    options: AbstractCursorOptions = {}
  ) {
    // Object.assign, not a spread: properties added later (batchSize, flags…) stay fast on Node 20.
    this.cursorOptions = Object.assign({}, options);
    this.cursorNs = namespace;
    if (options.batchSize !== undefined) validateInteger('batchSize', options.batchSize);
    validateTimeoutMS(options.timeoutMS);
    this.resolveTimeoutMode();
  }

  /**
   * Runs the cursor-creating command in `session`; `timeout` (CSOT deadline, whether to omit
   * maxTimeMS) goes into the operation's options.
   */
  protected abstract initialize(session: ClientSession, timeout: CursorCommandTimeout): Promise<CursorCreation>;

  /** Validates and resolves timeoutMode (CSOT "Cursors"): throws MongoInvalidArgumentError. */
  private resolveTimeoutMode(): TimeoutMode | undefined {
    const o = this.cursorOptions;
    validateMaxAwaitTimeMS(o);
    return resolveCursorTimeoutMode({ timeoutMS: o.timeoutMS, timeoutMode: o.timeoutMode, tailable: o.tailable });
  }

  /**
   * The deadline of one iteration call: the session's (inside withTransaction), the cursor's
   * lifetime deadline, or a fresh one (first call, `iteration` mode); undefined without CSOT.
   */
  private callDeadline(): TimeoutContext | undefined {
    const inherited = this.cursorOptions.session?.timeoutContext ?? this.cursorOptions.timeoutContext;
    if (inherited) return inherited;
    if (this.cursorOptions.timeoutMS === undefined) return undefined;
    return this.lifetimeDeadline ?? new TimeoutContext({ timeoutMS: this.cursorOptions.timeoutMS });
  }

  /** CSOT for the initial command: no maxTimeMS in `iteration` mode, except for tailable awaitData cursors. */
  private initialCommandTimeout(deadline: TimeoutContext | undefined): CursorCommandTimeout {
    if (!deadline) return {};
    const o = this.cursorOptions;
    const omitMaxTimeMS = this.timeoutMode === TimeoutMode.iteration && !(o.tailable && o.awaitData);
    return { timeoutContext: deadline, omitMaxTimeMS };
  }

  /** A fresh, unstarted cursor with the same options. */
  abstract clone(): AbstractCursor<TSchema>;

  /** The getMore batchSize (FindCursor caps it by the remaining limit). */
  protected nextBatchSize(): number | undefined {
    return this.cursorOptions.batchSize;
  }

  /** The getMore `maxTimeMS` (tailable awaitData cursors: maxAwaitTimeMS; none otherwise). */
  protected getMoreMaxTimeMS(): number | undefined {
    return this.cursorOptions.tailable && this.cursorOptions.awaitData ? this.cursorOptions.maxAwaitTimeMS : undefined;
  }

  /** Called with the number of documents of every batch received. */
  protected onBatchReceived(_count: number): void {}

  /** True when no further getMore is needed though the server cursor is alive (limit reached). */
  protected get limitReached(): boolean {
    return false;
  }

  /** Resets subclass counters on rewind. */
  protected onRewind(): void {}

  /**
   * Batches arrive as undecoded BSON documents and each is decoded when it is handed out, so
   * iterating a large result keeps only short-lived objects (cheap young-generation GC, lower
   * peak memory) instead of decoding a whole 16 MiB batch into objects up front.
   * Subclasses whose cursor-creating command honours the `raw` batch option return true.
   */
  protected get decodesLazily(): boolean {
    return false;
  }

  /** Whether batches are requested as raw BSON (the caller asked for raw batches, or lazy decoding). */
  protected get requestsRawBatches(): boolean {
    return this.cursorOptions.raw === true || this.lazyBatches;
  }

  // ---------------------------------------------------------------- state

  /** The server cursor id (undefined before the first batch; 0 once exhausted or killed). */
  get id(): Long | undefined {
    return this.cursorId ?? undefined;
  }

  /** Closed and fully read. */
  get closed(): boolean {
    return this.isClosed && this.bufferedCount() === 0;
  }

  /** killCursors was sent for this cursor. */
  get killed(): boolean {
    return this.isKilled;
  }

  get readPreference(): ReadPreference {
    return this.cursorOptions.readPreference ?? ReadPreference.primary;
  }

  get readConcern(): ReadConcern | undefined {
    return this.cursorOptions.readConcern;
  }

  get session(): ClientSession | undefined {
    return this.cursorSession ?? this.cursorOptions.session;
  }

  /** Motor's `cursor.alive`: more documents may come. */
  get alive(): boolean {
    return !this.closed;
  }

  bufferedCount(): number {
    return this.buffer.length - this.position;
  }

  /** Takes up to `count` (default all) buffered documents, untransformed. */
  readBufferedDocuments(count?: number): TSchema[] {
    const end = count === undefined ? this.buffer.length : Math.min(this.buffer.length, this.position + count);
    const out = this.buffer.slice(this.position, end);
    if (this.bufferIsBson) for (let i = 0; i < out.length; i++) out[i] = decodeBuffered(out[i]);
    this.position = end;
    if (this.position === this.buffer.length) this.clearBuffer();
    return out as TSchema[];
  }

  private clearBuffer(): void {
    this.buffer = [];
    this.bufferIsBson = false;
    this.position = 0;
  }

  private get isDead(): boolean {
    return this.cursorId !== null && this.cursorId.isZero();
  }

  protected throwIfInitialized(): void {
    if (this.initialized) throw new MongoAPIError('Cursor is already initialized');
  }

  // ---------------------------------------------------------------- builders

  batchSize(value: number): this {
    this.throwIfInitialized();
    if (this.cursorOptions.tailable && value === 0) throw new MongoInvalidArgumentError('Tailable cursor does not support batchSize 0');
    validateInteger('batchSize', value);
    this.cursorOptions.batchSize = value;
    return this;
  }

  addCursorFlag(flag: CursorFlag, value: boolean): this {
    this.throwIfInitialized();
    if (typeof value !== 'boolean') throw new MongoInvalidArgumentError(`Flag ${flag} must be a boolean value`);
    switch (flag) {
      case 'tailable':
        this.cursorOptions.tailable = value;
        break;
      case 'awaitData':
        this.cursorOptions.awaitData = value;
        break;
      case 'noCursorTimeout':
        this.cursorOptions.noCursorTimeout = value;
        break;
      case 'partial':
        this.setPartial(value);
        break;
      default:
        throw new MongoInvalidArgumentError(`Flag ${String(flag)} is not supported`);
    }
    return this;
  }

  /** `allowPartialResults` (find only). */
  protected setPartial(_value: boolean): void {
    throw new MongoInvalidArgumentError('Flag partial is only supported by find cursors');
  }

  withReadPreference(readPreference: ReadPreferenceLike): this {
    this.throwIfInitialized();
    const rp = ReadPreference.fromOptions({ readPreference });
    if (!rp) throw new MongoInvalidArgumentError(`Invalid read preference: ${String(readPreference)}`);
    this.cursorOptions.readPreference = rp;
    return this;
  }

  withReadConcern(readConcern: ReadConcern): this {
    this.throwIfInitialized();
    this.cursorOptions.readConcern = readConcern;
    return this;
  }

  maxAwaitTimeMS(value: number): this {
    this.throwIfInitialized();
    validateInteger('maxAwaitTimeMS', value);
    this.cursorOptions.maxAwaitTimeMS = value;
    return this;
  }

  /** Applies `fn` to every document returned from now on (composes with earlier maps). */
  map<T>(fn: (doc: TSchema) => T): AbstractCursor<T> {
    this.throwIfInitialized();
    const previous = this.transform;
    this.transform = previous ? (doc) => fn(previous(doc) as TSchema) : (doc) => fn(doc as TSchema);
    return this as unknown as AbstractCursor<T>;
  }

  /** Copies the mapping function onto a clone. */
  protected copyTransformTo(target: AbstractCursor<TSchema>): void {
    target.transform = this.transform;
  }

  // ---------------------------------------------------------------- iteration

  private shift(): TSchema {
    const item = this.buffer[this.position++];
    const doc = this.bufferIsBson ? decodeBuffered(item) : item;
    if (this.position === this.buffer.length) this.clearBuffer();
    return (this.transform ? this.transform(doc) : doc) as TSchema;
  }

  /** Shifts one document, closing the cursor if the map function throws. */
  private async shiftOrClose(): Promise<TSchema> {
    try {
      return this.shift();
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** The next document, waiting for batches as needed; null once exhausted. */
  async next(): Promise<TSchema | null> {
    let deadline: TimeoutContext | undefined;
    for (;;) {
      if (this.bufferedCount() > 0) return this.shiftOrClose();
      if (this.isClosed) return null;
      deadline ??= this.callDeadline();
      await this.fetchBatch(deadline);
    }
  }

  /** At most one batch request: the next document, or null when none is available yet. */
  async tryNext(): Promise<TSchema | null> {
    if (this.bufferedCount() === 0 && !this.isClosed) await this.fetchBatch(this.callDeadline());
    return this.bufferedCount() > 0 ? this.shiftOrClose() : null;
  }

  async hasNext(): Promise<boolean> {
    let deadline: TimeoutContext | undefined;
    for (;;) {
      if (this.bufferedCount() > 0) return true;
      if (this.isClosed) return false;
      deadline ??= this.callDeadline();
      await this.fetchBatch(deadline);
    }
  }

  /** Every remaining document. */
  async toArray(): Promise<TSchema[]> {
    return this.collect(Infinity);
  }

  /** Motor's `to_list(length)`: at most `length` documents (all when omitted); the cursor stays usable. */
  async toList(length?: number | null): Promise<TSchema[]> {
    if (length === undefined || length === null) return this.collect(Infinity);
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
      throw new MongoInvalidArgumentError(`toList length must be a non-negative integer, got ${String(length)}`);
    }
    return this.collect(length);
  }

  /** Drains whole batches synchronously; awaits only to fetch the next batch. */
  private async collect(max: number): Promise<TSchema[]> {
    if (!this.initialized && max === Infinity) this.decodeEagerly = true;
    const out: TSchema[] = [];
    for (;;) {
      try {
        while (out.length < max && this.bufferedCount() > 0) out.push(this.shift());
      } catch (error) {
        await this.close();
        throw error;
      }
      if (out.length >= max || this.isClosed) return out;
      try {
        await this.fetchBatch(this.callDeadline());
      } catch (error) {
        // Nothing more will be read: release a connection still pinned after a failed getMore.
        if (this.pin) await this.close();
        throw error;
      }
    }
  }

  /** Calls `fn` for each document; returning `false` stops (and closes) the cursor. */
  async forEach(fn: (doc: TSchema) => boolean | void): Promise<void> {
    for await (const doc of this) {
      if (fn(doc) === false) break;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TSchema, void, void> {
    try {
      for (;;) {
        while (this.bufferedCount() > 0) yield this.shift();
        if (this.isClosed) return;
        await this.fetchBatch(this.callDeadline());
      }
    } finally {
      // Left early (break, return, throw): kill the server cursor and release the session
      // (and a connection still pinned after a failed getMore).
      if (!this.isClosed || this.pin) await this.close();
    }
  }

  // ---------------------------------------------------------------- server round trips

  /** One round trip under `deadline` (CSOT; undefined = legacy timeouts). */
  private async fetchBatch(deadline: TimeoutContext | undefined): Promise<void> {
    if (this.isClosed) return;
    if (!this.initialized) {
      await this.init(deadline);
      return;
    }
    if (this.isDead || this.limitReached) {
      await this.cleanup();
      return;
    }
    const cursorId = this.cursorId as Long;
    let batch: CursorBatch;
    try {
      batch = await this.client.executeOperation(
        onPinnedConnection(this.pin, new GetMoreOperation(this.cursorNs, cursorId, this.serverAddress as string, {
          session: this.cursorSession,
          readPreference: this.cursorOptions.readPreference,
          timeoutMS: this.cursorOptions.timeoutMS,
          // CSOT: getMore never gets a derived maxTimeMS (only the awaitData cap below).
          timeoutContext: deadline,
          omitMaxTimeMS: deadline !== undefined,
          batchSize: this.nextBatchSize(),
          maxTimeMS: this.getMoreMaxTimeMS(),
          comment: this.cursorOptions.comment,
          raw: this.requestsRawBatches
        }))
      );
    } catch (error) {
      await this.cleanup(undefined, true);
      throw error;
    }
    this.cursorId = batch.id;
    this.receive(batch.documents);
    if (this.isDead) await this.cleanup();
  }

  private async init(deadline: TimeoutContext | undefined): Promise<void> {
    // Flags and options may have changed through the builders since construction.
    this.timeoutMode = this.resolveTimeoutMode();
    if (this.pendingCleanup) {
      await this.pendingCleanup;
      this.pendingCleanup = undefined;
    }
    if (!this.cursorSession) {
      if (this.cursorOptions.session) {
        this.cursorSession = this.cursorOptions.session;
      } else {
        this.cursorSession = new ClientSession(this.client, {}, false);
        this.ownsSession = true;
      }
    }
    this.lazyBatches = this.decodesLazily && !this.decodeEagerly;
    this.decodeEagerly = false;
    let first: CursorCreation;
    try {
      first = await this.initialize(this.cursorSession, this.initialCommandTimeout(deadline));
    } catch (error) {
      this.initialized = true;
      await this.cleanup();
      throw error;
    }
    this.initialized = true;
    if (this.timeoutMode === TimeoutMode.cursorLifetime && deadline && !this.cursorOptions.session?.timeoutContext && !this.cursorOptions.timeoutContext) {
      this.lifetimeDeadline = deadline;
    }
    await this.start(first);
  }

  /** Takes the first batch: the server cursor, its namespace, server and pinned connection. */
  private async start(first: CursorCreation): Promise<void> {
    this.cursorId = first.id;
    this.cursorNs = first.ns;
    this.serverAddress = first.address;
    this.pin = first.pinnedConnection;
    this.receive(first.documents);
    if (this.isDead) await this.cleanup();
  }

  /**
   * @internal Starts this unstarted cursor from the reply of its cursor-creating command, run by
   * the caller in `session` without CSOT and asking for raw batches when the cursor decodes
   * lazily (findOne, see find_one.ts). From then on the cursor behaves as if it had run the
   * command itself: getMore, killCursors on close, the session ended when `ownsSession`.
   */
  async adoptFirstBatch(first: CursorCreation, session: ClientSession, ownsSession: boolean): Promise<void> {
    this.throwIfInitialized();
    this.timeoutMode = this.resolveTimeoutMode();
    this.cursorSession = session;
    this.ownsSession = ownsSession;
    this.lazyBatches = this.decodesLazily;
    this.initialized = true;
    await this.start(first);
  }

  private receive(documents: Document[]): void {
    this.onBatchReceived(documents.length);
    if (this.cursorOptions.raw) {
      // Raw-batch cursors: one Buffer of concatenated BSON documents per batch.
      const batch = documents.length > 0 ? [Buffer.concat(documents as unknown as Buffer[])] : [];
      this.append(batch, false);
    } else {
      this.append(documents, this.lazyBatches);
    }
  }

  /** `isBson` is fixed for a cursor (its options cannot change once iteration started). */
  private append(incoming: Document[], isBson: boolean): void {
    if (this.bufferedCount() === 0) {
      this.buffer = incoming;
      this.bufferIsBson = isBson;
      this.position = 0;
    } else {
      for (const doc of incoming) this.buffer.push(doc);
    }
  }

  /**
   * Kills a live server cursor (errors ignored) and ends an implicit session. killCursors runs
   * under a fresh timeout: `timeoutMS` given to close(), else the cursor's (CSOT "Cursors").
   */
  private async cleanup(timeoutMS: number | undefined = this.cursorOptions.timeoutMS, getMoreFailed = false): Promise<void> {
    // Everything is captured before the first await: rewind() may reset the fields meanwhile.
    this.isClosed = true;
    // After a failed getMore the pinned connection stays with the cursor until close() (load-balancers.md).
    const pin = this.pin;
    if (!getMoreFailed) this.pin = undefined;
    const session = this.cursorSession;
    const endSession = this.ownsSession;
    const cursorId = this.cursorId;
    const address = this.serverAddress;
    const ns = this.cursorNs;
    if (endSession) {
      this.cursorSession = undefined;
      this.ownsSession = false;
    }
    try {
      // No killCursors on a pinned connection that failed: it is no longer valid.
      if (!this.isKilled && cursorId && !cursorId.isZero() && address && session && !session.hasEnded && !pin?.closed) {
        this.isKilled = true;
        this.cursorId = Long.ZERO;
        await this.client
          .executeOperation(
            onPinnedConnection(
              pin,
              new KillCursorsOperation(ns, cursorId, address, {
                session,
                readPreference: this.cursorOptions.readPreference,
                timeoutMS
              })
            )
          )
          .catch(() => undefined);
      }
    } finally {
      if (!getMoreFailed) pin?.release();
      if (session && endSession) await session.endSession();
    }
  }

  /**
   * Sends killCursors if the server cursor is alive and releases the implicit session.
   * `timeoutMS` overrides the cursor's for the killCursors (which always gets a fresh deadline).
   */
  async close(options?: { timeoutMS?: number }): Promise<void> {
    this.clearBuffer();
    if (!this.initialized) {
      this.isClosed = true;
      return;
    }
    await this.cleanup(validateTimeoutMS(options?.timeoutMS) ?? this.cursorOptions.timeoutMS);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Back to the unstarted state; iterating again re-runs the query. */
  rewind(): void {
    if (!this.initialized) return;
    if (!this.isClosed || this.pin) this.pendingCleanup = this.cleanup().catch(() => undefined);
    this.cursorSession = undefined;
    this.ownsSession = false;
    this.cursorId = null;
    this.serverAddress = undefined;
    this.cursorNs = this.namespace;
    this.clearBuffer();
    this.initialized = false;
    this.isClosed = false;
    this.isKilled = false;
    this.lifetimeDeadline = undefined;
    this.onRewind();
  }
}

/** Load-balanced mode: runs a getMore / killCursors on the cursor's pinned connection. */
function onPinnedConnection<O extends AbstractOperation<unknown>>(pin: PinnedConnection | undefined, operation: O): O {
  operation.pinnedConnection = pin;
  return operation;
}

/** Decodes one buffered BSON document (lazy decoding). */
export function decodeBuffered(bytes: Document): Document {
  try {
    return deserialize(bytes as unknown as Uint8Array);
  } catch (error) {
    throw new MongoProtocolError(`invalid BSON document in cursor batch (${(error as Error).message})`, { cause: error });
  }
}

export function validateInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new MongoInvalidArgumentError(`Operation "${name}" requires an integer`);
}
