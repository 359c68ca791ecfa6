/**
 * The `findAndModify` command behind findOneAndUpdate / findOneAndReplace / findOneAndDelete.
 * The result is the document (before or after the write) or null, or with
 * `includeResultMetadata: true` the whole reply (`{ value, lastErrorObject, ok }`).
 */
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from '../errors';
import type { CollationOptions, Hint, Projection, Sort } from '../mongo_types';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type CommandTarget } from './operation';
import { applyRawData, type RawDataOption } from './raw_data';
import { assertFilter, assertHintAllowed, assertReplacement, assertUpdate, formatSort } from './update';
import { throwIfWriteConcernError, type Namespace } from './write_command';

export const ReturnDocument = Object.freeze({ BEFORE: 'before', AFTER: 'after' } as const);
export type ReturnDocument = (typeof ReturnDocument)[keyof typeof ReturnDocument];

export interface FindOneAndDeleteOptions extends BaseOperationOptions, RawDataOption {
  projection?: Projection;
  sort?: Sort;
  collation?: CollationOptions | Document;
  hint?: Hint;
  let?: Document;
  maxTimeMS?: number;
  /** Return the whole reply (`value`, `lastErrorObject`, `ok`) instead of the document. */
  includeResultMetadata?: boolean;
}

export interface FindOneAndReplaceOptions extends FindOneAndDeleteOptions {
  /** Return the document as it was `'before'` (default) or is `'after'` the write. */
  returnDocument?: ReturnDocument;
  upsert?: boolean;
  bypassDocumentValidation?: boolean;
}

export interface FindOneAndUpdateOptions extends FindOneAndReplaceOptions {
  arrayFilters?: Document[];
}

/** The reply with `includeResultMetadata: true`. */
export interface ModifyResult<TSchema = Document> {
  value: TSchema | null;
  lastErrorObject?: Document;
  ok: 0 | 1;
}

type FindAndModifyKind =
  | { remove: true }
  | { remove: false; update: Document | Document[]; isReplacement: boolean };

const FIND_AND_MODIFY_ASPECTS = aspects(Aspect.WRITE_OPERATION, Aspect.RETRYABLE);

export class FindAndModifyOperation<TResult = Document | null> extends CommandOperation<TResult> {
  readonly commandName = 'findAndModify';

  private constructor(
    private readonly ns: Namespace,
    private readonly filter: Document,
    private readonly kind: FindAndModifyKind,
    private readonly modifyOptions: FindOneAndUpdateOptions
  ) {
    super(ns.db, modifyOptions);
    const rd = modifyOptions.returnDocument;
    if (rd !== undefined && rd !== ReturnDocument.BEFORE && rd !== ReturnDocument.AFTER) {
      throw new MongoInvalidArgumentError(`returnDocument must be 'before' or 'after', got ${JSON.stringify(rd)}`);
    }
  }

  static deleteOne(ns: Namespace, filter: Document, options: FindOneAndDeleteOptions = {}): FindAndModifyOperation {
    assertFilter(filter);
    return new FindAndModifyOperation(ns, filter, { remove: true }, options);
  }

  static replaceOne(ns: Namespace, filter: Document, replacement: Document, options: FindOneAndReplaceOptions = {}): FindAndModifyOperation {
    assertFilter(filter);
    assertReplacement(replacement);
    return new FindAndModifyOperation(ns, filter, { remove: false, update: replacement, isReplacement: true }, options);
  }

  static updateOne(ns: Namespace, filter: Document, update: Document | Document[], options: FindOneAndUpdateOptions = {}): FindAndModifyOperation {
    assertFilter(filter);
    assertUpdate(update);
    return new FindAndModifyOperation(ns, filter, { remove: false, update, isReplacement: false }, options);
  }

  get aspects(): ReadonlySet<Aspect> {
    return FIND_AND_MODIFY_ASPECTS;
  }

  buildCommand(target: CommandTarget): Document {
    const o = this.modifyOptions;
    const unacknowledged = this.writeConcern !== undefined && !this.writeConcern.isAcknowledged;
    if (o.hint !== undefined) assertHintAllowed([{ hint: o.hint }], unacknowledged, target);
    const command: Document = { findAndModify: this.ns.collection, query: this.filter, remove: this.kind.remove, new: false, upsert: false };
    const sort = formatSort(o.sort);
    if (sort) command.sort = sort;
    if (o.projection) command.fields = o.projection;
    if (o.maxTimeMS) command.maxTimeMS = o.maxTimeMS;
    if (o.let) command.let = o.let;
    if (o.comment !== undefined) command.comment = o.comment;
    if (o.collation) command.collation = o.collation;
    if (o.hint) command.hint = o.hint;
    if (!this.kind.remove) {
      command.update = this.kind.update;
      command.new = o.returnDocument === ReturnDocument.AFTER;
      command.upsert = o.upsert === true;
      if (typeof o.bypassDocumentValidation === 'boolean') command.bypassDocumentValidation = o.bypassDocumentValidation;
      if (!this.kind.isReplacement && o.arrayFilters) command.arrayFilters = o.arrayFilters;
    }
    return applyRawData(command, o, target);
  }

  override handleReply(reply: Document): TResult {
    throwIfWriteConcernError(reply);
    if (this.modifyOptions.includeResultMetadata) return reply as TResult;
    return (reply.value ?? null) as TResult;
  }
}
