import { Long, ObjectId, serialize } from 'bson';
import {
  availableCompressors,
  compressMessage,
  crc32c,
  decodeMessage,
  encodeOpMsg,
  encodeOpQuery,
  encodeOpReply,
  OpCode,
  OpMsgFlags,
  type OpMsgMessage,
  type OpQueryMessage,
  type OpReplyMessage
} from '../../src/wire';
import { MongoProtocolError } from '../../src/errors';

function header(length: number, opCode: number, requestId = 1, responseTo = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(length, 0);
  b.writeInt32LE(requestId, 4);
  b.writeInt32LE(responseTo, 8);
  b.writeInt32LE(opCode, 12);
  return b;
}

/** Builds an OP_MSG frame by hand from raw section bytes. */
function rawOpMsg(flags: number, ...sections: Buffer[]): Buffer {
  const flagBuf = Buffer.alloc(4);
  flagBuf.writeUInt32LE(flags >>> 0);
  const payload = Buffer.concat([flagBuf, ...sections]);
  return Buffer.concat([header(16 + payload.length, OpCode.OP_MSG), payload]);
}

const kind0 = (doc: object): Buffer => Buffer.concat([Buffer.from([0]), serialize(doc)]);

describe('CRC-32C', () => {
  test('standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });
});

describe('OP_MSG', () => {
  test('round trip: body, document sequences, flags', () => {
    const id = new ObjectId();
    const frame = encodeOpMsg({
      requestId: 42,
      responseTo: 7,
      body: { insert: 'c', $db: 'test', ordered: true },
      sequences: [{ identifier: 'documents', documents: [{ _id: id, n: 1 }, { _id: 2, s: 'x' }] }],
      moreToCome: true,
      exhaustAllowed: true
    });
    expect(frame.readInt32LE(0)).toBe(frame.length);
    const msg = decodeMessage(frame) as OpMsgMessage;
    expect(msg.opCode).toBe(OpCode.OP_MSG);
    expect(msg.header).toEqual({ messageLength: frame.length, requestId: 42, responseTo: 7, opCode: OpCode.OP_MSG });
    expect(msg.moreToCome).toBe(true);
    expect(msg.exhaustAllowed).toBe(true);
    expect(msg.checksumPresent).toBe(false);
    expect(msg.body).toEqual({ insert: 'c', $db: 'test', ordered: true });
    expect(msg.sequences).toEqual([{ identifier: 'documents', documents: [{ _id: id, n: 1 }, { _id: 2, s: 'x' }] }]);
    expect(msg.bodyBytes.equals(Buffer.from(serialize(msg.body)))).toBe(true);
  });

  test('the byte layout matches OP_MSG.md', () => {
    const frame = encodeOpMsg({ requestId: 1, body: { ping: 1 }, sequences: [{ identifier: 'd', documents: [{ a: 1 }] }] });
    const body = serialize({ ping: 1 });
    const doc = serialize({ a: 1 });
    expect(frame.readInt32LE(12)).toBe(2013);
    expect(frame.readUInt32LE(16)).toBe(0);
    expect(frame[20]).toBe(0);
    expect(frame.subarray(21, 21 + body.length).equals(Buffer.from(body))).toBe(true);
    const seq = 21 + body.length;
    expect(frame[seq]).toBe(1);
    expect(frame.readInt32LE(seq + 1)).toBe(4 + 2 + doc.length);
    expect(frame.toString('utf8', seq + 5, seq + 6)).toBe('d');
    expect(frame[seq + 6]).toBe(0);
  });

  test('checksum: written, verified, and a mismatch is a protocol error', () => {
    const frame = encodeOpMsg({ requestId: 3, body: { hello: 1 }, checksum: true });
    const msg = decodeMessage(frame) as OpMsgMessage;
    expect(msg.checksumPresent).toBe(true);
    expect(msg.flags & OpMsgFlags.checksumPresent).toBe(1);
    expect(msg.body).toEqual({ hello: 1 });
    const bad = Buffer.from(frame);
    bad[bad.length - 1] ^= 0xff;
    expect(() => decodeMessage(bad)).toThrow(/checksum mismatch/);
  });

  test('unknown required flag bits (0-15) are rejected; unknown optional bits (16-31) are accepted', () => {
    for (const bit of [2, 3, 8, 15]) {
      expect(() => decodeMessage(rawOpMsg(1 << bit, kind0({ ok: 1 })))).toThrow(MongoProtocolError);
    }
    const msg = decodeMessage(rawOpMsg(1 << 20, kind0({ ok: 1 }))) as OpMsgMessage;
    expect(msg.body).toEqual({ ok: 1 });
  });

  test('a kind-1 section whose size overruns the message is rejected', () => {
    const seq = Buffer.concat([Buffer.from([1]), Buffer.from([0xff, 0, 0, 0]), Buffer.from('documents\0')]);
    expect(() => decodeMessage(rawOpMsg(0, kind0({ ok: 1 }), seq))).toThrow(/overruns/);
  });

  test('a document inside a sequence that overruns the sequence is rejected', () => {
    const doc = Buffer.from(serialize({ a: 1 }));
    const id = Buffer.from('d\0');
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + id.length + doc.length - 2);
    const seq = Buffer.concat([Buffer.from([1]), size, id, doc]);
    expect(() => decodeMessage(rawOpMsg(0, kind0({ ok: 1 }), seq))).toThrow(MongoProtocolError);
  });

  test('invalid BSON, missing body, two bodies and unknown section kinds are protocol errors', () => {
    const badBson = Buffer.from(serialize({ a: 'x' }));
    badBson[4] = 0x7e; // unknown BSON element type
    expect(() => decodeMessage(rawOpMsg(0, Buffer.concat([Buffer.from([0]), badBson])))).toThrow(/invalid BSON/);
    expect(() => decodeMessage(rawOpMsg(0, kind0({ a: 1 }), kind0({ b: 1 })))).toThrow(/more than one body/);
    expect(() => decodeMessage(rawOpMsg(0, Buffer.from([5, 0, 0, 0, 0])))).toThrow(/unknown section kind 5/);
    const onlySeq = Buffer.concat([Buffer.from([1]), Buffer.from([6, 0, 0, 0]), Buffer.from('d\0')]);
    expect(() => decodeMessage(rawOpMsg(0, onlySeq))).toThrow(/no body/);
  });

  test('a body whose declared size overruns the message is rejected', () => {
    const body = Buffer.from(serialize({ a: 1 }));
    body.writeInt32LE(body.length + 50, 0);
    expect(() => decodeMessage(rawOpMsg(0, Buffer.concat([Buffer.from([0]), body])))).toThrow(/overruns/);
  });

  test('decode options reach the BSON parser', () => {
    const frame = encodeOpMsg({ requestId: 1, body: { n: Long.fromNumber(5) } });
    expect((decodeMessage(frame) as OpMsgMessage).body.n).toBe(5);
    const withLongs = decodeMessage(frame, { bson: { promoteLongs: false } }) as OpMsgMessage;
    expect(withLongs.body.n).toBeInstanceOf(Long);
  });
});

