/**
 * Database: a named database with inherited read preference, read concern, write concern and
 * timeoutMS (client → database → collection → call).
 */
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from './errors';
import type { MongoClient } from './mongo_client';
import { RunCommandOperation } from './operations/run_command';
import { ChangeStream, type ChangeStreamOptions } from './change_stream';
import type { ChangeStreamDocument } from './change_stream_events';
import { Collection, validateCollectionName, type CollectionOptions } from './collection';
import { DBRef } from 'bson';
import type {
  AggregateCallOptions,
  CreateIndexCallOptions,
  DropCollectionCallOptions,
  FindCallOptions,
  IndexInformationOptions,
  ListCollectionsCallOptions,
  RenameCallOptions
} from './collection';
import { AggregationCursor } from './cursor/aggregation_cursor';
import { RunCommandCursor, type RunCursorCommandCursorType } from './cursor/run_command_cursor';
import { ListCollectionsCursor, type CollectionInfo } from './cursor/list_collections_cursor';
import type { IndexSpecification } from './mongo_types';
import { CreateCollectionOperation, type CreateCollectionOptions } from './operations/create_collection';
import { DbStatsOperation, type DbStatsOptions } from './operations/db_stats';
import { DropCollectionOperation, DropDatabaseOperation } from './operations/drop';
import { inheritOptions, rejectTimeoutOverrideInTransaction, type WithCallOptions } from './operations/inherited_options';
import type { BaseOperationOptions } from './operations/operation';
import { RenameOperation } from './operations/rename';
import { ValidateCollectionOperation, type ValidateCollectionOptions } from './operations/validate_collection';

export type CreateCollectionCallOptions = WithCallOptions<CreateCollectionOptions>;
export type ValidateCollectionCallOptions = WithCallOptions<ValidateCollectionOptions>;

/** `{$ref, $id, $db?}` as a plain document (dbref spec). */
function toDBRefParts(doc: Document): { collection: string; oid: unknown; db?: string } {
  if (typeof doc.$ref !== 'string' || !('$id' in doc)) throw new MongoInvalidArgumentError('dereference needs a DBRef or a {$ref, $id} document');
  return { collection: doc.$ref, oid: doc.$id, db: typeof doc.$db === 'string' ? doc.$db : undefined };
}
import { ReadConcern, type ReadConcernLike } from './read_concern';
import { ReadPreference, type ReadPreferenceLike } from './read_preference';
import type { ClientSession } from './sessions';
import type { TimeoutMode } from './timeout';
import { WriteConcern, type WriteConcernOptions } from './write_concern';

export interface DatabaseOptions {
  readPreference?: ReadPreferenceLike;
  readConcern?: ReadConcernLike;
  writeConcern?: WriteConcernOptions | WriteConcern;
  timeoutMS?: number;
}

export interface RunCommandCallOptions {
  session?: ClientSession;
  readPreference?: ReadPreferenceLike;
  timeoutMS?: number;
}

/**
 * `db.runCursorCommand` options. `batchSize`, `maxTimeMS` and `comment` apply to the getMore
 * commands only (put the first command's own in the command document); `maxTimeMS` cannot be
 * combined with `timeoutMS`. `cursorType` must match the command's tailable/awaitData flags.
 */
export interface RunCursorCommandCallOptions extends RunCommandCallOptions {
  timeoutMode?: TimeoutMode;
  cursorType?: RunCursorCommandCursorType;
  batchSize?: number;
  maxTimeMS?: number;
  comment?: unknown;
}

const INVALID_DB_CHARS = /[/\\. "$\0]/;

export function validateDatabaseName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new MongoInvalidArgumentError('Database name must be a non-empty string');
  if (INVALID_DB_CHARS.test(name)) throw new MongoInvalidArgumentError(`Invalid database name "${name}": it cannot contain / \\ . space " $ or NUL`);
}

export class Database {
  readonly databaseName: string;
  readonly readPreference: ReadPreference;
  readonly readConcern?: ReadConcern;
  readonly writeConcern?: WriteConcern;
  readonly timeoutMS?: number;

