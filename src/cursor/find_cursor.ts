/**
 * FindCursor: `collection.find()`. Tracks how many documents were returned so a getMore never
 * asks past the limit, and closes (killCursors) once the limit is reached on a still-open cursor.
 */
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from '../errors';
import type { CollationOptions, Hint, Projection, Sort, SortDirection } from '../mongo_types';
import type { CursorCreation, Namespace } from '../operations/cursor_response';
import { ExplainOperation, explainVerbosity, type ExplainVerbosityLike } from '../operations/explain';
import { buildFindCommand, FindOperation, type FindOptions } from '../operations/find';
import type { ClientSession } from '../sessions';
import { AbstractCursor, validateInteger, type AbstractCursorOptions, type CursorClient, type CursorCommandTimeout } from './abstract_cursor';

export type FindCursorOptions = FindOptions & AbstractCursorOptions;

export class FindCursor<TSchema = Document> extends AbstractCursor<TSchema> {
  protected findFilter: Document;
  protected readonly findOptions: FindOptions;
  private numReturned = 0;

  constructor(client: CursorClient, namespace: Namespace, filter: Document = {}, options: FindCursorOptions = {}) {
    super(client, namespace, options);
    this.findFilter = filter;
    // Object.assign, not a spread: properties added later (limit, sort…) stay fast on Node 20.
    this.findOptions = Object.assign({}, options);
  }

  /** The find options with the cursor-level settings (batchSize, flags, read settings) applied. */
  private currentOptions(session?: ClientSession, raw = this.cursorOptions.raw): FindOptions {
    const c = this.cursorOptions;
    // Object.assign: a spread followed by more properties is much slower on Node 20 (every find).
    return Object.assign({}, this.findOptions, {
      batchSize: c.batchSize,
      tailable: c.tailable ?? this.findOptions.tailable,
      awaitData: c.awaitData ?? this.findOptions.awaitData,
      noCursorTimeout: c.noCursorTimeout ?? this.findOptions.noCursorTimeout,
      maxAwaitTimeMS: c.maxAwaitTimeMS,
      readPreference: c.readPreference,
      readConcern: c.readConcern,
      timeoutMS: c.timeoutMS,
      session: session ?? c.session,
      raw
    });
  }

  protected async initialize(session: ClientSession, timeout: CursorCommandTimeout): Promise<CursorCreation> {
    const operation = new FindOperation(this.namespace, this.findFilter, Object.assign(this.currentOptions(session, this.requestsRawBatches), timeout));
    return this.client.executeOperation(operation);
  }

  /** find honours raw batches: documents are decoded one by one as they are handed out. */
  protected override get decodesLazily(): boolean {
    return true;
  }

  protected override onBatchReceived(count: number): void {
    this.numReturned += count;
  }

  protected override onRewind(): void {
    this.numReturned = 0;
  }

  private get positiveLimit(): number {
    const limit = this.findOptions.limit ?? 0;
    return limit > 0 ? limit : 0;
  }

  protected override get limitReached(): boolean {
    return this.positiveLimit > 0 && this.numReturned >= this.positiveLimit;
  }

  /** The getMore batchSize never asks past the limit. */
  protected override nextBatchSize(): number | undefined {
    const batchSize = this.cursorOptions.batchSize;
    const limit = this.positiveLimit;
    if (limit > 0 && batchSize !== undefined && batchSize > limit - this.numReturned) return limit - this.numReturned;
    return batchSize;
  }

  clone(): FindCursor<TSchema> {
    const copy = new FindCursor<TSchema>(this.client, this.namespace, this.findFilter, { ...this.findOptions, ...this.cursorOptions, session: this.cursorOptions.session });
    this.copyTransformTo(copy);
    return copy;
  }

  override map<T>(fn: (doc: TSchema) => T): FindCursor<T> {
    return super.map(fn) as FindCursor<T>;
  }

  /** Runs `{explain: {find: …}, verbosity}` and returns the server's plan. */
  async explain(verbosity?: ExplainVerbosityLike): Promise<Document> {
    const options = this.currentOptions();
    const command = buildFindCommand(this.namespace, this.findFilter, options);
    return this.client.executeOperation(new ExplainOperation(this.namespace.db, command, explainVerbosity(verbosity), options));
  }

  // ---------------------------------------------------------------- builders

  filter(filter: Document): this {
    this.throwIfInitialized();
    this.findFilter = filter;
    return this;
  }

  sort(sort: Sort | string, direction?: SortDirection): this {
    this.throwIfInitialized();
    if (this.findOptions.tailable) throw new MongoInvalidArgumentError('Tailable cursor does not support sorting');
    this.findOptions.sort = typeof sort === 'string' && direction !== undefined ? [[sort, direction]] : sort;
    return this;
  }

  project<T extends Document = Document>(projection: Projection): FindCursor<T> {
    this.throwIfInitialized();
    this.findOptions.projection = projection;
    return this as unknown as FindCursor<T>;
  }

  skip(value: number): this {
    this.throwIfInitialized();
    if (this.findOptions.tailable) throw new MongoInvalidArgumentError('Tailable cursor does not support skip');
    validateInteger('skip', value);
    this.findOptions.skip = value;
    return this;
  }

  limit(value: number): this {
    this.throwIfInitialized();
    if (this.findOptions.tailable || this.cursorOptions.tailable) throw new MongoInvalidArgumentError('Tailable cursor does not support limit');
    validateInteger('limit', value);
    this.findOptions.limit = value;
    return this;
  }

  hint(hint: Hint): this {
    this.throwIfInitialized();
    this.findOptions.hint = hint;
    return this;
  }

  min(min: Document): this {
    this.throwIfInitialized();
    this.findOptions.min = min;
    return this;
  }

  max(max: Document): this {
    this.throwIfInitialized();
    this.findOptions.max = max;
    return this;
  }

  returnKey(value: boolean): this {
    this.throwIfInitialized();
    this.findOptions.returnKey = value;
    return this;
  }

  showRecordId(value: boolean): this {
    this.throwIfInitialized();
    this.findOptions.showRecordId = value;
    return this;
  }

  maxTimeMS(value: number): this {
    this.throwIfInitialized();
    validateInteger('maxTimeMS', value);
    this.findOptions.maxTimeMS = value;
    return this;
  }

  collation(collation: CollationOptions): this {
    this.throwIfInitialized();
    this.findOptions.collation = collation;
    return this;
  }

  comment(comment: unknown): this {
    this.throwIfInitialized();
    this.findOptions.comment = comment;
    this.cursorOptions.comment = comment;
    return this;
  }

  allowDiskUse(allow = true): this {
    this.throwIfInitialized();
    this.findOptions.allowDiskUse = allow;
    return this;
  }

  protected override setPartial(value: boolean): void {
    this.findOptions.allowPartialResults = value;
  }
}

/** `collection.findRawBatches()`: each item is a Buffer holding one batch of concatenated BSON documents. */
export class FindRawBatchCursor extends FindCursor<Buffer> {
  constructor(client: CursorClient, namespace: Namespace, filter: Document = {}, options: FindCursorOptions = {}) {
    super(client, namespace, filter, { ...options, raw: true });
  }

  override clone(): FindRawBatchCursor {
    return new FindRawBatchCursor(this.client, this.namespace, this.findFilter, { ...this.findOptions, ...this.cursorOptions });
  }
}
