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
import type { BulkWriteResult } from './bulk_write_result';
import type {
  AnyBulkWriteOperation,
  DeleteResult,
  Filter,
  InsertManyResult,
  InsertOneResult,
  OptionalUnlessRequiredId,
  UpdateFilter,
  UpdatePipeline,
  UpdateResult,
  WithId,
  WithoutId
} from './mongo_types';
import { executeBulkWrite, type BulkWriteOptions as BulkWriteOperationOptions } from './operations/bulk_write';
import { DeleteManyOperation, DeleteOneOperation, type DeleteOptions as DeleteOperationOptions } from './operations/delete';
import {
  FindAndModifyOperation,
  type FindOneAndDeleteOptions as FindOneAndDeleteOperationOptions,
  type FindOneAndReplaceOptions as FindOneAndReplaceOperationOptions,
  type FindOneAndUpdateOptions as FindOneAndUpdateOperationOptions,
  type ModifyResult
} from './operations/find_and_modify';
import { InsertOneOperation, type InsertOptions } from './operations/insert';
import { ReplaceOneOperation, UpdateManyOperation, UpdateOneOperation, type UpdateOptions as UpdateOperationOptions } from './operations/update';
import type { Namespace } from './operations/write_command';

export interface CollectionOptions {
  readPreference?: ReadPreferenceLike;
  readConcern?: ReadConcernLike;
  writeConcern?: WriteConcernOptions | WriteConcern;
  timeoutMS?: number;
}

