/**
 * Collection<TSchema>: the CRUD surface. Each method builds an operation (src/operations/) and runs
 * it through the client's executor; options inherit client → database → collection → call.
 *
 * The class is organised in regions: writes (insert/update/delete/findAndModify/bulkWrite) and
 * reads/cursors/indexes/management. Keep each method a thin adapter over its operation.
 */
import type { Document } from 'bson';
import type { Database } from './database';
import { MongoInvalidArgumentError } from './errors';
import type { MongoClient } from './mongo_client';
import { ReadConcern, type ReadConcernLike } from './read_concern';
import { ReadPreference, type ReadPreferenceLike } from './read_preference';
import { WriteConcern, type WriteConcernOptions } from './write_concern';

export interface CollectionOptions {
  readPreference?: ReadPreferenceLike;
  readConcern?: ReadConcernLike;
  writeConcern?: WriteConcernOptions | WriteConcern;
  timeoutMS?: number;
}

export function validateCollectionName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new MongoInvalidArgumentError('Collection name must be a non-empty string');
  if (name.includes('\0')) throw new MongoInvalidArgumentError('Collection names cannot contain a null character');
  if (name.startsWith('.') || name.endsWith('.')) throw new MongoInvalidArgumentError(`Collection name "${name}" must not start or end with "."`);
  if (name.includes('$') && !name.startsWith('$cmd') && !/^oplog\.\$main$/.test(name)) {
    throw new MongoInvalidArgumentError(`Collection name "${name}" must not contain "$"`);
  }
}

export class Collection<TSchema extends Document = Document> {
  readonly collectionName: string;
  readonly readPreference: ReadPreference;
  readonly readConcern?: ReadConcern;
  readonly writeConcern?: WriteConcern;
  readonly timeoutMS?: number;

  constructor(
    readonly db: Database,
    name: string,
    options: CollectionOptions = {}
  ) {
    validateCollectionName(name);
    this.collectionName = name;
    this.readPreference = ReadPreference.fromOptions({ readPreference: options.readPreference }) ?? db.readPreference;
    this.readConcern = ReadConcern.fromOptions({ readConcern: options.readConcern }) ?? db.readConcern;
    this.writeConcern = WriteConcern.fromOptions({ writeConcern: options.writeConcern }) ?? db.writeConcern;
    this.timeoutMS = options.timeoutMS ?? db.timeoutMS;
  }

  get client(): MongoClient {
    return this.db.client;
  }

  get dbName(): string {
    return this.db.databaseName;
  }

  /** Motor/PyMongo spelling. */
  get name(): string {
    return this.collectionName;
  }

  /** `db.collection` */
  get namespace(): string {
    return `${this.dbName}.${this.collectionName}`;
  }

  /** Motor's `full_name`. */
  get fullName(): string {
    return this.namespace;
  }

  /** A copy of this handle with some options replaced. */
  withOptions<T extends Document = TSchema>(options: CollectionOptions): Collection<T> {
    return new Collection<T>(this.db, this.collectionName, {
      readPreference: options.readPreference ?? this.readPreference,
      readConcern: options.readConcern ?? this.readConcern,
      writeConcern: options.writeConcern ?? this.writeConcern,
      timeoutMS: options.timeoutMS ?? this.timeoutMS
    });
  }

  /** Motor's sub-collection access: `db.coll.child` → `coll.collection('child')` = `coll.child`. */
  collection<T extends Document = Document>(name: string, options?: CollectionOptions): Collection<T> {
    return new Collection<T>(this.db, `${this.collectionName}.${name}`, options);
  }

  // ------------------------------------------------------------------ writes
  // (insertOne, insertMany, updateOne, updateMany, replaceOne, deleteOne, deleteMany,
  //  findOneAndUpdate/Replace/Delete, bulkWrite)

  // ------------------------------------------------------------------ reads, cursors, indexes, management
  // (find, findOne, aggregate, countDocuments, estimatedDocumentCount, distinct, indexes, drop, rename, options, watch)
}
