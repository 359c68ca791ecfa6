/** Reading the `cursor` sub-document of find, aggregate, list and getMore replies. */
import { Long, type Document } from 'bson';
import { MongoUnexpectedServerResponseError } from '../errors';
import type { PinnedConnection } from '../sessions';

/** A database and collection name pair. */
export interface Namespace {
  db: string;
  collection: string;
}

/** One batch of a server cursor. */
export interface CursorBatch {
  /** 0 when the server cursor is exhausted. */
  id: Long;
  ns: Namespace;
  documents: Document[];
  postBatchResumeToken?: Document;
}

/** The first batch plus the server that owns the cursor (getMore and killCursors must go there). */
export interface CursorCreation extends CursorBatch {
  address: string;
  /**
   * Load-balanced mode, cursor still open on the server (outside a transaction): the connection
   * that created it, which getMore and killCursors must use. The cursor releases it when done.
   */
  pinnedConnection?: PinnedConnection;
}

export function parseNamespace(ns: string): Namespace {
  const dot = ns.indexOf('.');
  return dot < 0 ? { db: ns, collection: '' } : { db: ns.slice(0, dot), collection: ns.slice(dot + 1) };
}

export function toLong(value: unknown): Long {
  if (Long.isLong(value)) return value;
  if (typeof value === 'bigint') return Long.fromBigInt(value);
  if (typeof value === 'number') return Long.fromNumber(value);
  throw new MongoUnexpectedServerResponseError('cursor id is not a number');
}

/** Reads `reply.cursor`; `fallback` is the namespace used when the server omits `ns`. */
export function parseCursorReply(reply: Document, batchField: 'firstBatch' | 'nextBatch', fallback: Namespace): CursorBatch {
  const cursor = reply.cursor as Document | undefined;
  if (!cursor || typeof cursor !== 'object') throw new MongoUnexpectedServerResponseError('reply has no cursor document');
  const documents = cursor[batchField];
  if (!Array.isArray(documents)) throw new MongoUnexpectedServerResponseError(`cursor reply has no ${batchField} array`);
  return {
    id: toLong(cursor.id ?? 0),
    ns: typeof cursor.ns === 'string' ? parseNamespace(cursor.ns) : fallback,
    documents: documents as Document[],
    postBatchResumeToken: cursor.postBatchResumeToken as Document | undefined
  };
}

/** Send options for raw-batch cursors: every document of the batch stays undecoded BSON. */
export const RAW_BATCH_BSON = Object.freeze({ fieldsAsRaw: Object.freeze({ firstBatch: true, nextBatch: true }) });
