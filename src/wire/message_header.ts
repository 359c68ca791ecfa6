import { MongoProtocolError } from '../errors';
import { HEADER_SIZE } from './constants';

export interface MessageHeader {
  messageLength: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export function readHeader(buf: Buffer, offset = 0): MessageHeader {
  if (buf.length - offset < HEADER_SIZE) {
    throw new MongoProtocolError(`truncated message header: ${buf.length - offset} bytes, need ${HEADER_SIZE}`);
  }
  return {
    messageLength: buf.readInt32LE(offset),
    requestId: buf.readInt32LE(offset + 4),
    responseTo: buf.readInt32LE(offset + 8),
    opCode: buf.readInt32LE(offset + 12)
  };
}

export function writeHeader(buf: Buffer, header: MessageHeader, offset = 0): void {
  buf.writeInt32LE(header.messageLength, offset);
  buf.writeInt32LE(header.requestId, offset + 4);
  buf.writeInt32LE(header.responseTo, offset + 8);
  buf.writeInt32LE(header.opCode, offset + 12);
}

let requestIdCounter = 0;

/** The next request id: a positive int32 that wraps around. */
export function nextRequestId(): number {
  requestIdCounter = requestIdCounter >= 0x7fffffff ? 1 : requestIdCounter + 1;
  return requestIdCounter;
}
