/** OP_REPLY (opCode 1): the reply to the legacy OP_QUERY handshake. */
import { serialize, type Document } from 'bson';
import { MongoProtocolError } from '../errors';
import { HEADER_SIZE, OpCode } from './constants';
import type { MessageHeader } from './message_header';
import { bsonSizeAt, readDocument, type BsonDecodeOptions } from './bson_io';

export interface OpReplyMessage {
  opCode: typeof OpCode.OP_REPLY;
  header: MessageHeader;
  responseFlags: number;
  cursorId: bigint;
  startingFrom: number;
  numberReturned: number;
  documents: Document[];
}

export interface OpReplyRequest {
  requestId: number;
  responseTo: number;
  documents: Document[];
  responseFlags?: number;
  cursorId?: bigint;
  startingFrom?: number;
}

const FIXED = HEADER_SIZE + 4 + 8 + 4 + 4;

export function encodeOpReply(msg: OpReplyRequest): Buffer {
  const docs = msg.documents.map((d) => serialize(d));
  const length = FIXED + docs.reduce((n, d) => n + d.length, 0);
  const out = Buffer.allocUnsafe(length);
  out.writeInt32LE(length, 0);
  out.writeInt32LE(msg.requestId, 4);
  out.writeInt32LE(msg.responseTo, 8);
  out.writeInt32LE(OpCode.OP_REPLY, 12);
  out.writeInt32LE(msg.responseFlags ?? 0, 16);
  out.writeBigInt64LE(msg.cursorId ?? 0n, 20);
  out.writeInt32LE(msg.startingFrom ?? 0, 28);
  out.writeInt32LE(docs.length, 32);
  let offset = FIXED;
  for (const d of docs) {
    out.set(d, offset);
    offset += d.length;
  }
  return out;
}

export function decodeOpReply(frame: Buffer, header: MessageHeader, bson?: BsonDecodeOptions): OpReplyMessage {
  const what = 'OP_REPLY';
  if (frame.length < FIXED) throw new MongoProtocolError(`${what}: message too short (${frame.length} bytes)`);
  const responseFlags = frame.readInt32LE(16);
  const cursorId = frame.readBigInt64LE(20);
  const startingFrom = frame.readInt32LE(28);
  const numberReturned = frame.readInt32LE(32);
  if (numberReturned < 0) throw new MongoProtocolError(`${what}: negative numberReturned`);
  const documents: Document[] = [];
  let offset = FIXED;
  for (let i = 0; i < numberReturned; i++) {
    const size = bsonSizeAt(frame, offset, frame.length, what);
    documents.push(readDocument(frame, offset, size, bson, what));
    offset += size;
  }
  if (offset !== frame.length) throw new MongoProtocolError(`${what}: ${frame.length - offset} trailing bytes`);
  return { opCode: OpCode.OP_REPLY, header, responseFlags, cursorId, startingFrom, numberReturned, documents };
}
