/** Reading BSON documents and C strings out of a message, with bounds checks that raise protocol errors. */
import { deserialize, type Document } from 'bson';
import { MongoProtocolError } from '../errors';

export interface BsonDecodeOptions {
  promoteLongs?: boolean;
  promoteValues?: boolean;
  promoteBuffers?: boolean;
  bsonRegExp?: boolean;
  useBigInt64?: boolean;
  /** Arrays with these names decode to one Buffer (raw BSON) per element. */
  fieldsAsRaw?: Readonly<Record<string, boolean>>;
}

/** Size of the BSON document at `offset`, checked against `end`. */
export function bsonSizeAt(buf: Buffer, offset: number, end: number, what: string): number {
  if (end - offset < 5) throw new MongoProtocolError(`${what}: truncated BSON document`);
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > end) {
    throw new MongoProtocolError(`${what}: BSON document size ${size} overruns the message`);
  }
  return size;
}

export function readDocument(buf: Buffer, offset: number, size: number, options: BsonDecodeOptions | undefined, what: string): Document {
  try {
    return deserialize(buf.subarray(offset, offset + size), options);
  } catch (err) {
    throw new MongoProtocolError(`${what}: invalid BSON (${(err as Error).message})`, { cause: err });
  }
}

/** Reads a NUL-terminated UTF-8 string; returns it and the offset after the NUL. */
export function readCString(buf: Buffer, offset: number, end: number, what: string): [string, number] {
  const nul = buf.indexOf(0, offset);
  if (nul < 0 || nul >= end) throw new MongoProtocolError(`${what}: unterminated string`);
  return [buf.toString('utf8', offset, nul), nul + 1];
}
