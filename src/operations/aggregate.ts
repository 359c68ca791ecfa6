/**
 * The `aggregate` command (crud.md "Aggregate"). A pipeline ending in `$out`/`$merge` is a write:
 * it carries the write concern, is not retried as a read, and is routed by
 * `secondaryWritableServerSelector` (the read preference only when every server is 5.0+).
 */
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from '../errors';
import type { CollationOptions, Hint } from '../mongo_types';
import type { WriteConcern } from '../write_concern';
import { parseCursorReply, RAW_BATCH_BSON, type CursorCreation, type Namespace } from './cursor_response';
import { applyRawData, type RawDataOption } from './raw_data';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type CommandSendOptions, type CommandTarget, type OperationContext } from './operation';

export interface AggregateOptions extends BaseOperationOptions, RawDataOption {
  allowDiskUse?: boolean;
  batchSize?: number;
  bypassDocumentValidation?: boolean;
  collation?: CollationOptions;
  hint?: Hint;
  let?: Document;
  maxTimeMS?: number;
  /** getMore `maxTimeMS` for tailable awaitData cursors (change streams). */
  maxAwaitTimeMS?: number;
  /** Appends `{$out: out}` to the pipeline. */
  out?: string;
  /** Extra fields of the `cursor` sub-document. */
  cursor?: Document;
  /** Keep each batch as raw BSON (aggregateRawBatches). */
  raw?: boolean;
}

/** Collection name for database-level aggregation (`{aggregate: 1}`). */
export const DB_AGGREGATE_COLLECTION = 1;

export function hasWriteStage(pipeline: readonly Document[]): boolean {
  const last = pipeline[pipeline.length - 1];
  return !!last && (last.$out !== undefined || last.$merge !== undefined);
}

/** The pipeline, with `options.out` appended as a `$out` stage. */
export function effectivePipeline(pipeline: readonly Document[], options: AggregateOptions): Document[] {
  return typeof options.out === 'string' ? [...pipeline, { $out: options.out }] : [...pipeline];
}

/** The aggregate command document; shared by AggregateOperation, countDocuments and explain. */
export function buildAggregateCommand(target: string | number, pipeline: Document[], options: AggregateOptions): Document {
  if (options.cursor !== undefined && (typeof options.cursor !== 'object' || options.cursor === null)) {
    throw new MongoInvalidArgumentError('Cursor options must be an object');
  }
  const writes = hasWriteStage(pipeline);
  const cmd: Document = { aggregate: target, pipeline };
  if (options.bypassDocumentValidation === true) cmd.bypassDocumentValidation = true;
  if (typeof options.allowDiskUse === 'boolean') cmd.allowDiskUse = options.allowDiskUse;
  if (options.hint) cmd.hint = options.hint;
  if (options.let) cmd.let = options.let;
  if (options.comment !== undefined) cmd.comment = options.comment;
  cmd.cursor = { ...(options.cursor ?? {}) };
  if (options.batchSize && !writes) cmd.cursor.batchSize = options.batchSize;
  if (options.collation) cmd.collation = options.collation;
  if (typeof options.maxTimeMS === 'number') cmd.maxTimeMS = options.maxTimeMS;
  return cmd;
}

const AGGREGATE_ASPECTS = aspects(Aspect.READ_OPERATION, Aspect.RETRYABLE, Aspect.CURSOR_CREATING);

export class AggregateOperation extends CommandOperation<CursorCreation> {
  readonly commandName = 'aggregate';
  readonly pipeline: Document[];
  readonly hasWriteStage: boolean;

  /** `ns.collection` empty: database-level aggregate (`{aggregate: 1}`). */
  constructor(
    readonly ns: Namespace,
    pipeline: readonly Document[],
    readonly aggregateOptions: AggregateOptions
  ) {
    super(ns.db, { ...aggregateOptions, comment: undefined });
    if (!Array.isArray(pipeline)) throw new MongoInvalidArgumentError('pipeline must be an array of stages');
    this.pipeline = effectivePipeline(pipeline, aggregateOptions);
    this.hasWriteStage = hasWriteStage(this.pipeline);
    this.trySecondaryWrite = this.hasWriteStage;
  }

  get aspects() {
    return AGGREGATE_ASPECTS;
  }

  override get canRetryRead(): boolean {
    return !this.hasWriteStage && super.canRetryRead;
  }

  /** Only `$out`/`$merge` pipelines carry a write concern. */
  override get writeConcern(): WriteConcern | undefined {
    return this.hasWriteStage ? this.options.writeConcern : undefined;
  }

  override get supportsWriteConcern(): boolean {
    return this.hasWriteStage;
  }

  buildCommand(target: CommandTarget): Document {
    return applyRawData(buildAggregateCommand(this.ns.collection || DB_AGGREGATE_COLLECTION, this.pipeline, this.aggregateOptions), this.aggregateOptions, target);
  }

  override sendOptions(): CommandSendOptions | undefined {
    return this.aggregateOptions.raw ? { bson: RAW_BATCH_BSON } : undefined;
  }

  override handleReply(reply: Document, ctx: OperationContext): CursorCreation {
    const fallback = { db: this.ns.db, collection: this.ns.collection || '$cmd.aggregate' };
    return { ...parseCursorReply(reply, 'firstBatch', fallback), address: ctx.target.address };
  }
}