describe('framing errors', () => {
  test('a frame shorter than the header', () => {
    expect(() => decodeMessage(Buffer.alloc(10))).toThrow(/truncated message header/);
  });
  test('messageLength that disagrees with the frame', () => {
    const frame = encodeOpMsg({ requestId: 1, body: { a: 1 } });
    frame.writeInt32LE(frame.length + 1, 0);
    expect(() => decodeMessage(frame)).toThrow(/does not match/);
  });
  test('unknown opCode', () => {
    expect(() => decodeMessage(Buffer.concat([header(20, 2005), Buffer.alloc(4)]))).toThrow(/unknown opCode 2005/);
  });
});

describe('OP_QUERY and OP_REPLY (legacy handshake)', () => {
  test('OP_QUERY round trip', () => {
    const frame = encodeOpQuery({ requestId: 9, fullCollectionName: 'admin.$cmd', query: { isMaster: 1, helloOk: true }, numberToReturn: -1 });
    const msg = decodeMessage(frame) as OpQueryMessage;
    expect(msg.opCode).toBe(OpCode.OP_QUERY);
    expect(msg.fullCollectionName).toBe('admin.$cmd');
    expect(msg.numberToSkip).toBe(0);
    expect(msg.numberToReturn).toBe(-1);
    expect(msg.query).toEqual({ isMaster: 1, helloOk: true });
    expect(msg.returnFieldsSelector).toBeUndefined();
  });

  test('OP_REPLY round trip', () => {
    const frame = encodeOpReply({ requestId: 5, responseTo: 9, documents: [{ ismaster: true, ok: 1 }], cursorId: 0n });
    const msg = decodeMessage(frame) as OpReplyMessage;
    expect(msg.opCode).toBe(OpCode.OP_REPLY);
    expect(msg.header.responseTo).toBe(9);
    expect(msg.numberReturned).toBe(1);
    expect(msg.documents).toEqual([{ ismaster: true, ok: 1 }]);
  });

  test('OP_REPLY that claims more documents than it holds', () => {
    const frame = encodeOpReply({ requestId: 5, responseTo: 9, documents: [{ ok: 1 }] });
    frame.writeInt32LE(2, 32);
    expect(() => decodeMessage(frame)).toThrow(MongoProtocolError);
  });
});

