/**
 * The cursor-creating command of `db.runCursorCommand` (run-command.md "runCursorCommand"): the
 * caller's document sent as given (plus session, $readPreference, $db, like runCommand), its reply
 * read as a cursor. A reply without a `cursor` document is an error (MongoUnexpectedServerResponseError).
 */
import type { Document } from 'bson';
import { parseCursorReply, type CursorCreation } from './cursor_response';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type OperationContext } from './operation';

const RUN_CURSOR_COMMAND_ASPECTS = aspects(Aspect.CURSOR_CREATING);

export class RunCursorCommandOperation extends CommandOperation<CursorCreation> {
  readonly commandName: string;

  constructor(
    db: string,
    private readonly command: Document,
    options: BaseOperationOptions = {}
  ) {
    // The options' comment is for getMore only: the command carries its own.
    super(db, { ...options, comment: undefined, readConcern: undefined, writeConcern: undefined });
    this.commandName = Object.keys(command)[0] ?? '';
  }

  get aspects() {
    return RUN_CURSOR_COMMAND_ASPECTS;
  }

  /** As runCommand: no read or write concern of its own. */
  override get supportsReadConcern(): boolean {
    return false;
  }

  override get supportsWriteConcern(): boolean {
    return false;
  }

  buildCommand(): Document {
    return { ...this.command };
  }

  override handleReply(reply: Document, ctx: OperationContext): CursorCreation {
    const target = this.command[this.commandName];
    const fallback = { db: this.db, collection: typeof target === 'string' ? target : `$cmd.${this.commandName}` };
    return { ...parseCursorReply(reply, 'firstBatch', fallback), address: ctx.target.address };
  }
}
