/** The documents and names shared by the benchmark tasks and the canned server. */
import { ObjectId, type Document } from 'bson';

export const DB_NAME = 'bench';
/** One document, looked up by `_id`. */
export const SINGLE_COLLECTION = 'single';
/** Inserts go here. */
export const INSERT_COLLECTION = 'inserts';
/** A collection of `n` documents is called `corpus_<n>` (the canned server reads n from the name). */
export function corpusCollection(n: number): string {
  return `corpus_${n}`;
}
export const GRIDFS_BUCKET = 'fs';
/** The default GridFS chunk size (255 KiB). */
export const GRIDFS_CHUNK_SIZE = 255 * 1024;

/** The `_id` of the document in SINGLE_COLLECTION. */
export const SINGLE_ID = new ObjectId('65a1b2c3d4e5f60718293a4b');

/** A small document (~ 200 bytes of BSON), shaped like an ordinary application record. */
export function smallDoc(n: number): Document {
  return {
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    n,
    age: 36,
    active: true,
    score: 97.5,
    tags: ['analytical', 'engine', 'notes'],
    address: { street: '12 St James Square', city: 'London', zip: 'SW1Y 4JH' },
    createdAt: new Date(1_700_000_000_000 + n)
  };
}
