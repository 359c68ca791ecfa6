/**
 * The documents a change stream returns (change-streams.md "Response Format"), as a union
 * discriminated by `operationType`. Servers may add operation types: code that switches on
 * `operationType` should keep a default branch.
 */
import type { Binary, Document, Timestamp } from 'bson';
import type { InferIdType } from './mongo_types';

/** An opaque resume token: a change's `_id`, or a batch's `postBatchResumeToken`. */
export type ResumeToken = Document;

/** The timestamp form of a starting point (`startAtOperationTime`). */
export type OperationTime = Timestamp;

export interface ChangeStreamNameSpace {
  db: string;
  coll: string;
}

/** Fields every change event can carry. */
export interface ChangeStreamDocumentCommon {
  /** The resume token of this event. */
  _id: ResumeToken;
  /** The cluster time of the oplog entry. */
  clusterTime?: Timestamp;
  /** Wall clock time of the change (6.0+). */
  wallTime?: Date;
  /** Set when the change was part of a multi-document transaction. */
  txnNumber?: number;
  lsid?: Document;
  /** Large events split by `$changeStreamSplitLargeEvent` (7.0+). */
  splitEvent?: { fragment: number; of: number };
}

/** `collectionUUID` is sent with `showExpandedEvents`. */
export interface ChangeStreamDocumentCollectionUUID {
  collectionUUID?: Binary;
}

export interface ChangeStreamDocumentKey<TSchema extends Document = Document> {
  /** `_id` plus, on sharded collections, the shard key fields. */
  documentKey: { _id: InferIdType<TSchema>; [shardKey: string]: unknown };
}

/** Extra description of a DDL event (`showExpandedEvents`, 6.0+). */
export interface ChangeStreamDocumentOperationDescription {
  operationDescription?: Document;
}

export interface UpdateDescription<TSchema extends Document = Document> {
  updatedFields?: Partial<TSchema> & Document;
  removedFields?: string[];
  truncatedArrays?: Array<{ field: string; newSize: number }>;
  /** Paths whose components are ambiguous in dotted form (`showExpandedEvents`, 6.1+). */
  disambiguatedPaths?: Document;
}

export interface ChangeStreamInsertDocument<TSchema extends Document = Document>
  extends ChangeStreamDocumentCommon,
    ChangeStreamDocumentKey<TSchema>,
    ChangeStreamDocumentCollectionUUID {
  operationType: 'insert';
  fullDocument: TSchema;
  ns: ChangeStreamNameSpace;
}

export interface ChangeStreamUpdateDocument<TSchema extends Document = Document>
  extends ChangeStreamDocumentCommon,
    ChangeStreamDocumentKey<TSchema>,
    ChangeStreamDocumentCollectionUUID {
  operationType: 'update';
  /** Present with `fullDocument: 'updateLookup' | 'whenAvailable' | 'required'` (null when gone). */
  fullDocument?: TSchema | null;
  ns: ChangeStreamNameSpace;
  updateDescription: UpdateDescription<TSchema>;
  /** Present with `fullDocumentBeforeChange` (null when unavailable). */
  fullDocumentBeforeChange?: TSchema | null;
}

export interface ChangeStreamReplaceDocument<TSchema extends Document = Document>
  extends ChangeStreamDocumentCommon,
    ChangeStreamDocumentKey<TSchema>,
    ChangeStreamDocumentCollectionUUID {
  operationType: 'replace';
  fullDocument: TSchema;
  ns: ChangeStreamNameSpace;
  fullDocumentBeforeChange?: TSchema | null;
}

export interface ChangeStreamDeleteDocument<TSchema extends Document = Document>
  extends ChangeStreamDocumentCommon,
    ChangeStreamDocumentKey<TSchema>,
    ChangeStreamDocumentCollectionUUID {
  operationType: 'delete';
  ns: ChangeStreamNameSpace;
  fullDocumentBeforeChange?: TSchema | null;
}

