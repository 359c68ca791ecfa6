/** estimatedDocumentCount (crud.md): the `count` command with no query. */
import type { Document } from 'bson';
import type { Namespace } from './cursor_response';
import { applyRawData, type RawDataOption } from './raw_data';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type CommandTarget } from './operation';

export interface EstimatedDocumentCountOptions extends BaseOperationOptions, RawDataOption {
  maxTimeMS?: number;
}

const COUNT_ASPECTS = aspects(Aspect.READ_OPERATION, Aspect.RETRYABLE);

export class EstimatedDocumentCountOperation extends CommandOperation<number> {
  readonly commandName = 'count';

  constructor(
    readonly ns: Namespace,
    private readonly countOptions: EstimatedDocumentCountOptions
  ) {
    super(ns.db, { ...countOptions, comment: undefined });
  }

  get aspects() {
    return COUNT_ASPECTS;
  }

  buildCommand(target: CommandTarget): Document {
    const cmd: Document = { count: this.ns.collection };
    if (typeof this.countOptions.maxTimeMS === 'number') cmd.maxTimeMS = this.countOptions.maxTimeMS;
    if (this.countOptions.comment !== undefined) cmd.comment = this.countOptions.comment;
    return applyRawData(cmd, this.countOptions, target);
  }

  override handleReply(reply: Document): number {
    return reply.n === undefined || reply.n === null ? 0 : Number(reply.n);
  }
}
