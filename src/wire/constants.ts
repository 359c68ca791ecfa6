/** Wire protocol constants (see message/OP_MSG.md and compression/OP_COMPRESSED.md). */
export const OpCode = Object.freeze({
  OP_REPLY: 1,
  OP_QUERY: 2004,
  OP_COMPRESSED: 2012,
  OP_MSG: 2013
} as const);

/** OP_MSG flag bits. Bits 0-15 are "required": an unknown one set is an error. */
export const OpMsgFlags = Object.freeze({
  checksumPresent: 1 << 0,
  moreToCome: 1 << 1,
  exhaustAllowed: 1 << 16
} as const);

/** The required bits (0-15) this codec understands. */
export const KNOWN_REQUIRED_FLAG_BITS = OpMsgFlags.checksumPresent | OpMsgFlags.moreToCome;
export const REQUIRED_FLAG_BITS_MASK = 0xffff;

export const HEADER_SIZE = 16;

/** The server's default `maxMessageSizeBytes` until a handshake says otherwise. */
export const DEFAULT_MAX_MESSAGE_SIZE_BYTES = 48_000_000;
export const DEFAULT_MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
