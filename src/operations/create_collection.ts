/** The `create` command (collection-management.md): every option except driver-side ones is sent. */
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from '../errors';
import type { CollationOptions } from '../mongo_types';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions } from './operation';

export interface TimeSeriesCollectionOptions {
  timeField: string;
  metaField?: string;
  granularity?: 'seconds' | 'minutes' | 'hours' | string;
  bucketMaxSpanSeconds?: number;
  bucketRoundingSeconds?: number;
}

export interface ClusteredCollectionOptions {
  name?: string;
  key: Document;
  unique: boolean;
}

export interface CreateCollectionOptions extends BaseOperationOptions {
  capped?: boolean;
  size?: number;
  max?: number;
  autoIndexId?: boolean;
  storageEngine?: Document;
  validator?: Document;
  validationLevel?: 'off' | 'strict' | 'moderate' | string;
  validationAction?: 'error' | 'warn' | string;
  indexOptionDefaults?: Document;
  viewOn?: string;
  pipeline?: Document[];
  collation?: CollationOptions;
  timeseries?: TimeSeriesCollectionOptions;
  expireAfterSeconds?: number;
  clusteredIndex?: ClusteredCollectionOptions;
  changeStreamPreAndPostImages?: { enabled: boolean };
  maxTimeMS?: number;
  /** Any other option the server accepts is passed through. */
  [option: string]: unknown;
}

/** Options that configure the driver, never the `create` command. */
const DRIVER_ONLY = new Set(['session', 'readPreference', 'readConcern', 'writeConcern', 'timeoutMS', 'w', 'wtimeout', 'wtimeoutMS', 'j', 'journal', 'fsync', 'raw']);

const CREATE_ASPECTS = aspects(Aspect.WRITE_OPERATION);

export class CreateCollectionOperation extends CommandOperation<void> {
  readonly commandName = 'create';

  constructor(
    db: string,
    readonly name: string,
    private readonly createOptions: CreateCollectionOptions
  ) {
    super(db, { ...createOptions, comment: undefined });
    if (createOptions.encryptedFields !== undefined) {
      throw new MongoInvalidArgumentError('encryptedFields (Queryable Encryption) is not supported by this driver');
    }
  }

  get aspects() {
    return CREATE_ASPECTS;
  }

  buildCommand(): Document {
    const cmd: Document = { create: this.name };
    for (const [option, value] of Object.entries(this.createOptions)) {
      if (value === undefined || value === null || typeof value === 'function' || DRIVER_ONLY.has(option)) continue;
      cmd[option] = value;
    }
    return cmd;
  }

  override handleReply(): void {
    return undefined;
  }
}
