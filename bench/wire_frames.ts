/**
 * Raw wire-protocol framing for the benchmark's canned server and the bare-socket floor.
 * Deliberately independent of src/wire: the server side must not share code with the client
 * under test. Only `bson` is used.
 */
import { serialize, type Document } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;
export const HEADER_SIZE = 16;

/** A whole OP_MSG (header included) with one body section. */
export function opMsg(requestId: number, responseTo: number, body: Document | Uint8Array): Buffer {
  const bytes = body instanceof Uint8Array ? body : serialize(body);
  const out = Buffer.allocUnsafe(HEADER_SIZE + 5 + bytes.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(OP_MSG, 12);
  out.writeUInt32LE(0, 16);
  out[20] = 0;
  out.set(bytes, 21);
  return out;
}

/** The 21-byte prefix (header, flags, section kind 0) of an OP_MSG whose body has `bodyLength` bytes. */
export function opMsgPrefix(requestId: number, responseTo: number, bodyLength: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + 5);
  out.writeInt32LE(HEADER_SIZE + 5 + bodyLength, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(OP_MSG, 12);
  out.writeUInt32LE(0, 16);
  out[20] = 0;
  return out;
}

/** A whole OP_REPLY carrying one document (the answer to an OP_QUERY handshake). */
export function opReply(requestId: number, responseTo: number, doc: Document): Buffer {
  const bytes = serialize(doc);
  const out = Buffer.allocUnsafe(HEADER_SIZE + 20 + bytes.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(OP_REPLY, 12);
  out.writeInt32LE(0, 16); // responseFlags
  out.writeBigInt64LE(0n, 20); // cursorID
  out.writeInt32LE(0, 28); // startingFrom
  out.writeInt32LE(1, 32); // numberReturned
  out.set(bytes, 36);
  return out;
}

/** Splits a byte stream into whole frames; keeps a partial tail between calls. */
export class FrameSplitter {
  private pending: Buffer | null = null;

  push(chunk: Buffer): Buffer[] {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    const frames: Buffer[] = [];
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = data.readInt32LE(offset);
      if (data.length - offset < length) break;
      frames.push(data.subarray(offset, offset + length));
      offset += length;
    }
    if (offset < data.length) {
      data = data.subarray(offset);
      // Copy so a retained tail does not pin a large chunk.
      this.pending = Buffer.from(data);
    }
    return frames;
  }
}

// ---- hand-built BSON for cursor replies made of pre-serialized documents -----------------------

const indexKeys: Buffer[] = [];

/** `0x03 "<i>" 0x00`: the element prefix of array item i holding an embedded document. */
function arrayItemPrefix(i: number): Buffer {
  let key = indexKeys[i];
  if (!key) {
    key = Buffer.from(`\x03${i}\0`, 'latin1');
    indexKeys[i] = key;
  }
  return key;
}

/** A BSON array (as an embedded-document value: int32 size, items, 0x00) of pre-serialized documents. */
export function bsonArrayOf(docs: readonly Uint8Array[]): Buffer {
  let size = 5;
  for (let i = 0; i < docs.length; i++) size += arrayItemPrefix(i).length + docs[i].length;
  const out = Buffer.allocUnsafe(size);
  out.writeInt32LE(size, 0);
  let p = 4;
  for (let i = 0; i < docs.length; i++) {
    const prefix = arrayItemPrefix(i);
    out.set(prefix, p);
    p += prefix.length;
    out.set(docs[i], p);
    p += docs[i].length;
  }
  out[p] = 0;
  return out;
}

/**
 * The body `{cursor: {<batchField>: <array>, id: <int64>, ns: <string>}, ok: 1.0}` around an
 * already encoded array, written without re-serializing the documents.
 */
export function cursorReplyBody(batchField: 'firstBatch' | 'nextBatch', array: Buffer, cursorId: bigint, ns: string): Buffer {
  const field = Buffer.from(batchField + '\0', 'latin1');
  const nsBytes = Buffer.from(ns, 'utf8');
  // cursor document: size + (0x04 field array) + (0x12 "id\0" int64) + (0x02 "ns\0" strlen str\0) + 0x00
  const cursorSize = 4 + 1 + field.length + array.length + (1 + 3 + 8) + (1 + 3 + 4 + nsBytes.length + 1) + 1;
  // outer: size + (0x03 "cursor\0" cursorDoc) + (0x01 "ok\0" double) + 0x00
  const outerSize = 4 + (1 + 7 + cursorSize) + (1 + 3 + 8) + 1;
  const out = Buffer.allocUnsafe(outerSize);
  let p = 0;
  out.writeInt32LE(outerSize, p);
  p += 4;
  out[p++] = 0x03;
  p += out.write('cursor\0', p, 'latin1');
  out.writeInt32LE(cursorSize, p);
  p += 4;
  out[p++] = 0x04;
  out.set(field, p);
  p += field.length;
  out.set(array, p);
  p += array.length;
  out[p++] = 0x12;
  p += out.write('id\0', p, 'latin1');
  out.writeBigInt64LE(cursorId, p);
  p += 8;
  out[p++] = 0x02;
  p += out.write('ns\0', p, 'latin1');
  out.writeInt32LE(nsBytes.length + 1, p);
  p += 4;
  out.set(nsBytes, p);
  p += nsBytes.length;
  out[p++] = 0;
  out[p++] = 0; // end of cursor document
  out[p++] = 0x01;
  p += out.write('ok\0', p, 'latin1');
  out.writeDoubleLE(1, p);
  p += 8;
  out[p++] = 0; // end of outer document
  return out;
}
