/**
 * Database: a named database with inherited read preference, read concern, write concern and
 * timeoutMS (client → database → collection → call).
 */
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from './errors';
import type { MongoClient } from './mongo_client';
import { RunCommandOperation } from './operations/run_command';
import { Collection, type CollectionOptions } from './collection';
import { ReadConcern, type ReadConcernLike } from './read_concern';
import { ReadPreference, type ReadPreferenceLike } from './read_preference';
import type { ClientSession } from './sessions';
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
    const readPreference = ReadPreference.fromOptions({ readPreference: options.readPreference }) ?? ReadPreference.primary;
    return this.client.executeOperation(
      new RunCommandOperation<T>(this.databaseName, command, { session: options.session, readPreference, timeoutMS: options.timeoutMS ?? this.timeoutMS })
    );
  }
}
