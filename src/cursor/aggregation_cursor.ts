/** AggregationCursor: `collection.aggregate()` / `db.aggregate()`, with Motor-style stage builders. */
import type { Document } from 'bson';
import type { CursorCreation, Namespace } from '../operations/cursor_response';
import { AggregateOperation, buildAggregateCommand, effectivePipeline, type AggregateOptions } from '../operations/aggregate';
import { ExplainOperation, explainVerbosity, type ExplainVerbosityLike } from '../operations/explain';
import type { ClientSession } from '../sessions';
import { MongoInvalidArgumentError } from '../errors';
import { TimeoutMode } from '../timeout';
import { AbstractCursor, validateInteger, type AbstractCursorOptions, type CursorClient, type CursorCommandTimeout } from './abstract_cursor';

export type AggregationCursorOptions = AggregateOptions & AbstractCursorOptions;

export class AggregationCursor<TSchema = Document> extends AbstractCursor<TSchema> {
  protected readonly pipeline: Document[];
  protected readonly aggregateOptions: AggregateOptions;

  /** `namespace.collection` empty: a database-level aggregate (`{aggregate: 1}`). */
  constructor(client: CursorClient, namespace: Namespace, pipeline: readonly Document[] = [], options: AggregationCursorOptions = {}) {
    super(client, namespace, options);
    this.pipeline = [...pipeline];
    this.aggregateOptions = { ...options };
  }

  private currentOptions(session?: ClientSession): AggregateOptions {
    const c = this.cursorOptions;
    return {
      ...this.aggregateOptions,
      batchSize: c.batchSize,
      maxAwaitTimeMS: c.maxAwaitTimeMS,
      readPreference: c.readPreference,
      readConcern: c.readConcern,
      timeoutMS: c.timeoutMS,
      session: session ?? c.session,
      raw: c.raw
    };
  }

  protected async initialize(session: ClientSession, timeout: CursorCommandTimeout): Promise<CursorCreation> {
    const operation = new AggregateOperation(this.namespace, this.pipeline, { ...this.currentOptions(session), ...timeout });
    // CSOT "Non-tailable Cursors": $out/$merge cannot run in iteration mode.
    if (operation.hasWriteStage && this.cursorOptions.timeoutMode === TimeoutMode.iteration) {
      throw new MongoInvalidArgumentError('timeoutMode "iteration" is not supported for an aggregate with a $out or $merge stage');
    }
    return this.client.executeOperation(operation);
  }

  clone(): AggregationCursor<TSchema> {
    const copy = new AggregationCursor<TSchema>(this.client, this.namespace, this.pipeline, { ...this.aggregateOptions, ...this.cursorOptions });
    this.copyTransformTo(copy);
    return copy;
  }

  override map<T>(fn: (doc: TSchema) => T): AggregationCursor<T> {
    return super.map(fn) as AggregationCursor<T>;
  }

  /** Runs `{explain: {aggregate: …}, verbosity}`. */
  async explain(verbosity?: ExplainVerbosityLike): Promise<Document> {
    const options = this.currentOptions();
    const command = buildAggregateCommand(this.namespace.collection || 1, effectivePipeline(this.pipeline, options), options);
    return this.client.executeOperation(new ExplainOperation(this.namespace.db, command, explainVerbosity(verbosity), options));
  }

  maxTimeMS(value: number): this {
    this.throwIfInitialized();
    validateInteger('maxTimeMS', value);
    this.aggregateOptions.maxTimeMS = value;
    return this;
  }

  allowDiskUse(allow = true): this {
    this.throwIfInitialized();
    this.aggregateOptions.allowDiskUse = allow;
    return this;
  }

  /** Appends a stage. */
  addStage<T = TSchema>(stage: Document): AggregationCursor<T> {
    this.throwIfInitialized();
    this.pipeline.push(stage);
    return this as unknown as AggregationCursor<T>;
  }

  match(filter: Document): this {
    return this.addStage({ $match: filter }) as unknown as this;
  }

  sort(sort: Document): this {
    return this.addStage({ $sort: sort }) as unknown as this;
  }

  skip(value: number): this {
    return this.addStage({ $skip: value }) as unknown as this;
  }

  limit(value: number): this {
    return this.addStage({ $limit: value }) as unknown as this;
  }

  project<T extends Document = Document>(projection: Document): AggregationCursor<T> {
    return this.addStage<T>({ $project: projection });
  }

  group<T = TSchema>(spec: Document): AggregationCursor<T> {
    return this.addStage<T>({ $group: spec });
  }

  unwind<T = TSchema>(spec: string | Document): AggregationCursor<T> {
    return this.addStage<T>({ $unwind: spec });
  }

  lookup(spec: Document): this {
    return this.addStage({ $lookup: spec }) as unknown as this;
  }

  out(destination: string | { db: string; coll: string }): this {
    return this.addStage({ $out: destination }) as unknown as this;
  }

  redact(spec: Document): this {
    return this.addStage({ $redact: spec }) as unknown as this;
  }

  geoNear(spec: Document): this {
    return this.addStage({ $geoNear: spec }) as unknown as this;
  }
}

/** `aggregateRawBatches()`: each item is a Buffer holding one batch of concatenated BSON documents. */
export class AggregationRawBatchCursor extends AggregationCursor<Buffer> {
  constructor(client: CursorClient, namespace: Namespace, pipeline: readonly Document[] = [], options: AggregationCursorOptions = {}) {
    super(client, namespace, pipeline, { ...options, raw: true });
  }

  override clone(): AggregationRawBatchCursor {
    return new AggregationRawBatchCursor(this.client, this.namespace, this.pipeline, { ...this.aggregateOptions, ...this.cursorOptions });
  }
}
