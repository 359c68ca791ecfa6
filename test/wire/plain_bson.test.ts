/**
 * The plain-document BSON encoder must produce exactly bson's bytes (serialize with its default
 * options), and leave every document it does not handle to bson (same bytes, same errors).
 */
import { Binary, BSONRegExp, Decimal128, Double, Int32, Long, MaxKey, ObjectId, serialize, Timestamp, type Document } from 'bson';
import fc from 'fast-check';
import { BsonSequenceWriter } from '../../src/wire';
import { encodePlainDocument } from '../../src/wire/plain_bson';

function viaWriter(doc: Document, capacity = 16): Buffer {
  const writer = new BsonSequenceWriter(capacity);
  writer.append(doc);
  return Buffer.from(writer.view());
}

function expectSameBytes(doc: Document): void {
  let expected: Buffer;
  try {
    expected = Buffer.from(serialize(doc));
  } catch (error) {
    // A document bson cannot serialize (e.g. a NUL in a key) fails the same way.
    expect(() => viaWriter(doc)).toThrow((error as Error).message);
    return;
  }
  expect(viaWriter(doc).toString('hex')).toBe(expected.toString('hex'));
}

/** Whether the fast encoder handles `doc` itself (rather than leaving it to bson). */
function handledFast(doc: Document): boolean {
  const out = { buffer: Buffer.alloc(16), reserve(end: number) { if (end > this.buffer.length) { const b = Buffer.alloc(end * 2); this.buffer.copy(b); this.buffer = b; } } };
  return encodePlainDocument(out, doc, 0) >= 0;
}

const key = fc.oneof(fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('_id', '$set', 'a.b', 'é', '😀', '$db'));
const scalar = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.integer(),
  fc.integer({ min: -(2 ** 31) - 2, max: -(2 ** 31) + 2 }),
  fc.integer({ min: 2 ** 31 - 2, max: 2 ** 31 + 2 }),
  fc.double(),
  fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1.5),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date(),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15) }),
  fc.constant(new Date(NaN)),
  fc.constant(new ObjectId('65a1b2c3d4e5f60718293a4b')),
  // Not handled by the fast path: bson serializes them.
  fc.constantFrom(Long.fromNumber(-5), new Int32(3), new Double(2), Decimal128.fromString('1.5'), new Timestamp({ t: 1, i: 2 }), new MaxKey()),
  fc.constantFrom(new Binary(Buffer.from('x')), Buffer.from('raw'), new Uint8Array([1, 2]), /re/i, new BSONRegExp('a', 'i')),
  fc.constantFrom(new Map([['m', 1]]), { toBSON: () => ({ replaced: true }) }, Object.create(null) as Document)
);
const value = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('doc')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  doc: fc.dictionary(key, tie('value'), { maxKeys: 6 })
})).value;
const documentArb = fc.dictionary(key, value, { maxKeys: 10 });

describe('plain BSON encoder', () => {
  test('random documents: the same bytes as bson.serialize (through the fast path or the fallback)', () => {
    fc.assert(
      fc.property(documentArb, (doc) => expectSameBytes(doc)),
      { numRuns: 2000 }
    );
  });

  test('the benchmark-like documents are handled by the fast path', () => {
    const doc = {
      _id: new ObjectId(),
      name: 'Ada Lovelace',
      n: 12,
      score: 97.5,
      active: true,
      tags: ['analytical', 'engine', undefined, null],
      address: { street: '12 St James Square', city: 'Zürich — 😀' },
      createdAt: new Date(-1),
      nested: Object.create(null) as Document,
      skipped: undefined
    };
    expect(handledFast(doc)).toBe(true);
    expectSameBytes(doc);
  });

  test('number encodings: int32 range, -0, NaN, infinities, large integers', () => {
    for (const n of [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 0.1, NaN, Infinity, -Infinity]) {
      expect(handledFast({ n })).toBe(true);
      expectSameBytes({ n });
    }
  });

  test('documents it does not handle go to bson: other BSON types, typed arrays, maps, regexps, toBSON, bigint, functions', () => {
    for (const doc of [
      { v: Long.fromNumber(1) },
      { v: Buffer.from('x') },
      { v: new Map([['a', 1]]) },
      { v: /x/ },
      { v: { toBSON: () => ({ a: 1 }) } },
      { v: 10n },
      { v: () => 1 },
      { v: new Date(NaN) },
      new Map([['a', 1]]) as unknown as Document
    ]) {
      expect(handledFast(doc as Document)).toBe(false);
      expectSameBytes(doc as Document);
    }
  });

  test('errors are bson’s: NUL in a key, cycles; very deep documents are still encoded', () => {
    expect(() => viaWriter({ 'a\0b': 1 })).toThrow(/null bytes/);
    const cyclic: Document = { a: 1 };
    cyclic.self = cyclic;
    expect(() => viaWriter(cyclic)).toThrow(/circular/i);
    let deep: Document = { leaf: 1 };
    for (let i = 0; i < 150; i++) deep = i % 2 === 0 ? { d: deep } : { a: [1, deep] };
    expectSameBytes(deep);
  });

  test('grows its buffer mid-document', () => {
    const doc = { s: 'x'.repeat(5000), t: 'é'.repeat(3000), nested: { arr: Array.from({ length: 300 }, (_, i) => i) } };
    expect(viaWriter(doc, 16).equals(Buffer.from(serialize(doc)))).toBe(true);
  });
});
