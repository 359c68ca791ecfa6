/**
 * A fast BSON encoder for the documents applications usually write: plain objects and arrays of
 * strings, numbers, booleans, null, dates and ObjectIds. It writes straight into the caller's
 * buffer (no scratch buffer, no copy) and produces exactly the bytes of bson's `serialize` with
 * its defaults (`checkKeys: false`, `serializeFunctions: false`, `ignoreUndefined: true`).
 *
 * Anything else (other BSON types, typed arrays, maps, regular expressions, `toBSON`, bigint,
 * functions, symbols, keys with NUL bytes, very deep or cyclic nesting) makes it give up: it
 * returns -1 and the caller serializes the document with bson instead, which also raises bson's
 * errors for documents that cannot be serialized.
 */
import { ObjectId, type Document } from 'bson';

/** A buffer the encoder may ask to grow (bytes already written are kept). */
export interface GrowableBuffer {
  readonly buffer: Buffer;
  /** Makes `buffer` at least `end` bytes long. */
  reserve(end: number): void;
}

/** Deeper documents are left to bson (which also detects cycles). */
const MAX_DEPTH = 64;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const TWO_POW_32 = 2 ** 32;
const objectToString = Object.prototype.toString;
/** Scratch for writing doubles byte by byte (Buffer#writeDoubleLE validates its arguments on every call). */
const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);

const BSON_DOUBLE = 0x01;
const BSON_STRING = 0x02;
const BSON_DOCUMENT = 0x03;
const BSON_ARRAY = 0x04;
const BSON_OBJECT_ID = 0x07;
const BSON_BOOLEAN = 0x08;
const BSON_DATE = 0x09;
const BSON_NULL = 0x0a;
const BSON_INT32 = 0x10;

/**
 * Encodes `doc` at `start`; returns the offset after it, or -1 when bson must serialize it.
 * With `firstId`, encodes `{ _id: firstId, ...doc }` (the document's own `_id` key left out)
 * without building that object.
 */
export function encodePlainDocument(out: GrowableBuffer, doc: Document, start: number, firstId?: ObjectId): number {
  if (!isPlainObject(doc)) return -1;
  return writeDocument(out, doc, start, 0, firstId);
}

function isPlainObject(value: object): boolean {
  const v = value as { _bsontype?: unknown; toBSON?: unknown };
  return v._bsontype == null && typeof v.toBSON !== 'function' && objectToString.call(value) === '[object Object]';
}

function writeDocument(out: GrowableBuffer, doc: Record<string, unknown>, start: number, depth: number, firstId?: ObjectId): number {
  if (depth > MAX_DEPTH) return -1;
  let index = start + 4;
  if (firstId !== undefined) index = writeObjectValue(out, '_id', firstId, index, depth);
  const keys = Object.keys(doc);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key.includes('\0')) return -1;
    if (firstId !== undefined && key === '_id') continue;
    const value = doc[key];
    // ignoreUndefined: undefined fields of documents are left out.
    if (value === undefined) continue;
    index = writeElement(out, key, value, index, depth);
    if (index < 0) return -1;
  }
  return close(out, start, index);
}

function writeArray(out: GrowableBuffer, array: readonly unknown[], start: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  let index = start + 4;
  for (let i = 0; i < array.length; i++) {
    // Array elements that are undefined (or holes) are sent as null, as bson does.
    const value = array[i];
    index = value === undefined ? writeNull(out, String(i), index) : writeElement(out, String(i), value, index, depth);
    if (index < 0) return -1;
  }
  return close(out, start, index);
}

function close(out: GrowableBuffer, start: number, index: number): number {
  out.reserve(index + 1);
  const b = out.buffer;
  b[index++] = 0;
  writeInt32(b, index - start, start);
  return index;
}

function writeInt32(b: Buffer, value: number, index: number): number {
  b[index] = value;
  b[index + 1] = value >>> 8;
  b[index + 2] = value >>> 16;
  b[index + 3] = value >>> 24;
  return index + 4;
}

function writeDouble(b: Buffer, value: number, index: number): number {
  float64[0] = value;
  for (let i = 0; i < 8; i++) b[index + i] = float64Bytes[i];
  return index + 8;
}

