/**
 * BSON documents serialized back to back into one growing buffer: the payload of an OP_MSG
 * document sequence, built once by a write (each statement is serialized exactly once, and its
 * size is known for batch splitting) and sent without serializing again.
 *
 * The bytes are what `encodeOpMsg` would produce for the same documents (bson's defaults:
 * `checkKeys: false`, `serializeFunctions: false`, `ignoreUndefined: true`). Plain documents are
 * written directly by ./plain_bson.ts; any other document goes through bson.
 */
import { calculateObjectSize, serializeWithBufferAndIndex, type Document, type ObjectId } from 'bson';
import { encodePlainDocument, type GrowableBuffer } from './plain_bson';

const INITIAL_CAPACITY = 64 * 1024;

export class BsonSequenceWriter implements GrowableBuffer {
  buffer: Buffer;
  /** Bytes written so far (the offset the next document starts at). */
  length = 0;

  constructor(initialCapacity = INITIAL_CAPACITY) {
    this.buffer = Buffer.allocUnsafe(Math.max(16, initialCapacity));
  }

  /** Appends the BSON of `doc`; returns its size in bytes. */
  append(doc: Document): number {
    const start = this.length;
    let end = encodePlainDocument(this, doc, start);
    if (end < 0) end = this.appendWithBson(doc, start);
    this.length = end;
    return end - start;
  }

  /**
   * Appends `{ _id: firstId, ...doc }` (the document's own `_id` key left out) without building
   * that object, when `doc` is a plain document; returns its size, or -1 having written nothing
   * (then append the object itself).
   */
  appendWithId(doc: Document, firstId: ObjectId): number {
    const start = this.length;
    const end = encodePlainDocument(this, doc, start, firstId);
    if (end < 0) return -1;
    this.length = end;
    return end - start;
  }

  /** The bytes of `[start, end)`: a view (written bytes are never overwritten, so it stays valid). */
  view(start = 0, end = this.length): Buffer {
    return this.buffer.subarray(start, end);
  }

  reserve(end: number): void {
    if (end <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < end) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    // Everything so far, including a document being written.
    this.buffer.copy(grown, 0, 0, this.buffer.length);
    this.buffer = grown;
  }

  private appendWithBson(doc: Document, start: number): number {
    try {
      return serializeWithBufferAndIndex(doc, this.buffer, { index: start }) + 1;
    } catch (error) {
      // The buffer was too small (the copy out of bson's scratch buffer is a RangeError): grow
      // to fit and serialize again. Any other error (invalid value, cycle…) is the caller's.
      // (Checked by name: the error may come from another realm, e.g. under jest.)
      if ((error as { name?: unknown } | null)?.name !== 'RangeError') throw error;
      this.reserve(start + calculateObjectSize(doc, { ignoreUndefined: true, serializeFunctions: false }));
      return serializeWithBufferAndIndex(doc, this.buffer, { index: start }) + 1;
    }
  }
}
