/** OP_MSG (opCode 2013): one kind-0 body section and any number of kind-1 document sequences. */
import { serialize, type Document } from 'bson';
import { MongoProtocolError } from '../errors';
import { HEADER_SIZE, KNOWN_REQUIRED_FLAG_BITS, OpCode, OpMsgFlags, REQUIRED_FLAG_BITS_MASK } from './constants';
import { crc32c } from './crc32c';
import type { MessageHeader } from './message_header';
import { bsonSizeAt, readCString, readDocument, type BsonDecodeOptions } from './bson_io';

export interface DocumentSequence {
  identifier: string;
  documents: Document[];
  /**
   * The BSON of `documents`, back to back, when the caller has already serialized them (writes
   * serialize each statement once, see BsonSequenceWriter): sent as is, `documents` is then only
   * read by command monitoring. Never set on decoded messages.
   */
  serialized?: Uint8Array;
}

export interface OpMsgRequest {
  requestId: number;
  responseTo?: number;
  body: Document;
  sequences?: DocumentSequence[];
  moreToCome?: boolean;
  exhaustAllowed?: boolean;
  /** Append a CRC-32C checksum. */
  checksum?: boolean;
}

export interface OpMsgMessage {
  opCode: typeof OpCode.OP_MSG;
  header: MessageHeader;
  flags: number;
  moreToCome: boolean;
  exhaustAllowed: boolean;
  checksumPresent: boolean;
  body: Document;
  /** The raw bytes of the body document (a view into the frame, not a copy). */
  bodyBytes: Buffer;
  sequences: DocumentSequence[];
}

export interface EncodeOptions {
  ignoreUndefined?: boolean;
  checkKeys?: boolean;
}

/** Encodes a whole OP_MSG, header included, into one buffer. */
export function encodeOpMsg(msg: OpMsgRequest, options?: EncodeOptions): Buffer {
  const serializeOptions = options ? { ignoreUndefined: options.ignoreUndefined, checkKeys: options.checkKeys } : undefined;
  const body = serialize(msg.body, serializeOptions);
  let length = HEADER_SIZE + 4 + 1 + body.length;
  let encodedSequences: Array<{ id: Buffer; docs: Uint8Array[]; size: number }> | undefined;
  if (msg.sequences && msg.sequences.length > 0) {
    encodedSequences = [];
    for (const seq of msg.sequences) {
      const id = Buffer.from(seq.identifier + '\0', 'utf8');
      const docs = seq.serialized ? [seq.serialized] : seq.documents.map((d) => serialize(d, serializeOptions));
      let size = 4 + id.length;
      for (const d of docs) size += d.length;
      encodedSequences.push({ id, docs, size });
      length += 1 + size;
    }
  }
  if (msg.checksum) length += 4;

  let flags = 0;
  if (msg.checksum) flags |= OpMsgFlags.checksumPresent;
  if (msg.moreToCome) flags |= OpMsgFlags.moreToCome;
  if (msg.exhaustAllowed) flags |= OpMsgFlags.exhaustAllowed;

  const out = Buffer.allocUnsafe(length);
  out.writeInt32LE(length, 0);
  out.writeInt32LE(msg.requestId, 4);
  out.writeInt32LE(msg.responseTo ?? 0, 8);
  out.writeInt32LE(OpCode.OP_MSG, 12);
  out.writeUInt32LE(flags >>> 0, 16);
  out[20] = 0;
  out.set(body, 21);
  let offset = 21 + body.length;
  if (encodedSequences) {
    for (const seq of encodedSequences) {
      out[offset++] = 1;
      out.writeInt32LE(seq.size, offset);
      offset += 4;
      out.set(seq.id, offset);
      offset += seq.id.length;
      for (const d of seq.docs) {
        out.set(d, offset);
        offset += d.length;
      }
    }
  }
  if (msg.checksum) out.writeUInt32LE(crc32c(out, 0, offset), offset);
  return out;
}

/** Decodes an OP_MSG frame (header included). Throws MongoProtocolError on malformed input. */
export function decodeOpMsg(frame: Buffer, header: MessageHeader, bson?: BsonDecodeOptions): OpMsgMessage {
  const what = 'OP_MSG';
  if (frame.length < HEADER_SIZE + 5) throw new MongoProtocolError(`${what}: message too short (${frame.length} bytes)`);
  const flags = frame.readUInt32LE(HEADER_SIZE);
  const unknownRequired = flags & REQUIRED_FLAG_BITS_MASK & ~KNOWN_REQUIRED_FLAG_BITS;
  if (unknownRequired !== 0) {
    throw new MongoProtocolError(`${what}: unknown required flag bits 0x${unknownRequired.toString(16)}`);
  }
  const checksumPresent = (flags & OpMsgFlags.checksumPresent) !== 0;
  let end = frame.length;
  if (checksumPresent) {
    if (frame.length < HEADER_SIZE + 9) throw new MongoProtocolError(`${what}: too short for a checksum`);
    end -= 4;
    const expected = frame.readUInt32LE(end);
    const actual = crc32c(frame, 0, end);
    if (expected !== actual) throw new MongoProtocolError(`${what}: checksum mismatch`);
  }

  let body: Document | undefined;
  let bodyBytes: Buffer | undefined;
  const sequences: DocumentSequence[] = [];
  let offset = HEADER_SIZE + 4;
  while (offset < end) {
    const kind = frame[offset++];
    if (kind === 0) {
      if (body) throw new MongoProtocolError(`${what}: more than one body section`);
      const size = bsonSizeAt(frame, offset, end, what);
      bodyBytes = frame.subarray(offset, offset + size);
      body = readDocument(frame, offset, size, bson, what);
      offset += size;
    } else if (kind === 1) {
      if (end - offset < 4) throw new MongoProtocolError(`${what}: truncated document sequence`);
      const size = frame.readInt32LE(offset);
      const seqEnd = offset + size;
      if (size < 5 || seqEnd > end) {
        throw new MongoProtocolError(`${what}: document sequence size ${size} overruns the message`);
      }
      const [identifier, docsStart] = readCString(frame, offset + 4, seqEnd, what);
      const documents: Document[] = [];
      let p = docsStart;
      while (p < seqEnd) {
        const docSize = bsonSizeAt(frame, p, seqEnd, what);
        documents.push(readDocument(frame, p, docSize, bson, what));
        p += docSize;
      }
      sequences.push({ identifier, documents });
      offset = seqEnd;
    } else {
      throw new MongoProtocolError(`${what}: unknown section kind ${kind}`);
    }
  }
  if (!body || !bodyBytes) throw new MongoProtocolError(`${what}: no body section`);
  return {
    opCode: OpCode.OP_MSG,
    header,
    flags,
    moreToCome: (flags & OpMsgFlags.moreToCome) !== 0,
    exhaustAllowed: (flags & OpMsgFlags.exhaustAllowed) !== 0,
    checksumPresent,
    body,
    bodyBytes,
    sequences
  };
}
