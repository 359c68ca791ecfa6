/** `db.command(doc)` (run-command spec): sent as given, plus session, $readPreference and $db. */
import type { Document } from 'bson';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions } from './operation';

export interface RunCommandOptions extends BaseOperationOptions {
  /** Never attach a session (endSessions at close). */
  noSession?: boolean;
}

const WITH_SESSION = aspects();
const WITHOUT_SESSION = aspects(Aspect.NO_SESSION);

export class RunCommandOperation<T extends Document = Document> extends CommandOperation<T> {
  readonly commandName: string;

  constructor(
    db: string,
    private readonly command: Document,
    private readonly runOptions: RunCommandOptions = {}
  ) {
    super(db, runOptions);
    this.commandName = Object.keys(command)[0] ?? '';
  }

  get aspects() {
    return this.runOptions.noSession ? WITHOUT_SESSION : WITH_SESSION;
  }

  /** runCommand never adds a read or write concern of its own. */
  override get supportsReadConcern(): boolean {
    return false;
  }

  override get supportsWriteConcern(): boolean {
    return false;
  }

  buildCommand(): Document {
    return { ...this.command };
  }
}
