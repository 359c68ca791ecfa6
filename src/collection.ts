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
import { executeBulkWrite, executeInsertMany, type BulkWriteOptions as BulkWriteOperationOptions } from './operations/bulk_write';
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
// reads, cursors, indexes, management
import { AggregationCursor, AggregationRawBatchCursor } from './cursor/aggregation_cursor';
import { FindCursor, FindRawBatchCursor } from './cursor/find_cursor';
import { findOne } from './cursor/find_one';
import { ListCollectionsCursor } from './cursor/list_collections_cursor';
import { ListIndexesCursor } from './cursor/list_indexes_cursor';
import { MongoAPIError } from './errors';
import type { IndexSpecification } from './mongo_types';
import type { AggregateOptions as AggregateOperationOptions } from './operations/aggregate';
import { CountDocumentsOperation, type CountDocumentsOptions as CountDocumentsOperationOptions } from './operations/count_documents';
import { CountOperation, type CountOptions as CountOperationOptions } from './operations/count';
import type { Namespace as ReadNamespace } from './operations/cursor_response';
import { DistinctOperation, type DistinctOptions as DistinctOperationOptions } from './operations/distinct';
import { DropCollectionOperation, type DropCollectionOptions as DropCollectionOperationOptions } from './operations/drop';
import {
  EstimatedDocumentCountOperation,
  type EstimatedDocumentCountOptions as EstimatedDocumentCountOperationOptions
} from './operations/estimated_document_count';
import { validateFilter, type FindOptions as FindOperationOptions } from './operations/find';
import {
  CreateIndexesOperation,
  DropIndexesOperation,
  indexKeys,
  indexName,
  type CreateIndexesOptions as CreateIndexesOperationOptions,
  type DropIndexesOptions as DropIndexesOperationOptions,
  type IndexDescription,
  type IndexOptions,
  type ListIndexesOptions as ListIndexesOperationOptions
} from './operations/indexes';
import { inheritOptions, rejectTimeoutOverrideInTransaction, type WithCallOptions } from './operations/inherited_options';
import type { ListCollectionsOptions as ListCollectionsOperationOptions } from './operations/list_collections';
import { RenameOperation, type RenameOptions as RenameOperationOptions } from './operations/rename';
import {
  CreateSearchIndexesOperation,
  DropSearchIndexOperation,
  UpdateSearchIndexOperation,
  type SearchIndexDescription,
  type SearchIndexOptions
} from './operations/search_indexes';
import { ChangeStream, type ChangeStreamOptions } from './change_stream';
import type { ChangeStreamDocument } from './change_stream_events';

