/**
 * The two CRUD calls the reliability tests and the soak script need: `insertOne` and `findOne`.
 * They use `Collection.insertOne` / `Collection.findOne` when the collection has them, and
 * otherwise a minimal retryable operation run through the real executor (same server
 * selection, sessions, txnNumber and retry rules), so the fault tests exercise the real path
 * either way.
 */
import type { Document } from 'bson';
import type { Collection } from '../../src/collection';
import { MongoServerError } from '../../src/errors';
import { Aspect, aspects, CommandOperation } from '../../src/operations/operation';

const WRITE = aspects(Aspect.WRITE_OPERATION, Aspect.RETRYABLE);
const READ = aspects(Aspect.READ_OPERATION, Aspect.RETRYABLE, Aspect.CURSOR_CREATING);

class InsertOneOperation extends CommandOperation<Document> {
  readonly commandName = 'insert';
  constructor(
    db: string,
    private readonly collection: string,
    private readonly document: Document
  ) {
    super(db);
  }
  get aspects() {
    return WRITE;
  }
  buildCommand(): Document {
    return { insert: this.collection, documents: [this.document], ordered: true };
  }
  override handleReply(reply: Document): Document {
    const writeErrors = reply.writeErrors as Document[] | undefined;
    if (writeErrors && writeErrors.length > 0) throw new MongoServerError({ ok: 0, ...writeErrors[0] });
    return reply;
  }
}

class FindOneOperation extends CommandOperation<Document | null> {
  readonly commandName = 'find';
  constructor(
    db: string,
    private readonly collection: string,
    private readonly filter: Document
  ) {
    super(db);
  }
  get aspects() {
    return READ;
  }
  buildCommand(): Document {
    return { find: this.collection, filter: this.filter, limit: 1, singleBatch: true, batchSize: 1 };
  }
  override handleReply(reply: Document): Document | null {
    const batch = (reply.cursor as Document | undefined)?.firstBatch as Document[] | undefined;
    return batch?.[0] ?? null;
  }
}

interface MaybeCrud {
  insertOne?: (doc: Document) => Promise<unknown>;
  findOne?: (filter: Document) => Promise<Document | null>;
}

/** True when the Collection class has the real CRUD methods. */
export function hasCollectionCrud(coll: Collection): boolean {
  const c = coll as unknown as MaybeCrud;
  return typeof c.insertOne === 'function' && typeof c.findOne === 'function';
}

export async function insertOne(coll: Collection, doc: Document): Promise<unknown> {
  const c = coll as unknown as MaybeCrud;
  if (typeof c.insertOne === 'function') return c.insertOne.call(coll, doc);
  return coll.client.executeOperation(new InsertOneOperation(coll.dbName, coll.collectionName, doc));
}

export async function findOne(coll: Collection, filter: Document = {}): Promise<Document | null> {
  const c = coll as unknown as MaybeCrud;
  if (typeof c.findOne === 'function') return c.findOne.call(coll, filter);
  return coll.client.executeOperation(new FindOneOperation(coll.dbName, coll.collectionName, filter));
}
