/**
 * Documents in log messages (logging spec): relaxed extended JSON, truncated naively to the max
 * document length with a trailing `...` that does not count, never splitting a code point, and
 * built in O(max length) for large documents.
 */
import fc from 'fast-check';
import { Binary, Decimal128, Double, EJSON, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, type Document } from 'bson';
import { MongoNetworkError, MongoServerError } from '../../src/errors';
import { errorForLog, hostAndPort, stringifyWithMaxLen, truncateLogString } from '../../src/logger';

const relaxed = (value: unknown): string => EJSON.stringify(value, { relaxed: true });

/** No lone surrogate (String.prototype.isWellFormed, which the ES2022 lib does not declare). */
function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

describe('truncateLogString', () => {
  test('keeps text up to the limit; longer text is cut and gets "..." (not counted)', () => {
    expect(truncateLogString('abcdef', 6)).toBe('abcdef');
    expect(truncateLogString('abcdefg', 6)).toBe('abcdef...');
    expect(truncateLogString('abc', 0)).toBe('abc');
  });

  test('never splits a surrogate pair: the cut moves down one code unit', () => {
    const text = 'ab😀cd'; // 😀 is two UTF-16 code units at indexes 2 and 3
    expect(truncateLogString(text, 3)).toBe('ab...');
    expect(truncateLogString(text, 4)).toBe('ab😀...');
    expect(truncateLogString(text, 2)).toBe('ab...');
    // Characters of the BMP that are several bytes in UTF-8 are one code unit each.
    expect(truncateLogString('éàü€中文', 4)).toBe('éàü€...');
  });

  test('every truncation of any string is valid Unicode and a prefix of the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: 50 }), (text, max) => {
        const out = truncateLogString(text, max);
        if (text.length <= max) return out === text;
        const body = out.slice(0, -3);
        return out.endsWith('...') && text.startsWith(body) && body.length <= max && body.length >= max - 1 && isWellFormed(body);
      })
    );
  });
});

describe('stringifyWithMaxLen', () => {
  const sample: Document = {
    insert: 'coll',
    documents: [{ _id: new ObjectId('0123456789abcdef01234567'), n: 1, d: 1.5, s: 'x"y\\z\n' }],
    int32: new Int32(5),
    long: Long.fromString('9007199254740993'),
    double: new Double(2),
    nan: NaN,
    negZero: -0,
    dec: Decimal128.fromString('1.10'),
    bin: new Binary(Buffer.from('hello')),
    ts: new Timestamp({ t: 1, i: 2 }),
    date: new Date(Date.UTC(2020, 0, 2)),
    oldDate: new Date(-1e15),
    min: new MinKey(),
    max: new MaxKey(),
    nested: { a: [1, [2, { b: null }]], u: undefined, f: () => 1 },
    empty: {},
    emptyArray: [],
    'key "quoted"': true
  };

  test('without truncation it is exactly relaxed extended JSON', () => {
    expect(stringifyWithMaxLen(sample, 100_000)).toBe(relaxed(sample));
    expect(stringifyWithMaxLen(sample, 0)).toBe(relaxed(sample));
    expect(stringifyWithMaxLen({ ping: 1, $db: 'admin' }, 1000)).toBe('{"ping":1,"$db":"admin"}');
  });

  test('with truncation it is the relaxed extended JSON cut at the limit, plus "..."', () => {
    const full = relaxed(sample);
    for (const max of [1, 2, 10, 37, 100, full.length - 1, full.length, full.length + 1]) {
      const expected = full.length > max ? `${full.slice(0, max)}...` : full;
      expect([max, stringifyWithMaxLen(sample, max)]).toEqual([max, expected]);
    }
  });

  test('equals truncated EJSON.stringify for arbitrary documents and limits', () => {
    const leaf = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.integer().map((n) => new Int32(n | 0)),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
      fc.uint8Array({ maxLength: 8 }).map((b) => new Binary(b)),
      fc.date({ noInvalidDate: true }),
      fc.constant(new ObjectId('5f0123456789abcdef012345'))
    );
    const { doc } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, tie('doc'), fc.array(tie('value'), { maxLength: 4 })),
      doc: fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 5 })
    }));
    fc.assert(
      fc.property(doc, fc.integer({ min: 0, max: 300 }), (d, max) => {
        const full = relaxed(d);
        const expected = max > 0 ? truncateLogString(full, max) : full;
        return stringifyWithMaxLen(d, max) === expected;
      }),
      { numRuns: 400 }
    );
  });

  test('multi-byte characters at the boundary: valid Unicode, ellipsis appended', () => {
    const doc = { s: '😀😀😀😀' }; // {"s":" is 6 units; each emoji 2 units
    expect(stringifyWithMaxLen(doc, 7)).toBe('{"s":"...');
    expect(stringifyWithMaxLen(doc, 8)).toBe('{"s":"😀...');
    expect(stringifyWithMaxLen(doc, 9)).toBe('{"s":"😀...');
    expect(stringifyWithMaxLen({ s: 'héllo wörld' }, 10)).toBe('{"s":"héll...');
  });

  test('a huge document costs O(max length): fields past the limit are never read', () => {
    let reads = 0;
    const doc: Document = {};
    for (let i = 0; i < 50_000; i++) {
      Object.defineProperty(doc, `field${i}`, {
        enumerable: true,
        get: () => {
          reads++;
          return 'value';
        }
      });
    }
    const out = stringifyWithMaxLen(doc, 100);
    expect(out).toBe(`${relaxed(Object.fromEntries(Object.keys(doc).slice(0, 10).map((k) => [k, 'value']))).slice(0, 100)}...`);
    expect(reads).toBeLessThan(20);

    let elementReads = 0;
    const items = Array.from({ length: 200_000 }, (_, i) => ({ _id: i, payload: 'x'.repeat(50) }));
    const counted = new Proxy(items, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) elementReads++;
        return Reflect.get(target, key, receiver) as unknown;
      }
    });
    const out2 = stringifyWithMaxLen({ documents: counted }, 1000);
    expect(out2).toBe(`${relaxed({ documents: items.slice(0, 30) }).slice(0, 1000)}...`);
    expect(elementReads).toBeLessThan(30);
  });

  test('serialization errors become a message instead of a throw', () => {
    const circular: Document = { a: 1 };
    circular.self = circular;
    expect(stringifyWithMaxLen(circular, 1000)).toMatch(/^Extended JSON serialization failed with: .*circular/i);
    expect(stringifyWithMaxLen({ r: /x/g }, 1000)).toMatch(/^Extended JSON serialization failed with: /);
  });
});

