/** `drop` (a collection) and `dropDatabase`. Dropping a missing collection is not an error. */
import type { Document } from 'bson';
import { MongoServerError } from '../errors';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type OperationContext } from './operation';

const NAMESPACE_NOT_FOUND = 26;
const DROP_ASPECTS = aspects(Aspect.WRITE_OPERATION);

export interface DropCollectionOptions extends BaseOperationOptions {
  maxTimeMS?: number;
}

/** Resolves true when dropped, false when the collection did not exist. */
export class DropCollectionOperation extends CommandOperation<boolean> {
  readonly commandName = 'drop';

  constructor(
    db: string,
    readonly name: string,
    private readonly dropOptions: DropCollectionOptions = {}
  ) {
    super(db, dropOptions);
  }

  get aspects() {
    return DROP_ASPECTS;
  }

  buildCommand(): Document {
    const cmd: Document = { drop: this.name };
    if (typeof this.dropOptions.maxTimeMS === 'number') cmd.maxTimeMS = this.dropOptions.maxTimeMS;
    return cmd;
  }

  override handleReply(): boolean {
    return true;
  }

  override async execute(ctx: OperationContext): Promise<boolean> {
    try {
      return await super.execute(ctx);
    } catch (error) {
      if (error instanceof MongoServerError && (error.code === NAMESPACE_NOT_FOUND || error.message.includes('ns not found'))) return false;
      throw error;
    }
  }
}

export class DropDatabaseOperation extends CommandOperation<boolean> {
  readonly commandName = 'dropDatabase';

  constructor(db: string, options: BaseOperationOptions = {}) {
    super(db, options);
  }

  get aspects() {
    return DROP_ASPECTS;
  }

  buildCommand(): Document {
    return { dropDatabase: 1 };
  }

  override handleReply(): boolean {
    return true;
  }
}
