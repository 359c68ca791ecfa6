/** The `distinct` command (crud.md "Distinct"). */
import type { Document } from 'bson';
import type { CollationOptions, Hint } from '../mongo_types';
import type { Namespace } from './cursor_response';
import { applyRawData, type RawDataOption } from './raw_data';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type CommandTarget } from './operation';

export interface DistinctOptions extends BaseOperationOptions, RawDataOption {
  collation?: CollationOptions;
  hint?: Hint;
  maxTimeMS?: number;
}

const DISTINCT_ASPECTS = aspects(Aspect.READ_OPERATION, Aspect.RETRYABLE);

export class DistinctOperation extends CommandOperation<unknown[]> {
  readonly commandName = 'distinct';

  constructor(
    readonly ns: Namespace,
    private readonly key: string,
    private readonly query: Document,
    private readonly distinctOptions: DistinctOptions
  ) {
    super(ns.db, { ...distinctOptions, comment: undefined });
  }

  get aspects() {
    return DISTINCT_ASPECTS;
  }

  buildCommand(target: CommandTarget): Document {
    const cmd: Document = { distinct: this.ns.collection, key: this.key, query: this.query };
    const o = this.distinctOptions;
    if (o.comment !== undefined) cmd.comment = o.comment;
    if (o.hint != null) cmd.hint = o.hint;
    if (o.collation) cmd.collation = o.collation;
    if (typeof o.maxTimeMS === 'number') cmd.maxTimeMS = o.maxTimeMS;
    return applyRawData(cmd, o, target);
  }

  override handleReply(reply: Document): unknown[] {
    return Array.isArray(reply.values) ? (reply.values as unknown[]) : [];
  }
}