  constructor(
    readonly client: MongoClient,
    name: string,
    options: DatabaseOptions = {}
  ) {
    validateDatabaseName(name);
    this.databaseName = name;
    this.readPreference = ReadPreference.fromOptions({ readPreference: options.readPreference }) ?? client.readPreference;
    this.readConcern = ReadConcern.fromOptions({ readConcern: options.readConcern }) ?? client.readConcern;
    this.writeConcern = WriteConcern.fromOptions({ writeConcern: options.writeConcern }) ?? client.writeConcern;
    this.timeoutMS = options.timeoutMS ?? client.timeoutMS;
  }

  /** Motor/PyMongo spelling. */
  get name(): string {
    return this.databaseName;
  }

  /** A copy of this handle with some options replaced. */
  withOptions(options: DatabaseOptions): Database {
    return new Database(this.client, this.databaseName, {
      readPreference: options.readPreference ?? this.readPreference,
      readConcern: options.readConcern ?? this.readConcern,
      writeConcern: options.writeConcern ?? this.writeConcern,
      timeoutMS: options.timeoutMS ?? this.timeoutMS
    });
  }

  collection<TSchema extends Document = Document>(name: string, options?: CollectionOptions): Collection<TSchema> {
    return new Collection<TSchema>(this, name, options);
  }

  /** Motor's spelling. */
  getCollection<TSchema extends Document = Document>(name: string, options?: CollectionOptions): Collection<TSchema> {
    return this.collection<TSchema>(name, options);
  }

  /** Runs a database command as given (run-command spec). Defaults to read preference primary. */
  async command<T extends Document = Document>(command: Document, options: RunCommandCallOptions = {}): Promise<T> {
    if (command === null || typeof command !== 'object' || Array.isArray(command) || Object.keys(command).length === 0) {
      throw new MongoInvalidArgumentError('command must be a non-empty document');
    }
    rejectTimeoutOverrideInTransaction(options);
    const readPreference = ReadPreference.fromOptions({ readPreference: options.readPreference }) ?? ReadPreference.primary;
    return this.client.executeOperation(
      new RunCommandOperation<T>(this.databaseName, command, { session: options.session, readPreference, timeoutMS: options.timeoutMS ?? this.timeoutMS })
    );
  }

  /**
   * Runs a cursor-returning command as given and iterates its cursor with getMore on the same
   * server and session (run-command.md "runCursorCommand"). Nothing is sent until iteration.
   * Defaults to read preference primary, like `command`.
   */
  runCursorCommand<T = Document>(command: Document, options: RunCursorCommandCallOptions = {}): RunCommandCursor<T> {
    if (command === null || typeof command !== 'object' || Array.isArray(command) || Object.keys(command).length === 0) {
      throw new MongoInvalidArgumentError('command must be a non-empty document');
    }
    rejectTimeoutOverrideInTransaction(options);
    const readPreference = ReadPreference.fromOptions({ readPreference: options.readPreference }) ?? ReadPreference.primary;
    return new RunCommandCursor<T>(this.client, this.databaseName, command, { ...options, readPreference, timeoutMS: options.timeoutMS ?? this.timeoutMS });
  }

  // ---------------------------------------------------------------- reads, cursors, collection management

  /** Database-level aggregation (`{aggregate: 1}`), e.g. `$currentOp`, `$listLocalSessions` on admin. */
  aggregate<T extends Document = Document>(pipeline: Document[] = [], options?: AggregateCallOptions): AggregationCursor<T> {
    return new AggregationCursor<T>(this.client, { db: this.databaseName, collection: '' }, pipeline, inheritOptions(this, options));
  }

  /** Creates a collection (capped, validator, timeseries, clusteredIndex, …) and returns its handle. */
  async createCollection<TSchema extends Document = Document>(name: string, options: CreateCollectionCallOptions = {}): Promise<Collection<TSchema>> {
    validateCollectionName(name);
    const resolved = inheritOptions(this, options);
    await this.client.executeOperation(new CreateCollectionOperation(this.databaseName, name, { ...resolved, readConcern: undefined }));
    return this.collection<TSchema>(name);
  }

