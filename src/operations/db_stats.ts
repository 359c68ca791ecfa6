/** `dbStats` for `db.stats()`. */
import type { Document } from 'bson';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions } from './operation';

export interface DbStatsOptions extends BaseOperationOptions {
  scale?: number;
}

export class DbStatsOperation extends CommandOperation<Document> {
  readonly commandName = 'dbStats';

  constructor(
    db: string,
    private readonly statsOptions: DbStatsOptions
  ) {
    super(db, { ...statsOptions, readConcern: undefined });
  }

  get aspects() {
    return aspects(Aspect.READ_OPERATION);
  }

  override get supportsReadConcern(): boolean {
    return false;
  }

  buildCommand(): Document {
    const cmd: Document = { dbStats: true };
    if (this.statsOptions.scale != null) cmd.scale = this.statsOptions.scale;
    return cmd;
  }
}