describe('errors and addresses', () => {
  test('server errors keep message, code, codeName, labels and the (truncated) reply', () => {
    const error = new MongoServerError({ ok: 0, errmsg: 'not primary', code: 10107, codeName: 'NotWritablePrimary', errorLabels: ['RetryableWriteError'] });
    expect(errorForLog(error, 1000)).toEqual({
      name: 'MongoServerError',
      message: 'not primary',
      code: 10107,
      codeName: 'NotWritablePrimary',
      errorLabels: ['RetryableWriteError'],
      errorResponse: relaxed(error.errorResponse)
    });
    expect(errorForLog(error, 10).errorResponse).toBe(`${relaxed(error.errorResponse).slice(0, 10)}...`);
  });

  test('driver and plain errors: name, message and the cause', () => {
    const network = new MongoNetworkError('connection reset', { cause: new Error('ECONNRESET') });
    expect(errorForLog(network, 1000)).toEqual({ name: 'MongoNetworkError', message: 'connection reset', cause: 'ECONNRESET' });
    expect(errorForLog(new TypeError('bad'), 1000)).toEqual({ name: 'TypeError', message: 'bad' });
    expect(errorForLog('a string', 1000)).toEqual({ name: 'Error', message: 'a string' });
  });

  test('hostAndPort: host names, IPv4, IPv6 and Unix sockets', () => {
    expect(hostAndPort('localhost:27017')).toEqual({ serverHost: 'localhost', serverPort: 27017 });
    expect(hostAndPort('10.0.0.1:27018')).toEqual({ serverHost: '10.0.0.1', serverPort: 27018 });
    expect(hostAndPort('[::1]:27019')).toEqual({ serverHost: '::1', serverPort: 27019 });
    expect(hostAndPort('[::1]')).toEqual({ serverHost: '::1', serverPort: 27017 });
    expect(hostAndPort('example.com')).toEqual({ serverHost: 'example.com', serverPort: 27017 });
    expect(hostAndPort('/tmp/mongodb-27017.sock')).toEqual({ serverHost: '/tmp/mongodb-27017.sock' });
  });
});
