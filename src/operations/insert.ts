/**
 * The `insert` command: InsertOperation (one batch, used by bulk writes) and InsertOneOperation
 * (`collection.insertOne`). `_id` is generated client-side when missing, as the first field.
 */
import { ObjectId, type Document } from 'bson';
import { MongoInvalidArgumentError } from '../errors';
import type { InsertOneResult } from '../mongo_types';
import { throwFirstWriteError, WriteCommandOperation, type Namespace, type WriteCommandOptions } from './write_command';

export interface InsertOptions extends WriteCommandOptions {
  /** Let the server generate `_id` instead of the driver. */
  forceServerObjectId?: boolean;
}

/**
 * Returns the document to send: `doc` itself when it has an `_id` (or the server makes one),
 * else a copy with a new ObjectId `_id` as its first field. The caller's document also gets the
 * `_id` (as in the official driver), so `doc._id` is readable after the insert.
 */
export function prepareDocumentForInsert<T extends Document>(doc: T, forceServerObjectId = false): T {
  const _id = generateInsertId(doc, forceServerObjectId);
  return _id === undefined ? doc : (idFirstCopy(doc, _id) as T);
}

/**
 * The first half of `prepareDocumentForInsert`: validates `doc` and, when it needs one, returns
 * a new `_id` (also set on `doc` when it is extensible); undefined when `doc` is sent as is.
 */
export function generateInsertId(doc: Document, forceServerObjectId = false): ObjectId | undefined {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new MongoInvalidArgumentError('Document to insert must be an object');
  }
  if (forceServerObjectId || doc._id != null) return undefined;
  const _id = new ObjectId();
  if (Object.isExtensible(doc)) doc._id = _id;
  return _id;
}

/** The second half: `{ _id, ...doc }`, with `_id` the first key whatever `doc._id` holds. */
export function idFirstCopy(doc: Document, _id: ObjectId): Document {
  // An own `__proto__` key would set the copy's prototype under Object.assign: copy it by spreading.
  const copy: Document = Object.hasOwn(doc, '__proto__') ? { _id, ...doc } : Object.assign({ _id }, doc);
  copy._id = _id; // `_id` stays the first key; the caller's `_id: null` (frozen document) is replaced
  return copy;
}

/** One `insert` command over a batch of documents (already carrying their `_id`). */
export class InsertOperation<TResult = Document> extends WriteCommandOperation<TResult> {
  readonly commandName = 'insert';
  protected readonly sequenceName = 'documents';

  /** `serialized`: the documents' BSON, already size-checked (bulk writes). */
  constructor(ns: Namespace, documents: Document[] | (() => Document[]), options: InsertOptions = {}, serialized?: Uint8Array) {
    super(ns, documents, options, serialized);
  }
}

/** `collection.insertOne(doc)`. A write error is thrown as MongoServerError (e.g. code 11000). */
export class InsertOneOperation extends InsertOperation<InsertOneResult> {
  constructor(ns: Namespace, doc: Document, options: InsertOptions = {}) {
    super(ns, [prepareDocumentForInsert(doc, options.forceServerObjectId)], options);
  }

  get insertedId(): unknown {
    return this.statements[0]._id;
  }

  protected override toResult(reply: Document): InsertOneResult {
    throwFirstWriteError(reply);
    return { acknowledged: !this.unacknowledged, insertedId: this.insertedId as InsertOneResult['insertedId'] };
  }
}