describe('OP_COMPRESSED', () => {
  test('zlib round trip keeps header ids and the original opCode', () => {
    const original = encodeOpMsg({ requestId: 77, responseTo: 3, body: { find: 'c', filter: { s: 'x'.repeat(500) } } });
    const compressed = compressMessage(original, 'zlib', 6);
    expect(compressed.readInt32LE(12)).toBe(OpCode.OP_COMPRESSED);
    expect(compressed.readInt32LE(16)).toBe(OpCode.OP_MSG);
    expect(compressed[24]).toBe(2);
    expect(compressed.length).toBeLessThan(original.length);
    const msg = decodeMessage(compressed) as OpMsgMessage;
    expect(msg.header.requestId).toBe(77);
    expect(msg.header.responseTo).toBe(3);
    expect(msg.body.find).toBe('c');
  });

  test('zlib is always available; zstd exactly when node:zlib has it', () => {
    const names = availableCompressors();
    expect(names).toContain('zlib');
    const hasZstd = typeof (require('node:zlib') as Record<string, unknown>).zstdCompressSync === 'function';
    expect(names.includes('zstd')).toBe(hasZstd);
  });

  test('a size mismatch, an unknown compressor id and corrupt data are protocol errors', () => {
    const original = encodeOpMsg({ requestId: 1, body: { a: 1 } });
    const c = compressMessage(original, 'zlib');
    const wrongSize = Buffer.from(c);
    wrongSize.writeInt32LE(c.readInt32LE(20) + 1, 20);
    expect(() => decodeMessage(wrongSize)).toThrow(/does not match/);
    const unknownId = Buffer.from(c);
    unknownId[24] = 9;
    expect(() => decodeMessage(unknownId)).toThrow(/unsupported compressor id 9/);
    const corrupt = Buffer.from(c);
    corrupt.fill(0xaa, 25);
    expect(() => decodeMessage(corrupt)).toThrow(/decompression failed/);
  });

  test('an uncompressed size above maxMessageSizeBytes is rejected before inflating', () => {
    const c = compressMessage(encodeOpMsg({ requestId: 1, body: { a: 1 } }), 'zlib');
    c.writeInt32LE(100_000_000, 20);
    expect(() => decodeMessage(c)).toThrow(/invalid uncompressed size/);
  });

  test('noop compressor id 0 passes the payload through', () => {
    const original = encodeOpMsg({ requestId: 1, body: { a: 1 } });
    const payload = original.subarray(16);
    const frame = Buffer.concat([header(16 + 9 + payload.length, OpCode.OP_COMPRESSED), Buffer.alloc(9)]);
    frame.writeInt32LE(OpCode.OP_MSG, 16);
    frame.writeInt32LE(payload.length, 20);
    frame[24] = 0;
    const msg = decodeMessage(Buffer.concat([frame, payload])) as OpMsgMessage;
    expect(msg.body).toEqual({ a: 1 });
  });
});