function writeNull(out: GrowableBuffer, key: string, index: number): number {
  out.reserve(index + 2 + 3 * key.length);
  const b = out.buffer;
  b[index++] = BSON_NULL;
  return writeCString(b, key, index);
}

function writeElement(out: GrowableBuffer, key: string, value: unknown, index: number, depth: number): number {
  switch (typeof value) {
    case 'string': {
      out.reserve(index + 7 + 3 * (key.length + value.length));
      const b = out.buffer;
      b[index++] = BSON_STRING;
      index = writeCString(b, key, index);
      const sizeAt = index;
      const n = writeUtf8(b, value, index + 4);
      writeInt32(b, n + 1, sizeAt);
      index = sizeAt + 4 + n;
      b[index++] = 0;
      return index;
    }
    case 'number': {
      out.reserve(index + 10 + 3 * key.length);
      const b = out.buffer;
      const int32 = Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX && !Object.is(value, -0);
      b[index++] = int32 ? BSON_INT32 : BSON_DOUBLE;
      index = writeCString(b, key, index);
      return int32 ? writeInt32(b, value, index) : writeDouble(b, value, index);
    }
    case 'boolean': {
      out.reserve(index + 3 + 3 * key.length);
      const b = out.buffer;
      b[index++] = BSON_BOOLEAN;
      index = writeCString(b, key, index);
      b[index++] = value ? 1 : 0;
      return index;
    }
    case 'object':
      return value === null ? writeNull(out, key, index) : writeObjectValue(out, key, value, index, depth);
    default:
      // bigint, symbol, function: bson's rules.
      return -1;
  }
}

function writeObjectValue(out: GrowableBuffer, key: string, value: object, index: number, depth: number): number {
  if (typeof (value as { toBSON?: unknown }).toBSON === 'function') return -1;
  if (value instanceof ObjectId) {
    out.reserve(index + 14 + 3 * key.length);
    const b = out.buffer;
    b[index++] = BSON_OBJECT_ID;
    index = writeCString(b, key, index);
    // bson 7's ObjectId writes its 12 bytes in place (not in its type declarations); `id` copies them.
    const serializeInto = (value as { serializeInto?: (target: Uint8Array, at: number) => number }).serializeInto;
    if (typeof serializeInto === 'function') return index + serializeInto.call(value, b, index);
    b.set(value.id, index);
    return index + 12;
  }
  if ((value as { _bsontype?: unknown })._bsontype != null) return -1;
  if (value instanceof Date) {
    const time = value.getTime();
    if (Number.isNaN(time)) return -1;
    out.reserve(index + 10 + 3 * key.length);
    const b = out.buffer;
    b[index++] = BSON_DATE;
    index = writeCString(b, key, index);
    // int64 little-endian, two's complement (a date's milliseconds fit in 53 bits).
    const high = Math.floor(time / TWO_POW_32);
    writeInt32(b, time - high * TWO_POW_32, index);
    return writeInt32(b, high, index + 4);
  }
  const isArray = Array.isArray(value);
  if (!isArray && objectToString.call(value) !== '[object Object]') return -1;
  out.reserve(index + 6 + 3 * key.length);
  const b = out.buffer;
  b[index++] = isArray ? BSON_ARRAY : BSON_DOCUMENT;
  index = writeCString(b, key, index);
  return isArray ? writeArray(out, value as unknown[], index, depth + 1) : writeDocument(out, value as Record<string, unknown>, index, depth + 1);
}

/** A key as a C string (the caller reserved 3 bytes per UTF-16 unit plus the NUL). */
function writeCString(b: Buffer, key: string, index: number): number {
  index += writeUtf8(b, key, index);
  b[index++] = 0;
  return index;
}

/** UTF-8 bytes of `text` at `index` (room reserved by the caller); returns how many were written. */
function writeUtf8(b: Buffer, text: string, index: number): number {
  const length = text.length;
  if (length <= 32) {
    let i = 0;
    for (; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) break;
      b[index + i] = code;
    }
    if (i === length) return length;
  }
  return b.write(text, index, 'utf8');
}
