/** `killCursors`: sent to the server that owns the cursor, in the cursor's session. */
import type { Document, Long } from 'bson';
import type { Namespace } from './cursor_response';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions } from './operation';

const KILL_CURSORS_ASPECTS = aspects(Aspect.MUST_SELECT_SAME_SERVER);

export class KillCursorsOperation extends CommandOperation<void> {
  readonly commandName = 'killCursors';

  constructor(
    readonly ns: Namespace,
    readonly cursorId: Long,
    address: string,
    options: BaseOperationOptions
  ) {
    super(ns.db, { session: options.session, readPreference: options.readPreference, timeoutMS: options.timeoutMS });
    this.serverAddress = address;
  }

  get aspects() {
    return KILL_CURSORS_ASPECTS;
  }

  override get supportsReadConcern(): boolean {
    return false;
  }

  buildCommand(): Document {
    return { killCursors: this.ns.collection, cursors: [this.cursorId] };
  }

  override handleReply(): void {
    return undefined;
  }
}
