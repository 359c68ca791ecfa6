/** The wire codec: framing and the OP_MSG / OP_QUERY / OP_REPLY / OP_COMPRESSED messages. */
export { OpCode, OpMsgFlags, HEADER_SIZE, DEFAULT_MAX_MESSAGE_SIZE_BYTES, DEFAULT_MAX_BSON_OBJECT_SIZE } from './constants';
export { readHeader, writeHeader, nextRequestId, type MessageHeader } from './message_header';
export { encodeOpMsg, decodeOpMsg, type OpMsgRequest, type OpMsgMessage, type DocumentSequence, type EncodeOptions } from './op_msg';
export { encodeOpQuery, decodeOpQuery, type OpQueryRequest, type OpQueryMessage } from './op_query';
export { encodeOpReply, decodeOpReply, type OpReplyRequest, type OpReplyMessage } from './op_reply';
export { compressMessage, decompressMessage, availableCompressors, CompressorId, type Compressor } from './op_compressed';
export { MessageReader, type MessageReaderOptions } from './message_reader';
export { decodeMessage, type WireMessage, type DecodeOptions } from './decode';
export { crc32c } from './crc32c';
export { BsonSequenceWriter } from './bson_sequence';
export type { BsonDecodeOptions } from './bson_io';
