/** The `validate` command; an invalid collection raises MongoUnexpectedServerResponseError. */
import type { Document } from 'bson';
import { MongoUnexpectedServerResponseError } from '../errors';
import { aspects, CommandOperation, type BaseOperationOptions } from './operation';

export interface ValidateCollectionOptions extends BaseOperationOptions {
  full?: boolean;
  background?: boolean;
  repair?: boolean;
  checkBSONConformance?: boolean;
  /** Other options are passed through. */
  [option: string]: unknown;
}

const DRIVER_ONLY = new Set(['session', 'readPreference', 'readConcern', 'writeConcern', 'timeoutMS']);

export class ValidateCollectionOperation extends CommandOperation<Document> {
  readonly commandName = 'validate';

  constructor(
    db: string,
    private readonly collectionName: string,
    private readonly validateOptions: ValidateCollectionOptions
  ) {
    super(db, { ...validateOptions, comment: undefined });
  }

  get aspects() {
    return aspects();
  }

  override get supportsReadConcern(): boolean {
    return false;
  }

  buildCommand(): Document {
    const cmd: Document = { validate: this.collectionName };
    for (const [option, value] of Object.entries(this.validateOptions)) {
      if (value !== undefined && !DRIVER_ONLY.has(option)) cmd[option] = value;
    }
    return cmd;
  }

  override handleReply(reply: Document): Document {
    const result: unknown = reply.result;
    if (result != null && typeof result !== 'string') throw new MongoUnexpectedServerResponseError('Error with validation data');
    if (typeof result === 'string' && /exception|corrupt/.test(result)) {
      throw new MongoUnexpectedServerResponseError(`Invalid collection ${this.collectionName}`);
    }
    if (reply.valid != null && !reply.valid) throw new MongoUnexpectedServerResponseError(`Invalid collection ${this.collectionName}`);
    return reply;
  }
}
