/** `getMore` (find_getmore_killcursors_commands.md): pinned to the cursor's server and session. */
import type { Document, Long } from 'bson';
import { awaitDataMaxTimeMS } from '../timeout';
import { parseCursorReply, RAW_BATCH_BSON, type CursorBatch, type Namespace } from './cursor_response';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type CommandSendOptions, type CommandTarget } from './operation';

export interface GetMoreOptions extends BaseOperationOptions {
  batchSize?: number;
  /**
   * Sent as the getMore's `maxTimeMS` (tailable awaitData cursors: maxAwaitTimeMS). Under CSOT it
   * is capped by `remaining timeoutMS − minRoundTripTime` of `timeoutContext` (cursors run their
   * getMores with `omitMaxTimeMS`, so the executor leaves this value alone).
   */
  maxTimeMS?: number;
  raw?: boolean;
}

/** The server accepts `comment` on getMore from 4.4 (wire 9). */
const COMMENT_ON_GETMORE_WIRE_VERSION = 9;
const GET_MORE_ASPECTS = aspects(Aspect.READ_OPERATION, Aspect.MUST_SELECT_SAME_SERVER);

export class GetMoreOperation extends CommandOperation<CursorBatch> {
  readonly commandName = 'getMore';

  constructor(
    readonly ns: Namespace,
    readonly cursorId: Long,
    address: string,
    readonly getMoreOptions: GetMoreOptions
  ) {
    super(ns.db, { ...getMoreOptions, comment: undefined, readConcern: undefined });
    this.serverAddress = address;
  }

  get aspects() {
    return GET_MORE_ASPECTS;
  }

  /** getMore never carries a read concern (only the cursor-creating command does). */
  override get supportsReadConcern(): boolean {
    return false;
  }

  buildCommand(target: CommandTarget): Document {
    const cmd: Document = { getMore: this.cursorId, collection: this.ns.collection };
    const { batchSize, maxTimeMS, comment } = this.getMoreOptions;
    if (typeof batchSize === 'number' && batchSize !== 0) cmd.batchSize = Math.abs(batchSize);
    if (typeof maxTimeMS === 'number') cmd.maxTimeMS = awaitDataMaxTimeMS(maxTimeMS, this.options.timeoutContext, target.description.minRoundTripTime);
    if (comment !== undefined && target.maxWireVersion >= COMMENT_ON_GETMORE_WIRE_VERSION) cmd.comment = comment;
    return cmd;
  }

  override sendOptions(): CommandSendOptions | undefined {
    return this.getMoreOptions.raw ? { bson: RAW_BATCH_BSON } : undefined;
  }

  override handleReply(reply: Document): CursorBatch {
    return parseCursorReply(reply, 'nextBatch', this.ns);
  }
}
