/** The `find` command (crud.md "Find", find_getmore_killcursors_commands.md). */
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from '../errors';
import type { CollationOptions, Hint, Projection, Sort } from '../mongo_types';
import type { ClientSession } from '../sessions';
import { parseCursorReply, RAW_BATCH_BSON, type CursorCreation, type Namespace } from './cursor_response';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type CommandSendOptions, type CommandTarget, type OperationContext } from './operation';
import { formatSort, orderedDocument } from './sort';
import { applyRawData, type RawDataOption } from './raw_data';

/** Options of `collection.find()` (and the chainable FindCursor setters). */
export interface FindOptions extends BaseOperationOptions, RawDataOption {
  sort?: Sort;
  projection?: Projection;
  hint?: Hint;
  skip?: number;
  /** Negative: return a single batch of at most |limit| documents. */
  limit?: number;
  /** Negative: a single batch of at most |batchSize| documents. */
  batchSize?: number;
  singleBatch?: boolean;
  min?: Document;
  max?: Document;
  returnKey?: boolean;
  showRecordId?: boolean;
  tailable?: boolean;
  awaitData?: boolean;
  noCursorTimeout?: boolean;
  /** Deprecated server option, passed through. */
  oplogReplay?: boolean;
  allowPartialResults?: boolean;
  allowDiskUse?: boolean;
  let?: Document;
  collation?: CollationOptions;
  maxTimeMS?: number;
  /** getMore `maxTimeMS` for tailable awaitData cursors. */
  maxAwaitTimeMS?: number;
  /** Keep each batch as raw BSON (findRawBatches). */
  raw?: boolean;
}

function normalizeHint(hint: Hint): Hint {
  return hint;
}

/** The find command document; shared by FindOperation and `cursor.explain()`. */
export function buildFindCommand(ns: Namespace, filter: Document, options: FindOptions): Document {
  const cmd: Document = { find: ns.collection, filter };
  const sort = formatSort(options.sort);
  if (sort) cmd.sort = orderedDocument(sort);
  if (options.projection) {
    const p: unknown = options.projection;
    cmd.projection = Array.isArray(p) ? (p.length ? Object.fromEntries(p.map((f) => [String(f), 1])) : { _id: 1 }) : p;
  }
  if (options.hint) cmd.hint = normalizeHint(options.hint);
  if (typeof options.skip === 'number') cmd.skip = options.skip;
  if (typeof options.limit === 'number' && options.limit !== 0) {
    if (options.limit < 0) {
      cmd.limit = -options.limit;
      cmd.singleBatch = true;
    } else {
      cmd.limit = options.limit;
    }
  }
  if (typeof options.batchSize === 'number' && options.batchSize !== 0) {
    if (options.batchSize < 0) {
      // find_getmore_killcursors_commands: singleBatch = (limit < 0) || (batchSize < 0).
      if (cmd.limit === undefined) cmd.limit = -options.batchSize;
      cmd.singleBatch = true;
    } else {
      // Equal limit and batchSize: ask for one more so the server closes the cursor (crud.md).
      cmd.batchSize = options.batchSize === options.limit ? options.batchSize + 1 : options.batchSize;
    }
  }
  if (typeof options.singleBatch === 'boolean') cmd.singleBatch = options.singleBatch;
  if (options.comment !== undefined) cmd.comment = options.comment;
  if (options.max) cmd.max = options.max;
  if (options.min) cmd.min = options.min;
  if (typeof options.returnKey === 'boolean') cmd.returnKey = options.returnKey;
  if (typeof options.showRecordId === 'boolean') cmd.showRecordId = options.showRecordId;
  if (typeof options.tailable === 'boolean') cmd.tailable = options.tailable;
  if (typeof options.oplogReplay === 'boolean') cmd.oplogReplay = options.oplogReplay;
  if (typeof options.noCursorTimeout === 'boolean') cmd.noCursorTimeout = options.noCursorTimeout;
  if (typeof options.awaitData === 'boolean') cmd.awaitData = options.awaitData;
  if (typeof options.allowPartialResults === 'boolean') cmd.allowPartialResults = options.allowPartialResults;
  if (typeof options.allowDiskUse === 'boolean') cmd.allowDiskUse = options.allowDiskUse;
  if (options.let) cmd.let = options.let;
  if (options.collation) cmd.collation = options.collation;
  if (typeof options.maxTimeMS === 'number') cmd.maxTimeMS = options.maxTimeMS;
  return cmd;
}

export function validateFilter(filter: unknown): Document {
  if (filter === undefined || filter === null) return {};
  if (typeof filter !== 'object' || Array.isArray(filter)) {
    throw new MongoInvalidArgumentError('Query filter must be a plain object or ObjectId');
  }
  if ((filter as { _bsontype?: string })._bsontype === 'ObjectId') return { _id: filter };
  return filter as Document;
}

const FIND_ASPECTS = aspects(Aspect.READ_OPERATION, Aspect.RETRYABLE, Aspect.CURSOR_CREATING);

export class FindOperation extends CommandOperation<CursorCreation> {
  readonly commandName = 'find';

  constructor(
    readonly ns: Namespace,
    readonly filter: Document,
    readonly findOptions: FindOptions
  ) {
    // Object.assign: a spread followed by more properties is much slower on Node 20.
    super(ns.db, Object.assign({}, findOptions, { comment: undefined }));
  }

  get aspects() {
    return FIND_ASPECTS;
  }

  buildCommand(target: CommandTarget, _session?: ClientSession): Document {
    return applyRawData(buildFindCommand(this.ns, this.filter, this.findOptions), this.findOptions, target);
  }

  override sendOptions(): CommandSendOptions | undefined {
    return this.findOptions.raw ? { bson: RAW_BATCH_BSON } : undefined;
  }

  override handleReply(reply: Document, ctx: OperationContext): CursorCreation {
    return Object.assign(parseCursorReply(reply, 'firstBatch', this.ns), { address: ctx.target.address });
  }
}
