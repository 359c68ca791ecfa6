import { Binary, Decimal128, Long, ObjectId, serialize, type Document } from 'bson';
import fc from 'fast-check';
import { BsonSequenceWriter, decodeMessage, encodeOpMsg, type OpMsgMessage } from '../../src/wire';

/** Documents of the shapes the driver writes: nested, with BSON types, undefined values and long strings. */
const documentArb: fc.Arbitrary<Document> = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !k.includes('\0')),
  fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.constant(new ObjectId('65a1b2c3d4e5f60718293a4b')),
    fc.constant(Long.fromNumber(2 ** 40)),
    fc.constant(Decimal128.fromString('1.5')),
    fc.constant(new Binary(Buffer.from('bin'))),
    fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }).filter((k) => !k.includes('\0')), fc.integer(), { maxKeys: 4 })
  ),
  { maxKeys: 12 }
);

describe('BsonSequenceWriter', () => {
  test('writes the same bytes as serializing each document, back to back, and reports each size', () => {
    fc.assert(
      fc.property(fc.array(documentArb, { maxLength: 30 }), (docs) => {
        // A tiny initial buffer, so growing is exercised.
        const writer = new BsonSequenceWriter(16);
        const sizes = docs.map((d) => writer.append(d));
        const expected = docs.map((d) => serialize(d));
        expect(sizes).toEqual(expected.map((b) => b.length));
        expect(Buffer.compare(writer.view(), Buffer.concat(expected))).toBe(0);
        expect(writer.length).toBe(writer.view().length);
      })
    );
  });

  test('views of earlier documents stay valid after the buffer grows', () => {
    const writer = new BsonSequenceWriter(16);
    writer.append({ a: 1 });
    const first = writer.view(0, writer.length);
    for (let i = 0; i < 100; i++) writer.append({ i, s: 'x'.repeat(100) });
    expect(Buffer.compare(first, serialize({ a: 1 }))).toBe(0);
    expect(Buffer.compare(writer.view(0, first.length), first)).toBe(0);
  });

  test('a document bson cannot serialize fails with bson’s error and leaves the writer unchanged', () => {
    const writer = new BsonSequenceWriter(16);
    writer.append({ a: 1 });
    const before = writer.length;
    expect(() => writer.append({ 'bad\0key': 1 })).toThrow(/null bytes/);
    expect(writer.length).toBe(before);
  });
});

describe('encodeOpMsg with a pre-serialized document sequence', () => {
  test('produces the same message as serializing the documents', () => {
    fc.assert(
      fc.property(fc.array(documentArb, { minLength: 1, maxLength: 10 }), (docs) => {
        const writer = new BsonSequenceWriter();
        for (const d of docs) writer.append(d);
        const body = { insert: 'c', $db: 'db' };
        const plain = encodeOpMsg({ requestId: 7, body, sequences: [{ identifier: 'documents', documents: docs }] });
        const pre = encodeOpMsg({ requestId: 7, body, sequences: [{ identifier: 'documents', documents: docs, serialized: writer.view() }] });
        expect(Buffer.compare(pre, plain)).toBe(0);
        const decoded = decodeMessage(pre) as OpMsgMessage;
        expect(decoded.sequences[0].documents).toHaveLength(docs.length);
      })
    );
  });
});
