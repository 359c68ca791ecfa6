/** countDocuments (crud.md): `aggregate [$match, $skip?, $limit?, $group {_id: 1, n: {$sum: 1}}]`. */
import type { Document } from 'bson';
import type { CollationOptions, Hint } from '../mongo_types';
import { buildAggregateCommand } from './aggregate';
import { parseCursorReply, type Namespace } from './cursor_response';
import { applyRawData, type RawDataOption } from './raw_data';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type CommandTarget } from './operation';

export interface CountDocumentsOptions extends BaseOperationOptions, RawDataOption {
  skip?: number;
  limit?: number;
  hint?: Hint;
  collation?: CollationOptions;
  maxTimeMS?: number;
}

export function countDocumentsPipeline(filter: Document, options: CountDocumentsOptions): Document[] {
  const pipeline: Document[] = [{ $match: filter }];
  if (typeof options.skip === 'number') pipeline.push({ $skip: options.skip });
  if (typeof options.limit === 'number') pipeline.push({ $limit: options.limit });
  pipeline.push({ $group: { _id: 1, n: { $sum: 1 } } });
  return pipeline;
}

const COUNT_DOCUMENTS_ASPECTS = aspects(Aspect.READ_OPERATION, Aspect.RETRYABLE);

export class CountDocumentsOperation extends CommandOperation<number> {
  readonly commandName = 'aggregate';

  constructor(
    readonly ns: Namespace,
    private readonly filter: Document,
    private readonly countOptions: CountDocumentsOptions
  ) {
    super(ns.db, { ...countOptions, comment: undefined });
  }

  get aspects() {
    return COUNT_DOCUMENTS_ASPECTS;
  }

  buildCommand(target: CommandTarget): Document {
    const { skip: _skip, limit: _limit, ...options } = this.countOptions;
    return applyRawData(buildAggregateCommand(this.ns.collection, countDocumentsPipeline(this.filter, this.countOptions), options), options, target);
  }

  /** `n` from the single batch; no document means 0. */
  override handleReply(reply: Document): number {
    const n: unknown = parseCursorReply(reply, 'firstBatch', this.ns).documents[0]?.n;
    return n === undefined || n === null ? 0 : Number(n);
  }
}