  /** Drops a collection; false when it did not exist. */
  async dropCollection(name: string, options?: DropCollectionCallOptions): Promise<boolean> {
    return this.client.executeOperation(new DropCollectionOperation(this.databaseName, name, inheritOptions(this, options)));
  }

  /** A cursor over the collections of this database. */
  listCollections<T extends Document = CollectionInfo>(filter: Document = {}, options?: ListCollectionsCallOptions): ListCollectionsCursor<T> {
    return new ListCollectionsCursor<T>(this.client, this.databaseName, filter, inheritOptions(this, options));
  }

  /** The names of the collections (listCollections with nameOnly). */
  async listCollectionNames(filter: Document = {}, options?: ListCollectionsCallOptions): Promise<string[]> {
    const infos = await this.listCollections(filter, { nameOnly: true, ...options }).toArray();
    return infos.map((info) => String(info.name));
  }

  /** Renames `from` to `to` within this database; returns the new handle. */
  async renameCollection<TSchema extends Document = Document>(from: string, to: string, options?: RenameCallOptions): Promise<Collection<TSchema>> {
    validateCollectionName(to);
    const resolved = inheritOptions({ readPreference: ReadPreference.primary }, options);
    await this.client.executeOperation(new RenameOperation(`${this.databaseName}.${from}`, `${this.databaseName}.${to}`, resolved));
    return this.collection<TSchema>(to);
  }

  /** Motor's `dereference`: the document a DBRef points to (in its `$db` when set), or null. */
  async dereference<T extends Document = Document>(dbref: DBRef | Document, options?: FindCallOptions): Promise<T | null> {
    const ref = dbref instanceof DBRef ? { collection: dbref.collection, oid: dbref.oid as unknown, db: dbref.db } : toDBRefParts(dbref);
    const db = ref.db && ref.db !== this.databaseName ? this.client.db(ref.db) : this;
    return (await db.collection(ref.collection).findOne({ _id: ref.oid } as Document, options)) as T | null;
  }

  /** Runs `validate` on a collection; an invalid collection raises MongoUnexpectedServerResponseError. */
  async validateCollection(name: string, options: ValidateCollectionCallOptions = {}): Promise<Document> {
    const resolved = inheritOptions({ readPreference: ReadPreference.primary }, options);
    return this.client.executeOperation(new ValidateCollectionOperation(this.databaseName, name, resolved));
  }

  /** Drops this database. */
  async dropDatabase(options?: WithCallOptions<BaseOperationOptions>): Promise<boolean> {
    return this.client.executeOperation(new DropDatabaseOperation(this.databaseName, inheritOptions(this, options)));
  }

  /** `dbStats`. */
  async stats(options?: WithCallOptions<DbStatsOptions>): Promise<Document> {
    return this.client.executeOperation(new DbStatsOperation(this.databaseName, inheritOptions(this, options)));
  }

  /** Creates an index on `collection`; returns its name. */
  async createIndex(collection: string, keys: IndexSpecification, options?: CreateIndexCallOptions): Promise<string> {
    return this.collection(collection).createIndex(keys, options);
  }

  /** `{name: [[field, direction], …]}` (or full descriptions) for `collection`'s indexes. */
  async indexInformation(collection: string, options?: IndexInformationOptions): Promise<Document> {
    return this.collection(collection).indexInformation(options);
  }

  /** A change stream on every collection of this database (4.0+, `aggregate: 1`). */
  watch<TSchema extends Document = Document, TChange extends Document = ChangeStreamDocument<TSchema>>(
    pipeline: Document[] = [],
    options: ChangeStreamOptions = {}
  ): ChangeStream<TSchema, TChange> {
    return new ChangeStream<TSchema, TChange>(this.client, { db: this.databaseName, collection: '' }, pipeline, options, this);
  }
}
