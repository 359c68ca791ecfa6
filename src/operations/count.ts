/**
 * The deprecated `Collection.count` helper (crud.md "Count API Details"): the `count` command with
 * the query and its options, a retryable read. Prefer countDocuments / estimatedDocumentCount.
 */
import type { Document } from 'bson';
import type { CollationOptions, Hint } from '../mongo_types';
import type { Namespace } from './cursor_response';
import { applyRawData, type RawDataOption } from './raw_data';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type CommandTarget } from './operation';

export interface CountOptions extends BaseOperationOptions, RawDataOption {
  skip?: number;
  limit?: number;
  hint?: Hint;
  collation?: CollationOptions;
  maxTimeMS?: number;
}

const COUNT_ASPECTS = aspects(Aspect.READ_OPERATION, Aspect.RETRYABLE);

export class CountOperation extends CommandOperation<number> {
  readonly commandName = 'count';

  constructor(
    readonly ns: Namespace,
    private readonly filter: Document,
    private readonly countOptions: CountOptions
  ) {
    super(ns.db, countOptions);
  }

  get aspects() {
    return COUNT_ASPECTS;
  }

  buildCommand(target: CommandTarget): Document {
    const o = this.countOptions;
    const cmd: Document = { count: this.ns.collection, query: this.filter };
    if (typeof o.limit === 'number') cmd.limit = o.limit;
    if (typeof o.skip === 'number') cmd.skip = o.skip;
    if (o.hint != null) cmd.hint = o.hint;
    if (o.collation) cmd.collation = o.collation;
    if (typeof o.maxTimeMS === 'number') cmd.maxTimeMS = o.maxTimeMS;
    return applyRawData(cmd, o, target);
  }

  override handleReply(reply: Document): number {
    return reply.n === undefined || reply.n === null ? 0 : Number(reply.n);
  }
}