/** Write options as callers give them: `writeConcern` may be a plain `{ w, wtimeoutMS, journal }`. */
export type WriteCallOptions<O = { timeoutMS?: number }> = Omit<O, 'writeConcern'> & {
  writeConcern?: WriteConcernOptions | WriteConcern;
  timeoutMS?: number;
};
export type InsertOneOptions = WriteCallOptions<InsertOptions>;
export type BulkWriteOptions = WriteCallOptions<BulkWriteOperationOptions>;
export type UpdateOptions = WriteCallOptions<UpdateOperationOptions>;
export type ReplaceOptions = WriteCallOptions<Omit<UpdateOperationOptions, 'arrayFilters'>>;
export type DeleteOptions = WriteCallOptions<DeleteOperationOptions>;
export type FindOneAndDeleteOptions = WriteCallOptions<FindOneAndDeleteOperationOptions>;
export type FindOneAndReplaceOptions = WriteCallOptions<FindOneAndReplaceOperationOptions>;
export type FindOneAndUpdateOptions = WriteCallOptions<FindOneAndUpdateOperationOptions>;
export type { ModifyResult };

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

  /** Per-call write options over the collection's write concern and timeoutMS. */
  private resolveWriteOptions<O extends WriteCallOptions>(options: O | undefined): Omit<O, 'writeConcern'> & { writeConcern?: WriteConcern } {
    const given = options ?? ({} as O);
    return {
      ...given,
      writeConcern: WriteConcern.fromOptions(given as WriteConcernOptions & { writeConcern?: WriteConcernOptions | WriteConcern }) ?? this.writeConcern,
      timeoutMS: given.timeoutMS ?? this.timeoutMS
    };
  }

  private get writeNamespace(): Namespace {
    return { db: this.dbName, collection: this.collectionName };
  }

  /** Inserts one document (an ObjectId `_id` is generated when missing). A duplicate key throws MongoServerError code 11000. */
  async insertOne(doc: OptionalUnlessRequiredId<TSchema>, options?: InsertOneOptions): Promise<InsertOneResult<TSchema>> {
    const op = new InsertOneOperation(this.writeNamespace, doc as Document, this.resolveWriteOptions(options));
    return (await this.client.executeOperation(op)) as InsertOneResult<TSchema>;
  }

  /** Inserts documents in batches; failures throw MongoBulkWriteError with the partial result. */
  async insertMany(docs: ReadonlyArray<OptionalUnlessRequiredId<TSchema>>, options?: BulkWriteOptions): Promise<InsertManyResult<TSchema>> {
    if (!Array.isArray(docs)) throw new MongoInvalidArgumentError('Argument "docs" must be an array of documents');
    if (docs.some((d) => d == null)) {
      throw new MongoInvalidArgumentError('Collection.insertMany() cannot be called with an array that has null/undefined values');
    }
    const resolved = this.resolveWriteOptions(options);
    const models = docs.map((document) => ({ insertOne: { document } })) as unknown as AnyBulkWriteOperation<Document>[];
    const result = await executeBulkWrite(this.client, this.writeNamespace, models, resolved);
    return {
      acknowledged: resolved.writeConcern?.isAcknowledged ?? true,
      insertedCount: result.insertedCount,
      insertedIds: result.insertedIds as InsertManyResult<TSchema>['insertedIds']
    };
  }

  /** Mixed inserts/updates/replaces/deletes, ordered (default) or unordered. */
  async bulkWrite(operations: ReadonlyArray<AnyBulkWriteOperation<TSchema>>, options?: BulkWriteOptions): Promise<BulkWriteResult> {
    if (!Array.isArray(operations)) throw new MongoInvalidArgumentError('Argument "operations" must be an array of documents');
    return executeBulkWrite(this.client, this.writeNamespace, operations as unknown as AnyBulkWriteOperation<Document>[], this.resolveWriteOptions(options));
  }

  async updateOne(filter: Filter<TSchema>, update: UpdateFilter<TSchema> | UpdatePipeline, options?: UpdateOptions): Promise<UpdateResult<TSchema>> {
    const op = new UpdateOneOperation(this.writeNamespace, filter as Document, update as Document, this.resolveWriteOptions(options));
    return (await this.client.executeOperation(op)) as UpdateResult<TSchema>;
  }

  /** Not retryable (multi-document). */
  async updateMany(filter: Filter<TSchema>, update: UpdateFilter<TSchema> | UpdatePipeline, options?: UpdateOptions): Promise<UpdateResult<TSchema>> {
    const op = new UpdateManyOperation(this.writeNamespace, filter as Document, update as Document, this.resolveWriteOptions(options));
    return (await this.client.executeOperation(op)) as UpdateResult<TSchema>;
  }

  async replaceOne(filter: Filter<TSchema>, replacement: WithoutId<TSchema>, options?: ReplaceOptions): Promise<UpdateResult<TSchema>> {
    const op = new ReplaceOneOperation(this.writeNamespace, filter as Document, replacement as Document, this.resolveWriteOptions(options));
    return (await this.client.executeOperation(op)) as UpdateResult<TSchema>;
  }

  async deleteOne(filter: Filter<TSchema> = {}, options?: DeleteOptions): Promise<DeleteResult> {
    return this.client.executeOperation(new DeleteOneOperation(this.writeNamespace, filter as Document, this.resolveWriteOptions(options)));
  }

  /** Not retryable (multi-document). */
  async deleteMany(filter: Filter<TSchema> = {}, options?: DeleteOptions): Promise<DeleteResult> {
    return this.client.executeOperation(new DeleteManyOperation(this.writeNamespace, filter as Document, this.resolveWriteOptions(options)));
  }

  /** findAndModify with `remove: true`: the deleted document, or null. */
  async findOneAndDelete(filter: Filter<TSchema>, options: FindOneAndDeleteOptions & { includeResultMetadata: true }): Promise<ModifyResult<TSchema>>;
  async findOneAndDelete(filter: Filter<TSchema>, options?: FindOneAndDeleteOptions & { includeResultMetadata?: false }): Promise<WithId<TSchema> | null>;
  async findOneAndDelete(filter: Filter<TSchema>, options?: FindOneAndDeleteOptions): Promise<WithId<TSchema> | ModifyResult<TSchema> | null> {
    const op = FindAndModifyOperation.deleteOne(this.writeNamespace, filter as Document, this.resolveWriteOptions(options));
    return (await this.client.executeOperation(op)) as WithId<TSchema> | ModifyResult<TSchema> | null;
  }

  /** findAndModify with a replacement: the document before (default) or after, or null. */
  async findOneAndReplace(
    filter: Filter<TSchema>,
    replacement: WithoutId<TSchema>,
    options: FindOneAndReplaceOptions & { includeResultMetadata: true }
  ): Promise<ModifyResult<TSchema>>;
  async findOneAndReplace(
    filter: Filter<TSchema>,
    replacement: WithoutId<TSchema>,
    options?: FindOneAndReplaceOptions & { includeResultMetadata?: false }
  ): Promise<WithId<TSchema> | null>;
  async findOneAndReplace(
    filter: Filter<TSchema>,
    replacement: WithoutId<TSchema>,
    options?: FindOneAndReplaceOptions
  ): Promise<WithId<TSchema> | ModifyResult<TSchema> | null> {
    const op = FindAndModifyOperation.replaceOne(this.writeNamespace, filter as Document, replacement as Document, this.resolveWriteOptions(options));
    return (await this.client.executeOperation(op)) as WithId<TSchema> | ModifyResult<TSchema> | null;
  }

  /** findAndModify with an update: the document before (default) or after, or null. */
  async findOneAndUpdate(
    filter: Filter<TSchema>,
    update: UpdateFilter<TSchema> | UpdatePipeline,
    options: FindOneAndUpdateOptions & { includeResultMetadata: true }
  ): Promise<ModifyResult<TSchema>>;
  async findOneAndUpdate(
    filter: Filter<TSchema>,
    update: UpdateFilter<TSchema> | UpdatePipeline,
    options?: FindOneAndUpdateOptions & { includeResultMetadata?: false }
  ): Promise<WithId<TSchema> | null>;
  async findOneAndUpdate(
    filter: Filter<TSchema>,
    update: UpdateFilter<TSchema> | UpdatePipeline,
    options?: FindOneAndUpdateOptions
  ): Promise<WithId<TSchema> | ModifyResult<TSchema> | null> {
    const op = FindAndModifyOperation.updateOne(this.writeNamespace, filter as Document, update as Document, this.resolveWriteOptions(options));
    return (await this.client.executeOperation(op)) as WithId<TSchema> | ModifyResult<TSchema> | null;
  }

  // ------------------------------------------------------------------ reads, cursors, indexes, management
  // (find, findOne, aggregate, countDocuments, estimatedDocumentCount, distinct, indexes, drop, rename, options, watch)
}
