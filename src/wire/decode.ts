/** Decodes one whole frame into a typed message, unwrapping OP_COMPRESSED. */
import { MongoProtocolError } from '../errors';
import { DEFAULT_MAX_MESSAGE_SIZE_BYTES, OpCode } from './constants';
import { readHeader } from './message_header';
import { decompressMessage } from './op_compressed';
import { decodeOpMsg, type OpMsgMessage } from './op_msg';
import { decodeOpQuery, type OpQueryMessage } from './op_query';
import { decodeOpReply, type OpReplyMessage } from './op_reply';
import type { BsonDecodeOptions } from './bson_io';

export type WireMessage = OpMsgMessage | OpQueryMessage | OpReplyMessage;

export interface DecodeOptions {
  bson?: BsonDecodeOptions;
  maxMessageSizeBytes?: number;
}

export function decodeMessage(frame: Buffer, options?: DecodeOptions): WireMessage {
  let header = readHeader(frame);
  if (header.messageLength !== frame.length) {
    throw new MongoProtocolError(`message length ${header.messageLength} does not match frame size ${frame.length}`);
  }
  if (header.opCode === OpCode.OP_COMPRESSED) {
    frame = decompressMessage(frame, header, options?.maxMessageSizeBytes ?? DEFAULT_MAX_MESSAGE_SIZE_BYTES);
    header = readHeader(frame);
    if (header.opCode === OpCode.OP_COMPRESSED) throw new MongoProtocolError('OP_COMPRESSED inside OP_COMPRESSED');
  }
  switch (header.opCode) {
    case OpCode.OP_MSG:
      return decodeOpMsg(frame, header, options?.bson);
    case OpCode.OP_REPLY:
      return decodeOpReply(frame, header, options?.bson);
    case OpCode.OP_QUERY:
      return decodeOpQuery(frame, header, options?.bson);
    default:
      throw new MongoProtocolError(`unknown opCode ${header.opCode}`);
  }
}