/** Read/management call options: operation options plus session, read preference, concerns. */
export type FindCallOptions = WithCallOptions<Omit<FindOperationOptions, 'raw'>>;
export type AggregateCallOptions = WithCallOptions<Omit<AggregateOperationOptions, 'raw'>>;
export type CountDocumentsCallOptions = WithCallOptions<CountDocumentsOperationOptions>;
export type EstimatedDocumentCountCallOptions = WithCallOptions<EstimatedDocumentCountOperationOptions>;
export type CountCallOptions = WithCallOptions<CountOperationOptions>;
export type DistinctCallOptions = WithCallOptions<DistinctOperationOptions>;
export type CreateIndexesCallOptions = WithCallOptions<CreateIndexesOperationOptions>;
export type CreateIndexCallOptions = CreateIndexesCallOptions & IndexOptions;
export type DropIndexesCallOptions = WithCallOptions<DropIndexesOperationOptions>;
export type ListIndexesCallOptions = WithCallOptions<ListIndexesOperationOptions>;
export type IndexInformationOptions = ListIndexesCallOptions & { full?: boolean };
export type RenameCallOptions = WithCallOptions<RenameOperationOptions>;
export type DropCollectionCallOptions = WithCallOptions<DropCollectionOperationOptions>;
export type ListCollectionsCallOptions = WithCallOptions<ListCollectionsOperationOptions>;
export type { SearchIndexDescription, SearchIndexOptions };

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
    rejectTimeoutOverrideInTransaction(options);
    const given = options ?? ({} as O);
    // Object.assign: a spread followed by more properties is much slower on Node 20 (every call).
    return Object.assign({}, given, {
      writeConcern: WriteConcern.fromOptions(given as WriteConcernOptions & { writeConcern?: WriteConcernOptions | WriteConcern }) ?? this.writeConcern,
      timeoutMS: given.timeoutMS ?? this.timeoutMS
    });
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
    const result = await executeInsertMany(this.client, this.writeNamespace, docs as ReadonlyArray<Document>, resolved);
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

  private get readNamespace(): ReadNamespace {
    return { db: this.dbName, collection: this.collectionName };
  }

  /** A cursor over the documents matching `filter`; nothing is sent until it is iterated. */
  find(filter?: Filter<TSchema>, options?: FindCallOptions): FindCursor<WithId<TSchema>>;
  find<T extends Document>(filter: Filter<TSchema>, options?: FindCallOptions): FindCursor<T>;
  find(filter: Filter<TSchema> = {}, options?: FindCallOptions): FindCursor<WithId<TSchema>> {
    return new FindCursor<WithId<TSchema>>(this.client, this.readNamespace, validateFilter(filter), inheritOptions(this, options));
  }

  /** The first matching document or null (`find` with `limit: 1, singleBatch: true`, crud.md). */
  async findOne(filter?: Filter<TSchema>, options?: FindCallOptions): Promise<WithId<TSchema> | null>;
  async findOne<T extends Document>(filter: Filter<TSchema>, options?: FindCallOptions): Promise<T | null>;
  async findOne(filter: Filter<TSchema> = {}, options: FindCallOptions = {}): Promise<WithId<TSchema> | null> {
    const validFilter = validateFilter(filter);
    // batchSize and noCursorTimeout do not apply (set to undefined: an object rest copy is much slower).
    const resolved = inheritOptions(this, Object.assign({}, options, { batchSize: undefined, noCursorTimeout: undefined, singleBatch: true }));
    return findOne<WithId<TSchema>>(this.client, this.readNamespace, validFilter, resolved);
  }

  /** Like `find`, but each item is a Buffer with one batch of raw BSON documents. */
  findRawBatches(filter: Filter<TSchema> = {}, options?: FindCallOptions): FindRawBatchCursor {
    return new FindRawBatchCursor(this.client, this.readNamespace, validateFilter(filter), inheritOptions(this, options));
  }

  /** Runs an aggregation pipeline; `$out`/`$merge` pipelines run as writes (write concern, secondary-writable selection). */
  aggregate<T extends Document = Document>(pipeline: Document[] = [], options?: AggregateCallOptions): AggregationCursor<T> {
    return new AggregationCursor<T>(this.client, this.readNamespace, pipeline, inheritOptions(this, options));
  }

  /** Like `aggregate`, but each item is a Buffer with one batch of raw BSON documents. */
  aggregateRawBatches(pipeline: Document[] = [], options?: AggregateCallOptions): AggregationRawBatchCursor {
    return new AggregationRawBatchCursor(this.client, this.readNamespace, pipeline, inheritOptions(this, options));
  }

  /** Exact count through `aggregate [$match, $skip, $limit, $group]`. */
  async countDocuments(filter: Filter<TSchema> = {}, options?: CountDocumentsCallOptions): Promise<number> {
    return this.client.executeOperation(new CountDocumentsOperation(this.readNamespace, validateFilter(filter), inheritOptions(this, options)));
  }

  /** Fast count from collection metadata (the `count` command). */
  async estimatedDocumentCount(options?: EstimatedDocumentCountCallOptions): Promise<number> {
    return this.client.executeOperation(new EstimatedDocumentCountOperation(this.readNamespace, inheritOptions(this, options)));
  }

  /**
   * @deprecated Use countDocuments (exact) or estimatedDocumentCount (metadata). The `count`
   * command: may be inaccurate on sharded clusters (orphans, migrations), crud.md "Count API Details".
   */
  async count(filter: Filter<TSchema> = {}, options?: CountCallOptions): Promise<number> {
    return this.client.executeOperation(new CountOperation(this.readNamespace, validateFilter(filter), inheritOptions(this, options)));
  }

  /** The distinct values of `key` among the documents matching `filter`. */
  async distinct<T = unknown>(key: string, filter: Filter<TSchema> = {}, options?: DistinctCallOptions): Promise<T[]> {
    if (typeof key !== 'string') throw new MongoInvalidArgumentError('distinct key must be a string');
    return (await this.client.executeOperation(
      new DistinctOperation(this.readNamespace, key, validateFilter(filter), inheritOptions(this, options))
    )) as T[];
  }

  /** Creates one index; returns its name (generated like `a_1_b_-1` unless `name` is given). */
  async createIndex(keys: IndexSpecification, options: CreateIndexCallOptions = {}): Promise<string> {
    // As the official driver: the options are both the index description (valid index options
    // only are sent) and the command options (commitQuorum, maxTimeMS, comment, rawData, …).
    const names = await this.client.executeOperation(
      new CreateIndexesOperation(this.readNamespace, [{ ...options, key: indexKeys(keys) }], inheritOptions(this, options))
    );
    return names[0];
  }

  /** Creates several indexes in one command; returns their names. */
  async createIndexes(specs: IndexDescription[], options?: CreateIndexesCallOptions): Promise<string[]> {
    const descriptions = specs.map((spec) => ({ ...spec, key: indexKeys(spec.key as IndexSpecification) }));
    return this.client.executeOperation(new CreateIndexesOperation(this.readNamespace, descriptions, inheritOptions(this, options)));
  }

  /** Drops one index by name, or by key pattern (Motor). */
  async dropIndex(index: string | IndexSpecification, options?: DropIndexesCallOptions): Promise<Document> {
    const name = typeof index === 'string' ? index : indexName(indexKeys(index));
    return this.client.executeOperation(new DropIndexesOperation(this.readNamespace, name, inheritOptions(this, options)));
  }

  /** Drops every index except `_id`. */
  async dropIndexes(options?: DropIndexesCallOptions): Promise<boolean> {
    await this.client.executeOperation(new DropIndexesOperation(this.readNamespace, '*', inheritOptions(this, options)));
    return true;
  }

  /** A cursor over this collection's index descriptions. */
  listIndexes(options?: ListIndexesCallOptions): ListIndexesCursor {
    return new ListIndexesCursor(this.client, this.readNamespace, inheritOptions(this, options));
  }

  /** Every index description of this collection (listIndexes). */
  async indexes(options: IndexInformationOptions = {}): Promise<Document[]> {
    return this.listIndexes(options).toArray();
  }

  /** `{name: [[field, direction], …]}`, or the full descriptions with `full: true`. */
  async indexInformation(options: IndexInformationOptions = {}): Promise<Document> {
    const { full, ...rest } = options;
    const indexes = await this.listIndexes(rest).toArray();
    if (full) return indexes;
    const info: Document = {};
    for (const index of indexes) info[String(index.name)] = Object.entries((index.key ?? {}) as Document);
    return info;
  }

  /** True when every named index exists. */
  async indexExists(names: string | string[], options?: ListIndexesCallOptions): Promise<boolean> {
    const wanted = Array.isArray(names) ? names : [names];
    const existing = new Set((await this.listIndexes(options).toArray()).map((index) => String(index.name)));
    return wanted.every((name) => existing.has(name));
  }

  // Atlas Search indexes (index-management.md "Search Indexes"): no read or write concern is sent.

  private searchIndexOptions(options: SearchIndexOptions | undefined): SearchIndexOptions {
    rejectTimeoutOverrideInTransaction(options);
    return { ...options, timeoutMS: options?.timeoutMS ?? this.timeoutMS };
  }

  /** Creates one search index; returns its name (`createSearchIndexes`). */
  async createSearchIndex(description: SearchIndexDescription, options?: SearchIndexOptions): Promise<string> {
    const [name] = await this.createSearchIndexes([description], options);
    return name;
  }

  /** Creates search indexes in one command; returns their names. */
  async createSearchIndexes(descriptions: SearchIndexDescription[], options?: SearchIndexOptions): Promise<string[]> {
    if (!Array.isArray(descriptions)) throw new MongoInvalidArgumentError('createSearchIndexes needs an array of search index descriptions');
    return this.client.executeOperation(new CreateSearchIndexesOperation(this.readNamespace, descriptions, this.searchIndexOptions(options)));
  }

  /** Replaces the definition of the search index `name`. */
  async updateSearchIndex(name: string, definition: Document, options?: SearchIndexOptions): Promise<void> {
    await this.client.executeOperation(new UpdateSearchIndexOperation(this.readNamespace, name, definition, this.searchIndexOptions(options)));
  }

  /** Drops the search index `name`; a missing collection is not an error (idempotent). */
  async dropSearchIndex(name: string, options?: SearchIndexOptions): Promise<void> {
    await this.client.executeOperation(new DropSearchIndexOperation(this.readNamespace, name, this.searchIndexOptions(options)));
  }

  /**
   * A cursor over the search indexes (all, or the one named): `aggregate [{$listSearchIndexes}]`
   * with the aggregation options, without read concern.
   */
  listSearchIndexes<T extends Document = Document>(options?: AggregateCallOptions): AggregationCursor<T>;
  listSearchIndexes<T extends Document = Document>(name: string, options?: AggregateCallOptions): AggregationCursor<T>;
  listSearchIndexes<T extends Document = Document>(nameOrOptions?: string | AggregateCallOptions, options?: AggregateCallOptions): AggregationCursor<T> {
    const name = typeof nameOrOptions === 'string' ? nameOrOptions : undefined;
    const given = typeof nameOrOptions === 'object' && nameOrOptions !== null ? nameOrOptions : options;
    const stage = name === undefined ? {} : { name };
    return new AggregationCursor<T>(this.client, this.readNamespace, [{ $listSearchIndexes: stage }], {
      ...inheritOptions(this, given),
      readConcern: undefined,
      writeConcern: undefined
    });
  }

  /** Renames this collection (within its database); returns the new handle. */
  async rename(newName: string, options?: RenameCallOptions): Promise<Collection<TSchema>> {
    validateCollectionName(newName);
    const opts = inheritOptions({ readPreference: ReadPreference.primary }, options);
    await this.client.executeOperation(new RenameOperation(this.namespace, `${this.dbName}.${newName}`, opts));
    return new Collection<TSchema>(this.db, newName, {
      readPreference: this.readPreference,
      readConcern: this.readConcern,
      writeConcern: this.writeConcern,
      timeoutMS: this.timeoutMS
    });
  }

  /** Drops the collection; false when it did not exist. */
  async drop(options?: DropCollectionCallOptions): Promise<boolean> {
    return this.client.executeOperation(new DropCollectionOperation(this.dbName, this.collectionName, inheritOptions(this, options)));
  }

  /** The collection's creation options (from listCollections). */
  async options(options?: ListCollectionsCallOptions): Promise<Document> {
    const infos = await new ListCollectionsCursor(this.client, this.dbName, { name: this.collectionName }, {
      ...inheritOptions(this.db, options),
      nameOnly: false
    }).toArray();
    if (infos.length === 0) throw new MongoAPIError(`collection ${this.namespace} not found`);
    return (infos[0].options as Document | undefined) ?? {};
  }

  /** Whether the collection is capped. */
  async isCapped(options?: ListCollectionsCallOptions): Promise<boolean> {
    return (await this.options(options)).capped === true;
  }

  /**
   * A change stream on this collection (change-streams.md). Prefer it to a raw `$changeStream`
   * aggregate: only the helper resumes. Read concern must be "majority" or unset.
   */
  watch<TLocal extends Document = TSchema, TChange extends Document = ChangeStreamDocument<TLocal>>(
    pipeline: Document[] = [],
    options: ChangeStreamOptions = {}
  ): ChangeStream<TLocal, TChange> {
    return new ChangeStream<TLocal, TChange>(this.client, { db: this.dbName, collection: this.collectionName }, pipeline, options, this);
  }
}
