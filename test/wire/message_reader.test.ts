import fc from 'fast-check';
import { decodeMessage, encodeOpMsg, MessageReader, type OpMsgMessage } from '../../src/wire';
import { MongoProtocolError } from '../../src/errors';

const docArb = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !k.includes('\0') && !k.startsWith('$') && !k.includes('.')),
  fc.oneof(fc.integer(), fc.string({ maxLength: 300 }), fc.boolean(), fc.constant(null)),
  { maxKeys: 6 }
);

/** Splits `buf` at the given (sorted, de-duplicated) cut points. */
function cut(buf: Buffer, points: number[]): Buffer[] {
  const sorted = [...new Set(points.map((p) => p % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of sorted) {
    out.push(buf.subarray(last, p));
    last = p;
  }
  out.push(buf.subarray(last));
  return out;
}

describe('MessageReader', () => {
  test('property: any re-chunking of a valid message stream yields the same messages in order', () => {
    fc.assert(
      fc.property(fc.array(docArb, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 40 }), (docs, points) => {
        const frames = docs.map((body, i) => encodeOpMsg({ requestId: i + 1, body }));
        const stream = Buffer.concat(frames);
        const reader = new MessageReader();
        const out: Buffer[] = [];
        for (const chunk of cut(stream, points)) out.push(...reader.push(chunk));
        expect(reader.bufferedBytes).toBe(0);
        expect(out.length).toBe(frames.length);
        out.forEach((f, i) => {
          expect(f.equals(frames[i])).toBe(true);
          const msg = decodeMessage(f) as OpMsgMessage;
          expect(msg.header.requestId).toBe(i + 1);
          expect(msg.body).toEqual(docs[i]);
        });
      }),
      { numRuns: 300 }
    );
  });

  test('byte-at-a-time delivery', () => {
    const frame = encodeOpMsg({ requestId: 1, body: { hello: 1, s: 'abc' } });
    const reader = new MessageReader();
    const out: Buffer[] = [];
    for (let i = 0; i < frame.length; i++) out.push(...reader.push(frame.subarray(i, i + 1)));
    expect(out).toHaveLength(1);
    expect(out[0].equals(frame)).toBe(true);
  });

  test('a frame that arrives whole is a view of the chunk, not a copy', () => {
    const frame = encodeOpMsg({ requestId: 1, body: { a: 1 } });
    const [out] = new MessageReader().push(frame);
    expect(out.buffer).toBe(frame.buffer);
    expect(out.byteOffset).toBe(frame.byteOffset);
  });

  test('messageLength < 16 and > maxMessageSizeBytes are protocol errors, also when the header is split', () => {
    const small = Buffer.alloc(16);
    small.writeInt32LE(8, 0);
    expect(() => new MessageReader().push(small)).toThrow(MongoProtocolError);
    const big = Buffer.alloc(16);
    big.writeInt32LE(2000, 0);
    const reader = new MessageReader({ maxMessageSizeBytes: 1000 });
    expect(reader.push(big.subarray(0, 2))).toEqual([]);
    expect(() => reader.push(big.subarray(2))).toThrow(/larger than maxMessageSizeBytes 1000/);
    expect(reader.bufferedBytes).toBe(0);
  });

  test('a truncated stream leaves the partial frame buffered', () => {
    const frame = encodeOpMsg({ requestId: 1, body: { a: 1 } });
    const reader = new MessageReader();
    expect(reader.push(frame.subarray(0, frame.length - 3))).toEqual([]);
    expect(reader.bufferedBytes).toBe(frame.length - 3);
    reader.reset();
    expect(reader.bufferedBytes).toBe(0);
  });
});

describe('decoder robustness (short fuzz; the full run is in the fuzz script)', () => {
  test('property: mutated frames either decode or throw MongoProtocolError, never anything else', () => {
    const base = encodeOpMsg({ requestId: 1, body: { find: 'c', filter: { a: 1 } }, sequences: [{ identifier: 'documents', documents: [{ x: 1 }] }] });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(), (mutations, truncateAt) => {
        let frame = Buffer.from(base);
        for (const [pos, val] of mutations) frame[pos % frame.length] = val;
        if (truncateAt % 3 === 0) frame = frame.subarray(0, truncateAt % frame.length);
        try {
          decodeMessage(frame);
        } catch (err) {
          expect(err).toBeInstanceOf(MongoProtocolError);
        }
      }),
      { numRuns: 2000 }
    );
  });
});
