/** `listCollections` (enumerate-collections.md): always the command form, returning a cursor. */
import type { Document } from 'bson';
import { parseCursorReply, type CursorCreation } from './cursor_response';
import { applyRawData, type RawDataOption } from './raw_data';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type CommandTarget, type OperationContext } from './operation';

export interface ListCollectionsOptions extends BaseOperationOptions, RawDataOption {
  nameOnly?: boolean;
  authorizedCollections?: boolean;
  batchSize?: number;
}

const LIST_ASPECTS = aspects(Aspect.READ_OPERATION, Aspect.RETRYABLE, Aspect.CURSOR_CREATING);

export class ListCollectionsOperation extends CommandOperation<CursorCreation> {
  readonly commandName = 'listCollections';

  constructor(
    db: string,
    private readonly filter: Document,
    private readonly listOptions: ListCollectionsOptions
  ) {
    super(db, { ...listOptions, comment: undefined, readConcern: undefined });
  }

  get aspects() {
    return LIST_ASPECTS;
  }

  override get supportsReadConcern(): boolean {
    return false;
  }

  buildCommand(target: CommandTarget): Document {
    const o = this.listOptions;
    const cmd: Document = {
      listCollections: 1,
      filter: this.filter,
      cursor: o.batchSize ? { batchSize: o.batchSize } : {},
      nameOnly: o.nameOnly ?? false,
      authorizedCollections: o.authorizedCollections ?? false
    };
    if (o.comment !== undefined) cmd.comment = o.comment;
    return applyRawData(cmd, o, target);
  }

  override handleReply(reply: Document, ctx: OperationContext): CursorCreation {
    return { ...parseCursorReply(reply, 'firstBatch', { db: this.db, collection: '$cmd.listCollections' }), address: ctx.target.address };
  }
}