export interface ChangeStreamDropDocument extends ChangeStreamDocumentCommon, ChangeStreamDocumentCollectionUUID {
  operationType: 'drop';
  ns: ChangeStreamNameSpace;
}

export interface ChangeStreamRenameDocument
  extends ChangeStreamDocumentCommon,
    ChangeStreamDocumentCollectionUUID,
    ChangeStreamDocumentOperationDescription {
  operationType: 'rename';
  /** The new namespace. */
  to: ChangeStreamNameSpace;
  ns: ChangeStreamNameSpace;
}

export interface ChangeStreamDropDatabaseDocument extends ChangeStreamDocumentCommon {
  operationType: 'dropDatabase';
  ns: { db: string };
}

/** The last event of a stream whose collection/database was dropped or renamed. */
export interface ChangeStreamInvalidateDocument extends ChangeStreamDocumentCommon {
  operationType: 'invalidate';
}

// ---- expanded events (`showExpandedEvents: true`, 6.0+)

export interface ChangeStreamCreateIndexDocument
  extends ChangeStreamDocumentCommon,
    ChangeStreamDocumentCollectionUUID,
    ChangeStreamDocumentOperationDescription {
  operationType: 'createIndexes';
  ns: ChangeStreamNameSpace;
}

export interface ChangeStreamDropIndexDocument
  extends ChangeStreamDocumentCommon,
    ChangeStreamDocumentCollectionUUID,
    ChangeStreamDocumentOperationDescription {
  operationType: 'dropIndexes';
  ns: ChangeStreamNameSpace;
}

export interface ChangeStreamCollModDocument extends ChangeStreamDocumentCommon, ChangeStreamDocumentCollectionUUID {
  operationType: 'modify';
  ns: ChangeStreamNameSpace;
  operationDescription?: Document;
}

export interface ChangeStreamCreateDocument
  extends ChangeStreamDocumentCommon,
    ChangeStreamDocumentCollectionUUID,
    ChangeStreamDocumentOperationDescription {
  operationType: 'create';
  ns: ChangeStreamNameSpace;
  /** The kind of namespace created (8.1+). */
  nsType?: 'collection' | 'timeseries' | 'view';
}

export interface ChangeStreamShardCollectionDocument
  extends ChangeStreamDocumentCommon,
    ChangeStreamDocumentCollectionUUID,
    ChangeStreamDocumentOperationDescription {
  operationType: 'shardCollection';
  ns: ChangeStreamNameSpace;
}

export interface ChangeStreamReshardCollectionDocument
  extends ChangeStreamDocumentCommon,
    ChangeStreamDocumentCollectionUUID,
    ChangeStreamDocumentOperationDescription {
  operationType: 'reshardCollection';
  ns: ChangeStreamNameSpace;
}

export interface ChangeStreamRefineCollectionShardKeyDocument
  extends ChangeStreamDocumentCommon,
    ChangeStreamDocumentCollectionUUID,
    ChangeStreamDocumentOperationDescription {
  operationType: 'refineCollectionShardKey';
  ns: ChangeStreamNameSpace;
}

/** Every change event a change stream on a `TSchema` collection can return. */
export type ChangeStreamDocument<TSchema extends Document = Document> =
  | ChangeStreamInsertDocument<TSchema>
  | ChangeStreamUpdateDocument<TSchema>
  | ChangeStreamReplaceDocument<TSchema>
  | ChangeStreamDeleteDocument<TSchema>
  | ChangeStreamDropDocument
  | ChangeStreamRenameDocument
  | ChangeStreamDropDatabaseDocument
  | ChangeStreamInvalidateDocument
  | ChangeStreamCreateIndexDocument
  | ChangeStreamDropIndexDocument
  | ChangeStreamCollModDocument
  | ChangeStreamCreateDocument
  | ChangeStreamShardCollectionDocument
  | ChangeStreamReshardCollectionDocument
  | ChangeStreamRefineCollectionShardKeyDocument;
