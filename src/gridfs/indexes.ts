/**
 * GridFS indexes (gridfs-spec.md "Indexes"): before the first write of a bucket, if the files
 * collection is empty (a primary `findOne({}, {projection: {_id: 1}})`), create
 * `files: {filename: 1, uploadDate: 1}` and the unique `chunks: {files_id: 1, n: 1}` — each only
 * when `listIndexes` does not already show it. Index keys are compared by numeric value whatever
 * their BSON type (1, 1.0, Int32(1), Long(1) are all the same), as the spec requires.
 */
import { Decimal128, Double, Int32, Long, type Document } from 'bson';
import type { Collection } from '../collection';
import { MongoServerError } from '../errors';
import type { TimeoutContext } from '../timeout';

/** CSOT: the deadline of the write the index check runs for (empty without timeoutMS). */
export interface IndexCheckTimeout {
  timeoutContext?: TimeoutContext;
}

/** Server error code for a collection that does not exist (listIndexes on a new bucket). */
const NAMESPACE_NOT_FOUND = 26;

export const FILES_INDEX: Readonly<Record<string, 1>> = Object.freeze({ filename: 1, uploadDate: 1 });
export const CHUNKS_INDEX: Readonly<Record<string, 1>> = Object.freeze({ files_id: 1, n: 1 });

/** The numeric value of an index key direction, or NaN for non-numeric ones ('2d', 'text', …). */
function numericValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Long) return value.toNumber();
  if (value instanceof Int32 || value instanceof Double) return value.valueOf();
  if (value instanceof Decimal128) return Number(value.toString());
  return Number.NaN;
}

/** Same fields in the same order, with numerically equal directions. */
export function indexKeyMatches(actual: unknown, expected: Readonly<Record<string, number>>): boolean {
  if (actual === null || typeof actual !== 'object') return false;
  const actualEntries = Object.entries(actual as Document);
  const expectedEntries = Object.entries(expected);
  return (
    actualEntries.length === expectedEntries.length &&
    actualEntries.every(([field, direction], i) => field === expectedEntries[i][0] && numericValue(direction) === expectedEntries[i][1])
  );
}

async function listIndexKeys<T extends Document>(collection: Collection<T>, timeout: IndexCheckTimeout): Promise<unknown[]> {
  try {
    const indexes = await collection.listIndexes(timeout).toArray();
    return indexes.map((index) => index.key);
  } catch (error) {
    if (error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND) return [];
    throw error;
  }
}

async function ensureIndex<T extends Document>(
  collection: Collection<T>,
  key: Readonly<Record<string, 1>>,
  unique: boolean,
  timeout: IndexCheckTimeout
): Promise<void> {
  const existing = await listIndexKeys(collection, timeout);
  if (existing.some((actual) => indexKeyMatches(actual, key))) return;
  await collection.createIndex({ ...key }, unique ? { ...timeout, unique: true } : { ...timeout });
}

/** Runs the spec's index check; failures are raised (the spec forbids swallowing them). */
export async function ensureGridFSIndexes<TFiles extends Document, TChunks extends Document>(
  files: Collection<TFiles>,
  chunks: Collection<TChunks>,
  timeout: IndexCheckTimeout = {}
): Promise<void> {
  const any = await files.findOne({}, { ...timeout, projection: { _id: 1 }, readPreference: 'primary' });
  if (any) return;
  await ensureIndex(files, FILES_INDEX, false, timeout);
  await ensureIndex(chunks, CHUNKS_INDEX, true, timeout);
}
