/** OP_QUERY (opCode 2004): only used for the legacy handshake `hello` on `admin.$cmd`. */
import { serialize, type Document } from 'bson';
import { MongoProtocolError } from '../errors';
import { HEADER_SIZE, OpCode } from './constants';
import type { MessageHeader } from './message_header';
import { bsonSizeAt, readCString, readDocument, type BsonDecodeOptions } from './bson_io';

export interface OpQueryRequest {
  requestId: number;
  fullCollectionName: string;
  query: Document;
  flags?: number;
  numberToSkip?: number;
  numberToReturn?: number;
  returnFieldsSelector?: Document;
}

export interface OpQueryMessage {
  opCode: typeof OpCode.OP_QUERY;
  header: MessageHeader;
  flags: number;
  fullCollectionName: string;
  numberToSkip: number;
  numberToReturn: number;
  query: Document;
  returnFieldsSelector?: Document;
}

export function encodeOpQuery(msg: OpQueryRequest): Buffer {
  const name = Buffer.from(msg.fullCollectionName + '\0', 'utf8');
  const query = serialize(msg.query);
  const fields = msg.returnFieldsSelector ? serialize(msg.returnFieldsSelector) : undefined;
  const length = HEADER_SIZE + 4 + name.length + 8 + query.length + (fields ? fields.length : 0);
  const out = Buffer.allocUnsafe(length);
  out.writeInt32LE(length, 0);
  out.writeInt32LE(msg.requestId, 4);
  out.writeInt32LE(0, 8);
  out.writeInt32LE(OpCode.OP_QUERY, 12);
  out.writeInt32LE(msg.flags ?? 0, 16);
  let offset = 20;
  out.set(name, offset);
  offset += name.length;
  out.writeInt32LE(msg.numberToSkip ?? 0, offset);
  out.writeInt32LE(msg.numberToReturn ?? -1, offset + 4);
  offset += 8;
  out.set(query, offset);
  offset += query.length;
  if (fields) out.set(fields, offset);
  return out;
}

export function decodeOpQuery(frame: Buffer, header: MessageHeader, bson?: BsonDecodeOptions): OpQueryMessage {
  const what = 'OP_QUERY';
  const end = frame.length;
  if (end < HEADER_SIZE + 4) throw new MongoProtocolError(`${what}: message too short`);
  const flags = frame.readInt32LE(HEADER_SIZE);
  const [fullCollectionName, afterName] = readCString(frame, HEADER_SIZE + 4, end, what);
  if (end - afterName < 8) throw new MongoProtocolError(`${what}: truncated`);
  const numberToSkip = frame.readInt32LE(afterName);
  const numberToReturn = frame.readInt32LE(afterName + 4);
  let offset = afterName + 8;
  const qSize = bsonSizeAt(frame, offset, end, what);
  const query = readDocument(frame, offset, qSize, bson, what);
  offset += qSize;
  let returnFieldsSelector: Document | undefined;
  if (offset < end) {
    const fSize = bsonSizeAt(frame, offset, end, what);
    returnFieldsSelector = readDocument(frame, offset, fSize, bson, what);
  }
  return { opCode: OpCode.OP_QUERY, header, flags, fullCollectionName, numberToSkip, numberToReturn, query, returnFieldsSelector };
}
